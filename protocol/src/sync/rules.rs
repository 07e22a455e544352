//! The privacy rule of replication and the digest of shared feeds, as pure functions.
//!
//! [`shares`] answers "may this node mention this feed to, or send its records to, that
//! peer?". Every message a node sends passes through it: digests and head lists cover only
//! shared feeds, fetches for other feeds are denied, and pushes and announces go only to
//! peers that share the feed.

use sha2::{Digest as _, Sha256};

use crate::{
    FeedId, Membership, PublicKey, StateCode,
    record::{Audience, Header},
    store::FeedInfo,
    sync::FeedHead,
};

/// Domain-separation prefix of [`digest`].
pub const DIGEST_DOMAIN: &[u8] = b"tipx/digest/v1";

/// Whether a node of state `local` may mention `feed` to, and send its records to, a peer
/// of state `peer`, given what `membership` knows of the roster and consents.
///
/// * A federation feed (consents, the roster; audience `["*"]`) goes to every roster
///   member (and to the coordinator).
/// * A feed for named states goes to `peer` only if `peer` is in its audience, `local` and
///   `peer` are partners, and the author's state is a partner of `peer` — so the peer would
///   accept it, and a relay never carries records between states that did not both ask to
///   exchange. Nodes of one state count as partners of each other.
/// * A feed whose author key is revoked goes to nobody: no peer would accept a record of
///   it any more, whatever its date.
pub fn shares(membership: &Membership, local: StateCode, peer: StateCode, feed: &FeedInfo) -> bool {
    membership.revocation(&feed.author).is_none()
        && allowed(
            membership,
            local,
            peer,
            feed.author_state,
            feed.audience == Audience::Federation,
            feed.audience.contains(peer),
        )
}

/// [`shares`] for the feed of a record with this header.
pub fn shares_header(
    membership: &Membership,
    local: StateCode,
    peer: StateCode,
    h: &Header,
) -> bool {
    let federation = h.audience == Audience::Federation;
    membership.revocation(&h.author).is_none()
        && allowed(
            membership,
            local,
            peer,
            h.author_state,
            federation,
            h.audience.contains(peer),
        )
}

/// The state of `key`: from the roster, or `OAS` for the anchor key (so that a node with no
/// roster yet can take the roster from the coordinator).
pub fn key_state(membership: &Membership, key: &PublicKey) -> Option<StateCode> {
    membership
        .state_of(key)
        .or_else(|| (*key == membership.anchor_key()).then(StateCode::coordinator))
}

/// Whether a node of state `local` may take the feed `head` names from a peer of state
/// `peer`: the head is consistent (its feed id is its author's and audience's), and the
/// feed is one each of the two may send the other — so the answer depends only on what
/// the head says and on the membership, never on whether the node holds the feed. A node
/// without a roster takes only the roster.
pub fn may_take(
    membership: &Membership,
    local: StateCode,
    peer: StateCode,
    head: &FeedHead,
) -> bool {
    if !head.is_consistent() {
        return false;
    }
    if head.feed == membership.roster_feed() || membership.roster().is_none() {
        return head.feed == membership.roster_feed();
    }
    let Some(author_state) = key_state(membership, &head.author) else {
        return false;
    };
    let federation = head.audience == Audience::Federation;
    let contains = |s| head.audience.contains(s);
    membership.revocation(&head.author).is_none()
        && allowed(
            membership,
            local,
            peer,
            author_state,
            federation,
            contains(peer),
        )
        && allowed(
            membership,
            peer,
            local,
            author_state,
            federation,
            contains(local),
        )
}

fn allowed(
    m: &Membership,
    local: StateCode,
    peer: StateCode,
    author_state: StateCode,
    federation: bool,
    peer_in_audience: bool,
) -> bool {
    if !(peer.is_coordinator() || m.is_member(peer)) {
        return false;
    }
    if federation {
        return true;
    }
    let linked = |s: StateCode| s == peer || m.are_partners(s, peer);
    peer_in_audience && linked(local) && linked(author_state)
}

/// The heads of the feeds in `feeds` that a node of state `local` shares with `peer`,
/// sorted by feed.
pub fn shared_heads<'a>(
    membership: &Membership,
    local: StateCode,
    peer: StateCode,
    feeds: impl IntoIterator<Item = &'a FeedInfo>,
) -> Vec<FeedHead> {
    let mut out: Vec<FeedHead> = feeds
        .into_iter()
        .filter(|f| shares(membership, local, peer, f))
        .map(FeedHead::held)
        .collect();
    out.sort_unstable_by_key(|h| h.feed);
    out
}

/// sha256 over `"tipx/digest/v1"` and each `(feed, seq)` (the feed's 32 bytes, then the seq
/// as 8 bytes big-endian), sorted by feed. Two nodes that hold the same seqs of the same
/// shared feeds compute the same digest.
pub fn digest(feeds: impl IntoIterator<Item = (FeedId, u64)>) -> [u8; 32] {
    let mut all: Vec<(FeedId, u64)> = feeds.into_iter().collect();
    all.sort_unstable();
    let mut h = Sha256::new();
    h.update(DIGEST_DOMAIN);
    for (feed, seq) in all {
        h.update(feed.0);
        h.update(seq.to_be_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        feed::Head,
        testkit::{Author, NOW_MS, alert, membership, st},
    };

    fn info(author: &str, audience: &[&str]) -> FeedInfo {
        let r = Author::new(author).publish(audience, alert("x"), NOW_MS);
        FeedInfo {
            channel: crate::Channel::Main,
            feed: r.header.feed,
            author: r.header.author,
            author_state: r.header.author_state,
            audience: r.header.audience.clone(),
            head: Head { seq: 1, id: r.id },
        }
    }

    fn view(me: &str) -> Membership {
        membership(
            me,
            &["OAS", "MX", "CO", "PE", "BR"],
            &[("MX", "CO"), ("CO", "PE")],
        )
    }

    #[test]
    fn a_states_feed_needs_the_audience_and_consent_with_both_the_relay_and_the_author() {
        let co = view("CO");
        // CO's own feed for CO and MX: to MX yes, to PE (not in the audience) no.
        let own = info("CO", &["CO", "MX"]);
        assert!(shares(&co, st("CO"), st("MX"), &own));
        assert!(!shares(&co, st("CO"), st("PE"), &own));
        // MX's feed for CO, MX, PE held by CO: PE is in the audience and CO's partner, but
        // MX and PE never agreed to exchange, so CO must not relay it.
        let mx = info("MX", &["CO", "MX", "PE"]);
        assert!(!shares(&co, st("CO"), st("PE"), &mx));
        assert!(shares(&co, st("CO"), st("MX"), &mx));
        // BR is in no consent at all.
        let br = info("CO", &["BR", "CO"]);
        assert!(!shares(&co, st("CO"), st("BR"), &br));
    }

    #[test]
    fn federation_feeds_go_to_every_roster_member_and_nobody_else() {
        let co = view("CO");
        let consents = info("CO", &["*"]);
        for peer in ["OAS", "MX", "PE", "BR"] {
            assert!(shares(&co, st("CO"), st(peer), &consents), "{peer}");
        }
        assert!(!shares(&co, st("CO"), st("AR"), &consents));
    }

    #[test]
    fn a_feed_whose_author_key_is_revoked_goes_to_nobody() {
        let mut co = view("CO");
        let mx_feed = info("MX", &["CO", "MX"]);
        assert!(shares(&co, st("CO"), st("MX"), &mx_feed), "control");
        let mut roster = crate::testkit::roster(2, &["OAS", "MX", "CO", "PE", "BR"]);
        roster.revoked.push(crate::body::RevokedKey {
            key: mx_feed.author,
            state: st("MX"),
            revoked_at_ms: NOW_MS,
        });
        assert!(co.apply_roster(roster));
        assert!(!shares(&co, st("CO"), st("MX"), &mx_feed));
        let consents = info("MX", &["*"]);
        assert!(!shares(&co, st("CO"), st("PE"), &consents));
    }

    #[test]
    fn the_digest_ignores_order_and_sees_every_seq() {
        let (a, b) = (FeedId([1; 32]), FeedId([2; 32]));
        assert_eq!(digest([(a, 1), (b, 2)]), digest([(b, 2), (a, 1)]));
        assert_ne!(digest([(a, 1), (b, 2)]), digest([(a, 1), (b, 3)]));
        assert_ne!(digest([(a, 1)]), digest([]));
    }
}
