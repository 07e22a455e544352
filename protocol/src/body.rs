//! Record bodies, one type per kind, and the rules that make a body well formed.
//!
//! These types are also the JSON shape of records on the admin API and in `publish --file`.

pub mod activity;
pub mod profile;

pub use activity::{Activity, ReceivedCount, SyncTraffic};
pub use profile::{
    ActionPlan, Exploitation, FocalPoint, Law, Mechanism, Palermo, PalermoStatus, Profile, Victims,
    YearStatistics,
};

use serde::{Deserialize, Serialize};

use crate::{
    PublicKey, RecordId, StateCode,
    record::{Kind, text_enum},
};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest summary or description, in characters.
pub const MAX_SUMMARY_CHARS: usize = 4_000;
/// Largest encoded body, in bytes. A record (header + signature + body) must also fit in
/// the node's `store.max_record_bytes`.
pub const MAX_BODY_BYTES: usize = 192 * 1024;
/// The organisation's official languages, which every node can show.
pub const OFFICIAL_LANGUAGES: [&str; 4] = ["en", "es", "fr", "pt"];

text_enum!(
    /// The four pillars of anti-trafficking work.
    Pillar {
        /// Stopping trafficking before it happens.
        Prevention = "prevention",
        /// Identifying and assisting victims.
        Protection = "protection",
        /// Investigating and punishing traffickers.
        Prosecution = "prosecution",
        /// Cooperation between states and with civil society.
        Partnership = "partnership",
    }
);

text_enum!(
    /// How urgent an alert is.
    Severity {
        /// For information.
        Info = "info",
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Critical: act now.
        Critical = "critical",
    }
);

text_enum!(
    /// What an indicator's value is.
    IndicatorType {
        /// A phone number.
        Phone = "phone",
        /// An e-mail address.
        Email = "email",
        /// A web address.
        Url = "url",
        /// A domain name.
        Domain = "domain",
        /// A social-media account.
        SocialAccount = "social-account",
        /// A (fraudulent) document number or pattern.
        Document = "document",
        /// A route.
        Route = "route",
        /// A place.
        Location = "location",
        /// A keyword used in recruitment adverts.
        Keyword = "keyword",
        /// Anything else.
        Other = "other",
    }
);

text_enum!(
    /// Grant or withdraw a request to exchange.
    ConsentAction {
        /// "We request exchange with this state."
        Grant = "grant",
        /// "We stop exchanging with this state."
        Revoke = "revoke",
    }
);

/// The same text in another language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    /// Language tag (en, es, fr, pt, …).
    pub language: String,
    /// Translated title.
    pub title: String,
    /// Translated summary (best practice) or description (alert).
    #[serde(default)]
    pub summary: String,
    /// Translated body text (best practice).
    #[serde(default)]
    pub text: String,
}

/// A document a best practice points to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Its title.
    pub title: String,
    /// Where to find it.
    #[serde(default)]
    pub url: String,
}

/// A programme, law or protocol that worked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestPractice {
    /// Title.
    pub title: String,
    /// A few sentences.
    #[serde(default)]
    pub summary: String,
    /// The full text.
    #[serde(default)]
    pub text: String,
    /// Language of title, summary and text.
    #[serde(default = "default_language")]
    pub language: String,
    /// The same in other languages.
    #[serde(default)]
    pub translations: Vec<Translation>,
    /// Pillars it serves.
    #[serde(default)]
    pub pillars: Vec<Pillar>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Documents.
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// A typed sign of the pattern an alert warns about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// What the value is.
    #[serde(rename = "type")]
    pub kind: IndicatorType,
    /// The value.
    pub value: String,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A recruitment pattern, route, document fraud or other time-limited warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Title.
    pub title: String,
    /// What is happening.
    #[serde(default)]
    pub description: String,
    /// Language of title and description.
    #[serde(default = "default_language")]
    pub language: String,
    /// The same in other languages.
    #[serde(default)]
    pub translations: Vec<Translation>,
    /// How urgent.
    pub severity: Severity,
    /// recruitment, route, document-fraud, exploitation, …
    #[serde(default)]
    pub category: String,
    /// Typed indicators.
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    /// States concerned.
    #[serde(default)]
    pub affected_states: Vec<StateCode>,
    /// Expiry, ms since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until_ms: Option<u64>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Withdraws an earlier record of the same feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    /// The withdrawn record.
    pub target: RecordId,
    /// Why.
    pub reason: String,
    /// Whether every holder deletes the target's body.
    #[serde(default)]
    pub erase: bool,
}

/// A state requests (or stops) exchange with another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The other state.
    pub partner: StateCode,
    /// Grant or revoke.
    pub action: ConsentAction,
}

/// A node key of a member and where it can be dialled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterNode {
    /// The key (PeerId form in JSON).
    pub key: PublicKey,
    /// Multiaddrs.
    #[serde(default)]
    pub addrs: Vec<String>,
}

/// A member state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterMember {
    /// Its code.
    pub state: StateCode,
    /// Its name.
    pub name: String,
    /// Its nodes.
    pub nodes: Vec<RosterNode>,
}

/// A key removed from the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokedKey {
    /// The key.
    pub key: PublicKey,
    /// The state it belonged to.
    pub state: StateCode,
    /// Records it signed at or after this time (ms) are refused.
    pub revoked_at_ms: u64,
}

/// The membership list, signed by the anchor key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// Higher replaces lower.
    pub version: u64,
    /// Members.
    pub members: Vec<RosterMember>,
    /// Removed keys.
    #[serde(default)]
    pub revoked: Vec<RevokedKey>,
}

/// A record's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Body {
    /// A best practice.
    BestPractice(BestPractice),
    /// An alert.
    Alert(Alert),
    /// A retraction.
    Retraction(Retraction),
    /// A consent.
    Consent(Consent),
    /// A roster.
    Roster(Roster),
    /// A day's activity summary, for the coordinator.
    Activity(Activity),
    /// A national profile.
    Profile(Profile),
}

fn default_language() -> String {
    "en".into()
}

impl Body {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::BestPractice(_) => Kind::BestPractice,
            Self::Alert(_) => Kind::Alert,
            Self::Retraction(_) => Kind::Retraction,
            Self::Consent(_) => Kind::Consent,
            Self::Roster(_) => Kind::Roster,
            Self::Activity(_) => Kind::Activity,
            Self::Profile(_) => Kind::Profile,
        }
    }

    /// The title shown in listings.
    pub fn title(&self) -> String {
        match self {
            Self::BestPractice(b) => b.title.clone(),
            Self::Alert(a) => a.title.clone(),
            Self::Retraction(r) => format!("retracts {}: {}", r.target.short(), r.reason),
            Self::Consent(c) => format!("{} exchange with {}", c.action, c.partner),
            Self::Roster(r) => format!("roster v{} ({} members)", r.version, r.members.len()),
            Self::Activity(a) => format!("activity of {}", a.day),
            Self::Profile(_) => "national profile".into(),
        }
    }

    /// Checks the content rules; the message says what to fix.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Self::BestPractice(b) => {
                check_title(&b.title)?;
                check_len("summary", &b.summary, MAX_SUMMARY_CHARS)?;
                check_language("language", &b.language)?;
                check_translations(&b.translations)
            }
            Self::Alert(a) => {
                check_title(&a.title)?;
                check_len("description", &a.description, MAX_SUMMARY_CHARS)?;
                check_language("language", &a.language)?;
                check_translations(&a.translations)?;
                if a.indicators.iter().any(|i| i.value.trim().is_empty()) {
                    return Err("an indicator has an empty value".into());
                }
                Ok(())
            }
            Self::Retraction(r) => check_len("reason", &r.reason, MAX_SUMMARY_CHARS),
            Self::Consent(_) => Ok(()),
            Self::Roster(r) => {
                if r.version == 0 {
                    return Err("a roster's version starts at 1".into());
                }
                Ok(())
            }
            Self::Activity(a) => a.check(),
            Self::Profile(p) => p.check(),
        }
    }
}

fn check_title(title: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("the title is missing".into());
    }
    check_len("title", title, MAX_TITLE_CHARS)
}

fn check_len(what: &str, text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n > max {
        return Err(format!(
            "the {what} has {n} characters; at most {max} are allowed"
        ));
    }
    Ok(())
}

fn check_language(what: &str, tag: &str) -> Result<(), String> {
    let primary = tag.split('-').next().unwrap_or("");
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(format!(
            "{what} `{tag}` is not a language tag (use en, es, fr, pt, …)"
        ));
    }
    Ok(())
}

fn check_translations(ts: &[Translation]) -> Result<(), String> {
    for t in ts {
        check_language("translation language", &t.language)?;
        check_len("translated title", &t.title, MAX_TITLE_CHARS)?;
        check_len("translated summary", &t.summary, MAX_SUMMARY_CHARS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::st;

    /// An alert as the CLI's `publish --file` takes it.
    const ALERT_JSON: &str = r#"{
        "kind": "alert",
        "title": "Fake job offers abroad",
        "description": "Domestic work offers; passports withheld on arrival.",
        "language": "en",
        "translations": [
            {"language": "es", "title": "Ofertas de empleo falsas",
             "summary": "Pasaportes retenidos."}
        ],
        "severity": "high",
        "category": "recruitment",
        "indicators": [
            {"type": "phone", "value": "+57 300 000 0000", "note": "WhatsApp"},
            {"type": "social-account", "value": "@empleos.exterior"}
        ],
        "affected_states": ["CO", "mx"],
        "valid_until_ms": 1767225600000,
        "tags": ["recruitment"]
    }"#;

    fn expected_alert() -> Body {
        Body::Alert(Alert {
            title: "Fake job offers abroad".into(),
            description: "Domestic work offers; passports withheld on arrival.".into(),
            language: "en".into(),
            translations: vec![Translation {
                language: "es".into(),
                title: "Ofertas de empleo falsas".into(),
                summary: "Pasaportes retenidos.".into(),
                text: String::new(),
            }],
            severity: Severity::High,
            category: "recruitment".into(),
            indicators: vec![
                Indicator {
                    kind: IndicatorType::Phone,
                    value: "+57 300 000 0000".into(),
                    note: "WhatsApp".into(),
                },
                Indicator {
                    kind: IndicatorType::SocialAccount,
                    value: "@empleos.exterior".into(),
                    note: String::new(),
                },
            ],
            affected_states: vec![st("CO"), st("MX")],
            valid_until_ms: Some(1_767_225_600_000),
            tags: vec!["recruitment".into()],
        })
    }

    fn parse(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn an_alert_reads_from_the_cli_json_shape_and_round_trips() {
        let body = parse(ALERT_JSON).unwrap();
        assert_eq!(body, expected_alert());
        assert_eq!(body.check(), Ok(()));

        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["kind"], "alert");
        assert_eq!(json["severity"], "high");
        assert_eq!(json["indicators"][1]["type"], "social-account");
        assert_eq!(json["affected_states"], serde_json::json!(["CO", "MX"]));
        let back: Body = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn omitted_alert_fields_take_their_defaults() {
        let body = parse(r#"{"kind":"alert","title":"Short","severity":"low"}"#).unwrap();
        let Body::Alert(a) = body else {
            panic!("not an alert: {body:?}")
        };
        assert_eq!(a.language, "en");
        assert_eq!(a.valid_until_ms, None);
        assert!(a.indicators.is_empty());
        let json = serde_json::to_value(Body::Alert(a)).unwrap();
        assert!(json.get("valid_until_ms").is_none(), "{json}");
    }

    #[test]
    fn an_unknown_severity_names_the_valid_ones() {
        let err = parse(r#"{"kind":"alert","title":"x","severity":"urgent"}"#).unwrap_err();
        assert!(err.contains("urgent"), "{err}");
        for s in Severity::ALL {
            assert!(err.contains(s.as_str()), "{err} does not list {s}");
        }
        let err = "urgent".parse::<Severity>().unwrap_err();
        assert_eq!(
            err,
            "unknown severity `urgent`: expected one of info, low, medium, high, critical"
        );
    }

    #[test]
    fn an_unknown_field_or_kind_is_refused() {
        let err =
            parse(r#"{"kind":"alert","title":"x","severity":"low","colour":"red"}"#).unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = parse(
            r#"{"kind":"alert","title":"x","severity":"low",
                "indicators":[{"type":"phone","value":"1","confidence":3}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("confidence"), "{err}");
        let err = parse(r#"{"kind":"memo","title":"x"}"#).unwrap_err();
        assert!(err.contains("memo"), "{err}");
    }

    #[test]
    fn content_rules_say_what_to_fix() {
        let Body::Alert(good) = expected_alert() else {
            unreachable!()
        };
        type Break = fn(&mut Alert);
        let cases: [(&str, Break); 4] = [
            ("title is missing", |a| a.title = " ".into()),
            ("at most 300", |a| a.title = "x".repeat(MAX_TITLE_CHARS + 1)),
            ("not a language tag", |a| a.language = "English".into()),
            ("empty value", |a| a.indicators[0].value = " ".into()),
        ];
        for (expect, break_it) in cases {
            let mut a = good.clone();
            break_it(&mut a);
            let err = Body::Alert(a).check().unwrap_err();
            assert!(err.contains(expect), "{err} (expected {expect})");
        }
        let roster = Body::Roster(Roster::default());
        assert!(roster.check().unwrap_err().contains("version"));
    }
}
