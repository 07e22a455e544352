//! Range-based set reconciliation of the heads two nodes share, at a cost that grows with
//! their difference rather than with the number of feeds (after Aljoscha Meyer,
//! "Range-Based Set Reconciliation", and negentropy). Sans-I/O: no clock, no store, no
//! randomness; [`Reconciler`] takes messages and returns the next one.
//!
//! # Items
//!
//! Each side reconciles the heads it shares with the other: one `(feed id, seq)` pair per
//! feed, as [`shared_heads`](crate::sync::shared_heads) gives them for that peer. An item
//! is the pair, so a feed held at two different seqs is a difference like a feed held by
//! one side only. Items are ordered by feed id, 32 random-looking bytes.
//!
//! # The exchange
//!
//! A message is a list of consecutive [`Range`]s of the key space (each ends at a
//! [`Bound`] and starts where the previous one ended), and says of each one of:
//!
//! * **skip** — nothing to say (in sync). Skipped stretches are merged, and those at the
//!   end are left out, so a message that says nothing is one byte.
//! * **fingerprint** — the sum of the items' salted hashes and their count.
//! * **handles** — every item of the sender in the range: an 8-byte salted hash of its
//!   feed id, and its seq; sent when the sender holds at most [`HANDLES_MAX`] there.
//! * **answer** — the reply to handles: the entries of the list whose feed the sender
//!   holds at a higher seq (by position, with its seq), the entries whose feed it lacks
//!   (`wanted`: the receiver sends those items back), and, in full (feed id and seq), its
//!   items whose feed is not in the list.
//!
//! The initiator opens with a fingerprint over everything (a list of nothing if it holds
//! nothing) and the salt. Then each side, through the same [`Reconciler::reply`], answers
//! every range of the message it received: a fingerprint equal to its own (sum and count)
//! is skipped; a different one is answered with its own items in full if the peer counted
//! none, with handles if it holds at most [`HANDLES_MAX`] there, and otherwise split into
//! up to [`FANOUT`] ranges of about equal numbers of its items, each with its fingerprint.
//! The bound between two sub-ranges is the shortest prefix of a feed id that separates two
//! neighbouring items (2 or 3 bytes among 10,000 feeds). Handles are answered, an answer's
//! `wanted` entries are sent, and the exchange ends when a side has nothing to say: the
//! side that must still answer a request answers an empty message.
//!
//! Both sides learn [`Step::they_have_newer`]: every feed whose item the peer holds at a
//! higher seq, or holds while this side does not, with the peer's seq. A side learns it
//! from handles (a listed feed it holds, at a higher seq), from an answer's `newer` entries
//! (which name a feed of its own list) and from an answer's items. A feed one side lacks is
//! therefore named by its id once, to that side, and a feed both hold by a handle.
//!
//! # Costs
//!
//! The initiator's first message is 36 bytes whatever the number of feeds, and the answer
//! when in sync is 1 byte: one message each way. A difference costs a path of splits down
//! to it (each divides a range by up to [`FANOUT`], about 350 bytes of fingerprints), then
//! a list of handles of about [`LEAF_ITEMS`] items and a short answer: each side splits a
//! range at most `⌈log16 n⌉ - 1` times, so an exchange takes at most `2·⌈log16 n⌉ + 4`
//! messages, `⌈log16 n⌉ + 2` round trips; in practice the two sides' splits interleave,
//! and it takes 3 round trips among 10,000 feeds, 4 among 50,000. Differences share the
//! upper levels; when they are dense (one feed in ten) most leaves differ, and the cost
//! nears a handle of every item, about 10 bytes a feed instead of the 80-odd of a head in a
//! `HeadList`. Measured (`reconcile/tests.rs`, the tests named `figures_*`):
//!
//! | Feeds | Differences | Bytes, both ways | Round trips |
//! |---|---|---|---|
//! | 10,000 | none | 37 | 1 |
//! | 10,000 | 1 feed one record behind | 882 | 3 |
//! | 10,000 | 1,000 feeds one record behind | 88,599 | 3 |
//! | 50,000 | 100 (80 seqs, 10 feeds on each side only) | 47,994 | 4 |
//! | 50,000 | all: the initiator holds nothing | 1,693,775 | 2 |
//!
//! No message exceeds [`MAX_RECONCILE_BYTES`]: a side that would say more stops at a range
//! and sends a fingerprint from there to the end, which the next message takes up; a long
//! list of items is cut between two items. Nothing is ever left out, however many feeds.
//!
//! # Collisions
//!
//! A fingerprint is the sum modulo 2^128 of the first 16 bytes of
//! `sha256("tipx/reconcile/v1/item" ‖ salt ‖ feed ‖ u64be(seq))` over the items, with their
//! count beside it; a handle is the first 8 bytes of
//! `sha256("tipx/reconcile/v1/handle" ‖ salt ‖ feed)`. The initiator draws the 16-byte salt
//! at random for each exchange. Two different sets of items in a range have equal sums with
//! probability 2^-128, and two different feeds in a handles list share a handle with
//! probability about (items in the range)² · 2^-65; nobody can arrange either in advance,
//! since the salt is new each time. Should it happen anyway, that range looks in sync (or
//! one feed is mistaken for another) for that exchange only: the next exchange has another
//! salt, and finds the difference.
//!
//! # What a side mentions
//!
//! A side's messages depend only on its own items and the messages it received: every
//! fingerprint, handle and item it sends is of its own items, every feed id in an answer's
//! items is one it holds (it never repeats an id it learned from the peer and does not
//! hold), and every bound is either cut from one of its own feed ids or copied from the
//! message it answers. Since the caller passes only the heads it shares with the peer
//! (§9 of PROTOCOL.md), a feed held but not shared and a feed not held look the same.

mod message;
mod out;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest as _, Sha256};

pub use message::{Answer, Bound, DecodeError, Fingerprint, Handle, Message, Mode, Range, Salt};

use crate::FeedId;
use out::Out;

/// Most bytes in one message: a node that holds nothing learns about 30,000 heads a
/// message (a feed id and a seq, 34 to 36 bytes each), and a message fits with room to
/// spare in the 4 MiB of the sync message that will carry it
/// ([`MAX_MESSAGE_BYTES`](crate::sync::MAX_MESSAGE_BYTES)).
pub const MAX_RECONCILE_BYTES: usize = 1024 * 1024;

/// Most ranges a range whose fingerprints differ is split into: a difference among 10,000
/// feeds is found in three splits, and the fingerprints of one split take about 350 bytes.
pub const FANOUT: usize = 16;

/// Most items a side lists as handles in a range whose fingerprints differ (about 10 bytes
/// each); it splits a range with more.
pub const HANDLES_MAX: usize = 16;

/// About how many items each range of the last split holds: a split gives
/// `min(FANOUT, ⌈items / LEAF_ITEMS⌉)` ranges (at least 2). Smaller leaves cost more
/// fingerprints (about 21 bytes each), larger ones longer lists when differences are
/// dense: for 1,000 differences among 10,000 feeds, 4, 12 and 16 cost 91 to 96 KB, 8 costs
/// 89 KB, and it costs as little as any when differences are few.
pub const LEAF_ITEMS: usize = 8;

/// Domain-separation prefix of an item's hash.
pub const ITEM_DOMAIN: &[u8] = b"tipx/reconcile/v1/item";

/// Domain-separation prefix of a feed's handle.
pub const HANDLE_DOMAIN: &[u8] = b"tipx/reconcile/v1/handle";

/// The handle of `feed` in an exchange salted with `salt`: the first 8 bytes of
/// `sha256(HANDLE_DOMAIN ‖ salt ‖ feed)`.
pub fn handle(salt: &Salt, feed: &FeedId) -> Handle {
    let h = Sha256::new()
        .chain_update(HANDLE_DOMAIN)
        .chain_update(salt)
        .chain_update(feed.0)
        .finalize();
    let mut handle = [0; 8];
    handle.copy_from_slice(&h[..8]);
    handle
}

/// One side of a reconciliation: its items, and the exchange's salt once known.
#[derive(Debug, Clone)]
pub struct Reconciler {
    /// `(feed, seq)`, sorted by feed, one per feed.
    items: Vec<(FeedId, u64)>,
    /// Set by [`Reconciler::initiate`] or by the opening message.
    salt: Option<Salt>,
    /// `sums[i]`: the sum of the hashes of `items[..i]`, so any range's sum is one
    /// subtraction.
    sums: Vec<u128>,
    /// What the peer holds newer, learned so far.
    learned: BTreeMap<FeedId, u64>,
    /// [`MAX_RECONCILE_BYTES`]; smaller in tests, to exercise the cuts.
    max_bytes: usize,
}

/// What [`Reconciler::reply`] makes of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// The message to send next; `None` when this side has nothing more to say. A side
    /// that must answer a request then answers `Message::default()`, and the exchange is
    /// over when the initiator's reply is `None`.
    pub next: Option<Message>,
    /// Feeds the peer holds at a higher seq than this side, or holds while this side does
    /// not, with the peer's seq: those this message taught (each feed once an exchange,
    /// unless it teaches a higher seq later).
    pub they_have_newer: Vec<(FeedId, u64)>,
}

/// A message this side cannot take: the peer does not follow the protocol (an offence,
/// like any malformed message). Nothing of the message was taken; the exchange is over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A later message before the opening one, on the responder's side.
    #[error("reconciliation message before the opening one")]
    NotOpened,
    /// An opening message in an exchange already open.
    #[error("second opening message in one reconciliation")]
    OpenedTwice,
    /// Bounds that do not ascend (only in a message not made by the decoder).
    #[error("reconciliation ranges out of order")]
    Unordered,
    /// An answer that names an entry of a list this side did not send.
    #[error("answer names entry {index} of a list of {len}")]
    NoSuchEntry {
        /// The position named.
        index: u32,
        /// Items this side holds in the range.
        len: usize,
    },
    /// An answer with an item outside its range.
    #[error("answer lists feed {0} outside its range")]
    OutOfRange(FeedId),
}

impl Reconciler {
    /// One side holding `items` (sorted here, and one per feed: of two items of one feed
    /// the higher seq is kept).
    pub fn new(items: impl IntoIterator<Item = (FeedId, u64)>) -> Self {
        let mut items: Vec<(FeedId, u64)> = items.into_iter().collect();
        // Highest seq first within a feed, so that `dedup_by_key` keeps it.
        items.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        items.dedup_by_key(|i| i.0);
        Self {
            items,
            salt: None,
            sums: Vec::new(),
            learned: BTreeMap::new(),
            max_bytes: MAX_RECONCILE_BYTES,
        }
    }

    /// How many items this side reconciles.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The seq of this side's item for `feed`, if it has one.
    pub fn seq_of(&self, feed: &FeedId) -> Option<u64> {
        self.items
            .binary_search_by(|(f, _)| f.cmp(feed))
            .ok()
            .map(|i| self.items[i].1)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The opening message, with `salt` (16 random bytes, new for each exchange); the
    /// peer's answer goes to [`Reconciler::reply`]. Calling it again starts over.
    pub fn initiate(&mut self, salt: Salt) -> Message {
        self.open(salt);
        let mode = if self.items.is_empty() {
            Mode::Handles(Vec::new())
        } else {
            Mode::Fingerprint(self.fingerprint(0, self.items.len()))
        };
        Message {
            salt: Some(salt),
            ranges: vec![Range {
                bound: Bound::End,
                mode,
            }],
        }
    }

    /// Everything the peer holds newer, learned so far in this exchange, by feed.
    pub fn they_have_newer(&self) -> impl Iterator<Item = (FeedId, u64)> + '_ {
        self.learned.iter().map(|(f, s)| (*f, *s))
    }

    /// Takes the peer's message (the responder starts here, with the opening message):
    /// what it teaches, and what to send next. On an error nothing of the message was
    /// taken.
    pub fn reply(&mut self, msg: &Message) -> Result<Step, Error> {
        let opening = match (self.salt, msg.salt) {
            (None, Some(salt)) => Some(salt),
            (Some(_), None) => None,
            (None, None) => return Err(Error::NotOpened),
            (Some(_), Some(_)) => return Err(Error::OpenedTwice),
        };
        let spans = self.spans(msg)?;
        if let Some(salt) = opening {
            self.open(salt);
        }
        let mut learned = Vec::new();
        let mut out = Out::new(self.max_bytes);
        for (span, range) in spans.into_iter().zip(&msg.ranges) {
            let said = match &range.mode {
                Mode::Skip => true,
                Mode::Fingerprint(theirs) => {
                    *theirs == self.fingerprint(span.i, span.j)
                        || self.differs(span, theirs, &mut out)
                }
                Mode::Handles(list) => self.on_handles(span, list, &mut learned, &mut out),
                Mode::Answer(answer) => self.on_answer(span, answer, &mut learned, &mut out),
            };
            if !said {
                out.stop(span.low, self.fingerprint(span.i, self.items.len()));
            }
            if out.is_finished() {
                break;
            }
        }
        Ok(Step {
            next: out.into_message(),
            they_have_newer: learned,
        })
    }

    /// Where each range of `msg` lies among this side's items, once the message is found to
    /// fit: bounds ascend, and an answer names only entries of this side's list in its
    /// range and feeds in its range.
    fn spans(&self, msg: &Message) -> Result<Vec<Span>, Error> {
        let mut spans: Vec<Span> = Vec::with_capacity(msg.ranges.len());
        let mut low = Bound::START;
        for range in &msg.ranges {
            let high = range.bound;
            if high <= low {
                return Err(Error::Unordered);
            }
            let span = Span {
                low,
                high,
                i: spans.last().map_or(0, |s| s.j),
                j: self.position(&high),
            };
            if let Mode::Answer(a) = &range.mode {
                let len = span.j - span.i;
                let mut indices = a.newer.iter().map(|(index, _)| index).chain(&a.wanted);
                if let Some(&index) = indices.find(|&&x| x as usize >= len) {
                    return Err(Error::NoSuchEntry { index, len });
                }
                if let Some((feed, _)) = a.items.iter().find(|(f, _)| !span.holds(f)) {
                    return Err(Error::OutOfRange(*feed));
                }
            }
            spans.push(span);
            low = high;
        }
        Ok(spans)
    }

    /// Sets the salt and sums every prefix of the items' hashes.
    fn open(&mut self, salt: Salt) {
        self.salt = Some(salt);
        self.learned.clear();
        self.sums = Vec::with_capacity(self.items.len() + 1);
        let mut sum = 0u128;
        self.sums.push(sum);
        for (feed, seq) in &self.items {
            let h = Sha256::new()
                .chain_update(ITEM_DOMAIN)
                .chain_update(salt)
                .chain_update(feed.0)
                .chain_update(seq.to_be_bytes())
                .finalize();
            let mut first = [0; 16];
            first.copy_from_slice(&h[..16]);
            sum = sum.wrapping_add(u128::from_be_bytes(first));
            self.sums.push(sum);
        }
    }

    fn handle(&self, feed: &FeedId) -> Handle {
        handle(&self.salt.unwrap_or_default(), feed)
    }

    /// The index of the first item not below `bound`.
    fn position(&self, bound: &Bound) -> usize {
        self.items.partition_point(|(f, _)| bound.is_above(f))
    }

    /// The fingerprint of `items[i..j]`.
    fn fingerprint(&self, i: usize, j: usize) -> Fingerprint {
        Fingerprint {
            sum: self.sums[j].wrapping_sub(self.sums[i]).to_be_bytes(),
            count: (j - i) as u64,
        }
    }

    /// The seq held of `feed`, if any.
    fn seq(&self, feed: &FeedId) -> Option<u64> {
        self.items
            .binary_search_by_key(feed, |(f, _)| *f)
            .ok()
            .map(|k| self.items[k].1)
    }

    /// Notes that the peer holds `feed` at `seq`: learned if that is newer than this side's.
    fn learn(&mut self, feed: FeedId, seq: u64, learned: &mut Vec<(FeedId, u64)>) {
        let newer = |held: Option<u64>| held.is_none_or(|h| h < seq);
        if newer(self.seq(&feed)) && newer(self.learned.get(&feed).copied()) {
            self.learned.insert(feed, seq);
            learned.push((feed, seq));
        }
    }

    /// The peer's fingerprint over `span` differs from this side's: this side's items in
    /// full if the peer has none there, its handles if it has few, else a split. False if
    /// that does not fit in the message.
    fn differs(&self, span: Span, theirs: &Fingerprint, out: &mut Out) -> bool {
        if theirs.count == 0 {
            self.send_items(span, out)
        } else if span.len() <= HANDLES_MAX {
            let list = self.items[span.i..span.j]
                .iter()
                .map(|(f, s)| (self.handle(f), *s))
                .collect();
            out.push(span.low, vec![span.with(Mode::Handles(list))])
        } else {
            self.split(span, out)
        }
    }

    /// Splits `span` (two items or more) into up to [`FANOUT`] ranges of about equal
    /// numbers of items, each with its fingerprint.
    fn split(&self, span: Span, out: &mut Out) -> bool {
        let (i, n) = (span.i, span.len());
        let parts = n.div_ceil(LEAF_ITEMS).clamp(2, FANOUT).min(n);
        let ranges = (0..parts)
            .map(|k| {
                let (a, b) = (i + n * k / parts, i + n * (k + 1) / parts);
                let bound = if k + 1 == parts {
                    span.high
                } else {
                    Bound::between(&self.items[b - 1].0, &self.items[b].0)
                };
                Range {
                    bound,
                    mode: Mode::Fingerprint(self.fingerprint(a, b)),
                }
            })
            .collect();
        out.push(span.low, ranges)
    }

    /// Sends this side's items in `span` in full, as far as the message has room; if it has
    /// not for all, the rest of the key space goes as a fingerprint. False if not even one
    /// item fits.
    fn send_items(&self, span: Span, out: &mut Out) -> bool {
        let answer = |items: &[(FeedId, u64)]| {
            Mode::Answer(Answer {
                items: items.to_vec(),
                ..Answer::default()
            })
        };
        let (i, j) = (span.i, span.j);
        if i == j || out.push(span.low, vec![span.with(answer(&self.items[i..j]))]) {
            return true;
        }
        // As many items as fit, counting the range's head at its largest: a skip before it,
        // a tag, a 32-byte bound, two empty lists and a 5-byte count.
        let mut room = out.room().saturating_sub((1 + 32) + 1 + 32 + 2 + 5);
        let mut k = 0;
        while i + k < j - 1 && Answer::item_len(self.items[i + k].1) <= room {
            room -= Answer::item_len(self.items[i + k].1);
            k += 1;
        }
        if k == 0 {
            return false;
        }
        let cut = Bound::between(&self.items[i + k - 1].0, &self.items[i + k].0);
        let range = Range {
            bound: cut,
            mode: answer(&self.items[i..i + k]),
        };
        let pushed = out.push(span.low, vec![range]);
        debug_assert!(pushed, "the room was counted");
        out.stop(cut, self.fingerprint(i + k, self.items.len()));
        true
    }

    /// The peer listed its items in `span` as handles: learns where it is newer, and
    /// answers where this side is. False if the answer does not fit in the message.
    fn on_handles(
        &mut self,
        span: Span,
        list: &[(Handle, u64)],
        learned: &mut Vec<(FeedId, u64)>,
        out: &mut Out,
    ) -> bool {
        if list.is_empty() {
            return self.send_items(span, out);
        }
        // Should two of this side's feeds share a handle, the first is taken for both.
        let mine: HashMap<Handle, usize> = (span.i..span.j)
            .rev()
            .map(|k| (self.handle(&self.items[k].0), k))
            .collect();
        let mut matched = vec![false; span.len()];
        let mut answer = Answer::default();
        for (index, (handle, theirs)) in (0u32..).zip(list) {
            match mine.get(handle) {
                Some(&k) => {
                    matched[k - span.i] = true;
                    let (feed, held) = self.items[k];
                    if held > *theirs {
                        answer.newer.push((index, held));
                    } else {
                        self.learn(feed, *theirs, learned);
                    }
                }
                None => answer.wanted.push(index),
            }
        }
        answer.items = (span.i..span.j)
            .filter(|k| !matched[k - span.i])
            .map(|k| self.items[k])
            .collect();
        if answer.is_empty() {
            return true;
        }
        // An answer too long even for a message of its own (many items the peer lacks)
        // becomes a split, whose smaller ranges the peer lists again.
        let first = out.is_empty();
        out.push(span.low, vec![span.with(Mode::Answer(answer))])
            || (first && span.len() >= 2 && self.split(span, out))
    }

    /// The peer answered this side's handles over `span` (or sent items this side lacks):
    /// learns, and sends the items the peer wants. False if they do not fit.
    fn on_answer(
        &mut self,
        span: Span,
        answer: &Answer,
        learned: &mut Vec<(FeedId, u64)>,
        out: &mut Out,
    ) -> bool {
        let entry = |index: &u32| self.items[span.i + *index as usize];
        let newer: Vec<(FeedId, u64)> = answer
            .newer
            .iter()
            .map(|(index, seq)| (entry(index).0, *seq))
            .collect();
        let wanted: Vec<(FeedId, u64)> = answer.wanted.iter().map(entry).collect();
        for (feed, seq) in newer.into_iter().chain(answer.items.iter().copied()) {
            self.learn(feed, seq, learned);
        }
        wanted.is_empty()
            || out.push(
                span.low,
                vec![span.with(Mode::Answer(Answer {
                    items: wanted,
                    ..Answer::default()
                }))],
            )
    }

    #[cfg(test)]
    fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }
}

/// A range of the message being answered, and where it lies among this side's items.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Where it starts (inclusive).
    low: Bound,
    /// Where it ends (exclusive).
    high: Bound,
    /// This side's items in it are `items[i..j]`.
    i: usize,
    j: usize,
}

impl Span {
    fn len(&self) -> usize {
        self.j - self.i
    }

    fn holds(&self, feed: &FeedId) -> bool {
        !self.low.is_above(feed) && self.high.is_above(feed)
    }

    /// A range over the same stretch, saying `mode`.
    fn with(&self, mode: Mode) -> Range {
        Range {
            bound: self.high,
            mode,
        }
    }
}
