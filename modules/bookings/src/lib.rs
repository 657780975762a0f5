//! The bookings module: venues and their seating plans, shows and their seats, bookings and
//! their tickets in its own `bookings.db`, the booking saga that ties a booking to its payment,
//! and the door that admits each ticket once.
//!
//! Placing a booking checks the customer through `users-api` (a call, not a table), holds the
//! seats (chosen, best available, or admissions) with guarded updates that cannot oversell, stores the booking `pending` with the
//! customer's email copied in, emits `BookingPlaced` and sends payments a `RequestPayment` (its
//! own command), all in one transaction. The saga then follows the payments stream's answers to
//! that reference: confirmed when paid, cancelled with the seats released when declined or when
//! the deadline passes; a cancellation sends `CancelPayment`, and a payment that lands after a
//! cancellation is refunded by payments and recorded here. Every step is persisted, so a restart
//! resumes it.
//!
//! It deliberately never sees a card number (the application tokenizes cards with payments first)
//! and never reads the users' or payments' tables.

mod door;
mod handlers;
mod holds;
mod saga;
mod scheduling;
mod seating;
mod service;
mod store;
mod tickets;
mod upgrade;
mod venues;

pub use service::{Bookings, BookingsConfig};
