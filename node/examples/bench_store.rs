//! Times the sled store's insert path alone (no HTTP, no signing), to find where bulk import
//! spends its time.

use std::time::Instant;

use tipx_node::store::SledStore;
use tipx_protocol::{
    Store,
    store::Source,
    testkit::{Author, NOW_MS, alert},
    validate::Verified,
};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let batch: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let cache: u64 = std::env::var("CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let store = SledStore::open(dir.path(), cache << 20).unwrap();
    let mut mx = Author::new("MX");
    let t = Instant::now();
    let recs: Vec<Verified> = (0..n)
        .map(|i| {
            let body = alert(&format!("alert {i} {}", "x".repeat(900)));
            let u = mx.prepare(&["CO", "MX"], body.clone(), NOW_MS + i as u64);
            Verified {
                record: u.sign(&mx.key),
                body: Some(body),
            }
        })
        .collect();
    println!("prepared+signed {n} in {:.2?}", t.elapsed());
    let t = Instant::now();
    for chunk in recs.chunks(batch) {
        store.insert(chunk, &Source::Local, NOW_MS).unwrap();
        store.flush().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "inserted {n} in {secs:.2} s: {:.0}/s, disk {} MiB",
        n as f64 / secs,
        store.size_on_disk().unwrap() >> 20
    );
}
