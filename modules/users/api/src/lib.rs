//! The users module's public face: what other modules and the application may know about users.
//!
//! Plain data ([`User`], [`Role`], [`Actor`]), the [`UserDirectory`] query trait other modules
//! call to check a user, the command inputs ([`NewUser`], [`UserPatch`]) and the integration
//! events the module publishes. Nothing here touches storage; nothing here knows HTTP.

mod directory;
mod events;
mod model;

pub use directory::{DirectoryError, UserDirectory};
pub use events::{UserDeactivated, UserEmailChanged, UserRegistered, UserRenamed};
pub use model::{Actor, NewUser, Role, User, UserPatch};

/// The name of the module's event stream and database.
pub const STREAM: &str = "users";
