//! `tipx run`: opens the store, applies `exchange.partners`, starts the network and the
//! admin API, and stops cleanly on SIGINT or SIGTERM (the API drains, the network loop
//! ends, the store is flushed, then closed once no task holds it: the search index commits
//! and the store writes its index for the next start before [`run_until`] returns).

mod activity;

use std::sync::Arc;

use tipx_protocol::StateCode;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    api::server::{Api, router},
    core::Node,
    datadir::DataDir,
    store::SledStore,
};

/// Why the daemon could not start or stopped with an error. Each message names the
/// setting or file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data directory (configuration, key, token).
    #[error(transparent)]
    DataDir(#[from] crate::datadir::Error),
    /// `node.state` is not set.
    #[error("node.state: missing — set it to your state code (e.g. MX)")]
    NoState,
    /// The network could not start.
    #[error(transparent)]
    Network(#[from] crate::net::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The search index could not be opened or rebuilt.
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// The store's files are damaged.
    #[error(
        "{0}. `tipx run --recover` moves the damaged store aside and starts a fresh one that \
         takes back from partners what they share with this node (or, with the node stopped, \
         `tipx store recover`)"
    )]
    Damaged(crate::store::Error),
    /// The core failed.
    #[error(transparent)]
    Core(#[from] crate::core::Error),
    /// The admin API's address is taken or not ours.
    #[error("cannot listen on {addr} (api.listen): {source} — is another node using this port?")]
    ApiListen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The metrics address is taken or not ours.
    #[error("cannot listen on {addr} (metrics.listen): {source}")]
    MetricsListen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A blocking task panicked.
    #[error("internal error: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Runs the daemon until a signal; with `recover`, a damaged store is first moved aside
/// for a fresh one filled from partners.
pub async fn run(dd: &DataDir, recover: bool) -> Result<(), Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    run_until(dd, stop_rx, recover).await
}

/// What `tipx run` needs before it opens anything: the configuration, the state, the key
/// and the API token, each checked.
pub struct Preflight {
    /// The configuration.
    pub config: tipx_config::Config,
    /// The node's state.
    pub state: tipx_protocol::StateCode,
    /// The node key.
    pub key: tipx_protocol::Keypair,
    /// The admin API token.
    pub token: String,
}

/// Checks everything `tipx run` refuses before it opens the store: the configuration, the
/// key and token files (present, private), and the network addresses. `tipx config check`
/// runs the same checks.
pub fn preflight(dd: &DataDir) -> Result<Preflight, Error> {
    let config = dd.config()?;
    let state = config.node.state.ok_or(Error::NoState)?;
    let key = dd.key(&config)?;
    let token = dd.token(&config)?;
    crate::net::Addresses::of(&config)?;
    Ok(Preflight {
        config,
        state,
        key,
        token,
    })
}

/// Runs the daemon until `stop` turns true (`recover`: as for [`run`]).
pub async fn run_until(
    dd: &DataDir,
    stop: watch::Receiver<bool>,
    recover: bool,
) -> Result<(), Error> {
    let Preflight {
        config,
        state,
        key,
        token,
    } = preflight(dd)?;
    let store_dir = dd.store_dir();
    let search_dir = dd.search_dir();
    let cache = config.store.cache_capacity_bytes();
    let owner = key.public();
    let full_text = config.store.full_text_index;
    let (store, search) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
        let store = match SledStore::open(&store_dir, cache) {
            Err(e) if e.is_damage() && recover => {
                tracing::error!(error = %e, "the store is damaged");
                let aside = crate::store::set_aside(&store_dir)?;
                tracing::warn!(
                    "the damaged store is kept in {} (delete it once the node holds everything \
                     again: no erasure reaches it); a fresh store takes back from partners what \
                     they share with this node",
                    aside.display()
                );
                SledStore::open(&store_dir, cache)?
            }
            Err(e) if e.is_damage() => return Err(Error::Damaged(e)),
            r => r?,
        };
        if let Some(doubt) = store.claim(&owner)? {
            tracing::warn!("{doubt}: the node syncs with every partner before it publishes");
        }
        let search = if full_text {
            Some(crate::search::Search::open(&search_dir, &store)?)
        } else {
            if crate::search::remove(&search_dir)? {
                tracing::info!(
                    dir = %search_dir.display(),
                    "full-text search is off (store.full_text_index = false): its index is \
                     deleted, so that no erased record's words stay in it"
                );
            }
            None
        };
        Ok((store, search))
    })
    .await??;
    let (node, events) = Node::new(
        store,
        key,
        state,
        config.federation.anchor,
        config.federation.pinned_keys.clone(),
        config.store.max_record_bytes,
    )?;
    let node = match search {
        Some(search) => node.with_search(search),
        None => node,
    };
    node.limit_per_author(config.exchange.quota_limits());
    match node.shortfall_warning() {
        Ok(Some(w)) => tracing::error!("{w}"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "the store could not be compared with its floor"),
    }
    node.guard_space(crate::core::SpaceGuard {
        dir: dd.store_dir(),
        min_free: config.store.min_free_mib.saturating_mul(1024 * 1024),
    });
    let node = Arc::new(node);
    let listener = TcpListener::bind(config.api.listen)
        .await
        .map_err(|source| Error::ApiListen {
            addr: config.api.listen,
            source,
        })?;

    let (net, net_task) = crate::net::spawn(node.clone(), &config, events, stop.clone())?;
    let partners = config.exchange.partners.clone();
    let n = node.clone();
    let configured =
        match tokio::task::spawn_blocking(move || n.apply_configured_partners(&partners)).await? {
            Ok(c) => c,
            // This state's consents come back from partners with the rest of its feeds.
            Err(e @ crate::core::Error::Incomplete(_)) => {
                tracing::warn!(reason = %e, "exchange.partners not applied at this start");
                Default::default()
            }
            Err(e) => return Err(e.into()),
        };
    let join = |states: &[StateCode]| {
        states
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !configured.granted.is_empty() {
        tracing::info!(states = %join(&configured.granted), "consent granted from exchange.partners");
    }
    for s in &configured.revoked {
        tracing::warn!(
            state = %s,
            to_resume = %format!("tipx partners request {s}"),
            "in exchange.partners but revoked by this state: not granted again until requested"
        );
    }
    tracing::info!(
        state = %state,
        peer_id = %node.public_key(),
        api = %config.api.listen,
        records = node.len()?,
        "tipx node running"
    );
    tokio::spawn(prune_audit(
        node.clone(),
        config.store.audit_retention_days,
        stop.clone(),
    ));
    tokio::spawn(activity::run(
        node.clone(),
        net.clone(),
        config.report.activity,
        stop.clone(),
    ));
    if let Some(addr) = config.metrics.listen {
        let listener = crate::metrics::bind(addr)
            .await
            .map_err(|source| Error::MetricsListen { addr, source })?;
        tracing::info!(%addr, "serving Prometheus metrics at /metrics");
        tokio::spawn(crate::metrics::serve(
            listener,
            node.clone(),
            Some(net.clone()),
            stop.clone(),
        ));
    }
    // Last before serving: nothing after it returns early, so the rebuild is awaited.
    let rebuild = spawn_rebuild(node.clone(), stop.clone());
    let app = router(Api {
        node: node.clone(),
        token: Arc::new(token),
        net: Some(net),
    });
    crate::api::serve::run(listener, app, stop).await;
    tracing::info!("shutting down: flushing the store");
    let _ = net_task.await;
    match rebuild.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "rebuilding the search index failed: it is rebuilt at next start")
        }
        Err(e) => tracing::error!(error = %e, "rebuilding the search index panicked"),
    }
    let n = node.clone();
    tokio::task::spawn_blocking(move || n.flush()).await??;
    close(node).await;
    tracing::info!("stopped");
    Ok(())
}

/// How long [`close`] waits for the tasks still holding the node (a request being
/// answered, a page being read) to let it go.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Closes the node once this is the last hold on it: the search indexer commits what it
/// holds and stops, and the store writes its index for the next start. Until then the
/// files are still being written, so a caller removing the data directory (the demo) must
/// not go on before this returns. A node still held after [`CLOSE_WAIT`] closes when the
/// process ends (its store was flushed: nothing acknowledged is lost).
async fn close(mut node: Arc<Node>) {
    let deadline = tokio::time::Instant::now() + CLOSE_WAIT;
    loop {
        match Arc::try_unwrap(node) {
            Ok(n) => {
                if tokio::task::spawn_blocking(move || drop(n)).await.is_err() {
                    tracing::error!("closing the store panicked");
                }
                return;
            }
            Err(held) if tokio::time::Instant::now() < deadline => {
                node = held;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(_) => {
                tracing::warn!(
                    "the store is still in use {} s after the stop: it closes when the \
                     process ends",
                    CLOSE_WAIT.as_secs()
                );
                return;
            }
        }
    }
}

/// How often the audit log is pruned to `store.audit_retention_days`.
const AUDIT_PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Prunes the audit log at start and then every [`AUDIT_PRUNE_EVERY`].
async fn prune_audit(node: Arc<Node>, days: u64, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(AUDIT_PRUNE_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let n = node.clone();
        match tokio::task::spawn_blocking(move || n.prune_audit(days)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(gone)) => {
                tracing::info!(
                    entries = gone,
                    days,
                    "audit entries older than the retention pruned"
                )
            }
            Ok(Err(e)) => tracing::error!(error = %e, "pruning the audit log failed"),
            Err(_) => return,
        }
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}

/// Rebuilds the search index from the store in the background if it was missing or stale,
/// while the node answers (listings with a text read bodies until it is done); stops early
/// when `stop` turns true.
fn spawn_rebuild(
    node: Arc<Node>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), crate::core::Error>> {
    tokio::task::spawn_blocking(move || {
        node.rebuild_search(&|| *stop.borrow(), &mut rebuild_progress())
    })
}

/// Logs a rebuild of the search index as it goes: at its start, at every tenth, and at its
/// end.
fn rebuild_progress() -> impl FnMut(u64, u64) {
    let mut tenths_logged = None;
    move |done, total| {
        let tenths = (done * 10).checked_div(total).unwrap_or(10);
        if tenths_logged != Some(tenths) {
            tenths_logged = Some(tenths);
            tracing::info!(done, total, "rebuilding the search index from the store");
        }
    }
}
