//! The node's core, without the network: it owns the store and the key, publishes this
//! state's records in feed order, and answers queries. Every method blocks on the store:
//! async callers run it on a blocking thread.

use std::{
    sync::{Arc, Mutex, RwLock},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

pub mod activity;
mod complete;
mod counters;
mod error;
mod federation;
mod own_keys;
mod parallel;
mod query;
mod receive;
mod report;
mod search;
mod space;
pub mod view;

pub use complete::Recovery;
pub use counters::{Counters, Reason};
pub use error::Error;
pub use federation::{ConfiguredPartners, ConsentChange, PartnerRow};
use parallel::{PIPELINE_CHUNK, sign_all};
pub use receive::{
    Intake, Kind as PageKind, MAX_QUEUED, MAX_QUEUED_PER_PEER, OnReceived, Received,
};
pub use report::ProfileView;
pub use space::SpaceGuard;
use tipx_protocol::{
    Audience, Body, Draft, FeedId, Handling, Keypair, Membership, RecordId, StateCode, Tlp,
    body::Retraction,
    membership::ConsentState,
    record::{Record, Unsigned},
    store::{Inserted, Source, Store},
    validate::Verified,
};

pub use view::{NodeStatus, PublishRequest, Published, RecordCounts, RecordView, RetractionView};

use crate::store::SledStore;

/// Events queued for the network; beyond this the network catches up by anti-entropy.
pub const EVENT_QUEUE: usize = 4096;

/// What the core did that the network must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// This node published these records (stored and flushed): push them.
    Published(Vec<Record>),
    /// The roster or a consent changed: re-evaluate who may connect and what is shared.
    MembershipChanged,
    /// Records that reached this node off the network (an offline bundle exported by
    /// `from`) were stored: the replicator learns its new heads, so it neither fetches
    /// them again nor fails to pass them on.
    ReceivedOffline {
        /// The node that exported them.
        from: tipx_protocol::PublicKey,
        /// The records newly stored.
        records: Vec<Record>,
    },
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A running node's state.
pub struct Node {
    store: SledStore,
    key: Keypair,
    state: StateCode,
    max_record_bytes: usize,
    /// The roster and consents: swapped whole (copy on write) when they change, so that a
    /// reader takes a cheap snapshot.
    membership: RwLock<Arc<Membership>>,
    /// Serialises publishing, so each own feed gets its seqs in order.
    publishing: Mutex<()>,
    started: Instant,
    anchor: Option<tipx_protocol::PublicKey>,
    /// Bumped whenever the roster or a consent changes: pages checked before must be
    /// checked again.
    generation: std::sync::atomic::AtomicU64,
    /// Records received from peers and newly stored, since start.
    received_new: std::sync::atomic::AtomicU64,
    /// Records received from peers that were already held, since start.
    received_duplicate: std::sync::atomic::AtomicU64,
    /// The free space to keep on the store's disk (none for a store in memory or a test).
    space: std::sync::OnceLock<space::SpaceGuard>,
    /// Records refused since start as dated more than the allowed skew ahead of this
    /// node's clock, and the farthest ahead one was (ms).
    from_the_future: std::sync::atomic::AtomicU64,
    farthest_ahead_ms: std::sync::atomic::AtomicU64,
    /// Where to tell the network what the core did.
    events: tokio::sync::mpsc::Sender<Event>,
    /// The states `exchange.partners` names, as applied at start-up (empty before): shown
    /// in `partners list` when this state revoked one of them.
    configured_partners: RwLock<Vec<StateCode>>,
    /// Changes to this state's keys made by rosters applied since start, in words: each
    /// is a warning in `tipx status`.
    own_key_changes: RwLock<Vec<String>>,
    /// Today's counts per author of what was taken from peers, against the daily quotas.
    quotas: Mutex<tipx_protocol::quota::Quotas>,
    /// This state's own feeds were found whole since start ([`complete`]).
    complete: std::sync::atomic::AtomicBool,
    /// States a sync round ended with since start (a restored store waits for its partners').
    synced: Mutex<std::collections::BTreeSet<StateCode>>,
    /// Records the store lacked against its floor when the node started ([`complete`]).
    missing_at_start: u64,
    /// The feeds found short since start, the only ones that can still be ([`complete`]).
    short: Mutex<std::collections::BTreeSet<tipx_protocol::FeedId>>,
    /// What the metrics count as the node works.
    counters: Counters,
    /// The full-text index, kept in step with every insert (none: `--text` reads bodies).
    search: Option<crate::search::Search>,
}

impl Node {
    /// A node over `store`, loading roster and consents from it, and the receiver of what
    /// it does that the network must act on (drop it for a node without a network).
    pub fn new(
        store: SledStore,
        key: Keypair,
        state: StateCode,
        anchor: Option<tipx_protocol::PublicKey>,
        pinned_keys: Vec<tipx_protocol::PublicKey>,
        max_record_bytes: usize,
    ) -> Result<(Self, tokio::sync::mpsc::Receiver<Event>), Error> {
        let (events, rx) = tokio::sync::mpsc::channel(EVENT_QUEUE);
        let mut membership =
            Membership::new(key.public(), state, anchor).with_pinned_keys(pinned_keys);
        if let Some(r) = store.roster()?
            && let Ok(Some(Body::Roster(roster))) = r.body()
        {
            membership.apply_roster(roster);
        }
        for (from, to, c) in store.consents()? {
            membership.apply_consent(from, to, c);
        }
        let short = store.shortfall()?;
        let missing_at_start = complete::missing(&short);
        let node = Self {
            store,
            key,
            state,
            max_record_bytes,
            membership: RwLock::new(Arc::new(membership)),
            publishing: Mutex::new(()),
            started: Instant::now(),
            anchor,
            events,
            generation: Default::default(),
            received_new: Default::default(),
            received_duplicate: Default::default(),
            space: Default::default(),
            from_the_future: Default::default(),
            farthest_ahead_ms: Default::default(),
            configured_partners: Default::default(),
            own_key_changes: Default::default(),
            quotas: Default::default(),
            complete: Default::default(),
            synced: Default::default(),
            missing_at_start,
            short: Mutex::new(short.iter().map(|s| s.feed).collect()),
            counters: Default::default(),
            search: None,
        };
        Ok((node, rx))
    }

    /// What the metrics count as the node works (`[metrics]`).
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// This node's state.
    pub fn state(&self) -> StateCode {
        self.state
    }

    /// This node's key.
    pub fn public_key(&self) -> tipx_protocol::PublicKey {
        self.key.public()
    }

    /// This node's key pair (its network identity too).
    pub fn keypair(&self) -> &Keypair {
        &self.key
    }

    /// The anchor key this node pins.
    pub fn anchor(&self) -> Option<tipx_protocol::PublicKey> {
        self.anchor
    }

    /// The roster state of a key.
    pub fn state_of(&self, key: &tipx_protocol::PublicKey) -> Option<StateCode> {
        self.membership.read().expect("not poisoned").state_of(key)
    }

    /// A snapshot of the membership view (roster and consents).
    pub fn membership(&self) -> Arc<Membership> {
        self.membership.read().expect("not poisoned").clone()
    }

    /// The newest `limit` audit entries.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<tipx_protocol::store::AuditEntry>, Error> {
        Ok(self.store.audit_log(limit)?)
    }

    /// Deletes the audit entries older than `days` days; returns how many went.
    pub fn prune_audit(&self, days: u64) -> Result<usize, Error> {
        let before = now_ms().saturating_sub(days.saturating_mul(86_400_000));
        Ok(self.store.prune_audit(before)?)
    }

    /// Adds entries to the audit log.
    pub fn audit(&self, entries: &[tipx_protocol::store::AuditEntry]) -> Result<(), Error> {
        Ok(self.store.audit(entries)?)
    }

    /// Every feed held, with its head.
    pub fn feeds(&self) -> Result<Vec<tipx_protocol::store::FeedInfo>, Error> {
        Ok(self.store.feeds()?)
    }

    /// Records of `feed` from `from_seq`: at most `max_records`, about `max_bytes`.
    pub fn feed_range(
        &self,
        feed: &FeedId,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>, Error> {
        Ok(self
            .store
            .feed_range(feed, from_seq, max_records, max_bytes)?)
    }

    /// Records held.
    pub fn len(&self) -> Result<u64, Error> {
        Ok(self.store.len()?)
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), Error> {
        Ok(self.store.flush()?)
    }

    /// Tells the network that `records` exported by `from` were stored off the network.
    pub fn stored_offline(&self, from: tipx_protocol::PublicKey, records: Vec<Record>) {
        if !records.is_empty() {
            self.emit(Event::ReceivedOffline { from, records });
        }
    }

    fn emit(&self, e: Event) {
        use tokio::sync::mpsc::error::TrySendError;
        match self.events.try_send(e) {
            Ok(()) | Err(TrySendError::Closed(_)) => {} // no network: nothing to tell
            Err(TrySendError::Full(_)) => {
                tracing::warn!("network busy: the next sync round will catch up");
            }
        }
    }

    /// Remembers a peer's addresses (learned from identify), so they are dialled after a
    /// restart even while the bootstrap node is down.
    pub fn cache_addrs(&self, peer: &str, addrs: &[String]) {
        let v = serde_json::to_vec(addrs).expect("strings serialize");
        if let Err(e) = self.store.meta_put(&format!("addrs/{peer}"), &v) {
            tracing::warn!(error = %e, "cannot cache peer addresses");
        }
    }

    /// The cached addresses of a peer.
    pub fn cached_addrs(&self, peer: &str) -> Vec<String> {
        self.store
            .meta_get(&format!("addrs/{peer}"))
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default()
    }

    fn draft(&self, req: PublishRequest, now: u64) -> Result<Draft, Error> {
        req.body.check().map_err(Error::Invalid)?;
        let audience = match &req.body {
            Body::Consent(_) | Body::Roster(_) => Audience::Federation,
            Body::Activity(_) => Audience::states([StateCode::coordinator()]),
            _ => {
                let mut states: Vec<StateCode> = if req.audience.is_empty() {
                    self.membership
                        .read()
                        .expect("not poisoned")
                        .partners()
                        .into_iter()
                        .collect()
                } else {
                    req.audience
                };
                states.push(self.state);
                Audience::states(states)
            }
        };
        Ok(Draft {
            author_state: self.state,
            audience,
            created_at_ms: now,
            tlp: req.tlp.unwrap_or(Tlp::Amber),
            handling: req.handling.unwrap_or(Handling::FocalPoint),
            body: req.body,
        })
    }

    /// Why states named in the audiences of `reqs` will not receive them (each reason once,
    /// in audience order); and a word when a record has nobody to go to.
    pub fn exclusions(&self, reqs: &[PublishRequest]) -> Vec<String> {
        let m = self.membership.read().expect("not poisoned");
        let no_partners = m.partners().is_empty();
        let mut out: Vec<String> = vec![];
        let mut add = |w: String| {
            if !out.contains(&w) {
                out.push(w);
            }
        };
        for r in reqs {
            if matches!(r.body, Body::Consent(_) | Body::Roster(_)) {
                continue;
            }
            if r.audience.is_empty() && no_partners {
                add(format!(
                    "{} has no partners yet, so this stays on this node: name states with \
                     --audience once they agree to exchange (`tipx partners request XX`)",
                    self.state
                ));
            }
            for s in &r.audience {
                if let Some(why) = m.excluded(*s) {
                    add(format!("{s} will not receive it: {why}"));
                }
            }
        }
        out
    }

    /// Publishes records in order: checks them all, signs them (on every core) while storing
    /// the ones already signed, in atomic chunks, and flushes. Returns their ids once all of
    /// them are durable; after a disk error, the chunks stored before it stay stored but are
    /// not acknowledged.
    pub fn publish(&self, reqs: Vec<PublishRequest>) -> Result<Vec<RecordId>, Error> {
        let started = Instant::now();
        let ids = self.publish_timed(reqs)?;
        self.counters.published.inc_by(ids.len() as u64);
        self.counters
            .publish_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(ids)
    }

    fn publish_timed(&self, reqs: Vec<PublishRequest>) -> Result<Vec<RecordId>, Error> {
        let now = now_ms();
        let drafts = reqs
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                self.draft(r, now)
                    .map_err(|e| Error::Invalid(format!("record {}: {e}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let _guard = self.publishing.lock().expect("not poisoned");
        self.check_complete()?;
        let unsigned = self.prepare(&drafts)?;
        let bytes = unsigned
            .iter()
            .map(|u| (u.header_bytes.len() + u.body.len() + 80) as u64)
            .sum();
        self.check_space(bytes)?;
        for (i, u) in unsigned.iter().enumerate() {
            let len = u.header_bytes.len() + u.body.len() + 80;
            if len > self.max_record_bytes {
                return Err(Error::Invalid(format!(
                    "record {}: {len} bytes, more than the {} allowed (store.max_record_bytes)",
                    i + 1,
                    self.max_record_bytes
                )));
            }
            if u.body.len() > tipx_protocol::body::MAX_BODY_BYTES {
                return Err(Error::Invalid(format!(
                    "record {}: its body is {} bytes, more than the {} a body may have",
                    i + 1,
                    u.body.len(),
                    tipx_protocol::body::MAX_BODY_BYTES
                )));
            }
        }
        // Sign and store as a pipeline: a worker signs the next chunk (on every core) while
        // this thread stores the last one. Each chunk is one atomic insert; the whole request
        // is acknowledged after the final flush.
        let items: Vec<(Unsigned, Body)> = unsigned
            .into_iter()
            .zip(drafts.into_iter().map(|d| d.body))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        let mut verified: Vec<Verified> = Vec::with_capacity(items.len());
        std::thread::scope(|s| -> Result<(), Error> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Verified>>(1);
            let key = &self.key;
            s.spawn(move || {
                let mut items = items.into_iter();
                loop {
                    let (unsigned, bodies): (Vec<Unsigned>, Vec<Body>) =
                        items.by_ref().take(PIPELINE_CHUNK).unzip();
                    if unsigned.is_empty() {
                        break;
                    }
                    let chunk = sign_all(unsigned, key)
                        .into_iter()
                        .zip(bodies)
                        .map(|(record, body)| Verified {
                            record,
                            body: Some(body),
                        })
                        .collect();
                    if tx.send(chunk).is_err() {
                        break;
                    }
                }
            });
            for mut chunk in rx {
                out.extend(
                    self.insert_indexed(&mut chunk, |s, c| s.insert(c, &Source::Local, now))?,
                );
                verified.extend(chunk);
            }
            Ok(())
        })?;
        self.store.flush()?;
        let ids: Vec<RecordId> = verified.iter().map(|v| v.record.id).collect();
        if let Some((i, Inserted::Refused(why))) = out
            .iter()
            .enumerate()
            .find(|(_, o)| matches!(o, Inserted::Refused(_)))
        {
            return Err(Error::Invalid(format!("record {}: {why}", i + 1)));
        }
        let mut membership_changed = false;
        for v in &verified {
            membership_changed |= self.learn(v);
        }
        self.emit(Event::Published(
            verified.into_iter().map(|v| v.record).collect(),
        ));
        if membership_changed {
            self.emit(Event::MembershipChanged);
        }
        Ok(ids)
    }

    /// Builds headers in feed order, continuing each own feed from the store.
    fn prepare(&self, drafts: &[Draft]) -> Result<Vec<Unsigned>, Error> {
        let author = self.key.public();
        let mut heads: std::collections::HashMap<FeedId, (u64, Option<RecordId>)> =
            Default::default();
        let mut out = Vec::with_capacity(drafts.len());
        for d in drafts {
            let feed = FeedId::of(&author, &d.audience, d.body.kind().channel());
            let (seq, prev) = match heads.get(&feed) {
                Some(h) => *h,
                None => self
                    .store
                    .head(&feed)?
                    .map_or((0, None), |h| (h.seq, Some(h.id))),
            };
            let u = d.prepare(author, seq + 1, prev);
            heads.insert(feed, (seq + 1, Some(u.id)));
            out.push(u);
        }
        Ok(out)
    }

    /// Applies what a stored record changes in memory (consents, roster); returns whether
    /// the membership changed.
    fn learn(&self, v: &Verified) -> bool {
        // Only control records take the lock: pages being checked hold it to read.
        let changed = match &v.body {
            Some(Body::Consent(c)) => {
                let at = ConsentState {
                    action: c.action,
                    at_ms: v.record.header.created_at_ms,
                };
                let mut m = self.membership.write().expect("not poisoned");
                Arc::make_mut(&mut m).apply_consent(v.record.header.author_state, c.partner, at)
            }
            Some(Body::Roster(r)) => {
                let mut m = self.membership.write().expect("not poisoned");
                let before = m.roster().map(|old| m.own_state_keys(old));
                let applied = Arc::make_mut(&mut m).apply_roster(r.clone());
                if applied {
                    let after = m.own_state_keys(r);
                    drop(m);
                    self.on_own_keys(r.version, before, after);
                }
                applied
            }
            _ => false,
        };
        if changed {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        changed
    }

    /// Retracts one of this node's records.
    pub fn retract(
        &self,
        target: RecordId,
        reason: String,
        erase: bool,
    ) -> Result<RecordId, Error> {
        let r = self
            .store
            .get(&target)?
            .ok_or_else(|| Error::NotFound(target.to_string()))?;
        if r.header.author != self.key.public() {
            return Err(Error::Invalid(format!(
                "record {target} was published by {} ({}); only its author can retract it",
                r.header.author_state,
                r.header.author.peer_id()
            )));
        }
        if self.store.retraction_of(&target)?.is_some() {
            return Err(Error::Invalid(format!(
                "record {target} is already retracted"
            )));
        }
        if reason.trim().is_empty() {
            return Err(Error::Invalid(
                "a retraction needs a reason (--reason)".into(),
            ));
        }
        let states = match &r.header.audience {
            Audience::States(s) => s.iter().copied().collect(),
            Audience::Federation => vec![],
        };
        let req = PublishRequest {
            audience: states,
            tlp: Some(r.header.tlp),
            handling: Some(r.header.handling),
            body: Body::Retraction(Retraction {
                target,
                reason,
                erase,
            }),
        };
        Ok(self.publish(vec![req])?[0])
    }
}
