//! Praat TextGrid: `textgrid`, one `<media stem>.TextGrid` per recording in
//! Praat's long ("full") text format, the form Praat itself writes with
//! *Save as text file* (see Praat's manual page "TextGrid file formats"):
//!
//! ```text
//! File type = "ooTextFile"
//! Object class = "TextGrid"
//!
//! xmin = 0
//! xmax = 2.5
//! tiers? <exists>
//! size = 1
//! item []:
//!     item [1]:
//!         class = "IntervalTier"
//!         name = "speech"
//!         xmin = 0
//!         xmax = 2.5
//!         intervals: size = 2
//!         intervals [1]:
//!             xmin = 0
//!             xmax = 1
//!             text = ""
//!         intervals [2]:
//!             xmin = 1
//!             xmax = 2.5
//!             text = "hello"
//! ```
//!
//! Praat also writes a space after each value and after `tiers? <exists>`
//! and `item []:` (left out above), and so does this exporter, byte for byte
//! like Praat; its reader does not care, and line-based readers strip it.
//!
//! Conventions:
//! - Tiers are per **class**, not per speaker: every class that has a
//!   segment anywhere in the export gets an IntervalTier named after it, in
//!   schema order (classes the schema no longer lists follow, by name), in
//!   every file — so tier *n* means the same in every TextGrid of an export.
//!   The `speaker` attribute is not used for tiers (WebVTT and asr-jsonl
//!   carry it).
//! - Interval text is the segment's transcript. An interval tier must tile
//!   `[xmin, xmax]` without gaps, so gaps are filled with empty-text
//!   intervals; a segment with an empty transcript therefore looks like a
//!   gap except for its boundaries (TextGrid has no other way to say it).
//! - A tier cannot hold overlapping intervals. Overlapping segments of one
//!   class go into extra tiers `"<class> 2"`, `"<class> 3"`, … (first-fit:
//!   each segment, in start order, into the first tier where it fits),
//!   appended after all the per-class tiers so those keep their numbers.
//!   Nothing is dropped; each segment moved to an extra tier is counted in
//!   [`ExportStats::skipped`] as `overlapping segment (moved to an extra
//!   tier)`.
//! - `xmin` is 0 and `xmax` the recording's duration, or the last segment's
//!   end if that is later (validation allows 1 ms of slack) or the duration
//!   is unknown; every tier spans the same range.
//! - Times are written as the shortest decimal that reads back to the same
//!   `f64` (no exponent), so boundaries survive exactly; touching segments
//!   share the boundary value.
//! - Strings are in double quotes with `"` doubled (`""`), Praat's only
//!   escape; newlines in transcripts are written as they are, as Praat does
//!   for multi-line texts. Files are UTF-8 without a BOM, which Praat reads.
//! - Recordings without a duration or segments (`xmax` would be 0) and
//!   exports with no segment at all (no tiers to write) produce no file and
//!   are counted.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::audio_manifest::{OutputNames, Seg, audio_segments};
use super::common::{for_each_covered, for_each_of_kind};
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(TextGridExporter)]
}

/// The `textgrid` exporter.
pub struct TextGridExporter;

/// One interval of a tier: `[xmin, xmax]` and its text.
#[derive(Clone, Debug, PartialEq)]
struct Interval<'a> {
    xmin: f64,
    xmax: f64,
    text: &'a str,
}

impl Exporter for TextGridExporter {
    fn name(&self) -> &'static str {
        "textgrid"
    }
    fn description(&self) -> &'static str {
        "Praat TextGrid (long text format): one file per recording, an interval tier per class, transcripts as interval text"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        &[ItemKind::Audio]
    }
    fn export(
        &self,
        schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        // Pass 1: which classes have segments at all, so every file gets the
        // same tiers (only class names are kept).
        let mut used = BTreeSet::new();
        for_each_of_kind(self, items, |item| {
            let mut ignore = ExportStats::default();
            for s in audio_segments(item, self.name(), &mut ignore) {
                used.insert(s.label.class.clone());
            }
            Ok(())
        })?;
        let mut tiers: Vec<String> = schema
            .classes
            .iter()
            .filter(|c| used.remove(&c.name))
            .map(|c| c.name.clone())
            .collect();
        // Classes no longer in the schema (renamed/removed since labelling).
        tiers.extend(used);

        let mut stats = ExportStats::default();
        let mut names = OutputNames::default();
        for_each_covered(self, items, &mut stats, |item, stats| {
            let segments = audio_segments(item, self.name(), stats);
            let last_end = segments.iter().map(|s| s.end).fold(0.0, f64::max);
            let duration = item
                .duration_secs
                .filter(|d| d.is_finite() && *d > 0.0)
                .unwrap_or(0.0);
            let xmax = duration.max(last_end);
            if xmax <= 0.0 {
                stats.skip("audio item without a duration or segments (no TextGrid)");
                return Ok(());
            }
            if tiers.is_empty() {
                stats.skip("audio item in an export without segments (no tiers, no TextGrid)");
                return Ok(());
            }
            let text = render(&tiers, &segments, xmax, stats);
            let path = names.name_for(item, "TextGrid");
            out.file(&path)?.write_all(text.as_bytes())?;
            stats.items += 1;
            stats.labels += segments.len();
            Ok(())
        })?;
        Ok(stats)
    }
}

/// The whole file for one recording.
fn render(tiers: &[String], segments: &[Seg<'_>], xmax: f64, stats: &mut ExportStats) -> String {
    // (tier name, intervals): the per-class tiers first, overflow after.
    let mut main: Vec<(String, Vec<Interval<'_>>)> = Vec::new();
    let mut extra: Vec<(String, Vec<Interval<'_>>)> = Vec::new();
    for class in tiers {
        let layers = layer(segments.iter().filter(|s| &s.label.class == class));
        if layers.is_empty() {
            // No segment of this class here: a tier of one empty interval.
            main.push((class.clone(), tile(&[], xmax)));
        }
        for (n, layer) in layers.into_iter().enumerate() {
            let tiled = tile(&layer, xmax);
            if n == 0 {
                main.push((class.clone(), tiled));
            } else {
                for _ in &layer {
                    stats.skip("overlapping segment (moved to an extra tier)");
                }
                extra.push((format!("{class} {}", n + 1), tiled));
            }
        }
    }
    main.extend(extra);

    let x = num(xmax);
    let mut s = String::new();
    // `write!` into a String cannot fail; the results are ignored.
    let _ = write!(
        s,
        "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0 \nxmax = {x} \ntiers? <exists> \nsize = {} \nitem []: \n",
        main.len()
    );
    for (i, (name, intervals)) in main.iter().enumerate() {
        let _ = write!(
            s,
            "    item [{}]:\n        class = \"IntervalTier\" \n        name = {} \n        xmin = 0 \n        xmax = {x} \n        intervals: size = {} \n",
            i + 1,
            quote(name),
            intervals.len()
        );
        for (j, iv) in intervals.iter().enumerate() {
            let _ = write!(
                s,
                "        intervals [{}]:\n            xmin = {} \n            xmax = {} \n            text = {} \n",
                j + 1,
                num(iv.xmin),
                num(iv.xmax),
                quote(iv.text)
            );
        }
    }
    s
}

/// Splits time-sorted segments into layers of non-overlapping ones,
/// first-fit: each goes into the first layer whose last segment ends at or
/// before its start (touching is not overlapping). Layer 0 keeps every
/// segment when none overlap.
fn layer<'a, 'b>(segments: impl Iterator<Item = &'b Seg<'a>>) -> Vec<Vec<Seg<'a>>>
where
    'a: 'b,
{
    let mut layers: Vec<Vec<Seg<'a>>> = Vec::new();
    for s in segments {
        let slot = layers
            .iter_mut()
            .find(|l| l.last().is_none_or(|last| last.end <= s.start));
        match slot {
            Some(l) => l.push(*s),
            None => layers.push(vec![*s]),
        }
    }
    layers
}

/// Non-overlapping, time-sorted segments as intervals tiling `[0, xmax]`:
/// empty intervals fill the gaps before, between and after them.
fn tile<'a>(segments: &[Seg<'a>], xmax: f64) -> Vec<Interval<'a>> {
    let mut out = Vec::with_capacity(segments.len() * 2 + 1);
    let mut at = 0.0;
    for s in segments {
        if s.start > at {
            out.push(Interval {
                xmin: at,
                xmax: s.start,
                text: "",
            });
        }
        out.push(Interval {
            xmin: s.start,
            xmax: s.end,
            text: s.transcript,
        });
        at = s.end;
    }
    if at < xmax || out.is_empty() {
        out.push(Interval {
            xmin: at,
            xmax,
            text: "",
        });
    }
    out
}

/// A time as Praat reads it: Rust's `Display` for `f64` is the shortest
/// decimal that reads back to the same value, never in exponent form
/// (`0`, `2.5`, `0.0000001`).
fn num(x: f64) -> String {
    format!("{x}")
}

/// A Praat string literal: double quotes, `"` doubled.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn praat_strings_double_their_quotes() {
        assert_eq!(quote(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn numbers_round_trip_without_exponents() {
        for x in [0.0, 2.5, 1e-7, 1.0 / 3.0, 12345.678901234567, 1e21] {
            let s = num(x);
            assert!(!s.contains('e'), "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), x);
        }
        assert_eq!(num(0.0), "0");
        assert_eq!(num(3.0), "3");
    }
}
