//! Export benchmark, end to end through the real `tipx` binary (use a release build:
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-export`).
//!
//! Imports N alerts with ~1 KiB bodies (in files of at most 100,000, so the import's own
//! memory stays small), then runs `tipx export --format csv`, `jsonl` and `stix` to a file
//! under `/usr/bin/time -v` and prints, for each, the wall time, the rate, the file's size
//! and the peak resident memory of the `tipx export` process (its VmHWM): the export pages
//! through the daemon's listing, so that figure should not grow with N. The daemon's own
//! resident memory after the exports is printed too.
//!
//! `N` is the first argument (default 100000).

use std::{process::Command, time::Instant};

use tipx_tests::{
    Node,
    bench::{alerts, arg, rss_mib, use_release_binary},
    tipx_bin, write_jsonl,
};

/// Alerts per import file.
const CHUNK: usize = 100_000;

/// Runs `tipx export --format FORMAT --out FILE` under `/usr/bin/time -v`; returns the
/// wall time in seconds and the peak resident memory in MiB.
fn export(node: &Node, format: &str, out: &std::path::Path) -> (f64, f64) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(tipx_bin())
        .arg("--data-dir")
        .arg(&node.dir)
        .args(["export", "--format", format, "--out"])
        .arg(out);
    let t = Instant::now();
    let done = cmd.output().expect("running /usr/bin/time tipx export");
    let secs = t.elapsed().as_secs_f64();
    let report = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{report}");
    let peak_kib: f64 = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("/usr/bin/time -v reports the peak memory");
    (secs, peak_kib / 1024.0)
}

fn main() {
    let n = arg(1, 100_000);
    use_release_binary();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::init("MX", tmp.path());
    node.start();
    let t = Instant::now();
    let file = tmp.path().join("alerts.jsonl");
    for from in (0..n).step_by(CHUNK) {
        let mut batch = alerts(CHUNK.min(n - from));
        for (i, a) in batch.iter_mut().enumerate() {
            a["title"] = format!("Alert {}: fake job offers abroad", from + i).into();
        }
        write_jsonl(&file, &batch);
        node.tipx(["publish", "--file", file.to_str().expect("utf-8 path")])
            .ok();
    }
    std::fs::remove_file(&file).ok();
    println!("imported {n} alerts in {:.1} s", t.elapsed().as_secs_f64());

    for format in ["csv", "jsonl", "stix"] {
        let out = tmp.path().join(format!("export.{format}"));
        let (secs, peak) = export(&node, format, &out);
        let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
        let lines = std::fs::read(&out)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        println!(
            "export --format {format}: {n} records in {secs:.2} s = {:.0} records/s, {:.0} MiB written ({lines} lines), peak RSS of `tipx export` {peak:.1} MiB",
            n as f64 / secs,
            bytes as f64 / 1048576.0
        );
        std::fs::remove_file(&out).ok();
    }
    let pid = node.pid().expect("daemon running");
    println!("daemon after the exports: {:.1} MiB resident", rss_mib(pid));
    node.stop();
}
