//! Why a request to the node failed, in words an operator can act on.

use super::space;
use crate::store;

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// No record has this id (or id prefix).
    #[error("no record with id {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The search index failed.
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// The disk holding the store is (nearly) full: nothing was stored.
    #[error(
        "the disk holding the store has {} MiB free, and storing this needs {} MiB more than \
         store.min_free_mib ({} MiB): nothing was stored. Free some space (reads keep working)",
        .free / space::MIB, .needed.div_ceil(space::MIB), .min_free / space::MIB
    )]
    DiskFull {
        /// Bytes free for this user.
        free: u64,
        /// Bytes this write would take, estimated.
        needed: u64,
        /// `store.min_free_mib`, in bytes.
        min_free: u64,
    },
    /// Too many pages from this peer (or from all) are waiting to be stored: this one was
    /// not read. The peer may send it again later.
    #[error("busy: too many records from this peer are waiting to be stored")]
    Busy,
    /// This state's own feeds are held less far than the store once held them, or the store
    /// was restored and has not synced with its partners: publishing now could sign a seq
    /// already signed.
    #[error(
        "publishing is refused: {0}. Signing now could give a seq its partners already hold \
         a second content. The records come back from partners at each sync round \
         (`tipx status` and `tipx store check` show what is still missing); if no partner \
         holds them, `tipx store accept-loss` accepts the store as it is"
    )]
    Incomplete(String),
}
