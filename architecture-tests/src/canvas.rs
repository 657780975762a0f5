//! The module canvas, generated from the code: for each module, its database and tables (from its
//! schema files), the events it publishes (its `-api` crate's integration events), the commands it
//! accepts (its `-api` crate's commands) and sends (other `-api` crates' commands it names), the
//! events it consumes (the `-api` event types its implementation handles), the API traits it
//! offers and uses, and the crates it may depend on. The committed `docs/architecture.json` must equal what
//! this produces; the app renders it as Markdown, Mermaid and an admin page.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use syn::{
    Item, ItemImpl, ItemMacro,
    visit::{self, Visit},
};

use crate::{
    Workspace,
    rust::{
        MessageKind, event_type_constant, message_impl, message_macro, parse, rust_files,
        visit_macro_args,
    },
    sql::{Schema, scan_sql},
    workspace::{DependencyKind, sql_files},
};

/// The whole canvas.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Canvas {
    /// Tables the kernel adds to every module database.
    pub kernel_tables: Vec<String>,
    /// Each module, by name.
    pub modules: Vec<ModuleCanvas>,
}

/// One module.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ModuleCanvas {
    /// Its name (also its event stream's name).
    pub name: String,
    /// Its own database file.
    pub database: String,
    /// Tables, views, indexes and triggers its schema declares, as `kind name`.
    pub schema: Vec<String>,
    /// Its implementation crate's exports (its facade).
    pub facade: Vec<String>,
    /// Integration events its `-api` crate defines.
    pub publishes: Vec<String>,
    /// Commands its `-api` crate defines and it carries out, for whoever sends them.
    pub accepts: Vec<String>,
    /// Commands of other modules' `-api` crates it sends, by crate.
    pub sends: BTreeMap<String, Vec<String>>,
    /// Events it handles, by producer stream.
    pub consumes: BTreeMap<String, Vec<String>>,
    /// Traits of its `-api` crate that it implements.
    pub offers: Vec<String>,
    /// Traits of other `-api` crates it calls, by crate.
    pub uses: BTreeMap<String, Vec<String>>,
    /// Workspace crates its implementation depends on (normal dependencies).
    pub depends_on: Vec<String>,
}

#[derive(Default)]
struct ApiFacts {
    events: BTreeSet<String>,
    commands: BTreeSet<String>,
    traits: BTreeSet<String>,
}

impl ApiFacts {
    fn record(&mut self, kind: MessageKind, name: String) {
        match kind {
            MessageKind::Event => self.events.insert(name),
            MessageKind::Command => self.commands.insert(name),
        };
    }
}

impl<'ast> Visit<'ast> for ApiFacts {
    fn visit_item_impl(&mut self, i: &'ast ItemImpl) {
        if let Some((_, name, kind)) = message_impl(i) {
            self.record(kind, name);
        }
        visit::visit_item_impl(self, i);
    }

    fn visit_item_macro(&mut self, m: &'ast ItemMacro) {
        // `kernel::integration_event!(Name, id_field);`, `kernel::command!(Name, id_field);`
        if let Some((kind, name)) = message_macro(&m.mac) {
            self.record(kind, name);
        }
    }

    fn visit_item(&mut self, item: &'ast Item) {
        if let Item::Trait(t) = item
            && matches!(t.vis, syn::Visibility::Public(_))
        {
            self.traits.insert(t.ident.to_string());
        }
        visit::visit_item(self, item);
    }
}

/// Identifiers an implementation crate names, and the traits it implements.
#[derive(Default)]
struct ImplFacts {
    idents: BTreeSet<String>,
    implemented: BTreeSet<String>,
    type_refs: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for ImplFacts {
    fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
        self.idents.insert(i.to_string());
    }

    fn visit_item_impl(&mut self, i: &'ast ItemImpl) {
        if let Some((_, path, _)) = &i.trait_
            && let Some(last) = path.segments.last()
        {
            self.implemented.insert(last.ident.to_string());
        }
        visit::visit_item_impl(self, i);
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(ty) = event_type_constant(p).and_then(|mut s| s.pop()) {
            self.type_refs.insert(ty);
        }
        visit::visit_expr_path(self, p);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit_macro_args(self, mac);
        visit::visit_macro(self, mac);
    }
}

/// Builds the canvas of `ws`.
pub fn canvas(ws: &Workspace) -> Result<Canvas, String> {
    let mut api = BTreeMap::new();
    for module in &ws.modules {
        let mut facts = ApiFacts::default();
        for file in rust_files(&module.api_dir.join("src")) {
            facts.visit_file(&parse(&file)?);
        }
        api.insert(module.name.clone(), facts);
    }
    let mut kernel_tables: Vec<String> = ws
        .kernel_tables
        .iter()
        .map(|t| format!("{} {}", format!("{:?}", t.kind).to_lowercase(), t.name))
        .collect();
    kernel_tables.sort();
    kernel_tables.dedup();

    let mut modules = Vec::new();
    for module in &ws.modules {
        // The schema its migrations leave, applied in order (a rebuilt table once).
        let mut applied = Schema::default();
        for file in sql_files(&module.schema_dir) {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let scan = scan_sql(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            for change in &scan.changes {
                let _ = applied.apply(change);
            }
        }
        let schema: Vec<String> = applied
            .objects()
            .map(|d| format!("{} {}", format!("{:?}", d.kind).to_lowercase(), d.name))
            .collect();
        let mut facts = ImplFacts::default();
        for file in rust_files(&module.dir.join("src")) {
            facts.visit_file(&parse(&file)?);
        }
        let mut consumes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut uses: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut sends: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (other, other_api) in &api {
            if *other == module.name {
                continue;
            }
            let sent: Vec<String> = other_api
                .commands
                .iter()
                .filter(|c| facts.idents.contains(*c))
                .cloned()
                .collect();
            if !sent.is_empty() {
                sends.insert(format!("{other}-api"), sent);
            }
            let handled: Vec<String> = other_api
                .events
                .iter()
                .filter(|e| facts.type_refs.contains(*e))
                .cloned()
                .collect();
            if !handled.is_empty() {
                consumes.insert(other.clone(), handled);
            }
            let called: Vec<String> = other_api
                .traits
                .iter()
                .filter(|t| facts.idents.contains(*t))
                .cloned()
                .collect();
            if !called.is_empty() {
                uses.insert(format!("{other}-api"), called);
            }
        }
        let own = &api[&module.name];
        let krate = ws.crate_named(&module.name);
        let mut depends_on: Vec<String> = krate
            .map(|c| {
                c.deps
                    .iter()
                    .filter(|d| {
                        d.kind == DependencyKind::Normal && ws.crate_named(&d.name).is_some()
                    })
                    .map(|d| d.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        depends_on.sort();
        modules.push(ModuleCanvas {
            name: module.name.clone(),
            database: format!("{}.db", module.name),
            schema,
            facade: krate.and_then(|c| c.exports.clone()).unwrap_or_default(),
            publishes: own.events.iter().cloned().collect(),
            accepts: own
                .commands
                .iter()
                .filter(|c| facts.type_refs.contains(*c))
                .cloned()
                .collect(),
            sends,
            consumes,
            offers: own
                .traits
                .iter()
                .filter(|t| facts.implemented.contains(*t))
                .cloned()
                .collect(),
            uses,
            depends_on,
        });
    }
    Ok(Canvas {
        kernel_tables,
        modules,
    })
}
