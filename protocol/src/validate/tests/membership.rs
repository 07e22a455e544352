//! Partners and roster versions: who counts as a partner, and which roster is in force.

use super::*;

fn grant(at_ms: u64) -> ConsentState {
    consent_of(ConsentAction::Grant, at_ms)
}

fn revoke(at_ms: u64) -> ConsentState {
    consent_of(ConsentAction::Revoke, at_ms)
}

#[test]
fn states_are_partners_only_while_both_latest_consents_are_grants() {
    let (mx, co) = (st("MX"), st("CO"));
    let mut m = Membership::new(key_of("MX").public(), mx, Some(key_of("OAS").public()));
    m.apply_roster(roster(1, STATES));
    assert!(!m.are_partners(mx, co));
    assert!(m.apply_consent(mx, co, grant(NOW_MS)));
    assert!(!m.are_partners(mx, co) && !m.are_partners(co, mx));
    assert!(m.apply_consent(co, mx, grant(NOW_MS + 1)));
    assert!(m.are_partners(mx, co) && m.are_partners(co, mx));
    assert_eq!(m.partners(), BTreeSet::from([co]));
    assert!(!m.are_partners(mx, mx));
}

#[test]
fn a_later_revoke_ends_a_partnership() {
    let (mx, co) = (st("MX"), st("CO"));
    let mut m = view("MX");
    assert!(m.are_partners(mx, co));
    assert!(m.apply_consent(co, mx, revoke(NOW_MS)));
    assert!(!m.are_partners(mx, co));
    assert_eq!(m.partners(), BTreeSet::from([st("PE")]));
    // CO's records no longer reach MX, even through PE.
    let r = Author::new("CO").publish(&["CO", "MX", "PE"], alert("After"), NOW_MS);
    assert_eq!(
        validate_bytes(&r.encode(), peer("PE"), &cx(&m)).unwrap_err(),
        Rejection::AuthorNotPartner {
            author: co,
            local: mx
        }
    );
}

#[test]
fn an_older_consent_arriving_late_does_not_override_a_newer_one() {
    let (mx, co) = (st("MX"), st("CO"));
    let mut m = view("MX");
    assert!(m.apply_consent(co, mx, revoke(NOW_MS)));
    assert!(!m.apply_consent(co, mx, grant(NOW_MS - 500)));
    assert_eq!(m.consent(co, mx), Some(revoke(NOW_MS)));
    assert!(!m.are_partners(mx, co));
}

#[test]
fn a_roster_with_a_lower_or_equal_version_is_ignored() {
    let mut m = Membership::new(
        key_of("MX").public(),
        st("MX"),
        Some(key_of("OAS").public()),
    );
    assert!(m.apply_roster(roster(2, &["OAS", "MX", "CO"])));
    assert!(!m.apply_roster(roster(1, STATES)));
    assert!(!m.apply_roster(roster(2, STATES)));
    assert_eq!(
        m.roster().map(|r| (r.version, r.members.len())),
        Some((2, 3))
    );
    let r = Author::new("PE").publish(&["MX", "PE"], alert("From PE"), NOW_MS);
    assert_eq!(
        validate_bytes(&r.encode(), peer("PE"), &cx(&m)).unwrap_err(),
        Rejection::UnknownAuthor(st("PE"))
    );
    assert!(m.apply_roster(roster(3, STATES)));
    assert_eq!(m.state_of(&key_of("PE").public()), Some(st("PE")));
}

#[test]
fn consents_created_at_the_same_moment_settle_on_revoke_in_any_order() {
    let (g, r) = (grant(NOW_MS), revoke(NOW_MS));
    for order in [[g, r], [r, g]] {
        let mut m = Membership::new(key_of("MX").public(), st("MX"), None);
        m.apply_consent(st("CO"), st("MX"), grant(NOW_MS - 10));
        for c in order {
            m.apply_consent(st("MX"), st("CO"), c);
        }
        assert_eq!(
            m.consent(st("MX"), st("CO")).map(|c| c.action),
            Some(ConsentAction::Revoke)
        );
        assert!(!m.are_partners(st("MX"), st("CO")));
    }
}
