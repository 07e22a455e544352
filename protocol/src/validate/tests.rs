//! Tests of validation (DESIGN.md §5): a round trip that passes, then one test per rule that
//! breaks exactly that rule and names the [`Rejection`] it gives, and last the membership
//! view the rules read (consents, roster versions).
//!
//! The federation: OAS (the anchor), MX, CO, PE and BR. MX, CO and PE are partners of each
//! other; BR is a member but nobody's partner. MX validates unless a test says otherwise.
//! Where a test forges a record, it re-signs the forged header with the author's key, so
//! that only the rule under test is broken (and a control shows the same record passing
//! once that one thing is put right).

use std::collections::BTreeSet;

use prost::Message;
use tipx_proto::v1 as pb;

use super::*;
use crate::{
    Keypair, Record, RecordId,
    body::{
        Consent, ConsentAction, Indicator, IndicatorType, Retraction, RevokedKey, Roster,
        RosterNode, Translation,
    },
    ids::sha256,
    membership::ConsentState,
    record::SIGN_DOMAIN,
    store::consent_of,
    testkit::{Author, NOW_MS, alert, key_of, membership, roster, st},
};

/// Every member of the test federation.
const STATES: &[&str] = &["OAS", "MX", "CO", "PE", "BR"];
/// The size limit in these tests; their records are far smaller.
const MAX_BYTES: usize = 64 * 1024;

/// `me`'s view of the federation.
fn view(me: &str) -> Membership {
    membership(me, STATES, &[("MX", "CO"), ("MX", "PE"), ("CO", "PE")])
}

fn cx(m: &Membership) -> Context<'_> {
    Context {
        local_state: m.own_state(),
        now_ms: NOW_MS,
        max_record_bytes: MAX_BYTES,
        membership: m,
    }
}

/// Received from the node of `code`.
fn peer(code: &str) -> Origin {
    Origin::Peer(key_of(code).public())
}

/// A key that is in no roster.
fn stranger(seed: u8) -> Keypair {
    Keypair::from_secret(&[seed; 32]).expect("32 bytes")
}

/// Validates wire bytes as MX receives them from `sender` — alone, and in a page between
/// other records, where each must get the verdict it gets alone.
fn at_mx_bytes(bytes: &[u8], sender: Origin) -> Result<Verified, Rejection> {
    let m = view("MX");
    let alone = validate_bytes(bytes, sender, &cx(&m));
    let mut co = Author::new("CO");
    let page = vec![
        co.publish(&["CO", "MX"], alert("before"), NOW_MS).encode(),
        bytes.to_vec(),
        co.publish(&["CO", "MX"], alert("after"), NOW_MS).encode(),
    ];
    let ids = |v: &[Result<Verified, Rejection>]| -> Vec<Result<RecordId, Rejection>> {
        v.iter()
            .map(|r| r.as_ref().map(|v| v.record.id).map_err(Clone::clone))
            .collect()
    };
    let one_by_one: Vec<_> = page
        .iter()
        .map(|b| validate_bytes(b, sender, &cx(&m)))
        .collect();
    assert_eq!(
        ids(&validate_page(&page, sender, &cx(&m))),
        ids(&one_by_one),
        "a page gets the verdicts its records get alone"
    );
    alone
}

fn at_mx(r: &Record, sender: Origin) -> Result<Verified, Rejection> {
    at_mx_bytes(&r.encode(), sender)
}

/// CO's first alert for CO and MX.
fn co_alert() -> Record {
    Author::new("CO").publish(&["CO", "MX"], alert("Fake job offers"), NOW_MS)
}

fn pb_header(r: &Record) -> pb::Header {
    pb::Header::decode(r.header_bytes.as_slice()).expect("our own header decodes")
}

/// The wire bytes of a record with `header`, correctly signed by `key`.
fn resigned(header: &pb::Header, key: &Keypair, body: Option<Vec<u8>>) -> Vec<u8> {
    let header = header.encode_to_vec();
    let mut msg = SIGN_DOMAIN.to_vec();
    msg.extend_from_slice(&header);
    pb::SignedRecord {
        signature: key.sign(&msg).to_bytes().to_vec(),
        header,
        body,
        erased_by: None,
    }
    .encode_to_vec()
}

/// `r`'s header made to carry `body` (hash and length updated), re-signed with `key`.
fn carrying(r: &Record, key: &Keypair, body: Vec<u8>) -> Vec<u8> {
    let mut h = pb_header(r);
    h.body_sha256 = sha256(&body).to_vec();
    h.body_len = body.len() as u32;
    resigned(&h, key, Some(body))
}

/// Asserts that a validation result is a rejection matching the pattern.
macro_rules! assert_refused {
    ($result:expr, $pattern:pat $(if $guard:expr)?) => {
        match $result {
            Err($pattern) $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}

fn consent(partner: &str) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action: ConsentAction::Grant,
    })
}

#[test]
fn a_signed_record_round_trips_through_the_wire_and_validates() {
    let Body::Alert(mut a) = alert("Fake job offers") else {
        unreachable!("testkit::alert is an alert")
    };
    a.translations.push(Translation {
        language: "es".into(),
        title: "Ofertas de empleo falsas".into(),
        summary: "Pasaportes retenidos al llegar.".into(),
        text: String::new(),
    });
    a.indicators.push(Indicator {
        kind: IndicatorType::Phone,
        value: "+57 300 000 0000".into(),
        note: "WhatsApp".into(),
    });
    let body = Body::Alert(a);
    let r = Author::new("CO").publish(&["CO", "MX"], body.clone(), NOW_MS);

    let bytes = r.encode();
    assert_eq!(Record::decode(&bytes).expect("decodes"), r);
    let v = at_mx_bytes(&bytes, peer("CO")).expect("a valid record");
    assert_eq!(v.body, Some(body));
    assert_eq!(v.record.header_bytes, r.header_bytes);
    assert_eq!(v.record.id, RecordId::of_header(&r.header_bytes));
    assert_eq!(v.record.id, r.id);
}

#[test]
fn bytes_over_the_limit_are_oversized() {
    let r = co_alert();
    let bytes = r.encode();
    let m = view("MX");
    let mut c = cx(&m);
    c.max_record_bytes = bytes.len() - 1;
    assert_eq!(
        validate_bytes(&bytes, peer("CO"), &c).unwrap_err(),
        Rejection::Oversized {
            len: bytes.len(),
            max: bytes.len() - 1
        }
    );
    assert_refused!(
        validate(r.clone(), peer("CO"), &c),
        Rejection::Oversized { .. }
    );
    c.max_record_bytes = r.encoded_len();
    assert!(validate_bytes(&bytes, peer("CO"), &c).is_ok());
}

#[test]
fn bytes_that_are_not_a_record_are_malformed() {
    let r = co_alert();
    let bytes = r.encode();
    let short_signature = pb::SignedRecord {
        header: r.header_bytes.clone(),
        signature: r.signature[..63].to_vec(),
        body: r.body.clone(),
        erased_by: None,
    };
    for garbage in [
        b"\xff\xff\xff\xff not a record".to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
        short_signature.encode_to_vec(),
    ] {
        assert_refused!(at_mx_bytes(&garbage, peer("CO")), Rejection::Malformed(_));
    }
}

#[test]
fn an_unknown_wire_version_is_unsupported() {
    let r = co_alert();
    for version in [0, 2] {
        let mut h = pb_header(&r);
        h.version = version;
        let bytes = resigned(&h, &key_of("CO"), r.body.clone());
        assert_eq!(
            at_mx_bytes(&bytes, peer("CO")).unwrap_err(),
            Rejection::UnsupportedVersion(version)
        );
    }
}

#[test]
fn a_feed_id_that_is_not_the_hash_of_author_and_audience_is_malformed() {
    let r = co_alert();
    let mut h = pb_header(&r);
    let other = Audience::states([st("CO"), st("MX"), st("PE")]);
    h.feed = FeedId::of(&key_of("CO").public(), &other, crate::Channel::Main)
        .0
        .to_vec();
    let bytes = resigned(&h, &key_of("CO"), r.body.clone());
    assert_refused!(at_mx_bytes(&bytes, peer("CO")), Rejection::Malformed(m) if m.contains("feed"));
}

#[test]
fn a_seq_and_prev_that_do_not_agree_are_malformed() {
    let r = co_alert();
    let cases: [(u64, Vec<u8>); 3] = [(0, vec![]), (2, vec![]), (1, vec![7; 32])];
    for (seq, prev) in cases {
        let mut h = pb_header(&r);
        h.seq = seq;
        h.prev = prev;
        let bytes = resigned(&h, &key_of("CO"), r.body.clone());
        assert_refused!(at_mx_bytes(&bytes, peer("CO")), Rejection::Malformed(_));
    }
}

#[test]
fn an_alert_addressed_to_the_federation_is_misaddressed() {
    let r = Author::new("CO").publish(&["*"], alert("To everyone"), NOW_MS);
    assert_refused!(at_mx(&r, peer("CO")), Rejection::BadAudience(_));
}

#[test]
fn a_consent_addressed_to_states_is_misaddressed() {
    let r = Author::new("CO").publish(&["CO", "MX"], consent("MX"), NOW_MS);
    assert_refused!(at_mx(&r, peer("CO")), Rejection::BadAudience(_));
}

#[test]
fn a_key_that_is_not_in_the_roster_for_its_state_is_an_unknown_author() {
    let mut pe = Author::new("PE");
    pe.key = key_of("CO");
    let r = pe.publish(&["MX", "PE"], alert("CO's key as PE"), NOW_MS);
    assert_eq!(
        at_mx(&r, peer("PE")).unwrap_err(),
        Rejection::UnknownAuthor(st("PE"))
    );

    let mut co = Author::new("CO");
    co.key = stranger(2);
    let r = co.publish(&["CO", "MX"], alert("A key in no roster"), NOW_MS);
    assert_eq!(
        at_mx(&r, peer("CO")).unwrap_err(),
        Rejection::UnknownAuthor(st("CO"))
    );
}

#[test]
fn a_revoked_key_is_refused_whatever_time_its_record_claims() {
    let old = stranger(1);
    let mut m = view("MX");
    let mut r2 = roster(2, STATES);
    r2.revoked.push(RevokedKey {
        key: old.public(),
        state: st("CO"),
        revoked_at_ms: NOW_MS,
    });
    assert!(m.apply_roster(r2));
    let mut co = Author::new("CO");
    co.key = old.clone();
    // A thief holding the revoked key dates its records before the revocation: an alert,
    // and a consent that would win the consent ordering everywhere.
    let alert_before = co.publish(&["CO", "MX"], alert("Signed with the old key"), NOW_MS - 1);
    let consent_before = co.publish(
        &["*"],
        Body::Consent(Consent {
            partner: st("PE"),
            action: ConsentAction::Grant,
        }),
        NOW_MS - 60_000,
    );
    let alert_after = co.publish(&["CO", "MX"], alert("And after"), NOW_MS);
    for r in [&alert_before, &consent_before, &alert_after] {
        let why = validate_bytes(&r.encode(), peer("CO"), &cx(&m))
            .expect_err("a record signed by a revoked key must be refused");
        assert_eq!(why.code(), "revoked-author", "{why}");
        assert!(!why.is_offence(), "a relay does not answer for the author");
        let in_page = validate_page(&[r.encode()], peer("CO"), &cx(&m));
        assert_eq!(
            in_page[0].as_ref().err(),
            Some(&why),
            "same verdict in a page"
        );
    }
    // Control: the same alert from a key still in the roster passes.
    let fine = Author::new("CO").publish(&["CO", "MX"], alert("Current key"), NOW_MS - 1);
    assert!(validate_bytes(&fine.encode(), peer("CO"), &cx(&m)).is_ok());
}

#[test]
fn a_tampered_header_has_a_bad_signature() {
    let r = co_alert();
    let mut h = pb_header(&r);
    h.created_at_ms -= 60_000;
    let tampered = pb::SignedRecord {
        header: h.encode_to_vec(),
        signature: r.signature.to_vec(),
        body: r.body.clone(),
        erased_by: None,
    }
    .encode_to_vec();
    assert_eq!(
        at_mx_bytes(&tampered, peer("CO")).unwrap_err(),
        Rejection::BadSignature
    );
    let honest = resigned(&h, &key_of("CO"), r.body.clone());
    assert!(at_mx_bytes(&honest, peer("CO")).is_ok());
}

#[test]
fn a_record_signed_by_another_key_than_its_author_has_a_bad_signature() {
    let r = co_alert();
    let bytes = resigned(&pb_header(&r), &key_of("PE"), r.body.clone());
    assert_eq!(
        at_mx_bytes(&bytes, peer("CO")).unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn a_random_or_flipped_signature_is_a_bad_signature() {
    let r = co_alert();
    let mut random = r.clone();
    random.signature = [0x5a; 64];
    let mut flipped = r.clone();
    flipped.signature[10] ^= 0x01;
    for bad in [random, flipped] {
        assert_eq!(
            at_mx(&bad, peer("CO")).unwrap_err(),
            Rejection::BadSignature
        );
    }
}

#[test]
fn a_record_for_other_states_is_not_in_the_audience() {
    let bytes = co_alert().encode();
    let pe = view("PE");
    assert_eq!(
        validate_bytes(&bytes, peer("CO"), &cx(&pe)).unwrap_err(),
        Rejection::NotInAudience(st("PE"))
    );
}

#[test]
fn a_sender_outside_the_roster_is_not_allowed() {
    let result = at_mx(&co_alert(), Origin::Peer(stranger(3).public()));
    assert_refused!(result, Rejection::SenderNotAllowed(m) if m.contains("roster"));
}

#[test]
fn a_sender_outside_the_audience_is_not_allowed() {
    let err = at_mx(&co_alert(), peer("PE")).unwrap_err();
    assert_eq!(
        err,
        Rejection::SenderNotAllowed("PE is not in the audience".into())
    );
}

#[test]
fn a_sender_that_is_not_a_partner_is_not_allowed() {
    let r = Author::new("CO").publish(&["BR", "CO", "MX"], alert("For three"), NOW_MS);
    assert_eq!(
        at_mx(&r, peer("BR")).unwrap_err(),
        Rejection::SenderNotAllowed("BR is not a partner".into())
    );
    assert!(at_mx(&r, peer("CO")).is_ok());
}

#[test]
fn a_record_by_a_non_partner_is_refused_even_through_a_partner() {
    let not_partners = Rejection::AuthorNotPartner {
        author: st("BR"),
        local: st("MX"),
    };
    // Relayed by CO, a partner of MX in the audience.
    let r = Author::new("BR").publish(&["BR", "CO", "MX"], alert("From BR"), NOW_MS);
    assert_eq!(at_mx(&r, peer("CO")).unwrap_err(), not_partners);

    // For BR and MX only, relayed by MX's second node.
    let second = stranger(4);
    let mut m = view("MX");
    let mut r2 = roster(2, STATES);
    let mx = r2.members.iter_mut().find(|x| x.state == st("MX")).unwrap();
    mx.nodes.push(RosterNode {
        key: second.public(),
        addrs: vec![],
    });
    assert!(m.apply_roster(r2));
    let r = Author::new("BR").publish(&["BR", "MX"], alert("From BR"), NOW_MS);
    let from = Origin::Peer(second.public());
    assert_eq!(
        validate_bytes(&r.encode(), from, &cx(&m)).unwrap_err(),
        not_partners
    );
}

#[test]
fn a_consent_from_a_non_partner_is_accepted() {
    let r = Author::new("BR").publish(&["*"], consent("MX"), NOW_MS);
    let v = at_mx(&r, peer("BR")).expect("control records travel between any members");
    assert_eq!(v.body, Some(consent("MX")));
}

#[test]
fn a_roster_signed_by_a_key_other_than_the_anchor_is_an_unknown_author() {
    let body = Body::Roster(roster(2, STATES));
    let mut fake = Author::new("OAS");
    fake.key = key_of("CO");
    let r = fake.publish(&["*"], body.clone(), NOW_MS);
    assert_eq!(
        at_mx(&r, peer("CO")).unwrap_err(),
        Rejection::UnknownAuthor(st("OAS"))
    );
    // The anchor key, but claiming a member state.
    let mut fake = Author::new("MX");
    fake.key = key_of("OAS");
    let r = fake.publish(&["*"], body.clone(), NOW_MS);
    assert_eq!(
        at_mx(&r, peer("OAS")).unwrap_err(),
        Rejection::UnknownAuthor(st("MX"))
    );
    let r = Author::new("OAS").publish(&["*"], body, NOW_MS);
    assert!(at_mx(&r, peer("OAS")).is_ok());
}

#[test]
fn a_record_more_than_five_minutes_ahead_is_from_the_future() {
    let at = |ms| Author::new("CO").publish(&["CO", "MX"], alert("Early"), ms);
    assert!(at_mx(&at(NOW_MS + MAX_CLOCK_SKEW_MS), peer("CO")).is_ok());
    assert_eq!(
        at_mx(&at(NOW_MS + MAX_CLOCK_SKEW_MS + 1), peer("CO")).unwrap_err(),
        Rejection::FromTheFuture {
            ahead_ms: MAX_CLOCK_SKEW_MS + 1
        }
    );
}

#[test]
fn a_tampered_body_does_not_match_its_header() {
    let r = co_alert();
    let mut flipped = r.clone();
    flipped.body.as_mut().unwrap()[3] ^= 0x20;
    let mut longer = r.clone();
    longer.body.as_mut().unwrap().push(0);
    for bad in [flipped, longer] {
        assert_eq!(
            at_mx(&bad, peer("CO")).unwrap_err(),
            Rejection::BodyMismatch
        );
    }
}

#[test]
fn a_retraction_cannot_open_a_feed() {
    let retraction = |target| {
        Body::Retraction(Retraction {
            target,
            reason: "Sent in error".into(),
            erase: false,
        })
    };
    let r = Author::new("CO").publish(&["CO", "MX"], retraction(RecordId([7; 32])), NOW_MS);
    assert_refused!(at_mx(&r, peer("CO")), Rejection::BadRetraction(_));

    let mut co = Author::new("CO");
    let first = co.publish(&["CO", "MX"], alert("Wrong"), NOW_MS);
    let second = co.publish(&["CO", "MX"], retraction(first.id), NOW_MS);
    assert!(at_mx(&second, peer("CO")).is_ok());
}

#[test]
fn a_consent_to_oneself_is_a_bad_body() {
    let r = Author::new("CO").publish(&["*"], consent("CO"), NOW_MS);
    assert_refused!(at_mx(&r, peer("CO")), Rejection::BadBody(_));
}

#[test]
fn a_best_practice_without_a_title_is_a_bad_body() {
    // `Draft::prepare` encodes whatever it is given, so a buggy or hostile author can sign
    // this; build it at the wire level anyway, to test the receiver alone.
    let r = Author::new("CO").publish(&["CO", "MX"], crate::testkit::best_practice("x"), NOW_MS);
    let body = pb::BestPractice {
        title: "   ".into(),
        language: "es".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let bytes = carrying(&r, &key_of("CO"), body);
    assert_refused!(at_mx_bytes(&bytes, peer("CO")), Rejection::BadBody(m) if m.contains("title"));
}

#[test]
fn body_bytes_that_do_not_decode_as_their_kind_are_a_bad_body() {
    let r = co_alert();
    let undecodable = vec![0xff, 0xff, 0xff];
    let no_severity = pb::Alert {
        title: "No severity".into(),
        language: "en".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let bad_state = pb::Alert {
        title: "Bad state".into(),
        language: "en".into(),
        severity: pb::Severity::Low as i32,
        affected_states: vec!["Mexico".into()],
        ..Default::default()
    }
    .encode_to_vec();
    for body in [undecodable, no_severity, bad_state] {
        let bytes = carrying(&r, &key_of("CO"), body);
        assert_refused!(at_mx_bytes(&bytes, peer("CO")), Rejection::BadBody(_));
    }
}

#[test]
fn a_roster_listing_an_unpinned_key_for_the_own_state_is_refused() {
    let extra = stranger(7);
    let mut with_extra = roster(2, STATES);
    let mx = with_extra
        .members
        .iter_mut()
        .find(|m| m.state == st("MX"))
        .expect("MX is a member");
    mx.nodes.push(RosterNode {
        key: extra.public(),
        addrs: vec![],
    });
    let pinned = view("MX").with_pinned_keys(vec![key_of("MX").public()]);
    let oas = |body: Roster| Author::new("OAS").publish(&["*"], Body::Roster(body), NOW_MS);

    let refused = oas(with_extra.clone());
    assert_eq!(
        validate_bytes(&refused.encode(), peer("OAS"), &cx(&pinned)).unwrap_err(),
        Rejection::UnpinnedKey {
            state: st("MX"),
            key: extra.public()
        }
    );
    // Controls: the same roster without pinning, and a roster with only the pinned key.
    assert!(validate_bytes(&refused.encode(), peer("OAS"), &cx(&view("MX"))).is_ok());
    let only_pinned = oas(roster(2, STATES));
    assert!(validate_bytes(&only_pinned.encode(), peer("OAS"), &cx(&pinned)).is_ok());
}

mod erasure;
mod membership;

mod reports;
