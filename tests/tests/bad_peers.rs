//! A roster member that misbehaves: a hand-driven libp2p peer (BR, in the roster and a
//! partner of MX) pushes forged, misaddressed, oversized, malformed and stripped records to
//! MX. Each is refused with its reason and kept out of the store, MX keeps serving CO, and
//! after repeated offences BR is disconnected and refused.

use tipx_protocol::{
    Body, RecordId,
    body::{BestPractice, Consent, ConsentAction, Retraction},
    sync::Response,
    testkit::{Author, alert, key_of, st},
};
use tipx_tests::{
    federation::{DELIVERY_DEADLINE, Federation, eventually, now_ms},
    peer::{Peer, address, admit, grant},
};

#[test]
fn a_misbehaving_member_is_refused_record_by_record_then_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let br_key = key_of("BR");
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO", "BR"]), ("CO", &["MX"])]);
    fed.oas.roster_admit("BR", "Brazil", &br_key.public());
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let (mx_peer, _) = address(mx);
    let roster_known = || mx.roster_version() == 2;
    assert!(
        eventually(DELIVERY_DEADLINE, roster_known),
        "MX never got the roster with BR"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut br_peer = Peer::new(&br_key);
        assert!(
            br_peer.connect(mx).await,
            "BR, a roster member, could not connect"
        );

        let mut br = Author::new("BR");
        let consent = br.publish(
            &["*"],
            Body::Consent(Consent {
                partner: st("MX"),
                action: ConsentAction::Grant,
            }),
            now_ms(),
        );
        let ack = br_peer.push(mx_peer, vec![consent.encode()]).await;
        assert_eq!(
            ack,
            Some(Response::Ack {
                stored: 1,
                refused: 0
            }),
            "BR's consent was not taken"
        );

        // Forged: a record carrying the signature of another record.
        let mut forged = br.publish(&["BR", "MX"], alert("forged"), now_ms());
        forged.signature = consent.signature;
        // Misaddressed: for BR and CO only.
        let misaddressed = Author::new("BR").publish(&["BR", "CO"], alert("not for MX"), now_ms());
        // Oversized: a body far over the record limit.
        let big = BestPractice {
            title: "huge".into(),
            summary: String::new(),
            text: "x".repeat(300 * 1024),
            language: "en".into(),
            translations: vec![],
            pillars: vec![],
            tags: vec![],
            references: vec![],
        };
        let oversized = Author::new("BR").publish(&["BR", "MX"], Body::BestPractice(big), now_ms());
        let cases: [(&str, Vec<u8>); 4] = [
            ("bad signature", forged.encode()),
            ("not in the audience", misaddressed.encode()),
            ("oversized", oversized.encode()),
            ("malformed", vec![0xff; 64]),
        ];
        for (what, bytes) in cases {
            let ack = br_peer.push(mx_peer, vec![bytes]).await;
            assert_eq!(
                ack,
                Some(Response::Ack {
                    stored: 0,
                    refused: 1
                }),
                "{what} was not refused"
            );
        }
        // More offences: BR is cut off and refused.
        for _ in 0..6 {
            if br_peer.push(mx_peer, vec![vec![0xff; 8]]).await.is_none() {
                break;
            }
        }
        assert!(
            br_peer.until_disconnected(mx_peer).await,
            "BR is still connected after repeated offences"
        );
        assert!(
            !br_peer.connect(mx).await,
            "BR could reconnect during its cooling-off period"
        );
    });

    let audit = mx.audit();
    let rejected: Vec<String> = audit
        .iter()
        .filter(|e| e["event"] == "rejected" && e["peer"] == br_key.public().peer_id())
        .map(|e| e["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    for reason in [
        "bad signature",
        "not in the audience",
        "oversized",
        "malformed",
    ] {
        assert!(
            rejected.iter().any(|d| d.contains(reason)),
            "no `{reason}` rejection in MX's audit log: {rejected:?}"
        );
    }
    assert!(
        mx.records(&["--all", "--state", "BR"])
            .iter()
            .all(|r| r["kind"] == "consent"),
        "MX stored BR's bad records"
    );

    let id = co.publish_alert("MX still hears from CO", "MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || mx.holds(&id)),
        "MX stopped serving CO"
    );
}

/// A relay that drops the body of an alert it passes on is refused: otherwise the full copy
/// would be a no-op duplicate wherever the stripped one arrived first. The full copy is
/// then stored with its content, and a copy its author erased travels with the retraction
/// that erased it.
#[test]
fn a_relay_cannot_strip_the_content_of_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO", "BR"]), ("CO", &["MX"])]);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let br_key = admit(&fed, "BR", mx);
    let (mx_peer, _) = address(mx);
    // CO's records reach MX only once MX knows CO's consent.
    tipx_tests::steps::await_partner(mx, "CO");
    // CO signs; BR, in the audience and MX's partner, relays.
    let mut signed_by_co = Author::new("CO");
    signed_by_co.key = co.key();
    let audience = ["BR", "CO", "MX"];
    let full = signed_by_co.publish(&audience, alert("Recruiters at the border"), now_ms());
    let erased = signed_by_co.publish(&audience, alert("Sent in error"), now_ms());
    let erasing = signed_by_co.publish(
        &audience,
        Body::Retraction(Retraction {
            target: erased.id,
            reason: "names a victim".into(),
            erase: true,
        }),
        now_ms(),
    );
    let ack = |stored, refused| Some(Response::Ack { stored, refused });

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut br = Peer::new(&br_key);
        assert!(
            br.connect(mx).await,
            "BR, a roster member, could not connect"
        );
        let consent = grant("BR", "MX");
        assert_eq!(br.push(mx_peer, vec![consent.encode()]).await, ack(1, 0));

        assert_eq!(
            br.push(mx_peer, vec![full.erased().encode()]).await,
            ack(0, 1),
            "MX took an alert stripped of its body"
        );
        assert_eq!(
            br.push(mx_peer, vec![full.encode()]).await,
            ack(1, 0),
            "MX did not take the full alert after refusing the stripped copy"
        );
        // Erased by its author: the copy without its body comes with the retraction.
        assert_eq!(
            br.push(mx_peer, vec![erased.erased_by(&erasing).encode()])
                .await,
            ack(1, 0),
            "MX refused a record its author erased"
        );
        assert_eq!(br.push(mx_peer, vec![erasing.encode()]).await, ack(1, 0));
    });

    let show = |id: &RecordId| {
        mx.tipx(["records", "show", &id.to_string(), "--json"])
            .json()
    };
    let held = show(&full.id);
    assert_eq!(held["erased"], false, "{held}");
    assert_eq!(held["body"]["title"], "Recruiters at the border", "{held}");
    let gone = show(&erased.id);
    assert_eq!(gone["erased"], true, "{gone}");
    assert_eq!(gone["retracted_by"], erasing.id.to_string(), "{gone}");
    let refused: Vec<_> = mx
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "rejected" && e["peer"] == br_key.public().peer_id())
        .collect();
    assert!(
        refused.iter().any(|e| e["code"] == "stripped"),
        "the stripped copy is not in MX's audit log with BR as the peer: {refused:?}"
    );
}

/// A member pushing copies of a record MX holds, as fast as one connection allows (48
/// pushes of 1,024 copies in flight): MX keeps taking its partner's records during and
/// after the flood.
#[test]
fn a_member_flooding_copies_does_not_stop_the_node_serving_its_partner() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let br_key = admit(&fed, "BR", mx);
    let (mx_peer, _) = address(mx);
    let consent = grant("BR", "MX");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let flood = std::thread::scope(|s| {
        let flooding = s.spawn(|| {
            rt.block_on(async {
                let mut br = Peer::new(&br_key);
                assert!(br.connect(mx).await, "BR could not connect");
                br.push(mx_peer, vec![consent.encode()]).await;
                let copies = vec![consent.encode(); 1024];
                br.flood(mx_peer, copies, 48, &stop).await
            })
        });
        let id = co.publish_alert("MX still hears from CO during a flood", "MX");
        let served = eventually(DELIVERY_DEADLINE, || mx.holds(&id));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let flood = flooding.join().expect("the flood ran");
        assert!(served, "MX stopped taking CO's records during the flood");
        flood
    });
    assert!(flood.acknowledged > 0, "no push was read: {flood:?}");
    assert!(
        mx.tipx(["status", "--json"]).status.success(),
        "MX stopped answering"
    );
    let id = co.publish_alert("and after it", "MX");
    assert!(
        eventually(DELIVERY_DEADLINE, || mx.holds(&id)),
        "MX stopped taking CO's records after the flood"
    );
}
