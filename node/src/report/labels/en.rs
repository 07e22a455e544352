//! English.

use tipx_protocol::StateCode;

use super::{Label, count};
use crate::report::model::Notice;

pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(super) fn text(label: Label) -> &'static str {
    use Label::*;
    match label {
        ReportTitle => {
            "Report to the Permanent Council on the exchange of information on trafficking in persons"
        }
        Period => "Period",
        Scope => "Scope",
        PreparedBy => "Prepared by",
        GeneratedOn => "Generated on",
        Contents => "Contents",
        ScopeFederation => "All member states (federation)",
        ScopeState => "The exchange of one member state",
        SectionParticipation => "Participation",
        SectionVolume => "Volume of the exchange",
        SectionProfiles => "National profiles",
        SectionAnnex => "Annex: best practices addressed to this state",
        SectionNotes => "Notes on the data",
        MemberStates => "Member states at the end of the period",
        ConsentPairs => "Pairs of states that exchange information",
        Joined => "Joined during the period",
        Left => "Left during the period",
        NoActivity => "Sent no activity summary for the period",
        NoProfile => "Have no national profile",
        NoneListed => "None",
        StateTotals => "Totals per state over the period",
        Categories => "Alerts published, by category",
        Languages => "Best practices and alerts published, by language",
        ProfilesFramework => "Legal and institutional framework",
        ProfilesStatistics => "Statistics of the latest year reported",
        AnnexTable => "Best practices received",
        Coverage => "Days covered by each state's activity summaries",
        Notices => "Observations",
        ColState => "State",
        ColName => "Name",
        ColReporting => "Activity data",
        ColProfile => "National profile",
        ColPartner => "Partner",
        ColSince => "Since",
        Total => "Total",
        ColCount => "Number",
        ColPracticesPublished => "Best practices published",
        ColAlertsPublished => "Alerts published",
        ColReceived => "Records received",
        ColRetractions => "Retractions",
        ColErasures => "Of which erasures",
        ColRejections => "Records refused",
        ColTrafficMb => "Replication traffic (MB)",
        ColPillar => "Pillar",
        ColSeverity => "Severity",
        ColCategory => "Category",
        ColLanguage => "Language",
        ColUpdated => "Updated",
        ColPalermo => "Palermo Protocol",
        ColLaws => "National laws",
        ColMechanism => "Coordination mechanism",
        ColActionPlan => "National action plan",
        ColHotline => "Hotline",
        ColShelters => "Shelters",
        ColIdentification => "Victim identification protocol",
        ColYear => "Year of the statistics",
        ColVictims => "Victims identified",
        ColInvestigations => "Investigations",
        ColProsecutions => "Prosecutions",
        ColConvictions => "Convictions",
        ColPublished => "Published",
        ColTitle => "Title",
        ColPillars => "Pillars",
        ColDays => "Days covered",
        ColFirst => "First day",
        ColLast => "Last day",
        ColNodes => "Reporting nodes",
        ColTotalsOnly => "Totals only",
        ChartMonthly => "Records published per month, by state",
        ChartPillars => "Best practices published, by pillar",
        ChartSeverities => "Alerts published, by severity",
        ChartConsent => "Consent to exchange between member states",
        ChartConsentNote => {
            "A filled square means that both states have asked to exchange with each other."
        }
        AxisMonth => "Month",
        AxisRecords => "Records",
        AxisPractices => "Best practices",
        AxisAlerts => "Alerts",
        NoData => "No data",
        LegendUnknown => "unknown or not reported",
        LegendChanged => "changed since the state's previous profile",
        Yes => "yes",
        No => "no",
        Unknown => "unknown",
        LanguageEn => "English",
        LanguageEs => "Spanish",
        LanguageFr => "French",
        LanguagePt => "Portuguese",
        ReportingSummaries => "Activity summaries received",
        ReportingNoData => "No summary for the period",
        ReportingNoConsent => "No data: no consent to exchange",
        ReportingOwn => "Own data (this node)",
        KindBestPractice => "Best practice",
        KindAlert => "Alert",
        KindRetraction => "Retraction",
        KindConsent => "Consent",
        KindRoster => "Membership list",
        KindActivity => "Activity summary",
        KindProfile => "National profile",
        PillarPrevention => "Prevention",
        PillarProtection => "Protection",
        PillarProsecution => "Prosecution",
        PillarPartnership => "Partnership",
        SeverityInfo => "Information",
        SeverityLow => "Low",
        SeverityMedium => "Medium",
        SeverityHigh => "High",
        SeverityCritical => "Critical",
        PalermoNone => "Not signed",
        PalermoSigned => "Signed, not ratified",
        PalermoRatified => "Ratified",
        PalermoAcceded => "Acceded",
    }
}

pub(super) fn notice(
    n: &Notice,
    name: impl Fn(StateCode) -> String,
    number: impl Fn(u64) -> String,
) -> String {
    match n {
        Notice::CountsOnly => "This report counts the records published, as the activity \
            summaries state; it never sees the content of records that were not addressed to \
            this state."
            .to_string(),
        Notice::NoConsent { state } => format!(
            "{} has not consented to exchange with this state: the report holds no data from it.",
            name(*state)
        ),
        Notice::SeveralReportingNodes { state, nodes } => format!(
            "{} nodes of {} sent summaries for the same days: the report counts those of the \
             node that covers the most days and leaves out the others.",
            number(u64::from(*nodes)),
            name(*state)
        ),
        Notice::TotalsOnly { state } => format!(
            "Some summaries from {} give totals only, with no breakdown by pillar, severity or \
             partner.",
            name(*state)
        ),
        Notice::Incomplete { state, days } => format!(
            "{}: no data yet for {} of the period after its last summary.",
            name(*state),
            count(u64::from(*days), "day", "days", number)
        ),
    }
}
