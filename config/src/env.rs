//! `TIPX_<SECTION>_<KEY>` environment overrides, one variable for every key in [`KEYS`].
//!
//! Lists are comma-separated (`TIPX_EXCHANGE_PARTNERS=CO,PE`); an empty value empties a list
//! or unsets an optional key. Other `TIPX_*` variables (the CLI's `TIPX_DATA_DIR`,
//! `TIPX_CONFIG`, `TIPX_API_TOKEN`, `TIPX_LOG`, or a misspelling) are ignored. The overrides
//! take a list of pairs, so tests hand in a fake environment.

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use tipx_protocol::{PublicKey, StateCode};

use crate::{
    Config, Error, KEYS, LogFormat,
    validate::{check_bootstrap, check_multiaddr},
};

/// The prefix of every variable this crate reads.
const PREFIX: &str = "TIPX_";

/// The environment variable that overrides `key`: `network.listen` → `TIPX_NETWORK_LISTEN`.
pub fn env_var(key: &str) -> String {
    format!("{PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

impl Config {
    /// Applies the `TIPX_*` variables among `vars` over the values read from the file.
    ///
    /// Variables that name no key are ignored. A value the key cannot take is an error
    /// naming the variable. Rules across keys are left to [`validate`](Self::validate).
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), Error> {
        for (var, value) in vars {
            if !var.starts_with(PREFIX) {
                continue;
            }
            let Some(key) = KEYS.iter().find(|key| env_var(key) == var) else {
                continue;
            };
            self.set(key, &value)
                .map_err(|message| Error::Env { var, message })?;
        }
        Ok(())
    }

    /// Sets `key` from its text form, as in an environment variable.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "node.state" => self.node.state = optional(value, parse_state)?,
            "node.key_file" => self.node.key_file = PathBuf::from(value),
            "node.name" => self.node.name = value.to_string(),
            "network.listen" => self.network.listen = list(value, addr(check_multiaddr))?,
            "network.external" => self.network.external = list(value, addr(check_multiaddr))?,
            "network.bootstrap" => self.network.bootstrap = list(value, addr(check_bootstrap))?,
            "network.idle_timeout_secs" => self.network.idle_timeout_secs = number(value)?,
            "network.redial_max_backoff_secs" => {
                self.network.redial_max_backoff_secs = number(value)?
            }
            "network.max_connections" => self.network.max_connections = number(value)?,
            "api.listen" => self.api.listen = parse_socket_addr(value)?,
            "api.token_file" => self.api.token_file = PathBuf::from(value),
            "store.cache_capacity_mib" => self.store.cache_capacity_mib = number(value)?,
            "store.max_record_bytes" => self.store.max_record_bytes = number(value)?,
            "store.audit_retention_days" => self.store.audit_retention_days = number(value)?,
            "store.min_free_mib" => self.store.min_free_mib = number(value)?,
            "store.full_text_index" => self.store.full_text_index = boolean(value)?,
            "federation.anchor" => self.federation.anchor = optional(value, parse_key)?,
            "federation.pinned_keys" => self.federation.pinned_keys = list(value, parse_key)?,
            "exchange.partners" => self.exchange.partners = list(value, parse_state)?,
            "exchange.sync_interval_secs" => self.exchange.sync_interval_secs = number(value)?,
            "exchange.page_max_records" => self.exchange.page_max_records = number(value)?,
            "exchange.page_max_bytes" => self.exchange.page_max_bytes = number(value)?,
            "exchange.daily_records_per_author" => {
                self.exchange.daily_records_per_author = number(value)?
            }
            "exchange.daily_mib_per_author" => self.exchange.daily_mib_per_author = number(value)?,
            "log.format" => {
                self.log.format = value.parse::<LogFormat>().map_err(|e| e.to_string())?
            }
            "log.level" => self.log.level = value.to_string(),
            "metrics.listen" => self.metrics.listen = optional(value, parse_socket_addr)?,
            "report.activity" => self.report.activity = value.parse()?,
            "report.language" => self.report.language = value.trim().to_string(),
            other => return Err(format!("{other} has no environment override")),
        }
        Ok(())
    }
}

fn optional<T>(value: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// Comma-separated items, blanks around them dropped; an empty value is an empty list.
fn list<T>(value: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect()
}

fn addr(check: fn(&str) -> Result<(), String>) -> impl Fn(&str) -> Result<String, String> {
    move |s| check(s).map(|()| s.to_string())
}

fn number<T: FromStr>(value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number in range"))
}

fn boolean(value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{value:?} is neither true nor false")),
    }
}

fn parse_state(value: &str) -> Result<StateCode, String> {
    value.parse::<StateCode>().map_err(|e| e.to_string())
}

fn parse_key(value: &str) -> Result<PublicKey, String> {
    PublicKey::from_peer_id(value).map_err(|e| e.to_string())
}

fn parse_socket_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not an address (host:port)"))
}

#[cfg(test)]
mod tests {
    use tipx_protocol::Keypair;

    use super::*;
    use crate::LogFormat;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn apply(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let mut c = Config::for_new_node("MX".parse().unwrap(), 7100, 7180);
        c.apply_env(env(pairs))?;
        Ok(c)
    }

    #[test]
    fn overrides_are_applied() {
        let anchor = Keypair::from_secret(&[3; 32]).unwrap().public();
        let c = apply(&[
            ("TIPX_NODE_STATE", "co"),
            ("TIPX_API_LISTEN", "127.0.0.1:7999"),
            (
                "TIPX_NETWORK_LISTEN",
                "/ip4/0.0.0.0/tcp/7200, /ip4/0.0.0.0/udp/7200/quic-v1",
            ),
            ("TIPX_EXCHANGE_PARTNERS", "MX,PE"),
            ("TIPX_FEDERATION_ANCHOR", &anchor.to_string()),
            ("TIPX_LOG_FORMAT", "json"),
            ("TIPX_STORE_CACHE_CAPACITY_MIB", "32"),
            ("TIPX_NETWORK_EXTERNAL", ""),
        ])
        .unwrap();
        assert_eq!(c.node.state, Some("CO".parse().unwrap()));
        assert_eq!(c.api.listen, "127.0.0.1:7999".parse().unwrap());
        assert_eq!(
            c.network.listen,
            ["/ip4/0.0.0.0/tcp/7200", "/ip4/0.0.0.0/udp/7200/quic-v1"]
        );
        assert_eq!(
            c.exchange.partners,
            ["MX".parse().unwrap(), "PE".parse().unwrap()]
        );
        assert_eq!(c.federation.anchor, Some(anchor));
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.store.cache_capacity_mib, 32);
        assert!(c.network.external.is_empty());
        c.validate().unwrap();
    }

    #[test]
    fn a_switch_takes_true_or_false_and_names_its_variable_otherwise() {
        let c = apply(&[("TIPX_STORE_FULL_TEXT_INDEX", "false")]).unwrap();
        assert!(!c.store.full_text_index);
        let e = apply(&[("TIPX_STORE_FULL_TEXT_INDEX", "no")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("TIPX_STORE_FULL_TEXT_INDEX") && e.contains("neither true nor false"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_value_unsets_an_optional_key() {
        let c = apply(&[("TIPX_FEDERATION_ANCHOR", ""), ("TIPX_NODE_STATE", " ")]).unwrap();
        assert_eq!(c.federation.anchor, None);
        assert_eq!(c.node.state, None);
    }

    #[test]
    fn every_key_has_a_variable() {
        let mut c = Config::default();
        for key in KEYS {
            // Whatever the value does, it must not be "no override".
            if let Err(e) = c.set(key, "1") {
                assert!(!e.contains("no environment override"), "{key}: {e}");
            }
        }
    }

    #[test]
    fn other_variables_are_ignored() {
        let base = apply(&[]).unwrap();
        let c = apply(&[
            ("TIPX_DATA_DIR", "/tmp/x"),
            ("TIPX_CONFIG", "/etc/tipx.toml"),
            ("TIPX_API_TOKEN", "secret"),
            ("TIPX_LOG", "debug"),
            ("TIPX_NODE_STAT", "CO"),
            ("PATH", "/usr/bin"),
        ])
        .unwrap();
        assert_eq!(c, base);
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let cases = [
            (
                "TIPX_API_LISTEN",
                "abc",
                "TIPX_API_LISTEN: \"abc\" is not an address (host:port)",
            ),
            (
                "TIPX_NODE_STATE",
                "MEX",
                "TIPX_NODE_STATE: `MEX` is not a state code",
            ),
            (
                "TIPX_EXCHANGE_PARTNERS",
                "CO,P3",
                "TIPX_EXCHANGE_PARTNERS: `P3` is not a state code",
            ),
            (
                "TIPX_NETWORK_LISTEN",
                "/ip4/0.0.0.0/tcp/1,tcp/7100",
                "TIPX_NETWORK_LISTEN: \"tcp/7100\" is not a multiaddr",
            ),
            (
                "TIPX_NETWORK_BOOTSTRAP",
                "/ip4/1.2.3.4/tcp/7100",
                "TIPX_NETWORK_BOOTSTRAP: \"/ip4/1.2.3.4/tcp/7100\" has no /p2p/",
            ),
            (
                "TIPX_STORE_MAX_RECORD_BYTES",
                "-5",
                "TIPX_STORE_MAX_RECORD_BYTES: \"-5\" is not a whole number",
            ),
            (
                "TIPX_NETWORK_MAX_CONNECTIONS",
                "99999999999",
                "TIPX_NETWORK_MAX_CONNECTIONS: \"99999999999\" is not a whole number in range",
            ),
            (
                "TIPX_LOG_FORMAT",
                "xml",
                "TIPX_LOG_FORMAT: \"xml\" is not a log format (expected text or json)",
            ),
            (
                "TIPX_FEDERATION_ANCHOR",
                "nope",
                "TIPX_FEDERATION_ANCHOR: `nope` is not an ed25519 peer id",
            ),
        ];
        for (var, value, expected) in cases {
            let err = apply(&[(var, value)]).expect_err(var);
            assert!(
                matches!(&err, Error::Env { var: v, .. } if v == var),
                "{err:?}"
            );
            assert!(err.to_string().starts_with(expected), "{err}");
        }
    }

    #[test]
    fn variable_names_follow_the_keys() {
        assert_eq!(
            env_var("network.redial_max_backoff_secs"),
            "TIPX_NETWORK_REDIAL_MAX_BACKOFF_SECS"
        );
        assert_eq!(env_var("api.listen"), "TIPX_API_LISTEN");
    }
}
