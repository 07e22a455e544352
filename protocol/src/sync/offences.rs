//! Offences: a peer that keeps sending what it must not (records that fail validation,
//! answers that do not fit the question) is cut off for a while.
//!
//! One offence is often an honest mistake (a clock, a consent not yet seen); a burst of them
//! is a broken or hostile node. [`Offences::record`] counts them per peer in a sliding
//! window and, at [`OFFENCE_LIMIT`] within [`OFFENCE_WINDOW_MS`], answers
//! [`Verdict::Disconnect`] for [`COOL_OFF_MS`].

use std::collections::{BTreeMap, VecDeque};

use crate::PublicKey;

/// Offences within [`OFFENCE_WINDOW_MS`] that get a peer disconnected: a few honest
/// mistakes are tolerated, a stream of bad records is not.
pub const OFFENCE_LIMIT: usize = 5;

/// The window offences are counted in, in ms (one minute: about one sync round).
pub const OFFENCE_WINDOW_MS: u64 = 60_000;

/// How long a disconnected peer is refused, in ms (ten minutes: long enough to stop a
/// flood, short enough that a fixed node comes back without an operator).
pub const COOL_OFF_MS: u64 = 10 * 60_000;

/// What to do with a peer after an offence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep talking; `count` offences are in the window.
    Tolerate {
        /// Offences in the window, this one included.
        count: usize,
    },
    /// Close its connections and refuse it until `until_ms`.
    Disconnect {
        /// When it may connect again, ms since the Unix epoch.
        until_ms: u64,
    },
}

#[derive(Debug, Default)]
struct Record {
    /// Times of the offences in the window (at most [`OFFENCE_LIMIT`]).
    times: VecDeque<u64>,
    /// Refused until then.
    banned_until: Option<u64>,
}

/// Offence counts per peer. Memory is bounded by the peers that offended within the last
/// window or cool-off ([`Offences::prune`] forgets the others).
#[derive(Debug, Default)]
pub struct Offences {
    peers: BTreeMap<PublicKey, Record>,
}

impl Offences {
    /// No offences yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts an offence by `peer` at `now_ms`.
    pub fn record(&mut self, peer: PublicKey, now_ms: u64) -> Verdict {
        let r = self.peers.entry(peer).or_default();
        if let Some(until_ms) = r.banned_until.filter(|u| *u > now_ms) {
            return Verdict::Disconnect { until_ms };
        }
        r.banned_until = None;
        while r
            .times
            .front()
            .is_some_and(|t| t.saturating_add(OFFENCE_WINDOW_MS) <= now_ms)
        {
            r.times.pop_front();
        }
        r.times.push_back(now_ms);
        if r.times.len() >= OFFENCE_LIMIT {
            r.times.clear();
            let until_ms = now_ms.saturating_add(COOL_OFF_MS);
            r.banned_until = Some(until_ms);
            return Verdict::Disconnect { until_ms };
        }
        Verdict::Tolerate {
            count: r.times.len(),
        }
    }

    /// Whether `peer` is cooling off at `now_ms`.
    pub fn is_banned(&self, peer: &PublicKey, now_ms: u64) -> bool {
        self.banned_until(peer, now_ms).is_some()
    }

    /// Until when `peer` is refused, if it is at `now_ms`.
    pub fn banned_until(&self, peer: &PublicKey, now_ms: u64) -> Option<u64> {
        self.peers
            .get(peer)
            .and_then(|r| r.banned_until)
            .filter(|u| *u > now_ms)
    }

    /// Forgets offences older than the window and cool-offs that are over.
    pub fn prune(&mut self, now_ms: u64) {
        self.peers.retain(|_, r| {
            r.times
                .retain(|t| t.saturating_add(OFFENCE_WINDOW_MS) > now_ms);
            if r.banned_until.is_some_and(|u| u <= now_ms) {
                r.banned_until = None;
            }
            !r.times.is_empty() || r.banned_until.is_some()
        });
    }

    /// Peers with offences or a cool-off on record.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer has any on record.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{NOW_MS, key_of};

    #[test]
    fn offences_in_a_burst_disconnect_for_a_while_and_then_expire() {
        let peer = key_of("CO").public();
        let mut o = Offences::new();
        for i in 1..OFFENCE_LIMIT {
            assert_eq!(
                o.record(peer, NOW_MS + i as u64),
                Verdict::Tolerate { count: i }
            );
        }
        let until_ms = NOW_MS + 5 + COOL_OFF_MS;
        assert_eq!(o.record(peer, NOW_MS + 5), Verdict::Disconnect { until_ms });
        assert!(o.is_banned(&peer, until_ms - 1));
        assert!(!o.is_banned(&peer, until_ms));
        o.prune(until_ms);
        assert!(o.is_empty());

        // Spread out beyond the window, offences never add up.
        for i in 0..3 * OFFENCE_LIMIT as u64 {
            let v = o.record(peer, NOW_MS + i * OFFENCE_WINDOW_MS);
            assert_eq!(v, Verdict::Tolerate { count: 1 });
        }
    }
}
