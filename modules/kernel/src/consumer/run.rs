//! The subscription's loop: follow the producer's live feed, apply consecutive events in batches
//! (one transaction each), catch up from the producer's log on start, lag, gaps, failures and
//! every safety-net interval, and retry a failing event with backoff before parking it.

use std::{sync::Arc, time::Duration};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{HandlerError, Inner};
use crate::{
    error::Error,
    events::{Envelope, Trace},
    time::Timestamp,
    tx::WriteTx,
};

/// How long the loop pauses after a storage failure before it tries again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What applying one event did.
pub(super) enum Applied {
    /// Not a type this handler applies: only the checkpoint moves.
    Ignored,
    /// Applied before (an inbox hit): nothing happens again.
    Duplicate,
    /// Applied now.
    Handled,
    /// Not an event at all ([`Envelope::unreadable`]): parked, with no place in the order.
    Parked,
}

/// Why applying one event failed.
pub(super) enum ApplyError {
    /// The handler refused it: retried, then parked.
    Handler(HandlerError),
    /// The consumer's own database failed: the batch is abandoned and caught up later.
    Storage(Error),
}

impl From<Error> for ApplyError {
    fn from(e: Error) -> Self {
        ApplyError::Storage(e)
    }
}

impl Inner {
    /// Runs until `shutdown`: the live loop with catch-ups.
    pub(super) async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // Subscribe before the first catch-up, so nothing committed in between is missed.
        let mut live = self.source.subscribe();
        let clock = self.db.clock().clone();
        let mut checkpoint = loop {
            match self.ledger.checkpoint().await {
                Ok(c) => break c,
                Err(e) => {
                    self.progress.note_error(&e);
                    tracing::warn!(error = %e, "cannot read checkpoint; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        () = clock.sleep(PAUSE_AFTER_FAILURE) => {}
                    }
                }
            }
        };
        self.progress.moved_to(checkpoint);
        let mut pending_catch_up = Some("start");
        let mut next_safety_net = clock.now().plus(self.config.safety_net);
        loop {
            if let Some(reason) = pending_catch_up.take()
                && let Err(e) = self
                    .catch_up(&mut checkpoint, reason, Some(&shutdown))
                    .await
            {
                self.progress.note_error(&e);
                tracing::warn!(error = %e, reason, "catch-up failed; retrying");
                pending_catch_up = Some("retry");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    () = clock.sleep(PAUSE_AFTER_FAILURE) => {}
                }
                continue;
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                received = live.recv() => match received {
                    Ok(event) => {
                        if let Some(reason) = self.on_live(event, &mut live, &mut checkpoint).await {
                            pending_catch_up = Some(reason);
                            if reason == "retry" {
                                tokio::select! {
                                    _ = shutdown.cancelled() => break,
                                    () = clock.sleep(PAUSE_AFTER_FAILURE) => {}
                                }
                            }
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "live feed lagged; catching up from the log");
                        pending_catch_up = Some("lagged");
                    }
                    Err(RecvError::Closed) => break,
                },
                () = clock.sleep_until(next_safety_net) => {
                    pending_catch_up = Some("safety_net");
                    next_safety_net = clock.now().plus(self.config.safety_net);
                }
            }
        }
        tracing::debug!(checkpoint, "subscription stopped");
    }

    /// Handles one event from the live feed, with whatever consecutive events already wait behind
    /// it; returns why a catch-up is needed, if one is.
    async fn on_live(
        &self,
        event: Arc<Envelope>,
        live: &mut tokio::sync::broadcast::Receiver<Arc<Envelope>>,
        checkpoint: &mut i64,
    ) -> Option<&'static str> {
        let stream = self.source.stream();
        if event.stream != stream {
            return None;
        }
        if event.is_unreadable() {
            return match self.process(&[event], checkpoint).await {
                Ok(()) => None,
                Err(e) => {
                    self.progress.note_error(&e);
                    Some("retry")
                }
            };
        }
        self.progress.note_head(event.seq);
        if event.seq <= *checkpoint {
            return None;
        }
        if event.seq != *checkpoint + 1 {
            return Some("gap");
        }
        let mut needs = None;
        let mut batch = vec![event];
        while batch.len() < self.config.batch_size {
            match live.try_recv() {
                Ok(next) if next.stream != stream => {}
                Ok(next) => {
                    self.progress.note_head(next.seq);
                    let expected = batch.last().map_or(0, |e| e.seq) + 1;
                    if next.seq == expected {
                        batch.push(next);
                    } else if next.seq > expected {
                        needs = Some("gap");
                        break;
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    needs = Some("lagged");
                    break;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if let Err(e) = self.process(&batch, checkpoint).await {
            self.progress.note_error(&e);
            tracing::warn!(error = %e, "applying events failed; will catch up");
            return Some("retry");
        }
        needs
    }

    /// Reads and applies everything after `checkpoint` from the producer's log.
    pub(super) async fn catch_up(
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
            self.progress.note_head(last.seq);
            let full = batch.len() >= self.config.batch_size;
            let before = *checkpoint;
            self.process(&batch, checkpoint).await?;
            // A batch of nothing but unreadable messages moves no checkpoint: reading again
            // would return the same batch.
            let stuck = *checkpoint == before && batch.iter().all(|e| e.is_unreadable());
            if !full || stuck || shutdown.is_some_and(|s| s.is_cancelled()) {
                break;
            }
        }
        if reason == "safety_net" {
            self.ledger
                .prune(*checkpoint, self.config.inbox_retention)
                .await?;
        }
        Ok(())
    }

    /// Applies one event inside `tx`: claimed in the inbox, handled under the event's trace, and
    /// rolled back on its own when the handler fails.
    pub(super) async fn apply(
        &self,
        tx: &mut WriteTx,
        event: &Envelope,
    ) -> Result<Applied, ApplyError> {
        if event.is_unreadable() {
            if self.dead_letters.park_unreadable(tx, event).await? {
                self.progress.note_error(format!(
                    "an unreadable message on the {} stream was parked",
                    event.stream
                ));
                tracing::error!(
                    subscription = %self.name, stream = %event.stream, message = %event.payload,
                    "a message that is not an event arrived; parked as a dead letter"
                );
            }
            return Ok(Applied::Parked);
        }
        if !self
            .handler
            .event_types()
            .contains(&event.event_type.as_str())
        {
            return Ok(Applied::Ignored);
        }
        let Some(savepoint) = self.ledger.claim(tx, event).await? else {
            self.db.metrics().event_duplicate(&self.name);
            return Ok(Applied::Duplicate);
        };
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
                    Ok(Applied::Parked) => {}
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
                self.ledger.save_checkpoint(&mut tx, seq).await?;
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

    fn advanced(&self, seq: i64, handled: &[Timestamp]) {
        self.progress.advanced(
            &self.name,
            seq,
            handled,
            self.db.clock().now(),
            self.db.metrics(),
        );
    }

    /// Retries a failed event with backoff (on the module's clock); parks it when the attempts
    /// run out. Returns the event's time when it was finally applied (for latency), nothing when
    /// parked.
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
            self.progress
                .note_error(format!("{} #{}: {}", event.event_type, event.seq, error));
            if matches!(error, HandlerError::Permanent(_)) || attempts >= policy.max_attempts {
                break;
            }
            self.progress.count_retry();
            self.db.metrics().event_retried(&self.name);
            self.db.clock().sleep(policy.delay(attempts)).await;
            attempts += 1;
            let mut tx = self.db.write(Trace::new_root()).await?;
            match self.apply(&mut tx, event).await {
                Ok(outcome) => {
                    self.ledger.save_checkpoint(&mut tx, event.seq).await?;
                    tx.commit().await?;
                    return Ok(matches!(outcome, Applied::Handled).then_some(event.occurred_at));
                }
                Err(ApplyError::Handler(e)) => error = e,
                Err(ApplyError::Storage(e)) => return Err(e),
            }
        }
        let mut tx = self.db.write(Trace::new_root()).await?;
        self.dead_letters
            .park(&mut tx, event, &error.to_string(), attempts)
            .await?;
        self.ledger.save_checkpoint(&mut tx, event.seq).await?;
        tx.commit().await?;
        self.dead_letters.count_parked();
        tracing::error!(
            subscription = %self.name, seq = event.seq, event_type = %event.event_type,
            event_id = %event.event_id, attempts, error = %error,
            "event parked as a dead letter; later events keep flowing"
        );
        Ok(None)
    }
}
