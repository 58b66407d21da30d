//! Masked, cropped derivatives of images: what an annotator receives instead
//! of the original when faces, plates or documents must not leave the site.
//!
//! [`derive_image`] decodes an image under a pixel limit, applies mask
//! [`Region`]s (rectangles and polygons, in the original image's pixel
//! coordinates), crops it, and re-encodes it. Re-encoding from raw pixels is
//! also what strips metadata: EXIF (GPS, camera serials, owner), XMP, IPTC,
//! ICC profiles, text chunks and thumbnails never reach the encoder; the
//! encoder's output then passes the same allow-list as every other file
//! that leaves ([`super::metadata`]), which adds back a JPEG source's EXIF
//! orientation as the only tag.
//!
//! # Which pixels a region covers
//!
//! A pixel is covered when the region (a closed set) meets the open square of
//! the pixel, so no sliver of a face can remain at a boundary:
//! - a [`Shape::Rect`] covers columns `floor(x) .. ceil(x + w)` and rows
//!   `floor(y) .. ceil(y + h)`, clamped to the image;
//! - a [`Shape::Polygon`] covers every pixel whose centre is inside by the
//!   even-odd rule, plus every pixel whose square an edge passes through.
//!
//! Pixels outside every region are left bit-identical (before encoding).
//!
//! # How strong each style is
//!
//! Only [`RegionStyle::Fill`] removes the information for certain: the covered
//! pixels become opaque mid-grey and nothing of the original survives.
//! [`RegionStyle::Pixelate`] (blocks of at least 12 px, a sixth of the
//! region's shorter side) and [`RegionStyle::Blur`] (three box-blur passes of
//! radius at least 8 px, a quarter of the shorter side) defeat casual reading
//! and recognition, but they are a weaker guarantee: a few bits per block
//! survive, and short known texts (plate or card numbers from a small
//! alphabet) have been recovered from pixelated and blurred images by
//! matching candidates. Use `Fill` for anything that must not be read.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageFormat, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::media::image::{self as media_image, ImageDecodeError, ImageLimits};

/// How the pixels of a region are hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegionStyle {
    /// Solid opaque mid-grey (128, 128, 128, 255): nothing survives.
    #[default]
    Fill,
    /// A strong blur restricted to the region.
    Blur,
    /// Square blocks, each replaced by its mean colour.
    Pixelate,
}

/// The outline of a mask region, in pixels of the original image (origin at
/// the top-left corner, x to the right, y down).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    /// Vertices in order, either orientation; the closing edge is implied.
    Polygon {
        points: Vec<[f64; 2]>,
    },
}

/// One region to mask and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    #[serde(flatten)]
    pub shape: Shape,
    #[serde(default)]
    pub style: RegionStyle,
}

/// A whole-pixel crop rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Most vertices a polygon may have: filling costs rows × edges, and no
/// drawn or detected outline comes near this.
pub const MAX_POLYGON_POINTS: usize = 10_000;

/// Why a derivative (image or audio) could not be made. Shared by
/// [`super::audio_mask`].
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("'{format}' is not a media format masking supports")]
    UnsupportedFormat { format: String },
    #[error("the {format} image could not be decoded: {message}")]
    ImageDecode {
        format: &'static str,
        message: String,
    },
    #[error("the JPEG image is truncated: it does not end with an end-of-image marker")]
    TruncatedJpeg,
    #[error(
        "the image is {width} x {height} px = {pixels} pixels, more than the limit of {limit}; raise the limit or use a smaller image"
    )]
    ImageTooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("the image is empty ({width} x {height} px)")]
    ImageEmpty { width: u32, height: u32 },
    #[error("mask region {index} is invalid: {reason}")]
    InvalidRegion { index: usize, reason: String },
    #[error(
        "the crop {w} x {h} px at ({x}, {y}) does not fit inside the {width} x {height} px image",
        x = crop.x, y = crop.y, w = crop.w, h = crop.h
    )]
    CropOutOfBounds { crop: Crop, width: u32, height: u32 },
    #[error("the masked image could not be encoded as {format}: {message}")]
    ImageEncode {
        format: &'static str,
        message: String,
    },
    #[error("the {format} recording could not be opened: {message}")]
    AudioOpen {
        format: &'static str,
        message: String,
    },
    #[error(
        "the {format} recording could not be decoded at packet {packet} ({at_secs:.3} s): {message}"
    )]
    AudioDecode {
        format: &'static str,
        packet: u64,
        at_secs: f64,
        message: String,
    },
    #[error("the recording is at least {secs:.1} s long, more than the limit of {limit:.1} s")]
    AudioTooLong { secs: f64, limit: f64 },
    #[error("the recording holds no audio")]
    AudioEmpty,
    #[error("the recording's {what} is not supported: {message}")]
    AudioUnsupported { what: &'static str, message: String },
    #[error("audio range {index} is invalid: {reason}")]
    InvalidRange { index: usize, reason: String },
    #[error("the time window {start_secs} s .. {end_secs} s is invalid: {reason}")]
    InvalidWindow {
        start_secs: f64,
        end_secs: f64,
        reason: String,
    },
    #[error("the masked recording ({bytes} bytes of samples) is too large for a WAV file")]
    WavTooLarge { bytes: u64 },
    #[error("the {format} file is malformed: {message}")]
    Malformed {
        format: &'static str,
        message: String,
    },
    #[error("the {format} decoder crashed on this recording; it is corrupt or hostile")]
    DecoderPanic { format: &'static str },
    #[error("{0}")]
    Strip(#[from] super::metadata::StripError),
}

/// The masking message for each reason `media` gives for not decoding an
/// image of format `name`.
fn decode_error(name: &'static str, err: ImageDecodeError) -> MaskError {
    match err {
        ImageDecodeError::TooManyPixels {
            width,
            height,
            pixels,
            limit,
        } => MaskError::ImageTooLarge {
            width,
            height,
            pixels,
            limit,
        },
        ImageDecodeError::Empty { width, height } => MaskError::ImageEmpty { width, height },
        ImageDecodeError::Decoder(e) => MaskError::ImageDecode {
            format: name,
            message: e.to_string(),
        },
        // No side limit is set here; the mismatch is the decoder's fault.
        other @ (ImageDecodeError::SideTooLong { .. } | ImageDecodeError::SizeMismatch { .. }) => {
            MaskError::ImageDecode {
                format: name,
                message: other.to_string(),
            }
        }
    }
}

const GREY: [u8; 4] = [128, 128, 128, 255];

impl Region {
    /// The same region on an image `sx`×`sy` times the size (a template
    /// saved on one image, applied to another).
    pub fn scaled(&self, sx: f64, sy: f64) -> Region {
        let shape = match &self.shape {
            Shape::Rect { x, y, w, h } => Shape::Rect {
                x: x * sx,
                y: y * sy,
                w: w * sx,
                h: h * sy,
            },
            Shape::Polygon { points } => Shape::Polygon {
                points: points.iter().map(|[x, y]| [x * sx, y * sy]).collect(),
            },
        };
        Region {
            shape,
            style: self.style,
        }
    }

    /// The same shape within half a pixel: scaling is not exact in floating
    /// point, so a template applied twice, or onto the image it was saved
    /// from, must count as already there.
    pub fn close_to(&self, other: &Region) -> bool {
        let near = |p: f64, q: f64| (p - q).abs() <= 0.5;
        match (&self.shape, &other.shape) {
            (
                Shape::Rect { x, y, w, h },
                Shape::Rect {
                    x: x2,
                    y: y2,
                    w: w2,
                    h: h2,
                },
            ) => near(*x, *x2) && near(*y, *y2) && near(*w, *w2) && near(*h, *h2),
            (Shape::Polygon { points: p }, Shape::Polygon { points: q }) => {
                p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|(a, b)| near(a[0], b[0]) && near(a[1], b[1]))
            }
            (Shape::Rect { .. }, Shape::Polygon { .. })
            | (Shape::Polygon { .. }, Shape::Rect { .. }) => false,
        }
    }

    /// Checks that the region describes an area: finite coordinates, a
    /// rectangle with positive width and height, a polygon with 3 to
    /// [`MAX_POLYGON_POINTS`] vertices. [`apply_regions`] skips regions that
    /// fail this; [`derive_image`] refuses them, so nothing is skipped
    /// silently on the way to an annotator.
    pub fn validate(&self) -> Result<(), String> {
        match &self.shape {
            Shape::Rect { x, y, w, h } => {
                if ![x, y, w, h].iter().all(|v| v.is_finite()) {
                    return Err(format!(
                        "rectangle has a non-finite coordinate ({x}, {y}, {w}, {h})"
                    ));
                }
                if *w <= 0.0 || *h <= 0.0 {
                    return Err(format!("rectangle has no area ({w} x {h})"));
                }
            }
            Shape::Polygon { points } => {
                if points.len() < 3 {
                    return Err(format!(
                        "polygon has {} vertices, at least 3 are needed",
                        points.len()
                    ));
                }
                if points.len() > MAX_POLYGON_POINTS {
                    return Err(format!(
                        "polygon has {} vertices, more than the {MAX_POLYGON_POINTS} allowed",
                        points.len()
                    ));
                }
                if let Some(i) = points
                    .iter()
                    .position(|[x, y]| !x.is_finite() || !y.is_finite())
                {
                    return Err(format!("polygon vertex {i} is not a finite number"));
                }
            }
        }
        Ok(())
    }
}

/// The pixels one region covers: a bitmap over its clamped pixel bounding
/// box `x0 .. x0 + w`, `y0 .. y0 + h`.
struct Coverage {
    x0: u32,
    y0: u32,
    w: u32,
    h: u32,
    bits: Vec<bool>,
}

impl Coverage {
    fn covers(&self, x: u32, y: u32) -> bool {
        if x < self.x0 || y < self.y0 {
            return false;
        }
        let (dx, dy) = ((x - self.x0) as usize, (y - self.y0) as usize);
        if dx >= self.w as usize {
            return false;
        }
        self.bits
            .get(dy * self.w as usize + dx)
            .copied()
            .unwrap_or(false)
    }

    fn mark(&mut self, x: u32, y: u32) {
        if x < self.x0 || y < self.y0 {
            return;
        }
        let (dx, dy) = ((x - self.x0) as usize, (y - self.y0) as usize);
        if dx >= self.w as usize {
            return;
        }
        if let Some(bit) = self.bits.get_mut(dy * self.w as usize + dx) {
            *bit = true;
        }
    }

    /// Marks columns `c0 .. c1` (pixel indices, possibly off the image) of row `y`.
    fn mark_span(&mut self, y: i64, c0: i64, c1: i64) {
        let Ok(y) = u32::try_from(y) else { return };
        let lo = c0.max(i64::from(self.x0));
        let hi = c1.min(i64::from(self.x0) + i64::from(self.w));
        for x in lo..hi {
            if let Ok(x) = u32::try_from(x) {
                self.mark(x, y);
            }
        }
    }

    fn rows(&self) -> std::ops::Range<u32> {
        self.y0..self.y0 + self.h
    }

    fn cols(&self) -> std::ops::Range<u32> {
        self.x0..self.x0 + self.w
    }
}

/// `floor(v)` as a pixel index clamped to `0 ..= limit`.
fn floor_clamped(v: f64, limit: u32) -> u32 {
    // `as` saturates, and the coordinates were checked to be finite.
    (v.floor() as i64).clamp(0, i64::from(limit)) as u32
}

/// `ceil(v)` as a pixel index clamped to `0 ..= limit`.
fn ceil_clamped(v: f64, limit: u32) -> u32 {
    (v.ceil() as i64).clamp(0, i64::from(limit)) as u32
}

fn empty_coverage(x0: u32, x1: u32, y0: u32, y1: u32, fill: bool) -> Option<Coverage> {
    let (w, h) = (x1.checked_sub(x0)?, y1.checked_sub(y0)?);
    if w == 0 || h == 0 {
        return None;
    }
    Some(Coverage {
        x0,
        y0,
        w,
        h,
        bits: vec![fill; w as usize * h as usize],
    })
}

/// The covered pixels of `shape` in a `width` x `height` image, `None` when
/// it covers none (off the image, or invalid).
fn coverage(shape: &Shape, width: u32, height: u32) -> Option<Coverage> {
    match shape {
        Shape::Rect { x, y, w, h } => empty_coverage(
            floor_clamped(*x, width),
            ceil_clamped(x + w, width),
            floor_clamped(*y, height),
            ceil_clamped(y + h, height),
            true,
        ),
        Shape::Polygon { points } => polygon_coverage(points, width, height),
    }
}

fn polygon_coverage(points: &[[f64; 2]], width: u32, height: u32) -> Option<Coverage> {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for [x, y] in points {
        (min_x, min_y, max_x, max_y) = (min_x.min(*x), min_y.min(*y), max_x.max(*x), max_y.max(*y));
    }
    let mut cov = empty_coverage(
        floor_clamped(min_x, width),
        ceil_clamped(max_x, width),
        floor_clamped(min_y, height),
        ceil_clamped(max_y, height),
        false,
    )?;
    let edges = || {
        points
            .iter()
            .zip(points.iter().cycle().skip(1))
            .map(|(p, q)| (*p, *q))
    };

    // Even-odd rule on pixel centres, one scanline per row.
    let mut crossings: Vec<f64> = Vec::new();
    for row in cov.rows() {
        let yc = f64::from(row) + 0.5;
        crossings.clear();
        for ([px, py], [qx, qy]) in edges() {
            if (py > yc) != (qy > yc) {
                crossings.push(px + (yc - py) * (qx - px) / (qy - py));
            }
        }
        crossings.sort_by(f64::total_cmp);
        for pair in crossings.chunks_exact(2) {
            if let [a, b] = pair {
                // Pixels whose centre i + 0.5 lies in [a, b).
                let c0 = (a - 0.5).ceil() as i64;
                let c1 = (b - 0.5).ceil() as i64;
                cov.mark_span(i64::from(row), c0, c1);
            }
        }
    }

    // Every pixel an edge passes through, so thin parts between pixel
    // centres are covered too.
    for (p, q) in edges() {
        mark_segment(&mut cov, p, q);
    }
    Some(cov)
}

/// Marks every pixel whose open square the closed segment `p`–`q` meets.
fn mark_segment(cov: &mut Coverage, [px, py]: [f64; 2], [qx, qy]: [f64; 2]) {
    // Columns whose open interval (i, i + 1) meets the closed x range [a, b].
    let columns = |a: f64, b: f64| -> (i64, i64) {
        if a == b {
            if a.fract() == 0.0 {
                (0, 0)
            } else {
                (a.floor() as i64, a.floor() as i64 + 1)
            }
        } else {
            (a.floor() as i64, b.ceil() as i64)
        }
    };
    let (y_lo, y_hi) = (py.min(qy), py.max(qy));
    let row_lo = i64::from(cov.y0);
    let row_hi = row_lo + i64::from(cov.h);
    if y_lo == y_hi {
        // A horizontal edge on a pixel boundary touches no open square.
        if y_lo.fract() == 0.0 {
            return;
        }
        let (c0, c1) = columns(px.min(qx), px.max(qx));
        cov.mark_span(y_lo.floor() as i64, c0, c1);
        return;
    }
    let first = (y_lo.floor() as i64).max(row_lo);
    let last = (y_hi.ceil() as i64).min(row_hi);
    let x_at = |y: f64| px + (y - py) * (qx - px) / (qy - py);
    for row in first..last {
        let row_f = row as f64;
        let (a, b) = (x_at(y_lo.max(row_f)), x_at(y_hi.min(row_f + 1.0)));
        let (c0, c1) = if px == qx {
            columns(px, px)
        } else {
            columns(a.min(b), a.max(b))
        };
        cov.mark_span(row, c0, c1);
    }
}

/// Masks `regions` in place, in order (a later region sees the result of an
/// earlier one). Coordinates are in `img`'s pixels; regions that fail
/// [`Region::validate`] are skipped. Pixels no region covers are not touched.
pub fn apply_regions(img: &mut RgbaImage, regions: &[Region]) {
    let (width, height) = img.dimensions();
    for region in regions {
        if region.validate().is_err() {
            continue;
        }
        let Some(cov) = coverage(&region.shape, width, height) else {
            continue;
        };
        match region.style {
            RegionStyle::Fill => fill(img, &cov),
            RegionStyle::Pixelate => pixelate(img, &cov),
            RegionStyle::Blur => blur(img, &cov),
        }
    }
}

fn fill(img: &mut RgbaImage, cov: &Coverage) {
    for y in cov.rows() {
        for x in cov.cols() {
            if cov.covers(x, y)
                && let Some(p) = img.get_pixel_mut_checked(x, y)
            {
                p.0 = GREY;
            }
        }
    }
}

fn pixelate(img: &mut RgbaImage, cov: &Coverage) {
    let block = (cov.w.min(cov.h) / 6).max(12);
    for by in cov.rows().step_by(block as usize) {
        for bx in cov.cols().step_by(block as usize) {
            let ys = by..(by.saturating_add(block)).min(cov.y0 + cov.h);
            let xs = bx..(bx.saturating_add(block)).min(cov.x0 + cov.w);
            // The mean of the covered pixels only, so that a partly covered
            // block at a polygon's edge is not tinted by what lies outside.
            let mut sum = [0u64; 4];
            let mut count = 0u64;
            for y in ys.clone() {
                for x in xs.clone() {
                    if cov.covers(x, y)
                        && let Some(p) = img.get_pixel_checked(x, y)
                    {
                        for (s, c) in sum.iter_mut().zip(p.0) {
                            *s += u64::from(c);
                        }
                        count += 1;
                    }
                }
            }
            if count == 0 {
                continue;
            }
            let mean = sum.map(|s| ((s + count / 2) / count).min(255) as u8);
            for y in ys.clone() {
                for x in xs.clone() {
                    if cov.covers(x, y)
                        && let Some(p) = img.get_pixel_mut_checked(x, y)
                    {
                        p.0 = mean;
                    }
                }
            }
        }
    }
}

/// Three passes of a separable box blur of radius max(8, shorter side / 4),
/// computed over the region grown by the blur's reach (so pixels just outside
/// feed the average) and written back to the covered pixels only.
fn blur(img: &mut RgbaImage, cov: &Coverage) {
    const PASSES: u32 = 3;
    let radius = (cov.w.min(cov.h) / 4).max(8);
    let reach = radius.saturating_mul(PASSES);
    let (width, height) = img.dimensions();
    let wx0 = cov.x0.saturating_sub(reach);
    let wy0 = cov.y0.saturating_sub(reach);
    let wx1 = (cov.x0 + cov.w).saturating_add(reach).min(width);
    let wy1 = (cov.y0 + cov.h).saturating_add(reach).min(height);
    let (ww, wh) = ((wx1 - wx0) as usize, (wy1 - wy0) as usize);

    let mut window: Vec<[u8; 4]> = Vec::with_capacity(ww * wh);
    for y in wy0..wy1 {
        for x in wx0..wx1 {
            window.push(img.get_pixel_checked(x, y).map_or([0; 4], |p| p.0));
        }
    }
    let radius = radius as usize;
    let mut line: Vec<[u8; 4]> = Vec::new();
    let mut prefix: Vec<[u32; 4]> = Vec::new();
    for _ in 0..PASSES {
        for row in 0..wh {
            line.clear();
            line.extend((0..ww).filter_map(|col| window.get(row * ww + col).copied()));
            box_blur_line(&line, radius, &mut prefix, |col, v| {
                if let Some(p) = window.get_mut(row * ww + col) {
                    *p = v;
                }
            });
        }
        for col in 0..ww {
            line.clear();
            line.extend((0..wh).filter_map(|row| window.get(row * ww + col).copied()));
            box_blur_line(&line, radius, &mut prefix, |row, v| {
                if let Some(p) = window.get_mut(row * ww + col) {
                    *p = v;
                }
            });
        }
    }

    for y in cov.rows() {
        for x in cov.cols() {
            if !cov.covers(x, y) {
                continue;
            }
            let at = (y - wy0) as usize * ww + (x - wx0) as usize;
            if let (Some(v), Some(p)) = (window.get(at), img.get_pixel_mut_checked(x, y)) {
                p.0 = *v;
            }
        }
    }
}

/// Box-blurs one line: each output is the mean of the inputs within
/// `radius`, the window shrinking at the ends (no dark borders).
fn box_blur_line(
    line: &[[u8; 4]],
    radius: usize,
    prefix: &mut Vec<[u32; 4]>,
    mut put: impl FnMut(usize, [u8; 4]),
) {
    prefix.clear();
    prefix.push([0; 4]);
    let mut acc = [0u32; 4];
    for v in line {
        for (a, c) in acc.iter_mut().zip(v) {
            *a += u32::from(*c);
        }
        prefix.push(acc);
    }
    for i in 0..line.len() {
        let lo = i.saturating_sub(radius);
        let hi = (i + radius + 1).min(line.len());
        let (Some(top), Some(bottom)) = (prefix.get(hi), prefix.get(lo)) else {
            continue;
        };
        let n = (hi - lo) as u32;
        let mut out = [0u8; 4];
        for ((o, t), b) in out.iter_mut().zip(top).zip(bottom) {
            *o = ((t - b + n / 2) / n).min(255) as u8;
        }
        put(i, out);
    }
}

/// The first JPEG image in `bytes`, without anything appended after its
/// end-of-image marker (a motion photo's video, an MPO's second image).
/// zune-jpeg fills a cut-off scan with grey instead of failing, so reaching
/// the end marker by walking the segments and the entropy-coded data is
/// the only reliable sign that the whole image is there. A file whose
/// structure the walker refuses is left to the decoder.
fn first_jpeg(bytes: &[u8]) -> Result<&[u8], MaskError> {
    match super::metadata::jpeg_image_len(bytes) {
        Ok(end) => Ok(bytes.get(..end).unwrap_or(bytes)),
        Err(super::metadata::StripError::Truncated { .. }) => Err(MaskError::TruncatedJpeg),
        Err(_) => Ok(bytes),
    }
}

/// Decode `bytes` (format name as we store it: "jpeg", "png", "webp",
/// "tiff", "bmp", "gif"), apply regions (in ORIGINAL image pixel coords),
/// then crop (if any), re-encode. JPEG sources stay JPEG (quality 95);
/// everything else becomes PNG. Metadata never survives. Returns (bytes,
/// format name, width, height).
///
/// The image is refused from its header when it has more than `max_pixels`
/// pixels. Of an animated GIF only the first frame is kept. Pixels become
/// 8 bits per channel; the PNG colour type is the smallest that loses
/// nothing of that (grey, grey + alpha, RGB or RGBA).
pub fn derive_image(
    bytes: &[u8],
    format: &str,
    regions: &[Region],
    crop: Option<Crop>,
    max_pixels: u64,
) -> Result<(Vec<u8>, &'static str, u32, u32), MaskError> {
    let Some((name, image_format)) = media_image::format_named(format) else {
        return Err(MaskError::UnsupportedFormat {
            format: format.to_owned(),
        });
    };
    for (index, region) in regions.iter().enumerate() {
        region
            .validate()
            .map_err(|reason| MaskError::InvalidRegion { index, reason })?;
    }
    let (bytes, orientation) = if image_format == ImageFormat::Jpeg {
        let image = first_jpeg(bytes)?;
        (image, super::metadata::jpeg_orientation(image))
    } else {
        (bytes, None)
    };

    // The header first, so that a decompression bomb is refused before any
    // pixel is allocated. No side limit beyond the pixel count: the item
    // passed import's. The decode budget is the importer's default, or RGBA
    // at 16 bits per channel for an image it was told to accept that needs
    // more.
    let limits = ImageLimits {
        max_pixels,
        max_side: None,
        max_alloc: crate::media::DEFAULT_MAX_DECODE_ALLOC_BYTES,
        alloc_per_pixel: 8,
    };
    let header = media_image::read_header(bytes, image_format, &limits)
        .map_err(|e| decode_error(name, e))?;
    let (width, height) = (header.width, header.height);
    if let Some(c) = crop {
        let fits = c.w > 0
            && c.h > 0
            && c.x.checked_add(c.w).is_some_and(|r| r <= width)
            && c.y.checked_add(c.h).is_some_and(|b| b <= height);
        if !fits {
            return Err(MaskError::CropOutOfBounds {
                crop: c,
                width,
                height,
            });
        }
    }
    let decoded = header.decode().map_err(|e| decode_error(name, e))?;
    let mut img = decoded.to_rgba8();
    drop(decoded);

    apply_regions(&mut img, regions);
    let img = match crop {
        Some(c) => image::imageops::crop_imm(&img, c.x, c.y, c.w, c.h).to_image(),
        None => img,
    };
    let (out_w, out_h) = img.dimensions();
    // The encoders write no metadata of their own today; the allow-list
    // makes sure of it whatever a future version adds.
    let (bytes, out_format) = if image_format == ImageFormat::Jpeg {
        let encoded = encode_jpeg(&img)?;
        (
            super::metadata::strip_jpeg_with_orientation(&encoded, orientation)?,
            "jpeg",
        )
    } else {
        (super::metadata::strip_png(&encode_png(&img)?)?, "png")
    };
    Ok((bytes, out_format, out_w, out_h))
}

fn encode_jpeg(img: &RgbaImage) -> Result<Vec<u8>, MaskError> {
    // JPEG has no alpha; a JPEG source had none either.
    let rgb: Vec<u8> = img
        .pixels()
        .flat_map(|p| [p.0[0], p.0[1], p.0[2]])
        .collect();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95)
        .write_image(&rgb, img.width(), img.height(), ExtendedColorType::Rgb8)
        .map_err(|e| MaskError::ImageEncode {
            format: "jpeg",
            message: e.to_string(),
        })?;
    Ok(out)
}

fn encode_png(img: &RgbaImage) -> Result<Vec<u8>, MaskError> {
    let opaque = img.pixels().all(|p| p.0[3] == 255);
    let grey = img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]);
    let (data, color): (Vec<u8>, _) = match (grey, opaque) {
        (true, true) => (
            img.pixels().map(|p| p.0[0]).collect(),
            ExtendedColorType::L8,
        ),
        (true, false) => (
            img.pixels().flat_map(|p| [p.0[0], p.0[3]]).collect(),
            ExtendedColorType::La8,
        ),
        (false, true) => (
            img.pixels()
                .flat_map(|p| [p.0[0], p.0[1], p.0[2]])
                .collect(),
            ExtendedColorType::Rgb8,
        ),
        (false, false) => (img.as_raw().clone(), ExtendedColorType::Rgba8),
    };
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&data, img.width(), img.height(), color)
        .map_err(|e| MaskError::ImageEncode {
            format: "png",
            message: e.to_string(),
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    /// A noisy image in which every pixel differs from its neighbours.
    fn noisy(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let v = x
                .wrapping_mul(2_654_435_761)
                .wrapping_add(y.wrapping_mul(40_503))
                ^ (x * y);
            Rgba([
                v as u8,
                (v >> 8) as u8,
                (v >> 16) as u8,
                200 + (v >> 24) as u8 % 56,
            ])
        })
    }

    fn rect(x: f64, y: f64, w: f64, h: f64, style: RegionStyle) -> Region {
        Region {
            shape: Shape::Rect { x, y, w, h },
            style,
        }
    }

    /// The pixels `coverage` reports for a region, in row-major order.
    fn covered_by(region: &Region, w: u32, h: u32) -> Vec<(u32, u32)> {
        let cov = coverage(&region.shape, w, h);
        let mut out = Vec::new();
        for y in 0..h {
            for x in 0..w {
                if cov.as_ref().is_some_and(|c| c.covers(x, y)) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    fn assert_only_changed(
        before: &RgbaImage,
        after: &RgbaImage,
        inside: impl Fn(u32, u32) -> bool,
    ) {
        for (x, y, p) in after.enumerate_pixels() {
            if !inside(x, y) {
                assert_eq!(
                    p,
                    before.get_pixel(x, y),
                    "pixel ({x}, {y}) outside changed"
                );
            }
        }
    }

    #[test]
    fn fill_rect_covers_every_touched_pixel_and_nothing_else() {
        let before = noisy(40, 30);
        let mut img = before.clone();
        // 5.5 .. 12.2 touches columns 5..=12, 3.9 .. 10.1 rows 3..=10.
        apply_regions(&mut img, &[rect(5.5, 3.9, 6.7, 6.2, RegionStyle::Fill)]);
        let inside = |x: u32, y: u32| (5..13).contains(&x) && (3..11).contains(&y);
        for (x, y, p) in img.enumerate_pixels() {
            if inside(x, y) {
                assert_eq!(p.0, GREY, "({x}, {y})");
            }
        }
        assert_only_changed(&before, &img, inside);
    }

    #[test]
    fn rect_on_whole_pixels_and_off_the_image_is_clamped() {
        let before = noisy(20, 20);
        let mut img = before.clone();
        apply_regions(
            &mut img,
            &[
                rect(2.0, 2.0, 3.0, 3.0, RegionStyle::Fill),
                rect(-5.0, 15.0, 8.0, 100.0, RegionStyle::Fill),
                rect(50.0, 50.0, 3.0, 3.0, RegionStyle::Fill),
            ],
        );
        let inside =
            |x: u32, y: u32| ((2..5).contains(&x) && (2..5).contains(&y)) || (x < 3 && y >= 15);
        for (x, y, p) in img.enumerate_pixels() {
            if inside(x, y) {
                assert_eq!(p.0, GREY, "({x}, {y})");
            }
        }
        assert_only_changed(&before, &img, inside);
    }

    #[test]
    fn fill_polygon_covers_centres_inside_and_pixels_under_edges() {
        let before = noisy(50, 50);
        let mut img = before.clone();
        // A right triangle with legs on pixel boundaries and a diagonal
        // hypotenuse from (10, 10) to (30, 30) plus a point (10, 30).
        let tri = Region {
            shape: Shape::Polygon {
                points: vec![[10.0, 10.0], [30.0, 30.0], [10.0, 30.0]],
            },
            style: RegionStyle::Fill,
        };
        apply_regions(&mut img, std::slice::from_ref(&tri));
        // The hypotenuse y = x passes through pixel (i, i) and touches the
        // corners of (i + 1, i), which stays out; below it, x <= y.
        let inside = |x: u32, y: u32| (10..30).contains(&x) && (10..30).contains(&y) && x <= y;
        for y in 0..50 {
            for x in 0..50 {
                let p = img.get_pixel(x, y);
                if inside(x, y) {
                    assert_eq!(p.0, GREY, "({x}, {y}) should be filled");
                } else {
                    assert_eq!(p, before.get_pixel(x, y), "({x}, {y}) should be untouched");
                }
            }
        }
        assert_eq!(covered_by(&tri, 50, 50).len(), 210);
    }

    #[test]
    fn thin_polygon_between_pixel_centres_is_still_covered() {
        // A sliver from x 3.1 to 3.3: no pixel centre lies inside it.
        let sliver = Region {
            shape: Shape::Polygon {
                points: vec![[3.1, 1.2], [3.3, 1.2], [3.3, 8.7], [3.1, 8.7]],
            },
            style: RegionStyle::Fill,
        };
        let got = covered_by(&sliver, 10, 10);
        let want: Vec<(u32, u32)> = (1..9).map(|y| (3, y)).collect();
        assert_eq!(got, want);
        // A slanted sliver crosses into the next column too.
        let slanted = Region {
            shape: Shape::Polygon {
                points: vec![[1.2, 1.2], [1.3, 1.2], [4.7, 4.8], [4.6, 4.8]],
            },
            style: RegionStyle::Fill,
        };
        let got = covered_by(&slanted, 10, 10);
        for i in 1..5 {
            assert!(got.contains(&(i, i)), "({i}, {i}) missing from {got:?}");
        }
    }

    #[test]
    fn polygon_matching_a_rect_covers_the_same_pixels() {
        for (x, y, w, h) in [
            (2.0, 3.0, 5.0, 4.0),
            (2.5, 3.25, 5.1, 4.9),
            (0.0, 0.0, 10.0, 10.0),
        ] {
            let r = rect(x, y, w, h, RegionStyle::Fill);
            let p = Region {
                shape: Shape::Polygon {
                    points: vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
                },
                style: RegionStyle::Fill,
            };
            assert_eq!(
                covered_by(&r, 12, 12),
                covered_by(&p, 12, 12),
                "{x} {y} {w} {h}"
            );
        }
    }

    #[test]
    fn concave_polygon_uses_even_odd_rule() {
        // A "U": the notch between the arms stays untouched.
        let u = Region {
            shape: Shape::Polygon {
                points: vec![
                    [0.0, 0.0],
                    [3.0, 0.0],
                    [3.0, 6.0],
                    [6.0, 6.0],
                    [6.0, 0.0],
                    [9.0, 0.0],
                    [9.0, 9.0],
                    [0.0, 9.0],
                ],
            },
            style: RegionStyle::Fill,
        };
        let got = covered_by(&u, 12, 12);
        assert!(!got.contains(&(4, 2)));
        assert!(got.contains(&(1, 2)) && got.contains(&(7, 2)) && got.contains(&(4, 7)));
        assert_eq!(got.len(), 81 - 18);
    }

    #[test]
    fn pixelate_makes_blocks_constant_and_leaves_outside_alone() {
        let before = noisy(100, 80);
        let mut img = before.clone();
        // 60 x 48 px: block = max(12, 48 / 6 = 8) = 12.
        apply_regions(
            &mut img,
            &[rect(20.0, 10.0, 60.0, 48.0, RegionStyle::Pixelate)],
        );
        let inside = |x: u32, y: u32| (20..80).contains(&x) && (10..58).contains(&y);
        assert_only_changed(&before, &img, inside);
        for by in (10..58).step_by(12) {
            for bx in (20..80).step_by(12) {
                let first = *img.get_pixel(bx, by);
                let mut sum = [0u64; 4];
                for y in by..(by + 12).min(58) {
                    for x in bx..(bx + 12).min(80) {
                        assert_eq!(*img.get_pixel(x, y), first, "block at ({bx}, {by})");
                        for (s, c) in sum.iter_mut().zip(before.get_pixel(x, y).0) {
                            *s += u64::from(c);
                        }
                    }
                }
                let n = 12 * (58 - by).min(12) as u64;
                for (c, s) in first.0.iter().zip(sum) {
                    assert_eq!(u64::from(*c), (s + n / 2) / n);
                }
            }
        }
    }

    #[test]
    fn large_pixelate_blocks_follow_the_shorter_side() {
        let before = noisy(200, 200);
        let mut img = before.clone();
        // 180 x 120: block = 120 / 6 = 20, so (20, 20) and (39, 39) agree.
        apply_regions(
            &mut img,
            &[rect(0.0, 0.0, 180.0, 120.0, RegionStyle::Pixelate)],
        );
        assert_eq!(img.get_pixel(20, 20), img.get_pixel(39, 39));
        assert_ne!(img.get_pixel(39, 39), img.get_pixel(40, 40));
    }

    #[test]
    fn blur_flattens_the_region_and_leaves_outside_alone() {
        let before = noisy(120, 100);
        let mut img = before.clone();
        let poly = Region {
            shape: Shape::Polygon {
                points: vec![[30.0, 20.0], [90.0, 25.0], [70.0, 80.0], [25.0, 70.0]],
            },
            style: RegionStyle::Blur,
        };
        let covered = covered_by(&poly, 120, 100);
        apply_regions(&mut img, std::slice::from_ref(&poly));
        assert_only_changed(&before, &img, |x, y| covered.contains(&(x, y)));
        let variance = |im: &RgbaImage| {
            let vals: Vec<f64> = covered
                .iter()
                .map(|&(x, y)| f64::from(im.get_pixel(x, y).0[0]))
                .collect();
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64
        };
        let (v0, v1) = (variance(&before), variance(&img));
        assert!(v1 < v0 * 0.05, "variance {v0} -> {v1}");
    }

    #[test]
    fn invalid_regions_are_refused_by_derive_and_skipped_by_apply() {
        let bad = [
            rect(f64::NAN, 0.0, 1.0, 1.0, RegionStyle::Fill),
            rect(0.0, 0.0, 0.0, 5.0, RegionStyle::Fill),
            rect(0.0, 0.0, 5.0, -1.0, RegionStyle::Fill),
            Region {
                shape: Shape::Polygon {
                    points: vec![[0.0, 0.0], [1.0, 1.0]],
                },
                style: RegionStyle::Fill,
            },
            Region {
                shape: Shape::Polygon {
                    points: vec![[0.0, 0.0], [1.0, f64::INFINITY], [2.0, 0.0]],
                },
                style: RegionStyle::Fill,
            },
        ];
        let before = noisy(8, 8);
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(before.as_raw(), 8, 8, ExtendedColorType::Rgba8)
            .unwrap();
        for (i, region) in bad.iter().enumerate() {
            assert!(region.validate().is_err(), "{i}");
            let mut img = before.clone();
            apply_regions(&mut img, std::slice::from_ref(region));
            assert_eq!(img, before);
            let err =
                derive_image(&png, "png", std::slice::from_ref(region), None, 1 << 20).unwrap_err();
            assert!(
                matches!(err, MaskError::InvalidRegion { index: 0, .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn derive_png_round_trips_pixels_crops_and_refuses_bad_crops_and_big_images() {
        let before = noisy(30, 20);
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(before.as_raw(), 30, 20, ExtendedColorType::Rgba8)
            .unwrap();
        let crop = Crop {
            x: 4,
            y: 5,
            w: 10,
            h: 6,
        };
        let (out, format, w, h) = derive_image(
            &png,
            "png",
            &[rect(0.0, 0.0, 6.0, 6.0, RegionStyle::Fill)],
            Some(crop),
            600,
        )
        .unwrap();
        assert_eq!((format, w, h), ("png", 10, 6));
        let got = image::load_from_memory(&out).unwrap().to_rgba8();
        for (x, y, p) in got.enumerate_pixels() {
            let (ox, oy) = (x + 4, y + 5);
            if ox < 6 && oy < 6 {
                assert_eq!(p.0, GREY);
            } else {
                assert_eq!(p, before.get_pixel(ox, oy), "({ox}, {oy})");
            }
        }
        for bad in [
            Crop {
                x: 25,
                y: 0,
                w: 6,
                h: 1,
            },
            Crop {
                x: 0,
                y: 0,
                w: 0,
                h: 1,
            },
            Crop {
                x: u32::MAX,
                y: 0,
                w: 2,
                h: 1,
            },
        ] {
            let err = derive_image(&png, "png", &[], Some(bad), 600).unwrap_err();
            assert!(matches!(err, MaskError::CropOutOfBounds { .. }), "{err}");
        }
        let err = derive_image(&png, "png", &[], None, 599).unwrap_err();
        assert!(
            matches!(err, MaskError::ImageTooLarge { pixels: 600, .. }),
            "{err}"
        );
        let err = derive_image(&png, "svg", &[], None, 600).unwrap_err();
        assert!(matches!(err, MaskError::UnsupportedFormat { .. }), "{err}");
    }

    #[test]
    fn region_json_is_flat_with_a_default_style() {
        let r: Region =
            serde_json::from_str(r#"{"shape":"rect","x":1,"y":2,"w":3,"h":4}"#).unwrap();
        assert_eq!(r, rect(1.0, 2.0, 3.0, 4.0, RegionStyle::Fill));
        let p = Region {
            shape: Shape::Polygon {
                points: vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
            },
            style: RegionStyle::Pixelate,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"shape":"polygon","points":[[0.0,0.0],[1.0,0.0],[0.0,1.0]],"style":"pixelate"}"#
        );
        assert_eq!(serde_json::from_str::<Region>(&json).unwrap(), p);
    }
}
