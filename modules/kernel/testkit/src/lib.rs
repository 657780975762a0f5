//! What every test suite of the workspace shares, and nothing a running application needs:
//! [`eventually`] (and [`within`], its quiet form), the one way a test waits for an eventually
//! consistent state.
//!
//! Tests never sleep for a fixed time to let something happen: they say what they wait for and
//! how long it may take, and fail with that description when it does not come. Waiting for a
//! deadline or a timer is not done here either: tests move the application's `kernel::Clock`.

use std::{
    future::Future,
    time::{Duration, Instant},
};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(20);

/// Checks `check` until it returns `Some`, and returns that; panics with `what` when `timeout`
/// passes first.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match within(timeout, check).await {
        Some(value) => value,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}

/// Checks `check` until it returns `Some`; `None` when `timeout` passes first, for a caller that
/// has more to say about the failure (a screenshot, the last state seen).
pub async fn within<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for a condition without a value.
pub async fn eventually_true<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(what, timeout, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_value_comes_back_once_the_condition_holds() {
        let mut n = 0;
        let got = eventually("the third try", Duration::from_secs(5), || {
            n += 1;
            let now = n;
            async move { (now >= 3).then_some(now) }
        })
        .await;
        assert_eq!(got, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for nothing at all")]
    async fn a_condition_that_never_holds_fails_with_its_description() {
        eventually_true("nothing at all", Duration::from_millis(50), || async {
            false
        })
        .await;
    }
}
