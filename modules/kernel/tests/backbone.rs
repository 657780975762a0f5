//! Proofs of the event backbone on real SQLite files: a toy producer appends `NoteAdded` events
//! through its outbox, a toy consumer counts how many times each one took effect. Whatever
//! happens (a bus of capacity one, restarts, duplicates, failing handlers, rollbacks, SIGKILL),
//! every committed event must take effect exactly once.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use kernel::{
    Bus, Clock, ClockControl, DbSettings, DeadLetterOutcome, Envelope, Error, EventSource, Handler,
    HandlerError, Message, Metrics, ModuleDb, OutboxLog, Platform, RetryPolicy, Subscription,
    SubscriptionConfig, Trace, WriteTx,
};
use kernel_testkit::eventually_true;
use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use tokio_util::sync::CancellationToken;

static PRODUCER_SCHEMA: Migrator = sqlx::migrate!("tests/schemas/producer");
static CONSUMER_SCHEMA: Migrator = sqlx::migrate!("tests/schemas/consumer");

#[derive(Debug, Serialize, Deserialize)]
struct NoteAdded {
    n: i64,
}

kernel::integration_event!(NoteAdded, n);

/// Counts applications; can be told to fail a number of times, or always for one note.
#[derive(Clone, Default)]
struct CountNotes {
    fail_next: Arc<AtomicU32>,
    poisoned: Arc<Mutex<Option<i64>>>,
}

impl Handler for CountNotes {
    fn event_types(&self) -> &'static [&'static str] {
        &[NoteAdded::TYPE]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        let note: NoteAdded = event.decode()?;
        // The effect goes first, so a failure after it proves the rollback of partial effects.
        sqlx::query("INSERT INTO applied (n, times) VALUES (?, 1) ON CONFLICT (n) DO UPDATE SET times = times + 1")
            .bind(note.n)
            .execute(tx.conn())
            .await
            .map_err(|e| HandlerError::Retryable(e.to_string()))?;
        if *self.poisoned.lock().unwrap() == Some(note.n) {
            return Err(HandlerError::Retryable(format!(
                "note {} is poisoned",
                note.n
            )));
        }
        if self.fail_next.load(Ordering::SeqCst) > 0 {
            self.fail_next.fetch_sub(1, Ordering::SeqCst);
            return Err(HandlerError::Retryable("transient failure".into()));
        }
        Ok(())
    }
}

struct World {
    dir: std::path::PathBuf,
    bus: Bus,
    metrics: Metrics,
    clock: ClockControl,
    producer: ModuleDb,
    consumer: ModuleDb,
}

fn fast_retries() -> SubscriptionConfig {
    SubscriptionConfig {
        batch_size: 64,
        safety_net: Duration::from_millis(200),
        retry: RetryPolicy {
            max_attempts: 4,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        inbox_retention: 100_000,
    }
}

impl World {
    async fn open(dir: &std::path::Path, bus_capacity: usize) -> World {
        let (clock, control) = Clock::adjustable();
        let platform = Platform::new(DbSettings::new(dir), bus_capacity).with_clock(clock);
        let producer = ModuleDb::open("producer", &PRODUCER_SCHEMA, &platform)
            .await
            .unwrap();
        let consumer = ModuleDb::open("consumer", &CONSUMER_SCHEMA, &platform)
            .await
            .unwrap();
        World {
            dir: dir.to_owned(),
            bus: platform.bus,
            metrics: platform.metrics,
            clock: control,
            producer,
            consumer,
        }
    }

    fn log(&self) -> Arc<dyn EventSource> {
        Arc::new(OutboxLog::new(self.producer.clone()))
    }

    fn subscription(&self, handler: CountNotes) -> Subscription {
        Subscription::new(&self.consumer, self.log(), handler, fast_retries())
    }

    async fn add_note(&self, n: i64) -> Result<(), Error> {
        let mut tx = self.producer.write(Trace::new_root()).await?;
        sqlx::query("INSERT INTO notes (n) VALUES (?)")
            .bind(n)
            .execute(tx.conn())
            .await
            .map_err(Error::db("producer"))?;
        tx.emit(&NoteAdded { n }).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notes(&self) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM notes ORDER BY n")
            .fetch_all(self.producer.reader().unwrap())
            .await
            .unwrap()
    }

    async fn outbox_len(&self) -> i64 {
        self.log().head().await.unwrap().seq
    }

    async fn applied(&self) -> BTreeMap<i64, i64> {
        sqlx::query_as::<_, (i64, i64)>("SELECT n, times FROM applied")
            .fetch_all(self.consumer.reader().unwrap())
            .await
            .unwrap()
            .into_iter()
            .collect()
    }

    /// Every note took effect exactly once, and only notes did.
    async fn assert_exactly_once(&self) {
        let notes = self.notes().await;
        let applied = self.applied().await;
        assert_eq!(
            self.outbox_len().await,
            notes.len() as i64,
            "every committed note has exactly one event"
        );
        let twice: Vec<_> = applied.iter().filter(|(_, t)| **t != 1).collect();
        assert!(twice.is_empty(), "applied more than once: {twice:?}");
        let applied_notes: Vec<i64> = applied.keys().copied().collect();
        assert_eq!(
            applied_notes, notes,
            "applied set differs from committed notes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_bus_of_capacity_one_every_event_is_still_handled_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1).await;
    let shutdown = CancellationToken::new();
    let sub = world.subscription(CountNotes::default());
    let task = sub.spawn(shutdown.clone());

    // Concurrent producers overrun a one-slot bus over and over.
    let world = Arc::new(world);
    let mut producers = Vec::new();
    for p in 0..4 {
        let world = world.clone();
        producers.push(tokio::spawn(async move {
            for i in 0..750 {
                world.add_note(p * 10_000 + i).await.unwrap();
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    let head = world.outbox_len().await;
    assert_eq!(head, 3000);
    assert!(
        sub.wait_for(head, Duration::from_secs(60)).await,
        "subscription never caught up: {:?}",
        sub.status().await
    );
    world.assert_exactly_once().await;
    let text = world.metrics.encode();
    assert!(
        text.contains(r#"boxoffice_consumer_catch_ups_total{subscription="consumer/producer",reason="lagged"}"#)
            || text.contains(r#"reason="gap""#),
        "the bus never lagged, so this test proved nothing:\n{text}"
    );
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_starts_after_its_producer_misses_nothing_and_restarting_applies_nothing_twice()
 {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    for n in 0..200 {
        world.add_note(n).await.unwrap();
    }

    // First run: stopped in the middle of a stream that keeps growing.
    let shutdown = CancellationToken::new();
    let first = world
        .subscription(CountNotes::default())
        .spawn(shutdown.clone());
    for n in 200..400 {
        world.add_note(n).await.unwrap();
    }
    shutdown.cancel();
    first.await.unwrap();
    for n in 400..500 {
        world.add_note(n).await.unwrap();
    }

    // Restart on the same files, as a new process would.
    let restarted = World::open(&world.dir, 1024).await;
    let shutdown = CancellationToken::new();
    let sub = restarted.subscription(CountNotes::default());
    let second = sub.spawn(shutdown.clone());
    assert!(sub.wait_for(500, Duration::from_secs(30)).await);
    restarted.assert_exactly_once().await;
    shutdown.cancel();
    second.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_envelope_delivered_twice_takes_effect_once() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let shutdown = CancellationToken::new();
    let sub = world.subscription(CountNotes::default());
    let task = sub.spawn(shutdown.clone());
    for n in 0..50 {
        world.add_note(n).await.unwrap();
    }
    assert!(sub.wait_for(50, Duration::from_secs(10)).await);

    // The bus delivers old envelopes again, while a catch-up races it from a rewound checkpoint.
    let old = world.log().read(0, 50).await.unwrap();
    for e in &old {
        world.bus.publish(e.clone());
    }
    let mut tx = world.consumer.write(Trace::new_root()).await.unwrap();
    sqlx::query("UPDATE consumer_checkpoints SET seq = 0")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let racing = world.subscription(CountNotes::default());
    racing.drain().await.unwrap();
    for e in &old {
        world.bus.publish(e.clone());
    }
    world.add_note(50).await.unwrap();
    assert!(sub.wait_for(51, Duration::from_secs(10)).await);

    world.assert_exactly_once().await;
    assert!(
        world
            .metrics
            .encode()
            .contains("boxoffice_events_duplicate_total"),
        "no duplicate was ever seen"
    );
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_fails_a_few_times_then_succeeds_applies_the_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let handler = CountNotes::default();
    handler.fail_next.store(3, Ordering::SeqCst);
    // Backoff measured in hours: only moving the clock lets the retries happen.
    let config = SubscriptionConfig {
        retry: RetryPolicy {
            max_attempts: 5,
            first_delay: Duration::from_secs(3600),
            max_delay: Duration::from_secs(4 * 3600),
        },
        ..fast_retries()
    };
    let shutdown = CancellationToken::new();
    let sub = Subscription::new(&world.consumer, world.log(), handler.clone(), config);
    let task = sub.spawn(shutdown.clone());
    world.add_note(1).await.unwrap();
    world.add_note(2).await.unwrap();
    for failed in 1..=3u64 {
        eventually_true(
            &format!("failure {failed} to be counted"),
            Duration::from_secs(10),
            || async { sub.status().await.retried == failed },
        )
        .await;
        assert!(
            !sub.wait_for(1, Duration::from_millis(50)).await,
            "retried before its backoff had passed"
        );
        // delay(n) is at most first_delay * 2^(n-1), capped.
        world
            .clock
            .advance(Duration::from_secs(3600 << (failed - 1)));
    }
    assert!(sub.wait_for(2, Duration::from_secs(10)).await);

    world.assert_exactly_once().await;
    let status = sub.status().await;
    assert_eq!(status.retried, 3, "{status:?}");
    assert_eq!(status.parked, 0, "{status:?}");
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_always_failing_event_becomes_a_dead_letter_later_events_flow_and_a_retry_after_the_fix_applies_it_once()
 {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let handler = CountNotes::default();
    *handler.poisoned.lock().unwrap() = Some(2);
    let shutdown = CancellationToken::new();
    let sub = world.subscription(handler.clone());
    let task = sub.spawn(shutdown.clone());
    for n in 1..=5 {
        world.add_note(n).await.unwrap();
    }
    assert!(sub.wait_for(5, Duration::from_secs(10)).await);

    // Note 2 is parked with its error; 3, 4 and 5 were applied anyway; 2's partial effect was rolled back.
    let applied = world.applied().await;
    assert_eq!(
        applied.keys().copied().collect::<Vec<_>>(),
        vec![1, 3, 4, 5]
    );
    let parked = sub.dead_letters(false).await.unwrap();
    assert_eq!(parked.len(), 1);
    let letter = &parked[0];
    assert_eq!(letter.envelope.seq, 2);
    assert_eq!(letter.attempts, 4);
    assert!(letter.error.contains("poisoned"), "{}", letter.error);

    // Retrying while still broken keeps it parked with the new error.
    let again = sub.retry_dead_letter(letter.id, "test").await.unwrap();
    assert!(
        matches!(again, DeadLetterOutcome::StillFailing { .. }),
        "{again:?}"
    );
    assert_eq!(world.applied().await.get(&2), None);

    // After the fix, a retry applies it exactly once; a second retry finds nothing to do.
    *handler.poisoned.lock().unwrap() = None;
    assert_eq!(
        sub.retry_dead_letter(letter.id, "test").await.unwrap(),
        DeadLetterOutcome::Applied
    );
    assert_eq!(
        sub.retry_dead_letter(letter.id, "test").await.unwrap(),
        DeadLetterOutcome::NotFound
    );
    world.assert_exactly_once().await;
    let all = sub.dead_letters(true).await.unwrap();
    assert_eq!(all[0].status, "retried");
    assert_eq!(all[0].resolved_by.as_deref(), Some("test"));
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discarded_dead_letter_is_resolved_without_taking_effect() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let handler = CountNotes::default();
    *handler.poisoned.lock().unwrap() = Some(1);
    let sub = world.subscription(handler);
    world.add_note(1).await.unwrap();
    sub.drain().await.unwrap();
    let letter = sub.dead_letters(false).await.unwrap().remove(0);
    assert_eq!(
        sub.discard_dead_letter(letter.id, "operator")
            .await
            .unwrap(),
        DeadLetterOutcome::Discarded
    );
    assert!(sub.dead_letters(false).await.unwrap().is_empty());
    assert!(world.applied().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_is_pruned_behind_the_checkpoint_and_pruned_events_never_apply_again() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let config = SubscriptionConfig {
        inbox_retention: 10,
        ..fast_retries()
    };
    let sub = Subscription::new(&world.consumer, world.log(), CountNotes::default(), config);
    let shutdown = CancellationToken::new();
    let task = sub.spawn(shutdown.clone());
    for n in 0..300 {
        world.add_note(n).await.unwrap();
    }
    assert!(sub.wait_for(300, Duration::from_secs(30)).await);
    // The safety net (every 200 ms here) prunes: only rows within ten of the checkpoint stay.
    let inbox = || async {
        sqlx::query_as::<_, (i64, Option<i64>)>(
            "SELECT COUNT(*), MIN(seq) FROM consumer_inbox WHERE subscription = ?",
        )
        .bind(sub.name())
        .fetch_one(world.consumer.reader().unwrap())
        .await
        .unwrap()
    };
    eventually_true(
        "the inbox to be pruned to the ten rows below the checkpoint",
        Duration::from_secs(10),
        || async {
            let (rows, lowest) = inbox().await;
            rows <= 11 && lowest.is_some_and(|l| l >= 290)
        },
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();
    // A restarted subscription reads the log again from its checkpoint: the pruned events stay
    // applied once, and the next one applies.
    let shutdown = CancellationToken::new();
    let sub = world.subscription(CountNotes::default());
    let task = sub.spawn(shutdown.clone());
    world.add_note(300).await.unwrap();
    assert!(sub.wait_for(301, Duration::from_secs(30)).await);
    shutdown.cancel();
    task.await.unwrap();
    world.assert_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_transaction_that_rolls_back_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let mut rx = world.bus.subscribe();

    let mut tx = world.producer.write(Trace::new_root()).await.unwrap();
    sqlx::query("INSERT INTO notes (n) VALUES (1)")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.emit(&NoteAdded { n: 1 }).await.unwrap();
    drop(tx);
    world.add_note(2).await.unwrap();

    let first = rx.recv().await.unwrap();
    assert_eq!(
        first.decode::<NoteAdded>().unwrap().n,
        2,
        "the rolled-back event reached the bus"
    );
    assert_eq!(
        first.seq, 1,
        "the rolled-back event consumed a sequence number"
    );
    assert_eq!(world.outbox_len().await, 1);
    assert_eq!(world.notes().await, vec![2]);
}

/// Runs as a child process of `sigkill_at_random_points_loses_and_duplicates_nothing`: produces
/// notes and consumes them until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the SIGKILL test; does nothing on its own"]
async fn crash_child() {
    let Ok(dir) = std::env::var("BACKBONE_CRASH_DIR") else {
        return;
    };
    let world = World::open(std::path::Path::new(&dir), 16).await;
    let sub = world.subscription(CountNotes::default());
    let _task = sub.spawn(CancellationToken::new());
    let mut n = world.notes().await.last().copied().unwrap_or(0);
    println!("child ready");
    loop {
        n += 1;
        world.add_note(n).await.unwrap();
        if n % 7 == 0 {
            tokio::task::yield_now().await;
        }
    }
}

/// How many notes the producer of the data folder at `dir` has committed (0 before it exists),
/// read through a connection of its own, as another process would.
async fn world_len(dir: &std::path::Path) -> i64 {
    let path = dir.join("producer.db");
    if !path.exists() {
        return 0;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let Ok(pool) = sqlx::SqlitePool::connect_with(options).await else {
        return 0;
    };
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(&pool)
        .await
        .unwrap_or(0);
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let rounds = 12;
    for round in 0..rounds {
        let mut child = std::process::Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("BACKBONE_CRASH_DIR", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Killed after a random number of further commits: at a random point of its work, not
        // of the clock.
        let target = world_len(dir.path()).await + 20 + rand::random_range(0..200i64) + round * 5;
        eventually_true(
            "the child to commit more notes",
            Duration::from_secs(30),
            || async { world_len(dir.path()).await >= target },
        )
        .await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }

    let world = World::open(dir.path(), 1024).await;
    let committed = world.outbox_len().await;
    assert!(
        committed > 100,
        "the children committed too little to prove anything: {committed}"
    );
    world
        .subscription(CountNotes::default())
        .drain()
        .await
        .unwrap();
    world.assert_exactly_once().await;
}

/// The same event as a newer producer build writes it: a version this consumer does not read.
mod newer {
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    pub(super) struct NoteAdded {
        pub(super) n: i64,
        pub(super) colour: String,
    }
    kernel::integration_event!(NoteAdded, n, version = 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_a_newer_version_than_the_consumer_reads_is_parked_with_the_reason_and_later_events_flow()
 {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path(), 1024).await;
    let shutdown = CancellationToken::new();
    let sub = world.subscription(CountNotes::default());
    let task = sub.spawn(shutdown.clone());
    world.add_note(1).await.unwrap();
    {
        let mut tx = world.producer.write(Trace::new_root()).await.unwrap();
        sqlx::query("INSERT INTO notes (n) VALUES (2)")
            .execute(tx.conn())
            .await
            .unwrap();
        tx.emit(&newer::NoteAdded {
            n: 2,
            colour: "green".into(),
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    world.add_note(3).await.unwrap();
    assert!(sub.wait_for(3, Duration::from_secs(10)).await);

    // Not dropped, not applied: parked at once (retrying cannot help), with the versions named.
    let parked = sub.dead_letters(false).await.unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0].envelope.seq, 2);
    assert_eq!(parked[0].envelope.event_version, 2);
    assert!(
        parked[0]
            .error
            .contains("version 2 is newer than the supported version 1"),
        "{}",
        parked[0].error
    );
    let applied = world.applied().await;
    assert_eq!(applied.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_openers_of_a_new_database_at_once_apply_each_migration_once() {
    // As a server and `users create-admin` starting together on a new folder (separate
    // platforms: nothing shared in memory, as between processes).
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.path().to_owned();
                tokio::spawn(async move {
                    let platform = Platform::new(DbSettings::new(&dir), 16);
                    ModuleDb::open("producer", &PRODUCER_SCHEMA, &platform).await
                })
            })
            .collect();
        for opened in opens {
            let db = opened.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
            assert!(db.health().await.schema_version.is_some());
        }
    }
}

/// The toy producer's database in `dir`, checkpointed every `every` (or by SQLite).
async fn producer_checkpointed(dir: &std::path::Path, every: Option<Duration>) -> ModuleDb {
    let mut settings = DbSettings::new(dir);
    settings.checkpoint_every = every;
    let platform = Platform::new(settings, 16);
    ModuleDb::open("producer", &PRODUCER_SCHEMA, &platform)
        .await
        .unwrap()
}

/// Pages of the producer's database that are in its file rather than only in its write-ahead
/// log, and all its pages.
async fn pages_in_file(db: &ModuleDb) -> (i64, i64) {
    let mut tx = db.write(Trace::new_root()).await.unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    drop(tx);
    let in_file = std::fs::metadata(db.path()).unwrap().len() as i64 / size;
    (in_file, pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_steady_writes_the_checkpointer_starts_the_log_again_instead_of_letting_it_grow() {
    let dir = tempfile::tempdir().unwrap();
    let db = producer_checkpointed(dir.path(), Some(Duration::from_millis(5))).await;
    // Twenty-five thousand commits of a page or more each, back to back: a log that never
    // started again would hold them all (100 MB and more); one that starts again past 10,000
    // frames stays near 41 MB.
    for n in 0..25_000 {
        let mut tx = db.write(Trace::new_root()).await.unwrap();
        sqlx::query("INSERT INTO notes (n) VALUES (?)")
            .bind(n)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let log = std::fs::metadata(dir.path().join("producer.db-wal"))
        .unwrap()
        .len();
    assert!(
        log < 25_000 * 4_096 / 2,
        "the log grew to {log} bytes: it never started again"
    );
    // Closed, the checkpointer goes first and the writer last: the log is folded into the file.
    db.close().await;
    assert!(
        !dir.path().join("producer.db-wal").exists(),
        "the log outlived the close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpointer_copies_the_log_into_the_file_and_without_it_commits_leave_it_to_sqlite() {
    for every in [Some(Duration::from_millis(20)), None] {
        let dir = tempfile::tempdir().unwrap();
        let db = producer_checkpointed(dir.path(), every).await;
        // Enough rows for several pages, far fewer than SQLite's 1,000-page checkpoint.
        for chunk in 0..20 {
            let mut tx = db.write(Trace::new_root()).await.unwrap();
            for n in 0..200 {
                sqlx::query("INSERT INTO notes (n) VALUES (?)")
                    .bind(chunk * 1_000 + n)
                    .execute(tx.conn())
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        if every.is_some() {
            eventually_true(
                "every page copied into the file",
                Duration::from_secs(10),
                || async {
                    let (in_file, pages) = pages_in_file(&db).await;
                    in_file == pages
                },
            )
            .await;
        } else {
            let (in_file, pages) = pages_in_file(&db).await;
            assert!(
                in_file < pages,
                "without a checkpointer the new pages wait in the log: {in_file} of {pages} in the file"
            );
        }
    }
}
