//! What every exporter does the same way, said once: which items it covers
//! (and how the others are counted), the text of a text item, writing an
//! export file through a buffer, and JSON into a stream. A format module
//! keeps only what is its own: its layout and its coordinate conversion.

use std::io::{BufWriter, Write};

use serde::Serialize;

use super::{ExportItem, ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{Geometry, ItemKind, Medium};

/// Every item kind, for the formats that hold them all.
pub(crate) const ALL_KINDS: &[ItemKind] = &[ItemKind::Image, ItemKind::Audio, ItemKind::Text];

/// Runs `each` on every item of a kind `exporter` covers; every other item
/// is counted as left out, so the export summary says why it is missing.
pub(crate) fn for_each_covered<E: Exporter + ?Sized>(
    exporter: &E,
    items: &dyn ItemSource,
    stats: &mut ExportStats,
    mut each: impl FnMut(&ExportItem, &mut ExportStats) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    items.for_each(&mut |item| {
        if exporter.kinds().contains(&item.kind) {
            return each(item, stats);
        }
        stats.skip(&format!(
            "{} item (not covered by {})",
            item.kind.as_str(),
            exporter.name()
        ));
        Ok(())
    })
}

/// Runs `each` on every item of a kind `exporter` covers and counts
/// nothing: for a pass after the one that counted (and for the image
/// formats, which leave other kinds out without counting them).
pub(crate) fn for_each_of_kind<E: Exporter + ?Sized>(
    exporter: &E,
    items: &dyn ItemSource,
    mut each: impl FnMut(&ExportItem) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    items.for_each(&mut |item| {
        if exporter.kinds().contains(&item.kind) {
            each(item)
        } else {
            Ok(())
        }
    })
}

/// The text of a text item; an item without it is counted as skipped
/// (`None`).
pub(crate) fn text_of<'a>(item: &'a ExportItem, stats: &mut ExportStats) -> Option<&'a str> {
    let text = item.text.as_deref();
    if text.is_none() {
        stats.skip("text item without its text");
    }
    text
}

/// Writes the export file `path`: `write` fills it through a buffer (the
/// sink may hash or encrypt per write call, so small writes would each cost
/// a call), then the buffer is flushed — explicitly, so a late write error
/// is returned rather than lost when the buffer is dropped.
pub(crate) fn write_file<T>(
    out: &mut dyn FileSink,
    path: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<T, FormatError>,
) -> Result<T, FormatError> {
    let mut w = BufWriter::new(out.file(path)?);
    let done = write(&mut w)?;
    w.flush()?;
    Ok(done)
}

/// The shape most exporters have: one file, `path` ([`write_file`]), with
/// what `each` writes into it for every item the exporter covers
/// ([`for_each_covered`]). Returns the counts `each` kept.
pub(crate) fn export_file<E: Exporter + ?Sized>(
    exporter: &E,
    items: &dyn ItemSource,
    out: &mut dyn FileSink,
    path: &str,
    mut each: impl FnMut(&mut dyn Write, &ExportItem, &mut ExportStats) -> Result<(), FormatError>,
) -> Result<ExportStats, FormatError> {
    let mut stats = ExportStats::default();
    write_file(out, path, |w| {
        for_each_covered(exporter, items, &mut stats, |item, stats| {
            each(w, item, stats)
        })
    })?;
    Ok(stats)
}

/// Writes any serialisable value as JSON into the stream; failing to is a
/// write error.
pub(crate) fn put_json<T: Serialize + ?Sized>(w: &mut dyn Write, v: &T) -> Result<(), FormatError> {
    serde_json::to_writer(w, v).map_err(|e| FormatError::Io(std::io::Error::other(e)))
}

/// A value as one line of a JSON Lines file.
pub(crate) fn put_json_line<T: Serialize + ?Sized>(
    w: &mut dyn Write,
    v: &T,
) -> Result<(), FormatError> {
    put_json(w, v)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// A value as the next element of a JSON array being streamed, one per
/// line: the first after a line break, the others after `,` and one.
pub(crate) fn put_json_element<T: Serialize + ?Sized>(
    w: &mut dyn Write,
    first: bool,
    v: &T,
) -> Result<(), FormatError> {
    w.write_all(if first { b"\n" } else { b",\n" })?;
    put_json(w, v)
}

/// Why an image format skips a label it has no encoding for: the kind by
/// name for image shapes and tags (`polylines cannot be expressed in
/// VOC`), else that it is not image geometry. Exporters end their match in
/// this, so a new kind of label is skipped with a message there instead of
/// each exporter naming it.
pub(crate) fn inexpressible(g: &Geometry, format: &str) -> String {
    if g.medium() == Medium::Image || *g == Geometry::Tag {
        format!("{} cannot be expressed in {format}", g.tool().plural())
    } else {
        "not image geometry".to_string()
    }
}

/// Calls `each` with every element of a top-level JSON array, parsed one at
/// a time, so memory holds one element (a Label Studio task) and what was
/// made of the ones before, never the whole document as a tree: 50,000
/// tasks with 250,000 boxes took 728 MiB as one `Value`. Any other root
/// (one task written as an object) is returned whole instead.
pub fn for_each_json_element(
    input: &[u8],
    each: &mut dyn FnMut(usize, serde_json::Value),
) -> Result<Option<serde_json::Value>, serde_json::Error> {
    use serde::Deserializer as _;
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return serde_json::from_slice(input).map(Some);
    }
    let mut de = serde_json::Deserializer::from_slice(input);
    de.deserialize_seq(Elements(each))?;
    de.end()?;
    Ok(None)
}

struct Elements<'f>(&'f mut dyn FnMut(usize, serde_json::Value));

impl<'de> serde::de::Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while let Some(element) = seq.next_element::<serde_json::Value>()? {
            (self.0)(n, element);
            n += 1;
        }
        Ok(())
    }
}
