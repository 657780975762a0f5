//! Rule 6, the module graph: modules, each its implementation and its `-api` crate taken together,
//! depend on each other in one direction only. Two modules that know each other (even only
//! through their public faces) must change together and cannot be deployed apart; the upstream
//! one must not know its customers.

use std::collections::BTreeMap;

use crate::{DependencyKind, Violation, Workspace};

/// Violations of the module-graph rule.
pub fn module_graph(ws: &Workspace) -> Vec<Violation> {
    // Module → the modules its crates depend on, with the first manifest line that says so.
    let mut graph: BTreeMap<&str, BTreeMap<&str, (std::path::PathBuf, usize)>> = BTreeMap::new();
    for module in &ws.modules {
        let edges = graph.entry(module.name.as_str()).or_default();
        for own in [module.name.clone(), module.api_crate()] {
            let Some(krate) = ws.crate_named(&own) else {
                continue;
            };
            for dep in krate.deps.iter().filter(|d| d.kind != DependencyKind::Dev) {
                let target = ws
                    .module_by_impl(&dep.name)
                    .or_else(|| ws.module_by_api(&dep.name));
                if let Some(target) = target.filter(|t| t.name != module.name) {
                    edges
                        .entry(target.name.as_str())
                        .or_insert_with(|| (krate.manifest.clone(), dep.line));
                }
            }
        }
    }
    let adjacency: BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .map(|(m, edges)| (*m, edges.keys().copied().collect()))
        .collect();
    super::cycles::cycles(&adjacency)
        .into_iter()
        .map(|cycle| {
            let (file, line) = graph[cycle[0]][cycle[1 % cycle.len()]].clone();
            Violation {
                rule: "module-graph",
                file,
                line,
                message: format!(
                    "modules depend on each other: {} -> {}",
                    cycle.join(" -> "),
                    cycle[0]
                ),
                hint: "the upstream module must not know its customers: give it a contract in its own words (commands and events in its -api crate) and let only the downstream module depend on it",
            }
        })
        .collect()
}
