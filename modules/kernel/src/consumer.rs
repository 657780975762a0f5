//! Subscriptions: how a module applies another module's events exactly once, in order, and
//! never loses one.
//!
//! A subscription keeps, in the *consumer's* database, a checkpoint per producer stream and an
//! inbox of applied event ids, both written in the transaction that applies the handler's
//! effects. The bus is only the fast path: on start, on a lagged receiver, on a gap in sequence
//! numbers and periodically, the subscription reads what it missed from the producer's log.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use hdrhistogram::Histogram;
use serde::Serialize;
use sqlx::Row;
use tokio::{
    sync::{
        broadcast::error::{RecvError, TryRecvError},
        watch,
    },
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    db::{ModuleDb, WriteTx},
    error::Error,
    events::{DecodeError, Envelope, Trace},
    outbox::EventSource,
    time::Timestamp,
};

/// By default, inbox rows this far below a subscription's checkpoint are pruned: the checkpoint
/// alone already keeps those events from being applied again.
const INBOX_RETENTION: i64 = 100_000;

/// Sequence numbers of inbox rows deleted per pruning transaction.
const INBOX_PRUNE_SLICE: i64 = 2_000;

/// Applies one producer's events to the consumer module's own tables.
pub trait Handler: Send + Sync + 'static {
    /// The event types (`IntegrationEvent::TYPE`, from `-api` crates) this handler applies; other
    /// events of the stream only move the checkpoint.
    fn event_types(&self) -> &'static [&'static str];

    /// Applies `event` inside `tx`, which also records the event as handled. Events emitted
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
    /// How often the producer's log is read even when the bus says nothing.
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

/// A subscription's state, for status pages and the API.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionStatus {
    /// `<consumer>/<stream>`.
    pub name: String,
    /// The consuming module.
    pub consumer: String,
    /// The producer stream.
    pub stream: String,
    /// Event types applied.
    pub event_types: Vec<&'static str>,
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
#[derive(Clone, Copy, Debug, Default, Serialize)]
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

/// An event parked after its retries.
#[derive(Clone, Debug, Serialize)]
pub struct DeadLetter {
    /// Its id among the consumer module's dead letters.
    pub id: i64,
    /// The subscription that could not apply it.
    pub subscription: String,
    /// The event.
    pub envelope: Envelope,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was parked.
    pub parked_at: Timestamp,
    /// `parked`, `retried` or `discarded`.
    pub status: String,
    /// When an operator retried or discarded it.
    pub resolved_at: Option<Timestamp>,
    /// Who did.
    pub resolved_by: Option<String>,
}

/// What retrying a dead letter did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeadLetterOutcome {
    /// The handler applied it (or it had been applied already); it is resolved.
    Applied,
    /// The handler failed again; it stays parked with the new error.
    StillFailing {
        /// The error.
        error: String,
    },
    /// It was discarded by the operator.
    Discarded,
    /// No parked dead letter with that id in this subscription.
    NotFound,
}

/// A running or runnable subscription of one consumer module to one producer stream.
#[derive(Clone)]
pub struct Subscription {
    runner: Arc<dyn Runner>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("name", &self.runner.name())
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
        let (checkpoint, _) = watch::channel(0);
        let core = Core {
            name,
            db: consumer_db.clone(),
            source,
            handler,
            config,
            checkpoint,
            head_seen: AtomicI64::new(0),
            handled: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            last_error: Mutex::new(None),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3)
                    .expect("static histogram bounds are valid"),
            ),
        };
        Self {
            runner: Arc::new(core),
        }
    }

    /// `<consumer>/<stream>`.
    pub fn name(&self) -> &str {
        self.runner.name()
    }

    /// Runs the subscription until `shutdown` is cancelled.
    pub fn spawn(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let runner = self.runner.clone();
        let span = tracing::info_span!("subscription", name = runner.name());
        tokio::spawn(runner.run(shutdown).instrument(span))
    }

    /// Applies everything the producer's log holds now, then returns (for commands and tests
    /// that run without the live loop).
    pub async fn drain(&self) -> Result<i64, Error> {
        self.runner.drain().await
    }

    /// Waits until the subscription has handled the producer's event `seq`, or `timeout` passes.
    /// True when it has.
    pub async fn wait_for(&self, seq: i64, timeout: Duration) -> bool {
        let mut rx = self.runner.checkpoint();
        tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The current state, reading the producer's head and the parked dead letters.
    pub async fn status(&self) -> SubscriptionStatus {
        self.runner.status().await
    }

    /// Dead letters of this subscription, newest first (only parked ones unless `all`).
    pub async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        self.runner.dead_letters(all).await
    }

    /// Tries a parked dead letter again; on success it is applied exactly once and resolved.
    pub async fn retry_dead_letter(
        &self,
        id: i64,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        self.runner.retry_dead_letter(id, actor).await
    }

    /// Resolves a parked dead letter without applying it.
    pub async fn discard_dead_letter(
        &self,
        id: i64,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        self.runner.discard_dead_letter(id, actor).await
    }

    /// The event types this subscription applies.
    pub fn event_types(&self) -> &'static [&'static str] {
        self.runner.event_types()
    }

    /// Replays the producer's whole log inside `tx` (a write transaction on the consumer's own
    /// database): the subscription's checkpoint and inbox are cleared, every event is applied
    /// again, parked dead letters are resolved (`retried` by `rebuild`; an event that still fails
    /// is parked anew). Used to rebuild derived data from scratch; readers see the old data until
    /// `tx` commits. `progress` is called with the number of events read so far. Returns the
    /// last sequence number replayed; after the commit, call [`Subscription::replayed`].
    pub async fn replay(
        &self,
        tx: &mut WriteTx,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<i64, Error> {
        self.runner.replay(tx, progress).await
    }

    /// Tells waiters the replay committed up to `seq`.
    pub fn replayed(&self, seq: i64) {
        self.runner.replayed(seq);
    }

    /// The producer's newest sequence number.
    pub async fn producer_head(&self) -> Result<i64, Error> {
        self.runner.producer_head().await
    }

    /// The producer stream.
    pub fn stream(&self) -> String {
        self.runner.stream()
    }
}

#[async_trait]
trait Runner: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn stream(&self) -> String;
    fn event_types(&self) -> &'static [&'static str];
    fn checkpoint(&self) -> watch::Receiver<i64>;
    async fn run(self: Arc<Self>, shutdown: CancellationToken);
    async fn drain(&self) -> Result<i64, Error>;
    async fn status(&self) -> SubscriptionStatus;
    async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error>;
    async fn retry_dead_letter(&self, id: i64, actor: &str) -> Result<DeadLetterOutcome, Error>;
    async fn discard_dead_letter(&self, id: i64, actor: &str) -> Result<DeadLetterOutcome, Error>;
    async fn replay(
        &self,
        tx: &mut WriteTx,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<i64, Error>;
    fn replayed(&self, seq: i64);
    async fn producer_head(&self) -> Result<i64, Error>;
}

struct Core<H> {
    name: String,
    db: ModuleDb,
    source: Arc<dyn EventSource>,
    handler: H,
    config: SubscriptionConfig,
    checkpoint: watch::Sender<i64>,
    head_seen: AtomicI64,
    handled: AtomicU64,
    retried: AtomicU64,
    last_error: Mutex<Option<String>>,
    latency: Mutex<Histogram<u64>>,
}

enum Applied {
    Ignored,
    Duplicate,
    Handled,
}

enum ApplyError {
    Handler(HandlerError),
    Storage(Error),
}

impl From<Error> for ApplyError {
    fn from(e: Error) -> Self {
        ApplyError::Storage(e)
    }
}

impl<H: Handler> Core<H> {
    fn module(&self) -> &'static str {
        self.db.module()
    }

    async fn load_checkpoint(&self) -> Result<i64, Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM consumer_checkpoints WHERE subscription = ?")
                .bind(&self.name)
                .fetch_optional(self.db.reader()?)
                .await
                .map_err(Error::db(self.module()))?;
        Ok(seq.unwrap_or(0))
    }

    async fn save_checkpoint(&self, tx: &mut WriteTx, seq: i64) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO consumer_checkpoints (subscription, stream, seq, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (subscription) DO UPDATE SET seq = MAX(seq, excluded.seq), updated_at = excluded.updated_at",
        )
        .bind(&self.name)
        .bind(self.source.stream())
        .bind(seq)
        .bind(Timestamp::now())
        .execute(tx.conn())
        .await
        .map_err(Error::db(self.module()))?;
        Ok(())
    }

    fn note_head(&self, seq: i64) {
        self.head_seen.fetch_max(seq, Ordering::Relaxed);
    }

    fn note_error(&self, error: impl std::fmt::Display) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    /// Records progress after a commit: checkpoint watchers, counters, latency.
    fn advanced(&self, seq: i64, handled: &[Timestamp]) {
        self.checkpoint.send_if_modified(|c| {
            if seq > *c {
                *c = seq;
                true
            } else {
                false
            }
        });
        let now = Timestamp::now();
        let metrics = self.db.metrics();
        if !handled.is_empty() {
            let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
            for occurred_at in handled {
                let d = now.duration_since(*occurred_at);
                let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                latency.saturating_record(micros.max(1));
                metrics.event_handled(&self.name, d.as_secs_f64());
            }
            self.handled
                .fetch_add(handled.len() as u64, Ordering::Relaxed);
        }
        let head = self.head_seen.load(Ordering::Relaxed).max(seq);
        metrics.set_lag(&self.name, head - seq);
    }

    async fn apply(&self, tx: &mut WriteTx, event: &Envelope) -> Result<Applied, ApplyError> {
        if !self
            .handler
            .event_types()
            .contains(&event.event_type.as_str())
        {
            return Ok(Applied::Ignored);
        }
        // One round trip marks the point to roll back to and claims the event in the inbox; a
        // duplicate claims nothing. The claim is undone with everything else if the handler
        // fails. A successful step's savepoint is never released: it stays on SQLite's savepoint
        // stack until the batch commits, which saves a round trip per event.
        let (savepoint, claimed) = tx
            .savepoint_with(
                "INSERT INTO consumer_inbox (subscription, event_id, seq, handled_at) VALUES (?, ?, ?, ?)
                                  ON CONFLICT (subscription, event_id) DO NOTHING RETURNING 1",
                (&self.name, event.event_id, event.seq, Timestamp::now()),
            )
            .await?;
        if !claimed {
            tx.rollback_to(savepoint).await?;
            self.db.metrics().event_duplicate(&self.name);
            return Ok(Applied::Duplicate);
        }
        tx.set_trace(Trace::caused_by(event));
        let span = tracing::info_span!(
            "handle_event",
            subscription = %self.name,
            event_type = %event.event_type,
            seq = event.seq,
            correlation_id = %event.correlation_id,
        );
        match self.handler.handle(tx, event).instrument(span).await {
            Ok(()) => Ok(Applied::Handled),
            Err(e) => {
                tx.rollback_to(savepoint).await?;
                Err(ApplyError::Handler(e))
            }
        }
    }

    /// Applies `batch` (consecutive events of the stream) in as few transactions as possible.
    async fn process(&self, batch: &[Arc<Envelope>], checkpoint: &mut i64) -> Result<(), Error> {
        let mut start = 0;
        while start < batch.len() {
            let mut tx = self.db.write(Trace::new_root()).await?;
            let mut last = None;
            let mut handled = Vec::new();
            let mut failure = None;
            for (i, event) in batch.iter().enumerate().skip(start) {
                match self.apply(&mut tx, event).await {
                    Ok(outcome) => {
                        if matches!(outcome, Applied::Handled) {
                            handled.push(event.occurred_at);
                        }
                        last = Some(event.seq);
                    }
                    Err(ApplyError::Handler(e)) => {
                        failure = Some((i, e));
                        break;
                    }
                    Err(ApplyError::Storage(e)) => return Err(e),
                }
            }
            if let Some(seq) = last {
                self.save_checkpoint(&mut tx, seq).await?;
            }
            tx.commit().await?;
            if let Some(seq) = last {
                *checkpoint = (*checkpoint).max(seq);
                self.advanced(seq, &handled);
            }
            match failure {
                None => break,
                Some((i, error)) => {
                    let event = &batch[i];
                    let handled = self.retry_or_park(event, error).await?;
                    *checkpoint = (*checkpoint).max(event.seq);
                    self.advanced(event.seq, handled.as_slice());
                    start = i + 1;
                }
            }
        }
        Ok(())
    }

    /// Retries a failed event with backoff; parks it when the attempts run out. Returns the
    /// event's time when it was finally applied (for latency), nothing when parked.
    async fn retry_or_park(
        &self,
        event: &Envelope,
        first: HandlerError,
    ) -> Result<Option<Timestamp>, Error> {
        let policy = self.config.retry;
        let mut attempts = 1;
        let mut error = first;
        loop {
            tracing::warn!(
                subscription = %self.name, seq = event.seq, event_type = %event.event_type,
                attempts, error = %error, "event handler failed"
            );
            self.note_error(format!("{} #{}: {}", event.event_type, event.seq, error));
            if matches!(error, HandlerError::Permanent(_)) || attempts >= policy.max_attempts {
                break;
            }
            self.retried.fetch_add(1, Ordering::Relaxed);
            self.db.metrics().event_retried(&self.name);
            tokio::time::sleep(policy.delay(attempts)).await;
            attempts += 1;
            let mut tx = self.db.write(Trace::new_root()).await?;
            match self.apply(&mut tx, event).await {
                Ok(outcome) => {
                    self.save_checkpoint(&mut tx, event.seq).await?;
                    tx.commit().await?;
                    return Ok(matches!(outcome, Applied::Handled).then_some(event.occurred_at));
                }
                Err(ApplyError::Handler(e)) => error = e,
                Err(ApplyError::Storage(e)) => return Err(e),
            }
        }
        let mut tx = self.db.write(Trace::new_root()).await?;
        sqlx::query(
            "INSERT INTO dead_letters (subscription, stream, seq, event_id, event_type, envelope, error, attempts, parked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription, event_id) DO UPDATE SET \
             status = 'parked', error = excluded.error, attempts = dead_letters.attempts + excluded.attempts, \
             parked_at = excluded.parked_at, resolved_at = NULL, resolved_by = NULL",
        )
        .bind(&self.name)
        .bind(self.source.stream())
        .bind(event.seq)
        .bind(event.event_id)
        .bind(&event.event_type)
        .bind(serde_json::to_string(event)?)
        .bind(error.to_string())
        .bind(i64::from(attempts))
        .bind(Timestamp::now())
        .execute(tx.conn())
        .await
        .map_err(Error::db(self.module()))?;
        self.save_checkpoint(&mut tx, event.seq).await?;
        tx.commit().await?;
        self.db.metrics().event_dead_lettered(&self.name);
        tracing::error!(
            subscription = %self.name, seq = event.seq, event_type = %event.event_type,
            event_id = %event.event_id, attempts, error = %error,
            "event parked as a dead letter; later events keep flowing"
        );
        Ok(None)
    }

    async fn catch_up(
        &self,
        checkpoint: &mut i64,
        reason: &str,
        shutdown: Option<&CancellationToken>,
    ) -> Result<(), Error> {
        let limit = u32::try_from(self.config.batch_size).unwrap_or(u32::MAX);
        let mut counted = false;
        loop {
            let batch = self.source.read(*checkpoint, limit).await?;
            let Some(last) = batch.last() else { break };
            if !counted {
                self.db.metrics().catch_up(&self.name, reason);
                counted = true;
            }
            self.note_head(last.seq);
            let full = batch.len() >= self.config.batch_size;
            self.process(&batch, checkpoint).await?;
            if !full || shutdown.is_some_and(|s| s.is_cancelled()) {
                break;
            }
        }
        if reason == "safety_net" {
            self.prune_inbox(*checkpoint).await?;
        }
        Ok(())
    }

    async fn prune_inbox(&self, checkpoint: i64) -> Result<(), Error> {
        let retention = self.config.inbox_retention.max(0);
        if checkpoint <= retention {
            return Ok(());
        }
        // In slices of a few thousand rows, one short transaction each: a single DELETE of a
        // large backlog held the module's only writer for seconds.
        loop {
            let mut tx = self.db.write(Trace::new_root()).await?;
            let done = sqlx::query(
                "DELETE FROM consumer_inbox WHERE subscription = ? AND seq < MIN(?, \
                 (SELECT MIN(seq) FROM consumer_inbox WHERE subscription = ?) + ?)",
            )
            .bind(&self.name)
            .bind(checkpoint - retention)
            .bind(&self.name)
            .bind(INBOX_PRUNE_SLICE)
            .execute(tx.conn())
            .await
            .map_err(Error::db(self.module()))?;
            tx.commit().await?;
            if done.rows_affected() == 0 {
                return Ok(());
            }
            tokio::task::yield_now().await;
        }
    }

    fn dead_letter_from_row(&self, row: &sqlx::sqlite::SqliteRow) -> Result<DeadLetter, Error> {
        let read = || -> Result<DeadLetter, sqlx::Error> {
            let envelope: String = row.try_get("envelope")?;
            Ok(DeadLetter {
                id: row.try_get("id")?,
                subscription: row.try_get("subscription")?,
                envelope: serde_json::from_str(&envelope)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                error: row.try_get("error")?,
                attempts: row.try_get("attempts")?,
                parked_at: row.try_get("parked_at")?,
                status: row.try_get("status")?,
                resolved_at: row.try_get("resolved_at")?,
                resolved_by: row.try_get("resolved_by")?,
            })
        };
        read().map_err(Error::db(self.module()))
    }

    async fn parked_envelope(&self, tx: &mut WriteTx, id: i64) -> Result<Option<Envelope>, Error> {
        let envelope: Option<String> = sqlx::query_scalar(
            "SELECT envelope FROM dead_letters WHERE id = ? AND subscription = ? AND status = 'parked'",
        )
        .bind(id)
        .bind(&self.name)
        .fetch_optional(tx.conn())
        .await
        .map_err(Error::db(self.module()))?;
        envelope
            .map(|e| serde_json::from_str(&e).map_err(Error::from))
            .transpose()
    }

    async fn resolve(
        &self,
        tx: &mut WriteTx,
        id: i64,
        status: &str,
        actor: &str,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE dead_letters SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ?",
        )
        .bind(status)
        .bind(Timestamp::now())
        .bind(actor)
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(Error::db(self.module()))?;
        Ok(())
    }
}

#[async_trait]
impl<H: Handler> Runner for Core<H> {
    fn name(&self) -> &str {
        &self.name
    }

    fn stream(&self) -> String {
        self.source.stream().to_owned()
    }

    fn event_types(&self) -> &'static [&'static str] {
        self.handler.event_types()
    }

    fn checkpoint(&self) -> watch::Receiver<i64> {
        self.checkpoint.subscribe()
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // Subscribe before the first catch-up, so nothing committed in between is missed.
        let mut rx = self.source.subscribe();
        let stream = self.source.stream().to_owned();
        let mut checkpoint = loop {
            match self.load_checkpoint().await {
                Ok(c) => break c,
                Err(e) => {
                    self.note_error(&e);
                    tracing::warn!(error = %e, "cannot read checkpoint; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        self.checkpoint.send_replace(checkpoint);
        let mut pending_catch_up = Some("start");
        let mut ticker = tokio::time::interval(self.config.safety_net);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            if let Some(reason) = pending_catch_up.take()
                && let Err(e) = self
                    .catch_up(&mut checkpoint, reason, Some(&shutdown))
                    .await
            {
                self.note_error(&e);
                tracing::warn!(error = %e, reason, "catch-up failed; retrying");
                pending_catch_up = Some("retry");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                received = rx.recv() => match received {
                    Ok(event) => {
                        if event.stream != stream {
                            continue;
                        }
                        self.note_head(event.seq);
                        if event.seq <= checkpoint {
                            continue;
                        }
                        if event.seq != checkpoint + 1 {
                            pending_catch_up = Some("gap");
                            continue;
                        }
                        let mut batch = vec![event];
                        while batch.len() < self.config.batch_size {
                            match rx.try_recv() {
                                Ok(next) if next.stream != stream => {}
                                Ok(next) => {
                                    self.note_head(next.seq);
                                    let expected = batch.last().map_or(0, |e| e.seq) + 1;
                                    if next.seq == expected {
                                        batch.push(next);
                                    } else if next.seq > expected {
                                        pending_catch_up = Some("gap");
                                        break;
                                    }
                                }
                                Err(TryRecvError::Lagged(_)) => {
                                    pending_catch_up = Some("lagged");
                                    break;
                                }
                                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                            }
                        }
                        if let Err(e) = self.process(&batch, &mut checkpoint).await {
                            self.note_error(&e);
                            tracing::warn!(error = %e, "applying events failed; will catch up");
                            pending_catch_up = Some("retry");
                            tokio::select! {
                                _ = shutdown.cancelled() => break,
                                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            }
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "bus receiver lagged; catching up from the log");
                        pending_catch_up = Some("lagged");
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = ticker.tick() => pending_catch_up = Some("safety_net"),
            }
        }
        tracing::debug!(checkpoint, "subscription stopped");
    }

    async fn drain(&self) -> Result<i64, Error> {
        let mut checkpoint = self.load_checkpoint().await?;
        self.checkpoint.send_replace(checkpoint);
        self.catch_up(&mut checkpoint, "drain", None).await?;
        Ok(checkpoint)
    }

    async fn status(&self) -> SubscriptionStatus {
        let checkpoint = *self.checkpoint.borrow();
        if let Ok(head) = self.source.head().await {
            self.note_head(head.seq);
        }
        let head = self.head_seen.load(Ordering::Relaxed).max(checkpoint);
        let lag_ms = if head > checkpoint {
            match self.source.read(checkpoint, 1).await {
                Ok(next) => next.first().map_or(0, |e| {
                    i64::try_from(Timestamp::now().duration_since(e.occurred_at).as_millis())
                        .unwrap_or(i64::MAX)
                }),
                Err(_) => -1,
            }
        } else {
            0
        };
        let parked = match self.db.reader() {
            Ok(pool) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM dead_letters WHERE subscription = ? AND status = 'parked'",
            )
            .bind(&self.name)
            .fetch_one(pool)
            .await
            .unwrap_or(-1),
            Err(_) => -1,
        };
        let propagation = {
            let h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
            if h.is_empty() {
                LatencySummary::default()
            } else {
                LatencySummary {
                    count: h.len(),
                    p50_us: h.value_at_quantile(0.50),
                    p90_us: h.value_at_quantile(0.90),
                    p99_us: h.value_at_quantile(0.99),
                    max_us: h.max(),
                }
            }
        };
        SubscriptionStatus {
            name: self.name.clone(),
            consumer: self.module().to_owned(),
            stream: self.source.stream().to_owned(),
            event_types: self.handler.event_types().to_vec(),
            checkpoint,
            head,
            lag: head - checkpoint,
            lag_ms,
            handled: self.handled.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            parked,
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            propagation,
        }
    }

    async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        let sql = if all {
            "SELECT * FROM dead_letters WHERE subscription = ? ORDER BY id DESC LIMIT 500"
        } else {
            "SELECT * FROM dead_letters WHERE subscription = ? AND status = 'parked' ORDER BY id DESC LIMIT 500"
        };
        let rows = sqlx::query(sql)
            .bind(&self.name)
            .fetch_all(self.db.reader()?)
            .await
            .map_err(Error::db(self.module()))?;
        rows.iter()
            .map(|row| self.dead_letter_from_row(row))
            .collect()
    }

    async fn retry_dead_letter(&self, id: i64, actor: &str) -> Result<DeadLetterOutcome, Error> {
        let mut tx = self.db.write(Trace::new_root()).await?;
        let Some(event) = self.parked_envelope(&mut tx, id).await? else {
            return Ok(DeadLetterOutcome::NotFound);
        };
        match self.apply(&mut tx, &event).await {
            Ok(outcome) => {
                self.resolve(&mut tx, id, "retried", actor).await?;
                tx.commit().await?;
                if matches!(outcome, Applied::Handled) {
                    self.handled.fetch_add(1, Ordering::Relaxed);
                }
                tracing::info!(subscription = %self.name, id, actor, event_id = %event.event_id, "dead letter retried and applied");
                Ok(DeadLetterOutcome::Applied)
            }
            Err(ApplyError::Handler(e)) => {
                let error = e.to_string();
                sqlx::query(
                    "UPDATE dead_letters SET error = ?, attempts = attempts + 1 WHERE id = ?",
                )
                .bind(&error)
                .bind(id)
                .execute(tx.conn())
                .await
                .map_err(Error::db(self.module()))?;
                tx.commit().await?;
                tracing::warn!(subscription = %self.name, id, actor, error = %error, "dead letter retried and failed again");
                Ok(DeadLetterOutcome::StillFailing { error })
            }
            Err(ApplyError::Storage(e)) => Err(e),
        }
    }

    async fn replay(
        &self,
        tx: &mut WriteTx,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<i64, Error> {
        let db = Error::db(self.module());
        sqlx::query("DELETE FROM consumer_inbox WHERE subscription = ?")
            .bind(&self.name)
            .execute(tx.conn())
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM consumer_checkpoints WHERE subscription = ?")
            .bind(&self.name)
            .execute(tx.conn())
            .await
            .map_err(Error::db(self.module()))?;
        sqlx::query(
            "UPDATE dead_letters SET status = 'retried', resolved_at = ?, resolved_by = 'rebuild' \
             WHERE subscription = ? AND status = 'parked'",
        )
        .bind(Timestamp::now())
        .bind(&self.name)
        .execute(tx.conn())
        .await
        .map_err(Error::db(self.module()))?;
        let limit = u32::try_from(self.config.batch_size.max(500)).unwrap_or(500);
        let mut last = 0;
        let mut read = 0u64;
        loop {
            let batch = self.source.read(last, limit).await?;
            if batch.is_empty() {
                break;
            }
            for event in &batch {
                match self.apply(tx, event).await {
                    Ok(_) => {}
                    Err(ApplyError::Handler(e)) => {
                        // The same rule as live: park it, keep going.
                        sqlx::query(
                            "INSERT INTO dead_letters (subscription, stream, seq, event_id, event_type, envelope, error, attempts, parked_at) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (subscription, event_id) DO UPDATE SET \
                             status = 'parked', error = excluded.error, parked_at = excluded.parked_at, resolved_at = NULL, resolved_by = NULL",
                        )
                        .bind(&self.name)
                        .bind(self.source.stream())
                        .bind(event.seq)
                        .bind(event.event_id)
                        .bind(&event.event_type)
                        .bind(serde_json::to_string(&**event)?)
                        .bind(e.to_string())
                        .bind(Timestamp::now())
                        .execute(tx.conn())
                        .await
                        .map_err(Error::db(self.module()))?;
                        self.db.metrics().event_dead_lettered(&self.name);
                    }
                    Err(ApplyError::Storage(e)) => return Err(e),
                }
                last = event.seq;
            }
            read += batch.len() as u64;
            progress(read);
            self.note_head(last);
        }
        self.save_checkpoint(tx, last).await?;
        Ok(last)
    }

    fn replayed(&self, seq: i64) {
        self.checkpoint.send_if_modified(|c| {
            if seq > *c {
                *c = seq;
                true
            } else {
                false
            }
        });
    }

    async fn producer_head(&self) -> Result<i64, Error> {
        let head = self.source.head().await?.seq;
        self.note_head(head);
        Ok(head)
    }

    async fn discard_dead_letter(&self, id: i64, actor: &str) -> Result<DeadLetterOutcome, Error> {
        let mut tx = self.db.write(Trace::new_root()).await?;
        if self.parked_envelope(&mut tx, id).await?.is_none() {
            return Ok(DeadLetterOutcome::NotFound);
        }
        self.resolve(&mut tx, id, "discarded", actor).await?;
        tx.commit().await?;
        tracing::warn!(subscription = %self.name, id, actor, "dead letter discarded by operator");
        Ok(DeadLetterOutcome::Discarded)
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
