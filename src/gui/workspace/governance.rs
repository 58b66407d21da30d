//! Wiring of the governance screens ([`crate::gui::governance_view`]) and
//! the privacy screen ([`crate::gui::shield`]) into the workspace: opening
//! them under the right role, handing their requests to the controller,
//! and keeping the queue in step afterwards (a reported or erased item
//! leaves it at once). The work package's expiry is in `expiry.rs`.

use super::*;

impl Workspace {
    /// Whether the privacy screen covers the workspace (tests read it).
    pub fn is_hidden(&self) -> bool {
        self.shield.is_hidden()
    }

    /// The erase confirmation is showing.
    pub fn is_confirming_erase(&self) -> bool {
        self.dialogs.erase_confirm.open
    }

    pub fn report_dialog(&self) -> Option<&ReportDialog> {
        self.dialogs.report.as_ref()
    }

    pub fn incidents_view(&self) -> Option<&IncidentsView> {
        self.dialogs.incidents.as_ref()
    }

    pub fn access_view(&self) -> Option<&AccessView> {
        self.dialogs.access.as_ref()
    }

    pub fn retention_dialog(&self) -> Option<&RetentionDialog> {
        self.dialogs.retention.as_ref()
    }

    pub fn consent_panel(&self) -> Option<&ConsentPanel> {
        self.consent.as_ref()
    }

    /// The project asks for it, or this user turned it on for themselves.
    pub fn privacy_screen_on(&self) -> bool {
        self.privacy_screen_project || self.privacy_screen_user
    }

    /// The View menu's own switch for the privacy screen (a user setting);
    /// greyed out when the project already requires it.
    pub(super) fn privacy_screen_menu_ui(&mut self, ui: &mut egui::Ui) {
        let mut on = self.privacy_screen_on();
        let response = ui
            .add_enabled(
                !self.privacy_screen_project,
                egui::Checkbox::new(&mut on, "Hide the item when the window loses focus"),
            )
            .on_disabled_hover_text("The project's settings require it");
        if response.changed() {
            let value = if on { "on" } else { "off" };
            match self.session.set_user_setting(PRIVACY_SCREEN_SETTING, value) {
                Ok(()) => {
                    self.privacy_screen_user = on;
                    self.tell(if on {
                        format!(
                            "The item is hidden whenever the window loses focus ({} hides it at once)",
                            self.keymap.text(Command::PanicHide)
                        )
                    } else {
                        "Privacy screen off".into()
                    });
                }
                Err(e) => self.tell(format!("Not saved: {e}")),
            }
        }
    }

    /// Stops playback where it is (the cover went up: nothing of the item
    /// may go on playing either).
    pub(super) fn audio_pause(&mut self) {
        if let Some(since) = self.playback.playing_since.take() {
            self.playback.playhead += since.elapsed().as_secs_f64();
            self.playback.audio.stop();
        }
    }

    /// The consent group of the side panel (editable by admins).
    pub(super) fn consent_ui(&mut self, ui: &mut egui::Ui) {
        if self.queue.current.is_none() {
            return;
        }
        let editable = permissions::allowed(self.session.role(), Action::Import);
        let Some(panel) = self.consent.as_mut() else {
            return;
        };
        ui.separator();
        if panel.ui(ui, editable) {
            panel.save(&mut self.session);
            if let Some(Ok(text)) = &panel.status {
                self.message = Some(format!("{text} for item {}", panel.item_id()));
            }
        }
    }

    pub(super) fn open_report(&mut self) {
        match self.current_item() {
            Some(item) => self.dialogs.report = Some(ReportDialog::new(item.id, &item.name)),
            None => self.tell("Pick an item in the queue first"),
        }
    }

    /// The report dialog: on success the item leaves the queue and the
    /// next one opens.
    pub(super) fn report_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialogs.report.as_mut() else {
            return;
        };
        let request = dialog.ui(ctx);
        let inputs = match request {
            None => return,
            Some(ReportRequest::Cancel) => {
                self.dialogs.report = None;
                return;
            }
            Some(ReportRequest::Send) => dialog.inputs(),
        };
        let (kind, reason) = match inputs {
            Ok(inputs) => inputs,
            Err(e) => {
                dialog.error = Some(e);
                return;
            }
        };
        let item_id = dialog.item_id;
        match self.session.flag_item(item_id, kind, &reason) {
            Ok(_) => {
                self.dialogs.report = None;
                self.reload_queue(Some(item_id));
                self.message =
                    Some("Reported: it has left your queue; the site will decide".into());
            }
            Err(e) => dialog.error = Some(e.to_string()),
        }
    }

    /// Re-reads the queue after items left it (reported, erased, purged).
    /// The current item stays if it is still there; else the item that now
    /// stands in its place opens (the next one, or the last).
    pub(super) fn reload_queue(&mut self, gone: Option<i64>) {
        let current_id = self.current_item().map(|i| i.id);
        let old_pos = self
            .queue
            .current
            .and_then(|c| self.queue.visible.iter().position(|i| *i == c));
        let items = match self.session.items() {
            Ok(items) => items,
            Err(e) => {
                self.fail(e);
                return;
            }
        };
        if let Some(id) = gone {
            self.queue.cache.remove(&id);
            self.queue.requested.remove(&id);
        }
        self.queue.items = items;
        self.queue.current = None;
        self.refilter();
        if let Some(index) =
            current_id.and_then(|id| self.queue.items.iter().position(|i| i.id == id))
        {
            self.queue.current = Some(index);
            return;
        }
        self.view = ItemView::Empty;
        self.annotations.clear();
        self.selected.clear();
        self.review.comments.clear();
        self.review.item_work.clear();
        self.consent = None;
        self.playback.audio.stop();
        self.playback.playing_since = None;
        let next = old_pos
            .and_then(|p| {
                self.queue
                    .visible
                    .get(p)
                    .or_else(|| self.queue.visible.get(p.saturating_sub(1)))
            })
            .or_else(|| self.queue.visible.first())
            .copied();
        if let Some(index) = next {
            self.open_item(index);
        }
    }

    pub(super) fn open_incidents(&mut self) {
        if self.dialogs.incidents.is_some() {
            self.dialogs.incidents = None;
        } else {
            let names = self
                .queue
                .items
                .iter()
                .map(|i| (i.id, i.name.clone()))
                .collect();
            self.dialogs.incidents = Some(IncidentsView::open(&mut self.session, names));
        }
    }

    /// The incident queue; after a re-mask the privacy screen opens on the
    /// item, after a removal or release the queue is re-read.
    pub(super) fn incidents_ui(&mut self, ctx: &egui::Context) {
        let Some(view) = self.dialogs.incidents.as_mut() else {
            return;
        };
        let mut open = true;
        let done = match view.ui(ctx, &mut open) {
            Some(IncidentAction::Refresh) => {
                view.reload(&mut self.session);
                None
            }
            Some(action) => Some(view.apply(&mut self.session, action)),
            None => None,
        };
        if !open {
            self.dialogs.incidents = None;
        }
        let Some(done) = done else {
            return;
        };
        if done.queue_changed || done.remask.is_some() {
            self.reload_queue(None);
        }
        if let Some(item_id) = done.remask {
            match self.queue.items.iter().position(|i| i.id == item_id) {
                Some(index) => {
                    if self.queue.current != Some(index) {
                        self.open_item(index);
                    }
                    if let Some(item) = self.queue.items.get(index).cloned() {
                        let classes =
                            class_names_for_privacy(&self.schema.classes, &self.annotations);
                        self.dialogs.privacy =
                            Some(PrivacyView::open(&mut self.session, item, classes));
                    }
                }
                None => {
                    self.tell(format!("Item {item_id} is no longer in the project"));
                }
            }
        }
    }

    pub(super) fn open_access_review(&mut self) {
        if self.dialogs.access.is_some() {
            self.dialogs.access = None;
        } else {
            self.dialogs.access = Some(AccessView::open(&mut self.session));
        }
    }

    pub(super) fn access_ui(&mut self, ctx: &egui::Context) {
        let Some(view) = self.dialogs.access.as_mut() else {
            return;
        };
        let (mut open, mut refresh) = (true, false);
        view.ui(ctx, &mut open, &mut refresh);
        if refresh {
            view.refresh(&mut self.session);
        }
        if !open {
            self.dialogs.access = None;
        }
    }

    pub(super) fn open_retention(&mut self) {
        self.dialogs.retention = Some(RetentionDialog::open(&mut self.session));
    }

    pub(super) fn retention_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialogs.retention.as_mut() else {
            return;
        };
        let mut open = true;
        let purged = dialog
            .ui(ctx, &mut open)
            .then(|| dialog.purge(&mut self.session))
            .flatten();
        if !open {
            self.dialogs.retention = None;
        }
        if let Some(report) = purged
            && !report.items.is_empty()
        {
            self.reload_queue(None);
            self.tell(format!(
                "{} item(s) past the retention period erased",
                report.items.len()
            ));
        }
    }
}
