//! Conversions of the bodies added for the coordinator's report: activity summaries and
//! national profiles (`tipx/v1/body.proto`).

use std::collections::BTreeMap;

use prost::Message;
use tipx_proto::v1 as pb;

use crate::{
    Kind, StateCode,
    body::{self, Activity, Profile},
    day::Day,
    validate::Rejection,
};

fn bad(what: impl Into<String>) -> Rejection {
    Rejection::BadBody(what.into())
}

fn counts<K: ToString>(m: &BTreeMap<K, u64>) -> Vec<pb::Count> {
    m.iter()
        .map(|(k, n)| pb::Count {
            name: k.to_string(),
            count: *n,
        })
        .collect()
}

/// Counts by name, in strictly increasing order of the parsed key (so each key once).
fn counts_from<K: Ord>(
    v: Vec<pb::Count>,
    what: &str,
    parse: impl Fn(&str) -> Result<K, String>,
) -> Result<BTreeMap<K, u64>, Rejection> {
    let mut out = BTreeMap::new();
    for c in v {
        let k = parse(&c.name).map_err(|e| bad(format!("{what}: {e}")))?;
        if out.insert(k, c.count).is_some() {
            return Err(bad(format!("{what}: `{}` is counted twice", c.name)));
        }
    }
    Ok(out)
}

pub(super) fn encode_activity(a: &Activity) -> Vec<u8> {
    pb::Activity {
        day: a.day.0,
        through_ms: a.through_ms,
        totals_only: a.totals_only,
        published: counts(&a.published),
        pillars: counts(&a.pillars),
        severities: counts(&a.severities),
        categories: counts(&a.categories),
        languages: counts(&a.languages),
        received: a
            .received
            .iter()
            .map(|r| pb::Received {
                state: r.state.map(|s| s.to_string()).unwrap_or_default(),
                kind: r.kind.to_string(),
                count: r.count,
            })
            .collect(),
        retractions: a.retractions,
        erasures: a.erasures,
        rejections: counts(&a.rejections),
        active_partners: a.active_partners,
        sync_bytes_in: a.sync.bytes_in,
        sync_bytes_out: a.sync.bytes_out,
        sync_rounds: a.sync.rounds,
    }
    .encode_to_vec()
}

pub(super) fn decode_activity(bytes: &[u8]) -> Result<Activity, Rejection> {
    let a = pb::Activity::decode(bytes).map_err(|e| bad(format!("does not decode: {e}")))?;
    let text = |s: &str| Ok(s.to_string());
    Ok(Activity {
        day: Day(a.day),
        through_ms: a.through_ms,
        totals_only: a.totals_only,
        published: counts_from(a.published, "published", |s| s.parse::<Kind>())?,
        pillars: counts_from(a.pillars, "pillars", |s| s.parse::<body::Pillar>())?,
        severities: counts_from(a.severities, "severities", |s| s.parse::<body::Severity>())?,
        categories: counts_from(a.categories, "categories", text)?,
        languages: counts_from(a.languages, "languages", text)?,
        received: a
            .received
            .into_iter()
            .map(|r| {
                let state = match r.state.as_str() {
                    "" => None,
                    s => Some(s.parse::<StateCode>().map_err(|e| bad(e.to_string()))?),
                };
                Ok(body::ReceivedCount {
                    state,
                    kind: r.kind.parse().map_err(bad)?,
                    count: r.count,
                })
            })
            .collect::<Result<_, Rejection>>()?,
        retractions: a.retractions,
        erasures: a.erasures,
        rejections: counts_from(a.rejections, "rejections", text)?,
        active_partners: a.active_partners,
        sync: body::SyncTraffic {
            bytes_in: a.sync_bytes_in,
            bytes_out: a.sync_bytes_out,
            rounds: a.sync_rounds,
        },
    })
}

fn tri(b: Option<bool>) -> u32 {
    match b {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

fn tri_from(v: u32, what: &str) -> Result<Option<bool>, Rejection> {
    match v {
        0 => Ok(None),
        1 => Ok(Some(false)),
        2 => Ok(Some(true)),
        _ => Err(bad(format!(
            "{what}: {v} is not 0 (unknown), 1 (no) or 2 (yes)"
        ))),
    }
}

fn figure(v: Option<u64>) -> Option<pb::Figure> {
    Some(pb::Figure { value: v })
}

fn figure_from(f: Option<pb::Figure>) -> Option<u64> {
    f.and_then(|f| f.value)
}

fn year(v: u32, what: &str) -> Result<u16, Rejection> {
    u16::try_from(v).map_err(|_| bad(format!("{what}: {v} is not a year")))
}

pub(super) fn encode_profile(p: &Profile) -> Vec<u8> {
    let status = match p.palermo.status {
        None => pb::PalermoStatus::Unspecified,
        Some(body::PalermoStatus::None) => pb::PalermoStatus::None,
        Some(body::PalermoStatus::Signed) => pb::PalermoStatus::Signed,
        Some(body::PalermoStatus::Ratified) => pb::PalermoStatus::Ratified,
        Some(body::PalermoStatus::Acceded) => pb::PalermoStatus::Acceded,
    };
    let plan = p.action_plan.as_ref();
    pb::Profile {
        language: p.language.clone(),
        palermo_status: status as i32,
        palermo_date: p.palermo.date.map(|d| d.to_string()).unwrap_or_default(),
        laws: p
            .laws
            .iter()
            .map(|l| pb::Law {
                title: l.title.clone(),
                year: l.year.map_or(0, u32::from),
                reference: l.reference.clone(),
            })
            .collect(),
        mechanism_exists: tri(p.mechanism.exists),
        mechanism_name: p.mechanism.name.clone(),
        mechanism_lead: p.mechanism.lead.clone(),
        action_plan_from: plan.map_or(0, |a| a.from.into()),
        action_plan_to: plan.map_or(0, |a| a.to.into()),
        action_plan_title: plan.map(|a| a.title.clone()).unwrap_or_default(),
        hotline: p.hotline.clone(),
        shelters: figure(p.shelters),
        identification_protocol: tri(p.identification_protocol),
        statistics: p
            .statistics
            .iter()
            .map(|s| pb::YearStatistics {
                year: s.year.into(),
                victims_women: figure(s.victims.women),
                victims_men: figure(s.victims.men),
                victims_girls: figure(s.victims.girls),
                victims_boys: figure(s.victims.boys),
                victims_not_disaggregated: figure(s.victims.not_disaggregated),
                exploitation_sexual: figure(s.exploitation.sexual),
                exploitation_labour: figure(s.exploitation.labour),
                exploitation_forced_marriage: figure(s.exploitation.forced_marriage),
                exploitation_other: figure(s.exploitation.other),
                investigations: figure(s.investigations),
                prosecutions: figure(s.prosecutions),
                convictions: figure(s.convictions),
            })
            .collect(),
        focal_point_role: p.focal_point.role.clone(),
        focal_point_institution: p.focal_point.institution.clone(),
        focal_point_address: p.focal_point.address.clone(),
        notes: p.notes.clone(),
    }
    .encode_to_vec()
}

pub(super) fn decode_profile(bytes: &[u8]) -> Result<Profile, Rejection> {
    let p = pb::Profile::decode(bytes).map_err(|e| bad(format!("does not decode: {e}")))?;
    let status = match pb::PalermoStatus::try_from(p.palermo_status) {
        Ok(pb::PalermoStatus::Unspecified) => None,
        Ok(pb::PalermoStatus::None) => Some(body::PalermoStatus::None),
        Ok(pb::PalermoStatus::Signed) => Some(body::PalermoStatus::Signed),
        Ok(pb::PalermoStatus::Ratified) => Some(body::PalermoStatus::Ratified),
        Ok(pb::PalermoStatus::Acceded) => Some(body::PalermoStatus::Acceded),
        Err(_) => return Err(bad(format!("unknown Palermo status {}", p.palermo_status))),
    };
    let date = match p.palermo_date.as_str() {
        "" => None,
        d => Some(d.parse::<Day>().map_err(bad)?),
    };
    let plan = match (p.action_plan_from, p.action_plan_to) {
        (0, 0) => None,
        (from, to) => Some(body::ActionPlan {
            from: year(from, "action plan")?,
            to: year(to, "action plan")?,
            title: p.action_plan_title,
        }),
    };
    Ok(Profile {
        language: p.language,
        palermo: body::Palermo { status, date },
        laws: p
            .laws
            .into_iter()
            .map(|l| {
                Ok(body::Law {
                    title: l.title,
                    year: match l.year {
                        0 => None,
                        y => Some(year(y, "law")?),
                    },
                    reference: l.reference,
                })
            })
            .collect::<Result<_, Rejection>>()?,
        mechanism: body::Mechanism {
            exists: tri_from(p.mechanism_exists, "mechanism_exists")?,
            name: p.mechanism_name,
            lead: p.mechanism_lead,
        },
        action_plan: plan,
        hotline: p.hotline,
        shelters: figure_from(p.shelters),
        identification_protocol: tri_from(p.identification_protocol, "identification_protocol")?,
        statistics: p
            .statistics
            .into_iter()
            .map(|s| {
                Ok(body::YearStatistics {
                    year: year(s.year, "statistics")?,
                    victims: body::Victims {
                        women: figure_from(s.victims_women),
                        men: figure_from(s.victims_men),
                        girls: figure_from(s.victims_girls),
                        boys: figure_from(s.victims_boys),
                        not_disaggregated: figure_from(s.victims_not_disaggregated),
                    },
                    exploitation: body::Exploitation {
                        sexual: figure_from(s.exploitation_sexual),
                        labour: figure_from(s.exploitation_labour),
                        forced_marriage: figure_from(s.exploitation_forced_marriage),
                        other: figure_from(s.exploitation_other),
                    },
                    investigations: figure_from(s.investigations),
                    prosecutions: figure_from(s.prosecutions),
                    convictions: figure_from(s.convictions),
                })
            })
            .collect::<Result<_, Rejection>>()?,
        focal_point: body::FocalPoint {
            role: p.focal_point_role,
            institution: p.focal_point_institution,
            address: p.focal_point_address,
        },
        notes: p.notes,
    })
}
