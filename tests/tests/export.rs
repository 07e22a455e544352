//! `tipx export`: records leave a node as JSON lines that another node publishes as its
//! own, with the same content, and as CSV that Python's csv module reads with the expected
//! columns and with formula-like cells made harmless. Both walk the daemon's listing page
//! by page (more records than one page here).

use std::{collections::BTreeMap, path::Path, process::Command};

use serde_json::{Value, json};
use tipx_tests::{COMMAND_DEADLINE, Node, alone_running, publish, run_with_deadline, steps};

/// More than one page of the export (`tipx_node::cli::export::PAGE`).
const MANY: usize = 600;

/// The CSV's header row, as the documentation lists it.
const COLUMNS: [&str; 22] = [
    "id",
    "created_at",
    "state",
    "kind",
    "title",
    "language",
    "tlp",
    "handling",
    "audience",
    "severity",
    "category",
    "indicators",
    "affected_states",
    "valid_until",
    "pillars",
    "tags",
    "summary",
    "text",
    "references",
    "translations",
    "retracted",
    "retracted_by",
];

/// Publishes, on `node`, an alert and a best practice with every field the import format
/// carries, an alert that is then retracted, and one that is then erased.
fn publish_samples(node: &Node) {
    steps::publish_with_retracted_and_erased(
        node,
        &[
            json!({
                "kind": "alert", "title": "Fake modelling agency recruiting minors",
                "description": "Adverts promise work abroad;\nthen passports are taken, \"for safety\".",
                "severity": "high", "category": "recruitment", "language": "es",
                "translations": [{"language": "en", "title": "Fake agency", "summary": "s"}],
                "indicators": [
                    {"type": "phone", "value": "+52-555-0100"},
                    {"type": "url", "value": "https://castings.example/apply", "note": "form"}
                ],
                "affected_states": ["MX", "GT"], "valid_until": "30d",
                "tags": ["recruitment", "minors"], "tlp": "red", "handling": "national-authorities"
            }),
            json!({
                "kind": "best-practice", "title": "Shelter protocol", "summary": "Two lines.",
                "text": "The full protocol, ünïcödé included.", "language": "pt",
                "pillars": ["protection", "partnership"], "tags": ["shelter"],
                "references": [{"title": "Protocol", "url": "https://example.org/p.pdf"}],
                "translations": [{"language": "es", "title": "Protocolo de albergue"}],
                "tlp": "green", "handling": "public"
            }),
        ],
    );
}

/// The lines of a JSON-lines file.
fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// The lines by title, without the audience (which the re-publishing node extends with its
/// own state).
fn by_title(lines: &[Value]) -> BTreeMap<String, Value> {
    lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.as_object_mut().unwrap().remove("audience");
            (l["title"].as_str().unwrap().to_string(), l)
        })
        .collect()
}

#[test]
fn jsonl_export_is_republished_by_another_node_with_the_same_content() {
    let (_t1, mx) = alone_running("MX");
    let (_t2, co) = alone_running("CO");
    publish_samples(&mx);
    steps::publish_alerts(&mx, 0, MANY, &[]);

    let exported = mx.dir.join("export.jsonl");
    let out = mx
        .tipx([
            "export",
            "--format",
            "jsonl",
            "--out",
            exported.to_str().unwrap(),
        ])
        .ok();
    assert!(
        out.stderr
            .contains(&format!("exported {} records", MANY + 2)),
        "{out}"
    );
    let from_mx = lines(&exported);
    assert_eq!(from_mx.len(), MANY + 2, "every record once, across pages");
    let titles = by_title(&from_mx);
    assert_eq!(titles.len(), MANY + 2, "no record twice");
    assert!(!titles.contains_key("Sent in error"), "retracted: left out");
    assert!(!titles.contains_key("Names a victim"), "erased: left out");
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(!text.contains("Names a victim"));

    // The same file, as it is, is what `publish --file` imports.
    co.tipx(["publish", "--file", exported.to_str().unwrap()])
        .ok();
    let again = co.dir.join("again.jsonl");
    co.tipx([
        "export",
        "--format",
        "jsonl",
        "--out",
        again.to_str().unwrap(),
    ])
    .ok();
    let from_co = lines(&again);
    assert_eq!(by_title(&from_co), titles, "the same content on CO");
    for l in &from_co {
        assert_eq!(
            l["audience"],
            json!(["CO", "MX"]),
            "MX's audience, and CO's own"
        );
    }
    let alert = &titles["Fake modelling agency recruiting minors"];
    assert_eq!(alert["tlp"], "red");
    assert_eq!(alert["handling"], "national-authorities");
    assert_eq!(alert["indicators"][1]["note"], "form");
    // The search index takes in what was published within about a second.
    let mut shown = vec![];
    tipx_tests::federation::eventually(std::time::Duration::from_secs(5), || {
        shown = co.records(&["--text", "Shelter protocol"]);
        !shown.is_empty()
    });
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["state"], "CO", "CO published it as its own");
}

#[test]
fn csv_export_opens_in_python_with_the_columns_and_formulas_escaped() {
    let (_t, mx) = alone_running("MX");
    publish_samples(&mx);
    publish(
        &mx,
        &[
            "alert",
            "--title",
            "=HYPERLINK(\"https://evil.example\",\"click\")",
            "--severity",
            "medium",
            "--indicator",
            "phone:+52-555-0199",
            "--tag",
            "@once",
        ],
    );
    steps::publish_alerts(&mx, 0, MANY, &[]);
    let file = mx.dir.join("export.csv");
    mx.tipx([
        "export",
        "--format",
        "csv",
        "--all",
        "--out",
        file.to_str().unwrap(),
    ])
    .ok();

    let script = r#"
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
by_title = {r[header.index("title")]: dict(zip(header, r)) for r in body}
print(json.dumps({"header": header, "rows": len(body), "by_title": by_title}))
"#;
    let mut python = Command::new("python3");
    python.args(["-c", script]).arg(&file);
    let read = run_with_deadline(python, COMMAND_DEADLINE).json();
    assert_eq!(read["header"], json!(COLUMNS));
    // The samples but the erased one, the formula, and the batch; retracted included.
    assert_eq!(read["rows"], json!(MANY + 4), "one row per record");
    let rows = &read["by_title"];
    let formula = &rows["'=HYPERLINK(\"https://evil.example\",\"click\")"];
    assert_eq!(formula["kind"], "alert", "the formula is quoted: {rows:#}");
    assert_eq!(formula["tags"], "'@once");
    assert_eq!(formula["indicators"], "phone:+52-555-0199");
    assert_eq!(rows["Sent in error"]["retracted"], "yes");
    assert_eq!(
        rows["Sent in error"]["retracted_by"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert!(rows.get("Names a victim").is_none(), "erased: left out");
    let alert = &rows["Fake modelling agency recruiting minors"];
    assert_eq!(alert["retracted"], "no");
    assert_eq!(
        alert["indicators"],
        "phone:+52-555-0100; url:https://castings.example/apply"
    );
    assert_eq!(alert["affected_states"], "MX; GT");
    assert_eq!(alert["tlp"], "red");
    assert!(
        alert["summary"].as_str().unwrap().contains("\n"),
        "a multi-line cell"
    );
    let practice = &rows["Shelter protocol"];
    assert_eq!(practice["pillars"], "protection; partnership");
    assert_eq!(practice["text"], "The full protocol, ünïcödé included.");
    assert_eq!(
        practice["references"],
        "Protocol <https://example.org/p.pdf>"
    );
}

#[test]
fn export_to_a_pipe_prints_only_the_records_and_a_summary_on_stderr() {
    let (_t, mx) = alone_running("MX");
    publish(&mx, &["alert", "--title", "One", "--severity", "low"]);
    let out = mx.tipx(["export", "--format", "jsonl"]).ok();
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    assert_eq!(
        out.stderr.trim(),
        "exported 1 record to standard output",
        "no progress bar off a terminal"
    );
}
