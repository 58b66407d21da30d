//! STUB (replaced by the media-mask branch).
use serde::{Deserialize, Serialize};

pub use super::image_mask::MaskError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AudioStyle {
    #[default]
    Mute,
    Tone,
}
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioRange {
    pub start_secs: f64,
    pub end_secs: f64,
    #[serde(default)]
    pub style: AudioStyle,
}
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
}
pub fn decode_pcm(_bytes: &[u8], _format: &str, _max_secs: f64) -> Result<Pcm, MaskError> {
    Err(MaskError::Invalid("stub".into()))
}
pub fn derive_audio(
    _bytes: &[u8],
    _format: &str,
    _ranges: &[AudioRange],
    _window: Option<(f64, f64)>,
    _max_secs: f64,
) -> Result<(Vec<u8>, &'static str, f64), MaskError> {
    Err(MaskError::Invalid("stub".into()))
}
