//! Catch-up benchmark, end to end: a node that missed N records (~1 KiB alerts) from one
//! peer fetches them over libp2p from that peer, each a release `tipx run` process on
//! 127.0.0.1 (both on this machine's cores).
//!
//! OAS, MX and CO start with MX and CO partners; CO stops; MX publishes N alerts for CO;
//! CO starts again and catches up. Prints:
//! - the single-core ed25519-dalek verification rates measured in the same run (one by
//!   one, and `verify_batch` in batches of 64) — the target is read against the batch rate;
//! - the catch-up rate: records over the time from CO's first stored page to its last,
//!   from CO's audit log (the steady rate), and over the whole time from CO's start until
//!   it holds everything (process start, dialling and the first sync round included);
//! - the CPU time each of the two daemons spent.
//!
//! `bench-catchup [N[,N…]] [DESCRIPTION_CHARS]`: each N in turn (default 100000), alerts
//! with descriptions of that many characters (default 1000, ~1 KiB bodies; 150 makes
//! ~230-byte bodies); with several, each rate is also given as a share of the first's.
//!
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-catchup -- [N]`

use std::time::{Duration, Instant};

use tipx_tests::{
    bench::{alerts_sized, arg, cpu_secs, use_release_binary, verification_rates},
    federation::{Federation, eventually, now_ms},
    write_jsonl,
};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .map(|a| {
            a.split(',')
                .map(|n| n.parse().expect("N is a number"))
                .collect()
        })
        .unwrap_or_else(|| vec![100_000]);
    let description = arg(2, 1000);
    use_release_binary();
    let (single, batch) = verification_rates();
    println!(
        "ed25519 verification, 1 KiB, one core: {single:.0}/s one by one (verify_strict), {batch:.0}/s in batches of 64"
    );
    let mut first = None;
    for n in sizes {
        let rate = catch_up(n, description, batch);
        let base = *first.get_or_insert(rate);
        println!(
            "  {n} records: {rate:.0} records/s = {:.0}% of the first size's rate",
            100.0 * rate / base
        );
    }
}

/// One catch-up of `n` alerts with descriptions of `description` characters, in a new
/// federation; prints its figures and returns the steady rate.
fn catch_up(n: usize, description: usize, batch: f64) -> f64 {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("alerts.jsonl");
    write_jsonl(&file, &alerts_sized(n, description));
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let partnered = |node: &tipx_tests::Node| {
        node.tipx(["status", "--json"]).json()["partners"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    };
    assert!(
        eventually(Duration::from_secs(60), || fed
            .members
            .iter()
            .all(partnered)),
        "MX and CO become partners"
    );
    fed.member_mut("CO").stop();
    let mx = fed.member("MX");
    mx.tipx(["publish", "--file", file.to_str().expect("utf-8 path")])
        .ok();
    let mx_cpu = cpu_secs(mx.pid().expect("MX runs"));

    let t = Instant::now();
    let restarted_ms = now_ms();
    fed.member_mut("CO").start();
    let co = fed.member("CO");
    let co_pid = co.pid().expect("CO runs");
    let held = |node: &tipx_tests::Node| node.tipx(["status", "--json"]).json()["records"].as_u64();
    let total = held(fed.member("MX")).expect("MX answers");
    let done = eventually(Duration::from_secs(1800), || held(co) == Some(total));
    let whole = t.elapsed().as_secs_f64();
    assert!(done, "CO caught up");
    let co_cpu = cpu_secs(co_pid);
    let mx_cpu = cpu_secs(fed.member("MX").pid().expect("MX runs")) - mx_cpu;

    // Every entry: one "received" per record, and a few more.
    let limit = (n + 10_000).to_string();
    let audit = co.tipx(["audit", "--limit", &limit, "--json"]).json();
    let received: Vec<u64> = audit
        .as_array()
        .expect("the audit log is an array")
        .iter()
        .filter(|e| e["event"] == "received")
        .filter_map(|e| e["at_ms"].as_u64())
        // Not the consents received when the federation started.
        .filter(|at| *at >= restarted_ms)
        .collect();
    let (first, last) = (
        received.iter().min().copied().unwrap_or(0),
        received.iter().max().copied().unwrap_or(0),
    );
    let first_page = received.iter().filter(|t| **t == first).count();
    let steady_secs = (last - first) as f64 / 1e3;
    let steady = (received.len() - first_page) as f64 / steady_secs;
    println!(
        "catch-up of {} records from one peer: {steady_secs:.2} s from the first page stored to the last = {steady:.0} records/s ({:.0}% of the batch-verification rate)",
        received.len(),
        100.0 * steady / batch
    );
    println!(
        "from CO's start until it held all {total} records: {whole:.2} s = {:.0} records/s",
        received.len() as f64 / whole
    );
    println!(
        "CPU time: CO (receiving) {co_cpu:.2} s = {:.1} µs per record, MX (serving) {mx_cpu:.2} s = {:.1} µs per record",
        1e6 * co_cpu / received.len() as f64,
        1e6 * mx_cpu / received.len() as f64
    );
    steady
}
