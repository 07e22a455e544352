//! The shape of the report as every written format shows it: sections of tables, lists,
//! notes and chart places, every word in the chosen language and every figure already
//! written out. `layout` fills it from the model; the HTML and Markdown writers only walk
//! it, so the two cannot tell different stories.

use crate::report::{
    charts,
    labels::{Label, Lang},
    model::Report,
};

/// The mark of a figure that is not known.
pub(super) const UNKNOWN: &str = "—";
/// The mark of a profile field that changed.
pub(super) const CHANGED: &str = "†";

/// The whole report, ready to write.
pub(super) struct Document {
    pub(super) lang: Lang,
    pub(super) title: String,
    /// (label, value): period, scope, author, date.
    pub(super) meta: Vec<(String, String)>,
    pub(super) sections: Vec<Section>,
}

/// One of the five numbered sections.
pub(super) struct Section {
    /// Its stable anchor: `participation`, `volume`, `profiles`, `annex`, `notes`.
    pub(super) id: &'static str,
    /// "1. Participation".
    pub(super) heading: String,
    pub(super) blocks: Vec<Block>,
}

/// A piece of a section.
pub(super) enum Block {
    /// Where a chart goes (formats without charts skip it: its figures are in a table).
    Chart(Which),
    Table(Table),
    /// A short list of states under a label: "Joined during the period: Colombia (CO)".
    List {
        label: String,
        items: Vec<String>,
    },
    /// A line of explanation.
    Note(String),
    /// Sentences under a sub-heading.
    Paragraphs {
        heading: String,
        items: Vec<String>,
    },
}

/// Which chart.
#[derive(Clone, Copy)]
pub(super) enum Which {
    Monthly,
    Pillars,
    Severities,
    Consent,
}

impl Which {
    /// Its anchor in HTML.
    pub(super) fn id(self) -> &'static str {
        match self {
            Self::Monthly => "chart-records-by-month",
            Self::Pillars => "chart-pillars",
            Self::Severities => "chart-severities",
            Self::Consent => "chart-consents",
        }
    }

    /// Draws it.
    pub(super) fn draw(self, report: &Report, lang: Lang) -> Result<charts::Chart, charts::Error> {
        match self {
            Self::Monthly => charts::records_by_month(&report.volume, lang),
            Self::Pillars => charts::pillars(&report.volume, lang),
            Self::Severities => charts::severities(&report.volume, lang),
            Self::Consent => charts::consent_matrix(&report.participation, lang),
        }
    }
}

/// A table with its caption; a figure that is not known is marked, and so is a field that
/// changed.
pub(super) struct Table {
    pub(super) caption: String,
    pub(super) columns: Vec<String>,
    /// Per column: figures, aligned right.
    pub(super) numeric: Vec<bool>,
    pub(super) rows: Vec<Vec<Cell>>,
    /// A last row of totals.
    pub(super) total: Option<Vec<Cell>>,
}

impl Table {
    /// An empty table: `columns` are (name, whether figures).
    pub(super) fn new(lang: Lang, caption: Label, columns: &[(Label, bool)]) -> Self {
        Self {
            caption: lang.text(caption).to_string(),
            columns: columns.iter().map(|c| lang.text(c.0).to_string()).collect(),
            numeric: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
            total: None,
        }
    }

    /// Whether a cell is unknown: the legend of [`UNKNOWN`] goes under it.
    pub(super) fn has_gaps(&self) -> bool {
        self.cells().any(|c| c.unknown)
    }

    /// Whether a cell changed: the legend of [`CHANGED`] goes under it.
    pub(super) fn has_changes(&self) -> bool {
        self.cells().any(|c| c.changed)
    }

    fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows.iter().chain(&self.total).flatten()
    }
}

/// One cell: its text, without marks (the writers add them).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) unknown: bool,
    pub(super) changed: bool,
}

impl Cell {
    pub(super) fn text(s: impl Into<String>) -> Self {
        Self {
            text: s.into(),
            unknown: false,
            changed: false,
        }
    }

    pub(super) fn unknown() -> Self {
        Self {
            text: UNKNOWN.to_string(),
            unknown: true,
            changed: false,
        }
    }

    pub(super) fn or_unknown<T>(value: Option<T>, show: impl FnOnce(T) -> String) -> Self {
        value.map_or_else(Self::unknown, |v| Self::text(show(v)))
    }

    pub(super) fn changed_if(mut self, changed: bool) -> Self {
        self.changed = changed;
        self
    }
}
