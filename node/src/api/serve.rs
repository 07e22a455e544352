//! The admin API's accept loop. axum's `serve` sets no header-read timeout and accepts
//! without bound, so the daemon accepts connections itself: at most
//! [`super::MAX_CONNECTIONS`] at once, each served by hyper with
//! [`super::HEADER_READ_TIMEOUT`]. On stop it accepts no more, lets requests in flight
//! finish for up to [`super::DRAIN_TIMEOUT`], and drops the rest.

use std::{pin::pin, sync::Arc, time::Duration};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};

/// How long to wait before accepting again after `accept` failed (out of file
/// descriptors, most likely): long enough for connections to close, short enough to go
/// unnoticed.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `stop` turns true, then drains (see the module docs).
pub async fn run(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(super::MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stopped(&mut stop) => break,
        };
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "admin API: accepting a connection failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        connections.spawn(connection(tcp, app.clone(), stop.clone(), slot));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(super::DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            dropped = connections.len(),
            "admin API: requests still running at shutdown were dropped"
        );
    }
}

/// Serves one connection, holding `_slot` until it closes.
async fn connection(
    tcp: TcpStream,
    app: Router,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(super::HEADER_READ_TIMEOUT);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app)));
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "admin API connection ended");
    }
}

/// Returns once `stop` is true (or its sender is gone), holding no borrow of its value.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
