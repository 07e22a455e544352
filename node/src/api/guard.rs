//! The checks every admin API request passes before a route sees it, outermost first:
//! a time limit on the whole request, a loopback `Host`, the token, and a body size per
//! route. Each refusal is decided from the request's head, before any body is read.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::{
    extract::{Request, State},
    http::{
        StatusCode,
        header::{CONTENT_LENGTH, HOST},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::server::Failure;

/// Answers 408 when the request, body and work included, takes longer than
/// [`super::REQUEST_TIMEOUT`]. Work already handed to a blocking thread still finishes.
pub async fn time_limit(req: Request, next: Next) -> Response {
    match tokio::time::timeout(super::REQUEST_TIMEOUT, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Failure(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request did not finish within {} s; if it was an import, list the \
                 records before sending it again",
                super::REQUEST_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Refuses (421) a request whose `Host` is not a loopback name: a web page on the
/// operator's machine can reach 127.0.0.1 through a name of its own that resolves there
/// (DNS rebinding), and its requests then carry that name.
///
/// A request without `Host` (an HTTP/1.0 client) is allowed: every browser sends `Host`,
/// so its absence cannot be a page rebinding a name, and the token still guards it.
pub async fn require_loopback_host(req: Request, next: Next) -> Response {
    let mut hosts = req.headers().get_all(HOST).iter();
    let refused = match (hosts.next(), hosts.next()) {
        (None, _) => None,
        (Some(host), None) => match host.to_str() {
            Ok(h) if is_loopback_host(h) => None,
            Ok(h) => Some(h.to_string()),
            Err(_) => Some("(not text)".to_string()),
        },
        (Some(_), Some(_)) => Some("(more than one Host header)".to_string()),
    };
    match refused {
        None => next.run(req).await,
        Some(host) => {
            tracing::warn!(%host, "admin API request refused: Host is not a loopback name");
            Failure(
                StatusCode::MISDIRECTED_REQUEST,
                "the admin API answers only requests addressed to 127.0.0.1, localhost or \
                 [::1]; this one named another host, as a web page rebinding a name would"
                    .into(),
            )
            .into_response()
        }
    }
}

/// Whether `host` (a `Host` header: name, optional `:port`) names this machine's loopback:
/// `localhost`, an IPv4 loopback address, or `[::1]`.
fn is_loopback_host(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, port)) if port.is_empty() || port.strip_prefix(':').is_some_and(is_port) => {
                ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
            }
            _ => false,
        };
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => host,
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(s: &str) -> bool {
    (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses (401) a request without the right `authorization: Bearer <token>`, compared in
/// constant time, before its body is read and before any route runs.
pub async fn require_token(
    State(token): State<std::sync::Arc<String>>,
    req: Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get(super::TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        next.run(req).await
    } else {
        Failure(
            StatusCode::UNAUTHORIZED,
            "the API token was refused: use the token in the data directory's api.token".into(),
        )
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses (413) a request whose `Content-Length` exceeds `max`, before its body is read. A
/// body sent without a length is cut at `max` by axum's `DefaultBodyLimit` as it is read.
pub async fn limit_body(State(max): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > max as u64 => Failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is {len} bytes; this route takes at most {max}"),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_names_with_or_without_a_port_are_accepted() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:7180",
            "127.0.0.2:7180",
            "localhost",
            "LOCALHOST:7180",
            "[::1]",
            "[::1]:7180",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_names_and_malformed_hosts_are_refused() {
        for host in [
            "evil.example",
            "evil.example:7180",
            "localhost.evil.example",
            "127.0.0.1.evil.example:7180",
            "10.0.0.1:7180",
            "0.0.0.0:7180",
            "[::2]:7180",
            "[::1]x",
            "::1",
            "127.0.0.1:",
            "127.0.0.1:port",
            "localhost.",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
