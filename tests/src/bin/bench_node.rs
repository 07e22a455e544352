//! Single-node benchmark, end to end through the real `tipx` binary (use a release build:
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-node`).
//!
//! Prints, in one run:
//! - the single-core ed25519 signing rate (1 KiB messages), to read the import rate against;
//! - bulk import of N alerts with ~1 KiB bodies through `tipx publish --file` (signed,
//!   stored and flushed), in records per second;
//! - `tipx records list` with filters over those N records: median and p90 wall time of the
//!   whole command (process start, HTTP, query, output);
//! - after a restart: the time from `tipx run` to its first successful `tipx status`, then
//!   to its first listing (which waits for the store's index), and the resident memory of
//!   the idle daemon holding them.
//!
//! `bench-node [N] [DESCRIPTION_CHARS]`: N alerts (default 100000) with descriptions of
//! that many characters (default 1000, ~1 KiB bodies; 150 makes ~230-byte bodies). The
//! full-text listing, which reads every body, is left out above 200,000 records.

use std::time::{Duration, Instant};

use tipx_tests::{
    Node,
    bench::{alerts_sized, arg, import, rss_mib, signing_rate, timed, use_release_binary},
    write_jsonl,
};

fn main() {
    let n = arg(1, 100_000);
    let description = arg(2, 1000);
    use_release_binary();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sign = signing_rate();
    println!("machine: {cores} cores");
    println!("ed25519 signing, 1 KiB, one core: {sign:.0}/s");

    let tmp = tempfile::tempdir().expect("temporary directory");
    let file = tmp.path().join("alerts.jsonl");
    write_jsonl(&file, &alerts_sized(n, description));
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let mut node = Node::init("MX", tmp.path());
    node.start();
    let secs = import(&node, &file);
    let rate = n as f64 / secs;
    println!(
        "bulk import: {n} alerts ({:.0} MiB of JSON, descriptions of {description} characters) in {secs:.2} s = {rate:.0} records/s; ed25519 signing on one core {sign:.0}/s ({:.2}x)",
        bytes as f64 / 1048576.0,
        rate / sign
    );

    let queries: [&[&str]; 4] = [
        &["records", "list", "--kind", "alert", "--severity", "high"],
        &["records", "list", "--tag", "passport", "--limit", "20"],
        &["records", "list", "--since", "1d", "--json"],
        &["records", "list", "--text", "Alert 99999:"],
    ];
    for q in queries {
        if q.contains(&"--text") && n > 200_000 {
            println!("`tipx {}`: left out above 200000 records", q.join(" "));
            continue;
        }
        let (p50, p90, _) = timed(&node, q, 21);
        println!(
            "`tipx {}`: median {:.1} ms, p90 {:.1} ms",
            q.join(" "),
            p50.as_secs_f64() * 1e3,
            p90.as_secs_f64() * 1e3
        );
    }

    node.stop();
    // `Node::start` returns at the first `tipx status` that succeeds (polled every 25 ms).
    let t = Instant::now();
    node.start();
    let ready = t.elapsed();
    let mut list = node.command();
    list.args(["records", "list", "--limit", "1"]);
    assert!(list.output().expect("running tipx").status.success());
    let listed = t.elapsed();
    println!(
        "restart holding {n} records: `tipx status` answered {:.0} ms after `tipx run`, the first listing {:.0} ms after",
        ready.as_secs_f64() * 1e3,
        listed.as_secs_f64() * 1e3
    );
    std::thread::sleep(Duration::from_secs(3));
    let pid = node.pid().expect("daemon running");
    println!(
        "idle daemon holding {n} records: {:.1} MiB resident",
        rss_mib(pid)
    );
    node.stop();
}
