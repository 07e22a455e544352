//! The hand-made start of each target's corpus: real records, sync messages, frames,
//! configuration files and import files, so that the fuzzer starts from inputs that go
//! deep (a record correctly signed by a member passes validation, which no mutation of
//! random bytes would reach).
//!
//! `cargo test -p tipx-tests --test fuzz_corpus -- --ignored write_seeds` writes them to
//! `fuzz/corpus/<target>/seed-*`; they are deterministic (ed25519 signatures are), so
//! writing them again changes nothing unless the formats changed.

use tipx_config::Config;
use tipx_protocol::{
    Audience, Body, FeedId, Record,
    body::{Consent, ConsentAction, Retraction},
    sync::{FeedHead, Request, Response, reconcile::Reconciler},
    testkit::{Author, NOW_MS, alert, best_practice, key_of, roster, st},
};

use super::STATES;

/// One seed: its file name (`seed-…`) and its bytes.
pub type Seed = (String, Vec<u8>);

/// The seeds of `target` (a name in [`super::TARGETS`]).
pub fn of(target: &str) -> Vec<Seed> {
    match target {
        "record" => records()
            .into_iter()
            .map(|(n, r)| (format!("seed-{n}"), r.encode()))
            .collect(),
        "sync_messages" => sync_messages(),
        "codec" => sync_messages()
            .into_iter()
            .map(|(n, m)| (n, frame(&m)))
            .chain([("seed-empty-frame".into(), frame(b""))])
            .collect(),
        "config" => configs(),
        "import" => imports(),
        other => panic!("no target {other}"),
    }
}

/// Records MX accepts: one of each kind, and an erased one.
pub fn records() -> Vec<(&'static str, Record)> {
    let mut co = Author::new("CO");
    let alert = co.publish(&["CO", "MX"], alert("Fake job offers"), NOW_MS);
    let retraction = co.publish(
        &["CO", "MX"],
        Body::Retraction(Retraction {
            target: alert.id,
            reason: "Sent in error".into(),
            erase: true,
        }),
        NOW_MS,
    );
    let best_practice = Author::new("PE").publish(
        &["MX", "PE"],
        best_practice("A hotline staffed day and night"),
        NOW_MS,
    );
    let consent = co.publish(
        &["*"],
        Body::Consent(Consent {
            partner: st("MX"),
            action: ConsentAction::Grant,
        }),
        NOW_MS,
    );
    let roster = Author::new("OAS").publish(&["*"], Body::Roster(roster(2, STATES)), NOW_MS);
    vec![
        ("alert", alert.clone()),
        ("alert-erased", alert.erased_by(&retraction)),
        ("retraction", retraction),
        ("best-practice", best_practice),
        ("consent", consent),
        ("roster", roster),
    ]
}

/// One request and one response of each kind.
fn sync_messages() -> Vec<Seed> {
    let records: Vec<Vec<u8>> = records().iter().map(|(_, r)| r.encode()).collect();
    let (author, audience) = (
        key_of("CO").public(),
        Audience::states([st("CO"), st("MX")]),
    );
    let feed = FeedId::of(&author, &audience, tipx_protocol::Channel::Main);
    let heads = vec![FeedHead {
        feed,
        seq: 2,
        author,
        audience,
        channel: tipx_protocol::Channel::Main,
    }];
    let requests = [
        (
            "push",
            Request::Push {
                records: records[..2].to_vec(),
            },
        ),
        (
            "announce",
            Request::Announce {
                heads: heads.clone(),
            },
        ),
        (
            "digest",
            Request::Digest {
                digest: Some([7; 32]),
                feeds: 3,
                channels: tipx_protocol::Channels::KNOWN,
                reconcile: None,
            },
        ),
        (
            "digest-reconcile",
            Request::Digest {
                digest: None,
                feeds: 0,
                channels: tipx_protocol::Channels::KNOWN,
                reconcile: Some(Reconciler::new([(feed, 3)]).initiate([5; 16])),
            },
        ),
        (
            "reconcile",
            Request::Reconcile {
                message: Reconciler::new([(feed, 3)]).initiate([5; 16]),
            },
        ),
        ("heads-of", Request::HeadsOf { feeds: vec![feed] }),
        ("heads", Request::Heads),
        (
            "fetch",
            Request::Fetch {
                feed,
                from_seq: 1,
                max_records: 256,
                max_bytes: 1 << 20,
            },
        ),
    ];
    let responses = [
        ("ack", Response::ack(2, 1)),
        (
            "denied",
            Response::Denied {
                reason: "not a partner".into(),
            },
        ),
        ("in-sync", Response::InSync),
        ("heads", Response::Heads { heads }),
        (
            "reconcile",
            Response::Reconcile {
                message: Reconciler::new([(feed, 2)])
                    .reply(&Reconciler::new([(feed, 3)]).initiate([5; 16]))
                    .expect("an opening")
                    .next
                    .unwrap_or_default(),
            },
        ),
        (
            "records",
            Response::Records {
                records,
                more: true,
            },
        ),
    ];
    let requests = requests
        .into_iter()
        .map(|(n, m)| (format!("seed-request-{n}"), m.encode()));
    let responses = responses
        .into_iter()
        .map(|(n, m)| (format!("seed-response-{n}"), m.encode()));
    requests.chain(responses).collect()
}

/// `bytes` as a `/tipx/sync/1` frame: a 4-byte big-endian length, then the bytes.
fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// The example files, and what `tipx init` writes.
fn configs() -> Vec<Seed> {
    let examples = [
        (
            "member",
            include_str!("../../../config/examples/member.toml"),
        ),
        (
            "coordinator",
            include_str!("../../../config/examples/coordinator.toml"),
        ),
    ];
    examples
        .into_iter()
        .map(|(n, text)| (format!("seed-{n}"), text.as_bytes().to_vec()))
        .chain([(
            "seed-init".into(),
            Config::init_template(st("MX"), 7100, 7180).into_bytes(),
        )])
        .collect()
}

/// Import files: JSON lines and an array, with every field an imported record may have.
fn imports() -> Vec<Seed> {
    let lines = concat!(
        r#"{"kind": "alert", "title": "Fake job offers", "severity": "high", "category": "recruitment", "description": "Passports withheld.", "language": "en", "tags": ["recruitment"], "indicators": [{"type": "phone", "value": "+52 55 0000 0000"}], "affected_states": ["MX"], "valid_until": "30d", "audience": ["CO", "MX"], "tlp": "amber", "handling": "focal-point"}"#,
        "\n\n",
        r#"{"kind": "best-practice", "title": "A hotline", "summary": "Day and night.", "text": "Details.", "language": "es", "pillars": ["protection"], "references": [{"title": "Law 985", "url": "https://example.invalid/985"}], "translations": [{"language": "en", "title": "A hotline"}], "tlp": "green", "handling": "public"}"#,
        "\n",
        r#"{"kind": "alert", "title": "Route", "severity": "low", "valid_until": "2026-12-31T18:00:00Z"}"#,
        "\n",
        r#"{"kind": "alert", "title": "Expiry in ms", "severity": "info", "valid_until_ms": 1798761600000}"#,
        "\n",
    );
    let array = r#"[{"kind": "alert", "title": "t", "severity": "medium", "valid_until": "36h"}, {"kind": "best-practice", "title": "b"}]"#;
    vec![
        ("seed-lines.jsonl".into(), lines.as_bytes().to_vec()),
        ("seed-array.json".into(), array.as_bytes().to_vec()),
    ]
}
