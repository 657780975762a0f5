//! Where the tests find NATS: `BOXOFFICE_TEST_NATS_URL`, or the machine's server on 4222. A
//! suite that needs it and finds none skips loudly, unless `BOXOFFICE_REQUIRE_NATS` is set (as
//! `.ci/run` does), which makes a missing server a failure.

use std::time::Duration;

/// The NATS server of the tests, when one answers.
pub(crate) fn nats_url() -> Option<String> {
    let url =
        std::env::var("BOXOFFICE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let address = url.trim_start_matches("nats://").to_owned();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&address)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok());
    if reachable {
        return Some(url);
    }
    let required = std::env::var_os("BOXOFFICE_REQUIRE_NATS").is_some_and(|v| v != "0");
    assert!(
        !required,
        "BOXOFFICE_REQUIRE_NATS is set but no NATS server answers at {url}"
    );
    None
}
