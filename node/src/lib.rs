//! tipx-node: the daemon (store, admin API) and the `tipx` command line.
//!
//! # Layout
//! - [`cli`]: argument parsing and the commands.
//! - [`daemon`]: `tipx run`.
//! - [`node`]: publishing and queries over the store, without the network.
//! - [`store`]: the sled store.
//! - [`api`]: the local admin API, server and client.
//! - [`query`]: the filters of `records list`.
//! - [`datadir`]: key, token and configuration files.

pub mod api;
pub mod cli;
pub mod daemon;
pub mod datadir;
pub mod logging;
pub mod net;
pub mod node;
pub mod query;
pub mod store;
pub mod time;
