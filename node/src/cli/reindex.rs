//! `tipx store reindex`: the full-text search index rebuilt from the store, with a progress
//! bar. With the node stopped, the index is deleted and rebuilt here, record by record from
//! the store; with the node running, a rebuild under way (the daemon starts one by itself
//! when it finds the index missing, stale or of an older layout) is followed until done.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use super::show::human;
use crate::{
    api::{client, types::Status},
    datadir::DataDir,
    search::{Search, State},
    store::SledStore,
};

/// How often a running node's progress is read.
const POLL: Duration = Duration::from_millis(250);

/// `tipx store reindex`.
pub(super) async fn reindex(dd: &DataDir) -> anyhow::Result<()> {
    if let Some((client, status)) = super::running(dd).await? {
        return follow(&client, status).await;
    }
    let config = dd.config()?;
    anyhow::ensure!(
        config.store.full_text_index,
        "full-text search is off in this node's config (store.full_text_index = false): there \
         is no index to rebuild. Set it to true and start the node: it rebuilds the index by \
         itself"
    );
    let cache = config.store.cache_capacity_bytes();
    let (store, search) = (dd.store_dir(), dd.search_dir());
    tokio::task::spawn_blocking(move || rebuild_here(&store, &search, cache)).await?
}

/// With the node running: its rebuild followed on a progress bar, if one is under way.
async fn follow(client: &client::Client, mut status: Status) -> anyhow::Result<()> {
    let mut bar: Option<indicatif::ProgressBar> = None;
    loop {
        match status.node.search {
            Some(State::Rebuilding { done, total }) => {
                let bar = bar.get_or_insert_with(|| new_bar(total));
                bar.set_length(total);
                bar.set_position(done);
            }
            Some(State::Ready) => {
                match bar {
                    Some(bar) => {
                        bar.finish_and_clear();
                        outln!(
                            "the search index is rebuilt: every best practice and alert is indexed"
                        );
                    }
                    None => outln!(
                        "the search index is in step with the store: nothing to rebuild. To \
                         rebuild it from scratch, stop the node and run `tipx store reindex` again."
                    ),
                }
                return Ok(());
            }
            None => anyhow::bail!(
                "the running node keeps no search index (store.full_text_index = false in its \
                 config)"
            ),
        }
        tokio::time::sleep(POLL).await;
        status = client.get("/v1/status", &()).await?;
    }
}

/// With the node stopped: the index deleted and rebuilt from the store.
fn rebuild_here(store: &Path, dir: &Path, cache_bytes: u64) -> anyhow::Result<()> {
    let store = SledStore::open(store, cache_bytes)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot delete the old search index {}: {e}", dir.display())
        })?;
    }
    let started = Instant::now();
    let search = Search::open(dir, &store)?;
    let bar = new_bar(0);
    let mut indexed = 0;
    search.rebuild(&store, &|| false, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        indexed = total;
    })?;
    // Dropped: the indexer commits what it holds and stops.
    drop(search);
    bar.finish_and_clear();
    outln!(
        "the search index is rebuilt: {} indexed in {:.1} s",
        human::count(indexed, "record", "records"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn new_bar(len: u64) -> indicatif::ProgressBar {
    super::output::bar(len, "{bar:40} {pos}/{len} records indexed, {eta} left")
}
