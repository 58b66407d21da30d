//! WebVTT subtitles: `webvtt`, one `<media stem>.vtt` per recording
//! (W3C "WebVTT: The Web Video Text Tracks Format"):
//!
//! ```text
//! WEBVTT
//!
//! speech 1
//! 00:00:01.250 --> 00:00:03.750
//! <v Alice>Fish &amp; chips
//!
//! ```
//!
//! Conventions:
//! - One cue per segment, ordered by start time (then end, then label id):
//!   the spec requires cues in start order. Overlapping segments are fine —
//!   WebVTT shows overlapping cues together — so nothing is dropped for it.
//! - Cue identifier: `<class> <n>`, the segment's class and the cue's
//!   1-based number in the file. Identifiers must be unique in a file and
//!   the number makes them so (it is the text after the last space) while
//!   the class stays readable. Line breaks in a class name become spaces,
//!   and `-->` (which would make the line a timing line) becomes `->`,
//!   counted in [`ExportStats::skipped`].
//! - Timestamps `HH:MM:SS.mmm` (hours grow past 99 if needed), each rounded
//!   to the *nearest* millisecond (halves away from zero), so they are
//!   within 0.5 ms of the stored times. A segment shorter than that
//!   rounding (start and end land on the same millisecond) cannot be a cue,
//!   whose end must be after its start: it is counted and left out.
//! - Cue text is the transcript with `&`, `<`, `>` escaped as `&amp;`,
//!   `&lt;`, `&gt;`. Escaping `>` also means the text can never contain
//!   `-->` (it becomes `--&gt;`, which players show as `-->`), so no
//!   transcript has to be altered for that. Blank lines would end the cue,
//!   so line breaks (CR, LF, CRLF) are kept but empty and whitespace-only
//!   lines are dropped: runs of newlines collapse to one.
//! - When the label has a `speaker` attribute the text starts with a voice
//!   span, `<v Speaker>`, the speaker escaped the same way and line breaks
//!   in it turned into spaces (the end tag may be left out when the span
//!   covers the whole cue).
//! - Every recording gets a file, a header-only one when it has no
//!   segments, so a player finds a (possibly empty) track for each.
//!   Files are UTF-8 (required by the spec) with LF line ends.

use std::fmt::Write as _;

use super::audio_manifest::{OutputNames, audio_segments};
use super::common::for_each_covered;
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(WebVtt)]
}

/// The `webvtt` exporter.
pub struct WebVtt;

impl Exporter for WebVtt {
    fn name(&self) -> &'static str {
        "webvtt"
    }
    fn description(&self) -> &'static str {
        "WebVTT subtitles: one .vtt per recording, a cue per segment with its transcript and speaker voice"
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
        let mut stats = ExportStats::default();
        let mut names = OutputNames::default();
        for_each_covered(self, items, &mut stats, |item, stats| {
            let mut cues: Vec<_> = audio_segments(item, self.name(), stats)
                .into_iter()
                .filter_map(|s| {
                    let (start, end) = (millis(s.start), millis(s.end));
                    if end > start {
                        Some((start, end, s))
                    } else {
                        stats.skip("segment shorter than the millisecond rounding");
                        None
                    }
                })
                .collect();
            // Rounding keeps the order but makes ties (segments within one
            // millisecond); sort on the written values so the file is in
            // order by what it says.
            cues.sort_by_key(|(start, end, s)| (*start, *end, s.label.id));

            let mut text = String::from("WEBVTT\n\n");
            // `write!` into a String cannot fail; the results are ignored.
            for (n, (start, end, s)) in cues.iter().enumerate() {
                let class = one_line(&s.label.class);
                let id = if class.is_empty() {
                    (n + 1).to_string()
                } else {
                    format!("{class} {}", n + 1)
                };
                if id.contains("-->") {
                    stats.skip("'-->' in a class name (written as '->' in the cue id)");
                }
                let _ = writeln!(text, "{}", id.replace("-->", "->"));
                let _ = writeln!(text, "{} --> {}", timestamp(*start), timestamp(*end));
                let speaker = s
                    .label
                    .attributes
                    .get("speaker")
                    .and_then(|v| match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(one_line(s)),
                        other => Some(other.to_string()),
                    })
                    .filter(|v| !v.is_empty());
                if let Some(v) = speaker {
                    let _ = write!(text, "<v {}>", escape(&v));
                }
                let _ = write!(text, "{}\n\n", cue_text(s.transcript));
            }
            let path = names.name_for(item, "vtt");
            out.file(&path)?.write_all(text.as_bytes())?;
            stats.items += 1;
            stats.labels += cues.len();
            Ok(())
        })?;
        Ok(stats)
    }
}

/// Seconds to whole milliseconds, nearest (halves away from zero). Times
/// are checked finite and non-negative before this; the cast saturates.
fn millis(secs: f64) -> u64 {
    (secs * 1000.0).round() as u64
}

/// `HH:MM:SS.mmm`, hours at least two digits.
fn timestamp(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}.{ms:03}")
}

/// The three characters WebVTT cue text (and span annotations) must escape.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A transcript as cue text: escaped, line breaks kept but never a blank
/// line (which would end the cue early).
fn cue_text(transcript: &str) -> String {
    let lines: Vec<String> = transcript
        .split("\r\n")
        .flat_map(|l| l.split(['\r', '\n']))
        .filter(|l| !l.trim().is_empty())
        .map(escape)
        .collect();
    lines.join("\n")
}

/// Line breaks to spaces, trimmed: for identifiers and voice names, which
/// must stay on one line.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_to_the_nearest_millisecond() {
        assert_eq!(timestamp(millis(0.0)), "00:00:00.000");
        assert_eq!(timestamp(millis(1.2344)), "00:00:01.234");
        assert_eq!(timestamp(millis(1.2346)), "00:00:01.235");
        assert_eq!(timestamp(millis(3661.0005)), "01:01:01.001");
        assert_eq!(timestamp(millis(360_000.0)), "100:00:00.000");
    }

    #[test]
    fn cue_text_is_escaped_and_has_no_blank_lines() {
        assert_eq!(cue_text("a & b <i> -->"), "a &amp; b &lt;i&gt; --&gt;");
        assert_eq!(cue_text("one\r\n\r\n  \ntwo\rthree\n"), "one\ntwo\nthree");
        assert_eq!(one_line(" Ann\r\nLee "), "Ann Lee");
    }
}
