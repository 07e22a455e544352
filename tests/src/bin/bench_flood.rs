//! Flooding benchmark: how much of an honest partner's catch-up survives a member that
//! re-pushes records the node already holds, as fast as one connection allows.
//!
//! OAS, MX, CO and PE start, MX a partner of CO and of PE; BR, a roster member driven by
//! hand, is nobody's partner (federation records pass the partner check, so it may still
//! push its consent). CO and PE stop; MX publishes N alerts for both. Then, in the same
//! run: CO starts and catches up alone; PE starts and catches up while BR pushes PE pages
//! of 1,024 copies of its consent, which PE holds, `IN_FLIGHT` at a time. Prints both
//! steady rates (records over the time from the first page stored to the last, from the
//! audit log; for PE counted from the flood's first answer) and their ratio.
//!
//! `cargo build --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-flood -- [N]`

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tipx_protocol::testkit::key_of;
use tipx_tests::{
    Node,
    bench::{alerts, arg, use_release_binary},
    federation::{Federation, eventually, now_ms},
    peer::{Peer, address, grant},
    write_jsonl,
};

/// Pushes the flooder keeps outstanding.
const IN_FLIGHT: usize = 16;
/// Copies of the held record per push (the most one message may carry).
const COPIES: usize = tipx_protocol::sync::MAX_RECORDS_PER_MESSAGE;

/// Records per second stored by `node` from its audit log, over the pages stored after
/// `since_ms` (the first of them only opens the interval).
fn steady_rate(node: &Node, since_ms: u64) -> (usize, f64) {
    let mut at: Vec<u64> = node
        .audit()
        .iter()
        .filter(|e| e["event"] == "received" && e["kind"] == "alert")
        .filter_map(|e| e["at_ms"].as_u64())
        .filter(|t| *t >= since_ms)
        .collect();
    at.sort_unstable();
    let (first, last) = (at[0], at[at.len() - 1]);
    let after_first = at.iter().filter(|t| **t > first).count();
    (at.len(), after_first as f64 / ((last - first) as f64 / 1e3))
}

fn main() {
    let n = arg(1, 100_000);
    use_release_binary();
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("alerts.jsonl");
    let mut records = alerts(n);
    for r in &mut records {
        r["audience"] = serde_json::json!(["CO", "PE"]);
    }
    write_jsonl(&file, &records);
    let mut fed = Federation::start(
        dir.path(),
        &[],
        &[("MX", &["CO", "PE"]), ("CO", &["MX"]), ("PE", &["MX"])],
    );
    let br_key = key_of("BR");
    fed.oas.roster_admit("BR", "Brazil", &br_key.public());
    let ready = |node: &Node| {
        let s = node.tipx(["status", "--json"]).json();
        s["partners"].as_array().is_some_and(|p| !p.is_empty()) && s["roster_version"] == 2
    };
    assert!(
        eventually(Duration::from_secs(60), || fed.members.iter().all(ready)),
        "the members never became partners with the roster listing BR"
    );
    for code in ["CO", "PE"] {
        fed.member_mut(code).stop();
    }
    let mx = fed.member("MX");
    mx.tipx(["publish", "--file", file.to_str().expect("utf-8 path")])
        .ok();
    let count = |node: &Node| node.tipx(["status", "--json"]).json()["records"].as_u64();
    let total = count(mx).expect("MX answers");
    let holds_all = |node: &Node| count(node) >= Some(total);

    // Alone.
    fed.member_mut("CO").start();
    assert!(
        eventually(Duration::from_secs(600), || holds_all(fed.member("CO"))),
        "CO never caught up"
    );
    let (alone_n, alone) = steady_rate(fed.member("CO"), 0);

    // Flooded: BR's consent is pushed once (PE stores it), then pushed again and again.
    fed.member_mut("PE").start();
    let pe = fed.member("PE");
    let (pe_peer, pe_addr) = address(pe);
    let stop = Arc::new(AtomicBool::new(false));
    let consent = grant("BR", "MX");
    let flooder = {
        let stop = stop.clone();
        let bytes = consent.encode();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async move {
                let mut br = Peer::new(&br_key);
                assert!(
                    br.connect_to(pe_peer, pe_addr).await,
                    "BR could not connect to PE"
                );
                br.push(pe_peer, vec![bytes.clone()]).await;
                br.flood(pe_peer, vec![bytes; COPIES], IN_FLIGHT, &stop)
                    .await
            })
        })
    };
    assert!(
        eventually(Duration::from_secs(600), || holds_all(fed.member("PE"))),
        "PE never caught up"
    );
    stop.store(true, Ordering::Relaxed);
    let flood = flooder.join().expect("the flooder ran");
    let (flooded_n, flooded) = steady_rate(fed.member("PE"), flood.first_answer_ms);

    println!("catch-up of {alone_n} alerts from MX, alone: {alone:.0} records/s");
    println!(
        "catch-up of {flooded_n} alerts from MX while BR floods: {flooded:.0} records/s = {:.0}% of the rate alone",
        100.0 * flooded / alone
    );
    println!(
        "BR's flood ({IN_FLIGHT} pushes of {COPIES} held copies in flight): {} pushes read, {} refused busy, {} failed = {:.0} copies/s",
        flood.acknowledged,
        flood.busy,
        flood.failed,
        (flood.acknowledged * COPIES as u64) as f64
            / ((now_ms() - flood.first_answer_ms) as f64 / 1e3)
    );
}
