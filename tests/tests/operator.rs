//! The README's "Running a federation, step by step", executed as an operator would: three
//! nodes (OAS, MX, CO) on 127.0.0.1, each command taken from the README (a step whose line
//! is missing from the README fails), with the ports and peer ids the test picks in place of
//! the README's defaults and `<…>` placeholders, and each command's output checked.

use tempfile::TempDir;
use tipx_tests::{
    Node, Outcome,
    federation::{DELIVERY_DEADLINE, eventually},
};

const README: &str = include_str!("../../README.md");

/// The README's step-by-step federation section.
fn section() -> &'static str {
    let start = README
        .find("### Running a federation, step by step")
        .expect("the README has the step-by-step federation section");
    let rest = &README[start..];
    let end = rest[4..].find("\n## ").map_or(rest.len(), |e| e + 4);
    &rest[..end]
}

/// Splits a command line like a shell: on spaces, keeping "double-quoted words" whole.
fn words(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The README's line `line` with the placeholders of `subs` replaced: its arguments after
/// `tipx`. Fails if the README's section does not hold the line.
#[track_caller]
fn readme_args(line: &str, subs: &[(&str, &str)]) -> Vec<String> {
    assert!(
        section().lines().any(|l| l.trim() == line),
        "the README's federation section has no line `{line}`"
    );
    let mut text = line.to_string();
    for (from, to) in subs {
        text = text.replace(from, to);
    }
    assert!(!text.contains('<'), "a placeholder is left in `{text}`");
    let mut args = words(&text);
    assert_eq!(args.remove(0), "tipx", "`{line}` is not a tipx command");
    args
}

/// Runs the README's `line` on `node`.
#[track_caller]
fn step(node: &Node, line: &str, subs: &[(&str, &str)]) -> Outcome {
    node.tipx(readme_args(line, subs))
}

/// Runs the README's `init` line for a new node under `dir` (with the test's ports).
#[track_caller]
fn init(dir: &TempDir, line: &str, subs: &[(&str, &str)]) -> (Node, Outcome) {
    let args = readme_args(line, subs);
    assert_eq!(args[0], "init");
    let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    Node::init_with(dir.path(), &args)
}

#[test]
fn the_readme_federation_runs_step_by_step() {
    let dir = tempfile::tempdir().unwrap();

    // 1. The coordinator.
    let (mut oas, out) = init(&dir, "tipx init --state OAS", &[]);
    assert!(
        out.stdout.contains(&format!("peer id: {}", oas.peer_id)),
        "{out}"
    );
    assert!(section().contains("tipx run"));
    oas.start();
    let oas_addr = format!("127.0.0.1/tcp/{}", oas.p2p_port);

    // 2. The members.
    let member_init = "tipx init --state MX --anchor <OAS peer id> --bootstrap /ip4/<OAS address>/tcp/7100/p2p/<OAS peer id> --partners CO";
    let oas_subs = [
        ("<OAS peer id>", oas.peer_id.as_str()),
        ("<OAS address>/tcp/7100", oas_addr.as_str()),
    ];
    let (mut mx, out) = init(&dir, member_init, &oas_subs);
    assert!(
        out.stdout.contains(&format!("peer id: {}", mx.peer_id)),
        "{out}"
    );
    assert!(section().contains("(`CO` does the same with `--state CO --partners MX`.)"));
    let co_subs = [
        oas_subs[0],
        oas_subs[1],
        ("--state MX", "--state CO"),
        ("--partners CO", "--partners MX"),
    ];
    let (mut co, _) = init(&dir, member_init, &co_subs);
    for n in [&mx, &co] {
        let out = step(n, "tipx config check", &[]).ok();
        assert!(
            out.stdout.contains(": OK") && out.stdout.contains(&n.peer_id),
            "{out}"
        );
        let out = step(n, "tipx id", &[]).ok();
        assert_eq!(out.stdout.trim(), n.peer_id);
    }

    // 3. The roster.
    let mx_addr = format!("127.0.0.1/tcp/{}", mx.p2p_port);
    let co_addr = format!("127.0.0.1/tcp/{}", co.p2p_port);
    let out = step(
        &oas,
        "tipx roster add --state MX --name Mexico --peer-id <MX peer id> --addr /ip4/<MX address>/tcp/7100",
        &[
            ("<MX peer id>", mx.peer_id.as_str()),
            ("<MX address>/tcp/7100", mx_addr.as_str()),
        ],
    )
    .ok();
    assert!(
        out.stdout.contains("MX") && out.stdout.contains("Mexico"),
        "{out}"
    );
    assert!(out.stdout.contains("draft"), "{out}");
    let out = step(
        &oas,
        "tipx roster add --state CO --name Colombia --peer-id <CO peer id> --addr /ip4/<CO address>/tcp/7100",
        &[
            ("<CO peer id>", co.peer_id.as_str()),
            ("<CO address>/tcp/7100", co_addr.as_str()),
        ],
    )
    .ok();
    assert!(
        out.stdout.contains("Colombia") && out.stdout.contains(&co.peer_id),
        "{out}"
    );
    let out = step(&oas, "tipx roster publish", &[]).ok();
    assert!(out.stdout.contains("published roster record"), "{out}");

    // 4. The members start, get the roster and become partners.
    mx.start();
    co.start();
    let active = |n: &Node, other: &str| {
        let rows = step(n, "tipx partners list", &[]).ok().stdout;
        rows.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&other) && cols.get(3) == Some(&"yes")
        })
    };
    assert!(
        eventually(DELIVERY_DEADLINE, || active(&mx, "CO") && active(&co, "MX")),
        "MX and CO never became partners:\n{}\n{}",
        step(&mx, "tipx partners list", &[]),
        step(&co, "tipx partners list", &[])
    );
    let out = step(&mx, "tipx status", &[]).ok();
    assert!(out.stdout.contains("partners   CO"), "{out}");
    assert!(out.stdout.contains("roster     version 1"), "{out}");
    assert!(!out.stdout.contains("WARNING"), "{out}");

    // 5. Exchange.
    let publish = "tipx publish alert --title \"Fake modelling agency recruiting minors\" --severity high --audience CO";
    let out = step(&mx, publish, &[]).ok();
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "{out}");
    assert!(out.stderr.is_empty(), "no warning for a partner: {out}");
    let title = "Fake modelling agency recruiting minors";
    assert!(
        eventually(DELIVERY_DEADLINE, || step(&co, "tipx records list", &[])
            .ok()
            .stdout
            .contains(title)),
        "CO never listed the alert:\n{}",
        step(&co, "tipx records list", &[])
    );
    let out = step(&co, "tipx records list", &[]).ok();
    let row = out.stdout.lines().find(|l| l.contains(title)).unwrap();
    assert!(
        row.starts_with(&id[..12]) && row.contains("MX") && row.contains("alert"),
        "{out}"
    );
    assert!(!oas.holds(&id), "OAS was not in the audience");

    let out = step(&co, "tipx peers", &[]).ok();
    assert!(
        out.stdout.starts_with("STATE"),
        "a table with a header: {out}"
    );
    let mx_row: Vec<&str> = out
        .stdout
        .lines()
        .find(|l| l.starts_with("MX"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(mx_row.get(2), Some(&"yes"), "MX connected: {out}");
    assert!(!out.stdout.contains(&mx.peer_id), "short ids only: {out}");

    let out = step(&mx, "tipx partners revoke CO", &[]).ok();
    assert!(
        out.stdout.contains("stopped exchange with CO")
            && out
                .stdout
                .contains("nothing more is sent to or accepted from CO"),
        "{out}"
    );
    let out = step(&mx, publish, &[]).ok();
    assert!(
        out.stderr.contains(
            "warning: CO will not receive it: CO is not a partner: you revoked exchange with it"
        ),
        "{out}"
    );
    let second = out.stdout.trim().to_string();
    assert!(!active(&mx, "CO"));
    // CO learns of the revoke and never receives the second alert.
    assert!(eventually(DELIVERY_DEADLINE, || !active(&co, "MX")));
    assert!(!co.holds(&second), "CO received a record after the revoke");
}
