//! Durability of the real daemon: what `tipx publish` acknowledged survives `kill -9` and a
//! restart, the store still verifies afterwards, and SIGTERM stops the daemon cleanly.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tipx_tests::{COMMAND_DEADLINE, Node, STOP_DEADLINE, run_with_deadline, write_jsonl};

/// Records in the bulk import.
const BULK: usize = 1_000;
/// Every this many bulk records is a best practice; the rest are alerts.
const BEST_PRACTICE_EVERY: usize = 50;

/// About `len` characters of alert text, different for each `i`.
fn prose(i: usize, len: usize) -> String {
    let sentence = format!(
        "Case {i}: recruiters offer domestic work abroad through social media; passports are \
         withheld on arrival and wages never paid. "
    );
    sentence.repeat(len / sentence.len() + 1)[..len].to_string()
}

fn bulk_title(i: usize) -> String {
    format!("bulk record {i:04}")
}

/// The import file: alerts with ~1 KiB descriptions in several feeds (audiences) and
/// markings, and a best practice every [`BEST_PRACTICE_EVERY`] lines.
fn bulk_records() -> Vec<Value> {
    const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];
    (0..BULK)
        .map(|i| {
            let mut r = if i % BEST_PRACTICE_EVERY == 0 {
                json!({
                    "kind": "best-practice",
                    "title": bulk_title(i),
                    "summary": "A shelter network run jointly by labour inspectors and NGOs.",
                    "text": prose(i, 2_048),
                    "pillars": ["protection", "partnership"],
                    "tags": ["bulk", "shelter"],
                })
            } else {
                json!({
                    "kind": "alert",
                    "title": bulk_title(i),
                    "description": prose(i, 1_024),
                    "severity": SEVERITIES[i % SEVERITIES.len()],
                    "category": "recruitment",
                    "indicators": [{"type": "phone", "value": format!("+57 300 {i:07}")}],
                    "tags": ["bulk", format!("batch{}", i % 10)],
                })
            };
            match i % 3 {
                1 => r["audience"] = json!(["CO"]),
                2 => {
                    r["audience"] = json!(["CO", "PE"]);
                    r["tlp"] = json!("red");
                }
                _ => {}
            }
            r
        })
        .collect()
}

/// Publishes one alert through the CLI's flags; returns the id it printed.
#[track_caller]
fn publish_alert(node: &Node, title: &str) -> String {
    let out = node
        .tipx([
            "publish",
            "alert",
            "--title",
            title,
            "--severity",
            "critical",
            "--description",
            &prose(title.len(), 1_024),
            "--tag",
            "single",
        ])
        .ok();
    let id = out.stdout.trim().to_string();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "`publish alert` printed no record id:\n{out}"
    );
    id
}

fn ids_and_titles(records: &[Value]) -> (BTreeSet<String>, BTreeSet<String>) {
    let field = |k: &str| {
        records
            .iter()
            .filter_map(|r| r[k].as_str().map(str::to_string))
            .collect::<BTreeSet<_>>()
    };
    (field("id"), field("title"))
}

#[track_caller]
fn assert_store_clean(node: &Node) {
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
}

#[test]
fn acknowledged_records_survive_kill_9_and_the_store_stays_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = Node::init("MX", tmp.path());
    node.start();

    let file = tmp.path().join("bulk.jsonl");
    write_jsonl(&file, &bulk_records());
    let out = node
        .tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
    assert!(
        out.stderr.contains(&format!("published {BULK} records")),
        "the import did not report {BULK} records:\n{out}"
    );
    let singles: Vec<String> = (0..5)
        .map(|i| publish_alert(&node, &format!("single alert {i}")))
        .collect();

    node.kill9();
    // Offline, the CLI opens the crashed store itself.
    assert_store_clean(&node);
    node.start();

    let records = node.records(&["--all"]);
    let (ids, titles) = ids_and_titles(&records);
    for id in &singles {
        assert!(ids.contains(id), "acknowledged record {id} was lost");
    }
    let lost: Vec<String> = (0..BULK)
        .map(bulk_title)
        .filter(|t| !titles.contains(t))
        .collect();
    assert!(
        lost.is_empty(),
        "{} imported records lost: {lost:?}",
        lost.len()
    );
    assert!(
        records.len() >= BULK + singles.len(),
        "{} records listed, expected at least {}",
        records.len(),
        BULK + singles.len()
    );
    let status = node.tipx(["status", "--json"]).json();
    assert!(status["records"].as_u64().unwrap() >= (BULK + singles.len()) as u64);
    assert_store_clean(&node);
}

#[test]
fn every_acknowledged_publish_survives_a_kill_9_in_the_middle_of_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = Node::init("CO", tmp.path());
    node.start();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, done) = (acked.clone(), done.clone());
        let dir = node.dir.clone();
        thread::spawn(move || {
            for i in 0.. {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let mut cmd = tipx_tests::tipx_command();
                cmd.arg("--data-dir").arg(&dir).args([
                    "publish",
                    "alert",
                    "--title",
                    &format!("racing alert {i}"),
                    "--severity",
                    "high",
                    "--description",
                    &prose(i, 1_024),
                ]);
                let out = run_with_deadline(cmd, COMMAND_DEADLINE);
                if !out.success() {
                    break; // the daemon is gone
                }
                acked.lock().unwrap().push(out.stdout.trim().to_string());
            }
        })
    };
    let start = Instant::now();
    while acked.lock().unwrap().len() < 10 && start.elapsed() < Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(10));
    }
    node.kill9();
    done.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 10,
        "only {} publishes succeeded",
        acked.len()
    );

    node.start();
    let (ids, _) = ids_and_titles(&node.records(&["--all"]));
    let lost: Vec<&String> = acked.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(lost.is_empty(), "acknowledged records lost: {lost:?}");
    assert_store_clean(&node);
    // The feed continues after the crash: a new publish is accepted and verifies.
    publish_alert(&node, "after the crash");
    assert_store_clean(&node);
}

#[test]
fn sigterm_stops_the_daemon_cleanly_and_a_restart_keeps_its_records() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = Node::init("PE", tmp.path());
    node.start();
    let ids: Vec<String> = (0..3)
        .map(|i| publish_alert(&node, &format!("before SIGTERM {i}")))
        .collect();

    let asked = Instant::now();
    let status = node.stop();
    let took = asked.elapsed();
    assert!(
        status.success(),
        "exit status {status} after SIGTERM; log:\n{}",
        node.log()
    );
    assert!(took < STOP_DEADLINE, "took {took:?} to stop");
    node.tipx(["status"])
        .fails_with(&["cannot reach the node", "is `tipx run` running?"]);

    node.start();
    let (listed, _) = ids_and_titles(&node.records(&[]));
    for id in &ids {
        assert!(
            listed.contains(id),
            "record {id} missing after a clean restart"
        );
    }
    assert_store_clean(&node);
    let status = node.stop();
    assert!(status.success(), "second stop: {status}");
}

/// The receiving node is killed with SIGKILL twenty times while it catches up 20,000
/// records from a partner, each time once it has stored more than before: after every
/// kill its store checks clean, and in the end it holds everything.
#[test]
fn a_node_killed_twenty_times_during_a_catch_up_ends_complete_and_clean() {
    use tipx_tests::federation::{DELIVERY_DEADLINE, Federation, eventually};

    const RECORDS: usize = 20_000;
    const KILLS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let partnered = |n: &Node| {
        n.tipx(["status", "--json"]).json()["partners"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    };
    assert!(
        eventually(DELIVERY_DEADLINE, || fed.members.iter().all(partnered)),
        "MX and CO never became partners"
    );
    fed.member_mut("CO").stop();
    // Small pages, so that the catch-up is many small steps to be killed in.
    let config = fed.member("CO").config_path();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("page_max_records"), "{text}");
    let text = text.replace("[exchange]\n", "[exchange]\npage_max_records = 32\n");
    std::fs::write(&config, text).unwrap();
    let file = dir.path().join("alerts.jsonl");
    let lines: Vec<Value> = (0..RECORDS)
        .map(|i| json!({"kind": "alert", "title": format!("catch-up {i}"), "severity": "low", "audience": ["CO"]}))
        .collect();
    write_jsonl(&file, &lines);
    let mx = fed.member("MX");
    mx.tipx(["publish", "--file", file.to_str().unwrap()]).ok();
    let count = |n: &Node| n.tipx(["status", "--json"]).json()["records"].as_u64();
    let total = count(mx).expect("MX answers");

    let mut last = count_stopped(fed.member("CO"));
    let mut kills = 0;
    while kills < KILLS {
        let co = fed.member_mut("CO");
        co.start();
        // Kill once more has been stored than at the last kill (or it has everything).
        let grew = eventually(Duration::from_secs(120), || {
            count(co).is_some_and(|n| n > last || n >= total)
        });
        assert!(grew, "CO stored nothing more after restart {kills}");
        co.kill9();
        kills += 1;
        assert_store_clean(co);
        let now = count_stopped(co);
        assert!(
            now >= last,
            "CO lost records: {last} before the kill, {now} after"
        );
        last = now;
        if last >= total {
            break;
        }
    }
    eprintln!("CO was killed {kills} times during the catch-up");
    assert_eq!(kills, KILLS, "the catch-up ended after {kills} kills");
    let co = fed.member_mut("CO");
    co.start();
    assert!(
        eventually(Duration::from_secs(300), || count(co) == Some(total)),
        "CO never caught up after {kills} kills"
    );
    co.stop();
    assert_store_clean(co);
}

/// Records held by a stopped node, from `store check`'s report.
fn count_stopped(node: &Node) -> u64 {
    let out = node.tipx(["store", "check", "--json"]).ok();
    out.json()["records"]
        .as_u64()
        .expect("store check reports records")
}
