//! What the replicator keeps of the feeds the node holds, and records grouped by feed.

use std::collections::BTreeMap;

use crate::{FeedId, Record, feed::Head, store::FeedInfo};

/// The feeds the node holds: each one's author, audience and head.
#[derive(Debug, Default)]
pub(in crate::sync) struct Held(pub(super) BTreeMap<FeedId, FeedInfo>);

impl Held {
    /// The seq held of `feed` (0 if none).
    pub(super) fn seq(&self, feed: &FeedId) -> u64 {
        self.0.get(feed).map_or(0, |f| f.head.seq)
    }

    /// What is held of `feed`.
    pub(super) fn get(&self, feed: &FeedId) -> Option<&FeedInfo> {
        self.0.get(feed)
    }

    /// Every feed held.
    pub(super) fn all(&self) -> impl Iterator<Item = &FeedInfo> {
        self.0.values()
    }

    /// `r` is stored: its feed is held up to its seq at least.
    pub(super) fn note(&mut self, r: &Record) {
        let head = Head {
            seq: r.header.seq,
            id: r.id,
        };
        match self.0.get_mut(&r.header.feed) {
            Some(f) if f.head.seq < head.seq => f.head = head,
            Some(_) => {}
            None => {
                self.0.insert(
                    r.header.feed,
                    FeedInfo {
                        feed: r.header.feed,
                        author: r.header.author,
                        author_state: r.header.author_state,
                        audience: r.header.audience.clone(),
                        channel: r.header.channel,
                        head,
                    },
                );
            }
        }
    }
}

/// Records grouped by feed, each group in the given order.
pub(super) fn by_feed(records: &[Record]) -> BTreeMap<FeedId, Vec<&Record>> {
    let mut out: BTreeMap<FeedId, Vec<&Record>> = BTreeMap::new();
    for r in records {
        out.entry(r.header.feed).or_default().push(r);
    }
    out
}
