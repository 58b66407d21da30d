//! Integration tests of the core through the same controller the GUI and CLI
//! use: the permission matrix, the audit chain against tampering, refusal of
//! damaged or too-new bundles, and re-keying on user removal.

use age::secrecy::SecretString;
use sealtag::controller::{CoreError, Session};
use sealtag::crypto::UnlockedIdentity;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use sealtag::permissions::{Action, allowed};
use sealtag::project::Project;
use std::path::{Path, PathBuf};

const FIXTURE_IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);

/// Identities are not Clone (secrets); tests copy them through a
/// seal/unseal round trip with a cheap work factor.
fn copy(id: &UnlockedIdentity) -> UnlockedIdentity {
    let pass = SecretString::from("t".to_string());
    UnlockedIdentity::unseal(&id.seal(&pass, 2).unwrap(), &pass).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    admin: UnlockedIdentity,
    item: i64,
}

fn project_with_image() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p.sealtag");
    let admin = UnlockedIdentity::generate("Ada Admin");
    let mut s = Session::create_project(&root, "test", copy(&admin)).unwrap();
    let bytes = std::fs::read(FIXTURE_IMAGE).unwrap();
    let report = s
        .import_bytes("astronaut.jpg", bytes, &ImportOptions::default())
        .unwrap();
    assert_eq!(report.outcome, "imported");
    let item = report.item_ids[0];
    s.close().unwrap();
    Fixture {
        _dir: dir,
        root,
        admin,
        item,
    }
}

fn open(root: &Path, id: &UnlockedIdentity) -> Session {
    Session::open(root, copy(id), None).unwrap()
}

fn a_box() -> Geometry {
    Geometry::BBox(BBox {
        x: 10.0,
        y: 10.0,
        w: 50.0,
        h: 40.0,
    })
}

fn count_action(s: &mut Session, action: &str) -> usize {
    s.audit_log()
        .unwrap()
        .iter()
        .filter(|r| r.action == action)
        .count()
}

#[test]
fn permission_matrix_is_enforced_and_denials_are_audited() {
    let f = project_with_image();
    let mut members = vec![(Role::Admin, copy(&f.admin))];
    {
        let mut s = open(&f.root, &f.admin);
        for role in [Role::Reviewer, Role::Annotator, Role::Auditor] {
            let id = UnlockedIdentity::generate(role.as_str());
            s.add_user(&id.public().to_key_string(), role, role.as_str())
                .unwrap();
            members.push((role, id));
        }
        s.assign(&[f.item], "reviewer", "review").unwrap();
        s.assign(&[f.item], "annotator", "annotate").unwrap();
    }
    let image = std::fs::read(FIXTURE_IMAGE).unwrap();
    let mut expected_denials = 0;
    for (role, id) in &members {
        let mut s = open(&f.root, id);
        let class_id = s.classes().unwrap()[0].id;
        let outsider = UnlockedIdentity::generate("x").public().to_key_string();
        let attempts: Vec<(Action, Result<(), CoreError>)> = vec![
            (
                Action::ManageUsers,
                s.add_user(&outsider, Role::Annotator, &format!("new-{role}"))
                    .map(|_| ()),
            ),
            (Action::ListUsers, s.list_users().map(|_| ())),
            (
                Action::Import,
                s.import_bytes("again.jpg", image.clone(), &ImportOptions::default())
                    .map(|_| ()),
            ),
            (
                Action::EditSchema,
                s.add_class(&format!("class-{role}"), "#123456", None)
                    .map(|_| ()),
            ),
            (
                Action::Assign,
                s.assign(&[f.item], "annotator", "annotate").map(|_| ()),
            ),
            (Action::ListItems, s.items().map(|_| ())),
            (Action::ViewItem, s.load_item(f.item).map(|_| ())),
            (
                Action::EditLabels,
                s.apply_label(LabelChange::Create {
                    item_id: f.item,
                    draft: AnnotationDraft::new(class_id, a_box()),
                })
                .map(|_| ()),
            ),
            (Action::ReadAudit, s.audit_log().map(|_| ())),
            (Action::VerifyAudit, s.verify_audit().map(|_| ())),
        ];
        for (action, result) in attempts {
            let want = allowed(*role, action);
            match result {
                Ok(()) => assert!(want, "{role} was allowed to {action}"),
                Err(CoreError::Denied(d)) => {
                    assert!(!want, "{role} was refused {action}");
                    assert_eq!(d.role, *role);
                    assert_eq!(d.action, action);
                    assert!(
                        d.to_string().contains(role.as_str())
                            && d.to_string().contains(action.as_str())
                    );
                    expected_denials += 1;
                }
                Err(e) => panic!("{role} × {action}: unexpected error {e}"),
            }
        }
    }
    let mut s = open(&f.root, &f.admin);
    assert_eq!(count_action(&mut s, "permission.denied"), expected_denials);
    assert!(s.verify_audit().unwrap().ok());
}

#[test]
fn annotators_see_and_edit_only_assigned_items() {
    let f = project_with_image();
    let ann = UnlockedIdentity::generate("Ann");
    {
        let mut s = open(&f.root, &f.admin);
        let second = s
            .import_bytes(
                "b.jpg",
                std::fs::read(FIXTURE_IMAGE).unwrap(),
                &ImportOptions::default(),
            )
            .unwrap();
        s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
            .unwrap();
        s.assign(&second.item_ids, "Ann", "annotate").unwrap();
    }
    let mut s = open(&f.root, &ann);
    let visible: Vec<i64> = s.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(visible.len(), 1);
    assert!(!visible.contains(&f.item));
    assert!(matches!(s.load_item(f.item), Err(CoreError::Denied(_))));
    let class_id = s.classes().unwrap()[0].id;
    let denied = s.apply_label(LabelChange::Create {
        item_id: f.item,
        draft: AnnotationDraft::new(class_id, a_box()),
    });
    assert!(matches!(denied, Err(CoreError::Denied(_))));
    assert!(s.load_item(visible[0]).is_ok());
}

#[test]
fn labels_undo_redo_and_reject_boxes_outside_the_image() {
    let f = project_with_image();
    let mut s = open(&f.root, &f.admin);
    let class_id = s.classes().unwrap()[0].id;
    let created = s
        .apply_label(LabelChange::Create {
            item_id: f.item,
            draft: AnnotationDraft::new(class_id, a_box()),
        })
        .unwrap();
    let moved = Geometry::BBox(BBox {
        x: 20.0,
        y: 20.0,
        w: 50.0,
        h: 40.0,
    });
    s.apply_label(LabelChange::Update {
        annotation_id: created.annotation_id,
        draft: AnnotationDraft::new(class_id, moved.clone()),
    })
    .unwrap();
    s.apply_label(LabelChange::Undo {
        item_id: Some(f.item),
    })
    .unwrap();
    assert_eq!(s.annotations(f.item).unwrap()[0].geometry, a_box());
    s.apply_label(LabelChange::Undo {
        item_id: Some(f.item),
    })
    .unwrap();
    assert!(s.annotations(f.item).unwrap().is_empty());
    s.apply_label(LabelChange::Redo {
        item_id: Some(f.item),
    })
    .unwrap();
    s.apply_label(LabelChange::Redo {
        item_id: Some(f.item),
    })
    .unwrap();
    assert_eq!(s.annotations(f.item).unwrap()[0].geometry, moved);
    assert!(
        s.apply_label(LabelChange::Redo {
            item_id: Some(f.item)
        })
        .is_err(),
        "nothing left to redo"
    );
    // Undo survives a restart: it is built on stored revisions.
    drop(s);
    let mut s = open(&f.root, &f.admin);
    s.apply_label(LabelChange::Undo {
        item_id: Some(f.item),
    })
    .unwrap();
    assert_eq!(s.annotations(f.item).unwrap()[0].geometry, a_box());
    // astronaut.jpg is 512×512.
    let outside = Geometry::BBox(BBox {
        x: 500.0,
        y: 10.0,
        w: 50.0,
        h: 40.0,
    });
    assert!(matches!(
        s.apply_label(LabelChange::Create {
            item_id: f.item,
            draft: AnnotationDraft::new(class_id, outside)
        }),
        Err(CoreError::Invalid(_))
    ));
}

/// Opens the raw database (as an insider holding a key slot could) to tamper.
fn tamper(f: &Fixture, sql: &str) {
    let project = Project::open(&f.root, &f.admin).unwrap();
    project.store.raw_connection().execute_batch(sql).unwrap();
}

fn verify(f: &Fixture) -> sealtag::audit::VerifyReport {
    let mut s = open(&f.root, &f.admin);
    s.verify_audit().unwrap()
}

fn busy_project() -> Fixture {
    let f = project_with_image();
    let mut s = open(&f.root, &f.admin);
    let class_id = s.classes().unwrap()[0].id;
    for _ in 0..5 {
        s.apply_label(LabelChange::Create {
            item_id: f.item,
            draft: AnnotationDraft::new(class_id, a_box()),
        })
        .unwrap();
    }
    drop(s);
    assert!(verify(&f).ok());
    f
}

const UNLOCK_AUDIT: &str = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;";

#[test]
fn audit_trail_is_append_only_in_the_database() {
    let f = busy_project();
    let project = Project::open(&f.root, &f.admin).unwrap();
    let err = project
        .store
        .raw_connection()
        .execute_batch("UPDATE audit SET details = '{}' WHERE seq = 3")
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
    assert!(
        project
            .store
            .raw_connection()
            .execute_batch("DELETE FROM audit WHERE seq = 3")
            .is_err()
    );
}

#[test]
fn audit_verify_names_an_edited_row() {
    let f = busy_project();
    tamper(
        &f,
        &format!("{UNLOCK_AUDIT} UPDATE audit SET details = '{{\"class_id\":99}}' WHERE seq = 6;"),
    );
    let problem = verify(&f).problem.expect("edit detected");
    assert_eq!(problem.seq, 6);
    assert!(problem.what.contains("modified"), "{}", problem.what);
}

#[test]
fn audit_verify_names_a_deleted_row() {
    let f = busy_project();
    tamper(
        &f,
        &format!("{UNLOCK_AUDIT} DELETE FROM audit WHERE seq = 5;"),
    );
    assert_eq!(verify(&f).problem.expect("deletion detected").seq, 5);
}

#[test]
fn audit_verify_detects_reordered_rows() {
    let f = busy_project();
    // Swap the contents (not the sequence numbers) of rows 4 and 5.
    tamper(
        &f,
        &format!(
            "{UNLOCK_AUDIT}
             CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (4, 5);
             UPDATE audit SET at = (SELECT at FROM t WHERE seq = 5), actor = (SELECT actor FROM t WHERE seq = 5), action = (SELECT action FROM t WHERE seq = 5), target = (SELECT target FROM t WHERE seq = 5), details = (SELECT details FROM t WHERE seq = 5), prev_hash = (SELECT prev_hash FROM t WHERE seq = 5), hash = (SELECT hash FROM t WHERE seq = 5) WHERE seq = 4;
             UPDATE audit SET at = (SELECT at FROM t WHERE seq = 4), actor = (SELECT actor FROM t WHERE seq = 4), action = (SELECT action FROM t WHERE seq = 4), target = (SELECT target FROM t WHERE seq = 4), details = (SELECT details FROM t WHERE seq = 4), prev_hash = (SELECT prev_hash FROM t WHERE seq = 4), hash = (SELECT hash FROM t WHERE seq = 4) WHERE seq = 5;"
        ),
    );
    assert_eq!(verify(&f).problem.expect("reorder detected").seq, 4);
}

#[test]
fn audit_verify_detects_truncation_through_signed_heads() {
    let f = busy_project();
    // Cut the tail: the rows that remain form a perfectly valid chain, only
    // the signed head (kept outside the rows) shows that rows are missing.
    tamper(
        &f,
        &format!("{UNLOCK_AUDIT} DELETE FROM audit WHERE seq > 8;"),
    );
    let report = verify(&f);
    let problem = report.problem.expect("truncation detected");
    // Row 9 is the first one cut; opening the project to verify appends a
    // session row, which may now sit at 9, so the first gap is 9 or 10.
    assert!((9..=10).contains(&problem.seq), "{problem:?}");
    assert!(problem.what.contains("truncated"), "{}", problem.what);
}

#[test]
fn audit_verify_detects_a_forged_head() {
    let f = busy_project();
    tamper(
        &f,
        "DROP TRIGGER IF EXISTS audit_heads_no_update;
         UPDATE audit_heads SET signature = replace(signature, substr(signature, 1, 2), 'ff') WHERE id = 1;",
    );
    assert!(
        verify(&f)
            .problem
            .expect("forged head detected")
            .what
            .contains("signature")
    );
}

/// What an insider with the database key can do that the app never
/// does: drop the guards on the audit tables.
const UNLOCK_HEADS: &str =
    "DROP TRIGGER IF EXISTS audit_heads_no_update; DROP TRIGGER IF EXISTS audit_heads_no_delete;";

/// An insider rewrites row `seq`'s details and recomputes every hash from
/// there on, so the rows form a valid chain again, and removes the signed
/// heads that would give the rewrite away (all from `seq` on).
fn rewrite_trail(f: &Fixture, seq: i64) {
    let project = Project::open(&f.root, &f.admin).unwrap();
    let conn = project.store.raw_connection();
    conn.execute_batch(&format!("{UNLOCK_AUDIT} {UNLOCK_HEADS}"))
        .unwrap();
    let rows = sealtag::store::audit_rows(project.store.conn()).unwrap();
    let mut prev = rows[(seq - 2) as usize].hash.clone();
    for mut row in rows.into_iter().filter(|r| r.seq >= seq) {
        if row.seq == seq {
            row.details = "{\"rewritten\":true}".into();
        }
        let hash = sealtag::audit::entry_hash(
            row.seq,
            row.at_ms,
            &row.actor,
            &row.action,
            &row.target,
            &row.details,
            &prev,
        );
        conn.execute(
            "UPDATE audit SET details = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            (&row.details, &prev, &hash, row.seq),
        )
        .unwrap();
        prev = hash;
    }
    conn.execute("DELETE FROM audit_heads WHERE seq >= ?1", [seq])
        .unwrap();
}

#[test]
fn audit_heads_are_append_only_in_the_database() {
    let f = busy_project();
    let project = Project::open(&f.root, &f.admin).unwrap();
    let conn = project.store.raw_connection();
    let err = conn
        .execute_batch("UPDATE audit_heads SET seq = 1")
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute_batch("DELETE FROM audit_heads").unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn audit_verify_detects_a_removed_head() {
    let f = busy_project();
    // Several sessions, several heads; the insider removes one in the
    // middle (the head covering a row they want to disown).
    drop(open(&f.root, &f.admin));
    let project = Project::open(&f.root, &f.admin).unwrap();
    let heads = sealtag::store::signed_heads(project.store.conn()).unwrap();
    assert!(heads.len() >= 3, "{heads:?}");
    project
        .store
        .raw_connection()
        .execute_batch(&format!(
            "{UNLOCK_HEADS} DELETE FROM audit_heads WHERE id = (SELECT id FROM audit_heads ORDER BY id LIMIT 1 OFFSET 1);"
        ))
        .unwrap();
    drop(project);
    let problem = verify(&f).problem.expect("removed head detected");
    assert!(problem.what.contains("does not follow"), "{}", problem.what);
}

#[test]
fn a_rebuilt_trail_passes_its_own_heads_but_fails_against_an_anchor() {
    let f = busy_project();
    let mut s = open(&f.root, &f.admin);
    let anchor = s.audit_anchor().unwrap();
    s.close().unwrap();
    // The insider rewrites a row before the anchor, recomputes the chain
    // and drops the heads after it; their next session signs the rebuilt
    // trail with their own key.
    rewrite_trail(&f, 6);
    let own = verify(&f);
    assert!(
        own.ok(),
        "the rebuilt trail agrees with its own heads: {own:?}"
    );
    let mut s = open(&f.root, &f.admin);
    let report = s.verify_audit_anchored(&[anchor]).unwrap();
    let problem = report.problem.expect("the anchor catches the rewrite");
    assert!(
        problem.what.contains("does not extend the anchor"),
        "{}",
        problem.what
    );
}

#[test]
fn a_truncated_trail_fails_against_an_anchor() {
    let f = busy_project();
    let mut s = open(&f.root, &f.admin);
    let anchor = s.audit_anchor().unwrap();
    s.close().unwrap();
    let cut = anchor.head.seq - 3;
    tamper(
        &f,
        &format!(
            "{UNLOCK_AUDIT} {UNLOCK_HEADS} DELETE FROM audit WHERE seq > {cut}; DELETE FROM audit_heads WHERE seq > {cut};"
        ),
    );
    assert!(verify(&f).ok(), "the cut trail agrees with its own heads");
    let mut s = open(&f.root, &f.admin);
    let report = s
        .verify_audit_anchored(std::slice::from_ref(&anchor))
        .unwrap();
    let problem = report.problem.expect("the anchor catches the cut");
    assert!(
        problem.what.contains("does not extend the anchor"),
        "{}",
        problem.what
    );
    // An anchor edited offline is not a checkpoint.
    let mut forged = anchor;
    forged.head.seq = 1;
    let report = s.verify_audit_anchored(&[forged]).unwrap();
    assert!(
        report
            .problem
            .expect("forged anchor")
            .what
            .contains("not validly signed"),
    );
}

#[test]
fn a_session_ended_without_close_is_signed_at_the_next_open() {
    let f = busy_project();
    let mut s = open(&f.root, &f.admin);
    let class_id = s.classes().unwrap()[0].id;
    s.apply_label(LabelChange::Create {
        item_id: f.item,
        draft: AnnotationDraft::new(class_id, a_box()),
    })
    .unwrap();
    // kill -9: no close, no drop.
    std::mem::forget(s);
    let project = Project::open(&f.root, &f.admin).unwrap();
    let rows = sealtag::store::audit_rows(project.store.conn()).unwrap();
    let heads = sealtag::store::signed_heads(project.store.conn()).unwrap();
    let tip = rows.last().unwrap().seq;
    let before = sealtag::audit::verify_chain(f_pid(&project), &rows, &heads, &|_, _, _| true);
    let tail = before
        .unsigned_tail
        .expect("the crashed session's rows are unsigned");
    assert_eq!(tail.rows, 2, "session.open and label.create: {tail:?}");
    assert_eq!(tail.first_seq + tail.rows - 1, tip);
    drop(project);
    let mut s = open(&f.root, &f.admin);
    assert!(s.latest_audit_head().unwrap().unwrap().seq >= tip);
    let report = s.verify_audit().unwrap();
    assert!(report.ok(), "{report:?}");
    // Only this session's own opening row is still unsigned.
    assert_eq!(report.unsigned_tail.expect("this session").rows, 1);
}

fn f_pid(project: &Project) -> &str {
    project.project_id()
}

#[test]
fn a_damaged_database_is_refused_and_left_untouched() {
    let f = busy_project();
    let db = f.root.join("project.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&db, &bytes).unwrap();
    let result = Session::open(&f.root, copy(&f.admin), None).and_then(|s| {
        s.integrity_check()?;
        Ok(s)
    });
    let err = result.expect_err("damage detected").to_string();
    assert!(
        err.contains("corrupt") || err.contains("tampered") || err.contains("integrity"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the damaged file was not modified or deleted"
    );
}

#[test]
fn a_garbage_database_is_refused_by_key_check() {
    let f = project_with_image();
    let db = f.root.join("project.db");
    std::fs::write(&db, vec![7u8; 8192]).unwrap();
    let err = Session::open(&f.root, copy(&f.admin), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be decrypted"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), vec![7u8; 8192]);
}

#[test]
fn a_newer_schema_or_bundle_format_is_refused() {
    let f = project_with_image();
    tamper(&f, "PRAGMA user_version = 99;");
    let err = Session::open(&f.root, copy(&f.admin), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema version 99") && err.contains("upgrade Sealtag"),
        "{err}"
    );

    let g = project_with_image();
    let header = g.root.join("header");
    let text = std::fs::read_to_string(&header)
        .unwrap()
        .replace("\"format_version\": 2", "\"format_version\": 7");
    std::fs::write(&header, text).unwrap();
    let err = Session::open(&g.root, copy(&g.admin), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("format version 7"), "{err}");
}

#[test]
fn an_edited_header_is_refused() {
    let f = project_with_image();
    let other = UnlockedIdentity::generate("other");
    let extra = age::encrypt(&other.public().recipient, &[0u8; 32]).unwrap();
    use base64::Engine;
    let header_path = f.root.join("header");
    let mut header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&header_path).unwrap()).unwrap();
    header["key_slots"].as_array_mut().unwrap().push(
        base64::engine::general_purpose::STANDARD
            .encode(extra)
            .into(),
    );
    std::fs::write(&header_path, serde_json::to_vec(&header).unwrap()).unwrap();
    let err = Session::open(&f.root, copy(&f.admin), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("integrity check"), "{err}");
}

#[test]
fn removing_a_user_rekeys_so_their_old_slot_opens_nothing() {
    let f = project_with_image();
    let bob = UnlockedIdentity::generate("Bob");
    let mut s = open(&f.root, &f.admin);
    s.add_user(&bob.public().to_key_string(), Role::Reviewer, "Bob")
        .unwrap();
    drop(s);
    // Bob can open; keep a copy of the header as it was while he was enrolled.
    drop(open(&f.root, &bob));
    let old_header = std::fs::read(f.root.join("header")).unwrap();

    let mut s = open(&f.root, &f.admin);
    s.remove_user("Bob").unwrap();
    drop(s);
    let err = Session::open(&f.root, copy(&bob), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no key slot"), "{err}");
    // Even restoring the old header (his old slot) does not open the re-keyed DB.
    let current = std::fs::read(f.root.join("header")).unwrap();
    std::fs::write(f.root.join("header"), &old_header).unwrap();
    assert!(Session::open(&f.root, copy(&bob), None).is_err());
    std::fs::write(f.root.join("header"), &current).unwrap();
    // The admin still opens it, and the chain records removal and re-key.
    let mut s = open(&f.root, &f.admin);
    assert_eq!(count_action(&mut s, "user.remove"), 1);
    assert_eq!(count_action(&mut s, "project.rekey"), 1);
    assert!(s.verify_audit().unwrap().ok());
}

#[test]
fn an_interrupted_rekey_is_finished_on_open() {
    let f = project_with_image();
    // Simulate a crash after `PRAGMA rekey` but before the header rename.
    let mut project = Project::open(&f.root, &f.admin).unwrap();
    let header_before = std::fs::read(f.root.join("header")).unwrap();
    project.rekey(&[f.admin.public()], &f.admin).unwrap();
    let new_header = std::fs::read(f.root.join("header")).unwrap();
    drop(project);
    std::fs::write(f.root.join("header.next"), &new_header).unwrap();
    std::fs::write(f.root.join("header"), &header_before).unwrap();
    let s = open(&f.root, &f.admin);
    drop(s);
    assert_eq!(std::fs::read(f.root.join("header")).unwrap(), new_header);
    assert!(!f.root.join("header.next").exists());
}

#[test]
fn labels_copy_to_another_item_clamped_and_single_tag_is_enforced() {
    let f = project_with_image();
    let mut s = open(&f.root, &f.admin);
    let rocket = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/rocket.webp"
    ))
    .unwrap();
    let target = s
        .import_bytes("rocket.webp", rocket, &ImportOptions::default())
        .unwrap()
        .item_ids[0];
    let classes = s.classes().unwrap();
    let other = classes.iter().find(|c| c.name == "other").unwrap().id;
    let logo = classes.iter().find(|c| c.name == "logo").unwrap().id;
    // astronaut.jpg is 512×512, rocket.webp 640×427: the polygon pokes out below.
    let polygon = Geometry::Polygon {
        points: vec![[10.0, 10.0], [200.0, 10.0], [100.0, 500.0]],
    };
    s.apply_label(LabelChange::Create {
        item_id: f.item,
        draft: AnnotationDraft::new(logo, polygon),
    })
    .unwrap();
    s.apply_label(LabelChange::Create {
        item_id: f.item,
        draft: AnnotationDraft::new(other, Geometry::Tag),
    })
    .unwrap();
    let copied = s.copy_labels(f.item, target).unwrap();
    assert_eq!(copied.len(), 2);
    let labels = s.annotations(target).unwrap();
    let Geometry::Polygon { points } = &labels[0].geometry else {
        panic!("{labels:?}")
    };
    assert_eq!(points[2], [100.0, 427.0], "clamped to the target image");
    assert_eq!(count_action(&mut s, "label.copy"), 1);

    // One tag per image once the schema says so.
    let schema = s.schema().unwrap();
    s.update_schema(schema.classes, false, false).unwrap();
    let second = s.apply_label(LabelChange::Create {
        item_id: target,
        draft: AnnotationDraft::new(logo, Geometry::Tag),
    });
    assert!(matches!(second, Err(CoreError::Invalid(m)) if m.contains("one tag per item")));
    // A class that does not allow a tool refuses it.
    let mut classes = s.classes().unwrap();
    classes.iter_mut().find(|c| c.id == logo).unwrap().tools = vec![sealtag::model::Tool::BBox];
    let err = s.update_schema(classes, false, false).unwrap_err();
    assert!(
        matches!(err, CoreError::NeedsConfirmation { labels: 2, .. }),
        "{err}"
    );
}

/// A project with one chat message (emoji, accents) and one audio call.
fn project_with_text_and_audio() -> (Fixture, i64, i64) {
    let f = project_with_image();
    let mut s = open(&f.root, &f.admin);
    let chats = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/text/support_chats.jsonl"
    ))
    .unwrap();
    let first = chats.lines().next().unwrap().to_string() + "\n";
    let text = s
        .import_bytes("chat.jsonl", first.into_bytes(), &ImportOptions::default())
        .unwrap()
        .item_ids[0];
    let mp3 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/call_04_22k.mp3"
    ))
    .unwrap();
    let audio = s
        .import_bytes("call.mp3", mp3, &ImportOptions::default())
        .unwrap()
        .item_ids[0];
    drop(s);
    (f, text, audio)
}

fn span(start: u64, end: u64) -> Geometry {
    Geometry::Span {
        start,
        end,
        byte_start: 0,
        byte_end: 0,
    }
}

#[test]
fn spans_store_char_and_byte_offsets_from_the_text_and_respect_overlap_rules() {
    let (f, text, _) = project_with_text_and_audio();
    let mut s = open(&f.root, &f.admin);
    let other = s
        .classes()
        .unwrap()
        .iter()
        .find(|c| c.name == "other")
        .unwrap()
        .id;
    // chat-0001: "Moved house 🏠➡️🏡 new address: 8 Placeholder Lane, Fairview, OR 97024 🎉";
    // the address is chars 30..68 and bytes 40..78 (ground truth in pii_spans.jsonl).
    let created = s
        .apply_label(LabelChange::Create {
            item_id: text,
            draft: AnnotationDraft::new(other, span(30, 68)),
        })
        .unwrap();
    let stored = s
        .annotations(text)
        .unwrap()
        .into_iter()
        .find(|a| a.id == created.annotation_id)
        .unwrap();
    assert_eq!(
        stored.geometry,
        Geometry::Span {
            start: 30,
            end: 68,
            byte_start: 40,
            byte_end: 78
        }
    );
    // Forged byte offsets from a caller are replaced by the true ones.
    let forged = Geometry::Span {
        start: 0,
        end: 5,
        byte_start: 99,
        byte_end: 100,
    };
    let id = s
        .apply_label(LabelChange::Create {
            item_id: text,
            draft: AnnotationDraft::new(other, forged),
        })
        .unwrap()
        .annotation_id;
    let g = s
        .annotations(text)
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap()
        .geometry;
    assert_eq!(
        g,
        Geometry::Span {
            start: 0,
            end: 5,
            byte_start: 0,
            byte_end: 5
        }
    );
    // Overlap is refused by default, allowed once the schema says so.
    let overlap = s.apply_label(LabelChange::Create {
        item_id: text,
        draft: AnnotationDraft::new(other, span(60, 70)),
    });
    assert!(matches!(overlap, Err(CoreError::Invalid(m)) if m.contains("overlaps")));
    s.set_overlap_rules(true, true).unwrap();
    s.apply_label(LabelChange::Create {
        item_id: text,
        draft: AnnotationDraft::new(other, span(60, 70)),
    })
    .unwrap();
    // Past the end, empty, or on the wrong kind of item: refused.
    for (item, g, why) in [
        (text, span(60, 71), "past the end"),
        (text, span(5, 5), "start < end"),
        (f.item, span(0, 3), "do not apply to image"),
    ] {
        let r = s.apply_label(LabelChange::Create {
            item_id: item,
            draft: AnnotationDraft::new(other, g),
        });
        assert!(
            matches!(&r, Err(CoreError::Invalid(m)) if m.contains(why)),
            "{why}: {r:?}"
        );
    }
    // A relation (its own class) links two labels of the same item.
    let relates = s
        .classes()
        .unwrap()
        .iter()
        .find(|c| c.name == "relates to")
        .unwrap()
        .id;
    let wrong_class = s.apply_label(LabelChange::Create {
        item_id: text,
        draft: AnnotationDraft::new(
            other,
            Geometry::Relation {
                from: created.annotation_id,
                to: id,
            },
        ),
    });
    assert!(
        wrong_class.is_err(),
        "class 'other' does not allow relations"
    );
    let rel = Geometry::Relation {
        from: created.annotation_id,
        to: id,
    };
    s.apply_label(LabelChange::Create {
        item_id: text,
        draft: AnnotationDraft::new(relates, rel),
    })
    .unwrap();
    let bad = Geometry::Relation {
        from: created.annotation_id,
        to: 999_999,
    };
    assert!(
        s.apply_label(LabelChange::Create {
            item_id: text,
            draft: AnnotationDraft::new(relates, bad)
        })
        .is_err()
    );
    // A document class is a tag on the text item.
    s.apply_label(LabelChange::Create {
        item_id: text,
        draft: AnnotationDraft::new(other, Geometry::Tag),
    })
    .unwrap();
}

#[test]
fn segments_stay_inside_the_recording_and_keep_their_transcript() {
    let (f, _, audio) = project_with_text_and_audio();
    let mut s = open(&f.root, &f.admin);
    let person = s.classes().unwrap()[0].id;
    let seg = |a: f64, b: f64| Geometry::Segment {
        start_secs: a,
        end_secs: b,
        transcript: "my order never arrived".into(),
    };
    let id = s
        .apply_label(LabelChange::Create {
            item_id: audio,
            draft: AnnotationDraft::new(person, seg(0.35, 4.2)),
        })
        .unwrap()
        .annotation_id;
    let stored = s.annotations(audio).unwrap();
    assert_eq!(stored[0].geometry, seg(0.35, 4.2));
    // Editing the transcript is an update with its own revision, undoable.
    let mut draft = AnnotationDraft::new(person, seg(0.35, 4.2));
    draft.geometry = Geometry::Segment {
        start_secs: 0.35,
        end_secs: 4.2,
        transcript: "my order has not arrived".into(),
    };
    s.apply_label(LabelChange::Update {
        annotation_id: id,
        draft,
    })
    .unwrap();
    s.apply_label(LabelChange::Undo {
        item_id: Some(audio),
    })
    .unwrap();
    let g = s
        .annotations(audio)
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap()
        .geometry;
    assert_eq!(g, seg(0.35, 4.2));
    // Overlap allowed by default for segments (two speakers at once); refused when the schema says so.
    s.apply_label(LabelChange::Create {
        item_id: audio,
        draft: AnnotationDraft::new(person, seg(4.0, 6.0)),
    })
    .unwrap();
    s.set_overlap_rules(false, false).unwrap();
    assert!(
        s.apply_label(LabelChange::Create {
            item_id: audio,
            draft: AnnotationDraft::new(person, seg(5.0, 7.0))
        })
        .is_err()
    );
    // The mp3 lasts about 29.2 s.
    let r = s.apply_label(LabelChange::Create {
        item_id: audio,
        draft: AnnotationDraft::new(person, seg(20.0, 40.0)),
    });
    assert!(
        matches!(&r, Err(CoreError::Invalid(m)) if m.contains("past the end")),
        "{r:?}"
    );
    let r = s.apply_label(LabelChange::Create {
        item_id: audio,
        draft: AnnotationDraft::new(person, seg(3.0, 2.0)),
    });
    assert!(r.is_err());
}

#[test]
fn audit_verify_recomputes_signer_fingerprints_from_the_keys() {
    let f = busy_project();
    // An insider with the database key adds a users row pairing their own
    // key with a fingerprint that is not its own, and signs a head (linked
    // properly) in that name.
    let mallory = UnlockedIdentity::generate("Mallory");
    let claimed = "0000-0000-0000-0000-0000";
    let project = Project::open(&f.root, &f.admin).unwrap();
    let conn = project.store.conn();
    let last = sealtag::store::signed_heads(conn).unwrap().pop().unwrap();
    let (seq, hash) = sealtag::store::audit_tip(conn).unwrap().unwrap();
    let pid = project.project_id().to_string();
    let prev = sealtag::audit::head_link(&last);
    let signature = mallory.sign(&sealtag::audit::head_message_v2(&pid, seq, &hash, &prev));
    project
        .store
        .raw_connection()
        .execute_batch(&format!(
            "INSERT INTO users(fingerprint, name, public_key, role, added_at) VALUES ('{claimed}', 'Ada Admin', '{}', 'admin', 0);
             INSERT INTO audit_heads(seq, hash, signer, signature, at, prev) VALUES ({seq}, '{hash}', '{claimed}', '{}', 0, '{prev}');",
            mallory.public().to_key_string(),
            hex::encode(signature)
        ))
        .unwrap();
    drop(project);
    let problem = verify(&f)
        .problem
        .expect("the claimed fingerprint is not the key's");
    assert!(problem.what.contains("unknown signer"), "{}", problem.what);
}

// ------------------------------------------------ signed membership (issue 18)

/// A project with Rev (reviewer) and Ann (annotator) enrolled.
fn project_with_members() -> (Fixture, UnlockedIdentity, UnlockedIdentity) {
    let f = project_with_image();
    let rev = UnlockedIdentity::generate("Rev Reviewer");
    let ann = UnlockedIdentity::generate("Ann Annotator");
    let mut s = open(&f.root, &f.admin);
    s.add_user(&rev.public().to_key_string(), Role::Reviewer, "Rev")
        .unwrap();
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.close().unwrap();
    (f, rev, ann)
}

fn tampered(e: &CoreError) -> bool {
    matches!(e, CoreError::MembershipTampered { .. })
}

#[test]
fn a_role_raised_in_the_database_gives_no_admin_rights_and_is_audited() {
    let (f, rev, _) = project_with_members();
    let fpr = rev.public().fingerprint();
    // The attack: a reviewer holding a key slot makes themself admin.
    tamper(
        &f,
        &format!("UPDATE users SET role = 'admin' WHERE fingerprint = '{fpr}';"),
    );
    let err = Session::open(&f.root, copy(&rev), None).unwrap_err();
    assert!(tampered(&err), "{err}");
    assert!(err.to_string().contains(&fpr), "{err}");
    // The next admin open puts the signed role back and records it.
    let mut s = open(&f.root, &f.admin);
    assert_eq!(count_action(&mut s, "membership.tampered"), 2);
    let rows = s.audit_log().unwrap();
    assert!(rows.iter().any(|r| r.action == "membership.tampered"
        && r.details.contains("\"restored\":true")
        && r.details.contains(&fpr)));
    let users = s.list_users().unwrap();
    assert_eq!(
        users.iter().find(|u| u.fingerprint == fpr).unwrap().role,
        Role::Reviewer
    );
    drop(s);
    let mut s = open(&f.root, &rev);
    assert_eq!(s.role(), Role::Reviewer);
    assert!(matches!(
        s.add_user(
            &UnlockedIdentity::generate("x").public().to_key_string(),
            Role::Admin,
            "x"
        ),
        Err(CoreError::Denied(_))
    ));
}

#[test]
fn a_removed_member_put_back_in_the_database_stays_removed() {
    let (f, _, ann) = project_with_members();
    let fpr = ann.public().fingerprint();
    let mut s = open(&f.root, &f.admin);
    s.remove_user("Ann").unwrap();
    drop(s);
    // The attack: the user row re-activated and a fresh row inserted for
    // a stranger, as an insider with the key can.
    let stranger = UnlockedIdentity::generate("Mallory");
    tamper(
        &f,
        &format!(
            "UPDATE users SET active = 1, removed_at = NULL WHERE fingerprint = '{fpr}';
             INSERT INTO users(fingerprint, name, public_key, role, added_at) VALUES ('{}', 'Mallory', '{}', 'admin', 0);",
            stranger.public().fingerprint(),
            stranger.public().to_key_string()
        ),
    );
    let mut s = open(&f.root, &f.admin);
    let users = s.list_users().unwrap();
    assert!(!users.iter().find(|u| u.fingerprint == fpr).unwrap().active);
    assert!(
        !users
            .iter()
            .find(|u| u.fingerprint == stranger.public().fingerprint())
            .unwrap()
            .active
    );
    let rows = s.audit_log().unwrap();
    let row = rows
        .iter()
        .find(|r| r.action == "membership.tampered")
        .expect("the change is on the trail");
    assert!(row.details.contains(&fpr) && row.details.contains("never added"));
}

#[test]
fn a_security_setting_lowered_in_the_database_keeps_its_signed_value() {
    let f = project_with_image();
    let mut s = open(&f.root, &f.admin);
    s.set_project_setting("watermark", "everyone").unwrap();
    s.set_project_setting("retention_days", "30").unwrap();
    // An unsigned setting stays a plain row.
    s.set_project_setting("guidelines", "be kind").unwrap();
    drop(s);
    tamper(
        &f,
        "UPDATE settings SET value = 'off' WHERE key = 'watermark';
         UPDATE settings SET value = '0' WHERE key = 'retention_days';
         UPDATE settings SET value = 'edited' WHERE key = 'guidelines';",
    );
    let mut s = open(&f.root, &f.admin);
    assert_eq!(s.project_setting("watermark").unwrap(), "everyone");
    assert_eq!(s.project_setting("retention_days").unwrap(), "30");
    assert!(s.watermark_on());
    assert_eq!(s.project_setting("guidelines").unwrap(), "edited");
    let rows = s.audit_log().unwrap();
    let row = rows
        .iter()
        .find(|r| r.action == "membership.tampered")
        .expect("the change is on the trail");
    assert!(row.details.contains("watermark") && row.details.contains("retention_days"));
    assert!(!row.details.contains("guidelines"));
    drop(s);
    // Deleting the whole log, or cutting its end off, is refused too.
    tamper(&f, "DELETE FROM membership_log WHERE seq > 2;");
    let err = Session::open(&f.root, copy(&f.admin), None).unwrap_err();
    assert!(
        tampered(&err) && err.to_string().contains("cut back"),
        "{err}"
    );
    tamper(&f, "DELETE FROM membership_log;");
    let err = Session::open(&f.root, copy(&f.admin), None).unwrap_err();
    assert!(
        tampered(&err) && err.to_string().contains("deleted"),
        "{err}"
    );
}

#[test]
fn the_founding_key_comes_from_the_signed_log_and_old_bundles_adopt_one() {
    let (f, rev, _) = project_with_members();
    let s = open(&f.root, &f.admin);
    assert_eq!(
        s.founding_key().unwrap().unwrap().to_key_string(),
        f.admin.public().to_key_string()
    );
    drop(s);
    // A bundle made before the log: no log, no founding row. The first
    // admin open builds the log from the rows and records it.
    tamper(
        &f,
        "DELETE FROM membership_log; DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;
         UPDATE audit SET action = 'x.old', details = '{}' WHERE action IN ('membership.founded') OR details LIKE '%membership_seq%';",
    );
    let mut s = open(&f.root, &f.admin);
    assert_eq!(count_action(&mut s, "membership.adopted"), 1);
    assert!(s.founding_key().unwrap().is_some());
    drop(s);
    let s = open(&f.root, &rev);
    assert_eq!(s.role(), Role::Reviewer);
}

/// A blob id is only ever 32 lowercase hex characters. Anything else (a
/// row edited by someone holding the key, a crafted package) named a path
/// outside `blobs/`: an absolute id replaced the whole path, `../` walked
/// out, and a multi-byte first character fell back to shard `00` with the
/// whole id appended. Removing or reading such a blob must touch nothing.
#[test]
fn blob_ids_that_are_not_hex_name_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p.sealtag");
    let paths = sealtag::bundle::BundlePaths::new(&root);
    std::fs::create_dir_all(paths.blobs()).unwrap();
    let victim = dir.path().join("victim");
    let key = sealtag::crypto::SecretBytes::<32>::random();
    for id in [
        victim.to_str().unwrap().to_string(),
        "../../victim".to_string(),
        "\u{20ac}/../../../victim".to_string(),
    ] {
        std::fs::write(&victim, b"keep me").unwrap();
        paths.remove_blob(&id);
        assert!(
            victim.exists(),
            "blob id {id:?} deleted a file outside blobs/"
        );
        let err = paths
            .read_blob("0123456789abcdef0123456789abcdef", &id, &key)
            .unwrap_err();
        assert!(
            err.to_string().contains("not a Sealtag id"),
            "{id:?}: {err}"
        );
    }
}

/// An insider holding a key slot (so the master key) edits the header
/// outside Sealtag. Adding a slot for a friend and recomputing the MAC
/// breaks the founding admin's signature; re-signing the whole header with
/// their own key, or stripping the signature back to version 1, makes a
/// header this home did not pin: each is refused as not the bundle opened
/// before, and noted for the audit trail. Only the founding admin changes
/// slots through the app.
#[test]
fn a_header_resigned_or_with_a_slot_added_outside_the_app_is_refused() {
    use sealtag::bundle::{BundlePaths, Header};
    use sealtag::home::Home;
    let f = project_with_image();
    let insider = UnlockedIdentity::generate("Ivy Insider");
    let friend = UnlockedIdentity::generate("Fred Friend");
    let mut s = open(&f.root, &f.admin);
    s.add_user(&insider.public().to_key_string(), Role::Admin, "Ivy")
        .unwrap();
    s.close().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin_home = Home::new(dir.path().join("admin"));
    Session::open(&f.root, copy(&f.admin), Some(&admin_home))
        .unwrap()
        .close()
        .unwrap();
    // Another admin may not change slots: the header is the founder's.
    let mut ivy = Session::open(&f.root, copy(&insider), None).unwrap();
    let err = ivy
        .add_user(&friend.public().to_key_string(), Role::Annotator, "Fred")
        .unwrap_err()
        .to_string();
    assert!(err.contains("only the founding admin"), "{err}");
    ivy.close().unwrap();

    let paths = BundlePaths::new(&f.root);
    let genuine = std::fs::read(paths.header()).unwrap();
    let header = paths.read_header().unwrap();
    let master = header.unlock(&insider).unwrap();
    let pid = header.project_id.clone();
    let refused = |why: &str| {
        let err = Session::open(&f.root, copy(&f.admin), Some(&admin_home))
            .err()
            .unwrap_or_else(|| panic!("{why}: opened"))
            .to_string();
        assert!(
            err.contains("not the bundle you opened before"),
            "{why}: {err}"
        );
    };

    // 1. Re-sealed with a slot for the friend, signed by the insider.
    let recipients = vec![f.admin.public(), insider.public(), friend.public()];
    let resigned = Header::seal(&pid, &master, &recipients, &insider).unwrap();
    std::fs::write(paths.header(), resigned.to_bytes()).unwrap();
    refused("re-signed by another key");
    // The friend's slot opens, but their own home has nothing to compare:
    // the founder's copy is the one that tells.

    // 2. A slot added to the founder's header, MAC recomputed by hand.
    let mut added = header.clone();
    use base64::Engine;
    let slot = age::encrypt(&friend.public().recipient, master.expose()).unwrap();
    added
        .key_slots
        .push(base64::engine::general_purpose::STANDARD.encode(slot));
    let mut v1 = added.clone();
    v1.format_version = 1;
    v1.founder = None;
    v1.signature = None;
    for h in [&mut added, &mut v1] {
        let mut unmac = h.clone();
        unmac.mac = String::new();
        h.mac = mac_of(&master, &unmac);
    }
    std::fs::write(paths.header(), added.to_bytes()).unwrap();
    let err = Session::open(&f.root, copy(&f.admin), Some(&admin_home))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("signature does not verify"), "{err}");

    // 3. The same, downgraded to an unsigned version-1 header.
    std::fs::write(paths.header(), v1.to_bytes()).unwrap();
    refused("unsigned where a signed header was pinned");

    // Every refusal is waiting for the next project's audit trail.
    let noted = admin_home
        .pending_failed_unlocks()
        .iter()
        .filter(|(_, r)| r.starts_with("@bundle.refused"))
        .count();
    assert_eq!(noted, 3);
    // The genuine header still opens.
    std::fs::write(paths.header(), genuine).unwrap();
    Session::open(&f.root, copy(&f.admin), Some(&admin_home))
        .unwrap()
        .close()
        .unwrap();
}

/// The header MAC as Sealtag computes it (docs/bundle-format.md), for a
/// header edited by hand.
fn mac_of(master: &sealtag::crypto::MasterKey, h: &sealtag::bundle::Header) -> String {
    let mut input = Vec::new();
    for field in [
        h.magic.as_str(),
        &h.format_version.to_string(),
        &h.project_id,
    ]
    .into_iter()
    .chain(h.key_slots.iter().map(String::as_str))
    {
        input.extend_from_slice(&(field.len() as u64).to_be_bytes());
        input.extend_from_slice(field.as_bytes());
    }
    hex::encode(master.header_mac(&h.project_id, &input))
}

#[test]
fn split_and_merge_are_one_transaction_and_one_audit_row_each() {
    let (f, _, audio) = project_with_text_and_audio();
    let mut s = open(&f.root, &f.admin);
    let person = s.classes().unwrap()[0].id;
    let seg = |a: f64, b: f64, t: &str| Geometry::Segment {
        start_secs: a,
        end_secs: b,
        transcript: t.into(),
    };
    let create = |s: &mut Session, g: Geometry| {
        s.apply_label(LabelChange::Create {
            item_id: audio,
            draft: AnnotationDraft::new(person, g),
        })
        .unwrap()
        .annotation_id
    };
    let id = create(&mut s, seg(1.0, 5.0, "hello"));
    let other = create(&mut s, seg(6.0, 9.0, "world"));
    // Overlaps refused: the parts replace the original, so they are not
    // checked against it (the GUI's two separate changes were).
    s.set_overlap_rules(false, false).unwrap();
    let rows = |s: &mut Session, action: &str| {
        s.audit_log()
            .unwrap()
            .iter()
            .filter(|r| r.action == action)
            .count()
    };
    let geometry = |s: &mut Session, a: i64| {
        s.annotations(audio)
            .unwrap()
            .into_iter()
            .find(|x| x.id == a)
            .map(|x| x.geometry)
    };
    assert!(s.split_segment(id, 5.5).is_err(), "outside the segment");
    let (first, second) = s.split_segment(id, 3.0).unwrap();
    assert_eq!(first, id);
    assert_eq!(geometry(&mut s, first), Some(seg(1.0, 3.0, "hello")));
    assert_eq!(geometry(&mut s, second), Some(seg(3.0, 5.0, "")));
    assert_eq!(rows(&mut s, "label.split"), 1);
    assert_eq!(rows(&mut s, "label.create"), 2, "no separate create row");

    let kept = s.merge_segments(&[other, second]).unwrap();
    assert_eq!(kept, second, "the earliest segment is kept");
    assert_eq!(geometry(&mut s, second), Some(seg(3.0, 9.0, "world")));
    assert_eq!(geometry(&mut s, other), None);
    assert_eq!(rows(&mut s, "label.merge"), 1);
    assert_eq!(rows(&mut s, "label.delete"), 0, "no separate delete row");
    assert!(s.merge_segments(&[first]).is_err(), "one segment");
    // Each part stays undoable on its own: undo brings the merged-away
    // segment back.
    s.apply_label(LabelChange::Undo {
        item_id: Some(audio),
    })
    .unwrap();
    assert_eq!(geometry(&mut s, other), Some(seg(6.0, 9.0, "world")));
}
