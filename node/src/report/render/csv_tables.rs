//! The report as CSV files, one table per file, for scripts and spreadsheets. Column names
//! are stable English identifiers whatever the report's language, and values are the
//! model's own: state codes, `YYYY-MM-DD` days, `YYYY-MM` months, kinds, pillars and
//! severities as in JSON, `yes`/`no`, and an empty cell for a figure that is not known.
//! A cell a spreadsheet would take for a formula gets a quote in front, as in
//! `tipx export --format csv` (`crate::spreadsheet::escape`).

use std::{
    io,
    path::{Path, PathBuf},
};

use tipx_protocol::{
    Kind,
    body::{Pillar, Severity},
    day::Day,
};

use crate::{
    report::model::{Report, Reporting},
    spreadsheet::escape,
};

/// Separator of the values inside one cell (pillars, changed fields).
const LIST_SEPARATOR: &str = "; ";

/// The files [`csv()`] writes, in order.
pub const FILES: [&str; 11] = [
    "members.csv",
    "consents.csv",
    "volume_by_month.csv",
    "state_totals.csv",
    "pillars.csv",
    "severities.csv",
    "categories.csv",
    "languages.csv",
    "profiles.csv",
    "annex.csv",
    "coverage.csv",
];

/// Writes the report's tables into `dir` (made if missing), one file each as named in
/// [`FILES`], each with a header row; returns their paths.
pub fn csv(report: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let tables = tables(report);
    let mut written = Vec::with_capacity(tables.len());
    for (name, (header, rows)) in FILES.iter().zip(tables) {
        let path = dir.join(name);
        let mut w = ::csv::Writer::from_path(&path)?;
        w.write_record(&header)?;
        for row in rows {
            w.write_record(row.into_iter().map(escape))?;
        }
        w.flush()?;
        written.push(path);
    }
    Ok(written)
}

type Rows = Vec<Vec<String>>;

/// The header and rows of each file of [`FILES`], in order.
fn tables(r: &Report) -> [(Vec<String>, Rows); 11] {
    let p = &r.participation;
    let v = &r.volume;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let opt = |o: Option<String>| o.unwrap_or_default();
    let day = |d: Option<Day>| opt(d.map(|d| d.to_string()));
    let num = |n: Option<u64>| opt(n.map(|n| n.to_string()));
    let kinds = |prefix: &'static str| {
        Kind::ALL
            .iter()
            .map(move |k| format!("{prefix}_{}", k.as_str().replace('-', "_")))
    };
    let state_columns: Vec<String> = ["state"]
        .into_iter()
        .map(String::from)
        .chain(kinds("published"))
        .chain(kinds("received"))
        .chain(
            ["retractions", "erasures", "rejections", "sync_bytes"]
                .into_iter()
                .map(String::from),
        )
        .collect();
    [
        (
            header(&["state", "name", "reporting", "profile"]),
            p.members
                .iter()
                .map(|m| {
                    vec![
                        m.state.to_string(),
                        m.name.clone(),
                        reporting(m.reporting).to_string(),
                        yes_no(m.profile),
                    ]
                })
                .collect(),
        ),
        (
            header(&["a", "b", "since"]),
            p.consents
                .iter()
                .map(|c| vec![c.a.to_string(), c.b.to_string(), day(c.since)])
                .collect(),
        ),
        (
            header(&["month", "state", "kind", "count"]),
            v.by_month
                .iter()
                .map(|c| {
                    vec![
                        c.month.clone(),
                        c.state.to_string(),
                        c.kind.as_str().to_string(),
                        c.count.to_string(),
                    ]
                })
                .collect(),
        ),
        (
            state_columns,
            v.states
                .iter()
                .map(|s| {
                    let of = |m: &std::collections::BTreeMap<Kind, u64>| {
                        Kind::ALL
                            .iter()
                            .map(|k| m.get(k).copied().unwrap_or(0).to_string())
                            .collect::<Vec<_>>()
                    };
                    let mut row = vec![opt(s.state.map(|c| c.to_string()))];
                    row.extend(of(&s.published));
                    row.extend(of(&s.received));
                    row.extend(
                        [s.retractions, s.erasures, s.rejections, s.sync_bytes]
                            .map(|n| n.to_string()),
                    );
                    row
                })
                .collect(),
        ),
        (
            header(&["pillar", "count"]),
            Pillar::ALL
                .iter()
                .map(|p| {
                    let n = v.pillars.get(p).copied().unwrap_or(0);
                    vec![p.as_str().to_string(), n.to_string()]
                })
                .collect(),
        ),
        (
            header(&["severity", "count"]),
            Severity::ALL
                .iter()
                .map(|s| {
                    let n = v.severities.get(s).copied().unwrap_or(0);
                    vec![s.as_str().to_string(), n.to_string()]
                })
                .collect(),
        ),
        (
            header(&["category", "count"]),
            v.categories
                .iter()
                .map(|(c, n)| vec![c.clone(), n.to_string()])
                .collect(),
        ),
        (
            header(&["language", "count"]),
            v.languages
                .iter()
                .map(|(l, n)| vec![l.clone(), n.to_string()])
                .collect(),
        ),
        (
            header(&[
                "state",
                "updated",
                "palermo",
                "palermo_date",
                "laws",
                "mechanism",
                "action_plan_from",
                "action_plan_to",
                "hotline",
                "shelters",
                "identification_protocol",
                "year",
                "victims",
                "investigations",
                "prosecutions",
                "convictions",
                "changed",
            ]),
            r.profiles
                .iter()
                .map(|p| {
                    vec![
                        opt(p.state.map(|s| s.to_string())),
                        day(p.updated),
                        opt(p.palermo.map(|s| s.as_str().to_string())),
                        day(p.palermo_date),
                        p.laws.to_string(),
                        opt(p.mechanism.map(yes_no)),
                        opt(p.action_plan.map(|a| a.0.to_string())),
                        opt(p.action_plan.map(|a| a.1.to_string())),
                        yes_no(p.hotline),
                        num(p.shelters),
                        opt(p.identification_protocol.map(yes_no)),
                        opt(p.year.map(|y| y.to_string())),
                        num(p.victims),
                        num(p.investigations),
                        num(p.prosecutions),
                        num(p.convictions),
                        p.changed.join(LIST_SEPARATOR),
                    ]
                })
                .collect(),
        ),
        (
            header(&["published", "state", "title", "pillars", "language"]),
            r.annex
                .iter()
                .map(|a| {
                    let pillars: Vec<&str> = a.pillars.iter().map(|p| p.as_str()).collect();
                    vec![
                        a.published.to_string(),
                        a.state.to_string(),
                        a.title.clone(),
                        pillars.join(LIST_SEPARATOR),
                        a.language.clone(),
                    ]
                })
                .collect(),
        ),
        (
            header(&["state", "days", "first", "last", "nodes", "totals_only"]),
            r.notes
                .coverage
                .iter()
                .map(|c| {
                    vec![
                        c.state.to_string(),
                        c.days.to_string(),
                        day(c.first),
                        day(c.last),
                        c.nodes.to_string(),
                        yes_no(c.totals_only),
                    ]
                })
                .collect(),
        ),
    ]
}

/// As in JSON.
fn reporting(r: Reporting) -> &'static str {
    match r {
        Reporting::Summaries => "summaries",
        Reporting::NoData => "no-data",
        Reporting::NoConsent => "no-consent",
        Reporting::Own => "own",
    }
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}
