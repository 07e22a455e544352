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
