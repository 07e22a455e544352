//! The event loop: the one owner of the `Swarm`. Its `select!` arms hand each event to a
//! `handle_*`/`on_*` method of the one `impl EventLoop` here, which hands replication events
//! to [`Replication`] and discovery events to [`DiscoveryState`], lending them the
//! [`Shared`] parts; work that touches the disk comes back as a [`Completed`].

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use libp2p::{Multiaddr, PeerId, request_response, swarm::SwarmEvent};
use tipx_config::Config;
use tokio::sync::{mpsc, watch};

use super::{
    Command, Handle, NetworkStatus, PeerInfo,
    addresses::{Addresses, error_chain, probe_port},
    behaviour::{BehaviourEvent, peer_id, public_key},
    discovery::State as DiscoveryState,
    replication::Replication,
    shared::{Completed, Shared},
};
use crate::core::Node;

/// First redial delay after a lost or failed connection; doubles up to
/// `network.redial_max_backoff_secs`.
const REDIAL_FIRST: Duration = Duration::from_secs(1);
/// How often the loop looks for peers to redial.
const TICK: Duration = Duration::from_millis(500);
/// How often the replicator looks for rounds that are due (each peer's round starts every
/// `exchange.sync_interval_secs`).
const SYNC_TICK: Duration = Duration::from_secs(1);
/// Results of blocking work waiting for the loop.
const DONE_QUEUE: usize = 1024;

/// Connections in a row that the bootstrap node closes before identify after which the node
/// tells its operator that its key is not in the coordinator's roster.
const REFUSALS_BEFORE_NOTICE: u32 = 2;
/// Sync requests to a peer in a row that time out, with no answer in between, after which
/// its connection is taken for dead, closed and the peer dialled again. A connection whose
/// path died without a reset (an expired NAT mapping, a changed address) otherwise stays
/// open for as long as the kernel retransmits (many minutes), and the node never redials a
/// peer it believes connected. Three: one slow answer is not a dead connection.
const TIMEOUTS_BEFORE_REDIAL: u32 = 3;

/// The one owner of the swarm. Its parts — [`Replication`] and discovery's
/// [`DiscoveryState`] — keep their own state and borrow the [`Shared`] parts per event.
pub(super) struct EventLoop {
    /// The swarm, the peers, the core, the way back to the loop.
    shared: Shared,
    replication: Replication,
    discovery: DiscoveryState,
    max_backoff: Duration,
    external_configured: bool,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    /// Whether the bootstrap node refuses this node's connections (its key is not in the
    /// coordinator's roster).
    refused_by_bootstrap: bool,
}

/// Starts the network: listens, dials the bootstrap and roster peers, and runs until
/// `shutdown` turns true. Returns the handle and the loop's task.
pub fn spawn(
    node: Arc<Node>,
    config: &Config,
    events: mpsc::Receiver<crate::core::Event>,
    shutdown: watch::Receiver<bool>,
) -> Result<(Handle, tokio::task::JoinHandle<()>), super::Error> {
    let mut swarm = super::behaviour::build(
        node.keypair(),
        config.network.max_connections,
        config.network.idle_timeout(),
        node.state().is_coordinator(),
    )?;
    let addrs = Addresses::of(config)?;
    for (i, addr) in addrs.listen.into_iter().enumerate() {
        let key = format!("network.listen[{i}]");
        probe_port(&addr).map_err(|e| super::Error::address(&key, e))?;
        swarm.listen_on(addr.clone()).map_err(|e| {
            super::Error::address(
                &key,
                format!("cannot listen on `{addr}`: {}", error_chain(&e)),
            )
        })?;
    }
    for addr in addrs.external {
        swarm.add_external_address(addr);
    }
    let bootstrap = addrs.bootstrap;
    let (tx, commands) = mpsc::channel(super::COMMAND_QUEUE);
    let (done_tx, done_rx) = mpsc::channel(DONE_QUEUE);
    let replication = Replication::new(
        tipx_protocol::sync::Config {
            interval_ms: config.exchange.sync_interval_secs * 1000,
            page_records: config.exchange.page_max_records as u32,
            page_bytes: config.exchange.page_max_bytes as u32,
        },
        node.clone(),
    )?;
    let mut ev = EventLoop {
        shared: Shared {
            swarm,
            node,
            peers: HashMap::new(),
            done_tx,
        },
        replication,
        max_backoff: config.network.redial_max_backoff(),
        external_configured: !config.network.external.is_empty(),
        discovery: Default::default(),
        bootstrap,
        refused_by_bootstrap: false,
    };
    ev.refresh_membership();
    let task = tokio::spawn(ev.run(commands, events, done_rx, shutdown));
    Ok((Handle { tx }, task))
}

/// The notice for a node whose key the coordinator's roster lacks.
fn not_in_roster(key: &tipx_protocol::PublicKey) -> String {
    format!(
        "this node's key is not in the roster: the coordinator's node refuses its connections. \
         Give this node's peer id ({key}, from `tipx id`) to the coordinator, who adds it with \
         `tipx roster add` and `tipx roster publish`"
    )
}

impl EventLoop {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::Receiver<crate::core::Event>,
        mut done: mpsc::Receiver<Completed>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        let mut sync_timer = tokio::time::interval(SYNC_TICK);
        let mut discover_timer = tokio::time::interval(super::discovery::DISCOVER_EVERY);
        loop {
            tokio::select! {
                event = self.shared.swarm.select_next_some() => self.handle_swarm_event(event),
                Some(cmd) = commands.recv() => self.handle_command(cmd),
                Some(e) = events.recv() => self.on_node_event(e),
                Some(c) = done.recv() => self.replication.on_completed(&mut self.shared, c),
                _ = tick.tick() => self.redial_due(),
                _ = sync_timer.tick() => self.replication.on_tick(&mut self.shared),
                _ = discover_timer.tick() => self.discover(),
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!("network stopped");
    }

    fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Peers(reply) => {
                let _ = reply.send(self.peer_infos());
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
        }
    }

    /// The network's part of `tipx status`.
    fn status(&self) -> NetworkStatus {
        NetworkStatus {
            sent: self.shared.peers.values().map(|p| p.sent).sum(),
            connected: self.shared.peers.values().filter(|p| p.connected).count() as u64,
            known_peers: self.shared.peers.len() as u64,
            listening: self
                .shared
                .swarm
                .listeners()
                .map(|a| a.to_string())
                .collect(),
            warnings: self.warnings(),
        }
    }

    /// What the operator must know about the network, in words.
    fn warnings(&self) -> Vec<String> {
        let mut out = vec![];
        if self.refused_by_bootstrap {
            out.push(not_in_roster(&self.shared.node.public_key()));
        }
        out
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let mut v: Vec<PeerInfo> = self
            .shared
            .peers
            .iter()
            .map(|(pid, p)| PeerInfo {
                peer_id: pid.to_base58(),
                state: public_key(pid).and_then(|k| self.shared.node.state_of(&k)),
                connected: p.connected,
                addrs: p.addrs.iter().map(|a| a.to_string()).collect(),
                last_sync_ms: p.last_sync_ms,
                last_sync: p.last_sync_ms.map(crate::time::rfc3339),
                sent: p.sent,
                received: p.received,
                rejected: p.rejected,
                bytes_in: p.bytes_in,
                bytes_out: p.bytes_out,
                rounds: p.rounds,
            })
            .collect();
        v.sort_by(|a, b| (a.state, &a.peer_id).cmp(&(b.state, &b.peer_id)));
        v
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                if !self.external_configured {
                    self.shared.swarm.add_external_address(address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rendezvous(e)) => {
                for (peer, addrs) in self.discovery.on_event(e) {
                    self.learn_addresses(peer, addrs);
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => self.on_connected(peer_id),
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } => {
                let cause = cause.map_or_else(|| "closed".to_string(), |c| c.to_string());
                tracing::debug!(peer = %peer_id, %cause, "disconnected");
                self.on_disconnected(peer_id);
                self.replication.on_disconnected(&mut self.shared, peer_id);
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer_id),
                error,
                ..
            } => {
                tracing::debug!(peer = %peer_id, %error, "dial failed");
                let max = self.max_backoff;
                if let Some(p) = self.shared.peers.get_mut(&peer_id) {
                    let b = p.backoff.map_or(REDIAL_FIRST, |b| (b * 2).min(max));
                    p.backoff = Some(b);
                    p.next_dial = Some(Instant::now() + b);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                libp2p::identify::Event::Received { peer_id, info, .. },
            )) => {
                self.on_identified(peer_id, info.listen_addrs);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(e)) => self.handle_sync_event(e),
            _ => {}
        }
    }

    fn on_connected(&mut self, peer: PeerId) {
        let Some(key) = public_key(&peer) else { return };
        if self.shared.node.state_of(&key).is_none()
            && !self.bootstrap.iter().any(|(p, _)| *p == peer)
        {
            return;
        }
        let state = self
            .shared
            .node
            .state_of(&key)
            .map_or_else(|| "bootstrap".to_string(), |s| s.to_string());
        tracing::info!(peer = %peer, %state, "connected");
        let p = self.shared.peers.entry(peer).or_default();
        p.connected = true;
        p.identified = false;
        p.timeouts_in_a_row = 0;
        p.next_dial = None;
        if self.bootstrap_peers().contains(&peer) {
            self.discover();
        }
        self.replication.on_connected(&mut self.shared, peer);
    }

    /// A connection closed: redial after the backoff. A peer that closes every connection
    /// before identify refuses us at its gate; from the bootstrap node that means this
    /// node's key is not in the coordinator's roster, which the operator is told.
    fn on_disconnected(&mut self, peer: PeerId) {
        let Some(p) = self.shared.peers.get_mut(&peer) else {
            return;
        };
        p.connected = false;
        if p.identified {
            p.refused_in_a_row = 0;
        } else {
            p.refused_in_a_row += 1;
            // The backoff was not reset on connecting: a refusing peer is redialled ever
            // more slowly, up to network.redial_max_backoff_secs.
            let b = p
                .backoff
                .map_or(REDIAL_FIRST, |b| (b * 2).min(self.max_backoff));
            p.backoff = Some(b);
        }
        p.next_dial = Some(Instant::now() + p.backoff.unwrap_or(REDIAL_FIRST));
        let refusals = p.refused_in_a_row;
        if self.bootstrap.iter().any(|(b, _)| *b == peer)
            && refusals >= REFUSALS_BEFORE_NOTICE
            && !self.refused_by_bootstrap
        {
            self.refused_by_bootstrap = true;
            tracing::warn!(peer = %peer, "{}", not_in_roster(&self.shared.node.public_key()));
        }
    }

    fn on_identified(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if let Some(p) = self.shared.peers.get_mut(&peer) {
            // The peer's gate let us in: the connection works, so redials start fast again.
            p.identified = true;
            p.refused_in_a_row = 0;
            p.backoff = None;
            if self.bootstrap.iter().any(|(b, _)| *b == peer) {
                self.refused_by_bootstrap = false;
            }
            self.learn_addresses(peer, addrs);
        }
    }

    /// Adds addresses of a roster member (from identify or discovery), caches them in the
    /// store for the next start, and dials it if it is not connected.
    pub(super) fn learn_addresses(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if peer == *self.shared.swarm.local_peer_id()
            || !self
                .shared
                .swarm
                .behaviour()
                .gate
                .allowed_peers()
                .contains(&peer)
        {
            return;
        }
        let p = self.shared.peers.entry(peer).or_default();
        if !super::addresses::merge(&mut p.addrs, addrs) {
            return;
        }
        if !p.connected && p.next_dial.is_none_or(|t| t > Instant::now()) {
            p.next_dial = Some(Instant::now());
        }
        let text: Vec<String> = p.addrs.iter().map(|a| a.to_string()).collect();
        let node = self.shared.node.clone();
        tokio::task::spawn_blocking(move || node.cache_addrs(&peer.to_base58(), &text));
    }

    /// The core published records, or the roster or a consent changed.
    fn on_node_event(&mut self, e: crate::core::Event) {
        match e {
            crate::core::Event::Published(records) => {
                self.replication.on_published(&mut self.shared, &records)
            }
            crate::core::Event::MembershipChanged => {
                self.refresh_membership();
                self.replication.on_tick(&mut self.shared);
            }
            crate::core::Event::ReceivedOffline { from, records } => self
                .replication
                .on_stored_offline(&mut self.shared, from, &records),
        }
    }

    /// Registers with and asks every connected rendezvous point (members only).
    fn discover(&mut self) {
        let points = self
            .bootstrap_peers()
            .into_iter()
            .filter(|p| self.shared.swarm.is_connected(p))
            .collect();
        self.discovery.discover(&mut self.shared.swarm, points);
    }

    /// The bootstrap (rendezvous) peers.
    pub(super) fn bootstrap_peers(&self) -> Vec<PeerId> {
        self.bootstrap.iter().map(|(p, _)| *p).collect()
    }

    /// Allows the roster's keys (and the anchor and bootstrap peers), disconnects removed
    /// ones, and learns the roster's addresses.
    pub(super) fn refresh_membership(&mut self) {
        let me = *self.shared.swarm.local_peer_id();
        let mut allowed: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
        for (pid, addr) in &self.bootstrap {
            allowed.entry(*pid).or_default().push(addr.clone());
        }
        if let Some(anchor) = self.shared.node.anchor() {
            allowed.entry(peer_id(&anchor)).or_default();
        }
        if let Some(roster) = self.shared.node.roster() {
            for m in &roster.members {
                for n in &m.nodes {
                    let addrs = n
                        .addrs
                        .iter()
                        .filter_map(|a| a.parse().ok())
                        .collect::<Vec<Multiaddr>>();
                    allowed.entry(peer_id(&n.key)).or_default().extend(addrs);
                }
            }
        }
        allowed.remove(&me);
        let previously: Vec<PeerId> = self
            .shared
            .swarm
            .behaviour()
            .gate
            .allowed_peers()
            .iter()
            .copied()
            .collect();
        for pid in previously {
            if !allowed.contains_key(&pid) {
                tracing::info!(peer = %pid, "no longer in the roster: disconnecting");
                self.shared.swarm.behaviour_mut().gate.disallow_peer(pid);
                self.shared.peers.remove(&pid);
            }
        }
        for (pid, addrs) in allowed {
            self.shared.swarm.behaviour_mut().gate.allow_peer(pid);
            let cached = self.shared.node.cached_addrs(&pid.to_base58());
            let p = self.shared.peers.entry(pid).or_default();
            for a in addrs
                .into_iter()
                .chain(cached.iter().filter_map(|a| a.parse().ok()))
            {
                if !p.addrs.contains(&a) {
                    p.addrs.push(a);
                }
            }
            if !p.connected && p.next_dial.is_none() {
                p.next_dial = Some(Instant::now());
            }
        }
    }

    fn redial_due(&mut self) {
        let now = Instant::now();
        let due: Vec<(PeerId, Vec<Multiaddr>)> = self
            .shared
            .peers
            .iter()
            .filter(|(pid, p)| {
                !p.connected
                    && p.next_dial.is_some_and(|t| t <= now)
                    && !p.addrs.is_empty()
                    && !self.shared.swarm.is_connected(pid)
            })
            .map(|(pid, p)| (*pid, p.addrs.clone()))
            .collect();
        for (pid, addrs) in due {
            let p = self.shared.peers.get_mut(&pid).expect("listed above");
            let b = p
                .backoff
                .map_or(REDIAL_FIRST, |b| (b * 2).min(self.max_backoff));
            p.backoff = Some(b);
            p.next_dial = Some(now + b);
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(pid)
                .addresses(addrs)
                .build();
            if let Err(e) = self.shared.swarm.dial(opts) {
                tracing::debug!(peer = %pid, error = %e, "cannot dial");
            }
        }
    }

    /// A sync request to `peer` timed out: after [`TIMEOUTS_BEFORE_REDIAL`] in a row, its
    /// connections are closed, and `on_disconnected` schedules the redial.
    fn on_timeout(&mut self, peer: PeerId) {
        let Some(p) = self.shared.peers.get_mut(&peer) else {
            return;
        };
        p.timeouts_in_a_row += 1;
        if p.timeouts_in_a_row >= TIMEOUTS_BEFORE_REDIAL {
            p.timeouts_in_a_row = 0;
            tracing::info!(
                peer = %peer,
                timeouts = TIMEOUTS_BEFORE_REDIAL,
                "the peer stopped answering: closing its connection to dial it again"
            );
            let _ = self.shared.swarm.disconnect_peer_id(peer);
        }
    }

    pub(super) fn handle_sync_event(&mut self, e: request_response::Event<Vec<u8>, Vec<u8>>) {
        match e {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                self.replication
                    .on_request(&mut self.shared, peer, request, channel);
            }
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(p) = self.shared.peers.get_mut(&peer) {
                    p.timeouts_in_a_row = 0;
                }
                self.replication
                    .on_response(&mut self.shared, peer, request_id, response);
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(peer = %peer, %error, "sync request failed");
                self.replication.on_failure(&mut self.shared, request_id);
                if matches!(error, request_response::OutboundFailure::Timeout) {
                    self.on_timeout(peer);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(peer = %peer, %error, "sync answer failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
