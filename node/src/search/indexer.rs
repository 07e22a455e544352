//! The indexer: one thread owns the index's writer. The core hands it what each insert
//! stored and erased ([`Msg::Batch`]); it adds and deletes documents at once and commits at
//! most every [`COMMIT_EVERY`], so a listing lags the store by about that much while a
//! catch-up's pages are never held up by a commit.
//!
//! An erasure is committed at once, and every segment then holding a deleted document is
//! merged into a new one without it, and the old segment files are deleted: the erased
//! text is then in no file of the index (`tests::erased_word_leaves_no_trace`).

use std::{
    sync::mpsc::{Receiver, RecvTimeoutError, SyncSender},
    time::{Duration, Instant},
};

use tantivy::{IndexReader, IndexWriter, TantivyDocument};
use tipx_protocol::RecordId;

use super::{Error, Fields, Marker};

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
}

/// One change to the index.
pub(super) enum Change {
    /// A best practice or alert stored with its body.
    Add(Box<TantivyDocument>),
    /// A record whose body was erased.
    Erase(RecordId),
}

pub(super) struct Indexer {
    pub(super) writer: IndexWriter,
    pub(super) reader: IndexReader,
    pub(super) fields: Fields,
    /// The store's record count after the last batch applied.
    pub(super) store_len: u64,
    /// Changes not yet committed.
    pending: bool,
    /// An erasure whose segments are still to be rewritten.
    compact: bool,
    last_commit: Instant,
}

impl Indexer {
    pub(super) fn new(
        writer: IndexWriter,
        reader: IndexReader,
        fields: Fields,
        store_len: u64,
    ) -> Self {
        Self {
            writer,
            reader,
            fields,
            store_len,
            pending: false,
            compact: false,
            last_commit: Instant::now(),
        }
    }

    /// Runs until every sender is dropped, then commits what is pending.
    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let wait = if self.pending || self.compact {
                COMMIT_EVERY.saturating_sub(self.last_commit.elapsed())
            } else {
                Duration::from_secs(3600)
            };
            match rx.recv_timeout(wait) {
                Ok(Msg::Batch { changes, store_len }) => self.on_batch(changes, store_len),
                Ok(Msg::Sync(reply)) => {
                    let _ = reply.send(self.commit().map_err(|e| e.to_string()));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let due = self.pending && self.last_commit.elapsed() >= COMMIT_EVERY;
            if (due || self.compact)
                && let Err(e) = self.commit()
            {
                tracing::error!(error = %e, "the search index could not be committed");
            }
        }
        if let Err(e) = self.commit() {
            tracing::error!(error = %e, "the search index could not be committed at shutdown");
        }
    }

    fn on_batch(&mut self, changes: Vec<Change>, store_len: u64) {
        for c in changes {
            match c {
                Change::Add(doc) => {
                    if let Err(e) = self.writer.add_document(*doc) {
                        tracing::error!(error = %e, "a record could not be indexed");
                    }
                }
                Change::Erase(id) => {
                    self.writer.delete_term(self.fields.id_term(&id));
                    self.compact = true;
                }
            }
        }
        self.store_len = store_len;
        self.pending = true;
    }

    /// Commits, with the store's count as the marker, then rewrites the segments an erasure
    /// touched.
    pub(super) fn commit(&mut self) -> Result<(), Error> {
        let mut commit = self.writer.prepare_commit()?;
        commit.set_payload(
            &Marker {
                store_len: self.store_len,
            }
            .encode(),
        );
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
