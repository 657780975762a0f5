//! Subscriptions: how a module applies another module's events (and the commands addressed to
//! it) exactly once, in order, and never loses one.
//!
//! A subscription keeps, in the *consumer's* database, a checkpoint per producer stream and an
//! inbox of applied event ids, both written in the transaction that applies the handler's
//! effects. The producer's stream arrives through an [`EventSource`]: its live feed is only the
//! fast path; on start, on a lagged receiver, on a gap in sequence numbers and periodically, the
//! subscription reads what it missed from the producer's log. A new transport is a new
//! `EventSource` and nothing else.
//!
//! The rooms: `run.rs` the loop (live feed, catch-up, batches, retries); `ledger.rs` the
//! checkpoint and inbox claims; `dead_letters.rs` parking, listing, retrying and discarding;
//! `replay.rs` the rebuild from the first event; `status.rs` the counters and the status.

mod dead_letters;
mod ledger;
mod replay;
mod run;
mod status;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    db::ModuleDb,
    error::Error,
    events::{DecodeError, Envelope},
    outbox::EventSource,
    tx::WriteTx,
};

pub use dead_letters::{DeadLetter, DeadLetterOutcome};
pub use status::{LatencySummary, SubscriptionStatus};

use dead_letters::DeadLetters;
use ledger::Ledger;
use status::Progress;

/// By default, inbox rows this far below a subscription's checkpoint are pruned: the checkpoint
/// alone already keeps those events from being applied again.
const INBOX_RETENTION: i64 = 100_000;

/// Applies one producer's events to the consumer module's own tables.
pub trait Handler: Send + Sync + 'static {
    /// The event and command types (`Message::TYPE`, from `-api` crates) this handler applies;
    /// other messages of the stream only move the checkpoint.
    fn event_types(&self) -> &'static [&'static str];

    /// Applies `event` inside `tx`, which also records the event as handled. Messages appended
    /// through `tx` carry the handled event as their cause.
    fn handle(
        &self,
        tx: &mut WriteTx,
        event: &Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// Might work later (storage hiccup, a dependency down): retried with backoff.
    #[error("{0}")]
    Retryable(String),
    /// Will never work as is (unreadable payload): parked at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        HandlerError::Retryable(e.to_string())
    }
}

impl From<DecodeError> for HandlerError {
    fn from(e: DecodeError) -> Self {
        HandlerError::Permanent(e.to_string())
    }
}

/// How often and how patiently a failing event is retried before it is parked.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; then the event becomes a dead letter.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub first_delay: Duration,
    /// Upper bound of a delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Delay after `failed` failed attempts: exponential, capped, with jitter in `[d/2, d]` so
    /// that many failing consumers do not retry in lockstep.
    pub fn delay(&self, failed: u32) -> Duration {
        let exp = self
            .first_delay
            .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1)));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(if jitter_nanos == 0 {
            0
        } else {
            rand::random_range(0..=jitter_nanos)
        })
    }
}

/// Tuning of a subscription.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionConfig {
    /// Most events applied in one transaction.
    pub batch_size: usize,
    /// How often the producer's log is read even when the live feed says nothing.
    pub safety_net: Duration,
    /// Retries of a failing event.
    pub retry: RetryPolicy,
    /// How far below the checkpoint inbox rows are kept (the checkpoint alone already prevents
    /// re-application; the rows answer "was this event handled?" for recent ones).
    pub inbox_retention: i64,
}

impl Default for SubscriptionConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            safety_net: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            inbox_retention: INBOX_RETENTION,
        }
    }
}

/// A [`Handler`] behind a pointer: what lets one non-generic [`Subscription`] run any handler.
trait ErasedHandler: Send + Sync {
    fn event_types(&self) -> &'static [&'static str];
    fn handle<'a>(
        &'a self,
        tx: &'a mut WriteTx,
        event: &'a Envelope,
    ) -> Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;
}

impl<H: Handler> ErasedHandler for H {
    fn event_types(&self) -> &'static [&'static str] {
        Handler::event_types(self)
    }

    fn handle<'a>(
        &'a self,
        tx: &'a mut WriteTx,
        event: &'a Envelope,
    ) -> Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>> {
        Box::pin(Handler::handle(self, tx, event))
    }
}

/// A running or runnable subscription of one consumer module to one producer stream.
#[derive(Clone)]
pub struct Subscription {
    inner: Arc<Inner>,
}

struct Inner {
    /// `<consumer>/<stream>`.
    name: String,
    db: ModuleDb,
    source: Arc<dyn EventSource>,
    handler: Box<dyn ErasedHandler>,
    config: SubscriptionConfig,
    ledger: Ledger,
    dead_letters: DeadLetters,
    progress: Progress,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl Subscription {
    /// Subscribes the module owning `consumer_db` to `source`, applying events with `handler`.
    pub fn new<H: Handler>(
        consumer_db: &ModuleDb,
        source: Arc<dyn EventSource>,
        handler: H,
        config: SubscriptionConfig,
    ) -> Self {
        let name = format!("{}/{}", consumer_db.module(), source.stream());
        let stream = source.stream().to_owned();
        Self {
            inner: Arc::new(Inner {
                ledger: Ledger::new(consumer_db, &name, &stream),
                dead_letters: DeadLetters::new(consumer_db, &name, &stream),
                progress: Progress::new(),
                name,
                db: consumer_db.clone(),
                source,
                handler: Box::new(handler),
                config,
            }),
        }
    }

    /// `<consumer>/<stream>`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The producer stream.
    pub fn stream(&self) -> &str {
        self.inner.source.stream()
    }

    /// The event types this subscription applies.
    pub fn event_types(&self) -> &'static [&'static str] {
        self.inner.handler.event_types()
    }

    /// Runs the subscription until `shutdown` is cancelled.
    pub fn spawn(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let inner = self.inner.clone();
        let span = tracing::info_span!("subscription", name = %inner.name);
        tokio::spawn(inner.run(shutdown).instrument(span))
    }

    /// Applies everything the producer's log holds now, then returns (for commands and tests
    /// that run without the live loop).
    pub async fn drain(&self) -> Result<i64, Error> {
        let inner = &self.inner;
        let mut checkpoint = inner.ledger.checkpoint().await?;
        inner.progress.moved_to(checkpoint);
        inner.catch_up(&mut checkpoint, "drain", None).await?;
        Ok(checkpoint)
    }

    /// Waits until the subscription has handled the producer's event `seq`, or `timeout` passes.
    /// True when it has.
    pub async fn wait_for(&self, seq: i64, timeout: Duration) -> bool {
        self.inner.progress.wait_for(seq, timeout).await
    }

    /// The producer's newest sequence number.
    pub async fn producer_head(&self) -> Result<i64, Error> {
        let head = self.inner.source.head().await?.seq;
        self.inner.progress.note_head(head);
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_exponentially_within_their_jitter_and_stop_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let d1 = p.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.delay(3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d9 = p.delay(9);
            assert!(
                d9 >= Duration::from_millis(500) && d9 <= Duration::from_secs(1),
                "{d9:?}"
            );
        }
    }
}
