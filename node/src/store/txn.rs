//! The protocol's insert algorithm (`tipx_protocol::store::apply`) carried out inside one
//! sled transaction over every tree.

use sled::transaction::{ConflictableTransactionError as Abortable, TransactionalTree};
use tipx_protocol::{
    FeedId, RecordId, StateCode,
    feed::{ForkEvidence, Head},
    membership::ConsentState,
    record::Record,
    store::{AuditEntry, FeedInfo, apply::Txn},
};

use super::{Error, T, keys, load_record};

/// The open transaction: one `TransactionalTree` per tree, in the order of [`T`].
pub(super) struct SledTxn<'a> {
    pub(super) trees: &'a [TransactionalTree],
}

type R<X> = Result<X, Abortable<Error>>;

fn abort(e: impl Into<Error>) -> Abortable<Error> {
    Abortable::Abort(e.into())
}

fn json<V: serde::Serialize>(v: &V) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain data serializes")
}

impl SledTxn<'_> {
    fn t(&self, t: T) -> &TransactionalTree {
        &self.trees[t as usize]
    }
}

impl Txn for SledTxn<'_> {
    type Error = Abortable<Error>;

    fn head(&mut self, feed: &FeedId) -> R<Option<Head>> {
        match self.t(T::Feeds).get(feed.0)? {
            None => Ok(None),
            Some(v) => {
                let info: FeedInfo = serde_json::from_slice(&v)
                    .map_err(|e| abort(Error::Corrupt(format!("feed info: {e}"))))?;
                Ok(Some(info.head))
            }
        }
    }

    fn id_at(&mut self, feed: &FeedId, seq: u64) -> R<Option<RecordId>> {
        match self.t(T::Positions).get(keys::position(feed, seq))? {
            None => Ok(None),
            Some(v) => keys::id_from(&v).map(Some).map_err(abort),
        }
    }

    fn get(&mut self, id: &RecordId) -> R<Option<Record>> {
        let Some(v) = self.t(T::Records).get(id.0)? else {
            return Ok(None);
        };
        let body = self.t(T::Bodies).get(id.0)?;
        load_record(&v, body.as_deref()).map(Some).map_err(abort)
    }

    fn put(&mut self, r: &Record, feed: &FeedInfo) -> R<()> {
        let id = r.id;
        self.t(T::Records)
            .insert(&id.0[..], keys::record_value(&r.header_bytes, &r.signature))?;
        if let Some(body) = &r.body {
            self.t(T::Bodies).insert(&id.0[..], body.as_slice())?;
        }
        self.t(T::Positions)
            .insert(&keys::position(&r.header.feed, r.header.seq)[..], &id.0[..])?;
        let (time, kind, state) = keys::index_keys(&id, &r.header);
        self.t(T::ByTime).insert(&time[..], &[][..])?;
        self.t(T::ByKind).insert(&kind[..], &[][..])?;
        self.t(T::ByState).insert(&state[..], &[][..])?;
        self.t(T::Feeds).insert(&feed.feed.0[..], json(feed))?;
        Ok(())
    }

    fn put_fork(&mut self, e: &ForkEvidence) -> R<()> {
        let t = self.t(T::Forks);
        let key = t.generate_id()?.to_be_bytes();
        t.insert(&key[..], json(e))?;
        Ok(())
    }

    fn retract(&mut self, target: &RecordId, by: &RecordId, erase: bool) -> R<()> {
        self.t(T::Retracted).insert(&target.0[..], &by.0[..])?;
        if erase {
            self.t(T::Bodies).remove(&target.0[..])?;
        }
        Ok(())
    }

    fn consent(&mut self, from: StateCode, to: StateCode) -> R<Option<ConsentState>> {
        match self.t(T::Consents).get(keys::consent_key(from, to))? {
            None => Ok(None),
            Some(v) => keys::consent_value_decode(&v).map(Some).map_err(abort),
        }
    }

    fn set_consent(&mut self, from: StateCode, to: StateCode, c: ConsentState) -> R<()> {
        self.t(T::Consents).insert(
            &keys::consent_key(from, to)[..],
            &keys::consent_value(c)[..],
        )?;
        Ok(())
    }

    fn roster_version(&mut self) -> R<u64> {
        Ok(match self.t(T::Meta).get(super::ROSTER_KEY)? {
            Some(v) if v.len() == 40 => u64::from_be_bytes(v[32..].try_into().expect("8 bytes")),
            _ => 0,
        })
    }

    fn set_roster(&mut self, id: &RecordId, version: u64) -> R<()> {
        let mut v = id.0.to_vec();
        v.extend_from_slice(&version.to_be_bytes());
        self.t(T::Meta).insert(super::ROSTER_KEY, v)?;
        Ok(())
    }

    fn audit(&mut self, entry: &AuditEntry) -> R<()> {
        let t = self.t(T::Audit);
        let key = t.generate_id()?.to_be_bytes();
        t.insert(&key[..], json(entry))?;
        Ok(())
    }
}
