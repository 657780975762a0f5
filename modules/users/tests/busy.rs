//! The password-hashing queue is bounded: a flood of logins past it is refused as busy at once,
//! never queued without end, and logins work again as soon as the flood has passed. A test
//! binary of its own, because the hashing threads are the process's.

use kernel::{DbSettings, Platform, Trace};
use users::{Users, UsersConfig};
use users_api::{Credentials, LogIn, NewUser, Registration, UsersApi, UsersError};

fn attempt(password: &str) -> LogIn {
    LogIn::try_from(Credentials {
        email: "ada@example.com".into(),
        password: password.into(),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_logins_past_the_hashing_queue_is_refused_as_busy_and_nothing_waits_unbounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = UsersConfig {
        hashing_threads: 1,
        hashing_queue: 2,
        ..UsersConfig::default()
    };
    let users = Users::open_with(&Platform::new(DbSettings::new(dir.path()), 64), config)
        .await
        .unwrap();
    users
        .register(
            Trace::new_root(),
            Registration::try_from(NewUser {
                email: "ada@example.com".into(),
                full_name: "Ada Lovelace".into(),
                password: "correct horse".into(),
            })
            .unwrap(),
        )
        .await
        .unwrap();

    // 24 at once against one thread and two waiting places: most are refused as busy.
    let flood: Vec<_> = (0..24)
        .map(|_| {
            let users = users.clone();
            tokio::spawn(async move { users.log_in(attempt("correct horse")).await })
        })
        .collect();
    let (mut busy, mut in_) = (0, 0);
    for login in flood {
        match login.await.unwrap() {
            Ok(_) => in_ += 1,
            Err(UsersError::Busy) => busy += 1,
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert!(busy >= 1, "nothing was refused: {in_} logged in");
    assert!(in_ >= 1, "everything was refused");
    assert_eq!(busy + in_, 24);
    // The flood has passed: a login goes through.
    users.log_in(attempt("correct horse")).await.unwrap();
}
