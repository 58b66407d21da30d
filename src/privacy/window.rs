//! Minimisation windows: the part of an item a work package carries instead
//! of the whole — a crop of an image, an excerpt of a text, a time range of
//! a recording — and the exact mapping of labels between the window's
//! coordinates (what the annotator sees) and the original's.
//!
//! Every mapping is a translation by the window's origin: whole pixels for
//! images, whole characters for text, seconds for audio. Whole-pixel and
//! whole-character translations are exact; a time translation is exact for
//! times that are multiples of the recording's sample period, which is how
//! [`Window::snap_audio`] stores the window's start.

use serde::{Deserialize, Serialize};

use crate::model::{Geometry, Offset};

/// The part of an item an annotator receives.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// Pixels `x..x+w`, `y..y+h` of an image.
    Image { x: u32, y: u32, w: u32, h: u32 },
    /// Characters `start..end` (Unicode scalar values) of a text.
    Text { start: u64, end: u64 },
    /// Seconds `start_secs..end_secs` of a recording.
    Audio { start_secs: f64, end_secs: f64 },
}

impl Window {
    /// Short words for lists and reports (`crop 200×100 at (10, 20)`).
    pub fn describe(&self) -> String {
        match *self {
            Window::Image { x, y, w, h } => format!("crop {w}×{h} at ({x}, {y})"),
            Window::Text { start, end } => format!("chars {start}..{end}"),
            Window::Audio {
                start_secs,
                end_secs,
            } => format!("{start_secs:.3}–{end_secs:.3} s"),
        }
    }

    /// Checks the window against the item's size; says what is wrong.
    pub fn validate(
        &self,
        width: Option<u32>,
        height: Option<u32>,
        char_len: Option<u64>,
        duration: Option<f64>,
    ) -> Result<(), String> {
        match *self {
            Window::Image { x, y, w, h } => {
                let (Some(iw), Some(ih)) = (width, height) else {
                    return Err("a crop needs an image".into());
                };
                if w == 0 || h == 0 {
                    return Err("a crop must be at least one pixel wide and high".into());
                }
                if u64::from(x) + u64::from(w) > u64::from(iw)
                    || u64::from(y) + u64::from(h) > u64::from(ih)
                {
                    return Err(format!(
                        "crop {w}×{h} at ({x}, {y}) runs past the {iw}×{ih} image"
                    ));
                }
            }
            Window::Text { start, end } => {
                let Some(len) = char_len else {
                    return Err("an excerpt needs a text".into());
                };
                if start >= end || end > len {
                    return Err(format!(
                        "excerpt chars {start}..{end} is empty or runs past the text's {len} chars"
                    ));
                }
            }
            Window::Audio {
                start_secs,
                end_secs,
            } => {
                let Some(d) = duration else {
                    return Err("a time window needs a recording".into());
                };
                if !(start_secs.is_finite() && end_secs.is_finite())
                    || start_secs < 0.0
                    || start_secs >= end_secs
                    || end_secs > d + 1e-6
                {
                    return Err(format!(
                        "time window {start_secs:.3}–{end_secs:.3} s is empty or outside the {d:.3} s recording"
                    ));
                }
            }
        }
        Ok(())
    }

    /// An audio window with its start moved down to a whole sample and its
    /// end up to one, so the derivative starts exactly at `start_secs` and
    /// times map back without rounding.
    pub fn snap_audio(self, sample_rate: u32) -> Window {
        match self {
            Window::Audio {
                start_secs,
                end_secs,
            } if sample_rate > 0 => {
                let sr = f64::from(sample_rate);
                Window::Audio {
                    start_secs: (start_secs * sr).floor() / sr,
                    end_secs: (end_secs * sr).ceil() / sr,
                }
            }
            other => other,
        }
    }

    /// The window's size as the annotator's item has it: (width, height),
    /// chars, or seconds.
    pub fn extent(&self) -> (Option<(u32, u32)>, Option<u64>, Option<f64>) {
        match *self {
            Window::Image { w, h, .. } => (Some((w, h)), None, None),
            Window::Text { start, end } => (None, Some(end - start), None),
            Window::Audio {
                start_secs,
                end_secs,
            } => (None, None, Some(end_secs - start_secs)),
        }
    }

    /// A label of the original as the annotator sees it in the window, or
    /// `None` when it does not belong there: image labels that miss the
    /// crop entirely, spans and segments not wholly inside the window.
    /// Whole-item tags and relations pass unchanged.
    pub fn to_window(&self, g: &Geometry) -> Option<Geometry> {
        let inside = match *self {
            Window::Image { x, y, w, h } => bounds(g).is_none_or(|[x0, y0, x1, y1]| {
                let (dx, dy) = (f64::from(x), f64::from(y));
                let (cx1, cy1) = (dx + f64::from(w), dy + f64::from(h));
                !(x1 < dx || y1 < dy || x0 > cx1 || y0 > cy1)
            }),
            Window::Text { start, end } => {
                g.char_range().is_none_or(|(s, e)| s >= start && e <= end)
            }
            Window::Audio {
                start_secs,
                end_secs,
            } => g
                .time_range()
                .is_none_or(|(s, e)| s >= start_secs && e <= end_secs),
        };
        inside.then(|| g.moved(self.origin(-1)))
    }

    /// A label drawn in the window, in the original's coordinates.
    pub fn from_window(&self, g: &Geometry) -> Geometry {
        g.moved(self.origin(1))
    }

    /// The window's origin in the original, times `sign`: the move that
    /// takes a label out of the window (1) or into it (-1). A label moves
    /// only by the unit it is placed in, so a tag or relation (or a label
    /// of another kind of item, which cannot occur) passes unchanged.
    fn origin(&self, sign: i8) -> Offset {
        let k = f64::from(sign);
        match *self {
            Window::Image { x, y, .. } => Offset {
                x: k * f64::from(x),
                y: k * f64::from(y),
                ..Offset::default()
            },
            Window::Text { start, .. } => Offset {
                chars: i64::from(sign).saturating_mul(i64::try_from(start).unwrap_or(i64::MAX)),
                ..Offset::default()
            },
            Window::Audio { start_secs, .. } => Offset {
                secs: k * start_secs,
                ..Offset::default()
            },
        }
    }
}

/// `[x0, y0, x1, y1]` of an image label; `None` for labels without points.
pub fn bounds(g: &Geometry) -> Option<[f64; 4]> {
    g.bounds().map(|b| [b.x, b.y, b.x + b.w, b.y + b.h])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BBox;

    #[test]
    fn image_labels_round_trip_exactly_and_outside_ones_stay_home() {
        let w = Window::Image {
            x: 476,
            y: 600,
            w: 300,
            h: 150,
        };
        let plate = Geometry::BBox(BBox {
            x: 476.25,
            y: 640.5,
            w: 248.0,
            h: 54.0,
        });
        let seen = w.to_window(&plate).unwrap();
        assert_eq!(
            seen,
            Geometry::BBox(BBox {
                x: 0.25,
                y: 40.5,
                w: 248.0,
                h: 54.0
            })
        );
        assert_eq!(w.from_window(&seen), plate);
        let poly = Geometry::Polygon {
            points: vec![[500.125, 610.0], [700.0, 700.75], [520.0, 740.0]],
        };
        assert_eq!(w.from_window(&w.to_window(&poly).unwrap()), poly);
        let far = Geometry::Point { x: 10.0, y: 10.0 };
        assert_eq!(w.to_window(&far), None);
        assert_eq!(w.to_window(&Geometry::Tag), Some(Geometry::Tag));
    }

    #[test]
    fn spans_and_segments_map_by_their_window_start() {
        let t = Window::Text { start: 10, end: 50 };
        let span = Geometry::Span {
            start: 12,
            end: 20,
            byte_start: 0,
            byte_end: 0,
        };
        assert_eq!(t.from_window(&t.to_window(&span).unwrap()), span);
        // Straddling the excerpt's edge: not sent.
        let edge = Geometry::Span {
            start: 45,
            end: 55,
            byte_start: 0,
            byte_end: 0,
        };
        assert_eq!(t.to_window(&edge), None);
        let a = Window::Audio {
            start_secs: 5.05,
            end_secs: 12.0,
        }
        .snap_audio(16_000);
        let Window::Audio { start_secs, .. } = a else {
            unreachable!()
        };
        assert_eq!((start_secs * 16_000.0).round(), 80_800.0);
        let seg = Geometry::Segment {
            start_secs: 1.5,
            end_secs: 2.25,
            transcript: "hello".into(),
        };
        let back = a.from_window(&seg);
        let Geometry::Segment {
            start_secs: s,
            end_secs: e,
            ..
        } = back
        else {
            unreachable!()
        };
        assert_eq!(s, 1.5 + start_secs);
        assert_eq!(e, 2.25 + start_secs);
    }

    #[test]
    fn validation_names_the_problem() {
        let crop = Window::Image {
            x: 1000,
            y: 0,
            w: 300,
            h: 10,
        };
        let err = crop
            .validate(Some(1200), Some(800), None, None)
            .unwrap_err();
        assert!(err.contains("runs past the 1200×800 image"), "{err}");
        assert!(
            Window::Text { start: 5, end: 5 }
                .validate(None, None, Some(10), None)
                .is_err()
        );
        assert!(
            Window::Audio {
                start_secs: 1.0,
                end_secs: 40.0
            }
            .validate(None, None, None, Some(35.9))
            .is_err()
        );
    }
}
