//! Replication between simulated nodes ([`super::sim`]): what two nodes in sync say to each
//! other, how a backlog moves, what a node never tells a peer, how consents spread and how
//! revoking one stops the exchange, relaying through a partner, and offences.
//!
//! The federation: OAS, MX, CO, PE, BR; MX, CO and PE are partners of each other, BR is a
//! member but nobody's partner.

mod channels;
mod lossy;
mod offences;
mod probing;
mod reconciling;
mod scale;

use super::{sim::*, *};
use crate::{
    Record,
    body::{Body, Consent, ConsentAction},
    membership::Membership,
    store::{FeedInfo, Store},
    testkit::{Author, NOW_MS, alert, key_of, st, trusted},
};

fn consent(partner: &str, action: ConsentAction) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action,
    })
}

/// The messages `from` sent `to`.
fn sent<'a>(sim: &'a Sim, from: &str, to: &str) -> Vec<&'a Msg> {
    sim.traffic
        .iter()
        .filter(|s| s.from == from && s.to == to)
        .map(|s| &s.msg)
        .collect()
}

/// The record pages `from` sent `to`.
fn pages(sim: &Sim, from: &str, to: &str) -> Vec<Vec<Vec<u8>>> {
    sent(sim, from, to)
        .into_iter()
        .filter_map(|m| match m {
            Msg::Response(Response::Records { records, .. }) => Some(records.clone()),
            _ => None,
        })
        .collect()
}

fn names(sim: &Sim) -> Vec<(&'static str, &'static str, &'static str)> {
    sim.traffic
        .iter()
        .map(|s| {
            let name = match &s.msg {
                Msg::Request(r) => r.name(),
                Msg::Response(r) => r.name(),
            };
            (s.from, s.to, name)
        })
        .collect()
}

fn info_at(sim: &Sim, code: &str, r: &Record) -> FeedInfo {
    let feeds = sim.node(code).store.feeds().expect("memory");
    feeds
        .into_iter()
        .find(|f| f.feed == r.header.feed)
        .expect("feed held")
}

fn denied(h: &Handled) -> bool {
    matches!(h.reply, Reply::Respond(Response::Denied { .. }))
}

#[test]
fn nodes_in_sync_exchange_one_small_digest_each_way_and_nothing_else() {
    let mut sim = Sim::new(&["MX", "CO"]);
    for i in 0..3 {
        sim.publish("MX", &["CO", "MX"], alert(&format!("MX {i}")));
    }
    for i in 0..2 {
        sim.publish("CO", &["CO", "MX"], alert(&format!("CO {i}")));
    }
    sim.publish("MX", &["*"], consent("CO", ConsentAction::Grant));
    sim.connect("MX", "CO");
    assert_eq!(sim.node("MX").store.len(), Ok(6));
    assert_eq!(sim.node("CO").store.len(), Ok(6));

    sim.traffic.clear();
    sim.synced.clear();
    sim.tick(DEFAULT_INTERVAL_MS);
    assert_eq!(
        names(&sim),
        [
            ("MX", "CO", "digest"),
            ("CO", "MX", "digest"),
            ("CO", "MX", "reconcile"),
            ("MX", "CO", "reconcile"),
        ]
    );
    // The digest carries only the channels and the reconciliation's opening (salt and one
    // fingerprint); the answer is a reconciliation message that says nothing.
    let sizes: Vec<usize> = sim.traffic.iter().map(|s| s.bytes).collect();
    assert_eq!(sizes, [41, 41, 5, 5], "{:?}", sim.traffic);
    assert_eq!(sim.synced, [("MX", "CO"), ("CO", "MX")]);
    sim.assert_no_leaks();
}

#[test]
fn a_backlog_of_500_records_moves_in_pages_bounded_by_count_and_by_bytes() {
    let mut sim = Sim::with(&["MX", "CO", "PE"], |code| match code {
        "MX" => Config {
            page_records: 50,
            ..Config::default()
        },
        "PE" => Config {
            page_bytes: 4096,
            ..Config::default()
        },
        _ => Config::default(),
    });
    let feed: Vec<Record> = (0..500)
        .map(|i| {
            sim.publish("CO", &["CO", "MX", "PE"], alert(&format!("No. {i}")))
                .0
        })
        .collect();
    let id = feed[0].header.feed;
    let ids = |rs: Vec<Record>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();

    sim.connect("MX", "CO");
    let by_count = pages(&sim, "CO", "MX");
    assert_eq!(by_count.len(), 10);
    assert!(by_count.iter().all(|p| p.len() == 50));
    assert_eq!(ids(sim.feed_at("MX", &id)), ids(feed.clone()));

    sim.connect("PE", "CO");
    let by_bytes = pages(&sim, "CO", "PE");
    assert!(by_bytes.len() > 20, "{} pages", by_bytes.len());
    for p in &by_bytes {
        let bytes: usize = p.iter().map(Vec::len).sum();
        assert!(bytes <= 4096, "a page of {bytes} bytes");
    }
    let at_pe = sim.feed_at("PE", &id);
    let seqs: Vec<u64> = at_pe.iter().map(|r| r.header.seq).collect();
    assert_eq!(seqs, (1..=500).collect::<Vec<_>>());
    assert_eq!(ids(at_pe), ids(feed));
    sim.assert_no_leaks();
}

#[test]
fn the_next_page_is_fetched_while_the_node_stores_the_last_ones_and_no_further_ahead() {
    let mut sim = Sim::with(&["MX", "CO"], |code| match code {
        "MX" => Config {
            page_records: 2,
            ..Config::default()
        },
        _ => Config::default(),
    });
    let feed: Vec<Record> = (0..11)
        .map(|i| {
            sim.publish("CO", &["CO", "MX"], alert(&format!("No. {i}")))
                .0
        })
        .collect();
    let id = feed[0].header.feed;
    let co = key_of("CO").public();
    let mut requests: Vec<Request> = Vec::new();
    let mut waiting: std::collections::VecDeque<Vec<Vec<u8>>> = Default::default();
    let take = |acts: Vec<Action>,
                requests: &mut Vec<Request>,
                waiting: &mut std::collections::VecDeque<_>| {
        for a in acts {
            match a {
                Action::Send { request, .. } => requests.push(request),
                Action::Store { feed, records, .. } => {
                    assert_eq!(feed, id);
                    waiting.push_back(records);
                }
                Action::Synced { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    };
    let acts = sim.at("MX", |rep, cx| rep.on_connected(co, cx));
    take(acts, &mut requests, &mut waiting);
    let mut most_waiting = 0;
    // Answer every request at once; store a page only when nothing else can happen.
    loop {
        assert!(
            requests
                .iter()
                .filter(|r| matches!(r, Request::Fetch { .. }))
                .count()
                <= 1,
            "one fetch of the feed at a time: {requests:?}"
        );
        most_waiting = most_waiting.max(waiting.len());
        if let Some(request) = requests.pop() {
            let Reply::Respond(response) = sim.ask("CO", "MX", request.clone()).reply else {
                panic!("an answer")
            };
            let acts = sim.at("MX", |rep, cx| rep.on_response(co, &request, response, cx));
            take(acts, &mut requests, &mut waiting);
        } else if let Some(page) = waiting.pop_front() {
            let stored = sim.store_at("MX", "CO", &page);
            let acts = sim.at("MX", |rep, cx| rep.on_stored(co, Some(id), &stored, cx));
            take(acts, &mut requests, &mut waiting);
        } else {
            break;
        }
    }
    assert_eq!(
        most_waiting,
        session::PAGES_AHEAD + 1,
        "pages wait to be stored while the next is fetched, up to a bound"
    );
    let ids = |rs: Vec<Record>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(sim.feed_at("MX", &id)), ids(feed));
    assert_eq!(sim.node("MX").rep.fetches_in_flight(), 0);
}

#[test]
fn a_node_never_mentions_a_feed_to_a_peer_outside_its_audience_or_consent() {
    let mut sim = Sim::new(&["MX", "CO", "PE", "BR"]);
    for peer in ["CO", "PE", "BR"] {
        sim.connect("MX", peer);
    }
    let (co_secret, _) = sim.publish("CO", &["CO", "MX"], alert("CO to MX only"));
    let (mx_secret, _) = sim.publish("MX", &["CO", "MX"], alert("MX to CO only"));
    let (for_pe, _) = sim.publish("MX", &["MX", "PE"], alert("For PE"));
    let (for_br, _) = sim.publish("MX", &["BR", "MX"], alert("BR never agreed"));
    let (grant, _) = sim.publish("MX", &["*"], consent("BR", ConsentAction::Grant));
    sim.run();
    sim.tick(DEFAULT_INTERVAL_MS);

    for r in [&co_secret, &mx_secret, &for_pe, &for_br, &grant] {
        assert!(sim.holds("MX", r));
    }
    assert!(sim.holds("PE", &for_pe) && sim.holds("PE", &grant));
    for r in [&co_secret, &mx_secret, &for_br] {
        assert!(!sim.holds("PE", r) && !sim.holds("BR", r));
    }
    assert_eq!(
        sim.node("BR").store.len(),
        Ok(1),
        "BR holds only the consent"
    );
    sim.assert_no_leaks();
    for s in sim.traffic.iter().filter(|s| s.to == "BR") {
        let (feeds, _) = Sim::mentioned(&s.msg);
        assert!(feeds.iter().all(|f| *f == grant.header.feed), "{:?}", s.msg);
    }

    // The digest MX gives PE, and the reconciliation it opens, cover exactly the feeds it
    // shares with PE.
    let shared = [(for_pe.header.feed, 1), (grant.header.feed, 1)];
    let digests: Vec<_> = sent(&sim, "MX", "PE")
        .into_iter()
        .filter_map(|m| match m {
            Msg::Request(Request::Digest {
                digest, reconcile, ..
            }) => Some((*digest, reconcile.clone().expect("version 2"))),
            _ => None,
        })
        .collect();
    let (last, opening) = digests.last().expect("a digest");
    assert!(last.is_none(), "PE is known to speak version 2");
    let salt = opening.salt.expect("an opening");
    assert_eq!(*opening, reconcile::Reconciler::new(shared).initiate(salt));
    let first = digests
        .iter()
        .find_map(|(d, _)| *d)
        .expect("the first digest");
    assert_ne!(
        first,
        digest(shared),
        "the first digest was sent before the records"
    );

    // Asking by feed id gets the same denial as asking for a feed that does not exist.
    let fetch = |feed| Request::Fetch {
        feed,
        from_seq: 1,
        max_records: 10,
        max_bytes: 1 << 20,
    };
    let asked = sim.ask("MX", "PE", fetch(co_secret.header.feed));
    let unknown = sim.ask("MX", "PE", fetch(FeedId([7; 32])));
    assert!(denied(&asked));
    assert_eq!(asked, unknown);
    let mut to_pe = vec![
        FeedHead::of(&for_pe.header, 1),
        FeedHead::of(&grant.header, 1),
    ];
    to_pe.sort_by_key(|h| h.feed);
    assert_eq!(
        sim.ask("MX", "PE", Request::Heads).reply,
        Reply::Respond(Response::Heads { heads: to_pe })
    );

    // BR is in the audience of `for_br`, but without consent it gets only federation feeds,
    // and what it pushes for a states feed is refused before validation.
    assert!(denied(&sim.ask("MX", "BR", fetch(for_br.header.feed))));
    let unasked = Author::new("BR").publish(&["BR", "MX"], alert("Unasked"), NOW_MS);
    let push = |r: &Record| Request::Push {
        records: vec![r.encode()],
    };
    assert!(denied(&sim.ask("MX", "BR", push(&unasked))));
    let from_br = Author::new("BR").publish(&["*"], consent("MX", ConsentAction::Grant), NOW_MS);
    assert!(matches!(
        sim.ask("MX", "BR", push(&from_br)).reply,
        Reply::StoreThenAck { .. }
    ));
    assert_eq!(
        sim.ask("MX", "BR", Request::Heads).reply,
        Reply::Respond(Response::Heads {
            heads: vec![FeedHead::of(&grant.header, 1)]
        })
    );
}

#[test]
fn consents_reach_every_roster_member_through_the_coordinator() {
    let mut sim = Sim::new(STATES);
    for c in ["MX", "CO", "PE", "BR"] {
        sim.connect("OAS", c);
    }
    sim.traffic.clear();
    let (grant, acts) = sim.publish("MX", &["*"], consent("BR", ConsentAction::Grant));
    assert!(matches!(
        &acts[..],
        [Action::Send { peer, request: Request::Push { .. } }] if *peer == key_of("OAS").public()
    ));
    sim.run();
    for c in STATES {
        assert!(sim.holds(c, &grant), "{c}");
    }
    for c in ["CO", "PE", "BR"] {
        let told = sent(&sim, "OAS", c);
        assert!(
            told.iter()
                .any(|m| matches!(m, Msg::Request(Request::Announce { .. })))
        );
        assert!(
            sent(&sim, c, "OAS")
                .iter()
                .any(|m| matches!(m, Msg::Request(Request::Fetch { .. })))
        );
    }
    let br = &sim.node("BR").membership;
    assert_eq!(
        br.consent(st("MX"), st("BR")).map(|c| c.action),
        Some(ConsentAction::Grant)
    );
    sim.assert_no_leaks();
}

#[test]
fn after_a_revoke_nothing_moves_between_the_two_states_either_way() {
    let mut sim = Sim::new(&["MX", "CO"]);
    sim.connect("MX", "CO");
    let (before, _) = sim.publish("CO", &["CO", "MX"], alert("Before"));
    let (mx_before, _) = sim.publish("MX", &["CO", "MX"], alert("MX before"));
    sim.run();
    assert!(sim.holds("MX", &before) && sim.holds("CO", &mx_before));
    let (co_feed, mx_feed) = (
        info_at(&sim, "MX", &before),
        info_at(&sim, "CO", &mx_before),
    );
    let shares_both = |sim: &Sim| {
        let (mx, co): (&Membership, &Membership) =
            (&sim.node("MX").membership, &sim.node("CO").membership);
        [
            shares(co, st("CO"), st("MX"), &co_feed),
            shares(co, st("CO"), st("MX"), &mx_feed),
            shares(mx, st("MX"), st("CO"), &co_feed),
            shares(mx, st("MX"), st("CO"), &mx_feed),
        ]
    };
    assert_eq!(shares_both(&sim), [true; 4]);

    sim.now_ms += 1000;
    let (revoke, _) = sim.publish("CO", &["*"], consent("MX", ConsentAction::Revoke));
    sim.run();
    assert!(
        sim.holds("MX", &revoke),
        "a revoke travels like any consent"
    );
    assert_eq!(shares_both(&sim), [false; 4]);

    let (after, acts) = sim.publish("CO", &["CO", "MX"], alert("After"));
    assert_eq!(acts, []);
    let (mx_after, acts) = sim.publish("MX", &["CO", "MX"], alert("MX after"));
    assert_eq!(acts, []);
    sim.run();
    sim.tick(DEFAULT_INTERVAL_MS);
    assert!(!sim.holds("MX", &after) && !sim.holds("CO", &mx_after));
    let fetch = Request::Fetch {
        feed: after.header.feed,
        from_seq: 1,
        max_records: 10,
        max_bytes: 1 << 20,
    };
    assert!(denied(&sim.ask("CO", "MX", fetch)));
    sim.assert_no_leaks();
}

#[test]
fn a_partner_relays_by_announcing_and_the_third_node_fetches_from_it() {
    let mut sim = Sim::new(&["MX", "CO", "PE"]);
    sim.connect("MX", "CO");
    sim.connect("CO", "PE");
    sim.traffic.clear();
    let (r, acts) = sim.publish("MX", &["CO", "MX", "PE"], alert("Relayed"));
    assert_eq!(acts.len(), 1, "MX pushes only to CO: {acts:?}");
    sim.run();
    assert!(sim.holds("CO", &r) && sim.holds("PE", &r));
    assert_eq!(
        names(&sim),
        [
            ("MX", "CO", "push"),
            ("CO", "PE", "announce"),
            ("CO", "MX", "ack"),
            ("PE", "CO", "fetch"),
            ("PE", "CO", "ack"),
            ("CO", "PE", "records"),
        ]
    );
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);
    sim.assert_no_leaks();
}

#[test]
fn a_push_that_skips_ahead_makes_the_receiver_fetch_the_gap_from_the_pusher() {
    let mut sim = Sim::new(&["MX", "CO"]);
    let (first, _) = sim.publish("MX", &["CO", "MX"], alert("One"));
    sim.connect("MX", "CO");
    // CO missed nothing yet; now it misses seq 2 and is pushed seq 3 directly.
    let at_mx = sim.idx("MX");
    let mx = &mut sim.nodes[at_mx].author;
    let second = mx.publish(&["CO", "MX"], alert("Two"), NOW_MS);
    let third = mx.publish(&["CO", "MX"], alert("Three"), NOW_MS);
    let _ = (&first, &second);
    // MX holds 2 and 3 without having pushed them.
    for r in [&second, &third] {
        let n = &sim.nodes[at_mx];
        let out = n.store.insert(
            &trusted(std::slice::from_ref(r)),
            &crate::store::Source::Local,
            NOW_MS,
        );
        assert_eq!(out, Ok(vec![crate::store::Inserted::Stored]));
    }
    let push = Request::Push {
        records: vec![third.encode()],
    };
    let handled = sim.ask("CO", "MX", push);
    assert!(matches!(handled.reply, Reply::StoreThenAck { .. }));
    assert_eq!(
        handled.actions,
        [],
        "the fetch waits for the push to be stored"
    );
    let peer = key_of("MX").public();
    let acts = sim.at("CO", |rep, cx| rep.on_stored(peer, None, &[], cx));
    assert_eq!(
        acts,
        [Action::Send {
            peer,
            request: Request::Fetch {
                feed: third.header.feed,
                from_seq: 2,
                max_records: DEFAULT_PAGE_RECORDS,
                max_bytes: DEFAULT_PAGE_BYTES,
            }
        }]
    );
}

#[test]
fn a_node_without_a_roster_fetches_the_roster_first_from_the_coordinator() {
    let oas = key_of("OAS").public();
    let m = Membership::new(key_of("BR").public(), st("BR"), Some(oas));
    let cx = Context {
        membership: &m,
        now_ms: NOW_MS,
        salt: [1; 16],
    };
    let mut rep = Replicator::new(Config::default(), []);
    let acts = rep.on_connected(oas, &cx);
    let [
        Action::Send {
            peer,
            request: asked @ Request::Digest { feeds: 0, .. },
        },
    ] = &acts[..]
    else {
        panic!("{acts:?}")
    };
    assert_eq!(*peer, oas);
    let other = Author::new("MX").publish(&["MX", "PE"], alert("Not yet"), NOW_MS);
    let heads = vec![
        FeedHead::of(&other.header, 4),
        FeedHead {
            feed: m.roster_feed(),
            seq: 2,
            author: m.anchor_key(),
            audience: crate::Audience::Federation,
            channel: crate::Channel::Main,
        },
    ];
    let acts = rep.on_response(oas, asked, Response::Heads { heads }, &cx);
    assert_eq!(acts.len(), 1);
    assert!(matches!(
        &acts[0],
        Action::Send { request: Request::Fetch { feed, from_seq: 1, .. }, .. }
            if *feed == m.roster_feed()
    ));
}

#[test]
fn a_push_is_recognised_from_its_first_byte_and_no_other_request_is() {
    let push = Request::Push {
        records: vec![vec![1; 300]; 3],
    };
    assert!(Request::looks_like_push(&push.encode()));
    for other in [
        Request::Heads,
        Request::Digest {
            digest: Some([7; 32]),
            feeds: 3,
            channels: crate::Channels::KNOWN,
            reconcile: None,
        },
        Request::Digest {
            digest: None,
            feeds: 0,
            channels: crate::Channels::KNOWN,
            reconcile: Some(reconcile::Reconciler::new([]).initiate([1; 16])),
        },
        Request::Announce { heads: vec![] },
    ] {
        assert!(!Request::looks_like_push(&other.encode()), "{other:?}");
    }
}

#[test]
fn a_partner_whose_clock_is_a_day_ahead_is_not_cut_off_and_its_records_arrive_when_time_catches_up()
{
    // MX's clock is a day ahead: what it publishes is dated tomorrow, more than the five
    // minutes of skew CO accepts. Neither node can tell whose clock is wrong, so CO refuses
    // the records (not an offence) and keeps exchanging; they arrive once their time comes.
    const DAY_MS: u64 = 86_400_000;
    let mut sim = Sim::with(&["MX", "CO"], |_| Config {
        interval_ms: 5_000,
        ..Config::default()
    });
    sim.set_clock("MX", DAY_MS as i64);
    sim.connect("MX", "CO");
    let ahead: Vec<Record> = (0..8)
        .map(|i| {
            sim.publish("MX", &["CO", "MX"], alert(&format!("Dated tomorrow {i}")))
                .0
        })
        .collect();
    sim.run();
    for _ in 0..24 {
        sim.tick(5_000);
    }
    assert!(
        sim.refused
            .iter()
            .any(|(at, _, why)| *at == "CO" && why.code() == "future-timestamp"),
        "CO never met a record from the future: {:?}",
        sim.refused
    );
    assert!(sim.linked("MX", "CO"), "CO cut MX off over its clock");
    assert!(ahead.iter().all(|r| !sim.holds("CO", r)));

    for _ in 0..25 {
        sim.tick(DAY_MS / 24);
    }
    assert!(
        ahead.iter().all(|r| sim.holds("CO", r)),
        "the records never arrived once their time came"
    );
}
