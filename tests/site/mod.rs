//! The two-party set-up the in-process package tests share: a site bundle
//! made by Ada (admin) with Ann enrolled as an annotator, Ann's own home for
//! her laptop bundle, and the calls that move work between the two. Tests
//! that need more people or items build on [`Site::new`].

#![allow(dead_code)]

use sealtag::controller::{Session, open_work_package};
use sealtag::crypto::UnlockedIdentity;
use sealtag::home::Home;
use sealtag::import::ImportOptions;
use sealtag::model::Role;
use sealtag::package;
use std::cell::Cell;
use std::path::{Path, PathBuf};

/// A progress callback that never cancels.
pub fn no_progress() -> impl FnMut(package::Progress) -> bool {
    |_| true
}

/// The bytes of `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies a bundle (or any folder) as a backup or an insider's copy would.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The details of every audit row with `action`, oldest first.
pub fn audit_details(s: &mut Session, action: &str) -> Vec<String> {
    s.audit_log()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| r.details)
        .collect()
}

pub struct Site {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub admin: UnlockedIdentity,
    pub ann: UnlockedIdentity,
    pub ann_home: Home,
    /// Numbers the packages [`Site::send`] and [`Site::return_results`] write.
    packages: Cell<u32>,
}

impl Site {
    /// A closed site bundle: Ada is its admin, Ann an annotator.
    pub fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site.sealtag");
        let admin = UnlockedIdentity::generate("Ada Admin");
        let ann = UnlockedIdentity::generate("Ann Annotator");
        let mut s = Session::create_project(&root, "Site", admin.clone()).unwrap();
        s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
            .unwrap();
        s.close().unwrap();
        let ann_home = Home::new(dir.path().join("ann-home"));
        Site {
            dir,
            root,
            admin,
            ann,
            ann_home,
            packages: Cell::new(0),
        }
    }

    /// The site bundle opened by `who`.
    pub fn open(&self, who: &UnlockedIdentity) -> Session {
        Session::open(&self.root, who.clone(), None).unwrap()
    }

    /// The site bundle opened by Ada.
    pub fn admin(&self) -> Session {
        self.open(&self.admin)
    }

    /// A path in the test's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Imports one file at the site and returns its item id.
    pub fn import(&self, name: &str, bytes: Vec<u8>) -> i64 {
        self.admin()
            .import_bytes(name, bytes, &ImportOptions::default())
            .unwrap()
            .item_ids[0]
    }

    /// Seals Ann's work package as `name`, expiring at `expires` (ms).
    pub fn work(&self, name: &str, expires: Option<i64>) -> PathBuf {
        let work = self.path(name);
        self.admin()
            .make_work_package_expiring("Ann", &work, expires, &mut no_progress())
            .unwrap();
        work
    }

    /// Opens a work package on Ann's laptop, Ada's fingerprint pinned;
    /// returns the laptop bundle.
    pub fn open_work(&self, work: &Path) -> sealtag::controller::Result<PathBuf> {
        open_work_package(
            work,
            &self.ann,
            &self.ann_home,
            None,
            sealtag::controller::FirstSigner::Expect(&self.admin.public().fingerprint()),
            &mut no_progress(),
        )
        .map(|o| o.bundle)
    }

    /// Makes Ann's next work package and opens it on her laptop.
    pub fn send(&self) -> PathBuf {
        let work = self.work(&format!("work-{}.sealpkg", self.next_package()), None);
        self.open_work(&work).unwrap()
    }

    /// Ann's laptop bundle, opened by her.
    pub fn laptop(&self, bundle: &Path) -> Session {
        Session::open(bundle, self.ann.clone(), None).unwrap()
    }

    /// Ann's results, merged at the site with no conflicts.
    pub fn return_results(&self, bundle: &Path) {
        let results = self.path(&format!("results-{}.sealpkg", self.next_package()));
        self.laptop(bundle)
            .make_results_package(&results, false, &mut no_progress())
            .unwrap();
        let report = self
            .admin()
            .open_results_package(&results, &mut no_progress())
            .unwrap();
        assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    }

    fn next_package(&self) -> u32 {
        self.packages.set(self.packages.get() + 1);
        self.packages.get()
    }
}
