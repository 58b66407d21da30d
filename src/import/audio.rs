//! Audio validation: a recording is accepted only after every packet of its main track has
//! decoded, which proves it plays and yields its true duration (headers can lie). Samples are
//! dropped packet by packet, so memory stays flat however long the file is.

use crate::crypto::SharedPlaintext;
use crate::media::audio::{self as media_audio, AudioLimits, AudioOpenError, seconds};

use super::{Format, ImportError, ImportLimits, MediaInfo};

/// Validates audio whose signature already matched `format`; returns the info and the
/// unchanged bytes.
pub(super) fn inspect(
    format: Format,
    bytes: Vec<u8>,
    limits: &ImportLimits,
) -> Result<(MediaInfo, Vec<u8>), ImportError> {
    // Shared with symphonia (which wants an owned `'static` source) without a copy.
    let shared = SharedPlaintext::new(bytes);
    let result = decode_all(format, shared.clone(), limits);
    // Every clone handed to symphonia is dropped by now; the copy is only a fallback.
    // Moved out, not copied (the emptied buffer has nothing left to wipe).
    let bytes = shared
        .try_unwrap()
        .map(|mut plain| std::mem::take(&mut *plain))
        .unwrap_or_else(|still_shared| still_shared.as_ref().to_vec());
    result.map(|info| (info, bytes))
}

/// The import message for each reason `media` gives for not opening a recording.
fn open_error(format: Format, err: AudioOpenError) -> ImportError {
    match err {
        AudioOpenError::TooLong { secs, limit } => ImportError::AudioTooLong { secs, limit },
        AudioOpenError::Hazard(message) | AudioOpenError::Open(message) => {
            ImportError::AudioOpen { format, message }
        }
        shape @ (AudioOpenError::SampleRate { .. } | AudioOpenError::Channels { .. }) => {
            ImportError::AudioOpen {
                format,
                message: shape.to_string(),
            }
        }
    }
}

fn decode_all(
    format: Format,
    shared: SharedPlaintext,
    limits: &ImportLimits,
) -> Result<MediaInfo, ImportError> {
    // Fields that make symphonia panic or allocate what a header claims are refused first,
    // with what and where, then an implausible shape or an over-long header (see `media`).
    let audio_limits = AudioLimits {
        max_secs: limits.max_audio_secs,
    };
    let mut stream = media_audio::open_stream(shared, format.name(), &audio_limits)
        .map_err(|e| open_error(format, e))?;
    let mut sample_rate = stream.track().sample_rate().filter(|&r| r > 0);
    let mut channels = stream.track().channels().filter(|&c| c > 0);

    let mut frames: u64 = 0;
    loop {
        let at_secs = sample_rate.map_or(0.0, |r| seconds(frames, r));
        let buffer = match stream.next_buffer() {
            Ok(Some(buffer)) => buffer,
            Ok(None) => break,
            Err(e) => {
                return Err(ImportError::AudioDecode {
                    packet: e.packet,
                    at_secs,
                    message: e.message,
                });
            }
        };
        let spec = buffer.spec();
        if sample_rate.is_none() && spec.rate > 0 {
            sample_rate = Some(spec.rate);
        }
        if channels.is_none() {
            channels = u16::try_from(spec.channels.count()).ok();
        }
        let decoded = u64::try_from(buffer.frames()).unwrap_or(u64::MAX);
        frames = frames.saturating_add(decoded);
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
    media_audio::check_shape(sample_rate, channels).map_err(|e| open_error(format, e))?;
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
    use super::super::{ImportOptions, Inspected, inspect_file};
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
            // A contained decoder panic would also be an `Err`: it must not
            // be what these inputs produce (the guards refuse them first).
            let no_panic = |what: String, r: Result<Inspected, ImportError>| {
                assert!(
                    !matches!(r, Err(ImportError::DecoderPanic { .. })),
                    "{name} {what}: the decoder panicked"
                );
            };
            for len in [4usize, 40, 200, 4096, bytes.len() / 3] {
                let prefix = bytes.get(..len).unwrap_or(&bytes).to_vec();
                no_panic(
                    format!("cut to {len} bytes"),
                    inspect_file(name, prefix, &ImportOptions::default()),
                );
            }
            // Overwrite a stretch in the middle with noise.
            let mut damaged = bytes.clone();
            let mid = damaged.len() / 2;
            for (i, b) in damaged.iter_mut().skip(mid).take(2000).enumerate() {
                *b = (i as u8).wrapping_mul(37) ^ 0x5A;
            }
            no_panic(
                "with noise in the middle".into(),
                inspect_file(name, damaged, &ImportOptions::default()),
            );
        }
    }
}
