//! The reporting module's facade: the read queries, the lag, read-your-writes waiting, and the
//! rebuild from the event logs.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use kernel::{
    ConsistencyToken, Cursor, EventSource, ModuleDb, ModuleHandle, Platform, Subscription,
    SubscriptionConfig, Trace,
};
use reporting_api::{
    CustomerSummary, Dashboard, FeedFilter, FeedPage, RebuildStatus, ReportingApi, ReportingError,
    ShowHit, ShowSales, StreamLag,
};
use sqlx::migrate::Migrator;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    handlers::{BookingsHandler, PaymentsHandler, UsersHandler},
    store,
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/reporting");

/// The streams the read model is built from.
pub struct Sources {
    /// The users module's stream.
    pub users: Arc<dyn EventSource>,
    /// The bookings module's stream.
    pub bookings: Arc<dyn EventSource>,
    /// The payments module's stream.
    pub payments: Arc<dyn EventSource>,
}

/// The reporting module.
#[derive(Clone)]
pub struct Reporting {
    db: ModuleDb,
    subscriptions: Vec<Subscription>,
    rebuild: Arc<Mutex<RebuildStatus>>,
}

impl Reporting {
    /// Opens (and migrates) `reporting.db` and subscribes to the three source streams.
    pub async fn open(
        platform: &Platform,
        sources: Sources,
        config: SubscriptionConfig,
    ) -> Result<Reporting, ReportingError> {
        let db = ModuleDb::open(reporting_api::STREAM, &MIGRATOR, platform).await?;
        let subscriptions = vec![
            Subscription::new(&db, sources.users, UsersHandler, config),
            Subscription::new(&db, sources.bookings, BookingsHandler, config),
            Subscription::new(&db, sources.payments, PaymentsHandler, config),
        ];
        Ok(Reporting {
            db,
            subscriptions,
            rebuild: Arc::new(Mutex::new(RebuildStatus::default())),
        })
    }

    /// The subscriptions that keep the view current (to be run by the application).
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions.clone()
    }

    /// The module as a whole: health, availability, close (it publishes no events).
    pub fn handle(&self) -> ModuleHandle {
        self.db.handle()
    }

    fn admin_only(actor: &Actor) -> Result<(), ReportingError> {
        if actor.is_admin() {
            Ok(())
        } else {
            Err(ReportingError::Forbidden)
        }
    }

    /// How far behind each source stream the view is.
    pub async fn lag(&self) -> Vec<StreamLag> {
        let mut statuses = Vec::with_capacity(self.subscriptions.len());
        for s in &self.subscriptions {
            statuses.push(s.status().await);
        }
        statuses
            .into_iter()
            .map(|s| StreamLag {
                stream: s.stream,
                checkpoint: s.checkpoint,
                head: s.head,
                behind_events: s.lag,
                behind_ms: s.lag_ms,
            })
            .collect()
    }

    /// Rebuilds in the foreground (the CLI), reporting progress as it goes.
    pub async fn rebuild_now(
        &self,
        progress: impl Fn(&RebuildStatus) + Send + Sync,
    ) -> Result<RebuildStatus, ReportingError> {
        self.claim()?;
        self.run_rebuild(progress).await
    }

    /// Where the last rebuild stands.
    fn status(&self) -> RebuildStatus {
        self.rebuild
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn claim(&self) -> Result<(), ReportingError> {
        let mut status = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        if status.running {
            return Err(ReportingError::AlreadyRunning);
        }
        *status = RebuildStatus {
            running: true,
            started_at: Some(self.db.clock().now()),
            ..RebuildStatus::default()
        };
        Ok(())
    }

    /// Drops every view and replays every source stream from its first event, in one
    /// transaction: readers keep seeing the old view until the new one commits, the live
    /// subscriptions wait for the writer and then skip what the replay already applied.
    async fn run_rebuild(
        &self,
        progress: impl Fn(&RebuildStatus) + Send + Sync,
    ) -> Result<RebuildStatus, ReportingError> {
        let result = async {
            let mut total = 0u64;
            for s in &self.subscriptions {
                total += u64::try_from(s.producer_head().await?).unwrap_or(0);
            }
            self.update(|st| st.total = total, &progress);
            let mut tx = self.db.write(Trace::new_root()).await?;
            store::clear(tx.conn()).await?;
            let mut done = 0u64;
            let mut last = Vec::new();
            for s in &self.subscriptions {
                let base = done;
                let report = |n: u64| self.update(|st| st.processed = base + n, &progress);
                let seq = s.replay(&mut tx, &report).await?;
                done = self.status().processed;
                last.push((s.clone(), seq));
            }
            tx.commit().await?;
            for (s, seq) in last {
                s.replayed(seq);
            }
            Ok::<(), ReportingError>(())
        }
        .await;
        let error = result.as_ref().err().map(ToString::to_string);
        self.update(
            |st| {
                st.running = false;
                st.finished_at = Some(self.db.clock().now());
                st.error = error.clone();
            },
            &progress,
        );
        match result {
            Ok(()) => {
                let status = self.status();
                tracing::info!(
                    events = status.processed,
                    "read model rebuilt from the event logs"
                );
                Ok(status)
            }
            Err(e) => Err(e),
        }
    }

    fn update(
        &self,
        change: impl FnOnce(&mut RebuildStatus),
        progress: &(impl Fn(&RebuildStatus) + Send + Sync),
    ) {
        let snapshot = {
            let mut st = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut st);
            st.clone()
        };
        progress(&snapshot);
    }
}

#[async_trait]
impl ReportingApi for Reporting {
    /// The dashboard (admins).
    async fn dashboard(&self, actor: &Actor) -> Result<Dashboard, ReportingError> {
        Self::admin_only(actor)?;
        let reader = self.db.reader()?;
        let (bookings, seats_sold, money, avg_confirm_ms) = store::totals(reader).await?;
        Ok(Dashboard {
            bookings,
            seats_sold,
            money,
            avg_confirm_ms,
            top_shows: store::top_shows(reader, 8).await?,
            timeline: store::timeline(reader, 48).await?,
            lag: self.lag().await,
            generated_at: self.db.clock().now(),
        })
    }

    /// Sales of every show (admins).
    async fn show_sales(&self, actor: &Actor) -> Result<Vec<ShowSales>, ReportingError> {
        Self::admin_only(actor)?;
        store::all_sales(self.db.reader()?).await
    }

    /// The feed, newest first (admins see all; customers their own).
    async fn feed(
        &self,
        actor: &Actor,
        mut filter: FeedFilter,
    ) -> Result<FeedPage, ReportingError> {
        if !actor.is_admin() {
            filter.user_id = Some(actor.user_id);
        }
        let search = filter.q.as_deref().and_then(store::fts_query);
        let rows = store::feed(self.db.reader()?, &filter, search).await?;
        let next_cursor = Cursor::after_page(&rows, filter.limit, |r| {
            (
                r.placed_at.unwrap_or(kernel::Timestamp::from_micros(0)),
                r.booking_id,
            )
        });
        Ok(FeedPage {
            items: rows.into_iter().map(store::feed_item).collect(),
            next_cursor,
        })
    }

    /// A customer's totals (themselves, or any for admins).
    async fn customer(
        &self,
        actor: &Actor,
        user_id: Uuid,
    ) -> Result<CustomerSummary, ReportingError> {
        if !actor.may_access(user_id) {
            return Err(ReportingError::Forbidden);
        }
        store::customer(self.db.reader()?, user_id).await
    }

    /// Shows whose title or venue match the typed words.
    async fn search_shows(&self, q: &str) -> Result<Vec<ShowHit>, ReportingError> {
        match store::fts_query(q) {
            Some(query) => store::search_shows(self.db.reader()?, &query, 100).await,
            None => Ok(Vec::new()),
        }
    }

    /// Waits (at most `timeout`) until the view includes the event named by a consistency token
    /// (as returned by commands). True when it does; a token of a stream the view is not built
    /// from is a field error.
    async fn wait_for(
        &self,
        token: &ConsistencyToken,
        timeout: Duration,
    ) -> Result<bool, ReportingError> {
        let sub = self
            .subscriptions
            .iter()
            .find(|s| s.stream() == token.stream)
            .ok_or_else(|| {
                ReportingError::Validation(kernel::FieldErrors::single(
                    "consistency_token",
                    "must look like bookings:42",
                ))
            })?;
        Ok(sub.wait_for(token.seq, timeout).await)
    }

    /// Where the last rebuild stands.
    async fn rebuild_status(&self) -> Result<RebuildStatus, ReportingError> {
        Ok(self.status())
    }

    /// Starts a rebuild in the background (admins); `AlreadyRunning` if one runs.
    async fn start_rebuild(&self, actor: &Actor) -> Result<RebuildStatus, ReportingError> {
        Self::admin_only(actor)?;
        self.claim()?;
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.run_rebuild(|_| {}).await {
                tracing::error!(error = %e, "rebuilding the read model failed");
            }
        });
        Ok(self.status())
    }
}
