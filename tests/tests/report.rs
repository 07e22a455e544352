//! The coordinator's report to the Permanent Council, from real nodes: members send their
//! day's activity (counts only) to OAS, and the report OAS writes has exactly the counts
//! of what was published — while neither the report nor anything OAS holds carries a
//! word of a record that was not addressed to OAS. A state that did not consent to OAS
//! reports nothing and appears as "no data".

use std::path::Path;

use serde_json::{Value, json};
use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    steps::await_partner,
    write_jsonl,
};

/// Words only in MX's alerts for CO: none may ever reach OAS.
const SECRETS: [&str; 4] = [
    "Fake modelling agency",
    "passports withheld",
    "+52 55 0000 0000",
    "recruiter@example.invalid",
];

/// MX, CO and OAS exchange with each other; PE exchanges with MX only, not with OAS.
fn federation(dir: &Path) -> Federation {
    let fed = Federation::start(
        dir,
        &["MX", "CO"],
        &[
            ("MX", &["CO", "OAS", "PE"]),
            ("CO", &["MX", "OAS"]),
            ("PE", &["MX"]),
        ],
    );
    for (a, b) in [
        ("MX", "CO"),
        ("MX", "OAS"),
        ("CO", "OAS"),
        ("MX", "PE"),
        ("PE", "MX"),
    ] {
        await_partner(fed.member(a), b);
    }
    fed
}

fn publish_file(node: &Node, name: &str, lines: &[Value]) {
    let file = node.dir.join(name);
    write_jsonl(&file, lines);
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
}

fn held(node: &Node, kind: &str) -> u64 {
    node.tipx(["status", "--json"]).json()["counts"][kind]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn the_coordinators_report_counts_what_members_published_and_sees_no_content_not_addressed_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let fed = federation(dir.path());
    let (mx, co, pe) = (fed.member("MX"), fed.member("CO"), fed.member("PE"));

    // MX: 3 alerts for CO, 2 of them high; 1 best practice for CO and OAS.
    let alert = |i: usize, severity: &str| {
        json!({"kind": "alert", "title": format!("{} {i}", SECRETS[0]),
               "description": format!("Offers abroad, {} on arrival.", SECRETS[1]),
               "severity": severity, "category": "recruitment", "audience": ["CO"],
               "indicators": [{"type": "phone", "value": SECRETS[2]},
                              {"type": "email", "value": SECRETS[3]}]})
    };
    publish_file(
        mx,
        "mx.jsonl",
        &[
            alert(1, "high"),
            alert(2, "high"),
            alert(3, "low"),
            json!({"kind": "best-practice", "title": "Shelter network for survivors",
                   "pillars": ["protection"], "language": "es", "audience": ["CO", "OAS"]}),
        ],
    );
    // CO: 2 best practices for its partners (MX and OAS).
    publish_file(
        co,
        "co.jsonl",
        &[
            json!({"kind": "best-practice", "title": "Labour inspection checklist",
                   "pillars": ["prevention"]}),
            json!({"kind": "best-practice", "title": "Joint investigation teams",
                   "pillars": ["prosecution", "partnership"]}),
        ],
    );
    // PE publishes for MX, and cannot report to OAS: it never asked to exchange with it.
    publish_file(
        pe,
        "pe.jsonl",
        &[json!({"kind": "alert", "title": "Route through the border", "severity": "medium"})],
    );

    for m in [mx, co] {
        let out = m.tipx(["activity", "send"]).ok();
        assert!(out.stdout.contains("sent to OAS"), "{out}");
    }
    pe.tipx(["activity", "send"])
        .fails_with(&["PE and OAS are not partners"]);
    let oas = &fed.oas;
    assert!(
        eventually(DELIVERY_DEADLINE, || held(oas, "activities") >= 2
            && held(oas, "best_practices") >= 3),
        "OAS never held both summaries and the 3 best practices addressed to it"
    );

    let out = oas.tipx(["report", "--format", "json"]).ok();
    let report: Value = serde_json::from_str(&out.stdout).expect("the report is JSON");
    assert_eq!(report["scope"], "federation");
    let totals = |state: &str| -> Value {
        report["volume"]["states"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["state"] == state)
            .unwrap_or_else(|| panic!("no totals for {state}: {report}"))
            .clone()
    };
    assert_eq!(totals("MX")["published"]["alert"], 3);
    assert_eq!(totals("MX")["published"]["best-practice"], 1);
    assert_eq!(totals("CO")["published"]["best-practice"], 2);
    assert!(totals("CO")["published"].get("alert").is_none());
    assert_eq!(report["volume"]["severities"], json!({"high": 2, "low": 1}));
    assert_eq!(
        report["volume"]["pillars"],
        json!({"prevention": 1, "protection": 1, "prosecution": 1, "partnership": 1})
    );
    let by_month: u64 = report["volume"]["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alert" || c["kind"] == "best-practice")
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(by_month, 6, "3 alerts and 3 best practices in the month");

    // PE: no data, and nothing of it at OAS.
    let member = |state: &str| -> Value {
        report["participation"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["state"] == state)
            .unwrap()
            .clone()
    };
    assert_eq!(member("PE")["reporting"], "no-consent");
    assert_eq!(member("MX")["reporting"], "summaries");
    assert!(
        report["volume"]["states"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] != "PE")
    );
    assert!(
        report["notes"]["notices"]
            .as_array()
            .unwrap()
            .contains(&json!({"code": "no-consent", "state": "PE"}))
    );
    assert!(oas.records(&["--state", "PE"]).is_empty());

    // The annex: the best practices addressed to OAS, by title.
    let mut annex: Vec<&str> = report["annex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    annex.sort();
    assert_eq!(
        annex,
        [
            "Joint investigation teams",
            "Labour inspection checklist",
            "Shelter network for survivors"
        ]
    );

    // Nothing of MX's alerts for CO anywhere at OAS: the report, every record it holds
    // (with bodies), its audit log.
    let everything = oas
        .tipx(["export", "--format", "jsonl", "--all"])
        .ok()
        .stdout;
    let listed = oas
        .tipx(["records", "list", "--json", "--limit", "10000"])
        .ok()
        .stdout;
    let audit = oas
        .tipx(["audit", "--json", "--limit", "10000"])
        .ok()
        .stdout;
    for secret in SECRETS {
        for (what, text) in [
            ("report", &out.stdout),
            ("records", &everything),
            ("listing", &listed),
            ("audit", &audit),
        ] {
            assert!(!text.contains(secret), "OAS's {what} contains {secret:?}");
        }
    }
    // The other formats, from the same data: HTML in each language, Markdown, CSV tables.
    for (lang, heading) in [
        ("en", "Participation"),
        ("es", "Participación"),
        ("fr", "Participation"),
        ("pt", "Participação"),
    ] {
        let file = dir.path().join(format!("report-{lang}.html"));
        oas.tipx(["report", "--lang", lang, "--out", file.to_str().unwrap()])
            .ok();
        let html = std::fs::read_to_string(&file).unwrap();
        assert!(html.contains(&format!("lang=\"{lang}\"")), "{lang}");
        assert!(html.contains(heading), "{lang}: no {heading}");
        assert!(
            html.contains("Shelter network for survivors"),
            "{lang}: the annex"
        );
        for secret in SECRETS {
            assert!(!html.contains(secret), "{lang}: {secret}");
        }
    }
    let md = oas.tipx(["report", "--format", "md"]).ok().stdout;
    assert!(md.contains("Joint investigation teams"), "{md}");
    let tables = dir.path().join("tables");
    oas.tipx([
        "report",
        "--format",
        "csv",
        "--out",
        tables.to_str().unwrap(),
    ])
    .ok();
    let totals = std::fs::read_to_string(tables.join("state_totals.csv")).unwrap();
    assert!(totals.lines().any(|l| l.starts_with("MX,")), "{totals}");
    oas.tipx(["report", "--format", "csv"])
        .fails_with(&["--out"]);
    oas.tipx(["report", "--lang", "de"])
        .fails_with(&["en, es, fr or pt"]);

    // On a member's node, the report is of its own exchange, from its own store.
    let own: Value = mx.tipx(["report", "--format", "json"]).json();
    assert_eq!(own["scope"], "state");
    let mx_own = own["volume"]["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == "MX")
        .unwrap()
        .clone();
    assert_eq!(mx_own["published"]["alert"], 3, "{own}");
    assert_eq!(own["volume"]["severities"], json!({"high": 2, "low": 1}));

    // The control: CO holds them.
    assert!(
        co.tipx(["export", "--format", "jsonl"])
            .ok()
            .stdout
            .contains(SECRETS[1])
    );
}
