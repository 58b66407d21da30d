//! Canvas painting: the image (or its tiles), every visible label, the
//! shape being drawn, and the watermark.

use super::*;

impl Frame<'_> {
    /// Paints one frame, bottom to top.
    pub(super) fn paint(&self, painter: &egui::Painter, state: &mut CanvasState) {
        painter.rect_filled(self.rect, CornerRadius::ZERO, Color32::from_gray(24));
        self.paint_image(painter);
        if !self.label_all() {
            self.paint_batched_outlines(painter, state);
        }
        self.paint_labels(painter, state);
        self.paint_in_progress(painter, state);
        if let Some(text) = self.input.watermark {
            paint_watermark(painter, self.rect, text);
        }
    }

    /// The full-resolution tiles on screen when there are tiles, else the
    /// whole (preview) image.
    fn paint_image(&self, painter: &egui::Painter) {
        let (view, input) = (&self.view, self.input);
        let full_uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
        match input.tiles {
            Some(tiles) => {
                for (r, tex) in tiles {
                    let screen_rect = Rect::from_min_max(
                        view.to_screen(r.min.x as f64, r.min.y as f64),
                        view.to_screen(r.max.x as f64, r.max.y as f64),
                    );
                    // Only tiles on screen cost anything to draw.
                    if screen_rect.intersects(self.rect) {
                        painter.image(tex.id(), screen_rect, full_uv, input.tint);
                    }
                }
            }
            None => {
                painter.image(input.texture.id(), view.image_rect, full_uv, input.tint);
            }
        }
    }

    /// Few enough shapes that every one shows its class name and is drawn
    /// on its own. With thousands of shapes, names on every small shape are
    /// unreadable clutter and cost most of the frame: only shapes large
    /// enough on screen, or selected ones, are named.
    fn label_all(&self) -> bool {
        self.visible.len() <= BATCH_ABOVE
    }

    /// Whether `a`'s outline goes into the cached mesh (see
    /// [`Frame::paint_batched_outlines`]) rather than being drawn on its own.
    fn outline_batched(&self, drag: &Option<Drag>, a: &Annotation) -> bool {
        !self.label_all()
            && !self.input.selected.contains(&a.id)
            && matches!(a.geometry.outline(), Outline::Closed(_) | Outline::Open(_))
            && !matches!(drag, Some(Drag::Moving { ids, .. }) if ids.contains(&a.id))
            && !matches!(drag, Some(Drag::Vertex { id, .. }) if *id == a.id)
    }

    /// Many shapes: unselected polygon and line outlines go into one cached
    /// mesh (re-built only when the view or the labels change), drawn below
    /// the rest. Anti-aliased tessellation of 100k segments every frame
    /// would cost ~20 ms; the cached mesh costs a copy.
    fn paint_batched_outlines(&self, painter: &egui::Painter, state: &mut CanvasState) {
        let key = outline_key(&self.view, &self.visible, self.input, &state.drag);
        let mesh = match &state.outlines {
            Some((k, mesh)) if *k == key => mesh.clone(),
            _ => {
                let mesh = std::sync::Arc::new(outline_mesh(
                    &self.view,
                    self.visible
                        .iter()
                        .copied()
                        .filter(|a| self.outline_batched(&state.drag, a)),
                    self.input.classes,
                ));
                state.outlines = Some((key, mesh.clone()));
                mesh
            }
        };
        painter.add(Shape::Mesh(mesh));
    }

    /// Every visible label on screen, as it is being moved, resized or
    /// reshaped if it is.
    fn paint_labels(&self, painter: &egui::Painter, state: &CanvasState) {
        let (view, input) = (&self.view, self.input);
        let moving_delta = match &state.drag {
            Some(Drag::Moving { ids, grab, current }) => {
                Some((ids.clone(), current.0 - grab.0, current.1 - grab.1))
            }
            _ => None,
        };
        let label_all = self.label_all();
        for a in &self.visible {
            let Some(bounds) = a.geometry.bounds().map(|b| view.box_rect(&b)) else {
                continue;
            };
            let selected = input.selected.contains(&a.id);
            // Off-screen shapes cost nothing (zoomed in on a crowded image).
            if !bounds.expand(10.0).intersects(self.rect) && !selected {
                continue;
            }
            let mut g = a.geometry.clone();
            match &state.drag {
                Some(Drag::Resizing { id, current, .. }) if *id == a.id => {
                    g = Geometry::BBox(*current)
                }
                Some(Drag::Vertex { id, index, current }) if *id == a.id => {
                    g = g.with_vertex(*index, *current)
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
                outline_batched: self.outline_batched(&state.drag, a),
            };
            paint_shape(painter, view, &g, class, &style);
        }
    }

    /// The shape being drawn: a box being dragged out, the polygon or line
    /// placed so far (with a rubber band to the pointer), the keypoints
    /// placed so far and the name of the next one.
    fn paint_in_progress(&self, painter: &egui::Painter, state: &CanvasState) {
        let (view, input) = (&self.view, self.input);
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
            if let Some(c) = self.hover {
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
                paint_keypoint(painter, view.to_screen(k.x, k.y), active_colour, k.visible);
            }
            let next = input
                .active_class
                .and_then(|c| c.skeleton.as_ref())
                .and_then(|s| s.keypoints.get(state.keypoints.len()));
            if let (Some(name), Some(c)) = (next, self.hover) {
                painter.text(
                    c + Vec2::new(12.0, -12.0),
                    egui::Align2::LEFT_BOTTOM,
                    format!("next: {name}"),
                    egui::FontId::proportional(13.0),
                    active_colour,
                );
            }
        }
    }
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
    let line = |points: &[[f64; 2]], closed: bool| {
        let pts: Vec<Pos2> = points.iter().map(screen).collect();
        painter.add(if closed {
            Shape::closed_line(pts.clone(), stroke)
        } else {
            Shape::line(pts.clone(), stroke)
        });
        if selected && !locked {
            for p in pts {
                painter.circle_filled(p, 4.0, colour);
            }
        }
    };
    // Keypoints are the one shape with a skeleton and occluded points;
    // every other shape is drawn from its outline.
    if let Geometry::Keypoints { points } = g {
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
    } else {
        match g.outline() {
            Outline::Rect(b) => {
                let r = view.box_rect(&b);
                painter.rect_filled(r, CornerRadius::ZERO, fill);
                painter.rect_stroke(r, CornerRadius::ZERO, stroke, StrokeKind::Middle);
                if selected && !locked {
                    for c in CORNERS {
                        let (x, y) = corner_pos(&b, c);
                        painter.rect_filled(
                            Rect::from_center_size(view.to_screen(x, y), Vec2::splat(8.0)),
                            CornerRadius::ZERO,
                            colour,
                        );
                    }
                }
            }
            Outline::Closed(points) if !outline_batched => line(&points, true),
            Outline::Open(points) if !outline_batched => line(&points, false),
            Outline::Dots(points) => {
                for p in &points {
                    let c = screen(p);
                    painter.circle_filled(c, if selected { 6.0 } else { 5.0 }, colour);
                    painter.circle_stroke(c, 6.5, Stroke::new(1.0, Color32::BLACK));
                }
            }
            // Batched outlines are in the cached mesh already.
            Outline::Closed(_) | Outline::Open(_) | Outline::Nothing => {}
        }
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
        let (points, closed) = match a.geometry.outline() {
            Outline::Closed(points) => (points, true),
            Outline::Open(points) => (points, false),
            Outline::Rect(_) | Outline::Dots(_) | Outline::Nothing => continue,
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
