//! The lookup structures of the store: by id, by time, by kind and by state. Each insert
//! writes their new entries as one **index page** (one sled key, in the same atomic batch as
//! the records), and the store keeps them in memory, loaded from the pages at open. One key
//! per insert instead of four per record is what lets the store write a record as a single
//! key (see `docs/DECISIONS.md`).

use std::collections::{BTreeSet, HashMap};

use tipx_protocol::{FeedId, Kind, RecordId, StateCode, store::Index};

use super::{Error, keys};

/// One record's index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) id: RecordId,
    pub(super) feed: FeedId,
    pub(super) seq: u64,
    pub(super) created_at_ms: u64,
    pub(super) kind: Kind,
    pub(super) state: StateCode,
}

/// Bytes of one entry in a page.
const ENTRY_BYTES: usize = 32 + 32 + 8 + 8 + 1 + 3;

/// Encodes a page of entries.
pub(super) fn encode_page(entries: &[Entry]) -> Vec<u8> {
    let mut v = Vec::with_capacity(entries.len() * ENTRY_BYTES);
    for e in entries {
        v.extend_from_slice(&e.id.0);
        v.extend_from_slice(&e.feed.0);
        v.extend_from_slice(&e.seq.to_be_bytes());
        v.extend_from_slice(&e.created_at_ms.to_be_bytes());
        v.push(keys::kind_byte(e.kind));
        v.extend_from_slice(&keys::state_bytes(e.state));
    }
    v
}

/// Decodes a page of entries.
pub(super) fn decode_page(v: &[u8]) -> Result<Vec<Entry>, Error> {
    if !v.len().is_multiple_of(ENTRY_BYTES) {
        return Err(Error::Corrupt("index page of a wrong length".into()));
    }
    v.chunks(ENTRY_BYTES)
        .map(|c| {
            let kind = *Kind::ALL
                .get(usize::from(c[80]).wrapping_sub(1))
                .ok_or_else(|| Error::Corrupt("index kind".into()))?;
            Ok(Entry {
                id: RecordId(c[..32].try_into().expect("32 bytes")),
                feed: FeedId(c[32..64].try_into().expect("32 bytes")),
                seq: u64::from_be_bytes(c[64..72].try_into().expect("8 bytes")),
                created_at_ms: u64::from_be_bytes(c[72..80].try_into().expect("8 bytes")),
                kind,
                state: keys::state_from(&c[81..84])?,
            })
        })
        .collect()
}

/// The in-memory indexes.
#[derive(Default)]
pub(super) struct Indexes {
    /// id → where the record is.
    pub(super) ids: HashMap<RecordId, (FeedId, u64)>,
    by_time: BTreeSet<(u64, RecordId)>,
    by_kind: BTreeSet<(u8, u64, RecordId)>,
    by_state: BTreeSet<([u8; 3], u64, RecordId)>,
}

impl Indexes {
    /// Adds entries (an idempotent operation).
    pub(super) fn add(&mut self, entries: &[Entry]) {
        for e in entries {
            self.ids.insert(e.id, (e.feed, e.seq));
            self.by_time.insert((e.created_at_ms, e.id));
            self.by_kind
                .insert((keys::kind_byte(e.kind), e.created_at_ms, e.id));
            self.by_state
                .insert((keys::state_bytes(e.state), e.created_at_ms, e.id));
        }
    }

    /// Up to `n` ids of `index` created in `since..=until`, newest first, strictly older
    /// than `before` (a `(created_at, id)` cursor) when given.
    pub(super) fn page(
        &self,
        index: Index,
        since: u64,
        until: u64,
        before: Option<(u64, RecordId)>,
        n: usize,
    ) -> Vec<(u64, RecordId)> {
        let hi = before.unwrap_or((until, RecordId([0xff; 32])));
        let lo = (since, RecordId([0; 32]));
        if hi < lo {
            return vec![];
        }
        let strict = before.is_some();
        let keep = |t: &(u64, RecordId)| !(strict && *t == hi);
        match index {
            Index::Time => self
                .by_time
                .range(lo..=hi)
                .rev()
                .filter(|t| keep(t))
                .take(n)
                .copied()
                .collect(),
            Index::Kind(k) => {
                let b = keys::kind_byte(k);
                self.by_kind
                    .range((b, lo.0, lo.1)..=(b, hi.0, hi.1))
                    .rev()
                    .map(|(_, t, id)| (*t, *id))
                    .filter(keep)
                    .take(n)
                    .collect()
            }
            Index::State(s) => {
                let b = keys::state_bytes(s);
                self.by_state
                    .range((b, lo.0, lo.1)..=(b, hi.0, hi.1))
                    .rev()
                    .map(|(_, t, id)| (*t, *id))
                    .filter(keep)
                    .take(n)
                    .collect()
            }
        }
    }

    /// Whether the three ordered indexes hold exactly the ids.
    pub(super) fn consistent(&self) -> bool {
        let n = self.ids.len();
        self.by_time.len() == n && self.by_kind.len() == n && self.by_state.len() == n
    }
}
