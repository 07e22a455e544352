//! Spanish.

use tipx_protocol::StateCode;

use super::{Label, count};
use crate::report::model::Notice;

pub(super) const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

pub(super) const MONTHS_SHORT: [&str; 12] = [
    "ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic.",
];

pub(super) fn text(label: Label) -> &'static str {
    use Label::*;
    match label {
        ReportTitle => {
            "Informe al Consejo Permanente sobre el intercambio de información en materia de trata de personas"
        }
        Period => "Período",
        Scope => "Alcance",
        PreparedBy => "Elaborado por",
        GeneratedOn => "Generado el",
        Contents => "Índice",
        ScopeFederation => "Todos los Estados Miembros (federación)",
        ScopeState => "El intercambio de un Estado Miembro",
        SectionParticipation => "Participación",
        SectionVolume => "Volumen del intercambio",
        SectionProfiles => "Perfiles nacionales",
        SectionAnnex => "Anexo: buenas prácticas dirigidas a este Estado",
        SectionNotes => "Notas sobre los datos",
        MemberStates => "Estados Miembros al final del período",
        ConsentPairs => "Pares de Estados que intercambian información",
        Joined => "Se incorporaron durante el período",
        Left => "Se retiraron durante el período",
        NoActivity => "No enviaron resumen de actividad para el período",
        NoProfile => "No tienen perfil nacional",
        NoneListed => "Ninguno",
        StateTotals => "Totales por Estado en el período",
        Categories => "Alertas publicadas, por categoría",
        Languages => "Buenas prácticas y alertas publicadas, por idioma",
        ProfilesFramework => "Marco jurídico e institucional",
        ProfilesStatistics => "Estadísticas del último año informado",
        AnnexTable => "Buenas prácticas recibidas",
        Coverage => "Días cubiertos por los resúmenes de actividad de cada Estado",
        Notices => "Observaciones",
        ColState => "Estado",
        ColName => "Nombre",
        ColReporting => "Datos de actividad",
        ColProfile => "Perfil nacional",
        ColPartner => "Contraparte",
        ColSince => "Desde",
        Total => "Total",
        ColCount => "Número",
        ColPracticesPublished => "Buenas prácticas publicadas",
        ColAlertsPublished => "Alertas publicadas",
        ColReceived => "Registros recibidos",
        ColRetractions => "Retiros",
        ColErasures => "De ellos, con borrado",
        ColRejections => "Registros rechazados",
        ColTrafficMb => "Tráfico de replicación (MB)",
        ColPillar => "Pilar",
        ColSeverity => "Gravedad",
        ColCategory => "Categoría",
        ColLanguage => "Idioma",
        ColUpdated => "Actualizado",
        ColPalermo => "Protocolo de Palermo",
        ColLaws => "Leyes nacionales",
        ColMechanism => "Mecanismo de coordinación",
        ColActionPlan => "Plan nacional de acción",
        ColHotline => "Línea de denuncia",
        ColShelters => "Albergues",
        ColIdentification => "Protocolo de identificación de víctimas",
        ColYear => "Año de las estadísticas",
        ColVictims => "Víctimas identificadas",
        ColInvestigations => "Investigaciones",
        ColProsecutions => "Procesamientos",
        ColConvictions => "Condenas",
        ColPublished => "Publicada",
        ColTitle => "Título",
        ColPillars => "Pilares",
        ColDays => "Días cubiertos",
        ColFirst => "Primer día",
        ColLast => "Último día",
        ColNodes => "Nodos informantes",
        ColTotalsOnly => "Solo totales",
        ChartMonthly => "Registros publicados por mes, por Estado",
        ChartPillars => "Buenas prácticas publicadas, por pilar",
        ChartSeverities => "Alertas publicadas, por gravedad",
        ChartConsent => "Consentimiento de intercambio entre Estados Miembros",
        ChartConsentNote => {
            "Una casilla rellena indica que ambos Estados han solicitado intercambiar información entre sí."
        }
        AxisMonth => "Mes",
        AxisRecords => "Registros",
        AxisPractices => "Buenas prácticas",
        AxisAlerts => "Alertas",
        NoData => "Sin datos",
        LegendUnknown => "desconocido o no informado",
        LegendChanged => "modificado desde el perfil anterior del Estado",
        Yes => "sí",
        No => "no",
        Unknown => "desconocido",
        LanguageEn => "inglés",
        LanguageEs => "español",
        LanguageFr => "francés",
        LanguagePt => "portugués",
        ReportingSummaries => "Resúmenes de actividad recibidos",
        ReportingNoData => "Sin resumen para el período",
        ReportingNoConsent => "Sin datos: sin consentimiento de intercambio",
        ReportingOwn => "Datos propios (este nodo)",
        KindBestPractice => "Buena práctica",
        KindAlert => "Alerta",
        KindRetraction => "Retiro",
        KindConsent => "Consentimiento",
        KindRoster => "Lista de miembros",
        KindActivity => "Resumen de actividad",
        KindProfile => "Perfil nacional",
        PillarPrevention => "Prevención",
        PillarProtection => "Protección",
        PillarProsecution => "Enjuiciamiento",
        PillarPartnership => "Alianzas",
        SeverityInfo => "Información",
        SeverityLow => "Baja",
        SeverityMedium => "Media",
        SeverityHigh => "Alta",
        SeverityCritical => "Crítica",
        PalermoNone => "No firmado",
        PalermoSigned => "Firmado, no ratificado",
        PalermoRatified => "Ratificado",
        PalermoAcceded => "Adhesión",
    }
}

pub(super) fn notice(
    n: &Notice,
    name: impl Fn(StateCode) -> String,
    number: impl Fn(u64) -> String,
) -> String {
    match n {
        Notice::CountsOnly => "Este informe cuenta los registros publicados según lo indicado \
            en los resúmenes de actividad; nunca ve el contenido de los registros que no fueron \
            dirigidos a este Estado."
            .to_string(),
        Notice::NoConsent { state } => format!(
            "{} no ha consentido el intercambio con este Estado: el informe no contiene datos \
             suyos.",
            name(*state)
        ),
        Notice::SeveralReportingNodes { state, nodes } => format!(
            "{} nodos de {} enviaron resúmenes para los mismos días: el informe cuenta los del \
             nodo que cubre más días y deja de lado los demás.",
            number(u64::from(*nodes)),
            name(*state)
        ),
        Notice::TotalsOnly { state } => format!(
            "Algunos resúmenes de {} indican solo totales, sin desglose por pilar, gravedad ni \
             contraparte.",
            name(*state)
        ),
        Notice::Incomplete { state, days } => format!(
            "{}: aún no hay datos de {} del período posteriores a su último resumen.",
            name(*state),
            count(u64::from(*days), "día", "días", number)
        ),
    }
}
