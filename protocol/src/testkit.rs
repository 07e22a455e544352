//! Helpers for tests: keys per state, a federation where chosen pairs are partners, and
//! records signed in feed order. Compiled for tests and the `conformance` feature only.

use std::collections::BTreeMap;

use crate::{
    Audience, Draft, Handling, Keypair, Membership, Record, StateCode, Tlp,
    body::{
        Alert, BestPractice, Body, ConsentAction, Pillar, Roster, RosterMember, RosterNode,
        Severity,
    },
    membership::ConsentState,
    record::Unsigned,
    validate::Verified,
};

/// A fixed clock for tests: 2026-01-01T00:00:00Z.
pub const NOW_MS: u64 = 1_767_225_600_000;

/// Parses a state code, panicking on a typo in a test.
pub fn st(code: &str) -> StateCode {
    code.parse().expect("test state code")
}

/// A deterministic key for a state (secret bytes derived from its code).
pub fn key_of(code: &str) -> Keypair {
    let mut secret = [0x42u8; 32];
    for (i, b) in code.bytes().enumerate() {
        secret[i] = b;
    }
    Keypair::from_secret(&secret).expect("32 bytes")
}

/// Records taken as verified without checking them (records the test signed itself), to
/// put straight into a store.
pub fn trusted(records: &[Record]) -> Vec<Verified> {
    records
        .iter()
        .map(|r| Verified {
            record: r.clone(),
            body: r.body().expect("a record the test made"),
        })
        .collect()
}

/// A roster holding the given states, one key each (from [`key_of`]).
pub fn roster(version: u64, codes: &[&str]) -> Roster {
    Roster {
        version,
        members: codes
            .iter()
            .map(|c| RosterMember {
                state: st(c),
                name: format!("State {c}"),
                nodes: vec![RosterNode {
                    key: key_of(c).public(),
                    addrs: vec![],
                }],
            })
            .collect(),
        revoked: vec![],
    }
}

/// The membership view of `me` in a federation of `codes` where each pair in `partners`
/// granted each other, anchored on `OAS`'s key.
pub fn membership(me: &str, codes: &[&str], partners: &[(&str, &str)]) -> Membership {
    let mut m = Membership::new(key_of(me).public(), st(me), Some(key_of("OAS").public()));
    m.apply_roster(roster(1, codes));
    for (a, b) in partners {
        let grant = ConsentState {
            action: ConsentAction::Grant,
            at_ms: NOW_MS - 1000,
        };
        m.apply_consent(st(a), st(b), grant);
        m.apply_consent(st(b), st(a), grant);
    }
    m
}

/// An alert body.
pub fn alert(title: &str) -> Body {
    Body::Alert(Alert {
        title: title.into(),
        description: "Fake job offers abroad for domestic work, passports withheld on arrival."
            .into(),
        language: "en".into(),
        translations: vec![],
        severity: Severity::High,
        category: "recruitment".into(),
        indicators: vec![],
        affected_states: vec![],
        valid_until_ms: None,
        tags: vec!["recruitment".into()],
    })
}

/// A best-practice body.
pub fn best_practice(title: &str) -> Body {
    Body::BestPractice(BestPractice {
        title: title.into(),
        summary: "A hotline staffed day and night.".into(),
        text: "Details.".into(),
        language: "es".into(),
        translations: vec![],
        pillars: vec![Pillar::Protection],
        tags: vec!["hotline".into()],
        references: vec![],
    })
}

/// An activity summary of the day before `NOW_MS`: 3 alerts (2 high), 1 best practice,
/// 4 records received from CO.
pub fn activity() -> Body {
    use crate::body::{Activity, ReceivedCount};
    let day = crate::day::Day::of_ms(NOW_MS).0 - 1;
    let mut a = Activity::empty(crate::day::Day(day), crate::day::Day(day).end_ms());
    a.published = [(crate::Kind::Alert, 3), (crate::Kind::BestPractice, 1)].into();
    a.severities = [(Severity::High, 2), (Severity::Low, 1)].into();
    a.pillars = [(Pillar::Protection, 1)].into();
    a.categories = [("recruitment".to_string(), 3)].into();
    a.languages = [("es".to_string(), 4)].into();
    a.received = vec![ReceivedCount {
        state: Some(st("CO")),
        kind: crate::Kind::Alert,
        count: 4,
    }];
    a.active_partners = 2;
    Body::Activity(a)
}

/// A national profile.
pub fn profile() -> Body {
    use crate::body::{Palermo, PalermoStatus, Profile, Victims, YearStatistics};
    Body::Profile(Profile {
        language: "es".into(),
        palermo: Palermo {
            status: Some(PalermoStatus::Ratified),
            date: "2004-03-04".parse().ok(),
        },
        laws: vec![],
        mechanism: Default::default(),
        action_plan: None,
        hotline: "141".into(),
        shelters: Some(12),
        identification_protocol: Some(true),
        statistics: vec![YearStatistics {
            year: 2025,
            victims: Victims {
                women: Some(40),
                girls: Some(9),
                ..Default::default()
            },
            exploitation: Default::default(),
            investigations: Some(30),
            prosecutions: None,
            convictions: Some(4),
        }],
        focal_point: Default::default(),
        notes: String::new(),
    })
}

/// Signs records in one author's feeds, keeping each feed's position.
pub struct Author {
    /// The key.
    pub key: Keypair,
    /// The state.
    pub state: StateCode,
    heads: BTreeMap<crate::FeedId, (u64, crate::RecordId)>,
}

impl Author {
    /// The author for `code`, with the key from [`key_of`].
    pub fn new(code: &str) -> Self {
        Self {
            key: key_of(code),
            state: st(code),
            heads: BTreeMap::new(),
        }
    }

    /// The draft this author would write for `audience`.
    pub fn draft(&self, audience: &[&str], body: Body, at_ms: u64) -> Draft {
        let audience = if audience == ["*"] {
            Audience::Federation
        } else {
            Audience::states(audience.iter().map(|c| st(c)))
        };
        Draft {
            author_state: self.state,
            audience,
            created_at_ms: at_ms,
            tlp: Tlp::Amber,
            handling: Handling::FocalPoint,
            body,
        }
    }

    /// Prepares the next record of the feed for `audience`, unsigned.
    pub fn prepare(&mut self, audience: &[&str], body: Body, at_ms: u64) -> Unsigned {
        let d = self.draft(audience, body, at_ms);
        let feed = crate::FeedId::of(&self.key.public(), &d.audience, d.body.kind().channel());
        let (seq, prev) = self
            .heads
            .get(&feed)
            .map_or((1, None), |(s, id)| (s + 1, Some(*id)));
        let u = d.prepare(self.key.public(), seq, prev);
        self.heads.insert(feed, (seq, u.id));
        u
    }

    /// Signs the next record of the feed for `audience`.
    pub fn publish(&mut self, audience: &[&str], body: Body, at_ms: u64) -> Record {
        let u = self.prepare(audience, body, at_ms);
        u.sign(&self.key)
    }
}
