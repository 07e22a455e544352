//! `tipx store recover`: with the node stopped, a damaged store is moved aside for a fresh
//! one; with the node running, the store is followed as it comes back from partners, with
//! a progress bar, until it is whole — or until every partner has given what it holds and
//! records are still missing, which are then reported feed by feed.

use std::time::Duration;

use crate::{
    api::{client, types::Status},
    core::Recovery,
    datadir::DataDir,
};

/// How often a running node's progress is read.
const POLL: Duration = Duration::from_millis(500);

/// `tipx store recover`.
pub(super) async fn recover(dd: &DataDir) -> anyhow::Result<()> {
    match super::running(dd).await? {
        Some((client, status)) => follow(&client, status).await,
        None => set_aside(dd),
    }
}

/// With the node stopped: the damaged store goes aside, a fresh one with its floor takes
/// its place.
fn set_aside(dd: &DataDir) -> anyhow::Result<()> {
    let store = dd.store_dir();
    if !store.exists() {
        anyhow::bail!("{} holds no store to recover", dd.dir.display());
    }
    let aside = crate::store::set_aside(&store)?;
    outln!("the damaged store is kept in {}", aside.display());
    outln!(
        "a fresh store is in its place, with the old store's record of what it held: start the \
         node (`tipx run`) and it takes back from its partners every record they share with it; \
         it publishes nothing until this state's own feeds are whole. Run `tipx store recover` \
         again while the node runs to follow it."
    );
    outln!(
        "Delete {} once the node holds everything again: it is a copy of records that no \
         erasure reaches.",
        aside.display()
    );
    Ok(())
}

/// With the node running: a progress bar of the records coming back, then what could not.
async fn follow(client: &client::Client, mut status: Status) -> anyhow::Result<()> {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut seen = Recovery::default();
    loop {
        let Some(now) = status.node.recovery.take() else {
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if seen.missing_at_start == 0 && seen.doubt.is_none() && seen.synced.is_empty() {
                outln!("the store is whole and proven: nothing to recover");
            } else {
                outln!(
                    "the store is whole again: {} records taken back from partners; publishing \
                     resumes",
                    seen.missing_at_start
                );
            }
            return Ok(());
        };
        let bar = bar.get_or_insert_with(|| new_bar(now.missing_at_start));
        bar.set_length(now.missing_at_start.max(now.missing));
        bar.set_position(now.missing_at_start.saturating_sub(now.missing));
        bar.set_message(if now.waiting.is_empty() {
            "every partner has answered".to_string()
        } else {
            let waiting: Vec<String> = now.waiting.iter().map(ToString::to_string).collect();
            format!("waiting for a sync round with {}", waiting.join(", "))
        });
        if now.stalled() {
            bar.finish_and_clear();
            return Err(unrecoverable(&now));
        }
        seen = now;
        tokio::time::sleep(POLL).await;
        status = client.get("/v1/status", &()).await?;
    }
}

fn new_bar(len: u64) -> indicatif::ProgressBar {
    super::output::bar(len, "{bar:40} {pos}/{len} records back — {msg}")
}

/// Every partner has answered and records are still missing: what, feed by feed.
fn unrecoverable(r: &Recovery) -> anyhow::Error {
    outln!(
        "{} of {} records could not be recovered: every partner has given what it holds, and \
         none holds these (they were only here, or only at states that are no longer \
         partners):",
        r.missing,
        r.missing_at_start.max(r.missing)
    );
    for feed in &r.feeds {
        outln!("  {feed}");
    }
    anyhow::anyhow!(
        "the store is not whole. If a former partner may still hold these records, grant it \
         again and rerun `tipx store recover`; otherwise `tipx store accept-loss` accepts the \
         store as it is and publishing resumes"
    )
}
