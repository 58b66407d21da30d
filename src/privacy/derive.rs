//! The masked, minimised derivative of one item: what an annotator
//! receives instead of the original.
//!
//! A [`PrivacyPlan`] is decided at the site (masking decisions, a window,
//! the project's mask style) and [`derive`] turns the original's bytes into
//! the derivative in memory. The work packager and the admin's preview both
//! call it, so the preview is exactly what the annotator will see. Order:
//! masks are applied in the original's coordinates, then the window is cut,
//! then the result is re-encoded without metadata.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::audio_mask::{self, AudioRange};
use super::image_mask::{self, Crop, Region};
use super::pii::{self, Confidence, Detector, MaskStyle, PiiSpan, PiiType};
use super::window::Window;
use crate::model::ItemKind;

/// One masking decision's geometry, in the original's coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaskSpec {
    /// Characters `start..end` of a text item.
    Text {
        start: u64,
        end: u64,
        pii_type: PiiType,
    },
    /// A region of an image.
    Region { region: Region },
    /// A time range of a recording.
    Audio { range: AudioRange },
}

impl MaskSpec {
    pub fn fits(&self, kind: ItemKind) -> bool {
        matches!(
            (self, kind),
            (MaskSpec::Text { .. }, ItemKind::Text)
                | (MaskSpec::Region { .. }, ItemKind::Image)
                | (MaskSpec::Audio { .. }, ItemKind::Audio)
        )
    }

    /// Short words for lists and audit rows (never the masked content).
    pub fn describe(&self) -> String {
        match self {
            MaskSpec::Text {
                start,
                end,
                pii_type,
            } => format!("{} chars {start}..{end}", pii_type.tag()),
            MaskSpec::Region { region } => {
                let style = serde_json::to_value(region.style)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                match &region.shape {
                    image_mask::Shape::Rect { x, y, w, h } => {
                        format!("{style} rect {w:.0}×{h:.0} at ({x:.0}, {y:.0})")
                    }
                    image_mask::Shape::Polygon { points } => {
                        format!("{style} polygon of {} points", points.len())
                    }
                }
            }
            MaskSpec::Audio { range } => format!(
                "{} {:.3}–{:.3} s",
                match range.style {
                    audio_mask::AudioStyle::Mute => "mute",
                    audio_mask::AudioStyle::Tone => "tone",
                },
                range.start_secs,
                range.end_secs
            ),
        }
    }
}

/// A masking decision on an item, as stored and as the front ends show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mask {
    pub id: i64,
    pub item_id: i64,
    pub spec: MaskSpec,
    /// `proposed`, `accepted` or `rejected`.
    pub status: String,
    /// `detector`, `admin`, `template:<name>`, `label:<id>`, `transcript:<label id>`.
    pub source: String,
    /// Fingerprint of who proposed or drew it.
    pub created_by: String,
    pub at_ms: i64,
    /// Fingerprint of who accepted or rejected it.
    pub decided_by: Option<String>,
}

/// A named set of regions drawn on an image of `width`×`height`; applied
/// to images of another size, the regions scale with them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskTemplate {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub regions: Vec<Region>,
}

/// The project's text mask style (`mask_style` setting): `block`,
/// `tag` or `char:X`.
pub fn parse_mask_style(value: &str) -> Option<MaskStyle> {
    match value {
        "block" => Some(MaskStyle::Block),
        "tag" => Some(MaskStyle::Tag),
        _ => {
            let c = value.strip_prefix("char:")?;
            let mut chars = c.chars();
            let first = chars.next()?;
            (chars.next().is_none() && !first.is_control()).then_some(MaskStyle::Char(first))
        }
    }
}

/// Everything decided about one item's derivative.
#[derive(Clone, Debug, Default)]
pub struct PrivacyPlan {
    /// The item's privacy version this plan was made from (0: never decided).
    pub version: i64,
    pub window: Option<Window>,
    /// Accepted text spans (chars, original text).
    pub text_spans: Vec<(u64, u64, PiiType)>,
    /// Ranges that must stay readable: rejected proposals. Automatic
    /// detection skips spans that equal one of them.
    pub text_kept: Vec<(u64, u64)>,
    /// With `mask_pii = auto`: the detector, whose high-confidence spans
    /// are masked too unless rejected. Shared: a package plans thousands of
    /// items with one detector (building it compiles its patterns).
    pub auto: Option<Arc<Detector>>,
    pub style: Option<MaskStyle>,
    pub regions: Vec<Region>,
    pub audio: Vec<AudioRange>,
}

impl PrivacyPlan {
    /// Whether the bytes change at all for an item of this kind and format
    /// (metadata stripping counts as a change).
    pub fn changes(&self, kind: ItemKind, format: &str) -> bool {
        match kind {
            ItemKind::Text => {
                self.window.is_some() || !self.text_spans.is_empty() || self.auto.is_some()
            }
            ItemKind::Image | ItemKind::Audio => {
                let _ = format;
                true
            }
        }
    }

    /// The derivative's format name, known before any byte is read (the
    /// work package's item list is written first).
    pub fn derived_format(&self, kind: ItemKind, format: &str) -> String {
        match kind {
            ItemKind::Text => format.to_string(),
            ItemKind::Image => {
                if format == "jpeg" {
                    "jpeg".into()
                } else {
                    "png".into()
                }
            }
            ItemKind::Audio => {
                if !self.audio.is_empty() || self.window.is_some() || format == "ogg" {
                    "wav".into()
                } else {
                    format.to_string()
                }
            }
        }
    }

    /// The text spans to mask in `text`: the accepted ones plus, with
    /// automatic detection, every high-confidence proposal not rejected.
    pub fn text_mask_spans(&self, text: &str) -> Vec<PiiSpan> {
        let mut spans: Vec<PiiSpan> = self
            .text_spans
            .iter()
            .map(|&(start, end, kind)| span(start as usize, end as usize, kind))
            .collect();
        if let Some(detector) = &self.auto {
            spans.extend(detector.scan(text).into_iter().filter(|s| {
                s.confidence == Confidence::High
                    && !self.text_kept.contains(&(s.start as u64, s.end as u64))
            }));
        }
        spans
    }

    /// A transcript as the annotator sees it (same detection rules, length
    /// in chars unchanged).
    pub fn mask_transcript(&self, transcript: &str) -> String {
        match &self.auto {
            Some(detector) => {
                let spans: Vec<PiiSpan> = detector
                    .scan(transcript)
                    .into_iter()
                    .filter(|s| s.confidence == Confidence::High)
                    .collect();
                pii::mask(transcript, &spans, self.style.unwrap_or(MaskStyle::Block))
            }
            None => transcript.to_string(),
        }
    }
}

fn span(start: usize, end: usize, kind: PiiType) -> PiiSpan {
    PiiSpan {
        kind,
        start,
        end,
        byte_start: 0,
        byte_end: 0,
        text: String::new(),
        confidence: Confidence::High,
        detail: None,
    }
}

/// A derivative: bytes and what the annotator's item says about them.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub bytes: Vec<u8>,
    pub format: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
}

/// Why a derivative could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error("{0}")]
    Media(#[from] image_mask::MaskError),
    #[error("the text is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    #[error("the window does not fit: {0}")]
    Window(String),
    #[error("{0}")]
    Strip(#[from] super::metadata::StripError),
}

/// Limits for decoding at derivation time (the items passed import
/// limits already; these keep a changed limit from being bypassed).
#[derive(Clone, Copy, Debug)]
pub struct DeriveLimits {
    pub max_pixels: u64,
    pub max_audio_secs: f64,
}

/// Makes the derivative of `bytes` (an item of `kind` and `format`).
pub fn derive(
    kind: ItemKind,
    format: &str,
    bytes: &[u8],
    plan: &PrivacyPlan,
    limits: DeriveLimits,
) -> Result<Derived, DeriveError> {
    match kind {
        ItemKind::Text => {
            let text =
                std::str::from_utf8(bytes).map_err(|e| DeriveError::NotUtf8(e.valid_up_to()))?;
            let spans = plan.text_mask_spans(text);
            let masked = if spans.is_empty() {
                text.to_string()
            } else {
                pii::mask(text, &spans, plan.style.unwrap_or(MaskStyle::Block))
            };
            let out: String = match plan.window {
                Some(Window::Text { start, end }) => masked
                    .chars()
                    .skip(start as usize)
                    .take((end - start) as usize)
                    .collect(),
                Some(other) => {
                    return Err(DeriveError::Window(format!("{other:?} on a text")));
                }
                None => masked,
            };
            let char_len = out.chars().count() as u64;
            Ok(Derived {
                bytes: out.into_bytes(),
                format: format.to_string(),
                width: None,
                height: None,
                duration_secs: None,
                char_len: Some(char_len),
            })
        }
        ItemKind::Image => {
            let crop = match plan.window {
                Some(Window::Image { x, y, w, h }) => Some(Crop { x, y, w, h }),
                Some(other) => {
                    return Err(DeriveError::Window(format!("{other:?} on an image")));
                }
                None => None,
            };
            // Nothing to paint or cut: rebuild the file from its allowed
            // parts rather than re-encode (a JPEG would lose quality for
            // nothing).
            if plan.regions.is_empty() && crop.is_none() && matches!(format, "jpeg" | "png") {
                let out = super::metadata::strip_image(format, bytes)?;
                return Ok(Derived {
                    bytes: out,
                    format: format.to_string(),
                    width: None,
                    height: None,
                    duration_secs: None,
                    char_len: None,
                });
            }
            let (out, fmt, w, h) =
                image_mask::derive_image(bytes, format, &plan.regions, crop, limits.max_pixels)?;
            Ok(Derived {
                bytes: out,
                format: fmt.to_string(),
                width: Some(w),
                height: Some(h),
                duration_secs: None,
                char_len: None,
            })
        }
        ItemKind::Audio => {
            let window = match plan.window {
                Some(Window::Audio {
                    start_secs,
                    end_secs,
                }) => Some((start_secs, end_secs)),
                Some(other) => {
                    return Err(DeriveError::Window(format!("{other:?} on a recording")));
                }
                None => None,
            };
            let (out, fmt, secs) = audio_mask::derive_audio(
                bytes,
                format,
                &plan.audio,
                window,
                limits.max_audio_secs,
            )?;
            Ok(Derived {
                bytes: out,
                format: fmt.to_string(),
                width: None,
                height: None,
                duration_secs: Some(secs),
                char_len: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMITS: DeriveLimits = DeriveLimits {
        max_pixels: 1 << 26,
        max_audio_secs: 3600.0,
    };

    #[test]
    fn text_masks_accepted_and_auto_spans_but_not_rejected_ones_then_cuts() {
        let text = "Mail jane@example.com or call +44 20 7946 0958 today.";
        let mut plan = PrivacyPlan {
            auto: Some(Arc::new(Detector::default())),
            ..PrivacyPlan::default()
        };
        let all = derive(ItemKind::Text, "txt", text.as_bytes(), &plan, NO_LIMITS).unwrap();
        let all = String::from_utf8(all.bytes).unwrap();
        assert_eq!(all.chars().count(), text.chars().count());
        assert!(!all.contains("jane@") && !all.contains("7946"), "{all}");
        // The admin rejected the phone proposal and masked "today" by hand.
        plan.text_kept.push((30, 46));
        plan.text_spans.push((47, 52, PiiType::Other));
        plan.style = Some(MaskStyle::Char('X'));
        plan.window = Some(Window::Text { start: 25, end: 52 });
        let d = derive(ItemKind::Text, "txt", text.as_bytes(), &plan, NO_LIMITS).unwrap();
        assert_eq!(
            String::from_utf8(d.bytes).unwrap(),
            "call +44 20 7946 0958 XXXXX"
        );
        assert_eq!(d.char_len, Some(27));
    }

    #[test]
    fn mask_styles_parse() {
        assert_eq!(parse_mask_style("block"), Some(MaskStyle::Block));
        assert_eq!(parse_mask_style("char:*"), Some(MaskStyle::Char('*')));
        assert_eq!(parse_mask_style("char:**"), None);
        assert_eq!(parse_mask_style("blur"), None);
    }
}
