//! Building the index after open, on a thread of its own, so that a node answers (`tipx
//! status`, its peers) while it reads the index pages: a million records take a second or
//! two. Whatever needs the index — a listing, a lookup by id, an insert — waits until it is
//! built ([`Shared::read`]); the counts on disk ([`super::counts`]) answer how many records
//! there are meanwhile.
//!
//! The index is derived from the pages alone, which are written in the same atomic batch
//! as the records they list: after a crash it is rebuilt from what sled holds, exactly as
//! at any other open.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Instant,
};

use tracing::{error, info, warn};

use super::{Counts, Indexes, decode_page, snapshot};
use crate::store::{Error, keys::Space};

/// Where the building of the index is.
enum State {
    Building,
    Ready,
    /// The pages could not be read; what went wrong.
    Failed(String),
}

/// The index and its state, shared by the store and the thread that builds it.
pub(in crate::store) struct Shared {
    index: RwLock<Indexes>,
    state: Mutex<State>,
    built: Condvar,
    /// Set when the store closes: the building stops.
    stop: AtomicBool,
    /// Records per index, as on disk; `None` while unknown (a store whose counts were not
    /// kept by the build that wrote it, until the index is built).
    counts: Mutex<Option<Counts>>,
}

impl Shared {
    /// The index, once built.
    pub(in crate::store) fn read(&self) -> Result<RwLockReadGuard<'_, Indexes>, Error> {
        self.wait()?;
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The index to add to, once built.
    pub(in crate::store) fn write(&self) -> Result<RwLockWriteGuard<'_, Indexes>, Error> {
        self.wait()?;
        Ok(self.index.write().unwrap_or_else(|p| p.into_inner()))
    }

    /// Waits until the index is built.
    pub(in crate::store) fn wait(&self) -> Result<(), Error> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match &*state {
                State::Ready => return Ok(()),
                State::Failed(e) => {
                    return Err(Error::Corrupt(format!("the store's index: {e}")));
                }
                State::Building => {
                    state = self.built.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    /// The counts, waiting for the index only when they are not known from disk.
    pub(in crate::store) fn counts(&self) -> Result<Counts, Error> {
        if let Some(c) = self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(c);
        }
        self.wait()?;
        Ok(self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default())
    }

    /// The counts if known (to update in an insert).
    pub(in crate::store) fn known_counts(&self) -> Option<Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(in crate::store) fn set_counts(&self, counts: Counts) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = Some(counts);
    }

    /// Whether the index is built (or failed to be).
    #[cfg(test)]
    pub(in crate::store) fn settled(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(|p| p.into_inner()),
            State::Building
        )
    }

    fn finish(&self, state: State) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
        self.built.notify_all();
    }
}

/// The thread building the index; stopped and joined on drop, and the index then written
/// to a file for the next open ([`snapshot`]).
pub(in crate::store) struct Loader {
    pub(in crate::store) shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    tree: sled::Tree,
    dir: PathBuf,
}

impl Loader {
    /// Starts building the index of `tree`, the store in `dir` (at once if it holds no index
    /// page): from the snapshot the last close wrote, or else from the pages.
    pub(in crate::store) fn start(tree: &sled::Tree, dir: &Path) -> Result<Self, Error> {
        let last = last_page(tree)?;
        if last.is_none() {
            let _ = std::fs::remove_file(dir.join(snapshot::FILE));
        }
        let counts = match tree.get(crate::store::keys::key(Space::Meta, &[super::counts::KEY]))? {
            Some(v) => Some(Counts::decode(&v)?).filter(|c| c.page == last),
            None if last.is_none() => Some(Counts::default()),
            None => None,
        };
        let shared = Arc::new(Shared {
            index: RwLock::new(Indexes::default()),
            state: Mutex::new(match last {
                None => State::Ready,
                Some(_) => State::Building,
            }),
            built: Condvar::new(),
            stop: AtomicBool::new(false),
            counts: Mutex::new(counts),
        });
        let gate = gate::held();
        let thread = last
            .map(|last| {
                let (tree, shared, dir) = (tree.clone(), shared.clone(), dir.to_path_buf());
                std::thread::Builder::new()
                    .name("tipx-index".into())
                    .spawn(move || {
                        if let Some(gate) = gate {
                            gate.wait();
                        }
                        build(&tree, &dir, &shared, last)
                    })
            })
            .transpose()
            .map_err(|e| Error::Corrupt(format!("starting the index thread: {e}")))?;
        Ok(Self {
            shared,
            thread,
            tree: tree.clone(),
            dir: dir.to_path_buf(),
        })
    }

    /// Writes the index, if built, for the next open.
    fn save(&self) -> Result<(), String> {
        let state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*state, State::Ready) {
            return Ok(());
        }
        let Some(last) = last_page(&self.tree).map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let index = self.shared.index.read().unwrap_or_else(|p| p.into_inner());
        snapshot::write(&self.dir, &index, last).map_err(|e| e.to_string())
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Err(e) = self.save() {
            warn!(error = %e, "the store's index could not be written for the next start");
        }
    }
}

/// The number of the last index page, if any.
pub(in crate::store) fn last_page(tree: &sled::Tree) -> Result<Option<u64>, Error> {
    tree.scan_prefix([Space::IndexPages as u8])
        .keys()
        .next_back()
        .map(|k| page_number(&k?))
        .transpose()
}

/// The number in an index page's key.
pub(in crate::store) fn page_number(k: &[u8]) -> Result<u64, Error> {
    k.get(1..9)
        .and_then(|n| n.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::Corrupt("index page key".into()))
}

/// Builds the index from the snapshot of the last close, or else from every page up to
/// `last` (inserts wait for the index, so no page comes after it meanwhile).
fn build(tree: &sled::Tree, dir: &Path, shared: &Shared, last: u64) {
    let started = Instant::now();
    let saved = snapshot::take(dir, last).filter(|index| {
        let agrees = shared
            .known_counts()
            .is_none_or(|c| c == index.counts(Some(last)));
        if !agrees {
            warn!("the store's index snapshot disagrees with the counts: the index is built from the store");
        }
        agrees
    });
    let from = if saved.is_some() { "snapshot" } else { "pages" };
    let pages = tree
        .scan_prefix([Space::IndexPages as u8])
        .values()
        .map(|page| {
            if shared.stop.load(Ordering::Relaxed) {
                return Err(Error::Corrupt(
                    "the store closed before its index was built".into(),
                ));
            }
            decode_page(&page?)
        });
    let built = match saved {
        Some(index) => Ok(index),
        None => Indexes::build(pages),
    };
    match built {
        Ok(index) => {
            let records = index.len();
            if shared.known_counts().is_none() {
                shared.set_counts(index.counts(Some(last)));
            }
            *shared.index.write().unwrap_or_else(|p| p.into_inner()) = index;
            info!(
                records,
                ms = started.elapsed().as_millis() as u64,
                from,
                "store index built"
            );
            shared.finish(State::Ready);
        }
        Err(e) => {
            if !shared.stop.load(Ordering::Relaxed) {
                error!(error = %e, "the store's index could not be built");
            }
            shared.finish(State::Failed(e.to_string()));
        }
    }
}

/// A way for tests to hold the building of an index, to look at a store meanwhile.
pub(in crate::store) mod gate {
    use std::sync::{Arc, Condvar, Mutex};

    /// Opened by the test when the building may go on.
    #[derive(Default)]
    pub(in crate::store) struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
    }

    impl Gate {
        pub(super) fn wait(&self) {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            while !*open {
                open = self.opened.wait(open).unwrap_or_else(|p| p.into_inner());
            }
        }

        /// Lets the building go on.
        #[cfg(test)]
        pub(in crate::store) fn open(&self) {
            *self.open.lock().unwrap_or_else(|p| p.into_inner()) = true;
            self.opened.notify_all();
        }
    }

    #[cfg(test)]
    thread_local! {
        static HOLD: std::cell::RefCell<Option<Arc<Gate>>> = const { std::cell::RefCell::new(None) };
    }

    /// Holds the building of the next index opened on this thread until the gate opens.
    #[cfg(test)]
    pub(in crate::store) fn hold() -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        HOLD.with(|h| *h.borrow_mut() = Some(gate.clone()));
        gate
    }

    /// The gate a test set for this open, if any.
    pub(super) fn held() -> Option<Arc<Gate>> {
        #[cfg(test)]
        return HOLD.with(|h| h.borrow_mut().take());
        #[cfg(not(test))]
        None
    }
}
