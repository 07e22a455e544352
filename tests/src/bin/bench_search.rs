//! Full-text search at scale, end to end through the real `tipx` binary (a release build:
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin
//! bench-search -- 1000000`).
//!
//! Prints, in one run:
//! - bulk import of N alerts with ~230-byte bodies through `tipx publish --file` (signed,
//!   stored, flushed and indexed), in records per second, and how long after the import the
//!   last record is found (the index's lag);
//! - `tipx records list --text` medians and p90 (21 runs, the whole command) for a rare
//!   word (one record), a common word (a third of the records) by relevance and by time,
//!   and a phrase;
//! - a restart with the index directory deleted: how soon `tipx status` answers, a `--text`
//!   listing while the index is rebuilt in the background (it reads bodies), and how long
//!   until the index is ready again.
//!
//! `N` is the first argument (default 100000).

use std::time::{Duration, Instant};

use tipx_tests::{
    Node,
    bench::{arg, import, signing_rate, timed, use_release_binary},
    write_jsonl,
};

/// Words of the descriptions; "passport" is in about a third of them.
const WORDS: [&str; 12] = [
    "recruitment",
    "agency",
    "route",
    "border",
    "visa",
    "domestic",
    "work",
    "offer",
    "travel",
    "salary",
    "housing",
    "contract",
];

/// `n` alerts of about 230 bytes of body each.
fn alerts(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            let mut words: Vec<&str> = (0..12)
                .map(|j| WORDS[(i * 7 + j * 5) % WORDS.len()])
                .collect();
            if i % 3 == 0 {
                words.push("passport");
            }
            let severity = ["info", "low", "medium", "high", "critical"][i % 5];
            serde_json::json!({
                "kind": "alert",
                "title": format!("Alert {i}: fake job offers abroad"),
                "description": format!("Workers were promised {}.", words.join(" ")),
                "severity": severity,
                "category": "recruitment",
                "tags": [WORDS[i % WORDS.len()]],
            })
        })
        .collect()
}

/// [`timed`], with how many records the last run listed (`--json`).
fn timed_listing(node: &Node, args: &[&str], runs: usize) -> (Duration, Duration, usize) {
    let (p50, p90, stdout) = timed(node, args, runs);
    let listed = serde_json::from_slice::<Vec<serde_json::Value>>(&stdout).map_or(0, |v| v.len());
    (p50, p90, listed)
}

fn found(node: &Node, text: &str) -> usize {
    node.records(&["--text", text]).len()
}

fn main() {
    let n = arg(1, 100_000);
    use_release_binary();
    println!("ed25519 signing, 1 KiB, one core: {:.0}/s", signing_rate());
    let tmp = tempfile::tempdir().expect("temporary directory");
    let file = tmp.path().join("alerts.jsonl");
    let sample = alerts(n);
    println!(
        "body of a sample alert: {} bytes of JSON",
        sample[0].to_string().len()
    );
    write_jsonl(&file, &sample);
    drop(sample);
    let mut node = Node::init("MX", tmp.path());
    node.start();
    let secs = import(&node, &file);
    println!(
        "bulk import with indexing: {n} alerts in {secs:.2} s = {:.0} records/s",
        n as f64 / secs
    );
    let last = format!("\"Alert {}\"", n - 1);
    let t = Instant::now();
    while found(&node, &last) == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "last record found {:.0} ms after the import returned",
        t.elapsed().as_secs_f64() * 1e3
    );

    let rare = format!("{}", n / 2);
    let queries: [&[&str]; 5] = [
        &["--text", &rare],
        &["--text", "passport"],
        &["--text", "passport", "--sort", "newest"],
        &["--text", "\"fake job offers\""],
        &["--text", "passport", "--severity", "critical"],
    ];
    for q in queries {
        let mut args = vec!["records", "list", "--json"];
        args.extend_from_slice(q);
        let (p50, p90, listed) = timed_listing(&node, &args, 21);
        println!(
            "`tipx records list {}` ({listed} listed): median {:.1} ms, p90 {:.1} ms",
            q.join(" "),
            p50.as_secs_f64() * 1e3,
            p90.as_secs_f64() * 1e3
        );
    }

    node.stop();
    std::fs::remove_dir_all(node.dir.join("search")).expect("index deleted");
    let t = Instant::now();
    node.start();
    println!(
        "restart with the index deleted: `tipx status` answered {:.2} s after `tipx run` began",
        t.elapsed().as_secs_f64()
    );
    let state = |node: &Node| node.tipx(["status", "--json"]).json()["search"].clone();
    println!("search index then: {}", state(&node));
    if state(&node)["state"] == "rebuilding" {
        let (p50, _, listed) =
            timed_listing(&node, &["records", "list", "--json", "--text", &rare], 3);
        println!(
            "`tipx records list --text {rare}` during the rebuild (bodies read): {:.0} ms, {listed} listed",
            p50.as_secs_f64() * 1e3
        );
    }
    while state(&node)["state"] != "ready" {
        std::thread::sleep(Duration::from_millis(100));
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "index rebuilt in the background: ready {secs:.1} s after the start = {:.0} records/s",
        n as f64 / secs
    );
    let size: u64 = std::fs::read_dir(node.dir.join("search"))
        .expect("index")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("index on disk: {:.1} MiB", size as f64 / 1048576.0);
    node.stop();
}
