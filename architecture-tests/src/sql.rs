//! Which tables a piece of SQL declares and which it touches.
//!
//! A scan of sqlparser's token stream rather than its AST: the AST visitor misses `REFERENCES t`
//! and a trigger's `ON t` and reports CTE names as tables, and a parser rejects dialect corners
//! (`STRICT`, FTS5 options) that SQLite accepts. The token stream has none of these problems and
//! still handles quoting, comments and string literals correctly.

use std::collections::HashSet;

use sqlparser::{
    dialect::SQLiteDialect,
    tokenizer::{Token, Tokenizer, Whitespace},
};

/// Kinds of schema objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `CREATE TABLE` or `CREATE VIRTUAL TABLE`.
    Table,
    /// `CREATE INDEX`.
    Index,
    /// `CREATE VIEW`.
    View,
    /// `CREATE TRIGGER`.
    Trigger,
}

/// A named object with the line it appears on (1-based, within the scanned text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlObject {
    /// Lower-cased name.
    pub name: String,
    /// What it is (for declarations); `Table` for references.
    pub kind: ObjectKind,
    /// Line within the scanned text.
    pub line: usize,
}

/// A change one piece of SQL makes to its module's schema, in the order it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaChange {
    /// `CREATE …`, with the table an index or trigger is on.
    Declare {
        /// What is created.
        object: SqlObject,
        /// The table it belongs to (indexes and triggers).
        on: Option<String>,
    },
    /// `DROP …` (a table takes its indexes and triggers with it).
    Drop(SqlObject),
    /// `ALTER TABLE from RENAME TO to`.
    Rename {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// Where.
        line: usize,
    },
}

/// The objects a module's migrations leave behind, applied in order: a table rebuilt by the
/// usual `CREATE new; copy; DROP old; ALTER TABLE new RENAME TO old` reads as the one table it
/// is, and an index dropped with its table may be declared again.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    live: Vec<(SqlObject, Option<String>)>,
}

impl Schema {
    /// Applies `change`; a declaration of a name still live is refused with what holds it.
    pub fn apply(&mut self, change: &SchemaChange) -> Result<(), SqlObject> {
        match change {
            SchemaChange::Declare { object, on } => {
                if let Some((held, _)) = self.live.iter().find(|(o, _)| o.name == object.name) {
                    return Err(held.clone());
                }
                self.live.push((object.clone(), on.clone()));
            }
            SchemaChange::Drop(object) => {
                let name = &object.name;
                self.live
                    .retain(|(o, on)| &o.name != name && on.as_ref() != Some(name));
            }
            SchemaChange::Rename { from, to, .. } => {
                for (o, on) in &mut self.live {
                    if &o.name == from {
                        o.name = to.clone();
                    }
                    if on.as_ref() == Some(from) {
                        *on = Some(to.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// What is live, in the order it was first declared.
    pub fn objects(&self) -> impl Iterator<Item = &SqlObject> {
        self.live.iter().map(|(o, _)| o)
    }
}

/// What one piece of SQL declares and references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlScan {
    /// Objects created.
    pub declared: Vec<SqlObject>,
    /// Creations, drops and renames, in order.
    pub changes: Vec<SchemaChange>,
    /// Tables or views read, written, referenced by a foreign key or watched by a trigger.
    pub referenced: Vec<SqlObject>,
    /// Lines with `ATTACH`.
    pub attach: Vec<usize>,
    /// `schema.table` references to a schema other than `main`/`temp`: (schema, line).
    pub foreign_schemas: Vec<(String, usize)>,
    /// Lines where a table name is a `format!` placeholder, so no check can see it.
    pub dynamic_tables: Vec<usize>,
}

struct Tok {
    token: Token,
    line: usize,
}

/// Modifiers between a keyword and its table name (`INSERT OR IGNORE INTO`, `IF NOT EXISTS`).
const MODIFIERS: &[&str] = &[
    "if", "not", "exists", "or", "replace", "ignore", "abort", "fail", "rollback", "only",
];

/// Words that say no table name follows after all (`DO UPDATE SET`, `AFTER UPDATE OF`).
const NO_TABLE: &[&str] = &[
    "set", "values", "default", "on", "of", "where", "using", "select", "conflict",
];

/// Words that end a table reference (so the next word is not an alias).
const CLAUSE: &[&str] = &[
    "where",
    "join",
    "left",
    "right",
    "inner",
    "outer",
    "cross",
    "natural",
    "full",
    "on",
    "using",
    "group",
    "order",
    "limit",
    "union",
    "except",
    "intersect",
    "window",
    "having",
    "returning",
    "set",
    "values",
    "default",
    "select",
    "as",
    "indexed",
    "not",
    "when",
    "then",
    "end",
    "begin",
    "for",
    "do",
];

fn word(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) => Some(w.value.to_ascii_lowercase()),
        _ => None,
    }
}

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w) && x.quote_style.is_none())
}

/// Scans SQL text. `{NAME}` format placeholders are blanked first, so Rust `format!` strings scan.
pub fn scan_sql(text: &str) -> Result<SqlScan, String> {
    let blanked = blank_placeholders(text);
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, &blanked)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let toks: Vec<Tok> = tokens
        .into_iter()
        .filter(|t| {
            !matches!(
                t.token,
                Token::Whitespace(
                    Whitespace::Space
                        | Whitespace::Newline
                        | Whitespace::Tab
                        | Whitespace::SingleLineComment { .. }
                        | Whitespace::MultiLineComment(_)
                ) | Token::EOF
            )
        })
        .map(|t| Tok {
            line: usize::try_from(t.span.start.line).unwrap_or(0).max(1),
            token: t.token,
        })
        .collect();

    let ctes = cte_names(&toks);
    let mut scan = SqlScan::default();
    let mut i = 0;
    let mut trigger_header = false;
    while i < toks.len() {
        let t = &toks[i].token;
        let line = toks[i].line;
        if is_word(t, "attach") {
            scan.attach.push(line);
        }
        if is_word(t, "create") {
            i = declaration(&toks, i, &mut scan, &mut trigger_header);
            continue;
        }
        if trigger_header && is_word(t, "begin") {
            trigger_header = false;
        }
        if trigger_header && is_word(t, "on") {
            i = table_name(&toks, i + 1, false, &ctes, &mut scan).0;
            trigger_header = false;
            continue;
        }
        let Some(w) = word(t) else {
            i += 1;
            continue;
        };
        match w.as_str() {
            "from" | "join" => {
                let (mut next, mut found) = table_name(&toks, i + 1, true, &ctes, &mut scan);
                // `FROM a, b` and `FROM a AS x, b`.
                while found {
                    next = skip_alias(&toks, next);
                    if matches!(toks.get(next).map(|t| &t.token), Some(Token::Comma)) {
                        (next, found) = table_name(&toks, next + 1, true, &ctes, &mut scan);
                    } else {
                        break;
                    }
                }
                i = next;
            }
            "into" | "update" | "references" | "table" => {
                let before = scan.referenced.len();
                let at = i;
                i = table_name(&toks, i + 1, false, &ctes, &mut scan).0;
                // ALTER TABLE a RENAME TO b.
                let altered = w == "table" && at >= 1 && is_word(&toks[at - 1].token, "alter");
                if altered
                    && scan.referenced.len() > before
                    && toks.get(i).is_some_and(|t| is_word(&t.token, "rename"))
                    && toks.get(i + 1).is_some_and(|t| is_word(&t.token, "to"))
                    && let Some(to) = toks.get(i + 2).and_then(|t| word(&t.token))
                {
                    let from = scan.referenced[before].name.clone();
                    scan.changes.push(SchemaChange::Rename {
                        from,
                        to,
                        line: toks[i + 2].line,
                    });
                    i += 3;
                }
            }
            "drop" => {
                // DROP TABLE|INDEX|VIEW|TRIGGER [IF EXISTS] name: touching the object.
                let kind = match toks.get(i + 1).and_then(|t| word(&t.token)).as_deref() {
                    Some("index") => Some(ObjectKind::Index),
                    Some("view") => Some(ObjectKind::View),
                    Some("trigger") => Some(ObjectKind::Trigger),
                    Some("table") => Some(ObjectKind::Table),
                    _ => None,
                };
                let before = scan.referenced.len();
                i = table_name(&toks, i + 2, false, &ctes, &mut scan).0;
                if let (Some(kind), Some(dropped)) = (kind, scan.referenced.get(before)) {
                    scan.changes.push(SchemaChange::Drop(SqlObject {
                        kind,
                        ..dropped.clone()
                    }));
                }
            }
            _ => i += 1,
        }
    }
    Ok(scan)
}

/// Handles `CREATE ...` at `i`; returns where to continue.
fn declaration(toks: &[Tok], i: usize, scan: &mut SqlScan, trigger_header: &mut bool) -> usize {
    let mut j = i + 1;
    let mut virtual_table = false;
    while toks.get(j).is_some_and(|t| {
        ["temp", "temporary", "unique", "virtual"]
            .iter()
            .any(|w| is_word(&t.token, w))
    }) {
        virtual_table |= is_word(&toks[j].token, "virtual");
        j += 1;
    }
    let Some(kind_word) = toks.get(j).and_then(|t| word(&t.token)) else {
        return i + 1;
    };
    let kind = match kind_word.as_str() {
        "table" => ObjectKind::Table,
        "index" => ObjectKind::Index,
        "view" => ObjectKind::View,
        "trigger" => ObjectKind::Trigger,
        _ => return i + 1,
    };
    j += 1;
    while toks
        .get(j)
        .is_some_and(|t| ["if", "not", "exists"].iter().any(|w| is_word(&t.token, w)))
    {
        j += 1;
    }
    let Some(name_tok) = toks.get(j) else {
        return j;
    };
    let Some(name) = word(&name_tok.token) else {
        return j;
    };
    let object = SqlObject {
        name,
        kind,
        line: name_tok.line,
    };
    scan.declared.push(object.clone());
    j += 1;
    match kind {
        // CREATE INDEX name ON table (...)
        ObjectKind::Index if toks.get(j).is_some_and(|t| is_word(&t.token, "on")) => {
            let before = scan.referenced.len();
            let next = table_name(toks, j + 1, false, &HashSet::new(), scan).0;
            let on = scan.referenced.get(before).map(|t| t.name.clone());
            scan.changes.push(SchemaChange::Declare { object, on });
            return next;
        }
        ObjectKind::Trigger => {
            // Its table follows `ON`, read as the header goes on; a dropped table takes its
            // triggers along, which no migration here relies on.
            scan.changes
                .push(SchemaChange::Declare { object, on: None });
            *trigger_header = true;
            return j;
        }
        ObjectKind::Table | ObjectKind::View | ObjectKind::Index => {
            scan.changes
                .push(SchemaChange::Declare { object, on: None });
        }
    }
    if kind == ObjectKind::Table && virtual_table {
        // FTS5 external content: content='table'.
        let mut k = j;
        while k + 2 < toks.len() && !matches!(toks[k].token, Token::SemiColon) {
            if is_word(&toks[k].token, "content")
                && matches!(toks[k + 1].token, Token::Eq)
                && let Token::SingleQuotedString(s) = &toks[k + 2].token
                && !s.is_empty()
            {
                scan.referenced.push(SqlObject {
                    name: s.to_ascii_lowercase(),
                    kind: ObjectKind::Table,
                    line: toks[k + 2].line,
                });
            }
            k += 1;
        }
    }
    j
}

/// Reads a table name at `i` (after modifiers); records it unless it is a CTE or a table-valued
/// function. Returns the next index and whether a table was read.
fn table_name(
    toks: &[Tok],
    mut i: usize,
    allow_function: bool,
    ctes: &HashSet<String>,
    scan: &mut SqlScan,
) -> (usize, bool) {
    while toks
        .get(i)
        .is_some_and(|t| MODIFIERS.iter().any(|m| is_word(&t.token, m)))
    {
        i += 1;
    }
    let Some(first) = toks.get(i) else {
        return (i, false);
    };
    if NO_TABLE.iter().any(|w| is_word(&first.token, w)) {
        return (i, false);
    }
    let Some(mut name) = word(&first.token) else {
        return (i, false);
    };
    let line = first.line;
    let mut next = i + 1;
    if matches!(toks.get(next).map(|t| &t.token), Some(Token::Period))
        && let Some(second) = toks.get(next + 1).and_then(|t| word(&t.token))
    {
        if name != "main" && name != "temp" {
            scan.foreign_schemas.push((name.clone(), line));
        }
        name = second;
        next += 2;
    }
    if allow_function && matches!(toks.get(next).map(|t| &t.token), Some(Token::LParen)) {
        return (next, false);
    }
    if name == DYNAMIC {
        scan.dynamic_tables.push(line);
        return (next, true);
    }
    if !ctes.contains(&name) {
        scan.referenced.push(SqlObject {
            name,
            kind: ObjectKind::Table,
            line,
        });
    }
    (next, true)
}

fn skip_alias(toks: &[Tok], i: usize) -> usize {
    match toks.get(i).map(|t| &t.token) {
        Some(t) if is_word(t, "as") => i + 2,
        Some(Token::Word(w)) if !CLAUSE.contains(&w.value.to_ascii_lowercase().as_str()) => i + 1,
        _ => i,
    }
}

/// Names defined by `WITH name AS (` or `WITH name(cols) AS (`.
fn cte_names(toks: &[Tok]) -> HashSet<String> {
    let mut names = HashSet::new();
    for i in 0..toks.len() {
        let Some(name) = word(&toks[i].token) else {
            continue;
        };
        let after = match toks.get(i + 1).map(|t| &t.token) {
            Some(t) if is_word(t, "as") => i + 1,
            Some(Token::LParen) => match matching_paren(toks, i + 1) {
                Some(close) if toks.get(close + 1).is_some_and(|t| is_word(&t.token, "as")) => {
                    close + 1
                }
                _ => continue,
            },
            _ => continue,
        };
        if matches!(toks.get(after + 1).map(|t| &t.token), Some(Token::LParen)) {
            names.insert(name);
        }
    }
    names
}

fn matching_paren(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// What a `format!` placeholder reads as once blanked: a word no table is named.
const DYNAMIC: &str = "__dyn__";

fn blank_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_placeholder = false;
    for c in text.chars() {
        match c {
            '{' => {
                in_placeholder = true;
                out.push_str(" __dyn__");
            }
            '}' if in_placeholder => {
                in_placeholder = false;
                out.push(' ');
            }
            '\n' => out.push('\n'),
            _ if in_placeholder => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(sql: &str) -> Vec<String> {
        let mut r: Vec<String> = scan_sql(sql)
            .unwrap()
            .referenced
            .into_iter()
            .map(|o| o.name)
            .collect();
        r.sort();
        r.dedup();
        r
    }

    fn decls(sql: &str) -> Vec<(String, ObjectKind)> {
        scan_sql(sql)
            .unwrap()
            .declared
            .into_iter()
            .map(|o| (o.name, o.kind))
            .collect()
    }

    #[test]
    fn selects_inserts_updates_and_deletes_name_their_tables() {
        assert_eq!(
            refs("SELECT a FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = ?"),
            ["sessions", "users"]
        );
        assert_eq!(
            refs("INSERT OR IGNORE INTO notes (n) VALUES (?)"),
            ["notes"]
        );
        assert_eq!(
            refs("UPDATE OR ROLLBACK shows SET seats = seats - 1"),
            ["shows"]
        );
        assert_eq!(
            refs("DELETE FROM sessions WHERE expires_at <= ?"),
            ["sessions"]
        );
        assert_eq!(refs("SELECT * FROM a, b AS bee, c"), ["a", "b", "c"]);
    }

    #[test]
    fn upserts_returning_and_conflict_clauses_are_not_tables() {
        let sql = "INSERT INTO checkpoints (s, seq) VALUES (?, ?) ON CONFLICT (s) DO UPDATE SET seq = MAX(seq, excluded.seq) RETURNING seq";
        assert_eq!(refs(sql), ["checkpoints"]);
    }

    #[test]
    fn foreign_keys_and_trigger_targets_are_references() {
        let sql = "CREATE TABLE bookings (id BLOB PRIMARY KEY, user_id BLOB REFERENCES users (id)) STRICT;\n\
                   CREATE TRIGGER audit AFTER UPDATE OF email ON accounts BEGIN INSERT INTO log (x) VALUES (1); END;";
        assert_eq!(refs(sql), ["accounts", "log", "users"]);
        assert_eq!(
            decls(sql),
            [
                ("bookings".into(), ObjectKind::Table),
                ("audit".into(), ObjectKind::Trigger)
            ]
        );
        let fk = "CREATE TABLE t (a INTEGER, FOREIGN KEY (a) REFERENCES other(id))";
        assert_eq!(refs(fk), ["other"]);
    }

    #[test]
    fn indexes_views_and_fts_tables_are_declared_and_their_sources_referenced() {
        let sql = "CREATE UNIQUE INDEX IF NOT EXISTS users_by_email ON users (email COLLATE NOCASE);\n\
                   CREATE VIEW v AS SELECT * FROM feed;\n\
                   CREATE VIRTUAL TABLE feed_search USING fts5(title, content='feed', content_rowid='rowid');";
        assert_eq!(
            decls(sql),
            [
                ("users_by_email".into(), ObjectKind::Index),
                ("v".into(), ObjectKind::View),
                ("feed_search".into(), ObjectKind::Table)
            ]
        );
        assert_eq!(refs(sql), ["feed", "users"]);
    }

    #[test]
    fn ctes_and_table_valued_functions_are_not_tables() {
        let sql = "WITH recent AS (SELECT * FROM outbox), t(x) AS (SELECT 1) SELECT * FROM recent JOIN t, json_each(?)";
        assert_eq!(refs(sql), ["outbox"]);
    }

    #[test]
    fn attach_and_other_schemas_are_noticed() {
        let scan = scan_sql("ATTACH DATABASE 'users.db' AS u;\nSELECT * FROM u.users").unwrap();
        assert_eq!(scan.attach, [1]);
        assert_eq!(scan.foreign_schemas, [("u".to_owned(), 2)]);
        assert_eq!(scan.referenced[0].name, "users");
    }

    #[test]
    fn strings_comments_and_format_placeholders_hide_nothing_and_invent_nothing() {
        assert_eq!(
            refs("SELECT 'FROM fake' FROM real -- FROM commented\n"),
            ["real"]
        );
        assert_eq!(
            refs("{COLUMNS} WHERE seq > ? ORDER BY seq"),
            Vec::<String>::new()
        );
        assert_eq!(
            refs("SELECT {COLUMNS} FROM outbox WHERE x IN (SELECT y FROM inbox)"),
            ["inbox", "outbox"]
        );
    }

    #[test]
    fn a_table_rebuilt_and_renamed_is_the_one_table_and_its_dropped_index_may_come_back() {
        let first = scan_sql(
            "CREATE TABLE users (id BLOB); CREATE UNIQUE INDEX users_by_email ON users (id);",
        )
        .unwrap();
        let rebuild = scan_sql(
            "CREATE TABLE users_rebuilt (id BLOB); INSERT INTO users_rebuilt SELECT id FROM users;\n\
             DROP TABLE users; ALTER TABLE users_rebuilt RENAME TO users;\n\
             CREATE UNIQUE INDEX users_by_email ON users (id);",
        )
        .unwrap();
        let mut schema = Schema::default();
        for change in first.changes.iter().chain(&rebuild.changes) {
            schema.apply(change).unwrap();
        }
        let names: Vec<_> = schema.objects().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["users", "users_by_email"]);
        // Declaring a live name again is refused with what holds it.
        let again = scan_sql("CREATE INDEX users_by_email ON users (id);").unwrap();
        assert_eq!(
            schema.apply(&again.changes[0]).unwrap_err().name,
            "users_by_email"
        );
        // A column rename is no table rename.
        let column = scan_sql("ALTER TABLE users RENAME COLUMN id TO key;").unwrap();
        assert!(column.changes.is_empty());
    }

    #[test]
    fn quoted_names_are_names() {
        assert_eq!(refs(r#"SELECT * FROM "Users""#), ["users"]);
    }
}
