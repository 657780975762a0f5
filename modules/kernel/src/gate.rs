//! A gate in front of work that must not all run at once: at most `width` callers inside, the
//! others waiting in line in the order they came, each for at most `wait`, then turned away.
//!
//! A module puts one in front of the writes a crowd can ask for in the same second (placing a
//! booking when a hot show opens). Without it every request in flight reads what it needs and
//! then queues on the module's single writer in whatever order the scheduler wakes it, so a few
//! wait many times longer than the rest; with it the writer sees a handful of callers at a time,
//! the line is first come first served (tokio's semaphore is fair), and no one waits longer than
//! `wait` before hearing either an answer or "busy, come back".

use std::{sync::Arc, time::Duration};

use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{Clock, Metrics};

/// How wide a [`Gate`] is and how long its line waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateShape {
    /// Callers inside at once.
    pub width: usize,
    /// The longest a caller waits in line before it is turned away.
    pub wait: Duration,
}

/// At most `width` callers inside, the rest in line for at most `wait`. Cheap to clone: clones
/// share one line.
#[derive(Clone, Debug)]
pub struct Gate {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    places: Arc<Semaphore>,
    shape: Option<GateShape>,
    clock: Clock,
    waiting: Gauge,
    admitted: Counter,
    turned_away: Counter,
}

/// A place inside the gate, given back when dropped.
#[derive(Debug)]
pub struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
}

/// The line was too long: no place freed within the gate's wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("turned away after waiting {} ms in line", .waited.as_millis())]
pub struct TurnedAway {
    /// How long the caller waited.
    pub waited: Duration,
}

/// What a gate has done so far, for metrics and the bench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateCounts {
    /// Callers in line now.
    pub waiting: u64,
    /// Callers let in since the start.
    pub admitted: u64,
    /// Callers turned away since the start.
    pub turned_away: u64,
}

impl Gate {
    /// A gate of `shape`, timing waits on `clock`; `None` lets everyone in at once (and still
    /// counts them).
    pub fn new(shape: Option<GateShape>, clock: Clock) -> Gate {
        let width = shape.map_or(0, |s| s.width.max(1));
        Gate {
            inner: Arc::new(Inner {
                places: Arc::new(Semaphore::new(width)),
                shape,
                clock,
                waiting: Gauge::default(),
                admitted: Counter::default(),
                turned_away: Counter::default(),
            }),
        }
    }

    /// Serves the gate's counts in `metrics` as `<name>_admitted`, `<name>_turned_away` and
    /// `<name>_waiting`; `what` says what passes through it.
    pub fn register(&self, metrics: &Metrics, name: &str, what: &str) {
        let mut registry = metrics.registry();
        registry.register(
            format!("{name}_admitted"),
            format!("{what}: let through the gate"),
            self.inner.admitted.clone(),
        );
        registry.register(
            format!("{name}_turned_away"),
            format!("{what}: turned away (503 busy) after waiting in line"),
            self.inner.turned_away.clone(),
        );
        registry.register(
            format!("{name}_waiting"),
            format!("{what}: waiting in line now"),
            self.inner.waiting.clone(),
        );
    }

    /// A place inside: at once if one is free, else in line behind everyone who came before,
    /// or [`TurnedAway`] when none frees within the gate's wait (at once when the wait is zero).
    pub async fn enter(&self) -> Result<Admitted, TurnedAway> {
        let inner = &self.inner;
        let Some(shape) = inner.shape else {
            inner.admitted.inc();
            return Ok(Admitted { _permit: None });
        };
        // `try_acquire` never jumps the line: it fails while anyone is waiting.
        if let Ok(permit) = inner.places.clone().try_acquire_owned() {
            inner.admitted.inc();
            return Ok(Admitted {
                _permit: Some(permit),
            });
        }
        let turned_away = || {
            inner.turned_away.inc();
            TurnedAway { waited: shape.wait }
        };
        if shape.wait.is_zero() {
            return Err(turned_away());
        }
        let in_line = InLine::join(&inner.waiting);
        let outcome = tokio::select! {
            permit = inner.places.clone().acquire_owned() => permit.ok(),
            () = inner.clock.sleep(shape.wait) => None,
        };
        drop(in_line);
        match outcome {
            Some(permit) => {
                inner.admitted.inc();
                Ok(Admitted {
                    _permit: Some(permit),
                })
            }
            None => Err(turned_away()),
        }
    }

    /// What the gate has done so far.
    pub fn counts(&self) -> GateCounts {
        GateCounts {
            waiting: u64::try_from(self.inner.waiting.get()).unwrap_or(0),
            admitted: self.inner.admitted.get(),
            turned_away: self.inner.turned_away.get(),
        }
    }
}

/// A caller counted in line until it leaves it, however it leaves (a caller whose request was
/// dropped while waiting too).
struct InLine<'a>(&'a Gauge);

impl<'a> InLine<'a> {
    fn join(waiting: &'a Gauge) -> InLine<'a> {
        waiting.inc();
        InLine(waiting)
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(width: usize, wait_ms: u64) -> Option<GateShape> {
        Some(GateShape {
            width,
            wait: Duration::from_millis(wait_ms),
        })
    }

    #[tokio::test]
    async fn callers_past_the_width_wait_in_the_order_they_came() {
        let gate = Gate::new(shape(1, 60_000), Clock::system());
        let first = gate.enter().await.expect("the first is let in");
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..5 {
            let (line, order) = (gate.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _inside = line.enter().await.expect("let in before the wait ends");
                order.lock().unwrap().push(i);
            }));
            // Each joins the line before the next is spawned.
            while gate.counts().waiting < i + 1 {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
        let counts = gate.counts();
        assert_eq!(
            (counts.admitted, counts.waiting, counts.turned_away),
            (6, 0, 0)
        );
    }

    #[tokio::test]
    async fn a_caller_is_turned_away_when_no_place_frees_within_the_wait() {
        let (clock, control) = Clock::adjustable();
        let gate = Gate::new(shape(1, 250), clock);
        let _inside = gate.enter().await.unwrap();
        let line = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.map(|_| ()) }
        });
        while gate.counts().waiting == 0 {
            tokio::task::yield_now().await;
        }
        control.advance(Duration::from_millis(251));
        let refused = line.await.unwrap().expect_err("no place freed");
        assert_eq!(refused.waited, Duration::from_millis(250));
        assert_eq!(gate.counts().turned_away, 1);
        assert_eq!(gate.counts().waiting, 0);
    }

    #[tokio::test]
    async fn a_zero_wait_turns_away_at_once_and_no_shape_lets_everyone_in() {
        let gate = Gate::new(shape(1, 0), Clock::system());
        let _inside = gate.enter().await.unwrap();
        assert!(gate.enter().await.is_err());

        let open = Gate::new(None, Clock::system());
        let mut inside = Vec::new();
        for _ in 0..100 {
            inside.push(open.enter().await.expect("an open gate lets everyone in"));
        }
        assert_eq!(open.counts().admitted, 100);
    }
}
