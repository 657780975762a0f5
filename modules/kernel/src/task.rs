//! Background work that runs every so often on the module's clock: the saga's timekeeper, the
//! simulated gateway's late answers. One loop, written once.

use std::{fmt::Display, future::Future, time::Duration};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

/// Runs `tick` now and then every `every` on `clock` until `shutdown`. A tick returns how many
/// things it did (logged at info when any, under the task's name `task`) or an error (logged,
/// and tried again at the next tick): a failing tick never stops the loop.
pub fn spawn_periodic<F, Fut, E>(
    task: &'static str,
    every: Duration,
    clock: Clock,
    shutdown: CancellationToken,
    mut tick: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<usize, E>> + Send,
    E: Display,
{
    tokio::spawn(async move {
        loop {
            match tick().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(task, count = n, "periodic task did its work"),
                Err(e) => tracing::warn!(task, error = %e, "periodic task failed; will try again"),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = clock.sleep(every) => {}
            }
        }
    })
}
