//! The workspace's panels: menus and bars (read from the command table),
//! status bar, the labels side panel and the item in the middle.

use super::*;

impl Workspace {
    pub(super) fn menu_button(&self, ui: &mut egui::Ui, cmd: Command, actions: &mut Vec<WsAction>) {
        let mut button = egui::Button::new(cmd.label());
        let keys = self.keymap.text(cmd);
        if !keys.is_empty() {
            button = button.shortcut_text(keys);
        }
        let mut response = ui.add(button);
        let tooltip = cmd.spec().tooltip;
        if !tooltip.is_empty() {
            response = response.on_hover_text(tooltip);
        }
        if response.clicked() {
            actions.push(WsAction::Run(cmd));
            ui.close();
        }
    }

    /// The menus, each listing the commands whose row names it (those this
    /// user may run on this item), then the buttons of [`Bar::Menu`].
    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        egui::MenuBar::new().ui(ui, |ui| {
            for menu in Menu::ALL {
                ui.menu_button(menu.title(), |ui| {
                    let mut last_group = None;
                    for cmd in Command::ALL {
                        let Some((in_menu, group)) = cmd.spec().menu else {
                            continue;
                        };
                        if in_menu != menu || !self.is_shown(cmd) {
                            continue;
                        }
                        if last_group.is_some_and(|last| last != group) {
                            ui.separator();
                        }
                        last_group = Some(group);
                        self.menu_button(ui, cmd, actions);
                    }
                    if menu == Menu::View {
                        self.privacy_screen_menu_ui(ui);
                    }
                });
            }
            ui.separator();
            for cmd in Command::ALL {
                if let Some((Bar::Menu, text)) = cmd.spec().button
                    && self.is_shown(cmd)
                    && ui
                        .button(text)
                        .on_hover_text(self.keymap.tooltip(cmd))
                        .clicked()
                {
                    actions.push(WsAction::Run(cmd));
                }
            }
        });
    }

    /// The tools of the current item's kind, then (on images) the view
    /// sliders and zoom buttons.
    pub(super) fn toolbar_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let kind = self.current_item().map(|i| i.kind);
        let on_bar = |cmd: Command, bar: Bar| match cmd.spec().button {
            Some((on, text)) if on == bar && kind.is_some_and(|k| cmd.applies_to(k)) => Some(text),
            _ => None,
        };
        ui.horizontal(|ui| {
            for cmd in Command::ALL {
                let Some(text) = on_bar(cmd, Bar::Tools).filter(|_| self.is_shown(cmd)) else {
                    continue;
                };
                let tooltip = self.keymap.tooltip(cmd);
                match cmd.spec().tool {
                    Some(tool) => {
                        if ui
                            .selectable_label(self.tool == tool, text)
                            .on_hover_text(tooltip)
                            .clicked()
                        {
                            actions.push(WsAction::SelectTool(tool));
                        }
                    }
                    None => {
                        if ui.button(text).on_hover_text(tooltip).clicked() {
                            actions.push(WsAction::Run(cmd));
                        }
                    }
                }
            }
            self.adjusting = false;
            if kind != Some(ItemKind::Image) {
                return;
            }
            ui.separator();
            ui.label("Opacity");
            ui.add(egui::Slider::new(&mut self.opacity, 0.0..=1.0).show_value(false));
            let b = ui.label("Brightness");
            let rb = ui
                .add(egui::Slider::new(&mut self.adjust.brightness, -0.5..=0.5).show_value(false))
                .labelled_by(b.id)
                .on_hover_text("View only: the image itself is not changed");
            let c = ui.label("Contrast");
            let rc = ui
                .add(egui::Slider::new(&mut self.adjust.contrast, 0.5..=2.0).show_value(false))
                .labelled_by(c.id)
                .on_hover_text("View only: the image itself is not changed");
            self.adjusting = rb.dragged() || rc.dragged();
            if self.adjust != Adjust::default() && ui.small_button("Reset view").clicked() {
                self.adjust = Adjust::default();
            }
            ui.separator();
            for cmd in Command::ALL {
                if let Some(text) = on_bar(cmd, Bar::View)
                    && ui
                        .button(text)
                        .on_hover_text(self.keymap.tooltip(cmd))
                        .clicked()
                {
                    actions.push(WsAction::Run(cmd));
                }
            }
            if let Some(scale) = self.canvas.scale().filter(|_| self.has_image()) {
                ui.label(format!("{:.0} %", scale * 100.0));
            }
        });
    }

    pub(super) fn status_ui(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let user = self.session.user();
            ui.label(format!(
                "{} · {} ({})",
                self.session.project_name(),
                user.name,
                user.role
            ));
            ui.separator();
            if let Some(at) = self.expiry.expires_at {
                let when = crate::gui::governance_view::short_time(at);
                let text = if self.expiry.expired {
                    format!("Work package expired {when} UTC")
                } else {
                    format!("Work package expires {when} UTC")
                };
                ui.label(RichText::new(text).color(Color32::from_rgb(240, 175, 40)));
                ui.separator();
            }
            if let Some(i) = self.queue.current {
                ui.label(format!("item {} of {}", i + 1, self.queue.items.len()));
                ui.separator();
            }
            ui.label(format!("tool: {}", self.tool.label()));
            if let Some(a) = &self.acceptance {
                ui.separator();
                ui.label(a)
                    .on_hover_text("Your work accepted by reviewers (approved or corrected)");
            }
            if let Some((x, y)) = self.canvas.cursor.filter(|_| self.has_image()) {
                ui.separator();
                ui.monospace(format!("{x:.0}, {y:.0} px"));
            }
            ui.separator();
            match &self.save_state {
                SaveState::Idle => {
                    ui.label("No changes yet");
                }
                SaveState::Saved { at_ms } => {
                    let time = format_time(*at_ms);
                    ui.label(
                        RichText::new(format!("Saved {}", time.get(11..19).unwrap_or(&time)))
                            .color(Color32::from_rgb(90, 200, 120)),
                    );
                }
                SaveState::Failed(e) => {
                    ui.label(
                        RichText::new(format!("Not saved: {e}"))
                            .color(Color32::from_rgb(240, 90, 90)),
                    );
                }
            }
            if let Some(msg) = &self.message {
                ui.separator();
                ui.label(RichText::new(msg).color(Color32::from_rgb(240, 200, 90)));
            }
        });
    }

    pub(super) fn labels_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        egui::ScrollArea::vertical()
            .id_salt("right-panel")
            .show(ui, |ui| {
                self.classes_ui(ui, actions);
                self.tags_ui(ui, actions);
                self.label_list_ui(ui, actions);
                self.transcript_ui(ui, actions);
                self.attributes_ui(ui, actions);
                self.consent_ui(ui);
                self.review_ui(ui, actions);
                self.comments_ui(ui, actions);
            });
    }

    /// The schema's classes with their colours and keys; a click makes one active.
    fn classes_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.heading("Classes");
        for class in &self.schema.classes {
            let [r, g, b] = class.rgb();
            let key = class.hotkey.map(|k| format!("{k}  ")).unwrap_or_default();
            let colour = Color32::from_rgb(r, g, b);
            let resp = ui
                .horizontal(|ui| {
                    let (swatch, _) =
                        ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                    ui.painter().rect_filled(swatch, 2.0, colour);
                    ui.selectable_label(
                        self.active_class == Some(class.id),
                        format!("{key}{}", class.name),
                    )
                })
                .inner;
            let tools: Vec<&str> = class.tools.iter().map(|t| t.label()).collect();
            let resp = resp.on_hover_text(format!(
                "{}{} — tools: {}",
                class.name,
                class
                    .hotkey
                    .map(|k| format!(" (key {k})"))
                    .unwrap_or_default(),
                tools.join(", ")
            ));
            if resp.clicked() {
                actions.push(WsAction::SelectClass(class.id));
            }
        }
    }

    /// Whole-item tags (image, recording or document classes) as checkboxes.
    fn tags_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        // Tags classify any item: image, recording or document.
        let has_item = self.current_item().is_some();
        let taggable: Vec<&LabelClass> = self
            .schema
            .classes
            .iter()
            .filter(|c| c.allows(Tool::Tag))
            .collect();
        if has_item && !taggable.is_empty() {
            ui.separator();
            ui.heading("Tags");
            ui.label(if self.schema.multi_label_tags {
                "Several allowed"
            } else {
                "One per item"
            });
            ui.horizontal_wrapped(|ui| {
                for class in taggable {
                    let mut on = self
                        .annotations
                        .iter()
                        .any(|a| a.class_id == class.id && a.geometry == Geometry::Tag);
                    if ui.checkbox(&mut on, &class.name).changed() {
                        actions.push(WsAction::ToggleTag(class.id));
                    }
                }
            });
        }
    }

    /// The item's labels, newest first, each with hide, lock and delete.
    fn label_list_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.separator();
        ui.heading("Labels");
        let shapes: Vec<&Annotation> = self
            .annotations
            .iter()
            .filter(|a| a.geometry != Geometry::Tag)
            .collect();
        if shapes.is_empty() {
            ui.label(match self.current_item().map(|i| i.kind) {
                Some(ItemKind::Image) => "None yet: pick a tool and draw on the image",
                Some(ItemKind::Text) => {
                    "None yet: select text, then press a class key (1–9) or Enter"
                }
                Some(ItemKind::Audio) => "None yet: drag on the waveform to add a segment",
                None => "",
            });
        }
        for a in shapes.iter().rev() {
            let class = self.schema.classes.iter().find(|c| c.id == a.class_id);
            let name = class.map(|c| c.name.as_str()).unwrap_or("?");
            ui.horizontal(|ui| {
                let by = self
                    .creator_name(&a.created_by)
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default();
                let predicted = a
                    .source
                    .as_ref()
                    .map(|src| match a.score {
                        Some(p) => format!(" · predicted {p:.2} ({src})"),
                        None => format!(" · predicted ({src})"),
                    })
                    .unwrap_or_default();
                let text = format!(
                    "#{} {name} · {}{by}{predicted}",
                    a.id,
                    a.geometry.tool().label().to_lowercase()
                );
                let resp = ui.selectable_label(self.selected.contains(&a.id), text);
                if resp.clicked() {
                    let additive = ui.input(|i| i.modifiers.command || i.modifiers.shift);
                    actions.push(WsAction::SelectAnnotation {
                        id: Some(a.id),
                        additive,
                    });
                }
                if ui
                    .small_button(if a.hidden { "show" } else { "hide" })
                    .on_hover_text(self.keymap.tooltip(Command::ToggleHidden))
                    .clicked()
                {
                    actions.push(WsAction::SetHidden(a.id, !a.hidden));
                }
                if ui
                    .small_button(if a.locked { "unlock" } else { "lock" })
                    .on_hover_text(self.keymap.tooltip(Command::ToggleLocked))
                    .clicked()
                {
                    actions.push(WsAction::SetLocked(a.id, !a.locked));
                }
                if ui
                    .small_button("x")
                    .on_hover_text(format!("Delete #{}", a.id))
                    .clicked()
                {
                    actions.push(WsAction::Delete(a.id));
                }
            });
        }
    }

    /// The transcript of the single selected segment, saved when the field is left.
    fn transcript_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        // Transcript of the single selected segment, saved when the field is left.
        if self.selected.len() == 1
            && let Some(a) = self
                .annotations
                .iter()
                .find(|a| self.selected.contains(&a.id))
            && let Geometry::Segment {
                start_secs,
                end_secs,
                transcript,
            } = &a.geometry
        {
            ui.separator();
            ui.heading(format!(
                "Segment #{} · {start_secs:.2}–{end_secs:.2} s",
                a.id
            ));
            let label = ui.label("Transcript");
            let id = ui.scope_id().with(("transcript", a.id));
            let mut text = ui
                .data_mut(|d| d.get_temp::<String>(id))
                .unwrap_or_else(|| transcript.clone());
            let resp = ui
                .add(
                    egui::TextEdit::multiline(&mut text)
                        .desired_rows(3)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            if resp.changed() {
                ui.data_mut(|d| d.insert_temp(id, text.clone()));
            }
            if resp.lost_focus() && text != *transcript {
                ui.data_mut(|d| d.remove::<String>(id));
                actions.push(WsAction::SetTranscript { id: a.id, text });
            }
        }
    }

    /// The attributes of the single selected label.
    fn attributes_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        // Attributes of the single selected label.
        if self.selected.len() == 1
            && let Some(a) = self
                .annotations
                .iter()
                .find(|a| self.selected.contains(&a.id))
            && let Some(class) = self.schema.classes.iter().find(|c| c.id == a.class_id)
            && !class.attributes.is_empty()
        {
            ui.separator();
            ui.heading(format!("Attributes of #{}", a.id));
            for def in &class.attributes {
                let current = a
                    .attributes
                    .get(&def.name)
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                let label = if def.required {
                    format!("{} *", def.name)
                } else {
                    def.name.clone()
                };
                ui.horizontal(|ui| match &def.kind {
                    AttributeKind::Bool => {
                        let mut on = current.as_bool().unwrap_or(false);
                        if ui.checkbox(&mut on, &label).changed() {
                            actions.push(WsAction::SetAttribute {
                                id: a.id,
                                name: def.name.clone(),
                                value: on.into(),
                            });
                        }
                    }
                    AttributeKind::Enum { options } => {
                        let l = ui.label(&label);
                        let chosen = current.as_str().unwrap_or("—").to_string();
                        egui::ComboBox::from_id_salt(("attr", a.id, &def.name))
                            .selected_text(&chosen)
                            .show_ui(ui, |ui| {
                                for o in options {
                                    if ui.selectable_label(chosen == *o, o).clicked() {
                                        actions.push(WsAction::SetAttribute {
                                            id: a.id,
                                            name: def.name.clone(),
                                            value: o.clone().into(),
                                        });
                                    }
                                }
                            })
                            .response
                            .labelled_by(l.id);
                    }
                    AttributeKind::Text => {
                        let l = ui.label(&label);
                        let id = ui.scope_id().with(("attr-text", a.id, &def.name));
                        let mut text = ui
                            .data_mut(|d| d.get_temp::<String>(id))
                            .unwrap_or_else(|| current.as_str().unwrap_or("").to_string());
                        let resp = ui.text_edit_singleline(&mut text).labelled_by(l.id);
                        if resp.changed() {
                            ui.data_mut(|d| d.insert_temp(id, text.clone()));
                        }
                        // Saved when the field is left: one revision per edit, not per key.
                        if resp.lost_focus() && current.as_str() != Some(text.as_str()) {
                            ui.data_mut(|d| d.remove::<String>(id));
                            actions.push(WsAction::SetAttribute {
                                id: a.id,
                                name: def.name.clone(),
                                value: text.into(),
                            });
                        }
                    }
                });
            }
            if class.attributes.iter().any(|d| d.required) {
                ui.small("* required before submit");
            }
        }
    }

    pub(super) fn item_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let panel = ui.max_rect();
        self.item_content_ui(ui, actions);
        // The canvas draws its own watermark; recordings and documents get it here.
        if let Some(text) = &self.watermark
            && !matches!(self.view, ItemView::Image { .. })
        {
            canvas::paint_watermark(&ui.painter_at(panel), panel, text);
        }
    }

    /// Keeps the image's textures in step with the view: re-uploads the
    /// preview once new brightness/contrast is let go (dropping the
    /// full-resolution tiles), and uploads the tiles when zoomed in beyond
    /// what the preview holds.
    fn refresh_image_textures(&mut self, ctx: &egui::Context) {
        let wants_full = match (&self.view, self.canvas.scale()) {
            (
                ItemView::Image {
                    preview,
                    full_pixels: Some(_),
                    full: None,
                    width,
                    ..
                },
                Some(scale),
            ) => {
                // Zoomed in beyond what the preview holds: upload full resolution.
                scale * (*width as f32) > preview.size()[0] as f32 * 1.05
            }
            _ => false,
        };
        // New brightness/contrast: re-upload the preview once the slider is
        // let go, and drop full-resolution tiles (re-made when needed).
        if !self.adjusting
            && let ItemView::Image {
                preview,
                preview_pixels,
                applied,
                full,
                ..
            } = &mut self.view
            && *applied != self.adjust
        {
            preview.set(
                self.adjust.apply(preview_pixels),
                egui::TextureOptions::LINEAR,
            );
            *applied = self.adjust;
            *full = None;
        }
        let adjust = self.adjust;
        if wants_full
            && let ItemView::Image {
                full_pixels: Some(pixels),
                full,
                ..
            } = &mut self.view
        {
            let uploaded = pixels
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let name = format!("item-tile-{i}");
                    let tex = ctx.load_texture(
                        name,
                        adjust.apply(&t.image),
                        egui::TextureOptions::LINEAR,
                    );
                    (t.rect, tex)
                })
                .collect();
            *full = Some(uploaded);
        }
    }

    /// What the content area says when there is no item to show.
    fn no_item_text(&self) -> String {
        if permissions::allowed(self.session.role(), Action::ListItems) {
            "No items are assigned to you yet".to_string()
        } else {
            format!(
                "No items to show in this role: File → {} ({})",
                Command::AccessReview.label(),
                self.keymap.text(Command::AccessReview)
            )
        }
    }

    pub(super) fn item_content_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        self.refresh_image_textures(ui.ctx());
        let watermark = self.watermark.clone();
        let title = self
            .current_item()
            .map(|i| i.name.clone())
            .unwrap_or_default();
        match &self.view {
            ItemView::Empty => {
                let text = self.no_item_text();
                ui.centered_and_justified(|ui| ui.label(text));
            }
            // Images never stay in Decoded: show() turns them into textures,
            // and tiles are attached to the image view.
            ItemView::Loading
            | ItemView::Decoded(LoadedContent::Image { .. })
            | ItemView::Decoded(LoadedContent::Tiles(_)) => {
                ui.centered_and_justified(|ui| ui.spinner());
            }
            ItemView::Decoded(LoadedContent::Failed(e)) => {
                ui.colored_label(
                    Color32::from_rgb(240, 90, 90),
                    format!("This item cannot be shown: {e}"),
                );
            }
            ItemView::Image {
                preview,
                full,
                width,
                height,
                ..
            } => {
                let zoomed_in = self
                    .canvas
                    .scale()
                    .is_some_and(|s| s * (*width as f32) > preview.size()[0] as f32 * 1.05);
                let tiles = match full {
                    Some(tiles) if zoomed_in => Some(tiles.as_slice()),
                    _ => None,
                };
                let input = CanvasInput {
                    texture: preview,
                    tiles,
                    width: *width,
                    height: *height,
                    annotations: &self.annotations,
                    classes: &self.schema.classes,
                    selected: &self.selected,
                    active_class: self
                        .active_class
                        .and_then(|id| self.schema.classes.iter().find(|c| c.id == id)),
                    tool: self.tool,
                    opacity: self.opacity,
                    tint: Color32::WHITE,
                    watermark: watermark.as_deref(),
                };
                let out = canvas::canvas_ui(ui, &mut self.canvas, &input);
                actions.extend(out.into_iter().map(WsAction::Canvas));
            }
            ItemView::Decoded(LoadedContent::Audio {
                format,
                duration_secs,
                peaks,
                ..
            }) => {
                if self.playback.playing_since.is_some() {
                    if self.playback.tick(*duration_secs) {
                        actions.push(WsAction::Run(Command::PlaySelection));
                    }
                    ui.ctx().request_repaint();
                }
                let playhead = self.playback.playhead
                    + self
                        .playback
                        .playing_since
                        .map_or(0.0, |s| s.elapsed().as_secs_f64());
                ui.heading(&title);
                let about = format!("{format} audio, {duration_secs:.1} s");
                transport_ui(
                    ui,
                    &mut self.playback,
                    &self.keymap,
                    &about,
                    playhead,
                    actions,
                );
                let out = audio_ui(
                    ui,
                    &mut self.audio_view,
                    peaks.as_ref(),
                    *duration_secs,
                    &self.annotations,
                    &self.schema.classes,
                    &self.selected,
                    playhead,
                );
                actions.extend(out.into_iter().map(WsAction::Audio));
            }
            ItemView::Decoded(LoadedContent::Text { text, metadata }) => {
                ui.heading(&title);
                metadata_ui(ui, metadata);
                ui.separator();
                egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .show(ui, |ui| {
                        let out = text_ui(
                            ui,
                            &mut self.text_view,
                            text,
                            &self.annotations,
                            &self.schema.classes,
                            &self.selected,
                        );
                        // Ctrl or Shift + click adds a span to the selection.
                        let additive = ui.input(|i| i.modifiers.command || i.modifiers.shift);
                        for TextAction::Select(id) in out {
                            actions.push(WsAction::SelectAnnotation {
                                id,
                                additive: additive && id.is_some(),
                            });
                        }
                    });
            }
        }
    }
}

/// The audio item's transport bar: what it is, play or pause, stop, play
/// the selected segment, loop, and where the playhead is.
fn transport_ui(
    ui: &mut egui::Ui,
    playback: &mut Playback,
    keymap: &Keymap,
    about: &str,
    playhead: f64,
    actions: &mut Vec<WsAction>,
) {
    ui.horizontal(|ui| {
        ui.label(about);
        let label = if playback.playing_since.is_some() {
            "Pause"
        } else {
            "Play"
        };
        if ui
            .button(label)
            .on_hover_text(keymap.tooltip(Command::PlayPause))
            .clicked()
        {
            actions.push(WsAction::Run(Command::PlayPause));
        }
        if ui.button("Stop").clicked() {
            actions.push(WsAction::StopAudio);
        }
        if ui
            .button("Play segment")
            .on_hover_text(keymap.tooltip(Command::PlaySelection))
            .clicked()
        {
            actions.push(WsAction::Run(Command::PlaySelection));
        }
        ui.checkbox(&mut playback.loop_selection, "Loop");
        ui.monospace(format!("{playhead:.2} s"));
        ui.small("drag: new segment · drag an edge: adjust · wheel: zoom · Shift+wheel: scroll");
    });
}

/// A text item's metadata (its source's fields), folded away by default.
fn metadata_ui(ui: &mut egui::Ui, metadata: &serde_json::Value) {
    if let Some(obj) = metadata.as_object().filter(|o| !o.is_empty()) {
        egui::CollapsingHeader::new("Metadata").show(ui, |ui| {
            for (k, v) in obj {
                ui.label(format!("{k}: {v}"));
            }
        });
    }
}
