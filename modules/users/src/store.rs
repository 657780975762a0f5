//! The users module's SQL: the only code that names its tables.

use kernel::Timestamp;
use sqlx::SqliteExecutor;
use users_api::{Role, User, UsersError};
use uuid::Uuid;

/// A driver error as the module's error.
pub(crate) fn storage(e: sqlx::Error) -> UsersError {
    UsersError::Storage(kernel::Error::db(users_api::STREAM)(e))
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) full_name: String,
    pub(crate) password_hash: String,
    pub(crate) role: String,
    pub(crate) active: bool,
    pub(crate) email_version: i64,
    pub(crate) time_zone: String,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

impl UserRow {
    pub(crate) fn into_user(self) -> User {
        User {
            id: self.id,
            email: self.email,
            full_name: self.full_name,
            role: Role::parse(&self.role).unwrap_or(Role::Customer),
            active: self.active,
            email_version: self.email_version,
            time_zone: self.time_zone,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const USER_COLUMNS: &str = "SELECT id, email, full_name, password_hash, role, active, email_version, time_zone, created_at, \
     updated_at FROM users";

pub(crate) async fn insert_user(
    exec: impl SqliteExecutor<'_>,
    user: &User,
    password_hash: &str,
) -> Result<(), UsersError> {
    sqlx::query(
        "INSERT INTO users (id, email, full_name, password_hash, role, active, email_version, time_zone, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.full_name)
    .bind(password_hash)
    .bind(user.role.as_str())
    .bind(user.active)
    .bind(user.email_version)
    .bind(&user.time_zone)
    .bind(user.created_at)
    .bind(user.updated_at)
    .execute(exec)
    .await
    .map_err(map_unique)?;
    Ok(())
}

pub(crate) async fn find_by_id(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<UserRow>, UsersError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE id = ?")))
        .bind(id)
        .fetch_optional(exec)
        .await
        .map_err(storage)
}

pub(crate) async fn find_by_email(
    exec: impl SqliteExecutor<'_>,
    email: &str,
) -> Result<Option<UserRow>, UsersError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_COLUMNS} WHERE email = ? COLLATE NOCASE"
    )))
    .bind(email)
    .fetch_optional(exec)
    .await
    .map_err(storage)
}

pub(crate) async fn list(
    exec: impl SqliteExecutor<'_>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<UserRow>, UsersError> {
    let rows = match after {
        Some(after) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{USER_COLUMNS} WHERE id > ? ORDER BY id LIMIT ?"
            )))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(exec)
            .await
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{USER_COLUMNS} ORDER BY id LIMIT ?"
            )))
            .bind(i64::from(limit))
            .fetch_all(exec)
            .await
        }
    };
    rows.map_err(storage)
}

pub(crate) async fn count(exec: impl SqliteExecutor<'_>) -> Result<i64, UsersError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(exec)
        .await
        .map_err(storage)
}

pub(crate) async fn count_active_admins(exec: impl SqliteExecutor<'_>) -> Result<i64, UsersError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
        .fetch_one(exec)
        .await
        .map_err(storage)
}

pub(crate) async fn update_email(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    email: &str,
    now: Timestamp,
) -> Result<i64, UsersError> {
    sqlx::query_scalar(
        "UPDATE users SET email = ?, email_version = email_version + 1, updated_at = ? WHERE id = ? RETURNING email_version",
    )
    .bind(email)
    .bind(now)
    .bind(id)
    .fetch_one(exec)
    .await
    .map_err(map_unique)
}

pub(crate) async fn update_name(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    full_name: &str,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("UPDATE users SET full_name = ?, updated_at = ? WHERE id = ?")
        .bind(full_name)
        .bind(now)
        .bind(id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn update_time_zone(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    time_zone: &str,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("UPDATE users SET time_zone = ?, updated_at = ? WHERE id = ?")
        .bind(time_zone)
        .bind(now)
        .bind(id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn update_role(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    role: Role,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(now)
        .bind(id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn set_password(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn deactivate(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("UPDATE users SET active = 0, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn insert_session(
    exec: impl SqliteExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// The active user owning a live session.
pub(crate) async fn user_by_session(
    exec: impl SqliteExecutor<'_>,
    token_hash: &[u8],
    now: Timestamp,
) -> Result<Option<UserRow>, UsersError> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.full_name, u.password_hash, u.role, u.active, u.email_version, u.time_zone, u.created_at, \
         u.updated_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(exec)
    .await
    .map_err(storage)
}

pub(crate) async fn delete_session(
    exec: impl SqliteExecutor<'_>,
    token_hash: &[u8],
) -> Result<(), UsersError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn delete_sessions_of(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> Result<(), UsersError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn delete_expired_sessions(
    exec: impl SqliteExecutor<'_>,
    now: Timestamp,
) -> Result<(), UsersError> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

fn map_unique(e: sqlx::Error) -> UsersError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => UsersError::EmailTaken,
        _ => storage(e),
    }
}
