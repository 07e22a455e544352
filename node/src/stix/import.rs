//! Alerts from a STIX 2.1 bundle written by another tool (MISP's converter, OpenCTI): each
//! report, grouping or note becomes one alert, with the values of the indicators and
//! observables it refers to, the countries of the locations it refers to, its TLP
//! marking, its labels and its translations. Everything else is counted and skipped. A
//! best practice tipx exported (`x_tipx_kind`) comes back as a best practice.
//!
//! The alerts come out as lines of the `publish --file` format, so that they pass the same
//! checks as any import; nothing is published when the bundle is not a valid one.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};
use tipx_protocol::{
    StateCode, Tlp,
    body::{IndicatorType, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS},
};

use super::{TLP1, TLP2, TLP2_EXTENSION, pattern};

/// What a bundle gave.
#[derive(Debug, Default)]
pub struct Imported {
    /// One `publish --file` line per alert.
    pub lines: Vec<Value>,
    /// Objects no alert was made from and no alert refers to, by type.
    pub skipped: BTreeMap<String, usize>,
    /// What was changed on the way, in words (a title cut to length, a value no tipx type
    /// has…).
    pub notes: Vec<String>,
}

/// The text of `o`'s property `k` ("" if absent or not text).
fn text<'a>(o: &'a Map<String, Value>, k: &str) -> &'a str {
    o.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Containers: the objects that become alerts.
const CONTAINERS: [&str; 3] = ["report", "grouping", "note"];

/// Reads the STIX 2.1 bundle in `bytes` (from `name`, for errors) into alerts.
pub fn alerts_from(name: &str, bytes: &[u8]) -> anyhow::Result<Imported> {
    let bad = |why: String| anyhow::anyhow!("{name}: not a valid STIX 2.1 bundle: {why}");
    let bundle: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("{e}")))?;
    if bundle["type"] != "bundle" {
        return Err(bad("its \"type\" is not \"bundle\"".into()));
    }
    let Some(objects) = bundle["objects"].as_array() else {
        return Err(bad("it has no \"objects\" array".into()));
    };
    let mut by_id: HashMap<&str, &Map<String, Value>> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        let Some(obj) = o.as_object() else {
            return Err(bad(format!("object {} is not a JSON object", i + 1)));
        };
        let (Some(t), Some(id)) = (
            obj.get("type").and_then(Value::as_str),
            obj.get("id").and_then(Value::as_str),
        ) else {
            return Err(bad(format!(
                "object {} has no \"type\" or no \"id\"",
                i + 1
            )));
        };
        if !id.starts_with(&format!("{t}--")) {
            return Err(bad(format!(
                "object {id}: its id does not start with \"{t}--\""
            )));
        }
        if obj.get("spec_version").is_some_and(|v| v != "2.1") && t != "marking-definition" {
            return Err(bad(format!(
                "object {id} is STIX {} (2.1 only)",
                obj["spec_version"]
            )));
        }
        by_id.insert(id, obj);
    }
    let mut out = Imported::default();
    let mut used: std::collections::HashSet<&str> = Default::default();
    let translations = translations_of(objects);
    for obj in objects.iter().filter_map(Value::as_object) {
        let t = text(obj, "type");
        if !CONTAINERS.contains(&t) {
            continue;
        }
        let id = text(obj, "id");
        used.insert(id);
        let refs: Vec<&str> = obj
            .get("object_refs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut line = alert_line(obj, &by_id, &mut out.notes);
        if obj.get("x_tipx_kind").is_some_and(|k| k == "best-practice") {
            // A best practice tipx exported comes back as one.
            out.lines.push(best_practice_line(obj, line, &translations));
            continue;
        }
        let mut indicators = Vec::new();
        let mut states = Vec::new();
        for r in &refs {
            let Some(target) = by_id.get(r) else {
                out.notes
                    .push(format!("{id} refers to {r}, which is not in the bundle"));
                continue;
            };
            used.insert(r);
            match text(target, "type") {
                "indicator" => indicators.extend(indicators_of(target, &mut out.notes)),
                "location" => states.extend(state_of(target)),
                "x-misp-attribute" => indicators.extend(misp_attribute(target)),
                sco @ ("email-addr" | "url" | "domain-name" | "user-account") => {
                    indicators.extend(observable(sco, target));
                }
                "identity" | "marking-definition" | "observed-data" | "email-message"
                | "relationship" | "language-content" => {}
                other => out
                    .notes
                    .push(format!("{r}: a {other} is not part of an alert")),
            }
        }
        if let Some(Value::Array(extra)) = obj.get("x_tipx_indicators") {
            indicators.extend(extra.iter().cloned());
        }
        let mut seen = std::collections::HashSet::new();
        indicators.retain(|i| seen.insert((i["type"].to_string(), i["value"].to_string())));
        line["indicators"] = indicators.into();
        line["affected_states"] = json!(states);
        if let Some(t) = translations.get(id) {
            line["translations"] = t.clone();
        }
        out.lines.push(line);
    }
    for obj in objects.iter().filter_map(Value::as_object) {
        let (t, id) = (text(obj, "type"), text(obj, "id"));
        let attached = used.contains(id)
            || matches!(t, "marking-definition" | "identity" | "language-content");
        if !attached {
            *out.skipped.entry(t.to_string()).or_default() += 1;
        }
    }
    Ok(out)
}

/// The alert's fields a container gives (all but indicators, places and translations).
fn alert_line(
    obj: &Map<String, Value>,
    by_id: &HashMap<&str, &Map<String, Value>>,
    notes: &mut Vec<String>,
) -> Value {
    let id = text(obj, "id");
    let prop = |k: &str| text(obj, k).to_string();
    let (title, description) = match text(obj, "type") {
        "note" => {
            let content = prop("content");
            let title = match prop("abstract") {
                t if t.is_empty() => content.lines().next().unwrap_or("").to_string(),
                t => t,
            };
            (title, content)
        }
        _ => (prop("name"), prop("description")),
    };
    let title = cut(&title, MAX_TITLE_CHARS, id, "title", notes);
    let description = cut(&description, MAX_SUMMARY_CHARS, id, "description", notes);
    let mut line = json!({
        "kind": "alert",
        "title": if title.is_empty() { "(untitled)".to_string() } else { title },
        "description": description,
        "language": obj.get("lang").and_then(Value::as_str).unwrap_or("en"),
        "severity": obj.get("x_tipx_severity").and_then(Value::as_str).unwrap_or("medium"),
    });
    if let Some(c) = obj.get("x_tipx_category").and_then(Value::as_str) {
        line["category"] = c.into();
    }
    if let Some(h) = obj.get("x_tipx_handling").and_then(Value::as_str) {
        line["handling"] = h.into();
    }
    if let Some(Value::Array(labels)) = obj.get("labels") {
        // MISP writes its own bookkeeping and the TLP as labels too.
        let tags: Vec<&Value> = labels
            .iter()
            .filter(|l| {
                l.as_str()
                    .is_some_and(|l| !l.starts_with("misp:") && !l.starts_with("tlp:"))
            })
            .collect();
        line["tags"] = json!(tags);
    }
    if let Some(tlp) = tlp_of(obj, by_id) {
        line["tlp"] = tlp.to_string().into();
    }
    line
}

/// A best practice from a report tipx wrote (`x_tipx_kind`), from the alert fields
/// already read.
fn best_practice_line(
    obj: &Map<String, Value>,
    alert: Value,
    translations: &HashMap<String, Value>,
) -> Value {
    let mut line = json!({
        "kind": "best-practice",
        "title": alert["title"],
        "summary": alert["description"],
        "language": alert["language"],
        "text": obj.get("x_tipx_text").cloned().unwrap_or_else(|| "".into()),
        "pillars": obj.get("x_tipx_pillars").cloned().unwrap_or_else(|| json!([])),
    });
    for k in ["tags", "tlp", "handling"] {
        if !alert[k].is_null() {
            line[k] = alert[k].clone();
        }
    }
    let references: Vec<Value> = obj
        .get("external_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e["source_name"] != "tipx")
        .map(|e| {
            json!({
                "title": e["source_name"].as_str().unwrap_or(""),
                "url": e["url"].as_str().unwrap_or(""),
            })
        })
        .collect();
    line["references"] = references.into();
    if let Some(t) = translations.get(text(obj, "id")) {
        line["translations"] = t.clone();
    }
    line
}

/// `s` cut to `max` characters, with a note when it was longer.
fn cut(s: &str, max: usize, id: &str, what: &str, notes: &mut Vec<String>) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    notes.push(format!("{id}: {what} cut to {max} characters"));
    s.chars().take(max).collect()
}

/// The TLP of the markings `obj` refers to: TLP 2.0 and 1.0's official ids, or a marking
/// definition in the bundle that states its TLP. The strictest wins.
fn tlp_of(obj: &Map<String, Value>, by_id: &HashMap<&str, &Map<String, Value>>) -> Option<Tlp> {
    let refs = obj.get("object_marking_refs")?.as_array()?;
    refs.iter()
        .filter_map(Value::as_str)
        .filter_map(|r| {
            TLP2.iter()
                .find(|t| t.1 == r)
                .map(|t| t.0)
                .or_else(|| TLP1.iter().find(|t| t.1 == r).map(|t| t.0))
                .or_else(|| {
                    let m = by_id.get(r)?;
                    let named = m
                        .get("extensions")
                        .and_then(|e| e.get(TLP2_EXTENSION))
                        .and_then(|e| e.get("tlp_2_0"))
                        .or_else(|| m.get("definition").and_then(|d| d.get("tlp")))
                        .and_then(Value::as_str)?;
                    let named = if named == "white" { "clear" } else { named };
                    named.parse().ok()
                })
        })
        .max_by_key(|t| strictness(*t))
}

fn strictness(t: Tlp) -> u8 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

/// The values an indicator's pattern compares, as tipx indicators.
fn indicators_of(ind: &Map<String, Value>, notes: &mut Vec<String>) -> Vec<Value> {
    let id = text(ind, "id");
    if ind.get("pattern_type").is_some_and(|t| t != "stix") {
        notes.push(format!(
            "{id}: a {} pattern is not read",
            ind["pattern_type"]
        ));
        return vec![];
    }
    let note = ind.get("description").and_then(Value::as_str).unwrap_or("");
    let typed = ind
        .get("x_tipx_type")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<IndicatorType>().ok());
    let pattern = ind.get("pattern").and_then(Value::as_str).unwrap_or("");
    pattern::comparisons(pattern)
        .into_iter()
        .map(|(kind, path, value)| {
            let (kind, note) = match (typed.or(kind), note) {
                (Some(k), n) => (k, n.to_string()),
                (None, "") => (IndicatorType::Other, path),
                (None, n) => (IndicatorType::Other, format!("{path}: {n}")),
            };
            json!({"type": kind.to_string(), "value": value, "note": note})
        })
        .collect()
}

/// The value of a cyber-observable of type `sco`.
fn observable(sco: &str, o: &Map<String, Value>) -> Option<Value> {
    let (kind, key) = match sco {
        "email-addr" => (IndicatorType::Email, "value"),
        "url" => (IndicatorType::Url, "value"),
        "domain-name" => (IndicatorType::Domain, "value"),
        _ => (IndicatorType::SocialAccount, "account_login"),
    };
    let value = o.get(key)?.as_str()?;
    Some(json!({"type": kind.to_string(), "value": value, "note": ""}))
}

/// A MISP attribute that has no STIX form (a phone number, …), as MISP's converter
/// writes it.
fn misp_attribute(o: &Map<String, Value>) -> Option<Value> {
    let value = o.get("x_misp_value")?.as_str()?;
    let misp_type = o.get("x_misp_type").and_then(Value::as_str).unwrap_or("");
    let kind = match misp_type {
        "phone-number" | "whatsapp" => IndicatorType::Phone,
        t if t.starts_with("email") => IndicatorType::Email,
        "url" | "link" | "uri" => IndicatorType::Url,
        "domain" | "hostname" => IndicatorType::Domain,
        "passport-number" | "identity-card-number" => IndicatorType::Document,
        "text" | "comment" => IndicatorType::Keyword,
        _ => IndicatorType::Other,
    };
    let comment = o
        .get("x_misp_comment")
        .and_then(Value::as_str)
        .unwrap_or("");
    let note = if kind == IndicatorType::Other {
        format!(
            "MISP {misp_type}{}{comment}",
            if comment.is_empty() { "" } else { ": " }
        )
    } else {
        comment.to_string()
    };
    Some(json!({"type": kind.to_string(), "value": value, "note": note}))
}

/// The state a location names by its country code, if it is one.
fn state_of(loc: &Map<String, Value>) -> Option<String> {
    let code = loc.get("country")?.as_str()?.to_ascii_uppercase();
    code.parse::<StateCode>().ok().map(|s| s.to_string())
}

/// The translations each object has in language-content objects, as tipx translations.
fn translations_of(objects: &[Value]) -> HashMap<String, Value> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for o in objects {
        if o["type"] != "language-content" {
            continue;
        }
        let (Some(target), Some(contents)) = (o["object_ref"].as_str(), o["contents"].as_object())
        else {
            continue;
        };
        for (lang, c) in contents {
            let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            out.entry(target.to_string()).or_default().push(json!({
                "language": lang,
                "title": text("name"),
                "summary": text("description"),
                "text": text("x_tipx_text"),
            }));
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into())).collect()
}
