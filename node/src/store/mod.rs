//! The node's durable store on sled 0.34: one tree per kind of data, every multi-tree write
//! in one transaction, and a flush before anything is acknowledged.
//!
//! Trees: `records` (id → header and signature), `bodies` (id → body, erasable),
//! `positions` (feed ‖ seq → id), `feeds` (feed → author, audience, head), the indexes
//! `by_time`, `by_kind` and `by_state`, `retracted` (target → retraction), `forks`,
//! `consents` (from ‖ to → latest), `audit`, and `meta` (schema version, roster in force).
//! Own feed counters are the `feeds` entries whose author is this node.

mod keys;
mod txn;

use std::path::Path;

use sled::{
    Tree,
    transaction::{TransactionError, Transactional},
};
use tipx_protocol::{
    FeedId, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    record::Record,
    store::{AuditEntry, FeedInfo, Index, Inserted, Source, Store, apply},
    validate::Verified,
    wire,
};

/// The layout version written in `meta`; a store of another version is refused.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema_version";
const ROSTER_KEY: &[u8] = b"roster";

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// sled failed (I/O, or a corrupt file).
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored value does not decode.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The store was written by another version of tipx.
    #[error("store schema version {found} is not supported (this tipx uses {SCHEMA_VERSION})")]
    Schema {
        /// The version found.
        found: u32,
    },
}

/// The trees, in the order a transaction sees them.
#[derive(Clone, Copy)]
pub(crate) enum T {
    Meta,
    Records,
    Bodies,
    Positions,
    Feeds,
    ByTime,
    ByKind,
    ByState,
    Retracted,
    Forks,
    Consents,
    Audit,
}

const TREE_NAMES: [&str; 12] = [
    "meta",
    "records",
    "bodies",
    "positions",
    "feeds",
    "by_time",
    "by_kind",
    "by_state",
    "retracted",
    "forks",
    "consents",
    "audit",
];

/// The sled store.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<Tree>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with a page cache of at most `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, Error> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        Self::with_db(db)
    }

    /// A store in a temporary directory that is deleted on drop (for tests).
    pub fn temporary() -> Result<Self, Error> {
        Self::with_db(
            sled::Config::new()
                .temporary(true)
                .cache_capacity(16 << 20)
                .open()?,
        )
    }

    fn with_db(db: sled::Db) -> Result<Self, Error> {
        let trees = TREE_NAMES
            .iter()
            .map(|n| db.open_tree(n))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Self { db, trees };
        let meta = store.t(T::Meta);
        match meta.get(SCHEMA_KEY)? {
            Some(v) => {
                let found = u32::from_be_bytes(
                    v.as_ref()
                        .try_into()
                        .map_err(|_| Error::Corrupt("schema version".into()))?,
                );
                if found != SCHEMA_VERSION {
                    return Err(Error::Schema { found });
                }
            }
            None => {
                meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                store.db.flush()?;
            }
        }
        Ok(store)
    }

    fn t(&self, t: T) -> &Tree {
        &self.trees[t as usize]
    }

    /// Ids of records whose id starts with `prefix` (at most `limit` of them).
    pub fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<RecordId>, Error> {
        self.t(T::Records)
            .scan_prefix(prefix)
            .keys()
            .take(limit)
            .map(|k| keys::id_from(&k?))
            .collect()
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, Error> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Rebuilds a record from its `records` value and body.
pub(crate) fn load_record(value: &[u8], body: Option<&[u8]>) -> Result<Record, Error> {
    let (header_bytes, signature) = keys::record_value_decode(value)?;
    let header = wire::decode_header(header_bytes)
        .map_err(|e| Error::Corrupt(format!("stored header: {e}")))?;
    Ok(Record {
        id: RecordId::of_header(header_bytes),
        header,
        header_bytes: header_bytes.to_vec(),
        signature,
        body: body.map(<[u8]>::to_vec),
    })
}

fn json_decode<V: serde::de::DeserializeOwned>(what: &str, v: &[u8]) -> Result<V, Error> {
    serde_json::from_slice(v).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

impl Store for SledStore {
    type Error = Error;

    fn insert(
        &self,
        batch: &[Verified],
        source: &Source,
        now_ms: u64,
    ) -> Result<Vec<Inserted>, Error> {
        self.trees
            .as_slice()
            .transaction(|trees| apply::apply(&mut txn::SledTxn { trees }, batch, source, now_ms))
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => Error::Sled(e),
            })
    }

    fn get(&self, id: &RecordId) -> Result<Option<Record>, Error> {
        let Some(v) = self.t(T::Records).get(id.0)? else {
            return Ok(None);
        };
        let body = self.t(T::Bodies).get(id.0)?;
        load_record(&v, body.as_deref()).map(Some)
    }

    fn retraction_of(&self, id: &RecordId) -> Result<Option<RecordId>, Error> {
        self.t(T::Retracted)
            .get(id.0)?
            .map(|v| keys::id_from(&v))
            .transpose()
    }

    fn head(&self, feed: &FeedId) -> Result<Option<Head>, Error> {
        Ok(self
            .t(T::Feeds)
            .get(feed.0)?
            .map(|v| json_decode::<FeedInfo>("feed info", &v))
            .transpose()?
            .map(|f| f.head))
    }

    fn feed_range(
        &self,
        feed: &FeedId,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>, Error> {
        let mut out = Vec::new();
        let mut bytes = 0;
        let range = keys::position(feed, from_seq.max(1))..=keys::position(feed, u64::MAX);
        for kv in self.t(T::Positions).range(range) {
            if out.len() >= max_records {
                break;
            }
            let (_, id) = kv?;
            let id = keys::id_from(&id)?;
            let r = self
                .get(&id)?
                .ok_or_else(|| Error::Corrupt(format!("position points to missing record {id}")))?;
            bytes += r.encoded_len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(r);
        }
        Ok(out)
    }

    fn feeds(&self) -> Result<Vec<FeedInfo>, Error> {
        self.t(T::Feeds)
            .iter()
            .values()
            .map(|v| json_decode("feed info", &v?))
            .collect()
    }

    fn scan(
        &self,
        index: Index,
        since_ms: u64,
        until_ms: u64,
        visit: &mut dyn FnMut(RecordId) -> bool,
    ) -> Result<(), Error> {
        let (tree, prefix): (&Tree, Vec<u8>) = match index {
            Index::Time => (self.t(T::ByTime), vec![]),
            Index::Kind(k) => (self.t(T::ByKind), vec![keys::kind_byte(k)]),
            Index::State(s) => (self.t(T::ByState), keys::state_bytes(s).to_vec()),
        };
        let mut lo = prefix.clone();
        lo.extend_from_slice(&keys::by_time(since_ms, &RecordId([0; 32])));
        let mut hi = prefix.clone();
        hi.extend_from_slice(&keys::by_time(until_ms, &RecordId([0xff; 32])));
        for k in tree.range(lo..=hi).keys().rev() {
            let k = k?;
            if !visit(keys::id_from(&k[k.len() - 32..])?) {
                break;
            }
        }
        Ok(())
    }

    fn consents(&self) -> Result<Vec<(StateCode, StateCode, ConsentState)>, Error> {
        self.t(T::Consents)
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let (from, to) = keys::consent_key_decode(&k)?;
                Ok((from, to, keys::consent_value_decode(&v)?))
            })
            .collect()
    }

    fn roster(&self) -> Result<Option<Record>, Error> {
        match self.t(T::Meta).get(ROSTER_KEY)? {
            Some(v) if v.len() == 40 => self.get(&keys::id_from(&v[..32])?),
            _ => Ok(None),
        }
    }

    fn forks(&self) -> Result<Vec<ForkEvidence>, Error> {
        self.t(T::Forks)
            .iter()
            .values()
            .map(|v| json_decode("fork evidence", &v?))
            .collect()
    }

    fn audit(&self, entries: &[AuditEntry]) -> Result<(), Error> {
        let mut batch = sled::Batch::default();
        for e in entries {
            batch.insert(
                &self.db.generate_id()?.to_be_bytes(),
                serde_json::to_vec(e).expect("plain data"),
            );
        }
        Ok(self.t(T::Audit).apply_batch(batch)?)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let mut out: Vec<AuditEntry> = self
            .t(T::Audit)
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| json_decode("audit entry", &v?))
            .collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(self.t(T::Records).len() as u64)
    }

    fn flush(&self) -> Result<(), Error> {
        self.db.flush()?;
        Ok(())
    }

    fn check_indexes(&self) -> Result<Vec<String>, Error> {
        let mut problems = Vec::new();
        let mut n = 0usize;
        for kv in self.t(T::Records).iter() {
            let (k, v) = kv?;
            n += 1;
            let r = match load_record(&v, None) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("record {}: {e}", hex::encode(&k)));
                    continue;
                }
            };
            if r.id.0[..] != k[..] {
                problems.push(format!(
                    "record stored under {} has id {}",
                    hex::encode(&k),
                    r.id
                ));
            }
            let (time, kind, state) = keys::index_keys(&r.id, &r.header);
            let pos = self
                .t(T::Positions)
                .get(keys::position(&r.header.feed, r.header.seq))?;
            if pos.as_deref() != Some(&r.id.0[..]) {
                problems.push(format!(
                    "record {}: feed position index disagrees",
                    r.id.short()
                ));
            }
            if !self.t(T::ByTime).contains_key(time)?
                || !self.t(T::ByKind).contains_key(kind)?
                || !self.t(T::ByState).contains_key(state)?
            {
                problems.push(format!("record {}: missing from an index", r.id.short()));
            }
        }
        for (t, name) in [
            (T::Positions, "positions"),
            (T::ByTime, "by_time"),
            (T::ByKind, "by_kind"),
            (T::ByState, "by_state"),
        ] {
            if self.t(t).len() != n {
                problems.push(format!(
                    "index {name} has {} entries for {n} records",
                    self.t(t).len()
                ));
            }
        }
        for kv in self.t(T::Bodies).iter().keys() {
            if !self.t(T::Records).contains_key(kv?)? {
                problems.push("a body without its record".into());
            }
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::SledStore;

    tipx_protocol::store_conformance!(|| SledStore::temporary().expect("temporary store"));
}
