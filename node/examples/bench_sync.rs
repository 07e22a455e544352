//! Replication benchmark over the real sync state machine, wire encoding, validation and
//! sled store (no sockets: the two sides are driven in one thread, so the figures are the
//! node's own work, without libp2p).
//!
//! Prints:
//! - bytes each way and CPU time of a no-op anti-entropy round between two nodes that hold
//!   the same N records;
//! - catch-up: an empty node fetching N records (~1 KiB bodies) from one peer, in records/s,
//!   beside the single-core ed25519 batch-verification rate measured in the same run.
//!
//! `cargo run --release -p tipx-node --example bench_sync -- [N]` (default 100000).

use std::time::Instant;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use tipx_node::store::SledStore;
use tipx_protocol::{
    Body, Membership, Origin, PublicKey, Store,
    store::{Inserted, Source},
    sync::{Action, Config, Context, Replicator, Reply, Request, Response},
    testkit::{Author, NOW_MS, alert, key_of, membership},
    validate::{self, Verified},
};

struct Side {
    key: PublicKey,
    m: Membership,
    store: SledStore,
    rep: Replicator,
}

fn side(code: &str) -> Side {
    Side {
        key: key_of(code).public(),
        m: membership(code, &["OAS", "MX", "CO"], &[("MX", "CO")]),
        store: SledStore::temporary().expect("store"),
        rep: Replicator::new(Config::default()),
    }
}

fn batch_verify_rate() -> f64 {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let vk: VerifyingKey = key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 1024]).collect();
    let sigs: Vec<Signature> = msgs.iter().map(|m| key.sign(m)).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let keys = vec![vk; 64];
    let rounds = 300;
    let t = Instant::now();
    for _ in 0..rounds {
        ed25519_dalek::verify_batch(&refs, &sigs, &keys).expect("valid");
    }
    let batch = (rounds * 64) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (m, s) in msgs.iter().zip(&sigs).cycle().take(5_000) {
        vk.verify(m, s).expect("valid");
    }
    let single = 5_000.0 / t.elapsed().as_secs_f64();
    println!(
        "ed25519 verification, 1 KiB, one core: {single:.0}/s one by one, {batch:.0}/s in batches of 64"
    );
    batch
}

/// Delivers `actions` of `from` to `to` until both sides are quiet; returns (bytes from →
/// to, bytes to → from, records stored at `to`).
fn drive(a: &mut Side, b: &mut Side, first: Vec<Action>) -> (usize, usize, usize) {
    let (mut ab, mut ba, mut stored) = (0, 0, 0);
    let mut queue: Vec<(bool, Action)> = first.into_iter().map(|x| (true, x)).collect();
    while let Some((from_a, action)) = queue.pop() {
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
                let cx = Context {
                    membership: &dst.m,
                    store: &dst.store,
                    now_ms: NOW_MS,
                };
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
                let cx = Context {
                    membership: &src.m,
                    store: &src.store,
                    now_ms: NOW_MS,
                };
                let more = src
                    .rep
                    .on_response(dst.key, &req, resp, &cx)
                    .expect("store works");
                queue.extend(more.into_iter().map(|x| (from_a, x)));
                queue.extend(handled.actions.into_iter().map(|x| (!from_a, x)));
            }
            Action::Store { peer, records } => {
                let cx = validate::Context {
                    local_state: src.m.own_state(),
                    now_ms: NOW_MS,
                    max_record_bytes: 256 * 1024,
                    membership: &src.m,
                };
                let verified: Vec<Verified> = records
                    .iter()
                    .map(|r| validate::validate_bytes(r, Origin::Peer(peer), &cx).expect("valid"))
                    .collect();
                let out = src
                    .store
                    .insert(&verified, &Source::Peer(peer.peer_id()), NOW_MS)
                    .expect("store works");
                src.store.flush().expect("flush");
                stored += out.iter().filter(|o| **o == Inserted::Stored).count();
                let new: Vec<_> = verified.into_iter().map(|v| v.record).collect();
                let cx = Context {
                    membership: &src.m,
                    store: &src.store,
                    now_ms: NOW_MS,
                };
                let more = src.rep.on_stored(peer, &new, &cx).expect("store works");
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
    let batch_rate = batch_verify_rate();

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
            let v: Vec<Verified> = chunk
                .iter()
                .map(|r| Verified {
                    record: r.clone(),
                    body: r.body().expect("valid"),
                })
                .collect();
            s.store
                .insert(&v, &Source::Local, NOW_MS)
                .expect("store works");
        }
        s.store.flush().expect("flush");
    }

    let rounds = 100;
    let t = Instant::now();
    let mut bytes = (0, 0);
    for _ in 0..rounds {
        let cx = Context {
            membership: &a.m,
            store: &a.store,
            now_ms: NOW_MS,
        };
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
    let cx = Context {
        membership: &c.m,
        store: &c.store,
        now_ms: NOW_MS,
    };
    let first = c.rep.on_connected(a.key, &cx).expect("store works");
    let (_, _, stored) = drive(&mut c, &mut a, first);
    let secs = t.elapsed().as_secs_f64();
    let rate = stored as f64 / secs;
    println!(
        "catch-up of {stored} records from one peer: {secs:.1} s = {rate:.0} records/s ({:.0}% of the batch-verification rate)",
        100.0 * rate / batch_rate
    );
    assert_eq!(c.store.len().expect("store works"), n);
}
