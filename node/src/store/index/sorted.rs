//! Row numbers kept in the order of a key (an id, or a time and id), in a compact form:
//! a long sorted vector and a short sorted **delta** that takes rows arriving out of order
//! (old records caught up from a peer), merged into the long one when it grows past
//! [`DELTA_MAX`]. Rows that arrive in order — a node's own publishing, a feed fetched from
//! its start — are appended to the long vector directly. 4 bytes a row and index.

/// Rows the delta holds before it is merged into the main vector. A merge rewrites the
/// main vector (4 MiB at a million rows, a few milliseconds) and an out-of-order insert
/// rewrites the delta (64 KiB at this size): 16,384 keeps both small beside a page's
/// insert.
#[cfg(not(test))]
const DELTA_MAX: usize = 16_384;
/// Small in tests, so that the stores of a few thousand records they write merge too.
#[cfg(test)]
const DELTA_MAX: usize = 100;

/// Row numbers sorted by a key the caller gives (the rows themselves live in
/// `Indexes::rows`).
#[derive(Default)]
pub(super) struct Sorted {
    main: Vec<u32>,
    delta: Vec<u32>,
}

impl Sorted {
    /// A sorted list of `rows`, already in key order.
    pub(super) fn from_sorted(rows: Vec<u32>) -> Self {
        Self {
            main: rows,
            delta: vec![],
        }
    }

    pub(super) fn len(&self) -> usize {
        self.main.len() + self.delta.len()
    }

    /// Adds `new` rows (in any order).
    pub(super) fn insert<K: Ord>(&mut self, mut new: Vec<u32>, key: impl Fn(u32) -> K) {
        if new.is_empty() {
            return;
        }
        new.sort_by_key(|r| key(*r));
        // The two vectors are each sorted and walked merged, so the main one takes rows
        // past its own last whatever the delta holds.
        let in_order = self.main.last().is_none_or(|last| key(*last) < key(new[0]));
        if in_order {
            grow(&mut self.main, new.len());
            self.main.extend(new);
            return;
        }
        self.delta = merge(&self.delta, &new, &key);
        if self.delta.len() > DELTA_MAX {
            self.main = merge(&self.main, &self.delta, &key);
            self.delta = vec![];
        }
    }

    /// The rows whose key `k` has `below(k)` false and `above(k)` false — those in a range —
    /// last first, at most `n` of them. `below` and `above` must be monotonic in the key.
    pub(super) fn rev_range<K: Ord>(
        &self,
        key: impl Fn(u32) -> K,
        below: impl Fn(&K) -> bool,
        above: impl Fn(&K) -> bool,
        n: usize,
    ) -> Vec<u32> {
        let bounds = |v: &[u32]| {
            let lo = v.partition_point(|r| below(&key(*r)));
            let hi = v.partition_point(|r| !above(&key(*r)));
            (lo, hi.max(lo))
        };
        let (m_lo, mut m) = bounds(&self.main);
        let (d_lo, mut d) = bounds(&self.delta);
        let mut out = Vec::with_capacity(n.min(m - m_lo + d - d_lo));
        while out.len() < n {
            let take_main = match (m > m_lo, d > d_lo) {
                (false, false) => break,
                (true, false) => true,
                (false, true) => false,
                (true, true) => key(self.main[m - 1]) > key(self.delta[d - 1]),
            };
            if take_main {
                m -= 1;
                out.push(self.main[m]);
            } else {
                d -= 1;
                out.push(self.delta[d]);
            }
        }
        out
    }

    /// The first row whose key is not below `below`, if it is `matches`.
    pub(super) fn find<K: Ord>(
        &self,
        key: impl Fn(u32) -> K,
        below: impl Fn(&K) -> bool,
        matches: impl Fn(&K) -> bool,
    ) -> Option<u32> {
        [&self.main, &self.delta].into_iter().find_map(|v| {
            let at = v.partition_point(|r| below(&key(*r)));
            v.get(at).copied().filter(|r| matches(&key(*r)))
        })
    }

    /// Every row, in key order.
    pub(super) fn iter<K: Ord>(&self, key: impl Fn(u32) -> K) -> Vec<u32> {
        merge(&self.main, &self.delta, &key)
    }

    /// Whether the rows are in strictly increasing key order.
    pub(super) fn ordered<K: Ord>(&self, key: impl Fn(u32) -> K) -> bool {
        [&self.main, &self.delta]
            .into_iter()
            .all(|v| v.windows(2).all(|w| key(w[0]) < key(w[1])))
    }
}

/// Reserves room for `more` rows: an eighth more than needed at least, not double, so
/// that a large index wastes little.
pub(super) fn grow<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve_exact(more.max(v.len() / 8).max(1024));
    }
}

/// `a` and `b` (each in key order) merged into one vector in key order.
fn merge<K: Ord>(a: &[u32], b: &[u32], key: &impl Fn(u32) -> K) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if key(b[j]) < key(a[i]) {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_out_of_order_are_found_in_key_order() {
        // key(row) = a scrambled value, so rows arrive out of key order.
        let key = |r: u32| (r * 7919) % 100_003;
        let mut s = Sorted::default();
        let rows: Vec<u32> = (0..4_000).collect();
        for chunk in rows.chunks(30) {
            s.insert(chunk.to_vec(), key);
        }
        assert_eq!(s.len(), 4_000);
        assert!(s.ordered(key));
        let mut all: Vec<u32> = rows.clone();
        all.sort_by_key(|r| key(*r));
        assert_eq!(s.iter(key), all);
        let newest: Vec<u32> = all.iter().rev().take(10).copied().collect();
        assert_eq!(s.rev_range(key, |_| false, |_| false, 10), newest);
        let window: Vec<u32> = all
            .iter()
            .rev()
            .filter(|r| (500..=9_000).contains(&key(**r)))
            .copied()
            .collect();
        assert_eq!(
            s.rev_range(key, |k| *k < 500, |k| *k > 9_000, usize::MAX),
            window
        );
        let r = all[1234];
        assert_eq!(s.find(key, |k| *k < key(r), |k| *k == key(r)), Some(r));
    }
}
