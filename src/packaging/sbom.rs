//! The CycloneDX 1.5 JSON SBOM: the root application, every package the
//! binary is built from (purl `pkg:cargo/NAME@VERSION`, SPDX licence
//! expression, the SHA-256 of the `.crate` file from Cargo.lock), the C
//! libraries compiled in from source (OpenSSL, SQLCipher, SQLite, with CPEs
//! for vulnerability scanners), and the dependency graph.
//!
//! Deterministic: the same metadata, lock file and `SOURCE_DATE_EPOCH` give
//! the same bytes (no random serial number, no wall-clock time).

use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Metadata, Package, PackagingError, Scope, spdx_expression};

/// `(name, version)` → SHA-256 hex of the published `.crate` file.
pub type Checksums = BTreeMap<(String, String), String>;

/// Reads the `checksum` of every `[[package]]` in a Cargo.lock (version 3
/// or 4 format).
pub fn parse_lock_checksums(lock: &str) -> Checksums {
    let mut out = Checksums::new();
    let (mut name, mut version, mut sum) = (None, None, None);
    let mut flush =
        |name: &mut Option<String>, version: &mut Option<String>, sum: &mut Option<String>| {
            if let (Some(n), Some(v), Some(s)) = (name.take(), version.take(), sum.take()) {
                out.insert((n, v), s);
            }
            *name = None;
            *version = None;
            *sum = None;
        };
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            flush(&mut name, &mut version, &mut sum);
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let value = value.trim_matches('"').to_owned();
        match key {
            "name" => name = Some(value),
            "version" => version = Some(value),
            "checksum" => sum = Some(value),
            _ => {}
        }
    }
    flush(&mut name, &mut version, &mut sum);
    out
}

pub struct Options {
    /// SHA-256 of the built binary, recorded on the root component.
    pub binary_sha256: Option<String>,
    /// `SOURCE_DATE_EPOCH`: the BOM's timestamp (omitted when `None`).
    pub timestamp_unix: Option<i64>,
}

/// Package URL of a crate; `+` (build metadata) is percent-encoded.
pub fn purl(name: &str, version: &str) -> String {
    format!("pkg:cargo/{name}@{}", version.replace('+', "%2B"))
}

fn licenses(p: &Package) -> Value {
    match (&p.license, &p.license_file) {
        (Some(l), _) => json!([{ "expression": spdx_expression(l) }]),
        (None, Some(f)) => json!([{ "license": { "name": format!("see {f} in the crate") } }]),
        (None, None) => json!([]),
    }
}

fn component(p: &Package, scope: Scope, sums: &Checksums) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": purl(&p.name, &p.version),
        "name": p.name,
        "version": p.version,
        "scope": match scope { Scope::Runtime => "required", Scope::Build => "excluded" },
        "purl": purl(&p.name, &p.version),
        "licenses": licenses(p),
    });
    if let Some(d) = &p.description {
        c["description"] = json!(d.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if let Some(sum) = sums.get(&(p.name.clone(), p.version.clone())) {
        c["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
    }
    if let Some(r) = &p.repository {
        c["externalReferences"] = json!([{ "type": "vcs", "url": r }]);
    }
    if scope == Scope::Build {
        c["properties"] = json!([{ "name": "cdx:cargo:scope", "value": "build-time only (build script or procedural macro); not linked" }]);
    }
    c
}

/// A C library compiled from sources inside a `*-src` crate and linked
/// statically: its own component, with a CPE.
struct Embedded {
    name: &'static str,
    version: String,
    cpe_vendor: &'static str,
    license: &'static str,
    description: &'static str,
}

impl Embedded {
    fn bom_ref(&self) -> String {
        format!("pkg:generic/{}@{}", self.name, self.version)
    }

    fn component(&self, inside: &Package) -> Value {
        json!({
            "type": "library",
            "bom-ref": self.bom_ref(),
            "name": self.name,
            "version": self.version,
            "scope": "required",
            "purl": self.bom_ref(),
            "cpe": format!("cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*", self.cpe_vendor, self.name, self.version),
            "licenses": [{ "expression": self.license }],
            "description": format!("{}; C sources shipped in the crate {} {}, compiled and linked statically", self.description, inside.name, inside.version),
        })
    }
}

/// The C libraries carried by a crate, read from its version's build
/// metadata (`openssl-src 300.6.1+3.6.3`, `sqlcipher-src
/// 420.0.0+sqlcipher-4.20.0-sqlite-3.54.1-libtomcrypt-1.18.2`).
fn embedded_in(p: &Package, meta: &Metadata) -> Vec<Embedded> {
    let Some((_, build)) = p.version.split_once('+') else {
        return Vec::new();
    };
    match p.name.as_str() {
        "openssl-src" => vec![Embedded {
            name: "openssl",
            version: build.to_owned(),
            cpe_vendor: "openssl",
            license: "Apache-2.0",
            description: "OpenSSL libcrypto (SQLCipher's cipher provider)",
        }],
        "sqlcipher-src" => {
            let parts: Vec<&str> = build.split('-').collect();
            let after = |key: &str| {
                parts
                    .windows(2)
                    .find(|w| w[0] == key)
                    .map(|w| w[1].to_owned())
            };
            // libtomcrypt is compiled only when SQLCipher does not use OpenSSL.
            let with_openssl = meta.all().any(|q| {
                q.name == "libsqlite3-sys" && q.features.iter().any(|f| f.contains("openssl"))
            });
            let mut out = Vec::new();
            if let Some(v) = after("sqlcipher") {
                out.push(Embedded {
                    name: "sqlcipher",
                    version: v,
                    cpe_vendor: "zetetic",
                    license: "BSD-3-Clause",
                    description: "SQLCipher, the encrypted SQLite",
                });
            }
            if let Some(v) = after("sqlite") {
                out.push(Embedded {
                    name: "sqlite",
                    version: v,
                    cpe_vendor: "sqlite",
                    license: "blessing",
                    description: "SQLite (the amalgamation SQLCipher is built on)",
                });
            }
            if !with_openssl && let Some(v) = after("libtomcrypt") {
                out.push(Embedded {
                    name: "libtomcrypt",
                    version: v,
                    cpe_vendor: "libtom",
                    license: "Unlicense OR WTFPL",
                    description: "LibTomCrypt (SQLCipher's cipher provider)",
                });
            }
            out
        }
        _ => Vec::new(),
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The SBOM as a JSON value.
pub fn cyclonedx(
    meta: &Metadata,
    sums: &Checksums,
    opts: &Options,
) -> Result<Value, PackagingError> {
    let root = meta.root();
    let shipped = meta.shipped();
    let mut root_c = json!({
        "type": "application",
        "bom-ref": purl(&root.name, &root.version),
        "name": root.name,
        "version": root.version,
        "purl": purl(&root.name, &root.version),
        "licenses": licenses(root),
    });
    if let Some(d) = &root.description {
        root_c["description"] = json!(d);
    }
    if let Some(h) = &opts.binary_sha256 {
        root_c["hashes"] = json!([{ "alg": "SHA-256", "content": h }]);
    }
    let mut metadata = json!({
        "tools": { "components": [{
            "type": "application",
            "name": "sealtag generate sbom",
            "version": env!("CARGO_PKG_VERSION"),
        }]},
        "component": root_c,
        "properties": [
            { "name": "sealtag:features", "value": root.features.join(",") },
        ],
    });
    if let Some(t) = opts.timestamp_unix.and_then(rfc3339) {
        metadata["timestamp"] = json!(t);
    }

    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let dep_refs = |id: &str| -> Vec<String> {
        meta.deps_of(id)
            .into_iter()
            .map(|d| purl(&d.name, &d.version))
            .collect()
    };
    dependencies
        .push(json!({ "ref": purl(&root.name, &root.version), "dependsOn": dep_refs(&root.id) }));
    for (p, scope) in &shipped {
        components.push(component(p, *scope, sums));
        let mut refs = dep_refs(&p.id);
        for e in embedded_in(p, meta) {
            refs.push(e.bom_ref());
            components.push(e.component(p));
            dependencies.push(json!({ "ref": e.bom_ref(), "dependsOn": [] }));
        }
        dependencies.push(json!({ "ref": purl(&p.name, &p.version), "dependsOn": refs }));
    }
    if components.is_empty() {
        return Err(PackagingError::Metadata("no dependencies found".into()));
    }
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    }))
}
