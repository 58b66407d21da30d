//! The Privacy screen for a recording: time ranges to mute or tone, the
//! window, and the waveform with both drawn on it.

use super::*;

impl PrivacyView {
    pub(super) fn audio_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        let duration = self.item.duration_secs.unwrap_or(0.0);
        ui.heading("Time ranges of the recording");
        if ui
            .button("Propose from transcripts")
            .on_hover_text(
                "A segment whose transcript holds personal data proposes muting its time range",
            )
            .clicked()
        {
            actions.push(PrivacyAction::Propose);
        }
        ui.small("Drag on the timeline, or type the times:");
        egui::Grid::new("privacy-audio-range").show(ui, |ui| {
            let l = ui.label("Start");
            ui.add(
                egui::DragValue::new(&mut self.range.0)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            let l = ui.label("End");
            ui.add(
                egui::DragValue::new(&mut self.range.1)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Style");
            let mut style = self.audio_style;
            egui::ComboBox::from_id_salt("privacy-audio-style")
                .selected_text(audio_style_name(style))
                .show_ui(ui, |ui| {
                    for s in AUDIO_STYLES {
                        ui.selectable_value(&mut style, s, audio_style_name(s));
                    }
                })
                .response
                .labelled_by(l.id);
            if style != self.audio_style {
                actions.push(PrivacyAction::Setting {
                    key: "mask_audio_style",
                    value: audio_style_name(style).into(),
                });
            }
            if ui.button("Add range").clicked() {
                actions.push(PrivacyAction::Add(MaskSpec::Audio {
                    range: AudioRange {
                        start_secs: self.range.0.min(self.range.1),
                        end_secs: self.range.0.max(self.range.1),
                        style: self.audio_style,
                    },
                }));
            }
            ui.end_row();
        });
        ui.separator();
        ui.label(RichText::new("Window").strong());
        egui::Grid::new("privacy-audio-window").show(ui, |ui| {
            let l = ui.label("From");
            ui.add(
                egui::DragValue::new(&mut self.window_secs.0)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            let l = ui.label("To");
            ui.add(
                egui::DragValue::new(&mut self.window_secs.1)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui
                .button("Set time window")
                .on_hover_text("Only this part of the recording travels (snapped to whole samples)")
                .clicked()
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Audio {
                    start_secs: self.window_secs.0,
                    end_secs: self.window_secs.1,
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
        ui.separator();
        self.mask_list_ui(ui, "Ranges", actions);
    }

    pub(super) fn audio_ui(&mut self, ui: &mut egui::Ui, duration: f64, peaks: Option<&Peaks>) {
        ui.label(format!("Recording of {duration:.1} s"));
        let size = egui::vec2(ui.available_width(), 180.0_f32.min(ui.available_height()));
        let (rect, resp) = ui.allocate_exact_size(size, Sense::click_and_drag());
        self.timeline = Some((rect, duration));
        let d = duration.max(1e-9);
        let x_of = |t: f64| rect.left() + (t / d) as f32 * rect.width();
        let t_of =
            |x: f32| (f64::from((x - rect.left()) / rect.width().max(1.0)) * d).clamp(0.0, d);
        if resp.drag_started()
            && let Some(p) = ui.input(|i| i.pointer.press_origin())
        {
            let t = t_of(p.x);
            self.range = (t, t);
        }
        if resp.dragged()
            && let Some(p) = resp.interact_pointer_pos()
        {
            self.range.1 = t_of(p.x);
        }
        if resp.drag_stopped() && self.range.0 > self.range.1 {
            self.range = (self.range.1, self.range.0);
        }

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        if let Some(p) = peaks {
            let mid = rect.center().y;
            let half = rect.height() / 2.0 - 4.0;
            let columns = rect.width().max(1.0) as usize;
            for c in 0..columns {
                let t0 = d * c as f64 / columns as f64;
                let t1 = d * (c + 1) as f64 / columns as f64;
                if let Some((lo, hi)) = p.range(t0, t1) {
                    let x = rect.left() + c as f32 + 0.5;
                    let y = |v: i16| mid - f32::from(v) / f32::from(i16::MAX) * half;
                    painter.line_segment(
                        [egui::pos2(x, y(hi)), egui::pos2(x, y(lo))],
                        Stroke::new(1.0, GREY),
                    );
                }
            }
        }
        if let Some(Window::Audio {
            start_secs,
            end_secs,
        }) = self.window()
        {
            let crop = Rect::from_x_y_ranges(x_of(start_secs)..=x_of(end_secs), rect.y_range());
            dim_outside(&painter, rect, crop);
            painter.rect_stroke(
                crop,
                0.0,
                Stroke::new(2.0, Color32::WHITE),
                StrokeKind::Inside,
            );
        }
        for m in self.masks() {
            let MaskSpec::Audio { range } = &m.spec else {
                continue;
            };
            if m.status == "rejected" {
                continue;
            }
            let colour = status_colour(&m.status);
            let r = Rect::from_x_y_ranges(
                x_of(range.start_secs)..=x_of(range.end_secs),
                rect.y_range(),
            );
            painter.rect(
                r,
                0.0,
                colour.gamma_multiply(0.3),
                Stroke::new(1.5, colour),
                StrokeKind::Inside,
            );
            chip(
                &painter,
                r.left_top(),
                &format!("#{} {}", m.id, audio_style_name(range.style)),
                colour,
            );
        }
        let (a, b) = (
            self.range.0.min(self.range.1),
            self.range.0.max(self.range.1),
        );
        if b > a {
            let r = Rect::from_x_y_ranges(x_of(a)..=x_of(b), rect.y_range());
            painter.rect_stroke(r, 0.0, Stroke::new(2.0, DRAW), StrokeKind::Inside);
        }
        // A tick every whole number of seconds that leaves room for labels.
        let step = [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]
            .into_iter()
            .find(|s| d / s <= 12.0)
            .unwrap_or(600.0);
        let mut t = 0.0;
        while t <= d {
            painter.text(
                egui::pos2(x_of(t) + 2.0, rect.bottom() - 2.0),
                Align2::LEFT_BOTTOM,
                format!("{t:.0} s"),
                FontId::proportional(11.0),
                GREY,
            );
            t += step;
        }
    }
}
