//! A partner probing what a node holds. Feed ids are public — sha256 of an author's key and
//! an audience — so a member can name any feed to a node and watch whether the node asks it
//! for the records. A hand-driven PE, CO's partner, names to CO a feed CO holds but does not
//! share with PE and a feed CO does not hold and would not share with PE either: CO must
//! not answer either differently from the other, and must never ask PE for them. A feed CO
//! may take from PE is fetched (the control), so the silence is CO's rule, not a dead link.

use tipx_protocol::{
    Audience, FeedId, PublicKey,
    sync::{FeedHead, Request, Response},
    testkit::st,
};
use tipx_tests::{
    federation::{DELIVERY_DEADLINE, Federation, eventually},
    peer::{Peer, address, admit, grant},
};

/// The head a peer names for `author`'s feed for `audience`, at `seq`.
fn head(author: PublicKey, audience: &[&str], seq: u64) -> FeedHead {
    let audience = Audience::states(audience.iter().map(|c| st(c)));
    FeedHead {
        feed: FeedId::of(&author, &audience, tipx_protocol::Channel::Main),
        seq,
        author,
        audience,
        channel: tipx_protocol::Channel::Main,
    }
}

/// Whether `request` is a fetch of `feed`.
fn fetches(request: &Request, feed: &FeedId) -> bool {
    matches!(request, Request::Fetch { feed: f, .. } if f == feed)
}

#[test]
fn a_partner_cannot_learn_from_announces_which_feeds_a_node_holds() {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("MX", &["CO"]), ("CO", &["MX", "PE"])]);
    let (mx, co) = (fed.member("MX"), fed.member("CO"));
    let pe_key = admit(&fed, "PE", co);
    let (co_peer, _) = address(co);

    // CO holds MX's alert for [CO, MX]; PE is not in its audience.
    let id = mx.publish_alert("For CO only", "CO");
    assert!(
        eventually(DELIVERY_DEADLINE, || co.holds(&id)),
        "CO never received MX's alert"
    );
    let mx_key = mx.key().public();
    let held = head(mx_key, &["CO", "MX"], 5);
    let not_held = head(mx_key, &["BR", "CO", "MX"], 5);
    let control = head(pe_key.public(), &["CO", "PE"], 3);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut pe = Peer::new(&pe_key);
        assert!(
            pe.connect(co).await,
            "PE, a roster member, could not connect"
        );
        let ack = Some(Response::Ack {
            stored: 1,
            refused: 0,
        });
        assert_eq!(
            pe.push(co_peer, vec![grant("PE", "CO").encode()]).await,
            ack
        );

        let mut answers = Vec::new();
        for h in [&held, &not_held] {
            let announce = Request::Announce {
                heads: vec![h.clone()],
            };
            answers.push(pe.ask(co_peer, announce).await);
        }
        assert_eq!(
            answers[0], answers[1],
            "CO answers differently for a feed it holds"
        );
        // The control, named last: once CO asks for it, it has acted on the probes.
        let announce = Request::Announce {
            heads: vec![control.clone()],
        };
        assert!(pe.ask(co_peer, announce).await.is_some());
        assert!(
            pe.until_asked(|r| fetches(r, &control.feed)).await,
            "CO never fetched the feed PE may give it: {:?}",
            pe.heard()
        );
        for (what, h) in [("it holds", &held), ("it does not hold", &not_held)] {
            assert!(
                !pe.heard().iter().any(|r| fetches(r, &h.feed)),
                "CO asked PE for a feed {what} and does not share with PE: {:?}",
                pe.heard()
            );
        }
    });
}
