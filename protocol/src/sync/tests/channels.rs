//! The rollout rule: a node mentions a channel's feeds (activity summaries, national
//! profiles) only to a peer that said, in its digest, that it knows the channel. A node of
//! an earlier version is never sent one — so it neither counts an offence nor holds a gap —
//! and still gets every record of the main channel; once it upgrades, it catches up.

use super::*;
use crate::{Channel, testkit::profile};

/// Every feed head or record `from` mentioned or sent to `to`, with its channel.
fn channels_sent(sim: &Sim, from: &str, to: &str) -> Vec<Channel> {
    let mut out = Vec::new();
    for m in sent(sim, from, to) {
        let (heads, records) = match m {
            Msg::Request(Request::Announce { heads })
            | Msg::Response(Response::Heads { heads }) => (heads.clone(), vec![]),
            Msg::Request(Request::Push { records })
            | Msg::Response(Response::Records { records, .. }) => (vec![], records.clone()),
            _ => continue,
        };
        out.extend(heads.iter().map(|h| h.channel));
        out.extend(
            records
                .iter()
                .map(|b| Record::decode(b).expect("decodes").header.channel),
        );
    }
    out
}

#[test]
fn a_peer_that_predates_channels_is_never_sent_one_and_catches_up_once_upgraded() {
    let mut sim = Sim::new(&["MX", "CO"]);
    let co = sim.idx("CO");
    sim.nodes[co].predates_channels = true;
    sim.connect("MX", "CO");
    sim.run();
    let (alert_r, _) = sim.publish("MX", &["CO", "MX"], alert("Fake job offers"));
    let (profile_r, _) = sim.publish("MX", &["CO", "MX"], profile());
    sim.run();
    for _ in 0..3 {
        sim.tick(60_000);
    }
    assert!(sim.holds("CO", &alert_r), "the main channel still flows");
    assert!(!sim.holds("CO", &profile_r));
    let to_co = channels_sent(&sim, "MX", "CO");
    assert!(!to_co.is_empty());
    assert!(
        to_co.iter().all(|c| *c == Channel::Main),
        "MX mentioned a channel feed to a node that predates it: {to_co:?}"
    );
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);

    // CO upgrades: its next digest says it knows the channels, and it catches up.
    sim.nodes[co].predates_channels = false;
    for _ in 0..3 {
        sim.tick(60_000);
    }
    assert!(sim.holds("CO", &profile_r));
    assert!(sim.refused.is_empty(), "{:?}", sim.refused);
}

#[test]
fn without_the_channel_check_the_old_peer_would_be_sent_the_profile() {
    // The control: two nodes that both know the channels exchange the profile at once.
    let mut sim = Sim::new(&["MX", "CO"]);
    sim.connect("MX", "CO");
    sim.run();
    sim.tick(60_000);
    let (profile_r, _) = sim.publish("MX", &["CO", "MX"], profile());
    sim.run();
    assert!(sim.holds("CO", &profile_r));
    assert!(channels_sent(&sim, "MX", "CO").contains(&Channel::Profile));
}
