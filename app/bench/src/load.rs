//! The load generator: `concurrency` workers in a closed loop, or paced at a fixed rate with
//! latency measured from each request's scheduled start (so a stalled server cannot hide its
//! queueing: no coordinated omission). Latencies go to per-worker HDR histograms, merged at the
//! end.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;

/// What one request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The write was accepted (a booking placed, a row inserted).
    Accepted,
    /// A read answered.
    Read,
    /// Refused by the domain as the client could expect (sold out): not an error.
    Refused,
    /// An unexpected status or a transport error.
    Error,
}

/// How to drive.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub(super) concurrency: usize,
    pub(super) duration: Duration,
    /// Stop once this many writes were accepted.
    pub(super) max_accepted: Option<u64>,
    /// Requests per second in total, or as fast as answers come.
    pub(super) rate: Option<f64>,
}

/// Counters the progress display reads while the load runs.
#[derive(Debug, Default)]
pub(super) struct Live {
    pub(super) accepted: AtomicU64,
    pub(super) reads: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) errors: AtomicU64,
    stop: AtomicBool,
}

impl Live {
    /// Ends the drive reading these counters at its workers' next check.
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub(crate) struct Latency {
    pub(crate) count: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Latency {
    /// Percentiles of a histogram of microseconds.
    pub(super) fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1_000.0;
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// A histogram of microseconds from 1 µs to 10 minutes, 3 significant digits.
pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|_| Histogram::new(3).unwrap())
}

/// What a run measured.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) elapsed: Duration,
    pub(super) writes: Histogram<u64>,
    pub(super) reads: Histogram<u64>,
    pub(super) accepted: u64,
    pub(super) read_count: u64,
    pub(super) refused: u64,
    pub(super) errors: u64,
}

impl Run {
    pub(super) fn per_sec(&self, n: u64) -> f64 {
        n as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Drives `request(worker, iteration)` from `plan.concurrency` workers until the plan ends.
pub(super) async fn drive<F, Fut>(plan: Plan, live: Arc<Live>, request: F) -> Run
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let started = Instant::now();
    let deadline = started + plan.duration;
    let tickets = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..plan.concurrency)
        .map(|worker| {
            let live = live.clone();
            let tickets = tickets.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let mut writes = histogram();
                let mut reads = histogram();
                let mut i = 0u64;
                loop {
                    if live.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // With a rate, each request has a slot; latency counts from the slot.
                    let scheduled = match plan.rate {
                        Some(rate) => {
                            let n = tickets.fetch_add(1, Ordering::Relaxed);
                            let at = started + Duration::from_secs_f64(n as f64 / rate);
                            if at >= deadline {
                                break;
                            }
                            tokio::time::sleep_until(at.into()).await;
                            at
                        }
                        None => Instant::now(),
                    };
                    if Instant::now() >= deadline {
                        break;
                    }
                    let outcome = request(worker, i).await;
                    i += 1;
                    let us = u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX);
                    match outcome {
                        Outcome::Accepted => {
                            let _ = writes.record(us.max(1));
                            let n = live.accepted.fetch_add(1, Ordering::Relaxed) + 1;
                            if plan.max_accepted.is_some_and(|max| n >= max) {
                                live.stop.store(true, Ordering::Relaxed);
                            }
                        }
                        Outcome::Read => {
                            let _ = reads.record(us.max(1));
                            live.reads.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::Refused => {
                            let _ = writes.record(us.max(1));
                            live.refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::Error => {
                            live.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                (writes, reads)
            })
        })
        .collect();
    let mut writes = histogram();
    let mut reads = histogram();
    for w in workers {
        if let Ok((w, r)) = w.await {
            let _ = writes.add(w);
            let _ = reads.add(r);
        }
    }
    let elapsed = started.elapsed();
    Run {
        elapsed,
        writes,
        reads,
        accepted: live.accepted.load(Ordering::Relaxed),
        read_count: live.reads.load(Ordering::Relaxed),
        refused: live.refused.load(Ordering::Relaxed),
        errors: live.errors.load(Ordering::Relaxed),
    }
}

/// A progress line on standard error, refreshed until `live` stops being driven.
pub(super) fn progress(label: &str, plan: Plan, live: Arc<Live>) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(plan.duration.as_millis() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {prefix:<10} [{bar:30}] {elapsed:>3} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    let ticker = bar.clone();
    let started = Instant::now();
    tokio::spawn(async move {
        while !ticker.is_finished() {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let accepted = live.accepted.load(Ordering::Relaxed);
            ticker.set_position(started.elapsed().as_millis() as u64);
            ticker.set_message(format!(
                "{accepted} accepted ({:.0}/s), {} reads, {} refused, {} errors",
                accepted as f64 / secs,
                live.reads.load(Ordering::Relaxed),
                live.refused.load(Ordering::Relaxed),
                live.errors.load(Ordering::Relaxed),
            ));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_loop_stops_at_the_requested_count_and_counts_every_outcome() {
        let plan = Plan {
            concurrency: 4,
            duration: Duration::from_secs(30),
            max_accepted: Some(50),
            rate: None,
        };
        let live = Arc::new(Live::default());
        let run = drive(plan, live, |_, i| async move {
            match i % 4 {
                0 => Outcome::Read,
                1 => Outcome::Refused,
                2 => Outcome::Error,
                _ => Outcome::Accepted,
            }
        })
        .await;
        // Workers stop at the first check after the 50th acceptance: at most one extra each.
        assert!((50..=53).contains(&run.accepted), "{}", run.accepted);
        assert_eq!(run.writes.len(), run.accepted + run.refused);
        assert!(run.read_count > 0 && run.errors > 0);
        assert!(run.elapsed < Duration::from_secs(30));
    }

    #[tokio::test]
    async fn a_paced_run_sends_no_more_than_its_rate_allows() {
        let plan = Plan {
            concurrency: 8,
            duration: Duration::from_millis(300),
            max_accepted: None,
            rate: Some(100.0),
        };
        let run = drive(plan, Arc::new(Live::default()), |_, _| async {
            Outcome::Accepted
        })
        .await;
        // 100/s for 0.3 s: slots 0..29 fall inside the window, and no more are ever sent (however
        // slow the machine, which is why there is no lower bound here).
        assert!(run.accepted <= 30, "{}", run.accepted);
        assert!(run.accepted > 0);
    }
}
