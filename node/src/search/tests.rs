//! The index over a real store on disk: stemming per language, phrases and AND, ranking,
//! other filters, erasure leaving no trace in the index's files, rebuild (in the
//! background, with inserts and erasures under way, and listings answered meanwhile) and
//! check.

use std::{
    cell::{Cell, RefCell},
    sync::mpsc,
};

use tipx_protocol::{
    Body, Kind, RecordId,
    body::{BestPractice, Retraction},
    store::{Inserted, Source, Store as _},
    testkit::{Author, NOW_MS, alert, key_of, st, trusted},
};

use super::{Search, State, check};
use crate::{
    core::Node,
    query::{Filter, Sort},
    store::SledStore,
};

struct Fixture {
    store: SledStore,
    search: Option<Search>,
    dir: tempfile::TempDir,
    author: RefCell<Author>,
    at_ms: Cell<u64>,
}

impl Fixture {
    fn new() -> Self {
        let store = SledStore::temporary().expect("store");
        let dir = tempfile::tempdir().expect("tempdir");
        let search = Search::open(&dir.path().join("search"), &store).expect("index opens");
        Self {
            store,
            search: Some(search),
            dir,
            author: RefCell::new(Author::new("MX")),
            at_ms: Cell::new(NOW_MS),
        }
    }

    fn search(&self) -> &Search {
        self.search.as_ref().expect("open")
    }

    /// Stores `body` as the next record (a millisecond after the last) and indexes it the
    /// way the core does.
    fn add(&self, body: Body) -> RecordId {
        let search = self.search.as_ref().expect("open");
        let _order = search.order();
        let (id, feed) = self.store_only(body);
        feed(self);
        id
    }

    /// Stores `body` as the next record; the returned step hands it to the index (the
    /// core does both under [`Search::order`]).
    fn store_only(&self, body: Body) -> (RecordId, impl FnOnce(&Self) + use<>) {
        let at_ms = self.at_ms.get() + 1;
        self.at_ms.set(at_ms);
        let r = self.author.borrow_mut().publish(&["*"], body, at_ms);
        let mut batch = trusted(std::slice::from_ref(&r));
        let out = self
            .store
            .insert(&batch, &Source::Local, at_ms)
            .expect("store works");
        assert_eq!(out, vec![Inserted::Stored]);
        let len = self.store.len().expect("len");
        let feed = move |f: &Self| f.search().feed(&mut batch, &out, len);
        (r.id, feed)
    }

    /// Closes the index, deletes it and opens it again: empty, to be rebuilt.
    fn delete_index(&mut self) {
        self.search = None;
        std::fs::remove_dir_all(self.index_dir()).expect("deleted");
        self.search = Some(Search::open(&self.index_dir(), &self.store).expect("opens"));
    }

    fn find(&self, text: &str) -> Vec<RecordId> {
        self.find_in(Filter {
            text: Some(text.into()),
            ..Filter::default()
        })
    }

    fn find_in(&self, filter: Filter) -> Vec<RecordId> {
        self.search().sync().expect("commit");
        let sort = filter.order().expect("order");
        self.search()
            .hits(&filter, sort, 100)
            .expect("search")
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    fn index_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("search")
    }
}

fn practice(language: &str, title: &str, text: &str) -> Body {
    Body::BestPractice(BestPractice {
        title: title.into(),
        summary: String::new(),
        text: text.into(),
        language: language.into(),
        translations: vec![],
        pillars: vec![],
        tags: vec![],
        references: vec![],
    })
}

#[test]
fn a_spanish_record_is_found_by_another_form_of_its_word() {
    let f = Fixture::new();
    let es = f.add(practice("es", "Protección de trabajadores migrantes", ""));
    f.add(practice("en", "Shelters for workers", ""));
    assert_eq!(f.find("trabajador"), vec![es]);
    assert_eq!(
        f.find("TRABAJADORAS"),
        vec![es],
        "case and gender forms stem alike"
    );
}

#[test]
fn a_phrase_needs_its_words_in_order_and_words_need_all_of_them() {
    let f = Fixture::new();
    let phrase = f.add(practice("en", "Forced labour in fishing fleets", ""));
    let apart = f.add(practice(
        "en",
        "Labour inspections where work was forced",
        "",
    ));
    f.add(practice("en", "Fishing permits and mining licences", ""));
    let mut both = f.find("forced labour");
    both.sort();
    let mut expected = vec![phrase, apart];
    expected.sort();
    assert_eq!(both, expected, "every word, in any order");
    assert_eq!(f.find("\"forced labour\""), vec![phrase]);
    assert_eq!(f.find("labour fishing"), vec![phrase], "AND, not OR");
}

#[test]
fn the_best_match_comes_first() {
    let f = Fixture::new();
    let once = f.add(practice(
        "en",
        "Regional cooperation",
        "Ministries met each quarter to agree on budgets, training, shelters and, once, \
         smuggling routes across the northern border.",
    ));
    let strong = f.add(practice("en", "Smuggling networks", "Smuggling by sea."));
    assert_eq!(f.find("smuggling"), vec![strong, once]);
    let newest = f.find_in(Filter {
        text: Some("smuggling".into()),
        sort: Some(Sort::Newest),
        ..Filter::default()
    });
    assert_eq!(newest, vec![strong, once]);
}

#[test]
fn the_other_filters_apply_inside_the_index() {
    let f = Fixture::new();
    let a = f.add(alert("Recruitment by fake agencies"));
    f.add(practice(
        "en",
        "Recruitment fairs watched by inspectors",
        "",
    ));
    let only_alerts = f.find_in(Filter {
        text: Some("recruitment".into()),
        kind: Some(Kind::Alert),
        ..Filter::default()
    });
    assert_eq!(only_alerts, vec![a]);
    let by_tag = f.find_in(Filter {
        text: Some("agencies".into()),
        tag: Some("RECRUITMENT".into()),
        ..Filter::default()
    });
    assert_eq!(by_tag, vec![a]);
    let later = f.find_in(Filter {
        text: Some("recruitment".into()),
        since: Some(f.at_ms.get()),
        ..Filter::default()
    });
    assert_eq!(later.len(), 1, "only the second record is that recent");
}

#[test]
fn erased_word_leaves_no_trace() {
    let f = Fixture::new();
    for i in 0..20 {
        f.add(practice(
            "en",
            &format!("Shelter report {i}"),
            "Beds and staff.",
        ));
    }
    let secret = f.add(practice(
        "en",
        "Witness zorblaxquint",
        "Contact zorblaxquint.",
    ));
    for i in 0..20 {
        f.add(practice(
            "en",
            &format!("Hotline report {i}"),
            "Calls answered.",
        ));
    }
    assert_eq!(f.find("zorblaxquint"), vec![secret]);
    let held = super::traces(&f.index_dir(), "zorblaxquint").expect("readable");
    assert!(
        !held.is_empty(),
        "the word is not where this test looks for it"
    );
    f.add(Body::Retraction(Retraction {
        target: secret,
        reason: "a witness is named".into(),
        erase: true,
    }));
    assert_eq!(f.find("zorblaxquint"), vec![]);
    assert_eq!(f.find("shelter").len(), 20, "the other records stay");
    assert_eq!(
        super::traces(&f.index_dir(), "zorblaxquint").expect("readable"),
        Vec::<String>::new()
    );
}

#[test]
fn a_deleted_index_is_rebuilt_with_its_progress_told() {
    let mut f = Fixture::new();
    let a = f.add(practice("fr", "Protection des travailleuses", ""));
    f.delete_index();
    assert_eq!(f.search().state(), State::Rebuilding { done: 0, total: 1 });
    let mut seen = vec![];
    f.search()
        .rebuild(&f.store, &|| false, &mut |done, total| {
            seen.push((done, total))
        })
        .expect("rebuilt");
    assert_eq!(seen.first(), Some(&(0, 1)), "progress told");
    assert_eq!(seen.last(), Some(&(1, 1)), "progress told");
    assert_eq!(f.find("travailleuse"), vec![a]);
    assert_eq!(f.search().state(), State::Ready);
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check").problems,
        Vec::<String>::new()
    );
}

/// Runs `f`'s rebuild on another thread, which waits at each progress report (start,
/// every chunk, end) until `during` lets it go on (through `go`, having been told the
/// report through `told`); `during` runs on this thread meanwhile.
fn while_rebuilt(
    f: &Fixture,
    during: impl FnOnce(&mpsc::Receiver<(u64, u64)>, &mpsc::SyncSender<()>),
) {
    let (tell, told) = mpsc::sync_channel(0);
    let (go, wait) = mpsc::sync_channel(0);
    std::thread::scope(|s| {
        let (search, store) = (f.search(), &f.store);
        let rebuild = s.spawn(move || {
            search.rebuild(store, &|| false, &mut |done, total| {
                if tell.send((done, total)).is_ok() {
                    let _ = wait.recv();
                }
            })
        });
        during(&told, &go);
        drop((told, go));
        rebuild.join().expect("no panic").expect("rebuilt");
    });
}

#[test]
fn records_stored_and_erased_during_a_rebuild_are_indexed_once_and_erased() {
    let mut f = Fixture::new();
    let before = f.add(practice("en", "Shelter for fishermen", ""));
    let erased = f.add(practice("en", "Fishermen witness zorblaxquint", ""));
    f.delete_index();
    let mut during = None;
    let mut raced = None;
    while_rebuilt(&f, |told, go| {
        assert_eq!(told.recv(), Ok((0, 2)), "the rebuild starts");
        assert_eq!(f.search().state(), State::Rebuilding { done: 0, total: 2 });
        // Stored and handed to the index before the rebuild reads the store: the rebuild
        // reads it too.
        during = Some(f.add(practice("en", "Fishermen held at sea", "")));
        f.add(Body::Retraction(Retraction {
            target: erased,
            reason: "a witness is named".into(),
            erase: true,
        }));
        // Stored while the rebuild reads the store: the rebuild waits until the insert
        // has handed it to the index, and its own copy is dropped.
        let order = f.search().order();
        let (id, feed) = f.store_only(practice("en", "Fishermen paid nothing", ""));
        raced = Some(id);
        go.send(()).expect("goes on");
        feed(&f);
        drop(order);
        assert_eq!(told.recv(), Ok((2, 2)), "the rebuild has read everything");
        go.send(()).expect("goes on");
    });
    let mut want = vec![before, during.expect("run"), raced.expect("run")];
    want.sort();
    let mut got = f.find("fishermen");
    got.sort();
    assert_eq!(got, want, "each once, the erased one gone");
    assert_eq!(f.search().state(), State::Ready);
    assert_eq!(
        super::traces(&f.index_dir(), "zorblaxquint").expect("readable"),
        Vec::<String>::new()
    );
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check").problems,
        Vec::<String>::new()
    );
}

#[test]
fn a_node_answers_text_listings_and_status_while_its_index_is_rebuilt() {
    let mut f = Fixture::new();
    let shelter = f.add(practice("en", "Shelter for fishermen", ""));
    f.add(practice("en", "Hotline for domestic workers", ""));
    f.delete_index();
    let search = f.search.take().expect("open");
    let (node, _events) = Node::new(
        std::mem::replace(&mut f.store, SledStore::temporary().expect("store")),
        key_of("MX"),
        st("MX"),
        None,
        vec![],
        256 * 1024,
    )
    .expect("node");
    let node = node.with_search(search);
    let text = |t: &str| Filter {
        text: Some(t.into()),
        ..Filter::default()
    };
    let listed = |t: &str| -> Vec<RecordId> {
        node.list(&text(t))
            .expect("listed")
            .iter()
            .map(|v| v.id)
            .collect()
    };
    let (tell, told) = mpsc::sync_channel(0);
    let (go, wait) = mpsc::sync_channel::<()>(0);
    std::thread::scope(|s| {
        let node = &node;
        let rebuild = s.spawn(move || {
            node.rebuild_search(&|| false, &mut |done, total| {
                if tell.send((done, total)).is_ok() {
                    let _ = wait.recv();
                }
            })
        });
        assert_eq!(told.recv(), Ok((0, 2)));
        assert_eq!(
            node.status().expect("status").search,
            Some(State::Rebuilding { done: 0, total: 2 })
        );
        assert_eq!(
            listed("fishermen"),
            vec![shelter],
            "bodies are read meanwhile"
        );
        drop((told, go));
        rebuild.join().expect("no panic").expect("rebuilt");
    });
    assert_eq!(node.status().expect("status").search, Some(State::Ready));
    assert_eq!(listed("shelters"), vec![shelter], "stemmed: from the index");
}

#[test]
fn check_reports_a_stale_index_and_open_rebuilds_it() {
    let mut f = Fixture::new();
    f.add(practice("pt", "Proteção de trabalhadores", ""));
    f.search = None;
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check").problems,
        Vec::<String>::new()
    );
    // Stored while the index was not told (as after a crash before its commit).
    let r = f
        .author
        .borrow_mut()
        .publish(&["*"], practice("pt", "Abrigos", ""), NOW_MS + 10);
    f.store
        .insert(&trusted(&[r]), &Source::Local, NOW_MS)
        .expect("store works");
    // Behind the store, as after a crash: a note (the next start rebuilds it), not damage.
    let found = check(&f.index_dir(), &f.store).expect("check");
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert!(
        found.notes.iter().any(|n| n.contains("stale")),
        "{:?}",
        found.notes
    );
    f.search = Some(Search::open(&f.index_dir(), &f.store).expect("open"));
    assert!(!f.search().is_ready(), "a stale index is rebuilt");
    f.search()
        .rebuild(&f.store, &|| false, &mut |_, _| {})
        .expect("rebuilt");
    assert_eq!(f.find("abrigo").len(), 1);
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check").problems,
        Vec::<String>::new()
    );
}

#[test]
fn an_index_left_by_an_older_build_is_rebuilt() {
    let mut f = Fixture::new();
    f.add(practice("en", "Shelters for survivors", ""));
    f.search = None;
    // The marker an older build wrote: in step with the store, of the first layout.
    let index = tantivy::Index::open_in_dir(f.index_dir()).expect("opens");
    let mut writer: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
    let mut commit = writer.prepare_commit().expect("prepare");
    commit.set_payload(&format!(
        "{{\"store_len\":{}}}",
        f.store.len().expect("len")
    ));
    commit.commit().expect("commit");
    drop(writer);
    let found = check(&f.index_dir(), &f.store).expect("check");
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert!(
        found.notes.iter().any(|n| n.contains("older build")),
        "{:?}",
        found.notes
    );
    f.search = Some(Search::open(&f.index_dir(), &f.store).expect("open"));
    assert!(
        !f.search().is_ready(),
        "an index of another layout is rebuilt"
    );
    f.search()
        .rebuild(&f.store, &|| false, &mut |_, _| {})
        .expect("rebuilt");
    assert_eq!(f.find("shelter").len(), 1);
    assert!(
        check(&f.index_dir(), &f.store)
            .expect("check")
            .notes
            .is_empty()
    );
}

#[test]
fn segments_are_merged_once_records_stop_coming_not_while_they_stream_in() {
    let f = Fixture::new();
    let segments = || {
        f.search()
            .reader
            .searcher()
            .index()
            .searchable_segment_metas()
            .expect("metas")
            .len()
    };
    // Batches back to back, each pair committed: a segment each, as in a catch-up.
    for n in 0..12 {
        for k in 0..2 {
            f.add(practice("en", &format!("Practice {n}.{k}"), "shelters"));
        }
        f.search().sync().expect("committed");
    }
    assert!(
        segments() >= 12,
        "no merge while records stream in: {} segments",
        segments()
    );
    // Idle: the log policy merges the eight of one size.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while segments() >= 12 {
        assert!(
            std::time::Instant::now() < deadline,
            "segments merged once idle"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        f.find("shelters").len(),
        24,
        "every record found after the merge"
    );
}

#[test]
fn an_index_behind_the_store_takes_only_what_it_lacks() {
    let mut f = Fixture::new();
    for i in 0..30 {
        f.add(practice("en", &format!("Shelter report {i}"), "Beds."));
    }
    let secret = f.add(practice("en", "Witness zorblaxquint", ""));
    f.search = None;
    // Stored while the index was not told, as when a node is killed within a second of an
    // insert: a new record, and a retraction erasing one the index holds.
    let store = |body| {
        let at = f.at_ms.get() + 1;
        f.at_ms.set(at);
        let r = f.author.borrow_mut().publish(&["*"], body, at);
        f.store
            .insert(&trusted(std::slice::from_ref(&r)), &Source::Local, at)
            .expect("store works");
        r.id
    };
    let new = store(practice("en", "Hotline for fishermen", ""));
    store(Body::Retraction(Retraction {
        target: secret,
        reason: "a witness is named".into(),
        erase: true,
    }));
    f.search = Some(Search::open(&f.index_dir(), &f.store).expect("open"));
    assert_eq!(
        f.search().state(),
        State::Rebuilding { done: 0, total: 2 },
        "only the two records stored after its last commit"
    );
    let mut seen = vec![];
    f.search()
        .rebuild(&f.store, &|| false, &mut |done, total| {
            seen.push((done, total))
        })
        .expect("replayed");
    assert_eq!(seen.last(), Some(&(2, 2)));
    assert_eq!(f.search().state(), State::Ready);
    assert_eq!(f.find("hotline"), vec![new]);
    assert_eq!(f.find("zorblaxquint"), vec![]);
    assert_eq!(f.find("shelter").len(), 30, "what it held stays");
    assert_eq!(
        super::traces(&f.index_dir(), "zorblaxquint").expect("readable"),
        Vec::<String>::new(),
        "the erased record's words are in no file"
    );
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check").problems,
        Vec::<String>::new()
    );
}
