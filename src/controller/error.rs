//! What can go wrong in the core, as one enum the front ends match on: a
//! refusal names its check, a denial its role and action, an I/O failure
//! its path; `Invalid` carries input-validation messages that already say
//! what to change.

use std::path::{Path, PathBuf};

use crate::bundle::{BundleError, HeaderError};
use crate::crypto::IdentityError;
use crate::permissions::Denied;
use crate::project::ProjectError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The identity's home refused the bundle (not the one pinned).
    #[error(transparent)]
    Home(#[from] crate::home::HomeError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "you ({fingerprint}) are not an active member of this project; ask a project admin to add you"
    )]
    NotMember { fingerprint: String },
    #[error(
        "this schema change would remove {labels} existing label(s) ({detail}); confirm to apply it"
    )]
    NeedsConfirmation { labels: usize, detail: String },
    #[error("{0}")]
    Incomplete(String),
    /// A package refused by a named check (`signature`, `replay`,
    /// `revocation`, …): tests, the GUI and the audit row read `check`.
    #[error("package refused: {check} check failed: {why}")]
    PackageRefused { check: String, why: String },
    #[error("cancelled: nothing was changed")]
    Cancelled,
    #[error(
        "this work package expired on {at}: labelling is closed. Send your results to the site (once), then erase this bundle (sealtag project erase)"
    )]
    Expired { at: String },
    /// A file the operation needed could not be read or written.
    #[error("{}{source}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Io {
        path: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
    /// A member, role, revocation or security setting row disagrees with
    /// the signed membership log (or the log itself was changed).
    #[error(
        "refused: the project's membership or security settings were changed outside Sealtag ({what}). The admin-signed membership log decides; ask a project admin to open the project, which puts the signed state back and records this in the audit trail"
    )]
    MembershipTampered { what: String },
}

impl CoreError {
    /// `map_err(CoreError::io(&path))`: an I/O failure on `path`.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CoreError + '_ {
        move |source| CoreError::Io {
            path: Some(path.to_path_buf()),
            source,
        }
    }
}

impl From<BundleError> for CoreError {
    fn from(e: BundleError) -> Self {
        CoreError::Project(ProjectError::Bundle(e))
    }
}
impl From<HeaderError> for CoreError {
    fn from(e: HeaderError) -> Self {
        CoreError::Project(ProjectError::Header(e))
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;
