//! The report's charts, as SVG text drawn with plotters' SVG backend. Text stays `<text>`
//! elements in a generic `sans-serif` family, so drawing reads no font file and the viewer
//! (a browser, a PDF printer) sets the words.
//!
//! Every chart carries the figures it drew ([`Chart::series`]), keyed as in the model
//! (state codes, `YYYY-MM` months, pillar and severity names as in JSON), so that a test or
//! a reader can hold a chart against the model. A chart with nothing to draw is still a
//! whole SVG, with its title and the words for "no data", and no series.

use std::collections::{BTreeMap, BTreeSet};

use plotters::{
    coord::{
        Shift,
        ranged1d::{DefaultFormatting, KeyPointHint, Ranged},
    },
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tipx_protocol::{
    StateCode,
    body::{Pillar, Severity},
};

use super::{
    labels::{Label, Lang, parse_month},
    model::{Participation, Volume},
};

/// Width of a chart, in pixels of its `viewBox` (the SVG scales to its container).
const WIDTH: u32 = 900;
/// Height of a chart but the consent matrix, in pixels of its `viewBox`.
const HEIGHT: u32 = 460;
/// Side of the consent matrix's plot, in pixels: 35 members get a 16-pixel cell each.
const MATRIX_SIDE: u32 = 560;
/// Room left and below the consent matrix for its labels, in pixels.
const MATRIX_MARGIN: u32 = 120;
/// Most month labels on an axis: past 12 months, every second (third…) month is named.
const MAX_MONTH_LABELS: usize = 12;
/// Height of one line of the legend of states, in pixels.
const LEGEND_LINE: u32 = 16;
/// Width of one column of the legend of states, in pixels (a swatch and a code).
const LEGEND_COLUMN: u32 = 56;
/// The font family every text is set in.
const FONT: &str = "sans-serif";
/// Colour of single-series bars and filled matrix cells.
const INK: RGBColor = RGBColor(0x1f, 0x4e, 0x79);
/// Colour of grid lines and of the matrix's diagonal.
const GRID: RGBColor = RGBColor(0xd0, 0xd5, 0xdb);

/// A chart and the figures it shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Its title, in the report's language.
    pub title: String,
    /// A standalone SVG document (`<svg xmlns=…>`), also fit to put inline in HTML.
    pub svg: String,
    /// What it drew, one series per colour; empty when it shows "no data".
    pub series: Vec<Series>,
}

/// One series of a chart: a name and its points, keyed as in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// A state code, or the name of the one series of a bar chart (`pillars`, …).
    pub name: String,
    /// (x, value): x a month `YYYY-MM`, a pillar or severity as in JSON, or a state code.
    pub points: Vec<(String, u64)>,
}

/// plotters failed to draw a chart. Not expected of any data: the report has a bug.
#[derive(Debug, thiserror::Error)]
#[error("could not draw the chart \"{chart}\": {reason}")]
pub struct Error {
    /// The chart's title.
    pub chart: String,
    /// What plotters said.
    pub reason: String,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Records published per month, stacked by state (every kind counted).
pub fn records_by_month(volume: &Volume, lang: Lang) -> Result<Chart, Error> {
    let title = lang.text(Label::ChartMonthly);
    let (months, series) = monthly(volume);
    if series.is_empty() {
        return no_data(title, lang);
    }
    // The year only where it starts and turns: twelve "sept. 2026" do not fit side by side.
    let labels: Vec<String> = months
        .iter()
        .enumerate()
        .map(|(i, m)| match parse_month(m) {
            Some((_, month)) if i > 0 && month != 1 => lang.month_abbreviation(month).to_string(),
            _ => lang.month_key(m),
        })
        .collect();
    let svg = draw(title, (WIDTH, HEIGHT), |root| {
        stacked(root, title, lang, &labels, &series)
    })?;
    Ok(Chart {
        title: title.to_string(),
        svg,
        series,
    })
}

/// Best practices published, by pillar.
pub fn pillars(volume: &Volume, lang: Lang) -> Result<Chart, Error> {
    let bars = Pillar::ALL.iter().map(|&p| {
        let n = volume.pillars.get(&p).copied().unwrap_or(0);
        (p.as_str(), lang.text(Label::pillar(p)), n, INK)
    });
    let axes = (Label::ColPillar, Label::AxisPractices);
    bar_chart(Label::ChartPillars, "pillars", axes, bars.collect(), lang)
}

/// Alerts published, by severity, each severity in its colour.
pub fn severities(volume: &Volume, lang: Lang) -> Result<Chart, Error> {
    let bars = Severity::ALL.iter().map(|&s| {
        let n = volume.severities.get(&s).copied().unwrap_or(0);
        (
            s.as_str(),
            lang.text(Label::severity(s)),
            n,
            severity_colour(s),
        )
    });
    let axes = (Label::ColSeverity, Label::AxisAlerts);
    bar_chart(
        Label::ChartSeverities,
        "severities",
        axes,
        bars.collect(),
        lang,
    )
}

/// Which members exchange with which: a square per pair of states, filled where both asked
/// to exchange. One series per state (its row), a point per state (1 for a pair, else 0).
pub fn consent_matrix(participation: &Participation, lang: Lang) -> Result<Chart, Error> {
    let title = lang.text(Label::ChartConsent);
    let series = matrix(participation);
    if series.is_empty() {
        return no_data(title, lang);
    }
    let n = series.len() as u32;
    let cell = (MATRIX_SIDE / n).clamp(12, 40);
    let side = cell * n;
    let size = ((side + MATRIX_MARGIN).max(640), side + MATRIX_MARGIN);
    let svg = draw(title, size, |root| {
        heatmap(root, title, lang, &series, side)
    })?;
    Ok(Chart {
        title: title.to_string(),
        svg,
        series,
    })
}

/// The four charts, in the order of the report: months, pillars, severities, consents.
pub fn all(
    volume: &Volume,
    participation: &Participation,
    lang: Lang,
) -> Result<[Chart; 4], Error> {
    Ok([
        records_by_month(volume, lang)?,
        pillars(volume, lang)?,
        severities(volume, lang)?,
        consent_matrix(participation, lang)?,
    ])
}

/// The months to show (those of the period and any with counts) and, per state with a
/// count, its records per month summed over kinds.
fn monthly(volume: &Volume) -> (Vec<String>, Vec<Series>) {
    let mut months: BTreeSet<&str> = volume.months.iter().map(String::as_str).collect();
    months.extend(volume.by_month.iter().map(|c| c.month.as_str()));
    let index: BTreeMap<&str, usize> = months.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut per_state: BTreeMap<StateCode, Vec<u64>> = BTreeMap::new();
    for c in &volume.by_month {
        if let Some(&i) = index.get(c.month.as_str()) {
            let row = per_state
                .entry(c.state)
                .or_insert_with(|| vec![0; months.len()]);
            row[i] = row[i].saturating_add(c.count);
        }
    }
    let series = per_state
        .into_iter()
        .filter(|(_, row)| row.iter().any(|&n| n > 0))
        .map(|(state, row)| Series {
            name: state.to_string(),
            points: months.iter().map(|m| m.to_string()).zip(row).collect(),
        })
        .collect();
    (months.into_iter().map(str::to_string).collect(), series)
}

/// One row per state (members and any state of a pair), one point per state.
fn matrix(participation: &Participation) -> Vec<Series> {
    let mut states: BTreeSet<StateCode> = participation.members.iter().map(|m| m.state).collect();
    let mut pairs = BTreeSet::new();
    for p in &participation.consents {
        states.extend([p.a, p.b]);
        pairs.extend([(p.a, p.b), (p.b, p.a)]);
    }
    states
        .iter()
        .map(|&row| Series {
            name: row.to_string(),
            points: states
                .iter()
                .map(|&col| (col.to_string(), u64::from(pairs.contains(&(row, col)))))
                .collect(),
        })
        .collect()
}

/// A bar chart of one series: bars of (key, label, value, colour).
fn bar_chart(
    title: Label,
    name: &str,
    (x_axis, y_axis): (Label, Label),
    bars: Vec<(&str, &str, u64, RGBColor)>,
    lang: Lang,
) -> Result<Chart, Error> {
    let title = lang.text(title);
    if bars.iter().all(|b| b.2 == 0) {
        return no_data(title, lang);
    }
    let series = vec![Series {
        name: name.to_string(),
        points: bars.iter().map(|b| (b.0.to_string(), b.2)).collect(),
    }];
    let svg = draw(title, (WIDTH, HEIGHT), |root| {
        let root = root.titled(title, (FONT, 24))?;
        let labels: Vec<&str> = bars.iter().map(|b| b.1).collect();
        let top = headroom(bars.iter().map(|b| b.2).max().unwrap_or(0));
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(categories(labels.len()), 0u64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&|x| category(&labels, *x).to_string())
            .y_label_formatter(&|y| lang.number(*y))
            .x_desc(lang.text(x_axis))
            .y_desc(lang.text(y_axis))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x - 0.35, 0), (x + 0.35, b.2)], b.3.filled())
        }))?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.2 > 0)
                .map(|(i, b)| {
                    let style = TextStyle::from((FONT, 15).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Bottom));
                    Text::new(lang.number(b.2), (i as f64, b.2), style)
                }),
        )?;
        Ok(())
    })?;
    Ok(Chart {
        title: title.to_string(),
        svg,
        series,
    })
}

/// Stacked bars: one bar per month, one colour per state, and a legend of states.
fn stacked(
    root: &Area<'_>,
    title: &str,
    lang: Lang,
    months: &[String],
    states: &[Series],
) -> Drawn {
    let root = root.titled(title, (FONT, 24))?;
    let (_, height) = root.dim_in_pixel();
    let per_column = ((height.saturating_sub(40)) / LEGEND_LINE).max(1) as usize;
    let columns = states.len().div_ceil(per_column) as u32;
    let (plot, legend) = root.split_horizontally(WIDTH - columns * LEGEND_COLUMN - 16);
    let mut totals = vec![0u64; months.len()];
    for s in states {
        for (t, (_, n)) in totals.iter_mut().zip(&s.points) {
            *t = t.saturating_add(*n);
        }
    }
    let top = headroom(totals.iter().copied().max().unwrap_or(0));
    let step = months.len().div_ceil(MAX_MONTH_LABELS).max(1);
    let mut chart = ChartBuilder::on(&plot)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(categories_every(months.len(), step), 0u64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|x| category(months, *x).to_string())
        .y_label_formatter(&|y| lang.number(*y))
        .x_desc(lang.text(Label::AxisMonth))
        .y_desc(lang.text(Label::AxisRecords))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()?;
    let mut base = vec![0u64; months.len()];
    for (si, s) in states.iter().enumerate() {
        let colour = state_colour(si);
        let mut bars = Vec::new();
        for (mi, (_, n)) in s.points.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let (x, y0) = (mi as f64, base[mi]);
            base[mi] = y0.saturating_add(*n);
            bars.push(Rectangle::new(
                [(x - 0.4, y0), (x + 0.4, base[mi])],
                colour.filled(),
            ));
        }
        chart.draw_series(bars)?;
    }
    for (i, s) in states.iter().enumerate() {
        let (col, row) = ((i / per_column) as i32, (i % per_column) as i32);
        let (x, y) = (
            8 + col * LEGEND_COLUMN as i32,
            20 + row * LEGEND_LINE as i32,
        );
        legend.draw(&Rectangle::new(
            [(x, y), (x + 11, y + 11)],
            state_colour(i).filled(),
        ))?;
        legend.draw(&Text::new(s.name.as_str(), (x + 16, y), (FONT, 15)))?;
    }
    Ok(())
}

/// The consent matrix: rows and columns are states, the first at the top left.
fn heatmap(root: &Area<'_>, title: &str, lang: Lang, rows: &[Series], side: u32) -> Drawn {
    let root = root.titled(title, (FONT, 24))?;
    let n = rows.len();
    let codes: Vec<&str> = rows.iter().map(|s| s.name.as_str()).collect();
    let (width, _) = root.dim_in_pixel();
    // A matrix narrower than its title stands in the middle.
    let spare = width.saturating_sub(side + MATRIX_MARGIN) as i32;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .margin_left(10 + spare / 2)
        .margin_right(10 + spare - spare / 2)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(categories(n), categories(n))?;
    // Row i is drawn at y = n - 1 - i, so that the first state is at the top.
    let row_of = |y: f64| (n as f64 - 1.0 - y).round();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|x| category(&codes, *x).to_string())
        .y_label_formatter(&|y| category(&codes, row_of(*y)).to_string())
        .x_desc(lang.text(Label::ColPartner))
        .y_desc(lang.text(Label::ColState))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 16))
        .draw()?;
    let cell = |row: usize, col: usize| {
        let (x, y) = (col as f64, (n - 1 - row) as f64);
        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)]
    };
    chart.draw_series((0..n).map(|i| Rectangle::new(cell(i, i), GRID.filled())))?;
    chart.draw_series(rows.iter().enumerate().flat_map(|(r, s)| {
        s.points
            .iter()
            .enumerate()
            .filter(|(_, (_, v))| *v > 0)
            .map(move |(c, _)| {
                let mut square = Rectangle::new(cell(r, c), INK.filled());
                square.set_margin(1, 1, 1, 1);
                square
            })
    }))?;
    let edge = n as f64 - 0.5;
    let lines = (0..=n).flat_map(|i| {
        let at = i as f64 - 0.5;
        [
            PathElement::new(vec![(at, -0.5), (at, edge)], GRID),
            PathElement::new(vec![(-0.5, at), (edge, at)], GRID),
        ]
    });
    chart.draw_series(lines)?;
    Ok(())
}

/// A chart with nothing to show: its title and the words for "no data", in a frame.
fn no_data(title: &str, lang: Lang) -> Result<Chart, Error> {
    let svg = draw(title, (WIDTH, HEIGHT / 2), |root| {
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        root.draw(&Rectangle::new(
            [(1, 1), (w - 2, h - 2)],
            GRID.stroke_width(2),
        ))?;
        let centred = |size| {
            TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Center))
        };
        root.draw(&Text::new(title, (w / 2, 40), centred(22)))?;
        let grey = centred(20).color(&RGBColor(0x55, 0x5b, 0x63));
        root.draw(&Text::new(
            lang.text(Label::NoData),
            (w / 2, h / 2 + 10),
            grey,
        ))?;
        Ok(())
    })?;
    Ok(Chart {
        title: title.to_string(),
        svg,
        series: Vec::new(),
    })
}

/// Runs `paint` on a white SVG canvas of `size` and returns the document.
fn draw(
    title: &str,
    size: (u32, u32),
    paint: impl FnOnce(&Area<'_>) -> Drawn,
) -> Result<String, Error> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| paint(&root))
            .and_then(|()| root.present())
            .map_err(|e| Error {
                chart: title.to_string(),
                reason: e.to_string(),
            })?;
    }
    Ok(svg)
}

/// An axis of `n` categories at 0, 1, … n-1, each taking a unit (half on either side),
/// with a label on every `step`-th. plotters' own discrete axes put a lone category at
/// the edge, and its axes with chosen ticks lose the label formatter: hence this one.
#[derive(Clone, Copy)]
struct Categories {
    n: usize,
    step: usize,
}

impl Ranged for Categories {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, (from, to): (i32, i32)) -> i32 {
        let share = (v + 0.5) / self.n.max(1) as f64;
        from + (f64::from(to - from) * share).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.n)
            .step_by(self.step.max(1))
            .map(|i| i as f64)
            .collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.n as f64 - 0.5
    }
}

fn categories(n: usize) -> Categories {
    Categories { n, step: 1 }
}

fn categories_every(n: usize, step: usize) -> Categories {
    Categories { n, step }
}

/// The label of the category at `x`, if there is one.
fn category<S: AsRef<str>>(labels: &[S], x: f64) -> &str {
    if x < -0.25 {
        return "";
    }
    labels.get(x.round() as usize).map_or("", |l| l.as_ref())
}

/// The top of a value axis: a tenth above the highest value, and never 0.
fn headroom(max: u64) -> u64 {
    max.saturating_add(max / 10).saturating_add(1)
}

/// Well-apart hues for up to a few dozen states (the golden angle), light and dark in
/// turn.
fn state_colour(i: usize) -> HSLColor {
    let hue = (i as f64 * 0.381_966_011).fract();
    let lightness = if i.is_multiple_of(2) { 0.42 } else { 0.62 };
    HSLColor(hue, 0.6, lightness)
}

fn severity_colour(s: Severity) -> RGBColor {
    match s {
        Severity::Info => RGBColor(0x6c, 0x7a, 0x89),
        Severity::Low => RGBColor(0x3a, 0x87, 0x3f),
        Severity::Medium => RGBColor(0xd4, 0xa0, 0x17),
        Severity::High => RGBColor(0xd9, 0x6a, 0x12),
        Severity::Critical => RGBColor(0xb0, 0x2a, 0x2a),
    }
}

#[cfg(test)]
mod tests;
