//! The Privacy screen for a text: proposals and spans to mask, the text with
//! its masks drawn, the mask style.

use super::*;

impl PrivacyView {
    pub(super) fn text_controls(
        &mut self,
        ui: &mut egui::Ui,
        text: Option<&str>,
        actions: &mut Vec<PrivacyAction>,
    ) {
        ui.heading("Personal data in the text");
        if ui
            .button("Propose (run detector)")
            .on_hover_text(
                "Finds e-mails, phones, IBANs, cards, dates of birth, ids and the listed \
                 names; each becomes a proposal to accept or reject",
            )
            .clicked()
        {
            actions.push(PrivacyAction::Propose);
        }
        self.text_settings_ui(ui, actions);
        ui.separator();

        self.text_selection_ui(ui, text, actions);
        self.pending_by_type_ui(ui, actions);

        if self.snippets.is_none()
            && let Some(t) = text
        {
            self.snippets = Some(snippets(t, self.masks()));
        }
        let mut rows: Vec<&Mask> = self.masks().iter().collect();
        rows.sort_by_key(|m| match m.spec {
            MaskSpec::Text { start, .. } => start,
            _ => u64::MAX,
        });
        ui.label(RichText::new(format!("Masks ({})", rows.len())).strong());
        if rows.is_empty() {
            ui.small("None yet: run the detector or add a selection");
        }
        let snippets = self.snippets.as_ref();
        let mut decisions = Vec::new();
        for m in rows {
            let words = snippets
                .and_then(|s| s.get(&m.id))
                .map(|w| format!("“{w}”"))
                .unwrap_or_default();
            mask_row_ui(ui, m, &words, &mut decisions);
        }
        actions.extend(decisions);
    }

    /// The selected text: what it is, masking it, or sending only it.
    fn text_selection_ui(
        &mut self,
        ui: &mut egui::Ui,
        text: Option<&str>,
        actions: &mut Vec<PrivacyAction>,
    ) {
        match self.selection {
            Some((s, e)) => {
                let words: String = text
                    .map(|t| t.chars().skip(s).take((e - s).min(60)).collect())
                    .unwrap_or_default();
                ui.label(format!("Selected chars {s}..{e}: “{words}”"));
            }
            None => {
                ui.small("Select text on the left to mask it or to send only that excerpt");
            }
        }
        ui.horizontal(|ui| {
            let add = ui
                .add_enabled(
                    self.selection.is_some(),
                    egui::Button::new("Add selection as"),
                )
                .on_hover_text("Masks the selected chars (accepted at once)");
            egui::ComboBox::from_id_salt("privacy-add-type")
                .selected_text(self.add_type.tag())
                .show_ui(ui, |ui| {
                    for t in ADD_TYPES {
                        ui.selectable_value(&mut self.add_type, t, t.tag());
                    }
                });
            if add.clicked()
                && let Some((start, end)) = self.selection.take()
            {
                actions.push(PrivacyAction::Add(MaskSpec::Text {
                    start: start as u64,
                    end: end as u64,
                    pii_type: self.add_type,
                }));
            }
        });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    self.selection.is_some(),
                    egui::Button::new("Use selection as excerpt"),
                )
                .on_hover_text("Only the selected chars travel; labels map back exactly")
                .clicked()
                && let Some((start, end)) = self.selection
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Text {
                    start: start as u64,
                    end: end as u64,
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
        ui.separator();
    }

    /// Bulk review: every pending proposal of a type on this item at once.
    fn pending_by_type_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        let mut pending: Vec<(PiiType, usize)> = Vec::new();
        for m in self.masks().iter().filter(|m| m.status == "proposed") {
            if let MaskSpec::Text { pii_type, .. } = m.spec {
                match pending.iter_mut().find(|(t, _)| *t == pii_type) {
                    Some((_, n)) => *n += 1,
                    None => pending.push((pii_type, 1)),
                }
            }
        }
        pending.sort();
        if !pending.is_empty() {
            ui.label(RichText::new("Pending proposals by type").strong());
        }
        for (t, n) in pending {
            ui.horizontal(|ui| {
                if ui.button(format!("Accept all {} ({n})", t.tag())).clicked() {
                    actions.push(PrivacyAction::DecideType {
                        pii_type: t,
                        accept: true,
                    });
                }
                if ui.button(format!("Reject all {} ({n})", t.tag())).clicked() {
                    actions.push(PrivacyAction::DecideType {
                        pii_type: t,
                        accept: false,
                    });
                }
            });
        }
    }

    pub(super) fn text_settings_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.horizontal(|ui| {
            let l = ui.label("Mask style");
            let before = self.mask_style.clone();
            egui::ComboBox::from_id_salt("privacy-mask-style")
                .selected_text(match self.mask_style.as_str() {
                    "tag" => "tag: [EMAIL]███",
                    "char" => "one character",
                    _ => "block: ████",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.mask_style, "block".into(), "block: ████");
                    ui.selectable_value(&mut self.mask_style, "tag".into(), "tag: [EMAIL]███");
                    ui.selectable_value(&mut self.mask_style, "char".into(), "one character");
                })
                .response
                .labelled_by(l.id);
            let mut changed = self.mask_style != before;
            if self.mask_style == "char" {
                let c = ui
                    .add(egui::TextEdit::singleline(&mut self.mask_char).desired_width(24.0))
                    .on_hover_text("The character every masked char becomes");
                changed |= c.lost_focus();
            }
            if changed {
                let value = if self.mask_style == "char" {
                    format!("char:{}", self.mask_char.trim())
                } else {
                    self.mask_style.clone()
                };
                actions.push(PrivacyAction::Setting {
                    key: "mask_style",
                    value,
                });
            }
        });
        let mut auto = self.auto_pii;
        if ui
            .checkbox(&mut auto, "Also mask what the detector finds at packaging")
            .on_hover_text(
                "mask_pii = auto: every high-confidence detection that was not rejected \
                 is masked too, in texts and transcripts",
            )
            .changed()
        {
            actions.push(PrivacyAction::Setting {
                key: "mask_pii",
                value: if auto { "auto" } else { "off" }.into(),
            });
        }
        egui::CollapsingHeader::new("Person names the detector looks for")
            .id_salt("privacy-names")
            .show(ui, |ui| {
                let l = ui.label("One name per line (whole words, case-sensitive)");
                let edit = ui
                    .add(
                        egui::TextEdit::multiline(&mut self.pii_names)
                            .desired_rows(3)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id);
                if edit.changed() {
                    self.names_dirty = true;
                }
                if ui.button("Save names").clicked() {
                    actions.push(PrivacyAction::Setting {
                        key: "pii_names",
                        value: self.pii_names.clone(),
                    });
                }
            });
    }

    pub(super) fn text_ui(&mut self, ui: &mut egui::Ui, text: &str) {
        let id = egui::Id::unique(("privacy-text", self.item.id));
        let focused = ui.memory(|m| m.has_focus(id));
        let marks: Vec<(usize, usize, &str)> = self
            .masks()
            .iter()
            .filter_map(|m| match m.spec {
                MaskSpec::Text { start, end, .. } => {
                    Some((start as usize, end as usize, m.status.as_str()))
                }
                _ => None,
            })
            .collect();
        let excerpt = match self.window() {
            Some(Window::Text { start, end }) => Some((start as usize, end as usize)),
            _ => None,
        };
        // A focused TextEdit paints its own selection; once the admin
        // clicks a button it loses focus (and egui drops the selection),
        // so the remembered one is painted instead.
        let selection = if focused { None } else { self.selection };
        let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, wrap: f32| {
            let job = text_job(ui, buf.as_str(), &marks, excerpt, selection, wrap);
            ui.fonts_mut(|f| f.layout_job(job))
        };
        let mut shown: &str = text;
        let out = egui::ScrollArea::vertical()
            .id_salt("privacy-text-scroll")
            .auto_shrink(false)
            .show(ui, |ui| {
                egui::TextEdit::multiline(&mut shown)
                    .id(id)
                    .desired_width(f32::INFINITY)
                    .layouter(&mut layouter)
                    .show(ui)
            })
            .inner;
        if let Some(range) = out.cursor_range {
            let r = range.as_sorted_char_range();
            let (s, e) = (r.start.0, r.end.0);
            self.selection = (s < e).then_some((s, e));
        }
        self.text_layout = Some((out.galley_pos, out.galley));
    }
}

/// The original's words under each text mask, in one pass over the text.
pub(super) fn snippets(text: &str, masks: &[Mask]) -> HashMap<i64, String> {
    const MAX: usize = 48;
    let spans: Vec<(i64, usize, usize)> = masks
        .iter()
        .filter_map(|m| match m.spec {
            MaskSpec::Text { start, end, .. } => Some((m.id, start as usize, end as usize)),
            _ => None,
        })
        .collect();
    let mut out: HashMap<i64, String> = HashMap::new();
    for (i, c) in text.chars().enumerate() {
        for (id, s, e) in &spans {
            if (*s..*e).contains(&i) && i - s < MAX {
                out.entry(*id).or_default().push(c);
            }
        }
    }
    out
}

/// The text laid out with each char's decision: amber background when
/// proposed, red when accepted (masked), grey and struck through when
/// rejected; chars outside an excerpt are dimmed; `selection` is painted
/// as a selection.
pub(super) fn text_job(
    ui: &egui::Ui,
    text: &str,
    marks: &[(usize, usize, &str)],
    excerpt: Option<(usize, usize)>,
    selection: Option<(usize, usize)>,
    wrap: f32,
) -> LayoutJob {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        None,
        Rejected,
        Proposed,
        Accepted,
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut mark = vec![Mark::None; n];
    for &(s, e, status) in marks {
        let m = match status {
            "accepted" => Mark::Accepted,
            "proposed" => Mark::Proposed,
            _ => Mark::Rejected,
        };
        for slot in mark.iter_mut().take(e.min(n)).skip(s) {
            // Masked wins over pending, pending over kept.
            let rank = |m: Mark| m as u8;
            if rank(m) > rank(*slot) {
                *slot = m;
            }
        }
    }
    let visuals = ui.visuals();
    let font = FontId::proportional(15.0);
    let format_at = |i: usize| {
        let outside = excerpt.is_some_and(|(s, e)| i < s || i >= e);
        let colour = if outside {
            visuals.weak_text_color()
        } else {
            visuals.text_color()
        };
        let mut f = TextFormat::simple(font.clone(), colour);
        match mark[i] {
            Mark::Accepted => f.background = RED.gamma_multiply(0.45),
            Mark::Proposed => f.background = AMBER.gamma_multiply(0.4),
            Mark::Rejected => {
                f.color = GREY;
                f.strikethrough = Stroke::new(1.0, GREY);
            }
            Mark::None => {}
        }
        if selection.is_some_and(|(s, e)| i >= s && i < e) {
            f.background = SELECTION_BG;
        }
        f
    };
    let mut job = LayoutJob {
        wrap: egui::text::TextWrapping {
            max_width: wrap,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut start = 0;
    let mut current = (n > 0).then(|| format_at(0));
    for i in 1..=n {
        let next = (i < n).then(|| format_at(i));
        if next != current {
            if let Some(f) = current.take() {
                let piece: String = chars[start..i].iter().collect();
                job.append(&piece, 0.0, f);
            }
            start = i;
            current = next;
        }
    }
    job
}
