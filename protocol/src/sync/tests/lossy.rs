//! Replication over a lossy wire ([`Sim::lossy`]): a lost request ends in `on_failure` once,
//! when it times out, and a seed replays the same run.

use crate::{
    store::Store,
    sync::{Config, DEFAULT_INTERVAL_MS, DEFAULT_PAGE_BYTES, sim::*},
    testkit::alert,
};

/// Simulated time between two timer calls while a scenario runs, ms: several per
/// anti-entropy interval, and shorter than most delays so that held messages arrive
/// between ticks.
const TICK_MS: u64 = 5_000;

/// Small pages, so that a backlog moves in several fetches that can each be lost.
const PAGED: Config = Config {
    interval_ms: DEFAULT_INTERVAL_MS,
    page_records: 3,
    page_bytes: DEFAULT_PAGE_BYTES,
};

/// Moves the clock on by `ms`, firing the timers every [`TICK_MS`].
fn wait(sim: &mut Sim, ms: u64) {
    let mut left = ms;
    while left > 0 {
        let step = left.min(TICK_MS);
        sim.tick(step);
        left -= step;
    }
}

/// Every message as (from, to, name, lost), in the order it arrived or was lost.
fn trace(sim: &Sim) -> Vec<(&'static str, &'static str, &'static str, bool)> {
    sim.traffic
        .iter()
        .map(|s| {
            let name = match &s.msg {
                Msg::Request(r) => r.name(),
                Msg::Response(r) => r.name(),
            };
            (s.from, s.to, name, s.lost)
        })
        .collect()
}

#[test]
fn a_lost_request_fails_exactly_once_when_it_times_out() {
    let slow = Config {
        interval_ms: 10 * DEFAULT_INTERVAL_MS,
        ..Config::default()
    };
    let all_lost = Loss {
        drop: 1.0,
        delay: 0.0,
        reorder: 0.0,
        ..Loss::BAD
    };
    let mut sim = Sim::with(&["MX", "CO"], |_| slow).lossy(1, all_lost);
    sim.connect("MX", "CO");
    assert_eq!(
        sim.unfinished(),
        (2, 2),
        "both digests lost, both waiting to time out"
    );
    sim.tick(all_lost.timeout_ms - 1);
    assert_eq!(sim.unfinished(), (2, 2));
    sim.tick(1);
    assert_eq!(sim.unfinished(), (0, 0));
    assert_eq!(
        trace(&sim),
        [("MX", "CO", "heads", true), ("CO", "MX", "heads", true)]
    );
    assert!(sim.synced.is_empty(), "a round that failed is not in sync");

    sim.set_loss(Loss::NONE);
    sim.tick(slow.interval_ms);
    assert_eq!(
        sim.synced,
        [("MX", "CO"), ("CO", "MX")],
        "the next round is"
    );
}

#[test]
fn the_same_seed_replays_the_same_run_and_another_seed_another() {
    let run = |seed| {
        let mut sim = Sim::with(&["MX", "CO", "PE"], |_| PAGED).lossy(seed, Loss::BAD);
        sim.connect("MX", "CO");
        sim.connect("CO", "PE");
        for i in 0..12 {
            sim.publish("MX", &["CO", "MX", "PE"], alert(&format!("No. {i}")));
            match i {
                4 => sim.cut("MX", "CO"),
                8 => sim.heal("MX", "CO"),
                _ => {}
            }
            sim.tick(TICK_MS);
        }
        wait(&mut sim, 3 * DEFAULT_INTERVAL_MS);
        sim.set_loss(Loss::NONE);
        wait(&mut sim, Loss::BAD.timeout_ms);
        assert_eq!(sim.unfinished(), (0, 0), "every request ended");
        assert_eq!(sim.node("PE").store.len(), Ok(12));
        trace(&sim)
    };
    let once = run(7);
    assert!(once.iter().any(|m| m.3), "something was lost");
    assert_eq!(once, run(7));
    assert_ne!(once, run(8));
}
