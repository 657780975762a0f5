//! The cargo-deny half of the crate-graph rule, proven able to fire: a fixture workspace in which
//! a crate other than the app depends on a module implementation must fail `cargo deny check bans`
//! with exactly that ban. Needs `cargo-deny`; without it the test says so loudly and passes, unless
//! `BOXOFFICE_REQUIRE_TOOLS=1` (set by `.ci/run`) makes a missing tool a failure.

use std::{path::Path, process::Command};

#[test]
fn the_wrapper_ban_rejects_a_second_dependent_of_a_module_implementation() {
    let has_deny = Command::new("cargo")
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_deny {
        assert!(
            std::env::var_os("BOXOFFICE_REQUIRE_TOOLS").is_none(),
            "cargo-deny is required here (BOXOFFICE_REQUIRE_TOOLS is set) but not installed"
        );
        eprintln!(
            "\n*** SKIPPED: cargo-deny is not installed, so the deny.toml ban fixture did not run. \
             Install it with `cargo install cargo-deny --locked` (.ci/run does). ***\n"
        );
        return;
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deny");
    let out = Command::new("cargo")
        .args(["deny", "--offline", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .args(["check", "bans"])
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .expect("run cargo deny");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the ban did not fire:\n{stderr}");
    assert!(
        stderr.contains("crate 'alpha = 0.1.0' is explicitly banned"),
        "unexpected failure:\n{stderr}"
    );
    assert!(
        stderr.contains("direct parent 'beta = 0.1.0' of banned crate 'alpha = 0.1.0' was not marked as a wrapper"),
        "the offending dependent is not named:\n{stderr}"
    );
    assert!(
        !stderr.contains("'app = 0.1.0' of banned"),
        "the app was refused:\n{stderr}"
    );
}
