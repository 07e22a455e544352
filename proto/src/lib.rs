//! The tipx wire format: prost types generated from `tipx/v1/*.proto`.
//!
//! These types are for `tipx-protocol`'s conversion module (`tipx_protocol::wire`) and the
//! network codec only; the rest of the code works with the domain types.

#![allow(missing_docs, clippy::all, unreachable_pub)]

/// Version 1 of the wire format.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/tipx.v1.rs"));
}
