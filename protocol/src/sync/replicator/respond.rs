//! The responder side: answers to digests, head lists, fetches, pushes and announces (and,
//! in version 2, to reconciliations: [`super::reconciling`]). Every
//! answer passes [`shares_header`] / [`crate::sync::shared_heads`] for the requester first,
//! and mentions a channel's feeds only to a peer that said it knows the channel.

use std::collections::BTreeMap;

use super::Replicator;
use crate::{
    FeedId, PublicKey, Record, StateCode,
    record::{Audience, Header},
    sync::{
        Context, FeedHead, Handled, MAX_HEADS, MAX_PAGE_BYTES, MAX_RECORDS_PER_MESSAGE, Page,
        Reply, Request, Response, digest, key_state, shares,
    },
};

/// The answer to a request from a peer that is cooling off.
const COOLING_OFF: &str = "cooling off after repeated offences";
/// The answer to a request from a key that is not in the roster.
const NOT_A_MEMBER: &str = "not in the roster";
/// The answer to records pushed by a state that is not a partner.
const NOT_A_PARTNER: &str = "not a partner";
/// The answer to a fetch of a feed not shared with the requester — the same whether this
/// node holds the feed or not, so that the answer reveals nothing.
const NOT_SHARED: &str = "feed not shared with you";

/// A page limit asked for (`0`: the default), capped.
fn limit(asked: u32, default: u32, max: u32) -> usize {
    (if asked == 0 { default } else { asked }).min(max) as usize
}

fn respond(r: Response) -> Handled {
    Handled {
        reply: Reply::Respond(r),
        actions: Vec::new(),
    }
}

impl Replicator {
    /// A request from `peer`: how to answer it, and anything else to do.
    ///
    /// Nothing about a feed the requester does not share with this node is ever in the
    /// answer; a fetch of such a feed (or of a feed not held) is denied.
    pub fn handle_request(
        &mut self,
        peer: PublicKey,
        request: Request,
        cx: &Context<'_>,
    ) -> Handled {
        let m = cx.membership;
        if self.offences.is_banned(&peer, cx.now_ms) {
            return respond(Response::denied(COOLING_OFF));
        }
        let Some(ps) = key_state(m, &peer) else {
            return respond(Response::denied(NOT_A_MEMBER));
        };
        let reply = match request {
            Request::Push { records } => {
                let headers: Vec<Header> = records
                    .iter()
                    .filter_map(|b| Record::decode(b).ok())
                    .map(|r| r.header)
                    .collect();
                let local = m.own_state();
                let partner = ps == local || m.are_partners(ps, local);
                if !partner && headers.iter().any(|h| h.audience != Audience::Federation) {
                    let mut actions = Vec::new();
                    self.offence(peer, cx.now_ms, &mut actions);
                    return Handled {
                        reply: Reply::Respond(Response::denied(NOT_A_PARTNER)),
                        actions,
                    };
                }
                self.sessions.hand_off(peer);
                self.want_gaps(peer, ps, &headers, cx);
                Reply::StoreThenAck { records }
            }
            Request::Announce { heads } => {
                // A partner's announces are taken: from anyone else, what this node
                // fetches, or does not, would tell which feeds it holds.
                let local = m.own_state();
                let partner = ps == local || m.are_partners(ps, local);
                // From anyone else, only the federation feeds of roster members (consents,
                // the roster), which every member holds and may fetch from anyone.
                let federation = (!partner).then(|| m.federation_feeds());
                for h in heads.into_iter().take(MAX_HEADS) {
                    if federation.as_ref().is_none_or(|f| f.contains(&h.feed)) {
                        self.consider(peer, ps, h, cx);
                    }
                }
                Reply::Respond(Response::ack(0, 0))
            }
            Request::Digest {
                digest: theirs,
                feeds,
                channels,
                reconcile,
            } => {
                self.sessions.open(peer).channels = channels;
                let heads = self.shared_heads(m, &peer, ps);
                if let Some(opening) = reconcile {
                    let items = heads.iter().map(|h| (h.feed, h.seq));
                    let mut handled = self.open_answering(peer, items, &opening, cx);
                    self.settle(cx, &mut handled.actions);
                    return handled;
                }
                let ours = digest(heads.iter().map(|h| (h.feed, h.seq)));
                if theirs == Some(ours) && heads.len() == feeds as usize {
                    Reply::Respond(Response::InSync)
                } else {
                    let heads = FeedHead::first_chunk(heads);
                    Reply::Respond(Response::Heads { heads })
                }
            }
            Request::Heads => {
                let heads = FeedHead::first_chunk(self.shared_heads(m, &peer, ps));
                Reply::Respond(Response::Heads { heads })
            }
            Request::Reconcile { message } => {
                let mut handled = self.continue_answering(peer, &message, cx);
                self.settle(cx, &mut handled.actions);
                return handled;
            }
            Request::HeadsOf { feeds } => Reply::Respond(self.heads_of(&peer, ps, &feeds, cx)),
            Request::Fetch {
                feed,
                from_seq,
                max_records,
                max_bytes,
            } => self.serve_fetch(peer, ps, feed, from_seq, max_records, max_bytes, cx),
        };
        let mut actions = Vec::new();
        self.settle(cx, &mut actions);
        Handled { reply, actions }
    }

    /// A page of `feed` for a peer of state `ps`, if this node shares the feed with it.
    #[allow(clippy::too_many_arguments)]
    fn serve_fetch(
        &self,
        peer: PublicKey,
        ps: StateCode,
        feed: FeedId,
        from_seq: u64,
        max_records: u32,
        max_bytes: u32,
        cx: &Context<'_>,
    ) -> Reply {
        let m = cx.membership;
        let Some(held) = self.held.get(&feed) else {
            return Reply::Respond(Response::denied(NOT_SHARED));
        };
        if !shares(m, m.own_state(), ps, held) || !self.sessions.channels(&peer).knows(held.channel)
        {
            return Reply::Respond(Response::denied(NOT_SHARED));
        }
        Reply::Serve(Page {
            feed,
            from_seq: from_seq.max(1),
            max_records: limit(
                max_records,
                self.config.page_records,
                MAX_RECORDS_PER_MESSAGE as u32,
            ),
            max_bytes: limit(max_bytes, self.config.page_bytes, MAX_PAGE_BYTES),
            head_seq: held.head.seq,
        })
    }

    /// A push from `peer` that starts beyond this node's head + 1 cannot be stored: fetch
    /// the gap (and the pushed records) from the pusher instead, once the push is stored.
    fn want_gaps(&mut self, peer: PublicKey, ps: StateCode, headers: &[Header], cx: &Context<'_>) {
        let mut span: BTreeMap<FeedId, (u64, u64, &Header)> = BTreeMap::new();
        for h in headers {
            let (first, last, _) = span.entry(h.feed).or_insert((h.seq, h.seq, h));
            *first = (*first).min(h.seq);
            *last = (*last).max(h.seq);
        }
        for (feed, (first, last, header)) in span {
            self.sessions.open(peer).settling.insert(feed);
            let have = self.held.seq(&feed);
            if first > have + 1 {
                self.consider(peer, ps, FeedHead::of(header, last), cx);
            }
        }
    }
}
