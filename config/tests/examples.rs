//! The example configurations in `config/examples/` load and say what their comments claim.

use std::path::{Path, PathBuf};

use tipx_config::{Config, LogFormat};
use tipx_protocol::StateCode;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn state(code: &str) -> StateCode {
    code.parse().unwrap()
}

#[test]
fn the_member_example_loads() {
    let config = Config::load(&example("member.toml")).unwrap();
    assert_eq!(config.node.state, Some(state("MX")));
    assert_eq!(config.exchange.partners, [state("CO"), state("PE")]);
    assert_eq!(config.network.bootstrap.len(), 2);
    let anchor = config.federation.anchor.expect("a member pins the anchor");
    for addr in &config.network.bootstrap {
        assert!(addr.ends_with(&format!("/p2p/{anchor}")), "{addr}");
    }
    assert_eq!(config.api.listen, "127.0.0.1:7180".parse().unwrap());
    assert_eq!(config.log.format, LogFormat::Text);
}

#[test]
fn the_coordinator_example_loads() {
    let config = Config::load(&example("coordinator.toml")).unwrap();
    assert!(config.node.state.unwrap().is_coordinator());
    assert!(config.network.bootstrap.is_empty());
    assert!(config.network.listen.iter().all(|a| a.contains("/7100")));
    assert_eq!(config.federation.anchor, None);
    assert_eq!(config.network.max_connections, 256);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn the_member_example_spells_out_every_key() {
    let text = std::fs::read_to_string(example("member.toml")).unwrap();
    for key in tipx_config::KEYS {
        let (_, name) = key.split_once('.').unwrap();
        assert!(
            text.contains(&format!("\n{name} = ")),
            "{key} missing from member.toml"
        );
    }
}
