//! Discovery through the coordinator's node, a rendezvous point: members register their
//! addresses there and ask it for the others', so a node that knows only the bootstrap
//! address and the anchor key finds every roster member, also those whose roster entry has
//! no address. Only roster members are ever dialled (the gate admits nobody else).

use std::time::Duration;

use libp2p::{PeerId, rendezvous};

use super::{behaviour::RENDEZVOUS_NAMESPACE, event_loop::EventLoop};

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

impl EventLoop {
    fn rendezvous_points(&self) -> Vec<PeerId> {
        self.bootstrap_peers()
            .into_iter()
            .filter(|p| self.swarm.is_connected(p))
            .collect()
    }

    /// Registers with and asks every connected rendezvous point (members only).
    pub(super) fn discover(&mut self) {
        if self.swarm.behaviour().rendezvous.as_ref().is_none() {
            return;
        }
        let points = self.rendezvous_points();
        let renew = self
            .discovery
            .registered_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(REGISTRATION_TTL_SECS / 2));
        let cookie = self.discovery.cookie.clone();
        let client = self
            .swarm
            .behaviour_mut()
            .rendezvous
            .as_mut()
            .expect("checked above");
        for point in points {
            if renew
                && let Err(e) = client.register(namespace(), point, Some(REGISTRATION_TTL_SECS))
            {
                tracing::debug!(error = %e, "cannot register for discovery yet");
            }
            client.discover(Some(namespace()), cookie.clone(), None, point);
        }
    }

    pub(super) fn on_rendezvous(&mut self, e: rendezvous::client::Event) {
        match e {
            rendezvous::client::Event::Registered {
                rendezvous_node, ..
            } => {
                tracing::debug!(point = %rendezvous_node, "registered for discovery");
                self.discovery.registered_at = Some(std::time::Instant::now());
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
            }
            rendezvous::client::Event::Discovered {
                registrations,
                cookie,
                ..
            } => {
                self.discovery.cookie = Some(cookie);
                for r in registrations {
                    self.learn_addresses(r.record.peer_id(), r.record.addresses().to_vec());
                }
            }
            rendezvous::client::Event::DiscoverFailed {
                rendezvous_node,
                error,
                ..
            } => {
                let error = describe(error);
                tracing::debug!(point = %rendezvous_node, %error, "discovery failed");
            }
            rendezvous::client::Event::Expired { .. } => {}
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
