//! The `tipx` command line's refusals: each wrong use exits non-zero with a message on
//! stderr that says what to fix. The happy paths of the same commands are in `cli.rs`.

use std::{fs, os::unix::fs::PermissionsExt};

use serde_json::json;
use tipx_tests::{Node, write_jsonl};
use tipx_tests::{alone as node, alone_running as running};

#[track_caller]
fn assert_nothing_stored(node: &Node) {
    let records = node.records(&["--all"]);
    assert!(records.is_empty(), "records were stored: {records:?}");
}

#[test]
fn publish_alert_without_title_is_refused_naming_the_missing_flag() {
    let (_tmp, node) = running("MX");
    node.tipx(["publish", "alert", "--severity", "high"])
        .fails_with(&["required", "--title"]);
    assert_nothing_stored(&node);
}

#[test]
fn unknown_severity_is_refused_listing_the_valid_ones() {
    let (_tmp, node) = node("MX");
    node.tipx(["publish", "alert", "--title", "t", "--severity", "urgent"])
        .fails_with(&["urgent", "info, low, medium, high, critical"]);
}

#[test]
fn unknown_pillar_is_refused_listing_the_valid_ones() {
    let (_tmp, node) = node("MX");
    node.tipx([
        "publish",
        "best-practice",
        "--title",
        "t",
        "--pillar",
        "rescue",
    ])
    .fails_with(&["rescue", "prevention, protection, prosecution, partnership"]);
}

#[test]
fn title_over_300_characters_is_refused_with_its_length_and_the_limit() {
    let (_tmp, node) = running("MX");
    let title = "é".repeat(301);
    node.tipx(["publish", "alert", "--title", &title, "--severity", "low"])
        .fails_with(&["title has 301 characters", "at most 300"]);
    assert_nothing_stored(&node);
}

#[test]
fn description_over_4000_characters_is_refused_with_its_length_and_the_limit() {
    let (_tmp, node) = running("MX");
    let description = "x".repeat(4_001);
    node.tipx([
        "publish",
        "alert",
        "--title",
        "t",
        "--severity",
        "low",
        "--description",
        &description,
    ])
    .fails_with(&["description has 4001 characters", "at most 4000"]);
    assert_nothing_stored(&node);
}

#[test]
fn imported_record_over_max_record_bytes_is_refused_naming_the_setting() {
    let (tmp, node) = running("MX");
    // A best practice's full text has no character limit: the record size catches it.
    let file = tmp.path().join("big.jsonl");
    write_jsonl(
        &file,
        &[json!({"kind": "best-practice", "title": "big", "text": "x".repeat(300 * 1024)})],
    );
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["record 1", "store.max_record_bytes", "262144"]);
    // An alert's description has one, which the CLI checks first.
    write_jsonl(
        &file,
        &[json!({"kind": "alert", "title": "big", "severity": "high",
                 "description": "x".repeat(300 * 1024)})],
    );
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&[
            "line 1",
            "description has 307200 characters",
            "at most 4000",
        ]);
    assert_nothing_stored(&node);
}

#[test]
fn import_file_with_a_malformed_line_names_the_line_and_stores_nothing() {
    let (tmp, node) = running("MX");
    let file = tmp.path().join("bad.jsonl");
    let good = json!({"kind": "alert", "title": "fine", "severity": "low"}).to_string();
    fs::write(&file, format!("{good}\n{good}\nthis is not json\n{good}\n")).unwrap();
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["bad.jsonl", "line 3", "not JSON"]);
    assert_nothing_stored(&node);
}

#[test]
fn import_line_with_an_unknown_field_names_the_line_and_the_field() {
    let (tmp, node) = running("MX");
    let file = tmp.path().join("unknown.jsonl");
    write_jsonl(
        &file,
        &[
            json!({"kind": "alert", "title": "fine", "severity": "low"}),
            json!({"kind": "alert", "title": "typo", "severity": "low", "colour": "red"}),
        ],
    );
    node.tipx(["publish", "--file", file.to_str().unwrap()])
        .fails_with(&["line 2", "unknown field `colour`"]);
    assert_nothing_stored(&node);
}

#[test]
fn wrong_api_token_is_refused_pointing_at_the_token_file() {
    let (_tmp, node) = running("MX");
    let token = node.dir.join("api.token");
    fs::write(&token, "0123456789abcdef0123456789abcdef0123456789abcdef").unwrap();
    assert_eq!(
        fs::metadata(&token).unwrap().permissions().mode() & 0o777,
        0o600
    );
    node.tipx(["status"])
        .fails_with(&["API token was refused", "api.token"]);
    node.tipx(["publish", "alert", "--title", "t", "--severity", "low"])
        .fails_with(&["token"]);
    node.tipx(["records", "list"]).fails_with(&["token"]);
}

#[test]
fn client_commands_without_a_daemon_say_where_they_looked_and_to_run_it() {
    let (_tmp, node) = node("MX");
    let expected = format!(
        "cannot reach the node at 127.0.0.1:{} — is `tipx run` running?",
        node.api_port
    );
    for args in [
        &["status"][..],
        &["records", "list"],
        &["records", "show", "0123456789abcdef"],
        &["publish", "alert", "--title", "t", "--severity", "low"],
        &["retract", "0123456789abcdef", "--reason", "x"],
        &["audit"],
    ] {
        node.tipx(args).fails_with(&[&expected]);
    }
}

#[test]
fn init_twice_refuses_to_overwrite_the_node_key() {
    let (_tmp, node) = node("MX");
    node.tipx(["init", "--state", "MX"])
        .fails_with(&["node.key already exists", "refusing to overwrite"]);
    let id = node.tipx(["id"]).ok();
    assert_eq!(id.stdout.trim(), node.peer_id, "the identity changed");
}

#[test]
fn run_refuses_a_key_readable_by_others_and_says_chmod_600() {
    let (_tmp, node) = node("MX");
    let key = node.dir.join("node.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let expected = format!("run `chmod 600 {}`", key.display());
    node.tipx(["run"]).fails_with(&["mode 644", &expected]);
    node.tipx(["id"]).fails_with(&[&expected]);
}

#[test]
fn unknown_config_key_is_named_by_config_check_and_run() {
    let (_tmp, node) = node("MX");
    let path = node.config_path();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\nmax_record_bytes = "),
        "template changed:\n{text}"
    );
    fs::write(
        &path,
        text.replace("\nmax_record_bytes = ", "\nmax_recrod_bytes = "),
    )
    .unwrap();
    let wanted = [
        "store.max_recrod_bytes",
        "unknown key",
        "`max_record_bytes`",
    ];
    node.tipx(["config", "check"]).fails_with(&wanted);
    node.tipx(["run"]).fails_with(&wanted);
}

#[test]
fn second_run_on_the_same_data_directory_is_refused() {
    let (_tmp, node) = running("MX");
    let out = node.tipx(["run"]).fails_with(&[
        "is in use by another process",
        "another `tipx run` using this data directory",
    ]);
    assert!(!out.stderr.contains("Os {"), "Debug output: {out}");
    node.tipx(["status"]).ok();
}

#[test]
fn records_show_of_an_unknown_id_says_there_is_no_such_record() {
    let (_tmp, node) = running("MX");
    let id = "ab".repeat(32);
    node.tipx(["records", "show", &id])
        .fails_with(&[&format!("no record with id {id}")]);
    node.tipx(["records", "show", "abcdef01"])
        .fails_with(&["no record with id abcdef01"]);
    node.tipx(["records", "show", "not-an-id"])
        .fails_with(&["not a record id", "at least 8 of its hex digits"]);
}

#[test]
fn the_admin_api_answers_404_for_an_unknown_record_and_422_for_a_malformed_id() {
    use std::io::{Read, Write};
    let (_tmp, node) = running("MX");
    let token = fs::read_to_string(node.dir.join("api.token")).unwrap();
    let status = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", node.api_port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            token.trim()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or_default().to_string()
    };
    let full = "ab".repeat(32);
    assert!(status(&format!("/v1/records/{full}")).contains(" 404 "));
    assert!(status("/v1/records/abcdef01").contains(" 404 "));
    assert!(status("/v1/records/not-an-id").contains(" 422 "));
}
