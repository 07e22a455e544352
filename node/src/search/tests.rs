//! The index over a real store on disk: stemming per language, phrases and AND, ranking,
//! other filters, erasure leaving no trace in the index's files, rebuild and check.

use tipx_protocol::{
    Body, Kind, RecordId,
    body::{BestPractice, Retraction},
    store::{Inserted, Source, Store as _},
    testkit::{Author, NOW_MS, alert, trusted},
};

use super::{Search, check};
use crate::{
    query::{Filter, Sort},
    store::SledStore,
};

struct Fixture {
    store: SledStore,
    search: Option<Search>,
    dir: tempfile::TempDir,
    author: Author,
    at_ms: u64,
}

impl Fixture {
    fn new() -> Self {
        let store = SledStore::temporary().expect("store");
        let dir = tempfile::tempdir().expect("tempdir");
        let search =
            Search::open(&dir.path().join("search"), &store, &mut |_, _| {}).expect("index opens");
        Self {
            store,
            search: Some(search),
            dir,
            author: Author::new("MX"),
            at_ms: NOW_MS,
        }
    }

    fn search(&self) -> &Search {
        self.search.as_ref().expect("open")
    }

    /// Stores `body` as the next record (a millisecond after the last) and indexes it the
    /// way the core does.
    fn add(&mut self, body: Body) -> RecordId {
        self.at_ms += 1;
        let r = self.author.publish(&["*"], body, self.at_ms);
        let batch = trusted(std::slice::from_ref(&r));
        let search = self.search.as_ref().expect("open");
        let _order = search.order();
        let out = self
            .store
            .insert(&batch, &Source::Local, self.at_ms)
            .expect("store works");
        assert_eq!(out, vec![Inserted::Stored]);
        search.feed(&batch, &out, self.store.len().expect("len"));
        r.id
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
    let mut f = Fixture::new();
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
    let mut f = Fixture::new();
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
    let mut f = Fixture::new();
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
    let mut f = Fixture::new();
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
        since: Some(f.at_ms),
        ..Filter::default()
    });
    assert_eq!(later.len(), 1, "only the second record is that recent");
}

#[test]
fn erased_word_leaves_no_trace() {
    let mut f = Fixture::new();
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
fn a_deleted_index_is_rebuilt_at_open() {
    let mut f = Fixture::new();
    let a = f.add(practice("fr", "Protection des travailleuses", ""));
    f.search = None;
    std::fs::remove_dir_all(f.index_dir()).expect("deleted");
    let mut seen = vec![];
    f.search = Some(
        Search::open(&f.index_dir(), &f.store, &mut |done, total| {
            seen.push((done, total))
        })
        .expect("rebuilt"),
    );
    assert_eq!(seen.last(), Some(&(1, 1)), "progress told");
    assert_eq!(f.find("travailleuse"), vec![a]);
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check"),
        Vec::<String>::new()
    );
}

#[test]
fn check_reports_a_stale_index_and_open_rebuilds_it() {
    let mut f = Fixture::new();
    f.add(practice("pt", "Proteção de trabalhadores", ""));
    f.search = None;
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check"),
        Vec::<String>::new()
    );
    // Stored while the index was not told (as after a crash before its commit).
    let r = f
        .author
        .publish(&["*"], practice("pt", "Abrigos", ""), NOW_MS + 10);
    f.store
        .insert(&trusted(&[r]), &Source::Local, NOW_MS)
        .expect("store works");
    let problems = check(&f.index_dir(), &f.store).expect("check");
    assert!(problems.iter().any(|p| p.contains("stale")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("holds 1 records")),
        "{problems:?}"
    );
    f.search = Some(Search::open(&f.index_dir(), &f.store, &mut |_, _| {}).expect("open"));
    assert_eq!(f.find("abrigo").len(), 1);
    assert_eq!(
        check(&f.index_dir(), &f.store).expect("check"),
        Vec::<String>::new()
    );
}
