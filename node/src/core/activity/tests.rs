//! A day's summary counts what the node published and received that day, breaks it down
//! unless asked for totals, and the days due are the whole days not yet sent.

use tipx_protocol::{
    Body, Kind,
    body::{Consent, ConsentAction, Pillar, Severity},
    day::Day,
    store::{Source, Store},
    testkit::{Author, NOW_MS, alert, best_practice, key_of, roster, st, trusted},
};

use super::*;

fn consent(partner: &str) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action: ConsentAction::Grant,
    })
}

/// MX's node (partners CO and OAS), holding 2 alerts CO sent it today.
fn mx_node() -> Node {
    let store = crate::store::SledStore::temporary().expect("store");
    let at = NOW_MS - 86_400_000;
    let mut oas = Author::new("OAS");
    let mut mx = Author::new("MX");
    let mut co = Author::new("CO");
    let control = vec![
        oas.publish(&["*"], Body::Roster(roster(1, &["OAS", "MX", "CO"])), at),
        oas.publish(&["*"], consent("MX"), at),
        mx.publish(&["*"], consent("OAS"), at),
        mx.publish(&["*"], consent("CO"), at),
        co.publish(&["*"], consent("MX"), at),
    ];
    store
        .insert(&trusted(&control), &Source::Local, at)
        .expect("store works");
    let from_co: Vec<_> = (0..2)
        .map(|i| co.publish(&["CO", "MX"], alert(&format!("from CO {i}")), NOW_MS))
        .collect();
    store
        .insert(
            &trusted(&from_co),
            &Source::Peer(key_of("CO").public().peer_id()),
            crate::core::now_ms(),
        )
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
    node
}

fn publish(node: &Node, body: Body) {
    node.publish(vec![PublishRequest {
        audience: vec![st("CO")],
        tlp: None,
        handling: None,
        body,
    }])
    .expect("published");
}

#[test]
fn a_summary_counts_the_days_records_by_kind_and_breaks_them_down_unless_totals() {
    let node = mx_node();
    publish(&node, alert("one"));
    publish(&node, alert("two"));
    publish(&node, best_practice("hotline"));
    let now = crate::core::now_ms();
    let today = Day::of_ms(now);

    let a = node.activity_of(today, now + 1, Detail::Full).unwrap();
    assert_eq!(a.published.get(&Kind::Alert), Some(&2));
    assert_eq!(a.published.get(&Kind::BestPractice), Some(&1));
    assert_eq!(a.severities.get(&Severity::High), Some(&2));
    assert_eq!(a.pillars.get(&Pillar::Protection), Some(&1));
    assert_eq!(a.categories.get("recruitment"), Some(&2));
    assert_eq!(a.received.len(), 1);
    assert_eq!(
        (a.received[0].state, a.received[0].kind, a.received[0].count),
        (Some(st("CO")), Kind::Alert, 2)
    );
    assert_eq!(a.active_partners, 2);
    assert_eq!(Body::Activity(a.clone()).check(), Ok(()));
    let text = serde_json::to_string(&a).unwrap();
    for word in ["one", "two", "hotline", "from CO"] {
        assert!(!text.contains(word), "{word} in {text}");
    }

    let t = node.activity_of(today, now + 1, Detail::Totals).unwrap();
    assert!(t.totals_only);
    assert!(t.severities.is_empty() && t.pillars.is_empty() && t.categories.is_empty());
    assert_eq!(t.received[0].state, None);
    assert_eq!(t.published, a.published);
    assert_eq!(Body::Activity(t).check(), Ok(()));

    // The day before holds nothing of this.
    let before = node
        .activity_of(Day(today.0 - 1), now, Detail::Full)
        .unwrap();
    assert!(!before.published.contains_key(&Kind::Alert));
}

#[test]
fn the_days_due_are_the_whole_days_not_sent_yet() {
    let node = mx_node();
    let today = Day::of_ms(crate::core::now_ms());
    // A node reports from the first day it is asked, never days before.
    assert!(node.activity_due(today).unwrap().is_empty());
    assert_eq!(node.activity_due(today.next()).unwrap(), [today]);
    // A summary of today so far leaves today due once it is over.
    node.send_activity(today, crate::core::now_ms(), Detail::Full)
        .unwrap();
    assert!(node.activity_due(today).unwrap().is_empty());
    assert_eq!(node.activity_due(today.next()).unwrap(), [today]);
    node.send_activity(Day(today.0 - 3), Day(today.0 - 3).end_ms(), Detail::Full)
        .unwrap();
    assert_eq!(
        node.activity_due(today).unwrap(),
        [Day(today.0 - 2), Day(today.0 - 1)]
    );
    node.send_activity(Day(today.0 - 2), Day(today.0 - 2).end_ms(), Detail::Full)
        .unwrap();
    node.send_activity(Day(today.0 - 1), Day(today.0 - 1).end_ms(), Detail::Full)
        .unwrap();
    assert!(node.activity_due(today).unwrap().is_empty());
    // Two days later, both missed days are due, oldest first.
    let later = Day(today.0 + 2);
    assert_eq!(node.activity_due(later).unwrap(), [today, Day(today.0 + 1)]);
}
