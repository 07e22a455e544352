//! Key and value layouts. Everything lives in one sled tree, so that one atomic batch can
//! write an insert whole; the first byte of a key says what it is (see [`Space`]). Integers
//! are big-endian so that sled's byte order is numeric order.

use tipx_protocol::{
    FeedId, Kind, RecordId, StateCode, body::ConsentAction, membership::ConsentState,
};

use super::{Error, bodies::Loc};

/// What a key holds: its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Space {
    /// Schema version, roster in force, node-local settings.
    Meta = b'm',
    /// feed ‖ seq → header length ‖ header ‖ signature ‖ body, or where it is in a body pack
    /// (see [`record_value`]; the body is cut on erase).
    Records = b'p',
    /// feed → author, audience, head (JSON).
    Feeds = b'f',
    /// page number → the index entries of one insert (see `index::Entry`).
    IndexPages = b'i',
    /// target → retraction id.
    Retracted = b'x',
    /// erased record → the encoded retraction that erased it (the proof it travels with).
    Erasures = b'e',
    /// a body's [`Loc`] → nothing: bytes to overwrite with zeros once the erasure that
    /// dropped them is durable (kept so that a crash in between is finished at open).
    Wipes = b'w',
    /// sequence → fork evidence (JSON).
    Forks = b'F',
    /// from ‖ to → latest consent.
    Consents = b'c',
    /// page number → the audit entries of one write (see `audit::page`; JSON before).
    Audit = b'a',
}

/// A key in `space` made of `parts`.
pub(super) fn key(space: Space, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(space as u8);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// `p ‖ feed ‖ seq`, where a record is stored.
pub(super) fn position(feed: &FeedId, seq: u64) -> Vec<u8> {
    key(Space::Records, &[&feed.0, &seq.to_be_bytes()])
}

pub(super) fn kind_byte(kind: Kind) -> u8 {
    Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is listed") as u8
        + 1
}

pub(super) fn state_bytes(s: StateCode) -> [u8; 3] {
    let mut b = [0u8; 3];
    b[..s.as_str().len()].copy_from_slice(s.as_str().as_bytes());
    b
}

pub(super) fn state_from(b: &[u8]) -> Result<StateCode, Error> {
    let text = std::str::from_utf8(b).unwrap_or("").trim_end_matches('\0');
    text.parse()
        .map_err(|_| Error::Corrupt(format!("bad state code in a key: {b:?}")))
}

/// `c ‖ from ‖ to` → consent.
pub(super) fn consent_key(from: StateCode, to: StateCode) -> Vec<u8> {
    key(Space::Consents, &[&state_bytes(from), &state_bytes(to)])
}

pub(super) fn consent_key_decode(k: &[u8]) -> Result<(StateCode, StateCode), Error> {
    if k.len() != 7 {
        return Err(Error::Corrupt("consent key of the wrong length".into()));
    }
    Ok((state_from(&k[1..4])?, state_from(&k[4..])?))
}

pub(super) fn consent_value(c: ConsentState) -> [u8; 9] {
    let mut v = [0u8; 9];
    v[0] = match c.action {
        ConsentAction::Grant => 1,
        ConsentAction::Revoke => 2,
    };
    v[1..].copy_from_slice(&c.at_ms.to_be_bytes());
    v
}

pub(super) fn consent_value_decode(v: &[u8]) -> Result<ConsentState, Error> {
    let bad = || Error::Corrupt("consent value".into());
    let action = match v.first() {
        Some(1) => ConsentAction::Grant,
        Some(2) => ConsentAction::Revoke,
        _ => return Err(bad()),
    };
    let at = v.get(1..9).ok_or_else(bad)?.try_into().map_err(|_| bad())?;
    Ok(ConsentState {
        action,
        at_ms: u64::from_be_bytes(at),
    })
}

/// Where a stored record's body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StoredBody<'a> {
    /// Erased (or never held).
    None,
    /// In the value itself: consents, rosters and retractions, which are never erased.
    Inline(&'a [u8]),
    /// In a body pack: best practices and alerts, so that erasing is physical.
    Packed(Loc),
}

const TAG_NONE: u8 = 0;
const TAG_INLINE: u8 = 1;
const TAG_PACKED: u8 = 2;

/// A stored record: `header length (u32) ‖ header ‖ signature ‖ tag ‖ body or its place`
/// (tag 0: no body, 1: the body follows, 2: a 16-byte [`Loc`] follows).
pub(super) fn record_value(header: &[u8], signature: &[u8; 64], body: StoredBody<'_>) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + header.len() + 64 + 17);
    v.extend_from_slice(&(header.len() as u32).to_be_bytes());
    v.extend_from_slice(header);
    v.extend_from_slice(signature);
    match body {
        StoredBody::None => v.push(TAG_NONE),
        StoredBody::Inline(b) => {
            v.push(TAG_INLINE);
            v.extend_from_slice(b);
        }
        StoredBody::Packed(loc) => {
            v.push(TAG_PACKED);
            v.extend_from_slice(&loc.encode());
        }
    }
    v
}

/// A stored record's header bytes, signature and body.
pub(super) type StoredParts<'a> = (&'a [u8], [u8; 64], StoredBody<'a>);

/// Splits a stored record into header bytes, signature and body (or where it is).
pub(super) fn record_value_decode(v: &[u8]) -> Result<StoredParts<'_>, Error> {
    let (header, sig, rest) = split_value(v)?;
    let body = match rest.split_first() {
        Some((&TAG_NONE, [])) => StoredBody::None,
        Some((&TAG_INLINE, b)) => StoredBody::Inline(b),
        Some((&TAG_PACKED, loc)) => StoredBody::Packed(
            Loc::decode(loc).ok_or_else(|| Error::Corrupt("body location".into()))?,
        ),
        _ => return Err(Error::Corrupt("record value: unknown body tag".into())),
    };
    Ok((header, sig, body))
}

/// A stored record's header bytes, signature and the bytes after them.
pub(super) type SplitValue<'a> = (&'a [u8], [u8; 64], &'a [u8]);

/// `header length ‖ header ‖ signature ‖ rest` split into its parts.
pub(super) fn split_value(v: &[u8]) -> Result<SplitValue<'_>, Error> {
    let bad = || Error::Corrupt("record value".into());
    let len =
        u32::from_be_bytes(v.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let header = v.get(4..4 + len).ok_or_else(bad)?;
    let sig = v
        .get(4 + len..4 + len + 64)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    Ok((header, sig, &v[4 + len + 64..]))
}

pub(super) fn id_from(b: &[u8]) -> Result<RecordId, Error> {
    RecordId::from_slice(b).ok_or_else(|| Error::Corrupt("an id is not 32 bytes".into()))
}
