//! A hand-driven member: its own libp2p swarm with a real roster key, speaking
//! `/tipx/sync/1` by hand, to push records a real node would never send (forged, malformed,
//! or relayed on behalf of a removed key). Every wait ends on an event the swarm reports, or
//! at [`ANSWER_DEADLINE`].

use std::time::Duration;

use futures::StreamExt;
use libp2p::{Multiaddr, PeerId, Swarm, request_response, swarm::SwarmEvent};
use tipx_node::net::behaviour::{Behaviour, BehaviourEvent, build};
use tipx_protocol::{
    Keypair,
    sync::{Request, Response, reconcile::Reconciler},
};

use crate::Node;

/// How long the peer waits for a connection, an answer or a disconnection: longer than a
/// node's request timeout, so a slow node answers rather than times out.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

/// A connection stays open this long without traffic: the test drives the swarm only
/// while it waits for something.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A hand-driven member's swarm.
pub struct Peer {
    swarm: Swarm<Behaviour>,
    /// Every request the node sent this peer, in order of arrival.
    heard: Vec<Request>,
    /// It speaks sync version 2 (holding nothing): it answers a digest that opens a
    /// reconciliation, and the rest of the exchange, as a node of version 2 would.
    version_2: bool,
    /// Its side of the reconciliation a node opened with it, while it goes on.
    answering: Option<Reconciler>,
}

/// The consent by which `from` (its test key) grants `partner`, signed now: the record a
/// hand-driven member pushes first, so that a node counts it as a partner.
pub fn grant(from: &str, partner: &str) -> tipx_protocol::Record {
    use tipx_protocol::body::{Body, Consent, ConsentAction};
    let body = Body::Consent(Consent {
        partner: tipx_protocol::testkit::st(partner),
        action: ConsentAction::Grant,
    });
    tipx_protocol::testkit::Author::new(from).publish(&["*"], body, crate::federation::now_ms())
}

/// Admits `code`, with its test key, to `fed`'s roster as a hand-driven member and waits
/// until `node` holds that roster (version 2); returns the key.
#[track_caller]
pub fn admit(fed: &crate::federation::Federation, code: &str, node: &Node) -> Keypair {
    let key = tipx_protocol::testkit::key_of(code);
    fed.oas.roster_admit(code, code, &key.public());
    assert!(
        crate::federation::eventually(crate::federation::DELIVERY_DEADLINE, || {
            node.roster_version() == 2
        }),
        "{} never got the roster with {code}",
        node.state
    );
    key
}

/// The PeerId and p2p address (with `/p2p/…`) of `node`.
pub fn address(node: &Node) -> (PeerId, Multiaddr) {
    let peer: PeerId = node.peer_id.parse().expect("a node's peer id");
    let addr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", node.p2p_port, node.peer_id)
        .parse()
        .expect("a node's p2p address");
    (peer, addr)
}

impl Peer {
    /// A swarm with `key` (a node key in the roster, or not). Call inside a tokio runtime.
    pub fn new(key: &Keypair) -> Self {
        Self {
            swarm: build(key, 16, IDLE_TIMEOUT, false).expect("a swarm"),
            heard: Vec::new(),
            version_2: false,
            answering: None,
        }
    }

    /// As [`Peer::new`], speaking sync version 2: it reconciles with a node that opens an
    /// exchange, as a node holding nothing (a peer from [`Peer::new`] answers digests as a
    /// node of version 1, which skips the opening).
    pub fn of_version_2(key: &Keypair) -> Self {
        Self {
            version_2: true,
            ..Self::new(key)
        }
    }

    /// Whether a connection to `peer` is open.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.swarm.is_connected(peer)
    }

    /// Dials `node` and returns whether it accepted this peer: a connection that the gate
    /// lets stand answers a request; one it refuses closes (an established connection alone
    /// proves nothing, the gate decides after the handshake).
    pub async fn connect(&mut self, node: &Node) -> bool {
        let (peer, addr) = address(node);
        self.connect_to(peer, addr).await
    }

    /// [`connect`](Self::connect) to the node `peer` at `addr` (from [`address`]).
    pub async fn connect_to(&mut self, peer: PeerId, addr: Multiaddr) -> bool {
        self.swarm.behaviour_mut().gate.allow_peer(peer);
        if self.swarm.dial(addr).is_err() {
            return false;
        }
        let established = self
            .drive_until(|_, _, ev| match ev {
                Some(SwarmEvent::ConnectionEstablished { peer_id, .. }) if *peer_id == peer => {
                    Some(true)
                }
                Some(SwarmEvent::OutgoingConnectionError {
                    peer_id: Some(p), ..
                }) if *p == peer => Some(false),
                _ => None,
            })
            .await;
        established == Some(true) && self.ask_raw(peer, Request::Heads).await.is_some()
    }

    /// Sends one sync request and waits for its answer; `None` if the connection failed or
    /// the answer does not decode.
    pub async fn ask(&mut self, peer: PeerId, req: Request) -> Option<Response> {
        Response::decode(&self.ask_raw(peer, req).await?).ok()
    }

    /// Sends one sync request and waits for the bytes of its answer; `None` if the
    /// connection failed.
    pub async fn ask_raw(&mut self, peer: PeerId, req: Request) -> Option<Vec<u8>> {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, req.encode());
        self.drive_until(|_, _, ev| match ev {
            Some(SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                },
            ))) if *request_id == id => Some(Some(response.clone())),
            Some(SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::OutboundFailure { request_id, .. },
            ))) if *request_id == id => Some(None),
            _ => None,
        })
        .await
        .flatten()
    }

    /// Pushes `records` (encoded) to `peer`; its answer, or `None` if the connection failed.
    pub async fn push(&mut self, peer: PeerId, records: Vec<Vec<u8>>) -> Option<Response> {
        self.ask(peer, Request::Push { records }).await
    }

    /// Pushes `records` to `peer` again and again, `in_flight` pushes outstanding at all
    /// times, until `stop` is set: a member flooding a node as fast as one connection
    /// allows. Returns the time of the first answer (ms since the Unix epoch) and how many
    /// pushes were acknowledged and how many refused as busy.
    pub async fn flood(
        &mut self,
        peer: PeerId,
        records: Vec<Vec<u8>>,
        in_flight: usize,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Flood {
        let push = Request::Push { records }.encode();
        let mut outstanding = std::collections::HashSet::new();
        let mut flood = Flood::default();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            while outstanding.len() < in_flight {
                let sync = &mut self.swarm.behaviour_mut().sync;
                outstanding.insert(sync.send_request(&peer, push.clone()));
            }
            let tick = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                ev = self.swarm.select_next_some() => match ev {
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Response { request_id, response },
                        ..
                    })) if outstanding.remove(&request_id) => {
                        if flood.first_answer_ms == 0 {
                            flood.first_answer_ms = crate::federation::now_ms();
                        }
                        match Response::decode(&response) {
                            Ok(Response::Ack { .. }) => flood.acknowledged += 1,
                            _ => flood.busy += 1,
                        }
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(
                        request_response::Event::OutboundFailure { request_id, .. },
                    )) => {
                        outstanding.remove(&request_id);
                        flood.failed += 1;
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. },
                        ..
                    })) => {
                        let answer = self.answer(&request).encode();
                        let _ = self.swarm.behaviour_mut().sync.send_response(channel, answer);
                    }
                    _ => {}
                },
                _ = tick => {}
            }
        }
        flood
    }

    /// Waits until no connection to `peer` is open; returns whether that happened within
    /// [`ANSWER_DEADLINE`].
    pub async fn until_disconnected(&mut self, peer: PeerId) -> bool {
        self.drive_until(|swarm, _, _| (!swarm.is_connected(&peer)).then_some(()))
            .await
            .is_some()
    }

    /// The requests the node has sent this peer so far.
    pub fn heard(&self) -> &[Request] {
        &self.heard
    }

    /// Drives the swarm until the node has sent a request for which `wanted` holds;
    /// whether it did within [`ANSWER_DEADLINE`].
    pub async fn until_asked(&mut self, wanted: impl Fn(&Request) -> bool) -> bool {
        self.drive_until(|_, heard, _| heard.iter().any(&wanted).then_some(()))
            .await
            .is_some()
    }

    /// Drives the swarm, answering the node's own requests (and noting them in `heard`),
    /// until `done` returns a value (it is called once before any event, with `None`, then
    /// after each event); `None` at [`ANSWER_DEADLINE`].
    async fn drive_until<T>(
        &mut self,
        mut done: impl FnMut(
            &Swarm<Behaviour>,
            &[Request],
            Option<&SwarmEvent<BehaviourEvent>>,
        ) -> Option<T>,
    ) -> Option<T> {
        if let Some(t) = done(&self.swarm, &self.heard, None) {
            return Some(t);
        }
        let deadline = tokio::time::sleep(ANSWER_DEADLINE);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. },
                        ..
                    })) = ev
                    {
                        let answer = self.answer(&request).encode();
                        let _ = self.swarm.behaviour_mut().sync.send_response(channel, answer);
                        if let Ok(request) = Request::decode(&request) {
                            self.heard.push(request);
                        }
                        if let Some(t) = done(&self.swarm, &self.heard, None) {
                            return Some(t);
                        }
                        continue;
                    }
                    if let Some(t) = done(&self.swarm, &self.heard, Some(&ev)) {
                        return Some(t);
                    }
                }
                _ = &mut deadline => return None,
            }
        }
    }
}

/// What a [`Peer::flood`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flood {
    /// When the first answer came, ms since the Unix epoch (0: none came).
    pub first_answer_ms: u64,
    /// Pushes acknowledged (the node read them).
    pub acknowledged: u64,
    /// Pushes refused unread (the node was busy with this peer's earlier pushes).
    pub busy: u64,
    /// Pushes that failed (timeout, closed stream).
    pub failed: u64,
}

impl Peer {
    /// What the peer answers a node's request: it claims to be in sync (of version 1) or
    /// reconciles holding nothing (of version 2), and serves nothing, so the node's rounds
    /// with it end without an offence.
    fn answer(&mut self, request: &[u8]) -> Response {
        let reconciled = |r: &mut Reconciler, m| {
            let next = r.reply(m).ok().and_then(|step| step.next);
            let done = next.is_none();
            (
                Response::Reconcile {
                    message: next.unwrap_or_default(),
                },
                done,
            )
        };
        match Request::decode(request) {
            Ok(Request::Digest {
                reconcile: Some(opening),
                ..
            }) if self.version_2 => {
                let mut r = Reconciler::new([]);
                let (response, done) = reconciled(&mut r, &opening);
                self.answering = (!done).then_some(r);
                response
            }
            Ok(Request::Reconcile { message }) if self.answering.is_some() => {
                let r = self.answering.as_mut().expect("checked");
                let (response, done) = reconciled(r, &message);
                if done {
                    self.answering = None;
                }
                response
            }
            Ok(Request::HeadsOf { .. }) if self.version_2 => Response::Heads { heads: vec![] },
            Ok(Request::Digest { .. } | Request::Heads) => Response::InSync,
            _ => Response::Denied {
                reason: "a hand-driven test peer serves nothing".into(),
            },
        }
    }
}
