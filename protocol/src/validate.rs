//! Validation of a record, in the order of DESIGN.md §5. A failure is a value, a
//! [`Rejection`] with a reason, never a panic: it is logged with the peer and counted
//! against the sender.
//!
//! Feed continuity needs the store and is checked by [`crate::feed::continuity`] after
//! these rules pass.

use crate::{
    FeedId, Membership, PublicKey, StateCode,
    body::Body,
    record::{Audience, Kind, Record},
    signature,
};

/// How far in the future a record's `created_at` may be: clocks drift.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Larger than this node accepts.
    #[error("oversized: {len} bytes, the limit is {max}")]
    Oversized {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Does not decode, or a field is malformed.
    #[error("malformed: {0}")]
    Malformed(String),
    /// A wire format version this node does not know.
    #[error("unsupported wire format version {0}")]
    UnsupportedVersion(u32),
    /// A feed channel this node does not know (a kind added by a later version).
    #[error("unknown channel `{0}`: this node predates it")]
    UnknownChannel(String),
    /// The author key is not in the roster for the state it claims.
    #[error("author key is not in the roster for {0}")]
    UnknownAuthor(StateCode),
    /// The author key was revoked: once a node knows it, nothing new signed by it is
    /// accepted, whatever time the record claims (its signer chooses `created_at_ms`).
    #[error(
        "author key was revoked (at {revoked_at_ms} ms): nothing new from it is accepted, whatever time the record claims"
    )]
    RevokedAuthor {
        /// When the key was revoked.
        revoked_at_ms: u64,
    },
    /// The signature does not verify (a tampered header, or the wrong key).
    #[error("bad signature")]
    BadSignature,
    /// This node's state is not in the record's audience.
    #[error("misaddressed: {0} is not in the audience")]
    NotInAudience(StateCode),
    /// The record's kind does not go with its audience.
    #[error("misaddressed: {0}")]
    BadAudience(String),
    /// The sender may not pass this record to us.
    #[error("sender not allowed: {0}")]
    SenderNotAllowed(String),
    /// The author's state and ours are not partners.
    #[error("{author} and {local} are not partners")]
    AuthorNotPartner {
        /// The author's state.
        author: StateCode,
        /// Ours.
        local: StateCode,
    },
    /// A roster that lists for this node's state a key outside `federation.pinned_keys`.
    #[error(
        "roster lists {key} for {state}, a key not in federation.pinned_keys: the previous roster stays in force"
    )]
    UnpinnedKey {
        /// This node's state.
        state: StateCode,
        /// The key not pinned.
        key: PublicKey,
    },
    /// Created too far in the future.
    #[error("created {ahead_ms} ms in the future (at most {MAX_CLOCK_SKEW_MS} allowed)")]
    FromTheFuture {
        /// How far ahead.
        ahead_ms: u64,
    },
    /// The body does not match the header's hash or length (a tampered body).
    #[error("body does not match the header's hash")]
    BodyMismatch,
    /// The body decodes badly or breaks a content rule.
    #[error("bad body: {0}")]
    BadBody(String),
    /// A best practice or alert without its body, and without the author's retraction that
    /// erased it: a relay stripped it (or it was damaged on the way).
    #[error("stripped: {0}")]
    Stripped(String),
    /// A retraction that does not target an earlier record of its feed.
    #[error("bad retraction: {0}")]
    BadRetraction(String),
    /// Not the next record of its feed: earlier ones are missing.
    #[error("gap in feed: holding up to seq {have}, got seq {got}")]
    Gap {
        /// The highest seq held.
        have: u64,
        /// The seq received.
        got: u64,
    },
    /// A second, different record for a feed position, or a broken `prev`.
    #[error("fork at seq {seq}: the author signed two different records for one position")]
    Fork {
        /// Where.
        seq: u64,
    },
    /// The author has reached a daily quota at this node ([`crate::quota`]): taken again
    /// the next day.
    #[error("over quota: the author sent its {limit} {what} for today; the rest is taken tomorrow")]
    OverQuota {
        /// What is counted.
        what: &'static str,
        /// The day's limit.
        limit: u64,
    },
}

impl Rejection {
    /// A short stable name, for metrics and the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Oversized { .. } => "oversized",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion(_) => "unsupported-version",
            Self::UnknownChannel(_) => "unknown-channel",
            Self::UnknownAuthor(_) => "unknown-author",
            Self::RevokedAuthor { .. } => "revoked-author",
            Self::BadSignature => "bad-signature",
            Self::NotInAudience(_) | Self::BadAudience(_) => "misaddressed",
            Self::SenderNotAllowed(_) => "sender-not-allowed",
            Self::AuthorNotPartner { .. } => "author-not-partner",
            Self::UnpinnedKey { .. } => "unpinned-key",
            Self::FromTheFuture { .. } => "future-timestamp",
            Self::BodyMismatch => "body-mismatch",
            Self::BadBody(_) => "bad-body",
            Self::Stripped(_) => "stripped",
            Self::BadRetraction(_) => "bad-retraction",
            Self::Gap { .. } => "gap",
            Self::Fork { .. } => "fork",
            Self::OverQuota { .. } => "over-quota",
        }
    }

    /// Whether the sender is to blame. A gap (earlier records still on their way) and an
    /// unknown author (this node's roster may be older than the sender's) are not: the next
    /// sync round fetches them again. Nor is a revoked author (an honest relay may hold
    /// records the key signed, and may not know of the revocation yet), nor a fork (the
    /// author signed two versions of a seq, and a relay that carried one of them did
    /// nothing wrong: the fork is kept as evidence and flagged against the author), nor an
    /// unpinned key (the coordinator signed that roster, not the relay), nor a record from
    /// the future (the author's clock may be ahead, or this node's behind: no node can tell
    /// which; the record is fetched again once its time has come), nor a record over its
    /// author's daily quota (a relay carries what the author signed), nor a channel this
    /// node does not know (a peer of a later version mentions a channel's feeds only to
    /// nodes that said they know it, so this is a bug, not an attack).
    pub fn is_offence(&self) -> bool {
        !matches!(
            self,
            Self::Gap { .. }
                | Self::UnknownChannel(_)
                | Self::UnknownAuthor(_)
                | Self::RevokedAuthor { .. }
                | Self::Fork { .. }
                | Self::UnpinnedKey { .. }
                | Self::FromTheFuture { .. }
                | Self::OverQuota { .. }
        )
    }
}

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Published on this node.
    Local,
    /// Received from a connected peer with this key.
    Peer(PublicKey),
}

/// What the validating node knows.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// This node's state.
    pub local_state: StateCode,
    /// The clock, ms since the Unix epoch.
    pub now_ms: u64,
    /// The largest encoded record accepted, in bytes.
    pub max_record_bytes: usize,
    /// Roster and consent.
    pub membership: &'a Membership,
}

/// A record that passed every rule but feed continuity, with its decoded body (`None` if
/// it arrived erased).
#[derive(Debug, Clone)]
pub struct Verified {
    /// The record.
    pub record: Record,
    /// Its body.
    pub body: Option<Body>,
}

/// Decodes and validates received bytes.
pub fn validate_bytes(bytes: &[u8], from: Origin, cx: &Context<'_>) -> Result<Verified, Rejection> {
    validate(decode(bytes, cx)?, from, cx)
}

/// Decodes and validates a page of received records, as [`validate_bytes`] would each of
/// them, checking their signatures together ([`signature::verify_batch`]).
pub fn validate_page(
    page: &[Vec<u8>],
    from: Origin,
    cx: &Context<'_>,
) -> Vec<Result<Verified, Rejection>> {
    let checked: Vec<Result<Record, Rejection>> = page
        .iter()
        .map(|b| {
            let r = decode(b, cx)?;
            before_signature(&r, cx)?;
            Ok(r)
        })
        .collect();
    let signed: Vec<_> = checked.iter().flatten().map(Record::signed).collect();
    let mut verdicts = signature::verify_batch(&signed).into_iter();
    checked
        .into_iter()
        .map(|r| {
            let r = r?;
            if !verdicts.next().expect("one verdict per signature") {
                return Err(Rejection::BadSignature);
            }
            after_signature(r, from, cx)
        })
        .collect()
}

/// Validates a decoded record.
pub fn validate(record: Record, from: Origin, cx: &Context<'_>) -> Result<Verified, Rejection> {
    before_signature(&record, cx)?;
    record.verify_signature()?;
    after_signature(record, from, cx)
}

fn decode(bytes: &[u8], cx: &Context<'_>) -> Result<Record, Rejection> {
    if bytes.len() > cx.max_record_bytes {
        return Err(Rejection::Oversized {
            len: bytes.len(),
            max: cx.max_record_bytes,
        });
    }
    Record::decode(bytes)
}

/// The rules before the signature's (DESIGN.md §5, 1–7).
fn before_signature(record: &Record, cx: &Context<'_>) -> Result<(), Rejection> {
    let len = record.encoded_len();
    if len > cx.max_record_bytes {
        return Err(Rejection::Oversized {
            len,
            max: cx.max_record_bytes,
        });
    }
    let h = &record.header;
    if h.feed != FeedId::of(&h.author, &h.audience, h.channel) {
        return Err(Rejection::Malformed(
            "feed id is not sha256(author ‖ audience ‖ channel)".into(),
        ));
    }
    if h.channel != h.kind.channel() {
        return Err(Rejection::Malformed(format!(
            "a {} lives in the {:?} channel, not {:?}",
            h.kind,
            h.kind.channel().wire(),
            h.channel.wire()
        )));
    }
    if h.kind == Kind::Activity && h.audience != Audience::states([StateCode::coordinator()]) {
        return Err(Rejection::BadAudience(
            "an activity summary is addressed to the coordinator (OAS) alone".into(),
        ));
    }
    if h.seq == 0 || (h.seq == 1) != h.prev.is_none() {
        return Err(Rejection::Malformed(
            "seq starts at 1, and only seq 1 has no prev".into(),
        ));
    }
    let control = matches!(h.kind, Kind::Consent | Kind::Roster);
    match (&h.audience, control) {
        (Audience::Federation, false) => {
            return Err(Rejection::BadAudience(format!(
                "a {} cannot be addressed to everyone",
                h.kind
            )));
        }
        (Audience::States(_), true) => {
            return Err(Rejection::BadAudience(format!(
                "a {} is addressed to the federation (*)",
                h.kind
            )));
        }
        _ => {}
    }
    cx.membership.check_author(h)
}

/// The rules after the signature's (DESIGN.md §5, 9 on).
fn after_signature(record: Record, from: Origin, cx: &Context<'_>) -> Result<Verified, Rejection> {
    let h = &record.header;
    let control = matches!(h.kind, Kind::Consent | Kind::Roster);
    if !h.audience.contains(cx.local_state) {
        return Err(Rejection::NotInAudience(cx.local_state));
    }
    if let Origin::Peer(sender) = from {
        cx.membership.check_sender(sender, h, cx.local_state)?;
    }
    if !control
        && h.author_state != cx.local_state
        && !cx.membership.are_partners(h.author_state, cx.local_state)
    {
        return Err(Rejection::AuthorNotPartner {
            author: h.author_state,
            local: cx.local_state,
        });
    }
    if h.created_at_ms > cx.now_ms + MAX_CLOCK_SKEW_MS {
        return Err(Rejection::FromTheFuture {
            ahead_ms: h.created_at_ms - cx.now_ms,
        });
    }
    let body = record.body()?;
    check_body_fits(&record, body.as_ref())?;
    if let Some(Body::Roster(r)) = &body {
        cx.membership.check_pins(r)?;
    }
    Ok(Verified { record, body })
}

/// Rules that tie a body to its header.
fn check_body_fits(record: &Record, body: Option<&Body>) -> Result<(), Rejection> {
    match body {
        Some(Body::Consent(c)) if c.partner == record.header.author_state => Err(
            Rejection::BadBody("a state cannot consent to itself".into()),
        ),
        Some(Body::Retraction(_)) if record.header.seq == 1 => Err(Rejection::BadRetraction(
            "a retraction cannot open a feed".into(),
        )),
        Some(Body::Activity(a)) if a.day.start_ms() > record.header.created_at_ms => {
            Err(Rejection::BadBody(format!(
                "a summary of {}, a day that had not begun when it was written",
                a.day
            )))
        }
        Some(Body::Activity(a)) if a.through_ms > record.header.created_at_ms => Err(
            Rejection::BadBody("a summary that covers time after it was written".into()),
        ),
        // Only best practices and alerts are ever erased; the other kinds act through their
        // body, and one stored without it would make the real one a no-op duplicate.
        None if !matches!(record.header.kind, Kind::BestPractice | Kind::Alert) => {
            Err(Rejection::BadBody(format!(
                "a {} is never erased: it must carry its body",
                record.header.kind
            )))
        }
        None => check_erased(record),
        Some(_) if record.erased_by.is_some() => Err(Rejection::Malformed(
            "a record carrying its body carries no retraction that erased it".into(),
        )),
        Some(_) => Ok(()),
    }
}

/// A best practice or alert may travel without its body only with the proof that its
/// author erased it: the retraction, later in the same feed and signed by the same key,
/// that erases this very record. Without the proof a relay could strip any alert it passes
/// on, and the full copy would be a duplicate wherever the stripped one arrived first.
fn check_erased(record: &Record) -> Result<(), Rejection> {
    let stripped = |why: &str| Err(Rejection::Stripped(why.to_string()));
    let Some(bytes) = &record.erased_by else {
        return stripped("its body is missing and no retraction shows that its author erased it");
    };
    let Ok(by) = Record::decode(bytes) else {
        return stripped("the retraction said to have erased it does not decode");
    };
    let h = &by.header;
    if h.kind != Kind::Retraction || h.feed != record.header.feed || h.seq <= record.header.seq {
        return stripped("what is said to have erased it is not a later retraction of its feed");
    }
    if by.verify_signature().is_err() {
        return stripped("the retraction said to have erased it is not signed by its author");
    }
    match by.body() {
        Ok(Some(Body::Retraction(r))) if r.target == record.id && r.erase => Ok(()),
        _ => stripped("the retraction that comes with it does not erase it"),
    }
}

#[cfg(test)]
mod tests;
