//! The reporting module's wire: [`RemoteReporting`] calls it in another process; [`serve`]
//! answers for the module hosted here.

use std::time::Duration;

use async_trait::async_trait;
use kernel::ConsistencyToken;
use reporting_api::{
    CustomerSummary, Dashboard, FeedFilter, FeedPage, RebuildStatus, ReportingApi, ReportingError,
    ShowHit, ShowSales,
};
use users_api::Actor;
use uuid::Uuid;

use super::{Fault, Remote, answer};

/// The longest read-your-writes wait a caller may ask the hosting process for.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The reporting module of another process.
pub(crate) struct RemoteReporting(pub(crate) Remote);

#[async_trait]
impl ReportingApi for RemoteReporting {
    async fn dashboard(&self, actor: &Actor) -> Result<Dashboard, ReportingError> {
        self.0.call("dashboard", &(actor,)).await
    }

    async fn show_sales(&self, actor: &Actor) -> Result<Vec<ShowSales>, ReportingError> {
        self.0.call("show_sales", &(actor,)).await
    }

    async fn feed(&self, actor: &Actor, filter: FeedFilter) -> Result<FeedPage, ReportingError> {
        self.0.call("feed", &(actor, filter)).await
    }

    async fn customer(
        &self,
        actor: &Actor,
        user_id: Uuid,
    ) -> Result<CustomerSummary, ReportingError> {
        self.0.call("customer", &(actor, user_id)).await
    }

    async fn search_shows(&self, q: &str) -> Result<Vec<ShowHit>, ReportingError> {
        self.0.call("search_shows", &(q,)).await
    }

    async fn wait_for(
        &self,
        token: &ConsistencyToken,
        timeout: Duration,
    ) -> Result<bool, ReportingError> {
        let timeout = timeout.min(MAX_WAIT);
        // The wait happens over there; the call may take that long and a little more.
        self.0
            .call_within(
                "wait_for",
                &(token, timeout.as_millis() as u64),
                timeout + Duration::from_secs(5),
            )
            .await
    }

    async fn rebuild_status(&self) -> Result<RebuildStatus, ReportingError> {
        self.0.call("rebuild_status", &()).await
    }

    async fn start_rebuild(&self, actor: &Actor) -> Result<RebuildStatus, ReportingError> {
        self.0.call("start_rebuild", &(actor,)).await
    }
}

/// Answers one call to the reporting module hosted here.
pub(crate) async fn serve(
    api: &dyn ReportingApi,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, Fault> {
    match operation {
        "dashboard" => {
            answer(body, |(actor,): (Actor,)| async move {
                api.dashboard(&actor).await
            })
            .await
        }
        "show_sales" => {
            answer(body, |(actor,): (Actor,)| async move {
                api.show_sales(&actor).await
            })
            .await
        }
        "feed" => {
            answer(body, |(actor, filter): (Actor, FeedFilter)| async move {
                api.feed(&actor, filter).await
            })
            .await
        }
        "customer" => {
            answer(body, |(actor, user_id): (Actor, Uuid)| async move {
                api.customer(&actor, user_id).await
            })
            .await
        }
        "search_shows" => {
            answer(
                body,
                |(q,): (String,)| async move { api.search_shows(&q).await },
            )
            .await
        }
        "wait_for" => {
            answer(body, |(token, ms): (ConsistencyToken, u64)| async move {
                let timeout = Duration::from_millis(ms).min(MAX_WAIT);
                api.wait_for(&token, timeout).await
            })
            .await
        }
        "rebuild_status" => answer(body, |(): ()| api.rebuild_status()).await,
        "start_rebuild" => {
            answer(body, |(actor,): (Actor,)| async move {
                api.start_rebuild(&actor).await
            })
            .await
        }
        other => Err(Fault::Unknown(other.to_owned())),
    }
}
