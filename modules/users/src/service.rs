//! The users module's facade: every command and query the application may call.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use kernel::{ModuleDb, ModuleHandle, Platform, Trace, new_id};
use sqlx::migrate::Migrator;
use users_api::{
    Actor, DirectoryError, Email, LogIn, Password, ProfileChange, Registration, Role, Session,
    User, UserDeactivated, UserDirectory, UserEmailChanged, UserFilter, UserPage, UserRegistered,
    UserRenamed, UserRoleChanged, UsersApi, UsersError,
};
use uuid::Uuid;

use crate::{
    password, session, store,
    throttle::{LoginThrottle, Throttle},
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/users");

/// How long a login lasts.
const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// How the users module runs.
#[derive(Clone, Copy, Debug)]
pub struct UsersConfig {
    /// When failed logins are throttled.
    pub throttle: LoginThrottle,
    /// Threads hashing passwords (each one core's worth of work while busy). The first module
    /// opened in a process sets them for the process.
    pub hashing_threads: usize,
    /// Hashes that may wait for a thread; past it a login or registration is refused as busy.
    pub hashing_queue: usize,
    /// How long a login waits for a place in that queue before it is refused as busy.
    pub hashing_wait: Duration,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            throttle: LoginThrottle::default(),
            hashing_threads: password::DEFAULT_THREADS,
            hashing_queue: password::DEFAULT_QUEUE,
            hashing_wait: password::DEFAULT_WAIT,
        }
    }
}

/// The users module.
#[derive(Clone, Debug)]
pub struct Users {
    db: ModuleDb,
    throttle: Arc<Throttle>,
    hashing_wait: Duration,
}

impl Users {
    /// Opens (and migrates) `users.db` in the data folder, with the default configuration.
    pub async fn open(platform: &Platform) -> Result<Users, UsersError> {
        Self::open_with(platform, UsersConfig::default()).await
    }

    /// A place among the hashes admitted, waiting for one as configured.
    async fn place(&self) -> Result<password::Place, UsersError> {
        password::admit(self.db.clock(), self.hashing_wait).await
    }

    /// Opens (and migrates) `users.db` in the data folder.
    pub async fn open_with(platform: &Platform, config: UsersConfig) -> Result<Users, UsersError> {
        password::configure(config.hashing_threads, config.hashing_queue);
        let db = ModuleDb::open(users_api::STREAM, &MIGRATOR, platform).await?;
        Ok(Users {
            db,
            throttle: Arc::new(Throttle::new(config.throttle)),
            hashing_wait: config.hashing_wait,
        })
    }

    /// The module as a whole: its event log, health, availability, close.
    pub fn handle(&self) -> ModuleHandle {
        self.db.handle()
    }

    async fn create(
        &self,
        trace: Trace,
        input: Registration,
        role: Role,
    ) -> Result<User, UsersError> {
        let Registration {
            email,
            full_name,
            password,
            zone,
        } = input;
        // Cheap check first, so a taken address does not cost a hash; the unique index decides races.
        if store::find_by_email(self.db.reader()?, email.as_str())
            .await?
            .is_some()
        {
            return Err(UsersError::EmailTaken);
        }
        let place = self.place().await?;
        let hash = password::hash(place, password).await?;
        let now = self.db.clock().now();
        let user = User {
            id: new_id(),
            email: email.as_str().to_owned(),
            full_name: full_name.as_str().to_owned(),
            role,
            active: true,
            email_version: 1,
            time_zone: zone.name().to_owned(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.write(trace).await?;
        store::insert_user(tx.conn(), &user, &hash).await?;
        tx.emit(&UserRegistered {
            user_id: user.id,
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            role,
            registered_at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, %role, "user registered");
        Ok(user)
    }
}

#[async_trait]
impl UsersApi for Users {
    /// Registers a customer.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id))]
    async fn register(&self, trace: Trace, input: Registration) -> Result<User, UsersError> {
        self.create(trace, input, Role::Customer).await
    }

    /// Creates an administrator (the `users create-admin` command and the demo admin).
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id))]
    async fn create_admin(&self, trace: Trace, input: Registration) -> Result<User, UsersError> {
        self.create(trace, input, Role::Admin).await
    }

    /// Checks a password and opens a session.
    #[tracing::instrument(skip_all)]
    async fn log_in(&self, attempt: LogIn) -> Result<Session, UsersError> {
        let LogIn {
            email,
            password,
            client,
        } = attempt;
        let started = self.db.clock().now();
        // A locked account or address is refused before anything is looked up or hashed, the
        // same for an address no account has.
        if let Err(retry_after_seconds) = self.throttle.check(&email, client, started) {
            tracing::info!(?client, "login throttled");
            return Err(UsersError::Throttled {
                retry_after_seconds,
            });
        }
        // Longer than any account's: refused like a wrong password, without hashing it.
        if email.chars().count() > Email::MAX_LEN || password.chars().count() > Password::MAX_LEN {
            self.throttle.failed(&email, client, started);
            return Err(UsersError::InvalidCredentials);
        }
        let place = self.place().await?;
        let row = store::find_by_email(self.db.reader()?, &email).await?;
        let hash = row.as_ref().map_or_else(
            || password::DECOY_HASH.to_owned(),
            |r| r.password_hash.clone(),
        );
        let matches = password::verify(place, password, hash).await?;
        let Some(row) = row.filter(|_| matches) else {
            tracing::info!(?client, "login failed");
            self.throttle.failed(&email, client, self.db.clock().now());
            return Err(UsersError::InvalidCredentials);
        };
        self.throttle.succeeded(&email);
        if !row.active {
            return Err(UsersError::Deactivated);
        }
        let token = session::new_token().map_err(|e| UsersError::Hashing(e.to_string()))?;
        let now = self.db.clock().now();
        let expires_at = now.plus(SESSION_TTL);
        let mut tx = self.db.write(Trace::new_root()).await?;
        store::delete_expired_sessions(tx.conn(), now).await?;
        store::insert_session(
            tx.conn(),
            &session::token_hash(&token),
            row.id,
            now,
            expires_at,
        )
        .await?;
        tx.commit().await?;
        let user = row.into_user();
        tracing::info!(user_id = %user.id, "logged in");
        Ok(Session {
            token,
            user,
            expires_at,
        })
    }

    /// Ends the session with this token (a no-op for an unknown token).
    async fn log_out(&self, token: &str) -> Result<(), UsersError> {
        let mut tx = self.db.write(Trace::new_root()).await?;
        store::delete_session(tx.conn(), &session::token_hash(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user holding a live session with this token.
    async fn authenticate(&self, token: &str) -> Result<Option<User>, UsersError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let row = store::user_by_session(
            self.db.reader()?,
            &session::token_hash(token),
            self.db.clock().now(),
        )
        .await?;
        Ok(row.map(store::UserRow::into_user))
    }

    /// One user; customers may only read themselves.
    async fn get(&self, actor: &Actor, id: Uuid) -> Result<User, UsersError> {
        if !actor.may_access(id) {
            return Err(UsersError::Forbidden);
        }
        store::find_by_id(self.db.reader()?, id)
            .await?
            .map(store::UserRow::into_user)
            .ok_or(UsersError::NotFound)
    }

    /// All users, oldest first, a page at a time; admins only.
    async fn list(&self, actor: &Actor, filter: UserFilter) -> Result<UserPage, UsersError> {
        if !actor.is_admin() {
            return Err(UsersError::Forbidden);
        }
        let limit = filter.limit.get();
        let items: Vec<User> = store::list(self.db.reader()?, filter.after, limit)
            .await?
            .into_iter()
            .map(store::UserRow::into_user)
            .collect();
        let next_cursor = (items.len() == limit as usize)
            .then(|| items.last().map(|u| u.id.to_string()))
            .flatten();
        Ok(UserPage { items, next_cursor })
    }

    /// Number of accounts.
    async fn count(&self) -> Result<i64, UsersError> {
        store::count(self.db.reader()?).await
    }

    /// Changes a user's email and/or name (themselves, or an admin). An email change emits
    /// `UserEmailChanged`, a name change `UserRenamed`, in the same transaction.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %id))]
    async fn update(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ProfileChange,
    ) -> Result<User, UsersError> {
        if !actor.may_access(id) {
            return Err(UsersError::Forbidden);
        }
        let ProfileChange {
            email,
            full_name,
            zone,
        } = change;

        let mut tx = self.db.write(trace).await?;
        let current = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        let now = self.db.clock().now();
        if let Some(email) = email.filter(|e| e.as_str() != current.email) {
            let email_version = store::update_email(tx.conn(), id, email.as_str(), now).await?;
            tx.emit(&UserEmailChanged {
                user_id: id,
                old_email: current.email.clone(),
                new_email: email.as_str().to_owned(),
                email_version,
            })
            .await?;
        }
        if let Some(name) = full_name.filter(|n| n.as_str() != current.full_name) {
            store::update_name(tx.conn(), id, name.as_str(), now).await?;
            tx.emit(&UserRenamed {
                user_id: id,
                full_name: name.as_str().to_owned(),
            })
            .await?;
        }
        // A preference of the user's own: no other module keeps a copy, so no event.
        if let Some(zone) = zone.filter(|z| z.name() != current.time_zone) {
            store::update_time_zone(tx.conn(), id, zone.name(), now).await?;
        }
        let updated = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        tx.commit().await?;
        Ok(updated.into_user())
    }

    /// Gives a user another role (admins). The last active admin keeps the role, so that the box
    /// office always has one.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %id))]
    async fn set_role(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        role: Role,
    ) -> Result<User, UsersError> {
        if !actor.is_admin() {
            return Err(UsersError::Forbidden);
        }
        let mut tx = self.db.write(trace).await?;
        let current = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        let old = Role::parse(&current.role).unwrap_or(Role::Customer);
        if old != role {
            if old == Role::Admin
                && current.active
                && store::count_active_admins(tx.conn()).await? <= 1
            {
                return Err(UsersError::LastAdmin);
            }
            store::update_role(tx.conn(), id, role, self.db.clock().now()).await?;
            tx.emit(&UserRoleChanged {
                user_id: id,
                old_role: old,
                role,
            })
            .await?;
            tracing::info!(user_id = %id, %role, "role changed");
        }
        let updated = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        tx.commit().await?;
        Ok(updated.into_user())
    }

    /// Sets a new password (the `users create-admin` command on an existing account).
    async fn reset_password(&self, id: Uuid, password: Password) -> Result<(), UsersError> {
        let place = self.place().await?;
        let hash = password::hash(place, password).await?;
        let mut tx = self.db.write(Trace::new_root()).await?;
        store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        store::set_password(tx.conn(), id, &hash, self.db.clock().now()).await?;
        store::delete_sessions_of(tx.conn(), id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deactivates an account (itself, or an admin): its sessions end, it can no longer log in or
    /// book. The last active admin cannot be deactivated.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %id))]
    async fn deactivate(&self, trace: Trace, actor: &Actor, id: Uuid) -> Result<User, UsersError> {
        if !actor.may_access(id) {
            return Err(UsersError::Forbidden);
        }
        let mut tx = self.db.write(trace).await?;
        let current = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        if current.active {
            if current.role == Role::Admin.as_str()
                && store::count_active_admins(tx.conn()).await? <= 1
            {
                return Err(UsersError::LastAdmin);
            }
            let now = self.db.clock().now();
            store::deactivate(tx.conn(), id, now).await?;
            store::delete_sessions_of(tx.conn(), id).await?;
            tx.emit(&UserDeactivated {
                user_id: id,
                deactivated_at: now,
            })
            .await?;
        }
        let updated = store::find_by_id(tx.conn(), id)
            .await?
            .ok_or(UsersError::NotFound)?;
        tx.commit().await?;
        Ok(updated.into_user())
    }

    /// Looks a user up by email (for the `users create-admin` command).
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, UsersError> {
        Ok(store::find_by_email(self.db.reader()?, email.trim())
            .await?
            .map(store::UserRow::into_user))
    }
}

#[async_trait]
impl UserDirectory for Users {
    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError> {
        let pool = self
            .db
            .reader()
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        store::find_by_id(pool, id)
            .await
            .map(|row| row.map(store::UserRow::into_user))
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))
    }
}
