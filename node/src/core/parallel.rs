//! Work spread over every core: signing a batch of headers, verifying a page of records.

use tipx_protocol::{Keypair, Record, record::Unsigned};

/// Records signed and stored per step of the publish pipeline: enough to keep both cores
/// busy and amortise an insert, small enough that signing and storing overlap.
pub(super) const PIPELINE_CHUNK: usize = 500;

/// Below this many items, work runs on one thread: spawning costs more.
const PARALLEL_MIN: usize = 64;

/// Splits `items` into one run per available core and maps each run with `f` (which
/// returns one result per item) on its own thread, keeping the order. Signing and signature
/// verification (a page of a feed, in batches) are the CPU-bound steps this serves.
pub(super) fn on_all_cores<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < PARALLEL_MIN || threads == 1 {
        return f(items);
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(move || f(c))).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("workers do not panic"))
            .collect()
    })
}

/// Signs headers on every available core, keeping their order.
pub(super) fn sign_all(unsigned: Vec<Unsigned>, key: &Keypair) -> Vec<Record> {
    on_all_cores(&unsigned, |run| {
        run.iter().map(|u| u.clone().sign(key)).collect()
    })
}
