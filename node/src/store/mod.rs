//! The node's durable store on sled 0.34.
//!
//! Everything lives in one tree, with the first byte of each key naming what it holds
//! ([`keys::Space`]): records (header, signature and body — the body is cut on erase —
//! under their feed position, so a feed reads in order), feeds (author, audience, head;
//! also this node's own feed counters), index pages, retractions, forks, consents, audit
//! pages, and meta (schema version, roster in force, node-local settings).
//!
//! An insert is **one atomic batch** (sled applies it whole or not at all, also across a
//! crash) holding one key per record, the feed heads, the effects, one index page listing
//! the new records by id, time, kind and state, the count of records per index, and one
//! audit page. The indexes are kept in memory in a compact form, built from the index pages
//! on a thread of their own after open ([`index`]): the store answers at once, and what
//! needs the index waits for it. Writers are serialised by a lock; readers never wait for
//! disk writes. A record is acknowledged only after [`Store::flush`]. Why this layout:
//! `docs/DECISIONS.md`.

mod audit;
mod backup;
mod bodies;
mod error;
mod floor;
mod index;
mod keys;
mod migrate;
mod provenance;
mod shortfall;
mod txn;

pub use backup::{BackupStats, restore, set_aside};
pub use error::Error;
use error::files;
pub use floor::Mark;
pub use provenance::Doubt;
pub use shortfall::Shortfall;

use std::{
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::Path,
    sync::Mutex,
};

use keys::{Space, key};
use tipx_protocol::{
    FeedId, Kind, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    quota::Quotas,
    record::Record,
    store::{AuditEntry, FeedInfo, Index, Inserted, Source, Store, apply},
    validate::Verified,
    wire,
};

/// The layout version written in meta; version 2 (bodies inside sled) is migrated at open,
/// any other is refused.
pub const SCHEMA_VERSION: u32 = 3;
pub(super) const SCHEMA_KEY: &[u8] = b"schema_version";
const ROSTER_KEY: &[u8] = b"roster";
/// Ids handed to a `scan` visitor per look at the in-memory index (the lock is not held
/// while visiting).
const SCAN_CHUNK: usize = 256;

/// How long an open waits for a store's lock before saying another process holds it.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The sled store.
pub struct SledStore {
    /// The in-memory indexes and the thread building them after open; first, so that on
    /// drop it stops first and writes the index for the next open while sled is still open.
    index: index::load::Loader,
    /// The store's directory.
    dir: std::path::PathBuf,
    db: sled::Db,
    tree: sled::Tree,
    /// Bodies of best practices and alerts ([`bodies`]).
    bodies: bodies::Bodies,
    /// The temporary directory of a [`temporary`](Self::temporary) store.
    _temporary: Option<tempfile::TempDir>,
    /// Serialises inserts: each reads feed heads, then writes one batch.
    writer: Mutex<()>,
    /// What the store must hold at least ([`floor`]).
    floor: Mutex<floor::Floor>,
    /// Heads moved by inserts since the last flush, for the floor.
    moved: Mutex<std::collections::BTreeMap<FeedId, Mark>>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with a page cache of at most `cache_bytes`
    /// (sled's own default would be 1 GiB).
    ///
    /// The directory is made 0700 and the files in it 0600 (what sled creates later is
    /// inside the 0700 directory).
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, Error> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(files("creating the store directory"))?;
        // A store closed a moment ago in this process (`tipx init` then the demo's nodes)
        // may still be locked by sled's flusher thread, which lets go at its next tick.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            let opened = sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open()
                .map_err(|e| match &e {
                    // sled reports a held lock as an I/O error of its own wording.
                    sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                        Error::Locked(dir.to_path_buf())
                    }
                    _ => Error::Sled(e),
                });
            match opened {
                Err(Error::Locked(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        let bodies = bodies::Bodies::open(&dir.join(BODIES_DIR)).map_err(files("opening"))?;
        let floor = floor::Floor::open(dir).map_err(files("reading the floor file"))?;
        let store = Self::with_db(dir, db, bodies, floor, None)?;
        restrict(dir).map_err(files("restricting the store's files to this user"))?;
        Ok(store)
    }

    /// A store in a temporary directory that is deleted on drop (for tests).
    pub fn temporary() -> Result<Self, Error> {
        let dir = tempfile::tempdir().map_err(files("creating a temporary directory"))?;
        let bodies =
            bodies::Bodies::open(&dir.path().join(BODIES_DIR)).map_err(files("opening"))?;
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .cache_capacity(16 << 20)
            .open()?;
        let floor = floor::Floor::open(dir.path()).map_err(files("reading the floor file"))?;
        let path = dir.path().to_path_buf();
        Self::with_db(&path, db, bodies, floor, Some(dir))
    }

    fn with_db(
        dir: &Path,
        db: sled::Db,
        bodies: bodies::Bodies,
        floor: floor::Floor,
        temporary: Option<tempfile::TempDir>,
    ) -> Result<Self, Error> {
        let tree = db.open_tree("tipx")?;
        let schema = key(Space::Meta, &[SCHEMA_KEY]);
        let found = match tree.get(&schema)? {
            Some(v) => Some(u32::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| Error::Corrupt("schema version".into()))?,
            )),
            None => None,
        };
        match found {
            Some(SCHEMA_VERSION) => {}
            Some(2) => migrate::bodies_to_packs(&tree, &bodies)?,
            Some(found) => return Err(Error::Schema { found }),
            None => {}
        }
        if found != Some(SCHEMA_VERSION) {
            tree.insert(schema, &SCHEMA_VERSION.to_be_bytes())?;
            db.flush()?;
        }
        let index = index::load::Loader::start(&tree, dir)?;
        let store = Self {
            index,
            dir: dir.to_path_buf(),
            db,
            tree,
            bodies,
            _temporary: temporary,
            writer: Mutex::new(()),
            floor: Mutex::new(floor),
            moved: Mutex::new(std::collections::BTreeMap::new()),
        };
        // Erasures a crash interrupted: their batch is durable, the zeroing may not be.
        let pending: Vec<bodies::Loc> = store
            .tree
            .scan_prefix([Space::Wipes as u8])
            .keys()
            .map(|k| bodies::Loc::decode(&k?[1..]).ok_or_else(|| Error::Corrupt("wipe key".into())))
            .collect::<Result<_, _>>()?;
        store.wipe(&pending)?;
        Ok(store)
    }

    /// Overwrites erased bodies with zeros; called once the erasure that dropped them is
    /// durable, so that a crash can never leave a record pointing at zeros.
    fn wipe(&self, locs: &[bodies::Loc]) -> Result<(), Error> {
        if locs.is_empty() {
            return Ok(());
        }
        let mut done = sled::Batch::default();
        for loc in locs {
            self.bodies
                .wipe(*loc)
                .map_err(files("overwriting an erased body"))?;
            done.remove(key(Space::Wipes, &[&loc.encode()]));
        }
        self.tree.apply_batch(done)?;
        Ok(())
    }

    /// The in-memory indexes, once built (see [`index::load`]).
    fn indexes(&self) -> Result<std::sync::RwLockReadGuard<'_, index::Indexes>, Error> {
        self.index.shared.read()
    }

    fn position_of(&self, id: &RecordId) -> Result<Option<(FeedId, u64)>, Error> {
        Ok(self.indexes()?.position(id))
    }

    /// `r`, and if its body was erased, the retraction that erased it, which it travels
    /// with (see `tipx_protocol::validate`). A store written before the proof was kept
    /// finds it through the retraction held.
    fn with_proof(&self, mut r: Record) -> Result<Record, Error> {
        if r.body.is_some() || !matches!(r.header.kind, Kind::BestPractice | Kind::Alert) {
            return Ok(r);
        }
        r.erased_by = match self.tree.get(key(Space::Erasures, &[&r.id.0]))? {
            Some(proof) => Some(proof.to_vec()),
            None => match self
                .retraction_of(&r.id)?
                .map(|by| self.position_of(&by))
                .transpose()?
                .flatten()
            {
                Some((feed, seq)) => self
                    .tree
                    .get(keys::position(&feed, seq))?
                    .map(|v| self.load(&v).map(|by| by.encode()))
                    .transpose()?,
                None => None,
            },
        };
        Ok(r)
    }

    /// Whether a record with this id is held (a look at the in-memory index; false if the
    /// index could not be built, which the insert that follows reports).
    pub fn contains(&self, id: &RecordId) -> bool {
        self.position_of(id).ok().flatten().is_some()
    }

    /// Ids of records whose id starts with `prefix` (at most `limit` of them).
    pub fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<RecordId>, Error> {
        Ok(self.indexes()?.ids_with_prefix(prefix, limit))
    }

    /// The ids of the records stored after the first `count`, in the order they were stored
    /// (what a search index committed at `count` records lacks).
    pub fn ids_stored_after(&self, count: u64) -> Result<Vec<RecordId>, Error> {
        Ok(self.indexes()?.ids_from(count as usize))
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

    /// How many records an index holds, e.g. the alerts (`Index::Kind(Kind::Alert)`): from
    /// the counts kept on disk, without waiting for the index (0 if it could not be built).
    pub fn count(&self, index: Index) -> u64 {
        self.index.shared.counts().map_or(0, |c| c.count(index))
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
}

/// The directory of the body packs, inside the store's directory.
const BODIES_DIR: &str = "bodies";

/// Makes `dir` and every directory under it 0700, every file 0600.
fn restrict(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let done = match entry.file_type()?.is_dir() {
            true => restrict(&entry.path()),
            false => std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600)),
        };
        // A file deleted meanwhile (the index snapshot, taken at open) needs no restricting.
        done.or_else(|e| {
            (e.kind() == std::io::ErrorKind::NotFound)
                .then_some(())
                .ok_or(e)
        })?;
    }
    Ok(())
}

/// Rebuilds a record from its stored value, without its body: enough for its id, header
/// and feed position.
pub(crate) fn load_header(value: &[u8]) -> Result<Record, Error> {
    let (header_bytes, signature, _) = keys::split_value(value)?;
    let header = wire::decode_header(header_bytes)
        .map_err(|e| Error::Corrupt(format!("stored header: {e}")))?;
    Ok(Record {
        id: RecordId::of_header(header_bytes),
        header,
        header_bytes: header_bytes.to_vec(),
        signature,
        body: None,
        erased_by: None,
    })
}

impl SledStore {
    /// Rebuilds a record from its stored value, reading its body from its pack.
    pub(crate) fn load(&self, value: &[u8]) -> Result<Record, Error> {
        let mut r = load_header(value)?;
        r.body = match keys::record_value_decode(value)?.2 {
            keys::StoredBody::None => None,
            keys::StoredBody::Inline(b) => Some(b.to_vec()),
            keys::StoredBody::Packed(loc) => Some(
                self.bodies
                    .read(loc)
                    .map_err(files("reading a body from its pack"))?,
            ),
        };
        Ok(r)
    }
}

pub(crate) fn decode_json<V: serde::de::DeserializeOwned>(
    what: &str,
    v: &[u8],
) -> Result<V, Error> {
    serde_json::from_slice(v).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

impl Store for SledStore {
    type Error = Error;

    fn insert_counted(
        &self,
        batch: &[Verified],
        source: &Source,
        now_ms: u64,
        quotas: &mut Quotas,
    ) -> Result<Vec<Inserted>, Error> {
        // An insert looks records up by id, and adds to the index.
        self.index.shared.wait()?;
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut txn = txn::BatchTxn::new(self);
        let out = apply::apply(&mut txn, batch, source, now_ms, quotas)?;
        let (entries, wipes) = txn.commit()?;
        {
            let mut moved = self.moved.lock().unwrap_or_else(|p| p.into_inner());
            for (v, o) in batch.iter().zip(&out) {
                let h = &v.record.header;
                if *o == Inserted::Stored && moved.get(&h.feed).is_none_or(|m| m.seq < h.seq) {
                    let mark = Mark {
                        seq: h.seq,
                        id: v.record.id,
                        state: h.author_state,
                        at_ms: now_ms,
                    };
                    moved.insert(h.feed, mark);
                }
            }
        }
        self.index.shared.write()?.add(&entries);
        if !wipes.is_empty() {
            // Zero the bodies only once nothing durable points at them any more.
            self.db.flush()?;
            self.wipe(&wipes)?;
        }
        Ok(out)
    }

    fn get(&self, id: &RecordId) -> Result<Option<Record>, Error> {
        let Some((feed, seq)) = self.position_of(id)? else {
            return Ok(None);
        };
        self.tree
            .get(keys::position(&feed, seq))?
            .map(|v| self.with_proof(self.load(&v)?))
            .transpose()
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
        for v in self
            .tree
            .range(keys::position(feed, from_seq.max(1))..=keys::position(feed, u64::MAX))
            .values()
        {
            if out.len() >= max_records {
                break;
            }
            let r = self.with_proof(self.load(&v?)?)?;
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
        let mut cursor = None;
        loop {
            let page = self
                .indexes()?
                .page(index, since_ms, until_ms, cursor, SCAN_CHUNK);
            let Some(last) = page.last().copied() else {
                return Ok(());
            };
            for (_, id) in page {
                if !visit(id) {
                    return Ok(());
                }
            }
            cursor = Some(last);
        }
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
        self.append_audit(entries)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        self.newest_audit(limit)
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(self.index.shared.counts()?.total)
    }

    fn flush(&self) -> Result<(), Error> {
        // Taken before sled's flush, which makes durable everything written before it.
        let moved = std::mem::take(&mut *self.moved.lock().unwrap_or_else(|p| p.into_inner()));
        self.db.flush()?;
        self.floor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(&moved)
            .map_err(files("writing the floor file"))?;
        Ok(())
    }

    fn check_indexes(&self) -> Result<Vec<String>, Error> {
        let mut problems = Vec::new();
        let idx = self.indexes()?;
        let mut n = 0usize;
        for kv in self.tree.scan_prefix([Space::Records as u8]) {
            let (k, v) = kv?;
            n += 1;
            let r = match load_header(&v) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("record at {}: {e}", hex::encode(&k[1..])));
                    continue;
                }
            };
            if k[..] != keys::position(&r.header.feed, r.header.seq)[..] {
                problems.push(format!(
                    "record {} is stored under another feed position",
                    r.id.short()
                ));
            }
            if idx.position(&r.id) != Some((r.header.feed, r.header.seq)) {
                problems.push(format!("record {}: missing from the index", r.id.short()));
            }
        }
        if idx.len() != n {
            problems.push(format!(
                "the index lists {} records, the store holds {n}",
                idx.len()
            ));
        }
        if !idx.consistent() {
            problems.push("the time, kind and state indexes disagree with the id index".into());
        }
        let counted = idx.counts(index::load::last_page(&self.tree)?);
        drop(idx);
        if self.index.shared.counts()? != counted {
            problems.push("the counts of records kept on disk disagree with the index".into());
        }
        problems.extend(self.floor_damaged());
        problems.extend(self.shortfall()?.iter().map(ToString::to_string));
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::SledStore;

    tipx_protocol::store_conformance!(|| SledStore::temporary().expect("temporary store"));
}
