//! The configuration of a tipx node: a TOML file whose every key is optional with a
//! documented default, overridable by `TIPX_<SECTION>_<KEY>` environment variables.
//!
//! A typo is an error that names the key (``exchange.partner (line 5): unknown key — did you
//! mean `partners`?``), never a silently ignored setting. `docs/CONFIG.md` lists every key with
//! its type, default and variable.
//!
//! ```
//! let config = tipx_config::Config::from_toml_str(r#"
//!     [node]
//!     state = "MX"
//!     [exchange]
//!     partners = ["CO", "PE"]
//! "#).unwrap();
//! assert_eq!(config.api.listen.port(), tipx_config::DEFAULT_API_PORT);
//! ```
//!
//! # Layout
//!
//! * `model.rs` — the schema: [`Config`] and one struct per section, with their defaults.
//! * `parse.rs` — TOML text to [`Config`], errors naming the key and line.
//! * `env.rs` — the `TIPX_*` overrides ([`Config::apply_env`]).
//! * `validate.rs` — the rules types cannot express ([`Config::validate`]).
//! * `template.rs` — the commented file `tipx init` writes ([`Config::init_template`]).
//! * `error.rs` — [`Error`].

#![warn(missing_docs)]

mod env;
mod error;
mod model;
mod parse;
mod template;
mod validate;

use std::path::{Path, PathBuf};

use tipx_protocol::StateCode;

pub use crate::{
    env::env_var,
    error::{Error, Location},
    model::{
        ActivityDetail, Api, Config, DEFAULT_API_PORT, DEFAULT_P2P_PORT, Exchange, Federation,
        InvalidLogFormat, KEYS, Log, LogFormat, Network, Node, REPORT_LANGUAGES, Report, Store,
    },
};

impl Config {
    /// Parses and validates a configuration file's text.
    pub fn from_toml_str(text: &str) -> Result<Self, Error> {
        let config = parse::parse(text, None)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the file at `path`, applies the `TIPX_*` variables of this process, and
    /// validates the result.
    pub fn load(path: &Path) -> Result<Self, Error> {
        // Non-UTF-8 variables cannot be ours (names) or be read (values); skip them rather
        // than panic as `std::env::vars` would.
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Self::load_with_env(path, vars)
    }

    /// [`load`](Self::load) with the environment given as `vars` instead of the process's.
    pub fn load_with_env(
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = parse::parse(&text, Some(path))?;
        config.apply_env(vars)?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as TOML (without comments; see [`init_template`](Self::init_template)
    /// for a file meant to be read by people).
    ///
    /// # Panics
    ///
    /// If `node.key_file` or `api.token_file` is not UTF-8, which a configuration read from
    /// a file or the environment never is.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).expect("configuration paths are UTF-8")
    }

    /// The configuration `tipx init` starts a node with: the defaults, with `state`, peers
    /// on `p2p_port` (TCP and QUIC, every interface) and the admin API on
    /// `127.0.0.1:api_port`.
    pub fn for_new_node(state: StateCode, p2p_port: u16, api_port: u16) -> Self {
        let mut config = Self::default();
        config.node.state = Some(state);
        config.network.listen = model::listen_addrs(p2p_port);
        config.api.listen.set_port(api_port);
        config
    }

    /// `p` if absolute, else `p` within `data_dir` — how `node.key_file` and
    /// `api.token_file` are found.
    pub fn resolve_path(&self, data_dir: &Path, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            data_dir.join(p)
        }
    }

    /// Where the node key is: `node.key_file` resolved against `data_dir`.
    pub fn key_path(&self, data_dir: &Path) -> PathBuf {
        self.resolve_path(data_dir, &self.node.key_file)
    }

    /// Where the API token is: `api.token_file` resolved against `data_dir`.
    pub fn token_path(&self, data_dir: &Path) -> PathBuf {
        self.resolve_path(data_dir, &self.api.token_file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let c = Config::default();
        assert_eq!(c.node.state, None);
        assert_eq!(c.node.key_file, Path::new("node.key"));
        assert_eq!(
            c.network.listen,
            ["/ip4/0.0.0.0/tcp/7100", "/ip4/0.0.0.0/udp/7100/quic-v1"]
        );
        assert!(c.network.bootstrap.is_empty());
        assert_eq!(c.network.idle_timeout().as_secs(), 3600);
        assert_eq!(c.network.redial_max_backoff().as_secs(), 300);
        assert_eq!(c.network.max_connections, 128);
        assert_eq!(c.api.listen, "127.0.0.1:7180".parse().unwrap());
        assert_eq!(c.api.token_file, Path::new("api.token"));
        assert_eq!(c.store.cache_capacity_bytes(), 64 << 20);
        assert_eq!(c.store.max_record_bytes, 262_144);
        assert_eq!(c.federation.anchor, None);
        assert!(c.exchange.partners.is_empty());
        assert_eq!(c.exchange.sync_interval().as_secs(), 60);
        assert_eq!(
            (c.exchange.page_max_records, c.exchange.page_max_bytes),
            (256, 1 << 20)
        );
        assert_eq!(
            (c.log.format, c.log.level.as_str()),
            (LogFormat::Text, "info")
        );
    }

    #[test]
    fn a_file_with_only_the_state_is_valid() {
        let c = Config::from_toml_str("[node]\nstate = \"MX\"\n").unwrap();
        assert_eq!(c, Config::for_new_node("MX".parse().unwrap(), 7100, 7180));
    }

    #[test]
    fn from_toml_str_validates() {
        let err =
            Config::from_toml_str("[node]\nstate = \"MX\"\n[api]\nlisten = \"0.0.0.0:7180\"\n")
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("api.listen: 0.0.0.0:7180 is not a loopback"),
            "{err}"
        );
        let err = Config::from_toml_str("").unwrap_err();
        assert_eq!(err.subject(), "node.state");
    }

    #[test]
    fn to_toml_string_round_trips() {
        let mut c = Config::for_new_node("PE".parse().unwrap(), 7200, 7280);
        c.exchange.partners = vec!["CO".parse().unwrap(), "MX".parse().unwrap()];
        c.log.format = LogFormat::Json;
        c.node.name = "Lima \"primary\"".into();
        let text = c.to_toml_string();
        assert_eq!(Config::from_toml_str(&text).unwrap(), c, "{text}");
    }

    #[test]
    fn paths_are_relative_to_the_data_dir_unless_absolute() {
        let mut c = Config::default();
        assert_eq!(
            c.key_path(Path::new("/srv/tipx")),
            Path::new("/srv/tipx/node.key")
        );
        c.api.token_file = PathBuf::from("/run/secrets/tipx.token");
        assert_eq!(
            c.token_path(Path::new("/srv/tipx")),
            Path::new("/run/secrets/tipx.token")
        );
    }

    #[test]
    fn load_names_the_missing_file() {
        let err = Config::load_with_env(Path::new("/nonexistent/tipx.toml"), []).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/tipx.toml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn load_names_the_file_of_a_parse_error_and_applies_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tipx.toml");
        std::fs::write(&path, "[node]\nstate = \"MX\"\n[api]\nlisten = 7\n").unwrap();
        let err = Config::load_with_env(&path, []).unwrap_err().to_string();
        let expected = format!("api.listen ({}, line 4): invalid type", path.display());
        assert!(err.starts_with(&expected), "{err}");

        std::fs::write(&path, "[node]\nstate = \"MX\"\n").unwrap();
        let env = [("TIPX_API_LISTEN".to_string(), "127.0.0.1:7999".to_string())];
        assert_eq!(
            Config::load_with_env(&path, env).unwrap().api.listen.port(),
            7999
        );
        // The environment is validated like the file.
        let env = [("TIPX_API_LISTEN".to_string(), "10.0.0.1:7180".to_string())];
        let err = Config::load_with_env(&path, env).unwrap_err();
        assert_eq!(err.subject(), "api.listen");
    }
}
