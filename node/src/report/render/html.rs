//! The report as one self-contained HTML file: the style and the SVG charts inline, no
//! script and nothing fetched (a Content-Security-Policy says so to the browser too), so
//! it reads the same offline, with scripts disabled and on paper (A4, tables and charts
//! kept whole where they fit). Every text that comes from data is escaped.

use std::fmt::Write;

use super::{
    document::{Block, CHANGED, Cell, Document, Table, UNKNOWN, Which},
    layout::document,
};
use crate::report::{
    charts,
    labels::{Label, Lang},
    model::Report,
};

/// The style sheet: screen and print.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1f24;
  max-width: 1120px; margin: 2rem auto; padding: 0 1.25rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .5rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #1f4e79; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0 2rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
nav ol { padding-left: 1.2rem; }
a { color: #1f4e79; }
.table { overflow-x: auto; margin: 1rem 0 1.5rem; }
table { border-collapse: collapse; font-size: .88rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; white-space: nowrap; }
th, td { border: 1px solid #c9d1d9; padding: .25rem .5rem; vertical-align: top; }
thead th { background: #eef2f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.unknown { color: #59636e; text-align: center; }
td.changed { background: #fff1b8; font-weight: 600; }
td.empty { color: #59636e; font-style: italic; }
tfoot td { font-weight: 600; background: #f6f8fa; }
.legend, .note { font-size: .85rem; color: #3d444d; margin: .3rem 0 1rem; }
figure.chart { margin: 1.5rem 0; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
p.list { margin: .4rem 0; }
@page { size: A4; margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, figure, .legend, caption { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .table { overflow: visible; }
  table, .legend, .note { font-size: 8pt; }
  td.changed, thead th, tfoot td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The report in `lang` as one HTML document.
pub fn html(report: &Report, lang: Lang) -> Result<String, charts::Error> {
    let doc = document(report, lang);
    let mut out = String::with_capacity(256 * 1024);
    head(&mut out, &doc);
    for section in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            section.id,
            esc(&section.heading)
        );
        for block in &section.blocks {
            match block {
                Block::Chart(which) => chart(&mut out, *which, report, lang)?,
                Block::Table(t) => table(&mut out, t, lang),
                Block::List { label, items } => {
                    let items = if items.is_empty() {
                        lang.text(Label::NoneListed).to_string()
                    } else {
                        items.join(", ")
                    };
                    let _ = writeln!(
                        out,
                        "<p class=\"list\"><strong>{}{}</strong> {}</p>",
                        esc(label),
                        lang.colon(),
                        esc(&items)
                    );
                }
                Block::Note(text) => {
                    let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(text));
                }
                Block::Paragraphs { heading, items } => {
                    let _ = writeln!(out, "<h3>{}</h3>", esc(heading));
                    if items.is_empty() {
                        let _ = writeln!(out, "<p>{}</p>", esc(lang.text(Label::NoneListed)));
                    } else {
                        out.push_str("<ul class=\"notices\">\n");
                        for item in items {
                            let _ = writeln!(out, "<li>{}</li>", esc(item));
                        }
                        out.push_str("</ul>\n");
                    }
                }
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn head(out: &mut String, doc: &Document) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{title}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<header>\n<h1>{title}</h1>\n<dl class=\"meta\">\n",
        lang = doc.lang.code(),
        title = esc(&doc.title),
    );
    for (label, value) in &doc.meta {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
    }
    let _ = writeln!(
        out,
        "</dl>\n</header>\n<nav aria-label=\"{}\">\n<h2>{}</h2>\n<ol>",
        esc(doc.lang.text(Label::Contents)),
        esc(doc.lang.text(Label::Contents))
    );
    for s in &doc.sections {
        let heading = s
            .heading
            .split_once(". ")
            .map_or(s.heading.as_str(), |h| h.1);
        let _ = writeln!(out, "<li><a href=\"#{}\">{}</a></li>", s.id, esc(heading));
    }
    out.push_str("</ol>\n</nav>\n");
}

fn chart(out: &mut String, which: Which, report: &Report, lang: Lang) -> Result<(), charts::Error> {
    let chart = which.draw(report, lang)?;
    let title = esc(&chart.title);
    // plotters writes `<svg width=…`: name the picture for screen readers.
    let svg = chart.svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{title}\" "),
        1,
    );
    // The title is drawn in the chart: no caption under it.
    let _ = writeln!(
        out,
        "<figure class=\"chart\" id=\"{}\">\n{}\n</figure>",
        which.id(),
        svg.trim_end()
    );
    Ok(())
}

fn table(out: &mut String, t: &Table, lang: Lang) {
    let _ = write!(
        out,
        "<div class=\"table\">\n<table>\n<caption>{}</caption>\n<thead><tr>",
        esc(&t.caption)
    );
    for c in &t.columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    if t.rows.is_empty() {
        let _ = writeln!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">{}</td></tr>",
            t.columns.len(),
            esc(lang.text(Label::NoData))
        );
    }
    for row in &t.rows {
        table_row(out, row, &t.numeric);
    }
    out.push_str("</tbody>\n");
    if let Some(total) = &t.total {
        out.push_str("<tfoot>\n");
        table_row(out, total, &t.numeric);
        out.push_str("</tfoot>\n");
    }
    out.push_str("</table>\n");
    let mut legend = Vec::new();
    if t.has_gaps() {
        legend.push(format!("{UNKNOWN} {}", lang.text(Label::LegendUnknown)));
    }
    if t.has_changes() {
        legend.push(format!("{CHANGED} {}", lang.text(Label::LegendChanged)));
    }
    if !legend.is_empty() {
        let _ = writeln!(out, "<p class=\"legend\">{}</p>", esc(&legend.join(" · ")));
    }
    out.push_str("</div>\n");
}

fn table_row(out: &mut String, row: &[Cell], numeric: &[bool]) {
    out.push_str("<tr>");
    for (i, cell) in row.iter().enumerate() {
        let mut class = Vec::new();
        if numeric.get(i).copied().unwrap_or(false) {
            class.push("num");
        }
        if cell.unknown {
            class.push("unknown");
        }
        if cell.changed {
            class.push("changed");
        }
        let class = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{}\"", class.join(" "))
        };
        let mark = if cell.changed { CHANGED } else { "" };
        let _ = write!(out, "<td{class}>{}{mark}</td>", esc(&cell.text));
    }
    out.push_str("</tr>\n");
}

/// `s` safe as HTML text and as a quoted attribute value.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
