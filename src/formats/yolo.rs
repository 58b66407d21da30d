//! YOLO text labels, as read by Ultralytics YOLOv5/v8 and Darknet.
//!
//! Two exporters (image items only), both writing one `labels/<stem>.txt`
//! per image (empty for an image without labels, a "background" image),
//! where `<stem>` is the exported media file's name without extension,
//! then `data.yaml` and `images.txt`:
//!
//! * `yolo` (detection): one line `class cx cy w h` per box: the box centre
//!   and size divided by the image width and height (so in [0, 1]).
//!   Polygons are written as their bounding box (counted under "polygon
//!   written as its bounding box").
//! * `yolo-seg` (segmentation): one line `class x1 y1 x2 y2 …` per polygon,
//!   each x divided by the width and y by the height; boxes become their
//!   four corners (clockwise from top-left).
//!
//! `class` is the 0-based position of the label's class in the schema's
//! class list — the order of `names` in `data.yaml`. Points, polylines,
//! keypoints and tags are counted as skipped, as are labels of an image
//! whose size is unknown (nothing to normalise by).
//!
//! **Precision:** numbers are written as the shortest decimal that reads back
//! as the same `f64` (never in exponent notation), not rounded to a fixed
//! count of decimals: a pixel coordinate survives `x / W` and `v · W` to
//! within floating-point rounding (~1e-12 px), far inside 1e-6 px, for any
//! image size. Nice values stay short (`0.5`, `1`).
//!
//! `data.yaml` has `path: .`, `train: images`, `val: images` (Ultralytics
//! finds `labels/` next to `images/`), `nc` and `names` in index order as
//! YAML double-quoted strings (escaping `\` and `"` and control characters;
//! other Unicode is written as is — YAML is UTF-8). `images.txt` lists every
//! exported image's media path, one per line, in label-file order — for
//! readers given a list file, and to pair label files with media whose
//! directory is not `images/`.
//!
//! Stems repeat only when media paths repeat a file name; the later image
//! is then called `<stem>_<item id>` (see [`super::voc::unique_stem`]).
//!
//! **Import** (`yolo`, a dataset folder) is in [`import`].

use std::collections::{HashMap, HashSet};

use super::common::{for_each_of_kind, inexpressible, write_file};
use super::voc::unique_stem;
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{Geometry, ItemKind, Outline, Schema};

pub mod import;
pub use import::importers;

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![
        Box::new(YoloExporter { seg: false }),
        Box::new(YoloExporter { seg: true }),
    ]
}

/// `yolo` (`seg: false`) or `yolo-seg` (`seg: true`).
pub struct YoloExporter {
    pub seg: bool,
}

/// A number as YOLO files carry it: shortest exact decimal, no exponent.
pub fn num(v: f64) -> String {
    // `{}` on f64 is the shortest round-trip form and never uses exponents;
    // `-0` would look odd and means 0.
    if v == 0.0 { "0".into() } else { format!("{v}") }
}

/// A YAML double-quoted scalar.
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // YAML must escape non-printable characters; the next-line and
            // separator characters count as line breaks in YAML.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
                ) =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl YoloExporter {
    /// The points a label is written as, in pixels (`yolo`: the box centre
    /// and size; `yolo-seg`: the polygon), or `None` (counted) when the
    /// format cannot express it.
    fn points(&self, geometry: &Geometry, stats: &mut ExportStats) -> Option<Vec<[f64; 2]>> {
        let pts = match (geometry.outline(), self.seg) {
            (Outline::Rect(b), false) => {
                vec![[b.x + b.w / 2.0, b.y + b.h / 2.0], [b.w, b.h]]
            }
            (Outline::Rect(b), true) => vec![
                [b.x, b.y],
                [b.x + b.w, b.y],
                [b.x + b.w, b.y + b.h],
                [b.x, b.y + b.h],
            ],
            (Outline::Closed(_), false) => match geometry.bounds() {
                Some(b) => {
                    let kind = geometry.tool().as_str();
                    stats.skip(&format!("{kind} written as its bounding box"));
                    vec![[b.x + b.w / 2.0, b.y + b.h / 2.0], [b.w, b.h]]
                }
                None => {
                    stats.skip(&format!("{} without points", geometry.tool().as_str()));
                    return None;
                }
            },
            (Outline::Closed(points), true) => points.into_owned(),
            (Outline::Open(_) | Outline::Dots(_) | Outline::Nothing, _) => {
                stats.skip(&inexpressible(geometry, "YOLO"));
                return None;
            }
        };
        Some(pts)
    }
}

impl Exporter for YoloExporter {
    fn name(&self) -> &'static str {
        if self.seg { "yolo-seg" } else { "yolo" }
    }
    fn description(&self) -> &'static str {
        if self.seg {
            "YOLO segmentation (images): labels/<name>.txt with normalised polygons, data.yaml"
        } else {
            "YOLO detection (images): labels/<name>.txt with normalised boxes, data.yaml"
        }
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
        let index: HashMap<i64, usize> = schema
            .classes
            .iter()
            .enumerate()
            .map(|(n, c)| (c.id, n))
            .collect();
        let mut used = HashSet::new();
        for_each_of_kind(self, items, |item| {
            let stem = unique_stem(&mut used, &item.media_path, item.id);
            stats.items += 1;
            let size = item.image_size();
            write_file(out, &format!("labels/{stem}.txt"), |w| {
                for label in &item.labels {
                    let Some(class) = index.get(&label.class_id) else {
                        stats.skip("class is not in the schema");
                        continue;
                    };
                    let Some(pts) = self.points(&label.geometry, &mut stats) else {
                        continue;
                    };
                    let Some((iw, ih)) = size else {
                        stats.skip("image size unknown");
                        continue;
                    };
                    let mut line = class.to_string();
                    for [x, y] in pts {
                        line.push(' ');
                        line.push_str(&num(x / iw));
                        line.push(' ');
                        line.push_str(&num(y / ih));
                    }
                    writeln!(w, "{line}")?;
                    stats.labels += 1;
                }
                Ok(())
            })
        })?;

        write_file(out, "data.yaml", |w| {
            writeln!(w, "# Written by Sealtag ({}).", self.name())?;
            writeln!(w, "path: .")?;
            writeln!(w, "train: images")?;
            writeln!(w, "val: images")?;
            writeln!(w, "nc: {}", schema.classes.len())?;
            writeln!(w, "names:")?;
            for c in &schema.classes {
                writeln!(w, "  - {}", yaml_quote(&c.name))?;
            }
            Ok(())
        })?;

        // Second pass rather than a kept list: memory stays per item.
        write_file(out, "images.txt", |w| {
            for_each_of_kind(self, items, |item| {
                // A path with a line break would split the list; such names
                // do not come out of the exporter's media naming.
                writeln!(w, "{}", item.media_path.replace(['\n', '\r'], "_"))?;
                Ok(())
            })
        })?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact() {
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(1e-7), "0.0000001");
        let v = 123.456_789_012_345 / 4032.0;
        assert_eq!(num(v).parse::<f64>().unwrap(), v);
    }

    #[test]
    fn yaml_quotes_escape() {
        assert_eq!(yaml_quote("café"), "\"café\"");
        assert_eq!(yaml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(yaml_quote("x\u{7}\u{2028}"), "\"x\\u0007\\u2028\"");
        assert_eq!(yaml_quote("yes"), "\"yes\"");
    }
}
