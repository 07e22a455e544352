//! tipx-node: the daemon (store, admin API) and the `tipx` command line.
//!
//! # Layout
//! - [`cli`]: argument parsing and the commands.
//! - [`daemon`]: `tipx run`.
//! - [`core`]: the node without the network — the store (private to it), the key, the
//!   roster and consents; publishing, receiving and queries. It imports nothing above it.
//! - [`store`]: the sled store.
//! - [`api`]: the local admin API, server and client.
//! - [`query`]: the filters of `records list`.
//! - [`search`]: the full-text index of best practices and alerts (tantivy).
//! - [`report`]: the report to the Permanent Council: its data, charts and formats.
//! - [`spreadsheet`]: CSV cells safe from formula injection.
//! - [`datadir`]: key, token and configuration files.

pub mod api;
pub mod bundle;
pub mod cli;
pub mod core;
pub mod daemon;
pub mod datadir;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod query;
pub mod report;
pub mod search;
pub mod spreadsheet;
pub mod stix;
pub mod store;
pub mod time;
