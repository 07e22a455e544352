//! What an operator installs beside the binary: shell completions and man pages generated
//! from the real command line, and a systemd unit that `systemd-analyze verify` accepts.

use std::process::Command;

use tipx_tests::{COMMAND_DEADLINE, run_with_deadline, tipx_bin, tipx_command};

fn tipx(args: &[&str]) -> tipx_tests::Outcome {
    let mut cmd = tipx_command();
    cmd.args(args);
    run_with_deadline(cmd, COMMAND_DEADLINE).ok()
}

#[test]
fn completions_name_the_commands_and_flags() {
    let bash = tipx(&["completions", "bash"]).stdout;
    for word in ["publish", "export", "--data-dir", "--format", "jsonl"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    for shell in ["zsh", "fish"] {
        let script = tipx(&["completions", shell]).stdout;
        assert!(
            script.contains("publish") && script.contains("data-dir"),
            "{shell}"
        );
    }
}

#[test]
fn man_pages_describe_the_command_and_its_subcommands() {
    let page = tipx(&["man"]).stdout;
    assert!(page.contains(".TH tipx 1"), "{page}");
    assert!(
        page.contains("publish") && page.contains("export"),
        "{page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = tipx(&["man", "--out", dir.path().to_str().unwrap()]);
    assert!(out.stderr.contains("man pages"), "{out}");
    let export = std::fs::read_to_string(dir.path().join("tipx-export.1")).unwrap();
    assert!(export.contains("\\-\\-format"), "{export}");
    assert!(dir.path().join("tipx-records-list.1").exists());
}

#[test]
fn the_systemd_unit_verifies() {
    let which = Command::new("which")
        .arg("systemd-analyze")
        .output()
        .unwrap();
    if !which.status.success() {
        eprintln!("systemd-analyze is not installed here: the unit is not verified");
        return;
    }
    let unit = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/tipx.service"),
    )
    .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/tipx --data-dir /var/lib/tipx run"));
    // `verify` wants the binary to exist: point the copy at the one under test.
    let unit = unit.replace("/usr/local/bin/tipx", tipx_bin().to_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tipx.service");
    std::fs::write(&path, unit).unwrap();
    let mut verify = Command::new("systemd-analyze");
    verify.arg("verify").arg(&path);
    let out = run_with_deadline(verify, COMMAND_DEADLINE).ok();
    assert!(
        out.stderr.trim().is_empty(),
        "systemd-analyze warns:\n{out}"
    );
}
