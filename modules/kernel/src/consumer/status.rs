//! How far a subscription has come and how it is doing: the checkpoint waiters can watch, counters,
//! the last error, the propagation latency, and the status shown on pages and in the API.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::Subscription;
use crate::{metrics::Metrics, time::Timestamp};

/// A subscription's state, for status pages and the API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionStatus {
    /// `<consumer>/<stream>`.
    pub name: String,
    /// The consuming module.
    pub consumer: String,
    /// The producer stream.
    pub stream: String,
    /// Event types applied.
    pub event_types: Vec<String>,
    /// Last sequence number handled (applied, skipped or parked).
    pub checkpoint: i64,
    /// The producer's newest sequence number, as last read.
    pub head: i64,
    /// `head - checkpoint`.
    pub lag: i64,
    /// How long the oldest unhandled event has been waiting, in milliseconds (0 when caught up).
    pub lag_ms: i64,
    /// Events applied since start.
    pub handled: u64,
    /// Failed attempts retried since start.
    pub retried: u64,
    /// Dead letters still parked.
    pub parked: i64,
    /// The most recent failure, if any.
    pub last_error: Option<String>,
    /// Append-to-handled latency of applied events since start.
    pub propagation: LatencySummary,
}

/// Percentiles of a latency distribution, in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Maximum.
    pub max_us: u64,
}

/// What a running subscription remembers about itself (none of it is needed for correctness:
/// the ledger in the database is the truth).
pub(super) struct Progress {
    checkpoint: watch::Sender<i64>,
    head_seen: AtomicI64,
    handled: AtomicU64,
    retried: AtomicU64,
    last_error: Mutex<Option<String>>,
    latency: Mutex<Histogram<u64>>,
}

impl Progress {
    pub(super) fn new() -> Progress {
        Progress {
            checkpoint: watch::channel(0).0,
            head_seen: AtomicI64::new(0),
            handled: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            last_error: Mutex::new(None),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3)
                    .expect("static histogram bounds are valid"),
            ),
        }
    }

    pub(super) fn checkpoint(&self) -> i64 {
        *self.checkpoint.borrow()
    }

    /// Tells waiters the checkpoint is at least `seq` now.
    pub(super) fn moved_to(&self, seq: i64) {
        self.checkpoint.send_if_modified(|c| {
            if seq > *c {
                *c = seq;
                true
            } else {
                false
            }
        });
    }

    pub(super) async fn wait_for(&self, seq: i64, timeout: Duration) -> bool {
        let mut rx = self.checkpoint.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub(super) fn note_head(&self, seq: i64) {
        self.head_seen.fetch_max(seq, Ordering::Relaxed);
    }

    pub(super) fn head(&self) -> i64 {
        self.head_seen.load(Ordering::Relaxed)
    }

    pub(super) fn note_error(&self, error: impl std::fmt::Display) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    pub(super) fn count_retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_handled(&self, n: u64) {
        self.handled.fetch_add(n, Ordering::Relaxed);
    }

    /// Records progress after a commit: checkpoint waiters, counters, latency and lag metrics.
    pub(super) fn advanced(
        &self,
        name: &str,
        seq: i64,
        handled: &[Timestamp],
        now: Timestamp,
        metrics: &Metrics,
    ) {
        self.moved_to(seq);
        if !handled.is_empty() {
            let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
            for occurred_at in handled {
                let d = now.duration_since(*occurred_at);
                let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                latency.saturating_record(micros.max(1));
                metrics.event_handled(name, d.as_secs_f64());
            }
            self.count_handled(handled.len() as u64);
        }
        metrics.set_lag(name, self.head().max(seq) - seq);
    }

    fn propagation(&self) -> LatencySummary {
        let h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

impl Subscription {
    /// The current state, reading the producer's head and the parked dead letters.
    pub async fn status(&self) -> SubscriptionStatus {
        let inner = &self.inner;
        let progress = &inner.progress;
        let checkpoint = progress.checkpoint();
        if let Ok(head) = inner.source.head().await {
            progress.note_head(head.seq);
        }
        let head = progress.head().max(checkpoint);
        let lag_ms = if head > checkpoint {
            match inner.source.read(checkpoint, 1).await {
                Ok(next) => next.first().map_or(0, |e| {
                    i64::try_from(
                        inner
                            .db
                            .clock()
                            .now()
                            .duration_since(e.occurred_at)
                            .as_millis(),
                    )
                    .unwrap_or(i64::MAX)
                }),
                Err(_) => -1,
            }
        } else {
            0
        };
        SubscriptionStatus {
            name: inner.name.clone(),
            consumer: inner.db.module().to_owned(),
            stream: inner.source.stream().to_owned(),
            event_types: inner
                .handler
                .event_types()
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            checkpoint,
            head,
            lag: head - checkpoint,
            lag_ms,
            handled: progress.handled.load(Ordering::Relaxed),
            retried: progress.retried.load(Ordering::Relaxed),
            parked: inner.dead_letters.parked().await,
            last_error: progress
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            propagation: progress.propagation(),
        }
    }
}
