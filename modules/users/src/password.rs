//! Password hashing with argon2id (OWASP's recommended parameters, see [`hasher`]), off the
//! async runtime, on dedicated threads (one unless configured), each reusing one working memory.
//!
//! Each hash works in several MiB. Allocated afresh per hash, that memory was kept by the
//! allocator after every call, and a burst of registrations grew the process by 20 MB each, for
//! good. With one reused buffer per hashing thread, hashing costs at most threads × 7 MiB (more only
//! while verifying hashes made with heavier parameters), and a login flood waits in a bounded queue
//! (past it, a login is refused as busy) instead of exhausting memory or every core.

use std::{
    cell::RefCell,
    sync::{Arc, LazyLock, Mutex, OnceLock, mpsc},
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use kernel::Clock;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use users_api::{Password, UsersError};

type Job = Box<dyn FnOnce() + Send>;

/// Threads hashing passwords unless configured.
pub(crate) const DEFAULT_THREADS: usize = 1;
/// Hashes that may wait for a thread unless configured.
pub(crate) const DEFAULT_QUEUE: usize = 32;
/// How long a login waits for a place among them unless configured.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// How many threads hash and how many hashes may wait, set once per process by
/// [`configure`] (the first users module opened), the defaults otherwise.
static SHAPE: OnceLock<(usize, usize)> = OnceLock::new();

/// Sets the hashing threads and the queue's bound, unless hashing already started.
pub(crate) fn configure(threads: usize, queue: usize) {
    let _ = SHAPE.set((threads.max(1), queue.max(1)));
}

/// Hashes admitted at once: one per hashing thread and one per place in its queue. A login
/// takes its place before it looks anything up (a sign-up before it hashes), waits for one a
/// little while when all are taken, and gives it back only once its hash is done: a flood past
/// the bound is paced by the hashing itself (each client waits its turn, or is refused as busy
/// after the wait) instead of being answered, and sent again, as fast as requests can be read.
static ADMITTED: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let (threads, queue) = shape();
    Arc::new(Semaphore::new(threads + queue))
});

fn shape() -> (usize, usize) {
    *SHAPE.get_or_init(|| (DEFAULT_THREADS, DEFAULT_QUEUE))
}

/// A place among the hashes admitted, held until the hash it is spent on is done (dropping it
/// gives it back).
pub(crate) struct Place {
    _permit: OwnedSemaphorePermit,
}

/// A place for one hash; [`UsersError::Busy`] when none frees within `wait` on `clock` (at
/// once when `wait` is zero).
pub(crate) async fn admit(clock: &Clock, wait: Duration) -> Result<Place, UsersError> {
    if let Ok(permit) = ADMITTED.clone().try_acquire_owned() {
        return Ok(Place { _permit: permit });
    }
    if wait.is_zero() {
        return Err(UsersError::Busy);
    }
    tokio::select! {
        permit = ADMITTED.clone().acquire_owned() => {
            permit
                .map(|permit| Place { _permit: permit })
                .map_err(|_| UsersError::Busy)
        }
        () = clock.sleep(wait) => Err(UsersError::Busy),
    }
}

/// The queue the hashing threads take work from. Only admitted hashes reach it, each holding its
/// place until done, so it never holds more than the places: it never refuses one.
static HASHERS: LazyLock<Mutex<mpsc::SyncSender<Job>>> = LazyLock::new(|| {
    let (threads, queue) = shape();
    let (tx, rx) = mpsc::sync_channel::<Job>(threads + queue);
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads {
        let rx = rx.clone();
        let _ = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking hash fails its one request (its answer channel drops),
                        // not the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                }
            });
    }
    Mutex::new(tx)
});

thread_local! {
    /// This hashing thread's working memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn failed(e: impl std::fmt::Display) -> UsersError {
    UsersError::Hashing(e.to_string())
}

/// Runs `work` on a hashing thread and waits for its answer without blocking the runtime; the
/// place goes back when the work is done (also when nobody waits for its answer any more).
async fn on_hasher<T: Send + 'static>(
    place: Place,
    work: impl FnOnce() -> Result<T, UsersError> + Send + 'static,
) -> Result<T, UsersError> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
        drop(place);
    });
    let sent = HASHERS
        .lock()
        .map_err(|_| failed("the hashing threads are gone"))?
        .try_send(job);
    match sent {
        Ok(()) => {}
        Err(mpsc::TrySendError::Full(_)) => return Err(UsersError::Busy),
        Err(mpsc::TrySendError::Disconnected(_)) => {
            return Err(failed("the hashing threads are gone"));
        }
    }
    rx.await.map_err(|_| failed("a hashing thread failed"))?
}

/// The parameters of new hashes: argon2id with OWASP's lightest recommended setting (7 MiB,
/// 5 passes, 1 lane), which OWASP rates as strong as its 19 MiB, 2-pass one, in a third of the
/// memory. Hashes made with other parameters (older accounts) still verify: a PHC string carries
/// its own.
fn hasher() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Argon2 of `password` and `salt` into `out`, in this thread's reused memory (grown when an
/// older hash needs more; never shrunk, so it is never handed back to an allocator that would
/// keep it anyway).
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), UsersError> {
    let blocks = argon.params().block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            *memory = vec![Block::new(); blocks];
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(failed)
    })
}

/// A PHC string (`$argon2id$v=19$...`) for `password`, with a fresh random salt.
pub(crate) async fn hash(place: Place, password: Password) -> Result<String, UsersError> {
    on_hasher(place, move || {
        let argon = hasher();
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(failed)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        compute(&argon, password.expose().as_bytes(), &salt, &mut out)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(failed)?,
            salt: Some(Salt::new(&salt).map_err(failed)?),
            hash: Some(Output::new(&out).map_err(failed)?),
        };
        Ok(phc.to_string())
    })
    .await
}

/// True when `password` matches the stored `phc` hash (compared in constant time).
pub(crate) async fn verify(
    place: Place,
    password: String,
    phc: String,
) -> Result<bool, UsersError> {
    on_hasher(place, move || {
        let parsed = PasswordHash::new(&phc).map_err(failed)?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(failed)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(failed)?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(failed)?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(failed("the stored hash has no salt or no output"));
        };
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        compute(&argon, password.as_bytes(), salt.as_ref(), &mut out)?;
        Ok(Output::new(&out).map_err(failed)? == *expected)
    })
    .await
}

/// A valid hash of a password nobody knows, verified against when the email is unknown so that
/// a failed login takes as long whether or not the account exists.
pub(crate) const DECOY_HASH: &str = "$argon2id$v=19$m=7168,t=5,p=1$c29tZXNhbHRzb21lc2FsdA$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDA";

#[cfg(test)]
mod tests {
    use super::*;

    async fn place() -> Place {
        admit(&Clock::system(), Duration::from_secs(60))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let h = hash(place().await, Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(
            verify(place().await, "correct horse".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify(place().await, "wrong horse!".into(), h)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Stored by the crate's hasher (as earlier versions did), verified here.
        let theirs = Argon2::default()
            .hash_password(b"an older password")
            .unwrap()
            .to_string();
        assert!(
            verify(place().await, "an older password".into(), theirs.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify(place().await, "another password".into(), theirs)
                .await
                .unwrap()
        );
        // Made here, verified by the crate.
        let ours = hash(place().await, Password::parse("a newer password").unwrap())
            .await
            .unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"a newer password", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_decoy_hash_parses_and_matches_nothing_typed() {
        assert!(
            !verify(place().await, "password123".into(), DECOY_HASH.into())
                .await
                .unwrap()
        );
    }
}
