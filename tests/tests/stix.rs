//! STIX 2.1 on real nodes: every bundle `tipx export --format stix` writes passes the
//! OASIS validator with no error and is the same bundle when exported again; a bundle
//! exported by one node, imported by another and exported again has the same content;
//! a MISP event converted by MISP's own converter (misp-stix) is published as an alert.

use std::{collections::BTreeMap, path::Path};

use serde_json::{Value, json};
use tipx_tests::{Node, alone_running, python, steps};

/// Publishes, on `node`, alerts with every kind of indicator, translations and affected
/// states, a best practice, an alert then retracted and one then erased.
fn publish_samples(node: &Node) {
    steps::publish_with_retracted_and_erased(
        node,
        &[
            json!({
                "kind": "alert", "title": "Falsa agencia de modelos recluta adolescentes",
                "description": "Ofrecen trabajo en el extranjero; luego retienen los pasaportes.",
                "severity": "high", "category": "recruitment", "language": "es",
                "translations": [{"language": "en", "title": "Fake modelling agency",
                                  "summary": "Jobs abroad, then passports are taken."}],
                "indicators": [
                    {"type": "email", "value": "casting@agencia.example", "note": "sender"},
                    {"type": "url", "value": "https://agencia.example/casting?id='1'"},
                    {"type": "domain", "value": "agencia.example"},
                    {"type": "social-account", "value": "@agencia_castings"},
                    {"type": "phone", "value": "+52 55 5555 0100", "note": "WhatsApp"},
                    {"type": "document", "value": "G1234567"},
                    {"type": "keyword", "value": "modelo internacional"}
                ],
                "affected_states": ["MX", "GT", "CO"], "valid_until": "30d",
                "tags": ["recruitment", "minors"], "tlp": "amber+strict",
                "handling": "national-authorities"
            }),
            json!({
                "kind": "alert", "title": "Route through the southern border",
                "severity": "medium", "tlp": "red", "language": "en",
                "indicators": [{"type": "route", "value": "Tapachula - Ciudad de México"}]
            }),
            json!({
                "kind": "best-practice", "title": "Protocolo de albergue", "language": "pt",
                "summary": "Duas linhas.", "text": "O protocolo completo.",
                "pillars": ["protection", "partnership"], "tags": ["shelter"],
                "references": [{"title": "Protocolo", "url": "https://example.org/p.pdf"}],
                "tlp": "green", "handling": "public"
            }),
        ],
    );
}

fn export(node: &Node, name: &str, all: bool) -> std::path::PathBuf {
    let out = node.dir.join(name);
    let mut args = vec!["export", "--format", "stix", "--out", out.to_str().unwrap()];
    if all {
        args.push("--all");
    }
    node.tipx(&args).ok();
    out
}

fn bundle(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("the bundle is JSON")
}

#[track_caller]
fn passes_the_validator(path: &Path) {
    if let Err(report) = python::validate_stix(path) {
        panic!(
            "the OASIS STIX validator found errors in {}:\n{report}",
            path.display()
        );
    }
}

/// What a bundle says of each report, by name: description, language, markings, the
/// values its indicators compare and the ones carried beside them, revoked.
fn content(bundle: &Value) -> BTreeMap<String, Value> {
    let objects = bundle["objects"].as_array().expect("objects");
    let by_id: BTreeMap<&str, &Value> = objects
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    objects
        .iter()
        .filter(|o| o["type"] == "report")
        .map(|r| {
            let mut patterns: Vec<&str> = r["object_refs"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|id| by_id.get(id.as_str().unwrap()))
                .filter(|o| o["type"] == "indicator")
                .map(|o| o["pattern"].as_str().unwrap())
                .collect();
            patterns.sort();
            let name = r["name"].as_str().unwrap().to_string();
            let seen = json!({
                "description": r["description"],
                "lang": r["lang"],
                "markings": r["object_marking_refs"],
                "patterns": patterns,
                "others": r["x_tipx_indicators"],
                "severity": r["x_tipx_severity"],
                "pillars": r["x_tipx_pillars"],
                "revoked": r["revoked"],
            });
            (name, seen)
        })
        .collect()
}

#[test]
fn every_exported_bundle_passes_the_oasis_validator_and_exports_again_identically() {
    let (_t, mx) = alone_running("MX");
    publish_samples(&mx);
    let first = export(&mx, "first.json", true);
    passes_the_validator(&first);
    let again = export(&mx, "again.json", true);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&again).unwrap(),
        "the same records gave another bundle"
    );

    // The validator is not a formality: the same bundle with a report that refers to
    // nothing is refused.
    let mut broken = bundle(&first);
    let report = broken["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["type"] == "report")
        .unwrap();
    report.as_object_mut().unwrap().remove("object_refs");
    let broken_file = mx.dir.join("broken.json");
    std::fs::write(&broken_file, broken.to_string()).unwrap();
    assert!(
        python::validate_stix(&broken_file).is_err(),
        "the validator passed a report without object_refs"
    );

    let b = bundle(&first);
    let reports = content(&b);
    assert_eq!(reports.len(), 4, "{reports:#?}");
    assert!(!reports.contains_key("Names a victim"), "erased: left out");
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(
        !text.contains("Names a victim"),
        "the erased title is in the bundle"
    );
    assert_eq!(reports["Sent in error"]["revoked"], true);
    let agency = &reports["Falsa agencia de modelos recluta adolescentes"];
    assert_eq!(
        agency["patterns"],
        json!([
            "[domain-name:value = 'agencia.example']",
            "[email-addr:value = 'casting@agencia.example']",
            "[url:value = 'https://agencia.example/casting?id=\\'1\\'']",
            "[user-account:account_login = '@agencia_castings']",
        ])
    );
    assert_eq!(agency["others"].as_array().unwrap().len(), 3, "{agency}");
    assert_eq!(
        agency["markings"],
        json!(["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]),
        "TLP:AMBER+STRICT's official id"
    );
    let locations: Vec<&str> = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "location")
        .map(|o| o["country"].as_str().unwrap())
        .collect();
    assert_eq!(locations, ["MX", "GT", "CO"]);
    let translated = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "language-content")
        .expect("the translation");
    assert_eq!(
        translated["contents"]["en"]["name"],
        "Fake modelling agency"
    );
}

#[test]
fn a_bundle_imported_by_another_node_exports_again_with_the_same_content() {
    let (_t1, mx) = alone_running("MX");
    let (_t2, co) = alone_running("CO");
    publish_samples(&mx);
    let from_mx = export(&mx, "mx.json", false);
    passes_the_validator(&from_mx);

    let out = co
        .tipx([
            "publish",
            "--file",
            from_mx.to_str().unwrap(),
            "--format",
            "stix",
        ])
        .ok();
    assert!(!out.stderr.contains("skipped"), "{out}");
    let from_co = export(&co, "co.json", false);
    passes_the_validator(&from_co);

    let (mx_says, co_says) = (content(&bundle(&from_mx)), content(&bundle(&from_co)));
    assert_eq!(
        mx_says.len(),
        3,
        "two alerts and a best practice: {mx_says:#?}"
    );
    assert_eq!(
        mx_says, co_says,
        "the content changed on the way through CO"
    );
    let co_held = co.records(&["--kind", "best-practice"]);
    assert_eq!(co_held.len(), 1, "the best practice came back as one");
}

#[test]
fn a_misp_event_converted_by_misp_stix_is_published_as_an_alert() {
    let (_t, co) = alone_running("CO");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stix/misp-event.stix21.json");
    let out = co
        .tipx([
            "publish",
            "--file",
            fixture.to_str().unwrap(),
            "--format",
            "stix",
            "--ids",
        ])
        .ok();
    let id = out.stdout.trim();
    let shown = co.tipx(["records", "show", id, "--json"]).json();
    assert_eq!(
        shown["title"],
        "Fake modelling agency recruiting adolescents for work abroad"
    );
    assert_eq!(shown["tlp"], "amber");
    let indicators: Vec<String> = shown["body"]["alert"]["indicators"]
        .as_array()
        .or_else(|| shown["body"]["indicators"].as_array())
        .unwrap_or_else(|| panic!("no indicators in {shown}"))
        .iter()
        .map(|i| {
            format!(
                "{}={}",
                i["type"].as_str().unwrap(),
                i["value"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        indicators,
        [
            "email=casting@agencia-modelos.example",
            "url=https://agencia-modelos.example/casting",
            "domain=agencia-modelos.example",
            "phone=+573005550142",
        ]
    );

    // A bundle that is not one publishes nothing.
    let bad = co.dir.join("bad.json");
    std::fs::write(
        &bad,
        br#"{"type": "bundle", "objects": [{"type": "report"}]}"#,
    )
    .unwrap();
    let refused = co.tipx([
        "publish",
        "--file",
        bad.to_str().unwrap(),
        "--format",
        "stix",
    ]);
    assert!(
        !refused.status.success() && refused.stderr.contains("not a valid STIX 2.1 bundle"),
        "{refused}"
    );
    assert_eq!(
        co.records(&[]).len(),
        1,
        "the bad bundle published something"
    );
}
