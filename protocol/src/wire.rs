//! Where the wire meets the domain: every conversion between the prost types of
//! `tipx-proto` and the domain types lives here, and nowhere else.

use prost::Message;
use tipx_proto::v1 as pb;

use crate::{
    FeedId, PublicKey, RecordId, StateCode,
    body::{self, Body},
    record::{Audience, Channel, Handling, Header, Kind, Record, Tlp},
    validate::Rejection,
};

fn malformed(what: impl Into<String>) -> Rejection {
    Rejection::Malformed(what.into())
}

fn state(s: &str, what: &str) -> Result<StateCode, Rejection> {
    s.parse()
        .map_err(|_| malformed(format!("{what}: `{s}` is not a state code")))
}

fn hash32(b: &[u8], what: &str) -> Result<[u8; 32], Rejection> {
    b.try_into()
        .map_err(|_| malformed(format!("{what}: expected 32 bytes, found {}", b.len())))
}

fn kind_to_pb(k: Kind) -> pb::Kind {
    match k {
        Kind::BestPractice => pb::Kind::BestPractice,
        Kind::Alert => pb::Kind::Alert,
        Kind::Retraction => pb::Kind::Retraction,
        Kind::Consent => pb::Kind::Consent,
        Kind::Roster => pb::Kind::Roster,
        Kind::Activity => pb::Kind::Activity,
        Kind::Profile => pb::Kind::Profile,
    }
}

fn kind_from_pb(v: i32) -> Result<Kind, Rejection> {
    Ok(match pb::Kind::try_from(v) {
        Ok(pb::Kind::BestPractice) => Kind::BestPractice,
        Ok(pb::Kind::Alert) => Kind::Alert,
        Ok(pb::Kind::Retraction) => Kind::Retraction,
        Ok(pb::Kind::Consent) => Kind::Consent,
        Ok(pb::Kind::Roster) => Kind::Roster,
        Ok(pb::Kind::Activity) => Kind::Activity,
        Ok(pb::Kind::Profile) => Kind::Profile,
        _ => return Err(malformed(format!("unknown kind {v}"))),
    })
}

fn tlp_to_pb(t: Tlp) -> pb::Tlp {
    match t {
        Tlp::Clear => pb::Tlp::Clear,
        Tlp::Green => pb::Tlp::Green,
        Tlp::Amber => pb::Tlp::Amber,
        Tlp::AmberStrict => pb::Tlp::AmberStrict,
        Tlp::Red => pb::Tlp::Red,
    }
}

fn tlp_from_pb(v: i32) -> Result<Tlp, Rejection> {
    Ok(match pb::Tlp::try_from(v) {
        Ok(pb::Tlp::Clear) => Tlp::Clear,
        Ok(pb::Tlp::Green) => Tlp::Green,
        Ok(pb::Tlp::Amber) => Tlp::Amber,
        Ok(pb::Tlp::AmberStrict) => Tlp::AmberStrict,
        Ok(pb::Tlp::Red) => Tlp::Red,
        _ => return Err(malformed(format!("unknown TLP {v}"))),
    })
}

fn handling_to_pb(h: Handling) -> pb::Handling {
    match h {
        Handling::FocalPoint => pb::Handling::FocalPoint,
        Handling::NationalAuthorities => pb::Handling::NationalAuthorities,
        Handling::Public => pb::Handling::Public,
    }
}

fn handling_from_pb(v: i32) -> Result<Handling, Rejection> {
    Ok(match pb::Handling::try_from(v) {
        Ok(pb::Handling::FocalPoint) => Handling::FocalPoint,
        Ok(pb::Handling::NationalAuthorities) => Handling::NationalAuthorities,
        Ok(pb::Handling::Public) => Handling::Public,
        _ => return Err(malformed(format!("unknown handling code {v}"))),
    })
}

/// Encodes a header (only when authoring: received headers keep their bytes).
pub(crate) fn encode_header(h: &Header) -> Vec<u8> {
    pb::Header {
        version: h.version,
        author: h.author.as_bytes().to_vec(),
        author_state: h.author_state.to_string(),
        audience: h.audience.codes(),
        feed: h.feed.0.to_vec(),
        seq: h.seq,
        prev: h.prev.map(|p| p.0.to_vec()).unwrap_or_default(),
        created_at_ms: h.created_at_ms,
        kind: kind_to_pb(h.kind) as i32,
        body_sha256: h.body_sha256.to_vec(),
        body_len: h.body_len,
        tlp: tlp_to_pb(h.tlp) as i32,
        handling: handling_to_pb(h.handling) as i32,
        channel: h.channel.wire().to_string(),
    }
    .encode_to_vec()
}

/// Decodes header bytes into a domain header.
pub fn decode_header(bytes: &[u8]) -> Result<Header, Rejection> {
    let h = pb::Header::decode(bytes).map_err(|e| malformed(format!("header: {e}")))?;
    if h.version != crate::record::VERSION {
        return Err(Rejection::UnsupportedVersion(h.version));
    }
    // A channel this node does not know holds kinds it does not know either: refused, but
    // not the sender's fault (docs/PROTOCOL.md, rollout rule).
    let channel = Channel::from_wire(&h.channel)
        .ok_or_else(|| Rejection::UnknownChannel(h.channel.chars().take(32).collect()))?;
    let author = PublicKey::from_bytes(&h.author)
        .map_err(|_| malformed("header: author is not an ed25519 key"))?;
    let audience =
        Audience::from_wire(&h.audience).map_err(|e| malformed(format!("header: {e}")))?;
    let prev = match h.prev.len() {
        0 => None,
        _ => Some(RecordId(hash32(&h.prev, "header.prev")?)),
    };
    Ok(Header {
        version: h.version,
        author,
        author_state: state(&h.author_state, "header.author_state")?,
        audience,
        feed: FeedId(hash32(&h.feed, "header.feed")?),
        seq: h.seq,
        prev,
        created_at_ms: h.created_at_ms,
        kind: kind_from_pb(h.kind)?,
        body_sha256: hash32(&h.body_sha256, "header.body_sha256")?,
        body_len: h.body_len,
        tlp: tlp_from_pb(h.tlp)?,
        handling: handling_from_pb(h.handling)?,
        channel,
    })
}

/// Encodes a record as a `SignedRecord`.
pub(crate) fn encode_record(r: &Record) -> Vec<u8> {
    pb::SignedRecord {
        header: r.header_bytes.clone(),
        signature: r.signature.to_vec(),
        body: r.body.clone(),
        erased_by: r.erased_by.clone(),
    }
    .encode_to_vec()
}

/// The id of an encoded `SignedRecord` (its header's hash), without decoding the header.
pub(crate) fn record_id(bytes: &[u8]) -> Option<RecordId> {
    let s = pb::SignedRecord::decode(bytes).ok()?;
    Some(RecordId::of_header(&s.header))
}

/// Decodes a `SignedRecord` and its header.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<Record, Rejection> {
    let s = pb::SignedRecord::decode(bytes).map_err(|e| malformed(format!("record: {e}")))?;
    let signature: [u8; 64] = s.signature.as_slice().try_into().map_err(|_| {
        malformed(format!(
            "signature: expected 64 bytes, found {}",
            s.signature.len()
        ))
    })?;
    let header = decode_header(&s.header)?;
    Ok(Record {
        id: RecordId::of_header(&s.header),
        header,
        header_bytes: s.header,
        signature,
        body: s.body,
        erased_by: s.erased_by,
    })
}

fn translation_to_pb(t: &body::Translation) -> pb::Translation {
    pb::Translation {
        language: t.language.clone(),
        title: t.title.clone(),
        summary: t.summary.clone(),
        text: t.text.clone(),
    }
}

fn translation_from_pb(t: pb::Translation) -> body::Translation {
    body::Translation {
        language: t.language,
        title: t.title,
        summary: t.summary,
        text: t.text,
    }
}

fn pillar_to_pb(p: body::Pillar) -> i32 {
    (match p {
        body::Pillar::Prevention => pb::Pillar::Prevention,
        body::Pillar::Protection => pb::Pillar::Protection,
        body::Pillar::Prosecution => pb::Pillar::Prosecution,
        body::Pillar::Partnership => pb::Pillar::Partnership,
    }) as i32
}

fn pillar_from_pb(v: i32) -> Result<body::Pillar, Rejection> {
    Ok(match pb::Pillar::try_from(v) {
        Ok(pb::Pillar::Prevention) => body::Pillar::Prevention,
        Ok(pb::Pillar::Protection) => body::Pillar::Protection,
        Ok(pb::Pillar::Prosecution) => body::Pillar::Prosecution,
        Ok(pb::Pillar::Partnership) => body::Pillar::Partnership,
        _ => return Err(malformed(format!("unknown pillar {v}"))),
    })
}

fn severity_to_pb(s: body::Severity) -> i32 {
    (match s {
        body::Severity::Info => pb::Severity::Info,
        body::Severity::Low => pb::Severity::Low,
        body::Severity::Medium => pb::Severity::Medium,
        body::Severity::High => pb::Severity::High,
        body::Severity::Critical => pb::Severity::Critical,
    }) as i32
}

fn severity_from_pb(v: i32) -> Result<body::Severity, Rejection> {
    Ok(match pb::Severity::try_from(v) {
        Ok(pb::Severity::Info) => body::Severity::Info,
        Ok(pb::Severity::Low) => body::Severity::Low,
        Ok(pb::Severity::Medium) => body::Severity::Medium,
        Ok(pb::Severity::High) => body::Severity::High,
        Ok(pb::Severity::Critical) => body::Severity::Critical,
        _ => return Err(malformed(format!("unknown severity {v}"))),
    })
}

const INDICATOR_TYPES: [(body::IndicatorType, pb::IndicatorType); 10] = [
    (body::IndicatorType::Phone, pb::IndicatorType::Phone),
    (body::IndicatorType::Email, pb::IndicatorType::Email),
    (body::IndicatorType::Url, pb::IndicatorType::Url),
    (body::IndicatorType::Domain, pb::IndicatorType::Domain),
    (
        body::IndicatorType::SocialAccount,
        pb::IndicatorType::SocialAccount,
    ),
    (body::IndicatorType::Document, pb::IndicatorType::Document),
    (body::IndicatorType::Route, pb::IndicatorType::Route),
    (body::IndicatorType::Location, pb::IndicatorType::Location),
    (body::IndicatorType::Keyword, pb::IndicatorType::Keyword),
    (body::IndicatorType::Other, pb::IndicatorType::Other),
];

fn indicator_type_from_pb(v: i32) -> Result<body::IndicatorType, Rejection> {
    INDICATOR_TYPES
        .iter()
        .find(|(_, p)| *p as i32 == v)
        .map(|(d, _)| *d)
        .ok_or_else(|| malformed(format!("unknown indicator type {v}")))
}

fn indicator_type_to_pb(t: body::IndicatorType) -> i32 {
    INDICATOR_TYPES
        .iter()
        .find(|(d, _)| *d == t)
        .map(|(_, p)| *p as i32)
        .unwrap_or_default()
}

fn key(b: &[u8], what: &str) -> Result<PublicKey, Rejection> {
    PublicKey::from_bytes(b).map_err(|_| malformed(format!("{what}: not an ed25519 key")))
}

/// Encodes a body.
pub(crate) fn encode_body(b: &Body) -> Vec<u8> {
    match b {
        Body::BestPractice(b) => pb::BestPractice {
            title: b.title.clone(),
            summary: b.summary.clone(),
            text: b.text.clone(),
            language: b.language.clone(),
            translations: b.translations.iter().map(translation_to_pb).collect(),
            pillars: b.pillars.iter().map(|p| pillar_to_pb(*p)).collect(),
            tags: b.tags.clone(),
            references: b
                .references
                .iter()
                .map(|r| pb::Reference {
                    title: r.title.clone(),
                    url: r.url.clone(),
                })
                .collect(),
        }
        .encode_to_vec(),
        Body::Alert(a) => pb::Alert {
            title: a.title.clone(),
            description: a.description.clone(),
            language: a.language.clone(),
            translations: a.translations.iter().map(translation_to_pb).collect(),
            severity: severity_to_pb(a.severity),
            category: a.category.clone(),
            indicators: a
                .indicators
                .iter()
                .map(|i| pb::Indicator {
                    r#type: indicator_type_to_pb(i.kind),
                    value: i.value.clone(),
                    note: i.note.clone(),
                })
                .collect(),
            affected_states: a.affected_states.iter().map(|s| s.to_string()).collect(),
            valid_until_ms: a.valid_until_ms.unwrap_or(0),
            tags: a.tags.clone(),
        }
        .encode_to_vec(),
        Body::Retraction(r) => pb::Retraction {
            target: r.target.0.to_vec(),
            reason: r.reason.clone(),
            erase: r.erase,
        }
        .encode_to_vec(),
        Body::Consent(c) => pb::Consent {
            partner: c.partner.to_string(),
            action: match c.action {
                body::ConsentAction::Grant => pb::ConsentAction::Grant,
                body::ConsentAction::Revoke => pb::ConsentAction::Revoke,
            } as i32,
        }
        .encode_to_vec(),
        Body::Roster(r) => pb::Roster {
            version: r.version,
            members: r
                .members
                .iter()
                .map(|m| pb::RosterMember {
                    state: m.state.to_string(),
                    name: m.name.clone(),
                    nodes: m
                        .nodes
                        .iter()
                        .map(|n| pb::RosterNode {
                            key: n.key.as_bytes().to_vec(),
                            addrs: n.addrs.clone(),
                        })
                        .collect(),
                })
                .collect(),
            revoked: r
                .revoked
                .iter()
                .map(|k| pb::RevokedKey {
                    key: k.key.as_bytes().to_vec(),
                    state: k.state.to_string(),
                    revoked_at_ms: k.revoked_at_ms,
                })
                .collect(),
        }
        .encode_to_vec(),
        Body::Activity(a) => reports::encode_activity(a),
        Body::Profile(p) => reports::encode_profile(p),
    }
}

fn bad_body(e: prost::DecodeError) -> Rejection {
    Rejection::BadBody(format!("does not decode: {e}"))
}

/// Decodes a body of the given kind; anything wrong with it is a [`Rejection::BadBody`].
pub(crate) fn decode_body(kind: Kind, bytes: &[u8]) -> Result<Body, Rejection> {
    let body = decode_body_fields(kind, bytes).map_err(|e| match e {
        Rejection::Malformed(m) => Rejection::BadBody(m),
        e => e,
    })?;
    body.check().map_err(Rejection::BadBody)?;
    Ok(body)
}

/// Decodes a body's fields (the field helpers report [`Rejection::Malformed`]).
fn decode_body_fields(kind: Kind, bytes: &[u8]) -> Result<Body, Rejection> {
    Ok(match kind {
        Kind::BestPractice => {
            let b = pb::BestPractice::decode(bytes).map_err(bad_body)?;
            Body::BestPractice(body::BestPractice {
                title: b.title,
                summary: b.summary,
                text: b.text,
                language: b.language,
                translations: b
                    .translations
                    .into_iter()
                    .map(translation_from_pb)
                    .collect(),
                pillars: b
                    .pillars
                    .into_iter()
                    .map(pillar_from_pb)
                    .collect::<Result<_, _>>()?,
                tags: b.tags,
                references: b
                    .references
                    .into_iter()
                    .map(|r| body::Reference {
                        title: r.title,
                        url: r.url,
                    })
                    .collect(),
            })
        }
        Kind::Alert => {
            let a = pb::Alert::decode(bytes).map_err(bad_body)?;
            Body::Alert(body::Alert {
                title: a.title,
                description: a.description,
                language: a.language,
                translations: a
                    .translations
                    .into_iter()
                    .map(translation_from_pb)
                    .collect(),
                severity: severity_from_pb(a.severity)?,
                category: a.category,
                indicators: a
                    .indicators
                    .into_iter()
                    .map(|i| {
                        Ok(body::Indicator {
                            kind: indicator_type_from_pb(i.r#type)?,
                            value: i.value,
                            note: i.note,
                        })
                    })
                    .collect::<Result<_, Rejection>>()?,
                affected_states: a
                    .affected_states
                    .iter()
                    .map(|s| state(s, "alert.affected_states"))
                    .collect::<Result<_, _>>()?,
                valid_until_ms: (a.valid_until_ms != 0).then_some(a.valid_until_ms),
                tags: a.tags,
            })
        }
        Kind::Retraction => {
            let r = pb::Retraction::decode(bytes).map_err(bad_body)?;
            Body::Retraction(body::Retraction {
                target: RecordId(hash32(&r.target, "retraction.target")?),
                reason: r.reason,
                erase: r.erase,
            })
        }
        Kind::Consent => {
            let c = pb::Consent::decode(bytes).map_err(bad_body)?;
            let action = match pb::ConsentAction::try_from(c.action) {
                Ok(pb::ConsentAction::Grant) => body::ConsentAction::Grant,
                Ok(pb::ConsentAction::Revoke) => body::ConsentAction::Revoke,
                _ => {
                    return Err(Rejection::BadBody(format!(
                        "unknown consent action {}",
                        c.action
                    )));
                }
            };
            Body::Consent(body::Consent {
                partner: state(&c.partner, "consent.partner")?,
                action,
            })
        }
        Kind::Roster => {
            let r = pb::Roster::decode(bytes).map_err(bad_body)?;
            Body::Roster(body::Roster {
                version: r.version,
                members: r
                    .members
                    .into_iter()
                    .map(|m| {
                        Ok(body::RosterMember {
                            state: state(&m.state, "roster.members.state")?,
                            name: m.name,
                            nodes: m
                                .nodes
                                .into_iter()
                                .map(|n| {
                                    Ok(body::RosterNode {
                                        key: key(&n.key, "roster node")?,
                                        addrs: n.addrs,
                                    })
                                })
                                .collect::<Result<_, Rejection>>()?,
                        })
                    })
                    .collect::<Result<_, Rejection>>()?,
                revoked: r
                    .revoked
                    .into_iter()
                    .map(|k| {
                        Ok(body::RevokedKey {
                            key: key(&k.key, "roster revoked key")?,
                            state: state(&k.state, "roster.revoked.state")?,
                            revoked_at_ms: k.revoked_at_ms,
                        })
                    })
                    .collect::<Result<_, Rejection>>()?,
            })
        }
        Kind::Activity => Body::Activity(reports::decode_activity(bytes)?),
        Kind::Profile => Body::Profile(reports::decode_profile(bytes)?),
    })
}

/// Conversions of the replication messages (`tipx/v1/sync.proto`).
pub(crate) mod messages;
mod reports;
