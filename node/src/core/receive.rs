//! Receiving records from peers: check a page on every core (one signature batch per
//! core), store what passes in one atomic insert, flush. [`Node::receive`] does it in one
//! call; an [`Intake`] runs it as a two-stage pipeline on its own threads — the next page
//! is checked while the last one is written — storing pages in the order they came.

use std::sync::{
    Arc,
    atomic::Ordering::{Relaxed, SeqCst},
    mpsc,
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

/// A page checked against the membership of `generation`.
struct Checked {
    generation: u64,
    /// Per record: verified, or why not.
    results: Vec<Result<Verified, Rejection>>,
}

impl Node {
    /// Validates and stores records received from a peer (a push or a page of a feed), in
    /// one atomic write and one flush.
    pub fn receive(&self, records: &[Vec<u8>], from: PublicKey) -> Result<Received, Error> {
        let checked = self.check(records, from);
        self.commit(checked, records, from)
    }

    /// Checks every rule but feed continuity, on every core.
    fn check(&self, records: &[Vec<u8>], from: PublicKey) -> Checked {
        let m = self.membership.read().expect("not poisoned");
        let generation = self.generation.load(SeqCst);
        let cx = Context {
            local_state: self.state,
            now_ms: now_ms(),
            max_record_bytes: self.max_record_bytes,
            membership: &m,
        };
        let results = on_all_cores(records, |run| validate_page(run, Origin::Peer(from), &cx));
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
                Ok(v) => {
                    verified.push(v);
                    slots.push(i);
                    outcomes.push(Ok(Inserted::Duplicate)); // set below
                }
                Err(r) => outcomes.push(Err(r)),
            }
        }
        let mut stored = Vec::new();
        if !verified.is_empty() {
            let out = self
                .store
                .insert(&verified, &Source::Peer(from.peer_id()), now)?;
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

/// The receiving pipeline: one thread checks pages (on every core), another stores them,
/// in the order they were submitted. Once every clone is dropped, both threads finish what
/// they hold and stop.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Job>,
}

impl Intake {
    /// Starts the two threads.
    pub fn start(node: Arc<Node>) -> std::io::Result<Self> {
        let (tx, jobs) = mpsc::channel::<Job>();
        // One page checked ahead of the one being written.
        let (checked_tx, checked) = mpsc::sync_channel::<(Checked, Job)>(1);
        let checker = node.clone();
        std::thread::Builder::new()
            .name("tipx-check".into())
            .spawn(move || {
                for job in jobs {
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
        Ok(Self { tx })
    }

    /// Queues records from `from` to check and store after those queued before; `done`
    /// runs on the storing thread when they are stored (and flushed).
    pub fn submit(&self, from: PublicKey, records: Vec<Vec<u8>>, done: OnReceived) {
        if let Err(mpsc::SendError(job)) = self.tx.send(Job {
            from,
            records,
            done,
        }) {
            (job.done)(Err(Error::Invalid("the node is shutting down".into())));
        }
    }
}

#[cfg(test)]
mod tests;
