//! Work and results packages end to end through the core: three identities
//! (admin, two annotators) in their own homes, the laptop bundle holding
//! only what was assigned, results merged with revisions, conflicts kept,
//! and a tamper sweep at project level — every refusal names its check,
//! writes an audit event and leaves the bundle's content unchanged.

use sealtag::controller::{CoreError, Session, open_work_package};
use sealtag::crypto::UnlockedIdentity;
use sealtag::home::Home;
use sealtag::import::ImportOptions;
use sealtag::model::{AnnotationDraft, BBox, Geometry, ItemStatus, LabelChange, Role};
use sealtag::package::{self, BytesMember, NewPackage, PackageKind};
use std::path::PathBuf;

mod site;
use site::{audit_details, copy_dir, no_progress};

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/astronaut.jpg"
);
const TEXT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/contract.txt"
);

fn a_box(x: f64) -> Geometry {
    Geometry::BBox(BBox {
        x,
        y: 10.0,
        w: 50.0,
        h: 40.0,
    })
}

/// The shared site, plus Otto (a second annotator) and the items: an image
/// (pre-labelled) and a text assigned to Ann, another text assigned to Otto.
struct Site {
    base: site::Site,
    other: UnlockedIdentity,
    other_home: Home,
    image: i64,
    text: i64,
    spare: i64,
    prelabel: i64,
}

impl std::ops::Deref for Site {
    type Target = site::Site;
    fn deref(&self) -> &site::Site {
        &self.base
    }
}

fn site() -> Site {
    let base = site::Site::new();
    let other = UnlockedIdentity::generate("Otto Other");
    let mut s = base.admin();
    let opts = ImportOptions::default();
    let image = s
        .import_bytes("astronaut.jpg", std::fs::read(IMAGE).unwrap(), &opts)
        .unwrap()
        .item_ids[0];
    let text = s
        .import_bytes("contract.txt", std::fs::read(TEXT).unwrap(), &opts)
        .unwrap()
        .item_ids[0];
    let spare = s
        .import_bytes("second.txt", b"Another document entirely.".to_vec(), &opts)
        .unwrap()
        .item_ids[0];
    s.add_user(&other.public().to_key_string(), Role::Annotator, "Otto")
        .unwrap();
    s.set_project_setting("guidelines", "Box every person. Skip blurry images.")
        .unwrap();
    let class = s.classes().unwrap()[0].id;
    let prelabel = s
        .apply_label(LabelChange::Create {
            item_id: image,
            draft: AnnotationDraft::new(class, a_box(10.0)),
        })
        .unwrap()
        .annotation_id;
    s.assign(&[image, text], "Ann", "annotate").unwrap();
    s.assign(&[spare], "Otto", "annotate").unwrap();
    s.close().unwrap();
    Site {
        other_home: Home::new(base.path("otto-home")),
        base,
        other,
        image,
        text,
        spare,
        prelabel,
    }
}

impl Site {
    /// Makes Ann's work package and opens it on her "laptop".
    fn ann_laptop(&self) -> PathBuf {
        let work = self.work("ann-work.sealpkg", None);
        let opened = open_work_package(
            &work,
            &self.ann,
            &self.ann_home,
            None,
            sealtag::controller::FirstSigner::Expect(&self.admin.public().fingerprint()),
            &mut no_progress(),
        )
        .unwrap();
        assert!(opened.created);
        opened.bundle
    }
}

fn refusal(e: CoreError) -> String {
    match e {
        CoreError::PackageRefused { check, why } => format!("{check} check failed: {why}"),
        other => panic!("expected a package refusal, got {other:?}"),
    }
}

#[test]
fn work_goes_out_results_come_back_and_merge_with_revisions() {
    let site = site();
    let laptop = site.ann_laptop();

    // The laptop bundle holds Ann's two items, the pre-label, the schema and
    // the guidelines — and nothing else.
    let mut ann = Session::open(&laptop, site.ann.clone(), Some(&site.ann_home)).unwrap();
    assert_eq!(ann.role(), Role::Annotator);
    let ids: Vec<i64> = ann.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![site.image, site.text]);
    assert_eq!(
        ann.project_setting("guidelines").unwrap(),
        "Box every person. Skip blurry images."
    );
    let content = ann.load_item(site.text).unwrap();
    assert_eq!(&content.bytes[..], &std::fs::read(TEXT).unwrap()[..]);
    let pre = ann.annotations(site.image).unwrap();
    assert_eq!(pre.len(), 1, "the site's pre-label travelled");
    // The laptop may not make work packages (or exports).
    assert!(matches!(
        ann.plan_work_package("Ann"),
        Err(CoreError::Denied(_))
    ));
    assert!(!sealtag::permissions::allowed(
        Role::Annotator,
        sealtag::permissions::Action::Export
    ));

    // Label: move the pre-label, draw a new box, submit; skip the text.
    let class = ann.classes().unwrap()[0].id;
    ann.apply_label(LabelChange::Update {
        annotation_id: pre[0].id,
        draft: AnnotationDraft::new(class, a_box(20.0)),
    })
    .unwrap();
    ann.apply_label(LabelChange::Create {
        item_id: site.image,
        draft: AnnotationDraft::new(class, a_box(100.0)),
    })
    .unwrap();
    ann.skip(site.text, "unreadable scan").unwrap();
    let results = site.path("r1.sealpkg");
    let made = ann
        .make_results_package(&results, false, &mut no_progress())
        .unwrap();
    assert_eq!(made.items, 2);
    assert!(ann.verify_audit().unwrap().ok());
    ann.close().unwrap();

    // At the site: verified and merged.
    let mut admin = site.admin();
    let report = admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    assert_eq!(report.items_merged, vec![site.image, site.text]);
    assert_eq!(report.labels_created, 1);
    assert_eq!(report.revisions_added, 2);
    assert!(report.conflicts.is_empty());
    let labels = admin.annotations(site.image).unwrap();
    assert_eq!(labels.len(), 2);
    let moved = labels.iter().find(|a| a.id == site.prelabel).unwrap();
    assert_eq!(moved.geometry, a_box(20.0));
    assert_eq!(moved.revision, 2, "the pre-label's revision history grew");
    assert!(labels.iter().any(|a| a.geometry == a_box(100.0)));
    let items = admin.items().unwrap();
    let status = |id: i64| items.iter().find(|i| i.id == id).unwrap().status;
    assert_eq!(status(site.image), ItemStatus::InProgress);
    assert_eq!(status(site.text), ItemStatus::Skipped);
    assert!(admin.verify_audit().unwrap().ok());
    assert_eq!(audit_details(&mut admin, "package.merge").len(), 1);

    // Later: only what changed travels, and the audit segment continues.
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let new_box = ann.annotations(site.image).unwrap()[1].id;
    ann.apply_label(LabelChange::Delete {
        annotation_id: new_box,
    })
    .unwrap();
    ann.submit(site.image).unwrap();
    let r2 = site.path("r2.sealpkg");
    let made = ann
        .make_results_package(&r2, false, &mut no_progress())
        .unwrap();
    assert_eq!(made.items, 1, "only the changed item");
    assert!(made.sequence > 1);
    ann.close().unwrap();
    let report = admin.open_results_package(&r2, &mut no_progress()).unwrap();
    assert_eq!(report.items_merged, vec![site.image]);
    assert_eq!(report.revisions_added, 1);
    assert_eq!(admin.annotations(site.image).unwrap().len(), 1);
    let submitted = admin.items().unwrap();
    assert_eq!(
        submitted
            .iter()
            .find(|i| i.id == site.image)
            .unwrap()
            .status,
        ItemStatus::Submitted
    );

    // Replaying the first package is refused by name, changing nothing.
    let before = admin.content_digest().unwrap();
    let err = refusal(
        admin
            .open_results_package(&results, &mut no_progress())
            .unwrap_err(),
    );
    assert!(err.starts_with("replay check failed"), "{err}");
    assert_eq!(admin.content_digest().unwrap(), before);
    assert_eq!(audit_details(&mut admin, "package.rejected").len(), 1);
    assert!(admin.verify_audit().unwrap().ok());
    admin.close().unwrap();
}

#[test]
fn a_second_annotator_cannot_open_the_first_ones_work_and_gets_only_their_own() {
    let site = site();
    let work = site.path("ann-work.sealpkg");
    site.admin()
        .make_work_package("Ann", &work, &mut no_progress())
        .unwrap();
    let err = open_work_package(
        &work,
        &site.other,
        &site.other_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(refusal(err).starts_with("decryption check failed"));
    // The refusal is recorded in the next project Otto opens.
    let otto_work = site.path("otto-work.sealpkg");
    site.admin()
        .make_work_package("Otto", &otto_work, &mut no_progress())
        .unwrap();
    let opened = open_work_package(
        &otto_work,
        &site.other,
        &site.other_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut no_progress(),
    )
    .unwrap();
    let mut otto =
        Session::open(&opened.bundle, site.other.clone(), Some(&site.other_home)).unwrap();
    let ids: Vec<i64> = otto.items().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![site.spare]);
    assert_eq!(otto.annotations(site.spare).unwrap().len(), 0);
    // Every file in Otto's bundle: nothing of Ann's contract in the clear
    // or otherwise (the item is simply not there).
    assert!(
        otto.load_item(site.text).is_err(),
        "an item never sent cannot be opened"
    );
    let log = otto.audit_log();
    // Annotators may not read the audit trail; the admin-side check below
    // covers the recorded refusal instead.
    assert!(log.is_err());
    drop(otto);
    let pending = Home::new(site.other_home.dir.clone()).pending_failed_unlocks();
    assert!(
        pending.is_empty(),
        "the refusal was written at the next open"
    );
}

#[test]
fn a_label_changed_at_the_site_meanwhile_is_a_conflict_not_an_overwrite() {
    let site = site();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let pre = ann.annotations(site.image).unwrap()[0].clone();
    let class = pre.class_id;
    ann.apply_label(LabelChange::Update {
        annotation_id: pre.id,
        draft: AnnotationDraft::new(class, a_box(30.0)),
    })
    .unwrap();
    ann.submit(site.text).unwrap();
    let results = site.path("r.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    drop(ann);

    let mut admin = site.admin();
    admin
        .apply_label(LabelChange::Update {
            annotation_id: site.prelabel,
            draft: AnnotationDraft::new(class, a_box(55.0)),
        })
        .unwrap();
    let report = admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    assert_eq!(report.items_merged, vec![site.text]);
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.conflicts[0].0, site.image);
    assert!(report.conflicts[0].1.contains("changed at the site"));
    let kept = admin.annotations(site.image).unwrap();
    assert_eq!(kept[0].geometry, a_box(55.0), "the site's edit stands");
}

/// The container bytes inside the age layer: magic, manifest, signature,
/// members. Test-only surgery for the swapped-members case.
fn plaintext(sealed: &[u8], me: &UnlockedIdentity) -> Vec<u8> {
    use std::io::Read;
    let d = age::Decryptor::new(sealed).unwrap();
    let mut r = d
        .decrypt(std::iter::once(me.age_identity() as &dyn age::Identity))
        .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

fn manifest_end(plain: &[u8]) -> usize {
    let len = u32::from_be_bytes(plain[8..12].try_into().unwrap()) as usize;
    12 + len + 64
}

#[test]
fn tamper_sweep_every_refusal_is_named_audited_and_changes_nothing() {
    let site = site();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "x").unwrap();
    let good = site.path("good.sealpkg");
    ann.make_results_package(&good, false, &mut no_progress())
        .unwrap();
    ann.skip(site.image, "y").unwrap();
    let later = site.path("later.sealpkg");
    ann.make_results_package(&later, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let sealed = std::fs::read(&good).unwrap();

    let mut admin = site.admin();
    let before = admin.content_digest().unwrap();
    let bad = site.path("bad.sealpkg");
    let try_bytes = |admin: &mut Session, bytes: &[u8]| -> String {
        std::fs::write(&bad, bytes).unwrap();
        refusal(
            admin
                .open_results_package(&bad, &mut no_progress())
                .expect_err("a tampered package must be refused"),
        )
    };
    let mut refusals = 0;
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 0x01;
        let why = try_bytes(&mut admin, &t);
        assert!(why.contains("check failed"), "byte {i}: {why}");
        refusals += 1;
    }
    for len in (0..sealed.len()).step_by(97) {
        let why = try_bytes(&mut admin, &sealed[..len]);
        assert!(why.contains("check failed"), "truncated to {len}: {why}");
        refusals += 1;
    }

    // Members swapped between two genuine packages, re-sealed to the admin:
    // the manifest's signature holds, the member hashes do not.
    let (a, b) = (
        plaintext(&sealed, &site.admin),
        plaintext(&std::fs::read(&later).unwrap(), &site.admin),
    );
    let mut swapped = a[..manifest_end(&a)].to_vec();
    swapped.extend_from_slice(&b[manifest_end(&b)..]);
    let resealed = age::encrypt(&site.admin.public().recipient, &swapped).unwrap();
    let why = try_bytes(&mut admin, &resealed);
    assert!(
        why.starts_with("member hash check failed") || why.starts_with("format check failed"),
        "{why}"
    );
    refusals += 1;

    // Signed by a key that is not enrolled.
    let stranger = UnlockedIdentity::generate("Mallory");
    let forged = |signer: &UnlockedIdentity, to: &UnlockedIdentity, project: &str| {
        let member = BytesMember {
            name: "results.json".into(),
            bytes: b"{}",
        };
        let mut out = Vec::new();
        package::write_package(
            &mut out,
            signer,
            &[to.public()],
            &NewPackage {
                kind: PackageKind::Results,
                project_id: project,
                sequence: 99,
                package_id: None,
            },
            &[&member],
            &mut no_progress(),
        )
        .unwrap();
        out
    };
    let pid = admin.project_id().to_string();
    let why = try_bytes(&mut admin, &forged(&stranger, &site.admin, &pid));
    assert!(why.starts_with("signer check failed"), "{why}");
    // Sealed to someone else (the other annotator), by the real annotator.
    let why = try_bytes(&mut admin, &forged(&site.ann, &site.other, &pid));
    assert!(why.starts_with("decryption check failed"), "{why}");
    // For another project.
    let why = try_bytes(&mut admin, &forged(&site.ann, &site.admin, &"f".repeat(32)));
    assert!(why.starts_with("project check failed"), "{why}");
    refusals += 3;

    assert_eq!(admin.content_digest().unwrap(), before, "nothing changed");
    let rejected = audit_details(&mut admin, "package.rejected");
    assert_eq!(rejected.len(), refusals);
    // Each audit row names the check, typed, not only inside the sentence.
    for details in &rejected {
        let row: serde_json::Value = serde_json::from_str(details).unwrap();
        let check = row["check"].as_str().unwrap_or_else(|| panic!("{row}"));
        assert!(
            row["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("{check} check failed")),
            "{row}"
        );
    }
    assert!(admin.verify_audit().unwrap().ok());

    // The genuine package still applies; then its replay is refused.
    admin
        .open_results_package(&good, &mut no_progress())
        .unwrap();
    let after_merge = admin.content_digest().unwrap();
    let why = refusal(
        admin
            .open_results_package(&good, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("replay check failed"), "{why}");
    assert_eq!(admin.content_digest().unwrap(), after_merge);
}

#[test]
fn an_older_sequence_and_a_gap_in_the_audit_segment_are_refused() {
    let site = site();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "x").unwrap();
    let (r1, r2) = (site.path("r1.sealpkg"), site.path("r2.sealpkg"));
    ann.make_results_package(&r1, false, &mut no_progress())
        .unwrap();
    ann.skip(site.image, "y").unwrap();
    ann.make_results_package(&r2, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let mut admin = site.admin();
    let before = admin.content_digest().unwrap();
    // r2 first: its audit segment does not start where the site's copy of
    // the chain ends (r1 is missing).
    let why = refusal(
        admin
            .open_results_package(&r2, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("audit segment check failed"), "{why}");
    assert_eq!(admin.content_digest().unwrap(), before);
    admin.open_results_package(&r1, &mut no_progress()).unwrap();
    admin.open_results_package(&r2, &mut no_progress()).unwrap();
    // A full package made now repeats old rows: the older-sequence rule
    // does not apply (it is newer), and the segment check accepts it only
    // if it continues the chain — a full one starts at row 1.
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let full = site.path("full.sealpkg");
    ann.make_results_package(&full, true, &mut no_progress())
        .unwrap();
    drop(ann);
    let why = refusal(
        admin
            .open_results_package(&full, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("audit segment check failed"), "{why}");
    // Re-applying r1 (older sequence, already applied) is a replay.
    let why = refusal(
        admin
            .open_results_package(&r1, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("replay check failed"), "{why}");
}

#[test]
fn a_cancelled_package_leaves_no_file_and_is_recorded() {
    let site = site();
    let out = site.path("cancelled.sealpkg");
    let mut admin = site.admin();
    let err = admin
        .make_work_package("Ann", &out, &mut |_| false)
        .unwrap_err();
    assert!(matches!(err, CoreError::Cancelled), "{err:?}");
    let leftovers: Vec<_> = std::fs::read_dir(site.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("sealpkg"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(audit_details(&mut admin, "package.cancelled").len(), 1);
    // The next package still gets a fresh, higher sequence.
    let made = admin
        .make_work_package("Ann", &out, &mut no_progress())
        .unwrap();
    assert_eq!(made.sequence, 2);
}

#[test]
fn a_work_package_signed_by_someone_else_than_expected_is_refused() {
    let site = site();
    let work = site.path("w.sealpkg");
    site.admin()
        .make_work_package("Ann", &work, &mut no_progress())
        .unwrap();
    let err = open_work_package(
        &work,
        &site.ann,
        &site.ann_home,
        None,
        sealtag::controller::FirstSigner::Expect("0000 0000 0000 0000 0000"),
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(refusal(err).starts_with("signer check failed"));
    assert!(
        std::fs::read_dir(site.ann_home.projects_dir())
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "no bundle, no partial directory"
    );
    // Opened properly once, the same package again is a replay.
    open_work_package(
        &work,
        &site.ann,
        &site.ann_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut no_progress(),
    )
    .unwrap();
    let err = open_work_package(
        &work,
        &site.ann,
        &site.ann_home,
        None,
        sealtag::controller::FirstSigner::TrustFirstUse,
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(refusal(err).starts_with("replay check failed"));
}

/// Photos leave the site without their metadata: the fixture's EXIF (GPS,
/// camera serial, owner, thumbnail), XMP, IPTC and comment are gone from
/// the annotator's copy, which still decodes to the same size.
#[test]
fn work_package_images_carry_no_metadata() {
    const EXIF_PHOTO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/coffee_exif_gps.jpg"
    );
    let site = site();
    let original = std::fs::read(EXIF_PHOTO).unwrap();
    let leaks: [&[u8]; 5] = [
        b"ExampleCam",
        b"SN-0042-1337",
        b"jane.q.example",
        b"Exif\0\0",
        b"Photoshop 3.0",
    ];
    for leak in leaks {
        assert!(
            original.windows(leak.len()).any(|w| w == leak),
            "fixture lacks {leak:?}"
        );
    }
    let photo = {
        let mut admin = site.admin();
        let id = admin
            .import_bytes("coffee.jpg", original.clone(), &ImportOptions::default())
            .unwrap()
            .item_ids[0];
        admin.assign(&[id], "Ann", "annotate").unwrap();
        id
    };
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let copy = ann.load_item(photo).unwrap();
    for leak in leaks {
        assert!(
            !copy.bytes.windows(leak.len()).any(|w| w == leak),
            "{} survived",
            String::from_utf8_lossy(leak)
        );
    }
    let (a, b) = (
        image::load_from_memory(&original).unwrap(),
        image::load_from_memory(&copy.bytes).unwrap(),
    );
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    assert_eq!(a.to_rgb8(), b.to_rgb8(), "pixels untouched");
}

/// With `package_names = opaque`, item names that could reveal a person or
/// place stay at the site: the laptop sees ids and extensions only.
#[test]
fn opaque_names_keep_file_names_at_the_site() {
    let site = site();
    site.admin()
        .set_project_setting("package_names", "opaque")
        .unwrap();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let names: Vec<String> = ann.items().unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(
        names,
        vec![
            format!("item-{:06}.jpg", site.image),
            format!("item-{:06}.txt", site.text)
        ]
    );
    assert!(
        site.admin()
            .set_project_setting("package_names", "secret")
            .is_err()
    );
}

/// With `mask_pii = auto`, texts leave the site with detected PII masked,
/// same length in characters; a span labelled on the masked text lands on
/// the same characters of the original, with byte offsets of the original.
#[test]
fn masked_text_goes_out_and_labels_map_back_exactly() {
    let site = site();
    let original = "Café: write to jane.doe@example.com, ☎ +44 20 7946 0958. Thanks!";
    let item = {
        let mut admin = site.admin();
        admin.set_project_setting("mask_pii", "auto").unwrap();
        let id = admin
            .import_bytes(
                "note.txt",
                original.as_bytes().to_vec(),
                &ImportOptions::default(),
            )
            .unwrap()
            .item_ids[0];
        admin.assign(&[id], "Ann", "annotate").unwrap();
        id
    };
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let seen = String::from_utf8(ann.load_item(item).unwrap().bytes.to_vec()).unwrap();
    assert!(
        !seen.contains("jane.doe") && !seen.contains("7946"),
        "{seen}"
    );
    assert_eq!(seen.chars().count(), original.chars().count());
    assert!(seen.starts_with("Café: write to █"));
    // Label the masked e-mail as a person span (chars 15..35).
    let class = ann.classes().unwrap()[0].id;
    ann.apply_label(LabelChange::Create {
        item_id: item,
        draft: AnnotationDraft::new(
            class,
            Geometry::Span {
                start: 15,
                end: 35,
                byte_start: 0,
                byte_end: 0,
            },
        ),
    })
    .unwrap();
    let results = site.path("masked-results.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    drop(ann);
    let mut admin = site.admin();
    admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    let labels = admin.annotations(item).unwrap();
    let Geometry::Span {
        start,
        end,
        byte_start,
        byte_end,
    } = labels[0].geometry
    else {
        panic!("not a span: {:?}", labels[0].geometry);
    };
    assert_eq!((start, end), (15, 35));
    // "Café" has a 2-byte é: the original's bytes are one ahead of chars.
    assert_eq!((byte_start, byte_end), (16, 36));
    assert_eq!(
        &original[byte_start as usize..byte_end as usize],
        "jane.doe@example.com"
    );
}

/// Labels of a mask class (here: faces) become filled regions in the
/// annotator's copy of the image; everything else is unchanged, and the
/// site keeps the original.
#[test]
fn mask_class_regions_are_filled_in_the_annotators_image() {
    const FACE_PHOTO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/camera_gray.png"
    );
    let site = site();
    let original = std::fs::read(FACE_PHOTO).unwrap();
    let item = {
        let mut admin = site.admin();
        let id = admin
            .import_bytes("camera.png", original.clone(), &ImportOptions::default())
            .unwrap()
            .item_ids[0];
        let face = admin
            .classes()
            .unwrap()
            .into_iter()
            .find(|c| c.name == "face")
            .unwrap()
            .id;
        // The fixture's face box (fixtures README: [160, 65, 105, 135]).
        admin
            .apply_label(LabelChange::Create {
                item_id: id,
                draft: AnnotationDraft::new(
                    face,
                    Geometry::BBox(BBox {
                        x: 160.0,
                        y: 65.0,
                        w: 105.0,
                        h: 135.0,
                    }),
                ),
            })
            .unwrap();
        admin.set_project_setting("mask_classes", "face").unwrap();
        admin.assign(&[id], "Ann", "annotate").unwrap();
        id
    };
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    let seen = image::load_from_memory(&ann.load_item(item).unwrap().bytes)
        .unwrap()
        .to_rgb8();
    let base = image::load_from_memory(&original).unwrap().to_rgb8();
    assert_eq!(seen.dimensions(), base.dimensions());
    let mut changed_outside = 0;
    for (x, y, p) in seen.enumerate_pixels() {
        let inside = (160..265).contains(&x) && (65..200).contains(&y);
        if inside {
            assert_eq!(p.0, [128, 128, 128], "face pixel {x},{y} not masked");
        } else if p != base.get_pixel(x, y) {
            changed_outside += 1;
        }
    }
    assert_eq!(changed_outside, 0);
    // The site still holds the original.
    let mut admin = site.admin();
    assert_eq!(&admin.load_item(item).unwrap().bytes[..], &original[..]);
}

#[test]
fn a_site_restored_from_an_older_copy_is_caught_by_the_laptop_it_sent_work_to() {
    let site = site();
    // The copy an insider (or a careless restore) puts back later: the
    // site's trail before the work package went out.
    let backup = site.path("site-backup");
    copy_dir(&site.root, &backup);
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "unreadable").unwrap();
    let results = site.path("r1.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    ann.close().unwrap();

    // The site's bundle rolled back: its own trail is intact and verifies.
    std::fs::remove_dir_all(&site.root).unwrap();
    copy_dir(&backup, &site.root);
    let mut admin = site.admin();
    assert!(admin.verify_audit().unwrap().ok());
    let before = admin.content_digest().unwrap();
    let why = refusal(
        admin
            .open_results_package(&results, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("rollback check failed"), "{why}");
    assert_eq!(admin.content_digest().unwrap(), before);
    let rejected = audit_details(&mut admin, "package.rejected");
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].contains("rollback"), "{}", rejected[0]);
}

#[test]
fn the_site_accepts_results_that_saw_its_current_trail() {
    let site = site();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "unreadable").unwrap();
    let results = site.path("r1.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    ann.close().unwrap();
    let mut admin = site.admin();
    admin
        .open_results_package(&results, &mut no_progress())
        .unwrap();
}

/// The last row of the site's trail.
fn site_tip(site: &Site) -> i64 {
    let project = sealtag::project::Project::open(&site.root, &site.admin).unwrap();
    sealtag::store::audit_tip(project.store.conn())
        .unwrap()
        .unwrap()
        .0
}

/// What an insider with the database key does: drops the append-only
/// triggers and cuts the site's trail, and the heads over it, after `cut`.
fn cut_site_trail(site: &Site, cut: i64) {
    let project = sealtag::project::Project::open(&site.root, &site.admin).unwrap();
    project
        .store
        .raw_connection()
        .execute_batch(&format!(
            "DROP TRIGGER audit_no_delete; DROP TRIGGER IF EXISTS audit_heads_no_delete;
             DELETE FROM audit WHERE seq > {cut}; DELETE FROM audit_heads WHERE seq > {cut};"
        ))
        .unwrap();
}

#[test]
fn a_site_trail_cut_back_after_work_went_out_is_caught_when_results_return() {
    let site = site();
    let tip = || site_tip(&site);
    let cut = tip();
    let laptop = site.ann_laptop();
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "unreadable").unwrap();
    let results = site.path("r1.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    ann.close().unwrap();

    // An insider with the database key cuts the site's trail back to
    // before the work package (and the heads that covered it): what is
    // left is a valid chain under valid heads.
    assert!(tip() > cut);
    cut_site_trail(&site, cut);
    let mut admin = site.admin();
    assert!(admin.verify_audit().unwrap().ok(), "the cut trail verifies");
    let why = refusal(
        admin
            .open_results_package(&results, &mut no_progress())
            .unwrap_err(),
    );
    assert!(why.starts_with("rollback check failed"), "{why}");
    assert_eq!(audit_details(&mut admin, "package.rejected").len(), 1);
}

#[test]
fn a_laptop_refuses_work_from_a_site_whose_trail_went_back() {
    let site = site();
    let tip = || site_tip(&site);
    let laptop = site.ann_laptop();
    let cut = tip();
    // The site works on (its trail grows), and the laptop sees that trail
    // in the next work package.
    let mut admin = site.admin();
    for _ in 0..15 {
        admin.load_item(site.spare).unwrap();
    }
    admin.close().unwrap();
    let work = site.work("w2.sealpkg", None);
    site.open_work(&work).unwrap();
    // An insider cuts the site's trail back to before all that; the next
    // work package shows a head behind the one the laptop saw.
    cut_site_trail(&site, cut);
    let work = site.work("w3.sealpkg", None);
    let why = refusal(site.open_work(&work).unwrap_err());
    assert!(why.starts_with("rollback check failed"), "{why}");
    // Noted in the home, written to the laptop's trail at its next unlock.
    drop(Session::open(&laptop, site.ann.clone(), Some(&site.ann_home)).unwrap());
    let project = sealtag::project::Project::open(&laptop, &site.ann).unwrap();
    let rows = sealtag::store::audit_rows(project.store.conn()).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "package.rejected" && r.details.contains("rollback")),
        "{rows:?}"
    );
}

#[test]
fn a_laptop_restored_from_an_older_copy_is_caught_by_the_sites_next_work() {
    let site = site();
    let laptop = site.ann_laptop();
    let backup = site.path("laptop-backup");
    copy_dir(&laptop, &backup);
    // Ann works and her trail reaches the site.
    let mut ann = Session::open(&laptop, site.ann.clone(), None).unwrap();
    ann.skip(site.text, "unreadable").unwrap();
    let results = site.path("r1.sealpkg");
    ann.make_results_package(&results, false, &mut no_progress())
        .unwrap();
    ann.close().unwrap();
    site.admin()
        .open_results_package(&results, &mut no_progress())
        .unwrap();
    // The laptop bundle is put back from the copy: intact on its own.
    std::fs::remove_dir_all(&laptop).unwrap();
    copy_dir(&backup, &laptop);
    let work = site.work("w2.sealpkg", None);
    let why = refusal(site.open_work(&work).unwrap_err());
    assert!(why.starts_with("rollback check failed"), "{why}");
    assert!(why.contains("restored from an older copy"), "{why}");
}

/// A package whose manifest names a crafted project id: a multi-byte
/// character at byte 8 made `get(..8).unwrap_or(whole)` return the whole
/// id, and its `/../` then steered the default bundle path out of the
/// projects directory. The signer is an outsider the work document lists
/// as a site admin (trust on first use, no `--signer` given), so only the
/// id check stands between the crafted path and the disk.
#[test]
fn a_crafted_project_id_never_becomes_a_path() {
    let site = site();
    let work = site.path("w.sealpkg");
    site.admin()
        .make_work_package("Ann", &work, &mut no_progress())
        .unwrap();
    // Take the real members apart with Ann's key...
    let sealed = std::fs::read(&work).unwrap();
    let mut opened = package::open_package(sealed.as_slice(), &site.ann).unwrap();
    let mut members = Vec::new();
    while let Some(m) = opened.next_member_bytes(1 << 30) {
        let (entry, bytes) = m.unwrap();
        members.push((entry.name, bytes));
    }
    // ...list the attacker as a site admin and re-sign under a crafted id.
    let attacker = UnlockedIdentity::generate("Mallory");
    let mut doc: serde_json::Value = serde_json::from_slice(&members[0].1).unwrap();
    let mut me = doc["site"][0].clone();
    me["fingerprint"] = attacker.public().fingerprint().into();
    me["public_key"] = attacker.public().to_key_string().into();
    doc["site"].as_array_mut().unwrap().push(me);
    members[0].1 = serde_json::to_vec(&doc).unwrap();
    let sources: Vec<BytesMember> = members
        .iter()
        .map(|(name, bytes)| BytesMember {
            name: name.clone(),
            bytes,
        })
        .collect();
    let refs: Vec<&dyn package::MemberSource> = sources
        .iter()
        .map(|m| m as &dyn package::MemberSource)
        .collect();
    for crafted in [
        "aaaaaaa\u{20ac}/../../../escaped",
        "/tmp/sealtag-escaped-absolute",
        "../../../../../escaped-dots",
    ] {
        let mut out = Vec::new();
        let new = NewPackage {
            kind: PackageKind::Work,
            project_id: crafted,
            sequence: 1,
            package_id: None,
        };
        package::write_package(
            &mut out,
            &attacker,
            &[site.ann.public()],
            &new,
            &refs,
            &mut |_| true,
        )
        .unwrap();
        let evil = site.path("evil.sealpkg");
        std::fs::write(&evil, &out).unwrap();
        let err = open_work_package(
            &evil,
            &site.ann,
            &site.ann_home,
            None,
            sealtag::controller::FirstSigner::TrustFirstUse,
            &mut no_progress(),
        )
        .unwrap_err();
        let text = refusal(err);
        assert!(
            text.starts_with("format check failed: the project id"),
            "{text}"
        );
        assert!(text.contains("not a Sealtag id"), "{text}");
    }
    assert!(!site.path("escaped.sealtag").exists());
    assert!(!std::path::Path::new("/tmp/sealtag-escaped-absolute").exists());
    assert!(
        std::fs::read_dir(site.ann_home.projects_dir())
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "no bundle anywhere"
    );
}
