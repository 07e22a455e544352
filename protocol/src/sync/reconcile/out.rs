//! The message a side is writing: its ranges and their encoded size, kept under the limit
//! with room to spare for the range that stops it.

use super::{Bound, Fingerprint, Message, Mode, Range};

/// Room kept in every message for the ranges [`Out::stop`] adds: a skip to a bound of 32
/// bytes, then a fingerprint to the end with a count of up to 10 bytes.
const STOP_RESERVE: usize = (1 + 32) + (1 + 16 + 10);

/// A message being written.
pub(super) struct Out {
    ranges: Vec<Range>,
    /// Its encoded size so far.
    len: usize,
    /// Where the last range ends.
    last: Bound,
    /// Most bytes it may take.
    max: usize,
}

impl Out {
    /// An empty message that may take `max` bytes.
    pub(super) fn new(max: usize) -> Self {
        Self {
            ranges: Vec::new(),
            len: Message::header_len(false),
            last: Bound::START,
            max,
        }
    }

    /// Whether it says nothing yet.
    pub(super) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether it reaches the end of the key space: nothing can follow.
    pub(super) fn is_finished(&self) -> bool {
        self.last == Bound::End
    }

    /// Bytes left for ranges, keeping room for [`Out::stop`].
    pub(super) fn room(&self) -> usize {
        self.max.saturating_sub(self.len + STOP_RESERVE)
    }

    /// Appends `ranges`, which start at `low` (after a skip to `low` if the message ends
    /// before it). False, appending nothing, if they do not fit.
    pub(super) fn push(&mut self, low: Bound, ranges: Vec<Range>) -> bool {
        let gap = (self.last != low).then_some(Range {
            bound: low,
            mode: Mode::Skip,
        });
        let need: usize = gap.iter().chain(&ranges).map(Range::encoded_len).sum();
        if need > self.room() {
            return false;
        }
        self.len += need;
        self.ranges.extend(gap);
        if let Some(r) = ranges.last() {
            self.last = r.bound;
        }
        self.ranges.extend(ranges);
        true
    }

    /// Ends the message with `fingerprint`, from `low` to the end of the key space: the
    /// peer takes it up in its next message. It always fits.
    pub(super) fn stop(&mut self, low: Bound, fingerprint: Fingerprint) {
        if self.last != low {
            self.ranges.push(Range {
                bound: low,
                mode: Mode::Skip,
            });
        }
        self.ranges.push(Range {
            bound: Bound::End,
            mode: Mode::Fingerprint(fingerprint),
        });
        self.last = Bound::End;
    }

    /// The message, or `None` if it says nothing.
    pub(super) fn into_message(self) -> Option<Message> {
        (!self.ranges.is_empty()).then_some(Message {
            salt: None,
            ranges: self.ranges,
        })
    }
}
