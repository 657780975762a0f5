//! Structured logs through `tracing`; the filter comes from `RUST_LOG`. On request, a count of
//! the SQLite queries every connection runs (what `boxoffice bench --count-queries` reads).

use std::sync::OnceLock;

use prometheus_client::metrics::counter::Counter;
use tracing::{Event, Subscriber};
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, fmt, layer::Context, prelude::*, registry::Registry,
};

use crate::settings::LogFormat;

/// The filter used when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_server=warn";

/// Queries run on any SQLite connection of the process, when counted.
static QUERIES: OnceLock<Counter> = OnceLock::new();

/// The count of queries, when `init_tracing` was asked to keep one.
pub(crate) fn query_counter() -> Option<&'static Counter> {
    QUERIES.get()
}

/// Counts sqlx's per-query events (one per query sent to a connection's thread, whatever its
/// number of statements; `BEGIN` and `COMMIT` are not queries to sqlx and are not counted).
struct QueryCounter(&'static Counter);

impl<S: Subscriber> Layer<S> for QueryCounter {
    fn on_event(&self, _event: &Event<'_>, _ctx: Context<'_, S>) {
        self.0.inc();
    }
}

/// Installs the global subscriber (warnings and errors only when `quiet`, unless `RUST_LOG` says
/// otherwise), counting SQLite queries when `count_queries`; a second call (tests) is a no-op.
///
/// Counting has a cost: sqlx then formats a summary of every query it runs, which is why it is
/// off unless asked for.
pub fn init_tracing(format: LogFormat, quiet: bool, count_queries: bool) {
    let default = if quiet { "warn" } else { DEFAULT_FILTER };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let fmt = fmt::layer().with_target(false).with_writer(std::io::stderr);
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => fmt.with_filter(filter).boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_filter(filter)
            .boxed(),
    };
    let counter = count_queries.then(|| {
        let counter = QUERIES.get_or_init(Counter::default);
        QueryCounter(counter)
            .with_filter(Targets::new().with_target("sqlx::query", tracing::Level::DEBUG))
    });
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(counter)
        .try_init();
}
