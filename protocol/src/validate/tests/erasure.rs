//! Rule 15a: a best practice or alert without its body is taken only with the retraction
//! that erased it (a relay cannot strip an alert's content), and the kinds that are never
//! erased must always carry theirs.

use super::*;

#[test]
fn a_best_practice_or_alert_without_its_body_is_refused_when_nothing_shows_it_was_erased() {
    // A relay that drops the body of an alert it passes on would make the full copy a
    // duplicate everywhere after it: only the author's erasing retraction may take it away.
    assert_refused!(
        at_mx(&co_alert().erased(), peer("CO")),
        Rejection::Stripped(_)
    );
    let relayed = Author::new("CO").publish(&["CO", "MX", "PE"], alert("Relayed"), NOW_MS);
    assert_refused!(at_mx(&relayed.erased(), peer("PE")), Rejection::Stripped(_));
}

#[test]
fn a_record_arriving_erased_passes_with_the_retraction_that_erased_it() {
    let mut co = Author::new("CO");
    let a = co.publish(&["CO", "MX", "PE"], alert("Wrong"), NOW_MS);
    let retraction = |target, erase| {
        Body::Retraction(Retraction {
            target,
            reason: "Sent in error".into(),
            erase,
        })
    };
    let erasing = co.publish(&["CO", "MX", "PE"], retraction(a.id, true), NOW_MS + 1);
    let v = at_mx(&a.erased_by(&erasing), peer("PE")).expect("an erased record travels");
    assert_eq!((v.record.id, v.body), (a.id, None));

    // Each proof below is broken in one way only, and refused.
    let withdrawing = co.publish(&["CO", "MX", "PE"], retraction(a.id, false), NOW_MS + 2);
    let b = co.publish(&["CO", "MX", "PE"], alert("Another"), NOW_MS + 3);
    let of_another = co.publish(&["CO", "MX", "PE"], retraction(b.id, true), NOW_MS + 4);
    let mut other_feed = Author::new("CO");
    other_feed.publish(&["CO", "MX"], alert("First"), NOW_MS);
    let from_another_feed = other_feed.publish(&["CO", "MX"], retraction(a.id, true), NOW_MS + 5);
    let mut forged = erasing.clone();
    forged.signature = withdrawing.signature;
    let alert_not_retraction =
        co.publish(&["CO", "MX", "PE"], alert("Not a retraction"), NOW_MS + 6);
    let mut garbage = a.erased();
    garbage.erased_by = Some(vec![0xff; 40]);
    let cases = [
        ("does not erase", a.erased_by(&withdrawing)),
        ("erases another record", a.erased_by(&of_another)),
        ("is of another feed", a.erased_by(&from_another_feed)),
        ("has a forged signature", a.erased_by(&forged)),
        ("is no retraction", a.erased_by(&alert_not_retraction)),
        ("does not decode", garbage),
    ];
    for (what, stripped) in cases {
        match at_mx(&stripped, peer("CO")) {
            Err(Rejection::Stripped(why)) => assert!(why.contains("retraction"), "{why}"),
            other => panic!("a proof that {what} was not refused as stripped: {other:?}"),
        }
    }
    // A full record carries no proof.
    let mut both = a.clone();
    both.erased_by = Some(erasing.encode());
    assert_refused!(at_mx(&both, peer("CO")), Rejection::Malformed(_));
}

#[test]
fn records_that_are_never_erased_must_carry_their_body() {
    // A retraction, consent or roster takes effect through its body, and none of them can
    // be retracted, so none may arrive without it: one stored bodiless would turn the
    // real one into a duplicate that never takes effect.
    let mut co = Author::new("CO");
    let first = co.publish(&["CO", "MX"], alert("Wrong"), NOW_MS);
    let retraction = Body::Retraction(Retraction {
        target: first.id,
        reason: "Sent in error".into(),
        erase: true,
    });
    let records = [
        (co.publish(&["CO", "MX"], retraction, NOW_MS), "CO"),
        (co.publish(&["*"], consent("MX"), NOW_MS), "CO"),
        (
            Author::new("OAS").publish(&["*"], Body::Roster(roster(2, STATES)), NOW_MS),
            "OAS",
        ),
    ];
    for (r, sender) in records {
        assert!(at_mx(&r, peer(sender)).is_ok(), "{r:?}");
        assert_refused!(at_mx(&r.erased(), peer(sender)), Rejection::BadBody(_));
    }
}
