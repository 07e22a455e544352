//! The test suite every [`Store`] must pass. Run it against a store with
//! [`crate::store_conformance!`], which writes one `#[test]` per case.

use crate::{
    Origin, Record, Store,
    body::{Body, Consent, ConsentAction, Retraction},
    record::Kind,
    store::{AuditEvent, Index, Inserted, Source},
    testkit::{Author, NOW_MS, alert, best_practice, membership, roster, st},
    validate::{Context, Rejection, Verified, validate},
};

/// Validates records as MX would receive them from their authors (MX, CO, PE are partners).
fn verified(records: &[Record]) -> Vec<Verified> {
    let m = membership(
        "MX",
        &["OAS", "MX", "CO", "PE"],
        &[("MX", "CO"), ("MX", "PE"), ("CO", "PE")],
    );
    let cx = Context {
        local_state: st("MX"),
        now_ms: NOW_MS,
        max_record_bytes: 256 * 1024,
        membership: &m,
    };
    records
        .iter()
        .map(|r| {
            let origin = if r.header.author_state == st("MX") {
                Origin::Local
            } else {
                Origin::Peer(r.header.author)
            };
            validate(r.clone(), origin, &cx).expect("fixture records are valid")
        })
        .collect()
}

fn insert<S: Store>(s: &S, records: &[Record]) -> Vec<Inserted> {
    s.insert(
        &verified(records),
        &Source::Peer("12D3KooWtest".into()),
        NOW_MS,
    )
    .expect("store works")
}

/// Stored records come back byte for byte, and the feed head advances.
pub fn stores_and_returns_records<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let a = co.publish(&["CO", "MX"], alert("one"), NOW_MS);
    let b = co.publish(&["CO", "MX"], alert("two"), NOW_MS + 1);
    assert_eq!(
        insert(s, &[a.clone(), b.clone()]),
        vec![Inserted::Stored, Inserted::Stored]
    );
    assert_eq!(s.get(&a.id).unwrap().as_ref(), Some(&a));
    assert_eq!(s.get(&b.id).unwrap().unwrap().encode(), b.encode());
    assert_eq!(s.head(&a.header.feed).unwrap().unwrap().seq, 2);
    assert_eq!(s.len().unwrap(), 2);
    assert_eq!(s.feeds().unwrap().len(), 1);
}

/// A record held already changes nothing.
pub fn duplicates_change_nothing<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let a = co.publish(&["CO", "MX"], alert("one"), NOW_MS);
    insert(s, std::slice::from_ref(&a));
    assert_eq!(
        insert(s, std::slice::from_ref(&a)),
        vec![Inserted::Duplicate]
    );
    assert_eq!(s.len().unwrap(), 1);
}

/// A record whose predecessors are missing is refused and not stored.
pub fn gaps_are_refused<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let _first = co.publish(&["CO", "MX"], alert("one"), NOW_MS);
    let second = co.publish(&["CO", "MX"], alert("two"), NOW_MS);
    assert_eq!(
        insert(s, &[second]),
        vec![Inserted::Refused(Rejection::Gap { have: 0, got: 2 })]
    );
    assert_eq!(s.len().unwrap(), 0);
}

/// Two records for one position: the second is refused, the first stays, evidence is kept.
pub fn forks_keep_evidence<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let first = co.publish(&["CO", "MX"], alert("one"), NOW_MS);
    let mut other = Author::new("CO");
    let rival = other.publish(&["CO", "MX"], alert("another one"), NOW_MS);
    insert(s, std::slice::from_ref(&first));
    assert_eq!(
        insert(s, &[rival]),
        vec![Inserted::Refused(Rejection::Fork { seq: 1 })]
    );
    assert_eq!(s.head(&first.header.feed).unwrap().unwrap().id, first.id);
    let forks = s.forks().unwrap();
    assert_eq!(forks.len(), 1);
    assert_eq!(forks[0].held, first.id);
    assert!(
        s.audit_log(10)
            .unwrap()
            .iter()
            .any(|e| e.event == AuditEvent::Forked)
    );
}

/// Pages are bounded by count and by bytes, and never empty while records remain.
pub fn feed_pages_are_bounded<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let rs: Vec<_> = (0..10)
        .map(|i| co.publish(&["CO", "MX"], alert(&format!("a{i}")), NOW_MS + i))
        .collect();
    insert(s, &rs);
    let feed = rs[0].header.feed;
    assert_eq!(
        s.feed_range(&feed, 3, 4, usize::MAX)
            .unwrap()
            .iter()
            .map(|r| r.header.seq)
            .collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
    let one = rs[0].encoded_len();
    assert_eq!(
        s.feed_range(&feed, 1, 100, one * 2 + one / 2)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(s.feed_range(&feed, 1, 100, 1).unwrap().len(), 1);
    assert!(s.feed_range(&feed, 11, 100, usize::MAX).unwrap().is_empty());
}

/// An alert of CO's and the retraction, next in its feed, that erases it.
fn alert_and_its_erasure() -> (Record, Record) {
    let mut co = Author::new("CO");
    let a = co.publish(&["CO", "MX"], alert("wrong"), NOW_MS);
    let r = co.publish(
        &["CO", "MX"],
        Body::Retraction(Retraction {
            target: a.id,
            reason: "sent in error".into(),
            erase: true,
        }),
        NOW_MS + 1,
    );
    (a, r)
}

/// A retraction hides its target; with erase the body goes, the header stays, and the
/// record keeps the retraction as the proof it travels with (read alone and in a page).
pub fn retraction_with_erase_drops_the_body<S: Store>(s: &S) {
    let (a, r) = alert_and_its_erasure();
    assert_eq!(
        insert(s, &[a.clone(), r.clone()]),
        vec![Inserted::Stored, Inserted::Stored]
    );
    assert_eq!(s.retraction_of(&a.id).unwrap(), Some(r.id));
    let held = s.get(&a.id).unwrap().unwrap();
    assert!(held.body.is_none(), "erased body still held");
    assert_eq!(held.header_bytes, a.header_bytes);
    assert_eq!(held.erased_by, Some(r.encode()), "no proof of the erasure");
    let page = s.feed_range(&a.header.feed, 1, 10, usize::MAX).unwrap();
    assert_eq!(
        page[0], held,
        "a page serves the erased record without its proof"
    );
    let report = s.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(
        s.audit_log(10)
            .unwrap()
            .iter()
            .any(|e| e.event == AuditEvent::Erased && e.record == Some(a.id))
    );
}

/// A record that arrives erased, with its proof, is served on with the proof even before
/// the retraction itself is held (it comes later in the feed).
pub fn a_record_received_erased_keeps_its_proof<S: Store>(s: &S) {
    let (a, r) = alert_and_its_erasure();
    let erased = a.erased_by(&r);
    assert_eq!(
        insert(s, std::slice::from_ref(&erased)),
        vec![Inserted::Stored]
    );
    assert_eq!(s.get(&a.id).unwrap(), Some(erased.clone()));
    let page = s.feed_range(&a.header.feed, 1, 10, usize::MAX).unwrap();
    assert_eq!(page, vec![erased]);
}

/// A retraction may only target an earlier record of its own feed.
pub fn retraction_of_another_feed_is_refused<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let a = co.publish(&["CO", "MX"], alert("theirs"), NOW_MS);
    let first = co.publish(&["CO", "MX", "PE"], alert("other feed"), NOW_MS);
    let r = co.publish(
        &["CO", "MX", "PE"],
        Body::Retraction(Retraction {
            target: a.id,
            reason: "x".into(),
            erase: true,
        }),
        NOW_MS,
    );
    let out = insert(s, &[a.clone(), first, r]);
    assert!(
        matches!(out[2], Inserted::Refused(Rejection::BadRetraction(_))),
        "{out:?}"
    );
    assert!(s.get(&a.id).unwrap().unwrap().body.is_some());
    assert_eq!(s.retraction_of(&a.id).unwrap(), None);
}

/// The latest consent of each state towards each other is kept.
pub fn latest_consent_wins<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let consent = |action| {
        Body::Consent(Consent {
            partner: st("MX"),
            action,
        })
    };
    let g = co.publish(&["*"], consent(ConsentAction::Grant), NOW_MS);
    let r = co.publish(&["*"], consent(ConsentAction::Revoke), NOW_MS + 5);
    insert(s, &[g]);
    let c = s.consents().unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].0, c[0].1, c[0].2.action),
        (st("CO"), st("MX"), ConsentAction::Grant)
    );
    insert(s, &[r]);
    assert_eq!(s.consents().unwrap()[0].2.action, ConsentAction::Revoke);
}

/// A newer roster replaces an older one.
pub fn newer_roster_replaces_older<S: Store>(s: &S) {
    let mut oas = Author::new("OAS");
    let v1 = oas.publish(&["*"], Body::Roster(roster(1, &["OAS", "MX"])), NOW_MS);
    let v2 = oas.publish(
        &["*"],
        Body::Roster(roster(2, &["OAS", "MX", "CO"])),
        NOW_MS + 1,
    );
    insert(s, &[v1]);
    insert(s, std::slice::from_ref(&v2));
    assert_eq!(s.roster().unwrap().map(|r| r.id), Some(v2.id));
}

/// Indexes walk newest first, within the time bounds, per kind and per state.
pub fn indexes_walk_newest_first<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let mut pe = Author::new("PE");
    let a1 = co.publish(&["CO", "MX"], alert("co alert"), NOW_MS + 10);
    let b1 = co.publish(&["CO", "MX"], best_practice("co practice"), NOW_MS + 20);
    let a2 = pe.publish(&["MX", "PE"], alert("pe alert"), NOW_MS + 30);
    insert(s, &[a1.clone(), b1.clone(), a2.clone()]);
    let walk = |index, since, until| {
        let mut v = vec![];
        s.scan(index, since, until, &mut |id| {
            v.push(id);
            true
        })
        .unwrap();
        v
    };
    assert_eq!(walk(Index::Time, 0, u64::MAX), vec![a2.id, b1.id, a1.id]);
    assert_eq!(
        walk(Index::Kind(Kind::Alert), 0, u64::MAX),
        vec![a2.id, a1.id]
    );
    assert_eq!(
        walk(Index::State(st("CO")), 0, u64::MAX),
        vec![b1.id, a1.id]
    );
    assert_eq!(
        walk(Index::Time, NOW_MS + 15, NOW_MS + 30),
        vec![a2.id, b1.id]
    );
    let mut first = vec![];
    s.scan(Index::Time, 0, u64::MAX, &mut |id| {
        first.push(id);
        false
    })
    .unwrap();
    assert_eq!(first, vec![a2.id]);
}

/// Every insert is in the audit log, with its source.
pub fn audit_log_records_traffic<S: Store>(s: &S) {
    let mut mx = Author::new("MX");
    let mine = mx.publish(&["CO", "MX"], alert("mine"), NOW_MS);
    s.insert(
        &verified(std::slice::from_ref(&mine)),
        &Source::Local,
        NOW_MS,
    )
    .unwrap();
    let mut co = Author::new("CO");
    insert(s, &[co.publish(&["CO", "MX"], alert("theirs"), NOW_MS)]);
    let log = s.audit_log(100).unwrap();
    assert_eq!(log[0].event, AuditEvent::Published);
    assert_eq!(log[0].record, Some(mine.id));
    assert_eq!(log[1].event, AuditEvent::Received);
    assert_eq!(log[1].peer.as_deref(), Some("12D3KooWtest"));
    assert_eq!(s.audit_log(1).unwrap().len(), 1);
}

/// A populated store checks clean.
pub fn check_is_clean_on_a_good_store<S: Store>(s: &S) {
    let mut co = Author::new("CO");
    let mut pe = Author::new("PE");
    let mut rs = vec![];
    for i in 0..20 {
        rs.push(co.publish(&["CO", "MX"], alert(&format!("c{i}")), NOW_MS + i));
        rs.push(pe.publish(&["MX", "PE"], best_practice(&format!("p{i}")), NOW_MS + i));
    }
    insert(s, &rs);
    s.flush().unwrap();
    let report = s.check().unwrap();
    assert_eq!((report.records, report.feeds), (40, 2));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// Writes one `#[test]` per conformance case for the store that `$make` builds.
#[macro_export]
macro_rules! store_conformance {
    ($make:expr) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            use $crate::store::conformance as c;
            $crate::store_conformance!(@cases $make;
                stores_and_returns_records, duplicates_change_nothing, gaps_are_refused,
                forks_keep_evidence, feed_pages_are_bounded, retraction_with_erase_drops_the_body,
                a_record_received_erased_keeps_its_proof, retraction_of_another_feed_is_refused, latest_consent_wins,
                newer_roster_replaces_older, indexes_walk_newest_first, audit_log_records_traffic,
                check_is_clean_on_a_good_store);
        }
    };
    (@cases $make:expr; $($case:ident),+) => {
        $(
            #[test]
            fn $case() {
                let store = ($make)();
                c::$case(&store);
            }
        )+
    };
}
