//! Start-up with many feeds (use a release build: `cargo build --release -p tipx-node &&
//! cargo run --release -p tipx-tests --bin bench-feeds -- 20000`).
//!
//! A node of MX publishes one alert to each of N audiences (sets of four states out of 34),
//! so that it holds N feeds of its own, each with a mark in the floor beside the store. It
//! prints the time from `tipx run` to a first `status` answer (the start compares every
//! feed's head with its floor mark), the floor file's size, and the time of `store check`.
//!
//! `N` is the first argument (default 20000).

use std::time::{Duration, Instant};

use tipx_tests::{Node, bench::arg, bench::use_release_binary, write_jsonl};

/// State codes an audience is drawn from (none of them need to run).
const STATES: [&str; 34] = [
    "AR", "BO", "BR", "CA", "CL", "CO", "CR", "CU", "DO", "EC", "GT", "HN", "HT", "JM", "NI", "PA",
    "PE", "PY", "SR", "SV", "TT", "US", "UY", "VE", "BS", "BB", "BZ", "DM", "GD", "GY", "KN", "LC",
    "VC", "AG",
];

/// The `i`-th set of four states, all different for `i` below C(34, 4) = 46,376.
fn audience(mut i: usize) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(4);
    let mut from = 0;
    for k in (1..=4).rev() {
        // The first member whose remaining combinations still cover `i`.
        let mut j = from;
        loop {
            let rest = choose(STATES.len() - j - 1, k - 1);
            if i < rest {
                break;
            }
            i -= rest;
            j += 1;
        }
        out.push(STATES[j]);
        from = j + 1;
    }
    out
}

fn choose(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// Time from spawning `tipx run` to a successful `status` (as the tests' start polls it).
fn start_up(node: &mut Node) -> Duration {
    let t = Instant::now();
    node.start();
    t.elapsed()
}

fn main() {
    let n = arg(1, 20_000);
    assert!(n <= choose(STATES.len(), 4), "at most 46,376 feeds");
    use_release_binary();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let file = tmp.path().join("alerts.jsonl");
    let lines: Vec<_> = (0..n)
        .map(|i| {
            serde_json::json!({
                "kind": "alert", "title": format!("alert {i}"), "severity": "low",
                "audience": audience(i),
            })
        })
        .collect();
    write_jsonl(&file, &lines);
    let mut node = Node::init("MX", tmp.path());
    node.start();
    let t = Instant::now();
    node.tipx(["publish", "--file", file.to_str().expect("utf-8 path")])
        .ok();
    println!(
        "published {n} alerts to {n} audiences in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let feeds = node.tipx(["status", "--json"]).json()["feeds"].clone();
    println!("feeds held: {feeds}");
    node.stop();
    let floor = std::fs::metadata(node.dir.join("store").join("floor.log")).map_or(0, |m| m.len());
    println!("floor file: {:.1} KiB", floor as f64 / 1024.0);
    for run in 1..=3 {
        let took = start_up(&mut node);
        println!(
            "start-up {run}: `tipx run` to a `status` answer in {:.3} s (the start polls `status` every 25 ms)",
            took.as_secs_f64()
        );
        node.stop();
    }
    let t = Instant::now();
    let out = node.tipx(["store", "check"]).ok();
    println!(
        "store check (node stopped): {:.2} s — {}",
        t.elapsed().as_secs_f64(),
        out.stdout.lines().last().unwrap_or("")
    );
}
