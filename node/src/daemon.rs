//! `tipx run`: opens the store, serves the admin API, and stops cleanly on SIGINT or
//! SIGTERM (the API drains, the store is flushed).

use std::sync::Arc;

use anyhow::Context as _;
use tipx_protocol::Store;
use tokio::net::TcpListener;

use crate::{
    api::server::{Api, router},
    datadir::DataDir,
    node::Node,
    store::SledStore,
};

/// Runs the daemon until a signal.
pub async fn run(dd: &DataDir) -> anyhow::Result<()> {
    let config = dd.config()?;
    let state = config
        .node
        .state
        .context("node.state is not set in the configuration")?;
    let key = dd.key(&config)?;
    let token = dd.token(&config)?;
    let store_dir = dd.store_dir();
    let cache = config.store.cache_capacity_bytes();
    let store = tokio::task::spawn_blocking(move || SledStore::open(&store_dir, cache))
        .await?
        .with_context(|| {
            format!(
                "opening the store in {} (is another `tipx run` using it?)",
                dd.store_dir().display()
            )
        })?;
    let node = Arc::new(Node::new(
        store,
        key,
        state,
        config.federation.anchor,
        config.store.max_record_bytes,
    )?);
    let listener = TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("cannot listen on {} (api.listen)", config.api.listen))?;
    tracing::info!(
        state = %state,
        peer_id = %node.public_key(),
        api = %config.api.listen,
        records = node.store.len()?,
        "tipx node running"
    );
    let app = router(Api {
        node: node.clone(),
        token: Arc::new(token),
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down: flushing the store");
    let n = node.clone();
    tokio::task::spawn_blocking(move || n.store.flush()).await??;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}
