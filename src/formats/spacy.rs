//! spaCy training JSONL: `spacy-jsonl`, the spaCy v2 "simple training
//! format" written one JSON object per line (as `spacy convert`, Prodigy
//! and most NER tools read it):
//!
//! ```json
//! {"text":"Jane lives in Köln","entities":[[0,4,"PERSON"],[14,18,"CITY"]],
//!  "cats":{"contract":1.0},"meta":{"item_id":3,"name":"docs/a.txt"}}
//! ```
//!
//! One file, `spacy.jsonl`, one line per text item, keys in this order.
//!
//! Conventions:
//! - `entities` are `[start, end, label]` with **char offsets** (Unicode
//!   scalar values, end-exclusive) — the project's own unit and exactly
//!   what Python's `str` indexes, so `text[start:end]` is the entity. Sorted
//!   by start. Leading/trailing whitespace is trimmed from spans (spaCy
//!   rejects entities that start or end on whitespace).
//! - spaCy's `doc.ents` cannot overlap, so overlapping or nested spans are
//!   resolved as in CoNLL: outermost-first (earliest start, then longest),
//!   the others skipped and counted in [`ExportStats::skipped`].
//! - `cats` holds the item's document classes (tags) as `{class: 1.0}`;
//!   classes the item is not tagged with are left out rather than written
//!   as `0.0` (the schema does not say which classes are document classes,
//!   so a full list would be a guess). Always present, `{}` when untagged.
//! - `meta` identifies the item: `item_id` and its imported `name`.
//! - Relations have no place in this format and are counted as skipped.
//!   Items without text, and non-text items, are left out and counted.
//!
//! No doccano-style variant (`"label": [[s, e, l]]`) is written: it differs
//! only in the key name.

use std::collections::BTreeMap;

use serde::Serialize;

use super::common::{export_file, put_json_line, text_of};
use super::conll::resolve_spans;
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{Geometry, ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(SpacyJsonl)]
}

/// The `spacy-jsonl` exporter.
pub struct SpacyJsonl;

/// One line; a struct so keys keep the documented order.
#[derive(Serialize)]
struct Line<'a> {
    text: &'a str,
    entities: Vec<(usize, usize, &'a str)>,
    cats: BTreeMap<&'a str, f64>,
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct Meta<'a> {
    item_id: i64,
    name: &'a str,
}

impl Exporter for SpacyJsonl {
    fn name(&self) -> &'static str {
        "spacy-jsonl"
    }
    fn description(&self) -> &'static str {
        "spaCy training JSONL: text, entities as char offsets, document classes as cats"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        &[ItemKind::Text]
    }
    fn export(
        &self,
        _schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        export_file(self, items, out, "spacy.jsonl", |w, item, stats| {
            let Some(text) = text_of(item, stats) else {
                return Ok(());
            };
            let mut cats = BTreeMap::new();
            for label in &item.labels {
                match label.geometry {
                    Geometry::Span { .. } => {}
                    Geometry::Tag => {
                        if cats.insert(label.class.as_str(), 1.0).is_none() {
                            stats.labels += 1;
                        } else {
                            stats.skip("repeated tag of the same class");
                        }
                    }
                    // Every other kind, named: spaCy has no place for it.
                    ref other => stats.skip(&format!(
                        "{} label on text (spacy-jsonl holds spans and tags)",
                        other.tool().as_str()
                    )),
                }
            }
            let chars: Vec<char> = text.chars().collect();
            let spans = resolve_spans(item, &chars, stats);
            stats.labels += spans.len();
            let line = Line {
                text,
                entities: spans
                    .iter()
                    .map(|s| (s.start, s.end, s.label.class.as_str()))
                    .collect(),
                cats,
                meta: Meta {
                    item_id: item.id,
                    name: &item.name,
                },
            };
            put_json_line(w, &line)?;
            stats.items += 1;
            Ok(())
        })
    }
}
