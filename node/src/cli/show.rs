//! The reading commands: status, records, audit, store check, and retract. Tables for
//! people, `--json` for scripts.

use tipx_protocol::Store as _;

use crate::{
    api::{
        client::{self, Client},
        types::{AuditLog, Check, Published, RecordView, RetractRequest, Status},
    },
    datadir::DataDir,
    query::Filter,
    time,
};

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub(super) async fn status(c: &Client, json: bool) -> anyhow::Result<()> {
    let s: Status = c.get("/v1/status", &()).await?;
    if json {
        return print_json(&s);
    }
    let partners: Vec<String> = s.partners.iter().map(|p| p.to_string()).collect();
    outln!("state      {}", s.state);
    outln!("peer id    {}", s.peer_id);
    outln!("version    {} (up {} s)", s.version, s.uptime_secs);
    outln!(
        "records    {} in {} feeds ({:.1} MiB on disk)",
        s.records,
        s.feeds,
        s.store_bytes as f64 / 1048576.0
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
    if s.forks > 0 {
        outln!("forks      {} (see `tipx audit`)", s.forks);
    }
    for w in &s.warnings {
        outln!("WARNING    {w}");
    }
    Ok(())
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
        "{:<12}  {:<17}  {:<5}  {:<13}  {:<12}  TITLE",
        "ID",
        "CREATED",
        "STATE",
        "KIND",
        "TLP"
    );
    for r in &rs {
        let mut title = cut(&r.title, 60);
        if r.retracted_by.is_some() {
            title = format!("[retracted] {title}");
        }
        outln!(
            "{:<12}  {:<17}  {:<5}  {:<13}  {:<12}  {title}",
            &r.id.to_string()[..12],
            time::format(r.created_at_ms),
            r.state.to_string(),
            r.kind,
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
    outln!("id         {}", r.id);
    outln!("kind       {}", r.kind);
    outln!("author     {} ({})", r.state, r.author);
    outln!("audience   {}", r.audience.join(", "));
    outln!(
        "created    {} (seq {})",
        time::format(r.created_at_ms),
        r.seq
    );
    outln!(
        "marking    TLP:{} / {}",
        r.tlp.to_string().to_uppercase(),
        r.handling
    );
    if let Some(by) = r.retracted_by {
        outln!("RETRACTED  by {by}");
    }
    match &r.body {
        Some(body) => outln!("\n{}", serde_json::to_string_pretty(body)?),
        None => outln!("\n(body erased)"),
    }
    Ok(())
}

pub(super) async fn retract(
    c: &Client,
    id: &str,
    reason: String,
    erase: bool,
) -> anyhow::Result<()> {
    let out: Published = c
        .post(
            &format!("/v1/records/{id}/retract"),
            &RetractRequest { reason, erase },
        )
        .await?;
    outln!("{}", out.ids[0]);
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
    for e in &log {
        let rec = e
            .record
            .map(|r| r.to_string()[..12].to_string())
            .unwrap_or_default();
        let peer = e
            .peer
            .as_deref()
            .map(|p| format!(" peer {}", cut(p, 16)))
            .unwrap_or_default();
        outln!(
            "{}  {:<10} {rec:<12} {}{peer}",
            time::format(e.at_ms),
            format!("{:?}", e.event).to_lowercase(),
            e.detail
        );
    }
    Ok(())
}

/// `store check`: through the daemon if it runs (it holds the store's lock), otherwise on
/// the store directly.
pub(super) async fn check(dd: &DataDir, json: bool) -> anyhow::Result<()> {
    let via_api = match super::client(dd) {
        Ok(c) => match c.post::<Check, _>("/v1/store/check", &()).await {
            Ok(r) => Some(r),
            Err(client::Error::Unreachable(_)) => None,
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e),
    };
    let report = match via_api {
        Some(r) => r,
        None => {
            let config = dd.config()?;
            let dir = dd.store_dir();
            tokio::task::spawn_blocking(move || -> anyhow::Result<Check> {
                let store =
                    crate::store::SledStore::open(&dir, config.store.cache_capacity_bytes())?;
                Ok(store.check()?)
            })
            .await??
        }
    };
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
