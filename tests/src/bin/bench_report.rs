//! The coordinator's report at the size of a year (use a release build: `cargo build
//! --release -p tipx-node && cargo run --release -p tipx-tests --bin bench-report`).
//!
//! The coordinator's node holds a roster of 35 member states that all exchange with it, a
//! summary of every day of the last year from each of them (12,775 summaries), one
//! national profile each, and 100,000 best practices and alerts addressed to it. The bench
//! prints the time `tipx report` takes to write the year's report as HTML (charts
//! included), Markdown and JSON, and the HTML's size.
//!
//! The records are signed here and put in the stopped node's store as if received, so that
//! the bench measures the report, not a year of replication.

use std::time::Instant;

use tipx_node::store::SledStore;
use tipx_protocol::{
    Body, Kind, Record, StateCode,
    body::{
        Activity, BestPractice, Consent, ConsentAction, Pillar, ReceivedCount, Roster,
        RosterMember, RosterNode, Severity,
    },
    day::Day,
    store::{Source, Store},
    testkit::{Author, alert, key_of, profile, trusted},
};
use tipx_tests::{Node, bench::arg, bench::use_release_binary, federation::now_ms};

/// The member states.
const STATES: [&str; 35] = [
    "AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CA", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD",
    "GT", "GY", "HN", "HT", "JM", "KN", "LC", "MX", "NI", "PA", "PE", "PY", "SR", "SV", "TT", "US",
    "UY", "VC", "VE",
];

fn st(s: &str) -> StateCode {
    s.parse().expect("a state code")
}

fn consent(partner: &str) -> Body {
    Body::Consent(Consent {
        partner: st(partner),
        action: ConsentAction::Grant,
    })
}

/// A day's summary of state `i`, with counts that vary by day.
fn summary(i: usize, day: Day) -> Body {
    let n = (day.0 as usize + i) % 7;
    let mut a = Activity::empty(day, day.end_ms());
    a.published = [
        (Kind::Alert, n as u64 + 1),
        (Kind::BestPractice, (n % 3) as u64),
    ]
    .into();
    a.severities = [
        (Severity::High, (n % 2) as u64),
        (Severity::Medium, n as u64 + 1 - (n % 2) as u64),
    ]
    .into();
    a.pillars = [(Pillar::ALL[n % 4], (n % 3) as u64)].into();
    a.categories = [("recruitment".to_string(), n as u64 + 1)].into();
    a.languages = [(["es", "en", "pt", "fr"][i % 4].to_string(), n as u64 + 1)].into();
    a.received = (1..=5)
        .map(|k| ReceivedCount {
            state: Some(st(STATES[(i + k) % STATES.len()])),
            kind: Kind::Alert,
            count: (n + k) as u64,
        })
        .collect();
    a.active_partners = 6;
    Body::Activity(a)
}

fn main() {
    let records = arg(1, 100_000);
    use_release_binary();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut oas = Node::init("OAS", tmp.path());
    let today = Day::of_ms(now_ms());
    let year_ago = Day(today.0 - 365);
    let t = Instant::now();

    let mut anchor = Author::new("OAS");
    anchor.key = oas.key();
    let mut members: Vec<Author> = STATES.iter().map(|s| Author::new(s)).collect();
    let at = |d: Day| d.start_ms() + 3_600_000;
    let mut batch: Vec<Record> = Vec::new();
    let mut nodes = vec![RosterMember {
        state: StateCode::coordinator(),
        name: "OAS".into(),
        nodes: vec![RosterNode {
            key: anchor.key.public(),
            addrs: vec![],
        }],
    }];
    nodes.extend(STATES.iter().map(|s| RosterMember {
        state: st(s),
        name: format!("State {s}"),
        nodes: vec![RosterNode {
            key: key_of(s).public(),
            addrs: vec![],
        }],
    }));
    let roster = Roster {
        version: 1,
        members: nodes,
        revoked: vec![],
    };
    let start = Day(year_ago.0 - 10);
    batch.push(anchor.publish(&["*"], Body::Roster(roster), at(start)));
    for (i, m) in members.iter_mut().enumerate() {
        batch.push(anchor.publish(&["*"], consent(STATES[i]), at(start)));
        batch.push(m.publish(&["*"], consent("OAS"), at(start)));
        batch.push(m.publish(&[STATES[i], "OAS"], profile(), at(start)));
        for d in year_ago.0..today.0 {
            let day = Day(d);
            batch.push(m.publish(&["OAS"], summary(i, day), day.end_ms() + 60_000));
        }
    }
    let summaries = STATES.len() * 365;
    for k in 0..records {
        let i = k % STATES.len();
        let day = Day(year_ago.0 + (k * 365 / records) as u32);
        let body = if k % 5 == 0 {
            Body::BestPractice(BestPractice {
                title: format!("Practice {k}"),
                summary: "A programme that worked.".into(),
                text: String::new(),
                language: "es".into(),
                translations: vec![],
                pillars: vec![Pillar::ALL[k % 4]],
                tags: vec![],
                references: vec![],
            })
        } else {
            alert(&format!("Alert {k}"))
        };
        batch.push(members[i].publish(&[STATES[i], "OAS"], body, at(day) + (k % 1000) as u64));
    }
    println!(
        "signed {} records ({summaries} summaries, {} profiles, {records} exchange records) in {:.1} s",
        batch.len(),
        STATES.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    {
        let store = SledStore::open(&oas.dir.join("store"), 64 * 1024 * 1024).expect("store");
        let from = Source::Peer(key_of("MX").public().peer_id());
        for chunk in batch.chunks(5_000) {
            store
                .insert(&trusted(chunk), &from, now_ms())
                .expect("stored");
        }
        store.flush().expect("flushed");
    }
    println!("stored in {:.1} s", t.elapsed().as_secs_f64());
    oas.start();
    let status = oas.tipx(["status", "--json"]).json();
    println!("OAS holds {} records", status["records"]);

    let (from, to) = (year_ago.next().to_string(), today.to_string());
    for format in ["html", "md", "json"] {
        let out = tmp.path().join(format!("report.{format}"));
        for run in 1..=3 {
            let t = Instant::now();
            oas.tipx([
                "report",
                "--format",
                format,
                "--from",
                &from,
                "--to",
                &to,
                "--out",
                out.to_str().expect("utf-8"),
            ])
            .ok();
            let took = t.elapsed();
            let size = std::fs::metadata(&out).map_or(0, |m| m.len());
            println!(
                "report --format {format}, run {run}: {:.3} s (whole command), {:.0} KiB",
                took.as_secs_f64(),
                size as f64 / 1024.0
            );
        }
    }
}
