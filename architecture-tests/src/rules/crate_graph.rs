//! Rule 1, the crate graph: a module impl crate depends on `kernel` and `-api` crates only;
//! `-api` crates depend on no impl crate; only `app` depends on impl crates (and on actix-web
//! and askama); the workspace has no dependency cycle.

use std::collections::{BTreeMap, BTreeSet};

use crate::{DependencyKind, Violation, Workspace};

/// Crates only the application may know: HTTP and HTML.
const APP_ONLY: &[&str] = &[
    "actix-web",
    "askama",
    "askama_web",
    "actix-files",
    "actix-rt",
];

/// The crate that wires modules together.
const APP: &str = "app";

/// Compile-fail tests must name module internals to prove they are private.
const COMPILE_FAIL_HARNESS: &str = "architecture-tests";

/// Violations of the crate-graph rule.
pub fn crate_graph(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    let members: BTreeSet<&str> = ws.crates.iter().map(|c| c.name.as_str()).collect();
    for krate in &ws.crates {
        let me = krate.name.as_str();
        let my_module = ws.module_by_impl(me);
        let my_api = ws.module_by_api(me);
        for dep in &krate.deps {
            let violation = |message: String, hint: &'static str| Violation {
                rule: "crate-graph",
                file: krate.manifest.clone(),
                line: dep.line,
                message,
                hint,
            };
            if APP_ONLY.contains(&dep.name.as_str()) && me != APP && dep.kind != DependencyKind::Dev
            {
                out.push(violation(
                    format!("{me} depends on {}, which only the app may know", dep.name),
                    "HTTP and HTML belong in app/src/http and app/src/pages; give the module a plain facade method instead",
                ));
            }
            let Some(target) = ws.module_by_impl(&dep.name) else {
                continue;
            };
            if target.name == me {
                continue;
            }
            if my_module.is_some() {
                out.push(violation(
                    format!(
                        "module {me} depends on module {}'s implementation crate",
                        target.name
                    ),
                    "depend on the -api crate instead: call its traits or subscribe to its events",
                ));
            } else if my_api.is_some() {
                out.push(violation(
                    format!("{me} (a public face) depends on module {}'s implementation crate", target.name),
                    "an -api crate holds plain data, traits and events; it may depend on kernel and other -api crates only",
                ));
            } else if me != APP && !(me == COMPILE_FAIL_HARNESS && dep.kind == DependencyKind::Dev)
            {
                out.push(violation(
                    format!(
                        "{me} depends on module {}'s implementation crate; only app may",
                        target.name
                    ),
                    "wire modules in app/src/modules.rs; other crates use the -api crates",
                ));
            }
        }
        if my_module.is_some() || my_api.is_some() {
            for dep in krate.deps.iter().filter(|d| d.kind != DependencyKind::Dev) {
                let allowed = dep.name == "kernel"
                    || ws.module_by_api(&dep.name).is_some()
                    || !members.contains(dep.name.as_str());
                if !allowed && ws.module_by_impl(&dep.name).is_none() {
                    out.push(Violation {
                        rule: "crate-graph",
                        file: krate.manifest.clone(),
                        line: dep.line,
                        message: format!("{me} depends on workspace crate {}", dep.name),
                        hint: "a module may depend on kernel and on -api crates only",
                    });
                }
            }
        }
    }
    out.extend(cycles(ws));
    out
}

/// Dependency cycles among workspace crates (normal and build dependencies).
fn cycles(ws: &Workspace) -> Vec<Violation> {
    let graph: BTreeMap<&str, Vec<&str>> = ws
        .crates
        .iter()
        .map(|c| {
            let deps = c
                .deps
                .iter()
                .filter(|d| d.kind != DependencyKind::Dev && ws.crate_named(&d.name).is_some())
                .map(|d| d.name.as_str())
                .collect();
            (c.name.as_str(), deps)
        })
        .collect();
    super::cycles::cycles(&graph)
        .into_iter()
        .map(|cycle| Violation {
            rule: "crate-graph",
            file: ws
                .crate_named(cycle[0])
                .map(|c| c.manifest.clone())
                .unwrap_or_default(),
            line: 0,
            message: format!("dependency cycle: {} -> {}", cycle.join(" -> "), cycle[0]),
            hint: "break the cycle: move the shared contract into an -api crate or into kernel",
        })
        .collect()
}
