//! The federation, end to end: real `tipx run` processes on 127.0.0.1 with a signed roster,
//! consent, and replication over libp2p. Each test checks what every node ends up holding.
//!
//! A test that asserts something did not arrive first waits for a fact showing it would
//! have: a sync round between the two nodes that started after the record was published.

use tipx_protocol::{
    Body,
    body::{Consent, ConsentAction},
    sync::Response,
    testkit::{Author, alert, key_of, st},
};
use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, TRIO, configure, eventually, now_ms},
    peer::{Peer, address},
    write_jsonl,
};

/// Whether an audit entry names `id`: as its record, among the records of a message sent,
/// or as the retraction or conflicting record it refers to.
fn mentions(audit: &[serde_json::Value], id: &str) -> bool {
    audit.iter().any(|e| {
        e["record"] == id
            || e["by"] == id
            || e["conflicts_with"] == id
            || e["records"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r == id))
    })
}

fn sent_to(audit: &[serde_json::Value], peer: &str, id: &str) -> bool {
    audit
        .iter()
        .any(|e| e["event"] == "sent" && e["peer"] == peer && mentions(std::slice::from_ref(e), id))
}

#[test]
fn an_alert_reaches_its_audience_partners_and_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(
        dir.path(),
        &[],
        &[
            ("MX", &["CO", "PE"]),
            ("CO", &["MX", "PE"]),
            ("PE", &["MX", "CO"]),
            ("BR", &["MX"]),
            ("US", &[]),
        ],
    );
    let mx = fed.member("MX");
    let published_at = now_ms();
    let id = mx.publish_alert("Recruiters posing as a modelling agency", "CO,PE");
    for code in ["CO", "PE"] {
        let n = fed.member(code);
        assert!(
            eventually(DELIVERY_DEADLINE, || n.holds(&id)),
            "{code} never received the alert; log:\n{}",
            n.log()
        );
    }
    for n in [fed.member("BR"), fed.member("US"), &fed.oas] {
        assert!(
            n.synced_with_since(mx, published_at),
            "{} completed no sync round with MX after the publish; log:\n{}",
            n.state,
            n.log()
        );
    }
    let mx_audit = mx.audit();
    for code in ["CO", "PE"] {
        let n = fed.member(code);
        assert!(
            sent_to(&mx_audit, &n.peer_id, &id) || mentions(&n.audit(), &id),
            "no trace of the alert reaching {code}"
        );
    }
    for n in [fed.member("BR"), fed.member("US"), &fed.oas] {
        assert!(
            !n.holds(&id),
            "{} holds an alert not addressed to it",
            n.state
        );
        assert!(
            !mentions(&n.audit(), &id),
            "{}'s audit log mentions the alert",
            n.state
        );
        assert!(
            !sent_to(&mx_audit, &n.peer_id, &id),
            "MX sent the alert to {}",
            n.state
        );
    }
}

#[test]
fn a_stopped_partner_catches_up_with_the_whole_feed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["PE"]), ("PE", &["MX"])]);
    let first = fed.member("MX").publish_alert("before the outage", "PE");
    assert!(eventually(DELIVERY_DEADLINE, || fed
        .member("PE")
        .holds(&first)));
    fed.member_mut("PE").stop();
    let file = dir.path().join("batch.jsonl");
    let lines: Vec<_> = (0..500)
        .map(|i| serde_json::json!({"kind": "alert", "title": format!("alert {i}"), "severity": "medium", "audience": ["PE"]}))
        .collect();
    write_jsonl(&file, &lines);
    fed.member("MX")
        .tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
    fed.member_mut("PE").start();
    let pe = fed.member("PE");
    let held = || pe.records(&["--state", "MX"]);
    assert!(
        eventually(DELIVERY_DEADLINE * 2, || held().len() == 501),
        "PE holds {} of 501; log:\n{}",
        held().len(),
        pe.log()
    );
    let mut seqs: Vec<u64> = held().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=501).collect::<Vec<_>>(),
        "the feed is complete and gap-free"
    );
    let check = pe.tipx(["store", "check"]).ok();
    assert!(check.stdout.contains("store is clean"), "{check}");
}

#[test]
fn revoking_consent_stops_both_directions_and_a_new_grant_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let before = mx.publish_alert("while partners", "CO");
    assert!(eventually(DELIVERY_DEADLINE, || co.holds(&before)));

    co.tipx(["partners", "revoke", "MX"]).ok();
    let inactive = |n: &Node| {
        let rows = n.tipx(["partners", "list", "--json"]).json();
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["active"] == false)
    };
    assert!(
        eventually(DELIVERY_DEADLINE, || inactive(mx)),
        "MX never learnt of the revocation"
    );
    let published_at = now_ms();
    let from_mx = mx.publish_alert("after the revocation, from MX", "CO");
    let from_co = co.publish_alert("after the revocation, from CO", "MX");
    for (n, peer) in [(co, mx), (mx, co)] {
        assert!(
            n.synced_with_since(peer, published_at),
            "{} completed no sync round with {} after the publish; log:\n{}",
            n.state,
            peer.state,
            n.log()
        );
    }
    assert!(!co.holds(&from_mx), "CO received from MX after revoking");
    assert!(!mx.holds(&from_co), "MX received from CO after CO revoked");

    co.tipx(["partners", "request", "MX"]).ok();
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&from_mx)
            && mx.holds(&from_co)),
        "exchange did not resume"
    );
}

#[test]
fn only_roster_members_connect_and_a_removed_key_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO", "BR"]), ("CO", &["MX"])]);
    // BR, a member driven by hand below, relays records to MX.
    let br_key = key_of("BR");
    fed.oas.roster_admit("BR", "Brazil", &br_key.public());
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let connected = |n: &Node, peer: &str| n.connected_to(peer);
    assert!(
        eventually(DELIVERY_DEADLINE, || connected(mx, &co.peer_id)),
        "MX and CO never connected"
    );

    // A node with a valid key that is not in the roster: the coordinator, its bootstrap
    // node, refuses it (it says so once refused twice in a row), and no one else has it.
    let mut outsider = Node::init("AR", dir.path());
    configure(&outsider, Some(&fed.oas), &["MX"]);
    outsider.start();
    let told_refused = || {
        let status = outsider.tipx(["status", "--json"]).json();
        status["warnings"].as_array().is_some_and(|ws| {
            ws.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains("not in the roster")))
        })
    };
    assert!(
        eventually(DELIVERY_DEADLINE, told_refused),
        "the outsider never learnt that it is refused; log:\n{}",
        outsider.log()
    );
    for n in fed.all() {
        assert!(
            !connected(n, &outsider.peer_id),
            "{} accepted a connection from a key outside the roster",
            n.state
        );
    }
    let outsider_peers = outsider.tipx(["peers", "--json"]).json();
    assert!(
        outsider_peers
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["connected"] == false),
        "the outsider connected: {outsider_peers}"
    );

    // BR, a member and MX's partner, relays a record CO signed while its key is in the
    // roster: MX takes it, so the relay path carries CO's records.
    let mut signed_by_co = Author::new("CO");
    signed_by_co.key = co.key();
    let audience = ["CO", "MX", "BR"];
    let (mx_peer, _) = address(mx);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before_removal =
        signed_by_co.publish(&audience, alert("relayed before the removal"), now_ms());
    let (mut br, control_ack) = rt.block_on(async {
        let mut br = Peer::new(&br_key);
        assert!(
            br.connect(mx).await,
            "BR, a roster member, could not connect"
        );
        let grant = Body::Consent(Consent {
            partner: st("MX"),
            action: ConsentAction::Grant,
        });
        let consent = Author::new("BR").publish(&["*"], grant, now_ms());
        assert_eq!(
            br.push(mx_peer, vec![consent.encode()]).await,
            Some(Response::Ack {
                stored: 1,
                refused: 0
            }),
            "BR's consent was not taken"
        );
        let ack = br.push(mx_peer, vec![before_removal.encode()]).await;
        (br, ack)
    });
    assert_eq!(
        control_ack,
        Some(Response::Ack {
            stored: 1,
            refused: 0
        }),
        "MX refused CO's record relayed while CO was in the roster, so the refusals below would prove nothing"
    );
    // A record signed now but dated before the removal: a thief's backdating.
    let backdated = signed_by_co.publish(&audience, alert("backdated"), now_ms() - 60_000);

    // CO's key is removed from the roster.
    fed.oas
        .tipx(["roster", "remove", "--peer-id", &co.peer_id])
        .ok();
    fed.oas.tipx(["roster", "publish"]).ok();
    assert!(
        eventually(DELIVERY_DEADLINE, || mx.roster_version() == 3),
        "MX never got the roster without CO"
    );
    assert!(
        eventually(DELIVERY_DEADLINE, || !connected(mx, &co.peer_id)),
        "MX is still connected to a removed key"
    );
    let after = signed_by_co.publish(&audience, alert("signed after the removal"), now_ms());

    // BR relays both: the gate cannot stop these, the revocation must.
    let (backdated_ack, after_ack) = rt.block_on(async {
        (
            br.push(mx_peer, vec![backdated.encode()]).await,
            br.push(mx_peer, vec![after.encode()]).await,
        )
    });
    for (what, ack, r) in [
        ("dated before the removal", backdated_ack, &backdated),
        ("dated after the removal", after_ack, &after),
    ] {
        assert_eq!(
            ack,
            Some(Response::Ack {
                stored: 0,
                refused: 1
            }),
            "MX accepted a record signed by a removed key, {what}"
        );
        assert!(
            !mx.holds(&r.id.to_string()),
            "MX holds a record signed by a removed key, {what}"
        );
    }
    assert!(
        mx.holds(&before_removal.id.to_string()),
        "a record held before the removal stays"
    );
    let rejected: Vec<String> = mx
        .audit()
        .iter()
        .filter(|e| e["event"] == "rejected" && e["peer"] == br_key.public().peer_id())
        .map(|e| e["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        rejected
            .iter()
            .any(|d| d.starts_with("author key was revoked")),
        "MX's audit log does not give the revoked key as the reason: {rejected:?}"
    );
}

#[test]
fn members_keep_exchanging_while_the_bootstrap_node_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], TRIO);
    let warm = fed.member("MX").publish_alert("while OAS is up", "CO,PE");
    for code in ["CO", "PE"] {
        assert!(eventually(DELIVERY_DEADLINE, || fed
            .member(code)
            .holds(&warm)));
    }
    fed.oas.stop();
    fed.member_mut("CO").stop();
    fed.member_mut("CO").start();
    let id = fed.member("MX").publish_alert("while OAS is down", "CO,PE");
    for code in ["CO", "PE"] {
        let n = fed.member(code);
        assert!(
            eventually(DELIVERY_DEADLINE, || n.holds(&id)),
            "{code} did not receive with OAS down; log:\n{}",
            n.log()
        );
    }
}

#[test]
fn a_retraction_with_erase_drops_the_body_on_every_holder() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], TRIO);
    let mx = fed.member("MX");
    let id = mx.publish_alert("published in error", "CO,PE");
    for code in ["CO", "PE"] {
        assert!(eventually(DELIVERY_DEADLINE, || fed
            .member(code)
            .holds(&id)));
    }
    mx.tipx(["retract", &id, "--reason", "published in error", "--erase"])
        .ok();
    for n in [mx, fed.member("CO"), fed.member("PE")] {
        let erased = || {
            let r = n.tipx(["records", "show", &id, "--json"]).json();
            r["erased"] == true && r["retracted_by"].is_string() && r.get("body").is_none()
        };
        assert!(
            eventually(DELIVERY_DEADLINE, erased),
            "{} still holds the body",
            n.state
        );
        assert!(
            !n.records(&[]).iter().any(|r| r["id"] == id),
            "{} still lists the retracted record",
            n.state
        );
    }
}

#[test]
fn a_partner_that_cannot_be_reached_directly_receives_through_another_partner() {
    let dir = tempfile::tempdir().unwrap();
    // No roster address for MX and PE: each dials CO (and OAS), never each other.
    let fed = Federation::start_unlisted(dir.path(), &[], TRIO, &["MX", "PE"], true);
    let (mx, pe) = (fed.member("MX"), fed.member("PE"));
    let id = mx.publish_alert("relayed through CO", "CO,PE");
    assert!(
        eventually(DELIVERY_DEADLINE, || pe.holds(&id)),
        "PE never received MX's record; log:\n{}",
        pe.log()
    );
    assert!(
        !pe.connected_to(&mx.peer_id),
        "PE was connected to MX directly, so nothing was relayed"
    );
}

#[test]
fn members_without_roster_addresses_find_each_other_through_the_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    // MX and CO know only the bootstrap address and the anchor key; the roster has no
    // address for either of them.
    let fed = Federation::start_unlisted(
        dir.path(),
        &[],
        &[("MX", &["CO"]), ("CO", &["MX"])],
        &["MX", "CO"],
        false,
    );
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let connected = || mx.connected_to(&co.peer_id);
    assert!(
        eventually(DELIVERY_DEADLINE, connected),
        "MX never found CO; log:\n{}",
        mx.log()
    );
    let id = mx.publish_alert("found through the rendezvous point", "CO");
    assert!(eventually(DELIVERY_DEADLINE, || co.holds(&id)));
}
