//! Key and value layouts of the sled trees. Integers are big-endian so that sled's byte
//! order is numeric order.

use tipx_protocol::{
    FeedId, Kind, RecordId, StateCode, body::ConsentAction, membership::ConsentState,
    record::Header,
};

use super::Error;

/// `feed ‖ seq` → id.
pub(super) fn position(feed: &FeedId, seq: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&feed.0);
    k[32..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// `created_at ‖ id`, the time index.
pub(super) fn by_time(created_at_ms: u64, id: &RecordId) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..8].copy_from_slice(&created_at_ms.to_be_bytes());
    k[8..].copy_from_slice(&id.0);
    k
}

/// `kind ‖ created_at ‖ id`, the kind index.
pub(super) fn by_kind(kind: Kind, created_at_ms: u64, id: &RecordId) -> [u8; 41] {
    let mut k = [0u8; 41];
    k[0] = kind_byte(kind);
    k[1..].copy_from_slice(&by_time(created_at_ms, id));
    k
}

/// `state (3 bytes) ‖ created_at ‖ id`, the state index.
pub(super) fn by_state(state: StateCode, created_at_ms: u64, id: &RecordId) -> [u8; 43] {
    let mut k = [0u8; 43];
    k[..3].copy_from_slice(&state_bytes(state));
    k[3..].copy_from_slice(&by_time(created_at_ms, id));
    k
}

/// The index keys of a record.
pub(super) fn index_keys(id: &RecordId, h: &Header) -> ([u8; 40], [u8; 41], [u8; 43]) {
    (
        by_time(h.created_at_ms, id),
        by_kind(h.kind, h.created_at_ms, id),
        by_state(h.author_state, h.created_at_ms, id),
    )
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

fn state_from(b: &[u8]) -> Result<StateCode, Error> {
    let text = std::str::from_utf8(b).unwrap_or("").trim_end_matches('\0');
    text.parse()
        .map_err(|_| Error::Corrupt(format!("bad state code in a key: {b:?}")))
}

/// `from ‖ to` → consent.
pub(super) fn consent_key(from: StateCode, to: StateCode) -> [u8; 6] {
    let mut k = [0u8; 6];
    k[..3].copy_from_slice(&state_bytes(from));
    k[3..].copy_from_slice(&state_bytes(to));
    k
}

pub(super) fn consent_key_decode(k: &[u8]) -> Result<(StateCode, StateCode), Error> {
    if k.len() != 6 {
        return Err(Error::Corrupt("consent key of the wrong length".into()));
    }
    Ok((state_from(&k[..3])?, state_from(&k[3..])?))
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

/// The value of the `records` tree: `header length (u32) ‖ header ‖ signature`.
pub(super) fn record_value(header: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + header.len() + 64);
    v.extend_from_slice(&(header.len() as u32).to_be_bytes());
    v.extend_from_slice(header);
    v.extend_from_slice(signature);
    v
}

/// Splits a `records` value into header bytes and signature.
pub(super) fn record_value_decode(v: &[u8]) -> Result<(&[u8], [u8; 64]), Error> {
    let bad = || Error::Corrupt("record value".into());
    let len =
        u32::from_be_bytes(v.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let header = v.get(4..4 + len).ok_or_else(bad)?;
    let sig = v
        .get(4 + len..)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    Ok((header, sig))
}

pub(super) fn id_from(b: &[u8]) -> Result<RecordId, Error> {
    RecordId::from_slice(b).ok_or_else(|| Error::Corrupt("an id is not 32 bytes".into()))
}
