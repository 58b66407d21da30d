//! The image canvas: shows the image fitted to the panel and lets the user
//! draw, select, move, resize and delete boxes. It only reports what the
//! user did ([`CanvasAction`]); the workspace turns that into label changes.

use egui::{Color32, CornerRadius, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2, pos2};

use crate::model::{Annotation, BBox, Geometry, LabelClass};

/// Smallest box (in original pixels) that counts as drawn, not a slip.
const MIN_BOX_PX: f64 = 2.0;
/// How close (screen points) the pointer must be to grab a corner handle.
const HANDLE_GRAB: f32 = 8.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

#[derive(Clone, Debug, PartialEq)]
enum Drag {
    Drawing {
        start: (f64, f64),
        current: (f64, f64),
    },
    Moving {
        id: i64,
        original: BBox,
        grab: (f64, f64),
        current: BBox,
    },
    Resizing {
        id: i64,
        corner: Corner,
        original: BBox,
        current: BBox,
    },
}

/// Canvas state that lives across frames (the gesture in progress).
#[derive(Default)]
pub struct CanvasState {
    drag: Option<Drag>,
    /// The image placement of the last frame (tests map pixels to screen).
    pub last_view: Option<View>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CanvasAction {
    Create(BBox),
    Update { id: i64, bbox: BBox },
    Select(Option<i64>),
}

/// Maps between screen points and original-image pixels.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub image_rect: Rect,
    pub scale: f32,
}

impl View {
    pub fn fit(available: Rect, width: u32, height: u32) -> Self {
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        let scale = (available.width() / w)
            .min(available.height() / h)
            .max(0.01);
        let size = Vec2::new(w * scale, h * scale);
        Self {
            image_rect: Rect::from_center_size(available.center(), size),
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

const CORNERS: [Corner; 4] = [
    Corner::TopLeft,
    Corner::TopRight,
    Corner::BottomLeft,
    Corner::BottomRight,
];

fn bbox_of(a: &Annotation) -> BBox {
    let Geometry::BBox(b) = &a.geometry;
    *b
}

fn colour_of(classes: &[LabelClass], class_id: i64) -> Color32 {
    let [r, g, b] = classes
        .iter()
        .find(|c| c.id == class_id)
        .map(LabelClass::rgb)
        .unwrap_or([200, 200, 200]);
    Color32::from_rgb(r, g, b)
}

/// Everything the canvas needs to draw one frame.
pub struct CanvasInput<'a> {
    pub texture: &'a egui::TextureHandle,
    pub width: u32,
    pub height: u32,
    pub annotations: &'a [Annotation],
    pub classes: &'a [LabelClass],
    pub selected: Option<i64>,
    pub active_class: Option<i64>,
}

pub fn canvas_ui(
    ui: &mut egui::Ui,
    state: &mut CanvasState,
    input: &CanvasInput<'_>,
) -> Vec<CanvasAction> {
    let mut actions = Vec::new();
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let view = View::fit(response.rect, input.width, input.height);
    state.last_view = Some(view);
    let (w, h) = (input.width as f64, input.height as f64);
    let clamp_pt = |p: (f64, f64)| (p.0.clamp(0.0, w), p.1.clamp(0.0, h));

    // Topmost (last drawn) box under a screen point.
    let hit_box = |p: Pos2| -> Option<&Annotation> {
        let (x, y) = view.to_image(p);
        input
            .annotations
            .iter()
            .rev()
            .find(|a| bbox_of(a).contains(x, y))
    };
    let hit_corner = |p: Pos2| -> Option<(i64, Corner, BBox)> {
        let sel = input
            .annotations
            .iter()
            .find(|a| Some(a.id) == input.selected)?;
        let b = bbox_of(sel);
        CORNERS.into_iter().find_map(|c| {
            let (cx, cy) = corner_pos(&b, c);
            (view.to_screen(cx, cy).distance(p) <= HANDLE_GRAB).then_some((sel.id, c, b))
        })
    };

    if response.drag_started()
        && let Some(origin) = ui.input(|i| i.pointer.press_origin())
    {
        state.drag = if let Some((id, corner, b)) = hit_corner(origin) {
            Some(Drag::Resizing {
                id,
                corner,
                original: b,
                current: b,
            })
        } else if let Some(a) = hit_box(origin) {
            actions.push(CanvasAction::Select(Some(a.id)));
            let b = bbox_of(a);
            Some(Drag::Moving {
                id: a.id,
                original: b,
                grab: view.to_image(origin),
                current: b,
            })
        } else if input.active_class.is_some() {
            let start = clamp_pt(view.to_image(origin));
            Some(Drag::Drawing {
                start,
                current: start,
            })
        } else {
            None
        };
    }

    if response.dragged()
        && let Some(pos) = ui.input(|i| i.pointer.interact_pos())
    {
        let p = view.to_image(pos);
        match &mut state.drag {
            Some(Drag::Drawing { current, .. }) => *current = clamp_pt(p),
            Some(Drag::Moving {
                original,
                grab,
                current,
                ..
            }) => {
                let nx = (original.x + p.0 - grab.0).clamp(0.0, (w - original.w).max(0.0));
                let ny = (original.y + p.1 - grab.1).clamp(0.0, (h - original.h).max(0.0));
                *current = BBox {
                    x: nx,
                    y: ny,
                    ..*original
                };
            }
            Some(Drag::Resizing {
                corner,
                original,
                current,
                ..
            }) => {
                let anchor = corner_pos(original, opposite(*corner));
                *current = BBox::from_corners(anchor, clamp_pt(p));
            }
            None => {}
        }
    }

    if response.drag_stopped() {
        match state.drag.take() {
            Some(Drag::Drawing { start, current }) => {
                let b = BBox::from_corners(start, current);
                if b.w >= MIN_BOX_PX && b.h >= MIN_BOX_PX {
                    actions.push(CanvasAction::Create(round_box(b)));
                }
            }
            Some(Drag::Moving {
                id,
                original,
                current,
                ..
            }) if current != original => {
                actions.push(CanvasAction::Update {
                    id,
                    bbox: round_box(current),
                });
            }
            Some(Drag::Resizing {
                id,
                original,
                current,
                ..
            }) if current != original && current.w >= MIN_BOX_PX && current.h >= MIN_BOX_PX => {
                actions.push(CanvasAction::Update {
                    id,
                    bbox: round_box(current),
                });
            }
            _ => {}
        }
    } else if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        actions.push(CanvasAction::Select(hit_box(pos).map(|a| a.id)));
    }

    // ---- paint
    painter.rect_filled(response.rect, CornerRadius::ZERO, Color32::from_gray(24));
    painter.image(
        input.texture.id(),
        view.image_rect,
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    for a in input.annotations {
        let mut b = bbox_of(a);
        if let Some(Drag::Moving { id, current, .. } | Drag::Resizing { id, current, .. }) =
            &state.drag
            && *id == a.id
        {
            b = *current;
        }
        let colour = colour_of(input.classes, a.class_id);
        let rect = view.box_rect(&b);
        let selected = input.selected == Some(a.id);
        if selected {
            painter.rect_filled(rect, CornerRadius::ZERO, colour.gamma_multiply(0.25));
        }
        painter.rect_stroke(
            rect,
            CornerRadius::ZERO,
            Stroke::new(if selected { 3.0 } else { 2.0 }, colour),
            StrokeKind::Middle,
        );
        if let Some(class) = input.classes.iter().find(|c| c.id == a.class_id) {
            painter.text(
                rect.left_top() + Vec2::new(2.0, -2.0),
                egui::Align2::LEFT_BOTTOM,
                &class.name,
                egui::FontId::proportional(13.0),
                colour,
            );
        }
        if selected {
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
    if let Some(Drag::Drawing { start, current }) = &state.drag {
        let colour = input
            .active_class
            .map(|c| colour_of(input.classes, c))
            .unwrap_or(Color32::WHITE);
        let rect = view.box_rect(&BBox::from_corners(*start, *current));
        painter.rect_stroke(
            rect,
            CornerRadius::ZERO,
            Stroke::new(2.0, colour),
            StrokeKind::Middle,
        );
    }
    actions
}

/// Labels are stored to 1/100 pixel: exact enough for any export format and
/// free of float noise from the screen transform.
fn round_box(b: BBox) -> BBox {
    let r = |v: f64| (v * 100.0).round() / 100.0;
    BBox {
        x: r(b.x),
        y: r(b.y),
        w: r(b.w),
        h: r(b.h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_round_trips_coordinates() {
        let view = View::fit(
            Rect::from_min_size(pos2(10.0, 20.0), Vec2::new(400.0, 300.0)),
            800,
            600,
        );
        assert!((view.scale - 0.5).abs() < 1e-6);
        let (x, y) = view.to_image(view.to_screen(123.0, 456.0));
        assert!((x - 123.0).abs() < 1e-3 && (y - 456.0).abs() < 1e-3);
    }
}
