//! The reporting module: the read side of CQRS. It owns nothing but derived data in its own
//! `reporting.db` — a denormalized booking feed, sales per show, customer summaries, box-office
//! totals and full-text search — built only from the users, bookings and payments streams, never
//! by calling those modules. It can be thrown away and rebuilt by replaying their event logs, and
//! it says how far behind them it is.

mod handlers;
mod projection;
mod service;
mod store;

pub use service::{Reporting, Sources};
