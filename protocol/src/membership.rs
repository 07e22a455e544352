//! Membership and consent: who may author records (the roster, signed by the anchor key),
//! and which states are partners (both latest consents are grants).

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    FeedId, PublicKey, StateCode,
    body::{ConsentAction, RevokedKey, Roster},
    record::{Audience, Channel, Header, Kind},
    validate::Rejection,
};

/// The latest consent of one state towards another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentState {
    /// Grant or revoke.
    pub action: ConsentAction,
    /// When it was created, ms.
    pub at_ms: u64,
}

impl ConsentState {
    /// Whether this consent replaces `old` as the latest: it is newer, or as old and a
    /// revocation (so that every node settles a tie the same way, whatever the order in
    /// which the two arrived, and a tie never opens an exchange).
    pub fn supersedes(&self, old: &ConsentState) -> bool {
        self.at_ms > old.at_ms || (self.at_ms == old.at_ms && self.action == ConsentAction::Revoke)
    }
}

/// Why a state named in an audience will not receive a record from this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Excluded {
    /// The roster in force has no node of that state.
    #[error("{0} is not a member in the roster")]
    NotMember(StateCode),
    /// This state never asked to exchange with it.
    #[error(
        "{state} is not a partner: you have not requested exchange (`tipx partners request {state}`)"
    )]
    NotRequested {
        /// The state left out.
        state: StateCode,
    },
    /// This state revoked its consent.
    #[error(
        "{state} is not a partner: you revoked exchange with it (`tipx partners request {state}` to ask again)"
    )]
    RevokedByUs {
        /// The state left out.
        state: StateCode,
    },
    /// The other state has not answered the request yet.
    #[error("{0} is not a partner yet: it has not agreed to exchange with you")]
    NotAnswered(StateCode),
    /// The other state revoked its consent.
    #[error("{0} is not a partner: it revoked exchange with you")]
    RevokedByThem(StateCode),
}

/// What a node knows of the federation: its own identity, the anchor it pins, the newest
/// roster and the latest consent of each state towards each other.
#[derive(Debug, Clone)]
pub struct Membership {
    own_key: PublicKey,
    own_state: StateCode,
    anchor: Option<PublicKey>,
    roster: Option<Roster>,
    /// The only keys a roster may list for this node's state (`federation.pinned_keys`);
    /// empty = no pinning.
    pinned_keys: Vec<PublicKey>,
    /// (from, to) → latest consent.
    consents: BTreeMap<(StateCode, StateCode), ConsentState>,
}

impl Membership {
    /// A node's view before it has a roster.
    pub fn new(own_key: PublicKey, own_state: StateCode, anchor: Option<PublicKey>) -> Self {
        Self {
            own_key,
            own_state,
            anchor,
            roster: None,
            pinned_keys: Vec::new(),
            consents: BTreeMap::new(),
        }
    }

    /// Pins the keys a roster may list for this node's state (empty = no pinning): a
    /// roster listing any other key for it is refused.
    pub fn with_pinned_keys(mut self, keys: Vec<PublicKey>) -> Self {
        self.pinned_keys = keys;
        self
    }

    /// The keys `roster` lists for this node's state.
    pub fn own_state_keys(&self, roster: &Roster) -> Vec<PublicKey> {
        roster
            .members
            .iter()
            .filter(|m| m.state == self.own_state)
            .flat_map(|m| m.nodes.iter().map(|n| n.key))
            .collect()
    }

    /// Whether `roster` lists for this node's state only pinned keys (always, unpinned).
    pub(crate) fn check_pins(&self, roster: &Roster) -> Result<(), Rejection> {
        if self.pinned_keys.is_empty() {
            return Ok(());
        }
        match self
            .own_state_keys(roster)
            .into_iter()
            .find(|k| !self.pinned_keys.contains(k))
        {
            Some(key) => Err(Rejection::UnpinnedKey {
                state: self.own_state,
                key,
            }),
            None => Ok(()),
        }
    }

    /// This node's state.
    pub fn own_state(&self) -> StateCode {
        self.own_state
    }

    /// The roster in force, if any.
    pub fn roster(&self) -> Option<&Roster> {
        self.roster.as_ref()
    }

    /// Whether `state` is a member in the roster in force (`false` before any roster).
    pub fn is_member(&self, state: StateCode) -> bool {
        self.roster
            .as_ref()
            .is_some_and(|r| r.members.iter().any(|m| m.state == state))
    }

    /// The key that signs the roster: the pinned anchor, or this node's own key when
    /// unpinned (the coordinator itself).
    pub fn anchor_key(&self) -> PublicKey {
        self.anchor.unwrap_or(self.own_key)
    }

    /// The feed the roster is published in: the anchor's feed for the federation.
    pub fn roster_feed(&self) -> FeedId {
        FeedId::of(&self.anchor_key(), &Audience::Federation, Channel::Main)
    }

    /// Takes `roster` if it is newer than the one held; returns whether it did.
    pub fn apply_roster(&mut self, roster: Roster) -> bool {
        if self
            .roster
            .as_ref()
            .is_some_and(|r| r.version >= roster.version)
        {
            return false;
        }
        self.roster = Some(roster);
        true
    }

    /// Records `from`'s consent towards `to` if it is newer than the one held.
    pub fn apply_consent(&mut self, from: StateCode, to: StateCode, c: ConsentState) -> bool {
        let slot = self.consents.get(&(from, to));
        if slot.is_some_and(|old| *old == c || !c.supersedes(old)) {
            return false;
        }
        self.consents.insert((from, to), c);
        true
    }

    /// The latest consent of `from` towards `to`.
    pub fn consent(&self, from: StateCode, to: StateCode) -> Option<ConsentState> {
        self.consents.get(&(from, to)).copied()
    }

    /// Two states are partners while both latest consents are grants.
    pub fn are_partners(&self, a: StateCode, b: StateCode) -> bool {
        let grant = |x, y| {
            self.consent(x, y)
                .is_some_and(|c| c.action == ConsentAction::Grant)
        };
        a != b && grant(a, b) && grant(b, a)
    }

    /// Why `state` is not a partner of this node's state, or `None` if it is (or is this
    /// node's own state): the reason an operator reads when an audience names it.
    pub fn excluded(&self, state: StateCode) -> Option<Excluded> {
        let me = self.own_state;
        if state == me || self.are_partners(me, state) {
            return None;
        }
        if self.roster.is_some() && !self.is_member(state) {
            return Some(Excluded::NotMember(state));
        }
        let action = |from, to| self.consent(from, to).map(|c| c.action);
        Some(match (action(me, state), action(state, me)) {
            (None, _) => Excluded::NotRequested { state },
            (Some(ConsentAction::Revoke), _) => Excluded::RevokedByUs { state },
            (Some(ConsentAction::Grant), Some(ConsentAction::Revoke)) => {
                Excluded::RevokedByThem(state)
            }
            (Some(ConsentAction::Grant), _) => Excluded::NotAnswered(state),
        })
    }

    /// This node's partners.
    pub fn partners(&self) -> BTreeSet<StateCode> {
        let me = self.own_state;
        self.consents
            .keys()
            .flat_map(|(a, b)| [*a, *b])
            .filter(|s| self.are_partners(me, *s))
            .collect()
    }

    /// The states that appear in any consent towards or from this node's state.
    pub fn consent_counterparts(&self) -> BTreeSet<StateCode> {
        let me = self.own_state;
        self.consents
            .keys()
            .filter_map(|(a, b)| {
                if *a == me {
                    Some(*b)
                } else if *b == me {
                    Some(*a)
                } else {
                    None
                }
            })
            .collect()
    }

    /// The federation feeds (consents, the roster) of every key this node knows: its own,
    /// the anchor's and the roster's members'.
    pub fn federation_feeds(&self) -> std::collections::BTreeSet<FeedId> {
        let mut keys = vec![self.own_key, self.anchor_key()];
        if let Some(r) = &self.roster {
            keys.extend(r.members.iter().flat_map(|m| m.nodes.iter().map(|n| n.key)));
        }
        keys.iter()
            .map(|k| FeedId::of(k, &Audience::Federation, Channel::Main))
            .collect()
    }

    /// The revocation of `key` in the roster in force, if it was revoked.
    pub fn revocation(&self, key: &PublicKey) -> Option<&RevokedKey> {
        self.roster.as_ref()?.revoked.iter().find(|k| k.key == *key)
    }

    /// The roster state of `key` (this node's own key counts as its own state).
    pub fn state_of(&self, key: &PublicKey) -> Option<StateCode> {
        if *key == self.own_key {
            return Some(self.own_state);
        }
        if self.anchor == Some(*key) {
            return Some(StateCode::coordinator());
        }
        let roster = self.roster.as_ref()?;
        roster
            .members
            .iter()
            .find(|m| m.nodes.iter().any(|n| n.key == *key))
            .map(|m| m.state)
    }

    /// Whether `h.author` may sign records as `h.author_state` at `h.created_at_ms`.
    pub(crate) fn check_author(&self, h: &Header) -> Result<(), Rejection> {
        if h.kind == Kind::Roster {
            let ok = match self.anchor {
                Some(anchor) => h.author == anchor,
                None => h.author == self.own_key,
            };
            return if ok && h.author_state.is_coordinator() {
                Ok(())
            } else {
                Err(Rejection::UnknownAuthor(h.author_state))
            };
        }
        if let Some(rk) = self.revocation(&h.author) {
            return Err(Rejection::RevokedAuthor {
                revoked_at_ms: rk.revoked_at_ms,
            });
        }
        match self.state_of(&h.author) {
            Some(s) if s == h.author_state => Ok(()),
            _ => Err(Rejection::UnknownAuthor(h.author_state)),
        }
    }

    /// Whether a peer with key `sender` may pass us this record: a roster member, and for
    /// exchanged records a partner that is in the audience or is the author.
    pub(crate) fn check_sender(
        &self,
        sender: PublicKey,
        h: &Header,
        local: StateCode,
    ) -> Result<(), Rejection> {
        let Some(state) = self.state_of(&sender) else {
            return Err(Rejection::SenderNotAllowed("not in the roster".into()));
        };
        if let Audience::States(_) = h.audience {
            if sender != h.author && !h.audience.contains(state) {
                return Err(Rejection::SenderNotAllowed(format!(
                    "{state} is not in the audience"
                )));
            }
            if state != local && !self.are_partners(state, local) {
                return Err(Rejection::SenderNotAllowed(format!(
                    "{state} is not a partner"
                )));
            }
        }
        Ok(())
    }
}
