//! Completeness: a node whose store holds less than it once made durable (a damaged file,
//! an old copy put back) must not publish, or it would sign seqs of its own feeds again
//! that its partners already hold with other content — a fork of its own making. The floor
//! kept beside the store (`store::floor`) says what it held; the records come back from
//! partners by ordinary anti-entropy, and publishing resumes by itself once this state's own
//! feeds are whole again. If no partner can give them back, the operator accepts the loss.
//!
//! A store restored from a backup brings its old floor with it, so it looks whole while its
//! partners may hold later records of its own feeds; so does a new store under a key
//! carried over from another machine (`store::provenance`). Such a store is *unproven*
//! until a sync round with every partner has ended (each round fetches what the partner
//! holds further).

use std::sync::atomic::Ordering::Relaxed;

use serde::{Deserialize, Serialize};
use tipx_protocol::StateCode;

use super::{Error, Node, now_ms};
use crate::store::{Doubt, Shortfall};

/// How far a store that lacks records, or is unproven, has come back (`tipx status`,
/// `tipx store recover` on a running node).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// Records the store lacked against its floor when the node started.
    pub missing_at_start: u64,
    /// Records it lacks now.
    pub missing: u64,
    /// Each feed still short, in words (what is missing, since when).
    pub feeds: Vec<String>,
    /// Why the store is unproven, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doubt: Option<String>,
    /// Partners a sync round has ended with since start.
    pub synced: Vec<StateCode>,
    /// Partners no sync round has ended with yet.
    pub waiting: Vec<StateCode>,
    /// Whether a sync round has ended with any peer since start: until then the node may not
    /// know the roster or its partners yet (a fresh store fetches them first), and an empty
    /// `waiting` means nothing.
    #[serde(default)]
    pub rounds_ended: bool,
}

impl Recovery {
    /// Every partner has given what it holds, and records are still missing: no partner
    /// can give them back (only this node held them, or their authors' partners are gone).
    /// Never before a first round has ended, when the partners may not be known yet.
    pub fn stalled(&self) -> bool {
        self.rounds_ended && self.waiting.is_empty() && self.missing > 0
    }
}

/// Records missing in `short` (a feed holding another record at the floor's seq counts
/// one).
pub(crate) fn missing(short: &[Shortfall]) -> u64 {
    short
        .iter()
        .map(|s| s.floor.seq.saturating_sub(s.held).max(1))
        .sum()
}

/// Feeds named in a refusal to publish or a status warning; the rest are counted.
const NAMED: usize = 3;

impl Node {
    /// Every feed held less far than the store once held it. Reads only the feeds found
    /// short at start that were not whole at the last look: nothing once all are.
    pub fn shortfall(&self) -> Result<Vec<Shortfall>, Error> {
        let mut feeds = self.short.lock().unwrap_or_else(|p| p.into_inner());
        if feeds.is_empty() {
            return Ok(vec![]);
        }
        let short = self.store.shortfall_among(Some(&feeds))?;
        *feeds = short.iter().map(|s| s.feed).collect();
        Ok(short)
    }

    /// Refuses to publish while this state's own feeds are held less far than the store
    /// once held them. Cheap once they are whole (checked again only after a start).
    pub(crate) fn check_complete(&self) -> Result<(), Error> {
        if self.complete.load(Relaxed) {
            return Ok(());
        }
        if let Some((doubt, waiting)) = self.remaining_doubt()? {
            let who = if waiting.is_empty() {
                "no partner is known yet".to_string()
            } else {
                let waiting: Vec<String> = waiting.iter().map(ToString::to_string).collect();
                format!("waiting for a sync round with {}", waiting.join(", "))
            };
            return Err(Error::Incomplete(format!(
                "{doubt}, and may lack records of this state's own feeds that partners \
                 hold; {who}"
            )));
        }
        let own: Vec<Shortfall> = self
            .shortfall()?
            .into_iter()
            .filter(|s| s.state == self.state)
            .collect();
        if own.is_empty() {
            self.complete.store(true, Relaxed);
            return Ok(());
        }
        Err(Error::Incomplete(format!(
            "the store lost records of this state's own feeds that it had made durable ({})",
            describe(&own)
        )))
    }

    /// The store's doubt, if one remains, with the partners still waited for (none: no
    /// partner is known). A doubtful store is proven, and its doubt dropped, once a sync
    /// round has ended with every partner.
    fn remaining_doubt(&self) -> Result<Option<(Doubt, Vec<StateCode>)>, Error> {
        let Some(doubt) = self.store.doubt()? else {
            return Ok(None);
        };
        let partners = self.membership().partners();
        let waiting: Vec<StateCode> = {
            let synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
            partners
                .iter()
                .filter(|p| !synced.contains(p))
                .copied()
                .collect()
        };
        if partners.is_empty() || !waiting.is_empty() {
            return Ok(Some((doubt, waiting)));
        }
        self.store.set_proven()?;
        Ok(None)
    }

    /// Accepts what the store holds as complete (`tipx store accept-loss`): the records
    /// still missing are given up, and publishing resumes. Returns how many feeds were
    /// short.
    pub fn accept_loss(&self) -> Result<usize, Error> {
        let short = self.shortfall()?.len();
        self.store.accept_shortfall(now_ms())?;
        self.short.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.store.set_proven()?;
        self.complete.store(false, Relaxed);
        Ok(short)
    }

    /// A sync round with `peer` ended with both sides in step: a restored store is proven
    /// once that has happened with every partner.
    pub fn note_synced(&self, peer: &tipx_protocol::PublicKey) {
        if let Some(state) = self.membership().state_of(peer) {
            let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
            synced.insert(state);
        }
    }

    /// Writes a consistent copy of the store to `out` (a new file), with `extra` files
    /// beside it (the configuration; the key if the operator asked).
    pub fn backup(
        &self,
        out: &std::path::Path,
        extra: &[(String, Vec<u8>)],
    ) -> Result<crate::store::BackupStats, Error> {
        Ok(self.store.backup(out, extra)?)
    }

    /// How far the store has come back, while it lacks records or is unproven (`None`
    /// once whole and proven).
    pub fn recovery(&self) -> Result<Option<Recovery>, Error> {
        let short = self.shortfall()?;
        let doubt = self.remaining_doubt()?.map(|(d, _)| d);
        if short.is_empty() && doubt.is_none() {
            return Ok(None);
        }
        let synced = self
            .synced
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let rounds_ended = !synced.is_empty();
        let (synced, waiting) = self
            .membership()
            .partners()
            .into_iter()
            .partition(|p| synced.contains(p));
        Ok(Some(Recovery {
            rounds_ended,
            missing_at_start: self.missing_at_start,
            missing: missing(&short),
            feeds: short.iter().map(ToString::to_string).collect(),
            doubt: doubt.map(|d| d.to_string()),
            synced,
            waiting,
        }))
    }

    /// The warning `status` gives while feeds are short, if any are.
    pub(crate) fn shortfall_warning(&self) -> Result<Option<String>, Error> {
        let short = self.shortfall()?;
        if short.is_empty()
            && let Some(doubt) = self.store.doubt()?
        {
            return Ok(Some(format!(
                "{doubt}: publishing waits until a sync round with every partner has given \
                 back what they hold further of this state's own feeds (`tipx store \
                 accept-loss` if no partner can answer)"
            )));
        }
        Ok((!short.is_empty()).then(|| {
            format!(
                "the store holds less than it once made durable — {}. Partners that hold these \
                 records send them back at each sync round; until this state's own feeds are \
                 whole, publishing is refused. `tipx store check` lists what is still missing; \
                 if no partner can give it back, `tipx store accept-loss` accepts the store as \
                 it is",
                describe(&short)
            )
        }))
    }
}

/// The short feeds in words: the first few named, the rest counted.
pub(crate) fn describe(short: &[Shortfall]) -> String {
    let mut text: Vec<String> = short.iter().take(NAMED).map(ToString::to_string).collect();
    if short.len() > NAMED {
        text.push(format!("and {} more feeds", short.len() - NAMED));
    }
    text.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_of(missing: u64, waiting: &[&str], rounds_ended: bool) -> Recovery {
        Recovery {
            missing_at_start: missing,
            missing,
            waiting: waiting.iter().map(|s| s.parse().expect("a code")).collect(),
            rounds_ended,
            ..Default::default()
        }
    }

    #[test]
    fn recovery_does_not_give_up_before_the_node_knows_its_partners() {
        // Just after `run --recover` the fresh store holds no roster and no consents: no
        // partner is known, so none is waited for — which says nothing yet.
        assert!(!short_of(203, &[], false).stalled());
        // Once a round has ended the partners are known: with none left to wait for, what
        // is still missing cannot come back.
        assert!(short_of(203, &[], true).stalled());
        assert!(!short_of(203, &["CO"], true).stalled());
        assert!(!short_of(0, &[], true).stalled());
    }
}
