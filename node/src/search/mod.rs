//! Full-text search over best practices and alerts: a tantivy index in the data directory
//! (`search/`, beside `store/`), kept in step with the store by a background indexer and
//! rebuilt from the store when it is missing or stale.
//!
//! - [`schema`]: what a record's document holds; one field and stemmer per language.
//! - [`stem`]: the Snowball stemmer with a cache of the words it stemmed.
//! - [`indexer`]: the thread that owns the writer, commits at most every second, and
//!   rewrites the segments an erasure touched so the erased text leaves every file.
//! - [`query`]: a listing's text and filters as a tantivy query, hits by relevance or time.
//! - [`traces`]: where a word is still held in the index's files (erasure's proof).
//!
//! Each commit carries a marker, the number of records the store held once the index had
//! taken in every insert before it. An index whose marker differs from the store's count
//! at open (a crash within a second of an insert, a restored store, an index deleted) is
//! rebuilt: [`Search::open`] returns at once with an empty index, and
//! [`Search::rebuild`] (the daemon runs it in the background) reads the store into it while
//! inserts go on; until it is done [`Search::state`] says how far it is and listings read
//! bodies instead. Why this design: docs/DECISIONS.md, "Full-text search".

mod indexer;
mod merges;
mod query;
mod schema;
mod stem;
#[cfg(test)]
mod tests;
mod traces;
mod words;

pub use query::Hit;
pub use traces::traces;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
        mpsc,
    },
    thread::JoinHandle,
};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, ReloadPolicy, directory::MmapDirectory};
use tipx_protocol::{
    Body, Kind, RecordId,
    store::{Index as StoreIndex, Inserted, Store as _},
    validate::Verified,
};

use crate::store::SledStore;
use indexer::{Change, Indexer, Msg};
use schema::{Fields, Meta};

/// Memory the writer may fill before it writes a segment, in bytes (tantivy's floor is
/// 15 MB per thread): enough for tens of thousands of small records.
const WRITER_HEAP_BYTES: usize = 64 << 20;

/// Records a rebuild reads from the store and hands the indexer at once: small enough
/// that inserts queued behind a chunk wait a few milliseconds, large enough that the queue
/// is not the cost.
const REBUILD_CHUNK: usize = 1_000;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed (a disk error, a damaged index).
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// A file of the index could not be read or written.
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    /// The index directory could not be opened.
    #[error("search index: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// The store failed while the index was rebuilt.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The indexer thread has stopped.
    #[error("search index: the indexer has stopped ({0})")]
    Stopped(String),
}

/// The layout of the index files this build writes: an index of another layout is stale
/// and rebuilt. 1 (no number in the marker): term dictionaries as FSTs; 2: as sorted
/// tables (tantivy's `quickwit` feature), a fifth of the indexing cost; 3: ids and times as
/// columns, not terms (docs/DECISIONS.md).
const FORMAT: u32 = 3;

/// The marker a commit carries.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Marker {
    /// Records the store held once every insert before the commit was indexed.
    store_len: u64,
    /// The layout of the files ([`FORMAT`]); 1 when absent.
    #[serde(default = "first_format")]
    format: u32,
}

fn first_format() -> u32 {
    1
}

impl Marker {
    /// The marker of an index of this build's layout, in step with `store_len` records.
    fn new(store_len: u64) -> Self {
        Self {
            store_len,
            format: FORMAT,
        }
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).expect("plain data")
    }

    fn of(index: &Index) -> Result<Option<Self>, Error> {
        Ok(index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok()))
    }
}

/// Whether listings can use the index (`tipx status` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// In step with the store (within a second).
    Ready,
    /// Being rebuilt from the store: `done` of the `total` best practices and alerts the
    /// store held when the rebuild began are indexed. Listings with a text read bodies.
    Rebuilding {
        /// Records read from the store and indexed.
        done: u64,
        /// Best practices and alerts the store held when the rebuild began.
        total: u64,
    },
}

/// How far a rebuild has come, shared by the rebuild, the indexer and `status`.
#[derive(Debug, Default)]
struct Progress {
    /// Set while the index lacks records the store holds.
    rebuilding: AtomicBool,
    /// Records of the store the indexer has taken in.
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    fn state(&self) -> State {
        if self.rebuilding.load(Relaxed) {
            State::Rebuilding {
                done: self.done.load(Relaxed),
                total: self.total.load(Relaxed),
            }
        } else {
            State::Ready
        }
    }
}

/// The index, open for searching and kept in step by its indexer thread.
pub struct Search {
    dir: PathBuf,
    reader: IndexReader,
    fields: Fields,
    tx: Option<mpsc::SyncSender<Msg>>,
    indexer: Option<JoinHandle<()>>,
    /// Held from an insert until its batch is queued, so batches reach the indexer in the
    /// order of the store's inserts and each marker counts only what precedes it.
    order: Mutex<()>,
    progress: Arc<Progress>,
    /// Set when the index was committed with fewer records than the store holds (a crash
    /// or a kill within a second of an insert): the rebuild indexes only the records
    /// stored after that many.
    replay_after: Option<u64>,
}

impl Search {
    /// Opens the index in `dir` for `store`. An index missing or stale is replaced by an
    /// empty one at once, to be filled by [`rebuild`](Self::rebuild): until then
    /// [`state`](Self::state) is [`State::Rebuilding`].
    pub fn open(dir: &Path, store: &SledStore) -> Result<Self, Error> {
        let fields = Fields::new();
        let store_len = store.len()?;
        let progress = Arc::new(Progress::default());
        let mut replay_after = None;
        let existing = open_existing(dir, &fields)?
            .map(|index| Marker::of(&index).map(|m| (index, m)))
            .transpose()?;
        let index = match existing {
            Some((index, Some(m))) if m == Marker::new(store_len) => index,
            Some((index, Some(m))) if m.format == FORMAT && m.store_len < store_len => {
                let behind = store_len - m.store_len;
                tracing::info!(
                    records = behind,
                    "the search index lacks the records stored after its last commit: indexing them"
                );
                replay_after = Some(m.store_len);
                progress.total.store(behind, Relaxed);
                progress.rebuilding.store(true, Relaxed);
                index
            }
            stale => {
                let stale = stale.map(|(index, _)| index);
                if let Some(index) = stale {
                    drop(index);
                    tracing::warn!(dir = %dir.display(), "the search index is stale: rebuilding it");
                }
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let index = Index::create_in_dir(dir, fields.schema.clone())?;
                schema::register_tokenizers(&index);
                let total = searchable_held(store);
                progress.total.store(total, Relaxed);
                progress.rebuilding.store(total > 0, Relaxed);
                index
            }
        };
        let fresh = Marker::of(&index)?.is_none();
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut indexer = Indexer::new(
            writer,
            reader.clone(),
            fields.clone(),
            store_len,
            progress.clone(),
        );
        if fresh && !progress.rebuilding.load(Relaxed) {
            // Nothing to rebuild from: in step with the store as it is.
            indexer.commit()?;
        }
        let (tx, rx) = mpsc::sync_channel(indexer::QUEUE);
        let thread = std::thread::Builder::new()
            .name("tipx-index".into())
            .spawn(move || indexer.run(rx))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            reader,
            fields,
            tx: Some(tx),
            indexer: Some(thread),
            order: Mutex::new(()),
            progress,
            replay_after,
        })
    }

    /// Whether listings can use the index, or how far its rebuild is.
    pub fn state(&self) -> State {
        self.progress.state()
    }

    /// Whether the index holds every record of the store (but the last second's).
    pub fn is_ready(&self) -> bool {
        self.state() == State::Ready
    }

    /// Fills an index [`open`](Self::open) found missing or stale with every best practice
    /// and alert the store holds, while inserts go on (each reaches the index once, and no
    /// erased body does); nothing to do if it is ready. `progress(read, total)` is told at
    /// the start, every [`REBUILD_CHUNK`] records and at the end. Returns once the index is
    /// ready, or as soon as `stop()` is true, leaving the index to be rebuilt at the next
    /// start.
    pub fn rebuild(
        &self,
        store: &SledStore,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), Error> {
        if self.is_ready() {
            return Ok(());
        }
        if let Some(after) = self.replay_after {
            return self.replay(store, after, stop, progress);
        }
        let total = searchable_held(store);
        self.progress.total.store(total, Relaxed);
        let mut read = 0;
        let mut chunk = Vec::with_capacity(REBUILD_CHUNK);
        let mut failure = None;
        progress(0, total);
        for kind in [Kind::BestPractice, Kind::Alert] {
            store.scan(StoreIndex::Kind(kind), 0, u64::MAX, &mut |id| {
                chunk.push(id);
                if chunk.len() < REBUILD_CHUNK {
                    return true;
                }
                read += chunk.len() as u64;
                let indexed = self.index_held(store, &chunk);
                chunk.clear();
                if let Err(e) = indexed {
                    failure = Some(e);
                    return false;
                }
                progress(read.min(total), total);
                !stop()
            })?;
            if let Some(e) = failure.take() {
                return Err(e);
            }
            if stop() {
                tracing::info!(
                    read,
                    total,
                    "search index rebuild stopped: it resumes at the next start"
                );
                return Ok(());
            }
        }
        read += chunk.len() as u64;
        self.index_held(store, &chunk)?;
        progress(read.min(total), total);
        self.rebuild_done()
    }

    /// The rebuild of an index committed with the store's first `after` records: the
    /// records stored since are indexed (and those their retractions erased are deleted).
    fn replay(
        &self,
        store: &SledStore,
        after: u64,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), Error> {
        let ids = store.ids_stored_after(after)?;
        let total = ids.len() as u64;
        self.progress.total.store(total, Relaxed);
        progress(0, total);
        let mut read = 0;
        for chunk in ids.chunks(REBUILD_CHUNK) {
            read += chunk.len() as u64;
            self.index_held(store, chunk)?;
            progress(read, total);
            if stop() {
                return Ok(());
            }
        }
        self.rebuild_done()
    }

    /// Tells the indexer the rebuild has read all it had to, and waits for its commit.
    fn rebuild_done(&self) -> Result<(), Error> {
        // Under the order: an insert the rebuild read the store after has fed its batch
        // before this (and it replaced the rebuild's copy); any later insert was not read.
        {
            let _order = self.order();
            self.send(Msg::RebuildDone)?;
        }
        self.sync()
    }

    /// Reads the records of `ids` from the store and hands the documents of those held
    /// with their body to the indexer, and the targets of the erasing retractions among
    /// them. Under the order, so that an insert whose record this reads has fed its batch
    /// before (the indexer then keeps the batch's copy and drops this one).
    fn index_held(&self, store: &SledStore, ids: &[RecordId]) -> Result<(), Error> {
        let _order = self.order();
        let mut docs = Vec::with_capacity(ids.len());
        let mut erased = vec![];
        for id in ids.iter() {
            let Some(r) = store.get(id)? else { continue };
            match r.body().ok().flatten() {
                Some(Body::Retraction(x)) if x.erase => erased.push(x.target),
                Some(b) => docs.extend(self.fields.document(&Meta::of(&r), &b).map(|d| (*id, d))),
                None => {}
            }
        }
        let read = ids.len() as u64;
        self.send(Msg::Rebuilt { docs, erased, read })
    }

    fn send(&self, msg: Msg) -> Result<(), Error> {
        let stopped = || Error::Stopped("its queue is closed".into());
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(msg)
            .map_err(|_| stopped())
    }

    /// Held across an insert and its [`feed`](Self::feed).
    pub fn order(&self) -> MutexGuard<'_, ()> {
        self.order.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands the indexer what an insert of `batch` did (`out`, one per record), the store
    /// holding `store_len` records after it: the bodies of the best practices and alerts
    /// stored are taken from `batch` (the indexer builds their documents on its thread),
    /// the others left. Waits if the indexer is [`indexer::QUEUE`] batches behind.
    pub fn feed(&self, batch: &mut [Verified], out: &[Inserted], store_len: u64) {
        let changes: Vec<Change> = batch
            .iter_mut()
            .zip(out)
            .filter(|(_, o)| **o == Inserted::Stored)
            .filter_map(|(v, _)| match v.body.as_ref()? {
                Body::Retraction(r) if r.erase => Some(Change::Erase(r.target)),
                Body::BestPractice(_) | Body::Alert(_) => {
                    Some(Change::Add(Box::new((Meta::of(&v.record), v.body.take()?))))
                }
                _ => None,
            })
            .collect();
        if self.send(Msg::Batch { changes, store_len }).is_err() {
            tracing::error!("the search indexer has stopped: the index is rebuilt at next start");
        }
    }

    /// Commits what the indexer holds and waits until a listing sees it (while the index
    /// is rebuilt, answers at once: listings read bodies).
    pub fn sync(&self) -> Result<(), Error> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Msg::Sync(reply))?;
        rx.recv()
            .map_err(|_| Error::Stopped("no answer".into()))?
            .map_err(Error::Stopped)
    }

    /// The index's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Search {
    /// Stops the indexer once it has committed what it holds.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.indexer.take()
            && t.join().is_err()
        {
            tracing::error!("the search indexer panicked");
        }
    }
}

/// The index in `dir` if it holds one of this schema.
fn open_existing(dir: &Path, fields: &Fields) -> Result<Option<Index>, Error> {
    if !dir.join("meta.json").exists() {
        return Ok(None);
    }
    let index = match Index::open(MmapDirectory::open(dir)?) {
        Ok(i) if i.schema() == fields.schema => i,
        Ok(_) => return Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "the search index could not be opened");
            return Ok(None);
        }
    };
    schema::register_tokenizers(&index);
    Ok(Some(index))
}

/// Best practices and alerts the store holds (with their body or not): what a rebuild
/// reads, from the store's in-memory counts.
fn searchable_held(store: &SledStore) -> u64 {
    [Kind::BestPractice, Kind::Alert]
        .iter()
        .map(|k| store.count(StoreIndex::Kind(*k)))
        .sum()
}

/// The note of `store check` on a node that keeps no index.
pub const OFF: &str = "full-text search is off (store.full_text_index = false): there is no \
                       index to check, and `records list --text` reads every body";

/// Deletes the index in `dir` (the node keeps none: `store.full_text_index = false`);
/// whether there was one.
pub fn remove(dir: &Path) -> Result<bool, Error> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// What is wrong with the index in `dir` against `store` (`tipx store check`): not holding
/// one document per best practice and alert held with its body while its marker says it is
/// in step; missing or stale (its marker is not the store's count) are notes.
pub fn check(dir: &Path, store: &SledStore) -> Result<Findings, Error> {
    let fields = Fields::new();
    let mut found = Findings::default();
    let Some(index) = open_existing(dir, &fields)? else {
        found.notes.push(format!(
            "the search index ({}) is missing: the node rebuilds it at its next start",
            dir.display()
        ));
        return Ok(found);
    };
    let store_len = store.len()?;
    match Marker::of(&index)? {
        Some(m) if m.format != FORMAT => {
            found.notes.push(format!(
                "the search index has the layout of an older build ({}, this build writes \
                 {FORMAT}): the node rebuilds it at its next start",
                m.format
            ));
            return Ok(found);
        }
        Some(m) if m.store_len == store_len => {}
        // Normal after a crash or a restore: the index lags by up to a second of inserts.
        Some(m) => {
            found.notes.push(format!(
                "the search index is stale (it was last in step with {} records, the store \
                 holds {store_len}): the node rebuilds it at its next start",
                m.store_len
            ));
            return Ok(found);
        }
        None => {
            found.notes.push(
                "the search index was never completed: the node rebuilds it at its next start"
                    .into(),
            );
            return Ok(found);
        }
    }
    let indexed = index.reader()?.searcher().num_docs();
    let searchable = searchable(store)?;
    if indexed != searchable {
        found.problems.push(format!(
            "the search index holds {indexed} records, the store {searchable} best practices \
             and alerts with their text"
        ));
    }
    Ok(found)
}

/// What [`check`] found: problems (the index says it is in step with the store and is not)
/// and notes (it is missing or behind, which the node repairs by itself at its next start:
/// normal after a crash or a restore, not damage).
#[derive(Debug, Default)]
pub struct Findings {
    /// What is wrong.
    pub problems: Vec<String>,
    /// What the node repairs by itself.
    pub notes: Vec<String>,
}

/// Best practices and alerts held with their body.
fn searchable(store: &SledStore) -> Result<u64, Error> {
    let mut n = 0;
    let mut failure = None;
    for kind in [Kind::BestPractice, Kind::Alert] {
        store.scan(
            StoreIndex::Kind(kind),
            0,
            u64::MAX,
            &mut |id| match store.get(&id) {
                Ok(r) => {
                    n += u64::from(r.is_some_and(|r| r.body.is_some()));
                    true
                }
                Err(e) => {
                    failure = Some(e);
                    false
                }
            },
        )?;
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(n),
    }
}
