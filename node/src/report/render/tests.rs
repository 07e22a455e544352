use scraper::{Html, Selector};

use super::*;
use crate::report::{
    labels::{Label, Lang},
    model::Report,
    sample::{self, HOSTILE_TITLE, ink},
};

const SECTIONS: [&str; 5] = ["participation", "volume", "profiles", "annex", "notes"];

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).expect("a selector");
    doc.select(&selector).collect()
}

fn text(e: &scraper::ElementRef<'_>) -> String {
    e.text().collect()
}

#[test]
fn json_is_the_model_and_reads_back() {
    let report = sample::report();
    let json = json(&report);
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(json.contains("\n  \"schema\": 1,"), "pretty: {json}");
}

#[test]
fn html_is_one_file_with_every_section_and_chart_and_nothing_to_run_or_fetch() {
    let page = html(&sample::report(), Lang::En).unwrap();
    let doc = Html::parse_document(&page);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(select(&doc, "html")[0].value().attr("lang"), Some("en"));
    for id in SECTIONS {
        assert_eq!(select(&doc, &format!("section#{id} > h2")).len(), 1, "{id}");
    }
    assert_eq!(select(&doc, "figure.chart > svg").len(), 4);
    assert!(select(&doc, "script").is_empty());
    for e in select(&doc, "[src], [href], link, img, iframe, object, embed") {
        let href = e.value().attr("href").unwrap_or_default();
        assert!(href.starts_with('#'), "external reference: {:?}", e.value());
    }
    // The only addresses are the SVG namespace of each chart, which nothing fetches.
    let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(page.matches("http://").count(), namespaces);
    assert!(!page.contains("https://"));
    assert!(page.contains("@page { size: A4; margin: 15mm; }"));
    assert!(page.contains("break-inside: avoid"));
    // Every chart in the page renders, as the standalone files do.
    let svg = Selector::parse("figure.chart > svg").unwrap();
    for figure in doc.select(&svg) {
        assert!(ink(&figure.html()) > 1_000);
    }
}

#[test]
fn a_hostile_title_in_the_annex_is_shown_as_text() {
    let page = html(&sample::report(), Lang::Fr).unwrap();
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    let doc = Html::parse_document(&page);
    assert!(select(&doc, "script").is_empty());
    let titles: Vec<String> = select(&doc, "section#annex td").iter().map(text).collect();
    assert!(titles.iter().any(|t| t == HOSTILE_TITLE), "{titles:?}");
    let md = markdown(&sample::report(), Lang::Fr);
    assert!(!md.contains("<script>"));
    assert!(
        md.contains(r#"\<script\>alert(1)\</script\> \& "quotes""#),
        "{md}"
    );
    // A `|` in a title stays in its cell.
    assert!(md.contains(r"Rede de núcleos \| postos avançados"));
}

#[test]
fn gaps_are_dashes_with_a_legend_and_changed_fields_are_marked() {
    let page = html(&sample::report(), Lang::En).unwrap();
    let doc = Html::parse_document(&page);
    let rows = |table: usize| -> Vec<Vec<String>> {
        let (tr, td) = (
            Selector::parse("tbody tr").unwrap(),
            Selector::parse("td").unwrap(),
        );
        select(&doc, "section#profiles table")[table]
            .select(&tr)
            .map(|row| row.select(&td).map(|e| text(&e)).collect())
            .collect()
    };
    let (framework, statistics) = (rows(0), rows(1));
    assert_eq!(framework.len(), 3);
    assert_eq!(
        framework[0],
        [
            "AR",
            "3 Nov 2026",
            "Ratified, 19 Nov 2002",
            "2",
            "yes",
            "2024–2028",
            "yes",
            "14†",
            "yes"
        ]
    );
    // BR: a profile with gaps.
    assert_eq!(statistics[1], ["BR", "—", "—", "—", "—", "—"]);
    // AR: victims changed, prosecutions not given.
    assert_eq!(statistics[0], ["AR", "2025", "1,432†", "210", "—", "37"]);
    // MX: no Palermo status known, and that changed.
    assert_eq!(framework[2][2], "—†");
    assert_eq!(select(&doc, "section#profiles td.changed").len(), 3);
    let legend: Vec<String> = select(&doc, "section#profiles .legend")
        .iter()
        .map(text)
        .collect();
    let both = "— unknown or not reported · † changed since the state's previous profile";
    assert_eq!(legend, [both, both]);
    // Haiti (no consent) and Peru (no summary): a dash for each month, not a zero.
    let monthly: Vec<Vec<String>> = select(&doc, "section#volume table")[0]
        .select(&Selector::parse("tbody tr").unwrap())
        .map(|tr| {
            tr.select(&Selector::parse("td").unwrap())
                .map(|e| text(&e))
                .collect()
        })
        .collect();
    let row = |state: &str| monthly.iter().find(|r| r[0] == state).unwrap().clone();
    assert_eq!(row("HT"), ["HT", "—", "—", "—", "—"]);
    assert_eq!(row("PE"), ["PE", "—", "—", "—", "—"]);
    assert_eq!(row("BR"), ["BR", "12,345", "0", "4", "12,349"]);
    // Colombia's summaries start on 21 November: October is not known.
    assert_eq!(row("CO"), ["CO", "—", "2", "0", "2"]);
}

#[test]
fn every_language_renders_whole_in_its_own_words() {
    let report = sample::report();
    for lang in Lang::ALL {
        let page = html(&report, lang).unwrap();
        let doc = Html::parse_document(&page);
        assert_eq!(
            select(&doc, "html")[0].value().attr("lang"),
            Some(lang.code())
        );
        let heading = text(&select(&doc, "section#participation > h2")[0]);
        assert_eq!(
            heading,
            format!("1. {}", lang.text(Label::SectionParticipation))
        );
        let md = markdown(&report, lang);
        assert!(md.contains(&format!("## 1. {}", lang.text(Label::SectionParticipation))));
    }
    let es = html(&report, Lang::Es).unwrap();
    assert!(es.contains("<h2>1. Participación</h2>"));
    assert!(es.contains("1 de octubre de 2026 – 31 de diciembre de 2026"));
    assert!(es.contains(">12.345<"));
    let fr = html(&report, Lang::Fr).unwrap();
    assert!(fr.contains("12\u{202F}345"));
    let notices: Vec<String> = select(&Html::parse_document(&fr), "section#notes li")
        .iter()
        .map(text)
        .collect();
    assert!(
        notices[1].starts_with("Haiti (HT) n'a pas consenti"),
        "{notices:?}"
    );
}

#[test]
fn markdown_has_the_five_sections_as_headings_and_tables() {
    let md = markdown(&sample::report(), Lang::En);
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## 1. Participation",
            "## 2. Volume of the exchange",
            "## 3. National profiles",
            "## 4. Annex: best practices addressed to this state",
            "## 5. Notes on the data",
        ]
    );
    assert!(md.starts_with("# Report to the Permanent Council"));
    assert!(md.contains(
        "| State | Name | Activity data | National profile |\n| --- | --- | --- | --- |"
    ));
    assert!(md.contains("| AR | Argentina | Activity summaries received | yes |"));
    assert!(md.contains("| Total | 12,353 | 4 | 12 | 12,369 |"), "{md}");
    assert!(
        md.contains("| AR | 2025 | **1,432**† | 210 | — | 37 |"),
        "{md}"
    );
    assert!(md.contains("**Joined during the period:** Colombia (CO)"));
    assert!(md.contains("- Haiti (HT) has not consented to exchange with this state"));
    // Every table row has as many cells as its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let widths: Vec<usize> = table
            .lines()
            .map(|l| l.replace(r"\|", "").matches('|').count())
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
    }
}

#[test]
fn an_empty_report_still_renders_every_section() {
    let report = sample::empty();
    for lang in Lang::ALL {
        let page = html(&report, lang).unwrap();
        let doc = Html::parse_document(&page);
        for id in SECTIONS {
            assert_eq!(select(&doc, &format!("section#{id}")).len(), 1);
        }
        assert_eq!(select(&doc, "figure.chart > svg").len(), 4);
        assert!(page.contains(lang.text(Label::NoData)));
        let monthly = select(&doc, "section#volume table")[0];
        let tfoot = Selector::parse("tfoot").unwrap();
        assert_eq!(monthly.select(&tfoot).count(), 0, "no total of nothing");
        let md = markdown(&report, lang);
        assert_eq!(md.lines().filter(|l| l.starts_with("## ")).count(), 5);
    }
}

#[test]
fn csv_files_hold_the_tables_with_english_columns_and_no_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let report = sample::report();
    let written = csv(&report, dir.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, CSV_FILES);
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut r = ::csv::Reader::from_path(dir.path().join(name)).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let mut rows = vec![header];
        for rec in r.records() {
            rows.push(rec.unwrap().iter().map(String::from).collect());
        }
        rows
    };
    let months = read("volume_by_month.csv");
    assert_eq!(months[0], ["month", "state", "kind", "count"]);
    assert_eq!(months.len(), 1 + report.volume.by_month.len());
    assert_eq!(months[3], ["2026-10", "BR", "alert", "12345"]);
    assert_eq!(read("members.csv")[4], ["HT", "Haiti", "no-consent", "no"]);
    assert_eq!(read("consents.csv")[2], ["AR", "MX", ""]);
    let totals = read("state_totals.csv");
    assert_eq!(
        totals[0][..3],
        ["state", "published_best_practice", "published_alert"]
    );
    assert_eq!(totals[2][..3], ["BR", "4", "12345"]);
    assert_eq!(totals[2].last().unwrap(), "5432100");
    assert_eq!(
        read("pillars.csv")[1..],
        [
            ["prevention", "5"],
            ["protection", "3"],
            ["prosecution", "0"],
            ["partnership", "1"]
        ]
    );
    assert_eq!(read("severities.csv")[4], ["high", "12350"]);
    // A category that reads as a formula is quoted; others are kept.
    let categories = read("categories.csv");
    assert_eq!(categories[1], ["'=cmd|' /C calc'!A0", "1"]);
    assert_eq!(categories[2], ["recruitment", "10"]);
    assert_eq!(read("languages.csv").len(), 4);
    let profiles = read("profiles.csv");
    assert_eq!(profiles[0].len(), 17);
    assert_eq!(
        profiles[1],
        [
            "AR",
            "2026-11-03",
            "ratified",
            "2002-11-19",
            "2",
            "yes",
            "2024",
            "2028",
            "yes",
            "14",
            "yes",
            "2025",
            "1432",
            "210",
            "",
            "37",
            "victims; shelters"
        ]
    );
    assert_eq!(profiles[2][5], "", "an unknown figure is an empty cell");
    let annex = read("annex.csv");
    assert_eq!(annex[1][2], HOSTILE_TITLE);
    assert_eq!(annex[1][3], "prevention; partnership");
    assert_eq!(
        read("coverage.csv")[2],
        ["BR", "80", "2026-10-01", "2026-12-19", "2", "yes"]
    );
}

#[test]
fn a_year_of_35_states_is_written_in_well_under_two_seconds() {
    let report = sample::federation(35);
    let started = std::time::Instant::now();
    let page = html(&report, Lang::Pt).unwrap();
    let md = markdown(&report, Lang::Pt);
    let dir = tempfile::tempdir().unwrap();
    csv(&report, dir.path()).unwrap();
    let _ = json(&report);
    let took = started.elapsed();
    assert!(took.as_secs_f64() < 2.0, "took {took:?}");
    assert!(page.contains(">State AA<") && md.contains("| BI |"));
}
