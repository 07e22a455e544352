//! The local admin API: HTTP/JSON on 127.0.0.1, authenticated by the token in the data
//! directory. [`server`] is the daemon's routes, [`guard`] the checks every request passes
//! before a route sees it, [`serve`] the accept loop with its timeouts and connection cap,
//! [`client`] the command line's side.

use std::time::Duration;

pub mod client;
pub mod guard;
pub mod reporting;
pub mod serve;
pub mod server;
pub mod types;

/// The header that carries the token.
pub const TOKEN_HEADER: &str = "authorization";
/// Largest request body of the import route (`POST /v1/records`): a bulk import page of a
/// few thousand records.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;
/// Largest request body of every other route: they carry a retraction reason, a roster
/// entry or nothing, all under a few KiB, so a larger body is a mistake or an attack and is
/// refused before it is read.
pub const MAX_SMALL_REQUEST_BYTES: usize = 64 << 10;
/// How long a client may take to send a request's line and headers, and how long an idle
/// kept-alive connection stays open: the CLI sends them at once from this machine, so only
/// a stalled or hostile client comes near it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, its body and the node's work included: an import page
/// takes seconds; this stays under the CLI's own 300 s so the caller reads why it stopped.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(240);
/// Most connections served at once: the operator's commands and scripts need a handful;
/// beyond this, connections wait in the kernel's backlog instead of costing memory here.
pub const MAX_CONNECTIONS: usize = 32;
/// How long shutdown waits for requests in flight before it drops them: under the 10 s a
/// service manager commonly allows between SIGTERM and SIGKILL.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
