//! How many records each index holds, kept on disk beside the index pages: one meta key
//! rewritten by every insert that adds records, in the same atomic batch as its index page,
//! so that it can never disagree with the pages after a crash. It lets `tipx status` (and
//! `Store::len`) answer at once after open, while the index itself is still being built.
//!
//! The value names the index page written with it: a store last written by a build that
//! did not keep it (its last page is another) has its counts taken from the index once
//! built, and written again by the next insert.

use std::collections::BTreeMap;

use super::Group;
use crate::store::Error;

/// The meta key of the counts.
pub(in crate::store) const KEY: &[u8] = b"index_counts";

/// Records per index, as of index page `page`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(in crate::store) struct Counts {
    /// The number of the last index page counted (sled numbers them from 0).
    pub(in crate::store) page: Option<u64>,
    /// Records in all.
    pub(in crate::store) total: u64,
    /// Records in each group (a kind or an author state).
    pub(in crate::store) groups: BTreeMap<Group, u64>,
}

impl Counts {
    /// `page + 1 (0: none) ‖ total ‖ (group ‖ count)*`, integers big-endian.
    pub(in crate::store) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16 + 12 * self.groups.len());
        v.extend_from_slice(&self.page.map_or(0, |p| p + 1).to_be_bytes());
        v.extend_from_slice(&self.total.to_be_bytes());
        for (g, n) in &self.groups {
            v.extend_from_slice(g);
            v.extend_from_slice(&n.to_be_bytes());
        }
        v
    }

    pub(in crate::store) fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = || Error::Corrupt("index counts".into());
        if v.len() < 16 || !(v.len() - 16).is_multiple_of(12) {
            return Err(bad());
        }
        let u64_at = |i: usize| u64::from_be_bytes(v[i..i + 8].try_into().expect("8 bytes"));
        Ok(Self {
            page: u64_at(0).checked_sub(1),
            total: u64_at(8),
            groups: v[16..]
                .chunks(12)
                .map(|c| {
                    (
                        c[..4].try_into().expect("4 bytes"),
                        u64::from_be_bytes(c[4..].try_into().expect("8 bytes")),
                    )
                })
                .collect(),
        })
    }

    /// These counts with `entries` added, as of page `page`.
    pub(in crate::store) fn with(&self, entries: &[super::Entry], page: u64) -> Self {
        let mut next = self.clone();
        next.page = Some(page);
        next.total += entries.len() as u64;
        for e in entries {
            for g in [
                super::group(tipx_protocol::store::Index::Kind(e.kind)),
                super::group(tipx_protocol::store::Index::State(e.state)),
            ]
            .into_iter()
            .flatten()
            {
                *next.groups.entry(g).or_default() += 1;
            }
        }
        next
    }

    /// How many records `index` holds.
    pub(in crate::store) fn count(&self, index: tipx_protocol::store::Index) -> u64 {
        match super::group(index) {
            None => self.total,
            Some(g) => self.groups.get(&g).copied().unwrap_or(0),
        }
    }
}
