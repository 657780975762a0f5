//! `boxoffice preload` (hidden; `boxoffice bench --preload N` runs it): a realistic history in a
//! data folder before the measured run. Bookings go through the module facades in this process
//! (no HTTP, which would only make it slower), so every one of them runs the real saga: outbox,
//! payment, confirmation or cancellation, the read model, the feed.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use bench::{HISTORY_PASSWORD, Preloaded};
use bookings_api::{BookingDraft, BookingsError, NewShow, PlaceBooking, ScheduleShow};
use kernel::Trace;
use payments_api::{CardDetails, DepositRequest, MakeDeposit, PaymentSource};
use tokio_util::sync::CancellationToken;
use users_api::{Actor, NewUser, Registration, User};

use crate::modules::Modules;

const CUSTOMERS: usize = 500;
const CONCURRENCY: usize = 64;
/// Seats per show; bookings take one or two.
const CAPACITY: i64 = 100_000;

/// Places `n` bookings through the modules and waits until every subscription handled them.
pub(crate) async fn run(
    modules: &Modules,
    admin: &User,
    n: u64,
    show_progress: bool,
) -> anyhow::Result<Preloaded> {
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let tasks = modules.start(&shutdown);
    let result = fill(modules, admin, n, show_progress).await;
    let drained = match &result {
        Ok(_) => wait_until_caught_up(modules).await,
        Err(_) => Ok(()),
    };
    shutdown.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let (customers, shows) = result?;
    drained?;
    Ok(Preloaded {
        bookings: n,
        customers,
        shows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn fill(
    modules: &Modules,
    admin: &User,
    n: u64,
    show_progress: bool,
) -> anyhow::Result<(usize, usize)> {
    let customers = CUSTOMERS
        .min(usize::try_from(n).unwrap_or(CUSTOMERS))
        .max(1);
    let mut actors = Vec::with_capacity(customers);
    for i in 0..customers {
        let registration = Registration::try_from(NewUser {
            // The first is bench::VETERAN_EMAIL.
            email: format!("history-{i}@boxoffice.local"),
            full_name: format!("History Customer {i}"),
            password: HISTORY_PASSWORD.into(),
            ..NewUser::default()
        })
        .map_err(|e| anyhow::anyhow!("a history customer: {e}"))?;
        let user = modules
            .users()
            .register(Trace::new_root(), registration)
            .await
            .context("registering a history customer")?;
        let deposit = MakeDeposit::try_from(DepositRequest {
            amount_cents: Some(100_000_000),
        })
        .map_err(|e| anyhow::anyhow!("a history deposit: {e}"))?;
        modules
            .payments()
            .deposit(Trace::new_root(), user.id, deposit)
            .await
            .context("funding a history wallet")?;
        actors.push(Actor::of(&user));
    }
    let shows_needed = usize::try_from(n * 2 / u64::try_from(CAPACITY).unwrap_or(1) + 1)?;
    let admin = Actor::of(admin);
    let mut shows = Vec::with_capacity(shows_needed);
    for i in 0..shows_needed {
        let now = modules.now();
        let input = NewShow {
            title: format!("Repertoire night {}", i + 1),
            venue: Some(["Grand Hall", "Studio", "Open Air Stage"][i % 3].into()),
            starts_at: now
                .plus(Duration::from_secs(60 * 86_400 + i as u64 * 3_600))
                .to_string(),
            capacity: Some(CAPACITY),
            price_cents: Some(1_000 + (i as i64 % 7) * 500),
            currency: modules.payments().currency().await?,
            ..NewShow::default()
        };
        let schedule = ScheduleShow::try_from((input, now))
            .map_err(|e| anyhow::anyhow!("a history show: {e}"))?;
        let show = modules
            .bookings()
            .create_show(Trace::new_root(), &admin, schedule)
            .await
            .context("creating a history show")?;
        shows.push(show.id);
    }

    let bar = indicatif::ProgressBar::new(n);
    if show_progress {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} preloading [{bar:30}] {pos}/{len} bookings ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let next = Arc::new(AtomicU64::new(0));
    let actors = Arc::new(actors);
    let shows = Arc::new(shows);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (modules, next, actors, shows, bar) = (
                modules.clone(),
                next.clone(),
                actors.clone(),
                shows.clone(),
                bar.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let actor = &actors[usize::try_from(i % actors.len() as u64)?];
                    let show = &shows[usize::try_from(i % shows.len() as u64)?];
                    let payment = match i % 10 {
                        0 => card(&modules, "4000000000000002").await?,
                        1..=4 => card(&modules, "4242424242424242").await?,
                        _ => PaymentSource::Wallet,
                    };
                    let booking = PlaceBooking::try_from(BookingDraft {
                        show_id: show.to_string(),
                        seats: Some(1 + i64::try_from(i % 2)?),
                        payment: Some(Ok(payment)),
                        idempotency_key: None,
                        ..BookingDraft::default()
                    })
                    .map_err(|e| anyhow::anyhow!("a history booking: {e}"))?;
                    // The placing line turns a booking away when the writer is slow for a
                    // second (a checkpoint, the disk): it is asked again, as a customer would.
                    loop {
                        match modules
                            .bookings()
                            .place(Trace::new_root(), actor, booking.clone())
                            .await
                        {
                            Err(BookingsError::Busy) => {
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            }
                            placed => {
                                placed.context("placing a history booking")?;
                                break;
                            }
                        }
                    }
                    bar.inc(1);
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    bar.finish_and_clear();
    Ok((customers, shows_needed))
}

async fn card(modules: &Modules, number: &str) -> anyhow::Result<PaymentSource> {
    let token = modules
        .payments()
        .tokenize_card(&CardDetails {
            number: number.into(),
            exp_month: Some(12),
            exp_year: Some(2030),
            cvc: "123".into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("tokenizing a test card: {e}"))?;
    Ok(PaymentSource::Card(token))
}

async fn wait_until_caught_up(modules: &Modules) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(3_600);
    let mut clean = 0;
    while Instant::now() < deadline {
        let statuses = crate::events::subscriptions(modules).await;
        if statuses.iter().all(|s| s.lag == 0) {
            clean += 1;
            if clean == 2 {
                return Ok(());
            }
        } else {
            clean = 0;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the subscriptions did not catch up with the preloaded history within an hour")
}
