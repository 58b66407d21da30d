//! Label changes: create, update, delete, undo and redo, each validated
//! against the schema and the item, and committed with its audit row.

use crate::events::AuditAction;
use serde_json::json;

use super::{Allowed, Applied, CoreError, Event, Result, Session};
use crate::model::{
    Annotation, AnnotationDraft, AssignmentState, AttributeDef, Extent, Geometry, ItemSummary,
    LabelChange, LabelClass,
};
use crate::permissions::Action;
use crate::store::{self, Revision};

impl Session {
    pub fn annotations(&mut self, item_id: i64) -> Result<Vec<crate::model::Annotation>> {
        self.require_item(Action::ViewItem, item_id)?;
        Ok(store::list_annotations(self.project.store.conn(), item_id)?)
    }

    /// An annotator's work is frozen once submitted (it waits for review)
    /// and after approval; a rejection opens it again.
    pub(super) fn require_editable(&self, item_id: i64) -> Result<()> {
        if self.user.role != crate::model::Role::Annotator {
            return Ok(());
        }
        let state = store::assignment_state(self.project.store.conn(), item_id, self.user.id)?;
        match state {
            Some((state, _)) if !state.editable_by_annotator() => Err(CoreError::Invalid(format!(
                "item {item_id} is {state}: {}",
                match state {
                    AssignmentState::Submitted => {
                        "it waits for review and cannot be changed now"
                    }
                    AssignmentState::Approved => "it was approved and is final",
                    _ => "it cannot be changed",
                }
            ))),
            _ => Ok(()),
        }
    }

    /// Checks a draft against the schema and the item it goes on, and
    /// returns it normalised (span byte offsets computed from the text).
    pub(super) fn validate_draft(
        &self,
        item: &ItemSummary,
        draft: AnnotationDraft,
        replacing: &[i64],
    ) -> Result<AnnotationDraft> {
        let conn = self.project.store.conn();
        let others: Vec<_> = store::list_annotations(conn, item.id)?
            .into_iter()
            .filter(|a| !replacing.contains(&a.id))
            .collect();
        self.draft_rules()?.check(conn, item, draft, &others)
    }

    /// Applies one label change as its own committed transaction (autosave):
    /// when this returns `Ok`, the change is durable.
    pub fn apply_label(&mut self, change: LabelChange) -> Result<Applied> {
        let conn = self.project.store.conn();
        let item_id = match &change {
            LabelChange::Create { item_id, .. } => Some(*item_id),
            LabelChange::Undo { item_id } | LabelChange::Redo { item_id } => *item_id,
            LabelChange::Update { annotation_id, .. } | LabelChange::Delete { annotation_id } => {
                Some(
                    store::annotation_state(conn, *annotation_id)?
                        .ok_or_else(|| CoreError::NotFound(format!("annotation {annotation_id}")))?
                        .item_id,
                )
            }
        };
        let (allowed, item) = match item_id {
            Some(id) => {
                let (allowed, item) = self.allow_item(Action::EditLabels, id)?;
                self.require_editable(id)?;
                (allowed, Some(item))
            }
            None => (self.allow(Action::EditLabels, None)?, None),
        };
        let me = self.user.id;
        match (change, item) {
            (LabelChange::Create { item_id, draft }, Some(item)) => {
                let draft = self.validate_draft(&item, draft, &[])?;
                let (id, seq) = self.commit_seq(allowed, |tx| {
                    let rev = Revision {
                        item_id,
                        draft: &draft,
                        deleted: false,
                        op: "create",
                        actor: me,
                    };
                    let (id, _) = store::write_annotation(tx, None, &rev)?;
                    store::mark_in_progress(tx, item_id, me)?;
                    Ok((
                        id,
                        Event::with_text(
                            AuditAction::LabelCreate,
                            format!("item:{item_id}/annotation:{id}"),
                            draft_details(&draft),
                        ),
                    ))
                })?;
                Ok(Applied {
                    annotation_id: id,
                    item_id,
                    audit_seq: seq,
                })
            }
            (
                LabelChange::Update {
                    annotation_id,
                    draft,
                },
                Some(item),
            ) => {
                let draft = self.validate_draft(&item, draft, &[annotation_id])?;
                let item_id = item.id;
                let ((), seq) = self.commit_seq(allowed, |tx| {
                    let rev = Revision {
                        item_id,
                        draft: &draft,
                        deleted: false,
                        op: "update",
                        actor: me,
                    };
                    store::write_annotation(tx, Some(annotation_id), &rev)?;
                    store::mark_in_progress(tx, item_id, me)?;
                    Ok((
                        (),
                        Event::with_text(
                            AuditAction::LabelUpdate,
                            format!("item:{item_id}/annotation:{annotation_id}"),
                            draft_details(&draft),
                        ),
                    ))
                })?;
                Ok(Applied {
                    annotation_id,
                    item_id,
                    audit_seq: seq,
                })
            }
            (LabelChange::Delete { annotation_id }, Some(item)) => {
                let state = store::annotation_state(self.project.store.conn(), annotation_id)?
                    .filter(|s| !s.deleted)
                    .ok_or_else(|| CoreError::NotFound(format!("annotation {annotation_id}")))?;
                let item_id = item.id;
                let ((), seq) = self.commit_seq(allowed, |tx| {
                    let rev = Revision {
                        item_id,
                        draft: &state.draft,
                        deleted: true,
                        op: "delete",
                        actor: me,
                    };
                    store::write_annotation(tx, Some(annotation_id), &rev)?;
                    Ok((
                        (),
                        Event::new(
                            AuditAction::LabelDelete,
                            format!("item:{item_id}/annotation:{annotation_id}"),
                            json!({}),
                        ),
                    ))
                })?;
                Ok(Applied {
                    annotation_id,
                    item_id,
                    audit_seq: seq,
                })
            }
            (LabelChange::Undo { item_id }, _) => self.undo_or_redo(allowed, item_id, true),
            (LabelChange::Redo { item_id }, _) => self.undo_or_redo(allowed, item_id, false),
            (_, None) => Err(CoreError::Invalid("a label change needs an item".into())),
        }
    }

    /// Undo restores the state before the user's latest change; redo
    /// re-applies the latest undone one. Both are new revisions, so history
    /// is never rewritten and both survive a restart.
    fn undo_or_redo(
        &mut self,
        allowed: Allowed,
        item_id: Option<i64>,
        undo: bool,
    ) -> Result<Applied> {
        let me = self.user.id;
        let conn = self.project.store.conn();
        let target = if undo {
            store::last_undoable(conn, item_id, me)?
        } else {
            store::last_redoable(conn, item_id, me)?
        }
        .ok_or_else(|| {
            CoreError::Invalid(format!("nothing to {}", if undo { "undo" } else { "redo" }))
        })?;
        // The change may be on another item: the user must still be allowed there.
        let allowed = if Some(target.item_id) == item_id {
            allowed
        } else {
            self.allow_item(Action::EditLabels, target.item_id)?.0
        };
        let conn = self.project.store.conn();
        let current = store::annotation_state(conn, target.annotation_id)?
            .ok_or_else(|| CoreError::NotFound(format!("annotation {}", target.annotation_id)))?;
        let wanted_revision = if undo {
            target.revision - 1
        } else {
            target.revision
        };
        let (draft, deleted) =
            match store::revision_state(conn, target.annotation_id, wanted_revision)? {
                Some(state) => state,
                // Before its first revision the annotation did not exist.
                None => (current.draft.clone(), true),
            };
        let (op, mark, action) = if undo {
            ("undo", 1, AuditAction::LabelUndo)
        } else {
            ("redo", 2, AuditAction::LabelRedo)
        };
        let target_item = target.item_id;
        let ((), seq) = self.commit_seq(allowed, |tx| {
            let rev = Revision {
                item_id: target_item,
                draft: &draft,
                deleted,
                op,
                actor: me,
            };
            let (_, revision_row) = store::write_annotation(tx, Some(target.annotation_id), &rev)?;
            store::set_undo_state(tx, target.revision_row, mark, revision_row)?;
            Ok((
                (),
                Event::new(
                    action,
                    format!("item:{target_item}/annotation:{}", target.annotation_id),
                    json!({"revision": target.revision}),
                ),
            ))
        })?;
        Ok(Applied {
            annotation_id: target.annotation_id,
            item_id: target_item,
            audit_seq: seq,
        })
    }

    /// Copies every live label of `from_item` onto `to_item` (shapes clamped
    /// to the target image; ones that end up empty are skipped). One
    /// transaction; each copy is its own undoable revision.
    pub fn copy_labels(&mut self, from_item: i64, to_item: i64) -> Result<Vec<i64>> {
        self.require_item(Action::ViewItem, from_item)?;
        let (allowed, target) = self.allow_item(Action::EditLabels, to_item)?;
        let source = store::list_annotations(self.project.store.conn(), from_item)?;
        let (w, h) = (
            target.width.unwrap_or(0) as f64,
            target.height.unwrap_or(0) as f64,
        );
        let mut drafts = Vec::new();
        for a in &source {
            let mut draft = AnnotationDraft::from(a);
            draft.geometry = draft.geometry.clamped(w, h);
            // Relations point at the source item's labels: not copied.
            if draft.geometry.linked().is_some() {
                continue;
            }
            if let Ok(draft) = self.validate_draft(&target, draft, &[]) {
                drafts.push(draft);
            }
        }
        let me = self.user.id;
        self.commit(allowed, |tx| {
            let mut ids = Vec::new();
            for draft in &drafts {
                let rev = Revision {
                    item_id: to_item,
                    draft,
                    deleted: false,
                    op: "create",
                    actor: me,
                };
                let (id, _) = store::write_annotation(tx, None, &rev)?;
                ids.push(id);
            }
            if !ids.is_empty() {
                store::mark_in_progress(tx, to_item, me)?;
            }
            let event = Event::new(
                AuditAction::LabelCopy,
                format!("item:{to_item}"),
                json!({"from_item": from_item, "annotations": ids}),
            );
            Ok((ids, event))
        })
    }

    /// A live segment label and the item it is on, for split and merge.
    fn live_segment(&self, annotation_id: i64) -> Result<(i64, AnnotationDraft, f64, f64, String)> {
        let state = store::annotation_state(self.project.store.conn(), annotation_id)?
            .filter(|s| !s.deleted)
            .ok_or_else(|| CoreError::NotFound(format!("annotation {annotation_id}")))?;
        let geometry = &state.draft.geometry;
        match (geometry.time_range(), geometry.transcript()) {
            (Some((start, end)), Some(transcript)) => Ok((
                state.item_id,
                state.draft.clone(),
                start,
                end,
                transcript.to_string(),
            )),
            _ => Err(CoreError::Invalid(format!(
                "label #{annotation_id} is not a segment"
            ))),
        }
    }

    /// Splits a segment in two at `at_secs`: the first part keeps the
    /// transcript, the second starts empty. One transaction and one audit
    /// row, so a crash never leaves half a split; each part is its own
    /// undoable revision. Returns (first, second) label ids.
    pub fn split_segment(&mut self, annotation_id: i64, at_secs: f64) -> Result<(i64, i64)> {
        let (item_id, draft, start, end, transcript) = self.live_segment(annotation_id)?;
        let (allowed, item) = self.allow_item(Action::EditLabels, item_id)?;
        self.require_editable(item_id)?;
        if !(at_secs.is_finite() && start < at_secs && at_secs < end) {
            return Err(CoreError::Invalid(format!(
                "{at_secs:.3} s is not inside segment #{annotation_id} ({start:.3}–{end:.3} s); put the playhead inside it"
            )));
        }
        let part = |from: f64, to: f64, text: String| AnnotationDraft {
            geometry: Geometry::Segment {
                start_secs: from,
                end_secs: to,
                transcript: text,
            },
            ..draft.clone()
        };
        let first =
            self.validate_draft(&item, part(start, at_secs, transcript), &[annotation_id])?;
        let second =
            self.validate_draft(&item, part(at_secs, end, String::new()), &[annotation_id])?;
        let me = self.user.id;
        self.commit(allowed, |tx| {
            let revision = |draft, op| Revision {
                item_id,
                draft,
                deleted: false,
                op,
                actor: me,
            };
            store::write_annotation(tx, Some(annotation_id), &revision(&first, "update"))?;
            let (new_id, _) = store::write_annotation(tx, None, &revision(&second, "create"))?;
            store::mark_in_progress(tx, item_id, me)?;
            let event = Event::new(
                AuditAction::LabelSplit,
                format!("item:{item_id}/annotation:{annotation_id}"),
                json!({"at_secs": at_secs, "new_annotation": new_id}),
            );
            Ok(((annotation_id, new_id), event))
        })
    }

    /// Merges segments of one item into the earliest: it spans them all
    /// and its transcript joins theirs in time order; the others are
    /// deleted. One transaction and one audit row. Returns the kept id.
    pub fn merge_segments(&mut self, annotation_ids: &[i64]) -> Result<i64> {
        let mut segments = Vec::new();
        for &id in annotation_ids {
            segments.push((id, self.live_segment(id)?));
        }
        if segments.len() < 2 {
            return Err(CoreError::Invalid(
                "merging needs two or more segments of one item".into(),
            ));
        }
        let item_id = segments[0].1.0;
        if segments.iter().any(|(_, s)| s.0 != item_id) {
            return Err(CoreError::Invalid(
                "only segments of the same item can be merged".into(),
            ));
        }
        let (allowed, item) = self.allow_item(Action::EditLabels, item_id)?;
        self.require_editable(item_id)?;
        segments.sort_by(|a, b| a.1.2.total_cmp(&b.1.2));
        let (kept, (_, draft, start, ..)) = segments[0].clone();
        let end = segments.iter().map(|(_, s)| s.3).fold(f64::MIN, f64::max);
        let transcript = segments
            .iter()
            .map(|(_, s)| s.4.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let ids: Vec<i64> = segments.iter().map(|(id, _)| *id).collect();
        let merged = AnnotationDraft {
            geometry: Geometry::Segment {
                start_secs: start,
                end_secs: end,
                transcript,
            },
            ..draft
        };
        let merged = self.validate_draft(&item, merged, &ids)?;
        let gone: Vec<(i64, AnnotationDraft)> = segments[1..]
            .iter()
            .map(|(id, s)| (*id, s.1.clone()))
            .collect();
        let me = self.user.id;
        self.commit(allowed, |tx| {
            let revision = |draft, deleted, op| Revision {
                item_id,
                draft,
                deleted,
                op,
                actor: me,
            };
            store::write_annotation(tx, Some(kept), &revision(&merged, false, "update"))?;
            for (id, draft) in &gone {
                store::write_annotation(tx, Some(*id), &revision(draft, true, "delete"))?;
            }
            store::mark_in_progress(tx, item_id, me)?;
            let event = Event::new(
                AuditAction::LabelMerge,
                format!("item:{item_id}/annotation:{kept}"),
                json!({"merged": ids}),
            );
            Ok((kept, event))
        })
    }
}

/// A label change as the audit trail records it: where and what class,
/// never content. Transcripts are reduced to their length and attribute
/// values to their names, so erasing an item leaves nothing of it in the
/// (append-only) trail.
fn draft_details(draft: &AnnotationDraft) -> String {
    let geometry = draft.geometry.audit_json();
    let attributes: Vec<&String> = draft.attributes.keys().collect();
    json!({"class_id": draft.class_id, "geometry": geometry, "attributes": attributes, "hidden": draft.hidden, "locked": draft.locked, "z": draft.z}).to_string()
}

/// Attribute names must exist in the class and values fit their kind.
/// Required attributes may be missing while drawing; submit checks them.
fn check_attributes(class: &LabelClass, draft: &AnnotationDraft) -> Result<()> {
    for (name, value) in &draft.attributes {
        // An attribute the class does not define is kept as it came (another
        // tool's `occluded`, say) rather than refused: refusing it would
        // drop the geometry with it. Pre-label imports warn about it; the
        // CLI refuses a name it does not know before it gets here.
        let Some(def) = class.attributes.iter().find(|d| &d.name == name) else {
            continue;
        };
        if !value.is_null()
            && let Some(problem) = def.problem(value)
        {
            return Err(CoreError::Invalid(problem));
        }
    }
    Ok(())
}

/// What a draft is checked against besides the item and its other labels,
/// and where a text item's text is read from (span offsets).
pub(super) struct DraftRules {
    classes: Vec<LabelClass>,
    schema: crate::model::Schema,
    paths: crate::bundle::BundlePaths,
    project_id: String,
}

impl DraftRules {
    /// [`Session::validate_draft`] with the classes and schema read once
    /// by the caller and the item's other labels given: a bulk import
    /// checks hundreds of thousands of drafts without a query each, and
    /// can do so inside its own transaction (`conn`).
    pub(super) fn check(
        &self,
        conn: &store::Db,
        item: &ItemSummary,
        mut draft: AnnotationDraft,
        others: &[Annotation],
    ) -> Result<AnnotationDraft> {
        let DraftRules {
            classes, schema, ..
        } = self;
        let class = classes
            .iter()
            .find(|c| c.id == draft.class_id)
            .ok_or_else(|| {
                CoreError::Invalid(format!("no label class with id {}", draft.class_id))
            })?;
        let tool = draft.geometry.tool();
        if !class.allows(tool) {
            return Err(CoreError::Invalid(format!(
                "class '{}' cannot be labelled with the {} tool (allowed: {})",
                class.name,
                tool.label().to_lowercase(),
                class
                    .tools
                    .iter()
                    .map(|t| t.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !tool.applies_to(item.kind) {
            return Err(CoreError::Invalid(format!(
                "{} labels do not apply to {} items",
                tool.label().to_lowercase(),
                item.kind.as_str()
            )));
        }
        draft
            .geometry
            .validate(&Extent::of(item))
            .map_err(CoreError::Invalid)?;
        if let Geometry::Keypoints { points } = &draft.geometry {
            let expected = class
                .skeleton
                .as_ref()
                .map(|s| s.keypoints.len())
                .unwrap_or(0);
            if points.len() != expected {
                return Err(CoreError::Invalid(format!(
                    "class '{}' has {expected} keypoints in its skeleton, the label has {}",
                    class.name,
                    points.len()
                )));
            }
        }
        check_attributes(class, &draft)?;
        match &mut draft.geometry {
            Geometry::Tag if !schema.multi_label_tags && others.iter().any(|a| a.geometry == Geometry::Tag) => {
                return Err(CoreError::Invalid(
                    "this project allows one tag per item: change the existing tag's class instead".into(),
                ));
            }
            Geometry::Span { start, end, byte_start, byte_end } => {
                if !schema.overlapping_spans
                    && let Some(other) = others.iter().find(|a| {
                        matches!(a.geometry, Geometry::Span { start: s, end: e, .. } if s < *end && *start < e)
                    })
                {
                    return Err(CoreError::Invalid(format!(
                        "span {start}–{end} overlaps label #{} and this project does not allow overlapping or nested spans",
                        other.id
                    )));
                }
                // Byte offsets come from the text itself, never from the caller.
                let text = self.item_text(conn, item.id)?;
                let to_byte = |c: u64| {
                    crate::text_offsets::char_to_byte(&text, c as usize)
                        .map(|b| b as u64)
                        .map_err(|e| CoreError::Invalid(e.to_string()))
                };
                *byte_start = to_byte(*start)?;
                *byte_end = to_byte(*end)?;
            }
            Geometry::Segment { start_secs, end_secs, .. } => {
                if !schema.overlapping_segments
                    && let Some(other) = others.iter().find(|a| {
                        matches!(a.geometry, Geometry::Segment { start_secs: s, end_secs: e, .. } if s < *end_secs && *start_secs < e)
                    })
                {
                    return Err(CoreError::Invalid(format!(
                        "segment overlaps label #{} and this project does not allow overlapping segments",
                        other.id
                    )));
                }
            }
            Geometry::Relation { from, to } => {
                for end in [*from, *to] {
                    if !others.iter().any(|a| a.id == end && !matches!(a.geometry, Geometry::Relation { .. })) {
                        return Err(CoreError::Invalid(format!("a relation must link labels of this item; #{end} is not one")));
                    }
                }
            }
            // Nothing beyond the checks above (extent, skeleton).
            Geometry::Tag
            | Geometry::BBox(_)
            | Geometry::Polygon { .. }
            | Geometry::Polyline { .. }
            | Geometry::Point { .. }
            | Geometry::Keypoints { .. } => {}
        }
        Ok(draft)
    }

    /// The decrypted text of a text item (for span offsets).
    fn item_text(&self, conn: &store::Db, item_id: i64) -> Result<String> {
        let (blob_id, key) = store::item_blob(conn, item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
        let bytes = self.paths.read_blob(&self.project_id, &blob_id, &key)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| CoreError::Invalid(format!("item {item_id} is not UTF-8 text")))
    }

    /// The class named `name`.
    pub(super) fn class_named(&self, name: &str) -> Option<&LabelClass> {
        self.classes.iter().find(|c| c.name == name)
    }
}

impl Session {
    /// The classes and schema as they are now, for checking many drafts.
    pub(super) fn draft_rules(&self) -> Result<DraftRules> {
        Ok(DraftRules {
            classes: store::list_classes(self.project.store.conn())?,
            schema: self.schema()?,
            paths: self.project.paths.clone(),
            project_id: self.project_id().to_string(),
        })
    }
}

/// Names of required attributes a label still lacks.
pub(super) fn missing_required(
    class: &LabelClass,
    attributes: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    class
        .attributes
        .iter()
        .filter(|d| d.required && !AttributeDef::is_given(attributes.get(&d.name)))
        .map(|d| d.name.clone())
        .collect()
}
