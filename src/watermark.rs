//! A forensic watermark for exported images: the recipient's 80-bit
//! fingerprint as a faint, tiled luminance pattern. Each bit owns a
//! 16 × 16 pixel block of a 10 × 8 block tile (160 × 128 px) repeated over
//! the whole image; a 1 brightens the block by [`STRENGTH`] levels, a 0
//! darkens it. At ±3 of 255 it is not visible in normal viewing, survives
//! JPEG re-encoding at quality 95, and is read back by comparing a leaked
//! copy with the original (the site keeps originals): every pixel of every
//! tile votes for its bit. It deters and traces; it is not a cryptographic
//! claim and a determined attacker can blur it away (DESIGN §12).

use image::{ImageBuffer, Rgb, RgbImage};

use crate::privacy::metadata;

/// Luminance change per block, in 8-bit levels.
pub const STRENGTH: i16 = 3;
const BLOCK: u32 = 16;
const COLS: u32 = 10;
const ROWS: u32 = 8;
/// Bits in a mark: a fingerprint's 10 bytes.
pub const BITS: usize = (COLS * ROWS) as usize;

/// The 80 bits of a fingerprint (`xxxx-xxxx-…`, 20 hex digits).
pub fn bits_of(fingerprint: &str) -> Option<Vec<bool>> {
    let hex: String = fingerprint.chars().filter(|c| *c != '-').collect();
    let bytes = hex::decode(hex).ok()?;
    if bytes.len() != BITS / 8 {
        return None;
    }
    Some(
        bytes
            .iter()
            .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
            .collect(),
    )
}

/// The fingerprint string of 80 bits (inverse of [`bits_of`]).
pub fn fingerprint_of(bits: &[bool]) -> String {
    let bytes: Vec<u8> = bits
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |acc, b| (acc << 1) | u8::from(*b)))
        .collect();
    hex::encode(bytes)
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn bit_index(x: u32, y: u32) -> usize {
    (((y / BLOCK) % ROWS) * COLS + (x / BLOCK) % COLS) as usize
}

/// Embeds `bits` (80 of them) into `img` in place.
pub fn embed(img: &mut RgbImage, bits: &[bool]) {
    if bits.len() != BITS {
        return;
    }
    for (x, y, p) in img.enumerate_pixels_mut() {
        let delta = if bits[bit_index(x, y)] {
            STRENGTH
        } else {
            -STRENGTH
        };
        for c in p.0.iter_mut() {
            *c = (*c as i16 + delta).clamp(0, 255) as u8;
        }
    }
}

/// Reads the mark out of `marked` by comparison with `original` (same
/// size): each block's mean difference votes for its bit.
pub fn extract(marked: &RgbImage, original: &RgbImage) -> Option<Vec<bool>> {
    if marked.dimensions() != original.dimensions() {
        return None;
    }
    let mut votes = vec![0i64; BITS];
    for (x, y, p) in marked.enumerate_pixels() {
        let o = original.get_pixel(x, y);
        let d: i64 = p.0.iter().zip(o.0).map(|(a, b)| *a as i64 - b as i64).sum();
        votes[bit_index(x, y)] += d;
    }
    Some(votes.into_iter().map(|v| v > 0).collect())
}

/// Decodes, marks and re-encodes an image (JPEG at quality 95, anything
/// else as PNG); `None` if it cannot be decoded (then it is not exported
/// unmarked: the caller reports it). The output passes the metadata
/// allow-list like every file that leaves; a JPEG keeps its source's EXIF
/// orientation as the only tag.
pub fn mark_encoded(bytes: &[u8], format: &str, bits: &[bool]) -> Option<Vec<u8>> {
    let decoded = image::load_from_memory(bytes).ok()?;
    let mut rgb: RgbImage = decoded.to_rgb8();
    embed(&mut rgb, bits);
    let mut out = std::io::Cursor::new(Vec::new());
    if format == "jpeg" {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95);
        rgb.write_with_encoder(encoder).ok()?;
        let orientation = metadata::jpeg_orientation(bytes);
        metadata::strip_jpeg_with_orientation(out.get_ref(), orientation).ok()
    } else {
        rgb.write_to(&mut out, image::ImageFormat::Png).ok()?;
        metadata::strip_png(out.get_ref()).ok()
    }
}

/// A blank test image of `w × h` with a gentle gradient.
pub fn gradient(w: u32, h: u32) -> RgbImage {
    ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([(40 + x % 160) as u8, (60 + y % 120) as u8, 128])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_bits_round_trip() {
        let fpr = "ebf4-19b0-5c56-99d3-b032";
        let bits = bits_of(fpr).unwrap();
        assert_eq!(bits.len(), 80);
        assert_eq!(fingerprint_of(&bits), fpr);
        assert!(bits_of("not-a-fingerprint").is_none());
    }

    #[test]
    fn the_mark_is_faint_survives_jpeg_and_reads_back() {
        let fpr = "76ab-4667-f946-e5eb-8112";
        let bits = bits_of(fpr).unwrap();
        let original = gradient(400, 300);
        let mut jpeg = std::io::Cursor::new(Vec::new());
        original
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut jpeg, 95,
            ))
            .unwrap();
        let base = image::load_from_memory(jpeg.get_ref()).unwrap().to_rgb8();
        let marked = mark_encoded(jpeg.get_ref(), "jpeg", &bits).unwrap();
        let marked = image::load_from_memory(&marked).unwrap().to_rgb8();
        // Faint: no channel moves by more than a few levels on average.
        let mean_abs: f64 = marked
            .pixels()
            .zip(base.pixels())
            .flat_map(|(a, b)| {
                a.0.iter()
                    .zip(b.0)
                    .map(|(x, y)| (*x as f64 - y as f64).abs())
            })
            .sum::<f64>()
            / (400.0 * 300.0 * 3.0);
        assert!(mean_abs < 4.0, "{mean_abs}");
        assert_eq!(fingerprint_of(&extract(&marked, &base).unwrap()), fpr);
        // Another recipient's mark reads differently.
        let other = bits_of("0000-1111-2222-3333-4444").unwrap();
        assert_ne!(extract(&marked, &base).unwrap(), other);
    }
}
