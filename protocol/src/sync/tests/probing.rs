//! A partner probing what a node holds. Feed ids are public (sha256 of an author's key and
//! an audience), so a member can name any feed to a node and watch what it does: whether it
//! fetches, and from which seq. A node's behaviour towards a peer must be the same whether
//! it holds a feed it does not share with that peer or does not hold it, and no message may
//! carry a seq of a feed to a peer outside its audience or consent.

use super::consent;
use crate::{
    Record,
    body::ConsentAction,
    membership::ConsentState,
    sync::{sim::*, *},
    testkit::{Author, NOW_MS, alert, key_of, st},
};

/// The head `r`'s feed would have at `seq`, as a peer names it.
fn head(r: &Record, seq: u64) -> FeedHead {
    FeedHead::of(&r.header, seq)
}

/// MX, CO and PE, partners of each other; when `held`, CO holds MX's alert for [CO, MX]
/// (which CO does not share with PE), else CO has never seen it. CO and PE are connected.
fn federation(held: bool) -> (Sim, Record) {
    let mut sim = Sim::new(&["MX", "CO", "PE"]);
    let (alert, _) = sim.publish("MX", &["CO", "MX"], alert("For CO only"));
    if held {
        sim.connect("MX", "CO");
        assert!(sim.holds("CO", &alert));
    }
    sim.connect("CO", "PE");
    (sim, alert)
}

/// What CO does when PE names `h`: in an announce, and in its answer to CO's heads request.
fn reaction(sim: &mut Sim, h: FeedHead) -> (Handled, Vec<Action>) {
    let announced = sim.ask(
        "CO",
        "PE",
        Request::Announce {
            heads: vec![h.clone()],
        },
    );
    let pe = sim.node("PE").key;
    let listed = sim.at("CO", |rep, cx| {
        rep.on_response(pe, &Request::Heads, Response::Heads { heads: vec![h] }, cx)
    });
    (announced, listed)
}

#[test]
fn a_partner_cannot_tell_whether_a_node_holds_a_feed_it_does_not_share_with_it() {
    let (mut holding, alert) = federation(true);
    let (mut lacking, _) = federation(false);
    let probe = head(&alert, 5);
    let seen_holding = reaction(&mut holding, probe.clone());
    let seen_lacking = reaction(&mut lacking, probe);
    assert_eq!(
        format!("{seen_holding:?}"),
        format!("{seen_lacking:?}"),
        "PE can tell whether CO holds MX's feed for [CO, MX]"
    );
    assert!(seen_lacking.0.actions.is_empty() && seen_lacking.1.is_empty());
    for sim in [&holding, &lacking] {
        assert_eq!(sim.node("CO").rep.fetches_in_flight(), 0);
    }
}

#[test]
fn a_head_whose_feed_id_does_not_match_its_author_and_audience_is_ignored() {
    // PE names MX's feed for [CO, MX] but claims an audience it is in.
    let (mut sim, alert) = federation(false);
    let shared = Author::new("MX").publish(&["CO", "MX", "PE"], super::alert("x"), NOW_MS);
    let mut lie = head(&shared, 5);
    lie.feed = alert.header.feed;
    let (announced, listed) = reaction(&mut sim, lie);
    assert!(announced.actions.is_empty(), "{:?}", announced.actions);
    assert!(listed.is_empty(), "{listed:?}");
    // Control: the true head of the shared feed is fetched.
    let (announced, _) = reaction(&mut sim, head(&shared, 5));
    assert!(
        matches!(
            &announced.actions[..],
            [Action::Send { request: Request::Fetch { feed, from_seq: 1, .. }, .. }]
                if *feed == shared.header.feed
        ),
        "{:?}",
        announced.actions
    );
}

#[test]
fn a_fetch_waiting_its_turn_is_not_sent_once_consent_is_withdrawn() {
    // PE announces six feeds CO may take from it: four fetches start, two wait. Then CO
    // revokes its consent to PE; when a fetch ends, the waiting ones must not go to PE.
    let (mut sim, _) = federation(false);
    let feeds: Vec<Record> = [
        ("MX", &["CO", "PE"][..]),
        ("MX", &["CO", "MX", "PE"]),
        ("MX", &["BR", "CO", "PE"]),
        ("PE", &["CO", "PE"]),
        ("PE", &["CO", "MX", "PE"]),
        ("PE", &["BR", "CO", "PE"]),
    ]
    .into_iter()
    .map(|(author, audience)| Author::new(author).publish(audience, alert("x"), NOW_MS))
    .collect();
    let heads = feeds.iter().map(|r| head(r, 3)).collect();
    let handled = sim.ask("CO", "PE", Request::Announce { heads });
    let fetches: Vec<&Request> = handled
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(fetches.len(), MAX_FETCHES_PER_PEER, "{fetches:?}");
    let first = fetches[0].clone();

    let co = sim.idx("CO");
    sim.nodes[co].membership.apply_consent(
        st("CO"),
        st("PE"),
        ConsentState {
            action: ConsentAction::Revoke,
            at_ms: NOW_MS + 1,
        },
    );
    let pe = key_of("PE").public();
    let after = sim.at("CO", |rep, cx| {
        let done = Response::Records {
            records: vec![],
            more: false,
        };
        rep.on_response(pe, &first, done, cx)
    });
    assert!(
        !after
            .iter()
            .any(|a| matches!(a, Action::Send { peer, .. } if *peer == pe)),
        "CO still asks PE after revoking: {after:?}"
    );
}

#[test]
fn an_announce_from_a_state_that_is_not_a_partner_is_ignored() {
    // BR is a member but nobody's partner: what it announces must not make MX fetch (a
    // fetch, or its absence, would tell BR which feeds MX holds).
    let mut sim = Sim::new(&["MX", "BR"]);
    let unknown = Author::new("CO").publish(&["CO", "MX"], alert("Not BR's to tell"), NOW_MS);
    let (held, _) = sim.publish("MX", &["CO", "MX"], alert("MX holds this"));
    for r in [&unknown, &held] {
        let announce = Request::Announce {
            heads: vec![FeedHead::of(&r.header, 9)],
        };
        let handled = sim.ask("MX", "BR", announce);
        assert_eq!(handled.reply, Reply::Respond(Response::ack(0, 0)));
        assert!(
            handled.actions.is_empty(),
            "MX acted on BR's announce: {:?}",
            handled.actions
        );
    }
    assert_eq!(sim.node("MX").rep.fetches_in_flight(), 0);
    // Control: a federation feed (BR's consents), which every member holds, is taken from
    // anyone.
    let grant = Author::new("BR").publish(&["*"], consent("MX", ConsentAction::Grant), NOW_MS);
    let consents = grant.header.feed;
    let announce = Request::Announce {
        heads: vec![FeedHead::of(&grant.header, 1)],
    };
    let handled = sim.ask("MX", "BR", announce);
    assert!(
        matches!(
            &handled.actions[..],
            [Action::Send { request: Request::Fetch { feed, .. }, .. }] if *feed == consents
        ),
        "{:?}",
        handled.actions
    );
}
