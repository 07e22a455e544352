//! Portuguese, as the organisation writes it (Brazilian usage: `1º de dezembro`).

use tipx_protocol::StateCode;

use super::{Label, count};
use crate::report::model::Notice;

pub(super) const MONTHS: [&str; 12] = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
];

pub(super) const MONTHS_SHORT: [&str; 12] = [
    "jan.", "fev.", "mar.", "abr.", "maio", "jun.", "jul.", "ago.", "set.", "out.", "nov.", "dez.",
];

pub(super) fn text(label: Label) -> &'static str {
    use Label::*;
    match label {
        ReportTitle => {
            "Relatório ao Conselho Permanente sobre o intercâmbio de informações em matéria de tráfico de pessoas"
        }
        Period => "Período",
        Scope => "Abrangência",
        PreparedBy => "Elaborado por",
        GeneratedOn => "Gerado em",
        Contents => "Sumário",
        ScopeFederation => "Todos os Estados membros (federação)",
        ScopeState => "O intercâmbio de um Estado membro",
        SectionParticipation => "Participação",
        SectionVolume => "Volume do intercâmbio",
        SectionProfiles => "Perfis nacionais",
        SectionAnnex => "Anexo: boas práticas dirigidas a este Estado",
        SectionNotes => "Notas sobre os dados",
        MemberStates => "Estados membros no final do período",
        ConsentPairs => "Pares de Estados que intercambiam informações",
        Joined => "Ingressaram durante o período",
        Left => "Retiraram-se durante o período",
        NoActivity => "Não enviaram resumo de atividade para o período",
        NoProfile => "Não têm perfil nacional",
        NoneListed => "Nenhum",
        StateTotals => "Totais por Estado no período",
        Categories => "Alertas publicados, por categoria",
        Languages => "Boas práticas e alertas publicados, por idioma",
        ProfilesFramework => "Marco legal e institucional",
        ProfilesStatistics => "Estatísticas do último ano informado",
        AnnexTable => "Boas práticas recebidas",
        Coverage => "Dias cobertos pelos resumos de atividade de cada Estado",
        Notices => "Observações",
        ColState => "Estado",
        ColName => "Nome",
        ColReporting => "Dados de atividade",
        ColProfile => "Perfil nacional",
        ColPartner => "Parceiro",
        ColSince => "Desde",
        Total => "Total",
        ColCount => "Número",
        ColPracticesPublished => "Boas práticas publicadas",
        ColAlertsPublished => "Alertas publicados",
        ColReceived => "Registros recebidos",
        ColRetractions => "Retiradas",
        ColErasures => "Das quais com apagamento",
        ColRejections => "Registros recusados",
        ColTrafficMb => "Tráfego de replicação (MB)",
        ColPillar => "Pilar",
        ColSeverity => "Gravidade",
        ColCategory => "Categoria",
        ColLanguage => "Idioma",
        ColUpdated => "Atualizado em",
        ColPalermo => "Protocolo de Palermo",
        ColLaws => "Leis nacionais",
        ColMechanism => "Mecanismo de coordenação",
        ColActionPlan => "Plano nacional de ação",
        ColHotline => "Linha de denúncia",
        ColShelters => "Abrigos",
        ColIdentification => "Protocolo de identificação de vítimas",
        ColYear => "Ano das estatísticas",
        ColVictims => "Vítimas identificadas",
        ColInvestigations => "Investigações",
        ColProsecutions => "Processos penais",
        ColConvictions => "Condenações",
        ColPublished => "Publicada em",
        ColTitle => "Título",
        ColPillars => "Pilares",
        ColDays => "Dias cobertos",
        ColFirst => "Primeiro dia",
        ColLast => "Último dia",
        ColNodes => "Nós informantes",
        ColTotalsOnly => "Somente totais",
        ChartMonthly => "Registros publicados por mês, por Estado",
        ChartPillars => "Boas práticas publicadas, por pilar",
        ChartSeverities => "Alertas publicados, por gravidade",
        ChartConsent => "Consentimento de intercâmbio entre Estados membros",
        ChartConsentNote => {
            "Um quadrado preenchido indica que os dois Estados solicitaram intercambiar informações entre si."
        }
        AxisMonth => "Mês",
        AxisRecords => "Registros",
        AxisPractices => "Boas práticas",
        AxisAlerts => "Alertas",
        NoData => "Sem dados",
        LegendUnknown => "desconhecido ou não informado",
        LegendChanged => "alterado desde o perfil anterior do Estado",
        Yes => "sim",
        No => "não",
        Unknown => "desconhecido",
        LanguageEn => "inglês",
        LanguageEs => "espanhol",
        LanguageFr => "francês",
        LanguagePt => "português",
        ReportingSummaries => "Resumos de atividade recebidos",
        ReportingNoData => "Sem resumo para o período",
        ReportingNoConsent => "Sem dados: sem consentimento de intercâmbio",
        ReportingOwn => "Dados próprios (este nó)",
        KindBestPractice => "Boa prática",
        KindAlert => "Alerta",
        KindRetraction => "Retirada",
        KindConsent => "Consentimento",
        KindRoster => "Lista de membros",
        KindActivity => "Resumo de atividade",
        KindProfile => "Perfil nacional",
        PillarPrevention => "Prevenção",
        PillarProtection => "Proteção",
        PillarProsecution => "Responsabilização",
        PillarPartnership => "Parcerias",
        SeverityInfo => "Informação",
        SeverityLow => "Baixa",
        SeverityMedium => "Média",
        SeverityHigh => "Alta",
        SeverityCritical => "Crítica",
        PalermoNone => "Não assinado",
        PalermoSigned => "Assinado, não ratificado",
        PalermoRatified => "Ratificado",
        PalermoAcceded => "Adesão",
    }
}

pub(super) fn notice(
    n: &Notice,
    name: impl Fn(StateCode) -> String,
    number: impl Fn(u64) -> String,
) -> String {
    match n {
        Notice::CountsOnly => "Este relatório contabiliza os registros publicados segundo os \
            resumos de atividade; nunca vê o conteúdo dos registros que não foram dirigidos a \
            este Estado."
            .to_string(),
        Notice::NoConsent { state } => format!(
            "{} não consentiu o intercâmbio com este Estado: o relatório não contém dados \
             provenientes dele.",
            name(*state)
        ),
        Notice::SeveralReportingNodes { state, nodes } => format!(
            "{} nós de {} enviaram resumos para os mesmos dias: o relatório considera os do nó \
             que cobre mais dias e desconsidera os demais.",
            number(u64::from(*nodes)),
            name(*state)
        ),
        Notice::TotalsOnly { state } => format!(
            "Alguns resumos de {} apresentam somente totais, sem discriminação por pilar, \
             gravidade ou parceiro.",
            name(*state)
        ),
        Notice::Incomplete { state, days } => format!(
            "{}: ainda não há dados de {} do período posteriores ao seu último resumo.",
            name(*state),
            count(u64::from(*days), "dia", "dias", number)
        ),
    }
}
