//! Shifting one node's clock, the way libfaketime does, without a system package: the shim
//! in `tests/faketime/shim.rs` is built once with the `rustc` that runs the tests and
//! loaded into a node with `LD_PRELOAD`; it moves the wall clock (`CLOCK_REALTIME`) by a
//! number of seconds and leaves the monotonic clock alone.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The shim's source.
const SOURCE: &str = include_str!("../faketime/shim.rs");

/// The variable the shim reads: seconds to add to the wall clock (negative: behind).
pub const OFFSET_VAR: &str = "TIPX_FAKETIME_OFFSET_SECS";

/// The built shim (once per source, shared by concurrent test processes).
#[track_caller]
pub fn shim() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let hash = SOURCE.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let dir = std::env::temp_dir().join("tipx-faketime");
        std::fs::create_dir_all(&dir).expect("a directory for the clock shim");
        let lib = dir.join(format!("libtipx_faketime_{hash:016x}.so"));
        if lib.exists() {
            return lib;
        }
        let src = dir.join(format!("shim_{hash:016x}.rs"));
        std::fs::write(&src, SOURCE).expect("writing the clock shim's source");
        // Built under a name of its own, then renamed: another test process may be
        // building the same shim at the same time.
        let partial = dir.join(format!("{}.{}", lib.display(), std::process::id()));
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(rustc)
            .args(["--edition", "2024", "--crate-type", "cdylib", "-O", "-o"])
            .arg(&partial)
            .arg(&src)
            .output()
            .expect("running rustc to build the clock shim");
        assert!(
            out.status.success(),
            "building the clock shim failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, &lib).expect("putting the clock shim in place");
        lib
    })
}

/// The environment that runs a process with its wall clock `offset_secs` off.
pub fn env(offset_secs: i64) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), shim().display().to_string()),
        (OFFSET_VAR.into(), offset_secs.to_string()),
    ]
}
