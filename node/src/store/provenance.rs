//! Whether the store is provably this node's own history, whole.
//!
//! A store can look complete — its floor agrees with what it holds — and still be older than
//! what the partners hold of this state's own feeds: a backup put back, or this state's key
//! carried to a new machine whose store is new. Signing the next seq there would fork the
//! feed. Such a store carries a *doubt* in its meta until a sync round with every partner
//! has ended (`core::complete`), or the operator accepts it as it is.
//!
//! The store also names its *owner*, the key it was created with: `tipx init` writes it
//! with the new key (an empty store is complete for a new key), and every start compares
//! it with the node's key. A store with another owner, or an empty store with none, was
//! not made with this key: doubtful.

use std::fmt;

use tipx_protocol::{PublicKey, store::Store as _};

use super::{Error, SledStore, key, keys::Space};

/// The meta key holding a doubt (its one-byte value says which).
pub(super) const UNPROVEN_KEY: &[u8] = b"unproven";
/// The meta key holding the owner's public key.
const OWNER_KEY: &[u8] = b"owner";

/// Why a store may be older than its partners' copies of this state's own feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doubt {
    /// Restored from a backup.
    Restored,
    /// Created with another key than the node's.
    OtherKey,
    /// Empty, and not created by `tipx init` with this key.
    NewStore,
    /// Started afresh in place of a damaged store (`tipx store recover`).
    Recovered,
}

impl Doubt {
    fn byte(self) -> u8 {
        match self {
            Self::Restored => 1,
            Self::OtherKey => 2,
            Self::NewStore => 3,
            Self::Recovered => 4,
        }
    }

    fn from_byte(b: Option<&u8>) -> Self {
        match b {
            Some(2) => Self::OtherKey,
            Some(3) => Self::NewStore,
            Some(4) => Self::Recovered,
            _ => Self::Restored,
        }
    }

    /// The meta entry recording this doubt.
    pub(super) fn entry(self) -> (Vec<u8>, [u8; 1]) {
        (key(Space::Meta, &[UNPROVEN_KEY]), [self.byte()])
    }
}

impl fmt::Display for Doubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Restored => "this store was restored from a backup",
            Self::OtherKey => {
                "this store was created with another node key than the one in use (a key \
                 carried over from another machine)"
            }
            Self::NewStore => {
                "this store is new and was not created by `tipx init` with this node's key (a \
                 key carried over from another machine)"
            }
            Self::Recovered => "this store was started afresh in place of a damaged one",
        })
    }
}

impl SledStore {
    /// Why the store may be older than its partners' copies of this state's feeds, if it
    /// may.
    pub fn doubt(&self) -> Result<Option<Doubt>, Error> {
        Ok(self
            .tree
            .get(key(Space::Meta, &[UNPROVEN_KEY]))?
            .map(|v| Doubt::from_byte(v.first())))
    }

    /// Marks the store doubtful for `why`.
    pub fn set_doubt(&self, why: Doubt) -> Result<(), Error> {
        let (k, v) = why.entry();
        self.tree.insert(k, &v[..])?;
        self.db.flush()?;
        Ok(())
    }

    /// The store has caught up with its partners (or the operator accepted it as it is).
    pub fn set_proven(&self) -> Result<(), Error> {
        self.tree.remove(key(Space::Meta, &[UNPROVEN_KEY]))?;
        self.db.flush()?;
        Ok(())
    }

    /// Records `owner` as the key this store belongs to (`tipx init`, with a new key and an
    /// empty store).
    pub fn set_owner(&self, owner: &PublicKey) -> Result<(), Error> {
        self.tree
            .insert(key(Space::Meta, &[OWNER_KEY]), &owner.as_bytes()[..])?;
        self.db.flush()?;
        Ok(())
    }

    /// Compares the store's owner with the node's key at start. A store with another owner,
    /// or an empty one with none, is doubtful from now on (until proven); a store with
    /// records and no owner was written before owners were kept, and is taken as the
    /// node's own. Either way the node's key becomes the owner; a doubt already recorded
    /// stays as it is. Returns the store's doubt, if it has one.
    pub fn claim(&self, node: &PublicKey) -> Result<Option<Doubt>, Error> {
        let owner_key = key(Space::Meta, &[OWNER_KEY]);
        let found = match self.tree.get(&owner_key)? {
            Some(v) if v[..] == node.as_bytes()[..] => None,
            Some(_) => Some(Doubt::OtherKey),
            None if self.len()? == 0 => Some(Doubt::NewStore),
            None => None,
        };
        let mut batch = sled::Batch::default();
        let held = self.doubt()?;
        if let (Some(doubt), None) = (found, held) {
            let (k, v) = doubt.entry();
            batch.insert(k, &v[..]);
        }
        batch.insert(owner_key, &node.as_bytes()[..]);
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(held.or(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(seed: u8) -> PublicKey {
        tipx_protocol::Keypair::from_secret(&[seed; 32])
            .expect("key")
            .public()
    }

    #[test]
    fn a_store_created_with_the_key_is_not_doubted_and_another_key_is() {
        let store = SledStore::temporary().unwrap();
        store.set_owner(&key_of(1)).unwrap();
        assert_eq!(store.claim(&key_of(1)).unwrap(), None);
        assert_eq!(store.doubt().unwrap(), None);
        assert_eq!(store.claim(&key_of(2)).unwrap(), Some(Doubt::OtherKey));
        assert_eq!(store.doubt().unwrap(), Some(Doubt::OtherKey));
        // The doubt stays until proven, even though the key now owns the store.
        assert_eq!(store.claim(&key_of(2)).unwrap(), Some(Doubt::OtherKey));
        assert_eq!(store.doubt().unwrap(), Some(Doubt::OtherKey));
        store.set_proven().unwrap();
        assert_eq!(store.doubt().unwrap(), None);
    }

    #[test]
    fn an_empty_store_without_an_owner_is_doubted() {
        let store = SledStore::temporary().unwrap();
        assert_eq!(store.claim(&key_of(1)).unwrap(), Some(Doubt::NewStore));
        assert!(store.doubt().unwrap().is_some());
    }
}
