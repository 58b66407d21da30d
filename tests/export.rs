//! Exports through the core: a signed folder that `verify` checks file by
//! file, a sealed package for a recipient, an unsigned folder only on
//! request (and audited), media with their metadata stripped, approved-only
//! by default, permissions, cancel; and pre-labels imported back from the
//! native JSONL as predictions.

use sealtag::controller::{CoreError, ExportOptions, Session};
use sealtag::crypto::UnlockedIdentity;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, LabelChange, Role};
use sealtag::package::{self, PackageError};
use std::path::{Path, PathBuf};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);

/// The fixture JPEG with an EXIF segment (a fake GPS note) after SOI.
fn jpeg_with_exif() -> Vec<u8> {
    let jpeg = std::fs::read(IMAGE).unwrap();
    let payload = b"Exif\0\0GPS 48.8584N 2.2945E camera-serial-XYZ123";
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

struct Fx {
    dir: tempfile::TempDir,
    root: PathBuf,
    admin: UnlockedIdentity,
    items: Vec<i64>,
}

fn project() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p.sealtag");
    let admin = UnlockedIdentity::generate("Ada");
    let mut s = Session::create_project(&root, "Export", admin.clone()).unwrap();
    let opts = ImportOptions::default();
    let a = s
        .import_bytes("photos/café.jpg", jpeg_with_exif(), &opts)
        .unwrap();
    assert_eq!(a.outcome, "imported", "{:?}", a.errors);
    let b = s
        .import_bytes("b.jpg", std::fs::read(IMAGE).unwrap(), &opts)
        .unwrap();
    let items = vec![a.item_ids[0], b.item_ids[0]];
    let class = s.classes().unwrap()[0].id;
    for (i, item) in items.iter().enumerate() {
        s.apply_label(LabelChange::Create {
            item_id: *item,
            draft: AnnotationDraft::new(
                class,
                Geometry::BBox(BBox {
                    x: 10.5 + i as f64,
                    y: 20.25,
                    w: 30.0,
                    h: 40.0,
                }),
            ),
        })
        .unwrap();
    }
    // Only the first item is approved (through the review workflow).
    let ann = UnlockedIdentity::generate("Ann");
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.assign(&items, "Ann", "annotate").unwrap();
    drop(s);
    let mut a = Session::open(&root, ann, None).unwrap();
    a.submit(items[0]).unwrap();
    drop(a);
    let mut s = Session::open(&root, admin.clone(), None).unwrap();
    s.review(items[0], None, sealtag::controller::Decision::Approve)
        .unwrap();
    drop(s);
    Fx {
        dir,
        root,
        admin,
        items,
    }
}

fn options(format: &str) -> ExportOptions {
    ExportOptions {
        format: format.into(),
        ..ExportOptions::default()
    }
}

fn open(f: &Fx) -> Session {
    Session::open(&f.root, f.admin.clone(), None).unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_signed_export_folder_verifies_and_any_change_is_named() {
    let f = project();
    let out = f.dir.path().join("export");
    let mut s = open(&f);
    let mut o = options("jsonl");
    o.media = true;
    let report = s.export(&o, &out, &mut |_| true).unwrap();
    assert_eq!(report.delivery, "signed-folder");
    assert_eq!(report.items, 1, "approved only by default");
    let listed = files(&out);
    assert!(listed.contains(&"labels.jsonl".to_string()));
    assert!(
        listed
            .iter()
            .any(|p| p.starts_with("media/") && p.ends_with("café.jpg"))
    );
    let manifest = package::verify_export_dir(&out).unwrap();
    assert_eq!(manifest.sender, f.admin.public().fingerprint());
    assert_eq!(manifest.members.len(), 2);

    // The exported JPEG decodes and carries none of the EXIF bytes.
    let media = listed.iter().find(|p| p.starts_with("media/")).unwrap();
    let bytes = std::fs::read(out.join(media)).unwrap();
    assert!(image::load_from_memory(&bytes).is_ok());
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"));
    assert!(!bytes.windows(13).any(|w| w == b"camera-serial"));

    // One changed byte, one added file, one removed file: each named.
    let labels = out.join("labels.jsonl");
    let mut text = std::fs::read(&labels).unwrap();
    text[10] ^= 1;
    std::fs::write(&labels, &text).unwrap();
    assert!(matches!(
        package::verify_export_dir(&out),
        Err(PackageError::MemberHash { name }) if name == "labels.jsonl"
    ));
    text[10] ^= 1;
    std::fs::write(&labels, &text).unwrap();
    std::fs::write(out.join("extra.txt"), b"x").unwrap();
    assert!(
        package::verify_export_dir(&out)
            .unwrap_err()
            .to_string()
            .contains("extra.txt")
    );
    std::fs::remove_file(out.join("extra.txt")).unwrap();
    std::fs::remove_file(out.join(media)).unwrap();
    assert!(
        package::verify_export_dir(&out)
            .unwrap_err()
            .to_string()
            .contains("missing")
    );
    // An export never overwrites.
    assert!(matches!(
        s.export(&o, &out, &mut |_| true),
        Err(CoreError::Invalid(m)) if m.contains("exists")
    ));
}

#[test]
fn sealed_unsigned_and_refused_exports() {
    let f = project();
    let mut s = open(&f);
    // Sealed to a recipient who is not a member (by public key).
    let consumer = UnlockedIdentity::generate("Consumer");
    let sealed = f.dir.path().join("dataset.sealpkg");
    let mut o = options("csv");
    o.all_statuses = true;
    o.to = vec![consumer.public().to_key_string()];
    let report = s.export(&o, &sealed, &mut |_| true).unwrap();
    assert_eq!(report.delivery, "sealed-package");
    assert_eq!(report.items, 2);
    let input = std::fs::File::open(&sealed).unwrap();
    let mut p = package::open_package(input, &consumer).unwrap();
    assert_eq!(p.manifest.kind, package::PackageKind::Export);
    let mut csv = Vec::new();
    p.next_member_to(&mut csv).unwrap().unwrap();
    p.verify_rest().unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("item_id,name,kind,status"));
    assert!(csv.contains("photos/café.jpg"));
    // The admin (not a recipient) cannot open it.
    assert!(package::open_package(std::fs::File::open(&sealed).unwrap(), &f.admin).is_err());

    // Unsigned only on request, and audited as such.
    let plain = f.dir.path().join("plain");
    let mut o = options("jsonl");
    o.unsigned = true;
    s.export(&o, &plain, &mut |_| true).unwrap();
    assert_eq!(files(&plain), vec!["labels.jsonl".to_string()]);
    let log = s.audit_log().unwrap();
    assert!(log.iter().any(|r| r.action == "export.unsigned"));
    assert_eq!(log.iter().filter(|r| r.action == "export").count(), 1);

    // Cancelled: nothing at the target, nothing half-written beside it.
    let cancelled = f.dir.path().join("cancelled");
    let mut o = options("jsonl");
    o.media = true;
    o.all_statuses = true;
    let err = s.export(&o, &cancelled, &mut |_| false);
    // Small exports may finish before the first progress report.
    if err.is_err() {
        assert!(matches!(err, Err(CoreError::Cancelled)));
        assert!(!cancelled.exists());
    }
    assert!(!std::fs::read_dir(f.dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }),);
    drop(s);

    // Annotators may not export.
    let ann = UnlockedIdentity::generate("Other");
    let mut admin = open(&f);
    admin
        .add_user(&ann.public().to_key_string(), Role::Annotator, "Other")
        .unwrap();
    drop(admin);
    let mut a = Session::open(&f.root, ann, None).unwrap();
    assert!(matches!(
        a.export(&options("jsonl"), &f.dir.path().join("no"), &mut |_| true),
        Err(CoreError::Denied(_))
    ));
}

#[test]
fn native_jsonl_round_trips_into_a_project_as_predictions() {
    let f = project();
    let out = f.dir.path().join("export");
    let mut s = open(&f);
    let mut o = options("jsonl");
    o.all_statuses = true;
    s.export(&o, &out, &mut |_| true).unwrap();
    let original: Vec<_> = f
        .items
        .iter()
        .map(|i| s.annotations(*i).unwrap()[0].geometry.clone())
        .collect();
    drop(s);

    // A second project with the same media, labelled by nobody yet.
    let root = f.dir.path().join("q.sealtag");
    let mut q = Session::create_project(&root, "Copy", f.admin.clone()).unwrap();
    let opts = ImportOptions::default();
    let a = q
        .import_bytes("elsewhere/café.jpg", jpeg_with_exif(), &opts)
        .unwrap()
        .item_ids[0];
    let b = q
        .import_bytes("b.jpg", std::fs::read(IMAGE).unwrap(), &opts)
        .unwrap()
        .item_ids[0];
    let bytes = std::fs::read(out.join("labels.jsonl")).unwrap();
    let report = q.import_prelabels(&bytes, "jsonl", "site-A").unwrap();
    assert_eq!(report.created, 2, "{:?}", report.errors);
    // The same file again adds nothing: every label is counted as already
    // imported from this source, and no item gets a second copy.
    let again = q.import_prelabels(&bytes, "jsonl", "site-A").unwrap();
    assert_eq!((again.created, again.already_imported), (0, 2));
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    for item in [a, b] {
        assert_eq!(q.annotations(item).unwrap().len(), 1);
    }
    for (item, want) in [a, b].iter().zip(&original) {
        let got = q.annotations(*item).unwrap();
        assert_eq!(&got[0].geometry, want);
        assert_eq!(got[0].source.as_deref(), Some("site-A"));
    }
    // Accepting makes it an ordinary label.
    let id = q.annotations(a).unwrap()[0].id;
    q.accept_predictions(&[id]).unwrap();
    assert_eq!(q.annotations(a).unwrap()[0].source, None);
    // A malformed line and an unknown class are reported by number.
    let bad = b"{oops\n{\"item\": {\"id\": 1, \"kind\": \"image\", \"name\": \"b.jpg\", \"width\": 1, \"height\": 1, \"duration_secs\": null, \"char_len\": null}, \"labels\": [{\"class\": \"no-such-class\", \"geometry\": {\"type\": \"tag\"}}]}\n";
    let report = q.import_prelabels(bad, "jsonl", "x").unwrap();
    assert_eq!(report.created, 0);
    let records: Vec<usize> = report.errors.iter().map(|e| e.record).collect();
    assert_eq!(records, vec![1, 2]);
    assert!(report.errors[1].message.contains("no-such-class"));
}

#[test]
fn a_watermarked_export_carries_the_recipients_fingerprint() {
    let f = project();
    let mut s = open(&f);
    let consumer = UnlockedIdentity::generate("Consumer");
    let mut o = options("csv");
    o.media = true;
    o.watermark = true;
    // A watermark needs to know whose copy it is.
    let refused = s.export(&o, &f.dir.path().join("x"), &mut |_| true);
    assert!(matches!(refused, Err(CoreError::Invalid(m)) if m.contains("--to")));
    o.to = vec![consumer.public().to_key_string()];
    let out = f.dir.path().join("marked.sealpkg");
    s.export(&o, &out, &mut |_| true).unwrap();
    let mut p = package::open_package(std::fs::File::open(&out).unwrap(), &consumer).unwrap();
    let mut media = Vec::new();
    let mut csv = Vec::new();
    p.next_member_to(&mut csv).unwrap().unwrap();
    let entry = p.next_member_to(&mut media).unwrap().unwrap();
    assert!(entry.name.starts_with("media/"));
    let marked = image::load_from_memory(&media).unwrap().to_rgb8();
    let original = image::load_from_memory(&jpeg_with_exif())
        .unwrap()
        .to_rgb8();
    let bits = sealtag::watermark::extract(&marked, &original).unwrap();
    assert_eq!(
        sealtag::watermark::fingerprint_of(&bits),
        consumer.public().fingerprint()
    );
    assert!(!media.windows(13).any(|w| w == b"camera-serial"));
}
