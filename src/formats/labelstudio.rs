//! Label Studio JSON (the "JSON" export/import of Label Studio ≥ 1.0: a
//! list of tasks, <https://labelstud.io/guide/task_format>).
//!
//! **Export** (`labelstudio`, every item kind) writes `labelstudio.json`, an
//! array with one task per item, streamed one task at a time:
//!
//! ```text
//! {"id": <item id>, "data": {"image"|"audio": <media path>} | {"text": <the text>},
//!  "meta": {"name": <item name>},
//!  "annotations": [{"result": [..]}],                 // labels people made
//!  "predictions": [{"model_version": <source>, "score": <mean>, "result": [..]}]}
//! ```
//!
//! Results use the control names `label` (regions), `choice` (tags) and
//! `transcription` (audio transcripts), and the object names `image`,
//! `audio`, `text`; a matching labelling config is
//! `<Image name="image"/>` + `<RectangleLabels name="label" toName="image">`
//! and so on. Each region's `id` is the label id as a string (keypoints:
//! `<id>_<n>` per point), which relations refer to.
//!
//! **Coordinates.** Images: Label Studio's percent of the original size,
//! 0–100, top-left origin: `x% = x / width · 100` (y by height), with
//! `original_width`/`original_height` on every result. Boxes are
//! `rectanglelabels` (`rotation` 0), polygons `polygonlabels` (`points` in
//! percent), points and each *visible* keypoint `keypointlabels` (Label
//! Studio keypoints are independent points with no visibility, so occluded
//! keypoints are skipped and counted, and a skeleton comes back as points).
//! Polylines have no Label Studio form and are skipped. Tags are one
//! `choices` result per item. Audio segments are `labels` with
//! `value.start`/`end` in seconds, and their transcript a `textarea` result
//! with the same id. Text spans are `labels` with `value.start`/`end` in
//! Unicode scalar values (code points), end-exclusive, and `value.text` —
//! Label Studio's frontend stores code-point offsets since it fixed emoji
//! handling (label-studio-frontend PR 308), matching Python's `str` indices.
//! Relations are `{"type": "relation", "from_id", "to_id", "direction":
//! "right", "labels": [class]}`. Predictions (labels with a `source`) are
//! grouped by source into `predictions`, each result with its `score`.
//!
//! **Import** (`labelstudio`) reads such a list (or a single task object),
//! both `annotations` (except cancelled ones) and `predictions` (whose
//! labels carry the result's `score`, else the prediction's). Each task is
//! one record (1-based position in the list). Tasks are matched to items
//! with [`match_item`], trying in turn:
//! 1. `data.image` / `data.audio` as written;
//! 2. the same with Label Studio's storage prefix removed: for uploads
//!    `/data/upload/<project>/<8 hex digits>-<file>` becomes `<file>` (Label
//!    Studio prefixes uploaded files with 8 random hex digits and a dash;
//!    only that one prefix is removed, and only under `/data/upload/`), for
//!    local storage `/data/local-files/?d=<path>` becomes `<path>`;
//!    percent-encoding is decoded;
//! 3. `meta.name` or `data.name` (what this exporter writes);
//! 4. for text tasks only, a task `id` equal to a text item's id — text
//!    tasks carry the text, not a name, and importers see no text. This is
//!    only right for files this project exported (Label Studio renumbers
//!    tasks it imports), hence last.
//!
//! Percent coordinates are turned back into pixels with the result's
//! `original_width`/`original_height`, or the item's size when absent.
//! Rotated rectangles, relations (they link regions of the file, not
//! project labels) and other result types are per-record errors. A
//! `textarea` sharing an audio segment's id is its transcript; a
//! `textarea` or `choices` sharing another region's id (a `perRegion`
//! control) becomes an attribute of that region named after its
//! `from_name`; a `textarea` attached to no region is reported.
//! [`config_classes`] reads a labelling config (`--ls-config`) into the
//! classes it declares.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::common::{ALL_KINDS, for_each_covered, inexpressible, put_json_element, write_file};
use super::{
    ExportItem, ExportLabel, ExportStats, Exporter, FileSink, FormatError, FoundClass, Importer,
    ItemIndex, ItemInfo, ItemSource, LabelInput, ParsedLabels, PreLabel, RecordError,
};
use crate::model::{
    AttributeDef, AttributeKind, BBox, Extent, Geometry, ItemKind, Outline, Schema, Tool,
};

/// The file the exporter writes.
pub const LS_FILE: &str = "labelstudio.json";

/// Radius of an exported keypoint, in percent of the image width.
const KEYPOINT_WIDTH: f64 = 0.5;

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(LabelStudioExporter)]
}

/// This module's importers (registered in [`super::importers`]).
pub fn importers() -> Vec<Box<dyn super::Importer>> {
    vec![Box::new(LabelStudioImporter)]
}

pub struct LabelStudioExporter;

fn object_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Image => "image",
        ItemKind::Audio => "audio",
        ItemKind::Text => "text",
    }
}

/// The Label Studio results of some labels of one item.
fn results(item: &ExportItem, labels: &[&ExportLabel], stats: &mut ExportStats) -> Vec<Value> {
    let to = object_name(item.kind);
    let size = item.image_size();
    let mut out = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    let mut tag_id = None;
    for label in labels {
        let id = label.id.to_string();
        let region = |kind: &str, value: Value| -> Value {
            let mut r = Map::new();
            r.insert("id".into(), json!(id));
            r.insert("from_name".into(), json!("label"));
            r.insert("to_name".into(), json!(to));
            r.insert("type".into(), json!(kind));
            if let Some((w, h)) = size {
                r.insert("original_width".into(), json!(w));
                r.insert("original_height".into(), json!(h));
                r.insert("image_rotation".into(), json!(0));
            }
            r.insert("value".into(), value);
            if let Some(s) = label.score {
                r.insert("score".into(), json!(s));
            }
            Value::Object(r)
        };
        let outline = label.geometry.outline();
        let image_geometry = matches!(
            outline,
            Outline::Rect(_) | Outline::Closed(_) | Outline::Dots(_)
        );
        let (w, h) = match size {
            Some(s) => s,
            None if image_geometry => {
                stats.skip("image size unknown");
                continue;
            }
            None => (1.0, 1.0),
        };
        let (px, py) = (|x: f64| x / w * 100.0, |y: f64| y / h * 100.0);
        // Labels Label Studio has its own result for by kind; any other
        // image shape by its outline, or skipped when it has none there.
        match (&label.geometry, outline) {
            (Geometry::Point { x, y }, _) => out.push(region(
                "keypointlabels",
                json!({"x": px(*x), "y": py(*y), "width": KEYPOINT_WIDTH,
                       "keypointlabels": [label.class]}),
            )),
            (Geometry::Keypoints { points }, _) => {
                for (n, k) in points.iter().enumerate() {
                    if !k.visible {
                        stats.skip("occluded keypoint (Label Studio points have no visibility)");
                        continue;
                    }
                    let mut r = region(
                        "keypointlabels",
                        json!({"x": px(k.x), "y": py(k.y), "width": KEYPOINT_WIDTH,
                               "keypointlabels": [label.class]}),
                    );
                    r["id"] = json!(format!("{id}_{n}"));
                    out.push(r);
                }
            }
            (Geometry::Tag, _) => {
                tags.push(&label.class);
                tag_id.get_or_insert(id);
            }
            (
                Geometry::Segment {
                    start_secs,
                    end_secs,
                    transcript,
                },
                _,
            ) => {
                out.push(region(
                    "labels",
                    json!({"start": start_secs, "end": end_secs, "channel": 0,
                           "labels": [label.class]}),
                ));
                if !transcript.is_empty() {
                    let mut t = region(
                        "textarea",
                        json!({"start": start_secs, "end": end_secs, "channel": 0,
                               "text": [transcript]}),
                    );
                    t["from_name"] = json!("transcription");
                    out.push(t);
                }
            }
            (Geometry::Span { start, end, .. }, _) => {
                let text: String = item
                    .text
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .skip(*start as usize)
                    .take(end.saturating_sub(*start) as usize)
                    .collect();
                out.push(region(
                    "labels",
                    json!({"start": start, "end": end, "text": text, "labels": [label.class]}),
                ));
            }
            (Geometry::Relation { from, to }, _) => out.push(json!({
                "type": "relation",
                "from_id": from.to_string(),
                "to_id": to.to_string(),
                "direction": "right",
                "labels": [label.class],
            })),
            (_, Outline::Rect(b)) => out.push(region(
                "rectanglelabels",
                json!({"x": px(b.x), "y": py(b.y), "width": px(b.w), "height": py(b.h),
                       "rotation": 0, "rectanglelabels": [label.class]}),
            )),
            (_, Outline::Closed(points)) => {
                let pts: Vec<[f64; 2]> = points.iter().map(|p| [px(p[0]), py(p[1])]).collect();
                out.push(region(
                    "polygonlabels",
                    json!({"points": pts, "polygonlabels": [label.class]}),
                ));
            }
            (g, Outline::Open(_) | Outline::Dots(_) | Outline::Nothing) => {
                stats.skip(&inexpressible(g, "Label Studio"));
                continue;
            }
        }
        stats.labels += 1;
    }
    if let Some(id) = tag_id {
        out.push(json!({
            "id": id, "from_name": "choice", "to_name": to, "type": "choices",
            "value": {"choices": tags},
        }));
    }
    out
}

fn task_json(item: &ExportItem, stats: &mut ExportStats) -> Value {
    let data = match item.kind {
        ItemKind::Image => json!({"image": item.media_path}),
        ItemKind::Audio => json!({"audio": item.media_path}),
        // Label Studio text tasks carry the text itself.
        ItemKind::Text => json!({"text": item.text.as_deref().unwrap_or("")}),
    };
    let human: Vec<&ExportLabel> = item.labels.iter().filter(|l| l.source.is_none()).collect();
    let mut by_source: BTreeMap<&str, Vec<&ExportLabel>> = BTreeMap::new();
    for l in &item.labels {
        if let Some(s) = &l.source {
            by_source.entry(s).or_default().push(l);
        }
    }
    let mut task = Map::new();
    task.insert("id".into(), json!(item.id));
    task.insert("data".into(), data);
    task.insert("meta".into(), json!({"name": item.name}));
    let annotations = if human.is_empty() {
        json!([])
    } else {
        json!([{"result": results(item, &human, stats)}])
    };
    task.insert("annotations".into(), annotations);
    if !by_source.is_empty() {
        let preds: Vec<Value> = by_source
            .into_iter()
            .map(|(source, labels)| {
                let scores: Vec<f64> = labels.iter().filter_map(|l| l.score).collect();
                let mut p = Map::new();
                p.insert("model_version".into(), json!(source));
                if !scores.is_empty() {
                    p.insert(
                        "score".into(),
                        json!(scores.iter().sum::<f64>() / scores.len() as f64),
                    );
                }
                p.insert("result".into(), json!(results(item, &labels, stats)));
                Value::Object(p)
            })
            .collect();
        task.insert("predictions".into(), json!(preds));
    }
    Value::Object(task)
}

impl Exporter for LabelStudioExporter {
    fn name(&self) -> &'static str {
        "labelstudio"
    }
    fn description(&self) -> &'static str {
        "Label Studio JSON tasks (all kinds): annotations and predictions; labelstudio.json"
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
        let mut stats = ExportStats::default();
        write_file(out, LS_FILE, |w| {
            w.write_all(b"[")?;
            for_each_covered(self, items, &mut stats, |item, stats| {
                let task = task_json(item, stats);
                put_json_element(w, stats.items == 0, &task)?;
                stats.items += 1;
                Ok(())
            })?;
            w.write_all(b"\n]\n")?;
            Ok(())
        })?;
        Ok(stats)
    }
}

pub struct LabelStudioImporter;

/// Decodes `%XX` escapes; the input unchanged if they do not make UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The references to try for a media value, most literal first (module doc).
pub fn media_references(raw: &str) -> Vec<String> {
    let mut refs = vec![raw.to_string()];
    if let Some(pos) = raw.find("/data/local-files/")
        && let Some(q) = raw[pos..].find("d=")
    {
        let path = &raw[pos + q + 2..];
        let path = path.split('&').next().unwrap_or(path);
        refs.push(percent_decode(path));
    }
    if let Some(pos) = raw.find("/data/upload/") {
        let rest = &raw[pos + "/data/upload/".len()..];
        // `<project id>/` comes first in current versions.
        let rest = match rest.split_once('/') {
            Some((project, tail)) if project.chars().all(|c| c.is_ascii_digit()) => tail,
            _ => rest,
        };
        let (dir, file) = match rest.rsplit_once('/') {
            Some((d, f)) => (Some(d), f),
            None => (None, rest),
        };
        let bytes = file.as_bytes();
        let has_prefix = bytes.len() > 9
            && bytes[..8]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            && bytes[8] == b'-';
        let file = if has_prefix { &file[9..] } else { file };
        let cleaned = match dir {
            Some(d) => format!("{d}/{file}"),
            None => file.to_string(),
        };
        refs.push(percent_decode(&cleaned));
    }
    if raw.contains('%') {
        refs.push(percent_decode(raw));
    }
    refs.dedup();
    refs
}

/// The item a task is about, or why none.
fn match_task<'a>(
    task: &Map<String, Value>,
    items: &'a ItemIndex<'a>,
) -> Result<&'a ItemInfo, String> {
    let data = task.get("data").and_then(Value::as_object);
    let field = |obj: Option<&Map<String, Value>>, k: &str| {
        obj.and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut refs = Vec::new();
    for key in ["image", "audio"] {
        if let Some(v) = field(data, key) {
            refs.extend(media_references(&v));
        }
    }
    refs.extend(field(task.get("meta").and_then(Value::as_object), "name"));
    refs.extend(field(data, "name"));
    let mut first_err = None;
    for r in &refs {
        match items.find(r) {
            Ok(i) => return Ok(i),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let is_text = data.is_some_and(|d| d.contains_key("text"));
    if is_text
        && let Some(id) = task.get("id").and_then(Value::as_i64)
        && let Some(i) = items.by_id(id).filter(|i| i.kind == ItemKind::Text)
    {
        return Ok(i);
    }
    Err(first_err.unwrap_or_else(|| {
        if is_text {
            "a text task needs meta.name, data.name or the item id as task id".into()
        } else {
            "the task has no data.image, data.audio or name".into()
        }
    }))
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|f| f.is_finite())
}

/// Class names of a result: `value.<type>` (e.g. `rectanglelabels`), else
/// `value.labels`.
fn classes(kind: &str, value: &Map<String, Value>) -> Vec<String> {
    value
        .get(kind)
        .or_else(|| value.get("labels"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Geometries of one result (one per class it names).
fn convert(
    r: &Map<String, Value>,
    item: &ItemInfo,
    transcripts: &HashMap<String, String>,
) -> Result<Vec<(String, Geometry)>, String> {
    let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
    if kind == "relation" {
        return Err(
            "relations are not imported (they link regions of the file, not project labels)".into(),
        );
    }
    let Some(value) = r.get("value").and_then(Value::as_object) else {
        return Err(format!("{kind} result has no value"));
    };
    let size = || -> Result<(f64, f64), String> {
        let w = num(r.get("original_width")).or(item.width.map(f64::from));
        let h = num(r.get("original_height")).or(item.height.map(f64::from));
        match (w, h) {
            (Some(w), Some(h)) if w > 0.0 && h > 0.0 => Ok((w, h)),
            _ => Err("no original_width/original_height and the item size is unknown".into()),
        }
    };
    let need = |k: &str| num(value.get(k)).ok_or_else(|| format!("value.{k} must be a number"));
    let geometry = match kind {
        "rectanglelabels" | "rectangle" => {
            let (w, h) = size()?;
            if num(value.get("rotation")).is_some_and(|a| a != 0.0) {
                return Err("rotated rectangles are not supported".into());
            }
            let (x, y, bw, bh) = (need("x")?, need("y")?, need("width")?, need("height")?);
            if bw <= 0.0 || bh <= 0.0 {
                return Err(format!(
                    "rectangle has a negative or zero size ({bw}% × {bh}%)"
                ));
            }
            Geometry::BBox(BBox {
                x: x * w / 100.0,
                y: y * h / 100.0,
                w: bw * w / 100.0,
                h: bh * h / 100.0,
            })
        }
        "polygonlabels" | "polygon" => {
            let (w, h) = size()?;
            let pts = value
                .get("points")
                .and_then(Value::as_array)
                .ok_or("value.points must be a list of [x, y]")?;
            let mut points = Vec::with_capacity(pts.len());
            for p in pts {
                match p.as_array().map(|a| a.as_slice()) {
                    Some([x, y]) => match (num(Some(x)), num(Some(y))) {
                        (Some(x), Some(y)) => points.push([x * w / 100.0, y * h / 100.0]),
                        _ => return Err("polygon points must be numbers".into()),
                    },
                    _ => return Err("polygon points must be [x, y] pairs".into()),
                }
            }
            Geometry::Polygon { points }
        }
        "keypointlabels" | "keypoint" => {
            let (w, h) = size()?;
            Geometry::Point {
                x: need("x")? * w / 100.0,
                y: need("y")? * h / 100.0,
            }
        }
        "choices" => {
            let names = classes("choices", value);
            return Ok(names.into_iter().map(|c| (c, Geometry::Tag)).collect());
        }
        "labels" => {
            if value.get("start").is_some_and(Value::is_string) {
                return Err("HyperText (XPath) spans are not supported".into());
            }
            match item.kind {
                ItemKind::Audio => {
                    let id = r.get("id").and_then(Value::as_str).unwrap_or("");
                    Geometry::Segment {
                        start_secs: need("start")?,
                        end_secs: need("end")?,
                        transcript: transcripts.get(id).cloned().unwrap_or_default(),
                    }
                }
                ItemKind::Text => {
                    let off = |k: &str| {
                        value
                            .get(k)
                            .and_then(Value::as_u64)
                            .ok_or_else(|| format!("value.{k} must be a character offset"))
                    };
                    Geometry::Span {
                        start: off("start")?,
                        end: off("end")?,
                        byte_start: 0,
                        byte_end: 0,
                    }
                }
                ItemKind::Image => return Err("labels without a region on an image".into()),
            }
        }
        other => return Err(format!("result type '{other}' is not supported")),
    };
    // Bounds and well-formedness; duration and text length are the
    // controller's to check (importers do not see them all).
    let extent = match item.kind {
        ItemKind::Image => {
            let (w, h) = size()?;
            Extent {
                width: w,
                height: h,
                ..Extent::default()
            }
        }
        _ => Extent {
            duration_secs: f64::INFINITY,
            char_len: u64::MAX,
            ..Extent::default()
        },
    };
    geometry.validate(&extent)?;
    let names = classes(kind, value);
    if names.is_empty() {
        return Err(format!("{kind} result names no label"));
    }
    Ok(names.into_iter().map(|c| (c, geometry.clone())).collect())
}

/// What results attached to regions say about them: Label Studio writes a
/// per-region `textarea` (a transcription, OCR text) or `choices` result
/// with the region's `id`.
struct RegionAttributes {
    /// Ids of the region results (not textarea, not choices).
    regions: HashSet<String>,
    /// Per region id: attribute name (the result's `from_name`) → value
    /// (the text; one choice as text, several joined with ", ").
    attributes: HashMap<String, BTreeMap<String, Value>>,
}

/// The text of a textarea result (lines joined with line breaks).
fn textarea_text(r: &Value) -> Option<String> {
    match r.get("value")?.get("text")? {
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn region_attributes(results: &[Value], kind: ItemKind) -> RegionAttributes {
    let type_of = |r: &Value| {
        r.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let id_of = |r: &Value| r.get("id").and_then(Value::as_str).map(String::from);
    let regions: HashSet<String> = results
        .iter()
        .filter(|r| !matches!(type_of(r).as_str(), "textarea" | "choices" | "relation"))
        .filter_map(id_of)
        .collect();
    let mut attributes: HashMap<String, BTreeMap<String, Value>> = HashMap::new();
    for r in results {
        let Some(id) = id_of(r).filter(|id| regions.contains(id)) else {
            continue;
        };
        let name = r
            .get("from_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let value = match type_of(r).as_str() {
            // An audio region's transcript is the segment's own.
            "textarea" if kind != ItemKind::Audio => textarea_text(r),
            "choices" => r
                .get("value")
                .and_then(|v| v.get("choices"))
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            _ => None,
        };
        if let Some(v) = value
            && !name.is_empty()
        {
            attributes
                .entry(id)
                .or_default()
                .insert(name, Value::String(v));
        }
    }
    RegionAttributes {
        regions,
        attributes,
    }
}

/// Whether the textarea result `id` went somewhere: into an audio
/// segment's transcript or a region's attributes.
fn transcripts_used(
    kind: ItemKind,
    id: &str,
    per_region: &RegionAttributes,
    results: &[Value],
) -> bool {
    if kind == ItemKind::Audio {
        return results.iter().any(|r| {
            r.get("id").and_then(Value::as_str) == Some(id)
                && r.get("type").and_then(Value::as_str) == Some("labels")
        });
    }
    per_region.regions.contains(id)
}

impl Importer for LabelStudioImporter {
    fn description(&self) -> &'static str {
        "Label Studio JSON tasks: rectangles, polygons, keypoints, spans, segments, choices, transcripts"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let mut labels = Vec::new();
        let mut out = self.read_each(input, items, &mut |l| labels.push(l))?;
        out.labels = labels;
        out.note_label_classes();
        Ok(out)
    }

    fn read_each(
        &self,
        input: &LabelInput,
        items: &ItemIndex<'_>,
        each: &mut dyn FnMut(PreLabel),
    ) -> Result<ParsedLabels, FormatError> {
        let (_, bytes) = input.single_file(self.name())?;
        self.parse_file(bytes, items, each)
    }
    fn name(&self) -> &'static str {
        "labelstudio"
    }
}

impl LabelStudioImporter {
    fn parse_file(
        &self,
        input: &[u8],
        items: &ItemIndex<'_>,
        each: &mut dyn FnMut(PreLabel),
    ) -> Result<ParsedLabels, FormatError> {
        // Tasks are read one at a time (`for_each_json_element`), with the
        // same exact floats as `parse_json_exact`.
        let mut out = ParsedLabels::default();
        let root = super::common::for_each_json_element(input, &mut |n, task| {
            read_task(n + 1, &task, items, &mut out, each);
        })
        .map_err(|e| FormatError::Invalid(format!("not valid Label Studio JSON: {e}")))?;
        match root {
            // A list, read task by task above.
            None => {}
            Some(task @ Value::Object(_)) if task.get("data").is_some() => {
                read_task(1, &task, items, &mut out, each);
            }
            Some(_) => {
                return Err(FormatError::Invalid(
                    "not a Label Studio export: expected a list of tasks".into(),
                ));
            }
        }
        Ok(out)
    }
}

/// One task of a Label Studio export: its results, matched to an item,
/// become pre-labels; what cannot be read is reported by task number.
fn read_task(
    record: usize,
    task: &Value,
    items: &ItemIndex<'_>,
    out: &mut ParsedLabels,
    each: &mut dyn FnMut(PreLabel),
) {
    let Some(task) = task.as_object() else {
        out.errors.push(RecordError {
            record,
            message: "a task must be a JSON object".into(),
        });
        return;
    };
    // (result list, score of the whole prediction, is prediction)
    let mut groups: Vec<(&Vec<Value>, Option<f64>, bool)> = Vec::new();
    for (key, prediction) in [("annotations", false), ("predictions", true)] {
        for a in task
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if a.get("was_cancelled").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(res) = a.get("result").and_then(Value::as_array) {
                groups.push((res, num(a.get("score")), prediction));
            }
        }
    }
    let count: usize = groups.iter().map(|g| g.0.len()).sum();
    if count == 0 {
        return;
    }
    let item = match match_task(task, items) {
        Ok(i) => i,
        Err(why) => {
            let id = task.get("id").map(Value::to_string).unwrap_or_default();
            out.errors.push(RecordError {
                record,
                message: format!(
                    "task {id} ({count} result{}) was not imported: {why}",
                    if count == 1 { "" } else { "s" }
                ),
            });
            return;
        }
    };
    for (results, group_score, prediction) in groups {
        // Transcripts are separate results sharing the region id.
        let transcripts: HashMap<String, String> = results
            .iter()
            .filter(|r| r.get("type").and_then(Value::as_str) == Some("textarea"))
            .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), textarea_text(r)?)))
            .collect();
        let per_region = region_attributes(results, item.kind);
        for (k, r) in results.iter().enumerate() {
            let Some(r) = r.as_object() else {
                out.errors.push(RecordError {
                    record,
                    message: format!("result {} is not a JSON object", k + 1),
                });
                continue;
            };
            let id = r.get("id").and_then(Value::as_str).unwrap_or("");
            match r.get("type").and_then(Value::as_str) {
                // Transcripts were merged into their segments, and
                // per-region text and choices into their regions'
                // attributes, above.
                Some("textarea") => {
                    if !transcripts_used(item.kind, id, &per_region, results) {
                        out.errors.push(RecordError {
                            record,
                            message: format!(
                                "result {}: a textarea not attached to a region (id '{id}') is not imported",
                                k + 1
                            ),
                        });
                    }
                    continue;
                }
                Some("choices") if per_region.regions.contains(id) => continue,
                _ => {}
            }
            match convert(r, item, &transcripts) {
                Ok(found) => {
                    let score = if prediction {
                        num(r.get("score")).or(group_score)
                    } else {
                        None
                    };
                    let attributes = per_region.attributes.get(id).cloned().unwrap_or_default();
                    for (class, geometry) in found {
                        each(PreLabel {
                            item_id: item.id,
                            class,
                            geometry,
                            attributes: attributes.clone(),
                            score,
                            record,
                        });
                    }
                }
                Err(m) => out.errors.push(RecordError {
                    record,
                    message: format!("result {}: {m}", k + 1),
                }),
            }
        }
    }
}

/// The classes a Label Studio labelling config declares (`--ls-config`),
/// in config order: each `<Label value>` of `RectangleLabels` (box),
/// `PolygonLabels` (polygon), `KeyPointLabels` (point) and `Labels` (a text
/// span, or an audio segment when its `toName` is an `Audio`/`AudioPlus`
/// object) with its `background` colour, and each `<Choice value>` of a
/// `Choices` (tag). A `Choices` or `TextArea` with `perRegion="true"`
/// becomes a choice or text attribute (named after the control) of the
/// classes of the same `toName`. Brushes and ellipses have no Sealtag
/// geometry; their labels are listed without a tool.
pub fn config_classes(config: &[u8]) -> Result<Vec<FoundClass>, FormatError> {
    let root = super::xml::parse(config)
        .map_err(|e| FormatError::Invalid(format!("not a Label Studio config: {e}")))?;
    let mut all = Vec::new();
    collect_elements(&root, &mut all, 0);
    // Object names by kind, for `Labels` (span or segment).
    let audio: HashSet<&str> = all
        .iter()
        .filter(|e| matches!(e.name.as_str(), "Audio" | "AudioPlus"))
        .filter_map(|e| e.attr("name"))
        .collect();
    let mut found = ParsedLabels::default();
    // Class names per toName, for per-region attributes.
    let mut by_target: HashMap<String, Vec<String>> = HashMap::new();
    for e in &all {
        let to = e.attr("toName").unwrap_or("").to_string();
        let tool = match e.name.as_str() {
            "RectangleLabels" => Some(Tool::BBox),
            "PolygonLabels" => Some(Tool::Polygon),
            "KeyPointLabels" => Some(Tool::Point),
            "Labels" if audio.contains(to.as_str()) => Some(Tool::Segment),
            "Labels" => Some(Tool::Span),
            "BrushLabels" | "EllipseLabels" => None,
            "Choices" if e.attr("perRegion") != Some("true") => Some(Tool::Tag),
            _ => continue,
        };
        let child = if e.name == "Choices" {
            "Choice"
        } else {
            "Label"
        };
        for l in e.children_named(child) {
            let Some(value) = l.attr("value").filter(|v| !v.is_empty()) else {
                continue;
            };
            let class = found.class_mut(value);
            if let Some(t) = tool {
                class.add_tool(t);
            }
            if let Some(c) = l.attr("background")
                && c.starts_with('#')
            {
                class.colour = Some(c.to_string());
            }
            by_target
                .entry(to.clone())
                .or_default()
                .push(value.to_string());
        }
    }
    for e in &all {
        if e.attr("perRegion") != Some("true") {
            continue;
        }
        let Some(name) = e.attr("name") else {
            continue;
        };
        let kind = match e.name.as_str() {
            "TextArea" => AttributeKind::Text,
            "Choices" => AttributeKind::Enum {
                options: e
                    .children_named("Choice")
                    .filter_map(|c| c.attr("value"))
                    .map(String::from)
                    .collect(),
            },
            _ => continue,
        };
        let to = e.attr("toName").unwrap_or("");
        for class in by_target.get(to).into_iter().flatten() {
            found.class_mut(class).add_attribute(AttributeDef {
                name: name.to_string(),
                kind: kind.clone(),
                required: false,
            });
        }
    }
    if found.classes.is_empty() {
        return Err(FormatError::Invalid(
            "the Label Studio config declares no labels (no <Label value> or <Choice value>)"
                .into(),
        ));
    }
    Ok(found.classes)
}

/// Every element below `e` in document order (depth-limited by the reader).
fn collect_elements<'a>(
    e: &'a super::xml::Element,
    out: &mut Vec<&'a super::xml::Element>,
    depth: usize,
) {
    out.push(e);
    if depth < super::xml::MAX_DEPTH {
        for c in &e.children {
            collect_elements(c, out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_declares_classes_tools_colours_and_per_region_attributes() {
        let config = br##"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="car" background="#ff0000"/><Label value="person"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="car"/></PolygonLabels>
  <TextArea name="plate" toName="image" perRegion="true"/>
  <Choices name="weather" toName="image"><Choice value="sunny"/></Choices>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio"><Label value="agent"/></Labels>
</View>"##;
        let classes = config_classes(config).unwrap();
        let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["car", "person", "sunny", "agent"]);
        assert_eq!(classes[0].tools, vec![Tool::BBox, Tool::Polygon]);
        assert_eq!(classes[0].colour.as_deref(), Some("#ff0000"));
        assert_eq!(classes[0].attributes[0].name, "plate");
        assert_eq!(classes[2].tools, vec![Tool::Tag]);
        assert_eq!(classes[3].tools, vec![Tool::Segment]);
        assert!(config_classes(b"<View><Image name='i'/></View>").is_err());
    }

    #[test]
    fn upload_and_local_prefixes_are_removed() {
        let r = media_references("/data/upload/3/1a2b3c4d-caf%C3%A9.jpg");
        assert!(r.contains(&"café.jpg".to_string()), "{r:?}");
        // Only hex prefixes of 8 digits are Label Studio's.
        let r = media_references("/data/upload/3/holidays-cat.jpg");
        assert!(r.contains(&"holidays-cat.jpg".to_string()), "{r:?}");
        let r = media_references("/data/local-files/?d=photos%2Fset%201%2Fa.jpg");
        assert!(r.contains(&"photos/set 1/a.jpg".to_string()), "{r:?}");
        assert_eq!(media_references("images/a.jpg"), vec!["images/a.jpg"]);
    }

    #[test]
    fn percent_decoding_leaves_bad_escapes() {
        assert_eq!(percent_decode("a%20b%zz%"), "a b%zz%");
        assert_eq!(percent_decode("%E6%97%A5"), "日");
        // Not UTF-8 after decoding: unchanged.
        assert_eq!(percent_decode("%FF"), "%FF");
    }
}
