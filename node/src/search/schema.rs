//! What the index holds of a record: its kind, state and tags as exact terms and its time
//! as a column (so the other filters of a listing run inside the index), its id as four
//! columns, and its words in one field per language, each with that language's stemmer.
//!
//! Nothing is a term of one record only: the id and the time, unique to each record, are
//! columns (fast fields), which cost a catch-up a fraction of what a term each did
//! (docs/DECISIONS.md, "Full-text search"). A hit's id is read from its columns, and a
//! record leaves the index by a query over them ([`Fields::id_query`]).
//!
//! A record's own title and text go to the field of its language; each translation goes to
//! the field of the translation's language; tags and indicator values, which are names
//! rather than prose, go unstemmed to `words`. A language other than en, es, fr and pt goes
//! unstemmed to `other`. No text is stored: the index can find a record, never show it.

use std::ops::Bound;

use tantivy::{
    DocAddress, Index, Searcher, TantivyDocument, Term,
    columnar::Column,
    query::{BooleanQuery, Occur, Query, RangeQuery},
    schema::{FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions},
    tokenizer::{AsciiFoldingFilter, Language, TextAnalyzer},
};
use tipx_protocol::{Body, Kind, RecordId, StateCode, body::Translation, record::Record};

use super::{stem::CachedStemmer, words::Words};

/// Longest token indexed, in bytes: longer ones are ids or noise, not words.
const MAX_TOKEN_BYTES: usize = 64;

/// The stemmed languages: (field and tokenizer name, stemmer).
const STEMMED: [(&str, Language); 4] = [
    ("en", Language::English),
    ("es", Language::Spanish),
    ("fr", Language::French),
    ("pt", Language::Portuguese),
];

/// The tokenizer of `other` and `words`: words lowercased, accents folded, not stemmed.
const PLAIN: &str = "tipx_plain";

/// What a document holds of a record besides its body.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta {
    pub(super) id: RecordId,
    pub(super) created_ms: u64,
    pub(super) kind: Kind,
    pub(super) state: StateCode,
}

impl Meta {
    /// What a document holds of `r` besides its body.
    pub(super) fn of(r: &Record) -> Self {
        Self {
            id: r.id,
            created_ms: r.header.created_at_ms,
            kind: r.header.kind,
            state: r.header.author_state,
        }
    }
}

/// The fields of the index.
#[derive(Clone)]
pub(super) struct Fields {
    pub(super) schema: Schema,
    /// The record id (32 bytes) as four big-endian u64 columns, `id0` first: what a hit
    /// returns, and what a deletion names.
    pub(super) id: [Field; 4],
    /// Creation time, ms since the Unix epoch, a column: newest-first order, since/until.
    pub(super) created: Field,
    pub(super) kind: Field,
    pub(super) state: Field,
    /// Each tag, lowercased, as one term (`--tag`).
    pub(super) tag: Field,
    /// en, es, fr, pt in the order of `STEMMED`.
    pub(super) stemmed: [Field; 4],
    pub(super) other: Field,
    pub(super) words: Field,
}

impl Fields {
    pub(super) fn new() -> Self {
        let mut b = Schema::builder();
        let id = ["id0", "id1", "id2", "id3"].map(|name| b.add_u64_field(name, FAST));
        let created = b.add_u64_field("created", FAST);
        let kind = b.add_text_field("kind", STRING);
        let state = b.add_text_field("state", STRING);
        let tag = b.add_text_field("tag", STRING);
        let text = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
        };
        let stemmed = STEMMED.map(|(name, _)| b.add_text_field(name, text(&tokenizer(name))));
        let other = b.add_text_field("other", text(PLAIN));
        let words = b.add_text_field("words", text(PLAIN));
        Self {
            schema: b.build(),
            id,
            created,
            kind,
            state,
            tag,
            stemmed,
            other,
            words,
        }
    }

    /// The fields a query's words are looked for in.
    pub(super) fn searched(&self) -> Vec<Field> {
        let mut v = self.stemmed.to_vec();
        v.extend([self.other, self.words]);
        v
    }

    /// The field for text in `language` (a tag such as `es` or `es-MX`).
    fn field_of(&self, language: &str) -> Field {
        let base = language.split(['-', '_']).next().unwrap_or("");
        STEMMED
            .iter()
            .position(|(name, _)| base.eq_ignore_ascii_case(name))
            .map_or(self.other, |i| self.stemmed[i])
    }

    /// The document of a best practice or an alert; `None` for any other body.
    pub(super) fn document(&self, m: &Meta, body: &Body) -> Option<TantivyDocument> {
        let mut doc = TantivyDocument::default();
        let tags = match body {
            Body::BestPractice(b) => {
                self.prose(&mut doc, &b.language, &[&b.title, &b.summary, &b.text]);
                self.translations(&mut doc, &b.translations);
                &b.tags
            }
            Body::Alert(a) => {
                self.prose(&mut doc, &a.language, &[&a.title, &a.description]);
                self.translations(&mut doc, &a.translations);
                for i in &a.indicators {
                    doc.add_text(self.words, &i.value);
                }
                &a.tags
            }
            _ => return None,
        };
        for t in tags {
            doc.add_text(self.words, t);
            doc.add_text(self.tag, t.to_lowercase());
        }
        for (field, word) in self.id.iter().zip(id_words(&m.id)) {
            doc.add_u64(*field, word);
        }
        doc.add_u64(self.created, m.created_ms);
        doc.add_text(self.kind, m.kind.as_str());
        doc.add_text(self.state, m.state.to_string());
        Some(doc)
    }

    fn prose(&self, doc: &mut TantivyDocument, language: &str, texts: &[&str]) {
        let f = self.field_of(language);
        for t in texts.iter().filter(|t| !t.is_empty()) {
            doc.add_text(f, t);
        }
    }

    fn translations(&self, doc: &mut TantivyDocument, ts: &[Translation]) {
        for t in ts {
            self.prose(doc, &t.language, &[&t.title, &t.summary, &t.text]);
        }
    }

    /// The query matching the documents of `ids` (each id's four columns equal).
    pub(super) fn id_query(&self, ids: &[RecordId]) -> Box<dyn Query> {
        let one = |id: &RecordId| -> Box<dyn Query> {
            let words = self.id.iter().zip(id_words(id)).map(|(f, w)| {
                let at = Term::from_field_u64(*f, w);
                let q: Box<dyn Query> = Box::new(RangeQuery::new(
                    Bound::Included(at.clone()),
                    Bound::Included(at),
                ));
                (Occur::Must, q)
            });
            Box::new(BooleanQuery::new(words.collect()))
        };
        match ids {
            [id] => one(id),
            _ => Box::new(BooleanQuery::new(
                ids.iter().map(|id| (Occur::Should, one(id))).collect(),
            )),
        }
    }

    /// Reads the record ids of documents of `searcher`'s segments, opening each
    /// segment's id columns once.
    pub(super) fn ids<'a>(&'a self, searcher: &'a Searcher) -> IdReader<'a> {
        IdReader {
            fields: self,
            searcher,
            columns: vec![None; searcher.segment_readers().len()],
        }
    }
}

/// Reads record ids from the id columns ([`Fields::ids`]).
pub(super) struct IdReader<'a> {
    fields: &'a Fields,
    searcher: &'a Searcher,
    /// Each segment's four id columns, once opened.
    columns: Vec<Option<[Column<u64>; 4]>>,
}

impl IdReader<'_> {
    /// The record id of the document at `at`.
    pub(super) fn id_of(&mut self, at: DocAddress) -> tantivy::Result<RecordId> {
        let missing =
            || tantivy::TantivyError::InternalError("a document without a record id".into());
        let slot = self
            .columns
            .get_mut(at.segment_ord as usize)
            .ok_or_else(missing)?;
        if slot.is_none() {
            let fast = self.searcher.segment_reader(at.segment_ord).fast_fields();
            let mut opened = Vec::with_capacity(4);
            for field in &self.fields.id {
                opened.push(fast.u64(self.fields.schema.get_field_name(*field))?);
            }
            *slot = opened.try_into().ok();
        }
        let columns = slot.as_ref().ok_or_else(missing)?;
        let mut id = [0u8; 32];
        for (i, column) in columns.iter().enumerate() {
            let word = column.first(at.doc_id).ok_or_else(missing)?;
            id[8 * i..8 * i + 8].copy_from_slice(&word.to_be_bytes());
        }
        Ok(RecordId(id))
    }
}

/// A record id as four big-endian u64 words.
fn id_words(id: &RecordId) -> [u64; 4] {
    std::array::from_fn(|i| u64::from_be_bytes(id.0[8 * i..8 * i + 8].try_into().expect("8 bytes")))
}

fn tokenizer(language: &str) -> String {
    format!("tipx_{language}")
}

/// Registers the tokenizers the schema names (they are code, not stored in the index).
pub(super) fn register_tokenizers(index: &Index) {
    let m = index.tokenizers();
    for (name, language) in STEMMED {
        m.register(
            &tokenizer(name),
            TextAnalyzer::builder(Words::shorter_than(MAX_TOKEN_BYTES))
                .filter(CachedStemmer::new(language))
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    m.register(
        PLAIN,
        TextAnalyzer::builder(Words::shorter_than(MAX_TOKEN_BYTES))
            .filter(AsciiFoldingFilter)
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use tantivy::{DocAddress, Index, IndexWriter, collector::DocSetCollector, query::AllQuery};
    use tipx_protocol::body::BestPractice;

    use super::*;

    fn practice() -> Body {
        Body::BestPractice(BestPractice {
            title: "Shelters".into(),
            summary: String::new(),
            text: String::new(),
            language: "en".into(),
            translations: vec![],
            pillars: vec![],
            tags: vec![],
            references: vec![],
        })
    }

    fn held(index: &Index, fields: &Fields) -> Vec<RecordId> {
        let searcher = index.reader().expect("reader").searcher();
        let mut found: Vec<DocAddress> = searcher
            .search(&AllQuery, &DocSetCollector)
            .expect("search")
            .into_iter()
            .collect();
        found.sort();
        let mut reader = fields.ids(&searcher);
        let mut ids: Vec<_> = found
            .into_iter()
            .map(|a| reader.id_of(a).expect("an id"))
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_deletion_takes_exactly_the_records_named_even_beside_ids_alike() {
        let fields = Fields::new();
        let index = Index::create_in_ram(fields.schema.clone());
        register_tokenizers(&index);
        let mut writer: IndexWriter = index.writer(15_000_000).expect("writer");
        // Ids alike in all but one of their four words, and in all but one byte.
        let mut ids: Vec<RecordId> = (0..4)
            .map(|word| {
                let mut id = [7u8; 32];
                id[8 * word + 3] = 9;
                RecordId(id)
            })
            .collect();
        ids.push(RecordId([7u8; 32]));
        for id in &ids {
            let meta = Meta {
                id: *id,
                created_ms: 1,
                kind: Kind::BestPractice,
                state: "MX".parse().expect("a state"),
            };
            let doc = fields.document(&meta, &practice()).expect("a document");
            writer.add_document(doc).expect("added");
        }
        writer.commit().expect("commit");
        let mut want = ids.clone();
        want.sort();
        assert_eq!(
            held(&index, &fields),
            want,
            "each id read back from its columns"
        );

        writer
            .delete_query(fields.id_query(&[ids[4]]))
            .expect("delete");
        writer
            .delete_query(fields.id_query(&[ids[0], ids[2]]))
            .expect("delete");
        writer.commit().expect("commit");
        let mut want = vec![ids[1], ids[3]];
        want.sort();
        assert_eq!(held(&index, &fields), want);
    }
}
