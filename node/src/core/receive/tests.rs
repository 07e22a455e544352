//! The intake: pages stored in the order they came, each reported once; a page checked
//! before a consent change that an earlier page brought is checked again.

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
        intake.submit(
            key_of("CO").public(),
            bytes,
            Box::new(move |r| {
                let _ = tx.send((i, r.expect("store works")));
            }),
        );
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
        alerts_checked.results.iter().all(Result::is_ok),
        "checked before the revoke, the alerts pass: {:?}",
        alerts_checked.results.iter().find(|r| r.is_err())
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
