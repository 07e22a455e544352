//! When tantivy merges the index's segments: as its log merge policy says (eight segments
//! of about one size become one), except while records stream in back to back — a
//! catch-up — when merges wait, up to [`HELD_MAX`] segments, until the indexer has been
//! idle for [`IDLE`]. Merging only makes searches cheaper; during a catch-up of a million
//! records it rewrote every document once more and took its CPU from the catch-up, and the
//! segments it merged were merged again a minute later.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering::Relaxed},
};

use tantivy::{
    index::SegmentMeta,
    indexer::{LogMergePolicy, MergeCandidate, MergePolicy},
};

/// How long the indexer takes no batch before held merges run.
pub(super) const IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Segments that may wait unmerged: past this the log policy merges even while busy, so
/// that a node that never rests still keeps its searches within a few dozen segments.
const HELD_MAX: usize = 48;

/// The log merge policy, held while [`Merges::hold`] is on.
#[derive(Debug, Default)]
pub(super) struct Merges {
    inner: LogMergePolicy,
    held: Arc<AtomicBool>,
}

impl Merges {
    /// The switch that holds merges (shared with the indexer).
    pub(super) fn switch(&self) -> Arc<AtomicBool> {
        self.held.clone()
    }
}

impl MergePolicy for Merges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        if self.held.load(Relaxed) && segments.len() < HELD_MAX {
            return vec![];
        }
        self.inner.compute_merge_candidates(segments)
    }
}
