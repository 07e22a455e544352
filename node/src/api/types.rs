//! The admin API's request and response bodies, shared by the daemon and the CLI.

use serde::{Deserialize, Serialize};
use tipx_protocol::{
    StateCode,
    store::{AuditEntry, CheckReport},
};

pub use crate::core::{
    ConsentChange, PartnerRow,
    view::{
        NodeStatus, PublishRequest, Published, RecordCounts, RecordView, RetractRequest,
        RetractionView,
    },
};

/// What `tipx status` shows: the core's part and the network's, as one JSON object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// The store, the roster, the partners.
    #[serde(flatten)]
    pub node: NodeStatus,
    /// Connections and traffic.
    #[serde(flatten)]
    pub network: crate::net::NetworkStatus,
}

/// One audit entry as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditView {
    /// The entry as stored.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// When, RFC 3339.
    #[serde(default)]
    pub at: String,
    /// The peer's state, from the roster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_state: Option<StateCode>,
}

/// The audit log.
pub type AuditLog = Vec<AuditView>;
/// The result of `store check`.
pub type Check = CheckReport;

/// `POST /v1/backup`: where to write the backup, and the files to put in it beside the
/// store (the configuration; the key if asked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupRequest {
    /// The file to create (absolute).
    pub out: std::path::PathBuf,
    /// (name in the data directory, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// `POST /v1/bundle/export`: the state to choose records for, and the file to create
/// (absolute).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleExportRequest {
    /// The state the records are for.
    #[serde(rename = "for")]
    pub for_state: tipx_protocol::StateCode,
    /// The file to create.
    pub out: std::path::PathBuf,
}

/// `POST /v1/bundle/import`: the bundle file (absolute).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleImportRequest {
    /// The file to read.
    pub file: std::path::PathBuf,
}

/// An error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong and what to do.
    pub error: String,
}

/// `GET /v1/roster`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RosterView {
    /// The roster in force.
    pub in_force: Option<tipx_protocol::body::Roster>,
    /// The coordinator's unpublished draft.
    pub draft: Option<tipx_protocol::body::Roster>,
}

/// `POST /v1/roster/add`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterAdd {
    /// The member state.
    pub state: StateCode,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The node's key.
    pub peer_id: tipx_protocol::PublicKey,
    /// Where to dial it.
    #[serde(default)]
    pub addrs: Vec<String>,
}

/// `POST /v1/roster/remove`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterRemove {
    /// The node's key.
    pub peer_id: tipx_protocol::PublicKey,
}

/// One row of `tipx partners list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerView {
    /// The consent state.
    #[serde(flatten)]
    pub row: PartnerRow,
    /// Whether a node of that state is connected.
    pub connected: bool,
    /// Last completed sync with it, ms since the Unix epoch.
    pub last_sync_ms: Option<u64>,
    /// Last completed sync with it, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    /// Records sent to it.
    pub sent: u64,
    /// Records received from it.
    pub received: u64,
}

impl PartnerView {
    /// Joins consent rows with the network's peers.
    pub fn build(rows: Vec<PartnerRow>, peers: &[crate::net::PeerInfo]) -> Vec<Self> {
        rows.into_iter()
            .map(|row| {
                let of_state: Vec<_> = peers
                    .iter()
                    .filter(|p| p.state == Some(row.state))
                    .collect();
                let last_sync_ms = of_state.iter().filter_map(|p| p.last_sync_ms).max();
                Self {
                    connected: of_state.iter().any(|p| p.connected),
                    last_sync_ms,
                    last_sync: last_sync_ms.map(crate::time::rfc3339),
                    sent: of_state.iter().map(|p| p.sent).sum(),
                    received: of_state.iter().map(|p| p.received).sum(),
                    row,
                }
            })
            .collect()
    }
}
