//! The schema: one struct per `[section]`, every field optional with a documented default.
//!
//! Each struct is `#[serde(default, deny_unknown_fields)]`, so a missing key takes the value
//! given here and a misspelt one is an error that names it. The defaults are the ones
//! DESIGN.md §9 promises (p2p on 7100 over TCP and QUIC, the admin API on 127.0.0.1:7180);
//! every field says why it has the value it has. `docs/CONFIG.md` lists the same keys and must
//! be kept in step with this file (a test checks that every key appears there).

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};
use tipx_protocol::{PublicKey, StateCode};

/// Default p2p port, TCP and UDP (QUIC) alike (DESIGN.md §9).
pub const DEFAULT_P2P_PORT: u16 = 7100;

/// Default port of the local admin API (DESIGN.md §8-§9).
pub const DEFAULT_API_PORT: u16 = 7180;

/// Every key of the schema, as `section.key`, in the order of the file.
///
/// Each has an environment variable: `TIPX_` followed by the key upper-cased with `.` as `_`
/// (see [`env_var`](crate::env_var)).
pub const KEYS: &[&str] = &[
    "node.state",
    "node.key_file",
    "node.name",
    "network.listen",
    "network.external",
    "network.bootstrap",
    "network.idle_timeout_secs",
    "network.redial_max_backoff_secs",
    "network.max_connections",
    "api.listen",
    "api.token_file",
    "store.cache_capacity_mib",
    "store.max_record_bytes",
    "store.audit_retention_days",
    "store.min_free_mib",
    "store.full_text_index",
    "federation.anchor",
    "federation.pinned_keys",
    "exchange.partners",
    "exchange.sync_interval_secs",
    "exchange.page_max_records",
    "exchange.page_max_bytes",
    "exchange.daily_records_per_author",
    "exchange.daily_mib_per_author",
    "log.format",
    "log.level",
    "metrics.listen",
    "report.activity",
    "report.language",
];

/// The whole configuration file of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[node]`: who this node is.
    pub node: Node,
    /// `[network]`: the libp2p side.
    pub network: Network,
    /// `[api]`: the local admin API.
    pub api: Api,
    /// `[store]`: the on-disk database.
    pub store: Store,
    /// `[federation]`: trust in the coordinator's roster.
    pub federation: Federation,
    /// `[exchange]`: with whom and how records are exchanged.
    pub exchange: Exchange,
    /// `[log]`: tracing output.
    pub log: Log,
    /// `[metrics]`: Prometheus metrics.
    pub metrics: Metrics,
    /// `[report]`: activity summaries for the coordinator, and `tipx report`.
    pub report: Report,
}

/// `[report]`: what this node tells the coordinator of its activity, and the language of
/// `tipx report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Report {
    /// How much the daily activity summary for the coordinator says: `full` (counts by
    /// kind, pillar, severity, category, language and partner state), `totals` (counts by
    /// kind only, no partner state named) or `off` (none sent).
    ///
    /// Default: `full`. A summary goes only to the coordinator, only if this state and the
    /// coordinator both asked to exchange, and never names a record. A state with several
    /// nodes sets `off` on all but one of them: they hold the same records.
    pub activity: ActivityDetail,
    /// The language of `tipx report`: `en`, `es`, `fr` or `pt`.
    ///
    /// Default: `en`; `--lang` overrides it.
    pub language: String,
}

impl Default for Report {
    fn default() -> Self {
        Self {
            activity: ActivityDetail::Full,
            language: "en".into(),
        }
    }
}

/// How much an activity summary says (`report.activity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityDetail {
    /// Counts by kind, pillar, severity, category, language and partner state.
    #[default]
    Full,
    /// Counts by kind only.
    Totals,
    /// No summaries.
    Off,
}

impl ActivityDetail {
    /// The name used in the file and in `TIPX_REPORT_ACTIVITY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Totals => "totals",
            Self::Off => "off",
        }
    }
}

impl FromStr for ActivityDetail {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "totals" => Ok(Self::Totals),
            "off" => Ok(Self::Off),
            _ => Err(format!(
                "{s:?} is not an activity setting (expected full, totals or off)"
            )),
        }
    }
}

/// The languages `tipx report` writes.
pub const REPORT_LANGUAGES: [&str; 4] = ["en", "es", "fr", "pt"];

/// `[metrics]`: a Prometheus scrape endpoint (counts only: no record content, no record
/// id).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Metrics {
    /// Address to serve `GET /metrics` on, `host:port`, e.g. `127.0.0.1:9180`.
    ///
    /// Default: unset — no endpoint. It needs no token (Prometheus scrapes without one),
    /// so keep it on loopback or a management network.
    pub listen: Option<SocketAddr>,
}

/// `[node]`: the identity of this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Node {
    /// The state this node speaks for (`MX`, `CO`, … or `OAS` for the coordinator).
    ///
    /// Default: none, and [`Config::validate`](crate::Config::validate) refuses a
    /// configuration without it — there is no sensible guess for who you are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateCode>,
    /// The node's secret key file (32 bytes, mode 0600), relative to the data directory
    /// unless absolute.
    ///
    /// Default: `node.key`, the file `tipx init` creates in the data directory, so a data
    /// directory is self-contained.
    pub key_file: PathBuf,
    /// A human label for status output and logs; empty means none.
    ///
    /// Default: empty — the state code already identifies the node.
    pub name: String,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            state: None,
            key_file: PathBuf::from("node.key"),
            name: String::new(),
        }
    }
}

/// `[network]`: libp2p listening, announcing, dialling and connection limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// Multiaddrs to listen on.
    ///
    /// Default: TCP and QUIC on port 7100 on every interface (DESIGN.md §9), so that
    /// partners can reach the node without extra settings.
    pub listen: Vec<String>,
    /// Multiaddrs to announce to peers in addition to the observed ones.
    ///
    /// Default: none — peers learn the address they see; set this only behind NAT or a port
    /// forward, where the observed address is not the reachable one.
    pub external: Vec<String>,
    /// Multiaddrs of the coordinator's node, each ending in `/p2p/<peer id>`.
    ///
    /// Default: none — right for the coordinator itself and for a lone node; a member state
    /// sets the address the coordinator publishes.
    pub bootstrap: Vec<String>,
    /// Seconds a connection may carry nothing before it is closed.
    ///
    /// Default: 3600 (an hour). Partners sync every minute, so their links never go idle;
    /// this only frees connections to peers we no longer exchange with.
    pub idle_timeout_secs: u64,
    /// Upper bound, in seconds, of the doubling delay between redials of a lost peer.
    ///
    /// Default: 300 (five minutes): a partner that comes back is reconnected within five
    /// minutes, and one that is down is not hammered.
    pub redial_max_backoff_secs: u64,
    /// Most connections open at once, inbound and outbound together.
    ///
    /// Default: 128 — a few dozen member states with a couple of transports each fit with
    /// room to spare, and a flood of connections cannot exhaust the node.
    pub max_connections: u32,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            listen: listen_addrs(DEFAULT_P2P_PORT),
            external: Vec::new(),
            bootstrap: Vec::new(),
            idle_timeout_secs: 3600,
            redial_max_backoff_secs: 300,
            max_connections: 128,
        }
    }
}

impl Network {
    /// [`idle_timeout_secs`](Self::idle_timeout_secs) as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// [`redial_max_backoff_secs`](Self::redial_max_backoff_secs) as a duration.
    pub fn redial_max_backoff(&self) -> Duration {
        Duration::from_secs(self.redial_max_backoff_secs)
    }
}

/// The listen addresses for `port` on every IPv4 interface: TCP and QUIC.
pub(crate) fn listen_addrs(port: u16) -> Vec<String> {
    vec![
        format!("/ip4/0.0.0.0/tcp/{port}"),
        format!("/ip4/0.0.0.0/udp/{port}/quic-v1"),
    ]
}

/// `[api]`: the local HTTP/JSON admin API that every `tipx` command talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Api {
    /// Address to serve the API on, `host:port`; must be a loopback address.
    ///
    /// Default: `127.0.0.1:7180` (DESIGN.md §8-§9). The API controls the node, so it is
    /// never exposed on the network; reach it remotely through SSH.
    pub listen: SocketAddr,
    /// The file holding the API token (mode 0600), relative to the data directory unless
    /// absolute.
    ///
    /// Default: `api.token`, created beside the node key so a data directory is
    /// self-contained.
    pub token_file: PathBuf,
}

impl Default for Api {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_API_PORT)),
            token_file: PathBuf::from("api.token"),
        }
    }
}

/// `[store]`: the sled database in the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// Bound of sled's page cache, in MiB.
    ///
    /// Default: 64. sled's own default is 1 GiB; a node's working set (roster, recent
    /// records, indexes) is far smaller, and the daemon often shares a server.
    pub cache_capacity_mib: u64,
    /// Largest signed record (header and body) accepted, from a peer or a local publish,
    /// in bytes.
    ///
    /// Default: 262144 (256 KiB). Records are structured text without attachments; this is
    /// generous for them and bounds what one peer can make us hold.
    pub max_record_bytes: usize,
    /// Days the audit log is kept; older entries are deleted (at start and every six
    /// hours).
    ///
    /// Default: 400: a year's activity report, and a margin, can always be made from it.
    pub audit_retention_days: u64,
    /// Free space, in MiB, kept on the disk of the store: a publish or a received page that
    /// would leave less is refused before anything is written (reads keep working).
    ///
    /// Default: 100. sled stops working after a write fails on a full disk, until the
    /// daemon is restarted; this keeps it from ever meeting one through its own writes.
    pub min_free_mib: u64,
    /// Keep the full-text search index of best practices and alerts (`records list
    /// --text`), beside the store in `search/`.
    ///
    /// Default: true. Off, a text search reads every body (seconds at a million records),
    /// catch-ups skip the indexing work, and the node deletes the index directory at start,
    /// so that no erased record's words stay in it.
    pub full_text_index: bool,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            cache_capacity_mib: 64,
            max_record_bytes: 256 * 1024,
            audit_retention_days: 400,
            min_free_mib: 100,
            full_text_index: true,
        }
    }
}

impl Store {
    /// [`cache_capacity_mib`](Self::cache_capacity_mib) in bytes, as sled wants it.
    pub fn cache_capacity_bytes(&self) -> u64 {
        self.cache_capacity_mib.saturating_mul(1024 * 1024)
    }
}

/// `[federation]`: which coordinator this node trusts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Federation {
    /// The coordinator's anchor key (PeerId form, `12D3KooW…`) that signs the roster.
    ///
    /// Default: none — the node is unpinned, which is right for a lone node and for the
    /// coordinator itself; a member state pins the key the coordinator gave it out of band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<PublicKey>,
    /// The only node keys (PeerId form) a roster may list for this node's state; a roster
    /// listing any other key for it is refused and the previous roster stays in force.
    ///
    /// Default: none — no pinning: the coordinator may add keys under this state (the
    /// node then warns), which is right while a state runs one node and trusts the
    /// coordinator to add its next one.
    pub pinned_keys: Vec<PublicKey>,
}

/// `[exchange]`: partners and the pace and size of synchronisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exchange {
    /// States this node grants consent to exchange with, applied at start-up to the states
    /// this state never consented about: an explicit revoke wins until `partners request`.
    ///
    /// Default: none — exchange is by explicit consent only.
    pub partners: Vec<StateCode>,
    /// Seconds between sync rounds with each connected partner.
    ///
    /// Default: 60: an alert reaches partners within a minute, and a round with nothing new
    /// costs one small request.
    pub sync_interval_secs: u64,
    /// Most records in one sync page.
    ///
    /// Default: 256 — a backlog moves in few round trips while a page stays small.
    pub page_max_records: usize,
    /// Most bytes of records in one sync page; at least `store.max_record_bytes`.
    ///
    /// Default: 1048576 (1 MiB): four records of the largest size fit, and one response
    /// never holds more than this in memory.
    pub page_max_bytes: usize,
    /// Most records this node takes from peers per author (signing key) per day, counted
    /// on arrival; the rest waits for the next day.
    ///
    /// Default: 2000000 — a 1,000,000-record import by a partner, or a rebuild from
    /// partners, passes in a day; a member flooding the federation does not.
    pub daily_records_per_author: u64,
    /// Most MiB of records this node takes from peers per author per day.
    ///
    /// Default: 8192 (8 GiB).
    pub daily_mib_per_author: u64,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            partners: Vec::new(),
            sync_interval_secs: 60,
            page_max_records: 256,
            page_max_bytes: 1024 * 1024,
            daily_records_per_author: tipx_protocol::quota::DEFAULT_RECORDS_PER_AUTHOR_DAY,
            daily_mib_per_author: tipx_protocol::quota::DEFAULT_BYTES_PER_AUTHOR_DAY >> 20,
        }
    }
}

impl Exchange {
    /// [`sync_interval_secs`](Self::sync_interval_secs) as a duration.
    pub fn sync_interval(&self) -> Duration {
        Duration::from_secs(self.sync_interval_secs)
    }

    /// The daily quotas per author.
    pub fn quota_limits(&self) -> tipx_protocol::quota::Limits {
        tipx_protocol::quota::Limits {
            records: self.daily_records_per_author,
            bytes: self.daily_mib_per_author.saturating_mul(1024 * 1024),
        }
    }
}

/// `[log]`: what `tracing` writes and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// Output format.
    ///
    /// Default: `text`, for a person at a terminal; choose `json` for a log collector.
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info` or `info,tipx_node=debug`.
    ///
    /// Default: `info` — one line per notable event, quiet enough to leave on.
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_string(),
        }
    }
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The name used in the file and in `TIPX_LOG_FORMAT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a [`LogFormat`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a log format (expected text or json)")]
pub struct InvalidLogFormat(pub String);

impl FromStr for LogFormat {
    type Err = InvalidLogFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(InvalidLogFormat(s.to_string())),
        }
    }
}
