//! COCO object detection JSON (<https://cocodataset.org/#format-data>).
//!
//! **Export** (`coco`, image items only) writes one file, `annotations.json`,
//! at the root of the export, next to the exported media (whose paths are the
//! images' `file_name`). Layout:
//!
//! ```text
//! {"info": {..}, "licenses": [],
//!  "categories": [{"id", "name", "supercategory": "", ["keypoints", "skeleton"]}],
//!  "images": [{"id", "file_name", "width", "height", ["original_name"], ["tags"]}],
//!  "annotations": [{"id", "image_id", "category_id", "bbox", "area", "iscrowd": 0,
//!                   "segmentation", ["keypoints", "num_keypoints"],
//!                   ["attributes"], ["score", "source"]}]}
//! ```
//!
//! * Coordinates are COCO's own: float pixels from the top-left corner of the
//!   image, `bbox = [x, y, width, height]` — the project's convention, so
//!   values are written unchanged (shortest exact decimal, so they read back
//!   bit for bit).
//! * `images[].id` is the item id, `images[].original_name` the item's name
//!   when it differs from the media path; `categories[].id` the class id;
//!   `annotations[].id` is a running number from 1 (label ids of labels and
//!   of predictions are not guaranteed to be distinct from each other).
//! * Boxes: `segmentation: []`, `area = w·h`. Polygons: one ring
//!   `[[x1,y1,x2,y2,…]]`, `bbox` its bounds, `area` by the shoelace formula.
//!   Keypoints: `keypoints [x,y,v,…]` with `v = 2` visible and `v = 1`
//!   labelled but occluded, `num_keypoints` = points with `v > 0` (all of
//!   ours), `bbox` the bounds of the points, `segmentation: []`.
//!   Classes with a skeleton carry `keypoints` (names) and `skeleton` (edges as
//!   **1-based** index pairs, as COCO does).
//! * Attributes go in `"attributes": {..}` (the CVAT extension); predictions
//!   carry `"score"` (as in COCO results files) and `"source"`.
//! * Tags (whole-image classes) have no COCO annotation type; they go on the
//!   image as `"tags": ["class", …]` (an extension readers ignore).
//! * Points and polylines cannot be expressed and are counted as skipped.
//!
//! The export streams: categories, then one pass over the items for `images`,
//! then a second pass for `annotations`; only one item is in memory at a time.
//!
//! **Import** (`coco`) reads `images`, `categories` and `annotations`. Each
//! annotation is one record (its 1-based index in `annotations`). Geometry:
//! keypoints if `keypoints` has a labelled point, else the first polygon ring
//! of `segmentation`, else `bbox`. An RLE mask (`segmentation: {"counts",
//! "size"}`, as CVAT writes for masks and `iscrowd: 1`) comes in as its
//! `bbox` with a note on its record (Sealtag has no mask labels yet); boxes
//! with a negative size or outside the image are refused per record. Images are matched to
//! items with [`match_item`] on `file_name`, then on `original_name` (an
//! extension this exporter writes when the media were renamed for the
//! export: the item's name in the project); an image that matches nothing is
//! reported once (at its first annotation) with the number of annotations
//! lost. A `score` makes the label a prediction; `attributes` (CVAT's) are
//! kept, except CVAT's `rotation`: part of the shape, dropped when 0 and
//! refused otherwise (boxes are axis-aligned). `categories` become the
//! file's classes ([`FoundClass`]), keypoint categories with their names and
//! skeleton (1-based edges made 0-based).
//! Image-level `tags` become tag pre-labels with the record number of the
//! image's first annotation (or 0 when it has none).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::common::{for_each_of_kind, inexpressible, put_json, put_json_element, write_file};
use super::{
    ExportLabel, ExportStats, Exporter, FileSink, FormatError, FoundClass, Importer, ItemIndex,
    ItemInfo, ItemSource, LabelInput, ParsedLabels, PreLabel, RecordError,
};
use crate::model::{BBox, Extent, Geometry, ItemKind, Keypoint, Outline, Schema, Skeleton, Tool};

/// The file the exporter writes.
pub const COCO_FILE: &str = "annotations.json";

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(CocoExporter)]
}

/// This module's importers (registered in [`super::importers`]).
pub fn importers() -> Vec<Box<dyn super::Importer>> {
    vec![Box::new(CocoImporter)]
}

pub struct CocoExporter;

/// Polygon area by the shoelace formula (absolute, so winding does not matter).
pub fn polygon_area(points: &[[f64; 2]]) -> f64 {
    let n = points.len();
    if n < 3 {
        return 0.0;
    }
    let twice: f64 = (0..n)
        .map(|i| {
            let [x0, y0] = points[i];
            let [x1, y1] = points[(i + 1) % n];
            x0 * y1 - x1 * y0
        })
        .sum();
    twice.abs() / 2.0
}

/// The COCO annotation object of one label, or why it cannot be one.
fn annotation_json(label: &ExportLabel, id: u64, image_id: i64) -> Result<Option<Value>, String> {
    let g = &label.geometry;
    let (bbox, area, segmentation, keypoints) = match (g, g.outline()) {
        (Geometry::Keypoints { points }, _) => {
            let Some(b) = g.bounds() else {
                return Err("keypoints without points".into());
            };
            let flat: Vec<Value> = points
                .iter()
                .flat_map(|k| [json!(k.x), json!(k.y), json!(if k.visible { 2 } else { 1 })])
                .collect();
            (b, b.w * b.h, json!([]), Some((flat, points.len())))
        }
        // Written on the image in the images pass.
        (Geometry::Tag, _) => return Ok(None),
        // Any other shape by its outline: a box, or a polygon segmentation.
        (_, Outline::Rect(b)) => (b, b.w * b.h, json!([]), None),
        (_, Outline::Closed(points)) => {
            let Some(b) = g.bounds() else {
                return Err(format!("{} without points", g.tool().as_str()));
            };
            let flat: Vec<f64> = points.iter().flat_map(|p| [p[0], p[1]]).collect();
            (b, polygon_area(&points), json!([flat]), None)
        }
        (_, Outline::Open(_) | Outline::Dots(_) | Outline::Nothing) => {
            return Err(inexpressible(g, "COCO"));
        }
    };
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    o.insert("image_id".into(), json!(image_id));
    o.insert("category_id".into(), json!(label.class_id));
    o.insert("bbox".into(), json!([bbox.x, bbox.y, bbox.w, bbox.h]));
    o.insert("area".into(), json!(area));
    o.insert("iscrowd".into(), json!(0));
    o.insert("segmentation".into(), segmentation);
    if let Some((flat, n)) = keypoints {
        o.insert("keypoints".into(), Value::Array(flat));
        o.insert("num_keypoints".into(), json!(n));
    }
    if !label.attributes.is_empty() {
        o.insert("attributes".into(), json!(label.attributes));
    }
    if let Some(s) = label.score {
        o.insert("score".into(), json!(s));
    }
    if let Some(s) = &label.source {
        o.insert("source".into(), json!(s));
    }
    Ok(Some(Value::Object(o)))
}

impl Exporter for CocoExporter {
    fn name(&self) -> &'static str {
        "coco"
    }
    fn description(&self) -> &'static str {
        "COCO JSON (images): boxes, polygons, keypoints, attributes; annotations.json"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        &[ItemKind::Image]
    }
    fn export(
        &self,
        schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        let mut stats = ExportStats::default();
        write_file(out, COCO_FILE, |w| {
            w.write_all(b"{\"info\":")?;
            put_json(
                w,
                &json!({"description": "Sealtag export", "version": schema.version.to_string()}),
            )?;
            w.write_all(b",\"licenses\":[],\n\"categories\":[")?;
            for (n, class) in schema.classes.iter().enumerate() {
                let mut c = Map::new();
                c.insert("id".into(), json!(class.id));
                c.insert("name".into(), json!(class.name));
                c.insert("supercategory".into(), json!(""));
                if let Some(sk) = &class.skeleton {
                    c.insert("keypoints".into(), json!(sk.keypoints));
                    let edges: Vec<[usize; 2]> =
                        sk.edges.iter().map(|[a, b]| [a + 1, b + 1]).collect();
                    c.insert("skeleton".into(), json!(edges));
                }
                put_json_element(w, n == 0, &Value::Object(c))?;
            }

            // Pass 1: images (and their tags).
            w.write_all(b"],\n\"images\":[")?;
            let mut first = true;
            for_each_of_kind(self, items, |item| {
                let mut o = Map::new();
                o.insert("id".into(), json!(item.id));
                o.insert("file_name".into(), json!(item.media_path));
                o.insert("width".into(), json!(item.width.unwrap_or(0)));
                o.insert("height".into(), json!(item.height.unwrap_or(0)));
                // Exported media are renamed (`000042_cat.jpg`); the project's
                // own name lets the importer find the item again.
                if item.name != item.media_path {
                    o.insert("original_name".into(), json!(item.name));
                }
                let tags: Vec<&str> = item
                    .labels
                    .iter()
                    .filter(|l| l.geometry == Geometry::Tag)
                    .map(|l| l.class.as_str())
                    .collect();
                if !tags.is_empty() {
                    stats.labels += tags.len();
                    o.insert("tags".into(), json!(tags));
                }
                put_json_element(w, first, &Value::Object(o))?;
                first = false;
                stats.items += 1;
                Ok(())
            })?;

            // Pass 2: annotations, one at a time.
            w.write_all(b"],\n\"annotations\":[")?;
            let mut next_id: u64 = 1;
            for_each_of_kind(self, items, |item| {
                for label in &item.labels {
                    match annotation_json(label, next_id, item.id) {
                        Ok(Some(a)) => {
                            put_json_element(w, next_id == 1, &a)?;
                            next_id += 1;
                            stats.labels += 1;
                        }
                        // Tags: written and counted in pass 1.
                        Ok(None) => {}
                        Err(why) => stats.skip(&why),
                    }
                }
                Ok(())
            })?;
            w.write_all(b"\n]}\n")?;
            Ok(())
        })?;
        Ok(stats)
    }
}

/// Parses JSON with exact floats: serde_json's `float_roundtrip` feature
/// (enabled in Cargo.toml) reads every decimal as the nearest `f64`, so a
/// coordinate written by an exporter reads back bit for bit.
pub fn parse_json_exact(input: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(input)
}

pub struct CocoImporter;

/// One COCO image as the importer needs it.
struct CocoImage {
    file_name: String,
    /// This exporter's `original_name` extension.
    original_name: Option<String>,
    width: f64,
    height: f64,
    tags: Vec<String>,
}

/// Reads a JSON number that may be written as an integer or a float.
fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

/// A JSON id (COCO ids are integers; some tools write them as strings).
fn id_key(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Why an RLE `segmentation` is not the shape COCO defines
/// (`{"counts": [..] | "..", "size": [height, width]}`), if it is not.
fn rle_problem(rle: &Map<String, Value>) -> Option<String> {
    let counts_ok = match rle.get("counts") {
        Some(Value::Array(c)) => c.iter().all(|n| n.as_u64().is_some()),
        Some(Value::String(_)) => true,
        _ => false,
    };
    let size_ok = rle
        .get("size")
        .and_then(Value::as_array)
        .is_some_and(|s| s.len() == 2 && s.iter().all(|n| n.as_u64().is_some()));
    (!counts_ok || !size_ok).then(|| {
        "RLE segmentation must be {\"counts\": [..] or \"..\", \"size\": [height, width]}".into()
    })
}

/// The geometry of one annotation, checked against the image size, and a
/// note when it is not all the annotation said (an RLE mask kept as its
/// box).
fn annotation_geometry(
    a: &Map<String, Value>,
    width: f64,
    height: f64,
) -> Result<(Geometry, Option<String>), String> {
    let mut note = None;
    // Keypoints first: keypoint annotations also carry a bbox.
    if let Some(kp) = a.get("keypoints").and_then(Value::as_array)
        && !kp.is_empty()
    {
        if kp.len() % 3 != 0 {
            return Err(format!(
                "keypoints has {} numbers, not a multiple of 3 (x, y, v)",
                kp.len()
            ));
        }
        let mut points = Vec::with_capacity(kp.len() / 3);
        let mut labelled = 0;
        for t in kp.chunks(3) {
            let (Some(x), Some(y), Some(v)) = (num(&t[0]), num(&t[1]), num(&t[2])) else {
                return Err("keypoints must be numbers".into());
            };
            // v = 0 (not labelled) keeps its slot so the keypoint names stay
            // aligned; it comes in as an occluded point.
            if v > 0.0 {
                labelled += 1;
            }
            points.push(Keypoint {
                x,
                y,
                visible: v >= 2.0,
            });
        }
        if labelled > 0 {
            let g = Geometry::Keypoints { points };
            check_inside(&g, width, height)?;
            return Ok((g, None));
        }
    }
    match a.get("segmentation") {
        // Run-length masks (CVAT writes them for masks and for
        // `iscrowd: 1`): Sealtag has no mask geometry yet, so the mask is
        // kept as its bounding box and the record says so.
        Some(Value::Object(rle)) => {
            if let Some(problem) = rle_problem(rle) {
                return Err(problem);
            }
            note = Some(
                "RLE mask imported as its bounding box (Sealtag has no mask labels yet)".into(),
            );
        }
        Some(Value::Array(rings)) if !rings.is_empty() => {
            let Some(ring) = rings[0].as_array() else {
                return Err("segmentation must be a list of polygons [[x1, y1, …]]".into());
            };
            if ring.len() % 2 != 0 || ring.len() < 6 {
                return Err(format!(
                    "a segmentation polygon needs an even count of at least 6 numbers, got {}",
                    ring.len()
                ));
            }
            let mut points = Vec::with_capacity(ring.len() / 2);
            for p in ring.chunks(2) {
                let (Some(x), Some(y)) = (num(&p[0]), num(&p[1])) else {
                    return Err("segmentation coordinates must be numbers".into());
                };
                points.push([x, y]);
            }
            let g = Geometry::Polygon { points };
            check_inside(&g, width, height)?;
            return Ok((g, None));
        }
        _ => {}
    }
    let Some(bbox) = a.get("bbox").and_then(Value::as_array) else {
        return Err(if note.is_some() {
            "an RLE mask without a bbox (masks are not supported yet)".into()
        } else {
            "no bbox, segmentation or keypoints".into()
        });
    };
    let v: Vec<f64> = bbox.iter().filter_map(num).collect();
    if bbox.len() != 4 || v.len() != 4 {
        return Err("bbox must be [x, y, width, height] numbers".into());
    }
    let b = BBox {
        x: v[0],
        y: v[1],
        w: v[2],
        h: v[3],
    };
    if b.w <= 0.0 || b.h <= 0.0 {
        return Err(format!(
            "bbox [{}, {}, {}, {}] has a negative or zero width or height",
            b.x, b.y, b.w, b.h
        ));
    }
    const EPS: f64 = 1e-6;
    if b.x < -EPS || b.y < -EPS || b.x + b.w > width + EPS || b.y + b.h > height + EPS {
        return Err(format!(
            "bbox [{}, {}, {}, {}] lies outside the {width}×{height} image",
            b.x, b.y, b.w, b.h
        ));
    }
    Ok((Geometry::BBox(b), note))
}

fn check_inside(g: &Geometry, width: f64, height: f64) -> Result<(), String> {
    g.validate(&Extent {
        width,
        height,
        ..Extent::default()
    })
}

/// COCO images by their id (as [`id_key`] writes it).
type ImagesById = HashMap<String, CocoImage>;

/// Per image id: how many annotations refer to it, and the record number
/// of the first (where a problem with the image is reported).
type AnnotationsPerImage = HashMap<String, (usize, usize)>;

/// Per image id: the project item it was matched to, or why none was.
type Matches<'k, 'i> = HashMap<&'k str, Result<&'i ItemInfo, String>>;

/// The lists of a COCO file that the importer reads.
struct CocoLists<'a> {
    images: &'a [Value],
    annotations: &'a [Value],
    /// Category id → class name.
    categories: HashMap<String, String>,
    /// The categories as classes, in file order.
    found: Vec<FoundClass>,
}

/// A category as a class: keypoint categories bring their keypoint names
/// and skeleton (COCO's 1-based edges made 0-based; edges naming no
/// keypoint are dropped).
fn category_class(name: &str, c: &Value) -> FoundClass {
    let mut class = FoundClass::named(name);
    let names: Vec<String> = c
        .get("keypoints")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if !names.is_empty() {
        let n = names.len();
        let edges = c
            .get("skeleton")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(|pair| {
                        let p = pair.as_array()?;
                        let (a, b) = (p.first()?.as_u64()?, p.get(1)?.as_u64()?);
                        let (a, b) = (usize::try_from(a).ok()?, usize::try_from(b).ok()?);
                        (a >= 1 && b >= 1 && a <= n && b <= n).then(|| [a - 1, b - 1])
                    })
                    .collect()
            })
            .unwrap_or_default();
        class.add_tool(Tool::Keypoints);
        class.skeleton = Some(Skeleton {
            keypoints: names,
            edges,
        });
    }
    class
}

/// The top level of a COCO file: `images` and `annotations` are required,
/// `categories` may be missing (then every annotation's class is unknown).
fn coco_lists(root: &Value) -> Result<CocoLists<'_>, FormatError> {
    let Some(root) = root.as_object() else {
        return Err(FormatError::Invalid(
            "not a COCO file: the top level is not a JSON object".into(),
        ));
    };
    let (Some(images), Some(annotations)) = (
        root.get("images").and_then(Value::as_array),
        root.get("annotations").and_then(Value::as_array),
    ) else {
        return Err(FormatError::Invalid(
            "not a COCO file: it needs \"images\" and \"annotations\" lists".into(),
        ));
    };
    let mut categories = HashMap::new();
    let mut found: Vec<FoundClass> = Vec::new();
    for c in root
        .get("categories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(id), Some(name)) = (
            c.get("id").and_then(id_key),
            c.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        categories.insert(id, name.to_string());
        if !found.iter().any(|f| f.name == name) {
            found.push(category_class(name, c));
        }
    }
    Ok(CocoLists {
        images,
        annotations,
        categories,
        found,
    })
}

/// The images that can be referred to (those with an id and a file name;
/// annotations of the others are reported as unknown images).
fn read_images(images: &[Value]) -> ImagesById {
    let mut by_id = ImagesById::new();
    for img in images {
        let (Some(id), Some(file_name)) = (
            img.get("id").and_then(id_key),
            img.get("file_name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let tags = img
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        by_id.insert(
            id,
            CocoImage {
                file_name: file_name.to_string(),
                original_name: img
                    .get("original_name")
                    .and_then(Value::as_str)
                    .map(String::from),
                width: img.get("width").and_then(num).unwrap_or(0.0),
                height: img.get("height").and_then(num).unwrap_or(0.0),
                tags,
            },
        );
    }
    by_id
}

/// Annotation counts and first record per image, for the messages.
fn count_annotations(annotations: &[Value]) -> AnnotationsPerImage {
    let mut per_image = AnnotationsPerImage::new();
    for (n, a) in annotations.iter().enumerate() {
        if let Some(k) = a.get("image_id").and_then(id_key) {
            per_image.entry(k).or_insert((0, n + 1)).0 += 1;
        }
    }
    per_image
}

/// Matches every image that carries something (annotations or tags) to an
/// item once: on `file_name`, then on `original_name`.
fn match_images<'k, 'i>(
    images: &'k ImagesById,
    per_image: &AnnotationsPerImage,
    items: &ItemIndex<'i>,
) -> Matches<'k, 'i> {
    let mut matched = Matches::new();
    for (key, img) in images {
        if !per_image.contains_key(key) && img.tags.is_empty() {
            continue;
        }
        let found = match (items.find(&img.file_name), &img.original_name) {
            (Err(_), Some(name)) if items.find(name).is_ok() => items.find(name),
            (res, _) => res,
        };
        matched.insert(key.as_str(), found);
    }
    matched
}

/// One error per unmatched image with annotations, at its first
/// annotation, in record order.
fn unmatched_images(
    images: &ImagesById,
    per_image: &AnnotationsPerImage,
    matched: &Matches<'_, '_>,
) -> Vec<RecordError> {
    let mut unmatched = Vec::new();
    for (key, res) in matched {
        if let (Err(why), Some((count, first))) = (res, per_image.get(*key)) {
            let name = &images[*key].file_name;
            unmatched.push(RecordError {
                record: *first,
                message: format!(
                    "image '{name}' ({count} annotation{}) was not imported: {why}",
                    if *count == 1 { "" } else { "s" }
                ),
            });
        }
    }
    unmatched.sort_by_key(|e| e.record);
    unmatched
}

/// The attributes of an annotation (`attributes`, the CVAT extension),
/// every one passed through — except CVAT's `rotation`, which is part of
/// the shape: 0 is an upright shape and dropped, anything else refused
/// (Sealtag boxes are axis-aligned).
fn annotation_attributes(a: &Map<String, Value>) -> Result<BTreeMap<String, Value>, String> {
    let mut attributes: BTreeMap<String, Value> = a
        .get("attributes")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if let Some(r) = attributes.get("rotation").and_then(num) {
        if r.rem_euclid(360.0) != 0.0 {
            return Err(format!(
                "a shape rotated by {r}° (CVAT's rotation); Sealtag boxes are axis-aligned"
            ));
        }
        attributes.remove("rotation");
    }
    Ok(attributes)
}

/// The pre-label of annotation number `record` and a note on it, `None`
/// when its image was not matched (reported once for the whole image), or
/// why it is refused.
fn read_annotation(
    record: usize,
    a: &Value,
    images: &ImagesById,
    matched: &Matches<'_, '_>,
    categories: &HashMap<String, String>,
) -> Result<Option<(PreLabel, Option<String>)>, String> {
    let Some(a) = a.as_object() else {
        return Err("an annotation must be a JSON object".into());
    };
    let Some(image_key) = a.get("image_id").and_then(id_key) else {
        return Err("annotation has no image_id".into());
    };
    let Some(img) = images.get(&image_key) else {
        return Err(format!("image_id {image_key} is not in \"images\""));
    };
    let item = match matched.get(image_key.as_str()) {
        Some(Ok(item)) => *item,
        // Already reported once for the whole image.
        Some(Err(_)) | None => return Ok(None),
    };
    let Some(class) = a
        .get("category_id")
        .and_then(id_key)
        .and_then(|c| categories.get(&c))
    else {
        return Err(format!(
            "category_id {} is not in \"categories\"",
            a.get("category_id")
                .map(Value::to_string)
                .unwrap_or_default()
        ));
    };
    // The COCO file's size is what its coordinates refer to; the
    // project's size is the fallback for files that omit it.
    let width = Some(img.width)
        .filter(|w| *w > 0.0)
        .or(item.width.map(f64::from))
        .unwrap_or(0.0);
    let height = Some(img.height)
        .filter(|h| *h > 0.0)
        .or(item.height.map(f64::from))
        .unwrap_or(0.0);
    let (geometry, note) = annotation_geometry(a, width, height)?;
    let attributes = annotation_attributes(a)?;
    let label = PreLabel {
        item_id: item.id,
        class: class.clone(),
        geometry,
        attributes,
        score: a.get("score").and_then(num),
        record,
    };
    Ok(Some((label, note)))
}

/// Image-level tags (this exporter's extension) as tag pre-labels, in image
/// id order; an unmatched image with tags but no annotations is reported
/// here (one with annotations was reported with them).
fn image_tags(
    images: &ImagesById,
    per_image: &AnnotationsPerImage,
    matched: &Matches<'_, '_>,
    out: &mut ParsedLabels,
) {
    let mut tagged: Vec<(&String, &CocoImage)> =
        images.iter().filter(|(_, i)| !i.tags.is_empty()).collect();
    tagged.sort_by(|a, b| a.0.cmp(b.0));
    for (key, img) in tagged {
        let record = per_image.get(key).map(|(_, first)| *first).unwrap_or(0);
        match matched.get(key.as_str()) {
            Some(Ok(item)) => {
                for t in &img.tags {
                    out.labels.push(PreLabel {
                        item_id: item.id,
                        class: t.clone(),
                        geometry: Geometry::Tag,
                        attributes: BTreeMap::new(),
                        score: None,
                        record,
                    });
                }
            }
            Some(Err(why)) if !per_image.contains_key(key) => out.errors.push(RecordError {
                record,
                message: format!(
                    "image '{}' ({} tags) was not imported: {why}",
                    img.file_name,
                    img.tags.len()
                ),
            }),
            _ => {}
        }
    }
}

impl Importer for CocoImporter {
    fn description(&self) -> &'static str {
        "COCO JSON, also as CVAT writes it: boxes, polygons, keypoints, RLE masks as boxes, attributes, categories"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let (_, bytes) = input.single_file(self.name())?;
        let mut out = self.parse_file(bytes, items)?;
        out.note_label_classes();
        Ok(out)
    }

    fn name(&self) -> &'static str {
        "coco"
    }
}

impl CocoImporter {
    fn parse_file(&self, input: &[u8], items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        // serde_json's message names the line and column of the problem.
        let root = parse_json_exact(input)
            .map_err(|e| FormatError::Invalid(format!("not valid COCO JSON: {e}")))?;
        let lists = coco_lists(&root)?;
        let images = read_images(lists.images);
        let per_image = count_annotations(lists.annotations);
        let matched = match_images(&images, &per_image, items);
        let mut out = ParsedLabels {
            errors: unmatched_images(&images, &per_image, &matched),
            classes: lists.found.clone(),
            ..ParsedLabels::default()
        };
        for (n, a) in lists.annotations.iter().enumerate() {
            let record = n + 1;
            match read_annotation(record, a, &images, &matched, &lists.categories) {
                Ok(Some((label, note))) => {
                    out.labels.push(label);
                    if let Some(message) = note {
                        out.notes.push(RecordError { record, message });
                    }
                }
                Ok(None) => {}
                Err(message) => out.errors.push(RecordError { record, message }),
            }
        }
        image_tags(&images, &per_image, &matched, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ExportItem, MemorySink};
    use crate::model::{LabelClass, Skeleton};

    fn schema() -> Schema {
        Schema {
            version: 3,
            classes: vec![
                LabelClass {
                    id: 7,
                    name: "cat".into(),
                    colour: "#ff0000".into(),
                    hotkey: None,
                    tools: crate::model::default_tools(),
                    attributes: vec![],
                    skeleton: None,
                },
                LabelClass {
                    id: 9,
                    name: "person".into(),
                    colour: "#00ff00".into(),
                    hotkey: None,
                    tools: vec![crate::model::Tool::Keypoints],
                    attributes: vec![],
                    skeleton: Some(Skeleton {
                        keypoints: vec!["head".into(), "hand".into(), "foot".into()],
                        edges: vec![[0, 1], [1, 2]],
                    }),
                },
            ],
            multi_label_tags: true,
            overlapping_spans: false,
            overlapping_segments: true,
        }
    }

    fn label(class_id: i64, class: &str, geometry: Geometry) -> ExportLabel {
        ExportLabel {
            id: 1,
            class_id,
            class: class.into(),
            geometry,
            attributes: BTreeMap::new(),
            created_by: "ab".into(),
            source: None,
            score: None,
        }
    }

    fn item(id: i64, labels: Vec<ExportLabel>) -> ExportItem {
        ExportItem {
            id,
            kind: ItemKind::Image,
            name: format!("img{id}.jpg"),
            format: "jpeg".into(),
            sha256: format!("{id:064}"),
            width: Some(100),
            height: Some(50),
            duration_secs: None,
            char_len: None,
            status: "approved".into(),
            media_path: format!("images/img{id}.jpg"),
            text: None,
            labels,
        }
    }

    #[test]
    fn floats_are_read_correctly_rounded() {
        // serde_json's fast path reads this one 1 ULP off.
        let exact: f64 = "1166.8149103807903".parse().unwrap();
        let v =
            parse_json_exact(b"{\"a\": [1166.8149103807903, \"1.5\\\" 2.25\"], \"b\": 7}").unwrap();
        assert_eq!(v["a"][0].as_f64().unwrap().to_bits(), exact.to_bits());
        assert_eq!(v["a"][1], json!("1.5\" 2.25"));
        assert_eq!(v["b"], json!(7));
        assert!(parse_json_exact(b"[1.5,").is_err());
    }

    #[test]
    fn shoelace_area() {
        assert_eq!(polygon_area(&[[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]), 6.0);
        // Clockwise gives the same area.
        assert_eq!(polygon_area(&[[4.0, 3.0], [4.0, 0.0], [0.0, 0.0]]), 6.0);
        assert_eq!(polygon_area(&[[0.0, 0.0], [1.0, 1.0]]), 0.0);
    }

    #[test]
    fn export_writes_categories_images_and_annotations() {
        let items = [item(
            4,
            vec![
                label(
                    7,
                    "cat",
                    Geometry::BBox(BBox {
                        x: 1.5,
                        y: 2.0,
                        w: 10.0,
                        h: 20.0,
                    }),
                ),
                label(7, "cat", Geometry::Tag),
                label(7, "cat", Geometry::Point { x: 1.0, y: 1.0 }),
                label(
                    9,
                    "person",
                    Geometry::Keypoints {
                        points: vec![
                            Keypoint {
                                x: 1.0,
                                y: 2.0,
                                visible: true,
                            },
                            Keypoint {
                                x: 3.0,
                                y: 4.0,
                                visible: false,
                            },
                        ],
                    },
                ),
            ],
        )];
        let mut sink = MemorySink::default();
        let stats = CocoExporter.export(&schema(), &items, &mut sink).unwrap();
        assert_eq!(stats.items, 1);
        assert_eq!(stats.labels, 3);
        assert_eq!(
            stats.skipped.get("points cannot be expressed in COCO"),
            Some(&1)
        );
        let v: Value = serde_json::from_slice(sink.get(COCO_FILE).unwrap()).unwrap();
        assert_eq!(v["categories"][1]["skeleton"], json!([[1, 2], [2, 3]]));
        assert_eq!(v["images"][0]["tags"], json!(["cat"]));
        assert_eq!(v["annotations"][0]["bbox"], json!([1.5, 2.0, 10.0, 20.0]));
        assert_eq!(
            v["annotations"][1]["keypoints"],
            json!([1.0, 2.0, 2, 3.0, 4.0, 1])
        );
        assert_eq!(v["annotations"][1]["id"], json!(2));
    }

    #[test]
    fn rle_masks_come_in_as_boxes_with_a_note_and_bad_boxes_are_record_errors() {
        let items = [ItemInfo::test_image(1, "a.jpg", 10, 10)];
        let file = json!({
            "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "categories": [{"id": 1, "name": "cat"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5],
                 "segmentation": {"counts": "abc", "size": [10, 10]}},
                {"id": 2, "image_id": 1, "category_id": 1, "bbox": [8, 0, 5, 5]},
                {"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 1, -2, 5]},
                {"id": 4, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 5], "score": 0.5}
            ]
        });
        let p = CocoImporter
            .parse(file.to_string().as_bytes(), &items)
            .unwrap();
        // The RLE mask comes in as its box, with a note on its record.
        assert_eq!(p.labels.len(), 2);
        assert_eq!(
            p.labels[0].geometry,
            Geometry::BBox(BBox {
                x: 0.0,
                y: 0.0,
                w: 5.0,
                h: 5.0
            })
        );
        assert_eq!(p.notes.len(), 1);
        assert_eq!(p.notes[0].record, 1);
        assert!(
            p.notes[0]
                .message
                .contains("RLE mask imported as its bounding box")
        );
        assert_eq!(p.labels[1].record, 4);
        assert_eq!(p.labels[1].score, Some(0.5));
        let recs: Vec<usize> = p.errors.iter().map(|e| e.record).collect();
        assert_eq!(recs, vec![2, 3]);
        assert!(
            p.errors[0].message.contains("outside"),
            "{}",
            p.errors[0].message
        );
        assert!(
            p.errors[1].message.contains("negative"),
            "{}",
            p.errors[1].message
        );
    }

    /// A CVAT COCO 1.0 export: categories (one with keypoints and a
    /// skeleton) become found classes in file order, `attributes` pass
    /// through with CVAT's upright `rotation` dropped, a rotated box is
    /// refused, and a malformed RLE is a record error.
    #[test]
    fn cvat_categories_attributes_and_rotation() {
        let items = [ItemInfo::test_image(1, "a.jpg", 10, 10)];
        let file = json!({
            "licenses": [{"name": "", "id": 0, "url": ""}],
            "info": {"contributor": "", "version": "", "year": ""},
            "categories": [
                {"id": 1, "name": "coin", "supercategory": ""},
                {"id": 2, "name": "hand", "supercategory": "", "keypoints": ["wrist", "thumb"],
                 "skeleton": [[1, 2], [2, 9]]}
            ],
            "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "iscrowd": 0,
                 "segmentation": [], "attributes": {"occluded": false, "rotation": 0.0, "mint": "Paris"}},
                {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2],
                 "attributes": {"occluded": true, "rotation": 45.0}},
                {"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "iscrowd": 1,
                 "segmentation": {"counts": [1, "x"], "size": [10, 10]}}
            ]
        });
        let p = CocoImporter
            .parse(file.to_string().as_bytes(), &items)
            .unwrap();
        assert_eq!(p.labels.len(), 1, "{:?}", p.errors);
        assert_eq!(
            p.labels[0].attributes,
            BTreeMap::from([
                ("mint".to_string(), json!("Paris")),
                ("occluded".to_string(), json!(false))
            ])
        );
        let errors: Vec<(usize, &str)> = p
            .errors
            .iter()
            .map(|e| (e.record, e.message.as_str()))
            .collect();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].1.contains("rotated by 45"), "{errors:?}");
        assert!(
            errors[1].1.contains("RLE segmentation must be"),
            "{errors:?}"
        );
        let names: Vec<&str> = p.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["coin", "hand"]);
        let hand = &p.classes[1];
        assert_eq!(
            hand.skeleton,
            Some(Skeleton {
                keypoints: vec!["wrist".into(), "thumb".into()],
                edges: vec![[0, 1]]
            })
        );
        let coin = &p.classes[0];
        assert_eq!(coin.tools, vec![crate::model::Tool::BBox]);
        let attrs: Vec<&str> = coin.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(attrs, vec!["mint", "occluded"]);
    }

    /// Image tags become tag pre-labels (record: the image's first
    /// annotation, or 0); an unmatched image is reported once, with its
    /// annotations when it has some, else for its tags; `original_name`
    /// matches when `file_name` does not.
    #[test]
    fn image_tags_and_unmatched_images() {
        let info = |id: i64, name: &str| ItemInfo::test_image(id, name, 10, 10);
        let items = [info(1, "a.jpg"), info(2, "renamed/b.jpg")];
        let file = json!({
            "images": [
                {"id": 1, "file_name": "a.jpg", "width": 10, "height": 10, "tags": ["day", "sun"]},
                {"id": 2, "file_name": "000002.jpg", "original_name": "renamed/b.jpg",
                 "width": 10, "height": 10, "tags": ["night"]},
                {"id": 3, "file_name": "gone.jpg", "tags": ["day", "rain"]},
                {"id": 4, "file_name": "lost.jpg", "width": 10, "height": 10, "tags": ["x"]},
                {"id": 5, "width": 10, "height": 10}
            ],
            "categories": [{"id": 1, "name": "cat"}],
            "annotations": [
                {"id": 1, "image_id": 4, "category_id": 1, "bbox": [0, 0, 5, 5]},
                {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2]},
                {"id": 3, "image_id": 5, "category_id": 1, "bbox": [1, 1, 2, 2]},
                {"id": 4, "image_id": 4, "category_id": 1, "bbox": [0, 0, 5, 5]}
            ]
        });
        let p = CocoImporter
            .parse(file.to_string().as_bytes(), &items)
            .unwrap();
        let labels: Vec<(usize, i64, &str, bool)> = p
            .labels
            .iter()
            .map(|l| {
                (
                    l.record,
                    l.item_id,
                    l.class.as_str(),
                    l.geometry == Geometry::Tag,
                )
            })
            .collect();
        assert_eq!(
            labels,
            vec![
                (2, 2, "cat", false),
                (0, 1, "day", true),
                (0, 1, "sun", true),
                (2, 2, "night", true),
            ]
        );
        let errors: Vec<(usize, &str)> = p
            .errors
            .iter()
            .map(|e| (e.record, e.message.as_str()))
            .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert_eq!(errors[0].0, 1);
        assert!(
            errors[0]
                .1
                .starts_with("image 'lost.jpg' (2 annotations) was not imported"),
            "{errors:#?}"
        );
        assert_eq!(errors[1], (3, "image_id 5 is not in \"images\""));
        assert_eq!(errors[2].0, 0);
        assert!(
            errors[2]
                .1
                .starts_with("image 'gone.jpg' (2 tags) was not imported"),
            "{errors:#?}"
        );
    }
}
