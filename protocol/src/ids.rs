//! Record and feed identifiers: 32-byte hashes, shown as lowercase hex.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    PublicKey,
    record::{Audience, Channel},
};

/// Domain-separation prefix of record ids.
pub const RECORD_ID_DOMAIN: &[u8] = b"tipx/record/v1";

macro_rules! hash_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// From 32 raw bytes; `None` for any other length.
            pub fn from_slice(b: &[u8]) -> Option<Self> {
                b.try_into().ok().map(Self)
            }

            /// The first 8 hex digits, for tables and logs.
            pub fn short(&self) -> String {
                hex::encode(&self.0[..4])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                let raw = hex::decode(s.trim()).map_err(|_| InvalidId(s.to_string()))?;
                Self::from_slice(&raw).ok_or_else(|| InvalidId(s.to_string()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

hash_id!(
    /// A record's id: `sha256("tipx/record/v1" ‖ header bytes)`.
    RecordId
);
hash_id!(
    /// A feed's id: `sha256(author ‖ audience)`, one author's records for one audience.
    FeedId
);

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an id: expected 64 hex digits")]
pub struct InvalidId(pub String);

impl RecordId {
    /// The id of a record with these header bytes.
    pub fn of_header(header: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(RECORD_ID_DOMAIN);
        h.update(header);
        Self(h.finalize().into())
    }
}

impl FeedId {
    /// The feed of `author`'s records for `audience` in `channel`: sha256 of the key, then
    /// each audience code followed by a zero byte (so `["AB","C"]` and `["A","BC"]` differ),
    /// then, for a channel other than the main one, its name followed by a zero byte (no
    /// audience code holds a lower-case letter, so no channel feed is another's main feed).
    pub fn of(author: &PublicKey, audience: &Audience, channel: Channel) -> Self {
        let mut h = Sha256::new();
        h.update(author.as_bytes());
        for code in audience.codes() {
            h.update(code.as_bytes());
            h.update([0u8]);
        }
        if !channel.is_main() {
            h.update(channel.wire().as_bytes());
            h.update([0u8]);
        }
        Self(h.finalize().into())
    }
}

/// sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
