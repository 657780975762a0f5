//! The rules. Each takes the workspace and returns what breaks it.

mod clock;
mod code;
mod crate_graph;
mod cycles;
mod module_graph;
mod tables;

use crate::{Violation, Workspace};

pub use clock::system_clock;
pub use code::{event_sources, foreign_databases, public_api};
pub use crate_graph::crate_graph;
pub use module_graph::module_graph;
pub use tables::table_ownership;

/// Every rule, in a stable order.
pub fn check_all(ws: &Workspace) -> Vec<Violation> {
    let mut all = crate_graph(ws);
    all.extend(module_graph(ws));
    all.extend(table_ownership(ws));
    all.extend(foreign_databases(ws));
    all.extend(public_api(ws));
    all.extend(event_sources(ws));
    all.extend(system_clock(ws));
    all
}
