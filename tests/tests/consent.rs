//! Consent across restarts: an explicit `partners revoke` is a state's word, and a restart
//! (which applies `exchange.partners` again) must not take it back.
//!
//! A test that asserts something did not arrive first waits for a fact showing it would
//! have: a sync round between the two nodes that started after the record was published.

use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually, now_ms},
};

/// `node`'s row for `state` in `partners list --json`.
fn row(node: &Node, state: &str) -> serde_json::Value {
    let rows = node.tipx(["partners", "list", "--json"]).json();
    rows.as_array()
        .and_then(|rs| rs.iter().find(|r| r["state"] == state).cloned())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn a_restart_does_not_undo_a_revoke_of_a_configured_partner() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let active = |n: &Node, s: &str| row(n, s)["active"] == true;
    assert!(
        eventually(DELIVERY_DEADLINE, || active(fed.member("MX"), "CO")
            && active(fed.member("CO"), "MX")),
        "MX and CO never became partners"
    );

    fed.member("MX").tipx(["partners", "revoke", "CO"]).ok();
    fed.member_mut("MX").stop();
    fed.member_mut("MX").start();
    let (mx, co) = (fed.member("MX"), fed.member("CO"));

    let mine = row(mx, "CO");
    assert_eq!(
        mine["mine"], "revoke",
        "MX's consent towards CO after the restart: {mine}"
    );
    assert_eq!(
        mine["configured_but_revoked"], true,
        "MX's row for CO does not say CO is in exchange.partners but revoked: {mine}"
    );
    let table = mx.tipx(["partners", "list"]).ok().stdout;
    assert!(
        table.contains("exchange.partners") && table.contains("tipx partners request CO"),
        "`partners list` on MX does not explain the revoked configured partner:\n{table}"
    );
    assert!(
        mx.log().contains("tipx partners request CO"),
        "MX's log does not name CO as skipped because revoked; log:\n{}",
        mx.log()
    );

    let published_at = now_ms();
    let id = mx.publish_alert("after the restart", "CO");
    assert!(
        co.synced_with_since(mx, published_at),
        "CO completed no sync round with MX after the publish; log:\n{}",
        co.log()
    );
    let theirs = row(co, "MX");
    assert_eq!(
        theirs["theirs"], "revoke",
        "CO's view of MX's consent after the restart: {theirs}"
    );
    assert!(!co.holds(&id), "CO received from MX after MX revoked");

    mx.tipx(["partners", "request", "CO"]).ok();
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&id)),
        "exchange did not resume after `partners request CO`"
    );
}

/// OAS adds `extra` as a second key under MX's state and publishes the roster.
fn add_key_under_mx(oas: &Node, extra: &Node) {
    oas.tipx([
        "roster",
        "add",
        "--state",
        "MX",
        "--peer-id",
        &extra.peer_id,
    ])
    .ok();
    oas.tipx(["roster", "publish"]).ok();
}

#[test]
fn a_member_is_told_when_the_roster_adds_a_key_under_its_own_state() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &[])]);
    let mx = fed.member("MX");
    let before = fed.oas.roster_version();
    assert!(eventually(DELIVERY_DEADLINE, || mx.roster_version() == before));
    // A key made for a directory never started: the coordinator could hold its secret.
    let extra = Node::init("MX", &dir.path().join("extra"));
    add_key_under_mx(&fed.oas, &extra);
    let warned = || {
        let status = mx.tipx(["status", "--json"]).json();
        status["warnings"].as_array().is_some_and(|ws| {
            ws.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains(&extra.peer_id)))
        })
    };
    assert!(
        eventually(DELIVERY_DEADLINE, warned),
        "MX's status never warned of the key added under MX: {}; log:\n{}",
        mx.tipx(["status", "--json"]).json(),
        mx.log()
    );
    assert!(
        mx.audit().iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&extra.peer_id))),
        "MX's audit log does not name the key added under MX"
    );
}

#[test]
fn a_pinned_member_refuses_a_roster_with_another_key_for_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &[])]);
    let before = fed.oas.roster_version();
    let mx = fed.member_mut("MX");
    assert!(eventually(DELIVERY_DEADLINE, || mx.roster_version() == before));
    mx.stop();
    let config = std::fs::read_to_string(mx.config_path()).unwrap();
    let pinned = config.replace(
        "[federation]\n",
        &format!("[federation]\npinned_keys = [\"{}\"]\n", mx.peer_id),
    );
    std::fs::write(mx.config_path(), pinned).unwrap();
    mx.start();

    let extra = Node::init("MX", &dir.path().join("extra"));
    add_key_under_mx(&fed.oas, &extra);
    let mx = fed.member("MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || mx
            .audit()
            .iter()
            .any(|e| e["event"] == "rejected" && e["code"] == "unpinned-key")),
        "MX never refused the roster with an unpinned key for MX; log:\n{}",
        mx.log()
    );
    // The refusal shows the roster arrived; it must say why and leave the old one in force.
    let refusal = mx
        .audit()
        .into_iter()
        .find(|e| e["code"] == "unpinned-key")
        .unwrap();
    assert!(
        refusal["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&extra.peer_id) && d.contains("pinned_keys")),
        "the refusal does not name the key and the setting: {refusal}"
    );
    assert_eq!(
        mx.roster_version(),
        before,
        "MX applied a roster listing a key for MX outside federation.pinned_keys"
    );
}
