//! `tipx export`: the records the filters of `records list` select, as JSON lines (the
//! format `tipx publish --file` imports) or CSV for spreadsheets. The export walks the
//! daemon's listing a page at a time ([`PAGE`] records, each page after the last record
//! of the one before), writing each page before asking for the next, so its memory does
//! not grow with the number of records.

mod rows;

use std::{
    io::{IsTerminal as _, Write},
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use rows::{CSV_COLUMNS, Skip};

use super::FilterArgs;
use crate::{
    api::{client::Client, types::RecordView},
    query::Cursor,
};

/// Records asked for per API request: a page of ordinary records is a few hundred KiB of
/// JSON, and even a page of bodies at the 192 KiB limit stays under ~60 MiB.
pub const PAGE: usize = 256;

/// What `tipx export --help` says below the flags; a test checks the columns it lists.
const HELP: &str = "JSON lines: one record per line, each the body's fields with `kind`, \
`audience`, `tlp` and `handling`, as `tipx publish --file` reads them, so that another node \
can publish them as its own. Retracted records and expired alerts are left out of it.

CSV: one row per record, UTF-8 with a header row (id, created_at, state, kind, title, \
language, tlp, handling, audience, severity, category, indicators, affected_states, \
valid_until, pillars, tags, summary, text, references, translations, retracted, \
retracted_by). A cell holding several values (indicators as TYPE:VALUE, tags, states…) joins \
them with \"; \". A cell that starts with =, +, -, @, a tab or a carriage return gets a \
single quote in front, so that a spreadsheet does not run it as a formula. With --all, \
retracted records are in it, marked in the `retracted` column.

STIX: a STIX 2.1 bundle: an alert is a report referring to an indicator per e-mail, URL, \
domain or social account, and to the locations of the affected states; a best practice is \
a report with its pillars; TLP 2.0 markings; ids derived from the record ids, so that the \
same records give the same bundle; retracted records (with --all) are marked revoked. The \
mapping is docs/STIX.md.

Only alerts and best practices are exported; a record whose body was erased is left out \
(its content is gone).";

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line, the format `tipx publish --file` imports.
    Jsonl,
    /// Comma-separated values, UTF-8, with a header row.
    Csv,
    /// A STIX 2.1 bundle (docs/STIX.md).
    Stix,
}

/// `tipx export …`
#[derive(Args, Debug)]
#[command(after_help = HELP)]
pub struct ExportArgs {
    /// jsonl (what `tipx publish --file` imports), csv (for spreadsheets) or stix (a
    /// STIX 2.1 bundle for MISP, OpenCTI and other tools).
    #[arg(long)]
    format: Format,
    /// Write to this file (replaced if it exists) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    filters: FilterArgs,
}

/// Where the export goes: standard output, or a temporary file beside the target that
/// takes its name only once the export is whole.
enum Target {
    Stdout,
    File {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Target {
    fn open(out: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = out else {
            return Ok(Self::Stdout);
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".tipx-export")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(Self::File {
            tmp,
            path: path.to_path_buf(),
        })
    }

    fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match self {
            Self::Stdout => Box::new(std::io::stdout().lock()),
            Self::File { tmp, .. } => Box::new(tmp.reopen()?),
        })
    }

    /// An error writing the export: on standard output, a reader that went away ends the
    /// command quietly, as it ends any filter.
    fn failed(&self, e: std::io::Error) -> anyhow::Error {
        match self {
            Self::Stdout => super::output::failed(e),
            Self::File { path, .. } => {
                anyhow::anyhow!("cannot write the export to {}: {e}", path.display())
            }
        }
    }

    /// Gives the finished file its name.
    fn finish(self) -> anyhow::Result<String> {
        match self {
            Self::Stdout => Ok("standard output".into()),
            Self::File { tmp, path } => {
                tmp.as_file().sync_all()?;
                tmp.persist(&path)
                    .with_context(|| format!("cannot write the export to {}", path.display()))?;
                Ok(path.display().to_string())
            }
        }
    }
}

/// Writes records in the chosen format.
enum Sink {
    Jsonl(std::io::BufWriter<Box<dyn Write>>),
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Stix(crate::stix::BundleWriter<std::io::BufWriter<Box<dyn Write>>>),
}

impl Sink {
    fn new(format: Format, w: Box<dyn Write>) -> std::io::Result<Self> {
        Ok(match format {
            Format::Jsonl => Self::Jsonl(std::io::BufWriter::new(w)),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(w);
                w.write_record(CSV_COLUMNS).map_err(io)?;
                Self::Csv(Box::new(w))
            }
            Format::Stix => Self::Stix(crate::stix::BundleWriter::new(std::io::BufWriter::new(w))?),
        })
    }

    /// Writes `r`, or says why it is left out.
    fn write(&mut self, r: &RecordView, now_ms: u64) -> std::io::Result<Result<(), Skip>> {
        match self {
            Self::Jsonl(w) => match rows::jsonl(r, now_ms) {
                Ok(line) => {
                    serde_json::to_writer(&mut *w, &line)?;
                    w.write_all(b"\n")?;
                    Ok(Ok(()))
                }
                Err(skip) => Ok(Err(skip)),
            },
            Self::Csv(w) => match rows::csv(r) {
                Ok(row) => w.write_record(&row).map(Ok).map_err(io),
                Err(skip) => Ok(Err(skip)),
            },
            Self::Stix(w) => match rows::content(r) {
                Ok(_) => w.record(r).map(|_| Ok(())),
                Err(skip) => Ok(Err(skip)),
            },
        }
    }

    /// Ends the export (a bundle's closing part) and flushes it.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Self::Jsonl(mut w) => w.flush(),
            Self::Csv(mut w) => w.flush(),
            Self::Stix(w) => w.finish().map(|_| ()),
        }
    }
}

/// The I/O error inside a CSV error (a writer's only kind of failure).
fn io(e: csv::Error) -> std::io::Error {
    if !e.is_io_error() {
        return std::io::Error::other(e.to_string());
    }
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        _ => std::io::Error::other("the CSV writer failed"),
    }
}

/// Runs `tipx export`.
pub(super) async fn run(client: &Client, args: ExportArgs) -> anyhow::Result<()> {
    let mut filter = args.filters.filter(PAGE)?;
    filter.bodies = true;
    // Pages continue after the last record of the one before: only newest-first does.
    filter.sort = Some(crate::query::Sort::Newest);
    let target = Target::open(args.out.as_deref())?;
    let mut sink = Sink::new(args.format, target.writer()?).map_err(|e| target.failed(e))?;
    let bar = progress();
    let now = crate::core::now_ms();
    let (mut written, mut skipped) = (0u64, std::collections::BTreeMap::<Skip, u64>::new());
    loop {
        let page: Vec<RecordView> = client.get("/v1/records", &filter).await?;
        for r in &page {
            match sink.write(r, now).map_err(|e| target.failed(e))? {
                Ok(()) => written += 1,
                Err(skip) => *skipped.entry(skip).or_default() += 1,
            }
        }
        bar.set_position(written);
        match page.last() {
            Some(last) if page.len() == PAGE => {
                filter.after = Some(Cursor {
                    at_ms: last.created_at_ms,
                    id: last.id,
                });
            }
            _ => break,
        }
    }
    sink.finish().map_err(|e| target.failed(e))?;
    bar.finish_and_clear();
    let place = target.finish()?;
    let mut summary = format!(
        "exported {} to {place}",
        super::show::human::count(written, "record", "records")
    );
    if !skipped.is_empty() {
        let left: Vec<String> = skipped
            .iter()
            .map(|(s, n)| format!("{n} {}", s.words()))
            .collect();
        summary.push_str(&format!("; left out: {}", left.join(", ")));
    }
    eprintln!("{summary}");
    Ok(())
}

/// A counter on standard error while it is a terminal; nothing otherwise.
fn progress() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} records exported ({per_sec})")
            .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_lists_the_csv_columns() {
        let listed = format!("({})", super::CSV_COLUMNS.join(", "));
        assert!(super::HELP.contains(&listed), "update HELP: {listed}");
    }
}
