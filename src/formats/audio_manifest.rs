//! ASR manifest: `asr-jsonl`, the JSON Lines manifest NeMo and ESPnet-style
//! recipes train speech recognisers from.
//!
//! One file, `manifest.jsonl`, with one line per *segment* (not per
//! recording), fields in this order:
//!
//! ```json
//! {"audio_filepath":"media/000007_call.wav","offset":1.25,"duration":2.5,
//!  "text":"hello","label":"speech","speaker":"Alice","item_id":7}
//! ```
//!
//! Conventions:
//! - `audio_filepath` is the item's `media_path` (relative to the export).
//! - `offset` is the segment start and `duration` is `end - start`, both in
//!   seconds as plain `f64`s written by serde_json (shortest text that reads
//!   back to the same `f64`, so nothing is rounded). `duration` is computed
//!   in `f64`, so `offset + duration` may differ from the stored end in the
//!   last bit; consumers needing the end exactly should use TextGrid.
//! - `text` is the transcript verbatim (JSON escaping keeps newlines,
//!   quotes and any Unicode); `label` is the segment's class name.
//! - `speaker` is the label's `speaker` attribute as stored (usually a
//!   string), or `null` when it has none.
//! - Lines follow the export's item order, and within a recording the
//!   segments by start, then end, then label id — deterministic output.
//! - Recordings with no (valid) segments are left out: a manifest line needs
//!   a time range. They are counted in [`ExportStats::skipped`], as are
//!   non-segment labels (tags on recordings), segments with impossible
//!   times, and items that are not audio.
//!
//! This module also holds the helpers the other audio formats (TextGrid,
//! WebVTT) share: reading an item's segments and naming per-item files.

use std::collections::HashSet;

use serde::Serialize;

use super::common::{export_file, put_json_line};
use super::{
    ExportItem, ExportLabel, ExportStats, Exporter, FileSink, FormatError, ItemSource,
    safe_file_name,
};
use crate::model::{ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(AsrJsonl)]
}

/// The `asr-jsonl` exporter.
pub struct AsrJsonl;

/// One manifest line; a struct (not a `json!` map) so the keys keep the
/// documented order.
#[derive(Serialize)]
struct Line<'a> {
    audio_filepath: &'a str,
    offset: f64,
    duration: f64,
    text: &'a str,
    label: &'a str,
    speaker: Option<&'a serde_json::Value>,
    item_id: i64,
}

impl Exporter for AsrJsonl {
    fn name(&self) -> &'static str {
        "asr-jsonl"
    }
    fn description(&self) -> &'static str {
        "ASR manifest (NeMo/ESPnet JSONL): one line per audio segment with offset, duration, transcript, class and speaker"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        &[ItemKind::Audio]
    }
    fn export(
        &self,
        _schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        export_file(self, items, out, "manifest.jsonl", |w, item, stats| {
            let segments = audio_segments(item, self.name(), stats);
            if segments.is_empty() {
                stats.skip("audio item without segments (left out of asr-jsonl)");
                return Ok(());
            }
            for s in &segments {
                let line = Line {
                    audio_filepath: &item.media_path,
                    offset: s.start,
                    duration: s.end - s.start,
                    text: s.transcript,
                    label: &s.label.class,
                    speaker: s.label.attributes.get("speaker").filter(|v| !v.is_null()),
                    item_id: item.id,
                };
                put_json_line(w, &line)?;
                stats.labels += 1;
            }
            stats.items += 1;
            Ok(())
        })
    }
}

/// A segment of a recording with checked times.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seg<'a> {
    pub label: &'a ExportLabel,
    pub start: f64,
    pub end: f64,
    pub transcript: &'a str,
}

/// The item's segments with usable times, sorted by start, end, label id.
/// Other labels and impossible times (non-finite, negative, empty) are
/// counted as skipped: the store validates times, but an export must not
/// write `NaN` or a negative duration whatever it is fed.
pub(crate) fn audio_segments<'a>(
    item: &'a ExportItem,
    format: &str,
    stats: &mut ExportStats,
) -> Vec<Seg<'a>> {
    let mut out = Vec::new();
    for label in &item.labels {
        let g = &label.geometry;
        match (g.time_range(), g.transcript()) {
            (Some((start, end)), Some(transcript)) => {
                if start.is_finite() && end.is_finite() && start >= 0.0 && end > start {
                    out.push(Seg {
                        label,
                        // `+ 0.0` turns a -0.0 into 0.0 (which prints as "0").
                        start: start + 0.0,
                        end,
                        transcript,
                    });
                } else {
                    stats.skip("segment with impossible times");
                }
            }
            // Anything not placed in time, whatever kind it is.
            _ => stats.skip(&format!(
                "{} label on audio ({format} holds segments only)",
                g.tool().as_str()
            )),
        }
    }
    out.sort_by(|a, b| {
        a.start
            .total_cmp(&b.start)
            .then(a.end.total_cmp(&b.end))
            .then(a.label.id.cmp(&b.label.id))
    });
    out
}

/// Names per-item files `<media stem>.<ext>`, unique within one export.
///
/// The stem is the media file name without its extension, made safe with
/// [`safe_file_name`]. Two recordings with the same stem (same name in
/// different folders) would overwrite each other, so a repeat gets the item
/// id appended (`call_42.vtt`). Names are compared case-insensitively
/// because exports are unpacked on macOS and Windows too. Only the names are
/// kept, never the items.
#[derive(Default)]
pub(crate) struct OutputNames {
    used: HashSet<String>,
}

impl OutputNames {
    pub fn name_for(&mut self, item: &ExportItem, ext: &str) -> String {
        let base = item
            .media_path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&item.media_path);
        // Strip the last extension, but keep a name that is only an
        // extension (".wav") rather than making it empty.
        let stem = match base.rsplit_once('.') {
            Some((s, _)) if !s.is_empty() => s,
            _ => base,
        };
        let stem = safe_file_name(stem);
        let mut name = format!("{stem}.{ext}");
        let mut n = 1;
        while !self.used.insert(name.to_lowercase()) {
            name = if n == 1 {
                format!("{stem}_{}.{ext}", item.id)
            } else {
                format!("{stem}_{}_{n}.{ext}", item.id)
            };
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::MemorySink;
    use crate::model::Geometry;
    use std::collections::BTreeMap;

    fn seg(id: i64, start: f64, end: f64, text: &str, speaker: Option<&str>) -> ExportLabel {
        let mut attributes = BTreeMap::new();
        if let Some(s) = speaker {
            attributes.insert("speaker".to_string(), serde_json::json!(s));
        }
        ExportLabel {
            id,
            class_id: 1,
            class: "speech".into(),
            geometry: Geometry::Segment {
                start_secs: start,
                end_secs: end,
                transcript: text.into(),
            },
            attributes,
            created_by: "fp".into(),
            source: None,
            score: None,
        }
    }

    fn audio(id: i64, path: &str, labels: Vec<ExportLabel>) -> ExportItem {
        ExportItem {
            id,
            kind: ItemKind::Audio,
            name: path.into(),
            format: "wav".into(),
            sha256: String::new(),
            width: None,
            height: None,
            duration_secs: Some(10.0),
            char_len: None,
            status: "approved".into(),
            media_path: path.into(),
            text: None,
            labels,
        }
    }

    fn schema() -> Schema {
        Schema {
            version: 1,
            classes: vec![],
            multi_label_tags: false,
            overlapping_spans: false,
            overlapping_segments: true,
        }
    }

    #[test]
    fn lines_are_per_segment_in_time_order_with_exact_times() {
        let items = [
            audio(
                1,
                "media/a.wav",
                vec![
                    seg(2, 1.1, 2.3, "second", None),
                    seg(1, 0.1, 0.2, "first", Some("Bob")),
                ],
            ),
            audio(2, "media/empty.wav", vec![]),
        ];
        let mut sink = MemorySink::default();
        let stats = AsrJsonl.export(&schema(), &items, &mut sink).unwrap();
        let text = String::from_utf8(sink.get("manifest.jsonl").unwrap().to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"audio_filepath":"media/a.wav","offset":0.1,"duration":0.1,"text":"first","label":"speech","speaker":"Bob","item_id":1}"#
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["offset"].as_f64(), Some(1.1));
        // 2.3 - 1.1 in f64 is 1.1999999999999997: written exactly as
        // computed (checked on the text: serde_json's default float parser
        // may read it back one ulp off).
        assert!(lines[1].contains(r#""duration":1.1999999999999997,"#));
        assert!(second["speaker"].is_null());
        assert_eq!(lines.len(), 2);
        assert_eq!((stats.items, stats.labels), (1, 2));
        assert_eq!(
            stats.skipped["audio item without segments (left out of asr-jsonl)"],
            1
        );
    }

    #[test]
    fn output_names_are_unique_case_insensitively() {
        let mut names = OutputNames::default();
        assert_eq!(
            names.name_for(&audio(1, "a/Call.wav", vec![]), "vtt"),
            "Call.vtt"
        );
        assert_eq!(
            names.name_for(&audio(2, "b/call.flac", vec![]), "vtt"),
            "call_2.vtt"
        );
        assert_eq!(names.name_for(&audio(3, ".wav", vec![]), "vtt"), "wav.vtt");
        assert_eq!(
            names.name_for(&audio(4, "x/Zoë: 1?.tar.gz", vec![]), "vtt"),
            "Zoë_ 1_.tar.vtt"
        );
    }
}
