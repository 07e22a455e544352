//! Per-peer replication state: the anti-entropy round in progress, the feeds a peer is
//! ahead on, and the fetches in flight — at most [`MAX_FETCHES_PER_PEER`] per peer and one
//! per feed across all peers, so a backlog held by several partners is downloaded once.

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Bound,
};

use crate::{
    FeedId, PublicKey,
    store::Store,
    sync::{Action, MAX_FETCHES_PER_PEER, MAX_HEADS, Request},
};

/// Most feeds remembered as "this peer is ahead" per peer: a round lists at most
/// [`MAX_HEADS`]; anything beyond waits for the next round.
pub(super) const MAX_WANTS: usize = MAX_HEADS;

/// An anti-entropy round with one peer: open from the digest until every fetch it started
/// has finished.
#[derive(Debug, Clone, Copy)]
pub(super) struct Round {
    /// When it started, ms.
    pub(super) started_ms: u64,
    /// The digest (or heads) request has not been answered yet.
    pub(super) awaiting: bool,
    /// A request of the round failed or was denied: it ends without [`Action::Synced`].
    pub(super) broken: bool,
}

/// What this node knows of one connected peer.
#[derive(Debug, Default)]
pub(super) struct Session {
    /// The round in progress.
    pub(super) round: Option<Round>,
    /// When the last round started, ms.
    pub(super) last_round_ms: Option<u64>,
    /// Feeds the peer is ahead on: feed → the seq it holds.
    pub(super) wants: BTreeMap<FeedId, u64>,
    /// Feeds being fetched from the peer.
    pub(super) inflight: BTreeSet<FeedId>,
    /// Run another round as soon as this one ends (this node had no roster, so it fetched
    /// only the roster this time).
    pub(super) rerun: bool,
    /// Records from the peer handed to the node to store, not yet reported by `on_stored`.
    pub(super) storing: u32,
    /// Feeds whose last fetched page is among them: the store's head is stale until then.
    pub(super) settling: BTreeSet<FeedId>,
    /// Feeds with more pages to fetch once the stores are done: feed → the first seq of
    /// the page being stored.
    pub(super) continuing: BTreeMap<FeedId, u64>,
}

impl Session {
    /// Notes that the peer holds `feed` up to `seq`.
    pub(super) fn want(&mut self, feed: FeedId, seq: u64) {
        if let Some(t) = self.wants.get_mut(&feed) {
            *t = (*t).max(seq);
        } else if self.wants.len() < MAX_WANTS {
            self.wants.insert(feed, seq);
        }
    }

    /// Nothing left to fetch from the peer or to store.
    pub(super) fn idle(&self) -> bool {
        self.wants.is_empty() && self.inflight.is_empty() && self.storing == 0
    }
}

/// The sessions of all connected peers and the feeds being fetched.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    pub(super) peers: BTreeMap<PublicKey, Session>,
    /// Feed → the peer it is being fetched from.
    fetching: BTreeMap<FeedId, PublicKey>,
}

impl Sessions {
    /// The session of `peer`, opened if need be.
    pub(super) fn open(&mut self, peer: PublicKey) -> &mut Session {
        self.peers.entry(peer).or_default()
    }

    /// Closes `peer`'s session, releasing its fetches.
    pub(super) fn close(&mut self, peer: &PublicKey) {
        if let Some(s) = self.peers.remove(peer) {
            for feed in s.inflight {
                self.fetching.remove(&feed);
            }
        }
    }

    /// The fetch of `feed` from `peer` is over.
    pub(super) fn finish_fetch(&mut self, peer: &PublicKey, feed: &FeedId) {
        if self.fetching.get(feed) == Some(peer) {
            self.fetching.remove(feed);
        }
        if let Some(s) = self.peers.get_mut(peer) {
            s.inflight.remove(feed);
        }
    }

    /// Records pushed by `peer` were handed to the node to store.
    pub(super) fn hand_off(&mut self, peer: PublicKey) {
        self.open(peer).storing += 1;
    }

    /// The node reported one store of records from `peer` done. Once none is left, returns
    /// the fetches to continue: (feed, first seq of the page just stored).
    pub(super) fn stored(&mut self, peer: &PublicKey) -> Vec<(FeedId, u64)> {
        let Some(s) = self.peers.get_mut(peer) else {
            return Vec::new();
        };
        s.storing = s.storing.saturating_sub(1);
        if s.storing > 0 {
            return Vec::new();
        }
        s.settling.clear();
        std::mem::take(&mut s.continuing).into_iter().collect()
    }

    /// Forgets stores of `peer` that were never reported, ending the fetches waiting on
    /// them (their round is abandoned).
    pub(super) fn abandon_stores(&mut self, peer: &PublicKey) {
        let Some(s) = self.peers.get_mut(peer) else {
            return;
        };
        s.storing = 0;
        s.settling.clear();
        for feed in std::mem::take(&mut s.continuing).into_keys() {
            self.finish_fetch(peer, &feed);
        }
    }

    /// Whether `feed` is being fetched from some peer.
    pub(super) fn is_fetching(&self, feed: &FeedId) -> bool {
        self.fetching.contains_key(feed)
    }

    /// Feeds being fetched, from all peers.
    pub(super) fn fetching(&self) -> usize {
        self.fetching.len()
    }

    /// Starts the fetches that may start: per peer up to [`MAX_FETCHES_PER_PEER`], for
    /// feeds no fetch is under way for and not settling (their last page not stored yet, so
    /// the store's head is stale). Each starts after the head the store holds; a want the
    /// store already covers is dropped.
    pub(super) fn pump<S: Store>(
        &mut self,
        store: &S,
        fetch: impl Fn(FeedId, u64) -> Request,
        out: &mut Vec<Action>,
    ) -> Result<(), S::Error> {
        let Self { peers, fetching } = self;
        let settling: BTreeSet<FeedId> = peers
            .values()
            .flat_map(|s| s.settling.iter().copied())
            .collect();
        for (peer, s) in peers.iter_mut() {
            let mut cursor = Bound::Unbounded;
            while s.inflight.len() < MAX_FETCHES_PER_PEER {
                let next = s
                    .wants
                    .range((cursor, Bound::Unbounded))
                    .map(|(f, t)| (*f, *t))
                    .find(|(f, _)| !fetching.contains_key(f) && !settling.contains(f));
                let Some((feed, target)) = next else { break };
                cursor = Bound::Excluded(feed);
                s.wants.remove(&feed);
                let have = store.head(&feed)?.map_or(0, |h| h.seq);
                if have >= target {
                    continue;
                }
                fetching.insert(feed, *peer);
                s.inflight.insert(feed);
                out.push(Action::Send {
                    peer: *peer,
                    request: fetch(feed, have + 1),
                });
            }
        }
        Ok(())
    }
}
