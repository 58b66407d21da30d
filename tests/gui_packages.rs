//! GUI tests of the package dialogs with egui_kittest: an annotator opens a
//! work package from the project picker (a tampered copy shows the failed
//! check, the real one makes the laptop bundle), labels, and sends results
//! from the workspace; the admin's "Open results package" dialog shows a
//! tampered package's refusal and merges the real one.

#![cfg(feature = "gui")]

mod kit;

use age::secrecy::SecretString;
use egui_kittest::kittest::Queryable;
use kit::{H, harness, run_command, step_until, type_into};
use sealtag::controller::Session;
use sealtag::crypto::UnlockedIdentity;
use sealtag::gui::SealtagApp;
use sealtag::gui::commands::Command;
use sealtag::home::Home;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use std::path::{Path, PathBuf};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const PASS: &str = "gui-package-pass";

struct World {
    dir: tempfile::TempDir,
    site: PathBuf,
    admin_home: Home,
    ann_home: Home,
    work: PathBuf,
}

fn identity(home: &Home, name: &str) -> UnlockedIdentity {
    home.create_identity(name, &SecretString::from(PASS.to_string()), 10)
        .unwrap()
}

/// A site project with one image assigned to Ann, and her work package.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let admin_home = Home::new(dir.path().join("admin"));
    let ann_home = Home::new(dir.path().join("ann"));
    let admin = identity(&admin_home, "Ada");
    let ann = identity(&ann_home, "Ann");
    let site = dir.path().join("site.sealtag");
    let mut s = Session::create_project(&site, "Site", admin).unwrap();
    let item = s
        .import_bytes(
            "astronaut.jpg",
            std::fs::read(IMAGE).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap()
        .item_ids[0];
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.assign(&[item], "Ann", "annotate").unwrap();
    let work = dir.path().join("ann.sealpkg");
    s.make_work_package("Ann", &work, &mut |_| true).unwrap();
    s.close().unwrap();
    World {
        dir,
        site,
        admin_home,
        ann_home,
        work,
    }
}

fn unlock(h: &mut H) {
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(PASS);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    h.run_steps(2);
}

fn flipped_copy(src: &Path, dst: &Path) {
    let mut bytes = std::fs::read(src).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(dst, bytes).unwrap();
}

fn picker_outcome(app: &SealtagApp) -> Option<Result<String, String>> {
    app.package_dialog().and_then(|d| d.outcome.clone())
}

fn workspace_outcome(app: &SealtagApp) -> Option<Result<String, String>> {
    app.workspace()
        .and_then(|w| w.package_dialog())
        .and_then(|d| d.outcome.clone())
}

#[test]
fn annotator_opens_a_work_package_from_the_picker_and_sends_results() {
    let w = world();
    let mut h = harness(SealtagApp::new(w.ann_home.clone(), None, false));
    unlock(&mut h);
    h.get_by_label("Open work package…").click();
    h.run_steps(2);

    // A tampered package: the dialog names the failed check; no bundle.
    let bad = w.dir.path().join("tampered.sealpkg");
    flipped_copy(&w.work, &bad);
    type_into(&mut h, "Package file", bad.to_str().unwrap());
    h.get_by_label("Verify and open").click();
    step_until(&mut h, "the refusal", |app| picker_outcome(app).is_some());
    let refusal = picker_outcome(h.state()).unwrap().unwrap_err();
    assert!(refusal.contains("check failed"), "{refusal}");
    h.run_steps(2);
    h.get_by_label_contains("check failed");
    assert!(
        std::fs::read_dir(w.ann_home.projects_dir())
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "a refused package leaves nothing behind"
    );

    // The real one: created, then opened as the workspace.
    h.get_by_label("Package file").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Package file")
        .type_text(w.work.to_str().unwrap());
    h.run_steps(1);
    // First contact, no fingerprint typed and the box not ticked: refused,
    // with the signer's fingerprint shown to compare; nothing created.
    h.get_by_label("Verify and open").click();
    step_until(&mut h, "the first-contact refusal", |app| {
        picker_outcome(app).is_some_and(|o| o.is_err_and(|e| e.contains("signer check")))
    });
    let refusal = picker_outcome(h.state()).unwrap().unwrap_err();
    let admin_fpr = w.admin_home.public_identity().unwrap().1.fingerprint();
    assert!(refusal.contains("signer check failed"), "{refusal}");
    assert!(refusal.contains(&admin_fpr), "{refusal}");
    assert!(
        std::fs::read_dir(w.ann_home.projects_dir())
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "an unconfirmed first package leaves nothing behind"
    );
    h.run_steps(2);
    h.get_by_label("I compared the signer's fingerprint with the site's")
        .click();
    h.run_steps(1);
    h.get_by_label("Verify and open").click();
    step_until(&mut h, "the package to open", |app| {
        picker_outcome(app).is_some_and(|o| o.is_ok())
    });
    let text = picker_outcome(h.state()).unwrap().unwrap();
    assert!(text.starts_with("Created"), "{text}");
    h.run_steps(2);
    h.get_by_label("Open the project").click();
    step_until(&mut h, "the laptop workspace", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    let ws = h.state().workspace().unwrap();
    assert!(ws.is_laptop_bundle());
    assert_eq!(ws.visible_items().len(), 1);

    // Label through the core session the workspace holds, then send results
    // with the dialog (the "submit to site" step).
    {
        let ws = h.state_mut().workspace_mut().unwrap();
        let item = ws.current_item().unwrap().id;
        let class = ws.classes()[0].id;
        let s = ws.session_mut();
        s.apply_label(LabelChange::Create {
            item_id: item,
            draft: AnnotationDraft::new(
                class,
                Geometry::BBox(BBox {
                    x: 5.0,
                    y: 5.0,
                    w: 20.0,
                    h: 20.0,
                }),
            ),
        })
        .unwrap();
        s.submit(item).unwrap();
        ws.run_command(Command::SendResults);
    }
    h.run_steps(2);
    let results = w.dir.path().join("results.sealpkg");
    type_into(&mut h, "Save as", results.to_str().unwrap());
    h.get_by_label("Make results package").click();
    step_until(&mut h, "the results package", |app| {
        workspace_outcome(app).is_some()
    });
    let text = workspace_outcome(h.state()).unwrap().unwrap();
    assert!(text.starts_with("Sealed"), "{text}");
    assert!(results.exists());

    // The admin's dialog: a tampered copy is refused on screen; the real
    // one merges the label.
    let admin_pass = SecretString::from(PASS.to_string());
    let admin = w.admin_home.unlock(&admin_pass).unwrap();
    drop(h);
    let mut h = harness(SealtagApp::new(
        w.admin_home.clone(),
        Some(w.site.clone()),
        false,
    ));
    unlock(&mut h);
    step_until(&mut h, "the site workspace", |app| {
        app.workspace().is_some()
    });
    run_command(&mut h, Command::OpenResultsPackage);
    let bad = w.dir.path().join("bad-results.sealpkg");
    flipped_copy(&results, &bad);
    type_into(&mut h, "Package file", bad.to_str().unwrap());
    h.get_by_label("Verify and merge").click();
    step_until(&mut h, "the refusal", |app| {
        workspace_outcome(app).is_some()
    });
    let refusal = workspace_outcome(h.state()).unwrap().unwrap_err();
    assert!(refusal.contains("check failed"), "{refusal}");
    h.run_steps(2);
    h.get_by_label_contains("check failed");

    h.get_by_label("Package file").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Package file")
        .type_text(results.to_str().unwrap());
    h.run_steps(1);
    h.get_by_label("Verify and merge").click();
    step_until(&mut h, "the merge", |app| {
        workspace_outcome(app).is_some_and(|o| o.is_ok())
    });
    let text = workspace_outcome(h.state()).unwrap().unwrap();
    assert!(text.starts_with("Merged 1 item"), "{text}");
    drop(h);
    let mut s = Session::open(&w.site, admin, None).unwrap();
    let item = s.items().unwrap()[0].id;
    assert_eq!(s.annotations(item).unwrap().len(), 1);
    assert_eq!(
        s.items().unwrap()[0].status,
        sealtag::model::ItemStatus::Submitted
    );
}

#[test]
fn admin_makes_a_work_package_with_the_dialog() {
    let w = world();
    let mut h = harness(SealtagApp::new(
        w.admin_home.clone(),
        Some(w.site.clone()),
        false,
    ));
    unlock(&mut h);
    step_until(&mut h, "the site workspace", |app| {
        app.workspace().is_some()
    });
    run_command(&mut h, Command::MakeWorkPackage);
    h.get_by_label("For").click();
    h.run_steps(2);
    h.get_by_label_contains("Ann (annotator)").click();
    h.run_steps(2);
    let out = w.dir.path().join("second.sealpkg");
    type_into(&mut h, "Save as", out.to_str().unwrap());
    h.get_by_label("Make package").click();
    step_until(&mut h, "the package", |app| {
        workspace_outcome(app).is_some()
    });
    let text = workspace_outcome(h.state()).unwrap().unwrap();
    assert!(
        text.contains("1 item(s)") && text.contains("sequence 2"),
        "{text}"
    );
    // It opens on Ann's side like the first.
    let ann = w
        .ann_home
        .unlock(&SecretString::from(PASS.to_string()))
        .unwrap();
    let opened = sealtag::controller::open_work_package(
        &out,
        &ann,
        &w.ann_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut |_| true,
    )
    .unwrap();
    assert_eq!(opened.items_added.len(), 1);
}

#[test]
fn admin_exports_a_signed_dataset_with_the_dialog() {
    let w = world();
    let mut h = harness(SealtagApp::new(
        w.admin_home.clone(),
        Some(w.site.clone()),
        false,
    ));
    unlock(&mut h);
    step_until(&mut h, "the site workspace", |app| {
        app.workspace().is_some()
    });
    run_command(&mut h, Command::ExportDataset);
    h.get_by_label("All items (not only approved)").click();
    h.run_steps(1);
    let out = w.dir.path().join("dataset");
    type_into(&mut h, "Save as", out.to_str().unwrap());
    h.get_by_label("Export").click();
    step_until(&mut h, "the export", |app| {
        app.workspace()
            .and_then(|w| w.export_dialog())
            .is_some_and(|d| d.outcome.is_some())
    });
    let outcome = h
        .state()
        .workspace()
        .unwrap()
        .export_dialog()
        .unwrap()
        .outcome
        .clone()
        .unwrap();
    assert!(
        outcome
            .as_ref()
            .is_ok_and(|t| t.starts_with("Exported 1 item")),
        "{outcome:?}"
    );
    let manifest = sealtag::package::verify_export_dir(&out).unwrap();
    assert!(manifest.members.iter().any(|m| m.name.ends_with(".json")));
}

/// The annotator inspects her work package from the picker before opening
/// it: the dialog names the signer and lists the item, its fields and its
/// member's hash; nothing is written; a tampered copy names its check.
#[test]
fn annotator_inspects_a_work_package_without_opening_it() {
    let w = world();
    let mut h = harness(SealtagApp::new(w.ann_home.clone(), None, false));
    unlock(&mut h);
    h.get_by_label("Inspect package…").click();
    h.run_steps(2);
    let bad = w.dir.path().join("tampered.sealpkg");
    flipped_copy(&w.work, &bad);
    type_into(&mut h, "Package file", bad.to_str().unwrap());
    h.get_by_label("Inspect").click();
    step_until(&mut h, "the refusal", |app| picker_outcome(app).is_some());
    let refusal = picker_outcome(h.state()).unwrap().unwrap_err();
    assert!(refusal.contains("check failed"), "{refusal}");

    h.get_by_label("Package file").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Package file")
        .type_text(w.work.to_str().unwrap());
    h.run_steps(1);
    h.get_by_label("Inspect").click();
    step_until(&mut h, "the inspection", |app| {
        picker_outcome(app).is_some_and(|o| o.is_ok())
    });
    h.run_steps(2);
    let seen = h
        .state()
        .package_dialog()
        .unwrap()
        .inspection
        .clone()
        .unwrap();
    let item = &seen.work.as_ref().unwrap().items[0];
    h.get_by_label_contains("Signature and all 2 member hashes checked");
    h.get_by_label("astronaut.jpg");
    h.get_by_label_contains("metadata stripped");
    h.get_by_label(&item.media_sha256.clone().unwrap());
    assert!(
        std::fs::read_dir(w.ann_home.projects_dir())
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "inspecting writes no bundle"
    );
}
