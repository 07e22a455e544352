//! The protocol's insert algorithm (`tipx_protocol::store::apply`) carried out as one
//! atomic sled batch: reads see the tree (and the in-memory id index) through the batch's
//! own pending writes, and the batch is applied whole at the end — records, feed heads,
//! effects, one index page and one audit page (sled applies a batch atomically, also across
//! a crash).

use std::collections::{BTreeMap, HashMap};

use tipx_protocol::{
    FeedId, Kind, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    record::Record,
    store::{AuditEntry, FeedInfo, apply::Txn},
};

use super::{
    Error, ROSTER_KEY, SledStore,
    bodies::Loc,
    files,
    index::{COUNTS_KEY, Entry},
    keys::{self, Space, StoredBody, key},
    load_header,
};

/// Pending writes over the tree; `None` is a removal.
pub(super) struct BatchTxn<'a> {
    pub(super) store: &'a SledStore,
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    new_ids: HashMap<RecordId, (FeedId, u64)>,
    /// Feeds whose head moved, written once at commit rather than once per record.
    feeds: HashMap<FeedId, FeedInfo>,
    pub(super) entries: Vec<Entry>,
    audit: Vec<AuditEntry>,
    /// Bodies appended to a pack by this batch: the pack is synced before the batch.
    appended: bool,
    /// Bodies this batch erases, to overwrite once it is durable.
    wipes: Vec<Loc>,
}

fn json<V: serde::Serialize>(v: &V) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain data serializes")
}

impl<'a> BatchTxn<'a> {
    pub(super) fn new(store: &'a SledStore) -> Self {
        Self {
            store,
            pending: BTreeMap::new(),
            new_ids: HashMap::new(),
            feeds: HashMap::new(),
            entries: vec![],
            audit: vec![],
            appended: false,
            wipes: vec![],
        }
    }

    fn read(&self, k: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match self.pending.get(k) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.store.tree.get(k)?.map(|v| v.to_vec())),
        }
    }

    fn write(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.pending.insert(k, Some(v));
    }

    fn position(&self, id: &RecordId) -> Result<Option<(FeedId, u64)>, Error> {
        match self.new_ids.get(id) {
            Some(p) => Ok(Some(*p)),
            None => self.store.position_of(id),
        }
    }

    /// Applies every pending write, the index page and the audit page in one atomic batch,
    /// after making the bodies it points to durable. Returns the index entries and the
    /// bodies to overwrite once the batch is durable.
    pub(super) fn commit(mut self) -> Result<(Vec<Entry>, Vec<Loc>), Error> {
        for (feed, info) in std::mem::take(&mut self.feeds) {
            self.write(key(Space::Feeds, &[&feed.0]), json(&info));
        }
        let mut counts = None;
        if !self.entries.is_empty() {
            let page = self.store.db.generate_id()?;
            self.write(
                key(Space::IndexPages, &[&page.to_be_bytes()]),
                super::index::encode_page(&self.entries),
            );
            // Unknown only for a store last written by a build that kept no counts, until
            // its index is built; inserts wait for that, so this is always known here.
            if let Some(known) = self.store.index.shared.known_counts() {
                let next = known.with(&self.entries, page);
                self.write(key(Space::Meta, &[COUNTS_KEY]), next.encode());
                counts = Some(next);
            }
        }
        if !self.audit.is_empty() {
            let page = self.store.db.generate_id()?.to_be_bytes();
            self.write(
                key(Space::Audit, &[&page]),
                super::audit::page::encode(&self.audit),
            );
        }
        let mut batch = sled::Batch::default();
        for (k, v) in self.pending {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        if self.appended {
            self.store
                .bodies
                .sync()
                .map_err(files("syncing a body pack"))?;
        }
        self.store.tree.apply_batch(batch)?;
        if let Some(counts) = counts {
            self.store.index.shared.set_counts(counts);
        }
        Ok((self.entries, self.wipes))
    }
}

impl Txn for BatchTxn<'_> {
    type Error = Error;

    fn head(&mut self, feed: &FeedId) -> Result<Option<Head>, Error> {
        if let Some(info) = self.feeds.get(feed) {
            return Ok(Some(info.head));
        }
        self.read(&key(Space::Feeds, &[&feed.0]))?
            .map(|v| super::decode_json::<FeedInfo>("feed info", &v).map(|f| f.head))
            .transpose()
    }

    fn id_at(&mut self, feed: &FeedId, seq: u64) -> Result<Option<RecordId>, Error> {
        match self.read(&keys::position(feed, seq))? {
            None => Ok(None),
            Some(v) => Ok(Some(load_header(&v)?.id)),
        }
    }

    fn get(&mut self, id: &RecordId) -> Result<Option<Record>, Error> {
        let Some((feed, seq)) = self.position(id)? else {
            return Ok(None);
        };
        self.read(&keys::position(&feed, seq))?
            .map(|v| self.store.load(&v))
            .transpose()
    }

    fn put(&mut self, r: &Record, feed: &FeedInfo) -> Result<(), Error> {
        let h = &r.header;
        let body = match (&r.body, h.kind) {
            (None, _) => StoredBody::None,
            (Some(b), Kind::BestPractice | Kind::Alert) => {
                self.appended = true;
                StoredBody::Packed(
                    self.store
                        .bodies
                        .append(b)
                        .map_err(files("appending a body to its pack"))?,
                )
            }
            (Some(b), _) => StoredBody::Inline(b),
        };
        self.write(
            keys::position(&h.feed, h.seq),
            keys::record_value(&r.header_bytes, &r.signature, body),
        );
        if let Some(proof) = &r.erased_by {
            self.write(key(Space::Erasures, &[&r.id.0]), proof.clone());
        }
        self.feeds.insert(feed.feed, feed.clone());
        self.new_ids.insert(r.id, (h.feed, h.seq));
        self.entries.push(Entry {
            id: r.id,
            feed: h.feed,
            seq: h.seq,
            created_at_ms: h.created_at_ms,
            kind: h.kind,
            state: h.author_state,
        });
        Ok(())
    }

    fn put_fork(&mut self, e: &ForkEvidence) -> Result<(), Error> {
        let seq = self.store.db.generate_id()?.to_be_bytes();
        self.write(key(Space::Forks, &[&seq]), json(e));
        Ok(())
    }

    fn retract(&mut self, target: &RecordId, by: &Record, erase: bool) -> Result<(), Error> {
        self.write(key(Space::Retracted, &[&target.0]), by.id.0.to_vec());
        let Some((feed, seq)) = self.position(target)?.filter(|_| erase) else {
            return Ok(());
        };
        let at = keys::position(&feed, seq);
        let Some(value) = self.read(&at)? else {
            return Ok(());
        };
        let (header, signature, body) = keys::record_value_decode(&value)?;
        if let StoredBody::Packed(loc) = body {
            self.wipes.push(loc);
            self.write(key(Space::Wipes, &[&loc.encode()]), vec![]);
        }
        let erased = keys::record_value(header, &signature, StoredBody::None);
        self.write(at, erased);
        self.write(key(Space::Erasures, &[&target.0]), by.encode());
        Ok(())
    }

    fn consent(&mut self, from: StateCode, to: StateCode) -> Result<Option<ConsentState>, Error> {
        self.read(&keys::consent_key(from, to))?
            .map(|v| keys::consent_value_decode(&v))
            .transpose()
    }

    fn set_consent(
        &mut self,
        from: StateCode,
        to: StateCode,
        c: ConsentState,
    ) -> Result<(), Error> {
        self.write(keys::consent_key(from, to), keys::consent_value(c).to_vec());
        Ok(())
    }

    fn roster_version(&mut self) -> Result<u64, Error> {
        Ok(match self.read(&key(Space::Meta, &[ROSTER_KEY]))? {
            Some(v) if v.len() == 40 => u64::from_be_bytes(v[32..].try_into().expect("8 bytes")),
            _ => 0,
        })
    }

    fn set_roster(&mut self, id: &RecordId, version: u64) -> Result<(), Error> {
        let mut v = id.0.to_vec();
        v.extend_from_slice(&version.to_be_bytes());
        self.write(key(Space::Meta, &[ROSTER_KEY]), v);
        Ok(())
    }

    fn audit(&mut self, entry: &AuditEntry) -> Result<(), Error> {
        self.audit.push(entry.clone());
        Ok(())
    }
}
