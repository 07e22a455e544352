//! A federation whose nodes cannot reach each other except through a fault-injecting
//! proxy: each node is a real `tipx run` in a network namespace of its own
//! ([`crate::netns`]), and every connection between two nodes passes the test's
//! [`Proxy`], where the test cuts, black-holes, delays or throttles links. Needs root.
//!
//! Each node listens inside its namespace and announces (as `network.external`, and in
//! the roster) only its proxy address; the coordinator is the members' bootstrap at its
//! proxy address. Identify still tells nodes each other's real addresses, but no namespace
//! has a route to another's, so those dials fail and all traffic crosses the proxy. The
//! admin API stays on 127.0.0.1 inside each namespace: [`Node::tipx`] runs the CLI there
//! (`ip netns exec`).

use std::{net::SocketAddr, path::Path};

use crate::{
    Node,
    federation::{DELIVERY_DEADLINE, Federation, eventually, write_config},
    netns::Namespaces,
    proxy::{Endpoint, Fault, Proxy},
};

/// A federation in namespaces behind a proxy; dropping it kills the nodes, stops the proxy
/// and deletes the namespaces, in that order (the field order).
pub struct Chaos {
    /// The nodes; `fed.oas` is labelled `OAS` in the proxy.
    pub fed: Federation,
    /// The proxy between every two nodes.
    pub proxy: Proxy,
    /// The nodes' namespaces.
    pub net: Namespaces,
}

impl Chaos {
    /// Starts OAS and `members` (state, partners) as [`Federation::start`] does, each in
    /// its namespace, every link passing. Returns once every node answers.
    #[track_caller]
    pub fn start(dir: &Path, oas_partners: &[&str], members: &[(&str, &[&str])]) -> Self {
        let mut labels = vec!["OAS"];
        labels.extend(members.iter().map(|(s, _)| *s));
        let net = Namespaces::new(&labels);
        let mut nodes: Vec<Node> = labels.iter().map(|s| Node::init(s, dir)).collect();
        let endpoints = nodes
            .iter()
            .zip(&net.all)
            .map(|(n, ns)| Endpoint {
                label: n.state.clone(),
                listen: SocketAddr::new(ns.proxy.into(), n.p2p_port),
                target: SocketAddr::new(ns.inner.into(), n.p2p_port),
                source: ns.inner.into(),
            })
            .collect::<Vec<_>>();
        let proxy = Proxy::start(endpoints.clone());
        let public: Vec<String> = endpoints
            .iter()
            .map(|e| format!("/ip4/{}/tcp/{}", e.listen.ip(), e.listen.port()))
            .collect();
        for (n, ns) in nodes.iter_mut().zip(&net.all) {
            n.enter(&ns.name);
        }
        let (oas, rest) = nodes.split_first_mut().expect("OAS is first");
        write_config(
            oas,
            &net.all[0].inner.to_string(),
            None,
            oas_partners,
            &[public[0].as_str()],
        );
        for (i, n) in rest.iter().enumerate() {
            write_config(
                n,
                &net.all[i + 1].inner.to_string(),
                Some((&*oas, public[0].as_str())),
                members[i].1,
                &[public[i + 1].as_str()],
            );
        }
        oas.start();
        for (i, n) in rest.iter().enumerate() {
            oas.roster_add_at(n, &public[i + 1]);
        }
        oas.tipx(["roster", "publish"]).ok();
        for n in rest.iter_mut() {
            n.start();
        }
        let oas = nodes.remove(0);
        Self {
            fed: Federation {
                oas,
                members: nodes,
            },
            proxy,
            net,
        }
    }

    /// The node of state `code` (`OAS` included).
    #[track_caller]
    pub fn node(&self, code: &str) -> &Node {
        if code == "OAS" {
            &self.fed.oas
        } else {
            self.fed.member(code)
        }
    }

    /// Cuts every link between a node of `left` and one of `right`.
    pub fn partition(&self, left: &[&str], right: &[&str]) {
        self.proxy.set_between(left, right, Fault::Cut);
    }

    /// Waits (within [`DELIVERY_DEADLINE`]) until `a` and `b` see each other connected;
    /// returns whether they did.
    pub fn connected(&self, a: &str, b: &str) -> bool {
        let (na, nb) = (self.node(a), self.node(b));
        eventually(DELIVERY_DEADLINE, || {
            na.connected_to(&nb.peer_id) && nb.connected_to(&na.peer_id)
        })
    }

    /// Waits (within [`DELIVERY_DEADLINE`]) until every node in `states` lists
    /// `partners` partners in `tipx status` (consents exchanged both ways); fails if not.
    #[track_caller]
    pub fn wait_partnered(&self, states: &[(&str, usize)]) {
        for (code, partners) in states {
            let n = self.node(code);
            let count = || {
                n.tipx(["status", "--json"]).json()["partners"]
                    .as_array()
                    .map_or(0, Vec::len)
            };
            assert!(
                eventually(DELIVERY_DEADLINE, || count() >= *partners),
                "{code} has {} partners, not {partners}; log:\n{}",
                count(),
                n.log()
            );
        }
    }
}
