//! Canvas input: zoom and pan, primary-button drags (draw a box, move
//! labels, resize a box, drag a vertex) and clicks, which depend on the tool.

use super::*;

/// Wheel zoom (to the cursor) and pan (middle drag or Space + drag); returns
/// where the image is drawn this frame.
pub(super) fn zoom_and_pan(
    ui: &egui::Ui,
    state: &mut CanvasState,
    input: &CanvasInput<'_>,
    response: &egui::Response,
    space: bool,
) -> View {
    let rect = response.rect;
    let mut view = state.view(rect, input.width, input.height);
    let (scroll, zoom_delta) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
    if let Some(cursor) = response.hover_pos() {
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
    view
}

impl Frame<'_> {
    /// A primary drag begins: on a corner of a selected box (resize), a
    /// vertex of a selected shape, a label (move it and whatever else is
    /// selected), or empty image with the box tool (draw a box).
    pub(super) fn start_drag(
        &self,
        ui: &egui::Ui,
        state: &mut CanvasState,
        response: &egui::Response,
        actions: &mut Vec<CanvasAction>,
    ) {
        if !response.drag_started_by(PointerButton::Primary) || self.space {
            return;
        }
        let Some(origin) = ui.input(|i| i.pointer.press_origin()) else {
            return;
        };
        let view = &self.view;
        // Only boxes have corner handles.
        let corner = self.selected_unlocked().find_map(|a| {
            let Geometry::BBox(b) = &a.geometry else {
                return None;
            };
            CORNERS.into_iter().find_map(|c| {
                let (cx, cy) = corner_pos(b, c);
                (view.to_screen(cx, cy).distance(origin) <= HANDLE_GRAB).then_some((a.id, c, *b))
            })
        });
        let vertex = self.selected_unlocked().find_map(|a| {
            a.geometry.vertices().iter().enumerate().find_map(|(i, v)| {
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
        } else if let Some(a) = self
            .topmost_hit(origin)
            .filter(|_| state.drawing.is_none() && state.keypoints.is_empty())
        {
            self.start_move(a, origin, actions)
        } else if self.input.tool == Tool::BBox {
            if self.class_allows(Tool::BBox) {
                let start = self.snap(view.to_image(origin));
                Some(Drag::DrawingBox {
                    start: (start[0], start[1]),
                    current: (start[0], start[1]),
                })
            } else {
                actions.push(self.no_class_message(Tool::BBox));
                None
            }
        } else {
            None
        };
    }

    /// Dragging label `a` moves the selection when `a` is in it; otherwise
    /// `a` is selected first (added to the selection with Shift or Ctrl).
    /// Locked labels stay put.
    fn start_move(
        &self,
        a: &Annotation,
        origin: Pos2,
        actions: &mut Vec<CanvasAction>,
    ) -> Option<Drag> {
        let selected = self.input.selected;
        let mut ids: Vec<i64> = if selected.contains(&a.id) {
            selected.iter().copied().collect()
        } else {
            actions.push(CanvasAction::Select {
                id: Some(a.id),
                additive: self.additive,
            });
            if self.additive {
                selected.iter().copied().chain([a.id]).collect()
            } else {
                vec![a.id]
            }
        };
        ids.retain(|id| self.visible.iter().any(|v| v.id == *id && !v.locked));
        let grab = self.view.to_image(origin);
        (!ids.is_empty()).then_some(Drag::Moving {
            ids,
            grab,
            current: grab,
        })
    }

    /// The pointer moved during a primary drag: follow it.
    pub(super) fn update_drag(
        &self,
        ui: &egui::Ui,
        state: &mut CanvasState,
        response: &egui::Response,
    ) {
        if !response.dragged_by(PointerButton::Primary) || self.space {
            return;
        }
        let Some(pos) = ui.input(|i| i.pointer.interact_pos()) else {
            return;
        };
        let p = self.view.to_image(pos);
        match &mut state.drag {
            Some(Drag::DrawingBox { current, .. }) => {
                let s = self.snap(p);
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
                let s = self.snap(p);
                *current = BBox::from_corners(anchor, (s[0], s[1]));
            }
            Some(Drag::Vertex { current, .. }) => *current = self.snap(p),
            _ => {}
        }
    }

    /// The button was let go: the finished gesture becomes an action (a
    /// box too small to be meant, or a move of zero, becomes nothing).
    pub(super) fn end_drag(
        &self,
        ui: &egui::Ui,
        state: &mut CanvasState,
        response: &egui::Response,
        actions: &mut Vec<CanvasAction>,
    ) {
        let released = response.drag_stopped()
            || (state.drag.is_some() && !ui.input(|i| i.pointer.any_down()));
        if !released {
            return;
        }
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
                if let Some(a) = self.visible.iter().find(|a| a.id == id) {
                    let g = a.geometry.with_vertex(index, current);
                    if g != a.geometry {
                        actions.push(CanvasAction::Update { id, geometry: g });
                    }
                }
            }
            _ => {}
        }
    }

    /// Double-click inserts a vertex, right-click flips a keypoint,
    /// Alt+click deletes a vertex; any other click goes to the tool.
    pub(super) fn clicks(
        &self,
        state: &mut CanvasState,
        response: &egui::Response,
        actions: &mut Vec<CanvasAction>,
    ) {
        if (response.double_clicked() || response.triple_clicked())
            && let Some(pos) = response.interact_pointer_pos()
        {
            self.insert_vertex(pos, actions);
        } else if response.clicked_by(PointerButton::Secondary)
            && let Some(pos) = response.interact_pointer_pos()
        {
            self.toggle_keypoint(pos, actions);
        } else if response.clicked()
            && !self.space
            && let Some(pos) = response.interact_pointer_pos()
        {
            let vertex_delete = self.modifiers.alt && self.delete_vertex(pos, actions);
            if !vertex_delete {
                self.tool_click(state, pos, actions);
            }
        }
    }

    /// Double-click on an edge of a selected polygon or line inserts a vertex.
    fn insert_vertex(&self, pos: Pos2, actions: &mut Vec<CanvasAction>) {
        let view = &self.view;
        for a in self.selected_unlocked() {
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
                    new_points.insert(i + 1, self.snap(view.to_image(pos)));
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
    }

    /// Right-click on a keypoint of a selected skeleton flips visible/occluded.
    fn toggle_keypoint(&self, pos: Pos2, actions: &mut Vec<CanvasAction>) {
        for a in self.selected_unlocked() {
            if let Geometry::Keypoints { points } = &a.geometry
                && let Some(index) = points
                    .iter()
                    .position(|k| self.view.to_screen(k.x, k.y).distance(pos) <= VERTEX_GRAB)
            {
                actions.push(CanvasAction::ToggleKeypoint { id: a.id, index });
                break;
            }
        }
    }

    /// Alt+click on a vertex of a selected polygon or line deletes it (down
    /// to 3 points for a polygon, 2 for a line). Returns whether the click
    /// was on such a vertex.
    fn delete_vertex(&self, pos: Pos2, actions: &mut Vec<CanvasAction>) -> bool {
        self.selected_unlocked().any(|a| {
            if let Geometry::Polygon { points } | Geometry::Polyline { points } = &a.geometry
                && let Some(i) = points
                    .iter()
                    .position(|v| self.view.to_screen(v[0], v[1]).distance(pos) <= VERTEX_GRAB)
            {
                let closed = matches!(a.geometry, Geometry::Polygon { .. });
                let min = if closed { 3 } else { 2 };
                if points.len() > min {
                    let mut pts = points.clone();
                    pts.remove(i);
                    let geometry = if closed {
                        Geometry::Polygon { points: pts }
                    } else {
                        Geometry::Polyline { points: pts }
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
        })
    }

    /// A plain click: what it does depends on the tool.
    fn tool_click(&self, state: &mut CanvasState, pos: Pos2, actions: &mut Vec<CanvasAction>) {
        let hit = self.topmost_hit(pos);
        match self.input.tool {
            Tool::Polygon | Tool::Polyline => self.line_tool_click(state, pos, hit, actions),
            Tool::Point => match hit {
                Some(a) => actions.push(CanvasAction::Select {
                    id: Some(a.id),
                    additive: self.additive,
                }),
                None if self.class_allows(Tool::Point) => {
                    let s = self.snap(self.view.to_image(pos));
                    actions.push(CanvasAction::Create(Geometry::Point { x: s[0], y: s[1] }));
                }
                None => actions.push(self.no_class_message(Tool::Point)),
            },
            Tool::Keypoints => self.keypoints_tool_click(state, pos, hit, actions),
            // Audio and text tools do nothing on an image: select.
            Tool::BBox | Tool::Tag | Tool::Segment | Tool::Span | Tool::Relation => {
                actions.push(CanvasAction::Select {
                    id: hit.map(|a| a.id),
                    additive: self.additive,
                });
            }
        }
    }

    /// Polygon and line tools: a click adds a vertex to the shape being
    /// drawn (on the first vertex it closes a polygon), or selects a label,
    /// or starts a new shape.
    fn line_tool_click(
        &self,
        state: &mut CanvasState,
        pos: Pos2,
        hit: Option<&Annotation>,
        actions: &mut Vec<CanvasAction>,
    ) {
        let tool = self.input.tool;
        let p = self.view.to_image(pos);
        match &mut state.drawing {
            Some((Tool::Polygon, points))
                if points.len() >= 3 && {
                    let first = points[0];
                    self.view.to_screen(first[0], first[1]).distance(pos) <= VERTEX_GRAB
                } =>
            {
                // Clicking the first vertex closes the polygon.
                if let Some(a) = state.finish_shape() {
                    actions.push(a);
                }
            }
            Some((_, points)) => points.push(self.snap(p)),
            None => match hit {
                Some(a) if !self.modifiers.command => {
                    actions.push(CanvasAction::Select {
                        id: Some(a.id),
                        additive: self.additive,
                    });
                }
                _ if self.class_allows(tool) => state.drawing = Some((tool, vec![self.snap(p)])),
                _ => actions.push(self.no_class_message(tool)),
            },
        }
    }

    /// Keypoints tool: a click places the next keypoint of the class's
    /// skeleton (Shift: occluded); the last one creates the label. Before
    /// the first, a click on a label selects it.
    fn keypoints_tool_click(
        &self,
        state: &mut CanvasState,
        pos: Pos2,
        hit: Option<&Annotation>,
        actions: &mut Vec<CanvasAction>,
    ) {
        let skeleton_len = self
            .input
            .active_class
            .and_then(|c| c.skeleton.as_ref())
            .map(|s| s.keypoints.len())
            .unwrap_or(0);
        match hit {
            Some(a) if state.keypoints.is_empty() => {
                actions.push(CanvasAction::Select {
                    id: Some(a.id),
                    additive: self.additive,
                });
            }
            _ if self.class_allows(Tool::Keypoints) && skeleton_len > 0 => {
                let s = self.snap(self.view.to_image(pos));
                // Shift+click places an occluded keypoint.
                state.keypoints.push(Keypoint {
                    x: s[0],
                    y: s[1],
                    visible: !self.modifiers.shift,
                });
                if state.keypoints.len() >= skeleton_len {
                    let points = std::mem::take(&mut state.keypoints);
                    actions.push(CanvasAction::Create(Geometry::Keypoints { points }));
                }
            }
            _ => actions.push(self.no_class_message(Tool::Keypoints)),
        }
    }
}
