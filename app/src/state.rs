//! What every request handler shares: the modules, the settings, and the moment the server
//! started and the signal that it is stopping.

use std::time::Instant;

use kernel::ClockControl;
use tokio_util::sync::CancellationToken;

use crate::{modules::Modules, settings::Settings};

/// Shared by every request handler.
pub(crate) struct AppState {
    pub(crate) modules: Modules,
    pub(crate) settings: Settings,
    pub(crate) started_at: Instant,
    /// Cancelled when the server stops, so long-lived responses (server-sent events) end.
    pub(crate) shutdown: CancellationToken,
    /// The hand on the clock, when the server runs on an adjustable one (tests only).
    pub(crate) clock: Option<ClockControl>,
}
