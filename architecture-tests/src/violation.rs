//! A broken rule, said the way a compiler says an error: where, which rule, what, how to fix.

use std::{fmt, path::PathBuf};

/// One place where a boundary rule is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Short name of the rule (`crate-graph`, `table-ownership`, …).
    pub rule: &'static str,
    /// The file at fault, relative to the workspace root.
    pub file: PathBuf,
    /// 1-based line; 0 when the whole file is at fault.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: [{}] {}\n    hint: {}",
            self.file.display(),
            self.line,
            self.rule,
            self.message,
            self.hint
        )
    }
}

/// All violations, one per paragraph, for a failing test's message.
pub fn report(violations: &[Violation]) -> String {
    let mut out = format!("{} boundary violation(s):\n\n", violations.len());
    for v in violations {
        out.push_str(&v.to_string());
        out.push_str("\n\n");
    }
    out
}
