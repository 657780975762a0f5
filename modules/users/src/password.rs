//! Password hashing with argon2id (OWASP's recommended parameters, the crate's defaults), off the
//! async runtime's threads.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use crate::{UsersError, domain::Password};

/// A PHC string (`$argon2id$v=19$...`) for `password`, with a fresh random salt.
pub(crate) async fn hash(password: Password) -> Result<String, UsersError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| UsersError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| UsersError::Hashing(e.to_string()))?
}

/// True when `password` matches the stored `phc` hash.
pub(crate) async fn verify(password: String, phc: String) -> Result<bool, UsersError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| UsersError::Hashing(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| UsersError::Hashing(e.to_string()))?
}

/// A valid hash of a password nobody knows, verified against when the email is unknown so that
/// a failed login takes as long whether or not the account exists.
pub(crate) const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDA";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let h = hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify("correct horse".into(), h.clone()).await.unwrap());
        assert!(!verify("wrong horse!".into(), h).await.unwrap());
    }

    #[tokio::test]
    async fn the_decoy_hash_parses_and_matches_nothing_typed() {
        assert!(
            !verify("password123".into(), DECOY_HASH.into())
                .await
                .unwrap()
        );
    }
}
