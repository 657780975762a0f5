//! Time as modules see it: one clock, owned by the kernel, that every deadline, timer, retry and
//! timestamp reads. It is the system clock by default; a test can hold an adjustable one and move
//! it forward, so that a 30-second saga deadline or a two-minute gateway callback is proven in
//! milliseconds instead of waited for.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio::sync::watch;

use crate::time::Timestamp;

/// The time source of a running application. Cheap to clone; every clone reads the same time.
#[derive(Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; otherwise how far ahead of it this clock has been moved.
    ahead: Option<Arc<Ahead>>,
}

struct Ahead {
    micros: AtomicI64,
    /// Bumped on every move, so sleepers re-check their deadline at once.
    moved: watch::Sender<i64>,
}

/// The handle that moves an adjustable [`Clock`] forward (tests only hold one).
#[derive(Clone)]
pub struct ClockControl {
    ahead: Arc<Ahead>,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ahead {
            None => f.write_str("Clock(system)"),
            Some(a) => write!(f, "Clock(system + {}us)", a.micros.load(Ordering::Relaxed)),
        }
    }
}

impl fmt::Debug for ClockControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClockControl")
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { ahead: None }
    }

    /// A clock that runs with the system clock and can be moved forward with the returned
    /// control. Time keeps flowing between moves, so work that polls with a real deadline still
    /// makes progress.
    pub fn adjustable() -> (Clock, ClockControl) {
        let ahead = Arc::new(Ahead {
            micros: AtomicI64::new(0),
            moved: watch::channel(0).0,
        });
        (
            Clock {
                ahead: Some(ahead.clone()),
            },
            ClockControl { ahead },
        )
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        let system = Timestamp::now();
        match &self.ahead {
            None => system,
            Some(a) => Timestamp::from_micros(
                system
                    .as_micros()
                    .saturating_add(a.micros.load(Ordering::Acquire)),
            ),
        }
    }

    /// Waits until this clock reads `deadline` or later: in real time, or at once when the clock
    /// is moved past it.
    pub async fn sleep_until(&self, deadline: Timestamp) {
        let Some(ahead) = &self.ahead else {
            tokio::time::sleep(deadline.duration_since(Timestamp::now())).await;
            return;
        };
        // Subscribed before reading the time, so a move in between is not missed.
        let mut moved = ahead.moved.subscribe();
        loop {
            let now = self.now();
            if now >= deadline {
                return;
            }
            // Every clone of this clock holds the sender, so `changed` never fails.
            tokio::select! {
                () = tokio::time::sleep(deadline.duration_since(now)) => {}
                _ = moved.changed() => {}
            }
        }
    }

    /// Waits for `duration` to pass on this clock.
    pub async fn sleep(&self, duration: Duration) {
        self.sleep_until(self.now().plus(duration)).await;
    }
}

impl ClockControl {
    /// Moves the clock forward by `duration`, waking every sleeper whose deadline has come.
    pub fn advance(&self, duration: Duration) {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        let before = self
            .ahead
            .micros
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |m| {
                Some(m.saturating_add(micros))
            })
            .unwrap_or_else(|m| m);
        self.ahead.moved.send_replace(before.saturating_add(micros));
        tracing::debug!(by = ?duration, "clock moved forward");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_reads_the_system_time_plus_what_it_was_moved() {
        let (clock, control) = Clock::adjustable();
        let before = Timestamp::now();
        control.advance(Duration::from_secs(3600));
        let moved = clock.now();
        assert!(moved.duration_since(before) >= Duration::from_secs(3600));
        assert!(moved.duration_since(before) < Duration::from_secs(3660));
    }

    #[tokio::test]
    async fn a_sleeper_wakes_when_the_clock_is_moved_past_its_deadline() {
        let (clock, control) = Clock::adjustable();
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(86_400)).await }
        });
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        control.advance(Duration::from_secs(86_400));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken by the move, not by a day passing")
            .unwrap();
    }

    #[tokio::test]
    async fn a_move_short_of_the_deadline_does_not_wake_a_sleeper() {
        let (clock, control) = Clock::adjustable();
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(600)).await }
        });
        // Let the sleeper start (and subscribe) before the clock moves.
        tokio::task::yield_now().await;
        control.advance(Duration::from_secs(300));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), sleeper)
                .await
                .is_err(),
            "woke with 300 s still to go"
        );
    }
}
