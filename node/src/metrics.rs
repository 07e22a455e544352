//! Prometheus metrics (`[metrics] listen`): what the node counts as it works — published,
//! received, refused by reason, the time a publish and a page's storing take — and, read
//! at each scrape, what it holds (records by kind, feeds, partners, peers, the store's
//! size), the traffic per peer state (records, bytes, sync rounds) and the process's own
//! figures. Counts only: no record
//! content, no record id, ever.
//!
//! Served by [`serve`] in the text exposition format (`prometheus-client`), without a token,
//! as Prometheus scrapes: keep the address on loopback or a management network.

use std::{net::SocketAddr, sync::Arc};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use tokio::sync::watch;

use crate::core::Node;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

fn gauge(value: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(value).unwrap_or(i64::MAX));
    g
}

fn counter(value: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(value);
    c
}

/// The metrics page: the core's counters, and what `node` and the network hold now.
pub async fn render(node: &Arc<Node>, net: Option<&crate::net::Handle>) -> String {
    let (network, peers) = match net {
        Some(n) => (n.status().await, n.peers().await),
        None => (Default::default(), vec![]),
    };
    let n = node.clone();
    let status = tokio::task::spawn_blocking(move || n.status()).await;
    let mut r = Registry::with_prefix("tipx");
    let c = node.counters().clone();
    r.register(
        "published_records",
        "Records this node published",
        c.published,
    );
    r.register("rejected_records", "Records refused, by reason", c.rejected);
    r.register(
        "publish_seconds",
        "Time to publish a batch (sign, store, flush)",
        c.publish_seconds,
    );
    r.register(
        "page_store_seconds",
        "Time to check and store a page of received records",
        c.page_store_seconds,
    );
    if let Ok(Ok(s)) = status {
        let held: Family<KindLabel, Gauge> = Family::default();
        for (kind, v) in [
            ("alert", s.counts.alerts),
            ("best-practice", s.counts.best_practices),
            ("retraction", s.counts.retractions),
            ("consent", s.counts.consents),
            ("roster", s.counts.rosters),
            ("activity", s.counts.activities),
            ("profile", s.counts.profiles),
        ] {
            held.get_or_create(&KindLabel { kind: kind.into() })
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        r.register("records_held", "Records held, by kind", held);
        r.register("feeds_held", "Feeds held", gauge(s.feeds));
        r.register(
            "partners",
            "States this one exchanges with",
            gauge(s.partners.len() as u64),
        );
        r.register(
            "store_size_bytes",
            "The store's size on disk",
            gauge(s.store_bytes),
        );
        r.register("forks", "Forks detected", gauge(s.forks));
        let received: Family<Outcome, Counter> = Family::default();
        received
            .get_or_create(&Outcome {
                outcome: "new".into(),
            })
            .inc_by(s.received_new);
        received
            .get_or_create(&Outcome {
                outcome: "duplicate".into(),
            })
            .inc_by(s.received_duplicate);
        r.register(
            "received_records",
            "Records received from peers since start",
            received,
        );
        r.register(
            "start_time_seconds",
            "When the node started, seconds since the Unix epoch",
            gauge(s.started_at_ms / 1000),
        );
    }
    r.register(
        "connected_peers",
        "Peers connected now",
        gauge(network.connected),
    );
    r.register("known_peers", "Peers known", gauge(network.known_peers));
    let (sent, got, refused) = (
        Family::<StateLabel, Counter>::default(),
        Family::<StateLabel, Counter>::default(),
        Family::<StateLabel, Counter>::default(),
    );
    let (bytes_in, bytes_out, rounds) = (
        Family::<StateLabel, Counter>::default(),
        Family::<StateLabel, Counter>::default(),
        Family::<StateLabel, Counter>::default(),
    );
    for p in &peers {
        let state = StateLabel {
            state: p.state.map_or_else(|| "unknown".into(), |s| s.to_string()),
        };
        sent.get_or_create(&state).inc_by(p.sent);
        got.get_or_create(&state).inc_by(p.received);
        refused.get_or_create(&state).inc_by(p.rejected);
        bytes_in.get_or_create(&state).inc_by(p.bytes_in);
        bytes_out.get_or_create(&state).inc_by(p.bytes_out);
        rounds.get_or_create(&state).inc_by(p.rounds);
    }
    r.register(
        "peer_received_bytes",
        "Bytes of sync messages received from peers, by their state",
        bytes_in,
    );
    r.register(
        "peer_sent_bytes",
        "Bytes of sync messages sent to peers, by their state",
        bytes_out,
    );
    r.register(
        "peer_sync_rounds",
        "Anti-entropy rounds that ended in step, by the peer's state",
        rounds,
    );
    r.register(
        "peer_sent_records",
        "Records sent to peers, by their state",
        sent,
    );
    r.register(
        "peer_received_records",
        "Records stored from peers, by their state",
        got,
    );
    r.register(
        "peer_rejected_records",
        "Records refused from peers, by their state",
        refused,
    );
    process(&mut r);
    let mut out = String::new();
    encode(&mut out, &r).expect("writing to a String");
    out
}

/// The process's resident memory, CPU time and open files, from /proc.
fn process(r: &mut Registry) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    r.register(
        "process_resident_memory_bytes",
        "Resident memory",
        gauge(rss_kib * 1024),
    );
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: fields 14 and 15 are utime and stime.
    let ticks: u64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|t| t.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    r.register(
        "process_cpu_seconds",
        "CPU time used (user and system), in seconds",
        counter(ticks / 100),
    );
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    r.register("process_open_fds", "Open file descriptors", gauge(fds));
}

/// Binds the metrics address (before the node says it runs, so a taken port is an error
/// at start).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves `GET /metrics` on `listener` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Arc<Node>,
    net: Option<crate::net::Handle>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use axum::{Router, routing::get};
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let (node, net) = (node.clone(), net.clone());
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render(&node, net.as_ref()).await,
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
