//! What the node counts as it works, for the metrics page (`crate::metrics`): records
//! published, refusals by reason, and how long a publish and the storing of a page take.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
};

/// Latency buckets, seconds: 1 ms to about 16 s.
fn buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15)
}

/// A label naming a refusal's reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// The rejection's code (`forged`, `gap`, `over-quota`, …).
    pub reason: String,
}

/// The counters the core keeps up to date as it works.
#[derive(Clone, Debug)]
pub struct Counters {
    /// Records this node published.
    pub published: Counter,
    /// Records refused, by reason.
    pub rejected: Family<Reason, Counter>,
    /// Seconds a publish took, signing and flushing included.
    pub publish_seconds: Histogram,
    /// Seconds a page of received records took to check and store.
    pub page_store_seconds: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            published: Counter::default(),
            rejected: Family::default(),
            publish_seconds: Histogram::new(buckets()),
            page_store_seconds: Histogram::new(buckets()),
        }
    }
}
