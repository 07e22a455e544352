//! The report's data: what `tipx report --format json` writes (schema in docs/REPORT.md),
//! and what every other format and every chart is drawn from. Counts only, plus the titles
//! of best practices addressed to this node's state (the annex): nothing here comes from a
//! record that was not addressed to this node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tipx_protocol::{
    Kind, StateCode,
    body::{PalermoStatus, Pillar, Severity},
    day::Day,
};

/// The version of this JSON shape.
pub const SCHEMA: u32 = 1;

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: u32,
    /// When it was written, RFC 3339.
    pub generated_at: String,
    /// The days it covers, both included.
    pub period: Period,
    /// The federation (on the coordinator's node) or one state's own exchange.
    pub scope: Scope,
    /// The state of the node that wrote it.
    pub by: StateCode,
    /// Language of its labels: en, es, fr or pt.
    pub language: String,
    /// 1. Who takes part, and who exchanges with whom.
    pub participation: Participation,
    /// 2. How much was exchanged, and on what.
    pub volume: Volume,
    /// 3. The national profiles compared.
    pub profiles: Vec<ProfileRow>,
    /// 4. The best practices addressed to this node's state.
    pub annex: Vec<AnnexEntry>,
    /// 5. What the data covers and what the report cannot see.
    pub notes: DataNotes,
}

/// A span of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub from: Day,
    /// Last day (included).
    pub to: Day,
}

/// What a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The whole federation, from the activity summaries the coordinator received.
    Federation,
    /// One state's own exchange, from its node's store and audit log.
    State,
}

/// Section 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Participation {
    /// Roster members at the end of the period, by state code.
    pub members: Vec<Member>,
    /// Pairs of states that both asked to exchange at the end of the period, each once
    /// (`a` < `b`).
    pub consents: Vec<ConsentPair>,
    /// States that joined the roster during the period.
    pub joined: Vec<StateCode>,
    /// States that left the roster during the period.
    pub left: Vec<StateCode>,
    /// Members that sent no activity summary for the period.
    pub no_activity: Vec<StateCode>,
    /// Members with no national profile.
    pub no_profile: Vec<StateCode>,
}

/// A roster member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Its code.
    pub state: StateCode,
    /// Its name.
    pub name: String,
    /// Whether its activity is seen.
    pub reporting: Reporting,
    /// Whether a national profile of it is held.
    pub profile: bool,
}

/// Whether a member's activity is in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reporting {
    /// Its summaries cover at least one day of the period.
    Summaries,
    /// It exchanges with this node's state but sent no summary for the period.
    NoData,
    /// It has not consented to exchange with this node's state: it cannot report to it.
    NoConsent,
    /// This node's own state (a member's report, from its own store).
    Own,
}

/// Two states that exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPair {
    /// The lower code.
    pub a: StateCode,
    /// The higher code.
    pub b: StateCode,
    /// The day the later of the two grants was made, if known.
    pub since: Option<Day>,
}

/// Section 2. Every count is of records published by the state named, as its summaries
/// say (or as the node's store says, for its own state in a member's report).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// The months of the period, `YYYY-MM`, in order.
    pub months: Vec<String>,
    /// Records published, per month, state and kind (zero counts left out).
    pub by_month: Vec<MonthCount>,
    /// Per state over the whole period.
    pub states: Vec<StateTotals>,
    /// Best practices published, by pillar (one practice may serve several).
    pub pillars: BTreeMap<Pillar, u64>,
    /// Alerts published, by severity.
    pub severities: BTreeMap<Severity, u64>,
    /// Alerts published, by category.
    pub categories: BTreeMap<String, u64>,
    /// Best practices and alerts published, by language.
    pub languages: BTreeMap<String, u64>,
}

/// Records of one kind published by one state in one month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// The author's state.
    pub state: StateCode,
    /// The kind.
    pub kind: Kind,
    /// How many.
    pub count: u64,
}

/// One state's totals over the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateTotals {
    /// The state.
    pub state: Option<StateCode>,
    /// Records it published, by kind.
    pub published: BTreeMap<Kind, u64>,
    /// Records it received from partners, by kind.
    pub received: BTreeMap<Kind, u64>,
    /// Retractions it published.
    pub retractions: u64,
    /// Of which erasing.
    pub erasures: u64,
    /// Records its node refused.
    pub rejections: u64,
    /// Bytes of replication traffic, in and out.
    pub sync_bytes: u64,
}

/// Section 3: one state's latest national profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// The state.
    pub state: Option<StateCode>,
    /// When the latest profile in the period was published.
    pub updated: Option<Day>,
    /// Palermo Protocol status.
    pub palermo: Option<PalermoStatus>,
    /// Its date.
    pub palermo_date: Option<Day>,
    /// National laws listed.
    pub laws: u64,
    /// A coordination mechanism exists.
    pub mechanism: Option<bool>,
    /// The action plan's first and last year.
    pub action_plan: Option<(u16, u16)>,
    /// A hotline is given.
    pub hotline: bool,
    /// Shelters.
    pub shelters: Option<u64>,
    /// A victim-identification protocol is in use.
    pub identification_protocol: Option<bool>,
    /// The latest year with statistics.
    pub year: Option<u16>,
    /// Victims identified that year (the sum of the known figures).
    pub victims: Option<u64>,
    /// Investigations that year.
    pub investigations: Option<u64>,
    /// Prosecutions that year.
    pub prosecutions: Option<u64>,
    /// Convictions that year.
    pub convictions: Option<u64>,
    /// Fields that changed since the state's last profile before the period (their JSON
    /// names above); empty if none was held before.
    pub changed: Vec<String>,
}

/// Section 4: a best practice addressed to this node's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexEntry {
    /// Its author's state.
    pub state: StateCode,
    /// Its title.
    pub title: String,
    /// Its pillars.
    pub pillars: Vec<Pillar>,
    /// Its language.
    pub language: String,
    /// When it was published.
    pub published: Day,
}

/// Section 5.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataNotes {
    /// Which days each state's summaries cover.
    pub coverage: Vec<Coverage>,
    /// What the reader should know, each a code the renderer puts in words.
    pub notices: Vec<Notice>,
}

/// The days of the period one state's summaries cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The state.
    pub state: StateCode,
    /// Days covered.
    pub days: u32,
    /// First day covered.
    pub first: Option<Day>,
    /// Last day covered.
    pub last: Option<Day>,
    /// Node keys that sent summaries (more than one: see [`Notice::SeveralReportingNodes`]).
    pub nodes: u32,
    /// Some summaries gave totals only (no breakdown by pillar, severity or partner).
    pub totals_only: bool,
}

/// Something the reader should know about the data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Notice {
    /// The report counts published records from activity summaries; it never sees the
    /// content of records not addressed to this node's state.
    CountsOnly,
    /// `state` has not consented to exchange with this node's state: no data from it.
    NoConsent {
        /// The state.
        state: StateCode,
    },
    /// Two or more nodes of `state` sent summaries for the same days: the report counted
    /// one node's (the one with the most days) and ignored the others.
    SeveralReportingNodes {
        /// The state.
        state: StateCode,
        /// How many nodes.
        nodes: u32,
    },
    /// Some of `state`'s summaries gave totals only.
    TotalsOnly {
        /// The state.
        state: StateCode,
    },
    /// Days of the period after the last summary received are not covered yet.
    Incomplete {
        /// The state.
        state: StateCode,
        /// Days missing.
        days: u32,
    },
}
