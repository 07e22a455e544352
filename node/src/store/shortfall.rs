//! What the store lacks against its floor ([`super::floor`]): feeds it held further than it
//! holds now, or whose records at a seq it once held are not the same any more.

use std::{collections::BTreeSet, fmt};

use tipx_protocol::{FeedId, RecordId, StateCode, store::Store as _};

use super::{Error, Mark, SledStore, keys};

/// One feed the store holds less of than it once made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The feed.
    pub feed: FeedId,
    /// Its author's state.
    pub state: StateCode,
    /// The seq held now (0: nothing).
    pub held: u64,
    /// The seq once held, and when.
    pub floor: Mark,
    /// The record now at the floor's seq is another one than was held there.
    pub replaced: Option<RecordId>,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = crate::time::rfc3339(self.floor.at_ms);
        match self.replaced {
            Some(other) => write!(
                f,
                "feed {} of {}: seq {} is record {}, but the store held record {} there on {when}: \
                 this store comes from another history",
                self.feed.short(),
                self.state,
                self.floor.seq,
                other.short(),
                self.floor.id.short(),
            ),
            None => write!(
                f,
                "feed {} of {}: records {}..={} missing (the store held them on {when}, holds up \
                 to seq {} now)",
                self.feed.short(),
                self.state,
                self.held + 1,
                self.floor.seq,
                self.held,
            ),
        }
    }
}

impl SledStore {
    /// The feeds held less far than the floor says the store once held them (empty for a
    /// complete store). Takes one read per feed (two for a feed held beyond its mark).
    pub fn shortfall(&self) -> Result<Vec<Shortfall>, Error> {
        self.shortfall_among(None)
    }

    /// [`shortfall`](Self::shortfall), looking only at `feeds` when given (those found
    /// short before: a feed held as far as its mark stays so, as marks rise only with what
    /// the store holds).
    pub fn shortfall_among(
        &self,
        feeds: Option<&BTreeSet<FeedId>>,
    ) -> Result<Vec<Shortfall>, Error> {
        let marks: Vec<(FeedId, Mark)> = {
            let floor = self.floor.lock().unwrap_or_else(|p| p.into_inner());
            match feeds {
                None => floor.marks().iter().map(|(f, m)| (*f, *m)).collect(),
                Some(feeds) => feeds
                    .iter()
                    .filter_map(|f| floor.marks().get(f).map(|m| (*f, *m)))
                    .collect(),
            }
        };
        let mut out = Vec::new();
        for (feed, mark) in marks {
            let head = self.head(&feed)?;
            let held = head.as_ref().map_or(0, |h| h.seq);
            let at_mark = match head {
                Some(h) if h.seq == mark.seq => Some(h.id),
                Some(h) if h.seq > mark.seq => {
                    match self.tree.get(keys::position(&feed, mark.seq))? {
                        Some(v) => Some(super::load_header(&v)?.id),
                        None => continue,
                    }
                }
                _ => None,
            };
            let replaced = at_mark.filter(|id| *id != mark.id);
            if held < mark.seq || replaced.is_some() {
                out.push(Shortfall {
                    feed,
                    state: mark.state,
                    held,
                    floor: mark,
                    replaced,
                });
            }
        }
        Ok(out)
    }

    /// Why the floor itself cannot vouch for the store, if it cannot.
    pub fn floor_damaged(&self) -> Option<String> {
        let floor = self.floor.lock().unwrap_or_else(|p| p.into_inner());
        floor.damaged().map(String::from)
    }

    /// Accepts what the store holds now as complete (the operator's decision when no partner
    /// can give back what was lost): the floor is set to the heads held, at `now_ms`.
    pub fn accept_shortfall(&self, now_ms: u64) -> Result<(), Error> {
        let marks = self
            .feeds()?
            .into_iter()
            .map(|f| {
                let mark = Mark {
                    seq: f.head.seq,
                    id: f.head.id,
                    state: f.author_state,
                    at_ms: now_ms,
                };
                (f.feed, mark)
            })
            .collect();
        self.floor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .reset(marks)
            .map_err(super::files("rewriting the floor file"))
    }
}
