//! CoNLL token tags: `conll-bio` and `conll-bilou`, the column format of
//! the CoNLL-2003 NER task, for text items' spans.
//!
//! One file, `dataset.conll`, in the single-file CoNLL-2003 layout: every
//! document (text item, in export order) starts with the line
//! `-DOCSTART- -X- -X- O` and a blank line; then one token per line as
//! `token<TAB>tag`; a blank line ends each sentence.
//!
//! ```text
//! -DOCSTART- -X- -X- O
//!
//! Jane→B-PERSON
//! Doe→I-PERSON
//! signed.→O
//!
//! ```
//!
//! (`→` stands for the tab.)
//!
//! Conventions:
//! - **Tokens** are maximal runs of characters that are neither Unicode
//!   whitespace nor control characters, further cut at span boundaries so
//!   every span starts and ends on a token boundary (`Alice's` with a span
//!   on `Alice` becomes `Alice` + `'s`). Punctuation is not split off
//!   otherwise — simple, predictable, and enough to recover every span
//!   exactly. Tokens therefore never contain a tab, newline or space.
//! - **Tags**: `conll-bio` writes `B-<class>` on a span's first token,
//!   `I-<class>` on the rest and `O` outside spans (IOB2). `conll-bilou`
//!   writes `U-<class>` for a one-token span, else `B-`, `I-`…, `L-`.
//!   Whitespace in class names becomes `_`, since readers split columns on
//!   whitespace.
//! - **Sentences** end after a token ending in `.`, `!`, `?`, `。`, `！` or
//!   `？` that is followed by whitespace (or the end of the text), and where
//!   the text has a blank line (two or more line breaks) between tokens —
//!   but never inside a span, which would cut an entity in two. This is a
//!   heuristic: abbreviations (`Mr.`) end sentences too.
//! - **Spans** are Unicode scalar (char) offsets into `item.text`, as the
//!   project stores them. Leading and trailing whitespace inside a span is
//!   trimmed (tokens cannot hold it); a span of only whitespace, or outside
//!   the text, is skipped and counted.
//! - **Overlaps**: a token has one tag, so overlapping or nested spans
//!   cannot all be written. Spans are taken outermost-first — earliest
//!   start, then longest — and any span overlapping one already taken is
//!   skipped and counted in [`ExportStats::skipped`].
//! - Document classes (tags) and relations have no place in CoNLL; they are
//!   counted as skipped (`spacy-jsonl` and `doc-classes-csv` carry tags).
//!   Documents carry no ids — CoNLL-2003 has none; they are in export order.
//!   A text whose line starts with the token `-DOCSTART-` would look like a
//!   document break to readers; it is written as is (rare, and changing
//!   the text would break offsets).
//!
//! The span rules (checking, trimming, overlap resolution) are shared with
//! `spacy-jsonl` through [`resolve_spans`].

use super::common::{export_file, text_of};
use super::{ExportItem, ExportLabel, ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{Geometry, ItemKind, Schema};

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![
        Box::new(Conll {
            scheme: Scheme::Bio,
        }),
        Box::new(Conll {
            scheme: Scheme::Bilou,
        }),
    ]
}

/// The tagging scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// IOB2: B-, I-, O.
    Bio,
    /// B-, I-, L-, U-, O.
    Bilou,
}

/// The `conll-bio` / `conll-bilou` exporter.
pub struct Conll {
    pub scheme: Scheme,
}

/// The line that starts each document (CoNLL-2003).
pub const DOCSTART: &str = "-DOCSTART- -X- -X- O";

impl Exporter for Conll {
    fn name(&self) -> &'static str {
        match self.scheme {
            Scheme::Bio => "conll-bio",
            Scheme::Bilou => "conll-bilou",
        }
    }
    fn description(&self) -> &'static str {
        match self.scheme {
            Scheme::Bio => {
                "CoNLL-2003 style token<TAB>tag file with BIO (IOB2) tags for text spans; whitespace tokens"
            }
            Scheme::Bilou => {
                "CoNLL-2003 style token<TAB>tag file with BILOU tags for text spans; whitespace tokens"
            }
        }
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
        export_file(self, items, out, "dataset.conll", |w, item, stats| {
            let Some(text) = text_of(item, stats) else {
                return Ok(());
            };
            for label in &item.labels {
                if !matches!(label.geometry, Geometry::Span { .. }) {
                    stats.skip(&format!(
                        "{} label on text ({} holds spans only)",
                        label.geometry.tool().as_str(),
                        self.name()
                    ));
                }
            }
            let chars: Vec<char> = text.chars().collect();
            let spans = resolve_spans(item, &chars, stats);
            w.write_all(document(&chars, &spans, self.scheme).as_bytes())?;
            stats.items += 1;
            stats.labels += spans.len();
            Ok(())
        })
    }
}

/// A span checked against its text: char offsets, end-exclusive, trimmed
/// of surrounding whitespace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextSpan<'a> {
    pub label: &'a ExportLabel,
    pub start: usize,
    pub end: usize,
}

/// The item's spans as the span formats write them: inside the text,
/// trimmed of leading/trailing whitespace, sorted by start, and without
/// overlaps — outermost-first (earliest start, then longest, then lowest
/// label id); every dropped span is counted with its reason.
pub(crate) fn resolve_spans<'a>(
    item: &'a ExportItem,
    chars: &[char],
    stats: &mut ExportStats,
) -> Vec<TextSpan<'a>> {
    let mut spans = Vec::new();
    for label in &item.labels {
        let Geometry::Span { start, end, .. } = label.geometry else {
            continue;
        };
        let (Ok(mut start), Ok(mut end)) = (usize::try_from(start), usize::try_from(end)) else {
            stats.skip("span outside the text");
            continue;
        };
        if start >= end || end > chars.len() {
            stats.skip("span outside the text");
            continue;
        }
        while start < end && chars[start].is_whitespace() {
            start += 1;
        }
        while end > start && chars[end - 1].is_whitespace() {
            end -= 1;
        }
        if start == end {
            stats.skip("span of only whitespace");
            continue;
        }
        spans.push(TextSpan { label, start, end });
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.label.id));
    let mut kept: Vec<TextSpan<'a>> = Vec::with_capacity(spans.len());
    for s in spans {
        if kept.last().is_some_and(|k| s.start < k.end) {
            stats.skip("overlapping or nested span (one entity per character)");
        } else {
            kept.push(s);
        }
    }
    kept
}

/// Characters that separate tokens: Unicode whitespace, and control
/// characters, which some readers (Python's `str.split`) also split on.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// Tokens as char ranges: runs of non-separators, cut at span boundaries.
/// `spans` must be sorted and non-overlapping.
fn tokenise(chars: &[char], spans: &[TextSpan<'_>]) -> Vec<(usize, usize)> {
    let mut cuts = Vec::with_capacity(spans.len() * 2);
    for s in spans {
        cuts.push(s.start);
        cuts.push(s.end);
    }
    let mut next_cut = cuts.iter().copied().peekable();
    let mut tokens = Vec::new();
    let mut open: Option<usize> = None;
    for (i, &c) in chars.iter().enumerate() {
        while next_cut.next_if(|&k| k < i).is_some() {}
        let cut_here = next_cut.next_if_eq(&i).is_some();
        if is_separator(c) {
            if let Some(s) = open.take() {
                tokens.push((s, i));
            }
            continue;
        }
        match open {
            Some(s) if cut_here => {
                tokens.push((s, i));
                open = Some(i);
            }
            Some(_) => {}
            None => open = Some(i),
        }
    }
    if let Some(s) = open {
        tokens.push((s, chars.len()));
    }
    tokens
}

/// A class name usable as a tag: no whitespace, which would split columns.
fn tag_class(class: &str) -> String {
    class
        .chars()
        .map(|c| if is_separator(c) { '_' } else { c })
        .collect()
}

/// One document: the `-DOCSTART-` line, then its sentences.
fn document(chars: &[char], spans: &[TextSpan<'_>], scheme: Scheme) -> String {
    let tokens = tokenise(chars, spans);
    let mut out = format!("{DOCSTART}\n\n");
    let mut k = 0; // the first span that may contain the current token
    for (n, &(ts, te)) in tokens.iter().enumerate() {
        while k < spans.len() && spans[k].end <= ts {
            k += 1;
        }
        // Tokens are cut at span boundaries, so a token that starts inside
        // a span also ends inside it.
        let inside = spans.get(k).filter(|s| s.start <= ts);
        let (tag, mid_span) = match inside {
            None => ("O".to_string(), false),
            Some(s) => {
                let (first, last) = (ts == s.start, te == s.end);
                let prefix = match (scheme, first, last) {
                    (Scheme::Bio, true, _) => "B",
                    (Scheme::Bio, false, _) => "I",
                    (Scheme::Bilou, true, true) => "U",
                    (Scheme::Bilou, true, false) => "B",
                    (Scheme::Bilou, false, true) => "L",
                    (Scheme::Bilou, false, false) => "I",
                };
                (format!("{prefix}-{}", tag_class(&s.label.class)), !last)
            }
        };
        out.extend(&chars[ts..te]);
        out.push('\t');
        out.push_str(&tag);
        out.push('\n');

        let next_start = tokens.get(n + 1).map_or(chars.len(), |t| t.0);
        let end_of_doc = n + 1 == tokens.len();
        let gap = &chars[te..next_start];
        let followed_by_space = te == chars.len() || gap.first().is_some_and(|c| is_separator(*c));
        // `te > ts`: tokens are never empty.
        let sentence_end =
            followed_by_space && matches!(chars[te - 1], '.' | '!' | '?' | '。' | '！' | '？');
        if end_of_doc || (!mid_span && (sentence_end || line_breaks(gap) >= 2)) {
            out.push('\n');
        }
    }
    out
}

/// Line breaks in a gap between tokens (CRLF counts once).
fn line_breaks(gap: &[char]) -> usize {
    gap.iter()
        .enumerate()
        .filter(|&(i, &c)| c == '\n' || (c == '\r' && gap.get(i + 1) != Some(&'\n')))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn span(id: i64, class: &str, start: u64, end: u64) -> ExportLabel {
        ExportLabel {
            id,
            class_id: 1,
            class: class.into(),
            geometry: Geometry::Span {
                start,
                end,
                byte_start: 0,
                byte_end: 0,
            },
            attributes: BTreeMap::new(),
            created_by: "fp".into(),
            source: None,
            score: None,
        }
    }

    fn item(text: &str, labels: Vec<ExportLabel>) -> ExportItem {
        ExportItem {
            id: 1,
            kind: ItemKind::Text,
            name: "t.txt".into(),
            format: "txt".into(),
            sha256: String::new(),
            width: None,
            height: None,
            duration_secs: None,
            char_len: Some(text.chars().count() as u64),
            status: "new".into(),
            media_path: "t.txt".into(),
            text: Some(text.into()),
            labels,
        }
    }

    fn doc(text: &str, labels: Vec<ExportLabel>, scheme: Scheme) -> (String, ExportStats) {
        let it = item(text, labels);
        let chars: Vec<char> = text.chars().collect();
        let mut stats = ExportStats::default();
        let spans = resolve_spans(&it, &chars, &mut stats);
        (document(&chars, &spans, scheme), stats)
    }

    #[test]
    fn tokens_are_cut_at_span_boundaries() {
        let (out, _) = doc("Alice's  café", vec![span(1, "P", 0, 5)], Scheme::Bio);
        assert_eq!(out, format!("{DOCSTART}\n\nAlice\tB-P\n's\tO\ncafé\tO\n\n"));
    }

    #[test]
    fn bilou_tags_and_sentence_breaks() {
        let (out, _) = doc(
            "Mr. Jane Q. Doe left. Bye!\n\nNew para",
            vec![span(1, "first name", 4, 15), span(2, "X", 32, 36)],
            Scheme::Bilou,
        );
        let want = "Mr.\tO\n\nJane\tB-first_name\nQ.\tI-first_name\nDoe\tL-first_name\nleft.\tO\n\nBye!\tO\n\nNew\tO\npara\tU-X\n\n";
        assert_eq!(out, format!("{DOCSTART}\n\n{want}"));
    }

    #[test]
    fn overlaps_keep_the_outermost_and_spans_are_trimmed() {
        let it = item(
            " ab cd ef",
            vec![span(1, "A", 3, 6), span(2, "B", 0, 6), span(3, "C", 6, 7)],
        );
        let chars: Vec<char> = " ab cd ef".chars().collect();
        let mut stats = ExportStats::default();
        let spans = resolve_spans(&it, &chars, &mut stats);
        assert_eq!(
            spans.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
            vec![(1, 6)]
        );
        assert_eq!(
            stats.skipped["overlapping or nested span (one entity per character)"],
            1
        );
        assert_eq!(stats.skipped["span of only whitespace"], 1);
    }
}
