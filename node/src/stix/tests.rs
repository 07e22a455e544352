use serde_json::json;

use super::alerts_from;

/// A MISP event (tests/fixtures/stix/misp-event.json) as MISP's own converter, misp-stix,
/// writes it in STIX 2.1.
const MISP: &str = include_str!("../../../tests/fixtures/stix/misp-event.stix21.json");

#[test]
fn a_misp_event_becomes_one_alert_with_its_values_marking_and_tags() {
    let got = alerts_from("misp.json", MISP.as_bytes()).expect("a valid bundle");
    assert_eq!(got.lines.len(), 1, "{:?}", got.lines);
    let a = &got.lines[0];
    assert_eq!(
        a["title"],
        "Fake modelling agency recruiting adolescents for work abroad"
    );
    assert_eq!(a["tlp"], "amber");
    assert_eq!(
        a["tags"],
        json!(["Threat-Report", "trafficking:recruitment"])
    );
    let mut values: Vec<(String, String)> = a["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            ("domain", "agencia-modelos.example"),
            ("email", "casting@agencia-modelos.example"),
            ("phone", "+573005550142"),
            ("url", "https://agencia-modelos.example/casting"),
        ]
        .map(|(t, v)| (t.to_string(), v.to_string()))
    );
    assert!(got.skipped.is_empty(), "{:?}", got.skipped);
    // It passes the checks of any import.
    crate::cli::publish::parse_record(a.clone(), 0).expect("a valid alert");
}

#[test]
fn a_bundle_that_is_not_one_is_refused_whole() {
    for (bytes, why) in [
        (&b"{\"type\": \"report\"}"[..], "\"type\" is not \"bundle\""),
        (b"[1, 2]", "\"type\" is not \"bundle\""),
        (b"{\"type\": \"bundle\"}", "no \"objects\""),
        (
            b"{\"type\": \"bundle\", \"objects\": [{\"type\": \"report\", \"id\": \"note--1\"}]}",
            "does not start with",
        ),
        (b"not json", "not a valid STIX 2.1 bundle"),
    ] {
        let e = alerts_from("b.json", bytes)
            .expect_err("refused")
            .to_string();
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn objects_no_report_refers_to_are_counted_as_skipped() {
    let bundle = json!({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "report", "spec_version": "2.1", "id": "report--a", "name": "R",
         "object_refs": ["indicator--x"]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--x",
         "pattern": "[url:value = 'http://x.example']", "pattern_type": "stix"},
        {"type": "malware", "spec_version": "2.1", "id": "malware--m", "name": "M"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--y",
         "pattern": "[url:value = 'http://y.example']", "pattern_type": "stix"},
    ]});
    let got = alerts_from("b.json", bundle.to_string().as_bytes()).unwrap();
    assert_eq!(got.lines.len(), 1);
    assert_eq!(got.lines[0]["indicators"][0]["value"], "http://x.example");
    assert_eq!(got.skipped.get("malware"), Some(&1));
    assert_eq!(got.skipped.get("indicator"), Some(&1));
}
