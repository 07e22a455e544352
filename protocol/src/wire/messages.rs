//! Conversions between the replication messages of `tipx/v1/sync.proto` and
//! [`crate::sync::Request`] / [`crate::sync::Response`]. Record bytes pass through as they
//! are: a record is decoded (and validated) by the node, never here.

use prost::Message;
use tipx_proto::v1 as pb;

use crate::{
    Audience, Channel, Channels, FeedId, PublicKey,
    sync::{
        DecodeError, FeedHead, MAX_HEADS, MAX_MESSAGE_BYTES, MAX_RECORDS_PER_MESSAGE, Request,
        Response, reconcile,
    },
};

fn check_size(bytes: &[u8]) -> Result<(), DecodeError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    Ok(())
}

fn feed(b: &[u8], what: &'static str) -> Result<FeedId, DecodeError> {
    FeedId::from_slice(b).ok_or(DecodeError::BadLength { what, len: b.len() })
}

fn at_most<T>(v: Vec<T>, max: usize, what: &'static str) -> Result<Vec<T>, DecodeError> {
    if v.len() > max {
        return Err(DecodeError::TooMany {
            what,
            len: v.len(),
            max,
        });
    }
    Ok(v)
}

fn heads_to_pb(heads: &[FeedHead]) -> Vec<pb::FeedHead> {
    heads
        .iter()
        .map(|h| pb::FeedHead {
            feed: h.feed.0.to_vec(),
            seq: h.seq,
            author: h.author.as_bytes().to_vec(),
            audience: h.audience.codes(),
            channel: h.channel.wire().to_string(),
        })
        .collect()
}

fn heads_from_pb(
    heads: Vec<pb::FeedHead>,
    what: &'static str,
) -> Result<Vec<FeedHead>, DecodeError> {
    at_most(heads, MAX_HEADS, what)?
        .into_iter()
        .map(|h| {
            let bad = |why: String| DecodeError::BadHead { what, why };
            let head = FeedHead {
                feed: feed(&h.feed, what)?,
                seq: h.seq,
                author: PublicKey::from_bytes(&h.author)
                    .map_err(|e| bad(format!("names no author key: {e}")))?,
                audience: Audience::from_wire(&h.audience)
                    .map_err(|e| bad(format!("names no audience: {e}")))?,
                channel: Channel::from_wire(&h.channel)
                    .ok_or_else(|| bad("names a channel this node does not know".into()))?,
            };
            if !head.is_consistent() {
                return Err(bad(
                    "whose feed id is not sha256(author ‖ audience ‖ channel)".into(),
                ));
            }
            Ok(head)
        })
        .collect()
}

/// Encodes a request as a `SyncRequest`.
pub(crate) fn encode_request(r: &Request) -> Vec<u8> {
    use pb::sync_request::Msg;
    let msg = match r {
        Request::Push { records } => Msg::Push(pb::Push {
            records: records.clone(),
        }),
        Request::Announce { heads } => Msg::Announce(pb::Announce {
            heads: heads_to_pb(heads),
        }),
        Request::Digest {
            digest,
            feeds,
            channels,
            reconcile,
        } => Msg::Digest(pb::Digest {
            digest: digest.map(|d| d.to_vec()).unwrap_or_default(),
            feeds: *feeds,
            channels: channels.0,
            reconcile: reconcile.as_ref().map(|m| m.encode()).unwrap_or_default(),
        }),
        Request::Heads => Msg::Heads(pb::Heads {}),
        Request::Reconcile { message } => Msg::Reconcile(pb::Reconcile {
            message: message.encode(),
        }),
        Request::HeadsOf { feeds } => Msg::HeadsOf(pb::HeadsOf {
            feeds: feeds.iter().map(|f| f.0.to_vec()).collect(),
        }),
        Request::Fetch {
            feed,
            from_seq,
            max_records,
            max_bytes,
        } => Msg::Fetch(pb::Fetch {
            feed: feed.0.to_vec(),
            from_seq: *from_seq,
            max_records: *max_records,
            max_bytes: *max_bytes,
        }),
    };
    pb::SyncRequest { msg: Some(msg) }.encode_to_vec()
}

/// Decodes a `SyncRequest`.
pub(crate) fn decode_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    use pb::sync_request::Msg;
    check_size(bytes)?;
    let m = pb::SyncRequest::decode(bytes)?;
    Ok(match m.msg.ok_or(DecodeError::Empty)? {
        Msg::Push(p) => Request::Push {
            records: at_most(p.records, MAX_RECORDS_PER_MESSAGE, "push.records")?,
        },
        Msg::Announce(a) => Request::Announce {
            heads: heads_from_pb(a.heads, "announce.heads")?,
        },
        Msg::Digest(d) => {
            let reconcile = (!d.reconcile.is_empty())
                .then(|| reconcile::Message::decode(&d.reconcile))
                .transpose()?;
            // An empty digest only beside a reconciliation, which says what it would.
            let digest = if d.digest.is_empty() && reconcile.is_some() {
                None
            } else {
                Some(
                    d.digest
                        .as_slice()
                        .try_into()
                        .map_err(|_| DecodeError::BadLength {
                            what: "digest.digest",
                            len: d.digest.len(),
                        })?,
                )
            };
            Request::Digest {
                digest,
                feeds: d.feeds,
                channels: Channels(d.channels),
                reconcile,
            }
        }
        Msg::Heads(pb::Heads {}) => Request::Heads,
        Msg::Reconcile(r) => Request::Reconcile {
            message: reconcile::Message::decode(&r.message)?,
        },
        Msg::HeadsOf(h) => Request::HeadsOf {
            feeds: at_most(h.feeds, MAX_HEADS, "heads_of.feeds")?
                .iter()
                .map(|f| feed(f, "heads_of.feeds"))
                .collect::<Result<_, _>>()?,
        },
        Msg::Fetch(f) => Request::Fetch {
            feed: feed(&f.feed, "fetch.feed")?,
            from_seq: f.from_seq,
            max_records: f.max_records,
            max_bytes: f.max_bytes,
        },
    })
}

/// Encodes a response as a `SyncResponse`.
pub(crate) fn encode_response(r: &Response) -> Vec<u8> {
    use pb::sync_response::Msg;
    let msg = match r {
        Response::Ack { stored, refused } => Msg::Ack(pb::Ack {
            stored: *stored,
            refused: *refused,
        }),
        Response::Denied { reason } => Msg::Denied(pb::Denied {
            reason: reason.clone(),
        }),
        Response::InSync => Msg::InSync(pb::InSync {}),
        Response::Heads { heads } => Msg::Heads(pb::HeadList {
            heads: heads_to_pb(heads),
        }),
        Response::Records { records, more } => Msg::Records(pb::Records {
            records: records.clone(),
            more: *more,
        }),
        Response::Reconcile { message } => Msg::Reconcile(pb::Reconcile {
            message: message.encode(),
        }),
    };
    pb::SyncResponse { msg: Some(msg) }.encode_to_vec()
}

/// Decodes a `SyncResponse`.
pub(crate) fn decode_response(bytes: &[u8]) -> Result<Response, DecodeError> {
    use pb::sync_response::Msg;
    check_size(bytes)?;
    let m = pb::SyncResponse::decode(bytes)?;
    Ok(match m.msg.ok_or(DecodeError::Empty)? {
        Msg::Ack(a) => Response::Ack {
            stored: a.stored,
            refused: a.refused,
        },
        Msg::Denied(d) => Response::Denied { reason: d.reason },
        Msg::InSync(pb::InSync {}) => Response::InSync,
        Msg::Heads(h) => Response::Heads {
            heads: heads_from_pb(h.heads, "heads.heads")?,
        },
        Msg::Records(r) => Response::Records {
            records: at_most(r.records, MAX_RECORDS_PER_MESSAGE, "records.records")?,
            more: r.more,
        },
        Msg::Reconcile(r) => Response::Reconcile {
            message: reconcile::Message::decode(&r.message)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use crate::{
        Audience, Channel, Channels, FeedId,
        sync::{
            DecodeError, FeedHead, MAX_MESSAGE_BYTES, MAX_RECORDS_PER_MESSAGE, Request, Response,
            reconcile,
        },
        testkit::{key_of, st},
    };

    /// `Digest` as a node of version 1 knows it.
    #[derive(Clone, PartialEq, prost::Message)]
    struct DigestV1 {
        #[prost(bytes = "vec", tag = "1")]
        digest: Vec<u8>,
        #[prost(uint32, tag = "2")]
        feeds: u32,
        #[prost(uint32, tag = "3")]
        channels: u32,
    }

    #[test]
    fn a_node_of_version_1_reads_a_digest_that_opens_a_reconciliation_as_a_plain_digest() {
        let opening = reconcile::Reconciler::new([(FeedId([3; 32]), 4)]).initiate([7; 16]);
        let bytes = Request::Digest {
            digest: Some([5; 32]),
            feeds: 1,
            channels: Channels::KNOWN,
            reconcile: Some(opening),
        }
        .encode();
        // SyncRequest field 3 (Digest): tag byte, length, then the Digest itself.
        assert_eq!(bytes[0], 0x1a);
        let old = <DigestV1 as prost::Message>::decode(&bytes[2..]).expect("decodes");
        assert_eq!(old.digest, vec![5; 32]);
        assert_eq!((old.feeds, old.channels), (1, Channels::KNOWN.0));
    }

    #[test]
    fn every_message_survives_the_wire_and_oversized_or_malformed_bytes_do_not_decode() {
        let (author, audience) = (key_of("MX").public(), Audience::Federation);
        let head = FeedHead {
            feed: FeedId::of(&author, &audience, Channel::Main),
            seq: 9,
            author,
            audience,
            channel: Channel::Main,
        };
        let opening = reconcile::Reconciler::new([(head.feed, 9)]).initiate([7; 16]);
        let requests = [
            Request::Push {
                records: vec![vec![1, 2], vec![3]],
            },
            Request::Announce {
                heads: vec![head.clone()],
            },
            Request::Digest {
                digest: Some([5; 32]),
                feeds: 2,
                channels: Channels::KNOWN,
                reconcile: None,
            },
            Request::Digest {
                digest: Some([5; 32]),
                feeds: 2,
                channels: Channels::KNOWN,
                reconcile: Some(opening.clone()),
            },
            Request::Digest {
                digest: None,
                feeds: 0,
                channels: Channels::KNOWN,
                reconcile: Some(opening.clone()),
            },
            Request::Heads,
            Request::Reconcile {
                message: reconcile::Message::default(),
            },
            Request::HeadsOf {
                feeds: vec![head.feed],
            },
            Request::Fetch {
                feed: head.feed,
                from_seq: 4,
                max_records: 8,
                max_bytes: 16,
            },
        ];
        for r in requests {
            assert_eq!(Request::decode(&r.encode()), Ok(r));
        }
        let responses = [
            Response::ack(3, 1),
            Response::denied("no"),
            Response::InSync,
            Response::Heads {
                heads: vec![head.clone()],
            },
            Response::Records {
                records: vec![vec![9; 40]],
                more: true,
            },
            Response::Reconcile {
                message: opening.clone(),
            },
        ];
        for r in responses {
            assert_eq!(Response::decode(&r.encode()), Ok(r));
        }
        assert_eq!(Request::decode(&[]), Err(DecodeError::Empty));
        assert!(matches!(
            Request::decode(&vec![0; MAX_MESSAGE_BYTES + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
        assert!(matches!(
            Request::decode(&[0xff, 0xff, 0xff]),
            Err(DecodeError::Protobuf(_))
        ));
        // A fetch whose feed is 3 bytes: field 1 of Fetch (field 5 of SyncRequest).
        let short_feed = [0x2a, 0x05, 0x0a, 0x03, 1, 2, 3];
        assert_eq!(
            Request::decode(&short_feed),
            Err(DecodeError::BadLength {
                what: "fetch.feed",
                len: 3
            })
        );
        let too_many = Response::Records {
            records: vec![vec![]; MAX_RECORDS_PER_MESSAGE + 1],
            more: false,
        };
        assert!(matches!(
            Response::decode(&too_many.encode()),
            Err(DecodeError::TooMany { .. })
        ));
    }

    #[test]
    fn a_head_naming_another_feeds_author_or_audience_does_not_decode() {
        let author = key_of("MX").public();
        let shared = Audience::states([st("MX"), st("PE")]);
        let other = Audience::states([st("CO"), st("MX")]);
        let lie = FeedHead {
            feed: FeedId::of(&author, &other, Channel::Main),
            seq: 3,
            author,
            audience: shared,
            channel: Channel::Main,
        };
        assert!(matches!(
            Request::decode(&Request::Announce { heads: vec![lie] }.encode()),
            Err(DecodeError::BadHead { .. })
        ));
    }

    #[test]
    fn heads_with_the_largest_audiences_are_split_into_messages_that_decode() {
        // Every two-letter code: the largest audience a header can name.
        let letters = || (b'A'..=b'Z').map(char::from);
        let all: Vec<_> = letters()
            .flat_map(|a| letters().map(move |b| st(&format!("{a}{b}"))))
            .collect();
        let heads: Vec<FeedHead> = (0..1_500u32)
            .map(|i| {
                let author = key_of(&format!("K{i}")).public();
                let audience = Audience::states(all.iter().copied());
                FeedHead {
                    feed: FeedId::of(&author, &audience, Channel::Main),
                    seq: u64::from(i),
                    author,
                    audience,
                    channel: Channel::Main,
                }
            })
            .collect();
        let chunks = FeedHead::chunks(heads.clone());
        assert!(chunks.len() > 1);
        assert_eq!(chunks.concat(), heads);
        for heads in chunks {
            let bytes = Response::Heads { heads }.encode();
            assert!(bytes.len() <= MAX_MESSAGE_BYTES, "{} bytes", bytes.len());
            assert!(Response::decode(&bytes).is_ok());
        }
    }
}
