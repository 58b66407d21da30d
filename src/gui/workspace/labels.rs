//! Changes to labels: every one goes through [`Workspace::save`], which
//! sends it to the controller and says "Saved" only once it committed.

use super::*;

impl Workspace {
    /// Creates a segment of the active class on the recording and selects it.
    pub(super) fn create_segment(&mut self, start_secs: f64, end_secs: f64) {
        let (Some(item_id), Some(class_id)) =
            (self.current_item().map(|i| i.id), self.active_class)
        else {
            return;
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

    /// Creates a label of the active class on top of the others and selects it.
    pub(super) fn create_shape(&mut self, geometry: Geometry) {
        let (Some(item), Some(class_id)) = (self.current_item(), self.active_class) else {
            return;
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

    /// Makes the selected predictions (or all on the item) the user's own labels.
    pub(super) fn accept_predictions(&mut self) {
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
                self.tell(format!("{n} prediction(s) accepted"));
            }
            Err(e) => self.save_state = SaveState::Failed(e.to_string()),
        }
        self.reload_annotations();
    }

    /// Puts the selected labels above (or below) all others.
    pub(super) fn restack_selected(&mut self, cmd: Command) {
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

    /// Undoes or redoes the latest change, opening the item it was on.
    pub(super) fn undo_redo(&mut self, cmd: Command) {
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
                    && let Some(index) = self
                        .queue
                        .items
                        .iter()
                        .position(|i| i.id == applied.item_id)
                {
                    self.open_item(index);
                }
                self.reload_annotations();
            }
            Err(e) => self.fail(e),
        }
    }

    /// Labels the selected text as a span of `class_id`; false when no text
    /// is selected.
    pub(super) fn create_span_from_selection(&mut self, class_id: i64) -> bool {
        let Some((start, end)) = self.text_view.range() else {
            return false;
        };
        let Some(item_id) = self
            .current_item()
            .filter(|i| i.kind == ItemKind::Text)
            .map(|i| i.id)
        else {
            return false;
        };
        let geometry = Geometry::Span {
            start: start as u64,
            end: end as u64,
            byte_start: 0,
            byte_end: 0,
        };
        if let Some(id) = self.save(LabelChange::Create {
            item_id,
            draft: AnnotationDraft::new(class_id, geometry),
        }) {
            self.selected = BTreeSet::from([id]);
            self.text_view.clear();
        }
        true
    }

    /// Adds or removes a whole-image tag; with one tag allowed per image,
    /// ticking another class moves the existing tag to it.
    pub(super) fn toggle_tag(&mut self, class_id: i64) {
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        let tags: Vec<&Annotation> = self
            .annotations
            .iter()
            .filter(|a| a.geometry == Geometry::Tag)
            .collect();
        if let Some(existing) = tags.iter().find(|a| a.class_id == class_id) {
            let id = existing.id;
            self.save(LabelChange::Delete { annotation_id: id });
        } else if let (false, Some(other)) = (self.schema.multi_label_tags, tags.first()) {
            let id = other.id;
            self.edit(id, |d| d.class_id = class_id);
        } else {
            self.save(LabelChange::Create {
                item_id,
                draft: AnnotationDraft::new(class_id, Geometry::Tag),
            });
        }
    }

    pub(super) fn duplicate_selected(&mut self) {
        let Some(item) = self.current_item() else {
            return;
        };
        let (item_id, w, h) = (
            item.id,
            item.width.unwrap_or(0) as f64,
            item.height.unwrap_or(0) as f64,
        );
        let drafts: Vec<AnnotationDraft> = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id) && a.geometry != Geometry::Tag)
            .map(|a| {
                let mut d = AnnotationDraft::from(a);
                d.geometry = d.geometry.translated(10.0, 10.0).clamped(w, h);
                d.locked = false;
                d
            })
            .collect();
        let mut new_ids = BTreeSet::new();
        for draft in drafts {
            if let Some(id) = self.save(LabelChange::Create { item_id, draft }) {
                new_ids.insert(id);
            }
        }
        if !new_ids.is_empty() {
            self.selected = new_ids;
        }
    }

    pub(super) fn copy_previous(&mut self) {
        let Some(index) = self.queue.current else {
            return;
        };
        let pos = self.queue.visible.iter().position(|i| *i == index);
        let Some(prev) = pos
            .filter(|p| *p > 0)
            .and_then(|p| self.queue.visible.get(p - 1))
            .and_then(|i| self.queue.items.get(*i))
        else {
            self.tell("There is no previous item to copy from");
            return;
        };
        let (from, to) = (prev.id, self.queue.items[index].id);
        match self.session.copy_labels(from, to) {
            Ok(ids) => {
                self.save_state = SaveState::Saved { at_ms: now_ms() };
                self.tell(format!(
                    "Copied {} label(s) from the previous item",
                    ids.len()
                ));
                self.reload_annotations();
            }
            Err(e) => self.save_state = SaveState::Failed(e.to_string()),
        }
    }

    /// Changes one annotation through a full draft update.
    pub(super) fn edit(&mut self, id: i64, change: impl FnOnce(&mut AnnotationDraft)) {
        let Some(a) = self.annotations.iter().find(|a| a.id == id) else {
            return;
        };
        let mut draft = AnnotationDraft::from(a);
        change(&mut draft);
        if draft != AnnotationDraft::from(a) {
            self.save(LabelChange::Update {
                annotation_id: id,
                draft,
            });
        }
    }

    /// Sends one change to the controller; the status bar says "Saved" only
    /// once the transaction has committed.
    pub(super) fn save(&mut self, change: LabelChange) -> Option<i64> {
        // Reviewers see the work read-only until they choose to correct it.
        if self.session.role() == Role::Reviewer && !self.is_correcting() {
            self.tell("Read-only while reviewing: press C to correct this item");
            self.reload_annotations();
            return None;
        }
        let out = match self.session.apply_label(change) {
            Ok(applied) => {
                self.save_state = SaveState::Saved { at_ms: now_ms() };
                Some(applied.annotation_id)
            }
            Err(e) => {
                self.save_state = SaveState::Failed(e.to_string());
                None
            }
        };
        self.reload_annotations();
        out
    }

    /// Saves a change made by a controller call other than
    /// [`Self::save`] (split, merge): the same read-only rule for
    /// reviewers, the same saved / failed indicator, the labels reloaded.
    fn save_with<T>(
        &mut self,
        change: impl FnOnce(&mut Session) -> Result<T, CoreError>,
    ) -> Option<T> {
        if self.session.role() == Role::Reviewer && !self.is_correcting() {
            self.tell("Read-only while reviewing: press C to correct this item");
            return None;
        }
        let out = match change(&mut self.session) {
            Ok(value) => {
                self.save_state = SaveState::Saved { at_ms: now_ms() };
                Some(value)
            }
            Err(e) => {
                self.save_state = SaveState::Failed(e.to_string());
                None
            }
        };
        self.reload_annotations();
        out
    }

    /// Splits the segment under the playhead into two at the playhead; the
    /// transcript stays with the first part. One controller transaction;
    /// each part stays undoable on its own.
    pub(super) fn split_segment(&mut self) {
        let t = self.playback.playhead;
        let Some(id) = self
            .annotations
            .iter()
            .find(|a| {
                a.geometry
                    .time_range()
                    .is_some_and(|(start, end)| start < t && t < end)
            })
            .map(|a| a.id)
        else {
            self.tell("Put the playhead inside a segment to split it");
            return;
        };
        if let Some((first, second)) = self.save_with(|s| s.split_segment(id, t)) {
            self.selected = BTreeSet::from([first, second]);
        }
    }

    /// Merges the selected segments into the earliest: it spans them all
    /// and its transcript joins theirs; the others are deleted. One
    /// controller transaction.
    pub(super) fn merge_segments(&mut self) {
        let ids: Vec<i64> = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id))
            .filter(|a| a.geometry.time_range().is_some())
            .map(|a| a.id)
            .collect();
        if ids.len() < 2 {
            self.tell("Select two or more segments (Ctrl+click) to merge");
            return;
        }
        if let Some(kept) = self.save_with(|s| s.merge_segments(&ids)) {
            self.selected = BTreeSet::from([kept]);
        }
    }

    /// Links two selected spans with a relation of the first class that
    /// allows relations, in selection order (lower id first).
    pub(super) fn relate_selected(&mut self) {
        let spans: Vec<i64> = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id) && a.geometry.char_range().is_some())
            .map(|a| a.id)
            .collect();
        let [from, to] = spans.as_slice() else {
            self.tell("Select exactly two spans (Ctrl+click) to relate them");
            return;
        };
        // The relation's type is the active class if it is a relation class
        // (click it in the class list), else the first relation class.
        let active = self.active_class.filter(|id| {
            self.schema
                .classes
                .iter()
                .any(|c| c.id == *id && c.allows(Tool::Relation))
        });
        let first = self
            .schema
            .classes
            .iter()
            .find(|c| c.allows(Tool::Relation))
            .map(|c| c.id);
        let Some(class_id) = active.or(first) else {
            self.message =
                Some("No class allows relations; an admin can add one in the schema editor".into());
            return;
        };
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        let geometry = Geometry::Relation {
            from: *from,
            to: *to,
        };
        self.save(LabelChange::Create {
            item_id,
            draft: AnnotationDraft::new(class_id, geometry),
        });
    }
}
