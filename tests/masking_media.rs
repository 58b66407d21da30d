//! Masked derivatives of the privacy fixtures: covered pixels change and no
//! other does, masked audio is silent (or exactly the tone) where the
//! personal data is spoken and untouched elsewhere, windows cut where they
//! say, tags and metadata do not survive, and hostile bytes give errors,
//! never panics. Region and time figures are copied from the fixtures'
//! ground truth (`fixtures/images/annotations.json`,
//! `fixtures/audio/segments.jsonl`), which CI does not have.

use std::f64::consts::TAU;
use std::path::PathBuf;

use image::{ImageEncoder, RgbaImage};
use sealtag::privacy::audio_mask::{
    self, AudioRange, AudioStyle, MaskError, Pcm, apply_ranges, cut_window, decode_pcm,
    derive_audio, encode_wav, sample_rate, strip_tags,
};
use sealtag::privacy::image_mask::{Crop, Region, RegionStyle, Shape, apply_regions, derive_image};

/// Face placeholder of `id_card_fake.png`: x, y, w, h.
const ID_CARD_FACE: [f64; 4] = [142.0, 220.0, 156.0, 222.0];
/// Licence plate of `street_plate_fake.jpg`.
const STREET_PLATE: [f64; 4] = [476.0, 640.0, 248.0, 54.0];
/// Personal data spoken in `call_01_telephone_16k.wav`, seconds.
const CALL_01_PERSON: (f64, f64) = (5.05, 6.402);
const CALL_01_PHONE: (f64, f64) = (15.138, 18.556);
const CALL_01_EMAIL: (f64, f64) = (19.102, 22.297);
const CALL_01_CREDIT_CARD: (f64, f64) = (30.623, 35.571);
const CALL_01_PII: [(f64, f64); 4] = [
    CALL_01_PERSON,
    CALL_01_PHONE,
    CALL_01_EMAIL,
    CALL_01_CREDIT_CARD,
];
const MAX_PIXELS: u64 = 64_000_000;
const MAX_SECS: f64 = 3600.0;

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn rect(b: [f64; 4], style: RegionStyle) -> Region {
    Region {
        shape: Shape::Rect {
            x: b[0],
            y: b[1],
            w: b[2],
            h: b[3],
        },
        style,
    }
}

fn luma_variance(img: &RgbaImage, b: [f64; 4]) -> f64 {
    let mut values = Vec::new();
    for y in b[1] as u32..(b[1] + b[3]) as u32 {
        for x in b[0] as u32..(b[0] + b[2]) as u32 {
            let p = img.get_pixel(x, y).0;
            values
                .push(0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]));
        }
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
}

/// Every pixel for which `inside` is false is bit-identical.
fn assert_outside_identical(
    before: &RgbaImage,
    after: &RgbaImage,
    inside: impl Fn(u32, u32) -> bool,
) {
    assert_eq!(before.dimensions(), after.dimensions());
    let mut changed_outside = 0;
    for (x, y, p) in after.enumerate_pixels() {
        if !inside(x, y) && p != before.get_pixel(x, y) {
            changed_outside += 1;
        }
    }
    assert_eq!(changed_outside, 0, "pixels outside the regions changed");
}

// ---------------------------------------------------------------------------
// Images

#[test]
fn fill_greys_every_pixel_a_rect_or_polygon_touches_and_no_other() {
    let before = RgbaImage::from_fn(120, 100, |x, y| {
        image::Rgba([
            (x * 7 % 251) as u8,
            (y * 13 % 241) as u8,
            ((x ^ y) % 256) as u8,
            255,
        ])
    });
    let mut after = before.clone();
    let diamond = Region {
        shape: Shape::Polygon {
            points: vec![[50.0, 30.0], [70.0, 50.0], [50.0, 70.0], [30.0, 50.0]],
        },
        style: RegionStyle::Fill,
    };
    apply_regions(
        &mut after,
        &[rect([80.3, 10.5, 20.4, 30.0], RegionStyle::Fill), diamond],
    );
    // Rect: columns floor(80.3) .. ceil(100.7), rows 10 .. ceil(40.5).
    let in_rect = |x: u32, y: u32| (80..101).contains(&x) && (10..41).contains(&y);
    // Diamond |x - 50| + |y - 50| <= 20: a pixel's open square meets it
    // when the square's nearest distances to the centre lines sum below 20.
    let in_diamond = |x: u32, y: u32| {
        let d = |v: u32| if v >= 50 { v - 50 } else { 49 - v };
        d(x) + d(y) < 20
    };
    let inside = |x: u32, y: u32| in_rect(x, y) || in_diamond(x, y);
    let mut grey = 0;
    for (x, y, p) in after.enumerate_pixels() {
        if inside(x, y) {
            assert_eq!(p.0, [128, 128, 128, 255], "({x}, {y}) not filled");
            grey += 1;
        }
    }
    // 21 x 31 rect + 4 quadrants of 20 * 21 / 2 pixels (area 800, plus the
    // pixels the slanted edges cut through).
    assert_eq!(grey, 21 * 31 + 840);
    assert_outside_identical(&before, &after, inside);
}

#[test]
fn blur_and_pixelate_flatten_the_id_card_face_and_nothing_else() {
    let before = image::load_from_memory(&fixture("privacy/id_card_fake.png"))
        .unwrap()
        .to_rgba8();
    assert_eq!(before.dimensions(), (1200, 800));
    let face = ID_CARD_FACE;
    let inside = |x: u32, y: u32| (142..298).contains(&x) && (220..442).contains(&y);
    let v0 = luma_variance(&before, face);
    // The face placeholder has real detail, so a no-op blur would fail.
    assert!(v0 > 500.0, "face variance {v0}");

    let mut blurred = before.clone();
    apply_regions(&mut blurred, &[rect(face, RegionStyle::Blur)]);
    let v_blur = luma_variance(&blurred, face);
    eprintln!(
        "face luma variance {v0:.1} -> blur {v_blur:.1} ({:.1} % drop)",
        100.0 * (1.0 - v_blur / v0)
    );
    assert!(v_blur < 0.2 * v0, "blur: {v0} -> {v_blur}");
    assert_outside_identical(&before, &blurred, inside);

    let mut pixelated = before.clone();
    apply_regions(&mut pixelated, &[rect(face, RegionStyle::Pixelate)]);
    // Block = max(12, min(156, 222) / 6) = 26 px, aligned to the box.
    let block = 26;
    let mut blocks = 0;
    for by in (220..442).step_by(block) {
        for bx in (142..298).step_by(block) {
            let first = pixelated.get_pixel(bx, by);
            for y in by..(by + block as u32).min(442) {
                for x in bx..(bx + block as u32).min(298) {
                    assert_eq!(pixelated.get_pixel(x, y), first, "block ({bx}, {by})");
                }
            }
            blocks += 1;
        }
    }
    assert_eq!(blocks, 6 * 9);
    let v_pix = luma_variance(&pixelated, face);
    eprintln!("face luma variance {v0:.1} -> pixelate {v_pix:.1}");
    assert!(v_pix < v0, "pixelate: {v0} -> {v_pix}");
    assert_outside_identical(&before, &pixelated, inside);
}

/// The JPEG marker segments before the scan: (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "not a JPEG");
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        out.push((marker, bytes[pos + 4..pos + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        pos += 2 + len;
    }
    out
}

#[test]
fn plate_fill_and_crop_give_a_jpeg_of_the_crop_without_exif() {
    let original = fixture("privacy/street_plate_fake.jpg");
    let crop = Crop {
        x: 400,
        y: 560,
        w: 420,
        h: 200,
    };
    let (out, format, w, h) = derive_image(
        &original,
        "jpeg",
        &[rect(STREET_PLATE, RegionStyle::Fill)],
        Some(crop),
        MAX_PIXELS,
    )
    .unwrap();
    assert_eq!((format, w, h), ("jpeg", 420, 200));
    let segments = jpeg_segments(&out);
    assert!(
        segments.iter().all(|(m, _)| *m != 0xE1),
        "an APP1 segment survived"
    );
    assert!(!contains(&out, b"Exif"));
    let decoded = image::load_from_memory(&out).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (420, 200));
    // The plate, in crop coordinates, is grey up to JPEG noise (quality 95);
    // a few pixels from its edges, where the 8 x 8 blocks mix in the street.
    let (px, py) = (476 - 400, 640 - 560);
    for y in py + 4..py + 54 - 4 {
        for x in px + 4..px + 248 - 4 {
            for c in decoded.get_pixel(x, y).0 {
                assert!((i32::from(c) - 128).abs() <= 4, "({x}, {y}): {c}");
            }
        }
    }
}

#[test]
fn exif_gps_camera_and_owner_do_not_survive_a_derivative() {
    let original = fixture("import/coffee_exif_gps.jpg");
    // The GPS position is binary: the big-endian EXIF holds the GPS IFD
    // pointer, tag 0x8825 of type LONG.
    let gps_ifd: &[u8] = &[0x88, 0x25, 0x00, 0x04];
    let secrets: [&[u8]; 6] = [
        b"Exif",
        gps_ifd,
        b"ExampleCam",
        b"Jane",
        b"42 Example Street",
        b"555 0143",
    ];
    for s in secrets {
        assert!(contains(&original, s), "the fixture lacks {s:?}");
    }
    let (out, format, ..) = derive_image(&original, "jpeg", &[], None, MAX_PIXELS).unwrap();
    assert_eq!(format, "jpeg");
    for s in secrets.iter().chain(&[b"GPS".as_slice()]) {
        assert!(
            !contains(&out, s),
            "{:?} survived",
            String::from_utf8_lossy(s)
        );
    }
    // No APPn segment but the JFIF APP0, and no comment segment.
    assert!(
        jpeg_segments(&out)
            .iter()
            .all(|(m, _)| !(0xE1..=0xEF).contains(m) && *m != 0xFE)
    );
    // Non-JPEG sources become PNG, pixels intact where nothing was masked.
    let png = fixture("privacy/id_card_fake.png");
    let (out, format, w, h) = derive_image(&png, "png", &[], None, MAX_PIXELS).unwrap();
    assert_eq!((format, w, h), ("png", 1200, 800));
    assert_eq!(
        image::load_from_memory(&out).unwrap().to_rgba8(),
        image::load_from_memory(&png).unwrap().to_rgba8()
    );
}

// ---------------------------------------------------------------------------
// Audio

fn call_01() -> (Vec<u8>, Pcm) {
    let bytes = fixture("privacy/call_01_telephone_16k.wav");
    let pcm = decode_pcm(&bytes, "wav", MAX_SECS).unwrap();
    (bytes, pcm)
}

fn frames_of(pcm: &Pcm, (start, end): (f64, f64)) -> std::ops::Range<usize> {
    let sr = f64::from(pcm.sample_rate);
    let n = pcm.samples.len();
    ((start * sr).floor() as usize).min(n)..((end * sr).ceil() as usize).min(n)
}

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

fn ranges(style: AudioStyle) -> Vec<AudioRange> {
    CALL_01_PII
        .iter()
        .map(|&(start_secs, end_secs)| AudioRange {
            start_secs,
            end_secs,
            style,
        })
        .collect()
}

#[test]
fn call_01_decodes_to_exactly_the_stored_samples() {
    let (bytes, pcm) = call_01();
    assert_eq!((pcm.sample_rate, pcm.channels), (16_000, 1));
    assert_eq!(&bytes[36..40], b"data");
    let stored: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(pcm.samples, stored);
    assert!((pcm.duration_secs() - 35.921).abs() < 0.001);
}

#[test]
fn muting_the_pii_ranges_silences_them_and_keeps_every_other_sample() {
    let (bytes, original) = call_01();
    let masked_frames: Vec<_> = CALL_01_PII
        .iter()
        .map(|&r| frames_of(&original, r))
        .collect();
    for r in &masked_frames {
        let level = rms(&original.samples[r.clone()]);
        eprintln!("original RMS in frames {r:?}: {level:.0}");
        assert!(level > 300.0, "no speech in {r:?}: RMS {level}");
    }
    let inside = |i: usize| masked_frames.iter().any(|r| r.contains(&i));

    let mut muted = original.clone();
    apply_ranges(&mut muted, &ranges(AudioStyle::Mute));
    for r in &masked_frames {
        assert_eq!(rms(&muted.samples[r.clone()]), 0.0, "{r:?}");
    }
    let mut outside = 0usize;
    for (i, (m, o)) in muted.samples.iter().zip(&original.samples).enumerate() {
        if !inside(i) {
            assert_eq!(m, o, "sample {i}");
            outside += 1;
        }
    }
    let masked: usize = masked_frames.iter().map(|r| r.len()).sum();
    assert_eq!(outside, original.samples.len() - masked);

    // The same through derive_audio: a WAV holding exactly those samples.
    let (wav, format, secs) =
        derive_audio(&bytes, "wav", &ranges(AudioStyle::Mute), None, MAX_SECS).unwrap();
    assert_eq!(format, "wav");
    assert_eq!(secs, original.duration_secs());
    assert_eq!(decode_pcm(&wav, "wav", MAX_SECS).unwrap(), muted);
}

#[test]
fn tone_replaces_the_pii_ranges_with_the_exact_tone() {
    let (_, original) = call_01();
    let mut toned = original.clone();
    apply_ranges(&mut toned, &ranges(AudioStyle::Tone));
    let masked_frames: Vec<_> = CALL_01_PII
        .iter()
        .map(|&r| frames_of(&original, r))
        .collect();
    for r in &masked_frames {
        for (k, s) in toned.samples[r.clone()].iter().enumerate() {
            let want = (3277.0 * (TAU * 1000.0 * k as f64 / 16_000.0).sin()).round() as i16;
            assert_eq!(*s, want, "frame {} of {r:?}", r.start + k);
        }
        // -20 dBFS peak: RMS of a sine is peak / sqrt 2.
        let level = rms(&toned.samples[r.clone()]);
        assert!((level - 3277.0 / 2f64.sqrt()).abs() < 5.0, "{level}");
    }
    for (i, (t, o)) in toned.samples.iter().zip(&original.samples).enumerate() {
        if !masked_frames.iter().any(|r| r.contains(&i)) {
            assert_eq!(t, o, "sample {i}");
        }
    }
}

#[test]
fn windows_cut_from_floor_of_start_to_ceil_of_end() {
    let (bytes, original) = call_01();
    let mut pcm = original.clone();
    let start = cut_window(&mut pcm, 15.0, 23.0);
    assert_eq!(start, 240_000);
    assert_eq!(pcm.frames(), 368_000 - 240_000);
    assert_eq!(pcm.samples[0], original.samples[240_000]);
    assert_eq!(pcm.samples[..], original.samples[240_000..368_000]);

    // derive_audio: ranges in original seconds, then the window.
    let (s, e) = (14.3, 20.0);
    let (wav, format, secs) = derive_audio(
        &bytes,
        "wav",
        &[AudioRange {
            start_secs: CALL_01_PHONE.0,
            end_secs: CALL_01_PHONE.1,
            style: AudioStyle::Mute,
        }],
        Some((s, e)),
        MAX_SECS,
    )
    .unwrap();
    assert_eq!(format, "wav");
    let window = frames_of(&original, (s, e));
    assert_eq!(secs, window.len() as f64 / 16_000.0);
    let got = decode_pcm(&wav, "wav", MAX_SECS).unwrap();
    assert_eq!(got.frames() as usize, window.len());
    let phone = frames_of(&original, CALL_01_PHONE);
    for (k, s) in got.samples.iter().enumerate() {
        let i = window.start + k;
        if phone.contains(&i) {
            assert_eq!(*s, 0, "frame {i}");
        } else {
            assert_eq!(*s, original.samples[i], "frame {i}");
        }
    }
}

/// `mask window --secs` snaps to whole samples and needs only the rate: it
/// comes from the header, and must be the one decoding finds.
#[test]
fn the_header_sample_rate_is_the_decoded_one_in_every_container() {
    for (format, file, rate) in [
        ("wav", "privacy/call_01_telephone_16k.wav", 16_000),
        ("flac", "import/call_02_16k.flac", 16_000),
        ("ogg", "import/call_03_22k.ogg", 22_050),
        ("mp3", "import/call_04_22k.mp3", 22_050),
    ] {
        let bytes = fixture(file);
        let decoded = decode_pcm(&bytes, format, MAX_SECS).unwrap().sample_rate;
        assert_eq!(decoded, rate, "{file}");
        assert_eq!(
            sample_rate(&bytes, format, MAX_SECS).unwrap(),
            rate,
            "{file}"
        );
    }
    assert!(sample_rate(b"RIFF\0\0\0\0WAVE", "wav", MAX_SECS).is_err());
    assert!(sample_rate(b"whatever", "aiff", MAX_SECS).is_err());
}

/// derive_audio decodes, masks and cuts packet by packet; the result must be
/// byte for byte what the whole-buffer functions give, on every container
/// (their packets differ: 1152-frame WAV packets, FLAC blocks, Vorbis and
/// gapless-trimmed MP3 frames).
#[test]
fn streamed_derivatives_of_the_fixtures_equal_the_whole_buffer_path() {
    let call_01 = fixture("privacy/call_01_telephone_16k.wav");
    let others = [
        ("flac", fixture("import/call_02_16k.flac")),
        ("ogg", fixture("import/call_03_22k.ogg")),
        ("mp3", fixture("import/call_04_22k.mp3")),
    ];
    let pii_windows = [None, Some((14.3, 20.0)), Some((30.0001, 99.0))];
    let mut cases = Vec::new();
    for style in [AudioStyle::Mute, AudioStyle::Tone] {
        for window in pii_windows {
            cases.push(("wav", &call_01, ranges(style), window));
        }
    }
    // The other fixtures have no ground truth: ranges across their packets.
    let mixed = vec![
        AudioRange {
            start_secs: 0.1234,
            end_secs: 1.5,
            style: AudioStyle::Tone,
        },
        AudioRange {
            start_secs: 1.0,
            end_secs: 2.0001,
            style: AudioStyle::Mute,
        },
    ];
    for (format, bytes) in &others {
        for window in [None, Some((0.5001, 3.25))] {
            cases.push((format, bytes, mixed.clone(), window));
        }
    }
    for (format, bytes, masks, window) in cases {
        let (out, out_format, secs) =
            derive_audio(bytes, format, &masks, window, MAX_SECS).unwrap();
        let mut pcm = decode_pcm(bytes, format, MAX_SECS).unwrap();
        apply_ranges(&mut pcm, &masks);
        if let Some((s, e)) = window {
            cut_window(&mut pcm, s, e);
        }
        assert_eq!(out_format, "wav");
        assert!(out == encode_wav(&pcm), "{format} {masks:?} {window:?}");
        assert_eq!(secs, pcm.duration_secs(), "{format} {window:?}");
    }
}

// ---------------------------------------------------------------------------
// Tags

#[test]
fn ogg_vorbis_comments_are_gone_and_the_audio_is_the_same() {
    let original = fixture("import/call_03_22k.ogg");
    let secrets: [&[u8]; 3] = [
        b"Taro Yamada",
        b"+1 415 555 0199",
        b"Support call 2024-03-15",
    ];
    for s in secrets {
        assert!(contains(&original, s));
    }
    let (out, format) = strip_tags(&original, "ogg").unwrap();
    assert_eq!(format, "wav");
    for s in secrets {
        assert!(
            !contains(&out, s),
            "{:?} survived",
            String::from_utf8_lossy(s)
        );
    }
    let before = decode_pcm(&original, "ogg", MAX_SECS).unwrap();
    let after = decode_pcm(&out, "wav", MAX_SECS).unwrap();
    eprintln!(
        "ogg: {} frames before, {} after",
        before.frames(),
        after.frames()
    );
    assert_eq!(after, before);
    let (_, format, secs) = derive_audio(&original, "ogg", &[], None, MAX_SECS).unwrap();
    assert_eq!((format, secs), ("wav", before.duration_secs()));
}

#[test]
fn mp3_id3_tags_are_gone_and_the_audio_is_the_same() {
    let original = fixture("import/call_04_22k.mp3");
    let secrets: [&[u8]; 4] = [
        b"John Doe",
        b"john.doe@example.net",
        b"Support call 2024-03-16",
        b"ID3",
    ];
    for s in secrets {
        assert!(contains(&original, s));
    }
    let (out, format) = strip_tags(&original, "mp3").unwrap();
    assert_eq!(format, "mp3");
    for s in secrets {
        assert!(
            !contains(&out, s),
            "{:?} survived",
            String::from_utf8_lossy(s)
        );
    }
    // Only the tag went: the output is a tail of the input.
    assert!(original.ends_with(&out));
    let before = decode_pcm(&original, "mp3", MAX_SECS).unwrap();
    let after = decode_pcm(&out, "mp3", MAX_SECS).unwrap();
    eprintln!(
        "mp3: {} -> {} bytes, {} frames before, {} after",
        original.len(),
        out.len(),
        before.frames(),
        after.frames()
    );
    assert_eq!(after, before);
    let (_, format, secs) = derive_audio(&original, "mp3", &[], None, MAX_SECS).unwrap();
    assert_eq!((format, secs), ("mp3", before.duration_secs()));
}

#[test]
fn flac_comments_are_gone_and_the_samples_identical() {
    let original = fixture("import/call_02_16k.flac");
    let secrets: [&[u8]; 2] = [b"Processed by SoX", b"reference libFLAC"];
    for s in secrets {
        assert!(contains(&original, s));
    }
    let (out, format) = strip_tags(&original, "flac").unwrap();
    assert_eq!(format, "flac");
    for s in secrets {
        assert!(
            !contains(&out, s),
            "{:?} survived",
            String::from_utf8_lossy(s)
        );
    }
    // STREAMINFO (now the last block) + SEEKTABLE, then the frames as they were.
    assert_eq!(out[4], 0x00);
    let before = decode_pcm(&original, "flac", MAX_SECS).unwrap();
    let after = decode_pcm(&out, "flac", MAX_SECS).unwrap();
    assert_eq!(after, before);
    let (_, format, secs) = derive_audio(&original, "flac", &[], None, MAX_SECS).unwrap();
    assert_eq!((format, secs), ("flac", before.duration_secs()));
}

#[test]
fn wav_list_info_chunk_is_dropped_and_the_data_kept() {
    let (plain, _) = call_01();
    let (fmt, data) = (&plain[12..36], &plain[36..]);
    let mut info = b"INFOINAM".to_vec();
    info.extend_from_slice(&16u32.to_le_bytes());
    info.extend_from_slice(b"Jane Q. Example\0");
    info.extend_from_slice(b"ICMT");
    info.extend_from_slice(&27u32.to_le_bytes());
    info.extend_from_slice(b"call back on (202) 555-0143\0");
    let mut list = b"LIST".to_vec();
    list.extend_from_slice(&(info.len() as u32).to_le_bytes());
    list.extend_from_slice(&info);
    let body = [b"WAVE".as_slice(), fmt, &list, data].concat();
    let tagged = [
        b"RIFF".as_slice(),
        &(body.len() as u32).to_le_bytes(),
        &body,
    ]
    .concat();
    assert!(contains(&tagged, b"Jane Q. Example"));

    let (out, format) = strip_tags(&tagged, "wav").unwrap();
    assert_eq!(format, "wav");
    assert!(!contains(&out, b"LIST") && !contains(&out, b"Jane") && !contains(&out, b"555-0143"));
    assert_eq!(
        out, plain,
        "fmt and data bytes should be exactly the original's"
    );
    let (out, format, secs) = derive_audio(&tagged, "wav", &[], None, MAX_SECS).unwrap();
    assert_eq!((out, format), (plain, "wav"));
    assert!((secs - 35.921).abs() < 0.001);
}

// ---------------------------------------------------------------------------
// Hostile input

/// xorshift64*: reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn mutate(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        match self.below(4) {
            0 => {
                for _ in 0..1 + self.below(8) {
                    let i = self.below(out.len());
                    out[i] = self.next() as u8;
                }
            }
            1 => out.truncate(self.below(bytes.len())),
            2 => {
                // Header fields are where parsers go wrong: hit the first 64 bytes.
                let i = self.below(64.min(out.len()));
                out[i] = [0x00, 0xFF, 0x7F, 0x80][self.below(4)];
            }
            _ => {
                let at = self.below(out.len());
                let junk: Vec<u8> = (0..self.below(40)).map(|_| self.next() as u8).collect();
                out.splice(at..at, junk);
            }
        }
        out
    }
}

fn small_wav() -> Vec<u8> {
    let samples = (0..1600).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
    encode_wav(&Pcm {
        sample_rate: 8000,
        channels: 2,
        samples,
    })
}

fn small_png() -> Vec<u8> {
    let img = RgbaImage::from_fn(24, 16, |x, y| {
        image::Rgba([x as u8 * 10, y as u8 * 15, 90, 255])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), 24, 16, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

#[test]
fn mutated_wav_never_panics_and_broken_headers_are_errors() {
    let wav = small_wav();
    let mut rng = Rng(0x5EA1_7A6D);
    let range = [AudioRange {
        start_secs: 0.01,
        end_secs: 0.02,
        style: AudioStyle::Tone,
    }];
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let bad = rng.mutate(&wav);
        for result in [
            derive_audio(&bad, "wav", &range, None, 10.0),
            derive_audio(&bad, "wav", &[], None, 10.0),
            derive_audio(&bad, "wav", &[], Some((0.05, 0.08)), 10.0),
        ] {
            match result {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    err += 1;
                }
            }
        }
    }
    eprintln!("mutated WAV: {ok} derived, {err} refused");
    assert!(err > 50, "mutations should break some files");
    // A header cut anywhere is refused, both decoded and parsed.
    for len in 0..44 {
        assert!(
            derive_audio(&wav[..len], "wav", &range, None, 10.0).is_err(),
            "{len}"
        );
        assert!(
            derive_audio(&wav[..len], "wav", &[], None, 10.0).is_err(),
            "{len}"
        );
    }
    // Garbage is refused in every format.
    for n in [0, 1, 10, 100, 5000] {
        let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        for format in ["wav", "flac", "ogg", "mp3"] {
            assert!(
                derive_audio(&junk, format, &range, None, 10.0).is_err(),
                "{format} {n}"
            );
            assert!(
                derive_audio(&junk, format, &[], None, 10.0).is_err(),
                "{format} {n}"
            );
        }
    }
}

#[test]
fn mutated_png_never_panics_and_truncation_is_an_error() {
    let png = small_png();
    let mut rng = Rng(0xC0FF_EE00_1234);
    let regions = [
        rect([2.5, 2.5, 10.0, 6.0], RegionStyle::Blur),
        Region {
            shape: Shape::Polygon {
                points: vec![[0.0, 0.0], [20.0, 3.0], [5.0, 15.0]],
            },
            style: RegionStyle::Pixelate,
        },
    ];
    let crop = Some(Crop {
        x: 1,
        y: 1,
        w: 20,
        h: 12,
    });
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let bad = rng.mutate(&png);
        match derive_image(&bad, "png", &regions, crop, 10_000) {
            Ok((out, format, w, h)) => {
                assert_eq!((format, w, h), ("png", 20, 12));
                assert!(image::load_from_memory(&out).is_ok());
                ok += 1;
            }
            Err(_) => err += 1,
        }
    }
    eprintln!("mutated PNG: {ok} derived, {err} refused");
    assert!(err > 50);
    // Cut before the image data ends: refused.
    for len in (0..png.len() - 12).step_by(7) {
        assert!(
            derive_image(&png[..len], "png", &regions, crop, 10_000).is_err(),
            "{len}"
        );
    }
    // Garbage under every image format name.
    for n in [0, 1, 10, 100, 5000] {
        let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        for format in ["jpeg", "png", "webp", "tiff", "bmp", "gif"] {
            assert!(
                derive_image(&junk, format, &regions, None, 10_000).is_err(),
                "{format} {n}"
            );
        }
    }
}

#[test]
fn mutated_tagged_headers_never_panic() {
    let mut rng = Rng(0xF1AC_0FF5);
    for (name, format) in [
        ("import/call_02_16k.flac", "flac"),
        ("import/call_04_22k.mp3", "mp3"),
    ] {
        // The tag parsers read only the first and last few hundred bytes.
        let bytes = fixture(name);
        let head = &bytes[..4096];
        for _ in 0..300 {
            let bad = rng.mutate(head);
            let _ = strip_tags(&bad, format);
        }
    }
    let err = audio_mask::strip_tags(b"fLaC\0\0\0\x22", "flac").unwrap_err();
    assert!(matches!(err, MaskError::Malformed { .. }), "{err}");
}
