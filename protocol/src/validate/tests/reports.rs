//! The rules of the kinds added for the coordinator's report (activity summaries, national
//! profiles) and of channels, the rollout rule that keeps new kinds in feeds of their own.
//! Activity summaries are validated at OAS, a partner of CO in these tests.

use super::*;
use crate::{
    Channel,
    body::{Activity, PalermoStatus, Profile, ReceivedCount},
    day::Day,
    testkit::{activity, profile},
};

/// OAS's view: CO and OAS are partners.
fn oas() -> Membership {
    membership("OAS", STATES, &[("MX", "CO"), ("CO", "OAS")])
}

fn at_oas(bytes: &[u8]) -> Result<Verified, Rejection> {
    let m = oas();
    validate_bytes(bytes, peer("CO"), &cx(&m))
}

fn co_activity(edit: impl FnOnce(&mut Activity)) -> Record {
    let Body::Activity(mut a) = activity() else {
        unreachable!()
    };
    edit(&mut a);
    Author::new("CO").publish(&["OAS"], Body::Activity(a), NOW_MS)
}

#[test]
fn an_activity_summary_reaches_the_coordinator_with_its_counts() {
    let r = co_activity(|_| {});
    assert_eq!(r.header.channel, Channel::Activity);
    let v = at_oas(&r.encode()).expect("valid");
    assert_eq!(v.body, Some(activity()));
    // The summary's feed is not CO's feed of best practices for [OAS].
    let bp = Author::new("CO").publish(&["OAS"], crate::testkit::best_practice("x"), NOW_MS);
    assert_ne!(bp.header.feed, r.header.feed);
}

#[test]
fn an_activity_summary_is_for_the_coordinator_alone() {
    let Body::Activity(a) = activity() else {
        unreachable!()
    };
    let r = Author::new("CO").publish(&["MX", "OAS"], Body::Activity(a), NOW_MS);
    assert_refused!(at_oas(&r.encode()), Rejection::BadAudience(m) if m.contains("coordinator"));
}

#[test]
fn an_activity_summary_of_a_day_not_yet_begun_is_refused() {
    let today = Day::of_ms(NOW_MS);
    let r = co_activity(|a| {
        a.day = today.next();
        a.through_ms = today.next().start_ms();
    });
    assert_refused!(at_oas(&r.encode()), Rejection::BadBody(m) if m.contains("not begun"));
    // Today so far is fine.
    let r = co_activity(|a| {
        a.day = today;
        a.through_ms = NOW_MS;
    });
    assert!(at_oas(&r.encode()).is_ok());
    // Covering time after it was written is not.
    let r = co_activity(|a| {
        a.day = today;
        a.through_ms = NOW_MS + 1;
    });
    assert_refused!(at_oas(&r.encode()), Rejection::BadBody(m) if m.contains("after it was written"));
}

#[test]
fn an_activity_summary_has_bounded_lists_and_names_no_state_when_it_gives_totals() {
    type Break = fn(&mut Activity);
    let cases: [(&str, Break); 6] = [
        ("at most 64", |a| {
            a.categories = (0..65).map(|i| (format!("c{i}"), 1)).collect();
        }),
        ("1 to 64", |a| {
            a.categories = [("x".repeat(65), 1)].into();
        }),
        ("names no partner state", |a| a.totals_only = true),
        ("counted twice", |a| {
            let again = a.received[0].clone();
            a.received.push(again);
        }),
        ("not within that day", |a| a.through_ms = a.day.end_ms() + 1),
        ("more erasures", |a| a.erasures = 1),
    ];
    for (expect, break_it) in cases {
        let r = co_activity(break_it);
        assert_refused!(at_oas(&r.encode()), Rejection::BadBody(m) if m.contains(expect));
    }
    let totals = co_activity(|a| {
        a.totals_only = true;
        a.pillars.clear();
        a.severities.clear();
        a.categories.clear();
        a.languages.clear();
        a.received = vec![ReceivedCount {
            state: None,
            kind: crate::Kind::Alert,
            count: 4,
        }];
    });
    assert!(at_oas(&totals.encode()).is_ok());
}

#[test]
fn a_record_outside_its_kinds_channel_is_malformed() {
    // An alert in the activity channel, and a summary in the main channel (feed ids fixed up
    // so that only the channel rule is broken).
    let r = co_alert();
    let mut h = pb_header(&r);
    h.channel = "activity".into();
    h.feed = FeedId::of(
        &key_of("CO").public(),
        &r.header.audience,
        Channel::Activity,
    )
    .0
    .to_vec();
    let bytes = resigned(&h, &key_of("CO"), r.body.clone());
    assert_refused!(at_mx_bytes(&bytes, peer("CO")), Rejection::Malformed(m) if m.contains("channel"));

    let r = co_activity(|_| {});
    let mut h = pb_header(&r);
    h.channel = String::new();
    h.feed = FeedId::of(&key_of("CO").public(), &r.header.audience, Channel::Main)
        .0
        .to_vec();
    let bytes = resigned(&h, &key_of("CO"), r.body.clone());
    assert_refused!(at_oas(&bytes), Rejection::Malformed(m) if m.contains("channel"));
}

#[test]
fn a_channel_this_node_does_not_know_is_refused_without_blaming_the_sender() {
    // A record of a later version: kind 42 in channel "hearings".
    let r = co_alert();
    let mut h = pb_header(&r);
    h.channel = "hearings".into();
    h.kind = 42;
    let bytes = resigned(&h, &key_of("CO"), r.body.clone());
    let err = at_mx_bytes(&bytes, peer("CO")).unwrap_err();
    assert_eq!(err, Rejection::UnknownChannel("hearings".into()));
    assert!(!err.is_offence());
    // In the main channel, an unknown kind is still malformed: every node knows that one.
    h.channel = String::new();
    let bytes = resigned(&h, &key_of("CO"), r.body.clone());
    let err = at_mx_bytes(&bytes, peer("CO")).unwrap_err();
    assert!(
        matches!(&err, Rejection::Malformed(m) if m.contains("kind")),
        "{err:?}"
    );
    assert!(err.is_offence());
}

#[test]
fn a_national_profile_travels_to_partners_in_a_feed_of_its_own() {
    let r = Author::new("CO").publish(&["CO", "MX"], profile(), NOW_MS);
    assert_eq!(r.header.channel, Channel::Profile);
    let v = at_mx_bytes(&r.encode(), peer("CO")).expect("valid");
    assert_eq!(v.body, Some(profile()));
}

#[test]
fn national_profile_rules_say_what_to_fix() {
    let Body::Profile(good) = profile() else {
        unreachable!()
    };
    assert_eq!(good.check(), Ok(()));
    type Break = fn(&mut Profile);
    let cases: [(&str, Break); 6] = [
        ("no status that has a date", |p| {
            p.palermo.status = Some(PalermoStatus::None)
        }),
        ("backwards", |p| {
            p.action_plan = Some(crate::body::ActionPlan {
                from: 2026,
                to: 2020,
                title: String::new(),
            })
        }),
        ("given twice", |p| {
            let again = p.statistics[0].clone();
            p.statistics.push(again);
        }),
        ("not a year", |p| p.statistics[0].year = 1850),
        ("at most 300", |p| p.focal_point.role = "x".repeat(301)),
        ("no title", |p| {
            p.laws.push(crate::body::Law {
                title: " ".into(),
                year: None,
                reference: String::new(),
            })
        }),
    ];
    for (expect, break_it) in cases {
        let mut p = good.clone();
        break_it(&mut p);
        let r = Author::new("CO").publish(&["CO", "MX"], Body::Profile(p), NOW_MS);
        assert_refused!(at_mx_bytes(&r.encode(), peer("CO")), Rejection::BadBody(m) if m.contains(expect));
    }
}

#[test]
fn new_bodies_read_from_json_and_survive_the_wire() {
    let json = r#"{"kind":"profile","palermo":{"status":"ratified","date":"2004-03-04"},
        "statistics":[{"year":2025,"victims":{"women":40,"girls":9},"convictions":4}]}"#;
    let Body::Profile(p) = serde_json::from_str::<Body>(json).unwrap() else {
        panic!("not a profile")
    };
    assert_eq!(p.statistics[0].victims.total(), Some(49));
    assert_eq!(p.statistics[0].prosecutions, None);
    for body in [activity(), profile(), Body::Profile(p)] {
        let bytes = crate::wire::encode_body(&body);
        assert_eq!(
            crate::wire::decode_body(body.kind(), &bytes),
            Ok(body.clone())
        );
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(serde_json::from_str::<Body>(&json).unwrap(), body);
    }
}
