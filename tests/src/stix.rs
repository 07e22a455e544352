//! The OASIS STIX 2.1 validator (PyPI `stix2-validator`), the outside checker of the
//! bundles `tipx export --format stix` writes. It lives in a Python virtual environment at
//! `target/stix-venv`, which `.ci/run` creates before the tests and the first test that
//! needs it creates otherwise (python3 and PyPI needed). A validator that cannot be had
//! fails the test: it never skips it.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The validator's version, pinned.
pub const VALIDATOR: &str = "stix2-validator==3.3.2";

/// Where the virtual environment is.
pub fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("stix-venv")
}

/// The virtual environment's python, with the validator installed (created if missing).
#[track_caller]
pub fn python() -> PathBuf {
    let venv = venv();
    let python = venv.join("bin").join("python");
    if has_validator(&python) {
        return python;
    }
    // One test at a time creates it (two pip installs at once fail); the others wait,
    // then find it made.
    std::fs::create_dir_all(venv.parent().expect("target/")).expect("creating target/");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("the venv's lock file");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).expect("locking the venv");
    if has_validator(&python) {
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
        .args(["-m", "pip", "install", "--quiet", VALIDATOR])
        .output()
        .expect("running pip");
    assert!(
        pip.status.success(),
        "cannot install {VALIDATOR} from PyPI (needed to check STIX bundles): {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    assert!(
        has_validator(&python),
        "no STIX validator in {}",
        venv.display()
    );
    python
}

fn has_validator(python: &Path) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import stix2validator"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Validates the bundle in `file`: `Ok` with the validator's report when it finds no
/// error (warnings allowed), `Err` with it otherwise.
pub fn validate(file: &Path) -> Result<String, String> {
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
