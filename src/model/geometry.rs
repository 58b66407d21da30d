//! The geometry of a label — what a labelling tool draws — and the
//! questions the rest of the program asks of it (where it lies, what it
//! encloses, how it moves). Each question is one exhaustive `match` here,
//! so a new kind of geometry is decided in this file; callers ask instead
//! of matching on variants.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use super::{ItemKind, ItemSummary};

/// A labelling tool, i.e. a kind of geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    #[serde(rename = "bbox")]
    BBox,
    Polygon,
    Polyline,
    Point,
    Keypoints,
    /// Whole-item classification (image, audio or document class).
    Tag,
    /// A time range of an audio item, with its transcript.
    Segment,
    /// A character range of a text item (NER span).
    Span,
    /// A typed link between two labels of the same item.
    Relation,
}

impl Tool {
    pub const ALL: [Tool; 9] = [
        Tool::BBox,
        Tool::Polygon,
        Tool::Polyline,
        Tool::Point,
        Tool::Keypoints,
        Tool::Tag,
        Tool::Segment,
        Tool::Span,
        Tool::Relation,
    ];

    /// The item kinds a tool applies to.
    pub fn applies_to(self, kind: ItemKind) -> bool {
        match self {
            Tool::Tag => true,
            Tool::Segment => kind == ItemKind::Audio,
            Tool::Span | Tool::Relation => kind == ItemKind::Text,
            // Named, not `_`: a new tool must say where it applies.
            Tool::BBox | Tool::Polygon | Tool::Polyline | Tool::Point | Tool::Keypoints => {
                kind == ItemKind::Image
            }
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::BBox => "bbox",
            Tool::Polygon => "polygon",
            Tool::Polyline => "polyline",
            Tool::Point => "point",
            Tool::Keypoints => "keypoints",
            Tool::Tag => "tag",
            Tool::Segment => "segment",
            Tool::Span => "span",
            Tool::Relation => "relation",
        }
    }
    /// The kind's name for many of them, as "… cannot be expressed in X"
    /// messages say it.
    pub fn plural(self) -> &'static str {
        match self {
            Tool::BBox => "boxes",
            Tool::Polygon => "polygons",
            Tool::Polyline => "polylines",
            Tool::Point => "points",
            Tool::Keypoints => "keypoints",
            Tool::Tag => "tags",
            Tool::Segment => "segments",
            Tool::Span => "spans",
            Tool::Relation => "relations",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Tool::BBox => "Box",
            Tool::Polygon => "Polygon",
            Tool::Polyline => "Polyline",
            Tool::Point => "Point",
            Tool::Keypoints => "Keypoints",
            Tool::Tag => "Tag",
            Tool::Segment => "Segment",
            Tool::Span => "Span",
            Tool::Relation => "Relation",
        }
    }
}

/// An axis-aligned box in original-image pixel coordinates.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BBox {
    /// Builds a box from two corners in any order.
    pub fn from_corners(a: (f64, f64), b: (f64, f64)) -> Self {
        BBox {
            x: a.0.min(b.0),
            y: a.1.min(b.1),
            w: (a.0 - b.0).abs(),
            h: (a.1 - b.1).abs(),
        }
    }
    /// Clamps the box into an image of `width` × `height` pixels.
    pub fn clamped(self, width: f64, height: f64) -> Self {
        let x0 = self.x.clamp(0.0, width);
        let y0 = self.y.clamp(0.0, height);
        let x1 = (self.x + self.w).clamp(0.0, width);
        let y1 = (self.y + self.h).clamp(0.0, height);
        BBox::from_corners((x0, y0), (x1, y1))
    }
    pub fn contains(&self, px: f64, py: f64) -> bool {
        px >= self.x && px <= self.x + self.w && py >= self.y && py <= self.y + self.h
    }
    pub fn is_valid(&self) -> bool {
        [self.x, self.y, self.w, self.h]
            .iter()
            .all(|v| v.is_finite())
            && self.w > 0.0
            && self.h > 0.0
    }
}

/// One keypoint of a skeleton; `visible = false` means occluded.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Keypoint {
    pub x: f64,
    pub y: f64,
    pub visible: bool,
}

/// Geometry of one annotation, in the item's original pixel coordinates
/// (origin top-left, x right, y down).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Geometry {
    #[serde(rename = "bbox")]
    BBox(BBox),
    Polygon {
        points: Vec<[f64; 2]>,
    },
    Polyline {
        points: Vec<[f64; 2]>,
    },
    Point {
        x: f64,
        y: f64,
    },
    Keypoints {
        points: Vec<Keypoint>,
    },
    /// Whole-item classification: the class is the label.
    Tag,
    /// `start_secs`..`end_secs` of an audio item, with what is said in it.
    Segment {
        start_secs: f64,
        end_secs: f64,
        #[serde(default)]
        transcript: String,
    },
    /// Characters `start`..`end` (Unicode scalar values, end-exclusive) of a
    /// text item, and the same range in UTF-8 bytes (computed by the
    /// controller from the text, never trusted from the caller).
    Span {
        start: u64,
        end: u64,
        #[serde(default)]
        byte_start: u64,
        #[serde(default)]
        byte_end: u64,
    },
    /// A typed (by class) link from one label to another on the same item.
    Relation {
        from: i64,
        to: i64,
    },
}

impl Geometry {
    pub fn tool(&self) -> Tool {
        match self {
            Geometry::BBox(_) => Tool::BBox,
            Geometry::Polygon { .. } => Tool::Polygon,
            Geometry::Polyline { .. } => Tool::Polyline,
            Geometry::Point { .. } => Tool::Point,
            Geometry::Keypoints { .. } => Tool::Keypoints,
            Geometry::Tag => Tool::Tag,
            Geometry::Segment { .. } => Tool::Segment,
            Geometry::Span { .. } => Tool::Span,
            Geometry::Relation { .. } => Tool::Relation,
        }
    }

    /// Every coordinate pair, in order (image geometry only).
    pub fn points(&self) -> Vec<[f64; 2]> {
        match self {
            Geometry::BBox(b) => vec![[b.x, b.y], [b.x + b.w, b.y + b.h]],
            Geometry::Polygon { points } | Geometry::Polyline { points } => points.clone(),
            Geometry::Point { x, y } => vec![[*x, *y]],
            Geometry::Keypoints { points } => points.iter().map(|p| [p.x, p.y]).collect(),
            Geometry::Tag
            | Geometry::Segment { .. }
            | Geometry::Span { .. }
            | Geometry::Relation { .. } => vec![],
        }
    }

    /// The enclosing box (`None` for tags).
    pub fn bounds(&self) -> Option<BBox> {
        let pts = self.points();
        let first = pts.first()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first[0], first[1], first[0], first[1]);
        for p in &pts {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        Some(BBox::from_corners((x0, y0), (x1, y1)))
    }

    /// The same shape moved by (dx, dy) pixels.
    pub fn translated(&self, dx: f64, dy: f64) -> Geometry {
        self.moved(Offset {
            x: dx,
            y: dy,
            ..Offset::default()
        })
    }

    /// Every coordinate pulled inside a `width` × `height` image (snap to edge).
    pub fn clamped(&self, width: f64, height: f64) -> Geometry {
        let c = |p: &[f64; 2]| [p[0].clamp(0.0, width), p[1].clamp(0.0, height)];
        match self {
            Geometry::BBox(b) => Geometry::BBox(b.clamped(width, height)),
            Geometry::Polygon { points } => Geometry::Polygon {
                points: points.iter().map(c).collect(),
            },
            Geometry::Polyline { points } => Geometry::Polyline {
                points: points.iter().map(c).collect(),
            },
            Geometry::Point { x, y } => Geometry::Point {
                x: x.clamp(0.0, width),
                y: y.clamp(0.0, height),
            },
            Geometry::Keypoints { points } => Geometry::Keypoints {
                points: points
                    .iter()
                    .map(|k| Keypoint {
                        x: k.x.clamp(0.0, width),
                        y: k.y.clamp(0.0, height),
                        ..*k
                    })
                    .collect(),
            },
            other => other.clone(),
        }
    }

    /// Checks the shape is well formed and inside a `width` × `height`
    /// image; the message says what is wrong.
    pub fn validate(&self, extent: &Extent) -> Result<(), String> {
        let (width, height) = (extent.width, extent.height);
        match self {
            Geometry::Segment {
                start_secs,
                end_secs,
                ..
            } => {
                if !start_secs.is_finite()
                    || !end_secs.is_finite()
                    || *start_secs < 0.0
                    || end_secs <= start_secs
                {
                    return Err(format!(
                        "a segment needs 0 ≤ start < end, got {start_secs:.3}–{end_secs:.3} s"
                    ));
                }
                if *end_secs > extent.duration_secs + 1e-3 {
                    return Err(format!(
                        "segment end {end_secs:.3} s is past the end of the {:.3} s recording",
                        extent.duration_secs
                    ));
                }
                return Ok(());
            }
            Geometry::Span { start, end, .. } => {
                if start >= end {
                    return Err(format!("a span needs start < end, got {start}–{end}"));
                }
                if *end > extent.char_len {
                    return Err(format!(
                        "span end {end} is past the end of the text ({} characters)",
                        extent.char_len
                    ));
                }
                return Ok(());
            }
            Geometry::Relation { from, to } => {
                if from == to {
                    return Err("a relation links two different labels".into());
                }
                return Ok(());
            }
            Geometry::BBox(_)
            | Geometry::Polygon { .. }
            | Geometry::Polyline { .. }
            | Geometry::Point { .. }
            | Geometry::Keypoints { .. }
            | Geometry::Tag => {}
        }
        let pts = self.points();
        if pts.iter().flatten().any(|v| !v.is_finite()) {
            return Err("coordinates must be finite numbers".into());
        }
        let min_points = match self {
            Geometry::BBox(b) => {
                if !b.is_valid() {
                    return Err("a box needs a positive width and height".into());
                }
                2
            }
            Geometry::Polygon { .. } => 3,
            Geometry::Polyline { .. } => 2,
            Geometry::Point { .. } => 1,
            Geometry::Keypoints { .. } => 1,
            Geometry::Tag
            | Geometry::Segment { .. }
            | Geometry::Span { .. }
            | Geometry::Relation { .. } => 0,
        };
        if pts.len() < min_points {
            return Err(format!(
                "a {} needs at least {min_points} points",
                self.tool().label().to_lowercase()
            ));
        }
        const EPS: f64 = 1e-6;
        if let Some(p) = pts
            .iter()
            .find(|p| p[0] < -EPS || p[1] < -EPS || p[0] > width + EPS || p[1] > height + EPS)
        {
            return Err(format!(
                "point {:.1},{:.1} lies outside the {width}×{height} image",
                p[0], p[1]
            ));
        }
        Ok(())
    }
}

/// What a label is placed on: a place in an image, a time range of a
/// recording, a character range of a text, or the item as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Medium {
    Image,
    Audio,
    Text,
    /// Tags and relations: not placed anywhere inside the item.
    Item,
}

impl Medium {
    /// Whether a label on this medium can sit on an item of `kind`.
    pub fn fits(self, kind: ItemKind) -> bool {
        match self {
            Medium::Image => kind == ItemKind::Image,
            Medium::Audio => kind == ItemKind::Audio,
            Medium::Text => kind == ItemKind::Text,
            Medium::Item => true,
        }
    }
}

/// Where a label sits in its item and the numbers that place it; see
/// `Geometry::place`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place<'a> {
    Image,
    Time {
        start_secs: f64,
        end_secs: f64,
        transcript: &'a str,
    },
    Chars {
        start: u64,
        end: u64,
    },
    /// The whole item; a relation also links two labels.
    Item {
        link: Option<(i64, i64)>,
    },
}

/// The outline of an image label, as drawing, hit-testing, masking and the
/// exporters use it. A new image geometry answers with the closest of
/// these and every such caller handles it without change.
#[derive(Clone, Debug, PartialEq)]
pub enum Outline<'a> {
    /// An axis-aligned box.
    Rect(BBox),
    /// A closed ring of points (the last joins the first).
    Closed(Cow<'a, [[f64; 2]]>),
    /// An open line through the points.
    Open(Cow<'a, [[f64; 2]]>),
    /// Separate points.
    Dots(Vec<[f64; 2]>),
    /// Not drawn on an image (tags, segments, spans, relations).
    Nothing,
}

impl Outline<'_> {
    /// The area the outline encloses, if it encloses one: a box, or a ring
    /// of at least three points.
    pub fn encloses(&self) -> bool {
        match self {
            Outline::Rect(_) => true,
            Outline::Closed(points) => points.len() >= 3,
            Outline::Open(_) | Outline::Dots(_) | Outline::Nothing => false,
        }
    }
}

/// A move of a label within its item, in each unit labels are placed by:
/// pixels, characters and seconds. A label moves by the part in its own
/// unit and ignores the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Offset {
    pub x: f64,
    pub y: f64,
    pub chars: i64,
    pub secs: f64,
}

/// The questions callers ask instead of matching on variants.
impl Geometry {
    /// Where the label sits in its item, with the numbers that place it:
    /// the one match the placement questions below are answered from.
    fn place(&self) -> Place<'_> {
        match self {
            Geometry::BBox(_)
            | Geometry::Polygon { .. }
            | Geometry::Polyline { .. }
            | Geometry::Point { .. }
            | Geometry::Keypoints { .. } => Place::Image,
            Geometry::Segment {
                start_secs,
                end_secs,
                transcript,
            } => Place::Time {
                start_secs: *start_secs,
                end_secs: *end_secs,
                transcript,
            },
            Geometry::Span { start, end, .. } => Place::Chars {
                start: *start,
                end: *end,
            },
            Geometry::Tag => Place::Item { link: None },
            Geometry::Relation { from, to } => Place::Item {
                link: Some((*from, *to)),
            },
        }
    }

    /// What the label is placed on.
    pub fn medium(&self) -> Medium {
        match self.place() {
            Place::Image => Medium::Image,
            Place::Time { .. } => Medium::Audio,
            Place::Chars { .. } => Medium::Text,
            Place::Item { .. } => Medium::Item,
        }
    }

    /// The outline on the image; see [`Outline`].
    pub fn outline(&self) -> Outline<'_> {
        match self {
            Geometry::BBox(b) => Outline::Rect(*b),
            Geometry::Polygon { points } => Outline::Closed(Cow::Borrowed(points)),
            Geometry::Polyline { points } => Outline::Open(Cow::Borrowed(points)),
            Geometry::Point { .. } | Geometry::Keypoints { .. } => Outline::Dots(self.points()),
            Geometry::Tag
            | Geometry::Segment { .. }
            | Geometry::Span { .. }
            | Geometry::Relation { .. } => Outline::Nothing,
        }
    }

    /// `start_secs`..`end_secs` of a label placed in time (a segment).
    pub fn time_range(&self) -> Option<(f64, f64)> {
        match self.place() {
            Place::Time {
                start_secs,
                end_secs,
                ..
            } => Some((start_secs, end_secs)),
            Place::Image | Place::Chars { .. } | Place::Item { .. } => None,
        }
    }

    /// Characters `start`..`end` of a label placed in a text (a span).
    pub fn char_range(&self) -> Option<(u64, u64)> {
        match self.place() {
            Place::Chars { start, end } => Some((start, end)),
            Place::Image | Place::Time { .. } | Place::Item { .. } => None,
        }
    }

    /// The words a label carries (a segment's transcript): the text that
    /// PII scanning, masking and the audit trail's reduction must see.
    pub fn transcript(&self) -> Option<&str> {
        match self.place() {
            Place::Time { transcript, .. } => Some(transcript),
            Place::Image | Place::Chars { .. } | Place::Item { .. } => None,
        }
    }

    /// The transcript to change in place (see [`Geometry::transcript`]):
    /// segments are the one kind with words, so a new kind that carries
    /// text answers here as well as in `place`.
    pub fn transcript_mut(&mut self) -> Option<&mut String> {
        if let Geometry::Segment { transcript, .. } = self {
            Some(transcript)
        } else {
            None
        }
    }

    /// Sets the UTF-8 byte range of a span (computed from the text it
    /// indexes); other labels are unchanged.
    pub fn set_byte_range(&mut self, start: u64, end: u64) {
        if let Geometry::Span {
            byte_start,
            byte_end,
            ..
        } = self
        {
            (*byte_start, *byte_end) = (start, end);
        }
    }

    /// The two labels a relation links.
    pub fn linked(&self) -> Option<(i64, i64)> {
        match self.place() {
            Place::Item { link } => link,
            Place::Image | Place::Time { .. } | Place::Chars { .. } => None,
        }
    }

    /// The vertices a person can drag one by one (boxes are resized by
    /// their corners and a point moves as a whole, so they have none).
    pub fn vertices(&self) -> Vec<[f64; 2]> {
        match self {
            Geometry::Polygon { .. } | Geometry::Polyline { .. } | Geometry::Keypoints { .. } => {
                self.points()
            }
            Geometry::BBox(_)
            | Geometry::Point { .. }
            | Geometry::Tag
            | Geometry::Segment { .. }
            | Geometry::Span { .. }
            | Geometry::Relation { .. } => vec![],
        }
    }

    /// The same shape with vertex `index` (of [`Geometry::vertices`]) at `p`;
    /// unchanged when there is no such vertex.
    pub fn with_vertex(&self, index: usize, p: [f64; 2]) -> Geometry {
        let mut g = self.clone();
        match &mut g {
            Geometry::Polygon { points } | Geometry::Polyline { points } => {
                if let Some(v) = points.get_mut(index) {
                    *v = p;
                }
            }
            Geometry::Keypoints { points } => {
                if let Some(k) = points.get_mut(index) {
                    (k.x, k.y) = (p[0], p[1]);
                }
            }
            Geometry::BBox(_)
            | Geometry::Point { .. }
            | Geometry::Tag
            | Geometry::Segment { .. }
            | Geometry::Span { .. }
            | Geometry::Relation { .. } => {}
        }
        g
    }

    /// The same label moved by `by`: image shapes by its pixels, spans by
    /// its characters (their byte offsets are cleared: they belong to the
    /// text they were computed from), segments by its seconds. Tags and
    /// relations are not placed and do not move.
    pub fn moved(&self, by: Offset) -> Geometry {
        let mv = |p: &[f64; 2]| [p[0] + by.x, p[1] + by.y];
        match self {
            Geometry::BBox(b) => Geometry::BBox(BBox {
                x: b.x + by.x,
                y: b.y + by.y,
                ..*b
            }),
            Geometry::Polygon { points } => Geometry::Polygon {
                points: points.iter().map(mv).collect(),
            },
            Geometry::Polyline { points } => Geometry::Polyline {
                points: points.iter().map(mv).collect(),
            },
            Geometry::Point { x, y } => Geometry::Point {
                x: x + by.x,
                y: y + by.y,
            },
            Geometry::Keypoints { points } => Geometry::Keypoints {
                points: points
                    .iter()
                    .map(|k| Keypoint {
                        x: k.x + by.x,
                        y: k.y + by.y,
                        ..*k
                    })
                    .collect(),
            },
            Geometry::Segment {
                start_secs,
                end_secs,
                transcript,
            } => Geometry::Segment {
                start_secs: start_secs + by.secs,
                end_secs: end_secs + by.secs,
                transcript: transcript.clone(),
            },
            Geometry::Span { start, end, .. } => Geometry::Span {
                start: start.saturating_add_signed(by.chars),
                end: end.saturating_add_signed(by.chars),
                byte_start: 0,
                byte_end: 0,
            },
            Geometry::Tag | Geometry::Relation { .. } => self.clone(),
        }
    }

    /// Short words for label lists (`bbox 1.0,2.0 3.0x4.0`,
    /// `span chars 3–9`); a segment's transcript is quoted in full.
    pub fn describe(&self) -> String {
        match self {
            Geometry::BBox(b) => format!("bbox {:.1},{:.1} {:.1}x{:.1}", b.x, b.y, b.w, b.h),
            Geometry::Polygon { .. }
            | Geometry::Polyline { .. }
            | Geometry::Point { .. }
            | Geometry::Keypoints { .. } => {
                format!("{} ({} points)", self.tool().as_str(), self.points().len())
            }
            Geometry::Tag => "tag".to_string(),
            Geometry::Segment {
                start_secs,
                end_secs,
                transcript,
            } => format!("segment {start_secs:.3}–{end_secs:.3} s \"{transcript}\""),
            Geometry::Span { start, end, .. } => format!("span chars {start}–{end}"),
            Geometry::Relation { from, to } => format!("relation #{from} → #{to}"),
        }
    }

    /// The label as the append-only audit trail records it: positions and
    /// ids, never content — a transcript is reduced to its length, so
    /// erasing an item leaves nothing of its words in the trail.
    pub fn audit_json(&self) -> serde_json::Value {
        match self.place() {
            Place::Time {
                start_secs,
                end_secs,
                transcript,
            } => {
                serde_json::json!({"segment": {"start_secs": start_secs, "end_secs": end_secs, "transcript_chars": transcript.chars().count()}})
            }
            Place::Image | Place::Chars { .. } | Place::Item { .. } => serde_json::json!(self),
        }
    }
}

/// The size of an item in each unit labels use; validation checks
/// geometry against it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extent {
    pub width: f64,
    pub height: f64,
    pub duration_secs: f64,
    pub char_len: u64,
}

impl Extent {
    pub fn of(item: &ItemSummary) -> Self {
        Self {
            width: item.width.unwrap_or(0) as f64,
            height: item.height.unwrap_or(0) as f64,
            duration_secs: item.duration_secs.unwrap_or(0.0),
            char_len: item.char_len.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox() -> Geometry {
        Geometry::BBox(BBox {
            x: 10.0,
            y: 20.0,
            w: 30.0,
            h: 40.0,
        })
    }
    fn triangle() -> Geometry {
        Geometry::Polygon {
            points: vec![[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]],
        }
    }
    fn line() -> Geometry {
        Geometry::Polyline {
            points: vec![[1.0, 1.0], [5.0, 2.0]],
        }
    }
    fn keypoints() -> Geometry {
        Geometry::Keypoints {
            points: vec![
                Keypoint {
                    x: 2.0,
                    y: 3.0,
                    visible: true,
                },
                Keypoint {
                    x: 8.0,
                    y: 1.0,
                    visible: false,
                },
            ],
        }
    }
    fn segment() -> Geometry {
        Geometry::Segment {
            start_secs: 1.5,
            end_secs: 4.0,
            transcript: "hello there".into(),
        }
    }
    fn span() -> Geometry {
        Geometry::Span {
            start: 5,
            end: 9,
            byte_start: 6,
            byte_end: 11,
        }
    }
    const RELATION: Geometry = Geometry::Relation { from: 3, to: 4 };

    #[test]
    fn medium_says_where_each_kind_is_placed() {
        assert_eq!(bbox().medium(), Medium::Image);
        assert_eq!(keypoints().medium(), Medium::Image);
        assert_eq!(segment().medium(), Medium::Audio);
        assert_eq!(span().medium(), Medium::Text);
        assert_eq!(Geometry::Tag.medium(), Medium::Item);
        assert_eq!(RELATION.medium(), Medium::Item);
        assert!(Medium::Item.fits(ItemKind::Audio));
        assert!(!Medium::Image.fits(ItemKind::Text));
    }

    #[test]
    fn outline_of_each_kind() {
        let Geometry::BBox(b) = bbox() else {
            unreachable!()
        };
        assert_eq!(bbox().outline(), Outline::Rect(b));
        assert_eq!(
            triangle().outline(),
            Outline::Closed(Cow::Owned(vec![[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]]))
        );
        assert_eq!(
            line().outline(),
            Outline::Open(Cow::Owned(vec![[1.0, 1.0], [5.0, 2.0]]))
        );
        assert_eq!(
            Geometry::Point { x: 1.0, y: 2.0 }.outline(),
            Outline::Dots(vec![[1.0, 2.0]])
        );
        assert_eq!(
            keypoints().outline(),
            Outline::Dots(vec![[2.0, 3.0], [8.0, 1.0]])
        );
        for g in [Geometry::Tag, segment(), span(), RELATION] {
            assert_eq!(g.outline(), Outline::Nothing);
        }
        assert!(bbox().outline().encloses());
        assert!(triangle().outline().encloses());
        assert!(!line().outline().encloses());
        let two = Geometry::Polygon {
            points: vec![[0.0, 0.0], [1.0, 1.0]],
        };
        assert!(!two.outline().encloses());
    }

    #[test]
    fn bounds_of_image_kinds_only() {
        assert_eq!(
            triangle().bounds(),
            Some(BBox {
                x: 0.0,
                y: 0.0,
                w: 4.0,
                h: 3.0
            })
        );
        assert_eq!(
            keypoints().bounds(),
            Some(BBox {
                x: 2.0,
                y: 1.0,
                w: 6.0,
                h: 2.0
            })
        );
        assert_eq!(segment().bounds(), None);
        assert_eq!(Geometry::Tag.bounds(), None);
    }

    #[test]
    fn ranges_transcript_and_links() {
        assert_eq!(segment().time_range(), Some((1.5, 4.0)));
        assert_eq!(span().time_range(), None);
        assert_eq!(span().char_range(), Some((5, 9)));
        assert_eq!(segment().char_range(), None);
        assert_eq!(segment().transcript(), Some("hello there"));
        assert_eq!(Geometry::Tag.transcript(), None);
        assert_eq!(RELATION.linked(), Some((3, 4)));
        assert_eq!(bbox().linked(), None);

        let mut g = segment();
        if let Some(t) = g.transcript_mut() {
            t.push('!');
        }
        assert_eq!(g.transcript(), Some("hello there!"));
        let mut s = span();
        s.set_byte_range(7, 12);
        assert_eq!(
            s,
            Geometry::Span {
                start: 5,
                end: 9,
                byte_start: 7,
                byte_end: 12
            }
        );
        let mut b = bbox();
        b.set_byte_range(1, 2);
        assert_eq!(b, bbox());
    }

    #[test]
    fn vertices_and_with_vertex() {
        assert_eq!(bbox().vertices(), Vec::<[f64; 2]>::new());
        assert_eq!(line().vertices(), vec![[1.0, 1.0], [5.0, 2.0]]);
        assert_eq!(
            line().with_vertex(1, [9.0, 9.0]),
            Geometry::Polyline {
                points: vec![[1.0, 1.0], [9.0, 9.0]]
            }
        );
        let moved = keypoints().with_vertex(1, [0.5, 0.25]);
        let Geometry::Keypoints { points } = moved else {
            unreachable!()
        };
        assert_eq!(
            (points[1].x, points[1].y, points[1].visible),
            (0.5, 0.25, false)
        );
        // Out of range, or a kind without vertices: unchanged.
        assert_eq!(triangle().with_vertex(7, [1.0, 1.0]), triangle());
        assert_eq!(bbox().with_vertex(0, [1.0, 1.0]), bbox());
    }

    #[test]
    fn moved_by_each_unit_and_back() {
        let by = Offset {
            x: 3.0,
            y: -2.0,
            chars: 4,
            secs: 0.5,
        };
        let back = Offset {
            x: -3.0,
            y: 2.0,
            chars: -4,
            secs: -0.5,
        };
        assert_eq!(
            bbox().moved(by),
            Geometry::BBox(BBox {
                x: 13.0,
                y: 18.0,
                w: 30.0,
                h: 40.0
            })
        );
        assert_eq!(
            segment().moved(by).time_range(),
            Some((2.0, 4.5)),
            "seconds only"
        );
        // A moved span forgets its byte offsets (they index another text).
        assert_eq!(
            span().moved(by),
            Geometry::Span {
                start: 9,
                end: 13,
                byte_start: 0,
                byte_end: 0
            }
        );
        for g in [bbox(), triangle(), line(), keypoints(), segment()] {
            assert_eq!(g.moved(by).moved(back), g);
        }
        assert_eq!(Geometry::Tag.moved(by), Geometry::Tag);
        assert_eq!(RELATION.moved(by), RELATION);
        assert_eq!(
            Geometry::Point { x: 1.0, y: 1.0 }.translated(2.0, 3.0),
            Geometry::Point { x: 3.0, y: 4.0 }
        );
    }

    #[test]
    fn clamped_pulls_points_inside() {
        let g = Geometry::Polyline {
            points: vec![[-5.0, 3.0], [120.0, 80.0]],
        };
        assert_eq!(
            g.clamped(100.0, 50.0),
            Geometry::Polyline {
                points: vec![[0.0, 3.0], [100.0, 50.0]]
            }
        );
        assert_eq!(segment().clamped(1.0, 1.0), segment());
    }

    #[test]
    fn describe_and_audit_json() {
        assert_eq!(bbox().describe(), "bbox 10.0,20.0 30.0x40.0");
        assert_eq!(triangle().describe(), "polygon (3 points)");
        assert_eq!(
            segment().describe(),
            "segment 1.500–4.000 s \"hello there\""
        );
        assert_eq!(span().describe(), "span chars 5–9");
        assert_eq!(RELATION.describe(), "relation #3 → #4");
        assert_eq!(Geometry::Tag.describe(), "tag");
        // The trail keeps a transcript's length, never its words.
        assert_eq!(
            segment().audit_json().to_string(),
            r#"{"segment":{"end_secs":4.0,"start_secs":1.5,"transcript_chars":11}}"#
        );
        assert_eq!(
            span().audit_json().to_string(),
            r#"{"byte_end":11,"byte_start":6,"end":9,"start":5,"type":"span"}"#
        );
    }

    #[test]
    fn plural_names_for_skip_messages() {
        assert_eq!(Tool::Point.plural(), "points");
        assert_eq!(Tool::Keypoints.plural(), "keypoints");
        assert_eq!(Tool::BBox.plural(), "boxes");
    }
}
