//! Erasure is physical. After `tipx retract --erase`, the erased text is in no file of the
//! author's data directory, nor of a partner that held the record, once both have stopped;
//! the record's header stays and still verifies. The store's directory and files are
//! readable by their owner only.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use tipx_tests::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
};

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in fs::read_dir(dir).expect("reading a data directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The files under `node`'s data directory whose bytes contain `text`.
fn files_holding(node: &Node, text: &str) -> Vec<PathBuf> {
    files(&node.dir)
        .into_iter()
        .filter(|f| {
            let bytes = fs::read(f).unwrap_or_default();
            bytes.windows(text.len()).any(|w| w == text.as_bytes())
        })
        .collect()
}

fn erased(node: &Node, id: &str) -> bool {
    node.tipx(["records", "show", id, "--json"]).json()["erased"] == true
}

#[test]
fn an_erased_alert_is_gone_from_every_file_of_its_author_and_of_a_partner() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    let secret = "Ana Ejemplo, 14, last seen at the Tapachula bus station";
    let kept = "Recruiters offer cleaning jobs in Bogota to teenagers";
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let erase_me = mx.publish_alert(secret, "CO");
    let keep_me = mx.publish_alert(kept, "CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&erase_me)
            && co.holds(&keep_me)),
        "CO never received MX's alerts"
    );

    let out = mx.tipx(["retract", &erase_me, "--reason", "names a child", "--erase"]);
    assert!(out.status.success(), "retract failed: {}", out.stderr);
    assert!(erased(mx, &erase_me), "MX still shows the body");
    assert!(
        eventually(DELIVERY_DEADLINE, || erased(co, &erase_me)),
        "CO never received the erasure"
    );

    for code in ["MX", "CO"] {
        fed.member_mut(code).stop();
    }
    for node in [fed.member("MX"), fed.member("CO")] {
        // The control: the scan finds text that was not erased.
        assert!(
            !files_holding(node, kept).is_empty(),
            "{}: the kept alert's text is in no file, so the scan proves nothing",
            node.state
        );
        let holding = files_holding(node, secret);
        assert!(
            holding.is_empty(),
            "{}: the erased text is still in {holding:?}",
            node.state
        );
        let check = node.tipx(["store", "check"]);
        assert!(
            check.status.success(),
            "{}: store check after the erasure: {}{}",
            node.state,
            check.stdout,
            check.stderr
        );
    }
}

#[test]
fn the_store_is_readable_by_its_owner_only() {
    let (_dir, mut node) = tipx_tests::alone_running("MX");
    tipx_tests::publish(
        &node,
        &["alert", "--title", "Mode check", "--severity", "low"],
    );
    node.stop();
    let store = node.dir.join("store");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o700, "{}", store.display());
    let all = files(&store);
    assert!(all.len() > 1, "no files in the store: {all:?}");
    for f in all {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}
