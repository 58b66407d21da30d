//! End-to-end tests of the `sealtag` binary: the CLI contract (names, JSON,
//! exit codes) in a fresh temp dir per test, as scripts and other tools use it.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod site;
use site::copy_dir;

const BIN: &str = env!("CARGO_BIN_EXE_sealtag");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// The scrypt cost of identities the debug binary writes (release builds
/// ignore it): 2^16, what they cost before 2^18 became the default, so the
/// suite's hundreds of unlocks stay as fast as they were. The tests of the
/// real cost remove it.
const TEST_SCRYPT_ENV: &str = "SEALTAG_TEST_SCRYPT_LOG_N";
const TEST_SCRYPT_LOG_N: &str = "16";

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn home(&self, who: &str) -> PathBuf {
        self.dir.path().join(who)
    }
    fn project(&self) -> PathBuf {
        self.dir.path().join("proj.sealtag")
    }
    /// Runs sealtag as `who` (their own home and passphrase).
    fn run(&self, who: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--home")
            .arg(self.home(who))
            .args(args)
            .env("SEALTAG_PASSPHRASE", format!("pass-of-{who}"))
            .env("TMPDIR", self.dir.path())
            .env(TEST_SCRYPT_ENV, TEST_SCRYPT_LOG_N)
            .output()
            .unwrap()
    }
    fn ok(&self, who: &str, args: &[&str]) -> String {
        let out = self.run(who, args);
        assert!(
            out.status.success(),
            "sealtag {args:?} as {who} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    fn json(&self, who: &str, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(who, args)).unwrap()
    }
    fn identity(&self, who: &str) -> Value {
        self.ok(who, &["identity", "new", "--name", who]);
        self.json(who, &["identity", "show", "--json"])
    }
    fn p(&self) -> String {
        self.project().to_string_lossy().into_owned()
    }
    /// Creates `who`'s identity and enrols them in the project with `role`.
    fn enrol(&self, who: &str, role: &str) -> Value {
        let id = self.identity(who);
        let key = id["public_key"].as_str().unwrap().to_string();
        self.ok(
            "admin",
            &[
                "user",
                "add",
                "--project",
                &self.p(),
                "--key",
                &key,
                "--role",
                role,
                "--name",
                who,
            ],
        );
        id
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A site with an admin-created project.
fn site_with_project() -> Site {
    let site = Site::new();
    site.identity("admin");
    site.ok(
        "admin",
        &["project", "create", &site.p(), "--name", "Claims"],
    );
    site
}

#[test]
fn identity_show_prints_stable_json() {
    let site = Site::new();
    let id = site.identity("alice");
    assert_eq!(id["name"], "alice");
    let key = id["public_key"].as_str().unwrap();
    assert!(
        key.starts_with("sealtag1:") && key.contains(":age1"),
        "{key}"
    );
    let fpr = id["fingerprint"].as_str().unwrap();
    assert_eq!(fpr.len(), 24);
    assert_eq!(fpr.matches('-').count(), 4);
    // A second identity in the same home is refused, the first one kept.
    let again = site.run("alice", &["identity", "new", "--name", "other"]);
    assert_eq!(code(&again), 1);
    assert!(stderr(&again).contains("already exists"));
    assert_eq!(site.json("alice", &["identity", "show", "--json"]), id);
    // The identity file holds no secret in the clear.
    let file = std::fs::read(site.home("alice").join("identity.age")).unwrap();
    assert!(file.starts_with(b"age-encryption.org/v1"));
    assert!(!String::from_utf8_lossy(&file).contains("AGE-SECRET-KEY"));
}

/// The scrypt work factor (log2 N) of an age file, read from its header:
/// the recipient stanza line `-> scrypt <salt> <log_n>`.
fn scrypt_log_n(file: &Path) -> u8 {
    let bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let stanza = text
        .lines()
        .take_while(|l| !l.starts_with("---"))
        .find_map(|l| l.strip_prefix("-> scrypt "))
        .unwrap_or_else(|| panic!("no scrypt stanza in {}:\n{text}", file.display()));
    let args: Vec<&str> = stanza.split(' ').collect();
    assert_eq!(args.len(), 2, "{stanza}");
    args[1].parse().unwrap()
}

/// `sealtag` as `who` with the current and new passphrase given by
/// environment (a script changing the passphrase).
fn run_with_passphrases(site: &Site, who: &str, current: &str, new: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--home")
        .arg(site.home(who))
        .args(args)
        .env("SEALTAG_PASSPHRASE", current)
        .env("SEALTAG_NEW_PASSPHRASE", new)
        .env_remove(TEST_SCRYPT_ENV)
        .output()
        .unwrap()
}

#[test]
fn a_new_identity_is_sealed_with_scrypt_2_18() {
    let site = Site::new();
    // Without the suite's cost knob: what a person's `identity new` writes.
    let out = run_with_passphrases(
        &site,
        "eve",
        "pass-of-eve",
        "",
        &["identity", "new", "--name", "eve"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(scrypt_log_n(&site.home("eve").join("identity.age")), 18);
}

#[test]
fn a_passphrase_change_rewraps_an_old_2_16_identity_at_2_18() {
    let site = Site::new();
    let home = sealtag::home::Home::new(site.home("old"));
    let old = age::secrecy::SecretString::from("old passphrase".to_string());
    // An identity file as sealtag wrote them before: scrypt 2^16.
    let created = home.create_identity("old", &old, 16).unwrap();
    let file = site.home("old").join("identity.age");
    assert_eq!(scrypt_log_n(&file), 16);
    let before = std::fs::read(&file).unwrap();

    // A wrong current passphrase changes nothing.
    let out = run_with_passphrases(
        &site,
        "old",
        "not it",
        "a new passphrase",
        &["identity", "passphrase"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);

    let out = run_with_passphrases(
        &site,
        "old",
        "old passphrase",
        "a new passphrase",
        &["identity", "passphrase"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(scrypt_log_n(&file), 18, "re-wrapped at the current cost");
    // The same keys, now under the new passphrase only.
    let new = age::secrecy::SecretString::from("a new passphrase".to_string());
    assert_eq!(home.unlock(&new).unwrap().public(), created.public());
    assert!(home.unlock(&old).is_err());
}

#[test]
fn a_short_or_empty_passphrase_is_refused_for_a_new_identity_and_a_change() {
    let site = Site::new();
    for weak in ["", "short", "7 chars"] {
        let out = run_with_passphrases(
            &site,
            "weak",
            weak,
            "",
            &["identity", "new", "--name", "weak"],
        );
        assert_eq!(code(&out), 1, "{weak:?} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("has {} characters", weak.chars().count()))
                && err.contains("at least 8")
                && err.contains("lost or stolen laptop")
                && err.contains("unrelated words"),
            "the refusal says what, why and what to do: {err}"
        );
        assert!(!site.home("weak").join("identity.age").exists());
    }
    // Changing to a short one is refused the same way; the old one still works.
    site.identity("alice");
    let file = site.home("alice").join("identity.age");
    let before = std::fs::read(&file).unwrap();
    let out = run_with_passphrases(
        &site,
        "alice",
        "pass-of-alice",
        "short",
        &["identity", "passphrase"],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("at least 8"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    site.ok("alice", &["project", "create", &site.p(), "--name", "x"]);
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let site = Site::new();
    assert_eq!(code(&site.run("x", &["no-such-command"])), 2);
    assert_eq!(code(&site.run("x", &["user", "add", "--project", "p"])), 2);
    let out = site.run("x", &["items", "--project", "/nonexistent/p"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("identity new"),
        "tells what to do next: {}",
        stderr(&out)
    );
}

#[test]
fn wrong_passphrase_is_refused_then_audited_at_the_next_unlock() {
    let site = site_with_project();
    let out = Command::new(BIN)
        .args([
            "--home",
            site.home("admin").to_str().unwrap(),
            "items",
            "--project",
            &site.p(),
        ])
        .env("SEALTAG_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!err.contains("pass-of-admin"));
    let log = site.json("admin", &["audit", "log", "--project", &site.p(), "--json"]);
    let failed: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "unlock.failed")
        .collect();
    assert_eq!(failed.len(), 1, "one failed unlock recorded");
    assert_eq!(failed[0]["details"]["reason"], "wrong passphrase");
}

#[test]
fn users_can_be_added_listed_and_removed_with_rekey() {
    let site = site_with_project();
    let bob = site.identity("bob");
    let key = bob["public_key"].as_str().unwrap();
    // Before enrolment Bob cannot open the project.
    let out = site.run("bob", &["items", "--project", &site.p()]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("no key slot"), "{}", stderr(&out));

    site.ok(
        "admin",
        &[
            "user",
            "add",
            "--project",
            &site.p(),
            "--key",
            key,
            "--role",
            "annotator",
            "--name",
            "Bob B.",
        ],
    );
    let users = site.json("admin", &["user", "list", "--project", &site.p(), "--json"]);
    let roles: Vec<(String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                u["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("admin".into(), "admin".into()),
            ("Bob B.".into(), "annotator".into())
        ]
    );
    assert!(
        site.run("bob", &["items", "--project", &site.p()])
            .status
            .success()
    );

    // An invalid role is a usage problem named clearly.
    let out = site.run(
        "admin",
        &[
            "user",
            "add",
            "--project",
            &site.p(),
            "--key",
            key,
            "--role",
            "boss",
            "--name",
            "x",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("unknown role 'boss'"));

    let header_before = std::fs::read(site.project().join("header")).unwrap();
    site.ok(
        "admin",
        &["user", "remove", "--project", &site.p(), "Bob B."],
    );
    assert_ne!(
        std::fs::read(site.project().join("header")).unwrap(),
        header_before,
        "re-keyed"
    );
    assert_eq!(
        code(&site.run("bob", &["items", "--project", &site.p()])),
        1
    );
    let users = site.json("admin", &["user", "list", "--project", &site.p(), "--json"]);
    assert_eq!(users[1]["active"], false);
}

#[test]
fn annotator_is_refused_admin_work_with_role_and_action_named() {
    let site = site_with_project();
    site.enrol("ann", "annotator");
    let img = format!("{FIXTURES}/import/astronaut.jpg");
    let out = site.run("ann", &["import", "--project", &site.p(), &img]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("a project annotator may not import"),
        "{}",
        stderr(&out)
    );
    let out = site.run("ann", &["audit", "log", "--project", &site.p()]);
    assert!(stderr(&out).contains("may not read_audit"));
    let log = site.json("admin", &["audit", "log", "--project", &site.p(), "--json"]);
    let denied = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "permission.denied")
        .count();
    assert_eq!(denied, 2);
}

#[test]
fn importing_the_hostile_batch_matches_bad_expected_json() {
    let site = site_with_project();
    let bad = format!("{FIXTURES}/bad");
    let out = site.run("admin", &["import", "--project", &site.p(), "--json", &bad]);
    assert_eq!(
        code(&out),
        3,
        "partial: some inputs rejected; stderr: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/bad_expected.json")).unwrap(),
    )
    .unwrap();
    let files = report["files"].as_array().unwrap();
    for case in expected.as_array().unwrap() {
        let name = case["file"].as_str().unwrap();
        let got = files
            .iter()
            .find(|f| {
                Path::new(f["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    == name
            })
            .unwrap_or_else(|| panic!("{name} missing from the report"));
        let outcome = got["outcome"].as_str().unwrap();
        match case["expected"].as_str().unwrap() {
            "reject" | "reject_or_sniff" => assert_eq!(outcome, "rejected", "{name}: {got}"),
            "partial" => assert_eq!(outcome, "partial", "{name}: {got}"),
            "import" => assert_eq!(outcome, "imported", "{name}: {got}"),
            other => panic!("unknown expectation {other}"),
        }
    }
    let errors = |name: &str| -> String {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .map(|f| f["errors"].to_string())
            .unwrap()
    };
    assert!(errors("invalid_utf8.txt").contains("116"));
    assert!(errors("malformed.jsonl").contains("line 6"));
    assert!(errors("missing_column.csv").contains("104"));
    assert!(
        errors("actually_mp3.flac")
            .to_lowercase()
            .contains("does not match")
    );
    assert!(errors("bomb_100000x100000.png").contains("100000"));
    assert!(errors("link_to_passwd.txt").contains("link"));

    let items = site.json("admin", &["items", "--project", &site.p(), "--json"]);
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Zoë's ID scan – copy (1) 📄.png"),
        "{names:?}"
    );
    assert!(names.contains(&"control_valid.jpg"));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("malformed.jsonl"))
            .count(),
        9
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("missing_column.csv"))
            .count(),
        4
    );
    assert!(!names.iter().any(|n| n.contains("passwd")));
    // Every rejection is in the audit trail.
    let log = site.json("admin", &["audit", "log", "--project", &site.p(), "--json"]);
    let rejected = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "import.rejected")
        .count();
    assert_eq!(
        rejected,
        files.iter().filter(|f| f["outcome"] == "rejected").count()
    );
}

#[test]
fn imported_originals_keep_their_sha256_and_labels_round_trip() {
    let site = site_with_project();
    let dir = format!("{FIXTURES}/import");
    let out = site.run("admin", &["import", "--project", &site.p(), &dir]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let items = site.json("admin", &["items", "--project", &site.p(), "--json"]);
    let astronaut = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "astronaut.jpg")
        .unwrap();
    let bytes = std::fs::read(format!("{dir}/astronaut.jpg")).unwrap();
    assert_eq!(
        astronaut["sha256"].as_str().unwrap(),
        sealtag::crypto::sha256_hex(&bytes)
    );
    assert_eq!(
        (astronaut["width"].as_u64(), astronaut["height"].as_u64()),
        (Some(512), Some(512))
    );
    let kinds: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    for kind in ["image", "audio", "text"] {
        assert!(kinds.contains(&kind), "{kind} imported");
    }
    let id = astronaut["id"].to_string();
    let out = site.ok(
        "admin",
        &[
            "label",
            "add",
            "--project",
            &site.p(),
            "--item",
            &id,
            "--class",
            "face",
            "--bbox",
            "170,55,115,125",
        ],
    );
    assert!(out.starts_with("saved annotation "));
    let labels = site.json(
        "admin",
        &[
            "label",
            "list",
            "--project",
            &site.p(),
            "--item",
            &id,
            "--json",
        ],
    );
    assert_eq!(
        labels[0]["geometry"],
        serde_json::json!({"type": "bbox", "x": 170.0, "y": 55.0, "w": 115.0, "h": 125.0})
    );
    assert_eq!(
        site.run(
            "admin",
            &[
                "label",
                "add",
                "--project",
                &site.p(),
                "--item",
                &id,
                "--class",
                "nope",
                "--bbox",
                "1,1,2,2"
            ]
        )
        .status
        .code(),
        Some(1)
    );
    let out = site.ok("admin", &["audit", "verify", "--project", &site.p()]);
    assert!(out.starts_with("ok:"), "{out}");
    assert!(
        site.ok("admin", &["project", "check", "--project", &site.p()])
            .starts_with("ok")
    );
}

#[test]
fn audit_verify_json_reports_the_chain() {
    let site = site_with_project();
    let report = site.json(
        "admin",
        &["audit", "verify", "--project", &site.p(), "--json"],
    );
    assert!(report["problem"].is_null());
    assert!(report["rows"].as_i64().unwrap() >= 3);
    assert!(report["signed_heads"].as_i64().unwrap() >= 1);
    assert_eq!(report["head_hash"].as_str().unwrap().len(), 64);
}

#[test]
fn audit_head_exports_a_checkpoint_that_verify_anchor_holds_the_trail_to() {
    let site = site_with_project();
    let backup = site.dir.path().join("backup.sealtag");
    copy_dir(&site.project(), &backup);
    site.ok("admin", &["audit", "verify", "--project", &site.p()]);
    let anchor_path = site.dir.path().join("checkpoint.json");
    let anchor = anchor_path.to_str().unwrap();
    let out = site.ok(
        "admin",
        &["audit", "head", "--project", &site.p(), "--out", anchor],
    );
    assert!(out.contains("checkpoint: row"), "{out}");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&anchor_path).unwrap()).unwrap();
    assert_eq!(file["format"], "sealtag-audit-anchor-v1");
    assert!(file["head"]["seq"].as_i64().unwrap() >= 3, "{file}");
    assert_eq!(file["head"]["hash"].as_str().unwrap().len(), 64);
    assert!(file["public_key"].as_str().is_some());
    assert!(file["project_id"].as_str().is_some());

    // The live trail extends the checkpoint.
    let report = site.json(
        "admin",
        &[
            "audit",
            "verify",
            "--project",
            &site.p(),
            "--anchor",
            anchor,
            "--json",
        ],
    );
    assert!(report["problem"].is_null(), "{report}");
    assert_eq!(report["anchors"], 1);
    // The verifying session's own opening row is not signed yet.
    assert_eq!(report["unsigned_tail"]["rows"], 1, "{report}");

    // The bundle restored from the older copy: its own chain is intact,
    // but it does not reach the checkpoint.
    std::fs::rename(site.project(), site.dir.path().join("newer.sealtag")).unwrap();
    copy_dir(&backup, &site.project());
    site.ok("admin", &["audit", "verify", "--project", &site.p()]);
    let out = site.run(
        "admin",
        &[
            "audit",
            "verify",
            "--project",
            &site.p(),
            "--anchor",
            anchor,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("does not extend the anchor"),
        "{}",
        stdout(&out)
    );

    // A checkpoint edited offline is refused as one.
    let mut edited = file.clone();
    edited["head"]["seq"] = json!(1);
    std::fs::write(&anchor_path, edited.to_string()).unwrap();
    let out = site.run(
        "admin",
        &[
            "audit",
            "verify",
            "--project",
            &site.p(),
            "--anchor",
            anchor,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("not validly signed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn demo_setup_creates_an_annotator_bundle_with_assigned_items() {
    let site = Site::new();
    let out = Command::new(BIN)
        .args([
            "--home",
            site.dir.path().to_str().unwrap(),
            "demo",
            "--setup-only",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let project = site.dir.path().join("demo/projects/demo.sealtag");
    let items = Command::new(BIN)
        .args([
            "--home",
            site.dir.path().join("demo").to_str().unwrap(),
            "items",
            "--json",
            "--project",
            project.to_str().unwrap(),
        ])
        .env("SEALTAG_PASSPHRASE", sealtag::demo::DEMO_PASSPHRASE)
        .output()
        .unwrap();
    assert!(items.status.success(), "{}", stderr(&items));
    let items: Value = serde_json::from_slice(&items.stdout).unwrap();
    let kinds: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "audio").count(), 1);
    assert!(kinds.iter().filter(|k| **k == "image").count() >= 3);
    assert!(kinds.iter().filter(|k| **k == "text").count() >= 3);
}

#[test]
fn passphrase_file_works_for_scripts() {
    let site = Site::new();
    let pass_file = site.dir.path().join("pass.txt");
    std::fs::write(&pass_file, "from-a-file\n").unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--home")
            .arg(site.home("s"))
            .arg("--passphrase-file")
            .arg(&pass_file)
            .args(args)
            .env_remove("SEALTAG_PASSPHRASE")
            .env(TEST_SCRYPT_ENV, TEST_SCRYPT_LOG_N)
            .output()
            .unwrap()
    };
    assert!(run(&["identity", "new", "--name", "s"]).status.success());
    let out = run(&["project", "create", &site.p(), "--name", "x"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Without any passphrase source and no terminal, the error says what to do.
    let out = Command::new(BIN)
        .arg("--home")
        .arg(site.home("s"))
        .args(["items", "--project", &site.p()])
        .env_remove("SEALTAG_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("SEALTAG_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_prints_positive_figures_and_cleans_up() {
    let site = Site::new();
    let r = site.json(
        "b",
        &[
            "bench",
            "--labels",
            "20",
            "--blob-mib",
            "1",
            "--items",
            "300",
            "--audit-rows",
            "1000",
            "--export-annotations",
            "500",
            "--core-only",
            "--json",
        ],
    );
    for field in [
        "identity_unlock_ms",
        "project_open_ms",
        "label_commit_us",
        "label_commit_p99_ms",
        "fsync_p99_ms",
        "blob_encrypt_mb_s",
        "blob_decrypt_mb_s",
        "raw_cipher_mb_s",
        "audit_verify_ms",
        "open_to_queue_ms",
        "quality_report_ms",
        "audit_verify_big_ms",
        "export_coco_secs",
    ] {
        assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {r}");
    }
    assert_eq!(r["labels_written"], 20);
    assert_eq!(r["queue_items"], 300, "the big project's queue is complete");
    assert!(r["audit_rows_verified"].as_i64().unwrap() >= 1000, "{r}");
    // Every goal present is judged, each with its figure.
    let goals = r["goals"].as_array().unwrap();
    assert!(goals.len() >= 5, "{r}");
    for g in goals {
        let figure = g["figure"].as_str().unwrap();
        assert_eq!(g["value"], r[figure], "{figure}");
    }
    assert!(
        r["audit_rows"].as_i64().unwrap() >= 20,
        "every label was audited"
    );
    // The scratch directory is gone: nothing left behind in the home.
    let left: Vec<_> = std::fs::read_dir(site.home("b"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().starts_with("bench-")),
        "{left:?}"
    );
}

#[test]
fn labels_of_every_kind_schema_changes_submit_skip_and_settings() {
    let site = site_with_project();
    site.enrol("ann", "annotator");
    let dir = format!("{FIXTURES}/import");
    site.ok(
        "admin",
        &[
            "import",
            "--project",
            &site.p(),
            &format!("{dir}/astronaut.jpg"),
            &format!("{dir}/rocket.webp"),
        ],
    );
    site.ok("admin", &["assign", "--project", &site.p(), "--to", "ann"]);
    let p = site.p();
    let add = |args: &[&str]| {
        let mut all = vec!["label", "add", "--project", p.as_str(), "--item", "1"];
        all.extend_from_slice(args);
        site.run("ann", &all)
    };
    assert!(
        add(&["--class", "logo", "--polygon", "10,10,50,10,30,40"])
            .status
            .success()
    );
    assert!(
        add(&["--class", "text", "--polyline", "5,5,60,60"])
            .status
            .success()
    );
    assert!(
        add(&["--class", "other", "--point", "100,100"])
            .status
            .success()
    );
    assert!(add(&["--class", "animal", "--tag"]).status.success());
    assert!(
        add(&[
            "--class",
            "face",
            "--bbox",
            "1,1,10,10",
            "--attr",
            "occluded=true"
        ])
        .status
        .success()
    );
    // Mistakes are named, not stored.
    let out = add(&["--class", "logo", "--polygon", "10,10,50,10"]);
    assert!(
        stderr(&out).contains("at least 3 points"),
        "{}",
        stderr(&out)
    );
    let out = add(&[
        "--class",
        "face",
        "--bbox",
        "1,1,10,10",
        "--attr",
        "mood=happy",
    ]);
    assert!(
        stderr(&out).contains("no attribute 'mood'"),
        "{}",
        stderr(&out)
    );
    let out = add(&["--class", "face", "--point", "600,10"]);
    assert!(
        stderr(&out).contains("outside the 512×512 image"),
        "{}",
        stderr(&out)
    );
    let labels = site.json(
        "ann",
        &["label", "list", "--project", &p, "--item", "1", "--json"],
    );
    let kinds: Vec<&str> = labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["geometry"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["polygon", "polyline", "point", "tag", "bbox"]);
    assert_eq!(labels[4]["attributes"]["occluded"], true);

    // A vehicle box lacks its required "type": submit is refused, naming it.
    assert!(
        add(&["--class", "vehicle", "--bbox", "100,100,50,50"])
            .status
            .success()
    );
    let out = site.run("ann", &["submit", "--project", &p, "--item", "1"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("needs type"), "{}", stderr(&out));
    site.ok("ann", &["label", "undo", "--project", &p]);
    site.ok("ann", &["submit", "--project", &p, "--item", "1"]);
    site.ok(
        "ann",
        &["skip", "--project", &p, "--item", "2", "--reason", "blurry"],
    );
    let items = site.json("ann", &["items", "--project", &p, "--json"]);
    let status: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["submitted", "skipped"]);
    // Annotators may not change the schema or settings.
    assert_eq!(
        code(&site.run("ann", &["settings", "--project", &p, "watermark", "off"])),
        1
    );

    // The admin removes class "logo": refused without --confirm, applied with it.
    let mut schema = site.json("admin", &["schema", "show", "--project", &p, "--json"]);
    assert_eq!(schema["version"], 1);
    schema["classes"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["name"] != "logo");
    let file = site.dir.path().join("schema.json");
    std::fs::write(&file, serde_json::to_vec(&schema).unwrap()).unwrap();
    let out = site.run(
        "admin",
        &["schema", "set", "--project", &p, file.to_str().unwrap()],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("would remove 1 existing label"),
        "{}",
        stderr(&out)
    );
    site.ok(
        "admin",
        &[
            "schema",
            "set",
            "--project",
            &p,
            file.to_str().unwrap(),
            "--confirm",
        ],
    );
    let schema = site.json("admin", &["schema", "show", "--project", &p, "--json"]);
    assert_eq!(schema["version"], 2);
    let labels = site.json(
        "admin",
        &["label", "list", "--project", &p, "--item", "1", "--json"],
    );
    assert_eq!(
        labels.as_array().unwrap().len(),
        4,
        "the logo polygon is gone"
    );

    site.ok(
        "admin",
        &["settings", "--project", &p, "idle_lock_minutes", "5"],
    );
    let out = site.run(
        "admin",
        &["settings", "--project", &p, "watermark", "sometimes"],
    );
    assert!(
        stderr(&out).contains("not a valid value"),
        "{}",
        stderr(&out)
    );
    let log = site.json("admin", &["audit", "log", "--project", &p, "--json"]);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in [
        "item.submit",
        "item.skip",
        "schema.change",
        "settings.change",
        "label.undo",
    ] {
        assert!(actions.contains(&expected), "{expected} audited");
    }
    assert!(
        site.ok("admin", &["audit", "verify", "--project", &p])
            .starts_with("ok")
    );
}

#[test]
fn segments_spans_relations_and_document_classes_from_the_cli() {
    let site = site_with_project();
    let p = site.p();
    let dir = format!("{FIXTURES}/import");
    site.ok(
        "admin",
        &[
            "import",
            "--project",
            &p,
            &format!("{dir}/call_04_22k.mp3"),
            &format!("{dir}/support_chats_head.jsonl"),
        ],
    );
    let items = site.json("admin", &["items", "--project", &p, "--json"]);
    let id_of = |kind: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == kind)
            .unwrap()["id"]
            .to_string()
    };
    let (audio, text) = (id_of("audio"), id_of("text"));
    let add = |item: &str, args: &[&str]| {
        let mut all = vec!["label", "add", "--project", p.as_str(), "--item", item];
        all.extend_from_slice(args);
        site.run("admin", &all)
    };
    assert!(
        add(
            &audio,
            &[
                "--class",
                "person",
                "--segment",
                "0.35,4.2",
                "--transcript",
                "Hello, I moved"
            ]
        )
        .status
        .success()
    );
    let out = add(&audio, &["--class", "person", "--segment", "28,31"]);
    assert!(stderr(&out).contains("past the end"), "{}", stderr(&out));
    // chat-0001's address: chars 30..68, bytes 40..78.
    let first =
        String::from_utf8(add(&text, &["--class", "other", "--span", "30,68"]).stdout).unwrap();
    let second =
        String::from_utf8(add(&text, &["--class", "other", "--span", "0,5"]).stdout).unwrap();
    let id = |out: &str| out.trim().rsplit(' ').next().unwrap().to_string();
    let rel = format!("{},{}", id(&first), id(&second));
    assert!(
        add(&text, &["--class", "relates to", "--relation", &rel])
            .status
            .success()
    );
    assert!(
        add(&text, &["--class", "document", "--tag"])
            .status
            .success()
    );
    let out = add(&text, &["--class", "other", "--span", "10,40"]);
    assert!(stderr(&out).contains("overlaps"), "{}", stderr(&out));
    site.ok(
        "admin",
        &[
            "schema",
            "rules",
            "--project",
            &p,
            "--overlapping-spans",
            "true",
            "--overlapping-segments",
            "true",
        ],
    );
    assert!(
        add(&text, &["--class", "other", "--span", "10,40"])
            .status
            .success()
    );

    let labels = site.json(
        "admin",
        &["label", "list", "--project", &p, "--item", &text, "--json"],
    );
    let span = &labels[0]["geometry"];
    assert_eq!(
        span,
        &serde_json::json!({"type": "span", "start": 30, "end": 68, "byte_start": 40, "byte_end": 78})
    );
    assert_eq!(labels[2]["geometry"]["type"], "relation");
    let seg = site.json(
        "admin",
        &["label", "list", "--project", &p, "--item", &audio, "--json"],
    );
    assert_eq!(seg[0]["geometry"]["transcript"], "Hello, I moved");
}

#[test]
fn verify_checks_a_package_sealed_to_me_and_names_the_failed_check() {
    use sealtag::package::{BytesMember, NewPackage, PackageKind, write_package};
    let site = Site::new();
    let me = site.identity("ann");
    let recipient =
        sealtag::crypto::PublicIdentity::parse(me["public_key"].as_str().unwrap()).unwrap();
    let sender = sealtag::crypto::UnlockedIdentity::generate("site admin");
    let schema = BytesMember {
        name: "schema.json".into(),
        bytes: b"{}",
    };
    let mut sealed = Vec::new();
    let new = NewPackage {
        kind: PackageKind::Work,
        project_id: "0123456789abcdef0123456789abcdef",
        sequence: 1,
        package_id: None,
    };
    write_package(
        &mut sealed,
        &sender,
        &[recipient],
        &new,
        &[&schema],
        &mut |_| true,
    )
    .unwrap();
    let file = site.dir.path().join("work.sealpkg");
    std::fs::write(&file, &sealed).unwrap();
    let out = site.json("ann", &["verify", file.to_str().unwrap(), "--json"]);
    assert_eq!(out["kind"], "work");
    assert_eq!(out["sender"], sender.public().fingerprint());
    // One flipped byte: refused, exit 1, the check named.
    let mid = sealed.len() / 2;
    sealed[mid] ^= 1;
    std::fs::write(&file, &sealed).unwrap();
    let bad = site.run("ann", &["verify", file.to_str().unwrap()]);
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("failed"), "{}", stderr(&bad));
    // Someone else cannot open it at all.
    site.identity("bob");
    std::fs::write(&file, {
        sealed[mid] ^= 1;
        &sealed
    })
    .unwrap();
    let other = site.run("bob", &["verify", file.to_str().unwrap()]);
    assert!(
        stderr(&other).contains("not sealed to your identity"),
        "{}",
        stderr(&other)
    );
}

/// The package commands end to end as scripts use them: assign with a
/// filter and count, package work, package open on the laptop, label,
/// package results, merge at the site, list; then a tampered copy is
/// refused with the check named and exit 1.
#[test]
fn package_commands_carry_work_out_and_results_back() {
    let site = site_with_project();
    let ann = site.enrol("ann", "annotator");
    let fixture = format!("{FIXTURES}/import/contract.txt");
    let image = format!("{FIXTURES}/import/astronaut.jpg");
    site.ok(
        "admin",
        &["import", "--project", &site.p(), &fixture, &image],
    );
    site.ok(
        "admin",
        &[
            "settings",
            "--project",
            &site.p(),
            "guidelines",
            "Mark names.",
        ],
    );
    let assigned = site.ok(
        "admin",
        &[
            "assign",
            "--project",
            &site.p(),
            "--to",
            "ann",
            "--filter",
            "status=new",
            "--count",
            "1",
        ],
    );
    assert!(assigned.contains("assigned 1 new item"), "{assigned}");
    let work = site.dir.path().join("ann.sealpkg");
    let made = site.json(
        "admin",
        &[
            "package",
            "work",
            "--project",
            &site.p(),
            "--to",
            "ann",
            "--out",
            work.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(made["kind"], "work");
    assert_eq!(made["items"], 1);
    let admin_fpr = site.json("admin", &["identity", "show", "--json"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    // First contact: neither --signer nor --trust-first-use is a refusal
    // that shows the fingerprint to compare; nothing is created.
    let unconfirmed = site.run("ann", &["package", "open", work.to_str().unwrap()]);
    assert_eq!(code(&unconfirmed), 1, "{}", stderr(&unconfirmed));
    let why = stderr(&unconfirmed);
    assert!(why.contains("signer check failed"), "{why}");
    assert!(why.contains(&admin_fpr), "{why}");
    assert!(why.contains("--trust-first-use"), "{why}");
    let opened = site.json(
        "ann",
        &[
            "package",
            "open",
            work.to_str().unwrap(),
            "--signer",
            &admin_fpr,
            "--json",
        ],
    );
    assert_eq!(opened["created"], true);
    assert_eq!(opened["items_added"], serde_json::json!([1]));
    let laptop = opened["bundle"].as_str().unwrap().to_string();
    let items = site.json("ann", &["items", "--project", &laptop, "--json"]);
    assert_eq!(items.as_array().unwrap().len(), 1, "only the assigned item");
    site.ok(
        "ann",
        &[
            "label",
            "add",
            "--project",
            &laptop,
            "--item",
            "1",
            "--class",
            "person",
            "--span",
            "0,5",
        ],
    );
    site.ok("ann", &["submit", "--project", &laptop, "--item", "1"]);
    // The laptop cannot make work packages.
    let denied = site.run(
        "ann",
        &[
            "package",
            "work",
            "--project",
            &laptop,
            "--to",
            "ann",
            "--out",
            "x.sealpkg",
        ],
    );
    assert_eq!(code(&denied), 1);
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    let results = site.dir.path().join("results.sealpkg");
    site.ok(
        "ann",
        &[
            "package",
            "results",
            "--project",
            &laptop,
            "--out",
            results.to_str().unwrap(),
        ],
    );
    // Anyone holding it can check it; a flipped byte is refused by name.
    let verified = site.json("admin", &["verify", results.to_str().unwrap(), "--json"]);
    assert_eq!(verified["sender"], ann["fingerprint"]);
    let mut bytes = std::fs::read(&results).unwrap();
    let tampered = site.dir.path().join("tampered.sealpkg");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&tampered, &bytes).unwrap();
    let refused = site.run(
        "admin",
        &[
            "package",
            "open",
            tampered.to_str().unwrap(),
            "--project",
            &site.p(),
        ],
    );
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("check failed"),
        "{}",
        stderr(&refused)
    );
    let merged = site.json(
        "admin",
        &[
            "package",
            "open",
            results.to_str().unwrap(),
            "--project",
            &site.p(),
            "--json",
        ],
    );
    assert_eq!(merged["items_merged"], serde_json::json!([1]));
    assert_eq!(merged["labels_created"], 1);
    let labels = site.json(
        "admin",
        &[
            "label",
            "list",
            "--project",
            &site.p(),
            "--item",
            "1",
            "--json",
        ],
    );
    assert_eq!(labels.as_array().unwrap().len(), 1);
    let ledger = site.json(
        "admin",
        &["package", "list", "--project", &site.p(), "--json"],
    );
    let kinds: Vec<(String, String)> = ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["direction"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("work".into(), "out".into()),
            ("results".into(), "in".into())
        ]
    );
    let log = site.json("admin", &["audit", "log", "--project", &site.p(), "--json"]);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"package.rejected"));
    assert!(actions.contains(&"package.merge"));
    site.ok("admin", &["audit", "verify", "--project", &site.p()]);
}

/// Export and pre-label import as scripts use them: a signed folder that
/// `verify` accepts without an identity and refuses once a file changes;
/// the native JSONL read back into another project as predictions, with a
/// bad record reported (exit 3).
#[test]
fn export_verify_and_prelabel_import_from_the_command_line() {
    let site = site_with_project();
    let image = format!("{FIXTURES}/import/astronaut.jpg");
    site.ok("admin", &["import", "--project", &site.p(), &image]);
    site.ok(
        "admin",
        &[
            "label",
            "add",
            "--project",
            &site.p(),
            "--item",
            "1",
            "--class",
            "person",
            "--bbox",
            "10,20,30,40",
        ],
    );
    let out = site.dir.path().join("dataset");
    let report = site.json(
        "admin",
        &[
            "export",
            "--project",
            &site.p(),
            "--format",
            "coco",
            "--status",
            "all",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(report["delivery"], "signed-folder");
    assert_eq!(report["labels"], 1);
    let coco: Value =
        serde_json::from_slice(&std::fs::read(out.join("annotations.json")).unwrap()).unwrap();
    assert_eq!(
        coco["annotations"][0]["bbox"],
        serde_json::json!([10.0, 20.0, 30.0, 40.0])
    );
    // Anyone can verify a signed folder: no identity in this home.
    let verified = site.json("nobody", &["verify", out.to_str().unwrap(), "--json"]);
    assert_eq!(verified["kind"], "export");
    std::fs::write(out.join("annotations.json"), b"{}").unwrap();
    let bad = site.run("nobody", &["verify", out.to_str().unwrap()]);
    assert_eq!(code(&bad), 1);
    assert!(
        stderr(&bad).contains("annotations.json"),
        "{}",
        stderr(&bad)
    );

    // Native JSONL back in as predictions; one record names a missing class.
    let jsonl = site.dir.path().join("jsonl");
    site.ok(
        "admin",
        &[
            "export",
            "--project",
            &site.p(),
            "--format",
            "jsonl",
            "--status",
            "all",
            "--out",
            jsonl.to_str().unwrap(),
        ],
    );
    let mut lines = std::fs::read_to_string(jsonl.join("labels.jsonl")).unwrap();
    lines.push_str(&lines.replace("\"person\"", "\"no-such-class\""));
    let file = site.dir.path().join("pre.jsonl");
    std::fs::write(&file, lines).unwrap();
    let other = site.dir.path().join("other.sealtag");
    let o = other.to_str().unwrap();
    site.ok("admin", &["project", "create", o, "--name", "Other"]);
    site.ok("admin", &["import", "--project", o, &image]);
    let out = site.run(
        "admin",
        &[
            "import",
            "--project",
            o,
            "--prelabels",
            file.to_str().unwrap(),
            "--format",
            "jsonl",
            "--source",
            "model-v1",
            "--json",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"], 1);
    assert_eq!(report["errors"][0]["record"], 2);
    let labels = site.json(
        "admin",
        &["label", "list", "--project", o, "--item", "1", "--json"],
    );
    assert_eq!(labels[0]["source"], "model-v1");
}

/// `pii scan` for security teams: a JSONL file without a project (ids,
/// char and byte offsets, a bad line reported, exit 3), and a project's
/// text items with the admin's name list.
#[test]
fn pii_scan_of_a_file_and_of_a_project() {
    let site = site_with_project();
    let file = site.dir.path().join("chats.jsonl");
    std::fs::write(
        &file,
        "{\"id\": \"c1\", \"text\": \"Café ☕ mail jane.doe@example.com now\"}\n{oops\n{\"id\": 7, \"text\": \"nothing here\"}\n",
    )
    .unwrap();
    let out = site.run("admin", &["pii", "scan", file.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &report["records"][0];
    assert_eq!(first["id"], "c1");
    let span = &first["spans"][0];
    assert_eq!(span["kind"], "email");
    assert_eq!(span["text"], "jane.doe@example.com");
    // "Café ☕ mail " is 12 chars but 15 bytes (é is 2 bytes, ☕ 3).
    assert_eq!(
        (span["start"].as_u64(), span["byte_start"].as_u64()),
        (Some(12), Some(15))
    );
    assert_eq!(report["errors"][0]["line"], 2);

    let text = site.dir.path().join("letter.txt");
    std::fs::write(&text, "Dear Ada Lovelace, call +44 20 7946 0958.").unwrap();
    site.ok(
        "admin",
        &["import", "--project", &site.p(), text.to_str().unwrap()],
    );
    site.ok(
        "admin",
        &[
            "settings",
            "--project",
            &site.p(),
            "pii_names",
            "Ada Lovelace",
        ],
    );
    let items = site.json("admin", &["pii", "scan", "--project", &site.p(), "--json"]);
    let kinds: Vec<&str> = items[0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"person") && kinds.contains(&"phone"),
        "{kinds:?}"
    );
}

/// The mask commands as a security team uses them: propose, review in bulk
/// by type, reject one, add by hand, set an excerpt, preview the result
/// (printed, never written), and show the item's version.
#[test]
fn mask_commands_review_proposals_and_preview_the_derivative() {
    let site = site_with_project();
    let text = site.dir.path().join("letter.txt");
    std::fs::write(
        &text,
        "Dear Ada Lovelace, mail ada@example.com or call +44 20 7946 0958.",
    )
    .unwrap();
    site.ok(
        "admin",
        &["import", "--project", &site.p(), text.to_str().unwrap()],
    );
    let item = site.json("admin", &["items", "--project", &site.p(), "--json"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    site.ok(
        "admin",
        &[
            "settings",
            "--project",
            &site.p(),
            "pii_names",
            "Ada Lovelace",
        ],
    );
    let found = site.json(
        "admin",
        &["mask", "propose", "--project", &site.p(), "--json"],
    );
    assert_eq!(found["text_spans"], 3, "{found}");
    site.ok(
        "admin",
        &["mask", "accept", "--project", &site.p(), "--type", "email"],
    );
    site.ok(
        "admin",
        &["mask", "accept", "--project", &site.p(), "--type", "person"],
    );
    let masks = site.json("admin", &["mask", "list", "--project", &site.p(), "--json"]);
    let phone = masks
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["spec"]["pii_type"] == "phone")
        .unwrap();
    assert_eq!(phone["status"], "proposed");
    site.ok(
        "admin",
        &[
            "mask",
            "reject",
            "--project",
            &site.p(),
            &phone["id"].to_string(),
        ],
    );
    // "Dear" by hand, as "other".
    site.ok(
        "admin",
        &[
            "mask",
            "add",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--chars",
            "0..4",
        ],
    );
    let bad = site.run(
        "admin",
        &[
            "mask",
            "add",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--chars",
            "4..2",
        ],
    );
    assert_ne!(code(&bad), 0);
    assert!(stderr(&bad).contains("item"), "{}", stderr(&bad));
    let preview = site.json(
        "admin",
        &[
            "mask",
            "preview",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--json",
        ],
    );
    assert_eq!(
        preview["text"],
        "████ ████████████, mail ███████████████ or call +44 20 7946 0958."
    );
    let shown = site.json(
        "admin",
        &[
            "mask",
            "show",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--json",
        ],
    );
    assert_eq!(shown["version"], 4);
    assert_eq!(shown["masks"].as_array().unwrap().len(), 4);
    site.ok(
        "admin",
        &[
            "mask",
            "window",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--chars",
            "19..39",
        ],
    );
    let preview = site.json(
        "admin",
        &[
            "mask",
            "preview",
            "--project",
            &site.p(),
            "--item",
            &item,
            "--json",
        ],
    );
    assert_eq!(preview["text"], "mail ███████████████");
    assert_eq!(preview["char_len"], 20);
}

/// `sealtag … | grep -q` (and `| head`) closes the pipe early. CI once failed
/// on `selftest network | grep -q`: the binary reported "Broken pipe" and
/// exited 1, failing the pipeline under pipefail. A reader that hangs up is
/// not an error: exit 0, say nothing.
#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let site = Site::new();
    site.identity("a");
    // JSON goes through a writer (an io::Error), text through println!
    // (a panic in std): both paths.
    for args in [&["selftest", "network"][..], &["identity", "show"][..]] {
        let (reader, writer) = std::io::pipe().unwrap();
        // Closed before the child starts: its first write gets EPIPE for sure.
        drop(reader);
        let out = Command::new(BIN)
            .arg("--home")
            .arg(site.home("a"))
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?}: {stderr}", out.status);
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A UTF-16 file is converted to UTF-8 on import, and the report says so:
/// offsets into the item (and byte offsets in record errors) count the
/// UTF-8 text, not the file's bytes.
#[test]
fn import_reports_files_converted_from_utf16() {
    let site = site_with_project();
    let dir = site.dir.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    let utf16 = |text: &str, big_endian: bool| -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    };
    std::fs::write(dir.join("a_note.txt"), utf16("Grüße, Zoë 👋", false)).unwrap();
    std::fs::write(
        dir.join("b_rows.csv"),
        utf16("id,text\n1,première\n2,二番目\n", true),
    )
    .unwrap();
    std::fs::write(dir.join("c_plain.txt"), "plain UTF-8").unwrap();
    let report = site.json(
        "admin",
        &[
            "import",
            "--project",
            &site.p(),
            "--json",
            dir.to_str().unwrap(),
        ],
    );
    let files = report["files"].as_array().unwrap();
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing: {report}"))
    };
    assert_eq!(by_name("a_note.txt")["converted_from"], "UTF-16LE");
    assert_eq!(by_name("b_rows.csv")["converted_from"], "UTF-16BE");
    assert_eq!(
        by_name("b_rows.csv")["item_ids"].as_array().unwrap().len(),
        2
    );
    assert!(
        by_name("c_plain.txt")["converted_from"].is_null(),
        "{report}"
    );
    // The person reading the plain report is told as well.
    std::fs::write(dir.join("a_note.txt"), utf16("another note", false)).unwrap();
    let text = site.ok(
        "admin",
        &[
            "import",
            "--project",
            &site.p(),
            dir.join("a_note.txt").to_str().unwrap(),
        ],
    );
    assert!(
        text.contains("(converted from UTF-16LE to UTF-8)"),
        "{text}"
    );
}

/// `package inspect` shows the recipient what travelled: the allow-listed
/// record fields (set with `settings package_fields`), no unlisted field and
/// no hash of an original; a second import of the same file is reported as
/// a duplicate; the laptop's items carry their copy's hash.
#[test]
fn package_inspect_shows_what_travels_and_nothing_else() {
    let site = site_with_project();
    site.enrol("ann", "annotator");
    let records = site.dir.path().join("chats.jsonl");
    std::fs::write(
        &records,
        concat!(
            r#"{"text":"Order 1 arrived.","customer_email":"zoe@example.org","lang":"en","channel":"chat"}"#,
            "\n",
            r#"{"text":"Order 2 did not.","customer_email":"yan@example.org","lang":"fr","channel":"mail"}"#,
            "\n"
        ),
    )
    .unwrap();
    let image = format!("{FIXTURES}/import/astronaut.jpg");
    site.ok(
        "admin",
        &[
            "import",
            "--project",
            &site.p(),
            records.to_str().unwrap(),
            &image,
        ],
    );
    let again = site.ok("admin", &["import", "--project", &site.p(), &image]);
    assert!(
        again.contains("duplicate") && again.contains("already in the project as item 3"),
        "{again}"
    );
    site.ok(
        "admin",
        &[
            "settings",
            "--project",
            &site.p(),
            "package_fields",
            "lang,channel",
        ],
    );
    let bad = site.run(
        "admin",
        &["settings", "--project", &site.p(), "package_fields", "a b"],
    );
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("package_fields"), "{}", stderr(&bad));
    site.ok("admin", &["assign", "--project", &site.p(), "--to", "ann"]);
    let originals = site.json("admin", &["items", "--project", &site.p(), "--json"]);
    let work = site.dir.path().join("ann.sealpkg");
    let w = work.to_str().unwrap();
    site.ok(
        "admin",
        &[
            "package",
            "work",
            "--project",
            &site.p(),
            "--to",
            "ann",
            "--out",
            w,
        ],
    );

    let seen = site.json("ann", &["package", "inspect", w, "--json"]);
    assert_eq!(seen["manifest"]["kind"], "work");
    let items = seen["work"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["fields"],
        serde_json::json!({"lang": "en", "channel": "chat"})
    );
    assert_eq!(items[2]["fields"], serde_json::json!({}));
    assert!(items.iter().all(|i| i.get("sha256").is_none()));
    let everything = seen.to_string();
    assert!(!everything.contains("customer_email") && !everything.contains("zoe@"));
    // An original's hash appears only where a copy is byte for byte the
    // original (nothing to mask or strip): as that member's own hash, in
    // the manifest and in the item's `media_sha256`, never as the item's.
    for (o, i) in originals.as_array().unwrap().iter().zip(items) {
        let hash = o["sha256"].as_str().unwrap();
        let n = everything.matches(hash).count();
        assert!(
            n == 0 || (n == 2 && i["media_sha256"] == hash),
            "{hash}: {n}"
        );
    }
    let text = site.ok("ann", &["package", "inspect", w]);
    assert!(
        text.contains("fields: channel=\"chat\", lang=\"en\""),
        "{text}"
    );
    assert!(text.contains("fields: none"), "{text}");
    assert!(text.contains("metadata stripped"), "{text}");
    // Nothing was applied: the annotator has no project yet.
    assert!(!site.home("ann").join("projects").exists());
    // Someone it is not sealed to cannot inspect it.
    let refused = site.run("admin", &["package", "inspect", w]);
    assert_eq!(code(&refused), 1);

    let admin_fpr = site.json("admin", &["identity", "show", "--json"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let opened = site.json(
        "ann",
        &["package", "open", w, "--signer", &admin_fpr, "--json"],
    );
    let laptop = opened["bundle"].as_str().unwrap().to_string();
    let copies = site.json("ann", &["items", "--project", &laptop, "--json"]);
    for (copy, inspected) in copies.as_array().unwrap().iter().zip(items) {
        assert_eq!(copy["sha256"], inspected["media_sha256"]);
    }
}
