//! Sync version 2 on a real node, beside peers of either version: a peer of version 1 is
//! offered a reconciliation once, in the first digest, and is never sent a message of
//! version 2; a peer of version 2 reconciles, and the node's later digests carry only the
//! reconciliation's opening. The peers are hand-driven members speaking the real protocol
//! over libp2p to a real `tipx run`.

use tipx_protocol::sync::Request;
use tipx_tests::{
    federation::Federation,
    peer::{Peer, address, admit, grant},
};

/// Whether `r` is a digest, with or without the digest itself and the opening.
fn digest(r: &Request, with_digest: bool, with_opening: bool) -> bool {
    matches!(r, Request::Digest { digest, reconcile, .. }
        if digest.is_some() == with_digest && reconcile.is_some() == with_opening)
}

/// Whether `r` is a message only a node of version 2 can read.
fn of_version_2(r: &Request) -> bool {
    matches!(r, Request::Reconcile { .. } | Request::HeadsOf { .. }) || digest(r, false, true)
}

/// CO's digests to PE (a hand-driven partner of CO, `peer`), until `enough` of them held.
fn digests_to(
    peer: fn(&tipx_protocol::Keypair) -> Peer,
    enough: impl Fn(&Request) -> bool,
) -> Vec<Request> {
    let dir = tempfile::tempdir().unwrap();
    let fed = Federation::start(dir.path(), &[], &[("CO", &["PE"])]);
    let co = fed.member("CO");
    let pe_key = admit(&fed, "PE", co);
    let (co_peer, _) = address(co);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut pe = peer(&pe_key);
        assert!(pe.connect(co).await, "PE could not connect");
        assert!(
            pe.push(co_peer, vec![grant("PE", "CO").encode()])
                .await
                .is_some()
        );
        // CO runs a round every two seconds.
        assert!(pe.until_asked(&enough).await, "{:?}", pe.heard());
        assert!(pe.is_connected(&co_peer), "CO closed the connection");
        pe.heard().to_vec()
    })
}

#[test]
fn a_peer_of_version_1_is_offered_a_reconciliation_once_and_sent_nothing_it_cannot_read() {
    let heard = digests_to(Peer::new, |r| digest(r, true, false));
    let digests: Vec<&Request> = heard
        .iter()
        .filter(|r| matches!(r, Request::Digest { .. }))
        .collect();
    assert!(
        digest(digests[0], true, true),
        "the first digest offers version 2: {:?}",
        digests[0]
    );
    assert!(
        digests[1..].iter().all(|r| digest(r, true, false)),
        "after PE answered as version 1, CO offered again: {digests:?}"
    );
    assert!(!heard.iter().any(of_version_2), "{heard:?}");
}

#[test]
fn a_peer_of_version_2_reconciles_and_later_digests_carry_only_the_opening() {
    let heard = digests_to(Peer::of_version_2, |r| digest(r, false, true));
    let digests: Vec<&Request> = heard
        .iter()
        .filter(|r| matches!(r, Request::Digest { .. }))
        .collect();
    assert!(digest(digests[0], true, true), "{:?}", digests[0]);
    assert!(
        digests[1..].iter().all(|r| digest(r, false, true)),
        "{digests:?}"
    );
}
