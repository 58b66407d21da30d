//! What a pre-label importer reads: one file's bytes, or the label files of
//! a dataset folder (YOLO and Pascal VOC datasets are folders, not files).
//! [`read_folder`] is the one place the importers' input is read from disk,
//! with limits: only label-file extensions, a cap per file and in total, no
//! symbolic link followed, hidden entries skipped — a dataset folder is
//! outside data like any other.

use std::fs;
use std::path::Path;

use super::FormatError;

/// The extensions of label files; media and everything else in a dataset
/// folder is never opened.
pub const LABEL_EXTENSIONS: &[&str] = &["txt", "xml", "yaml", "yml", "json"];

/// At most this much per label file (a COCO file of a large dataset fits).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// At most this much for a whole folder.
pub const MAX_FOLDER_BYTES: u64 = 1024 * 1024 * 1024;

/// At most this many label files in a folder.
pub const MAX_FOLDER_FILES: usize = 200_000;

/// At most this deep below the folder given.
const MAX_DEPTH: usize = 16;

/// An importer's input.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelInput {
    /// One file: its name (for messages and the extension) and its bytes.
    File { name: String, bytes: Vec<u8> },
    /// The label files of a folder: paths relative to it, `/`-separated,
    /// in sorted order.
    Folder { files: Vec<(String, Vec<u8>)> },
}

impl LabelInput {
    /// The bytes of a one-file input, or an error saying that `format`
    /// reads one file (a folder was given).
    pub fn single_file(&self, format: &str) -> Result<(&str, &[u8]), FormatError> {
        match self {
            LabelInput::File { name, bytes } => Ok((name, bytes)),
            LabelInput::Folder { files } => match files.as_slice() {
                // A folder holding just the file is as good as the file.
                [(name, bytes)] => Ok((name, bytes)),
                _ => Err(FormatError::Invalid(format!(
                    "the {format} importer reads one file, and a folder of {} label files was given; name the file",
                    files.len()
                ))),
            },
        }
    }

    /// Every file of the input, as (relative name, bytes): a one-file input
    /// is a folder of one.
    pub fn files(&self) -> Vec<(&str, &[u8])> {
        match self {
            LabelInput::File { name, bytes } => vec![(name.as_str(), bytes.as_slice())],
            LabelInput::Folder { files } => files
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect(),
        }
    }
}

/// Why a folder could not be read; `Display` names the path.
fn io_error(action: &str, path: &Path, e: std::io::Error) -> FormatError {
    FormatError::Invalid(format!("could not {action}: {e}: {}", path.display()))
}

/// Whether `name` ends in a label-file extension (case-insensitive).
fn is_label_file(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| LABEL_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Reads the label files of `dir` (recursively, sorted), with the limits
/// above. Symbolic links are skipped, never followed, as are hidden
/// entries and files of other types.
pub fn read_folder(dir: &Path) -> Result<LabelInput, FormatError> {
    let mut files = Vec::new();
    let mut total: u64 = 0;
    walk(dir, "", 0, &mut files, &mut total)?;
    Ok(LabelInput::Folder { files })
}

fn walk(
    dir: &Path,
    rel: &str,
    depth: usize,
    files: &mut Vec<(String, Vec<u8>)>,
    total: &mut u64,
) -> Result<(), FormatError> {
    if depth > MAX_DEPTH {
        return Err(FormatError::Invalid(format!(
            "folders nested more than {MAX_DEPTH} deep: {}",
            dir.display()
        )));
    }
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(|e| io_error("read the folder", dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io_error("read the folder", dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let rel_name = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        // DirEntry::file_type does not follow links.
        let file_type = entry
            .file_type()
            .map_err(|e| io_error("inspect", &path, e))?;
        if file_type.is_dir() {
            walk(&path, &rel_name, depth + 1, files, total)?;
        } else if file_type.is_file() && is_label_file(&name) {
            if files.len() >= MAX_FOLDER_FILES {
                return Err(FormatError::Invalid(format!(
                    "more than {MAX_FOLDER_FILES} label files in the folder: {}",
                    dir.display()
                )));
            }
            let bytes = read_file(&path, MAX_FILE_BYTES)?;
            *total += bytes.len() as u64;
            if *total > MAX_FOLDER_BYTES {
                return Err(FormatError::Invalid(format!(
                    "the label files of the folder add up to more than {} MiB: {}",
                    MAX_FOLDER_BYTES / (1024 * 1024),
                    dir.display()
                )));
            }
            files.push((rel_name, bytes));
        }
    }
    Ok(())
}

/// Reads one label file (the CLI's `--prelabels FILE` too) with at most
/// `limit` bytes, opened without following a link and re-checked after
/// opening (it may have been swapped for a link or a FIFO since it was
/// listed) — as the media importer reads files.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, FormatError> {
    // The media importer's reader: no link followed, a FIFO never blocks,
    // the size checked before and while reading.
    crate::import::read_limited(path, limit)
        .map_err(|e| FormatError::Invalid(format!("{}: {e}", path.display())))
}

/// The input at `path`: a folder's label files, or the file.
pub fn read_input(path: &Path) -> Result<LabelInput, FormatError> {
    let meta = fs::symlink_metadata(path).map_err(|e| io_error("inspect", path, e))?;
    if meta.is_dir() {
        return read_folder(path);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(LabelInput::File {
        name,
        bytes: read_file(path, MAX_FILE_BYTES)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_gives_its_label_files_sorted_without_links_hidden_or_media() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("labels/train")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join("data.yaml"), "names: [a]\n").unwrap();
        fs::write(root.join("labels/train/b.txt"), "0 0.5 0.5 1 1\n").unwrap();
        fs::write(root.join("labels/train/a.TXT"), "").unwrap();
        fs::write(root.join("labels/train/a.jpg"), [0xFF, 0xD8]).unwrap();
        fs::write(root.join(".git/config.txt"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/hostname", root.join("labels/link.txt")).unwrap();
        let LabelInput::Folder { files } = read_input(root).unwrap() else {
            panic!("a folder");
        };
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec!["data.yaml", "labels/train/a.TXT", "labels/train/b.txt"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_given_as_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real.json"), "[]").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.json"), dir.path().join("l.json"))
            .unwrap();
        let e = read_file(&dir.path().join("l.json"), 100).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = read_file(&dir.path().join("real.json"), 1).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
    }
}
