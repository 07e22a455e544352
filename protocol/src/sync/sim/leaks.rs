//! What a simulated node was told: every feed a message names, and the check that no node
//! was ever told of a feed whose audience it is not in.

use super::{Msg, Sim};
use crate::{
    FeedId, Record,
    sync::{Request, Response},
    testkit::st,
};

impl Sim {
    /// Every feed id mentioned in a message, with the records carried.
    pub(in crate::sync) fn mentioned(msg: &Msg) -> (Vec<FeedId>, Vec<Record>) {
        let decode = |rs: &Vec<Vec<u8>>| -> Vec<Record> {
            rs.iter()
                .map(|b| Record::decode(b).expect("a record"))
                .collect()
        };
        match msg {
            Msg::Request(Request::Announce { heads })
            | Msg::Response(Response::Heads { heads }) => {
                (heads.iter().map(|h| h.feed).collect(), vec![])
            }
            Msg::Request(Request::Fetch { feed, .. }) => (vec![*feed], vec![]),
            Msg::Request(Request::Push { records })
            | Msg::Response(Response::Records { records, .. }) => {
                let rs = decode(records);
                (rs.iter().map(|r| r.header.feed).collect(), rs)
            }
            _ => (vec![], vec![]),
        }
    }

    /// No node was ever told about a feed whose audience it is not in.
    pub(in crate::sync) fn assert_no_leaks(&self) {
        for s in &self.traffic {
            let to = st(s.to);
            let (feeds, _) = Self::mentioned(&s.msg);
            for f in feeds {
                let audience = self.audiences.get(&f).expect("a published feed");
                assert!(
                    audience.contains(to),
                    "{} told {} about a feed for {audience:?}: {:?}",
                    s.from,
                    s.to,
                    s.msg
                );
            }
        }
    }
}
