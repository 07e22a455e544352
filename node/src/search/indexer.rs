//! The indexer: one thread owns the index's writer. The core hands it what each insert
//! stored and erased ([`Msg::Batch`]); it adds and deletes documents at once and commits at
//! most every [`COMMIT_EVERY`], so a listing lags the store by about that much while a
//! catch-up's pages are never held up by a commit.
//!
//! An erasure is committed at once, and every segment then holding a deleted document is
//! merged into a new one without it, and the old segment files are deleted: the erased
//! text is then in no file of the index (`tests::erased_word_leaves_no_trace`).
//!
//! While the index is rebuilt from the store, the rebuild's chunks ([`Msg::Rebuilt`]) and
//! the inserts' batches arrive interleaved, and a record may come both ways. A chunk is
//! read under the same lock as an insert and its batch ([`super::Search::order`]), so a
//! record read by the rebuild came in a batch before: a batch's record is remembered and
//! the rebuild's copy dropped (no deletion needed); an erased record is remembered too,
//! and a copy a chunk brought before the erasure is deleted by it. Nothing is committed
//! on the clock until the rebuild is done (listings read bodies meanwhile), then a commit
//! with the marker turns the index ready; an erasure is still committed and compacted at
//! once.
//!
//! Segments are merged as [`super::merges`] says: not while batches come back to back.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
        mpsc::{Receiver, RecvTimeoutError, SyncSender},
    },
    time::{Duration, Instant},
};

use tantivy::{IndexReader, IndexWriter, TantivyDocument, indexer::UserOperation};
use tipx_protocol::{Body, RecordId};

use super::{
    Error, Fields, Marker, Meta, Progress,
    merges::{self, Merges},
};

/// How often at most the indexer commits: the most a listing lags the store (plus the time
/// of a commit), and few enough commits that indexing costs catch-up little.
pub(super) const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Batches waiting for the indexer; beyond this an insert waits (a batch is one insert's
/// records, at most a page or a publish chunk).
pub(super) const QUEUE: usize = 64;

/// What the indexer is told.
pub(super) enum Msg {
    /// What one insert changed, and how many records the store held after it.
    Batch {
        changes: Vec<Change>,
        store_len: u64,
    },
    /// Commit what is pending and answer once a listing sees it.
    Sync(SyncSender<Result<(), String>>),
    /// Records a rebuild read from the store (`read` of them, `docs` those with a body), and
    /// records erased by retractions among them (a replay's, whose targets may be indexed).
    Rebuilt {
        docs: Vec<(RecordId, TantivyDocument)>,
        erased: Vec<RecordId>,
        read: u64,
    },
    /// The rebuild has read the whole store: commit with the marker, and turn ready.
    RebuildDone,
}

/// One change to the index.
pub(super) enum Change {
    /// A best practice or alert stored with its body.
    Add(Box<(Meta, Body)>),
    /// A record whose body was erased.
    Erase(RecordId),
}

/// What the indexer remembers while the index is rebuilt.
#[derive(Default)]
struct Rebuild {
    /// Records a batch added: the rebuild's copy is dropped.
    added: HashSet<RecordId>,
    /// Records a batch erased: the rebuild's copy (read before the erasure) is dropped.
    erased: HashSet<RecordId>,
}

pub(super) struct Indexer {
    writer: IndexWriter,
    reader: IndexReader,
    fields: Fields,
    /// The store's record count after the last batch applied.
    store_len: u64,
    /// Shared with [`super::Search`]: whether a rebuild is under way, and how far.
    progress: Arc<Progress>,
    /// Some while the index is rebuilt.
    rebuild: Option<Rebuild>,
    /// Changes not yet committed.
    pending: bool,
    /// An erasure whose segments are still to be rewritten.
    compact: bool,
    last_commit: Instant,
    /// Whether merges wait ([`Merges`]): on when a batch comes before the last one is
    /// committed, off once none has come for [`merges::IDLE`].
    merges_held: Arc<AtomicBool>,
    last_batch: Instant,
}

impl Indexer {
    pub(super) fn new(
        writer: IndexWriter,
        reader: IndexReader,
        fields: Fields,
        store_len: u64,
        progress: Arc<Progress>,
    ) -> Self {
        let rebuild = progress.rebuilding.load(Relaxed).then(Rebuild::default);
        let merges = Merges::default();
        let merges_held = merges.switch();
        writer.set_merge_policy(Box::new(merges));
        Self {
            writer,
            reader,
            fields,
            store_len,
            progress,
            rebuild,
            pending: false,
            compact: false,
            last_commit: Instant::now(),
            merges_held,
            last_batch: Instant::now(),
        }
    }

    /// Runs until every sender is dropped, then commits what is pending.
    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let held = self.merges_held.load(Relaxed);
            let wait = if self.pending || self.compact {
                COMMIT_EVERY.saturating_sub(self.last_commit.elapsed())
            } else if held {
                merges::IDLE.saturating_sub(self.last_batch.elapsed())
            } else {
                Duration::from_secs(3600)
            };
            match rx.recv_timeout(wait) {
                Ok(Msg::Batch { changes, store_len }) => self.on_batch(changes, store_len),
                Ok(Msg::Sync(reply)) => {
                    let done = match self.rebuild {
                        Some(_) => Ok(()),
                        None => self.commit().map_err(|e| e.to_string()),
                    };
                    let _ = reply.send(done);
                }
                Ok(Msg::Rebuilt { docs, erased, read }) => self.on_rebuilt(docs, erased, read),
                Ok(Msg::RebuildDone) => self.on_rebuild_done(),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let due = self.pending
                && self.rebuild.is_none()
                && self.last_commit.elapsed() >= COMMIT_EVERY;
            if (due || self.compact)
                && let Err(e) = self.commit()
            {
                tracing::error!(error = %e, "the search index could not be committed");
            }
            if held
                && !self.pending
                && self.rebuild.is_none()
                && self.last_batch.elapsed() >= merges::IDLE
            {
                // Idle: a commit (of nothing) is when tantivy looks for merges to run.
                self.merges_held.store(false, Relaxed);
                if let Err(e) = self.commit() {
                    tracing::error!(error = %e, "the search index could not be committed");
                }
            }
        }
        if let Err(e) = self.commit() {
            tracing::error!(error = %e, "the search index could not be committed at shutdown");
        }
    }

    fn on_batch(&mut self, changes: Vec<Change>, store_len: u64) {
        let mut adds = Vec::with_capacity(changes.len());
        for c in changes {
            match c {
                Change::Add(added) => {
                    let (meta, body) = *added;
                    if let Some(r) = &mut self.rebuild {
                        // The rebuild's copy, arriving later, is dropped.
                        r.added.insert(meta.id);
                    }
                    adds.extend(self.fields.document(&meta, &body).map(UserOperation::Add));
                }
                Change::Erase(id) => {
                    self.apply(std::mem::take(&mut adds));
                    self.delete(&[id]);
                    if let Some(r) = &mut self.rebuild {
                        r.erased.insert(id);
                    }
                }
            }
        }
        self.apply(adds);
        self.store_len = store_len;
        if self.pending {
            self.merges_held.store(true, Relaxed);
        }
        self.pending = true;
        self.last_batch = Instant::now();
    }

    fn on_rebuilt(
        &mut self,
        docs: Vec<(RecordId, TantivyDocument)>,
        erased: Vec<RecordId>,
        read: u64,
    ) {
        let Some(r) = &mut self.rebuild else {
            return;
        };
        let ops: Vec<_> = docs
            .into_iter()
            .filter(|(id, _)| !r.added.contains(id) && !r.erased.contains(id))
            .map(|(_, doc)| UserOperation::Add(doc))
            .collect();
        r.erased.extend(&erased);
        self.apply(ops);
        self.delete(&erased);
        self.progress.done.fetch_add(read, Relaxed);
    }

    /// Hands `ops` to tantivy's indexing thread as one group, in order: one hand-over per
    /// batch rather than per record (each woke the thread; a fifth of its time went to
    /// that).
    fn apply(&self, ops: Vec<UserOperation>) {
        if ops.is_empty() {
            return;
        }
        if let Err(e) = self.writer.run(ops) {
            tracing::error!(error = %e, "records could not be indexed");
        }
    }

    /// Deletes the documents of `ids` (after every operation handed over before), and
    /// has the segments holding them rewritten at the next commit.
    fn delete(&mut self, ids: &[RecordId]) {
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.writer.delete_query(self.fields.id_query(ids)) {
            tracing::error!(error = %e, "erased records could not be deleted from the index");
        }
        self.compact = true;
    }

    fn on_rebuild_done(&mut self) {
        let Some(r) = self.rebuild.take() else {
            return;
        };
        match self.commit() {
            Ok(()) => {
                self.progress.rebuilding.store(false, Relaxed);
                tracing::info!(
                    records = self.progress.done.load(Relaxed),
                    "search index rebuilt"
                );
            }
            Err(e) => {
                self.rebuild = Some(r);
                tracing::error!(error = %e, "the rebuilt search index could not be committed: it is rebuilt at next start");
            }
        }
    }

    /// Commits, with the store's count as the marker (none while a rebuild is under way, so
    /// an index left half rebuilt is rebuilt at the next start), then rewrites the segments
    /// an erasure touched.
    pub(super) fn commit(&mut self) -> Result<(), Error> {
        let mut commit = self.writer.prepare_commit()?;
        if self.rebuild.is_none() {
            commit.set_payload(&Marker::new(self.store_len).encode());
        }
        commit.commit()?;
        self.pending = false;
        self.last_commit = Instant::now();
        if self.compact {
            self.compact_deleted()?;
            self.compact = false;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Merges every segment holding deleted documents into one without them, and deletes
    /// the files no commit names any more.
    fn compact_deleted(&mut self) -> Result<(), Error> {
        let segments: Vec<_> = self
            .reader
            .searcher()
            .index()
            .searchable_segment_metas()?
            .into_iter()
            .filter(|m| m.has_deletes())
            .map(|m| m.id())
            .collect();
        if !segments.is_empty() {
            self.writer.merge(&segments).wait()?;
        }
        self.writer.garbage_collect_files().wait()?;
        Ok(())
    }
}
