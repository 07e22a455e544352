//! Activity summaries (`Kind::Activity`): what this node did over a UTC day, in counts, for
//! the coordinator's report. Published records come from the store (records of this state
//! created that day), received and refused ones from the audit log, sync traffic from the
//! ledger the daemon keeps per day. Nothing that names a record goes in: see
//! [`tipx_protocol::body::activity`].

use std::collections::BTreeMap;

use tipx_protocol::{
    Body, Kind, StateCode,
    body::{Activity, ReceivedCount, SyncTraffic},
    day::Day,
    store::{AuditEvent, Index, Store},
};

use tipx_config::ActivityDetail as Detail;

use super::{Error, Node, PublishRequest};

/// Days a node that was down catches up on at most (older days are left out: the audit
/// log they would be counted from may be gone).
pub const CATCH_UP_DAYS: u32 = 31;

/// The node-local key of the first day this node reports.
const SINCE_KEY: &str = "activity/since";

/// The node-local key of the traffic ledger of `day`.
fn ledger_key(day: Day) -> String {
    format!("traffic/{}", day.0)
}

impl Node {
    /// The summary of `day` up to `through_ms` (at most the day's end).
    pub fn activity_of(
        &self,
        day: Day,
        through_ms: u64,
        detail: Detail,
    ) -> Result<Activity, Error> {
        let through_ms = through_ms.min(day.end_ms());
        let mut a = Activity::empty(day, through_ms);
        a.totals_only = detail == Detail::Totals;
        let mut ids = Vec::new();
        if through_ms > day.start_ms() {
            self.store.scan(
                Index::State(self.state),
                day.start_ms(),
                through_ms - 1,
                &mut |id| {
                    ids.push(id);
                    true
                },
            )?;
        }
        for id in ids {
            let Some(r) = self.store.get(&id)? else {
                continue;
            };
            let kind = r.header.kind;
            if kind == Kind::Activity {
                continue;
            }
            *a.published.entry(kind).or_default() += 1;
            let Ok(Some(body)) = r.body() else {
                continue;
            };
            match body {
                Body::Retraction(x) => {
                    a.retractions += 1;
                    a.erasures += u64::from(x.erase);
                }
                Body::BestPractice(b) if !a.totals_only => {
                    for p in b.pillars {
                        *a.pillars.entry(p).or_default() += 1;
                    }
                    *a.languages.entry(b.language).or_default() += 1;
                }
                Body::Alert(x) if !a.totals_only => {
                    *a.severities.entry(x.severity).or_default() += 1;
                    let category = match x.category.trim() {
                        "" => "unspecified".to_string(),
                        c => c.chars().take(64).collect(),
                    };
                    *a.categories.entry(category).or_default() += 1;
                    *a.languages.entry(x.language).or_default() += 1;
                }
                _ => {}
            }
        }
        let mut received: BTreeMap<(Option<StateCode>, Kind), u64> = BTreeMap::new();
        for e in self.store.audit_since(day.start_ms())? {
            if e.at_ms >= through_ms {
                break;
            }
            match e.event {
                AuditEvent::Received => {
                    if let (Some(state), Some(kind)) = (e.state, e.kind) {
                        let state = (!a.totals_only).then_some(state);
                        *received.entry((state, kind)).or_default() += 1;
                    }
                }
                AuditEvent::Rejected => {
                    let code = e.code.unwrap_or_else(|| "other".into());
                    *a.rejections.entry(code).or_default() += 1;
                }
                _ => {}
            }
        }
        a.received = received
            .into_iter()
            .map(|((state, kind), count)| ReceivedCount { state, kind, count })
            .collect();
        bound(&mut a.categories);
        bound(&mut a.languages);
        bound(&mut a.rejections);
        a.active_partners = self.membership().partners().len() as u32;
        a.sync = self.traffic(day)?;
        Ok(a)
    }

    /// Adds replication traffic to `day`'s ledger.
    pub fn add_traffic(&self, day: Day, add: SyncTraffic) -> Result<(), Error> {
        let mut t = self.traffic(day)?;
        t.bytes_in += add.bytes_in;
        t.bytes_out += add.bytes_out;
        t.rounds += add.rounds;
        let json = serde_json::to_vec(&t).expect("plain data");
        Ok(self.store.meta_put(&ledger_key(day), &json)?)
    }

    /// `day`'s replication traffic, as the ledger holds it.
    pub fn traffic(&self, day: Day) -> Result<SyncTraffic, Error> {
        Ok(match self.store.meta_get(&ledger_key(day))? {
            Some(v) => serde_json::from_slice(&v).unwrap_or_default(),
            None => SyncTraffic::default(),
        })
    }

    /// Whether this state and the coordinator are partners: only then does a summary go
    /// anywhere.
    pub fn reports_to_coordinator(&self) -> bool {
        self.membership()
            .are_partners(self.state, StateCode::coordinator())
    }

    /// Publishes the summary of `day` up to `through_ms`, for the coordinator alone.
    pub fn send_activity(
        &self,
        day: Day,
        through_ms: u64,
        detail: Detail,
    ) -> Result<Activity, Error> {
        let a = self.activity_of(day, through_ms, detail)?;
        self.publish(vec![PublishRequest {
            audience: vec![StateCode::coordinator()],
            tlp: None,
            handling: None,
            body: Body::Activity(a.clone()),
        }])?;
        Ok(a)
    }

    /// The days before `today` (at most [`CATCH_UP_DAYS`] back) with no summary of the
    /// whole day from this node yet, oldest first, read from the end of this node's own
    /// activity feed. A node reports from the first day it was asked (the first call, made
    /// by the daemon once this state and OAS are partners, or its first summary), never
    /// days before.
    pub fn activity_due(&self, today: Day) -> Result<Vec<Day>, Error> {
        if self.state.is_coordinator() {
            return Ok(vec![]);
        }
        let feed = tipx_protocol::FeedId::of(
            &self.key.public(),
            &tipx_protocol::Audience::states([StateCode::coordinator()]),
            tipx_protocol::Channel::Activity,
        );
        let since = match self.store.meta_get(SINCE_KEY)? {
            Some(v) => Day(u32::from_be_bytes(
                v.as_slice().try_into().unwrap_or_default(),
            )),
            None => {
                self.store.meta_put(SINCE_KEY, &today.0.to_be_bytes())?;
                today
            }
        };
        let Some(head) = self.store.head(&feed)? else {
            return Ok((since.0..today.0).map(Day).collect());
        };
        // Each day has at most a partial and a whole summary, a few more if sent by hand.
        let back = CATCH_UP_DAYS as usize * 4;
        let from = head.seq.saturating_sub(back as u64).max(1);
        let recent = self.store.feed_range(&feed, from, back + 1, usize::MAX)?;
        let earliest = Day(today.0.saturating_sub(CATCH_UP_DAYS));
        let mut whole = std::collections::BTreeSet::new();
        let mut first = None;
        for r in &recent {
            if let Ok(Some(Body::Activity(a))) = r.body() {
                first = Some(first.map_or(a.day, |f: Day| f.min(a.day)));
                if a.through_ms >= a.day.end_ms() {
                    whole.insert(a.day);
                }
            }
        }
        let start = match (whole.iter().next_back(), first) {
            (Some(last), _) => last.next(),
            (None, Some(first)) => first.min(since),
            (None, None) => since,
        }
        .max(earliest);
        Ok((start.0..today.0)
            .map(Day)
            .filter(|d| !whole.contains(d))
            .collect())
    }
}

/// Keeps the largest [`tipx_protocol::body::activity::MAX_ENTRIES`] - 1 entries of a count
/// and sums the rest under "other".
fn bound(m: &mut BTreeMap<String, u64>) {
    use tipx_protocol::body::activity::MAX_ENTRIES;
    if m.len() <= MAX_ENTRIES {
        return;
    }
    let mut v: Vec<(String, u64)> = std::mem::take(m).into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest: u64 = v[MAX_ENTRIES - 1..].iter().map(|(_, n)| n).sum();
    v.truncate(MAX_ENTRIES - 1);
    *m = v.into_iter().collect();
    *m.entry("other".into()).or_default() += rest;
}

#[cfg(test)]
mod tests;
