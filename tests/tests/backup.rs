//! Backups and restores on real processes: a backup taken while the node publishes holds
//! everything acknowledged before it began, and a node restored from an old backup catches
//! up its own feeds from its partner before it publishes again — no fork; so does a node
//! whose key was carried to a new machine with an empty store.

use serde_json::json;
use tipx_tests::{
    alone_running,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    steps::{
        alerts_of, await_partner, publish_alerts, publishes_again_without_fork, publishing_refused,
    },
};

#[test]
fn a_backup_taken_while_the_node_publishes_restores_everything_acknowledged_before_it() {
    let (dir, mut node) = alone_running("MX");
    let file = dir.path().join("mx.backup");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let before = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                publish_alerts(&node, i, 50, &[]);
                i += 50;
            }
        });
        assert!(
            eventually(DELIVERY_DEADLINE, || alerts_of(&node, "MX") >= 200),
            "the node never got past 200 records"
        );
        let acknowledged: Vec<String> = node
            .records(&["--all"])
            .iter()
            .filter_map(|r| r["id"].as_str().map(String::from))
            .collect();
        let out = node.tipx(["backup", "--out", file.to_str().unwrap(), "--include-key"]);
        assert!(
            out.stderr.contains("secret key"),
            "no warning about the key:\n{out}"
        );
        let out = out.ok();
        assert!(out.stdout.contains("backup written"), "{out}");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().expect("the publishing thread");
        acknowledged
    });

    // Put back on a new machine: the data directory moved aside, the backup restored.
    assert!(node.stop().success());
    std::fs::rename(&node.dir, node.dir.with_extension("replaced")).unwrap();
    std::fs::create_dir(&node.dir).unwrap();
    node.tipx(["restore", file.to_str().unwrap()]).ok();
    let restored = &mut node;
    let check = restored.tipx(["store", "check", "--json"]).json();
    assert_eq!(check["problems"], json!([]), "{check}");
    restored.start();
    let held: std::collections::BTreeSet<String> = restored
        .records(&["--all"])
        .iter()
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect();
    let lost: Vec<&String> = before.iter().filter(|id| !held.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} records acknowledged before the backup are not in it",
        lost.len()
    );
}

#[test]
fn a_node_restored_from_an_old_backup_takes_its_feeds_back_from_its_partner_before_publishing() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    await_partner(fed.member("CO"), "MX");
    let mx = fed.member("MX");
    publish_alerts(mx, 0, 100, &["CO"]);
    let file = dir.path().join("mx-at-100.backup");
    mx.tipx(["backup", "--out", file.to_str().unwrap(), "--include-key"])
        .ok();
    publish_alerts(mx, 100, 200, &["CO"]);
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(fed.member("CO"), "MX")
            == 300),
        "CO never received MX's 300 alerts"
    );

    // MX's machine is replaced: the old backup goes back, CO is down at first.
    assert!(fed.members[1].stop().success());
    let mx = &mut fed.members[0];
    assert!(mx.stop().success());
    let old = mx.dir.with_extension("replaced");
    std::fs::rename(&mx.dir, &old).unwrap();
    std::fs::create_dir(&mx.dir).unwrap();
    let out = mx.tipx(["restore", file.to_str().unwrap()]).ok();
    assert!(out.stdout.contains("syncs with its partners"), "{out}");
    mx.start();
    let mx = fed.member("MX");
    assert_eq!(alerts_of(mx, "MX"), 100, "the backup holds the first 100");
    // Seq 101 would fork CO's copy of MX's feed, which holds 300.
    publishing_refused(mx, "CO", "restored from a backup");

    fed.members[1].start();
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(mx, "MX") == 300),
        "MX never took its alerts 101..300 back from CO; log:\n{}",
        mx.log()
    );
    publishes_again_without_fork(mx, co, 301);
}

#[test]
fn a_key_carried_to_a_new_machine_takes_its_feeds_back_from_its_partner_before_publishing() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    await_partner(fed.member("CO"), "MX");
    publish_alerts(fed.member("MX"), 0, 100, &["CO"]);
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(fed.member("CO"), "MX")
            == 100),
        "CO never received MX's 100 alerts"
    );

    // A new machine: only the key, the configuration and the API token are carried over;
    // the store starts empty. CO is down at first.
    assert!(fed.members[1].stop().success());
    let mx = &mut fed.members[0];
    assert!(mx.stop().success());
    let old = mx.dir.with_extension("old-machine");
    std::fs::rename(&mx.dir, &old).unwrap();
    std::fs::create_dir(&mx.dir).unwrap();
    for name in ["node.key", "tipx.toml", "api.token"] {
        std::fs::copy(old.join(name), mx.dir.join(name)).unwrap();
    }
    mx.start();
    let mx = fed.member("MX");
    assert_eq!(alerts_of(mx, "MX"), 0, "the new machine's store is empty");
    // Seq 1 would fork CO's copy of MX's feed, which holds 100.
    publishing_refused(mx, "CO", "key carried over from another machine");

    fed.members[1].start();
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(mx, "MX") == 100),
        "MX never took its alerts back from CO; log:\n{}",
        mx.log()
    );
    publishes_again_without_fork(mx, co, 101);
}
