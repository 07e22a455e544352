//! The libp2p behaviour of a tipx node and the swarm that runs it: TCP (noise, yamux) and
//! QUIC; a gate that admits roster members only (first, so others are refused before any
//! protocol runs); connection limits; identify; ping; and `/tipx/sync/1`.

use std::time::Duration;

use libp2p::{
    Swarm, allow_block_list, connection_limits, identify, noise, ping, rendezvous,
    request_response,
    swarm::{NetworkBehaviour, behaviour::toggle::Toggle},
    tcp, yamux,
};

use super::codec::{Codec, PROTOCOL};

/// How long a sync request may take, including the peer's own work (a page of records
/// verified and stored).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Concurrent sync streams per connection.
pub const MAX_STREAMS: usize = 64;

/// The behaviours, in the order they see each connection.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Admits roster members only.
    pub gate: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    /// Refuses peers in their cooling-off period.
    pub bans: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Bounds connections.
    pub limits: connection_limits::Behaviour,
    /// Learns peers' listen addresses.
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
    /// Replication.
    pub sync: request_response::Behaviour<Codec>,
    /// On the coordinator's node: the rendezvous point where members register their
    /// addresses.
    pub rendezvous_server: Toggle<rendezvous::server::Behaviour>,
    /// On members: registers with the coordinator and discovers the other members.
    pub rendezvous: Toggle<rendezvous::client::Behaviour>,
}

/// The rendezvous namespace of tipx nodes.
pub const RENDEZVOUS_NAMESPACE: &str = "tipx";

/// Builds the swarm for `key` (the node key, also its libp2p identity); the coordinator's
/// node serves rendezvous, members are its clients.
pub fn build(
    key: &tipx_protocol::Keypair,
    max_connections: u32,
    idle_timeout: Duration,
    coordinator: bool,
) -> Result<Swarm<Behaviour>, super::Error> {
    let transport = |e: &dyn std::fmt::Display| super::Error::Transport(e.to_string());
    let mut secret = key.secret_bytes();
    let identity =
        libp2p::identity::Keypair::ed25519_from_bytes(&mut *secret).map_err(|e| transport(&e))?;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(identity)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| transport(&e))?
        .with_quic()
        .with_behaviour(|k| {
            let limits = connection_limits::ConnectionLimits::default()
                .with_max_established(Some(max_connections))
                .with_max_established_per_peer(Some(4));
            Behaviour {
                gate: Default::default(),
                bans: Default::default(),
                limits: connection_limits::Behaviour::new(limits),
                identify: identify::Behaviour::new(identify::Config::new(
                    "/tipx/1".into(),
                    k.public(),
                )),
                ping: ping::Behaviour::default(),
                sync: request_response::Behaviour::new(
                    [(PROTOCOL, request_response::ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(REQUEST_TIMEOUT)
                        .with_max_concurrent_streams(MAX_STREAMS),
                ),
                rendezvous_server: coordinator
                    .then(|| {
                        rendezvous::server::Behaviour::new(rendezvous::server::Config::default())
                    })
                    .into(),
                rendezvous: (!coordinator)
                    .then(|| rendezvous::client::Behaviour::new(k.clone()))
                    .into(),
            }
        })
        .map_err(|e| transport(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle_timeout))
        .build();
    Ok(swarm)
}

/// The libp2p PeerId of a tipx key.
pub fn peer_id(key: &tipx_protocol::PublicKey) -> libp2p::PeerId {
    let pk = libp2p::identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .expect("a valid ed25519 key");
    libp2p::identity::PublicKey::from(pk).to_peer_id()
}

/// The tipx key of a libp2p PeerId, if it is an ed25519 one.
pub fn public_key(peer: &libp2p::PeerId) -> Option<tipx_protocol::PublicKey> {
    tipx_protocol::PublicKey::from_peer_id(&peer.to_base58()).ok()
}
