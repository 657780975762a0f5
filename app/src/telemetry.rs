//! Structured logs through `tracing`; the filter comes from `RUST_LOG`.

use tracing_subscriber::{EnvFilter, fmt};

use crate::settings::LogFormat;

/// The filter used when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_server=warn";

/// Installs the global subscriber (warnings and errors only when `quiet`, unless `RUST_LOG` says
/// otherwise); a second call (tests) is a no-op.
pub fn init_tracing(format: LogFormat, quiet: bool) {
    let default = if quiet { "warn" } else { DEFAULT_FILTER };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
