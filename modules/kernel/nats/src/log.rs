//! A module's stream as another process reads it: [`JetStreamLog`] implements the kernel's
//! [`EventSource`] over the module's JetStream stream, so a subscription in this process catches
//! up from its own checkpoint exactly as it does from an outbox in the same process. The
//! follower feeds the stream's new messages into this process's bus (the fast path); the log is
//! the truth.
//!
//! JetStream numbers messages itself. Relayed events are normally numbered like the outbox, but
//! a stranger's message in between shifts the numbering, so the log finds an outbox position by
//! the `Boxoffice-Seq` header: first where it would be, then by binary search (relayed events
//! are strictly increasing along the stream), remembering recent positions.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::jetstream::{
    consumer::{AckPolicy, DeliverPolicy, pull},
    stream::Stream,
};
use async_trait::async_trait;
use futures_util::StreamExt;
use kernel::{Bus, Envelope, Error, EventQuery, EventSource, ModuleOps, StreamHead};
use tokio::{sync::broadcast, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    Nats,
    status::FollowerStatus,
    wire::{Stored, time_of},
};

/// How many positions a log remembers.
const REMEMBERED: usize = 4096;
/// Foreign messages a read returns beyond its limit of events.
const FOREIGN_SLACK: usize = 256;
/// How far a scan for the next relayed event looks past foreign or deleted messages.
const SCAN: u64 = 64;

/// A module's stream read from JetStream by a process that does not host the module.
pub struct JetStreamLog {
    nats: Nats,
    stream: &'static str,
    bus: Bus,
    owner: Arc<dyn ModuleOps>,
    /// Outbox position → JetStream sequence, for recently seen events.
    positions: Mutex<BTreeMap<i64, u64>>,
}

impl JetStreamLog {
    pub(crate) fn new(
        nats: Nats,
        stream: &'static str,
        bus: Bus,
        owner: Arc<dyn ModuleOps>,
    ) -> JetStreamLog {
        JetStreamLog {
            nats,
            stream,
            bus,
            owner,
            positions: Mutex::new(BTreeMap::new()),
        }
    }

    /// The stream's name.
    pub fn stream_name(&self) -> &'static str {
        self.stream
    }

    fn unavailable(&self, what: impl std::fmt::Display) -> Error {
        Error::Remote {
            module: self.stream.to_owned(),
            unavailable: true,
            message: format!("reading the {} stream from NATS: {what}", self.stream),
        }
    }

    fn remember(&self, seq: i64, stream_seq: u64) {
        let mut positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        positions.insert(seq, stream_seq);
        while positions.len() > REMEMBERED {
            positions.pop_first();
        }
    }

    fn remembered(&self, seq: i64) -> Option<u64> {
        self.positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&seq)
            .copied()
    }

    /// The message at JetStream sequence `at`, if the stream holds it.
    async fn message_at(&self, stream: &Stream, at: u64) -> Option<Stored> {
        let message = stream.get_raw_message(at).await.ok()?;
        let stored = Stored::read(self.stream, &message);
        if let Some(seq) = stored.seq() {
            self.remember(seq, at);
        }
        Some(stored)
    }

    /// The first relayed event at or after JetStream sequence `from` (up to `last`), with its
    /// JetStream sequence.
    async fn event_from(&self, stream: &Stream, from: u64, last: u64) -> Option<(u64, i64)> {
        for at in from..=last.min(from.saturating_add(SCAN)) {
            if let Some(Stored::Event { envelope, .. }) = self.message_at(stream, at).await {
                return Some((at, envelope.seq));
            }
        }
        None
    }

    /// Where reading after outbox position `after` starts in JetStream: just past the event
    /// `after` (so a foreign message right after it is read too), or at the first event after it
    /// when the stream no longer holds `after` itself.
    async fn start_after(&self, stream: &Stream, after: i64, first: u64, last: u64) -> u64 {
        if after <= 0 {
            return first;
        }
        if let Some(at) = self.remembered(after) {
            return at + 1;
        }
        // Where it is when nothing shifted the numbering.
        if let Ok(guess) = u64::try_from(after)
            && (first..=last).contains(&guess)
            && let Some(Stored::Event { envelope, .. }) = self.message_at(stream, guess).await
            && envelope.seq == after
        {
            return guess + 1;
        }
        // Binary search for the first JetStream position whose next event lies beyond `after`.
        let (mut lo, mut hi) = (first, last + 1);
        let mut found: Option<(u64, i64)> = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.event_from(stream, mid, last).await {
                Some((at, seq)) if seq >= after => {
                    found = Some((at, seq));
                    hi = mid;
                }
                Some((at, _)) => lo = at + 1,
                None => hi = mid,
            }
        }
        match found {
            Some((at, seq)) if seq == after => at + 1,
            Some((at, _)) => at,
            None => last + 1,
        }
    }
}

#[async_trait]
impl EventSource for JetStreamLog {
    fn stream(&self) -> &str {
        self.stream
    }

    async fn read(&self, after_seq: i64, limit: u32) -> Result<Vec<Arc<Envelope>>, Error> {
        let (stream, info) = self
            .nats
            .stream_state(self.stream)
            .await
            .map_err(|e| self.unavailable(e))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        if last == 0 || last < first {
            return Ok(Vec::new());
        }
        let start = self.start_after(&stream, after_seq, first, last).await;
        if start > last {
            return Ok(Vec::new());
        }
        let consumer = stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ack_policy: AckPolicy::None,
                inactive_threshold: Duration::from_secs(30),
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(|e| self.unavailable(e))?;
        let wanted = limit as usize;
        let mut messages = consumer
            .fetch()
            .max_messages(wanted + FOREIGN_SLACK)
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .map_err(|e| self.unavailable(e))?;
        let mut out: Vec<Arc<Envelope>> = Vec::new();
        let mut events = 0;
        let mut prev_seq = after_seq;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| self.unavailable(e))?;
            let Ok(meta) = message.info() else { continue };
            let at = meta.stream_sequence;
            let stored = Stored::parse(
                self.stream,
                message.subject.as_str(),
                message.headers.as_ref().unwrap_or(&Default::default()),
                &message.payload,
                time_of(meta.published),
            );
            if let Stored::Event { envelope, prev } = &stored {
                if envelope.seq <= prev_seq {
                    // Relayed twice (a publish retried across a relay restart): already read.
                    continue;
                }
                // Every relayed event names the one published before it: a later one means
                // the events between are not on the stream (retention, a reset), whether this
                // is the read's first event or not, and from the very start too.
                if *prev > prev_seq {
                    return Err(Error::Remote {
                        module: self.stream.to_owned(),
                        unavailable: false,
                        message: format!(
                            "the {} stream on NATS no longer holds events {}..{} (retention or \
                             a reset): they cannot be read from it",
                            self.stream,
                            prev_seq + 1,
                            prev
                        ),
                    });
                }
                self.remember(envelope.seq, at);
                prev_seq = envelope.seq;
                events += 1;
            }
            out.push(stored.into_envelope(self.stream, prev_seq, at));
            if events >= wanted || at >= last {
                break;
            }
        }
        self.nats.forget_consumer(stream, consumer);
        Ok(out)
    }

    async fn head(&self) -> Result<StreamHead, Error> {
        let (stream, info) = self
            .nats
            .stream_state(self.stream)
            .await
            .map_err(|e| self.unavailable(e))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut at = last;
        while at >= first.max(1) && last - at < SCAN * 16 {
            if let Some(Stored::Event { envelope, .. }) = self.message_at(&stream, at).await {
                return Ok(StreamHead {
                    seq: envelope.seq,
                    occurred_at: Some(envelope.occurred_at),
                });
            }
            at -= 1;
        }
        Ok(StreamHead::default())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.bus.subscribe()
    }

    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error> {
        // People browse through the owner, which can filter its outbox by type and correlation.
        self.owner.browse(query).await
    }
}

/// Feeds `log`'s new messages into the bus until `shutdown`, recreating its consumer after a
/// failure; events it misses (while NATS is away) are read from the log by the subscriptions.
pub(crate) fn follow(
    nats: Nats,
    log: Arc<JetStreamLog>,
    status: Arc<FollowerStatus>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stream_name = log.stream;
        loop {
            let run = follow_once(&nats, &log, &status);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                result = run => {
                    if let Err(e) = result {
                        status.failed(&e);
                        tracing::warn!(stream = stream_name, error = %e, "following the stream on NATS failed; retrying");
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

async fn follow_once(
    nats: &Nats,
    log: &JetStreamLog,
    status: &FollowerStatus,
) -> Result<(), String> {
    nats.await_connection().await?;
    let stream = nats
        .stream_handle(log.stream)
        .await
        .map_err(|e| e.to_string())?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    status.following();
    let mut last_seq = 0;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| e.to_string())?;
        let Ok(meta) = message.info() else { continue };
        let at = meta.stream_sequence;
        let stored = Stored::parse(
            log.stream,
            message.subject.as_str(),
            message.headers.as_ref().unwrap_or(&Default::default()),
            &message.payload,
            time_of(meta.published),
        );
        match &stored {
            Stored::Event { envelope, .. } => {
                log.remember(envelope.seq, at);
                last_seq = envelope.seq;
                status.received(envelope.seq);
            }
            Stored::Foreign {
                subject, reason, ..
            } => {
                status.foreign(subject, reason);
                tracing::error!(
                    stream = log.stream,
                    subject,
                    reason,
                    jetstream_sequence = at,
                    "a message that is not an event arrived on the stream's subjects"
                );
            }
        }
        log.bus
            .publish(stored.into_envelope(log.stream, last_seq, at));
    }
    Err("the stream's consumer ended".into())
}
