//! An in-memory [`Store`], for tests and simulations. Nothing survives the process.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    convert::Infallible,
    sync::Mutex,
};

use crate::{
    FeedId, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    quota::Quotas,
    record::Record,
    store::{
        AuditEntry, FeedInfo, Index, Inserted, Source, Store,
        apply::{Txn, apply},
    },
    validate::Verified,
};

#[derive(Default)]
struct Inner {
    records: HashMap<RecordId, Record>,
    feeds: BTreeMap<FeedId, FeedInfo>,
    positions: BTreeMap<(FeedId, u64), RecordId>,
    /// (created_at_ms, id)
    by_time: BTreeSet<(u64, RecordId)>,
    retracted: HashMap<RecordId, RecordId>,
    consents: BTreeMap<(StateCode, StateCode), ConsentState>,
    roster: Option<(RecordId, u64)>,
    forks: Vec<ForkEvidence>,
    audit: Vec<AuditEntry>,
}

/// A store that keeps everything in memory.
#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Txn for Inner {
    type Error = Infallible;

    fn head(&mut self, feed: &FeedId) -> Result<Option<Head>, Infallible> {
        Ok(self.feeds.get(feed).map(|f| f.head))
    }

    fn id_at(&mut self, feed: &FeedId, seq: u64) -> Result<Option<RecordId>, Infallible> {
        Ok(self.positions.get(&(*feed, seq)).copied())
    }

    fn get(&mut self, id: &RecordId) -> Result<Option<Record>, Infallible> {
        Ok(self.records.get(id).cloned())
    }

    fn put(&mut self, r: &Record, feed: &FeedInfo) -> Result<(), Infallible> {
        self.records.insert(r.id, r.clone());
        self.positions.insert((r.header.feed, r.header.seq), r.id);
        self.by_time.insert((r.header.created_at_ms, r.id));
        self.feeds.insert(feed.feed, feed.clone());
        Ok(())
    }

    fn put_fork(&mut self, e: &ForkEvidence) -> Result<(), Infallible> {
        self.forks.push(e.clone());
        Ok(())
    }

    fn retract(&mut self, target: &RecordId, by: &Record, erase: bool) -> Result<(), Infallible> {
        self.retracted.insert(*target, by.id);
        if erase && let Some(r) = self.records.get_mut(target) {
            *r = r.erased_by(by);
        }
        Ok(())
    }

    fn consent(
        &mut self,
        from: StateCode,
        to: StateCode,
    ) -> Result<Option<ConsentState>, Infallible> {
        Ok(self.consents.get(&(from, to)).copied())
    }

    fn set_consent(
        &mut self,
        from: StateCode,
        to: StateCode,
        c: ConsentState,
    ) -> Result<(), Infallible> {
        self.consents.insert((from, to), c);
        Ok(())
    }

    fn roster_version(&mut self) -> Result<u64, Infallible> {
        Ok(self.roster.map_or(0, |(_, v)| v))
    }

    fn set_roster(&mut self, id: &RecordId, version: u64) -> Result<(), Infallible> {
        self.roster = Some((*id, version));
        Ok(())
    }

    fn audit(&mut self, entry: &AuditEntry) -> Result<(), Infallible> {
        self.audit.push(entry.clone());
        Ok(())
    }
}

impl Store for MemStore {
    type Error = Infallible;

    fn insert_counted(
        &self,
        batch: &[Verified],
        source: &Source,
        now_ms: u64,
        quotas: &mut Quotas,
    ) -> Result<Vec<Inserted>, Infallible> {
        apply(&mut *self.lock(), batch, source, now_ms, quotas)
    }

    fn get(&self, id: &RecordId) -> Result<Option<Record>, Infallible> {
        Ok(self.lock().records.get(id).cloned())
    }

    fn retraction_of(&self, id: &RecordId) -> Result<Option<RecordId>, Infallible> {
        Ok(self.lock().retracted.get(id).copied())
    }

    fn head(&self, feed: &FeedId) -> Result<Option<Head>, Infallible> {
        Ok(self.lock().feeds.get(feed).map(|f| f.head))
    }

    fn feed_range(
        &self,
        feed: &FeedId,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>, Infallible> {
        let inner = self.lock();
        let mut out = Vec::new();
        let mut bytes = 0;
        for (_, id) in inner
            .positions
            .range((*feed, from_seq.max(1))..=(*feed, u64::MAX))
        {
            let r = &inner.records[id];
            bytes += r.encoded_len();
            if out.len() >= max_records || (!out.is_empty() && bytes > max_bytes) {
                break;
            }
            out.push(r.clone());
        }
        Ok(out)
    }

    fn feeds(&self) -> Result<Vec<FeedInfo>, Infallible> {
        Ok(self.lock().feeds.values().cloned().collect())
    }

    fn scan(
        &self,
        index: Index,
        since_ms: u64,
        until_ms: u64,
        visit: &mut dyn FnMut(RecordId) -> bool,
    ) -> Result<(), Infallible> {
        let inner = self.lock();
        let lo = (since_ms, RecordId([0; 32]));
        let hi = (until_ms, RecordId([0xff; 32]));
        for (_, id) in inner.by_time.range(lo..=hi).rev() {
            let h = &inner.records[id].header;
            let hit = match index {
                Index::Time => true,
                Index::Kind(k) => h.kind == k,
                Index::State(s) => h.author_state == s,
            };
            if hit && !visit(*id) {
                break;
            }
        }
        Ok(())
    }

    fn consents(&self) -> Result<Vec<(StateCode, StateCode, ConsentState)>, Infallible> {
        Ok(self
            .lock()
            .consents
            .iter()
            .map(|((a, b), c)| (*a, *b, *c))
            .collect())
    }

    fn roster(&self) -> Result<Option<Record>, Infallible> {
        let inner = self.lock();
        Ok(inner
            .roster
            .and_then(|(id, _)| inner.records.get(&id).cloned()))
    }

    fn forks(&self) -> Result<Vec<ForkEvidence>, Infallible> {
        Ok(self.lock().forks.clone())
    }

    fn audit(&self, entries: &[AuditEntry]) -> Result<(), Infallible> {
        self.lock().audit.extend_from_slice(entries);
        Ok(())
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, Infallible> {
        let inner = self.lock();
        Ok(inner.audit[inner.audit.len().saturating_sub(limit)..].to_vec())
    }

    fn len(&self) -> Result<u64, Infallible> {
        Ok(self.lock().records.len() as u64)
    }

    fn flush(&self) -> Result<(), Infallible> {
        Ok(())
    }

    fn check_indexes(&self) -> Result<Vec<String>, Infallible> {
        let inner = self.lock();
        let mut problems = Vec::new();
        if inner.by_time.len() != inner.records.len()
            || inner.positions.len() != inner.records.len()
        {
            problems.push("index sizes disagree with the number of records".to_string());
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::MemStore;

    crate::store_conformance!(MemStore::new);
}
