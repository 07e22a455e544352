//! A roster member that misbehaves: a hand-driven libp2p peer (BR, in the roster and a
//! partner of MX) pushes forged, misaddressed, oversized and malformed records to MX. Each
//! is refused with its reason and kept out of the store, MX keeps serving CO, and after
//! repeated offences BR is disconnected and refused.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{Multiaddr, PeerId, Swarm, request_response, swarm::SwarmEvent};
use tipx_node::net::behaviour::{Behaviour, BehaviourEvent, build};
use tipx_protocol::{
    Body,
    body::{BestPractice, Consent, ConsentAction},
    sync::{Request, Response},
    testkit::{Author, alert, key_of, st},
};
use tipx_tests::federation::{DELIVERY_DEADLINE, Federation, eventually};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Sends one sync request and waits for its answer; `None` if the connection failed.
async fn ask(swarm: &mut Swarm<Behaviour>, peer: PeerId, req: Request) -> Option<Response> {
    let id = swarm.behaviour_mut().sync.send_request(&peer, req.encode());
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Response { request_id, response }, ..
                })) if request_id == id => return Response::decode(&response).ok(),
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::OutboundFailure { request_id, .. }))
                    if request_id == id => return None,
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. }, ..
                })) => {
                    let _ = swarm.behaviour_mut().sync.send_response(channel, Response::InSync.encode());
                }
                _ => {}
            },
            _ = &mut deadline => return None,
        }
    }
}

/// Dials `addr` and waits for the connection (and the gate's verdict) to settle.
async fn connect(swarm: &mut Swarm<Behaviour>, peer: PeerId, addr: Multiaddr) -> bool {
    swarm.behaviour_mut().gate.allow_peer(peer);
    swarm.dial(addr).unwrap();
    let settle = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(settle);
    loop {
        tokio::select! {
            _ = swarm.select_next_some() => {}
            _ = &mut settle => return swarm.is_connected(&peer),
        }
    }
}

#[test]
fn a_misbehaving_member_is_refused_record_by_record_then_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let br_key = key_of("BR");
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO", "BR"]), ("CO", &["MX"])]);
    fed.oas
        .tipx([
            "roster",
            "add",
            "--state",
            "BR",
            "--name",
            "Brazil",
            "--peer-id",
            &br_key.public().peer_id(),
        ])
        .ok();
    fed.oas.tipx(["roster", "publish"]).ok();
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let mx_peer: PeerId = mx.peer_id.parse().unwrap();
    let mx_addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", mx.p2p_port, mx.peer_id)
        .parse()
        .unwrap();
    let roster_known = || mx.tipx(["status", "--json"]).json()["roster_version"] == 2;
    assert!(
        eventually(DELIVERY_DEADLINE, roster_known),
        "MX never got the roster with BR"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut swarm = build(&br_key, 16, Duration::from_secs(300), false).unwrap();
        assert!(
            connect(&mut swarm, mx_peer, mx_addr.clone()).await,
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
        let ack = ask(
            &mut swarm,
            mx_peer,
            Request::Push {
                records: vec![consent.encode()],
            },
        )
        .await;
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
            let ack = ask(
                &mut swarm,
                mx_peer,
                Request::Push {
                    records: vec![bytes],
                },
            )
            .await;
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
            if ask(
                &mut swarm,
                mx_peer,
                Request::Push {
                    records: vec![vec![0xff; 8]],
                },
            )
            .await
            .is_none()
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            !swarm.is_connected(&mx_peer),
            "BR is still connected after repeated offences"
        );
        assert!(
            !connect(&mut swarm, mx_peer, mx_addr).await,
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
