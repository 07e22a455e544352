//! Replication (DESIGN.md §6): which feeds a node may mention or send to a peer, and the
//! sans-I/O state machine that decides what to send over `/tipx/sync/1` (versions 1 and 2
//! of its messages).
//!
//! Two ways records move, both one request and one response:
//!
//! * **Push**: on publish the author sends new records to every connected peer that
//!   [`shares`] the feed; a node that stores something new [announces](Request::Announce)
//!   its new heads to its other peers that share the feed, and those that are behind
//!   [fetch](Request::Fetch) the rest from it.
//! * **Pull** (anti-entropy): on connecting and at an interval, a node sends a
//!   [`Digest`](Request::Digest) of the feeds it shares with the peer; an equal digest is
//!   answered [`InSync`](Response::InSync) (a few dozen bytes each way), another with the
//!   peer's [`Heads`](Response::Heads), and the node fetches what it lacks in pages bounded
//!   by count and bytes.
//!
//! The privacy rule, [`shares`], is checked on the sending side of every message: a node
//! never mentions a feed to, and never sends a record to, a peer outside the feed's audience
//! or outside mutual consent. Receiving is checked again by [`crate::validate`].
//!
//! **Version 2** opens a [`reconcile`] exchange in the digest: a set reconciliation of the
//! shared heads whose cost grows with the difference rather than with the number of feeds,
//! and which leaves no feed out. A peer of version 1 skips the opening and answers the
//! digest; the replicator remembers which version each peer speaks and sends the messages
//! of version 2 only to a peer that has answered one (PROTOCOL.md §8.2).
//!
//! [`Replicator`] holds the per-peer state and the head of every feed the node holds; the
//! node feeds it events (connected, timer, published, request, response, stored) with a
//! [`Context`] (membership, the clock) and carries out the [`Action`]s it returns. Nothing
//! here touches a socket, a store or a clock.

mod offences;
pub mod reconcile;
mod replicator;
mod rules;
mod session;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

pub use offences::{COOL_OFF_MS, OFFENCE_LIMIT, OFFENCE_WINDOW_MS, Offences, Verdict};
pub use replicator::Replicator;
pub use rules::{DIGEST_DOMAIN, digest, key_state, may_take, shared_heads, shares, shares_header};

use crate::{Audience, Channel, Channels, FeedId, Membership, PublicKey, wire};

/// The request-response protocol name.
pub const PROTOCOL: &str = "/tipx/sync/1";

/// Largest encoded request or response, in bytes: a page of records (at most
/// [`MAX_PAGE_BYTES`], or one record larger than the page limit) plus its framing. A codec
/// reads the length prefix and refuses anything larger before allocating.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Records in a page unless configured otherwise: a backlog moves in few round trips while
/// a page stays small (`exchange.page_max_records`).
pub const DEFAULT_PAGE_RECORDS: u32 = 256;

/// Bytes of records in a page unless configured otherwise: four records of the largest
/// default size fit, and one response never holds more than this in memory
/// (`exchange.page_max_bytes`).
pub const DEFAULT_PAGE_BYTES: u32 = 1024 * 1024;

/// Most records in one `Push` or `Records`: a responder serves at most this many whatever
/// a `Fetch` asks, and a message with more does not decode.
pub const MAX_RECORDS_PER_MESSAGE: usize = 1024;

/// Most bytes of records a responder puts in one page whatever a `Fetch` asks: leaves a
/// quarter of [`MAX_MESSAGE_BYTES`] for framing (a few bytes per record) and for a page's
/// one record that may exceed the limit.
pub const MAX_PAGE_BYTES: u32 = 3 * 1024 * 1024;

/// Most feed heads in one `Announce` or `HeadList` (about 100 bytes each with the author
/// and a few audience codes): a federation of a few dozen states holds a few hundred feeds.
/// A responder that shares more lists the first ones by feed id; the rest still move by
/// push and announce.
pub const MAX_HEADS: usize = 16 * 1024;

/// Most bytes of heads in one `Announce` or `HeadList`, whatever their audiences' sizes, so
/// that the message stays under [`MAX_MESSAGE_BYTES`].
pub const MAX_HEADS_BYTES: usize = 3 * 1024 * 1024;

/// Most fetches in flight to one peer at a time; further feeds wait their turn.
pub const MAX_FETCHES_PER_PEER: usize = 4;

/// A round still open after this long (in ms) is abandoned so the next one can start: a
/// lost `on_failure` or `on_stored` call must not stop anti-entropy with a peer for good.
pub const MAX_ROUND_MS: u64 = 5 * 60_000;

/// How often a node runs anti-entropy with each connected peer unless configured
/// otherwise, in ms: an alert reaches partners within a minute even if a push was lost
/// (`exchange.sync_interval_secs`).
pub const DEFAULT_INTERVAL_MS: u64 = 60_000;

/// One feed and the highest seq held of it (the feed is held from seq 1 to `seq`), with the
/// feed's author and audience: a node that does not hold the feed can still tell whether it
/// may take it from the peer that names it ([`crate::sync::may_take`]), so that what it
/// does next never depends on whether it holds a feed it does not share with that peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedHead {
    /// The feed: `FeedId::of(author, audience, channel)` for an honest peer.
    pub feed: FeedId,
    /// Its highest seq held.
    pub seq: u64,
    /// The feed's author.
    pub author: PublicKey,
    /// The feed's audience.
    pub audience: Audience,
    /// The feed's channel.
    pub channel: Channel,
}

impl FeedHead {
    /// The head of the feed of a record with header `h`, at `seq`.
    pub fn of(h: &crate::record::Header, seq: u64) -> Self {
        Self {
            feed: h.feed,
            seq,
            author: h.author,
            audience: h.audience.clone(),
            channel: h.channel,
        }
    }

    /// The head of a feed held, as the store describes it.
    pub fn held(f: &crate::store::FeedInfo) -> Self {
        Self {
            feed: f.feed,
            seq: f.head.seq,
            author: f.author,
            audience: f.audience.clone(),
            channel: f.channel,
        }
    }

    /// About the bytes it takes in a message (a little more than its protobuf encoding).
    pub fn wire_len(&self) -> usize {
        let codes: usize = self.audience.codes().iter().map(|c| c.len() + 2).sum();
        2 * (32 + 2) + 11 + codes + 4 + self.channel.wire().len() + 2
    }

    /// `heads` split into message-sized lists: at most [`MAX_HEADS`] heads and
    /// [`MAX_HEADS_BYTES`] each, in order.
    pub fn chunks(heads: Vec<FeedHead>) -> Vec<Vec<FeedHead>> {
        let mut out: Vec<Vec<FeedHead>> = Vec::new();
        let mut bytes = 0;
        for h in heads {
            let len = h.wire_len();
            match out.last_mut() {
                Some(last) if last.len() < MAX_HEADS && bytes + len <= MAX_HEADS_BYTES => {
                    bytes += len;
                    last.push(h);
                }
                _ => {
                    bytes = len;
                    out.push(vec![h]);
                }
            }
        }
        out
    }

    /// The first message-sized list of `heads` ([`FeedHead::chunks`]).
    pub fn first_chunk(heads: Vec<FeedHead>) -> Vec<FeedHead> {
        Self::chunks(heads).into_iter().next().unwrap_or_default()
    }

    /// Whether the feed id is the one its author, audience and channel give.
    pub fn is_consistent(&self) -> bool {
        self.feed == FeedId::of(&self.author, &self.audience, self.channel)
    }
}

/// What one node asks of another (`SyncRequest` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// New records of one feed, in feed order (encoded `SignedRecord`s).
    Push {
        /// The records' bytes, exactly as their author produced them.
        records: Vec<Vec<u8>>,
    },
    /// "I now hold up to these seqs": a peer that is behind fetches the rest.
    Announce {
        /// The new heads.
        heads: Vec<FeedHead>,
    },
    /// The start of anti-entropy: see [`digest`].
    Digest {
        /// The digest of the feeds the sender shares with the receiver; `None` (empty on
        /// the wire) only to a peer known to speak version 2, with `reconcile`.
        digest: Option<[u8; 32]>,
        /// How many feeds it covers.
        feeds: u32,
        /// The channels the sender knows ([`Channels::KNOWN`]): the receiver mentions a
        /// channel's feeds to it only if it knows that channel.
        channels: Channels,
        /// Version 2: the opening of a [`reconcile`] exchange over the same feeds. A node
        /// of version 1 does not see it (protobuf skips the field) and answers the digest;
        /// a node of version 2 answers [`Response::Reconcile`].
        reconcile: Option<reconcile::Message>,
    },
    /// "Send me your heads of the feeds we share."
    Heads,
    /// Version 2: the next message of the reconciliation this node opened with its last
    /// digest to the receiver (only to a peer that answered it with a
    /// [`Response::Reconcile`]).
    Reconcile {
        /// The message.
        message: reconcile::Message,
    },
    /// Version 2: "send me your heads of these feeds" — feeds a reconciliation said the
    /// receiver holds and the sender does not (only to a peer that answered a
    /// reconciliation). Answered with the [`Response::Heads`] of those it shares with the
    /// sender.
    HeadsOf {
        /// The feeds, at most [`MAX_HEADS`].
        feeds: Vec<FeedId>,
    },
    /// "Send me the records of `feed` from `from_seq` on", one page.
    Fetch {
        /// The feed.
        feed: FeedId,
        /// The first seq wanted.
        from_seq: u64,
        /// Most records wanted in the page.
        max_records: u32,
        /// Most bytes of records wanted in the page (at least one record is sent if any).
        max_bytes: u32,
    },
}

/// The answer to a [`Request`] (`SyncResponse` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A push was stored durably (or an announce was taken).
    Ack {
        /// Records newly stored.
        stored: u32,
        /// Records refused.
        refused: u32,
    },
    /// The request is refused.
    Denied {
        /// Why, for the requester's log.
        reason: String,
    },
    /// The digest equals the responder's own.
    InSync,
    /// The heads of the feeds the responder shares with the requester, sorted by feed.
    Heads {
        /// The heads.
        heads: Vec<FeedHead>,
    },
    /// A page of a feed, in feed order.
    Records {
        /// The records' bytes.
        records: Vec<Vec<u8>>,
        /// Whether the feed has records after this page.
        more: bool,
    },
    /// Version 2: the next message of a reconciliation (the answer to a digest that opened
    /// one, or to a [`Request::Reconcile`]); an empty message when the responder has
    /// nothing more to say.
    Reconcile {
        /// The message.
        message: reconcile::Message,
    },
}

/// Why bytes are not a sync message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Larger than [`MAX_MESSAGE_BYTES`].
    #[error("sync message of {len} bytes, the limit is {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not protobuf of the expected message.
    #[error("sync message does not decode: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// No variant of the `oneof` is set (or one this version does not know).
    #[error("sync message carries no known variant")]
    Empty,
    /// A feed id or digest that is not 32 bytes.
    #[error("{what}: expected 32 bytes, found {len}")]
    BadLength {
        /// Where.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A feed head whose author or audience does not decode, or whose feed id is not the
    /// one they give.
    #[error("{what}: a feed head {why}")]
    BadHead {
        /// Where.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A reconciliation message that does not decode.
    #[error("{0}")]
    Reconcile(#[from] reconcile::DecodeError),
    /// More items than a message may hold.
    #[error("{what}: {len} items, the limit is {max}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// How many.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The pace and page size of replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Between two anti-entropy rounds with a peer, in ms. Default
    /// [`DEFAULT_INTERVAL_MS`].
    pub interval_ms: u64,
    /// Most records asked for in one page. Default [`DEFAULT_PAGE_RECORDS`]; at most
    /// [`MAX_RECORDS_PER_MESSAGE`].
    pub page_records: u32,
    /// Most bytes of records asked for in one page (a page holds at least one record).
    /// Default [`DEFAULT_PAGE_BYTES`]; at most [`MAX_PAGE_BYTES`].
    pub page_bytes: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            interval_ms: DEFAULT_INTERVAL_MS,
            page_records: DEFAULT_PAGE_RECORDS,
            page_bytes: DEFAULT_PAGE_BYTES,
        }
    }
}

impl Config {
    fn clamped(self) -> Self {
        Self {
            interval_ms: self.interval_ms.max(1),
            page_records: self.page_records.clamp(1, MAX_RECORDS_PER_MESSAGE as u32),
            page_bytes: self.page_bytes.clamp(1, MAX_PAGE_BYTES),
        }
    }
}

/// What a call reads besides the replicator's own state: who this node is and who its
/// partners are, and the time. What the node holds the replicator keeps itself (the head of
/// every feed, seeded at start and kept in step by [`Replicator::on_published`] and
/// [`Replicator::on_stored`]), so no call reads the store.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Roster and consents, as the node knows them now.
    pub membership: &'a Membership,
    /// The clock, ms since the Unix epoch.
    pub now_ms: u64,
    /// 16 bytes drawn at random for this call (the node) or from a seeded generator (the
    /// simulator): the salt of a reconciliation the call opens.
    pub salt: reconcile::Salt,
}

/// Something for the node to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send `request` to `peer`; then pass the response to [`Replicator::on_response`] (or
    /// a failure to [`Replicator::on_failure`]) together with this request.
    Send {
        /// To whom.
        peer: PublicKey,
        /// What.
        request: Request,
    },
    /// A page of `feed`: validate these records as received from `peer` and store them in
    /// order, flush, then call [`Replicator::on_received`] exactly once with those newly
    /// stored and those refused — also when none was, or the store failed: later pages of
    /// the fetch and the end of a round wait for it. Pages of one feed must be stored in
    /// the order of their actions (the next page may be on its way already).
    Store {
        /// Who sent them.
        peer: PublicKey,
        /// The feed.
        feed: FeedId,
        /// Encoded records, in feed order.
        records: Vec<Vec<u8>>,
    },
    /// An anti-entropy round with `peer` is over: everything it offered was fetched and
    /// handed to [`Action::Store`]. For logs and status.
    Synced {
        /// The peer.
        peer: PublicKey,
    },
    /// `peer` offended too often: close its connections and refuse it until `until_ms`.
    Disconnect {
        /// The peer.
        peer: PublicKey,
        /// Refused until then, ms since the Unix epoch.
        until_ms: u64,
    },
}

/// The I/O a node carries out for its [`Replicator`]. The daemon, the simulator and the
/// benchmark each implement it; [`carry_out`] is the one place that turns actions into
/// calls of it.
pub trait Effects {
    /// Send `request` to `peer`; its answer goes to [`Replicator::on_response`] (or a
    /// failure to [`Replicator::on_failure`]) with the request.
    fn send(&mut self, peer: PublicKey, request: Request);
    /// Validate and store a page of `feed` from `peer`, in the order of the calls for one
    /// feed, then report to [`Replicator::on_received`] exactly once (see
    /// [`Action::Store`]).
    fn store(&mut self, peer: PublicKey, feed: FeedId, records: Vec<Vec<u8>>);
    /// An anti-entropy round with `peer` is over (for status).
    fn synced(&mut self, peer: PublicKey);
    /// Close `peer`'s connections and refuse it until `until_ms`.
    fn disconnect(&mut self, peer: PublicKey, until_ms: u64);
}

/// Carries out `actions` in order through `effects`.
pub fn carry_out(actions: impl IntoIterator<Item = Action>, effects: &mut impl Effects) {
    for a in actions {
        match a {
            Action::Send { peer, request } => effects.send(peer, request),
            Action::Store {
                peer,
                feed,
                records,
            } => effects.store(peer, feed, records),
            Action::Synced { peer } => effects.synced(peer),
            Action::Disconnect { peer, until_ms } => effects.disconnect(peer, until_ms),
        }
    }
}

/// How to answer a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send this response now.
    Respond(Response),
    /// A fetch of a feed shared with the requester: read the page from the store and answer
    /// with [`Page::respond`].
    Serve(Page),
    /// A push: validate and store these records as for [`Action::Store`], flush, answer
    /// [`Response::ack`] with the counts (durable before acknowledged), then call
    /// [`Replicator::on_received`] exactly once, as for [`Action::Store`].
    StoreThenAck {
        /// Encoded records, in feed order.
        records: Vec<Vec<u8>>,
    },
}

/// A page of one feed to serve: the records from `from_seq`, at most `max_records` of them
/// and about `max_bytes` (at least one if any), of a feed held up to `head_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The feed.
    pub feed: FeedId,
    /// The first seq.
    pub from_seq: u64,
    /// Most records.
    pub max_records: usize,
    /// Most bytes of records (a page holds at least one record).
    pub max_bytes: usize,
    /// The feed's head when the request was answered.
    pub head_seq: u64,
}

impl Page {
    /// The answer, from what the store holds of the feed from `from_seq` on (in feed
    /// order, e.g. `Store::feed_range`): the contiguous records that fit, and whether the
    /// feed goes on after them.
    pub fn respond(&self, held: impl IntoIterator<Item = crate::Record>) -> Response {
        let mut next = self.from_seq;
        let mut records = Vec::new();
        let mut bytes = 0;
        if next <= self.head_seq {
            for r in held {
                bytes += r.encoded_len();
                let full = records.len() >= self.max_records
                    || (!records.is_empty() && bytes > self.max_bytes);
                if full || r.header.seq != next {
                    break;
                }
                records.push(r.encode());
                next += 1;
            }
        }
        Response::Records {
            records,
            more: next <= self.head_seq,
        }
    }
}

/// The outcome of [`Replicator::handle_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// How to answer.
    pub reply: Reply,
    /// What else to do (fetches from the requester; a disconnect), in any order with the
    /// reply.
    pub actions: Vec<Action>,
}

impl Request {
    /// The wire bytes (`SyncRequest`).
    pub fn encode(&self) -> Vec<u8> {
        wire::messages::encode_request(self)
    }

    /// Parses wire bytes, enforcing the size limits.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        wire::messages::decode_request(bytes)
    }

    /// Whether wire bytes start as a `Push` does (field 1 of `SyncRequest`, as this
    /// crate encodes it): lets a busy node refuse a push without decoding its records.
    /// Bytes that are not a push may say yes; they are refused as busy all the same.
    pub fn looks_like_push(bytes: &[u8]) -> bool {
        bytes.first() == Some(&0x0a)
    }

    /// A short name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Push { .. } => "push",
            Self::Announce { .. } => "announce",
            Self::Digest { .. } => "digest",
            Self::Heads => "heads",
            Self::Fetch { .. } => "fetch",
            Self::Reconcile { .. } => "reconcile",
            Self::HeadsOf { .. } => "heads-of",
        }
    }
}

impl Response {
    /// The wire bytes (`SyncResponse`).
    pub fn encode(&self) -> Vec<u8> {
        wire::messages::encode_response(self)
    }

    /// Parses wire bytes, enforcing the size limits.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        wire::messages::decode_response(bytes)
    }

    /// A short name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ack { .. } => "ack",
            Self::Denied { .. } => "denied",
            Self::InSync => "in-sync",
            Self::Heads { .. } => "heads",
            Self::Records { .. } => "records",
            Self::Reconcile { .. } => "reconcile",
        }
    }

    /// The answer to a push once its records are stored and flushed.
    pub fn ack(stored: usize, refused: usize) -> Self {
        Self::Ack {
            stored: u32::try_from(stored).unwrap_or(u32::MAX),
            refused: u32::try_from(refused).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn denied(reason: &str) -> Self {
        Self::Denied {
            reason: reason.to_string(),
        }
    }
}
