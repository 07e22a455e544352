//! `tipx publish`: a best practice or an alert from flags, or records from a JSON file
//! (one object, an array, or JSON lines) for bulk import.

use std::{io::BufRead, path::PathBuf};

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

/// `tipx publish …`
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PublishArgs {
    /// Import records from a JSON file: one object, an array, or one object per line.
    /// Each object is a body with `"kind": "alert"` or `"best-practice"`, plus optional
    /// `audience`, `tlp` and `handling`.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(subcommand)]
    what: Option<What>,
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
    BestPractice {
        /// Title.
        #[arg(long)]
        title: String,
        /// A few sentences.
        #[arg(long, default_value = "")]
        summary: String,
        /// The full text.
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
    Alert {
        /// Title.
        #[arg(long)]
        title: String,
        /// What is happening.
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
        /// When the alert expires: 2026-12-31 or 2026-12-31T18:00:00Z.
        #[arg(long)]
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
                    crate::time::parse(&v, crate::node::now_ms())
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
        (Some(file), _) => import(client, &file).await,
        (None, Some(what)) => {
            let req = request(what)?;
            let out: Published = client.post("/v1/records", &vec![req]).await?;
            println!("{}", out.ids[0]);
            Ok(())
        }
        (None, None) => bail!(
            "say what to publish: `tipx publish alert …`, `tipx publish best-practice …` or `tipx publish --file FILE`"
        ),
    }
}

/// Parses one JSON record of an import file: a body plus optional envelope fields.
pub fn parse_record(value: serde_json::Value) -> Result<PublishRequest, String> {
    let serde_json::Value::Object(mut map) = value else {
        return Err("expected a JSON object".into());
    };
    let take = |map: &mut serde_json::Map<String, serde_json::Value>, k: &str| {
        map.remove(k).unwrap_or(serde_json::Value::Null)
    };
    let audience: Option<Vec<StateCode>> =
        serde_json::from_value(take(&mut map, "audience")).map_err(|e| format!("audience: {e}"))?;
    let tlp: Option<Tlp> =
        serde_json::from_value(take(&mut map, "tlp")).map_err(|e| format!("tlp: {e}"))?;
    let handling: Option<Handling> =
        serde_json::from_value(take(&mut map, "handling")).map_err(|e| format!("handling: {e}"))?;
    let body: Body =
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())?;
    if !matches!(body, Body::Alert(_) | Body::BestPractice(_)) {
        return Err(format!(
            "kind `{}` cannot be imported: use alert or best-practice",
            body.kind()
        ));
    }
    body.check()?;
    Ok(PublishRequest {
        audience: audience.unwrap_or_default(),
        tlp,
        handling,
        body,
    })
}

/// Reads an import file: a JSON object, an array, or JSON lines. Errors name the line.
pub fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<PublishRequest>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let first = reader
        .fill_buf()?
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace());
    if first == Some(b'[') {
        let values: Vec<serde_json::Value> = serde_json::from_reader(reader)
            .with_context(|| format!("{}: not a JSON array", path.display()))?;
        return values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                parse_record(v)
                    .map_err(|e| anyhow::anyhow!("{}: record {}: {e}", path.display(), i + 1))
            })
            .collect();
    }
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: line {}: cannot read", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}: line {}: not JSON: {e}", path.display(), n + 1))?;
        out.push(
            parse_record(value)
                .map_err(|e| anyhow::anyhow!("{}: line {}: {e}", path.display(), n + 1))?,
        );
    }
    if out.is_empty() {
        bail!("{}: no records in the file", path.display());
    }
    Ok(out)
}

async fn import(client: &Client, path: &std::path::Path) -> anyhow::Result<()> {
    let records = read_file(path)?;
    let bar = indicatif::ProgressBar::new(records.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
        )
        .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let total = records.len();
    let mut done = 0;
    for batch in records.chunks(IMPORT_BATCH) {
        let out: Published = client
            .post("/v1/records", &batch)
            .await
            .map_err(|e| anyhow::anyhow!("{e} (after {done} of {total} records were stored)"))?;
        done += out.ids.len();
        bar.inc(out.ids.len() as u64);
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "published {done} records in {secs:.2} s ({:.0} records/s)",
        done as f64 / secs
    );
    Ok(())
}
