//! Demo data for a new data folder: an admin whose password is printed once, so a person who just
//! ran `cargo run --release` can log in.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use kernel::Trace;
use users_api::NewUser;

use crate::modules::Modules;

/// The demo admin's login.
pub(crate) const DEMO_ADMIN_EMAIL: &str = "admin@boxoffice.local";

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the demo data and prints the logins.
pub(crate) async fn seed(modules: &Modules) -> anyhow::Result<()> {
    let password = random_password()?;
    modules
        .users()
        .create_admin(
            Trace::new_root(),
            NewUser {
                email: DEMO_ADMIN_EMAIL.into(),
                full_name: "Box Office Admin".into(),
                password: password.clone(),
            },
        )
        .await?;
    println!();
    println!("  New data folder: demo data created.");
    println!("  Admin login:  {DEMO_ADMIN_EMAIL}  /  {password}");
    println!("  (shown only this once; `boxoffice users create-admin` makes or resets an admin)");
    println!();
    Ok(())
}
