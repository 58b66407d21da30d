//! Review: who has work on the current item, the reviewer's decisions and
//! correcting mode, and the item's comment thread.

use super::*;

/// What the workspace keeps about reviewing the current item.
#[derive(Default)]
pub(super) struct ReviewState {
    /// The item a reviewer is correcting (reviewers see work read-only
    /// until they choose to correct it).
    pub(super) correcting: Option<i64>,
    /// Comments on the current item this user may read, and the draft.
    pub(super) comments: Vec<crate::controller::Comment>,
    pub(super) comment_draft: String,
    /// Reviewers: who has work on the current item (fingerprint, name,
    /// purpose, state), and whose work the next decision is about.
    pub(super) item_work: Vec<(String, String, String, AssignmentState)>,
    pub(super) review_target: Option<String>,
}

impl Workspace {
    /// Posts the draft comment (on the selected label when exactly one is).
    pub(super) fn add_comment(&mut self) {
        let body = std::mem::take(&mut self.review.comment_draft);
        if let Some(item_id) = self.current_item().map(|i| i.id) {
            let on = (self.selected.len() == 1)
                .then(|| self.selected.iter().next().copied())
                .flatten();
            match self.session.comment(item_id, on, &body) {
                Ok(_) => {
                    self.save_state = SaveState::Saved { at_ms: now_ms() };
                    self.reload_comments();
                }
                Err(e) => {
                    self.fail(e);
                    self.review.comment_draft = body;
                }
            }
        }
    }

    /// Adds the consensus labels as the reviewer's own, to correct from.
    pub(super) fn apply_consensus(&mut self) {
        if let Some(item_id) = self.current_item().map(|i| i.id) {
            match self.session.consensus(item_id) {
                Ok(drafts) => {
                    self.review.correcting = Some(item_id);
                    let n = drafts.len();
                    for draft in drafts {
                        self.save(LabelChange::Create { item_id, draft });
                    }
                    self.tell(format!(
                        "{n} consensus label(s) added as yours; correct them, then C approves"
                    ));
                }
                Err(e) => self.fail(e),
            }
        }
    }

    /// Sends the item back with the reviewer's comment.
    pub(super) fn confirm_reject(&mut self) {
        let comment = self.dialogs.reject_comment.take().unwrap_or_default();
        if let Some(item_id) = self.current_item().map(|i| i.id) {
            let decision = crate::controller::Decision::Reject {
                comment: comment.clone(),
            };
            let target = self.review.review_target.take();
            match self.session.review(item_id, target.as_deref(), decision) {
                Ok(()) => {
                    self.set_current_status(ItemStatus::Rejected);
                    self.reload_work();
                    self.tell(format!(
                        "Item {item_id} rejected: it goes back with your comment"
                    ));
                    self.go_next();
                }
                Err(e) => {
                    self.fail(e);
                    self.dialogs.reject_comment = Some(comment);
                }
            }
        }
    }

    /// A reviewer's Approve, Reject (asks for a comment) or Correct (first enters correcting mode, then approves).
    pub(super) fn decide(&mut self, cmd: Command) {
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        match cmd {
            Command::Reject => {
                if self.review.review_target.is_none() {
                    self.review.review_target = self.only_submitted();
                }
                self.dialogs.reject_comment = Some(String::new());
            }
            Command::Correct if self.review.correcting != Some(item_id) => {
                self.review.correcting = Some(item_id);
                self.tell(
                    "Correcting: edit the labels (your edits are yours in the history), then press C again to approve",
                );
            }
            _ => {
                let decision = if cmd == Command::Correct {
                    crate::controller::Decision::Correct
                } else {
                    crate::controller::Decision::Approve
                };
                let target = self
                    .review
                    .review_target
                    .take()
                    .or_else(|| self.only_submitted());
                match self.session.review(item_id, target.as_deref(), decision) {
                    Ok(()) => {
                        self.review.correcting = None;
                        self.set_current_status(ItemStatus::Approved);
                        self.reload_work();
                        self.save_state = SaveState::Saved { at_ms: now_ms() };
                        self.tell(format!("Item {item_id} approved"));
                        self.go_next();
                    }
                    Err(e) => self.fail(e),
                }
            }
        }
    }

    /// The one person whose work on the current item waits for review.
    pub(super) fn only_submitted(&self) -> Option<String> {
        let waiting: Vec<&String> = self
            .review
            .item_work
            .iter()
            .filter(|(_, _, _, s)| *s == AssignmentState::Submitted)
            .map(|(f, _, _, _)| f)
            .collect();
        (waiting.len() == 1).then(|| waiting[0].clone())
    }

    /// Reviewers: each person's work on the item, with its state and the
    /// decisions that apply to it.
    pub(super) fn review_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.review.item_work.is_empty() {
            return;
        }
        ui.separator();
        ui.heading("Review");
        for (fpr, name, _, state) in &self.review.item_work {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(name).strong());
                ui.label(state.as_str());
                if *state == AssignmentState::Submitted {
                    if ui
                        .small_button("Approve")
                        .on_hover_text(self.keymap.tooltip(Command::Approve))
                        .clicked()
                    {
                        self.review.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Approve));
                    }
                    if ui
                        .small_button("Reject…")
                        .on_hover_text(self.keymap.tooltip(Command::Reject))
                        .clicked()
                    {
                        self.review.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Reject));
                    }
                }
            });
        }
        if self.review.item_work.len() >= 2
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
        self.review
            .item_work
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
        self.review.correcting.is_some()
            && self.review.correcting == self.current_item().map(|i| i.id)
    }

    /// Reviewers: the current item's workers and their states.
    pub(super) fn reload_work(&mut self) {
        self.review.item_work = match self.current_item().map(|i| i.id) {
            Some(id) if self.can_review() => self.session.item_work(id).unwrap_or_default(),
            _ => Vec::new(),
        };
        self.review.review_target = None;
    }

    pub(super) fn reload_comments(&mut self) {
        self.review.comments = match self.current_item().map(|i| i.id) {
            Some(id) => self.session.comments(id).unwrap_or_default(),
            None => Vec::new(),
        };
    }

    /// The item's comment thread and a field to add one (on the selected
    /// label when exactly one is selected).
    pub(super) fn comments_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.queue.current.is_none() {
            return;
        }
        ui.separator();
        ui.heading("Comments");
        if self.review.comments.is_empty() {
            ui.small("None on this item");
        }
        for c in &self.review.comments {
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
                egui::TextEdit::multiline(&mut self.review.comment_draft)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        let send = ui
            .add_enabled(
                !self.review.comment_draft.trim().is_empty(),
                egui::Button::new("Add comment"),
            )
            .clicked()
            || (resp.has_focus() && ui.input(|i| i.key_pressed(Key::Enter) && i.modifiers.command));
        if send && !self.review.comment_draft.trim().is_empty() {
            actions.push(WsAction::AddComment);
        }
    }
}
