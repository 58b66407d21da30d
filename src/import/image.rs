//! Image validation: a decompression bomb must be refused from its header before a single
//! pixel is allocated, and an image is only accepted once it has fully decoded under explicit
//! limits (pixels are dropped right away). The stored bytes are the original file up to the
//! end of its image: what a phone appends to a JPEG (a motion photo's video, an MPO's second
//! image) or anything after a PNG's IEND chunk is dropped and reported.

use crate::media::image::{self as media_image, ImageDecodeError, ImageLimits};
// Where a JPEG or PNG ends is worked out by the metadata stripper's walkers (import depends
// on privacy for this, never the other way round).
use crate::privacy::metadata::{self, StripError, crc32};

use super::{Format, ImportError, ImportLimits, MediaInfo};

/// The import message for each reason `media` gives for not decoding an image. `bytes` is the
/// whole file: a PNG decoder error is replaced by a precise one when a chunk fails its
/// checksum (see [`png_crc_mismatch`]).
fn decode_error(format: Format, bytes: &[u8], err: ImageDecodeError) -> ImportError {
    match err {
        ImageDecodeError::TooManyPixels {
            width,
            height,
            pixels,
            limit,
        } => ImportError::ImageTooManyPixels {
            width,
            height,
            pixels,
            limit,
        },
        ImageDecodeError::SideTooLong {
            width,
            height,
            limit,
        } => ImportError::ImageSideTooLong {
            width,
            height,
            limit,
        },
        ImageDecodeError::Empty { width, height } => ImportError::ImageEmpty { width, height },
        mismatch @ ImageDecodeError::SizeMismatch { .. } => ImportError::ImageDecode {
            format,
            message: mismatch.to_string(),
        },
        ImageDecodeError::Decoder(err) => {
            let precise = match format {
                Format::Png => png_crc_mismatch(bytes),
                _ => None,
            };
            ImportError::ImageDecode {
                format,
                message: precise.unwrap_or_else(|| err.to_string()),
            }
        }
    }
}

/// The png crate reports a bad checksum as "CRC error: expected 0x.. have 0x.. while decoding
/// ChunkType { type: IDAT, critical: true, private: false, .. } chunk." — no byte offset, and
/// the chunk name buried in a debug dump. Only called once decoding has failed, so walking the
/// chunks again costs nothing on valid files. Returns which chunk failed and where, or `None`
/// when every complete chunk's CRC matches (the failure was something else).
fn png_crc_mismatch(bytes: &[u8]) -> Option<String> {
    let mut at: usize = 8;
    loop {
        let header = bytes.get(at..at.checked_add(8)?)?;
        let len = usize::try_from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .ok()?;
        let kind = header.get(4..8)?;
        let body_end = at.checked_add(8)?.checked_add(len)?;
        let covered = bytes.get(at.checked_add(4)?..body_end)?;
        let stored = bytes.get(body_end..body_end.checked_add(4)?)?;
        let stored = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
        let computed = crc32(covered);
        if stored != computed {
            return Some(format!(
                "CRC mismatch in the {} chunk at byte offset {at} (stored 0x{stored:08x}, computed 0x{computed:08x})",
                String::from_utf8_lossy(kind)
            ));
        }
        if kind == b"IEND" {
            return None;
        }
        at = body_end.checked_add(4)?;
    }
}

/// An image as it will be stored: the file up to the end of its image, and how many bytes
/// followed that end and were dropped.
pub(super) struct ImageFile {
    pub info: MediaInfo,
    pub bytes: Vec<u8>,
    pub trailer_dropped: Option<u64>,
}

/// Where the image in `bytes` ends, when its format says so and something follows it.
///
/// A JPEG ends at the first end-of-image marker reached by walking its marker segments and
/// the entropy-coded data of each scan (an FF D9 inside an EXIF thumbnail, a comment or a
/// stuffed byte is not the end). zune-jpeg fills a cut-off scan with grey instead of failing,
/// so reaching that marker is the only reliable sign that the whole image is there: a walk
/// that runs out of bytes is a truncated JPEG. A JPEG whose structure the walker refuses is
/// left to the decoder whole, as before, as long as it ends with FF D9 (padding aside).
/// A PNG ends after its IEND chunk; one the walker refuses is left to the decoder, whose
/// error is the precise one.
fn image_len(format: Format, bytes: &[u8]) -> Result<Option<usize>, ImportError> {
    let truncated = || ImportError::TruncatedJpeg {
        len: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
    };
    Ok(match format {
        Format::Jpeg => match metadata::jpeg_image_len(bytes) {
            Ok(end) => Some(end),
            Err(StripError::Truncated { .. }) => return Err(truncated()),
            Err(_) if !has_jpeg_eoi(bytes) => return Err(truncated()),
            Err(_) => None,
        },
        Format::Png => metadata::png_image_len(bytes).ok(),
        _ => None,
    }
    .filter(|end| *end < bytes.len()))
}

/// Validates an image whose signature already matched `format` and drops anything after the
/// image's end (see [`image_len`]).
pub(super) fn inspect(
    format: Format,
    mut bytes: Vec<u8>,
    limits: &ImportLimits,
) -> Result<ImageFile, ImportError> {
    let trailer_dropped = match image_len(format, &bytes)? {
        Some(end) => {
            let dropped = bytes.len() - end;
            bytes.truncate(end);
            Some(u64::try_from(dropped).unwrap_or(u64::MAX))
        }
        None => None,
    };
    let info = inspect_image(format, &bytes, limits)?;
    Ok(ImageFile {
        info,
        bytes,
        trailer_dropped,
    })
}

/// Decodes the image under the limits (pixels are dropped right away).
fn inspect_image(
    format: Format,
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<MediaInfo, ImportError> {
    let Some((_, image_format)) = media_image::format_named(format.name()) else {
        return Err(ImportError::NotFormat { expected: format });
    };
    let image_limits = ImageLimits {
        max_pixels: limits.max_image_pixels,
        max_side: Some(limits.max_image_side),
        max_alloc: limits.max_decode_alloc_bytes,
        alloc_per_pixel: 0,
    };
    let decoded = media_image::decode(bytes, image_format, &image_limits)
        .map_err(|e| decode_error(format, bytes, e))?;
    let (width, height) = (decoded.width(), decoded.height());
    drop(decoded);
    Ok(MediaInfo::Image {
        format: format.name(),
        width,
        height,
    })
}

/// True when the file ends with FF D9, ignoring zero / whitespace padding that some tools add.
fn has_jpeg_eoi(bytes: &[u8]) -> bool {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, 0x00 | b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |i| i.saturating_add(1));
    bytes
        .get(..end)
        .is_some_and(|trimmed| trimmed.ends_with(&[0xFF, 0xD9]))
}

#[cfg(test)]
mod tests {
    use super::super::{ImportOptions, inspect_file};
    use super::*;
    use image::ImageFormat;
    use std::io::Cursor;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn info_of(name: &str, bytes: Vec<u8>) -> MediaInfo {
        let got = inspect_file(name, bytes, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.items.len(), 1);
        got.items.into_iter().next().map(|i| i.info).expect("item")
    }

    fn image(format: &'static str, width: u32, height: u32) -> MediaInfo {
        MediaInfo::Image {
            format,
            width,
            height,
        }
    }

    #[test]
    fn each_fixture_format_decodes_with_manifest_dimensions() {
        // Values from fixtures/images/MANIFEST.csv (and bad/README.md for control_valid.jpg).
        let cases = [
            ("import/astronaut.jpg", "jpeg", 512, 512),
            ("import/camera_gray.png", "png", 512, 512),
            ("import/rocket.webp", "webp", 640, 427),
            ("import/chelsea.tiff", "tiff", 451, 300),
            ("import/chelsea.bmp", "bmp", 451, 300),
            ("bad/control_valid.jpg", "jpeg", 225, 150),
        ];
        for (rel, format, w, h) in cases {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            assert_eq!(info_of(name, fixture(rel)), image(format, w, h), "{rel}");
        }
    }

    #[test]
    fn gif_decodes_with_dimensions() {
        let mut gif = Vec::new();
        let frame = image::RgbaImage::from_pixel(7, 5, image::Rgba([200, 10, 10, 255]));
        image::DynamicImage::ImageRgba8(frame)
            .write_to(&mut Cursor::new(&mut gif), ImageFormat::Gif)
            .expect("encode gif");
        assert_eq!(info_of("tiny.gif", gif), image("gif", 7, 5));
    }

    #[test]
    fn bomb_is_rejected_from_the_header() {
        let err = inspect_file(
            "bomb_100000x100000.png",
            fixture("bad/bomb_100000x100000.png"),
            &ImportOptions::default(),
        )
        .expect_err("bomb");
        assert!(
            matches!(
                err,
                ImportError::ImageTooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    pixels: 10_000_000_000,
                    limit: 64_000_000
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(
            "image is 100000 x 100000 px (10000000000 px), over the limit of 64000000 px"
        ));
    }

    #[test]
    fn side_limit_applies_even_under_the_pixel_limit() {
        let mut options = ImportOptions::default();
        options.limits.max_image_side = 500;
        let err = inspect_file("astronaut.jpg", fixture("import/astronaut.jpg"), &options)
            .expect_err("side");
        assert!(
            matches!(err, ImportError::ImageSideTooLong { width: 512, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn truncated_jpeg_is_rejected_with_its_length() {
        let err = inspect_file(
            "truncated_astronaut.jpg",
            fixture("bad/truncated_astronaut.jpg"),
            &ImportOptions::default(),
        )
        .expect_err("truncated");
        assert!(
            matches!(err, ImportError::TruncatedJpeg { len: 27_220 }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("truncated JPEG: no end-of-image marker (FF D9) after 27220 bytes")
        );
    }

    #[test]
    fn jpeg_with_padding_after_eoi_is_accepted() {
        let mut bytes = fixture("bad/control_valid.jpg");
        bytes.extend_from_slice(&[0, 0, b'\n']);
        assert_eq!(info_of("padded.jpg", bytes), image("jpeg", 225, 150));
    }

    #[test]
    fn bytes_after_the_image_are_dropped_and_counted() {
        let limits = ImportLimits::default();
        for (format, rel) in [
            (Format::Jpeg, "bad/control_valid.jpg"),
            (Format::Png, "import/camera_gray.png"),
        ] {
            let clean = fixture(rel);
            let mut trailed = clean.clone();
            let trailer = b"\0\0\0\x18ftypmp42 a video \xFF\xD9 IEND";
            trailed.extend_from_slice(trailer);
            let image = inspect(format, trailed, &limits).expect(rel);
            assert_eq!(image.bytes, clean, "{rel}");
            assert_eq!(image.trailer_dropped, Some(trailer.len() as u64), "{rel}");
            let image = inspect(format, clean.clone(), &limits).expect(rel);
            assert_eq!((image.bytes, image.trailer_dropped), (clean, None), "{rel}");
        }
    }

    #[test]
    fn truncated_png_is_rejected() {
        let bytes = fixture("import/camera_gray.png");
        let cut = bytes.get(..bytes.len() / 2).expect("half").to_vec();
        let err = inspect_file("cut.png", cut, &ImportOptions::default()).expect_err("cut");
        assert!(
            matches!(
                err,
                ImportError::ImageDecode {
                    format: Format::Png,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn crc32_matches_the_png_reference_value() {
        // The CRC of an IEND chunk (type only, no data) is AE 42 60 82 in every PNG file.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let png = fixture("bad/Zoë's ID scan – copy (1) 📄.png");
        assert_eq!(png_crc_mismatch(&png), None, "a valid file has no mismatch");
        let mut bad = png.clone();
        // IHDR: 8-byte signature, then length (4), type (4), 13 bytes, CRC at 29..33.
        bad[30] ^= 0xFF;
        let message = png_crc_mismatch(&bad).expect("mismatch");
        assert!(
            message.starts_with("CRC mismatch in the IHDR chunk at byte offset 8 (stored 0x"),
            "{message}"
        );
    }

    #[test]
    fn header_only_prefixes_never_panic() {
        // Every short prefix of a valid file must be rejected cleanly, whatever the format.
        for rel in [
            "import/rocket.webp",
            "import/chelsea.bmp",
            "bad/control_valid.jpg",
        ] {
            let bytes = fixture(rel);
            let name = rel.rsplit('/').next().unwrap_or(rel);
            for len in [1usize, 3, 8, 12, 16, 30, 64, 200, 1000] {
                let prefix = bytes.get(..len).unwrap_or(&bytes).to_vec();
                // Refused by a check, not by a decoder panic that was caught.
                match inspect_file(name, prefix, &ImportOptions::default()) {
                    Err(crate::import::ImportError::DecoderPanic { .. }) => {
                        panic!("{rel} prefix {len}: the decoder panicked")
                    }
                    Err(_) => {}
                    Ok(_) => panic!("{rel} prefix {len} was accepted"),
                }
            }
        }
    }
}
