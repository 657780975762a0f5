//! Module calls between processes: a module hosted elsewhere is reached through its `-api` trait,
//! implemented here by a client of that process's internal API; and the answering side, which
//! runs an operation on the module's trait (routed by `http/internal.rs`, behind the token).
//!
//! The wire is deliberately plain: `POST /internal/<module>/<operation>` with the operation's
//! arguments as a JSON array (the trait method's parameters, in order, trace and actor included,
//! so a booking's causation chain and every permission check cross the boundary), answered with
//! `{"ok": value}` or `{"err": the module's own error}`. Calls carry the service token
//! (`Authorization: Bearer`); without it, or with a wrong one, the internal API refuses. A call
//! has a timeout; a module that does not answer is `unavailable`, which the edge serves as 503.
//!
//! One file per module holds both sides of its wire ([`users`], [`bookings`], [`payments`],
//! [`reporting`]); [`ops`] is the operator's side every module shares.

pub(crate) mod bookings;
pub(crate) mod ops;
pub(crate) mod payments;
pub(crate) mod reporting;
pub(crate) mod users;

use std::{future::Future, time::Duration};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::settings::ModuleName;

/// The answer to one call.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Answer<T, E> {
    /// What the operation returned.
    Ok(T),
    /// The module's error.
    Err(E),
}

/// A module served by another process, as this process calls it.
#[derive(Clone, Debug)]
pub(crate) struct Remote {
    module: ModuleName,
    url: String,
    token: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl Remote {
    /// The module `module` served at `url`, called with `token` and answering within `timeout`.
    pub(crate) fn new(
        module: ModuleName,
        url: &str,
        token: &str,
        timeout: Duration,
    ) -> anyhow::Result<Remote> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()?;
        Ok(Remote {
            module,
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
            timeout,
        })
    }

    /// The module.
    pub(crate) fn module(&self) -> ModuleName {
        self.module
    }

    /// Where it is served.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn failure(&self, unavailable: bool, message: String) -> kernel::Error {
        kernel::Error::Remote {
            module: self.module.as_str().to_owned(),
            unavailable,
            message,
        }
    }

    /// Calls `operation` with `args`, within the configured timeout.
    pub(crate) async fn call<A, T, E>(&self, operation: &str, args: &A) -> Result<T, E>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
        E: DeserializeOwned + From<kernel::Error>,
    {
        self.call_within(operation, args, self.timeout).await
    }

    /// Calls `operation` with `args`, waiting at most `timeout` for the answer.
    pub(crate) async fn call_within<A, T, E>(
        &self,
        operation: &str,
        args: &A,
        timeout: Duration,
    ) -> Result<T, E>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
        E: DeserializeOwned + From<kernel::Error>,
    {
        let url = format!("{}/internal/{}/{operation}", self.url, self.module);
        let response = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .json(args)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    format!("did not answer within {} ms", timeout.as_millis())
                } else {
                    format!("cannot be reached at {}: {e}", self.url)
                };
                self.failure(true, format!("the {} module {why}", self.module))
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            tracing::error!(module = %self.module, url = %self.url,
                "the module's process refused this process's service token");
            return Err(self
                .failure(
                    true,
                    format!(
                        "the {} module's process at {} refused the service token \
                         (BOXOFFICE_SERVICE_TOKEN differs between the processes)",
                        self.module, self.url
                    ),
                )
                .into());
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let unavailable = status == reqwest::StatusCode::NOT_FOUND
                || status == reqwest::StatusCode::SERVICE_UNAVAILABLE;
            return Err(self
                .failure(
                    unavailable,
                    format!(
                        "the {} module at {} answered {status} to {operation}: {}",
                        self.module,
                        self.url,
                        text.chars().take(300).collect::<String>()
                    ),
                )
                .into());
        }
        let bytes = response.bytes().await.map_err(|e| {
            self.failure(
                true,
                format!("the {} module's answer broke off: {e}", self.module),
            )
        })?;
        match serde_json::from_slice::<Answer<T, E>>(&bytes) {
            Ok(Answer::Ok(value)) => Ok(value),
            Ok(Answer::Err(e)) => Err(e),
            Err(e) => Err(self
                .failure(
                    false,
                    format!(
                        "the {} module's answer to {operation} is not understood: {e}",
                        self.module
                    ),
                )
                .into()),
        }
    }
}

/// Why the internal API could not serve a call.
#[derive(Debug)]
pub(crate) enum Fault {
    /// No such operation.
    Unknown(String),
    /// The arguments do not fit the operation.
    BadArguments(String),
    /// The answer could not be written.
    Internal(String),
}

/// Decodes an operation's arguments, runs it, and encodes its answer.
pub(crate) async fn answer<A, T, E, F, Fut>(body: &[u8], operation: F) -> Result<Vec<u8>, Fault>
where
    A: DeserializeOwned,
    T: Serialize,
    E: Serialize,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let args: A = serde_json::from_slice(body).map_err(|e| Fault::BadArguments(e.to_string()))?;
    let answer = match operation(args).await {
        Ok(value) => Answer::Ok(value),
        Err(e) => Answer::Err(e),
    };
    serde_json::to_vec(&answer).map_err(|e| Fault::Internal(e.to_string()))
}
