//! National profiles: the same facts from every member state, kept current by the state
//! itself, for the Secretariat's research (resolution, 2.a). A state's latest profile
//! supersedes its earlier ones, which stay in its feed as history. A profile names an
//! institution and a role, never a person.

use serde::{Deserialize, Serialize};

use crate::{day::Day, record::text_enum};

/// Most laws listed.
pub const MAX_LAWS: usize = 32;
/// Most years of statistics.
pub const MAX_YEARS: usize = 50;
/// Longest short text (a name, a title, a role, an address), in characters.
pub const MAX_FIELD_CHARS: usize = 300;
/// Longest note, in characters.
pub const MAX_NOTES_CHARS: usize = 4_000;
/// The years a profile may speak of.
pub const YEARS: std::ops::RangeInclusive<u16> = 1950..=2100;

text_enum!(
    /// Where a state stands with the UN Trafficking (Palermo) Protocol.
    PalermoStatus {
        /// Neither signed nor a party.
        None = "none",
        /// Signed, not yet ratified.
        Signed = "signed",
        /// Ratified.
        Ratified = "ratified",
        /// Acceded.
        Acceded = "acceded",
    }
);

/// The Palermo Protocol's status, with the date of the last step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Palermo {
    /// The status; `None` if unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PalermoStatus>,
    /// When it was signed, ratified or acceded to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Day>,
}

/// A national law against trafficking in persons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Law {
    /// Its title.
    pub title: String,
    /// The year it was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    /// Its number or official reference.
    #[serde(default)]
    pub reference: String,
}

/// The national coordination mechanism.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mechanism {
    /// Whether there is one; `None` if unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The institution that leads it.
    #[serde(default)]
    pub lead: String,
}

/// The national action plan in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPlan {
    /// First year.
    pub from: u16,
    /// Last year.
    pub to: u16,
    /// Its title.
    #[serde(default)]
    pub title: String,
}

/// Victims identified in a year; each figure may be unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Victims {
    /// Women.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub women: Option<u64>,
    /// Men.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub men: Option<u64>,
    /// Girls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub girls: Option<u64>,
    /// Boys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boys: Option<u64>,
    /// Not disaggregated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_disaggregated: Option<u64>,
}

impl Victims {
    /// The sum of the known figures, `None` if none is known.
    pub fn total(&self) -> Option<u64> {
        let known = [
            self.women,
            self.men,
            self.girls,
            self.boys,
            self.not_disaggregated,
        ];
        known
            .iter()
            .flatten()
            .copied()
            .reduce(|a, b| a.saturating_add(b))
    }
}

/// Victims identified in a year by form of exploitation; each figure may be unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exploitation {
    /// Sexual exploitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sexual: Option<u64>,
    /// Forced labour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labour: Option<u64>,
    /// Forced marriage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_marriage: Option<u64>,
    /// Other forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<u64>,
}

/// One year's statistics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearStatistics {
    /// The year.
    pub year: u16,
    /// Victims identified.
    #[serde(default)]
    pub victims: Victims,
    /// Forms of exploitation.
    #[serde(default)]
    pub exploitation: Exploitation,
    /// Investigations opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigations: Option<u64>,
    /// Prosecutions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prosecutions: Option<u64>,
    /// Convictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convictions: Option<u64>,
}

/// The focal point's institutional contact: a role and an institution, no person.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FocalPoint {
    /// The role (e.g. "National coordinator against trafficking in persons").
    #[serde(default)]
    pub role: String,
    /// The institution.
    #[serde(default)]
    pub institution: String,
    /// An institutional address (postal, e-mail or web).
    #[serde(default)]
    pub address: String,
}

/// A member state's national profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Language of its texts.
    #[serde(default = "super::default_language")]
    pub language: String,
    /// The Palermo Protocol.
    #[serde(default)]
    pub palermo: Palermo,
    /// National laws.
    #[serde(default)]
    pub laws: Vec<Law>,
    /// The coordination mechanism.
    #[serde(default)]
    pub mechanism: Mechanism,
    /// The national action plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_plan: Option<ActionPlan>,
    /// The national hotline (a number or an address); empty if none or unknown.
    #[serde(default)]
    pub hotline: String,
    /// Shelters for victims; `None` if unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelters: Option<u64>,
    /// Whether a victim-identification protocol is in use; `None` if unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification_protocol: Option<bool>,
    /// Yearly statistics, one entry per year.
    #[serde(default)]
    pub statistics: Vec<YearStatistics>,
    /// The focal point.
    #[serde(default)]
    pub focal_point: FocalPoint,
    /// Anything else worth knowing.
    #[serde(default)]
    pub notes: String,
}

impl Profile {
    /// The statistics of the latest year given.
    pub fn latest_statistics(&self) -> Option<&YearStatistics> {
        self.statistics.iter().max_by_key(|s| s.year)
    }

    /// Checks the content rules; the message says what to fix.
    pub fn check(&self) -> Result<(), String> {
        super::check_language("language", &self.language)?;
        let fields = [
            ("mechanism name", &self.mechanism.name),
            ("mechanism lead", &self.mechanism.lead),
            ("hotline", &self.hotline),
            ("focal point role", &self.focal_point.role),
            ("focal point institution", &self.focal_point.institution),
            ("focal point address", &self.focal_point.address),
        ];
        for (what, text) in fields {
            super::check_len(what, text, MAX_FIELD_CHARS)?;
        }
        super::check_len("notes", &self.notes, MAX_NOTES_CHARS)?;
        if self.palermo.date.is_some()
            && matches!(self.palermo.status, None | Some(PalermoStatus::None))
        {
            return Err(
                "palermo.date is given, but no status that has a date (signed, ratified, acceded)"
                    .into(),
            );
        }
        if self.laws.len() > MAX_LAWS {
            return Err(format!(
                "{} laws; at most {MAX_LAWS} are allowed",
                self.laws.len()
            ));
        }
        for law in &self.laws {
            if law.title.trim().is_empty() {
                return Err("a law has no title".into());
            }
            super::check_len("law title", &law.title, MAX_FIELD_CHARS)?;
            super::check_len("law reference", &law.reference, MAX_FIELD_CHARS)?;
            if let Some(y) = law.year {
                check_year("law year", y)?;
            }
        }
        if let Some(p) = &self.action_plan {
            check_year("action_plan.from", p.from)?;
            check_year("action_plan.to", p.to)?;
            if p.from > p.to {
                return Err(format!(
                    "the action plan runs from {} to {}: backwards",
                    p.from, p.to
                ));
            }
            super::check_len("action plan title", &p.title, MAX_FIELD_CHARS)?;
        }
        if self.statistics.len() > MAX_YEARS {
            return Err(format!(
                "{} years of statistics; at most {MAX_YEARS} are allowed",
                self.statistics.len()
            ));
        }
        let mut years = std::collections::BTreeSet::new();
        for s in &self.statistics {
            check_year("statistics year", s.year)?;
            if !years.insert(s.year) {
                return Err(format!("the statistics of {} are given twice", s.year));
            }
        }
        Ok(())
    }
}

fn check_year(what: &str, y: u16) -> Result<(), String> {
    if !YEARS.contains(&y) {
        return Err(format!(
            "{what} {y} is not a year between {} and {}",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(())
}
