//! Reconciliation between two [`Reconciler`]s over the real encoding: random holdings
//! reconcile exactly and in few round trips, also in small messages; each side mentions
//! only its own feeds; the figures of the module docs; messages that do not fit the
//! exchange. The encoding itself is tested in [`encoding`].

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

mod encoding;

const SALT: Salt = *b"tipx test salt!!";

/// One side's holdings: `(feed, seq)`.
type Items = Vec<(FeedId, u64)>;

/// A random-looking feed id: the `k`th of `seed`'s.
fn feed(seed: u64, k: u64) -> FeedId {
    let h = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(k.to_be_bytes())
        .finalize();
    FeedId(h.into())
}

/// A number below `n` drawn from `seed`, `k` and `what`.
fn draw(seed: u64, k: u64, what: &str, n: u64) -> u64 {
    let h = Sha256::new()
        .chain_update(b"draw")
        .chain_update(seed.to_be_bytes())
        .chain_update(k.to_be_bytes())
        .chain_update(what)
        .finalize();
    u64::from_be_bytes(h[..8].try_into().expect("8 bytes")) % n.max(1)
}

/// What `theirs` holds newer than `ours`, worked out directly.
fn truth(ours: &[(FeedId, u64)], theirs: &[(FeedId, u64)]) -> BTreeMap<FeedId, u64> {
    let ours: BTreeMap<FeedId, u64> = ours.iter().copied().collect();
    theirs
        .iter()
        .filter(|(f, s)| ours.get(f).is_none_or(|o| o < s))
        .copied()
        .collect()
}

/// Which side sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

/// A whole exchange: A initiates, B answers every request.
#[derive(Debug)]
struct Run {
    /// Every message in order, with its sender, as the receiver decoded it.
    transcript: Vec<(Side, Message)>,
    /// Bytes A sent, and B sent.
    bytes: (usize, usize),
    /// What each side learned, over all its steps.
    a_learned: BTreeMap<FeedId, u64>,
    b_learned: BTreeMap<FeedId, u64>,
}

impl Run {
    fn round_trips(&self) -> usize {
        self.transcript.len() / 2
    }

    fn total(&self) -> usize {
        self.bytes.0 + self.bytes.1
    }
}

/// Messages after which an exchange is declared a loop.
const MAX_MESSAGES: usize = 2_000;

/// Sends `msg` from `side` through the encoding, checking its size and that it decodes to
/// itself.
fn wire(run: &mut Run, side: Side, msg: &Message, max_bytes: usize) -> Message {
    let bytes = msg.encode();
    assert_eq!(bytes.len(), msg.encoded_len(), "{msg:?}");
    assert!(
        bytes.len() <= max_bytes,
        "{} bytes > {max_bytes}",
        bytes.len()
    );
    let back = Message::decode(&bytes).expect("own message decodes");
    assert_eq!(&back, msg);
    match side {
        Side::A => run.bytes.0 += bytes.len(),
        Side::B => run.bytes.1 += bytes.len(),
    }
    run.transcript.push((side, back.clone()));
    back
}

fn exchange(a: &[(FeedId, u64)], b: &[(FeedId, u64)], max_bytes: usize) -> Run {
    let mut a = Reconciler::new(a.iter().copied()).with_max_bytes(max_bytes);
    let mut b = Reconciler::new(b.iter().copied()).with_max_bytes(max_bytes);
    let mut run = Run {
        transcript: Vec::new(),
        bytes: (0, 0),
        a_learned: BTreeMap::new(),
        b_learned: BTreeMap::new(),
    };
    let mut request = a.initiate(SALT);
    loop {
        assert!(run.transcript.len() < MAX_MESSAGES, "no end in sight");
        let got = wire(&mut run, Side::A, &request, max_bytes);
        let step = b.reply(&got).expect("B takes A's message");
        run.b_learned.extend(step.they_have_newer);
        let response = step.next.unwrap_or_default();
        let got = wire(&mut run, Side::B, &response, max_bytes);
        let step = a.reply(&got).expect("A takes B's message");
        run.a_learned.extend(step.they_have_newer);
        match step.next {
            Some(next) => request = next,
            None => break,
        }
    }
    assert_eq!(
        a.they_have_newer().collect::<BTreeMap<_, _>>(),
        run.a_learned
    );
    assert_eq!(
        b.they_have_newer().collect::<BTreeMap<_, _>>(),
        run.b_learned
    );
    run
}

/// Two holdings drawn from `seed`: `common` feeds both hold, `pct` percent of them at
/// different seqs (either side ahead), and feeds only one side holds.
fn holdings(seed: u64, common: u64, pct: u64, a_only: u64, b_only: u64) -> (Items, Items) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for k in 0..common {
        let seq = 1 + draw(seed, k, "seq", 1_000);
        let (mut sa, mut sb) = (seq, seq);
        if draw(seed, k, "differs", 100) < pct {
            let ahead = 1 + draw(seed, k, "ahead", 3);
            if draw(seed, k, "side", 2) == 0 {
                sa += ahead;
            } else {
                sb += ahead;
            }
        }
        a.push((feed(seed, k), sa));
        b.push((feed(seed, k), sb));
    }
    for k in common..common + a_only {
        a.push((feed(seed, k), 1 + draw(seed, k, "seq", 1_000)));
    }
    for k in common + a_only..common + a_only + b_only {
        b.push((feed(seed, k), 1 + draw(seed, k, "seq", 1_000)));
    }
    (a, b)
}

/// Checks that each side learned exactly what the other holds newer.
fn assert_exact(run: &Run, a: &[(FeedId, u64)], b: &[(FeedId, u64)]) {
    assert_eq!(run.a_learned, truth(a, b), "what A learned");
    assert_eq!(run.b_learned, truth(b, a), "what B learned");
}

/// Checks that every feed id a side sent in an answer's items is one of its own, and that
/// every bound it sent is cut from one of its own feed ids or copied from the message it
/// answered.
fn assert_mentions_only_its_own(run: &Run, a: &[(FeedId, u64)], b: &[(FeedId, u64)]) {
    let own = |side| -> BTreeSet<FeedId> {
        let items = if side == Side::A { a } else { b };
        items.iter().map(|(f, _)| *f).collect()
    };
    let (own_a, own_b) = (own(Side::A), own(Side::B));
    let mut previous: Option<&Message> = None;
    for (side, msg) in &run.transcript {
        let mine = if *side == Side::A { &own_a } else { &own_b };
        let copied: BTreeSet<Bound> = previous
            .iter()
            .flat_map(|m| m.ranges.iter().map(|r| r.bound))
            .collect();
        for r in &msg.ranges {
            if let Mode::Answer(answer) = &r.mode {
                for (f, _) in &answer.items {
                    assert!(mine.contains(f), "{side:?} mentioned {f:?}, not its own");
                }
            }
            if let Mode::Handles(list) = &r.mode {
                assert!(list.len() <= mine.len());
            }
            if let Bound::Below(b) = r.bound
                && !copied.contains(&r.bound)
            {
                let cut = r.bound.bytes();
                let next = mine.range(FeedId(b)..).next();
                assert!(
                    next.is_some_and(|f| f.0.starts_with(cut)),
                    "{side:?} sent bound {cut:02x?}, neither cut from its feeds nor copied"
                );
            }
        }
        previous = Some(msg);
    }
}

/// At most this many round trips for holdings of up to `n` feeds a side, with messages of
/// the full size. A split leaves about 1/16 of the splitter's items in each range (or about
/// [`LEAF_ITEMS`] when it has at most 128), so each side splits a range at most
/// `⌈log16 n⌉ - 1` times; with the opening, the handles, the answer and the wanted items
/// that is `2·⌈log16 n⌉ + 3` messages, and the last empty answer makes it even.
fn round_trip_bound(n: usize) -> usize {
    let levels = (n.max(2) as f64).log(FANOUT as f64).ceil() as usize;
    levels + 2
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_holdings_reconcile_exactly_and_in_few_round_trips(
        seed in any::<u64>(),
        common in 0u64..1_500,
        pct in prop_oneof![Just(0u64), 0u64..=5, 0u64..=100],
        a_only in prop_oneof![Just(0u64), 0u64..20, 0u64..500],
        b_only in prop_oneof![Just(0u64), 0u64..20, 0u64..500],
    ) {
        let (a, b) = holdings(seed, common, pct, a_only, b_only);
        let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
        assert_exact(&run, &a, &b);
        let n = a.len().max(b.len());
        prop_assert!(
            run.round_trips() <= round_trip_bound(n),
            "{} round trips for {n} feeds", run.round_trips()
        );
        if a == b {
            prop_assert_eq!(run.transcript.len(), 2);
        }
    }

    #[test]
    fn each_side_mentions_only_its_own_feeds(
        seed in any::<u64>(),
        common in 0u64..600,
        pct in 0u64..=100,
        a_only in 0u64..300,
        b_only in 0u64..300,
    ) {
        let (a, b) = holdings(seed, common, pct, a_only, b_only);
        let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
        assert_mentions_only_its_own(&run, &a, &b);
        // Also when messages are cut short.
        let run = exchange(&a, &b, 2_048);
        assert_mentions_only_its_own(&run, &a, &b);
    }

    #[test]
    fn small_messages_still_reconcile_exactly(
        seed in any::<u64>(),
        common in 0u64..1_000,
        pct in 0u64..=100,
        a_only in 0u64..600,
        b_only in 0u64..600,
        max_bytes in 2_048usize..6_000,
    ) {
        let (a, b) = holdings(seed, common, pct, a_only, b_only);
        let run = exchange(&a, &b, max_bytes);
        assert_exact(&run, &a, &b);
    }
}

#[test]
fn feeds_with_long_shared_prefixes_reconcile_and_take_long_bounds() {
    // Ids that differ only in their last byte or two, as if ground on purpose.
    let id = |k: u16| {
        let mut b = [7; 32];
        b[30..].copy_from_slice(&k.to_be_bytes());
        FeedId(b)
    };
    let a: Vec<(FeedId, u64)> = (0..600).map(|k| (id(k), 5)).collect();
    let mut b: Vec<(FeedId, u64)> = (100..700).map(|k| (id(k), 5)).collect();
    b[300].1 = 9;
    let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
    assert_exact(&run, &a, &b);
    assert_mentions_only_its_own(&run, &a, &b);
    let longest = run
        .transcript
        .iter()
        .flat_map(|(_, m)| &m.ranges)
        .map(|r| r.bound.bytes().len())
        .max();
    assert!(longest >= Some(31), "{longest:?}");
}

#[test]
fn either_side_empty_or_both() {
    let (full, _) = holdings(1, 3_000, 0, 0, 0);
    for (a, b) in [
        (&full[..], &[][..]),
        (&[][..], &full[..]),
        (&[][..], &[][..]),
    ] {
        let run = exchange(a, b, MAX_RECONCILE_BYTES);
        assert_exact(&run, a, b);
        assert!(run.round_trips() <= 2, "{}", run.round_trips());
    }
}

// The figures of the module docs. `cargo test -p tipx-protocol figures -- --nocapture`
// prints them.

/// 10,000 feeds both hold, at the same seqs, except `behind` of them one record behind
/// on B's side.
fn ten_thousand(behind: u64) -> (Items, Items) {
    let (a, mut b) = holdings(42, 10_000, 0, 0, 0);
    let step = 10_000 / behind.max(1) as usize;
    for k in 0..behind as usize {
        b[k * step].1 -= 1;
    }
    (a, b)
}

fn print(what: &str, run: &Run) {
    println!(
        "{what}: {} B from A, {} B from B, {} B in all, {} round trips",
        run.bytes.0,
        run.bytes.1,
        run.total(),
        run.round_trips()
    );
}

#[test]
fn figures_in_sync_10_000_feeds_cost_one_small_message_each_way() {
    let (a, b) = ten_thousand(0);
    let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
    print("10,000 feeds in sync", &run);
    assert_eq!(run.transcript.len(), 2);
    assert_eq!(run.bytes, (36, 1));
}

#[test]
fn figures_one_feed_behind_among_10_000_costs_under_2_kib() {
    let (a, b) = ten_thousand(1);
    let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
    print("10,000 feeds, one a record behind", &run);
    assert_exact(&run, &a, &b);
    assert_eq!(run.b_learned.len(), 1);
    assert!(run.total() < 2 * 1024, "{}", run.total());
    assert!(run.round_trips() <= 5);
}

#[test]
fn figures_1_000_feeds_behind_among_10_000_cost_under_100_kib() {
    let (a, b) = ten_thousand(1_000);
    let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
    print("10,000 feeds, 1,000 a record behind", &run);
    assert_exact(&run, &a, &b);
    assert_eq!(run.b_learned.len(), 1_000);
    assert!(run.total() < 100 * 1024, "{}", run.total());
}

#[test]
fn figures_100_differences_among_50_000_feeds_are_all_found() {
    // 80 feeds at different seqs (either side ahead), 10 held by A alone, 10 by B alone.
    let (mut a, mut b) = holdings(7, 50_000, 0, 10, 10);
    for k in 0..80 {
        let at = k * 600 + 17;
        if k % 2 == 0 {
            a[at].1 += 1;
        } else {
            b[at].1 += 2;
        }
    }
    let run = exchange(&a, &b, MAX_RECONCILE_BYTES);
    print("50,000 feeds, 100 differences", &run);
    assert_exact(&run, &a, &b);
    assert_eq!(run.a_learned.len() + run.b_learned.len(), 100);
    assert!(run.total() < 64 * 1024, "{}", run.total());
}

#[test]
fn figures_a_node_holding_nothing_learns_50_000_heads_in_bounded_messages() {
    let (b, _) = holdings(9, 50_000, 0, 0, 0);
    let run = exchange(&[], &b, MAX_RECONCILE_BYTES);
    print("50,000 feeds to a node holding none", &run);
    assert_exact(&run, &[], &b);
    assert!(run.round_trips() <= 3);
    // Little more than the items themselves: a feed id and a 2-byte seq each.
    assert!(run.total() < 50_000 * 35 + 1024, "{}", run.total());
}

#[test]
fn a_message_that_does_not_fit_the_exchange_is_an_error() {
    let items = [(feed(1, 1), 3), (feed(1, 2), 4)];
    let mut b = Reconciler::new(items);
    assert_eq!(b.reply(&Message::default()), Err(Error::NotOpened));
    let mut a = Reconciler::new([]);
    let opening = a.initiate(SALT);
    b.reply(&opening).expect("opening");
    assert_eq!(b.reply(&opening), Err(Error::OpenedTwice));
    let answer = |a: Answer| Message {
        salt: None,
        ranges: vec![Range {
            bound: Bound::End,
            mode: Mode::Answer(a),
        }],
    };
    let newer = Answer {
        newer: vec![(2, 9)],
        ..Answer::default()
    };
    assert_eq!(
        b.reply(&answer(newer)),
        Err(Error::NoSuchEntry { index: 2, len: 2 })
    );
    let cut = Bound::between(&items[0].0.min(items[1].0), &items[0].0.max(items[1].0));
    let outside = Message {
        salt: None,
        ranges: vec![Range {
            bound: cut,
            mode: Mode::Answer(Answer {
                items: vec![(items[0].0.max(items[1].0), 1)],
                ..Answer::default()
            }),
        }],
    };
    assert!(matches!(b.reply(&outside), Err(Error::OutOfRange(_))));
    let unordered = Message {
        salt: None,
        ranges: vec![
            Range {
                bound: Bound::End,
                mode: Mode::Skip,
            },
            Range {
                bound: cut,
                mode: Mode::Skip,
            },
        ],
    };
    assert_eq!(b.reply(&unordered), Err(Error::Unordered));
}

#[test]
fn items_are_one_per_feed_at_the_highest_seq() {
    let (f, g) = (feed(1, 1), feed(1, 2));
    let r = Reconciler::new([(g, 1), (f, 2), (f, 7), (f, 3)]);
    let mut want = vec![(f, 7), (g, 1)];
    want.sort();
    assert_eq!(r.items, want);
}
