//! The admin API's guards, against a real `tipx run` over raw TCP: the token is checked
//! before a body is read, bodies are small except on the import route, a `Host` that is
//! not a loopback name is refused (DNS rebinding), and a client that stalls is cut off.

use std::{
    fs,
    io::{BufRead, BufReader, ErrorKind, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use tipx_tests::Node;
use tipx_tests::alone_running as running;

/// How long a test waits for a status line the daemon should send at once: far above a
/// local answer, far below the CLI's own timeouts.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Ten MiB: a body the daemon must never wait for when the token is wrong.
const TEN_MIB: usize = 10 << 20;

fn token(node: &Node) -> String {
    fs::read_to_string(node.dir.join("api.token"))
        .unwrap()
        .trim()
        .to_string()
}

/// Sends `head` (request line and headers, blank line included) and, optionally, `body`;
/// returns the status line the daemon answers within `wait`, or why there was none.
fn send(node: &Node, head: &str, body: &[u8], wait: Duration) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", node.api_port)).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    if !body.is_empty() {
        s.write_all(body)
            .map_err(|e| format!("writing the body: {e}"))?;
    }
    let mut line = String::new();
    match BufReader::new(s).read_line(&mut line) {
        Ok(0) => Err("the daemon closed the connection without answering".into()),
        Ok(_) => Ok(line.trim_end().to_string()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(format!("no answer within {wait:?}"))
        }
        Err(e) => Err(format!("reading the answer: {e}")),
    }
}

/// The head of a POST announcing `len` body bytes, with `auth` as the Authorization header.
fn post_head(node: &Node, path: &str, auth: Option<&str>, len: usize) -> String {
    let auth = auth
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n",
        node.api_port
    )
}

fn get_status_with_host(node: &Node, host: &str) -> Result<String, String> {
    let head = format!(
        "GET /v1/status HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Connection: close\r\n\r\n",
        token(node)
    );
    send(node, &head, b"", ANSWER_WAIT)
}

#[test]
fn an_unauthenticated_request_is_refused_before_its_body_is_sent() {
    let (_tmp, node) = running("MX");
    // Only the head is sent: a daemon that waited for the 10 MiB would not answer.
    for path in ["/v1/partners/CO/request", "/v1/records", "/v1/roster/add"] {
        for auth in [None, Some("not-the-token")] {
            let head = post_head(&node, path, auth, TEN_MIB);
            let line = send(&node, &head, b"", ANSWER_WAIT)
                .unwrap_or_else(|e| panic!("POST {path} with token {auth:?}: {e}"));
            assert!(line.contains(" 401 "), "POST {path}: {line}");
        }
    }
    // A consent request would have published a signed grant.
    let records = node.records(&["--all"]);
    assert!(records.is_empty(), "records were published: {records:?}");
}

#[test]
fn an_oversized_body_to_a_small_route_is_refused_with_413_before_it_is_sent() {
    let (_tmp, node) = running("MX");
    let token = token(&node);
    for path in ["/v1/partners/CO/request", "/v1/roster/add"] {
        let head = post_head(&node, path, Some(&token), 1 << 20);
        let line = send(&node, &head, b"", ANSWER_WAIT)
            .unwrap_or_else(|e| panic!("POST {path} with 1 MiB: {e}"));
        assert!(line.contains(" 413 "), "POST {path} with 1 MiB: {line}");
    }
    // The import route still takes a body larger than the small routes' limit.
    let mut body = vec![b' '; 200 << 10];
    body[0] = b'[';
    *body.last_mut().unwrap() = b']';
    let head = post_head(&node, "/v1/records", Some(&token), body.len());
    let line = send(&node, &head, &body, ANSWER_WAIT).unwrap();
    assert!(!line.contains(" 413 "), "an import of 200 KiB: {line}");
    assert!(line.contains(" 200 "), "an empty import of 200 KiB: {line}");
}

#[test]
fn a_host_that_is_not_a_loopback_name_is_refused_even_with_the_token() {
    let (_tmp, node) = running("MX");
    let port = node.api_port;
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
    ] {
        let line = get_status_with_host(&node, &host).unwrap();
        assert!(
            line.contains(" 421 ") || line.contains(" 403 "),
            "Host: {host}: {line}"
        );
    }
    for host in [
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_string(),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let line = get_status_with_host(&node, &host).unwrap();
        assert!(line.contains(" 200 "), "Host: {host}: {line}");
    }
}

#[test]
fn a_client_that_stalls_in_its_request_line_is_disconnected() {
    let (_tmp, node) = running("MX");
    let bound = tipx_node::api::HEADER_READ_TIMEOUT + Duration::from_secs(5);
    let started = Instant::now();
    let outcome = send(&node, "GET /v1/sta", b"", bound);
    let waited = started.elapsed();
    match outcome {
        Err(e) if e.contains("closed the connection") || e.contains("reset") => {}
        Ok(line) if line.contains(" 408 ") => {}
        other => panic!("after {waited:?} the stalled connection gave {other:?}"),
    }
    assert!(waited < bound, "disconnected only after {waited:?}");
    // The daemon still serves others.
    node.tipx(["status"]).ok();
}

#[test]
fn the_command_line_still_works_through_the_guards() {
    let (_tmp, node) = running("MX");
    let status = node.tipx(["status"]).ok();
    assert!(status.stdout.contains("MX"), "{status}");
    assert!(node.records(&["--all"]).is_empty());
}

#[test]
fn a_request_without_host_from_an_http_1_0_client_is_answered() {
    let (_tmp, node) = running("MX");
    let head = format!(
        "GET /v1/status HTTP/1.0\r\nAuthorization: Bearer {}\r\n\r\n",
        token(&node)
    );
    let line = send(&node, &head, b"", ANSWER_WAIT).unwrap();
    assert!(line.contains(" 200 "), "{line}");
}

#[test]
fn sigterm_stops_the_daemon_even_while_a_client_stalls() {
    let (_tmp, mut node) = running("MX");
    let mut stalled = TcpStream::connect(("127.0.0.1", node.api_port)).unwrap();
    stalled
        .write_all(b"POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let status = node.stop();
    assert!(status.success(), "`tipx run` exited with {status}");
}
