//! The sealed, signed package container that moves work between sites
//! (DESIGN §6): a manifest naming every member with its size and SHA-256,
//! the sender's Ed25519 signature over the manifest, then the members —
//! signed, then encrypted to the recipients with age (X25519,
//! multi-recipient, ChaCha20-Poly1305 STREAM inside). Written and read as a
//! stream, so package size does not bound memory.
//!
//! This module checks what the container itself can prove, in order:
//! decryption (it is for me), format, signature (by the key the manifest
//! names), recipient listed, then each member's hash as it is read. The
//! project-level checks (signer enrolled, no replay, item ids assigned) are
//! the caller's, with the verified manifest in hand.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

use crate::crypto::{IdentityError, PublicIdentity, UnlockedIdentity};

const MAGIC: &[u8; 8] = b"SEALPKG1";
/// Version of the container layout and manifest.
pub const FORMAT_VERSION: u32 = 1;
const SIGNATURE_CONTEXT: &[u8] = b"sealtag package v1\0";
/// A manifest larger than this is not one we wrote.
const MAX_MANIFEST_BYTES: u32 = 64 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    Work,
    Results,
    Export,
}

/// One member: a name, its size and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// What a package says about itself; covered by the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub package_id: String,
    pub kind: PackageKind,
    pub project_id: String,
    /// Fingerprint and public key string of the signer.
    pub sender: String,
    pub sender_key: String,
    /// Fingerprints the package is sealed to.
    pub recipients: Vec<String>,
    pub created_ms: i64,
    /// Increases with every package from the same sender for the same
    /// project and kind: an older one than already applied is a replay.
    pub sequence: u64,
    pub members: Vec<MemberEntry>,
}

/// Why a package was refused; each names the check that failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(
        "decryption check failed: this package is not sealed to your identity, or it is damaged"
    )]
    NotForMe,
    #[error("format check failed: {0}")]
    Format(String),
    #[error(
        "signature check failed: the manifest was not signed by the key it names, or it was altered"
    )]
    Signature,
    #[error("recipient check failed: you ({0}) are not listed as a recipient")]
    NotListed(String),
    #[error("member hash check failed: member '{name}' does not match its SHA-256 in the manifest")]
    MemberHash { name: String },
    #[error("member check failed: {0}")]
    Member(String),
    #[error("package I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("could not seal the package: {0}")]
    Seal(String),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("cancelled: nothing was written")]
    Cancelled,
}

impl PackageError {
    /// The named check a refusal failed (`None` for failures that are not
    /// refusals: I/O, sealing, a locked identity, a cancel). The names are
    /// the ones the error messages start with.
    pub fn check(&self) -> Option<&'static str> {
        match self {
            PackageError::NotForMe => Some("decryption"),
            PackageError::Format(_) => Some("format"),
            PackageError::Signature => Some("signature"),
            PackageError::NotListed(_) => Some("recipient"),
            PackageError::MemberHash { .. } => Some("member hash"),
            PackageError::Member(_) => Some("member"),
            PackageError::Io(_)
            | PackageError::Seal(_)
            | PackageError::Identity(_)
            | PackageError::Cancelled => None,
        }
    }

    /// What the message says after "<check> check failed: ".
    pub fn why(&self) -> String {
        let text = self.to_string();
        match self.check() {
            Some(check) => text
                .strip_prefix(&format!("{check} check failed: "))
                .map(str::to_string)
                .unwrap_or(text),
            None => text,
        }
    }
}

/// The fields of a manifest the caller chooses.
pub struct NewPackage<'a> {
    pub kind: PackageKind,
    pub project_id: &'a str,
    pub sequence: u64,
    /// Chosen by the caller when it records the package before writing
    /// it; random otherwise.
    pub package_id: Option<String>,
}

fn signed_bytes(manifest_json: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + manifest_json.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(manifest_json);
    m
}

/// A member that can be produced twice: once to hash, once to seal. It
/// pushes its bytes into a writer, so a member can be decrypted from a blob
/// segment by segment and never be whole in memory.
pub trait MemberSource {
    fn name(&self) -> &str;
    /// Writes the member's bytes to `out`; both calls must yield the same.
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64>;
}

/// An in-memory member (JSON documents, small files).
pub struct BytesMember<'a> {
    pub name: String,
    pub bytes: &'a [u8],
}

impl MemberSource for BytesMember<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        out.write_all(self.bytes)?;
        Ok(self.bytes.len() as u64)
    }
}

/// A member produced by a closure (e.g. decrypting a blob into `out`).
pub struct FnMember<F> {
    pub name: String,
    pub write: F,
}

impl<F: Fn(&mut dyn Write) -> io::Result<u64>> MemberSource for FnMember<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        (self.write)(out)
    }
}

/// How far a long package operation is, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// `hashing`, `sealing` or `reading`.
    pub phase: &'static str,
    pub done: u64,
    /// 0 while unknown (the hashing pass learns the total as it goes).
    pub total: u64,
}

/// Called every few MiB; returning `false` cancels the operation.
pub type ProgressFn<'a> = &'a mut dyn FnMut(Progress) -> bool;

/// Reports progress every this many bytes.
const PROGRESS_STEP: u64 = 4 * 1024 * 1024;

/// A writer that hashes, counts and reports what passes through it, and
/// stops with [`PackageError::Cancelled`] when the progress callback says so.
struct Tap<'p, W> {
    inner: W,
    hasher: Option<Sha256>,
    done: u64,
    last_report: u64,
    phase: &'static str,
    total: u64,
    progress: ProgressFn<'p>,
    cancelled: bool,
}

impl<'p, W: Write> Tap<'p, W> {
    fn new(inner: W, phase: &'static str, total: u64, progress: ProgressFn<'p>) -> Self {
        Self {
            inner,
            hasher: None,
            done: 0,
            last_report: 0,
            phase,
            total,
            progress,
            cancelled: false,
        }
    }
    /// Maps an I/O error to `Cancelled` when the callback asked to stop.
    fn error(&self, e: io::Error) -> PackageError {
        if self.cancelled {
            PackageError::Cancelled
        } else {
            PackageError::Io(e)
        }
    }
}

impl<W: Write> Tap<'_, W> {
    /// Reports progress now (at member boundaries); `Err` on cancel.
    fn report(&mut self) -> Result<(), PackageError> {
        let p = Progress {
            phase: self.phase,
            done: self.done,
            total: self.total,
        };
        if (self.progress)(p) {
            Ok(())
        } else {
            Err(PackageError::Cancelled)
        }
    }
}

impl<W: Write> Write for Tap<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.done += n as u64;
        if self.done - self.last_report >= PROGRESS_STEP {
            self.last_report = self.done;
            let p = Progress {
                phase: self.phase,
                done: self.done,
                total: self.total,
            };
            if !(self.progress)(p) {
                self.cancelled = true;
                return Err(io::Error::other("cancelled"));
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a package: hashes every member (first pass), signs the
/// manifest, then streams manifest, signature and members through age to
/// `out`. Returns the manifest. Memory does not grow with member size.
pub fn write_package(
    out: impl Write,
    sender: &UnlockedIdentity,
    recipients: &[PublicIdentity],
    new: &NewPackage<'_>,
    members: &[&dyn MemberSource],
    progress: ProgressFn<'_>,
) -> Result<Manifest, PackageError> {
    if recipients.is_empty() {
        return Err(PackageError::Seal(
            "a package needs at least one recipient".into(),
        ));
    }
    let mut entries = Vec::with_capacity(members.len());
    let mut tap = Tap::new(io::sink(), "hashing", 0, progress);
    for member in members {
        tap.report()?;
        tap.hasher = Some(Sha256::new());
        let before = tap.done;
        member.write_to(&mut tap).map_err(|e| tap.error(e))?;
        entries.push(MemberEntry {
            name: member.name().to_string(),
            size: tap.done - before,
            sha256: hex::encode(tap.hasher.take().unwrap_or_default().finalize()),
        });
    }
    let total = tap.done;
    let progress = tap.progress;
    let sealed = SealedWriter::new(out, sender, recipients, new, entries)?;
    let names: Vec<String> = sealed
        .manifest
        .members
        .iter()
        .map(|m| m.name.clone())
        .collect();
    let mut tap = Tap::new(sealed, "sealing", total, progress);
    for (member, name) in members.iter().zip(&names) {
        tap.report()?;
        tap.inner.start_member(name)?;
        member.write_to(&mut tap).map_err(|e| tap.error(e))?;
    }
    tap.report()?;
    tap.inner.finish()
}

/// Writes a package to `path` through a temporary file in the same
/// directory, fsynced and renamed at the end: a cancel or a failure leaves
/// nothing at `path` and no partial file behind.
pub fn write_package_file(
    path: &std::path::Path,
    sender: &UnlockedIdentity,
    recipients: &[PublicIdentity],
    new: &NewPackage<'_>,
    members: &[&dyn MemberSource],
    progress: ProgressFn<'_>,
) -> Result<Manifest, PackageError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "package".into());
    let tmp = dir.join(format!(
        ".{file_name}.{}.partial",
        hex::encode(crate::crypto::random_bytes::<6>())
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let manifest = write_package(&file, sender, recipients, new, members, progress)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(manifest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A package whose decryption, format, signature and recipient checks
/// passed; members are read (and hash-checked) in manifest order.
pub struct OpenedPackage<R: Read> {
    pub manifest: Manifest,
    reader: R,
    next: usize,
    done: u64,
    last_report: u64,
    progress: Option<Box<dyn FnMut(Progress) -> bool + Send>>,
}

fn read_exact_or(reader: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), PackageError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            PackageError::Format(format!("the package ends inside the {what}"))
        }
        _ => PackageError::NotForMe,
    })
}

/// Opens a package with `me`'s identity and runs the container checks.
pub fn open_package<R: Read>(
    input: R,
    me: &UnlockedIdentity,
) -> Result<OpenedPackage<impl Read + use<R>>, PackageError> {
    let decryptor = age::Decryptor::new(input).map_err(|_| PackageError::NotForMe)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(me.age_identity() as &dyn age::Identity))
        .map_err(|_| PackageError::NotForMe)?;
    let mut magic = [0u8; 8];
    read_exact_or(&mut reader, &mut magic, "header")?;
    if &magic != MAGIC {
        return Err(PackageError::Format(
            "not a Sealtag package (bad magic)".into(),
        ));
    }
    let mut len = [0u8; 4];
    read_exact_or(&mut reader, &mut len, "manifest length")?;
    let len = u32::from_be_bytes(len);
    if len > MAX_MANIFEST_BYTES {
        return Err(PackageError::Format(format!(
            "manifest of {len} bytes is larger than any valid one"
        )));
    }
    let mut json = vec![0u8; len as usize];
    read_exact_or(&mut reader, &mut json, "manifest")?;
    let mut signature = [0u8; 64];
    read_exact_or(&mut reader, &mut signature, "signature")?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| PackageError::Format(format!("manifest is not valid: {e}")))?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(PackageError::Format(format!(
            "package format {} is newer than this Sealtag reads ({FORMAT_VERSION}); upgrade Sealtag",
            manifest.format_version
        )));
    }
    let sender =
        PublicIdentity::parse(&manifest.sender_key).map_err(|_| PackageError::Signature)?;
    if sender.fingerprint() != manifest.sender || !sender.verify(&signed_bytes(&json), &signature) {
        return Err(PackageError::Signature);
    }
    check_ids(&manifest)?;
    let mine = me.public().fingerprint();
    if !manifest.recipients.contains(&mine) {
        return Err(PackageError::NotListed(mine));
    }
    Ok(OpenedPackage {
        manifest,
        reader,
        next: 0,
        done: 0,
        last_report: 0,
        progress: None,
    })
}

impl<R: Read> OpenedPackage<R> {
    /// How many members were read so far (the index of the next one).
    pub fn position(&self) -> usize {
        self.next
    }

    /// Total bytes of all members, for progress bars.
    pub fn total_bytes(&self) -> u64 {
        self.manifest.members.iter().map(|m| m.size).sum()
    }

    /// Streams the next member into `out`, checking its hash; `None` after
    /// the last. On a mismatch `out` has received bad bytes: write to a
    /// temporary place and discard it on error.
    pub fn next_member_to(
        &mut self,
        out: &mut impl Write,
    ) -> Option<Result<MemberEntry, PackageError>> {
        let mut reader = self.next_member_reader()?;
        let copied = io::copy(&mut reader, out);
        Some(match (copied, reader.finish()) {
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(PackageError::Io(e)),
            (Ok(_), Ok(entry)) => Ok(entry),
        })
    }

    /// The next member as a reader (for consumers that pull, like the blob
    /// writer). Read it to the end, then call [`MemberReader::finish`]: only
    /// that says whether the bytes matched the manifest.
    pub fn next_member_reader(&mut self) -> Option<MemberReader<'_, R>> {
        let entry = self.manifest.members.get(self.next)?.clone();
        self.next += 1;
        Some(MemberReader {
            left: entry.size,
            entry,
            package: self,
            hasher: Sha256::new(),
            failure: None,
        })
    }

    /// Reads (and hash-checks) a member that must fit in memory, up to
    /// `limit` bytes: the JSON documents of a package.
    pub fn next_member_bytes(
        &mut self,
        limit: u64,
    ) -> Option<Result<(MemberEntry, Vec<u8>), PackageError>> {
        let size = self.manifest.members.get(self.next)?.size;
        if size > limit {
            let name = self.manifest.members[self.next].name.clone();
            self.next += 1;
            return Some(Err(PackageError::Member(format!(
                "member '{name}' is {size} bytes, more than the {limit} allowed for it"
            ))));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        self.next_member_to(&mut bytes)
            .map(|r| r.map(|e| (e, bytes)))
    }

    /// Reads every remaining member (hash-checked) and confirms nothing
    /// follows the last one.
    pub fn verify_rest(&mut self) -> Result<(), PackageError> {
        while let Some(r) = self.next_member_to(&mut io::sink()) {
            r?;
        }
        self.verify_end()
    }

    /// Confirms that nothing follows the last member.
    pub fn verify_end(&mut self) -> Result<(), PackageError> {
        if self.next < self.manifest.members.len() {
            return Err(PackageError::Member("not every member was read".into()));
        }
        let mut extra = [0u8; 1];
        match self.reader.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(PackageError::Format("data follows the last member".into())),
            Err(_) => Err(PackageError::NotForMe),
        }
    }

    /// Installs a progress callback for the members still to be read.
    pub fn set_progress(&mut self, progress: Box<dyn FnMut(Progress) -> bool + Send>) {
        self.progress = Some(progress);
    }
}

/// One member being read: yields exactly its bytes, hashing them.
pub struct MemberReader<'a, R: Read> {
    package: &'a mut OpenedPackage<R>,
    entry: MemberEntry,
    left: u64,
    hasher: Sha256,
    failure: Option<PackageError>,
}

impl<R: Read> Read for MemberReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.left) as usize;
        let n = match self.package.reader.read(&mut buf[..want]) {
            Ok(0) => {
                self.failure = Some(PackageError::Format(format!(
                    "the package ends inside member '{}'",
                    self.entry.name
                )));
                return Err(io::Error::other("package truncated"));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                // age reports a failed STREAM chunk as an I/O error.
                self.failure = Some(PackageError::NotForMe);
                return Err(e);
            }
        };
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        let p = &mut self.package;
        p.done += n as u64;
        if p.done - p.last_report >= PROGRESS_STEP {
            p.last_report = p.done;
            let total = p.manifest.members.iter().map(|m| m.size).sum();
            if let Some(cb) = p.progress.as_mut()
                && !cb(Progress {
                    phase: "reading",
                    done: p.done,
                    total,
                })
            {
                self.failure = Some(PackageError::Cancelled);
                return Err(io::Error::other("cancelled"));
            }
        }
        Ok(n)
    }
}

impl<R: Read> MemberReader<'_, R> {
    /// The member's name in the manifest.
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// The verdict on this member: its entry if every byte arrived and the
    /// hash matches. Unread bytes are read (and checked) first.
    pub fn finish(mut self) -> Result<MemberEntry, PackageError> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        if self.left > 0
            && let Err(e) = io::copy(&mut self, &mut io::sink())
        {
            return Err(self.failure.take().unwrap_or(PackageError::Io(e)));
        }
        if hex::encode(self.hasher.clone().finalize()) != self.entry.sha256 {
            return Err(PackageError::MemberHash {
                name: self.entry.name.clone(),
            });
        }
        Ok(self.entry.clone())
    }
}

/// Signs a manifest: its exact JSON bytes and the Ed25519 signature over
/// them (the same scheme as inside a sealed package).
pub fn sign_manifest(
    manifest: &Manifest,
    sender: &UnlockedIdentity,
) -> Result<(Vec<u8>, [u8; 64]), PackageError> {
    let json =
        serde_json::to_vec_pretty(manifest).map_err(|e| PackageError::Seal(e.to_string()))?;
    let signature = sender.sign(&signed_bytes(&json));
    Ok((json, signature))
}

/// The manifest's project and package ids must be fixed-length hex before
/// anything (a default bundle path, a replay lookup) is built from them.
fn check_ids(manifest: &Manifest) -> Result<(), PackageError> {
    use crate::ids::{IdKind, check};
    check(IdKind::Project, &manifest.project_id)
        .and_then(|()| check(IdKind::Package, &manifest.package_id))
        .map_err(|e| PackageError::Format(e.to_string()))
}

/// Checks a manifest's signature by the key it names; returns it parsed.
pub fn verify_manifest(json: &[u8], signature: &[u8]) -> Result<Manifest, PackageError> {
    let manifest: Manifest = serde_json::from_slice(json)
        .map_err(|e| PackageError::Format(format!("manifest is not valid: {e}")))?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(PackageError::Format(format!(
            "format {} is newer than this Sealtag reads ({FORMAT_VERSION}); upgrade Sealtag",
            manifest.format_version
        )));
    }
    let sender =
        PublicIdentity::parse(&manifest.sender_key).map_err(|_| PackageError::Signature)?;
    if sender.fingerprint() != manifest.sender || !sender.verify(&signed_bytes(json), signature) {
        return Err(PackageError::Signature);
    }
    // Signed, but ids are still checked: the signer may be the attacker.
    check_ids(&manifest)?;
    Ok(manifest)
}

/// The manifest and signature files of a signed (unsealed) export folder.
pub const EXPORT_MANIFEST: &str = "SEALTAG-MANIFEST.json";
pub const EXPORT_SIGNATURE: &str = "SEALTAG-MANIFEST.sig";

/// Verifies a signed export folder: the manifest's signature, every listed
/// file's size and SHA-256, and that no file was added or removed. Links
/// are refused, never followed.
pub fn verify_export_dir(dir: &std::path::Path) -> Result<Manifest, PackageError> {
    let read = |name: &str| -> Result<Vec<u8>, PackageError> {
        std::fs::read(dir.join(name)).map_err(|e| {
            PackageError::Format(format!("{name} cannot be read ({e}): not a signed export"))
        })
    };
    let json = read(EXPORT_MANIFEST)?;
    let sig_hex = read(EXPORT_SIGNATURE)?;
    let signature = hex::decode(String::from_utf8_lossy(&sig_hex).trim())
        .map_err(|_| PackageError::Signature)?;
    let manifest = verify_manifest(&json, &signature)?;
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in std::fs::read_dir(dir.join(&rel))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = rel.join(entry.file_name());
            let name = path.to_string_lossy().replace('\\', "/");
            if kind.is_symlink() {
                return Err(PackageError::Member(format!(
                    "'{name}' is a link; a signed export holds only files"
                )));
            } else if kind.is_dir() {
                stack.push(path);
            } else if name != EXPORT_MANIFEST && name != EXPORT_SIGNATURE {
                found.insert(name);
            }
        }
    }
    for entry in &manifest.members {
        if !found.remove(&entry.name) {
            return Err(PackageError::Member(format!(
                "'{}' is listed but missing",
                entry.name
            )));
        }
        let file = std::fs::File::open(dir.join(&entry.name))?;
        let mut hasher = Sha256::new();
        let size = io::copy(&mut io::BufReader::new(file), &mut HashWriter(&mut hasher))?;
        if size != entry.size || hex::encode(hasher.finalize()) != entry.sha256 {
            return Err(PackageError::MemberHash {
                name: entry.name.clone(),
            });
        }
    }
    if let Some(extra) = found.into_iter().next() {
        return Err(PackageError::Member(format!(
            "'{extra}' is not in the signed manifest"
        )));
    }
    Ok(manifest)
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a sealed package whose members are produced in one go by the
/// caller (an exporter), after a first pass computed their entries: each
/// [`SealedWriter::start_member`] must name the next entry, and its bytes
/// must hash to it — a producer that is not deterministic is caught.
pub struct SealedWriter<W: Write> {
    inner: age::stream::StreamWriter<io::BufWriter<W>>,
    manifest: Manifest,
    next: usize,
    current: Option<(Sha256, u64)>,
}

impl<W: Write> SealedWriter<W> {
    pub fn new(
        out: W,
        sender: &UnlockedIdentity,
        recipients: &[PublicIdentity],
        new: &NewPackage<'_>,
        entries: Vec<MemberEntry>,
    ) -> Result<Self, PackageError> {
        if recipients.is_empty() {
            return Err(PackageError::Seal(
                "a package needs at least one recipient".into(),
            ));
        }
        let public = sender.public();
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            package_id: new
                .package_id
                .clone()
                .unwrap_or_else(|| hex::encode(crate::crypto::random_bytes::<16>())),
            kind: new.kind,
            project_id: new.project_id.to_string(),
            sender: public.fingerprint(),
            sender_key: public.to_key_string(),
            recipients: recipients.iter().map(PublicIdentity::fingerprint).collect(),
            created_ms: crate::model::now_ms(),
            sequence: new.sequence,
            members: entries,
        };
        let json = serde_json::to_vec(&manifest).map_err(|e| PackageError::Seal(e.to_string()))?;
        let signature = sender.sign(&signed_bytes(&json));
        let age_recipients: Vec<&dyn age::Recipient> = recipients
            .iter()
            .map(|r| &r.recipient as &dyn age::Recipient)
            .collect();
        let encryptor = age::Encryptor::with_recipients(age_recipients.into_iter())
            .map_err(|e| PackageError::Seal(e.to_string()))?;
        let mut inner = encryptor.wrap_output(io::BufWriter::with_capacity(256 * 1024, out))?;
        inner.write_all(MAGIC)?;
        inner.write_all(&(json.len() as u32).to_be_bytes())?;
        inner.write_all(&json)?;
        inner.write_all(&signature)?;
        Ok(Self {
            inner,
            manifest,
            next: 0,
            current: None,
        })
    }

    fn close_member(&mut self) -> Result<(), PackageError> {
        if let Some((hasher, size)) = self.current.take() {
            let entry = &self.manifest.members[self.next - 1];
            if size != entry.size || hex::encode(hasher.finalize()) != entry.sha256 {
                return Err(PackageError::Member(format!(
                    "member '{}' changed between the two passes",
                    entry.name
                )));
            }
        }
        Ok(())
    }

    /// Finishes the previous member and starts `name`, which must be next.
    pub fn start_member(&mut self, name: &str) -> Result<(), PackageError> {
        self.close_member()?;
        match self.manifest.members.get(self.next) {
            Some(e) if e.name == name => {}
            _ => {
                return Err(PackageError::Member(format!(
                    "member '{name}' was not produced in the first pass's order"
                )));
            }
        }
        self.next += 1;
        self.current = Some((Sha256::new(), 0));
        Ok(())
    }

    pub fn finish(mut self) -> Result<Manifest, PackageError> {
        self.close_member()?;
        if self.next != self.manifest.members.len() {
            return Err(PackageError::Member(
                "fewer members than the first pass".into(),
            ));
        }
        self.inner.finish()?.flush()?;
        Ok(self.manifest)
    }
}

impl<W: Write> Write for SealedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some((hasher, size)) = self.current.as_mut() else {
            return Err(io::Error::other("bytes written before the first member"));
        };
        let n = self.inner.write(buf)?;
        hasher.update(&buf[..n]);
        *size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> (Vec<u8>, Vec<u8>) {
        (
            b"{\"schema\": 1}".to_vec(),
            (0..5000u32).flat_map(|i| i.to_le_bytes()).collect(),
        )
    }

    fn package(sender: &UnlockedIdentity, to: &[PublicIdentity], a: &[u8], b: &[u8]) -> Vec<u8> {
        let (ma, mb) = (
            BytesMember {
                name: "schema.json".into(),
                bytes: a,
            },
            BytesMember {
                name: "media/1".into(),
                bytes: b,
            },
        );
        let mut out = Vec::new();
        let new = NewPackage {
            kind: PackageKind::Work,
            project_id: "0123456789abcdef0123456789abcdef",
            sequence: 3,
            package_id: None,
        };
        write_package(&mut out, sender, to, &new, &[&ma, &mb], &mut |_| true).unwrap();
        out
    }

    #[test]
    fn round_trip_with_every_member_checked() {
        let (admin, ann) = (
            UnlockedIdentity::generate("admin"),
            UnlockedIdentity::generate("ann"),
        );
        let (a, b) = members();
        let sealed = package(&admin, &[ann.public()], &a, &b);
        let mut opened = open_package(sealed.as_slice(), &ann).unwrap();
        assert_eq!(opened.manifest.sender, admin.public().fingerprint());
        assert_eq!(opened.manifest.kind, PackageKind::Work);
        assert_eq!(opened.manifest.sequence, 3);
        let mut first = Vec::new();
        assert_eq!(
            opened.next_member_to(&mut first).unwrap().unwrap().name,
            "schema.json"
        );
        assert_eq!(first, a);
        let mut second = Vec::new();
        opened.next_member_to(&mut second).unwrap().unwrap();
        assert_eq!(second, b);
        assert!(opened.next_member_to(&mut Vec::new()).is_none());
        // Nothing readable in the clear.
        assert!(!sealed.windows(a.len()).any(|w| w == a.as_slice()));
    }

    #[test]
    fn not_for_me_and_not_listed_are_refused_by_name() {
        let (admin, ann, other) = (
            UnlockedIdentity::generate("a"),
            UnlockedIdentity::generate("b"),
            UnlockedIdentity::generate("c"),
        );
        let (a, b) = members();
        let sealed = package(&admin, &[ann.public()], &a, &b);
        assert!(matches!(
            open_package(sealed.as_slice(), &other),
            Err(PackageError::NotForMe)
        ));
    }

    /// Every single-byte flip and a grid of truncations: all refused, none
    /// panics, and the error names a check.
    #[test]
    fn tamper_sweep_refuses_every_flip_and_truncation() {
        let (admin, ann) = (
            UnlockedIdentity::generate("a"),
            UnlockedIdentity::generate("b"),
        );
        let (a, b) = (b"x".to_vec(), vec![7u8; 300]);
        let sealed = package(&admin, &[ann.public()], &a, &b);
        let check = |bytes: &[u8]| -> Result<(), PackageError> {
            let mut p = open_package(bytes, &ann)?;
            p.verify_rest()
        };
        assert!(check(&sealed).is_ok());
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            let err = check(&t).expect_err("a flipped byte must be refused");
            assert!(err.to_string().contains("check failed"), "{err}");
        }
        for len in (0..sealed.len()).step_by(7) {
            assert!(check(&sealed[..len]).is_err(), "truncated to {len}");
        }
    }

    /// A manifest naming `sender` as signer, addressed to `to`.
    fn manifest_from(
        sender: &UnlockedIdentity,
        to: &UnlockedIdentity,
        members: Vec<MemberEntry>,
    ) -> Manifest {
        Manifest {
            format_version: 1,
            package_id: "00".repeat(16),
            kind: PackageKind::Work,
            project_id: "0123456789abcdef0123456789abcdef".into(),
            sender: sender.public().fingerprint(),
            sender_key: sender.public().to_key_string(),
            recipients: vec![to.public().fingerprint()],
            created_ms: 0,
            sequence: 1,
            members,
        }
    }

    /// Container bytes assembled by hand (signed by `signer`), sealed to `to`.
    fn seal_by_hand(
        manifest: &Manifest,
        signer: &UnlockedIdentity,
        to: &UnlockedIdentity,
        body: &[u8],
    ) -> Vec<u8> {
        let json = serde_json::to_vec(manifest).unwrap();
        let mut plain = MAGIC.to_vec();
        plain.extend_from_slice(&(json.len() as u32).to_be_bytes());
        plain.extend_from_slice(&json);
        plain.extend_from_slice(&signer.sign(&signed_bytes(&json)));
        plain.extend_from_slice(body);
        age::encrypt(&to.public().recipient, &plain).unwrap()
    }

    #[test]
    fn a_manifest_re_signed_by_another_key_fails_the_signature_check() {
        // Build a package whose manifest names the admin but is signed by a
        // forger: the forger cannot produce the admin's signature.
        let (admin, forger, ann) = (
            UnlockedIdentity::generate("a"),
            UnlockedIdentity::generate("f"),
            UnlockedIdentity::generate("b"),
        );
        let manifest = manifest_from(&admin, &ann, vec![]);
        let sealed = seal_by_hand(&manifest, &forger, &ann, b"");
        assert!(matches!(
            open_package(sealed.as_slice(), &ann),
            Err(PackageError::Signature)
        ));
    }

    #[test]
    fn a_member_that_does_not_match_its_hash_is_named() {
        let (admin, ann) = (
            UnlockedIdentity::generate("a"),
            UnlockedIdentity::generate("b"),
        );
        // Sign a manifest for member "x", then deliver "y" in its place.
        let entry = MemberEntry {
            name: "m".into(),
            size: 1,
            sha256: hex::encode(Sha256::digest(b"x")),
        };
        let manifest = manifest_from(&admin, &ann, vec![entry]);
        let sealed = seal_by_hand(&manifest, &admin, &ann, b"y");
        let mut p = open_package(sealed.as_slice(), &ann).unwrap();
        assert!(matches!(p.verify_rest(), Err(PackageError::MemberHash { name }) if name == "m"));
    }
}
