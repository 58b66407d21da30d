//! `--create-classes`: the classes a label file defines (COCO categories,
//! CVAT labels, YOLO names, VOC object names, a Label Studio config) are
//! adopted into the schema before its labels are applied — new classes
//! with distinct colours and free hotkeys, and what is missing on classes
//! of the same name (tools, attributes, a skeleton) — as one new schema
//! version through the schema's own update path, so it is permission-
//! checked and audited like an edit in the schema editor.

use serde::Serialize;
use serde_json::json;

use super::{CoreError, PrelabelReport, Result, Session};
use crate::formats::{self, FoundClass, LabelInput, RecordError};
use crate::model::{AttributeDef, AttributeKind, LabelClass, Tool, default_tools};
use crate::permissions::Action;

/// At most this many new classes from one file: a file naming more is
/// more likely a mistake (e.g. ids read as names) than a schema.
pub const MAX_NEW_CLASSES: usize = 1000;

/// Colours for new classes, distinct from each other (Sasha Trubetskoy's
/// 20 distinct colours, which the default schema also uses); once all are
/// taken, hues are spread by the golden angle.
const PALETTE: [&str; 20] = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    "#808000", "#ffd8b1", "#000075", "#a9a9a9",
];

/// What adopting a file's classes changed.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AdoptedClasses {
    /// Classes added, in file order.
    pub added: Vec<String>,
    /// What was added to classes already in the schema
    /// (`"car: attribute 'occluded'"`, `"car: tool polygon"`).
    pub extended: Vec<String>,
    /// What the file defines differently from a same-named class, which
    /// adopting does not change (existing classes are only added to): e.g.
    /// a skeleton of another size, whose keypoint labels will be refused.
    pub conflicts: Vec<String>,
    /// The schema version made; `None` when nothing had to change.
    pub schema_version: Option<i64>,
}

/// What `import --prelabels` did: the import report, the classes adopted,
/// and the importer's notes (records imported with a change worth knowing,
/// e.g. a mask kept as its box).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PrelabelImport {
    #[serde(flatten)]
    pub report: PrelabelReport,
    pub adopted: AdoptedClasses,
    pub notes: Vec<RecordError>,
}

/// Whether `c` is a `#rrggbb` colour.
fn is_colour(c: &str) -> bool {
    c.strip_prefix('#')
        .is_some_and(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A colour no class in `used` has (see [`PALETTE`]).
fn free_colour(used: &[String]) -> String {
    if let Some(c) = PALETTE
        .iter()
        .find(|c| !used.iter().any(|u| u.eq_ignore_ascii_case(c)))
    {
        return (*c).to_string();
    }
    // Golden-angle hues at full saturation, medium lightness.
    let hue = (used.len() as f64 * 137.507_764) % 360.0;
    let (r, g, b) = hsl_to_rgb(hue, 0.65, 0.5);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (byte(r), byte(g), byte(b))
}

/// An attribute the schema can hold: a choice without options is text.
fn usable(def: &AttributeDef) -> AttributeDef {
    match &def.kind {
        AttributeKind::Enum { options } if options.is_empty() => AttributeDef {
            kind: AttributeKind::Text,
            ..def.clone()
        },
        _ => def.clone(),
    }
}

/// The tools a new class gets: those the file declares or uses (keypoints
/// only with a skeleton), or the default tools when it names none.
fn new_class_tools(found: &FoundClass) -> Vec<Tool> {
    let tools: Vec<Tool> = found
        .tools
        .iter()
        .copied()
        .filter(|t| *t != Tool::Keypoints || found.skeleton.is_some())
        .collect();
    if tools.is_empty() {
        default_tools()
    } else {
        tools
    }
}

/// What `found` says differently from `class` and is not adopted.
fn conflicts(class: &LabelClass, found: &FoundClass) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(have), Some(file)) = (&class.skeleton, &found.skeleton)
        && have.keypoints != file.keypoints
    {
        out.push(format!(
            "{}: the file's skeleton ({}) differs from the schema's ({}); keypoint labels that do not fit it are refused",
            class.name,
            file.keypoints.join(", "),
            have.keypoints.join(", ")
        ));
    }
    for def in &found.attributes {
        if let Some(have) = class.attributes.iter().find(|a| a.name == def.name)
            && have.kind != def.kind
            && def.kind != AttributeKind::Text
        {
            out.push(format!(
                "{}: attribute '{}' is {} in the schema and {} in the file; values that do not fit are refused",
                class.name,
                def.name,
                kind_name(&have.kind),
                kind_name(&def.kind)
            ));
        }
    }
    out
}

fn kind_name(kind: &AttributeKind) -> String {
    match kind {
        AttributeKind::Bool => "yes/no".into(),
        AttributeKind::Text => "text".into(),
        AttributeKind::Enum { options } => format!("a choice of {}", options.join(", ")),
    }
}

/// Adds to `class` what `found` has and it lacks; returns what was added.
fn extend_class(class: &mut LabelClass, found: &FoundClass) -> Vec<String> {
    let mut added = Vec::new();
    if class.skeleton.is_none()
        && let Some(sk) = &found.skeleton
    {
        class.skeleton = Some(sk.clone());
        added.push(format!(
            "{}: skeleton of {} keypoints",
            class.name,
            sk.keypoints.len()
        ));
    }
    for tool in &found.tools {
        if class.tools.contains(tool) || (*tool == Tool::Keypoints && class.skeleton.is_none()) {
            continue;
        }
        class.tools.push(*tool);
        added.push(format!("{}: tool {}", class.name, tool.as_str()));
    }
    for def in &found.attributes {
        if class.attributes.iter().any(|a| a.name == def.name) {
            continue;
        }
        class.attributes.push(usable(def));
        added.push(format!("{}: attribute '{}'", class.name, def.name));
    }
    added
}

/// Merges `more` into `into` by name (tools, attributes, skeleton and
/// colour missing there), appending the classes it does not have.
fn merge_found(into: &mut Vec<FoundClass>, more: &[FoundClass]) {
    for m in more {
        match into.iter_mut().find(|c| c.name == m.name) {
            Some(c) => {
                for t in &m.tools {
                    c.add_tool(*t);
                }
                for a in &m.attributes {
                    c.add_attribute(a.clone());
                }
                if c.skeleton.is_none() {
                    c.skeleton.clone_from(&m.skeleton);
                }
                if c.colour.is_none() {
                    c.colour.clone_from(&m.colour);
                }
            }
            None => into.push(m.clone()),
        }
    }
}

impl Session {
    /// Adopts the classes a label file defines (admin, see the module
    /// doc): one new schema version when anything is missing, none
    /// otherwise. A class whose name differs from a schema class only in
    /// case is taken as that class.
    pub fn adopt_classes(&mut self, found: &[FoundClass]) -> Result<AdoptedClasses> {
        self.require(Action::EditSchema, Some("schema (adopt classes)".into()))?;
        let schema = self.schema()?;
        let mut classes = schema.classes.clone();
        let mut adopted = AdoptedClasses::default();
        for f in found {
            let name = f.name.trim();
            if name.is_empty() {
                continue;
            }
            if let Some(existing) = classes
                .iter_mut()
                .find(|c| c.name.trim().to_lowercase() == name.to_lowercase())
            {
                adopted.conflicts.extend(conflicts(existing, f));
                adopted.extended.extend(extend_class(existing, f));
                continue;
            }
            if adopted.added.len() >= MAX_NEW_CLASSES {
                return Err(CoreError::Invalid(format!(
                    "the file defines more than {MAX_NEW_CLASSES} new classes; add them with the schema editor or `sealtag schema` if you mean it"
                )));
            }
            let used: Vec<String> = classes.iter().map(|c| c.colour.clone()).collect();
            let colour = f
                .colour
                .clone()
                .filter(|c| is_colour(c) && !used.iter().any(|u| u.eq_ignore_ascii_case(c)))
                .unwrap_or_else(|| free_colour(&used));
            let hotkey = (1..=9u8).find(|k| !classes.iter().any(|c| c.hotkey == Some(*k)));
            let tools = new_class_tools(f);
            classes.push(LabelClass {
                id: 0,
                name: name.to_string(),
                colour,
                hotkey,
                skeleton: f
                    .skeleton
                    .clone()
                    .filter(|_| tools.contains(&Tool::Keypoints)),
                tools,
                attributes: f.attributes.iter().map(usable).collect(),
            });
            adopted.added.push(name.to_string());
        }
        if adopted.added.is_empty() && adopted.extended.is_empty() {
            return Ok(adopted);
        }
        let note = json!({"added": adopted.added, "extended": adopted.extended});
        // Only additions: no label can be orphaned, so nothing to confirm.
        let change =
            self.update_schema_noting(classes, schema.multi_label_tags, false, Some(note))?;
        adopted.schema_version = Some(change.version);
        Ok(adopted)
    }

    /// Imports pre-labels from a file or folder in `format` (admin), first
    /// adopting the classes the file defines when `create_classes` is set.
    pub fn import_prelabels_from(
        &mut self,
        input: &LabelInput,
        format: &str,
        source: &str,
        create_classes: bool,
    ) -> Result<PrelabelImport> {
        self.import_prelabels_declaring(input, format, source, create_classes, &[])
    }

    /// [`Session::import_prelabels_from`] with classes declared outside the
    /// file (a Label Studio config, `--ls-config`): adopted first, in
    /// their order, merged with the file's.
    pub fn import_prelabels_declaring(
        &mut self,
        input: &LabelInput,
        format: &str,
        source: &str,
        create_classes: bool,
        declared: &[FoundClass],
    ) -> Result<PrelabelImport> {
        if !create_classes {
            // Nothing to adopt first: read and write at the same time.
            let (report, notes) = self.stream_prelabels(input, format, source)?;
            return Ok(PrelabelImport {
                report,
                adopted: AdoptedClasses::default(),
                notes,
            });
        }
        self.require(Action::Import, Some(format!("pre-labels ({format})")))?;
        let importer = super::prelabels::importer_named(format)?;
        let infos = self.item_infos()?;
        let parsed = importer
            .read(input, &formats::ItemIndex::new(&infos))
            .map_err(|e| CoreError::Invalid(format!("{format}: {e}")))?;
        let mut found = declared.to_vec();
        merge_found(&mut found, &parsed.classes);
        let adopted = self.adopt_classes(&found)?;
        let notes = parsed.notes.clone();
        let report = self.apply_prelabels(parsed, format, source)?;
        Ok(PrelabelImport {
            report,
            adopted,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_colours_are_free_and_valid() {
        assert_eq!(free_colour(&[]), "#e6194b");
        assert_eq!(free_colour(&["#E6194B".into()]), "#3cb44b");
        let all: Vec<String> = PALETTE.iter().map(|c| c.to_string()).collect();
        let c = free_colour(&all);
        assert!(is_colour(&c) && !all.contains(&c), "{c}");
    }

    #[test]
    fn merging_keeps_declared_order_and_adds_what_records_show() {
        let mut declared = vec![FoundClass::named("b"), FoundClass::named("a")];
        let mut seen = FoundClass::named("a");
        seen.add_tool(Tool::BBox);
        merge_found(&mut declared, &[seen, FoundClass::named("c")]);
        let names: Vec<&str> = declared.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["b", "a", "c"]);
        assert_eq!(declared[1].tools, vec![Tool::BBox]);
    }
}
