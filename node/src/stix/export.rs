//! Records as a STIX 2.1 bundle, written as they come (constant memory): each record's
//! objects, preceded the first time they are needed by the shared ones (the author's
//! identity, the locations of affected states, the TLP marking).

use std::{collections::BTreeSet, io::Write};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tipx_protocol::{
    StateCode, Tlp,
    body::{Alert, BestPractice, Body, Translation},
};

use super::{EPOCH, TLP2, TLP2_CREATED, TLP2_EXTENSION, id, pattern};
use crate::core::RecordView;

/// Writes a bundle to `out`: [`record`](Self::record) for each record, then
/// [`finish`](Self::finish).
pub struct BundleWriter<W: Write> {
    out: W,
    /// Objects written so far.
    written: u64,
    /// The ids written, hashed: the bundle's id (written last) is made from it.
    ids: Sha256,
    identities: BTreeSet<StateCode>,
    locations: BTreeSet<StateCode>,
    markings: BTreeSet<&'static str>,
}

impl<W: Write> BundleWriter<W> {
    /// Starts the bundle.
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"{\"type\":\"bundle\",\"objects\":[")?;
        Ok(Self {
            out,
            written: 0,
            ids: Sha256::new(),
            identities: BTreeSet::new(),
            locations: BTreeSet::new(),
            markings: BTreeSet::new(),
        })
    }

    /// Writes the objects of `r`: none for an erased record (its content is gone) or for a
    /// kind that is not exchanged content (retractions, consents, rosters). Returns how
    /// many objects were written.
    pub fn record(&mut self, r: &RecordView) -> std::io::Result<u64> {
        let before = self.written;
        match &r.body {
            Some(Body::Alert(a)) => {
                self.shared(r, &a.affected_states)?;
                let objects = alert(r, a);
                for o in objects {
                    self.object(&o)?;
                }
            }
            Some(Body::BestPractice(b)) => {
                self.shared(r, &[])?;
                for o in best_practice(r, b) {
                    self.object(&o)?;
                }
            }
            _ => {}
        }
        Ok(self.written - before)
    }

    /// Ends the bundle; returns the writer and the number of objects.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        let id = super::id("bundle", &hex::encode(self.ids.finalize()));
        write!(self.out, "\n],\"id\":\"{id}\"}}\n")?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }

    fn object(&mut self, o: &Value) -> std::io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, o)?;
        if let Some(id) = o["id"].as_str() {
            self.ids.update(id.as_bytes());
            self.ids.update(b"\n");
        }
        self.written += 1;
        Ok(())
    }

    /// The identity of `r`'s author, the locations of `places` and `r`'s marking, each the
    /// first time it is needed.
    fn shared(&mut self, r: &RecordView, places: &[StateCode]) -> std::io::Result<()> {
        if self.identities.insert(r.state) {
            self.object(&identity(r.state))?;
        }
        for &p in places {
            if self.locations.insert(p) {
                self.object(&location(p))?;
            }
        }
        let (_, mid, name, value) = tlp2(r.tlp);
        if self.markings.insert(mid) {
            self.object(&json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": mid,
                "created": TLP2_CREATED,
                "name": name,
                "extensions": {
                    TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": value}
                }
            }))?;
        }
        Ok(())
    }
}

fn tlp2(tlp: Tlp) -> (Tlp, &'static str, &'static str, &'static str) {
    *TLP2
        .iter()
        .find(|t| t.0 == tlp)
        .expect("every TLP has a marking")
}

/// The identity of a state's authorities (OAS: the coordinator).
fn identity(state: StateCode) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(state),
        "created": EPOCH,
        "modified": EPOCH,
        "name": state.to_string(),
        "identity_class": "organization",
        "x_tipx_state": state.to_string(),
    })
}

fn identity_id(state: StateCode) -> String {
    id("identity", &format!("state/{state}"))
}

fn location(state: StateCode) -> Value {
    json!({
        "type": "location",
        "spec_version": "2.1",
        "id": location_id(state),
        "created": EPOCH,
        "modified": EPOCH,
        "name": state.to_string(),
        "country": state.to_string(),
    })
}

fn location_id(state: StateCode) -> String {
    id("location", &format!("country/{state}"))
}

/// The properties every object of a record shares.
fn common(r: &RecordView, kind: &str, name: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), kind.into());
    m.insert("spec_version".into(), "2.1".into());
    m.insert("id".into(), id(kind, &format!("{}/{name}", r.id)).into());
    m.insert("created".into(), r.created_at.clone().into());
    m.insert("modified".into(), r.created_at.clone().into());
    m.insert("created_by_ref".into(), identity_id(r.state).into());
    m.insert("object_marking_refs".into(), json!([tlp2(r.tlp).1]));
    if r.retracted_by.is_some() {
        m.insert("revoked".into(), true.into());
    }
    m
}

fn tipx_reference(r: &RecordView) -> Value {
    json!({"source_name": "tipx", "external_id": r.id.to_string()})
}

/// An alert: a report referring to an indicator per value that has a cyber-observable,
/// and to the locations of the affected states; its translations in a language-content.
fn alert(r: &RecordView, a: &Alert) -> Vec<Value> {
    let mut objects = Vec::new();
    let mut refs: Vec<Value> = Vec::new();
    let mut others = Vec::new();
    for (i, ind) in a.indicators.iter().enumerate() {
        let Some(path) = pattern::path_of(ind.kind) else {
            others
                .push(json!({"type": ind.kind.to_string(), "value": ind.value, "note": ind.note}));
            continue;
        };
        let mut o = common(r, "indicator", &format!("indicator/{i}"));
        o.insert("name".into(), ind.value.clone().into());
        if !ind.note.is_empty() {
            o.insert("description".into(), ind.note.clone().into());
        }
        o.insert("indicator_types".into(), json!(["malicious-activity"]));
        o.insert("pattern".into(), pattern::pattern(path, &ind.value).into());
        o.insert("pattern_type".into(), "stix".into());
        o.insert("valid_from".into(), r.created_at.clone().into());
        if let Some(until) = a.valid_until_ms.filter(|u| *u > r.created_at_ms) {
            o.insert("valid_until".into(), crate::time::rfc3339(until).into());
        }
        o.insert("x_tipx_type".into(), ind.kind.to_string().into());
        refs.push(o["id"].clone());
        objects.push(Value::Object(o));
    }
    refs.extend(a.affected_states.iter().map(|s| location_id(*s).into()));
    if refs.is_empty() {
        refs.push(identity_id(r.state).into());
    }
    let mut report = common(r, "report", "report");
    report.insert("name".into(), a.title.clone().into());
    if !a.description.is_empty() {
        report.insert("description".into(), a.description.clone().into());
    }
    report.insert("lang".into(), a.language.clone().into());
    report.insert("report_types".into(), json!(["threat-report"]));
    report.insert("published".into(), r.created_at.clone().into());
    report.insert("object_refs".into(), refs.into());
    if !a.tags.is_empty() {
        report.insert("labels".into(), json!(a.tags));
    }
    report.insert("external_references".into(), json!([tipx_reference(r)]));
    report.insert("x_tipx_kind".into(), "alert".into());
    report.insert("x_tipx_severity".into(), a.severity.to_string().into());
    if !a.category.is_empty() {
        report.insert("x_tipx_category".into(), a.category.clone().into());
    }
    report.insert("x_tipx_handling".into(), r.handling.to_string().into());
    if let Some(until) = a.valid_until_ms {
        report.insert(
            "x_tipx_valid_until".into(),
            crate::time::rfc3339(until).into(),
        );
    }
    if !others.is_empty() {
        report.insert("x_tipx_indicators".into(), others.into());
    }
    let report = Value::Object(report);
    let translations = language_content(r, &report, &a.translations, "description");
    objects.push(report);
    objects.extend(translations);
    objects
}

/// A best practice: a report with its pillars, its summary as the description and its
/// text beside it; its documents as external references.
fn best_practice(r: &RecordView, b: &BestPractice) -> Vec<Value> {
    let mut report = common(r, "report", "report");
    report.insert("name".into(), b.title.clone().into());
    if !b.summary.is_empty() {
        report.insert("description".into(), b.summary.clone().into());
    }
    report.insert("lang".into(), b.language.clone().into());
    report.insert("report_types".into(), json!(["x-tipx-best-practice"]));
    report.insert("published".into(), r.created_at.clone().into());
    report.insert("object_refs".into(), json!([identity_id(r.state)]));
    if !b.tags.is_empty() {
        report.insert("labels".into(), json!(b.tags));
    }
    let mut references = vec![tipx_reference(r)];
    references.extend(b.references.iter().map(|d| {
        let mut e = json!({"source_name": d.title});
        if !d.url.is_empty() {
            e["url"] = d.url.clone().into();
        }
        e
    }));
    report.insert("external_references".into(), references.into());
    report.insert("x_tipx_kind".into(), "best-practice".into());
    report.insert("x_tipx_handling".into(), r.handling.to_string().into());
    report.insert(
        "x_tipx_pillars".into(),
        b.pillars
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .into(),
    );
    if !b.text.is_empty() {
        report.insert("x_tipx_text".into(), b.text.clone().into());
    }
    let report = Value::Object(report);
    let translations = language_content(r, &report, &b.translations, "description");
    let mut out = vec![report];
    out.extend(translations);
    out
}

/// The translations of `object` as one language-content, if there are any.
fn language_content(
    r: &RecordView,
    object: &Value,
    translations: &[Translation],
    summary_as: &str,
) -> Option<Value> {
    if translations.is_empty() {
        return None;
    }
    let mut contents = serde_json::Map::new();
    for t in translations {
        let mut c = serde_json::Map::new();
        c.insert("name".into(), t.title.clone().into());
        if !t.summary.is_empty() {
            c.insert(summary_as.into(), t.summary.clone().into());
        }
        if !t.text.is_empty() {
            c.insert("x_tipx_text".into(), t.text.clone().into());
        }
        contents.insert(t.language.clone(), c.into());
    }
    let mut o = common(r, "language-content", "translations");
    o.remove("revoked");
    o.insert("object_ref".into(), object["id"].clone());
    o.insert("object_modified".into(), r.created_at.clone().into());
    o.insert("contents".into(), contents.into());
    Some(Value::Object(o))
}
