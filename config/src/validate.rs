//! The rules a configuration must keep beyond its types: a state is set, addresses look like
//! multiaddrs, the admin API stays on loopback, limits are positive and fit each other.
//!
//! The checks on single values (`check_*`) return the problem without the key, so that the
//! environment overrides can report them under the variable's name instead.

use tipx_protocol::PublicKey;

use crate::{Config, Error};

impl Config {
    /// Checks the rules that types cannot express; the first broken one is returned, naming
    /// its key.
    pub fn validate(&self) -> Result<(), Error> {
        let Some(state) = self.node.state else {
            return Err(Error::invalid(
                "node.state",
                "missing — set it to your state code (e.g. MX)",
            ));
        };
        if self.node.key_file.as_os_str().is_empty() {
            return Err(Error::invalid(
                "node.key_file",
                "empty — the default is node.key",
            ));
        }

        let net = &self.network;
        check_list("network.listen", &net.listen, check_multiaddr)?;
        check_list("network.external", &net.external, check_multiaddr)?;
        check_list("network.bootstrap", &net.bootstrap, check_bootstrap)?;
        check_anchor(self, state)?;
        positive("network.idle_timeout_secs", net.idle_timeout_secs)?;
        positive(
            "network.redial_max_backoff_secs",
            net.redial_max_backoff_secs,
        )?;
        positive("network.max_connections", u64::from(net.max_connections))?;

        let listen = self.api.listen;
        if !listen.ip().is_loopback() {
            return Err(Error::invalid(
                "api.listen",
                format!(
                    "{listen} is not a loopback address — the admin API controls the node and \
                     must listen on 127.0.0.1 or [::1]; reach it remotely through SSH"
                ),
            ));
        }
        if self.api.token_file.as_os_str().is_empty() {
            return Err(Error::invalid(
                "api.token_file",
                "empty — the default is api.token",
            ));
        }

        positive("store.cache_capacity_mib", self.store.cache_capacity_mib)?;
        positive("store.max_record_bytes", self.store.max_record_bytes as u64)?;
        positive(
            "store.audit_retention_days",
            self.store.audit_retention_days,
        )?;

        let ex = &self.exchange;
        positive(
            "exchange.daily_records_per_author",
            ex.daily_records_per_author,
        )?;
        positive("exchange.daily_mib_per_author", ex.daily_mib_per_author)?;
        for (i, partner) in ex.partners.iter().enumerate() {
            if *partner == state {
                return Err(Error::invalid(
                    format!("exchange.partners[{i}]"),
                    format!("{partner} is this node's own state (node.state); list other states"),
                ));
            }
            if ex.partners[..i].contains(partner) {
                return Err(Error::invalid(
                    format!("exchange.partners[{i}]"),
                    format!("{partner} is listed twice"),
                ));
            }
        }
        positive("exchange.sync_interval_secs", ex.sync_interval_secs)?;
        positive("exchange.page_max_records", ex.page_max_records as u64)?;
        if ex.page_max_bytes < self.store.max_record_bytes {
            return Err(Error::invalid(
                "exchange.page_max_bytes",
                format!(
                    "{} is smaller than store.max_record_bytes ({}), so the largest record \
                     could never be sent",
                    ex.page_max_bytes, self.store.max_record_bytes
                ),
            ));
        }

        if self.log.level.trim().is_empty() {
            return Err(Error::invalid(
                "log.level",
                "empty — use e.g. info or warn,tipx_node=debug",
            ));
        }
        if !crate::model::REPORT_LANGUAGES.contains(&self.report.language.as_str()) {
            return Err(Error::invalid(
                "report.language",
                format!(
                    "{:?} is not a language of the report — use en, es, fr or pt",
                    self.report.language
                ),
            ));
        }
        Ok(())
    }
}

fn check_list(
    key: &str,
    items: &[String],
    check: fn(&str) -> Result<(), String>,
) -> Result<(), Error> {
    for (i, item) in items.iter().enumerate() {
        check(item).map_err(|message| Error::invalid(format!("{key}[{i}]"), message))?;
    }
    Ok(())
}

fn positive(key: &str, value: u64) -> Result<(), Error> {
    if value == 0 {
        return Err(Error::invalid(key, "must be at least 1"));
    }
    Ok(())
}

/// A multiaddr is kept as text here (no libp2p in this crate); it must at least start
/// with `/`. The node parses it fully when it listens or dials.
pub(crate) fn check_multiaddr(addr: &str) -> Result<(), String> {
    if addr.starts_with('/') && addr.len() > 1 {
        Ok(())
    } else {
        Err(format!(
            "{addr:?} is not a multiaddr (it must start with /, e.g. /ip4/0.0.0.0/tcp/7100)"
        ))
    }
}

/// A bootstrap address is a multiaddr that names the expected node: `…/p2p/<peer id>`.
pub(crate) fn check_bootstrap(addr: &str) -> Result<(), String> {
    check_multiaddr(addr)?;
    bootstrap_key(addr)?;
    Ok(())
}

/// The key a bootstrap address names.
fn bootstrap_key(addr: &str) -> Result<PublicKey, String> {
    let Some((_, after)) = addr.rsplit_once("/p2p/") else {
        return Err(format!(
            "{addr:?} has no /p2p/<peer id>; a bootstrap address names the node it expects, \
             e.g. /dns4/coordinator.example/tcp/7100/p2p/12D3KooW…"
        ));
    };
    let peer = after.split('/').next().unwrap_or_default();
    PublicKey::from_peer_id(peer).map_err(|e| format!("{addr:?}: {e}"))
}

/// A member that joins a federation pins the coordinator's key, and the bootstrap peer it
/// dials is that coordinator: a mismatch means one of the two was copied wrong, and the
/// node would trust a roster from the wrong key (or refuse the right one).
fn check_anchor(config: &Config, state: tipx_protocol::StateCode) -> Result<(), Error> {
    let bootstrap = &config.network.bootstrap;
    match config.federation.anchor {
        None if !state.is_coordinator() && !bootstrap.is_empty() => Err(Error::invalid(
            "federation.anchor",
            "missing — a member that joins a federation (network.bootstrap is set) must pin \
             the coordinator's key: set it to the peer id that `tipx id` prints on the \
             coordinator's node",
        )),
        Some(anchor) if !bootstrap.is_empty() => {
            let keys: Vec<PublicKey> = bootstrap
                .iter()
                .filter_map(|a| bootstrap_key(a).ok())
                .collect();
            if keys.contains(&anchor) {
                return Ok(());
            }
            Err(Error::invalid(
                "network.bootstrap",
                format!(
                    "no bootstrap address ends with the anchor's peer id (federation.anchor = \
                     {anchor}, bootstrap names {}): the bootstrap peer is the coordinator's \
                     node, whose key is the anchor, so one of the two is wrong — compare both \
                     with `tipx id` on the coordinator's node",
                    keys.iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use tipx_protocol::{Keypair, StateCode};

    use super::*;

    fn member() -> Config {
        Config::for_new_node("MX".parse().unwrap(), 7100, 7180)
    }

    fn invalid(config: &Config) -> String {
        let err = config.validate().expect_err("should be refused");
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
        err.to_string()
    }

    fn peer_id(seed: u8) -> String {
        Keypair::from_secret(&[seed; 32])
            .unwrap()
            .public()
            .to_string()
    }

    #[test]
    fn a_new_node_is_valid() {
        member().validate().unwrap();
    }

    #[test]
    fn the_state_is_required() {
        assert_eq!(
            invalid(&Config::default()),
            "node.state: missing — set it to your state code (e.g. MX)"
        );
    }

    #[test]
    fn the_api_stays_on_loopback() {
        let mut c = member();
        c.api.listen = "0.0.0.0:7180".parse().unwrap();
        assert!(invalid(&c).starts_with("api.listen: 0.0.0.0:7180 is not a loopback address"));
        c.api.listen = "[::1]:7180".parse().unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn multiaddrs_are_checked_by_key_and_index() {
        let mut c = member();
        c.network.listen.push("tcp/7100".into());
        assert_eq!(
            invalid(&c),
            "network.listen[2]: \"tcp/7100\" is not a multiaddr (it must start with /, e.g. \
             /ip4/0.0.0.0/tcp/7100)"
        );
        let mut c = member();
        c.network.external = vec![String::new()];
        assert!(invalid(&c).starts_with("network.external[0]: \"\" is not a multiaddr"));
    }

    #[test]
    fn bootstrap_addresses_name_a_valid_peer() {
        let mut c = member();
        c.network.bootstrap = vec!["/ip4/10.0.0.1/tcp/7100".into()];
        assert!(
            invalid(&c)
                .starts_with("network.bootstrap[0]: \"/ip4/10.0.0.1/tcp/7100\" has no /p2p/")
        );
        c.network.bootstrap = vec!["/ip4/10.0.0.1/tcp/7100/p2p/12D3KooWnope".into()];
        assert!(invalid(&c).contains("is not an ed25519 peer id"));
        c.network.bootstrap = vec![format!("/ip4/10.0.0.1/tcp/7100/p2p/{}", peer_id(1))];
        c.federation.anchor = Some(peer_id(1).parse().unwrap());
        c.validate().unwrap();
    }

    #[test]
    fn a_member_with_a_bootstrap_pins_that_coordinator() {
        let mut c = member();
        c.network.bootstrap = vec![format!("/ip4/10.0.0.1/tcp/7100/p2p/{}", peer_id(1))];
        c.federation.anchor = None;
        assert!(
            invalid(&c).starts_with("federation.anchor: missing — a member that joins"),
            "{}",
            invalid(&c)
        );
        c.federation.anchor = Some(peer_id(2).parse().unwrap());
        let e = invalid(&c);
        assert!(
            e.starts_with("network.bootstrap: no bootstrap address ends with the anchor's peer id"),
            "{e}"
        );
        assert!(e.contains(&peer_id(1)) && e.contains(&peer_id(2)), "{e}");
        c.federation.anchor = Some(peer_id(1).parse().unwrap());
        c.validate().unwrap();
    }

    #[test]
    fn partners_exclude_the_own_state_and_repeats() {
        let mut c = member();
        let co: StateCode = "CO".parse().unwrap();
        c.exchange.partners = vec![co, "MX".parse().unwrap()];
        assert!(invalid(&c).starts_with("exchange.partners[1]: MX is this node's own state"));
        c.exchange.partners = vec![co, co];
        assert_eq!(invalid(&c), "exchange.partners[1]: CO is listed twice");
    }

    #[test]
    fn limits_are_positive_and_fit() {
        let mut c = member();
        c.exchange.sync_interval_secs = 0;
        assert_eq!(
            invalid(&c),
            "exchange.sync_interval_secs: must be at least 1"
        );
        let mut c = member();
        c.network.max_connections = 0;
        assert_eq!(invalid(&c), "network.max_connections: must be at least 1");
        let mut c = member();
        c.exchange.page_max_bytes = c.store.max_record_bytes - 1;
        assert!(invalid(&c).starts_with("exchange.page_max_bytes: 262143 is smaller"));
    }
}
