//! Outside checkers in Python: the OASIS STIX 2.1 validator (PyPI `stix2-validator`) for
//! the bundles `tipx export --format stix` writes, and the Prometheus client's parser of
//! the exposition format (PyPI `prometheus-client`) for the metrics page. They live in a
//! Python virtual environment at `target/py-venv`, which `.ci/run` creates before the
//! tests and the first test that needs it creates otherwise (python3 and PyPI needed). A
//! checker that cannot be had fails the test: it never skips it.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The checkers, their versions pinned (the same as `.ci/run` installs).
pub const PACKAGES: [&str; 2] = ["stix2-validator==3.3.2", "prometheus-client==0.21.1"];

/// Where the virtual environment is.
pub fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("py-venv")
}

/// The virtual environment's python, with the checkers installed (created if missing).
#[track_caller]
pub fn python() -> PathBuf {
    let venv = venv();
    let python = venv.join("bin").join("python");
    if has_checkers(&python) {
        return python;
    }
    // One test at a time creates it (two pip installs at once fail); the others wait,
    // then find it made.
    std::fs::create_dir_all(venv.parent().expect("target/")).expect("creating target/");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("the venv's lock file");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).expect("locking the venv");
    if has_checkers(&python) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 is needed to validate STIX bundles");
    assert!(
        made.status.success(),
        "python3 -m venv failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(PACKAGES)
        .output()
        .expect("running pip");
    assert!(
        pip.status.success(),
        "cannot install {PACKAGES:?} from PyPI (the tests' outside checkers): {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    assert!(
        has_checkers(&python),
        "no STIX validator in {}",
        venv.display()
    );
    python
}

fn has_checkers(python: &Path) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import stix2validator, prometheus_client"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Validates the bundle in `file`: `Ok` with the validator's report when it finds no
/// error (warnings allowed), `Err` with it otherwise.
pub fn validate_stix(file: &Path) -> Result<String, String> {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, stix2validator as v\n\
             r = v.validate_file(sys.argv[1])\n\
             v.print_results(r)\n\
             sys.exit(0 if r.is_valid else 1)",
        ])
        .arg(file)
        .output()
        .expect("running the STIX validator");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// Parses a metrics page with the Prometheus client's own parser: every sample as
/// `{"name", "labels", "value"}`, or the parser's error.
pub fn parse_metrics(text: &str) -> Result<Vec<serde_json::Value>, String> {
    use std::io::Write as _;
    let mut child = Command::new(python())
        .args([
            "-c",
            "import sys, json\n\
             from prometheus_client.parser import text_string_to_metric_families\n\
             out = []\n\
             for f in text_string_to_metric_families(sys.stdin.read()):\n\
             \x20   for s in f.samples:\n\
             \x20       out.append({'name': s.name, 'labels': s.labels, 'value': s.value})\n\
             print(json.dumps(out))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running the Prometheus parser");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("writing the page to the parser");
    let out = child.wait_with_output().expect("the parser's output");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}
