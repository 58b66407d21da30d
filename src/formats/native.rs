//! Sealtag's own JSONL, lossless: `labels.jsonl` holds one line per item
//! with every field of the item and of each label, geometry in project
//! coordinates (image pixels from the top-left corner, audio seconds, text
//! Unicode scalar offsets with their UTF-8 byte offsets), attributes,
//! creator, and prediction source and score. The importer reads the same
//! lines back as pre-labels (revision history is not part of the format).
//!
//! ```json
//! {"item": {"id": 3, "kind": "image", "name": "a.jpg", "sha256": "…", "width": 640,
//!   "height": 480, "duration_secs": null, "char_len": null, "status": "approved",
//!   "media_path": "media/000003_a.jpg"},
//!  "labels": [{"id": 9, "class": "person", "class_id": 1,
//!   "geometry": {"type": "bbox", "x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0},
//!   "attributes": {}, "created_by": "ab12-…", "source": null, "score": null}]}
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::common::{ALL_KINDS, export_file};
use super::{
    ExportStats, Exporter, FileSink, FormatError, Importer, ItemIndex, ItemSource, LabelInput,
    ParsedLabels, PreLabel, RecordError,
};
use crate::model::{Geometry, ItemKind, Schema};

#[derive(Serialize, Deserialize)]
struct ItemLine {
    id: i64,
    kind: ItemKind,
    name: String,
    #[serde(default)]
    sha256: String,
    width: Option<u32>,
    height: Option<u32>,
    duration_secs: Option<f64>,
    char_len: Option<u64>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    media_path: String,
}

#[derive(Serialize, Deserialize)]
struct LabelLine {
    #[serde(default)]
    id: i64,
    class: String,
    #[serde(default)]
    class_id: i64,
    geometry: Geometry,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    score: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    item: ItemLine,
    labels: Vec<LabelLine>,
}

pub struct Native;

impl Exporter for Native {
    fn name(&self) -> &'static str {
        "jsonl"
    }
    fn description(&self) -> &'static str {
        "Sealtag JSONL: every item and label field, lossless (all kinds)"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        ALL_KINDS
    }
    fn export(
        &self,
        _schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        export_file(self, items, out, "labels.jsonl", |w, item, stats| {
            let line = Line {
                item: ItemLine {
                    id: item.id,
                    kind: item.kind,
                    name: item.name.clone(),
                    sha256: item.sha256.clone(),
                    width: item.width,
                    height: item.height,
                    duration_secs: item.duration_secs,
                    char_len: item.char_len,
                    status: item.status.clone(),
                    media_path: item.media_path.clone(),
                },
                labels: item
                    .labels
                    .iter()
                    .map(|l| LabelLine {
                        id: l.id,
                        class: l.class.clone(),
                        class_id: l.class_id,
                        geometry: l.geometry.clone(),
                        attributes: l.attributes.clone(),
                        created_by: l.created_by.clone(),
                        source: l.source.clone(),
                        score: l.score,
                    })
                    .collect(),
            };
            serde_json::to_writer(&mut *w, &line)
                .map_err(|e| FormatError::Invalid(e.to_string()))?;
            w.write_all(b"\n")?;
            stats.items += 1;
            stats.labels += item.labels.len();
            Ok(())
        })
    }
}

impl Importer for Native {
    fn description(&self) -> &'static str {
        "Sealtag JSONL (labels.jsonl): every geometry kind, attributes, scores"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let (_, bytes) = input.single_file("jsonl")?;
        let mut out = self.parse_file(bytes, items)?;
        out.note_label_classes();
        Ok(out)
    }
    fn name(&self) -> &'static str {
        "jsonl"
    }
}

impl Native {
    fn parse_file(&self, input: &[u8], items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let text = std::str::from_utf8(input).map_err(|e| {
            FormatError::Invalid(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        let mut out = ParsedLabels::default();
        for (n, raw) in text.lines().enumerate() {
            let record = n + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let line: Line = match serde_json::from_str(raw) {
                Ok(l) => l,
                Err(e) => {
                    out.errors.push(RecordError {
                        record,
                        message: format!("line {record}, column {}: {e}", e.column()),
                    });
                    continue;
                }
            };
            let reference = if line.item.sha256.is_empty() {
                line.item.name.clone()
            } else {
                line.item.sha256.clone()
            };
            let item = match items
                .find(&reference)
                .or_else(|_| items.find(&line.item.name))
            {
                Ok(i) => i,
                Err(why) => {
                    out.errors.push(RecordError {
                        record,
                        message: format!("line {record}: {why}"),
                    });
                    continue;
                }
            };
            for l in line.labels {
                out.labels.push(PreLabel {
                    item_id: item.id,
                    class: l.class,
                    geometry: l.geometry,
                    attributes: l.attributes,
                    score: l.score,
                    record,
                });
            }
        }
        Ok(out)
    }
}

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(Native)]
}

/// This module's importers (registered in [`super::importers`]).
pub fn importers() -> Vec<Box<dyn super::Importer>> {
    vec![Box::new(Native)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ItemInfo;
    use crate::formats::{ExportItem, ExportLabel, MemorySink};
    use crate::model::BBox;

    fn item() -> ExportItem {
        ExportItem {
            id: 7,
            kind: ItemKind::Image,
            name: "dir/café \"1\".jpg".into(),
            format: "jpeg".into(),
            sha256: "ab".repeat(32),
            width: Some(100),
            height: Some(50),
            duration_secs: None,
            char_len: None,
            status: "approved".into(),
            media_path: "media/000007_café _1_.jpg".into(),
            text: None,
            labels: vec![ExportLabel {
                id: 3,
                class_id: 1,
                class: "person".into(),
                geometry: Geometry::BBox(BBox {
                    x: 1.25,
                    y: 2.5,
                    w: 10.0,
                    h: 20.0,
                }),
                attributes: BTreeMap::from([("occluded".to_string(), serde_json::json!(true))]),
                created_by: "f".into(),
                source: Some("model-7".into()),
                score: Some(0.875),
            }],
        }
    }

    #[test]
    fn round_trips_every_field_through_the_importer() {
        let items = [item()];
        let mut sink = MemorySink::default();
        let stats = Native
            .export(&crate::controller::default_schema(), &items, &mut sink)
            .unwrap();
        assert_eq!((stats.items, stats.labels), (1, 1));
        let bytes = sink.get("labels.jsonl").unwrap();
        let info = ItemInfo {
            id: 7,
            kind: ItemKind::Image,
            name: items[0].name.clone(),
            sha256: items[0].sha256.clone(),
            width: Some(100),
            height: Some(50),
            duration_secs: None,
            char_len: None,
        };
        let parsed = Native.parse(bytes, &[info]).unwrap();
        assert!(parsed.errors.is_empty());
        let l = &parsed.labels[0];
        assert_eq!(l.item_id, 7);
        assert_eq!(l.class, "person");
        assert_eq!(l.geometry, items[0].labels[0].geometry);
        assert_eq!(l.attributes, items[0].labels[0].attributes);
        assert_eq!(l.score, Some(0.875));
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_imports() {
        let info = ItemInfo {
            id: 1,
            kind: ItemKind::Image,
            name: "a.jpg".into(),
            sha256: String::new(),
            width: Some(10),
            height: Some(10),
            duration_secs: None,
            char_len: None,
        };
        let input = b"{\"item\": {\"id\": 1, \"kind\": \"image\", \"name\": \"a.jpg\", \"width\": 10, \"height\": 10, \"duration_secs\": null, \"char_len\": null}, \"labels\": [{\"class\": \"person\", \"geometry\": {\"type\": \"tag\"}}]}\n{not json\n{\"item\": {\"id\": 9, \"kind\": \"image\", \"name\": \"zz.jpg\", \"width\": 1, \"height\": 1, \"duration_secs\": null, \"char_len\": null}, \"labels\": []}\n";
        let parsed = Native.parse(input, &[info]).unwrap();
        assert_eq!(parsed.labels.len(), 1);
        assert_eq!(parsed.errors.len(), 2);
        assert_eq!(parsed.errors[0].record, 2);
        assert!(parsed.errors[1].message.contains("zz.jpg"));
    }
}
