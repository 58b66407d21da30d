//! GUI tests of the admin's privacy screen with egui_kittest: on a text
//! with an e-mail and a phone number the admin runs the detector, accepts
//! the e-mails in bulk, rejects the phone, adds a selection as a mask and
//! previews exactly what the annotator receives; on an image, dragging,
//! clicking a polygon, cropping, turning labels into masks and templates
//! all land in the store; annotators never get the screen. Every decision
//! is checked through a second, independent admin session.

#![cfg(feature = "gui")]

mod kit;

use age::secrecy::SecretString;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use kit::{H, click, click_at, drag, harness, open_menu, run_command, step_until};
use sealtag::controller::Mask;
use sealtag::controller::Session;
use sealtag::gui::SealtagApp;
use sealtag::gui::commands::Command;
use sealtag::gui::privacy_view::PrivacyView;
use sealtag::home::Home;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use sealtag::privacy::derive::MaskSpec;
use sealtag::privacy::image_mask::{RegionStyle, Shape};
use sealtag::privacy::pii::PiiType;
use sealtag::privacy::window::Window;
use std::path::PathBuf;

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const SECOND_IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/camera_gray.png"
);
const AUDIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/call_04_22k.mp3"
);
const PASS: &str = "gui-privacy-pass";
const TEXT: &str = "Call Jane Roe at jane.roe@example.com or +44 20 7946 0958 today.";
const EMAIL: &str = "jane.roe@example.com";
const PHONE: &str = "+44 20 7946 0958";

struct World {
    _dir: tempfile::TempDir,
    site: PathBuf,
    admin_home: Home,
    ann_home: Home,
    text: i64,
    image: i64,
    second_image: i64,
    audio: i64,
    face_label: i64,
    segment_label: i64,
}

/// A site with a text, two images (one with a `face` pre-label), all
/// assigned to Ann for annotation.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let pass = SecretString::from(PASS.to_string());
    let admin_home = Home::new(dir.path().join("admin"));
    let ann_home = Home::new(dir.path().join("ann"));
    let admin = admin_home.create_identity("Ada", &pass, 10).unwrap();
    let ann = ann_home.create_identity("Ann", &pass, 10).unwrap();
    let site = dir.path().join("site.sealtag");
    let mut s = Session::create_project(&site, "Site", admin).unwrap();
    let opts = ImportOptions::default();
    let import = |s: &mut Session, name: &str, bytes: Vec<u8>| {
        s.import_bytes(name, bytes, &opts).unwrap().item_ids[0]
    };
    let text = import(&mut s, "note.txt", TEXT.as_bytes().to_vec());
    let image = import(&mut s, "astronaut.jpg", std::fs::read(IMAGE).unwrap());
    let second_image = import(
        &mut s,
        "camera_gray.png",
        std::fs::read(SECOND_IMAGE).unwrap(),
    );
    let audio = import(&mut s, "call.mp3", std::fs::read(AUDIO).unwrap());
    let face = s
        .classes()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "face")
        .unwrap()
        .id;
    let face_label = s
        .apply_label(LabelChange::Create {
            item_id: image,
            draft: AnnotationDraft::new(
                face,
                Geometry::BBox(BBox {
                    x: 180.0,
                    y: 60.0,
                    w: 100.0,
                    h: 120.0,
                }),
            ),
        })
        .unwrap()
        .annotation_id;
    let person = s
        .classes()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "person")
        .unwrap()
        .id;
    let segment_label = s
        .apply_label(LabelChange::Create {
            item_id: audio,
            draft: AnnotationDraft::new(
                person,
                Geometry::Segment {
                    start_secs: 0.5,
                    end_secs: 1.5,
                    transcript: format!("write to {EMAIL} please"),
                },
            ),
        })
        .unwrap()
        .annotation_id;
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.assign(&[text, image, second_image, audio], "Ann", "annotate")
        .unwrap();
    s.close().unwrap();
    World {
        _dir: dir,
        site,
        admin_home,
        ann_home,
        text,
        image,
        second_image,
        audio,
        face_label,
        segment_label,
    }
}

/// An independent admin session on the site (what is really stored).
fn site(w: &World) -> Session {
    let admin = w
        .admin_home
        .unlock(&SecretString::from(PASS.to_string()))
        .unwrap();
    Session::open(&w.site, admin, None).unwrap()
}

/// An item's masking decisions as the controller reports them.
fn masks(w: &World, item: i64) -> Vec<Mask> {
    site(w).item_privacy(item).unwrap().masks
}

/// Waits for the preview the worker thread is making.
fn preview_made(h: &mut H) {
    step_until(h, "the preview", |app| {
        app.workspace()
            .and_then(|ws| ws.privacy_view())
            .is_some_and(|v| !v.preview_pending())
    });
    h.run_steps(1);
}

/// Unlocks `home` on the site and waits for the first item (the text).
fn open_as(w: &World, home: &Home) -> H {
    let mut h = harness(SealtagApp::new(home.clone(), Some(w.site.clone()), false));
    h.run_steps(2);
    h.get_by_label("Passphrase").type_text(PASS);
    h.run_steps(1);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "the text", |app| {
        app.workspace()
            .is_some_and(|ws| ws.text_view().last_galley.is_some())
    });
    h.run_steps(2);
    h
}

fn view(h: &H) -> &PrivacyView {
    h.state()
        .workspace()
        .unwrap()
        .privacy_view()
        .expect("the privacy window is open")
}

fn text_mask(rows: &[Mask], pii: PiiType) -> &Mask {
    rows.iter()
        .find(|m| matches!(m.spec, MaskSpec::Text { pii_type, .. } if pii_type == pii))
        .unwrap_or_else(|| panic!("no {pii:?} mask in {rows:?}"))
}

fn chars_of(needle: &str) -> (u64, u64) {
    let start = TEXT.find(needle).unwrap() as u64;
    (start, start + needle.len() as u64)
}

#[test]
fn admin_accepts_emails_rejects_the_phone_and_previews_the_annotators_text() {
    let w = world();
    let mut h = open_as(&w, &w.admin_home);
    assert_eq!(
        h.state().workspace().unwrap().current_item().unwrap().id,
        w.text
    );
    // The shortcut opens the screen on the current item.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::P);
    h.run_steps(3);
    assert_eq!(view(&h).item_id(), w.text);
    h.get_by_label_contains("Privacy version 0");

    click(&mut h, "Propose (run detector)");
    // Both proposals are listed with the words they cover, and offered in bulk.
    h.get_by_label_contains(&format!("“{EMAIL}”"));
    h.get_by_label_contains(&format!("“{PHONE}”"));
    h.get_by_label("Reject all PHONE (1)");
    click(&mut h, "Accept all EMAIL (1)");

    let rows = masks(&w, w.text);
    let email = text_mask(&rows, PiiType::Email);
    let phone = text_mask(&rows, PiiType::Phone);
    assert_eq!(email.status, "accepted");
    assert_eq!(phone.status, "proposed");
    let (es, ee) = chars_of(EMAIL);
    assert!(
        matches!(email.spec, MaskSpec::Text { start, end, .. } if (start, end) == (es, ee)),
        "{:?}",
        email.spec
    );
    assert!(
        h.query_by_label("Accept all EMAIL (1)").is_none(),
        "nothing left to accept"
    );
    h.get_by_label_contains("1 accepted, 1 proposed, 0 rejected");

    // Detection at packaging masks the still-pending phone too…
    click(&mut h, "Also mask what the detector finds at packaging");
    assert_eq!(site(&w).project_setting("mask_pii").unwrap(), "auto");
    click(&mut h, "Preview as annotator");
    h.get_by_label("This is exactly what Ann receives");
    preview_made(&mut h);
    let preview = view(&h).preview_text().expect("a text preview").to_string();
    assert_eq!(preview.chars().count(), TEXT.chars().count());
    let masked: String = preview
        .chars()
        .skip(es as usize)
        .take(EMAIL.len())
        .collect();
    assert_eq!(masked, "█".repeat(EMAIL.len()), "{preview}");
    assert!(!preview.contains(PHONE), "{preview}");
    assert!(preview.starts_with("Call Jane Roe at "), "{preview}");

    // …until the admin rejects it: then it stays readable, and the preview
    // follows at once.
    click(&mut h, "Reject all PHONE (1)");
    assert_eq!(
        text_mask(&masks(&w, w.text), PiiType::Phone).status,
        "rejected"
    );
    preview_made(&mut h);
    let preview = view(&h).preview_text().unwrap().to_string();
    assert!(preview.contains(PHONE), "{preview}");
    assert!(!preview.contains(EMAIL), "{preview}");
    assert_eq!(preview.chars().count(), TEXT.chars().count());
    h.get_by_label_contains("1 accepted, 0 proposed, 1 rejected");

    // Back to the original: a selection made with the mouse becomes a mask.
    click(&mut h, "Preview as annotator");
    assert!(view(&h).preview_text().is_none());
    let (ns, ne) = chars_of("Jane Roe");
    let (from, to) = (
        view(&h).text_screen_pos(ns as usize).unwrap(),
        view(&h).text_screen_pos(ne as usize).unwrap(),
    );
    drag(&mut h, from, to);
    assert_eq!(view(&h).selection(), Some((ns as usize, ne as usize)));
    h.get_by_label_contains("“Jane Roe”");
    click(&mut h, "Add selection as");
    let person = text_mask(&masks(&w, w.text), PiiType::Person).clone();
    assert_eq!(person.status, "accepted");
    assert_eq!(person.source, "admin");
    assert!(
        matches!(person.spec, MaskSpec::Text { start, end, .. } if (start, end) == (ns, ne)),
        "{:?}",
        person.spec
    );

    // A selection as the excerpt: only those chars travel, masked.
    let (from, to) = (
        view(&h).text_screen_pos(0).unwrap(),
        view(&h).text_screen_pos(es as usize + 4).unwrap(),
    );
    drag(&mut h, from, to);
    click(&mut h, "Use selection as excerpt");
    let p = site(&w).item_privacy(w.text).unwrap();
    assert_eq!(
        p.window,
        Some(Window::Text {
            start: 0,
            end: es + 4
        })
    );
    click(&mut h, "Preview as annotator");
    preview_made(&mut h);
    assert_eq!(
        view(&h).preview_text().unwrap(),
        format!("Call {} at ████", "█".repeat(8))
    );
    assert!(view(&h).error().is_none(), "{:?}", view(&h).error());
}

#[test]
fn annotators_do_not_get_the_privacy_screen() {
    let w = world();
    let mut h = open_as(&w, &w.ann_home);
    open_menu(&mut h, "File");
    // Menu entries are named with their shortcut.
    assert!(
        h.query_by_label("Settings… Ctrl+Comma").is_some(),
        "the menu is open"
    );
    assert!(h.query_by_label_contains("Privacy & masking").is_none());
    h.key_press(Key::Escape);
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::P);
    h.run_steps(2);
    run_command(&mut h, Command::PrivacyScreen);
    let ws = h.state().workspace().unwrap();
    assert!(ws.privacy_view().is_none());
    assert!(
        ws.message().unwrap_or_default().contains("Only admins"),
        "{:?}",
        ws.message()
    );
    assert!(h.query_by_label("Propose (run detector)").is_none());
}

#[test]
fn admin_draws_regions_crops_and_uses_labels_and_templates_on_images() {
    let w = world();
    let mut h = open_as(&w, &w.admin_home);
    h.key_press(Key::D);
    step_until(&mut h, "the image", |app| {
        app.workspace().is_some_and(|ws| ws.has_image())
    });
    h.run_steps(2);
    // From the File menu this time.
    open_menu(&mut h, "File");
    click(&mut h, "Privacy & masking… Ctrl+Shift+P");
    assert_eq!(view(&h).item_id(), w.image);
    let px = |h: &H, x: f64, y: f64| view(h).image_to_screen(x, y).expect("the image is drawn");
    // Screen points per pixel decide how close a drawn corner can be.
    let tol = {
        let a = px(&h, 0.0, 0.0);
        let b = px(&h, 100.0, 0.0);
        100.0 / f64::from(b.x - a.x) + 1.0
    };

    // A drag masks a rectangle at once, in the project's default style.
    let (from, to) = (px(&h, 40.0, 50.0), px(&h, 140.0, 130.0));
    drag(&mut h, from, to);
    let rows = masks(&w, w.image);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let MaskSpec::Region { region } = &rows[0].spec else {
        panic!("{:?}", rows[0].spec)
    };
    assert_eq!(rows[0].status, "accepted");
    assert_eq!(region.style, RegionStyle::Fill);
    let Shape::Rect { x, y, w: rw, h: rh } = region.shape else {
        panic!("{:?}", region.shape)
    };
    for (got, want) in [(x, 40.0), (y, 50.0), (rw, 100.0), (rh, 80.0)] {
        assert!(
            (got - want).abs() <= tol,
            "{:?} vs 40,50,100,80",
            region.shape
        );
    }
    assert_eq!(view(&h).privacy().unwrap().masks.len(), 1);

    // A polygon: three clicks, Enter closes it.
    click(&mut h, "Mask polygon");
    for (x, y) in [(300.0, 300.0), (380.0, 310.0), (340.0, 380.0)] {
        let p = px(&h, x, y);
        click_at(&mut h, p);
    }
    assert_eq!(view(&h).polygon_points().len(), 3);
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert!(view(&h).polygon_points().is_empty());
    let rows = masks(&w, w.image);
    let polygon = rows
        .iter()
        .find_map(|m| match &m.spec {
            MaskSpec::Region { region } => match &region.shape {
                Shape::Polygon { points } => Some((m.id, points.clone())),
                _ => None,
            },
            _ => None,
        })
        .expect("a polygon region");
    assert_eq!(polygon.1.len(), 3);
    assert!((polygon.1[1][0] - 380.0).abs() <= tol && (polygon.1[1][1] - 310.0).abs() <= tol);

    // The face pre-label becomes a region; doing it again adds nothing.
    click(&mut h, "Masks from labels of class");
    click(&mut h, "Masks from labels of class");
    let rows = masks(&w, w.image);
    let from_label: Vec<&Mask> = rows
        .iter()
        .filter(|m| m.source == format!("label:{}", w.face_label))
        .collect();
    assert_eq!(from_label.len(), 1, "{rows:?}");
    assert!(matches!(
        &from_label[0].spec,
        MaskSpec::Region { region } if region.shape == Shape::Rect { x: 180.0, y: 60.0, w: 100.0, h: 120.0 }
    ));

    // Reject the polygon: it stays on record, no longer masked.
    let reject_buttons: Vec<_> = h.get_all_by_label("Reject").collect();
    assert_eq!(reject_buttons.len(), 3);
    reject_buttons[1].click();
    h.run_steps(3);
    let rows = masks(&w, w.image);
    assert_eq!(
        rows.iter().find(|m| m.id == polygon.0).unwrap().status,
        "rejected"
    );

    // Template: the two accepted regions, applied to the other image
    // (scaled), not again to this one.
    h.get_by_label("Template name").click();
    h.run_steps(1);
    h.get_by_label("Template name").type_text("id-card");
    h.run_steps(2);
    click(&mut h, "Save regions as template");
    let templates = site(&w).mask_templates().unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].regions.len(), 2);
    click(&mut h, "Apply template to all images");
    assert_eq!(masks(&w, w.image).len(), 3, "nothing added to the source");
    let second = masks(&w, w.second_image);
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(
        second
            .iter()
            .all(|m| m.status == "accepted" && m.source == "template:id-card")
    );
    assert!(view(&h).error().is_none(), "{:?}", view(&h).error());

    // Crop: a drag in crop mode masks nothing and becomes the window.
    click(&mut h, "Crop rectangle");
    let (from, to) = (px(&h, 10.0, 20.0), px(&h, 310.0, 420.0));
    drag(&mut h, from, to);
    assert_eq!(masks(&w, w.image).len(), 3);
    click(&mut h, "Use drawn rectangle as crop");
    let p = site(&w).item_privacy(w.image).unwrap();
    let Some(Window::Image { x, y, w: cw, h: ch }) = p.window else {
        panic!("{:?}", p.window)
    };
    for (got, want) in [(x, 10.0), (y, 20.0), (cw, 300.0), (ch, 400.0)] {
        assert!((f64::from(got) - want).abs() <= tol, "{:?}", p.window);
    }
    assert_eq!(view(&h).privacy().unwrap().version, p.version);
    click(&mut h, "Clear window");
    assert_eq!(site(&w).item_privacy(w.image).unwrap().window, None);

    // The preview is the annotator's image: with the crop set again, its
    // size is the crop's.
    click(&mut h, "Use drawn rectangle as crop");
    click(&mut h, "Preview as annotator");
    h.get_by_label("This is exactly what Ann receives");
    preview_made(&mut h);
    assert_eq!(view(&h).preview_error(), None);
    let (pw, ph) = view(&h).preview_image_size().expect("an image preview");
    assert!(
        (f64::from(pw) - 300.0).abs() <= tol + 1.0 && (f64::from(ph) - 400.0).abs() <= tol + 1.0,
        "{pw}×{ph}"
    );
}

#[test]
fn admin_mutes_a_dragged_time_range_and_accepts_a_transcript_proposal() {
    let w = world();
    let mut h = open_as(&w, &w.admin_home);
    for _ in 0..3 {
        h.key_press(Key::D);
        h.run_steps(2);
    }
    step_until(&mut h, "the waveform", |app| {
        app.workspace().is_some_and(|ws| ws.has_waveform())
    });
    h.state_mut()
        .workspace_mut()
        .unwrap()
        .run_command(Command::PrivacyScreen);
    h.run_steps(3);
    assert_eq!(view(&h).item_id(), w.audio);

    // Dragging on the timeline fills in the range; "Add range" mutes it.
    let (from, to) = (
        view(&h).timeline_pos(1.0).unwrap(),
        view(&h).timeline_pos(2.0).unwrap(),
    );
    let secs_per_point = 1.0 / f64::from(to.x - from.x);
    drag(&mut h, from, to);
    let (a, b) = view(&h).audio_range();
    assert!(
        (a - 1.0).abs() <= 2.0 * secs_per_point && (b - 2.0).abs() <= 2.0 * secs_per_point,
        "{a}..{b}"
    );
    click(&mut h, "Add range");
    let rows = masks(&w, w.audio);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let MaskSpec::Audio { range } = rows[0].spec else {
        panic!("{:?}", rows[0].spec)
    };
    assert_eq!(rows[0].status, "accepted");
    assert_eq!((range.start_secs, range.end_secs), (a, b));

    // The transcript mentions an e-mail: its segment is proposed for muting.
    click(&mut h, "Propose from transcripts");
    let rows = masks(&w, w.audio);
    let proposal = rows
        .iter()
        .find(|m| m.source == format!("transcript:{}", w.segment_label))
        .expect("a proposal from the transcript");
    assert_eq!(proposal.status, "proposed");
    assert!(matches!(
        proposal.spec,
        MaskSpec::Audio { range } if (range.start_secs, range.end_secs) == (0.5, 1.5)
    ));
    click(&mut h, "Accept");
    let rows = masks(&w, w.audio);
    assert!(rows.iter().all(|m| m.status == "accepted"), "{rows:?}");
    h.get_by_label_contains("2 accepted, 0 proposed, 0 rejected");
}
