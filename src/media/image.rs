//! Decoding an image under limits: a decompression bomb is refused from its header before a
//! single pixel is allocated, and the decode runs under an allocation budget.
//!
//! [`read_header`] reads the dimensions (with no side limit in the decoder, so that an
//! oversized image is reported with its real size rather than as an opaque decoder error) and
//! checks them; [`ImageHeader::decode`] decodes and refuses a result that disagrees with the
//! header; [`decode`] does both. A caller with checks of its own between the two (a crop that
//! must fit) calls them separately.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use super::{DEFAULT_MAX_DECODE_ALLOC_BYTES, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_SIDE};

/// The format names as Sealtag stores them, and their decoders.
const FORMATS: [(&str, ImageFormat); 6] = [
    ("jpeg", ImageFormat::Jpeg),
    ("png", ImageFormat::Png),
    ("gif", ImageFormat::Gif),
    ("webp", ImageFormat::WebP),
    ("tiff", ImageFormat::Tiff),
    ("bmp", ImageFormat::Bmp),
];

/// The decoder for a stored format name ("jpeg", "png", "gif", "webp", "tiff", "bmp"), with
/// the name as a `'static` string.
pub fn format_named(name: &str) -> Option<(&'static str, ImageFormat)> {
    FORMATS.iter().copied().find(|(n, _)| *n == name)
}

/// Limits for one image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageLimits {
    /// Most pixels (width × height), checked from the header.
    pub max_pixels: u64,
    /// Longest width or height, checked from the header; `None`: only the pixel count bounds
    /// the sides, and the decoder is held to the header's own dimensions.
    pub max_side: Option<u32>,
    /// Most memory the decoder may allocate, reading the header and decoding.
    pub max_alloc: u64,
    /// Bytes per pixel the decode may allocate when that is more than `max_alloc`: its
    /// budget is `max(max_alloc, pixels × alloc_per_pixel)`. 0: `max_alloc` is the budget.
    pub alloc_per_pixel: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: DEFAULT_MAX_IMAGE_PIXELS,
            max_side: Some(DEFAULT_MAX_IMAGE_SIDE),
            max_alloc: DEFAULT_MAX_DECODE_ALLOC_BYTES,
            alloc_per_pixel: 0,
        }
    }
}

/// Why an image was not decoded.
#[derive(Debug, thiserror::Error)]
pub enum ImageDecodeError {
    /// The decoder refused the header or the data.
    #[error("{0}")]
    Decoder(image::ImageError),
    /// The header declares more pixels than [`ImageLimits::max_pixels`]; nothing was decoded.
    #[error("image is {width} x {height} px ({pixels} px), over the limit of {limit} px")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// width × height.
        pixels: u64,
        /// The pixel limit.
        limit: u64,
    },
    /// The header declares a side longer than [`ImageLimits::max_side`]; nothing was decoded.
    #[error("image is {width} x {height} px, a side is over the limit of {limit} px")]
    SideTooLong {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The side limit.
        limit: u32,
    },
    /// The header declares zero width or height.
    #[error("image is {width} x {height} px: it has no pixels")]
    Empty {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The decoder produced another size than its header declared.
    #[error("header says {width} x {height} px but {decoded_width} x {decoded_height} px decoded")]
    SizeMismatch {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Decoded width.
        decoded_width: u32,
        /// Decoded height.
        decoded_height: u32,
    },
}

/// An image whose header passed the limits, ready to decode.
#[derive(Debug)]
pub struct ImageHeader<'a> {
    bytes: &'a [u8],
    format: ImageFormat,
    limits: ImageLimits,
    /// Width in pixels, as the header declares it.
    pub width: u32,
    /// Height in pixels, as the header declares it.
    pub height: u32,
}

fn reader(bytes: &[u8], format: ImageFormat, limits: Limits) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

/// Reads the dimensions of the `format` image in `bytes` and checks them, in this order:
/// pixel count, side length, not empty.
pub fn read_header<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<ImageHeader<'a>, ImageDecodeError> {
    let mut header_limits = Limits::default();
    header_limits.max_image_width = None;
    header_limits.max_image_height = None;
    header_limits.max_alloc = Some(limits.max_alloc);
    let (width, height) = reader(bytes, format, header_limits)
        .into_dimensions()
        .map_err(ImageDecodeError::Decoder)?;

    let pixels = u64::from(width).saturating_mul(u64::from(height));
    if pixels > limits.max_pixels {
        return Err(ImageDecodeError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    if let Some(limit) = limits.max_side
        && (width > limit || height > limit)
    {
        return Err(ImageDecodeError::SideTooLong {
            width,
            height,
            limit,
        });
    }
    if pixels == 0 {
        return Err(ImageDecodeError::Empty { width, height });
    }
    Ok(ImageHeader {
        bytes,
        format,
        limits: *limits,
        width,
        height,
    })
}

impl ImageHeader<'_> {
    /// Decodes the image under the allocation budget; refuses a decoder that disagrees with
    /// its own header.
    pub fn decode(self) -> Result<DynamicImage, ImageDecodeError> {
        let (width, height) = (self.width, self.height);
        let pixels = u64::from(width).saturating_mul(u64::from(height));
        let (max_width, max_height) = self.limits.max_side.map_or((width, height), |s| (s, s));
        let mut limits = Limits::default();
        limits.max_image_width = Some(max_width);
        limits.max_image_height = Some(max_height);
        limits.max_alloc = Some(
            pixels
                .saturating_mul(self.limits.alloc_per_pixel)
                .max(self.limits.max_alloc),
        );
        let decoded = reader(self.bytes, self.format, limits)
            .decode()
            .map_err(ImageDecodeError::Decoder)?;
        if decoded.width() != width || decoded.height() != height {
            return Err(ImageDecodeError::SizeMismatch {
                width,
                height,
                decoded_width: decoded.width(),
                decoded_height: decoded.height(),
            });
        }
        Ok(decoded)
    }
}

/// [`read_header`], then [`ImageHeader::decode`].
pub fn decode(
    bytes: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<DynamicImage, ImageDecodeError> {
    read_header(bytes, format, limits)?.decode()
}

#[cfg(test)]
mod tests;
