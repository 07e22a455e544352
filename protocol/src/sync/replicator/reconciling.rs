//! Version 2 of anti-entropy: the replicator's part in a [`reconcile`] exchange, on both
//! sides.
//!
//! The node that starts a round opens the exchange in its digest
//! ([`Replicator::start_round`](super::Replicator)), answers each message the peer sends
//! back with its next one ([`Request::Reconcile`]) until it has nothing more to say, and
//! fetches what it learned the peer holds newer: a feed of its own shared items at once
//! (it knows the feed's author and audience), any other feed after asking the peer for
//! its head ([`Request::HeadsOf`]) — so that a feed held but not shared with the peer is
//! treated exactly like a feed not held.
//!
//! The other node answers the opening and every later message from a [`Reconciler`] over
//! the heads it shares with the peer when the exchange opened. What it learns of the
//! opener's feeds it leaves to its own rounds. Either side stops an exchange that runs
//! past [`MAX_RECONCILE_MESSAGES`], and a message that breaks the protocol is an offence.

use std::collections::BTreeSet;

use super::Replicator;
use crate::{
    FeedId, PublicKey,
    sync::{
        Action, Context, FeedHead, Handled, MAX_HEADS, Reply, Request, Response, key_state,
        reconcile::{self, Reconciler},
        session::{Answering, MAX_RECONCILE_MESSAGES, MAX_WANTS, Version},
        shared_heads,
    },
};

/// The answer to a reconciliation message that continues no exchange.
const NOT_OPEN: &str = "no reconciliation open";
/// The answer to a reconciliation message that breaks the protocol.
const BAD_RECONCILE: &str = "reconciliation message out of protocol";
/// The answer to an exchange that goes on too long.
const TOO_LONG: &str = "reconciliation too long";

impl Replicator {
    /// `peer` answered this node's digest with `Heads` or `InSync`: if the digest offered a
    /// reconciliation, the peer speaks version 1 only, and later digests offer none.
    pub(super) fn speaks_version_1(&mut self, peer: &PublicKey, request: &Request) {
        if let Request::Digest {
            reconcile: Some(_), ..
        } = request
            && let Some(s) = self.sessions.peers.get_mut(peer)
        {
            s.version = Version::One;
            s.reconciling = None;
        }
    }

    /// The peer's next reconciliation message (the answer to this node's digest or last
    /// message): learns what the peer holds newer, sends the next message, and notes or
    /// asks for the heads of the feeds to fetch.
    pub(super) fn reconciled(
        &mut self,
        peer: PublicKey,
        message: &reconcile::Message,
        cx: &Context<'_>,
        out: &mut Vec<Action>,
    ) {
        let Some(ps) = key_state(cx.membership, &peer) else {
            return self.round_answered(&peer, true);
        };
        let Some(s) = self.sessions.peers.get_mut(&peer) else {
            return;
        };
        s.version = Version::Two;
        let step = s.reconciling.as_mut().map(|r| r.reply(message));
        let Some(Ok(step)) = step else {
            // An answer out of protocol, or to an exchange this node has ended.
            s.reconciling = None;
            self.round_answered(&peer, true);
            return self.offence(peer, cx.now_ms, out);
        };
        let reconciler = s.reconciling.as_ref().expect("replied above");
        let (mut shared, mut other) = (Vec::new(), Vec::new());
        for (feed, seq) in step.they_have_newer {
            // Whether the feed is one of this node's shared items, not whether it holds
            // it: what it does next must not tell a held, unshared feed from one not held.
            match (reconciler.seq_of(&feed), self.held.get(&feed)) {
                (Some(_), Some(f)) => shared.push(FeedHead {
                    seq,
                    ..FeedHead::held(f)
                }),
                _ => other.push(feed),
            }
        }
        let mut requests = Vec::new();
        let round = s.round.as_mut();
        match (step.next, round) {
            (Some(message), Some(r)) if r.messages < MAX_RECONCILE_MESSAGES => {
                r.messages += 1;
                requests.push(Request::Reconcile { message });
            }
            (Some(_), Some(r)) => {
                r.broken = true;
                s.reconciling = None;
            }
            _ => s.reconciling = None,
        }
        for h in shared {
            self.consider(peer, ps, h, cx);
        }
        let s = self.sessions.open(peer);
        let room = MAX_WANTS.saturating_sub(s.wants.len());
        if other.len() > room {
            other.truncate(room);
            s.rerun = true;
        }
        other.sort_unstable();
        for feeds in other.chunks(MAX_HEADS) {
            requests.push(Request::HeadsOf {
                feeds: feeds.to_vec(),
            });
        }
        if let Some(r) = s.round.as_mut() {
            r.awaiting += u32::try_from(requests.len()).unwrap_or(u32::MAX);
        }
        self.round_answered(&peer, false);
        out.extend(
            requests
                .into_iter()
                .map(|request| Action::Send { peer, request }),
        );
    }

    /// A digest from `peer` that opens a reconciliation over `items`, the heads this node
    /// shares with it: the answer, or a refusal and an offence.
    pub(super) fn open_answering(
        &mut self,
        peer: PublicKey,
        items: impl IntoIterator<Item = (FeedId, u64)>,
        opening: &reconcile::Message,
        cx: &Context<'_>,
    ) -> Handled {
        let mut reconciler = Reconciler::new(items);
        let step = reconciler.reply(opening);
        let s = self.sessions.open(peer);
        s.answering = None;
        match step {
            Ok(step) => {
                if step.next.is_some() {
                    s.answering = Some(Answering {
                        reconciler,
                        messages: 1,
                    });
                }
                answer(step.next)
            }
            Err(_) => self.refuse(peer, BAD_RECONCILE, cx),
        }
    }

    /// The next message of the reconciliation `peer` opened.
    pub(super) fn continue_answering(
        &mut self,
        peer: PublicKey,
        message: &reconcile::Message,
        cx: &Context<'_>,
    ) -> Handled {
        let s = self.sessions.open(peer);
        let Some(a) = s.answering.as_mut() else {
            // Its exchange may have ended on this side (a new connection): not an offence.
            return Handled {
                reply: Reply::Respond(Response::denied(NOT_OPEN)),
                actions: Vec::new(),
            };
        };
        a.messages += 1;
        if a.messages > MAX_RECONCILE_MESSAGES {
            s.answering = None;
            return self.refuse(peer, TOO_LONG, cx);
        }
        match a.reconciler.reply(message) {
            Ok(step) => {
                if step.next.is_none() {
                    s.answering = None;
                }
                answer(step.next)
            }
            Err(_) => {
                s.answering = None;
                self.refuse(peer, BAD_RECONCILE, cx)
            }
        }
    }

    /// The heads of `feeds` this node shares with `peer` (of state `ps`): a feed held but
    /// not shared is left out exactly like a feed not held.
    pub(super) fn heads_of(
        &self,
        peer: &PublicKey,
        ps: crate::StateCode,
        feeds: &[FeedId],
        cx: &Context<'_>,
    ) -> Response {
        let m = cx.membership;
        let asked: BTreeSet<&FeedId> = feeds.iter().collect();
        let held = asked.into_iter().filter_map(|f| self.held.get(f));
        let knows = self.sessions.channels(peer);
        let mut heads = shared_heads(m, m.own_state(), ps, held);
        heads.retain(|h| knows.knows(h.channel));
        Response::Heads {
            heads: FeedHead::first_chunk(heads),
        }
    }

    /// Denies `peer`'s request for `reason` and counts an offence.
    fn refuse(&mut self, peer: PublicKey, reason: &str, cx: &Context<'_>) -> Handled {
        let mut actions = Vec::new();
        self.offence(peer, cx.now_ms, &mut actions);
        Handled {
            reply: Reply::Respond(Response::denied(reason)),
            actions,
        }
    }
}

/// The reply that carries `next` (an empty message when the side has nothing to say).
fn answer(next: Option<reconcile::Message>) -> Handled {
    Handled {
        reply: Reply::Respond(Response::Reconcile {
            message: next.unwrap_or_default(),
        }),
        actions: Vec::new(),
    }
}
