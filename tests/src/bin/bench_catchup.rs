//! Catch-up benchmark, end to end: a node that missed N records (~1 KiB alerts) from one
//! peer fetches them over libp2p from that peer, each a release `tipx run` process on
//! 127.0.0.1 (both on this machine's cores).
//!
//! OAS, MX and CO start with MX and CO partners; CO stops; MX publishes N alerts for CO
//! and is left until it is idle (its search index caught up and merged); CO starts again
//! and catches up. Prints:
//! - the single-core ed25519-dalek verification rates measured in the same run (one by
//!   one, and `verify_batch` in batches of 64) — the target is read against the batch rate;
//! - the catch-up rate: records over the time from CO's first stored records to its last,
//!   read from CO's `status` every 100 ms (the steady rate), and over the whole time from
//!   CO's start until it holds everything (process start, dialling and the first sync round
//!   included);
//! - the CPU time each of the two daemons spent, and CO's by thread (the search index's
//!   indexing thread alone: what indexing costs in work).
//!
//! `bench-catchup [N[,N…]] [DESCRIPTION_CHARS]`: each N in turn (default 100000), alerts
//! with descriptions of that many characters (default 1000, ~1 KiB bodies; 150 makes
//! ~230-byte bodies); with several, each rate is also given as a share of the first's.
//!
//! `bench-catchup index-cost [PAIRS] [N] [DESCRIPTION_CHARS]` (default 8 pairs of 200,000
//! ~230-byte alerts): what the full-text index costs a catch-up. Each pair is two
//! catch-ups, CO with its index (`store.full_text_index`) off and on, in alternating order
//! so that the machine's drifts fall on both, after one catch-up not counted; prints each
//! pair's cost (the steady rate lost) and the median and quartiles over the pairs. On a
//! machine shared with other work one pair's cost moves by several points: read the median
//! of many.
//!
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-catchup -- [N]`

use std::time::{Duration, Instant};

use tipx_tests::{
    bench::{
        ThreadCpu, alerts_sized, arg, cpu_secs, import, settle, use_release_binary,
        verification_rates,
    },
    federation::{Federation, eventually},
    write_jsonl,
};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("index-cost") {
        return index_cost(arg(2, 8), arg(3, 200_000), arg(4, 150));
    }
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
        let Run { steady, whole, .. } = catch_up(n, description, batch, true);
        let (base_steady, base_whole) = *first.get_or_insert((steady, whole));
        println!(
            "  {n} records: steady {steady:.0} records/s = {:.0}% of the first size's, whole time {whole:.0} records/s = {:.0}%",
            100.0 * steady / base_steady,
            100.0 * whole / base_whole
        );
    }
}

/// How often CO's count is read during a catch-up: the steady time is known to this much.
const POLL: Duration = Duration::from_millis(100);

/// `pairs` pairs of catch-ups of `n` alerts, CO's index off and on; prints the cost.
fn index_cost(pairs: usize, n: usize, description: usize) {
    use_release_binary();
    let (_, batch) = verification_rates();
    // The first catch-up of a run has been the slowest of it, index or not: one is made
    // first and not counted, so that it falls on neither side.
    println!("warming up (not counted):");
    catch_up(n, description, batch, true);
    let mut costs = Vec::new();
    let mut cpu = Vec::new();
    for i in 0..pairs {
        let run = |index| {
            println!(
                "pair {}, index {}:",
                i + 1,
                if index { "on" } else { "off" }
            );
            catch_up(n, description, batch, index)
        };
        let (off, on) = if i % 2 == 0 {
            let off = run(false);
            (off, run(true))
        } else {
            let on = run(true);
            (run(false), on)
        };
        let cost = 100.0 * (1.0 - on.steady / off.steady);
        costs.push(cost);
        cpu.push(on.co_us - off.co_us);
        println!(
            "pair {}: {:.0} records/s without the index, {:.0} with: the index costs {cost:.1} % \
             (CO's CPU +{:.1} µs a record)\n",
            i + 1,
            off.steady,
            on.steady,
            on.co_us - off.co_us
        );
    }
    let (q1, median, q3) = quartiles(&mut costs);
    let (_, cpu_median, _) = quartiles(&mut cpu);
    println!(
        "the full-text index costs a catch-up of {n} records {median:.1} % (median of {pairs} \
         pairs; quartiles {q1:.1}–{q3:.1} %); CO's CPU +{cpu_median:.1} µs a record (median)"
    );
}

/// The lower quartile, median and upper quartile of `v` (sorted in place).
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let x = q * (v.len() - 1) as f64;
        let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
    };
    (at(0.25), at(0.5), at(0.75))
}

/// What one catch-up measured.
struct Run {
    /// Records a second from CO's first stored records to its last.
    steady: f64,
    /// Records a second from CO's start until it held everything.
    whole: f64,
    /// CO's CPU time a record, µs.
    co_us: f64,
}

/// One catch-up of `n` alerts with descriptions of `description` characters, in a new
/// federation, CO keeping its full-text index or not (`index`); prints its figures.
fn catch_up(n: usize, description: usize, batch: f64, index: bool) -> Run {
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
    let held = |node: &tipx_tests::Node| node.tipx(["status", "--json"]).json()["records"].as_u64();
    let before = held(fed.member("CO")).expect("CO answers");
    fed.member_mut("CO").stop();
    let mx = fed.member("MX");
    import(mx, &file);
    // MX goes on indexing and merging for a while after the import returns; a peer serving
    // a catch-up has usually been idle long before, so that is not counted.
    let (waited, leftover) = settle(mx.pid().expect("MX runs"), Duration::from_secs(600));
    println!("MX idle {waited:.1} s after the import ({leftover:.2} s of CPU meanwhile)");
    let mx_cpu = cpu_secs(mx.pid().expect("MX runs"));
    let total = held(mx).expect("MX answers");

    let t = Instant::now();
    if !index {
        let co = fed.member_mut("CO");
        co.env
            .push(("TIPX_STORE_FULL_TEXT_INDEX".into(), "false".into()));
    }
    fed.member_mut("CO").start();
    let co = fed.member("CO");
    let co_pid = co.pid().expect("CO runs");
    // CO's count, read every POLL: the first reading above what it held before the stop
    // starts the steady time, the reading of everything ends it.
    let mut first: Option<(f64, u64)> = None;
    let mut threads = ThreadCpu::default();
    let whole = loop {
        threads.sample(co_pid);
        let count = held(co);
        let at = t.elapsed().as_secs_f64();
        if count == Some(total) {
            break at;
        }
        if first.is_none()
            && let Some(c) = count.filter(|c| *c > before)
        {
            first = Some((at, c));
        }
        assert!(at < 1800.0, "CO caught up within 30 minutes");
        std::thread::sleep(POLL);
    };
    let co_cpu = cpu_secs(co_pid);
    threads.sample(co_pid);
    let co_threads = threads.by_name();
    let mx_cpu = cpu_secs(fed.member("MX").pid().expect("MX runs")) - mx_cpu;

    let caught = total - before;
    let (first_at, first_count) = first.unwrap_or((whole, before));
    let steady_secs = whole - first_at;
    let steady = (total - first_count) as f64 / steady_secs;
    println!(
        "catch-up of {caught} records from one peer: {steady_secs:.2} s from the first records stored to the last = {steady:.0} records/s ({:.0}% of the batch-verification rate)",
        100.0 * steady / batch
    );
    println!(
        "from CO's start until it held all {total} records: {whole:.2} s = {:.0} records/s",
        caught as f64 / whole
    );
    println!(
        "CPU time: CO (receiving) {co_cpu:.2} s = {:.1} µs per record, MX (serving) {mx_cpu:.2} s = {:.1} µs per record",
        1e6 * co_cpu / caught as f64,
        1e6 * mx_cpu / caught as f64
    );
    // Each thread's part (read every POLL: a thread's last moments before it ends are
    // missed): the indexing thread's alone is what the search index costs a catch-up in
    // work, a steadier figure than the difference of two runs' rates.
    let parts: Vec<String> = co_threads
        .iter()
        .filter(|(_, secs)| *secs >= 0.01 * co_cpu)
        .map(|(name, secs)| format!("{name} {:.1} µs", 1e6 * secs / caught as f64))
        .collect();
    let unseen = co_cpu - co_threads.iter().map(|(_, secs)| secs).sum::<f64>();
    println!(
        "CO's threads, CPU per record: {}; {:.1} µs in threads that ended between readings \
         (signatures are verified on threads started for each page)",
        parts.join(", "),
        1e6 * unseen.max(0.0) / caught as f64
    );
    Run {
        steady,
        whole: caught as f64 / whole,
        co_us: 1e6 * co_cpu / caught as f64,
    }
}
