//! Dataset formats: one module per format behind two small traits.
//! An [`Exporter`] turns the project's items and labels into the files of a
//! format; an [`Importer`] turns a file of labels into pre-labels for the
//! project's items. Neither touches the database or the disk: the export
//! controller feeds items through an [`ItemSource`] and collects files
//! through a [`FileSink`] (which hashes them for the signed manifest, or
//! seals them into a package); importers get a [`LabelInput`] (one file's
//! bytes, or the files of a dataset folder read by [`input::read_folder`])
//! and the items to match, and say which classes the file defines
//! ([`FoundClass`]) so that the controller can adopt them.
//!
//! Coordinates are always converted from the project's own convention —
//! image pixels from the top-left corner, audio seconds, text Unicode scalar
//! offsets (end-exclusive) — to the format's, exactly, in one place per
//! format.

pub mod audio_manifest;
pub mod coco;
mod common;
pub mod conll;
pub mod cvat;
pub mod doc_csv;
pub mod index;
pub mod input;
pub mod labelstudio;
pub mod native;
pub mod spacy;
pub mod summary;
pub mod textgrid;
pub mod voc;
pub mod webvtt;
mod xml;
pub mod yolo;

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::model::{AttributeDef, AttributeKind, Geometry, ItemKind, Schema, Skeleton, Tool};

pub use index::ItemIndex;
pub use input::LabelInput;

/// Why an export or import failed (as a whole; per-record import problems
/// are [`RecordError`]s).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("writing the export failed: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled: the export was not finished")]
    Cancelled,
}

/// One label as exported: the class by name and id, geometry in project
/// coordinates, attributes, and where a prediction came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportLabel {
    pub id: i64,
    pub class_id: i64,
    pub class: String,
    pub geometry: Geometry,
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Fingerprint of who created it.
    pub created_by: String,
    /// A prediction's model or source name (pre-labels not yet accepted).
    pub source: Option<String>,
    pub score: Option<f64>,
}

/// One item as exported.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportItem {
    pub id: i64,
    pub kind: ItemKind,
    /// The name it was imported under (e.g. `photos/cat.jpg`,
    /// `chats.jsonl#chat-0001`).
    pub name: String,
    pub format: String,
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
    pub status: String,
    /// Where the item's media are in the export (relative, `/`-separated),
    /// or its name when media are not exported. Formats reference this.
    pub media_path: String,
    /// The text of a text item (span formats need it to tokenise).
    pub text: Option<String>,
    pub labels: Vec<ExportLabel>,
}

impl ExportItem {
    /// An image's width and height in pixels, when both are known (not 0).
    pub fn image_size(&self) -> Option<(f64, f64)> {
        match (self.width, self.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some((f64::from(w), f64::from(h))),
            _ => None,
        }
    }
}

/// Items, delivered one at a time, as many times as an exporter needs
/// (COCO writes all images, then all annotations): memory stays bounded.
pub trait ItemSource {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> Result<(), FormatError>,
    ) -> Result<(), FormatError>;
}

/// An in-memory source (tests, small exports): a `Vec` or an array of
/// items, or any slice wrapped in [`Items`].
impl ItemSource for Vec<ExportItem> {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        self.iter().try_for_each(f)
    }
}

impl<const N: usize> ItemSource for [ExportItem; N] {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        self.iter().try_for_each(f)
    }
}

/// A slice of items as a source (`&Items(&items[..])`).
pub struct Items<'a>(pub &'a [ExportItem]);

impl ItemSource for Items<'_> {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        self.0.iter().try_for_each(f)
    }
}

/// Where an exporter's files go. Files are written one after another:
/// `file` starts the next one (finishing the previous). Paths are relative
/// and `/`-separated; the sink refuses `..`, absolute paths and repeats.
pub trait FileSink {
    fn file(&mut self, path: &str) -> Result<&mut dyn Write, FormatError>;
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ExportStats {
    pub items: usize,
    pub labels: usize,
    /// Labels the format cannot express (e.g. polylines in VOC), by reason.
    pub skipped: BTreeMap<String, usize>,
}

impl ExportStats {
    pub fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }
}

pub trait Exporter {
    /// The `--format` name, e.g. `coco`.
    fn name(&self) -> &'static str;
    /// One line for `sealtag export --help` and the GUI.
    fn description(&self) -> &'static str;
    /// The item kinds it covers; other items are left out (and counted).
    fn kinds(&self) -> &'static [ItemKind];
    fn export(
        &self,
        schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError>;
}

/// What an importer knows about a project item, to match and convert.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemInfo {
    pub id: i64,
    pub kind: ItemKind,
    pub name: String,
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
}

impl ItemInfo {
    /// The pixel extent a label file declares for this image (`width` and
    /// `height` as written there, read as positive numbers), falling back
    /// to the size the import measured.
    pub(crate) fn declared_extent(
        &self,
        width: Option<&str>,
        height: Option<&str>,
    ) -> crate::model::Extent {
        let size = |declared: Option<&str>, measured: Option<u32>| {
            declared
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .or(measured.map(f64::from))
                .unwrap_or(0.0)
        };
        crate::model::Extent {
            width: size(width, self.width),
            height: size(height, self.height),
            ..crate::model::Extent::default()
        }
    }
}

#[cfg(test)]
impl ItemInfo {
    /// An image item for importer tests, its hash made from its id.
    pub(crate) fn test_image(id: i64, name: &str, width: u32, height: u32) -> ItemInfo {
        ItemInfo {
            id,
            kind: ItemKind::Image,
            name: name.into(),
            sha256: format!("{id:064}"),
            width: Some(width),
            height: Some(height),
            duration_secs: None,
            char_len: None,
        }
    }
}

/// Finds the item a record refers to: by SHA-256, by exact name, by path
/// suffix (`images/a.jpg` matches `a.jpg` and `set1/images/a.jpg`), then by
/// file name — refusing ambiguous matches.
pub fn match_item<'a>(items: &'a [ItemInfo], reference: &str) -> Result<&'a ItemInfo, String> {
    let reference = reference.trim();
    if let Some(i) = items.iter().find(|i| i.sha256 == reference) {
        return Ok(i);
    }
    if let Some(i) = items.iter().find(|i| i.name == reference) {
        return Ok(i);
    }
    let tail = |s: &str| -> String { s.rsplit(['/', '\\']).next().unwrap_or(s).to_string() };
    let clean = reference.trim_start_matches("./");
    let by_suffix: Vec<&ItemInfo> = items
        .iter()
        .filter(|i| {
            i.name.ends_with(&format!("/{clean}")) || clean.ends_with(&format!("/{}", i.name))
        })
        .collect();
    if by_suffix.len() == 1 {
        return Ok(by_suffix[0]);
    }
    let name = tail(clean);
    let by_name: Vec<&ItemInfo> = items.iter().filter(|i| tail(&i.name) == name).collect();
    match by_name.len() {
        1 => Ok(by_name[0]),
        0 => Err(format!(
            "no item matches '{reference}' (by hash, name or path)"
        )),
        n => Err(format!(
            "'{reference}' matches {n} items by file name; use a path or the SHA-256"
        )),
    }
}

/// A pre-label read from a file, for one item.
#[derive(Clone, Debug, PartialEq)]
pub struct PreLabel {
    pub item_id: i64,
    /// Class by name (matched to the schema by the controller).
    pub class: String,
    pub geometry: Geometry,
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub score: Option<f64>,
    /// Record number in the file (1-based line for JSONL, index otherwise).
    pub record: usize,
}

/// A record that could not be read or matched; the rest still imports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordError {
    /// 1-based record or line number.
    pub record: usize,
    pub message: String,
}

/// A class a label file defines (COCO categories, a CVAT label list, YOLO
/// `names`, a Label Studio config) or uses (a class name on a record), as
/// the controller needs it to adopt the class into the schema.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct FoundClass {
    pub name: String,
    /// The geometries declared or seen for it, in first-seen order.
    pub tools: Vec<Tool>,
    /// Named keypoints and 0-based edges (COCO keypoint categories).
    pub skeleton: Option<Skeleton>,
    /// The colour the file gives it (`#rrggbb`), if any.
    pub colour: Option<String>,
    /// Attributes declared (CVAT XML) or inferred from record values:
    /// true/false → yes/no, text → text. Numbers have no attribute kind
    /// and are only kept on the label.
    pub attributes: Vec<AttributeDef>,
}

impl FoundClass {
    pub fn named(name: &str) -> Self {
        FoundClass {
            name: name.to_string(),
            ..FoundClass::default()
        }
    }

    /// Adds a tool not yet listed.
    pub fn add_tool(&mut self, tool: Tool) {
        if !self.tools.contains(&tool) {
            self.tools.push(tool);
        }
    }

    /// Adds an attribute definition unless one of that name is known.
    pub fn add_attribute(&mut self, def: AttributeDef) {
        if !self.attributes.iter().any(|a| a.name == def.name) {
            self.attributes.push(def);
        }
    }

    /// Infers an attribute from a value seen on a record (see the field).
    pub fn infer_attribute(&mut self, name: &str, value: &serde_json::Value) {
        let kind = match value {
            serde_json::Value::Bool(_) => AttributeKind::Bool,
            serde_json::Value::String(_) => AttributeKind::Text,
            _ => return,
        };
        self.add_attribute(AttributeDef {
            name: name.to_string(),
            kind,
            required: false,
        });
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedLabels {
    pub labels: Vec<PreLabel>,
    pub errors: Vec<RecordError>,
    /// The classes the file defines or uses, in file order: what
    /// `--create-classes` adopts.
    pub classes: Vec<FoundClass>,
    /// Things done that a person should know of, though no record was
    /// refused (e.g. an RLE mask imported as its box), by record.
    pub notes: Vec<RecordError>,
}

impl ParsedLabels {
    /// The found class called `name`, added at the end when new.
    pub fn class_mut(&mut self, name: &str) -> &mut FoundClass {
        let at = match self.classes.iter().position(|c| c.name == name) {
            Some(at) => at,
            None => {
                self.classes.push(FoundClass::named(name));
                self.classes.len() - 1
            }
        };
        &mut self.classes[at]
    }

    /// Records the class, tool and attributes of every label in
    /// [`Self::classes`] (after the classes the file declares, so declared
    /// order comes first). Every importer calls it last.
    pub fn note_label_classes(&mut self) {
        let labels = std::mem::take(&mut self.labels);
        for l in &labels {
            let class = self.class_mut(&l.class);
            class.add_tool(l.geometry.tool());
            for (k, v) in &l.attributes {
                class.infer_attribute(k, v);
            }
        }
        self.labels = labels;
    }
}

// Send + Sync: the controller reads a file on one thread while it checks
// and writes the labels already read on another.
pub trait Importer: Send + Sync {
    /// The `--format` name, e.g. `coco`.
    fn name(&self) -> &'static str;
    /// One line for `sealtag import --help`: what it reads.
    fn description(&self) -> &'static str;
    /// Reads pre-labels for `items` from a file or a folder. Malformed or
    /// unmatched records become [`RecordError`]s; input that is not this
    /// format at all is an `Err`.
    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError>;
    /// [`Self::read`], handing each label to `each` as soon as it is read
    /// instead of collecting them; the result holds the rest (errors,
    /// notes) and no labels. Formats that can stream override it (Label
    /// Studio); its `classes` may then lack those only labels show, so an
    /// import that adopts classes uses [`Self::read`].
    fn read_each(
        &self,
        input: &LabelInput,
        items: &ItemIndex<'_>,
        each: &mut dyn FnMut(PreLabel),
    ) -> Result<ParsedLabels, FormatError> {
        let mut parsed = self.read(input, items)?;
        for label in parsed.labels.drain(..) {
            each(label);
        }
        Ok(parsed)
    }
    /// [`Self::read`] of one file's bytes (tests, fuzzing, one-file formats).
    fn parse(&self, input: &[u8], items: &[ItemInfo]) -> Result<ParsedLabels, FormatError> {
        self.read(
            &LabelInput::File {
                name: format!("input.{}", self.name()),
                bytes: input.to_vec(),
            },
            &ItemIndex::new(items),
        )
    }
}

/// Every exporter, in the order `sealtag export --help` lists them. Each
/// format module adds its own here (`all()` in the module).
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    let mut out: Vec<Box<dyn Exporter>> = Vec::new();
    out.extend(native::exporters());
    out.extend(summary::exporters());
    out.extend(coco::exporters());
    out.extend(voc::exporters());
    out.extend(yolo::exporters());
    out.extend(labelstudio::exporters());
    out.extend(audio_manifest::exporters());
    out.extend(textgrid::exporters());
    out.extend(webvtt::exporters());
    out.extend(conll::exporters());
    out.extend(spacy::exporters());
    out.extend(doc_csv::exporters());
    out
}

/// Every pre-label importer.
pub fn importers() -> Vec<Box<dyn Importer>> {
    let mut out: Vec<Box<dyn Importer>> = Vec::new();
    out.extend(native::importers());
    out.extend(coco::importers());
    out.extend(labelstudio::importers());
    out.extend(cvat::importers());
    out.extend(yolo::importers());
    out.extend(voc::importers());
    out
}

/// The exporter called `name`.
pub fn exporter(name: &str) -> Option<Box<dyn Exporter>> {
    exporters().into_iter().find(|e| e.name() == name)
}

/// The importer called `name`.
pub fn importer(name: &str) -> Option<Box<dyn Importer>> {
    importers().into_iter().find(|e| e.name() == name)
}

/// A sink collecting files in memory (tests and the two-pass hashing).
#[derive(Default)]
pub struct MemorySink {
    pub files: Vec<(String, Vec<u8>)>,
}

impl FileSink for MemorySink {
    fn file(&mut self, path: &str) -> Result<&mut dyn Write, FormatError> {
        check_path(path)?;
        if self.files.iter().any(|(p, _)| p == path) {
            return Err(FormatError::Invalid(format!("{path} written twice")));
        }
        self.files.push((path.to_string(), Vec::new()));
        match self.files.last_mut() {
            Some((_, bytes)) => Ok(bytes),
            None => Err(FormatError::Invalid("no file".into())),
        }
    }
}

impl MemorySink {
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.as_slice())
    }
}

/// A relative, `/`-separated path without `..`, empty parts or a leading `/`.
pub fn check_path(path: &str) -> Result<(), FormatError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if bad {
        return Err(FormatError::Invalid(format!(
            "'{path}' is not a safe relative path for an export file"
        )));
    }
    Ok(())
}

/// A file name safe on every platform, keeping Unicode letters: used for
/// exported media (`000042_café.jpg`).
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || "<>:\"/\\|?*#".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        "item".to_string()
    } else {
        trimmed.chars().take(120).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: i64, name: &str) -> ItemInfo {
        ItemInfo::test_image(id, name, 10, 10)
    }

    #[test]
    fn items_match_by_hash_name_path_and_file_name_but_not_ambiguously() {
        let items = [
            info(1, "a/cat.jpg"),
            info(2, "b/cat.jpg"),
            info(3, "dog.png"),
        ];
        assert_eq!(match_item(&items, &format!("{:064}", 2)).unwrap().id, 2);
        assert_eq!(match_item(&items, "a/cat.jpg").unwrap().id, 1);
        assert_eq!(match_item(&items, "images/dog.png").unwrap().id, 3);
        assert_eq!(match_item(&items, "/data/set/b/cat.jpg").unwrap().id, 2);
        assert!(
            match_item(&items, "cat.jpg")
                .unwrap_err()
                .contains("2 items")
        );
        assert!(
            match_item(&items, "emu.jpg")
                .unwrap_err()
                .contains("no item")
        );
    }

    #[test]
    fn export_paths_are_checked_and_names_made_safe() {
        assert!(check_path("images/a.jpg").is_ok());
        for bad in ["", "/etc/x", "a/../b", "a//b", "a\\b", "./a"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        assert_eq!(safe_file_name("x/y/café: 1?.jpg"), "café_ 1_.jpg");
        assert_eq!(safe_file_name("chats.jsonl#chat-1"), "chats.jsonl_chat-1");
        assert_eq!(safe_file_name(".."), "item");
    }
}
