//! GUI tests of reviewing with egui_kittest: the reviewer sees submitted
//! work read-only, approves with Y, rejects with N and a comment, corrects
//! with C (edits become the reviewer's revisions) — checked in the store
//! through an independent session — and opens the quality screen.

#![cfg(feature = "gui")]

mod kit;

use age::secrecy::SecretString;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use kit::{H, harness, key};
use sealtag::controller::Session;
use sealtag::gui::SealtagApp;
use sealtag::gui::commands::Command;
use sealtag::home::Home;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use std::path::PathBuf;

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const PASS: &str = "gui-review-pass";

struct World {
    _dir: tempfile::TempDir,
    site: PathBuf,
    admin_home: Home,
    reviewer_home: Home,
    items: Vec<i64>,
}

/// Three images labelled and submitted by Ann, all to be reviewed by Rita.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let pass = SecretString::from(PASS.to_string());
    let admin_home = Home::new(dir.path().join("admin"));
    let reviewer_home = Home::new(dir.path().join("rita"));
    let admin = admin_home.create_identity("Ada", &pass, 10).unwrap();
    let rita = reviewer_home.create_identity("Rita", &pass, 10).unwrap();
    let ann = sealtag::crypto::UnlockedIdentity::generate("Ann");
    let site = dir.path().join("site.sealtag");
    let mut s = Session::create_project(&site, "Site", admin).unwrap();
    let items = kit::import_images(&mut s, IMAGE, 3);
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.add_user(&rita.public().to_key_string(), Role::Reviewer, "Rita")
        .unwrap();
    s.assign(&items, "Ann", "annotate").unwrap();
    s.assign(&items, "Rita", "review").unwrap();
    s.close().unwrap();
    let mut a = Session::open(&site, ann, None).unwrap();
    let class = a.classes().unwrap()[0].id;
    for item in &items {
        a.apply_label(LabelChange::Create {
            item_id: *item,
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
        a.submit(*item).unwrap();
    }
    a.close().unwrap();
    World {
        _dir: dir,
        site,
        admin_home,
        reviewer_home,
        items,
    }
}

fn open_as(home: &Home, site: &std::path::Path) -> H {
    let mut h = harness(SealtagApp::new(
        home.clone(),
        Some(site.to_path_buf()),
        false,
    ));
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(PASS);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    for _ in 0..400 {
        if h.state().workspace().is_some_and(|w| w.has_image()) {
            break;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    h.run_steps(2);
    h
}

fn current(h: &H) -> i64 {
    h.state().workspace().unwrap().current_item().unwrap().id
}

fn states(w: &World) -> Vec<(i64, String, usize, usize)> {
    let admin = w
        .admin_home
        .unlock(&SecretString::from(PASS.to_string()))
        .unwrap();
    let mut s = Session::open(&w.site, admin, None).unwrap();
    s.items()
        .unwrap()
        .into_iter()
        .map(|i| {
            let labels = s.annotations(i.id).unwrap().len();
            let comments = s.comments(i.id).unwrap().len();
            (i.id, i.status.to_string(), labels, comments)
        })
        .collect()
}

#[test]
fn reviewer_approves_rejects_with_a_comment_and_corrects_by_keyboard() {
    let w = world();
    let mut h = open_as(&w.reviewer_home, &w.site);
    assert_eq!(current(&h), w.items[0]);

    // Read-only until C: deleting the selected label is refused.
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(2);
    key(&mut h, Key::Delete);
    assert!(
        h.state()
            .workspace()
            .unwrap()
            .message()
            .unwrap_or_default()
            .contains("Read-only"),
    );
    assert_eq!(h.state().workspace().unwrap().annotations().len(), 1);

    // Y approves and moves on.
    key(&mut h, Key::Y);
    assert_eq!(current(&h), w.items[1]);

    // N opens the reject dialog; the comment is required and goes back.
    key(&mut h, Key::N);
    h.get_by_label("What should the annotator fix?")
        .type_text("Box is too small");
    h.run_steps(1);
    h.get_by_label("Reject").click();
    h.run_steps(3);
    assert_eq!(current(&h), w.items[2]);

    // C to correct: the edit is allowed, then C again approves.
    key(&mut h, Key::C);
    assert!(h.state().workspace().unwrap().is_correcting());
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(2);
    key(&mut h, Key::Delete);
    assert_eq!(h.state().workspace().unwrap().annotations().len(), 0);
    key(&mut h, Key::C);
    h.run_steps(2);

    // The quality screen opens with the figures.
    h.state_mut()
        .workspace_mut()
        .unwrap()
        .run_command(Command::QualityScreen);
    h.run_steps(3);
    let report = h.state().workspace().unwrap().quality_report().unwrap();
    let ann = report.people.iter().find(|p| p.name == "Ann").unwrap();
    assert_eq!((ann.approved, ann.corrected, ann.rejected), (1, 1, 1));
    h.get_by_label_contains("Latest rejection reasons");
    drop(h);

    let got = states(&w);
    assert_eq!(got[0], (w.items[0], "approved".into(), 1, 0));
    assert_eq!(got[1], (w.items[1], "rejected".into(), 1, 1));
    assert_eq!(got[2], (w.items[2], "approved".into(), 0, 0));
}
