//! What one record becomes in an export: a line of the `publish --file` format, or a row
//! of the CSV, and which records an export leaves out (and why).

use serde_json::{Value, json};
use tipx_protocol::body::{Alert, BestPractice, Body};

use crate::{api::types::RecordView, time};

/// Separator of the values inside one CSV cell (indicators, tags, pillars, states…).
pub(crate) const LIST_SEPARATOR: &str = "; ";

/// The CSV's columns, in order: the header row.
pub(crate) const CSV_COLUMNS: [&str; 22] = [
    "id",
    "created_at",
    "state",
    "kind",
    "title",
    "language",
    "tlp",
    "handling",
    "audience",
    "severity",
    "category",
    "indicators",
    "affected_states",
    "valid_until",
    "pillars",
    "tags",
    "summary",
    "text",
    "references",
    "translations",
    "retracted",
    "retracted_by",
];

/// Why a record listed by the filters is not in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Skip {
    /// Its body was erased: its content is gone.
    Erased,
    /// A retraction, consent or roster: not content an analyst exports.
    Control,
    /// Retracted (JSON lines only: re-publishing a withdrawn record is not an export).
    Retracted,
    /// An alert already expired (JSON lines only: `publish --file` refuses it).
    Expired,
}

impl Skip {
    /// The words for a count of them: "3 erased".
    pub(crate) fn words(self) -> &'static str {
        match self {
            Self::Erased => "erased",
            Self::Control => "control records (retractions, consents, rosters)",
            Self::Retracted => "retracted (the import format cannot mark them)",
            Self::Expired => "expired alerts (an import refuses them)",
        }
    }
}

/// The content of `r`, if an export carries it.
pub(super) fn content(r: &RecordView) -> Result<&Body, Skip> {
    match &r.body {
        None => Err(Skip::Erased),
        Some(b @ (Body::Alert(_) | Body::BestPractice(_))) => Ok(b),
        Some(_) => Err(Skip::Control),
    }
}

/// `r` as one line of the format `tipx publish --file` reads: its body's fields, `kind`,
/// and the envelope (`audience`, `tlp`, `handling`). `now_ms` tells an expired alert.
pub(crate) fn jsonl(r: &RecordView, now_ms: u64) -> Result<Value, Skip> {
    let body = content(r)?;
    if r.retracted_by.is_some() {
        return Err(Skip::Retracted);
    }
    if let Body::Alert(a) = body
        && a.valid_until_ms.is_some_and(|t| t <= now_ms)
    {
        return Err(Skip::Expired);
    }
    let mut line = serde_json::to_value(body).expect("a body is JSON");
    line["audience"] = json!(r.audience);
    line["tlp"] = json!(r.tlp);
    line["handling"] = json!(r.handling);
    Ok(line)
}

/// `r` as a CSV row, one cell per [`CSV_COLUMNS`], every cell escaped by [`escape`].
pub(crate) fn csv(r: &RecordView) -> Result<Vec<String>, Skip> {
    let body = content(r)?;
    let join = |items: Vec<String>| items.join(LIST_SEPARATOR);
    let (language, title, summary, text, translations) = match body {
        Body::Alert(a) => (&a.language, &a.title, &a.description, "", &a.translations),
        Body::BestPractice(b) => (
            &b.language,
            &b.title,
            &b.summary,
            b.text.as_str(),
            &b.translations,
        ),
        _ => unreachable!("content() keeps alerts and best practices"),
    };
    let alert = |f: fn(&Alert) -> String| match body {
        Body::Alert(a) => f(a),
        _ => String::new(),
    };
    let practice = |f: fn(&BestPractice) -> String| match body {
        Body::BestPractice(b) => f(b),
        _ => String::new(),
    };
    let tags = match body {
        Body::Alert(a) => &a.tags,
        Body::BestPractice(b) => &b.tags,
        _ => unreachable!("content() keeps alerts and best practices"),
    };
    let row = vec![
        r.id.to_string(),
        time::rfc3339(r.created_at_ms),
        r.state.to_string(),
        r.kind.clone(),
        title.clone(),
        language.clone(),
        r.tlp.to_string(),
        r.handling.to_string(),
        join(r.audience.clone()),
        alert(|a| a.severity.to_string()),
        alert(|a| a.category.clone()),
        alert(|a| {
            a.indicators
                .iter()
                .map(|i| format!("{}:{}", i.kind, i.value))
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR)
        }),
        alert(|a| {
            a.affected_states
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR)
        }),
        alert(|a| a.valid_until_ms.map(time::rfc3339).unwrap_or_default()),
        practice(|b| {
            b.pillars
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR)
        }),
        join(tags.clone()),
        summary.clone(),
        text.to_string(),
        practice(|b| {
            b.references
                .iter()
                .map(|x| match x.url.as_str() {
                    "" => x.title.clone(),
                    url => format!("{} <{url}>", x.title),
                })
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR)
        }),
        join(
            translations
                .iter()
                .map(|t| format!("{}: {}", t.language, t.title))
                .collect(),
        ),
        if r.retracted_by.is_some() {
            "yes"
        } else {
            "no"
        }
        .to_string(),
        r.retracted_by.map(|id| id.to_string()).unwrap_or_default(),
    ];
    Ok(row.into_iter().map(crate::spreadsheet::escape).collect())
}
