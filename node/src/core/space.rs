//! The free space a node keeps on its store's disk: a write that would leave less is
//! refused before anything is written (sled stops working after a failed write).

use super::{Error, Node};

pub(super) const MIB: u64 = 1024 * 1024;

/// What a write may take on disk per byte of records: sled's log and the body pack, the
/// index and audit pages, and room for sled to rewrite segments.
const SPACE_PER_RECORD_BYTE: u64 = 4;

/// The free space a node keeps on the disk of its store: writes that would leave less are
/// refused before anything is written, so that the store never meets a full disk (sled
/// stops working after a failed write until it is restarted).
#[derive(Debug, Clone)]
pub struct SpaceGuard {
    /// A directory on the store's disk.
    pub dir: std::path::PathBuf,
    /// Bytes to keep free (`store.min_free_mib`).
    pub min_free: u64,
}

impl Node {
    /// Keeps `guard.min_free` bytes free on the store's disk from now on (once).
    pub fn guard_space(&self, guard: SpaceGuard) {
        let _ = self.space.set(guard);
    }

    /// Refuses a write of about `bytes` of records that would leave less free space than
    /// the guard keeps.
    pub(crate) fn check_space(&self, bytes: u64) -> Result<(), Error> {
        let Some(g) = self.space.get() else {
            return Ok(());
        };
        let Ok(st) = rustix::fs::statvfs(&g.dir) else {
            return Ok(()); // cannot tell: let the store report a real failure
        };
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        let needed = bytes.saturating_mul(SPACE_PER_RECORD_BYTE);
        if free < g.min_free.saturating_add(needed) {
            return Err(Error::DiskFull {
                free,
                needed,
                min_free: g.min_free,
            });
        }
        Ok(())
    }
}
