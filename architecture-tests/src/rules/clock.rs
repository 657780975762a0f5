//! Rule 7, the clock: a module never reads the system clock. Every timestamp it writes, every
//! deadline and timer, reads the kernel's `Clock` (through `WriteTx::now`, `ModuleDb::clock`),
//! so one clock rules the application and a test can move it.

use std::path::Path;

use syn::{
    ExprPath,
    visit::{self, Visit},
};

use crate::{
    Violation, Workspace,
    rust::{parse, rust_files, visit_macro_args},
};

/// Paths that read the system clock, as their last two segments.
const SYSTEM_CLOCK: &[(&str, &str)] = &[
    ("Timestamp", "now"),
    ("SystemTime", "now"),
    ("Instant", "now"),
    ("OffsetDateTime", "now_utc"),
    ("OffsetDateTime", "now_local"),
    ("Utc", "now"),
];

struct ClockUse<'a> {
    module: &'a str,
    file: &'a Path,
    out: &'a mut Vec<Violation>,
}

impl<'ast> Visit<'ast> for ClockUse<'_> {
    fn visit_expr_path(&mut self, p: &'ast ExprPath) {
        let segments: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if let [.., ty, f] = segments.as_slice()
            && SYSTEM_CLOCK.contains(&(ty.as_str(), f.as_str()))
        {
            self.out.push(Violation {
                rule: "system-clock",
                file: self.file.to_path_buf(),
                line: p.path.segments[0].ident.span().start().line,
                message: format!("module {} reads the system clock ({ty}::{f})", self.module),
                hint: "read the kernel's clock instead (`tx.now()`, `db.clock().now()`), so tests can move it",
            });
        }
        visit::visit_expr_path(self, p);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit_macro_args(self, mac);
        visit::visit_macro(self, mac);
    }
}

/// Violations of the system-clock rule, in every module's implementation and `-api` crate.
pub fn system_clock(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    for module in &ws.modules {
        for dir in [module.dir.join("src"), module.api_dir.join("src")] {
            for file in rust_files(&dir) {
                let rel = ws.relative(&file);
                match parse(&file) {
                    Ok(parsed) => ClockUse {
                        module: &module.name,
                        file: &rel,
                        out: &mut out,
                    }
                    .visit_file(&parsed),
                    Err(e) => out.push(Violation {
                        rule: "system-clock",
                        file: rel,
                        line: 0,
                        message: format!("cannot read this file: {e}"),
                        hint: "fix the syntax error",
                    }),
                }
            }
        }
    }
    out
}
