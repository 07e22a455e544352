//! Record listings: the filters of `tipx records list`, applied while walking the store's
//! most selective index, newest first, a page at a time: a [`Cursor`] names where the
//! previous page ended (`tipx export` walks every page this way). A listing with a text is
//! answered from the search index when the node has one ([`crate::search`]), by relevance
//! unless [`Sort::Newest`] is asked.

use serde::{Deserialize, Serialize};
use tipx_protocol::{
    Body, Kind, RecordId, StateCode,
    body::{Pillar, Severity},
    record::Record,
    store::Index,
};

/// Default number of records a listing returns.
pub const DEFAULT_LIMIT: usize = 50;
/// Most records one listing may return: a page of the API stays small.
pub const MAX_LIMIT: usize = 10_000;

/// The filters of a listing. Every field narrows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only records authored by this state.
    pub state: Option<StateCode>,
    /// Only records with this tag.
    pub tag: Option<String>,
    /// Only best practices serving this pillar.
    pub pillar: Option<Pillar>,
    /// Only alerts of at least this severity.
    pub severity: Option<Severity>,
    /// Only records whose words match this: every word (stemmed in the record's language),
    /// `"…"` a phrase. Without a search index: whose title or text contains it.
    pub text: Option<String>,
    /// The order: by relevance (the default with a text) or newest first (the default,
    /// and the only order without a text).
    pub sort: Option<Sort>,
    /// Created at or after, ms since the Unix epoch.
    pub since: Option<u64>,
    /// Created at or before, ms since the Unix epoch.
    pub until: Option<u64>,
    /// Include retracted and expired records.
    pub all: bool,
    /// At most this many (default 50).
    pub limit: Option<usize>,
    /// Only records after this one in the listing's order (older, or as old with a smaller
    /// id): the last record of the previous page.
    pub after: Option<Cursor>,
    /// Include each record's body in the listing (for exports).
    pub bodies: bool,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (BM25): only with a text.
    Relevance,
    /// Newest first.
    Newest,
}

/// A place in a listing: a record's creation time and id. Listings run newest first, by
/// `(created_at_ms, id)` descending, so a cursor names exactly where a page ended even
/// when many records share a millisecond. Written `MS-ID` (`1764500000000-9f3a…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Creation time, ms since the Unix epoch.
    pub at_ms: u64,
    /// The record's id.
    pub id: RecordId,
}

impl Cursor {
    /// Whether a record at `(at_ms, id)` comes after this cursor in a listing.
    pub fn precedes(&self, at_ms: u64, id: &RecordId) -> bool {
        (at_ms, *id) < (self.at_ms, self.id)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.at_ms, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a listing cursor: expected MS-ID");
        let (ms, id) = s.split_once('-').ok_or_else(bad)?;
        Ok(Self {
            at_ms: ms.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Filter {
    /// The index to walk: the kind or state index when the filter names one.
    pub fn index(&self) -> Index {
        match (self.kind, self.state) {
            (_, Some(s)) => Index::State(s),
            (Some(k), None) => Index::Kind(k),
            (None, None) => Index::Time,
        }
    }

    /// The order asked for, or the default: by relevance with a text, else newest first.
    /// An order that cannot be honoured is an error that says why.
    pub fn order(&self) -> Result<Sort, String> {
        match (self.sort, self.text.is_some(), self.after.is_some()) {
            (Some(Sort::Relevance), false, _) => {
                Err("--sort relevance needs a text to rank by (--text)".into())
            }
            (Some(Sort::Relevance), true, true) => Err(
                "a listing by relevance cannot continue after a record (`after`): ask for \
                 more at once (--limit, at most 10000) or sort by newest"
                    .into(),
            ),
            (Some(s), _, _) => Ok(s),
            (None, true, false) => Ok(Sort::Relevance),
            (None, _, _) => Ok(Sort::Newest),
        }
    }

    /// The number of records to return.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// Whether the header alone already rules `r` out (cheap: no body decode).
    pub fn header_matches(&self, r: &Record) -> bool {
        let h = &r.header;
        self.kind.is_none_or(|k| h.kind == k) && self.state.is_none_or(|s| h.author_state == s)
    }

    /// Whether `r` (not retracted, or `all`) passes every filter at time `now_ms`.
    pub fn matches(&self, r: &Record, body: Option<&Body>, now_ms: u64) -> bool {
        if !self.header_matches(r) {
            return false;
        }
        let needs_body = self.tag.is_some()
            || self.pillar.is_some()
            || self.severity.is_some()
            || self.text.is_some();
        let Some(body) = body else { return !needs_body };
        if !self.all
            && let Body::Alert(a) = body
            && a.valid_until_ms.is_some_and(|t| t < now_ms)
        {
            return false;
        }
        if !self.all
            && matches!(
                body,
                Body::Retraction(_) | Body::Consent(_) | Body::Roster(_)
            )
            && self.kind.is_none()
        {
            return false;
        }
        if let Some(tag) = &self.tag {
            let tags = match body {
                Body::BestPractice(b) => &b.tags,
                Body::Alert(a) => &a.tags,
                _ => return false,
            };
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                return false;
            }
        }
        if let Some(p) = self.pillar
            && !matches!(body, Body::BestPractice(b) if b.pillars.contains(&p))
        {
            return false;
        }
        if let Some(s) = self.severity
            && !matches!(body, Body::Alert(a) if a.severity >= s)
        {
            return false;
        }
        if let Some(text) = &self.text {
            return contains_text(body, &text.to_lowercase());
        }
        true
    }
}

fn contains_text(body: &Body, needle: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(needle);
    match body {
        Body::BestPractice(b) => {
            has(&b.title)
                || has(&b.summary)
                || has(&b.text)
                || b.translations
                    .iter()
                    .any(|t| has(&t.title) || has(&t.summary) || has(&t.text))
        }
        Body::Alert(a) => {
            has(&a.title)
                || has(&a.description)
                || a.indicators.iter().any(|i| has(&i.value))
                || a.translations
                    .iter()
                    .any(|t| has(&t.title) || has(&t.summary))
        }
        other => has(&other.title()),
    }
}
