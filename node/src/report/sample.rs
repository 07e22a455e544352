//! A report to test the formats and charts on: five states over three months, every kind
//! of gap, a profile that changed, and an annex title written to break out of HTML.

use std::collections::BTreeMap;

use tipx_protocol::{
    Kind, StateCode,
    body::{PalermoStatus, Pillar, Severity},
    day::Day,
};

use super::model::*;

/// The title a hostile state could give a best practice.
pub(crate) const HOSTILE_TITLE: &str = "<script>alert(1)</script> & \"quotes\"";

pub(crate) fn code(s: &str) -> StateCode {
    s.parse().expect("a sample code")
}

pub(crate) fn day(s: &str) -> Day {
    s.parse().expect("a sample day")
}

fn member(s: &str, name: &str, reporting: Reporting, profile: bool) -> Member {
    Member {
        state: code(s),
        name: name.to_string(),
        reporting,
        profile,
    }
}

fn month(month: &str, state: &str, kind: Kind, count: u64) -> MonthCount {
    MonthCount {
        month: month.to_string(),
        state: code(state),
        kind,
        count,
    }
}

pub(crate) fn report() -> Report {
    let by_month = vec![
        month("2026-10", "AR", Kind::BestPractice, 3),
        month("2026-10", "AR", Kind::Alert, 5),
        month("2026-10", "BR", Kind::Alert, 12_345),
        month("2026-11", "AR", Kind::Alert, 2),
        month("2026-11", "CO", Kind::BestPractice, 1),
        month("2026-11", "CO", Kind::Retraction, 1),
        month("2026-12", "BR", Kind::BestPractice, 4),
        month("2026-12", "MX", Kind::Alert, 7),
        month("2026-12", "MX", Kind::Consent, 1),
    ];
    let totals = |state: &str, bp: u64, alerts: u64| StateTotals {
        state: Some(code(state)),
        published: BTreeMap::from([(Kind::BestPractice, bp), (Kind::Alert, alerts)]),
        received: BTreeMap::from([(Kind::BestPractice, 2), (Kind::Alert, 9)]),
        retractions: 1,
        erasures: 0,
        rejections: 3,
        sync_bytes: 5_432_100,
    };
    Report {
        schema: SCHEMA,
        generated_at: "2027-01-02T09:30:00Z".to_string(),
        period: Period {
            from: day("2026-10-01"),
            to: day("2026-12-31"),
        },
        scope: Scope::Federation,
        by: StateCode::coordinator(),
        language: "en".to_string(),
        participation: Participation {
            members: vec![
                member("AR", "Argentina", Reporting::Summaries, true),
                member("BR", "Brazil", Reporting::Summaries, true),
                member("CO", "Colombia", Reporting::Summaries, false),
                member("HT", "Haiti", Reporting::NoConsent, false),
                member("MX", "Mexico", Reporting::Summaries, true),
                member("PE", "Peru", Reporting::NoData, false),
            ],
            consents: vec![
                ConsentPair {
                    a: code("AR"),
                    b: code("BR"),
                    since: Some(day("2026-03-04")),
                },
                ConsentPair {
                    a: code("AR"),
                    b: code("MX"),
                    since: None,
                },
                ConsentPair {
                    a: code("BR"),
                    b: code("CO"),
                    since: Some(day("2026-11-20")),
                },
            ],
            joined: vec![code("CO")],
            left: vec![code("VE")],
            no_activity: vec![code("PE")],
            no_profile: vec![code("CO"), code("HT"), code("PE")],
        },
        volume: Volume {
            months: vec!["2026-10".into(), "2026-11".into(), "2026-12".into()],
            by_month,
            states: vec![
                totals("AR", 3, 7),
                totals("BR", 4, 12_345),
                totals("CO", 1, 0),
                totals("MX", 0, 7),
            ],
            pillars: BTreeMap::from([
                (Pillar::Prevention, 5),
                (Pillar::Protection, 3),
                (Pillar::Partnership, 1),
            ]),
            severities: BTreeMap::from([
                (Severity::Low, 4),
                (Severity::High, 12_350),
                (Severity::Critical, 5),
            ]),
            categories: BTreeMap::from([
                ("recruitment".to_string(), 10),
                ("=cmd|' /C calc'!A0".to_string(), 1),
            ]),
            languages: BTreeMap::from([
                ("es".to_string(), 12_000),
                ("pt".to_string(), 360),
                ("ht".to_string(), 2),
            ]),
        },
        profiles: vec![
            ProfileRow {
                state: Some(code("AR")),
                updated: Some(day("2026-11-03")),
                palermo: Some(PalermoStatus::Ratified),
                palermo_date: Some(day("2002-11-19")),
                laws: 2,
                mechanism: Some(true),
                action_plan: Some((2024, 2028)),
                hotline: true,
                shelters: Some(14),
                identification_protocol: Some(true),
                year: Some(2025),
                victims: Some(1_432),
                investigations: Some(210),
                prosecutions: None,
                convictions: Some(37),
                changed: vec!["victims".into(), "shelters".into()],
            },
            ProfileRow {
                state: Some(code("BR")),
                updated: Some(day("2026-10-15")),
                palermo: Some(PalermoStatus::Ratified),
                palermo_date: Some(day("2004-01-29")),
                laws: 1,
                mechanism: None,
                action_plan: None,
                hotline: false,
                shelters: None,
                identification_protocol: None,
                year: None,
                victims: None,
                investigations: None,
                prosecutions: None,
                convictions: None,
                changed: vec![],
            },
            ProfileRow {
                state: Some(code("MX")),
                updated: None,
                palermo: None,
                palermo_date: None,
                laws: 0,
                mechanism: Some(false),
                action_plan: Some((2022, 2024)),
                hotline: true,
                shelters: Some(0),
                identification_protocol: Some(false),
                year: Some(2024),
                victims: Some(0),
                investigations: Some(12),
                prosecutions: Some(3),
                convictions: Some(1),
                changed: vec!["palermo".into()],
            },
        ],
        annex: vec![
            AnnexEntry {
                state: code("AR"),
                title: HOSTILE_TITLE.to_string(),
                pillars: vec![Pillar::Prevention, Pillar::Partnership],
                language: "es".to_string(),
                published: day("2026-10-12"),
            },
            AnnexEntry {
                state: code("BR"),
                title: "Rede de núcleos | postos avançados".to_string(),
                pillars: vec![Pillar::Protection],
                language: "pt".to_string(),
                published: day("2026-12-01"),
            },
        ],
        notes: DataNotes {
            coverage: vec![
                Coverage {
                    state: code("AR"),
                    days: 92,
                    first: Some(day("2026-10-01")),
                    last: Some(day("2026-12-31")),
                    nodes: 1,
                    totals_only: false,
                },
                Coverage {
                    state: code("BR"),
                    days: 80,
                    first: Some(day("2026-10-01")),
                    last: Some(day("2026-12-19")),
                    nodes: 2,
                    totals_only: true,
                },
                Coverage {
                    state: code("CO"),
                    days: 41,
                    first: Some(day("2026-11-21")),
                    last: Some(day("2026-12-31")),
                    nodes: 1,
                    totals_only: false,
                },
                Coverage {
                    state: code("MX"),
                    days: 92,
                    first: Some(day("2026-10-01")),
                    last: Some(day("2026-12-31")),
                    nodes: 1,
                    totals_only: false,
                },
            ],
            notices: vec![
                Notice::CountsOnly,
                Notice::NoConsent { state: code("HT") },
                Notice::SeveralReportingNodes {
                    state: code("BR"),
                    nodes: 2,
                },
                Notice::TotalsOnly { state: code("BR") },
                Notice::Incomplete {
                    state: code("BR"),
                    days: 12,
                },
            ],
        },
    }
}

/// The same report with nothing in it: every section empty.
pub(crate) fn empty() -> Report {
    Report {
        participation: Participation::default(),
        volume: Volume::default(),
        profiles: Vec::new(),
        annex: Vec::new(),
        notes: DataNotes::default(),
        ..report()
    }
}

/// Renders `svg` with resvg (panicking if it does not parse) and counts the pixels that
/// are neither white nor transparent: the ink a reader would see.
pub(crate) fn ink(svg: &str) -> usize {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default())
        .unwrap_or_else(|e| panic!("the SVG does not parse: {e}\n{svg}"));
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).expect("a chart's size");
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .pixels()
        .iter()
        .filter(|p| p.alpha() > 0 && (p.red(), p.green(), p.blue()) != (255, 255, 255))
        .count()
}

/// The words of the `<text>` elements of `svg`, trimmed and unescaped.
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let (_, rest) = t.split_once('>')?;
            let (words, _) = rest.split_once("</text>")?;
            Some(
                words
                    .trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// A federation of `states` members (codes AA, AB, …) over the twelve months of 2026:
/// records of every kind each month, each state exchanging with the next, a profile each.
pub(crate) fn federation(states: u8) -> Report {
    let codes: Vec<StateCode> = (0..states)
        .map(|i| code(std::str::from_utf8(&[b'A' + i / 26, b'A' + i % 26]).expect("ASCII")))
        .collect();
    let mut report = report();
    report.period = Period {
        from: day("2026-01-01"),
        to: day("2026-12-31"),
    };
    report.volume.months = (1..=12).map(|m| format!("2026-{m:02}")).collect();
    report.volume.by_month = codes
        .iter()
        .flat_map(|&state| {
            (1..=12u64).flat_map(move |m| {
                Kind::ALL.iter().map(move |&kind| MonthCount {
                    month: format!("2026-{m:02}"),
                    state,
                    kind,
                    count: 100 + m,
                })
            })
        })
        .collect();
    report.participation.members = codes
        .iter()
        .map(|&state| Member {
            state,
            name: format!("State {state}"),
            reporting: Reporting::Summaries,
            profile: true,
        })
        .collect();
    report.participation.consents = codes
        .windows(2)
        .map(|w| ConsentPair {
            a: w[0],
            b: w[1],
            since: None,
        })
        .collect();
    report.profiles = codes
        .iter()
        .map(|&state| ProfileRow {
            state: Some(state),
            ..report.profiles[0].clone()
        })
        .collect();
    report.notes.coverage = codes
        .iter()
        .map(|&state| Coverage {
            state,
            days: 365,
            first: Some(day("2026-01-01")),
            last: Some(day("2026-12-31")),
            nodes: 1,
            totals_only: false,
        })
        .collect();
    report
}
