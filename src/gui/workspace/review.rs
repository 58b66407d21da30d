//! Review: who has work on the current item, the reviewer's decisions and
//! correcting mode, and the item's comment thread.

use super::*;

impl Workspace {
    /// The one person whose work on the current item waits for review.
    pub(super) fn only_submitted(&self) -> Option<String> {
        let waiting: Vec<&String> = self
            .item_work
            .iter()
            .filter(|(_, _, _, s)| s == "submitted")
            .map(|(f, _, _, _)| f)
            .collect();
        (waiting.len() == 1).then(|| waiting[0].clone())
    }

    /// Reviewers: each person's work on the item, with its state and the
    /// decisions that apply to it.
    pub(super) fn review_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.item_work.is_empty() {
            return;
        }
        ui.separator();
        ui.heading("Review");
        for (fpr, name, _, state) in &self.item_work {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(name).strong());
                ui.label(state);
                if state == "submitted" {
                    if ui
                        .small_button("Approve")
                        .on_hover_text(self.keymap.tooltip(Command::Approve))
                        .clicked()
                    {
                        self.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Approve));
                    }
                    if ui
                        .small_button("Reject…")
                        .on_hover_text(self.keymap.tooltip(Command::Reject))
                        .clicked()
                    {
                        self.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Reject));
                    }
                }
            });
        }
        if self.item_work.len() >= 2
            && ui
                .button("Start from consensus")
                .on_hover_text("Adds the labels most people agree on (IoU ≥ 0.5, majority) as your own, to correct from")
                .clicked()
        {
            actions.push(WsAction::ApplyConsensus);
        }
        if self.is_correcting() {
            ui.colored_label(
                Color32::from_rgb(240, 200, 90),
                "Correcting: your edits are recorded as yours; C approves",
            );
        } else {
            ui.small("Read-only while reviewing: C to correct");
        }
    }

    /// The name of whoever created a label, when the reviewer knows it.
    pub(super) fn creator_name(&self, fingerprint: &str) -> Option<&str> {
        self.item_work
            .iter()
            .find(|(f, _, _, _)| f == fingerprint)
            .map(|(_, n, _, _)| n.as_str())
    }

    /// Whether this user decides on submitted work.
    pub fn can_review(&self) -> bool {
        self.permits(Command::Approve)
    }

    /// Whether a reviewer is in correcting mode on the current item.
    pub fn is_correcting(&self) -> bool {
        self.correcting.is_some() && self.correcting == self.current_item().map(|i| i.id)
    }

    /// Reviewers: the current item's workers and their states.
    pub(super) fn reload_work(&mut self) {
        self.item_work = match self.current_item().map(|i| i.id) {
            Some(id) if self.can_review() => self.session.item_work(id).unwrap_or_default(),
            _ => Vec::new(),
        };
        self.review_target = None;
    }

    pub(super) fn reload_comments(&mut self) {
        self.comments = match self.current_item().map(|i| i.id) {
            Some(id) => self.session.comments(id).unwrap_or_default(),
            None => Vec::new(),
        };
    }

    /// The item's comment thread and a field to add one (on the selected
    /// label when exactly one is selected).
    pub(super) fn comments_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.current.is_none() {
            return;
        }
        ui.separator();
        ui.heading("Comments");
        if self.comments.is_empty() {
            ui.small("None on this item");
        }
        for c in &self.comments {
            ui.group(|ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(&c.author_name).strong());
                    ui.small(format_time(c.at_ms));
                    if let Some(a) = c.annotation_id {
                        ui.small(format!("on label #{a}"));
                    }
                });
                ui.label(&c.body);
            });
        }
        let label = ui.label(if self.selected.len() == 1 {
            "Comment on the selected label"
        } else {
            "Comment on this item"
        });
        let resp = ui
            .add(
                egui::TextEdit::multiline(&mut self.comment_draft)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        let send = ui
            .add_enabled(
                !self.comment_draft.trim().is_empty(),
                egui::Button::new("Add comment"),
            )
            .clicked()
            || (resp.has_focus() && ui.input(|i| i.key_pressed(Key::Enter) && i.modifiers.command));
        if send && !self.comment_draft.trim().is_empty() {
            actions.push(WsAction::AddComment);
        }
    }
}
