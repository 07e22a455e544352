//! The `Store` trait: what a node keeps, independent of the database behind it. `tipx-node`
//! implements it on sled; [`mem::MemStore`] implements it in memory for tests. Both pass
//! the same [`conformance`] suite.
//!
//! The rules of what an insert changes (feed continuity, retractions, consents, the
//! roster) are decided here, by [`effects`] and [`crate::feed::continuity`]; a store only
//! carries them out, atomically.

pub mod apply;
/// The shared test suite for stores.
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod mem;

use serde::{Deserialize, Serialize};

use crate::{
    Audience, Channel, FeedId, PublicKey, RecordId, StateCode,
    body::{Body, ConsentAction},
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    quota::Quotas,
    record::{Kind, Record},
    validate::{Rejection, Verified},
};

/// What happened to one record of an insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored (and, after the next flush, durable).
    Stored,
    /// Already held: nothing changed.
    Duplicate,
    /// Refused; a fork also leaves evidence in the store.
    Refused(Rejection),
}

/// A feed as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedInfo {
    /// Its id.
    pub feed: FeedId,
    /// The author.
    pub author: PublicKey,
    /// The author's state.
    pub author_state: StateCode,
    /// The audience (stored as its wire codes).
    pub audience: Audience,
    /// The channel (absent, the main one, in stores written before channels).
    #[serde(default, skip_serializing_if = "Channel::is_main")]
    pub channel: Channel,
    /// The last record held.
    pub head: Head,
}

/// Which index to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Every record, by creation time.
    Time,
    /// Records of one kind.
    Kind(Kind),
    /// Records authored by one state.
    State(StateCode),
}

/// What the audit log records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditEvent {
    /// This node published a record.
    Published,
    /// A record was received from a peer.
    Received,
    /// A record was sent to a peer.
    Sent,
    /// A record was refused.
    Rejected,
    /// A record was retracted.
    Retracted,
    /// A record's body was erased.
    Erased,
    /// A fork was detected.
    Forked,
    /// A roster applied here added, removed or replaced a key of this node's own state.
    OwnKeysChanged,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, ms since the Unix epoch.
    pub at_ms: u64,
    /// What.
    pub event: AuditEvent,
    /// Which record, when known.
    pub record: Option<RecordId>,
    /// The peer (PeerId text), for traffic.
    pub peer: Option<String>,
    /// A reason or detail, in words; it does not repeat `record`.
    pub detail: String,
    /// The record's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// The record author's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StateCode>,
    /// The record's feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedId>,
    /// The record's position in its feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The retraction that withdrew or erased the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<RecordId>,
    /// The record already held at the same place of the feed, for a fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts_with: Option<RecordId>,
    /// The records of one message sent (the first few of a long one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordId>,
    /// How many records the message sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The rejection's code, for a refused record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl AuditEntry {
    /// An entry with only its time, event and detail; the typed fields are set after.
    pub fn new(at_ms: u64, event: AuditEvent, detail: impl Into<String>) -> Self {
        Self {
            at_ms,
            event,
            record: None,
            peer: None,
            detail: detail.into(),
            kind: None,
            state: None,
            feed: None,
            seq: None,
            by: None,
            conflicts_with: None,
            records: vec![],
            count: None,
            code: None,
        }
    }
}

/// Who an insert comes from, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Published here.
    Local,
    /// Received from this peer (PeerId text).
    Peer(String),
}

/// What storing a record changes beyond the record itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effects {
    /// A retraction: hide `target`, and drop its body if `erase`.
    pub retract: Option<(RecordId, bool)>,
    /// A consent: `(from, to, latest)`.
    pub consent: Option<(StateCode, StateCode, ConsentState)>,
    /// A roster of this version.
    pub roster_version: Option<u64>,
}

/// The effects of storing `v`.
pub fn effects(v: &Verified) -> Effects {
    let h = &v.record.header;
    let mut e = Effects::default();
    match &v.body {
        Some(Body::Retraction(r)) => e.retract = Some((r.target, r.erase)),
        Some(Body::Consent(c)) => {
            e.consent = Some((
                h.author_state,
                c.partner,
                ConsentState {
                    action: c.action,
                    at_ms: h.created_at_ms,
                },
            ))
        }
        Some(Body::Roster(r)) => e.roster_version = Some(r.version),
        _ => {}
    }
    e
}

/// Checks that a retraction targets an earlier record of its own feed.
pub fn check_retraction(retraction: &Record, target: Option<&Record>) -> Result<(), Rejection> {
    let Some(t) = target else {
        return Err(Rejection::BadRetraction(
            "its target is not in this feed".into(),
        ));
    };
    if t.header.feed != retraction.header.feed || t.header.seq >= retraction.header.seq {
        return Err(Rejection::BadRetraction(
            "its target is not an earlier record of its feed".into(),
        ));
    }
    if matches!(
        t.header.kind,
        Kind::Retraction | Kind::Consent | Kind::Roster
    ) {
        return Err(Rejection::BadRetraction(format!(
            "a {} cannot be retracted",
            t.header.kind
        )));
    }
    Ok(())
}

/// The latest consent `from → to` given by a stored consent record.
pub fn consent_of(action: ConsentAction, at_ms: u64) -> ConsentState {
    ConsentState { action, at_ms }
}

/// What `Store::check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Records checked.
    pub records: u64,
    /// Feeds checked.
    pub feeds: u64,
    /// Everything wrong, one line each.
    pub problems: Vec<String>,
    /// What is not wrong but worth knowing (a derived index the node rebuilds by itself),
    /// one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A node's durable state. Every method that writes is atomic: after a crash, either all of
/// it happened or none of it. Writes are durable once [`Store::flush`] returns.
pub trait Store {
    /// A failure of the storage itself (a disk error), never a refused record.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Stores verified records in order, checking each against its feed (including records
    /// earlier in the same batch), applying its [`effects`] and writing the audit log — all
    /// in one atomic write.
    fn insert(
        &self,
        batch: &[Verified],
        source: &Source,
        now_ms: u64,
    ) -> Result<Vec<Inserted>, Self::Error> {
        self.insert_counted(batch, source, now_ms, &mut Quotas::unlimited())
    }

    /// As [`Store::insert`], counting each record stored (and each fork's evidence kept)
    /// against its author's daily [`Quotas`]: a record over a quota is refused.
    fn insert_counted(
        &self,
        batch: &[Verified],
        source: &Source,
        now_ms: u64,
        quotas: &mut Quotas,
    ) -> Result<Vec<Inserted>, Self::Error>;

    /// A record by id (its body is `None` once erased).
    fn get(&self, id: &RecordId) -> Result<Option<Record>, Self::Error>;

    /// The retraction that withdrew `id`, if any.
    fn retraction_of(&self, id: &RecordId) -> Result<Option<RecordId>, Self::Error>;

    /// The last record held of a feed.
    fn head(&self, feed: &FeedId) -> Result<Option<Head>, Self::Error>;

    /// Records of a feed from `from_seq`, at most `max_records` of them and about
    /// `max_bytes` (at least one record if any).
    fn feed_range(
        &self,
        feed: &FeedId,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>, Self::Error>;

    /// Every feed held.
    fn feeds(&self) -> Result<Vec<FeedInfo>, Self::Error>;

    /// Walks an index newest first, from `until_ms` (inclusive) back to `since_ms`
    /// (inclusive), until `visit` returns `false`.
    fn scan(
        &self,
        index: Index,
        since_ms: u64,
        until_ms: u64,
        visit: &mut dyn FnMut(RecordId) -> bool,
    ) -> Result<(), Self::Error>;

    /// The latest consents, `(from, to, state)`.
    fn consents(&self) -> Result<Vec<(StateCode, StateCode, ConsentState)>, Self::Error>;

    /// The newest roster record.
    fn roster(&self) -> Result<Option<Record>, Self::Error>;

    /// Fork evidence, oldest first.
    fn forks(&self) -> Result<Vec<ForkEvidence>, Self::Error>;

    /// Appends to the audit log.
    fn audit(&self, entries: &[AuditEntry]) -> Result<(), Self::Error>;

    /// The newest `limit` audit entries, oldest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, Self::Error>;

    /// Number of records held.
    fn len(&self) -> Result<u64, Self::Error>;

    /// Whether it holds no record.
    fn is_empty(&self) -> Result<bool, Self::Error> {
        Ok(self.len()? == 0)
    }

    /// Makes every earlier write durable.
    fn flush(&self) -> Result<(), Self::Error>;

    /// Problems with the store's own indexes (entries that disagree with the records).
    fn check_indexes(&self) -> Result<Vec<String>, Self::Error>;

    /// Re-verifies everything held: every signature, every body against its hash, every
    /// feed's continuity, and the indexes.
    fn check(&self) -> Result<CheckReport, Self::Error> {
        let mut report = CheckReport::default();
        for f in self.feeds()? {
            report.feeds += 1;
            let mut prev: Option<RecordId> = None;
            let mut expect = 1;
            loop {
                let page = self.feed_range(&f.feed, expect, 1024, usize::MAX)?;
                if page.is_empty() {
                    break;
                }
                for r in page {
                    report.records += 1;
                    let at = format!("feed {} seq {}", f.feed.short(), r.header.seq);
                    if r.header.seq != expect {
                        report.problems.push(format!("{at}: expected seq {expect}"));
                    }
                    if r.header.prev != prev {
                        report.problems.push(format!("{at}: prev does not chain"));
                    }
                    if r.id != RecordId::of_header(&r.header_bytes) {
                        report
                            .problems
                            .push(format!("{at}: id does not match its header"));
                    }
                    if r.header.feed != f.feed {
                        report
                            .problems
                            .push(format!("{at}: stored under the wrong feed"));
                    }
                    if let Err(e) = r.verify_signature() {
                        report.problems.push(format!("{at}: {e}"));
                    }
                    if let Err(e) = r.body() {
                        report.problems.push(format!("{at}: {e}"));
                    }
                    prev = Some(r.id);
                    expect = r.header.seq + 1;
                }
            }
            if expect - 1 != f.head.seq || prev != Some(f.head.id) {
                report.problems.push(format!(
                    "feed {}: head says seq {}, records run to {}",
                    f.feed.short(),
                    f.head.seq,
                    expect - 1
                ));
            }
        }
        report.problems.extend(self.check_indexes()?);
        Ok(report)
    }
}
