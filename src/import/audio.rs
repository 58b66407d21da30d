//! Audio validation: a recording is accepted only after every packet of its main track has
//! decoded, which proves it plays and yields its true duration (headers can lie). Samples are
//! dropped packet by packet, so memory stays flat however long the file is.

use std::io::{Cursor, ErrorKind};
use std::sync::Arc;

use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as AudioError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{Format, ImportError, ImportLimits, MediaInfo};

/// Lets symphonia (which wants an owned `'static` source) read the file without copying it,
/// and lets the caller take the bytes back afterwards.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn is_eof(err: &AudioError) -> bool {
    matches!(err, AudioError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof)
}

#[allow(clippy::cast_precision_loss)]
fn seconds(frames: u64, sample_rate: u32) -> f64 {
    frames as f64 / f64::from(sample_rate)
}

/// Validates audio whose signature already matched `format`; returns the info and the
/// unchanged bytes.
pub(super) fn inspect(
    format: Format,
    bytes: Vec<u8>,
    limits: &ImportLimits,
) -> Result<(MediaInfo, Vec<u8>), ImportError> {
    let shared = Arc::new(bytes);
    let result = decode_all(format, Arc::clone(&shared), limits);
    // Every clone handed to symphonia is dropped by now; the copy is only a fallback.
    let bytes = Arc::try_unwrap(shared).unwrap_or_else(|arc| arc.as_ref().clone());
    result.map(|info| (info, bytes))
}

/// Highest sample rate and most channels accepted: the same bounds as the masking decoder's
/// (`privacy::audio_mask`), so every recording that imports can also be masked. A header
/// claiming 4 GHz would otherwise import (one "sample" lasting 0.2 ns) and fail later, far
/// from the file it came from.
const MAX_SAMPLE_RATE: u32 = crate::privacy::audio_mask::MAX_SAMPLE_RATE;
const MAX_CHANNELS: u16 = crate::privacy::audio_mask::MAX_CHANNELS;

fn check_shape(format: Format, sample_rate: u32, channels: u16) -> Result<(), ImportError> {
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(ImportError::AudioOpen {
            format,
            message: format!(
                "the stream declares a sample rate of {sample_rate} Hz (1 to {MAX_SAMPLE_RATE} Hz are supported)"
            ),
        });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(ImportError::AudioOpen {
            format,
            message: format!(
                "the stream declares {channels} channels (1 to {MAX_CHANNELS} are supported)"
            ),
        });
    }
    Ok(())
}

/// symphonia 0.5's WAV reader panics ("TimeBase cannot have 0 numerator or denominator") on a
/// fmt chunk declaring 0 Hz. [`super::inspect_file`] contains that panic, but "the decoder
/// crashed" says neither what nor where (and the masking decoder, which runs the same check,
/// has no such net), so the fmt chunk is checked before symphonia sees it. Returns the
/// problem, or `None` when the shape is plausible or the chunks cannot be walked (then
/// symphonia reports the file itself).
pub(crate) fn wav_fmt_problem(bytes: &[u8]) -> Option<String> {
    let u32_at = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // RIFF header (12 bytes), then chunks: id (4), size (4, little-endian), data, pad to even.
    let mut at: usize = 12;
    loop {
        let id = bytes.get(at..at.checked_add(4)?)?;
        let size = usize::try_from(u32_at(at.checked_add(4)?)?).ok()?;
        if id == b"fmt " {
            let channels = bytes.get(at.checked_add(10)?..at.checked_add(12)?)?;
            let channels = u16::from_le_bytes([channels[0], channels[1]]);
            let rate = u32_at(at.checked_add(12)?)?;
            return match check_shape(Format::Wav, rate, channels) {
                Err(ImportError::AudioOpen { message, .. }) => {
                    Some(format!("fmt chunk at byte offset {at}: {message}"))
                }
                _ => None,
            };
        }
        at = at
            .checked_add(8)?
            .checked_add(size)?
            .checked_add(size % 2)?;
    }
}

/// How far into an MP3 file Xing/Info tags are looked for: the tag sits in the first frame,
/// after an ID3v2 tag (which may hold cover art) and whatever junk the demuxer skips.
const MP3_TAG_SCAN_BYTES: usize = 1 << 20;

/// symphonia 0.5's MP3 reader computes the gapless length as `frames - delay - padding` from
/// the Xing/Info and LAME tags of the first frame without checking that it is positive: a tag
/// whose encoder delay and padding exceed the frame count panics in builds with overflow
/// checks (debug, tests, fuzzing) and wraps to an absurd length in release builds. Such a tag
/// is corrupt whatever else the file holds, so it is refused here, before symphonia reads it,
/// with its byte offset. Every "Xing"/"Info" in the first MiB that is placed like a tag (right
/// after a layer III frame header and its zeroed side information) is checked; returns the
/// problem, or `None`.
pub(crate) fn mp3_info_tag_problem(bytes: &[u8]) -> Option<String> {
    let scan = bytes.get(..bytes.len().min(MP3_TAG_SCAN_BYTES))?;
    let be32 = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    for tag_at in 0..scan.len().saturating_sub(4) {
        let id = scan.get(tag_at..tag_at + 4)?;
        if id != b"Xing" && id != b"Info" {
            continue;
        }
        // The side information is 9, 17 or 32 bytes depending on version and channel mode.
        for side_info in [9usize, 17, 32] {
            let Some(header_at) = tag_at.checked_sub(4 + side_info) else {
                continue;
            };
            let Some(&[b0, b1, _, b3]) = bytes.get(header_at..header_at + 4) else {
                continue;
            };
            let version = (b1 >> 3) & 0b11; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
            let layer3 = (b1 >> 1) & 0b11 == 0b01;
            let mono = b3 >> 6 == 0b11;
            let expected_side_info = match (version == 0b11, mono) {
                (true, true) => 17,
                (true, false) => 32,
                (false, true) => 9,
                (false, false) => 17,
            };
            let zeroed = bytes
                .get(header_at + 4..tag_at)
                .is_some_and(|side| side.iter().all(|&b| b == 0));
            if b0 != 0xFF
                || b1 & 0xE0 != 0xE0
                || version == 0b01
                || !layer3
                || side_info != expected_side_info
                || !zeroed
            {
                continue;
            }
            let samples_per_frame: u64 = if version == 0b11 { 1152 } else { 576 };
            let flags = be32(tag_at + 4)?;
            if flags & 1 == 0 {
                continue; // no frame count, so nothing is subtracted from it
            }
            let frames = u64::from(be32(tag_at + 8)?);
            let mut at = tag_at + 12;
            if flags & 2 != 0 {
                at += 4; // byte count
            }
            if flags & 4 != 0 {
                at += 100; // seek table
            }
            if flags & 8 != 0 {
                at += 4; // quality
            }
            // LAME extension: encoder (9), revision, lowpass, peak (4), two gains (2 + 2),
            // flags, bitrate, then delay and padding as two 12-bit numbers.
            let Some(encoder) = bytes.get(at..at + 4) else {
                continue;
            };
            if encoder != b"LAME" && encoder != b"Lavf" && encoder != b"Lavc" {
                continue;
            }
            let Some(trim) = bytes.get(at + 21..at + 24) else {
                continue;
            };
            let trim = u32::from_be_bytes([0, trim[0], trim[1], trim[2]]);
            let delay = 529 + u64::from(trim >> 12);
            let padding = u64::from(trim & 0xFFF).saturating_sub(529);
            let total = frames.saturating_mul(samples_per_frame);
            if delay + padding > total {
                return Some(format!(
                    "the {} tag at byte offset {tag_at} declares {frames} frames ({total} samples) \
                     but {delay} samples of encoder delay and {padding} of padding",
                    String::from_utf8_lossy(id)
                ));
            }
        }
    }
    None
}

fn decode_all(
    format: Format,
    shared: Arc<Vec<u8>>,
    limits: &ImportLimits,
) -> Result<MediaInfo, ImportError> {
    let open_error = |message: String| ImportError::AudioOpen { format, message };
    if format == Format::Wav
        && let Some(problem) = wav_fmt_problem(shared.as_slice())
    {
        return Err(open_error(problem));
    }
    if format == Format::Mp3
        && let Some(problem) = mp3_info_tag_problem(shared.as_slice())
    {
        return Err(open_error(problem));
    }

    let source = Box::new(Cursor::new(SharedBytes(shared)));
    let stream = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    hint.with_extension(format.name());
    let format_options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map_err(|e| open_error(e.to_string()))?;
    let mut reader = probed.format;

    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| open_error("no audio track".to_owned()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut sample_rate = params.sample_rate.filter(|&r| r > 0);
    let mut channels = params
        .channels
        .and_then(|c| u16::try_from(c.count()).ok())
        .filter(|&c| c > 0);

    // An implausible shape is refused before decoding as well as after (when only the decoded
    // buffers tell it).
    if let (Some(rate), Some(count)) = (sample_rate, channels) {
        check_shape(format, rate, count)?;
    }
    // Refuse an over-long file from its header before spending time decoding it.
    if let (Some(rate), Some(n_frames)) = (sample_rate, params.n_frames) {
        let secs = seconds(n_frames, rate);
        if secs > limits.max_audio_secs {
            return Err(ImportError::AudioTooLong {
                secs,
                limit: limits.max_audio_secs,
            });
        }
    }

    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| open_error(e.to_string()))?;

    let mut frames: u64 = 0;
    let mut packet_index: u64 = 0;
    loop {
        let at_secs = sample_rate.map_or(0.0, |r| seconds(frames, r));
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(e) if is_eof(&e) => break,
            Err(e) => {
                return Err(ImportError::AudioDecode {
                    packet: packet_index,
                    at_secs,
                    message: e.to_string(),
                });
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                let spec = buffer.spec();
                if sample_rate.is_none() && spec.rate > 0 {
                    sample_rate = Some(spec.rate);
                }
                if channels.is_none() {
                    channels = u16::try_from(spec.channels.count()).ok();
                }
                let decoded = u64::try_from(buffer.frames()).unwrap_or(u64::MAX);
                frames = frames.saturating_add(decoded);
            }
            Err(e) if is_eof(&e) => break,
            Err(e) => {
                return Err(ImportError::AudioDecode {
                    packet: packet_index,
                    at_secs,
                    message: e.to_string(),
                });
            }
        }
        packet_index = packet_index.saturating_add(1);
        // Headers may omit or understate the length; the decoded count is what counts.
        if let Some(rate) = sample_rate {
            let secs = seconds(frames, rate);
            if secs > limits.max_audio_secs {
                return Err(ImportError::AudioTooLong {
                    secs,
                    limit: limits.max_audio_secs,
                });
            }
        }
    }

    let (Some(sample_rate), Some(channels)) = (sample_rate, channels.filter(|&c| c > 0)) else {
        return Err(ImportError::AudioEmpty);
    };
    check_shape(format, sample_rate, channels)?;
    if frames == 0 {
        return Err(ImportError::AudioEmpty);
    }
    Ok(MediaInfo::Audio {
        format: format.name(),
        sample_rate,
        channels,
        duration_secs: seconds(frames, sample_rate),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ImportOptions, inspect_file};
    use super::*;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn audio_info(name: &str, bytes: Vec<u8>) -> (&'static str, u32, u16, f64) {
        let got = inspect_file(name, bytes, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match got.items.first().map(|i| &i.info) {
            Some(&MediaInfo::Audio {
                format,
                sample_rate,
                channels,
                duration_secs,
            }) => (format, sample_rate, channels, duration_secs),
            other => panic!("{name}: {other:?}"),
        }
    }

    /// A 16-bit PCM WAV whose data chunk claims `claimed_frames` but holds `frames`.
    fn wav(rate: u32, channels: u16, frames: u32, claimed_frames: u32) -> Vec<u8> {
        let block = u32::from(channels) * 2;
        let data_len = frames * block;
        let claimed_len = claimed_frames * block;
        let mut w = Vec::new();
        w.extend_from_slice(b"RIFF");
        w.extend_from_slice(&(36 + claimed_len).to_le_bytes());
        w.extend_from_slice(b"WAVEfmt ");
        w.extend_from_slice(&16u32.to_le_bytes());
        w.extend_from_slice(&1u16.to_le_bytes());
        w.extend_from_slice(&channels.to_le_bytes());
        w.extend_from_slice(&rate.to_le_bytes());
        w.extend_from_slice(&(rate * block).to_le_bytes());
        w.extend_from_slice(&(block as u16).to_le_bytes());
        w.extend_from_slice(&16u16.to_le_bytes());
        w.extend_from_slice(b"data");
        w.extend_from_slice(&claimed_len.to_le_bytes());
        for i in 0..data_len {
            w.push((i % 251) as u8);
        }
        w
    }

    #[test]
    fn fixtures_match_the_manifest() {
        // fixtures/audio/MANIFEST.csv
        let (f, rate, ch, secs) =
            audio_info("call_02_16k.flac", fixture("import/call_02_16k.flac"));
        assert_eq!((f, rate, ch), ("flac", 16_000, 1));
        assert!((secs - 31.013).abs() < 0.1, "{secs}");

        let (f, rate, ch, secs) = audio_info("call_03_22k.ogg", fixture("import/call_03_22k.ogg"));
        assert_eq!((f, rate, ch), ("ogg", 22_050, 1));
        assert!((secs - 27.298).abs() < 0.1, "{secs}");

        let (f, rate, ch, secs) = audio_info("call_04_22k.mp3", fixture("import/call_04_22k.mp3"));
        assert_eq!((f, rate, ch), ("mp3", 22_050, 1));
        assert!(
            (secs - 29.243).abs() < 0.1 || (secs - 29.309).abs() < 0.1,
            "{secs}"
        );
    }

    #[test]
    fn media_bytes_are_returned_unchanged() {
        let bytes = fixture("import/call_03_22k.ogg");
        let got = inspect_file("c.ogg", bytes.clone(), &ImportOptions::default()).expect("ok");
        assert_eq!(got.items[0].bytes, bytes);
    }

    #[test]
    fn generated_stereo_wav_reports_its_length() {
        let (f, rate, ch, secs) = audio_info("tone.WAV", wav(8_000, 2, 12_000, 12_000));
        assert_eq!((f, rate, ch), ("wav", 8_000, 2));
        assert!((secs - 1.5).abs() < 1e-9, "{secs}");
    }

    #[test]
    fn wav_claiming_more_data_than_present_never_panics() {
        // Header claims 10 s, the file holds 0.5 s: either the real length or a rejection.
        let bytes = wav(8_000, 1, 4_000, 80_000);
        match inspect_file("short.wav", bytes, &ImportOptions::default()) {
            Ok(got) => match got.items[0].info {
                MediaInfo::Audio { duration_secs, .. } => {
                    assert!((duration_secs - 0.5).abs() < 0.01, "{duration_secs}")
                }
                ref other => panic!("{other:?}"),
            },
            Err(e) => assert!(
                matches!(
                    e,
                    ImportError::AudioDecode { .. } | ImportError::AudioOpen { .. }
                ),
                "{e:?}"
            ),
        }
    }

    #[test]
    fn wav_without_samples_is_rejected() {
        let err = inspect_file("silent.wav", wav(8_000, 1, 0, 0), &ImportOptions::default())
            .expect_err("no samples");
        assert!(
            matches!(err, ImportError::AudioEmpty | ImportError::AudioOpen { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn over_long_audio_is_rejected_from_the_header() {
        let mut options = ImportOptions::default();
        options.limits.max_audio_secs = 10.0;
        let err = inspect_file(
            "call_02_16k.flac",
            fixture("import/call_02_16k.flac"),
            &options,
        )
        .expect_err("too long");
        match err {
            ImportError::AudioTooLong { secs, limit } => {
                assert!((secs - 31.013).abs() < 0.1, "{secs}");
                assert!((limit - 10.0).abs() < f64::EPSILON);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn random_wav_is_not_a_wav() {
        let err = inspect_file(
            "random_bytes.wav",
            fixture("bad/random_bytes.wav"),
            &ImportOptions::default(),
        )
        .expect_err("random");
        assert!(matches!(
            err,
            ImportError::NotFormat {
                expected: Format::Wav
            }
        ));
        assert!(
            err.to_string()
                .starts_with("not a WAV file: no RIFF/WAVE header")
        );
    }

    #[test]
    fn truncated_and_corrupted_audio_never_panics() {
        for rel in [
            "import/call_02_16k.flac",
            "import/call_03_22k.ogg",
            "import/call_04_22k.mp3",
        ] {
            let bytes = fixture(rel);
            let name = rel.rsplit('/').next().unwrap_or(rel);
            for len in [4usize, 40, 200, 4096, bytes.len() / 3] {
                let prefix = bytes.get(..len).unwrap_or(&bytes).to_vec();
                let _ = inspect_file(name, prefix, &ImportOptions::default());
            }
            // Overwrite a stretch in the middle with noise.
            let mut damaged = bytes.clone();
            let mid = damaged.len() / 2;
            for (i, b) in damaged.iter_mut().skip(mid).take(2000).enumerate() {
                *b = (i as u8).wrapping_mul(37) ^ 0x5A;
            }
            let _ = inspect_file(name, damaged, &ImportOptions::default());
        }
    }
}
