//! The bundle header: the only plaintext file in a bundle. It says what the
//! directory is (magic, format version, project id) and carries one key slot
//! per enrolled person: the project master key sealed with age to that
//! person's X25519 key. Slots carry no names, so the header reveals only how
//! many people are enrolled. An HMAC under the master key detects edits.
//!
//! Since format version 2 the header also names its founding admin's public
//! key and carries their Ed25519 signature over every other field. age does
//! not authenticate who sealed a slot, and anyone holding the master key can
//! recompute the MAC; the signature means only the founding admin's key can
//! add, remove or replace slots. Each identity's home pins, per project id,
//! the founding key it saw first ([`crate::home::Home::check_pin`]). A
//! version-1 header (unsigned) still opens and is signed by the next slot
//! change, which its writer makes as founding admin.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::crypto::{IdentityError, MasterKey, PublicIdentity, UnlockedIdentity};

pub const MAGIC: &str = "sealtag-bundle";
/// Bundle layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 2;
/// Domain separation for the founding admin's header signature.
const SIGNATURE_CONTEXT: &[u8] = b"sealtag bundle header v2\0";
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
    #[error(
        "the bundle header's founding-admin signature does not verify: its key slots or project id were changed outside Sealtag (age does not record who sealed a slot), so this is not the bundle you opened before; do not use it — compare it with the site's copy and ask the founding admin"
    )]
    BadSignature,
    #[error(
        "only the founding admin ({founder}) can change who holds a key slot in this bundle: the header is signed with their key and pinned on every member's machine; ask them to add or remove the person"
    )]
    NotFounder { founder: String },
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
    /// Version 2: the founding admin's public key (`sealtag1:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub founder: Option<String>,
    /// Version 2: hex Ed25519 signature by `founder` over every field above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Header {
    /// A header with one slot per recipient, all sealing `master`, signed
    /// by `founder` (the founding admin).
    pub fn seal(
        project_id: &str,
        master: &MasterKey,
        recipients: &[PublicIdentity],
        founder: &UnlockedIdentity,
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
            founder: Some(founder.public().to_key_string()),
            signature: None,
        };
        header.mac = hex::encode(master.header_mac(project_id, &header.mac_input()));
        header.signature = Some(hex::encode(founder.sign(&header.signed_input())));
        Ok(header)
    }

    /// What the founding admin signs: context, the MAC input, the founder
    /// key and the MAC, each length-prefixed.
    fn signed_input(&self) -> Vec<u8> {
        let mut out = SIGNATURE_CONTEXT.to_vec();
        out.extend_from_slice(&self.mac_input());
        for field in [self.founder.as_deref().unwrap_or(""), &self.mac] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// The founding admin's key, checked against the header's signature.
    /// `None` for an unsigned version-1 header; a version-2 header without
    /// a valid signature is [`HeaderError::BadSignature`].
    pub fn verified_founder(&self) -> Result<Option<PublicIdentity>, HeaderError> {
        if self.format_version < 2 && self.founder.is_none() && self.signature.is_none() {
            return Ok(None);
        }
        let (Some(key), Some(sig)) = (&self.founder, &self.signature) else {
            return Err(HeaderError::BadSignature);
        };
        let key =
            PublicIdentity::parse(key).map_err(|_: IdentityError| HeaderError::BadSignature)?;
        let sig = hex::decode(sig).map_err(|_| HeaderError::BadSignature)?;
        if key.verify(&self.signed_input(), &sig) {
            Ok(Some(key))
        } else {
            Err(HeaderError::BadSignature)
        }
    }

    /// Refuses a slot change by anyone but the founding admin; an unsigned
    /// version-1 header has none yet, and its next writer becomes it.
    pub fn check_writer(&self, writer: &UnlockedIdentity) -> Result<(), HeaderError> {
        match self.verified_founder()? {
            Some(founder) if founder != writer.public() => Err(HeaderError::NotFounder {
                founder: founder.fingerprint(),
            }),
            _ => Ok(()),
        }
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
    /// checking the header MAC with it and the founding admin's signature.
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
            // The MAC only proves a master-key holder wrote this; the
            // signature proves it was the founding admin.
            self.verified_founder()?;
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
        let header = Header::seal(id, &master, &[a.public(), b.public()], &a).unwrap();
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

#[cfg(test)]
mod signature_tests {
    use super::*;

    /// Someone holding the master key (an insider with a slot) adds a slot
    /// outside Sealtag and recomputes the MAC: the MAC passes, the
    /// founding admin's signature does not. Re-signing with their own key
    /// makes a header whose founder differs (caught by the home's pin).
    #[test]
    fn a_slot_added_outside_the_app_breaks_the_founders_signature() {
        let admin = UnlockedIdentity::generate("admin");
        let insider = UnlockedIdentity::generate("insider");
        let friend = UnlockedIdentity::generate("friend");
        let master = MasterKey::generate();
        let id = "0123456789abcdef0123456789abcdef";
        let header =
            Header::seal(id, &master, &[admin.public(), insider.public()], &admin).unwrap();
        assert_eq!(header.verified_founder().unwrap(), Some(admin.public()));
        let mut edited = header.clone();
        let sealed = age::encrypt(&friend.public().recipient, master.expose()).unwrap();
        edited.key_slots.push(STANDARD.encode(sealed));
        edited.mac = hex::encode(master.header_mac(id, &edited.mac_input()));
        assert!(
            edited.verify_mac(&master).is_ok(),
            "the MAC alone is fooled"
        );
        assert!(matches!(
            edited.unlock(&friend),
            Err(HeaderError::BadSignature)
        ));
        // Stripping the signature (a downgrade to version 1) is no way out.
        let mut stripped = edited.clone();
        stripped.signature = None;
        assert!(matches!(
            stripped.unlock(&friend),
            Err(HeaderError::BadSignature)
        ));
        // Only the founder may write slots.
        assert!(header.check_writer(&admin).is_ok());
        assert!(matches!(
            header.check_writer(&insider),
            Err(HeaderError::NotFounder { .. })
        ));
    }
}
