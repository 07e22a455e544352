//! The mistakes operators make, and the bugs they met: each ends in a message that names
//! what is wrong and what to do next, or in the outcome the operator meant. Each test checks
//! the words an operator reads.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    time::Duration,
};

use serde_json::json;
use tipx_tests::alone_running as running;
use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, configure, eventually},
    write_jsonl,
};

const DAY_MS: u64 = 86_400_000;

fn as_u64(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn valid_until_as_a_span_lies_ahead_and_a_past_date_is_refused() {
    let (_tmp, node) = running("MX");
    let id = node
        .tipx([
            "publish",
            "alert",
            "--title",
            "Thirty days",
            "--severity",
            "high",
            "--valid-until",
            "30d",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    let r = node.tipx(["records", "show", &id, "--json"]).json();
    let created = as_u64(&r["created_at_ms"]);
    let until = as_u64(&r["body"]["valid_until_ms"]);
    assert!(
        until >= created + 30 * DAY_MS - 60_000 && until <= created + 30 * DAY_MS + 60_000,
        "30d should be thirty days after creation: created {created}, until {until}"
    );
    // Not expired at birth: the default listing shows it.
    assert!(node.records(&[]).iter().any(|r| r["id"] == id.as_str()));

    node.tipx([
        "publish",
        "alert",
        "--title",
        "Long past",
        "--severity",
        "high",
        "--valid-until",
        "2020-01-01",
    ])
    .fails_with(&["--valid-until", "`2020-01-01` is in the past"]);
    assert_eq!(
        node.records(&["--all"]).len(),
        1,
        "the past alert was stored"
    );
}

#[test]
fn a_closed_pipe_ends_a_listing_quietly() {
    let (tmp, node) = running("MX");
    let lines: Vec<_> = (0..400)
        .map(|i| json!({"kind": "alert", "title": format!("alert {i}"), "severity": "low"}))
        .collect();
    let file = tmp.path().join("many.jsonl");
    write_jsonl(&file, &lines);
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .ok();
    for round in 0..8 {
        let mut cmd = node.command();
        cmd.args(["records", "list", "--all", "--limit", "1000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // Like `| head -1`: read one line, then close the pipe.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "round {round}: no first line");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "round {round}: the listing did not end quietly: {stderr}"
        );
        assert!(
            out.status.success(),
            "round {round}: {:?} {stderr}",
            out.status
        );
    }
}

#[test]
fn a_second_node_on_a_taken_port_is_refused_with_the_port_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = Node::init("MX", tmp.path());
    let second = Node::init("CO", tmp.path());
    let port = first.p2p_port;
    let write = |n: &Node, listen: &str| {
        std::fs::write(
            n.config_path(),
            format!(
                "[node]\nstate = \"{}\"\n\n[network]\nlisten = [{listen}]\n\n[api]\nlisten = \"127.0.0.1:{}\"\n",
                n.state, n.api_port
            ),
        )
        .unwrap();
    };
    write(
        &first,
        &format!("\"/ip4/127.0.0.1/tcp/{port}\", \"/ip4/127.0.0.1/udp/{port}/quic-v1\""),
    );
    first.start();

    write(&second, &format!("\"/ip4/127.0.0.1/tcp/{port}\""));
    second.tipx(["run"]).fails_with(&[
        "network.listen[0]",
        &format!("port {port}/tcp on 127.0.0.1 is already in use"),
        "another tipx node",
    ]);
    write(&second, &format!("\"/ip4/127.0.0.1/udp/{port}/quic-v1\""));
    second.tipx(["run"]).fails_with(&[
        "network.listen[0]",
        &format!("port {port}/udp on 127.0.0.1 is already in use"),
    ]);
    // The first node still answers on its port.
    first.tipx(["status"]).ok();
}

#[test]
fn a_node_whose_key_is_not_in_the_roster_is_told_so() {
    let tmp = tempfile::tempdir().unwrap();
    let fed = Federation::start(tmp.path(), &[], &[("MX", &[])]);
    // AR is configured like a member but the coordinator never added its key.
    let mut ar = Node::init("AR", tmp.path());
    configure(&ar, Some(&fed.oas), &[]);
    ar.start();
    let words = "this node's key is not in the roster";
    let told = eventually(DELIVERY_DEADLINE, || {
        ar.tipx(["status"]).ok().stdout.contains(words)
    });
    assert!(told, "status never said so:\n{}", ar.tipx(["status"]).ok());
    let status = ar.tipx(["status", "--json"]).json();
    assert!(
        status["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains(&ar.peer_id) && w.contains("tipx roster add")),
        "{status}"
    );
    // Told once in the log, not every redial; the old warning is gone.
    std::thread::sleep(Duration::from_secs(6));
    let log = ar.log();
    assert_eq!(log.matches(words).count(), 1, "{log}");
    assert!(!log.contains("registration for discovery refused"), "{log}");
}

#[test]
fn an_anchor_that_is_not_the_bootstrap_peer_is_refused_before_start() {
    let tmp = tempfile::tempdir().unwrap();
    let oas = Node::init("OAS", tmp.path());
    let other = Node::init("CO", tmp.path());
    let mx = Node::init("MX", tmp.path());
    configure(&mx, Some(&oas), &[]);
    // The operator pasted CO's peer id as the anchor.
    let text = std::fs::read_to_string(mx.config_path()).unwrap().replace(
        &format!("anchor = \"{}\"", oas.peer_id),
        &format!("anchor = \"{}\"", other.peer_id),
    );
    std::fs::write(mx.config_path(), text).unwrap();
    let needles = [
        "network.bootstrap",
        "no bootstrap address ends with the anchor's peer id",
        &other.peer_id,
        "`tipx id` on the coordinator's node",
    ];
    mx.tipx(["config", "check"]).fails_with(&needles);
    mx.tipx(["run"]).fails_with(&needles);
}

#[test]
fn publishing_to_states_that_will_not_receive_it_warns_which_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    let fed = Federation::start(
        tmp.path(),
        &[],
        &[("MX", &["CO", "PE"]), ("CO", &["MX"]), ("PE", &[])],
    );
    let mx = fed.member("MX");
    let partners = |n: &Node| n.tipx(["status", "--json"]).json()["partners"].clone();
    assert!(eventually(DELIVERY_DEADLINE, || partners(mx) == json!(["CO"])));
    let out = mx
        .tipx([
            "publish",
            "alert",
            "--title",
            "t",
            "--severity",
            "low",
            "--audience",
            "CO,PE,AR",
        ])
        .ok();
    assert_eq!(out.stdout.trim().len(), 64, "the id on stdout: {out}");
    assert!(
        out.stderr
            .contains("warning: PE will not receive it: PE is not a partner yet: it has not agreed to exchange with you"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("warning: AR will not receive it: AR is not a member in the roster"),
        "{out}"
    );
    assert!(!out.stderr.contains("CO will not"), "{out}");
}

#[test]
fn partners_request_and_revoke_say_what_actually_happened() {
    let tmp = tempfile::tempdir().unwrap();
    let fed = Federation::start(tmp.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let mx = fed.member("MX");
    let active = || mx.tipx(["partners", "list", "--json"]).json()[0]["active"] == json!(true);
    assert!(eventually(DELIVERY_DEADLINE, active));
    let consents = || mx.records(&["--all", "--kind", "consent"]).len();
    let before = consents();

    mx.tipx(["partners", "request", "CO"])
        .ok()
        .stdout
        .contains("already exchanging with CO: both states agreed; nothing changed")
        .then_some(())
        .expect("request of an active pair");
    mx.tipx(["partners", "revoke", "AR"])
        .ok()
        .stdout
        .contains(
            "you never requested exchange with AR, so there is nothing to revoke; nothing changed",
        )
        .then_some(())
        .expect("revoke of a state never granted");
    assert_eq!(consents(), before, "a no-op published a consent record");

    let out = mx.tipx(["partners", "revoke", "CO"]).ok();
    assert!(out.stdout.contains("stopped exchange with CO"), "{out}");
    let out = mx.tipx(["partners", "revoke", "CO"]).ok();
    assert!(
        out.stdout
            .contains("exchange with CO was already revoked; nothing changed"),
        "{out}"
    );
    let out = mx.tipx(["partners", "request", "CO"]).ok();
    assert!(
        out.stdout
            .contains("exchange with CO is now active: CO had already agreed"),
        "{out}"
    );
    assert!(active());
}

#[test]
fn import_files_explain_their_mistakes_and_can_print_the_ids() {
    let (tmp, node) = running("MX");
    let file = tmp.path().join("records.jsonl");

    write_jsonl(
        &file,
        &[json!({"kind": "alert", "title": "t", "severity": "low", "audiense": ["CO"]})],
    );
    let out = node
        .tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&[
            "line 1",
            "unknown field `audiense`",
            "audience",
            "tlp",
            "handling",
            "valid_until",
        ]);
    assert!(!out.stderr.contains("valid_until_ms"), "{out}");

    write_jsonl(
        &file,
        &[json!({"kind": "alert", "title": "t", "severity": "low", "tags": "route"})],
    );
    let out = node
        .tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["line 1", "tags", "expected a list"]);
    assert!(!out.stderr.contains("sequence"), "{out}");

    std::fs::write(
        &file,
        "{\"kind\":\"alert\",\"title\":\"a\",\"severity\":\"low\"}\n\n{\"kind\": \"alert\", \"title\": oops}\n",
    )
    .unwrap();
    let out = node
        .tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["records.jsonl: line 3, column 28: not JSON"]);
    assert!(!out.stderr.contains("at line 1"), "{out}");

    write_jsonl(
        &file,
        &[json!({"kind": "alert", "title": "old", "severity": "low", "valid_until": "2020-01-01"})],
    );
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["line 1", "valid_until", "is in the past"]);

    write_jsonl(
        &file,
        &[
            json!({"kind": "alert", "title": "one", "severity": "low", "valid_until": "30d"}),
            json!({"kind": "best-practice", "title": "two", "audience": ["CO"]}),
        ],
    );
    let out = node
        .tipx(["publish", "--file", file.to_str().unwrap(), "--ids"])
        .ok();
    let ids: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(ids.len(), 2, "{out}");
    assert!(out.stderr.contains("CO will not receive it"), "{out}");
    let one = node.tipx(["records", "show", ids[0], "--json"]).json();
    assert_eq!(one["title"], "one");
    assert!(as_u64(&one["body"]["valid_until_ms"]) > as_u64(&one["created_at_ms"]) + 29 * DAY_MS);
    assert_eq!(
        node.tipx(["records", "show", ids[1], "--json"]).json()["title"],
        "two"
    );
    let json = node
        .tipx(["publish", "--file", file.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(json["ids"].as_array().map(Vec::len), Some(2), "{json}");
}
