//! A node whose wall clock is wrong, on real processes (the clock shifted with
//! [`tipx_tests::faketime`]). MX and CO become partners with correct clocks; then CO runs a
//! day behind, then a day ahead. Whatever is dated more than five minutes ahead of the
//! receiver's clock is refused as `future-timestamp` — not an offence: the sender is not
//! cut off, and the receiver's `status` warns, naming how far ahead and pointing at NTP —
//! and whatever is dated in the past is taken; a refused record holds back the rest of its
//! feed at that receiver until its time comes (docs/PROTOCOL.md §4, "Clock skew").

use tipx_tests::{
    Node, faketime,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
};

const DAY_SECS: i64 = 86_400;

/// Restarts `node` with its wall clock `offset_secs` off.
fn restart_with_clock(node: &mut Node, offset_secs: i64) {
    node.stop();
    node.env = faketime::env(offset_secs);
    node.start();
}

/// Refusals in `node`'s audit log of records dated ahead of its clock, sent by `peer`.
fn refused_from_the_future(node: &Node, peer: &Node) -> usize {
    node.audit()
        .iter()
        .filter(|e| e["code"] == "future-timestamp" && e["peer"] == peer.peer_id)
        .count()
}

/// The warnings `node`'s status gives.
fn warnings(node: &Node) -> Vec<String> {
    let status = node.tipx(["status", "--json"]).json();
    status["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_node_a_day_ahead_or_behind_is_not_cut_off_and_the_node_it_outruns_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let first = fed
        .member("MX")
        .publish_alert("Before the clocks drift", "CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || fed.member("CO").holds(&first)),
        "MX and CO never exchanged with correct clocks"
    );

    // CO a day behind: CO refuses MX's new alert, and MX takes CO's (dated yesterday).
    restart_with_clock(&mut fed.members[1], -DAY_SECS);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let tomorrow_for_co = mx.publish_alert("Dated tomorrow for CO", "CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || refused_from_the_future(co, mx) > 0),
        "CO, a day behind, never refused MX's alert; log:\n{}",
        co.log()
    );
    assert!(!co.holds(&tomorrow_for_co));
    let warned = warnings(co);
    assert!(
        warned
            .iter()
            .any(|w| w.contains("ahead of this node's clock") && w.contains("23 h")),
        "CO's status does not say records came from a day ahead: {warned:?}"
    );
    let behind = co.publish_alert("Dated yesterday", "MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || mx.holds(&behind)),
        "MX did not take CO's alert dated a day back: was CO cut off?"
    );

    // CO a day ahead: MX's alert refused above is now in CO's past and arrives, with the
    // rest of MX's feed; CO's new alert is refused by MX in turn, which keeps exchanging.
    restart_with_clock(&mut fed.members[1], DAY_SECS);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let started = co.tipx(["status", "--json"]).json()["started_at"].clone();
    let from_mx = mx.publish_alert("Dated today", "CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&tomorrow_for_co)
            && co.holds(&from_mx)),
        "CO, now a day ahead, did not take MX's alerts once their time had come"
    );
    let ahead = co.publish_alert("Dated tomorrow", "MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || refused_from_the_future(mx, co) > 0),
        "MX never refused CO's alert dated a day ahead (CO started at {started} by its clock); log:\n{}",
        mx.log()
    );
    assert!(!mx.holds(&ahead));
}
