//! [`Replicator`]: one node's replication state machine. Events go in — a peer connected
//! or left, the timer, records published or stored, a request or a response — with a
//! [`Context`] (membership, the clock); [`Action`]s come out, and the node carries them
//! out. It keeps the head of every feed the node holds (seeded from the store at start,
//! then kept in step by `on_published` and `on_stored`), so it never reads the store.
//! Calls may come while stores are still under way (on other threads): the replicator
//! counts them, and needs exactly one `on_stored` after each store it asked for.

mod held;
mod reconciling;
mod respond;

use held::{Held, by_feed};

use crate::{
    Channels, FeedId, PublicKey, Record, StateCode,
    store::FeedInfo,
    sync::{
        Action, Config, Context, FeedHead, MAX_HEADS, MAX_ROUND_MS, Offences, Request, Response,
        Verdict, digest, key_state, may_take,
        reconcile::Reconciler,
        session::{PageDone, Round, Sessions, Version},
        shared_heads, shares_header,
    },
};

/// One node's replication state: the feeds it holds, a session per connected peer and the
/// offence counts.
#[derive(Debug)]
pub struct Replicator {
    config: Config,
    held: Held,
    sessions: Sessions,
    offences: Offences,
}

impl Replicator {
    /// A replicator with no peers, for a node that holds `feeds` (the store's
    /// `Store::feeds` at start); page limits are capped at the protocol maxima.
    pub fn new(config: Config, feeds: impl IntoIterator<Item = FeedInfo>) -> Self {
        Self {
            config: config.clamped(),
            held: Held(feeds.into_iter().map(|f| (f.feed, f)).collect()),
            sessions: Sessions::default(),
            offences: Offences::new(),
        }
    }

    /// The seq this node holds of `feed`, as the replicator knows it (0 if none).
    pub fn held_seq(&self, feed: &FeedId) -> u64 {
        self.held.seq(feed)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The peers with a session.
    pub fn peers(&self) -> impl Iterator<Item = &PublicKey> {
        self.sessions.peers.keys()
    }

    /// Fetches in flight, to all peers.
    pub fn fetches_in_flight(&self) -> usize {
        self.sessions.fetching()
    }

    /// Counts an offence of `peer` (a record it sent was refused with
    /// [`crate::Rejection::is_offence`], or a message did not decode). On
    /// [`Verdict::Disconnect`] the node closes its connections and refuses it until then.
    pub fn record_offence(&mut self, peer: PublicKey, now_ms: u64) -> Verdict {
        self.offences.record(peer, now_ms)
    }

    /// Whether `peer` is cooling off: refuse its connections.
    pub fn is_banned(&self, peer: &PublicKey, now_ms: u64) -> bool {
        self.offences.is_banned(peer, now_ms)
    }

    /// The first connection to `peer` is up: opens its session and starts a round.
    pub fn on_connected(&mut self, peer: PublicKey, cx: &Context<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        if self.offences.is_banned(&peer, cx.now_ms) {
            return out;
        }
        if self.sessions.open(peer).round.is_none() {
            self.start_round(peer, cx, &mut out);
        }
        out
    }

    /// The last connection to `peer` is closed: forgets its session; other peers may take
    /// over its fetches.
    pub fn on_disconnected(&mut self, peer: PublicKey, cx: &Context<'_>) -> Vec<Action> {
        self.sessions.close(&peer);
        let mut out = Vec::new();
        self.settle(cx, &mut out);
        out
    }

    /// The timer (call it every few seconds): starts the rounds that are due, abandons
    /// stuck ones, forgets old offences.
    pub fn on_tick(&mut self, cx: &Context<'_>) -> Vec<Action> {
        let now = cx.now_ms;
        self.offences.prune(now);
        let (mut due, mut abandoned) = (Vec::new(), Vec::new());
        for (peer, s) in self.sessions.peers.iter_mut() {
            if s.round
                .is_some_and(|r| now >= r.started_ms.saturating_add(MAX_ROUND_MS))
            {
                s.round = None;
                s.reconciling = None;
                abandoned.push(*peer);
            }
            let last = s.last_round_ms;
            let due_at = |t: u64| t.saturating_add(self.config.interval_ms);
            if s.round.is_none() && last.is_none_or(|t| now >= due_at(t)) {
                due.push(*peer);
            }
        }
        for peer in abandoned {
            self.sessions.abandon_stores(&peer);
        }
        let mut out = Vec::new();
        for peer in due {
            self.start_round(peer, cx, &mut out);
        }
        out
    }

    /// This node published `records` (stored and flushed): notes the new heads and pushes
    /// each feed's records to every connected peer that shares the feed.
    pub fn on_published(&mut self, records: &[Record], cx: &Context<'_>) -> Vec<Action> {
        for r in records {
            self.held.note(r);
        }
        let m = cx.membership;
        let groups = by_feed(records);
        let mut out = Vec::new();
        for peer in self.sessions.peers.keys() {
            if self.offences.is_banned(peer, cx.now_ms) {
                continue;
            }
            let Some(ps) = key_state(m, peer) else {
                continue;
            };
            let knows = self.sessions.channels(peer);
            for rs in groups.values() {
                let h = &rs[0].header;
                if knows.knows(h.channel) && shares_header(m, m.own_state(), ps, h) {
                    self.push_pages(*peer, rs, &mut out);
                }
            }
        }
        out
    }

    fn push_pages(&self, peer: PublicKey, records: &[&Record], out: &mut Vec<Action>) {
        let max_records = self.config.page_records as usize;
        let max_bytes = self.config.page_bytes as usize;
        let mut page: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0;
        for r in records {
            let b = r.encode();
            if !page.is_empty() && (page.len() >= max_records || bytes + b.len() > max_bytes) {
                let records = std::mem::take(&mut page);
                out.push(Action::Send {
                    peer,
                    request: Request::Push { records },
                });
                bytes = 0;
            }
            bytes += b.len();
            page.push(b);
        }
        if !page.is_empty() {
            out.push(Action::Send {
                peer,
                request: Request::Push { records: page },
            });
        }
    }

    /// Records received from `from` were validated and stored (after an [`Action::Store`]
    /// of `page`'s feed, or a [`crate::sync::Reply::StoreThenAck`] with `page` `None`):
    /// `stored` are those newly stored, `refused` why others were not. A refusal that is
    /// the sender's fault ([`crate::Rejection::is_offence`]) counts against it; then as
    /// [`Replicator::on_stored`]. Call it exactly once per store, also when none was stored.
    pub fn on_received(
        &mut self,
        from: PublicKey,
        page: Option<FeedId>,
        stored: &[Record],
        refused: &[crate::Rejection],
        cx: &Context<'_>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in refused.iter().filter(|r| r.is_offence()) {
            self.offence(from, cx.now_ms, &mut out);
        }
        out.extend(self.on_stored(from, page, stored, cx));
        out
    }

    /// Records received from `from` were stored: `stored` are those newly stored, after an
    /// [`Action::Store`] (`page`: its feed) or a [`crate::sync::Reply::StoreThenAck`]
    /// (`page`: `None`). Call it exactly once for each, even if none was stored. Continues
    /// paged fetches, announces the new heads to the other peers that share each feed, and
    /// starts waiting fetches.
    ///
    /// A feed still being fetched page by page is announced once, after its last page.
    pub fn on_stored(
        &mut self,
        from: PublicKey,
        page: Option<FeedId>,
        stored: &[Record],
        cx: &Context<'_>,
    ) -> Vec<Action> {
        for r in stored {
            self.held.note(r);
        }
        let m = cx.membership;
        let mut out = Vec::new();
        let page = page.map(|feed| (feed, self.held.seq(&feed)));
        match (self.sessions.stored(&from, page), page) {
            (PageDone::Fetch(from_seq), Some((feed, _))) => out.push(Action::Send {
                peer: from,
                request: self.fetch(feed, from_seq),
            }),
            // The page was refused: stop here; the next round tries again.
            (PageDone::Broken, _) => self.round_broken(&from),
            _ => {}
        }
        let mut news = Vec::new();
        for (feed, rs) in by_feed(stored) {
            if self.sessions.is_fetching(&feed) || self.sessions.is_storing(&feed) {
                continue;
            }
            let seq = self.held.seq(&feed);
            news.push((FeedHead::of(&rs[0].header, seq), &rs[0].header));
        }
        for peer in self.sessions.peers.keys() {
            if *peer == from || self.offences.is_banned(peer, cx.now_ms) {
                continue;
            }
            let Some(ps) = key_state(m, peer) else {
                continue;
            };
            let knows = self.sessions.channels(peer);
            let heads: Vec<FeedHead> = news
                .iter()
                .filter(|(_, h)| {
                    h.author != *peer
                        && knows.knows(h.channel)
                        && shares_header(m, m.own_state(), ps, h)
                })
                .map(|(head, _)| head.clone())
                .collect();
            for heads in FeedHead::chunks(heads) {
                out.push(Action::Send {
                    peer: *peer,
                    request: Request::Announce { heads },
                });
            }
        }
        self.settle(cx, &mut out);
        out
    }

    /// The answer to a request this node sent to `peer` (`request` is that request).
    pub fn on_response(
        &mut self,
        peer: PublicKey,
        request: &Request,
        response: Response,
        cx: &Context<'_>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        match (request, response) {
            (
                Request::Digest {
                    reconcile: Some(_), ..
                }
                | Request::Reconcile { .. },
                Response::Reconcile { message },
            ) => self.reconciled(peer, &message, cx, &mut out),
            (Request::Digest { .. } | Request::Heads, Response::InSync) => {
                self.speaks_version_1(&peer, request);
                self.round_answered(&peer, false)
            }
            (Request::Digest { .. } | Request::Heads, Response::Heads { heads }) => {
                self.speaks_version_1(&peer, request);
                self.round_answered(&peer, false);
                self.consider_all(peer, heads, cx);
            }
            (Request::HeadsOf { feeds }, Response::Heads { heads }) => {
                self.round_answered(&peer, false);
                if heads.iter().any(|h| feeds.binary_search(&h.feed).is_err()) {
                    // Heads of feeds not asked for: nothing of the answer is taken.
                    self.round_answered(&peer, true);
                    self.offence(peer, cx.now_ms, &mut out);
                } else {
                    self.consider_all(peer, heads, cx);
                }
            }
            (
                Request::Digest { .. }
                | Request::Heads
                | Request::Reconcile { .. }
                | Request::HeadsOf { .. },
                Response::Denied { .. },
            ) => self.forget(&peer, request),
            (Request::Fetch { feed, from_seq, .. }, Response::Records { records, more }) => {
                // A page of a fetch that has ended since (an earlier page was refused)
                // would only be refused as a gap: it is dropped.
                let awaited = self
                    .sessions
                    .peers
                    .get(&peer)
                    .is_some_and(|s| s.awaits(feed, *from_seq));
                if awaited && records.is_empty() {
                    self.sessions.finish_fetch(&peer, feed);
                } else if awaited {
                    let n = records.len() as u64;
                    let next = self.sessions.page_received(peer, *feed, *from_seq, n, more);
                    // The next page is asked for while the node stores this one.
                    out.push(Action::Store {
                        peer,
                        feed: *feed,
                        records,
                    });
                    if let Some(from_seq) = next {
                        out.push(Action::Send {
                            peer,
                            request: self.fetch(*feed, from_seq),
                        });
                    }
                }
            }
            (Request::Fetch { feed, .. }, Response::Denied { .. }) => {
                self.sessions.finish_fetch(&peer, feed);
                self.round_broken(&peer);
            }
            (
                Request::Push { .. } | Request::Announce { .. },
                Response::Ack { .. } | Response::Denied { .. },
            ) => {}
            (request, _) => {
                self.forget(&peer, request);
                self.offence(peer, cx.now_ms, &mut out);
            }
        }
        self.settle(cx, &mut out);
        out
    }

    /// A request this node sent to `peer` failed (timeout, connection closed, bad
    /// response bytes); `request` is that request.
    pub fn on_failure(
        &mut self,
        peer: PublicKey,
        request: &Request,
        cx: &Context<'_>,
    ) -> Vec<Action> {
        self.forget(&peer, request);
        let mut out = Vec::new();
        self.settle(cx, &mut out);
        out
    }

    /// Counts an offence found here (an answer that does not fit the question, records
    /// pushed by a non-partner).
    fn offence(&mut self, peer: PublicKey, now_ms: u64, out: &mut Vec<Action>) {
        if let Verdict::Disconnect { until_ms } = self.offences.record(peer, now_ms) {
            out.push(Action::Disconnect { peer, until_ms });
        }
    }

    /// Drops what was waiting on `request` to `peer`; its round ends without `Synced`.
    fn forget(&mut self, peer: &PublicKey, request: &Request) {
        match request {
            Request::Digest { .. } | Request::Reconcile { .. } => {
                if let Some(s) = self.sessions.peers.get_mut(peer) {
                    s.reconciling = None;
                }
                self.round_answered(peer, true)
            }
            Request::Heads | Request::HeadsOf { .. } => self.round_answered(peer, true),
            Request::Fetch { feed, .. } => {
                self.sessions.finish_fetch(peer, feed);
                self.round_broken(peer);
            }
            Request::Push { .. } | Request::Announce { .. } => {}
        }
    }

    fn fetch(&self, feed: FeedId, from_seq: u64) -> Request {
        Request::Fetch {
            feed,
            from_seq,
            max_records: self.config.page_records,
            max_bytes: self.config.page_bytes,
        }
    }

    /// Sends `peer` the digest of the feeds shared with it, with the opening of their
    /// reconciliation unless it speaks only version 1 (and without the digest once it is
    /// known to speak version 2).
    fn start_round(&mut self, peer: PublicKey, cx: &Context<'_>, out: &mut Vec<Action>) {
        let m = cx.membership;
        if self.offences.is_banned(&peer, cx.now_ms) {
            return;
        }
        let Some(ps) = key_state(m, &peer) else {
            return;
        };
        let heads = self.shared_heads(m, &peer, ps);
        let s = self.sessions.open(peer);
        s.last_round_ms = Some(cx.now_ms);
        s.round = Some(Round {
            started_ms: cx.now_ms,
            awaiting: 1,
            messages: 1,
            broken: false,
        });
        let items = || heads.iter().map(|h| (h.feed, h.seq));
        let (digest, feeds) = match s.version {
            Version::Two => (None, 0),
            Version::One | Version::Unknown => (
                Some(digest(items())),
                u32::try_from(heads.len()).unwrap_or(u32::MAX),
            ),
        };
        s.reconciling = (s.version != Version::One).then(|| Reconciler::new(items()));
        let reconcile = s.reconciling.as_mut().map(|r| r.initiate(cx.salt));
        // A digest even of no feeds: it tells the peer which channels this node knows
        // (a node that predates channels sent `Heads` instead, which every node still
        // answers).
        let request = Request::Digest {
            digest,
            feeds,
            channels: Channels::KNOWN,
            reconcile,
        };
        out.push(Action::Send { peer, request });
    }

    /// The heads of the feeds held that this node may mention to `peer` (of state `ps`):
    /// shared with it ([`shared_heads`]), and of a channel it said it knows.
    fn shared_heads(
        &self,
        m: &crate::Membership,
        peer: &PublicKey,
        ps: StateCode,
    ) -> Vec<FeedHead> {
        let knows = self.sessions.channels(peer);
        let mut heads = shared_heads(m, m.own_state(), ps, self.held.all());
        heads.retain(|h| knows.knows(h.channel));
        heads
    }

    fn round_mut(&mut self, peer: &PublicKey) -> Option<&mut Round> {
        self.sessions
            .peers
            .get_mut(peer)
            .and_then(|s| s.round.as_mut())
    }

    /// A request of the round (digest, heads, reconciliation, heads of feeds) was
    /// answered, or failed (`broken`).
    fn round_answered(&mut self, peer: &PublicKey, broken: bool) {
        if let Some(r) = self.round_mut(peer) {
            r.awaiting = r.awaiting.saturating_sub(1);
            r.broken |= broken;
        }
    }

    /// A fetch from `peer` failed or was denied: its round, if any, ends without `Synced`.
    fn round_broken(&mut self, peer: &PublicKey) {
        if let Some(r) = self.round_mut(peer) {
            r.broken = true;
        }
    }

    /// `peer` (of state `ps`) holds `h`: note it if this node is behind and may take the
    /// feed from that peer ([`may_take`], which looks only at what the head names, so that
    /// a feed held but not shared with the peer and a feed not held look the same to it).
    /// With no roster yet, only the roster's feed is taken.
    fn consider(&mut self, peer: PublicKey, ps: StateCode, h: FeedHead, cx: &Context<'_>) {
        let m = cx.membership;
        if m.roster().is_none() && h.feed != m.roster_feed() {
            self.sessions.open(peer).rerun = true;
            return;
        }
        if may_take(m, m.own_state(), ps, &h) && h.seq > self.held.seq(&h.feed) {
            let s = self.sessions.open(peer);
            if !s.want(h) {
                s.rerun = true;
            }
        }
    }

    /// [`Replicator::consider`] for each of `heads` (at most [`MAX_HEADS`]), if `peer`
    /// still has a session.
    fn consider_all(&mut self, peer: PublicKey, heads: Vec<FeedHead>, cx: &Context<'_>) {
        if let Some(ps) = key_state(cx.membership, &peer)
            && self.sessions.peers.contains_key(&peer)
        {
            for h in heads.into_iter().take(MAX_HEADS) {
                self.consider(peer, ps, h, cx);
            }
        }
    }

    /// Starts the fetches that may start, and ends the rounds that are over (a round with
    /// records still being stored ends in `on_stored`).
    fn settle(&mut self, cx: &Context<'_>, out: &mut Vec<Action>) {
        let (page_records, page_bytes) = (self.config.page_records, self.config.page_bytes);
        let fetch = |feed, from_seq| Request::Fetch {
            feed,
            from_seq,
            max_records: page_records,
            max_bytes: page_bytes,
        };
        let (held, m) = (&self.held, cx.membership);
        // Consents may have changed since a want was noted: check again before asking.
        let may = |peer: &PublicKey, h: &FeedHead| {
            key_state(m, peer).is_some_and(|ps| may_take(m, m.own_state(), ps, h))
        };
        self.sessions.pump(|feed| held.seq(feed), may, fetch, out);
        let mut again = Vec::new();
        for (peer, s) in self.sessions.peers.iter_mut() {
            let Some(round) = s.round else { continue };
            if round.awaiting > 0 || !s.idle() {
                continue;
            }
            s.round = None;
            let rerun = std::mem::take(&mut s.rerun);
            if rerun && cx.membership.roster().is_some() {
                again.push(*peer);
            } else if !rerun && !round.broken {
                out.push(Action::Synced { peer: *peer });
            }
        }
        for peer in again {
            self.start_round(peer, cx, out);
        }
    }
}
