//! STIX 2.1: records leave a node as a bundle that MISP, OpenCTI and other tools read
//! ([`BundleWriter`]), and a bundle those tools wrote becomes alerts ([`alerts_from`]).
//! The mapping, both ways, is docs/STIX.md.
//!
//! Ids are UUIDv5 of the tipx record id (or of the state code) in a namespace of tipx's
//! own, so exporting the same records twice gives the same bundle byte for byte.

mod export;
mod import;
mod pattern;
#[cfg(test)]
mod tests;

pub use export::BundleWriter;
pub use import::{Imported, alerts_from};

use tipx_protocol::Tlp;
use uuid::Uuid;

/// The namespace of tipx's STIX ids (a random UUID, fixed once).
const NAMESPACE: Uuid = uuid::uuid!("5b0e8d1c-2f47-4a8e-9d3b-7c6a1e4f2b90");

/// The id of a STIX object of `kind` named by `name` within tipx.
fn id(kind: &str, name: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// The TLP 2.0 extension's id (OASIS, cti-stix-common-objects).
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// TLP 2.0's official marking definitions: the marking, its id, its name and its value in
/// the extension.
const TLP2: [(Tlp, &str, &str, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "TLP:CLEAR",
        "clear",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "TLP:GREEN",
        "green",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "TLP:AMBER",
        "amber",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "TLP:AMBER+STRICT",
        "amber+strict",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "TLP:RED",
        "red",
    ),
];

/// TLP 1.0's marking definitions, built into STIX 2.1 (tools still write them): white is
/// read as clear.
const TLP1: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// When the shared objects (identities, locations) were created: fixed, so that they are
/// the same in every export.
const EPOCH: &str = "2026-01-01T00:00:00.000Z";
/// When OASIS published the TLP 2.0 marking definitions.
const TLP2_CREATED: &str = "2022-10-01T00:00:00.000Z";
