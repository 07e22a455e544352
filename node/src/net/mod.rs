//! The federation's network: libp2p with one event loop that alone owns the `Swarm`. The
//! rest of the node talks to it through a cloneable [`Handle`] and the core's events; the
//! work that touches the disk (serving a page, storing received records) runs off the loop
//! and comes back to it as a `replication::Completed`, so the loop never blocks.
//!
//! Layout: [`addresses`] (the configured addresses, a port check), [`behaviour`] (the swarm), [`codec`] (`/tipx/sync/1` framing), [`event_loop`]
//! (connections, gate, redial), [`replication`] (carrying out the replication state machine
//! of `tipx_protocol::sync`), [`discovery`] (the coordinator's rendezvous point).

mod addresses;
pub mod behaviour;
pub mod codec;
mod discovery;
mod event_loop;
mod replication;
mod shared;

use serde::{Deserialize, Serialize};
use tipx_protocol::StateCode;
use tokio::sync::{mpsc, oneshot};

pub use addresses::Addresses;
pub use event_loop::spawn;

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configured address is wrong or cannot be used; `key` names the entry
    /// (`network.listen[0]`).
    #[error("{key}: {message}")]
    Address {
        /// The configuration key and entry.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The transport could not be built.
    #[error("cannot start the network: {0}")]
    Transport(String),
    /// The store could not be read at start.
    #[error(transparent)]
    Core(#[from] crate::core::Error),
    /// The receiving threads could not start.
    #[error("cannot start the receiving threads: {0}")]
    Threads(#[from] std::io::Error),
}

impl Error {
    fn address(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Address {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Commands queued for the event loop; beyond this, callers wait (back-pressure).
pub const COMMAND_QUEUE: usize = 256;

/// What `tipx peers` shows of one peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Its PeerId.
    pub peer_id: String,
    /// Its state, from the roster.
    pub state: Option<StateCode>,
    /// Whether a connection is open.
    pub connected: bool,
    /// Addresses known for it.
    pub addrs: Vec<String>,
    /// Last completed anti-entropy round, ms since the Unix epoch.
    pub last_sync_ms: Option<u64>,
    /// Last completed anti-entropy round, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    /// Records sent to it.
    pub sent: u64,
    /// Records received from it and stored.
    pub received: u64,
    /// Records from it that were refused.
    pub rejected: u64,
    /// Bytes of sync messages received from it (requests and answers).
    #[serde(default)]
    pub bytes_in: u64,
    /// Bytes of sync messages sent to it.
    #[serde(default)]
    pub bytes_out: u64,
    /// Anti-entropy rounds with it that ended in step, since start.
    #[serde(default)]
    pub rounds: u64,
}

/// Requests to the event loop.
#[derive(Debug)]
pub(crate) enum Command {
    /// Reply with the peers.
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    /// Reply with the network's part of `tipx status`.
    Status(oneshot::Sender<NetworkStatus>),
}

/// The network's part of `tipx status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// Records sent to peers, since start.
    #[serde(default)]
    pub sent: u64,
    /// Peers connected now.
    #[serde(default)]
    pub connected: u64,
    /// Peers known (roster members and the bootstrap node).
    #[serde(default)]
    pub known_peers: u64,
    /// Addresses the node listens on for peers.
    #[serde(default)]
    pub listening: Vec<String>,
    /// What the operator must know about the network, in words; the admin API adds them to
    /// the node's warnings.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// A cloneable handle to the event loop.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
}

impl Handle {
    /// The peers the node knows, connected or not.
    pub async fn peers(&self) -> Vec<PeerInfo> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Peers(tx)).await.is_err() {
            return vec![];
        }
        rx.await.unwrap_or_default()
    }

    /// The network's part of `tipx status` (empty once the loop has stopped).
    pub async fn status(&self) -> NetworkStatus {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Status(tx)).await.is_err() {
            return NetworkStatus::default();
        }
        rx.await.unwrap_or_default()
    }
}
