//! The event backbone across processes, over NATS JetStream.
//!
//! A process that hosts a module relays the module's outbox to the module's JetStream stream
//! ([`Nats::relay`]); a process that consumes a module it does not host reads that stream as a
//! kernel [`EventSource`] ([`Nats::source`]), so its subscriptions keep their checkpoint and
//! inbox in their own database and apply each event exactly once, as they do in one process.
//! A follower per remote stream feeds the stream's new messages into the process's bus, the fast
//! path subscriptions and live pages listen to.
//!
//! Nothing here knows a module: streams are named by the modules' stream names, and a
//! deployment's prefix keeps deployments (and test runs) sharing one server apart.

mod log;
mod relay;
mod status;
mod wire;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::{
    ConnectOptions,
    connection::State,
    jetstream::{
        self,
        consumer::pull,
        stream::{Config, Info, RetentionPolicy, StorageType, Stream},
    },
};
use kernel::{Bus, Clock, ModuleHandle, ModuleOps};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use log::JetStreamLog;
pub use status::{FollowerLine, NatsHealth, RelayLine};

use crate::{
    status::{FollowerStatus, RelayStatus},
    wire::Names,
};

/// Where the NATS server is and what this deployment's names start with.
#[derive(Clone, Debug)]
pub struct NatsConfig {
    /// `nats://host:port`.
    pub url: String,
    /// Prefix of every stream and subject name (`boxoffice`): one token of letters, digits,
    /// `-` and `_`.
    pub prefix: String,
    /// How this process introduces itself to the server (shown by `nats server report`).
    pub client_name: String,
}

/// Why the transport cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// The prefix is not one subject token.
    #[error("the NATS prefix {0:?} must be letters, digits, '-' and '_' only")]
    BadPrefix(String),
    /// The URL is not one.
    #[error("the NATS URL {url:?} is not usable: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A process's connection to NATS and everything it relays and follows.
#[derive(Clone)]
pub struct Nats {
    inner: Arc<Inner>,
}

/// How long one attempt to reach the server may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

struct Inner {
    config: NatsConfig,
    client: async_nats::Client,
    jetstream: jetstream::Context,
    names: Names,
    clock: Clock,
    streams: tokio::sync::Mutex<HashMap<&'static str, Stream>>,
    relays: Mutex<Vec<Arc<RelayStatus>>>,
    followers: Mutex<Vec<Arc<FollowerStatus>>>,
}

impl Nats {
    /// Connects to the server in the background: a server that is down at start is retried
    /// until it answers (and shown as such by [`Nats::health`]); nothing waits for it here.
    pub async fn connect(config: NatsConfig, clock: Clock) -> Result<Nats, NatsError> {
        if !wire::valid_prefix(&config.prefix) {
            return Err(NatsError::BadPrefix(config.prefix));
        }
        let url = config.url.clone();
        let client = ConnectOptions::new()
            .name(&config.client_name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(CONNECTION_TIMEOUT)
            .event_callback(move |event| {
                let url = url.clone();
                async move {
                    tracing::info!(%url, %event, "NATS");
                }
            })
            .connect(config.url.as_str())
            .await
            .map_err(|e| NatsError::BadUrl {
                url: config.url.clone(),
                reason: e.to_string(),
            })?;
        let jetstream = jetstream::new(client.clone());
        Ok(Nats {
            inner: Arc::new(Inner {
                names: Names::new(&config.prefix),
                config,
                client,
                jetstream,
                clock,
                streams: tokio::sync::Mutex::new(HashMap::new()),
                relays: Mutex::new(Vec::new()),
                followers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Relays the outbox of the module behind `handle` until `shutdown`.
    pub fn relay(&self, handle: ModuleHandle, shutdown: CancellationToken) -> JoinHandle<()> {
        let status = Arc::new(RelayStatus::new(handle.name(), self.inner.clock.clone()));
        self.inner
            .relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(status.clone());
        relay::spawn(self.clone(), handle, status, shutdown)
    }

    /// The stream of a module another process hosts, read from JetStream; `owner` is that
    /// module's operations (people browse its log through them). Its new messages reach `bus`
    /// once [`Nats::follow`] runs.
    pub fn source(
        &self,
        stream: &'static str,
        bus: Bus,
        owner: Arc<dyn ModuleOps>,
    ) -> Arc<JetStreamLog> {
        Arc::new(JetStreamLog::new(self.clone(), stream, bus, owner))
    }

    /// Feeds `log`'s new messages into its bus until `shutdown`.
    pub fn follow(&self, log: Arc<JetStreamLog>, shutdown: CancellationToken) -> JoinHandle<()> {
        let status = Arc::new(FollowerStatus::new(log.stream_name()));
        self.inner
            .followers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(status.clone());
        log::follow(self.clone(), log, status, shutdown)
    }

    /// The connection, every relay and every follower.
    pub fn health(&self) -> NatsHealth {
        let status = match self.inner.client.connection_state() {
            State::Connected => "connected",
            State::Pending => "connecting",
            State::Disconnected => "disconnected",
        };
        NatsHealth {
            status: status.to_owned(),
            url: self.inner.config.url.clone(),
            prefix: self.inner.config.prefix.clone(),
            relays: lines(&self.inner.relays, |r| r.line()),
            followers: lines(&self.inner.followers, |f| f.line()),
        }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.inner.config.url
    }

    /// True while connected to the server.
    pub fn is_connected(&self) -> bool {
        self.inner.client.connection_state() == State::Connected
    }

    /// Waits, at most as long as one connection attempt, for the connection: a relay or a
    /// follower starting beside a connection still being made does not report a failure.
    pub(crate) async fn await_connection(&self) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + CONNECTION_TIMEOUT;
        while !self.is_connected() {
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "NATS at {} is not connected",
                    self.inner.config.url
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Deletes this deployment's streams of `streams` (tests clean up after themselves).
    pub async fn delete_streams(&self, streams: &[&str]) {
        for stream in streams {
            let _ = self
                .inner
                .jetstream
                .delete_stream(self.inner.names.stream(stream))
                .await;
        }
        self.inner.streams.lock().await.clear();
    }

    /// Publishes a message of someone else's making on `stream`'s subjects (tests of what a
    /// stranger's message does).
    pub async fn publish_foreign(
        &self,
        stream: &'static str,
        event_type: &str,
        body: &'static [u8],
    ) -> Result<(), String> {
        self.stream_handle(stream).await?;
        self.inner
            .jetstream
            .publish(
                self.inner.names.subject(stream, event_type),
                bytes::Bytes::from_static(body),
            )
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    pub(crate) fn names(&self) -> &Names {
        &self.inner.names
    }

    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.inner.jetstream
    }

    /// The name under which relays record their marks in a module's database.
    pub(crate) fn transport(&self) -> String {
        format!("nats:{}", self.inner.config.prefix)
    }

    /// The JetStream stream of `stream`, created on first use by whichever process gets there
    /// first (the relay or a reader): file storage, kept without limits, as the replay source.
    pub(crate) async fn stream_handle(&self, stream: &'static str) -> Result<Stream, String> {
        if !self.is_connected() {
            return Err(format!(
                "NATS at {} is not connected",
                self.inner.config.url
            ));
        }
        let mut streams = self.inner.streams.lock().await;
        if let Some(found) = streams.get(stream) {
            return Ok(found.clone());
        }
        let created = self
            .inner
            .jetstream
            .get_or_create_stream(Config {
                name: self.inner.names.stream(stream),
                subjects: vec![self.inner.names.subjects(stream)],
                retention: RetentionPolicy::Limits,
                storage: StorageType::File,
                duplicate_window: Duration::from_secs(120),
                allow_direct: true,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        streams.insert(stream, created.clone());
        Ok(created)
    }

    /// The stream of `stream` and where it stands now. When it cannot say (the stream may be
    /// gone: deleted, or lost with the server's storage), the handle is forgotten, so that the
    /// next use looks the stream up, or creates it, again.
    pub(crate) async fn stream_state(
        &self,
        stream: &'static str,
    ) -> Result<(Stream, Info), String> {
        let handle = self.stream_handle(stream).await?;
        match handle.get_info().await {
            Ok(info) => Ok((handle, info)),
            Err(e) => {
                self.inner.streams.lock().await.remove(stream);
                Err(e.to_string())
            }
        }
    }

    /// Deletes a read's consumer in the background (it would expire on its own).
    pub(crate) fn forget_consumer(
        &self,
        stream: Stream,
        consumer: jetstream::consumer::Consumer<pull::Config>,
    ) {
        let name = consumer.cached_info().name.clone();
        tokio::spawn(async move {
            let _ = stream.delete_consumer(&name).await;
        });
    }
}

fn lines<T, L>(list: &Mutex<Vec<Arc<T>>>, line: impl Fn(&T) -> L) -> Vec<L> {
    list.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|t| line(t))
        .collect()
}
