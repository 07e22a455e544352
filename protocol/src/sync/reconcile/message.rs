//! The messages of [range-based reconciliation](super) and their bytes: a compact,
//! deterministic encoding (one message, one byte string) and a decoder that refuses
//! anything the encoder would not produce, without panicking and without allocating more
//! than a few times the input's size.
//!
//! # Wire format, version 1
//!
//! Numbers are unsigned LEB128 varints of minimal length (`count`, `seq`, `n`, `index`)
//! unless a width in bytes is given.
//!
//! ```text
//! message     = kind:1 [salt:16] range*
//!     kind      0x11: the opening message, the salt follows; 0x10: any later message
//! range       = tag:1 bound:len payload
//!     tag       mode << 6 | len
//!     mode      0 skip, 1 fingerprint, 2 handles, 3 answer
//!     len       1..=32: the bound is these `len` bytes padded with zeros to 32, the last
//!               byte not zero; 63: the bound is the end of the key space (no bytes)
//! payload     = (skip)        nothing
//!             | (fingerprint) sum:16 count
//!             | (handles)     n (handle:8 seq){n}
//!             | (answer)      n (index seq){n}  n index{n}  n (feed:32 seq){n}
//! ```
//!
//! A range holds the feed ids from the previous range's bound (the first range: from the
//! lowest id) up to, not including, its own bound. Bounds strictly ascend and the end bound
//! can only be the last; the key space after the last range is skipped. An answer's
//! indices (in its `newer` and its `wanted` lists) strictly ascend, and so do its feeds.
//! A message is at most [`MAX_RECONCILE_BYTES`] bytes.
//!
//! Examples: the answer "in sync" is `10`; the opening message over 10,000 feeds is 36
//! bytes: `11`, the salt, `7f` (fingerprint, end bound), the sum, `90 4e` (10,000).

use crate::{
    FeedId,
    varint::{VarintError, len as varint_len, put as put_varint},
};

use super::MAX_RECONCILE_BYTES;

/// A random value the initiator draws for each exchange and sends in the clear: every hash
/// of the exchange depends on it, so that no one can arrange a collision in advance.
pub type Salt = [u8; 16];

/// The first 8 bytes of a salted hash of a feed id: how a list names a feed the receiver
/// may already hold ([`Mode::Handles`]).
pub type Handle = [u8; 8];

const KIND_OPENING: u8 = 0x11;
const KIND_LATER: u8 = 0x10;
const LEN_END: u8 = 63;

/// One message of a reconciliation, either way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The exchange's salt: in the initiator's first message only.
    pub salt: Option<Salt>,
    /// Consecutive ranges from the lowest feed id; what follows the last one is skipped.
    /// None: the sender has nothing (more) to say.
    pub ranges: Vec<Range>,
}

/// A stretch of the key space and what the sender says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Where it ends (exclusive); it starts at the previous range's bound.
    pub bound: Bound,
    /// What the sender says of the items in it.
    pub mode: Mode,
}

/// The upper end of a range: the range holds the feed ids below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    /// Feed ids lexicographically below these 32 bytes. On the wire the trailing zero bytes
    /// are left out, so a bound chosen between two neighbouring feeds takes a few bytes.
    Below([u8; 32]),
    /// The end of the key space: every feed id is below it.
    End,
}

/// What a sender says of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing: in sync, or nothing to ask.
    Skip,
    /// "Here is my fingerprint; compare it with yours."
    Fingerprint(Fingerprint),
    /// "These are all my items in the range, by handle and seq, in feed order; answer."
    Handles(Vec<(Handle, u64)>),
    /// What the sender holds that the receiver lacks, in the receiver's terms.
    Answer(Answer),
}

/// The fingerprint of the items in a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// The sum modulo 2^128 of the items' hashes, big-endian.
    pub sum: [u8; 16],
    /// How many items.
    pub count: u64,
}

/// The answer to a [`Mode::Handles`] list over the same range, or the items a receiver
/// lacks (a list of nothing, a fingerprint of nothing, the `wanted` entries of an answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// Entries of the receiver's list (by position) whose feed the sender holds at a higher
    /// seq, with that seq.
    pub newer: Vec<(u32, u64)>,
    /// Entries of the receiver's list whose feed the sender does not hold: the receiver
    /// sends them back as `items`.
    pub wanted: Vec<u32>,
    /// The sender's items the receiver does not hold (feed id and seq), by feed.
    pub items: Vec<(FeedId, u64)>,
}

/// Why bytes are not a reconciliation message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Longer than [`MAX_RECONCILE_BYTES`].
    #[error("reconciliation message of {len} bytes, the limit is {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Empty, or it ends inside a range.
    #[error("reconciliation message cut short")]
    Truncated,
    /// The first byte is not a kind of version 1.
    #[error("reconciliation message of unknown kind {0:#04x}")]
    UnknownKind(u8),
    /// A range's tag gives a bound length that is neither 1 to 32 nor the end.
    #[error("range tag {0:#04x} gives no bound length")]
    BadTag(u8),
    /// A number or a bound not in its one shortest form, or a number out of range.
    #[error("{0} not in its shortest form or too large")]
    NotCanonical(&'static str),
    /// Bounds, indices or feeds out of order.
    #[error("{0} not in ascending order")]
    NotAscending(&'static str),
}

impl Bound {
    /// The lower end of the first range: no feed id is below it.
    pub const START: Bound = Bound::Below([0; 32]);

    /// Whether `feed` is below this bound.
    pub fn is_above(&self, feed: &FeedId) -> bool {
        match self {
            Bound::Below(b) => feed.0 < *b,
            Bound::End => true,
        }
    }

    /// The shortest bound above `low` and not above `high` (`low < high`): the bytes `high`
    /// shares with `low`, then `high`'s first byte that differs.
    pub fn between(low: &FeedId, high: &FeedId) -> Bound {
        debug_assert!(low < high);
        let shared = low
            .0
            .iter()
            .zip(&high.0)
            .take_while(|(a, b)| a == b)
            .count();
        let mut b = [0; 32];
        let len = (shared + 1).min(32);
        b[..len].copy_from_slice(&high.0[..len]);
        Bound::Below(b)
    }

    /// The bytes that go on the wire: none for the end.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Bound::Below(b) => {
                let len = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
                &b[..len]
            }
            Bound::End => &[],
        }
    }
}

impl Message {
    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        match self.salt {
            Some(salt) => {
                out.push(KIND_OPENING);
                out.extend_from_slice(&salt);
            }
            None => out.push(KIND_LATER),
        }
        for r in &self.ranges {
            r.encode_into(&mut out);
        }
        out
    }

    /// The length of [`Message::encode`].
    pub fn encoded_len(&self) -> usize {
        Self::header_len(self.salt.is_some())
            + self.ranges.iter().map(Range::encoded_len).sum::<usize>()
    }

    pub(super) fn header_len(opening: bool) -> usize {
        if opening { 17 } else { 1 }
    }

    /// Parses wire bytes, refusing more than [`MAX_RECONCILE_BYTES`] and anything but the
    /// one encoding of a message.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        if bytes.len() > MAX_RECONCILE_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_RECONCILE_BYTES,
            });
        }
        let mut r = Reader(bytes);
        let salt = match r.byte()? {
            KIND_OPENING => Some(r.array()?),
            KIND_LATER => None,
            k => return Err(DecodeError::UnknownKind(k)),
        };
        let mut ranges = Vec::new();
        let mut low = Bound::START;
        while !r.0.is_empty() {
            if low == Bound::End {
                return Err(DecodeError::NotAscending("bounds"));
            }
            let range = r.range()?;
            if range.bound <= low {
                return Err(DecodeError::NotAscending("bounds"));
            }
            low = range.bound;
            ranges.push(range);
        }
        Ok(Message { salt, ranges })
    }
}

impl Range {
    /// The bytes of this range, appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let bytes = self.bound.bytes();
        let len = match self.bound {
            Bound::End => LEN_END,
            Bound::Below(_) => bytes.len() as u8,
        };
        let mode = match self.mode {
            Mode::Skip => 0,
            Mode::Fingerprint(_) => 1,
            Mode::Handles(_) => 2,
            Mode::Answer(_) => 3,
        };
        out.push(mode << 6 | len);
        out.extend_from_slice(bytes);
        match &self.mode {
            Mode::Skip => {}
            Mode::Fingerprint(fp) => {
                out.extend_from_slice(&fp.sum);
                put_varint(out, fp.count);
            }
            Mode::Handles(list) => {
                put_varint(out, list.len() as u64);
                for (handle, seq) in list {
                    out.extend_from_slice(handle);
                    put_varint(out, *seq);
                }
            }
            Mode::Answer(a) => {
                put_varint(out, a.newer.len() as u64);
                for (index, seq) in &a.newer {
                    put_varint(out, u64::from(*index));
                    put_varint(out, *seq);
                }
                put_varint(out, a.wanted.len() as u64);
                for index in &a.wanted {
                    put_varint(out, u64::from(*index));
                }
                put_varint(out, a.items.len() as u64);
                for (feed, seq) in &a.items {
                    out.extend_from_slice(&feed.0);
                    put_varint(out, *seq);
                }
            }
        }
    }

    /// The length of [`Range::encode_into`]'s bytes.
    pub fn encoded_len(&self) -> usize {
        1 + self.bound.bytes().len()
            + match &self.mode {
                Mode::Skip => 0,
                Mode::Fingerprint(fp) => 16 + varint_len(fp.count),
                Mode::Handles(list) => {
                    varint_len(list.len() as u64)
                        + list.iter().map(|(_, s)| 8 + varint_len(*s)).sum::<usize>()
                }
                Mode::Answer(a) => a.encoded_len(),
            }
    }
}

impl Answer {
    /// Whether it says nothing.
    pub fn is_empty(&self) -> bool {
        self.newer.is_empty() && self.wanted.is_empty() && self.items.is_empty()
    }

    fn encoded_len(&self) -> usize {
        let index = |i: &u32| varint_len(u64::from(*i));
        varint_len(self.newer.len() as u64)
            + self
                .newer
                .iter()
                .map(|(i, s)| index(i) + varint_len(*s))
                .sum::<usize>()
            + varint_len(self.wanted.len() as u64)
            + self.wanted.iter().map(index).sum::<usize>()
            + varint_len(self.items.len() as u64)
            + self
                .items
                .iter()
                .map(|(_, s)| Self::item_len(*s))
                .sum::<usize>()
    }

    /// The bytes one item takes in `items`.
    pub(super) fn item_len(seq: u64) -> usize {
        32 + varint_len(seq)
    }
}

/// The bytes not read yet.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        crate::varint::read(&mut self.0).map_err(|e| match e {
            VarintError::Truncated => DecodeError::Truncated,
            VarintError::NotCanonical => DecodeError::NotCanonical(what),
        })
    }

    fn index(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.varint("index")?).map_err(|_| DecodeError::NotCanonical("index"))
    }

    /// A list's length: each entry takes at least `min_entry` bytes, so a length the rest of
    /// the message cannot hold is refused before anything is allocated.
    fn len(&mut self, min_entry: usize) -> Result<usize, DecodeError> {
        let n = self.varint("length")?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_entry) <= self.0.len() => Ok(n),
            _ => Err(DecodeError::Truncated),
        }
    }

    fn range(&mut self) -> Result<Range, DecodeError> {
        let tag = self.byte()?;
        let len = tag & 0x3f;
        let bound = match len {
            LEN_END => Bound::End,
            1..=32 => {
                let bytes = self.take(usize::from(len))?;
                if bytes.last() == Some(&0) {
                    return Err(DecodeError::NotCanonical("bound"));
                }
                let mut b = [0; 32];
                b[..bytes.len()].copy_from_slice(bytes);
                Bound::Below(b)
            }
            _ => return Err(DecodeError::BadTag(tag)),
        };
        let mode = match tag >> 6 {
            0 => Mode::Skip,
            1 => Mode::Fingerprint(Fingerprint {
                sum: self.array()?,
                count: self.varint("count")?,
            }),
            2 => {
                let n = self.len(9)?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push((self.array()?, self.varint("seq")?));
                }
                Mode::Handles(list)
            }
            _ => Mode::Answer(self.answer()?),
        };
        Ok(Range { bound, mode })
    }

    fn answer(&mut self) -> Result<Answer, DecodeError> {
        let mut a = Answer::default();
        let n = self.len(2)?;
        a.newer.reserve_exact(n);
        for _ in 0..n {
            let entry = (self.index()?, self.varint("seq")?);
            if a.newer.last().is_some_and(|(last, _)| *last >= entry.0) {
                return Err(DecodeError::NotAscending("indices"));
            }
            a.newer.push(entry);
        }
        let n = self.len(1)?;
        a.wanted.reserve_exact(n);
        for _ in 0..n {
            let index = self.index()?;
            if a.wanted.last().is_some_and(|last| *last >= index) {
                return Err(DecodeError::NotAscending("indices"));
            }
            a.wanted.push(index);
        }
        let n = self.len(33)?;
        a.items.reserve_exact(n);
        for _ in 0..n {
            let item = (FeedId(self.array()?), self.varint("seq")?);
            if a.items.last().is_some_and(|(last, _)| *last >= item.0) {
                return Err(DecodeError::NotAscending("feeds"));
            }
            a.items.push(item);
        }
        Ok(a)
    }
}
