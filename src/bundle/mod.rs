//! The on-disk project bundle: a directory holding a plaintext header (magic,
//! format version, project id, key slots — nothing else), the SQLCipher
//! database and the encrypted media blobs. This module owns every file write
//! in the bundle and makes each one crash-safe (temp name, fsync, rename).

pub mod header;

pub use header::{FORMAT_VERSION, Header, HeaderError};

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::crypto::{self, BlobError, SecretBytes};

/// Largest blob we decrypt into memory (media limits are far lower).
pub const MAX_BLOB_PLAINTEXT: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("blob {blob_id}: {source}")]
    Blob { blob_id: String, source: BlobError },
    #[error("{path} already exists; choose a new path for the project")]
    AlreadyExists { path: PathBuf },
    #[error("{path} is not a Sealtag project (no header file)")]
    NotABundle { path: PathBuf },
    #[error(transparent)]
    BadId(#[from] crate::ids::IdError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Paths inside one bundle directory.
#[derive(Clone, Debug)]
pub struct BundlePaths {
    pub root: PathBuf,
}

impl BundlePaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn header(&self) -> PathBuf {
        self.root.join("header")
    }
    /// The header being installed by a re-key; see [`crate::project`].
    pub fn pending_header(&self) -> PathBuf {
        self.root.join("header.next")
    }
    pub fn database(&self) -> PathBuf {
        self.root.join("project.db")
    }
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }
    /// The file of blob `blob_id`; refused unless the id is 32 lowercase
    /// hex characters, so no id from a row or package can name a path
    /// outside `blobs/`.
    pub fn blob(&self, blob_id: &str) -> Result<PathBuf, BundleError> {
        crate::ids::check(crate::ids::IdKind::Blob, blob_id)?;
        Ok(self.blobs().join(&blob_id[..2]).join(blob_id))
    }

    /// Creates the empty directory layout; refuses to reuse an existing bundle.
    pub fn create_dirs(&self) -> Result<(), BundleError> {
        if self.header().exists() || self.database().exists() {
            return Err(BundleError::AlreadyExists {
                path: self.root.clone(),
            });
        }
        fs::create_dir_all(self.blobs()).map_err(io_err(&self.root))?;
        Ok(())
    }

    pub fn read_header(&self) -> Result<Header, BundleError> {
        let path = self.header();
        if !path.exists() {
            return Err(BundleError::NotABundle {
                path: self.root.clone(),
            });
        }
        Ok(Header::read(&path)?)
    }

    /// Encrypts `plaintext` into a new blob with a fresh random key and id.
    /// The file is complete and fsynced under its final name before this
    /// returns, so a DB row referencing it never points at a partial file.
    pub fn write_blob(
        &self,
        project_id: &str,
        plaintext: &mut impl io::Read,
    ) -> Result<NewBlob, BundleError> {
        self.write_blob_with(project_id, plaintext, true)
    }

    /// Like [`BundlePaths::write_blob`], but on Linux without waiting for the
    /// disk: the blob is not durable until [`BundlePaths::sync_blobs`]
    /// returns, and no row may refer to it before. A batch import writes its
    /// blobs this way from several threads and syncs once per transaction.
    pub fn write_blob_unsynced(
        &self,
        project_id: &str,
        plaintext: &mut impl io::Read,
    ) -> Result<NewBlob, BundleError> {
        self.write_blob_with(project_id, plaintext, !cfg!(target_os = "linux"))
    }

    fn write_blob_with(
        &self,
        project_id: &str,
        plaintext: &mut impl io::Read,
        sync: bool,
    ) -> Result<NewBlob, BundleError> {
        let blob_id = hex::encode(crypto::random_bytes::<16>());
        let key = SecretBytes::<32>::random();
        let final_path = self.blob(&blob_id)?;
        let dir = final_path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        // Written under a temporary name and renamed, so a blob file with its
        // final name is always complete, even after a crash.
        let tmp = dir.join(format!(".{blob_id}.tmp"));
        let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut writer = io::BufWriter::with_capacity(256 * 1024, &mut file);
        let size = crypto::encrypt_blob(&key, project_id, &blob_id, plaintext, &mut writer)
            .map_err(|source| BundleError::Blob {
                blob_id: blob_id.clone(),
                source,
            })?;
        writer.flush().map_err(io_err(&tmp))?;
        drop(writer);
        if sync {
            file.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &final_path).map_err(io_err(&final_path))?;
        if sync {
            sync_dir(&dir)?;
        }
        Ok(NewBlob { blob_id, key, size })
    }

    /// Makes every blob written by [`BundlePaths::write_blob_unsynced`]
    /// durable (their data and directory entries): one `syncfs` of the file
    /// system that holds the bundle.
    pub fn sync_blobs(&self) -> Result<(), BundleError> {
        #[cfg(target_os = "linux")]
        {
            let blobs = self.blobs();
            File::open(&blobs)
                .and_then(|d| crate::platform::sync_filesystem(&d))
                .map_err(io_err(&blobs))?;
        }
        Ok(())
    }

    /// Decrypts a blob into memory.
    pub fn read_blob(
        &self,
        project_id: &str,
        blob_id: &str,
        key: &SecretBytes<32>,
    ) -> Result<Zeroizing<Vec<u8>>, BundleError> {
        let path = self.blob(blob_id)?;
        let blob_err = |source| BundleError::Blob {
            blob_id: blob_id.to_string(),
            source,
        };
        // Read whole at its exact size (the ciphertext is not secret), then
        // open it in that same buffer: one allocation, no second copy.
        let file = File::open(&path).map_err(io_err(&path))?;
        let size = file.metadata().map_err(io_err(&path))?.len();
        let mut sealed = Vec::new();
        if sealed.try_reserve_exact(size as usize).is_err() {
            return Err(blob_err(crypto::BlobError::TooLarge {
                bytes: size,
                limit: MAX_BLOB_PLAINTEXT,
            }));
        }
        io::Read::read_to_end(
            &mut io::Read::take(file, MAX_BLOB_PLAINTEXT.saturating_mul(2)),
            &mut sealed,
        )
        .map_err(io_err(&path))?;
        crypto::decrypt_blob_in_place(key, project_id, blob_id, sealed, MAX_BLOB_PLAINTEXT)
            .map_err(blob_err)
    }
    /// Decrypts a blob straight into `out`, in 64 KiB segments: for
    /// streaming media into a package without holding it in memory.
    pub fn read_blob_to(
        &self,
        project_id: &str,
        blob_id: &str,
        key: &SecretBytes<32>,
        out: &mut impl io::Write,
    ) -> Result<u64, BundleError> {
        let path = self.blob(blob_id)?;
        let file = File::open(&path).map_err(io_err(&path))?;
        let mut reader = io::BufReader::with_capacity(256 * 1024, file);
        crypto::decrypt_blob_to(key, project_id, blob_id, &mut reader, out).map_err(|source| {
            BundleError::Blob {
                blob_id: blob_id.to_string(),
                source,
            }
        })
    }

    /// Deletes a blob file that no row references (a failed package open).
    /// An id that is not a blob id names no file here: nothing is removed.
    pub fn remove_blob(&self, blob_id: &str) {
        if let Ok(path) = self.blob(blob_id) {
            let _ = fs::remove_file(path);
        }
    }
}

/// A blob just written: its id, key (to store in the DB) and plaintext size.
pub struct NewBlob {
    pub blob_id: String,
    pub key: SecretBytes<32>,
    pub size: u64,
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    sync_dir(&dir)
}

/// Overwrites `path` in place with random bytes of its own length and
/// fsyncs it, so the blocks that held it (for a header: the key slots) are
/// rewritten before the name is unlinked. Opening with truncation, as a
/// plain write does, would free the old blocks untouched and write new
/// ones. A missing file is not an error. What no software can promise (SSD
/// wear levelling, copy-on-write file systems, snapshots and backups taken
/// before) is in docs/threat-model.md.
pub fn overwrite_in_place(path: &Path) -> io::Result<()> {
    let mut file = match OpenOptions::new().write(true).truncate(false).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let mut left = len;
    while left > 0 {
        let chunk = crypto::random_bytes::<4096>();
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

fn sync_dir(dir: &Path) -> Result<(), BundleError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwrite_in_place_rewrites_the_same_file_at_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("header");
        let original = b"{\"key_slots\": [\"secret slot\"]}\n".repeat(50);
        fs::write(&path, &original).unwrap();
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            fs::metadata(&path).unwrap().ino()
        };
        overwrite_in_place(&path).unwrap();
        let after = fs::read(&path).unwrap();
        assert_eq!(after.len(), original.len(), "not truncated");
        assert_ne!(after, original);
        assert!(!after.windows(6).any(|w| w == b"secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(fs::metadata(&path).unwrap().ino(), inode, "same file");
        }
        overwrite_in_place(&dir.path().join("missing")).unwrap();
    }
}
