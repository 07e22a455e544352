//! Proof under faults: real `tipx run` processes, each in a network namespace of its own,
//! reaching each other only through the test's fault-injecting proxy
//! (`tipx_tests::chaos`). The proxy cuts, black-holes, throttles or half-opens links; each
//! test checks what every node ends up holding, and prints how long it took. Needs root
//! (network namespaces), as CI has.
//!
//! The tests run one at a time (a lock): each starts four debug nodes, and their timings
//! are the figures in docs/BENCHMARKS.md.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::json;
use tipx_tests::{
    Node,
    chaos::Chaos,
    federation::{DELIVERY_DEADLINE, TRIO, eventually},
    proxy::Fault,
    publish, write_jsonl,
};

/// One chaos test at a time: four debug nodes each on a two-core machine are plenty.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long the partition lasts while the members publish.
const PARTITION: Duration = Duration::from_secs(30);
/// A trickle: bytes per second each way on a throttled link.
const TRICKLE: u64 = 2 * 1024;
/// Title prefix of the records a test publishes (the roster and consents are not counted).
const PREFIX: &str = "chaos ";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Ids of the test's records `node` holds.
#[track_caller]
fn held(node: &Node) -> BTreeSet<String> {
    node.records(&["--all"])
        .iter()
        .filter(|r| r["title"].as_str().is_some_and(|t| t.starts_with(PREFIX)))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

/// How many records of the batch `tag` (see [`alerts`]) `node` holds.
#[track_caller]
fn count(node: &Node, tag: &str) -> usize {
    node.records(&["--all", "--tag", tag]).len()
}

/// `n` alerts tagged `tag` and titled `chaos <tag> <i>` for `audience`, written to a
/// JSON-lines file.
fn alerts(dir: &Path, tag: &str, n: usize, audience: &[&str]) -> std::path::PathBuf {
    let lines: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "kind": "alert",
                "title": format!("{PREFIX}{tag} {i}"),
                "severity": "low",
                "description": format!("Record {i} of the {tag} batch."),
                "tags": [tag],
                "audience": audience,
            })
        })
        .collect();
    let path = dir.join(format!("{tag}.jsonl"));
    write_jsonl(&path, &lines);
    path
}

/// Every node reaches every other, and only through the proxy: each link carried bytes both
/// ways, and no namespace can open a TCP connection to another's real address.
#[track_caller]
fn assert_all_through_the_proxy(chaos: &Chaos, states: &[&str]) {
    for (i, a) in states.iter().enumerate() {
        for b in &states[i + 1..] {
            assert!(chaos.connected(a, b), "{a} and {b} never connected");
            assert!(
                chaos.proxy.bytes(a, b) > 0 && chaos.proxy.bytes(b, a) > 0,
                "{a} and {b} are connected, but not through the proxy"
            );
            let (na, nb) = (chaos.net.get(a), chaos.net.get(b));
            let port = chaos.node(b).p2p_port;
            let direct = std::process::Command::new("ip")
                .args(["netns", "exec", &na.name, "bash", "-c"])
                .arg(format!("exec 3<>/dev/tcp/{}/{port}", nb.inner))
                .output()
                .expect("running bash in a namespace");
            assert!(
                !direct.status.success(),
                "{a} reaches {b}'s real address {}:{port} without the proxy",
                nb.inner
            );
        }
    }
}

#[test]
fn a_partition_heals_and_every_node_ends_with_exactly_what_its_audiences_allow() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let everyone: &[&str] = &["OAS", "MX", "CO", "PE"];
    let chaos = Chaos::start(
        dir.path(),
        &["MX", "CO", "PE"],
        &[
            ("MX", &["OAS", "CO", "PE"]),
            ("CO", &["OAS", "MX", "PE"]),
            ("PE", &["OAS", "MX", "CO"]),
        ],
    );
    chaos.wait_partnered(&[("OAS", 3), ("MX", 3), ("CO", 3), ("PE", 3)]);
    assert_all_through_the_proxy(&chaos, everyone);

    // OAS stays with MX and CO: a record addressed to OAS too could otherwise cross the
    // cut through it, legitimately (any node of the audience may relay).
    let (left, right): (&[&str], &[&str]) = (&["OAS", "MX", "CO"], &["PE"]);
    chaos.partition(left, right);
    for a in left {
        let n = chaos.node(a);
        let pe = &chaos.node("PE").peer_id;
        assert!(
            eventually(DELIVERY_DEADLINE, || !n.connected_to(pe)),
            "{a} still connected to PE after the cut"
        );
    }
    let crossing = |c: &Chaos| -> u64 {
        left.iter()
            .flat_map(|a| right.iter().map(move |b| (*a, *b)))
            .map(|(a, b)| c.proxy.bytes(a, b) + c.proxy.bytes(b, a))
            .sum()
    };
    let bytes_at_cut = crossing(&chaos);

    // Who publishes for whom; the author always holds its own record.
    let plan: &[(&str, &[&str])] = &[
        ("MX", &["CO"]),
        ("MX", &["PE"]),
        ("PE", &["MX", "CO"]),
        ("CO", &["MX", "PE"]),
        ("CO", &["PE"]),
        ("MX", &["OAS", "CO", "PE"]),
        ("PE", &["OAS", "MX", "CO"]),
    ];
    // Record id → (author, the states that may hold it).
    let mut expected: BTreeMap<String, (&str, BTreeSet<&str>)> = BTreeMap::new();
    let started = Instant::now();
    let mut round = 0;
    while started.elapsed() < PARTITION {
        for (author, audience) in plan {
            let title = format!("{PREFIX}round {round} {author} to {}", audience.join("+"));
            let id = publish(
                chaos.node(author),
                &[
                    "alert",
                    "--title",
                    &title,
                    "--severity",
                    "medium",
                    "--audience",
                    &audience.join(","),
                ],
            );
            let holders = audience.iter().copied().chain([*author]).collect();
            expected.insert(id, (*author, holders));
        }
        round += 1;
        // Part of the deliberate partition window: a round of publishes every second.
        std::thread::sleep(Duration::from_secs(1));
    }
    // What `state` may hold, from authors on `side` (everyone, once healed).
    let allowed = |state: &str, side: &[&str]| -> BTreeSet<String> {
        expected
            .iter()
            .filter(|(_, (author, holders))| holders.contains(state) && side.contains(author))
            .map(|(id, _)| id.clone())
            .collect()
    };

    // Still partitioned: each side ends with exactly its own side's records, and not one
    // byte crossed the cut.
    for (side, other) in [(left, right), (right, left)] {
        for state in side {
            let n = chaos.node(state);
            let want = allowed(state, side);
            assert!(
                eventually(DELIVERY_DEADLINE, || held(n) == want),
                "{state} does not hold exactly its side's records while partitioned: {} held, \
                 {} allowed, {} from across the cut",
                held(n).len(),
                want.len(),
                held(n).intersection(&allowed(state, other)).count()
            );
        }
    }
    // A partition is not a refusal: no node tells its operator it is out of the roster.
    for state in everyone {
        let status = chaos.node(state).tipx(["status", "--json"]).json();
        assert!(
            !status["warnings"].to_string().contains("not in the roster"),
            "{state} misreads the partition: {}",
            status["warnings"]
        );
    }
    assert_eq!(
        crossing(&chaos),
        bytes_at_cut,
        "bytes crossed the cut during the partition"
    );
    eprintln!(
        "partition: {} records published in {round} rounds over {PARTITION:?}",
        expected.len()
    );

    // Heal: every node ends with exactly what its audiences allow.
    let healed = Instant::now();
    chaos.proxy.set_between(left, right, Fault::Pass);
    let mut complete_after = BTreeMap::new();
    let done = eventually(DELIVERY_DEADLINE, || {
        for state in everyone {
            if !complete_after.contains_key(state)
                && held(chaos.node(state)) == allowed(state, everyone)
            {
                complete_after.insert(*state, healed.elapsed());
            }
        }
        complete_after.len() == everyone.len()
    });
    for state in everyone {
        let (have, want) = (held(chaos.node(state)), allowed(state, everyone));
        assert!(
            done && have == want,
            "{state} after the heal: {} of {} allowed records, {} not allowed; log:\n{}",
            have.intersection(&want).count(),
            want.len(),
            have.difference(&want).count(),
            chaos.node(state).log()
        );
    }
    let convergence = complete_after.values().max().copied().unwrap_or_default();
    eprintln!("heal → every node complete: {convergence:?} (per node: {complete_after:?})");
    // Nothing more arrives later: one more sync round between every two nodes.
    let since = tipx_tests::federation::now_ms();
    for a in everyone {
        for b in everyone.iter().filter(|b| *b != a) {
            assert!(
                chaos.node(a).synced_with_since(chaos.node(b), since),
                "{a} completed no sync round with {b} after the heal"
            );
        }
    }
    for state in everyone {
        assert_eq!(
            held(chaos.node(state)),
            allowed(state, everyone),
            "{state} holds something else after one more round"
        );
    }
}

/// Records in each batch of the throttle test.
const BATCH: usize = 2_000;
/// Records published for CO while a page for PE crawls through the throttled link.
const LATE: usize = 200;

#[test]
fn a_throttled_link_slows_only_the_partner_behind_it() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let chaos = Chaos::start(dir.path(), &[], TRIO);
    chaos.wait_partnered(&[("MX", 2), ("CO", 2), ("PE", 2)]);
    assert_all_through_the_proxy(&chaos, &["MX", "CO", "PE"]);
    let (mx, co, pe) = (chaos.node("MX"), chaos.node("CO"), chaos.node("PE"));
    let import = |file: &Path| {
        mx.tipx(["publish", "--file", file.to_str().unwrap()]).ok();
    };

    // Baseline, no fault: a batch for CO.
    let file = alerts(dir.path(), "baseline", BATCH, &["CO"]);
    let start = Instant::now();
    import(&file);
    assert!(
        eventually(DELIVERY_DEADLINE, || count(co, "baseline") == BATCH),
        "CO got {} of {BATCH} baseline records; log:\n{}",
        count(co, "baseline"),
        co.log()
    );
    let baseline = start.elapsed();

    // MX↔PE throttled to a trickle: a batch for PE starts crawling through it, then the
    // same batch as the baseline for CO, timed the same way.
    chaos.proxy.set("MX", "PE", Fault::Throttle(TRICKLE));
    let to_pe_before = chaos.proxy.bytes("MX", "PE");
    import(&alerts(dir.path(), "for-pe", BATCH, &["PE"]));
    let file = alerts(dir.path(), "for-co", BATCH, &["CO"]);
    let start = Instant::now();
    import(&file);
    assert!(
        eventually(DELIVERY_DEADLINE, || count(co, "for-co") == BATCH),
        "CO got {} of {BATCH} records while MX↔PE was throttled; log:\n{}",
        count(co, "for-co"),
        co.log()
    );
    let throttled = start.elapsed();
    let pe_then = count(pe, "for-pe");
    assert!(
        pe_then < BATCH,
        "PE had all its records through a {TRICKLE} B/s link before CO had its own"
    );
    // Seconds into the trickle (a page for PE still crawling through), CO is served at once.
    let trickled = || chaos.proxy.bytes("MX", "PE") - to_pe_before;
    assert!(
        eventually(DELIVERY_DEADLINE, || trickled() >= 4 * TRICKLE),
        "only {} bytes trickled MX→PE",
        trickled()
    );
    let late = alerts(dir.path(), "late-co", LATE, &["CO"]);
    let start = Instant::now();
    import(&late);
    assert!(
        eventually(DELIVERY_DEADLINE, || count(co, "late-co") == LATE),
        "CO got {} of {LATE} records published while MX→PE crawled",
        count(co, "late-co")
    );
    let late_took = start.elapsed();
    let pe_before_lift = count(pe, "for-pe");
    assert!(pe_before_lift < BATCH, "PE completed through the trickle");
    let trickled = trickled();

    // Lifted: PE completes.
    chaos.proxy.set("MX", "PE", Fault::Pass);
    let lifted = Instant::now();
    assert!(
        eventually(DELIVERY_DEADLINE, || count(pe, "for-pe") == BATCH),
        "PE got {} of {BATCH} records after the throttle was lifted; log:\n{}",
        count(pe, "for-pe"),
        pe.log()
    );
    let pe_after = lifted.elapsed();
    assert_eq!(count(pe, "for-co"), 0, "PE holds records for CO");
    assert_eq!(count(co, "for-pe"), 0, "CO holds records for PE");
    eprintln!(
        "{BATCH} records to CO: {baseline:?} with no fault, {throttled:?} with MX↔PE at \
         {TRICKLE} B/s (PE then held {pe_then} of its {BATCH}); {LATE} more to CO once \
         {trickled} bytes had trickled MX→PE: {late_took:?} (PE then held {pe_before_lift}); \
         PE complete {pe_after:?} after the throttle was lifted"
    );
}

#[test]
fn a_black_holed_link_stops_no_one_else_and_catches_up_when_lifted() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let chaos = Chaos::start(dir.path(), &[], TRIO);
    chaos.wait_partnered(&[("MX", 2), ("CO", 2), ("PE", 2)]);
    for (a, b) in [("MX", "CO"), ("MX", "PE"), ("CO", "PE")] {
        assert!(chaos.connected(a, b), "{a} and {b} never connected");
    }
    let (mx, co, pe) = (chaos.node("MX"), chaos.node("CO"), chaos.node("PE"));

    // Connections between MX and CO stay open, and nothing flows on them.
    chaos.proxy.set("MX", "CO", Fault::BlackHole);
    let n = 200;
    let start = Instant::now();
    for (node, tag, audience) in [
        (mx, "mx-co", "CO"),
        (mx, "mx-pe", "PE"),
        (pe, "pe-mx", "MX"),
    ] {
        let file = alerts(dir.path(), tag, n, &[audience]);
        node.tipx(["publish", "--file", file.to_str().unwrap()])
            .ok();
    }
    assert!(
        eventually(DELIVERY_DEADLINE, || count(pe, "mx-pe") == n
            && count(mx, "pe-mx") == n),
        "MX and PE did not exchange while MX↔CO was black-holed: PE has {} of {n}, MX {} of \
         {n}; MX's log:\n{}",
        count(pe, "mx-pe"),
        count(mx, "pe-mx"),
        mx.log()
    );
    let exchanged = start.elapsed();
    assert_eq!(count(co, "mx-co"), 0, "records crossed the black hole");

    chaos.proxy.set("MX", "CO", Fault::Pass);
    let lifted = Instant::now();
    assert!(
        eventually(DELIVERY_DEADLINE, || count(co, "mx-co") == n),
        "CO got {} of {n} records after the black hole was lifted; log:\n{}",
        count(co, "mx-co"),
        co.log()
    );
    eprintln!(
        "MX↔CO black-holed: MX and PE exchanged {n} records each way in {exchanged:?}; CO \
         caught up {:?} after the black hole was lifted",
        lifted.elapsed()
    );
}

/// A connection whose path died silently (a NAT mapping expired, a peer's address changed,
/// no reset sent) while a new one would get through: MX must notice, drop it and redial.
#[test]
fn a_half_open_connection_is_dropped_and_the_partner_redialled() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let chaos = Chaos::start(dir.path(), &[], TRIO);
    chaos.wait_partnered(&[("MX", 2), ("CO", 2), ("PE", 2)]);
    assert!(chaos.connected("MX", "CO"), "MX and CO never connected");
    let (mx, co) = (chaos.node("MX"), chaos.node("CO"));
    let dials = || chaos.proxy.connections("MX", "CO") + chaos.proxy.connections("CO", "MX");
    let dials_before = dials();

    chaos.proxy.set("MX", "CO", Fault::HalfOpen);
    let n = 50;
    let start = Instant::now();
    let file = alerts(dir.path(), "half-open", n, &["CO"]);
    mx.tipx(["publish", "--file", file.to_str().unwrap()]).ok();
    assert!(
        // Three request timeouts of ~10 s each, then a redial: twice the usual deadline.
        eventually(2 * DELIVERY_DEADLINE, || count(co, "half-open") == n),
        "CO got {} of {n} records over a half-open connection (MX sees CO connected: {}; {} \
         new connections between them); MX's log:\n{}",
        count(co, "half-open"),
        mx.connected_to(&co.peer_id),
        dials() - dials_before,
        mx.log()
    );
    assert!(
        dials() > dials_before,
        "the records came without a new connection"
    );
    eprintln!(
        "half-open MX↔CO: CO held the {n} records {:?} after the publish",
        start.elapsed()
    );
}
