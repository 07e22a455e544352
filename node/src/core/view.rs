//! What the core takes and shows: the requests to publish and retract, and the views of
//! records and of the node's state. The admin API sends them as they are and the command
//! line reads them, so they live here, below both.

use serde::{Deserialize, Serialize};
use tipx_protocol::{
    Body, Handling, Kind, RecordId, StateCode, Tlp,
    body::{Pillar, Severity},
    record::Record,
};

/// Publish one record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Who it is for; this node's own state is always added. Empty: this node's partners.
    #[serde(default)]
    pub audience: Vec<StateCode>,
    /// TLP marking (default amber).
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Handling code (default focal-point).
    #[serde(default)]
    pub handling: Option<Handling>,
    /// The content.
    pub body: Body,
}

/// The ids of published records, in request order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    /// One id per record.
    pub ids: Vec<RecordId>,
    /// What the operator should know: states named in an audience that will not receive
    /// the records, and why (each reason once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Withdraw a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetractRequest {
    /// Why.
    pub reason: String,
    /// Delete its body on every holder.
    #[serde(default)]
    pub erase: bool,
}

/// A record as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordView {
    /// Its id.
    pub id: RecordId,
    /// Its kind.
    pub kind: String,
    /// The author's state.
    pub state: StateCode,
    /// The author's key (PeerId).
    pub author: String,
    /// Who it is for.
    pub audience: Vec<String>,
    /// Position in its feed.
    pub seq: u64,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// Creation time, RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// TLP marking.
    pub tlp: Tlp,
    /// Handling code.
    pub handling: Handling,
    /// The title (for listings).
    pub title: String,
    /// An alert's severity (for listings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// A best practice's pillars (for listings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pillars: Vec<Pillar>,
    /// The retraction that withdrew it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retracted_by: Option<RecordId>,
    /// That retraction: why, when and by whom (shown with one record, not in listings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retraction: Option<RetractionView>,
    /// Whether its body was erased.
    pub erased: bool,
    /// The content, unless erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

impl RecordView {
    /// The view of `r`.
    pub fn of(r: &Record, retracted_by: Option<RecordId>, with_body: bool) -> Self {
        let body = r.body().ok().flatten();
        Self {
            id: r.id,
            kind: r.header.kind.to_string(),
            state: r.header.author_state,
            author: r.header.author.peer_id(),
            audience: r.header.audience.codes(),
            seq: r.header.seq,
            created_at_ms: r.header.created_at_ms,
            created_at: crate::time::rfc3339(r.header.created_at_ms),
            tlp: r.header.tlp,
            handling: r.header.handling,
            title: body
                .as_ref()
                .map_or_else(|| "(erased)".to_string(), Body::title),
            severity: match &body {
                Some(Body::Alert(a)) => Some(a.severity),
                _ => None,
            },
            pillars: match &body {
                Some(Body::BestPractice(b)) => b.pillars.clone(),
                _ => vec![],
            },
            retracted_by,
            retraction: None,
            erased: r.body.is_none(),
            body: if with_body { body } else { None },
        }
    }
}

/// The retraction that withdrew a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetractionView {
    /// The retraction record's id.
    pub id: RecordId,
    /// Why the record was withdrawn.
    pub reason: String,
    /// Whether its body was erased everywhere.
    pub erase: bool,
    /// The retracting state.
    pub state: StateCode,
    /// The retracting node's key (PeerId).
    pub author: String,
    /// When, ms since the Unix epoch.
    pub at_ms: u64,
    /// When, RFC 3339.
    pub at: String,
}

impl RetractionView {
    /// The view of `r`, if it is a retraction whose body is held.
    pub fn of(r: &Record) -> Option<Self> {
        let Ok(Some(Body::Retraction(x))) = r.body() else {
            return None;
        };
        Some(Self {
            id: r.id,
            reason: x.reason,
            erase: x.erase,
            state: r.header.author_state,
            author: r.header.author.peer_id(),
            at_ms: r.header.created_at_ms,
            at: crate::time::rfc3339(r.header.created_at_ms),
        })
    }
}

/// Records held, by kind: the exchange records states send each other, the control
/// records that run the federation, and the reporting records for the coordinator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordCounts {
    /// Alerts.
    pub alerts: u64,
    /// Best practices.
    pub best_practices: u64,
    /// Retractions.
    pub retractions: u64,
    /// Consent grants and revocations.
    pub consents: u64,
    /// Roster versions.
    pub rosters: u64,
    /// Activity summaries (the coordinator's, and a member's own).
    #[serde(default)]
    pub activities: u64,
    /// National profile versions.
    #[serde(default)]
    pub profiles: u64,
}

impl RecordCounts {
    /// Alerts, best practices and retractions.
    pub fn exchange(&self) -> u64 {
        self.alerts + self.best_practices + self.retractions
    }

    /// Consents and rosters.
    pub fn control(&self) -> u64 {
        self.consents + self.rosters
    }

    /// Activity summaries and national profiles.
    pub fn reporting(&self) -> u64 {
        self.activities + self.profiles
    }

    /// The count of `kind`.
    pub fn of(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Alert => self.alerts,
            Kind::BestPractice => self.best_practices,
            Kind::Retraction => self.retractions,
            Kind::Consent => self.consents,
            Kind::Roster => self.rosters,
            Kind::Activity => self.activities,
            Kind::Profile => self.profiles,
        }
    }
}

/// What the core knows of the node for `tipx status`; the admin API adds the network's
/// part (connections, traffic, listen addresses).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    /// This node's state.
    pub state: StateCode,
    /// This node's PeerId.
    pub peer_id: String,
    /// tipx version.
    pub version: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// When the node started, ms since the Unix epoch.
    #[serde(default)]
    pub started_at_ms: u64,
    /// When the node started, RFC 3339.
    #[serde(default)]
    pub started_at: String,
    /// Records held.
    pub records: u64,
    /// Records held, by kind.
    #[serde(default)]
    pub counts: RecordCounts,
    /// Feeds held.
    pub feeds: u64,
    /// Store size on disk, bytes.
    pub store_bytes: u64,
    /// Partner states.
    pub partners: Vec<StateCode>,
    /// Roster version held (0 for none).
    pub roster_version: u64,
    /// Forks detected.
    pub forks: u64,
    /// Records received from peers and newly stored, since start.
    pub received_new: u64,
    /// Copies of records already held that peers sent again, since start.
    pub received_duplicate: u64,
    /// What the operator must act on, in words (e.g. this node's key is not in the roster),
    /// from the core and the network.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// While the store lacks records it once held, or is unproven: how far it has come
    /// back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<super::complete::Recovery>,
    /// The full-text index: ready, or how far its rebuild from the store is (none: the
    /// node has no index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::search::State>,
}
