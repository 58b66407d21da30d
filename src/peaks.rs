//! Waveform overviews: the minimum and maximum sample of every block of
//! frames, computed by streaming decode (never holding the PCM), stored
//! encrypted in the bundle so a long recording reopens instantly.

use symphonia::core::audio::SampleBuffer;

use crate::media::audio::{AudioLimits, open_stream};

/// Frames per block: 256 at 16 kHz is 16 ms, fine enough to place a
/// segment edge by eye; a 3-hour recording gives 675k blocks (2.7 MB).
pub const FRAMES_PER_BLOCK: u32 = 256;
const MAGIC: &[u8; 8] = b"STPEAKS1";

#[derive(Debug, thiserror::Error)]
pub enum PeaksError {
    #[error("cannot decode the audio for its waveform: {0}")]
    Decode(String),
    #[error("stored waveform is damaged")]
    Damaged,
}

/// Min/max per block of the channels mixed down, as i16 (full scale ±32767).
#[derive(Clone, Debug, PartialEq)]
pub struct Peaks {
    pub sample_rate: u32,
    pub frames_per_block: u32,
    pub min: Vec<i16>,
    pub max: Vec<i16>,
}

impl Peaks {
    pub fn duration_secs(&self) -> f64 {
        self.min.len() as f64 * f64::from(self.frames_per_block)
            / f64::from(self.sample_rate.max(1))
    }

    /// Seconds covered by one block.
    pub fn block_secs(&self) -> f64 {
        f64::from(self.frames_per_block) / f64::from(self.sample_rate.max(1))
    }

    /// (min, max) over the blocks in `start_secs..end_secs`, for one pixel
    /// column of a zoomed-out waveform; `None` outside the recording.
    pub fn range(&self, start_secs: f64, end_secs: f64) -> Option<(i16, i16)> {
        let per = self.block_secs();
        let a = (start_secs / per).floor().max(0.0) as usize;
        let b = ((end_secs / per).ceil() as usize)
            .max(a + 1)
            .min(self.min.len());
        if a >= b {
            return None;
        }
        let lo = self.min.get(a..b)?.iter().copied().min()?;
        let hi = self.max.get(a..b)?.iter().copied().max()?;
        Some((lo, hi))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.min.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&self.frames_per_block.to_le_bytes());
        out.extend_from_slice(&(self.min.len() as u32).to_le_bytes());
        for (lo, hi) in self.min.iter().zip(&self.max) {
            out.extend_from_slice(&lo.to_le_bytes());
            out.extend_from_slice(&hi.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PeaksError> {
        let u32_at = |i: usize| -> Result<u32, PeaksError> {
            let b: [u8; 4] = bytes
                .get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or(PeaksError::Damaged)?;
            Ok(u32::from_le_bytes(b))
        };
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(PeaksError::Damaged);
        }
        let (sample_rate, frames_per_block, n) = (u32_at(8)?, u32_at(12)?, u32_at(16)? as usize);
        let body = bytes.get(20..).ok_or(PeaksError::Damaged)?;
        if body.len() != n * 4 {
            return Err(PeaksError::Damaged);
        }
        let (mut min, mut max) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for chunk in body.chunks_exact(4) {
            min.push(i16::from_le_bytes([chunk[0], chunk[1]]));
            max.push(i16::from_le_bytes([chunk[2], chunk[3]]));
        }
        Ok(Self {
            sample_rate,
            frames_per_block,
            min,
            max,
        })
    }
}

/// Encoded audio shared between the decoder thread, the waveform and the
/// player without copying it, wiped when the last of them drops it.
pub type SharedAudio = crate::crypto::SharedPlaintext;

/// Decodes `bytes` (`format`: wav, flac, ogg, mp3) packet by packet and
/// keeps only the per-block min/max: memory is the peaks, not the PCM.
pub fn compute_peaks(
    bytes: Vec<u8>,
    format: &str,
    frames_per_block: u32,
) -> Result<Peaks, PeaksError> {
    compute_peaks_shared(SharedAudio::new(bytes), format, frames_per_block)
}

/// [`compute_peaks`] over bytes that stay shared with others.
pub fn compute_peaks_shared(
    bytes: SharedAudio,
    format: &str,
    frames_per_block: u32,
) -> Result<Peaks, PeaksError> {
    // The hazard checks and limits of import: a damaged or hostile bundle cannot make the
    // waveform panic in a demuxer or allocate what a tag claims.
    let mut stream = open_stream(bytes, format, &AudioLimits::default())
        .map_err(|e| PeaksError::Decode(e.to_string()))?;
    let per = frames_per_block.max(1) as usize;
    let mut peaks = Peaks {
        sample_rate: stream.track().sample_rate().unwrap_or(0),
        frames_per_block: per as u32,
        min: vec![],
        max: vec![],
    };
    let (mut lo, mut hi, mut in_block) = (f32::MAX, f32::MIN, 0usize);
    let mut samples: Option<SampleBuffer<f32>> = None;
    loop {
        let decoded = match stream.next_buffer() {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) if e.packet_only => continue, // one bad packet: skip it, as players do
            Err(e) => return Err(PeaksError::Decode(e.message)),
        };
        let spec = *decoded.spec();
        if peaks.sample_rate == 0 {
            peaks.sample_rate = spec.rate;
        }
        let channels = spec.channels.count().max(1);
        let buf = samples.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
        if buf.capacity() < decoded.capacity() * channels {
            *buf = SampleBuffer::new(decoded.capacity() as u64, spec);
        }
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks(channels) {
            let v = frame.iter().sum::<f32>() / channels as f32;
            lo = lo.min(v);
            hi = hi.max(v);
            in_block += 1;
            if in_block == per {
                peaks.min.push((lo.clamp(-1.0, 1.0) * 32767.0) as i16);
                peaks.max.push((hi.clamp(-1.0, 1.0) * 32767.0) as i16);
                (lo, hi, in_block) = (f32::MAX, f32::MIN, 0);
            }
        }
    }
    if in_block > 0 {
        peaks.min.push((lo.clamp(-1.0, 1.0) * 32767.0) as i16);
        peaks.max.push((hi.clamp(-1.0, 1.0) * 32767.0) as i16);
    }
    if peaks.min.is_empty() {
        return Err(PeaksError::Decode("no samples".into()));
    }
    Ok(peaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit mono WAV of `secs` seconds: a 440 Hz sine at half scale for
    /// the first half, silence after.
    fn wav(rate: u32, secs: f64) -> Vec<u8> {
        let n = (f64::from(rate) * secs) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + n * 2).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(n * 2).to_le_bytes());
        for i in 0..n {
            let v = if i < n / 2 {
                (0.5 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / f64::from(rate)).sin()
                    * 32767.0) as i16
            } else {
                0
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    #[test]
    fn peaks_of_a_known_signal() {
        let peaks = compute_peaks(wav(16_000, 2.0), "wav", 256).unwrap();
        assert_eq!(peaks.sample_rate, 16_000);
        assert_eq!(peaks.min.len(), 125); // 32000 / 256
        assert!((peaks.duration_secs() - 2.0).abs() < 1e-9);
        // The sine half peaks at ±0.5 full scale; the silent half is 0.
        let (lo, hi) = peaks.range(0.0, 0.9).unwrap();
        assert!(
            (f64::from(hi) / 32767.0 - 0.5).abs() < 0.01
                && (f64::from(lo) / 32767.0 + 0.5).abs() < 0.01,
            "{lo} {hi}"
        );
        assert_eq!(peaks.range(1.1, 2.0), Some((0, 0)));
        assert_eq!(peaks.range(3.0, 4.0), None);
    }

    #[test]
    fn stored_form_round_trips_and_rejects_damage() {
        let peaks = compute_peaks(wav(8_000, 0.5), "wav", 128).unwrap();
        let bytes = peaks.to_bytes();
        assert_eq!(Peaks::from_bytes(&bytes).unwrap(), peaks);
        assert!(Peaks::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(Peaks::from_bytes(b"garbage").is_err());
    }

    #[test]
    fn every_fixture_format_gives_peaks_of_its_duration() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");
        for (file, format, secs) in [
            ("call_02_16k.flac", "flac", 31.013),
            ("call_03_22k.ogg", "ogg", 27.298),
            ("call_04_22k.mp3", "mp3", 29.243),
        ] {
            let bytes = std::fs::read(format!("{dir}/{file}")).unwrap();
            let peaks = compute_peaks(bytes, format, FRAMES_PER_BLOCK).unwrap();
            assert!(
                (peaks.duration_secs() - secs).abs() < 0.1,
                "{file}: {}",
                peaks.duration_secs()
            );
            assert!(peaks.max.iter().any(|v| *v > 1000), "{file} has speech");
        }
    }
}
