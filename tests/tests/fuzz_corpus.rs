//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz targets'
//! bodies in [`tipx_tests::fuzz`], so that every input the fuzzer kept, and every crash it
//! found and we fixed, is checked by a plain `cargo test`. Also checks that the hand-made
//! seeds are still accepted, so the corpus keeps reaching past decoding and signatures.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

use tipx_config::Config;
use tipx_protocol::{Origin, testkit::NOW_MS, validate::validate_bytes};
use tipx_tests::fuzz::{TARGETS, context, seeds};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

#[test]
fn every_corpus_input_runs_through_its_target_without_a_panic() {
    let mut failed = Vec::new();
    for (target, entry) in TARGETS {
        let dir = corpus().join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}: every target needs a corpus", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        assert!(!files.is_empty(), "{}: no corpus files", dir.display());
        files.sort();
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file reads");
            if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "panicked on (see above for why): {failed:#?}"
    );
}

#[test]
fn the_seeds_are_accepted_and_the_committed_record_seeds_validate() {
    let cx = context();
    for (name, record) in seeds::records() {
        let bytes = record.encode();
        validate_bytes(&bytes, Origin::Local, &cx)
            .unwrap_or_else(|e| panic!("record seed {name} is refused: {e}"));
    }
    for (name, text) in seeds::of("config") {
        let text = String::from_utf8(text).expect("UTF-8");
        Config::from_toml_str(&text)
            .unwrap_or_else(|e| panic!("config seed {name} is refused: {e}"));
    }
    for (name, bytes) in seeds::of("import") {
        tipx_node::cli::publish::parse_file(&name, &bytes, NOW_MS)
            .unwrap_or_else(|e| panic!("import seed {name} is refused: {e:#}"));
    }
    // The committed record seeds too: a format change that breaks them would leave the
    // fuzzer unable to reach past the signature.
    for (name, _) in seeds::records() {
        let path = corpus().join("record").join(format!("seed-{name}"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        validate_bytes(&bytes, Origin::Local, &cx).unwrap_or_else(|e| {
            panic!(
                "{}: refused ({e}); write the seeds again with \
                 `cargo test -p tipx-tests --test fuzz_corpus -- --ignored write_seeds`",
                path.display()
            )
        });
    }
}

/// Writes the seeds into the corpus (see [`seeds`]).
#[test]
#[ignore = "writes fuzz/corpus; run by hand after a format change"]
fn write_seeds() {
    for (target, _) in TARGETS {
        let dir = corpus().join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        for (name, bytes) in seeds::of(target) {
            std::fs::write(dir.join(name), bytes).expect("write a seed");
        }
    }
}
