//! What an operator reads: every table and view of the `tipx` command line, run against real
//! nodes, checked for the words a person looks for — severity and validity of an alert, who
//! retracted a record and why, peers by state, sizes and uptime in human units, times with
//! seconds, and RFC 3339 times beside the milliseconds under `--json`.

use std::time::Duration;

use serde_json::Value;
use tipx_tests::publish;
use tipx_tests::{
    COMMAND_DEADLINE, Outcome,
    federation::{Federation, eventually},
    run_with_deadline, tipx_command,
};

/// Long enough for consents to spread and a few sync rounds.
const SETTLE: Duration = Duration::from_secs(40);

/// Asserts stdout holds every one of `needles`; returns it.
#[track_caller]
fn shows(out: Outcome, needles: &[&str]) -> Outcome {
    let out = out.ok();
    for n in needles {
        assert!(out.stdout.contains(n), "stdout does not show {n:?}:\n{out}");
    }
    out
}

/// The line of `out` that starts with `prefix`.
#[track_caller]
fn line<'a>(out: &'a Outcome, prefix: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}:\n{out}"))
}

/// Whether `t` looks like an RFC 3339 UTC time: `2026-11-30T14:05:00.123Z`.
fn is_rfc3339(t: &Value) -> bool {
    t.as_str().is_some_and(|t| {
        t.len() == 24
            && t.as_bytes()[10] == b'T'
            && t.ends_with('Z')
            && t[..4].parse::<u16>().is_ok()
    })
}

/// One federation for every view: MX and CO exchange; MX asked PE, which has not answered.
#[test]
fn every_view_reads_at_a_glance() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(
        dir.path(),
        &[],
        &[("MX", &["CO", "PE"]), ("CO", &["MX"]), ("PE", &[])],
    );
    let (mx, co, pe) = (fed.member("MX"), fed.member("CO"), fed.member("PE"));

    let alert = publish(
        mx,
        &[
            "alert",
            "--title",
            "Fake modelling agency",
            "--severity",
            "high",
            "--category",
            "recruitment",
            "--indicator",
            "phone:+52-555-0100",
            "--indicator",
            "social-account:@castings_mx",
            "--affected",
            "MX,GT",
            "--valid-until",
            "30d",
            "--translation",
            "es=Agencia de modelos falsa",
            "--tag",
            "recruitment",
            "--audience",
            "CO",
        ],
    );
    let practice = publish(
        mx,
        &[
            "best-practice",
            "--title",
            "National hotline",
            "--pillar",
            "protection",
            "--pillar",
            "prevention",
            "--summary",
            "A hotline answered day and night.",
            "--reference",
            "Protocol=https://example.org/p.pdf",
            "--audience",
            "CO",
        ],
    );

    // records show: an alert in words.
    let out = shows(
        mx.tipx(["records", "show", &alert]),
        &[
            "severity      high",
            "category      recruitment",
            "valid until ",
            "(in 30 days)",
            "phone: +52-555-0100",
            "social-account: @castings_mx",
            "affected      MX, GT",
            "es: Agencia de modelos falsa",
            "tags          recruitment",
        ],
    );
    assert!(
        !out.stdout.contains('{'),
        "the body is shown as JSON:\n{out}"
    );
    shows(
        mx.tipx(["records", "show", &practice]),
        &[
            "pillars       protection, prevention",
            "Protocol — https://example.org/p.pdf",
            "A hotline answered day and night.",
        ],
    );

    // records list: the SEVERITY/PILLARS column and times with seconds.
    let out = shows(
        mx.tipx(["records", "list"]),
        &["SEVERITY/PILLARS", "protection,prevention"],
    );
    let row = line(&out, &alert[..12]);
    assert!(row.contains(" high "), "{row}");
    assert!(row.contains("Z  MX"), "the CREATED column is cut:\n{out}");
    let listed = mx.tipx(["records", "list", "--json"]).json();
    assert!(
        is_rfc3339(&listed[0]["created_at"]),
        "no RFC 3339 created_at: {listed}"
    );

    // A retraction, read on the partner that received it.
    assert!(
        eventually(SETTLE, || co.holds(&practice)),
        "CO never received the best practice"
    );
    mx.tipx(["retract", &practice, "--reason", "sent in error"])
        .ok();
    assert!(
        eventually(SETTLE, || co
            .tipx(["records", "show", &practice])
            .stdout
            .contains("RETRACTED")),
        "CO never learnt of the retraction"
    );
    let out = shows(
        co.tipx(["records", "show", &practice]),
        &["reason        sent in error"],
    );
    let retracted = line(&out, "RETRACTED");
    assert!(
        retracted.contains("on 20") && retracted.contains("Z by MX ("),
        "{retracted}"
    );

    // audit: a header, peers as state codes, no id repeated in the detail.
    assert!(
        eventually(SETTLE, || co.holds(&alert)),
        "CO never received the alert"
    );
    let out = shows(
        co.tipx(["audit"]),
        &["TIME", "EVENT", "RECORD", "PEER", "DETAIL"],
    );
    let received = out
        .stdout
        .lines()
        .find(|l| l.contains(&alert[..8]) && l.contains("received"))
        .unwrap_or_else(|| panic!("no received line for the alert:\n{out}"));
    assert!(
        received.contains("  MX  "),
        "the peer is not shown as MX: {received}"
    );
    assert!(received.contains("MX alert seq"), "{received}");
    assert_eq!(
        received.matches(&alert[..8]).count(),
        1,
        "the record id is repeated: {received}"
    );
    let audit = co.audit();
    let entry = audit
        .iter()
        .find(|e| e["record"] == alert.as_str() && e["event"] == "received")
        .expect("a received entry for the alert");
    assert!(is_rfc3339(&entry["at"]), "{entry}");
    assert_eq!(entry["kind"], "alert", "{entry}");
    assert_eq!(entry["state"], "MX", "{entry}");
    assert_eq!(entry["peer_state"], "MX", "{entry}");
    assert!(entry["seq"].is_u64(), "{entry}");

    // status: human units, split counts, listen addresses.
    let out = shows(
        mx.tipx(["status"]),
        &[
            "exchange   3 records: 1 alert, 1 best practice, 1 retraction",
            "control    ",
            "consents",
            "roster",
            &format!("listening  /ip4/127.0.0.1/tcp/{}", mx.p2p_port),
            "connected of",
        ],
    );
    let version = line(&out, "version");
    assert!(
        version.contains(", up ") && (version.ends_with(" s") || version.ends_with(" min")),
        "{version}"
    );
    let store = line(&out, "store");
    assert!(
        store.contains("iB on disk") || store.contains(" B on disk"),
        "{store}"
    );
    let status = mx.tipx(["status", "--json"]).json();
    assert!(is_rfc3339(&status["started_at"]), "{status}");
    assert_eq!(status["counts"]["alerts"], 1, "{status}");

    // peers: a table with state codes and short ids.
    assert!(
        eventually(SETTLE, || mx.connected_to(&co.peer_id)),
        "MX never connected to CO"
    );
    let out = shows(
        mx.tipx(["peers"]),
        &[
            "STATE",
            "PEER ID",
            "CONNECTED",
            "LAST SYNC",
            "SENT",
            "RECEIVED",
            "REJECTED",
        ],
    );
    let row = line(&out, "CO ");
    assert!(row.contains(&co.peer_id[co.peer_id.len() - 8..]), "{row}");
    assert!(
        !row.contains(&co.peer_id),
        "the full peer id is shown: {row}"
    );
    assert!(row.contains(" yes "), "{row}");

    // partners list: an inactive pair shows why, and no traffic.
    let out = shows(
        mx.tipx(["partners", "list"]),
        &["ACTIVE", "no: awaiting PE"],
    );
    let row = line(&out, "PE ");
    assert!(
        !row.contains("20"),
        "an inactive pair shows a sync time: {row}"
    );
    assert!(row.trim_end().ends_with('-'), "{row}");
    assert!(line(&out, "CO ").contains(" yes "), "{out}");
    assert!(
        eventually(SETTLE, || {
            let rows = mx.tipx(["partners", "list", "--json"]).json();
            rows.as_array().is_some_and(|rs| {
                rs.iter()
                    .any(|r| r["state"] == "CO" && is_rfc3339(&r["last_sync"]))
            })
        }),
        "no RFC 3339 last_sync for CO"
    );
    let _ = pe;
}

#[test]
fn init_tells_a_member_what_to_ask_and_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tipx_command();
    cmd.args(["init", "--state", "MX", "--data-dir"])
        .arg(dir.path().join("mx"));
    let out = shows(
        run_with_deadline(cmd, COMMAND_DEADLINE),
        &[
            "Next steps:",
            "federation.anchor",
            "network.bootstrap",
            "tipx id",
            "/tcp/7100",
            " run",
            "partners request XX",
        ],
    );
    assert!(!out.stdout.contains("roster publish"), "{out}");

    let mut cmd = tipx_command();
    cmd.args(["init", "--state", "OAS", "--data-dir"])
        .arg(dir.path().join("oas"));
    shows(
        run_with_deadline(cmd, COMMAND_DEADLINE),
        &[" run", "roster add", "roster publish", "federation.anchor"],
    );
}

#[test]
fn publish_help_states_the_limits() {
    for args in [
        &["publish", "--help"][..],
        &["publish", "alert", "--help"],
        &["publish", "best-practice", "--help"],
    ] {
        let mut cmd = tipx_command();
        cmd.args(args);
        shows(
            run_with_deadline(cmd, COMMAND_DEADLINE),
            &[
                "300 characters",
                "4,000",
                "192 KiB",
                "store.max_record_bytes",
            ],
        );
    }
}
