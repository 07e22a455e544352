//! Completeness: a node whose store holds less than it once made durable (a damaged file,
//! an old copy put back) must not publish, or it would sign seqs of its own feeds again
//! that its partners already hold with other content — a fork of its own making. The floor
//! kept beside the store (`store::floor`) says what it held; the records come back from
//! partners by ordinary anti-entropy, and publishing resumes by itself once this state's own
//! feeds are whole again. If no partner can give them back, the operator accepts the loss.

use std::sync::atomic::Ordering::Relaxed;

use super::{Error, Node, now_ms};
use crate::store::Shortfall;

/// Feeds named in a refusal to publish or a status warning; the rest are counted.
const NAMED: usize = 3;

impl Node {
    /// Every feed held less far than the store once held it.
    pub fn shortfall(&self) -> Result<Vec<Shortfall>, Error> {
        Ok(self.store.shortfall()?)
    }

    /// Refuses to publish while this state's own feeds are held less far than the store
    /// once held them. Cheap once they are whole (checked again only after a start).
    pub(crate) fn check_complete(&self) -> Result<(), Error> {
        if self.complete.load(Relaxed) {
            return Ok(());
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
        Err(Error::Incomplete(describe(&own)))
    }

    /// Accepts what the store holds as complete (`tipx store accept-loss`): the records
    /// still missing are given up, and publishing resumes. Returns how many feeds were
    /// short.
    pub fn accept_loss(&self) -> Result<usize, Error> {
        let short = self.shortfall()?.len();
        self.store.accept_shortfall(now_ms())?;
        self.complete.store(false, Relaxed);
        Ok(short)
    }

    /// The warning `status` gives while feeds are short, if any are.
    pub(crate) fn shortfall_warning(&self) -> Result<Option<String>, Error> {
        let short = self.shortfall()?;
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
