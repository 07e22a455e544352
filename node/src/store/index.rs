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

/// A kind (`k`, kind byte) or an author state (`s`, state code): the key of the grouped
/// index.
type Group = [u8; 4];

/// The group an index walks; `None` for the plain time index.
fn group(index: Index) -> Option<Group> {
    match index {
        Index::Time => None,
        Index::Kind(k) => Some([b'k', keys::kind_byte(k), 0, 0]),
        Index::State(s) => {
            let [a, b, c] = keys::state_bytes(s);
            Some([b's', a, b, c])
        }
    }
}

/// The in-memory indexes.
#[derive(Default)]
pub(super) struct Indexes {
    /// id → where the record is.
    pub(super) ids: HashMap<RecordId, (FeedId, u64)>,
    by_time: BTreeSet<(u64, RecordId)>,
    /// Records by group — a kind or an author state, see [`group`] — then time.
    by_group: BTreeSet<(Group, u64, RecordId)>,
}

impl Indexes {
    /// Adds entries (an idempotent operation).
    pub(super) fn add(&mut self, entries: &[Entry]) {
        for e in entries {
            self.ids.insert(e.id, (e.feed, e.seq));
            self.by_time.insert((e.created_at_ms, e.id));
            self.by_group.insert((
                group(Index::Kind(e.kind)).expect("a group"),
                e.created_at_ms,
                e.id,
            ));
            self.by_group.insert((
                group(Index::State(e.state)).expect("a group"),
                e.created_at_ms,
                e.id,
            ));
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
            Index::Kind(_) | Index::State(_) => {
                let g = group(index).expect("a group");
                self.by_group
                    .range((g, lo.0, lo.1)..=(g, hi.0, hi.1))
                    .rev()
                    .map(|(_, t, id)| (*t, *id))
                    .filter(keep)
                    .take(n)
                    .collect()
            }
        }
    }

    /// How many records `index` holds.
    pub(super) fn count(&self, index: Index) -> u64 {
        match group(index) {
            None => self.by_time.len() as u64,
            Some(g) => {
                let lo = (g, 0, RecordId([0; 32]));
                let hi = (g, u64::MAX, RecordId([0xff; 32]));
                self.by_group.range(lo..=hi).count() as u64
            }
        }
    }

    /// Whether the three ordered indexes hold exactly the ids.
    pub(super) fn consistent(&self) -> bool {
        let n = self.ids.len();
        self.by_time.len() == n && self.by_group.len() == 2 * n
    }
}
