//! Licence texts of every package the binary is built from, copied from
//! their sources (registry cache or `vendor/`): `OUT/NAME-VERSION/…` keeps
//! each file's path inside the crate, so C sources' own licences
//! (`openssl-src/openssl/LICENSE.txt`, SQLCipher's) and bundled fonts' (OFL)
//! come along. A crate that ships no licence file gets a note naming its
//! declared licence instead. `OUT/INDEX` lists every package.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Metadata, Package, PackagingError, Scope, io_err, spdx_expression};

pub struct Report {
    pub packages: usize,
    pub files: usize,
    /// `NAME-VERSION` of packages whose crate has no licence file.
    pub without_file: Vec<String>,
}

/// The note written for a crate without a licence file.
pub const NOTE_NAME: &str = "NO-LICENSE-FILE";

/// File names that carry licence terms.
pub fn is_licence_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let code = [
        ".RS", ".C", ".H", ".CC", ".CPP", ".PY", ".TOML", ".JSON", ".YML", ".YAML", ".SH", ".JS",
        ".TS", ".GO", ".IN", ".PL", ".PM", ".HTML",
    ];
    if code.iter().any(|ext| upper.ends_with(ext)) {
        return false;
    }
    [
        "LICENSE",
        "LICENCE",
        "COPYING",
        "COPYRIGHT",
        "NOTICE",
        "UNLICENSE",
        "OFL",
        "UFL",
    ]
    .iter()
    .any(|p| upper.starts_with(p))
}

/// Folders not searched: tests, examples and build output.
fn skipped_dir(name: &str, root_package: bool) -> bool {
    matches!(
        name,
        "tests" | "test" | "examples" | "benches" | "fuzz" | ".git" | ".github"
    ) || (root_package && matches!(name, "target" | "vendor"))
}

/// Licence files of one crate, relative to its folder, sorted; folders are
/// searched three levels deep, symbolic links are not followed.
pub fn licence_files(dir: &Path, root_package: bool) -> Result<Vec<PathBuf>, PackagingError> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), 0, root_package, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(
    base: &Path,
    rel: &Path,
    depth: usize,
    root_package: bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), PackagingError> {
    let dir = base.join(rel);
    for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let kind = entry.file_type().map_err(io_err(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() && depth < 3 && !skipped_dir(&name, root_package) {
            walk(base, &rel.join(&name), depth + 1, root_package, out)?;
        } else if kind.is_file() && is_licence_file(&name) {
            out.push(rel.join(&name));
        }
    }
    Ok(())
}

fn note(p: &Package) -> String {
    let expr = p.license.as_deref().map(spdx_expression);
    let mut s = format!(
        "{} {} ships no licence file in its published crate.\n\nDeclared licence (its Cargo.toml): {}\n",
        p.name,
        p.version,
        expr.as_deref().unwrap_or("none declared")
    );
    if !p.authors.is_empty() {
        let _ = writeln!(
            s,
            "Authors (the copyright holders): {}",
            p.authors.join(", ")
        );
    }
    if let Some(r) = &p.repository {
        let _ = writeln!(s, "Repository: {r}");
    }
    s.push_str(
        "\nThe standard texts of Apache-2.0 and MPL-2.0 are in /usr/share/common-licenses/ on Debian and Ubuntu;\n\
         the MIT licence text is in the folders of the other MIT-licensed crates here.\n",
    );
    s
}

/// Copies the licence files of the root and every shipped package into
/// `out` and writes `out/INDEX`.
pub fn collect(meta: &Metadata, out: &Path) -> Result<Report, PackagingError> {
    let mut packages: Vec<(&Package, Option<Scope>)> = vec![(meta.root(), None)];
    packages.extend(meta.shipped().into_iter().map(|(p, s)| (p, Some(s))));
    let mut index = String::from(
        "# Licences of every package in this build: name, version, declared SPDX expression,\n\
         # linked into the binary or build-time only, files copied (folder NAME-VERSION/).\n",
    );
    let mut report = Report {
        packages: packages.len(),
        files: 0,
        without_file: Vec::new(),
    };
    for (p, scope) in packages {
        let folder = format!("{}-{}", p.name, p.version);
        let dest = out.join(&folder);
        std::fs::create_dir_all(&dest).map_err(io_err(&dest))?;
        let mut files = licence_files(&p.manifest_dir, scope.is_none())?;
        if let Some(f) = &p.license_file {
            let f = PathBuf::from(f);
            let rel = f.strip_prefix(&p.manifest_dir).unwrap_or(&f).to_path_buf();
            if rel.is_relative() && !files.contains(&rel) && p.manifest_dir.join(&rel).is_file() {
                files.push(rel);
            }
        }
        for rel in &files {
            let to = dest.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let from = p.manifest_dir.join(rel);
            std::fs::copy(&from, &to).map_err(io_err(&from))?;
        }
        report.files += files.len();
        let listed = if files.is_empty() {
            let path = dest.join(NOTE_NAME);
            std::fs::write(&path, note(p)).map_err(io_err(&path))?;
            report.without_file.push(folder.clone());
            format!("(none: see {NOTE_NAME})")
        } else {
            files
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(
            index,
            "{folder}\t{}\t{}\t{listed}",
            p.license
                .as_deref()
                .map(spdx_expression)
                .unwrap_or_else(|| "-".into()),
            match scope {
                None => "this program",
                Some(Scope::Runtime) => "linked",
                Some(Scope::Build) => "build-time only",
            }
        );
    }
    let path = out.join("INDEX");
    std::fs::write(&path, index).map_err(io_err(&path))?;
    Ok(report)
}
