//! End-to-end tests of the whole application over HTTP: each test spawns the app on port 0 with
//! its own temporary data folder. `TEST_LOG=1` shows the application's logs.

/// The embedded monolith, in this process.
const TOPOLOGY: topology::Topology = topology::Topology::Monolith;

#[path = "../support/faults.rs"]
mod faults;
mod helpers;
mod topology;

mod bookings;
mod contract;
mod events;
mod health;
mod reporting;
mod seats;
mod upgrade;
mod users;
