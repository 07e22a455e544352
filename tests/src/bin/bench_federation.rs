//! Federation benchmark: the coordinator and N member nodes (default 35) on 127.0.0.1, all
//! mutual partners, each a release `tipx run` process. Members publish alerts addressed to
//! everyone; each receiver's audit log gives the time it stored each alert.
//!
//! Prints the p50 and p99 delivery latency over every (alert, receiver) pair, and the copies
//! received per delivered record (from the nodes' duplicate counters).
//!
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-federation -- [N] [ALERTS]`

use std::time::Duration;

use tipx_tests::{
    bench::{arg, use_release_binary},
    federation::{Federation, eventually},
};

fn code(i: usize) -> String {
    let a = b'A' + (i / 26) as u8;
    let b = b'A' + (i % 26) as u8;
    String::from_utf8(vec![a, b]).expect("ASCII")
}

fn counters(fed: &Federation) -> (u64, u64) {
    fed.all().fold((0, 0), |(n, d), node| {
        let s = node.tipx(["status", "--json"]).json();
        (
            n + s["received_new"].as_u64().unwrap_or(0),
            d + s["received_duplicate"].as_u64().unwrap_or(0),
        )
    })
}

fn main() {
    let n = arg(1, 35);
    let alerts = arg(2, 10);
    use_release_binary();
    let codes: Vec<String> = (0..n).map(code).collect();
    let everyone: Vec<String> = codes.iter().cloned().chain(["OAS".to_string()]).collect();
    let partners_of = |me: &str| {
        everyone
            .iter()
            .filter(|c| *c != me)
            .map(String::as_str)
            .collect::<Vec<_>>()
    };
    let member_partners: Vec<Vec<&str>> = codes.iter().map(|c| partners_of(c)).collect();
    let members: Vec<(&str, &[&str])> = codes
        .iter()
        .zip(&member_partners)
        .map(|(c, p)| (c.as_str(), p.as_slice()))
        .collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let t = std::time::Instant::now();
    let fed = Federation::start(dir.path(), &partners_of("OAS"), &members);
    println!(
        "started the coordinator and {n} members in {:.1?}",
        t.elapsed()
    );
    let all_partners = |node: &tipx_tests::Node| {
        node.tipx(["status", "--json"]).json()["partners"]
            .as_array()
            .map_or(0, Vec::len)
            == n
    };
    let settled = eventually(Duration::from_secs(600), || fed.all().all(all_partners));
    println!("consents settled ({settled}) after {:.1?}", t.elapsed());
    std::thread::sleep(Duration::from_secs(5));

    let before = counters(&fed);
    let mut ids = vec![];
    for k in 0..alerts {
        let author = &fed.members[k % n];
        let audience: Vec<&str> = everyone
            .iter()
            .filter(|c| **c != author.state)
            .map(String::as_str)
            .collect();
        let id = author.publish_alert(&format!("benchmark alert {k}"), &audience.join(","));
        ids.push((author.state.clone(), id));
        std::thread::sleep(Duration::from_millis(500));
    }
    let delivered = |id: &str| fed.all().filter(|node| node.holds(id)).count() == n + 1;
    let complete = eventually(Duration::from_secs(120), || {
        ids.iter().all(|(_, id)| delivered(id))
    });
    println!("all alerts delivered everywhere: {complete}");
    std::thread::sleep(Duration::from_secs(3));
    let after = counters(&fed);

    let mut latencies = vec![];
    let audits: Vec<(String, Vec<serde_json::Value>)> = fed
        .all()
        .map(|node| (node.state.clone(), node.audit()))
        .collect();
    for (author, id) in &ids {
        let at = |log: &[serde_json::Value], event: &str| {
            log.iter()
                .find(|e| e["event"] == event && e["record"] == id.as_str())
                .and_then(|e| e["at_ms"].as_u64())
        };
        let published = audits
            .iter()
            .find(|(s, _)| s == author)
            .and_then(|(_, log)| at(log, "published"))
            .expect("published");
        for (state, log) in &audits {
            if state != author
                && let Some(received) = at(log, "received")
            {
                latencies.push(received.saturating_sub(published));
            }
        }
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "delivery latency over {} deliveries of {alerts} alerts to {n} others each: p50 {} ms, p99 {} ms, max {} ms",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(0)
    );
    let (new, dup) = (after.0 - before.0, after.1 - before.1);
    println!(
        "copies received per delivered record: {:.2} ({new} new, {dup} duplicates)",
        (new + dup) as f64 / new.max(1) as f64
    );
}
