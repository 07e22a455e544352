//! A federation of real nodes on 127.0.0.1 for multi-node tests: the coordinator (OAS) and
//! member states, each a `tipx run` process with its own key, store and ports. OAS signs a
//! roster with every member; each member pins OAS's key and bootstraps from it; consent is
//! set per state through `exchange.partners`.

use std::{
    path::Path,
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::Node;

/// Seconds between anti-entropy rounds in test federations: short, so catch-up tests are
/// quick, long enough not to swamp a debug build.
pub const SYNC_INTERVAL_SECS: u64 = 2;
/// How long a test waits for records to arrive where they should.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);

/// Writes `node`'s configuration: listen on 127.0.0.1, pin `anchor` and bootstrap from it
/// (members), grant `partners`.
pub fn configure(node: &Node, anchor: Option<&Node>, partners: &[&str]) {
    configure_external(node, anchor, partners, &[]);
}

/// Like [`configure`], announcing `external` addresses (instead of the listen address) to
/// the rendezvous point.
pub fn configure_external(
    node: &Node,
    anchor: Option<&Node>,
    partners: &[&str],
    external: &[&str],
) {
    let bootstrap = anchor.map(|a| (a, format!("/ip4/127.0.0.1/tcp/{}", a.p2p_port)));
    write_config(
        node,
        "127.0.0.1",
        bootstrap.as_ref().map(|(a, addr)| (*a, addr.as_str())),
        partners,
        external,
    );
}

/// Writes `node`'s configuration: listen for peers on `host` (its p2p port, TCP only), pin
/// the anchor's key and bootstrap from it at `anchor.1` (a multiaddr without `/p2p/…`),
/// announce `external` (if any, instead of the listen address), grant `partners`.
pub fn write_config(
    node: &Node,
    host: &str,
    anchor: Option<(&Node, &str)>,
    partners: &[&str],
    external: &[&str],
) {
    let mut text = format!(
        "[node]\nstate = \"{}\"\n\n[network]\nlisten = [\"/ip4/{host}/tcp/{}\"]\n",
        node.state, node.p2p_port
    );
    if let Some((a, addr)) = anchor {
        text += &format!("bootstrap = [\"{addr}/p2p/{}\"]\n", a.peer_id);
    }
    if !external.is_empty() {
        let list: Vec<String> = external.iter().map(|e| format!("\"{e}\"")).collect();
        text += &format!("external = [{}]\n", list.join(", "));
    }
    text += &format!(
        "redial_max_backoff_secs = 2\n\n[api]\nlisten = \"127.0.0.1:{}\"\n\n",
        node.api_port
    );
    if let Some((a, _)) = anchor {
        text += &format!("[federation]\nanchor = \"{}\"\n\n", a.peer_id);
    }
    let partners: Vec<String> = partners.iter().map(|p| format!("\"{p}\"")).collect();
    text += &format!(
        "[exchange]\npartners = [{}]\nsync_interval_secs = {SYNC_INTERVAL_SECS}\n\n[log]\nlevel = \"info,tipx_node=debug\"\n",
        partners.join(", ")
    );
    std::fs::write(node.config_path(), text).expect("writing the configuration");
}

/// MX, CO and PE, each a partner of the other two.
pub const TRIO: &[(&str, &[&str])] = &[
    ("MX", &["CO", "PE"]),
    ("CO", &["MX", "PE"]),
    ("PE", &["MX", "CO"]),
];

/// A running federation.
pub struct Federation {
    /// The coordinator's node.
    pub oas: Node,
    /// The members, in the order given.
    pub members: Vec<Node>,
}

impl Federation {
    /// Starts OAS and `members` (state, partners), with a roster holding all of them.
    /// `OAS` may appear as a partner. Returns once every node answers.
    #[track_caller]
    pub fn start(dir: &Path, oas_partners: &[&str], members: &[(&str, &[&str])]) -> Self {
        Self::start_unlisted(dir, oas_partners, members, &[], false)
    }

    /// Like [`Federation::start`], but the roster gives no address for the states in
    /// `unlisted`; if `unreachable`, they also announce an address where nothing listens,
    /// so they dial others and no one can dial them.
    #[track_caller]
    pub fn start_unlisted(
        dir: &Path,
        oas_partners: &[&str],
        members: &[(&str, &[&str])],
        unlisted: &[&str],
        unreachable: bool,
    ) -> Self {
        let mut oas = Node::init("OAS", dir);
        configure(&oas, None, oas_partners);
        let mut nodes: Vec<Node> = members.iter().map(|(s, _)| Node::init(s, dir)).collect();
        for (n, (_, partners)) in nodes.iter().zip(members) {
            let hidden = unreachable && unlisted.contains(&n.state.as_str());
            // Port 1 on loopback: nothing listens there.
            let external: &[&str] = if hidden {
                &["/ip4/127.0.0.1/tcp/1"]
            } else {
                &[]
            };
            configure_external(n, Some(&oas), partners, external);
        }
        oas.start();
        for n in &nodes {
            if unlisted.contains(&n.state.as_str()) {
                oas.tipx([
                    "roster",
                    "add",
                    "--state",
                    &n.state,
                    "--name",
                    &n.state,
                    "--peer-id",
                    &n.peer_id,
                ])
                .ok();
            } else {
                oas.roster_add(n);
            }
        }
        oas.tipx(["roster", "publish"]).ok();
        for n in &mut nodes {
            n.start();
        }
        Self {
            oas,
            members: nodes,
        }
    }

    /// The member of state `code`.
    #[track_caller]
    pub fn member(&self, code: &str) -> &Node {
        self.members
            .iter()
            .find(|n| n.state == code)
            .unwrap_or_else(|| panic!("no member {code}"))
    }

    /// The member of state `code`, mutably.
    #[track_caller]
    pub fn member_mut(&mut self, code: &str) -> &mut Node {
        self.members
            .iter_mut()
            .find(|n| n.state == code)
            .unwrap_or_else(|| panic!("no member {code}"))
    }

    /// Every node, OAS first.
    pub fn all(&self) -> impl Iterator<Item = &Node> {
        std::iter::once(&self.oas).chain(self.members.iter())
    }
}

impl Node {
    /// On the coordinator: `tipx roster add` for `member`, with its address.
    #[track_caller]
    pub fn roster_add(&self, member: &Node) {
        self.roster_add_at(member, &format!("/ip4/127.0.0.1/tcp/{}", member.p2p_port));
    }

    /// On the coordinator: `tipx roster add` for `member`, with the address `addr`.
    #[track_caller]
    pub fn roster_add_at(&self, member: &Node, addr: &str) {
        self.tipx([
            "roster",
            "add",
            "--state",
            &member.state,
            "--name",
            &member.state,
            "--peer-id",
            &member.peer_id,
            "--addr",
            addr,
        ])
        .ok();
    }

    /// On the coordinator: adds a key with no address (a hand-driven peer) to the roster
    /// under `state` and publishes the roster.
    #[track_caller]
    pub fn roster_admit(&self, state: &str, name: &str, key: &tipx_protocol::PublicKey) {
        let peer_id = key.peer_id();
        self.tipx([
            "roster",
            "add",
            "--state",
            state,
            "--name",
            name,
            "--peer-id",
            &peer_id,
        ])
        .ok();
        self.tipx(["roster", "publish"]).ok();
    }

    /// Publishes an alert for `audience` (comma-separated) and returns its id.
    #[track_caller]
    pub fn publish_alert(&self, title: &str, audience: &str) -> String {
        let out = self
            .tipx([
                "publish",
                "alert",
                "--title",
                title,
                "--severity",
                "high",
                "--audience",
                audience,
            ])
            .ok();
        out.stdout.trim().to_string()
    }

    /// Whether this node has an open connection to the peer `peer_id`.
    #[track_caller]
    pub fn connected_to(&self, peer_id: &str) -> bool {
        let peers = self.tipx(["peers", "--json"]).json();
        peers.as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["peer_id"] == peer_id && p["connected"] == true)
        })
    }

    /// When this node last completed a sync round with the peer `peer_id`, ms since the
    /// Unix epoch (`last_sync_ms` in `tipx peers --json`).
    #[track_caller]
    pub fn last_sync_ms(&self, peer_id: &str) -> Option<u64> {
        let peers = self.tipx(["peers", "--json"]).json();
        peers.as_array()?.iter().find(|p| p["peer_id"] == peer_id)?["last_sync_ms"].as_u64()
    }

    /// Waits (within [`DELIVERY_DEADLINE`] for each of two rounds) until this node has
    /// completed a sync round with `peer` that started after `after_ms`: whatever `peer`
    /// shared with it then has arrived. A round that completes after `after_ms` may have
    /// started before it, so this waits for the round after that one. Returns whether it
    /// happened.
    #[track_caller]
    pub fn synced_with_since(&self, peer: &Node, after_ms: u64) -> bool {
        let completed_after = |t: u64| {
            move || {
                self.last_sync_ms(&peer.peer_id)
                    .is_some_and(|last| last > t)
            }
        };
        if !eventually(DELIVERY_DEADLINE, completed_after(after_ms)) {
            return false;
        }
        let first = self.last_sync_ms(&peer.peer_id).unwrap_or(after_ms);
        eventually(DELIVERY_DEADLINE, completed_after(first))
    }

    /// The version of the roster this node holds (0 before any).
    #[track_caller]
    pub fn roster_version(&self) -> u64 {
        self.tipx(["status", "--json"]).json()["roster_version"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Whether this node holds the record `id` (retracted or not).
    pub fn holds(&self, id: &str) -> bool {
        self.records(&["--all"]).iter().any(|r| r["id"] == id)
    }

    /// The audit log as JSON entries.
    #[track_caller]
    pub fn audit(&self) -> Vec<serde_json::Value> {
        match self.tipx(["audit", "--limit", "100000", "--json"]).json() {
            serde_json::Value::Array(v) => v,
            other => panic!("audit is not an array: {other}"),
        }
    }
}

/// Milliseconds since the Unix epoch: the clock of the nodes on this machine.
pub fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    u64::try_from(since.as_millis()).expect("a u64 of ms lasts 584 million years")
}

/// Polls `cond` every 200 ms until it holds or `deadline` passes; returns whether it held.
pub fn eventually(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(200));
    }
}
