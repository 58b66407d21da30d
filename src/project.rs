//! Opening and creating a project bundle: header + key slot → master key →
//! SQLCipher database. Also re-keying when someone is removed, done so that a
//! crash at any point leaves a bundle that still opens.

use std::path::{Path, PathBuf};

use crate::bundle::{self, BundleError, BundlePaths, Header, HeaderError};
use crate::crypto::{MasterKey, PublicIdentity, UnlockedIdentity};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An unlocked bundle: its paths, header, master key and open database.
pub struct Project {
    pub paths: BundlePaths,
    pub header: Header,
    master: MasterKey,
    pub store: Store,
}

impl Project {
    /// Creates a new bundle at `root` sealed to `creator` only.
    pub fn create(root: &Path, creator: &UnlockedIdentity) -> Result<Self, ProjectError> {
        let paths = BundlePaths::new(root);
        paths.create_dirs()?;
        let project_id = hex::encode(crate::crypto::random_bytes::<16>());
        let master = MasterKey::generate();
        let header = Header::seal(&project_id, &master, &[creator.public()], creator)?;
        let store = Store::open(
            &paths.database(),
            &master.database_key(&project_id),
            &project_id,
            true,
        )?;
        // The header goes last: a crash before this leaves a directory that is
        // plainly not a bundle rather than a bundle without its database.
        bundle::write_atomic(&paths.header(), &header.to_bytes())?;
        Ok(Self {
            paths,
            header,
            master,
            store,
        })
    }

    /// Opens an existing bundle with `identity`'s key slot.
    pub fn open(root: &Path, identity: &UnlockedIdentity) -> Result<Self, ProjectError> {
        let paths = BundlePaths::new(root);
        let header = paths.read_header()?;
        let master = header.unlock(identity)?;
        let key = master.database_key(&header.project_id);
        match Store::open(&paths.database(), &key, &header.project_id, false) {
            Ok(store) => {
                // A leftover pending header is from a re-key that never reached
                // the database: the current header is authoritative.
                let _ = std::fs::remove_file(paths.pending_header());
                Ok(Self {
                    paths,
                    header,
                    master,
                    store,
                })
            }
            Err(StoreError::CannotDecrypt { path }) => {
                Self::finish_interrupted_rekey(paths, identity)
                    .ok_or(ProjectError::Store(StoreError::CannotDecrypt { path }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A re-key writes `header.next`, re-keys the DB, then renames. If we
    /// crashed between the last two steps, the DB already uses the new key.
    fn finish_interrupted_rekey(paths: BundlePaths, identity: &UnlockedIdentity) -> Option<Self> {
        let pending = Header::read(&paths.pending_header()).ok()?;
        let master = pending.unlock(identity).ok()?;
        let key = master.database_key(&pending.project_id);
        let store = Store::open(&paths.database(), &key, &pending.project_id, false).ok()?;
        std::fs::rename(paths.pending_header(), paths.header()).ok()?;
        Some(Self {
            paths,
            header: pending,
            master,
            store,
        })
    }

    pub fn project_id(&self) -> &str {
        &self.header.project_id
    }

    pub fn root(&self) -> PathBuf {
        self.paths.root.clone()
    }

    /// Adds a key slot for `recipient` (same master key); `writer` signs
    /// the new header and must be the founding admin.
    pub fn add_slot(
        &mut self,
        recipients: &[PublicIdentity],
        writer: &UnlockedIdentity,
    ) -> Result<(), ProjectError> {
        self.header.check_writer(writer)?;
        let header = Header::seal(self.project_id(), &self.master, recipients, writer)?;
        bundle::write_atomic(&self.paths.header(), &header.to_bytes())?;
        self.header = header;
        Ok(())
    }

    /// Replaces the master key and seals it to exactly `recipients`: the
    /// removed person's old slot no longer opens anything current.
    pub fn rekey(
        &mut self,
        recipients: &[PublicIdentity],
        writer: &UnlockedIdentity,
    ) -> Result<(), ProjectError> {
        self.header.check_writer(writer)?;
        let master = MasterKey::generate();
        let header = Header::seal(self.project_id(), &master, recipients, writer)?;
        bundle::write_atomic(&self.paths.pending_header(), &header.to_bytes())?;
        self.store.rekey(&master.database_key(self.project_id()))?;
        std::fs::rename(self.paths.pending_header(), self.paths.header()).map_err(|source| {
            BundleError::Io {
                path: self.paths.header(),
                source,
            }
        })?;
        self.header = header;
        self.master = master;
        Ok(())
    }
}
