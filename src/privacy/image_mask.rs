//! STUB (replaced by the media-mask branch).
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegionStyle {
    #[default]
    Fill,
    Blur,
    Pixelate,
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    Rect { x: f64, y: f64, w: f64, h: f64 },
    Polygon { points: Vec<[f64; 2]> },
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    #[serde(flatten)]
    pub shape: Shape,
    #[serde(default)]
    pub style: RegionStyle,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("{0}")]
    Invalid(String),
}
pub fn derive_image(
    _bytes: &[u8],
    _format: &str,
    _regions: &[Region],
    _crop: Option<Crop>,
    _max_pixels: u64,
) -> Result<(Vec<u8>, &'static str, u32, u32), MaskError> {
    Err(MaskError::Invalid("stub".into()))
}
