//! What a simulated node was told: every feed a message names, and the check that no node
//! was ever told of a feed whose audience it is not in — by id, or by the handle a
//! reconciliation gives it.

use std::collections::BTreeMap;

use super::{Msg, Sim};
use crate::{
    FeedId, Record,
    sync::{
        Request, Response,
        reconcile::{self, Mode, Salt},
    },
    testkit::st,
};

/// The feeds a reconciliation message names in full.
fn named(m: &reconcile::Message) -> Vec<FeedId> {
    m.ranges
        .iter()
        .filter_map(|r| match &r.mode {
            Mode::Answer(a) => Some(a.items.iter().map(|(f, _)| *f)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The reconciliation message `msg` carries, if any.
fn reconciliation(msg: &Msg) -> Option<&reconcile::Message> {
    match msg {
        Msg::Request(Request::Digest {
            reconcile: Some(m), ..
        })
        | Msg::Request(Request::Reconcile { message: m })
        | Msg::Response(Response::Reconcile { message: m }) => Some(m),
        _ => None,
    }
}

impl Sim {
    /// Every feed id mentioned in a message, with the records carried.
    pub(in crate::sync) fn mentioned(msg: &Msg) -> (Vec<FeedId>, Vec<Record>) {
        let decode = |rs: &Vec<Vec<u8>>| -> Vec<Record> {
            rs.iter()
                .map(|b| Record::decode(b).expect("a record"))
                .collect()
        };
        if let Some(m) = reconciliation(msg) {
            return (named(m), vec![]);
        }
        match msg {
            Msg::Request(Request::Announce { heads })
            | Msg::Response(Response::Heads { heads }) => {
                (heads.iter().map(|h| h.feed).collect(), vec![])
            }
            Msg::Request(Request::Fetch { feed, .. }) => (vec![*feed], vec![]),
            Msg::Request(Request::HeadsOf { feeds }) => (feeds.clone(), vec![]),
            Msg::Request(Request::Push { records })
            | Msg::Response(Response::Records { records, .. }) => {
                let rs = decode(records);
                (rs.iter().map(|r| r.header.feed).collect(), rs)
            }
            _ => (vec![], vec![]),
        }
    }

    /// No node was ever told about a feed whose audience it is not in: not by its id, and
    /// not by its handle in a reconciliation (with the salt of that exchange).
    pub(in crate::sync) fn assert_no_leaks(&self) {
        // The salt of the exchange going on between two nodes, by (opener, other).
        let mut salts: BTreeMap<(&str, &str), Salt> = BTreeMap::new();
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
            let Some(m) = reconciliation(&s.msg) else {
                continue;
            };
            let exchange = match &s.msg {
                Msg::Request(_) => (s.from, s.to),
                Msg::Response(_) => (s.to, s.from),
            };
            if let Some(salt) = m.salt {
                salts.insert(exchange, salt);
            }
            let salt = salts.get(&exchange).expect("an opened exchange");
            let unshared: BTreeMap<_, _> = self
                .audiences
                .iter()
                .filter(|(_, a)| !a.contains(to))
                .map(|(f, a)| (reconcile::handle(salt, f), a))
                .collect();
            for r in &m.ranges {
                if let Mode::Handles(list) = &r.mode {
                    for (h, _) in list {
                        assert!(
                            !unshared.contains_key(h),
                            "{} gave {} the handle of a feed for {:?}",
                            s.from,
                            s.to,
                            unshared[h]
                        );
                    }
                }
            }
        }
    }
}
