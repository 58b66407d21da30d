//! Import turns files from outside the vault into validated in-memory items. Everything that
//! comes in is hostile until proven otherwise: it is size-checked, sniffed, fully decoded under
//! explicit limits and only then handed on; one bad file never stops a batch or panics.

mod audio;
mod image;
pub mod sniff;
mod text;

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::media;

pub use sniff::Format;

const MIB: u64 = 1024 * 1024;

/// Upper bounds that keep a hostile file from exhausting memory or time. The media limits
/// default to [`media`]'s, which masking and the waveform apply as well.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLimits {
    /// Largest media file read into memory at all.
    pub max_file_bytes: u64,
    /// Largest `.txt` / `.jsonl` / `.csv` file; text expands when parsed, so it gets less.
    pub max_text_bytes: u64,
    /// Largest image by pixel count, checked from the header before decoding.
    pub max_image_pixels: u64,
    /// Largest image width or height, checked from the header before decoding.
    pub max_image_side: u32,
    /// Most memory an image decoder may allocate.
    pub max_decode_alloc_bytes: u64,
    /// Longest audio accepted, in seconds.
    pub max_audio_secs: f64,
    /// Most records (lines / rows) a JSONL or CSV file may hold.
    pub max_records_per_file: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_file_bytes: media::DEFAULT_MAX_FILE_BYTES,
            max_text_bytes: 64 * MIB,
            max_image_pixels: media::DEFAULT_MAX_IMAGE_PIXELS,
            max_image_side: media::DEFAULT_MAX_IMAGE_SIDE,
            max_decode_alloc_bytes: media::DEFAULT_MAX_DECODE_ALLOC_BYTES,
            max_audio_secs: media::DEFAULT_MAX_AUDIO_SECS,
            max_records_per_file: 1_000_000,
        }
    }
}

/// How an import runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOptions {
    /// Resource limits.
    pub limits: ImportLimits,
    /// Name of the JSONL/CSV field that holds the text; `None` means `"text"`.
    pub text_field: Option<String>,
    /// Field holding the data subject's key (for erasure requests).
    pub subject_field: Option<String>,
    /// Field holding consent (`granted`/`yes`/`true`, `withdrawn`/`no`/`false`).
    pub consent_field: Option<String>,
    /// Field holding the allowed purposes (comma- or `;`-separated, or a list).
    pub purposes_field: Option<String>,
    /// A file whose content is already an item is skipped (reported as a
    /// `duplicate`) instead of imported again with a note. The CLI sets it
    /// unless `--keep-duplicates` is given.
    pub skip_duplicates: bool,
}

impl ImportOptions {
    /// The effective text field name.
    pub fn text_field(&self) -> &str {
        self.text_field.as_deref().unwrap_or("text")
    }
}

/// The three kinds of item Sealtag labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A still image.
    Image,
    /// A sound recording.
    Audio,
    /// A piece of UTF-8 text.
    Text,
}

impl MediaKind {
    /// Lowercase name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Text => "text",
        }
    }
}

/// What the validator learned; everything the store needs besides the bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaInfo {
    /// A decoded image.
    Image {
        /// "jpeg", "png", "gif", "webp", "tiff" or "bmp".
        format: &'static str,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A decoded audio track.
    Audio {
        /// "wav", "flac", "ogg" or "mp3".
        format: &'static str,
        /// Samples per second per channel.
        sample_rate: u32,
        /// Number of channels.
        channels: u16,
        /// Decoded frames divided by the sample rate.
        duration_secs: f64,
    },
    /// A text.
    Text {
        /// Length in Unicode scalar values (Rust `chars()`).
        char_len: u64,
    },
}

/// One item ready to be encrypted and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedItem {
    /// Display name: the path relative to the import root (files), `"reviews.csv#1001"` for a
    /// record with an id, `"file.jsonl:line 7"` / `"file.csv:row 3"` for one without (row =
    /// 1-based data row, header not counted).
    pub name: String,
    /// Image, audio or text.
    pub kind: MediaKind,
    /// Audio: the original file bytes, unchanged. Images: the original file bytes up to the
    /// end of the image (see `trailer_dropped`). Text: the UTF-8 text (a `.txt` file without
    /// its byte-order mark and, if it was UTF-16, converted; a record's text field, from a
    /// `.jsonl` / `.csv` file converted the same way).
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    pub sha256: [u8; 32],
    /// What the validator learned.
    pub info: MediaInfo,
    /// Records: the other fields as an object, plus `"source_id"` when the record had an id.
    /// Files: `{}`.
    pub metadata: serde_json::Value,
    /// Images: how many bytes followed the end of the image (a JPEG's end-of-image marker, a
    /// PNG's IEND chunk) and were dropped, such as the video of a motion photo or the second
    /// image of an MPO file; `None` when nothing followed.
    pub trailer_dropped: Option<u64>,
}

/// One record of a JSONL/CSV file that could not be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// 1-based line of the file where the record starts.
    pub line: u64,
    /// The record's id, when it could be read.
    pub record_id: Option<String>,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.record_id {
            Some(id) => write!(f, "line {} (id {}): {}", self.line, id, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What happened to one file of a batch.
#[derive(Debug)]
pub enum FileOutcome {
    /// Every item of the file was accepted.
    Imported {
        /// The file on disk.
        path: PathBuf,
        /// Its items (one for a media or `.txt` file, one per record otherwise).
        items: Vec<AcceptedItem>,
        /// The encoding a text file was converted from, if it was.
        converted_from: Option<&'static str>,
    },
    /// Some records were accepted, some were not.
    Partial {
        /// The file on disk.
        path: PathBuf,
        /// The records that were accepted.
        items: Vec<AcceptedItem>,
        /// The records that were not, in file order.
        errors: Vec<RecordError>,
        /// The encoding the file was converted from, if it was.
        converted_from: Option<&'static str>,
    },
    /// Nothing from the file was accepted.
    Rejected {
        /// The file (or directory / link) on disk.
        path: PathBuf,
        /// Why.
        error: ImportError,
    },
}

impl FileOutcome {
    /// Wraps the result of [`inspect_file`] for the file at `path`.
    pub fn from_result(path: PathBuf, result: Result<Inspected, ImportError>) -> FileOutcome {
        match result {
            Ok(Inspected {
                items,
                errors,
                converted_from,
            }) if errors.is_empty() => FileOutcome::Imported {
                path,
                items,
                converted_from,
            },
            Ok(Inspected {
                items,
                errors,
                converted_from,
            }) => FileOutcome::Partial {
                path,
                items,
                errors,
                converted_from,
            },
            Err(error) => FileOutcome::Rejected { path, error },
        }
    }

    /// The path this outcome is about.
    pub fn path(&self) -> &Path {
        match self {
            FileOutcome::Imported { path, .. }
            | FileOutcome::Partial { path, .. }
            | FileOutcome::Rejected { path, .. } => path,
        }
    }

    /// The accepted items (empty when rejected).
    pub fn items(&self) -> &[AcceptedItem] {
        match self {
            FileOutcome::Imported { items, .. } | FileOutcome::Partial { items, .. } => items,
            FileOutcome::Rejected { .. } => &[],
        }
    }
}

/// The result of validating one file: its items and the records that failed. A file whose
/// every record failed is an [`ImportError::NoValidRecords`] instead.
#[derive(Debug, Default)]
pub struct Inspected {
    /// Accepted items.
    pub items: Vec<AcceptedItem>,
    /// Rejected records (JSONL/CSV only).
    pub errors: Vec<RecordError>,
    /// `"UTF-16LE"` / `"UTF-16BE"` when a text file was converted to
    /// UTF-8: the stored text (and every offset into it) is the UTF-8 form.
    pub converted_from: Option<&'static str>,
}

/// Why a file was rejected. Each message says what failed, where, and what to do.
#[derive(thiserror::Error, Debug)]
pub enum ImportError {
    /// A symbolic link, refused so that an import can never read outside the chosen folder.
    #[error("symbolic link, not followed; import the file it points to directly if you mean it")]
    Symlink,
    /// A FIFO, socket or device, which could block forever or never end.
    #[error("not a regular file ({0}); only regular files are imported")]
    NotRegularFile(&'static str),
    /// The file could not be read.
    #[error("could not {action}: {source}")]
    Io {
        /// What was being done ("open the file", "read the folder").
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file name has no extension, so its expected type is unknown.
    #[error(
        "file has no extension; rename it to one of .jpg .png .gif .webp .tiff .bmp .wav .flac .ogg .mp3 .txt .jsonl .csv"
    )]
    NoExtension,
    /// The extension is not one Sealtag imports.
    #[error(
        "unsupported file type '.{0}'; supported: .jpg .png .gif .webp .tiff .bmp .wav .flac .ogg .mp3 .txt .jsonl .csv"
    )]
    UnsupportedType(String),
    /// Zero bytes.
    #[error("empty file (0 bytes)")]
    EmptyFile,
    /// Larger than the configured limit.
    #[error("file is {}, over the {} limit; split it or raise the limit", human_size(*.size), human_size(*.limit))]
    TooLarge {
        /// File size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The bytes are a known format, but not the one the extension promises.
    #[error(
        "content does not match extension: named .{extension} but the bytes are {}; rename the file or check where it came from",
        actual.display_name()
    )]
    ContentMismatch {
        /// The extension as written (lowercased).
        extension: String,
        /// What the bytes actually are.
        actual: Format,
    },
    /// The bytes are no known format and lack the signature the extension promises.
    #[error(
        "not a {} file: no {} at the start; the file is damaged or not what its name says",
        expected.display_name(),
        expected.expected_signature()
    )]
    NotFormat {
        /// The format the extension promised.
        expected: Format,
    },
    /// The image header declares more pixels than allowed; nothing was decoded.
    #[error(
        "image is {width} x {height} px ({pixels} px), over the limit of {limit} px; downscale it before importing"
    )]
    ImageTooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// width * height.
        pixels: u64,
        /// The pixel limit.
        limit: u64,
    },
    /// The image header declares a side longer than allowed; nothing was decoded.
    #[error(
        "image is {width} x {height} px, a side is over the limit of {limit} px; downscale it before importing"
    )]
    ImageSideTooLong {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The side limit.
        limit: u32,
    },
    /// The image header declares zero width or height.
    #[error("image is {width} x {height} px: it has no pixels")]
    ImageEmpty {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A JPEG that stops before its end-of-image marker (the decoder would fill it with grey).
    #[error(
        "truncated JPEG: no end-of-image marker (FF D9) after {len} bytes; the file was cut off, copy it again"
    )]
    TruncatedJpeg {
        /// File length in bytes.
        len: u64,
    },
    /// The image decoder refused the data.
    #[error("could not decode {} image: {message}; the file is corrupt or uses an unsupported feature", format.display_name())]
    ImageDecode {
        /// The image format.
        format: Format,
        /// The decoder's message.
        message: String,
    },
    /// The audio container could not be opened.
    #[error("could not open {} audio: {message}; the file is corrupt or uses an unsupported codec", format.display_name())]
    AudioOpen {
        /// The audio format.
        format: Format,
        /// The demuxer's message.
        message: String,
    },
    /// The audio decoded, but contained no samples.
    #[error("audio contains no samples (0 frames decoded)")]
    AudioEmpty,
    /// The audio is longer than allowed.
    #[error("audio is {secs:.1} s long, over the limit of {limit:.0} s; split it before importing")]
    AudioTooLong {
        /// The duration found (from the header, or decoded so far).
        secs: f64,
        /// The limit in seconds.
        limit: f64,
    },
    /// The audio stopped decoding part-way.
    #[error(
        "audio fails to decode at packet {packet} (about {at_secs:.2} s in): {message}; the file is corrupt"
    )]
    AudioDecode {
        /// 0-based index of the failing packet of the track.
        packet: u64,
        /// Time reached before the failure.
        at_secs: f64,
        /// The decoder's message.
        message: String,
    },
    /// A text file that is not valid UTF-8.
    #[error("invalid UTF-8 at byte offset {offset}; re-save the file as UTF-8")]
    InvalidUtf8 {
        /// Offset of the first invalid byte, from the start of the file.
        offset: u64,
    },
    /// A UTF-16 text file (with BOM) that is not valid UTF-16.
    #[error("invalid UTF-16 at byte offset {offset}: {reason}; re-save the file as UTF-8")]
    InvalidUtf16 {
        /// Offset of the offending code unit, from the start of the file.
        offset: u64,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A `.txt` file holding a NUL byte is binary or UTF-16 without a byte-order mark.
    #[error(
        "NUL byte at byte offset {offset}: this is binary data or UTF-16 without a byte-order mark; re-save it as UTF-8"
    )]
    NulInText {
        /// Offset of the first NUL byte.
        offset: u64,
    },
    /// A text file with no characters (for example only a byte-order mark).
    #[error("text file contains no characters")]
    EmptyText,
    /// The CSV header row could not be read.
    #[error("could not read the CSV header row: {0}")]
    CsvHeader(String),
    /// The text column/field is not in the CSV header.
    #[error("no '{field}' column in the CSV header (columns found: {}); choose the text column in the import options", found.join(", "))]
    MissingTextColumn {
        /// The column looked for.
        field: String,
        /// The columns present.
        found: Vec<String>,
    },
    /// The file holds records, but none of them is valid.
    #[error("no valid records ({count} rejected); first error: {first}")]
    NoValidRecords {
        /// How many records were rejected.
        count: usize,
        /// The first one.
        first: RecordError,
    },
    /// The file holds no records at all (only blank lines, or only a header).
    #[error("no records found (only blank lines or a header)")]
    NoRecords,
    /// More records than allowed.
    #[error("more than {limit} records; split the file before importing")]
    TooManyRecords {
        /// The record limit.
        limit: usize,
    },
    /// A third-party decoder panicked; the panic was contained.
    #[error("the {} decoder crashed on this file; it is corrupt or hostile", format.display_name())]
    DecoderPanic {
        /// The format being decoded.
        format: Format,
    },
}

fn human_size(bytes: u64) -> String {
    if bytes < MIB {
        return format!("{bytes} bytes");
    }
    if bytes.is_multiple_of(MIB) {
        return format!("{} MiB", bytes / MIB);
    }
    // Precision loss is irrelevant for a size shown to a person.
    #[allow(clippy::cast_precision_loss)]
    let mib = bytes as f64 / MIB as f64;
    format!("{mib:.1} MiB")
}

/// The extension of the last path component, if any ("a.b/c" has none).
fn extension_of(name: &str) -> Option<&str> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext)
}

/// The format a file name promises, or why it promises none we import.
fn format_for_name(name: &str) -> Result<Format, ImportError> {
    let ext = extension_of(name).ok_or(ImportError::NoExtension)?;
    Format::from_extension(ext).ok_or_else(|| ImportError::UnsupportedType(ext.to_lowercase()))
}

fn size_limit(format: Format, limits: &ImportLimits) -> u64 {
    match format.kind() {
        MediaKind::Text => limits.max_text_bytes.min(limits.max_file_bytes),
        MediaKind::Image | MediaKind::Audio => limits.max_file_bytes,
    }
}

fn make_item(
    name: String,
    kind: MediaKind,
    bytes: Vec<u8>,
    info: MediaInfo,
    metadata: serde_json::Value,
) -> AcceptedItem {
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    AcceptedItem {
        name,
        kind,
        bytes,
        sha256,
        info,
        metadata,
        trailer_dropped: None,
    }
}

/// Validate one file's bytes already in memory (used by the walker and by tests/fuzzing).
/// `name` is the display name; its extension decides the expected type. Never panics: a
/// panic inside a third-party decoder is contained and reported as
/// [`ImportError::DecoderPanic`].
pub fn inspect_file(
    name: &str,
    bytes: Vec<u8>,
    options: &ImportOptions,
) -> Result<Inspected, ImportError> {
    let format = format_for_name(name)?;
    let run = std::panic::AssertUnwindSafe(|| inspect_as(name, format, bytes, options));
    std::panic::catch_unwind(run).unwrap_or(Err(ImportError::DecoderPanic { format }))
}

fn inspect_as(
    name: &str,
    format: Format,
    bytes: Vec<u8>,
    options: &ImportOptions,
) -> Result<Inspected, ImportError> {
    let limits = &options.limits;
    if bytes.is_empty() {
        return Err(ImportError::EmptyFile);
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let limit = size_limit(format, limits);
    if size > limit {
        return Err(ImportError::TooLarge { size, limit });
    }

    // The sniffed format wins over the name: a renamed file must never reach the decoder
    // the name suggests.
    // A UTF-16LE byte-order mark (FF FE) doubles as an MPEG layer I frame header, so text
    // that starts with one is left to the strict text decoder.
    let utf16_bom = matches!(bytes.get(..2), Some([0xFF, 0xFE] | [0xFE, 0xFF]));
    match (sniff::sniff(&bytes), format.kind()) {
        (Some(_), MediaKind::Text) if utf16_bom => {}
        (Some(actual), _) if actual != format => {
            return Err(ImportError::ContentMismatch {
                extension: extension_of(name).unwrap_or_default().to_lowercase(),
                actual,
            });
        }
        (None, MediaKind::Image | MediaKind::Audio) => {
            return Err(ImportError::NotFormat { expected: format });
        }
        _ => {}
    }

    let file_item = |bytes: Vec<u8>, kind, info| Inspected {
        items: vec![make_item(
            name.to_owned(),
            kind,
            bytes,
            info,
            serde_json::Value::Object(serde_json::Map::new()),
        )],
        errors: Vec::new(),
        converted_from: None,
    };
    let converted_from = text::utf16_bom(&bytes);
    let converted = |inspected: Inspected| Inspected {
        converted_from,
        ..inspected
    };

    match format {
        Format::Jpeg | Format::Png | Format::Gif | Format::WebP | Format::Tiff | Format::Bmp => {
            let image = image::inspect(format, bytes, limits)?;
            let mut inspected = file_item(image.bytes, MediaKind::Image, image.info);
            for item in &mut inspected.items {
                item.trailer_dropped = image.trailer_dropped;
            }
            Ok(inspected)
        }
        Format::Wav | Format::Flac | Format::Ogg | Format::Mp3 => {
            let (info, bytes) = audio::inspect(format, bytes, limits)?;
            Ok(file_item(bytes, MediaKind::Audio, info))
        }
        Format::Txt => {
            let text = text::decode_txt(bytes)?;
            let char_len = u64::try_from(text.chars().count()).unwrap_or(u64::MAX);
            Ok(converted(file_item(
                text.into_bytes(),
                MediaKind::Text,
                MediaInfo::Text { char_len },
            )))
        }
        Format::Jsonl => {
            let bytes = text::records_as_utf8(bytes)?;
            finish_records(text::parse_jsonl(name, &bytes, options)?).map(converted)
        }
        Format::Csv => {
            let bytes = text::records_as_utf8(bytes)?;
            finish_records(text::parse_csv(name, &bytes, options)?).map(converted)
        }
    }
}

/// A record file with nothing valid in it is rejected as a whole, so the batch report shows
/// it as a failure rather than an "import" of zero items.
fn finish_records(inspected: Inspected) -> Result<Inspected, ImportError> {
    if !inspected.items.is_empty() {
        return Ok(inspected);
    }
    let count = inspected.errors.len();
    match inspected.errors.into_iter().next() {
        Some(first) => Err(ImportError::NoValidRecords { count, first }),
        None => Err(ImportError::NoRecords),
    }
}

/// A regular-looking file found by [`list_inputs`], not yet opened.
#[derive(Debug)]
pub struct Found {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its name relative to the import root (for a file given directly: its file name).
    pub name: String,
    file_type: fs::FileType,
}

/// One entry of a walk: a file to inspect, or a path refused without reading it.
#[derive(Debug)]
pub enum Listed {
    /// A file to read and validate with [`inspect_found`].
    File(Found),
    /// A path that is refused as it stands (a symlink, a FIFO, an unreadable folder).
    Refused(FileOutcome),
}

/// Walk `inputs` (files and directories, directories recursively in sorted order), calling
/// `on_file` once per regular file with its outcome, one file at a time (so memory holds one
/// file, not the batch). Never follows symlinks: a symlink given directly or met inside a
/// directory is reported as Rejected (symbolic link, not followed), never opened/read.
/// A failure in one file never stops the batch. `name` of items is relative to the directory
/// given (for a file given directly: its file name). Inside directories, names starting with
/// '.' (hidden files and folders) are skipped; special files (FIFOs, sockets, devices) and
/// unreadable folders are reported as Rejected.
pub fn import_paths(
    inputs: &[PathBuf],
    options: &ImportOptions,
    on_file: &mut dyn FnMut(FileOutcome),
) {
    for listed in list_inputs(inputs) {
        match listed {
            Listed::File(found) => on_file(inspect_found(&found, options)),
            Listed::Refused(outcome) => on_file(outcome),
        }
    }
}

/// The files of `inputs` in the order [`import_paths`] reports them, without reading any:
/// the parallel import (see `controller::ingest`) hands them out to its workers by index.
pub fn list_inputs(inputs: &[PathBuf]) -> Vec<Listed> {
    let mut out = Vec::new();
    for input in inputs {
        let meta = match fs::symlink_metadata(input) {
            Ok(meta) => meta,
            Err(source) => {
                out.push(Listed::Refused(rejected(input, "inspect the path", source)));
                continue;
            }
        };
        let file_type = meta.file_type();
        if file_type.is_dir() {
            walk_dir(input, &mut Vec::new(), &mut out);
        } else {
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| input.to_string_lossy().into_owned());
            out.push(Listed::File(Found {
                path: input.clone(),
                name,
                file_type,
            }));
        }
    }
    out
}

fn rejected(path: &Path, action: &'static str, source: std::io::Error) -> FileOutcome {
    FileOutcome::Rejected {
        path: path.to_path_buf(),
        error: ImportError::Io { action, source },
    }
}

/// `rel` holds the folder names between the import root and `root.join(rel)`.
fn walk_dir(root: &Path, rel: &mut Vec<String>, out: &mut Vec<Listed>) {
    let mut dir = root.to_path_buf();
    dir.extend(rel.iter());
    let reader = match fs::read_dir(&dir) {
        Ok(reader) => reader,
        Err(source) => {
            out.push(Listed::Refused(rejected(&dir, "read the folder", source)));
            return;
        }
    };
    let mut entries = Vec::new();
    for entry in reader {
        match entry {
            Ok(entry) => entries.push(entry),
            Err(source) => out.push(Listed::Refused(rejected(&dir, "read the folder", source))),
        }
    }
    entries.sort_by_key(|e| e.file_name());

    for entry in entries {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // DirEntry::file_type does not follow symlinks, which is exactly what is wanted.
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(source) => {
                out.push(Listed::Refused(rejected(&path, "inspect the path", source)));
                continue;
            }
        };
        if file_type.is_dir() {
            rel.push(file_name);
            walk_dir(root, rel, out);
            rel.pop();
        } else {
            let mut name = rel.join("/");
            if !name.is_empty() {
                name.push('/');
            }
            name.push_str(&file_name);
            out.push(Listed::File(Found {
                path,
                name,
                file_type,
            }));
        }
    }
}

/// Reads and validates one listed file.
pub fn inspect_found(found: &Found, options: &ImportOptions) -> FileOutcome {
    match read_found(found, options) {
        Ok(bytes) => FileOutcome::from_result(
            found.path.clone(),
            inspect_file(&found.name, bytes, options),
        ),
        Err(error) => FileOutcome::Rejected {
            path: found.path.clone(),
            error,
        },
    }
}

/// Reads one listed file without validating its content: links and special files are
/// refused unopened, the type is decided from the name before the file is read, and the
/// read is size-limited. The parallel import hashes these bytes first, to skip decoding a
/// file the project already holds.
pub fn read_found(found: &Found, options: &ImportOptions) -> Result<Vec<u8>, ImportError> {
    if found.file_type.is_symlink() {
        return Err(ImportError::Symlink);
    }
    if !found.file_type.is_file() {
        return Err(ImportError::NotRegularFile(special_kind(found.file_type)));
    }
    // Decide the type from the name first, so unsupported files are never even opened.
    let limit = size_limit(format_for_name(&found.name)?, &options.limits);
    read_limited(&found.path, limit)
}

fn special_kind(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "named pipe";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "device";
        }
    }
    let _ = file_type;
    "special file"
}

/// Reads at most `limit` bytes, refusing anything larger. The file is opened without
/// following links and re-checked after opening, because it may have been swapped for a
/// link or a FIFO since it was listed.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ImportError> {
    let mut open = fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK keeps a FIFO swapped in after the check from blocking the open.
        open.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = open.open(path).map_err(|source| {
        #[cfg(unix)]
        if source.raw_os_error() == Some(libc::ELOOP) {
            return ImportError::Symlink;
        }
        ImportError::Io {
            action: "open the file",
            source,
        }
    })?;
    let meta = file.metadata().map_err(|source| ImportError::Io {
        action: "inspect the file",
        source,
    })?;
    if !meta.is_file() {
        return Err(ImportError::NotRegularFile(special_kind(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(ImportError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    // take(limit + 1) catches a file that grew after the size check.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ImportError::Io {
            action: "read the file",
            source,
        })?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limit {
        return Err(ImportError::TooLarge { size, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    fn outcome_name(o: &FileOutcome) -> String {
        o.path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn bad_fixture_batch_matches_expectations() {
        let expected: serde_json::Value = serde_json::from_slice(
            &fs::read(fixtures().join("bad_expected.json")).expect("bad_expected.json"),
        )
        .expect("valid JSON");
        let mut outcomes = Vec::new();
        import_paths(
            &[fixtures().join("bad")],
            &ImportOptions::default(),
            &mut |o| outcomes.push(o),
        );

        // Every file of the folder is reported, README.md included, once each, in sorted order.
        let names: Vec<String> = outcomes.iter().map(outcome_name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 12, "{names:?}");

        let entries = expected.as_array().expect("array");
        assert_eq!(entries.len(), 11);
        for entry in entries {
            let file = entry["file"].as_str().expect("file");
            let want = entry["expected"].as_str().expect("expected");
            let outcome = outcomes
                .iter()
                .find(|o| outcome_name(o) == file)
                .unwrap_or_else(|| panic!("no outcome for {file}"));
            match (want, outcome) {
                ("import", FileOutcome::Imported { items, .. }) => {
                    assert_eq!(items.len(), 1, "{file}");
                    assert_eq!(items[0].name, file);
                    assert_eq!(items[0].kind, MediaKind::Image);
                }
                ("partial", FileOutcome::Partial { items, errors, .. }) => {
                    assert!(!items.is_empty() && !errors.is_empty(), "{file}");
                }
                ("reject", FileOutcome::Rejected { .. }) => {}
                (
                    "reject_or_sniff",
                    FileOutcome::Rejected {
                        error: ImportError::ContentMismatch { actual, extension },
                        ..
                    },
                ) => {
                    assert_eq!(*actual, Format::Mp3);
                    assert_eq!(extension, "flac");
                }
                _ => panic!("{file}: expected {want}, got {outcome:?}"),
            }
        }

        let by_name = |n: &str| {
            outcomes
                .iter()
                .find(|o| outcome_name(o) == n)
                .expect("outcome")
        };
        let zoe = "Zoë's ID scan – copy (1) 📄.png";
        assert_eq!(by_name(zoe).items()[0].name, zoe);
        assert_eq!(
            by_name(zoe).items()[0].info,
            MediaInfo::Image {
                format: "png",
                width: 300,
                height: 200
            }
        );
        assert!(matches!(
            by_name("link_to_passwd.txt"),
            FileOutcome::Rejected {
                error: ImportError::Symlink,
                ..
            }
        ));
        assert!(matches!(
            by_name("README.md"),
            FileOutcome::Rejected {
                error: ImportError::UnsupportedType(ext),
                ..
            } if ext == "md"
        ));
        assert!(matches!(
            by_name("bomb_100000x100000.png"),
            FileOutcome::Rejected {
                error: ImportError::ImageTooManyPixels { .. },
                ..
            }
        ));
        assert!(matches!(
            by_name("empty.png"),
            FileOutcome::Rejected {
                error: ImportError::EmptyFile,
                ..
            }
        ));
        let random = by_name("random_bytes.wav");
        match random {
            FileOutcome::Rejected { error, .. } => assert_eq!(
                error.to_string(),
                "not a WAV file: no RIFF/WAVE header at the start; the file is damaged or not what its name says"
            ),
            other => panic!("{other:?}"),
        }
        for o in &outcomes {
            for item in o.items() {
                assert!(
                    !item.bytes.windows(5).any(|w| w == b"root:"),
                    "{} leaked /etc/passwd",
                    item.name
                );
            }
        }
    }

    #[test]
    fn symlink_given_directly_is_rejected_unread() {
        let link = fixtures().join("bad/link_to_passwd.txt");
        let mut outcomes = Vec::new();
        import_paths(&[link], &ImportOptions::default(), &mut |o| {
            outcomes.push(o)
        });
        assert_eq!(outcomes.len(), 1);
        assert!(matches!(
            outcomes[0],
            FileOutcome::Rejected {
                error: ImportError::Symlink,
                ..
            }
        ));
        assert_eq!(
            ImportError::Symlink.to_string(),
            "symbolic link, not followed; import the file it points to directly if you mean it"
        );
    }

    #[test]
    fn directory_walk_names_are_relative_sorted_and_skip_hidden() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("b/sub")).expect("mkdir");
        fs::create_dir_all(root.join(".hidden")).expect("mkdir");
        fs::write(root.join("b/sub/z.txt"), "deep").expect("write");
        fs::write(root.join("a.TXT"), "upper-case extension").expect("write");
        fs::write(root.join(".DS_Store"), [0u8, 1, 2]).expect("write");
        fs::write(root.join(".hidden/secret.txt"), "skip me").expect("write");
        fs::write(root.join("report.docx"), "PK").expect("write");
        fs::write(root.join("noext"), "x").expect("write");

        let mut outcomes = Vec::new();
        import_paths(&[root.to_path_buf()], &ImportOptions::default(), &mut |o| {
            outcomes.push(o)
        });
        let summary: Vec<(String, bool)> = outcomes
            .iter()
            .map(|o| match o {
                FileOutcome::Imported { items, .. } => (items[0].name.clone(), true),
                other => (outcome_name(other), false),
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a.TXT".to_owned(), true),
                ("b/sub/z.txt".to_owned(), true),
                ("noext".to_owned(), false),
                ("report.docx".to_owned(), false),
            ]
        );
        match &outcomes[3] {
            FileOutcome::Rejected { error, .. } => {
                assert!(
                    error
                        .to_string()
                        .starts_with("unsupported file type '.docx'")
                )
            }
            other => panic!("{other:?}"),
        }

        // A file given directly is named by its file name alone.
        let mut direct = Vec::new();
        import_paths(
            &[root.join("b/sub/z.txt")],
            &ImportOptions::default(),
            &mut |o| direct.push(o),
        );
        assert_eq!(direct[0].items()[0].name, "z.txt");
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_rejected_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.txt");
        // std has no mkfifo and `unsafe` is not allowed, so use the tool; skip without it.
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !status.is_ok_and(|s| s.success()) {
            return;
        }
        let mut outcomes = Vec::new();
        import_paths(
            &[dir.path().to_path_buf()],
            &ImportOptions::default(),
            &mut |o| outcomes.push(o),
        );
        assert!(matches!(
            outcomes.as_slice(),
            [FileOutcome::Rejected {
                error: ImportError::NotRegularFile("named pipe"),
                ..
            }]
        ));
    }

    #[test]
    fn missing_input_is_reported_and_batch_continues() {
        let mut outcomes = Vec::new();
        import_paths(
            &[
                fixtures().join("does-not-exist.png"),
                fixtures().join("bad/control_valid.jpg"),
            ],
            &ImportOptions::default(),
            &mut |o| outcomes.push(o),
        );
        assert!(matches!(
            outcomes[0],
            FileOutcome::Rejected {
                error: ImportError::Io { .. },
                ..
            }
        ));
        assert!(matches!(outcomes[1], FileOutcome::Imported { .. }));
    }

    #[test]
    fn oversized_file_is_refused_before_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.txt");
        fs::write(&path, vec![b'a'; 2048]).expect("write");
        let mut options = ImportOptions::default();
        options.limits.max_text_bytes = 1024;
        let mut outcomes = Vec::new();
        import_paths(&[path], &options, &mut |o| outcomes.push(o));
        match &outcomes[0] {
            FileOutcome::Rejected {
                error:
                    e @ ImportError::TooLarge {
                        size: 2048,
                        limit: 1024,
                    },
                ..
            } => assert_eq!(
                e.to_string(),
                "file is 2048 bytes, over the 1024 bytes limit; split it or raise the limit"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ImportError::TooLarge {
                size: 600 * MIB,
                limit: 512 * MIB
            }
            .to_string(),
            "file is 600 MiB, over the 512 MiB limit; split it or raise the limit"
        );
    }

    #[test]
    fn zero_length_file_is_empty_file() {
        for name in ["a.png", "a.wav", "a.txt", "a.jsonl", "a.csv"] {
            let err = inspect_file(name, Vec::new(), &ImportOptions::default())
                .expect_err("empty must fail");
            assert!(matches!(err, ImportError::EmptyFile), "{name}: {err}");
            assert_eq!(err.to_string(), "empty file (0 bytes)");
        }
    }

    #[test]
    fn random_bytes_in_every_extension_are_rejected() {
        // A fixed xorshift stream: reproducible, and no valid header by construction.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut random = Vec::with_capacity(8192);
        for _ in 0..8192 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            random.push((state >> 24) as u8);
        }
        for ext in [
            "jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp", "wav", "flac", "ogg", "oga",
            "mp3", "txt", "jsonl", "ndjson", "csv",
        ] {
            let name = format!("noise.{ext}");
            let result = inspect_file(&name, random.clone(), &ImportOptions::default());
            assert!(result.is_err(), "{name} was accepted: {result:?}");
        }
    }

    #[test]
    fn renamed_file_is_a_content_mismatch() {
        let mp3 = fs::read(fixtures().join("bad/actually_mp3.flac")).expect("fixture");
        let err = inspect_file("actually_mp3.flac", mp3, &ImportOptions::default())
            .expect_err("mismatch");
        assert_eq!(
            err.to_string(),
            "content does not match extension: named .flac but the bytes are MP3; rename the file or check where it came from"
        );
        let png = fs::read(fixtures().join("import/camera_gray.png")).expect("fixture");
        let err = inspect_file("photo.JPG", png, &ImportOptions::default()).expect_err("mismatch");
        assert!(
            matches!(&err, ImportError::ContentMismatch { extension, actual: Format::Png } if extension == "jpg"),
            "{err}"
        );
    }

    #[test]
    fn items_carry_sha256_of_their_bytes() {
        let bytes = fs::read(fixtures().join("import/astronaut.jpg")).expect("fixture");
        let original = bytes.clone();
        let got = inspect_file("astronaut.jpg", bytes, &ImportOptions::default()).expect("ok");
        let item = &got.items[0];
        assert_eq!(item.bytes, original, "media bytes must be unchanged");
        let want: [u8; 32] = Sha256::digest(&original).into();
        assert_eq!(item.sha256, want);
        assert_eq!(item.metadata, serde_json::json!({}));
        assert_eq!(
            serde_json::to_string(&MediaKind::Audio).expect("serialise"),
            "\"audio\""
        );
        assert_eq!(MediaKind::Text.as_str(), "text");
    }
}
