//! Integration events, commands, and the envelope that carries them between modules.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{ids::new_id, time::Timestamp};

/// Anything a module writes to its outbox for others to read: a type name and a schema version
/// travel with the JSON payload, so a consumer can refuse a version it does not understand
/// instead of misreading it.
///
/// Not implemented by hand: [`integration_event!`](crate::integration_event) and
/// [`command!`](crate::command) write it, in `-api` crates only.
pub trait Message: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The message's name on the wire, e.g. `BookingPlaced`.
    const TYPE: &'static str;
    /// The schema version of the payload; bump it when a field changes meaning or goes away.
    const VERSION: u16;
    /// The id of the aggregate the message is about (a user, a booking, a wallet).
    fn aggregate_id(&self) -> String;

    /// Reads a payload written at an older `version` than [`Message::VERSION`]. By default the
    /// current shape reads it (an added field's serde default, a renamed one's alias); a message
    /// whose shape changed names its older form in the macro (`older = BookingPlacedV1`), which
    /// is read as it was written and converted with `From` (an *upcaster*), so that every
    /// consumer and every replay of an old log sees only the current shape.
    fn from_older(version: u16, payload: &str) -> Result<Self, serde_json::Error> {
        let _ = version;
        serde_json::from_str(payload)
    }
}

/// A fact one module publishes for whoever cares: past tense, plain data, defined in the
/// producer's `-api` crate (`BookingPlaced`, `PaymentCaptured`).
pub trait IntegrationEvent: Message {}

/// A request for work, defined in the `-api` crate of the module that does it and written to the
/// *sender's* outbox (`RequestPayment`): delivered with the same guarantees as an event, but the
/// receiver owns its vocabulary, so it never needs to know who sends it.
pub trait Command: Message {}

/// Implements [`Message`] and [`IntegrationEvent`] for a struct: its type name on the wire, its
/// schema version (1 unless given), the field that names its aggregate, and, when its shape
/// changed, the type its older versions are read as (`From` that type makes the current one).
///
/// ```ignore
/// kernel::integration_event!(UserRegistered, user_id);
/// kernel::integration_event!(PaymentCaptured, payment_id, version = 2);
/// kernel::integration_event!(BookingPlaced, booking_id, version = 2, older = BookingPlacedV1);
/// ```
#[macro_export]
macro_rules! integration_event {
    ($name:ident, $aggregate:ident $(, version = $version:literal)? $(, older = $older:ty)?) => {
        $crate::message!(IntegrationEvent, $name, $aggregate $(, $version)? $(; $older)?);
    };
}

/// Implements [`Message`] and [`Command`] for a struct, as [`integration_event!`] does for events.
#[macro_export]
macro_rules! command {
    ($name:ident, $aggregate:ident $(, version = $version:literal)? $(, older = $older:ty)?) => {
        $crate::message!(Command, $name, $aggregate $(, $version)? $(; $older)?);
    };
}

/// What [`integration_event!`] and [`command!`] share; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! message {
    ($kind:ident, $name:ident, $aggregate:ident $(; $older:ty)?) => {
        $crate::message!($kind, $name, $aggregate, 1 $(; $older)?);
    };
    ($kind:ident, $name:ident, $aggregate:ident, $version:literal $(; $older:ty)?) => {
        impl $crate::Message for $name {
            const TYPE: &'static str = stringify!($name);
            const VERSION: u16 = $version;
            fn aggregate_id(&self) -> String {
                self.$aggregate.to_string()
            }
            $(
                fn from_older(
                    _version: u16,
                    payload: &str,
                ) -> Result<Self, $crate::__serde_json::Error> {
                    $crate::__serde_json::from_str::<$older>(payload).map(<$name>::from)
                }
            )?
        }
        impl $crate::$kind for $name {}
    };
}

/// Why a request or an event happened: the correlation id is shared by everything one action
/// caused, the causation id names the direct cause (the HTTP request, or the event handled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// Shared by every event caused, directly or not, by one request.
    pub correlation_id: Uuid,
    /// The request or event that directly caused this one.
    pub causation_id: Uuid,
}

impl Trace {
    /// A new chain of causes, started by something with no cause recorded (a CLI command, a timer).
    pub fn new_root() -> Self {
        let id = new_id();
        Self {
            correlation_id: id,
            causation_id: id,
        }
    }

    /// Work caused by the request `request_id`, continuing `correlation_id`'s chain.
    pub fn from_request(correlation_id: Uuid, request_id: Uuid) -> Self {
        Self {
            correlation_id,
            causation_id: request_id,
        }
    }

    /// Work caused by handling `event`.
    pub fn caused_by(event: &Envelope) -> Self {
        Self {
            correlation_id: event.correlation_id,
            causation_id: event.event_id,
        }
    }
}

/// An event or a command as stored in a producer's outbox and delivered to consumers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The producing module's stream name (`users`, `bookings`, …).
    pub stream: String,
    /// Position in the producer's stream: strictly increasing, without gaps.
    pub seq: i64,
    /// Globally unique id of this event.
    pub event_id: Uuid,
    /// [`Message::TYPE`] of the payload.
    pub event_type: String,
    /// [`Message::VERSION`] of the payload.
    pub event_version: u16,
    /// The aggregate the event is about.
    pub aggregate_id: String,
    /// The event itself, as JSON.
    pub payload: Box<RawValue>,
    /// See [`Trace`].
    pub correlation_id: Uuid,
    /// See [`Trace`].
    pub causation_id: Uuid,
    /// When the producing transaction appended it.
    pub occurred_at: Timestamp,
}

/// An envelope whose payload is not the event the consumer expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The envelope holds another event type.
    #[error("expected a {expected} event, got {actual}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The type found.
        actual: String,
    },
    /// The payload's version is newer than this build understands.
    #[error("{event_type} version {actual} is newer than the supported version {supported}")]
    UnsupportedVersion {
        /// The event type.
        event_type: &'static str,
        /// The version found.
        actual: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The JSON does not match the event's shape.
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        /// The event type.
        event_type: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
}

impl Envelope {
    /// The type of an [`Envelope::unreadable`] one.
    pub const UNREADABLE: &'static str = "(unreadable message)";

    /// What a network transport hands consumers in place of a message on a stream's subject that
    /// is not one of the producer's events: it has no place in the stream's order (`after_seq`
    /// is the producer's event it came after) and its `payload` says what arrived. Consumers
    /// park it as a dead letter instead of dropping it, and do not move their checkpoint.
    pub fn unreadable(
        stream: &str,
        after_seq: i64,
        message_id: Uuid,
        arrived: serde_json::Value,
        received_at: Timestamp,
    ) -> Envelope {
        let payload = RawValue::from_string(arrived.to_string())
            .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"));
        Envelope {
            stream: stream.to_owned(),
            seq: after_seq,
            event_id: message_id,
            event_type: Self::UNREADABLE.to_owned(),
            event_version: 0,
            aggregate_id: String::new(),
            payload,
            correlation_id: message_id,
            causation_id: message_id,
            occurred_at: received_at,
        }
    }

    /// True for an [`Envelope::unreadable`] one.
    pub fn is_unreadable(&self) -> bool {
        self.event_type == Self::UNREADABLE
    }

    /// True when this envelope carries an `E`.
    pub fn is<E: Message>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// The typed event or command, checked for type and version (an older version is read
    /// through [`Message::from_older`]: its upcaster, or the current type's serde defaults and
    /// aliases).
    pub fn decode<E: Message>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::WrongType {
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        if self.event_version > E::VERSION {
            return Err(DecodeError::UnsupportedVersion {
                event_type: E::TYPE,
                actual: self.event_version,
                supported: E::VERSION,
            });
        }
        let payload = self.payload.get();
        let read = if self.event_version == E::VERSION {
            serde_json::from_str(payload)
        } else {
            E::from_older(self.event_version, payload)
        };
        read.map_err(|source| DecodeError::Malformed {
            event_type: E::TYPE,
            source,
        })
    }

    /// The trace this event belongs to.
    pub fn trace(&self) -> Trace {
        Trace {
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
        }
    }
}

/// Where an event landed in its producer's stream; a read-your-writes token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// Position in the producer's stream.
    pub seq: i64,
    /// The event's id.
    pub event_id: Uuid,
}

/// "This stream, up to this event": what a write hands back (`X-Consistency-Token: bookings:42`)
/// so that a later read can wait until a view built from that stream includes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyToken {
    /// The producing module's stream.
    pub stream: String,
    /// The event's position in it.
    pub seq: i64,
}

impl ConsistencyToken {
    /// The token for event `seq` of `stream`.
    pub fn new(stream: impl Into<String>, seq: i64) -> Self {
        Self {
            stream: stream.into(),
            seq,
        }
    }

    /// Parses `<stream>:<seq>` (a stream of 1 to 32 lowercase letters and underscores, a
    /// sequence of 1 to 18 digits); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (stream, seq) = text.split_once(':')?;
        let valid_stream = (1..=32).contains(&stream.len())
            && stream.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        let valid_seq = (1..=18).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
        if !valid_stream || !valid_seq {
            return None;
        }
        Some(Self::new(stream, seq.parse().ok()?))
    }
}

impl std::fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.stream, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Pinged {
        n: u32,
    }
    crate::integration_event!(Pinged, n);

    fn envelope(event_type: &str, version: u16, payload: &str) -> Envelope {
        Envelope {
            stream: "test".into(),
            seq: 1,
            event_id: new_id(),
            event_type: event_type.into(),
            event_version: version,
            aggregate_id: "1".into(),
            payload: RawValue::from_string(payload.into()).unwrap(),
            correlation_id: new_id(),
            causation_id: new_id(),
            occurred_at: Timestamp::from_micros(0),
        }
    }

    #[test]
    fn an_envelope_decodes_into_its_event() {
        assert_eq!(
            envelope("Pinged", 1, r#"{"n":7}"#)
                .decode::<Pinged>()
                .unwrap(),
            Pinged { n: 7 }
        );
    }

    #[test]
    fn a_newer_version_than_understood_is_refused_not_misread() {
        let err = envelope("Pinged", 2, r#"{"n":7}"#)
            .decode::<Pinged>()
            .unwrap_err();
        assert!(
            matches!(err, DecodeError::UnsupportedVersion { actual: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_consistency_token_survives_its_text_form_and_nonsense_is_refused() {
        let token = ConsistencyToken::new("bookings", 42);
        assert_eq!(token.to_string(), "bookings:42");
        assert_eq!(ConsistencyToken::parse("bookings:42"), Some(token));
        for bad in [
            "",
            "bookings",
            "bookings:",
            ":4",
            "Bookings:4",
            "bookings:-1",
            "b:x",
        ] {
            assert_eq!(ConsistencyToken::parse(bad), None, "{bad}");
        }
    }

    /// A message whose field changed shape: a count became a list.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Counted {
        n: u32,
        items: Vec<String>,
    }
    crate::integration_event!(Counted, n, version = 2, older = CountedV1);

    /// Its first version, as it was written.
    #[derive(Deserialize)]
    struct CountedV1 {
        n: u32,
        items: u32,
    }

    impl From<CountedV1> for Counted {
        fn from(old: CountedV1) -> Self {
            Counted {
                n: old.n,
                items: (0..old.items).map(|i| format!("item {i}")).collect(),
            }
        }
    }

    #[test]
    fn an_older_version_is_read_as_it_was_written_and_upcast_to_the_current_shape() {
        let old = envelope("Counted", 1, r#"{"n":7,"items":2}"#)
            .decode::<Counted>()
            .unwrap();
        assert_eq!(old.items, ["item 0", "item 1"]);
        let current = envelope("Counted", 2, r#"{"n":7,"items":["a"]}"#)
            .decode::<Counted>()
            .unwrap();
        assert_eq!(current.items, ["a"]);
        // The current shape is never read through the old one.
        assert!(
            envelope("Counted", 2, r#"{"n":7,"items":2}"#)
                .decode::<Counted>()
                .is_err()
        );
    }

    #[test]
    fn decoding_the_wrong_type_is_an_error() {
        let err = envelope("Ponged", 1, r#"{"n":7}"#)
            .decode::<Pinged>()
            .unwrap_err();
        assert!(matches!(err, DecodeError::WrongType { .. }), "{err}");
    }
}
