//! Governance through the core: erasure of a data subject and retention
//! purges crypto-shred (no canary left in any file or any decrypted row,
//! and a copy taken before cannot be read with the keys that remain),
//! consent limits exports by purpose, revoked keys are refused whatever
//! time their packages claim, work packages expire on the laptop (a clock turned back does
//! not revive them), and incidents travel from the laptop to the admin.

use sealtag::controller::{CoreError, GovernanceChange, Resolution, Session};
use sealtag::crypto::UnlockedIdentity;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, Geometry, LabelChange};
use sealtag::project::Project;
use std::path::Path;

mod site;
use site::{Site, copy_dir, no_progress};

const CANARY_TEXT: &str = "CANARY-7Q4Z-TEXT";
const CANARY_LABEL: &str = "CANARY-7Q4Z-LABEL";

/// Support chats with a customer id, consent and purposes per record.
fn import_chats(s: &mut Session) -> Vec<i64> {
    let jsonl = format!(
        "{{\"id\": \"c1\", \"customer\": \"cust-42\", \"consent\": \"yes\", \"use\": \"training;eval\", \"text\": \"Hi, {CANARY_TEXT} here, my card broke.\"}}\n\
         {{\"id\": \"c2\", \"customer\": \"cust-42\", \"consent\": \"yes\", \"use\": \"training\", \"text\": \"Second message from the same person.\"}}\n\
         {{\"id\": \"c3\", \"customer\": \"cust-7\", \"consent\": \"no\", \"use\": \"training\", \"text\": \"Someone else entirely.\"}}\n\
         {{\"id\": \"c4\", \"customer\": \"cust-8\", \"consent\": \"yes\", \"use\": \"eval\", \"text\": \"Evaluation only.\"}}\n"
    );
    let options = ImportOptions {
        subject_field: Some("customer".into()),
        consent_field: Some("consent".into()),
        purposes_field: Some("use".into()),
        ..ImportOptions::default()
    };
    s.import_bytes("chats.jsonl", jsonl.into_bytes(), &options)
        .unwrap()
        .item_ids
}

/// Every file under `root`, and every value of every row of the decrypted
/// database, searched for `needle`.
fn find_anywhere(root: &Path, identity: &UnlockedIdentity, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(format!("file {}", path.display()));
                }
            }
        }
    }
    let project = Project::open(root, identity).unwrap();
    let conn = project.store.raw_connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                let text = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        String::from_utf8_lossy(b).into_owned()
                    }
                    _ => continue,
                };
                if text.contains(needle) {
                    hits.push(format!("table {t}"));
                }
            }
        }
    }
    hits
}

#[test]
fn erasing_a_data_subject_crypto_shreds_their_items() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    let class = admin.classes().unwrap()[0].id;
    // A label whose attribute-free draft still carries text: a span, and
    // a comment naming the canary.
    admin
        .apply_label(LabelChange::Create {
            item_id: ids[0],
            draft: AnnotationDraft::new(
                class,
                Geometry::Span {
                    start: 4,
                    end: 20,
                    byte_start: 0,
                    byte_end: 0,
                },
            ),
        })
        .unwrap();
    admin.comment(ids[0], None, CANARY_LABEL).unwrap();
    let g = admin.item_governance(ids[0]).unwrap();
    assert_eq!(g.subject_key.as_deref(), Some("cust-42"));
    assert_eq!(g.consent, "granted");
    assert_eq!(g.purposes, vec!["training", "eval"]);
    let (blob_ids, keys): (Vec<String>, Vec<_>) = {
        let project = Project::open(&site.root, &site.admin).unwrap();
        let rows: Vec<(String, Vec<u8>)> = project
            .store
            .raw_connection()
            .prepare(
                "SELECT b.id, b.key FROM blobs b JOIN items i ON i.blob_id = b.id ORDER BY i.id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.into_iter().unzip()
    };
    drop(admin);
    assert!(!find_anywhere(&site.root, &site.admin, CANARY_LABEL).is_empty());
    let before = site.path("copy-before.sealtag");
    copy_dir(&site.root, &before);

    let mut admin = site.admin();
    let report = admin.erase_subject("cust-42").unwrap();
    assert_eq!(report.items, vec![ids[0], ids[1]]);
    assert_eq!((report.labels, report.comments, report.blobs), (1, 1, 2));
    assert_eq!(
        admin.erase_subject("cust-42").unwrap().items,
        Vec::<i64>::new()
    );
    let left: Vec<i64> = admin.items().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(left, vec![ids[2], ids[3]]);
    let audit = admin.audit_log().unwrap();
    let row = audit.iter().find(|e| e.action == "subject.erase").unwrap();
    assert!(
        row.details.contains(&format!("[{},{}]", ids[0], ids[1])),
        "{}",
        row.details
    );
    assert!(
        !row.details.contains("cust-42"),
        "the subject key is not logged"
    );
    drop(admin);

    for canary in [CANARY_TEXT, CANARY_LABEL] {
        let hits = find_anywhere(&site.root, &site.admin, canary);
        assert!(hits.is_empty(), "{canary} survives in {hits:?}");
    }
    let wal = site.root.join("project.db-wal");
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
        "the WAL was truncated"
    );
    for b in &blob_ids[..2] {
        let shard = &b[..2];
        assert!(!site.root.join("blobs").join(shard).join(b).exists());
    }
    // The copy taken before still holds the ciphertext; no key that
    // remains opens it.
    let remaining: Vec<Vec<u8>> = {
        let project = Project::open(&site.root, &site.admin).unwrap();
        project
            .store
            .raw_connection()
            .prepare("SELECT key FROM blobs")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(remaining.len(), 2);
    let pid = Project::open(&site.root, &site.admin)
        .unwrap()
        .project_id()
        .to_string();
    for b in &blob_ids[..2] {
        let file = before.join("blobs").join(&b[..2]).join(b);
        let bytes = std::fs::read(&file).unwrap();
        for k in &remaining {
            let key = sealtag::crypto::SecretBytes::<32>::from_slice(k).unwrap();
            assert!(
                sealtag::crypto::decrypt_blob(&key, &pid, b, &mut bytes.as_slice(), 1 << 20)
                    .is_err()
            );
        }
    }
    // (The copy's own keys do open it: erasure cannot reach copies, which
    // is why the bundle is encrypted as a whole.)
    let old = sealtag::crypto::SecretBytes::<32>::from_slice(&keys[0]).unwrap();
    let bytes = std::fs::read(
        before
            .join("blobs")
            .join(&blob_ids[0][..2])
            .join(&blob_ids[0]),
    )
    .unwrap();
    assert!(
        sealtag::crypto::decrypt_blob(&old, &pid, &blob_ids[0], &mut bytes.as_slice(), 1 << 20)
            .is_ok()
    );
}

#[test]
fn retention_purges_expired_items_and_consent_limits_exports() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.set_project_setting("retention_days", "30").unwrap();
    assert!(admin.expired_items().unwrap().is_empty());
    drop(admin);
    // Backdate two items by 40 days.
    {
        let project = Project::open(&site.root, &site.admin).unwrap();
        let old = sealtag::model::now_ms() - 40 * 86_400_000;
        project
            .store
            .raw_connection()
            .execute(
                "UPDATE items SET created_at = ?1 WHERE id IN (?2, ?3)",
                rusqlite::params![old, ids[2], ids[3]],
            )
            .unwrap();
    }
    let mut admin = site.admin();
    assert_eq!(admin.expired_items().unwrap(), vec![ids[2], ids[3]]);
    let purged = admin.retention_purge().unwrap();
    assert_eq!(purged.items, vec![ids[2], ids[3]]);
    assert!(
        admin
            .audit_log()
            .unwrap()
            .iter()
            .any(|e| e.action == "retention.purge"
                && e.details.contains("\"retention_days\":\"30\""))
    );
    // Consent: of the two left (both granted), one allows eval.
    admin
        .set_governance(
            &[ids[1]],
            &GovernanceChange {
                consent: Some("withdrawn".into()),
                ..GovernanceChange::default()
            },
        )
        .unwrap();
    let out = site.path("eval-export");
    let report = admin
        .export(
            &sealtag::controller::ExportOptions {
                format: "jsonl".into(),
                all_statuses: true,
                purpose: Some("training".into()),
                ..Default::default()
            },
            &out,
            &mut no_progress(),
        )
        .unwrap();
    assert_eq!((report.items, report.not_consented), (1, 1));
    assert!(
        admin
            .set_governance(
                &[ids[0]],
                &GovernanceChange {
                    consent: Some("maybe".into()),
                    ..GovernanceChange::default()
                }
            )
            .is_err()
    );
}

#[test]
fn a_revoked_key_is_refused_whatever_time_it_claims_unless_an_admin_accepts_it() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.assign(&ids[..2], "Ann", "annotate").unwrap();
    drop(admin);
    let laptop = site.open_work(&site.work("w1.sealpkg", None)).unwrap();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let class = ann.classes().unwrap()[0].id;
    ann.apply_label(LabelChange::Create {
        item_id: ids[0],
        draft: AnnotationDraft::new(
            class,
            Geometry::Span {
                start: 0,
                end: 2,
                byte_start: 0,
                byte_end: 0,
            },
        ),
    })
    .unwrap();
    let before = site.path("r-before.sealpkg");
    ann.make_results_package(&before, false, &mut no_progress())
        .unwrap();
    drop(ann);
    std::thread::sleep(std::time::Duration::from_millis(5));
    site.admin().remove_user("Ann").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.apply_label(LabelChange::Create {
        item_id: ids[1],
        draft: AnnotationDraft::new(
            class,
            Geometry::Span {
                start: 0,
                end: 3,
                byte_start: 0,
                byte_end: 0,
            },
        ),
    })
    .unwrap();
    let after = site.path("r-after.sealpkg");
    ann.make_results_package(&after, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let mut admin = site.admin();
    // Both are refused: the package made "before" the revocation only says
    // so (created_ms is the sender's word; a laptop clock set back backdates).
    for package in [&after, &before] {
        let err = admin
            .open_results_package(package, &mut no_progress())
            .unwrap_err();
        assert!(
            matches!(&err, CoreError::PackageRefused { check, .. } if check == "revocation"),
            "{err}"
        );
    }
    // Accepting them is an admin's explicit, audited decision, and nothing
    // is merged directly: every item is a conflict to review.
    let merged = admin
        .open_results_package_accept_revoked(&before, &mut no_progress())
        .unwrap();
    assert!(merged.signed_before_revocation);
    assert!(merged.items_merged.is_empty(), "{merged:?}");
    assert!(
        merged
            .conflicts
            .iter()
            .any(|(item, why)| *item == ids[0] && why.contains("--accept-revoked")),
        "{merged:?}"
    );
    assert!(
        admin
            .audit_log()
            .unwrap()
            .iter()
            .any(|e| e.action == "package.accept_revoked"
                && e.details.contains(&site.ann.public().fingerprint()))
    );
    let audit = admin.audit_log().unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "package.rejected" && e.details.contains("revocation"))
    );
    assert!(
        audit.iter().any(|e| e.action == "package.merge"
            && e.details.contains("\"signed_before_revocation\":true"))
    );
}

#[test]
fn expired_work_stops_labelling_sends_results_once_and_erases() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.assign(&ids[..1], "Ann", "annotate").unwrap();
    assert!(
        admin
            .plan_work_package_expiring("Ann", Some(sealtag::model::now_ms() - 1))
            .is_err(),
        "an expiry in the past is refused"
    );
    drop(admin);
    let expires = sealtag::model::now_ms() + 60 * 60 * 1000;
    let laptop = site
        .open_work(&site.work("w.sealpkg", Some(expires)))
        .unwrap();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    assert_eq!(ann.expires_at(), Some(expires));
    assert!(!ann.expired());
    ann.load_item(ids[0]).unwrap();
    drop(ann);
    // The laptop's clock was seen a day ahead; it is now "turned back".
    {
        let project = Project::open(&laptop, &site.ann).unwrap();
        project
            .store
            .set_meta(
                "clock_last_seen_ms",
                &(sealtag::model::now_ms() + 86_400_000).to_string(),
            )
            .unwrap();
    }
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    assert!(
        ann.expired(),
        "a clock turned back does not revive the package"
    );
    let Err(err) = ann.load_item(ids[0]) else {
        panic!("an expired package's item opened")
    };
    assert!(matches!(err, CoreError::Expired { .. }), "{err:?}");
    assert!(err.to_string().contains("Send your results"), "{err}");
    let class = ann.classes().unwrap()[0].id;
    assert!(matches!(
        ann.apply_label(LabelChange::Create {
            item_id: ids[0],
            draft: AnnotationDraft::new(class, Geometry::Tag),
        }),
        Err(CoreError::Expired { .. })
    ));
    ann.make_results_package(&site.path("last.sealpkg"), false, &mut no_progress())
        .unwrap();
    assert!(matches!(
        ann.make_results_package(&site.path("again.sealpkg"), false, &mut no_progress()),
        Err(CoreError::Expired { .. })
    ));
    let actions: Vec<String> = {
        let project = Project::open(&laptop, &site.ann).unwrap();
        sealtag::store::audit_rows(project.store.conn())
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    };
    assert!(
        actions.iter().any(|a| a == "clock.backwards"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "expiry.refused"));
    let ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let erased = ann.erase_laptop_bundle().unwrap();
    assert_eq!(erased.items, vec![ids[0]]);
    assert!(!laptop.exists());
    // A site project cannot be erased this way.
    assert!(site.admin().erase_laptop_bundle().is_err());
}

/// The controller holds the one expiry limit every front end meets: no
/// more than ten years (`MAX_EXPIRY_DAYS`) ahead.
#[test]
fn expiry_more_than_ten_years_ahead_is_refused() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.assign(&ids[..1], "Ann", "annotate").unwrap();
    let day_ms = 86_400_000;
    let limit_days = sealtag::controller::MAX_EXPIRY_DAYS;
    assert_eq!(limit_days, 3650);
    let too_far = sealtag::model::now_ms() + (limit_days + 1) * day_ms;
    let err = match admin.plan_work_package_expiring("Ann", Some(too_far)) {
        Ok(_) => panic!("an expiry more than {limit_days} days ahead was accepted"),
        Err(e) => e,
    };
    assert!(matches!(err, CoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("3650 days"), "{err}");
    // Just within the limit is fine, and the package carries it.
    let within = sealtag::model::now_ms() + limit_days * day_ms - 60_000;
    drop(admin);
    let laptop = site
        .open_work(&site.work("w.sealpkg", Some(within)))
        .unwrap();
    let ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    assert_eq!(ann.expires_at(), Some(within));
}

#[test]
fn flagged_items_leave_the_queue_and_reach_the_admin() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.assign(&ids[..2], "Ann", "annotate").unwrap();
    drop(admin);
    let laptop = site.open_work(&site.work("w.sealpkg", None)).unwrap();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    assert!(ann.flag_item(ids[0], "gossip", "x").is_err());
    assert!(ann.flag_item(ids[0], "pii", "  ").is_err());
    let id = ann
        .flag_item(ids[0], "pii", "a full card number is readable")
        .unwrap();
    let queue: Vec<i64> = ann.items().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(
        queue,
        vec![ids[1]],
        "the flagged item left the queue at once"
    );
    assert_eq!(ann.incidents().unwrap()[0].id, id);
    let results = site.path("r.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let mut admin = site.admin();
    let merged = admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    assert_eq!(merged.incidents_added, 1);
    let incidents = admin.incidents().unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].item_id, ids[0]);
    assert_eq!(incidents[0].kind, "pii");
    assert_eq!(incidents[0].reporter, site.ann.public().fingerprint());
    let removed = admin
        .resolve_incident(incidents[0].id, Resolution::Remove, Some("erased"))
        .unwrap()
        .unwrap();
    assert_eq!(removed.items, vec![ids[0]]);
    assert!(
        admin
            .resolve_incident(incidents[0].id, Resolution::Release, None)
            .is_err(),
        "gone with its item"
    );
    let audit = admin.audit_log().unwrap();
    for a in ["incident.report", "incident.resolve", "incident.remove"] {
        assert!(audit.iter().any(|e| e.action == a), "{a}");
    }
}

/// A reported item stays at the site while its incident is open; once an
/// admin releases it, the next work package brings it back to the queue.
#[test]
fn a_released_item_returns_to_the_laptop_queue() {
    let site = Site::new();
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin.assign(&ids[..2], "Ann", "annotate").unwrap();
    drop(admin);
    let laptop = site.open_work(&site.work("w1.sealpkg", None)).unwrap();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.flag_item(ids[1], "wrong_data", "this is not a support chat")
        .unwrap();
    let results = site.path("r.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let mut admin = site.admin();
    admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    let plan = admin.plan_work_package("Ann").unwrap();
    assert_eq!(
        plan.item_ids,
        vec![ids[0]],
        "an open incident keeps the item home"
    );
    drop(plan);
    let incident = admin.incidents().unwrap()[0].id;
    assert!(
        admin
            .resolve_incident(incident, Resolution::Release, Some("checked"))
            .unwrap()
            .is_none()
    );
    drop(admin);
    site.open_work(&site.work("w2.sealpkg", None)).unwrap();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let queue: Vec<i64> = ann.items().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(queue, vec![ids[0], ids[1]]);
}

/// The laptop takes its site admins from the signed membership the work
/// packages carry: after the package announcing Bob's removal, results go
/// to Ada only, and work Bob signs from an old copy of the site (where he
/// is still an admin) is refused.
#[test]
fn an_admin_removed_at_the_site_no_longer_signs_work_for_the_laptop() {
    let site = Site::new();
    let bob = UnlockedIdentity::generate("Bob Admin");
    let mut admin = site.admin();
    let ids = import_chats(&mut admin);
    admin
        .add_user(
            &bob.public().to_key_string(),
            sealtag::model::Role::Admin,
            "Bob",
        )
        .unwrap();
    admin.assign(&ids[..1], "Ann", "annotate").unwrap();
    drop(admin);
    let stale = site.path("stale.sealtag");
    copy_dir(&site.root, &stale);
    let laptop = site.open_work(&site.work("w1.sealpkg", None)).unwrap();
    let mut admin = site.admin();
    admin.remove_user("Bob").unwrap();
    admin.assign(&ids[1..2], "Ann", "annotate").unwrap();
    drop(admin);
    site.open_work(&site.work("w2.sealpkg", None)).unwrap();
    let w3 = site.path("w3.sealpkg");
    Session::open(&stale, bob.clone(), None)
        .unwrap()
        .make_work_package("Ann", &w3, &mut no_progress())
        .unwrap();
    let err = site.open_work(&w3).unwrap_err();
    assert!(
        matches!(&err, CoreError::PackageRefused { check, .. } if check == "revocation"),
        "{err}"
    );
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let made = ann
        .make_results_package(&site.path("r.sealpkg"), false, &mut no_progress())
        .unwrap();
    assert_eq!(made.recipients.len(), 1, "{:?}", made.recipients);
    assert!(
        !made
            .recipients
            .iter()
            .any(|r| r.contains(&bob.public().fingerprint()) || r.contains("Bob")),
        "{:?}",
        made.recipients
    );
}

/// Someone kept the header (or only a master key) from before an erasure.
/// Deleting blob keys is not enough then: the old master key still opened
/// the live database, and with it every key and row left. After an erasure
/// the master key is rotated (new slots, `PRAGMA rekey`, `VACUUM`, WAL
/// truncated): the old key opens nothing live, the new header does.
#[test]
fn after_an_erasure_the_old_master_key_opens_nothing_live() {
    use sealtag::bundle::BundlePaths;
    let site = Site::new();
    let mut admin = site.admin();
    import_chats(&mut admin);
    admin.close().unwrap();
    let paths = BundlePaths::new(&site.root);
    let old = paths.read_header().unwrap();
    let old_master = old.unlock(&site.admin).unwrap();
    let pid = old.project_id.clone();
    let db_key = old_master.database_key(&pid);
    assert!(sealtag::store::Store::open(&paths.database(), &db_key, &pid, false).is_ok());

    let mut admin = site.admin();
    assert_eq!(admin.erase_subject("cust-42").unwrap().items.len(), 2);
    admin.close().unwrap();

    let err = sealtag::store::Store::open(&paths.database(), &db_key, &pid, false);
    assert!(
        err.is_err(),
        "the old master key still opens the live database"
    );
    let audit = site.admin().audit_log().unwrap();
    let rekey = audit
        .iter()
        .rfind(|e| e.action == "project.rekey")
        .expect("the erasure rotated the key");
    assert!(rekey.details.contains("erasure"), "{}", rekey.details);
    let new = paths.read_header().unwrap();
    assert_ne!(new.key_slots, old.key_slots);
    assert_ne!(new.unlock(&site.admin).unwrap(), old_master);
    assert!(
        !site.root.join("project.db-wal").exists()
            || std::fs::metadata(site.root.join("project.db-wal"))
                .unwrap()
                .len()
                == 0
    );
    // Nothing erased, nothing rotated: a second request changes no key.
    let mut admin = site.admin();
    assert!(admin.erase_subject("cust-42").unwrap().items.is_empty());
    admin.close().unwrap();
    assert_eq!(paths.read_header().unwrap().key_slots, new.key_slots);
    // The project still opens, with the rest of its items.
    assert_eq!(site.admin().items().unwrap().len(), 2);
}
