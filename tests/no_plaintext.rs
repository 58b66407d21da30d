//! "No plaintext on disk": a whole CLI session (identity, project, import of
//! every fixture kind, labelling, listing, integrity check, audit verify) runs
//! with its home, bundle and TMPDIR inside one temp dir; afterwards every file
//! under that dir is searched for canaries taken from the imported files and
//! for the passphrase. Any hit means sensitive content reached the disk
//! unencrypted.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::{Env, assert_success, files_in, fixture, walk_files};

/// Length of the byte windows taken from media files.
const WINDOW: usize = 32;
/// A media window must hold at least this many distinct byte values.
const MIN_DISTINCT_BYTES: usize = 8;
/// Length (in chars) of the text canaries.
const TEXT_CHARS: usize = 20;
/// A text canary must hold at least this many distinct non-space chars.
const MIN_DISTINCT_CHARS: usize = 8;

const IMAGE_EXT: &[&str] = &["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "gif"];
const AUDIO_EXT: &[&str] = &["wav", "flac", "ogg", "mp3"];

/// A byte string that must never appear on disk, and where it came from.
#[derive(Clone, Debug)]
struct Canary {
    origin: String,
    bytes: Vec<u8>,
}

impl Canary {
    fn show(&self) -> String {
        match std::str::from_utf8(&self.bytes) {
            Ok(s) => format!("{} = {s:?}", self.origin),
            Err(_) => format!("{} = 0x{}", self.origin, hex::encode(&self.bytes)),
        }
    }
}

#[derive(Debug)]
struct Hit {
    file: PathBuf,
    offset: usize,
    canary: usize,
}

#[derive(Debug, Default)]
struct Scan {
    /// Every regular file looked at, with its size.
    files: Vec<(PathBuf, u64)>,
    links: Vec<PathBuf>,
    bytes: u64,
    hits: Vec<Hit>,
}

/// Searches every regular file under `root` for every canary. Symbolic links
/// are not followed (they are reported in `links`).
fn scan(root: &Path, canaries: &[Canary]) -> Scan {
    // Candidates by their first two bytes: one table look-up per position.
    let mut by_prefix: Vec<Vec<usize>> = vec![Vec::new(); 1 << 16];
    for (i, c) in canaries.iter().enumerate() {
        assert!(c.bytes.len() >= 2, "canary too short: {}", c.show());
        by_prefix[prefix(&c.bytes)].push(i);
    }
    let (files, links) = walk_files(root);
    let mut out = Scan {
        links,
        ..Scan::default()
    };
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        out.bytes += data.len() as u64;
        let mut found = HashSet::new();
        for pos in 0..data.len().saturating_sub(1) {
            for &i in &by_prefix[prefix(&data[pos..])] {
                if !found.contains(&i) && data[pos..].starts_with(&canaries[i].bytes) {
                    found.insert(i);
                    out.hits.push(Hit {
                        file: file.clone(),
                        offset: pos,
                        canary: i,
                    });
                }
            }
        }
        out.files.push((file, data.len() as u64));
    }
    out
}

fn prefix(b: &[u8]) -> usize {
    (usize::from(b[0]) << 8) | usize::from(b[1])
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Three windows of [`WINDOW`] bytes from 25 %, 50 % and 75 % of a media
/// file; each moves forward until it holds [`MIN_DISTINCT_BYTES`] distinct
/// values (silence or flat colour is not a distinctive canary).
fn media_canaries(path: &Path, kind: &str) -> Vec<Canary> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for pct in [25, 50, 75] {
        let mut start = data.len() * pct / 100;
        while start + WINDOW <= data.len() {
            let window = &data[start..start + WINDOW];
            if window.iter().collect::<HashSet<_>>().len() >= MIN_DISTINCT_BYTES {
                out.push(Canary {
                    origin: format!("{kind} {} bytes {start}..{}", name(path), start + WINDOW),
                    bytes: window.to_vec(),
                });
                break;
            }
            start += 1;
        }
    }
    assert_eq!(
        out.len(),
        3,
        "{}: could not find 3 distinctive windows",
        path.display()
    );
    out
}

/// [`TEXT_CHARS`] chars of `text` starting at char `from` (or the first
/// distinctive slice after it); the whole text if it is short but still
/// distinctive.
fn text_slice(text: &str, from: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let distinctive = |s: &[char]| {
        s.iter()
            .filter(|c| !c.is_whitespace())
            .collect::<HashSet<_>>()
            .len()
            >= MIN_DISTINCT_CHARS
    };
    if chars.len() < TEXT_CHARS {
        return (distinctive(&chars) && text.len() >= 16).then(|| text.to_string());
    }
    (from.min(chars.len() - TEXT_CHARS)..=chars.len() - TEXT_CHARS)
        .map(|s| &chars[s..s + TEXT_CHARS])
        .find(|s| distinctive(s))
        .map(|s| s.iter().collect())
}

fn middle_slice(text: &str) -> Option<String> {
    let n = text.chars().count();
    text_slice(text, n.saturating_sub(TEXT_CHARS) / 2)
}

/// Minimal RFC 4180 reader (quoted fields, doubled quotes, embedded newlines).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    rows
}

fn text_canaries(path: &Path) -> Vec<Canary> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = name(path);
    let mut out = Vec::new();
    let mut push = |origin: String, slice: Option<String>| {
        if let Some(s) = slice {
            out.push(Canary {
                origin,
                bytes: s.into_bytes(),
            });
        }
    };
    match extension(path).as_str() {
        "jsonl" => {
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let record: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{file} line {}: {e}", n + 1));
                let body = record["text"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{file} line {}: no text field", n + 1));
                push(format!("text {file} line {}", n + 1), middle_slice(body));
            }
        }
        "csv" => {
            let rows = parse_csv(&text);
            let column = rows[0]
                .iter()
                .position(|c| c == "text")
                .unwrap_or_else(|| panic!("{file}: no text column"));
            for (n, row) in rows.iter().enumerate().skip(1) {
                if let Some(cell) = row.get(column) {
                    push(format!("text {file} row {n}"), middle_slice(cell));
                }
            }
        }
        _ => {
            let n = text.chars().count();
            for pct in [10, 25, 50, 75, 90] {
                push(
                    format!("text {file} {pct}%"),
                    text_slice(&text, n * pct / 100),
                );
            }
        }
    }
    assert!(!out.is_empty(), "{file}: no text canary");
    out
}

fn count_kind(items: &[serde_json::Value], kind: &str) -> usize {
    items.iter().filter(|i| i["kind"] == kind).count()
}

#[test]
fn no_plaintext_reaches_the_disk() {
    let env = Env::new();
    let import_dir = fixture("import");
    let inputs = files_in(&import_dir);

    // ---- canaries, from the very files we import ----
    let mut canaries = Vec::new();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut n_images, mut n_audio, mut n_text_files) = (0, 0, 0);
    for path in &inputs {
        let ext = extension(path);
        let (kind, found) = if IMAGE_EXT.contains(&ext.as_str()) {
            n_images += 1;
            ("image", media_canaries(path, "image"))
        } else if AUDIO_EXT.contains(&ext.as_str()) {
            n_audio += 1;
            ("audio", media_canaries(path, "audio"))
        } else if ["jsonl", "csv", "txt"].contains(&ext.as_str()) {
            n_text_files += 1;
            ("text", text_canaries(path))
        } else {
            panic!(
                "unexpected fixture {}; teach this test its kind",
                path.display()
            );
        };
        *per_kind.entry(kind).or_default() += found.len();
        canaries.extend(found);
    }
    canaries.push(Canary {
        origin: "identity passphrase".into(),
        bytes: env.passphrase.clone().into_bytes(),
    });
    assert!(n_images > 0 && n_audio > 0 && n_text_files > 0);
    assert!(per_kind["text"] >= n_text_files);
    eprintln!(
        "{} canaries: {per_kind:?} + passphrase, from {} fixture files",
        canaries.len(),
        inputs.len()
    );

    for kind in ["image ", "audio ", "text "] {
        if let Some(c) = canaries.iter().find(|c| c.origin.starts_with(kind)) {
            eprintln!("  e.g. {}", c.show());
        }
    }

    // ---- a full session, every process confined to the temp dir ----
    env.setup();
    let report = env.import_expect(0, std::slice::from_ref(&import_dir));
    let files = report["files"].as_array().expect("import report files");
    assert_eq!(files.len(), inputs.len(), "import report: {report}");
    assert!(
        files.iter().all(|f| f["outcome"] == "imported"),
        "import report: {report}"
    );

    let items = env.items();
    assert_eq!(count_kind(&items, "image"), n_images, "items: {items:?}");
    assert_eq!(count_kind(&items, "audio"), n_audio, "items: {items:?}");
    assert!(
        count_kind(&items, "text") > n_text_files,
        "items: {items:?}"
    );

    // Label two different images, then read the labels back.
    let images: Vec<i64> = items
        .iter()
        .filter(|i| i["kind"] == "image")
        .map(|i| i["id"].as_i64().expect("item id"))
        .collect();
    let mut labelled = 0;
    for (item, class) in images.iter().take(2).zip(["person", "face"]) {
        let ids = env.label_add(*item, class, [4.0, 6.0, 30.5, 40.0], 3);
        let listed: HashSet<i64> = env
            .labels(*item)
            .iter()
            .map(|l| l["id"].as_i64().expect("label id"))
            .collect();
        assert_eq!(listed, ids.iter().copied().collect(), "labels of {item}");
        labelled += ids.len();
    }
    assert_eq!(labelled, 6);

    assert_success("project check", &env.project_check());
    assert_success("audit verify", &env.audit_verify());

    // ---- the scan ----
    let root = env.root();
    let result = scan(root, &canaries);
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();

    // The scan really looked at the bundle and the home.
    let size_of = |p: &Path| {
        result
            .files
            .iter()
            .find(|(f, _)| f == p)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("{} was not scanned", p.display()))
    };
    assert!(
        size_of(&env.project.join("project.db")) > 0,
        "empty project.db"
    );
    assert!(size_of(&env.project.join("header")) > 0, "empty header");
    assert!(
        size_of(&env.home.join("identity.age")) > 0,
        "empty identity"
    );
    let blobs_dir = env.project.join("blobs");
    let blobs: Vec<_> = result
        .files
        .iter()
        .filter(|(f, s)| f.starts_with(&blobs_dir) && *s > 0)
        .collect();
    assert!(
        blobs.len() >= items.len(),
        "{} non-empty blob files for {} items",
        blobs.len(),
        items.len()
    );
    assert!(
        result.links.is_empty(),
        "symbolic links in the temp dir (not scanned): {:?}",
        result.links
    );
    eprintln!(
        "scanned {} files ({} bytes, {} blobs) under {}:",
        result.files.len(),
        result.bytes,
        blobs.len(),
        root.display()
    );
    for (f, s) in result
        .files
        .iter()
        .filter(|(f, _)| !f.starts_with(&blobs_dir))
    {
        eprintln!("  {:>9}  {}", s, rel(f));
    }

    let hits: Vec<String> = result
        .hits
        .iter()
        .map(|h| {
            format!(
                "{} at byte {}: {}",
                rel(&h.file),
                h.offset,
                canaries[h.canary].show()
            )
        })
        .collect();
    assert!(
        hits.is_empty(),
        "plaintext found on disk ({} hit(s)):\n{}",
        hits.len(),
        hits.join("\n")
    );

    // ---- positive control: the scanner finds planted canaries ----
    // One of each kind (image, audio, text, passphrase), each between filler.
    let planted: Vec<usize> = ["image ", "audio ", "text ", "identity passphrase"]
        .iter()
        .map(|kind| {
            canaries
                .iter()
                .rposition(|c| c.origin.starts_with(kind))
                .unwrap_or_else(|| panic!("no {kind}canary"))
        })
        .collect();
    let plant = env.tmp.join("positive-control.bin");
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for &i in &planted {
        bytes.extend_from_slice(b" -- filler -- ");
        offsets.push(bytes.len());
        bytes.extend_from_slice(&canaries[i].bytes);
    }
    std::fs::write(&plant, &bytes).expect("writing positive control");
    let control = scan(root, &canaries);
    std::fs::remove_file(&plant).expect("removing positive control");
    let mut found: Vec<(usize, usize)> = control
        .hits
        .iter()
        .inspect(|h| assert_eq!(h.file, plant, "positive control: hit elsewhere: {h:?}"))
        .map(|h| (h.canary, h.offset))
        .collect();
    found.sort_by_key(|&(_, offset)| offset);
    let expected: Vec<(usize, usize)> = planted.iter().copied().zip(offsets).collect();
    assert_eq!(
        found, expected,
        "positive control: the scanner missed planted canaries"
    );
    assert!(!plant.exists());
}
