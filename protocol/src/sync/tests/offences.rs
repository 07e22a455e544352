//! Offences: a peer that keeps answering nonsense is cut off, a refused page ends its fetch,
//! and an author's fork is held against the author, never against the honest relays that
//! carried it.

use super::*;

#[test]
fn a_peer_that_keeps_answering_nonsense_is_disconnected_and_refused() {
    let mut sim = Sim::new(&["MX", "CO"]);
    let (r, _) = sim.publish("CO", &["CO", "MX"], alert("One"));
    let fetch = Request::Fetch {
        feed: r.header.feed,
        from_seq: 1,
        max_records: 10,
        max_bytes: 1 << 20,
    };
    let co = key_of("CO").public();
    for _ in 1..OFFENCE_LIMIT {
        let acts = sim.at("MX", |rep, cx| {
            rep.on_response(co, &fetch, Response::InSync, cx)
        });
        assert_eq!(acts, []);
    }
    let acts = sim.at("MX", |rep, cx| {
        rep.on_response(co, &fetch, Response::InSync, cx)
    });
    let until_ms = NOW_MS + COOL_OFF_MS;
    assert_eq!(acts, [Action::Disconnect { peer: co, until_ms }]);
    assert!(sim.node("MX").rep.is_banned(&co, NOW_MS));
    assert_eq!(sim.at("MX", |rep, cx| rep.on_connected(co, cx)), []);
    assert!(denied(&sim.ask("MX", "CO", Request::Heads)));
    assert!(!sim.node("MX").rep.is_banned(&co, until_ms));
    sim.now_ms = until_ms;
    assert!(!denied(&sim.ask("MX", "CO", Request::Heads)));
}

#[test]
fn a_page_that_is_refused_ends_the_fetch_instead_of_asking_again() {
    let mut sim = Sim::new(&["MX", "CO"]);
    let (r, _) = sim.publish("CO", &["CO", "MX"], alert("One"));
    let co = key_of("CO").public();
    let acts = sim.at("MX", |rep, cx| rep.on_connected(co, cx));
    let [Action::Send { request: heads, .. }] = &acts[..] else {
        panic!("{acts:?}")
    };
    assert!(
        matches!(heads, Request::Digest { feeds: 0, .. }),
        "MX shares nothing with CO yet: {heads:?}"
    );
    let offered = Response::Heads {
        heads: vec![FeedHead::of(&r.header, 2)],
    };
    let acts = sim.at("MX", |rep, cx| rep.on_response(co, heads, offered, cx));
    let [Action::Send { request: fetch, .. }] = &acts[..] else {
        panic!("{acts:?}")
    };
    let garbage = Response::Records {
        records: vec![vec![1, 2, 3]],
        more: true,
    };
    let acts = sim.at("MX", |rep, cx| rep.on_response(co, fetch, garbage, cx));
    let [
        Action::Store { .. },
        Action::Send {
            request: next @ Request::Fetch { from_seq: 2, .. },
            ..
        },
    ] = &acts[..]
    else {
        panic!("the page is stored while the next one is fetched: {acts:?}")
    };
    assert_eq!(sim.node("MX").rep.fetches_in_flight(), 1);
    // The node refused the page and stored nothing.
    let acts = sim.at("MX", |rep, cx| {
        rep.on_stored(co, Some(r.header.feed), &[], cx)
    });
    assert_eq!(acts, [], "no further page, and no `Synced`");
    assert_eq!(sim.node("MX").rep.fetches_in_flight(), 0);
    // The page fetched ahead arrives after all: it is dropped, not stored.
    let late = Response::Records {
        records: vec![r.encode()],
        more: false,
    };
    let acts = sim.at("MX", |rep, cx| rep.on_response(co, next, late, cx));
    assert_eq!(acts, [], "a page of an ended fetch is dropped");
}

#[test]
fn an_authors_fork_does_not_make_honest_relays_ban_each_other() {
    // Rounds every 5 s, so a relay would collect enough offences to be cut off in a minute.
    let mut sim = Sim::with(&["MX", "CO", "PE"], |_| Config {
        interval_ms: 5_000,
        ..Config::default()
    });
    let audience = ["CO", "MX", "PE"];
    // MX signs two versions of seq 1: CO gets A1 then A2, PE gets B1.
    let mut a = Author::new("MX");
    let (a1, a2) = (
        a.publish(&audience, alert("Version A"), NOW_MS),
        a.publish(&audience, alert("Next in A"), NOW_MS + 1),
    );
    let b1 = Author::new("MX").publish(&audience, alert("Version B"), NOW_MS);
    let mx = key_of("MX").public();
    for (at, records) in [
        ("CO", vec![a1.encode(), a2.encode()]),
        ("PE", vec![b1.encode()]),
    ] {
        let stored = sim.store_at(at, "MX", &records);
        assert_eq!(stored.len(), records.len());
        sim.at(at, |rep, cx| rep.on_received(mx, None, &stored, &[], cx));
    }
    sim.connect("CO", "PE");
    for _ in 0..24 {
        sim.tick(5_000);
    }
    // PE fetched A2 from CO and found the fork ...
    assert!(
        sim.refused
            .iter()
            .any(|(at, from, why)| *at == "PE" && *from == "CO" && why.code() == "fork"),
        "the fork was never met: {:?}",
        sim.refused
    );
    // ... but CO only relayed what MX signed: they still exchange.
    assert!(
        sim.linked("CO", "PE"),
        "CO and PE cut each other off over MX's fork"
    );
}
