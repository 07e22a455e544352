//! How a simulated node carries out its replicator's actions ([`At`]), what storing a
//! record changes in its membership view, how a node of version 1 sees a request, and a
//! node's restart.

use super::{Sim, net::Event};
use crate::{
    FeedId, Membership, PublicKey,
    body::Body,
    store::Store,
    sync::{Effects, Replicator, Request, carry_out},
    validate::Verified,
};

/// Node `i` of a simulation, carrying out its replicator's actions.
pub(super) struct At<'a> {
    pub(super) sim: &'a mut Sim,
    pub(super) i: usize,
}

impl Effects for At<'_> {
    fn send(&mut self, peer: PublicKey, mut request: Request) {
        let (from, to) = (self.i, self.sim.idx_of(&peer));
        if let Request::Digest { channels, .. } = &mut request
            && self.sim.nodes[from].predates_channels
        {
            *channels = crate::Channels(0);
        }
        if self.sim.nodes[from].predates_reconcile {
            request = version_1(request);
        }
        let ev = Event::Request {
            id: self.sim.wire.begin(),
            from,
            to,
            conn: self.sim.conn(from, to),
            request,
        };
        self.sim.wire.put(self.sim.now_ms, ev);
    }

    fn store(&mut self, peer: PublicKey, feed: FeedId, records: Vec<Vec<u8>>) {
        let (stored, refused) = self.sim.ingest(self.i, peer, &records);
        let acts = self.sim.call(self.i, |rep, cx| {
            rep.on_received(peer, Some(feed), &stored, &refused, cx)
        });
        carry_out(acts, self);
    }

    fn synced(&mut self, peer: PublicKey) {
        let p = self.sim.nodes[self.sim.idx_of(&peer)].code;
        self.sim.synced.push((self.sim.nodes[self.i].code, p));
    }

    fn disconnect(&mut self, peer: PublicKey, _until_ms: u64) {
        let (i, j) = (self.i, self.sim.idx_of(&peer));
        self.sim.links.remove(&(i.min(j), i.max(j)));
    }
}

/// `request` as a node of version 1 sends or reads it: a digest without the opening of a
/// reconciliation. The other messages of version 2 it can neither send nor read.
pub(super) fn version_1(request: Request) -> Request {
    match request {
        Request::Digest {
            digest,
            feeds,
            channels,
            ..
        } => Request::Digest {
            digest: Some(digest.expect("a digest a node of version 1 can read")),
            feeds,
            channels,
            reconcile: None,
        },
        Request::Reconcile { .. } | Request::HeadsOf { .. } => {
            panic!("a node of version 1 was sent {request:?}")
        }
        other => other,
    }
}

impl Sim {
    /// Restarts node `code`'s replicator from what its store holds, as a node does at
    /// start (its links stay up; call before connecting).
    pub(in crate::sync) fn restart(&mut self, code: &str) {
        let i = self.idx(code);
        let n = &mut self.nodes[i];
        n.rep = Replicator::new(n.config, n.store.feeds().expect("memory"));
    }
}

/// What storing `v` changes in the membership view, as the node does.
pub(super) fn learn(m: &mut Membership, v: &Verified) {
    match &v.body {
        Some(Body::Consent(c)) => {
            let at = crate::membership::ConsentState {
                action: c.action,
                at_ms: v.record.header.created_at_ms,
            };
            m.apply_consent(v.record.header.author_state, c.partner, at);
        }
        Some(Body::Roster(r)) => {
            m.apply_roster(r.clone());
        }
        _ => {}
    }
}
