//! The configuration's network addresses: parsed once for `tipx config check` and for the
//! event loop, and a listen port checked before libp2p takes it.

use libp2p::{Multiaddr, PeerId, multiaddr::Protocol};
use tipx_config::Config;

/// The configuration's network addresses, parsed.
pub struct Addresses {
    /// `network.listen`.
    pub listen: Vec<Multiaddr>,
    /// `network.external`.
    pub external: Vec<Multiaddr>,
    /// `network.bootstrap`, each with the peer id it ends with.
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
}

impl Addresses {
    /// Parses the addresses of `config`; an error names the key and the entry.
    pub fn of(config: &Config) -> Result<Self, super::Error> {
        let parse = |key: &str, list: &[String]| -> Result<Vec<Multiaddr>, super::Error> {
            list.iter()
                .enumerate()
                .map(|(i, a)| {
                    a.parse().map_err(|e| {
                        super::Error::address(
                            format!("network.{key}[{i}]"),
                            format!(
                                "`{a}` is not an address ({e}); write it as \
                                 /ip4/203.0.113.7/tcp/7100"
                            ),
                        )
                    })
                })
                .collect()
        };
        let mut bootstrap = vec![];
        for (i, addr) in parse("bootstrap", &config.network.bootstrap)?
            .into_iter()
            .enumerate()
        {
            let Some(Protocol::P2p(pid)) = addr.iter().last() else {
                return Err(super::Error::address(
                    format!("network.bootstrap[{i}]"),
                    format!("`{addr}` must end with /p2p/<the coordinator's peer id>"),
                ));
            };
            bootstrap.push((pid, addr));
        }
        Ok(Self {
            listen: parse("listen", &config.network.listen)?,
            external: parse("external", &config.network.external)?,
            bootstrap,
        })
    }
}

/// Refuses a listen address whose port another process already holds. libp2p sets
/// `SO_REUSEPORT` on its listening sockets, so a second node on the same TCP port would
/// otherwise share it silently; a plain bind here fails instead.
pub(super) fn probe_port(addr: &Multiaddr) -> Result<(), String> {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(n) => port = Some((n, "tcp")),
            Protocol::Udp(n) => port = Some((n, "udp")),
            _ => {}
        }
    }
    let (Some(ip), Some((n, proto))) = (ip, port) else {
        return Ok(());
    };
    if n == 0 {
        return Ok(());
    }
    let at = std::net::SocketAddr::new(ip, n);
    let bound = if proto == "tcp" {
        std::net::TcpListener::bind(at).map(drop)
    } else {
        std::net::UdpSocket::bind(at).map(drop)
    };
    match bound {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "port {n}/{proto} on {ip} is already in use: is another tipx node (or another \
             program) running on it? Stop it, or choose another port in network.listen"
        )),
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => Err(format!(
            "{ip} is not an address of this machine: use 0.0.0.0 for every address, or one \
             this machine has"
        )),
        Err(e) => Err(format!("cannot listen on port {n}/{proto} on {ip}: {e}")),
    }
}

/// An error and its sources, joined with ": " (some libp2p errors print nothing themselves).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.retain(|p| !p.is_empty());
    parts.dedup();
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join(": ")
    }
}

/// Addresses kept per peer, at most. Identify and discovery report a peer's addresses as
/// the peer states them; beyond this many the oldest are forgotten, so a member that
/// announces a new list every time cannot grow this node's map (or its address cache).
pub(super) const MAX_ADDRS_PER_PEER: usize = 8;

/// Merges `reported` into `known` (newest last, at most [`MAX_ADDRS_PER_PEER`], only the
/// first of a longer report); returns whether `known` changed.
pub(super) fn merge(known: &mut Vec<Multiaddr>, reported: Vec<Multiaddr>) -> bool {
    let before = known.clone();
    for a in reported.into_iter().take(MAX_ADDRS_PER_PEER) {
        if let Some(i) = known.iter().position(|k| *k == a) {
            known.remove(i);
        }
        known.push(a);
    }
    let excess = known.len().saturating_sub(MAX_ADDRS_PER_PEER);
    known.drain(..excess);
    *known != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn a_peer_reporting_address_after_address_never_grows_the_list_past_the_cap() {
        let mut known = vec![addr(1)];
        assert!(!merge(&mut known, vec![addr(1)]), "nothing new");
        for round in 0..100u16 {
            let report = (0..50).map(|i| addr(1000 + round * 50 + i)).collect();
            merge(&mut known, report);
            assert!(known.len() <= MAX_ADDRS_PER_PEER, "{} kept", known.len());
        }
        assert!(merge(&mut known, vec![addr(9)]));
        assert_eq!(known.last(), Some(&addr(9)), "the newest is kept");
    }
}
