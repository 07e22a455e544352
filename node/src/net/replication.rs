//! Carrying out `tipx_protocol::sync` in the daemon: the [`Replicator`] decides, this module
//! does. The event loop owns a [`Replication`] and lends it the loop's [`Shared`] parts for
//! each event; the replicator reads no store, so every call is made on the loop. The two
//! kinds of work that touch the disk leave the loop and come back as
//! [`Completed`](super::shared::Completed): serving a page (read on a blocking thread) and
//! storing received records (the core's [`Intake`] pipeline).

use std::{collections::HashMap, sync::Arc};

use libp2p::{
    PeerId,
    request_response::{OutboundRequestId, ResponseChannel},
};
use tipx_protocol::{
    FeedId, PublicKey, Record, RecordId,
    store::{AuditEntry, AuditEvent},
    sync::{
        Action, Context, Effects, Page, Replicator, Reply, Request, Response, Verdict, carry_out,
    },
};
use tokio::sync::mpsc;

use super::{
    behaviour::{peer_id, public_key},
    shared::{Completed, Shared},
};
use crate::core::{Intake, Node, PageKind, Received, now_ms};

/// How long a `busy` answer to a push is held back (answers go out on the next replication
/// tick after this, so 1–2 s): well under the requester's `REQUEST_TIMEOUT`.
const BUSY_ANSWER_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Most `busy` answers held back at once (each is a response channel, a few bytes); beyond
/// that they go out at once. Bounded anyway by connections × `MAX_STREAMS`.
const MAX_HELD_BACK: usize = 4096;

/// A `busy` answer waiting for its time.
struct HeldBack {
    due: std::time::Instant,
    channel: ResponseChannel<Vec<u8>>,
    peer: PeerId,
}

/// The daemon's replication state, owned by the event loop.
pub(super) struct Replication {
    replicator: Replicator,
    /// `busy` answers to pushes, held back until their time ([`BUSY_ANSWER_DELAY`]).
    held_back: std::collections::VecDeque<HeldBack>,
    /// Requests sent and not answered yet.
    outbound: HashMap<OutboundRequestId, (PublicKey, Request)>,
    /// Peers refused until a time (ms since the Unix epoch).
    bans: HashMap<PeerId, u64>,
    intake: Intake,
}

impl Replication {
    /// The replication state of `node`, seeded with the feeds its store holds.
    pub(super) fn new(
        config: tipx_protocol::sync::Config,
        node: Arc<Node>,
    ) -> Result<Self, super::Error> {
        let feeds = node.feeds()?;
        Ok(Self {
            replicator: Replicator::new(config, feeds),
            held_back: std::collections::VecDeque::new(),
            outbound: HashMap::new(),
            bans: HashMap::new(),
            intake: Intake::start(node)?,
        })
    }

    /// Calls the replicator with a context, then carries out what it returns.
    fn replicate(
        &mut self,
        sh: &mut Shared,
        f: impl FnOnce(&mut Replicator, &Context<'_>) -> Vec<Action>,
    ) {
        let m = sh.node.membership();
        let cx = Context {
            membership: &m,
            now_ms: now_ms(),
            salt: salt(),
        };
        let actions = f(&mut self.replicator, &cx);
        self.carry(sh, actions);
    }

    /// Carries out `actions` through the daemon's [`Effects`].
    fn carry(&mut self, sh: &mut Shared, actions: Vec<Action>) {
        let mut daemon = Daemon {
            sh,
            outbound: &mut self.outbound,
            bans: &mut self.bans,
            intake: &self.intake,
        };
        carry_out(actions, &mut daemon);
    }

    /// The first connection to `peer` is up.
    pub(super) fn on_connected(&mut self, sh: &mut Shared, peer: PeerId) {
        let Some(key) = public_key(&peer) else { return };
        let _span = tracing::debug_span!("sync", peer = %peer).entered();
        self.replicate(sh, |rep, cx| rep.on_connected(key, cx));
    }

    /// The timer: cooling-off periods that are over, rounds that are due.
    pub(super) fn on_tick(&mut self, sh: &mut Shared) {
        self.release_held_back(sh);
        let now = now_ms();
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.bans.remove(&p);
            sh.swarm.behaviour_mut().bans.unblock_peer(p);
            tracing::info!(peer = %p, "cooling-off period over");
        }
        self.replicate(sh, |rep, cx| rep.on_tick(cx));
    }

    /// The last connection to `peer` is closed.
    pub(super) fn on_disconnected(&mut self, sh: &mut Shared, peer: PeerId) {
        let Some(key) = public_key(&peer) else { return };
        self.replicate(sh, |rep, cx| rep.on_disconnected(key, cx));
    }

    /// The core published `records`.
    pub(super) fn on_published(&mut self, sh: &mut Shared, records: &[Record]) {
        let _span = tracing::debug_span!("publish", records = records.len()).entered();
        self.replicate(sh, |rep, cx| rep.on_published(records, cx));
    }

    /// Records exported by `from` were stored off the network (an offline bundle): the
    /// replicator notes the new heads and announces them, as after a push from `from`.
    pub(super) fn on_stored_offline(
        &mut self,
        sh: &mut Shared,
        from: PublicKey,
        records: &[Record],
    ) {
        self.replicate(sh, |rep, cx| rep.on_stored(from, None, records, cx));
    }

    /// A request from `peer`.
    pub(super) fn on_request(
        &mut self,
        sh: &mut Shared,
        peer: PeerId,
        bytes: Vec<u8>,
        channel: ResponseChannel<Vec<u8>>,
    ) {
        if let Some(p) = sh.peers.get_mut(&peer) {
            p.bytes_in += bytes.len() as u64;
        }
        let Some(key) = public_key(&peer) else { return };
        let _span = tracing::debug_span!("sync request", peer = %peer).entered();
        if Request::looks_like_push(&bytes) && self.intake.is_full(&key) {
            // Refused before the records are even decoded: a flood costs a read.
            drop(bytes);
            self.busy(sh, channel, peer);
            return;
        }
        let request = match Request::decode(&bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(peer = %peer, reason = %e, "malformed sync request");
                let denied = Response::Denied {
                    reason: format!("malformed request: {e}"),
                };
                sh.respond(channel, peer, denied);
                self.malformed(sh, key, e.to_string());
                return;
            }
        };
        let m = sh.node.membership();
        let cx = Context {
            membership: &m,
            now_ms: now_ms(),
            salt: salt(),
        };
        let handled = self.replicator.handle_request(key, request, &cx);
        match handled.reply {
            Reply::Respond(response) => sh.respond(channel, peer, response),
            Reply::Serve(page) => serve(sh, channel, peer, key, page),
            Reply::StoreThenAck { records } => receive(
                &self.intake,
                &sh.done_tx,
                key,
                None,
                records,
                Some((channel, peer)),
            ),
        }
        self.carry(sh, handled.actions);
    }

    /// The answer to a request this node sent.
    pub(super) fn on_response(
        &mut self,
        sh: &mut Shared,
        peer: PeerId,
        id: OutboundRequestId,
        bytes: Vec<u8>,
    ) {
        if let Some(p) = sh.peers.get_mut(&peer) {
            p.bytes_in += bytes.len() as u64;
        }
        let Some((key, request)) = self.outbound.remove(&id) else {
            return;
        };
        let _span = tracing::debug_span!("sync response", peer = %peer).entered();
        match Response::decode(&bytes) {
            Ok(response) => {
                self.replicate(sh, |rep, cx| rep.on_response(key, &request, response, cx))
            }
            Err(e) => {
                tracing::warn!(peer = %peer, reason = %e, "malformed sync response");
                self.malformed(sh, key, e.to_string());
                self.replicate(sh, |rep, cx| rep.on_failure(key, &request, cx));
            }
        }
    }

    /// A request this node sent failed (timeout, connection closed).
    pub(super) fn on_failure(&mut self, sh: &mut Shared, id: OutboundRequestId) {
        let Some((key, request)) = self.outbound.remove(&id) else {
            return;
        };
        self.replicate(sh, |rep, cx| rep.on_failure(key, &request, cx));
    }

    /// Work done off the loop came back.
    pub(super) fn on_completed(&mut self, sh: &mut Shared, c: Completed) {
        match c {
            Completed::Served {
                channel,
                peer,
                response,
            } => sh.respond(channel, peer, response),
            Completed::Received {
                peer,
                page,
                total,
                result,
                ack,
            } => self.on_received(sh, peer, page, total, result, ack),
        }
    }

    /// Records from `peer` were stored (durably) or the store failed: tells the
    /// replicator, acknowledges a push, counts traffic.
    fn on_received(
        &mut self,
        sh: &mut Shared,
        peer: PublicKey,
        page: Option<FeedId>,
        total: usize,
        result: Result<Received, crate::core::Error>,
        ack: Option<(ResponseChannel<Vec<u8>>, PeerId)>,
    ) {
        let mut busy = None;
        let (stored, refused) = match result {
            Ok(r) => {
                let refused: Vec<_> = r.outcomes.into_iter().filter_map(Result::err).collect();
                for rejection in &refused {
                    if rejection.is_offence() {
                        tracing::warn!(peer = %peer, reason = %rejection, code = rejection.code(), "record rejected");
                    } else {
                        // A gap (earlier records still on their way) or an author this
                        // node does not know yet: expected while a federation settles,
                        // and fetched or retried.
                        tracing::debug!(peer = %peer, reason = %rejection, code = rejection.code(), "record not taken yet");
                    }
                }
                (r.stored, refused)
            }
            Err(e @ crate::core::Error::Busy) => {
                // Not read: the pusher may send it again; a page is fetched next round.
                tracing::debug!(peer = %peer, "intake busy: records from this peer not read");
                busy = Some(e.to_string());
                (vec![], vec![])
            }
            Err(e) => {
                tracing::error!(error = %e, "store failed while receiving");
                (vec![], vec![])
            }
        };
        let pid = peer_id(&peer);
        if let Some((channel, pid)) = ack {
            let not_stored = total - stored.len();
            match busy {
                Some(_) => self.busy(sh, channel, pid),
                None => sh.respond(channel, pid, Response::ack(stored.len(), not_stored)),
            }
        }
        if let Some(p) = sh.peers.get_mut(&pid) {
            p.received += stored.len() as u64;
            p.rejected += refused.len() as u64;
        }
        self.replicate(sh, |rep, cx| {
            rep.on_received(peer, page, &stored, &refused, cx)
        });
    }

    /// Answers a push from `peer` that was refused unread as `busy` — after
    /// [`BUSY_ANSWER_DELAY`], so that a peer that waits for its answers (every libp2p
    /// requester does, up to its stream limit) cannot push faster than this node takes
    /// its records, and a flood costs the node a few reads a second instead of thousands.
    fn busy(&mut self, sh: &mut Shared, channel: ResponseChannel<Vec<u8>>, peer: PeerId) {
        if self.held_back.len() >= MAX_HELD_BACK {
            let reason = crate::core::Error::Busy.to_string();
            sh.respond(channel, peer, Response::Denied { reason });
            return;
        }
        self.held_back.push_back(HeldBack {
            due: std::time::Instant::now() + BUSY_ANSWER_DELAY,
            channel,
            peer,
        });
    }

    /// Sends the held-back `busy` answers whose time has come.
    fn release_held_back(&mut self, sh: &mut Shared) {
        let now = std::time::Instant::now();
        while self.held_back.front().is_some_and(|h| h.due <= now) {
            let h = self.held_back.pop_front().expect("just looked");
            let reason = crate::core::Error::Busy.to_string();
            sh.respond(h.channel, h.peer, Response::Denied { reason });
        }
    }

    /// A message from `peer` did not decode: audited, and counted as an offence.
    fn malformed(&mut self, sh: &mut Shared, peer: PublicKey, reason: String) {
        let node = sh.node.clone();
        tokio::task::spawn_blocking(move || {
            let _ = node.audit(&[AuditEntry {
                peer: Some(peer.peer_id()),
                code: Some("malformed-message".into()),
                ..AuditEntry::new(
                    now_ms(),
                    AuditEvent::Rejected,
                    format!("malformed sync message: {reason}"),
                )
            }]);
        });
        if let Verdict::Disconnect { until_ms } = self.replicator.record_offence(peer, now_ms()) {
            self.carry(sh, vec![Action::Disconnect { peer, until_ms }]);
        }
    }
}

/// Reads `page` from the store on a blocking thread, audits what is sent, and hands the
/// answer back to the loop.
fn serve(sh: &Shared, channel: ResponseChannel<Vec<u8>>, peer: PeerId, key: PublicKey, page: Page) {
    let (node, tx) = (sh.node.clone(), sh.done_tx.clone());
    tokio::task::spawn_blocking(move || {
        let response =
            match node.feed_range(&page.feed, page.from_seq, page.max_records, page.max_bytes) {
                Ok(held) => {
                    let mut ids: Vec<RecordId> = held
                        .iter()
                        .take(AUDIT_IDS_PER_ENTRY)
                        .map(|r| r.id)
                        .collect();
                    let response = page.respond(held);
                    if let Response::Records { records, .. } = &response {
                        ids.truncate(records.len());
                        audit_sent(&node, key, ids, records.len());
                    }
                    response
                }
                Err(e) => {
                    tracing::error!(error = %e, "store failed serving a page");
                    Response::Denied {
                        reason: "internal error".into(),
                    }
                }
            };
        let _ = tx.blocking_send(Completed::Served {
            channel,
            peer,
            response,
        });
    });
}

/// Hands records from `peer` (a page of `page`, or a push to acknowledge on `ack`) to the
/// intake; what became of them comes back as [`Completed::Received`].
fn receive(
    intake: &Intake,
    done_tx: &mpsc::Sender<Completed>,
    peer: PublicKey,
    page: Option<FeedId>,
    records: Vec<Vec<u8>>,
    ack: Option<(ResponseChannel<Vec<u8>>, PeerId)>,
) {
    let tx = done_tx.clone();
    let total = records.len();
    let kind = match page {
        Some(_) => PageKind::Fetched,
        None => PageKind::Pushed,
    };
    let submitted = intake.submit(
        peer,
        kind,
        records,
        Box::new(move |result| {
            let _ = tx.blocking_send(Completed::Received {
                peer,
                page,
                total,
                result,
                ack,
            });
        }),
    );
    // Refused unread (busy, or shutting down): reported the same way, off the loop's
    // thread, since reporting may wait for room in the loop's queue.
    if let Err((e, done)) = submitted {
        tokio::task::spawn_blocking(move || done(Err(e)));
    }
}

/// The daemon as the replicator's [`Effects`]: the loop's shared parts and the replication
/// state that carrying out actions changes.
struct Daemon<'a> {
    sh: &'a mut Shared,
    outbound: &'a mut HashMap<OutboundRequestId, (PublicKey, Request)>,
    bans: &'a mut HashMap<PeerId, u64>,
    intake: &'a Intake,
}

impl Effects for Daemon<'_> {
    fn send(&mut self, peer: PublicKey, request: Request) {
        let pid = peer_id(&peer);
        if let Request::Push { records } = &request {
            if let Some(p) = self.sh.peers.get_mut(&pid) {
                p.sent += records.len() as u64;
            }
            // The ids of a push are read back from its bytes (the first few only): the
            // replicator paged the published records into requests.
            let n = records.len();
            let firsts: Vec<Vec<u8>> = records.iter().take(AUDIT_IDS_PER_ENTRY).cloned().collect();
            let node = self.sh.node.clone();
            tokio::task::spawn_blocking(move || {
                let ids = firsts
                    .iter()
                    .filter_map(|b| Record::decode(b).ok())
                    .map(|r| r.id)
                    .collect();
                audit_sent(&node, peer, ids, n);
            });
        }
        let bytes = request.encode();
        if let Some(p) = self.sh.peers.get_mut(&pid) {
            p.bytes_out += bytes.len() as u64;
        }
        let id = self.sh.swarm.behaviour_mut().sync.send_request(&pid, bytes);
        self.outbound.insert(id, (peer, request));
    }

    fn store(&mut self, peer: PublicKey, feed: FeedId, records: Vec<Vec<u8>>) {
        receive(
            self.intake,
            &self.sh.done_tx,
            peer,
            Some(feed),
            records,
            None,
        );
    }

    fn synced(&mut self, peer: PublicKey) {
        self.sh.node.note_synced(&peer);
        if let Some(p) = self.sh.peers.get_mut(&peer_id(&peer)) {
            p.last_sync_ms = Some(now_ms());
            p.rounds += 1;
        }
    }

    fn disconnect(&mut self, peer: PublicKey, until_ms: u64) {
        let pid = peer_id(&peer);
        tracing::warn!(peer = %pid, until_ms, "too many invalid records: disconnecting and refusing for a cooling-off period");
        self.sh.swarm.behaviour_mut().bans.block_peer(pid);
        self.bans.insert(pid, until_ms);
    }
}

/// Ids listed in one "sent" audit entry; a longer page is summarised.
const AUDIT_IDS_PER_ENTRY: usize = 16;

/// Writes one audit entry for `n` records sent to `peer` in one message, naming the first
/// of them (`ids`, at most [`AUDIT_IDS_PER_ENTRY`]).
fn audit_sent(node: &Node, peer: PublicKey, ids: Vec<RecordId>, n: usize) {
    if n == 0 {
        return;
    }
    let detail = match n {
        1 => "1 record".to_string(),
        n if n > ids.len() => format!("{n} records (the first {} listed)", ids.len()),
        n => format!("{n} records"),
    };
    let _ = node.audit(&[AuditEntry {
        record: ids.first().copied(),
        peer: Some(peer.peer_id()),
        records: ids,
        count: Some(n as u64),
        ..AuditEntry::new(now_ms(), AuditEvent::Sent, detail)
    }]);
}

/// 16 random bytes: the salt of a reconciliation the replicator may open. Without the
/// system's randomness (never seen on a working system) the clock stands in: a salt only
/// has to differ from one exchange to the next and be unknown in advance to other nodes.
fn salt() -> tipx_protocol::sync::reconcile::Salt {
    let mut salt = [0; 16];
    if getrandom::getrandom(&mut salt).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        salt = nanos.to_be_bytes();
    }
    salt
}
