//! The protocol's insert algorithm (`tipx_protocol::store::apply`) carried out as one
//! atomic sled batch: reads see the tree through the batch's own pending writes, and the
//! batch is applied whole at the end (sled applies a batch atomically, also across a crash).

use std::collections::BTreeMap;

use tipx_protocol::{
    FeedId, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    record::Record,
    store::{AuditEntry, FeedInfo, apply::Txn},
};

use super::{
    Error, ROSTER_KEY,
    keys::{self, Space, key},
    load_record,
};

/// Pending writes over the tree; `None` is a removal.
pub(super) struct BatchTxn<'a> {
    pub(super) db: &'a sled::Db,
    pub(super) tree: &'a sled::Tree,
    pub(super) pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

fn json<V: serde::Serialize>(v: &V) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain data serializes")
}

impl BatchTxn<'_> {
    fn read(&self, k: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match self.pending.get(k) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.tree.get(k)?.map(|v| v.to_vec())),
        }
    }

    fn write(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.pending.insert(k, Some(v));
    }

    /// Applies every pending write in one atomic batch.
    pub(super) fn commit(self) -> Result<(), Error> {
        let mut batch = sled::Batch::default();
        for (k, v) in self.pending {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        Ok(self.tree.apply_batch(batch)?)
    }
}

impl Txn for BatchTxn<'_> {
    type Error = Error;

    fn head(&mut self, feed: &FeedId) -> Result<Option<Head>, Error> {
        self.read(&key(Space::Feeds, &[&feed.0]))?
            .map(|v| super::decode_json::<FeedInfo>("feed info", &v).map(|f| f.head))
            .transpose()
    }

    fn id_at(&mut self, feed: &FeedId, seq: u64) -> Result<Option<RecordId>, Error> {
        self.read(&keys::position(feed, seq))?
            .map(|v| keys::id_from(&v))
            .transpose()
    }

    fn get(&mut self, id: &RecordId) -> Result<Option<Record>, Error> {
        let Some(v) = self.read(&key(Space::Records, &[&id.0]))? else {
            return Ok(None);
        };
        let body = self.read(&key(Space::Bodies, &[&id.0]))?;
        load_record(&v, body.as_deref()).map(Some)
    }

    fn put(&mut self, r: &Record, feed: &FeedInfo) -> Result<(), Error> {
        let id = r.id;
        self.write(
            key(Space::Records, &[&id.0]),
            keys::record_value(&r.header_bytes, &r.signature),
        );
        if let Some(body) = &r.body {
            self.write(key(Space::Bodies, &[&id.0]), body.clone());
        }
        self.write(keys::position(&r.header.feed, r.header.seq), id.0.to_vec());
        for k in keys::index_keys(&id, &r.header) {
            self.write(k, vec![]);
        }
        self.write(key(Space::Feeds, &[&feed.feed.0]), json(feed));
        Ok(())
    }

    fn put_fork(&mut self, e: &ForkEvidence) -> Result<(), Error> {
        let seq = self.db.generate_id()?.to_be_bytes();
        self.write(key(Space::Forks, &[&seq]), json(e));
        Ok(())
    }

    fn retract(&mut self, target: &RecordId, by: &RecordId, erase: bool) -> Result<(), Error> {
        self.write(key(Space::Retracted, &[&target.0]), by.0.to_vec());
        if erase {
            self.pending.insert(key(Space::Bodies, &[&target.0]), None);
        }
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
        let seq = self.db.generate_id()?.to_be_bytes();
        self.write(key(Space::Audit, &[&seq]), json(entry));
        Ok(())
    }
}
