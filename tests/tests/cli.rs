//! The `tipx` command line's happy paths against a real daemon: identity, configuration
//! check, filtered listings, and retraction with erasure. The refusals are in
//! `cli_errors.rs`.

use std::collections::BTreeSet;

use serde_json::Value;
use tipx_tests::Node;
use tipx_tests::{alone_running as running, publish};

fn alert(node: &Node, title: &str, severity: &str) -> String {
    publish(node, &["alert", "--title", title, "--severity", severity])
}

fn titles(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(records: &'a [Value], id: &str) -> Option<&'a Value> {
    records.iter().find(|r| r["id"] == id)
}

#[test]
fn id_prints_the_peer_id_that_init_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::init("MX", tmp.path());
    assert!(node.peer_id.starts_with("12D3KooW"), "{}", node.peer_id);
    let out = node.tipx(["id"]).ok();
    assert_eq!(out.stdout.trim(), node.peer_id);
    // The daemon reports the same identity.
    let (_tmp, running) = running("CO");
    let status = running.tipx(["status", "--json"]).json();
    assert_eq!(status["peer_id"], running.peer_id.as_str());
    assert_eq!(status["state"], "CO");
}

#[test]
fn config_check_passes_on_a_fresh_init() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::init("PE", tmp.path());
    let out = node.tipx(["config", "check"]).ok();
    assert!(out.stdout.contains("OK"), "{out}");
    let toml = std::fs::read_to_string(node.config_path()).unwrap();
    assert!(
        toml.contains(&format!("127.0.0.1:{}", node.api_port)),
        "the API port is not in the configuration:\n{toml}"
    );
}

#[test]
fn records_list_by_kind_and_severity_returns_only_matching_alerts() {
    let (_tmp, node) = running("MX");
    for s in ["info", "low", "medium", "high", "critical"] {
        alert(&node, &format!("{s} alert"), s);
    }
    publish(
        &node,
        &[
            "best-practice",
            "--title",
            "a shelter",
            "--pillar",
            "protection",
        ],
    );

    let high = node.records(&["--kind", "alert", "--severity", "high"]);
    // "--severity high" means at least high.
    let expected: BTreeSet<String> = ["high alert".into(), "critical alert".into()].into();
    assert_eq!(titles(&high), expected);
    assert!(high.iter().all(|r| r["kind"] == "alert"), "{high:?}");

    let alerts = node.records(&["--kind", "alert"]);
    assert_eq!(alerts.len(), 5, "{alerts:?}");
    let practices = node.records(&["--kind", "best-practice", "--pillar", "protection"]);
    assert_eq!(titles(&practices), ["a shelter".to_string()].into());
    assert!(node.records(&["--pillar", "prevention"]).is_empty());
}

#[test]
fn retract_with_erase_hides_the_record_and_deletes_its_body() {
    let (_tmp, node) = running("MX");
    let target = alert(&node, "wrong phone number", "high");
    let kept = alert(&node, "still valid", "high");

    let out = node
        .tipx(["retract", &target, "--reason", "x", "--erase"])
        .ok();
    let retraction = out.stdout.trim().to_string();
    assert_eq!(retraction.len(), 64, "no retraction id printed:\n{out}");

    let visible = node.records(&[]);
    assert!(
        find(&visible, &target).is_none(),
        "still listed: {visible:?}"
    );
    assert!(find(&visible, &kept).is_some(), "{visible:?}");

    let all = node.records(&["--all"]);
    let shown = find(&all, &target).expect("--all lists the retracted record");
    assert_eq!(shown["retracted_by"], retraction.as_str());
    assert_eq!(shown["erased"], true);
    assert_ne!(
        shown["title"], "wrong phone number",
        "the title survived erasure"
    );
    assert!(
        find(&all, &retraction).is_some(),
        "--all lists the retraction"
    );

    let record = node.tipx(["records", "show", &target, "--json"]).json();
    assert!(record.get("body").is_none(), "body still there: {record}");
    assert_eq!(record["erased"], true);
    assert_eq!(record["retracted_by"], retraction.as_str());
    let record = node.tipx(["records", "show", &kept, "--json"]).json();
    assert_eq!(record["body"]["title"], "still valid");

    node.tipx(["retract", &target, "--reason", "again"])
        .fails_with(&["already retracted"]);
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
}

#[test]
fn retract_without_erase_hides_the_record_but_keeps_its_body() {
    let (_tmp, node) = running("MX");
    let target = alert(&node, "superseded", "medium");
    let retraction = node
        .tipx(["retract", &target[..12], "--reason", "superseded"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(find(&node.records(&[]), &target).is_none());
    let record = node.tipx(["records", "show", &target, "--json"]).json();
    assert_eq!(record["retracted_by"], retraction.as_str());
    assert_eq!(record["erased"], false);
    assert_eq!(record["body"]["title"], "superseded");
}
