//! The report's words in the organisation's four official languages: every heading, column,
//! chart title and axis, name of a kind, pillar, severity or status, and the sentence of
//! each [`Notice`]; and numbers and dates written the way each language writes them.
//!
//! Each language is one file (`labels/en.rs`, …) holding one `match` over [`Label`] and one
//! over [`Notice`], so a key added without its four texts does not compile; a unit test
//! checks that no text is empty and that the translations are translations.

mod en;
mod es;
mod fr;
mod pt;

use std::{fmt, str::FromStr};

use tipx_protocol::{
    Kind, StateCode,
    body::{PalermoStatus, Pillar, Severity},
    day::Day,
};

use super::model::{Notice, Reporting, Scope};

/// A language the report is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
    /// French.
    Fr,
    /// Portuguese.
    Pt,
}

/// A language code that is not one of the report's four.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a language of the report: use en, es, fr or pt")]
pub struct UnknownLang(pub String);

impl Lang {
    /// Every language, in the order of the organisation's charter.
    pub const ALL: [Self; 4] = [Self::En, Self::Es, Self::Fr, Self::Pt];

    /// Its code: `en`, `es`, `fr` or `pt` (also the HTML `lang`).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::Fr => "fr",
            Self::Pt => "pt",
        }
    }

    /// The text of `label` in this language.
    pub fn text(self, label: Label) -> &'static str {
        match self {
            Self::En => en::text(label),
            Self::Es => es::text(label),
            Self::Fr => fr::text(label),
            Self::Pt => pt::text(label),
        }
    }

    /// The sentence that puts `notice` in words; `name` tells how to call a state
    /// ("Mexico (MX)").
    pub fn notice(self, notice: &Notice, name: impl Fn(StateCode) -> String) -> String {
        match self {
            Self::En => en::notice(notice, name, |n| self.number(n)),
            Self::Es => es::notice(notice, name, |n| self.number(n)),
            Self::Fr => fr::notice(notice, name, |n| self.number(n)),
            Self::Pt => pt::notice(notice, name, |n| self.number(n)),
        }
    }

    /// A whole number with the language's digit grouping: `12,345` (en), `12.345` (es,
    /// pt), `12 345` with a narrow no-break space (fr). Spanish leaves four-digit numbers
    /// ungrouped (`1234`), as the Real Academia Española advises.
    pub fn number(self, n: u64) -> String {
        let digits = n.to_string();
        let separator = match self {
            Self::En => ",",
            Self::Es | Self::Pt => ".",
            Self::Fr => "\u{202F}",
        };
        if self == Self::Es && digits.len() <= 4 {
            return digits;
        }
        group(&digits, separator)
    }

    /// `value` with one decimal: `1,234.5` (en), `1234,5` (es), `1 234,5` (fr), `1.234,5`
    /// (pt).
    pub fn decimal(self, value: f64) -> String {
        let tenths = (value.max(0.0) * 10.0).round() as u64;
        let point = if self == Self::En { "." } else { "," };
        format!("{}{point}{}", self.number(tenths / 10), tenths % 10)
    }

    /// A date written out: `2 December 2026`, `2 de diciembre de 2026`, `2 décembre 2026`,
    /// `2 de dezembro de 2026` (the first of a month: `1er` in French, `1º` in Portuguese).
    pub fn date(self, day: Day) -> String {
        let (y, m, d) = day.ymd();
        let month = self.month_name(m);
        match self {
            Self::En => format!("{d} {month} {y}"),
            Self::Es => format!("{d} de {month} de {y}"),
            Self::Fr if d == 1 => format!("1er {month} {y}"),
            Self::Fr => format!("{d} {month} {y}"),
            Self::Pt if d == 1 => format!("1º de {month} de {y}"),
            Self::Pt => format!("{d} de {month} de {y}"),
        }
    }

    /// A date for a table's cell: `2 Dec 2026`, `2 dic. 2026`, `2 déc. 2026`,
    /// `2 dez. 2026` (`1er`, `1º` as in [`Lang::date`]).
    pub fn date_short(self, day: Day) -> String {
        let (y, m, d) = day.ymd();
        let month = self.month_abbreviation(m);
        match self {
            Self::Fr if d == 1 => format!("1er {month} {y}"),
            Self::Pt if d == 1 => format!("1º {month} {y}"),
            _ => format!("{d} {month} {y}"),
        }
    }

    /// A month of a year written out: `December 2026`, `diciembre de 2026`, …
    pub fn month(self, year: i64, month: u32) -> String {
        let name = self.month_name(month);
        match self {
            Self::En | Self::Fr => format!("{name} {year}"),
            Self::Es | Self::Pt => format!("{name} de {year}"),
        }
    }

    /// A month for a chart's axis or a table's column: `Dec 2026`, `dic. 2026`, …
    pub fn month_short(self, year: i64, month: u32) -> String {
        format!("{} {year}", self.month_abbreviation(month))
    }

    /// A `YYYY-MM` key of the model as [`Lang::month_short`], or as it is if it is not one.
    pub fn month_key(self, key: &str) -> String {
        match parse_month(key) {
            Some((y, m)) => self.month_short(y, m),
            None => key.to_string(),
        }
    }

    /// The name of month `m` (1–12), in lower case where the language writes it so.
    pub fn month_name(self, m: u32) -> &'static str {
        let names = match self {
            Self::En => &en::MONTHS,
            Self::Es => &es::MONTHS,
            Self::Fr => &fr::MONTHS,
            Self::Pt => &pt::MONTHS,
        };
        month_of(names, m)
    }

    /// The abbreviation of month `m` (1–12).
    pub fn month_abbreviation(self, m: u32) -> &'static str {
        let names = match self {
            Self::En => &en::MONTHS_SHORT,
            Self::Es => &es::MONTHS_SHORT,
            Self::Fr => &fr::MONTHS_SHORT,
            Self::Pt => &pt::MONTHS_SHORT,
        };
        month_of(names, m)
    }

    /// What goes between a label and what it introduces: `:`, or `\u{a0}:` in French.
    pub fn colon(self) -> &'static str {
        match self {
            Self::Fr => "\u{a0}:",
            Self::En | Self::Es | Self::Pt => ":",
        }
    }

    /// "yes" or "no".
    pub fn yes_no(self, b: bool) -> &'static str {
        self.text(if b { Label::Yes } else { Label::No })
    }

    /// The name of a language code of the data (`es` → "Spanish"), or the code itself if
    /// it is not one of the four.
    pub fn language_name(self, code: &str) -> String {
        match code.parse::<Lang>() {
            Ok(l) => self.text(Label::language(l)).to_string(),
            Err(_) => code.to_string(),
        }
    }
}

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, UnknownLang> {
        let code = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| UnknownLang(s.to_string()))
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `YYYY-MM` as year and month.
pub(crate) fn parse_month(key: &str) -> Option<(i64, u32)> {
    let (y, m) = key.split_once('-')?;
    let m: u32 = m.parse().ok()?;
    (y.len() == 4 && (1..=12).contains(&m)).then_some((y.parse().ok()?, m))
}

fn month_of(names: &'static [&'static str; 12], m: u32) -> &'static str {
    let i = (m.clamp(1, 12) - 1) as usize;
    names[i]
}

fn group(digits: &str, separator: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

macro_rules! labels {
    ($($(#[$doc:meta])* $v:ident,)+) => {
        /// Every text of the report that is not data. [`Lang::text`] gives its words.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Label {
            $($(#[$doc])* $v,)+
        }

        impl Label {
            /// Every label.
            pub const ALL: &'static [Self] = &[$(Self::$v),+];
        }
    };
}

labels! {
    /// The document's title.
    ReportTitle,
    /// "Period".
    Period,
    /// "Scope".
    Scope,
    /// "Prepared by".
    PreparedBy,
    /// "Generated on".
    GeneratedOn,
    /// "Contents".
    Contents,
    /// [`Scope::Federation`].
    ScopeFederation,
    /// [`Scope::State`].
    ScopeState,
    /// Section 1.
    SectionParticipation,
    /// Section 2.
    SectionVolume,
    /// Section 3.
    SectionProfiles,
    /// Section 4.
    SectionAnnex,
    /// Section 5.
    SectionNotes,
    /// Caption of the table of members.
    MemberStates,
    /// Caption of the table of consent pairs.
    ConsentPairs,
    /// States that joined during the period.
    Joined,
    /// States that left during the period.
    Left,
    /// Members that sent no activity summary.
    NoActivity,
    /// Members with no national profile.
    NoProfile,
    /// An empty list.
    NoneListed,
    /// Caption of the per-state totals.
    StateTotals,
    /// Caption of the alerts by category.
    Categories,
    /// Caption of the records by language.
    Languages,
    /// Caption of the profiles' framework table.
    ProfilesFramework,
    /// Caption of the profiles' statistics table.
    ProfilesStatistics,
    /// Caption of the annex table.
    AnnexTable,
    /// Caption of the coverage table.
    Coverage,
    /// Heading of the notices.
    Notices,
    /// Column: a state's code.
    ColState,
    /// Column: a state's name.
    ColName,
    /// Column: whether a member's activity is in the report.
    ColReporting,
    /// Column: whether a national profile is held.
    ColProfile,
    /// Column: the other state of a pair.
    ColPartner,
    /// Column: since when.
    ColSince,
    /// Column and row: a total.
    Total,
    /// Column: a count.
    ColCount,
    /// Column: best practices published.
    ColPracticesPublished,
    /// Column: alerts published.
    ColAlertsPublished,
    /// Column: records received.
    ColReceived,
    /// Column: retractions published.
    ColRetractions,
    /// Column: of which erasing.
    ColErasures,
    /// Column: records refused.
    ColRejections,
    /// Column: replication traffic in megabytes.
    ColTrafficMb,
    /// Column: pillar.
    ColPillar,
    /// Column: severity.
    ColSeverity,
    /// Column: category.
    ColCategory,
    /// Column: language.
    ColLanguage,
    /// Column: when a profile was updated.
    ColUpdated,
    /// Column: Palermo Protocol status.
    ColPalermo,
    /// Column: national laws.
    ColLaws,
    /// Column: coordination mechanism.
    ColMechanism,
    /// Column: national action plan.
    ColActionPlan,
    /// Column: hotline.
    ColHotline,
    /// Column: shelters.
    ColShelters,
    /// Column: victim-identification protocol.
    ColIdentification,
    /// Column: year of the statistics.
    ColYear,
    /// Column: victims identified.
    ColVictims,
    /// Column: investigations.
    ColInvestigations,
    /// Column: prosecutions.
    ColProsecutions,
    /// Column: convictions.
    ColConvictions,
    /// Column: when published.
    ColPublished,
    /// Column: title.
    ColTitle,
    /// Column: pillars.
    ColPillars,
    /// Column: days covered.
    ColDays,
    /// Column: first day covered.
    ColFirst,
    /// Column: last day covered.
    ColLast,
    /// Column: reporting nodes.
    ColNodes,
    /// Column: totals only.
    ColTotalsOnly,
    /// Chart: records per month by state.
    ChartMonthly,
    /// Chart: best practices by pillar.
    ChartPillars,
    /// Chart: alerts by severity.
    ChartSeverities,
    /// Chart: the consent matrix.
    ChartConsent,
    /// How to read the consent matrix.
    ChartConsentNote,
    /// Axis: month.
    AxisMonth,
    /// Axis: records.
    AxisRecords,
    /// Axis: best practices.
    AxisPractices,
    /// Axis: alerts.
    AxisAlerts,
    /// Where a chart or table has nothing to show.
    NoData,
    /// Legend of the em dash.
    LegendUnknown,
    /// Legend of the dagger.
    LegendChanged,
    /// "yes".
    Yes,
    /// "no".
    No,
    /// "unknown".
    Unknown,
    /// English.
    LanguageEn,
    /// Spanish.
    LanguageEs,
    /// French.
    LanguageFr,
    /// Portuguese.
    LanguagePt,
    /// [`Reporting::Summaries`].
    ReportingSummaries,
    /// [`Reporting::NoData`].
    ReportingNoData,
    /// [`Reporting::NoConsent`].
    ReportingNoConsent,
    /// [`Reporting::Own`].
    ReportingOwn,
    /// [`Kind::BestPractice`].
    KindBestPractice,
    /// [`Kind::Alert`].
    KindAlert,
    /// [`Kind::Retraction`].
    KindRetraction,
    /// [`Kind::Consent`].
    KindConsent,
    /// [`Kind::Roster`].
    KindRoster,
    /// [`Kind::Activity`].
    KindActivity,
    /// [`Kind::Profile`].
    KindProfile,
    /// [`Pillar::Prevention`].
    PillarPrevention,
    /// [`Pillar::Protection`].
    PillarProtection,
    /// [`Pillar::Prosecution`].
    PillarProsecution,
    /// [`Pillar::Partnership`].
    PillarPartnership,
    /// [`Severity::Info`].
    SeverityInfo,
    /// [`Severity::Low`].
    SeverityLow,
    /// [`Severity::Medium`].
    SeverityMedium,
    /// [`Severity::High`].
    SeverityHigh,
    /// [`Severity::Critical`].
    SeverityCritical,
    /// [`PalermoStatus::None`].
    PalermoNone,
    /// [`PalermoStatus::Signed`].
    PalermoSigned,
    /// [`PalermoStatus::Ratified`].
    PalermoRatified,
    /// [`PalermoStatus::Acceded`].
    PalermoAcceded,
}

impl Label {
    /// The name of a kind.
    pub fn kind(k: Kind) -> Self {
        match k {
            Kind::BestPractice => Self::KindBestPractice,
            Kind::Alert => Self::KindAlert,
            Kind::Retraction => Self::KindRetraction,
            Kind::Consent => Self::KindConsent,
            Kind::Roster => Self::KindRoster,
            Kind::Activity => Self::KindActivity,
            Kind::Profile => Self::KindProfile,
        }
    }

    /// The name of a pillar.
    pub fn pillar(p: Pillar) -> Self {
        match p {
            Pillar::Prevention => Self::PillarPrevention,
            Pillar::Protection => Self::PillarProtection,
            Pillar::Prosecution => Self::PillarProsecution,
            Pillar::Partnership => Self::PillarPartnership,
        }
    }

    /// The name of a severity.
    pub fn severity(s: Severity) -> Self {
        match s {
            Severity::Info => Self::SeverityInfo,
            Severity::Low => Self::SeverityLow,
            Severity::Medium => Self::SeverityMedium,
            Severity::High => Self::SeverityHigh,
            Severity::Critical => Self::SeverityCritical,
        }
    }

    /// The name of a Palermo Protocol status.
    pub fn palermo(s: PalermoStatus) -> Self {
        match s {
            PalermoStatus::None => Self::PalermoNone,
            PalermoStatus::Signed => Self::PalermoSigned,
            PalermoStatus::Ratified => Self::PalermoRatified,
            PalermoStatus::Acceded => Self::PalermoAcceded,
        }
    }

    /// Whether and how a member's activity is in the report.
    pub fn reporting(r: Reporting) -> Self {
        match r {
            Reporting::Summaries => Self::ReportingSummaries,
            Reporting::NoData => Self::ReportingNoData,
            Reporting::NoConsent => Self::ReportingNoConsent,
            Reporting::Own => Self::ReportingOwn,
        }
    }

    /// What a report covers.
    pub fn scope(s: Scope) -> Self {
        match s {
            Scope::Federation => Self::ScopeFederation,
            Scope::State => Self::ScopeState,
        }
    }

    /// The name of one of the report's languages.
    pub fn language(l: Lang) -> Self {
        match l {
            Lang::En => Self::LanguageEn,
            Lang::Es => Self::LanguageEs,
            Lang::Fr => Self::LanguageFr,
            Lang::Pt => Self::LanguagePt,
        }
    }
}

/// "1 day" or "3 days", in the words `one` and `many` of a language.
fn count(n: u64, one: &str, many: &str, number: impl Fn(u64) -> String) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;
