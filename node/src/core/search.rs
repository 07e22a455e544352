//! The core's side of the full-text index ([`crate::search`]): attaching it, rebuilding
//! it, handing it every insert in the store's order, and checking it with the store.

use tipx_protocol::{
    store::{Inserted, Store as _},
    validate::Verified,
};

use super::{Error, Node};
use crate::store::SledStore;

impl Node {
    /// This node with a full-text index, opened over its store
    /// ([`crate::search::Search::open`]); every insert from now on is handed to it.
    pub fn with_search(mut self, search: crate::search::Search) -> Self {
        self.search = Some(search);
        self
    }

    /// Fills the search index from the store if it was found missing or stale at open
    /// ([`crate::search::Search::rebuild`]); until it is done, listings with a text read
    /// bodies and [`status`](Self::status) shows how far it is. Returns early once `stop()`.
    pub fn rebuild_search(
        &self,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), Error> {
        match &self.search {
            Some(search) => Ok(search.rebuild(&self.store, stop, progress)?),
            None => Ok(()),
        }
    }

    /// Runs `insert` (one insert of `batch` into the store) and hands what it stored and
    /// erased to the search index, in the order of the store's inserts; the bodies of the
    /// best practices and alerts stored go to the index and leave `batch`.
    pub(super) fn insert_indexed(
        &self,
        batch: &mut [Verified],
        insert: impl FnOnce(&SledStore, &[Verified]) -> Result<Vec<Inserted>, crate::store::Error>,
    ) -> Result<Vec<Inserted>, Error> {
        let Some(search) = &self.search else {
            return Ok(insert(&self.store, batch)?);
        };
        let _order = search.order();
        let out = insert(&self.store, batch)?;
        search.feed(batch, &out, self.store.len()?);
        Ok(out)
    }

    /// Re-verifies every stored record, and the search index against the store (`tipx store
    /// check`).
    pub fn check_store(&self) -> Result<tipx_protocol::store::CheckReport, Error> {
        let mut report = self.store.check()?;
        if let Some(search) = &self.search {
            if let crate::search::State::Rebuilding { done, total } = search.state() {
                report.notes.push(format!(
                    "the search index is being rebuilt from the store ({done} of {total} \
                     records): check it again once `tipx status` shows it ready"
                ));
                return Ok(report);
            }
            search.sync()?;
            let found = crate::search::check(search.dir(), &self.store)?;
            report.problems.extend(found.problems);
            report.notes.extend(found.notes);
        } else {
            report.notes.push(crate::search::OFF.to_string());
        }
        Ok(report)
    }
}
