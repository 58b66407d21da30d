//! The Privacy screen for an image: regions drawn, from labels or from
//! templates, the crop, and the image with both drawn on it.

use super::*;

impl PrivacyView {
    pub(super) fn image_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        self.drawing_controls(ui, actions);
        ui.separator();
        self.label_class_controls(ui, actions);
        ui.separator();
        self.template_controls(ui, actions);
        ui.separator();
        self.window_controls(ui, actions);
        ui.separator();
        self.mask_list_ui(ui, "Regions", actions);
    }

    /// What a drag or click on the image draws, the style of new regions,
    /// and the polygon being placed.
    fn drawing_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.heading("Regions of the image");
        ui.horizontal(|ui| {
            ui.label("Draw");
            for (mode, name) in [
                (DrawMode::Rectangle, "Mask rectangle"),
                (DrawMode::Polygon, "Mask polygon"),
                (DrawMode::Crop, "Crop rectangle"),
            ] {
                if ui.selectable_label(self.mode == mode, name).clicked() {
                    self.mode = mode;
                    self.drag = None;
                    self.polygon.clear();
                }
            }
        });
        ui.small(match self.mode {
            DrawMode::Rectangle => "Drag on the image: the rectangle is masked at once",
            DrawMode::Polygon => {
                "Click the corners; Enter or a double-click closes the polygon, Escape drops it"
            }
            DrawMode::Crop => "Drag the part that may travel, then “Use drawn rectangle as crop”",
        });
        ui.horizontal(|ui| {
            let l = ui.label("Style of new regions");
            let mut style = self.region_style;
            egui::ComboBox::from_id_salt("privacy-region-style")
                .selected_text(region_style_name(style))
                .show_ui(ui, |ui| {
                    for s in REGION_STYLES {
                        ui.selectable_value(&mut style, s, region_style_name(s));
                    }
                })
                .response
                .labelled_by(l.id);
            if style != self.region_style {
                actions.push(PrivacyAction::Setting {
                    key: "mask_region_style",
                    value: region_style_name(style).into(),
                });
            }
        });
        if !self.polygon.is_empty() {
            ui.horizontal(|ui| {
                ui.label(format!("Polygon: {} point(s)", self.polygon.len()));
                if ui
                    .add_enabled(self.polygon.len() >= 3, egui::Button::new("Close polygon"))
                    .clicked()
                {
                    self.close_polygon(actions);
                }
                if ui.button("Drop polygon").clicked() {
                    self.polygon.clear();
                }
            });
        }
    }

    /// Regions from the boxes and polygons of one class.
    fn label_class_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.horizontal(|ui| {
            let go = ui
                .add_enabled(
                    !self.label_class.is_empty(),
                    egui::Button::new("Masks from labels of class"),
                )
                .on_hover_text(
                    "Boxes and polygons of this class (e.g. detector pre-labels of faces or \
                     plates) become regions; a label already turned into one is skipped",
                );
            egui::ComboBox::from_id_salt("privacy-label-class")
                .selected_text(&self.label_class)
                .show_ui(ui, |ui| {
                    for c in &self.classes {
                        ui.selectable_value(&mut self.label_class, c.clone(), c);
                    }
                });
            if go.clicked() {
                actions.push(PrivacyAction::FromLabels {
                    class: self.label_class.clone(),
                    every_image: self.every_image,
                });
            }
        });
        ui.checkbox(&mut self.every_image, "on every image, not only this one");
    }

    /// Saving this image's regions as a named template, and applying one to every image.
    fn template_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.label(RichText::new("Templates (e.g. an ID-card layout)").strong());
        ui.horizontal(|ui| {
            let l = ui.label("Template name");
            ui.add(egui::TextEdit::singleline(&mut self.template_name).desired_width(160.0))
                .labelled_by(l.id);
        });
        if ui
            .add_enabled(
                !self.template_name.trim().is_empty(),
                egui::Button::new("Save regions as template"),
            )
            .on_hover_text("Saves this image's accepted regions under the name, with its size")
            .clicked()
        {
            actions.push(PrivacyAction::SaveTemplate(
                self.template_name.trim().to_string(),
            ));
        }
        ui.horizontal(|ui| {
            let apply = ui
                .add_enabled(
                    !self.template_choice.is_empty(),
                    egui::Button::new("Apply template to all images"),
                )
                .on_hover_text(
                    "Adds the template's regions, scaled to each image, to every image \
                     that does not carry them yet",
                );
            egui::ComboBox::from_id_salt("privacy-template")
                .selected_text(if self.templates.is_empty() {
                    "none saved"
                } else {
                    self.template_choice.as_str()
                })
                .show_ui(ui, |ui| {
                    for t in &self.templates {
                        let text = format!(
                            "{} ({} regions, {}×{})",
                            t.name,
                            t.regions.len(),
                            t.width,
                            t.height
                        );
                        ui.selectable_value(&mut self.template_choice, t.name.clone(), text);
                    }
                });
            if apply.clicked() {
                actions.push(PrivacyAction::ApplyTemplate(self.template_choice.clone()));
            }
        });
    }

    /// The crop: only this part of the image travels.
    fn window_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.label(RichText::new("Window").strong());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    self.last_rect.is_some(),
                    egui::Button::new("Use drawn rectangle as crop"),
                )
                .on_hover_text("Only this part of the image travels; labels map back exactly")
                .clicked()
                && let Some([x, y, w, h]) = self.last_rect
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Image {
                    x: x as u32,
                    y: y as u32,
                    w: (w as u32).max(1),
                    h: (h as u32).max(1),
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
    }

    pub(super) fn close_polygon(&mut self, actions: &mut Vec<PrivacyAction>) {
        if self.polygon.len() >= 3 {
            actions.push(PrivacyAction::Add(MaskSpec::Region {
                region: Region {
                    shape: Shape::Polygon {
                        points: std::mem::take(&mut self.polygon),
                    },
                    style: self.region_style,
                },
            }));
        }
    }

    pub(super) fn image_ui(
        &mut self,
        ui: &mut egui::Ui,
        texture: &egui::TextureHandle,
        width: u32,
        height: u32,
        actions: &mut Vec<PrivacyAction>,
    ) {
        let (rect, resp) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let view = View::fit(rect, width, height);
        self.image_view = Some(view);
        self.image_input(ui, &resp, &view, (width, height), actions);

        let painter = ui.painter_at(rect);
        painter.image(
            texture.id(),
            view.image_rect,
            Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        self.paint_crop(&painter, &view);
        self.paint_regions(&painter, &view, rect);
        self.paint_drawing(&painter, &view, resp.hover_pos());
    }

    /// Drags draw a rectangle (a region at once, or the crop to use); in
    /// polygon mode clicks place corners. Enter closes the polygon, Escape
    /// drops what is being drawn.
    fn image_input(
        &mut self,
        ui: &egui::Ui,
        resp: &egui::Response,
        view: &View,
        (width, height): (u32, u32),
        actions: &mut Vec<PrivacyAction>,
    ) {
        let (w, h) = (f64::from(width), f64::from(height));
        // Whole pixels, inside the image: what the controller stores.
        let to_px = |p: Pos2| {
            let (x, y) = view.to_image(p);
            [x.round().clamp(0.0, w), y.round().clamp(0.0, h)]
        };
        match self.mode {
            DrawMode::Rectangle | DrawMode::Crop => {
                if resp.drag_started()
                    && let Some(p) = ui.input(|i| i.pointer.press_origin())
                {
                    self.drag = Some((to_px(p), to_px(p)));
                }
                if resp.dragged()
                    && let (Some((a, _)), Some(p)) = (self.drag, resp.interact_pointer_pos())
                {
                    self.drag = Some((a, to_px(p)));
                }
                if resp.drag_stopped()
                    && let Some((a, b)) = self.drag.take()
                {
                    let r = rect_of(a, b);
                    if r[2] >= 1.0 && r[3] >= 1.0 {
                        self.last_rect = Some(r);
                        if self.mode == DrawMode::Rectangle {
                            actions.push(PrivacyAction::Add(MaskSpec::Region {
                                region: Region {
                                    shape: Shape::Rect {
                                        x: r[0],
                                        y: r[1],
                                        w: r[2],
                                        h: r[3],
                                    },
                                    style: self.region_style,
                                },
                            }));
                        }
                    }
                }
            }
            DrawMode::Polygon => {
                // The second click of a double-click closes instead of
                // adding a point on top of the first.
                if resp.double_clicked() {
                    self.close_polygon(actions);
                } else if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    self.polygon.push(to_px(p));
                }
            }
        }
        if !ui.ctx().egui_wants_keyboard_input() {
            if ui.input(|i| i.key_pressed(Key::Enter)) {
                self.close_polygon(actions);
            }
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                self.polygon.clear();
                self.drag = None;
            }
        }
    }

    /// The crop, with what lies outside it dimmed.
    fn paint_crop(&self, painter: &egui::Painter, view: &View) {
        if let Some(Window::Image { x, y, w, h }) = self.window() {
            let crop = Rect::from_two_pos(
                view.to_screen(f64::from(x), f64::from(y)),
                view.to_screen(f64::from(x + w), f64::from(y + h)),
            );
            dim_outside(painter, view.image_rect, crop);
            painter.rect_stroke(
                crop,
                0.0,
                Stroke::new(2.0, Color32::WHITE),
                StrokeKind::Middle,
            );
            chip(
                painter,
                crop.left_top(),
                "crop: only this travels",
                Color32::WHITE,
            );
        }
    }

    /// Every region not rejected, in its status colour with its number and style.
    fn paint_regions(&self, painter: &egui::Painter, view: &View, rect: Rect) {
        for m in self.masks() {
            let MaskSpec::Region { region } = &m.spec else {
                continue;
            };
            if m.status == "rejected" {
                continue;
            }
            let colour = status_colour(&m.status);
            let stroke = Stroke::new(2.0, colour);
            let corner = match &region.shape {
                Shape::Rect { x, y, w, h } => {
                    let r =
                        Rect::from_two_pos(view.to_screen(*x, *y), view.to_screen(x + w, y + h));
                    painter.rect(
                        r,
                        0.0,
                        colour.gamma_multiply(0.25),
                        stroke,
                        StrokeKind::Middle,
                    );
                    r.left_top()
                }
                Shape::Polygon { points } => {
                    let pts: Vec<Pos2> =
                        points.iter().map(|p| view.to_screen(p[0], p[1])).collect();
                    painter.add(egui::Shape::closed_line(pts.clone(), stroke));
                    pts.iter()
                        .copied()
                        .reduce(|a, b| a.min(b))
                        .unwrap_or(rect.left_top())
                }
            };
            let label = format!("#{} {}", m.id, region_style_name(region.style));
            chip(painter, corner, &label, colour);
        }
    }

    /// What is being drawn: the rectangle being dragged (or, in crop mode,
    /// the last one drawn, dashed) and the polygon's corners so far.
    fn paint_drawing(&self, painter: &egui::Painter, view: &View, hover: Option<Pos2>) {
        if let Some((a, b)) = self.drag {
            let r = Rect::from_two_pos(view.to_screen(a[0], a[1]), view.to_screen(b[0], b[1]));
            painter.rect_stroke(r, 0.0, Stroke::new(2.0, DRAW), StrokeKind::Middle);
        } else if self.mode == DrawMode::Crop
            && let Some([x, y, w, h]) = self.last_rect
        {
            let r = Rect::from_two_pos(view.to_screen(x, y), view.to_screen(x + w, y + h));
            let corners = [
                r.left_top(),
                r.right_top(),
                r.right_bottom(),
                r.left_bottom(),
                r.left_top(),
            ];
            painter.extend(egui::Shape::dashed_line(
                &corners,
                Stroke::new(2.0, DRAW),
                6.0,
                4.0,
            ));
        }
        if !self.polygon.is_empty() {
            let mut pts: Vec<Pos2> = self
                .polygon
                .iter()
                .map(|p| view.to_screen(p[0], p[1]))
                .collect();
            for p in &pts {
                painter.circle_filled(*p, 3.5, DRAW);
            }
            if let Some(hover) = hover {
                pts.push(hover);
            }
            painter.add(egui::Shape::line(pts, Stroke::new(2.0, DRAW)));
        }
    }
}

/// Darkens what lies outside `keep` inside `area` (what does not travel).
pub(super) fn dim_outside(painter: &egui::Painter, area: Rect, keep: Rect) {
    let shade = Color32::from_black_alpha(140);
    let keep = keep.intersect(area);
    for r in [
        Rect::from_min_max(area.min, egui::pos2(area.max.x, keep.min.y)),
        Rect::from_min_max(egui::pos2(area.min.x, keep.max.y), area.max),
        Rect::from_min_max(
            egui::pos2(area.min.x, keep.min.y),
            egui::pos2(keep.min.x, keep.max.y),
        ),
        Rect::from_min_max(
            egui::pos2(keep.max.x, keep.min.y),
            egui::pos2(area.max.x, keep.max.y),
        ),
    ] {
        if r.is_positive() {
            painter.rect_filled(r, 0.0, shade);
        }
    }
}

/// A small label on a dark chip at `at` (top-left corner of a shape).
pub(super) fn chip(painter: &egui::Painter, at: Pos2, text: &str, colour: Color32) {
    let galley = painter.layout_no_wrap(text.to_string(), FontId::proportional(12.0), colour);
    let rect = Rect::from_min_size(at, galley.size() + Vec2::new(6.0, 2.0));
    painter.rect_filled(rect, 2.0, Color32::from_black_alpha(170));
    painter.galley(at + Vec2::new(3.0, 1.0), galley, colour);
}

/// Applies a template to every image; the controller leaves alone those
/// that already carry it.
pub(super) fn apply_template(session: &mut Session, name: &str) -> Result<String, CoreError> {
    let images: Vec<i64> = session
        .items()?
        .into_iter()
        .filter(|i| i.width.is_some() && i.height.is_some())
        .map(|i| i.id)
        .collect();
    let done = session.template_apply(name, &images)?;
    Ok(format!(
        "Template '{name}': {} region(s) added to {} image(s); {} already carried it",
        done.regions,
        done.images.len(),
        done.already_carried.len()
    ))
}
