//! Per-author daily quotas on what a node takes from its peers, counted on arrival (the
//! receiver's UTC day, not the date a record claims, which its signer chooses).
//!
//! A member in the roster signs as many records as it likes; every one verifies. Where
//! there is no legitimate bulk use — consent records, new feeds (one per audience an author
//! writes to), fork evidence kept — the limits are constants, high enough for a node
//! rebuilding years of an author's history from its partners in one day. Records and bytes
//! have configurable limits ([`Limits`]) whose defaults admit a 1,000,000-record import
//! reaching the partners the same day. A record over a quota is refused (not an offence of
//! the relay that carried it: the author is the one counted); it leaves a gap in its feed
//! that the next day's anti-entropy fills. A fork over its quota is still refused, but its
//! evidence is not kept.
//!
//! The counts live in memory for the current day only, one entry per author whose records
//! passed signature checks (roster keys), so they stay small.

use std::collections::BTreeMap;

use crate::{PublicKey, Record, record::Kind, validate::Rejection};

/// Consent records taken per author per day: a state that joins grants a few dozen
/// partners at once; a rebuild takes an author's whole history of consents.
pub const CONSENTS_PER_AUTHOR_DAY: u64 = 1_000;

/// New feeds (audiences an author writes to) taken per author per day.
pub const NEW_FEEDS_PER_AUTHOR_DAY: u64 = 1_000;

/// Forks whose evidence is kept per author per day: one shows the author misbehaved; a
/// hundred are plenty to show how.
pub const FORKS_PER_AUTHOR_DAY: u64 = 100;

/// Records taken per author per day unless configured otherwise
/// (`exchange.daily_records_per_author`).
pub const DEFAULT_RECORDS_PER_AUTHOR_DAY: u64 = 2_000_000;

/// Bytes of records taken per author per day unless configured otherwise
/// (`exchange.daily_mib_per_author`, 8 GiB).
pub const DEFAULT_BYTES_PER_AUTHOR_DAY: u64 = 8 * 1024 * 1024 * 1024;

const DAY_MS: u64 = 86_400_000;

/// The configurable daily limits per author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Records per author per day.
    pub records: u64,
    /// Bytes of records (encoded) per author per day.
    pub bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            records: DEFAULT_RECORDS_PER_AUTHOR_DAY,
            bytes: DEFAULT_BYTES_PER_AUTHOR_DAY,
        }
    }
}

/// What one author used today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Used {
    records: u64,
    bytes: u64,
    consents: u64,
    new_feeds: u64,
    forks: u64,
}

/// The day's counts per author, against the limits. [`Quotas::unlimited`] for records a
/// node publishes itself.
#[derive(Debug, Clone)]
pub struct Quotas {
    limits: Option<Limits>,
    day: u64,
    used: BTreeMap<PublicKey, Used>,
}

impl Default for Quotas {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Quotas {
    /// Quotas with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits: Some(limits),
            day: 0,
            used: BTreeMap::new(),
        }
    }

    /// No limits at all (a node's own records).
    pub fn unlimited() -> Self {
        Self {
            limits: None,
            day: 0,
            used: BTreeMap::new(),
        }
    }

    /// The limits in force (`None`: unlimited).
    pub fn limits(&self) -> Option<Limits> {
        self.limits
    }

    /// Today's counts of `author`, starting a new day if `now_ms` is in one.
    fn today(&mut self, author: PublicKey, now_ms: u64) -> &mut Used {
        let day = now_ms / DAY_MS;
        if day != self.day {
            self.day = day;
            self.used.clear();
        }
        self.used.entry(author).or_default()
    }

    /// Takes `r` (the next record of its feed; `new_feed` if the node held nothing of the
    /// feed) into today's counts of its author, or refuses it as over a quota (counting
    /// nothing).
    pub fn take(&mut self, r: &Record, new_feed: bool, now_ms: u64) -> Result<(), Rejection> {
        let Some(limits) = self.limits else {
            return Ok(());
        };
        let bytes = r.encoded_len() as u64;
        let consent = r.header.kind == Kind::Consent;
        let used = self.today(r.header.author, now_ms);
        let over = |what: &'static str, limit: u64| Err(Rejection::OverQuota { what, limit });
        if used.records >= limits.records {
            return over("records", limits.records);
        }
        if used.bytes.saturating_add(bytes) > limits.bytes {
            return over("bytes", limits.bytes);
        }
        if consent && used.consents >= CONSENTS_PER_AUTHOR_DAY {
            return over("consent records", CONSENTS_PER_AUTHOR_DAY);
        }
        if new_feed && used.new_feeds >= NEW_FEEDS_PER_AUTHOR_DAY {
            return over("new feeds", NEW_FEEDS_PER_AUTHOR_DAY);
        }
        used.records += 1;
        used.bytes += bytes;
        used.consents += u64::from(consent);
        used.new_feeds += u64::from(new_feed);
        Ok(())
    }

    /// Whether the evidence of a fork by `author` may be kept (and counts it).
    pub fn take_fork(&mut self, author: PublicKey, now_ms: u64) -> bool {
        if self.limits.is_none() {
            return true;
        }
        let used = self.today(author, now_ms);
        if used.forks >= FORKS_PER_AUTHOR_DAY {
            return false;
        }
        used.forks += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        body::{Body, Consent, ConsentAction},
        testkit::{Author, NOW_MS, alert, st},
    };

    fn consent(partner: &str) -> Body {
        Body::Consent(Consent {
            partner: st(partner),
            action: ConsentAction::Grant,
        })
    }

    #[test]
    fn an_author_over_a_daily_quota_is_refused_until_the_next_day_and_others_go_on() {
        let mut q = Quotas::new(Limits {
            records: 3,
            bytes: u64::MAX,
        });
        let mut mx = Author::new("MX");
        let mut co = Author::new("CO");
        for i in 0..3 {
            let r = mx.publish(&["CO", "MX"], alert(&format!("{i}")), NOW_MS);
            assert_eq!(q.take(&r, i == 0, NOW_MS), Ok(()));
        }
        let fourth = mx.publish(&["CO", "MX"], alert("4"), NOW_MS);
        assert_eq!(
            q.take(&fourth, false, NOW_MS),
            Err(Rejection::OverQuota {
                what: "records",
                limit: 3
            })
        );
        assert!(!q.take(&fourth, false, NOW_MS).unwrap_err().is_offence());
        let other = co.publish(&["CO", "MX"], alert("CO's"), NOW_MS);
        assert_eq!(q.take(&other, true, NOW_MS), Ok(()), "CO has its own quota");
        assert_eq!(q.take(&fourth, false, NOW_MS + DAY_MS), Ok(()), "a new day");
    }

    #[test]
    fn bytes_consents_new_feeds_and_forks_have_their_own_quotas() {
        let mut mx = Author::new("MX");
        let r = mx.publish(&["CO", "MX"], alert("x"), NOW_MS);
        let mut q = Quotas::new(Limits {
            records: u64::MAX,
            bytes: r.encoded_len() as u64,
        });
        assert_eq!(q.take(&r, true, NOW_MS), Ok(()));
        let next = mx.publish(&["CO", "MX"], alert("y"), NOW_MS);
        assert!(matches!(
            q.take(&next, false, NOW_MS),
            Err(Rejection::OverQuota { what: "bytes", .. })
        ));

        let mut q = Quotas::default();
        for _ in 0..CONSENTS_PER_AUTHOR_DAY {
            let c = mx.publish(&["*"], consent("CO"), NOW_MS);
            assert_eq!(q.take(&c, false, NOW_MS), Ok(()));
        }
        let c = mx.publish(&["*"], consent("CO"), NOW_MS);
        assert!(matches!(
            q.take(&c, false, NOW_MS),
            Err(Rejection::OverQuota {
                what: "consent records",
                ..
            })
        ));
        let a = mx.publish(&["CO", "MX"], alert("still fine"), NOW_MS);
        assert_eq!(q.take(&a, false, NOW_MS), Ok(()), "other kinds go on");

        let mut q = Quotas::default();
        let author = mx.key.public();
        for _ in 0..NEW_FEEDS_PER_AUTHOR_DAY {
            assert_eq!(q.take(&a, true, NOW_MS), Ok(()));
        }
        assert!(q.take(&a, true, NOW_MS).is_err());
        assert_eq!(q.take(&a, false, NOW_MS), Ok(()), "an old feed goes on");
        for _ in 0..FORKS_PER_AUTHOR_DAY {
            assert!(q.take_fork(author, NOW_MS));
        }
        assert!(!q.take_fork(author, NOW_MS));
        assert!(Quotas::unlimited().take_fork(author, NOW_MS));
    }
}
