//! What every request handler shares: the modules, the settings, and the moment the server
//! started and the signal that it is stopping.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use kernel::ClockControl;
use tokio_util::sync::CancellationToken;
use users_api::{Role, User};

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
    /// Administrators seen lately, recognized while the users module cannot answer.
    pub(crate) recent_admins: RecentAdmins,
}

/// The administrators whose sessions this process resolved in the last 15 minutes. While the
/// users module cannot answer (down, or taken offline from the Health page), an administrator
/// among them keeps their identity here, so the pages that show and undo an outage (Health,
/// Subscriptions, "bring back online") keep working for them; everyone else is told users is
/// unavailable. Only admins are kept, at most a hundred, and a logout forgets one.
#[derive(Default)]
pub(crate) struct RecentAdmins {
    seen: Mutex<HashMap<String, (User, Instant)>>,
}

impl RecentAdmins {
    const KEPT_FOR: Duration = Duration::from_secs(15 * 60);
    const MAX: usize = 100;

    /// Remembers the user behind `token` if they are an administrator.
    pub(crate) fn saw(&self, token: &str, user: &User) {
        if user.role != Role::Admin {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= Self::MAX && !seen.contains_key(token) {
            seen.retain(|_, (_, at)| at.elapsed() < Self::KEPT_FOR);
            if let Some(oldest) = seen
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
                && seen.len() >= Self::MAX
            {
                seen.remove(&oldest);
            }
        }
        seen.insert(token.to_owned(), (user.clone(), Instant::now()));
    }

    /// The administrator behind `token`, if seen lately.
    pub(crate) fn recall(&self, token: &str) -> Option<User> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(token)
            .filter(|(_, at)| at.elapsed() < Self::KEPT_FOR)
            .map(|(user, _)| user.clone())
    }

    /// Forgets `token` (its session ended).
    pub(crate) fn forget(&self, token: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}
