//! The versioned label schema: classes with colours, hotkeys, allowed tools,
//! attributes and keypoint skeletons. A change that would remove existing
//! labels is refused until the admin confirms it, and is audited.

use super::Event;
use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;

use super::{CoreError, Result, Session};
use crate::model::{
    AttributeDef, AttributeKind, LabelClass, Schema, Skeleton, Tool, default_tools,
};
use crate::permissions::Action;
use crate::store::{self, Revision};

/// What a schema change did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SchemaChange {
    pub version: i64,
    /// Labels removed because their class or tool left the schema.
    pub removed_labels: usize,
}

fn class(name: &str, colour: &str, hotkey: u8) -> LabelClass {
    LabelClass {
        id: 0,
        name: name.into(),
        colour: colour.into(),
        hotkey: Some(hotkey),
        tools: default_tools(),
        attributes: vec![],
        skeleton: None,
    }
}

/// The schema a new project starts with; admins edit it in the schema editor.
pub fn default_schema() -> Schema {
    let mut person = class("person", "#e6194b", 1);
    person.tools.push(Tool::Keypoints);
    person.skeleton = Some(Skeleton {
        keypoints: [
            "head",
            "left shoulder",
            "right shoulder",
            "left hip",
            "right hip",
        ]
        .map(String::from)
        .to_vec(),
        edges: vec![[0, 1], [0, 2], [1, 2], [1, 3], [2, 4], [3, 4]],
    });
    let mut face = class("face", "#f58231", 2);
    face.attributes.push(AttributeDef {
        name: "occluded".into(),
        kind: AttributeKind::Bool,
        required: false,
    });
    let mut vehicle = class("vehicle", "#4363d8", 3);
    vehicle.attributes.push(AttributeDef {
        name: "type".into(),
        kind: AttributeKind::Enum {
            options: ["car", "truck", "bus", "motorbike", "bicycle"]
                .map(String::from)
                .to_vec(),
        },
        required: true,
    });
    let mut plate = class("licence plate", "#ffe119", 4);
    plate.attributes.push(AttributeDef {
        name: "text".into(),
        kind: AttributeKind::Text,
        required: false,
    });
    Schema {
        version: 1,
        classes: vec![
            person,
            face,
            vehicle,
            plate,
            class("text", "#3cb44b", 5),
            class("document", "#911eb4", 6),
            class("logo", "#42d4f4", 7),
            class("animal", "#f032e6", 8),
            class("other", "#a9a9a9", 9),
            LabelClass {
                id: 0,
                name: "relates to".into(),
                colour: "#808000".into(),
                hotkey: None,
                tools: vec![Tool::Relation],
                attributes: vec![],
                skeleton: None,
            },
        ],
        multi_label_tags: true,
        overlapping_spans: false,
        overlapping_segments: true,
    }
}

/// Checks a proposed class list for mistakes a person can fix.
fn validate_classes(classes: &[LabelClass]) -> Result<()> {
    let mut names = HashSet::new();
    let mut hotkeys = HashSet::new();
    for c in classes {
        let name = c.name.trim();
        if name.is_empty() {
            return Err(CoreError::Invalid("every class needs a name".into()));
        }
        if !names.insert(name.to_lowercase()) {
            return Err(CoreError::Invalid(format!(
                "two classes are named '{name}'"
            )));
        }
        if let Some(k) = c.hotkey {
            if !(1..=9).contains(&k) {
                return Err(CoreError::Invalid(format!(
                    "class '{name}': hotkey must be 1–9"
                )));
            }
            if !hotkeys.insert(k) {
                return Err(CoreError::Invalid(format!(
                    "hotkey {k} is used by two classes"
                )));
            }
        }
        let hex = c.colour.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::Invalid(format!(
                "class '{name}': colour must look like #12ab9f"
            )));
        }
        if c.tools.is_empty() {
            return Err(CoreError::Invalid(format!("class '{name}' allows no tool")));
        }
        if c.tools.contains(&Tool::Keypoints) {
            let ok = c.skeleton.as_ref().is_some_and(|s| {
                !s.keypoints.is_empty()
                    && s.edges
                        .iter()
                        .all(|e| e[0] < s.keypoints.len() && e[1] < s.keypoints.len())
            });
            if !ok {
                return Err(CoreError::Invalid(format!(
                    "class '{name}' uses keypoints: it needs a skeleton with at least one keypoint and edges between existing keypoints"
                )));
            }
        }
        let mut attrs = HashSet::new();
        for a in &c.attributes {
            if a.name.trim().is_empty() || !attrs.insert(a.name.as_str()) {
                return Err(CoreError::Invalid(format!(
                    "class '{name}': attribute names must be unique and non-empty"
                )));
            }
            if let AttributeKind::Enum { options } = &a.kind
                && options.is_empty()
            {
                return Err(CoreError::Invalid(format!(
                    "class '{name}': choice attribute '{}' has no options",
                    a.name
                )));
            }
        }
    }
    Ok(())
}

impl Session {
    pub fn classes(&self) -> Result<Vec<LabelClass>> {
        Ok(store::list_classes(self.project.store.conn())?)
    }

    /// The current schema with its version.
    pub fn schema(&self) -> Result<Schema> {
        let conn = self.project.store.conn();
        let version = store::meta(conn, "schema_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let flag = |key: &str, default: bool| -> Result<bool> {
            Ok(store::setting(conn, key)?.map_or(default, |v| v == "true"))
        };
        Ok(Schema {
            version,
            classes: store::list_classes(conn)?,
            multi_label_tags: flag("multi_label_tags", true)?,
            overlapping_spans: flag("overlapping_spans", false)?,
            overlapping_segments: flag("overlapping_segments", true)?,
        })
    }

    /// Replaces the class list (admin). Classes keep their identity by `id`
    /// (use 0 for a new class); classes left out are removed. If labels
    /// would be removed (their class is gone, their tool no longer allowed,
    /// or a skeleton changed size), nothing happens unless `confirm` is set.
    pub fn update_schema(
        &mut self,
        classes: Vec<LabelClass>,
        multi_label_tags: bool,
        confirm: bool,
    ) -> Result<SchemaChange> {
        self.update_schema_noting(classes, multi_label_tags, confirm, None)
    }

    /// [`Session::update_schema`] with `note` added to the audit row's
    /// details under `"adopted"` (classes adopted from a label file).
    pub(super) fn update_schema_noting(
        &mut self,
        classes: Vec<LabelClass>,
        multi_label_tags: bool,
        confirm: bool,
        note: Option<serde_json::Value>,
    ) -> Result<SchemaChange> {
        let allowed = self.allow(Action::EditSchema, Some("schema".into()))?;
        validate_classes(&classes)?;
        let conn = self.project.store.conn();
        let existing = store::list_classes(conn)?;
        let mut orphaned: Vec<i64> = Vec::new();
        let mut details = Vec::new();
        for old in &existing {
            match classes.iter().find(|c| c.id == old.id) {
                None => {
                    let ids = store::live_annotation_ids(conn, old.id, None)?;
                    if !ids.is_empty() {
                        details.push(format!("{} in removed class '{}'", ids.len(), old.name));
                    }
                    orphaned.extend(ids);
                }
                Some(new) => {
                    for tool in old.tools.iter().filter(|t| !new.tools.contains(t)) {
                        let ids = store::live_annotation_ids(conn, old.id, Some(*tool))?;
                        if !ids.is_empty() {
                            details.push(format!(
                                "{} {} label(s) of '{}'",
                                ids.len(),
                                tool.label().to_lowercase(),
                                old.name
                            ));
                        }
                        orphaned.extend(ids);
                    }
                    let old_len = old.skeleton.as_ref().map(|s| s.keypoints.len());
                    let new_len = new.skeleton.as_ref().map(|s| s.keypoints.len());
                    if old_len != new_len && new.tools.contains(&Tool::Keypoints) {
                        let ids = store::live_annotation_ids(conn, old.id, Some(Tool::Keypoints))?;
                        if !ids.is_empty() {
                            details.push(format!(
                                "{} keypoint label(s) of '{}' (skeleton changed size)",
                                ids.len(),
                                old.name
                            ));
                        }
                        orphaned.extend(ids);
                    }
                }
            }
        }
        orphaned.sort_unstable();
        orphaned.dedup();
        if !orphaned.is_empty() && !confirm {
            return Err(CoreError::NeedsConfirmation {
                labels: orphaned.len(),
                detail: details.join("; "),
            });
        }
        let version = self.schema()?.version + 1;
        let me = self.user.id;
        let removed = orphaned.len();
        let actor = self.user.fingerprint.clone();
        self.commit(allowed, |tx| {
            for id in &orphaned {
                if let Some(state) = store::annotation_state(tx, *id)? {
                    let rev = Revision { item_id: state.item_id, draft: &state.draft, deleted: true, op: "delete", actor: me };
                    store::write_annotation(tx, Some(*id), &rev)?;
                }
            }
            for old in &existing {
                if !classes.iter().any(|c| c.id == old.id) {
                    store::retire_class(tx, old.id)?;
                }
            }
            // Free hotkeys first so a swap of two hotkeys does not collide.
            for (position, class) in classes.iter().enumerate() {
                let position = position as i64 + 1;
                if existing.iter().any(|e| e.id == class.id) {
                    store::update_class(tx, class, position)?;
                } else {
                    let id = store::insert_class(tx, class)?;
                    store::update_class(tx, &LabelClass { id, ..class.clone() }, position)?;
                }
            }
            let stored = Schema {
                version,
                classes: store::list_classes(tx)?,
                multi_label_tags,
                overlapping_spans: store::setting(tx, "overlapping_spans")?.is_some_and(|v| v == "true"),
                overlapping_segments: store::setting(tx, "overlapping_segments")?.is_none_or(|v| v == "true"),
            };
            store::insert_schema_version(tx, version, &serde_json::to_string(&stored).unwrap_or_default(), &actor)?;
            store::set_meta(tx, "schema_version", &version.to_string())?;
            store::set_setting(tx, "multi_label_tags", if multi_label_tags { "true" } else { "false" })?;
            let mut details = json!({"version": version, "classes": stored.classes.iter().map(|c| &c.name).collect::<Vec<_>>(), "removed_labels": orphaned});
            if let (Some(note), Some(d)) = (note, details.as_object_mut()) {
                d.insert("adopted".into(), note);
            }
            let event = Event::new(AuditAction::SchemaChange, format!("schema:v{version}"), details);
            Ok(((), event))
        })?;
        Ok(SchemaChange {
            version,
            removed_labels: removed,
        })
    }

    /// Sets whether text spans may overlap and audio segments may overlap
    /// (admin). Existing labels are kept; the rule applies to new edits.
    pub fn set_overlap_rules(&mut self, spans: bool, segments: bool) -> Result<()> {
        self.act(Action::EditSchema, Some("overlap rules".into()), |tx| {
            store::set_setting(
                tx,
                "overlapping_spans",
                if spans { "true" } else { "false" },
            )?;
            store::set_setting(
                tx,
                "overlapping_segments",
                if segments { "true" } else { "false" },
            )?;
            Ok((
                (),
                Event::new(
                    AuditAction::SchemaOverlapRules,
                    "schema",
                    json!({"overlapping_spans": spans, "overlapping_segments": segments}),
                ),
            ))
        })
        .map(|_| ())
    }

    /// Adds one class with the default tools (admin).
    pub fn add_class(&mut self, name: &str, colour: &str, hotkey: Option<u8>) -> Result<i64> {
        self.require(Action::EditSchema, Some(format!("class {name}")))?;
        let schema = self.schema()?;
        let mut classes = schema.classes;
        classes.push(LabelClass {
            id: 0,
            name: name.trim().to_string(),
            colour: colour.to_string(),
            hotkey,
            tools: default_tools(),
            attributes: vec![],
            skeleton: None,
        });
        self.update_schema(classes, schema.multi_label_tags, false)?;
        self.classes()?
            .into_iter()
            .find(|c| c.name == name.trim())
            .map(|c| c.id)
            .ok_or_else(|| CoreError::NotFound(format!("class {name}")))
    }
}
