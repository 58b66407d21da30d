//! Helpers shared by the CLI integration tests: a throw-away environment
//! (home, project bundle, private TMPDIR, all inside one temp dir) and
//! functions that run the real `sealtag` binary in it.
//!
//! Every process is started with `TMPDIR`, `SQLITE_TMPDIR`, `HOME` and the
//! XDG directories pointed into the temp dir, so nothing a test does can land
//! outside it (the no-plaintext test scans all of it).

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// Passphrase of the test identity. Distinctive on purpose: the
/// no-plaintext test checks that it never reaches the disk.
pub const PASS: &str = "Tst-passphrase:quartz-otter-71-vellum";

/// Default display name of the test identity.
pub const USER_NAME: &str = "Test Admin";

/// One isolated environment: everything the CLI writes stays under `dir`.
pub struct Env {
    /// Owns the temp dir (deleted on drop).
    pub dir: TempDir,
    /// The sealtag identity dir, passed as `--home`.
    pub home: PathBuf,
    /// The project bundle path (not created until [`Env::create_project`]).
    pub project: PathBuf,
    /// The private TMPDIR given to every process.
    pub tmp: PathBuf,
    /// `$HOME` of the child processes (XDG dirs live below it).
    pub user_home: PathBuf,
    /// The passphrase given via `SEALTAG_PASSPHRASE`.
    pub passphrase: String,
}

impl Env {
    /// A fresh temp dir with `home/`, `tmp/` and `user/` inside it.
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("sealtag-it-")
            .tempdir()
            .expect("creating temp dir");
        let root = dir.path().to_path_buf();
        let env = Env {
            home: root.join("home"),
            project: root.join("project.sealtag"),
            tmp: root.join("tmp"),
            user_home: root.join("user"),
            passphrase: PASS.to_string(),
            dir,
        };
        for d in [&env.tmp, &env.user_home] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        env
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `--project <bundle>` as arguments.
    pub fn project_arg(&self) -> [&OsStr; 2] {
        [OsStr::new("--project"), self.project.as_os_str()]
    }

    /// A `sealtag --home <home>` command with the isolated environment set;
    /// the caller adds the subcommand and decides on stdio.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(bin());
        cmd.arg("--home")
            .arg(&self.home)
            .args(args)
            .env("SEALTAG_PASSPHRASE", &self.passphrase)
            // Identities as cheap as before scrypt 2^18 (debug builds only).
            .env("SEALTAG_TEST_SCRYPT_LOG_N", "16")
            .env("TMPDIR", &self.tmp)
            .env("SQLITE_TMPDIR", &self.tmp)
            .env("HOME", &self.user_home)
            .env("XDG_DATA_HOME", self.user_home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.user_home.join(".config"))
            .env("XDG_CACHE_HOME", self.user_home.join(".cache"))
            .env("XDG_STATE_HOME", self.user_home.join(".local/state"))
            .env_remove("SEALTAG_HOME")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `sealtag --home <home> ARGS…` to completion.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
    }

    /// Like [`Env::run`] but panics (with stdout and stderr) unless the exit
    /// code is `expected`.
    pub fn run_expect<I, S>(&self, expected: i32, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.run(&args);
        assert_eq!(
            out.status.code(),
            Some(expected),
            "`sealtag {}` exited with {:?}, expected {expected}\n{}",
            describe_args(&args),
            out.status,
            output_text(&out)
        );
        out
    }

    /// Runs ARGS and panics unless the exit code is 0.
    pub fn run_ok<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_expect(0, args)
    }

    /// `identity new --name NAME` with [`Env::passphrase`].
    pub fn create_identity(&self, name: &str) {
        self.run_ok(["identity", "new", "--name", name]);
    }

    /// `project create <bundle> --name NAME`.
    pub fn create_project(&self, name: &str) {
        let project = self.project.as_os_str();
        self.run_ok([
            OsStr::new("project"),
            OsStr::new("create"),
            project,
            OsStr::new("--name"),
            OsStr::new(name),
        ]);
    }

    /// Identity + project in one go.
    pub fn setup(&self) {
        self.create_identity(USER_NAME);
        self.create_project("Integration test project");
    }

    /// `import --project P --json PATHS…`; panics unless the exit code is
    /// `expected` (0 all imported, 3 partial). Returns the JSON report.
    pub fn import_expect(&self, expected: i32, paths: &[PathBuf]) -> serde_json::Value {
        let mut args: Vec<&OsStr> = vec![OsStr::new("import")];
        args.extend(self.project_arg());
        args.push(OsStr::new("--json"));
        args.extend(paths.iter().map(|p| p.as_os_str()));
        let out = self.run_expect(expected, &args);
        parse_json(&out)
    }

    /// `items --project P --json`.
    pub fn items(&self) -> Vec<serde_json::Value> {
        let mut args = vec![OsStr::new("items")];
        args.extend(self.project_arg());
        args.push(OsStr::new("--json"));
        let out = self.run_ok(&args);
        match parse_json(&out) {
            serde_json::Value::Array(items) => items,
            other => panic!("items --json is not an array: {other}"),
        }
    }

    /// Id of the first item of `kind` ("image", "audio", "text").
    pub fn first_item_of_kind(&self, kind: &str) -> i64 {
        self.items()
            .iter()
            .find(|i| i["kind"] == kind)
            .and_then(|i| i["id"].as_i64())
            .unwrap_or_else(|| panic!("no {kind} item in the project"))
    }

    /// Arguments of `label add --project P --item ID --class CLASS --bbox x,y,w,h`.
    pub fn label_add_args(&self, item: i64, class: &str, bbox: [f64; 4]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "label".into(),
            "add".into(),
            "--project".into(),
            self.project.to_str().expect("UTF-8 temp path").into(),
            "--item".into(),
            item.to_string(),
            "--class".into(),
            class.into(),
            "--bbox".into(),
        ];
        let values = bbox.map(|v| v.to_string());
        args.push(values.join(","));
        args
    }

    /// `label add`; returns the printed annotation ids.
    pub fn label_add(&self, item: i64, class: &str, bbox: [f64; 4], repeat: u32) -> Vec<i64> {
        let mut args = self.label_add_args(item, class, bbox);
        args.push("--repeat".into());
        args.push(repeat.to_string());
        let out = self.run_ok(&args);
        let ids = saved_ids(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(
            ids.len(),
            repeat as usize,
            "label add --repeat {repeat} printed {} id(s)\n{}",
            ids.len(),
            output_text(&out)
        );
        ids
    }

    /// `label list --project P --item ID --json`.
    pub fn labels(&self, item: i64) -> Vec<serde_json::Value> {
        let item = item.to_string();
        let mut args = vec![OsStr::new("label"), OsStr::new("list")];
        args.extend(self.project_arg());
        args.extend([
            OsStr::new("--item"),
            OsStr::new(&item),
            OsStr::new("--json"),
        ]);
        let out = self.run_ok(&args);
        match parse_json(&out) {
            serde_json::Value::Array(labels) => labels,
            other => panic!("label list --json is not an array: {other}"),
        }
    }

    /// Runs `project check`; returns the output (caller asserts).
    pub fn project_check(&self) -> Output {
        let mut args = vec![OsStr::new("project"), OsStr::new("check")];
        args.extend(self.project_arg());
        self.run(&args)
    }

    /// Runs `audit verify`; returns the output (caller asserts).
    pub fn audit_verify(&self) -> Output {
        let mut args = vec![OsStr::new("audit"), OsStr::new("verify")];
        args.extend(self.project_arg());
        self.run(&args)
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sealtag")
}

/// Runs `sealtag --home <env.home> ARGS…` in `env` (see [`Env::run`]).
pub fn sealtag<I, S>(env: &Env, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    env.run(args)
}

/// `tests/fixtures` of this package (works from any checkout).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One fixture under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    let path = fixtures_dir().join(rel);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

/// Regular files directly in `dir`, sorted by name.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            std::fs::symlink_metadata(p)
                .map(|m| m.is_file())
                .unwrap_or(false)
        })
        .collect();
    files.sort();
    files
}

/// Every regular file under `root`, recursively; symbolic links are listed
/// in the second vector and never followed.
pub fn walk_files(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut links = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let meta = std::fs::symlink_metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if meta.file_type().is_symlink() {
                links.push(path);
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    links.sort();
    (files, links)
}

/// Ids from every complete `saved annotation <id>` line of `stdout`.
pub fn saved_ids(stdout: &str) -> Vec<i64> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("saved annotation "))
        .map(|id| {
            id.trim()
                .parse()
                .unwrap_or_else(|e| panic!("bad annotation id {id:?}: {e}"))
        })
        .collect()
}

/// stdout parsed as JSON (panics with the output otherwise).
pub fn parse_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", output_text(out)))
}

/// stdout and stderr for failure messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn describe_args(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Panics with the output unless `out` exited 0.
pub fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\n{}",
        out.status,
        output_text(out)
    );
}
