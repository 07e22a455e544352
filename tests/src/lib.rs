//! tipx integration test helpers: run the real `tipx` binary as a user would.
//!
//! # Layout
//!
//! - [`bench`]: what the benchmark binaries share.
//! - [`binary`]: [`tipx_bin`] finds (or builds, once per test process) the `tipx` binary,
//!   or takes the one given to [`use_binary`]; [`tipx_command`] starts it with a clean
//!   environment.
//! - [`process`]: [`run_with_deadline`] runs a command; its [`Outcome`] (exit status,
//!   stdout, stderr) has assertions whose failure messages show all of it.
//! - [`faketime`]: a wall clock shifted for one node (`LD_PRELOAD` of a shim built here).
//! - [`fuzz`]: the bodies of the fuzz targets in `fuzz/`, one function per target, which
//!   `tests/fuzz_corpus.rs` also runs over the committed corpus.
//! - [`federation`]: a [`federation::Federation`] of nodes on 127.0.0.1 with a roster and
//!   consents, for multi-node tests.
//! - [`node`]: a [`Node`] is one data directory and, while started, its `tipx run` daemon:
//!   `init`, `start`, `stop` (SIGTERM), `kill9`, and [`Node::tipx`] to run any command
//!   against it.
//! - [`netns`], [`proxy`], [`chaos`]: fault tests (root only): each node of a
//!   [`chaos::Chaos`] federation runs in a network namespace of its own and reaches the
//!   others only through a tokio TCP proxy that cuts, black-holes, delays or throttles
//!   links on the test's command.
//! - [`peer`]: a hand-driven member ([`peer::Peer`]): a swarm with a real roster key that
//!   pushes hand-made records over `/tipx/sync/1`.
//!
//! - [`python`]: outside checkers in Python (the OASIS STIX 2.1 validator, the Prometheus
//!   exposition-format parser), in a virtual environment under `target/`.
//! - [`steps`]: steps several multi-node tests share (a consent arrived, a batch of alerts,
//!   publishing again with no fork at the partner).
//!
//! Every wait has a deadline, and a [`Node`] kills its daemon when dropped, so a failing
//! test neither hangs nor leaves processes behind.

pub mod bench;
pub mod binary;
pub mod chaos;
pub mod faketime;
pub mod federation;
pub mod fuzz;
pub mod netns;
pub mod node;
pub mod peer;
pub mod process;
pub mod proxy;
pub mod python;
pub mod steps;

use std::{fs, path::Path};

pub use binary::{tipx_bin, tipx_command, use_binary};
pub use node::{
    LOG_FILE, Node, START_DEADLINE, STOP_DEADLINE, alone, alone_running, free_port, publish,
};
pub use process::{COMMAND_DEADLINE, Outcome, run_with_deadline};

/// Writes `lines` as a JSON-lines file at `path`.
pub fn write_jsonl(path: &Path, lines: &[serde_json::Value]) {
    let mut text = String::new();
    for l in lines {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    fs::write(path, text).expect("writing a JSON-lines file");
}
