//! Reading Rust sources as a reviewer would: string literals with their lines (including those
//! inside macro calls such as `format!` and `query!`), without compiling anything.

use std::path::{Path, PathBuf};

use syn::{
    Expr, Macro, Token,
    punctuated::Punctuated,
    visit::{self, Visit},
};

/// A string literal and the line it starts on.
#[derive(Clone, Debug)]
pub(crate) struct Literal {
    pub(crate) value: String,
    pub(crate) line: usize,
    /// Inside the arguments of a call that takes SQL (`sqlx::query*`, `raw_sql`, a query
    /// builder's `push`): SQL whatever it looks like.
    pub(crate) sql_argument: bool,
}

/// Calls whose arguments are SQL.
const SQL_CALLS: &[&str] = &[
    "query",
    "query_as",
    "query_scalar",
    "query_with",
    "query_as_with",
    "query_scalar_with",
    "raw_sql",
    "AssertSqlSafe",
];

/// Every `.rs` file under `dir`, sorted.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "rs")
}

/// Every file under `dir` (recursively, `target/` aside) whose extension is `ext`, sorted.
pub(crate) fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                // A module's `api/` folder is its own crate and is read on its own.
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|x| x == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The parsed file.
pub(crate) fn parse(path: &Path) -> Result<syn::File, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    syn::parse_file(&text).map_err(|e| format!("{}:{}: {e}", path.display(), e.span().start().line))
}

struct Literals {
    found: Vec<Literal>,
    /// How many SQL-taking calls the visit is inside.
    in_sql_call: usize,
}

impl<'ast> Visit<'ast> for Literals {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {
        // Doc comments and attributes are prose, not queries.
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.found.push(Literal {
            value: lit.value(),
            line: lit.span().start().line,
            sql_argument: self.in_sql_call > 0,
        });
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let takes_sql = matches!(&*call.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| SQL_CALLS.contains(&s.ident.to_string().as_str())));
        self.in_sql_call += usize::from(takes_sql);
        visit::visit_expr_call(self, call);
        self.in_sql_call -= usize::from(takes_sql);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        // `QueryBuilder::push("…")` and `push_unseparated`.
        let takes_sql = call.method == "push" || call.method == "push_unseparated";
        self.visit_expr(&call.receiver);
        self.in_sql_call += usize::from(takes_sql);
        for arg in &call.args {
            self.visit_expr(arg);
        }
        self.in_sql_call -= usize::from(takes_sql);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        visit_macro_args(self, mac);
        visit::visit_macro(self, mac);
    }
}

/// The type named by an `X::TYPE` expression (an integration event's type constant), as path
/// segments (`["X"]`, `["crate_api", "X"]`), or `None` for any other path.
pub(crate) fn event_type_constant(p: &syn::ExprPath) -> Option<Vec<String>> {
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.split_last() {
        Some((last, rest)) if last == "TYPE" && !rest.is_empty() => Some(rest.to_vec()),
        _ => None,
    }
}

/// What a module declares for others to read from its outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A fact it publishes (`IntegrationEvent`).
    Event,
    /// A request for work it carries out, sent by others (`Command`).
    Command,
}

impl MessageKind {
    /// `integration event` or `command`, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            MessageKind::Event => "integration event",
            MessageKind::Command => "command",
        }
    }
}

/// For `impl IntegrationEvent for X`, `impl Command for X` or `impl Message for X`: the trait
/// path (for its line), `X`'s name and what it is.
pub(crate) fn message_impl(i: &syn::ItemImpl) -> Option<(&syn::Path, String, MessageKind)> {
    let (_, path, _) = i.trait_.as_ref()?;
    let kind = match path.segments.last()?.ident.to_string().as_str() {
        "IntegrationEvent" | "Message" => MessageKind::Event,
        "Command" => MessageKind::Command,
        _ => return None,
    };
    let name = match &*i.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    Some((path, name.unwrap_or_default(), kind))
}

/// For `integration_event!(X, …)`, `command!(X, …)` or the kernel's inner
/// `message!(IntegrationEvent | Command, X, …)` (through any path, e.g.
/// `kernel::integration_event!`): what it declares and `X`'s name.
pub(crate) fn message_macro(mac: &Macro) -> Option<(MessageKind, String)> {
    let idents: Vec<String> = mac
        .tokens
        .clone()
        .into_iter()
        .filter_map(|t| match t {
            proc_macro2::TokenTree::Ident(i) => Some(i.to_string()),
            _ => None,
        })
        .take(2)
        .collect();
    let (kind, name) = match mac.path.segments.last()?.ident.to_string().as_str() {
        "integration_event" => (MessageKind::Event, idents.first()?),
        "command" => (MessageKind::Command, idents.first()?),
        "message" => match idents.first()?.as_str() {
            "IntegrationEvent" => (MessageKind::Event, idents.get(1)?),
            "Command" => (MessageKind::Command, idents.get(1)?),
            _ => return None,
        },
        _ => return None,
    };
    Some((kind, name.clone()))
}

/// Visits the arguments of a function-like macro call (`format!`, `matches!`, `query!`) as
/// expressions, when they parse as such.
pub(crate) fn visit_macro_args<V: for<'a> Visit<'a>>(visitor: &mut V, mac: &Macro) {
    if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
        for arg in &args {
            visitor.visit_expr(arg);
        }
    }
}

/// Every string literal of a file.
pub(crate) fn string_literals(file: &syn::File) -> Vec<Literal> {
    let mut v = Literals {
        found: Vec::new(),
        in_sql_call: 0,
    };
    v.visit_file(file);
    v.found
}

/// Statement and clause keywords that open SQL text, in the upper case this codebase writes SQL in.
const SQL_OPENERS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "WITH",
    "CREATE",
    "DROP",
    "ALTER",
    "REPLACE",
    "ATTACH",
    "DETACH",
    "PRAGMA",
    "FROM",
    "JOIN",
    "WHERE",
    "AND",
    "ORDER",
    "GROUP",
    "LIMIT",
    "SET",
    "VALUES",
    "RETURNING",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
    "BEGIN",
    "COMMIT",
    "UNION",
    "VACUUM",
    "ANALYZE",
];

/// True when a literal reads as SQL: its first word, after leading comments and `format!`
/// placeholders, is an upper-case SQL keyword. (Any case counts inside a call that takes SQL; see
/// [`Literal::sql_argument`].)
pub(crate) fn looks_like_sql(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return false;
            };
            rest = after[end + 1..].trim_start();
        } else if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let first: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    SQL_OPENERS.contains(&first.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_recognized_by_its_first_keyword_and_prose_is_not() {
        assert!(looks_like_sql("SELECT 1"));
        assert!(looks_like_sql("  INSERT INTO t VALUES (1)"));
        assert!(looks_like_sql("{COLUMNS} WHERE seq > ?"));
        assert!(!looks_like_sql("select seats from the show"));
        assert!(!looks_like_sql("From here on"));
        assert!(!looks_like_sql("../../schemas/users"));
    }

    #[test]
    fn literals_inside_macros_are_found_and_doc_comments_are_not() {
        let file: syn::File = syn::parse_str(
            "/// SELECT * FROM doc\nfn f() { let q = format!(\"SELECT * FROM {T} JOIN x\", T = 1); sqlx::query(\"DELETE FROM y\"); }",
        )
        .unwrap();
        let values: Vec<String> = string_literals(&file)
            .into_iter()
            .map(|l| l.value)
            .collect();
        assert_eq!(values, ["SELECT * FROM {T} JOIN x", "DELETE FROM y"]);
    }
}
