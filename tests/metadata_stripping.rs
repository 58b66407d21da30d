//! Metadata stripping by allow-list, and import of images that carry data
//! after their end. Every file here is crafted to hold a unique
//! `SEALTAG-CANARY-…` marker in every segment or chunk its format allows
//! (and after its end); no output byte of any path that leaves the site may
//! hold one, and every output must still decode to the same pixels or
//! samples.

mod common;

use std::path::PathBuf;

use image::{ExtendedColorType, ImageEncoder, RgbImage, RgbaImage};
use sealtag::import::{ImportError, ImportOptions, inspect_file};
use sealtag::model::ItemKind;
use sealtag::privacy::audio_mask::{decode_pcm, strip_tags};
use sealtag::privacy::derive::{DeriveLimits, PrivacyPlan, derive};
use sealtag::privacy::image_mask::{Region, RegionStyle, Shape};
use sealtag::privacy::metadata::{self, StripError};
use sealtag::privacy::window::Window;

const CANARY: &[u8] = b"SEALTAG-CANARY";
const LIMITS: DeriveLimits = DeriveLimits {
    max_pixels: 1 << 26,
    max_audio_secs: 3600.0,
};
const MAX_SECS: f64 = 3600.0;

fn canary(name: &str) -> Vec<u8> {
    format!("SEALTAG-CANARY-{name}").into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[track_caller]
fn assert_no_canary(what: &str, bytes: &[u8]) {
    if let Some(at) = find(bytes, CANARY) {
        let end = (at + 40).min(bytes.len());
        panic!(
            "{what}: {:?} survived at byte {at}",
            String::from_utf8_lossy(&bytes[at..end])
        );
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A 64 x 48 picture with edges and texture, so that JPEG noise is small
/// next to the differences the tests look for.
fn picture() -> RgbImage {
    RgbImage::from_fn(64, 48, |x, y| {
        let v = ((x * 7 + y * 13) % 64) as u8;
        image::Rgb([
            40 + v * 2,
            200 - v,
            if (x / 8 + y / 8) % 2 == 0 { 60 } else { 180 },
        ])
    })
}

fn rgb(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).expect("decodes").to_rgb8()
}

fn rgba(bytes: &[u8]) -> RgbaImage {
    image::load_from_memory(bytes).expect("decodes").to_rgba8()
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

// ---------------------------------------------------------------------------
// Crafting JPEGs

fn plain_jpeg() -> Vec<u8> {
    let img = picture();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .write_image(img.as_raw(), 64, 48, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn jpeg_segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A minimal well-formed ICC profile: the 128-byte header and an empty
/// tag table.
fn icc_profile() -> Vec<u8> {
    let mut p = vec![0u8; 132];
    p[..4].copy_from_slice(&132u32.to_be_bytes());
    p[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"RGB ");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    p
}

/// Little-endian EXIF with ImageDescription = a canary and Orientation = 6.
fn exif_with_orientation_and_canary() -> Vec<u8> {
    let text = [canary("APP1-EXIF-description"), vec![0]].concat();
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    let data_at = 8 + 2 + 2 * 12 + 4;
    // ImageDescription, ASCII
    tiff.extend_from_slice(&0x010Eu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(text.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&(data_at as u32).to_le_bytes());
    // Orientation, SHORT, 6 (rotate 90° clockwise to display)
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&text);
    [b"Exif\0\0".to_vec(), tiff].concat()
}

/// The plain JPEG with a canary in APP0 (JFIF thumbnail area and a JFXX
/// extension), APP1 (EXIF and XMP), APP2 (MPF; a clean ICC profile beside
/// it), APP3 to APP13, APP11 (JUMBF), APP12 (Ducky), APP14 (Adobe, after
/// its 12 bytes), APP15, a JPG0 extension, COM before the frame and after
/// the scan, and a trailer after EOI.
fn canary_jpeg() -> Vec<u8> {
    let base = plain_jpeg();
    // Drop the encoder's own JFIF APP0.
    assert_eq!(&base[2..4], &[0xFF, 0xE0]);
    let app0_len = usize::from(u16::from_be_bytes([base[4], base[5]]));
    let rest = &base[4 + app0_len..];
    let (body, eoi) = rest.split_at(rest.len() - 2);
    assert_eq!(eoi, [0xFF, 0xD9]);

    let mut out = vec![0xFF, 0xD8];
    let jfif = [
        b"JFIF\0\x01\x02\x01\x00\x48\x00\x48\x00\x00".to_vec(),
        canary("APP0-JFIF"),
    ]
    .concat();
    out.extend(jpeg_segment(0xE0, &jfif));
    out.extend(jpeg_segment(
        0xE0,
        &[b"JFXX\0\x10".to_vec(), canary("APP0-JFXX")].concat(),
    ));
    out.extend(jpeg_segment(0xE1, &exif_with_orientation_and_canary()));
    out.extend(jpeg_segment(
        0xE1,
        &[
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec(),
            canary("APP1-XMP"),
        ]
        .concat(),
    ));
    out.extend(jpeg_segment(
        0xE2,
        &[b"MPF\0".to_vec(), canary("APP2-MPF")].concat(),
    ));
    out.extend(jpeg_segment(
        0xE2,
        &[b"ICC_PROFILE\0\x01\x01".to_vec(), icc_profile()].concat(),
    ));
    for n in 3..=13u8 {
        let body = match n {
            11 => [b"JP\0\0\0\0\0\x01jumb".to_vec(), canary("APP11-JUMBF-C2PA")].concat(),
            12 => [b"Ducky\0".to_vec(), canary("APP12-Ducky")].concat(),
            13 => [b"Photoshop 3.0\08BIM".to_vec(), canary("APP13-IPTC")].concat(),
            _ => canary(&format!("APP{n}")),
        };
        out.extend(jpeg_segment(0xE0 + n, &body));
    }
    out.extend(jpeg_segment(
        0xEE,
        &[b"Adobe\0\x64\0\0\0\0\x01".to_vec(), canary("APP14-Adobe")].concat(),
    ));
    out.extend(jpeg_segment(0xEF, &canary("APP15")));
    out.extend(jpeg_segment(0xF0, &canary("JPG0")));
    out.extend(jpeg_segment(0xFE, &canary("COM-before")));
    out.extend_from_slice(body);
    out.extend(jpeg_segment(0xFE, &canary("COM-after-scan")));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out.extend(canary("trailer-after-EOI"));
    out
}

fn app_markers(jpeg: &[u8]) -> Vec<u8> {
    metadata::parse_jpeg(jpeg)
        .unwrap()
        .segments
        .iter()
        .map(|s| s.marker)
        .filter(|m| (0xE0..=0xEF).contains(m) || (0xF0..=0xFE).contains(m))
        .collect()
}

fn fill(x: f64, y: f64, w: f64, h: f64) -> Region {
    Region {
        shape: Shape::Rect { x, y, w, h },
        style: RegionStyle::Fill,
    }
}

#[test]
fn every_canary_is_in_the_crafted_jpeg_and_it_decodes() {
    let jpeg = canary_jpeg();
    assert_eq!(count(&jpeg, CANARY), 22);
    assert_eq!(rgb(&jpeg), rgb(&plain_jpeg()));
}

#[test]
fn jpeg_lossless_derivative_keeps_only_decoding_icc_and_orientation() {
    let original = canary_jpeg();
    let d = derive(
        ItemKind::Image,
        "jpeg",
        &original,
        &PrivacyPlan::default(),
        LIMITS,
    )
    .unwrap();
    assert_eq!(d.format, "jpeg");
    assert_no_canary("lossless JPEG derivative", &d.bytes);
    // The same pixels: the entropy-coded data were copied, not re-encoded.
    assert_eq!(rgb(&d.bytes), rgb(&original));
    // Canonical JFIF, the orientation alone, the ICC profile, canonical Adobe.
    assert_eq!(app_markers(&d.bytes), [0xE0, 0xE1, 0xE2, 0xEE]);
    assert_eq!(metadata::jpeg_orientation(&d.bytes), Some(6));
    assert!(find(&d.bytes, &icc_profile()).is_some());
    let layout = metadata::parse_jpeg(&d.bytes).unwrap();
    let body = |m: u8| layout.segments.iter().find(|s| s.marker == m).unwrap().body;
    assert_eq!(body(0xE0), b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    assert_eq!(body(0xEE), b"Adobe\0\x64\0\0\0\0\x01");
    assert_eq!(body(0xE1).len(), 32, "Exif header, TIFF header, one entry");
    assert_eq!(layout.end, d.bytes.len(), "nothing after EOI");
    // Stripping is idempotent.
    assert_eq!(metadata::strip_jpeg(&d.bytes).unwrap(), d.bytes);
}

#[test]
fn jpeg_masked_and_cropped_derivatives_and_the_watermark_carry_no_canary() {
    let original = canary_jpeg();
    let plain = rgb(&original);

    let masked_plan = PrivacyPlan {
        regions: vec![fill(8.0, 8.0, 16.0, 16.0)],
        ..PrivacyPlan::default()
    };
    let masked = derive(ItemKind::Image, "jpeg", &original, &masked_plan, LIMITS).unwrap();
    assert_no_canary("masked JPEG derivative", &masked.bytes);
    assert_eq!(metadata::jpeg_orientation(&masked.bytes), Some(6));
    let img = rgb(&masked.bytes);
    assert_eq!(img.dimensions(), (64, 48));
    for c in img.get_pixel(15, 15).0 {
        assert!(c.abs_diff(128) <= 4, "masked pixel {c}");
    }
    assert!(
        img.get_pixel(50, 40)
            .0
            .iter()
            .zip(plain.get_pixel(50, 40).0)
            .all(|(a, b)| a.abs_diff(b) <= 16)
    );

    let crop_plan = PrivacyPlan {
        window: Some(Window::Image {
            x: 8,
            y: 8,
            w: 32,
            h: 24,
        }),
        ..PrivacyPlan::default()
    };
    let cropped = derive(ItemKind::Image, "jpeg", &original, &crop_plan, LIMITS).unwrap();
    assert_no_canary("cropped JPEG derivative", &cropped.bytes);
    let expected = image::imageops::crop_imm(&plain, 8, 8, 32, 24).to_image();
    let diff = mean_abs_diff(&rgb(&cropped.bytes), &expected);
    assert!(diff < 3.0, "crop differs by {diff:.2} on average");

    let bits = sealtag::watermark::bits_of("76ab-4667-f946-e5eb-8112").unwrap();
    let marked = sealtag::watermark::mark_encoded(&original, "jpeg", &bits).unwrap();
    assert_no_canary("watermarked JPEG", &marked);
    assert_eq!(metadata::jpeg_orientation(&marked), Some(6));
    assert!(mean_abs_diff(&rgb(&marked), &plain) < 6.0);
}

#[test]
fn progressive_jpeg_with_restart_markers_is_walked_to_its_end() {
    let original = fixture("strip/progressive_restart.jpg");
    assert_eq!(metadata::jpeg_image_len(&original).unwrap(), original.len());
    let layout = metadata::parse_jpeg(&original).unwrap();
    assert_eq!(
        layout.segments.iter().filter(|s| s.marker == 0xDA).count(),
        10
    );
    let mut tagged = original[..2].to_vec();
    tagged.extend(jpeg_segment(0xE1, &exif_with_orientation_and_canary()));
    tagged.extend_from_slice(&original[2..]);
    tagged.extend(canary("motion-photo-video"));
    let out = metadata::strip_jpeg(&tagged).unwrap();
    assert_no_canary("progressive JPEG", &out);
    assert_eq!(rgb(&out), rgb(&original));
    // The scans, tables and restart markers are all there, byte for byte.
    assert_eq!(&out[out.len() - 8000..], &original[original.len() - 8000..]);
}

#[test]
fn damaged_icc_chunks_and_unknown_markers_are_dropped_or_refused_never_copied() {
    let base = plain_jpeg();
    let with = |segments: &[Vec<u8>]| {
        let mut out = base[..2].to_vec();
        for s in segments {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&base[2..]);
        out
    };
    // Chunk 1 of 2 only, and it carries a canary: the profile is incomplete.
    let half = jpeg_segment(
        0xE2,
        &[b"ICC_PROFILE\0\x01\x02".to_vec(), canary("ICC-half")].concat(),
    );
    let out = metadata::strip_jpeg(&with(&[half])).unwrap();
    assert_no_canary("incomplete ICC profile", &out);
    assert!(find(&out, b"ICC_PROFILE").is_none());
    assert_eq!(rgb(&out), rgb(&base));

    // Extra bytes hidden after a frame header's components are refused.
    let sof_at = find(&base, &[0xFF, 0xC0]).unwrap();
    let sof_len = usize::from(u16::from_be_bytes([base[sof_at + 2], base[sof_at + 3]]));
    let mut padded = base[..sof_at].to_vec();
    let mut body = base[sof_at + 4..sof_at + 2 + sof_len].to_vec();
    body.extend(canary("inside-SOF"));
    padded.extend(jpeg_segment(0xC0, &body));
    padded.extend_from_slice(&base[sof_at + 2 + sof_len..]);
    let err = metadata::strip_jpeg(&padded).unwrap_err();
    assert!(
        matches!(&err, StripError::Malformed { offset, .. } if *offset == sof_at),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!("at byte {sof_at}")),
        "{err}"
    );

    // A reserved marker is an error that says where.
    let reserved = with(&[jpeg_segment(0x02, b"xx")]);
    assert!(matches!(
        metadata::strip_jpeg(&reserved),
        Err(StripError::Malformed { offset: 2, .. })
    ));
}

// ---------------------------------------------------------------------------
// Crafting PNGs

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A zlib stream of one stored block: the data stay readable in the file.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = metadata::crc32(&out[4..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn plain_png() -> Vec<u8> {
    let img = picture();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), 64, 48, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// The plain PNG with a canary in tEXt, zTXt, iTXt, eXIf, a private chunk,
/// the iCCP profile name, a text chunk after the image data, and a trailer
/// after IEND; gAMA and pHYs as allowed neighbours.
fn canary_png() -> Vec<u8> {
    let base = plain_png();
    let after_ihdr = 8 + 25;
    assert_eq!(&base[12..16], b"IHDR");
    let (head, tail) = base.split_at(after_ihdr);
    let (image, iend) = tail.split_at(tail.len() - 12);
    assert_eq!(&iend[4..8], b"IEND");
    let mut out = head.to_vec();
    let icc = [canary("iCCP-name"), vec![0, 0], zlib_stored(&icc_profile())].concat();
    out.extend(png_chunk(b"iCCP", &icc));
    out.extend(png_chunk(b"gAMA", &45455u32.to_be_bytes()));
    out.extend(png_chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]));
    out.extend(png_chunk(
        b"tEXt",
        &[b"Comment\0".to_vec(), canary("tEXt")].concat(),
    ));
    out.extend(png_chunk(
        b"zTXt",
        &[b"Author\0\0".to_vec(), zlib_stored(&canary("zTXt"))].concat(),
    ));
    out.extend(png_chunk(
        b"iTXt",
        &[b"Title\0\0\0en\0\0".to_vec(), canary("iTXt")].concat(),
    ));
    out.extend(png_chunk(
        b"eXIf",
        &[b"MM\0\x2A\0\0\0\x08\0\0\0\0\0\0".to_vec(), canary("eXIf")].concat(),
    ));
    out.extend(png_chunk(b"prVt", &canary("private-chunk")));
    out.extend(png_chunk(b"tIME", &[0x07, 0xE8, 1, 2, 3, 4, 5]));
    out.extend_from_slice(image);
    out.extend(png_chunk(
        b"tEXt",
        &[b"Note\0".to_vec(), canary("tEXt-after-IDAT")].concat(),
    ));
    out.extend_from_slice(iend);
    out.extend(canary("trailer-after-IEND"));
    out
}

fn png_chunk_kinds(png: &[u8]) -> Vec<String> {
    metadata::parse_png(png)
        .unwrap()
        .chunks
        .iter()
        .map(|c| String::from_utf8_lossy(&c.kind).into_owned())
        .collect()
}

#[test]
fn png_derivatives_and_watermark_keep_only_allowed_chunks() {
    let original = canary_png();
    assert_eq!(count(&original, CANARY), 8);
    let plain = rgba(&plain_png());
    assert_eq!(rgba(&original), plain);

    let d = derive(
        ItemKind::Image,
        "png",
        &original,
        &PrivacyPlan::default(),
        LIMITS,
    )
    .unwrap();
    assert_eq!(d.format, "png");
    assert_no_canary("lossless PNG derivative", &d.bytes);
    assert_eq!(rgba(&d.bytes), plain);
    assert_eq!(
        png_chunk_kinds(&d.bytes),
        ["IHDR", "iCCP", "gAMA", "pHYs", "IDAT", "IEND"]
    );
    assert!(find(&d.bytes, b"iCCPICC profile\0").is_some());
    assert!(find(&d.bytes, &zlib_stored(&icc_profile())).is_some());
    assert!(d.bytes.ends_with(&png_chunk(b"IEND", &[])));

    let masked_plan = PrivacyPlan {
        regions: vec![fill(0.0, 0.0, 10.0, 10.0)],
        window: Some(Window::Image {
            x: 0,
            y: 0,
            w: 40,
            h: 30,
        }),
        ..PrivacyPlan::default()
    };
    let masked = derive(ItemKind::Image, "png", &original, &masked_plan, LIMITS).unwrap();
    assert_no_canary("masked, cropped PNG derivative", &masked.bytes);
    let img = rgba(&masked.bytes);
    assert_eq!(img.get_pixel(5, 5).0, [128, 128, 128, 255]);
    assert_eq!(img.get_pixel(20, 20), plain.get_pixel(20, 20));

    let bits = sealtag::watermark::bits_of("76ab-4667-f946-e5eb-8112").unwrap();
    let marked = sealtag::watermark::mark_encoded(&original, "png", &bits).unwrap();
    assert_no_canary("watermarked PNG", &marked);
    assert_eq!(rgba(&marked).dimensions(), (64, 48));
}

#[test]
fn png_with_an_unknown_critical_chunk_or_a_bad_crc_is_refused_with_its_offset() {
    let base = plain_png();
    let mut critical = base[..33].to_vec();
    critical.extend(png_chunk(b"ZZZZ", &canary("critical")));
    critical.extend_from_slice(&base[33..]);
    let err = metadata::strip_png(&critical).unwrap_err();
    assert!(
        matches!(
            &err,
            StripError::Malformed {
                format: "png",
                offset: 33,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ZZZZ"), "{err}");

    let mut bad_crc = base.clone();
    let last = bad_crc.len() - 13; // the last byte of the last IDAT's CRC
    bad_crc[last] ^= 1;
    let err = metadata::strip_png(&bad_crc).unwrap_err();
    assert!(err.to_string().contains("CRC"), "{err}");

    let cut = &base[..base.len() - 6];
    assert!(matches!(
        metadata::strip_png(cut),
        Err(StripError::Truncated { format: "png", .. })
    ));
}

// ---------------------------------------------------------------------------
// WebP, TIFF, GIF: re-encoded as PNG

fn plain_webp() -> Vec<u8> {
    let img = picture();
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(img.as_raw(), 64, 48, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// An extended (VP8X) WebP with EXIF and XMP chunks and a trailer.
fn canary_webp() -> Vec<u8> {
    let base = plain_webp();
    assert_eq!(&base[12..16], b"VP8L");
    let mut vp8x = vec![0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&63u32.to_le_bytes()[..3]);
    vp8x.extend_from_slice(&47u32.to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(&base[12..]);
    body.extend(riff_chunk(
        b"EXIF",
        &[b"II*\0\x08\0\0\0\0\0".to_vec(), canary("WebP-EXIF")].concat(),
    ));
    body.extend(riff_chunk(b"XMP ", &canary("WebP-XMP")));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out.extend(canary("WebP-trailer"));
    out
}

/// An uncompressed RGB TIFF whose IFD holds ImageDescription, Artist,
/// Copyright and a private tag, each a canary.
fn canary_tiff() -> (Vec<u8>, RgbImage) {
    let img = RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 15, y as u8 * 30, 99]));
    let texts: Vec<(u16, Vec<u8>)> = vec![
        (270, [canary("TIFF-ImageDescription"), vec![0]].concat()),
        (315, [canary("TIFF-Artist"), vec![0]].concat()),
        (33432, [canary("TIFF-Copyright"), vec![0]].concat()),
        (65000, [canary("TIFF-private-tag"), vec![0]].concat()),
    ];
    let entries = 11 + texts.len();
    let ifd_end = 8 + 2 + entries * 12 + 4;
    let bps_at = ifd_end;
    let mut data = vec![8u8, 0, 8, 0, 8, 0];
    let mut text_at = Vec::new();
    for (_, t) in &texts {
        text_at.push(bps_at + data.len());
        data.extend_from_slice(t);
    }
    let pixels_at = bps_at + data.len();
    data.extend_from_slice(img.as_raw());

    let mut tags: Vec<(u16, u16, u32, u32)> = vec![
        (256, 3, 1, 16),
        (257, 3, 1, 8),
        (258, 3, 3, bps_at as u32),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, pixels_at as u32),
        (277, 3, 1, 3),
        (278, 3, 1, 8),
        (279, 4, 1, img.as_raw().len() as u32),
        (284, 3, 1, 1),
        (296, 3, 1, 1),
    ];
    for ((tag, t), at) in texts.iter().zip(&text_at) {
        tags.push((*tag, 2, t.len() as u32, *at as u32));
    }
    tags.sort_by_key(|t| t.0);
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries as u16).to_le_bytes());
    for (tag, kind, n, value) in tags {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        if kind == 3 && n == 1 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend(data);
    (out, img)
}

/// A GIF with a comment extension, an application extension and a
/// trailer after its end.
fn canary_gif() -> Vec<u8> {
    let img = RgbaImage::from_fn(16, 8, |x, y| {
        image::Rgba([x as u8 * 15, y as u8 * 30, 200, 255])
    });
    let mut base = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut base)
        .encode(img.as_raw(), 16, 8, ExtendedColorType::Rgba8)
        .unwrap();
    let flags = base[10];
    let gct = if flags & 0x80 != 0 {
        3 << ((flags & 7) + 1)
    } else {
        0
    };
    let at = 13 + gct;
    let sub_blocks = |data: &[u8]| {
        let mut out = Vec::new();
        for chunk in data.chunks(255) {
            out.push(chunk.len() as u8);
            out.extend_from_slice(chunk);
        }
        out.push(0);
        out
    };
    let mut out = base[..at].to_vec();
    out.extend_from_slice(&[0x21, 0xFE]);
    out.extend(sub_blocks(&canary("GIF-comment")));
    out.extend_from_slice(&[0x21, 0xFF, 11]);
    out.extend_from_slice(b"SEALTAGX1.0");
    out.extend(sub_blocks(&canary("GIF-application")));
    out.extend_from_slice(&base[at..]);
    out.extend(canary("GIF-trailer"));
    out
}

#[test]
fn webp_tiff_and_gif_become_pngs_without_any_canary() {
    let webp = canary_webp();
    let (tiff, tiff_pixels) = canary_tiff();
    let gif = canary_gif();
    let cases: [(&str, &[u8], usize); 3] =
        [("webp", &webp, 3), ("tiff", &tiff, 4), ("gif", &gif, 3)];
    for (format, original, canaries) in cases {
        assert_eq!(count(original, CANARY), canaries, "{format}");
        let pixels = rgba(original);
        for plan in [
            PrivacyPlan::default(),
            PrivacyPlan {
                regions: vec![fill(0.0, 0.0, 2.0, 2.0)],
                ..PrivacyPlan::default()
            },
        ] {
            let d = derive(ItemKind::Image, format, original, &plan, LIMITS).unwrap();
            assert_eq!(d.format, "png", "{format}");
            assert_no_canary(format, &d.bytes);
            let out = rgba(&d.bytes);
            assert_eq!(out.get_pixel(8, 6), pixels.get_pixel(8, 6), "{format}");
            if plan.regions.is_empty() {
                assert_eq!(out, pixels, "{format}");
            }
        }
    }
    assert_eq!(
        image::load_from_memory(&tiff).unwrap().to_rgb8(),
        tiff_pixels
    );
    assert_eq!(rgb(&webp), picture());
}

// ---------------------------------------------------------------------------
// Audio

fn sine(frames: usize) -> Vec<i16> {
    (0..frames)
        .map(|i| ((i as f64 * 0.07).sin() * 9000.0) as i16)
        .collect()
}

/// A mono 8 kHz PCM WAV with a fact chunk and canaries in LIST/INFO,
/// bext, iXML and id3 chunks, after the RIFF body and, with `fmt_extra`, after the fmt
/// fields (which the importer's decoder refuses for PCM, but a stored file
/// from elsewhere could hold).
fn canary_wav(samples: &[i16], fmt_extra: bool) -> Vec<u8> {
    let mut fmt = vec![];
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&16000u32.to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    if fmt_extra {
        let hidden = canary("WAV-fmt-extra");
        fmt.extend_from_slice(&(hidden.len() as u16).to_le_bytes());
        fmt.extend(hidden);
    }
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let info = [
        b"INFO".to_vec(),
        riff_chunk(b"INAM", &canary("WAV-LIST-INFO")),
    ]
    .concat();
    let mut body = b"WAVE".to_vec();
    body.extend(riff_chunk(b"fmt ", &fmt));
    body.extend(riff_chunk(b"fact", &(samples.len() as u32).to_le_bytes()));
    body.extend(riff_chunk(b"LIST", &info));
    body.extend(riff_chunk(b"bext", &canary("WAV-bext")));
    body.extend(riff_chunk(b"data", &data));
    body.extend(riff_chunk(b"iXML", &canary("WAV-iXML")));
    body.extend(riff_chunk(b"id3 ", &canary("WAV-id3")));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out.extend(canary("WAV-after-RIFF"));
    out
}

fn apev2_tag(value: &[u8]) -> Vec<u8> {
    let mut item = (value.len() as u32).to_le_bytes().to_vec();
    item.extend_from_slice(&0u32.to_le_bytes());
    item.extend_from_slice(b"Artist\0");
    item.extend_from_slice(value);
    let mut out = item.clone();
    out.extend_from_slice(b"APETAGEX");
    out.extend_from_slice(&2000u32.to_le_bytes());
    out.extend_from_slice(&((item.len() + 32) as u32).to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out
}

fn id3v1_tag(value: &[u8]) -> Vec<u8> {
    let mut out = b"TAG".to_vec();
    out.extend_from_slice(value);
    out.resize(128, 0);
    out
}

/// An ID3v2.3 tag with one TIT2 frame.
fn id3v2_tag(value: &[u8]) -> Vec<u8> {
    let mut frame = b"TIT2".to_vec();
    frame.extend_from_slice(&((value.len() + 1) as u32).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0]);
    frame.extend_from_slice(value);
    let size = frame.len();
    let mut out = b"ID3\x03\0\0".to_vec();
    out.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7F) as u8));
    out.extend(frame);
    out
}

/// The FLAC fixture with VORBIS_COMMENT, PICTURE, APPLICATION and PADDING
/// blocks holding canaries, and APEv2 and ID3v1 tags appended.
fn canary_flac() -> Vec<u8> {
    let original = fixture("import/call_02_16k.flac");
    assert_eq!(&original[..4], b"fLaC");
    let mut pos = 4;
    let mut kept = Vec::new();
    loop {
        let header = &original[pos..pos + 4];
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        if header[0] & 0x7F == 0 || header[0] & 0x7F == 3 {
            kept.push(original[pos..pos + 4 + len].to_vec());
        }
        pos += 4 + len;
        if header[0] & 0x80 != 0 {
            break;
        }
    }
    let block = |kind: u8, last: bool, body: &[u8]| {
        let mut out = vec![kind | if last { 0x80 } else { 0 }];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    };
    let vendor = canary("FLAC-vendor");
    let comment = [b"ARTIST=".to_vec(), canary("FLAC-VORBIS_COMMENT")].concat();
    let mut vorbis = (vendor.len() as u32).to_le_bytes().to_vec();
    vorbis.extend(vendor);
    vorbis.extend_from_slice(&1u32.to_le_bytes());
    vorbis.extend_from_slice(&(comment.len() as u32).to_le_bytes());
    vorbis.extend(comment);
    let mut picture = 3u32.to_be_bytes().to_vec();
    picture.extend_from_slice(&9u32.to_be_bytes());
    picture.extend_from_slice(b"image/png");
    let description = canary("FLAC-PICTURE-description");
    picture.extend_from_slice(&(description.len() as u32).to_be_bytes());
    picture.extend(description);
    picture.extend_from_slice(&[0; 16]);
    let data = canary("FLAC-PICTURE-data");
    picture.extend_from_slice(&(data.len() as u32).to_be_bytes());
    picture.extend(data);

    let mut out = b"fLaC".to_vec();
    for mut b in kept {
        b[0] &= 0x7F;
        out.extend(b);
    }
    out.extend(block(4, false, &vorbis));
    out.extend(block(6, false, &picture));
    out.extend(block(
        2,
        false,
        &[b"SLTG".to_vec(), canary("FLAC-APPLICATION")].concat(),
    ));
    out.extend(block(1, true, &canary("FLAC-PADDING")));
    out.extend_from_slice(&original[pos..]);
    out.extend(apev2_tag(&canary("FLAC-APEv2")));
    out.extend(id3v1_tag(&canary("FLAC-ID3v1")));
    out
}

/// The MP3 fixture (which has its own ID3v2 tag) behind another ID3v2 tag,
/// with junk after the frames and APEv2 and ID3v1 tags appended.
fn canary_mp3() -> Vec<u8> {
    let original = fixture("import/call_04_22k.mp3");
    let mut out = id3v2_tag(&canary("MP3-ID3v2"));
    out.extend(original);
    out.extend(canary("MP3-junk-after-the-frames"));
    out.extend(apev2_tag(&canary("MP3-APEv2")));
    out.extend(id3v1_tag(&canary("MP3-ID3v1")));
    out
}

#[test]
fn wav_keeps_only_fmt_and_data_and_the_same_samples() {
    let samples = sine(4000);
    let original = canary_wav(&samples, true);
    assert_eq!(count(&original, CANARY), 6);
    let (out, format) = strip_tags(&original, "wav").unwrap();
    assert_eq!(format, "wav");
    assert_no_canary("stripped WAV", &out);
    assert_eq!(&out[12..16], b"fmt ");
    assert_eq!(u32::from_le_bytes(out[16..20].try_into().unwrap()), 16);
    assert_eq!(&out[36..40], b"data");
    assert_eq!(out.len(), 44 + 8000);
    assert_eq!(decode_pcm(&out, "wav", MAX_SECS).unwrap().samples, samples);
    let d = derive(
        ItemKind::Audio,
        "wav",
        &original,
        &PrivacyPlan::default(),
        LIMITS,
    )
    .unwrap();
    assert_no_canary("WAV derivative", &d.bytes);
    assert_eq!(d.bytes, out);
}

#[test]
fn flac_and_mp3_lose_every_tag_and_keep_the_same_samples() {
    let flac = canary_flac();
    assert_eq!(count(&flac, CANARY), 8);
    let (out, _) = strip_tags(&flac, "flac").unwrap();
    assert_no_canary("stripped FLAC", &out);
    let reference = fixture("import/call_02_16k.flac");
    assert_eq!(
        decode_pcm(&out, "flac", MAX_SECS).unwrap(),
        decode_pcm(&reference, "flac", MAX_SECS).unwrap()
    );
    let d = derive(
        ItemKind::Audio,
        "flac",
        &flac,
        &PrivacyPlan::default(),
        LIMITS,
    )
    .unwrap();
    assert_no_canary("FLAC derivative", &d.bytes);

    let mp3 = canary_mp3();
    assert_eq!(count(&mp3, CANARY), 4);
    let (out, _) = strip_tags(&mp3, "mp3").unwrap();
    assert_no_canary("stripped MP3", &out);
    let reference = fixture("import/call_04_22k.mp3");
    assert_eq!(
        decode_pcm(&out, "mp3", MAX_SECS).unwrap(),
        decode_pcm(&reference, "mp3", MAX_SECS).unwrap()
    );
    let d = derive(
        ItemKind::Audio,
        "mp3",
        &mp3,
        &PrivacyPlan::default(),
        LIMITS,
    )
    .unwrap();
    assert_no_canary("MP3 derivative", &d.bytes);
}

// ---------------------------------------------------------------------------
// Import of images with trailing data

fn imported(name: &str, bytes: Vec<u8>) -> (Vec<u8>, Option<u64>) {
    let inspected = inspect_file(name, bytes, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let item = &inspected.items[0];
    (item.bytes.clone(), item.trailer_dropped)
}

#[test]
fn motion_photo_and_mpo_import_the_first_image_and_report_the_trailer() {
    let jpeg = plain_jpeg();
    // A motion photo: the JPEG, then an MP4 (ftyp box, then media data).
    let mut motion = jpeg.clone();
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    video.extend_from_slice(b"\0\0\x10\0mdat");
    video.extend(std::iter::repeat_n(0xFFu8, 32));
    video.extend_from_slice(&[0xFF, 0xD9, 0xFF, 0xD8]);
    video.extend(canary("motion-photo-video"));
    motion.extend_from_slice(&video);
    assert_eq!(
        imported("motion.jpg", motion),
        (jpeg.clone(), Some(video.len() as u64))
    );

    // An MPO: the first JPEG, then the second one.
    let mut mpo = jpeg.clone();
    let second = canary_jpeg();
    mpo.extend_from_slice(&second);
    assert_eq!(
        imported("stereo.jpg", mpo),
        (jpeg.clone(), Some(second.len() as u64))
    );

    // Padding some tools add is dropped (and said) too; a clean file is untouched.
    let mut padded = fixture("bad/control_valid.jpg");
    padded.extend_from_slice(&[0, 0, b'\n']);
    assert_eq!(imported("padded.jpg", padded).1, Some(3));
    assert_eq!(imported("clean.jpg", jpeg.clone()), (jpeg, None));

    let progressive = fixture("strip/progressive_restart.jpg");
    let mut with_video = progressive.clone();
    with_video.extend_from_slice(&video);
    assert_eq!(
        imported("progressive.jpg", with_video),
        (progressive, Some(video.len() as u64))
    );
}

#[test]
fn png_with_bytes_after_iend_imports_the_image_only() {
    let png = plain_png();
    let mut trailed = png.clone();
    trailed.extend(canary("after-IEND"));
    trailed.extend(plain_png());
    let dropped = (trailed.len() - png.len()) as u64;
    assert_eq!(
        imported("trailed.png", trailed),
        (png.clone(), Some(dropped))
    );
    assert_eq!(imported("clean.png", png.clone()), (png, None));
}

#[test]
fn truncated_jpegs_are_still_refused_even_when_ff_d9_hides_in_a_segment() {
    let jpeg = plain_jpeg();
    let expect_truncated = |name: &str, bytes: Vec<u8>| {
        let len = bytes.len();
        let err = inspect_file(name, bytes, &ImportOptions::default()).expect_err(name);
        assert!(
            matches!(err, ImportError::TruncatedJpeg { .. }),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "truncated JPEG: no end-of-image marker (FF D9) after {len} bytes"
            )),
            "{name}: {err}"
        );
    };
    // Cut in the middle of the scan.
    expect_truncated("cut.jpg", jpeg[..jpeg.len() * 3 / 5].to_vec());
    // Cut after the tables, the file ending with a comment that ends in FF D9.
    let sos = find(&jpeg, &[0xFF, 0xDA]).unwrap();
    let mut fooled = jpeg[..sos].to_vec();
    fooled.extend(jpeg_segment(0xFE, b"not the end \xFF\xD9"));
    assert!(fooled.ends_with(&[0xFF, 0xD9]));
    expect_truncated("comment_eoi.jpg", fooled);
    // Cut in the scan, then a trailer that holds FF D9: the scan never ends.
    let mut cut_then_eoi = jpeg[..jpeg.len() / 2].to_vec();
    cut_then_eoi.extend(jpeg_segment(0xE1, b"Exif\0\0\xFF\xD9"));
    let err = inspect_file("cut_then_eoi.jpg", cut_then_eoi, &ImportOptions::default());
    assert!(err.is_err(), "a cut scan must not import");
    // The hostile fixture keeps its message.
    expect_truncated(
        "truncated_astronaut.jpg",
        fixture("bad/truncated_astronaut.jpg"),
    );
}

// ---------------------------------------------------------------------------
// End to end: import, report, export to a plain folder

#[test]
fn cli_import_reports_the_trailer_and_export_media_carry_no_canary() {
    let env = common::Env::new();
    env.setup();
    let input = env.root().join("in");
    std::fs::create_dir(&input).unwrap();
    let jpeg = canary_jpeg();
    let trailer = canary("trailer-after-EOI").len() as u64;
    std::fs::write(input.join("a_motion.jpg"), &jpeg).unwrap();
    std::fs::write(input.join("b_chunks.png"), canary_png()).unwrap();
    std::fs::write(input.join("c_clean.png"), plain_png()).unwrap();
    std::fs::write(input.join("d_call.wav"), canary_wav(&sine(4000), false)).unwrap();
    std::fs::write(input.join("e_call.flac"), canary_flac()).unwrap();

    let report = env.import_expect(0, std::slice::from_ref(&input));
    let files = report["files"].as_array().unwrap();
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing: {report}"))
    };
    assert_eq!(by_name("a_motion.jpg")["trailer_dropped"], trailer);
    let png_trailer = canary("trailer-after-IEND").len() as u64;
    assert_eq!(by_name("b_chunks.png")["trailer_dropped"], png_trailer);
    assert!(by_name("c_clean.png")["trailer_dropped"].is_null());

    // The plain report line says it too.
    let again = env.root().join("again");
    std::fs::create_dir(&again).unwrap();
    std::fs::write(again.join("motion.jpg"), &jpeg).unwrap();
    // The same content again: kept on purpose, so the line is printed.
    let mut args = vec![
        std::ffi::OsString::from("import"),
        std::ffi::OsString::from("--keep-duplicates"),
    ];
    args.extend(env.project_arg().iter().map(|a| a.to_os_string()));
    args.push(again.join("motion.jpg").into_os_string());
    let out = env.run_ok(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "({trailer} byte(s) after the end of the image dropped"
        )),
        "{text}"
    );

    let export = env.root().join("export");
    let mut args = vec![std::ffi::OsString::from("export")];
    args.extend(env.project_arg().iter().map(|a| a.to_os_string()));
    for a in [
        "--format",
        "jsonl",
        "--status",
        "all",
        "--media",
        "--unsigned",
        "--out",
    ] {
        args.push(a.into());
    }
    args.push(export.clone().into_os_string());
    env.run_ok(&args);
    let (files, _) = common::walk_files(&export);
    let media: Vec<_> = files
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "media"))
        .collect();
    assert_eq!(media.len(), 6, "{media:?}");
    for path in files.iter() {
        let bytes = std::fs::read(path).unwrap();
        assert_no_canary(&path.display().to_string(), &bytes);
    }
    let exported = |suffix: &str| {
        let path = media
            .iter()
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} not exported: {media:?}"));
        std::fs::read(path).unwrap()
    };
    assert_eq!(rgb(&exported("a_motion.jpg")), rgb(&jpeg));
    assert_eq!(
        metadata::jpeg_orientation(&exported("a_motion.jpg")),
        Some(6)
    );
    assert_eq!(rgba(&exported("b_chunks.png")), rgba(&plain_png()));
    assert_eq!(
        decode_pcm(&exported("d_call.wav"), "wav", MAX_SECS)
            .unwrap()
            .samples,
        sine(4000)
    );
}

/// Through the core: a work package member as the annotator's laptop opens
/// it, and a watermarked export sealed to a recipient, both from images
/// imported with every canary (the import already dropped the trailers).
#[test]
fn work_package_members_and_watermarked_exports_carry_no_canary() {
    use sealtag::controller::{ExportOptions, Session, open_work_package};
    use sealtag::crypto::UnlockedIdentity;
    use sealtag::home::Home;
    use sealtag::model::Role;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site.sealtag");
    let admin = UnlockedIdentity::generate("Ada Admin");
    let ann = UnlockedIdentity::generate("Ann Annotator");
    let mut s = Session::create_project(&root, "Site", admin.clone()).unwrap();
    let opts = ImportOptions::default();
    let mut ids = Vec::new();
    for (name, bytes) in [("photo.jpg", canary_jpeg()), ("scan.png", canary_png())] {
        let report = s.import_bytes(name, bytes, &opts).unwrap();
        assert_eq!(report.outcome, "imported", "{:?}", report.errors);
        assert!(report.trailer_dropped.is_some(), "{name}");
        ids.push(report.item_ids[0]);
    }
    s.add_user(&ann.public().to_key_string(), Role::Annotator, "Ann")
        .unwrap();
    s.assign(&ids, "Ann", "annotate").unwrap();

    let consumer = UnlockedIdentity::generate("Consumer");
    let options = ExportOptions {
        format: "jsonl".into(),
        all_statuses: true,
        media: true,
        watermark: true,
        to: vec![consumer.public().to_key_string()],
        ..ExportOptions::default()
    };
    let sealed = dir.path().join("marked.sealpkg");
    s.export(&options, &sealed, &mut |_| true).unwrap();
    let work = dir.path().join("ann-work.sealpkg");
    s.make_work_package("Ann", &work, &mut |_| true).unwrap();
    s.close().unwrap();

    let mut p =
        sealtag::package::open_package(std::fs::File::open(&sealed).unwrap(), &consumer).unwrap();
    let mut media = 0;
    loop {
        let mut member = Vec::new();
        let Some(entry) = p.next_member_to(&mut member) else {
            break;
        };
        let entry = entry.unwrap();
        assert_no_canary(&entry.name, &member);
        if entry.name.starts_with("media/") {
            media += 1;
            assert_eq!(rgb(&member).dimensions(), (64, 48), "{}", entry.name);
        }
    }
    assert_eq!(media, 2);

    let opened = open_work_package(
        &work,
        &ann,
        &Home::new(dir.path().join("ann-home")),
        None,
        sealtag::controller::FirstSigner::Expect(&admin.public().fingerprint()),
        &mut |_| true,
    )
    .unwrap();
    let mut laptop = Session::open(&opened.bundle, ann, None).unwrap();
    let photo = laptop.load_item(ids[0]).unwrap();
    assert_no_canary("work package JPEG", &photo.bytes);
    assert_eq!(rgb(&photo.bytes), rgb(&canary_jpeg()));
    assert_eq!(metadata::jpeg_orientation(&photo.bytes), Some(6));
    let scan = laptop.load_item(ids[1]).unwrap();
    assert_no_canary("work package PNG", &scan.bytes);
    assert_eq!(rgba(&scan.bytes), rgba(&plain_png()));
}
