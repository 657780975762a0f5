//! The relay: a module's outbox, published to its JetStream stream after commit, in order.
//!
//! Where it stands is read from JetStream itself on every start and after every failure: the
//! last relayed event in the stream (its `Boxoffice-Seq` header) is where the relay resumes, so
//! a crash between an acknowledgement and the local mark repeats nothing, and a lost stream is
//! filled again from the outbox. Publishes are pipelined (a batch is sent, then its
//! acknowledgements are awaited in order), the first expecting the stream's last sequence and
//! each next one the message before it: an event counts as relayed only once acknowledged, a
//! refused one refuses every later one of its batch, and the relay goes back to reading where the
//! stream stands.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream::{context::PublishAckFuture, message::PublishMessage};
use kernel::{Envelope, EventSource, ModuleHandle};
use tokio::{sync::broadcast::error::RecvError, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    Nats,
    status::RelayStatus,
    wire::{self, Stored},
};

/// Events read from the outbox and published per round.
const BATCH: u32 = 256;
/// How often an idle relay looks at its outbox (events committed by another process, such as
/// `boxoffice users create-admin`, announce nothing on this process's bus).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The pause after a failure before the relay reads where the stream stands again.
const PAUSE: Duration = Duration::from_secs(1);
/// How far back from the stream's end the relay looks for its last event.
const LOOK_BACK: u64 = 1024;

/// Relays `handle`'s outbox until `shutdown`.
pub(crate) fn spawn(
    nats: Nats,
    handle: ModuleHandle,
    status: Arc<RelayStatus>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let relay = Relay {
            log: handle.event_log(),
            nats,
            handle,
            status,
        };
        relay.run(shutdown).await;
    })
}

struct Relay {
    nats: Nats,
    handle: ModuleHandle,
    log: Arc<dyn EventSource>,
    status: Arc<RelayStatus>,
}

/// Where the relay stands: the stream's last sequence and the last relayed outbox position.
#[derive(Clone, Copy, Debug)]
struct Position {
    stream_seq: u64,
    relayed: i64,
}

impl Relay {
    fn stream(&self) -> &'static str {
        self.handle.name()
    }

    async fn run(&self, shutdown: CancellationToken) {
        let mut live = self.handle.bus().subscribe();
        loop {
            let position = tokio::select! {
                _ = shutdown.cancelled() => return,
                found = self.find_position() => found,
            };
            let mut position = match position {
                Ok(p) => p,
                Err(e) => {
                    self.status.failed(&e);
                    // What waits is shown even while nothing can be relayed.
                    if let Ok(head) = self.log.head().await {
                        self.status.outbox_at(head.seq);
                    }
                    tracing::warn!(stream = self.stream(), error = %e, "cannot relay to NATS yet");
                    if pause(&shutdown, PAUSE).await {
                        return;
                    }
                    continue;
                }
            };
            self.status.resumed_at(position.relayed);
            self.status.ok();
            loop {
                let batch = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    batch = self.log.read(position.relayed, BATCH) => batch,
                };
                let batch = match batch {
                    Ok(b) => b,
                    Err(e) => {
                        self.status.failed(&e.to_string());
                        if pause(&shutdown, PAUSE).await {
                            return;
                        }
                        continue;
                    }
                };
                let Some(newest) = batch.last() else {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        received = live.recv() => if matches!(received, Err(RecvError::Closed)) {
                            return;
                        },
                        () = tokio::time::sleep(IDLE_POLL) => {}
                    }
                    continue;
                };
                self.status.outbox_at(newest.seq);
                match self.publish(&batch, &mut position).await {
                    Ok(()) => self.status.ok(),
                    Err(e) => {
                        self.status.failed(&e);
                        tracing::warn!(stream = self.stream(), error = %e, relayed = position.relayed,
                            "relaying to NATS failed; resuming from where the stream stands");
                        if pause(&shutdown, PAUSE).await {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Reads where the stream stands and checks that it holds this outbox's events.
    async fn find_position(&self) -> Result<Position, String> {
        self.nats.await_connection().await?;
        let (stream, info) = self
            .nats
            .stream_state(self.stream())
            .await
            .map_err(|e| format!("NATS: {e}"))?;
        let (first, last) = (info.state.first_sequence.max(1), info.state.last_sequence);
        let mut ours = None;
        let mut at = last;
        while at >= first && last - at < LOOK_BACK {
            if let Ok(message) = stream.get_raw_message(at).await
                && let Stored::Event { envelope, .. } = Stored::read(self.stream(), &message)
            {
                ours = Some(envelope);
                break;
            }
            at -= 1;
        }
        let relayed = match ours {
            None => 0,
            Some(theirs) => {
                let mine = self
                    .log
                    .read(theirs.seq - 1, 1)
                    .await
                    .map_err(|e| e.to_string())?;
                match mine.first() {
                    Some(mine) if mine.seq == theirs.seq && mine.event_id == theirs.event_id => {
                        theirs.seq
                    }
                    Some(_) => {
                        return Err(format!(
                            "the NATS stream {} holds an event #{} that is not this outbox's \
                             (another deployment with the same prefix, or another data folder): \
                             nothing is relayed until it is removed or the prefix changed",
                            self.nats.names().stream(self.stream()),
                            theirs.seq
                        ));
                    }
                    None => {
                        return Err(format!(
                            "the NATS stream {} already holds event #{}, beyond this outbox's \
                             newest (another data folder?): nothing is relayed until it is \
                             removed or the prefix changed",
                            self.nats.names().stream(self.stream()),
                            theirs.seq
                        ));
                    }
                }
            }
        };
        let transport = self.nats.transport();
        if self.handle.relay_mark(&transport).await.ok() != Some(relayed) {
            self.handle
                .set_relay_mark(&transport, relayed)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Position {
            stream_seq: last,
            relayed,
        })
    }

    /// Publishes `batch` pipelined and awaits the acknowledgements in order; moves `position`
    /// over every acknowledged event and records it.
    async fn publish(
        &self,
        batch: &[Arc<Envelope>],
        position: &mut Position,
    ) -> Result<(), String> {
        let names = self.nats.names();
        let mut pending: Vec<(i64, PublishAckFuture)> = Vec::with_capacity(batch.len());
        let mut failure = None;
        let mut prev = position.relayed;
        let mut prev_id: Option<String> = None;
        for event in batch {
            let body = serde_json::to_vec(event.as_ref()).map_err(|e| e.to_string())?;
            let id = event.event_id.to_string();
            let message = PublishMessage::build()
                .payload(body.into())
                .headers(wire::headers(event, prev))
                .message_id(&id);
            // The first of a batch expects where the stream stands; each next one expects the
            // one before it, so once one is refused every later one is too: the stream never
            // holds an event whose predecessor it lacks.
            let message = match &prev_id {
                None => message.expected_last_sequence(position.stream_seq),
                Some(before) => message.expected_last_message_id(before),
            };
            match self
                .nats
                .jetstream()
                .send_publish(names.subject(self.stream(), &event.event_type), message)
                .await
            {
                Ok(ack) => pending.push((event.seq, ack)),
                Err(e) => {
                    failure = Some(format!("publishing #{}: {e}", event.seq));
                    break;
                }
            }
            prev = event.seq;
            prev_id = Some(id);
        }
        let before = position.relayed;
        for (seq, ack) in pending {
            match ack.await {
                Ok(ack) => {
                    position.relayed = seq;
                    position.stream_seq = ack.sequence;
                }
                Err(e) => {
                    failure = Some(format!("#{seq} was not acknowledged: {e}"));
                    break;
                }
            }
        }
        if position.relayed != before {
            self.status.relayed(position.relayed);
            // The mark is for people; where the relay resumes is read from the stream.
            if let Err(e) = self
                .handle
                .set_relay_mark(&self.nats.transport(), position.relayed)
                .await
            {
                tracing::warn!(stream = self.stream(), error = %e, "cannot record the relay mark");
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// Waits `duration` or until `shutdown`; true when shutting down.
async fn pause(shutdown: &CancellationToken, duration: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        () = tokio::time::sleep(duration) => false,
    }
}
