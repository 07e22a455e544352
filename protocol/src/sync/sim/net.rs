//! The wire between simulated nodes: messages in flight, and — in lossy mode — a seeded
//! PRNG that loses, delays and reorders them, as iroh-gossip's `proto/sim.rs` does.
//!
//! Without a seed ([`Loss::NONE`]) every message is delivered in the order it was sent and
//! nothing is drawn from the PRNG, so the existing scenarios read step by step. With one,
//! the same seed always gives the same run.

use std::collections::{BTreeSet, VecDeque};

use crate::sync::{Request, Response};

/// How unreliable the wire is. Each probability is in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::sync) struct Loss {
    /// Chance that a request or a response is lost on the way: the requester's
    /// `on_failure` comes [`Loss::timeout_ms`] later, as the daemon's request-response
    /// times out. A lost response was handled by the responder all the same.
    pub(in crate::sync) drop: f64,
    /// Chance that a message is held back for up to [`Loss::max_delay_ms`] of simulated
    /// time: it arrives after the messages sent after it, after clock ticks.
    pub(in crate::sync) delay: f64,
    /// Longest delay, ms. Less than half of [`Loss::timeout_ms`], so that a delayed
    /// exchange still completes before the requester gives up.
    pub(in crate::sync) max_delay_ms: u64,
    /// Chance that the next message delivered is any one of those ready, not the oldest.
    pub(in crate::sync) reorder: f64,
    /// After how long a lost request fails, ms (the daemon's `REQUEST_TIMEOUT`: 60 s).
    pub(in crate::sync) timeout_ms: u64,
}

impl Loss {
    /// A reliable wire: FIFO, nothing lost or delayed.
    pub(in crate::sync) const NONE: Self = Self {
        drop: 0.0,
        delay: 0.0,
        max_delay_ms: 0,
        reorder: 0.0,
        timeout_ms: 60_000,
    };

    /// A bad network: one message in ten lost, one in four delayed up to 20 s, one in
    /// three delivered out of turn.
    pub(in crate::sync) const BAD: Self = Self {
        drop: 0.1,
        delay: 0.25,
        max_delay_ms: 20_000,
        reorder: 0.3,
        timeout_ms: 60_000,
    };
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, well-mixed PRNG, so that the simulator
/// needs no dependency and a seed means the same run on every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a float in [0, 1).
        p > 0.0 && ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A message in flight. `id` names the request an exchange began with; `conn` the
/// connection it was sent on (`None`: there was none), so that a message sent before a link
/// was cut fails even if the link is up again when it arrives.
#[derive(Debug)]
pub(super) enum Event {
    Request {
        id: u64,
        from: usize,
        to: usize,
        conn: Option<u64>,
        request: Request,
    },
    Response {
        id: u64,
        to: usize,
        from: usize,
        conn: Option<u64>,
        request: Request,
        response: Response,
    },
    /// The request timed out: `at` learns it failed.
    Timeout {
        id: u64,
        at: usize,
        peer: usize,
        request: Request,
    },
}

/// Messages in flight and the requests not yet ended.
#[derive(Debug)]
pub(super) struct Wire {
    pub(super) loss: Loss,
    rng: Option<Rng>,
    /// Deliverable now, oldest first.
    ready: VecDeque<Event>,
    /// Held back: (deliverable at, order sent, the message).
    held: Vec<(u64, u64, Event)>,
    /// Requests sent that have had neither a response nor a failure.
    open: BTreeSet<u64>,
    next_id: u64,
    /// Messages held back so far, to keep those due at the same time in order.
    held_count: u64,
}

impl Wire {
    /// A reliable wire.
    pub(super) fn reliable() -> Self {
        Self {
            loss: Loss::NONE,
            rng: None,
            ready: VecDeque::new(),
            held: Vec::new(),
            open: BTreeSet::new(),
            next_id: 0,
            held_count: 0,
        }
    }

    /// A wire that loses, delays and reorders messages as `loss` says, drawing from a
    /// PRNG seeded with `seed`.
    pub(super) fn lossy(seed: u64, loss: Loss) -> Self {
        assert!(
            2 * loss.max_delay_ms < loss.timeout_ms,
            "a delayed exchange must complete before it times out"
        );
        Self {
            loss,
            rng: Some(Rng::new(seed)),
            ..Self::reliable()
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.as_mut().is_some_and(|r| r.chance(p))
    }

    /// A new request is sent: its id.
    pub(super) fn begin(&mut self) -> u64 {
        self.next_id += 1;
        self.open.insert(self.next_id);
        self.next_id
    }

    /// Request `id` ended (a response or a failure reached the requester): it must end
    /// exactly once.
    pub(super) fn end(&mut self, id: u64) {
        assert!(self.open.remove(&id), "request {id} ended twice");
    }

    /// Requests not yet ended.
    pub(super) fn open(&self) -> usize {
        self.open.len()
    }

    /// Messages in flight, held back or not.
    pub(super) fn in_flight(&self) -> usize {
        self.ready.len() + self.held.len()
    }

    /// Puts `ev` on the wire at `now_ms`; it may be held back.
    pub(super) fn put(&mut self, now_ms: u64, ev: Event) {
        if self.chance(self.loss.delay) {
            let rng = self.rng.as_mut().expect("lossy");
            let due = now_ms + 1 + rng.below(self.loss.max_delay_ms.max(1));
            self.hold(due, ev);
        } else {
            self.ready.push_back(ev);
        }
    }

    /// The request of `id`, lost at `now_ms`, fails once it times out.
    pub(super) fn time_out(&mut self, now_ms: u64, id: u64, at: usize, peer: usize, req: Request) {
        let ev = Event::Timeout {
            id,
            at,
            peer,
            request: req,
        };
        self.hold(now_ms + self.loss.timeout_ms, ev);
    }

    fn hold(&mut self, due: u64, ev: Event) {
        self.held_count += 1;
        self.held.push((due, self.held_count, ev));
    }

    /// Whether a message about to be delivered is lost instead.
    pub(super) fn lost(&mut self) -> bool {
        self.chance(self.loss.drop)
    }

    /// The next message to deliver at `now_ms`, if any: the held ones that are due join
    /// the ready ones (in the order they fell due), then the oldest is taken — or, now
    /// and then, any other.
    pub(super) fn next(&mut self, now_ms: u64) -> Option<Event> {
        if self.held.iter().any(|(due, ..)| *due <= now_ms) {
            self.held.sort_by_key(|(due, order, _)| (*due, *order));
            let n = self.held.partition_point(|(due, ..)| *due <= now_ms);
            self.ready.extend(self.held.drain(..n).map(|(_, _, ev)| ev));
        }
        if self.ready.len() > 1 && self.chance(self.loss.reorder) {
            let rng = self.rng.as_mut().expect("lossy");
            let i = rng.below(self.ready.len() as u64) as usize;
            return self.ready.remove(i);
        }
        self.ready.pop_front()
    }

    /// When the next held message falls due, if any is held.
    pub(super) fn next_due(&self) -> Option<u64> {
        self.held.iter().map(|(due, ..)| *due).min()
    }
}
