//! Hostile files of kinds that `tests/fixtures/bad/` does not hold, each built here (nothing
//! large is committed): PNG with a bad CRC (IHDR and IDAT), a TIFF whose header claims
//! 100000 x 100000 px, a WAV whose data chunk claims more bytes than the file has, WAVs
//! declaring 0 Hz or 4 GHz and an MP3 whose Info tag has more padding than frames (both found
//! by `hostile_mutations.rs`), a FLAC comment and an ID3 frame claiming 4 GiB (found by the
//! fuzz target and by the mutation test's allocation count), zero-length files of every
//! extension, a 5 MB single JSONL line,
//! UTF-16 text (LE and BE, with BOM) as .txt, .jsonl and .csv, and a CSV with a UTF-8 BOM and
//! CRLF line endings. Each test pins the exact outcome: how many items, or which error naming
//! what and where. The threat model's hostile-input rows link here.

use sealtag::Session;
use sealtag::crypto::UnlockedIdentity;
use sealtag::import::{
    FileOutcome, ImportError, ImportOptions, Inspected, MediaInfo, MediaKind, import_paths,
    inspect_file,
};
use sealtag::privacy::pii::{Detector, InputKind};
use std::io::Cursor;

fn inspect(name: &str, bytes: Vec<u8>) -> Result<Inspected, ImportError> {
    inspect_file(name, bytes, &ImportOptions::default())
}

fn text_of(inspected: &Inspected, index: usize) -> &str {
    std::str::from_utf8(&inspected.items[index].bytes).expect("stored text is UTF-8")
}

// ---------------------------------------------------------------------------
// PNG with a bad CRC

/// A valid 16 x 12 RGB PNG, encoded here.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 77]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

/// Byte offset of the CRC of the first chunk of type `kind` (chunks: length, type, data, CRC).
fn crc_offset(png: &[u8], kind: &[u8; 4]) -> usize {
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        if &png[at + 4..at + 8] == kind {
            return at + 8 + len;
        }
        at += 12 + len;
    }
    panic!("no {} chunk", String::from_utf8_lossy(kind));
}

/// The PNG's CRC stored at `at`, as the message prints it.
fn stored_crc(png: &[u8], at: usize) -> String {
    format!(
        "0x{:08x}",
        u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"))
    )
}

#[test]
fn png_with_a_bad_idat_crc_is_refused_naming_the_chunk_and_its_offset() {
    let good = png();
    assert!(
        inspect("ok.png", good.clone()).is_ok(),
        "the control must import"
    );
    let mut bad = good.clone();
    let at = crc_offset(&bad, b"IDAT");
    bad[at] ^= 0x5A;
    let chunk_at = crc_offset(&good, b"IHDR") + 4; // IDAT follows IHDR in what `image` writes
    assert_eq!(&bad[chunk_at + 4..chunk_at + 8], b"IDAT");
    let err = inspect("bad_idat_crc.png", bad.clone()).expect_err("a corrupt IDAT is refused");
    assert!(matches!(err, ImportError::ImageDecode { .. }), "{err:?}");
    // Before: "... CRC error: expected 0x.. have 0x.. while decoding ChunkType { type: IDAT,
    // critical: true, private: false, reserved: false, safecopy: false } chunk." — no offset.
    assert_eq!(
        err.to_string(),
        format!(
            "could not decode PNG image: CRC mismatch in the IDAT chunk at byte offset {chunk_at} \
             (stored {}, computed {}); the file is corrupt or uses an unsupported feature",
            stored_crc(&bad, at),
            stored_crc(&good, at)
        )
    );
}

#[test]
fn png_with_a_bad_ihdr_crc_is_refused_before_its_dimensions_are_trusted() {
    let good = png();
    let mut bad = good.clone();
    let at = crc_offset(&bad, b"IHDR");
    assert_eq!(at, 29, "IHDR is the first chunk: 8 + 4 + 4 + 13");
    bad[at + 3] ^= 0x01;
    let err = inspect("bad_ihdr_crc.png", bad.clone()).expect_err("a corrupt IHDR is refused");
    assert_eq!(
        err.to_string(),
        format!(
            "could not decode PNG image: CRC mismatch in the IHDR chunk at byte offset 8 \
             (stored {}, computed {}); the file is corrupt or uses an unsupported feature",
            stored_crc(&bad, at),
            stored_crc(&good, at)
        )
    );
    // A PNG that fails for another reason keeps the decoder's own message.
    let cut = good[..good.len() - 20].to_vec();
    let err = inspect("cut.png", cut).expect_err("cut off");
    assert!(!err.to_string().contains("CRC mismatch"), "{err}");
}

// ---------------------------------------------------------------------------
// TIFF claiming 100000 x 100000 px

/// A little-endian TIFF whose first IFD claims `width` x `height` 8-bit grey pixels, with a
/// single strip of 16 bytes: for 4 x 4 px a complete image, for more the pixels are missing.
fn tiff_claiming(width: u32, height: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, width),  // ImageWidth, LONG
        (257, 4, height), // ImageLength, LONG
        (258, 3, 8),      // BitsPerSample, SHORT
        (259, 3, 1),      // Compression: none
        (262, 3, 1),      // PhotometricInterpretation: BlackIsZero
        (273, 4, 0),      // StripOffsets (patched below)
        (277, 3, 1),      // SamplesPerPixel
        (278, 4, height), // RowsPerStrip
        (279, 4, 16),     // StripByteCounts
    ];
    let ifd_len = 2 + entries.len() * 12 + 4;
    let data_at = (8 + ifd_len) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        let value = if tag == 273 { data_at } else { value };
        if kind == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[0x80; 16]);
    out
}

#[test]
fn tiff_claiming_100000_squared_px_is_refused_from_its_header_naming_the_size() {
    let bytes = tiff_claiming(100_000, 100_000);
    assert!(bytes.len() < 200, "the whole file is {} bytes", bytes.len());
    let err = inspect("huge.tiff", bytes).expect_err("must be refused");
    assert!(
        matches!(
            err,
            ImportError::ImageTooManyPixels {
                width: 100_000,
                height: 100_000,
                pixels: 10_000_000_000,
                limit: 64_000_000,
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "image is 100000 x 100000 px (10000000000 px), over the limit of 64000000 px; downscale it before importing"
    );
    // The same hand-built header with 4 x 4 px is a valid image: the TIFF reader understands
    // it, so the refusal above came from the header's dimensions, before any decoding.
    let got = inspect("small.tif", tiff_claiming(4, 4)).expect("a valid 4 x 4 TIFF");
    assert_eq!(
        got.items[0].info,
        MediaInfo::Image {
            format: "tiff",
            width: 4,
            height: 4
        }
    );
    // Just over the pixel limit by one row is refused the same way.
    let err = inspect("over.tiff", tiff_claiming(8_000, 8_001)).expect_err("over the limit");
    assert!(
        matches!(
            err,
            ImportError::ImageTooManyPixels {
                width: 8_000,
                height: 8_001,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// WAV whose data chunk claims more than the file holds

/// 16-bit mono PCM at 8 kHz holding `frames` frames whose header claims `claimed` frames.
fn wav(frames: u32, claimed: u32) -> Vec<u8> {
    let rate = 8_000u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + claimed * 2).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(claimed * 2).to_le_bytes());
    for i in 0..frames {
        w.extend_from_slice(&(((i * 37) % 2000) as i16 - 1000).to_le_bytes());
    }
    w
}

fn duration_of(inspected: &Inspected) -> f64 {
    match inspected.items[0].info {
        MediaInfo::Audio { duration_secs, .. } => duration_secs,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn wav_claiming_ten_seconds_but_holding_half_a_second_imports_the_real_length() {
    // The decoder reads packets until the bytes run out; the duration reported (and stored)
    // is what decoded, never the header's claim.
    let got = inspect("short.wav", wav(4_000, 80_000)).expect("the frames present import");
    assert_eq!(got.items.len(), 1);
    assert!(
        (duration_of(&got) - 0.5).abs() < 1e-9,
        "{}",
        duration_of(&got)
    );
    // The stored bytes are the file as given, claim included.
    assert_eq!(got.items[0].bytes, wav(4_000, 80_000));

    // A claim beyond the time limit is refused from the header before decoding.
    let mut options = ImportOptions::default();
    options.limits.max_audio_secs = 5.0;
    let err = inspect_file("claims_10s.wav", wav(4_000, 80_000), &options)
        .expect_err("over the limit by its header");
    match err {
        ImportError::AudioTooLong { secs, limit } => {
            assert!((secs - 10.0).abs() < 1e-9, "{secs}");
            assert!((limit - 5.0).abs() < f64::EPSILON);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wav_claiming_more_data_than_present_with_no_samples_is_refused_clearly() {
    // Data chunk claims 10 s, not one sample follows: nothing decodes.
    let err = inspect("claims_10s_has_0.wav", wav(0, 80_000)).expect_err("no samples");
    assert!(matches!(err, ImportError::AudioEmpty), "{err:?}");
    assert_eq!(
        err.to_string(),
        "audio contains no samples (0 frames decoded)"
    );

    // The largest claim a 32-bit size field allows is refused from the header (as over the
    // time limit, before a single packet is read), whatever the file holds.
    let mut bytes = wav(400, 0);
    let data_len_at = 40;
    assert_eq!(&bytes[data_len_at - 4..data_len_at], b"data");
    bytes[data_len_at..data_len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = inspect("claims_4gib.wav", bytes).expect_err("over the limit by its header");
    match &err {
        // u32::MAX bytes of 16-bit mono at 8 kHz: 2147483647 frames = 268435.46 s.
        ImportError::AudioTooLong { secs, limit } => {
            assert!((secs - 268_435.455_875).abs() < 1e-3, "{secs}");
            assert!((limit - 14_400.0).abs() < f64::EPSILON);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "audio is 268435.5 s long, over the limit of 14400 s; split it before importing"
    );
}

#[test]
fn wav_declaring_0_hz_or_4_ghz_is_refused_naming_the_fmt_chunk() {
    // 0 Hz used to reach symphonia's WAV reader, which panics on it (a zero time base): the
    // panic was contained, but the message said only that "the WAV decoder crashed".
    let mut zero = wav(400, 400);
    zero[24..28].copy_from_slice(&0u32.to_le_bytes());
    let err = inspect("zero_hz.wav", zero).expect_err("0 Hz");
    assert!(matches!(err, ImportError::AudioOpen { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "could not open WAV audio: fmt chunk at byte offset 12: the stream declares a sample \
         rate of 0 Hz (1 to 768000 Hz are supported); the file is corrupt or uses an unsupported codec"
    );
    // 4 GHz used to import, as a recording of 400 "samples" lasting 0.1 µs in all, which the
    // masking decoder then refuses far from the file it came from.
    let mut fast = wav(400, 400);
    fast[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = inspect("4_ghz.wav", fast).expect_err("4 GHz");
    assert!(
        err.to_string().starts_with(
            "could not open WAV audio: fmt chunk at byte offset 12: the stream declares a \
             sample rate of 4294967295 Hz (1 to 768000 Hz are supported)"
        ),
        "{err}"
    );
    // The masking decoder, which has no panic net of its own, refuses it the same way (it
    // used to panic when asked to mask a range of such a file).
    let mut zero = wav(400, 400);
    zero[24..28].copy_from_slice(&0u32.to_le_bytes());
    let range = sealtag::privacy::audio_mask::AudioRange {
        start_secs: 0.0,
        end_secs: 0.01,
        style: sealtag::privacy::audio_mask::AudioStyle::Mute,
    };
    let err = sealtag::privacy::audio_mask::derive_audio(&zero, "wav", &[range], None, 60.0)
        .expect_err("0 Hz");
    assert!(
        err.to_string().starts_with(
            "the wav file is malformed: fmt chunk at byte offset 12: the stream declares a \
             sample rate of 0 Hz"
        ),
        "{err}"
    );
    // The highest supported rate still imports.
    let mut top = wav(768, 768);
    top[24..28].copy_from_slice(&768_000u32.to_le_bytes());
    top[28..32].copy_from_slice(&1_536_000u32.to_le_bytes());
    let got = inspect("768k.wav", top).expect("768 kHz is supported");
    assert!((duration_of(&got) - 0.001).abs() < 1e-9);
}

#[test]
fn mp3_whose_info_tag_has_more_padding_than_frames_is_refused_naming_the_tag() {
    // Found by tests/hostile_mutations.rs: symphonia subtracts the LAME delay and padding from
    // the tag's frame count unchecked (a panic with overflow checks, an absurd length without).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/call_04_22k.mp3"
    );
    let mut bytes = std::fs::read(path).expect("fixture");
    assert_eq!(&bytes[174..178], b"Info", "the fixture's Info tag");
    bytes[182..186].copy_from_slice(&0u32.to_le_bytes()); // frame count: 1122 -> 0
    let err = inspect("no_frames.mp3", bytes.clone()).expect_err("corrupt tag");
    assert!(matches!(err, ImportError::AudioOpen { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(
            "could not open MP3 audio: the Info tag at byte offset 174 declares 0 frames \
             (0 samples) but "
        ),
        "{message}"
    );
    assert!(
        message.contains(" samples of encoder delay and "),
        "{message}"
    );
    // The masking decoder runs the same guard instead of reaching the overflow.
    let err = sealtag::privacy::audio_mask::derive_audio(&bytes, "mp3", &[], None, 60.0)
        .expect_err("corrupt tag");
    assert!(
        err.to_string()
            .starts_with("the mp3 file is malformed: the Info tag at byte offset 174"),
        "{err}"
    );
}

#[test]
fn flac_comment_claiming_4_gib_is_refused_before_anything_is_allocated() {
    // Found by the audio_derive fuzz target (libFuzzer: "out-of-memory (malloc(4294967064))"):
    // symphonia allocates a Vorbis comment's declared length before reading it, so a 200-byte
    // file asked for 4 GiB. The length is now checked against the block first.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/call_02_16k.flac"
    );
    let mut bytes = std::fs::read(path).expect("fixture");
    assert_eq!(
        bytes[118] & 0x7F,
        4,
        "the fixture's VORBIS_COMMENT block is at 118"
    );
    bytes[162..166].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let err = inspect("comment_bomb.flac", bytes.clone()).expect_err("refused");
    assert!(matches!(err, ImportError::AudioOpen { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "could not open FLAC audio: comment 1 of the VORBIS_COMMENT block declares 4294967280 \
         bytes at byte offset 162 but only 24 follow; the file is corrupt or uses an unsupported codec"
    );
    let err = sealtag::privacy::audio_mask::derive_audio(&bytes, "flac", &[], None, 60.0)
        .expect_err("refused");
    assert!(
        err.to_string().starts_with(
            "the flac file is malformed: comment 1 of the VORBIS_COMMENT block declares"
        ),
        "{err}"
    );
}

#[test]
fn mp3_id3_frame_claiming_4_gib_is_refused_before_anything_is_allocated() {
    // Found by tests/hostile_mutations.rs once it counted allocations: an ID3v2.3 frame size
    // is a plain 32-bit number, and symphonia allocated it before reading the frame.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/call_04_22k.mp3"
    );
    let mut bytes = std::fs::read(path).expect("fixture");
    // ID3v2.3 tag of 151 bytes (syncsafe 00 00 01 17); its first frame right after the header.
    assert_eq!(&bytes[6..10], &[0, 0, 1, 0x17]);
    assert_eq!(&bytes[10..14], b"TIT2", "the fixture's first ID3 frame");
    bytes[14..18].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    let err = inspect("id3_bomb.mp3", bytes.clone()).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "could not open MP3 audio: the ID3v2 frame 'TIT2' at byte offset 10 declares 4294967280 \
         bytes but only 141 follow in the tag; the file is corrupt or uses an unsupported codec"
    );
    let range = sealtag::privacy::audio_mask::AudioRange {
        start_secs: 0.0,
        end_secs: 0.5,
        style: sealtag::privacy::audio_mask::AudioStyle::Tone,
    };
    let err = sealtag::privacy::audio_mask::derive_audio(&bytes, "mp3", &[range], None, 60.0)
        .expect_err("refused");
    assert!(
        err.to_string()
            .starts_with("the mp3 file is malformed: the ID3v2 frame 'TIT2' at byte offset 10"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Zero-length files

#[test]
fn zero_length_files_of_every_extension_are_empty_file_and_the_batch_goes_on() {
    let extensions = [
        "png", "jpg", "jpeg", "gif", "webp", "tiff", "bmp", "wav", "flac", "ogg", "mp3", "txt",
        "jsonl", "csv",
    ];
    for ext in extensions {
        let err = inspect(&format!("empty.{ext}"), Vec::new()).expect_err("empty");
        assert!(matches!(err, ImportError::EmptyFile), "{ext}: {err:?}");
    }
    // On disk, in one folder with one good file: every empty one is reported by name, and
    // the good file still imports.
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in extensions {
        std::fs::write(dir.path().join(format!("empty.{ext}")), b"").expect("write");
    }
    std::fs::write(dir.path().join("good.txt"), "still here").expect("write");
    let mut outcomes = Vec::new();
    import_paths(
        &[dir.path().to_path_buf()],
        &ImportOptions::default(),
        &mut |o| outcomes.push(o),
    );
    assert_eq!(outcomes.len(), extensions.len() + 1);
    let mut rejected = 0;
    for outcome in &outcomes {
        match outcome {
            FileOutcome::Rejected { path, error } => {
                assert!(matches!(error, ImportError::EmptyFile), "{path:?}: {error}");
                assert_eq!(error.to_string(), "empty file (0 bytes)");
                rejected += 1;
            }
            FileOutcome::Imported { items, .. } => {
                assert_eq!(items[0].name, "good.txt");
                assert_eq!(items[0].bytes, b"still here");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(rejected, extensions.len());
}

// ---------------------------------------------------------------------------
// A 5 MB single JSONL line

const FIVE_MB: usize = 5 * 1024 * 1024;

fn long_text() -> String {
    // Words with some PII-looking content scattered through, so the scanner has work to do.
    let mut text = String::with_capacity(FIVE_MB + 64);
    let mut n = 0u64;
    while text.len() < FIVE_MB {
        n += 1;
        if n.is_multiple_of(5_000) {
            text.push_str("mail ann.example@example.org now ");
        } else {
            text.push_str("lorem ipsum dolor ");
        }
    }
    text.truncate(FIVE_MB);
    text
}

#[test]
fn a_5_mb_single_jsonl_line_imports_as_one_record() {
    let text = long_text();
    let line = serde_json::json!({"id": "big", "text": text, "lang": "la"}).to_string();
    assert!(line.len() > FIVE_MB && !line.contains('\n'));
    let got = inspect("one_line.jsonl", line.into_bytes()).expect("one record");
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].name, "one_line.jsonl#big");
    assert_eq!(got.items[0].kind, MediaKind::Text);
    assert_eq!(
        got.items[0].info,
        MediaInfo::Text {
            char_len: FIVE_MB as u64
        }
    );
    assert_eq!(text_of(&got, 0), text);
    assert_eq!(
        got.items[0].metadata,
        serde_json::json!({"lang": "la", "source_id": "big"})
    );
}

#[test]
fn a_5_mb_jsonl_line_cut_off_is_refused_naming_line_and_column_not_echoing_it() {
    let text = long_text();
    let mut line = serde_json::json!({"id": "big", "text": text}).to_string();
    line.truncate(line.len() - 2); // drop the closing quote and brace
    let file = format!("{{\"id\": \"ok\", \"text\": \"short\"}}\n{line}\n");
    let got = inspect("cut.jsonl", file.into_bytes()).expect("the good line imports");
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.errors.len(), 1);
    let error = &got.errors[0];
    assert_eq!(error.line, 2);
    // The id is still read from the start of the broken line.
    assert_eq!(error.record_id.as_deref(), Some("big"));
    assert!(
        error.message.starts_with("invalid JSON at column "),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("EOF while parsing a string"),
        "{}",
        error.message
    );
    // The message names the place; it does not carry megabytes of the record with it.
    assert!(error.message.len() < 200, "{} bytes", error.message.len());
}

#[test]
fn a_5_mb_line_over_a_lower_text_limit_is_refused_by_size() {
    let line = serde_json::json!({"text": long_text()}).to_string();
    let size = line.len() as u64;
    let mut options = ImportOptions::default();
    options.limits.max_text_bytes = 4 * 1024 * 1024;
    let err = inspect_file("one_line.jsonl", line.into_bytes(), &options).expect_err("too big");
    assert!(
        matches!(err, ImportError::TooLarge { size: s, limit } if s == size && limit == 4 * 1024 * 1024),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("over the 4 MiB limit; split it or raise the limit")
    );
}

#[test]
fn a_5_mb_line_goes_through_the_pii_scanner_in_one_record() {
    let text = long_text();
    let line = serde_json::json!({"id": 7, "text": text}).to_string();
    let started = std::time::Instant::now();
    let report = Detector::new(["Ann Example"])
        .scan_records(line.as_bytes(), InputKind::Jsonl, "text")
        .expect("jsonl never fails as a whole");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.records.len(), 1);
    assert_eq!(report.records[0].id.as_deref(), Some("7"));
    // One e-mail every 5000 phrases of ~18 bytes: 5 MiB holds 58 of them.
    let emails = report.records[0]
        .spans
        .iter()
        .filter(|s| s.kind.tag() == "EMAIL")
        .count();
    assert_eq!(emails, 58);
    // Linear work: a quadratic scanner would take minutes on 5 MB even optimised.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

// ---------------------------------------------------------------------------
// UTF-16 with a byte-order mark

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_txt_le_and_be_are_decoded_to_utf8() {
    let text = "Zoë Ünal – 📄 contract\r\nline two";
    for big_endian in [false, true] {
        let got = inspect("notepad.txt", utf16(text, big_endian)).expect("decoded");
        assert_eq!(got.items.len(), 1);
        assert_eq!(text_of(&got, 0), text, "big endian: {big_endian}");
        assert_eq!(
            got.items[0].info,
            MediaInfo::Text {
                char_len: text.chars().count() as u64
            }
        );
    }
    // Cut inside a code unit: refused naming UTF-16 and the byte.
    let mut cut = utf16("abc", false);
    cut.pop();
    let err = inspect("cut.txt", cut).expect_err("odd length");
    assert!(
        matches!(err, ImportError::InvalidUtf16 { offset: 6, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("invalid UTF-16 at byte offset 6: odd number of bytes")
    );
}

#[test]
fn utf16_jsonl_and_csv_are_decoded_not_refused_as_invalid_utf8() {
    // Excel's "Unicode text" and Notepad write UTF-16 with a BOM. Before this was handled
    // every line was refused as "invalid UTF-8 at byte offset 0".
    let jsonl = "{\"id\": \"a\", \"text\": \"Grüße aus Köln\"}\r\n{\"id\": \"b\", \"text\": \"📄 second\"}\r\n";
    let csv = "id,text,lang\r\n1,Grüße,de\r\n2,\"two, with comma\",en\r\n";
    for big_endian in [false, true] {
        let got = inspect("u16.jsonl", utf16(jsonl, big_endian)).expect("decoded jsonl");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let names: Vec<&str> = got.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["u16.jsonl#a", "u16.jsonl#b"]);
        assert_eq!(text_of(&got, 0), "Grüße aus Köln");
        assert_eq!(text_of(&got, 1), "📄 second");

        let got = inspect("u16.csv", utf16(csv, big_endian)).expect("decoded csv");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let names: Vec<&str> = got.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["u16.csv#1", "u16.csv#2"]);
        assert_eq!(text_of(&got, 0), "Grüße");
        assert_eq!(text_of(&got, 1), "two, with comma");
        assert_eq!(
            got.items[0].metadata,
            serde_json::json!({"lang": "de", "source_id": "1"})
        );
    }
    // Broken UTF-16 in a record file is named as such, with its byte offset.
    let mut bad = utf16("{\"text\": \"a\"}", false);
    bad.extend_from_slice(&[0x00, 0xDC]); // a lone low surrogate at byte 28
    let err = inspect("bad16.jsonl", bad).expect_err("lone surrogate");
    assert!(
        matches!(
            err,
            ImportError::InvalidUtf16 {
                offset: 28,
                reason: "unpaired surrogate"
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid UTF-16 at byte offset 28: unpaired surrogate; re-save the file as UTF-8"
    );
}

// ---------------------------------------------------------------------------
// CSV with a UTF-8 BOM and CRLF

#[test]
fn csv_with_bom_and_crlf_imports_through_the_session_without_bom_or_cr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut session = Session::create_project(
        &dir.path().join("p.sealtag"),
        "Hostile",
        UnlockedIdentity::generate("Admin"),
    )
    .expect("project");
    // The BOM sits right before the first column name; every line ends in CRLF, one quoted
    // field holds a CRLF of its own, and the last line has no line ending at all.
    let csv = b"\xEF\xBB\xBFid,text,lang\r\nr1,Bonjour,fr\r\nr2,\"two\r\nlines\",en\r\nr3,last,de";
    let report = session
        .import_bytes("excel.csv", csv.to_vec(), &ImportOptions::default())
        .expect("import");
    assert_eq!(report.outcome, "imported", "{:?}", report.errors);
    assert_eq!(report.item_ids.len(), 3);
    let mut texts = Vec::new();
    for id in &report.item_ids {
        let item = session.load_item(*id).expect("load");
        let text = String::from_utf8(item.bytes.to_vec()).expect("utf-8");
        // The BOM is not part of the first column name: `id` was found, so the item is
        // named by it and the metadata has no "\u{feff}id" key.
        assert!(
            item.summary.name.starts_with("excel.csv#r"),
            "{}",
            item.summary.name
        );
        let meta = item.metadata.as_object().expect("object");
        assert!(meta.keys().all(|k| !k.contains('\u{feff}')), "{meta:?}");
        assert!(
            meta.values()
                .all(|v| !v.as_str().unwrap_or("").contains('\r')),
            "{meta:?}"
        );
        texts.push((item.summary.name.clone(), text, item.metadata.clone()));
    }
    assert_eq!(texts[0].0, "excel.csv#r1");
    assert_eq!(texts[0].1, "Bonjour");
    assert_eq!(
        texts[0].2,
        serde_json::json!({"lang": "fr", "source_id": "r1"})
    );
    // Only a line break inside quotes is content, and it is kept exactly.
    assert_eq!(texts[1].1, "two\r\nlines");
    assert_eq!(texts[2].1, "last");
    assert_eq!(
        texts[2].2,
        serde_json::json!({"lang": "de", "source_id": "r3"})
    );

    // The PII scanner reads the same file the same way: the BOM does not hide the column.
    let scan = Detector::default()
        .scan_records(csv, InputKind::Csv, "text")
        .expect("header found");
    assert_eq!(scan.records.len(), 3);
    let ids: Vec<Option<&str>> = scan.records.iter().map(|r| r.id.as_deref()).collect();
    assert_eq!(ids, [Some("r1"), Some("r2"), Some("r3")]);
}

#[test]
fn every_hostile_kind_in_one_session_batch_is_reported_and_the_good_file_imports() {
    // The same files through the session, one after another: a refusal is recorded as such
    // and never stops the next file.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut session = Session::create_project(
        &dir.path().join("p.sealtag"),
        "Hostile",
        UnlockedIdentity::generate("Admin"),
    )
    .expect("project");
    let mut bad_crc = png();
    let at = crc_offset(&bad_crc, b"IDAT");
    bad_crc[at] ^= 1;
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad_crc.png", bad_crc, "rejected"),
        ("huge.tiff", tiff_claiming(100_000, 100_000), "rejected"),
        ("short.wav", wav(4_000, 80_000), "imported"),
        ("empty.flac", Vec::new(), "rejected"),
        ("u16.txt", utf16("hello", true), "imported"),
        ("good.png", png(), "imported"),
    ];
    for (name, bytes, want) in files {
        let report = session
            .import_bytes(name, bytes, &ImportOptions::default())
            .expect("a refusal is a report, not an error");
        assert_eq!(report.outcome, want, "{name}: {:?}", report.errors);
        if want == "rejected" {
            assert_eq!(report.errors.len(), 1);
            assert!(!report.errors[0].is_empty());
        }
    }
    let items = session.items().expect("items");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["short.wav", "u16.txt", "good.png"]);
}
