//! Offline bundles between real nodes: records reach a partner on a file exactly as the
//! network would have carried them — only what it may receive, each checked as if the
//! exporting node had sent it — and the network then carries on without sending them
//! again; a node outside the bundle's audience stores nothing, and a tampered bundle is
//! refused, whole or record by record.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    steps::{alerts_of, await_partner, publish_alerts},
};

/// MX exchanges with CO and PE; CO and PE do not exchange with each other.
fn federation(dir: &Path) -> Federation {
    let fed = Federation::start(
        dir,
        &[],
        &[("MX", &["CO", "PE"]), ("CO", &["MX"]), ("PE", &["MX"])],
    );
    for (a, b) in [("CO", "MX"), ("PE", "MX"), ("MX", "CO"), ("MX", "PE")] {
        await_partner(fed.member(a), b);
    }
    fed
}

/// MX's alerts: 3 for CO, 2 for PE, 1 for both.
fn publish_mx_alerts(mx: &Node) {
    publish_alerts(mx, 0, 3, &["CO"]);
    publish_alerts(mx, 3, 2, &["PE"]);
    publish_alerts(mx, 5, 1, &["CO", "PE"]);
}

fn export_for(mx: &Node, state: &str) -> PathBuf {
    let file = mx.dir.join(format!("for-{state}.tipx"));
    let out = mx
        .tipx([
            "bundle",
            "export",
            "--for",
            state,
            "--out",
            file.to_str().unwrap(),
        ])
        .ok();
    assert!(out.stdout.contains("records in"), "{out}");
    file
}

fn status(node: &Node) -> Value {
    node.tipx(["status", "--json"]).json()
}

#[test]
fn a_bundle_carries_to_an_offline_partner_what_the_network_would_and_nothing_is_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = federation(dir.path());
    // CO's network is down while MX publishes.
    assert!(fed.members[1].stop().success());
    publish_mx_alerts(fed.member("MX"));
    let file = export_for(fed.member("MX"), "CO");
    // MX goes down too: nothing but the file can bring CO the alerts.
    assert!(fed.members[0].stop().success());
    fed.members[1].start();
    let co = fed.member("CO");
    assert_eq!(alerts_of(co, "MX"), 0);

    let out = co.tipx(["bundle", "import", file.to_str().unwrap()]).ok();
    assert!(out.stdout.contains("bundle from MX"), "{out}");
    assert!(out.stdout.contains("0 refused"), "{out}");
    let titles: Vec<String> = co
        .records(&["--state", "MX", "--kind", "alert"])
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    let mut titles = titles;
    titles.sort();
    assert_eq!(
        titles,
        ["alert 0", "alert 1", "alert 2", "alert 5"],
        "CO must hold MX's alerts for CO, and none of those for PE only"
    );
    let audit = co.tipx(["audit", "--json", "--limit", "200"]).json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "received" && e["peer_state"] == "MX"),
        "the import is not in CO's audit log as received from MX: {audit}"
    );

    // The network is back: MX sends CO its next alert, and nothing it already has.
    let back_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    fed.members[0].start();
    publish_alerts(fed.member("MX"), 6, 1, &["CO"]);
    let co = fed.member("CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(co, "MX") == 5),
        "CO never received MX's next alert over the network"
    );
    let sent_to_co: Vec<String> = fed
        .member("MX")
        .tipx(["audit", "--json", "--limit", "500"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["event"] == "sent"
                && e["peer_state"] == "CO"
                && e["at_ms"].as_u64().unwrap() >= back_ms
        })
        .map(|e| e["detail"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        sent_to_co,
        ["1 record"],
        "MX sent CO more than its next alert since the bundle; CO:\n{}\nMX:\n{}",
        co.tipx(["audit", "--limit", "60"]).stdout,
        fed.member("MX").tipx(["audit", "--limit", "60"]).stdout
    );
    let after = status(co);
    assert_eq!(after["forks"], 0);
}

#[test]
fn a_bundle_imported_outside_its_audience_stores_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let fed = federation(dir.path());
    publish_mx_alerts(fed.member("MX"));
    let file = export_for(fed.member("MX"), "CO");
    let pe = fed.member("PE");
    // PE's own three alerts from MX arrive over the network first, so that whatever PE
    // holds afterwards is what the import would have added.
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(pe, "MX") == 3),
        "PE never received MX's alerts for PE"
    );
    let before = pe.records(&["--all"]).len();
    let refused = pe.tipx(["bundle", "import", file.to_str().unwrap()]);
    assert!(
        !refused.status.success()
            && refused.stderr.contains("made for CO")
            && refused.stderr.contains("nothing imported"),
        "{refused}"
    );
    assert_eq!(pe.records(&["--all"]).len(), before, "PE stored something");
    let titles: Vec<String> = pe
        .records(&["--state", "MX", "--kind", "alert"])
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !titles
            .iter()
            .any(|t| ["alert 0", "alert 1", "alert 2"].contains(&t.as_str())),
        "PE holds an alert made for CO only: {titles:?}"
    );
}

/// The frames of a bundle file: header bytes, records, and where the records start.
fn frames(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let magic = b"tipx-bundle-v1\n".len();
    let hlen = u32::from_be_bytes(bytes[magic..magic + 4].try_into().unwrap()) as usize;
    let header = bytes[magic + 4..magic + 4 + hlen].to_vec();
    let mut at = magic + 4 + hlen;
    let mut records = Vec::new();
    loop {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 4;
        if len == 0 {
            break;
        }
        records.push(bytes[at..at + len].to_vec());
        at += len;
    }
    (header, records)
}

/// A bundle of `records` under `header`, signed with `key`.
fn signed(header: &[u8], records: &[Vec<u8>], key: &tipx_protocol::Keypair) -> Vec<u8> {
    let mut out = b"tipx-bundle-v1\n".to_vec();
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header);
    let mut hash = Sha256::new();
    for r in records {
        let len = (r.len() as u32).to_be_bytes();
        hash.update(len);
        hash.update(r);
        out.extend_from_slice(&len);
        out.extend_from_slice(r);
    }
    let count = records.len() as u64;
    let sig = key.sign_bundle(
        &Sha256::digest(header).into(),
        &hash.finalize().into(),
        count,
    );
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&sig);
    out
}

#[test]
fn a_tampered_bundle_is_refused_whole_or_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    let fed = federation(dir.path());
    // CO is offline while MX publishes: the alerts reach it only by the bundle.
    let mut fed = fed;
    assert!(fed.members[1].stop().success());
    publish_alerts(fed.member("MX"), 0, 3, &["CO"]);
    let file = export_for(fed.member("MX"), "CO");
    let mx_key = fed.member("MX").key();
    assert!(fed.members[0].stop().success());
    fed.members[1].start();
    let co = fed.member("CO");
    let bytes = std::fs::read(&file).unwrap();
    let (header, records) = frames(&bytes);
    let text = |r: &[u8]| String::from_utf8_lossy(r).contains("alert 1");
    let target = records
        .iter()
        .position(|r| text(r))
        .expect("alert 1 is in the bundle");

    // One byte changed in a record, the signature left as it was: refused whole.
    let mut flipped = bytes.clone();
    let at = bytes.windows(7).position(|w| w == b"alert 1").unwrap();
    flipped[at + 6] = b'9';
    let flipped_file = co.dir.join("flipped.tipx");
    std::fs::write(&flipped_file, &flipped).unwrap();
    let refused = co.tipx(["bundle", "import", flipped_file.to_str().unwrap()]);
    assert!(
        !refused.status.success()
            && refused.stderr.contains("signature does not hold")
            && refused.stderr.contains("nothing imported"),
        "{refused}"
    );

    // The same change, signed again by MX's own key (a dishonest exporter): the bundle's
    // signature holds, so each record is checked, and the altered one alone is refused,
    // with MX as the peer in CO's audit log.
    let mut altered = records.clone();
    let pos = altered[target]
        .windows(7)
        .position(|w| w == b"alert 1")
        .unwrap();
    altered[target][pos + 6] = b'9';
    let resigned = co.dir.join("resigned.tipx");
    std::fs::write(&resigned, signed(&header, &altered, &mx_key)).unwrap();
    let out = co
        .tipx(["bundle", "import", resigned.to_str().unwrap()])
        .ok();
    // alert 0 stored; alert 1 refused for its body; alert 2 then refused as a gap, as
    // the network would refuse it.
    assert!(
        out.stdout.contains("body does not match the header's hash")
            && out.stdout.contains("gap in feed"),
        "{out}"
    );
    let audit = co.tipx(["audit", "--json", "--limit", "50"]).json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "rejected" && e["peer"] == mx_key.public().peer_id()),
        "no rejection from MX in CO's audit log: {audit}"
    );
    assert!(
        !co.records(&["--all"])
            .iter()
            .any(|r| r["title"] == "alert 9"),
        "the altered alert was stored"
    );
}
