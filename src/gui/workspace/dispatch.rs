//! Carrying out what the user asked: [`WsAction`]s from the panels, and
//! [`Command`]s, each gated once by [`Workspace::gate`] from its row in
//! [`crate::gui::commands`].

use super::*;

impl Workspace {
    /// Applies this frame's actions through the controller.
    pub(super) fn apply(&mut self, actions: Vec<WsAction>) -> Option<ShellRequest> {
        for action in actions {
            match action {
                WsAction::SelectItem(i) => self.open_item(i),
                WsAction::SelectTool(tool) => {
                    self.canvas.cancel_shape();
                    self.tool = tool;
                }
                WsAction::SelectClass(id) => self.select_class(id),
                WsAction::SelectAnnotation { id, additive } => self.select(id, additive),
                WsAction::Canvas(action) => self.apply_canvas(action),
                WsAction::Delete(id) => {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
                WsAction::ToggleTag(class_id) => self.toggle_tag(class_id),
                WsAction::SetHidden(id, hidden) => self.edit(id, |d| d.hidden = hidden),
                WsAction::SetLocked(id, locked) => self.edit(id, |d| d.locked = locked),
                WsAction::SetAttribute { id, name, value } => {
                    self.edit(id, |d| {
                        d.attributes.insert(name, value);
                    });
                }
                WsAction::ConfirmSkip => self.confirm_skip(),
                WsAction::ConfirmReject => self.confirm_reject(),
                WsAction::ApplyConsensus => self.apply_consensus(),
                WsAction::AddComment => self.add_comment(),
                WsAction::PlayAudio => {
                    if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view
                        && let Err(e) = self.playback.audio.play(bytes.clone())
                    {
                        self.tell(e);
                    }
                }
                WsAction::StopAudio => {
                    self.playback.audio.stop();
                    self.playback.playing_since = None;
                    self.playback.playhead = 0.0;
                }
                WsAction::Audio(action) => self.apply_audio(action),
                WsAction::SetTranscript { id, text } => {
                    self.edit(id, |d| {
                        if let Some(transcript) = d.geometry.transcript_mut() {
                            *transcript = text;
                        }
                    });
                }
                WsAction::Run(cmd) => {
                    if let Some(req) = self.run(cmd) {
                        return Some(req);
                    }
                }
            }
        }
        None
    }

    /// The class key: makes `id` the active class, labels selected text
    /// with it as a span, or else re-labels the selected labels.
    fn select_class(&mut self, id: i64) {
        self.active_class = Some(id);
        if self.create_span_from_selection(id) {
            return;
        }
        let ids: Vec<i64> = self.selected.iter().copied().collect();
        for sel in ids {
            self.edit(sel, |d| d.class_id = id);
        }
    }

    /// Selects label `id` (toggles it with `additive`), or clears the
    /// selection for `None`: the same rules in the list, on the canvas and
    /// on the waveform.
    fn select(&mut self, id: Option<i64>, additive: bool) {
        match (id, additive) {
            (Some(id), true) => {
                if !self.selected.remove(&id) {
                    self.selected.insert(id);
                }
            }
            (Some(id), false) => self.selected = BTreeSet::from([id]),
            (None, _) => self.selected.clear(),
        }
    }

    /// What the image canvas asked for.
    fn apply_canvas(&mut self, action: CanvasAction) {
        match action {
            CanvasAction::Select { id, additive } => self.select(id, additive),
            CanvasAction::Create(geometry) => self.create_shape(geometry),
            CanvasAction::Update { id, geometry } => self.edit(id, |d| d.geometry = geometry),
            CanvasAction::Move { ids, dx, dy } => {
                let Some(item) = self.current_item() else {
                    return;
                };
                let (w, h) = (
                    item.width.unwrap_or(0) as f64,
                    item.height.unwrap_or(0) as f64,
                );
                for id in ids {
                    self.edit(id, |d| {
                        d.geometry = d.geometry.translated(dx, dy).clamped(w, h)
                    });
                }
            }
            CanvasAction::ToggleKeypoint { id, index } => {
                self.edit(id, |d| {
                    if let Geometry::Keypoints { points } = &mut d.geometry
                        && let Some(k) = points.get_mut(index)
                    {
                        k.visible = !k.visible;
                    }
                });
            }
            CanvasAction::Message(m) => self.tell(m),
        }
    }

    /// What the waveform asked for.
    fn apply_audio(&mut self, action: AudioAction) {
        match action {
            AudioAction::Create {
                start_secs,
                end_secs,
            } => self.create_segment(start_secs, end_secs),
            AudioAction::Resize {
                id,
                start_secs,
                end_secs,
            } => {
                self.edit(id, |d| {
                    if let Geometry::Segment {
                        start_secs: s,
                        end_secs: e,
                        ..
                    } = &mut d.geometry
                    {
                        (*s, *e) = (start_secs, end_secs);
                    }
                });
            }
            // The seek that follows in this batch still runs.
            AudioAction::Select { id, additive } => self.select(id, additive),
            AudioAction::Seek(t) => {
                self.playback.playhead = t;
                if self.playback.playing_since.is_some() {
                    self.start_playback();
                }
            }
        }
    }

    /// Runs a command as if its shortcut was pressed (screenshots, scripts).
    pub fn run_command(&mut self, cmd: Command) -> Option<ShellRequest> {
        self.run(cmd)
    }

    /// Carries out `cmd` once [`Self::gate`] lets it through.
    pub(super) fn run(&mut self, cmd: Command) -> Option<ShellRequest> {
        match self.gate(cmd) {
            Gate::Open => {}
            Gate::Expired => {
                self.tell(
                    "This work package has expired: send your results to the site, then erase the bundle",
                );
                return None;
            }
            Gate::Refused(why) => {
                self.tell(why);
                return None;
            }
            Gate::OtherKind => return None,
        }
        match cmd {
            Command::NextItem => self.go_next(),
            Command::PreviousItem => self.go_previous(),
            Command::SubmitAndNext => self.submit_and_next(),
            Command::SkipItem => {
                if self.current_item().is_some() {
                    self.dialogs.skip_reason = Some(String::new());
                }
            }
            Command::Approve | Command::Correct | Command::Reject => self.decide(cmd),
            Command::Undo | Command::Redo => self.undo_redo(cmd),
            Command::DeleteSelected => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
            }
            Command::DuplicateSelected => self.duplicate_selected(),
            Command::SelectAll => {
                self.selected = self
                    .annotations
                    .iter()
                    .filter(|a| !a.hidden && a.geometry != Geometry::Tag)
                    .map(|a| a.id)
                    .collect();
            }
            Command::Deselect => {
                if !self.canvas.cancel_shape() {
                    self.selected.clear();
                }
            }
            Command::FinishShape if self.text_view.range().is_some() => {
                if let Some(class_id) = self.active_class {
                    self.create_span_from_selection(class_id);
                }
            }
            Command::FinishShape => {
                if let Some(action) = self.canvas.finish_shape() {
                    return self.apply(vec![WsAction::Canvas(action)]);
                }
            }
            Command::ToolSelect
            | Command::ToolBox
            | Command::ToolPolygon
            | Command::ToolPolyline
            | Command::ToolPoint
            | Command::ToolKeypoints => {
                if let Some(tool) = cmd.spec().tool {
                    self.tool = tool;
                }
            }
            Command::ToggleHidden => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.hidden = !d.hidden);
                }
            }
            Command::ToggleLocked => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.locked = !d.locked);
                }
            }
            Command::BringForward | Command::SendBackward => self.restack_selected(cmd),
            Command::CopyPrevious => self.copy_previous(),
            Command::PlayPause => self.play_pause(),
            Command::PlaySelection => self.play_selection(),
            Command::SplitSegment => self.split_segment(),
            Command::MergeSegments => self.merge_segments(),
            Command::NextSegment | Command::PreviousSegment => self.jump_to_segment(cmd),
            Command::RelateSelected => self.relate_selected(),
            Command::ZoomFit => self.canvas.zoom_fit(),
            Command::ZoomActual => self.canvas.zoom_actual(),
            Command::ToggleHelp => self.dialogs.show_help = !self.dialogs.show_help,
            Command::Settings => self.dialogs.keymap_editor.open_with(&self.keymap),
            Command::ProjectSettings => self.open_project_settings(),
            Command::SchemaEditor => self.dialogs.schema_editor.open_with(&self.schema),
            Command::MakeWorkPackage | Command::OpenResultsPackage => self.open_package_dialog(cmd),
            Command::ExportDataset => self.dialogs.export_dialog = Some(ExportDialog::default()),
            Command::AcceptPredictions => self.accept_predictions(),
            Command::QualityScreen => {
                let mut view = QualityView::default();
                match self.session.quality_report() {
                    Ok(r) => view.report = Some(r),
                    Err(e) => view.error = Some(e.to_string()),
                }
                self.dialogs.quality = Some(view);
            }
            Command::PrivacyScreen => self.toggle_privacy(),
            Command::SendResults => {
                self.dialogs.package_dialog = Some(PackageDialog::new(DialogKind::MakeResults));
            }
            Command::EraseBundle => self.dialogs.erase_confirm.open = true,
            Command::Lock => return Some(ShellRequest::Lock),
            Command::FlagItem => self.open_report(),
            Command::Incidents => self.open_incidents(),
            Command::AccessReview => self.open_access_review(),
            Command::RetentionPurge => self.open_retention(),
            Command::PanicHide => self.shield.hide(),
        }
        None
    }

    /// Whether this user's role and this kind of project allow `cmd` (the
    /// controller checks the permission again; this decides what is shown).
    pub fn permits(&self, cmd: Command) -> bool {
        let spec = cmd.spec();
        let role_allows = spec
            .permission
            .is_none_or(|action| permissions::allowed(self.session.role(), action));
        let scope_allows = match spec.scope {
            Scope::Anywhere => true,
            Scope::SiteProject => self.session.origin_project().is_none(),
            Scope::LaptopBundle => self.session.origin_project().is_some(),
        };
        role_allows && scope_allows
    }

    /// Whether `cmd` is offered in menus and bars: permitted, and for the
    /// current item's kind.
    pub(super) fn is_shown(&self, cmd: Command) -> bool {
        self.permits(cmd)
            && self
                .current_item()
                .is_none_or(|item| cmd.applies_to(item.kind))
    }

    /// Whether `cmd` may run now: the one place where commands are gated
    /// (keys, menus, bars, `--run` and the windows' buttons all pass here).
    pub(super) fn gate(&self, cmd: Command) -> Gate {
        if self.expiry.expired && !cmd.spec().after_expiry {
            Gate::Expired
        } else if !self.permits(cmd) {
            Gate::Refused(cmd.spec().refusal)
        } else if self
            .current_item()
            .is_some_and(|item| !cmd.applies_to(item.kind))
        {
            Gate::OtherKind
        } else {
            Gate::Open
        }
    }
}

/// What [`Workspace::gate`] says of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Gate {
    Open,
    /// The laptop's work package has expired and the command would open,
    /// show or change an item.
    Expired,
    /// The role or the kind of project refuses it; the reason is shown.
    Refused(&'static str),
    /// It does not apply to the current item's kind: ignored.
    OtherKind,
}
