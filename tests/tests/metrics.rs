//! Prometheus metrics from running nodes: the page parses with the Prometheus client's own
//! exposition-format parser, and its figures are what the nodes did — MX published three
//! alerts for CO, CO stored them from MX — with no record content in it.

use serde_json::Value;
use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    free_port, python,
    steps::{alerts_of, await_partner, publish_alerts},
};

/// The metrics page of `node` at `port`, over plain HTTP.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the metrics port");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain"), "{head}");
    body.to_string()
}

/// The value of the sample `name` with `labels` (all of them), if there is one.
fn sample(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

fn restart_with_metrics(node: &mut Node) -> u16 {
    let port = free_port();
    assert!(node.stop().success());
    node.env
        .push(("TIPX_METRICS_LISTEN".into(), format!("127.0.0.1:{port}")));
    node.start();
    port
}

#[test]
fn the_metrics_page_parses_and_counts_what_the_nodes_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let mx_port = restart_with_metrics(&mut fed.members[0]);
    let co_port = restart_with_metrics(&mut fed.members[1]);
    await_partner(fed.member("MX"), "CO");
    await_partner(fed.member("CO"), "MX");
    publish_alerts(fed.member("MX"), 0, 3, &["CO"]);
    assert!(eventually(DELIVERY_DEADLINE, || alerts_of(
        fed.member("CO"),
        "MX"
    ) == 3));

    let mx_page = scrape(mx_port);
    let mx = python::parse_metrics(&mx_page)
        .unwrap_or_else(|e| panic!("the parser refused MX's page: {e}\n{mx_page}"));
    assert_eq!(
        sample(&mx, "tipx_records_held", &[("kind", "alert")]),
        Some(3.0),
        "{mx_page}"
    );
    assert!(
        sample(&mx, "tipx_published_records_total", &[]).is_some_and(|v| v >= 3.0),
        "{mx_page}"
    );
    assert!(
        sample(&mx, "tipx_publish_seconds_count", &[]).is_some_and(|v| v >= 1.0),
        "{mx_page}"
    );
    assert_eq!(sample(&mx, "tipx_partners", &[]), Some(1.0));
    assert!(sample(&mx, "tipx_connected_peers", &[]).is_some_and(|v| v >= 1.0));
    assert!(
        sample(&mx, "tipx_process_resident_memory_bytes", &[]).is_some_and(|v| v > 1e6),
        "{mx_page}"
    );
    assert!(sample(&mx, "tipx_store_size_bytes", &[]).is_some_and(|v| v > 0.0));

    // CO: its counts can lag the store by a sync round; wait on the figure itself.
    assert!(
        eventually(DELIVERY_DEADLINE, || {
            let co = python::parse_metrics(&scrape(co_port)).expect("CO's page parses");
            sample(&co, "tipx_peer_received_records_total", &[("state", "MX")])
                .is_some_and(|v| v >= 3.0)
                && sample(&co, "tipx_page_store_seconds_count", &[]).is_some_and(|v| v >= 1.0)
                && sample(&co, "tipx_received_records_total", &[("outcome", "new")])
                    .is_some_and(|v| v >= 3.0)
                && sample(&co, "tipx_peer_received_bytes_total", &[("state", "MX")])
                    .is_some_and(|v| v > 0.0)
                && sample(&co, "tipx_peer_sent_bytes_total", &[("state", "MX")])
                    .is_some_and(|v| v > 0.0)
                && sample(&co, "tipx_peer_sync_rounds_total", &[("state", "MX")])
                    .is_some_and(|v| v >= 1.0)
        }),
        "CO's metrics never showed MX's three alerts:\n{}",
        scrape(co_port)
    );
    // Counts only: no title of any record.
    assert!(!mx_page.contains("alert 0") && !scrape(co_port).contains("alert 1"));
}
