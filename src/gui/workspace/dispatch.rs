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
                WsAction::SelectClass(id) => {
                    self.active_class = Some(id);
                    // With text selected, the class key labels it as a span.
                    if self.create_span_from_selection(id) {
                        continue;
                    }
                    // With labels selected, the class key re-labels them.
                    let ids: Vec<i64> = self.selected.iter().copied().collect();
                    for sel in ids {
                        self.edit(sel, |d| d.class_id = id);
                    }
                }
                WsAction::SelectAnnotation { id, additive }
                | WsAction::Canvas(CanvasAction::Select { id, additive }) => match (id, additive) {
                    (Some(id), true) => {
                        if !self.selected.remove(&id) {
                            self.selected.insert(id);
                        }
                    }
                    (Some(id), false) => {
                        self.selected = BTreeSet::from([id]);
                    }
                    (None, _) => self.selected.clear(),
                },
                WsAction::Canvas(CanvasAction::Create(geometry)) => {
                    let (Some(item), Some(class_id)) = (self.current_item(), self.active_class)
                    else {
                        continue;
                    };
                    let z = self.annotations.iter().map(|a| a.z).max().unwrap_or(0);
                    let mut draft = AnnotationDraft::new(class_id, geometry);
                    draft.z = z;
                    let change = LabelChange::Create {
                        item_id: item.id,
                        draft,
                    };
                    if let Some(id) = self.save(change) {
                        self.selected = BTreeSet::from([id]);
                    }
                }
                WsAction::Canvas(CanvasAction::Update { id, geometry }) => {
                    self.edit(id, |d| d.geometry = geometry);
                }
                WsAction::Canvas(CanvasAction::Move { ids, dx, dy }) => {
                    let Some(item) = self.current_item() else {
                        continue;
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
                WsAction::Canvas(CanvasAction::ToggleKeypoint { id, index }) => {
                    self.edit(id, |d| {
                        if let Geometry::Keypoints { points } = &mut d.geometry
                            && let Some(k) = points.get_mut(index)
                        {
                            k.visible = !k.visible;
                        }
                    });
                }
                WsAction::Canvas(CanvasAction::Message(m)) => self.message = Some(m),
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
                WsAction::ConfirmSkip => {
                    let reason = self.dialogs.skip_reason.take().unwrap_or_default();
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        match self.session.skip(item_id, &reason) {
                            Ok(()) => {
                                self.set_current_status("skipped");
                                self.go_next();
                            }
                            Err(e) => {
                                self.message = Some(e.to_string());
                                self.dialogs.skip_reason = Some(reason);
                            }
                        }
                    }
                }
                WsAction::ConfirmReject => {
                    let comment = self.dialogs.reject_comment.take().unwrap_or_default();
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        let decision = crate::controller::Decision::Reject {
                            comment: comment.clone(),
                        };
                        let target = self.review_target.take();
                        match self.session.review(item_id, target.as_deref(), decision) {
                            Ok(()) => {
                                self.set_current_status("rejected");
                                self.reload_work();
                                self.message = Some(format!(
                                    "Item {item_id} rejected: it goes back with your comment"
                                ));
                                self.go_next();
                            }
                            Err(e) => {
                                self.message = Some(e.to_string());
                                self.dialogs.reject_comment = Some(comment);
                            }
                        }
                    }
                }
                WsAction::ApplyConsensus => {
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        match self.session.consensus(item_id) {
                            Ok(drafts) => {
                                self.correcting = Some(item_id);
                                let n = drafts.len();
                                for draft in drafts {
                                    self.save(LabelChange::Create { item_id, draft });
                                }
                                self.message = Some(format!(
                                    "{n} consensus label(s) added as yours; correct them, then C approves"
                                ));
                            }
                            Err(e) => self.message = Some(e.to_string()),
                        }
                    }
                }
                WsAction::AddComment => {
                    let body = std::mem::take(&mut self.comment_draft);
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
                                self.message = Some(e.to_string());
                                self.comment_draft = body;
                            }
                        }
                    }
                }
                WsAction::PlayAudio => {
                    if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view
                        && let Err(e) = self.playback.audio.play(bytes.clone())
                    {
                        self.message = Some(e);
                    }
                }
                WsAction::StopAudio => {
                    self.playback.audio.stop();
                    self.playback.playing_since = None;
                    self.playback.playhead = 0.0;
                }
                WsAction::Audio(AudioAction::Create {
                    start_secs,
                    end_secs,
                }) => {
                    let (Some(item_id), Some(class_id)) =
                        (self.current_item().map(|i| i.id), self.active_class)
                    else {
                        continue;
                    };
                    let geometry = Geometry::Segment {
                        start_secs,
                        end_secs,
                        transcript: String::new(),
                    };
                    if let Some(id) = self.save(LabelChange::Create {
                        item_id,
                        draft: AnnotationDraft::new(class_id, geometry),
                    }) {
                        self.selected = BTreeSet::from([id]);
                    }
                }
                WsAction::Audio(AudioAction::Resize {
                    id,
                    start_secs,
                    end_secs,
                }) => {
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
                WsAction::Audio(AudioAction::Select { id, additive }) => {
                    // Same rules as selecting in the labels list; the seek that
                    // follows in this batch still runs.
                    let _ = self.apply(vec![WsAction::SelectAnnotation { id, additive }]);
                }
                WsAction::Audio(AudioAction::Seek(t)) => {
                    self.playback.playhead = t;
                    if self.playback.playing_since.is_some() {
                        self.start_playback();
                    }
                }
                WsAction::SetTranscript { id, text } => {
                    self.edit(id, |d| {
                        if let Geometry::Segment { transcript, .. } = &mut d.geometry {
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

    /// Runs a command as if its shortcut was pressed (screenshots, scripts).
    pub fn run_command(&mut self, cmd: Command) -> Option<ShellRequest> {
        self.run(cmd)
    }

    /// Carries out `cmd` once [`Self::gate`] lets it through.
    pub(super) fn run(&mut self, cmd: Command) -> Option<ShellRequest> {
        match self.gate(cmd) {
            Gate::Open => {}
            Gate::Expired => {
                self.message = Some(
                    "This work package has expired: send your results to the site, then erase the bundle"
                        .into(),
                );
                return None;
            }
            Gate::Refused(why) => {
                self.message = Some(why.into());
                return None;
            }
            Gate::OtherKind => return None,
        }
        match cmd {
            Command::NextItem => self.go_next(),
            Command::PreviousItem => self.go_previous(),
            Command::SubmitAndNext => {
                if let Some(item_id) = self.current_item().map(|i| i.id) {
                    match self.session.submit(item_id) {
                        Ok(()) => {
                            self.set_current_status("submitted");
                            self.save_state = SaveState::Saved { at_ms: now_ms() };
                            self.message = Some(format!("Item {item_id} submitted"));
                            self.go_next();
                        }
                        Err(e) => self.message = Some(e.to_string()),
                    }
                }
            }
            Command::SkipItem => {
                if self.current_item().is_some() {
                    self.dialogs.skip_reason = Some(String::new());
                }
            }
            Command::Approve | Command::Correct | Command::Reject => {
                let item_id = self.current_item().map(|i| i.id)?;
                match cmd {
                    Command::Reject => {
                        if self.review_target.is_none() {
                            self.review_target = self.only_submitted();
                        }
                        self.dialogs.reject_comment = Some(String::new());
                    }
                    Command::Correct if self.correcting != Some(item_id) => {
                        self.correcting = Some(item_id);
                        self.message = Some(
                            "Correcting: edit the labels (your edits are yours in the history), then press C again to approve".into(),
                        );
                    }
                    _ => {
                        let decision = if cmd == Command::Correct {
                            crate::controller::Decision::Correct
                        } else {
                            crate::controller::Decision::Approve
                        };
                        let target = self.review_target.take().or_else(|| self.only_submitted());
                        match self.session.review(item_id, target.as_deref(), decision) {
                            Ok(()) => {
                                self.correcting = None;
                                self.set_current_status("approved");
                                self.reload_work();
                                self.save_state = SaveState::Saved { at_ms: now_ms() };
                                self.message = Some(format!("Item {item_id} approved"));
                                self.go_next();
                            }
                            Err(e) => self.message = Some(e.to_string()),
                        }
                    }
                }
            }
            Command::Undo | Command::Redo => {
                // Across items: the latest change may be on another item.
                let change = if cmd == Command::Undo {
                    LabelChange::Undo { item_id: None }
                } else {
                    LabelChange::Redo { item_id: None }
                };
                match self.session.apply_label(change) {
                    Ok(applied) => {
                        self.save_state = SaveState::Saved { at_ms: now_ms() };
                        if self.current_item().map(|i| i.id) != Some(applied.item_id)
                            && let Some(index) =
                                self.items.iter().position(|i| i.id == applied.item_id)
                        {
                            self.open_item(index);
                        }
                        self.reload_annotations();
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
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
            Command::BringForward | Command::SendBackward => {
                let (lo, hi) = (
                    self.annotations.iter().map(|a| a.z).min().unwrap_or(0),
                    self.annotations.iter().map(|a| a.z).max().unwrap_or(0),
                );
                let z = if cmd == Command::BringForward {
                    hi + 1
                } else {
                    lo - 1
                };
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.z = z);
                }
            }
            Command::CopyPrevious => self.copy_previous(),
            Command::PlayPause => {
                if self.playback.playing_since.is_some() {
                    self.playback.playhead += self
                        .playback
                        .playing_since
                        .take()
                        .map_or(0.0, |s| s.elapsed().as_secs_f64());
                    self.playback.audio.stop();
                } else {
                    // Plain play runs to the end, not to a segment's end.
                    self.playback.play_until = None;
                    self.start_playback();
                }
            }
            Command::PlaySelection => {
                let segment = self.annotations.iter().find_map(|a| match a.geometry {
                    Geometry::Segment {
                        start_secs,
                        end_secs,
                        ..
                    } if self.selected.contains(&a.id) => Some((start_secs, end_secs)),
                    _ => None,
                });
                match segment {
                    Some((start, end)) => {
                        self.playback.playhead = start;
                        self.playback.play_until = Some((start, end));
                        self.start_playback();
                    }
                    None => self.message = Some("Select a segment to play it".into()),
                }
            }
            Command::SplitSegment => self.split_segment(),
            Command::MergeSegments => self.merge_segments(),
            Command::NextSegment | Command::PreviousSegment => {
                let playhead = self.playback.playhead;
                let mut segs: Vec<(i64, f64)> = self
                    .annotations
                    .iter()
                    .filter_map(|a| match a.geometry {
                        Geometry::Segment { start_secs, .. } => Some((a.id, start_secs)),
                        _ => None,
                    })
                    .collect();
                segs.sort_by(|a, b| a.1.total_cmp(&b.1));
                let target = if cmd == Command::NextSegment {
                    segs.into_iter().find(|(_, s)| *s > playhead + 1e-6)
                } else {
                    segs.into_iter().rev().find(|(_, s)| *s < playhead - 1e-6)
                };
                if let Some((id, start)) = target {
                    self.selected = BTreeSet::from([id]);
                    self.playback.playhead = start;
                }
            }
            Command::RelateSelected => self.relate_selected(),
            Command::ZoomFit => self.canvas.zoom_fit(),
            Command::ZoomActual => self.canvas.zoom_actual(),
            Command::ToggleHelp => self.dialogs.show_help = !self.dialogs.show_help,
            Command::Settings => self.dialogs.keymap_editor.open_with(&self.keymap),
            Command::ProjectSettings => self.open_project_settings(),
            Command::SchemaEditor => self.dialogs.schema_editor.open_with(&self.schema),
            Command::MakeWorkPackage | Command::OpenResultsPackage => {
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
            Command::ExportDataset => self.dialogs.export_dialog = Some(ExportDialog::default()),
            Command::AcceptPredictions => {
                let ids: Vec<i64> = self
                    .annotations
                    .iter()
                    .filter(|a| a.source.is_some())
                    .filter(|a| self.selected.is_empty() || self.selected.contains(&a.id))
                    .map(|a| a.id)
                    .collect();
                match self.session.accept_predictions(&ids) {
                    Ok(n) => {
                        self.save_state = SaveState::Saved { at_ms: now_ms() };
                        self.message = Some(format!("{n} prediction(s) accepted"));
                    }
                    Err(e) => self.save_state = SaveState::Failed(e.to_string()),
                }
                self.reload_annotations();
            }
            Command::QualityScreen => {
                let mut view = QualityView::default();
                match self.session.quality_report() {
                    Ok(r) => view.report = Some(r),
                    Err(e) => view.error = Some(e.to_string()),
                }
                self.dialogs.quality = Some(view);
            }
            Command::PrivacyScreen => {
                if self.dialogs.privacy.is_some() {
                    self.dialogs.privacy = None;
                } else {
                    match self.current_item().cloned() {
                        Some(item) => {
                            let classes =
                                class_names_for_privacy(&self.schema.classes, &self.annotations);
                            self.dialogs.privacy =
                                Some(PrivacyView::open(&mut self.session, item, classes));
                        }
                        None => self.message = Some("Pick an item in the queue first".into()),
                    }
                }
            }
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
