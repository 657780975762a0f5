//! The workspace as the rules see it: modules (impl crate, `-api` crate, schema folder), every
//! crate with its dependencies (from `cargo metadata`), and the kernel's per-module tables.

use std::path::{Path, PathBuf};

use crate::sql::{SqlObject, scan_sql};

/// A domain module: `modules/<name>` (crate `<name>`), `modules/<name>/api` (crate `<name>-api`),
/// `schemas/<name>/` (its migrations).
#[derive(Clone, Debug)]
pub struct Module {
    /// The module's name, which is also its impl crate's name and its database's name.
    pub name: String,
    /// `modules/<name>`, absolute.
    pub dir: PathBuf,
    /// `modules/<name>/api`, absolute.
    pub api_dir: PathBuf,
    /// `schemas/<name>`, absolute.
    pub schema_dir: PathBuf,
}

impl Module {
    /// The public face's crate name.
    pub fn api_crate(&self) -> String {
        format!("{}-api", self.name)
    }
}

/// How a dependency is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

/// One declared dependency.
#[derive(Clone, Debug)]
pub struct Dependency {
    /// The crate depended on.
    pub name: String,
    /// Normal, dev or build.
    pub kind: DependencyKind,
    /// Where the manifest names it.
    pub line: usize,
}

/// A crate of the workspace.
#[derive(Clone, Debug)]
pub struct CrateInfo {
    /// Package name.
    pub name: String,
    /// Manifest path, relative to the workspace root.
    pub manifest: PathBuf,
    /// Declared dependencies.
    pub deps: Vec<Dependency>,
    /// `[package.metadata.architecture] exports`, when declared.
    pub exports: Option<Vec<String>>,
}

/// Everything the rules read.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root, absolute.
    pub root: PathBuf,
    /// Domain modules, sorted by name.
    pub modules: Vec<Module>,
    /// Every workspace member.
    pub crates: Vec<CrateInfo>,
    /// Tables the kernel creates in every module database (`schemas/kernel`).
    pub kernel_tables: Vec<SqlObject>,
}

impl Workspace {
    /// Loads the workspace whose root manifest is `root/Cargo.toml`.
    pub fn load(root: &Path) -> Result<Workspace, String> {
        let root = root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", root.display()))?;
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(root.join("Cargo.toml"))
            .no_deps()
            .exec()
            .map_err(|e| format!("cargo metadata: {e}"))?;
        let mut crates = Vec::new();
        for package in metadata.workspace_packages() {
            let manifest = PathBuf::from(package.manifest_path.as_std_path());
            let text = std::fs::read_to_string(&manifest).unwrap_or_default();
            let deps = package
                .dependencies
                .iter()
                .map(|d| {
                    // Identified by package name, so `alias = { package = "payments" }` is still
                    // payments; the manifest names it by its alias.
                    let name = d.name.clone();
                    let key = d.rename.as_deref().unwrap_or(&d.name);
                    Dependency {
                        line: manifest_line(&text, key),
                        kind: match d.kind {
                            cargo_metadata::DependencyKind::Development => DependencyKind::Dev,
                            cargo_metadata::DependencyKind::Build => DependencyKind::Build,
                            _ => DependencyKind::Normal,
                        },
                        name,
                    }
                })
                .collect();
            let exports = package
                .metadata
                .get("architecture")
                .and_then(|a| a.get("exports"))
                .and_then(|e| e.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                });
            crates.push(CrateInfo {
                name: package.name.to_string(),
                manifest: manifest
                    .strip_prefix(&root)
                    .map(Path::to_path_buf)
                    .unwrap_or(manifest),
                deps,
                exports,
            });
        }
        crates.sort_by(|a, b| a.name.cmp(&b.name));

        let mut modules = Vec::new();
        if let Ok(entries) = std::fs::read_dir(root.join("modules")) {
            for entry in entries.flatten() {
                let dir = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name == "kernel" || !dir.join("Cargo.toml").is_file() {
                    continue;
                }
                modules.push(Module {
                    api_dir: dir.join("api"),
                    schema_dir: root.join("schemas").join(&name),
                    dir,
                    name,
                });
            }
        }
        modules.sort_by(|a, b| a.name.cmp(&b.name));

        let mut kernel_tables = Vec::new();
        for file in sql_files(&root.join("schemas").join("kernel")) {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let scan = scan_sql(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            kernel_tables.extend(scan.declared);
        }
        Ok(Workspace {
            root,
            modules,
            crates,
            kernel_tables,
        })
    }

    /// `path` relative to the root, for messages.
    pub fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }

    /// The module whose impl crate is `name`.
    pub fn module_by_impl(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// The module whose `-api` crate is `name`.
    pub fn module_by_api(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.api_crate() == name)
    }

    /// A crate by name.
    pub fn crate_named(&self, name: &str) -> Option<&CrateInfo> {
        self.crates.iter().find(|c| c.name == name)
    }
}

/// The first line of a manifest that declares `name` as a dependency (0 when not found).
fn manifest_line(text: &str, name: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("{name} "))
                || l.starts_with(&format!("{name}."))
                || l.starts_with(&format!("{name}="))
        })
        .map_or(0, |i| i + 1)
}

/// The `.sql` files of a folder, sorted.
pub(crate) fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
