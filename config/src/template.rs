//! The commented configuration file that `tipx init` writes: every key with a one-line
//! comment, holding the values of [`Config::for_new_node`].
//!
//! The values are taken from the defaults in `model.rs`, so the template cannot drift from
//! them; a test checks that it parses back to `for_new_node`.

use tipx_protocol::StateCode;

use crate::Config;

impl Config {
    /// The commented TOML file for a new node of `state`, listening for peers on
    /// `p2p_port` (TCP and QUIC) and for the admin API on `127.0.0.1:api_port`.
    ///
    /// It parses back to [`Config::for_new_node`] with the same arguments.
    pub fn init_template(state: StateCode, p2p_port: u16, api_port: u16) -> String {
        Self::for_new_node(state, p2p_port, api_port).to_template()
    }

    /// This configuration as the commented TOML file `tipx init` writes; it parses back
    /// to `self`. An unset anchor is written as a commented example.
    pub fn to_template(&self) -> String {
        let c = self;
        let (node, net, api, store, ex, log) =
            (&c.node, &c.network, &c.api, &c.store, &c.exchange, &c.log);
        let state = node.state.map(|s| s.to_string()).unwrap_or_default();
        let anchor = match &c.federation.anchor {
            Some(a) => format!("anchor = {}", quote(&a.to_string())),
            None => "# anchor = \"12D3KooW…\"".to_string(),
        };
        format!(
            r#"# tipx node configuration, written by `tipx init`.
# Every key is optional: a missing key takes its default (see docs/CONFIG.md).
# Each key can be overridden by the variable TIPX_<SECTION>_<KEY>, e.g. TIPX_API_LISTEN.

[node]
# The state this node speaks for: ISO 3166-1 alpha-2 code, or OAS for the coordinator.
state = {state}
# The node's secret key, relative to the data directory unless absolute; keep it 0600.
key_file = {key_file}
# A label for status output and logs; empty means none.
name = {name}

[network]
# Multiaddrs to listen on for peers: TCP and QUIC on the p2p port.
listen = {listen}
# Addresses to announce when the observed one is not reachable (NAT, port forward).
external = {external}
# The coordinator's node, e.g. ["/dns4/coordinator.example/tcp/7100/p2p/12D3KooW…"].
bootstrap = {bootstrap}
# Seconds a connection may carry nothing before it is closed.
idle_timeout_secs = {idle}
# Longest delay, in seconds, between redials of a lost peer.
redial_max_backoff_secs = {backoff}
# Most connections open at once, inbound and outbound.
max_connections = {max_connections}

[api]
# The local admin API (host:port); it must stay on a loopback address.
listen = {api_listen}
# The API token file, relative to the data directory unless absolute; keep it 0600.
token_file = {token_file}

[store]
# Bound of the database page cache, in MiB.
cache_capacity_mib = {cache}
# Largest signed record (header and body) accepted, in bytes.
max_record_bytes = {max_record}
# Days the audit log is kept (older entries are deleted); 400 keeps a year's report.
audit_retention_days = {audit_days}
# Free space kept on the store's disk, in MiB: writes that would leave less are refused.
min_free_mib = {min_free}
# Keep the full-text search index (`records list --text`); false: searches read every body.
full_text_index = {full_text}

[federation]
# The coordinator's anchor key that signs the roster (12D3KooW…); unset = unpinned.
{anchor}
# The only node keys a roster may list for this state (12D3KooW…); empty = no pinning.
# pinned_keys = ["12D3KooW…"]

[exchange]
# States to exchange records with (consent granted at start-up unless you revoked it), e.g. ["CO", "PE"].
partners = {partners}
# Seconds between sync rounds with each connected partner.
sync_interval_secs = {sync}
# Most records in one sync page.
page_max_records = {page_records}
# Most bytes of records in one sync page; at least store.max_record_bytes.
page_max_bytes = {page_bytes}
# Most records taken from peers per author per day (the rest waits a day).
daily_records_per_author = {daily_records}
# Most MiB of records taken from peers per author per day.
daily_mib_per_author = {daily_mib}

[log]
# Log format: text for a terminal, json for a log collector.
format = {format}
# An EnvFilter directive, e.g. "info" or "info,tipx_node=debug".
level = {level}

[metrics]
# Serve Prometheus metrics (counts only) on host:port; unset = off. No token: keep it on
# loopback or a management network.
{metrics}

[report]
# The daily activity summary for the coordinator (counts only, never a record's content):
# full, totals (counts by kind only) or off. A state with several nodes keeps it on one.
activity = {activity}
# The language of `tipx report`: en, es, fr or pt.
language = {report_language}
"#,
            state = quote(&state),
            key_file = quote(&node.key_file.display().to_string()),
            name = quote(&node.name),
            listen = array(&net.listen),
            external = array(&net.external),
            bootstrap = array(&net.bootstrap),
            idle = net.idle_timeout_secs,
            backoff = net.redial_max_backoff_secs,
            max_connections = net.max_connections,
            api_listen = quote(&api.listen.to_string()),
            token_file = quote(&api.token_file.display().to_string()),
            cache = store.cache_capacity_mib,
            max_record = store.max_record_bytes,
            audit_days = store.audit_retention_days,
            min_free = store.min_free_mib,
            full_text = store.full_text_index,
            partners = array(&ex.partners),
            sync = ex.sync_interval_secs,
            page_records = ex.page_max_records,
            page_bytes = ex.page_max_bytes,
            daily_records = ex.daily_records_per_author,
            daily_mib = ex.daily_mib_per_author,
            format = quote(log.format.as_str()),
            level = quote(&log.level),
            activity = quote(c.report.activity.as_str()),
            report_language = quote(&c.report.language),
            metrics = c.metrics.listen.map_or_else(
                || "# listen = \"127.0.0.1:9180\"".to_string(),
                |a| format!("listen = {}", quote(&a.to_string()))
            ),
        )
    }
}

/// A TOML basic string, escaped as needed.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A one-line TOML array of strings.
fn array(items: &[impl ToString]) -> String {
    let items: Vec<String> = items.iter().map(|i| quote(&i.to_string())).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_back_to_for_new_node() {
        for (state, p2p, api) in [("MX", 7100, 7180), ("OAS", 7300, 7381), ("co", 1, 65535)] {
            let state: StateCode = state.parse().unwrap();
            let text = Config::init_template(state, p2p, api);
            let parsed = Config::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(parsed, Config::for_new_node(state, p2p, api), "{text}");
        }
    }

    #[test]
    fn a_member_template_with_anchor_bootstrap_and_partners_parses_back() {
        let mut c = Config::for_new_node("MX".parse().unwrap(), 7100, 7180);
        let anchor = tipx_protocol::Keypair::from_secret(&[7; 32])
            .unwrap()
            .public();
        c.federation.anchor = Some(anchor);
        c.network.bootstrap = vec![format!("/ip4/192.0.2.1/tcp/7100/p2p/{anchor}")];
        c.exchange.partners = vec!["CO".parse().unwrap()];
        let text = c.to_template();
        assert!(
            text.contains(&format!("\nanchor = \"{anchor}\"\n")),
            "{text}"
        );
        assert_eq!(Config::from_toml_str(&text).unwrap(), c, "{text}");
    }

    #[test]
    fn every_key_in_the_template_has_a_comment_above() {
        let text = Config::init_template("MX".parse().unwrap(), 7100, 7180);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let is_key = line.contains(" = ") && !line.starts_with('#');
            if is_key || line.starts_with("# anchor") {
                assert!(lines[i - 1].starts_with("# "), "no comment above {line:?}");
            }
        }
        for key in crate::KEYS {
            let (_, name) = key.split_once('.').unwrap();
            assert!(
                lines.iter().any(|l| l
                    .trim_start_matches("# ")
                    .starts_with(&format!("{name} = "))),
                "{key} missing from the template"
            );
        }
    }
}
