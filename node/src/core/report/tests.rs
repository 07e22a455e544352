//! The report's data at the coordinator from summaries it holds: a later summary of a day
//! supersedes an earlier one; one node per state is counted when several send; members
//! without consent or without summaries are told apart; profiles are compared with the
//! last one before the period.

use tipx_protocol::{
    Body, Kind, Record,
    body::{Activity, Consent, ConsentAction, RosterNode},
    day::Day,
    store::{Source, Store},
    testkit::{Author, NOW_MS, key_of, profile, roster, st, trusted},
};

use super::*;
use crate::report::model::{Notice, Period, Reporting};

fn consent(partner: &str) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action: ConsentAction::Grant,
    })
}

/// MX's second node: same state, another key.
fn mx2() -> Author {
    let mut a = Author::new("MX");
    a.key = key_of("MX2");
    a
}

/// The coordinator's node: roster OAS, MX (two nodes), CO, PE; MX and CO exchange with
/// OAS, PE does not.
fn oas_node(extra: Vec<Record>) -> Node {
    let store = crate::store::SledStore::temporary().expect("store");
    let mut r = roster(1, &["OAS", "MX", "CO", "PE"]);
    r.members[1].nodes.push(RosterNode {
        key: key_of("MX2").public(),
        addrs: vec![],
    });
    let mut oas = Author::new("OAS");
    let before = NOW_MS - 10 * 86_400_000;
    let mut control = vec![oas.publish(&["*"], Body::Roster(r), before)];
    for s in ["MX", "CO"] {
        control.push(oas.publish(&["*"], consent(s), before));
        control.push(Author::new(s).publish(&["*"], consent("OAS"), before));
    }
    control.extend(extra);
    store
        .insert(&trusted(&control), &Source::Local, NOW_MS)
        .expect("store works");
    let (node, _no_network) = Node::new(
        store,
        key_of("OAS"),
        StateCode::coordinator(),
        Some(key_of("OAS").public()),
        vec![],
        256 * 1024,
    )
    .expect("node");
    node
}

/// A summary of `day` with `alerts` alerts published, written at `at_ms`.
fn summary(author: &mut Author, day: Day, alerts: u64, at_ms: u64) -> Record {
    let mut a = Activity::empty(day, day.end_ms());
    a.published.insert(Kind::Alert, alerts);
    author.publish(&["OAS"], Body::Activity(a), at_ms)
}

#[test]
fn one_node_per_state_is_counted_and_a_later_summary_of_a_day_supersedes_an_earlier_one() {
    let today = Day::of_ms(NOW_MS);
    let (d1, d2) = (Day(today.0 - 2), Day(today.0 - 1));
    let (mut mx, mut other) = (Author::new("MX"), mx2());
    let records = vec![
        summary(&mut mx, d1, 1, d2.start_ms()),
        summary(&mut mx, d2, 2, today.start_ms()),
        // MX sent d2 again later in the day: this one counts.
        summary(&mut mx, d2, 3, today.start_ms() + 3_600_000),
        // MX's second node also sent d2: not counted, named in a notice.
        summary(&mut other, d2, 7, today.start_ms()),
    ];
    let node = oas_node(records);
    let period = Period { from: d1, to: d2 };
    let r = node.report(period, "en", NOW_MS).expect("report");

    let mx_totals = r
        .volume
        .states
        .iter()
        .find(|t| t.state == Some(st("MX")))
        .unwrap();
    assert_eq!(
        mx_totals.published.get(&Kind::Alert),
        Some(&4),
        "1 on d1, 3 on d2"
    );
    assert!(r.notes.notices.contains(&Notice::SeveralReportingNodes {
        state: st("MX"),
        nodes: 2
    }));
    let cov = r
        .notes
        .coverage
        .iter()
        .find(|c| c.state == st("MX"))
        .unwrap();
    assert_eq!(
        (cov.days, cov.nodes, cov.first, cov.last),
        (2, 2, Some(d1), Some(d2))
    );

    let reporting = |s: &str| {
        r.participation
            .members
            .iter()
            .find(|m| m.state == st(s))
            .map(|m| m.reporting)
    };
    assert_eq!(reporting("MX"), Some(Reporting::Summaries));
    assert_eq!(
        reporting("CO"),
        Some(Reporting::NoData),
        "a partner that sent nothing"
    );
    assert_eq!(reporting("PE"), Some(Reporting::NoConsent));
    assert_eq!(
        reporting("OAS"),
        None,
        "the coordinator is not a member row"
    );
    assert_eq!(r.participation.no_activity, [st("CO"), st("PE")]);
    assert!(
        r.notes
            .notices
            .contains(&Notice::NoConsent { state: st("PE") })
    );
    assert!(
        !r.notes
            .notices
            .contains(&Notice::NoConsent { state: st("CO") })
    );
    let pairs: Vec<_> = r
        .participation
        .consents
        .iter()
        .map(|p| (p.a.to_string(), p.b.to_string()))
        .collect();
    assert_eq!(
        pairs,
        [("CO".into(), "OAS".into()), ("MX".into(), "OAS".into())]
    );
}

#[test]
fn a_summary_outside_the_period_is_left_out() {
    let today = Day::of_ms(NOW_MS);
    let mut mx = Author::new("MX");
    let old = Day(today.0 - 40);
    let node = oas_node(vec![summary(&mut mx, old, 9, old.end_ms())]);
    let period = Period {
        from: Day(today.0 - 7),
        to: today,
    };
    let r = node.report(period, "en", NOW_MS).unwrap();
    assert!(r.volume.states.is_empty());
    assert!(r.volume.by_month.is_empty());
}

#[test]
fn profiles_are_compared_with_the_last_one_before_the_period() {
    let today = Day::of_ms(NOW_MS);
    let mut co = Author::new("CO");
    let before = co.publish(
        &["CO", "OAS"],
        profile(),
        today.start_ms() - 30 * 86_400_000,
    );
    let Body::Profile(mut p) = profile() else {
        unreachable!()
    };
    p.shelters = Some(15);
    p.statistics[0].convictions = Some(6);
    let now = co.publish(&["CO", "OAS"], Body::Profile(p), NOW_MS);
    let node = oas_node(vec![before, now]);
    let period = Period {
        from: Day(today.0 - 7),
        to: today,
    };
    let r = node.report(period, "en", NOW_MS).unwrap();
    let row = r
        .profiles
        .iter()
        .find(|p| p.state == Some(st("CO")))
        .unwrap();
    assert_eq!(row.shelters, Some(15));
    assert_eq!(row.changed, ["shelters", "convictions"]);
    assert_eq!(row.victims, Some(49));
    assert_eq!(r.participation.no_profile, [st("MX"), st("PE")]);
}
