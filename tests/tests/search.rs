//! `records list --text` against real daemons: words found in any form of the record's
//! language, phrases and AND, best match first, retracted records hidden, an erased
//! record's words gone from every file of the index, a record received from a partner found, a
//! deleted index rebuilt in the background while the node answers (status at once, `--text`
//! right during and after, records published during it found), `store check` telling a
//! stale index, and `store reindex` rebuilding a stopped node's index.

use std::time::{Duration, Instant};

use serde_json::Value;
use tipx_tests::{
    Node, alone_running as running,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    publish, write_jsonl,
};

/// How long a published record may take to be searchable (the index commits every second).
const INDEX_LAG: Duration = Duration::from_secs(5);

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn found(node: &Node, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--text"];
    all.extend_from_slice(args);
    ids(&node.records(&all))
}

/// Waits until `--text TEXT` lists `want` exactly (in order), and says what it listed if not.
#[track_caller]
fn lists(node: &Node, args: &[&str], want: &[&str]) {
    let mut last = vec![];
    let ok = eventually(INDEX_LAG, || {
        last = found(node, args);
        last == want
    });
    assert!(ok, "--text {args:?} listed {last:?}, not {want:?}");
}

fn practice(node: &Node, language: &str, title: &str, text: &str) -> String {
    publish(
        node,
        &[
            "best-practice",
            "--title",
            title,
            "--text",
            text,
            "--language",
            language,
        ],
    )
}

#[test]
fn text_search_is_stemmed_ranked_and_honours_the_other_filters() {
    let (_tmp, node) = running("MX");
    let es = practice(
        &node,
        "es",
        "Protección de trabajadores migrantes",
        "Albergues.",
    );
    let phrase = practice(&node, "en", "Forced labour on fishing boats", "Smuggling.");
    let apart = practice(
        &node,
        "en",
        "Labour inspections",
        "Work was forced; smuggling was seen once among many other findings of the year.",
    );
    let alert = publish(
        &node,
        &[
            "alert",
            "--title",
            "Smuggling smuggling by sea",
            "--severity",
            "high",
        ],
    );

    lists(&node, &["trabajador"], &[&es]);
    lists(&node, &["\"forced labour\""], &[&phrase]);
    lists(&node, &["labour fishing"], &[&phrase]);
    let mut both = found(&node, &["forced labour"]);
    both.sort();
    let mut want = vec![phrase.clone(), apart.clone()];
    want.sort();
    assert_eq!(both, want, "every word, in any order");

    // Best match first by default; newest first when asked.
    lists(&node, &["smuggle"], &[&alert, &phrase, &apart]);
    lists(
        &node,
        &["smuggle", "--sort", "newest"],
        &[&alert, &apart, &phrase],
    );
    lists(
        &node,
        &["smuggle", "--kind", "best-practice"],
        &[&phrase, &apart],
    );
    lists(&node, &["smuggle", "--severity", "high"], &[&alert]);

    node.tipx(["retract", &alert, "--reason", "duplicate"]).ok();
    lists(&node, &["smuggle"], &[&phrase, &apart]);
    lists(&node, &["smuggle", "--all"], &[&alert, &phrase, &apart]);

    node.tipx(["records", "list", "--sort", "relevance"])
        .fails_with(&["--sort relevance needs a text"]);
}

#[test]
fn an_erased_record_leaves_no_word_in_the_index_files() {
    let (_tmp, node) = running("MX");
    for i in 0..10 {
        practice(
            &node,
            "en",
            &format!("Shelter report {i}"),
            "Beds and staff.",
        );
    }
    let secret = practice(
        &node,
        "en",
        "Witness Qwyndollar",
        "Call Qwyndollar at home.",
    );
    lists(&node, &["qwyndollar"], &[&secret]);
    let index = node.dir.join("search");
    let held = tipx_node::search::traces(&index, "qwyndollar").expect("readable");
    assert!(
        !held.is_empty(),
        "the word is not where this test looks for it"
    );
    node.tipx(["retract", &secret, "--reason", "a witness", "--erase"])
        .ok();
    lists(&node, &["qwyndollar", "--all"], &[]);
    let mut held = vec![];
    let ok = eventually(INDEX_LAG, || {
        held = tipx_node::search::traces(&index, "qwyndollar").expect("readable");
        held.is_empty()
    });
    assert!(ok, "still held: {held:?}");
    assert_eq!(found(&node, &["shelter"]).len(), 10, "the others stay");
}

#[test]
fn a_record_received_from_a_partner_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let id = fed
        .member("MX")
        .publish_alert("Recruiters posing as a modelling agency", "CO");
    let co = fed.member("CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&id)),
        "CO never received the alert"
    );
    lists(co, &["modelling recruiter"], &[&id]);
}

#[test]
fn a_deleted_index_is_rebuilt_at_start_and_check_tells_a_stale_one() {
    let (tmp, mut node) = running("MX");
    let first = practice(&node, "pt", "Proteção de trabalhadores", "");
    lists(&node, &["trabalhador"], &[&first]);
    node.stop();
    let index = node.dir.join("search");
    let old = tmp.path().join("search-before");
    copy_dir(&index, &old);

    node.start();
    let second = practice(&node, "pt", "Abrigos para trabalhadoras", "");
    lists(
        &node,
        &["trabalhador", "--sort", "newest"],
        &[&second, &first],
    );
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
    node.stop();

    // The index as it was before the second record: stale.
    std::fs::remove_dir_all(&index).unwrap();
    copy_dir(&old, &index);
    // Stale or missing, as after a crash or a restore: told, but the store is not damaged
    // (the node rebuilds the index by itself at its next start).
    let out = node.tipx(["store", "check"]).ok();
    assert!(
        out.stdout.contains("NOTE     the search index is stale"),
        "{out}"
    );

    std::fs::remove_dir_all(&index).unwrap();
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("is missing"), "{out}");
    node.start();
    lists(
        &node,
        &["trabalhador", "--sort", "newest"],
        &[&second, &first],
    );
    assert!(
        node.log().contains("rebuilding the search index"),
        "no progress logged:\n{}",
        node.log()
    );
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
}

/// How long a node may take to answer `status` after it started (it answered once before
/// the harness's `start` returned): a rebuild must not hold it up.
const ANSWER_DEADLINE: Duration = Duration::from_secs(2);

/// How long a rebuild of a few thousand records may take in a debug build.
const REBUILD_DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn a_node_whose_index_was_deleted_answers_at_once_and_finds_what_came_during_the_rebuild() {
    let (tmp, mut node) = running("MX");
    let file = tmp.path().join("alerts.jsonl");
    write_jsonl(&file, &tipx_tests::bench::alerts(3_000));
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
    let first = practice(&node, "en", "Shelters for trafficked fishermen", "");
    lists(&node, &["fishermen"], &[&first]);
    node.stop();
    std::fs::remove_dir_all(node.dir.join("search")).unwrap();

    node.start();
    let asked = Instant::now();
    let status = node.tipx(["status"]).ok();
    assert!(
        asked.elapsed() < ANSWER_DEADLINE,
        "status took {:?}",
        asked.elapsed()
    );
    assert!(
        status.stdout.contains("search     index rebuilding")
            || status.stdout.contains("search     index ready"),
        "{status}"
    );
    // Right at once, whether from the bodies (rebuilding) or from the index (rebuilt).
    assert_eq!(found(&node, &["fishermen"]), vec![first.clone()]);
    let during = practice(&node, "en", "Fishermen held on a trawler", "");

    let ready = eventually(REBUILD_DEADLINE, || {
        node.tipx(["status", "--json"]).json()["search"]["state"] == "ready"
    });
    assert!(ready, "never rebuilt:\n{}", node.log());
    lists(
        &node,
        &["fishermen", "--sort", "newest"],
        &[&during, &first],
    );
    lists(&node, &["trawlers"], &[&during]);
    assert_eq!(found(&node, &["recruitment"]).len(), 3_000);
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn store_reindex_rebuilds_a_stopped_nodes_index_and_leaves_a_running_ones_in_step() {
    let (_tmp, mut node) = running("MX");
    let first = practice(&node, "es", "Protección de trabajadores migrantes", "");
    lists(&node, &["trabajador"], &[&first]);
    let out = node.tipx(["store", "reindex"]).ok();
    assert!(
        out.stdout
            .contains("in step with the store: nothing to rebuild"),
        "{out}"
    );
    node.stop();

    // Stopped, its index gone (a restore that left it out): rebuilt here, from the store.
    std::fs::remove_dir_all(node.dir.join("search")).unwrap();
    let out = node.tipx(["store", "reindex"]).ok();
    assert!(
        out.stdout
            .contains("the search index is rebuilt: 1 record indexed"),
        "{out}"
    );
    let out = node.tipx(["store", "check"]).ok();
    assert!(out.stdout.contains("store is clean"), "{out}");
    node.start();
    lists(&node, &["trabajadoras"], &[&first]);
    assert!(
        !node.log().contains("rebuilding the search index"),
        "the node found its index whole:\n{}",
        node.log()
    );
}

#[test]
fn a_node_told_to_keep_no_index_deletes_it_still_finds_by_reading_bodies_and_rebuilds_it_when_told_again()
 {
    let (_tmp, mut node) = running("MX");
    let witness = practice(
        &node,
        "en",
        "Witness Qwyndollar",
        "Shelters recruited staff.",
    );
    let shelter = practice(&node, "es", "Refugios", "Los refugios reclutaron personal.");
    lists(&node, &["qwyndollar"], &[&witness]);
    let index = node.dir.join("search");
    assert!(index.is_dir(), "no index where this test looks for it");
    node.stop();

    // Off: the index (and every word in it) is gone; a text search reads the bodies.
    node.env
        .push(("TIPX_STORE_FULL_TEXT_INDEX".into(), "false".into()));
    node.start();
    assert!(
        !index.exists(),
        "the index was kept with full_text_index = false"
    );
    assert_eq!(found(&node, &["qwyndollar"]), [witness.as_str()]);
    assert_eq!(found(&node, &["refugios"]), [shelter.as_str()]);
    let later = practice(&node, "en", "Qwyndollar again", "");
    assert_eq!(
        found(&node, &["qwyndollar", "--sort", "newest"]),
        [later.clone(), witness.clone()]
    );
    let status = node.tipx(["status"]).ok();
    assert!(status.stdout.contains("search     off"), "{status}");
    let check = node.tipx(["store", "check"]).ok();
    assert!(
        check.stdout.contains("store is clean") && check.stdout.contains("full-text search is off"),
        "{check}"
    );
    assert!(!index.exists(), "a listing or check made an index");
    node.stop();
    let out = node.tipx(["store", "reindex"]);
    assert!(
        !out.status.success() && out.stderr.contains("store.full_text_index = false"),
        "`store reindex` with the index off:\n{out}"
    );

    // On again: rebuilt from the store in the background, every record found.
    node.env.clear();
    node.start();
    lists(
        &node,
        &["qwyndollar", "--sort", "newest"],
        &[&later, &witness],
    );
    let mut status = String::new();
    assert!(
        eventually(REBUILD_DEADLINE, || {
            status = node.tipx(["status"]).ok().stdout;
            status.contains("index ready")
        }),
        "the index was never rebuilt:\n{status}"
    );
    assert!(index.is_dir());
    let check = node.tipx(["store", "check"]).ok();
    assert!(check.stdout.contains("store is clean"), "{check}");
}
