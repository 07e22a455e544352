//! The report to the Permanent Council (`tipx report`): on the coordinator's node, on the
//! federation, from the activity summaries and national profiles it received; on a
//! member's node, on that state's own exchange. [`model`] is the data every format and
//! chart is drawn from.
//!
//! # Layout
//! - [`model`]: the data (also the JSON format).
//! - [`labels`]: its words in en, es, fr and pt, and numbers and dates in each.
//! - [`charts`]: SVG charts of the model, each with the figures it drew.
//! - [`render`]: the formats — JSON, Markdown, a self-contained HTML file, CSV tables.

#![warn(missing_docs)]

pub mod charts;
pub mod labels;
pub mod model;
pub mod render;

#[cfg(test)]
mod sample;

pub use labels::Lang;
