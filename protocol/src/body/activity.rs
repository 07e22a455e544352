//! Activity summaries: what a node did over one UTC day, in counts only, for the
//! coordinator's report to the Permanent Council. A summary never names a record: no
//! title, text, indicator, tag or id can be written in it, because it has no field for one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Kind, StateCode,
    body::{Pillar, Severity},
    day::Day,
};

/// Most entries in any one list of a summary (categories, languages, rejection reasons).
pub const MAX_ENTRIES: usize = 64;
/// Most (state, kind) entries of records received.
pub const MAX_RECEIVED: usize = 512;
/// Longest name of a category, language or reason, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Records received from one state (or from all, in a summary of totals), of one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedCount {
    /// The author's state; `None` in a summary of totals only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StateCode>,
    /// The kind.
    pub kind: Kind,
    /// How many.
    pub count: u64,
}

/// Bytes and rounds of replication over the day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncTraffic {
    /// Bytes of sync messages received.
    pub bytes_in: u64,
    /// Bytes of sync messages sent.
    pub bytes_out: u64,
    /// Anti-entropy rounds ended.
    pub rounds: u64,
}

/// One node's activity over one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// The day.
    pub day: Day,
    /// Covered up to this time (ms since the Unix epoch): the day's end, or earlier for a
    /// summary sent during the day.
    pub through_ms: u64,
    /// Counts per kind only, with no breakdown (`[report] activity = "totals"`).
    #[serde(default)]
    pub totals_only: bool,
    /// Records this state published, by kind.
    #[serde(default)]
    pub published: BTreeMap<Kind, u64>,
    /// Best practices published, by pillar (a practice may serve several).
    #[serde(default)]
    pub pillars: BTreeMap<Pillar, u64>,
    /// Alerts published, by severity.
    #[serde(default)]
    pub severities: BTreeMap<Severity, u64>,
    /// Alerts published, by category.
    #[serde(default)]
    pub categories: BTreeMap<String, u64>,
    /// Best practices and alerts published, by language.
    #[serde(default)]
    pub languages: BTreeMap<String, u64>,
    /// Records received from partners, by author state and kind.
    #[serde(default)]
    pub received: Vec<ReceivedCount>,
    /// Retractions published.
    #[serde(default)]
    pub retractions: u64,
    /// Of which erasing the body.
    #[serde(default)]
    pub erasures: u64,
    /// Records refused, by reason code.
    #[serde(default)]
    pub rejections: BTreeMap<String, u64>,
    /// Partner states (mutual consent) this node held that day.
    #[serde(default)]
    pub active_partners: u32,
    /// Replication traffic.
    #[serde(default)]
    pub sync: SyncTraffic,
}

impl Activity {
    /// An empty summary of `day`, covering it up to `through_ms`.
    pub fn empty(day: Day, through_ms: u64) -> Self {
        Self {
            day,
            through_ms,
            totals_only: false,
            published: BTreeMap::new(),
            pillars: BTreeMap::new(),
            severities: BTreeMap::new(),
            categories: BTreeMap::new(),
            languages: BTreeMap::new(),
            received: Vec::new(),
            retractions: 0,
            erasures: 0,
            rejections: BTreeMap::new(),
            active_partners: 0,
            sync: SyncTraffic::default(),
        }
    }

    /// Checks the content rules: bounded lists and names, `through_ms` within the day,
    /// no breakdown in a summary of totals.
    pub fn check(&self) -> Result<(), String> {
        if self.through_ms < self.day.start_ms() || self.through_ms > self.day.end_ms() {
            return Err(format!(
                "the summary of {} covers it up to {} ms, which is not within that day",
                self.day, self.through_ms
            ));
        }
        for (what, n) in [
            ("categories", self.categories.len()),
            ("languages", self.languages.len()),
            ("rejection reasons", self.rejections.len()),
        ] {
            if n > MAX_ENTRIES {
                return Err(format!("{n} {what}; at most {MAX_ENTRIES} are allowed"));
            }
        }
        if self.received.len() > MAX_RECEIVED {
            return Err(format!(
                "{} received counts; at most {MAX_RECEIVED} are allowed",
                self.received.len()
            ));
        }
        let names = self.categories.keys().chain(self.languages.keys());
        for name in names.chain(self.rejections.keys()) {
            let n = name.chars().count();
            if name.trim().is_empty() || n > MAX_NAME_CHARS {
                return Err(format!(
                    "a name in a summary has {n} characters; 1 to {MAX_NAME_CHARS} are allowed"
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.received {
            if !seen.insert((r.state, r.kind)) {
                return Err(format!(
                    "records received of kind {} are counted twice",
                    r.kind
                ));
            }
            if self.totals_only == r.state.is_some() {
                return Err(match self.totals_only {
                    true => "a summary of totals names no partner state".into(),
                    false => "every count of records received names its state".into(),
                });
            }
        }
        let breakdown = !(self.pillars.is_empty()
            && self.severities.is_empty()
            && self.categories.is_empty()
            && self.languages.is_empty());
        if self.totals_only && breakdown {
            return Err(
                "a summary of totals has no breakdown by pillar, severity, category or language"
                    .into(),
            );
        }
        if self.erasures > self.retractions {
            return Err("more erasures than retractions".into());
        }
        Ok(())
    }
}
