//! Masked, cut and untagged derivatives of recordings: what an annotator
//! receives instead of the original when spoken names, numbers or addresses
//! must not leave the site.
//!
//! [`derive_audio`] either decodes the recording packet by packet, silences
//! or bleeps time ranges, keeps a time window and appends what is kept to a
//! plain 16-bit WAV, or, when nothing is masked, returns the same recording
//! with its tags removed ([`strip_tags`]). Tags carry names, phone numbers
//! and free-text comments as often as the audio does. The whole-recording
//! functions ([`decode_pcm`], [`apply_ranges`], [`cut_window`],
//! [`encode_wav`]) share the per-packet code, so both give the same bytes.
//!
//! Times are seconds of the original recording; a range covers frames
//! `floor(start * rate) .. ceil(end * rate)`, so a masked word is never
//! shortened by rounding. Decoding and tag parsing never panic on bad input;
//! errors say what failed and at which byte or packet.

mod tags;
use tags::*;
pub use tags::{DEFAULT_MAX_SECS, strip_tags};

use std::f64::consts::TAU;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::conv::IntoSample;
use symphonia::core::sample::Sample;

use crate::media::audio::{self as media_audio, AudioLimits, AudioOpenError, AudioTrack, seconds};
pub use crate::media::{MAX_CHANNELS, MAX_SAMPLE_RATE};

pub use super::image_mask::MaskError;

/// What happens to the audio inside a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AudioStyle {
    /// Digital silence.
    #[default]
    Mute,
    /// A 1 kHz sine at -20 dBFS: the listener hears that something was
    /// removed, and how long it was.
    Tone,
}

/// A time range of the original recording to mask.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioRange {
    pub start_secs: f64,
    pub end_secs: f64,
    #[serde(default)]
    pub style: AudioStyle,
}

/// Decoded audio: 16-bit samples, channels interleaved.
#[derive(Clone, PartialEq, Eq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved: frame `f`, channel `c` is at `f * channels + c`.
    pub samples: Vec<i16>,
}

impl std::fmt::Debug for Pcm {
    // Millions of samples are no use in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcm")
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("frames", &self.frames())
            .finish_non_exhaustive()
    }
}

impl Pcm {
    /// Number of frames (samples per channel).
    pub fn frames(&self) -> u64 {
        match self.channels {
            0 => 0,
            c => (self.samples.len() / usize::from(c)) as u64,
        }
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        seconds(self.frames(), self.sample_rate)
    }
}

/// Peak level of the masking tone: -20 dBFS of a 16-bit full scale.
pub const TONE_AMPLITUDE: f64 = 3277.0;
/// Frequency of the masking tone.
pub const TONE_HZ: u64 = 1000;

/// Tone sample `offset` frames after the start of a range.
fn tone_sample(offset: u64, sample_rate: u32) -> i16 {
    let rate = u64::from(sample_rate.max(1));
    // The phase in whole cycles is dropped in integers, so the tone stays
    // exact however far into a long recording the range starts.
    let step = (offset % rate) * TONE_HZ % rate;
    let phase = TAU * step as f64 / rate as f64;
    (TONE_AMPLITUDE * phase.sin()).round() as i16
}

fn audio_format(format: &str) -> Option<&'static str> {
    Some(match format {
        "wav" => "wav",
        "flac" => "flac",
        "ogg" => "ogg",
        "mp3" => "mp3",
        _ => return None,
    })
}

fn unsupported(format: &str) -> MaskError {
    MaskError::UnsupportedFormat {
        format: format.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Decoding

/// Symphonia wants an owned `'static` source: the decrypted recording is
/// shared with it by reference, and wiped when the last reader drops it.
type Shared = crate::crypto::SharedPlaintext;

/// The masking message for each reason `media` gives for not opening a
/// recording.
fn open_error(format: &'static str, err: AudioOpenError) -> MaskError {
    match err {
        AudioOpenError::Hazard(message) => MaskError::Malformed { format, message },
        AudioOpenError::Open(message) => MaskError::AudioOpen { format, message },
        AudioOpenError::SampleRate { rate } => MaskError::AudioUnsupported {
            what: "sample rate",
            message: format!("{rate} Hz (1 Hz to {MAX_SAMPLE_RATE} Hz are decoded)"),
        },
        AudioOpenError::Channels { channels } => MaskError::AudioUnsupported {
            what: "channel count",
            message: format!("{channels} channels (1 to {MAX_CHANNELS} are decoded)"),
        },
        AudioOpenError::TooLong { secs, limit } => MaskError::AudioTooLong { secs, limit },
    }
}

/// Opens the container and picks its first audio track, after the checks
/// for fields symphonia panics on, overflows on or allocates blindly from
/// (`media::audio_guard`).
fn open(bytes: Shared, format: &'static str) -> Result<AudioTrack, MaskError> {
    media_audio::open(bytes, format).map_err(|e| open_error(format, e))
}

/// Appends `buf` interleaved as i16. Floats are rounded (symphonia's own
/// conversion truncates); integer formats shift, so 16-bit sources come out
/// exactly as stored.
fn push_interleaved<S>(buf: &AudioBuffer<S>, out: &mut Vec<i16>, convert: fn(S) -> i16)
where
    S: Sample,
{
    let planes = buf.planes();
    let planes = planes.planes();
    for frame in 0..buf.frames() {
        for plane in planes {
            if let Some(s) = plane.get(frame) {
                out.push(convert(*s));
            }
        }
    }
}

fn float_to_i16(v: f64) -> i16 {
    // `as` saturates and maps NaN to 0.
    (v * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

fn interleave(buffer: AudioBufferRef<'_>, out: &mut Vec<i16>) {
    match buffer {
        AudioBufferRef::U8(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::U16(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::U24(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::U32(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::S8(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::S16(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::S24(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::S32(b) => push_interleaved(&b, out, IntoSample::into_sample),
        AudioBufferRef::F32(b) => push_interleaved(&b, out, |s| float_to_i16(f64::from(s))),
        AudioBufferRef::F64(b) => push_interleaved(&b, out, float_to_i16),
    }
}

fn check_shape(format: &'static str, sample_rate: u32, channels: u16) -> Result<(), MaskError> {
    media_audio::check_shape(sample_rate, channels).map_err(|e| open_error(format, e))
}

/// One decoded packet, as [`decode_each`] hands it to its sink.
struct Packet<'a> {
    sample_rate: u32,
    channels: u16,
    /// Frame number, in the whole recording, of the packet's first frame.
    first_frame: u64,
    /// The recording's length in frames as its header states it, if it does
    /// (a claim: the decoded length is what counts).
    header_frames: Option<u64>,
    /// Interleaved; the sink may change them in place (masking), since the
    /// buffer is reused for the next packet anyway.
    samples: &'a mut [i16],
}

/// Decodes every packet of the first audio track, handing each packet's
/// interleaved samples to `sink` (which may stop the decoding with an
/// error); refuses recordings longer than `max_secs` (from the header when
/// it says, else as soon as the decoded length does). Only one packet's
/// samples are held at a time. Returns (sample rate, channels, frames).
fn decode_each(
    bytes: Shared,
    format: &'static str,
    max_secs: f64,
    sink: impl FnMut(Packet<'_>) -> Result<(), MaskError>,
) -> Result<(u32, u16, u64), MaskError> {
    contained(format, || {
        decode_each_unguarded(bytes, format, max_secs, sink)
    })
}

/// symphonia panics on some corrupt streams, and in builds with overflow checks (debug,
/// tests, fuzzing) its decoders overflow on corrupt frames (e.g. FLAC's LPC predictor). The
/// importer contains such a panic; masking does the same, so that one recording is refused
/// and nothing else is affected. `media::audio_guard` refuses the known causes earlier, with
/// a better message.
fn contained<T>(
    format: &'static str,
    run: impl FnOnce() -> Result<T, MaskError>,
) -> Result<T, MaskError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or(Err(MaskError::DecoderPanic { format }))
}

fn decode_each_unguarded(
    bytes: Shared,
    format: &'static str,
    max_secs: f64,
    mut sink: impl FnMut(Packet<'_>) -> Result<(), MaskError>,
) -> Result<(u32, u16, u64), MaskError> {
    // The header's shape and length are checked before the decoder is made.
    let limits = AudioLimits { max_secs };
    let mut stream = open(bytes, format)?
        .stream(&limits)
        .map_err(|e| open_error(format, e))?;
    let header_frames = stream.track().n_frames();
    let mut shape: Option<(u32, u16)> = stream.track().sample_rate().zip(stream.track().channels());

    let mut frames: u64 = 0;
    let mut chunk: Vec<i16> = Vec::new();
    loop {
        // The index the next packet of the track gets when it decodes.
        let packet_index = stream.packets_decoded();
        let at_secs = shape.map_or(0.0, |(rate, _)| seconds(frames, rate));
        let decode_error = |packet: u64, message: String| MaskError::AudioDecode {
            format,
            packet,
            at_secs,
            message,
        };
        let buffer = match stream.next_buffer() {
            Ok(Some(buffer)) => buffer,
            Ok(None) => break,
            Err(e) => return Err(decode_error(e.packet, e.message)),
        };
        let spec = *buffer.spec();
        let got = (
            spec.rate,
            u16::try_from(spec.channels.count()).unwrap_or(u16::MAX),
        );
        match shape {
            None => {
                check_shape(format, got.0, got.1)?;
                shape = Some(got);
            }
            // Interleaved samples only mean something at one rate and layout.
            Some(expected) if expected != got => {
                return Err(decode_error(
                    packet_index,
                    format!(
                        "the stream changes from {} Hz, {} channels to {} Hz, {} channels",
                        expected.0, expected.1, got.0, got.1
                    ),
                ));
            }
            Some(_) => {}
        }
        chunk.clear();
        interleave(buffer, &mut chunk);
        let first_frame = frames;
        frames = frames.saturating_add((chunk.len() / usize::from(got.1.max(1))) as u64);
        let secs = seconds(frames, got.0);
        if secs > max_secs {
            return Err(MaskError::AudioTooLong {
                secs,
                limit: max_secs,
            });
        }
        sink(Packet {
            sample_rate: got.0,
            channels: got.1,
            first_frame,
            header_frames,
            samples: &mut chunk,
        })?;
    }
    match shape {
        Some((rate, channels)) if frames > 0 => Ok((rate, channels, frames)),
        _ => Err(MaskError::AudioEmpty),
    }
}

/// A recording's sample rate from its container header, without decoding
/// it (snapping a window to whole samples needs only this); decodes when
/// the header does not say.
pub fn sample_rate(bytes: &[u8], format: &str, max_secs: f64) -> Result<u32, MaskError> {
    let name = audio_format(format).ok_or_else(|| unsupported(format))?;
    let shared = Shared::new(bytes.to_vec());
    let header_rate = contained(name, || open(shared.clone(), name).map(|t| t.sample_rate()))?;
    match header_rate {
        Some(rate) if rate > 0 => Ok(rate),
        _ => decode_each(shared, name, max_secs, |_| Ok(())).map(|(rate, _, _)| rate),
    }
}

/// Decodes a whole recording ("wav", "flac", "ogg" or "mp3") to 16-bit
/// interleaved samples, refusing one longer than `max_secs`.
pub fn decode_pcm(bytes: &[u8], format: &str, max_secs: f64) -> Result<Pcm, MaskError> {
    let name = audio_format(format).ok_or_else(|| unsupported(format))?;
    let mut samples = Vec::new();
    let (sample_rate, channels, _) =
        decode_each(Shared::new(bytes.to_vec()), name, max_secs, |packet| {
            samples.extend_from_slice(packet.samples);
            Ok(())
        })?;
    Ok(Pcm {
        sample_rate,
        channels,
        samples,
    })
}

// ---------------------------------------------------------------------------
// Masking and cutting
//
// One implementation serves the whole recording ([`apply_ranges`],
// [`cut_window`]) and the packet-by-packet path of [`derive_audio`]: every
// function below works on a chunk of interleaved samples that starts at a
// given frame of the recording (frame 0 for a whole recording).

/// Frame index of `secs`, rounded with `round` (floor or ceil). Not clamped
/// to the recording: callers intersect with the frames a chunk holds.
fn frame_at(secs: f64, sample_rate: u32, round: fn(f64) -> f64) -> u64 {
    // `as` maps NaN to 0 and saturates, so no input can wrap.
    round(secs * f64::from(sample_rate)).max(0.0) as u64
}

/// Frames `floor(start * rate) .. ceil(end * rate)` of the recording: the
/// rule for ranges and windows alike, so rounding never shortens a masked
/// word or a kept window. Empty (or inverted) when `end <= start`.
fn frame_span(start_secs: f64, end_secs: f64, sample_rate: u32) -> Range<u64> {
    frame_at(start_secs, sample_rate, f64::floor)..frame_at(end_secs, sample_rate, f64::ceil)
}

/// The frames of `span` among `from .. to`; empty if they do not meet.
fn clip(span: &Range<u64>, from: u64, to: u64) -> Range<u64> {
    // min/max rather than clamp: clamp panics on an inverted span.
    let start = span.start.max(from).min(to);
    start..span.end.min(to).max(start)
}

/// Indices into `samples` (interleaved, `channels` wide, holding frames
/// `first_frame ..` of the recording) of the whole frames inside `span`.
/// A trailing partial frame is never included.
fn samples_in(
    span: &Range<u64>,
    first_frame: u64,
    samples: &[i16],
    channels: usize,
) -> Range<usize> {
    let Some(frames) = samples.len().checked_div(channels) else {
        return 0..0;
    };
    let hit = clip(span, first_frame, first_frame.saturating_add(frames as u64));
    // Both ends lie within the chunk, whose frame count is a usize.
    let index = |frame: u64| usize::try_from(frame - first_frame).map_or(0, |f| f * channels);
    index(hit.start)..index(hit.end)
}

/// Masks `ranges` in `samples`, which hold frames `first_frame ..` of the
/// recording. Mute = 0; Tone = 1 kHz sine at -20 dBFS whose phase counts
/// from the range start, not the chunk start. Each range writes values that
/// depend only on the frame number, so masking chunk by chunk gives the same
/// samples as masking the whole recording at once, and later ranges win
/// where ranges overlap either way.
fn mask_chunk(
    samples: &mut [i16],
    sample_rate: u32,
    channels: u16,
    first_frame: u64,
    ranges: &[AudioRange],
) {
    let channels = usize::from(channels);
    if channels == 0 {
        return;
    }
    for range in ranges {
        if validate_range(range).is_err() {
            continue;
        }
        let span = frame_span(range.start_secs, range.end_secs, sample_rate);
        let hit = samples_in(&span, first_frame, samples, channels);
        // The tone phase of the first frame hit: its distance from the range start.
        let offset = first_frame
            .saturating_add((hit.start / channels) as u64)
            .saturating_sub(span.start);
        let Some(frames) = samples.get_mut(hit) else {
            continue;
        };
        match range.style {
            AudioStyle::Mute => frames.fill(0),
            AudioStyle::Tone => {
                for (k, frame) in frames.chunks_exact_mut(channels).enumerate() {
                    frame.fill(tone_sample(offset + k as u64, sample_rate));
                }
            }
        }
    }
}

/// Frames floor(start*sr) .. ceil(end*sr), clamped, all channels. Mute = 0;
/// Tone = 1 kHz sine at -20 dBFS (amplitude 3277), phase starting at 0 at
/// the range start. Ranges apply in order; a range with a non-finite bound
/// or ending before it starts is skipped ([`derive_audio`] refuses it).
pub fn apply_ranges(pcm: &mut Pcm, ranges: &[AudioRange]) {
    mask_chunk(&mut pcm.samples, pcm.sample_rate, pcm.channels, 0, ranges);
}

/// Keep frames floor(start*sr) .. ceil(end*sr). Returns the start frame
/// actually used. Bounds are clamped to the recording; a window that ends
/// before it starts (or is not a number) leaves nothing.
pub fn cut_window(pcm: &mut Pcm, start_secs: f64, end_secs: f64) -> u64 {
    let span = frame_span(start_secs, end_secs, pcm.sample_rate);
    let start = span.start.min(pcm.frames());
    let keep = samples_in(&span, 0, &pcm.samples, usize::from(pcm.channels));
    pcm.samples.truncate(keep.end);
    pcm.samples.drain(..keep.start);
    start
}

fn validate_range(range: &AudioRange) -> Result<(), String> {
    let (s, e) = (range.start_secs, range.end_secs);
    if !s.is_finite() || !e.is_finite() {
        return Err(format!("{s} s .. {e} s is not a pair of finite times"));
    }
    if e < s {
        return Err(format!("it ends ({e} s) before it starts ({s} s)"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// WAV output

const WAV_HEADER_LEN: usize = 44;

/// RIFF header of a 16-bit PCM WAV with `data_len` bytes of samples: fmt +
/// data chunks, nothing else. The RIFF size saturates like `data_len`.
fn wav_header(sample_rate: u32, channels: u16, data_len: u32) -> Vec<u8> {
    let block_align = channels.saturating_mul(2);
    let byte_rate = sample_rate.saturating_mul(u32::from(block_align));
    let mut out = Vec::with_capacity(WAV_HEADER_LEN);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // integer PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out
}

/// Refuses `data_bytes` of samples that WAV's 32-bit sizes cannot describe
/// (the RIFF size counts the data plus the 36 header bytes after it).
fn check_wav_size(data_bytes: u64) -> Result<(), MaskError> {
    if data_bytes.saturating_add(36) > u64::from(u32::MAX) {
        return Err(MaskError::WavTooLarge { bytes: data_bytes });
    }
    Ok(())
}

/// Bytes of samples for `frames` frames of `channels` 16-bit channels.
fn wav_data_bytes(frames: u64, channels: u16) -> u64 {
    frames.saturating_mul(u64::from(channels)).saturating_mul(2)
}

/// A 16-bit WAV built in memory as samples arrive: the header goes first
/// with no sizes, [`WavWriter::finish`] writes them.
struct WavWriter {
    sample_rate: u32,
    channels: u16,
    out: Vec<u8>,
}

impl WavWriter {
    fn new(sample_rate: u32, channels: u16, data_capacity: u64) -> Self {
        let mut out = Vec::new();
        // Only a hint: a header's frame count is a claim, so a reservation
        // that cannot be had is skipped (the Vec grows as samples come)
        // rather than aborting the process.
        let _ = out.try_reserve_exact(
            usize::try_from(data_capacity)
                .unwrap_or(usize::MAX)
                .saturating_add(WAV_HEADER_LEN),
        );
        out.extend_from_slice(&wav_header(sample_rate, channels, 0));
        WavWriter {
            sample_rate,
            channels,
            out,
        }
    }

    /// Bytes of samples written so far.
    fn data_len(&self) -> u64 {
        (self.out.len() - WAV_HEADER_LEN) as u64
    }

    fn push(&mut self, samples: &[i16]) {
        for s in samples {
            self.out.extend_from_slice(&s.to_le_bytes());
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let data_len = u32::try_from(self.data_len()).unwrap_or(u32::MAX);
        // Same length as the placeholder written by `new`: patched in place.
        let header = wav_header(self.sample_rate, self.channels, data_len);
        self.out[..WAV_HEADER_LEN].copy_from_slice(&header);
        self.out
    }
}

/// 16-bit PCM RIFF, nothing but fmt + data chunks. A recording too large
/// for WAV's 32-bit sizes gets saturated size fields; [`derive_audio`]
/// refuses those before encoding.
pub fn encode_wav(pcm: &Pcm) -> Vec<u8> {
    let mut wav = WavWriter::new(
        pcm.sample_rate,
        pcm.channels,
        wav_data_bytes(pcm.samples.len() as u64, 1),
    );
    wav.push(&pcm.samples);
    wav.finish()
}

/// What [`stream_wav`] made.
struct Streamed {
    wav: Vec<u8>,
    sample_rate: u32,
    /// Frames in `wav`.
    frames: u64,
    /// Frames in the whole recording.
    recording_frames: u64,
}

/// Fails up front when the header's frame count says the output cannot be a
/// WAV; returns the expected data bytes to reserve (None without a count).
fn expected_wav_bytes(
    header_frames: Option<u64>,
    window: Option<&Range<u64>>,
    channels: u16,
) -> Result<Option<u64>, MaskError> {
    let Some(total) = header_frames else {
        return Ok(None);
    };
    let frames = match window {
        Some(span) => {
            let kept = clip(span, 0, total);
            kept.end - kept.start
        }
        None => total,
    };
    let bytes = wav_data_bytes(frames, channels);
    check_wav_size(bytes)?;
    Ok(Some(bytes))
}

/// Decodes `bytes` packet by packet and appends the frames inside `window`
/// (all frames without one), with `ranges` masked, to a 16-bit WAV. The
/// recording is never held decoded: besides the decoder's copy of the input,
/// the peak is the output plus one packet.
fn stream_wav(
    bytes: &[u8],
    format: &'static str,
    ranges: &[AudioRange],
    window: Option<(f64, f64)>,
    max_secs: f64,
) -> Result<Streamed, MaskError> {
    let mut wav: Option<WavWriter> = None;
    let (sample_rate, _, recording_frames) =
        decode_each(Shared::new(bytes.to_vec()), format, max_secs, |packet| {
            let keep = window.map(|(s, e)| frame_span(s, e, packet.sample_rate));
            let writer = match &mut wav {
                Some(writer) => writer,
                None => {
                    let expected =
                        expected_wav_bytes(packet.header_frames, keep.as_ref(), packet.channels)?;
                    wav.insert(WavWriter::new(
                        packet.sample_rate,
                        packet.channels,
                        expected.unwrap_or(0),
                    ))
                }
            };
            let channels = usize::from(packet.channels).max(1);
            let kept = match &keep {
                Some(span) => samples_in(span, packet.first_frame, packet.samples, channels),
                None => 0..packet.samples.len(),
            };
            let kept_first = packet
                .first_frame
                .saturating_add((kept.start / channels) as u64);
            let Some(kept) = packet.samples.get_mut(kept) else {
                return Ok(());
            };
            // Without a frame count in the header, refuse as soon as the
            // running size no longer fits, not after decoding it all.
            check_wav_size(
                writer
                    .data_len()
                    .saturating_add(wav_data_bytes(kept.len() as u64, 1)),
            )?;
            mask_chunk(
                kept,
                packet.sample_rate,
                packet.channels,
                kept_first,
                ranges,
            );
            writer.push(kept);
            Ok(())
        })?;
    // `decode_each` only succeeds after a packet with frames, which made the writer.
    let wav = wav.ok_or(MaskError::AudioEmpty)?;
    let frames = wav.data_len() / wav_data_bytes(1, wav.channels).max(1);
    Ok(Streamed {
        wav: wav.finish(),
        sample_rate,
        frames,
        recording_frames,
    })
}

// ---------------------------------------------------------------------------
// Derivatives

/// Opens a stripped file (which proves its container still parses) and
/// returns it with its duration: from the header where that is exact (WAV
/// data size, FLAC STREAMINFO), else by decoding every packet (MP3, whose
/// header length is often an estimate).
fn measure(
    bytes: Vec<u8>,
    format: &'static str,
    max_secs: f64,
) -> Result<(Vec<u8>, f64), MaskError> {
    let shared = Shared::new(bytes);
    // The track (and with it the reader's clone of the bytes) is dropped here.
    let header = contained(format, || {
        open(shared.clone(), format).map(|t| (t.sample_rate(), t.n_frames()))
    })?;
    let from_header = match (format, header.0, header.1) {
        ("wav" | "flac", Some(rate), Some(frames)) if rate > 0 && frames > 0 => {
            let secs = seconds(frames, rate);
            if secs > max_secs {
                return Err(MaskError::AudioTooLong {
                    secs,
                    limit: max_secs,
                });
            }
            Some(secs)
        }
        _ => None,
    };
    let duration = match from_header {
        Some(secs) => secs,
        None => {
            let (rate, _, frames) = decode_each(shared.clone(), format, max_secs, |_| Ok(()))?;
            seconds(frames, rate)
        }
    };
    // Every clone handed to symphonia is dropped by now; the copy is only a fallback.
    // Moved out, not copied (the emptied buffer has nothing left to wipe).
    let bytes = shared
        .try_unwrap()
        .map(|mut plain| std::mem::take(&mut *plain))
        .unwrap_or_else(|still_shared| still_shared.as_ref().to_vec());
    Ok((bytes, duration))
}

/// What a work package carries: if there are ranges or a window, decode →
/// apply ranges (in ORIGINAL seconds) → cut window → WAV; else strip_tags.
/// Returns (bytes, format, duration_secs).
///
/// The masked path runs packet by packet ([`stream_wav`]): memory is the
/// output WAV plus one packet (and the decoder's copy of the input), never
/// the decoded recording, so a 10 s window of a 4 h recording costs 10 s.
///
/// The duration of a stripped file is measured on the output: from the WAV
/// data size or FLAC STREAMINFO when they give it, else by decoding (MP3),
/// which also proves the derivative plays.
pub fn derive_audio(
    bytes: &[u8],
    format: &str,
    ranges: &[AudioRange],
    window: Option<(f64, f64)>,
    max_secs: f64,
) -> Result<(Vec<u8>, &'static str, f64), MaskError> {
    let name = audio_format(format).ok_or_else(|| unsupported(format))?;
    // Checked here on the original bytes as well as in `open`, so that the offset in the
    // message is the file's own (stripping tags first would shift it).
    if let Some(message) = crate::media::audio_guard::demuxer_hazard(name, bytes) {
        return Err(MaskError::Malformed {
            format: name,
            message,
        });
    }
    for (index, range) in ranges.iter().enumerate() {
        validate_range(range).map_err(|reason| MaskError::InvalidRange { index, reason })?;
    }
    if let Some((start_secs, end_secs)) = window {
        let invalid = |reason: &str| MaskError::InvalidWindow {
            start_secs,
            end_secs,
            reason: reason.to_owned(),
        };
        if !start_secs.is_finite() || !end_secs.is_finite() {
            return Err(invalid("a bound is not a finite number"));
        }
        if end_secs <= start_secs {
            return Err(invalid("it does not end after it starts"));
        }
    }

    if ranges.is_empty() && window.is_none() {
        let (out, out_format, measured) = strip_tags_within(bytes, name, max_secs)?;
        if let Some(duration) = measured {
            return Ok((out, out_format, duration));
        }
        let (out, duration) = measure(out, out_format, max_secs)?;
        return Ok((out, out_format, duration));
    }

    let out = stream_wav(bytes, name, ranges, window, max_secs)?;
    if let Some((start_secs, end_secs)) = window
        && out.frames == 0
    {
        let total = seconds(out.recording_frames, out.sample_rate);
        return Err(MaskError::InvalidWindow {
            start_secs,
            end_secs,
            reason: format!("it holds no audio of the {total:.3} s recording"),
        });
    }
    Ok((out.wav, "wav", seconds(out.frames, out.sample_rate)))
}

#[cfg(test)]
mod tests;
