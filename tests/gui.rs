//! GUI tests of the image labelling tools with egui_kittest: every tool is
//! driven by simulated pointer and key events, and the result is checked in
//! the store through a second, independent session.

#![cfg(feature = "gui")]

mod kit;

use age::secrecy::SecretString;
use egui::{Event, Key, Modifiers, PointerButton, Pos2};
use egui_kittest::kittest::Queryable;
use kit::{H, drag, step_until};
use sealtag::controller::Session;
use sealtag::demo::{self, DEMO_ADMIN_PASSPHRASE, DEMO_PASSPHRASE};
use sealtag::gui::SealtagApp;
use sealtag::model::{Annotation, Geometry};

struct Demo {
    _dir: tempfile::TempDir,
    paths: demo::DemoPaths,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let paths = demo::ensure_demo(&sealtag::home::Home::new(dir.path())).unwrap();
    Demo { _dir: dir, paths }
}

fn harness(d: &Demo) -> H {
    kit::harness(SealtagApp::new(
        d.paths.annotator_home.clone(),
        Some(d.paths.project.clone()),
        true,
    ))
}

/// Types the passphrase, unlocks, and waits for the first image.
fn unlock(mut h: H, passphrase: &str) -> H {
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(passphrase);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the first image", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    h.run_steps(2);
    h
}

/// The demo, unlocked by its annotator.
fn unlocked(d: &Demo) -> H {
    unlock(harness(d), DEMO_PASSPHRASE)
}

/// Labels committed for an item, read through the admin's own session.
fn stored(d: &Demo, item_id: i64) -> Vec<Annotation> {
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    s.annotations(item_id).unwrap()
}

fn screen(h: &H, x: f64, y: f64) -> Pos2 {
    h.state()
        .workspace()
        .unwrap()
        .canvas_view()
        .unwrap()
        .to_screen(x, y)
}

fn item_id(h: &H) -> i64 {
    h.state().workspace().unwrap().current_item().unwrap().id
}

fn button(h: &H, pos: Pos2, button: PointerButton, pressed: bool, modifiers: Modifiers) {
    h.event_modifiers(
        Event::PointerButton {
            pos,
            button,
            pressed,
            modifiers,
        },
        modifiers,
    );
}

fn click_with(h: &mut H, pos: Pos2, modifiers: Modifiers, which: PointerButton) {
    h.hover_at(pos);
    h.run_steps(1);
    button(h, pos, which, true, modifiers);
    h.run_steps(1);
    button(h, pos, which, false, modifiers);
    h.run_steps(2);
}

fn click(h: &mut H, pos: Pos2) {
    click_with(h, pos, Modifiers::NONE, PointerButton::Primary);
}

fn click_px(h: &mut H, x: f64, y: f64) {
    let p = screen(h, x, y);
    click(h, p);
}

fn click_px_with(h: &mut H, x: f64, y: f64, m: Modifiers, b: PointerButton) {
    let p = screen(h, x, y);
    click_with(h, p, m, b);
}

fn drag_px(h: &mut H, from: (f64, f64), to: (f64, f64)) {
    let (a, b) = (screen(h, from.0, from.1), screen(h, to.0, to.1));
    drag(h, a, b);
}

fn key(h: &mut H, k: Key) {
    h.key_press(k);
    h.run_steps(2);
}

fn key_mod(h: &mut H, m: Modifiers, k: Key) {
    h.key_press_modifiers(m, k);
    h.run_steps(2);
}

fn tol(h: &H) -> f64 {
    1.0 / h.state().workspace().unwrap().canvas_view().unwrap().scale as f64 + 0.05
}

fn near(a: [f64; 2], b: [f64; 2], tol: f64) -> bool {
    (a[0] - b[0]).abs() <= tol && (a[1] - b[1]).abs() <= tol
}

#[test]
fn polygon_draw_insert_delete_vertex_undo_redo() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = item_id(&h);
    let t = tol(&h);
    key(&mut h, Key::P);
    let corners = [[100.0, 100.0], [300.0, 120.0], [200.0, 300.0]];
    for c in corners {
        click_px(&mut h, c[0], c[1]);
    }
    // Clicking the first vertex closes the polygon.
    click_px(&mut h, 100.0, 100.0);
    let labels = stored(&d, item);
    assert_eq!(labels.len(), 1, "{labels:?}");
    let Geometry::Polygon { points } = &labels[0].geometry else {
        panic!("{labels:?}")
    };
    assert_eq!(points.len(), 3);
    for (p, c) in points.iter().zip(corners) {
        assert!(near(*p, c, t), "{p:?} vs {c:?}");
    }

    // Double-click on the edge from (100,100) to (300,120) inserts a vertex
    // (half a second later, so it is not taken as part of the closing click).
    h.run_steps(30);
    let mid = screen(&h, 200.0, 110.0);
    click(&mut h, mid);
    click(&mut h, mid);
    let Geometry::Polygon { points } = stored(&d, item)[0].geometry.clone() else {
        panic!()
    };
    assert_eq!(points.len(), 4, "{points:?}");
    assert!(near(points[1], [200.0, 110.0], t), "{points:?}");

    // Alt+click on that vertex deletes it.
    h.run_steps(30);
    click_with(&mut h, mid, Modifiers::ALT, PointerButton::Primary);
    let Geometry::Polygon { points } = stored(&d, item)[0].geometry.clone() else {
        panic!()
    };
    assert_eq!(points.len(), 3);

    key_mod(&mut h, Modifiers::COMMAND, Key::Z);
    let Geometry::Polygon { points } = stored(&d, item)[0].geometry.clone() else {
        panic!()
    };
    assert_eq!(points.len(), 4, "undo restored the inserted vertex");
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let Geometry::Polygon { points } = stored(&d, item)[0].geometry.clone() else {
        panic!()
    };
    assert_eq!(points.len(), 3, "redo deleted it again");
}

#[test]
fn polyline_point_and_keypoints() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = item_id(&h);
    let t = tol(&h);

    key(&mut h, Key::L);
    for c in [[50.0, 400.0], [150.0, 420.0], [250.0, 380.0]] {
        click_px(&mut h, c[0], c[1]);
    }
    key(&mut h, Key::Enter);
    key(&mut h, Key::Escape);

    key(&mut h, Key::O);
    click_px(&mut h, 420.0, 60.0);
    key(&mut h, Key::Escape);

    // Person (key 1) has a five-point skeleton; Shift+click places an occluded point.
    key(&mut h, Key::Num1);
    key(&mut h, Key::K);
    let kps = [
        [230.0, 80.0],
        [180.0, 200.0],
        [290.0, 200.0],
        [200.0, 400.0],
        [280.0, 400.0],
    ];
    for (i, c) in kps.iter().enumerate() {
        let m = if i == 3 {
            Modifiers::SHIFT
        } else {
            Modifiers::NONE
        };
        click_px_with(&mut h, c[0], c[1], m, PointerButton::Primary);
    }

    let labels = stored(&d, item);
    assert_eq!(labels.len(), 3, "{labels:?}");
    let line = labels.iter().find_map(|a| match &a.geometry {
        Geometry::Polyline { points } => Some(points.clone()),
        _ => None,
    });
    let line = line.expect("polyline stored");
    assert_eq!(line.len(), 3);
    assert!(near(line[2], [250.0, 380.0], t));
    let point = labels.iter().find_map(|a| match a.geometry {
        Geometry::Point { x, y } => Some([x, y]),
        _ => None,
    });
    assert!(near(point.expect("point stored"), [420.0, 60.0], t));
    let skeleton = labels
        .iter()
        .find_map(|a| match &a.geometry {
            Geometry::Keypoints { points } => Some((a.id, points.clone())),
            _ => None,
        })
        .expect("keypoints stored");
    assert_eq!(skeleton.1.len(), 5);
    let visible: Vec<bool> = skeleton.1.iter().map(|k| k.visible).collect();
    assert_eq!(visible, [true, true, true, false, true]);
    assert!(near([skeleton.1[3].x, skeleton.1[3].y], kps[3], t));

    // Right-click on a keypoint of the selected skeleton flips it to visible.
    key(&mut h, Key::V);
    click_px(&mut h, kps[0][0], kps[0][1]);
    assert!(
        h.state()
            .workspace()
            .unwrap()
            .selected()
            .contains(&skeleton.0)
    );
    click_px_with(
        &mut h,
        kps[3][0],
        kps[3][1],
        Modifiers::NONE,
        PointerButton::Secondary,
    );
    let labels = stored(&d, item);
    let Some(Geometry::Keypoints { points }) = labels
        .iter()
        .find(|a| a.id == skeleton.0)
        .map(|a| a.geometry.clone())
    else {
        panic!()
    };
    assert!(points[3].visible, "right-click flipped occluded to visible");
}

#[test]
fn image_tags_multiselect_move_duplicate_hide_lock_and_zorder() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = item_id(&h);

    h.get_by_label("other").click();
    h.run_steps(2);
    assert!(
        stored(&d, item).iter().any(|a| a.geometry == Geometry::Tag),
        "tag stored"
    );

    drag_px(&mut h, (20.0, 20.0), (80.0, 80.0));
    drag_px(&mut h, (120.0, 20.0), (180.0, 80.0));
    key_mod(&mut h, Modifiers::COMMAND, Key::A);
    assert_eq!(h.state().workspace().unwrap().selected().len(), 2);
    // Dragging one selected box moves both by (+50, +100).
    drag_px(&mut h, (50.0, 50.0), (100.0, 150.0));
    let boxes: Vec<_> = stored(&d, item)
        .into_iter()
        .filter_map(|a| match a.geometry {
            Geometry::BBox(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(boxes.len(), 2);
    let t = tol(&h);
    assert!(
        boxes
            .iter()
            .any(|b| (b.x - 70.0).abs() <= t && (b.y - 120.0).abs() <= t),
        "{boxes:?}"
    );
    assert!(
        boxes
            .iter()
            .any(|b| (b.x - 170.0).abs() <= t && (b.y - 120.0).abs() <= t),
        "{boxes:?}"
    );

    key_mod(&mut h, Modifiers::COMMAND, Key::D);
    assert_eq!(
        stored(&d, item)
            .iter()
            .filter(|a| matches!(a.geometry, Geometry::BBox(_)))
            .count(),
        4
    );
    // The duplicates are selected: hide, lock and bring them forward.
    key(&mut h, Key::H);
    key_mod(&mut h, Modifiers::SHIFT, Key::L);
    key(&mut h, Key::CloseBracket);
    let labels = stored(&d, item);
    let dups: Vec<&Annotation> = labels.iter().filter(|a| a.hidden).collect();
    assert_eq!(dups.len(), 2);
    assert!(dups.iter().all(|a| a.locked));
    let max_other = labels
        .iter()
        .filter(|a| !a.hidden)
        .map(|a| a.z)
        .max()
        .unwrap();
    assert!(dups.iter().all(|a| a.z > max_other));
}

#[test]
fn required_attributes_block_submit_until_set() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = item_id(&h);
    // Vehicle (key 3) requires "type".
    key(&mut h, Key::Num3);
    drag_px(&mut h, (300.0, 300.0), (400.0, 380.0));
    key_mod(&mut h, Modifiers::COMMAND, Key::Enter);
    let msg = h
        .state()
        .workspace()
        .unwrap()
        .message()
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.contains("cannot submit") && msg.contains("type"),
        "{msg}"
    );
    assert_eq!(item_id(&h), item, "stayed on the item");

    h.get_by_label("type *").click();
    h.run_steps(2);
    h.get_by_label("truck").click();
    h.run_steps(2);
    let stored_attr = stored(&d, item)[0].attributes.get("type").cloned();
    assert_eq!(stored_attr, Some(serde_json::json!("truck")));

    key_mod(&mut h, Modifiers::COMMAND, Key::Enter);
    assert_ne!(item_id(&h), item, "submit moved to the next item");
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    let status = s
        .items()
        .unwrap()
        .into_iter()
        .find(|i| i.id == item)
        .unwrap()
        .status;
    assert_eq!(status, sealtag::model::ItemStatus::Submitted);
}

#[test]
fn undo_history_survives_a_restart_and_works_across_items() {
    let d = demo();
    let first;
    {
        let mut h = unlocked(&d);
        first = item_id(&h);
        drag_px(&mut h, (10.0, 10.0), (60.0, 60.0));
        key(&mut h, Key::D);
        assert_ne!(item_id(&h), first);
        // The app is dropped mid-session, without closing: like a crash.
    }
    assert_eq!(stored(&d, first).len(), 1);
    let mut h = unlocked(&d);
    key(&mut h, Key::D);
    step_until(&mut h, "second item", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    key_mod(&mut h, Modifiers::COMMAND, Key::Z);
    assert!(
        stored(&d, first).is_empty(),
        "undo after restart removed the box on the other item"
    );
    assert_eq!(
        item_id(&h),
        first,
        "undo brought the user to the changed item"
    );
}

#[test]
fn a_remapped_shortcut_works_and_is_kept_per_user() {
    let d = demo();
    let mut h = unlocked(&d);
    let first = item_id(&h);
    key_mod(&mut h, Modifiers::COMMAND, Key::Comma);
    h.get_by_label("Change Next item").click();
    h.run_steps(2);
    key(&mut h, Key::N);
    h.get_by_label("Save").click();
    h.run_steps(2);
    key(&mut h, Key::N);
    assert_ne!(item_id(&h), first, "N now goes to the next item");
    drop(h);
    // A new session of the same user loads the remap.
    let mut h = unlocked(&d);
    assert_eq!(
        h.state()
            .workspace()
            .unwrap()
            .keymap()
            .text(sealtag::gui::commands::Command::NextItem),
        "N"
    );
    key(&mut h, Key::N);
    assert_ne!(item_id(&h), first);
}

#[test]
fn idle_lock_drops_the_session_and_reopens_at_the_same_item() {
    let d = demo();
    let mut h = unlocked(&d);
    key(&mut h, Key::D);
    step_until(&mut h, "second item", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    let item = item_id(&h);
    h.state_mut().set_idle_for_test(11 * 60);
    h.run_steps(2);
    assert!(h.state().is_locked(), "locked after the default 10 minutes");
    assert!(h.query_by_label_contains("without input").is_some());
    h.get_by_label("Passphrase").type_text(DEMO_PASSPHRASE);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "workspace again", |app| app.workspace().is_some());
    assert_eq!(item_id(&h), item);
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    assert!(
        s.audit_log()
            .unwrap()
            .iter()
            .any(|r| r.action == "session.idle_lock")
    );
}

/// The project picker holds the unlocked identity (both secret keys) too:
/// left alone there, the app forgets it after the default idle time and
/// asks for the passphrase again, as it does in a project.
#[test]
fn idle_lock_on_the_project_picker_drops_the_identity() {
    let d = demo();
    // No project to open: unlocking leads to the picker.
    let app = SealtagApp::new(d.paths.annotator_home.clone(), None, false);
    let mut h = kit::harness(app);
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(DEMO_PASSPHRASE);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the project picker", |app| app.is_picking_project());
    assert!(h.state().holds_identity());
    h.state_mut().set_idle_for_test(9 * 60);
    h.run_steps(2);
    assert!(h.state().is_picking_project(), "not before 10 minutes");
    h.state_mut().set_idle_for_test(11 * 60);
    h.run_steps(2);
    assert!(h.state().is_locked(), "locked after the default 10 minutes");
    assert!(!h.state().holds_identity(), "the secret keys are gone");
    assert!(h.query_by_label("Passphrase").is_some());
    assert!(h.query_by_label_contains("without input").is_some());
    // The passphrase brings the picker back.
    h.get_by_label("Passphrase").type_text(DEMO_PASSPHRASE);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the picker again", |app| app.is_picking_project());
}

/// A passphrase typed into the unlock screen and left there is cleared
/// after the idle time: it is a secret too.
#[test]
fn idle_time_clears_a_half_typed_passphrase_on_the_unlock_screen() {
    let d = demo();
    let app = SealtagApp::new(d.paths.annotator_home.clone(), None, false);
    let mut h = kit::harness(app);
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text("demo-ann");
    h.run_steps(1);
    assert!(h.state().has_typed_passphrase());
    h.state_mut().set_idle_for_test(11 * 60);
    h.run_steps(2);
    assert!(!h.state().has_typed_passphrase());
    assert!(h.state().is_locked());
}

/// An identity file from before scrypt 2^18: the picker says so, refuses
/// a short new passphrase with the CLI's words, and a change re-seals the
/// same keys at 2^18 under the new passphrase.
#[test]
fn the_picker_changes_the_passphrase_and_reseals_an_old_identity_at_2_18() {
    let dir = tempfile::tempdir().unwrap();
    let home = sealtag::home::Home::new(dir.path().join("home"));
    let old = SecretString::from("old passphrase".to_string());
    let created = home.create_identity("Lia", &old, 16).unwrap();
    let mut h = kit::harness(SealtagApp::new(home.clone(), None, false));
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text("old passphrase");
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the project picker", |app| app.is_picking_project());
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("sealed with scrypt 2^16")
            .is_some()
    );

    let fill = |h: &mut H, current: &str, new: &str, repeat: &str| {
        for (label, text) in [
            ("Current passphrase", current),
            ("New passphrase", new),
            ("Repeat new passphrase", repeat),
        ] {
            h.get_by_label(label).click();
            h.run_steps(1);
            h.get_by_label(label).type_text(text);
            h.run_steps(1);
        }
        h.get_by_label("Save new passphrase").click();
        h.run_steps(3);
    };
    fill(&mut h, "old passphrase", "short", "short");
    let message = h.state().message().unwrap_or_default().to_string();
    assert!(
        message.contains("has 5 characters; at least 8"),
        "{message}"
    );
    assert_eq!(home.identity_scrypt_log_n(), Some(16), "nothing changed");

    fill(&mut h, "old passphrase", "a longer one", "a longer one");
    let message = h.state().message().unwrap_or_default().to_string();
    assert!(message.contains("Passphrase changed"), "{message}");
    assert_eq!(home.identity_scrypt_log_n(), Some(18));
    let new = SecretString::from("a longer one".to_string());
    assert_eq!(home.unlock(&new).unwrap().public(), created.public());
    assert!(home.unlock(&old).is_err());
    assert!(!h.state().has_typed_passphrase(), "the fields are wiped");
}

#[test]
fn wheel_zooms_to_the_cursor_and_fit_restores() {
    let d = demo();
    let mut h = unlocked(&d);
    let before = h.state().workspace().unwrap().canvas_view().unwrap();
    let anchor = before.to_screen(256.0, 256.0);
    h.hover_at(anchor);
    h.run_steps(1);
    h.event(Event::Zoom(2.0));
    h.run_steps(2);
    let after = h.state().workspace().unwrap().canvas_view().unwrap();
    assert!(
        (after.scale / before.scale - 2.0).abs() < 0.01,
        "{} → {}",
        before.scale,
        after.scale
    );
    let (x, y) = after.to_image(anchor);
    assert!(
        (x - 256.0).abs() < 1.0 && (y - 256.0).abs() < 1.0,
        "the pixel under the cursor stayed: {x},{y}"
    );
    key(&mut h, Key::F);
    let fit = h.state().workspace().unwrap().canvas_view().unwrap();
    assert!((fit.scale - before.scale).abs() < 1e-3);
}

/// The demo opened by its admin (who may edit the schema).
fn admin_harness(d: &Demo) -> H {
    let app = SealtagApp::new(
        d.paths.admin_home.clone(),
        Some(d.paths.project.clone()),
        false,
    );
    unlock(kit::harness(app), DEMO_ADMIN_PASSPHRASE)
}

#[test]
fn removing_a_class_in_use_asks_first_then_removes_its_labels_and_audits() {
    let d = demo();
    let mut h = admin_harness(&d);
    let item = item_id(&h);
    // Draw a box of class "logo" (key 7).
    key(&mut h, Key::Num7);
    drag_px(&mut h, (20.0, 20.0), (90.0, 90.0));
    assert_eq!(stored(&d, item).len(), 1);

    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::S);
    assert!(
        h.query_by_label_contains("Version 1").is_some(),
        "schema editor open"
    );
    // Expand "logo" and remove it.
    h.get_by_label("logo  [7]").click();
    h.run_steps(2);
    h.get_by_label("Remove class").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("removes 1 label").is_some(),
        "asks before orphaning"
    );
    assert_eq!(stored(&d, item).len(), 1, "nothing changed yet");
    h.get_by_label("Apply anyway").click();
    h.run_steps(3);
    assert!(stored(&d, item).is_empty(), "the logo label was removed");
    let ws = h.state().workspace().unwrap();
    assert!(!ws.classes().iter().any(|c| c.name == "logo"));
    assert!(
        ws.message().unwrap_or_default().contains("version 2"),
        "{:?}",
        ws.message()
    );
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    assert_eq!(s.schema().unwrap().version, 2);
    let change = s
        .audit_log()
        .unwrap()
        .into_iter()
        .find(|r| r.action == "schema.change")
        .expect("audited");
    assert!(
        change.details.contains("removed_labels"),
        "{}",
        change.details
    );
}

#[test]
fn a_24_megapixel_image_opens_from_a_preview_and_zooms_to_full_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let home = sealtag::home::Home::new(dir.path().join("home"));
    let pass = SecretString::from("large image test".to_string());
    let identity = home.create_identity("Lia", &pass, 10).unwrap();
    let project = dir.path().join("big.sealtag");
    let mut s = Session::create_project(&project, "big", identity).unwrap();
    let img = image::RgbImage::from_fn(6000, 4000, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut jpeg = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    let report = s
        .import_bytes(
            "large.jpg",
            jpeg,
            &sealtag::import::ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(report.outcome, "imported");
    drop(s);

    let app = SealtagApp::new(home.clone(), Some(project.clone()), false);
    let mut h = unlock(kit::harness(app), "large image test");
    assert!(
        !h.state().workspace().unwrap().shows_full_resolution(),
        "zoomed out: the preview is enough"
    );
    // 1:1 needs more pixels than the 2048 px preview holds.
    // The tiles are made on the worker after the preview: wait for them.
    key_mod(&mut h, Modifiers::COMMAND, Key::Num0);
    step_until(&mut h, "full-resolution tiles", |app| {
        app.workspace().is_some_and(|w| w.shows_full_resolution())
    });
    let ws = h.state().workspace().unwrap();
    assert!((ws.canvas_view().unwrap().scale - 1.0).abs() < 1e-3);
}

#[test]
fn brightness_and_contrast_change_the_view_not_the_stored_image() {
    let d = demo();
    let mut h = unlocked(&d);
    let adjust = sealtag::gui::workspace::Adjust {
        brightness: 0.2,
        contrast: 1.5,
    };
    h.state_mut()
        .workspace_mut()
        .unwrap()
        .set_view_adjust(adjust);
    h.run_steps(2);
    assert_eq!(h.state().workspace().unwrap().view_adjust(), Some(adjust));
    // The stored original is unchanged: its hash still matches the import.
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    let item = s.items().unwrap().into_iter().next().unwrap();
    let content = s.load_item(item.id).unwrap();
    assert_eq!(sealtag::crypto::sha256_hex(&content.bytes), item.sha256);
}

#[test]
fn wrong_passphrase_is_refused_with_a_message() {
    let d = demo();
    let mut h = harness(&d);
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text("not the passphrase");
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    h.run_steps(3);
    assert!(h.state().is_locked());
    assert!(h.query_by_label_contains("wrong passphrase").is_some());
}

#[test]
fn unlock_draw_box_then_undo_redo_and_next() {
    let d = demo();
    let mut h = harness(&d);
    h.run_steps(2);
    // The unlock screen tells demo users the passphrase.
    assert!(h.query_by_label_contains(DEMO_PASSPHRASE).is_some());
    let mut h = unlock(h, DEMO_PASSPHRASE);
    let ws = h.state().workspace().unwrap();
    let item = ws.current_item().unwrap().clone();
    assert_eq!(item.name, "astronaut.jpg");
    let face = ws
        .classes()
        .iter()
        .find(|c| c.hotkey == Some(2))
        .unwrap()
        .id;
    let t = tol(&h);

    // Key 2 picks the second class, then a drag from (100,120) to (260,300) px.
    key(&mut h, Key::Num2);
    drag_px(&mut h, (100.0, 120.0), (260.0, 300.0));
    assert!(
        h.query_by_label_contains("Saved").is_some(),
        "status bar shows saved"
    );
    let labels = stored(&d, item.id);
    assert_eq!(labels.len(), 1, "one box committed: {labels:?}");
    assert_eq!(labels[0].class_id, face);
    let Geometry::BBox(b) = labels[0].geometry else {
        panic!("{labels:?}")
    };
    for (got, want) in [(b.x, 100.0), (b.y, 120.0), (b.w, 160.0), (b.h, 180.0)] {
        assert!(
            (got - want).abs() <= t,
            "box {b:?} vs 100,120 160x180 (tol {t})"
        );
    }
    key_mod(&mut h, Modifiers::COMMAND, Key::Z);
    assert!(
        stored(&d, item.id).is_empty(),
        "undo removed the box from the store"
    );
    assert!(h.state().workspace().unwrap().annotations().is_empty());
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    assert_eq!(stored(&d, item.id).len(), 1);
    key(&mut h, Key::D);
    assert_eq!(
        h.state().workspace().unwrap().current_item().unwrap().name,
        "street_plate_fake.jpg"
    );
}

#[test]
fn move_resize_and_delete_a_box() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = item_id(&h);
    let t = tol(&h);
    let bbox = |d: &Demo| match stored(d, item)[0].geometry {
        Geometry::BBox(b) => b,
        ref g => panic!("{g:?}"),
    };
    drag_px(&mut h, (50.0, 50.0), (150.0, 150.0));
    let before = bbox(&d);
    // Drag from inside the box: it moves by (+100, +40) px.
    drag_px(&mut h, (100.0, 100.0), (200.0, 140.0));
    let moved = bbox(&d);
    assert!(
        (moved.x - (before.x + 100.0)).abs() <= t && (moved.y - (before.y + 40.0)).abs() <= t,
        "{moved:?}"
    );
    assert!((moved.w - before.w).abs() <= 0.01 && (moved.h - before.h).abs() <= 0.01);
    // Drag the bottom-right corner handle: the box grows, the top-left stays.
    let corner = screen(&h, moved.x + moved.w, moved.y + moved.h);
    drag(&mut h, corner, corner + egui::vec2(30.0, 20.0));
    let resized = bbox(&d);
    assert!((resized.x - moved.x).abs() <= 0.01, "{resized:?}");
    assert!(
        resized.w > moved.w + 10.0 && resized.h > moved.h + 5.0,
        "{resized:?}"
    );
    key(&mut h, Key::Delete);
    assert!(stored(&d, item).is_empty());
}

#[test]
fn admin_changes_watermark_and_idle_lock_in_project_settings() {
    let d = demo();
    let mut h = admin_harness(&d);
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::Comma);
    h.get_by_label("Watermark").click();
    h.run_steps(2);
    h.get_by_label("everyone").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let s = Session::open(&d.paths.project, admin, None).unwrap();
    assert_eq!(s.project_setting("watermark").unwrap(), "everyone");
    assert!(s.watermark_on(), "the admin now sees the watermark too");
    // Annotators cannot open it.
    drop(h);
    let mut h = unlocked(&d);
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::Comma);
    assert!(
        h.state()
            .workspace()
            .unwrap()
            .message()
            .unwrap_or_default()
            .contains("Only admins")
    );
}

/// Opens the first support-chat record of the demo ("Moved house 🏠➡️🏡 new
/// address: 8 Placeholder Lane, …").
fn at_first_chat(h: &mut H) -> i64 {
    for _ in 0..5 {
        key(h, Key::D);
    }
    step_until(h, "the chat text", |app| {
        app.workspace()
            .is_some_and(|w| w.text_view().last_galley.is_some())
    });
    let ws = h.state().workspace().unwrap();
    assert_eq!(
        ws.current_item().unwrap().name,
        "support_chats.jsonl#chat-0001"
    );
    item_id(h)
}

#[test]
fn text_spans_by_mouse_snap_to_words_and_by_keyboard() {
    let d = demo();
    let mut h = unlocked(&d);
    let item = at_first_chat(&mut h);
    // Drag from inside "Placeholder" to inside "Lane": snapped to both words.
    let (from, to) = {
        let tv = h.state().workspace().unwrap().text_view();
        (tv.screen_pos(35).unwrap(), tv.screen_pos(46).unwrap())
    };
    drag(&mut h, from, to);
    assert_eq!(
        h.state().workspace().unwrap().text_view().range(),
        Some((32, 48))
    );
    key(&mut h, Key::Num9); // class "other"
    let spans: Vec<Geometry> = stored(&d, item).into_iter().map(|a| a.geometry).collect();
    // "Placeholder Lane" is chars 32..48, bytes 42..58 (two 4-byte emoji and a 3-byte arrow + VS16 before it).
    assert_eq!(
        spans,
        [Geometry::Span {
            start: 32,
            end: 48,
            byte_start: 42,
            byte_end: 58
        }]
    );

    // Keyboard: Shift+Right five times from the start selects "Moved".
    for _ in 0..5 {
        key_mod(&mut h, Modifiers::SHIFT, Key::ArrowRight);
    }
    assert_eq!(item_id(&h), item, "Shift+arrows did not change item");
    assert_eq!(
        h.state().workspace().unwrap().text_view().range(),
        Some((0, 5))
    );
    key(&mut h, Key::Enter); // span with the active class
    let labels = stored(&d, item);
    assert!(
        labels.iter().any(|a| a.geometry
            == Geometry::Span {
                start: 0,
                end: 5,
                byte_start: 0,
                byte_end: 5
            }),
        "{labels:?}"
    );

    // Clicking a span selects it; Delete removes it; undo brings it back.
    let inside = h
        .state()
        .workspace()
        .unwrap()
        .text_view()
        .screen_pos(40)
        .unwrap();
    click(&mut h, inside);
    assert_eq!(h.state().workspace().unwrap().selected().len(), 1);
    key(&mut h, Key::Delete);
    assert_eq!(stored(&d, item).len(), 1);
    key_mod(&mut h, Modifiers::COMMAND, Key::Z);
    assert_eq!(stored(&d, item).len(), 2);
}

#[test]
fn audio_segments_by_pointer_with_transcript_and_cached_waveform() {
    let d = demo();
    let mut h = unlocked(&d);
    for _ in 0..4 {
        key(&mut h, Key::D);
    }
    step_until(&mut h, "the waveform", |app| {
        app.workspace().is_some_and(|w| w.has_waveform())
    });
    h.run_steps(2);
    let item = item_id(&h);
    let (x, y) = {
        let av = h.state().workspace().unwrap().audio_view();
        (|t: f64| av.screen_x(t).unwrap(), av.mid_y().unwrap())
    };
    let (x2, x6) = (x(2.0), x(6.0));
    drag(&mut h, egui::pos2(x2, y), egui::pos2(x6, y));
    let labels = stored(&d, item);
    let Geometry::Segment {
        start_secs,
        end_secs,
        ..
    } = labels[0].geometry
    else {
        panic!("{labels:?}")
    };
    let tol = 29.3 / 900.0; // one screen point in seconds at this width, roughly
    assert!(
        (start_secs - 2.0).abs() < tol && (end_secs - 6.0).abs() < tol,
        "{start_secs}–{end_secs}"
    );
    // Drag the end edge to 8 s.
    let x8 = h
        .state()
        .workspace()
        .unwrap()
        .audio_view()
        .screen_x(8.0)
        .unwrap();
    drag(&mut h, egui::pos2(x6, y), egui::pos2(x8, y));
    let Geometry::Segment { end_secs, .. } = stored(&d, item)[0].geometry else {
        panic!()
    };
    assert!((end_secs - 8.0).abs() < tol, "{end_secs}");
    // Undo puts the edge back; redo moves it again.
    key_mod(&mut h, Modifiers::COMMAND, Key::Z);
    let Geometry::Segment { end_secs, .. } = stored(&d, item)[0].geometry else {
        panic!()
    };
    assert!(
        (end_secs - 6.0).abs() < tol,
        "undo restored the end: {end_secs}"
    );
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let Geometry::Segment { end_secs, .. } = stored(&d, item)[0].geometry else {
        panic!()
    };
    assert!((end_secs - 8.0).abs() < tol, "{end_secs}");
    // Type the transcript; it is saved when the field is left.
    h.get_by_label("Transcript").click();
    h.run_steps(1);
    h.get_by_label("Transcript")
        .type_text("my order never arrived");
    h.run_steps(1);
    h.key_press(Key::Tab);
    h.run_steps(3);
    let Geometry::Segment { transcript, .. } = stored(&d, item)[0].geometry.clone() else {
        panic!()
    };
    assert_eq!(transcript, "my order never arrived");
    // Space without a sound card: a message, no crash, everything else works.
    key(&mut h, Key::Space);
    // The waveform was cached in the bundle: a new session reads it, no decode.
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    let cached = s
        .prefetch_item(item)
        .unwrap()
        .cached_peaks()
        .expect("peaks cached");
    assert!(
        (cached.duration_secs() - 29.24).abs() < 0.1,
        "{}",
        cached.duration_secs()
    );
}

#[test]
fn split_merge_and_jump_between_segments_and_relate_two_spans() {
    let d = demo();
    // Two segments on the call, made through the admin's CLI-equivalent core.
    {
        let admin = d
            .paths
            .admin_home
            .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
            .unwrap();
        let mut s = Session::open(&d.paths.project, admin, None).unwrap();
        let person = s.classes().unwrap()[0].id;
        for (a, b, t) in [(1.0, 5.0, "hello"), (6.0, 9.0, "world")] {
            let g = Geometry::Segment {
                start_secs: a,
                end_secs: b,
                transcript: t.into(),
            };
            s.apply_label(sealtag::model::LabelChange::Create {
                item_id: 5,
                draft: sealtag::model::AnnotationDraft::new(person, g),
            })
            .unwrap();
        }
    }
    let mut h = unlocked(&d);
    for _ in 0..4 {
        key(&mut h, Key::D);
    }
    step_until(&mut h, "the waveform", |app| {
        app.workspace().is_some_and(|w| w.has_waveform())
    });
    // "." jumps to the next segment start (1 s), then "S" splits there? No:
    // the playhead sits at the start; move it inside by clicking at 3 s.
    key(&mut h, Key::Period);
    assert_eq!(h.state().workspace().unwrap().selected().len(), 1);
    let (x3, y) = {
        let av = h.state().workspace().unwrap().audio_view();
        (av.screen_x(3.0).unwrap(), av.mid_y().unwrap())
    };
    click(&mut h, egui::pos2(x3, y));
    key(&mut h, Key::S);
    let segs = |d: &Demo| -> Vec<(f64, f64, String)> {
        let mut v: Vec<_> = stored(d, 5)
            .into_iter()
            .filter_map(|a| match a.geometry {
                Geometry::Segment {
                    start_secs,
                    end_secs,
                    transcript,
                } => Some((start_secs, end_secs, transcript)),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let after_split = segs(&d);
    assert_eq!(after_split.len(), 3, "{after_split:?}");
    assert!(
        (after_split[0].1 - 3.0).abs() < 0.05 && (after_split[1].0 - 3.0).abs() < 0.05,
        "{after_split:?}"
    );
    assert_eq!(after_split[0].2, "hello");
    // Select the second part and the last segment, merge them.
    let x7 = h
        .state()
        .workspace()
        .unwrap()
        .audio_view()
        .screen_x(7.0)
        .unwrap();
    let x4 = h
        .state()
        .workspace()
        .unwrap()
        .audio_view()
        .screen_x(4.0)
        .unwrap();
    click(&mut h, egui::pos2(x4, y));
    click_with(
        &mut h,
        egui::pos2(x7, y),
        Modifiers::COMMAND,
        PointerButton::Primary,
    );
    assert_eq!(h.state().workspace().unwrap().selected().len(), 2);
    key(&mut h, Key::M);
    let merged = segs(&d);
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert!(
        (merged[1].0 - 3.0).abs() < 0.05 && (merged[1].1 - 9.0).abs() < 1e-9,
        "{merged:?}"
    );
    assert_eq!(merged[1].2, "world");

    // Text: the next item is the first chat. Two spans, Ctrl+click both, R relates them.
    key(&mut h, Key::D);
    step_until(&mut h, "the chat text", |app| {
        app.workspace()
            .is_some_and(|w| w.text_view().last_galley.is_some())
    });
    let item = item_id(&h);
    for (s, e) in [(0usize, 5usize), (32, 48)] {
        let (from, to) = {
            let tv = h.state().workspace().unwrap().text_view();
            (tv.screen_pos(s).unwrap(), tv.screen_pos(e - 1).unwrap())
        };
        drag(&mut h, from, to);
        key(&mut h, Key::Num9);
    }
    let p0 = h
        .state()
        .workspace()
        .unwrap()
        .text_view()
        .screen_pos(2)
        .unwrap();
    let p1 = h
        .state()
        .workspace()
        .unwrap()
        .text_view()
        .screen_pos(40)
        .unwrap();
    click(&mut h, p0);
    click_with(&mut h, p1, Modifiers::COMMAND, PointerButton::Primary);
    assert_eq!(
        h.state().workspace().unwrap().selected().len(),
        2,
        "both spans selected"
    );
    key(&mut h, Key::R);
    let labels = stored(&d, item);
    assert!(
        labels
            .iter()
            .any(|a| matches!(a.geometry, Geometry::Relation { .. })),
        "{labels:?}"
    );
}

#[test]
fn schema_editor_sets_the_overlap_rules() {
    let d = demo();
    let mut h = admin_harness(&d);
    key_mod(&mut h, Modifiers::COMMAND | Modifiers::SHIFT, Key::S);
    h.get_by_label("Overlapping text spans").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(3);
    let admin = d
        .paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&d.paths.project, admin, None).unwrap();
    let schema = s.schema().unwrap();
    assert!(schema.overlapping_spans, "turned on in the editor");
    assert!(schema.overlapping_segments, "unchanged");
    assert!(
        s.audit_log()
            .unwrap()
            .iter()
            .any(|r| r.action == "schema.overlap_rules")
    );
}

#[test]
fn the_toolbar_shows_only_the_tools_of_the_items_kind() {
    let d = demo();
    let mut h = unlocked(&d);
    // An image: drawing tools, view sliders and zoom.
    for label in ["Box", "Polygon", "Keypoints", "Brightness", "Fit"] {
        h.get_by_label(label);
    }
    assert!(h.query_by_label("Relate").is_none());
    // A document: no drawing tools, no image view; relating spans instead.
    at_first_chat(&mut h);
    h.run_steps(2);
    for label in ["Box", "Polygon", "Keypoints", "Brightness", "Fit"] {
        assert!(h.query_by_label(label).is_none(), "{label} on a text item");
    }
    h.get_by_label("Relate");
    // The polygon key is ignored on a document: the tool stays as it was.
    let tool = h.state().workspace().unwrap().tool();
    key(&mut h, Key::P);
    assert_eq!(h.state().workspace().unwrap().tool(), tool);
}
