//! Offline bundles: records that travel on a file to a node whose network cannot reach the
//! federation. Every record keeps its author's signature; the bundle as a whole is signed
//! by the node that exported it, which then plays the peer that sent the records: the
//! importing node checks each one exactly as if that node had sent it.
//!
//! # The rule
//! The exporting node signs `DOMAIN ‖ sha256(header) ‖ sha256(frames) ‖ count`, where the
//! header names the exporter, its state, the state the bundle is for and when it was
//! made, the frames are every record as sent on the network (each after its length, as a
//! big-endian u32), and the count is the number of records (big-endian u64). A bundle
//! whose signature does not hold, by a key the roster gives the named state, is refused
//! whole: nothing in it can be attributed to a sender.

use serde::{Deserialize, Serialize};

use crate::{Keypair, PublicKey, StateCode, signature};

/// The domain-separation prefix of a bundle's signature.
pub const DOMAIN: &[u8] = b"tipx/bundle/v1";

/// What a bundle says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The exporting node's key.
    pub from: PublicKey,
    /// Its state.
    pub state: StateCode,
    /// The state the records were chosen for.
    #[serde(rename = "for")]
    pub for_state: StateCode,
    /// When it was made, ms since the Unix epoch.
    pub created_at_ms: u64,
}

/// The message a bundle's signature covers (after [`DOMAIN`]).
fn message(header_hash: &[u8; 32], frames_hash: &[u8; 32], count: u64) -> [u8; 72] {
    let mut m = [0u8; 72];
    m[..32].copy_from_slice(header_hash);
    m[32..64].copy_from_slice(frames_hash);
    m[64..].copy_from_slice(&count.to_be_bytes());
    m
}

impl Keypair {
    /// Signs a bundle whose header and frames hash to these, holding `count` records.
    pub fn sign_bundle(
        &self,
        header_hash: &[u8; 32],
        frames_hash: &[u8; 32],
        count: u64,
    ) -> [u8; 64] {
        let mut msg = DOMAIN.to_vec();
        msg.extend_from_slice(&message(header_hash, frames_hash, count));
        self.sign(&msg).to_bytes()
    }
}

/// Whether `signature` is `key`'s on a bundle whose header and frames hash to these.
pub fn verify(
    key: &PublicKey,
    header_hash: &[u8; 32],
    frames_hash: &[u8; 32],
    count: u64,
    signature: &[u8; 64],
) -> bool {
    signature::verify(&signature::Signed {
        key,
        domain: DOMAIN,
        message: &message(header_hash, frames_hash, count),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_signature_holds_for_its_contents_only() {
        let key = Keypair::from_secret(&[3; 32]).unwrap();
        let (h, f) = ([1u8; 32], [2u8; 32]);
        let sig = key.sign_bundle(&h, &f, 10);
        assert!(verify(&key.public(), &h, &f, 10, &sig));
        assert!(!verify(&key.public(), &h, &f, 9, &sig), "another count");
        assert!(
            !verify(&key.public(), &h, &[0; 32], 10, &sig),
            "other frames"
        );
        assert!(
            !verify(&key.public(), &[0; 32], &f, 10, &sig),
            "another header"
        );
        let other = Keypair::from_secret(&[4; 32]).unwrap();
        assert!(!verify(&other.public(), &h, &f, 10, &sig), "another key");
    }
}
