//! The local admin API: HTTP/JSON on 127.0.0.1, authenticated by the token in the data
//! directory. [`server`] is the daemon's side, [`client`] the command line's.

pub mod client;
pub mod server;
pub mod types;

/// The header that carries the token.
pub const TOKEN_HEADER: &str = "authorization";
/// Largest request body the API accepts: a bulk import page of a few thousand records.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;
