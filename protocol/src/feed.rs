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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Record,
        testkit::{Author, NOW_MS, alert},
    };

    /// The first `n` records of CO's feed for CO and MX.
    fn feed(n: u64, title: &str) -> Vec<Record> {
        let mut co = Author::new("CO");
        (0..n)
            .map(|i| co.publish(&["CO", "MX"], alert(title), NOW_MS + i))
            .collect()
    }

    fn head(r: &Record) -> Option<Head> {
        Some(Head {
            seq: r.header.seq,
            id: r.id,
        })
    }

    fn check(r: &Record, head: Option<Head>, held_at_seq: Option<RecordId>) -> Continuity {
        continuity(r.id, &r.header, head, held_at_seq)
    }

    #[test]
    fn seq_1_is_next_on_an_empty_feed() {
        let r = feed(1, "one");
        assert_eq!(check(&r[0], None, None), Continuity::Next);
        assert_eq!(Continuity::Next.rejection(1), None);
    }

    #[test]
    fn the_seq_after_the_head_with_a_matching_prev_is_next() {
        let r = feed(2, "one");
        assert_eq!(check(&r[1], head(&r[0]), None), Continuity::Next);
    }

    #[test]
    fn a_record_held_at_its_seq_is_a_duplicate() {
        let r = feed(2, "one");
        assert_eq!(
            check(&r[0], head(&r[1]), Some(r[0].id)),
            Continuity::Duplicate
        );
        assert_eq!(
            check(&r[1], head(&r[1]), Some(r[1].id)),
            Continuity::Duplicate
        );
        assert_eq!(Continuity::Duplicate.rejection(1), None);
    }

    #[test]
    fn a_record_beyond_the_head_plus_one_is_a_gap() {
        let r = feed(3, "one");
        assert_eq!(check(&r[1], None, None), Continuity::Gap { have: 0 });
        let gap = check(&r[2], head(&r[0]), None);
        assert_eq!(gap, Continuity::Gap { have: 1 });
        assert_eq!(gap.rejection(3), Some(Rejection::Gap { have: 1, got: 3 }));
        assert!(!gap.rejection(3).unwrap().is_offence());
    }

    #[test]
    fn a_different_record_at_a_held_seq_is_a_fork() {
        let ours = feed(2, "one");
        let theirs = feed(1, "another");
        assert_eq!(ours[0].header.seq, theirs[0].header.seq);
        let fork = check(&theirs[0], head(&ours[1]), Some(ours[0].id));
        assert_eq!(
            fork,
            Continuity::Fork {
                existing: ours[0].id
            }
        );
        assert_eq!(fork.rejection(1), Some(Rejection::Fork { seq: 1 }));
    }

    #[test]
    fn the_seq_after_the_head_with_a_broken_prev_is_a_fork() {
        let ours = feed(1, "one");
        let theirs = feed(2, "another");
        assert_eq!(theirs[1].header.seq, 2);
        assert_eq!(
            check(&theirs[1], head(&ours[0]), None),
            Continuity::Fork {
                existing: ours[0].id
            }
        );
    }
}
