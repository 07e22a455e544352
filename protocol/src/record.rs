//! Records: a signed header plus a body that can be erased later (DESIGN.md §5).
//!
//! The header and body bytes are kept exactly as the author produced them; the id and the
//! signature are computed over those bytes, never over a re-encoding.

use std::{collections::BTreeSet, fmt};

use serde::{Deserialize, Serialize};

use crate::{
    FeedId, Keypair, PublicKey, RecordId, StateCode,
    body::Body,
    ids::sha256,
    signature::{self, Signed},
    validate::Rejection,
    wire,
};

/// Domain-separation prefix of signatures.
pub const SIGN_DOMAIN: &[u8] = b"tipx/sign/v1";
/// The wire format version this code writes and reads.
pub const VERSION: u32 = 1;
/// The audience code of control records (consent, roster) that every roster member holds.
pub const FEDERATION: &str = "*";

/// Who a record is for.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub enum Audience {
    /// Every roster member (consent and roster records only).
    Federation,
    /// These states, sorted and unique.
    States(BTreeSet<StateCode>),
}

impl Audience {
    /// An audience of the given states.
    pub fn states(codes: impl IntoIterator<Item = StateCode>) -> Self {
        Self::States(codes.into_iter().collect())
    }

    /// Whether `state` is in the audience.
    pub fn contains(&self, state: StateCode) -> bool {
        match self {
            Self::Federation => true,
            Self::States(s) => s.contains(&state),
        }
    }

    /// The codes as they are written on the wire, sorted.
    pub fn codes(&self) -> Vec<String> {
        match self {
            Self::Federation => vec![FEDERATION.to_string()],
            Self::States(s) => s.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// Parses wire codes, which must be sorted and unique.
    pub fn from_wire(codes: &[String]) -> Result<Self, String> {
        if codes.len() == 1 && codes[0] == FEDERATION {
            return Ok(Self::Federation);
        }
        if codes.is_empty() {
            return Err("empty audience".into());
        }
        let mut set = BTreeSet::new();
        let mut last: Option<StateCode> = None;
        for c in codes {
            let code: StateCode = c
                .parse()
                .map_err(|e: crate::state_code::InvalidStateCode| e.to_string())?;
            if c != code.as_str() || last.is_some_and(|l| l >= code) {
                return Err("audience codes must be upper case, sorted and unique".into());
            }
            last = Some(code);
            set.insert(code);
        }
        Ok(Self::States(set))
    }
}

impl TryFrom<Vec<String>> for Audience {
    type Error = String;
    fn try_from(v: Vec<String>) -> Result<Self, String> {
        if v.len() == 1 && v[0] == FEDERATION {
            return Ok(Self::Federation);
        }
        let mut set = BTreeSet::new();
        for c in &v {
            set.insert(c.parse::<StateCode>().map_err(|e| e.to_string())?);
        }
        if set.is_empty() {
            return Err("empty audience".into());
        }
        Ok(Self::States(set))
    }
}

impl From<Audience> for Vec<String> {
    fn from(a: Audience) -> Self {
        a.codes()
    }
}

impl fmt::Debug for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.codes().join(","))
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $var:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $var),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];

            /// The value as written in JSON and on the command line.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$var => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let l = s.trim().to_ascii_lowercase().replace('_', "-");
                Self::ALL.iter().copied().find(|v| v.as_str() == l).ok_or_else(|| {
                    let all: Vec<_> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} `{}`: expected one of {}", stringify!($name).to_lowercase(), s, all.join(", "))
                })
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// What a record's body is.
    Kind {
        /// A programme, law or protocol that worked.
        BestPractice = "best-practice",
        /// A time-limited warning.
        Alert = "alert",
        /// Withdraws an earlier record.
        Retraction = "retraction",
        /// A request to exchange with a state, or its withdrawal.
        Consent = "consent",
        /// The membership list.
        Roster = "roster",
        /// A day's activity summary, for the coordinator (channel `activity`).
        Activity = "activity",
        /// A national profile (channel `profile`).
        Profile = "profile",
    }
);

impl Kind {
    /// The channel of the feeds records of this kind live in.
    pub fn channel(self) -> Channel {
        match self {
            Self::Activity => Channel::Activity,
            Self::Profile => Channel::Profile,
            _ => Channel::Main,
        }
    }
}

/// Which feeds of an (author, audience) pair a record lives in. Kinds added after version 1
/// shipped have feeds of their own, so that a node that does not know a kind yet is never
/// sent one and never holds a gap where it cannot follow (docs/PROTOCOL.md, rollout rule).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// Best practices, alerts, retractions, consents, the roster.
    #[default]
    Main,
    /// Activity summaries.
    Activity,
    /// National profiles.
    Profile,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Self; 3] = [Self::Main, Self::Activity, Self::Profile];

    /// As written in a header: empty for the main channel.
    pub fn wire(self) -> &'static str {
        match self {
            Self::Main => "",
            Self::Activity => "activity",
            Self::Profile => "profile",
        }
    }

    /// The channel written `s` in a header, if this node knows it.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.wire() == s)
    }

    /// Whether it is the main channel (for serde's `skip_serializing_if`).
    pub fn is_main(&self) -> bool {
        *self == Self::Main
    }

    /// Its bit in a peer's [`Channels`] (none for the main channel, which every node knows).
    fn bit(self) -> u32 {
        match self {
            Self::Main => 0,
            Self::Activity => 1,
            Self::Profile => 2,
        }
    }
}

/// The channels a peer said it knows, beyond the main one (a bit each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channels(pub u32);

impl Channels {
    /// Every channel this node knows.
    pub const KNOWN: Self = Self(1 | 2);

    /// Whether a peer that said `self` may be sent a feed of `channel`.
    pub fn knows(self, channel: Channel) -> bool {
        self.0 & channel.bit() == channel.bit()
    }
}

text_enum!(
    /// Traffic Light Protocol 2.0 marking.
    Tlp {
        /// No restriction on disclosure.
        Clear = "clear",
        /// The community.
        Green = "green",
        /// The recipients' organisations and their clients.
        Amber = "amber",
        /// The recipients' organisations only.
        AmberStrict = "amber+strict",
        /// The named recipients only.
        Red = "red",
    }
);

text_enum!(
    /// Who a receiving state may pass the content on to.
    Handling {
        /// The receiving state's focal point and tipx node only.
        FocalPoint = "focal-point",
        /// Also the receiving state's competent national authorities.
        NationalAuthorities = "national-authorities",
        /// May be published.
        Public = "public",
    }
);

/// The signed part of a record, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Wire format version.
    pub version: u32,
    /// The author's key.
    pub author: PublicKey,
    /// The author's state.
    pub author_state: StateCode,
    /// Who the record is for.
    pub audience: Audience,
    /// `FeedId::of(author, audience, channel)`.
    pub feed: FeedId,
    /// Position in the feed, from 1.
    pub seq: u64,
    /// The record at `seq - 1`; `None` for seq 1.
    pub prev: Option<RecordId>,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// The body's kind.
    pub kind: Kind,
    /// sha256 of the body bytes.
    pub body_sha256: [u8; 32],
    /// Length of the body bytes.
    pub body_len: u32,
    /// TLP marking.
    pub tlp: Tlp,
    /// Handling code.
    pub handling: Handling,
    /// The channel of its feed (`kind.channel()`).
    pub channel: Channel,
}

/// A record: exact header bytes, signature, and body bytes unless erased.
///
/// Holding a `Record` says nothing about its validity: see [`crate::validate`].
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// `sha256("tipx/record/v1" ‖ header_bytes)`.
    pub id: RecordId,
    /// The decoded header.
    pub header: Header,
    /// The header bytes exactly as signed.
    pub header_bytes: Vec<u8>,
    /// ed25519 signature over `"tipx/sign/v1" ‖ header_bytes`.
    pub signature: [u8; 64],
    /// The body bytes; `None` once erased.
    pub body: Option<Vec<u8>>,
    /// Once the body of a best practice or alert is erased: the encoded retraction of the
    /// same feed that erased it, which shows every later holder that the author erased the
    /// body, not a relay (see [`crate::validate`]). `None` while the body is held.
    pub erased_by: Option<Vec<u8>>,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("kind", &self.header.kind)
            .field("state", &self.header.author_state)
            .field("seq", &self.header.seq)
            .field("erased", &self.body.is_none())
            .field(
                "erased_by",
                &self.erased_by.as_ref().map(|_| "a retraction"),
            )
            .finish()
    }
}

/// Everything the author chooses about a new record; the feed position comes from its store.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The author's state.
    pub author_state: StateCode,
    /// Who it is for.
    pub audience: Audience,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// TLP marking.
    pub tlp: Tlp,
    /// Handling code.
    pub handling: Handling,
    /// The content.
    pub body: Body,
}

/// A header built and encoded, waiting for its signature (signing is the slow step, so bulk
/// imports build headers in feed order and sign them in parallel).
#[derive(Clone, Debug)]
pub struct Unsigned {
    /// The id the record will have.
    pub id: RecordId,
    /// The decoded header.
    pub header: Header,
    /// Its bytes.
    pub header_bytes: Vec<u8>,
    /// The encoded body.
    pub body: Vec<u8>,
}

impl Draft {
    /// Builds the header for position `seq` after `prev` in the author's feed.
    pub fn prepare(&self, author: PublicKey, seq: u64, prev: Option<RecordId>) -> Unsigned {
        let body = wire::encode_body(&self.body);
        let header = Header {
            version: VERSION,
            author,
            author_state: self.author_state,
            feed: FeedId::of(&author, &self.audience, self.body.kind().channel()),
            audience: self.audience.clone(),
            seq,
            prev,
            created_at_ms: self.created_at_ms,
            kind: self.body.kind(),
            body_sha256: sha256(&body),
            body_len: body.len() as u32,
            tlp: self.tlp,
            handling: self.handling,
            channel: self.body.kind().channel(),
        };
        let header_bytes = wire::encode_header(&header);
        Unsigned {
            id: RecordId::of_header(&header_bytes),
            header,
            header_bytes,
            body,
        }
    }
}

impl Unsigned {
    /// Signs it with the author's key.
    pub fn sign(self, key: &Keypair) -> Record {
        let mut msg = Vec::with_capacity(SIGN_DOMAIN.len() + self.header_bytes.len());
        msg.extend_from_slice(SIGN_DOMAIN);
        msg.extend_from_slice(&self.header_bytes);
        Record {
            id: self.id,
            header: self.header,
            header_bytes: self.header_bytes,
            signature: key.sign(&msg).to_bytes(),
            body: Some(self.body),
            erased_by: None,
        }
    }
}

impl Record {
    /// Decodes a `SignedRecord` from the wire. Checks only that it parses: see
    /// [`crate::validate`] for everything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, Rejection> {
        wire::decode_record(bytes)
    }

    /// The id of the encoded `SignedRecord` in `bytes`, if it decodes that far: what a node
    /// needs to drop a copy of a record it holds before any signature work.
    pub fn id_of(bytes: &[u8]) -> Option<RecordId> {
        wire::record_id(bytes)
    }

    /// Encodes it as a `SignedRecord` (header and body bytes as they are).
    pub fn encode(&self) -> Vec<u8> {
        wire::encode_record(self)
    }

    /// Size on the wire.
    pub fn encoded_len(&self) -> usize {
        self.header_bytes.len()
            + 64
            + self.body.as_ref().map_or(0, Vec::len)
            + self.erased_by.as_ref().map_or(0, Vec::len)
            + 24
    }

    /// The signature to check: by the author, on `"tipx/sign/v1" ‖ header bytes`.
    pub fn signed(&self) -> Signed<'_> {
        Signed {
            key: &self.header.author,
            domain: SIGN_DOMAIN,
            message: &self.header_bytes,
            signature: &self.signature,
        }
    }

    /// Checks the signature (the rule of [`crate::signature`]).
    pub fn verify_signature(&self) -> Result<(), Rejection> {
        if signature::verify(&self.signed()) {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }

    /// Decodes the body, checking it against the header's hash and length; `Ok(None)` once
    /// erased.
    pub fn body(&self) -> Result<Option<Body>, Rejection> {
        let Some(bytes) = &self.body else {
            return Ok(None);
        };
        if bytes.len() > crate::body::MAX_BODY_BYTES {
            return Err(Rejection::BadBody(format!(
                "{} bytes, at most {} allowed",
                bytes.len(),
                crate::body::MAX_BODY_BYTES
            )));
        }
        if bytes.len() != self.header.body_len as usize || sha256(bytes) != self.header.body_sha256
        {
            return Err(Rejection::BodyMismatch);
        }
        wire::decode_body(self.header.kind, bytes).map(Some)
    }

    /// The same record without its body (and without the proof of its erasure): what a
    /// relay stripping it would send, and the form fork evidence is kept in.
    pub fn erased(&self) -> Self {
        Self {
            body: None,
            erased_by: None,
            ..self.clone()
        }
    }

    /// The same record erased by `retraction`, which it carries as the proof.
    pub fn erased_by(&self, retraction: &Record) -> Self {
        Self {
            body: None,
            erased_by: Some(retraction.encode()),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Author, NOW_MS, alert, st};

    fn codes(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wire_audiences_must_be_sorted_unique_upper_case_codes_or_the_federation() {
        assert_eq!(
            Audience::from_wire(&codes(&["*"])),
            Ok(Audience::Federation)
        );
        assert_eq!(
            Audience::from_wire(&codes(&["CO", "MX"])),
            Ok(Audience::states([st("MX"), st("CO")]))
        );
        for bad in [
            &[][..],
            &["MX", "CO"],
            &["CO", "CO"],
            &["co", "MX"],
            &["*", "MX"],
            &["MEX"],
        ] {
            assert!(Audience::from_wire(&codes(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_audiences_are_normalised_and_never_empty() {
        let a: Audience = serde_json::from_str(r#"["mx","CO"]"#).unwrap();
        assert_eq!(a.codes(), codes(&["CO", "MX"]));
        let f: Audience = serde_json::from_str(r#"["*"]"#).unwrap();
        assert_eq!(f, Audience::Federation);
        assert!(serde_json::from_str::<Audience>("[]").is_err());
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"["CO","MX"]"#);
    }

    #[test]
    fn markings_parse_leniently_and_list_the_valid_values_otherwise() {
        assert_eq!(" Amber+Strict ".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("BEST_PRACTICE".parse::<Kind>(), Ok(Kind::BestPractice));
        assert_eq!(
            "national_authorities".parse::<Handling>(),
            Ok(Handling::NationalAuthorities)
        );
        let err = "orange".parse::<Tlp>().unwrap_err();
        assert_eq!(
            err,
            "unknown tlp `orange`: expected one of clear, green, amber, amber+strict, red"
        );
    }

    #[test]
    fn encoding_keeps_the_exact_bytes_and_erasing_keeps_the_id() {
        let r = Author::new("CO").publish(&["CO", "MX"], alert("One"), NOW_MS);
        let back = Record::decode(&r.encode()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.encode(), r.encode());
        assert!(r.encoded_len() >= r.encode().len());

        let erased = Record::decode(&r.erased().encode()).unwrap();
        assert_eq!(erased.id, r.id);
        assert_eq!(erased.body, None);
        assert_eq!(erased.body(), Ok(None));
        assert_eq!(erased.verify_signature(), Ok(()));
    }

    #[test]
    fn a_changed_header_no_longer_verifies() {
        let mut r = Author::new("CO").publish(&["CO", "MX"], alert("One"), NOW_MS);
        assert_eq!(r.verify_signature(), Ok(()));
        let last = r.header_bytes.len() - 1;
        r.header_bytes[last] ^= 0x01;
        assert_eq!(r.verify_signature(), Err(Rejection::BadSignature));
    }
}
