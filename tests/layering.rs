//! The layers stay apart: SQL and `rusqlite` live in `src/store/` only
//! (the controller holds the database as `store::Db` / `store::Tx`), and the
//! front ends (`src/gui/`, `src/cli/`) reach the data through the
//! controller, never the store. A text check over `src/`, so a new file
//! or a stray `use` fails here with its path and line.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`, with its path relative to the crate root
/// (`/`-separated).
fn rust_files(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(ROOT)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
            out.push((rel, text));
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    rust_files(&Path::new(ROOT).join("src"), &mut out);
    assert!(
        out.len() > 50 && out.iter().any(|(p, _)| p == "src/store/mod.rs"),
        "the walk over src/ found too little: {} files",
        out.len()
    );
    out
}

/// `file:line: text` of every line of the matching files that `hit` flags.
fn offending(
    files: &[(String, String)],
    in_scope: impl Fn(&str) -> bool,
    hit: impl Fn(&str) -> bool,
) -> Vec<String> {
    files
        .iter()
        .filter(|(path, _)| in_scope(path))
        .flat_map(|(path, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, line)| hit(line))
                .map(move |(n, line)| format!("{path}:{}: {}", n + 1, line.trim()))
        })
        .collect()
}

/// Whether `line` uses `store::` as a path (`store::x`, `crate::store::x`),
/// not as part of a longer name (`keystore::`) or a method (`.store(`).
fn names_store_path(line: &str) -> bool {
    line.match_indices("store::").any(|(at, _)| {
        !line[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn rusqlite_is_named_only_in_the_store() {
    let files = sources();
    let bad = offending(
        &files,
        |p| !p.starts_with("src/store/"),
        |l| l.contains("rusqlite"),
    );
    assert!(
        bad.is_empty(),
        "rusqlite outside src/store/ (give the store a typed function instead):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_raw_connection_is_for_tests_only() {
    let files = sources();
    let bad = offending(
        &files,
        |p| !p.starts_with("src/store/"),
        |l| l.contains("raw_connection"),
    );
    assert!(
        bad.is_empty(),
        "Store::raw_connection used by the program (it is for tests):\n{}",
        bad.join("\n")
    );
}

#[test]
fn front_ends_do_not_reach_the_store() {
    let files = sources();
    let bad = offending(
        &files,
        |p| p.starts_with("src/gui/") || p.starts_with("src/cli/"),
        |l| l.contains("crate::store") || l.contains("sealtag::store") || names_store_path(l),
    );
    assert!(
        bad.is_empty(),
        "the GUI or CLI names the store (go through a controller Session method):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_store_path_check_tells_paths_from_names() {
    assert!(names_store_path("use crate::store::{self, Db};"));
    assert!(names_store_path("    store::list_users(conn)"));
    assert!(!names_store_path("done.store(true, Ordering::SeqCst);"));
    assert!(!names_store_path("keystore::open()"));
}
