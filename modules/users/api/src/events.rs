//! Integration events published by the users module on the `users` stream.

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Role;

/// A new account was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    /// The new user.
    pub user_id: Uuid,
    /// Their email address.
    pub email: String,
    /// Their name.
    pub full_name: String,
    /// Their role.
    pub role: Role,
    /// When.
    pub registered_at: Timestamp,
}

kernel::integration_event!(UserRegistered, user_id);

/// A user's email address changed; copies elsewhere should follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEmailChanged {
    /// The user.
    pub user_id: Uuid,
    /// The address before.
    pub old_email: String,
    /// The address now.
    pub new_email: String,
    /// The user's `email_version` after the change: a copy with a lower version is stale.
    pub email_version: i64,
}

kernel::integration_event!(UserEmailChanged, user_id);

/// A user's full name changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRenamed {
    /// The user.
    pub user_id: Uuid,
    /// The name now.
    pub full_name: String,
}

kernel::integration_event!(UserRenamed, user_id);

/// A user can no longer log in or book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeactivated {
    /// The user.
    pub user_id: Uuid,
    /// When.
    pub deactivated_at: Timestamp,
}

kernel::integration_event!(UserDeactivated, user_id);

/// A user's role changed (an admin made them door staff, an admin, or a customer again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRoleChanged {
    /// The user.
    pub user_id: Uuid,
    /// The role before.
    pub old_role: Role,
    /// The role now.
    pub role: Role,
}

kernel::integration_event!(UserRoleChanged, user_id);
