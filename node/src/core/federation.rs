//! Membership operations of a node: consent (`partners request/revoke`, and
//! `exchange.partners` at start-up) and, on the coordinator, the roster draft and its
//! publication.

use serde::{Deserialize, Serialize};
use tipx_protocol::{
    Body, PublicKey, RecordId, StateCode,
    body::{Consent, ConsentAction, RevokedKey, Roster, RosterMember, RosterNode},
    store::Store as _,
};

use super::view::PublishRequest;
use super::{Error, Node, now_ms};

/// One row of `tipx partners list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerRow {
    /// The other state.
    pub state: StateCode,
    /// Our latest consent towards it.
    pub mine: Option<ConsentAction>,
    /// Its latest consent towards us.
    pub theirs: Option<ConsentAction>,
    /// Whether both are grants.
    pub active: bool,
    /// Whether `exchange.partners` names it while our latest consent towards it is a
    /// revoke: start-up does not grant it again, only `partners request` does.
    #[serde(default)]
    pub configured_but_revoked: bool,
}

/// What applying `exchange.partners` at start-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfiguredPartners {
    /// States granted now: this state had never consented about them.
    pub granted: Vec<StateCode>,
    /// States left alone because this state's latest consent towards them is an explicit
    /// revoke: a revoke wins over the configuration until `partners request`.
    pub revoked: Vec<StateCode>,
}

/// What `partners request` or `partners revoke` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentChange {
    /// The consent record published, or `None` when it would have changed nothing (this
    /// state's latest consent already said the same).
    pub published: Option<RecordId>,
    /// The consent state before.
    pub before: PartnerRow,
    /// The consent state after.
    pub after: PartnerRow,
}

impl Node {
    /// Publishes this state's consent towards `partner`, unless this state's latest consent
    /// already says the same (then nothing is published, and the change says so).
    pub fn consent(
        &self,
        partner: StateCode,
        action: ConsentAction,
    ) -> Result<ConsentChange, Error> {
        if partner == self.state {
            return Err(Error::Invalid(format!(
                "{partner} is this node's own state"
            )));
        }
        let before = self.partner_row(partner);
        let unchanged = match action {
            ConsentAction::Grant => before.mine == Some(ConsentAction::Grant),
            // Revoking what was never granted changes nothing either.
            ConsentAction::Revoke => before.mine != Some(ConsentAction::Grant),
        };
        let published = if unchanged {
            None
        } else {
            let req = PublishRequest {
                audience: vec![],
                tlp: None,
                handling: None,
                body: Body::Consent(Consent { partner, action }),
            };
            Some(self.publish(vec![req])?[0])
        };
        Ok(ConsentChange {
            published,
            before,
            after: self.partner_row(partner),
        })
    }

    fn partner_row(&self, s: StateCode) -> PartnerRow {
        let configured = self
            .configured_partners
            .read()
            .expect("not poisoned")
            .contains(&s);
        let m = self.membership.read().expect("not poisoned");
        let mine = m.consent(self.state, s).map(|c| c.action);
        PartnerRow {
            state: s,
            mine,
            theirs: m.consent(s, self.state).map(|c| c.action),
            active: m.are_partners(self.state, s),
            configured_but_revoked: configured && mine == Some(ConsentAction::Revoke),
        }
    }

    /// Applies `exchange.partners` at start-up: grants consent to every state in
    /// `partners` this state never consented about (no consent record of ours towards it
    /// yet). A state this state revoked stays revoked: an explicit revoke wins over the
    /// configuration until `partners request`.
    pub fn apply_configured_partners(
        &self,
        partners: &[StateCode],
    ) -> Result<ConfiguredPartners, Error> {
        *self.configured_partners.write().expect("not poisoned") = partners.to_vec();
        let mut done = ConfiguredPartners::default();
        for p in partners {
            let current = self
                .membership
                .read()
                .expect("not poisoned")
                .consent(self.state, *p)
                .map(|c| c.action);
            match current {
                None => {
                    self.consent(*p, ConsentAction::Grant)?;
                    done.granted.push(*p);
                }
                Some(ConsentAction::Revoke) => done.revoked.push(*p),
                Some(ConsentAction::Grant) => {}
            }
        }
        Ok(done)
    }

    /// Every state with a consent towards or from this one.
    pub fn partner_rows(&self) -> Vec<PartnerRow> {
        let states = self
            .membership
            .read()
            .expect("not poisoned")
            .consent_counterparts();
        states.into_iter().map(|s| self.partner_row(s)).collect()
    }

    /// The roster in force.
    pub fn roster(&self) -> Option<Roster> {
        self.membership
            .read()
            .expect("not poisoned")
            .roster()
            .cloned()
    }

    fn draft_key() -> &'static str {
        "roster-draft"
    }

    /// The coordinator's roster draft: the roster in force plus unpublished edits.
    pub fn roster_draft(&self) -> Result<Roster, Error> {
        self.require_coordinator()?;
        if let Some(d) = self.store.meta_get(Self::draft_key())? {
            return serde_json::from_slice(&d)
                .map_err(|e| Error::Invalid(format!("roster draft is unreadable: {e}")));
        }
        Ok(self.roster().unwrap_or_else(|| Roster {
            version: 0,
            members: vec![RosterMember {
                state: self.state,
                name: "Coordinator".into(),
                nodes: vec![RosterNode {
                    key: self.key.public(),
                    addrs: vec![],
                }],
            }],
            revoked: vec![],
        }))
    }

    fn save_draft(&self, d: &Roster) -> Result<(), Error> {
        self.store.meta_put(
            Self::draft_key(),
            &serde_json::to_vec(d).expect("plain data"),
        )?;
        self.store.flush()?;
        Ok(())
    }

    fn require_coordinator(&self) -> Result<(), Error> {
        if !self.state.is_coordinator() {
            return Err(Error::Invalid(format!(
                "only the coordinator's node (OAS) keeps the roster; this node is {}",
                self.state
            )));
        }
        Ok(())
    }

    /// Adds a node key for `state` to the draft.
    pub fn roster_add(
        &self,
        state: StateCode,
        name: String,
        key: PublicKey,
        addrs: Vec<String>,
    ) -> Result<Roster, Error> {
        let mut d = self.roster_draft()?;
        let holder = d
            .members
            .iter()
            .find(|m| m.nodes.iter().any(|n| n.key == key));
        if let Some(m) = holder
            && m.state != state
        {
            return Err(Error::Invalid(format!(
                "{key} is already a node of {}",
                m.state
            )));
        }
        d.revoked.retain(|r| r.key != key);
        match d.members.iter_mut().find(|m| m.state == state) {
            Some(m) => {
                if !name.is_empty() {
                    m.name = name;
                }
                match m.nodes.iter_mut().find(|n| n.key == key) {
                    Some(n) => n.addrs = addrs,
                    None => m.nodes.push(RosterNode { key, addrs }),
                }
            }
            None => d.members.push(RosterMember {
                state,
                name,
                nodes: vec![RosterNode { key, addrs }],
            }),
        }
        self.save_draft(&d)?;
        Ok(d)
    }

    /// Removes a node key from the draft; records it signs from now on will be refused.
    pub fn roster_remove(&self, key: PublicKey) -> Result<Roster, Error> {
        let mut d = self.roster_draft()?;
        let Some(m) = d
            .members
            .iter_mut()
            .find(|m| m.nodes.iter().any(|n| n.key == key))
        else {
            return Err(Error::Invalid(format!("{key} is not in the roster")));
        };
        if key == self.key.public() {
            return Err(Error::Invalid(
                "the coordinator cannot remove its own key".into(),
            ));
        }
        m.nodes.retain(|n| n.key != key);
        d.revoked.push(RevokedKey {
            key,
            state: m.state,
            revoked_at_ms: now_ms(),
        });
        d.members.retain(|m| !m.nodes.is_empty());
        self.save_draft(&d)?;
        Ok(d)
    }

    /// Signs the draft as the next roster version and publishes it.
    pub fn roster_publish(&self) -> Result<(RecordId, u64), Error> {
        let mut d = self.roster_draft()?;
        d.version = self.roster().map_or(0, |r| r.version) + 1;
        let req = PublishRequest {
            audience: vec![],
            tlp: None,
            handling: None,
            body: Body::Roster(d.clone()),
        };
        let id = self.publish(vec![req])?[0];
        self.store.meta_remove(Self::draft_key())?;
        self.store.flush()?;
        Ok((id, d.version))
    }
}
