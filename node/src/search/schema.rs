//! What the index holds of a record: its id, time, kind, state and tags as exact terms (so
//! the other filters of a listing run inside the index), and its words in one field per
//! language, each with that language's stemmer.
//!
//! A record's own title and text go to the field of its language; each translation goes to
//! the field of the translation's language; tags and indicator values, which are names
//! rather than prose, go unstemmed to `words`. A language other than en, es, fr and pt goes
//! unstemmed to `other`. No text is stored: the index can find a record, never show it.

use tantivy::{
    Index, TantivyDocument, Term,
    schema::{
        BytesOptions, FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing,
        TextOptions,
    },
    tokenizer::{
        AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    },
};
use tipx_protocol::{Body, RecordId, body::Translation, record::Record};

use super::stem::CachedStemmer;

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

/// The fields of the index.
#[derive(Clone)]
pub(super) struct Fields {
    pub(super) schema: Schema,
    /// The record id (32 bytes): the term a deletion names, and what a hit returns.
    pub(super) id: Field,
    /// Creation time, ms since the Unix epoch (fast: newest-first order, since/until).
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
        let id = b.add_bytes_field("id", BytesOptions::default().set_indexed().set_stored());
        let created = b.add_u64_field("created", INDEXED | FAST);
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
    pub(super) fn document(&self, r: &Record, body: &Body) -> Option<TantivyDocument> {
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
        doc.add_bytes(self.id, &r.id.0[..]);
        doc.add_u64(self.created, r.header.created_at_ms);
        doc.add_text(self.kind, r.header.kind.as_str());
        doc.add_text(self.state, r.header.author_state.to_string());
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

    /// The term naming a record.
    pub(super) fn id_term(&self, id: &RecordId) -> Term {
        Term::from_field_bytes(self.id, &id.0)
    }
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
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .filter(CachedStemmer::new(language))
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    m.register(
        PLAIN,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
}
