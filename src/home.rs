//! The per-user data directory: the identity file, the list of recent
//! projects, the demo project, and failed-unlock notes waiting to be written
//! into a project's audit trail. Chosen by `--home`, `SEALTAG_HOME`, or the
//! platform data directory (`directories`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use crate::bundle::write_atomic;
use crate::crypto::{IdentityError, PublicIdentity, UnlockedIdentity};

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("no identity in {dir}; create one with `sealtag identity new --name NAME`")]
    NoIdentity { dir: PathBuf },
    #[error("an identity already exists in {dir}; refusing to overwrite it")]
    IdentityExists { dir: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Passphrase(#[from] crate::passphrase::PassphraseError),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    #[error("no home directory could be determined; pass --home DIR or set SEALTAG_HOME")]
    NoDataDir,
    #[error(
        "this is not the bundle you opened before: project {project} was founded by {pinned} when this identity first opened it, but its header is now {found}. Someone replaced or re-signed the header outside Sealtag (a key slot added, or another bundle under the same id). Do not use it: ask the founding admin ({pinned}) which copy is genuine and restore that one"
    )]
    NotPinned {
        project: String,
        pinned: String,
        found: String,
    },
}

#[derive(Clone, Debug)]
pub struct Home {
    pub dir: PathBuf,
}

impl Home {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `explicit` (from `--home`/`SEALTAG_HOME`) or the platform data dir.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Self, HomeError> {
        if let Some(dir) = explicit {
            return Ok(Self::new(dir));
        }
        directories::ProjectDirs::from("org", "Sealtag", "sealtag")
            .map(|d| Self::new(d.data_dir()))
            .ok_or(HomeError::NoDataDir)
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> HomeError + '_ {
        move |source| HomeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn ensure(&self) -> Result<(), HomeError> {
        fs::create_dir_all(&self.dir).map_err(Self::io(&self.dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    pub fn identity_path(&self) -> PathBuf {
        self.dir.join("identity.age")
    }
    pub fn public_path(&self) -> PathBuf {
        self.dir.join("identity.pub")
    }
    pub fn projects_dir(&self) -> PathBuf {
        self.dir.join("projects")
    }
    pub fn demo_home(&self) -> Home {
        Home::new(self.dir.join("demo"))
    }
    fn recent_path(&self) -> PathBuf {
        self.dir.join("recent.json")
    }
    /// Per project id, the founding admin's key seen on first open (empty
    /// for an unsigned version-1 header).
    fn pins_path(&self) -> PathBuf {
        self.dir.join("pinned-projects.json")
    }
    fn failed_unlocks_path(&self) -> PathBuf {
        self.dir.join("failed-unlocks.log")
    }

    pub fn has_identity(&self) -> bool {
        self.identity_path().exists()
    }

    /// Creates and stores a new identity; refuses to replace an existing one
    /// and a passphrase that breaks [`crate::passphrase::check_new`].
    pub fn create_identity(
        &self,
        name: &str,
        passphrase: &SecretString,
        scrypt_log_n: u8,
    ) -> Result<UnlockedIdentity, HomeError> {
        crate::passphrase::check_new(passphrase)?;
        self.ensure()?;
        if self.has_identity() {
            return Err(HomeError::IdentityExists {
                dir: self.dir.clone(),
            });
        }
        let identity = UnlockedIdentity::generate(name);
        let sealed = identity.seal(passphrase, scrypt_log_n)?;
        write_atomic(&self.identity_path(), &sealed)?;
        let public = format!(
            "{}\n{}\n",
            name.replace('\n', " "),
            identity.public().to_key_string()
        );
        write_atomic(&self.public_path(), public.as_bytes())?;
        Ok(identity)
    }

    /// The public half, readable without the passphrase.
    pub fn public_identity(&self) -> Result<(String, PublicIdentity), HomeError> {
        let path = self.public_path();
        let text = fs::read_to_string(&path).map_err(|_| HomeError::NoIdentity {
            dir: self.dir.clone(),
        })?;
        let mut lines = text.lines();
        let name = lines.next().unwrap_or_default().to_string();
        let key = PublicIdentity::parse(lines.next().unwrap_or_default())?;
        Ok((name, key))
    }

    /// Unlocks the identity; a wrong passphrase is noted for the audit trail.
    pub fn unlock(&self, passphrase: &SecretString) -> Result<UnlockedIdentity, HomeError> {
        let path = self.identity_path();
        let sealed = fs::read(&path).map_err(|_| HomeError::NoIdentity {
            dir: self.dir.clone(),
        })?;
        match UnlockedIdentity::unseal(&sealed, passphrase) {
            Ok(id) => Ok(id),
            Err(e) => {
                self.note_failed_unlock("wrong passphrase");
                Err(e.into())
            }
        }
    }

    /// Changes the identity's passphrase: opens the file with `current` and
    /// seals the same keys under `new` at `scrypt_log_n`, replacing the file
    /// atomically. This is also how a file sealed at an older, lower cost is
    /// re-wrapped (`new` may equal `current`). A wrong `current` is noted
    /// like a failed unlock and changes nothing; so does a `new` that breaks
    /// [`crate::passphrase::check_new`]. The public half does not change.
    pub fn change_passphrase(
        &self,
        current: &SecretString,
        new: &SecretString,
        scrypt_log_n: u8,
    ) -> Result<UnlockedIdentity, HomeError> {
        crate::passphrase::check_new(new)?;
        let identity = self.unlock(current)?;
        let sealed = identity.seal(new, scrypt_log_n)?;
        write_atomic(&self.identity_path(), &sealed)?;
        Ok(identity)
    }

    /// The scrypt cost the identity file was sealed with (from its header;
    /// no passphrase needed), if there is a readable one.
    pub fn identity_scrypt_log_n(&self) -> Option<u8> {
        let sealed = fs::read(self.identity_path()).ok()?;
        crate::crypto::identity::sealed_scrypt_log_n(&sealed)
    }

    /// Remembers a failed unlock (time and reason only) until a project can
    /// record it: the project DB cannot be written without the keys.
    pub fn note_failed_unlock(&self, reason: &str) {
        use std::io::Write;
        let _ = self.ensure();
        if let Ok(mut f) = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.failed_unlocks_path())
        {
            let _ = writeln!(
                f,
                "{} {}",
                crate::model::now_ms(),
                reason.replace('\n', " ")
            );
            let _ = f.sync_all();
        }
    }

    /// Remembers another refused security check made before any project
    /// was open (a work package that failed verification); written to the
    /// next project this identity opens, as action `action`.
    pub fn note_security_event(&self, action: crate::events::AuditAction, reason: &str) {
        self.note_failed_unlock(&format!("@{action} {reason}"));
    }

    /// Failed unlocks noted since the last successful one: (unix ms, reason).
    /// A reason starting with `@action ` is another kind of security event.
    pub fn pending_failed_unlocks(&self) -> Vec<(i64, String)> {
        fs::read_to_string(self.failed_unlocks_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (ms, reason) = l.split_once(' ')?;
                Some((ms.parse().ok()?, reason.to_string()))
            })
            .collect()
    }

    pub fn clear_failed_unlocks(&self) {
        let _ = fs::remove_file(self.failed_unlocks_path());
    }

    /// Checks a bundle header against the founding key this home pinned
    /// for its project id, pinning it on first contact. A header signed by
    /// another key, or unsigned where a signed one was seen, is refused as
    /// not the bundle opened before. An unsigned (version-1) pin is
    /// replaced by the first signed header seen: the bundle's next slot
    /// change signs it.
    pub fn check_pin(&self, header: &crate::bundle::Header) -> Result<(), HomeError> {
        let founder = header
            .verified_founder()
            .map_err(|e| HomeError::Bundle(e.into()))?;
        let found_key = founder.as_ref().map(|f| f.to_key_string());
        let mut pins: std::collections::BTreeMap<String, String> = fs::read(self.pins_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let describe = |key: &str| {
            PublicIdentity::parse(key)
                .map(|k| k.fingerprint())
                .unwrap_or_else(|_| "an unreadable key".into())
        };
        match (pins.get(&header.project_id), &found_key) {
            (Some(pinned), Some(found)) if pinned == found => return Ok(()),
            (Some(pinned), None) if pinned.is_empty() => return Ok(()),
            (Some(pinned), found) if !pinned.is_empty() => {
                return Err(HomeError::NotPinned {
                    project: header.project_id.clone(),
                    pinned: describe(pinned),
                    found: match found {
                        Some(key) => format!("signed by {}", describe(key)),
                        None => "unsigned".into(),
                    },
                });
            }
            _ => {}
        }
        pins.insert(header.project_id.clone(), found_key.unwrap_or_default());
        self.ensure()?;
        let bytes = serde_json::to_vec_pretty(&pins).unwrap_or_default();
        write_atomic(&self.pins_path(), &bytes)?;
        Ok(())
    }

    pub fn recent_projects(&self) -> Vec<PathBuf> {
        fs::read(self.recent_path())
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<PathBuf>>(&b).ok())
            .unwrap_or_default()
    }

    pub fn remember_project(&self, path: &Path) {
        let mut list = self.recent_projects();
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        list.retain(|p| p != &path);
        list.insert(0, path);
        list.truncate(10);
        if self.ensure().is_ok()
            && let Ok(bytes) = serde_json::to_vec_pretty(&list)
        {
            let _ = write_atomic(&self.recent_path(), &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn a_passphrase_change_rewraps_the_same_keys_at_the_given_cost() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let created = home
            .create_identity("Ada", &pass("first passphrase"), 10)
            .unwrap();
        assert_eq!(home.identity_scrypt_log_n(), Some(10));
        let before = fs::read(home.identity_path()).unwrap();

        // Wrong current passphrase, or a new one that is too short: nothing changes.
        assert!(matches!(
            home.change_passphrase(&pass("wrong"), &pass("second passphrase"), 11),
            Err(HomeError::Identity(IdentityError::WrongPassphrase))
        ));
        assert_eq!(
            home.pending_failed_unlocks().len(),
            1,
            "noted for the audit trail"
        );
        assert!(matches!(
            home.change_passphrase(&pass("first passphrase"), &pass("short"), 11),
            Err(HomeError::Passphrase(_))
        ));
        assert_eq!(fs::read(home.identity_path()).unwrap(), before);

        let changed = home
            .change_passphrase(&pass("first passphrase"), &pass("second passphrase"), 11)
            .unwrap();
        assert_eq!(changed.public(), created.public());
        assert_eq!(home.identity_scrypt_log_n(), Some(11));
        assert!(home.unlock(&pass("first passphrase")).is_err());
        let reopened = home.unlock(&pass("second passphrase")).unwrap();
        assert_eq!(reopened.public(), created.public());
        assert_eq!(home.public_identity().unwrap().1, created.public());
    }

    #[test]
    fn a_new_identity_needs_a_passphrase_of_eight_characters() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        assert!(matches!(
            home.create_identity("Bo", &pass("seven c"), 10),
            Err(HomeError::Passphrase(_))
        ));
        assert!(!home.has_identity());
    }
}
