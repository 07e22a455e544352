//! A full disk: a node whose store is on a small file system (a tmpfs the test mounts; it
//! needs root, as CI has) refuses publishes with a clear error before the disk is full,
//! loses nothing it acknowledged, keeps serving reads, and publishes again once space is
//! freed — without a restart.

use std::{path::Path, process::Command};

use serde_json::json;
use tipx_tests::{Node, write_jsonl};

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Self {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(dir)
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.0)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

/// `n` alerts of about 3 KiB, titled `batch-i`.
fn batch(dir: &Path, b: usize, n: usize) -> std::path::PathBuf {
    let lines: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "kind": "alert",
                "title": format!("batch {b} alert {i}"),
                "severity": "low",
                "description": format!("case {b}.{i} ").repeat(300),
            })
        })
        .collect();
    let path = dir.join(format!("batch-{b}.jsonl"));
    write_jsonl(&path, &lines);
    path
}

#[test]
fn a_node_on_a_full_disk_refuses_publishes_keeps_what_it_acknowledged_and_recovers() {
    let outside = tempfile::tempdir().unwrap();
    let disk = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(disk.path(), "24m");
    let mut node = Node::init("MX", disk.path());
    let config = node.config_path();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("min_free_mib = 100", "min_free_mib = 8"),
    )
    .unwrap();
    node.start();

    let mut acknowledged = 0;
    let mut refusal = None;
    for b in 0..40 {
        let file = batch(outside.path(), b, 200);
        let out = node.tipx(["publish", "--file", file.to_str().unwrap()]);
        if out.status.success() {
            acknowledged += 200;
        } else {
            refusal = Some(out.stderr);
            break;
        }
    }
    let refusal = refusal.expect("24 MiB never filled up");
    assert!(
        refusal.contains("the disk holding the store has")
            && refusal.contains("nothing was stored"),
        "unclear refusal: {refusal}"
    );
    assert!(acknowledged > 0, "the first import was refused: {refusal}");

    // Reads go on, and everything acknowledged is there.
    let held = node.records(&[]);
    assert_eq!(
        held.len(),
        acknowledged,
        "records lost or added by the refusal"
    );

    // Space comes back: publishing works again, without a restart.
    fs.resize("64m");
    let out = node.tipx([
        "publish",
        "alert",
        "--title",
        "after the disk was freed",
        "--severity",
        "low",
    ]);
    assert!(
        out.status.success(),
        "publishing after space returned: {}",
        out.stderr
    );
    assert_eq!(node.records(&[]).len(), acknowledged + 1);

    node.stop();
    let check = node.tipx(["store", "check"]);
    assert!(check.status.success(), "{}{}", check.stdout, check.stderr);
}
