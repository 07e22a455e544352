//! The encoding: examples, every refusal of the decoder, and for any message, any bytes
//! and any damaged message, a decoder that does not panic and takes only the one encoding
//! of a message; a reconciler takes any message that decodes without panicking.

use proptest::prelude::*;

use super::*;

#[test]
fn an_empty_message_is_one_byte_and_the_opening_carries_the_salt() {
    assert_eq!(Message::default().encode(), [0x10]);
    let opening = Reconciler::new([(feed(1, 1), 3)]).initiate(SALT);
    let bytes = opening.encode();
    assert_eq!(bytes[0], 0x11);
    assert_eq!(&bytes[1..17], &SALT);
    assert_eq!(bytes[17], 0x7f, "a fingerprint to the end");
    assert_eq!(bytes.len(), 1 + 16 + 1 + 16 + 1);
    // A node holding nothing opens with a list of nothing.
    let empty = Reconciler::new([]).initiate(SALT).encode();
    assert_eq!(empty[17..], [0xbf, 0x00]);
}

#[test]
fn bounds_are_the_shortest_prefix_that_separates_two_feeds() {
    let f = |bytes: &[u8]| {
        let mut b = [0; 32];
        b[..bytes.len()].copy_from_slice(bytes);
        FeedId(b)
    };
    let bound = Bound::between(&f(&[0x12, 0x34, 0xff]), &f(&[0x12, 0x40, 0x01]));
    assert_eq!(bound.bytes(), [0x12, 0x40]);
    assert!(!bound.is_above(&f(&[0x12, 0x40, 0x01])));
    assert!(bound.is_above(&f(&[0x12, 0x34, 0xff])));
    // A bound never ends in a zero byte: the first differing byte of the higher feed is
    // above the lower one's.
    let bound = Bound::between(&f(&[0x12, 0x00, 0x00, 0x05]), &f(&[0x12, 0x00, 0x01]));
    assert_eq!(bound.bytes(), [0x12, 0x00, 0x01]);
    let mut low = [9; 32];
    low[31] = 1;
    let mut high = [9; 32];
    high[31] = 2;
    assert_eq!(Bound::between(&FeedId(low), &FeedId(high)).bytes(), high);
}

#[test]
fn the_decoder_refuses_every_other_encoding() {
    use DecodeError::*;
    let cases: &[(&[u8], DecodeError)] = &[
        (&[], Truncated),
        (&[0x61], UnknownKind(0x61)),
        (&[0x11, 1, 2], Truncated),
        (&[0x10, 0x00], BadTag(0x00)),
        (&[0x10, 0x21], BadTag(0x21)),
        (&[0x10, 0x02, 0x12, 0x00], NotCanonical("bound")),
        (&[0x10, 0x01, 0x12, 0x01, 0x11], NotAscending("bounds")),
        (&[0x10, 0x01, 0x12, 0x01, 0x12], NotAscending("bounds")),
        (&[0x10, 0x3f, 0x01, 0x12], NotAscending("bounds")),
        (&[0x10, 0xbf, 0x80, 0x00], NotCanonical("length")),
        (&[0x10, 0xbf, 0xff, 0xff, 0x03], Truncated),
        (
            &[0x10, 0xff, 0x02, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00],
            NotAscending("indices"),
        ),
        (
            &[0x10, 0xff, 0x00, 0x02, 0x03, 0x02, 0x00],
            NotAscending("indices"),
        ),
        (
            &[
                0x10, 0xff, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01, 0x00, 0x00,
            ],
            NotCanonical("index"),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(Message::decode(bytes).as_ref(), Err(want), "{bytes:02x?}");
    }
    let mut seq = vec![0x10, 0x7f];
    seq.extend([0; 16]);
    seq.extend([0xff; 9]);
    seq.push(0x02);
    assert_eq!(Message::decode(&seq), Err(NotCanonical("count")));
    let big = vec![0x10; MAX_RECONCILE_BYTES + 1];
    assert_eq!(
        Message::decode(&big),
        Err(TooLarge {
            len: MAX_RECONCILE_BYTES + 1,
            max: MAX_RECONCILE_BYTES
        })
    );
}

fn bound() -> impl Strategy<Value = Bound> {
    (1usize..=32, any::<[u8; 32]>()).prop_filter_map("not the start", |(len, mut b)| {
        b[len..].fill(0);
        (b != [0; 32]).then_some(Bound::Below(b))
    })
}

fn mode() -> impl Strategy<Value = Mode> {
    let seq = prop_oneof![0u64..300, any::<u64>()];
    let index = prop_oneof![0u32..300, any::<u32>()];
    prop_oneof![
        Just(Mode::Skip),
        (any::<[u8; 16]>(), seq.clone())
            .prop_map(|(sum, count)| Mode::Fingerprint(Fingerprint { sum, count })),
        prop::collection::vec((any::<[u8; 8]>(), seq.clone()), 0..20).prop_map(Mode::Handles),
        (
            prop::collection::btree_map(index.clone(), seq.clone(), 0..10),
            prop::collection::btree_set(index, 0..10),
            prop::collection::btree_map(any::<[u8; 32]>(), seq, 0..5),
        )
            .prop_map(|(newer, wanted, items)| Mode::Answer(Answer {
                newer: newer.into_iter().collect(),
                wanted: wanted.into_iter().collect(),
                items: items.into_iter().map(|(f, s)| (FeedId(f), s)).collect(),
            })),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop::option::of(any::<[u8; 16]>()),
        prop::collection::vec((bound(), mode()), 0..12),
        any::<bool>(),
    )
        .prop_map(|(salt, ranges, to_end)| {
            let mut ranges: Vec<Range> = ranges
                .into_iter()
                .map(|(bound, mode)| Range { bound, mode })
                .collect();
            ranges.sort_by_key(|r| r.bound);
            ranges.dedup_by_key(|r| r.bound);
            if to_end && let Some(last) = ranges.last_mut() {
                last.bound = Bound::End;
            }
            Message { salt, ranges }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_message_decodes_to_itself(msg in message()) {
        let bytes = msg.encode();
        prop_assert_eq!(bytes.len(), msg.encoded_len());
        prop_assert_eq!(Message::decode(&bytes), Ok(msg));
    }

    #[test]
    fn any_bytes_decode_without_panic_and_only_in_their_one_encoding(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        if let Ok(msg) = Message::decode(&bytes) {
            prop_assert_eq!(msg.encode(), bytes);
        }
    }

    #[test]
    fn damaged_messages_decode_without_panic_and_only_in_their_one_encoding(
        msg in message(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = msg.encode();
        for (at, byte, how) in damage {
            if bytes.is_empty() {
                break;
            }
            let at = at.index(bytes.len());
            match how {
                0 => bytes[at] = byte,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, byte),
            }
        }
        if let Ok(msg) = Message::decode(&bytes) {
            prop_assert_eq!(msg.encode(), bytes);
        }
    }

    #[test]
    fn a_reconciler_takes_any_decodable_message_without_panic(
        msg in message(),
        seed in any::<u64>(),
        n in 0u64..300,
    ) {
        let (items, _) = holdings(seed, n, 0, 0, 0);
        let mut r = Reconciler::new(items.iter().copied()).with_max_bytes(4_096);
        r.initiate(SALT);
        let msg = Message { salt: None, ..msg };
        if let Ok(Step { next: Some(next), .. }) = r.reply(&msg) {
            prop_assert!(next.encoded_len() <= 4_096);
            prop_assert_eq!(Message::decode(&next.encode()), Ok(next));
        }
    }
}
