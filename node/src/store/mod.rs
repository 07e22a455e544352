//! The node's durable store on sled 0.34.
//!
//! Everything lives in one tree, with the first byte of each key naming what it holds
//! ([`keys::Space`]): records (header and signature), bodies (erasable), feed positions,
//! feeds (author, audience, head — which are also this node's own feed counters), the
//! indexes by time, kind and state, retractions, forks, consents, the audit log, and meta
//! (schema version, roster in force). One tree lets an insert write a record, its indexes,
//! its effects and its audit entries in **one atomic batch**, which sled applies whole or not
//! at all, also across a crash — several times faster than a multi-tree transaction (see
//! `docs/DECISIONS.md`). Writers are serialised by a lock; readers never wait. A record is
//! acknowledged only after [`Store::flush`].

mod keys;
mod txn;

use std::{path::Path, sync::Mutex};

use keys::{Space, key};
use tipx_protocol::{
    FeedId, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    record::Record,
    store::{AuditEntry, FeedInfo, Index, Inserted, Source, Store, apply},
    validate::Verified,
    wire,
};

/// The layout version written in meta; a store of another version is refused.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema_version";
const ROSTER_KEY: &[u8] = b"roster";

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// sled failed (I/O, or a corrupt file).
    #[error("store: {0}")]
    Sled(sled::Error),
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

// Not `#[from]`: sled's errors already print their cause, so marking it as the source would
// print it twice in an error chain.
impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Self::Sled(e)
    }
}

/// The sled store.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    /// Serialises inserts: each reads feed heads, then writes one batch.
    writer: Mutex<()>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with a page cache of at most `cache_bytes`
    /// (sled's own default would be 1 GiB).
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, Error> {
        Self::with_db(
            sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open()?,
        )
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
        let tree = db.open_tree("tipx")?;
        let schema = key(Space::Meta, &[SCHEMA_KEY]);
        match tree.get(&schema)? {
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
                tree.insert(schema, &SCHEMA_VERSION.to_be_bytes())?;
                db.flush()?;
            }
        }
        Ok(Self {
            db,
            tree,
            writer: Mutex::new(()),
        })
    }

    /// Ids of records whose id starts with `prefix` (at most `limit` of them).
    pub fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<RecordId>, Error> {
        self.tree
            .scan_prefix(key(Space::Records, &[prefix]))
            .keys()
            .take(limit)
            .map(|k| keys::id_from(&k?[1..]))
            .collect()
    }

    /// A node-local setting kept in meta (not part of any record).
    pub fn meta_get(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .tree
            .get(key(Space::Meta, &[b"local/", name.as_bytes()]))?
            .map(|v| v.to_vec()))
    }

    /// Sets a node-local setting.
    pub fn meta_put(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        self.tree
            .insert(key(Space::Meta, &[b"local/", name.as_bytes()]), value)?;
        Ok(())
    }

    /// Removes a node-local setting.
    pub fn meta_remove(&self, name: &str) -> Result<(), Error> {
        self.tree
            .remove(key(Space::Meta, &[b"local/", name.as_bytes()]))?;
        Ok(())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> Result<u64, Error> {
        Ok(self.db.size_on_disk()?)
    }

    fn values(
        &self,
        space: Space,
    ) -> impl DoubleEndedIterator<Item = Result<sled::IVec, Error>> + '_ {
        self.tree
            .scan_prefix([space as u8])
            .values()
            .map(|v| v.map_err(Error::from))
    }

    fn count(&self, space: Space) -> usize {
        self.tree.scan_prefix([space as u8]).keys().count()
    }
}

/// Rebuilds a record from its stored value and body.
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

pub(crate) fn decode_json<V: serde::de::DeserializeOwned>(
    what: &str,
    v: &[u8],
) -> Result<V, Error> {
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
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut txn = txn::BatchTxn {
            db: &self.db,
            tree: &self.tree,
            pending: Default::default(),
        };
        let out = apply::apply(&mut txn, batch, source, now_ms)?;
        txn.commit()?;
        Ok(out)
    }

    fn get(&self, id: &RecordId) -> Result<Option<Record>, Error> {
        let Some(v) = self.tree.get(key(Space::Records, &[&id.0]))? else {
            return Ok(None);
        };
        let body = self.tree.get(key(Space::Bodies, &[&id.0]))?;
        load_record(&v, body.as_deref()).map(Some)
    }

    fn retraction_of(&self, id: &RecordId) -> Result<Option<RecordId>, Error> {
        self.tree
            .get(key(Space::Retracted, &[&id.0]))?
            .map(|v| keys::id_from(&v))
            .transpose()
    }

    fn head(&self, feed: &FeedId) -> Result<Option<Head>, Error> {
        self.tree
            .get(key(Space::Feeds, &[&feed.0]))?
            .map(|v| decode_json::<FeedInfo>("feed info", &v).map(|f| f.head))
            .transpose()
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
        for kv in self
            .tree
            .range(keys::position(feed, from_seq.max(1))..=keys::position(feed, u64::MAX))
        {
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
        self.values(Space::Feeds)
            .map(|v| decode_json("feed info", &v?))
            .collect()
    }

    fn scan(
        &self,
        index: Index,
        since_ms: u64,
        until_ms: u64,
        visit: &mut dyn FnMut(RecordId) -> bool,
    ) -> Result<(), Error> {
        let (space, prefix): (Space, Vec<u8>) = match index {
            Index::Time => (Space::ByTime, vec![]),
            Index::Kind(k) => (Space::ByKind, vec![keys::kind_byte(k)]),
            Index::State(s) => (Space::ByState, keys::state_bytes(s).to_vec()),
        };
        let lo = key(space, &[&prefix, &since_ms.to_be_bytes(), &[0; 32]]);
        let hi = key(space, &[&prefix, &until_ms.to_be_bytes(), &[0xff; 32]]);
        for k in self.tree.range(lo..=hi).keys().rev() {
            let k = k?;
            if !visit(keys::id_from(&k[k.len() - 32..])?) {
                break;
            }
        }
        Ok(())
    }

    fn consents(&self) -> Result<Vec<(StateCode, StateCode, ConsentState)>, Error> {
        self.tree
            .scan_prefix([Space::Consents as u8])
            .map(|kv| {
                let (k, v) = kv?;
                let (from, to) = keys::consent_key_decode(&k)?;
                Ok((from, to, keys::consent_value_decode(&v)?))
            })
            .collect()
    }

    fn roster(&self) -> Result<Option<Record>, Error> {
        match self.tree.get(key(Space::Meta, &[ROSTER_KEY]))? {
            Some(v) if v.len() == 40 => self.get(&keys::id_from(&v[..32])?),
            _ => Ok(None),
        }
    }

    fn forks(&self) -> Result<Vec<ForkEvidence>, Error> {
        self.values(Space::Forks)
            .map(|v| decode_json("fork evidence", &v?))
            .collect()
    }

    fn audit(&self, entries: &[AuditEntry]) -> Result<(), Error> {
        let mut batch = sled::Batch::default();
        for e in entries {
            let seq = self.db.generate_id()?.to_be_bytes();
            batch.insert(
                key(Space::Audit, &[&seq]),
                serde_json::to_vec(e).expect("plain data"),
            );
        }
        Ok(self.tree.apply_batch(batch)?)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let mut out: Vec<AuditEntry> = self
            .values(Space::Audit)
            .rev()
            .take(limit)
            .map(|v| decode_json("audit entry", &v?))
            .collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(self.count(Space::Records) as u64)
    }

    fn flush(&self) -> Result<(), Error> {
        self.db.flush()?;
        Ok(())
    }

    fn check_indexes(&self) -> Result<Vec<String>, Error> {
        let mut problems = Vec::new();
        let mut n = 0usize;
        for kv in self.tree.scan_prefix([Space::Records as u8]) {
            let (k, v) = kv?;
            n += 1;
            let r = match load_record(&v, None) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("record {}: {e}", hex::encode(&k[1..])));
                    continue;
                }
            };
            if r.id.0[..] != k[1..] {
                problems.push(format!(
                    "record stored under {} has id {}",
                    hex::encode(&k[1..]),
                    r.id
                ));
            }
            if self
                .tree
                .get(keys::position(&r.header.feed, r.header.seq))?
                .as_deref()
                != Some(&r.id.0[..])
            {
                problems.push(format!(
                    "record {}: feed position index disagrees",
                    r.id.short()
                ));
            }
            for k in keys::index_keys(&r.id, &r.header) {
                if !self.tree.contains_key(&k)? {
                    problems.push(format!(
                        "record {}: missing from the {:?} index",
                        r.id.short(),
                        k[0] as char
                    ));
                }
            }
        }
        for space in [
            Space::Positions,
            Space::ByTime,
            Space::ByKind,
            Space::ByState,
        ] {
            let c = self.count(space);
            if c != n {
                problems.push(format!("index {space:?} has {c} entries for {n} records"));
            }
        }
        for k in self.tree.scan_prefix([Space::Bodies as u8]).keys() {
            let mut k = k?.to_vec();
            k[0] = Space::Records as u8;
            if !self.tree.contains_key(&k)? {
                problems.push(format!(
                    "a body without its record: {}",
                    hex::encode(&k[1..])
                ));
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
