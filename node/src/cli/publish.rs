//! `tipx publish`: a best practice or an alert from flags, or records from a JSON file
//! (one object, an array, or JSON lines) for bulk import.

use std::{
    io::{BufRead, Read},
    path::PathBuf,
};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use tipx_protocol::{
    Body, Handling, StateCode, Tlp,
    body::{
        Alert, BestPractice, Indicator, IndicatorType, Pillar, Reference, Severity, Translation,
    },
};

use crate::api::{
    client::Client,
    types::{PublishRequest, Published},
};

/// Records sent to the daemon per request during an import: big enough to amortise the
/// flush and the transaction, small enough to keep a request to a few MiB.
pub const IMPORT_BATCH: usize = 5_000;

/// The limits a published record must keep, shown under `--help`; a test checks them
/// against the protocol's constants.
const LIMITS: &str = "Limits: a title has at most 300 characters; a summary or description at \
most 4,000 characters; a whole body at most 192 KiB. A signed record (header, signature and \
body) may not exceed store.max_record_bytes in tipx.toml (default 256 KiB).";

/// `tipx publish …`
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, after_help = LIMITS)]
pub struct PublishArgs {
    /// Import records from a JSON file: one object, an array, or one object per line.
    /// Each object is a body with `"kind": "alert"` or `"best-practice"`, plus optional
    /// `audience`, `tlp` and `handling`.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// With --file: what the file holds — `tipx` (the format above) or `stix` (a STIX 2.1
    /// bundle, e.g. from MISP or OpenCTI: each report, grouping or note becomes an alert;
    /// docs/STIX.md).
    #[arg(long, requires = "file", value_enum, default_value_t = FileFormat::Tipx)]
    format: FileFormat,
    /// With --file: print the new records' ids, one per line, in file order.
    #[arg(long, requires = "file")]
    ids: bool,
    /// With --file: print the outcome as JSON (`ids`, `warnings`).
    #[arg(long, requires = "file", conflicts_with = "ids")]
    json: bool,
    #[command(subcommand)]
    what: Option<What>,
}

/// What an import file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// Records in the `publish --file` format.
    Tipx,
    /// A STIX 2.1 bundle.
    Stix,
}

/// Fields every published record has.
#[derive(Args, Debug)]
struct Envelope {
    /// States the record is for (comma-separated); yours is always added. Default: your partners.
    #[arg(long, value_delimiter = ',')]
    audience: Vec<StateCode>,
    /// TLP 2.0 marking: clear, green, amber, amber+strict, red.
    #[arg(long, default_value = "amber")]
    tlp: Tlp,
    /// Who receivers may pass it on to: focal-point, national-authorities, public.
    #[arg(long, default_value = "focal-point")]
    handling: Handling,
    /// Language of the text: en, es, fr, pt, …
    #[arg(long, default_value = "en")]
    language: String,
    /// A translated title, as LANG=TITLE (repeatable).
    #[arg(long = "translation", value_name = "LANG=TITLE")]
    translations: Vec<String>,
    /// A free tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum What {
    /// A programme, law or protocol that worked.
    #[command(after_help = LIMITS)]
    BestPractice {
        /// Title (at most 300 characters).
        #[arg(long)]
        title: String,
        /// A few sentences (at most 4,000 characters).
        #[arg(long, default_value = "")]
        summary: String,
        /// The full text (the whole body at most 192 KiB).
        #[arg(long, default_value = "")]
        text: String,
        /// A pillar it serves (repeatable): prevention, protection, prosecution, partnership.
        #[arg(long = "pillar")]
        pillars: Vec<Pillar>,
        /// A reference, as TITLE or TITLE=URL (repeatable).
        #[arg(long = "reference")]
        references: Vec<String>,
        #[command(flatten)]
        envelope: Envelope,
    },
    /// A recruitment pattern, route, document fraud or other warning.
    #[command(after_help = LIMITS)]
    Alert {
        /// Title (at most 300 characters).
        #[arg(long)]
        title: String,
        /// What is happening (at most 4,000 characters; the whole body at most 192 KiB).
        #[arg(long, default_value = "")]
        description: String,
        /// How urgent: info, low, medium, high, critical.
        #[arg(long)]
        severity: Severity,
        /// recruitment, route, document-fraud, exploitation, …
        #[arg(long, default_value = "")]
        category: String,
        /// An indicator, as TYPE:VALUE (repeatable); TYPE is phone, email, url, domain,
        /// social-account, document, route, location, keyword or other.
        #[arg(long = "indicator", value_name = "TYPE:VALUE")]
        indicators: Vec<String>,
        /// States concerned (comma-separated).
        #[arg(long, value_delimiter = ',')]
        affected: Vec<StateCode>,
        /// When the alert expires: a date (2026-12-31), a UTC time (2026-12-31T18:00:00Z)
        /// or a span from now (30d, 36h). A date already past is refused.
        #[arg(long, value_name = "WHEN")]
        valid_until: Option<String>,
        #[command(flatten)]
        envelope: Envelope,
    },
}

fn translations(raw: &[String]) -> anyhow::Result<Vec<Translation>> {
    raw.iter()
        .map(|t| {
            let (lang, title) = t
                .split_once('=')
                .with_context(|| format!("--translation `{t}`: expected LANG=TITLE"))?;
            Ok(Translation {
                language: lang.trim().into(),
                title: title.into(),
                summary: String::new(),
                text: String::new(),
            })
        })
        .collect()
}

fn request(what: What) -> anyhow::Result<PublishRequest> {
    let (body, env) = match what {
        What::BestPractice {
            title,
            summary,
            text,
            pillars,
            references,
            envelope,
        } => {
            let references = references
                .into_iter()
                .map(|r| match r.split_once('=') {
                    Some((t, u)) => Reference {
                        title: t.into(),
                        url: u.into(),
                    },
                    None => Reference {
                        title: r,
                        url: String::new(),
                    },
                })
                .collect();
            let body = BestPractice {
                title,
                summary,
                text,
                language: envelope.language.clone(),
                translations: translations(&envelope.translations)?,
                pillars,
                tags: envelope.tags.clone(),
                references,
            };
            (Body::BestPractice(body), envelope)
        }
        What::Alert {
            title,
            description,
            severity,
            category,
            indicators,
            affected,
            valid_until,
            envelope,
        } => {
            let indicators = indicators
                .iter()
                .map(|i| {
                    let (t, v) = i
                        .split_once(':')
                        .with_context(|| format!("--indicator `{i}`: expected TYPE:VALUE"))?;
                    let kind: IndicatorType = t
                        .parse()
                        .map_err(|e: String| anyhow::anyhow!("--indicator `{i}`: {e}"))?;
                    Ok(Indicator {
                        kind,
                        value: v.into(),
                        note: String::new(),
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let valid_until_ms = valid_until
                .map(|v| {
                    crate::time::parse_future(&v, crate::core::now_ms())
                        .map_err(|e| anyhow::anyhow!("--valid-until: {e}"))
                })
                .transpose()?;
            let body = Alert {
                title,
                description,
                language: envelope.language.clone(),
                translations: translations(&envelope.translations)?,
                severity,
                category,
                indicators,
                affected_states: affected,
                valid_until_ms,
                tags: envelope.tags.clone(),
            };
            (Body::Alert(body), envelope)
        }
    };
    body.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(PublishRequest {
        audience: env.audience,
        tlp: Some(env.tlp),
        handling: Some(env.handling),
        body,
    })
}

/// Runs `tipx publish`.
pub(super) async fn run(client: &Client, args: PublishArgs) -> anyhow::Result<()> {
    match (args.file, args.what) {
        (Some(file), _) => {
            let records = match args.format {
                FileFormat::Tipx => read_file(&file, crate::core::now_ms())?,
                FileFormat::Stix => read_stix(&file, crate::core::now_ms())?,
            };
            let out = import(client, records).await?;
            if args.json {
                outln!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                warn(&out.warnings);
                if args.ids {
                    for id in &out.ids {
                        outln!("{id}");
                    }
                }
            }
            Ok(())
        }
        (None, Some(what)) => {
            let req = request(what)?;
            let out: Published = client.post("/v1/records", &vec![req]).await?;
            outln!("{}", out.ids[0]);
            warn(&out.warnings);
            Ok(())
        }
        (None, None) => bail!(
            "say what to publish: `tipx publish alert …`, `tipx publish best-practice …` or `tipx publish --file FILE`"
        ),
    }
}

/// Fields every record of an import file may carry besides its body's.
const ENVELOPE_FIELDS: [&str; 3] = ["audience", "tlp", "handling"];

/// Parses one JSON record of an import file: a body plus optional envelope fields. An
/// alert's `valid_until` takes the forms of `--valid-until` (a date, a UTC time, or a span
/// from now such as `30d`); `now_ms` anchors the span.
pub fn parse_record(value: serde_json::Value, now_ms: u64) -> Result<PublishRequest, String> {
    let serde_json::Value::Object(mut map) = value else {
        return Err("expected a JSON object ({\"kind\": \"alert\", …})".into());
    };
    let take = |map: &mut serde_json::Map<String, serde_json::Value>, k: &str| {
        map.remove(k).unwrap_or(serde_json::Value::Null)
    };
    let audience: Option<Vec<StateCode>> = serde_json::from_value(take(&mut map, "audience"))
        .map_err(|e| format!("audience: {}", explain(&e.to_string())))?;
    let tlp: Option<Tlp> = serde_json::from_value(take(&mut map, "tlp"))
        .map_err(|e| format!("tlp: {}", explain(&e.to_string())))?;
    let handling: Option<Handling> = serde_json::from_value(take(&mut map, "handling"))
        .map_err(|e| format!("handling: {}", explain(&e.to_string())))?;
    let kind = match map.remove("kind") {
        Some(serde_json::Value::String(k)) => k,
        Some(other) => {
            return Err(format!(
                "kind: `{other}` is not a kind: use \"alert\" or \"best-practice\""
            ));
        }
        None => {
            return Err("no kind: add \"kind\": \"alert\" or \"kind\": \"best-practice\"".into());
        }
    };
    let body = match kind.as_str() {
        "alert" => {
            valid_until(&mut map, now_ms)?;
            Body::Alert(body_of(map)?)
        }
        "best-practice" => Body::BestPractice(body_of(map)?),
        other => {
            return Err(format!(
                "kind `{other}` cannot be imported: use alert or best-practice"
            ));
        }
    };
    body.check()?;
    Ok(PublishRequest {
        audience: audience.unwrap_or_default(),
        tlp,
        handling,
        body,
    })
}

/// Decodes a body's fields; an error names the field it is about.
fn body_of<T: serde::de::DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<T, String> {
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let inner = explain(&e.into_inner().to_string());
        if path == "." || inner.starts_with("unknown field") {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// Turns an alert's `valid_until` (or `valid_until_ms`) into the body's `valid_until_ms`,
/// refusing an expiry already past.
fn valid_until(
    map: &mut serde_json::Map<String, serde_json::Value>,
    now_ms: u64,
) -> Result<(), String> {
    let at = match (map.remove("valid_until"), map.get("valid_until_ms")) {
        (Some(_), Some(_)) => {
            return Err("give valid_until or valid_until_ms, not both".into());
        }
        (Some(serde_json::Value::String(s)), None) => {
            crate::time::parse_future(&s, now_ms).map_err(|e| format!("valid_until: {e}"))?
        }
        (Some(serde_json::Value::Number(n)), None) => n
            .as_u64()
            .ok_or_else(|| format!("valid_until: `{n}` is not a time"))?,
        (Some(serde_json::Value::Null), None) | (None, None) => return Ok(()),
        (Some(other), None) => {
            return Err(format!(
                "valid_until: `{other}` is not a time: use 2026-12-31, 2026-12-31T18:00:00Z or 30d"
            ));
        }
        (None, Some(v)) => match v.as_u64() {
            Some(ms) => ms,
            None => return Ok(()), // the body's own parser names the type error
        },
    };
    if at <= now_ms {
        return Err(format!(
            "valid_until: {} is in the past; give a later date, or a span such as 30d",
            crate::time::format(at)
        ));
    }
    map.insert("valid_until_ms".into(), at.into());
    Ok(())
}

/// Rewrites serde's wording into words an operator reads: the JSON types by their JSON
/// names, and an unknown field with every field the record may have.
pub(crate) fn explain(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("unknown field ")
        && let Some((field, expected)) = rest.split_once(", expected ")
    {
        let mut allowed: Vec<String> = expected
            .trim_start_matches("one of ")
            .split(", ")
            .map(|f| f.trim_matches('`').to_string())
            .filter(|f| !f.is_empty() && f != "valid_until_ms")
            .collect();
        if allowed.iter().any(|f| f == "severity") {
            allowed.push("valid_until".into());
        }
        allowed.extend(ENVELOPE_FIELDS.iter().map(|f| f.to_string()));
        return format!(
            "unknown field {field}: a record may have {}",
            allowed.join(", ")
        );
    }
    const WORDS: [(&str, &str); 10] = [
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list ([\"…\", \"…\"])"),
        ("expected a map", "expected an object ({…})"),
        ("expected a boolean", "expected true or false"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: an object"),
        ("invalid type: integer", "invalid type: the number"),
        ("invalid type: string", "invalid type: the text"),
    ];
    let mut out = msg.to_string();
    for (from, to) in WORDS {
        out = out.replace(from, to);
    }
    out
}

/// serde_json's message without its " at line L column C" (the caller names the place).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    explain(text.strip_suffix(&suffix).unwrap_or(&text))
}

/// Reads an import file: a JSON object, an array, or JSON lines. Errors name the file and
/// the line (see [`parse_file`]).
pub fn read_file(path: &std::path::Path, now_ms: u64) -> anyhow::Result<Vec<PublishRequest>> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    parse_file(&path.display().to_string(), &bytes, now_ms)
}

/// Parses the contents of an import file called `name` (errors start with it): a JSON
/// array of records if its first non-blank byte is `[`, else one record per line (blank
/// lines skipped, at least one record). `now_ms` anchors `valid_until` spans. Never panics,
/// whatever the bytes: the `import` fuzz target checks it.
pub fn parse_file(name: &str, bytes: &[u8], now_ms: u64) -> anyhow::Result<Vec<PublishRequest>> {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'[') {
        let values: Vec<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{name}: line {}, column {}: not a JSON array: {}",
                e.line(),
                e.column(),
                without_position(&e)
            )
        })?;
        return values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                parse_record(v, now_ms)
                    .map_err(|e| anyhow::anyhow!("{name}: record {}: {e}", i + 1))
            })
            .collect();
    }
    let mut out = Vec::new();
    for (n, line) in bytes.lines().enumerate() {
        let line = line.with_context(|| format!("{name}: line {}: cannot read", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            anyhow::anyhow!(
                "{name}: line {}, column {}: not JSON: {}",
                n + 1,
                e.column(),
                without_position(&e)
            )
        })?;
        out.push(
            parse_record(value, now_ms)
                .map_err(|e| anyhow::anyhow!("{name}: line {}: {e}", n + 1))?,
        );
    }
    if out.is_empty() {
        bail!("{name}: no records in the file");
    }
    Ok(out)
}

/// Prints the node's warnings on standard error.
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// The alerts a STIX 2.1 bundle gives, each checked as an import file's record; what was
/// skipped or changed is said on standard error. Nothing when anything is wrong.
fn read_stix(path: &std::path::Path, now_ms: u64) -> anyhow::Result<Vec<PublishRequest>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let got = crate::stix::alerts_from(&name, &bytes)?;
    for n in &got.notes {
        eprintln!("note: {n}");
    }
    for (kind, n) in &got.skipped {
        eprintln!("skipped: {n} {kind} object(s) that no report, grouping or note refers to");
    }
    if got.lines.is_empty() {
        bail!(
            "{name}: the bundle holds no report, grouping or note to make an alert of: nothing published"
        );
    }
    got.lines
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            parse_record(v, now_ms).map_err(|e| {
                anyhow::anyhow!(
                    "{name}: alert {} of the bundle: {e}; nothing published",
                    i + 1
                )
            })
        })
        .collect()
}

async fn import(client: &Client, records: Vec<PublishRequest>) -> anyhow::Result<Published> {
    let bar = super::output::bar(
        records.len() as u64,
        "{bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
    );
    let started = std::time::Instant::now();
    let total = records.len();
    let mut all = Published {
        ids: Vec::with_capacity(total),
        warnings: vec![],
    };
    for batch in records.chunks(IMPORT_BATCH) {
        let out: Published = client.post("/v1/records", &batch).await.map_err(|e| {
            anyhow::anyhow!(
                "{e} (after {} of {total} records were stored)",
                all.ids.len()
            )
        })?;
        bar.inc(out.ids.len() as u64);
        all.ids.extend(out.ids);
        for w in out.warnings {
            if !all.warnings.contains(&w) {
                all.warnings.push(w);
            }
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let done = all.ids.len();
    eprintln!(
        "published {done} records in {secs:.2} s ({:.0} records/s)",
        done as f64 / secs
    );
    Ok(all)
}

#[cfg(test)]
mod tests {
    use tipx_protocol::body::{MAX_BODY_BYTES, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS};

    use super::LIMITS;

    #[test]
    fn the_limits_under_help_are_the_protocols() {
        assert_eq!(MAX_TITLE_CHARS, 300, "update LIMITS");
        assert_eq!(MAX_SUMMARY_CHARS, 4_000, "update LIMITS");
        assert_eq!(MAX_BODY_BYTES, 192 * 1024, "update LIMITS");
        let default = tipx_config::Config::default().store.max_record_bytes;
        assert_eq!(default, 256 * 1024, "update LIMITS");
        for words in ["300 characters", "4,000 characters", "192 KiB", "256 KiB"] {
            assert!(LIMITS.contains(words), "{words}");
        }
    }
}
