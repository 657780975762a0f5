//! The operator's side of every module's wire: health, subscriptions, dead letters, availability
//! and the event log, for a module of another process ([`Remote`] implements the kernel's
//! [`ModuleOps`]) and for one hosted here ([`serve`]).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use kernel::{
    DbHealth, DeadLetter, DeadLetterOutcome, Envelope, Error, EventQuery, ModuleOps, Resolution,
    SubscriptionStatus,
};

use super::{Fault, Remote, answer};

/// How long a health check of another process may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

#[async_trait]
impl ModuleOps for Remote {
    fn name(&self) -> &'static str {
        self.module().as_str()
    }

    async fn health(&self) -> DbHealth {
        match self
            .call_within::<_, DbHealth, Error>("health", &(), HEALTH_TIMEOUT)
            .await
        {
            Ok(health) => health,
            Err(e) => DbHealth {
                status: "unreachable".into(),
                schema_version: None,
                kernel_schema_version: None,
                error: Some(e.to_string()),
            },
        }
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionStatus>, Error> {
        self.call("subscriptions", &()).await
    }

    async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        self.call("dead_letters", &(all,)).await
    }

    async fn resolve_dead_letter(
        &self,
        id: i64,
        resolution: Resolution,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        self.call("resolve_dead_letter", &(id, resolution, actor))
            .await
    }

    async fn set_offline_for(&self, duration: Option<Duration>) -> Result<(), Error> {
        self.call("set_offline_for", &(duration.map(|d| d.as_secs()),))
            .await
    }

    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error> {
        self.call("browse", &(query,)).await
    }
}

/// Answers an operator's call to module `module` hosted here; `None` when `operation` is not
/// one (it is then one of the module's own).
pub(crate) async fn serve(
    ops: &dyn ModuleOps,
    operation: &str,
    body: &[u8],
) -> Option<Result<Vec<u8>, Fault>> {
    let answered = match operation {
        "health" => answer(body, |(): ()| async { Ok::<_, Error>(ops.health().await) }).await,
        "subscriptions" => answer(body, |(): ()| ops.subscriptions()).await,
        "dead_letters" => answer(body, |(all,): (bool,)| ops.dead_letters(all)).await,
        "resolve_dead_letter" => {
            answer(
                body,
                |(id, resolution, actor): (i64, Resolution, String)| async move {
                    ops.resolve_dead_letter(id, resolution, &actor).await
                },
            )
            .await
        }
        "set_offline_for" => {
            answer(body, |(seconds,): (Option<u64>,)| {
                ops.set_offline_for(seconds.map(Duration::from_secs))
            })
            .await
        }
        "browse" => {
            answer(body, |(query,): (EventQuery,)| async move {
                ops.browse(&query).await
            })
            .await
        }
        _ => return None,
    };
    Some(answered)
}
