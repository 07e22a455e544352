//! Node keys: ed25519 signing keys and their public halves, in the libp2p PeerId string form
//! (`12D3KooW…`) that operators copy between configurations and rosters.
//!
//! The same key is a node's network identity and the key that signs what its state
//! publishes, so a PeerId names both. The PeerId text is computed here, without libp2p: the
//! protobuf encoding of the public key (`08 01 12 20 ‖ key`) wrapped in an identity
//! multihash (`00 24`) and written in base58btc.

use std::{cell::Cell, fmt, str::FromStr};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Prefix of the libp2p identity multihash of an ed25519 public key.
const PEER_ID_PREFIX: [u8; 6] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not base58 or not an ed25519 PeerId.
    #[error("`{0}` is not an ed25519 peer id (expected the 12D3KooW… form)")]
    PeerId(String),
    /// The 32 bytes are not a valid ed25519 point.
    #[error("not a valid ed25519 public key")]
    Point,
    /// A secret key file of the wrong length.
    #[error("a secret key is 32 bytes, found {0}")]
    SecretLength(usize),
}

/// A node's public key: who signed a record, and (as a PeerId) who is on the other end of a
/// connection.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// From the 32 raw bytes; fails if they are not a valid point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        thread_local! {
            /// The last key found valid on this thread: the records of a page share their
            /// author, and decompressing a point costs as much as a third of a signature
            /// check.
            static LAST_VALID: Cell<Option<[u8; 32]>> = const { Cell::new(None) };
        }
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Point)?;
        if LAST_VALID.get() != Some(arr) {
            VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::Point)?;
            LAST_VALID.set(Some(arr));
        }
        Ok(Self(arr))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The libp2p PeerId text, `12D3KooW…`.
    pub fn peer_id(&self) -> String {
        let mut buf = Vec::with_capacity(38);
        buf.extend_from_slice(&PEER_ID_PREFIX);
        buf.extend_from_slice(&self.0);
        bs58::encode(buf).into_string()
    }

    /// Parses the libp2p PeerId text of an ed25519 key.
    pub fn from_peer_id(s: &str) -> Result<Self, KeyError> {
        let bad = || KeyError::PeerId(s.to_string());
        let raw = bs58::decode(s.trim()).into_vec().map_err(|_| bad())?;
        if raw.len() != 38 || raw[..6] != PEER_ID_PREFIX {
            return Err(bad());
        }
        Self::from_bytes(&raw[6..]).map_err(|_| bad())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_peer_id(s)
    }
}

impl TryFrom<String> for PublicKey {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::from_peer_id(&s)
    }
}

impl From<PublicKey> for String {
    fn from(k: PublicKey) -> String {
        k.peer_id()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.peer_id())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.peer_id())
    }
}

/// A node's secret key. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// From 32 secret bytes (the content of `node.key`).
    pub fn from_secret(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::SecretLength(bytes.len()))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&arr),
        })
    }

    /// The 32 secret bytes, to be written to `node.key` (mode 0600); the copy is zeroed
    /// when dropped (the key itself is zeroed when the `Keypair` is).
    pub fn secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.signing.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `msg` as is (callers add domain separation, see `record::sign`).
    pub(crate) fn sign(&self, msg: &[u8]) -> Signature {
        self.signing.sign(msg)
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_text_round_trips_and_has_the_libp2p_prefix() {
        let kp = Keypair::from_secret(&[7u8; 32]).unwrap();
        let text = kp.public().peer_id();
        assert!(text.starts_with("12D3KooW"), "{text}");
        assert_eq!(PublicKey::from_peer_id(&text).unwrap(), kp.public());
    }

    #[test]
    fn garbage_peer_ids_are_refused() {
        for bad in [
            "",
            "12D3KooW",
            "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
            "not base58 0OIl",
        ] {
            assert!(PublicKey::from_peer_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let kp = Keypair::from_secret(&[9u8; 32]).unwrap();
        assert!(!format!("{kp:?}").contains("0909"));
    }
}
