//! The event log across modules, for people and machines: every module's stream merged newest
//! first, filtered, paged; causation chains; subscriptions and their dead letters. Read through
//! each module's `EventSource` and `Subscription`, never through their tables.

use std::{collections::HashMap, sync::Arc};

use kernel::{
    DeadLetter, DeadLetterOutcome, Envelope, EventCursor, EventQuery, EventSource, Resolution,
    SubscriptionStatus,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{modules::Modules, settings::ModuleName};

/// A filter over the merged log.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogFilter {
    pub(crate) stream: Option<String>,
    pub(crate) event_type: Option<String>,
    pub(crate) correlation_id: Option<Uuid>,
    pub(crate) aggregate_id: Option<String>,
}

/// One page of the merged log.
pub(crate) struct LogPage {
    pub(crate) items: Vec<Arc<Envelope>>,
    pub(crate) next_cursor: Option<String>,
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogError {
    #[error("{0}")]
    Storage(#[from] kernel::Error),
    #[error("unknown stream {0}")]
    UnknownStream(String),
}

/// The merged log, newest first, `limit` at a time.
pub(crate) async fn page(
    modules: &Modules,
    filter: &LogFilter,
    cursor: Option<EventCursor>,
    limit: u32,
) -> Result<LogPage, LogError> {
    let logs = streams(modules, filter.stream.as_deref())?;
    let query = EventQuery {
        event_type: filter.event_type.clone(),
        correlation_id: filter.correlation_id,
        aggregate_id: filter.aggregate_id.clone(),
        before: cursor,
        // One more than asked, to know whether another page exists.
        limit: limit + 1,
    };
    let reads = logs.iter().map(|log| log.browse(&query));
    let mut all = Vec::new();
    for result in futures_util::future::join_all(reads).await {
        all.extend(result?);
    }
    all.sort_by(|a, b| {
        (b.occurred_at, b.stream.as_str(), b.seq).cmp(&(a.occurred_at, a.stream.as_str(), a.seq))
    });
    let more = all.len() > limit as usize;
    all.truncate(limit as usize);
    let next_cursor = if more {
        all.last().map(|e| EventCursor::after(e).encode())
    } else {
        None
    };
    Ok(LogPage {
        items: all,
        next_cursor,
    })
}

fn streams(modules: &Modules, only: Option<&str>) -> Result<Vec<Arc<dyn EventSource>>, LogError> {
    let logs = modules.event_logs();
    match only {
        None => Ok(logs),
        Some(name) => {
            let picked: Vec<_> = logs.into_iter().filter(|l| l.stream() == name).collect();
            if picked.is_empty() {
                Err(LogError::UnknownStream(name.to_owned()))
            } else {
                Ok(picked)
            }
        }
    }
}

/// One event in a causation tree, with what it caused.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CauseNode {
    #[schema(value_type = Object)]
    pub(crate) event: Arc<Envelope>,
    #[schema(no_recursion)]
    pub(crate) caused: Vec<CauseNode>,
}

/// Everything one correlation caused, as trees rooted at what started it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CausationChain {
    pub(crate) correlation_id: Uuid,
    /// Ids of the requests (or timers) that started each root event.
    pub(crate) started_by: Vec<Uuid>,
    pub(crate) roots: Vec<CauseNode>,
    pub(crate) events: usize,
}

/// The causation chain of a correlation id across every module.
pub(crate) async fn chain(
    modules: &Modules,
    correlation_id: Uuid,
) -> Result<CausationChain, LogError> {
    let filter = LogFilter {
        correlation_id: Some(correlation_id),
        ..LogFilter::default()
    };
    let mut events = page(modules, &filter, None, 1000).await?.items;
    events.sort_by_key(|e| (e.occurred_at, e.seq));
    let ids: std::collections::HashSet<Uuid> = events.iter().map(|e| e.event_id).collect();
    let mut children: HashMap<Uuid, Vec<Arc<Envelope>>> = HashMap::new();
    let mut roots = Vec::new();
    let mut started_by = Vec::new();
    for e in &events {
        if ids.contains(&e.causation_id) {
            children.entry(e.causation_id).or_default().push(e.clone());
        } else {
            if !started_by.contains(&e.causation_id) {
                started_by.push(e.causation_id);
            }
            roots.push(e.clone());
        }
    }
    fn build(
        event: Arc<Envelope>,
        children: &HashMap<Uuid, Vec<Arc<Envelope>>>,
        depth: usize,
    ) -> CauseNode {
        let caused = if depth > 64 {
            Vec::new()
        } else {
            children
                .get(&event.event_id)
                .map(|c| {
                    c.iter()
                        .map(|e| build(e.clone(), children, depth + 1))
                        .collect()
                })
                .unwrap_or_default()
        };
        CauseNode { event, caused }
    }
    let count = events.len();
    Ok(CausationChain {
        correlation_id,
        started_by,
        roots: roots.into_iter().map(|r| build(r, &children, 0)).collect(),
        events: count,
    })
}

/// Every subscription's status, of every module wherever it runs (a module that cannot be
/// asked contributes none; its health says why).
pub(crate) async fn subscriptions(modules: &Modules) -> Vec<SubscriptionStatus> {
    let asks = modules.all_ops().map(|ops| ops.subscriptions());
    futures_util::future::join_all(asks)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .flatten()
        .collect()
}

/// Dead letters of every subscription of every module, newest first.
pub(crate) async fn dead_letters(
    modules: &Modules,
    all: bool,
) -> Result<Vec<DeadLetter>, kernel::Error> {
    let mut out = Vec::new();
    for ops in modules.all_ops() {
        out.extend(ops.dead_letters(all).await?);
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.parked_at));
    Ok(out)
}

/// Dead letters of every module that can answer, newest first, and the modules that could not
/// (for the page an admin reads during an outage).
pub(crate) async fn dead_letters_of_those_up(
    modules: &Modules,
    all: bool,
) -> (Vec<DeadLetter>, Vec<&'static str>) {
    let (mut out, mut down) = (Vec::new(), Vec::new());
    for ops in modules.all_ops() {
        match ops.dead_letters(all).await {
            Ok(letters) => out.extend(letters),
            Err(_) => down.push(ops.name()),
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.parked_at));
    (out, down)
}

/// Retries or discards dead letter `id` of the consumer module `module`.
pub(crate) async fn resolve_dead_letter(
    modules: &Modules,
    module: &str,
    id: i64,
    resolution: Resolution,
    actor: &str,
) -> Result<DeadLetterOutcome, kernel::Error> {
    match ModuleName::parse(module) {
        Some(module) => {
            modules
                .ops(module)
                .resolve_dead_letter(id, resolution, actor)
                .await
        }
        None => Ok(DeadLetterOutcome::NotFound),
    }
}
