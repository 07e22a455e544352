//! Steps several multi-node tests take: waiting for a consent to arrive, publishing a
//! numbered batch of alerts, counting them, and checking that a node publishes again with
//! no fork at its partner.

use serde_json::json;

use crate::{
    Node,
    federation::{DELIVERY_DEADLINE, eventually},
    write_jsonl,
};

/// Whether `node`'s status lists `other` among its partners.
pub fn is_partner(node: &Node, other: &str) -> bool {
    node.tipx(["status", "--json"]).json()["partners"]
        .as_array()
        .is_some_and(|p| p.iter().any(|c| c == other))
}

/// Waits until `node` counts `other` as a partner.
#[track_caller]
pub fn await_partner(node: &Node, other: &str) {
    assert!(
        eventually(DELIVERY_DEADLINE, || is_partner(node, other)),
        "{} never became {other}'s partner",
        node.state
    );
}

/// Publishes alerts numbered `from..from + n` for `audience` (empty: the node's partners) in one
/// import: they are acknowledged when this returns.
pub fn publish_alerts(node: &Node, from: usize, n: usize, audience: &[&str]) {
    let file = node.dir.join(format!("alerts-{from}.jsonl"));
    let lines: Vec<_> = (from..from + n)
        .map(|i| {
            let mut line =
                json!({"kind": "alert", "title": format!("alert {i}"), "severity": "low"});
            if !audience.is_empty() {
                line["audience"] = json!(audience);
            }
            line
        })
        .collect();
    write_jsonl(&file, &lines);
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
}

/// Publishes `records` on `node` in one import file, then an alert "Sent in error" that is
/// retracted and an alert "Names a victim" that is erased: what the export tests start
/// from.
pub fn publish_with_retracted_and_erased(node: &Node, records: &[serde_json::Value]) {
    let file = node.dir.join("samples.jsonl");
    write_jsonl(&file, records);
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
    let retracted = crate::publish(
        node,
        &["alert", "--title", "Sent in error", "--severity", "low"],
    );
    node.tipx(["retract", &retracted, "--reason", "sent in error"])
        .ok();
    let erased = crate::publish(
        node,
        &["alert", "--title", "Names a victim", "--severity", "low"],
    );
    node.tipx(["retract", &erased, "--reason", "personal data", "--erase"])
        .ok();
}

/// The alerts of `state` that `node` holds.
pub fn alerts_of(node: &Node, state: &str) -> usize {
    node.records(&["--state", state, "--kind", "alert"]).len()
}

/// `node` refuses to publish an alert for `partner` with "publishing is refused" and
/// `because` in the reason; returns the reason.
#[track_caller]
pub fn publishing_refused(node: &Node, partner: &str, because: &str) -> String {
    let out = node.tipx([
        "publish",
        "alert",
        "--title",
        "Too early",
        "--severity",
        "low",
        "--audience",
        partner,
    ]);
    assert!(
        !out.status.success()
            && out.stderr.contains("publishing is refused")
            && out.stderr.contains(because),
        "{} published, or refused without saying \"{because}\":\n{out}",
        node.state
    );
    out.stderr
}

/// `node` publishes one more alert for `partner` (once it may: a node that healed its
/// store publishes again by itself), `partner` then holds `expected` alerts of `node`'s
/// state, and it has seen no fork.
#[track_caller]
pub fn publishes_again_without_fork(node: &Node, partner: &Node, expected: usize) {
    let again = [
        "publish",
        "alert",
        "--title",
        "After",
        "--severity",
        "low",
        "--audience",
    ];
    assert!(
        eventually(DELIVERY_DEADLINE, || node
            .tipx(again.iter().copied().chain([partner.state.as_str()]))
            .status
            .success()),
        "{} still refuses to publish; log:\n{}",
        node.state,
        node.log()
    );
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(partner, &node.state)
            == expected),
        "{} never received {}'s next alert",
        partner.state,
        node.state
    );
    assert_eq!(
        partner.tipx(["status", "--json"]).json()["forks"],
        0,
        "{} saw {} fork its feed",
        partner.state,
        node.state
    );
}
