//! What every module is opened with: where its database lives and how it is opened, the bus its
//! events go out on, the metrics registry, and the one clock.

use crate::{bus::Bus, clock::Clock, metrics::Metrics, storage::DbSettings};

/// What a module stands on: where its database lives and how it is opened, the bus its events go
/// out on, the metrics registry, and the clock.
#[derive(Clone, Debug)]
pub struct Platform {
    /// How module databases are opened.
    pub db: DbSettings,
    /// The in-process bus.
    pub bus: Bus,
    /// The shared metrics registry.
    pub metrics: Metrics,
    /// The one clock of the application.
    pub clock: Clock,
}

impl Platform {
    /// A platform for `db`, with a new bus of `bus_capacity`, new metrics and the system clock.
    pub fn new(db: DbSettings, bus_capacity: usize) -> Platform {
        Platform {
            db,
            bus: Bus::new(bus_capacity),
            metrics: Metrics::new(),
            clock: Clock::system(),
        }
    }

    /// The same platform reading time from `clock`.
    pub fn with_clock(self, clock: Clock) -> Platform {
        Platform { clock, ..self }
    }
}
