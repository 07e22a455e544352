//! The audit log: one page (one sled key) per write ([`page`]), read back newest first, and
//! kept to `store.audit_retention_days`: whole pages are deleted oldest first once their
//! newest entry is older than the retention.

pub(super) mod page;

use tipx_protocol::store::AuditEntry;

use super::{
    Error, SledStore,
    keys::{Space, key},
};

impl SledStore {
    /// Appends `entries` as one page.
    pub(super) fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let number = self.db.generate_id()?.to_be_bytes();
        self.tree
            .insert(key(Space::Audit, &[&number]), page::encode(entries))?;
        Ok(())
    }

    /// The newest `limit` entries, oldest first.
    pub(super) fn newest_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for v in self.values(Space::Audit).rev() {
            let mut entries = page::decode(&v?)?;
            while let Some(e) = entries.pop() {
                if out.len() >= limit {
                    break;
                }
                out.push(e);
            }
            if out.len() >= limit {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The audit entries at or after `since_ms`, oldest first: pages are read newest first
    /// until one ends before `since_ms`, so this costs what it returns (plus a page).
    pub fn audit_since(&self, since_ms: u64) -> Result<Vec<AuditEntry>, Error> {
        let mut pages: Vec<Vec<AuditEntry>> = Vec::new();
        for v in self.tree.scan_prefix([Space::Audit as u8]).values().rev() {
            let page = page::decode(&v?)?;
            let newest = page.iter().map(|e| e.at_ms).max().unwrap_or(0);
            if newest < since_ms {
                break;
            }
            pages.push(page);
        }
        let mut out: Vec<AuditEntry> = pages.into_iter().rev().flatten().collect();
        out.retain(|e| e.at_ms >= since_ms);
        Ok(out)
    }

    /// Deletes the audit entries older than `before_ms`, oldest first, a page at a time (a
    /// page holds the entries of one write, so it goes once its newest entry is that old);
    /// returns how many entries went. The audit log is kept for a bounded time:
    /// `store.audit_retention_days`.
    pub fn prune_audit(&self, before_ms: u64) -> Result<usize, Error> {
        let mut gone = sled::Batch::default();
        let mut entries = 0;
        for kv in self.tree.scan_prefix([Space::Audit as u8]) {
            let (k, v) = kv?;
            let page = page::decode(&v)?;
            if page.iter().any(|e| e.at_ms >= before_ms) {
                break;
            }
            entries += page.len();
            gone.remove(k);
        }
        self.tree.apply_batch(gone)?;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use tipx_protocol::store::{AuditEntry, AuditEvent, Store};

    use super::SledStore;

    #[test]
    fn audit_entries_older_than_the_retention_are_pruned_and_newer_ones_kept() {
        let s = SledStore::temporary().unwrap();
        let day = 86_400_000;
        for d in [1u64, 2, 400, 401, 402] {
            let at = d * day;
            s.audit(&[AuditEntry::new(at, AuditEvent::Sent, format!("day {d}"))])
                .unwrap();
        }
        assert_eq!(s.prune_audit(400 * day).unwrap(), 2);
        let left: Vec<u64> = s
            .audit_log(100)
            .unwrap()
            .iter()
            .map(|e| e.at_ms / day)
            .collect();
        assert_eq!(left, [400, 401, 402]);
        assert_eq!(
            s.prune_audit(400 * day).unwrap(),
            0,
            "nothing more to prune"
        );
    }
}
