//! HTTP request metrics, registered beside the kernel's in one Prometheus registry.

use std::time::Duration;

use kernel::Metrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        histogram::{Histogram, exponential_buckets},
    },
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone)]
struct Buckets;

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        // 100 µs to ~3 s.
        Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
    }
}

/// Requests by route and status, and their latency by route.
#[derive(Clone)]
pub(crate) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, Buckets>,
}

impl HttpMetrics {
    /// Creates the metrics and adds them to the shared registry.
    pub(crate) fn register(metrics: &Metrics) -> HttpMetrics {
        let m = HttpMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(Buckets),
        };
        let mut registry = metrics.registry();
        registry.register(
            "http_requests",
            "HTTP requests served, by route pattern and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route pattern",
            m.latency.clone(),
        );
        if let Some(queries) = crate::telemetry::query_counter() {
            registry.register(
                "sqlite_queries",
                "Queries sent to any SQLite connection of this process (with --count-queries)",
                queries.clone(),
            );
        }
        m
    }

    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }
}
