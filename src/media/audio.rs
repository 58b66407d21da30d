//! Opening a recording with symphonia under limits, and decoding it packet by packet.
//!
//! [`open`] runs the [`audio_guard`](super::audio_guard) checks on the bytes, probes the
//! container and picks its first audio track; [`AudioTrack::stream`] checks the header
//! against [`AudioLimits`] and makes the decoder; [`open_stream`] does both. What the caller
//! does with the decoded buffers (count frames, mask, min/max) is its own business, and so is
//! enforcing the duration limit on the decoded length, since headers can lie.

use std::io::{Cursor, ErrorKind};

use symphonia::core::audio::AudioBufferRef;
use symphonia::core::codecs::{CODEC_TYPE_NULL, CodecParameters, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{DEFAULT_MAX_AUDIO_SECS, MAX_CHANNELS, MAX_SAMPLE_RATE, audio_guard};

/// Limits for one recording. The sample rate and channel count are bounded by the fixed
/// [`MAX_SAMPLE_RATE`] and [`MAX_CHANNELS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AudioLimits {
    /// Longest recording accepted, in seconds.
    pub max_secs: f64,
}

impl Default for AudioLimits {
    fn default() -> Self {
        AudioLimits {
            max_secs: DEFAULT_MAX_AUDIO_SECS,
        }
    }
}

/// Why a recording could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AudioOpenError {
    /// A field the demuxer would panic on, overflow on or allocate blindly from, named with
    /// its byte offset (see [`audio_guard`](super::audio_guard)).
    #[error("{0}")]
    Hazard(String),
    /// The container could not be probed, holds no audio track, or its codec has no decoder.
    #[error("{0}")]
    Open(String),
    /// The sample rate is 0 or over [`MAX_SAMPLE_RATE`].
    #[error(
        "the stream declares a sample rate of {rate} Hz (1 to {MAX_SAMPLE_RATE} Hz are supported)"
    )]
    SampleRate {
        /// The declared rate.
        rate: u32,
    },
    /// The channel count is 0 or over [`MAX_CHANNELS`].
    #[error("the stream declares {channels} channels (1 to {MAX_CHANNELS} are supported)")]
    Channels {
        /// The declared count.
        channels: u16,
    },
    /// The header's length is over [`AudioLimits::max_secs`].
    #[error("the recording is {secs:.1} s long, over the limit of {limit:.0} s")]
    TooLong {
        /// The length found.
        secs: f64,
        /// The limit in seconds.
        limit: f64,
    },
}

/// A packet of the track that could not be read or decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PacketError {
    /// 0-based index of the packet among the track's packets decoded so far.
    pub packet: u64,
    /// symphonia's message.
    pub message: String,
    /// True when the decoder refused this one packet's data (the stream may go on, as
    /// players skip such a packet); false when the stream itself failed.
    pub packet_only: bool,
}

/// Refuses a sample rate or channel count outside the fixed bounds.
pub fn check_shape(sample_rate: u32, channels: u16) -> Result<(), AudioOpenError> {
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(AudioOpenError::SampleRate { rate: sample_rate });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(AudioOpenError::Channels { channels });
    }
    Ok(())
}

/// Seconds of `frames` at `sample_rate` (0 at 0 Hz).
#[allow(clippy::cast_precision_loss)]
pub fn seconds(frames: u64, sample_rate: u32) -> f64 {
    if sample_rate == 0 {
        return 0.0;
    }
    frames as f64 / f64::from(sample_rate)
}

fn is_eof(err: &SymphoniaError) -> bool {
    matches!(err, SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof)
}

/// A probed container and its first audio track, before any decoding.
pub struct AudioTrack {
    reader: Box<dyn FormatReader>,
    track_id: u32,
    params: CodecParameters,
}

impl AudioTrack {
    /// The track's parameters as the header states them (claims, not facts).
    pub fn params(&self) -> &CodecParameters {
        &self.params
    }

    /// The header's sample rate, if it states one.
    pub fn sample_rate(&self) -> Option<u32> {
        self.params.sample_rate
    }

    /// The header's channel count, if it states one.
    pub fn channels(&self) -> Option<u16> {
        let count = self.params.channels?.count();
        Some(u16::try_from(count).unwrap_or(u16::MAX))
    }

    /// The header's length in frames, if it states one.
    pub fn n_frames(&self) -> Option<u64> {
        self.params.n_frames
    }

    /// Refuses a header whose shape is out of bounds (when it states both rate and channels)
    /// or whose length is over the limit (when it states rate and length), then makes the
    /// decoder.
    pub fn stream(self, limits: &AudioLimits) -> Result<AudioStream, AudioOpenError> {
        if let (Some(rate), Some(channels)) = (self.sample_rate(), self.channels()) {
            check_shape(rate, channels)?;
        }
        if let (Some(rate), Some(frames)) = (self.sample_rate(), self.n_frames()) {
            let secs = seconds(frames, rate);
            if secs > limits.max_secs {
                return Err(AudioOpenError::TooLong {
                    secs,
                    limit: limits.max_secs,
                });
            }
        }
        let decoder = symphonia::default::get_codecs()
            .make(&self.params, &DecoderOptions::default())
            .map_err(|e| AudioOpenError::Open(e.to_string()))?;
        Ok(AudioStream {
            track: self,
            decoder,
            decoded: 0,
        })
    }
}

/// Runs the hazard checks on `bytes`, probes them as `format` ("wav", "flac", "ogg", "mp3")
/// and picks the first audio track. Gapless: the MP3 encoder delay and padding are trimmed,
/// so frame numbers mean the same as in a player. `bytes` is shared with symphonia, which
/// wants an owned `'static` source, so no copy is made.
pub fn open<B>(bytes: B, format: &str) -> Result<AudioTrack, AudioOpenError>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    if let Some(problem) = audio_guard::demuxer_hazard(format, bytes.as_ref()) {
        return Err(AudioOpenError::Hazard(problem));
    }
    let stream = MediaSourceStream::new(
        Box::new(Cursor::new(bytes)),
        MediaSourceStreamOptions::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension(format);
    let options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &options, &MetadataOptions::default())
        .map_err(|e| AudioOpenError::Open(e.to_string()))?;
    let reader = probed.format;
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioOpenError::Open("no audio track".to_owned()))?;
    let (track_id, params) = (track.id, track.codec_params.clone());
    Ok(AudioTrack {
        reader,
        track_id,
        params,
    })
}

/// [`open`], then [`AudioTrack::stream`]: a recording ready to decode, its header within
/// `limits`.
pub fn open_stream<B>(
    bytes: B,
    format: &str,
    limits: &AudioLimits,
) -> Result<AudioStream, AudioOpenError>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    open(bytes, format)?.stream(limits)
}

/// A recording being decoded: the packets of its track, one at a time.
pub struct AudioStream {
    track: AudioTrack,
    decoder: Box<dyn Decoder>,
    /// Packets of the track decoded so far.
    decoded: u64,
}

impl AudioStream {
    /// The track as its header describes it.
    pub fn track(&self) -> &AudioTrack {
        &self.track
    }

    /// How many packets of the track have decoded so far: the index the next one gets.
    pub fn packets_decoded(&self) -> u64 {
        self.decoded
    }

    /// The next decoded packet of the track; `None` at the end of the stream. Packets of
    /// other tracks are skipped. After a [`PacketError`] with `packet_only` set, the next
    /// call goes on with the following packet.
    pub fn next_buffer(&mut self) -> Result<Option<AudioBufferRef<'_>>, PacketError> {
        loop {
            let failed = |e: SymphoniaError, packet| PacketError {
                packet,
                packet_only: matches!(e, SymphoniaError::DecodeError(_)),
                message: e.to_string(),
            };
            let packet = match self.track.reader.next_packet() {
                Ok(packet) => packet,
                Err(e) if is_eof(&e) => return Ok(None),
                Err(e) => {
                    return Err(PacketError {
                        packet_only: false,
                        ..failed(e, self.decoded)
                    });
                }
            };
            if packet.track_id() != self.track.track_id {
                continue;
            }
            return match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    self.decoded = self.decoded.saturating_add(1);
                    Ok(Some(buffer))
                }
                Err(e) if is_eof(&e) => Ok(None),
                Err(e) => Err(failed(e, self.decoded)),
            };
        }
    }
}

#[cfg(test)]
mod tests;
