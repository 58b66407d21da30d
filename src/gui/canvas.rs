//! The image canvas: shows the image (fit, 1:1, zoom to cursor, pan) and
//! lets the user draw and edit boxes, polygons, polylines, points and
//! keypoint skeletons in original-image pixels. It never changes labels
//! itself: it reports what the user did as [`CanvasAction`]s and the
//! workspace sends them through the controller.

use std::collections::BTreeSet;

use egui::{
    Color32, CornerRadius, Key, PointerButton, Pos2, Rect, Sense, Shape, Stroke, StrokeKind, Vec2,
    pos2,
};

use crate::model::{Annotation, BBox, Geometry, Keypoint, LabelClass, Outline, Tool};

mod draw;
mod gestures;

pub use draw::paint_watermark;

/// Smallest box (in original pixels) that counts as drawn, not a slip.
const MIN_BOX_PX: f64 = 2.0;
/// Grab distances in screen points.
const HANDLE_GRAB: f32 = 8.0;
const VERTEX_GRAB: f32 = 7.0;
const LINE_GRAB: f32 = 6.0;
/// Points this close (screen) to an image edge snap onto it.
const EDGE_SNAP: f32 = 6.0;
/// Above this many visible shapes, outlines are batched into one cached
/// mesh and only large or selected shapes show their class name.
const BATCH_ABOVE: usize = 300;
/// Zoom limits in screen points per image pixel.
const MAX_SCALE: f32 = 40.0;
const MIN_SCALE: f32 = 0.01;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

const CORNERS: [Corner; 4] = [
    Corner::TopLeft,
    Corner::TopRight,
    Corner::BottomLeft,
    Corner::BottomRight,
];

fn corner_pos(b: &BBox, c: Corner) -> (f64, f64) {
    match c {
        Corner::TopLeft => (b.x, b.y),
        Corner::TopRight => (b.x + b.w, b.y),
        Corner::BottomLeft => (b.x, b.y + b.h),
        Corner::BottomRight => (b.x + b.w, b.y + b.h),
    }
}

fn opposite(c: Corner) -> Corner {
    match c {
        Corner::TopLeft => Corner::BottomRight,
        Corner::TopRight => Corner::BottomLeft,
        Corner::BottomLeft => Corner::TopRight,
        Corner::BottomRight => Corner::TopLeft,
    }
}

/// How the image is placed in the panel.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Zoom {
    Fit,
    /// `scale` screen points per pixel, image point `center` at the panel centre.
    Fixed {
        scale: f32,
        center: (f64, f64),
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Drag {
    DrawingBox {
        start: (f64, f64),
        current: (f64, f64),
    },
    Moving {
        ids: Vec<i64>,
        grab: (f64, f64),
        current: (f64, f64),
    },
    Resizing {
        id: i64,
        corner: Corner,
        original: BBox,
        current: BBox,
    },
    Vertex {
        id: i64,
        index: usize,
        current: [f64; 2],
    },
    Panning,
}

/// Canvas state that lives across frames: zoom, the gesture in progress and
/// a polygon, line or skeleton being placed point by point.
pub struct CanvasState {
    zoom: Zoom,
    drag: Option<Drag>,
    /// Tool and vertices of the polygon / polyline being drawn.
    drawing: Option<(Tool, Vec<[f64; 2]>)>,
    /// Keypoints placed so far for a new skeleton.
    keypoints: Vec<Keypoint>,
    /// The image placement of the last frame (tests map pixels to screen).
    pub last_view: Option<View>,
    /// Image pixel under the pointer, for the status bar.
    pub cursor: Option<(f64, f64)>,
    /// Cached outline mesh of many shapes, with the key it was built for.
    outlines: Option<(u64, std::sync::Arc<egui::Mesh>)>,
}

impl Default for CanvasState {
    fn default() -> Self {
        Self {
            zoom: Zoom::Fit,
            drag: None,
            drawing: None,
            keypoints: Vec::new(),
            last_view: None,
            cursor: None,
            outlines: None,
        }
    }
}

/// What the user did on the canvas this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum CanvasAction {
    /// A finished new shape, for the active class.
    Create(Geometry),
    Update {
        id: i64,
        geometry: Geometry,
    },
    Move {
        ids: Vec<i64>,
        dx: f64,
        dy: f64,
    },
    Select {
        id: Option<i64>,
        additive: bool,
    },
    ToggleKeypoint {
        id: i64,
        index: usize,
    },
    /// Something the user should read (e.g. why a tool did nothing).
    Message(String),
}

/// Maps between screen points and original-image pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub image_rect: Rect,
    /// Screen points per image pixel.
    pub scale: f32,
}

impl View {
    pub fn fit(available: Rect, width: u32, height: u32) -> Self {
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        let scale = (available.width() / w)
            .min(available.height() / h)
            .max(MIN_SCALE);
        Self::centered(
            available,
            width,
            height,
            scale,
            (w as f64 / 2.0, h as f64 / 2.0),
        )
    }

    fn centered(available: Rect, width: u32, height: u32, scale: f32, center: (f64, f64)) -> Self {
        let min = available.center() - Vec2::new(center.0 as f32 * scale, center.1 as f32 * scale);
        Self {
            image_rect: Rect::from_min_size(
                min,
                Vec2::new(width as f32 * scale, height as f32 * scale),
            ),
            scale,
        }
    }

    pub fn to_image(&self, p: Pos2) -> (f64, f64) {
        (
            ((p.x - self.image_rect.min.x) / self.scale) as f64,
            ((p.y - self.image_rect.min.y) / self.scale) as f64,
        )
    }

    pub fn to_screen(&self, x: f64, y: f64) -> Pos2 {
        pos2(
            self.image_rect.min.x + x as f32 * self.scale,
            self.image_rect.min.y + y as f32 * self.scale,
        )
    }

    fn box_rect(&self, b: &BBox) -> Rect {
        Rect::from_two_pos(
            self.to_screen(b.x, b.y),
            self.to_screen(b.x + b.w, b.y + b.h),
        )
    }
}

/// Everything the canvas needs to draw one frame.
pub struct CanvasInput<'a> {
    /// The whole image, possibly downscaled (preview).
    pub texture: &'a egui::TextureHandle,
    /// Full-resolution tiles (rect in original pixels), drawn instead of the
    /// preview when zoomed in.
    pub tiles: Option<&'a [(Rect, egui::TextureHandle)]>,
    /// Original image size: the frame of every coordinate.
    pub width: u32,
    pub height: u32,
    pub annotations: &'a [Annotation],
    pub classes: &'a [LabelClass],
    pub selected: &'a BTreeSet<i64>,
    pub active_class: Option<&'a LabelClass>,
    pub tool: Tool,
    /// Fill opacity of shapes, 0–1.
    pub opacity: f32,
    /// Multiplies the image colours (brightness, view only).
    pub tint: Color32,
    /// Tiled text over the canvas (user, fingerprint, date), if on.
    pub watermark: Option<&'a str>,
}

impl CanvasState {
    pub fn zoom_fit(&mut self) {
        self.zoom = Zoom::Fit;
    }

    /// One image pixel per screen point, keeping the current centre.
    pub fn zoom_actual(&mut self) {
        let center = match (self.zoom, self.last_view) {
            (Zoom::Fixed { center, .. }, _) => center,
            (Zoom::Fit, Some(view)) => view.to_image(view.image_rect.center()),
            (Zoom::Fit, None) => (0.0, 0.0),
        };
        self.zoom = Zoom::Fixed { scale: 1.0, center };
    }

    /// Screen points per image pixel of the last frame.
    pub fn scale(&self) -> Option<f32> {
        self.last_view.map(|v| v.scale)
    }

    pub fn is_drawing(&self) -> bool {
        self.drawing.is_some()
            || !self.keypoints.is_empty()
            || matches!(self.drag, Some(Drag::DrawingBox { .. }))
    }

    /// Enter: closes the polygon or ends the line being drawn.
    pub fn finish_shape(&mut self) -> Option<CanvasAction> {
        let (tool, points) = self.drawing.take()?;
        match tool {
            Tool::Polygon if points.len() >= 3 => {
                Some(CanvasAction::Create(Geometry::Polygon { points }))
            }
            Tool::Polyline if points.len() >= 2 => {
                Some(CanvasAction::Create(Geometry::Polyline { points }))
            }
            _ => {
                self.drawing = Some((tool, points));
                Some(CanvasAction::Message(
                    "Not enough points yet: a polygon needs 3, a line 2".into(),
                ))
            }
        }
    }

    /// Escape: drops the shape in progress. Returns whether there was one.
    pub fn cancel_shape(&mut self) -> bool {
        let had = self.is_drawing();
        self.drawing = None;
        self.keypoints.clear();
        if matches!(self.drag, Some(Drag::DrawingBox { .. })) {
            self.drag = None;
        }
        had
    }

    /// Forgets gestures and shapes in progress (another item was opened).
    pub fn reset_gestures(&mut self) {
        self.drag = None;
        self.drawing = None;
        self.keypoints.clear();
    }

    fn view(&self, rect: Rect, width: u32, height: u32) -> View {
        match self.zoom {
            Zoom::Fit => View::fit(rect, width, height),
            Zoom::Fixed { scale, center } => View::centered(rect, width, height, scale, center),
        }
    }
}

/// A label's drawing colour: its class colour, faded while it is a
/// prediction nobody has accepted or edited yet.
fn shape_colour(classes: &[LabelClass], a: &Annotation) -> Color32 {
    let colour = colour_of(classes, a.class_id);
    if a.source.is_some() {
        colour.gamma_multiply(0.55)
    } else {
        colour
    }
}

/// The display colour of a class (grey for an unknown class).
pub fn colour_of(classes: &[LabelClass], class_id: i64) -> Color32 {
    let [r, g, b] = classes
        .iter()
        .find(|c| c.id == class_id)
        .map(LabelClass::rgb)
        .unwrap_or([200, 200, 200]);
    Color32::from_rgb(r, g, b)
}

fn dist_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let len_sq = ab.length_sq();
    if len_sq <= f32::EPSILON {
        return p.distance(a);
    }
    let t = ((p - a).dot(ab) / len_sq).clamp(0.0, 1.0);
    p.distance(a + ab * t)
}

fn point_in_polygon(p: (f64, f64), points: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = points.len();
    for i in 0..n {
        let (a, b) = (points[i], points[(i + n - 1) % n]);
        if (a[1] > p.1) != (b[1] > p.1) && p.0 < (b[0] - a[0]) * (p.1 - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
    }
    inside
}

/// Whether the screen point `p` touches the annotation's shape.
fn hits(a: &Annotation, p: Pos2, view: &View) -> bool {
    let screen = |q: &[f64; 2]| view.to_screen(q[0], q[1]);
    match a.geometry.outline() {
        Outline::Rect(b) => view.box_rect(&b).expand(2.0).contains(p),
        Outline::Closed(points) => {
            point_in_polygon(view.to_image(p), &points)
                || points
                    .iter()
                    .zip(points.iter().cycle().skip(1))
                    .any(|(a, b)| dist_to_segment(p, screen(a), screen(b)) <= LINE_GRAB)
        }
        Outline::Open(points) => points
            .windows(2)
            .any(|w| dist_to_segment(p, screen(&w[0]), screen(&w[1])) <= LINE_GRAB),
        Outline::Dots(points) => points.iter().any(|q| screen(q).distance(p) <= VERTEX_GRAB),
        // Not drawn on an image.
        Outline::Nothing => false,
    }
}

/// Labels are stored to 1/100 pixel: exact enough for any export format and
/// free of float noise from the screen transform.
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round_box(b: BBox) -> BBox {
    BBox {
        x: round2(b.x),
        y: round2(b.y),
        w: round2(b.w),
        h: round2(b.h),
    }
}

/// What one frame of the canvas works with once zoom and pan are settled:
/// the image placement, the labels not hidden and the keys held. Input
/// handling (gestures.rs) and painting (draw.rs) are methods on it.
struct Frame<'a> {
    input: &'a CanvasInput<'a>,
    view: View,
    /// The canvas panel on screen.
    rect: Rect,
    /// Labels not hidden, in drawing order (the last is on top).
    visible: Vec<&'a Annotation>,
    /// The pointer, when it is over the canvas.
    hover: Option<Pos2>,
    /// Space is held: a primary drag pans instead of editing.
    space: bool,
    modifiers: egui::Modifiers,
    /// Shift or Ctrl: a click adds to the selection.
    additive: bool,
}

impl<'a> Frame<'a> {
    /// An image point moved inside the image, onto an edge when it is
    /// within [`EDGE_SNAP`] screen points of it, rounded to 1/100 pixel.
    fn snap(&self, p: (f64, f64)) -> [f64; 2] {
        let (w, h) = (self.input.width as f64, self.input.height as f64);
        let tol = (EDGE_SNAP / self.view.scale) as f64;
        let mut x = p.0.clamp(0.0, w);
        let mut y = p.1.clamp(0.0, h);
        if x < tol {
            x = 0.0;
        } else if x > w - tol {
            x = w;
        }
        if y < tol {
            y = 0.0;
        } else if y > h - tol {
            y = h;
        }
        [round2(x), round2(y)]
    }

    /// The label drawn on top at screen point `p`.
    fn topmost_hit(&self, p: Pos2) -> Option<&'a Annotation> {
        self.visible
            .iter()
            .rev()
            .find(|a| hits(a, p, &self.view))
            .copied()
    }

    /// Selected labels the user may edit.
    fn selected_unlocked(&self) -> impl Iterator<Item = &'a Annotation> {
        self.visible
            .iter()
            .copied()
            .filter(|a| self.input.selected.contains(&a.id) && !a.locked)
    }

    fn class_allows(&self, tool: Tool) -> bool {
        self.input.active_class.is_some_and(|c| c.allows(tool))
    }

    /// Why a tool did nothing: no class picked, or the class does not allow it.
    fn no_class_message(&self, tool: Tool) -> CanvasAction {
        CanvasAction::Message(match self.input.active_class {
            None => "Pick a class first (keys 1–9)".into(),
            Some(c) => format!(
                "Class '{}' cannot be drawn with the {} tool",
                c.name,
                tool.label().to_lowercase()
            ),
        })
    }
}

/// Draws the image and its labels and turns this frame's pointer input into
/// [`CanvasAction`]s: zoom and pan first (so the rest sees where the image
/// is now), then drags, then clicks, then painting.
pub fn canvas_ui(
    ui: &mut egui::Ui,
    state: &mut CanvasState,
    input: &CanvasInput<'_>,
) -> Vec<CanvasAction> {
    let mut actions = Vec::new();
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let rect = response.rect;
    let painter = painter.with_clip_rect(rect);
    let hover = response.hover_pos();
    let space = ui.input(|i| i.key_down(Key::Space));
    let view = gestures::zoom_and_pan(ui, state, input, &response, space);
    state.last_view = Some(view);
    state.cursor = hover.map(|p| view.to_image(p));
    let modifiers = ui.input(|i| i.modifiers);
    let frame = Frame {
        input,
        view,
        rect,
        visible: input.annotations.iter().filter(|a| !a.hidden).collect(),
        hover,
        space,
        modifiers,
        additive: modifiers.shift || modifiers.command,
    };
    frame.start_drag(ui, state, &response, &mut actions);
    frame.update_drag(ui, state, &response);
    frame.end_drag(ui, state, &response, &mut actions);
    frame.clicks(state, &response, &mut actions);
    frame.paint(&painter, state);
    actions
}

#[cfg(test)]
mod tests;
