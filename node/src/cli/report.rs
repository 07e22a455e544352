//! `tipx report`: the report to the Permanent Council (docs/REPORT.md). The node gathers
//! its data (`GET /v1/report`); this command writes it as HTML (one self-contained file
//! with charts), Markdown, JSON or CSV (one table per file).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use tipx_protocol::day::Day;

use super::DataDir;
use crate::{
    api::reporting::ReportQuery,
    report::{Lang, model::Report, render},
};

/// `tipx report …`
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// First day of the period, YYYY-MM-DD. Default: 1 January of the current year.
    #[arg(long)]
    from: Option<Day>,
    /// Last day of the period (included), YYYY-MM-DD. Default: today.
    #[arg(long)]
    to: Option<Day>,
    /// html (one file with charts, prints to A4), md, json (docs/REPORT.md) or csv (one
    /// table per file in the directory --out names).
    #[arg(long, value_enum, default_value_t = Format::Html)]
    format: Format,
    /// Language of labels, numbers and dates: en, es, fr or pt. Default: report.language
    /// in tipx.toml, else en.
    #[arg(long)]
    lang: Option<String>,
    /// The file to write (the directory, for csv). Default: standard output (required for
    /// csv).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The report's formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// One self-contained HTML file, charts inline.
    Html,
    /// Markdown.
    Md,
    /// The report's data (docs/REPORT.md).
    Json,
    /// One CSV file per table.
    Csv,
}

/// Runs `tipx report`.
pub(super) async fn run(dd: &DataDir, args: ReportArgs) -> anyhow::Result<()> {
    let config = dd.config()?;
    let lang = args.lang.unwrap_or(config.report.language);
    let language: Lang = lang.parse()?;
    if args.format == Format::Csv && args.out.is_none() {
        anyhow::bail!("--format csv writes one file per table: name the directory with --out DIR");
    }
    let today = Day::of_ms(crate::core::now_ms());
    let to = args.to.unwrap_or(today);
    let (year, _, _) = to.ymd();
    let from = args
        .from
        .unwrap_or_else(|| Day::from_ymd(year, 1, 1).unwrap_or(to));
    let q = ReportQuery { from, to, lang };
    let report: Report = super::client(dd)?.get("/v1/report", &q).await?;
    let text = match args.format {
        Format::Json => render::json(&report),
        Format::Md => render::markdown(&report, language),
        Format::Html => render::html(&report, language)?,
        Format::Csv => {
            let dir = args.out.expect("checked above");
            let files = render::csv(&report, &dir)
                .with_context(|| format!("cannot write the tables into {}", dir.display()))?;
            outln!("{} tables written to {}", files.len(), dir.display());
            return Ok(());
        }
    };
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            outln!("report written to {}", path.display());
        }
        None => outln!("{text}"),
    }
    Ok(())
}
