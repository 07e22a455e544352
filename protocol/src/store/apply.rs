//! The one algorithm for storing a batch of verified records, written against [`Txn`], the
//! view of an open write transaction. Each store implements `Txn` over its own transaction,
//! so the rules are written once and every store follows them.

use crate::{
    FeedId, RecordId, StateCode,
    feed::{self, Continuity, ForkEvidence, Head},
    membership::ConsentState,
    quota::Quotas,
    record::Record,
    store::{
        AuditEntry, AuditEvent, Effects, FeedInfo, Inserted, Source, check_retraction, effects,
    },
    validate::Verified,
};

/// An open write transaction: reads see the transaction's own earlier writes.
pub trait Txn {
    /// A storage failure.
    type Error;
    /// The head of a feed.
    fn head(&mut self, feed: &FeedId) -> Result<Option<Head>, Self::Error>;
    /// The id held at `seq` of `feed`.
    fn id_at(&mut self, feed: &FeedId, seq: u64) -> Result<Option<RecordId>, Self::Error>;
    /// A record by id.
    fn get(&mut self, id: &RecordId) -> Result<Option<Record>, Self::Error>;
    /// Stores a record (header, signature, body, feed position, indexes) and the feed's new
    /// head.
    fn put(&mut self, record: &Record, feed: &FeedInfo) -> Result<(), Self::Error>;
    /// Keeps fork evidence.
    fn put_fork(&mut self, evidence: &ForkEvidence) -> Result<(), Self::Error>;
    /// Marks `target` retracted by `by`; if `erase`, drops its body and keeps `by` as the
    /// proof that the author erased it ([`Record::erased_by`]).
    fn retract(&mut self, target: &RecordId, by: &Record, erase: bool) -> Result<(), Self::Error>;
    /// The latest consent `from → to`.
    fn consent(
        &mut self,
        from: StateCode,
        to: StateCode,
    ) -> Result<Option<ConsentState>, Self::Error>;
    /// Sets the latest consent `from → to`.
    fn set_consent(
        &mut self,
        from: StateCode,
        to: StateCode,
        c: ConsentState,
    ) -> Result<(), Self::Error>;
    /// Version of the roster held (0 for none).
    fn roster_version(&mut self) -> Result<u64, Self::Error>;
    /// Makes `id` the roster in force.
    fn set_roster(&mut self, id: &RecordId, version: u64) -> Result<(), Self::Error>;
    /// Appends to the audit log.
    fn audit(&mut self, entry: &AuditEntry) -> Result<(), Self::Error>;
}

/// Stores `batch` in order through `txn`; see [`crate::Store::insert`].
pub fn apply<T: Txn>(
    txn: &mut T,
    batch: &[Verified],
    source: &Source,
    now_ms: u64,
    quotas: &mut Quotas,
) -> Result<Vec<Inserted>, T::Error> {
    let (event, peer) = match source {
        Source::Local => (AuditEvent::Published, None),
        Source::Peer(p) => (AuditEvent::Received, Some(p.clone())),
    };
    // Every entry of a record names its kind, author state, feed and place in the feed.
    let entry = |event, r: &crate::record::Record, record: RecordId, detail: String| {
        let h = &r.header;
        AuditEntry {
            record: Some(record),
            peer: peer.clone(),
            kind: Some(h.kind),
            state: Some(h.author_state),
            feed: Some(h.feed),
            seq: Some(h.seq),
            ..AuditEntry::new(now_ms, event, detail)
        }
    };
    let mut out = Vec::with_capacity(batch.len());
    for v in batch {
        let r = &v.record;
        let h = &r.header;
        let head = txn.head(&h.feed)?;
        let held = if head.is_some_and(|hd| h.seq <= hd.seq) {
            txn.id_at(&h.feed, h.seq)?
        } else {
            None
        };
        let c = feed::continuity(r.id, h, head, held);
        match c {
            Continuity::Next => {}
            Continuity::Duplicate => {
                out.push(Inserted::Duplicate);
                continue;
            }
            Continuity::Fork { existing } => {
                let refused = Inserted::Refused(c.rejection(h.seq).expect("a fork is refused"));
                if !quotas.take_fork(h.author, now_ms) {
                    out.push(refused);
                    continue;
                }
                let ev = ForkEvidence {
                    feed: h.feed,
                    seq: h.seq,
                    held: existing,
                    conflicting: r.erased().encode(),
                };
                txn.put_fork(&ev)?;
                txn.audit(&AuditEntry {
                    conflicts_with: Some(existing),
                    ..entry(
                        AuditEvent::Forked,
                        r,
                        r.id,
                        format!(
                            "{} {} seq {} conflicts with the record held ({})",
                            h.author_state,
                            h.kind,
                            h.seq,
                            existing.short()
                        ),
                    )
                })?;
                out.push(refused);
                continue;
            }
            Continuity::Gap { .. } => {
                out.push(Inserted::Refused(
                    c.rejection(h.seq).expect("a gap is refused"),
                ));
                continue;
            }
        }
        let fx: Effects = effects(v);
        if let Some((target, _)) = fx.retract {
            let t = txn.get(&target)?;
            if let Err(rej) = check_retraction(r, t.as_ref()) {
                out.push(Inserted::Refused(rej));
                continue;
            }
        }
        if let Err(rej) = quotas.take(r, head.is_none(), now_ms) {
            out.push(Inserted::Refused(rej));
            continue;
        }
        let info = FeedInfo {
            feed: h.feed,
            author: h.author,
            author_state: h.author_state,
            audience: h.audience.clone(),
            channel: h.channel,
            head: Head {
                seq: h.seq,
                id: r.id,
            },
        };
        txn.put(r, &info)?;
        txn.audit(&entry(
            event.clone(),
            r,
            r.id,
            format!("{} {} seq {}", h.author_state, h.kind, h.seq),
        ))?;
        if let Some((target, erase)) = fx.retract {
            let t = txn.get(&target)?;
            txn.retract(&target, r, erase)?;
            let of = t.as_ref().unwrap_or(r);
            let what = t.as_ref().map_or_else(
                || "record".to_string(),
                |t| {
                    format!(
                        "{} {} seq {}",
                        t.header.author_state, t.header.kind, t.header.seq
                    )
                },
            );
            let by = format!("by retraction {}", r.id.short());
            txn.audit(&AuditEntry {
                by: Some(r.id),
                ..entry(AuditEvent::Retracted, of, target, format!("{what} {by}"))
            })?;
            if erase {
                txn.audit(&AuditEntry {
                    by: Some(r.id),
                    ..entry(AuditEvent::Erased, of, target, format!("{what} body {by}"))
                })?;
            }
        }
        if let Some((from, to, c)) = fx.consent
            && txn.consent(from, to)?.is_none_or(|old| c.supersedes(&old))
        {
            txn.set_consent(from, to, c)?;
        }
        if let Some(version) = fx.roster_version
            && version > txn.roster_version()?
        {
            txn.set_roster(&r.id, version)?;
        }
        out.push(Inserted::Stored);
    }
    Ok(out)
}
