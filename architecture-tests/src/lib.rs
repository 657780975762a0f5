//! The boundary rules of Boxoffice, as a library: each rule reads a workspace tree (the real one,
//! or a fixture that breaks it on purpose) and returns every [`Violation`] with its file, line,
//! rule and a hint for the fix.
//!
//! The tests in `tests/` run every rule on the real workspace (no violation allowed, no ratchet)
//! and on its fixtures (exactly the planted violation must be found), so no rule can silently
//! stop working. It deliberately depends on no module: it reads manifests, Rust sources and SQL
//! as text, the way a reviewer would.

mod canvas;
mod rules;
mod rust;
mod sql;
mod violation;
mod workspace;

pub use canvas::{Canvas, ModuleCanvas, canvas};
pub use rules::{
    check_all, crate_graph, event_sources, foreign_databases, module_graph, public_api,
    system_clock, table_ownership,
};
pub use sql::{Schema, SchemaChange, SqlObject, SqlScan, scan_sql};
pub use violation::{Violation, report};
pub use workspace::{CrateInfo, Dependency, DependencyKind, Module, Workspace};
