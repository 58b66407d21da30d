//! One harness per kind of outside input, shared by the cargo-fuzz targets (`fuzz_targets/`)
//! and by the stable mutation test (`tests/hostile_mutations.rs`, which includes this file with
//! `#[path]`), so both feed the very same entry points and check the very same contract:
//!
//! * no panic (a panic propagates: libFuzzer reports it, the test catches it per input);
//! * every error says something (a non-empty message that names the check, line or offset);
//! * what is accepted is consistent (sizes within the limits, offsets inside the text, …).
//!
//! A contract violation that is not a panic is returned as `Err(description)`; the fuzz targets
//! turn it into a panic so libFuzzer keeps the input.
//!
//! The first byte of every input selects a variant (file extension, package mode, scan kind),
//! so one target covers every format of its kind and the mutator can cross formats.

#![allow(dead_code)]

use std::io;
use std::path::Path;

use sealtag::bundle::header::Header;
use sealtag::crypto::{MasterKey, UnlockedIdentity};
use sealtag::formats::{self, ExportItem, ExportLabel, ItemInfo, MemorySink};
use sealtag::import::{self, ImportOptions, MediaInfo};
use sealtag::model::{BBox, Geometry, ItemKind, Keypoint};
use sealtag::package::{self, BytesMember, NewPackage, PackageKind};
use sealtag::privacy::audio_mask::{self, AudioRange, AudioStyle};
use sealtag::privacy::image_mask::{self, Crop, Region, RegionStyle, Shape};
use sealtag::privacy::metadata;
use sealtag::privacy::pii::{self, Detector, InputKind, MaskStyle};

/// What a harness saw; refusals are the expected outcome of most mutated inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The entry point accepted the input (fully or in part).
    Accepted,
    /// It refused the input with an error that passed the checks.
    Refused,
    /// A third-party decoder panicked and the importer or the masking decoder contained it
    /// (`ImportError::DecoderPanic`, `MaskError::DecoderPanic`): no crash, but worth knowing.
    Contained,
}

/// `Err` describes a broken contract that is not a panic.
pub type Checked = Result<Outcome, String>;

/// Passphrase of the committed test-only identities in `fuzz/keys/`. They protect nothing:
/// fixed keys only make the seed packages (sealed to `me`, signed by `sender`) valid.
pub const KEY_PASSPHRASE: &str = "sealtag-fuzz-only";

/// The two identities a package needs.
pub struct Keys {
    /// The recipient: packages are opened, header slots unlocked with it.
    pub me: UnlockedIdentity,
    /// The signer of the seed packages.
    pub sender: UnlockedIdentity,
}

impl Keys {
    /// Opens `fuzz/keys/me.age` and `sender.age` (`dir` is `fuzz/keys`).
    pub fn load(dir: &Path) -> Result<Keys, String> {
        let open = |name: &str| -> Result<UnlockedIdentity, String> {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let pass = age::secrecy::SecretString::from(KEY_PASSPHRASE.to_owned());
            UnlockedIdentity::unseal(&bytes, &pass).map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(Keys {
            me: open("me.age")?,
            sender: open("sender.age")?,
        })
    }
}

fn need_message(what: &str, message: &str) -> Result<(), String> {
    if message.trim().is_empty() {
        Err(format!("{what}: empty error message"))
    } else {
        Ok(())
    }
}

/// Splits off the selector byte; an empty input selects variant 0 with no payload.
fn select(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&first, rest)) => (first, rest),
        None => (0, &[]),
    }
}

// ---------------------------------------------------------------------------
// Package reader

/// What the signature covers; the package format's context string (see `src/package.rs`).
const SIGNATURE_CONTEXT: &[u8] = b"sealtag package v1\0";
const PACKAGE_MAGIC: &[u8; 8] = b"SEALPKG1";

/// The largest member read into memory here (the JSON documents of a real package).
const MEMBER_BYTES_LIMIT: u64 = 1 << 20;

fn age_to(keys: &Keys, plain: &[u8]) -> Result<Vec<u8>, String> {
    age::encrypt(&keys.me.public().recipient, plain).map_err(|e| format!("age encrypt: {e}"))
}

/// Re-signs the manifest of a plaintext container (`magic, u32 length, manifest, signature,
/// members`) with the sender's key, so that mutations of the manifest get past the signature
/// check and reach the member checks. A container too short to hold a manifest is unchanged.
fn resign(keys: &Keys, plain: &[u8]) -> Vec<u8> {
    let mut out = plain.to_vec();
    let Some(len) = plain.get(8..12) else {
        return out;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let Some(json) = plain.get(12..12usize.saturating_add(len)) else {
        return out;
    };
    let mut signed = SIGNATURE_CONTEXT.to_vec();
    signed.extend_from_slice(json);
    let signature = keys.sender.sign(&signed);
    let at = 12 + len;
    if let Some(slot) = out.get_mut(at..at + 64) {
        slot.copy_from_slice(&signature);
    }
    out
}

/// Opens `sealed` as `me` and reads every member, alternating the in-memory and the streaming
/// reader, then checks that nothing follows.
fn open_and_drain(keys: &Keys, sealed: &[u8]) -> Checked {
    let named = |e: &package::PackageError| -> Result<(), String> {
        let message = e.to_string();
        need_message("package", &message)?;
        // Every refusal names the check that failed (the tamper sweep's contract).
        if message.contains("check failed") || message.starts_with("package I/O failed") {
            Ok(())
        } else {
            Err(format!("package error names no check: {message}"))
        }
    };
    let mut opened = match package::open_package(sealed, &keys.me) {
        Ok(p) => p,
        Err(e) => {
            named(&e)?;
            return Ok(Outcome::Refused);
        }
    };
    if opened.manifest.recipients.is_empty() {
        return Err("a package with no recipient was opened".into());
    }
    let mut index = 0usize;
    loop {
        let step = if index.is_multiple_of(2) {
            opened
                .next_member_bytes(MEMBER_BYTES_LIMIT)
                .map(|r| r.map(|(entry, bytes)| (entry.size, bytes.len() as u64)))
        } else {
            let mut counter = Counter(0);
            opened
                .next_member_to(&mut counter)
                .map(|r| r.map(|entry| (entry.size, counter.0)))
        };
        match step {
            None => break,
            Some(Ok((claimed, got))) if claimed != got => {
                return Err(format!(
                    "member {index} accepted with {got} bytes, manifest says {claimed}"
                ));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                named(&e)?;
                return Ok(Outcome::Refused);
            }
        }
        index += 1;
    }
    match opened.verify_end() {
        Ok(()) => Ok(Outcome::Accepted),
        Err(e) => {
            named(&e)?;
            Ok(Outcome::Refused)
        }
    }
}

struct Counter(u64);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Selector % 3: 0 = the bytes are a sealed package; 1 = they are the plaintext container,
/// sealed to `me` here (reaches the format checks); 2 = the same, re-signed by the sender
/// first (reaches the member checks).
pub fn package_reader(keys: &Keys, data: &[u8]) -> Checked {
    let (mode, rest) = select(data);
    match mode % 3 {
        0 => open_and_drain(keys, rest),
        1 => open_and_drain(keys, &age_to(keys, rest)?),
        _ => open_and_drain(keys, &age_to(keys, &resign(keys, rest))?),
    }
}

/// A valid package from `sender` to `me` with a JSON member and a binary one.
pub fn sample_package(keys: &Keys) -> Result<Vec<u8>, String> {
    let schema = br#"{"schema": 1, "classes": ["person", "car"]}"#;
    let media: Vec<u8> = (0..600u32).map(|i| (i * 7 % 251) as u8).collect();
    let members = [
        BytesMember {
            name: "schema.json".into(),
            bytes: schema,
        },
        BytesMember {
            name: "media/000001_a.jpg".into(),
            bytes: &media,
        },
    ];
    let refs: Vec<&dyn package::MemberSource> = members
        .iter()
        .map(|m| m as &dyn package::MemberSource)
        .collect();
    let mut out = Vec::new();
    let new = NewPackage {
        kind: PackageKind::Work,
        project_id: "0123456789abcdef0123456789abcdef",
        sequence: 1,
        package_id: Some("00".repeat(16)),
    };
    package::write_package(
        &mut out,
        &keys.sender,
        &[keys.me.public()],
        &new,
        &refs,
        &mut |_| true,
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The plaintext container of [`sample_package`] (decrypted with `me`).
pub fn sample_container(keys: &Keys) -> Result<Vec<u8>, String> {
    let sealed = sample_package(keys)?;
    age::decrypt(keys.me.age_identity(), &sealed).map_err(|e| format!("age decrypt: {e}"))
}

// ---------------------------------------------------------------------------
// Bundle header

/// Parses header bytes; a header that parses must survive a write/parse round trip and is
/// then unlocked with `me` (every key slot is tried, the MAC checked).
pub fn bundle_header(keys: &Keys, data: &[u8]) -> Checked {
    let path = Path::new("fuzz.sealtag/header");
    let header = match Header::parse(data, path) {
        Ok(h) => h,
        Err(e) => {
            need_message("header", &e.to_string())?;
            return Ok(Outcome::Refused);
        }
    };
    let again = Header::parse(&header.to_bytes(), path)
        .map_err(|e| format!("a parsed header does not parse again after writing: {e}"))?;
    if again != header {
        return Err("a parsed header changes when written and read again".into());
    }
    match header.unlock(&keys.me) {
        Ok(_) => Ok(Outcome::Accepted),
        Err(e) => {
            need_message("header unlock", &e.to_string())?;
            Ok(Outcome::Refused)
        }
    }
}

/// A header sealed to `me` and `sender`.
pub fn sample_header(keys: &Keys) -> Result<Vec<u8>, String> {
    let header = Header::seal(
        "0123456789abcdef0123456789abcdef",
        &MasterKey::generate(),
        &[keys.me.public(), keys.sender.public()],
        &keys.sender,
    )
    .map_err(|e| e.to_string())?;
    Ok(header.to_bytes())
}

// ---------------------------------------------------------------------------
// Importers of media and text

pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "gif", "webp", "tiff", "bmp"];
pub const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "ogg", "mp3"];
pub const TEXT_EXTENSIONS: [&str; 3] = ["txt", "jsonl", "csv"];

/// Import limits for fuzzing: the defaults scaled down so that one input cannot legitimately
/// use more than ~100 MiB (libFuzzer's RSS limit and the test's memory bound stay meaningful).
pub fn fuzz_options() -> ImportOptions {
    let mut options = ImportOptions::default();
    options.limits.max_file_bytes = 16 << 20;
    options.limits.max_text_bytes = 8 << 20;
    options.limits.max_image_pixels = 4_000_000;
    options.limits.max_image_side = 8_000;
    options.limits.max_decode_alloc_bytes = 64 << 20;
    options.limits.max_audio_secs = 600.0;
    options.limits.max_records_per_file = 100_000;
    options
}

/// `import::inspect_file` under [`fuzz_options`], with the accepted items checked against
/// what the importer promises.
pub fn import_as(name: &str, bytes: &[u8]) -> Checked {
    let options = fuzz_options();
    let limits = &options.limits;
    let inspected = match import::inspect_file(name, bytes.to_vec(), &options) {
        Ok(i) => i,
        Err(import::ImportError::DecoderPanic { .. }) => return Ok(Outcome::Contained),
        Err(e) => {
            need_message(name, &e.to_string())?;
            return Ok(Outcome::Refused);
        }
    };
    for error in &inspected.errors {
        need_message(name, &error.message)?;
        if error.line == 0 {
            return Err(format!("{name}: record error without a line: {error}"));
        }
    }
    if inspected.items.is_empty() {
        return Err(format!("{name}: accepted with no item (must be NoRecords)"));
    }
    for item in &inspected.items {
        let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&item.bytes).into();
        if sha != item.sha256 {
            return Err(format!("{}: sha256 is not that of the bytes", item.name));
        }
        match &item.info {
            MediaInfo::Image { width, height, .. } => {
                let pixels = u64::from(*width) * u64::from(*height);
                if pixels == 0 || pixels > limits.max_image_pixels {
                    return Err(format!("{}: accepted {width} x {height} px", item.name));
                }
                // The stored image is the file up to the image's end; what followed is
                // dropped and counted, never altered.
                let dropped = item.trailer_dropped.unwrap_or(0);
                if !bytes.starts_with(&item.bytes)
                    || item.bytes.len() as u64 + dropped != bytes.len() as u64
                    || item.trailer_dropped == Some(0)
                {
                    return Err(format!(
                        "{}: image bytes are not the file up to its reported trailer",
                        item.name
                    ));
                }
            }
            MediaInfo::Audio {
                duration_secs,
                sample_rate,
                channels,
                ..
            } => {
                if !(duration_secs.is_finite()
                    && *duration_secs > 0.0
                    && *duration_secs <= limits.max_audio_secs)
                    || *sample_rate == 0
                    || *channels == 0
                {
                    return Err(format!(
                        "{}: accepted {duration_secs} s, {sample_rate} Hz, {channels} ch",
                        item.name
                    ));
                }
            }
            MediaInfo::Text { char_len } => {
                let text = std::str::from_utf8(&item.bytes)
                    .map_err(|e| format!("{}: stored text is not UTF-8: {e}", item.name))?;
                if text.chars().count() as u64 != *char_len {
                    return Err(format!("{}: char_len {char_len} is wrong", item.name));
                }
            }
        }
    }
    Ok(Outcome::Accepted)
}

fn pick<'a>(list: &[&'a str], selector: u8) -> &'a str {
    list[usize::from(selector) % list.len()]
}

/// Selector picks the extension: png jpg gif webp tiff bmp.
pub fn import_image(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    import_as(&format!("fuzz.{}", pick(&IMAGE_EXTENSIONS, selector)), rest)
}

/// Selector picks the extension: wav flac ogg mp3.
pub fn import_audio(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    import_as(&format!("fuzz.{}", pick(&AUDIO_EXTENSIONS, selector)), rest)
}

/// Selector picks the extension: txt jsonl csv.
pub fn import_text(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    import_as(&format!("fuzz.{}", pick(&TEXT_EXTENSIONS, selector)), rest)
}

// ---------------------------------------------------------------------------
// Pre-label importers

/// The project items pre-labels are matched against: two images, a recording, a text.
pub fn label_items() -> Vec<ItemInfo> {
    let info = |id: i64, kind, name: &str, size: Option<(u32, u32)>| ItemInfo {
        id,
        kind,
        name: name.into(),
        sha256: format!("{id:064x}"),
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        duration_secs: (kind == ItemKind::Audio).then_some(30.0),
        char_len: (kind == ItemKind::Text).then_some(500),
    };
    vec![
        info(1, ItemKind::Image, "photos/a.jpg", Some((640, 480))),
        info(2, ItemKind::Image, "b.png", Some((32, 24))),
        info(3, ItemKind::Audio, "call.wav", None),
        info(4, ItemKind::Text, "chats.jsonl#c1", None),
    ]
}

/// `formats::importer(format).parse` against [`label_items`]; each pre-label must refer to
/// one of the items and each record error must say something.
pub fn prelabels(format: &str, data: &[u8]) -> Checked {
    let importer = formats::importer(format).ok_or_else(|| format!("no importer {format}"))?;
    let items = label_items();
    let parsed = match importer.parse(data, &items) {
        Ok(p) => p,
        Err(e) => {
            need_message(format, &e.to_string())?;
            return Ok(Outcome::Refused);
        }
    };
    for error in &parsed.errors {
        need_message(format, &error.message)?;
    }
    for label in &parsed.labels {
        if !items.iter().any(|i| i.id == label.item_id) {
            return Err(format!(
                "{format}: pre-label for unknown item {}",
                label.item_id
            ));
        }
        if label.score.is_some_and(|s| !s.is_finite()) {
            return Err(format!("{format}: non-finite score"));
        }
    }
    Ok(if parsed.labels.is_empty() {
        Outcome::Refused
    } else {
        Outcome::Accepted
    })
}

/// A CVAT for images 1.1 file on [`label_items`]: labels with attributes,
/// every shape kind, an entity reference and a comment.
const CVAT_SEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><labels>
<label><name>car</name><type>rectangle</type><attributes><attribute><name>model</name>
<input_type>select</input_type><values>sedan
suv</values></attribute><attribute><name>parked</name><input_type>checkbox</input_type>
<values>false</values></attribute></attributes></label>
<label><name>road &amp; lane</name><type>polygon</type><attributes/></label>
</labels></task></meta>
<!-- two images -->
<image id="0" name="photos/a.jpg" width="640" height="480">
<box label="car" occluded="1" xtl="10.5" ytl="20" xbr="100" ybr="200" z_order="0">
<attribute name="model">suv</attribute><attribute name="parked">true</attribute></box>
<polygon label="road &amp; lane" occluded="0" points="0,400;640,380;640,480;0,480"/>
<polyline label="car" points="1,2;3,4"/><points label="car" points="5,6;7,8"/>
<tag label="car"/></image>
<image id="1" name="b.png" width="32" height="24"><box label="car" xtl="1" ytl="1" xbr="31" ybr="23"/></image>
</annotations>
"#;

/// A Pascal VOC file on [`label_items`].
const VOC_SEED: &str = "<annotation><folder>photos</folder><filename>a.jpg</filename>
<size><width>640</width><height>480</height><depth>3</depth></size><segmented>0</segmented>
<object><name>car</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
<bndbox><xmin>11</xmin><ymin>21</ymin><xmax>100</xmax><ymax>200</ymax></bndbox></object>
<object><name>caf\u{e9} &lt;1&gt;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>640</xmax><ymax>480</ymax></bndbox></object>
</annotation>
";

/// Seeds for the three pre-label formats, written by the project's own exporters.
pub fn sample_labels(format: &str) -> Result<Vec<u8>, String> {
    let label = |id: i64, class: &str, geometry: Geometry| ExportLabel {
        id,
        class_id: 1,
        class: class.into(),
        geometry,
        attributes: [("occluded".to_string(), serde_json::json!(true))].into(),
        created_by: "f".into(),
        source: Some("model-7".into()),
        score: Some(0.75),
    };
    let item = |id: i64, kind, name: &str, labels: Vec<ExportLabel>| ExportItem {
        id,
        kind,
        name: name.into(),
        format: match kind {
            ItemKind::Image => "jpeg",
            ItemKind::Audio => "wav",
            ItemKind::Text => "text",
        }
        .into(),
        sha256: format!("{id:064x}"),
        width: (kind == ItemKind::Image).then_some(640),
        height: (kind == ItemKind::Image).then_some(480),
        duration_secs: (kind == ItemKind::Audio).then_some(30.0),
        char_len: (kind == ItemKind::Text).then_some(500),
        status: "approved".into(),
        media_path: name.into(),
        text: (kind == ItemKind::Text).then(|| "Call Ann at 555-0100 tomorrow.".into()),
        labels,
    };
    let items = vec![
        item(
            1,
            ItemKind::Image,
            "photos/a.jpg",
            vec![
                label(
                    1,
                    "person",
                    Geometry::BBox(BBox {
                        x: 10.0,
                        y: 20.0,
                        w: 30.5,
                        h: 40.0,
                    }),
                ),
                label(
                    2,
                    "car",
                    Geometry::Polygon {
                        points: vec![[1.0, 1.0], [50.0, 2.0], [25.0, 40.0]],
                    },
                ),
                label(
                    3,
                    "person",
                    Geometry::Keypoints {
                        points: vec![
                            Keypoint {
                                x: 5.0,
                                y: 6.0,
                                visible: true,
                            },
                            Keypoint {
                                x: 7.0,
                                y: 8.0,
                                visible: false,
                            },
                        ],
                    },
                ),
                label(4, "night", Geometry::Tag),
                label(5, "person", Geometry::Point { x: 3.0, y: 4.0 }),
            ],
        ),
        item(
            3,
            ItemKind::Audio,
            "call.wav",
            vec![label(
                6,
                "speech",
                Geometry::Segment {
                    start_secs: 1.25,
                    end_secs: 2.5,
                    transcript: "hello Ann".into(),
                },
            )],
        ),
        item(
            4,
            ItemKind::Text,
            "chats.jsonl#c1",
            vec![label(
                7,
                "PERSON",
                Geometry::Span {
                    start: 5,
                    end: 8,
                    byte_start: 5,
                    byte_end: 8,
                },
            )],
        ),
    ];
    let exporter_name = match format {
        "coco" => "coco",
        "labelstudio" => "labelstudio",
        _ => "jsonl",
    };
    let exporter =
        formats::exporter(exporter_name).ok_or_else(|| format!("no exporter {exporter_name}"))?;
    let mut sink = MemorySink::default();
    exporter
        .export(&sealtag::controller::default_schema(), &items, &mut sink)
        .map_err(|e| e.to_string())?;
    sink.files
        .into_iter()
        .find(|(path, _)| path.ends_with(".json") || path.ends_with(".jsonl"))
        .map(|(_, bytes)| bytes)
        .ok_or_else(|| format!("{exporter_name} wrote no JSON file"))
}

// ---------------------------------------------------------------------------
// PII scanner

/// The admin name list of the detector under test (accents, a title, a long name).
pub const NAMES: [&str; 4] = ["Zoë Ünal", "Ann Example", "Dr. Jean-Luc Picard", "李小龙"];

/// Checks the promises of `Detector::scan`: spans sorted, not overlapping, inside the text,
/// on char boundaries, with `text` equal to what they cover; masking keeps the length.
fn check_spans(text: &str, spans: &[pii::PiiSpan]) -> Result<(), String> {
    let chars = text.chars().count();
    let mut last_end = 0usize;
    for span in spans {
        if span.start >= span.end || span.end > chars || span.start < last_end {
            return Err(format!(
                "span {}..{} (after {last_end}) in {chars} chars",
                span.start, span.end
            ));
        }
        last_end = span.end;
        let covered = text.get(span.byte_start..span.byte_end).ok_or_else(|| {
            format!(
                "bytes {}..{} not in the text",
                span.byte_start, span.byte_end
            )
        })?;
        if covered != span.text || covered.chars().count() != span.end - span.start {
            return Err(format!(
                "span {}..{} says {:?} but covers {covered:?}",
                span.start, span.end, span.text
            ));
        }
    }
    for style in [MaskStyle::Block, MaskStyle::Char('*'), MaskStyle::Tag] {
        let masked = pii::mask(text, spans, style);
        if masked.chars().count() != chars {
            return Err(format!("masking with {style:?} changed the length"));
        }
    }
    Ok(())
}

/// Selector % 4: 0 = scan the bytes as (lossy) text and check every span; 1..=3 =
/// `scan_records` as TXT, JSONL or CSV (field "text"), checking every record's spans too when
/// the record text can be recovered.
pub fn pii_scan(data: &[u8]) -> Checked {
    let detector = Detector::new(NAMES);
    let (selector, rest) = select(data);
    let kind = match selector % 4 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let spans = detector.scan(&text);
            check_spans(&text, &spans)?;
            return Ok(if spans.is_empty() {
                Outcome::Refused
            } else {
                Outcome::Accepted
            });
        }
        1 => InputKind::Txt,
        2 => InputKind::Jsonl,
        _ => InputKind::Csv,
    };
    let report = match detector.scan_records(rest, kind, "text") {
        Ok(r) => r,
        Err(e) => {
            need_message("pii", &e.to_string())?;
            return Ok(Outcome::Refused);
        }
    };
    for error in &report.errors {
        need_message("pii record", &error.message)?;
    }
    if kind == InputKind::Txt {
        let text = std::str::from_utf8(rest).map_err(|e| format!("TXT accepted as UTF-8: {e}"))?;
        for record in &report.records {
            check_spans(text, &record.spans)?;
        }
    }
    Ok(if report.records.is_empty() {
        Outcome::Refused
    } else {
        Outcome::Accepted
    })
}

/// A text with one of each kind of personal data the detector knows.
pub const PII_SAMPLE: &str = "Zoë Ünal (born 12/03/1985) mailed zoe.unal@example.org from \
192.168.10.7 and 2001:db8::1, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, \
SSN 123-45-6789, NINO AB 12 34 56 C, NIR 1 85 03 75 116 001 42, phone +44 20 7946 0958. \
Dr. Jean-Luc Picard and 李小龙 were copied.\r\nAnn Example";

// ---------------------------------------------------------------------------
// Derivatives (what an annotator receives instead of the original)

const DERIVE_MAX_SECS: f64 = 60.0;
const DERIVE_MAX_PIXELS: u64 = 4_000_000;

/// Selector: bits 0-1 pick wav/flac/ogg/mp3; bits 2-3 pick the plan: strip tags only, mask
/// two ranges, keep a window, or both. Also runs `strip_tags` alone.
pub fn audio_derive(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    let format = pick(&AUDIO_EXTENSIONS, selector & 3);
    let ranges = [
        AudioRange {
            start_secs: 0.01,
            end_secs: 0.02,
            style: AudioStyle::Mute,
        },
        AudioRange {
            start_secs: 0.015,
            end_secs: 1.0,
            style: AudioStyle::Tone,
        },
    ];
    let (ranges, window): (&[AudioRange], Option<(f64, f64)>) = match (selector >> 2) & 3 {
        0 => (&[], None),
        1 => (&ranges, None),
        2 => (&[], Some((0.005, 0.5))),
        _ => (&ranges, Some((0.0, 0.03))),
    };
    let mut outcome = Outcome::Refused;
    match audio_mask::strip_tags(rest, format) {
        Ok((bytes, _)) if bytes.is_empty() => return Err(format!("{format}: stripped to nothing")),
        Ok(_) => outcome = Outcome::Accepted,
        Err(image_mask::MaskError::DecoderPanic { .. }) => return Ok(Outcome::Contained),
        Err(e) => need_message(format, &e.to_string())?,
    }
    match audio_mask::derive_audio(rest, format, ranges, window, DERIVE_MAX_SECS) {
        Err(image_mask::MaskError::DecoderPanic { .. }) => Ok(Outcome::Contained),
        Ok((bytes, out_format, secs)) => {
            if bytes.is_empty() || !(0.0..=DERIVE_MAX_SECS).contains(&secs) {
                return Err(format!(
                    "{format}: derived {} bytes of {out_format}, {secs} s",
                    bytes.len()
                ));
            }
            Ok(Outcome::Accepted)
        }
        Err(e) => {
            need_message(format, &e.to_string())?;
            Ok(outcome)
        }
    }
}

/// Selector: low bits pick the format (jpeg png gif webp tiff bmp); bits 3-4 pick the plan: a
/// rectangle fill, a pixelated polygon, a blur with a crop, a crop only.
pub fn image_derive(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    let formats = ["jpeg", "png", "gif", "webp", "tiff", "bmp"];
    let format = pick(&formats, selector & 7);
    let rect = Region {
        shape: Shape::Rect {
            x: 1.0,
            y: 1.5,
            w: 4.0,
            h: 3.0,
        },
        style: RegionStyle::Fill,
    };
    let polygon = Region {
        shape: Shape::Polygon {
            points: vec![[0.0, 0.0], [6.0, 1.0], [3.0, 5.0]],
        },
        style: RegionStyle::Pixelate,
    };
    let blur = Region {
        style: RegionStyle::Blur,
        ..rect.clone()
    };
    let crop = Crop {
        x: 1,
        y: 1,
        w: 4,
        h: 3,
    };
    let (regions, crop) = match (selector >> 3) & 3 {
        0 => (vec![rect], None),
        1 => (vec![polygon], None),
        2 => (vec![blur], Some(crop)),
        _ => (vec![], Some(crop)),
    };
    match image_mask::derive_image(rest, format, &regions, crop, DERIVE_MAX_PIXELS) {
        Ok((bytes, _, width, height)) => {
            let pixels = u64::from(width) * u64::from(height);
            if bytes.is_empty() || pixels == 0 || pixels > DERIVE_MAX_PIXELS {
                return Err(format!("{format}: derived {width} x {height} px"));
            }
            if let Some(c) = crop
                && (width, height) != (c.w, c.h)
            {
                return Err(format!("{format}: crop to 4 x 3 gave {width} x {height}"));
            }
            Ok(Outcome::Accepted)
        }
        Err(e) => {
            need_message(format, &e.to_string())?;
            Ok(Outcome::Refused)
        }
    }
}

/// Selector: bit 0 picks JPEG or PNG. What the metadata stripper accepts must parse again,
/// strip to itself (nothing left to drop), end where its image ends, and hold only allowed
/// segments or chunks.
pub fn image_strip(data: &[u8]) -> Checked {
    let (selector, rest) = select(data);
    let format = if selector & 1 == 0 { "jpeg" } else { "png" };
    let out = match metadata::strip_image(format, rest) {
        Ok(out) => out,
        Err(e) => {
            need_message(format, &e.to_string())?;
            return Ok(Outcome::Refused);
        }
    };
    let again = metadata::strip_image(format, &out)
        .map_err(|e| format!("{format}: the stripped output is refused: {e}"))?;
    if again != out {
        return Err(format!("{format}: stripping the output changes it again"));
    }
    if format == "jpeg" {
        let layout = metadata::parse_jpeg(&out).map_err(|e| format!("jpeg: {e}"))?;
        if layout.end != out.len() {
            return Err("jpeg: bytes after EOI survived".into());
        }
        if let Some(s) = layout
            .segments
            .iter()
            .find(|s| matches!(s.marker, 0xE3..=0xED | 0xEF..=0xFE))
        {
            return Err(format!("jpeg: marker FF {:02X} survived", s.marker));
        }
    } else {
        let layout = metadata::parse_png(&out).map_err(|e| format!("png: {e}"))?;
        if layout.end != out.len() {
            return Err("png: bytes after IEND survived".into());
        }
        const ALLOWED: [&[u8; 4]; 10] = [
            b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
            b"pHYs",
        ];
        if let Some(c) = layout.chunks.iter().find(|c| !ALLOWED.contains(&&c.kind)) {
            return Err(format!(
                "png: chunk {} survived",
                String::from_utf8_lossy(&c.kind)
            ));
        }
    }
    Ok(Outcome::Accepted)
}

// ---------------------------------------------------------------------------
// Seeds

/// Tiny valid media, made here so nothing large is committed: an image in every format.
pub fn sample_images() -> Vec<(&'static str, Vec<u8>)> {
    let img = image::RgbImage::from_fn(8, 6, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 40) as u8, ((x + y) * 15) as u8])
    });
    let dynamic = image::DynamicImage::ImageRgb8(img);
    let mut out = Vec::new();
    for (ext, format) in [
        ("png", image::ImageFormat::Png),
        ("jpg", image::ImageFormat::Jpeg),
        ("gif", image::ImageFormat::Gif),
        ("webp", image::ImageFormat::WebP),
        ("tiff", image::ImageFormat::Tiff),
        ("bmp", image::ImageFormat::Bmp),
    ] {
        let mut bytes = Vec::new();
        // GIF and WebP want RGBA; the others take the RGB image as it is.
        let source = match format {
            image::ImageFormat::Gif | image::ImageFormat::WebP => {
                image::DynamicImage::ImageRgba8(dynamic.to_rgba8())
            }
            _ => dynamic.clone(),
        };
        if source
            .write_to(&mut io::Cursor::new(&mut bytes), format)
            .is_ok()
        {
            out.push((ext, bytes));
        }
    }
    out
}

/// A 16-bit mono PCM WAV of `frames` frames at 8 kHz, with a LIST/INFO tag chunk (a name in
/// it, as recorders write) before the data.
pub fn sample_wav(frames: u32) -> Vec<u8> {
    let tag = b"INFOINAM\x0a\0\0\0Ann Call\0\0";
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    let riff_len = 4 + (8 + 16) + (8 + tag.len() as u32) + (8 + frames * 2);
    w.extend_from_slice(&riff_len.to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8_000u32.to_le_bytes());
    w.extend_from_slice(&16_000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"LIST");
    w.extend_from_slice(&(tag.len() as u32).to_le_bytes());
    w.extend_from_slice(tag);
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(frames * 2).to_le_bytes());
    for i in 0..frames {
        w.extend_from_slice(&((((i * 97) % 4000) as i16) - 2000).to_le_bytes());
    }
    w
}

/// Every target's seeds, selector byte first. `fixtures` is `tests/fixtures` (audio seeds are
/// short prefixes of its recordings: the headers and first packets are what matter).
pub fn seeds(target: &str, keys: &Keys, fixtures: &Path) -> Result<Vec<Vec<u8>>, String> {
    let with = |selector: u8, bytes: &[u8]| {
        let mut v = vec![selector];
        v.extend_from_slice(bytes);
        v
    };
    let prefix = |rel: &str, len: usize| -> Result<Vec<u8>, String> {
        let path = fixtures.join(rel);
        let mut bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        bytes.truncate(len);
        Ok(bytes)
    };
    let audio = || -> Result<Vec<(u8, Vec<u8>)>, String> {
        Ok(vec![
            (0, sample_wav(400)),
            (1, prefix("import/call_02_16k.flac", 6_000)?),
            (2, prefix("import/call_03_22k.ogg", 16_000)?),
            (3, prefix("import/call_04_22k.mp3", 3_000)?),
        ])
    };
    let index_of =
        |list: &[&str], ext: &str| list.iter().position(|e| *e == ext).unwrap_or(0) as u8;
    Ok(match target {
        "package_reader" => {
            let container = sample_container(keys)?;
            vec![
                with(0, &sample_package(keys)?),
                with(1, &container),
                with(2, &container),
            ]
        }
        "bundle_header" => vec![sample_header(keys)?],
        "import_image" => sample_images()
            .into_iter()
            .map(|(ext, bytes)| with(index_of(&IMAGE_EXTENSIONS, ext), &bytes))
            .collect(),
        "import_audio" => audio()?.iter().map(|(s, b)| with(*s, b)).collect(),
        "import_text" => vec![
            with(0, "Zoë signed the contract.\r\nSecond line.".as_bytes()),
            with(0, b"\xEF\xBB\xBFwith a BOM"),
            with(0, &[0xFF, 0xFE, b'h', 0, b'i', 0]),
            with(1, &prefix("import/support_chats_head.jsonl", 1_200)?),
            with(
                1,
                b"{\"id\": 1, \"text\": \"a\", \"lang\": \"en\"}\n[1]\n{\"id\": \"x\", \"body\": 2}\n",
            ),
            with(2, &prefix("import/reviews.csv", 600)?),
            with(2, b"\xEF\xBB\xBFid,text\r\n1,\"quoted\r\nline\"\r\n2,short,extra\r\n"),
        ],
        "prelabels_coco" => vec![sample_labels("coco")?],
        "prelabels_labelstudio" => vec![sample_labels("labelstudio")?],
        "prelabels_jsonl" => vec![sample_labels("jsonl")?],
        // Hand-written in the tools' own shapes, naming `label_items`.
        "prelabels_cvat" => vec![CVAT_SEED.as_bytes().to_vec()],
        "prelabels_voc" => vec![VOC_SEED.as_bytes().to_vec()],
        "pii_scan" => {
            let jsonl = format!(
                "{}\n{{\"id\": 2, \"text\": 5}}\n",
                serde_json::json!({"id": "r1", "text": PII_SAMPLE})
            );
            let csv = format!(
                "\u{feff}id,text\r\n7,\"{}\"\r\n8,\"two\r\nlines\"\r\n",
                PII_SAMPLE.replace('"', "")
            );
            vec![
                with(0, PII_SAMPLE.as_bytes()),
                with(1, PII_SAMPLE.as_bytes()),
                with(2, jsonl.as_bytes()),
                with(3, csv.as_bytes()),
            ]
        }
        // One seed per format, the plans spread over them (the mutator changes the selector).
        "audio_derive" => audio()?
            .iter()
            .map(|(format, bytes)| with(format | (format << 2), bytes))
            .collect(),
        "image_derive" => {
            let formats = ["jpg", "png", "gif", "webp", "tiff", "bmp"];
            sample_images()
                .into_iter()
                .map(|(ext, bytes)| {
                    let format = index_of(&formats, ext);
                    with(format | ((format % 4) << 3), &bytes)
                })
                .collect()
        }
        "image_strip" => {
            let mut seeds = Vec::new();
            for (ext, bytes) in sample_images() {
                if ext == "jpg" || ext == "png" {
                    seeds.push(with(u8::from(ext == "png"), &bytes));
                }
            }
            seeds.push(with(0, &prefix("strip/progressive_restart.jpg", 1 << 20)?));
            seeds
        }
        other => return Err(format!("unknown target {other}")),
    })
}

/// Runs `target` on one input.
pub fn run(target: &str, keys: &Keys, data: &[u8]) -> Checked {
    match target {
        "package_reader" => package_reader(keys, data),
        "bundle_header" => bundle_header(keys, data),
        "import_image" => import_image(data),
        "import_audio" => import_audio(data),
        "import_text" => import_text(data),
        "prelabels_coco" => prelabels("coco", data),
        "prelabels_labelstudio" => prelabels("labelstudio", data),
        "prelabels_jsonl" => prelabels("jsonl", data),
        "prelabels_cvat" => prelabels("cvat", data),
        "prelabels_voc" => prelabels("voc", data),
        "pii_scan" => pii_scan(data),
        "audio_derive" => audio_derive(data),
        "image_derive" => image_derive(data),
        "image_strip" => image_strip(data),
        other => Err(format!("unknown target {other}")),
    }
}

/// Every target, in the order the test runs them.
pub const TARGETS: [&str; 14] = [
    "package_reader",
    "bundle_header",
    "import_image",
    "import_audio",
    "import_text",
    "prelabels_coco",
    "prelabels_labelstudio",
    "prelabels_jsonl",
    "prelabels_cvat",
    "prelabels_voc",
    "pii_scan",
    "audio_derive",
    "image_derive",
    "image_strip",
];
