//! Work spread over every core: signing a batch of headers, verifying a page of records.

use tipx_protocol::{Keypair, Record, record::Unsigned};

/// Records signed and stored per step of the publish pipeline: enough to keep both cores
/// busy and amortise an insert, small enough that signing and storing overlap.
pub(super) const PIPELINE_CHUNK: usize = 500;

/// Below this many items, work runs on one thread: spawning costs more.
const PARALLEL_MIN: usize = 64;

/// Maps `f` over `items` on every available core, keeping their order. Signing and
/// signature verification (a page of a feed) are the CPU-bound steps this serves.
pub(super) fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < PARALLEL_MIN || threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("workers do not panic"))
            .collect()
    })
}

/// Signs headers on every available core, keeping their order.
pub(super) fn sign_all(unsigned: Vec<Unsigned>, key: &Keypair) -> Vec<Record> {
    on_all_cores(&unsigned, |u| u.clone().sign(key))
}
