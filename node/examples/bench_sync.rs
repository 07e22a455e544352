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

use std::{collections::VecDeque, sync::Arc, time::Instant};

use tipx_node::{core::Node, store::SledStore};
use tipx_protocol::{
    Body, FeedId, Membership, PublicKey, Record, Store,
    body::{Consent, ConsentAction},
    store::Source,
    sync::{Action, Config, Context, Effects, Replicator, Reply, Request, Response, carry_out},
    testkit::{Author, NOW_MS, alert, key_of, roster, st, trusted},
};

struct Side {
    key: PublicKey,
    m: Arc<Membership>,
    node: Node,
    rep: Replicator,
}

/// A node of `code` whose store holds the roster (OAS, MX, CO) and MX <-> CO consents, as
/// it would after joining the federation, and `records`.
fn side(code: &str, records: &[Record]) -> Side {
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
    for chunk in records.chunks(2_000) {
        store
            .insert(&trusted(chunk), &Source::Local, NOW_MS)
            .expect("store works");
    }
    store.flush().expect("flush");
    let (node, _no_network) = Node::new(
        store,
        key_of(code),
        st(code),
        Some(key_of("OAS").public()),
        vec![],
        256 * 1024,
    )
    .expect("node");
    Side {
        key: key_of(code).public(),
        m: node.membership(),
        // Seeded with what the store holds, as the daemon's replicator is at start.
        rep: Replicator::new(Config::default(), node.feeds().expect("store works")),
        node,
    }
}

/// What the replicator of a side sees.
fn context(m: &Membership) -> Context<'_> {
    Context {
        membership: m,
        now_ms: NOW_MS,
        salt: [9; 16],
    }
}

/// Two sides joined by a loss-free link that delivers each request at once; `a_acts` says
/// which side the actions being carried out are of.
struct Link<'a> {
    a: &'a mut Side,
    b: &'a mut Side,
    a_acts: bool,
    /// Bytes a → b and b → a.
    bytes: (usize, usize),
    /// Records stored by the side that fetched.
    stored: usize,
    /// Actions still to carry out, with whose they are.
    queue: VecDeque<(bool, Action)>,
}

impl Link<'_> {
    fn sides(&mut self) -> (&mut Side, &mut Side) {
        if self.a_acts {
            (&mut *self.a, &mut *self.b)
        } else {
            (&mut *self.b, &mut *self.a)
        }
    }

    fn count(&mut self, from_acting: bool, n: usize) {
        if from_acting == self.a_acts {
            self.bytes.0 += n;
        } else {
            self.bytes.1 += n;
        }
    }
}

impl Effects for Link<'_> {
    fn send(&mut self, _peer: PublicKey, request: Request) {
        let bytes = request.encode();
        self.count(true, bytes.len());
        let req = Request::decode(&bytes).expect("decodes");
        let a_acts = self.a_acts;
        let (src, dst) = self.sides();
        let handled = dst
            .rep
            .handle_request(src.key, req.clone(), &context(&dst.m));
        let resp = match handled.reply {
            Reply::Respond(r) => r,
            // What the daemon does for a fetch: read the page from the store.
            Reply::Serve(page) => page.respond(
                dst.node
                    .feed_range(&page.feed, page.from_seq, page.max_records, page.max_bytes)
                    .expect("store works"),
            ),
            Reply::StoreThenAck { .. } => panic!("no pushes in this bench"),
        };
        let rbytes = resp.encode();
        let resp = Response::decode(&rbytes).expect("decodes");
        let more = src.rep.on_response(dst.key, &req, resp, &context(&src.m));
        self.count(false, rbytes.len());
        self.queue.extend(more.into_iter().map(|x| (a_acts, x)));
        self.queue
            .extend(handled.actions.into_iter().map(|x| (!a_acts, x)));
    }

    fn store(&mut self, peer: PublicKey, feed: FeedId, records: Vec<Vec<u8>>) {
        let a_acts = self.a_acts;
        let (src, _) = self.sides();
        // What the node does with a page: validate (on every core), store, flush.
        let received = src.node.receive(&records, peer).expect("store works");
        assert_eq!(
            received.stored.len(),
            records.len(),
            "every record of the page is stored"
        );
        let refused: Vec<_> = received
            .outcomes
            .into_iter()
            .filter_map(Result::err)
            .collect();
        let more = src.rep.on_received(
            peer,
            Some(feed),
            &received.stored,
            &refused,
            &context(&src.m),
        );
        self.stored += received.stored.len();
        self.queue.extend(more.into_iter().map(|x| (a_acts, x)));
    }

    fn synced(&mut self, _peer: PublicKey) {}

    fn disconnect(&mut self, _peer: PublicKey, _until_ms: u64) {
        panic!("no offences in this bench")
    }
}

/// Delivers `first` (actions of `a`) and everything that follows until both sides are
/// quiet; returns (bytes a → b, bytes b → a, records stored).
fn drive(a: &mut Side, b: &mut Side, first: Vec<Action>) -> (usize, usize, usize) {
    let mut link = Link {
        a,
        b,
        a_acts: true,
        bytes: (0, 0),
        stored: 0,
        // In order: the pages of a feed are stored in the order of their actions.
        queue: first.into_iter().map(|x| (true, x)).collect(),
    };
    while let Some((a_acts, action)) = link.queue.pop_front() {
        link.a_acts = a_acts;
        carry_out([action], &mut link);
    }
    (link.bytes.0, link.bytes.1, link.stored)
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
    let (mut a, mut b) = (side("MX", &records), side("CO", &records));

    let rounds = 100;
    let t = Instant::now();
    let mut bytes = (0, 0);
    for _ in 0..rounds {
        let m = a.m.clone();
        a.rep.on_disconnected(b.key, &context(&m));
        let first = a.rep.on_connected(b.key, &context(&m));
        let (ab, ba, stored) = drive(&mut a, &mut b, first);
        assert_eq!(stored, 0);
        bytes = (ab, ba);
    }
    let per_round = t.elapsed() / rounds;
    println!(
        "no-op anti-entropy between two nodes holding {n} records: {} bytes MX→CO, {} bytes CO→MX, {per_round:.2?} CPU per round (both sides)",
        bytes.0, bytes.1
    );

    let mut c = side("CO", &[]);
    let t = Instant::now();
    let first = c.rep.on_connected(a.key, &context(&c.m.clone()));
    let (_, _, stored) = drive(&mut c, &mut a, first);
    let secs = t.elapsed().as_secs_f64();
    let rate = stored as f64 / secs;
    println!(
        "catch-up of {stored} records from one peer, without the network: {secs:.1} s = {rate:.0} records/s"
    );
    assert_eq!(c.node.len().expect("store works"), n + 3);
}
