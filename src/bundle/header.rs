//! The bundle header: the only plaintext file in a bundle. It says what the
//! directory is (magic, format version, project id) and carries one key slot
//! per enrolled person: the project master key sealed with age to that
//! person's X25519 key. Slots carry no names, so the header reveals only how
//! many people are enrolled. An HMAC under the master key detects edits.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::crypto::{MasterKey, PublicIdentity, UnlockedIdentity};

pub const MAGIC: &str = "sealtag-bundle";
/// Bundle layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const MAX_HEADER_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("cannot read the bundle header {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the bundle header {path} is damaged ({why}); the bundle was left untouched — restore it from a backup"
    )]
    Damaged { path: PathBuf, why: String },
    #[error(
        "this bundle has format version {found}, but this Sealtag reads up to version {FORMAT_VERSION}; upgrade Sealtag to open it"
    )]
    TooNew { found: u32 },
    #[error(
        "your identity {fingerprint} holds no key slot in this project; ask a project admin to add you with `sealtag user add`"
    )]
    NotEnrolled { fingerprint: String },
    #[error(
        "the bundle header failed its integrity check (it was edited outside Sealtag); the bundle was left untouched"
    )]
    Tampered,
    #[error("could not seal a key slot: {0}")]
    Seal(String),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub magic: String,
    pub format_version: u32,
    pub project_id: String,
    /// base64 of one age file per enrolled person, each holding the master key.
    pub key_slots: Vec<String>,
    /// hex HMAC-SHA256 over the fields above, keyed from the master key.
    pub mac: String,
}

impl Header {
    /// A header with one slot per recipient, all sealing `master`.
    pub fn seal(
        project_id: &str,
        master: &MasterKey,
        recipients: &[PublicIdentity],
    ) -> Result<Self, HeaderError> {
        let mut key_slots = Vec::with_capacity(recipients.len());
        for r in recipients {
            let sealed = age::encrypt(&r.recipient, master.expose())
                .map_err(|e| HeaderError::Seal(e.to_string()))?;
            key_slots.push(STANDARD.encode(sealed));
        }
        let mut header = Self {
            magic: MAGIC.to_string(),
            format_version: FORMAT_VERSION,
            project_id: project_id.to_string(),
            key_slots,
            mac: String::new(),
        };
        header.mac = hex::encode(master.header_mac(project_id, &header.mac_input()));
        Ok(header)
    }

    fn mac_input(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for field in [
            self.magic.as_str(),
            &self.format_version.to_string(),
            &self.project_id,
        ]
        .into_iter()
        .chain(self.key_slots.iter().map(String::as_str))
        {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// Reads and structurally validates a header file.
    pub fn read(path: &Path) -> Result<Self, HeaderError> {
        let file = std::fs::File::open(path).map_err(|source| HeaderError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_HEADER_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| HeaderError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Self::parse(&bytes, path)
    }

    /// Structurally validates header bytes already in memory; `path` only
    /// names the file in errors. Split from [`Header::read`] so the fuzz
    /// targets and the mutation tests reach the parser without a disk.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, HeaderError> {
        let damaged = |why: String| HeaderError::Damaged {
            path: path.to_path_buf(),
            why,
        };
        if bytes.len() as u64 > MAX_HEADER_BYTES {
            return Err(damaged("larger than any valid header".into()));
        }
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| damaged(format!("not valid JSON: {e}")))?;
        if header.magic != MAGIC {
            return Err(damaged("wrong magic".into()));
        }
        if header.format_version > FORMAT_VERSION {
            return Err(HeaderError::TooNew {
                found: header.format_version,
            });
        }
        if header.format_version == 0
            || header.project_id.len() != 32
            || !header.project_id.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(damaged("invalid version or project id".into()));
        }
        Ok(header)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Finds the slot sealed to `identity` and returns the master key, after
    /// checking the header MAC with it.
    pub fn unlock(&self, identity: &UnlockedIdentity) -> Result<MasterKey, HeaderError> {
        for slot in &self.key_slots {
            let Ok(sealed) = STANDARD.decode(slot) else {
                continue;
            };
            let Ok(plain) = age::decrypt(identity.age_identity(), &sealed) else {
                continue;
            };
            let plain = zeroize::Zeroizing::new(plain);
            let Some(master) = MasterKey::from_slice(&plain) else {
                continue;
            };
            self.verify_mac(&master)?;
            return Ok(master);
        }
        Err(HeaderError::NotEnrolled {
            fingerprint: identity.public().fingerprint(),
        })
    }

    pub fn verify_mac(&self, master: &MasterKey) -> Result<(), HeaderError> {
        let found = hex::decode(&self.mac).map_err(|_| HeaderError::Tampered)?;
        // Constant time: a byte-by-byte `==` would let the time taken to
        // refuse a forged tag reveal how much of it was right.
        if master.verify_header_mac(&self.project_id, &self.mac_input(), &found) {
            Ok(())
        } else {
            Err(HeaderError::Tampered)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_open_only_for_enrolled_people_and_mac_catches_edits() {
        let a = UnlockedIdentity::generate("a");
        let b = UnlockedIdentity::generate("b");
        let outsider = UnlockedIdentity::generate("c");
        let master = MasterKey::generate();
        let id = "0123456789abcdef0123456789abcdef";
        let header = Header::seal(id, &master, &[a.public(), b.public()]).unwrap();
        assert_eq!(header.unlock(&a).unwrap(), master);
        assert_eq!(header.unlock(&b).unwrap(), master);
        assert!(matches!(
            header.unlock(&outsider),
            Err(HeaderError::NotEnrolled { .. })
        ));
        let mut edited = header.clone();
        edited.key_slots.swap(0, 1);
        assert!(matches!(edited.unlock(&a), Err(HeaderError::Tampered)));
        let mut edited = header.clone();
        edited.project_id = "f123456789abcdef0123456789abcdef".into();
        assert!(matches!(edited.unlock(&a), Err(HeaderError::Tampered)));
        // The in-memory parser reads what `to_bytes` writes, and names the file when not.
        let path = Path::new("p.sealtag/header");
        assert_eq!(Header::parse(&header.to_bytes(), path).unwrap(), header);
        let err = Header::parse(b"{\"magic\": 1}", path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the bundle header p.sealtag/header is damaged (not valid JSON: "),
            "{err}"
        );
        // Only magic, version, project id, slots and the MAC are in the clear.
        let text = String::from_utf8(header.to_bytes()).unwrap();
        assert!(!text.contains(&a.public().fingerprint()));
    }
}
