//! `docs/CONFIG.md` documents exactly the keys of the code, with their variables and defaults.

use std::path::Path;

use tipx_config::{Config, KEYS, env_var};

fn config_md() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/CONFIG.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The table rows (`| `key` | …`) under the heading of `section`.
fn rows<'a>(doc: &'a str, section: &str) -> Vec<&'a str> {
    let heading = format!("## `[{section}]`");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("no heading {heading}"));
    let body = &doc[start + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines().filter(|l| l.starts_with("| `")).collect()
}

#[test]
fn every_key_is_documented_with_its_variable_and_default() {
    let doc = config_md();
    let defaults: toml::Table = toml::from_str(&Config::default().to_toml_string()).unwrap();
    for key in KEYS {
        let (section, name) = key.split_once('.').unwrap();
        let rows = rows(&doc, section);
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("{key} is not in docs/CONFIG.md"));
        assert!(
            row.contains(&format!("`{}`", env_var(key))),
            "{key}: variable missing: {row}"
        );
        let cells: Vec<&str> = row.split(" | ").collect();
        let default = cells[2];
        match defaults[section].get(name) {
            Some(value) => assert_eq!(default, format!("`{value}`"), "{key}: default"),
            None => assert!(default.starts_with("none"), "{key}: default should be none"),
        }
    }
}

#[test]
fn no_key_is_documented_that_the_code_lacks() {
    let doc = config_md();
    let mut documented = 0;
    for section in [
        "node",
        "network",
        "api",
        "store",
        "federation",
        "exchange",
        "log",
        "metrics",
        "report",
    ] {
        for row in rows(&doc, section) {
            let name = row.split('`').nth(1).unwrap();
            assert!(
                KEYS.contains(&format!("{section}.{name}").as_str()),
                "{section}.{name}"
            );
            documented += 1;
        }
    }
    assert_eq!(documented, KEYS.len());
}
