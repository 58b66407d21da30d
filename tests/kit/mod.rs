//! Helpers shared by the egui_kittest GUI tests (`tests/gui*.rs`): the
//! harness every test renders the real app in, and the gestures a person
//! makes (click a labelled widget, press and release at a point, drag, type,
//! press a key), each followed by the frames the app needs to react.
//!
//! Included with `mod kit;` by each GUI test binary; a binary that uses
//! only some helpers would warn about the rest, hence the allow.

#![allow(dead_code)]

use egui::{Event, Key, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sealtag::gui::SealtagApp;

/// The harness every GUI test drives.
pub type H = Harness<'static, SealtagApp>;

/// The app in a 1280×800 window, stepped at 60 fps (so two clicks a few
/// frames apart make a double-click). Emoji in the demo texts have no glyph
/// in egui's test fonts: they are drawn as tofu rather than failing.
pub fn harness(app: SealtagApp) -> H {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_step_dt(1.0 / 60.0)
        .allow_missing_glyphs()
        .build_ui_state(|ui, app: &mut SealtagApp| app.show(ui), app)
}

/// Steps frames until `done` holds (worker threads decode, derive and
/// seal in real time, so each frame also sleeps 5 ms); panics naming
/// `what` after about three seconds of frames.
pub fn step_until(h: &mut H, what: &str, done: impl Fn(&SealtagApp) -> bool) {
    for _ in 0..600 {
        if done(h.state()) {
            return;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("timed out waiting for {what}");
}

/// Clicks the widget labelled `label` and lets the app react.
pub fn click(h: &mut H, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(3);
}

/// Presses and releases the primary button at `pos` in separate frames, as
/// a person does, then waits long enough that a next click is not a
/// double-click.
pub fn click_at(h: &mut H, pos: Pos2) {
    h.hover_at(pos);
    h.run_steps(1);
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        h.run_steps(1);
    }
    h.run_steps(30);
}

/// Opens a menu of the menu bar.
pub fn open_menu(h: &mut H, name: &str) {
    let pos = h.get_by_label(name).rect().center();
    click_at(h, pos);
}

/// Focuses the field labelled `label` and types `text` into it.
pub fn type_into(h: &mut H, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.run_steps(1);
    h.get_by_label(label).type_text(text);
    h.run_steps(1);
}

/// Presses and releases `k`.
pub fn key(h: &mut H, k: Key) {
    h.key_press(k);
    h.run_steps(3);
}

/// Drags with the primary button from `from` to `to` in five moves.
pub fn drag(h: &mut H, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.run_steps(1);
    h.drag_at(from);
    h.run_steps(1);
    for i in 1..=5 {
        h.hover_at(from + (to - from) * (i as f32 / 5.0));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run_steps(3);
}

/// Runs a workspace command (as its menu entry or shortcut would) and lets
/// the window it opens appear.
pub fn run_command(h: &mut H, command: sealtag::gui::commands::Command) {
    h.state_mut()
        .workspace_mut()
        .expect("a workspace is open")
        .run_command(command);
    h.run_steps(2);
}

/// Imports `count` copies of the image at `path` as `img0.jpg`, `img1.jpg`,
/// … (the queue shows them in that order) and returns their ids.
pub fn import_images(s: &mut sealtag::controller::Session, path: &str, count: usize) -> Vec<i64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (0..count)
        .map(|i| {
            s.import_bytes(
                &format!("img{i}.jpg"),
                bytes.clone(),
                &sealtag::import::ImportOptions::default(),
            )
            .unwrap()
            .item_ids[0]
        })
        .collect()
}
