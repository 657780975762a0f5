//! Demo data for a new data folder: an admin, a door attendant and a customer whose passwords are
//! printed once, the customer's wallet funded, venues in their own time zones (seated ones with
//! sections, rows and a few seats not for sale), and a season of shows on sale at them — so a
//! person who just ran `cargo run --release` can log in, pick seats and check a ticket in.

use std::time::Duration;

use anyhow::{Context, anyhow};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bookings_api::{NewRow, NewSection, NewShow, NewVenue, OpenVenue, RowSeats, ScheduleShow};
use kernel::{Timestamp, Trace, Zone};
use payments_api::{DepositRequest, MakeDeposit};
use users_api::{Actor, NewUser, Registration, Role};

use crate::modules::Modules;

/// The demo admin's login.
pub(crate) const DEMO_ADMIN_EMAIL: &str = "admin@boxoffice.local";
/// The demo door attendant's login.
pub(crate) const DEMO_DOOR_EMAIL: &str = "door@boxoffice.local";
/// The demo customer's login.
pub(crate) const DEMO_CUSTOMER_EMAIL: &str = "ada@boxoffice.local";

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A section of a demo plan: its name, price in cents, row labels, seats per row, and the seats
/// of the first row not for sale.
type Section = (
    &'static str,
    i64,
    &'static str,
    i64,
    &'static [&'static str],
);

/// (name, time zone, general-admission capacity, or the plan's sections)
const VENUES: &[(&str, &str, Option<i64>, &[Section])] = &[
    ("The Globe", "Europe/London", Some(120), &[]),
    (
        "Royal Opera House",
        "Europe/London",
        None,
        &[
            ("Stalls", 8_900, "ABCDEFGHJK", 20, &["10", "11"]),
            ("Grand Tier", 6_500, "ABCD", 16, &[]),
            ("Balcony", 3_500, "ABCDE", 24, &[]),
        ],
    ),
    ("Blue Room", "America/New_York", Some(40), &[]),
    (
        "Coliseum",
        "Europe/London",
        None,
        &[
            ("Stalls", 6_500, "ABCDEFGHJKLM", 24, &[]),
            ("Dress Circle", 4_800, "ABCDEF", 20, &["1", "20"]),
        ],
    ),
    ("Comedy Cellar", "America/New_York", Some(60), &[]),
    (
        "Philharmonie",
        "Europe/Berlin",
        None,
        &[
            ("Block A", 7_500, "ABCDEFGH", 18, &[]),
            ("Block B", 5_500, "ABCDEFGHJK", 22, &[]),
            ("Terrace", 2_900, "ABC", 30, &[]),
        ],
    ),
];

/// (title, venue, days from now, local start time, price in cents for general admission)
const SEASON: &[(&str, &str, u64, &str, i64)] = &[
    ("Hamlet", "The Globe", 3, "19:30", 4_500),
    ("The Magic Flute", "Royal Opera House", 6, "19:00", 0),
    ("Late-Night Jazz Trio", "Blue Room", 8, "21:30", 2_200),
    ("Swan Lake", "Coliseum", 13, "19:30", 0),
    ("Stand-up Showcase", "Comedy Cellar", 17, "20:00", 1_800),
    ("Symphony No. 9", "Philharmonie", 24, "20:00", 0),
];

fn plan(sections: &[Section]) -> Vec<NewSection> {
    sections
        .iter()
        .map(|(name, price, rows, seats, unavailable)| NewSection {
            name: (*name).into(),
            price_cents: Some(*price),
            rows: rows
                .chars()
                .enumerate()
                .map(|(i, label)| NewRow {
                    label: label.to_string(),
                    seats: Some(RowSeats::Count(*seats)),
                    unavailable: if i == 0 {
                        unavailable.iter().map(|s| (*s).to_owned()).collect()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        })
        .collect()
}

async fn register(
    modules: &Modules,
    email: &str,
    name: &str,
    password: &str,
    admin: bool,
) -> anyhow::Result<users_api::User> {
    let input = Registration::try_from(NewUser {
        email: email.into(),
        full_name: name.into(),
        password: password.into(),
        time_zone: Some("Europe/London".into()),
    })
    .map_err(|e| anyhow!("the demo user {email}: {e}"))?;
    Ok(if admin {
        modules
            .users()
            .create_admin(Trace::new_root(), input)
            .await?
    } else {
        modules.users().register(Trace::new_root(), input).await?
    })
}

/// Creates the demo data and prints the logins.
pub(crate) async fn seed(modules: &Modules) -> anyhow::Result<()> {
    let admin_password = random_password()?;
    let admin = register(
        modules,
        DEMO_ADMIN_EMAIL,
        "Box Office Admin",
        &admin_password,
        true,
    )
    .await?;
    let actor = Actor::of(&admin);
    let door_password = random_password()?;
    let door = register(
        modules,
        DEMO_DOOR_EMAIL,
        "Door Staff",
        &door_password,
        false,
    )
    .await?;
    modules
        .users()
        .set_role(Trace::new_root(), &actor, door.id, Role::Door)
        .await?;
    let customer_password = random_password()?;
    let customer = register(
        modules,
        DEMO_CUSTOMER_EMAIL,
        "Ada Lovelace",
        &customer_password,
        false,
    )
    .await?;
    let deposit = MakeDeposit::try_from(DepositRequest {
        amount_cents: Some(25_000),
    })
    .map_err(|e| anyhow!("the demo deposit: {e}"))?;
    modules
        .payments()
        .deposit(Trace::new_root(), customer.id, deposit)
        .await?;

    let mut venues = Vec::new();
    for (name, zone, capacity, sections) in VENUES {
        let input = OpenVenue::try_from(NewVenue {
            name: (*name).into(),
            time_zone: (*zone).into(),
            capacity: *capacity,
            sections: capacity.is_none().then(|| plan(sections)),
        })
        .map_err(|e| anyhow!("the demo venue {name}: {e}"))?;
        let venue = modules
            .bookings()
            .open_venue(Trace::new_root(), &actor, input)
            .await?;
        venues.push(venue);
    }

    let now = modules.now();
    let currency = modules.payments().currency().await?;
    for (title, venue, days, at, price) in SEASON {
        let venue = venues
            .iter()
            .find(|v| v.name == *venue)
            .context("a demo show's venue")?;
        let zone = Zone::parse(&venue.time_zone).map_err(|e| anyhow!("{e}"))?;
        let day = now.plus(Duration::from_secs(days * 86_400));
        let local = format!("{}T{at}", zone.format(day, "%Y-%m-%d"));
        let starts_at: Timestamp = zone
            .from_local(&local)
            .map_err(|e| anyhow!("{local} {e}"))?;
        let show = ScheduleShow::try_from((
            NewShow {
                title: (*title).into(),
                venue_id: Some(venue.id.to_string()),
                starts_at: starts_at.to_string(),
                price_cents: (*price > 0).then_some(*price),
                currency: currency.clone(),
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
        "  New data folder: demo data created ({} venues, {} shows on sale).",
        VENUES.len(),
        SEASON.len()
    );
    println!("  Admin login:     {DEMO_ADMIN_EMAIL}  /  {admin_password}");
    println!("  Door login:      {DEMO_DOOR_EMAIL}  /  {door_password}   (checks tickets in)");
    println!("  Customer login:  {DEMO_CUSTOMER_EMAIL}  /  {customer_password}   (wallet: 250.00)");
    println!("  (shown only this once; `boxoffice users create-admin` makes or resets an admin)");
    println!();
    Ok(())
}
