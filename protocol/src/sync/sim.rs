//! A tiny in-memory network for the sync tests: nodes with a [`MemStore`], a membership view
//! and a [`Replicator`], joined by links. It carries out actions as the node does — a send
//! goes through the wire encoding onto a queue, a store goes through validation and
//! `Store::insert` and then `on_stored` — and logs every message with its encoded size.
//!
//! By default the wire is reliable and FIFO. [`Sim::lossy`] gives it a seed and a [`Loss`]:
//! messages are then lost, delayed and reordered (see [`net`]), links may be
//! [cut](Sim::cut) and [healed](Sim::heal), and [`Sim::tick`] lets anti-entropy repair what
//! was lost. Either way every request ends exactly once, in `on_response` or `on_failure`,
//! and a node stores the pages of a feed in the order of its actions (its store is
//! synchronous here).

mod effects;
mod leaks;
mod net;

use std::collections::BTreeMap;

use effects::{At, learn, version_1};
pub(super) use net::Loss;
use net::{Event, Wire};

use crate::{
    Audience, FeedId, Membership, Origin, PublicKey, Record, Rejection,
    body::Body,
    store::{Inserted, Source, Store, mem::MemStore},
    sync::{
        Action, Config, Context, Handled, Page, Replicator, Reply, Request, Response, carry_out,
    },
    testkit::{Author, NOW_MS, key_of, membership},
    validate::{self, Verified},
};

/// Every member of the simulated federation.
pub(super) const STATES: &[&str] = &["OAS", "MX", "CO", "PE", "BR"];
/// MX, CO and PE are partners of each other; OAS and BR are nobody's partner.
pub(super) const PARTNERS: &[(&str, &str)] = &[("MX", "CO"), ("MX", "PE"), ("CO", "PE")];
/// Largest record accepted.
const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Messages delivered before a run is declared a loop.
const MAX_STEPS: usize = 1_000_000;

pub(super) struct Node {
    pub(super) code: &'static str,
    pub(super) key: PublicKey,
    pub(super) author: Author,
    pub(super) membership: Membership,
    pub(super) store: MemStore,
    pub(super) rep: Replicator,
    /// How far this node's clock is off the simulation's, in ms (a wrong system clock).
    pub(super) clock_ms: i64,
    /// It runs a version that predates channels: its digests say it knows none.
    pub(super) predates_channels: bool,
    /// It runs version 1 of sync: its digests open no reconciliation, and it does not see
    /// one in a digest it receives (protobuf skips the field). It cannot read the other
    /// messages of version 2: the simulation fails if one is sent to it.
    pub(super) predates_reconcile: bool,
    /// Its replication config.
    config: Config,
}

/// A message as it crossed a link.
#[derive(Debug, Clone)]
pub(super) enum Msg {
    Request(Request),
    Response(Response),
}

/// One message on the wire.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) from: &'static str,
    pub(super) to: &'static str,
    pub(super) msg: Msg,
    /// Its encoded size.
    pub(super) bytes: usize,
    /// It was lost on the way (lossy mode): the receiver never saw it.
    pub(super) lost: bool,
}

/// What becomes of a message.
enum Fate {
    Arrives,
    /// Its connection closed: the requester's `on_failure` comes at once.
    Closed,
    /// Lost on the way: the requester's `on_failure` comes when the request times out.
    Lost,
}

pub(super) struct Sim {
    pub(super) nodes: Vec<Node>,
    /// Open links: (lower index, higher index) → the id of the connection.
    links: BTreeMap<(usize, usize), u64>,
    /// Connections opened so far.
    conns: u64,
    pub(super) now_ms: u64,
    wire: Wire,
    pub(super) traffic: Vec<Sent>,
    /// (node, peer) for every `Action::Synced`.
    pub(super) synced: Vec<(&'static str, &'static str)>,
    /// (node, sender, why) for every record refused.
    pub(super) refused: Vec<(&'static str, &'static str, Rejection)>,
    /// The audience of every feed published, to check what each node was told.
    pub(super) audiences: BTreeMap<FeedId, Audience>,
    /// Where the salts of the nodes' reconciliations come from.
    salts: Salts,
}

/// A seeded stream of salts: the same run draws the same ones.
#[derive(Default)]
struct Salts(u64);

impl Salts {
    fn draw(&mut self) -> crate::sync::reconcile::Salt {
        use sha2::{Digest as _, Sha256};
        self.0 += 1;
        let h = Sha256::new()
            .chain_update(b"sim/salt")
            .chain_update(self.0.to_be_bytes())
            .finalize();
        h[..16].try_into().expect("16 bytes")
    }
}

impl Sim {
    /// The nodes of `codes`, each with the test federation's membership view.
    pub(super) fn new(codes: &[&'static str]) -> Self {
        Self::with(codes, |_| Config::default())
    }

    /// As [`Sim::new`], with a replication config per node.
    pub(super) fn with(codes: &[&'static str], config: impl Fn(&str) -> Config) -> Self {
        Self::federation(codes, STATES, PARTNERS, config)
    }

    /// The nodes of `codes` in a federation of `states` (a roster member each) where the
    /// pairs `partners` consent to each other.
    pub(super) fn federation(
        codes: &[&'static str],
        states: &[&str],
        partners: &[(&str, &str)],
        config: impl Fn(&str) -> Config,
    ) -> Self {
        let nodes = codes
            .iter()
            .map(|code| Node {
                code,
                key: key_of(code).public(),
                author: Author::new(code),
                membership: membership(code, states, partners),
                store: MemStore::new(),
                rep: Replicator::new(config(code), []),
                clock_ms: 0,
                predates_channels: false,
                predates_reconcile: false,
                config: config(code),
            })
            .collect();
        Self {
            nodes,
            links: BTreeMap::new(),
            conns: 0,
            now_ms: NOW_MS,
            wire: Wire::reliable(),
            traffic: Vec::new(),
            synced: Vec::new(),
            refused: Vec::new(),
            audiences: BTreeMap::new(),
            salts: Salts::default(),
        }
    }

    /// The same nodes, with a wire that loses, delays and reorders messages as `loss` says,
    /// drawing from a PRNG seeded with `seed` (call it before any message is sent).
    pub(super) fn lossy(self, seed: u64, loss: Loss) -> Self {
        assert_eq!(self.wire.in_flight(), 0, "messages in flight");
        Self {
            wire: Wire::lossy(seed, loss),
            ..self
        }
    }

    /// Changes how unreliable the wire is from now on (messages in flight keep their fate).
    pub(super) fn set_loss(&mut self, loss: Loss) {
        self.wire.loss = loss;
    }

    pub(super) fn idx(&self, code: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.code == code)
            .unwrap_or_else(|| panic!("no node {code}"))
    }

    fn idx_of(&self, key: &PublicKey) -> usize {
        self.nodes
            .iter()
            .position(|n| n.key == *key)
            .expect("a simulated peer")
    }

    pub(super) fn node(&self, code: &str) -> &Node {
        &self.nodes[self.idx(code)]
    }

    /// The connection between nodes `a` and `b`, if linked.
    fn conn(&self, a: usize, b: usize) -> Option<u64> {
        self.links.get(&(a.min(b), a.max(b))).copied()
    }

    /// Whether `a` and `b` are linked.
    pub(super) fn linked(&self, a: &str, b: &str) -> bool {
        self.conn(self.idx(a), self.idx(b)).is_some()
    }

    /// Opens a link: both sides start a round; runs until quiet.
    pub(super) fn connect(&mut self, a: &str, b: &str) {
        let (i, j) = (self.idx(a), self.idx(b));
        self.conns += 1;
        self.links.insert((i.min(j), i.max(j)), self.conns);
        for (x, y) in [(i, j), (j, i)] {
            let peer = self.nodes[y].key;
            let acts = self.call(x, |rep, cx| rep.on_connected(peer, cx));
            self.carry(x, acts);
        }
        self.run();
    }

    /// Opens a link on which only `a` starts a round (`b` answers, and starts its own at
    /// its next timer); runs until quiet. What one round costs, without the other side's.
    pub(super) fn connect_one_way(&mut self, a: &str, b: &str) {
        let (i, j) = (self.idx(a), self.idx(b));
        self.conns += 1;
        self.links.insert((i.min(j), i.max(j)), self.conns);
        let peer = self.nodes[j].key;
        let acts = self.call(i, |rep, cx| rep.on_connected(peer, cx));
        self.carry(i, acts);
        self.run();
    }

    /// Cuts the link between `a` and `b` (if up): both sides see the peer disconnect, and
    /// messages in flight on it fail when they arrive, as on a closed connection.
    pub(super) fn cut(&mut self, a: &str, b: &str) {
        let (i, j) = (self.idx(a), self.idx(b));
        if self.links.remove(&(i.min(j), i.max(j))).is_none() {
            return;
        }
        for (x, y) in [(i, j), (j, i)] {
            let peer = self.nodes[y].key;
            let acts = self.call(x, |rep, cx| rep.on_disconnected(peer, cx));
            self.carry(x, acts);
        }
    }

    /// Opens the link between `a` and `b` again (if cut), as [`Sim::connect`].
    pub(super) fn heal(&mut self, a: &str, b: &str) {
        if !self.linked(a, b) {
            self.connect(a, b);
        }
    }

    /// Requests sent that have had neither a response nor a failure, and messages in
    /// flight: both 0 once a lossy run has been let settle.
    pub(super) fn unfinished(&self) -> (usize, usize) {
        (self.wire.open(), self.wire.in_flight())
    }

    /// Calls `f` on node `code`'s replicator with its context (actions are not carried out).
    pub(super) fn at<T>(
        &mut self,
        code: &str,
        f: impl FnOnce(&mut Replicator, &Context<'_>) -> T,
    ) -> T {
        self.call(self.idx(code), f)
    }

    /// Sets node `code`'s clock `ms` off the simulation's (ahead if positive).
    pub(super) fn set_clock(&mut self, code: &str, ms: i64) {
        let i = self.idx(code);
        self.nodes[i].clock_ms = ms;
    }

    /// The time on node `i`'s clock.
    fn now_at(&self, i: usize) -> u64 {
        self.now_ms.saturating_add_signed(self.nodes[i].clock_ms)
    }

    /// Calls `f` on node `i`'s replicator with its context.
    fn call<T>(&mut self, i: usize, f: impl FnOnce(&mut Replicator, &Context<'_>) -> T) -> T {
        let now_ms = self.now_at(i);
        let Node {
            rep, membership, ..
        } = &mut self.nodes[i];
        let cx = Context {
            membership,
            now_ms,
            salt: self.salts.draw(),
        };
        f(rep, &cx)
    }

    /// Node `code` publishes the next record of its feed for `audience`; returns it and the
    /// actions `on_published` gave (already carried out — run to deliver them).
    pub(super) fn publish(
        &mut self,
        code: &str,
        audience: &[&str],
        body: Body,
    ) -> (Record, Vec<Action>) {
        let i = self.idx(code);
        let now = self.now_at(i);
        let r = self.nodes[i].author.publish(audience, body, now);
        self.audiences
            .insert(r.header.feed, r.header.audience.clone());
        let v = validate::validate(r.clone(), Origin::Local, &self.validation(i))
            .expect("own record valid");
        let out = self.nodes[i]
            .store
            .insert(std::slice::from_ref(&v), &Source::Local, now);
        assert_eq!(out, Ok(vec![Inserted::Stored]));
        learn(&mut self.nodes[i].membership, &v);
        let acts = self.call(i, |rep, cx| rep.on_published(std::slice::from_ref(&r), cx));
        self.carry(i, acts.clone());
        (r, acts)
    }

    fn validation(&self, i: usize) -> validate::Context<'_> {
        let n = &self.nodes[i];
        validate::Context {
            local_state: n.membership.own_state(),
            now_ms: self.now_at(i),
            max_record_bytes: MAX_RECORD_BYTES,
            membership: &n.membership,
        }
    }

    /// Validates and stores records at node `i` as received from `from`; returns those
    /// newly stored and why the others were refused.
    fn ingest(
        &mut self,
        i: usize,
        from: PublicKey,
        records: &[Vec<u8>],
    ) -> (Vec<Record>, Vec<Rejection>) {
        let sender = self.nodes[self.idx_of(&from)].code;
        let me = self.nodes[i].code;
        let mut ok: Vec<Verified> = Vec::new();
        let mut refused = Vec::new();
        {
            let cx = self.validation(i);
            for b in records {
                match validate::validate_bytes(b, Origin::Peer(from), &cx) {
                    Ok(v) => ok.push(v),
                    Err(why) => refused.push(why),
                }
            }
        }
        let n = &mut self.nodes[i];
        let out = n
            .store
            .insert(&ok, &Source::Peer(from.peer_id()), self.now_ms)
            .expect("memory");
        let mut stored = Vec::new();
        for (v, o) in ok.iter().zip(out) {
            match o {
                Inserted::Stored => {
                    learn(&mut n.membership, v);
                    stored.push(v.record.clone());
                }
                Inserted::Duplicate => {}
                Inserted::Refused(why) => refused.push(why),
            }
        }
        self.refused
            .extend(refused.iter().map(|why| (me, sender, why.clone())));
        (stored, refused)
    }

    /// Carries out node `i`'s actions, in order.
    fn carry(&mut self, i: usize, actions: Vec<Action>) {
        carry_out(actions, &mut At { sim: self, i });
    }

    fn log(&mut self, from: usize, to: usize, msg: Msg, lost: bool) -> Msg {
        let (bytes, msg) = match msg {
            Msg::Request(r) => {
                let b = r.encode();
                (b.len(), Msg::Request(Request::decode(&b).expect("decodes")))
            }
            Msg::Response(r) => {
                let b = r.encode();
                (
                    b.len(),
                    Msg::Response(Response::decode(&b).expect("decodes")),
                )
            }
        };
        self.traffic.push(Sent {
            from: self.nodes[from].code,
            to: self.nodes[to].code,
            msg: msg.clone(),
            bytes,
            lost,
        });
        msg
    }

    /// Delivers messages until none is ready (in lossy mode some may still be held back
    /// until the clock moves on).
    pub(super) fn run(&mut self) {
        let mut steps = 0;
        while let Some(ev) = self.wire.next(self.now_ms) {
            steps += 1;
            assert!(steps < MAX_STEPS, "the exchange does not end");
            match ev {
                Event::Request {
                    id,
                    from,
                    to,
                    conn,
                    request,
                } => self.deliver_request(id, from, to, conn, request),
                Event::Response {
                    id,
                    to,
                    from,
                    conn,
                    request,
                    response,
                } => self.deliver_response(id, to, from, conn, request, response),
                Event::Timeout {
                    id,
                    at,
                    peer,
                    request,
                } => self.fail(id, at, peer, &request),
            }
        }
    }

    /// Node `at`'s request `id` to `peer` failed.
    fn fail(&mut self, id: u64, at: usize, peer: usize, request: &Request) {
        self.wire.end(id);
        let key = self.nodes[peer].key;
        let acts = self.call(at, |rep, cx| rep.on_failure(key, request, cx));
        self.carry(at, acts);
    }

    /// How a message from `a` to `b` sent on `conn` fares: the connection may have closed
    /// since, and (lossy mode) it may be lost; a lost one is logged all the same.
    fn fate(&mut self, a: usize, b: usize, conn: Option<u64>, msg: &Msg) -> Fate {
        if conn.is_none() || self.conn(a, b) != conn {
            Fate::Closed
        } else if self.wire.lost() {
            self.log(a, b, msg.clone(), true);
            Fate::Lost
        } else {
            Fate::Arrives
        }
    }

    fn deliver_request(
        &mut self,
        id: u64,
        from: usize,
        to: usize,
        conn: Option<u64>,
        request: Request,
    ) {
        let msg = Msg::Request(request.clone());
        match self.fate(from, to, conn, &msg) {
            Fate::Closed => return self.fail(id, from, to, &request),
            Fate::Lost => return self.wire.time_out(self.now_ms, id, from, to, request),
            Fate::Arrives => {}
        }
        let peer = self.nodes[from].key;
        let Msg::Request(mut received) = self.log(from, to, msg, false) else {
            unreachable!()
        };
        if self.nodes[to].predates_reconcile {
            received = version_1(received);
        }
        let handled = self.call(to, |rep, cx| rep.handle_request(peer, received, cx));
        self.carry(to, handled.actions);
        let response = match handled.reply {
            Reply::Respond(r) => r,
            Reply::Serve(page) => self.serve(to, &page),
            Reply::StoreThenAck { records } => {
                let (stored, refused) = self.ingest(to, peer, &records);
                let acts = self.call(to, |rep, cx| {
                    rep.on_received(peer, None, &stored, &refused, cx)
                });
                self.carry(to, acts);
                Response::ack(stored.len(), refused.len())
            }
        };
        let ev = Event::Response {
            id,
            to: from,
            from: to,
            conn,
            request,
            response,
        };
        self.wire.put(self.now_ms, ev);
    }

    fn deliver_response(
        &mut self,
        id: u64,
        to: usize,
        from: usize,
        conn: Option<u64>,
        request: Request,
        response: Response,
    ) {
        let msg = Msg::Response(response);
        match self.fate(from, to, conn, &msg) {
            Fate::Closed => return self.fail(id, to, from, &request),
            Fate::Lost => return self.wire.time_out(self.now_ms, id, to, from, request),
            Fate::Arrives => {}
        }
        self.wire.end(id);
        let peer = self.nodes[from].key;
        let Msg::Response(response) = self.log(from, to, msg, false) else {
            unreachable!()
        };
        let acts = self.call(to, |rep, cx| rep.on_response(peer, &request, response, cx));
        self.carry(to, acts);
    }

    /// Node `code` validates and stores records from `from` as the node does for an
    /// [`Action::Store`], without telling its replicator; returns those newly stored.
    pub(super) fn store_at(&mut self, code: &str, from: &str, records: &[Vec<u8>]) -> Vec<Record> {
        let (i, peer) = (self.idx(code), self.node(from).key);
        self.ingest(i, peer, records).0
    }

    /// Node `at` handles `request` from node `from` directly (no link needed); a page to
    /// serve comes back read from its store, as [`Reply::Respond`].
    pub(super) fn ask(&mut self, at: &str, from: &str, request: Request) -> Handled {
        let (i, peer) = (self.idx(at), self.node(from).key);
        let mut handled = self.call(i, |rep, cx| rep.handle_request(peer, request, cx));
        if let Reply::Serve(page) = handled.reply {
            handled.reply = Reply::Respond(self.serve(i, &page));
        }
        handled
    }

    /// What node `i` answers for `page`, read from its store.
    fn serve(&self, i: usize, page: &Page) -> Response {
        page.respond(
            self.nodes[i]
                .store
                .feed_range(&page.feed, page.from_seq, page.max_records, page.max_bytes)
                .expect("memory"),
        )
    }

    /// Advances the clock by `ms` and fires every node's timer; runs until quiet. Messages
    /// held back (lossy mode) arrive at their time on the way, between the timers.
    pub(super) fn tick(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        while let Some(due) = self.wire.next_due().filter(|due| *due < until) {
            self.now_ms = self.now_ms.max(due);
            self.run();
        }
        self.now_ms = until;
        for i in 0..self.nodes.len() {
            let acts = self.call(i, |rep, cx| rep.on_tick(cx));
            self.carry(i, acts);
        }
        self.run();
    }

    /// The records node `code` holds of `feed`, in order.
    pub(super) fn feed_at(&self, code: &str, feed: &FeedId) -> Vec<Record> {
        self.node(code)
            .store
            .feed_range(feed, 1, usize::MAX, usize::MAX)
            .expect("memory")
    }

    /// Whether node `code` holds `r`.
    pub(super) fn holds(&self, code: &str, r: &Record) -> bool {
        self.node(code).store.get(&r.id).expect("memory").is_some()
    }
}
