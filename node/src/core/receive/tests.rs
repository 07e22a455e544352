//! The intake: pages stored in the order they came, each reported once; a page checked
//! before a consent change that an earlier page brought is checked again; copies of held
//! records dropped unchecked; a flooding peer answered busy while a partner is served.

use std::{sync::Arc, time::Duration};

use tipx_protocol::{
    Body, Record,
    body::{Consent, ConsentAction},
    store::Source,
    testkit::{Author, NOW_MS, alert, key_of, roster, st, trusted},
};

use super::*;

/// MX's node, holding the roster (OAS, MX, CO) and MX <-> CO consents; and CO's author,
/// whose consent is the first of its control feed.
fn mx_node() -> (Arc<Node>, Author) {
    let store = crate::store::SledStore::temporary().expect("store");
    let mut co = Author::new("CO");
    let control = vec![
        Author::new("OAS").publish(
            &["*"],
            Body::Roster(roster(1, &["OAS", "MX", "CO"])),
            NOW_MS,
        ),
        Author::new("MX").publish(&["*"], consent("CO", ConsentAction::Grant), NOW_MS),
        co.publish(&["*"], consent("MX", ConsentAction::Grant), NOW_MS),
    ];
    store
        .insert(&trusted(&control), &Source::Local, NOW_MS)
        .expect("store works");
    let (node, _no_network) = Node::new(
        store,
        key_of("MX"),
        st("MX"),
        Some(key_of("OAS").public()),
        vec![],
        256 * 1024,
    )
    .expect("node");
    (Arc::new(node), co)
}

fn consent(partner: &str, action: ConsentAction) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action,
    })
}

/// Submits `pages` from CO at once; returns what each callback got, in callback order.
fn submit_all(node: &Arc<Node>, pages: Vec<Vec<Record>>) -> Vec<Received> {
    let intake = Intake::start(node.clone()).expect("threads start");
    let (tx, rx) = mpsc::channel();
    let n = pages.len();
    for (i, page) in pages.into_iter().enumerate() {
        let tx = tx.clone();
        let bytes = page.iter().map(Record::encode).collect();
        let taken = intake.submit(
            key_of("CO").public(),
            Kind::Fetched,
            bytes,
            Box::new(move |r| {
                let _ = tx.send((i, r.expect("store works")));
            }),
        );
        assert!(taken.is_ok(), "page {i} refused");
    }
    (0..n)
        .map(|k| {
            let (i, r) = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("every page is reported");
            assert_eq!(i, k, "pages are reported in the order they were submitted");
            r
        })
        .collect()
}

#[test]
fn pages_submitted_back_to_back_are_stored_in_order() {
    let (node, mut co) = mx_node();
    let feed: Vec<Record> = (0..1_000)
        .map(|i| co.publish(&["CO", "MX"], alert(&format!("No. {i}")), NOW_MS + i))
        .collect();
    let pages: Vec<Vec<Record>> = feed.chunks(128).map(<[Record]>::to_vec).collect();
    let received = submit_all(&node, pages);
    for (r, page) in received.iter().zip(feed.chunks(128)) {
        assert!(r.outcomes.iter().all(|o| *o == Ok(Inserted::Stored)));
        let ids: Vec<_> = r.stored.iter().map(|r| r.id).collect();
        let want: Vec<_> = page.iter().map(|r| r.id).collect();
        assert_eq!(ids, want);
    }
    let held: Vec<_> = node
        .store
        .feed_range(&feed[0].header.feed, 1, 2_000, usize::MAX)
        .expect("store works")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(held, feed.iter().map(|r| r.id).collect::<Vec<_>>());
}

/// The two stages driven by hand, in the order the pipeline allows but a fast storing
/// thread rarely shows: the alerts are checked while the revoke is still unstored (and
/// pass), then the revoke is stored, then the alerts are committed.
#[test]
fn a_page_checked_before_a_revoke_from_an_earlier_page_is_checked_again() {
    let (node, mut co) = mx_node();
    let revoke = co.publish(&["*"], consent("MX", ConsentAction::Revoke), NOW_MS + 1);
    let alerts: Vec<Record> = (0..200)
        .map(|i| co.publish(&["CO", "MX"], alert(&format!("No. {i}")), NOW_MS + 2 + i))
        .collect();
    let (revoke, alerts): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (
        vec![revoke.encode()],
        alerts.iter().map(Record::encode).collect(),
    );
    let from = key_of("CO").public();

    let alerts_checked = node.check(&alerts, from);
    assert!(
        alerts_checked
            .results
            .iter()
            .all(|r| matches!(r, Some(Ok(_)))),
        "checked before the revoke, the alerts pass: {:?}",
        alerts_checked
            .results
            .iter()
            .find(|r| !matches!(r, Some(Ok(_))))
    );
    let revoked = node
        .commit(node.check(&revoke, from), &revoke, from)
        .expect("store works");
    assert_eq!(revoked.outcomes, [Ok(Inserted::Stored)]);

    let received = node
        .commit(alerts_checked, &alerts, from)
        .expect("store works");
    assert!(
        received
            .outcomes
            .iter()
            .all(|o| matches!(o, Err(Rejection::SenderNotAllowed(_)))),
        "{:?}",
        received.outcomes.first()
    );
    assert!(received.stored.is_empty());
    assert_eq!(
        node.store.len().expect("store works"),
        4,
        "roster, 3 consents"
    );
}

/// A copy of a record already held is dropped before any signature work: even a copy with a
/// broken signature is a plain duplicate (the record held is the one that was verified).
#[test]
fn a_copy_of_a_held_record_is_dropped_before_its_signature_is_checked() {
    let (node, mut co) = mx_node();
    let from = key_of("CO").public();
    let a = co.publish(&["CO", "MX"], alert("Once"), NOW_MS + 1);
    let first = node.receive(&[a.encode()], from).expect("store works");
    assert_eq!(first.outcomes, [Ok(Inserted::Stored)]);
    let mut copy = a.clone();
    copy.signature[0] ^= 1;
    let again = node
        .receive(&[a.encode(), copy.encode()], from)
        .expect("store works");
    assert_eq!(
        again.outcomes,
        [Ok(Inserted::Duplicate), Ok(Inserted::Duplicate)],
        "a held record's copy went through validation"
    );
    // A record not held with the same broken signature is still refused.
    let b = co.publish(&["CO", "MX"], alert("Twice"), NOW_MS + 2);
    let mut forged = b.clone();
    forged.signature[0] ^= 1;
    let refused = node.receive(&[forged.encode()], from).expect("store works");
    assert_eq!(refused.outcomes, [Err(Rejection::BadSignature)]);
}

/// A member pushing pages faster than they are stored fills only its own queue: the pages
/// beyond [`MAX_QUEUED_PER_PEER`] are answered busy at once, and a partner's page submitted
/// after the flood is stored within the next few pages, not after the whole flood.
#[test]
fn a_flooding_peer_is_answered_busy_and_a_partner_is_served_in_turn() {
    let (node, mut co) = mx_node();
    let held: Vec<Record> = (0..200)
        .map(|i| co.publish(&["CO", "MX"], alert(&format!("No. {i}")), NOW_MS + 1 + i))
        .collect();
    let co_key = key_of("CO").public();
    node.receive(&held.iter().map(Record::encode).collect::<Vec<_>>(), co_key)
        .expect("store works");
    let partner_page = vec![
        co.publish(&["CO", "MX"], alert("Fresh"), NOW_MS + 500)
            .encode(),
    ];

    let intake = Intake::start(node.clone()).expect("threads start");
    let (tx, rx) = mpsc::channel();
    let flooder = key_of("OAS").public();
    let flood = 40;
    // The first flooding page, once stored, holds the storing thread until the whole flood
    // and the partner's page are submitted: nothing drains meanwhile, whatever the timing.
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Mutex::new(Some(released));
    for i in 0..flood {
        let tx = tx.clone();
        let copies = held.iter().map(Record::encode).collect();
        let hold = (i == 0).then(|| released.lock().unwrap().take().unwrap());
        let taken = intake.submit(
            flooder,
            Kind::Pushed,
            copies,
            Box::new(move |r| {
                if let Some(hold) = hold {
                    let _ = hold.recv_timeout(Duration::from_secs(30));
                }
                let _ = tx.send(("flood", r.is_ok()));
            }),
        );
        if let Err((e, done)) = taken {
            assert!(matches!(e, Error::Busy), "{e}");
            done(Err(e));
        }
    }
    let marker = tx.clone();
    let taken = intake.submit(
        co_key,
        Kind::Fetched,
        partner_page,
        Box::new(move |r| {
            let _ = tx.send(("partner", r.expect("store works").stored.len() == 1));
        }),
    );
    assert!(taken.is_ok(), "the partner's page was refused");
    let _ = marker.send(("partner submitted", false));
    release.send(()).expect("the first page is held");
    let done: Vec<(&str, bool)> = (0..=flood + 1)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("every page is answered")
        })
        .collect();
    let busy = done
        .iter()
        .filter(|(who, ok)| *who == "flood" && !ok)
        .count();
    assert!(
        busy >= flood - MAX_QUEUED_PER_PEER - 3,
        "only {busy} of {flood} flooding pages were answered busy"
    );
    // Once the partner's page is queued, at most the flooding pages held in the pipeline
    // (being stored, waiting to be stored, being checked) and the one whose turn came first
    // go before it.
    let after: Vec<&str> = done
        .iter()
        .skip_while(|(who, _)| *who != "partner submitted")
        .filter(|(who, ok)| *ok || *who == "partner")
        .map(|(who, _)| *who)
        .collect();
    let partner_at = after
        .iter()
        .position(|who| *who == "partner")
        .expect("the partner's page was stored");
    assert!(
        partner_at <= 4,
        "the partner's page was stored after {partner_at} flooding pages queued before it: {after:?}"
    );
}

/// A record dated a day ahead of this node's clock is refused, and `status` tells the
/// operator to look at the clocks.
#[test]
fn records_from_the_future_are_refused_and_the_operator_is_told_to_check_the_clock() {
    let (node, mut co) = mx_node();
    let from = key_of("CO").public();
    let tomorrow = now_ms() + 86_400_000;
    let r = co.publish(&["CO", "MX"], alert("Dated tomorrow"), tomorrow);
    let received = node.receive(&[r.encode()], from).expect("store works");
    assert!(
        matches!(
            received.outcomes[..],
            [Err(Rejection::FromTheFuture { .. })]
        ),
        "{:?}",
        received.outcomes
    );
    let warnings = node.status().expect("status").warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("ahead of this node's clock (up to 2")),
        "{warnings:?}"
    );
}
