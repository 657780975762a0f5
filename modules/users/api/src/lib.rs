//! The users module's public face: what other modules and the application may know about users.
//!
//! Plain data ([`User`], [`Role`], [`Actor`]), the [`UsersApi`] the application calls and the
//! [`UserDirectory`] query trait other modules call to check a user, the module's typed inputs ([`Registration`], [`ProfileChange`], built
//! from [`NewUser`] and [`UserPatch`] with `TryFrom`, of validated [`Email`], [`FullName`] and
//! [`Password`] values), its outputs ([`Session`], [`UserPage`]), its error, and the integration
//! events it publishes. Nothing here touches storage; nothing here knows HTTP.

mod api;
mod directory;
mod error;
mod events;
mod model;
mod values;

pub use api::UsersApi;
pub use directory::{DirectoryError, UserDirectory};
pub use error::UsersError;
pub use events::{UserDeactivated, UserEmailChanged, UserRegistered, UserRenamed, UserRoleChanged};
pub use model::{
    Actor, Credentials, LogIn, NewUser, ProfileChange, Registration, Role, Session, User,
    UserFilter, UserPage, UserPatch,
};
pub use values::{Email, FullName, Password};

/// The name of the module's event stream and database.
pub const STREAM: &str = "users";
