//! The workspace's windows other than governance: help, skip, reject,
//! project settings, shortcuts, schema editor, export, quality, privacy and
//! packages; each draws itself and hands what it asks to the controller.

use super::*;

impl Workspace {
    /// Opens the privacy window on the current item, or closes it.
    pub(super) fn toggle_privacy(&mut self) {
        if self.dialogs.privacy.is_some() {
            self.dialogs.privacy = None;
        } else {
            match self.current_item().cloned() {
                Some(item) => {
                    let classes = class_names_for_privacy(&self.schema.classes, &self.annotations);
                    self.dialogs.privacy =
                        Some(PrivacyView::open(&mut self.session, item, classes));
                }
                None => self.tell("Pick an item in the queue first"),
            }
        }
    }

    /// Opens the package dialog to make a work package or open a results package.
    pub(super) fn open_package_dialog(&mut self, cmd: Command) {
        let kind = if cmd == Command::MakeWorkPackage {
            DialogKind::MakeWork
        } else {
            DialogKind::OpenResults
        };
        let mut dialog = PackageDialog::new(kind);
        if kind == DialogKind::MakeWork {
            dialog.people = self
                .session
                .list_users()
                .unwrap_or_default()
                .into_iter()
                .filter(|u| u.active && matches!(u.role, Role::Annotator | Role::Reviewer))
                .map(|u| (format!("{} ({})", u.name, u.role), u.fingerprint))
                .collect();
        }
        self.dialogs.package_dialog = Some(dialog);
    }

    pub(super) fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .vscroll(true)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for cmd in Command::ALL {
                        let keys = self.keymap.text(cmd);
                        if keys.is_empty() || !self.permits(cmd) {
                            continue;
                        }
                        ui.label(cmd.label());
                        ui.monospace(keys);
                        ui.end_row();
                    }
                    for (what, how) in [
                        ("Select class", "1 – 9"),
                        ("Draw a box", "drag on the image (Box tool)"),
                        (
                            "Polygon / line",
                            "click vertices; Enter or click the first vertex",
                        ),
                        (
                            "Insert / delete vertex",
                            "double-click an edge / Alt+click a vertex",
                        ),
                        (
                            "Occluded keypoint",
                            "Shift+click while placing; right-click to flip",
                        ),
                        ("Move / resize", "drag a shape / a box corner"),
                        ("Multi-select", "Ctrl or Shift + click"),
                        ("Zoom / pan", "wheel / middle drag or Space+drag"),
                    ] {
                        ui.label(what);
                        ui.monospace(how);
                        ui.end_row();
                    }
                });
                ui.label("Change shortcuts in File → Settings…");
            });
        self.dialogs.show_help = open;
    }

    pub(super) fn skip_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(reason) = &mut self.dialogs.skip_reason else {
            return;
        };
        let mut close = false;
        egui::Window::new("Skip item")
            .collapsible(false)
            .show(ctx, |ui| {
                let label = ui.label("Reason");
                let resp = ui.text_edit_singleline(reason).labelled_by(label.id);
                resp.request_focus();
                ui.horizontal(|ui| {
                    if ui.button("Skip").clicked()
                        || (resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)))
                    {
                        actions.push(WsAction::ConfirmSkip);
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.dialogs.skip_reason = None;
        }
    }

    /// The reviewer's reject dialog: the comment is required and goes to
    /// the annotator with the item.
    pub(super) fn reject_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(comment) = &mut self.dialogs.reject_comment else {
            return;
        };
        let mut close = false;
        egui::Window::new("Reject item")
            .collapsible(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .show(ctx, |ui| {
                let label = ui.label("What should the annotator fix?");
                let resp = ui
                    .add(egui::TextEdit::multiline(comment).desired_rows(3))
                    .labelled_by(label.id);
                resp.request_focus();
                ui.small("Ctrl+Enter sends it back");
                ui.horizontal(|ui| {
                    let send = ui.button("Reject").clicked()
                        || ui.input(|i| i.key_pressed(Key::Enter) && i.modifiers.command);
                    if send {
                        actions.push(WsAction::ConfirmReject);
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.dialogs.reject_comment = None;
        }
    }

    /// Opens the Project settings window on the project's current values.
    pub(super) fn open_project_settings(&mut self) {
        let watermark = self
            .session
            .project_setting("watermark")
            .unwrap_or_else(|_| "annotators".into());
        let retention_days = self
            .session
            .project_setting("retention_days")
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        let setting = |key: &str| self.session.project_setting(key).unwrap_or_default();
        self.dialogs.project_settings = Some(ProjectSettingsForm {
            idle_minutes: self.session.idle_lock_minutes(),
            watermark,
            privacy_screen: self.privacy_screen_project,
            retention_days,
            opaque_names: setting("package_names") == "opaque",
            package_fields: setting("package_fields"),
            pii_region: setting("pii_region"),
        });
    }

    /// Admin window for idle lock, watermark, privacy screen and retention;
    /// each change is validated and audited by the controller.
    pub(super) fn project_settings_ui(&mut self, ctx: &egui::Context) {
        let Some(ProjectSettingsForm {
            idle_minutes: minutes,
            watermark,
            privacy_screen,
            retention_days,
            opaque_names,
            package_fields,
            pii_region,
        }) = &mut self.dialogs.project_settings
        else {
            return;
        };
        let (mut save, mut close) = (false, false);
        egui::Window::new("Project settings")
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("project-settings").show(ui, |ui| {
                    let l = ui.label("Idle lock (minutes)");
                    ui.add(egui::DragValue::new(minutes).range(1..=240))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Watermark");
                    egui::ComboBox::from_id_salt("watermark")
                        .selected_text(watermark.as_str())
                        .show_ui(ui, |ui| {
                            for option in ["off", "annotators", "everyone"] {
                                ui.selectable_value(watermark, option.to_string(), option);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("Privacy screen");
                    ui.checkbox(
                        privacy_screen,
                        "Hide the item whenever the window loses focus",
                    );
                    ui.end_row();
                    let l = ui.label("Keep items for (days)");
                    ui.add(egui::DragValue::new(retention_days).range(0..=36_500))
                        .labelled_by(l.id)
                        .on_hover_text(
                            "0 keeps every item. Older items are erased for good \
                             (crypto-shredded) by File → Purge expired items…",
                        );
                    ui.end_row();
                    ui.label("File names in work packages");
                    ui.checkbox(opaque_names, "Replace with opaque ids (item-000042.jpg)");
                    ui.end_row();
                    let l = ui.label("Record fields in work packages");
                    ui.add(
                        egui::TextEdit::singleline(package_fields)
                            .hint_text("none (e.g. lang, channel)"),
                    )
                    .labelled_by(l.id)
                    .on_hover_text(
                        "Only the fields named here travel to annotators, \
                         comma-separated; with automatic PII masking on, \
                         their values are masked like the text.",
                    );
                    ui.end_row();
                    let l = ui.label("Phone numbers' country");
                    ui.add(egui::TextEdit::singleline(pii_region).desired_width(40.0))
                        .labelled_by(l.id)
                        .on_hover_text(
                            "Two-letter country code (GB, DE, TR…) whose national \
                             formats the PII detector reads, e.g. 020 7946 0958.",
                        );
                    ui.end_row();
                });
                ui.small("Takes effect at each user's next unlock. Keeping items for 0 days keeps every item.");
                ui.horizontal(|ui| {
                    save = ui.button("Save").clicked();
                    close = ui.button("Cancel").clicked();
                });
            });
        if save {
            let (minutes, watermark) = (minutes.to_string(), watermark.clone());
            let screen = if *privacy_screen { "on" } else { "off" };
            let days = retention_days.to_string();
            let names = if *opaque_names { "opaque" } else { "original" };
            let (fields, region) = (package_fields.clone(), pii_region.trim().to_uppercase());
            let result = self
                .session
                .set_project_setting("idle_lock_minutes", &minutes)
                .and_then(|()| self.session.set_project_setting("watermark", &watermark))
                .and_then(|()| {
                    self.session
                        .set_project_setting(PRIVACY_SCREEN_SETTING, screen)
                })
                .and_then(|()| self.session.set_project_setting("retention_days", &days))
                .and_then(|()| self.session.set_project_setting("package_names", names))
                .and_then(|()| self.session.set_project_setting("package_fields", &fields))
                .and_then(|()| self.session.set_project_setting("pii_region", &region));
            if self.report(result).is_some() {
                self.privacy_screen_project = screen == "on";
                self.tell("Project settings saved");
            }
            close = true;
        }
        if close {
            self.dialogs.project_settings = None;
        }
    }

    pub(super) fn save_keymap(&mut self, keymap: Keymap) {
        match self
            .session
            .set_user_setting(SHORTCUTS_SETTING, &keymap.to_json())
        {
            Ok(()) => {
                self.keymap = keymap;
                self.tell("Shortcuts saved");
            }
            Err(e) => self.tell(format!("Shortcuts not saved: {e}")),
        }
    }

    pub(super) fn apply_schema_action(&mut self, action: SchemaEditorAction) {
        let SchemaEditorAction::Save {
            classes,
            multi_label_tags,
            confirm,
        } = action
        else {
            return;
        };
        let rules = self.dialogs.schema_editor.overlap_rules();
        let rules_changed = rules
            != (
                self.schema.overlapping_spans,
                self.schema.overlapping_segments,
            );
        match self
            .session
            .update_schema(classes, multi_label_tags, confirm)
            .and_then(|change| {
                if rules_changed {
                    self.session.set_overlap_rules(rules.0, rules.1)?;
                }
                Ok(change)
            }) {
            Ok(change) => {
                self.dialogs.schema_editor.report(Ok(change.version));
                if let Ok(schema) = self.session.schema() {
                    self.schema = schema;
                }
                self.tell(format!(
                    "Schema saved as version {}{}",
                    change.version,
                    if change.removed_labels > 0 {
                        format!(" ({} label(s) removed)", change.removed_labels)
                    } else {
                        String::new()
                    }
                ));
                self.reload_annotations();
            }
            Err(CoreError::NeedsConfirmation { labels, detail }) => {
                self.dialogs
                    .schema_editor
                    .report(Err(SaveProblem::NeedsConfirmation { labels, detail }));
            }
            Err(e) => self
                .dialogs
                .schema_editor
                .report(Err(SaveProblem::Invalid(e.to_string()))),
        }
    }

    /// The export dialog: the export runs on its own session and thread.
    pub(super) fn export_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialogs.export_dialog.as_mut() else {
            return;
        };
        let mut open = true;
        if dialog.ui(ctx, &mut open) {
            dialog.start(self.session.root(), self.session.identity().clone());
        }
        if !open && !dialog.is_running() {
            self.dialogs.export_dialog = None;
        }
    }

    /// The export dialog, if open (tests read its outcome).
    pub fn export_dialog(&self) -> Option<&ExportDialog> {
        self.dialogs.export_dialog.as_ref()
    }

    /// The quality window (figures recomputed on Refresh).
    pub(super) fn quality_ui(&mut self, ctx: &egui::Context) {
        let Some(view) = self.dialogs.quality.as_mut() else {
            return;
        };
        let (mut open, mut refresh) = (true, false);
        view.ui(ctx, &mut open, &mut refresh);
        if refresh {
            match self.session.quality_report() {
                Ok(r) => {
                    view.report = Some(r);
                    view.error = None;
                }
                Err(e) => view.error = Some(e.to_string()),
            }
        }
        if !open {
            self.dialogs.quality = None;
        }
    }

    /// The admin's privacy window: follows the queue's current item, shows
    /// the original the workspace already decoded, and hands the admin's
    /// decisions to the controller.
    pub(super) fn privacy_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(view) = self.dialogs.privacy.as_mut() else {
            return;
        };
        let current = self.queue.current.and_then(|i| self.queue.items.get(i));
        if let Some(item) = current
            && item.id != view.item_id()
        {
            let classes = class_names_for_privacy(&self.schema.classes, &self.annotations);
            let preview = view.is_previewing();
            *view = PrivacyView::open(&mut self.session, item.clone(), classes);
            if preview {
                view.apply(&mut self.session, ctx, vec![PrivacyAction::Preview(true)]);
            }
        }
        let original = match &self.view {
            ItemView::Empty | ItemView::Loading => Original::Loading,
            ItemView::Image {
                preview,
                width,
                height,
                ..
            } => Original::Image {
                texture: preview,
                width: *width,
                height: *height,
            },
            ItemView::Decoded(LoadedContent::Text { text, .. }) => Original::Text(text),
            ItemView::Decoded(LoadedContent::Audio {
                duration_secs,
                peaks,
                ..
            }) => Original::Audio {
                duration_secs: *duration_secs,
                peaks: peaks.as_ref(),
            },
            ItemView::Decoded(LoadedContent::Failed(e)) => Original::Failed(e),
            ItemView::Decoded(_) => Original::Loading,
        };
        let mut open = true;
        let requested = view.ui(ctx, original, &mut open);
        let (go, decisions): (Vec<PrivacyAction>, Vec<PrivacyAction>) = requested
            .into_iter()
            .partition(|a| matches!(a, PrivacyAction::Go(_)));
        view.apply(&mut self.session, ctx, decisions);
        for a in go {
            if let PrivacyAction::Go(cmd) = a {
                actions.push(WsAction::Run(cmd));
            }
        }
        if !open {
            self.dialogs.privacy = None;
        }
    }

    /// The privacy window, when open (tests read its state).
    pub fn privacy_view(&self) -> Option<&PrivacyView> {
        self.dialogs.privacy.as_ref()
    }

    /// The quality window's figures, when open (tests read them).
    pub fn quality_report(&self) -> Option<&crate::controller::QualityReport> {
        self.dialogs
            .quality
            .as_ref()
            .and_then(|q| q.report.as_ref())
    }

    /// The open package dialog, if any (tests read its outcome).
    pub fn package_dialog(&self) -> Option<&PackageDialog> {
        self.dialogs.package_dialog.as_ref()
    }

    /// Shows the package dialog and carries out what it asks through the
    /// controller: plan here, seal on a worker, record in `logic`.
    pub(super) fn package_dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialogs.package_dialog.as_mut() else {
            return;
        };
        let mut open = true;
        let request = dialog.ui(ctx, &mut open);
        if !open {
            self.dialogs.package_dialog = None;
            return;
        }
        if request != Some(DialogRequest::Start) {
            return;
        }
        let Some(dialog) = self.dialogs.package_dialog.as_mut() else {
            return;
        };
        let file = std::path::PathBuf::from(dialog.file.trim());
        match dialog.kind {
            DialogKind::MakeWork | DialogKind::MakeResults => {
                let plan = if dialog.kind == DialogKind::MakeWork {
                    match dialog.expires_ms() {
                        Ok(expires) => self.session.plan_work_package_expiring(&dialog.to, expires),
                        Err(e) => Err(CoreError::Invalid(e)),
                    }
                } else {
                    self.session.plan_results_package(dialog.full)
                };
                match plan {
                    Ok(plan) => dialog.start_make(plan, self.session.identity().clone()),
                    Err(e) => dialog.show_made(Err(e)),
                }
            }
            DialogKind::OpenResults => {
                let report = self.session.open_results_package(&file, &mut |_| true);
                let merged = report.is_ok();
                dialog.show_merge(report);
                if merged {
                    self.reload_after_merge();
                }
            }
            DialogKind::OpenWork | DialogKind::Inspect => {}
        }
    }
}

/// The workspace's windows: each is `Some` (or `open`) while it shows.
#[derive(Default)]
pub(super) struct Dialogs {
    /// The keyboard shortcuts overlay (F1).
    pub(super) show_help: bool,
    pub(super) keymap_editor: KeymapEditor,
    pub(super) schema_editor: SchemaEditor,
    /// The admin's project settings window.
    pub(super) project_settings: Option<ProjectSettingsForm>,
    /// The reason being typed in the skip dialog.
    pub(super) skip_reason: Option<String>,
    /// The comment being typed in the reject dialog.
    pub(super) reject_comment: Option<String>,
    /// Make work, open results or send results.
    pub(super) package_dialog: Option<PackageDialog>,
    pub(super) export_dialog: Option<ExportDialog>,
    pub(super) quality: Option<QualityView>,
    /// The admin's privacy window for the current item.
    pub(super) privacy: Option<PrivacyView>,
    /// "Report this item…".
    pub(super) report: Option<ReportDialog>,
    /// The admin's incident queue.
    pub(super) incidents: Option<IncidentsView>,
    /// Access review and anomalies (admins, auditors).
    pub(super) access: Option<AccessView>,
    /// "Purge expired items…".
    pub(super) retention: Option<RetentionDialog>,
    pub(super) erase_confirm: EraseConfirm,
}

impl Dialogs {
    /// Whether a window that takes the keyboard is open: then key presses
    /// are not commands. The help, quality, incidents and access windows
    /// only show figures and lists, so shortcuts keep working over them;
    /// the privacy window has its own keys (Enter closes a polygon, Escape
    /// drops it) and its own item buttons.
    pub(super) fn any_open(&self) -> bool {
        self.keymap_editor.open
            || self.schema_editor.open
            || self.skip_reason.is_some()
            || self.reject_comment.is_some()
            || self.project_settings.is_some()
            || self.package_dialog.is_some()
            || self.export_dialog.is_some()
            || self.report.is_some()
            || self.retention.is_some()
            || self.erase_confirm.open
            || self.privacy.is_some()
    }
}

/// The Project settings window's fields while it is open.
pub(super) struct ProjectSettingsForm {
    idle_minutes: u32,
    watermark: String,
    privacy_screen: bool,
    /// `retention_days`: 0 keeps every item.
    retention_days: u32,
    /// What travels in work packages: `package_names` (original or opaque)
    /// and `package_fields` (allow-listed record fields, comma-separated).
    opaque_names: bool,
    package_fields: String,
    /// `pii_region`: whose national phone formats the detector reads.
    pii_region: String,
}

/// Class names for the privacy screen's "masks from labels": classes with
/// labels on the current item first (the pre-labels to turn into masks),
/// then the rest in schema order.
pub(super) fn class_names_for_privacy(
    classes: &[LabelClass],
    annotations: &[Annotation],
) -> Vec<String> {
    let (mut used, rest): (Vec<&LabelClass>, Vec<&LabelClass>) = classes
        .iter()
        .partition(|c| annotations.iter().any(|a| a.class_id == c.id));
    used.extend(rest);
    used.into_iter().map(|c| c.name.clone()).collect()
}
