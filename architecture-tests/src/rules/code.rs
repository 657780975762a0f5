//! The rules read from Rust code rather than from manifests or SQL:
//!
//! - rule 3, code half (`no-foreign-database`): a module opens only its own database: its
//!   `ModuleDb::open` names itself, its `migrate!` reads only `schemas/<itself>`, and no string
//!   names another module's `<name>.db` file;
//! - rule 4 (`public-api`): a module impl crate's `lib.rs` exports only what its
//!   `[package.metadata.architecture] exports` allow-list names (no `pub mod`, no glob), and no
//!   `pub` item anywhere in it mentions a sqlx type, the kernel's `ModuleDb` or `WriteTx`;
//! - rule 5 (`event-sources`): a module impl crate defines no integration event of its own, and
//!   every event type it handles (`X::TYPE`, `decode::<X>()`) comes from an `-api` crate.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use syn::{
    Expr, ExprCall, ExprMethodCall, ExprPath, GenericArgument, Item, ItemImpl, ItemMacro, LitStr,
    Macro, Signature, Type, UseTree, Visibility,
    spanned::Spanned,
    visit::{self, Visit},
};

use crate::{
    Module, Violation, Workspace,
    rust::{event_type_constant, message_impl, message_macro, parse, rust_files, visit_macro_args},
};

fn line_of(span: proc_macro2::Span) -> usize {
    span.start().line
}

fn unreadable(file: &Path, error: &str) -> Violation {
    Violation {
        rule: "code-rules",
        file: file.to_path_buf(),
        line: 0,
        message: format!("cannot parse: {error}"),
        hint: "the boundary check reads every Rust file of a module; it must parse",
    }
}

/// Each parsed Rust source file of a module's own crates (impl and api). Its `tests/` are left
/// out: they may stand in for an upstream module (an outbox under that module's stream name, in a
/// temporary folder, holding only the kernel's tables), which is what testing a consumer takes.
fn module_files(
    ws: &Workspace,
    module: &Module,
    out: &mut Vec<Violation>,
) -> Vec<(PathBuf, syn::File)> {
    let dirs = [module.dir.join("src"), module.api_dir.join("src")];
    let mut files = Vec::new();
    for file in dirs.iter().flat_map(|d| rust_files(d)) {
        let rel = ws.relative(&file);
        match parse(&file) {
            Ok(parsed) => files.push((rel, parsed)),
            Err(e) => out.push(unreadable(&rel, &e)),
        }
    }
    files
}

// ---------------------------------------------------------------- rule 3, code half

struct DatabaseUse<'a> {
    module: &'a str,
    imports: BTreeMap<String, (String, String)>,
    others: Vec<&'a str>,
    file: &'a Path,
    out: &'a mut Vec<Violation>,
}

impl DatabaseUse<'_> {
    fn flag(&mut self, line: usize, message: String, hint: &'static str) {
        self.out.push(Violation {
            rule: "no-foreign-database",
            file: self.file.to_path_buf(),
            line,
            message,
            hint,
        });
    }
}

impl<'ast> Visit<'ast> for DatabaseUse<'_> {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_macro(&mut self, mac: &'ast Macro) {
        let is_migrate = mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "migrate");
        if is_migrate && let Ok(path) = mac.parse_body::<LitStr>() {
            let folder = path.value();
            let folder = folder.trim_end_matches('/');
            let own = format!("schemas/{}", self.module);
            if !folder.ends_with(&own) {
                self.flag(
                    line_of(path.span()),
                    format!("module {} runs migrations from {folder}", self.module),
                    "a module migrates only its own schema folder, schemas/<module>/",
                );
            }
        }
        visit::visit_macro(self, mac);
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if let Expr::Path(ExprPath { path, .. }) = &*call.func {
            let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            // `ModuleDb::open`, also under another name (`use kernel::ModuleDb as Db`).
            let type_name = names.len().checked_sub(2).map(|i| {
                self.imports
                    .get(&names[i])
                    .map_or(names[i].as_str(), |(_, original)| original.as_str())
            });
            let opens = type_name == Some("ModuleDb") && names.last().is_some_and(|l| l == "open");
            if opens && let Some(first) = call.args.first() {
                let own_api = format!("{}_api", self.module);
                let ok = match first {
                    Expr::Lit(l) => match &l.lit {
                        syn::Lit::Str(s) => s.value() == self.module,
                        _ => false,
                    },
                    // The module's own `-api` crate's STREAM, named through it or imported from it;
                    // never a local constant, which could say anything.
                    Expr::Path(p) => {
                        let segs: Vec<String> = p
                            .path
                            .segments
                            .iter()
                            .map(|s| s.ident.to_string())
                            .collect();
                        match segs.as_slice() {
                            [single] => self.imports.get(single).is_some_and(|(root, original)| {
                                *root == own_api && original == "STREAM"
                            }),
                            [first, last] => *first == own_api && last == "STREAM",
                            _ => false,
                        }
                    }
                    _ => false,
                };
                if !ok {
                    self.flag(
                        line_of(first.span()),
                        format!(
                            "module {} opens a database that is not its own",
                            self.module
                        ),
                        "ModuleDb::open takes the module's own name (its -api crate's STREAM)",
                    );
                }
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_lit_str(&mut self, lit: &'ast LitStr) {
        let text = lit.value();
        for other in &self.others {
            let file = format!("{other}.db");
            let named = text.match_indices(&file).any(|(at, _)| {
                at == 0 || !text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            });
            if named {
                self.out.push(Violation {
                    rule: "no-foreign-database",
                    file: self.file.to_path_buf(),
                    line: line_of(lit.span()),
                    message: format!(
                        "module {} names module {other}'s database file {file}",
                        self.module
                    ),
                    hint: "a module never opens another's database; ask it through its -api crate",
                });
            }
        }
    }
}

/// Rule 3's code half: every module opens, migrates and names only its own database.
pub fn foreign_databases(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    for module in &ws.modules {
        let others: Vec<&str> = ws
            .modules
            .iter()
            .map(|m| m.name.as_str())
            .filter(|n| *n != module.name)
            .collect();
        for (rel, parsed) in module_files(ws, module, &mut out) {
            let mut v = DatabaseUse {
                module: &module.name,
                imports: imports(&parsed),
                others: others.clone(),
                file: &rel,
                out: &mut out,
            };
            v.visit_file(&parsed);
        }
    }
    out
}

// ---------------------------------------------------------------- rule 4

/// Names a public signature must not mention.
fn is_storage_type(ident: &str, aliases: &BTreeSet<String>) -> bool {
    ident == "sqlx"
        || ident.starts_with("Sqlite")
        || ident == "ModuleDb"
        || ident == "WriteTx"
        || aliases.contains(ident)
}

struct Idents(Vec<String>);

impl<'ast> Visit<'ast> for Idents {
    fn visit_path_segment(&mut self, s: &'ast syn::PathSegment) {
        self.0.push(s.ident.to_string());
        visit::visit_path_segment(self, s);
    }
}

fn storage_in_type(ty: &Type, aliases: &BTreeSet<String>) -> Option<String> {
    let mut ids = Idents(Vec::new());
    ids.visit_type(ty);
    ids.0.into_iter().find(|i| is_storage_type(i, aliases))
}

fn storage_in_signature(sig: &Signature, aliases: &BTreeSet<String>) -> Option<String> {
    let mut ids = Idents(Vec::new());
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            ids.visit_type(&t.ty);
        }
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        ids.visit_type(ty);
    }
    ids.0.into_iter().find(|i| is_storage_type(i, aliases))
}

/// Names a crate gives to storage types: `use sqlx::SqlitePool as Pool`, `type Db = ModuleDb`
/// (aliases of aliases included).
fn storage_aliases(files: &[syn::File]) -> BTreeSet<String> {
    let mut aliases = BTreeSet::new();
    loop {
        let before = aliases.len();
        for file in files {
            for (name, (root, original)) in imports(file) {
                if name != original && (root == "sqlx" || is_storage_type(&original, &aliases)) {
                    aliases.insert(name);
                }
            }
            let mut types = TypeAliases(Vec::new());
            types.visit_file(file);
            for (name, ty) in types.0 {
                if storage_in_type(&ty, &aliases).is_some() {
                    aliases.insert(name);
                }
            }
        }
        if aliases.len() == before {
            return aliases;
        }
    }
}

struct TypeAliases(Vec<(String, Type)>);

impl<'ast> Visit<'ast> for TypeAliases {
    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        self.0.push((t.ident.to_string(), (*t.ty).clone()));
    }
}

struct PublicSurface<'a> {
    module: &'a str,
    aliases: &'a BTreeSet<String>,
    file: &'a Path,
    out: &'a mut Vec<Violation>,
}

impl PublicSurface<'_> {
    fn flag(&mut self, line: usize, what: &str, found: &str) {
        self.out.push(Violation {
            rule: "public-api",
            file: self.file.to_path_buf(),
            line,
            message: format!(
                "module {}'s public {what} exposes {found}, a storage type",
                self.module
            ),
            hint: "keep pools, rows and transactions private (pub(crate)); return the -api crate's types",
        });
    }
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

impl<'ast> Visit<'ast> for PublicSurface<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        match item {
            Item::Fn(f) if is_pub(&f.vis) => {
                if let Some(found) = storage_in_signature(&f.sig, self.aliases) {
                    self.flag(
                        line_of(f.sig.ident.span()),
                        &format!("fn {}", f.sig.ident),
                        &found,
                    );
                }
            }
            Item::Struct(s) if is_pub(&s.vis) => {
                for field in &s.fields {
                    if is_pub(&field.vis)
                        && let Some(found) = storage_in_type(&field.ty, self.aliases)
                    {
                        self.flag(
                            line_of(field.ty.span()),
                            &format!("struct {}", s.ident),
                            &found,
                        );
                    }
                }
            }
            Item::Enum(e) if is_pub(&e.vis) => {
                for variant in &e.variants {
                    for field in &variant.fields {
                        if let Some(found) = storage_in_type(&field.ty, self.aliases) {
                            self.flag(
                                line_of(field.ty.span()),
                                &format!("enum {}", e.ident),
                                &found,
                            );
                        }
                    }
                }
            }
            Item::Type(t) if is_pub(&t.vis) => {
                if let Some(found) = storage_in_type(&t.ty, self.aliases) {
                    self.flag(
                        line_of(t.ident.span()),
                        &format!("type {}", t.ident),
                        &found,
                    );
                }
            }
            Item::Const(c) if is_pub(&c.vis) => {
                if let Some(found) = storage_in_type(&c.ty, self.aliases) {
                    self.flag(
                        line_of(c.ident.span()),
                        &format!("const {}", c.ident),
                        &found,
                    );
                }
            }
            Item::Static(s) if is_pub(&s.vis) => {
                if let Some(found) = storage_in_type(&s.ty, self.aliases) {
                    self.flag(
                        line_of(s.ident.span()),
                        &format!("static {}", s.ident),
                        &found,
                    );
                }
            }
            Item::Trait(t) if is_pub(&t.vis) => {
                for item in &t.items {
                    if let syn::TraitItem::Fn(f) = item
                        && let Some(found) = storage_in_signature(&f.sig, self.aliases)
                    {
                        self.flag(
                            line_of(f.sig.ident.span()),
                            &format!("trait {}::{}", t.ident, f.sig.ident),
                            &found,
                        );
                    }
                }
            }
            Item::Impl(i) if i.trait_.is_none() => {
                for item in &i.items {
                    if let syn::ImplItem::Fn(f) = item
                        && is_pub(&f.vis)
                        && let Some(found) = storage_in_signature(&f.sig, self.aliases)
                    {
                        self.flag(
                            line_of(f.sig.ident.span()),
                            &format!("fn {}", f.sig.ident),
                            &found,
                        );
                    }
                }
            }
            // A trait impl is as public as its type: `impl Deref for Facade { type Target =
            // ModuleDb }` or `impl AsRef<SqlitePool> for Facade` hands the storage out.
            Item::Impl(i) => {
                let Some((_, trait_path, _)) = &i.trait_ else {
                    return;
                };
                let mut ids = Idents(Vec::new());
                ids.visit_path(trait_path);
                for item in &i.items {
                    if let syn::ImplItem::Type(t) = item {
                        ids.visit_type(&t.ty);
                    }
                }
                if let Some(found) = ids.0.into_iter().find(|n| is_storage_type(n, self.aliases)) {
                    let name = trait_path
                        .segments
                        .last()
                        .map_or_else(String::new, |s| s.ident.to_string());
                    self.flag(line_of(trait_path.span()), &format!("impl {name}"), &found);
                }
            }
            _ => {}
        }
        visit::visit_item(self, item);
    }
}

/// The names a `pub use` tree exports, with their lines (`None` for a glob).
fn use_leaves(tree: &UseTree, out: &mut Vec<(Option<String>, usize)>) {
    match tree {
        UseTree::Path(p) => use_leaves(&p.tree, out),
        UseTree::Name(n) => out.push((Some(n.ident.to_string()), line_of(n.ident.span()))),
        UseTree::Rename(r) => out.push((Some(r.rename.to_string()), line_of(r.rename.span()))),
        UseTree::Glob(g) => out.push((None, line_of(g.star_token.span))),
        UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, out);
            }
        }
    }
}

/// What `lib.rs` exports: (name or `None` for a glob or `pub mod`, line, what).
fn lib_exports(lib: &syn::File) -> Vec<(Option<String>, usize, &'static str)> {
    let mut out = Vec::new();
    for item in &lib.items {
        let (vis, name, line, what) = match item {
            Item::Use(u) => {
                if is_pub(&u.vis) {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, &mut leaves);
                    out.extend(leaves.into_iter().map(|(n, l)| (n, l, "re-export")));
                }
                continue;
            }
            Item::Mod(m) => {
                if is_pub(&m.vis) {
                    out.push((None, line_of(m.ident.span()), "pub mod"));
                }
                continue;
            }
            Item::Fn(f) => (
                &f.vis,
                f.sig.ident.to_string(),
                line_of(f.sig.ident.span()),
                "fn",
            ),
            Item::Struct(s) => (
                &s.vis,
                s.ident.to_string(),
                line_of(s.ident.span()),
                "struct",
            ),
            Item::Enum(e) => (&e.vis, e.ident.to_string(), line_of(e.ident.span()), "enum"),
            Item::Trait(t) => (
                &t.vis,
                t.ident.to_string(),
                line_of(t.ident.span()),
                "trait",
            ),
            Item::Type(t) => (&t.vis, t.ident.to_string(), line_of(t.ident.span()), "type"),
            Item::Const(c) => (
                &c.vis,
                c.ident.to_string(),
                line_of(c.ident.span()),
                "const",
            ),
            Item::Static(s) => (
                &s.vis,
                s.ident.to_string(),
                line_of(s.ident.span()),
                "static",
            ),
            _ => continue,
        };
        if is_pub(vis) {
            out.push((Some(name), line, what));
        }
    }
    out
}

/// Rule 4: the allow-listed exports and no storage type in any public signature.
pub fn public_api(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    for module in &ws.modules {
        let lib = module.dir.join("src").join("lib.rs");
        let lib_rel = ws.relative(&lib);
        let allowed = ws.crate_named(&module.name).and_then(|c| c.exports.clone());
        match (&allowed, parse(&lib)) {
            (_, Err(e)) => out.push(unreadable(&lib_rel, &e)),
            (None, Ok(_)) => out.push(Violation {
                rule: "public-api",
                file: ws.relative(&module.dir.join("Cargo.toml")),
                line: 0,
                message: format!("module {} declares no exports allow-list", module.name),
                hint: "add [package.metadata.architecture] exports = [\"Facade\", …] to the module's Cargo.toml",
            }),
            (Some(allowed), Ok(parsed)) => {
                for (name, line, what) in lib_exports(&parsed) {
                    let message = match &name {
                        None if what == "pub mod" => {
                            format!("module {} makes a whole internal module public", module.name)
                        }
                        None => format!("module {} re-exports with a glob", module.name),
                        Some(n) if !allowed.contains(n) => format!(
                            "module {} exports {n}, which its allow-list does not name",
                            module.name
                        ),
                        Some(_) => continue,
                    };
                    out.push(Violation {
                        rule: "public-api",
                        file: lib_rel.clone(),
                        line,
                        message,
                        hint: "export only the facade and its error and config types; name each in [package.metadata.architecture] exports",
                    });
                }
            }
        }
        let mut files = Vec::new();
        for file in rust_files(&module.dir.join("src")) {
            let rel = ws.relative(&file);
            match parse(&file) {
                Ok(parsed) => files.push((rel, parsed)),
                Err(e) => out.push(unreadable(&rel, &e)),
            }
        }
        let parsed: Vec<syn::File> = files.iter().map(|(_, f)| f.clone()).collect();
        let aliases = storage_aliases(&parsed);
        for (rel, file) in &files {
            PublicSurface {
                module: &module.name,
                aliases: &aliases,
                file: rel,
                out: &mut out,
            }
            .visit_file(file);
        }
    }
    out
}

// ---------------------------------------------------------------- rule 5

/// `use` declarations of a file: the name in scope → (the crate it comes from, its own name).
fn imports(file: &syn::File) -> BTreeMap<String, (String, String)> {
    fn walk(tree: &UseTree, root: Option<&str>, out: &mut BTreeMap<String, (String, String)>) {
        match tree {
            UseTree::Path(p) => {
                let root = root.map_or_else(|| p.ident.to_string(), str::to_owned);
                walk(&p.tree, Some(&root), out);
            }
            UseTree::Name(n) => {
                if let Some(r) = root {
                    let name = n.ident.to_string();
                    out.insert(name.clone(), (r.to_owned(), name));
                }
            }
            UseTree::Rename(r) => {
                if let Some(root) = root {
                    out.insert(r.rename.to_string(), (root.to_owned(), r.ident.to_string()));
                }
            }
            UseTree::Glob(_) => {}
            UseTree::Group(g) => {
                for t in &g.items {
                    walk(t, root, out);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for item in &file.items {
        if let Item::Use(u) = item {
            walk(&u.tree, None, &mut out);
        }
    }
    out
}

struct EventUse<'a> {
    module: &'a str,
    imports: BTreeMap<String, (String, String)>,
    /// The workspace's `-api` crates, as Rust names them (`users_api`).
    api_crates: &'a BTreeSet<String>,
    file: &'a Path,
    out: &'a mut Vec<Violation>,
}

impl EventUse<'_> {
    /// The crate a type path comes from: its first segment when qualified, else its import.
    fn origin(&self, segments: &[String]) -> Option<String> {
        match segments {
            [] => None,
            [single] => self.imports.get(single).map(|(root, _)| root.clone()),
            [first, ..] => Some(
                self.imports
                    .get(first)
                    .map_or_else(|| first.clone(), |(root, _)| root.clone()),
            ),
        }
    }

    fn check(&mut self, segments: Vec<String>, line: usize) {
        if segments.first().is_some_and(|s| s == "Self") {
            return;
        }
        // A real `-api` crate of the workspace, not any module whose name ends in `_api`.
        let origin = self.origin(&segments);
        if origin.is_some_and(|o| self.api_crates.contains(&o)) {
            return;
        }
        self.out.push(Violation {
            rule: "event-sources",
            file: self.file.to_path_buf(),
            line,
            message: format!(
                "module {} handles {}, which no -api crate defines",
                self.module,
                segments.join("::")
            ),
            hint: "subscribe only to events declared in a module's -api crate (import them from there)",
        });
    }
}

impl<'ast> Visit<'ast> for EventUse<'_> {
    fn visit_item_macro(&mut self, m: &'ast ItemMacro) {
        // `kernel::integration_event!(X, …)` or `kernel::command!(X, …)` in an implementation
        // crate declares a message outside the published contract.
        if let Some((kind, name)) = message_macro(&m.mac) {
            self.out.push(Violation {
                rule: "event-sources",
                file: self.file.to_path_buf(),
                line: line_of(m.mac.path.span()),
                message: format!(
                    "module {} defines {} {name} in its implementation crate",
                    self.module,
                    kind.noun()
                ),
                hint: "events and commands are part of a module's published contract: declare them in its -api crate",
            });
        }
        // A `macro_rules!` that writes `impl IntegrationEvent` defines events all the same.
        let defines_events = m.mac.path.is_ident("macro_rules")
            && m.mac.tokens.clone().into_iter().any(|t| {
                ["IntegrationEvent", "Command", "Message"]
                    .iter()
                    .any(|name| mentions(&t, name))
            });
        if defines_events {
            self.out.push(Violation {
                rule: "event-sources",
                file: self.file.to_path_buf(),
                line: line_of(m.mac.path.span()),
                message: format!(
                    "module {} has a macro that implements IntegrationEvent in its implementation crate",
                    self.module
                ),
                hint: "integration events are part of a module's published contract: declare them in its -api crate",
            });
        }
        visit::visit_item_macro(self, m);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // `event_types()` names types (`X::TYPE`), never strings that no compiler checks.
        if f.sig.ident == "event_types" {
            let mut strings = StringLiterals(Vec::new());
            strings.visit_block(&f.block);
            for (text, line) in strings.0 {
                self.out.push(Violation {
                    rule: "event-sources",
                    file: self.file.to_path_buf(),
                    line,
                    message: format!(
                        "module {} subscribes to \"{text}\" by a string",
                        self.module
                    ),
                    hint: "list event types as `Event::TYPE` of an -api crate's event, so the compiler and this check see them",
                });
            }
        }
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_impl(&mut self, i: &'ast ItemImpl) {
        if let Some((path, name, kind)) = message_impl(i) {
            self.out.push(Violation {
                rule: "event-sources",
                file: self.file.to_path_buf(),
                line: line_of(path.span()),
                message: format!(
                    "module {} defines {} {name} in its implementation crate",
                    self.module,
                    kind.noun()
                ),
                hint: "events and commands are part of a module's published contract: declare them in its -api crate",
            });
        }
        visit::visit_item_impl(self, i);
    }

    fn visit_expr_path(&mut self, p: &'ast ExprPath) {
        if let Some(segments) = event_type_constant(p) {
            self.check(segments, line_of(p.span()));
        }
        visit::visit_expr_path(self, p);
    }

    fn visit_expr_method_call(&mut self, m: &'ast ExprMethodCall) {
        if (m.method == "decode" || m.method == "is")
            && let Some(turbofish) = &m.turbofish
        {
            for arg in &turbofish.args {
                if let GenericArgument::Type(Type::Path(t)) = arg {
                    let segments = t
                        .path
                        .segments
                        .iter()
                        .map(|s| s.ident.to_string())
                        .collect();
                    self.check(segments, line_of(t.span()));
                }
            }
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        // `matches!(…, X::TYPE)` and friends.
        visit_macro_args(self, mac);
    }
}

/// True when a token tree mentions identifier `name` anywhere.
fn mentions(t: &proc_macro2::TokenTree, name: &str) -> bool {
    match t {
        proc_macro2::TokenTree::Ident(i) => i == name,
        proc_macro2::TokenTree::Group(g) => g.stream().into_iter().any(|t| mentions(&t, name)),
        _ => false,
    }
}

/// String literals with their lines.
struct StringLiterals(Vec<(String, usize)>);

impl<'ast> Visit<'ast> for StringLiterals {
    fn visit_lit_str(&mut self, lit: &'ast LitStr) {
        self.0.push((lit.value(), line_of(lit.span())));
    }
}

/// Rule 5: events handled by a module come from `-api` crates, and it defines none itself.
pub fn event_sources(ws: &Workspace) -> Vec<Violation> {
    let mut out = Vec::new();
    let api_crates: BTreeSet<String> = ws
        .modules
        .iter()
        .map(|m| m.api_crate().replace('-', "_"))
        .collect();
    for module in &ws.modules {
        for file in rust_files(&module.dir.join("src")) {
            let rel = ws.relative(&file);
            match parse(&file) {
                Ok(parsed) => {
                    let mut v = EventUse {
                        module: &module.name,
                        imports: imports(&parsed),
                        api_crates: &api_crates,
                        file: &rel,
                        out: &mut out,
                    };
                    v.visit_file(&parsed);
                }
                Err(e) => out.push(unreadable(&rel, &e)),
            }
        }
    }
    out
}
