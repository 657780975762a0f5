//! How an outbox event is laid out on JetStream, and how a stored message is read back.
//!
//! One JetStream stream per module stream and deployment: `<prefix>_<stream>`, holding the
//! subjects `<prefix>.events.<stream>.>`. Each event is published on
//! `<prefix>.events.<stream>.<EventType>` with its envelope as JSON and these headers:
//!
//! - `Nats-Msg-Id`: the event id (JetStream's de-duplication; correctness does not rely on it);
//! - `Nats-Expected-Last-Sequence` (the first of a batch: the stream's last sequence the relay
//!   knows) or `Nats-Expected-Last-Msg-Id` (every next one: the event before it), so a second
//!   relay, a retried publish or a stranger's message in between is refused instead of
//!   interleaved, and an event is never stored without its predecessor;
//! - `Boxoffice-Seq`: the event's position in its producer's outbox;
//! - `Boxoffice-Prev-Seq`: the position of the event the relay published before it, so a reader
//!   knows a run of events is complete (nothing between them was lost to retention or a reset).

use std::sync::Arc;

use async_nats::{HeaderMap, jetstream::message::StreamMessage};
use kernel::{Envelope, Timestamp};
use uuid::Uuid;

/// The header with the event's outbox position.
pub(crate) const SEQ_HEADER: &str = "Boxoffice-Seq";
/// The header with the previous relayed event's outbox position.
pub(crate) const PREV_SEQ_HEADER: &str = "Boxoffice-Prev-Seq";

/// The names one deployment uses on a NATS server.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    prefix: String,
}

impl Names {
    pub(crate) fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.to_owned(),
        }
    }

    /// The JetStream stream holding `stream`'s events.
    pub(crate) fn stream(&self, stream: &str) -> String {
        format!("{}_{stream}", self.prefix)
    }

    /// Every subject of `stream`'s events.
    pub(crate) fn subjects(&self, stream: &str) -> String {
        format!("{}.events.{stream}.>", self.prefix)
    }

    /// The subject an event of `event_type` is published on.
    pub(crate) fn subject(&self, stream: &str, event_type: &str) -> String {
        format!("{}.events.{stream}.{event_type}", self.prefix)
    }
}

/// A prefix is one token of letters, digits, `-` and `_`: it names streams and subjects.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The headers of an event that follows the one at outbox position `prev`.
pub(crate) fn headers(event: &Envelope, prev: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(SEQ_HEADER, event.seq.to_string().as_str());
    headers.insert(PREV_SEQ_HEADER, prev.to_string().as_str());
    headers
}

/// A stored message of a module's JetStream stream, read back.
#[derive(Clone, Debug)]
pub(crate) enum Stored {
    /// One of the producer's events: its envelope and the outbox position of the event the relay
    /// published before it.
    Event { envelope: Arc<Envelope>, prev: i64 },
    /// Anything else that arrived on the stream's subjects, with why it is not an event.
    Foreign {
        subject: String,
        message_id: Option<String>,
        reason: String,
        body: String,
        received_at: Timestamp,
    },
}

impl Stored {
    /// Reads a message of `stream`'s JetStream stream.
    pub(crate) fn read(stream: &str, message: &StreamMessage) -> Stored {
        Self::parse(
            stream,
            message.subject.as_str(),
            &message.headers,
            &message.payload,
            time_of(message.time),
        )
    }

    /// Reads a message as delivered to a consumer.
    pub(crate) fn parse(
        stream: &str,
        subject: &str,
        headers: &HeaderMap,
        payload: &[u8],
        received_at: Timestamp,
    ) -> Stored {
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        let foreign = |reason: String| Stored::Foreign {
            subject: subject.to_owned(),
            message_id: header("Nats-Msg-Id"),
            reason,
            body: String::from_utf8_lossy(&payload[..payload.len().min(4096)]).into_owned(),
            received_at,
        };
        let Some(seq) = header(SEQ_HEADER).and_then(|s| s.parse::<i64>().ok()) else {
            return foreign(format!("no {SEQ_HEADER} header: not published by a relay"));
        };
        let prev = header(PREV_SEQ_HEADER)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(seq - 1);
        match serde_json::from_slice::<Envelope>(payload) {
            Err(e) => foreign(format!("not an event envelope: {e}")),
            Ok(envelope) if envelope.stream != stream || envelope.seq != seq => foreign(format!(
                "an envelope of {}#{} on the subjects of {stream}#{seq}",
                envelope.stream, envelope.seq
            )),
            Ok(envelope) => Stored::Event {
                envelope: Arc::new(envelope),
                prev,
            },
        }
    }

    /// The producer's position of this event, when it is one.
    pub(crate) fn seq(&self) -> Option<i64> {
        match self {
            Stored::Event { envelope, .. } => Some(envelope.seq),
            Stored::Foreign { .. } => None,
        }
    }

    /// What a consumer is handed: the event, or an unreadable envelope standing for the foreign
    /// message (after the producer's event at `after_seq`, at `stream_seq` in JetStream).
    pub(crate) fn into_envelope(
        self,
        stream: &str,
        after_seq: i64,
        stream_seq: u64,
    ) -> Arc<Envelope> {
        match self {
            Stored::Event { envelope, .. } => envelope,
            Stored::Foreign {
                subject,
                message_id,
                reason,
                body,
                received_at,
            } => {
                let id = message_id
                    .as_deref()
                    .and_then(|m| Uuid::parse_str(m).ok())
                    .unwrap_or_else(|| foreign_id(stream, stream_seq));
                Arc::new(Envelope::unreadable(
                    stream,
                    after_seq,
                    id,
                    serde_json::json!({
                        "subject": subject,
                        "jetstream_sequence": stream_seq,
                        "message_id": message_id,
                        "reason": reason,
                        "body": body,
                    }),
                    received_at,
                ))
            }
        }
    }
}

/// A stable id for a foreign message without a usable message id: its stream and position.
fn foreign_id(stream: &str, stream_seq: u64) -> Uuid {
    // FNV-1a of the stream's name: stable across processes and builds.
    let hash = stream.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Uuid::from_u64_pair(hash, stream_seq)
}

/// A JetStream time as a kernel timestamp.
pub(crate) fn time_of(time: time::OffsetDateTime) -> Timestamp {
    let micros = time.unix_timestamp_nanos() / 1_000;
    Timestamp::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(stream: &str, seq: i64) -> Envelope {
        serde_json::from_value(serde_json::json!({
            "stream": stream, "seq": seq, "event_id": Uuid::now_v7(), "event_type": "Pinged",
            "event_version": 1, "aggregate_id": "a", "payload": {"n": 1},
            "correlation_id": Uuid::now_v7(), "causation_id": Uuid::now_v7(),
            "occurred_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn an_event_reads_back_with_its_position_and_its_predecessor() {
        let e = envelope("users", 7);
        let body = serde_json::to_vec(&e).unwrap();
        let stored = Stored::parse(
            "users",
            "x.events.users.Pinged",
            &headers(&e, 5),
            &body,
            Timestamp::from_micros(0),
        );
        assert!(
            matches!(&stored, Stored::Event { envelope, prev: 5 } if envelope.event_id == e.event_id)
        );
        assert_eq!(stored.seq(), Some(7));
    }

    #[test]
    fn anything_else_on_the_subjects_is_foreign_and_becomes_an_unreadable_envelope() {
        let e = envelope("users", 7);
        let body = serde_json::to_vec(&e).unwrap();
        let cases = [
            (HeaderMap::new(), body.clone()),
            (headers(&e, 6), b"garbage".to_vec()),
            (headers(&envelope("users", 8), 7), body),
        ];
        for (h, body) in cases {
            let stored = Stored::parse(
                "users",
                "x.events.users.Nope",
                &h,
                &body,
                Timestamp::from_micros(0),
            );
            assert!(matches!(stored, Stored::Foreign { .. }), "{stored:?}");
            let unreadable = stored.into_envelope("users", 6, 42);
            assert!(unreadable.is_unreadable());
            assert_eq!((unreadable.seq, unreadable.stream.as_str()), (6, "users"));
            // The same message is the same dead letter, however often it is read.
            assert_eq!(unreadable.event_id, foreign_id("users", 42));
        }
    }

    #[test]
    fn a_prefix_is_one_subject_token() {
        assert!(valid_prefix("boxoffice"));
        assert!(valid_prefix("t-1_x"));
        for bad in ["", "a.b", "a b", "a*", ">"] {
            assert!(!valid_prefix(bad), "{bad}");
        }
    }
}
