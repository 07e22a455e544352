//! Version 2 of anti-entropy, between simulated nodes: random holdings always reconcile
//! exactly, with nothing said of a feed outside its audience; a node of version 1 keeps
//! exchanging with one of version 2 and is never sent a message it cannot read; and a
//! feed a peer names in a reconciliation gets the same reaction whether it is held but not
//! shared, or not held.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// The audiences the random feeds are drawn from (each also names its author's state).
const AUDIENCES: &[&[&str]] = &[
    &["MX", "CO"],
    &["MX", "CO", "PE"],
    &["MX", "PE"],
    &["CO", "PE"],
    &["MX", "CO", "BR"],
];
const AUTHORS: &[&str] = &["MX", "CO", "PE"];

/// Whether any message between the two nodes was of version 2.
fn reconciled(sim: &Sim) -> bool {
    names(sim).iter().any(|(_, _, n)| *n == "reconcile")
}

/// The seq `code` holds of `feed`.
fn seq_at(sim: &Sim, code: &str, feed: &FeedId) -> usize {
    sim.feed_at(code, feed).len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_holdings_always_reconcile_exactly_and_nothing_is_said_outside_an_audience(
        specs in prop::collection::vec(
            (0..AUTHORS.len(), 0..AUDIENCES.len(), 1..5usize, 0..5usize, 0..5usize),
            1..14,
        )
    ) {
        let mut sim = Sim::new(&["MX", "CO", "PE"]);
        // (author, audience) → (records, MX's prefix, CO's prefix).
        let mut feeds: BTreeMap<(usize, usize), (usize, usize, usize)> = BTreeMap::new();
        for (author, audience, len, mx, co) in specs {
            if AUDIENCES[audience].contains(&AUTHORS[author]) {
                let f = feeds.entry((author, audience)).or_insert((0, 0, 0));
                *f = (f.0.max(len), f.1.max(mx.min(len)), f.2.max(co.min(len)));
            }
        }
        let mut published = Vec::new();
        for (&(author, audience), &(len, mx, co)) in &feeds {
            let (code, audience) = (AUTHORS[author], AUDIENCES[audience]);
            let records: Vec<Record> = (0..len)
                .map(|i| sim.publish(code, audience, alert(&format!("{code} {i}"))).0)
                .collect();
            for (holder, prefix) in [("MX", mx), ("CO", co)] {
                if holder != code && audience.contains(&holder) && prefix > 0 {
                    let bytes: Vec<Vec<u8>> = records[..prefix].iter().map(Record::encode).collect();
                    prop_assert_eq!(sim.store_at(holder, code, &bytes).len(), prefix);
                }
            }
            published.push((records[0].header.feed, audience, code));
        }
        sim.restart("MX");
        sim.restart("CO");
        let before: Vec<(usize, usize)> = published
            .iter()
            .map(|(f, ..)| (seq_at(&sim, "MX", f), seq_at(&sim, "CO", f)))
            .collect();
        sim.connect("MX", "CO");
        sim.run();
        for ((feed, audience, _), (mx, co)) in published.iter().zip(before) {
            let shared = audience.contains(&"MX") && audience.contains(&"CO");
            let (now_mx, now_co) = (seq_at(&sim, "MX", feed), seq_at(&sim, "CO", feed));
            if shared {
                prop_assert_eq!((now_mx, now_co), (mx.max(co), mx.max(co)), "{:?}", audience);
            } else {
                prop_assert_eq!((now_mx, now_co), (mx, co), "{:?}", audience);
            }
        }
        sim.assert_no_leaks();
        prop_assert!(sim.refused.is_empty(), "{:?}", sim.refused);
        prop_assert!(reconciled(&sim));
        // And the next round finds them in sync: one small message each way.
        sim.traffic.clear();
        sim.tick(DEFAULT_INTERVAL_MS);
        prop_assert_eq!(sim.traffic.len(), 4);
        prop_assert!(sim.traffic.iter().all(|s| s.bytes <= 41), "{:?}", sim.traffic);
    }
}

#[test]
fn a_node_of_version_1_keeps_exchanging_with_one_of_version_2_and_reconciles_once_upgraded() {
    let mut sim = Sim::new(&["MX", "CO"]);
    let co = sim.idx("CO");
    sim.nodes[co].predates_reconcile = true;
    let (mx1, _) = sim.publish("MX", &["CO", "MX"], alert("MX, before"));
    let (co1, _) = sim.publish("CO", &["CO", "MX"], alert("CO, before"));
    // Anti-entropy carries them: there is no link yet to push on.
    sim.connect("MX", "CO");
    assert!(sim.holds("CO", &mx1) && sim.holds("MX", &co1));
    assert!(!reconciled(&sim), "CO cannot read version 2");
    // Having heard CO answer its first digest, MX offers no reconciliation any more.
    sim.traffic.clear();
    sim.tick(DEFAULT_INTERVAL_MS);
    let offers = sent(&sim, "MX", "CO")
        .into_iter()
        .filter(|m| {
            matches!(
                m,
                Msg::Request(Request::Digest {
                    reconcile: Some(_),
                    ..
                })
            )
        })
        .count();
    assert_eq!(offers, 0);
    assert_eq!(
        sim.synced.len(),
        4,
        "every round ends in sync: {:?}",
        sim.synced
    );

    // CO upgrades (a restart: a new connection), and each side publishes while apart.
    sim.cut("MX", "CO");
    sim.nodes[co].predates_reconcile = false;
    let (mx2, _) = sim.publish("MX", &["CO", "MX"], alert("MX, apart"));
    let (co2, _) = sim.publish("CO", &["CO", "MX"], alert("CO, apart"));
    sim.traffic.clear();
    sim.connect("MX", "CO");
    assert!(sim.holds("CO", &mx2) && sim.holds("MX", &co2));
    assert!(reconciled(&sim));
    sim.assert_no_leaks();
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);
}

/// CO's reaction when MX names `feed` in its answer to CO's opening; CO holds `held`
/// (records of PE's feeds, received from PE).
fn reaction_to_a_named_feed(held: &[Record], feed: FeedId) -> Vec<Action> {
    let mut sim = Sim::new(&["MX", "CO", "PE"]);
    let bytes: Vec<Vec<u8>> = held.iter().map(Record::encode).collect();
    assert_eq!(sim.store_at("CO", "PE", &bytes).len(), held.len());
    sim.restart("CO");
    let mx = sim.node("MX").key;
    let opened = sim.at("CO", |rep, cx| rep.on_connected(mx, cx));
    let [Action::Send { request, .. }] = &opened[..] else {
        panic!("{opened:?}")
    };
    let Request::Digest {
        reconcile: Some(opening),
        ..
    } = request
    else {
        panic!("{request:?}")
    };
    // MX claims to hold `feed` at seq 5, and nothing else.
    let message = reconcile::Reconciler::new([(feed, 5)])
        .reply(opening)
        .expect("an opening")
        .next
        .expect("MX has something to say");
    sim.at("CO", |rep, cx| {
        rep.on_response(mx, request, Response::Reconcile { message }, cx)
    })
}

#[test]
fn a_feed_named_in_a_reconciliation_gets_the_same_reaction_held_but_not_shared_or_not_held() {
    // PE's feed for [PE, CO]: CO may not tell MX of it, nor take it from MX.
    let mut pe = Author::new("PE");
    let secret = pe.publish(&["PE", "CO"], alert("Between PE and CO"), NOW_MS);
    let held = reaction_to_a_named_feed(std::slice::from_ref(&secret), secret.header.feed);
    let not_held = reaction_to_a_named_feed(&[], secret.header.feed);
    assert_eq!(
        held, not_held,
        "CO's reaction tells MX whether it holds the feed"
    );
    // Both ask MX for the feed's head, which MX can only name honestly as PE's feed for
    // [PE, CO]: CO then takes nothing from MX.
    assert!(
        matches!(&held[..], [Action::Send { request: Request::HeadsOf { feeds }, .. }]
            if *feeds == [secret.header.feed]),
        "{held:?}"
    );
}
