//! The report's formats, each drawn from the one [`Report`]:
//! - [`json`]: the model itself, the documented schema.
//! - [`markdown`]: the five sections as headings and tables (no charts: their figures are
//!   in the tables).
//! - [`html`]: one self-contained file — inline CSS and SVG charts, no script, nothing
//!   fetched — that prints on A4.
//! - [`csv()`]: one file per table, with stable English column names for scripts.
//!
//! Markdown and HTML walk the same layout (`document`, filled by `layout`), in one of the
//! four languages.

mod csv_tables;
mod document;
mod html;
mod layout;
mod markdown;

pub use csv_tables::{FILES as CSV_FILES, csv};
pub use html::html;
pub use markdown::markdown;

use super::model::Report;

/// The report as pretty-printed JSON (docs/REPORT.md describes the schema).
pub fn json(report: &Report) -> String {
    // Every map of the model has string or unit-enum keys: serialising cannot fail.
    serde_json::to_string_pretty(report).expect("a report is JSON")
}

#[cfg(test)]
mod tests;
