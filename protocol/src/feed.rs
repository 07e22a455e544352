//! Feeds: one author's records for one audience, numbered 1..n and chained by `prev`.
//! A node holds, per feed, exactly seqs 1..n; anything else is a gap or a fork.

use serde::{Deserialize, Serialize};

use crate::{RecordId, record::Header, validate::Rejection};

/// The last record held of a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Its seq (the feed holds 1..=seq).
    pub seq: u64,
    /// Its id.
    pub id: RecordId,
}

/// Where a record stands against what the store holds of its feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuity {
    /// The next record: append it.
    Next,
    /// Already held.
    Duplicate,
    /// Earlier records are missing.
    Gap {
        /// Highest seq held (0 for none).
        have: u64,
    },
    /// Conflicts with a held record: keep both headers as evidence.
    Fork {
        /// The held record it conflicts with.
        existing: RecordId,
    },
}

/// Compares a record with its feed's `head` and, if `seq` is not beyond the head, the id
/// held at that `seq` (`held_at_seq`).
pub fn continuity(
    id: RecordId,
    h: &Header,
    head: Option<Head>,
    held_at_seq: Option<RecordId>,
) -> Continuity {
    let have = head.map_or(0, |h| h.seq);
    if h.seq <= have {
        return match held_at_seq {
            Some(held) if held == id => Continuity::Duplicate,
            Some(held) => Continuity::Fork { existing: held },
            None => Continuity::Gap { have },
        };
    }
    if h.seq > have + 1 {
        return Continuity::Gap { have };
    }
    match head {
        Some(head) if h.prev != Some(head.id) => Continuity::Fork { existing: head.id },
        _ => Continuity::Next,
    }
}

impl Continuity {
    /// The rejection for anything but `Next` and `Duplicate`.
    pub fn rejection(&self, seq: u64) -> Option<Rejection> {
        match self {
            Self::Next | Self::Duplicate => None,
            Self::Gap { have } => Some(Rejection::Gap {
                have: *have,
                got: seq,
            }),
            Self::Fork { .. } => Some(Rejection::Fork { seq }),
        }
    }
}

/// Evidence that an author signed two conflicting records: both headers, with signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkEvidence {
    /// The feed.
    pub feed: crate::FeedId,
    /// The position.
    pub seq: u64,
    /// The record held.
    pub held: RecordId,
    /// The conflicting record, as received (body dropped).
    pub conflicting: Vec<u8>,
}
