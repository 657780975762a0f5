//! The query other modules use to learn about a user, instead of reading the users' tables.

use async_trait::async_trait;
use uuid::Uuid;

use crate::User;

/// Why the directory could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The users module is down or overloaded; the caller may retry or degrade.
    #[error("the user directory is unavailable: {0}")]
    Unavailable(String),
}

/// Looks users up by id.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The user with this id, active or not; `None` when there is no such user.
    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError>;
}
