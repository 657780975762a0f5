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

/// What one piece of SQL declares and references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlScan {
    /// Objects created.
    pub declared: Vec<SqlObject>,
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
                i = table_name(&toks, i + 1, false, &ctes, &mut scan).0;
            }
            "drop" => {
                // DROP TABLE|INDEX|VIEW|TRIGGER [IF EXISTS] name: touching the object.
                i = table_name(&toks, i + 2, false, &ctes, &mut scan).0;
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
    scan.declared.push(SqlObject {
        name,
        kind,
        line: name_tok.line,
    });
    j += 1;
    match kind {
        // CREATE INDEX name ON table (...)
        ObjectKind::Index if toks.get(j).is_some_and(|t| is_word(&t.token, "on")) => {
            return table_name(toks, j + 1, false, &HashSet::new(), scan).0;
        }
        ObjectKind::Trigger => *trigger_header = true,
        ObjectKind::Table if virtual_table => {
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
        _ => {}
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
    fn quoted_names_are_names() {
        assert_eq!(refs(r#"SELECT * FROM "Users""#), ["users"]);
    }
}
