//! Pascal VOC import (`voc`): a folder of VOC XML files (the devkit's
//! `Annotations/`, or a folder holding such files anywhere below it), or
//! one such file, read as pre-labels.
//!
//! Each file is `annotation/{folder, filename, size/{width, height},
//! object*}`; each `object/{name, bndbox/{xmin, ymin, xmax, ymax}}` is a
//! record, numbered over all files in path order, and becomes a box by the
//! devkit's convention, the inverse of the exporter's ([`super`]): 1-based
//! inclusive pixel indices, so `x = xmin − 1`, `w = xmax − xmin + 1` (same
//! for y). `truncated`, `difficult` and `occluded` (0/1) become yes/no
//! attributes, `pose` a text attribute unless `Unspecified`, and CVAT's
//! `attributes/attribute/{name, value}` text attributes. Objects without a
//! `bndbox` are refused per record. A file is matched to an item with
//! [`match_item`] on `folder/filename`, then `filename`, then the XML
//! file's own name without extension (`Annotations/a.xml` → `a.jpg`);
//! one that matches nothing is reported once with the count of its objects.
//! Class names are the objects' `name`s in file order.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::xml::{self, Element, Lines};
use super::super::{
    FormatError, Importer, ItemIndex, ItemInfo, LabelInput, ParsedLabels, PreLabel, RecordError,
};
use crate::model::{BBox, Geometry, ItemKind};

/// This module's importers (registered in [`crate::formats::importers`]).
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(VocImporter)]
}

pub struct VocImporter;

/// A number element of `bndbox`.
fn coordinate(bndbox: &Element, key: &str) -> Result<f64, String> {
    let raw = bndbox
        .child_text(key)
        .ok_or_else(|| format!("bndbox has no {key}"))?;
    raw.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("{key} '{raw}' is not a number"))
}

/// The box of an object's `bndbox` (module doc).
fn object_box(object: &Element) -> Result<Geometry, String> {
    let b = object
        .child("bndbox")
        .ok_or("an object without a bndbox (only boxes are read)")?;
    let (x0, y0) = (coordinate(b, "xmin")?, coordinate(b, "ymin")?);
    let (x1, y1) = (coordinate(b, "xmax")?, coordinate(b, "ymax")?);
    if x1 < x0 || y1 < y0 {
        return Err(format!(
            "bndbox ({x0}, {y0})–({x1}, {y1}) ends before it starts"
        ));
    }
    Ok(Geometry::BBox(BBox {
        x: x0 - 1.0,
        y: y0 - 1.0,
        w: x1 - x0 + 1.0,
        h: y1 - y0 + 1.0,
    }))
}

/// The attributes of an object (module doc).
fn object_attributes(object: &Element) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for flag in ["truncated", "difficult", "occluded"] {
        if let Some(v) = object.child_text(flag) {
            out.insert(flag.into(), Value::Bool(matches!(v, "1" | "true" | "True")));
        }
    }
    if let Some(pose) = object.child_text("pose")
        && !pose.is_empty()
        && pose != "Unspecified"
    {
        out.insert("pose".into(), Value::String(pose.into()));
    }
    for a in object
        .child("attributes")
        .into_iter()
        .flat_map(|a| a.children_named("attribute"))
    {
        if let (Some(name), Some(value)) = (a.child_text("name"), a.child_text("value"))
            && !name.is_empty()
        {
            out.insert(name.into(), Value::String(value.into()));
        }
    }
    out
}

/// The item a VOC file is about (module doc).
fn item_for<'a>(
    file: &str,
    annotation: &Element,
    items: &'a ItemIndex<'a>,
) -> Result<&'a ItemInfo, String> {
    let filename = annotation.child_text("filename").unwrap_or("");
    let folder = annotation.child_text("folder").unwrap_or("");
    let mut refs = Vec::new();
    if !filename.is_empty() {
        if !folder.is_empty() {
            refs.push(format!("{folder}/{filename}"));
        }
        refs.push(filename.to_string());
    }
    let mut first_err = None;
    for r in &refs {
        match items.find(r) {
            Ok(i) => return Ok(i),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    // The XML file's stem, against item stems (`a.xml` → `a.jpg`).
    let want = crate::formats::index::stem(file);
    let same: Vec<&ItemInfo> = items
        .with_stem(want)
        .filter(|i| i.kind == ItemKind::Image)
        .collect();
    match same.as_slice() {
        [one] => Ok(one),
        _ => Err(first_err.unwrap_or_else(|| {
            format!(
                "no filename, and {} items are called '{want}.*'",
                same.len()
            )
        })),
    }
}

impl Importer for VocImporter {
    fn name(&self) -> &'static str {
        "voc"
    }

    fn description(&self) -> &'static str {
        "Pascal VOC XML (a folder such as Annotations/, or one file): boxes, truncated, difficult, pose"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let files: Vec<(&str, &[u8])> = input
            .files()
            .into_iter()
            .filter(|(n, _)| {
                n.to_ascii_lowercase().ends_with(".xml") || matches!(input, LabelInput::File { .. })
            })
            .collect();
        if files.is_empty() {
            return Err(FormatError::Invalid(
                "no .xml files in the folder: Pascal VOC annotations are one XML file per image"
                    .into(),
            ));
        }
        let mut out = ParsedLabels::default();
        let mut record = 0;
        let mut voc_files = 0;
        for (file, bytes) in files {
            let root = match xml::parse(bytes) {
                Ok(r) if r.name == "annotation" => r,
                // Another XML file in the folder (e.g. CVAT's), or a broken
                // one: the whole file is one record.
                Ok(r) => {
                    record += 1;
                    out.errors.push(RecordError {
                        record,
                        message: format!(
                            "{file}: not Pascal VOC: the root element is <{}>, not <annotation>",
                            r.name
                        ),
                    });
                    continue;
                }
                Err(e) => {
                    record += 1;
                    out.errors.push(RecordError {
                        record,
                        message: format!("{file}: not XML: {e}"),
                    });
                    continue;
                }
            };
            voc_files += 1;
            let lines = Lines::new(bytes);
            let objects: Vec<&Element> = root.children_named("object").collect();
            let first = record + 1;
            record += objects.len();
            if objects.is_empty() {
                continue;
            }
            let item = match item_for(file, &root, items) {
                Ok(i) => i,
                Err(why) => {
                    out.errors.push(RecordError {
                        record: first,
                        message: format!(
                            "{file} ({} object{}) was not imported: {why}",
                            objects.len(),
                            if objects.len() == 1 { "" } else { "s" }
                        ),
                    });
                    continue;
                }
            };
            let declared = |key: &str| root.path(&["size", key]).map(|v| v.text.as_str());
            let extent = item.declared_extent(declared("width"), declared("height"));
            for (k, object) in objects.into_iter().enumerate() {
                let record = first + k;
                let fail = |m: String| RecordError {
                    record,
                    message: format!("{file} line {}: {m}", lines.line(object.offset)),
                };
                let Some(class) = object.child_text("name").filter(|n| !n.is_empty()) else {
                    out.errors.push(fail("an object without a name".into()));
                    continue;
                };
                // VOC objects are boxes: the class is adopted as a box
                // class even when this object's box is refused.
                out.class_mut(class).add_tool(crate::model::Tool::BBox);
                let geometry = match object_box(object) {
                    Ok(g) => g,
                    Err(m) => {
                        out.errors.push(fail(m));
                        continue;
                    }
                };
                if let Err(m) = geometry.validate(&extent) {
                    out.errors.push(fail(m));
                    continue;
                }
                out.labels.push(PreLabel {
                    item_id: item.id,
                    class: class.to_string(),
                    geometry,
                    attributes: object_attributes(object),
                    score: None,
                    record,
                });
            }
        }
        if voc_files == 0 {
            return Err(FormatError::Invalid(format!(
                "not Pascal VOC: none of the {record} XML file(s) has an <annotation> root"
            )));
        }
        out.note_label_classes();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_become_boxes_by_the_devkit_convention() {
        let items = [ItemInfo::test_image(3, "photos/a.jpg", 100, 100)];
        let doc = b"<annotation><folder>photos</folder><filename>a.jpg</filename>
<size><width>100</width><height>100</height><depth>3</depth></size>
<object><name>dog</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
<bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax></bndbox></object>
<object><name>cat</name></object>
</annotation>";
        let input = LabelInput::Folder {
            files: vec![
                ("Annotations/a.xml".into(), doc.to_vec()),
                ("Annotations/b.xml".into(), b"<annotations/>".to_vec()),
                ("ImageSets/Main/default.txt".into(), b"a\n".to_vec()),
            ],
        };
        let p = VocImporter.read(&input, &ItemIndex::new(&items)).unwrap();
        assert_eq!(p.labels.len(), 1);
        assert_eq!(
            p.labels[0].geometry,
            Geometry::BBox(BBox {
                x: 10.0,
                y: 20.0,
                w: 30.0,
                h: 40.0
            })
        );
        assert_eq!(p.labels[0].attributes["truncated"], Value::Bool(true));
        assert_eq!(p.labels[0].attributes["pose"], Value::String("Left".into()));
        let errors: Vec<&str> = p.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].starts_with("Annotations/a.xml line 5: an object without a bndbox"),
            "{errors:#?}"
        );
        assert!(errors[1].contains("<annotations>"), "{errors:#?}");
        let names: Vec<&str> = p.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["dog", "cat"]);
    }
}
