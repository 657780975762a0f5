//! Every boundary rule, on the real workspace and on a fixture that breaks it on purpose.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use architecture_tests::{
    Violation, Workspace, check_all, crate_graph, event_sources, foreign_databases, module_graph,
    public_api, report, system_clock, table_ownership,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn fixture(name: &str) -> Workspace {
    Workspace::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

/// (rule, file, line, message) of each violation, sorted, for exact comparisons.
fn summary(violations: &[Violation]) -> Vec<(String, String, usize, String)> {
    let mut s: Vec<_> = violations
        .iter()
        .map(|v| {
            (
                v.rule.to_owned(),
                v.file.display().to_string(),
                v.line,
                v.message.clone(),
            )
        })
        .collect();
    s.sort();
    s
}

fn v(rule: &str, file: &str, line: usize, message: &str) -> (String, String, usize, String) {
    (rule.to_owned(), file.to_owned(), line, message.to_owned())
}

#[test]
fn the_workspace_breaks_no_boundary_rule() {
    let started = Instant::now();
    let ws = Workspace::load(&repo_root()).unwrap();
    assert!(!ws.modules.is_empty(), "no modules found under modules/");
    let violations = check_all(&ws);
    eprintln!(
        "boundary check of {} modules took {:?}",
        ws.modules.len(),
        started.elapsed()
    );
    assert!(violations.is_empty(), "{}", report(&violations));
}

#[test]
fn the_crate_graph_rule_sees_every_forbidden_dependency_and_cycle() {
    let found = summary(&crate_graph(&fixture("crate-graph")));
    let expected = vec![
        v(
            "crate-graph",
            "modules/alpha/Cargo.toml",
            0,
            "dependency cycle: alpha -> beta -> alpha",
        ),
        v(
            "crate-graph",
            "modules/alpha/Cargo.toml",
            9,
            "module alpha depends on module beta's implementation crate",
        ),
        v(
            "crate-graph",
            "modules/alpha/Cargo.toml",
            10,
            "alpha depends on actix-web, which only the app may know",
        ),
        v(
            "crate-graph",
            "modules/alpha/api/Cargo.toml",
            0,
            "dependency cycle: alpha-api -> beta -> alpha-api",
        ),
        v(
            "crate-graph",
            "modules/alpha/api/Cargo.toml",
            9,
            "alpha-api (a public face) depends on module beta's implementation crate",
        ),
        // Through a renamed dependency (`sneaky = { package = "alpha" }`): still alpha.
        v(
            "crate-graph",
            "modules/beta/Cargo.toml",
            10,
            "module beta depends on module alpha's implementation crate",
        ),
        v(
            "crate-graph",
            "modules/beta/api/Cargo.toml",
            9,
            "beta-api depends on workspace crate tools",
        ),
        v(
            "crate-graph",
            "tools/Cargo.toml",
            8,
            "tools depends on module alpha's implementation crate; only app may",
        ),
    ];
    assert_eq!(found, expected);
}

#[test]
fn the_module_graph_rule_sees_two_modules_that_know_each_other_through_their_public_faces() {
    // The crate graph of this fixture has no cycle: only the modules, taken whole, do.
    let ws = fixture("module-graph");
    assert_eq!(summary(&crate_graph(&ws)), vec![]);
    assert_eq!(
        summary(&module_graph(&ws)),
        vec![v(
            "module-graph",
            "modules/alpha/Cargo.toml",
            10,
            "modules depend on each other: alpha -> beta -> alpha",
        )]
    );
}

#[test]
fn the_table_ownership_rule_sees_foreign_tables_in_schemas_and_sources() {
    let found = summary(&table_ownership(&fixture("table-ownership")));
    let lib = "modules/alpha/src/lib.rs";
    let foreign = "module alpha names table beta_items, which belongs to module beta";
    let expected = vec![
        v(
            "no-foreign-database",
            lib,
            15,
            "module alpha attaches another database",
        ),
        v(
            "no-foreign-database",
            lib,
            25,
            "module alpha names schema beta",
        ),
        v("table-ownership", lib, 5, foreign),
        v(
            "table-ownership",
            lib,
            20,
            "module alpha names table alpha_itemz, which no schema declares",
        ),
        // `beta.beta_items`: the schema and the table.
        v("table-ownership", lib, 25, foreign),
        // Lower-case, but handed to sqlx::query.
        v("table-ownership", lib, 30, foreign),
        v(
            "table-ownership",
            lib,
            35,
            "module alpha builds a table name at runtime",
        ),
        // A .sql file beside the sources.
        v(
            "table-ownership",
            "modules/alpha/src/queries/report.sql",
            2,
            foreign,
        ),
        // A foreign key, a trigger's target.
        v(
            "table-ownership",
            "schemas/alpha/0001_alpha.sql",
            1,
            foreign,
        ),
        v(
            "table-ownership",
            "schemas/alpha/0001_alpha.sql",
            2,
            foreign,
        ),
        // A trigger's body, an FTS5 table's external content.
        v("table-ownership", "schemas/alpha/0002_more.sql", 2, foreign),
        v("table-ownership", "schemas/alpha/0002_more.sql", 3, foreign),
        v(
            "table-ownership",
            "schemas/beta/0001_beta.sql",
            2,
            "index shared_name is already declared by alpha (schemas/alpha/0001_alpha.sql:3)",
        ),
        v(
            "table-ownership",
            "schemas/beta/0001_beta.sql",
            3,
            "table outbox is already declared by kernel (schemas/kernel:1)",
        ),
        v(
            "table-ownership",
            "schemas/beta/0002_dupes.sql",
            1,
            "view alpha_view is already declared by alpha (schemas/alpha/0002_more.sql:1)",
        ),
        v(
            "table-ownership",
            "schemas/beta/0002_dupes.sql",
            2,
            "trigger alpha_watch is already declared by alpha (schemas/alpha/0001_alpha.sql:2)",
        ),
        // A module rebuilding its own table is fine; declaring a live name twice is not.
        v(
            "table-ownership",
            "schemas/beta/0003_rebuild.sql",
            4,
            "index beta_by_id is already declared by beta (schemas/beta/0003_rebuild.sql:3)",
        ),
    ];
    assert_eq!(found, expected);
}

#[test]
fn the_code_rules_see_foreign_databases_leaky_public_apis_and_local_events() {
    let ws = fixture("code-rules");
    let service = "modules/alpha/src/service.rs";
    let sneaky = "modules/alpha/src/sneaky.rs";
    assert_eq!(
        summary(&foreign_databases(&ws)),
        vec![
            v(
                "no-foreign-database",
                service,
                7,
                "module alpha runs migrations from ../../schemas/beta"
            ),
            v(
                "no-foreign-database",
                service,
                17,
                "module alpha opens a database that is not its own"
            ),
            v(
                "no-foreign-database",
                service,
                18,
                "module alpha names module beta's database file beta.db"
            ),
            // Through `use kernel::ModuleDb as Db` and a local `STREAM`.
            v(
                "no-foreign-database",
                sneaky,
                27,
                "module alpha opens a database that is not its own"
            ),
        ]
    );
    let lib = "modules/alpha/src/lib.rs";
    assert_eq!(
        summary(&public_api(&ws)),
        vec![
            v(
                "public-api",
                lib,
                3,
                "module alpha makes a whole internal module public"
            ),
            v(
                "public-api",
                lib,
                4,
                "module alpha exports AlphaRow, which its allow-list does not name"
            ),
            v("public-api", lib, 5, "module alpha re-exports with a glob"),
            v(
                "public-api",
                service,
                10,
                "module alpha's public struct Alpha exposes sqlx, a storage type"
            ),
            v(
                "public-api",
                service,
                23,
                "module alpha's public fn rows exposes sqlx, a storage type"
            ),
            // Under other names: `use … as Pool`, `type Handle = Db`, `impl Deref`.
            v(
                "public-api",
                sneaky,
                9,
                "module alpha's public fn pool exposes Pool, a storage type"
            ),
            v(
                "public-api",
                sneaky,
                13,
                "module alpha's public fn handle exposes Handle, a storage type"
            ),
            v(
                "public-api",
                sneaky,
                19,
                "module alpha's public impl Deref exposes Db, a storage type"
            ),
            v(
                "public-api",
                "modules/beta/Cargo.toml",
                0,
                "module beta declares no exports allow-list"
            ),
        ]
    );
    assert_eq!(
        summary(&event_sources(&ws)),
        vec![
            v(
                "event-sources",
                service,
                32,
                "module alpha handles LocalEvent, which no -api crate defines"
            ),
            v(
                "event-sources",
                service,
                37,
                "module alpha handles LocalEvent, which no -api crate defines"
            ),
            v(
                "event-sources",
                service,
                43,
                "module alpha defines integration event AlphaRow in its implementation crate"
            ),
            // `fake_api` is no -api crate of the workspace; a string is no event type; a macro
            // writing the impl is an impl.
            v(
                "event-sources",
                sneaky,
                34,
                "module alpha handles Rumour, which no -api crate defines"
            ),
            v(
                "event-sources",
                sneaky,
                34,
                "module alpha subscribes to \"BetaCreated\" by a string"
            ),
            v(
                "event-sources",
                sneaky,
                38,
                "module alpha has a macro that implements IntegrationEvent in its implementation crate"
            ),
            // The kernel's own macros and its other message traits are no way around it.
            v(
                "event-sources",
                sneaky,
                48,
                "module alpha defines integration event Shadow in its implementation crate"
            ),
            v(
                "event-sources",
                sneaky,
                52,
                "module alpha defines command DoThings in its implementation crate"
            ),
            v(
                "event-sources",
                sneaky,
                54,
                "module alpha defines command DoMore in its implementation crate"
            ),
            v(
                "event-sources",
                sneaky,
                56,
                "module alpha defines integration event Whisper in its implementation crate"
            ),
        ]
    );
}

#[test]
fn the_clock_rule_sees_a_module_reading_the_system_clock() {
    let sneaky = "modules/alpha/src/sneaky.rs";
    assert_eq!(
        summary(&system_clock(&fixture("code-rules"))),
        vec![
            v(
                "system-clock",
                sneaky,
                60,
                "module alpha reads the system clock (SystemTime::now)"
            ),
            v(
                "system-clock",
                sneaky,
                60,
                "module alpha reads the system clock (Timestamp::now)"
            ),
        ]
    );
}

/// The committed canvas (`docs/architecture.json`) is what the code says today. The app embeds it
/// for `boxoffice architecture` and `/admin/architecture`, so those never drift either.
#[test]
fn the_committed_architecture_canvas_matches_the_code() {
    let ws = Workspace::load(&repo_root()).unwrap();
    let generated =
        serde_json::to_string_pretty(&architecture_tests::canvas(&ws).unwrap()).unwrap() + "\n";
    let path = repo_root().join("docs").join("architecture.json");
    if std::env::var_os("BOXOFFICE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/architecture.json is out of date with the code.\n    hint: regenerate it with \
         `BOXOFFICE_BLESS=1 cargo test -p architecture-tests --test rules`, then \
         `cargo run -- architecture > docs/architecture.md`, and commit both.\n\ngenerated:\n{generated}"
    );
}
