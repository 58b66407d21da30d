//! GUI tests with egui_kittest: the real app state and real egui layout,
//! driven by simulated keyboard and pointer events, checked in the store.

#![cfg(feature = "gui")]

use age::secrecy::SecretString;
use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sealtag::controller::Session;
use sealtag::demo::{self, DEMO_ADMIN_PASSPHRASE, DEMO_PASSPHRASE};
use sealtag::gui::SealtagApp;
use sealtag::model::{BBox, Geometry};

fn demo_app(dir: &std::path::Path) -> (SealtagApp, demo::DemoPaths) {
    let home = sealtag::home::Home::new(dir);
    let paths = demo::ensure_demo(&home).expect("demo set-up");
    let app = SealtagApp::new(
        paths.annotator_home.clone(),
        Some(paths.project.clone()),
        true,
    );
    (app, paths)
}

fn harness(app: SealtagApp) -> Harness<'static, SealtagApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut SealtagApp| app.show(ui), app)
}

/// Steps until `done` holds, failing after a bounded number of frames.
fn step_until(
    h: &mut Harness<'static, SealtagApp>,
    what: &str,
    done: impl Fn(&SealtagApp) -> bool,
) {
    for _ in 0..400 {
        if done(h.state()) {
            return;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("timed out waiting for {what}");
}

/// Reads the labels of item 1 through a second, independent session (the
/// admin's), i.e. from what was committed to the database.
fn stored_boxes(paths: &demo::DemoPaths, item_id: i64) -> Vec<(i64, BBox)> {
    let admin = paths
        .admin_home
        .unlock(&SecretString::from(DEMO_ADMIN_PASSPHRASE.to_string()))
        .unwrap();
    let mut s = Session::open(&paths.project, admin, None).unwrap();
    s.annotations(item_id)
        .unwrap()
        .into_iter()
        .filter_map(|a| match a.geometry {
            Geometry::BBox(b) => Some((a.class_id, b)),
            _ => None,
        })
        .collect()
}

fn drag(h: &mut Harness<'static, SealtagApp>, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.run_steps(1);
    h.drag_at(from);
    h.run_steps(1);
    for i in 1..=5 {
        let t = i as f32 / 5.0;
        h.hover_at(from + (to - from) * t);
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run_steps(2);
}

#[test]
fn wrong_passphrase_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(dir.path());
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text("not the passphrase");
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    h.run_steps(3);
    assert!(h.state().is_locked());
    assert!(h.query_by_label_contains("wrong passphrase").is_some());
}

#[test]
fn unlock_draw_box_then_undo() {
    let dir = tempfile::tempdir().unwrap();
    let (app, paths) = demo_app(dir.path());
    let mut h = harness(app);
    h.run_steps(2);

    // The unlock screen tells demo users the passphrase.
    assert!(h.query_by_label_contains(DEMO_PASSPHRASE).is_some());
    h.get_by_label("Passphrase").type_text(DEMO_PASSPHRASE);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    h.run_steps(2);
    step_until(&mut h, "the workspace", |app| app.workspace().is_some());
    step_until(&mut h, "the first image", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    h.run_steps(2);

    let ws = h.state().workspace().unwrap();
    let item = ws.current_item().unwrap().clone();
    assert_eq!(item.name, "astronaut.jpg");
    let class_face = ws
        .classes()
        .iter()
        .find(|c| c.hotkey == Some(2))
        .unwrap()
        .clone();
    let view = ws.canvas_view().expect("canvas drawn");

    // Key 2 picks the second class, then drag a box from (100,120) to (260,300) px.
    h.key_press(Key::Num2);
    h.run_steps(1);
    let from = view.to_screen(100.0, 120.0);
    let to = view.to_screen(260.0, 300.0);
    drag(&mut h, from, to);

    assert!(
        h.query_by_label_contains("Saved").is_some(),
        "status bar shows saved"
    );
    let boxes = stored_boxes(&paths, item.id);
    assert_eq!(boxes.len(), 1, "one box committed: {boxes:?}");
    let (class_id, b) = boxes[0];
    assert_eq!(class_id, class_face.id);
    // Screen→pixel mapping error is under one screen point, i.e. < 1/scale px.
    let tol = 1.0 / view.scale as f64 + 0.01;
    for (got, want) in [(b.x, 100.0), (b.y, 120.0), (b.w, 160.0), (b.h, 180.0)] {
        assert!(
            (got - want).abs() <= tol,
            "box {b:?} vs expected 100,120 160x180 (tol {tol})"
        );
    }

    // Ctrl+Z undoes it, in the store too.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert!(
        stored_boxes(&paths, item.id).is_empty(),
        "undo removed the box from the store"
    );
    assert!(h.state().workspace().unwrap().annotations().is_empty());

    // Redo brings it back; D goes to the next item.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(stored_boxes(&paths, item.id).len(), 1);
    h.key_press(Key::D);
    h.run_steps(2);
    assert_eq!(
        h.state().workspace().unwrap().current_item().unwrap().name,
        "street_plate_fake.jpg"
    );
}

#[test]
fn move_resize_and_delete_a_box() {
    let dir = tempfile::tempdir().unwrap();
    let (app, paths) = demo_app(dir.path());
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(DEMO_PASSPHRASE);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the first image", |app| {
        app.workspace().is_some_and(|w| w.has_image())
    });
    h.run_steps(2);
    let ws = h.state().workspace().unwrap();
    let item_id = ws.current_item().unwrap().id;
    let view = ws.canvas_view().unwrap();

    drag(
        &mut h,
        view.to_screen(50.0, 50.0),
        view.to_screen(150.0, 150.0),
    );
    let before = stored_boxes(&paths, item_id)[0].1;

    // Drag from inside the box: it moves by (+100, +40) px.
    drag(
        &mut h,
        view.to_screen(100.0, 100.0),
        view.to_screen(200.0, 140.0),
    );
    let moved = stored_boxes(&paths, item_id)[0].1;
    let tol = 1.0 / view.scale as f64 + 0.01;
    assert!(
        (moved.x - (before.x + 100.0)).abs() <= tol && (moved.y - (before.y + 40.0)).abs() <= tol,
        "{moved:?}"
    );
    assert!((moved.w - before.w).abs() <= 0.01 && (moved.h - before.h).abs() <= 0.01);

    // Drag the bottom-right corner handle: the box grows.
    let corner = view.to_screen(moved.x + moved.w, moved.y + moved.h);
    drag(&mut h, corner, corner + egui::vec2(30.0, 20.0));
    let resized = stored_boxes(&paths, item_id)[0].1;
    assert!(
        (resized.x - moved.x).abs() <= 0.01,
        "top-left stays: {resized:?}"
    );
    assert!(
        resized.w > moved.w + 10.0 && resized.h > moved.h + 5.0,
        "{resized:?}"
    );

    // Delete removes the selected box.
    h.key_press(Key::Delete);
    h.run_steps(2);
    assert!(stored_boxes(&paths, item_id).is_empty());
}
