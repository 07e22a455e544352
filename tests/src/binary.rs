//! Finding the `tipx` binary under test, building it when it is missing or stale, and
//! starting it with a clean environment.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::SystemTime,
};

/// The binary chosen by [`use_binary`] or found by [`locate_or_build`], or why none could
/// be built (kept, so that the tests of one process do not each retry a failing build).
static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The `tipx` binary to test.
///
/// In order: the one given to [`use_binary`]; `$TIPX_TEST_BIN`; the `tipx` in this
/// executable's `<target>/<profile>/` directory (so `$CARGO_TARGET_DIR` is honoured) if it is
/// newer than every source file it is built from; otherwise the result of `cargo build -p
/// tipx-node --bin tipx` with the same profile (once per process). If that build fails but
/// an older binary exists, the older one is used with a warning on stderr, so a half-edited
/// `node/` does not block unrelated tests.
#[track_caller]
pub fn tipx_bin() -> &'static Path {
    match BIN.get_or_init(locate_or_build) {
        Ok(path) => path,
        Err(e) => panic!("no tipx binary to test: {e}"),
    }
}

/// Tests `path` (e.g. a release build, for benchmarks) instead of the binary [`tipx_bin`]
/// would find. Call it before anything runs `tipx`; it panics if another binary is already
/// in use.
#[track_caller]
pub fn use_binary(path: &Path) {
    let chosen = BIN.get_or_init(|| Ok(path.to_path_buf()));
    assert!(
        chosen.as_deref().is_ok_and(|c| c == path),
        "use_binary({}) after {chosen:?} was already chosen",
        path.display()
    );
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("TIPX_TEST_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| format!("no executable path: {e}"))?;
    // A test runs from <target>/<profile>/deps/, a binary of this crate from <target>/<profile>/.
    let mut profile_dir = exe.parent().ok_or("the executable has no directory")?;
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir = profile_dir.parent().ok_or("deps/ has no parent")?;
    }
    let beside = profile_dir.join("tipx");
    let built_at = fs::metadata(&beside).and_then(|m| m.modified()).ok();
    if let Some(at) = built_at
        && newest_source() <= at
    {
        return Ok(beside);
    }
    match cargo_build(profile_dir) {
        Err(e) if built_at.is_some() => {
            eprintln!(
                "warning: {e}\nwarning: testing the older binary {}",
                beside.display()
            );
            Ok(beside)
        }
        built => built,
    }
}

/// The workspace root (this crate lives in `<root>/tests`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The latest modification time of the files `tipx` is built from.
fn newest_source() -> SystemTime {
    fn walk(p: &Path, newest: &mut SystemTime) {
        let Ok(meta) = fs::metadata(p) else { return };
        if meta.is_dir() {
            for entry in fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(m) = meta.modified() {
            *newest = (*newest).max(m);
        }
    }
    let root = workspace_root();
    let mut newest = SystemTime::UNIX_EPOCH;
    walk(&root.join("Cargo.lock"), &mut newest);
    walk(&root.join("Cargo.toml"), &mut newest);
    for krate in ["node", "protocol", "config", "proto"] {
        // What the binary is built from: not the crates' own tests, benches or examples.
        for part in ["Cargo.toml", "build.rs", "src", "tipx"] {
            walk(&root.join(krate).join(part), &mut newest);
        }
    }
    newest
}

/// Builds `tipx` with the profile of this test executable; returns the binary's path.
fn cargo_build(profile_dir: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "tipx-node", "--bin", "tipx"])
        .arg("--message-format=json-render-diagnostics");
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run cargo to build tipx: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p tipx-node` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "tipx")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built tipx-node but named no `tipx` executable".into())
}

/// A `tipx` command with a clean environment: no inherited `TIPX_*` variable overrides
/// what the data directory says.
pub fn tipx_command() -> Command {
    let mut cmd = Command::new(tipx_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TIPX_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}
