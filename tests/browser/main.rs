//! Browser tests: the real pages, driven in headless Chromium through chromedriver.
//!
//! Without `chromium` and `chromedriver` on the PATH these tests say so loudly and pass; with
//! `BOXOFFICE_REQUIRE_BROWSER=1` (set by `.ci/run`) a missing browser fails them instead.

/// The embedded monolith, in this process.
const TOPOLOGY: topology::Topology = topology::Topology::Monolith;

#[path = "../api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;
#[path = "../api/topology.rs"]
mod topology;

mod driver;

/// Every admin page with a fixed address, for the walks that visit them all.
const ADMIN_PAGES: [&str; 12] = [
    "/admin",
    "/admin/shows",
    "/admin/venues",
    "/door",
    "/admin/bookings",
    "/admin/feed",
    "/admin/payments",
    "/admin/users",
    "/admin/events",
    "/admin/consumers",
    "/admin/health",
    "/admin/architecture",
];

mod audit;
mod bookings;
mod customer;
mod dashboard;
mod phone;
mod seats;
mod users;
