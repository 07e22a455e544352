//! French. A colon takes a no-break space before it (U+00A0), a semicolon a narrow one
//! (U+202F), as French typography asks.

use tipx_protocol::StateCode;

use super::{Label, count};
use crate::report::model::Notice;

pub(super) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

pub(super) const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

pub(super) fn text(label: Label) -> &'static str {
    use Label::*;
    match label {
        ReportTitle => {
            "Rapport au Conseil permanent sur l'échange d'informations en matière de traite des personnes"
        }
        Period => "Période",
        Scope => "Portée",
        PreparedBy => "Établi par",
        GeneratedOn => "Généré le",
        Contents => "Table des matières",
        ScopeFederation => "Ensemble des États membres (fédération)",
        ScopeState => "Les échanges d'un État membre",
        SectionParticipation => "Participation",
        SectionVolume => "Volume des échanges",
        SectionProfiles => "Profils nationaux",
        SectionAnnex => "Annexe\u{a0}: bonnes pratiques adressées à cet État",
        SectionNotes => "Notes sur les données",
        MemberStates => "États membres à la fin de la période",
        ConsentPairs => "Paires d'États qui échangent des informations",
        Joined => "Ont adhéré au cours de la période",
        Left => "Se sont retirés au cours de la période",
        NoActivity => "N'ont envoyé aucun résumé d'activité pour la période",
        NoProfile => "N'ont pas de profil national",
        NoneListed => "Aucun",
        StateTotals => "Totaux par État sur la période",
        Categories => "Alertes publiées, par catégorie",
        Languages => "Bonnes pratiques et alertes publiées, par langue",
        ProfilesFramework => "Cadre juridique et institutionnel",
        ProfilesStatistics => "Statistiques de la dernière année communiquée",
        AnnexTable => "Bonnes pratiques reçues",
        Coverage => "Jours couverts par les résumés d'activité de chaque État",
        Notices => "Remarques",
        ColState => "État",
        ColName => "Nom",
        ColReporting => "Données d'activité",
        ColProfile => "Profil national",
        ColPartner => "Partenaire",
        ColSince => "Depuis le",
        Total => "Total",
        ColCount => "Nombre",
        ColPracticesPublished => "Bonnes pratiques publiées",
        ColAlertsPublished => "Alertes publiées",
        ColReceived => "Enregistrements reçus",
        ColRetractions => "Retraits",
        ColErasures => "Dont effacements",
        ColRejections => "Enregistrements refusés",
        ColTrafficMb => "Trafic de réplication (Mo)",
        ColPillar => "Pilier",
        ColSeverity => "Gravité",
        ColCategory => "Catégorie",
        ColLanguage => "Langue",
        ColUpdated => "Mis à jour le",
        ColPalermo => "Protocole de Palerme",
        ColLaws => "Lois nationales",
        ColMechanism => "Mécanisme de coordination",
        ColActionPlan => "Plan d'action national",
        ColHotline => "Ligne d'assistance",
        ColShelters => "Centres d'hébergement",
        ColIdentification => "Protocole d'identification des victimes",
        ColYear => "Année des statistiques",
        ColVictims => "Victimes identifiées",
        ColInvestigations => "Enquêtes",
        ColProsecutions => "Poursuites",
        ColConvictions => "Condamnations",
        ColPublished => "Publiée le",
        ColTitle => "Titre",
        ColPillars => "Piliers",
        ColDays => "Jours couverts",
        ColFirst => "Premier jour",
        ColLast => "Dernier jour",
        ColNodes => "Nœuds déclarants",
        ColTotalsOnly => "Totaux seulement",
        ChartMonthly => "Enregistrements publiés par mois, par État",
        ChartPillars => "Bonnes pratiques publiées, par pilier",
        ChartSeverities => "Alertes publiées, par gravité",
        ChartConsent => "Consentement à l'échange entre États membres",
        ChartConsentNote => {
            "Une case pleine signifie que les deux États ont demandé à échanger l'un avec l'autre."
        }
        AxisMonth => "Mois",
        AxisRecords => "Enregistrements",
        AxisPractices => "Bonnes pratiques",
        AxisAlerts => "Alertes",
        NoData => "Aucune donnée",
        LegendUnknown => "inconnu ou non communiqué",
        LegendChanged => "modifié depuis le profil précédent de l'État",
        Yes => "oui",
        No => "non",
        Unknown => "inconnu",
        LanguageEn => "anglais",
        LanguageEs => "espagnol",
        LanguageFr => "français",
        LanguagePt => "portugais",
        ReportingSummaries => "Résumés d'activité reçus",
        ReportingNoData => "Aucun résumé pour la période",
        ReportingNoConsent => "Aucune donnée\u{a0}: pas de consentement à l'échange",
        ReportingOwn => "Données propres (ce nœud)",
        KindBestPractice => "Bonne pratique",
        KindAlert => "Alerte",
        KindRetraction => "Retrait",
        KindConsent => "Consentement",
        KindRoster => "Liste des membres",
        KindActivity => "Résumé d'activité",
        KindProfile => "Profil national",
        PillarPrevention => "Prévention",
        PillarProtection => "Protection",
        PillarProsecution => "Poursuites",
        PillarPartnership => "Partenariats",
        SeverityInfo => "Information",
        SeverityLow => "Faible",
        SeverityMedium => "Moyenne",
        SeverityHigh => "Élevée",
        SeverityCritical => "Critique",
        PalermoNone => "Non signé",
        PalermoSigned => "Signé, non ratifié",
        PalermoRatified => "Ratifié",
        PalermoAcceded => "Adhésion",
    }
}

pub(super) fn notice(
    n: &Notice,
    name: impl Fn(StateCode) -> String,
    number: impl Fn(u64) -> String,
) -> String {
    match n {
        Notice::CountsOnly => "Ce rapport dénombre les enregistrements publiés d'après les \
            résumés d'activité\u{202f}; il ne voit jamais le contenu des enregistrements qui \
            n'ont pas été adressés à cet État."
            .to_string(),
        Notice::NoConsent { state } => format!(
            "{} n'a pas consenti à l'échange avec cet État\u{a0}: le rapport ne contient \
             aucune donnée en provenance de cet État.",
            name(*state)
        ),
        Notice::SeveralReportingNodes { state, nodes } => format!(
            "{} nœuds de {} ont envoyé des résumés pour les mêmes jours\u{a0}: le rapport \
             retient ceux du nœud qui couvre le plus de jours et écarte les autres.",
            number(u64::from(*nodes)),
            name(*state)
        ),
        Notice::TotalsOnly { state } => format!(
            "Certains résumés de {} ne donnent que des totaux, sans ventilation par pilier, \
             gravité ou partenaire.",
            name(*state)
        ),
        Notice::Incomplete { state, days } => format!(
            "{}\u{a0}: pas encore de données pour {} de la période après son dernier résumé.",
            name(*state),
            count(u64::from(*days), "jour", "jours", number)
        ),
    }
}
