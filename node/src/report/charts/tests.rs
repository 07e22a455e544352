use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::report::{
    model::Report,
    sample::{self, ink, svg_texts},
};

fn draw_all(report: &Report, lang: Lang) -> [Chart; 4] {
    all(&report.volume, &report.participation, lang).expect("charts draw")
}

fn points(chart: &Chart) -> BTreeMap<(String, String), u64> {
    chart
        .series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .map(|(x, n)| ((s.name.clone(), x.clone()), *n))
        })
        .collect()
}

#[test]
fn the_monthly_chart_shows_each_states_records_per_month_summed_over_kinds() {
    let report = sample::report();
    let chart = records_by_month(&report.volume, Lang::En).unwrap();
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in &report.volume.by_month {
        *expected
            .entry((c.state.to_string(), c.month.clone()))
            .or_default() += c.count;
    }
    let drawn: BTreeMap<_, _> = points(&chart).into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(drawn, expected);
    let names: Vec<_> = chart.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["AR", "BR", "CO", "MX"]);
    for s in &chart.series {
        let months: Vec<_> = s.points.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(months, report.volume.months);
    }
    // Every state is in the legend, every month on the axis.
    let texts = svg_texts(&chart.svg);
    for text in [
        "AR",
        "MX",
        "Oct 2026",
        "Nov",
        "Dec",
        "Records",
        &chart.title,
    ] {
        assert!(texts.iter().any(|t| t == text), "{text} missing: {texts:?}");
    }
}

#[test]
fn the_bar_charts_show_the_models_pillars_and_severities() {
    let report = sample::report();
    let [_, pillars, severities, _] = draw_all(&report, Lang::Es);
    for p in Pillar::ALL {
        let n = report.volume.pillars.get(p).copied().unwrap_or(0);
        assert_eq!(points(&pillars)[&("pillars".into(), p.as_str().into())], n);
    }
    for s in Severity::ALL {
        let n = report.volume.severities.get(s).copied().unwrap_or(0);
        assert_eq!(
            points(&severities)[&("severities".into(), s.as_str().into())],
            n
        );
    }
    assert_eq!(pillars.title, "Buenas prácticas publicadas, por pilar");
    assert!(svg_texts(&pillars.svg).contains(&"Prevención".to_string()));
    // Numbers on the bars are written the Spanish way.
    assert!(svg_texts(&severities.svg).contains(&"12.350".to_string()));
}

#[test]
fn the_consent_matrix_fills_both_squares_of_each_pair_and_no_other() {
    let report = sample::report();
    let chart = consent_matrix(&report.participation, Lang::Fr).unwrap();
    let filled: BTreeSet<(String, String)> = points(&chart)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, _)| k)
        .collect();
    let expected: BTreeSet<(String, String)> = report
        .participation
        .consents
        .iter()
        .flat_map(|p| {
            let (a, b) = (p.a.to_string(), p.b.to_string());
            [(a.clone(), b.clone()), (b, a)]
        })
        .collect();
    assert_eq!(filled, expected);
    // Every member has a row and a column, including those with no pair.
    let members: Vec<String> = report
        .participation
        .members
        .iter()
        .map(|m| m.state.to_string())
        .collect();
    let rows: Vec<String> = chart.series.iter().map(|s| s.name.clone()).collect();
    assert_eq!(rows, members);
    assert!(chart.series.iter().all(|s| s.points.len() == members.len()));
    assert!(svg_texts(&chart.svg).contains(&"Partenaire".to_string()));
}

#[test]
fn every_chart_renders_with_ink_in_every_language() {
    let report = sample::report();
    for lang in Lang::ALL {
        for chart in draw_all(&report, lang) {
            assert!(chart.svg.starts_with("<svg"), "{}", chart.title);
            assert!(ink(&chart.svg) > 1_000, "{} is blank", chart.title);
        }
    }
}

#[test]
fn empty_data_still_makes_a_chart_that_says_so() {
    let report = sample::empty();
    for lang in Lang::ALL {
        for chart in draw_all(&report, lang) {
            assert!(chart.series.is_empty());
            let texts = svg_texts(&chart.svg);
            assert_eq!(texts, [chart.title.as_str(), lang.text(Label::NoData)]);
            assert!(ink(&chart.svg) > 0, "{} is blank", chart.title);
        }
    }
}

#[test]
fn a_federation_of_35_states_over_a_year_is_drawn_whole() {
    let report = sample::federation(35);
    let [months, _, _, matrix] = draw_all(&report, Lang::Pt);
    assert_eq!(months.series.len(), 35);
    let seven_kinds = 7 * (100 + 12);
    assert_eq!(months.series[0].points[11], ("2026-12".into(), seven_kinds));
    let legend = svg_texts(&months.svg);
    assert!(
        legend.contains(&"BI".to_string()),
        "the 35th state is in the legend"
    );
    assert_eq!(matrix.series.len(), 35);
    assert!(ink(&months.svg) > 1_000 && ink(&matrix.svg) > 1_000);
}

#[test]
fn absurd_counts_are_drawn_without_overflow() {
    let mut report = sample::report();
    for c in &mut report.volume.by_month {
        c.count = u64::MAX - 1;
    }
    report.volume.pillars.insert(Pillar::Prosecution, u64::MAX);
    report.volume.severities.insert(Severity::Info, u64::MAX);
    for chart in draw_all(&report, Lang::En) {
        assert!(ink(&chart.svg) > 0);
    }
    let [months, ..] = draw_all(&report, Lang::En);
    // AR's two counts of October saturate rather than wrap.
    assert_eq!(months.series[0].points[0], ("2026-10".into(), u64::MAX));
}
