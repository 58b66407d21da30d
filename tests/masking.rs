//! Masking and minimisation end to end through the core: PII proposals
//! reviewed by the admin, masks drawn by hand, turned from labels or
//! applied from templates, windows (crop, excerpt, time range) with every
//! label mapped back exactly on merge, versions recorded per package, the
//! laptop's copy replaced when the site masks more, and the preview equal
//! byte for byte to what the annotator receives; recordings lose their tags.

use sealtag::controller::{CoreError, Session};
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange};
use sealtag::privacy::audio_mask::{AudioRange, AudioStyle};
use sealtag::privacy::derive::MaskSpec;
use sealtag::privacy::image_mask::{Region, RegionStyle, Shape};
use sealtag::privacy::pii::PiiType;
use sealtag::privacy::window::Window;

mod site;
use site::{Site, fixture};

const TEXT: &str = "Dear support, I am Jane Q. Example. Write to jane.q@example.com or call +44 20 7946 0958. \
My order ORD-2024-88431 never arrived at 42 Example Street. Regards.";

fn class_id(s: &mut Session, name: &str) -> i64 {
    s.classes()
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no class {name}"))
        .id
}

fn span(start: u64, end: u64) -> Geometry {
    Geometry::Span {
        start,
        end,
        byte_start: 0,
        byte_end: 0,
    }
}

fn audit_actions(s: &mut Session) -> Vec<String> {
    s.audit_log()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

fn char_range(text: &str, needle: &str) -> (u64, u64) {
    let b = text.find(needle).unwrap();
    let start = text[..b].chars().count() as u64;
    (start, start + needle.chars().count() as u64)
}

/// The admin reviews the detector's proposals (bulk-accepts the e-mails,
/// rejects the phone number), adds the address by hand; the annotator's
/// text has exactly those masked, length unchanged; every decision is
/// audited and versioned, and the package records the version it carried.
#[test]
fn reviewed_text_proposals_decide_what_the_annotator_reads() {
    let site = Site::new();
    let item = site.import("ticket.txt", TEXT.as_bytes().to_vec());
    let mut admin = site.admin();
    admin
        .set_project_setting("pii_names", "Jane Q. Example")
        .unwrap();
    let found = admin.mask_propose(None).unwrap();
    assert_eq!(found.text_spans, 3, "{found:?}"); // name, e-mail, phone
    let again = admin.mask_propose(None).unwrap();
    assert_eq!((again.text_spans, again.already_known), (0, 3));
    assert_eq!(admin.item_privacy(item).unwrap().version, 0);

    assert_eq!(
        admin.mask_decide_type(PiiType::Email, true, None).unwrap(),
        1
    );
    assert_eq!(
        admin
            .mask_decide_type(PiiType::Person, true, Some(item))
            .unwrap(),
        1
    );
    let phone = admin
        .mask_list(Some(item))
        .unwrap()
        .into_iter()
        .find(|m| {
            matches!(
                m.spec,
                MaskSpec::Text {
                    pii_type: PiiType::Phone,
                    ..
                }
            )
        })
        .unwrap();
    assert_eq!(phone.status, "proposed");
    assert_eq!(admin.mask_decide(&[phone.id], false).unwrap(), 1);
    let (a0, a1) = char_range(TEXT, "42 Example Street");
    admin
        .mask_add(
            item,
            MaskSpec::Text {
                start: a0,
                end: a1,
                pii_type: PiiType::Address,
            },
        )
        .unwrap();
    // A span past the end is refused with where and why.
    let err = admin
        .mask_add(
            item,
            MaskSpec::Text {
                start: 10,
                end: 10_000,
                pii_type: PiiType::Other,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("past the text's"), "{err}");
    let privacy = admin.item_privacy(item).unwrap();
    assert_eq!(privacy.version, 4, "two accepts, one reject, one add");
    let preview = admin.preview_item(item).unwrap();
    let actions = audit_actions(&mut admin);
    for a in [
        "mask.propose",
        "mask.accept",
        "mask.reject",
        "mask.add",
        "mask.preview",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing: {actions:?}");
    }
    admin.assign(&[item], "Ann", "annotate").unwrap();
    drop(admin);

    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let seen = String::from_utf8(ann.load_item(item).unwrap().bytes.to_vec()).unwrap();
    assert_eq!(
        seen.as_bytes(),
        &preview.bytes[..],
        "preview = what Ann gets"
    );
    assert_eq!(seen.chars().count(), TEXT.chars().count());
    assert!(!seen.contains("jane.q@"), "{seen}");
    assert!(!seen.contains("Jane Q. Example"), "{seen}");
    assert!(!seen.contains("42 Example Street"), "{seen}");
    assert!(
        seen.contains("+44 20 7946 0958"),
        "rejected stays readable: {seen}"
    );
    // The admin's list of names never travels.
    drop(ann);
    let sent = site.admin().item_privacy(item).unwrap();
    assert_eq!(sent.packages.len(), 1);
    assert_eq!(sent.packages[0].2, 4, "the package records version 4");
}

/// An excerpt travels instead of the whole text; pre-labels inside it are
/// shifted, those outside stay home, and labels made on the excerpt land
/// on the same characters of the original with the original's bytes.
#[test]
fn pii_region_setting_reads_national_phone_formats() {
    // A Spanish mobile written without country code or trunk prefix is a
    // phone number only for a project whose pii_region is ES; the setting
    // reaches both the scan and the automatic masking plan.
    let text = "Hola, mi móvil es 612 345 678, gracias.";
    let site = Site::new();
    let item = site.import("es.txt", text.as_bytes().to_vec());
    let mut admin = site.admin();
    let phones = |admin: &mut Session| -> Vec<String> {
        let det = admin.pii_detector().unwrap();
        admin
            .pii_scan(&det)
            .unwrap()
            .into_iter()
            .flat_map(|i| i.spans)
            .filter(|s| s.kind == PiiType::Phone)
            .map(|s| s.text)
            .collect()
    };
    assert_eq!(admin.pii_detector().unwrap().region().code(), "US");
    assert!(phones(&mut admin).is_empty());
    assert!(admin.set_project_setting("pii_region", "XX").is_err());
    assert!(admin.set_project_setting("pii_region", "es").is_err());
    admin.set_project_setting("pii_region", "ES").unwrap();
    assert_eq!(phones(&mut admin), ["612 345 678"]);
    admin.set_project_setting("mask_pii", "auto").unwrap();
    let preview = admin.preview_item(item).unwrap();
    let masked = String::from_utf8(preview.bytes.to_vec()).unwrap();
    assert!(!masked.contains("612 345 678"), "{masked}");
    assert_eq!(masked.chars().count(), text.chars().count());
}

#[test]
fn text_excerpt_labels_map_back_to_the_original_exactly() {
    let site = Site::new();
    let text = format!("Ünïcödé préface — {TEXT}");
    let item = site.import("ticket.txt", text.as_bytes().to_vec());
    let mut admin = site.admin();
    let class = admin.classes().unwrap()[0].id;
    let (o0, o1) = char_range(&text, "ORD-2024-88431");
    let (n0, n1) = char_range(&text, "Jane Q. Example");
    for (s, e) in [(o0, o1), (n0, n1), (0, 7)] {
        admin
            .apply_label(LabelChange::Create {
                item_id: item,
                draft: AnnotationDraft::new(class, span(s, e)),
            })
            .unwrap();
    }
    let (w0, w1) = char_range(&text, "Write to");
    let window = admin
        .set_window(
            item,
            Some(Window::Text {
                start: w0,
                end: w1 + 100,
            }),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        window,
        Window::Text {
            start: w0,
            end: w1 + 100
        }
    );
    admin.assign(&[item], "Ann", "annotate").unwrap();
    drop(admin);

    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let content = ann.load_item(item).unwrap();
    let seen = String::from_utf8(content.bytes.to_vec()).unwrap();
    let expected: String = text.chars().skip(w0 as usize).take(108).collect();
    assert_eq!(seen, expected);
    assert_eq!(content.summary.char_len, Some(108));
    let pre = ann.annotations(item).unwrap();
    assert_eq!(pre.len(), 1, "only the order id lies inside the excerpt");
    assert!(
        matches!(pre[0].geometry, Geometry::Span { start, end, .. } if (start, end) == (o0 - w0, o1 - w0))
    );
    // Ann labels the e-mail in the excerpt and widens the order id by one.
    let (e0, e1) = char_range(&seen, "jane.q@example.com");
    ann.apply_label(LabelChange::Create {
        item_id: item,
        draft: AnnotationDraft::new(class, span(e0, e1)),
    })
    .unwrap();
    let mut widened = pre[0].clone();
    widened.geometry = span(o0 - w0, o1 - w0 + 1);
    ann.apply_label(LabelChange::Update {
        annotation_id: widened.id,
        draft: AnnotationDraft::new(class, widened.geometry.clone()),
    })
    .unwrap();
    drop(ann);
    site.return_results(&bundle);

    let labels = site.admin().annotations(item).unwrap();
    let spans: Vec<(u64, u64, u64, u64)> = labels
        .iter()
        .filter_map(|a| match a.geometry {
            Geometry::Span {
                start,
                end,
                byte_start,
                byte_end,
            } => Some((start, end, byte_start, byte_end)),
            _ => None,
        })
        .collect();
    let (m0, m1) = char_range(&text, "jane.q@example.com");
    let email = spans.iter().find(|s| (s.0, s.1) == (m0, m1)).unwrap();
    assert_eq!(
        &text[email.2 as usize..email.3 as usize],
        "jane.q@example.com"
    );
    assert!(
        spans.iter().any(|s| (s.0, s.1) == (o0, o1 + 1)),
        "{spans:?}"
    );
    assert!(
        spans.iter().any(|s| (s.0, s.1) == (n0, n1)),
        "outside label kept"
    );
    assert_eq!(spans.len(), 4);
}

/// A crop travels instead of the whole image, with accepted regions
/// filled; boxes drawn on the crop land on the original's pixels.
#[test]
fn image_crop_and_regions_map_back_exactly() {
    let site = Site::new();
    let bytes = fixture("privacy/street_plate_fake.jpg");
    let item = site.import("street.jpg", bytes);
    let mut admin = site.admin();
    let plate = class_id(&mut admin, "licence plate");
    let person = admin.classes().unwrap()[0].id;
    admin
        .apply_label(LabelChange::Create {
            item_id: item,
            draft: AnnotationDraft::new(
                plate,
                Geometry::BBox(BBox {
                    x: 476.0,
                    y: 640.0,
                    w: 248.0,
                    h: 54.0,
                }),
            ),
        })
        .unwrap();
    assert_eq!(
        admin
            .mask_from_labels(&["licence plate".into()], RegionStyle::Pixelate, None)
            .unwrap(),
        1
    );
    assert_eq!(
        admin
            .mask_from_labels(&["licence plate".into()], RegionStyle::Pixelate, None)
            .unwrap(),
        0,
        "a label already turned into a region is not added twice"
    );
    let window = admin
        .window_from_labels(item, &["licence plate".into()], 100.0)
        .unwrap()
        .unwrap();
    assert_eq!(
        window,
        Window::Image {
            x: 376,
            y: 540,
            w: 448,
            h: 254
        }
    );
    let preview = admin.preview_item(item).unwrap();
    assert_eq!((preview.width, preview.height), (Some(448), Some(254)));
    admin.assign(&[item], "Ann", "annotate").unwrap();
    drop(admin);

    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let content = ann.load_item(item).unwrap();
    assert_eq!(&content.bytes[..], &preview.bytes[..]);
    let img = image::load_from_memory(&content.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (448, 254));
    assert_eq!(
        (content.summary.width, content.summary.height),
        (Some(448), Some(254))
    );
    let pre = ann.annotations(item).unwrap();
    assert_eq!(
        pre[0].geometry,
        Geometry::BBox(BBox {
            x: 100.0,
            y: 100.0,
            w: 248.0,
            h: 54.0
        })
    );
    let drawn = Geometry::BBox(BBox {
        x: 12.5,
        y: 30.25,
        w: 40.0,
        h: 80.5,
    });
    ann.apply_label(LabelChange::Create {
        item_id: item,
        draft: AnnotationDraft::new(person, drawn),
    })
    .unwrap();
    drop(ann);
    site.return_results(&bundle);
    let labels = site.admin().annotations(item).unwrap();
    assert!(
        labels.iter().any(|a| a.geometry
            == Geometry::BBox(BBox {
                x: 388.5,
                y: 570.25,
                w: 40.0,
                h: 80.5
            })),
        "{labels:?}"
    );
    assert!(labels.iter().any(|a| a.geometry
        == Geometry::BBox(BBox {
            x: 476.0,
            y: 640.0,
            w: 248.0,
            h: 54.0
        })));
}

/// A time window of a recording travels as WAV with PII ranges muted;
/// segments map back by the window's start, and a transcript the laptop
/// saw masked gets the site's words back where the annotator left the
/// mask alone.
#[test]
fn audio_window_and_masked_transcripts_map_back() {
    let site = Site::new();
    let item = site.import("call.flac", fixture("import/call_02_16k.flac"));
    let mut admin = site.admin();
    admin.set_project_setting("mask_pii", "auto").unwrap();
    admin
        .set_project_setting("pii_names", "Max Mustermann")
        .unwrap();
    let class = admin.classes().unwrap()[0].id;
    let said = "This is Max Mustermann. I was charged twice for order ORD-2024-10057, on card 4111 1111 1111 1111.";
    admin
        .apply_label(LabelChange::Create {
            item_id: item,
            draft: AnnotationDraft::new(
                class,
                Geometry::Segment {
                    start_secs: 2.761,
                    end_secs: 13.655,
                    transcript: said.into(),
                },
            ),
        })
        .unwrap();
    let proposed = admin.mask_propose(None).unwrap();
    assert_eq!(proposed.audio_ranges, 1, "{proposed:?}");
    let range = admin.mask_list(Some(item)).unwrap()[0].clone();
    assert!(range.source.starts_with("transcript:"));
    admin.mask_decide(&[range.id], true).unwrap();
    let window = admin
        .set_window(
            item,
            Some(Window::Audio {
                start_secs: 2.0,
                end_secs: 20.0,
            }),
        )
        .unwrap()
        .unwrap();
    let Window::Audio { start_secs: w0, .. } = window else {
        panic!("{window:?}")
    };
    assert_eq!(w0, 2.0, "2.0 s is a whole sample at 16 kHz");
    admin.assign(&[item], "Ann", "annotate").unwrap();
    let preview = admin.preview_item(item).unwrap();
    assert_eq!(preview.format, "wav");
    drop(admin);

    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let content = ann.load_item(item).unwrap();
    assert_eq!(content.summary.format, "wav");
    assert_eq!(&content.bytes[..], &preview.bytes[..]);
    let secs = content.summary.duration_secs.unwrap();
    assert!((secs - 18.0).abs() < 0.01, "{secs}");
    let pre = ann.annotations(item).unwrap();
    let Geometry::Segment {
        start_secs,
        end_secs,
        transcript,
    } = &pre[0].geometry
    else {
        panic!("{:?}", pre[0].geometry)
    };
    assert!((start_secs - 0.761).abs() < 1e-9 && (end_secs - 11.655).abs() < 1e-9);
    assert!(
        !transcript.contains("Mustermann") && !transcript.contains("4111"),
        "{transcript}"
    );
    assert_eq!(transcript.chars().count(), said.chars().count());
    // Ann fixes a word outside the masks and moves the end.
    let fixed = transcript.replacen("charged twice", "charged TWICE", 1);
    ann.apply_label(LabelChange::Update {
        annotation_id: pre[0].id,
        draft: AnnotationDraft::new(
            class,
            Geometry::Segment {
                start_secs: *start_secs,
                end_secs: 11.5,
                transcript: fixed,
            },
        ),
    })
    .unwrap();
    drop(ann);
    site.return_results(&bundle);
    let labels = site.admin().annotations(item).unwrap();
    let Geometry::Segment {
        start_secs,
        end_secs,
        transcript,
    } = &labels[0].geometry
    else {
        panic!()
    };
    assert!((start_secs - 2.761).abs() < 1e-9, "{start_secs}");
    assert!((end_secs - 13.5).abs() < 1e-9, "{end_secs}");
    assert_eq!(
        transcript,
        &said.replacen("charged twice", "charged TWICE", 1),
        "masked words restored, the annotator's edit kept"
    );
}

/// When the site masks more after sending, the next package replaces the
/// laptop's copy; a window cannot change while the item is out.
#[test]
fn more_masking_replaces_the_laptops_copy_and_windows_stay_put() {
    let site = Site::new();
    let item = site.import("ticket.txt", TEXT.as_bytes().to_vec());
    let mut admin = site.admin();
    admin.assign(&[item], "Ann", "annotate").unwrap();
    drop(admin);
    let bundle = site.send();
    let before =
        String::from_utf8(site.laptop(&bundle).load_item(item).unwrap().bytes.to_vec()).unwrap();
    assert_eq!(before, TEXT);
    let mut admin = site.admin();
    let (e0, e1) = char_range(TEXT, "jane.q@example.com");
    admin
        .mask_add(
            item,
            MaskSpec::Text {
                start: e0,
                end: e1,
                pii_type: PiiType::Email,
            },
        )
        .unwrap();
    drop(admin);
    let bundle = site.send();
    let after =
        String::from_utf8(site.laptop(&bundle).load_item(item).unwrap().bytes.to_vec()).unwrap();
    assert!(!after.contains("jane.q@"), "{after}");
    assert_eq!(after.chars().count(), TEXT.chars().count());
    let mut admin = site.admin();
    admin
        .set_window(item, Some(Window::Text { start: 0, end: 20 }))
        .unwrap();
    let err = match admin.plan_work_package("Ann") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a changed window must be refused while the item is out"),
    };
    assert!(err.contains("another window"), "{err}");
}

/// Templates hold regions drawn on one image and scale to others; an
/// annotator may not touch masking at all (refusals are audited like every
/// other, see the permission matrix test in `core`).
#[test]
fn templates_scale_and_annotators_cannot_mask() {
    let site = Site::new();
    let card = site.import("card.png", fixture("privacy/id_card_fake.png"));
    let other = site.import("street.jpg", fixture("privacy/street_plate_fake.jpg"));
    let mut admin = site.admin();
    admin
        .mask_add(
            card,
            MaskSpec::Region {
                region: Region {
                    shape: Shape::Rect {
                        x: 60.0,
                        y: 120.0,
                        w: 300.0,
                        h: 400.0,
                    },
                    style: RegionStyle::Fill,
                },
            },
        )
        .unwrap();
    let t = admin.template_save("id-card", card).unwrap();
    assert_eq!((t.width, t.height, t.regions.len()), (1200, 800, 1));
    let done = admin.template_apply("id-card", &[card, other]).unwrap();
    // The card carries the region it was saved from: only the other image
    // gets it, through the command line and the GUI alike.
    assert_eq!(
        (done.regions, done.images, done.already_carried),
        (1, vec![other], vec![card])
    );
    let again = admin.template_apply("id-card", &[card, other]).unwrap();
    assert_eq!((again.regions, again.already_carried.len()), (0, 2));
    assert_eq!(admin.mask_list(Some(card)).unwrap().len(), 1);
    let masks = admin.mask_list(Some(other)).unwrap();
    assert_eq!(masks.len(), 1, "applying twice adds nothing");
    assert_eq!(masks[0].source, "template:id-card");
    // Same size: the same rectangle.
    assert!(matches!(
        &masks[0].spec,
        MaskSpec::Region { region } if region.shape == Shape::Rect { x: 60.0, y: 120.0, w: 300.0, h: 400.0 }
    ));
    assert!(
        admin
            .mask_add(
                card,
                MaskSpec::Audio {
                    range: AudioRange {
                        start_secs: 0.0,
                        end_secs: 1.0,
                        style: AudioStyle::Mute
                    }
                }
            )
            .is_err(),
        "an audio range does not fit an image"
    );
    admin.assign(&[card], "Ann", "annotate").unwrap();
    drop(admin);
    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let denied = ann.mask_propose(None).unwrap_err();
    assert!(matches!(denied, CoreError::Denied(_)), "{denied:?}");
    assert!(matches!(
        ann.set_window(card, None),
        Err(CoreError::Denied(_))
    ));
    assert!(matches!(ann.preview_item(card), Err(CoreError::Denied(_))));
}

/// Recordings leave the site without their tags: the Ogg's Vorbis comments
/// and the MP3's ID3 frames (names, phone numbers, e-mails) are gone from
/// the annotator's copies, which still decode; the Ogg travels as WAV.
#[test]
fn work_package_recordings_carry_no_tags() {
    let site = Site::new();
    let ogg = fixture("import/call_03_22k.ogg");
    let mp3 = fixture("import/call_04_22k.mp3");
    let leaks: [&[u8]; 4] = [
        b"Taro Yamada",
        b"555 0199",
        b"John Doe",
        b"john.doe@example.net",
    ];
    let has = |bytes: &[u8], leak: &[u8]| bytes.windows(leak.len()).any(|w| w == leak);
    assert!(
        has(&ogg, leaks[0]) && has(&mp3, leaks[3]),
        "fixtures lack their tags"
    );
    let a = site.import("call3.ogg", ogg);
    let b = site.import("call4.mp3", mp3);
    site.admin().assign(&[a, b], "Ann", "annotate").unwrap();
    let bundle = site.send();
    let mut ann = site.laptop(&bundle);
    let (ca, cb) = (ann.load_item(a).unwrap(), ann.load_item(b).unwrap());
    assert_eq!(ca.summary.format, "wav");
    assert_eq!(cb.summary.format, "mp3");
    for leak in leaks {
        for copy in [&ca.bytes, &cb.bytes] {
            assert!(
                !has(copy, leak),
                "{} survived",
                String::from_utf8_lossy(leak)
            );
        }
    }
    for (copy, format) in [(&ca.bytes, "wav"), (&cb.bytes, "mp3")] {
        let pcm = sealtag::privacy::audio_mask::decode_pcm(copy, format, 600.0).unwrap();
        let secs = pcm.samples.len() as f64 / f64::from(pcm.channels) / f64::from(pcm.sample_rate);
        assert!(secs > 25.0, "{format}: {secs} s");
    }
}
