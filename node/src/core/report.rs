//! The data of `tipx report` ([`crate::report::model`]), gathered from what this node holds.
//!
//! On the coordinator's node (scope `federation`), volumes come from the activity
//! summaries members sent it; on a member's node (scope `state`), from its own store and
//! audit log. Either way the node reads only records addressed to its own state: the
//! report can hold nothing it was not sent. Where one state's several nodes all sent
//! summaries, the node with the most days is counted and the others are named in a notice.

use std::collections::{BTreeMap, BTreeSet};

use tipx_protocol::{
    Body, Kind, PublicKey, Record, StateCode,
    body::{Activity, ConsentAction, Profile, Roster},
    day::{DAY_MS, Day},
    store::{AuditEvent, Index, Store},
};

use super::{Error, Node, activity::CATCH_UP_DAYS};
use crate::report::model::{
    AnnexEntry, ConsentPair, Coverage, DataNotes, Member, MonthCount, Notice, Participation,
    Period, ProfileRow, Report, Reporting, SCHEMA, Scope, StateTotals, Volume,
};

impl Node {
    /// The report's data for `period`, written at `now_ms`, its labels in `language`.
    pub fn report(&self, period: Period, language: &str, now_ms: u64) -> Result<Report, Error> {
        if period.from > period.to {
            return Err(Error::Invalid(format!(
                "the period runs from {} to {}: backwards",
                period.from, period.to
            )));
        }
        let scope = if self.state.is_coordinator() {
            Scope::Federation
        } else {
            Scope::State
        };
        let mut participation = self.participation(period)?;
        let (volume, mut notes) = match scope {
            Scope::Federation => self.federation_volume(period, now_ms, &mut participation)?,
            Scope::State => self.own_volume(period, &mut participation)?,
        };
        let profiles = self.profile_rows(period)?;
        let with_profile: BTreeSet<StateCode> = profiles.iter().filter_map(|p| p.state).collect();
        for m in &mut participation.members {
            m.profile = with_profile.contains(&m.state);
        }
        participation.no_profile = participation
            .members
            .iter()
            .filter(|m| !m.profile)
            .map(|m| m.state)
            .collect();
        notes.notices.insert(0, Notice::CountsOnly);
        Ok(Report {
            schema: SCHEMA,
            generated_at: crate::time::rfc3339(now_ms),
            period,
            scope,
            by: self.state,
            language: language.to_string(),
            participation,
            volume,
            profiles,
            annex: self.annex(period)?,
            notes,
        })
    }

    /// Records of `kind` created in `[since_ms, until_ms]`, oldest first.
    fn records_of(&self, index: Index, since_ms: u64, until_ms: u64) -> Result<Vec<Record>, Error> {
        let mut ids = Vec::new();
        self.store.scan(index, since_ms, until_ms, &mut |id| {
            ids.push(id);
            true
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids.into_iter().rev() {
            if let Some(r) = self.store.get(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn participation(&self, period: Period) -> Result<Participation, Error> {
        let m = self.membership();
        let members_of = |ro: &Roster| -> BTreeSet<StateCode> {
            ro.members
                .iter()
                .map(|x| x.state)
                .filter(|s| !s.is_coordinator())
                .collect()
        };
        let current = m.roster().cloned().unwrap_or_default();
        // Members at the start and the end of the period: no roster before it means the
        // federation began in it, and every member joined.
        let before = self
            .roster_before(period.from.start_ms())?
            .map_or_else(BTreeSet::new, |r| members_of(&r));
        let after = self
            .roster_before(period.to.end_ms())?
            .map_or_else(|| members_of(&current), |r| members_of(&r));
        let joined = after.difference(&before).copied().collect();
        let left = before.difference(&after).copied().collect();
        let members = current
            .members
            .iter()
            .filter(|x| !x.state.is_coordinator())
            .map(|x| Member {
                state: x.state,
                name: x.name.clone(),
                reporting: if x.state == self.state {
                    Reporting::Own
                } else if m.are_partners(x.state, self.state) {
                    Reporting::NoData
                } else {
                    Reporting::NoConsent
                },
                profile: false,
            })
            .collect();
        let mut grants: BTreeMap<(StateCode, StateCode), u64> = BTreeMap::new();
        for (from, to, c) in self.store.consents()? {
            if c.action == ConsentAction::Grant && c.at_ms < period.to.end_ms() {
                grants.insert((from, to), c.at_ms);
            }
        }
        let consents = grants
            .iter()
            .filter(|((a, b), _)| a < b)
            .filter_map(|((a, b), at)| {
                let back = grants.get(&(*b, *a))?;
                Some(ConsentPair {
                    a: *a,
                    b: *b,
                    since: Some(Day::of_ms((*at).max(*back))),
                })
            })
            .collect();
        Ok(Participation {
            members,
            consents,
            joined,
            left,
            no_activity: vec![],
            no_profile: vec![],
        })
    }

    /// The roster in force just before `at_ms`: the highest version signed before then.
    fn roster_before(&self, at_ms: u64) -> Result<Option<Roster>, Error> {
        let held = self.records_of(Index::Kind(Kind::Roster), 0, at_ms.saturating_sub(1))?;
        Ok(held
            .iter()
            .filter_map(|r| match r.body() {
                Ok(Some(Body::Roster(ro))) => Some(ro),
                _ => None,
            })
            .max_by_key(|ro| ro.version))
    }

    fn federation_volume(
        &self,
        period: Period,
        now_ms: u64,
        participation: &mut Participation,
    ) -> Result<(Volume, DataNotes), Error> {
        // A summary of day D is written on D or later (up to the catch-up window).
        let until = period
            .to
            .end_ms()
            .saturating_add(u64::from(CATCH_UP_DAYS + 1) * DAY_MS);
        let mut latest: BTreeMap<(StateCode, PublicKey, Day), (u64, u64, Activity)> =
            BTreeMap::new();
        for r in self.records_of(Index::Kind(Kind::Activity), period.from.start_ms(), until)? {
            let Ok(Some(Body::Activity(a))) = r.body() else {
                continue;
            };
            if a.day < period.from || a.day > period.to {
                continue;
            }
            let h = &r.header;
            let key = (h.author_state, h.author, a.day);
            let newer = (h.created_at_ms, h.seq);
            // A later summary of the same author and day supersedes an earlier one.
            if latest
                .get(&key)
                .is_none_or(|(at, seq, _)| (*at, *seq) < newer)
            {
                latest.insert(key, (newer.0, newer.1, a));
            }
        }
        let mut by_node: BTreeMap<StateCode, BTreeMap<PublicKey, Vec<Activity>>> = BTreeMap::new();
        for ((state, key, _), (_, _, a)) in latest {
            by_node
                .entry(state)
                .or_default()
                .entry(key)
                .or_default()
                .push(a);
        }
        let mut volume = Volume {
            months: months(period),
            ..Default::default()
        };
        let mut notes = DataNotes::default();
        let mut by_month: BTreeMap<(String, StateCode, Kind), u64> = BTreeMap::new();
        let yesterday = Day(Day::of_ms(now_ms).0.saturating_sub(1));
        for (state, nodes) in by_node {
            let count = nodes.len() as u32;
            let Some((_, days)) = nodes.into_iter().max_by_key(|(_, d)| d.len()) else {
                continue;
            };
            if count > 1 {
                notes.notices.push(Notice::SeveralReportingNodes {
                    state,
                    nodes: count,
                });
            }
            let mut t = StateTotals {
                state: Some(state),
                ..Default::default()
            };
            let mut totals_only = false;
            for a in &days {
                totals_only |= a.totals_only;
                for (kind, n) in &a.published {
                    *by_month.entry((a.day.month(), state, *kind)).or_default() += n;
                    *t.published.entry(*kind).or_default() += n;
                }
                for r in &a.received {
                    *t.received.entry(r.kind).or_default() += r.count;
                }
                t.retractions += a.retractions;
                t.erasures += a.erasures;
                t.rejections += a.rejections.values().sum::<u64>();
                t.sync_bytes += a.sync.bytes_in + a.sync.bytes_out;
                add_all(&mut volume.pillars, &a.pillars);
                add_all(&mut volume.severities, &a.severities);
                add_all(&mut volume.categories, &a.categories);
                add_all(&mut volume.languages, &a.languages);
            }
            volume.states.push(t);
            let first = days.iter().map(|a| a.day).min();
            let last = days.iter().map(|a| a.day).max();
            if totals_only {
                notes.notices.push(Notice::TotalsOnly { state });
            }
            let end = period.to.min(yesterday);
            if let Some(last) = last
                && last < end
            {
                notes.notices.push(Notice::Incomplete {
                    state,
                    days: end.0 - last.0,
                });
            }
            notes.coverage.push(Coverage {
                state,
                days: days.len() as u32,
                first,
                last,
                nodes: count,
                totals_only,
            });
        }
        let covered: BTreeSet<StateCode> = notes.coverage.iter().map(|c| c.state).collect();
        for m in &mut participation.members {
            if covered.contains(&m.state) {
                m.reporting = Reporting::Summaries;
            } else if m.reporting == Reporting::NoConsent {
                notes.notices.push(Notice::NoConsent { state: m.state });
            }
        }
        participation.no_activity = participation
            .members
            .iter()
            .filter(|m| !covered.contains(&m.state))
            .map(|m| m.state)
            .collect();
        volume.by_month = month_counts(by_month);
        Ok((volume, notes))
    }

    fn own_volume(
        &self,
        period: Period,
        participation: &mut Participation,
    ) -> Result<(Volume, DataNotes), Error> {
        let mut volume = Volume {
            months: months(period),
            ..Default::default()
        };
        let mut by_month: BTreeMap<(String, StateCode, Kind), u64> = BTreeMap::new();
        let mut totals: BTreeMap<StateCode, StateTotals> = BTreeMap::new();
        let records =
            self.records_of(Index::Time, period.from.start_ms(), period.to.end_ms() - 1)?;
        for r in &records {
            let h = &r.header;
            if matches!(h.kind, Kind::Consent | Kind::Roster | Kind::Activity) {
                continue;
            }
            let day = Day::of_ms(h.created_at_ms);
            *by_month
                .entry((day.month(), h.author_state, h.kind))
                .or_default() += 1;
            let t = totals.entry(h.author_state).or_insert_with(|| StateTotals {
                state: Some(h.author_state),
                ..Default::default()
            });
            *t.published.entry(h.kind).or_default() += 1;
            if h.author_state != self.state {
                continue;
            }
            match r.body() {
                Ok(Some(Body::Retraction(x))) => {
                    t.retractions += 1;
                    t.erasures += u64::from(x.erase);
                }
                Ok(Some(Body::BestPractice(b))) => {
                    for p in b.pillars {
                        *volume.pillars.entry(p).or_default() += 1;
                    }
                    *volume.languages.entry(b.language).or_default() += 1;
                }
                Ok(Some(Body::Alert(a))) => {
                    *volume.severities.entry(a.severity).or_default() += 1;
                    *volume.categories.entry(a.category).or_default() += 1;
                    *volume.languages.entry(a.language).or_default() += 1;
                }
                _ => {}
            }
        }
        let own = totals.entry(self.state).or_insert_with(|| StateTotals {
            state: Some(self.state),
            ..Default::default()
        });
        for e in self.store.audit_since(period.from.start_ms())? {
            if e.at_ms >= period.to.end_ms() {
                break;
            }
            match (e.event, e.kind) {
                (AuditEvent::Received, Some(kind)) => *own.received.entry(kind).or_default() += 1,
                (AuditEvent::Rejected, _) => own.rejections += 1,
                _ => {}
            }
        }
        for d in period.from.0..=period.to.0 {
            let t = self.traffic(Day(d))?;
            own.sync_bytes += t.bytes_in + t.bytes_out;
        }
        volume.states = totals.into_values().collect();
        volume.by_month = month_counts(by_month);
        for m in &mut participation.members {
            if m.reporting == Reporting::NoData {
                m.reporting = Reporting::Summaries;
            }
        }
        Ok((volume, DataNotes::default()))
    }

    /// Each state's latest profile up to the period's end, compared with its latest before
    /// the period.
    fn profile_rows(&self, period: Period) -> Result<Vec<ProfileRow>, Error> {
        let mut latest: BTreeMap<StateCode, (u64, Profile)> = BTreeMap::new();
        let mut before: BTreeMap<StateCode, (u64, Profile)> = BTreeMap::new();
        for r in self.records_of(Index::Kind(Kind::Profile), 0, period.to.end_ms() - 1)? {
            if self.store.retraction_of(&r.id)?.is_some() {
                continue;
            }
            let Ok(Some(Body::Profile(p))) = r.body() else {
                continue;
            };
            let (state, at) = (r.header.author_state, r.header.created_at_ms);
            let slot = if at < period.from.start_ms() {
                &mut before
            } else {
                &mut latest
            };
            if slot.get(&state).is_none_or(|(t, _)| *t <= at) {
                slot.insert(state, (at, p));
            }
        }
        for (state, old) in &before {
            latest.entry(*state).or_insert_with(|| old.clone());
        }
        Ok(latest
            .into_iter()
            .map(|(state, (at, p))| {
                let mut row = row_of(state, at, &p);
                if let Some((old_at, old)) = before.get(&state)
                    && *old_at != at
                {
                    row.changed = changed(&row_of(state, *old_at, old), &row);
                }
                row
            })
            .collect())
    }

    /// The latest national profile of each state (or of `state` alone) this node holds,
    /// with how many versions it holds.
    pub fn profiles(&self, state: Option<StateCode>) -> Result<Vec<ProfileView>, Error> {
        let index = state.map_or(Index::Kind(Kind::Profile), Index::State);
        let mut out: BTreeMap<StateCode, ProfileView> = BTreeMap::new();
        for r in self.records_of(index, 0, u64::MAX)? {
            let Ok(Some(Body::Profile(profile))) = r.body() else {
                continue;
            };
            if self.store.retraction_of(&r.id)?.is_some() {
                continue;
            }
            let h = &r.header;
            let versions = out.get(&h.author_state).map_or(0, |v| v.versions) + 1;
            out.insert(
                h.author_state,
                ProfileView {
                    state: h.author_state,
                    id: r.id,
                    published: crate::time::rfc3339(h.created_at_ms),
                    versions,
                    profile,
                },
            );
        }
        Ok(out.into_values().collect())
    }

    /// Best practices addressed to this node's state by another, published in the period,
    /// neither retracted nor erased.
    fn annex(&self, period: Period) -> Result<Vec<AnnexEntry>, Error> {
        let mut out = Vec::new();
        let records = self.records_of(
            Index::Kind(Kind::BestPractice),
            period.from.start_ms(),
            period.to.end_ms() - 1,
        )?;
        for r in records {
            let h = &r.header;
            if h.author_state == self.state
                || !h.audience.contains(self.state)
                || self.store.retraction_of(&r.id)?.is_some()
            {
                continue;
            }
            let Ok(Some(Body::BestPractice(b))) = r.body() else {
                continue;
            };
            out.push(AnnexEntry {
                state: h.author_state,
                title: b.title,
                pillars: b.pillars,
                language: b.language,
                published: Day::of_ms(h.created_at_ms),
            });
        }
        out.sort_by(|a, b| {
            let pillar = |e: &AnnexEntry| e.pillars.first().copied();
            (pillar(a), &a.title, a.state).cmp(&(pillar(b), &b.title, b.state))
        });
        Ok(out)
    }
}

/// A state's latest national profile (`tipx profile show`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProfileView {
    /// The state.
    pub state: StateCode,
    /// The record.
    pub id: tipx_protocol::RecordId,
    /// When it was published, RFC 3339.
    pub published: String,
    /// Versions held (the latest supersedes the others, which stay as history).
    pub versions: u32,
    /// The profile.
    pub profile: Profile,
}

/// Counts by (month, state, kind) as the model's rows, in that order.
fn month_counts(m: BTreeMap<(String, StateCode, Kind), u64>) -> Vec<MonthCount> {
    m.into_iter()
        .map(|((month, state, kind), count)| MonthCount {
            month,
            state,
            kind,
            count,
        })
        .collect()
}

fn add_all<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

/// The months of a period, `YYYY-MM`, in order.
fn months(period: Period) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut d = period.from;
    while d <= period.to {
        let m = d.month();
        if out.last() != Some(&m) {
            out.push(m);
        }
        d = Day(d.0 + 1);
    }
    out
}

fn row_of(state: StateCode, at_ms: u64, p: &Profile) -> ProfileRow {
    let stats = p.latest_statistics();
    ProfileRow {
        state: Some(state),
        updated: Some(Day::of_ms(at_ms)),
        palermo: p.palermo.status,
        palermo_date: p.palermo.date,
        laws: p.laws.len() as u64,
        mechanism: p.mechanism.exists,
        action_plan: p.action_plan.as_ref().map(|a| (a.from, a.to)),
        hotline: !p.hotline.trim().is_empty(),
        shelters: p.shelters,
        identification_protocol: p.identification_protocol,
        year: stats.map(|s| s.year),
        victims: stats.and_then(|s| s.victims.total()),
        investigations: stats.and_then(|s| s.investigations),
        prosecutions: stats.and_then(|s| s.prosecutions),
        convictions: stats.and_then(|s| s.convictions),
        changed: vec![],
    }
}

/// The JSON names of the fields of `new` that differ from `old`, in the row's order.
fn changed(old: &ProfileRow, new: &ProfileRow) -> Vec<String> {
    let differs = [
        ("palermo", old.palermo != new.palermo),
        ("palermo_date", old.palermo_date != new.palermo_date),
        ("laws", old.laws != new.laws),
        ("mechanism", old.mechanism != new.mechanism),
        ("action_plan", old.action_plan != new.action_plan),
        ("hotline", old.hotline != new.hotline),
        ("shelters", old.shelters != new.shelters),
        (
            "identification_protocol",
            old.identification_protocol != new.identification_protocol,
        ),
        ("year", old.year != new.year),
        ("victims", old.victims != new.victims),
        ("investigations", old.investigations != new.investigations),
        ("prosecutions", old.prosecutions != new.prosecutions),
        ("convictions", old.convictions != new.convictions),
    ];
    differs
        .iter()
        .filter(|(_, d)| *d)
        .map(|(name, _)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests;
