//! Users as other modules see them, and the typed inputs and outputs of the module's commands.

use std::fmt;

use kernel::{FieldErrors, PageSize, Timestamp, Zone};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Email, FullName, Password};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books seats and pays for them.
    Customer,
    /// Checks tickets in at the door (and books like a customer), nothing else.
    Door,
    /// Runs the box office: shows, users, the dashboard and the event log.
    Admin,
}

impl Role {
    /// The role's name as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Door => "door",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "customer" => Some(Role::Customer),
            "door" => Some(Role::Door),
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
    /// The IANA time zone the user reads their own times in.
    pub time_zone: String,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Who is asking: the identity every permission check is made against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

    /// True for those who may check tickets in at a door: door staff and admins.
    pub fn works_the_door(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Door)
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
    /// Email address (stored in NFC with an ASCII domain; no invisible characters, no part
    /// mixing alphabets).
    #[cfg_attr(feature = "openapi", schema(required = true, format = Email, max_length = 254))]
    pub email: String,
    /// Full name, 1 to 100 characters, no control or invisible characters.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 100)
    )]
    pub full_name: String,
    /// Password in clear, 8 to 128 characters, no control characters, not easy to guess
    /// (zxcvbn score 2 or more); hashed at once and never stored or logged.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 8, max_length = 128)
    )]
    pub password: String,
    /// The IANA time zone the user reads their own times in (UTC unless given).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub time_zone: Option<String>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("full_name", &self.full_name)
            .field("password", &"<redacted>")
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

/// A profile change; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPatch {
    /// New email address.
    #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 254))]
    pub email: Option<String>,
    /// New full name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub full_name: Option<String>,
    /// New IANA time zone (`Europe/Paris`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub time_zone: Option<String>,
}

/// A validated sign-up: what `register` and `create_admin` take.
#[derive(Debug, Serialize, Deserialize)]
pub struct Registration {
    /// The login and contact address.
    pub email: Email,
    /// The name shown on bookings.
    pub full_name: FullName,
    /// The password, hashed by the module and then forgotten.
    pub password: Password,
    /// The zone the user reads their own times in.
    pub zone: Zone,
}

impl TryFrom<NewUser> for Registration {
    type Error = FieldErrors;

    fn try_from(input: NewUser) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let full_name = errors.check("full_name", FullName::parse(&input.full_name));
        let password = errors.check("password", Password::parse(&input.password));
        let zone = match input.time_zone.as_deref() {
            None => Some(Zone::utc()),
            Some(z) => errors.check("time_zone", Zone::parse(z)),
        };
        match (email, full_name, password, zone) {
            (Some(email), Some(full_name), Some(password), Some(zone)) => Ok(Registration {
                email,
                full_name,
                password,
                zone,
            }),
            _ => Err(errors),
        }
    }
}

/// A validated profile change: absent fields stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProfileChange {
    /// The new address.
    pub email: Option<Email>,
    /// The new name.
    pub full_name: Option<FullName>,
    /// The new time zone.
    pub zone: Option<Zone>,
}

impl TryFrom<UserPatch> for ProfileChange {
    type Error = FieldErrors;

    fn try_from(patch: UserPatch) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = patch
            .email
            .as_deref()
            .and_then(|e| errors.check("email", Email::parse(e)));
        let full_name = patch
            .full_name
            .as_deref()
            .and_then(|n| errors.check("full_name", FullName::parse(n)));
        let zone = patch
            .time_zone
            .as_deref()
            .and_then(|z| errors.check("time_zone", Zone::parse(z)));
        errors.into_result()?;
        Ok(ProfileChange {
            email,
            full_name,
            zone,
        })
    }
}

/// Login credentials, as received.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Credentials {
    /// The account's email address.
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub email: String,
    /// Its password.
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A login attempt: both fields given. They are checked against the accounts, not parsed: a
/// malformed address is simply one no account has.
#[derive(Clone, Serialize, Deserialize)]
pub struct LogIn {
    /// The email address, trimmed.
    pub email: String,
    /// The password, exactly as typed.
    pub password: String,
    /// Where the attempt comes from, when the edge knows (failures are counted per address).
    #[serde(default)]
    pub client: Option<std::net::IpAddr>,
}

impl LogIn {
    /// The same attempt, made from `client`.
    pub fn from_client(self, client: Option<std::net::IpAddr>) -> LogIn {
        LogIn { client, ..self }
    }
}

impl fmt::Debug for LogIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogIn")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl TryFrom<Credentials> for LogIn {
    type Error = FieldErrors;

    fn try_from(c: Credentials) -> Result<Self, FieldErrors> {
        // An address is looked up in the spelling it was stored in (NFC, ASCII domain); one that
        // is not an address is simply one no account has.
        let normalized = Email::parse(&c.email).map(|e| e.as_str().to_owned());
        let email = normalized.as_deref().unwrap_or(c.email.trim());
        // Longer than any account's: not a field error but a login that fails like a wrong
        // password (the module refuses it without hashing anything).
        if email.chars().count() > Email::MAX_LEN || c.password.chars().count() > Password::MAX_LEN
        {
            return Ok(LogIn {
                email: email.to_owned(),
                password: c.password,
                client: None,
            });
        }
        // Only a missing address is a field error; blanks are one more address no account has.
        let mut errors = FieldErrors::new();
        if c.email.is_empty() {
            errors.add("email", "is required");
        }
        if c.password.is_empty() {
            errors.add("password", "is required");
        }
        errors.into_result()?;
        Ok(LogIn {
            email: email.to_owned(),
            password: c.password,
            client: None,
        })
    }
}

/// A successful login: the token goes into the cookie (and, between processes, back to the
/// process that answers the request), nowhere else.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    /// The secret the client presents; only its hash is stored.
    pub token: String,
    /// Who logged in.
    pub user: User,
    /// When the session ends.
    pub expires_at: Timestamp,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("user", &self.user.id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Which users to list: oldest first, after the previous page's last user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// How many.
    pub limit: PageSize,
    /// The last user of the previous page.
    pub after: Option<Uuid>,
}

impl UserFilter {
    /// The filter of a `limit` and a `cursor` as sent, or the field errors.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<UserFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let limit = errors.check("limit", PageSize::or_default(limit));
        let after = cursor.filter(|c| !c.is_empty()).and_then(|c| {
            errors.check(
                "cursor",
                Uuid::parse_str(c).map_err(|_| "is not a cursor returned by this list".into()),
            )
        });
        errors.into_result()?;
        Ok(UserFilter {
            limit: limit.unwrap_or_default(),
            after,
        })
    }
}

/// One page of users, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserPage {
    /// The users.
    pub items: Vec<User>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_up_reports_every_bad_field_at_once() {
        let errors = Registration::try_from(NewUser::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "full_name", "password"]);
    }

    #[test]
    fn a_profile_change_validates_only_what_it_names() {
        let change = ProfileChange::try_from(UserPatch {
            email: None,
            full_name: Some("  Ada   Lovelace ".into()),
            ..UserPatch::default()
        })
        .unwrap();
        assert!(change.email.is_none());
        assert_eq!(change.full_name.unwrap().as_str(), "Ada Lovelace");
        assert!(
            ProfileChange::try_from(UserPatch {
                email: Some("nope".into()),
                full_name: None,
                ..UserPatch::default()
            })
            .is_err()
        );
    }
}
