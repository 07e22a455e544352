//! Rows kept in the order of a key (an id, or a time and id), in a compact form: a long
//! sorted vector and a short sorted **delta** that takes rows arriving out of order (old
//! records caught up from a peer, and ids, which come in no order), merged into the long one
//! when it grows past [`DELTA_MAX`]. Rows that arrive in order — a node's own publishing, a
//! feed fetched from its start — go into the long vector directly, also when they reach
//! back a little way among its last rows (records of the same millisecond, ordered by id,
//! are seldom in order): merges are done in place, from the back, so that only the rows
//! past the first new one move. An element is a row number (4 bytes, the key read from the
//! row) or a row number with the start of its key (12 bytes, for the ids: merging them then
//! reads no row).

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

/// How many of the main vector's last rows an insert may reach back among and still go into
/// it directly (moving them): 16 KiB of 4-byte rows, less than a delta merge moves.
#[cfg(not(test))]
const TAIL_MAX: usize = 4_096;
#[cfg(test)]
const TAIL_MAX: usize = 20;

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
        // among its own last whatever the delta holds.
        let moved = self.main.len() - self.main.partition_point(|e| cmp(e, &new[0]).is_lt());
        if moved <= TAIL_MAX {
            merge_into(&mut self.main, &new, &cmp);
            return;
        }
        merge_into(&mut self.delta, &new, &cmp);
        if self.delta.len() > DELTA_MAX {
            merge_into(&mut self.main, &self.delta, &cmp);
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
    /// `near(len)` guesses its place in a vector of `len` elements: the search starts there
    /// (for keys spread evenly, such as ids, which are hashes, a few nearby reads instead of
    /// a binary search's ~20 across a vector of tens of megabytes).
    pub(super) fn find(
        &self,
        near: impl Fn(usize) -> usize,
        below: impl Fn(&T) -> bool,
        matches: impl Fn(&T) -> bool,
    ) -> Option<T> {
        [&self.main, &self.delta].into_iter().find_map(|v| {
            let at = partition_near(v, near(v.len()), &below);
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

/// `new` (in order) merged into `v` (in order) in place: `v` grows by `new`'s length and
/// its rows are moved back from the end, so that only those past `new`'s first move.
fn merge_into<T: Copy>(v: &mut Vec<T>, new: &[T], cmp: &impl Fn(&T, &T) -> Ordering) {
    let Some(first) = new.first() else { return };
    let start = v.partition_point(|e| cmp(e, first).is_lt());
    let old_len = v.len();
    grow(v, new.len());
    v.extend_from_slice(new);
    // Filled from the back: `k` never passes `i + j`, so no row of `v` is overwritten
    // before it is moved.
    let (mut i, mut j, mut k) = (old_len, new.len(), v.len());
    while j > 0 {
        k -= 1;
        if i > start && cmp(&v[i - 1], &new[j - 1]).is_gt() {
            i -= 1;
            v[k] = v[i];
        } else {
            j -= 1;
            v[k] = new[j];
        }
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

/// `v.partition_point(below)`, searched from `guess`: steps of 1, 2, 4… away from it bracket
/// the point, then a binary search within the bracket finds it.
fn partition_near<T>(v: &[T], guess: usize, below: impl Fn(&T) -> bool) -> usize {
    let g = guess.min(v.len());
    let (mut lo, mut hi) = (0, v.len());
    let mut step = 1;
    if g < v.len() && below(&v[g]) {
        // The point is after the guess.
        lo = g + 1;
        while let Some(probe) = g.checked_add(step).filter(|p| *p < v.len()) {
            if !below(&v[probe]) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        // The point is at the guess or before it.
        hi = g;
        while let Some(probe) = g.checked_sub(step) {
            if below(&v[probe]) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    lo + v[lo..hi].partition_point(below)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_from_any_guess_finds_what_a_binary_search_finds() {
        let lens = [0usize, 1, 2, 3, 7, 64, 1000];
        for len in lens {
            let v: Vec<u32> = (0..len as u32).map(|i| i * 2).collect();
            for target in 0..=(len as u32 * 2 + 1) {
                let want = v.partition_point(|e| *e < target);
                for guess in [0, 1, len / 3, len / 2, len.saturating_sub(1), len, len + 5] {
                    assert_eq!(
                        partition_near(&v, guess, |e| *e < target),
                        want,
                        "len {len}, target {target}, guess {guess}"
                    );
                }
            }
        }
    }

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
        for near in [0, 1234, usize::MAX] {
            let found = s.find(|n| near.min(n), |e| key(e) < key(&r), |e| key(e) == key(&r));
            assert_eq!(found, Some(r));
        }
    }

    #[test]
    fn rows_nearly_in_order_go_into_the_main_vector_in_order() {
        // Times that tie in groups of 8 (records of one millisecond, ordered among
        // themselves by a scrambled id), arriving in pages of 5, so that a page reaches back
        // a few rows into the main vector; and now and then a row from far back (an old
        // record caught up from a peer), with a key of its own.
        let key = |r: &u32| {
            if *r >= 10_000 {
                (r - 10_000, 9)
            } else {
                ((r / 8) * 8, (r * 7919) % 8)
            }
        };
        let cmp = |a: &u32, b: &u32| key(a).cmp(&key(b));
        let mut s = Sorted::default();
        let mut want = vec![];
        for n in 0..600 {
            let page: Vec<u32> = (n * 5..n * 5 + 5).collect();
            want.extend(&page);
            s.insert(page, cmp);
            if n % 50 == 49 {
                s.insert(vec![10_000 + n], cmp);
                want.push(10_000 + n);
            }
            assert!(
                s.delta.len() <= 12,
                "only the rows from far back wait in the delta, not {}",
                s.delta.len()
            );
        }
        want.sort_by_key(key);
        assert_eq!(s.len(), want.len());
        assert!(s.ordered(cmp));
        assert_eq!(s.iter(cmp), want);
    }

    #[test]
    fn merging_in_place_keeps_every_row_once_in_order() {
        let by = |a: &u32, b: &u32| a.cmp(b);
        let mut v: Vec<u32> = (0..100).map(|x| x * 3).collect();
        let new = [1, 2, 151, 400, 401];
        let mut want = v.clone();
        want.extend(new);
        want.sort();
        merge_into(&mut v, &new, &by);
        assert_eq!(v, want);
        let mut empty: Vec<u32> = vec![];
        merge_into(&mut empty, &[5, 6], &by);
        assert_eq!(empty, vec![5, 6]);
    }
}
