//! Governance reports on real projects: the access review after a work and
//! results package round trip (roles, fingerprints, removed members,
//! packages each way, last activity from the laptop's merged audit chain),
//! anomaly flags on a real trail (role changes, a large export), both
//! reports audited, annotators refused; and the CLI's JSON shape.

use sealtag::controller::{CoreError, ExportOptions, Session, open_work_package};
use sealtag::crypto::UnlockedIdentity;
use sealtag::governance::FlagKind;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use serde_json::Value;
use std::path::Path;

mod site;
use site::no_progress;
use std::process::{Command, Output};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);

/// The shared site (Ada, Ann), plus an image and a text assigned to Ann;
/// Rex (reviewer) enrolled and removed again; Audrey the auditor.
struct Site {
    base: site::Site,
    rex: UnlockedIdentity,
    audrey: UnlockedIdentity,
    image: i64,
}

impl std::ops::Deref for Site {
    type Target = site::Site;
    fn deref(&self) -> &site::Site {
        &self.base
    }
}

fn site() -> Site {
    let base = site::Site::new();
    let rex = UnlockedIdentity::generate("Rex Reviewer");
    let audrey = UnlockedIdentity::generate("Audrey Auditor");
    let mut s = base.admin();
    let opts = ImportOptions::default();
    let image = s
        .import_bytes("astronaut.jpg", std::fs::read(IMAGE).unwrap(), &opts)
        .unwrap()
        .item_ids[0];
    let text = s
        .import_bytes("note.txt", b"A short document.".to_vec(), &opts)
        .unwrap()
        .item_ids[0];
    s.add_user(&rex.public().to_key_string(), Role::Reviewer, "Rex")
        .unwrap();
    s.add_user(&audrey.public().to_key_string(), Role::Auditor, "Audrey")
        .unwrap();
    s.assign(&[image, text], "Ann", "annotate").unwrap();
    s.remove_user("Rex").unwrap();
    s.close().unwrap();
    Site {
        base,
        rex,
        audrey,
        image,
    }
}

/// The seqs of the rows with `action`.
fn seqs(s: &mut Session, action: &str) -> Vec<i64> {
    s.audit_log()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| r.seq)
        .collect()
}

fn last_details(s: &mut Session, action: &str) -> Option<(String, Value)> {
    s.audit_log()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.action == action)
        .map(|r| (r.actor, serde_json::from_str(&r.details).unwrap()))
}

#[test]
fn access_review_after_a_package_round_trip() {
    let site = site();
    let fpr = |id: &UnlockedIdentity| id.public().fingerprint();

    // One work package out to Ann, labelled on her laptop, one results
    // package back.
    let work = site.path("ann-work.sealpkg");
    site.open(&site.admin)
        .make_work_package("Ann", &work, &mut no_progress())
        .unwrap();
    let opened = open_work_package(
        &work,
        &site.ann,
        &site.ann_home,
        None,
        sealtag::controller::FirstSigner::Expect(&fpr(&site.admin)),
        &mut no_progress(),
    )
    .unwrap();
    let mut laptop = Session::open(&opened.bundle, site.ann.clone(), None).unwrap();
    let laptop_chain = laptop.project_id().to_string();
    laptop.load_item(site.image).unwrap();
    let class = laptop.classes().unwrap()[0].id;
    laptop
        .apply_label(LabelChange::Create {
            item_id: site.image,
            draft: AnnotationDraft::new(
                class,
                Geometry::BBox(BBox {
                    x: 10.0,
                    y: 10.0,
                    w: 40.0,
                    h: 30.0,
                }),
            ),
        })
        .unwrap();
    let results = site.path("ann-results.sealpkg");
    laptop
        .make_results_package(&results, false, &mut no_progress())
        .unwrap();
    // An annotator may not review access, not even on their own laptop.
    assert!(matches!(laptop.access_review(), Err(CoreError::Denied(_))));
    laptop.close().unwrap();
    let mut admin = site.open(&site.admin);
    admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();

    let review = admin.access_review().unwrap();
    assert_eq!(review.project_name, "Site");
    assert_eq!(review.reviewer, fpr(&site.admin));
    let people: Vec<(&str, Role, bool)> = review
        .people
        .iter()
        .map(|p| (p.name.as_str(), p.role, p.active))
        .collect();
    assert_eq!(
        people,
        vec![
            ("Ada Admin", Role::Admin, true),
            ("Ann", Role::Annotator, true),
            ("Rex", Role::Reviewer, false),
            ("Audrey", Role::Auditor, true),
        ]
    );
    let [ada, ann, rex, audrey] = &review.people[..] else {
        panic!("four people expected");
    };
    assert_eq!(ada.fingerprint, fpr(&site.admin));
    assert_eq!(ann.fingerprint, fpr(&site.ann));
    assert_eq!(rex.fingerprint, fpr(&site.rex));
    assert_eq!(audrey.fingerprint, fpr(&site.audrey));

    // Enrolment: granted by Ada (the creator by herself), Rex removed.
    for p in [ada, ann, rex, audrey] {
        assert_eq!(p.added_by.as_deref(), Some(ada.fingerprint.as_str()));
        assert!(p.added_ms > 0);
    }
    assert_eq!(ada.removed_ms, None);
    let removed = rex.removed_ms.expect("Rex's removal date");
    assert!(removed >= rex.added_ms);

    // Packages: one work package went to Ann, one results package came
    // back from her; nobody else sent or received any.
    assert_eq!(ann.packages_sent.count, 1);
    assert_eq!(ann.packages_received.count, 1);
    assert!(ann.packages_received.last_ms >= ann.packages_sent.last_ms);
    for p in [ada, rex, audrey] {
        assert_eq!(
            (p.packages_sent.count, p.packages_received.count),
            (0, 0),
            "{}",
            p.name
        );
    }

    // Last activity: Ada's on this trail, Ann's on her laptop's chain (her
    // results package), none for Rex and Audrey, who never acted.
    let ada_last = ada.last_activity.as_ref().expect("Ada acted");
    assert_eq!(ada_last.chain, None);
    assert_eq!(ada_last.action, "package.merge");
    let ann_last = ann.last_activity.as_ref().expect("Ann acted on her laptop");
    assert_eq!(ann_last.chain.as_deref(), Some(laptop_chain.as_str()));
    assert_eq!(ann_last.action, "package.results");
    assert_eq!(rex.last_activity, None);
    assert_eq!(audrey.last_activity, None);

    // The review is itself an audit event.
    let (actor, details) = last_details(&mut admin, "access.review").unwrap();
    assert_eq!(actor, fpr(&site.admin));
    assert_eq!(details["people"], 4);
    assert_eq!(details["active"], 3);
    assert_eq!(details["peer_chains"], 1);

    // Anomalies over the merged laptop chain carry its id.
    let flags = admin.audit_anomalies().unwrap();
    assert!(
        flags
            .iter()
            .all(|f| f.chain.is_none() || f.chain.as_deref() == Some(laptop_chain.as_str()))
    );
    // The auditor may run it too.
    admin.close().unwrap();
    let mut auditor = site.open(&site.audrey);
    assert_eq!(auditor.access_review().unwrap().people.len(), 4);
}

#[test]
fn anomalies_on_a_real_trail_catch_role_changes_and_a_large_export() {
    let site = site();
    let mut admin = site.open(&site.admin);
    admin
        .set_project_setting("anomaly_export_items", "1")
        .unwrap();
    let out = site.path("export");
    let report = admin
        .export(
            &ExportOptions {
                format: "jsonl".into(),
                all_statuses: true,
                ..ExportOptions::default()
            },
            &out,
            &mut |_| true,
        )
        .unwrap();
    assert_eq!(report.items, 2);
    let export_row = seqs(&mut admin, "export");

    let flags = admin.audit_anomalies().unwrap();
    let of = |kind: FlagKind| -> Vec<_> { flags.iter().filter(|f| f.kind == kind).collect() };

    // Every enrolment and removal but the creator's own.
    let mut role_rows = seqs(&mut admin, "user.add");
    role_rows.remove(0);
    role_rows.extend(seqs(&mut admin, "user.remove"));
    role_rows.sort();
    let roles = of(FlagKind::RoleChange);
    let flagged: Vec<i64> = roles.iter().flat_map(|f| f.rows.clone()).collect();
    assert_eq!(flagged, role_rows);
    assert_eq!(roles.len(), 4, "Ann, Rex and Audrey added, Rex removed");
    let summaries: Vec<&str> = roles.iter().map(|f| f.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "Ada Admin enrolled Ann as annotator",
            "Ada Admin enrolled Rex as reviewer",
            "Ada Admin enrolled Audrey as auditor",
            "Ada Admin removed Rex (reviewer)",
        ]
    );
    assert_eq!(
        roles[1].user.as_deref(),
        Some(site.rex.public().fingerprint().as_str())
    );

    let large = of(FlagKind::LargeExport);
    assert_eq!(large.len(), 1);
    assert_eq!(large[0].rows, export_row);
    assert_eq!(
        large[0].user.as_deref(),
        Some(site.admin.public().fingerprint().as_str())
    );
    assert_eq!(
        large[0].summary,
        "Ada Admin made an export of 2 items (more than 1)"
    );
    assert!(of(FlagKind::ClockBackwards).is_empty());

    // The report is audited with its counts.
    let (_, details) = last_details(&mut admin, "audit.anomalies").unwrap();
    assert_eq!(details["flags"], flags.len());
    assert_eq!(details["by_kind"]["role_change"], 4);
    assert_eq!(details["by_kind"]["large_export"], 1);

    // At the default threshold the same export is ordinary.
    admin
        .set_project_setting("anomaly_export_items", "1000")
        .unwrap();
    let again = admin.audit_anomalies().unwrap();
    assert!(again.iter().all(|f| f.kind != FlagKind::LargeExport));
    assert_eq!(seqs(&mut admin, "audit.anomalies").len(), 2);

    // Settings are validated.
    for (key, bad) in [
        ("working_hours", "9 to 5"),
        ("working_hours_utc_offset", "CET"),
        ("anomaly_views_per_hour", "-3"),
    ] {
        assert!(
            matches!(
                admin.set_project_setting(key, bad),
                Err(CoreError::Invalid(_))
            ),
            "{key}={bad}"
        );
    }
    admin.set_project_setting("working_hours", "08-18").unwrap();
    admin
        .set_project_setting("working_hours_utc_offset", "+02:00")
        .unwrap();
    let t = admin.anomaly_thresholds().unwrap();
    let wh = t.working_hours.unwrap();
    assert_eq!(
        (wh.start_minute, wh.end_minute, wh.utc_offset_minutes),
        (480, 1080, 120)
    );
    admin.close().unwrap();

    // An annotator is refused both reports, and the refusal is audited.
    let mut ann = site.open(&site.ann);
    assert!(matches!(ann.audit_anomalies(), Err(CoreError::Denied(_))));
    assert!(matches!(ann.access_review(), Err(CoreError::Denied(_))));
    ann.close().unwrap();
    let mut admin = site.open(&site.admin);
    let denied: Vec<_> = admin
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "permission.denied")
        .map(|r| r.details)
        .collect();
    assert!(
        denied.iter().any(|d| d.contains("audit anomalies")),
        "{denied:?}"
    );
    assert!(
        denied.iter().any(|d| d.contains("access review")),
        "{denied:?}"
    );
    // No report rows were written for the refused attempts.
    assert_eq!(seqs(&mut admin, "audit.anomalies").len(), 2);
    assert_eq!(seqs(&mut admin, "access.review").len(), 0);
}

// ------------------------------------------------------------------ CLI

const BIN: &str = env!("CARGO_BIN_EXE_sealtag");

/// Runs sealtag as `who` (their own home and passphrase) inside `dir`.
fn run(dir: &Path, who: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--home")
        .arg(dir.join(who))
        .args(args)
        .env("SEALTAG_PASSPHRASE", format!("pass-of-{who}"))
        .env("TMPDIR", dir)
        // Identities as cheap as before scrypt 2^18 (debug builds only).
        .env("SEALTAG_TEST_SCRYPT_LOG_N", "16")
        .env_remove("SEALTAG_HOME")
        .output()
        .unwrap()
}

fn ok(dir: &Path, who: &str, args: &[&str]) -> String {
    let out = run(dir, who, args);
    assert!(
        out.status.success(),
        "sealtag {args:?} as {who} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort();
    k
}

#[test]
fn cli_access_review_and_anomalies_print_stable_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let project = dir.join("proj.sealtag");
    let p = project.to_str().unwrap();
    ok(dir, "admin", &["identity", "new", "--name", "Ada"]);
    ok(dir, "admin", &["project", "create", p, "--name", "Gov"]);
    ok(dir, "ann", &["identity", "new", "--name", "Ann"]);
    let ann: Value =
        serde_json::from_str(&ok(dir, "ann", &["identity", "show", "--json"])).unwrap();
    let ann_fpr = ann["fingerprint"].as_str().unwrap();
    ok(
        dir,
        "admin",
        &[
            "user",
            "add",
            "--project",
            p,
            "--key",
            ann["public_key"].as_str().unwrap(),
            "--role",
            "annotator",
            "--name",
            "Ann",
        ],
    );

    let review: Value = serde_json::from_str(&ok(
        dir,
        "admin",
        &["access", "review", "--project", p, "--json"],
    ))
    .unwrap();
    assert_eq!(
        keys(&review),
        [
            "generated_ms",
            "people",
            "project_id",
            "project_name",
            "reviewer"
        ]
    );
    let people = review["people"].as_array().unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(
        keys(&people[1]),
        [
            "active",
            "added_by",
            "added_ms",
            "fingerprint",
            "last_activity",
            "name",
            "packages_received",
            "packages_sent",
            "removed_ms",
            "role",
        ]
    );
    assert_eq!(people[1]["fingerprint"], ann_fpr);
    assert_eq!(people[1]["role"], "annotator");
    assert_eq!(people[1]["last_activity"], Value::Null);
    assert_eq!(keys(&people[1]["packages_sent"]), ["count", "last_ms"]);
    assert_eq!(people[1]["packages_sent"]["count"], 0);
    assert_eq!(
        keys(&people[0]["last_activity"]),
        ["action", "at_ms", "chain", "seq"]
    );

    let anomalies: Value = serde_json::from_str(&ok(
        dir,
        "admin",
        &["audit", "anomalies", "--project", p, "--json"],
    ))
    .unwrap();
    assert_eq!(keys(&anomalies), ["count", "flags", "thresholds"]);
    assert_eq!(
        keys(&anomalies["thresholds"]),
        [
            "export_items",
            "failed_unlocks",
            "unlabeled_days",
            "views_per_hour",
            "working_hours",
        ]
    );
    assert_eq!(anomalies["thresholds"]["views_per_hour"], 300);
    let flags = anomalies["flags"].as_array().unwrap();
    assert_eq!(anomalies["count"], flags.len());
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(
        keys(&flags[0]),
        [
            "chain", "first_ms", "kind", "last_ms", "rows", "summary", "user"
        ]
    );
    assert_eq!(flags[0]["kind"], "role_change");
    assert_eq!(flags[0]["user"], ann_fpr);
    assert!(flags[0]["rows"].as_array().unwrap()[0].is_i64());

    // Text: readable, with a count line; findings still exit 0.
    let text = ok(dir, "admin", &["audit", "anomalies", "--project", p]);
    assert!(text.contains("role_change"), "{text}");
    assert_eq!(text.lines().last(), Some("1 flag(s)"));
    let text = ok(dir, "admin", &["access", "review", "--project", p]);
    assert_eq!(text.lines().last(), Some("2 people, 2 active"));

    // An annotator is refused (exit 1, the refusal named).
    let out = run(dir, "ann", &["access", "review", "--project", p, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"));
}
