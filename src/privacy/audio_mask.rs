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

use std::f64::consts::TAU;
use std::io::{Cursor, ErrorKind};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{CODEC_TYPE_NULL, CodecParameters, DecoderOptions};
use symphonia::core::conv::IntoSample;
use symphonia::core::errors::Error as AudioError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::Sample;

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
/// Highest sample rate decoded; a header claiming more is refused, since
/// the time limit would otherwise allow an unbounded number of samples.
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Most channels decoded.
pub const MAX_CHANNELS: u16 = 32;

/// Tone sample `offset` frames after the start of a range.
fn tone_sample(offset: u64, sample_rate: u32) -> i16 {
    let rate = u64::from(sample_rate.max(1));
    // The phase in whole cycles is dropped in integers, so the tone stays
    // exact however far into a long recording the range starts.
    let step = (offset % rate) * TONE_HZ % rate;
    let phase = TAU * step as f64 / rate as f64;
    (TONE_AMPLITUDE * phase.sin()).round() as i16
}

#[allow(clippy::cast_precision_loss)]
fn seconds(frames: u64, sample_rate: u32) -> f64 {
    if sample_rate == 0 {
        return 0.0;
    }
    frames as f64 / f64::from(sample_rate)
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

fn is_eof(err: &AudioError) -> bool {
    matches!(err, AudioError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof)
}

/// Opens the container and picks its first audio track.
fn open(
    bytes: Shared,
    format: &'static str,
) -> Result<(Box<dyn FormatReader>, u32, CodecParameters), MaskError> {
    let open_error = |message: String| MaskError::AudioOpen { format, message };
    // Fields symphonia panics on, overflows on or allocates blindly from (see
    // `import::audio_guard`); nothing here would contain a panic or an allocation failure.
    if let Some(message) = crate::import::demuxer_hazard(format, bytes.as_ref()) {
        return Err(MaskError::Malformed { format, message });
    }
    let stream = MediaSourceStream::new(
        Box::new(Cursor::new(bytes)),
        MediaSourceStreamOptions::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension(format);
    // Gapless: the MP3 encoder delay and padding are trimmed, so frame
    // numbers mean the same as in the player the times were taken from.
    let options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &options, &MetadataOptions::default())
        .map_err(|e| open_error(e.to_string()))?;
    let reader = probed.format;
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| open_error("no audio track".to_owned()))?;
    let (id, params) = (track.id, track.codec_params.clone());
    Ok((reader, id, params))
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

fn check_shape(sample_rate: u32, channels: u16) -> Result<(), MaskError> {
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(MaskError::AudioUnsupported {
            what: "sample rate",
            message: format!("{sample_rate} Hz (1 Hz to {MAX_SAMPLE_RATE} Hz are decoded)"),
        });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(MaskError::AudioUnsupported {
            what: "channel count",
            message: format!("{channels} channels (1 to {MAX_CHANNELS} are decoded)"),
        });
    }
    Ok(())
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
/// and nothing else is affected. `import::audio_guard` refuses the known causes earlier, with
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
    let (mut reader, track_id, params) = open(bytes, format)?;
    let mut shape: Option<(u32, u16)> = match (params.sample_rate, params.channels) {
        (Some(rate), Some(ch)) => {
            let ch = u16::try_from(ch.count()).unwrap_or(u16::MAX);
            check_shape(rate, ch)?;
            Some((rate, ch))
        }
        _ => None,
    };
    let too_long = |frames: u64, rate: u32| {
        let secs = seconds(frames, rate);
        (secs > max_secs).then_some(MaskError::AudioTooLong {
            secs,
            limit: max_secs,
        })
    };
    if let (Some((rate, _)), Some(n)) = (shape, params.n_frames)
        && let Some(e) = too_long(n, rate)
    {
        return Err(e);
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| MaskError::AudioOpen {
            format,
            message: e.to_string(),
        })?;

    let mut frames: u64 = 0;
    let mut packet_index: u64 = 0;
    let mut chunk: Vec<i16> = Vec::new();
    loop {
        let decode_error = |message: String| MaskError::AudioDecode {
            format,
            packet: packet_index,
            at_secs: shape.map_or(0.0, |(rate, _)| seconds(frames, rate)),
            message,
        };
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(e) if is_eof(&e) => break,
            Err(e) => return Err(decode_error(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            Err(e) if is_eof(&e) => break,
            Err(e) => return Err(decode_error(e.to_string())),
        };
        let spec = *buffer.spec();
        let got = (
            spec.rate,
            u16::try_from(spec.channels.count()).unwrap_or(u16::MAX),
        );
        match shape {
            None => {
                check_shape(got.0, got.1)?;
                shape = Some(got);
            }
            // Interleaved samples only mean something at one rate and layout.
            Some(expected) if expected != got => {
                return Err(decode_error(format!(
                    "the stream changes from {} Hz, {} channels to {} Hz, {} channels",
                    expected.0, expected.1, got.0, got.1
                )));
            }
            Some(_) => {}
        }
        chunk.clear();
        interleave(buffer, &mut chunk);
        let first_frame = frames;
        frames = frames.saturating_add((chunk.len() / usize::from(got.1.max(1))) as u64);
        if let Some(e) = too_long(frames, got.0) {
            return Err(e);
        }
        sink(Packet {
            sample_rate: got.0,
            channels: got.1,
            first_frame,
            header_frames: params.n_frames,
            samples: &mut chunk,
        })?;
        packet_index = packet_index.saturating_add(1);
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
    let (_, _, params) = contained(name, || open(shared.clone(), name))?;
    match params.sample_rate {
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
// Tag stripping

/// How long a recording [`strip_tags`] decodes (Ogg only): the import limit.
pub const DEFAULT_MAX_SECS: f64 = 4.0 * 3600.0;

fn malformed(format: &'static str, message: String) -> MaskError {
    MaskError::Malformed { format, message }
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// A 28-bit ID3v2 "syncsafe" integer (7 bits per byte, top bit clear).
fn syncsafe(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    if b.iter().any(|v| v & 0x80 != 0) {
        return None;
    }
    Some(b.iter().fold(0usize, |acc, v| (acc << 7) | usize::from(*v)))
}

/// Bytes of the same recording without tags, by allow-list: WAV keeps only
/// the fmt (cut to its defined fields) and data chunks (audio bytes
/// untouched); FLAC keeps STREAMINFO and SEEKTABLE blocks (fix the
/// last-block flag), frames untouched, no appended tags; MP3 drops an ID3v2
/// tag at the start (syncsafe size, footer flag), an ID3v1 "TAG" 128-byte
/// trailer and APEv2 and appended ID3v2 tags; Ogg Vorbis is decoded and returned as WAV
/// (rewriting Ogg pages is not worth it). Returns (bytes, format name).
///
/// Ogg is decoded under [`DEFAULT_MAX_SECS`]; the other formats are parsed,
/// not decoded, so their audio is not checked here ([`derive_audio`] does).
pub fn strip_tags(bytes: &[u8], format: &str) -> Result<(Vec<u8>, &'static str), MaskError> {
    strip_tags_within(bytes, format, DEFAULT_MAX_SECS).map(|(out, name, _)| (out, name))
}

/// [`strip_tags`] with a time limit for the formats that must be decoded;
/// also returns the duration when decoding already measured it.
fn strip_tags_within(
    bytes: &[u8],
    format: &str,
    max_secs: f64,
) -> Result<(Vec<u8>, &'static str, Option<f64>), MaskError> {
    match audio_format(format) {
        Some("wav") => Ok((strip_wav(bytes)?, "wav", None)),
        Some("flac") => Ok((strip_flac(bytes)?, "flac", None)),
        Some("mp3") => Ok((strip_mp3(bytes)?, "mp3", None)),
        Some("ogg") => {
            let out = stream_wav(bytes, "ogg", &[], None, max_secs)?;
            let duration = seconds(out.frames, out.sample_rate);
            Ok((out.wav, "wav", Some(duration)))
        }
        _ => Err(unsupported(format)),
    }
}

/// Keeps the `fmt ` and `data` chunks of a RIFF WAVE file and drops the
/// rest (`fact`, `LIST`/`INFO`, `id3 `, `bext`, `iXML`, cue points,
/// anything after the RIFF body). The `fmt ` chunk is cut to the fields its
/// format tag defines (16 bytes for PCM and float, 40 for
/// WAVE_FORMAT_EXTENSIBLE, 18 + cbSize otherwise), so that no bytes hidden
/// after them survive. A data chunk that claims more than the file holds
/// (a recording cut short, or a streaming writer's placeholder size) keeps
/// the whole frames that are there, as the importer accepts such files.
fn strip_wav(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "wav";
    if bytes.len() < 12 || bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(malformed(
            F,
            "no RIFF WAVE header in the first 12 bytes".into(),
        ));
    }
    match bytes.get(..4) {
        Some(b"RIFF") => {}
        Some(b"RF64") => {
            return Err(MaskError::AudioUnsupported {
                what: "container",
                message: "RF64 (WAV over 4 GiB) is not supported".into(),
            });
        }
        _ => return Err(malformed(F, "the file does not start with RIFF".into())),
    }
    let riff_len = u32_le(bytes, 4).map_or(0, |v| v as usize);
    // Writers that stream put 0 or 0xFFFFFFFF here; then the file's end is the end.
    let riff_end = match riff_len.checked_add(8) {
        Some(end) if riff_len >= 4 => end.min(bytes.len()),
        _ => bytes.len(),
    };

    let mut fmt: Option<&[u8]> = None;
    // Read only to refuse a duplicate; never written out.
    let mut fact: Option<&[u8]> = None;
    let mut data: Option<&[u8]> = None;
    let mut pos = 12usize;
    while pos.saturating_add(8) <= riff_end {
        let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_le(bytes, pos + 4)) else {
            break;
        };
        let name = String::from_utf8_lossy(id).into_owned();
        let body_start = pos + 8;
        let declared_end = body_start.saturating_add(size as usize);
        let cut_short = declared_end > riff_end;
        if cut_short && id != b"data" {
            return Err(malformed(
                F,
                format!(
                    "chunk '{name}' at byte {pos} declares {size} bytes but only {} remain",
                    riff_end - body_start
                ),
            ));
        }
        let body = bytes
            .get(body_start..declared_end.min(riff_end))
            .unwrap_or(&[]);
        if id == b"data" && fmt.is_none() {
            return Err(malformed(
                F,
                format!("the data chunk at byte {pos} comes before any fmt chunk"),
            ));
        }
        let slot = match id {
            b"fmt " => Some(&mut fmt),
            b"fact" => Some(&mut fact),
            b"data" => Some(&mut data),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(malformed(
                    F,
                    format!("a second '{name}' chunk at byte {pos}"),
                ));
            }
            *slot = Some(body);
        }
        if cut_short {
            break;
        }
        // Chunks are padded to an even length.
        pos = declared_end.saturating_add(size as usize & 1);
    }

    let fmt = fmt.ok_or_else(|| malformed(F, "no fmt chunk".into()))?;
    let data = data.ok_or_else(|| malformed(F, "no data chunk".into()))?;
    let (Some(channels), Some(rate), Some(block_align)) =
        (u16_le(fmt, 2), u32_le(fmt, 4), u16_le(fmt, 12))
    else {
        return Err(malformed(
            F,
            format!(
                "the fmt chunk is {} bytes, at least 16 are needed",
                fmt.len()
            ),
        ));
    };
    if channels == 0 || rate == 0 || block_align == 0 {
        return Err(malformed(
            F,
            format!("the fmt chunk says {channels} channels, {rate} Hz, {block_align}-byte frames"),
        ));
    }
    // Whole frames only: a partial one at a cut is noise.
    let data = data
        .get(..data.len() - data.len() % usize::from(block_align))
        .unwrap_or(&[]);
    let fmt_len = match u16_le(fmt, 0) {
        Some(1 | 3) => 16,
        Some(0xFFFE) => 40,
        _ => u16_le(fmt, 16).map_or(usize::MAX, |extra| 18 + usize::from(extra)),
    };
    let Some(fmt) = fmt.get(..fmt_len) else {
        return Err(malformed(
            F,
            format!(
                "the fmt chunk is {} bytes, shorter than its format tag requires",
                fmt.len()
            ),
        ));
    };

    let chunks: [(&[u8; 4], &[u8]); 2] = [(b"fmt ", fmt), (b"data", data)];
    let body_len: usize = 4 + chunks
        .iter()
        .map(|(_, b)| 8 + b.len() + (b.len() & 1))
        .sum::<usize>();
    let riff_size = u32::try_from(body_len).map_err(|_| MaskError::WavTooLarge {
        bytes: body_len as u64,
    })?;
    let mut out = Vec::with_capacity(body_len + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    for (id, body) in chunks {
        out.extend_from_slice(id);
        // Each body came from a chunk with a 32-bit size, so it fits.
        out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() & 1 == 1 {
            out.push(0);
        }
    }
    Ok(out)
}

/// Length of the ID3v2 tag starting at `pos` (header, body, footer), if one does.
fn id3v2_len(bytes: &[u8], pos: usize, format: &'static str) -> Result<Option<usize>, MaskError> {
    if bytes.get(pos..pos.saturating_add(3)) != Some(b"ID3".as_slice()) {
        return Ok(None);
    }
    let flags = bytes
        .get(pos + 5)
        .copied()
        .ok_or_else(|| malformed(format, format!("the ID3v2 header at byte {pos} is cut off")))?;
    let size = syncsafe(bytes, pos + 6).ok_or_else(|| {
        malformed(
            format,
            format!("the ID3v2 tag at byte {pos} has an invalid size (not syncsafe or cut off)"),
        )
    })?;
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    let len = 10 + size + footer;
    if pos.saturating_add(len) > bytes.len() {
        return Err(malformed(
            format,
            format!("the ID3v2 tag at byte {pos} ({len} bytes) runs past the end of the file"),
        ));
    }
    Ok(Some(len))
}

/// Keeps STREAMINFO and SEEKTABLE, drops VORBIS_COMMENT (tags), PICTURE
/// (cover art, sometimes a photo of a person), CUESHEET, APPLICATION and
/// PADDING, plus an ID3v2 tag some taggers put before "fLaC" and ID3v1 /
/// APEv2 tags appended after the frames. Frames are copied untouched.
fn strip_flac(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "flac";
    let mut pos = 0usize;
    while let Some(len) = id3v2_len(bytes, pos, F)? {
        pos += len;
    }
    if bytes.get(pos..pos + 4) != Some(b"fLaC".as_slice()) {
        return Err(malformed(F, format!("no fLaC signature at byte {pos}")));
    }
    pos += 4;
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut index = 0usize;
    loop {
        let Some(header) = bytes.get(pos..pos.saturating_add(4)) else {
            return Err(malformed(
                F,
                format!(
                    "the FLAC metadata block header at byte {pos} runs past the end of the file"
                ),
            ));
        };
        let (last, kind) = (header[0] & 0x80 != 0, header[0] & 0x7F);
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let end = pos + 4 + len;
        let Some(block) = bytes.get(pos..end) else {
            return Err(malformed(
                F,
                format!("FLAC metadata block at byte {pos} runs past the end of the file"),
            ));
        };
        if kind == 127 {
            return Err(malformed(
                F,
                format!("invalid FLAC metadata block type 127 at byte {pos}"),
            ));
        }
        if index == 0 && (kind != 0 || len != 34) {
            return Err(malformed(
                F,
                format!("the first metadata block (byte {pos}) is not a 34-byte STREAMINFO"),
            ));
        }
        if kind == 0 && index > 0 {
            return Err(malformed(
                F,
                format!("a second STREAMINFO block at byte {pos}"),
            ));
        }
        if kind == 0 || kind == 3 {
            kept.push(block);
        }
        pos = end;
        index += 1;
        if last {
            break;
        }
    }
    // Taggers append ID3v1 and APEv2 tags to FLAC files as to MP3s.
    let end = tail_tags_start(bytes, pos, F)?;
    let frames = bytes.get(pos..end).unwrap_or(&[]);
    // Frames start with the 14-bit sync code 0b11111111_111110.
    if let [a, b, ..] = frames
        && (*a != 0xFF || b & 0xFE != 0xF8)
    {
        return Err(malformed(
            F,
            format!("no FLAC frame starts at byte {pos}, after the metadata"),
        ));
    }
    let mut out =
        Vec::with_capacity(4 + kept.iter().map(|b| b.len()).sum::<usize>() + frames.len());
    out.extend_from_slice(b"fLaC");
    let n = kept.len();
    for (i, block) in kept.into_iter().enumerate() {
        let Some((first, rest)) = block.split_first() else {
            continue;
        };
        let flag = if i + 1 == n { 0x80 } else { 0 };
        out.push((first & 0x7F) | flag);
        out.extend_from_slice(rest);
    }
    out.extend_from_slice(frames);
    Ok(out)
}

/// Keeps only the MPEG audio frames, by allow-list: ID3v2 tags at the start
/// and APEv2, ID3v1 (and its "TAG+" extension) and appended ID3v2 ("3DI"
/// footer) tags at the end are cut by their structure ([`tail_tags_start`]),
/// then the frames in between are walked by their headers and anything that
/// is not a frame (padding, junk, a tag in the middle) is dropped. Frames,
/// including the Xing/LAME frame that carries the gapless delay and padding,
/// are copied untouched; a last frame cut short is kept as it is.
fn strip_mp3(bytes: &[u8]) -> Result<Vec<u8>, MaskError> {
    const F: &str = "mp3";
    let mut pos = 0usize;
    while let Some(len) = id3v2_len(bytes, pos, F)? {
        pos += len;
    }
    let end = tail_tags_start(bytes, pos, F)?;
    let audio = bytes.get(pos..end).unwrap_or(&[]);
    let mut out = Vec::with_capacity(audio.len());
    let mut i = 0usize;
    // Right after a frame the next header is trusted (even for a last frame
    // cut short); after junk, or at the start, a frame only counts when
    // another one follows it or it ends exactly at the end, so that a stray
    // sync pattern inside junk is not taken for audio.
    let mut in_sync = false;
    while i < audio.len() {
        let header = audio.get(i..).and_then(mpeg_frame_len);
        let frame = header.filter(|len| {
            let next = i.saturating_add(*len);
            in_sync || next == audio.len() || audio.get(next..).and_then(mpeg_frame_len).is_some()
        });
        match frame {
            Some(len) => {
                let next = i.saturating_add(len).min(audio.len());
                out.extend_from_slice(audio.get(i..next).unwrap_or(&[]));
                i = next;
                in_sync = true;
            }
            None => {
                i += 1;
                in_sync = false;
            }
        }
    }
    if out.is_empty() {
        return Err(MaskError::AudioEmpty);
    }
    Ok(out)
}

/// The length in bytes of the MPEG audio frame whose header starts `bytes`
/// (ISO/IEC 11172-3 and 13818-3: MPEG 1, 2 and 2.5, layers I to III), or
/// `None` when it is not a valid header (free-format bitrates included:
/// their length is not in the header).
fn mpeg_frame_len(bytes: &[u8]) -> Option<usize> {
    const V1: [[u16; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[u16; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let [b0, b1, b2, b3, ..] = *bytes else {
        return None;
    };
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 || b3 & 0x03 == 0x02 {
        return None;
    }
    let version = (b1 >> 3) & 3; // 0: 2.5, 1: reserved, 2: 2, 3: 1
    let layer = (b1 >> 1) & 3; // 1: III, 2: II, 3: I
    let bitrate_index = usize::from(b2 >> 4);
    let rate_index = usize::from((b2 >> 2) & 3);
    let padding = usize::from((b2 >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let kbps = usize::from(match (version, layer) {
        (3, 3) => V1[0][bitrate_index],
        (3, 2) => V1[1][bitrate_index],
        (3, _) => V1[2][bitrate_index],
        (_, 3) => V2[0][bitrate_index],
        _ => V2[1][bitrate_index],
    });
    let rate = [44_100usize, 48_000, 32_000][rate_index]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let bits_per_sec = kbps * 1000;
    Some(match layer {
        3 => (12 * bits_per_sec / rate + padding) * 4,
        // Layer III of MPEG 2 and 2.5 has half the samples per frame.
        1 if version != 3 => 72 * bits_per_sec / rate + padding,
        _ => 144 * bits_per_sec / rate + padding,
    })
}

/// Where the tags appended after the audio that starts at `pos` begin:
/// APEv2, ID3v1 (and its "TAG+" extension) and appended ID3v2 ("3DI"
/// footer) tags, in any order.
fn tail_tags_start(bytes: &[u8], pos: usize, format: &'static str) -> Result<usize, MaskError> {
    let mut end = bytes.len();
    loop {
        let avail = end - pos;
        let tail = |n: usize| bytes.get(end.saturating_sub(n)..end).filter(|_| avail >= n);
        // The 227-byte "TAG+" block sits just before the 128-byte ID3v1 tag.
        if tail(227 + 128).is_some_and(|t| t.starts_with(b"TAG+"))
            && tail(128).is_some_and(|t| t.starts_with(b"TAG"))
        {
            end -= 227 + 128;
            continue;
        }
        if tail(128).is_some_and(|t| t.starts_with(b"TAG")) {
            end -= 128;
            continue;
        }
        if let Some(footer) = tail(32).filter(|t| t.starts_with(b"APETAGEX")) {
            let at = end - 32;
            let (Some(size), Some(flags)) = (u32_le(footer, 12), u32_le(footer, 20)) else {
                break;
            };
            let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
            let len = (size as usize).saturating_add(header);
            if (size as usize) < 32 || len > avail {
                return Err(malformed(
                    format,
                    format!(
                        "the APEv2 tag ending at byte {end} declares {len} bytes, which do not fit (footer at byte {at})"
                    ),
                ));
            }
            end -= len;
            continue;
        }
        if tail(10).is_some_and(|t| t.starts_with(b"3DI")) {
            let at = end - 10;
            let size = syncsafe(bytes, at + 6).ok_or_else(|| {
                malformed(
                    format,
                    format!("the ID3v2 footer at byte {at} has an invalid size"),
                )
            })?;
            let len = size.saturating_add(20);
            if len > avail {
                return Err(malformed(
                    format,
                    format!(
                        "the appended ID3v2 tag with its footer at byte {at} runs past the start of the audio"
                    ),
                ));
            }
            end -= len;
            continue;
        }
        break;
    }
    Ok(end)
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
    let (_, _, params) = contained(format, || open(shared.clone(), format))?;
    let from_header = match (format, params.sample_rate, params.n_frames) {
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
    if let Some(message) = crate::import::demuxer_hazard(name, bytes) {
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
