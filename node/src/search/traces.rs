//! Where a word is still held in an index's files: the proof, for a test or an audit,
//! that an erased record left nothing behind. The term dictionaries are compressed, so
//! reading the files for the word's bytes proves nothing; this reads each segment's
//! dictionary, and counts any segment file no commit names any more.

use std::{collections::BTreeSet, path::Path};

use tantivy::{Index, Term, directory::MmapDirectory};

use super::{Error, Fields, schema};

/// Every place `word` (as each language field's analyser makes it) is held in the index
/// in `dir`: a segment whose dictionary lists it, even for deleted documents only, or a
/// segment file left on disk that no commit names.
pub fn traces(dir: &Path, word: &str) -> Result<Vec<String>, Error> {
    let fields = Fields::new();
    let index = Index::open(MmapDirectory::open(dir)?)?;
    schema::register_tokenizers(&index);
    let mut found = Vec::new();
    let live: BTreeSet<String> = index
        .searchable_segment_ids()?
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if let Some((stem, _)) = name.split_once('.')
            && stem.len() == 32
            && !live.contains(stem)
        {
            found.push(format!("{name}: a file of a segment no commit names"));
        }
    }
    let searcher = index.reader()?.searcher();
    for field in fields.searched() {
        let mut analyzer = index.tokenizer_for_field(field)?;
        let mut terms = vec![];
        analyzer
            .token_stream(word)
            .process(&mut |t| terms.push(Term::from_field_text(field, &t.text)));
        for seg in searcher.segment_readers() {
            let inverted = seg.inverted_index(field)?;
            for t in &terms {
                if inverted.get_term_info(t)?.is_some() {
                    found.push(format!(
                        "segment {}: `{word}` in field {}",
                        seg.segment_id().uuid_string(),
                        fields.schema.get_field_name(field)
                    ));
                }
            }
        }
    }
    Ok(found)
}
