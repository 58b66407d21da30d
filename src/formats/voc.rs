//! Pascal VOC XML (the layout of the VOC2007–2012 `Annotations/` folder).
//!
//! **Export** (`voc`, image items only) writes one
//! `Annotations/<stem>.xml` per image, where `<stem>` is the exported media
//! file's name without its extension, and `ImageSets/Main/default.txt`
//! listing the stems, one per line. Each file is
//! `annotation/{folder, filename, size/{width, height, depth = 3},
//! segmented = 0, object*}` with `object/{name, pose, truncated, difficult,
//! bndbox/{xmin, ymin, xmax, ymax}}`; `folder` is the directory part of the
//! media path (empty when there is none).
//!
//! **Coordinate convention: the VOC devkit's.** `bndbox` values are integer,
//! 1-based, inclusive pixel indices: the box spans pixels `xmin..=xmax`, the
//! image pixels `1..=width`. Our boxes are continuous (top-left origin), so a
//! box covers the pixels whose centres lie inside it:
//! `xmin = ceil(x − ½) + 1`, `xmax = floor(x + w − ½) + 1` (same for y).
//! For whole-pixel boxes this is simply `xmin = x + 1`, `xmax = x + w` —
//! which is exactly what the main readers undo: detectron2's VOC loader and
//! the original devkit/py-faster-rcnn subtract 1 from `xmin`/`ymin` to get
//! `[x, y, x + w, y + h]` back. (Readers that take `xmin` as a 0-based left
//! edge, like some torchvision-based scripts, see the box shifted by one
//! pixel on the left/top; readers commonly `int()` the values, so fractions
//! are not an option.) Boxes are clamped into the image and are at least
//! one pixel wide and high.
//!
//! Names are XML-escaped (`& < > " '`); characters XML 1.0 cannot carry
//! (control characters other than tab and newlines) become U+FFFD.
//! Attributes `pose` (text) and `truncated`, `difficult` (true/false or 0/1)
//! fill those elements when a label has them; otherwise `Unspecified`, 0, 0.
//! Polygons are written as their bounding box (counted under
//! "polygon written as its bounding box"); points, polylines, keypoints and
//! tags have no VOC form and are counted as skipped.
//!
//! If two images would get the same stem, the later one is called
//! `<stem>_<item id>`.
//!
//! **Import** (`voc`, a folder of VOC XML files or one file) is in
//! [`import`].

use std::collections::HashSet;
use std::io::Write;

use super::common::{for_each_of_kind, inexpressible, write_file};
use super::{ExportItem, ExportLabel, ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{BBox, ItemKind, Outline, Schema};

pub mod import;
pub use import::importers;

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(VocExporter)]
}

pub struct VocExporter;

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed anywhere in XML 1.0, not even as references.
            c if (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{FFFE}' | '\u{FFFF}') =>
            {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}

/// The media file's name without directory and extension, made safe as a
/// file name (`images/000042_café.jpg` → `000042_café`).
pub fn media_stem(media_path: &str) -> String {
    let file = super::safe_file_name(media_path);
    match file.rfind('.') {
        Some(dot) if dot > 0 => file[..dot].to_string(),
        _ => file,
    }
}

/// A stem not used before in this export (see the module doc).
pub fn unique_stem(used: &mut HashSet<String>, media_path: &str, item_id: i64) -> String {
    let mut stem = media_stem(media_path);
    if used.contains(&stem) {
        stem = format!("{stem}_{item_id}");
    }
    // Still taken (an item literally named `<stem>_<id>`): count up.
    let base = stem.clone();
    let mut n = 2;
    while used.contains(&stem) {
        stem = format!("{base}_{n}");
        n += 1;
    }
    used.insert(stem.clone());
    stem
}

/// The VOC `bndbox` of a box: 1-based inclusive pixel indices (module doc).
/// `width`/`height` of 0 mean unknown (no clamping to the right/bottom).
pub fn voc_box(b: &BBox, width: u32, height: u32) -> [i64; 4] {
    let axis = |start: f64, len: f64, size: u32| -> (i64, i64) {
        let mut lo = (start - 0.5).ceil() as i64 + 1;
        let mut hi = (start + len - 0.5).floor() as i64 + 1;
        let max = if size == 0 { i64::MAX } else { i64::from(size) };
        lo = lo.clamp(1, max);
        hi = hi.clamp(lo, max.max(lo));
        (lo, hi)
    };
    let (xmin, xmax) = axis(b.x, b.w, width);
    let (ymin, ymax) = axis(b.y, b.h, height);
    [xmin, ymin, xmax, ymax]
}

/// 0/1 from a true/false or numeric attribute.
fn flag(label: &ExportLabel, key: &str) -> u8 {
    match label.attributes.get(key) {
        Some(serde_json::Value::Bool(true)) => 1,
        Some(v) if v.as_f64().is_some_and(|f| f != 0.0) => 1,
        _ => 0,
    }
}

fn write_item(
    w: &mut dyn Write,
    item: &ExportItem,
    stats: &mut ExportStats,
) -> Result<(), FormatError> {
    let (folder, filename) = match item.media_path.rsplit_once('/') {
        Some((dir, file)) => (dir, file),
        None => ("", item.media_path.as_str()),
    };
    let (width, height) = (item.width.unwrap_or(0), item.height.unwrap_or(0));
    writeln!(w, "<annotation>")?;
    writeln!(w, "\t<folder>{}</folder>", xml_escape(folder))?;
    writeln!(w, "\t<filename>{}</filename>", xml_escape(filename))?;
    writeln!(w, "\t<size>")?;
    writeln!(w, "\t\t<width>{width}</width>")?;
    writeln!(w, "\t\t<height>{height}</height>")?;
    writeln!(w, "\t\t<depth>3</depth>")?;
    writeln!(w, "\t</size>")?;
    writeln!(w, "\t<segmented>0</segmented>")?;
    for label in &item.labels {
        let g = &label.geometry;
        let b = match g.outline() {
            Outline::Rect(b) => b,
            // VOC has boxes only: other areas are written as their bounds.
            Outline::Closed(_) => match g.bounds() {
                Some(b) => {
                    stats.skip(&format!(
                        "{} written as its bounding box",
                        g.tool().as_str()
                    ));
                    b
                }
                None => {
                    stats.skip(&format!("{} without points", g.tool().as_str()));
                    continue;
                }
            },
            Outline::Open(_) | Outline::Dots(_) | Outline::Nothing => {
                stats.skip(&inexpressible(g, "VOC"));
                continue;
            }
        };
        let pose = label
            .attributes
            .get("pose")
            .and_then(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or("Unspecified");
        let [xmin, ymin, xmax, ymax] = voc_box(&b, width, height);
        writeln!(w, "\t<object>")?;
        writeln!(w, "\t\t<name>{}</name>", xml_escape(&label.class))?;
        writeln!(w, "\t\t<pose>{}</pose>", xml_escape(pose))?;
        writeln!(w, "\t\t<truncated>{}</truncated>", flag(label, "truncated"))?;
        writeln!(w, "\t\t<difficult>{}</difficult>", flag(label, "difficult"))?;
        writeln!(w, "\t\t<bndbox>")?;
        writeln!(w, "\t\t\t<xmin>{xmin}</xmin>")?;
        writeln!(w, "\t\t\t<ymin>{ymin}</ymin>")?;
        writeln!(w, "\t\t\t<xmax>{xmax}</xmax>")?;
        writeln!(w, "\t\t\t<ymax>{ymax}</ymax>")?;
        writeln!(w, "\t\t</bndbox>")?;
        writeln!(w, "\t</object>")?;
        stats.labels += 1;
    }
    writeln!(w, "</annotation>")?;
    Ok(())
}

impl Exporter for VocExporter {
    fn name(&self) -> &'static str {
        "voc"
    }
    fn description(&self) -> &'static str {
        "Pascal VOC XML (images): one Annotations/<name>.xml per image, boxes (polygons as boxes)"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        &[ItemKind::Image]
    }
    fn export(
        &self,
        _schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        let mut stats = ExportStats::default();
        // One stem per image: needed for uniqueness and the image set list.
        let mut used = HashSet::new();
        let mut stems = Vec::new();
        for_each_of_kind(self, items, |item| {
            let stem = unique_stem(&mut used, &item.media_path, item.id);
            write_file(out, &format!("Annotations/{stem}.xml"), |w| {
                write_item(w, item, &mut stats)
            })?;
            stems.push(stem);
            stats.items += 1;
            Ok(())
        })?;
        write_file(out, "ImageSets/Main/default.txt", |w| {
            for s in &stems {
                writeln!(w, "{s}")?;
            }
            Ok(())
        })?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_five_and_drops_control_characters() {
        assert_eq!(
            xml_escape("a&b<c>d\"e'f\u{1}g"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f\u{FFFD}g"
        );
        assert_eq!(xml_escape("café 日本"), "café 日本");
    }

    #[test]
    fn boxes_use_one_based_inclusive_pixels() {
        let b = |x, y, w, h| BBox { x, y, w, h };
        // Whole pixels: xmin = x + 1, xmax = x + w.
        assert_eq!(
            voc_box(&b(10.0, 20.0, 30.0, 40.0), 100, 100),
            [11, 21, 40, 60]
        );
        // The full image is 1..=width.
        assert_eq!(voc_box(&b(0.0, 0.0, 100.0, 50.0), 100, 50), [1, 1, 100, 50]);
        // Fractions: pixels whose centres are inside (10.4 → pixel 10 0-based,
        // centre 10.5 inside; 10.6 → centre 10.5 outside, starts at 11).
        assert_eq!(voc_box(&b(10.4, 10.6, 5.0, 5.0), 0, 0), [11, 12, 15, 16]);
        // A sliver still covers one pixel; overshoot is clamped.
        assert_eq!(voc_box(&b(5.1, 5.1, 0.2, 0.2), 10, 10), [6, 6, 6, 6]);
        assert_eq!(voc_box(&b(-3.0, 8.0, 20.0, 20.0), 10, 10), [1, 9, 10, 10]);
    }

    #[test]
    fn stems_are_unique() {
        let mut used = HashSet::new();
        assert_eq!(unique_stem(&mut used, "images/a.b.jpg", 1), "a.b");
        assert_eq!(unique_stem(&mut used, "other/a.b.png", 2), "a.b_2");
        assert_eq!(unique_stem(&mut used, ".hidden", 3), "hidden");
    }
}
