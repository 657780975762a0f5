//! Counters of the event backbone, exported as Prometheus (OpenMetrics) text at `/metrics`.

use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriptionLabels {
    subscription: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CatchUpLabels {
    subscription: String,
    reason: String,
}

#[derive(Clone)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        // 50 µs to ~1.6 s.
        Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
    }
}

/// The kernel's metrics, plus the registry the application adds its own to.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    appended: Family<StreamLabels, Counter>,
    published: Family<StreamLabels, Counter>,
    handled: Family<SubscriptionLabels, Counter>,
    duplicates: Family<SubscriptionLabels, Counter>,
    retried: Family<SubscriptionLabels, Counter>,
    dead_lettered: Family<SubscriptionLabels, Counter>,
    catch_ups: Family<CatchUpLabels, Counter>,
    lag: Family<SubscriptionLabels, Gauge>,
    propagation: Family<SubscriptionLabels, Histogram, LatencyBuckets>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with the backbone's metrics registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("boxoffice");
        let inner = Inner {
            appended: Family::default(),
            published: Family::default(),
            handled: Family::default(),
            duplicates: Family::default(),
            retried: Family::default(),
            dead_lettered: Family::default(),
            catch_ups: Family::default(),
            lag: Family::default(),
            propagation: Family::new_with_constructor(LatencyBuckets),
            registry: Mutex::new(Registry::default()),
        };
        registry.register(
            "events_appended",
            "Events appended to a module's outbox",
            inner.appended.clone(),
        );
        registry.register(
            "events_published",
            "Committed events offered on the bus",
            inner.published.clone(),
        );
        registry.register(
            "events_handled",
            "Events applied by a subscription",
            inner.handled.clone(),
        );
        registry.register(
            "events_duplicate",
            "Events a subscription saw again and skipped (inbox hit)",
            inner.duplicates.clone(),
        );
        registry.register(
            "events_retried",
            "Handler attempts that failed and were retried",
            inner.retried.clone(),
        );
        registry.register(
            "events_dead_lettered",
            "Events parked as dead letters after their retries",
            inner.dead_lettered.clone(),
        );
        registry.register(
            "consumer_catch_ups",
            "Times a subscription read its producer's log (start, lag, gap, safety net)",
            inner.catch_ups.clone(),
        );
        registry.register(
            "consumer_lag_events",
            "Events of the producer's stream a subscription has not handled yet",
            inner.lag.clone(),
        );
        registry.register(
            "event_propagation_seconds",
            "Time from an event's append to its handling commit, per subscription",
            inner.propagation.clone(),
        );
        *inner.registry.lock().unwrap_or_else(|e| e.into_inner()) = registry;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The registry, for the application to add its own metrics.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.inner
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Everything, in the OpenMetrics text format Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry()).is_err() {
            out.clear();
        }
        out
    }

    pub(crate) fn events_appended(&self, stream: &str, n: u64) {
        self.inner
            .appended
            .get_or_create(&StreamLabels {
                stream: stream.to_owned(),
            })
            .inc_by(n);
    }

    pub(crate) fn events_published(&self, stream: &str, n: u64) {
        self.inner
            .published
            .get_or_create(&StreamLabels {
                stream: stream.to_owned(),
            })
            .inc_by(n);
    }

    pub(crate) fn event_handled(&self, subscription: &str, propagation_seconds: f64) {
        let labels = SubscriptionLabels {
            subscription: subscription.to_owned(),
        };
        self.inner.handled.get_or_create(&labels).inc();
        self.inner
            .propagation
            .get_or_create(&labels)
            .observe(propagation_seconds);
    }

    pub(crate) fn event_duplicate(&self, subscription: &str) {
        self.inner
            .duplicates
            .get_or_create(&SubscriptionLabels {
                subscription: subscription.to_owned(),
            })
            .inc();
    }

    pub(crate) fn event_retried(&self, subscription: &str) {
        self.inner
            .retried
            .get_or_create(&SubscriptionLabels {
                subscription: subscription.to_owned(),
            })
            .inc();
    }

    pub(crate) fn event_dead_lettered(&self, subscription: &str) {
        self.inner
            .dead_lettered
            .get_or_create(&SubscriptionLabels {
                subscription: subscription.to_owned(),
            })
            .inc();
    }

    pub(crate) fn catch_up(&self, subscription: &str, reason: &str) {
        self.inner
            .catch_ups
            .get_or_create(&CatchUpLabels {
                subscription: subscription.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub(crate) fn set_lag(&self, subscription: &str, lag: i64) {
        self.inner
            .lag
            .get_or_create(&SubscriptionLabels {
                subscription: subscription.to_owned(),
            })
            .set(lag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_up_in_the_text_export_with_their_labels() {
        let m = Metrics::new();
        m.events_appended("users", 3);
        m.event_handled("bookings/users", 0.001);
        let text = m.encode();
        assert!(
            text.contains(r#"boxoffice_events_appended_total{stream="users"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"boxoffice_events_handled_total{subscription="bookings/users"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("boxoffice_event_propagation_seconds_bucket"),
            "{text}"
        );
    }
}
