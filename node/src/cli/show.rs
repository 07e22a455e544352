//! The reading commands: status, records, audit and store check. Tables for
//! people, `--json` for scripts.

pub(super) mod human;
mod record;

use std::collections::{BTreeMap, BTreeSet};

use tipx_protocol::Store as _;

use crate::{
    api::{
        client::{self, Client},
        types::{AuditLog, Check, RecordView, Status},
    },
    datadir::DataDir,
    query::Filter,
    search::State,
    time,
};
use human::cut;

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(super) async fn status(c: &Client, json: bool) -> anyhow::Result<()> {
    let status: Status = c.get("/v1/status", &()).await?;
    if json {
        return print_json(&status);
    }
    let (s, net) = (&status.node, &status.network);
    let n = &s.counts;
    let partners: Vec<String> = s.partners.iter().map(|p| p.to_string()).collect();
    outln!("state      {}", s.state);
    outln!("peer id    {}", s.peer_id);
    outln!(
        "version    {}, up {}",
        s.version,
        human::duration(s.uptime_secs)
    );
    outln!(
        "exchange   {}: {}, {}, {}",
        human::count(n.exchange(), "record", "records"),
        human::count(n.alerts, "alert", "alerts"),
        human::count(n.best_practices, "best practice", "best practices"),
        human::count(n.retractions, "retraction", "retractions"),
    );
    outln!(
        "control    {}: {}, {}",
        human::count(n.control(), "record", "records"),
        human::count(n.consents, "consent", "consents"),
        human::count(n.rosters, "roster", "rosters"),
    );
    if n.reporting() > 0 {
        outln!(
            "reporting  {}: {}, {}",
            human::count(n.reporting(), "record", "records"),
            human::count(n.activities, "activity summary", "activity summaries"),
            human::count(n.profiles, "national profile", "national profiles"),
        );
    }
    outln!(
        "store      {} on disk, {} in {}",
        human::bytes(s.store_bytes),
        human::count(s.records, "record", "records"),
        human::count(s.feeds, "feed", "feeds")
    );
    outln!(
        "partners   {}",
        if partners.is_empty() {
            "none".into()
        } else {
            partners.join(", ")
        }
    );
    outln!(
        "roster     {}",
        if s.roster_version == 0 {
            "none".into()
        } else {
            format!("version {}", s.roster_version)
        }
    );
    outln!(
        "peers      {} connected of {} known",
        net.connected,
        net.known_peers
    );
    outln!(
        "traffic    {} sent, {} received ({} already held)",
        net.sent,
        s.received_new,
        s.received_duplicate
    );
    match net.listening.as_slice() {
        [] => outln!("listening  nowhere (no p2p address open)"),
        [first, rest @ ..] => {
            outln!("listening  {first}");
            for a in rest {
                outln!("           {a}");
            }
        }
    }
    if s.forks > 0 {
        outln!("forks      {} (see `tipx audit`)", s.forks);
    }
    if let Some(r) = &s.recovery {
        let waiting: Vec<String> = r.waiting.iter().map(ToString::to_string).collect();
        outln!(
            "recovery   {} of {} records back from partners{} (`tipx store recover` follows it)",
            r.missing_at_start.saturating_sub(r.missing),
            r.missing_at_start.max(r.missing),
            if waiting.is_empty() {
                String::new()
            } else {
                format!("; waiting for a sync round with {}", waiting.join(", "))
            }
        );
    }
    match s.search {
        Some(State::Ready) => outln!("search     index ready"),
        Some(State::Rebuilding { done, total }) => outln!(
            "search     index rebuilding, {} of {} records (--text reads bodies until it is done)",
            human::thousands(done),
            human::thousands(total)
        ),
        None => outln!("search     off (store.full_text_index = false): --text reads every body"),
    }
    for w in &s.warnings {
        outln!("WARNING    {w}");
    }
    Ok(())
}

/// Width of the SEVERITY/PILLARS column of `records list`.
const FACETS: usize = 22;

/// An alert's severity or a best practice's pillars, for `records list`.
fn facets(r: &RecordView) -> String {
    match (r.severity, r.pillars.as_slice()) {
        (Some(s), _) => s.to_string(),
        (None, []) => "-".into(),
        (None, ps) => cut(
            &ps.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            FACETS,
        ),
    }
}

pub(super) async fn list(c: &Client, f: &Filter, json: bool) -> anyhow::Result<()> {
    let rs: Vec<RecordView> = c.get("/v1/records", f).await?;
    if json {
        return print_json(&rs);
    }
    if rs.is_empty() {
        outln!("no records match");
        return Ok(());
    }
    outln!(
        "{:<12}  {:<20}  {:<5}  {:<13}  {:<FACETS$}  {:<12}  TITLE",
        "ID",
        "CREATED",
        "STATE",
        "KIND",
        "SEVERITY/PILLARS",
        "TLP"
    );
    for r in &rs {
        let mut title = cut(&r.title, 60);
        if r.retracted_by.is_some() {
            title = format!("[retracted] {title}");
        }
        outln!(
            "{:<12}  {:<20}  {:<5}  {:<13}  {:<FACETS$}  {:<12}  {title}",
            &r.id.to_string()[..12],
            time::format(r.created_at_ms),
            r.state.to_string(),
            r.kind,
            facets(r),
            r.tlp.to_string()
        );
    }
    Ok(())
}

pub(super) async fn record(c: &Client, id: &str, json: bool) -> anyhow::Result<()> {
    let r: RecordView = c.get(&format!("/v1/records/{id}"), &()).await?;
    if json {
        return print_json(&r);
    }
    record::print(&r, crate::core::now_ms());
    Ok(())
}

pub(super) async fn audit(c: &Client, limit: usize, json: bool) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Q {
        limit: usize,
    }
    let log: AuditLog = c.get("/v1/audit", &Q { limit }).await?;
    if json {
        return print_json(&log);
    }
    if log.is_empty() {
        outln!("the audit log is empty");
        return Ok(());
    }
    // A state code names a peer unless the state has several keys in this log.
    let mut keys_of: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for e in &log {
        if let (Some(s), Some(p)) = (e.peer_state, e.entry.peer.as_deref()) {
            keys_of.entry(s.to_string()).or_default().insert(p);
        }
    }
    let peer = |e: &crate::api::types::AuditView| match (e.peer_state, e.entry.peer.as_deref()) {
        (_, None) => "-".to_string(),
        (Some(s), Some(p)) if keys_of.get(&s.to_string()).is_some_and(|k| k.len() > 1) => {
            format!("{s} {}", human::short_peer(p))
        }
        (Some(s), Some(_)) => s.to_string(),
        (None, Some(p)) => human::short_peer(p),
    };
    outln!(
        "{:<20}  {:<9}  {:<8}  {:<12}  DETAIL",
        "TIME",
        "EVENT",
        "RECORD",
        "PEER"
    );
    for e in &log {
        let rec = e
            .entry
            .record
            .map_or_else(|| "-".to_string(), |r| r.short());
        outln!(
            "{:<20}  {:<9}  {rec:<8}  {:<12}  {}",
            time::format(e.entry.at_ms),
            serde_json::to_value(&e.entry.event)?
                .as_str()
                .unwrap_or_default(),
            peer(e),
            e.entry.detail
        );
    }
    Ok(())
}

/// Runs a store command through the daemon if it runs (`route` of its API: the daemon
/// holds the store's lock), otherwise with `direct` on the store opened here.
async fn on_store<T: serde::de::DeserializeOwned + Send + 'static>(
    dd: &DataDir,
    route: &str,
    direct: impl FnOnce(&crate::store::SledStore) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    match super::client(dd)?.post::<T, _>(route, &()).await {
        Ok(r) => return Ok(r),
        Err(client::Error::Unreachable(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let config = dd.config()?;
    let dir = dd.store_dir();
    tokio::task::spawn_blocking(move || {
        let store = crate::store::SledStore::open(&dir, config.store.cache_capacity_bytes())?;
        direct(&store)
    })
    .await?
}

/// `store check`: through the daemon if it runs, otherwise on the store directly.
pub(super) async fn check(dd: &DataDir, json: bool) -> anyhow::Result<()> {
    let search = dd.search_dir();
    // A config that does not load is reported by `on_store` when it reads the store here.
    let full_text = dd.config().map_or(true, |c| c.store.full_text_index);
    let report: Check = on_store(dd, "/v1/store/check", move |s| {
        let mut report = s.check()?;
        if !full_text {
            report.notes.push(crate::search::OFF.to_string());
            return Ok(report);
        }
        let found = crate::search::check(&search, s)?;
        report.problems.extend(found.problems);
        report.notes.extend(found.notes);
        Ok(report)
    })
    .await?;
    if json {
        print_json(&report)?;
    } else {
        outln!(
            "checked {} records in {} feeds",
            report.records,
            report.feeds
        );
        for p in &report.problems {
            outln!("PROBLEM  {p}");
        }
        for n in &report.notes {
            outln!("NOTE     {n}");
        }
    }
    if report.problems.is_empty() {
        if !json {
            outln!("store is clean");
        }
        Ok(())
    } else {
        anyhow::bail!("{} problems found in the store", report.problems.len())
    }
}

/// `store accept-loss`: through the daemon if it runs, otherwise on the store directly.
pub(super) async fn accept_loss(dd: &DataDir) -> anyhow::Result<()> {
    let short: usize = on_store(dd, "/v1/store/accept-loss", |s| {
        let short = s.shortfall()?.len();
        s.accept_shortfall(crate::core::now_ms())?;
        Ok(short)
    })
    .await?;
    if short == 0 {
        outln!("nothing was missing: the store is unchanged");
    } else {
        outln!(
            "accepted the store as it is: the records missing from {short} feed(s) are given up, \
             and publishing resumes"
        );
    }
    Ok(())
}
