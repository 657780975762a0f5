//! Demo data for a new data folder: an admin and a customer whose passwords are printed once,
//! the customer's wallet funded, and a season of shows on sale — so a person who just ran
//! `cargo run --release` can log in and book.

use std::time::Duration;

use anyhow::anyhow;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bookings_api::{NewShow, ScheduleShow};
use kernel::{Timestamp, Trace};
use payments_api::{DepositRequest, MakeDeposit};
use users_api::{Actor, NewUser, Registration};

use crate::modules::Modules;

/// The demo admin's login.
pub(crate) const DEMO_ADMIN_EMAIL: &str = "admin@boxoffice.local";
/// The demo customer's login.
pub(crate) const DEMO_CUSTOMER_EMAIL: &str = "ada@boxoffice.local";

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// (title, venue, days from now, hour UTC, capacity, price in cents)
const SEASON: &[(&str, &str, u64, u64, i64, i64)] = &[
    ("Hamlet", "The Globe", 3, 19, 120, 4_500),
    ("The Magic Flute", "Royal Opera House", 6, 18, 300, 8_900),
    ("Late-Night Jazz Trio", "Blue Room", 8, 21, 40, 2_200),
    ("Swan Lake", "Coliseum", 13, 19, 250, 6_500),
    ("Stand-up Showcase", "Comedy Cellar", 17, 20, 60, 1_800),
    ("Symphony No. 9", "Festival Hall", 24, 19, 400, 5_500),
];

/// Creates the demo data and prints the logins.
pub(crate) async fn seed(modules: &Modules) -> anyhow::Result<()> {
    let admin_password = random_password()?;
    let admin = Registration::try_from(NewUser {
        email: DEMO_ADMIN_EMAIL.into(),
        full_name: "Box Office Admin".into(),
        password: admin_password.clone(),
        ..NewUser::default()
    })
    .map_err(|e| anyhow!("the demo admin: {e}"))?;
    let admin = modules
        .users()
        .create_admin(Trace::new_root(), admin)
        .await?;
    let customer_password = random_password()?;
    let customer = Registration::try_from(NewUser {
        email: DEMO_CUSTOMER_EMAIL.into(),
        full_name: "Ada Lovelace".into(),
        password: customer_password.clone(),
        ..NewUser::default()
    })
    .map_err(|e| anyhow!("the demo customer: {e}"))?;
    let customer = modules
        .users()
        .register(Trace::new_root(), customer)
        .await?;
    let deposit = MakeDeposit::try_from(DepositRequest {
        amount_cents: Some(25_000),
    })
    .map_err(|e| anyhow!("the demo deposit: {e}"))?;
    modules
        .payments()
        .deposit(Trace::new_root(), customer.id, deposit)
        .await?;

    let now = modules.now();
    let today = now.as_micros() / 86_400_000_000 * 86_400_000_000;
    let actor = Actor::of(&admin);
    for (title, venue, days, hour, capacity, price) in SEASON {
        let starts_at =
            Timestamp::from_micros(today).plus(Duration::from_secs(days * 86_400 + hour * 3_600));
        let show = ScheduleShow::try_from((
            NewShow {
                title: (*title).into(),
                venue: (*venue).into(),
                starts_at: starts_at.to_string(),
                capacity: Some(*capacity),
                price_cents: Some(*price),
                currency: modules.payments().currency().await?,
                ..NewShow::default()
            },
            now,
        ))
        .map_err(|e| anyhow!("a demo show: {e}"))?;
        modules
            .bookings()
            .create_show(Trace::new_root(), &actor, show)
            .await?;
    }
    println!();
    println!(
        "  New data folder: demo data created ({} shows on sale).",
        SEASON.len()
    );
    println!("  Admin login:     {DEMO_ADMIN_EMAIL}  /  {admin_password}");
    println!("  Customer login:  {DEMO_CUSTOMER_EMAIL}  /  {customer_password}   (wallet: 250.00)");
    println!("  (shown only this once; `boxoffice users create-admin` makes or resets an admin)");
    println!();
    Ok(())
}
