//! GUI tests of the governance screens with egui_kittest, on real projects
//! in temporary homes driven through the real controller: an annotator
//! reports an item (it leaves the queue), the admin releases, erases and
//! re-masks reported items, an auditor reads the access review and the
//! anomaly flags, an expired laptop bundle shows only its banner and erases
//! itself, the privacy screen hides everything on the panic key and on
//! focus loss, retention purges a backdated item, the consent group saves,
//! and the work-package dialog sets an expiry. Every decision is checked
//! through a second, independent session (what is really stored).

#![cfg(feature = "gui")]

mod kit;

use age::secrecy::SecretString;
use egui::{Event, Key, Modifiers, Pos2};
use egui_kittest::kittest::Queryable;
use kit::{H, click, click_at, harness, key, open_menu, run_command, step_until, type_into};
use sealtag::controller::{GovernanceChange, Session};
use sealtag::crypto::UnlockedIdentity;
use sealtag::governance::anomalies::FlagKind;
use sealtag::gui::SealtagApp;
use sealtag::gui::commands::Command;
use sealtag::gui::governance_view::flag_rows;
use sealtag::gui::shield::COVER_TEXT;
use sealtag::home::Home;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role, now_ms};
use sealtag::project::Project;
use std::path::{Path, PathBuf};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const PASS: &str = "gui-governance-pass";
const DAY_MS: i64 = 86_400_000;

struct World {
    dir: tempfile::TempDir,
    site: PathBuf,
    admin_home: Home,
    ann_home: Home,
    auditor_home: Home,
    admin: UnlockedIdentity,
    ann: UnlockedIdentity,
    /// img0.jpg … img3.jpg, all assigned to Ann.
    items: Vec<i64>,
}

/// A site with four images assigned to Ann (annotator), and Audrey the
/// auditor.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let pass = SecretString::from(PASS.to_string());
    let admin_home = Home::new(dir.path().join("admin"));
    let ann_home = Home::new(dir.path().join("ann"));
    let auditor_home = Home::new(dir.path().join("audrey"));
    let admin = admin_home.create_identity("Ada", &pass, 10).unwrap();
    let ann = ann_home.create_identity("Ann", &pass, 10).unwrap();
    let audrey = auditor_home.create_identity("Audrey", &pass, 10).unwrap();
    let site = dir.path().join("site.sealtag");
    let mut s = Session::create_project(&site, "Site", admin.clone()).unwrap();
    let items = kit::import_images(&mut s, IMAGE, 4);
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.add_user(&audrey.public().to_key_string(), Role::Auditor, "Audrey")
        .unwrap();
    s.assign(&items, "Ann", "annotate").unwrap();
    s.close().unwrap();
    World {
        dir,
        site,
        admin_home,
        ann_home,
        auditor_home,
        admin,
        ann,
        items,
    }
}

/// An independent admin session on the site.
fn site(w: &World) -> Session {
    Session::open(&w.site, w.admin.clone(), None).unwrap()
}

/// Unlocks `home` on `project` and waits for the workspace (and, when the
/// role has items, the first image).
fn open_as(home: &Home, project: &Path, wait_for_image: bool) -> H {
    let mut h = harness(SealtagApp::new(
        home.clone(),
        Some(project.to_path_buf()),
        false,
    ));
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(PASS);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the workspace", |app| app.workspace().is_some());
    if wait_for_image {
        step_until(&mut h, "the image", |app| {
            app.workspace().is_some_and(|ws| ws.has_image())
        });
    }
    h.run_steps(2);
    h
}

fn current(h: &H) -> Option<i64> {
    h.state()
        .workspace()
        .and_then(|ws| ws.current_item())
        .map(|i| i.id)
}

fn queue(h: &H) -> Vec<i64> {
    h.state()
        .workspace()
        .unwrap()
        .visible_items()
        .iter()
        .map(|i| i.id)
        .collect()
}

fn message(h: &H) -> String {
    h.state()
        .workspace()
        .and_then(|ws| ws.message())
        .unwrap_or_default()
        .to_string()
}

fn box_label(s: &mut Session, item: i64) {
    let class = s.classes().unwrap()[0].id;
    s.apply_label(LabelChange::Create {
        item_id: item,
        draft: AnnotationDraft::new(
            class,
            Geometry::BBox(BBox {
                x: 10.0,
                y: 10.0,
                w: 40.0,
                h: 40.0,
            }),
        ),
    })
    .unwrap();
}

#[test]
fn annotator_reports_an_item_and_it_leaves_the_queue() {
    let w = world();
    let mut h = open_as(&w.ann_home, &w.site, true);
    assert_eq!(current(&h), Some(w.items[0]));
    // Move to the second item: the report is about what is on screen.
    key(&mut h, Key::D);
    assert_eq!(current(&h), Some(w.items[1]));

    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    h.run_steps(3);
    assert_eq!(
        h.state()
            .workspace()
            .unwrap()
            .report_dialog()
            .expect("the report dialog is open")
            .item_id,
        w.items[1]
    );
    h.get_by_label("Unmasked personal data");
    h.get_by_label("Wrong data");
    h.get_by_label("Other");

    // A report without a kind and reason is not sent: the dialog says why.
    click(&mut h, "Report");
    h.get_by_label_contains("Choose what is wrong");
    click(&mut h, "Disturbing content");
    click(&mut h, "Report");
    h.get_by_label_contains("Say in a few words what is wrong");
    assert_eq!(queue(&h).len(), 4, "nothing was reported yet");
    assert!(site(&w).incidents().unwrap().is_empty());

    type_into(&mut h, "Reason (required)", "graphic injury in the corner");
    click(&mut h, "Report");
    let ws = h.state().workspace().unwrap();
    assert!(ws.report_dialog().is_none(), "the dialog closed");
    assert_eq!(
        queue(&h),
        vec![w.items[0], w.items[2], w.items[3]],
        "the reported item left the queue at once"
    );
    assert_eq!(current(&h), Some(w.items[2]), "the next item opened");
    assert_eq!(
        message(&h),
        "Reported: it has left your queue; the site will decide"
    );
    h.run_steps(2);
    h.get_by_label("Reported: it has left your queue; the site will decide");

    let incidents = site(&w).incidents().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let i = &incidents[0];
    assert_eq!(
        (
            i.item_id,
            i.kind.as_str(),
            i.reason.as_str(),
            i.status.as_str()
        ),
        (
            w.items[1],
            "disturbing",
            "graphic injury in the corner",
            "open"
        )
    );
    assert_eq!(i.reporter_name, "Ann");
    // Ann's own sessions no longer list it either.
    let mut ann = Session::open(&w.site, w.ann.clone(), None).unwrap();
    assert!(!ann.items().unwrap().iter().any(|it| it.id == w.items[1]));
}

#[test]
fn admin_releases_removes_and_remasks_reported_items() {
    let w = world();
    {
        let mut admin = site(&w);
        box_label(&mut admin, w.items[1]);
        let mut ann = Session::open(&w.site, w.ann.clone(), None).unwrap();
        ann.flag_item(w.items[0], "other", "looks like a duplicate")
            .unwrap();
        ann.flag_item(w.items[1], "wrong_data", "not an astronaut at all")
            .unwrap();
        ann.flag_item(w.items[2], "pii", "a name badge is readable")
            .unwrap();
    }
    let ids: Vec<i64> = site(&w).incidents().unwrap().iter().map(|i| i.id).collect();
    let mut h = open_as(&w.admin_home, &w.site, true);
    // From the File menu, named with its shortcut.
    open_menu(&mut h, "File");
    click(&mut h, "Incidents… Ctrl+Shift+I");
    let view = h.state().workspace().unwrap().incidents_view().unwrap();
    assert_eq!(view.rows().len(), 3);
    h.get_by_label("3 open, 0 resolved");
    h.get_by_label("Wrong data");
    h.get_by_label("Unmasked personal data");

    // Release the first: back in Ann's queue, with the note on record.
    click(&mut h, &format!("#{}", ids[0]));
    type_into(&mut h, "Note (optional)", "checked, it is not");
    click(&mut h, "Release");
    h.get_by_label_contains(&format!("Incident #{} released", ids[0]));
    // The next open incident is selected to decide on.
    assert_eq!(
        h.state()
            .workspace()
            .unwrap()
            .incidents_view()
            .unwrap()
            .selected(),
        Some(ids[1])
    );

    // Remove the second: a confirmation first, which can be cancelled.
    click(&mut h, &format!("#{}", ids[1]));
    click(&mut h, "Remove item…");
    h.get_by_label_contains("erased for good");
    click(&mut h, "Cancel");
    assert!(site(&w).items().unwrap().iter().any(|i| i.id == w.items[1]));
    click(&mut h, "Remove item…");
    click(&mut h, "Erase item for good");
    let outcome = format!("Incident #{}: item {} erased: 1 label", ids[1], w.items[1]);
    h.get_by_label_contains(&outcome);
    assert!(
        !queue(&h).contains(&w.items[1]),
        "the admin's queue lost the erased item"
    );

    // Re-mask the third: the privacy screen opens on its item.
    click(&mut h, &format!("#{}", ids[2]));
    click(&mut h, "Re-mask");
    let ws = h.state().workspace().unwrap();
    assert_eq!(ws.privacy_view().map(|p| p.item_id()), Some(w.items[2]));
    assert_eq!(current(&h), Some(w.items[2]));
    // The erased item took its incident with it.
    h.get_by_label("0 open, 2 resolved");
    drop(h);

    let mut s = site(&w);
    let rows = s.incidents().unwrap();
    let status = |id: i64| {
        rows.iter()
            .find(|r| r.id == id)
            .map(|r| (r.status.clone(), r.note.clone()))
    };
    assert_eq!(
        status(ids[0]),
        Some(("released".into(), Some("checked, it is not".into())))
    );
    assert_eq!(status(ids[1]), None, "erasure took the incident with it");
    assert_eq!(status(ids[2]), Some(("remasked".into(), None)));
    let items: Vec<i64> = s.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(items, vec![w.items[0], w.items[2], w.items[3]]);
    let mut ann = Session::open(&w.site, w.ann.clone(), None).unwrap();
    assert!(ann.items().unwrap().iter().any(|i| i.id == w.items[0]));
}

#[test]
fn auditor_reads_the_access_review_and_anomalies_annotators_cannot() {
    let w = world();
    let mut h = open_as(&w.auditor_home, &w.site, false);
    let ws = h.state().workspace().unwrap();
    assert!(ws.visible_items().is_empty(), "auditors have no items");
    h.get_by_label_contains("No items to show in this role");
    open_menu(&mut h, "File");
    click(&mut h, "Access review & anomalies… Ctrl+Shift+G");
    let view = h
        .state()
        .workspace()
        .unwrap()
        .access_view()
        .expect("the window is open");
    assert!(view.error.is_none(), "{:?}", view.error);
    let review = view.review.clone().unwrap();
    let flags = view.flags.clone().unwrap();
    assert_eq!(review.people.len(), 3);
    for (name, role) in [
        ("Ada", "admin"),
        ("Ann", "annotator"),
        ("Audrey", "auditor"),
    ] {
        h.get_by_label(name);
        assert!(
            h.query_all_by_label(role).count() >= 1,
            "{role} is shown in the table"
        );
    }
    let ann = review.people.iter().find(|p| p.name == "Ann").unwrap();
    h.get_by_label(&ann.fingerprint);

    // The anomalies: enrolling Ann and Audrey were role changes.
    click(&mut h, &format!("Anomalies ({})", flags.len()));
    let role_changes: Vec<_> = flags
        .iter()
        .filter(|f| f.kind == FlagKind::RoleChange)
        .collect();
    assert_eq!(role_changes.len(), 2, "{flags:?}");
    assert_eq!(h.query_all_by_label("role_change").count(), 2);
    for f in &role_changes {
        assert!(!f.rows.is_empty());
        // The audit rows behind each flag are on screen.
        h.get_by_label(&flag_rows(f));
    }
    h.get_by_label_contains("enrolled Audrey as auditor");
    drop(h);

    // Both reports were audited as the auditor's.
    let mut s = site(&w);
    let actions: Vec<String> = s
        .audit_log()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a == "access.review"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "audit.anomalies"));

    // Annotators have no entry and are refused by the command.
    let mut h = open_as(&w.ann_home, &w.site, true);
    open_menu(&mut h, "File");
    assert!(
        h.query_by_label("Settings… Ctrl+Comma").is_some(),
        "the menu is open"
    );
    assert!(h.query_by_label_contains("Access review").is_none());
    assert!(h.query_by_label_contains("Incidents").is_none());
    key(&mut h, Key::Escape);
    run_command(&mut h, Command::AccessReview);
    assert!(h.state().workspace().unwrap().access_view().is_none());
    assert!(
        message(&h).contains("admins and auditors"),
        "{}",
        message(&h)
    );
}

/// Ann's laptop bundle from a work package, its expiry then moved into
/// the past (as if the days had gone by).
fn expired_laptop(w: &World) -> PathBuf {
    let work = w.dir.path().join("ann.sealpkg");
    site(w)
        .make_work_package_expiring("Ann", &work, Some(now_ms() + DAY_MS), &mut |_| true)
        .unwrap();
    let bundle = sealtag::controller::open_work_package(
        &work,
        &w.ann,
        &w.ann_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut |_| true,
    )
    .unwrap()
    .bundle;
    Project::open(&bundle, &w.ann)
        .unwrap()
        .store
        .set_meta("expires_at_ms", &(now_ms() - 60_000).to_string())
        .unwrap();
    bundle
}

fn audit_actions(bundle: &Path, who: &UnlockedIdentity) -> Vec<String> {
    let project = Project::open(bundle, who).unwrap();
    sealtag::store::audit_rows(project.store.conn())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn an_expired_laptop_bundle_shows_the_banner_and_erases_itself() {
    let w = world();
    let bundle = expired_laptop(&w);
    let mut h = open_as(&w.ann_home, &bundle, false);
    // Give a decoder every chance to deliver something it should not.
    h.run_steps(20);
    let ws = h.state().workspace().unwrap();
    assert!(ws.is_expired());
    assert!(ws.is_laptop_bundle());
    assert!(!ws.has_image(), "no item content is shown");
    assert!(!ws.is_loading());
    assert_eq!(ws.current_item().map(|i| i.id), None);
    assert_eq!(ws.visible_items().len(), 4, "the queue lists names only");
    h.get_by_label_contains("This work package expired on");
    h.get_by_label(
        "Labelling is closed. Send your results to the site (once), then erase this bundle.",
    );
    h.get_by_label_contains("Work package expired");
    h.get_by_label("Send results to the site…");

    // Moving through the queue opens nothing.
    key(&mut h, Key::D);
    let ws = h.state().workspace().unwrap();
    assert_eq!(ws.current_item().map(|i| i.id), None);
    assert!(!ws.has_image());
    assert!(message(&h).contains("expired"), "{}", message(&h));

    // Not even an attempt to decrypt: the controller would have refused
    // and audited it.
    let actions = audit_actions(&bundle, &w.ann);
    assert!(
        !actions
            .iter()
            .any(|a| a == "expiry.refused" || a == "item.view"),
        "{actions:?}"
    );

    // The banner's erase asks first; Cancel keeps everything.
    click(&mut h, "Erase this bundle…");
    h.get_by_label_contains("This cannot be undone");
    click(&mut h, "Cancel");
    assert!(bundle.exists());
    assert!(!h.state().workspace().unwrap().is_confirming_erase());
    click(&mut h, "Erase this bundle…");
    click(&mut h, "Erase for good");
    h.run_steps(2);
    assert!(!bundle.exists(), "the bundle folder is gone");
    let app = h.state();
    assert!(app.workspace().is_none());
    assert!(app.is_picking_project(), "back to the project picker");
    let msg = app.message().unwrap_or_default();
    assert!(
        msg.starts_with("Erased") && msg.contains("4 item(s)"),
        "{msg}"
    );
    h.get_by_label_contains("Erased");
    // The picker no longer offers the erased bundle.
    assert!(
        h.query_by_label(
            &bundle
                .canonicalize()
                .unwrap_or(bundle.clone())
                .display()
                .to_string()
        )
        .is_none()
    );
}

#[test]
fn the_privacy_screen_hides_on_the_panic_key_and_on_focus_loss() {
    let w = world();
    let mut h = open_as(&w.ann_home, &w.site, true);
    h.get_by_label("Queue");
    let before = current(&h);

    // The panic key works even while typing in a dialog.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    h.run_steps(2);
    h.get_by_label("Reason (required)").click();
    h.run_steps(1);
    key(&mut h, Key::F12);
    assert!(h.state().workspace().unwrap().is_hidden());
    h.get_by_label(COVER_TEXT);
    // Nothing of the item, the queue or the dialog is drawn.
    for gone in ["Queue", "img0.jpg", "Classes", "Report this item", "Labels"] {
        assert!(
            h.query_by_label_contains(gone).is_none(),
            "{gone} is visible behind the cover"
        );
    }
    // A key press takes it down without acting: D does not move on.
    key(&mut h, Key::D);
    assert!(!h.state().workspace().unwrap().is_hidden());
    assert_eq!(current(&h), before);
    h.get_by_label("Queue");
    h.get_by_label("Reason (required)");
    click(&mut h, "Cancel");

    // With the setting off, losing focus hides nothing.
    h.event(Event::WindowFocused(false));
    h.run_steps(2);
    assert!(!h.state().workspace().unwrap().is_hidden());
    h.event(Event::WindowFocused(true));
    h.run_steps(2);
    drop(h);

    // The admin turns it on (validated: only on and off).
    let mut s = site(&w);
    assert!(s.set_project_setting("privacy_screen", "maybe").is_err());
    s.set_project_setting("privacy_screen", "on").unwrap();
    drop(s);
    let mut h = open_as(&w.ann_home, &w.site, true);
    assert!(h.state().workspace().unwrap().privacy_screen_on());
    h.event(Event::WindowFocused(false));
    h.run_steps(2);
    assert!(h.state().workspace().unwrap().is_hidden());
    h.get_by_label(COVER_TEXT);
    assert!(h.query_by_label("Queue").is_none());
    // Focus coming back is not enough; a click is.
    h.event(Event::WindowFocused(true));
    h.run_steps(2);
    assert!(h.state().workspace().unwrap().is_hidden());
    click_at(&mut h, Pos2::new(640.0, 400.0));
    assert!(!h.state().workspace().unwrap().is_hidden());
    assert_eq!(current(&h), before, "the click did not act on the item");
    h.get_by_label("Queue");
}

#[test]
fn admin_turns_the_privacy_screen_on_in_project_settings() {
    let w = world();
    let mut h = open_as(&w.admin_home, &w.site, true);
    run_command(&mut h, Command::ProjectSettings);
    click(&mut h, "Hide the item whenever the window loses focus");
    click(&mut h, "Save");
    assert_eq!(site(&w).project_setting("privacy_screen").unwrap(), "on");
    assert!(h.state().workspace().unwrap().privacy_screen_on());
}

#[test]
fn retention_purge_erases_a_backdated_item() {
    let w = world();
    site(&w)
        .set_project_setting("retention_days", "30")
        .unwrap();
    Project::open(&w.site, &w.admin)
        .unwrap()
        .store
        .raw_connection()
        .execute(
            "UPDATE items SET created_at = ?1 WHERE id = ?2",
            rusqlite::params![now_ms() - 40 * DAY_MS, w.items[3]],
        )
        .unwrap();
    let mut h = open_as(&w.admin_home, &w.site, true);
    open_menu(&mut h, "File");
    click(&mut h, "Purge expired items… Ctrl+Shift+T");
    h.get_by_label_contains("Items are kept for 30 day(s)");
    h.get_by_label(&format!("1 item(s) are past it: {}", w.items[3]));
    click(&mut h, "Purge");
    h.get_by_label_contains("Purged 1 item(s)");
    assert!(!queue(&h).contains(&w.items[3]));
    h.get_by_label("0 item(s) are past it");
    click(&mut h, "Cancel");
    assert!(h.state().workspace().unwrap().retention_dialog().is_none());
    drop(h);

    let mut s = site(&w);
    let items: Vec<i64> = s.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(items, w.items[..3].to_vec());
}

#[test]
fn the_consent_group_saves_consent_and_purposes() {
    let w = world();
    site(&w)
        .set_governance(
            &[w.items[0]],
            &GovernanceChange {
                subject_key: Some(Some("cust-42".into())),
                ..GovernanceChange::default()
            },
        )
        .unwrap();
    let mut h = open_as(&w.admin_home, &w.site, true);
    h.get_by_label("Consent");
    // Whether a subject key is set, never the key itself.
    h.get_by_label_contains("Data subject key: set");
    assert!(h.query_by_label_contains("cust-42").is_none());
    h.get_by_label("Consent status").click();
    h.run_steps(2);
    click(&mut h, "granted");
    type_into(&mut h, "Purposes", "training, eval");
    click(&mut h, "Save consent");
    h.get_by_label("Consent saved");
    drop(h);

    let g = site(&w).item_governance(w.items[0]).unwrap();
    assert_eq!(g.consent, "granted");
    assert_eq!(g.purposes, vec!["training".to_string(), "eval".to_string()]);
    assert_eq!(g.subject_key.as_deref(), Some("cust-42"), "the key stays");

    // Annotators see it, read-only.
    let h = open_as(&w.ann_home, &w.site, true);
    h.get_by_label("Consent: granted");
    h.get_by_label("Purposes: training, eval");
    assert!(h.query_by_label("Save consent").is_none());
}

#[test]
fn the_work_package_dialog_sets_an_expiry() {
    let w = world();
    let mut h = open_as(&w.admin_home, &w.site, true);
    run_command(&mut h, Command::MakeWorkPackage);
    h.get_by_label("For").click();
    h.run_steps(2);
    h.get_by_label_contains("Ann (annotator)").click();
    h.run_steps(2);
    let out = w.dir.path().join("expiring.sealpkg");
    type_into(&mut h, "Save as", out.to_str().unwrap());
    type_into(&mut h, "Expires after (days)", "3");
    let asked = now_ms();
    h.get_by_label("Make package").click();
    step_until(&mut h, "the package", |app| {
        app.workspace()
            .and_then(|ws| ws.package_dialog())
            .is_some_and(|d| d.outcome.is_some())
    });
    let outcome = h
        .state()
        .workspace()
        .unwrap()
        .package_dialog()
        .unwrap()
        .outcome
        .clone()
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    drop(h);
    let bundle = sealtag::controller::open_work_package(
        &out,
        &w.ann,
        &w.ann_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut |_| true,
    )
    .unwrap()
    .bundle;
    let laptop = Session::open(&bundle, w.ann.clone(), None).unwrap();
    let at = laptop.expires_at().expect("the package carries an expiry");
    assert!(
        (asked + 3 * DAY_MS - 60_000..=now_ms() + 3 * DAY_MS).contains(&at),
        "{at} vs {asked}"
    );
    assert!(!laptop.expired());
}

#[test]
fn admin_sets_the_retention_period_in_project_settings() {
    let w = world();
    let mut h = open_as(&w.admin_home, &w.site, true);
    run_command(&mut h, Command::ProjectSettings);
    // A click turns the drag value into a text field with its text selected.
    h.get_by_label("Keep items for (days)").click();
    h.run_steps(2);
    h.get_by_label("Keep items for (days)").type_text("30");
    key(&mut h, Key::Enter);
    click(&mut h, "Save");
    assert_eq!(site(&w).project_setting("retention_days").unwrap(), "30");
    // The purge dialog now counts against the new period.
    open_menu(&mut h, "File");
    click(&mut h, "Purge expired items… Ctrl+Shift+T");
    h.get_by_label_contains("Items are kept for 30 day(s)");
}

/// What travels is set in the same window: opaque names, the record fields
/// allowed into work packages and the phone region; each saved through the
/// controller (validated, audited), a bad field list refused with its reason.
#[test]
fn admin_allow_lists_record_fields_in_project_settings() {
    let w = world();
    let mut h = open_as(&w.admin_home, &w.site, true);
    run_command(&mut h, Command::ProjectSettings);
    h.get_by_label("Replace with opaque ids (item-000042.jpg)")
        .click();
    h.run_steps(1);
    type_into(&mut h, "Record fields in work packages", "lang, channel");
    h.get_by_label("Phone numbers' country").click();
    h.run_steps(1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(1);
    h.get_by_label("Phone numbers' country").type_text("gb");
    h.run_steps(1);
    click(&mut h, "Save");
    let s = site(&w);
    assert_eq!(s.project_setting("package_names").unwrap(), "opaque");
    assert_eq!(
        s.project_setting("package_fields").unwrap(),
        "lang, channel"
    );
    assert_eq!(s.project_setting("pii_region").unwrap(), "GB");
    drop(s);
    run_command(&mut h, Command::ProjectSettings);
    h.get_by_label("Record fields in work packages").click();
    h.run_steps(1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(1);
    h.get_by_label("Record fields in work packages")
        .type_text("a b");
    h.run_steps(1);
    click(&mut h, "Save");
    h.get_by_label_contains("is not a valid value for package_fields");
    assert_eq!(
        site(&w).project_setting("package_fields").unwrap(),
        "lang, channel"
    );
}
