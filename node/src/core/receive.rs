//! Receiving records from peers: drop the copies of records already held (before any
//! signature work), check the rest of a page on every core (one signature batch per core),
//! store what passes in one atomic insert, flush. [`Node::receive`] does it in one call; an
//! [`Intake`] runs it as a two-stage pipeline on its own threads — the next page is checked
//! while the last one is written.
//!
//! The intake is bounded and fair: each peer has its own queues of at most
//! [`MAX_QUEUED_PER_PEER`] pages (and all together at most [`MAX_QUEUED`]); a page beyond
//! that is answered [`Error::Busy`] at once, without being read. Pages this node fetched
//! go before pushes (a push is only a shortcut: anti-entropy fetches whatever it missed),
//! and within each kind the peers are served in turn, one page each, so a member that
//! pushes as fast as its connection allows takes the checking thread only while no fetched
//! page waits. Pages of one kind from one peer are stored in the order they came.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Condvar, Mutex,
        atomic::Ordering::{Relaxed, SeqCst},
        mpsc,
    },
};

use tipx_protocol::{
    Origin, PublicKey, Record,
    store::{AuditEntry, AuditEvent, Inserted, Source, Store as _},
    validate::{Context, Rejection, Verified, validate_page},
};

use super::{Error, Node, now_ms, parallel::on_all_cores};

/// What became of a page of received records.
#[derive(Debug)]
pub struct Received {
    /// One outcome per record, in order.
    pub outcomes: Vec<Result<Inserted, Rejection>>,
    /// The records newly stored, in order.
    pub stored: Vec<Record>,
}

/// Pages waiting per peer, at most: the fetches a peer may answer at once
/// ([`tipx_protocol::sync::MAX_FETCHES_PER_PEER`]) and as many pushes.
pub const MAX_QUEUED_PER_PEER: usize = 2 * tipx_protocol::sync::MAX_FETCHES_PER_PEER;

/// Pages waiting from all peers together, at most (each up to 4 MiB).
pub const MAX_QUEUED: usize = 64;

/// A page checked against the membership of `generation`.
struct Checked {
    generation: u64,
    /// Per record: `None` if already held (a copy, dropped unchecked), else verified or
    /// why not.
    results: Vec<Option<Result<Verified, Rejection>>>,
}

impl Node {
    /// Counts what this node takes from peers against these daily quotas per author
    /// (`exchange.daily_records_per_author`, `exchange.daily_mib_per_author`) from now on.
    pub fn limit_per_author(&self, limits: tipx_protocol::quota::Limits) {
        let mut q = self.quotas.lock().unwrap_or_else(|p| p.into_inner());
        *q = tipx_protocol::quota::Quotas::new(limits);
    }

    /// Validates and stores records received from a peer (a push or a page of a feed), in
    /// one atomic write and one flush.
    pub fn receive(&self, records: &[Vec<u8>], from: PublicKey) -> Result<Received, Error> {
        let checked = self.check(records, from);
        self.commit(checked, records, from)
    }

    /// Counts a stored page's refusals by reason, and the time storing it took, for the
    /// metrics.
    fn count(&self, received: &Received, started: std::time::Instant) {
        for outcome in &received.outcomes {
            if let Err(why) | Ok(Inserted::Refused(why)) = outcome {
                self.counters
                    .rejected
                    .get_or_create(&super::Reason {
                        reason: why.code().to_string(),
                    })
                    .inc();
            }
        }
        self.counters
            .page_store_seconds
            .observe(started.elapsed().as_secs_f64());
    }

    /// Checks every rule but feed continuity, on every core, for the records not held
    /// already: a copy of a record held costs a decode and a hash, never a signature check.
    fn check(&self, records: &[Vec<u8>], from: PublicKey) -> Checked {
        let m = self.membership.read().expect("not poisoned");
        let generation = self.generation.load(SeqCst);
        let cx = Context {
            local_state: self.state,
            now_ms: now_ms(),
            max_record_bytes: self.max_record_bytes,
            membership: &m,
        };
        let held: Vec<bool> = records
            .iter()
            .map(|b| Record::id_of(b).is_some_and(|id| self.store.contains(&id)))
            .collect();
        let check =
            |run: &[Vec<u8>]| on_all_cores(run, |run| validate_page(run, Origin::Peer(from), &cx));
        let results = if !held.contains(&true) {
            check(records).into_iter().map(Some).collect()
        } else {
            let fresh: Vec<Vec<u8>> = records
                .iter()
                .zip(&held)
                .filter(|(_, h)| !**h)
                .map(|(b, _)| b.clone())
                .collect();
            let mut checked = check(&fresh).into_iter();
            held.iter()
                .map(|h| if *h { None } else { checked.next() })
                .collect()
        };
        Checked {
            generation,
            results,
        }
    }

    /// Stores what passed `checked` (checked again first if the roster or a consent
    /// changed since), flushes, and logs what was refused.
    fn commit(
        &self,
        checked: Checked,
        records: &[Vec<u8>],
        from: PublicKey,
    ) -> Result<Received, Error> {
        let started = std::time::Instant::now();
        let received = self.commit_counted(checked, records, from)?;
        self.count(&received, started);
        Ok(received)
    }

    fn commit_counted(
        &self,
        checked: Checked,
        records: &[Vec<u8>],
        from: PublicKey,
    ) -> Result<Received, Error> {
        self.check_space(records.iter().map(|r| r.len() as u64).sum())?;
        let checked = if checked.generation == self.generation.load(SeqCst) {
            checked
        } else {
            self.check(records, from)
        };
        let now = now_ms();
        let mut outcomes: Vec<Result<Inserted, Rejection>> = Vec::with_capacity(records.len());
        let mut verified = Vec::with_capacity(records.len());
        let mut slots = Vec::with_capacity(records.len());
        for (i, result) in checked.results.into_iter().enumerate() {
            match result {
                None => {
                    self.received_duplicate.fetch_add(1, Relaxed);
                    outcomes.push(Ok(Inserted::Duplicate));
                }
                Some(Ok(v)) => {
                    verified.push(v);
                    slots.push(i);
                    outcomes.push(Ok(Inserted::Duplicate)); // set below
                }
                Some(Err(r)) => outcomes.push(Err(r)),
            }
        }
        let mut stored = Vec::with_capacity(verified.len());
        if !verified.is_empty() {
            let out = self.insert_indexed(&mut verified, |s, verified| {
                s.insert_counted(
                    verified,
                    &Source::Peer(from.peer_id()),
                    now,
                    &mut self.quotas.lock().unwrap_or_else(|p| p.into_inner()),
                )
            })?;
            self.store.flush()?;
            let mut membership_changed = false;
            for ((slot, v), o) in slots.into_iter().zip(verified).zip(out) {
                match &o {
                    Inserted::Stored => {
                        membership_changed |= self.learn(&v);
                        self.received_new.fetch_add(1, Relaxed);
                        stored.push(v.record);
                    }
                    Inserted::Duplicate => {
                        self.received_duplicate.fetch_add(1, Relaxed);
                    }
                    Inserted::Refused(_) => {}
                }
                outcomes[slot] = match o {
                    Inserted::Refused(r) => Err(r),
                    other => Ok(other),
                };
            }
            if membership_changed {
                self.emit(super::Event::MembershipChanged);
            }
        }
        for o in &outcomes {
            if let Err(Rejection::FromTheFuture { ahead_ms }) = o {
                self.from_the_future.fetch_add(1, Relaxed);
                self.farthest_ahead_ms.fetch_max(*ahead_ms, Relaxed);
            }
        }
        let rejected: Vec<AuditEntry> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .map(|r| AuditEntry {
                peer: Some(from.peer_id()),
                code: Some(r.code().to_string()),
                ..AuditEntry::new(now, AuditEvent::Rejected, r.to_string())
            })
            .collect();
        if !rejected.is_empty() {
            self.store.audit(&rejected)?;
        }
        Ok(Received { outcomes, stored })
    }
}

/// What to do once a submitted page is stored (or the store failed).
pub type OnReceived = Box<dyn FnOnce(Result<Received, Error>) + Send>;

struct Job {
    from: PublicKey,
    records: Vec<Vec<u8>>,
    done: OnReceived,
}

/// What a page is: one this node asked for, or one a peer pushed unasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A page of a feed this node fetched: bounded by the fetches it sends.
    Fetched,
    /// Records a peer pushed unasked: a shortcut only, as anti-entropy fetches whatever a
    /// push does not bring.
    Pushed,
}

/// Pages waiting, one queue per peer and kind, served in turn: fetched pages first, pushes
/// when no fetched page waits.
#[derive(Default)]
struct Queues {
    by_peer: HashMap<(PublicKey, Kind), VecDeque<Job>>,
    /// Peers with fetched pages waiting, in the order they are served next.
    fetched: VecDeque<PublicKey>,
    /// Peers with pushes waiting, in the order they are served next.
    pushed: VecDeque<PublicKey>,
    /// Pages waiting per peer, both kinds.
    per_peer: HashMap<PublicKey, usize>,
    len: usize,
    /// No more pages will come.
    closed: bool,
}

impl Queues {
    /// Whether a page from `peer` must wait for room: its queues, or all, are full.
    fn full(&self, peer: &PublicKey) -> bool {
        self.per_peer.get(peer).copied().unwrap_or(0) >= MAX_QUEUED_PER_PEER
            || self.len >= MAX_QUEUED
    }

    fn push(&mut self, kind: Kind, job: Job) {
        let peer = job.from;
        let queue = self.by_peer.entry((peer, kind)).or_default();
        if queue.is_empty() {
            match kind {
                Kind::Fetched => self.fetched.push_back(peer),
                Kind::Pushed => self.pushed.push_back(peer),
            }
        }
        queue.push_back(job);
        *self.per_peer.entry(peer).or_default() += 1;
        self.len += 1;
    }

    /// The next page: the oldest fetched page of the peer whose turn it is, else the
    /// oldest push of the peer whose turn it is.
    fn pop(&mut self) -> Option<Job> {
        let (kind, turn) = if self.fetched.is_empty() {
            (Kind::Pushed, &mut self.pushed)
        } else {
            (Kind::Fetched, &mut self.fetched)
        };
        let peer = turn.pop_front()?;
        let queue = self.by_peer.get_mut(&(peer, kind))?;
        let job = queue.pop_front();
        if queue.is_empty() {
            self.by_peer.remove(&(peer, kind));
        } else {
            turn.push_back(peer);
        }
        match self.per_peer.get_mut(&peer) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                self.per_peer.remove(&peer);
            }
        }
        self.len -= 1;
        job
    }
}

#[derive(Default)]
struct Waiting {
    queues: Mutex<Queues>,
    ready: Condvar,
}

/// Closes the queues when the last [`Intake`] clone is dropped.
struct Closer(Arc<Waiting>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0
            .queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed = true;
        self.0.ready.notify_all();
    }
}

/// The receiving pipeline: one thread checks pages (on every core), another stores them.
/// Once every clone is dropped, both threads finish what they hold and stop.
#[derive(Clone)]
pub struct Intake {
    waiting: Arc<Closer>,
}

impl Intake {
    /// Starts the two threads.
    pub fn start(node: Arc<Node>) -> std::io::Result<Self> {
        let waiting = Arc::new(Waiting::default());
        // One page checked ahead of the one being written.
        let (checked_tx, checked) = mpsc::sync_channel::<(Checked, Job)>(1);
        let checker = node.clone();
        let jobs = waiting.clone();
        std::thread::Builder::new()
            .name("tipx-check".into())
            .spawn(move || {
                while let Some(job) = next(&jobs) {
                    let c = checker.check(&job.records, job.from);
                    if checked_tx.send((c, job)).is_err() {
                        break;
                    }
                }
            })?;
        std::thread::Builder::new()
            .name("tipx-store".into())
            .spawn(move || {
                for (c, job) in checked {
                    let result = node.commit(c, &job.records, job.from);
                    (job.done)(result);
                }
            })?;
        Ok(Self {
            waiting: Arc::new(Closer(waiting)),
        })
    }

    /// Whether a page from `from` would be refused as busy now.
    pub fn is_full(&self, from: &PublicKey) -> bool {
        let q = self
            .waiting
            .0
            .queues
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        q.full(from)
    }

    /// Queues records from `from` to check and store after those `from` queued before;
    /// `done` runs on the storing thread when they are stored (and flushed). Refused at
    /// once with [`Error::Busy`] if `from` (or everyone) has too many pages waiting, or if
    /// the node is shutting down: then `done` comes back uncalled, for the caller to run
    /// where it may block (an async task must not wait on what `done` does).
    pub fn submit(
        &self,
        from: PublicKey,
        kind: Kind,
        records: Vec<Vec<u8>>,
        done: OnReceived,
    ) -> Result<(), (Error, OnReceived)> {
        let job = Job {
            from,
            records,
            done,
        };
        let waiting = &self.waiting.0;
        let refused = {
            let mut q = waiting.queues.lock().unwrap_or_else(|p| p.into_inner());
            if q.closed {
                Some((Error::Invalid("the node is shutting down".into()), job.done))
            } else if q.full(&from) {
                Some((Error::Busy, job.done))
            } else {
                q.push(kind, job);
                None
            }
        };
        match refused {
            Some(e) => Err(e),
            None => {
                waiting.ready.notify_one();
                Ok(())
            }
        }
    }
}

/// The next page to check, waiting for one; `None` once closed and drained.
fn next(waiting: &Waiting) -> Option<Job> {
    let mut q = waiting.queues.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some(job) = q.pop() {
            return Some(job);
        }
        if q.closed {
            return None;
        }
        q = waiting.ready.wait(q).unwrap_or_else(|p| p.into_inner());
    }
}

#[cfg(test)]
mod tests;
