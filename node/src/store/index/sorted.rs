//! Rows kept in the order of a key (an id, or a time and id), in a compact form: a long
//! sorted vector and a short sorted **delta** that takes rows arriving out of order (old
//! records caught up from a peer, and ids, which come in no order), merged into the long one
//! when it grows past [`DELTA_MAX`]. Rows that arrive in order — a node's own publishing, a
//! feed fetched from its start — are appended to the long vector directly. An element is a
//! row number (4 bytes, the key read from the row) or a row number with the start of its key
//! (12 bytes, for the ids: merging them then reads no row).

use std::cmp::Ordering;

/// Rows the delta holds before it is merged into the main vector. A merge rewrites the
/// main vector (4 MiB at a million rows, a few milliseconds) and an out-of-order insert
/// rewrites the delta (64 KiB at this size): 16,384 keeps both small beside a page's
/// insert.
#[cfg(not(test))]
const DELTA_MAX: usize = 16_384;
/// Small in tests, so that the stores of a few thousand records they write merge too.
#[cfg(test)]
const DELTA_MAX: usize = 100;

/// Elements sorted by an order the caller gives (the rows themselves live in
/// `Indexes::rows`).
pub(super) struct Sorted<T> {
    main: Vec<T>,
    delta: Vec<T>,
}

impl<T> Default for Sorted<T> {
    fn default() -> Self {
        Self {
            main: vec![],
            delta: vec![],
        }
    }
}

impl<T: Copy> Sorted<T> {
    /// A sorted list of `rows`, already in order.
    pub(super) fn from_sorted(rows: Vec<T>) -> Self {
        Self {
            main: rows,
            delta: vec![],
        }
    }

    pub(super) fn len(&self) -> usize {
        self.main.len() + self.delta.len()
    }

    /// Adds `new` elements (in any order).
    pub(super) fn insert(&mut self, mut new: Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
        if new.is_empty() {
            return;
        }
        new.sort_by(&cmp);
        // The two vectors are each sorted and walked merged, so the main one takes rows
        // past its own last whatever the delta holds.
        let in_order = self
            .main
            .last()
            .is_none_or(|last| cmp(last, &new[0]) == Ordering::Less);
        if in_order {
            grow(&mut self.main, new.len());
            self.main.extend(new);
            return;
        }
        self.delta = merge(&self.delta, &new, &cmp);
        if self.delta.len() > DELTA_MAX {
            self.main = merge(&self.main, &self.delta, &cmp);
            self.delta = vec![];
        }
    }

    /// The elements `e` with `below(e)` false and `above(e)` false — those in a range —
    /// last first, at most `n` of them; `cmp` is the order. `below` and `above` must be
    /// monotonic in it.
    pub(super) fn rev_range(
        &self,
        cmp: impl Fn(&T, &T) -> Ordering,
        below: impl Fn(&T) -> bool,
        above: impl Fn(&T) -> bool,
        n: usize,
    ) -> Vec<T> {
        let bounds = |v: &[T]| {
            let lo = v.partition_point(&below);
            let hi = v.partition_point(|e| !above(e));
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
                (true, true) => cmp(&self.main[m - 1], &self.delta[d - 1]) == Ordering::Greater,
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

    /// The first element not `below`, if it `matches`, in either vector.
    pub(super) fn find(
        &self,
        below: impl Fn(&T) -> bool,
        matches: impl Fn(&T) -> bool,
    ) -> Option<T> {
        [&self.main, &self.delta].into_iter().find_map(|v| {
            let at = v.partition_point(&below);
            v.get(at).copied().filter(&matches)
        })
    }

    /// Every element, in order.
    pub(super) fn iter(&self, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
        merge(&self.main, &self.delta, &cmp)
    }

    /// Whether the elements are in strictly increasing order.
    pub(super) fn ordered(&self, cmp: impl Fn(&T, &T) -> Ordering) -> bool {
        [&self.main, &self.delta]
            .into_iter()
            .all(|v| v.windows(2).all(|w| cmp(&w[0], &w[1]) == Ordering::Less))
    }
}

/// Reserves room for `more` rows: an eighth more than needed at least, not double, so
/// that a large index wastes little.
pub(super) fn grow<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve_exact(more.max(v.len() / 8).max(1024));
    }
}

/// `a` and `b` (each in order) merged into one vector in order.
fn merge<T: Copy>(a: &[T], b: &[T], cmp: &impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&b[j], &a[i]) == Ordering::Less {
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
        let key = |r: &u32| (r * 7919) % 100_003;
        let cmp = |a: &u32, b: &u32| key(a).cmp(&key(b));
        let mut s = Sorted::default();
        let rows: Vec<u32> = (0..4_000).collect();
        for chunk in rows.chunks(30) {
            s.insert(chunk.to_vec(), cmp);
        }
        assert_eq!(s.len(), 4_000);
        assert!(s.ordered(cmp));
        let mut all: Vec<u32> = rows.clone();
        all.sort_by_key(key);
        assert_eq!(s.iter(cmp), all);
        let newest: Vec<u32> = all.iter().rev().take(10).copied().collect();
        assert_eq!(s.rev_range(cmp, |_| false, |_| false, 10), newest);
        let window: Vec<u32> = all
            .iter()
            .rev()
            .filter(|r| (500..=9_000).contains(&key(r)))
            .copied()
            .collect();
        assert_eq!(
            s.rev_range(cmp, |r| key(r) < 500, |r| key(r) > 9_000, usize::MAX),
            window
        );
        let r = all[1234];
        assert_eq!(s.find(|e| key(e) < key(&r), |e| key(e) == key(&r)), Some(r));
    }
}
