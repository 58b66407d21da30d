//! Document classes as CSV: `doc-classes-csv`, one row per item and class
//! it is tagged with, for training classifiers (pandas, spreadsheets):
//!
//! ```text
//! item_id,name,class
//! 3,docs/contract.txt,contract
//! 3,docs/contract.txt,signed
//! 9,"photos/a, b.jpg",cat
//! ```
//!
//! One file, `document_classes.csv`.
//!
//! Conventions:
//! - Every item kind: tags (whole-item classes) exist on images, audio and
//!   text alike, so all are written — "document" is the text case.
//! - One row per (item, class): a class tagged twice on one item is one row
//!   (the repeat counted in [`ExportStats::skipped`]); classes in the order
//!   they were labelled. Items without tags have no row (nothing is lost).
//! - `name` is the item's imported name; `class` the class name.
//! - RFC 4180 via the `csv` crate: comma separated, CRLF line ends, fields
//!   quoted only when they contain a comma, quote or line break, quotes
//!   doubled. UTF-8 without a BOM, so Unicode names survive (Excel needs
//!   *Data → From Text* with UTF-8 to show them right; a BOM would break
//!   other readers).
//! - Values are written as they are: no spreadsheet-formula neutering
//!   (prefixing `'` to `=`…), which would change the data for every other
//!   reader.
//! - Labels other than tags (boxes, segments, spans, …) are counted as
//!   skipped, by tool.

use super::common::{ALL_KINDS, for_each_covered};
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{Geometry, ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(DocClassesCsv)]
}

/// The `doc-classes-csv` exporter.
pub struct DocClassesCsv;

fn csv_error(e: csv::Error) -> FormatError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => FormatError::Io(e),
        other => FormatError::Invalid(format!("writing CSV failed: {other:?}")),
    }
}

impl Exporter for DocClassesCsv {
    fn name(&self) -> &'static str {
        "doc-classes-csv"
    }
    fn description(&self) -> &'static str {
        "CSV of item_id, name, class: one row per item and tag class (all item kinds)"
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
        // The csv writer buffers internally.
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(out.file("document_classes.csv")?);
        w.write_record(["item_id", "name", "class"])
            .map_err(csv_error)?;
        for_each_covered(self, items, &mut stats, |item, stats| {
            let mut written: Vec<&str> = Vec::new();
            for label in &item.labels {
                if label.geometry != Geometry::Tag {
                    stats.skip(&format!(
                        "{} label (doc-classes-csv holds tags only)",
                        label.geometry.tool().as_str()
                    ));
                    continue;
                }
                if written.contains(&label.class.as_str()) {
                    stats.skip("repeated tag of the same class");
                    continue;
                }
                w.write_record([item.id.to_string().as_str(), &item.name, &label.class])
                    .map_err(csv_error)?;
                written.push(&label.class);
                stats.labels += 1;
            }
            if !written.is_empty() {
                stats.items += 1;
            }
            Ok(())
        })?;
        w.flush()?;
        Ok(stats)
    }
}
