//! The password-hashing queue is bounded: a flood of logins past it is refused as busy (at once,
//! or after the configured wait for a place), never queued without end, and logins work again as
//! soon as the flood has passed. A test binary of its own, because the hashing threads are the
//! process's.

use kernel::{DbSettings, Platform, Trace};
use tokio::task::JoinHandle;
use users::{Users, UsersConfig};
use users_api::{Credentials, LogIn, NewUser, Registration, Session, UsersApi, UsersError};

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
        hashing_wait: std::time::Duration::ZERO,
        ..UsersConfig::default()
    };
    let users = Users::open_with(&Platform::new(DbSettings::new(dir.path()), 64), config)
        .await
        .unwrap();
    users.register(Trace::new_root(), ada()).await.unwrap();

    // 24 at once against one thread and two waiting places: most are refused as busy.
    let logins = flood(&users, 24);
    let (mut busy, mut in_) = (0, 0);
    for login in logins {
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

    // Given time to wait for a place, the same flood is paced by the hashing instead: every
    // login waits its turn and none is refused (same process, so the same thread and places).
    let patient = tempfile::tempdir().unwrap();
    let users = Users::open_with(
        &Platform::new(DbSettings::new(patient.path()), 64),
        UsersConfig {
            hashing_wait: std::time::Duration::from_secs(300),
            ..config
        },
    )
    .await
    .unwrap();
    users.register(Trace::new_root(), ada()).await.unwrap();
    let logins = flood(&users, 24);
    // A sign-up in the middle of the flood waits its turn too.
    let newcomer = Registration::try_from(NewUser {
        email: "grace@example.com".into(),
        full_name: "Grace Hopper".into(),
        password: "a different horse".into(),
        ..NewUser::default()
    })
    .unwrap();
    users
        .register(Trace::new_root(), newcomer)
        .await
        .expect("a sign-up waits for its place");
    for login in logins {
        login
            .await
            .unwrap()
            .expect("a patient login waits for its place");
    }
}

/// `n` logins with the right password, all at once.
fn flood(users: &Users, n: usize) -> Vec<JoinHandle<Result<Session, UsersError>>> {
    (0..n)
        .map(|_| {
            let users = users.clone();
            tokio::spawn(async move { users.log_in(attempt("correct horse")).await })
        })
        .collect()
}

fn ada() -> Registration {
    Registration::try_from(NewUser {
        email: "ada@example.com".into(),
        full_name: "Ada Lovelace".into(),
        password: "correct horse".into(),
        ..NewUser::default()
    })
    .unwrap()
}
