//! `tipx records show`: every field of one record in words, one per line, the labels in a
//! column; long texts indented below their label.

use tipx_protocol::body::{Alert, BestPractice, Body, Translation};

use super::human;
use crate::{api::types::RecordView, time};

/// Width of the label column.
const LABEL: usize = 14;

fn field(label: &str, value: impl std::fmt::Display) {
    outln!("{label:<LABEL$}{value}");
}

/// A label alone, then `lines` indented beneath it; nothing when there are none.
fn block(label: &str, lines: impl IntoIterator<Item = String>) {
    let lines: Vec<String> = lines.into_iter().collect();
    if lines.is_empty() {
        return;
    }
    outln!("{label}");
    for l in lines {
        outln!("  {l}");
    }
}

/// A free text below its label, each of its lines indented.
fn text(label: &str, t: &str) {
    if !t.trim().is_empty() {
        block(label, t.lines().map(str::to_string));
    }
}

fn translations(ts: &[Translation]) {
    block(
        "translations",
        ts.iter().map(|t| format!("{}: {}", t.language, t.title)),
    );
}

/// Prints `r` for a person; `now_ms` places an alert's expiry.
pub(super) fn print(r: &RecordView, now_ms: u64) {
    field("id", r.id);
    field("kind", &r.kind);
    field("author", format!("{} ({})", r.state, r.author));
    field("audience", r.audience.join(", "));
    field(
        "created",
        format!("{} (seq {})", time::format(r.created_at_ms), r.seq),
    );
    field(
        "marking",
        format!("TLP:{} / {}", r.tlp.to_string().to_uppercase(), r.handling),
    );
    match (&r.retraction, r.retracted_by) {
        (Some(x), _) => {
            field(
                "RETRACTED",
                format!(
                    "on {} by {} ({}), retraction {}",
                    time::format(x.at_ms),
                    x.state,
                    human::short_peer(&x.author),
                    x.id.short()
                ),
            );
            field("reason", &x.reason);
        }
        (None, Some(by)) => field("RETRACTED", format!("by retraction {by}")),
        (None, None) => {}
    }
    outln!();
    match &r.body {
        Some(Body::Alert(a)) => alert(a, now_ms),
        Some(Body::BestPractice(b)) => best_practice(b),
        Some(Body::Retraction(x)) => {
            field("retracts", x.target);
            field("reason", &x.reason);
            field(
                "erase",
                if x.erase {
                    "yes: every holder deletes the body"
                } else {
                    "no"
                },
            );
        }
        Some(Body::Consent(c)) => {
            field("partner", c.partner);
            field("action", c.action);
        }
        Some(Body::Roster(ro)) => {
            field("version", ro.version);
            block(
                "members",
                ro.members.iter().map(|m| {
                    format!(
                        "{} {} ({})",
                        m.state,
                        m.name,
                        human::count(m.nodes.len() as u64, "node", "nodes")
                    )
                }),
            );
            block(
                "revoked keys",
                ro.revoked.iter().map(|k| {
                    format!(
                        "{} ({}) from {}",
                        k.key,
                        k.state,
                        time::format(k.revoked_at_ms)
                    )
                }),
            );
        }
        Some(Body::Activity(a)) => {
            field("day", a.day);
            field("covers up to", time::format(a.through_ms));
            fn counts<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, u64>) -> String {
                let v: Vec<_> = m.iter().map(|(k, n)| format!("{k} {n}")).collect();
                v.join(", ")
            }
            field("published", counts(&a.published));
            let received = a.received.iter().map(|r| match r.state {
                Some(s) => format!("{} {} from {s}", r.count, r.kind),
                None => format!("{} {}", r.count, r.kind),
            });
            field("received", received.collect::<Vec<_>>().join(", "));
            field("refused", counts(&a.rejections));
        }
        Some(Body::Profile(_)) => outln!("A national profile: see `tipx profile show`."),
        None if r.erased => outln!(
            "The body of this record was erased when its author retracted it: only the \
             signed header is kept, so its feed still verifies."
        ),
        None => outln!("The body of this record is not available."),
    }
}

fn alert(a: &Alert, now_ms: u64) {
    field("title", &a.title);
    field("severity", a.severity);
    field(
        "category",
        if a.category.is_empty() {
            "-"
        } else {
            &a.category
        },
    );
    field("validity", human::validity(a.valid_until_ms, now_ms));
    field("affected", human::list(&a.affected_states));
    field("tags", human::list(&a.tags));
    field("language", &a.language);
    block(
        "indicators",
        a.indicators.iter().map(|i| {
            if i.note.is_empty() {
                format!("{}: {}", i.kind, i.value)
            } else {
                format!("{}: {} ({})", i.kind, i.value, i.note)
            }
        }),
    );
    translations(&a.translations);
    text("description", &a.description);
}

fn best_practice(b: &BestPractice) {
    field("title", &b.title);
    field("pillars", human::list(&b.pillars));
    field("tags", human::list(&b.tags));
    field("language", &b.language);
    translations(&b.translations);
    block(
        "references",
        b.references
            .iter()
            .map(|r| format!("{} — {}", r.title, r.url)),
    );
    text("summary", &b.summary);
    text("text", &b.text);
}
