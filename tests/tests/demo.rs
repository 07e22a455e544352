//! `tipx demo --check`: the README's first command, verified.

use tipx_tests::{COMMAND_DEADLINE, run_with_deadline, tipx_command};

#[test]
fn the_demo_federation_delivers_to_partners_and_leaves_the_outsider_with_nothing() {
    let mut cmd = tipx_command();
    cmd.args(["demo", "--check"]);
    let out = run_with_deadline(cmd, COMMAND_DEADLINE).ok();
    assert!(out.stdout.contains("demo check passed"), "{out}");
    assert!(out.stdout.contains("PE received 0 record(s)"), "{out}");
    assert!(out.stdout.contains("CO received 3 record(s)"), "{out}");
}
