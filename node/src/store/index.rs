//! The lookup structures of the store: by id, by time, by kind and by state. Each insert
//! writes their new entries as one **index page** (one sled key, in the same atomic batch as
//! the records), and the store keeps them in memory in a compact form, built from the pages
//! in the background after open ([`load`]). One key per insert instead of four per record
//! is what lets the store write a record as a single key (see `docs/DECISIONS.md`).
//!
//! The compact form: every record is a **row** (a dense number, in the order the pages list
//! them) of 56 bytes — id, time, feed position (the feed as a number into a table of feeds),
//! kind and state — and each index is a list of rows sorted by its key ([`sorted`]): by
//! (time, id), and by (time, id) within each kind and each author state, 4 bytes a row (the
//! row number); by id, 12 bytes a row (the row number and the id's first 8 bytes, so that
//! ids, which come in no order, are merged without reading rows). About 80 bytes a record
//! in all (a million records: 76 MiB), against ~400 for the hash map and B-tree sets this
//! replaced. How many records each index holds is also kept
//! on disk ([`counts`]), so that `tipx status` answers before the index is built.

mod counts;
pub(super) mod load;
mod snapshot;
mod sorted;

use std::{
    cmp::Ordering,
    collections::{HashMap, HashSet},
};

use sorted::{Sorted, grow};
use tipx_protocol::{FeedId, Kind, RecordId, StateCode, store::Index};

pub(super) use counts::{Counts, KEY as COUNTS_KEY};

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
/// indexes.
pub(super) type Group = [u8; 4];

/// The group an index walks; `None` for the plain time index.
pub(super) fn group(index: Index) -> Option<Group> {
    match index {
        Index::Time => None,
        Index::Kind(k) => Some(kind_group(keys::kind_byte(k))),
        Index::State(s) => Some(state_group(keys::state_bytes(s))),
    }
}

fn kind_group(kind: u8) -> Group {
    [b'k', kind, 0, 0]
}

fn state_group([a, b, c]: [u8; 3]) -> Group {
    [b's', a, b, c]
}

/// One record in the index: 56 bytes.
#[derive(Clone, Copy)]
struct Row {
    id: RecordId,
    created_at_ms: u64,
    seq: u64,
    /// Its feed, as a number into [`Indexes::feeds`].
    feed: u32,
    kind: u8,
    state: [u8; 3],
}

/// A row in the id index: the row number and the first 8 bytes of its id (12 bytes).
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct IdSlot {
    prefix: u64,
    row: u32,
}

impl IdSlot {
    fn prefix(&self) -> u64 {
        self.prefix
    }

    fn row(&self) -> usize {
        self.row as usize
    }
}

/// The first 8 bytes of an id, as a number.
fn prefix(id: &RecordId) -> u64 {
    u64::from_be_bytes(id.0[..8].try_into().expect("8 bytes"))
}

/// The order of the id index.
fn by_id(rows: &[Row]) -> impl Fn(&IdSlot, &IdSlot) -> Ordering + '_ {
    |a, b| {
        a.prefix()
            .cmp(&b.prefix())
            .then_with(|| rows[a.row()].id.cmp(&rows[b.row()].id))
    }
}

/// The order of the time indexes: (time, id).
fn by_time(rows: &[Row]) -> impl Fn(&u32, &u32) -> Ordering + '_ {
    |a, b| {
        let (a, b) = (&rows[*a as usize], &rows[*b as usize]);
        a.created_at_ms
            .cmp(&b.created_at_ms)
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// The in-memory indexes, in compact form.
#[derive(Default)]
pub(super) struct Indexes {
    rows: Vec<Row>,
    /// Feeds by number, and numbers by feed.
    feeds: Vec<FeedId>,
    feed_numbers: HashMap<FeedId, u32>,
    /// Rows by id.
    by_id: Sorted<IdSlot>,
    /// Rows by (time, id).
    by_time: Sorted<u32>,
    /// Rows by group — a kind or an author state, see [`group`] — then (time, id).
    groups: HashMap<Group, Sorted<u32>>,
}

impl Indexes {
    /// The indexes of every entry of `pages`, built at once (sorting each index once rather
    /// than inserting into it page by page).
    pub(super) fn build(
        pages: impl Iterator<Item = Result<Vec<Entry>, Error>>,
    ) -> Result<Self, Error> {
        let mut idx = Self::default();
        for page in pages {
            let page = page?;
            grow(&mut idx.rows, page.len());
            for e in &page {
                idx.push(e);
            }
        }
        idx.sort();
        Ok(idx)
    }

    fn push(&mut self, e: &Entry) {
        let feed = match self.feed_numbers.get(&e.feed) {
            Some(n) => *n,
            None => {
                let n = self.feeds.len() as u32;
                self.feeds.push(e.feed);
                self.feed_numbers.insert(e.feed, n);
                n
            }
        };
        self.rows.push(Row {
            id: e.id,
            created_at_ms: e.created_at_ms,
            seq: e.seq,
            feed,
            kind: keys::kind_byte(e.kind),
            state: keys::state_bytes(e.state),
        });
    }

    /// The entry `r` was made of.
    fn entry(&self, r: &Row) -> Entry {
        Entry {
            id: r.id,
            feed: self.feeds[r.feed as usize],
            seq: r.seq,
            created_at_ms: r.created_at_ms,
            kind: Kind::ALL[usize::from(r.kind) - 1],
            state: keys::state_from(&r.state).expect("a row holds the state of an entry"),
        }
    }

    /// Builds every index from the rows at once; a row listed twice (an id in two pages)
    /// is kept once.
    fn sort(&mut self) {
        let rows = &self.rows;
        let mut ids: Vec<(u64, u32)> = (0..rows.len())
            .map(|r| (prefix(&rows[r].id), r as u32))
            .collect();
        ids.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| rows[a.1 as usize].id.cmp(&rows[b.1 as usize].id))
                .then(a.1.cmp(&b.1))
        });
        let twice: HashSet<u32> = ids
            .windows(2)
            .filter(|w| rows[w[0].1 as usize].id == rows[w[1].1 as usize].id)
            .map(|w| w[1].1)
            .collect();
        if !twice.is_empty() {
            let mut r = 0;
            self.rows.retain(|_| {
                r += 1;
                !twice.contains(&(r - 1))
            });
            return self.sort();
        }
        self.by_id = Sorted::from_sorted(
            ids.into_iter()
                .map(|(prefix, row)| IdSlot { prefix, row })
                .collect(),
        );
        let mut times: Vec<(u64, u64, u32)> = (0..rows.len())
            .map(|r| (rows[r].created_at_ms, prefix(&rows[r].id), r as u32))
            .collect();
        times.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| rows[a.2 as usize].id.cmp(&rows[b.2 as usize].id))
        });
        // Each group's vector made at its final size: grown by doubling, a large one would
        // leave freed blocks behind in the allocator.
        let mut sizes: HashMap<Group, usize> = HashMap::new();
        for row in rows {
            for g in [kind_group(row.kind), state_group(row.state)] {
                *sizes.entry(g).or_default() += 1;
            }
        }
        let mut groups: HashMap<Group, Vec<u32>> = sizes
            .into_iter()
            .map(|(g, n)| (g, Vec::with_capacity(n)))
            .collect();
        for (_, _, r) in &times {
            let row = &rows[*r as usize];
            for g in [kind_group(row.kind), state_group(row.state)] {
                groups.entry(g).or_default().push(*r);
            }
        }
        self.by_time = Sorted::from_sorted(times.into_iter().map(|(_, _, r)| r).collect());
        self.groups = groups
            .into_iter()
            .map(|(g, v)| (g, Sorted::from_sorted(v)))
            .collect();
        self.rows.shrink_to_fit();
    }

    /// Adds entries (an idempotent operation: an id already held is not added again).
    pub(super) fn add(&mut self, entries: &[Entry]) {
        let start = self.rows.len() as u32;
        let mut seen = HashSet::with_capacity(entries.len());
        grow(&mut self.rows, entries.len());
        for e in entries {
            if seen.insert(e.id) && self.row_of(&e.id).is_none() {
                self.push(e);
            }
        }
        let new: Vec<u32> = (start..self.rows.len() as u32).collect();
        if new.is_empty() {
            return;
        }
        let rows = &self.rows;
        let slots = new
            .iter()
            .map(|r| IdSlot {
                prefix: prefix(&rows[*r as usize].id),
                row: *r,
            })
            .collect();
        self.by_id.insert(slots, by_id(rows));
        let time = by_time(rows);
        self.by_time.insert(new.clone(), &time);
        let mut groups: HashMap<Group, Vec<u32>> = HashMap::new();
        for r in new {
            let row = &rows[r as usize];
            for g in [kind_group(row.kind), state_group(row.state)] {
                groups.entry(g).or_default().push(r);
            }
        }
        for (g, new) in groups {
            self.groups.entry(g).or_default().insert(new, &time);
        }
    }

    fn row_of(&self, id: &RecordId) -> Option<&Row> {
        let (p, rows) = (prefix(id), &self.rows);
        self.by_id
            .find(
                // Ids are hashes, spread evenly: an id's place is about its share of 2^64.
                |len| ((u128::from(p) * len as u128) >> 64) as usize,
                |s| s.prefix() < p || (s.prefix() == p && rows[s.row()].id < *id),
                |s| s.prefix() == p && rows[s.row()].id == *id,
            )
            .map(|s| &rows[s.row()])
    }

    /// Where the record `id` is: its feed and seq.
    pub(super) fn position(&self, id: &RecordId) -> Option<(FeedId, u64)> {
        self.row_of(id)
            .map(|row| (self.feeds[row.feed as usize], row.seq))
    }

    /// The ids of the records stored after the first `start`, in the order they were stored.
    pub(super) fn ids_from(&self, start: usize) -> Vec<RecordId> {
        self.rows.iter().skip(start).map(|r| r.id).collect()
    }

    /// How many records are indexed.
    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Up to `limit` ids that start with `prefix`.
    pub(super) fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Vec<RecordId> {
        let (mut lo, mut hi) = ([0u8; 32], [0xffu8; 32]);
        let n = prefix.len().min(32);
        lo[..n].copy_from_slice(&prefix[..n]);
        hi[..n].copy_from_slice(&prefix[..n]);
        let rows = &self.rows;
        let id = |s: &IdSlot| rows[s.row()].id.0;
        let mut ids: Vec<RecordId> = self
            .by_id
            .rev_range(by_id(rows), |s| id(s) < lo, |s| id(s) > hi, limit)
            .into_iter()
            .map(|s| rows[s.row()].id)
            .collect();
        ids.reverse();
        ids
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
        let sorted = match group(index) {
            None => &self.by_time,
            Some(g) => match self.groups.get(&g) {
                Some(sorted) => sorted,
                None => return vec![],
            },
        };
        let key = |r: &u32| {
            let row = &self.rows[*r as usize];
            (row.created_at_ms, row.id)
        };
        let above = |r: &u32| if strict { key(r) >= hi } else { key(r) > hi };
        sorted
            .rev_range(by_time(&self.rows), |r| key(r) < lo, above, n)
            .iter()
            .map(key)
            .collect()
    }

    /// How many records `index` holds (the store answers from its [`Counts`]).
    #[cfg(test)]
    pub(super) fn count(&self, index: Index) -> u64 {
        match group(index) {
            None => self.by_time.len() as u64,
            Some(g) => self.groups.get(&g).map_or(0, |s| s.len() as u64),
        }
    }

    /// How many records each index holds, as kept on disk; `page` is the last index page.
    pub(super) fn counts(&self, page: Option<u64>) -> Counts {
        Counts {
            page,
            total: self.len() as u64,
            groups: self
                .groups
                .iter()
                .map(|(g, s)| (*g, s.len() as u64))
                .collect(),
        }
    }

    /// Whether the ordered indexes hold exactly the rows, each once and in order, and every
    /// row in the groups of its kind and state.
    pub(super) fn consistent(&self) -> bool {
        let n = self.rows.len();
        let rows = &self.rows;
        let time = by_time(rows);
        let grouped: usize = self.groups.values().map(Sorted::len).sum();
        self.by_id.len() == n
            && self.by_time.len() == n
            && grouped == 2 * n
            && self.by_id.ordered(by_id(rows))
            && self
                .by_id
                .iter(by_id(rows))
                .iter()
                .all(|s| s.prefix() == prefix(&rows[s.row()].id))
            && self.by_time.ordered(&time)
            && self.groups.iter().all(|(g, s)| {
                s.ordered(&time)
                    && s.iter(&time).into_iter().all(|r| {
                        let row = &rows[r as usize];
                        *g == kind_group(row.kind) || *g == state_group(row.state)
                    })
            })
    }
}

#[cfg(test)]
mod tests;
