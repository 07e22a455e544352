//! Queries over the core: listing and showing records, resolving an id prefix, and the
//! core's part of `tipx status`.

use tipx_protocol::{Membership, RecordId, record::Kind, store::Store as _};

use super::{Error, Node, NodeStatus, RecordCounts, RecordView, RetractionView, now_ms};
use crate::query::{Filter, Sort};

/// The fewest hits asked of the search index at once.
const MIN_WINDOW: usize = 64;
/// How much larger each next window of hits is, when filters the index cannot apply left
/// the page short.
const WINDOW_GROWTH: usize = 8;

impl Node {
    /// Lists records matching `filter`, newest first or, with a text, by relevance
    /// ([`Filter::order`]): a page of at most `filter.limit()`, after `filter.after` when
    /// given. While the search index is rebuilt, a text is looked for in the bodies
    /// (newest first), as on a node without an index: slower, but complete.
    pub fn list(&self, filter: &Filter) -> Result<Vec<RecordView>, Error> {
        let sort = filter.order().map_err(Error::Invalid)?;
        match &self.search {
            Some(search) if filter.text.is_some() && search.is_ready() => {
                self.list_found(search, filter, sort)
            }
            _ => self.list_scanned(filter),
        }
    }

    /// A listing with a text, from the search index: the index's best hits, a window at a
    /// time (each [`WINDOW_GROWTH`] times the last) until the page is full or the hits run
    /// out, each checked for what only the store can tell.
    fn list_found(
        &self,
        search: &crate::search::Search,
        filter: &Filter,
        sort: Sort,
    ) -> Result<Vec<RecordView>, Error> {
        let now = now_ms();
        let limit = filter.limit();
        // The index matched the text; the rest of the filter is checked on each hit.
        let rest = Filter {
            text: None,
            ..filter.clone()
        };
        let mut window = (limit * 2).max(MIN_WINDOW);
        loop {
            let mut hits = search.hits(filter, sort, window)?;
            let whole = hits.len() < window;
            if sort == Sort::Newest {
                hits.sort_by_key(|h| std::cmp::Reverse((h.at_ms, h.id)));
                // Records of the window's oldest millisecond may have been cut off: they are
                // taken only if the window holds every hit.
                let oldest = hits.last().map(|h| h.at_ms);
                if !whole {
                    hits.retain(|h| Some(h.at_ms) != oldest);
                }
            }
            let mut out = Vec::new();
            for h in &hits {
                if let Some(v) = self.view_if(&h.id, &rest, now)? {
                    out.push(v);
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
            if whole {
                return Ok(out);
            }
            window = window.saturating_mul(WINDOW_GROWTH);
        }
    }

    /// A listing walking the store's most selective index, newest first, reading each body
    /// the filter needs.
    fn list_scanned(&self, filter: &Filter) -> Result<Vec<RecordView>, Error> {
        let now = now_ms();
        let limit = filter.limit();
        let mut out = Vec::new();
        let mut failure = None;
        let until = filter.until.unwrap_or(u64::MAX);
        self.store.scan(
            filter.index(),
            filter.since.unwrap_or(0),
            filter.after.map_or(until, |c| c.at_ms.min(until)),
            &mut |id| {
                match self.view_if(&id, filter, now) {
                    Ok(Some(v)) => out.push(v),
                    Ok(None) => {}
                    Err(e) => failure = Some(e),
                }
                failure.is_none() && out.len() < limit
            },
        )?;
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn view_if(
        &self,
        id: &RecordId,
        filter: &Filter,
        now: u64,
    ) -> Result<Option<RecordView>, Error> {
        let Some(r) = self.store.get(id)? else {
            return Ok(None);
        };
        if !filter.header_matches(&r)
            || filter
                .after
                .is_some_and(|c| !c.precedes(r.header.created_at_ms, id))
        {
            return Ok(None);
        }
        let retracted_by = self.store.retraction_of(id)?;
        if retracted_by.is_some() && !filter.all {
            return Ok(None);
        }
        let body = r.body().ok().flatten();
        if !filter.matches(&r, body.as_ref(), now) {
            return Ok(None);
        }
        Ok(Some(RecordView::of(&r, retracted_by, filter.bodies)))
    }

    /// The record an id or unique id prefix (at least 8 hex digits) names.
    pub fn resolve(&self, text: &str) -> Result<RecordId, Error> {
        let text = text.trim().to_ascii_lowercase();
        if text.len() < 8 || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Invalid(format!(
                "`{text}` is not a record id: give at least 8 of its hex digits"
            )));
        }
        let even = &text[..text.len() & !1];
        let prefix = hex::decode(even).expect("hex digits");
        let ids: Vec<RecordId> = self
            .store
            .ids_with_prefix(&prefix, 1_000)?
            .into_iter()
            .filter(|id| id.to_string().starts_with(&text))
            .collect();
        match ids.as_slice() {
            [id] => Ok(*id),
            [] => Err(Error::NotFound(text)),
            _ => Err(Error::Invalid(format!(
                "{} records start with {text}: give more digits",
                ids.len()
            ))),
        }
    }

    /// One record, with its body.
    pub fn show(&self, id: &RecordId) -> Result<RecordView, Error> {
        let r = self
            .store
            .get(id)?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        let retracted_by = self.store.retraction_of(id)?;
        let mut view = RecordView::of(&r, retracted_by, true);
        if let Some(by) = retracted_by {
            view.retraction = self.store.get(&by)?.as_ref().and_then(RetractionView::of);
        }
        Ok(view)
    }

    /// What `tipx status` shows.
    pub fn status(&self) -> Result<NodeStatus, Error> {
        // Before the membership's lock, which `recovery` takes too.
        let recovery = self.recovery().unwrap_or(None);
        let m = self.membership.read().expect("not poisoned");
        let uptime_secs = self.started.elapsed().as_secs();
        let started_at_ms = now_ms().saturating_sub(uptime_secs * 1000);
        let count = |k| self.store.count(tipx_protocol::store::Index::Kind(k));
        Ok(NodeStatus {
            state: self.state,
            peer_id: self.key.public().peer_id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_secs,
            started_at_ms,
            started_at: crate::time::rfc3339(started_at_ms),
            records: self.store.len()?,
            counts: RecordCounts {
                alerts: count(Kind::Alert),
                best_practices: count(Kind::BestPractice),
                retractions: count(Kind::Retraction),
                consents: count(Kind::Consent),
                rosters: count(Kind::Roster),
                activities: count(Kind::Activity),
                profiles: count(Kind::Profile),
            },
            feeds: self.store.feeds()?.len() as u64,
            store_bytes: self.store.size_on_disk()?,
            partners: m.partners().into_iter().collect(),
            roster_version: m.roster().map_or(0, |r| r.version),
            forks: self.store.forks()?.len() as u64,
            received_new: self.received_new.load(std::sync::atomic::Ordering::Relaxed),
            received_duplicate: self
                .received_duplicate
                .load(std::sync::atomic::Ordering::Relaxed),
            warnings: self.warnings(&m),
            recovery,
            search: self.search.as_ref().map(crate::search::Search::state),
        })
    }

    /// What the operator must act on, as far as the core can tell.
    fn warnings(&self, m: &Membership) -> Vec<String> {
        let own = self.key.public();
        let mut warnings = self.own_key_changes.read().expect("not poisoned").clone();
        warnings.extend(self.roster_warnings(m, own));
        warnings.extend(self.clock_warning());
        match self.shortfall_warning() {
            Ok(w) => warnings.extend(w),
            Err(e) => warnings.push(format!(
                "the store could not be compared with its floor: {e}"
            )),
        }
        warnings
    }

    /// Records refused as dated ahead of this node's clock: the authors' clocks are ahead,
    /// or this one is behind. Either way the operator should look.
    fn clock_warning(&self) -> Option<String> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.from_the_future.load(Relaxed);
        (n > 0).then(|| {
            let ahead = self.farthest_ahead_ms.load(Relaxed);
            let (hours, minutes) = (ahead / 3_600_000, ahead / 60_000 % 60);
            let skew = tipx_protocol::validate::MAX_CLOCK_SKEW_MS / 60_000;
            format!(
                "{n} record(s) received since start are dated more than {skew} minutes ahead \
                 of this node's clock (up to {hours} h {minutes} min ahead): they are refused \
                 until their time comes. If records of several states do this, this machine's \
                 clock is behind: check its time synchronisation (NTP)"
            )
        })
    }

    /// The warning for a roster that does not list this node's key.
    fn roster_warnings(&self, m: &Membership, own: tipx_protocol::PublicKey) -> Vec<String> {
        match m.roster() {
            Some(r)
                if !r
                    .members
                    .iter()
                    .any(|x| x.nodes.iter().any(|n| n.key == own)) =>
            {
                vec![format!(
                    "this node's key is not in the roster (version {}): other members refuse \
                     its connections. Give this node's peer id ({own}, from `tipx id`) to the \
                     coordinator, who adds it with `tipx roster add` and `tipx roster publish`",
                    r.version
                )]
            }
            _ => vec![],
        }
    }
}
