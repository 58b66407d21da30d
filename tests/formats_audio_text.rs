//! The audio and text exporters against their specifications: asr-jsonl,
//! textgrid, webvtt, conll-bio/-bilou, spacy-jsonl and doc-classes-csv.
//!
//! Items are built in memory and exported into a `MemorySink`. TextGrid and
//! CoNLL are compared with golden files written by hand from the format
//! specs (`tests/fixtures/formats/audio_text/`, whose README explains every
//! value); the others with hand-computed values. Each output is then read
//! back with a small independent reader written here (serde_json, the csv
//! crate, a WebVTT cue parser, a TextGrid long-format parser, a CoNLL
//! reader that re-aligns tokens to the text) to show that times, offsets
//! and Unicode text (emoji, CJK, combining marks, quotes, commas, newlines)
//! survive each format's quoting.

use std::collections::BTreeMap;

use sealtag::formats::{self, ExportItem, ExportLabel, ExportStats, MemorySink};
use sealtag::model::{Geometry, ItemKind, LabelClass, Schema, default_tools};
use serde_json::{Value, json};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/formats/audio_text"
);
const TEXT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/text");

// ---------------------------------------------------------------- helpers

fn schema() -> Schema {
    let class = |id: i64, name: &str| LabelClass {
        id,
        name: name.into(),
        colour: "#ff0000".into(),
        hotkey: None,
        tools: default_tools(),
        attributes: vec![],
        skeleton: None,
    };
    Schema {
        version: 1,
        classes: vec![class(1, "speech"), class(2, "noise"), class(3, "music")],
        multi_label_tags: true,
        overlapping_spans: true,
        overlapping_segments: true,
    }
}

fn label(id: i64, class: &str, geometry: Geometry) -> ExportLabel {
    ExportLabel {
        id,
        class_id: id,
        class: class.into(),
        geometry,
        attributes: BTreeMap::new(),
        created_by: "fp".into(),
        source: None,
        score: None,
    }
}

fn seg(id: i64, class: &str, start: f64, end: f64, text: &str) -> ExportLabel {
    label(
        id,
        class,
        Geometry::Segment {
            start_secs: start,
            end_secs: end,
            transcript: text.into(),
        },
    )
}

fn with_speaker(mut l: ExportLabel, speaker: &str) -> ExportLabel {
    l.attributes.insert("speaker".into(), json!(speaker));
    l
}

fn span(id: i64, class: &str, start: u64, end: u64) -> ExportLabel {
    label(
        id,
        class,
        Geometry::Span {
            start,
            end,
            byte_start: 0,
            byte_end: 0,
        },
    )
}

fn tag(id: i64, class: &str) -> ExportLabel {
    label(id, class, Geometry::Tag)
}

fn item(id: i64, kind: ItemKind, name: &str, labels: Vec<ExportLabel>) -> ExportItem {
    ExportItem {
        id,
        kind,
        name: name.into(),
        format: name.rsplit('.').next().unwrap_or("").into(),
        sha256: format!("{id:064}"),
        width: (kind == ItemKind::Image).then_some(640),
        height: (kind == ItemKind::Image).then_some(480),
        duration_secs: (kind == ItemKind::Audio).then_some(5.0),
        char_len: None,
        status: "approved".into(),
        media_path: format!("media/{name}"),
        text: None,
        labels,
    }
}

fn text_item(id: i64, name: &str, text: &str, labels: Vec<ExportLabel>) -> ExportItem {
    let mut i = item(id, ItemKind::Text, name, labels);
    i.char_len = Some(text.chars().count() as u64);
    i.text = Some(text.into());
    i
}

/// Runs the exporter registered as `name` (so the registry is tested too).
fn export(name: &str, items: Vec<ExportItem>) -> (MemorySink, ExportStats) {
    let exporter = formats::exporter(name).unwrap_or_else(|| panic!("{name} is registered"));
    let mut sink = MemorySink::default();
    let stats = exporter.export(&schema(), &items, &mut sink).unwrap();
    (sink, stats)
}

fn file(sink: &MemorySink, path: &str) -> String {
    let names: Vec<&str> = sink.files.iter().map(|(p, _)| p.as_str()).collect();
    let bytes = sink
        .get(path)
        .unwrap_or_else(|| panic!("{path} not among {names:?}"));
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{GOLDEN}/{name}")).unwrap()
}

fn skipped(stats: &ExportStats, why: &str) -> usize {
    stats.skipped.get(why).copied().unwrap_or(0)
}

// ------------------------------------------------------------- registry

#[test]
fn every_format_is_registered_with_its_item_kinds() {
    let want: [(&str, &[ItemKind]); 7] = [
        ("asr-jsonl", &[ItemKind::Audio]),
        ("textgrid", &[ItemKind::Audio]),
        ("webvtt", &[ItemKind::Audio]),
        ("conll-bio", &[ItemKind::Text]),
        ("conll-bilou", &[ItemKind::Text]),
        ("spacy-jsonl", &[ItemKind::Text]),
        (
            "doc-classes-csv",
            &[ItemKind::Image, ItemKind::Audio, ItemKind::Text],
        ),
    ];
    for (name, kinds) in want {
        let e = formats::exporter(name).unwrap();
        assert_eq!(e.kinds(), kinds, "{name}");
        assert!(!e.description().is_empty());
    }
}

// ------------------------------------------------------------ asr-jsonl

#[test]
fn asr_manifest_has_a_line_per_segment_with_exact_times() {
    let items = vec![
        item(
            1,
            ItemKind::Audio,
            "通话 📞.wav",
            vec![
                seg(2, "speech", 0.1 + 0.2, 2.3, "second \"quoted\",\nline"),
                with_speaker(seg(1, "speech", 0.0, 0.25, "こんにちは 👋"), "Zoë"),
                tag(3, "good"),
            ],
        ),
        item(2, ItemKind::Audio, "silence.wav", vec![tag(4, "empty")]),
        item(3, ItemKind::Image, "a.jpg", vec![]),
    ];
    let (sink, stats) = export("asr-jsonl", items);
    assert_eq!(sink.files.len(), 1);
    let text = file(&sink, "manifest.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    // Hand-written: key order as documented, times as f64, Unicode as is.
    assert_eq!(
        lines[0],
        r#"{"audio_filepath":"media/通话 📞.wav","offset":0.0,"duration":0.25,"text":"こんにちは 👋","label":"speech","speaker":"Zoë","item_id":1}"#
    );
    let second: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(
        second,
        json!({
            "audio_filepath": "media/通话 📞.wav",
            "offset": 0.30000000000000004,
            "duration": second["duration"],
            "text": "second \"quoted\",\nline",
            "label": "speech",
            "speaker": null,
            "item_id": 1
        })
    );
    // Full precision: the text is the shortest decimal of the very f64
    // (read with `str::parse`, which rounds correctly; serde_json's default
    // float parser may be off by one ulp).
    assert!(lines[1].contains(r#""offset":0.30000000000000004,"#));
    assert!(lines[1].contains(r#""duration":1.9999999999999998,"#));
    assert_eq!(
        "1.9999999999999998".parse::<f64>().unwrap(),
        2.3 - (0.1 + 0.2)
    );
    assert_eq!((stats.items, stats.labels), (1, 2));
    assert_eq!(
        skipped(
            &stats,
            "audio item without segments (left out of asr-jsonl)"
        ),
        1
    );
    assert_eq!(
        skipped(&stats, "tag label on audio (asr-jsonl holds segments only)"),
        2
    );
    assert_eq!(skipped(&stats, "image item (not covered by asr-jsonl)"), 1);
}

#[test]
fn asr_manifest_leaves_out_impossible_times() {
    let items = vec![item(
        1,
        ItemKind::Audio,
        "a.wav",
        vec![
            seg(1, "speech", f64::NAN, 1.0, "x"),
            seg(2, "speech", 2.0, 1.0, "x"),
            seg(3, "speech", -0.0, 1.0, "ok"),
        ],
    )];
    let (sink, stats) = export("asr-jsonl", items);
    let text = file(&sink, "manifest.jsonl");
    assert_eq!(text.lines().count(), 1);
    // -0.0 is written as 0.0, never "-0.0".
    assert!(text.contains(r#""offset":0.0,"#), "{text}");
    assert_eq!(skipped(&stats, "segment with impossible times"), 2);
}

// ------------------------------------------------------------- textgrid

/// The recording of `golden.TextGrid` (see the fixture README).
fn golden_recording() -> ExportItem {
    item(
        7,
        ItemKind::Audio,
        "000007_Zoë interview.wav",
        vec![
            with_speaker(seg(12, "speech", 1.75, 3.0, "こんにちは 👋"), "Bob"),
            with_speaker(seg(11, "speech", 0.5, 1.75, "Hello \"there\", Zoë"), "Ann"),
            seg(13, "speech", 2.5, 4.0, "overlap,\nsecond line"),
            seg(14, "noise", 0.1 + 0.2, 0.6, "[door]"),
            seg(15, "noise", 4.5, 5.0, ""),
            tag(16, "good"),
        ],
    )
}

#[test]
fn textgrid_matches_the_hand_written_golden_file() {
    let silent = item(8, ItemKind::Audio, "silent.flac", vec![]);
    let (sink, stats) = export("textgrid", vec![golden_recording(), silent]);
    assert_eq!(
        file(&sink, "000007_Zoë interview.TextGrid"),
        golden("golden.TextGrid")
    );
    // A recording without segments still gets the export's tiers, empty.
    let tg = parse_textgrid(&file(&sink, "silent.TextGrid"));
    assert_eq!(tg.xmax, 5.0);
    let names: Vec<&str> = tg.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["speech", "noise"]);
    assert!(
        tg.tiers
            .iter()
            .all(|t| t.intervals == [(0.0, 5.0, String::new())])
    );
    assert_eq!((stats.items, stats.labels), (2, 5));
    assert_eq!(
        skipped(&stats, "overlapping segment (moved to an extra tier)"),
        1
    );
    assert_eq!(
        skipped(&stats, "tag label on audio (textgrid holds segments only)"),
        1
    );
}

#[test]
fn textgrid_intervals_parse_back_exactly_and_tile_the_recording() {
    let awkward = [
        (1.0 / 3.0, 2.0 / 3.0),
        (2.0 / 3.0, 1.1 + 2.2),
        (1.1 + 2.2, 4.000_000_000_000_001),
    ];
    let mut labels: Vec<ExportLabel> = awkward
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| seg(i as i64, "speech", s, e, "a \"b\" ,\r\nc \"\""))
        .collect();
    // Three mutually overlapping noise segments need three tiers.
    labels.push(seg(10, "noise", 0.0, 3.0, "n1"));
    labels.push(seg(11, "noise", 1.0, 4.0, "n2"));
    labels.push(seg(12, "noise", 2.0, 5.0, "n3"));
    labels.push(seg(13, "noise", 3.0, 5.0, "n4")); // fits after n1
    let mut rec = item(1, ItemKind::Audio, "rec.wav", labels.clone());
    rec.duration_secs = Some(4.9); // n3 ends later: xmax follows it
    let (sink, stats) = export("textgrid", vec![rec]);
    let tg = parse_textgrid(&file(&sink, "rec.TextGrid"));
    assert_eq!((tg.xmin, tg.xmax), (0.0, 5.0));
    let names: Vec<&str> = tg.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["speech", "noise", "noise 2", "noise 3"]);
    let mut found = Vec::new();
    for t in &tg.tiers {
        assert_eq!((t.xmin, t.xmax), (0.0, 5.0));
        // Tiling: starts at 0, each interval starts where the last ended.
        assert_eq!(t.intervals.first().unwrap().0, 0.0);
        assert_eq!(t.intervals.last().unwrap().1, 5.0);
        for w in t.intervals.windows(2) {
            assert_eq!(w[0].1.to_bits(), w[1].0.to_bits(), "{}", t.name);
        }
        for (s, e, text) in &t.intervals {
            if !text.is_empty() {
                found.push((s.to_bits(), e.to_bits(), text.clone()));
            }
        }
    }
    let mut want: Vec<_> = labels
        .iter()
        .map(|l| match &l.geometry {
            Geometry::Segment {
                start_secs,
                end_secs,
                transcript,
            } => (start_secs.to_bits(), end_secs.to_bits(), transcript.clone()),
            _ => unreachable!(),
        })
        .collect();
    found.sort();
    want.sort();
    assert_eq!(found, want, "every segment back, bit for bit");
    assert_eq!(
        skipped(&stats, "overlapping segment (moved to an extra tier)"),
        2
    );
}

#[derive(Debug)]
struct TextGrid {
    xmin: f64,
    xmax: f64,
    tiers: Vec<Tier>,
}

#[derive(Debug)]
struct Tier {
    name: String,
    xmin: f64,
    xmax: f64,
    intervals: Vec<(f64, f64, String)>,
}

/// A strict reader of Praat's long text format (interval tiers only): each
/// key must come in the order the spec gives; strings may span lines and
/// use `""` for a quote.
fn parse_textgrid(s: &str) -> TextGrid {
    struct P<'a> {
        s: &'a str,
    }
    impl P<'_> {
        fn key(&mut self, key: &str) {
            self.s = self.s.trim_start();
            assert!(
                self.s.starts_with(key),
                "expected {key:?} at {:?}",
                &self.s[..self.s.len().min(40)]
            );
            self.s = &self.s[key.len()..];
        }
        fn word(&mut self) -> &str {
            self.s = self.s.trim_start();
            let end = self.s.find(char::is_whitespace).unwrap_or(self.s.len());
            let (w, rest) = self.s.split_at(end);
            self.s = rest;
            w
        }
        fn num(&mut self, key: &str) -> f64 {
            self.key(key);
            self.word().parse().unwrap()
        }
        fn string(&mut self, key: &str) -> String {
            self.key(key);
            self.key("\"");
            let mut out = String::new();
            let mut chars = self.s.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if self.s[i + 1..].starts_with('"') {
                        out.push('"');
                        chars.next();
                    } else {
                        self.s = &self.s[i + 1..];
                        return out;
                    }
                } else {
                    out.push(c);
                }
            }
            panic!("unterminated string");
        }
    }
    let mut p = P { s };
    assert_eq!(p.string("File type ="), "ooTextFile");
    assert_eq!(p.string("Object class ="), "TextGrid");
    let xmin = p.num("xmin =");
    let xmax = p.num("xmax =");
    p.key("tiers? <exists>");
    let n = p.num("size =") as usize;
    p.key("item []:");
    let mut tiers = Vec::new();
    for i in 1..=n {
        p.key(&format!("item [{i}]:"));
        assert_eq!(p.string("class ="), "IntervalTier");
        let name = p.string("name =");
        let (txmin, txmax) = (p.num("xmin ="), p.num("xmax ="));
        let m = p.num("intervals: size =") as usize;
        let mut intervals = Vec::new();
        for j in 1..=m {
            p.key(&format!("intervals [{j}]:"));
            let (a, b) = (p.num("xmin ="), p.num("xmax ="));
            intervals.push((a, b, p.string("text =")));
        }
        tiers.push(Tier {
            name,
            xmin: txmin,
            xmax: txmax,
            intervals,
        });
    }
    assert!(p.s.trim().is_empty(), "trailing text {:?}", p.s);
    TextGrid { xmin, xmax, tiers }
}

// --------------------------------------------------------------- webvtt

#[test]
fn webvtt_cues_are_escaped_rounded_and_voiced() {
    let rec = item(
        3,
        ItemKind::Audio,
        "calls/Zoë 通话 📞.wav",
        vec![
            with_speaker(
                seg(2, "speech", 1.2345, 3.9996, "Fish & <chips> --> ok"),
                "Ann <A&B>",
            ),
            seg(1, "speech", 0.0, 1.0, "line one\n\n\r\nline two"),
            seg(3, "noise", 3661.0005, 3662.0, "こんにちは 👋"),
            seg(4, "noise", 4.0, 4.0004, "too short"),
            tag(5, "good"),
        ],
    );
    let (sink, stats) = export("webvtt", vec![rec]);
    let vtt = file(&sink, "Zoë 通话 📞.vtt");
    let want = "WEBVTT\n\n\
speech 1\n00:00:00.000 --> 00:00:01.000\nline one\nline two\n\n\
speech 2\n00:00:01.235 --> 00:00:04.000\n<v Ann &lt;A&amp;B&gt;>Fish &amp; &lt;chips&gt; --&gt; ok\n\n\
noise 3\n01:01:01.001 --> 01:01:02.000\nこんにちは 👋\n\n";
    assert_eq!(vtt, want);
    // `-->` only on timing lines (the transcript's became `--&gt;`).
    for line in vtt.lines().filter(|l| l.contains("-->")) {
        assert_eq!(line.len(), "00:00:00.000 --> 00:00:00.000".len(), "{line}");
    }
    assert_eq!((stats.items, stats.labels), (1, 3));
    assert_eq!(
        skipped(&stats, "segment shorter than the millisecond rounding"),
        1
    );
    assert_eq!(
        skipped(&stats, "tag label on audio (webvtt holds segments only)"),
        1
    );
}

#[test]
fn webvtt_cue_ids_never_look_like_timing_lines() {
    let rec = item(
        1,
        ItemKind::Audio,
        "a.wav",
        vec![seg(1, "a-->b\nc", 0.0, 1.0, "x"), seg(2, "", 1.0, 2.0, "y")],
    );
    let (sink, stats) = export("webvtt", vec![rec]);
    assert_eq!(
        file(&sink, "a.vtt"),
        "WEBVTT\n\na->b c 1\n00:00:00.000 --> 00:00:01.000\nx\n\n2\n00:00:01.000 --> 00:00:02.000\ny\n\n"
    );
    assert_eq!(
        skipped(
            &stats,
            "'-->' in a class name (written as '->' in the cue id)"
        ),
        1
    );
}

#[test]
fn webvtt_times_and_texts_read_back_within_half_a_millisecond() {
    let texts = [
        "plain",
        "a & b < c > d",
        "multi\nline",
        "quote \" comma , emoji 👩‍💻",
        "e\u{301}",
    ];
    let mut labels = Vec::new();
    let mut t = 0.0;
    for i in 0..200 {
        // Irregular times, some overlapping the previous cue.
        let start = t + (i as f64 * 0.618_033_988_7) % 0.9;
        let end = start + 0.0137 * (i % 7 + 1) as f64;
        t = start + 0.25;
        let mut l = seg(i, "speech", start, end, texts[i as usize % texts.len()]);
        if i % 3 == 0 {
            l = with_speaker(l, "Zoë");
        }
        labels.push(l);
    }
    let mut rec = item(1, ItemKind::Audio, "long.wav", labels.clone());
    rec.duration_secs = Some(t + 10.0);
    let (sink, stats) = export("webvtt", vec![rec]);
    assert_eq!(stats.labels, 200);
    let cues = parse_vtt(&file(&sink, "long.vtt"));
    assert_eq!(cues.len(), 200);
    for w in cues.windows(2) {
        assert!(w[0].start <= w[1].start, "cues in start order");
    }
    for l in &labels {
        let Geometry::Segment {
            start_secs,
            end_secs,
            transcript,
        } = &l.geometry
        else {
            unreachable!()
        };
        let cue = cues
            .iter()
            .find(|c| (c.start - start_secs).abs() <= 0.0005 && (c.end - end_secs).abs() <= 0.0005)
            .unwrap_or_else(|| panic!("cue for {start_secs}–{end_secs}"));
        assert_eq!(&cue.text, transcript);
        let speaker = l
            .attributes
            .get("speaker")
            .map(|v| v.as_str().unwrap().to_string());
        assert_eq!(cue.speaker, speaker);
        assert!(cue.id.starts_with("speech "));
    }
}

#[derive(Debug)]
struct Cue {
    id: String,
    start: f64,
    end: f64,
    speaker: Option<String>,
    text: String,
}

/// A WebVTT reader for what the exporter writes: header, then blocks of
/// identifier, timing line and text separated by blank lines.
fn parse_vtt(s: &str) -> Vec<Cue> {
    let body = s.strip_prefix("WEBVTT\n\n").expect("header");
    let time = |t: &str| -> f64 {
        let (hms, ms) = t.split_once('.').unwrap();
        assert_eq!(ms.len(), 3);
        let parts: Vec<f64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2] + ms.parse::<f64>().unwrap() / 1000.0
    };
    let unescape = |t: &str| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    body.split_terminator("\n\n")
        .map(|block| {
            let mut lines = block.splitn(3, '\n');
            let id = lines.next().unwrap().to_string();
            let (a, b) = lines.next().unwrap().split_once(" --> ").unwrap();
            let mut text = lines.next().unwrap_or("").to_string();
            assert!(!text.contains("-->"), "cue text must not contain -->");
            let mut speaker = None;
            if let Some(rest) = text.strip_prefix("<v ") {
                let (v, t) = rest.split_once('>').unwrap();
                speaker = Some(unescape(v));
                text = t.to_string();
            }
            Cue {
                id,
                start: time(a),
                end: time(b),
                speaker,
                text: unescape(&text),
            }
        })
        .collect()
}

// ---------------------------------------------------------------- CoNLL

/// The documents of the CoNLL golden files (see the fixture README).
fn golden_documents() -> Vec<ExportItem> {
    let a = "Dr. Zoë Ångström met 東京都の田中太郎 at ACME™ Inc. 🎉\n\nShe paid Cafe\u{301} E\u{308}lan 5€.";
    let b = "Hi 👩\u{200d}💻Ann, see you!";
    vec![
        text_item(
            1,
            "docs/brief.txt",
            a,
            vec![
                span(1, "PERSON", 4, 16),
                span(2, "SURNAME", 8, 16),
                span(3, "PERSON", 25, 29),
                span(4, "ORG", 33, 43),
                span(5, "ORG", 33, 38),
                span(6, "place name", 55, 67),
                tag(7, "brief"),
            ],
        ),
        text_item(
            2,
            "notes/ß 2.txt",
            b,
            vec![
                span(8, "PERSON", 6, 9),
                span(9, "X", 8, 12),
                span(10, "MISC", 11, 18),
            ],
        ),
        text_item(3, "empty.txt", "", vec![]),
        item(4, ItemKind::Text, "no-text.txt", vec![]),
        item(5, ItemKind::Image, "a.jpg", vec![tag(11, "cat")]),
    ]
}

#[test]
fn conll_matches_the_hand_written_golden_files() {
    for (format, golden_file) in [
        ("conll-bio", "golden_bio.conll"),
        ("conll-bilou", "golden_bilou.conll"),
    ] {
        let (sink, stats) = export(format, golden_documents());
        assert_eq!(sink.files.len(), 1);
        assert_eq!(
            file(&sink, "dataset.conll"),
            golden(golden_file),
            "{format}"
        );
        assert_eq!((stats.items, stats.labels), (3, 6), "{format}");
        let why = "overlapping or nested span (one entity per character)";
        assert_eq!(skipped(&stats, why), 3, "{format}");
        assert_eq!(
            skipped(
                &stats,
                &format!("tag label on text ({format} holds spans only)")
            ),
            1
        );
        assert_eq!(skipped(&stats, "text item without its text"), 1);
        assert_eq!(
            skipped(&stats, &format!("image item (not covered by {format})")),
            1
        );
    }
}

/// One document read back: tokens with tags, sentence by sentence.
type Doc = Vec<Vec<(String, String)>>;

/// A CoNLL-2003 reader: `-DOCSTART-` lines start documents, blank lines end
/// sentences, other lines are `token<TAB>tag`.
fn read_conll(s: &str) -> Vec<Doc> {
    let mut docs: Vec<Doc> = Vec::new();
    let mut sentence = Vec::new();
    for line in s.split('\n') {
        if line.starts_with("-DOCSTART-") {
            assert_eq!(line, "-DOCSTART- -X- -X- O");
            docs.push(Vec::new());
        } else if line.is_empty() {
            if !sentence.is_empty() {
                docs.last_mut().unwrap().push(std::mem::take(&mut sentence));
            }
        } else {
            let (tok, tag) = line.split_once('\t').expect("token<TAB>tag");
            assert!(!tok.is_empty() && !tag.contains('\t'));
            sentence.push((tok.to_string(), tag.to_string()));
        }
    }
    assert!(sentence.is_empty(), "the file ends with a blank line");
    docs
}

/// Aligns a document's tokens to its text (skipping the separators the
/// exporter splits on) and decodes BIO or BILOU tags back into
/// (char start, char end, class) spans, checking the tag grammar.
fn decode(doc: &Doc, text: &str, bilou: bool) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let sep = |c: char| c.is_whitespace() || c.is_control();
    let mut at = 0;
    let mut spans = Vec::new();
    // (start, end so far, class) of the span being read.
    let mut open: Option<(usize, usize, String)> = None;
    for (tok, tag) in doc.iter().flatten() {
        while sep(chars[at]) {
            at += 1;
        }
        let tok: Vec<char> = tok.chars().collect();
        assert_eq!(&chars[at..at + tok.len()], &tok[..], "token at char {at}");
        let (start, end) = (at, at + tok.len());
        at = end;
        let (prefix, class) = tag.split_once('-').unwrap_or((tag.as_str(), ""));
        let class = class.to_string();
        match prefix {
            "O" | "B" | "U" => {
                if let Some((s, e, c)) = open.take() {
                    assert!(!bilou, "BILOU span not closed with L-");
                    spans.push((s, e, c));
                }
                match prefix {
                    "B" => open = Some((start, end, class)),
                    "U" => {
                        assert!(bilou, "U- in BIO");
                        spans.push((start, end, class));
                    }
                    _ => {}
                }
            }
            "I" => {
                let o = open.as_mut().expect("I- follows B- or I-");
                assert_eq!(o.2, class, "I- continues its class");
                o.1 = end;
            }
            "L" => {
                assert!(bilou, "L- in BIO");
                let (s, _, c) = open.take().expect("L- follows B- or I-");
                assert_eq!(c, class);
                spans.push((s, end, c));
            }
            other => panic!("tag prefix {other}"),
        }
    }
    if let Some((s, e, c)) = open.take() {
        assert!(!bilou, "BILOU span not closed with L-");
        spans.push((s, e, c));
    }
    assert!(chars[at..].iter().all(|&c| sep(c)), "every token written");
    spans
}

/// Expected spans the way the exporter promises to keep them: whitespace
/// trimmed, outermost-first without overlaps.
fn expected_spans(text: &str, spans: &[(usize, usize, String)]) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut v: Vec<_> = spans
        .iter()
        .map(|(s, e, c)| {
            let (mut s, mut e) = (*s, *e);
            while s < e && chars[s].is_whitespace() {
                s += 1;
            }
            while e > s && chars[e - 1].is_whitespace() {
                e -= 1;
            }
            (s, e, c.replace(char::is_whitespace, "_"))
        })
        .filter(|(s, e, _)| s < e)
        .collect();
    v.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
    let mut kept: Vec<(usize, usize, String)> = Vec::new();
    for x in v {
        if kept.last().is_none_or(|k| x.0 >= k.1) {
            kept.push(x);
        }
    }
    kept
}

/// The text fixtures: support chats with their PII spans (char offsets)
/// and the contract, as (name, text, spans).
/// (char start, char end, class) spans.
type Spans = Vec<(usize, usize, String)>;

fn fixture_documents() -> Vec<(String, String, Spans)> {
    let read = |f: &str| std::fs::read_to_string(format!("{TEXT}/{f}")).unwrap();
    let chats: Vec<Value> = read("support_chats.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth: Vec<Value> = read("pii_spans.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let spans_of = |t: &Value| -> Vec<(usize, usize, String)> {
        t["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["char_start"].as_u64().unwrap() as usize,
                    s["char_end"].as_u64().unwrap() as usize,
                    s["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let mut docs: Vec<_> = chats
        .iter()
        .zip(&truth)
        .map(|(c, t)| {
            assert_eq!(c["id"], t["id"]);
            (
                c["id"].as_str().unwrap().to_string(),
                c["text"].as_str().unwrap().to_string(),
                spans_of(t),
            )
        })
        .collect();
    let contract: Value = serde_json::from_str(&read("contract_pii_spans.json")).unwrap();
    docs.push((
        "contract.txt".into(),
        read("contract.txt"),
        spans_of(&contract),
    ));
    docs
}

fn fixture_items() -> Vec<ExportItem> {
    fixture_documents()
        .into_iter()
        .enumerate()
        .map(|(n, (name, text, spans))| {
            let labels = spans
                .iter()
                .enumerate()
                .map(|(k, (s, e, c))| span((n * 1000 + k) as i64, c, *s as u64, *e as u64))
                .collect();
            text_item(n as i64 + 1, &name, &text, labels)
        })
        .collect()
}

#[test]
fn conll_reads_back_to_the_exact_char_offsets_of_the_fixture_spans() {
    let docs = fixture_documents();
    let total: usize = docs.iter().map(|d| d.2.len()).sum();
    assert!(total > 294, "the chats' 294 spans and the contract's");
    for (format, bilou) in [("conll-bio", false), ("conll-bilou", true)] {
        let (sink, stats) = export(format, fixture_items());
        let read = read_conll(&file(&sink, "dataset.conll"));
        assert_eq!(read.len(), docs.len());
        let mut recovered = 0;
        for ((name, text, spans), doc) in docs.iter().zip(&read) {
            let want = expected_spans(text, spans);
            assert_eq!(decode(doc, text, bilou), want, "{format} {name}");
            // The fixture's spans neither overlap nor start/end on
            // whitespace, so every one comes back unchanged.
            let mut original: Vec<_> = spans.clone();
            original.sort();
            let mut got = want.clone();
            got.sort();
            assert_eq!(got, original, "{name}");
            recovered += want.len();
        }
        assert_eq!(recovered, total);
        assert_eq!(stats.labels, total);
        assert!(stats.skipped.is_empty(), "{:?}", stats.skipped);
    }
}

#[test]
fn conll_reads_back_unicode_spans_and_documents_its_losses() {
    for (format, bilou) in [("conll-bio", false), ("conll-bilou", true)] {
        let items = golden_documents();
        let (sink, _) = export(format, items.clone());
        let read = read_conll(&file(&sink, "dataset.conll"));
        let texts: Vec<&ExportItem> = items.iter().filter(|i| i.text.is_some()).collect();
        assert_eq!(read.len(), texts.len());
        for (it, doc) in texts.iter().zip(&read) {
            let text = it.text.as_deref().unwrap();
            let spans: Vec<(usize, usize, String)> = it
                .labels
                .iter()
                .filter_map(|l| match l.geometry {
                    Geometry::Span { start, end, .. } => {
                        Some((start as usize, end as usize, l.class.clone()))
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(decode(doc, text, bilou), expected_spans(text, &spans));
        }
    }
}

// ---------------------------------------------------------------- spaCy

#[test]
fn spacy_lines_hold_char_offset_entities_cats_and_meta() {
    let (sink, stats) = export("spacy-jsonl", golden_documents());
    let text = file(&sink, "spacy.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "the three items with text");
    // Hand-computed: 'Ann' is chars 6–9 (the ZWJ emoji before it is 3
    // chars, 11 UTF-8 bytes), 'see you' 11–18; the overlapping X 8–12 is
    // left out.
    assert_eq!(
        lines[1],
        r#"{"text":"Hi 👩‍💻Ann, see you!","entities":[[6,9,"PERSON"],[11,18,"MISC"]],"cats":{},"meta":{"item_id":2,"name":"notes/ß 2.txt"}}"#
    );
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        first["entities"],
        json!([
            [4, 16, "PERSON"],
            [25, 29, "PERSON"],
            [33, 43, "ORG"],
            [56, 67, "place name"]
        ])
    );
    assert_eq!(first["cats"], json!({"brief": 1.0}));
    assert_eq!(
        first["meta"],
        json!({"item_id": 1, "name": "docs/brief.txt"})
    );
    assert_eq!(
        lines[2],
        r#"{"text":"","entities":[],"cats":{},"meta":{"item_id":3,"name":"empty.txt"}}"#
    );
    assert_eq!((stats.items, stats.labels), (3, 7));
    assert_eq!(
        skipped(
            &stats,
            "overlapping or nested span (one entity per character)"
        ),
        3
    );
    assert_eq!(skipped(&stats, "text item without its text"), 1);
    assert_eq!(
        skipped(&stats, "image item (not covered by spacy-jsonl)"),
        1
    );
}

#[test]
fn spacy_entities_slice_the_fixture_texts_exactly() {
    let docs = fixture_documents();
    let (sink, _) = export("spacy-jsonl", fixture_items());
    let text = file(&sink, "spacy.jsonl");
    let mut n = 0;
    for (line, (name, doc_text, spans)) in text.lines().zip(&docs) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["text"].as_str().unwrap(), doc_text);
        assert_eq!(v["meta"]["name"].as_str().unwrap(), name);
        let chars: Vec<char> = doc_text.chars().collect();
        let mut want = spans.clone();
        want.sort_by_key(|s| s.0);
        let got: Vec<(usize, usize, String)> = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e[0].as_u64().unwrap() as usize,
                    e[1].as_u64().unwrap() as usize,
                    e[2].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}");
        for (s, e, _) in &got {
            // Python's text[s:e] — char indexing — is the span's text.
            assert!(!chars[*s..*e].is_empty());
            n += 1;
        }
    }
    assert_eq!(n, docs.iter().map(|d| d.2.len()).sum::<usize>());
}

// ------------------------------------------------------ doc-classes-csv

#[test]
fn document_classes_csv_quotes_per_rfc_4180_and_reads_back() {
    let mut photo = item(
        1,
        ItemKind::Image,
        "photos/a, b \"c\".jpg",
        vec![tag(1, "cat"), tag(2, "cat"), tag(3, "dog")],
    );
    photo
        .labels
        .push(label(4, "cat", Geometry::Point { x: 1.0, y: 2.0 }));
    let items = vec![
        photo,
        item(
            2,
            ItemKind::Audio,
            "録音/通话 1 📞.wav",
            vec![tag(5, "noisy")],
        ),
        text_item(
            3,
            "notes\nx.txt",
            "body",
            vec![tag(6, "contract, signed"), span(7, "P", 0, 4)],
        ),
        item(4, ItemKind::Image, "untagged.png", vec![]),
    ];
    let (sink, stats) = export("doc-classes-csv", items);
    let csv_text = file(&sink, "document_classes.csv");
    assert_eq!(
        csv_text,
        "item_id,name,class\r\n\
1,\"photos/a, b \"\"c\"\".jpg\",cat\r\n\
1,\"photos/a, b \"\"c\"\".jpg\",dog\r\n\
2,録音/通话 1 📞.wav,noisy\r\n\
3,\"notes\nx.txt\",\"contract, signed\"\r\n"
    );
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["item_id", "name", "class"]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["1", "photos/a, b \"c\".jpg", "cat"],
            ["1", "photos/a, b \"c\".jpg", "dog"],
            ["2", "録音/通话 1 📞.wav", "noisy"],
            ["3", "notes\nx.txt", "contract, signed"],
        ]
    );
    assert_eq!((stats.items, stats.labels), (3, 4));
    assert_eq!(skipped(&stats, "repeated tag of the same class"), 1);
    assert_eq!(
        skipped(&stats, "point label (doc-classes-csv holds tags only)"),
        1
    );
    assert_eq!(
        skipped(&stats, "span label (doc-classes-csv holds tags only)"),
        1
    );
}

// --------------------------------------------------- file names, overall

#[test]
fn per_recording_files_get_unique_unicode_names() {
    let rec = |id: i64, name: &str| {
        item(
            id,
            ItemKind::Audio,
            name,
            vec![seg(id * 10, "speech", 0.0, 1.0, "hi")],
        )
    };
    let items = vec![
        rec(1, "a/Zoë 通话.wav"),
        rec(2, "b/zoë 通话.flac"),
        rec(3, "c/x: y?.tar.ogg"),
    ];
    for (format, ext) in [("webvtt", "vtt"), ("textgrid", "TextGrid")] {
        let (sink, stats) = export(format, items.clone());
        let names: Vec<&str> = sink.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("Zoë 通话.{ext}"),
                format!("zoë 通话_2.{ext}"),
                format!("x_ y_.tar.{ext}"),
            ]
        );
        assert_eq!(stats.items, 3);
    }
}

#[test]
fn audio_formats_leave_out_text_and_image_items_and_count_them() {
    let items = vec![
        text_item(1, "t.txt", "hello", vec![]),
        item(2, ItemKind::Image, "i.png", vec![]),
    ];
    for format in ["asr-jsonl", "textgrid", "webvtt"] {
        let (sink, stats) = export(format, items.clone());
        assert_eq!(stats.items, 0);
        assert_eq!(
            skipped(&stats, &format!("text item (not covered by {format})")),
            1
        );
        assert_eq!(
            skipped(&stats, &format!("image item (not covered by {format})")),
            1
        );
        // Single-file formats still write their (empty) file.
        assert_eq!(sink.files.len(), usize::from(format == "asr-jsonl"));
    }
}
