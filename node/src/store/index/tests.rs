//! The index against a plain model (B-tree sets, as the store kept before the compact
//! form), and on a real sled store on disk: listings in the same order after inserts out
//! of time order and after a restart, counts before the index is built, and the checks of
//! `tipx store check`.

use std::collections::BTreeSet;

use tipx_protocol::{
    FeedId, Kind, Record, RecordId,
    store::{Index, Source, Store},
    testkit::{Author, NOW_MS, alert, best_practice, st, trusted},
};

use super::{Entry, Indexes, decode_page, encode_page, load::gate};
use crate::store::{
    SledStore,
    keys::{Space, key},
};

/// splitmix64: the tests' source of arbitrary numbers.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn entries(n: usize, mix: &mut Mix) -> Vec<Entry> {
    let states = [st("MX"), st("CO"), st("PE")];
    (0..n)
        .map(|i| {
            let mut id = [0u8; 32];
            for c in id.chunks_mut(8) {
                c.copy_from_slice(&mix.next().to_be_bytes());
            }
            // Few distinct times, so that ties are broken by id; a shared id prefix now and
            // then, so that ties of the 8-byte prefix are broken by the whole id.
            if i % 7 == 0 {
                id[..8].copy_from_slice(&[7; 8]);
            }
            Entry {
                id: RecordId(id),
                feed: FeedId([(mix.next() % 5) as u8; 32]),
                seq: i as u64 + 1,
                created_at_ms: NOW_MS + mix.next() % 500,
                kind: Kind::ALL[(mix.next() % 2) as usize],
                state: states[(mix.next() % 3) as usize],
            }
        })
        .collect()
}

/// What the listing of `index` must return, newest first, from the entries themselves.
fn model(all: &[Entry], index: Index) -> Vec<(u64, RecordId)> {
    let keep = |e: &Entry| match index {
        Index::Time => true,
        Index::Kind(k) => e.kind == k,
        Index::State(s) => e.state == s,
    };
    let set: BTreeSet<(u64, RecordId)> = all
        .iter()
        .filter(|e| keep(e))
        .map(|e| (e.created_at_ms, e.id))
        .collect();
    set.into_iter().rev().collect()
}

/// The indexes the entries fill.
fn indexes() -> Vec<Index> {
    let mut v = vec![Index::Time, Index::State(st("MX")), Index::State(st("CO"))];
    v.extend(Kind::ALL[..2].iter().map(|k| Index::Kind(*k)));
    v
}

/// Every page of `index` in `since..=until`, walked with a cursor as listings page.
fn walk(idx: &Indexes, index: Index, since: u64, until: u64, n: usize) -> Vec<(u64, RecordId)> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = idx.page(index, since, until, cursor, n);
        let Some(last) = page.last().copied() else {
            return out;
        };
        out.extend(page);
        cursor = Some(last);
    }
}

fn agrees(idx: &Indexes, all: &[Entry], mix: &mut Mix) {
    assert_eq!(idx.len(), all.len());
    assert!(idx.consistent());
    for index in indexes() {
        let want = model(all, index);
        assert_eq!(walk(idx, index, 0, u64::MAX, 37), want, "{index:?}");
        assert_eq!(idx.count(index), want.len() as u64);
        let (a, b) = (NOW_MS + mix.next() % 500, NOW_MS + mix.next() % 500);
        let (since, until) = (a.min(b), a.max(b));
        let window: Vec<_> = want
            .iter()
            .filter(|(t, _)| (since..=until).contains(t))
            .copied()
            .collect();
        assert_eq!(walk(idx, index, since, until, 5), window, "{index:?}");
    }
    for e in all {
        assert_eq!(idx.position(&e.id), Some((e.feed, e.seq)));
        let found = idx.ids_with_prefix(&e.id.0[..12], 10);
        assert_eq!(found, vec![e.id]);
    }
    assert_eq!(idx.position(&RecordId([3; 32])), None);
    assert_eq!(
        idx.ids_with_prefix(&[7; 8], 10_000).len(),
        all.len().div_ceil(7)
    );
}

#[test]
fn the_compact_index_lists_what_the_plain_one_did_whatever_the_insert_order() {
    let mut mix = Mix(11);
    let all = entries(3_000, &mut mix);
    // Inserted page by page, in pages of every size, out of time order.
    let mut idx = Indexes::default();
    let mut at = 0;
    while at < all.len() {
        let n = (1 + mix.next() % 300) as usize;
        let page = &all[at..(at + n).min(all.len())];
        idx.add(page);
        at += page.len();
    }
    agrees(&idx, &all, &mut mix);
    // An id added again changes nothing.
    idx.add(&all[10..20]);
    agrees(&idx, &all, &mut mix);
    // Built at once from the pages, as at open — also from pages that list an id twice.
    let mut pages: Vec<Vec<u8>> = all.chunks(256).map(encode_page).collect();
    pages.push(encode_page(&all[5..9]));
    let built = Indexes::build(pages.iter().map(|p| decode_page(p))).unwrap();
    agrees(&built, &all, &mut mix);
}

/// Records of two authors whose times go back and forth, as when a node catches up old
/// records from a new partner while it publishes new ones.
fn out_of_order_records() -> Vec<Vec<Record>> {
    let mut mix = Mix(5);
    let mut authors = [Author::new("CO"), Author::new("PE")];
    let audiences: [&[&str]; 2] = [&["CO", "MX"], &["MX", "PE"]];
    let mut pages = vec![];
    for round in 0..12u64 {
        for (a, author) in authors.iter_mut().enumerate() {
            let page: Vec<Record> = (0..40u64)
                .map(|i| {
                    // CO publishes newer and newer; PE's feed comes in from the past.
                    let at = match a {
                        0 => NOW_MS + 1_000_000 + round * 1_000 + i,
                        _ => NOW_MS + mix.next() % 1_000_000,
                    };
                    let body = if i % 3 == 0 {
                        best_practice(&format!("practice {round}.{i}"))
                    } else {
                        alert(&format!("alert {round}.{i}"))
                    };
                    author.publish(audiences[a], body, at)
                })
                .collect();
            pages.push(page);
        }
    }
    pages
}

fn listing(s: &SledStore, index: Index, since: u64, until: u64) -> Vec<RecordId> {
    let mut v = vec![];
    s.scan(index, since, until, &mut |id| {
        v.push(id);
        true
    })
    .unwrap();
    v
}

fn expected(records: &[Record], index: Index, since: u64, until: u64) -> Vec<RecordId> {
    let keep = |r: &Record| match index {
        Index::Time => true,
        Index::Kind(k) => r.header.kind == k,
        Index::State(s) => r.header.author_state == s,
    };
    let set: BTreeSet<(u64, RecordId)> = records
        .iter()
        .filter(|r| keep(r) && (since..=until).contains(&r.header.created_at_ms))
        .map(|r| (r.header.created_at_ms, r.id))
        .collect();
    set.into_iter().rev().map(|(_, id)| id).collect()
}

fn listings_match(s: &SledStore, records: &[Record]) {
    let indexes = [
        Index::Time,
        Index::Kind(Kind::Alert),
        Index::Kind(Kind::BestPractice),
        Index::State(st("CO")),
        Index::State(st("PE")),
    ];
    for index in indexes {
        for (since, until) in [(0, u64::MAX), (NOW_MS + 200_000, NOW_MS + 1_005_020)] {
            assert_eq!(
                listing(s, index, since, until),
                expected(records, index, since, until),
                "{index:?} {since}..={until}"
            );
        }
        assert_eq!(
            s.count(index),
            expected(records, index, 0, u64::MAX).len() as u64
        );
    }
    assert_eq!(s.len().unwrap(), records.len() as u64);
    for r in records.iter().step_by(17) {
        assert_eq!(s.get(&r.id).unwrap().as_ref(), Some(r));
    }
    assert!(s.check_indexes().unwrap().is_empty());
}

fn insert(s: &SledStore, page: &[Record]) {
    s.insert(&trusted(page), &Source::Peer("12D3KooWtest".into()), NOW_MS)
        .unwrap();
    s.flush().unwrap();
}

#[test]
fn listings_keep_their_order_with_records_out_of_time_order_and_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pages = out_of_order_records();
    let mut held = vec![];
    {
        let s = SledStore::open(dir.path(), 16 << 20).unwrap();
        for page in &pages[..pages.len() / 2] {
            insert(&s, page);
            held.extend(page.iter().cloned());
        }
        listings_match(&s, &held);
    }
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    listings_match(&s, &held);
    for page in &pages[pages.len() / 2..] {
        insert(&s, page);
        held.extend(page.iter().cloned());
    }
    listings_match(&s, &held);
    drop(s);
    listings_match(&SledStore::open(dir.path(), 16 << 20).unwrap(), &held);
}

#[test]
fn a_reopened_store_counts_its_records_before_its_index_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let pages = out_of_order_records();
    let held: Vec<Record> = pages.concat();
    {
        let s = SledStore::open(dir.path(), 16 << 20).unwrap();
        for page in &pages {
            insert(&s, page);
        }
    }
    let gate = gate::hold();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    // Opened, and the index not built: what `tipx status` shows is there already.
    assert!(!s.index.shared.settled());
    assert_eq!(s.len().unwrap(), held.len() as u64);
    let alerts = held.iter().filter(|r| r.header.kind == Kind::Alert).count();
    assert_eq!(s.count(Index::Kind(Kind::Alert)), alerts as u64);
    assert_eq!(s.count(Index::State(st("PE"))), held.len() as u64 / 2);
    assert!(!s.index.shared.settled());
    // A listing waits for the index, then lists everything.
    let listed = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| listing(&s, Index::Time, 0, u64::MAX));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !waiting.is_finished(),
            "a listing did not wait for the index"
        );
        gate.open();
        waiting.join().unwrap()
    });
    assert_eq!(listed, expected(&held, Index::Time, 0, u64::MAX));
    listings_match(&s, &held);
}

#[test]
fn a_store_written_without_counts_takes_them_from_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages = out_of_order_records();
    let last = pages.pop().unwrap();
    let mut held: Vec<Record> = pages.concat();
    {
        let s = SledStore::open(dir.path(), 16 << 20).unwrap();
        for page in &pages {
            insert(&s, page);
        }
        // As a store written by a build that kept no counts.
        s.tree
            .remove(key(Space::Meta, &[super::COUNTS_KEY]))
            .unwrap();
        s.flush().unwrap();
    }
    let gate = gate::hold();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    assert_eq!(s.index.shared.known_counts(), None);
    gate.open();
    listings_match(&s, &held);
    insert(&s, &last);
    held.extend(last);
    listings_match(&s, &held);
    drop(s);
    let gate = gate::hold();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    assert_eq!(s.len().unwrap(), held.len() as u64, "counts kept again");
    assert!(!s.index.shared.settled());
    gate.open();
}

#[test]
fn store_check_finds_counts_that_disagree_with_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let pages = out_of_order_records();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    insert(&s, &pages[0]);
    assert!(s.check_indexes().unwrap().is_empty());
    let mut counts = s.index.shared.known_counts().unwrap();
    counts.total += 1;
    s.tree
        .insert(key(Space::Meta, &[super::COUNTS_KEY]), counts.encode())
        .unwrap();
    s.flush().unwrap();
    drop(s);
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    let problems = s.check_indexes().unwrap();
    assert_eq!(
        problems,
        vec!["the counts of records kept on disk disagree with the index".to_string()]
    );
}

/// A store in `dir` holding every page of `out_of_order_records`, closed; the records.
fn closed_store(dir: &std::path::Path) -> Vec<Record> {
    let s = SledStore::open(dir, 16 << 20).unwrap();
    let mut held = vec![];
    for page in out_of_order_records() {
        insert(&s, &page);
        held.extend(page);
    }
    s.index.shared.wait().unwrap();
    held
}

/// Removes every index page from the closed store in `dir` but the last: an index built
/// from the pages then lacks all but the last insert's records.
fn drop_pages_but_the_last(dir: &std::path::Path) {
    let db = sled::Config::new().path(dir).open().unwrap();
    let tree = db.open_tree("tipx").unwrap();
    let keys: Vec<_> = tree
        .scan_prefix([Space::IndexPages as u8])
        .keys()
        .map(Result::unwrap)
        .collect();
    for k in &keys[..keys.len() - 1] {
        tree.remove(k).unwrap();
    }
    db.flush().unwrap();
}

#[test]
fn a_store_closed_cleanly_builds_its_index_from_the_file_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let held = closed_store(dir.path());
    let snapshot = dir.path().join(super::snapshot::FILE);
    assert!(snapshot.exists(), "written at close");
    drop_pages_but_the_last(dir.path());
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    listings_match(&s, &held);
    assert!(!snapshot.exists(), "taken at open");
    assert!(s.check_indexes().unwrap().is_empty());
}

#[test]
fn a_snapshot_older_than_the_store_or_damaged_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join(super::snapshot::FILE);
    let mut held = closed_store(dir.path());
    let old = std::fs::read(&snapshot).unwrap();
    // More records after the snapshot: the old one no longer holds the last page.
    {
        let s = SledStore::open(dir.path(), 16 << 20).unwrap();
        let mut mx = Author::new("MX");
        let page: Vec<Record> = (0..5u64)
            .map(|i| mx.publish(&["*"], alert(&format!("late {i}")), NOW_MS + i))
            .collect();
        insert(&s, &page);
        held.extend(page);
    }
    std::fs::write(&snapshot, &old).unwrap();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    listings_match(&s, &held);
    assert!(!snapshot.exists(), "deleted, used or not");
    drop(s);
    // One byte flipped in the entries: the checksum fails and the pages are read.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&snapshot, &bytes).unwrap();
    let s = SledStore::open(dir.path(), 16 << 20).unwrap();
    listings_match(&s, &held);
    assert!(s.check_indexes().unwrap().is_empty());
}
