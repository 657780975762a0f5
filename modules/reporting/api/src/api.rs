//! The reporting module's API as a trait: the read model's queries and its rebuild, answered by
//! the module in this process or by a client of the process that hosts it.

use std::time::Duration;

use async_trait::async_trait;
use kernel::ConsistencyToken;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    CustomerSummary, Dashboard, FeedFilter, FeedPage, RebuildStatus, ReportingError, ShowHit,
    ShowSales,
};

/// The read model: built from the other modules' events only, queried here.
#[async_trait]
pub trait ReportingApi: Send + Sync {
    /// The dashboard (admins).
    async fn dashboard(&self, actor: &Actor) -> Result<Dashboard, ReportingError>;

    /// Sales of every show (admins).
    async fn show_sales(&self, actor: &Actor) -> Result<Vec<ShowSales>, ReportingError>;

    /// The feed, newest first (admins see all; customers their own).
    async fn feed(&self, actor: &Actor, filter: FeedFilter) -> Result<FeedPage, ReportingError>;

    /// A customer's totals (themselves, or any for admins).
    async fn customer(
        &self,
        actor: &Actor,
        user_id: Uuid,
    ) -> Result<CustomerSummary, ReportingError>;

    /// Shows whose title or venue match the typed words: at most 100, soonest first.
    async fn search_shows(&self, q: &str) -> Result<Vec<ShowHit>, ReportingError>;

    /// Waits (at most `timeout`) until the view includes the event named by a consistency token.
    /// True when it does; a token of a stream the view is not built from is a field error.
    async fn wait_for(
        &self,
        token: &ConsistencyToken,
        timeout: Duration,
    ) -> Result<bool, ReportingError>;

    /// Where the last rebuild stands.
    async fn rebuild_status(&self) -> Result<RebuildStatus, ReportingError>;

    /// Starts a rebuild in the background (admins); `AlreadyRunning` if one runs.
    async fn start_rebuild(&self, actor: &Actor) -> Result<RebuildStatus, ReportingError>;
}
