//! From TOML text to a [`Config`], with errors that name the key and the line.
//!
//! `serde_path_to_error` tracks the path (`exchange.partners[1]`) while `toml` deserializes;
//! the TOML span gives the line. serde's "unknown field" message is rewritten to suggest the
//! key that was probably meant.

use std::path::Path;

use serde_path_to_error::Segment;

use crate::{Config, Error, KEYS, error::Location};

/// Parses `text` (no validation). `file` is named in errors when the text came from one.
pub(crate) fn parse(text: &str, file: Option<&Path>) -> Result<Config, Error> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let mut at = Location::of_offset(text, err.inner().span().map(|s| s.start));
        at.file = file.map(Path::to_path_buf);
        translate(&err, at)
    })
}

fn translate(err: &serde_path_to_error::Error<toml::de::Error>, at: Location) -> Error {
    let message = one_line(err.inner().message());
    let segments: Vec<&Segment> = err.path().iter().collect();
    if segments.is_empty() {
        return Error::Syntax { at, message };
    }
    let key = render_path(&segments);
    let message = match unknown_field(&message) {
        Some((unknown, expected)) => {
            let section =
                (segments.len() > 1).then(|| render_path(&segments[..segments.len() - 1]));
            unknown_key_message(section.as_deref(), &unknown, &expected)
        }
        None => message,
    };
    Error::Parse { key, at, message }
}

/// `network.listen[1]` from the segments `network`, `listen`, `1`.
fn render_path(segments: &[&Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_name(&mut out, key),
            Segment::Enum { variant } => push_name(&mut out, variant),
            Segment::Unknown => push_name(&mut out, "?"),
        }
    }
    out
}

fn push_name(out: &mut String, name: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(name);
}

/// TOML messages may span lines; errors are shown on one.
fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" into (`x`, [`a`, `b`]).
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    if !message.starts_with("unknown field `") {
        return None;
    }
    // Names are the odd pieces between backticks.
    let mut names = message.split('`').skip(1).step_by(2).map(str::to_string);
    let unknown = names.next()?;
    Some((unknown, names.collect()))
}

/// The message for an unknown key `unknown` in `section` (`None` at the top level), whose
/// known keys are `expected`.
fn unknown_key_message(section: Option<&str>, unknown: &str, expected: &[String]) -> String {
    let (what, scope) = match section {
        Some(section) => ("unknown key", format!("[{section}] takes")),
        None => ("unknown section", "the sections are".to_string()),
    };
    let homes: Vec<String> = KEYS
        .iter()
        .filter(|k| k.split_once('.').map(|(_, name)| name) == Some(unknown))
        .map(|k| format!("`{k}`"))
        .collect();
    let hint = if !homes.is_empty() {
        format!(" — `{unknown}` belongs elsewhere: {}", homes.join(" or "))
    } else if let Some(close) = closest(unknown, expected) {
        format!(" — did you mean `{close}`?")
    } else {
        String::new()
    };
    if expected.is_empty() {
        format!("{what}{hint}")
    } else {
        format!("{what}{hint} ({scope}: {})", expected.join(", "))
    }
}

/// The entry of `candidates` nearest to `word`, if near enough to be a typo.
fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Error {
        parse(text, None).expect_err(text)
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(parse("", None).unwrap(), Config::default());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line_and_the_likely_intent() {
        let e = err("[node]\nstate = \"MX\"\n\n[exchange]\npartner = [\"CO\"]\n");
        assert!(
            matches!(&e, Error::Parse { key, at, .. } if key == "exchange.partner" && at.line == Some(5)),
            "{e:?}"
        );
        let text = e.to_string();
        assert_eq!(
            text,
            "exchange.partner (line 5): unknown key — did you mean `partners`? ([exchange] takes: \
             partners, sync_interval_secs, page_max_records, page_max_bytes, \
             daily_records_per_author, daily_mib_per_author)"
        );
    }

    #[test]
    fn an_unknown_section_is_named() {
        let text = err("[netwrok]\nlisten = []\n").to_string();
        assert!(
            text.starts_with("netwrok (line 1): unknown section — did you mean `network`?"),
            "{text}"
        );
        assert!(
            text.contains("the sections are: node, network, api"),
            "{text}"
        );
    }

    #[test]
    fn a_key_in_the_wrong_section_points_to_its_home() {
        let text = err("state = \"MX\"\n").to_string();
        assert!(
            text.contains("`state` belongs elsewhere: `node.state`"),
            "{text}"
        );
        let text = err("[store]\nlisten = \"x\"\n").to_string();
        assert!(
            text.contains("belongs elsewhere: `network.listen` or `api.listen`"),
            "{text}"
        );
        let text = err("[network]\nanchor = \"x\"\n").to_string();
        assert!(
            text.starts_with(
                "network.anchor (line 2): unknown key — `anchor` belongs elsewhere: `federation.anchor`"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let text = err("[api]\nlisten = 7180\n").to_string();
        assert!(
            text.starts_with("api.listen (line 2): invalid type: integer `7180`"),
            "{text}"
        );
        let text = err("[network]\nlisten = [\"/ip4/0.0.0.0/tcp/1\", 7]\n").to_string();
        assert!(
            text.starts_with("network.listen[1] (line 2): invalid type"),
            "{text}"
        );
        let text = err("[store]\ncache_capacity_mib = -1\n").to_string();
        assert!(
            text.starts_with("store.cache_capacity_mib (line 2): invalid value"),
            "{text}"
        );
        let text = err("[log]\nformat = \"xml\"\n").to_string();
        assert!(
            text.starts_with("log.format (line 2): unknown variant `xml`"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_state_code_names_the_key() {
        let text = err("[node]\nstate = \"MEX\"\n").to_string();
        assert!(
            text.starts_with("node.state (line 2): `MEX` is not a state code"),
            "{text}"
        );
        let text = err("[exchange]\npartners = [\"CO\", \"P3\"]\n").to_string();
        assert!(
            text.starts_with("exchange.partners[1] (line 2): `P3` is not a state code"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_anchor_names_the_key() {
        let text = err("[federation]\nanchor = \"QmNotAnEd25519Key\"\n").to_string();
        assert!(text.starts_with("federation.anchor (line 2): "), "{text}");
        assert!(text.contains("is not an ed25519 peer id"), "{text}");
    }

    #[test]
    fn broken_toml_is_a_syntax_error_with_a_line() {
        let e = err("[node]\nstate = \"MX\"\n[api\n");
        assert!(
            matches!(&e, Error::Syntax { at, .. } if at.line == Some(3)),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("line 3: not valid TOML: "), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("partner", "partners"), 1);
        assert_eq!(edit_distance("kye_file", "key_file"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
