//! `tipx demo`: the README's first command, verified — who receives what, where the demo
//! keeps its nodes, and that it leaves nothing behind unless asked.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::Stdio,
    sync::mpsc,
    time::Duration,
};

use tipx_tests::{COMMAND_DEADLINE, run_with_deadline, tipx_command};

/// The directory the demo says it runs in (its first line).
fn demo_dir(stdout: &str) -> PathBuf {
    let line = stdout.lines().next().unwrap_or_default();
    let (_, dir) = line
        .rsplit_once(", in ")
        .unwrap_or_else(|| panic!("no directory in {line:?}"));
    PathBuf::from(dir.trim())
}

#[test]
fn the_demo_federation_delivers_to_partners_and_leaves_the_outsider_with_nothing() {
    let mut cmd = tipx_command();
    cmd.args(["demo", "--check"]);
    let out = run_with_deadline(cmd, COMMAND_DEADLINE).ok();
    assert!(out.stdout.contains("demo check passed"), "{out}");
    assert!(out.stdout.contains("PE received 0 record(s)"), "{out}");
    assert!(out.stdout.contains("CO received 3 record(s)"), "{out}");
    // A newcomer's first sight: no warnings or errors (none either from nodes still
    // writing their files as the demo removes its directory), and no colour codes off a
    // terminal.
    assert!(!out.stderr.contains("WARN"), "{out}");
    assert!(!out.stderr.contains("ERROR"), "{out}");
    assert!(!out.stderr.contains('\u{1b}'), "{out}");
    assert!(
        !demo_dir(&out.stdout).exists(),
        "the temporary directory (keys included) was left behind: {out}"
    );
    // The coordinator's report stays for the newcomer to open, whole.
    let report = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("report to the Permanent Council"))
        .nth(1)
        .map(|l| std::path::PathBuf::from(l.trim()))
        .unwrap_or_else(|| panic!("no report path printed: {out}"));
    let html = std::fs::read_to_string(&report).unwrap_or_else(|e| panic!("{report:?}: {e}"));
    std::fs::remove_file(&report).unwrap();
    for section in ["participation", "volume", "profiles", "annex", "notes"] {
        assert!(
            html.contains(&format!("id=\"{section}\"")),
            "no section {section}"
        );
    }
    assert_eq!(html.matches("<svg").count(), 4, "four charts");
}

#[test]
fn the_demo_keeps_its_nodes_in_the_directory_given() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut cmd = tipx_command();
    cmd.args(["demo", "--check", "--data-dir"]).arg(&dir);
    let out = run_with_deadline(cmd, COMMAND_DEADLINE).ok();
    assert_eq!(demo_dir(&out.stdout), dir, "{out}");
    for state in ["oas", "mx", "co", "pe"] {
        assert!(
            dir.join(state).join("node.key").exists(),
            "no {state} node in {}: {out}",
            dir.display()
        );
    }
    // A directory that holds something already is refused, not mixed into.
    let mut cmd = tipx_command();
    cmd.args(["demo", "--check", "--data-dir"]).arg(&dir);
    let out = run_with_deadline(cmd, COMMAND_DEADLINE);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("is not empty"), "{out}");
}

#[test]
fn ctrl_c_stops_the_demo_and_removes_its_temporary_directory() {
    let mut cmd = tipx_command();
    cmd.arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // What the demo says on stderr, to show why it never became ready.
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = vec![];
    let ready = loop {
        match rx.recv_timeout(COMMAND_DEADLINE) {
            Ok(l) => {
                let done = l.contains("keep running until Ctrl-C");
                lines.push(l);
                if done {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let dir = demo_dir(&lines.join("\n"));
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the demo never became ready:\n{}\nstderr:\n{}",
            lines.join("\n"),
            errors.join().unwrap_or_default()
        );
    }
    assert!(dir.exists());
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(30)) {
        lines.push(l);
    }
    let status = child.wait().unwrap();
    let text = lines.join("\n");
    assert!(status.success(), "{status}:\n{text}");
    assert!(text.contains("removed"), "{text}");
    assert!(!dir.exists(), "{} was left behind:\n{text}", dir.display());
}
