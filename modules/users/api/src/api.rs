//! The users module's API as a trait: what the application and other modules may ask of it,
//! answered by the module in this process or by a client of the process that hosts it.

use async_trait::async_trait;
use kernel::Trace;
use uuid::Uuid;

use crate::{
    Actor, LogIn, Password, ProfileChange, Registration, Role, Session, User, UserDirectory,
    UserFilter, UserPage, UsersError,
};

/// Accounts, sessions and profiles. Every command takes the trace it runs under; every query
/// that is not public takes the [`Actor`] it is checked against.
#[async_trait]
pub trait UsersApi: UserDirectory {
    /// Registers a customer.
    async fn register(&self, trace: Trace, input: Registration) -> Result<User, UsersError>;

    /// Creates an admin (`boxoffice users create-admin`, demo data, tests).
    async fn create_admin(&self, trace: Trace, input: Registration) -> Result<User, UsersError>;

    /// Checks credentials and opens a session.
    async fn log_in(&self, attempt: LogIn) -> Result<Session, UsersError>;

    /// Ends the session with this token (unknown tokens are fine).
    async fn log_out(&self, token: &str) -> Result<(), UsersError>;

    /// The active user whose unexpired session has this token.
    async fn authenticate(&self, token: &str) -> Result<Option<User>, UsersError>;

    /// One user, as `actor` may see them.
    async fn get(&self, actor: &Actor, id: Uuid) -> Result<User, UsersError>;

    /// Users, oldest first (admins only).
    async fn list(&self, actor: &Actor, filter: UserFilter) -> Result<UserPage, UsersError>;

    /// How many accounts exist.
    async fn count(&self) -> Result<i64, UsersError>;

    /// Changes a profile (the user themselves or an admin).
    async fn update(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ProfileChange,
    ) -> Result<User, UsersError>;

    /// Sets a new password and ends the user's sessions (an operator's command).
    async fn reset_password(&self, id: Uuid, password: Password) -> Result<(), UsersError>;

    /// Deactivates an account (admins only; never the last active admin).
    async fn deactivate(&self, trace: Trace, actor: &Actor, id: Uuid) -> Result<User, UsersError>;

    /// Gives a user another role (admins only; the last active admin stays one).
    async fn set_role(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        role: Role,
    ) -> Result<User, UsersError>;

    /// The user with this email address, in any letter case.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, UsersError>;
}
