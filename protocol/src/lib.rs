//! The rules of tipx, with no I/O: keys and state codes, records and their bodies, signing
//! and validation, feeds, membership and consent, and the `Store` trait. Time comes in as an
//! argument; nothing here touches a socket, a disk or a clock.
//!
//! # Layout
//! - [`state_code`]: state codes (`MX`, `OAS`).
//! - [`keys`]: ed25519 keys and their PeerId text.
//! - [`ids`]: record and feed ids.
//! - [`record`]: the header, the signed record, drafting and signing.
//! - [`signature`]: the signature rule, checked alone or a page at a time.
//! - [`body`]: best practices, alerts, retractions, consents, the roster, activity
//!   summaries and national profiles.
//! - [`day`]: UTC days.
//! - [`wire`]: the one place where prost types meet domain types.
//! - [`validate`]: every rule a received record must pass, and [`Rejection`].
//! - [`feed`]: continuity of a feed, forks.
//! - [`membership`]: the roster and partners.
//! - [`quota`]: per-author daily quotas on what a node takes from peers.
//! - [`store`]: the `Store` trait, the insert algorithm, an in-memory store.
//! - [`varint`]: the compact numbers of the binary formats.
//! - [`sync`]: replication — who may be sent which feed, the sync messages, and the
//!   state machine whose actions the node carries out.

#![warn(missing_docs)]

pub mod body;
pub mod bundle;
pub mod day;
pub mod feed;
pub mod ids;
pub mod keys;
pub mod membership;
pub mod quota;
pub mod record;
pub mod signature;
pub mod state_code;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "conformance"))]
pub mod testkit;
pub mod validate;
pub mod varint;
pub mod wire;

pub use body::Body;
pub use ids::{FeedId, RecordId};
pub use keys::{Keypair, PublicKey};
pub use membership::Membership;
pub use record::{Audience, Channel, Channels, Draft, Handling, Header, Kind, Record, Tlp};
pub use state_code::StateCode;
pub use store::Store;
pub use validate::{Origin, Rejection, Verified};
