//! CVAT for images 1.1 XML (<https://docs.cvat.ai/docs/manual/advanced/xml_format/>),
//! import only (`cvat`): the file CVAT writes for a task or a project
//! ("CVAT for images 1.1" export, `annotations.xml`).
//!
//! ```text
//! <annotations><version>1.1</version>
//!   <meta><task|project>…<labels><label><name>car</name><type>rectangle</type>
//!     <attributes><attribute><name>model</name><input_type>select</input_type>
//!       <values>sedan\nsuv</values></attribute></attributes></label></labels>…</meta>
//!   <image id="0" name="a.jpg" width="640" height="480">
//!     <box label="car" occluded="0" xtl="1" ytl="2" xbr="30" ybr="40" rotation="0">
//!       <attribute name="model">suv</attribute></box>
//!     <polygon label="…" occluded="0" points="x,y;x,y;…"/>
//!     <polyline label="…" points="…"/> <points label="…" points="x,y;…"/> <tag label="…"/>
//!   </image></annotations>
//! ```
//!
//! **Classes** come from `meta/task/labels` or `meta/project/labels` in
//! file order, with their attributes: `select` and `radio` become choices
//! (the `values`, one per line), `checkbox` yes/no, `text` and `number`
//! text; the label `type` (`rectangle`, `polygon`, `polyline`, `points`,
//! `tag`) its tool. Classes only named on shapes are added after them.
//!
//! **Shapes** are records, numbered 1, 2, … in document order over all
//! images; messages name the line. Coordinates are CVAT's: float pixels
//! from the top-left corner, as Sealtag's. `box` → box
//! (`xtl ytl xbr ybr`), `polygon` → polygon, `polyline` → polyline,
//! `points` → one point label per point, `tag` → tag. `occluded` becomes
//! the attribute `occluded` (true/false); each `<attribute>` is kept as the
//! label's attribute — true/false for checkbox attributes, text otherwise.
//! A `rotation` other than 0 is refused (Sealtag boxes are axis-aligned);
//! ellipses, cuboids, skeletons and masks are refused per record. Images
//! are matched to items with [`match_item`] on `name`; one that matches
//! nothing is reported once, with the count of its shapes lost.
//!
//! Limits: those of the XML reader (no document type declarations, depth,
//! element count); the file size is the caller's ([`super::input`]).

use std::collections::BTreeMap;

use serde_json::Value;

use super::xml::{self, Element, Lines};
use super::{FormatError, Importer, ItemIndex, LabelInput, ParsedLabels, PreLabel, RecordError};
use crate::model::{AttributeDef, AttributeKind, BBox, Geometry, Tool};

/// This module's importers (registered in [`super::importers`]).
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(CvatImporter)]
}

pub struct CvatImporter;

/// The label list of the file's `meta` (task or project).
fn meta_labels(root: &Element) -> Vec<&Element> {
    for owner in ["task", "project"] {
        if let Some(labels) = root.path(&["meta", owner, "labels"]) {
            return labels.children_named("label").collect();
        }
    }
    Vec::new()
}

/// A CVAT attribute declaration as a class attribute.
fn attribute_def(a: &Element) -> Option<AttributeDef> {
    let name = a.child_text("name").filter(|n| !n.is_empty())?;
    let values: Vec<String> = a
        .child("values")
        .map(|v| {
            v.text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let kind = match a.child_text("input_type").unwrap_or("text") {
        "checkbox" => AttributeKind::Bool,
        "select" | "radio" if !values.is_empty() => AttributeKind::Enum { options: values },
        _ => AttributeKind::Text,
    };
    Some(AttributeDef {
        name: name.to_string(),
        kind,
        required: false,
    })
}

/// The tool a CVAT label `type` stands for (`any` and unknown types: none).
fn label_tool(kind: &str) -> Option<Tool> {
    match kind {
        "rectangle" => Some(Tool::BBox),
        "polygon" => Some(Tool::Polygon),
        "polyline" => Some(Tool::Polyline),
        "points" => Some(Tool::Point),
        "tag" => Some(Tool::Tag),
        _ => None,
    }
}

/// `x,y;x,y;…` as points.
fn points(raw: &str) -> Result<Vec<[f64; 2]>, String> {
    raw.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (x, y) = p
                .split_once(',')
                .ok_or_else(|| format!("point '{p}' is not x,y"))?;
            let n = |v: &str| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| format!("'{v}' in point '{p}' is not a number"))
            };
            Ok([n(x)?, n(y)?])
        })
        .collect()
}

/// A number attribute of a shape.
fn coordinate(shape: &Element, key: &str) -> Result<f64, String> {
    let raw = shape
        .attr(key)
        .ok_or_else(|| format!("<{}> has no {key}", shape.name))?;
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("{key}=\"{raw}\" is not a number"))
}

/// The geometries of one shape (several for `points`).
fn shape_geometries(shape: &Element) -> Result<Vec<Geometry>, String> {
    if let Some(r) = shape.attr("rotation")
        && r.trim()
            .parse::<f64>()
            .map_or(true, |r| r.rem_euclid(360.0) != 0.0)
    {
        return Err(format!(
            "a shape rotated by {r}°; Sealtag boxes are axis-aligned"
        ));
    }
    let pts = || points(shape.attr("points").unwrap_or(""));
    Ok(match shape.name.as_str() {
        "box" => {
            let (x0, y0) = (coordinate(shape, "xtl")?, coordinate(shape, "ytl")?);
            let (x1, y1) = (coordinate(shape, "xbr")?, coordinate(shape, "ybr")?);
            vec![Geometry::BBox(BBox {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
            })]
        }
        "polygon" => vec![Geometry::Polygon { points: pts()? }],
        "polyline" => vec![Geometry::Polyline { points: pts()? }],
        "points" => {
            let points = pts()?;
            if points.is_empty() {
                return Err("no points".into());
            }
            points
                .into_iter()
                .map(|[x, y]| Geometry::Point { x, y })
                .collect()
        }
        "tag" => vec![Geometry::Tag],
        other => return Err(format!("<{other}> shapes are not supported")),
    })
}

/// The label attributes of a shape: `occluded`, then each `<attribute>`
/// (true/false where the class declares a yes/no attribute, else text).
fn shape_attributes(shape: &Element, declared: &[AttributeDef]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(o) = shape.attr("occluded") {
        out.insert("occluded".into(), Value::Bool(o.trim() == "1"));
    }
    for a in shape.children_named("attribute") {
        let Some(name) = a.attr("name") else {
            continue;
        };
        let text = a.text.trim();
        let is_bool = declared
            .iter()
            .any(|d| d.name == name && d.kind == AttributeKind::Bool);
        let value = match (is_bool, text) {
            (true, "true" | "True" | "1") => Value::Bool(true),
            (true, "false" | "False" | "0") => Value::Bool(false),
            _ => Value::String(text.to_string()),
        };
        out.insert(name.to_string(), value);
    }
    out
}

/// Shape elements (what is not a shape inside `<image>` is skipped).
const SHAPES: &[&str] = &[
    "box", "polygon", "polyline", "points", "tag", "ellipse", "cuboid", "skeleton", "mask",
];

impl Importer for CvatImporter {
    fn name(&self) -> &'static str {
        "cvat"
    }

    fn description(&self) -> &'static str {
        "CVAT for images 1.1 XML: boxes, polygons, polylines, points, tags, attributes, labels"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        let (name, bytes) = input.single_file(self.name())?;
        let root = xml::parse(bytes)
            .map_err(|e| FormatError::Invalid(format!("{name}: not CVAT XML: {e}")))?;
        if root.name != "annotations" {
            return Err(FormatError::Invalid(format!(
                "{name}: not CVAT for images XML: the root element is <{}>, not <annotations>",
                root.name
            )));
        }
        let lines = Lines::new(bytes);
        let mut out = ParsedLabels::default();
        for label in meta_labels(&root) {
            let Some(class_name) = label.child_text("name").filter(|n| !n.is_empty()) else {
                continue;
            };
            let class = out.class_mut(class_name);
            if let Some(tool) = label.child_text("type").and_then(label_tool) {
                class.add_tool(tool);
            }
            if let Some(c) = label.child_text("color") {
                class.colour = Some(c.to_string());
            }
            for a in label
                .child("attributes")
                .into_iter()
                .flat_map(|a| a.children_named("attribute"))
            {
                if let Some(def) = attribute_def(a) {
                    class.add_attribute(def);
                }
            }
        }
        let mut record = 0;
        for image in root.children_named("image") {
            let shapes: Vec<&Element> = image
                .children
                .iter()
                .filter(|c| SHAPES.contains(&c.name.as_str()))
                .collect();
            let first = record + 1;
            record += shapes.len();
            if shapes.is_empty() {
                continue;
            }
            let image_name = image.attr("name").unwrap_or("");
            let item = match items.find(image_name) {
                Ok(item) => item,
                Err(why) => {
                    out.errors.push(RecordError {
                        record: first,
                        message: format!(
                            "line {}: image '{image_name}' ({} shape{}) was not imported: {why}",
                            lines.line(image.offset),
                            shapes.len(),
                            if shapes.len() == 1 { "" } else { "s" }
                        ),
                    });
                    continue;
                }
            };
            let extent = item.declared_extent(image.attr("width"), image.attr("height"));
            for (k, shape) in shapes.into_iter().enumerate() {
                let record = first + k;
                let fail = |message: String| RecordError {
                    record,
                    message: format!(
                        "line {}: <{}>: {message}",
                        lines.line(shape.offset),
                        shape.name
                    ),
                };
                let Some(class) = shape.attr("label").filter(|l| !l.is_empty()) else {
                    out.errors.push(fail("no label".into()));
                    continue;
                };
                let geometries = match shape_geometries(shape) {
                    Ok(g) => g,
                    Err(m) => {
                        out.errors.push(fail(m));
                        continue;
                    }
                };
                let declared = out
                    .classes
                    .iter()
                    .find(|c| c.name == class)
                    .map(|c| c.attributes.clone())
                    .unwrap_or_default();
                let attributes = shape_attributes(shape, &declared);
                for geometry in geometries {
                    if let Err(m) = geometry.validate(&extent) {
                        out.errors.push(fail(m));
                        continue;
                    }
                    out.labels.push(PreLabel {
                        item_id: item.id,
                        class: class.to_string(),
                        geometry,
                        attributes: attributes.clone(),
                        score: None,
                        record,
                    });
                }
            }
        }
        out.note_label_classes();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ItemInfo;

    fn items() -> Vec<ItemInfo> {
        vec![ItemInfo::test_image(5, "set/a.jpg", 100, 80)]
    }

    const DOC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><labels>
    <label><name>car</name><type>rectangle</type><attributes>
      <attribute><name>model</name><input_type>select</input_type><values>sedan
suv</values></attribute>
      <attribute><name>parked</name><input_type>checkbox</input_type><values>false</values></attribute>
    </attributes></label>
  </labels></task></meta>
  <image id="0" name="a.jpg" width="100" height="80">
    <box label="car" occluded="1" xtl="10" ytl="20" xbr="30.5" ybr="40" z_order="0">
      <attribute name="model">suv</attribute><attribute name="parked">true</attribute>
    </box>
    <points label="dot" occluded="0" points="1,2;3,4"/>
    <ellipse label="car" cx="5" cy="5" rx="1" ry="1"/>
    <box label="car" xtl="10" ytl="20" xbr="30" ybr="40" rotation="30"/>
    <points label="dot" points=""/>
  </image>
  <image id="1" name="gone.jpg" width="10" height="10"><tag label="car"/></image>
</annotations>"#;

    #[test]
    fn reads_labels_shapes_and_attributes_and_reports_the_rest_by_line() {
        let p = CvatImporter.parse(DOC.as_bytes(), &items()).unwrap();
        let names: Vec<&str> = p.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["car", "dot"]);
        assert_eq!(
            p.classes[0].attributes[0].kind,
            AttributeKind::Enum {
                options: vec!["sedan".into(), "suv".into()]
            }
        );
        assert_eq!(p.classes[0].attributes[1].kind, AttributeKind::Bool);
        assert_eq!(p.classes[0].attributes[2].name, "occluded");
        assert_eq!(p.classes[1].tools, vec![Tool::Point]);
        assert_eq!(p.labels.len(), 3);
        assert_eq!(
            p.labels[0].geometry,
            Geometry::BBox(BBox {
                x: 10.0,
                y: 20.0,
                w: 20.5,
                h: 20.0
            })
        );
        assert_eq!(p.labels[0].attributes["occluded"], Value::Bool(true));
        assert_eq!(p.labels[0].attributes["parked"], Value::Bool(true));
        assert_eq!(p.labels[0].attributes["model"], Value::String("suv".into()));
        assert_eq!((p.labels[1].record, p.labels[2].record), (2, 2));
        let errors: Vec<(usize, &str)> = p
            .errors
            .iter()
            .map(|e| (e.record, e.message.as_str()))
            .collect();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_eq!(errors[0].0, 3);
        assert!(errors[0].1.starts_with("line 16: <ellipse>"), "{errors:#?}");
        assert!(errors[1].1.contains("rotated"), "{errors:#?}");
        assert_eq!(errors[2], (5, "line 18: <points>: no points"));
        assert_eq!(errors[3].0, 6);
        assert!(errors[3].1.contains("'gone.jpg' (1 shape)"), "{errors:#?}");
    }

    #[test]
    fn other_xml_is_refused_as_a_whole() {
        let e = CvatImporter
            .parse(b"<annotation><object/></annotation>", &items())
            .unwrap_err();
        assert!(e.to_string().contains("<annotation>"), "{e}");
        assert!(CvatImporter.parse(b"<annotations>", &items()).is_err());
    }
}
