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
    #[error("decryption failed: this package is not sealed to your identity, or it is damaged")]
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
}

/// The fields of a manifest the caller chooses.
pub struct NewPackage<'a> {
    pub kind: PackageKind,
    pub project_id: &'a str,
    pub sequence: u64,
}

fn signed_bytes(manifest_json: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + manifest_json.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(manifest_json);
    m
}

/// A member source that can be read twice: once to hash, once to write.
pub trait MemberSource {
    fn name(&self) -> &str;
    fn open(&self) -> io::Result<Box<dyn Read + '_>>;
}

/// An in-memory member (schema, labels, small files).
pub struct BytesMember<'a> {
    pub name: String,
    pub bytes: &'a [u8],
}

impl MemberSource for BytesMember<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.bytes))
    }
}

fn hash_member(source: &dyn MemberSource) -> io::Result<MemberEntry> {
    let mut reader = source.open()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(MemberEntry {
        name: source.name().to_string(),
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Writes a package: hashes every member (first pass), signs the
/// manifest, then streams manifest, signature and members through age to
/// `out`. Returns the manifest.
pub fn write_package(
    out: impl Write,
    sender: &UnlockedIdentity,
    recipients: &[PublicIdentity],
    new: &NewPackage<'_>,
    members: &[&dyn MemberSource],
) -> Result<Manifest, PackageError> {
    if recipients.is_empty() {
        return Err(PackageError::Seal(
            "a package needs at least one recipient".into(),
        ));
    }
    let entries = members
        .iter()
        .map(|m| hash_member(*m))
        .collect::<io::Result<Vec<_>>>()?;
    let public = sender.public();
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        package_id: hex::encode(crate::crypto::random_bytes::<16>()),
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
    let mut w = encryptor.wrap_output(out)?;
    w.write_all(MAGIC)?;
    w.write_all(&(json.len() as u32).to_be_bytes())?;
    w.write_all(&json)?;
    w.write_all(&signature)?;
    for (member, entry) in members.iter().zip(&manifest.members) {
        let mut reader = member.open()?;
        let copied = io::copy(&mut reader, &mut w)?;
        // A member that changed between the two passes would not match.
        if copied != entry.size {
            return Err(PackageError::Member(format!(
                "member '{}' changed while the package was written",
                entry.name
            )));
        }
    }
    w.finish()?;
    Ok(manifest)
}

/// A package whose decryption, format, signature and recipient checks
/// passed; members are read (and hash-checked) in manifest order.
pub struct OpenedPackage<R: Read> {
    pub manifest: Manifest,
    reader: R,
    next: usize,
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
    let mine = me.public().fingerprint();
    if !manifest.recipients.contains(&mine) {
        return Err(PackageError::NotListed(mine));
    }
    Ok(OpenedPackage {
        manifest,
        reader,
        next: 0,
    })
}

impl<R: Read> OpenedPackage<R> {
    /// Streams the next member into `out`, checking its hash; `None` after
    /// the last. On a mismatch `out` has received bad bytes: write to a
    /// temporary place and discard it on error.
    pub fn next_member_to(
        &mut self,
        out: &mut impl Write,
    ) -> Option<Result<MemberEntry, PackageError>> {
        let entry = self.manifest.members.get(self.next)?.clone();
        self.next += 1;
        Some(self.copy_member(&entry, out).map(|()| entry))
    }

    fn copy_member(
        &mut self,
        entry: &MemberEntry,
        out: &mut impl Write,
    ) -> Result<(), PackageError> {
        let mut hasher = Sha256::new();
        let mut left = entry.size;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            read_exact_or(
                &mut self.reader,
                &mut buf[..want],
                &format!("member '{}'", entry.name),
            )?;
            hasher.update(&buf[..want]);
            out.write_all(&buf[..want])?;
            left -= want as u64;
        }
        if hex::encode(hasher.finalize()) != entry.sha256 {
            return Err(PackageError::MemberHash {
                name: entry.name.clone(),
            });
        }
        Ok(())
    }

    /// Reads every remaining member (hash-checked) and confirms nothing
    /// follows the last one.
    pub fn verify_rest(&mut self) -> Result<(), PackageError> {
        while let Some(r) = self.next_member_to(&mut io::sink()) {
            r?;
        }
        let mut extra = [0u8; 1];
        match self.reader.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(PackageError::Format("data follows the last member".into())),
            Err(_) => Err(PackageError::NotForMe),
        }
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
            project_id: "p1",
            sequence: 3,
        };
        write_package(&mut out, sender, to, &new, &[&ma, &mb]).unwrap();
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
            assert!(
                err.to_string().contains("check failed")
                    || err.to_string().contains("decryption failed"),
                "{err}"
            );
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
            project_id: "p".into(),
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
