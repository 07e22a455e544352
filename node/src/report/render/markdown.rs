//! The report as Markdown (CommonMark with GitHub's tables): the five sections as headings
//! and tables, without the charts, whose figures are in the tables. Text from data is
//! escaped so that it stays text in a table cell.

use std::fmt::Write;

use super::{
    document::{Block, CHANGED, Cell, Table, UNKNOWN},
    layout::document,
};
use crate::report::{
    labels::{Label, Lang},
    model::Report,
};

/// The report in `lang` as Markdown.
pub fn markdown(report: &Report, lang: Lang) -> String {
    let doc = document(report, lang);
    let mut out = String::with_capacity(64 * 1024);
    let _ = writeln!(out, "# {}\n", esc(&doc.title));
    for (label, value) in &doc.meta {
        let _ = writeln!(out, "- **{}{}** {}", esc(label), lang.colon(), esc(value));
    }
    for section in &doc.sections {
        let _ = writeln!(out, "\n## {}", esc(&section.heading));
        for block in &section.blocks {
            match block {
                Block::Chart(_) => {}
                Block::Table(t) => table(&mut out, t, lang),
                Block::List { label, items } => {
                    let items = if items.is_empty() {
                        lang.text(Label::NoneListed).to_string()
                    } else {
                        items.join(", ")
                    };
                    let _ = writeln!(out, "\n**{}{}** {}", esc(label), lang.colon(), esc(&items));
                }
                Block::Note(_) => {}
                Block::Paragraphs { heading, items } => {
                    let _ = writeln!(out, "\n### {}\n", esc(heading));
                    if items.is_empty() {
                        let _ = writeln!(out, "{}", esc(lang.text(Label::NoneListed)));
                    }
                    for item in items {
                        let _ = writeln!(out, "- {}", esc(item));
                    }
                }
            }
        }
    }
    out
}

fn table(out: &mut String, t: &Table, lang: Lang) {
    let _ = writeln!(out, "\n**{}**\n", esc(&t.caption));
    if t.rows.is_empty() {
        let _ = writeln!(out, "_{}_", esc(lang.text(Label::NoData)));
        return;
    }
    let header: Vec<String> = t.columns.iter().map(|c| esc(c)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = t
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in t.rows.iter().chain(&t.total) {
        let cells: Vec<String> = row.iter().map(cell).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let mut legend = Vec::new();
    if t.has_gaps() {
        legend.push(format!("{UNKNOWN} {}", lang.text(Label::LegendUnknown)));
    }
    if t.has_changes() {
        legend.push(format!("{CHANGED} {}", lang.text(Label::LegendChanged)));
    }
    if !legend.is_empty() {
        let _ = writeln!(out, "\n{}", esc(&legend.join(" · ")));
    }
}

fn cell(c: &Cell) -> String {
    let text = esc(&c.text);
    if c.changed {
        format!("**{text}**{CHANGED}")
    } else {
        text
    }
}

/// `s` as literal text in Markdown, on one line: its punctuation backslash-escaped, `|`
/// too so that it stays in its cell, line breaks as spaces.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
