//! Login throttling: failed logins counted per account and per client address, on the module's
//! clock. Past a few failures a key is locked for a while, doubling with every further failure,
//! and a locked key is refused before any password is checked, so the right password is refused
//! too until the lock ends. Accounts are keyed by the address as typed (folded to lower case),
//! whether or not an account has it: an unknown address is throttled exactly like a known one,
//! and nothing in the answer or its timing tells them apart.
//!
//! The counts live in this process's memory: they bound guessing while the process runs, and a
//! restart forgets them (guessing then starts again from the first threshold). The map is bounded.

use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Duration};

use kernel::Timestamp;

/// When logins are throttled.
#[derive(Clone, Copy, Debug)]
pub struct LoginThrottle {
    /// Failures of one account, within `window`, before it is locked (0: never).
    pub account_failures: u32,
    /// Failures from one client address, within `window`, before it is locked (0: never).
    pub address_failures: u32,
    /// How long failures are remembered after the last one.
    pub window: Duration,
    /// The first lock; each further failure doubles it, up to `max_lockout`.
    pub lockout: Duration,
    /// The longest lock.
    pub max_lockout: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 20,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(2),
            max_lockout: Duration::from_secs(15 * 60),
        }
    }
}

/// Keys remembered at most; past it, keys that are not locked are forgotten first.
const MAX_KEYS: usize = 50_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_failure: Timestamp,
    locked_until: Option<Timestamp>,
}

#[derive(Debug)]
pub(crate) struct Throttle {
    rules: LoginThrottle,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    pub(crate) fn new(rules: LoginThrottle) -> Throttle {
        Throttle {
            rules,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, client: Option<IpAddr>) -> impl Iterator<Item = Key> {
        std::iter::once(Key::Account(email.to_lowercase())).chain(client.map(Key::Address))
    }

    /// `Err(seconds)` to wait when the account or the address is locked at `now`.
    pub(crate) fn check(
        &self,
        email: &str,
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let wait = Self::keys(email, client)
            .filter_map(|k| entries.get(&k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until.duration_since(now))
            .max();
        match wait {
            Some(wait) => Err(wait.as_secs_f64().ceil().max(1.0) as u64),
            None => Ok(()),
        }
    }

    /// Counts a failed login against the account and the address.
    pub(crate) fn failed(&self, email: &str, client: Option<IpAddr>, now: Timestamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            self.forget(&mut entries, now);
        }
        for key in Self::keys(email, client) {
            let limit = match key {
                Key::Account(_) => self.rules.account_failures,
                Key::Address(_) => self.rules.address_failures,
            };
            if limit == 0 {
                continue;
            }
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            if now.duration_since(entry.last_failure) > self.rules.window {
                entry.failures = 0;
            }
            entry.failures += 1;
            entry.last_failure = now;
            if entry.failures >= limit {
                let doublings = (entry.failures - limit).min(30);
                let lock = self
                    .rules
                    .lockout
                    .saturating_mul(1 << doublings)
                    .min(self.rules.max_lockout);
                entry.locked_until = Some(now.plus(lock));
            }
        }
    }

    /// A successful login clears its account's failures (not its address's: one account an
    /// attacker owns must not reset the count of their guesses at others).
    pub(crate) fn succeeded(&self, email: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Key::Account(email.to_lowercase()));
    }

    /// Forgets what no longer matters, then, if still full, keys that are not locked.
    fn forget(&self, entries: &mut HashMap<Key, Entry>, now: Timestamp) {
        let window = self.rules.window;
        let live = |e: &Entry| e.locked_until.is_some_and(|u| u > now);
        entries.retain(|_, e| live(e) || now.duration_since(e.last_failure) <= window);
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| live(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> LoginThrottle {
        LoginThrottle {
            account_failures: 3,
            address_failures: 5,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(2),
            max_lockout: Duration::from_secs(10),
        }
    }

    #[test]
    fn an_account_locks_after_its_limit_and_each_further_failure_doubles_the_lock() {
        let t = Throttle::new(rules());
        let now = Timestamp::from_micros(1_000_000_000);
        for _ in 0..2 {
            t.failed("Ada@Example.com", None, now);
        }
        assert_eq!(t.check("ada@example.com", None, now), Ok(()));
        t.failed("ada@example.com", None, now);
        assert_eq!(t.check("ADA@example.com", None, now), Err(2));
        let later = now.plus(Duration::from_secs(3));
        assert_eq!(t.check("ada@example.com", None, later), Ok(()));
        t.failed("ada@example.com", None, later);
        assert_eq!(t.check("ada@example.com", None, later), Err(4));
        for _ in 0..5 {
            t.failed("ada@example.com", None, later);
        }
        assert_eq!(t.check("ada@example.com", None, later), Err(10), "capped");
        t.succeeded("ada@example.com");
        assert_eq!(t.check("ada@example.com", None, later), Ok(()));
    }

    #[test]
    fn an_address_locks_across_accounts_and_failures_age_out_of_the_window() {
        let t = Throttle::new(rules());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let now = Timestamp::from_micros(1_000_000_000);
        for i in 0..4 {
            t.failed(&format!("user{i}@example.com"), Some(ip), now);
        }
        assert_eq!(t.check("someone@example.com", Some(ip), now), Ok(()));
        // Two minutes later the four are forgotten: four more do not lock it either.
        let later = now.plus(Duration::from_secs(120));
        for i in 10..14 {
            t.failed(&format!("user{i}@example.com"), Some(ip), later);
        }
        assert_eq!(t.check("someone@example.com", Some(ip), later), Ok(()));
        t.failed("user99@example.com", Some(ip), later);
        assert_eq!(t.check("someone@example.com", Some(ip), later), Err(2));
        // Another address is not locked by it.
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(t.check("someone@example.com", Some(other), later), Ok(()));
    }
}
