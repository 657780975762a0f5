//! The users module: accounts, roles, passwords and login sessions, in its own `users.db`.
//!
//! [`Users`] is the whole public surface the application uses; other modules see users only
//! through `users-api` ([`users_api::UserDirectory`] and the `users` event stream). Passwords
//! are hashed with argon2id and never stored, logged or returned; session tokens are random
//! and only their SHA-256 is stored.
//!
//! It deliberately knows nothing of HTTP, cookies or CSRF: the application carries the token.

mod password;
mod service;
mod session;
mod store;
mod throttle;

pub use service::{Users, UsersConfig};
pub use throttle::LoginThrottle;
