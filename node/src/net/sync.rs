//! Carrying out `tipx_protocol::sync`: the [`Replicator`] decides, this module does. Every
//! call into the replicator reads the store, so it runs on a blocking thread; what it
//! returns comes back to the event loop as [`Done`], and the loop sends requests and
//! responses (only it owns the swarm).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use libp2p::{
    PeerId,
    request_response::{OutboundRequestId, ResponseChannel},
};
use tipx_protocol::{
    FeedId, PublicKey, Store as _,
    store::{AuditEntry, AuditEvent},
    sync::{Action, Context, Replicator, Reply, Request, Response, Verdict},
};
use tokio::sync::mpsc;

use super::{
    Stored,
    behaviour::{peer_id, public_key},
    event_loop::EventLoop,
};
use crate::node::{Intake, Node, Received, now_ms};

/// Replication state shared between the loop and its blocking tasks.
pub(super) struct State {
    replicator: Arc<Mutex<Replicator>>,
    outbound: HashMap<OutboundRequestId, (PublicKey, Request)>,
    bans: HashMap<PeerId, u64>,
    intake: Intake,
}

impl State {
    pub(super) fn new(
        config: tipx_protocol::sync::Config,
        node: Arc<Node>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            replicator: Arc::new(Mutex::new(Replicator::new(config))),
            outbound: HashMap::new(),
            bans: HashMap::new(),
            intake: Intake::start(node)?,
        })
    }
}

/// Where received records go, and where what became of them is reported: the intake,
/// then the replicator and the loop.
#[derive(Clone)]
struct Sink {
    node: Arc<Node>,
    replicator: Arc<Mutex<Replicator>>,
    tx: mpsc::Sender<Done>,
    intake: Intake,
}

impl Sink {
    /// Hands records from `peer` (a page of `page`, or a push) to the intake; once they
    /// are stored, tells the replicator, counts offences, and answers a push on `ack`.
    fn receive(
        &self,
        peer: PublicKey,
        page: Option<FeedId>,
        records: Vec<Vec<u8>>,
        ack: Option<(ResponseChannel<Vec<u8>>, PeerId)>,
    ) {
        let sink = self.clone();
        let total = records.len() as u32;
        self.intake.submit(
            peer,
            records,
            Box::new(move |result| {
                let mut out = vec![];
                let (stored, refused, actions) = {
                    let mut rep = sink.replicator.lock().unwrap_or_else(|p| p.into_inner());
                    after_store(&sink.node, &mut rep, peer, page, total, result, &mut out)
                };
                out.push(match ack {
                    Some((channel, pid)) => Done::Reply {
                        channel,
                        peer: pid,
                        response: Response::Ack { stored, refused },
                        actions,
                    },
                    None => Done::Actions(actions),
                });
                for d in out {
                    if sink.tx.blocking_send(d).is_err() {
                        break;
                    }
                }
            }),
        );
    }
}

/// Results of blocking work, for the loop to carry out.
pub(crate) enum Done {
    /// Actions to carry out.
    Actions(Vec<Action>),
    /// An answer to send, then actions.
    Reply {
        channel: ResponseChannel<Vec<u8>>,
        peer: PeerId,
        response: Response,
        actions: Vec<Action>,
    },
    /// Traffic counters of a peer.
    Counted {
        peer: PeerId,
        received: u64,
        rejected: u64,
    },
}

type Job = Box<dyn FnOnce(&Node, &mut Replicator, &mut Vec<Done>) + Send>;

impl EventLoop {
    fn sink(&self) -> Sink {
        Sink {
            node: self.node.clone(),
            replicator: self.sync_state.replicator.clone(),
            tx: self.done_tx.clone(),
            intake: self.sync_state.intake.clone(),
        }
    }

    /// Runs `job` on a blocking thread with the node and the replicator; sends what it
    /// produced back to the loop.
    fn blocking(&self, job: Job) {
        let node = self.node.clone();
        let rep = self.sync_state.replicator.clone();
        let tx = self.done_tx.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = vec![];
            {
                let mut rep = rep.lock().unwrap_or_else(|p| p.into_inner());
                job(&node, &mut rep, &mut out);
            }
            for d in out {
                if tx.blocking_send(d).is_err() {
                    break;
                }
            }
        });
    }

    pub(super) fn start_sync(&mut self, peer: PeerId) {
        let Some(key) = public_key(&peer) else { return };
        self.blocking(Box::new(move |node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            match rep.on_connected(key, &cx) {
                Ok(a) => out.push(Done::Actions(a)),
                Err(e) => tracing::error!(error = %e, "store failed during sync"),
            }
        }));
    }

    pub(super) fn tick_sync(&mut self) {
        let now = now_ms();
        let expired: Vec<PeerId> = self
            .sync_state
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.sync_state.bans.remove(&p);
            self.swarm.behaviour_mut().bans.unblock_peer(p);
            tracing::info!(peer = %p, "cooling-off period over");
        }
        self.blocking(Box::new(|node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            match rep.on_tick(&cx) {
                Ok(a) => out.push(Done::Actions(a)),
                Err(e) => tracing::error!(error = %e, "store failed during sync"),
            }
        }));
    }

    pub(super) fn on_disconnected_sync(&mut self, peer: PeerId) {
        let Some(key) = public_key(&peer) else { return };
        self.blocking(Box::new(move |node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            if let Ok(a) = rep.on_disconnected(key, &cx) {
                out.push(Done::Actions(a));
            }
        }));
    }

    pub(super) fn on_stored(&mut self, s: Stored) {
        match s {
            Stored::Published(ids) => self.blocking(Box::new(move |node, rep, out| {
                let records: Vec<_> = ids
                    .iter()
                    .filter_map(|id| node.store.get(id).ok().flatten())
                    .collect();
                let m = node.membership();
                let cx = context(node, &m);
                out.push(Done::Actions(rep.on_published(&records, &cx)));
            })),
            Stored::MembershipChanged => {
                self.refresh_membership();
                self.tick_sync();
            }
        }
    }

    pub(super) fn on_request(
        &mut self,
        peer: PeerId,
        bytes: Vec<u8>,
        channel: ResponseChannel<Vec<u8>>,
    ) {
        let Some(key) = public_key(&peer) else { return };
        let request = match Request::decode(&bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(peer = %peer, reason = %e, "malformed sync request");
                let denied = Response::Denied {
                    reason: format!("malformed request: {e}"),
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, denied.encode());
                self.blocking(Box::new(move |node, rep, out| {
                    offence(node, rep, key, &e.to_string(), out)
                }));
                return;
            }
        };
        let sink = self.sink();
        self.blocking(Box::new(move |node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            let handled = match rep.handle_request(key, request, &cx) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "store failed answering a sync request");
                    out.push(Done::Reply {
                        channel,
                        peer,
                        response: Response::Denied {
                            reason: "internal error".into(),
                        },
                        actions: vec![],
                    });
                    return;
                }
            };
            let actions = handled.actions;
            let response = match handled.reply {
                Reply::Respond(r) => r,
                Reply::StoreThenAck { records } => {
                    out.push(Done::Actions(actions));
                    sink.receive(key, None, records, Some((channel, peer)));
                    return;
                }
            };
            if let Response::Records { records, .. } = &response {
                audit_sent(node, key, records);
            }
            out.push(Done::Reply {
                channel,
                peer,
                response,
                actions,
            });
        }));
    }

    pub(super) fn on_response(&mut self, peer: PeerId, id: OutboundRequestId, bytes: Vec<u8>) {
        let Some((key, request)) = self.sync_state.outbound.remove(&id) else {
            return;
        };
        let response = Response::decode(&bytes);
        self.blocking(Box::new(move |node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            let result = match response {
                Ok(r) => rep.on_response(key, &request, r, &cx),
                Err(e) => {
                    tracing::warn!(peer = %peer, reason = %e, "malformed sync response");
                    offence(node, rep, key, &e.to_string(), out);
                    rep.on_failure(key, &request, &cx)
                }
            };
            match result {
                Ok(a) => out.push(Done::Actions(a)),
                Err(e) => tracing::error!(error = %e, "store failed during sync"),
            }
        }));
    }

    pub(super) fn on_failure(&mut self, _peer: PeerId, id: OutboundRequestId) {
        let Some((key, request)) = self.sync_state.outbound.remove(&id) else {
            return;
        };
        self.blocking(Box::new(move |node, rep, out| {
            let m = node.membership();
            let cx = context(node, &m);
            if let Ok(a) = rep.on_failure(key, &request, &cx) {
                out.push(Done::Actions(a));
            }
        }));
    }

    pub(super) fn on_done(&mut self, d: Done) {
        match d {
            Done::Actions(actions) => self.carry_out(actions),
            Done::Reply {
                channel,
                peer,
                response,
                actions,
            } => {
                if let Response::Records { records, .. } = &response
                    && let Some(p) = self.peers.get_mut(&peer)
                {
                    p.sent += records.len() as u64;
                }
                if self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response.encode())
                    .is_err()
                {
                    tracing::debug!(peer = %peer, "peer left before the answer");
                }
                self.carry_out(actions);
            }
            Done::Counted {
                peer,
                received,
                rejected,
            } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.received += received;
                    p.rejected += rejected;
                }
            }
        }
    }

    fn carry_out(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send { peer, request } => {
                    let pid = peer_id(&peer);
                    if let Request::Push { records } = &request {
                        if let Some(p) = self.peers.get_mut(&pid) {
                            p.sent += records.len() as u64;
                        }
                        let (node, records) = (self.node.clone(), records.clone());
                        tokio::task::spawn_blocking(move || audit_sent(&node, peer, &records));
                    }
                    let id = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_request(&pid, request.encode());
                    self.sync_state.outbound.insert(id, (peer, request));
                }
                Action::Store {
                    peer,
                    feed,
                    records,
                } => self.sink().receive(peer, Some(feed), records, None),
                Action::Synced { peer } => {
                    if let Some(p) = self.peers.get_mut(&peer_id(&peer)) {
                        p.last_sync_ms = Some(now_ms());
                    }
                }
                Action::Disconnect { peer, until_ms } => {
                    let pid = peer_id(&peer);
                    tracing::warn!(peer = %pid, until_ms, "too many invalid records: disconnecting and refusing for a cooling-off period");
                    self.swarm.behaviour_mut().bans.block_peer(pid);
                    self.sync_state.bans.insert(pid, until_ms);
                }
            }
        }
    }
}

/// The replicator's view of this node now.
fn context<'a>(
    node: &'a Node,
    m: &'a tipx_protocol::Membership,
) -> Context<'a, crate::store::SledStore> {
    Context {
        membership: m,
        store: &node.store,
        now_ms: now_ms(),
    }
}

/// After records from `peer` (`total` of them; a page of `page`, or a push) were stored, or
/// the store failed: logs and counts the refused ones as offences and tells the
/// replicator. Returns (stored, refused, actions).
fn after_store(
    node: &Node,
    rep: &mut Replicator,
    peer: PublicKey,
    page: Option<FeedId>,
    total: u32,
    result: Result<Received, crate::node::Error>,
    out: &mut Vec<Done>,
) -> (u32, u32, Vec<Action>) {
    let m = node.membership();
    let cx = context(node, &m);
    let received = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "store failed while receiving");
            let actions = rep.on_stored(peer, page, &[], &cx).unwrap_or_default();
            return (0, total, actions);
        }
    };
    let mut refused = 0;
    let mut actions = vec![];
    for rejection in received.outcomes.iter().filter_map(|o| o.as_ref().err()) {
        refused += 1;
        if rejection.is_offence() {
            tracing::warn!(peer = %peer, reason = %rejection, code = rejection.code(), "record rejected");
        } else {
            // A gap (earlier records still on their way) or an author this node does not
            // know yet: expected while a federation settles, and fetched or retried.
            tracing::debug!(peer = %peer, reason = %rejection, code = rejection.code(), "record not taken yet");
        }
        if rejection.is_offence()
            && let Verdict::Disconnect { until_ms } = rep.record_offence(peer, now_ms())
        {
            actions.push(Action::Disconnect { peer, until_ms });
        }
    }
    match rep.on_stored(peer, page, &received.stored, &cx) {
        Ok(a) => actions.extend(a),
        Err(e) => tracing::error!(error = %e, "store failed during sync"),
    }
    let stored = received.stored.len() as u32;
    out.push(Done::Counted {
        peer: peer_id(&peer),
        received: stored as u64,
        rejected: refused as u64,
    });
    (stored, refused, actions)
}

fn offence(node: &Node, rep: &mut Replicator, peer: PublicKey, reason: &str, out: &mut Vec<Done>) {
    let _ = node.store.audit(&[AuditEntry {
        peer: Some(peer.peer_id()),
        code: Some("malformed-message".into()),
        ..AuditEntry::new(
            now_ms(),
            AuditEvent::Rejected,
            format!("malformed sync message: {reason}"),
        )
    }]);
    if let Verdict::Disconnect { until_ms } = rep.record_offence(peer, now_ms()) {
        out.push(Done::Actions(vec![Action::Disconnect { peer, until_ms }]));
    }
}

/// Ids listed in one "sent" audit entry; a longer page is summarised.
const AUDIT_IDS_PER_ENTRY: usize = 16;

/// Writes one audit entry for a message of records sent to `peer`, naming them.
fn audit_sent(node: &Node, peer: PublicKey, records: &[Vec<u8>]) {
    if records.is_empty() {
        return;
    }
    let ids: Vec<tipx_protocol::RecordId> = records
        .iter()
        .take(AUDIT_IDS_PER_ENTRY)
        .filter_map(|b| tipx_protocol::Record::decode(b).ok())
        .map(|r| r.id)
        .collect();
    let n = records.len();
    let detail = match n {
        1 => "1 record".to_string(),
        n if n > ids.len() => format!("{n} records (the first {} listed)", ids.len()),
        n => format!("{n} records"),
    };
    let _ = node.store.audit(&[AuditEntry {
        record: ids.first().copied(),
        peer: Some(peer.peer_id()),
        records: ids,
        count: Some(n as u64),
        ..AuditEntry::new(now_ms(), AuditEvent::Sent, detail)
    }]);
}
