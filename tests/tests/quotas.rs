//! Daily quotas per author: CO takes at most `exchange.daily_records_per_author` records a
//! day signed by MX's key. The rest is refused as `over-quota` — logged with the peer, not
//! held against MX, which keeps exchanging with CO both ways — and arrives the next day
//! (the day's rollover is a unit test of `tipx_protocol::quota`).

use serde_json::json;
use tipx_tests::{
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    write_jsonl,
};

/// What CO takes from one author a day in this test.
const QUOTA: usize = 40;

#[test]
fn an_author_over_its_daily_quota_waits_and_its_partner_keeps_exchanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    tipx_tests::steps::await_partner(fed.member("CO"), "MX");
    // CO restarts with a small quota (today's counts start again with the process).
    let co = &mut fed.members[1];
    co.stop();
    let config = co.config_path();
    let text = std::fs::read_to_string(&config).unwrap();
    let limited = text.replace(
        "sync_interval_secs = 2\n",
        &format!("sync_interval_secs = 2\ndaily_records_per_author = {QUOTA}\n"),
    );
    assert_ne!(
        text, limited,
        "the [exchange] section is where the test expects it"
    );
    std::fs::write(&config, limited).unwrap();
    co.start();

    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let file = dir.path().join("alerts.jsonl");
    let lines: Vec<_> = (0..60)
        .map(|i| json!({"kind": "alert", "title": format!("alert {i}"), "severity": "low", "audience": ["CO"]}))
        .collect();
    write_jsonl(&file, &lines);
    mx.tipx(["publish", "--file", file.to_str().unwrap()]).ok();

    let over_quota = || {
        co.audit()
            .into_iter()
            .filter(|e| e["event"] == "rejected" && e["code"] == "over-quota")
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(DELIVERY_DEADLINE, || !over_quota().is_empty()),
        "CO never refused MX's records over the quota; log:\n{}",
        co.log()
    );
    let from_mx = || co.records(&["--state", "MX", "--kind", "alert"]).len();
    assert_eq!(from_mx(), QUOTA, "CO holds MX's records up to the quota");
    let refused = over_quota();
    assert_eq!(refused[0]["peer"], mx.peer_id, "{refused:?}");
    assert!(
        refused[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("40 records")),
        "{refused:?}"
    );

    // Not an offence: MX and CO go on exchanging, and other authors are not counted.
    let id = co.publish_alert("CO still talks to MX", "MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || mx.holds(&id)),
        "MX did not receive CO's alert after CO refused MX's records over the quota"
    );
    assert_eq!(
        from_mx(),
        QUOTA,
        "a sync round later, still no more than the quota"
    );
}
