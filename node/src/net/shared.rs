//! What the event loop's parts share: the swarm, what is known of each peer, the core, and
//! the channel on which work done off the loop comes back to it. The loop owns one
//! [`Shared`] and lends it to its parts (replication, discovery), which import nothing of
//! the loop itself.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use libp2p::{Multiaddr, PeerId, Swarm, request_response::ResponseChannel};
use tipx_protocol::{FeedId, PublicKey, sync::Response};
use tokio::sync::mpsc;

use super::behaviour::Behaviour;
use crate::core::{Node, Received};

/// The loop's shared parts.
pub(super) struct Shared {
    /// The swarm; only the loop's thread touches it.
    pub(super) swarm: Swarm<Behaviour>,
    /// What the loop knows of each peer.
    pub(super) peers: HashMap<PeerId, Peer>,
    /// The core.
    pub(super) node: Arc<Node>,
    /// Where work done off the loop reports back.
    pub(super) done_tx: mpsc::Sender<Completed>,
}

/// What the loop knows of one peer.
#[derive(Debug, Default)]
pub(super) struct Peer {
    pub(super) addrs: Vec<Multiaddr>,
    pub(super) connected: bool,
    pub(super) last_sync_ms: Option<u64>,
    pub(super) sent: u64,
    pub(super) received: u64,
    pub(super) rejected: u64,
    /// Bytes of sync messages received from it, and sent to it.
    pub(super) bytes_in: u64,
    pub(super) bytes_out: u64,
    /// Anti-entropy rounds with it that ended in step.
    pub(super) rounds: u64,
    pub(super) backoff: Option<Duration>,
    pub(super) next_dial: Option<Instant>,
    /// Whether the open connection got as far as identify (the peer's gate let us in).
    pub(super) identified: bool,
    /// Connections in a row that the peer closed before identify: its gate refuses us.
    pub(super) refused_in_a_row: u32,
    /// Sync requests to it in a row that timed out, with no answer from it in between.
    pub(super) timeouts_in_a_row: u32,
}

/// Work that left the loop because it touches the disk, coming back to it.
pub(crate) enum Completed {
    /// A page read from the store, to send as the answer to a fetch.
    Served {
        channel: ResponseChannel<Vec<u8>>,
        peer: PeerId,
        response: Response,
    },
    /// Records from `peer` were checked and stored (or the store failed): a page of `page`,
    /// or a push to acknowledge on `ack`.
    Received {
        peer: PublicKey,
        page: Option<FeedId>,
        total: usize,
        result: Result<Received, crate::core::Error>,
        ack: Option<(ResponseChannel<Vec<u8>>, PeerId)>,
    },
}

impl Shared {
    /// Sends `response` on `channel`, counting the records it carries.
    pub(super) fn respond(
        &mut self,
        channel: ResponseChannel<Vec<u8>>,
        peer: PeerId,
        response: Response,
    ) {
        let bytes = response.encode();
        if let Some(p) = self.peers.get_mut(&peer) {
            if let Response::Records { records, .. } = &response {
                p.sent += records.len() as u64;
            }
            p.bytes_out += bytes.len() as u64;
        }
        if self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, bytes)
            .is_err()
        {
            tracing::debug!(peer = %peer, "peer left before the answer");
        }
    }
}
