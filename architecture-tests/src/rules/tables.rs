//! Rule 2, table ownership: every table, index, view and trigger is declared in exactly one
//! `schemas/<module>/` (and, there, once while it lives: a table rebuilt by its module may come
//! back under its name), and every SQL statement of a module (in its schema files and in its Rust
//! sources) names only that module's tables and the kernel's per-module tables, foreign keys and
//! triggers included. Rule 3's SQL half rides along: no `ATTACH`, no other schema.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::{
    Module, Violation, Workspace,
    rust::{files_with_extension, looks_like_sql, parse, rust_files, string_literals},
    sql::{ObjectKind, Schema, SchemaChange, SqlScan, scan_sql},
    workspace::sql_files,
};

/// SQLite's own tables, readable by anyone.
fn is_sqlite_internal(name: &str) -> bool {
    name.starts_with("sqlite_") || name.starts_with("pragma_")
}

#[derive(Clone)]
struct Declaration {
    module: String,
    file: PathBuf,
    line: usize,
    kind: ObjectKind,
}

/// Violations of the table-ownership rule (and the SQL half of no-foreign-database).
pub fn table_ownership(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    // Who declares what.
    let mut owners: BTreeMap<String, Declaration> = BTreeMap::new();
    for t in &ws.kernel_tables {
        owners.insert(
            t.name.clone(),
            Declaration {
                module: "kernel".into(),
                file: PathBuf::from("schemas/kernel"),
                line: t.line,
                kind: t.kind,
            },
        );
    }
    let mut schema_scans: Vec<(&Module, PathBuf, SqlScan)> = Vec::new();
    for module in &ws.modules {
        // The module's schema as its migrations leave it, applied in order, so that a table it
        // rebuilds (and the indexes dropped with the old one) may be declared again.
        let mut schema = Schema::default();
        for file in sql_files(&module.schema_dir) {
            let rel = ws.relative(&file);
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    out.push(unreadable(&rel, &e.to_string()));
                    continue;
                }
            };
            let scan = match scan_sql(&text) {
                Ok(s) => s,
                Err(e) => {
                    out.push(unreadable(&rel, &e));
                    continue;
                }
            };
            for change in &scan.changes {
                let declared = match change {
                    SchemaChange::Declare { object, .. } => object,
                    SchemaChange::Rename { to, line, .. } => {
                        owners.entry(to.clone()).or_insert_with(|| Declaration {
                            module: module.name.clone(),
                            file: rel.clone(),
                            line: *line,
                            kind: ObjectKind::Table,
                        });
                        let _ = schema.apply(change);
                        continue;
                    }
                    SchemaChange::Drop(_) => {
                        let _ = schema.apply(change);
                        continue;
                    }
                };
                let earlier = match owners.get(&declared.name) {
                    Some(first) if first.module != module.name => Some(first.clone()),
                    // The module's own name, still live: declared twice.
                    Some(first) if schema.objects().any(|o| o.name == declared.name) => {
                        Some(first.clone())
                    }
                    _ => None,
                };
                match earlier {
                    Some(first) => out.push(Violation {
                        rule: "table-ownership",
                        file: rel.clone(),
                        line: declared.line,
                        message: format!(
                            "{:?} {} is already declared by {} ({}:{})",
                            declared.kind,
                            declared.name,
                            first.module,
                            first.file.display(),
                            first.line
                        )
                        .to_lowercase(),
                        hint: "each name belongs to one module; rename it, or ask the owner for the data through its -api crate",
                    }),
                    None => {
                        let _ = schema.apply(change);
                        owners.entry(declared.name.clone()).or_insert_with(|| Declaration {
                            module: module.name.clone(),
                            file: rel.clone(),
                            line: declared.line,
                            kind: declared.kind,
                        });
                    }
                }
            }
            schema_scans.push((module, rel, scan));
        }
    }

    let may_touch = |module: &str, table: &str| -> Result<(), Option<String>> {
        if is_sqlite_internal(table) {
            return Ok(());
        }
        match owners.get(table) {
            Some(d) if d.module == module || d.module == "kernel" => Ok(()),
            Some(d) if matches!(d.kind, ObjectKind::Table | ObjectKind::View) => {
                Err(Some(d.module.clone()))
            }
            Some(d) => Err(Some(d.module.clone())),
            None => Err(None),
        }
    };

    for (module, rel, scan) in &schema_scans {
        check_scan(&module.name, rel, 0, scan, &may_touch, &mut out);
    }

    // SQL in each module's Rust sources, impl and api crates alike, and any `.sql` file kept
    // beside them (for `include_str!`).
    for module in &ws.modules {
        let mut dirs = vec![module.dir.join("src"), module.dir.join("tests")];
        dirs.push(module.api_dir.join("src"));
        for file in dirs.iter().flat_map(|d| files_with_extension(d, "sql")) {
            let rel = ws.relative(&file);
            match std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|text| scan_sql(&text))
            {
                Ok(scan) => check_scan(&module.name, &rel, 0, &scan, &may_touch, &mut out),
                Err(e) => out.push(unreadable(&rel, &e)),
            }
        }
        for file in dirs.iter().flat_map(|d| rust_files(d)) {
            let rel = ws.relative(&file);
            let parsed = match parse(&file) {
                Ok(f) => f,
                Err(e) => {
                    out.push(unreadable(&rel, &e));
                    continue;
                }
            };
            for lit in string_literals(&parsed) {
                if !lit.sql_argument && !looks_like_sql(&lit.value) {
                    continue;
                }
                match scan_sql(&lit.value) {
                    Ok(scan) => check_scan(
                        &module.name,
                        &rel,
                        lit.line.saturating_sub(1),
                        &scan,
                        &may_touch,
                        &mut out,
                    ),
                    Err(e) => out.push(Violation {
                        rule: "table-ownership",
                        file: rel.clone(),
                        line: lit.line,
                        message: format!("SQL that cannot be tokenized: {e}"),
                        hint: "keep SQL in plain string literals so the boundary check can read it",
                    }),
                }
            }
        }
    }
    out
}

fn check_scan(
    module: &str,
    file: &Path,
    line_offset: usize,
    scan: &SqlScan,
    may_touch: &impl Fn(&str, &str) -> Result<(), Option<String>>,
    out: &mut Vec<Violation>,
) {
    for r in &scan.referenced {
        if let Err(owner) = may_touch(module, &r.name) {
            let message = match owner {
                Some(owner) => format!(
                    "module {module} names table {}, which belongs to module {owner}",
                    r.name
                ),
                None => format!(
                    "module {module} names table {}, which no schema declares",
                    r.name
                ),
            };
            out.push(Violation {
                rule: "table-ownership",
                file: file.to_path_buf(),
                line: r.line + line_offset,
                message,
                hint: "a module reads only its own tables: call the owner's -api trait, or keep a local copy fed by its events",
            });
        }
    }
    for line in &scan.attach {
        out.push(Violation {
            rule: "no-foreign-database",
            file: file.to_path_buf(),
            line: line + line_offset,
            message: format!("module {module} attaches another database"),
            hint: "never ATTACH: each module opens only its own database through the kernel",
        });
    }
    for line in &scan.dynamic_tables {
        out.push(Violation {
            rule: "table-ownership",
            file: file.to_path_buf(),
            line: line + line_offset,
            message: format!("module {module} builds a table name at runtime"),
            hint: "name tables literally in SQL (placeholders only for clauses and values), so the boundary check can read them",
        });
    }
    for (schema, line) in &scan.foreign_schemas {
        out.push(Violation {
            rule: "no-foreign-database",
            file: file.to_path_buf(),
            line: line + line_offset,
            message: format!("module {module} names schema {schema}"),
            hint: "a module's SQL names unqualified tables of its own database",
        });
    }
}

fn unreadable(file: &Path, error: &str) -> Violation {
    Violation {
        rule: "table-ownership",
        file: file.to_path_buf(),
        line: 0,
        message: format!("cannot be read: {error}"),
        hint: "the boundary check must be able to read every source and schema file",
    }
}
