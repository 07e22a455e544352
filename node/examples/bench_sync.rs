//! Replication benchmark over the real sync state machine, wire encoding, and the node's
//! receive path (validation on every core, sled store, flush) — no sockets: the two sides
//! are driven from one thread, so the figures are the node's own work, without libp2p.
//!
//! Prints:
//! - bytes each way and CPU time of a no-op anti-entropy round between two nodes that hold
//!   the same N records;
//! - catch-up without the network: an empty node fetching N records (~1 KiB bodies) from
//!   one peer, one page after the other, in records/s — the node's own work. The catch-up
//!   target is measured end to end, over libp2p between two daemons, by `bench-catchup`
//!   (tipx-tests).
//!
//! `cargo run --release -p tipx-node --example bench_sync -- [N]` (default 100000).

use std::time::Instant;

use tipx_node::{node::Node, store::SledStore};
use tipx_protocol::{
    Body, Membership, PublicKey, Store,
    body::{Consent, ConsentAction},
    store::Source,
    sync::{Action, Config, Context, Replicator, Reply, Request, Response},
    testkit::{Author, NOW_MS, alert, key_of, roster, st, trusted},
};

struct Side {
    key: PublicKey,
    m: Membership,
    node: Node,
    rep: Replicator,
}

/// A node of `code` whose store holds the roster (OAS, MX, CO) and MX <-> CO consents, as
/// it would after joining the federation.
fn side(code: &str) -> Side {
    let store = SledStore::temporary().expect("store");
    let mut oas = Author::new("OAS");
    let mut control = vec![oas.publish(
        &["*"],
        Body::Roster(roster(1, &["OAS", "MX", "CO"])),
        NOW_MS,
    )];
    for (a, b) in [("MX", "CO"), ("CO", "MX")] {
        let consent = Body::Consent(Consent {
            partner: st(b),
            action: ConsentAction::Grant,
        });
        control.push(Author::new(a).publish(&["*"], consent, NOW_MS));
    }
    store
        .insert(&trusted(&control), &Source::Local, NOW_MS)
        .expect("store works");
    let node = Node::new(
        store,
        key_of(code),
        st(code),
        Some(key_of("OAS").public()),
        256 * 1024,
    )
    .expect("node");
    Side {
        key: key_of(code).public(),
        m: node.membership(),
        node,
        rep: Replicator::new(Config::default()),
    }
}

/// What the replicator of a side sees.
fn context<'a>(m: &'a Membership, node: &'a Node) -> Context<'a, SledStore> {
    Context {
        membership: m,
        store: &node.store,
        now_ms: NOW_MS,
    }
}

/// Delivers `actions` of `from` to `to` until both sides are quiet; returns (bytes from →
/// to, bytes to → from, records stored at `to`).
fn drive(a: &mut Side, b: &mut Side, first: Vec<Action>) -> (usize, usize, usize) {
    let (mut ab, mut ba, mut stored) = (0, 0, 0);
    // In order: the pages of a feed are stored in the order of their actions.
    let mut queue: std::collections::VecDeque<(bool, Action)> =
        first.into_iter().map(|x| (true, x)).collect();
    while let Some((from_a, action)) = queue.pop_front() {
        let (src, dst) = if from_a {
            (&mut *a, &mut *b)
        } else {
            (&mut *b, &mut *a)
        };
        match action {
            Action::Send { request, .. } => {
                let bytes = request.encode();
                if from_a {
                    ab += bytes.len()
                } else {
                    ba += bytes.len()
                }
                let req = Request::decode(&bytes).expect("decodes");
                let cx = context(&dst.m, &dst.node);
                let handled = dst
                    .rep
                    .handle_request(src.key, req.clone(), &cx)
                    .expect("store works");
                let Reply::Respond(resp) = handled.reply else {
                    panic!("no pushes in this bench")
                };
                let rbytes = resp.encode();
                if from_a {
                    ba += rbytes.len()
                } else {
                    ab += rbytes.len()
                }
                let resp = Response::decode(&rbytes).expect("decodes");
                let cx = context(&src.m, &src.node);
                let more = src
                    .rep
                    .on_response(dst.key, &req, resp, &cx)
                    .expect("store works");
                queue.extend(more.into_iter().map(|x| (from_a, x)));
                queue.extend(handled.actions.into_iter().map(|x| (!from_a, x)));
            }
            Action::Store {
                peer,
                feed,
                records,
            } => {
                // What the node does with a page: validate (on every core), store, flush.
                let received = src.node.receive(&records, peer).expect("store works");
                assert_eq!(
                    received.stored.len(),
                    records.len(),
                    "every record of the page is stored"
                );
                stored += received.stored.len();
                let cx = context(&src.m, &src.node);
                let more = src
                    .rep
                    .on_stored(peer, Some(feed), &received.stored, &cx)
                    .expect("store works");
                queue.extend(more.into_iter().map(|x| (from_a, x)));
            }
            Action::Synced { .. } | Action::Disconnect { .. } => {}
        }
    }
    (ab, ba, stored)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);

    let mut mx = Author::new("MX");
    let records: Vec<_> = (0..n)
        .map(|i| {
            let mut body = alert(&format!("alert {i}"));
            if let Body::Alert(a) = &mut body {
                a.description = "recruitment offers abroad ".repeat(37);
            }
            mx.publish(&["CO", "MX"], body, NOW_MS + i)
        })
        .collect();
    let (mut a, mut b) = (side("MX"), side("CO"));
    for s in [&a, &b] {
        for chunk in records.chunks(2_000) {
            s.node
                .store
                .insert(&trusted(chunk), &Source::Local, NOW_MS)
                .expect("store works");
        }
        s.node.store.flush().expect("flush");
    }

    let rounds = 100;
    let t = Instant::now();
    let mut bytes = (0, 0);
    for _ in 0..rounds {
        let cx = context(&a.m, &a.node);
        a.rep.on_disconnected(b.key, &cx).expect("store works");
        let first = a.rep.on_connected(b.key, &cx).expect("store works");
        let (ab, ba, stored) = drive(&mut a, &mut b, first);
        assert_eq!(stored, 0);
        bytes = (ab, ba);
    }
    let per_round = t.elapsed() / rounds;
    println!(
        "no-op anti-entropy between two nodes holding {n} records: {} bytes MX→CO, {} bytes CO→MX, {per_round:.2?} CPU per round (both sides)",
        bytes.0, bytes.1
    );

    let mut c = side("CO");
    let t = Instant::now();
    let cx = context(&c.m, &c.node);
    let first = c.rep.on_connected(a.key, &cx).expect("store works");
    let (_, _, stored) = drive(&mut c, &mut a, first);
    let secs = t.elapsed().as_secs_f64();
    let rate = stored as f64 / secs;
    println!(
        "catch-up of {stored} records from one peer, without the network: {secs:.1} s = {rate:.0} records/s"
    );
    assert_eq!(c.node.store.len().expect("store works"), n + 3);
}
