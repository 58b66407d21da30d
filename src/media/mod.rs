//! Decoding untrusted media under limits: the one place that opens recordings with symphonia
//! and images with the `image` crate. Import (validation), the waveform (`peaks`) and
//! masking (`privacy`) all decode through here, so a limit or a check against a hostile file
//! is written once and holds for every path that reads media.
//!
//! - [`audio::open_stream`]: the hazard checks of [`audio_guard`] (fields the demuxers would
//!   panic on or allocate blindly from), probing, the first audio track, the sample-rate,
//!   channel and duration limits from the header, then a decoder; [`audio::AudioStream`]
//!   hands out decoded packets. [`audio::open`] is the same without a decoder, for reading
//!   the header alone.
//! - [`image::read_header`] / [`image::decode`]: pixel, side and empty checks from the
//!   header before any pixel is allocated, then a decode under an allocation budget whose
//!   result must match the header.
//!
//! Errors are this module's own ([`AudioOpenError`], [`PacketError`], [`ImageDecodeError`]);
//! each caller maps them to its own error type, whose messages are what users see. This
//! module depends on no other part of the crate.

pub mod audio;
pub mod audio_guard;
pub mod image;

pub use audio::{AudioLimits, AudioOpenError, AudioStream, AudioTrack, PacketError};
pub use image::{ImageDecodeError, ImageHeader, ImageLimits};

const MIB: u64 = 1024 * 1024;

// The default limits. Import applies them (and may be given others); masking and the
// waveform apply them to items that passed import, so a changed limit cannot be bypassed.

/// Largest media file read into memory at all.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 512 * MIB;
/// Largest image by pixel count, checked from the header before decoding.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 64_000_000;
/// Largest image width or height, checked from the header before decoding.
pub const DEFAULT_MAX_IMAGE_SIDE: u32 = 20_000;
/// Most memory an image decoder may allocate (also the `image` crate's own default).
pub const DEFAULT_MAX_DECODE_ALLOC_BYTES: u64 = 512 * MIB;
/// Longest recording accepted, in seconds.
pub const DEFAULT_MAX_AUDIO_SECS: f64 = 4.0 * 3600.0;
/// Highest sample rate decoded: a header claiming 4 GHz would otherwise pass the time limit
/// with an unbounded number of samples (one "sample" lasting 0.2 ns). Fixed, not
/// configurable, so every recording that imports can also be masked.
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Most channels decoded. See [`MAX_SAMPLE_RATE`].
pub const MAX_CHANNELS: u16 = 32;
