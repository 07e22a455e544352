//! An audit page on disk: the entries of one write, in a compact binary form. A received
//! record's entry takes ~80 bytes here against ~300 as JSON (ids as raw bytes, the peer
//! written once for a run of entries from it), and a catch-up writes one for every record.
//! Pages written as JSON by earlier builds (they begin with `[`) are still read.
//!
//! ```text
//! page  := 0x01 entry*
//! entry := flags at_ms event [record] [peer] detail [kind] [state] [feed] [seq] [by]
//!          [conflicts_with] [records] [count] [code]
//! ```
//! Numbers are varints (`tipx_protocol::varint`); ids are 32 bytes; text is a varint length
//! and UTF-8; `state` is 3 bytes; `records` a varint count and the ids. `flags` says which
//! bracketed fields are present; a peer equal to the entry before's is not written again.

use tipx_protocol::{
    FeedId, Kind, RecordId,
    store::{AuditEntry, AuditEvent},
    varint,
};

use super::super::{Error, decode_json, keys};

/// The first byte of a binary page (a JSON page begins with `[`).
const BINARY: u8 = 0x01;

const RECORD: u64 = 1;
const PEER: u64 = 1 << 1;
const PEER_AS_BEFORE: u64 = 1 << 2;
const KIND: u64 = 1 << 3;
const STATE: u64 = 1 << 4;
const FEED: u64 = 1 << 5;
const SEQ: u64 = 1 << 6;
const BY: u64 = 1 << 7;
const CONFLICTS_WITH: u64 = 1 << 8;
const RECORDS: u64 = 1 << 9;
const COUNT: u64 = 1 << 10;
const CODE: u64 = 1 << 11;
const KNOWN: u64 = (1 << 12) - 1;

/// The byte stored for an event. Stored bytes are never renumbered.
fn event_byte(e: &AuditEvent) -> u8 {
    match e {
        AuditEvent::Published => 1,
        AuditEvent::Received => 2,
        AuditEvent::Sent => 3,
        AuditEvent::Rejected => 4,
        AuditEvent::Retracted => 5,
        AuditEvent::Erased => 6,
        AuditEvent::Forked => 7,
        AuditEvent::OwnKeysChanged => 8,
    }
}

fn event_from(b: u8) -> Option<AuditEvent> {
    Some(match b {
        1 => AuditEvent::Published,
        2 => AuditEvent::Received,
        3 => AuditEvent::Sent,
        4 => AuditEvent::Rejected,
        5 => AuditEvent::Retracted,
        6 => AuditEvent::Erased,
        7 => AuditEvent::Forked,
        8 => AuditEvent::OwnKeysChanged,
        _ => return None,
    })
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    varint::put(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes the entries of one write as a page.
pub(in crate::store) fn encode(entries: &[AuditEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + entries.len() * 96);
    out.push(BINARY);
    let mut last_peer: Option<&str> = None;
    for e in entries {
        let peer = e.peer.as_deref();
        let present = [
            (RECORD, e.record.is_some()),
            (PEER, peer.is_some() && peer != last_peer),
            (PEER_AS_BEFORE, peer.is_some() && peer == last_peer),
            (KIND, e.kind.is_some()),
            (STATE, e.state.is_some()),
            (FEED, e.feed.is_some()),
            (SEQ, e.seq.is_some()),
            (BY, e.by.is_some()),
            (CONFLICTS_WITH, e.conflicts_with.is_some()),
            (RECORDS, !e.records.is_empty()),
            (COUNT, e.count.is_some()),
            (CODE, e.code.is_some()),
        ];
        let flags = present
            .iter()
            .filter(|(_, p)| *p)
            .fold(0, |f, (b, _)| f | b);
        varint::put(&mut out, flags);
        varint::put(&mut out, e.at_ms);
        out.push(event_byte(&e.event));
        if let Some(r) = &e.record {
            out.extend_from_slice(&r.0);
        }
        if flags & PEER != 0 {
            put_text(&mut out, peer.expect("present"));
        }
        last_peer = peer;
        put_text(&mut out, &e.detail);
        if let Some(k) = e.kind {
            out.push(keys::kind_byte(k));
        }
        if let Some(s) = e.state {
            out.extend_from_slice(&keys::state_bytes(s));
        }
        if let Some(f) = &e.feed {
            out.extend_from_slice(&f.0);
        }
        if let Some(s) = e.seq {
            varint::put(&mut out, s);
        }
        for id in [&e.by, &e.conflicts_with].into_iter().flatten() {
            out.extend_from_slice(&id.0);
        }
        if !e.records.is_empty() {
            varint::put(&mut out, e.records.len() as u64);
            for r in &e.records {
                out.extend_from_slice(&r.0);
            }
        }
        if let Some(c) = e.count {
            varint::put(&mut out, c);
        }
        if let Some(c) = &e.code {
            put_text(&mut out, c);
        }
    }
    out
}

/// Decodes a page, binary or (written by an earlier build) JSON.
pub(in crate::store) fn decode(v: &[u8]) -> Result<Vec<AuditEntry>, Error> {
    match v.split_first() {
        Some((&BINARY, rest)) => {
            let mut r = Reader(rest);
            let mut out = Vec::new();
            while !r.0.is_empty() {
                let entry = r.entry(out.last())?;
                out.push(entry);
            }
            Ok(out)
        }
        _ => decode_json("audit page", v),
    }
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("audit page: {what}"))
}

/// The bytes of a binary page not read yet.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], Error> {
        if self.0.len() < n {
            return Err(corrupt(&format!("cut inside {what}")));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn id(&mut self, what: &str) -> Result<[u8; 32], Error> {
        Ok(self.take(32, what)?.try_into().expect("32 bytes"))
    }

    fn number(&mut self, what: &str) -> Result<u64, Error> {
        varint::read(&mut self.0).map_err(|e| corrupt(&format!("{what}: {e:?}")))
    }

    fn text(&mut self, what: &str) -> Result<String, Error> {
        let n = usize::try_from(self.number(what)?).map_err(|_| corrupt(what))?;
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt(&format!("{what} not UTF-8")))
    }

    fn entry(&mut self, before: Option<&AuditEntry>) -> Result<AuditEntry, Error> {
        let flags = self.number("flags")?;
        if flags & !KNOWN != 0 {
            return Err(corrupt(&format!("unknown flags {flags:#x}")));
        }
        let has = |f: u64| flags & f != 0;
        let at_ms = self.number("time")?;
        let event = self.take(1, "event")?[0];
        let event = event_from(event).ok_or_else(|| corrupt(&format!("event {event}")))?;
        let record = has(RECORD)
            .then(|| self.id("record").map(RecordId))
            .transpose()?;
        let peer = if has(PEER) {
            Some(self.text("peer")?)
        } else if has(PEER_AS_BEFORE) {
            let earlier = before.and_then(|b| b.peer.clone());
            Some(earlier.ok_or_else(|| corrupt("a peer as before, with none before"))?)
        } else {
            None
        };
        let detail = self.text("detail")?;
        let kind = if has(KIND) {
            let b = self.take(1, "kind")?[0];
            let k = Kind::ALL.get(usize::from(b).wrapping_sub(1));
            Some(*k.ok_or_else(|| corrupt(&format!("kind {b}")))?)
        } else {
            None
        };
        let state = if has(STATE) {
            Some(keys::state_from(self.take(3, "state")?)?)
        } else {
            None
        };
        let feed = has(FEED).then(|| self.id("feed").map(FeedId)).transpose()?;
        let seq = has(SEQ).then(|| self.number("seq")).transpose()?;
        let by = has(BY).then(|| self.id("by").map(RecordId)).transpose()?;
        let conflicts_with = has(CONFLICTS_WITH)
            .then(|| self.id("conflicting record").map(RecordId))
            .transpose()?;
        let mut records = Vec::new();
        if has(RECORDS) {
            let n = self.number("record count")?;
            if n.saturating_mul(32) > self.0.len() as u64 {
                return Err(corrupt("cut inside the records sent"));
            }
            for _ in 0..n {
                records.push(RecordId(self.id("records sent")?));
            }
        }
        let count = has(COUNT).then(|| self.number("count")).transpose()?;
        let code = has(CODE).then(|| self.text("code")).transpose()?;
        Ok(AuditEntry {
            at_ms,
            event,
            record,
            peer,
            detail,
            kind,
            state,
            feed,
            seq,
            by,
            conflicts_with,
            records,
            count,
            code,
        })
    }
}

#[cfg(test)]
mod tests {
    use tipx_protocol::{StateCode, store::AuditEvent};

    use super::*;

    fn full(at_ms: u64, peer: Option<&str>) -> AuditEntry {
        AuditEntry {
            record: Some(RecordId([1; 32])),
            peer: peer.map(str::to_owned),
            kind: Some(Kind::Alert),
            state: Some("MX".parse::<StateCode>().unwrap()),
            feed: Some(FeedId([2; 32])),
            seq: Some(300),
            by: Some(RecordId([3; 32])),
            conflicts_with: Some(RecordId([4; 32])),
            records: vec![RecordId([5; 32]), RecordId([6; 32])],
            count: Some(7),
            code: Some("fork".into()),
            ..AuditEntry::new(at_ms, AuditEvent::Rejected, "a reason, in words: é")
        }
    }

    #[test]
    fn every_field_and_event_comes_back_as_written() {
        let events = [
            AuditEvent::Published,
            AuditEvent::Received,
            AuditEvent::Sent,
            AuditEvent::Rejected,
            AuditEvent::Retracted,
            AuditEvent::Erased,
            AuditEvent::Forked,
            AuditEvent::OwnKeysChanged,
        ];
        let mut page: Vec<AuditEntry> = events
            .iter()
            .map(|e| AuditEntry::new(9, e.clone(), ""))
            .collect();
        // Peers changing, repeated, absent in between and back again.
        for (i, peer) in [
            Some("12D3KooWA"),
            Some("12D3KooWA"),
            None,
            Some("12D3KooWA"),
            Some("12D3KooWB"),
        ]
        .into_iter()
        .enumerate()
        {
            page.push(full(1_700_000_000_000 + i as u64, peer));
        }
        assert_eq!(decode(&encode(&page)).unwrap(), page);
    }

    #[test]
    fn a_received_entry_is_a_third_of_its_json() {
        let page: Vec<AuditEntry> = (0..64)
            .map(|i| AuditEntry {
                record: Some(RecordId([i; 32])),
                peer: Some("12D3KooWHoLVN2sPu7W3EaNYtrtHzPGUoNTowRvMmJ3VYXULxpnB".into()),
                kind: Some(Kind::Alert),
                state: Some("MX".parse::<StateCode>().unwrap()),
                feed: Some(FeedId([2; 32])),
                seq: Some(u64::from(i) + 1000),
                ..AuditEntry::new(1_700_000_000_000, AuditEvent::Received, "")
            })
            .collect();
        let binary = encode(&page).len();
        let json = serde_json::to_vec(&page).unwrap().len();
        assert!(binary * 3 < json, "{binary} bytes against {json} as JSON");
    }

    #[test]
    fn a_page_written_as_json_by_an_earlier_build_is_still_read() {
        let page = vec![
            full(5, Some("12D3KooWA")),
            AuditEntry::new(6, AuditEvent::Sent, "x"),
        ];
        assert_eq!(decode(&serde_json::to_vec(&page).unwrap()).unwrap(), page);
    }

    #[test]
    fn a_cut_or_unknown_page_is_refused_as_corrupt() {
        let bytes = encode(&[full(5, Some("12D3KooWA"))]);
        for cut in 2..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut unknown = vec![BINARY];
        varint::put(&mut unknown, 1 << 20);
        assert!(decode(&unknown).is_err());
        // The marker, no flags, the time (1), then the event.
        let mut bad_event = encode(&[AuditEntry::new(1, AuditEvent::Sent, "")]);
        bad_event[3] = 99;
        assert!(decode(&bad_event).is_err());
    }
}
