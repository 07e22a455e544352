//! A store whose file was damaged on disk: the node must notice that it holds less than it
//! acknowledged, never call such a store "clean", and say what is missing.

use tipx_tests::{
    alone_running,
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    steps::{
        alerts_of, await_partner, publish_alerts, publishes_again_without_fork, publishing_refused,
    },
};

/// Records acknowledged before the damage.
const ACKNOWLEDGED: usize = 200;

/// MX and CO, partners; MX has published its alerts for CO, and CO holds them all.
fn mx_with_alerts_at_co(dir: &std::path::Path) -> Federation {
    let fed = Federation::start(dir, &[], &[("MX", &["CO"]), ("CO", &["MX"])]);
    await_partner(fed.member("CO"), "MX");
    publish_alerts(fed.member("MX"), 0, ACKNOWLEDGED, &["CO"]);
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_of(fed.member("CO"), "MX")
            == ACKNOWLEDGED),
        "CO never received MX's alerts"
    );
    fed
}

/// Flips one byte in every 97 of 4 KiB of `file`, from a sixth of it on: a bad disk where
/// sled keeps records (it writes from the start of its file; the sweep below shows where).
fn damage(file: &std::path::Path) {
    damage_at(file, 1, 6);
}

/// Flips one byte in every 97 of 4 KiB of `file`, from `num / den` of it on.
fn damage_at(file: &std::path::Path, num: usize, den: usize) {
    let mut bytes = std::fs::read(file).expect("reading the store file");
    let start = bytes.len() * num / den;
    for i in (start..(start + 4096).min(bytes.len())).step_by(97) {
        bytes[i] ^= 0xff;
    }
    std::fs::write(file, bytes).expect("writing the damaged store file");
}

#[test]
fn a_store_that_lost_acknowledged_records_is_never_called_clean() {
    let (_dir, mut node) = alone_running("MX");
    publish_alerts(&node, 0, ACKNOWLEDGED, &[]);
    assert!(node.stop().success());
    damage(&node.dir.join("store").join("db"));

    let check = node.tipx(["store", "check", "--json"]);
    let Ok(report) = serde_json::from_str::<serde_json::Value>(&check.stdout) else {
        // sled noticed: the check must fail with the damage in words.
        assert!(
            !check.status.success() && check.stderr.contains("damaged"),
            "`store check` neither reported nor refused the damaged store:\n{check}"
        );
        return;
    };
    let records = report["records"].as_u64().unwrap_or(0) as usize;
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    if records < ACKNOWLEDGED {
        assert!(
            !problems.is_empty() && !check.status.success(),
            "`store check` passed over a store holding {records} of {ACKNOWLEDGED} acknowledged records:\n{check}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.as_str().is_some_and(|p| p.contains("missing"))),
            "the problems do not say what is missing: {problems:?}"
        );
    }
}

#[test]
fn a_damaged_node_refuses_to_publish_until_its_partner_gives_back_its_feeds_and_never_forks_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = mx_with_alerts_at_co(dir.path());
    let alerts_at = |n: &tipx_tests::Node| alerts_of(n, "MX");

    // MX's disk goes bad while CO is down: nobody can give MX its feeds back at first.
    assert!(fed.members[1].stop().success());
    // Where sled keeps MX's alerts depends on when it flushed: damage places in turn, node
    // stopped, until the damage costs MX some of its alerts.
    let mx = &mut fed.members[0];
    let mut places = [(1, 6), (1, 12), (1, 4), (1, 3), (1, 24)].into_iter();
    loop {
        assert!(mx.stop().success());
        let (num, den) = places
            .next()
            .expect("no damage cost MX any alert: this test shows nothing");
        damage_at(&mx.dir.join("store").join("db"), num, den);
        mx.start();
        if alerts_at(mx) < ACKNOWLEDGED {
            break;
        }
    }
    let mx = fed.member("MX");
    publishing_refused(mx, "CO", "..=200 missing");
    let warnings = mx.tipx(["status", "--json"]).json()["warnings"].to_string();
    assert!(warnings.contains("missing"), "{warnings}");

    // CO is back: MX takes its feeds back from CO, then publishes seq 201.
    fed.members[1].start();
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    assert!(
        eventually(DELIVERY_DEADLINE, || alerts_at(mx) == ACKNOWLEDGED),
        "MX never got its alerts back from CO (holds {}); log:\n{}",
        alerts_at(mx),
        mx.log()
    );
    publishes_again_without_fork(mx, co, ACKNOWLEDGED + 1);
}

/// What `store check` made of one damaged copy of the store.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// Clean, with every acknowledged record.
    Whole,
    /// Problems listed (records missing, or records that fail their checks).
    Problems,
    /// Refused to open the store, with the damage in words.
    Refused,
}

/// Copies the files of `from` into `to` (a store directory: flat, plus `bodies/`).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_sweep_of_byte_flips_never_leaves_a_store_called_clean_with_records_missing() {
    const POSITIONS: usize = 20;
    let (_dir, mut node) = alone_running("MX");
    publish_alerts(&node, 0, ACKNOWLEDGED, &[]);
    assert!(node.stop().success());
    let store = node.dir.join("store");
    let pristine = node.dir.join("store.pristine");
    copy_dir(&store, &pristine);
    let len = std::fs::metadata(store.join("db")).unwrap().len() as usize;

    let mut verdicts = Vec::new();
    let mut held = Vec::new();
    for k in 0..POSITIONS {
        std::fs::remove_dir_all(&store).unwrap();
        copy_dir(&pristine, &store);
        let at = len * (2 * k + 1) / (2 * POSITIONS);
        let db = store.join("db");
        let mut bytes = std::fs::read(&db).unwrap();
        for b in &mut bytes[at..(at + 16).min(len)] {
            *b ^= 0x5a;
        }
        std::fs::write(&db, bytes).unwrap();

        let check = node.tipx(["store", "check", "--json"]);
        let verdict = match serde_json::from_str::<serde_json::Value>(&check.stdout) {
            Ok(report) => {
                let records = report["records"].as_u64().unwrap_or(0) as usize;
                let problems = report["problems"].as_array().map_or(0, Vec::len);
                assert!(
                    problems > 0 || records == ACKNOWLEDGED,
                    "16 bytes damaged at {at} of {len}: `store check` is clean with {records} of {ACKNOWLEDGED} records:\n{check}"
                );
                assert_eq!(problems > 0, !check.status.success(), "{check}");
                held.push(records);
                if problems > 0 {
                    Verdict::Problems
                } else {
                    Verdict::Whole
                }
            }
            Err(_) => {
                assert!(
                    !check.status.success()
                        && check.stderr.contains("damaged")
                        && !check.stderr.contains("backtrace"),
                    "16 bytes damaged at {at} of {len}: neither a report nor the damage in words:\n{check}"
                );
                Verdict::Refused
            }
        };
        verdicts.push((at, verdict));
    }
    let count = |v: Verdict| verdicts.iter().filter(|(_, x)| *x == v).count();
    println!(
        "byte-flip sweep over {len} bytes of store/db, {POSITIONS} positions: {} whole and clean, \
         {} with problems listed, {} refused with the damage in words; records left where \
         sled opened: {:?}",
        count(Verdict::Whole),
        count(Verdict::Problems),
        count(Verdict::Refused),
        held
    );
}

/// Alerts MX addressed to PE only, which is no partner: no other node holds them.
const LOCAL: usize = 5;

#[test]
fn store_recover_rebuilds_from_the_partner_and_reports_what_only_this_node_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = mx_with_alerts_at_co(dir.path());
    publish_alerts(fed.member("MX"), ACKNOWLEDGED, LOCAL, &["PE"]);
    let alerts_at = |n: &tipx_tests::Node| alerts_of(n, "MX");

    let mx = &mut fed.members[0];
    assert!(mx.stop().success());
    damage(&mx.dir.join("store").join("db"));
    let out = mx.tipx(["store", "recover"]).ok();
    assert!(out.stdout.contains("damaged store is kept in"), "{out}");
    let aside: Vec<_> = std::fs::read_dir(&mx.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("store.damaged-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "the damaged store is not kept aside");
    mx.start();

    // Followed on the running node: CO gives back what it holds, the alerts for PE cannot
    // come back, and the report says which feed lacks which records.
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let out = mx.tipx(["store", "recover"]);
    assert!(
        !out.status.success()
            && out.stdout.contains(&format!("{LOCAL} of "))
            && out.stdout.contains("could not be recovered")
            && out.stdout.contains(&format!("records 1..={LOCAL} missing"))
            && out.stderr.contains("accept-loss"),
        "`store recover` did not report the local alerts as lost:\n{out}\nlog:\n{}",
        mx.log()
    );
    assert_eq!(
        alerts_at(mx),
        ACKNOWLEDGED,
        "not all of CO's copies came back"
    );
    publishing_refused(mx, "CO", "missing");

    // The operator gives the alerts for PE up; publishing resumes with no fork at CO.
    mx.tipx(["store", "accept-loss"]).ok();
    publishes_again_without_fork(mx, co, ACKNOWLEDGED + 1);
    let check = mx.tipx(["store", "check", "--json"]).json();
    assert_eq!(check["problems"], serde_json::json!([]), "{check}");
}

#[test]
fn a_store_sled_refuses_as_damaged_is_recovered_by_run_recover_with_its_progress_followed() {
    let dir = tempfile::tempdir().unwrap();
    let mut fed = mx_with_alerts_at_co(dir.path());

    // sled keeps a checksummed configuration file: damaged, sled refuses the whole store.
    let mx = &mut fed.members[0];
    assert!(mx.stop().success());
    let conf = mx.dir.join("store").join("conf");
    let mut bytes = std::fs::read(&conf).expect("sled's conf file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&conf, bytes).unwrap();

    let refused = mx.tipx(["run"]);
    assert!(
        !refused.status.success()
            && refused.stderr.contains("damaged")
            && refused.stderr.contains("tipx run --recover"),
        "`tipx run` did not refuse the damaged store with what to do:\n{refused}"
    );
    mx.start_with(&["--recover"]);
    let mx = fed.member("MX");
    let out = mx.tipx(["store", "recover"]).ok();
    assert!(
        out.stdout.contains("the store is whole again"),
        "`store recover` did not follow the store back to whole:\n{out}\nlog:\n{}",
        mx.log()
    );
    assert_eq!(alerts_of(mx, "MX"), ACKNOWLEDGED);
    publishes_again_without_fork(mx, fed.member("CO"), ACKNOWLEDGED + 1);
}
