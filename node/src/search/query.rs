//! A listing's text and filters as one tantivy query, and its best hits.
//!
//! The text is read by tantivy's query parser with AND as the default: every word must
//! match (in any language field, each analysed by that field's stemmer), `"…"` is a
//! phrase, and `OR` and `-word` work as in most search boxes. A text the parser cannot
//! read whole is read leniently (the parts it understands). Kind, state, tag and the time
//! range are exact terms of the index, so a page is filled from the first hits; what only
//! the body or the store can tell (pillar, severity, expiry, retraction) the core checks
//! on each hit.

use std::ops::Bound;

use tantivy::{
    DocAddress, Order, Score, Searcher, Term,
    collector::TopDocs,
    query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery},
    schema::IndexRecordOption,
};
use tipx_protocol::RecordId;

use super::{Error, Search};
use crate::query::{Filter, Sort};

/// A record the index found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The record.
    pub id: RecordId,
    /// Its creation time (ms since the Unix epoch) in newest-first order; 0 by relevance.
    pub at_ms: u64,
}

impl Search {
    /// The best `window` hits of `filter`'s text and index-side filters, in `sort` order
    /// (newest: by time descending; ties in any order).
    pub fn hits(&self, filter: &Filter, sort: Sort, window: usize) -> Result<Vec<Hit>, Error> {
        let text = filter.text.as_deref().unwrap_or_default();
        let searcher = self.reader.searcher();
        let query = self.query(&searcher, text, filter);
        let top = TopDocs::with_limit(window.max(1));
        let addrs: Vec<(u64, DocAddress)> = match sort {
            Sort::Relevance => searcher
                .search(&query, &top.order_by_score())?
                .into_iter()
                .map(|(_, a): (Score, _)| (0, a))
                .collect(),
            Sort::Newest => searcher
                .search(
                    &query,
                    &top.order_by_fast_field::<u64>("created", Order::Desc),
                )?
                .into_iter()
                .map(|(t, a)| (t.unwrap_or(0), a))
                .collect(),
        };
        let mut ids = self.fields.ids(&searcher);
        addrs
            .into_iter()
            .map(|(at_ms, a)| {
                let id = ids.id_of(a)?;
                Ok(Hit { id, at_ms })
            })
            .collect()
    }

    fn query(&self, searcher: &Searcher, text: &str, filter: &Filter) -> BooleanQuery {
        let mut parser = QueryParser::for_index(searcher.index(), self.fields.searched());
        parser.set_conjunction_by_default();
        let (words, _unread) = parser.parse_query_lenient(text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, words)];
        let term =
            |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        if let Some(k) = filter.kind {
            clauses.push((
                Occur::Must,
                term(Term::from_field_text(self.fields.kind, k.as_str())),
            ));
        }
        if let Some(s) = filter.state {
            let s = s.to_string();
            clauses.push((
                Occur::Must,
                term(Term::from_field_text(self.fields.state, &s)),
            ));
        }
        if let Some(t) = &filter.tag {
            let t = t.to_lowercase();
            clauses.push((
                Occur::Must,
                term(Term::from_field_text(self.fields.tag, &t)),
            ));
        }
        let until = match (filter.until, filter.after) {
            (u, Some(c)) => Some(u.unwrap_or(u64::MAX).min(c.at_ms)),
            (u, None) => u,
        };
        if filter.since.is_some() || until.is_some() {
            let at = |ms| Term::from_field_u64(self.fields.created, ms);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    filter
                        .since
                        .map_or(Bound::Unbounded, |s| Bound::Included(at(s))),
                    until.map_or(Bound::Unbounded, |u| Bound::Included(at(u))),
                )),
            ));
        }
        BooleanQuery::new(clauses)
    }
}
