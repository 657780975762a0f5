//! Users as other modules see them.

use std::fmt;

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books seats and pays for them.
    Customer,
    /// Runs the box office: shows, users, the dashboard and the event log.
    Admin,
}

impl Role {
    /// The role's name as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "customer" => Some(Role::Customer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Login and contact address; unique regardless of case.
    pub email: String,
    /// The name shown on bookings.
    pub full_name: String,
    /// What the user may do.
    pub role: Role,
    /// False once deactivated: cannot log in, cannot book.
    pub active: bool,
    /// Incremented on each email change; copies of the email compare it to stay fresh.
    pub email_version: i64,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Who is asking: the identity every permission check is made against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: Uuid,
    /// Their role.
    pub role: Role,
}

impl Actor {
    /// The actor for `user`.
    pub fn of(user: &User) -> Actor {
        Actor {
            user_id: user.id,
            role: user.role,
        }
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// True when the actor may act on `owner`'s data: the owner or an admin.
    pub fn may_access(&self, owner: Uuid) -> bool {
        self.is_admin() || self.user_id == owner
    }
}

/// A sign-up, as received; validated by the users module (absent fields count as empty, so every
/// missing field is reported at once).
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewUser {
    /// Email address.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// Password in clear; hashed at once and never stored or logged.
    pub password: String,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("full_name", &self.full_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A profile change; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPatch {
    /// New email address.
    pub email: Option<String>,
    /// New full name.
    pub full_name: Option<String>,
}
