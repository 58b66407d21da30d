use super::*;

/// A 16-bit PCM WAV of `frames` frames of silence.
fn wav(rate: u32, channels: u16, frames: u32) -> Vec<u8> {
    let block = u32::from(channels) * 2;
    let data_len = frames * block;
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&rate.wrapping_mul(block).to_le_bytes());
    w.extend_from_slice(&(block as u16).to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    w.resize(w.len() + data_len as usize, 0);
    w
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    std::fs::read(format!("{path}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0,
/// computed with the checksum field zeroed.
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in page {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn open_error(bytes: Vec<u8>, format: &str, limits: &AudioLimits) -> AudioOpenError {
    match open_stream(bytes, format, limits) {
        Ok(_) => panic!("{format}: opened"),
        Err(e) => e,
    }
}

#[test]
fn shape_bounds_are_the_fixed_limits() {
    assert_eq!(check_shape(8_000, 1), Ok(()));
    assert_eq!(check_shape(MAX_SAMPLE_RATE, MAX_CHANNELS), Ok(()));
    assert_eq!(
        check_shape(MAX_SAMPLE_RATE + 1, 1),
        Err(AudioOpenError::SampleRate {
            rate: MAX_SAMPLE_RATE + 1
        })
    );
    assert_eq!(
        check_shape(0, 1),
        Err(AudioOpenError::SampleRate { rate: 0 })
    );
    assert_eq!(
        check_shape(8_000, MAX_CHANNELS + 1),
        Err(AudioOpenError::Channels { channels: 33 })
    );
    assert_eq!(
        check_shape(8_000, 0),
        Err(AudioOpenError::Channels { channels: 0 })
    );
}

#[test]
fn a_wav_over_the_sample_rate_limit_is_refused_naming_its_fmt_chunk() {
    let err = open_error(wav(800_000, 1, 8), "wav", &AudioLimits::default());
    assert_eq!(
        err,
        AudioOpenError::Hazard(
            "fmt chunk at byte offset 12: the stream declares a sample rate of 800000 Hz \
             (1 to 768000 Hz are supported)"
                .to_owned()
        )
    );
    // At the limit it opens.
    assert!(open_stream(wav(MAX_SAMPLE_RATE, 1, 8), "wav", &AudioLimits::default()).is_ok());
}

#[test]
fn a_wav_over_the_channel_limit_is_refused() {
    let err = open_error(wav(8_000, 33, 8), "wav", &AudioLimits::default());
    assert_eq!(
        err,
        AudioOpenError::Hazard(
            "fmt chunk at byte offset 12: the stream declares 33 channels (1 to 32 are supported)"
                .to_owned()
        )
    );
}

#[test]
fn an_ogg_header_over_the_sample_rate_limit_is_refused_before_decoding() {
    // The first page holds only the Vorbis identification header: 27 bytes of page header,
    // one lacing value, then "\x01vorbis", version (4), channels (1), sample rate (4).
    let mut ogg = fixture("import/call_03_22k.ogg");
    assert_eq!(&ogg[28..35], b"\x01vorbis");
    ogg[40..44].copy_from_slice(&800_000u32.to_le_bytes());
    let page_len = 28 + usize::from(ogg[27]);
    ogg[22..26].fill(0);
    let crc = ogg_crc(&ogg[..page_len]);
    ogg[22..26].copy_from_slice(&crc.to_le_bytes());

    let track = open(ogg.clone(), "ogg").expect("the header is read");
    assert_eq!(track.sample_rate(), Some(800_000));
    let err = open_error(ogg, "ogg", &AudioLimits::default());
    assert_eq!(err, AudioOpenError::SampleRate { rate: 800_000 });
    assert_eq!(
        err.to_string(),
        "the stream declares a sample rate of 800000 Hz (1 to 768000 Hz are supported)"
    );
}

#[test]
fn a_header_over_the_duration_limit_is_refused_before_decoding() {
    // 2 s at 8 kHz.
    let bytes = wav(8_000, 1, 16_000);
    let err = open_error(bytes.clone(), "wav", &AudioLimits { max_secs: 1.5 });
    assert_eq!(
        err,
        AudioOpenError::TooLong {
            secs: 2.0,
            limit: 1.5
        }
    );
    assert!(open_stream(bytes, "wav", &AudioLimits { max_secs: 2.0 }).is_ok());

    let flac = fixture("import/call_02_16k.flac");
    match open_error(flac, "flac", &AudioLimits { max_secs: 10.0 }) {
        AudioOpenError::TooLong { secs, limit } => {
            assert!((secs - 31.013).abs() < 0.1, "{secs}");
            assert!((limit - 10.0).abs() < f64::EPSILON);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stream_hands_out_every_packet_of_its_track() {
    let mut stream = open_stream(
        fixture("import/call_02_16k.flac"),
        "flac",
        &AudioLimits::default(),
    )
    .expect("opens");
    assert_eq!(stream.track().sample_rate(), Some(16_000));
    assert_eq!(stream.track().channels(), Some(1));
    let mut frames = 0u64;
    while let Some(buffer) = stream.next_buffer().expect("decodes") {
        frames += buffer.frames() as u64;
    }
    assert!((seconds(frames, 16_000) - 31.013).abs() < 0.1, "{frames}");
    assert_eq!(
        open_error(b"RIFF\0\0\0\0WAVE".to_vec(), "wav", &AudioLimits::default()),
        AudioOpenError::Open("end of stream".to_owned())
    );
}
