//! What the benchmark binaries share: sample alerts, the reference ed25519 rates, and a
//! daemon's resource use read from `/proc`.

use std::{path::PathBuf, time::Instant};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The `i`th command-line argument as a number, or `default`.
pub fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Runs the release `tipx` (build it first), unless `TIPX_TEST_BIN` names another.
pub fn use_release_binary() {
    if std::env::var_os("TIPX_TEST_BIN").is_none() {
        let release = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/tipx");
        crate::use_binary(&release);
    }
}

/// `n` alerts with ~1 KiB descriptions, as `tipx publish --file` reads them.
pub fn alerts(n: usize) -> Vec<serde_json::Value> {
    alerts_sized(n, 1000)
}

/// Characters of description that make an alert's body ~230 bytes (title, severity,
/// category, tag and this description): the size of the "some years of exchange".
pub const SMALL_DESCRIPTION: usize = 150;

/// `n` alerts with descriptions of `description_chars` characters, as `tipx publish
/// --file` reads them.
pub fn alerts_sized(n: usize, description_chars: usize) -> Vec<serde_json::Value> {
    let words = [
        "recruitment",
        "agency",
        "passport",
        "route",
        "border",
        "visa",
        "domestic",
        "work",
        "offer",
        "travel",
    ];
    (0..n)
        .map(|i| {
            let description: String = (0..200)
                .map(|j| words[(i * 7 + j * 3) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(description_chars)
                .collect();
            let severity = ["info", "low", "medium", "high", "critical"][i % 5];
            serde_json::json!({
                "kind": "alert",
                "title": format!("Alert {i}: fake job offers abroad"),
                "description": description,
                "severity": severity,
                "category": "recruitment",
                "tags": [words[i % words.len()]],
            })
        })
        .collect()
}

/// ed25519-dalek signing on one core, 1 KiB messages, per second.
pub fn signing_rate() -> f64 {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let msg = vec![0x5au8; 1024];
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(key.sign(std::hint::black_box(&msg)));
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// ed25519-dalek verification on one core, 1 KiB messages, per second: one by one, and
/// with `verify_batch` in batches of 64.
pub fn verification_rates() -> (f64, f64) {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let vk: VerifyingKey = key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 1024]).collect();
    let sigs: Vec<Signature> = msgs.iter().map(|m| key.sign(m)).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let keys = vec![vk; 64];
    let rounds = 300;
    let t = Instant::now();
    for _ in 0..rounds {
        ed25519_dalek::verify_batch(&refs, &sigs, &keys).expect("valid");
    }
    let batch = (rounds * 64) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (m, s) in msgs.iter().zip(&sigs).cycle().take(5_000) {
        vk.verify_strict(m, s).expect("valid");
    }
    let single = 5_000.0 / t.elapsed().as_secs_f64();
    (single, batch)
}

/// Resident memory of process `pid`, MiB.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// CPU time (user + system) process `pid` has used, seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()).1
}

/// The name and the CPU seconds (user + system) in a `/proc/…/stat` line.
fn stat_cpu(stat: &str) -> (String, f64) {
    // The name is in parentheses and may hold spaces; the fields after it start after the
    // last ')'.
    let (head, rest) = stat.rsplit_once(')').unwrap_or(("", ""));
    let name = head.split_once('(').map_or("", |(_, n)| n).to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (name, (ticks(11) + ticks(12)) / 100.0)
}

/// CPU seconds of the threads of a process, by thread name (names that differ only in a
/// trailing number, such as a pool's, counted together). Linux keeps a thread's CPU time
/// only while it lives, and some threads live briefly (tantivy starts its indexing thread
/// again at each commit), so the threads are read again at every [`sample`](Self::sample):
/// a thread's time up to its last reading is counted.
#[derive(Default)]
pub struct ThreadCpu {
    seen: std::collections::HashMap<String, (String, f64)>,
}

impl ThreadCpu {
    /// Reads the CPU time of every live thread of `pid`.
    pub fn sample(&mut self, pid: u32) {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            let tid = task.file_name().to_string_lossy().into_owned();
            self.seen.insert(tid, stat_cpu(&stat));
        }
    }

    /// CPU seconds by thread name, most first.
    pub fn by_name(&self) -> Vec<(String, f64)> {
        let mut by_name = std::collections::BTreeMap::<String, f64>::new();
        for (name, secs) in self.seen.values() {
            let pool = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
            *by_name.entry(pool.to_owned()).or_default() += secs;
        }
        let mut v: Vec<(String, f64)> = by_name.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }
}

/// Waits until the process `pid` is idle — under 2 % of a core in each of five seconds in
/// a row — and returns how long that took and the CPU seconds it spent meanwhile: what a
/// node still does after a command returned (its search index catching up, then merging
/// its segments once batches stop for 2 s), which a benchmark of what comes next should
/// not count.
pub fn settle(pid: u32, at_most: std::time::Duration) -> (f64, f64) {
    let (t, start) = (std::time::Instant::now(), cpu_secs(pid));
    let (mut last, mut quiet) = (start, 0);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let now = cpu_secs(pid);
        quiet = if now - last < 0.02 { quiet + 1 } else { 0 };
        if quiet == 5 || t.elapsed() > at_most {
            return (t.elapsed().as_secs_f64(), now - start);
        }
        last = now;
    }
}

/// Imports the alerts of the JSON-lines `file` into `node` with `tipx publish --file`;
/// returns the seconds the whole command took.
pub fn import(node: &crate::Node, file: &std::path::Path) -> f64 {
    let t = Instant::now();
    node.tipx(["publish", "--file", file.to_str().expect("utf-8 path")])
        .ok();
    t.elapsed().as_secs_f64()
}

/// Runs `tipx ARGS…` against `node` `runs` times (the whole command, timed from the
/// outside: not through `Node::tipx`, whose deadline runner polls every 25 ms); returns the
/// median and p90 times and the last run's standard output.
pub fn timed(
    node: &crate::Node,
    args: &[&str],
    runs: usize,
) -> (std::time::Duration, std::time::Duration, Vec<u8>) {
    let mut stdout = Vec::new();
    let mut times: Vec<std::time::Duration> = (0..runs)
        .map(|_| {
            let mut cmd = node.command();
            cmd.args(args);
            let t = Instant::now();
            let out = cmd.output().expect("running tipx");
            let elapsed = t.elapsed();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stdout = out.stdout;
            elapsed
        })
        .collect();
    times.sort();
    (times[runs / 2], times[runs * 9 / 10], stdout)
}
