//! Properties of decoding and validating untrusted bytes: nothing a peer sends makes the
//! node panic, and no corruption of a valid record is accepted as different content.
//!
//! MX validates, in a federation where MX, CO and PE are partners (see `testkit`); the
//! coordinator (OAS, a partner of CO) validates activity summaries, which are for it alone.

use proptest::prelude::*;
use prost::Message;
use tipx_proto::v1 as pb;

use tipx_protocol::{
    Body, Kind, Membership, Origin, Record, RecordId, Rejection,
    body::{Consent, ConsentAction, Retraction},
    ids::sha256,
    record::Unsigned,
    testkit::{Author, NOW_MS, activity, alert, best_practice, membership, profile, roster, st},
    validate::{Context, validate_bytes},
    wire,
};

const STATES: &[&str] = &["OAS", "MX", "CO", "PE"];

const PARTNERS: &[(&str, &str)] = &[("MX", "CO"), ("MX", "PE"), ("CO", "PE"), ("CO", "OAS")];

fn mx() -> Membership {
    membership("MX", STATES, PARTNERS)
}

/// The node that validates records of `kind`: MX, or OAS for activity summaries.
fn receiver(kind: Kind) -> Membership {
    match kind {
        Kind::Activity => membership("OAS", STATES, PARTNERS),
        _ => mx(),
    }
}

fn at_mx(bytes: &[u8], m: &Membership) -> Result<tipx_protocol::Verified, Rejection> {
    let cx = Context {
        local_state: m.own_state(),
        now_ms: NOW_MS,
        max_record_bytes: 64 * 1024,
        membership: m,
    };
    validate_bytes(
        bytes,
        Origin::Peer(tipx_protocol::testkit::key_of("CO").public()),
        &cx,
    )
}

/// A valid record of `kind` from CO (OAS for the roster) as MX receives it from CO, and
/// the key that signed it. The retraction is at seq 2, after the alert it retracts.
fn record_of(kind: Kind) -> (Record, Author) {
    let (code, audience, body) = match kind {
        Kind::BestPractice => ("CO", &["CO", "MX"][..], best_practice("Hotline")),
        Kind::Alert => ("CO", &["CO", "MX"][..], alert("Fake job offers")),
        Kind::Retraction => ("CO", &["CO", "MX"][..], alert("Wrong")),
        Kind::Consent => (
            "CO",
            &["*"][..],
            Body::Consent(Consent {
                partner: st("MX"),
                action: ConsentAction::Grant,
            }),
        ),
        Kind::Roster => ("OAS", &["*"][..], Body::Roster(roster(2, STATES))),
        Kind::Activity => ("CO", &["OAS"][..], activity()),
        Kind::Profile => ("CO", &["CO", "MX"][..], profile()),
    };
    let mut author = Author::new(code);
    let mut r = author.publish(audience, body, NOW_MS);
    if kind == Kind::Retraction {
        let target = r.id;
        let body = Body::Retraction(Retraction {
            target,
            reason: "Sent in error".into(),
            erase: true,
        });
        r = author.publish(audience, body, NOW_MS);
    }
    (r, author)
}

/// `r`'s header made to carry `body` (hash and length updated), signed by `author`.
fn carrying(r: &Record, author: &Author, body: &[u8]) -> Vec<u8> {
    let mut h = pb::Header::decode(r.header_bytes.as_slice()).expect("our header decodes");
    h.body_sha256 = sha256(body).to_vec();
    h.body_len = body.len() as u32;
    let header_bytes = h.encode_to_vec();
    Unsigned {
        id: RecordId::of_header(&header_bytes),
        header: wire::decode_header(&header_bytes).expect("still a valid header"),
        header_bytes,
        body: body.to_vec(),
    }
    .sign(&author.key)
    .encode()
}

fn any_kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(Kind::ALL.to_vec())
}

/// Arbitrary bytes, or a valid body of `kind` with a few bytes overwritten (which reaches
/// deeper into the field conversions than noise does).
fn body_bytes(kind: Kind) -> BoxedStrategy<Vec<u8>> {
    let valid = record_of(kind).0.body.expect("published with a body");
    let len = valid.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4096),
        prop::collection::vec((0..len, any::<u8>()), 1..4).prop_map(move |edits| {
            let mut b = valid.clone();
            for (i, v) in edits {
                b[i] = v;
            }
            b
        }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_decode_or_validate(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let m = mx();
        let _ = Record::decode(&bytes);
        let _ = at_mx(&bytes, &m);
    }

    #[test]
    fn arbitrary_header_bytes_never_panic_decode_or_validate(
        header in prop::collection::vec(any::<u8>(), 0..1024),
        signature in prop::collection::vec(any::<u8>(), 64..=64),
    ) {
        let m = mx();
        let bytes = pb::SignedRecord { header, signature, body: Some(vec![]), erased_by: None }.encode_to_vec();
        let _ = Record::decode(&bytes);
        let _ = at_mx(&bytes, &m);
    }

    /// Flipping any bits of one byte of a valid record never yields different content.
    ///
    /// What holds is not "always refused": protobuf lets some envelope flips through. Turning
    /// the body field's tag into another field number makes prost skip it as unknown, and
    /// the record then reads as erased, which is valid. So the property is: it is refused,
    /// or it is accepted with the original header bytes and signature (the same id) and
    /// either the original body or none. Any change to the header breaks the signature, and
    /// any change to the body breaks its hash.
    #[test]
    fn a_flipped_byte_is_refused_or_changes_no_content(
        kind in any_kind(),
        at in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let m = receiver(kind);
        let (r, _) = record_of(kind);
        let mut bytes = r.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        if let Ok(v) = at_mx(&bytes, &m) {
            prop_assert_eq!(&v.record.header_bytes, &r.header_bytes);
            prop_assert_eq!(v.record.signature, r.signature);
            prop_assert_eq!(v.record.id, r.id);
            prop_assert!(v.record.body.is_none() || v.record.body == r.body);
            prop_assert_eq!(v.body.is_some(), v.record.body.is_some());
        }
    }

    /// A body whose hash matches its signed header is either accepted as a body of the
    /// header's kind or refused as a bad body (or, for a retraction, a bad retraction):
    /// never a panic, never another rejection.
    #[test]
    fn any_body_with_a_matching_hash_is_a_body_of_its_kind_or_a_bad_body(
        (kind, body) in any_kind().prop_flat_map(|k| (Just(k), body_bytes(k))),
    ) {
        let m = receiver(kind);
        let (r, author) = record_of(kind);
        match at_mx(&carrying(&r, &author, &body), &m) {
            Ok(v) => prop_assert_eq!(v.body.map(|b| b.kind()), Some(kind)),
            Err(Rejection::BadBody(_) | Rejection::BadRetraction(_)) => {}
            Err(other) => prop_assert!(false, "{kind}: unexpected {other:?}"),
        }
    }
}

#[test]
fn the_fixture_records_are_valid_as_sent() {
    for &kind in Kind::ALL {
        let m = receiver(kind);
        let (r, author) = record_of(kind);
        let body = r.body.clone().unwrap();
        assert!(at_mx(&r.encode(), &m).is_ok(), "{kind}");
        assert!(at_mx(&carrying(&r, &author, &body), &m).is_ok(), "{kind}");
    }
}

/// The envelope tolerance the flip property allows for: a body under an unknown field
/// number is skipped, so the record reads as one without its body, which is refused as
/// stripped (no retraction shows that its author erased it).
#[test]
fn a_body_moved_to_an_unknown_field_reads_as_stripped() {
    let m = mx();
    let (r, _) = record_of(Kind::Alert);
    let mut bytes = r.encode();
    let body_len = r.body.as_ref().unwrap().len();
    let tag = bytes.len() - body_len - prost::encoding::encoded_len_varint(body_len as u64) - 1;
    assert_eq!(bytes[tag], 0x1a, "field 3, length-delimited");
    bytes[tag] = 0x2a; // field 5, unknown to `SignedRecord`
    assert!(matches!(
        Record::decode(&bytes),
        Ok(Record { id, body: None, .. }) if id == r.id
    ));
    assert!(matches!(at_mx(&bytes, &m), Err(Rejection::Stripped(_))));
}
