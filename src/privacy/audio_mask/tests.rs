//! Unit tests of `privacy::audio_mask` (kept beside it so the module itself stays readable).

use super::*;

/// Stereo PCM whose every sample is distinct and non-zero.
fn ramp(sample_rate: u32, frames: usize) -> Pcm {
    let samples = (0..frames * 2).map(|i| (i % 30_000) as i16 + 1).collect();
    Pcm {
        sample_rate,
        channels: 2,
        samples,
    }
}

#[test]
fn ranges_cover_floor_to_ceil_in_every_channel() {
    let original = ramp(1000, 100);
    let mut pcm = original.clone();
    // 10.4 ms .. 20.2 ms at 1 kHz: frames 10 .. 21.
    apply_ranges(
        &mut pcm,
        &[AudioRange {
            start_secs: 0.0104,
            end_secs: 0.0202,
            style: AudioStyle::Mute,
        }],
    );
    for (i, (got, was)) in pcm.samples.iter().zip(&original.samples).enumerate() {
        if (20..42).contains(&i) {
            assert_eq!(*got, 0, "sample {i}");
        } else {
            assert_eq!(got, was, "sample {i}");
        }
    }
}

#[test]
fn tone_starts_at_phase_zero_and_has_the_right_level_and_pitch() {
    let original = ramp(8000, 4000);
    let mut pcm = original.clone();
    apply_ranges(
        &mut pcm,
        &[AudioRange {
            start_secs: 0.1,
            end_secs: 0.2,
            style: AudioStyle::Tone,
        }],
    );
    // 8 kHz / 1 kHz: one cycle every 8 frames, starting at 0.
    let cycle = [0, 2317, 3277, 2317, 0, -2317, -3277, -2317];
    for frame in 800..1600 {
        let want = cycle[(frame - 800) % 8];
        assert_eq!(pcm.samples[frame * 2], want, "frame {frame}");
        assert_eq!(pcm.samples[frame * 2 + 1], want, "frame {frame}");
    }
    assert_eq!(pcm.samples[..1600], original.samples[..1600]);
    assert_eq!(pcm.samples[3200..], original.samples[3200..]);
    // The same tone far into a long recording (phase reduced exactly).
    assert_eq!(tone_sample(8_000_000_002, 8000), 3277);
}

#[test]
fn invalid_or_out_of_range_ranges_change_nothing_or_clamp() {
    let original = ramp(1000, 50);
    let mut pcm = original.clone();
    apply_ranges(
        &mut pcm,
        &[
            AudioRange {
                start_secs: f64::NAN,
                end_secs: 1.0,
                style: AudioStyle::Mute,
            },
            AudioRange {
                start_secs: 0.03,
                end_secs: 0.01,
                style: AudioStyle::Mute,
            },
            AudioRange {
                start_secs: 5.0,
                end_secs: 6.0,
                style: AudioStyle::Mute,
            },
        ],
    );
    assert_eq!(pcm, original);
    apply_ranges(
        &mut pcm,
        &[AudioRange {
            start_secs: -1.0,
            end_secs: 0.0105,
            style: AudioStyle::Mute,
        }],
    );
    assert!(pcm.samples[..22].iter().all(|s| *s == 0));
    assert_eq!(pcm.samples[22..], original.samples[22..]);
}

#[test]
fn cut_window_keeps_floor_to_ceil_and_reports_the_start() {
    let original = ramp(1000, 100);
    let mut pcm = original.clone();
    assert_eq!(cut_window(&mut pcm, 0.0255, 0.0601), 25);
    assert_eq!(pcm.frames(), 61 - 25);
    assert_eq!(pcm.samples[..], original.samples[50..122]);
    let mut pcm = original.clone();
    assert_eq!(cut_window(&mut pcm, 0.09, 5.0), 90);
    assert_eq!(pcm.frames(), 10);
    let mut pcm = original.clone();
    assert_eq!(cut_window(&mut pcm, 0.5, 0.2), 100);
    assert_eq!(pcm.frames(), 0);
}

#[test]
fn wav_round_trips_exactly_through_the_decoder() {
    let pcm = ramp(22_050, 5000);
    let wav = encode_wav(&pcm);
    assert_eq!(wav.len(), 44 + 20_000);
    assert_eq!(&wav[36..40], b"data");
    let back = decode_pcm(&wav, "wav", 60.0).unwrap();
    assert_eq!(back, pcm);
    assert!(matches!(
        decode_pcm(&wav, "wav", 0.1),
        Err(MaskError::AudioTooLong { .. })
    ));
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(&body);
    out
}

#[test]
fn wav_tags_go_and_audio_bytes_stay() {
    let plain = encode_wav(&ramp(16_000, 300));
    let (fmt, data) = (&plain[12..36], &plain[36..]);
    let info = chunk(b"LIST", b"INFOINAM\x0b\0\0\0Jane Q. Ex\0\0");
    let id3 = chunk(b"id3 ", b"ID3\x03\0\0\0\0\0\x05phone");
    let odd = chunk(b"junk", b"abc");
    let tagged = riff(&[odd, fmt.to_vec(), info, data.to_vec(), id3]);
    let (out, format) = strip_tags(&tagged, "wav").unwrap();
    assert_eq!(format, "wav");
    assert_eq!(out, plain);
    // A data chunk cut short keeps its whole frames.
    let cut = &plain[..plain.len() - 7];
    let (out, _) = strip_tags(cut, "wav").unwrap();
    assert_eq!(out.len(), plain.len() - 8);
    assert_eq!(out[44..], plain[44..plain.len() - 8]);
    // Any other chunk cut short is an error naming where.
    let mut bad = riff(&[fmt.to_vec(), data.to_vec()]);
    bad.extend_from_slice(b"LIST\xff\0\0\0INFO");
    let len = bad.len() as u32 - 8;
    bad[4..8].copy_from_slice(&len.to_le_bytes());
    let err = strip_tags(&bad, "wav").unwrap_err().to_string();
    assert!(err.contains("'LIST' at byte 1244"), "{err}");
    for bad in [
        &plain[..20],
        b"RIFX\0\0\0\0WAVE".as_slice(),
        &riff(&[data.to_vec()]),
    ] {
        assert!(strip_tags(bad, "wav").is_err());
    }
}

fn flac_block(kind: u8, last: bool, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u32;
    let mut out = vec![kind | if last { 0x80 } else { 0 }];
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

#[test]
fn flac_keeps_streaminfo_and_seektable_and_fixes_the_last_flag() {
    let info = flac_block(0, false, &[7; 34]);
    let seek = flac_block(3, false, &[9; 18]);
    let comment = flac_block(
        4,
        false,
        b"\x05\0\0\0SoX..\x01\0\0\0\x0d\0\0\0NAME=Jane Doe",
    );
    let picture = flac_block(6, false, &[1; 40]);
    let padding = flac_block(1, true, &[0; 100]);
    let frames = b"\xff\xf8\x69\x08frame bytes".to_vec();
    let tagged = [
        b"fLaC".to_vec(),
        info.clone(),
        comment,
        seek.clone(),
        picture,
        padding,
        frames.clone(),
    ]
    .concat();
    let (out, format) = strip_tags(&tagged, "flac").unwrap();
    assert_eq!(format, "flac");
    let mut last_seek = seek.clone();
    last_seek[0] |= 0x80;
    assert_eq!(
        out,
        [b"fLaC".to_vec(), info.clone(), last_seek, frames.clone()].concat()
    );

    let cut = [
        b"fLaC".to_vec(),
        info.clone(),
        flac_block(4, true, &[0; 50]),
    ]
    .concat();
    let err = strip_tags(&cut[..cut.len() - 1], "flac")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the flac file is malformed: FLAC metadata block at byte 42 runs past the end of the file"
    );
    let no_info = [b"fLaC".to_vec(), flac_block(4, true, &[0; 4]), frames].concat();
    assert!(strip_tags(&no_info, "flac").is_err());
    assert!(strip_tags(b"fLaC", "flac").is_err());
    assert!(strip_tags(b"OggS", "flac").is_err());
}

#[test]
fn mp3_loses_id3v2_apev2_and_id3v1() {
    // MPEG 1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
    let mut frames = b"\xff\xfb\x90\x64 pretend MPEG frame".to_vec();
    frames.resize(417, 0);
    let mut id3v2 = b"ID3\x04\0\x10\0\0\0\x05hello".to_vec();
    id3v2.extend_from_slice(b"3DI\x04\0\x10\0\0\0\x05");
    let mut ape = b"APETAGEX\xd0\x07\0\0".to_vec();
    ape.extend_from_slice(&40u32.to_le_bytes());
    ape.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0xA0]);
    ape.extend_from_slice(&[0; 8]);
    let mut ape_tag = ape.clone();
    ape_tag.extend_from_slice(b"Artist\0x");
    let mut footer = ape.clone();
    footer[23] = 0x80;
    ape_tag.extend_from_slice(&footer);
    let mut v1 = b"TAGJohn Doe".to_vec();
    v1.resize(128, 0);
    let tagged = [id3v2.clone(), frames.clone(), ape_tag, v1.clone()].concat();
    let (out, format) = strip_tags(&tagged, "mp3").unwrap();
    assert_eq!((out, format), (frames.clone(), "mp3"));
    // Enhanced ID3v1: a 227-byte "TAG+" block before the "TAG".
    let mut plus = b"TAG+John Doe".to_vec();
    plus.resize(227, b' ');
    let long_frames = frames.repeat(20);
    let tagged = [long_frames.clone(), plus, v1].concat();
    assert_eq!(strip_tags(&tagged, "mp3").unwrap().0, long_frames);

    let bad_size = [b"ID3\x03\0\0\0\x80\0\0".to_vec(), frames.clone()].concat();
    let err = strip_tags(&bad_size, "mp3").unwrap_err().to_string();
    assert!(err.contains("ID3v2 tag at byte 0"), "{err}");
    let too_long = [b"ID3\x03\0\0\0\0\x7f\x7f".to_vec(), frames].concat();
    let err = strip_tags(&too_long, "mp3").unwrap_err().to_string();
    assert!(err.contains("runs past the end"), "{err}");
    assert!(strip_tags(b"ID3\x03\0\0\0\0\0\0", "mp3").is_err());
}

#[test]
fn mp3_keeps_only_whole_frames_and_drops_junk_around_them() {
    let mut frame = b"\xff\xfb\x90\x64 frame".to_vec();
    frame.resize(417, 7);
    // MPEG 2 layer III, 64 kbit/s, 22.05 kHz, padded: 72 * 64000 / 22050 + 1 = 209.
    let mut short = b"\xff\xf3\x82\x64".to_vec();
    short.resize(209, 9);
    assert_eq!(mpeg_frame_len(&frame), Some(417));
    assert_eq!(mpeg_frame_len(&short), Some(209));
    // Junk before, between and after; a stray sync pattern inside the junk.
    let junk = b"junk \xff\xfb\x90\x64 not a frame".to_vec();
    let tagged = [
        junk.clone(),
        frame.clone(),
        frame.clone(),
        junk.clone(),
        short.clone(),
        short.clone(),
        junk,
    ]
    .concat();
    let (out, _) = strip_tags(&tagged, "mp3").unwrap();
    assert_eq!(
        out,
        [frame.clone(), frame.clone(), short.clone(), short].concat()
    );
    // A last frame cut short is kept as it is.
    let cut = [frame.clone(), frame[..100].to_vec()].concat();
    assert_eq!(strip_tags(&cut, "mp3").unwrap().0, cut);
    assert!(matches!(
        strip_tags(b"no frames at all", "mp3"),
        Err(MaskError::AudioEmpty)
    ));
}

#[test]
fn derive_refuses_invalid_ranges_windows_and_formats() {
    let wav = encode_wav(&ramp(1000, 1000));
    let range = |s: f64, e: f64| AudioRange {
        start_secs: s,
        end_secs: e,
        style: AudioStyle::Mute,
    };
    let err = derive_audio(
        &wav,
        "wav",
        &[range(0.1, 0.2), range(0.5, f64::NAN)],
        None,
        60.0,
    )
    .unwrap_err();
    assert!(
        matches!(err, MaskError::InvalidRange { index: 1, .. }),
        "{err}"
    );
    for window in [(0.5, 0.5), (f64::NEG_INFINITY, 0.5), (2.0, 3.0)] {
        let err = derive_audio(&wav, "wav", &[], Some(window), 60.0).unwrap_err();
        assert!(
            matches!(err, MaskError::InvalidWindow { .. }),
            "{window:?}: {err}"
        );
    }
    let (out, format, secs) = derive_audio(&wav, "wav", &[], Some((0.25, 0.5)), 60.0).unwrap();
    assert_eq!((format, secs), ("wav", 0.25));
    assert_eq!(out[44..], wav[44 + 1000..44 + 2000]);
    let (out, format, secs) = derive_audio(&wav, "wav", &[], None, 60.0).unwrap();
    assert_eq!((out, format, secs), (wav.clone(), "wav", 1.0));
    assert!(matches!(
        derive_audio(&wav, "aiff", &[], None, 60.0),
        Err(MaskError::UnsupportedFormat { .. })
    ));
    for garbage in [&b""[..], b"RIFF", &[0u8; 300], &wav[..40]] {
        for format in ["wav", "flac", "ogg", "mp3"] {
            assert!(decode_pcm(garbage, format, 60.0).is_err(), "{format}");
        }
    }
}

/// Interleaved PCM of reproducible non-zero noise (xorshift), so every
/// misplaced or repeated sample shows.
fn noise(sample_rate: u32, channels: u16, frames: usize) -> Pcm {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ u64::from(sample_rate);
    let samples = (0..frames * usize::from(channels))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 48) as i16 | 1
        })
        .collect();
    Pcm {
        sample_rate,
        channels,
        samples,
    }
}

/// The whole-buffer path `derive_audio` took before it streamed.
fn whole_buffer(wav: &[u8], ranges: &[AudioRange], window: Option<(f64, f64)>) -> Vec<u8> {
    let mut pcm = decode_pcm(wav, "wav", 60.0).unwrap();
    apply_ranges(&mut pcm, ranges);
    if let Some((s, e)) = window {
        cut_window(&mut pcm, s, e);
    }
    encode_wav(&pcm)
}

/// The documented rules applied frame by frame, sharing no code with the
/// module: floor/ceil spans, later ranges win, tone phase from the range
/// start.
fn by_the_rules(pcm: &Pcm, ranges: &[AudioRange], window: Option<(f64, f64)>) -> Vec<i16> {
    let rate = f64::from(pcm.sample_rate);
    let (lo, hi) = window.map_or((0.0, f64::INFINITY), |(s, e)| {
        ((s * rate).floor(), (e * rate).ceil())
    });
    let mut out = Vec::new();
    for (f, frame) in pcm
        .samples
        .chunks_exact(usize::from(pcm.channels))
        .enumerate()
    {
        let f = f as f64;
        if f < lo || f >= hi {
            continue;
        }
        let mut value = None;
        for r in ranges {
            let (a, b) = (
                (r.start_secs * rate).floor().max(0.0),
                (r.end_secs * rate).ceil(),
            );
            if (a..b).contains(&f) {
                value = Some(match r.style {
                    AudioStyle::Mute => 0,
                    AudioStyle::Tone => {
                        (3277.0 * (TAU * 1000.0 * (f - a) / rate).sin()).round() as i16
                    }
                });
            }
        }
        match value {
            Some(v) => out.extend(std::iter::repeat_n(v, frame.len())),
            None => out.extend_from_slice(frame),
        }
    }
    out
}

fn span(start_secs: f64, end_secs: f64, style: AudioStyle) -> AudioRange {
    AudioRange {
        start_secs,
        end_secs,
        style,
    }
}

#[test]
fn streamed_derivative_is_byte_identical_to_the_whole_buffer_path() {
    use AudioStyle::{Mute, Tone};
    // WAV packets are 1152 frames: these bounds fall inside packets.
    let all = [
        span(0.0101, 0.0702, Mute),
        span(0.05, 0.3, Tone), // overlaps the one before: later wins
        span(0.29, 0.31, Mute),
        span(1.2, 2.9, Tone),  // partly outside the windows below
        span(3.0, 99.0, Mute), // runs past the end
    ];
    let tone_only = [span(0.0, 1.5, Tone)];
    let windows = [
        None,
        Some((0.0371, 2.5)),
        Some((2.0, 100.0)),
        Some((-1.0, 0.02)),
        Some((1.23456, 1.23457)), // a single frame
    ];
    for (rate, channels) in [(22_050, 1), (44_100, 2), (8_000, 2), (44_100, 1)] {
        // 3.3 s plus a few frames: the last packet is a short one.
        let pcm = noise(rate, channels, (f64::from(rate) * 3.3) as usize + 7);
        let wav = encode_wav(&pcm);
        for ranges in [&all[..], &tone_only, &[]] {
            for window in windows {
                let case = format!("{rate} Hz, {channels} ch, {ranges:?}, {window:?}");
                let (out, format, secs) = derive_audio(&wav, "wav", ranges, window, 60.0).unwrap();
                assert_eq!(format, "wav", "{case}");
                assert!(out == whole_buffer(&wav, ranges, window), "{case}");
                let got = decode_pcm(&out, "wav", 60.0).unwrap();
                assert!(got.samples == by_the_rules(&pcm, ranges, window), "{case}");
                assert_eq!(secs, got.duration_secs(), "{case}");
            }
        }
    }
}

#[test]
fn wav_size_limit_is_checked_from_the_header_and_as_the_output_grows() {
    let limit = u64::from(u32::MAX) - 36;
    assert!(check_wav_size(limit).is_ok());
    assert!(matches!(
        check_wav_size(limit + 1),
        Err(MaskError::WavTooLarge { bytes }) if bytes == limit + 1
    ));
    assert!(check_wav_size(u64::MAX).is_err());
    // 4 h of 96 kHz stereo is 5.5 GB of samples: refused from the header,
    // before a packet is decoded.
    let four_hours = 4 * 3600 * 96_000;
    assert!(matches!(
        expected_wav_bytes(Some(four_hours), None, 2),
        Err(MaskError::WavTooLarge {
            bytes: 5_529_600_000
        })
    ));
    // A 10 s window of it fits, and is what the writer reserves.
    let window = frame_span(600.0, 610.0, 96_000);
    assert_eq!(
        expected_wav_bytes(Some(four_hours), Some(&window), 2).unwrap(),
        Some(3_840_000)
    );
    let past_the_end = frame_span(5.0, 6.0, 8000);
    assert_eq!(
        expected_wav_bytes(Some(100), Some(&past_the_end), 1).unwrap(),
        Some(0)
    );
    assert_eq!(expected_wav_bytes(None, None, 2).unwrap(), None);
    assert!(expected_wav_bytes(Some(u64::MAX), None, 32).is_err());
}

#[test]
fn streamed_derive_still_refuses_long_recordings_and_empty_windows() {
    let wav = encode_wav(&noise(1000, 2, 1000));
    let mute = [span(0.1, 0.2, AudioStyle::Mute)];
    let err = derive_audio(&wav, "wav", &mute, Some((0.0, 0.5)), 0.5).unwrap_err();
    assert!(matches!(err, MaskError::AudioTooLong { .. }), "{err}");
    for window in [(1.0, 2.0), (5.0, 6.0)] {
        let err = derive_audio(&wav, "wav", &mute, Some(window), 60.0).unwrap_err();
        assert!(matches!(err, MaskError::InvalidWindow { .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("it holds no audio of the 1.000 s recording"),
            "{err}"
        );
    }
    // The last frame alone is audio.
    let (out, _, secs) = derive_audio(&wav, "wav", &mute, Some((0.999, 5.0)), 60.0).unwrap();
    assert_eq!((out.len(), secs), (44 + 4, 0.001));
}

#[test]
fn range_json_has_a_default_style() {
    let r: AudioRange = serde_json::from_str(r#"{"start_secs":1.5,"end_secs":2}"#).unwrap();
    assert_eq!(
        r,
        AudioRange {
            start_secs: 1.5,
            end_secs: 2.0,
            style: AudioStyle::Mute
        }
    );
    let json = serde_json::to_string(&AudioRange {
        style: AudioStyle::Tone,
        ..r
    })
    .unwrap();
    assert_eq!(json, r#"{"start_secs":1.5,"end_secs":2.0,"style":"tone"}"#);
}
