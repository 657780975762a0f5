//! The end-to-end suite of `main.rs`, unchanged, against the split deployment: one process of
//! the real binary per module, events over NATS JetStream, module calls over HTTP, and every
//! test's requests spread over all four processes (see `topology.rs`). Without a NATS server it
//! says so loudly and runs nothing; `BOXOFFICE_REQUIRE_NATS=1` makes that a failure.

/// One process per module.
const TOPOLOGY: topology::Topology = topology::Topology::Split;

#[path = "../support/faults.rs"]
mod faults;
mod helpers;
mod topology;

mod bookings;
mod events;
mod health;
mod reporting;
mod seats;
mod users;
