//! Discovery through the coordinator's node, a rendezvous point: members register their
//! addresses there and ask it for the others', so a node that knows only the bootstrap
//! address and the anchor key finds every roster member, also those whose roster entry has
//! no address. Only roster members are ever dialled (the gate admits nobody else).

use std::time::Duration;

use libp2p::{Multiaddr, PeerId, Swarm, rendezvous};

use super::behaviour::{Behaviour, RENDEZVOUS_NAMESPACE};

/// How often a member asks the rendezvous point for new registrations (a cookie keeps each
/// answer to what changed).
pub(super) const DISCOVER_EVERY: Duration = Duration::from_secs(30);
/// How long a registration lasts; members renew it at half that.
const REGISTRATION_TTL_SECS: u64 = 2 * 60 * 60;

fn namespace() -> rendezvous::Namespace {
    rendezvous::Namespace::from_static(RENDEZVOUS_NAMESPACE)
}

/// Discovery state of a member.
#[derive(Default)]
pub(super) struct State {
    cookie: Option<rendezvous::Cookie>,
    registered_at: Option<std::time::Instant>,
}

impl State {
    /// Registers with (when due) and asks every connected rendezvous point in `points`
    /// (members only; the coordinator's node has no client).
    pub(super) fn discover(&mut self, swarm: &mut Swarm<Behaviour>, points: Vec<PeerId>) {
        let renew = self
            .registered_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(REGISTRATION_TTL_SECS / 2));
        let cookie = self.cookie.clone();
        let Some(client) = swarm.behaviour_mut().rendezvous.as_mut() else {
            return;
        };
        for point in points {
            if renew
                && let Err(e) = client.register(namespace(), point, Some(REGISTRATION_TTL_SECS))
            {
                tracing::debug!(error = %e, "cannot register for discovery yet");
            }
            client.discover(Some(namespace()), cookie.clone(), None, point);
        }
    }

    /// What the rendezvous client reported; returns the members' addresses it learnt.
    pub(super) fn on_event(
        &mut self,
        e: rendezvous::client::Event,
    ) -> Vec<(PeerId, Vec<Multiaddr>)> {
        match e {
            rendezvous::client::Event::Registered {
                rendezvous_node, ..
            } => {
                tracing::debug!(point = %rendezvous_node, "registered for discovery");
                self.registered_at = Some(std::time::Instant::now());
                vec![]
            }
            rendezvous::client::Event::RegisterFailed {
                rendezvous_node,
                error,
                ..
            } => {
                // A refused connection shows up here as `Unavailable`; the event loop tells
                // the operator why (see `EventLoop::on_disconnected`).
                let error = describe(error);
                tracing::debug!(point = %rendezvous_node, %error, "registration for discovery failed");
                vec![]
            }
            rendezvous::client::Event::Discovered {
                registrations,
                cookie,
                ..
            } => {
                self.cookie = Some(cookie);
                registrations
                    .into_iter()
                    .map(|r| (r.record.peer_id(), r.record.addresses().to_vec()))
                    .collect()
            }
            rendezvous::client::Event::DiscoverFailed {
                rendezvous_node,
                error,
                ..
            } => {
                let error = describe(error);
                tracing::debug!(point = %rendezvous_node, %error, "discovery failed");
                vec![]
            }
            rendezvous::client::Event::Expired { .. } => vec![],
        }
    }
}

/// A rendezvous error code in words.
fn describe(e: rendezvous::ErrorCode) -> &'static str {
    use rendezvous::ErrorCode as E;
    match e {
        E::InvalidNamespace => "invalid namespace",
        E::InvalidSignedPeerRecord => "invalid signed peer record",
        E::InvalidTtl => "invalid time to live",
        E::InvalidCookie => "invalid cookie",
        E::NotAuthorized => "not authorised",
        E::InternalError => "internal error at the rendezvous point",
        E::Unavailable => "the rendezvous point could not be reached",
    }
}
