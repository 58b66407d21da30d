//! Supply-chain records for the Debian package, read from `cargo metadata`:
//! which packages the binary is built from ([`Metadata::shipped`]), the
//! CycloneDX SBOM ([`sbom`]) and their licence texts ([`licenses`]).
//!
//! Input is the JSON of `cargo metadata --format-version 1 --locked
//! --filter-platform TRIPLE` (the platform filter keeps what is built for
//! that target; without it cargo lists Windows and macOS crates too).
//! Dev-dependencies are left out: they build the tests, not the binary.

pub mod licenses;
pub mod sbom;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PackagingError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cargo metadata: {0}")]
    Metadata(String),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PackagingError + '_ {
    move |source| PackagingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One package of the resolved build.
#[derive(Debug, Clone)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The SPDX expression from its Cargo.toml, as written.
    pub license: Option<String>,
    pub license_file: Option<String>,
    pub description: Option<String>,
    pub repository: Option<String>,
    pub authors: Vec<String>,
    /// Where its sources are (registry cache, `vendor/`, or the checkout).
    pub manifest_dir: PathBuf,
    /// `None` for the local package.
    pub source: Option<String>,
    /// A procedural macro: runs in the compiler, is not linked.
    pub proc_macro: bool,
    /// Features enabled in this build.
    pub features: Vec<String>,
}

/// How a package takes part in the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Linked into the binary.
    Runtime,
    /// Only runs while building (build scripts, procedural macros, and what
    /// they use).
    Build,
}

#[derive(Debug, Clone)]
struct Edge {
    to: String,
    normal: bool,
}

/// The resolved dependency graph of one root package.
#[derive(Debug, Clone)]
pub struct Metadata {
    packages: BTreeMap<String, Package>,
    /// Normal and build edges (dev-only edges dropped).
    edges: BTreeMap<String, Vec<Edge>>,
    root: String,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Metadata {
    pub fn read(path: &Path) -> Result<Self, PackagingError> {
        let json = std::fs::read_to_string(path).map_err(io_err(path))?;
        Self::parse(&json)
    }

    pub fn parse(json: &str) -> Result<Self, PackagingError> {
        let bad = |what: &str| PackagingError::Metadata(what.to_owned());
        let v: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
        let resolve = v
            .get("resolve")
            .filter(|r| !r.is_null())
            .ok_or_else(|| bad("no `resolve` (run it without --no-deps)"))?;
        let root = text(resolve, "root").ok_or_else(|| bad("no root package"))?;
        let mut features: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut edges = BTreeMap::new();
        for node in resolve["nodes"].as_array().ok_or_else(|| bad("no nodes"))? {
            let id = text(node, "id").ok_or_else(|| bad("node without id"))?;
            let mut out = Vec::new();
            for dep in node["deps"].as_array().into_iter().flatten() {
                let Some(to) = text(dep, "pkg") else { continue };
                let kinds: Vec<Option<&str>> = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|k| k["kind"].as_str())
                    .collect();
                let normal = kinds.iter().any(Option::is_none);
                let build = kinds.contains(&Some("build"));
                if normal || build {
                    out.push(Edge { to, normal });
                }
            }
            features.insert(
                id.clone(),
                node["features"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect(),
            );
            edges.insert(id, out);
        }
        let mut packages = BTreeMap::new();
        for p in v["packages"].as_array().ok_or_else(|| bad("no packages"))? {
            let id = text(p, "id").ok_or_else(|| bad("package without id"))?;
            let manifest = text(p, "manifest_path").ok_or_else(|| bad("no manifest_path"))?;
            let package = Package {
                name: text(p, "name").ok_or_else(|| bad("package without name"))?,
                version: text(p, "version").ok_or_else(|| bad("package without version"))?,
                license: text(p, "license"),
                license_file: text(p, "license_file"),
                description: text(p, "description"),
                repository: text(p, "repository"),
                authors: p["authors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                manifest_dir: Path::new(&manifest)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                source: text(p, "source"),
                proc_macro: p["targets"].as_array().into_iter().flatten().any(|t| {
                    t["kind"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|k| k == "proc-macro")
                }),
                features: features.get(&id).cloned().unwrap_or_default(),
                id: id.clone(),
            };
            packages.insert(id, package);
        }
        if !packages.contains_key(&root) {
            return Err(bad("root package missing from packages"));
        }
        Ok(Self {
            packages,
            edges,
            root,
        })
    }

    pub fn root(&self) -> &Package {
        &self.packages[&self.root]
    }

    /// Every package in the metadata, root and dev-dependencies included
    /// (what the licence policy checks).
    pub fn all(&self) -> impl Iterator<Item = &Package> {
        self.packages.values()
    }

    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.get(id)
    }

    /// The packages the root's build uses, without the root and without
    /// dev-dependencies, sorted by name and version, each with whether it is
    /// linked into the binary or only runs while building.
    pub fn shipped(&self) -> Vec<(&Package, Scope)> {
        let build_set = self.reachable(false);
        let runtime_set = self.reachable(true);
        let mut out: Vec<(&Package, Scope)> = build_set
            .iter()
            .filter(|id| **id != self.root)
            .filter_map(|id| self.packages.get(*id))
            .map(|p| {
                let scope = if runtime_set.contains(p.id.as_str()) {
                    Scope::Runtime
                } else {
                    Scope::Build
                };
                (p, scope)
            })
            .collect();
        out.sort_by(|a, b| (&a.0.name, &a.0.version).cmp(&(&b.0.name, &b.0.version)));
        out
    }

    /// The dependencies of `id` that are in the build (normal or build
    /// edges), sorted.
    pub fn deps_of(&self, id: &str) -> Vec<&Package> {
        let mut deps: Vec<&Package> = self
            .edges
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|e| self.packages.get(&e.to))
            .collect();
        deps.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        deps.dedup_by(|a, b| a.id == b.id);
        deps
    }

    /// From the root: along normal and build edges, or (`runtime_only`)
    /// along normal edges into non-macro packages only.
    fn reachable(&self, runtime_only: bool) -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([self.root.as_str()]);
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            for e in self.edges.get(id).into_iter().flatten() {
                if runtime_only
                    && (!e.normal || self.packages.get(&e.to).is_none_or(|p| p.proc_macro))
                {
                    continue;
                }
                queue.push_back(e.to.as_str());
            }
        }
        seen
    }
}

/// A Cargo `license` field as a valid SPDX expression: the legacy `/`
/// separator (`MIT/Apache-2.0`) means OR.
pub fn spdx_expression(license: &str) -> String {
    license
        .split('/')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" OR ")
}
