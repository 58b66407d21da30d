//! What leaves the site reveals nothing that was masked (issue 16), each
//! finding tried as the attack it was:
//!
//! - a work package carries no hash of an original (a short text's hash
//!   confirms a guessed phone number): every byte of the decrypted package
//!   is searched for every original's SHA-256;
//! - record fields travel only when allow-listed, masked like the text;
//! - the audit trail holds no content hash, only a keyed value that dies
//!   with the item, and a file imported twice is still recognised;
//! - `package inspect` shows the recipient exactly what travelled.

use sealtag::controller::{GovernanceChange, Session, inspect_package, open_work_package};
use sealtag::crypto::sha256_hex;
use sealtag::import::ImportOptions;
use sealtag::package;
use std::path::{Path, PathBuf};

mod site;
use site::{Site, no_progress};

/// Support chats with the fields a CRM export carries. The phone numbers
/// are in international form so that the detector's default region does not
/// matter here (tests/pii.rs covers national forms).
const RECORDS: &str = concat!(
    r#"{"id":"rec-8812-xq","text":"Hi, call me back on +44 20 7946 0958 please.","customer_name":"Jane Q. Example","customer_email":"jane.q@example.com","lang":"en","channel":"chat","note":"callback +44 7700 900123"}"#,
    "\n",
    r#"{"id":"rec-8813-xq","text":"Where is my parcel?","customer_name":"Oskar Beispiel","customer_email":"oskar.beispiel@example.de","lang":"de","channel":"email","note":"none","score":4}"#,
    "\n",
);

/// Strings that must not leave the site in any byte of a work package.
const SECRETS: &[&str] = &[
    "Jane Q. Example",
    "jane.q@example.com",
    "Oskar Beispiel",
    "oskar.beispiel@example.de",
    "customer_name",
    "customer_email",
    "rec-8812-xq",
    "7946 0958",
    "7700 900123",
];

trait Minimisation {
    fn package(&self, settings: &[(&str, &str)]) -> PathBuf;
    fn plaintext(&self, file: &Path) -> Vec<u8>;
}

impl Minimisation for Site {
    /// Imports the records and a photo, assigns everything to Ann and
    /// seals her work package.
    fn package(&self, settings: &[(&str, &str)]) -> PathBuf {
        let mut s = self.admin();
        for (k, v) in settings {
            s.set_project_setting(k, v).unwrap();
        }
        let mut ids = s
            .import_bytes(
                "chats.jsonl",
                RECORDS.as_bytes().to_vec(),
                &ImportOptions::default(),
            )
            .unwrap()
            .item_ids;
        let photo = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/import/coffee_exif_gps.jpg"
        ))
        .unwrap();
        ids.extend(
            s.import_bytes("coffee.jpg", photo, &ImportOptions::default())
                .unwrap()
                .item_ids,
        );
        s.assign(&ids, "Ann", "annotate").unwrap();
        let out = self.dir.path().join("ann.sealpkg");
        s.make_work_package("Ann", &out, &mut no_progress())
            .unwrap();
        out
    }

    /// Every byte the package holds, decrypted as its recipient.
    fn plaintext(&self, file: &Path) -> Vec<u8> {
        let input = std::fs::File::open(file).unwrap();
        let mut opened = package::open_package(std::io::BufReader::new(input), &self.ann).unwrap();
        let mut all = serde_json::to_vec(&opened.manifest).unwrap();
        while let Some(member) = opened.next_member_to(&mut all) {
            member.unwrap();
        }
        all
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The attack of finding 1 and 2: decrypt the annotator's package and look
/// for the originals' hashes and for every field the admin did not allow.
#[test]
fn a_work_package_carries_no_original_hash_and_only_allow_listed_fields_masked() {
    let site = Site::new();
    let file = site.package(&[
        ("mask_pii", "auto"),
        ("package_fields", "lang, channel,note,score"),
        // A record's name holds its id (`chats.jsonl#rec-8812-xq`).
        ("package_names", "opaque"),
    ]);
    let plain = site.plaintext(&file);
    let originals = site.admin().items().unwrap();
    assert_eq!(originals.len(), 3);
    let seen = inspect_package(&file, &site.ann, &site.ann_home).unwrap();
    let work = seen.work.as_ref().expect("a work package");
    // The masked chat and the stripped photo: their originals' hashes are
    // nowhere. The chat with nothing to mask is sent byte for byte, so its
    // copy's hash (the manifest's, for integrity) is necessarily the
    // original's: it confirms only what the package already holds in full.
    let (masked, photo, clean) = (&originals[0], &originals[2], &originals[1]);
    for item in [masked, photo] {
        assert!(
            !contains(&plain, &item.sha256),
            "item {}'s original hash travels",
            item.id
        );
    }
    assert_eq!(work.items[1].media_sha256.as_ref(), Some(&clean.sha256));
    assert!(contains(&plain, "Where is my parcel?"));
    // The hash of the bare record text (what an attacker would guess).
    assert!(!contains(
        &plain,
        &sha256_hex(b"Hi, call me back on +44 20 7946 0958 please.")
    ));
    for secret in SECRETS {
        assert!(!contains(&plain, secret), "{secret:?} left the site");
    }

    // What the recipient sees when inspecting: the allow-listed fields,
    // masked; a photo with its metadata stripped; each media member's hash.
    assert_eq!(work.items.len(), 3);
    let first = &work.items[0];
    assert_eq!(
        first.fields.keys().collect::<Vec<_>>(),
        ["channel", "lang", "note"]
    );
    assert_eq!(first.fields["lang"], "en");
    assert_eq!(first.fields["channel"], "chat");
    let note = first.fields["note"].as_str().unwrap();
    assert!(
        note.starts_with("callback ") && !note.contains("900123"),
        "{note}"
    );
    assert_eq!(work.items[1].fields["score"], 4);
    assert!(first.item.privacy.auto_pii);
    let photo = &work.items[2];
    assert!(photo.fields.is_empty());
    assert!(photo.item.privacy.metadata_stripped);

    // On the laptop, an item's hash is its copy's, as inspected.
    let opened = open_work_package(
        &file,
        &site.ann,
        &site.ann_home,
        None,
        sealtag::controller::FirstSigner::Expect(&site.admin.public().fingerprint()),
        &mut no_progress(),
    )
    .unwrap();
    let mut laptop = Session::open(&opened.bundle, site.ann.clone(), None).unwrap();
    for (item, inspected) in laptop.items().unwrap().iter().zip(&work.items) {
        assert_eq!(item.id, inspected.item.id);
        assert_eq!(Some(&item.sha256), inspected.media_sha256.as_ref());
        let copy = laptop.load_item(item.id).unwrap();
        assert_eq!(sha256_hex(&copy.bytes), item.sha256);
    }
}

/// Without an allow-list no record field travels, whatever the records
/// hold; an unknown field name in the list is simply absent.
#[test]
fn no_record_field_travels_unless_allow_listed() {
    let site = Site::new();
    let file = site.package(&[]);
    let plain = site.plaintext(&file);
    for field in ["lang", "channel", "note", "source_id"] {
        assert!(
            !contains(&plain, &format!("\"{field}\"")),
            "field {field} travelled without being allow-listed"
        );
    }
    let seen = inspect_package(&file, &site.ann, &site.ann_home).unwrap();
    assert!(
        seen.work
            .unwrap()
            .items
            .iter()
            .all(|i| i.fields.is_empty() && i.item.metadata == "{}")
    );
    let mut admin = site.admin();
    for bad in ["a b", "x,y;z", &"f".repeat(65)] {
        assert!(admin.set_project_setting("package_fields", bad).is_err());
    }
}

/// The attack of finding 1 on the audit trail: no row holds a content hash
/// of an item, before or after it is erased; a file imported twice is
/// still recognised (and, once erased, is new again).
#[test]
fn the_audit_trail_holds_no_content_hash_and_duplicates_are_still_found() {
    let site = Site::new();
    let mut s = site.admin();
    let pin = b"Your PIN is 4417.".to_vec();
    let first = s
        .import_bytes("pin.txt", pin.clone(), &ImportOptions::default())
        .unwrap();
    assert_eq!(first.outcome, "imported");
    let id = first.item_ids[0];
    let skip = ImportOptions {
        skip_duplicates: true,
        ..ImportOptions::default()
    };
    let again = s
        .import_bytes("copy of pin.txt", pin.clone(), &skip)
        .unwrap();
    assert_eq!(again.outcome, "duplicate");
    assert_eq!(again.duplicate_of, vec![id]);
    assert!(again.item_ids.is_empty());
    assert_eq!(s.items().unwrap().len(), 1);
    // Asked to keep duplicates, the copy is imported and named as one.
    let kept = s
        .import_bytes("pin again.txt", pin.clone(), &ImportOptions::default())
        .unwrap();
    assert_eq!(kept.outcome, "imported");
    assert_eq!(kept.duplicate_of, vec![id]);
    let kept_id = kept.item_ids[0];
    // Records are not deduplicated: the same chat twice is two items.
    let records = "{\"text\":\"Thanks!\"}\n{\"text\":\"Thanks!\"}\n";
    let r = s
        .import_bytes("thanks.jsonl", records.into(), &skip)
        .unwrap();
    assert_eq!(r.item_ids.len(), 2);

    let hash = sha256_hex(&pin);
    let log = s.audit_log().unwrap();
    let import_row = log
        .iter()
        .find(|e| e.action == "item.import" && e.target == format!("item:{id}"))
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&import_row.details).unwrap();
    let content_id = details["content_id"].as_str().unwrap().to_string();
    assert_eq!(content_id.len(), 64);
    assert_ne!(content_id, hash);
    assert!(details.get("sha256").is_none());
    assert!(log.iter().any(|e| e.action == "import.duplicate"));
    for e in &log {
        assert!(
            !e.details.contains(&hash),
            "{} row holds the hash",
            e.action
        );
    }

    // Erased: the row stays (the trail is append-only), its value is keyed
    // by a key that is gone, and the same file imports as new.
    s.set_governance(
        &[id, kept_id],
        &GovernanceChange {
            subject_key: Some(Some("subject-17".into())),
            ..GovernanceChange::default()
        },
    )
    .unwrap();
    assert_eq!(
        s.erase_subject("subject-17").unwrap().items,
        vec![id, kept_id]
    );
    let log = s.audit_log().unwrap();
    assert!(log.iter().all(|e| !e.details.contains(&hash)));
    let after = s.import_bytes("pin.txt", pin, &skip).unwrap();
    assert_eq!(after.outcome, "imported");
    assert!(after.duplicate_of.is_empty());
    let log = s.audit_log().unwrap();
    let new_row = log
        .iter()
        .rev()
        .find(|e| e.action == "item.import")
        .unwrap();
    let new_id: serde_json::Value = serde_json::from_str(&new_row.details).unwrap();
    assert_ne!(
        new_id["content_id"].as_str().unwrap(),
        content_id,
        "the same content gets an unrelated value under a new key"
    );
}
