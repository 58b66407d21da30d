//! The embedded demo project: a few public-domain images, one short audio
//! clip and some synthetic support texts, compiled into the binary and
//! encrypted into a bundle in the app data directory on first run.
//!
//! Two identities are made: an admin (who creates, imports and assigns) and
//! the annotator the GUI unlocks as. Their passphrases are public on purpose:
//! this is a demo, and the unlock screen and README show them.

use std::path::PathBuf;

use age::secrecy::SecretString;

use crate::controller::{CoreError, Session};
use crate::home::{Home, HomeError};
use crate::import::ImportOptions;
use crate::model::Role;

/// Passphrase of the demo annotator (shown on the unlock screen and README).
pub const DEMO_PASSPHRASE: &str = "demo-annotator";
/// Passphrase of the demo admin, for trying the admin CLI on the demo.
pub const DEMO_ADMIN_PASSPHRASE: &str = "demo-admin";
/// scrypt cost of the demo identities: below the default (2^18) on
/// purpose. Their passphrases are published, so no cost protects them; 2^16
/// (the cost before 2^18) keeps the demo, and the GUI tests built on it,
/// as quick to unlock as they were.
pub const DEMO_SCRYPT_LOG_N: u8 = 16;

/// (file name, bytes) of every embedded asset, in import order.
pub const ASSETS: &[(&str, &[u8])] = &[
    (
        "astronaut.jpg",
        include_bytes!("../assets/demo/astronaut.jpg"),
    ),
    (
        "street_plate_fake.jpg",
        include_bytes!("../assets/demo/street_plate_fake.jpg"),
    ),
    ("rocket.webp", include_bytes!("../assets/demo/rocket.webp")),
    (
        "camera_gray.png",
        include_bytes!("../assets/demo/camera_gray.png"),
    ),
    (
        "call_04_22k.mp3",
        include_bytes!("../assets/demo/call_04_22k.mp3"),
    ),
    (
        "support_chats.jsonl",
        include_bytes!("../assets/demo/support_chats.jsonl"),
    ),
    (
        "contract.txt",
        include_bytes!("../assets/demo/contract.txt"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("embedded demo asset {name} was rejected: {why}")]
    Asset { name: String, why: String },
}

/// Where the demo lives inside a home directory.
pub struct DemoPaths {
    /// Home of the demo annotator (the GUI's identity in demo mode).
    pub annotator_home: Home,
    /// Home of the demo admin.
    pub admin_home: Home,
    pub project: PathBuf,
}

impl DemoPaths {
    pub fn in_home(home: &Home) -> Self {
        let demo = home.demo_home();
        Self {
            admin_home: Home::new(demo.dir.join("admin")),
            project: demo.projects_dir().join("demo.sealtag"),
            annotator_home: demo,
        }
    }
}

/// Creates the demo identities and bundle unless they already exist.
/// Returns the paths; idempotent.
pub fn ensure_demo(home: &Home) -> Result<DemoPaths, DemoError> {
    let paths = DemoPaths::in_home(home);
    if paths.project.join("header").exists() && paths.annotator_home.has_identity() {
        return Ok(paths);
    }
    // A half-made demo (crash during set-up) is rebuilt from scratch; it
    // holds nothing but the embedded public assets.
    let _ = std::fs::remove_dir_all(&paths.annotator_home.dir);
    let annotator = paths.annotator_home.create_identity(
        "Demo Annotator",
        &SecretString::from(DEMO_PASSPHRASE.to_string()),
        DEMO_SCRYPT_LOG_N,
    )?;
    let admin = paths.admin_home.create_identity(
        "Demo Admin",
        &SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()),
        DEMO_SCRYPT_LOG_N,
    )?;
    paths.annotator_home.ensure()?;
    std::fs::create_dir_all(paths.annotator_home.projects_dir()).map_err(|source| {
        HomeError::Io {
            path: paths.annotator_home.projects_dir(),
            source,
        }
    })?;
    let annotator_key = annotator.public().to_key_string();
    let mut session = Session::create_project(&paths.project, "Sealtag demo", admin)?;
    let options = ImportOptions::default();
    let mut item_ids = Vec::new();
    for (name, bytes) in ASSETS {
        let report = session.import_bytes(name, bytes.to_vec(), &options)?;
        if report.outcome != "imported" {
            return Err(DemoError::Asset {
                name: name.to_string(),
                why: report.errors.join("; "),
            });
        }
        item_ids.extend(report.item_ids);
    }
    session.add_user(&annotator_key, Role::Annotator, "Demo Annotator")?;
    session.assign(&item_ids, "Demo Annotator", "annotate")?;
    session.close()?;
    paths.annotator_home.remember_project(&paths.project);
    Ok(paths)
}
