//! Per-peer replication state: the anti-entropy round in progress, the feeds a peer is
//! ahead on, and the fetches in flight — at most [`MAX_FETCHES_PER_PEER`] per peer and one
//! per feed across all peers, so a backlog held by several partners is downloaded once.
//!
//! A feed is fetched page by page, and the next page is asked for while the node is still
//! storing the last ones — up to [`PAGES_AHEAD`] pages wait to be stored — so that the
//! network, checking signatures and writing to disk overlap.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    ops::Bound,
};

use crate::{
    FeedId, PublicKey,
    sync::{Action, FeedHead, MAX_FETCHES_PER_PEER, MAX_HEADS, Request, reconcile::Reconciler},
};

/// Most pages of one feed handed to the node and not yet stored when the next page is
/// asked for: enough to keep checking and storing busy while the next page travels.
pub(super) const PAGES_AHEAD: usize = 2;

/// Most feeds remembered as "this peer is ahead" per peer: a head list holds at most
/// [`MAX_HEADS`]; anything beyond waits for another round, which starts as soon as this one
/// ends.
pub(super) const MAX_WANTS: usize = MAX_HEADS;

/// An anti-entropy round with one peer: open from the digest until every fetch it started
/// has finished.
#[derive(Debug, Clone, Copy)]
pub(super) struct Round {
    /// When it started, ms.
    pub(super) started_ms: u64,
    /// Requests of the round not answered yet: the digest (or heads), then the
    /// reconciliation's next message and `HeadsOf` requests.
    pub(super) awaiting: u32,
    /// Reconciliation messages this node has sent in the round: at most
    /// [`MAX_RECONCILE_MESSAGES`].
    pub(super) messages: u32,
    /// A request of the round failed or was denied: it ends without [`Action::Synced`].
    pub(super) broken: bool,
}

/// Most messages one side sends in one reconciliation (a peer that keeps it going longer
/// is not following the protocol): an exchange among a million feeds takes about 14, and
/// a node that holds nothing learns 30,000 heads a message.
pub(super) const MAX_RECONCILE_MESSAGES: u32 = 256;

/// Whether a peer speaks version 2 (reconciliation), as far as this node has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Version {
    /// Not known yet: the next digest offers a reconciliation beside the digest.
    #[default]
    Unknown,
    /// It answered a digest that offered one with `InSync` or `Heads`: version 1.
    One,
    /// It answered a reconciliation: the digest is left out from now on.
    Two,
}

/// The peer's side of a reconciliation it opened with this node.
#[derive(Debug)]
pub(super) struct Answering {
    /// This node's shared heads when the peer opened it.
    pub(super) reconciler: Reconciler,
    /// Messages answered so far: at most [`MAX_RECONCILE_MESSAGES`].
    pub(super) messages: u32,
}

/// What this node knows of one connected peer.
#[derive(Debug, Default)]
pub(super) struct Session {
    /// The round in progress.
    pub(super) round: Option<Round>,
    /// When the last round started, ms.
    pub(super) last_round_ms: Option<u64>,
    /// Feeds the peer is ahead on: feed → its head there.
    pub(super) wants: BTreeMap<FeedId, FeedHead>,
    /// Feeds being fetched from the peer: feed → the first seq of the page asked for (or
    /// to be asked for once stores catch up).
    pub(super) inflight: BTreeMap<FeedId, u64>,
    /// Run another round as soon as this one ends: this node had no roster, so it fetched
    /// only the roster this time, or the peer is ahead on more feeds than it remembers at
    /// once ([`MAX_WANTS`]).
    pub(super) rerun: bool,
    /// Stores of records from the peer (pages and pushes) handed to the node, not yet
    /// reported by `on_stored`.
    pub(super) storing: u32,
    /// Feeds of pushes among them: the store's head is stale until they are done.
    pub(super) settling: BTreeSet<FeedId>,
    /// Fetched pages being stored, per feed.
    pub(super) pages: BTreeMap<FeedId, Paging>,
    /// The channels the peer said it knows in its last digest (none until then): feeds of
    /// other channels are never mentioned or sent to it.
    pub(super) channels: crate::Channels,
    /// Whether the peer speaks version 2.
    pub(super) version: Version,
    /// This node's side of the reconciliation of the round in progress, while it goes on.
    pub(super) reconciling: Option<Reconciler>,
    /// The reconciliation the peer opened with this node, while it goes on.
    pub(super) answering: Option<Answering>,
}

/// The pages of one feed fetched from one peer that the node is storing.
#[derive(Debug, Default)]
pub(super) struct Paging {
    /// The seq each page leaves the feed at once stored, oldest first.
    ends: VecDeque<u64>,
    /// The first seq of the next page, to ask for once fewer pages wait.
    next: Option<u64>,
}

/// What a stored page means for its feed's fetch.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PageDone {
    /// Nothing to do now.
    Wait,
    /// Ask for the next page, from this seq.
    Fetch(u64),
    /// The page was not stored whole (refused records): the fetch ends here.
    Broken,
}

impl Session {
    /// Notes that the peer holds `head.feed` up to `head.seq`; `false` if there was no
    /// room for it (the node asks again in another round).
    pub(super) fn want(&mut self, head: FeedHead) -> bool {
        if let Some(t) = self.wants.get_mut(&head.feed) {
            t.seq = t.seq.max(head.seq);
        } else if self.wants.len() < MAX_WANTS {
            self.wants.insert(head.feed, head);
        } else {
            return false;
        }
        true
    }

    /// Nothing left to fetch from the peer or to store.
    pub(super) fn idle(&self) -> bool {
        self.wants.is_empty() && self.inflight.is_empty() && self.storing == 0
    }

    /// Whether `feed`'s fetch from this peer expects a page from `from_seq` (and not a
    /// page of a fetch since ended).
    pub(super) fn awaits(&self, feed: &FeedId, from_seq: u64) -> bool {
        self.inflight.get(feed) == Some(&from_seq)
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
    /// The channels `peer` said it knows (none if it has not said, or has no session).
    pub(super) fn channels(&self, peer: &PublicKey) -> crate::Channels {
        self.peers
            .get(peer)
            .map_or_else(Default::default, |s| s.channels)
    }

    /// The session of `peer`, opened if need be.
    pub(super) fn open(&mut self, peer: PublicKey) -> &mut Session {
        self.peers.entry(peer).or_default()
    }

    /// Closes `peer`'s session, releasing its fetches.
    pub(super) fn close(&mut self, peer: &PublicKey) {
        if let Some(s) = self.peers.remove(peer) {
            for feed in s.inflight.keys() {
                self.fetching.remove(feed);
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

    /// A page of `feed` from `from_seq` with `n` records (`n > 0`) came from `peer` and is
    /// handed to the node; `more` if the peer holds more. Returns the seq to fetch the next
    /// page from now, if it is not to wait for stores.
    pub(super) fn page_received(
        &mut self,
        peer: PublicKey,
        feed: FeedId,
        from_seq: u64,
        n: u64,
        more: bool,
    ) -> Option<u64> {
        let s = self.open(peer);
        s.storing += 1;
        let p = s.pages.entry(feed).or_default();
        let end = from_seq + n - 1;
        p.ends.push_back(end);
        if !more {
            self.finish_fetch(&peer, &feed);
            return None;
        }
        s.inflight.insert(feed, end + 1);
        if p.ends.len() <= PAGES_AHEAD {
            Some(end + 1)
        } else {
            p.next = Some(end + 1);
            None
        }
    }

    /// The node reported one store of records from `peer` done: a page of `feed` (after
    /// which the store holds the feed up to `have`), or a push (`None`).
    pub(super) fn stored(&mut self, peer: &PublicKey, page: Option<(FeedId, u64)>) -> PageDone {
        let Some(s) = self.peers.get_mut(peer) else {
            return PageDone::Wait;
        };
        s.storing = s.storing.saturating_sub(1);
        if s.storing == 0 {
            s.settling.clear();
        }
        let Some((feed, have)) = page else {
            return PageDone::Wait;
        };
        let Some(p) = s.pages.get_mut(&feed) else {
            return PageDone::Wait;
        };
        let end = p.ends.pop_front();
        let done = if end.is_some_and(|e| have < e) {
            p.next = None;
            PageDone::Broken
        } else if p.ends.len() <= PAGES_AHEAD
            && let Some(next) = p.next.take()
        {
            PageDone::Fetch(next)
        } else {
            PageDone::Wait
        };
        if p.ends.is_empty() && p.next.is_none() {
            s.pages.remove(&feed);
        }
        if done == PageDone::Broken {
            self.finish_fetch(peer, &feed);
        }
        done
    }

    /// Whether pages of `feed` are being stored, from any peer.
    pub(super) fn is_storing(&self, feed: &FeedId) -> bool {
        self.peers.values().any(|s| s.pages.contains_key(feed))
    }

    /// Forgets stores of `peer` that were never reported, ending the fetches waiting on
    /// them (their round is abandoned).
    pub(super) fn abandon_stores(&mut self, peer: &PublicKey) {
        let Some(s) = self.peers.get_mut(peer) else {
            return;
        };
        s.storing = 0;
        s.settling.clear();
        for feed in std::mem::take(&mut s.pages).into_keys() {
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
    /// feeds no fetch is under way for and not settling (pages or pushes not stored yet, so
    /// the head is stale). Each starts after the seq held (`held_seq`); a want already
    /// covered, or that the node may no longer take from its peer (`may`), is dropped.
    pub(super) fn pump(
        &mut self,
        held_seq: impl Fn(&FeedId) -> u64,
        may: impl Fn(&PublicKey, &FeedHead) -> bool,
        fetch: impl Fn(FeedId, u64) -> Request,
        out: &mut Vec<Action>,
    ) {
        let Self { peers, fetching } = self;
        let settling: BTreeSet<FeedId> = peers
            .values()
            .flat_map(|s| s.settling.iter().chain(s.pages.keys()).copied())
            .collect();
        for (peer, s) in peers.iter_mut() {
            let mut cursor = Bound::Unbounded;
            while s.inflight.len() < MAX_FETCHES_PER_PEER {
                let next = s
                    .wants
                    .range((cursor, Bound::Unbounded))
                    .map(|(f, _)| *f)
                    .find(|f| !fetching.contains_key(f) && !settling.contains(f));
                let Some(feed) = next else { break };
                cursor = Bound::Excluded(feed);
                let Some(want) = s.wants.remove(&feed) else {
                    break;
                };
                let have = held_seq(&feed);
                if have >= want.seq || !may(peer, &want) {
                    continue;
                }
                fetching.insert(feed, *peer);
                s.inflight.insert(feed, have + 1);
                out.push(Action::Send {
                    peer: *peer,
                    request: fetch(feed, have + 1),
                });
            }
        }
    }
}
