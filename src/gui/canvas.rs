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

use crate::model::{Annotation, BBox, Geometry, Keypoint, LabelClass, Tool};

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

/// The display colour of a class (grey for an unknown class).
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
    match &a.geometry {
        Geometry::BBox(b) => view.box_rect(b).expand(2.0).contains(p),
        Geometry::Polygon { points } => {
            point_in_polygon(view.to_image(p), points)
                || points
                    .iter()
                    .zip(points.iter().cycle().skip(1))
                    .any(|(a, b)| dist_to_segment(p, screen(a), screen(b)) <= LINE_GRAB)
        }
        Geometry::Polyline { points } => points
            .windows(2)
            .any(|w| dist_to_segment(p, screen(&w[0]), screen(&w[1])) <= LINE_GRAB),
        Geometry::Point { x, y } => view.to_screen(*x, *y).distance(p) <= VERTEX_GRAB,
        Geometry::Keypoints { points } => points
            .iter()
            .any(|k| view.to_screen(k.x, k.y).distance(p) <= VERTEX_GRAB),
        // Not drawn on an image.
        Geometry::Tag
        | Geometry::Segment { .. }
        | Geometry::Span { .. }
        | Geometry::Relation { .. } => false,
    }
}

/// The vertices a user can drag on a selected shape.
fn vertices(g: &Geometry) -> Vec<[f64; 2]> {
    match g {
        Geometry::Polygon { points } | Geometry::Polyline { points } => points.clone(),
        Geometry::Keypoints { points } => points.iter().map(|k| [k.x, k.y]).collect(),
        _ => vec![],
    }
}

fn with_vertex(g: &Geometry, index: usize, p: [f64; 2]) -> Geometry {
    let mut g = g.clone();
    match &mut g {
        Geometry::Polygon { points } | Geometry::Polyline { points } => {
            if let Some(v) = points.get_mut(index) {
                *v = p;
            }
        }
        Geometry::Keypoints { points } => {
            if let Some(k) = points.get_mut(index) {
                k.x = p[0];
                k.y = p[1];
            }
        }
        _ => {}
    }
    g
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

pub fn canvas_ui(
    ui: &mut egui::Ui,
    state: &mut CanvasState,
    input: &CanvasInput<'_>,
) -> Vec<CanvasAction> {
    let mut actions = Vec::new();
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let rect = response.rect;
    let painter = painter.with_clip_rect(rect);
    let (w, h) = (input.width as f64, input.height as f64);

    // ---- zoom (wheel, to the cursor) and pan (middle drag or Space + drag)
    let mut view = state.view(rect, input.width, input.height);
    let hover = response.hover_pos();
    let (scroll, zoom_delta) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
    if let Some(cursor) = hover {
        let factor = if zoom_delta != 1.0 {
            zoom_delta
        } else {
            (1.0 + scroll * 0.0015).clamp(0.5, 2.0)
        };
        if factor != 1.0 {
            let anchor = view.to_image(cursor);
            let scale = (view.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
            // Keep the pixel under the cursor where it is.
            let min = cursor - Vec2::new(anchor.0 as f32 * scale, anchor.1 as f32 * scale);
            let center = (
                ((rect.center().x - min.x) / scale) as f64,
                ((rect.center().y - min.y) / scale) as f64,
            );
            state.zoom = Zoom::Fixed { scale, center };
            view = state.view(rect, input.width, input.height);
        }
    }
    let space = ui.input(|i| i.key_down(Key::Space));
    let pan_drag = response.dragged_by(PointerButton::Middle)
        || (space && response.dragged_by(PointerButton::Primary));
    if pan_drag {
        let delta = response.drag_delta();
        let center = view.to_image(rect.center() - delta);
        state.zoom = Zoom::Fixed {
            scale: view.scale,
            center,
        };
        view = state.view(rect, input.width, input.height);
        state.drag = Some(Drag::Panning);
    }
    state.last_view = Some(view);
    state.cursor = hover.map(|p| view.to_image(p));

    let snap = |p: (f64, f64)| -> [f64; 2] {
        let tol = (EDGE_SNAP / view.scale) as f64;
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
    };
    let visible: Vec<&Annotation> = input.annotations.iter().filter(|a| !a.hidden).collect();
    let topmost_hit = |p: Pos2| visible.iter().rev().find(|a| hits(a, p, &view)).copied();
    let selected_unlocked = || {
        visible
            .iter()
            .filter(|a| input.selected.contains(&a.id) && !a.locked)
    };
    let class_allows = |tool: Tool| input.active_class.is_some_and(|c| c.allows(tool));
    let no_class_message = |tool: Tool| {
        CanvasAction::Message(match input.active_class {
            None => "Pick a class first (keys 1–9)".into(),
            Some(c) => format!(
                "Class '{}' cannot be drawn with the {} tool",
                c.name,
                tool.label().to_lowercase()
            ),
        })
    };
    let modifiers = ui.input(|i| i.modifiers);
    let additive = modifiers.shift || modifiers.command;

    // ---- primary-button gestures
    if response.drag_started_by(PointerButton::Primary)
        && !space
        && let Some(origin) = ui.input(|i| i.pointer.press_origin())
    {
        let corner = selected_unlocked().find_map(|a| match &a.geometry {
            Geometry::BBox(b) => CORNERS.into_iter().find_map(|c| {
                let (cx, cy) = corner_pos(b, c);
                (view.to_screen(cx, cy).distance(origin) <= HANDLE_GRAB).then_some((a.id, c, *b))
            }),
            _ => None,
        });
        let vertex = selected_unlocked().find_map(|a| {
            vertices(&a.geometry).iter().enumerate().find_map(|(i, v)| {
                (view.to_screen(v[0], v[1]).distance(origin) <= VERTEX_GRAB)
                    .then_some((a.id, i, *v))
            })
        });
        state.drag = if let Some((id, corner, b)) = corner {
            Some(Drag::Resizing {
                id,
                corner,
                original: b,
                current: b,
            })
        } else if let Some((id, index, v)) = vertex.filter(|_| state.drawing.is_none()) {
            Some(Drag::Vertex {
                id,
                index,
                current: v,
            })
        } else if let Some(a) =
            topmost_hit(origin).filter(|_| state.drawing.is_none() && state.keypoints.is_empty())
        {
            let mut ids: Vec<i64> = if input.selected.contains(&a.id) {
                input.selected.iter().copied().collect()
            } else {
                actions.push(CanvasAction::Select {
                    id: Some(a.id),
                    additive,
                });
                if additive {
                    input.selected.iter().copied().chain([a.id]).collect()
                } else {
                    vec![a.id]
                }
            };
            ids.retain(|id| visible.iter().any(|v| v.id == *id && !v.locked));
            let grab = view.to_image(origin);
            (!ids.is_empty()).then_some(Drag::Moving {
                ids,
                grab,
                current: grab,
            })
        } else if input.tool == Tool::BBox {
            if class_allows(Tool::BBox) {
                let start = snap(view.to_image(origin));
                Some(Drag::DrawingBox {
                    start: (start[0], start[1]),
                    current: (start[0], start[1]),
                })
            } else {
                actions.push(no_class_message(Tool::BBox));
                None
            }
        } else {
            None
        };
    }

    if response.dragged_by(PointerButton::Primary)
        && !space
        && let Some(pos) = ui.input(|i| i.pointer.interact_pos())
    {
        let p = view.to_image(pos);
        match &mut state.drag {
            Some(Drag::DrawingBox { current, .. }) => {
                let s = snap(p);
                *current = (s[0], s[1]);
            }
            Some(Drag::Moving { current, .. }) => *current = p,
            Some(Drag::Resizing {
                corner,
                original,
                current,
                ..
            }) => {
                let anchor = corner_pos(original, opposite(*corner));
                let s = snap(p);
                *current = BBox::from_corners(anchor, (s[0], s[1]));
            }
            Some(Drag::Vertex { current, .. }) => *current = snap(p),
            _ => {}
        }
    }

    let released =
        response.drag_stopped() || (state.drag.is_some() && !ui.input(|i| i.pointer.any_down()));
    if released {
        match state.drag.take() {
            Some(Drag::DrawingBox { start, current }) => {
                let b = BBox::from_corners(start, current);
                if b.w >= MIN_BOX_PX && b.h >= MIN_BOX_PX {
                    actions.push(CanvasAction::Create(Geometry::BBox(round_box(b))));
                }
            }
            Some(Drag::Moving { ids, grab, current }) => {
                let (dx, dy) = (round2(current.0 - grab.0), round2(current.1 - grab.1));
                if dx != 0.0 || dy != 0.0 {
                    actions.push(CanvasAction::Move { ids, dx, dy });
                }
            }
            Some(Drag::Resizing {
                id,
                original,
                current,
                ..
            }) if current != original && current.w >= MIN_BOX_PX && current.h >= MIN_BOX_PX => {
                actions.push(CanvasAction::Update {
                    id,
                    geometry: Geometry::BBox(round_box(current)),
                });
            }
            Some(Drag::Vertex { id, index, current }) => {
                if let Some(a) = visible.iter().find(|a| a.id == id) {
                    let g = with_vertex(&a.geometry, index, current);
                    if g != a.geometry {
                        actions.push(CanvasAction::Update { id, geometry: g });
                    }
                }
            }
            _ => {}
        }
    }

    // ---- clicks
    if (response.double_clicked() || response.triple_clicked())
        && let Some(pos) = response.interact_pointer_pos()
    {
        // Double-click on an edge of a selected polygon or line inserts a vertex.
        for a in selected_unlocked() {
            if let Geometry::Polygon { points } | Geometry::Polyline { points } = &a.geometry {
                let closed = matches!(a.geometry, Geometry::Polygon { .. });
                let n = points.len();
                let edges = if closed { n } else { n.saturating_sub(1) };
                if let Some(i) = (0..edges).find(|i| {
                    let (p, q) = (points[*i], points[(i + 1) % n]);
                    dist_to_segment(pos, view.to_screen(p[0], p[1]), view.to_screen(q[0], q[1]))
                        <= LINE_GRAB
                }) {
                    let mut new_points = points.clone();
                    new_points.insert(i + 1, snap(view.to_image(pos)));
                    let geometry = if closed {
                        Geometry::Polygon { points: new_points }
                    } else {
                        Geometry::Polyline { points: new_points }
                    };
                    actions.push(CanvasAction::Update { id: a.id, geometry });
                    break;
                }
            }
        }
    } else if response.clicked_by(PointerButton::Secondary)
        && let Some(pos) = response.interact_pointer_pos()
    {
        // Right-click on a keypoint of a selected skeleton flips visible/occluded.
        for a in selected_unlocked() {
            if let Geometry::Keypoints { points } = &a.geometry
                && let Some(index) = points
                    .iter()
                    .position(|k| view.to_screen(k.x, k.y).distance(pos) <= VERTEX_GRAB)
            {
                actions.push(CanvasAction::ToggleKeypoint { id: a.id, index });
                break;
            }
        }
    } else if response.clicked()
        && !space
        && let Some(pos) = response.interact_pointer_pos()
    {
        let p = view.to_image(pos);
        let hit = topmost_hit(pos);
        // Alt+click on a vertex of a selected polygon or line deletes it.
        let vertex_delete = modifiers.alt
            && selected_unlocked().any(|a| {
                if let Geometry::Polygon { points } | Geometry::Polyline { points } = &a.geometry
                    && let Some(i) = points
                        .iter()
                        .position(|v| view.to_screen(v[0], v[1]).distance(pos) <= VERTEX_GRAB)
                {
                    let min = if matches!(a.geometry, Geometry::Polygon { .. }) {
                        3
                    } else {
                        2
                    };
                    if points.len() > min {
                        let mut pts = points.clone();
                        pts.remove(i);
                        let geometry = match a.geometry {
                            Geometry::Polygon { .. } => Geometry::Polygon { points: pts },
                            _ => Geometry::Polyline { points: pts },
                        };
                        actions.push(CanvasAction::Update { id: a.id, geometry });
                    } else {
                        actions.push(CanvasAction::Message(format!(
                            "A shape needs at least {min} points"
                        )));
                    }
                    return true;
                }
                false
            });
        if !vertex_delete {
            match input.tool {
                Tool::Polygon | Tool::Polyline => {
                    let tool = input.tool;
                    match &mut state.drawing {
                        Some((Tool::Polygon, points))
                            if points.len() >= 3 && {
                                let first = points[0];
                                view.to_screen(first[0], first[1]).distance(pos) <= VERTEX_GRAB
                            } =>
                        {
                            // Clicking the first vertex closes the polygon.
                            if let Some(a) = state.finish_shape() {
                                actions.push(a);
                            }
                        }
                        Some((_, points)) => points.push(snap(p)),
                        None => match hit {
                            Some(a) if !modifiers.command => {
                                actions.push(CanvasAction::Select {
                                    id: Some(a.id),
                                    additive,
                                });
                            }
                            _ if class_allows(tool) => state.drawing = Some((tool, vec![snap(p)])),
                            _ => actions.push(no_class_message(tool)),
                        },
                    }
                }
                Tool::Point => match hit {
                    Some(a) => actions.push(CanvasAction::Select {
                        id: Some(a.id),
                        additive,
                    }),
                    None if class_allows(Tool::Point) => {
                        let s = snap(p);
                        actions.push(CanvasAction::Create(Geometry::Point { x: s[0], y: s[1] }));
                    }
                    None => actions.push(no_class_message(Tool::Point)),
                },
                Tool::Keypoints => {
                    let skeleton_len = input
                        .active_class
                        .and_then(|c| c.skeleton.as_ref())
                        .map(|s| s.keypoints.len())
                        .unwrap_or(0);
                    match hit {
                        Some(a) if state.keypoints.is_empty() => {
                            actions.push(CanvasAction::Select {
                                id: Some(a.id),
                                additive,
                            });
                        }
                        _ if class_allows(Tool::Keypoints) && skeleton_len > 0 => {
                            let s = snap(p);
                            // Shift+click places an occluded keypoint.
                            state.keypoints.push(Keypoint {
                                x: s[0],
                                y: s[1],
                                visible: !modifiers.shift,
                            });
                            if state.keypoints.len() >= skeleton_len {
                                let points = std::mem::take(&mut state.keypoints);
                                actions.push(CanvasAction::Create(Geometry::Keypoints { points }));
                            }
                        }
                        _ => actions.push(no_class_message(Tool::Keypoints)),
                    }
                }
                // Audio and text tools do nothing on an image: select.
                Tool::BBox | Tool::Tag | Tool::Segment | Tool::Span | Tool::Relation => {
                    actions.push(CanvasAction::Select {
                        id: hit.map(|a| a.id),
                        additive,
                    });
                }
            }
        }
    }

    // ---- paint
    painter.rect_filled(rect, CornerRadius::ZERO, Color32::from_gray(24));
    let full_uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
    match input.tiles {
        Some(tiles) => {
            for (r, tex) in tiles {
                let screen_rect = Rect::from_min_max(
                    view.to_screen(r.min.x as f64, r.min.y as f64),
                    view.to_screen(r.max.x as f64, r.max.y as f64),
                );
                // Only tiles on screen cost anything to draw.
                if screen_rect.intersects(rect) {
                    painter.image(tex.id(), screen_rect, full_uv, input.tint);
                }
            }
        }
        None => {
            painter.image(input.texture.id(), view.image_rect, full_uv, input.tint);
        }
    }
    let moving_delta = match &state.drag {
        Some(Drag::Moving { ids, grab, current }) => {
            Some((ids.clone(), current.0 - grab.0, current.1 - grab.1))
        }
        _ => None,
    };
    // With thousands of shapes, names on every small shape are unreadable
    // clutter and cost most of the frame: label only shapes large enough on
    // screen, or selected ones.
    let label_all = visible.len() <= BATCH_ABOVE;
    // Many shapes: unselected polygon and line outlines go into one cached
    // mesh (re-built only when the view or the labels change), drawn below
    // the rest. Anti-aliased tessellation of 100k segments every frame
    // would cost ~20 ms; the cached mesh costs a copy.
    let batched = |a: &Annotation| {
        !label_all
            && !input.selected.contains(&a.id)
            && matches!(
                a.geometry,
                Geometry::Polygon { .. } | Geometry::Polyline { .. }
            )
            && !matches!(&state.drag, Some(Drag::Moving { ids, .. }) if ids.contains(&a.id))
            && !matches!(&state.drag, Some(Drag::Vertex { id, .. }) if *id == a.id)
    };
    if !label_all {
        let key = outline_key(&view, &visible, input, &state.drag);
        let mesh = match &state.outlines {
            Some((k, mesh)) if *k == key => mesh.clone(),
            _ => {
                let mesh = std::sync::Arc::new(outline_mesh(
                    &view,
                    visible.iter().copied().filter(|a| batched(a)),
                    input.classes,
                ));
                state.outlines = Some((key, mesh.clone()));
                mesh
            }
        };
        painter.add(Shape::Mesh(mesh));
    }
    for a in &visible {
        let Some(bounds) = a.geometry.bounds().map(|b| view.box_rect(&b)) else {
            continue;
        };
        let selected = input.selected.contains(&a.id);
        // Off-screen shapes cost nothing (zoomed in on a crowded image).
        if !bounds.expand(10.0).intersects(rect) && !selected {
            continue;
        }
        let mut g = a.geometry.clone();
        match &state.drag {
            Some(Drag::Resizing { id, current, .. }) if *id == a.id => g = Geometry::BBox(*current),
            Some(Drag::Vertex { id, index, current }) if *id == a.id => {
                g = with_vertex(&g, *index, *current)
            }
            _ => {}
        }
        if let Some((ids, dx, dy)) = &moving_delta
            && ids.contains(&a.id)
        {
            g = g.translated(*dx, *dy);
        }
        let class = input.classes.iter().find(|c| c.id == a.class_id);
        let show_name = label_all || selected || bounds.width().max(bounds.height()) > 80.0;
        let style = ShapeStyle {
            colour: shape_colour(input.classes, a),
            selected,
            locked: a.locked,
            opacity: input.opacity,
            show_name,
            outline_batched: batched(a),
        };
        paint_shape(&painter, &view, &g, class, &style);
    }
    // The shape being drawn.
    let active_colour = input
        .active_class
        .map(|c| colour_of(input.classes, c.id))
        .unwrap_or(Color32::WHITE);
    if let Some(Drag::DrawingBox { start, current }) = &state.drag {
        let r = view.box_rect(&BBox::from_corners(*start, *current));
        painter.rect_stroke(
            r,
            CornerRadius::ZERO,
            Stroke::new(2.0, active_colour),
            StrokeKind::Middle,
        );
    }
    if let Some((tool, points)) = &state.drawing {
        let mut screen: Vec<Pos2> = points.iter().map(|p| view.to_screen(p[0], p[1])).collect();
        if let Some(c) = hover {
            screen.push(c);
        }
        if *tool == Tool::Polygon && screen.len() > 2 {
            painter.add(Shape::closed_line(
                screen.clone(),
                Stroke::new(1.0, active_colour.gamma_multiply(0.6)),
            ));
        }
        painter.add(Shape::line(screen, Stroke::new(2.0, active_colour)));
        for p in points {
            painter.circle_filled(view.to_screen(p[0], p[1]), 4.0, active_colour);
        }
    }
    if !state.keypoints.is_empty() || input.tool == Tool::Keypoints {
        for k in &state.keypoints {
            paint_keypoint(&painter, view.to_screen(k.x, k.y), active_colour, k.visible);
        }
        let next = input
            .active_class
            .and_then(|c| c.skeleton.as_ref())
            .and_then(|s| s.keypoints.get(state.keypoints.len()));
        if let (Some(name), Some(c)) = (next, hover) {
            painter.text(
                c + Vec2::new(12.0, -12.0),
                egui::Align2::LEFT_BOTTOM,
                format!("next: {name}"),
                egui::FontId::proportional(13.0),
                active_colour,
            );
        }
    }
    if let Some(text) = input.watermark {
        paint_watermark(&painter, rect, text);
    }
    actions
}

/// How one shape is drawn this frame.
struct ShapeStyle {
    colour: Color32,
    selected: bool,
    locked: bool,
    opacity: f32,
    show_name: bool,
    /// The outline is already in the cached mesh.
    outline_batched: bool,
}

fn paint_shape(
    painter: &egui::Painter,
    view: &View,
    g: &Geometry,
    class: Option<&LabelClass>,
    style: &ShapeStyle,
) {
    let ShapeStyle {
        colour,
        selected,
        locked,
        opacity,
        show_name,
        outline_batched,
    } = *style;
    let width = if selected { 3.0 } else { 2.0 };
    let stroke = Stroke::new(width, colour);
    let fill = colour.gamma_multiply(if selected {
        (opacity + 0.15).min(1.0)
    } else {
        opacity
    });
    let screen = |p: &[f64; 2]| view.to_screen(p[0], p[1]);
    match g {
        Geometry::BBox(b) => {
            let r = view.box_rect(b);
            painter.rect_filled(r, CornerRadius::ZERO, fill);
            painter.rect_stroke(r, CornerRadius::ZERO, stroke, StrokeKind::Middle);
            if selected && !locked {
                for c in CORNERS {
                    let (x, y) = corner_pos(b, c);
                    painter.rect_filled(
                        Rect::from_center_size(view.to_screen(x, y), Vec2::splat(8.0)),
                        CornerRadius::ZERO,
                        colour,
                    );
                }
            }
        }
        Geometry::Polygon { points } if !outline_batched => {
            let pts: Vec<Pos2> = points.iter().map(screen).collect();
            painter.add(Shape::closed_line(pts.clone(), stroke));
            if selected && !locked {
                for p in pts {
                    painter.circle_filled(p, 4.0, colour);
                }
            }
        }
        Geometry::Polyline { points } if !outline_batched => {
            let pts: Vec<Pos2> = points.iter().map(screen).collect();
            painter.add(Shape::line(pts.clone(), stroke));
            if selected && !locked {
                for p in pts {
                    painter.circle_filled(p, 4.0, colour);
                }
            }
        }
        Geometry::Point { x, y } => {
            let c = view.to_screen(*x, *y);
            painter.circle_filled(c, if selected { 6.0 } else { 5.0 }, colour);
            painter.circle_stroke(c, 6.5, Stroke::new(1.0, Color32::BLACK));
        }
        Geometry::Keypoints { points } => {
            if let Some(skeleton) = class.and_then(|c| c.skeleton.as_ref()) {
                for [i, j] in &skeleton.edges {
                    if let (Some(a), Some(b)) = (points.get(*i), points.get(*j)) {
                        painter.line_segment(
                            [view.to_screen(a.x, a.y), view.to_screen(b.x, b.y)],
                            Stroke::new(width - 0.5, colour),
                        );
                    }
                }
            }
            for k in points {
                paint_keypoint(painter, view.to_screen(k.x, k.y), colour, k.visible);
            }
        }
        Geometry::Polygon { .. }
        | Geometry::Polyline { .. }
        | Geometry::Tag
        | Geometry::Segment { .. }
        | Geometry::Span { .. }
        | Geometry::Relation { .. } => {}
    }
    if let (true, Some(class), Some(b)) = (show_name, class, g.bounds()) {
        let label = if locked {
            format!("{} (locked)", class.name)
        } else {
            class.name.clone()
        };
        painter.text(
            view.to_screen(b.x, b.y) + Vec2::new(2.0, -2.0),
            egui::Align2::LEFT_BOTTOM,
            label,
            egui::FontId::proportional(13.0),
            colour,
        );
    }
}

/// Everything the batched outline mesh depends on.
fn outline_key(
    view: &View,
    visible: &[&Annotation],
    input: &CanvasInput<'_>,
    drag: &Option<Drag>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in [view.image_rect.min.x, view.image_rect.min.y, view.scale] {
        v.to_bits().hash(&mut h);
    }
    for a in visible {
        (a.id, a.revision, a.class_id).hash(&mut h);
    }
    input.selected.hash(&mut h);
    for c in input.classes {
        (c.id, &c.colour).hash(&mut h);
    }
    match drag {
        Some(Drag::Moving { ids, .. }) => ids.hash(&mut h),
        Some(Drag::Vertex { id, .. }) => id.hash(&mut h),
        _ => 0u8.hash(&mut h),
    }
    h.finish()
}

/// Outlines of polygons and lines as one mesh of 2-point-wide quads with
/// square caps (which also close the joints).
fn outline_mesh<'a>(
    view: &View,
    shapes: impl Iterator<Item = &'a Annotation>,
    classes: &[LabelClass],
) -> egui::Mesh {
    let shapes: Vec<&Annotation> = shapes.collect();
    let segments: usize = shapes.iter().map(|a| a.geometry.points().len()).sum();
    let mut mesh = egui::Mesh::default();
    mesh.vertices.reserve(segments * 4);
    mesh.indices.reserve(segments * 6);
    let half = 1.0;
    for a in shapes {
        let colour = shape_colour(classes, a);
        let (points, closed) = match &a.geometry {
            Geometry::Polygon { points } => (points, true),
            Geometry::Polyline { points } => (points, false),
            _ => continue,
        };
        let n = points.len();
        let count = if closed { n } else { n.saturating_sub(1) };
        let at = |i: usize| {
            let p = points[i % n];
            view.to_screen(p[0], p[1])
        };
        for i in 0..count {
            let (p, q) = (at(i), at(i + 1));
            let d = q - p;
            let len = d.length();
            if len < 0.01 {
                continue;
            }
            let dir = d / len * half;
            let normal = Vec2::new(-dir.y, dir.x);
            let (p, q) = (p - dir, q + dir);
            let base = mesh.vertices.len() as u32;
            for v in [p + normal, p - normal, q + normal, q - normal] {
                mesh.colored_vertex(v, colour);
            }
            mesh.add_triangle(base, base + 1, base + 2);
            mesh.add_triangle(base + 1, base + 3, base + 2);
        }
    }
    mesh
}

fn paint_keypoint(painter: &egui::Painter, at: Pos2, colour: Color32, visible: bool) {
    if visible {
        painter.circle_filled(at, 5.0, colour);
    } else {
        painter.circle_stroke(at, 5.0, Stroke::new(2.0, colour));
    }
}

/// A faint tiled overlay (user and date) that shows up in screenshots and
/// photos of the screen, to deter and trace leaks.
pub fn paint_watermark(painter: &egui::Painter, rect: Rect, text: &str) {
    let colour = Color32::from_rgba_unmultiplied(255, 255, 255, 26);
    let font = egui::FontId::proportional(15.0);
    let text_width = painter
        .layout_no_wrap(text.to_string(), font.clone(), colour)
        .size()
        .x;
    let (dx, dy) = (text_width + 90.0, 110.0);
    let mut row = 0;
    let mut y = rect.top() + 30.0;
    while y < rect.bottom() {
        let offset = if row % 2 == 0 { 0.0 } else { dx / 2.0 };
        let mut x = rect.left() - offset;
        while x < rect.right() {
            painter.text(
                pos2(x, y),
                egui::Align2::LEFT_CENTER,
                text,
                font.clone(),
                colour,
            );
            x += dx;
        }
        y += dy;
        row += 1;
    }
}

#[cfg(test)]
mod tests;
