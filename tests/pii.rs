//! PII detector: checksum and format edge cases, exact Unicode offsets,
//! length-preserving masking, per-record scanning, and the evaluation
//! against the text fixtures' ground truth (issue 9's goals asserted).
//!
//! Fixtures: `tests/fixtures/text/` (copies of the shared support chats,
//! their span file, the contract and its span file) and `tests/fixtures/pii/`
//! (the admin name list, `reviews.csv`, and the audio fixtures' call
//! transcripts with their PII segments, used as a held-out check: the rules
//! were written looking at the text fixtures, not at those).
//!
//! `tests/fixtures/pii/heldout.jsonl` (issue 16) is a second, larger held-out
//! set of structured PII in 13 languages/regions, written before the rules
//! for national phone formats, normalisation and RFC 6531 e-mail were changed
//! and not used to tune them (its README says what it holds). It is scored
//! on the structured types only (e-mail, phone, card, IBAN, IP).
//!
//! Scoring: a proposal is a true positive when type, char start and char end
//! equal a ground-truth span (exact match). Ground-truth cards that fail Luhn
//! and IBANs that fail mod-97 are "don't care" (fixtures README): proposing
//! them (only ever as `Low`) is neither a hit nor a false positive, and
//! missing them is not a miss; the test asserts that none of them is
//! proposed with `High` confidence. ADDRESS and ORGANIZATION spans are not
//! detected and not scored. An overlap-based recall (same type, any overlap)
//! is computed too, for the figures only. Set `PII_EVAL_PRINT=1` to print the
//! table; otherwise it only appears in a failing assertion's message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sealtag::privacy::pii::{
    Confidence, Detector, InputKind, MaskStyle, PhoneRegion, PiiSpan, PiiType, iban_valid,
    luhn_valid, mask, valid_region,
};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn detector() -> Detector {
    Detector::from_name_list(&read("pii/admin_names.txt"))
}

/// The fixtures' type labels → ours. `None`: not detected by design.
fn map_type(label: &str) -> Option<PiiType> {
    Some(match label {
        "EMAIL" => PiiType::Email,
        "PHONE" => PiiType::Phone,
        "CREDIT_CARD" => PiiType::CreditCard,
        "IBAN" => PiiType::Iban,
        "IP_ADDRESS" => PiiType::IpAddress,
        "DATE_OF_BIRTH" => PiiType::DateOfBirth,
        "SSN" => PiiType::NationalId,
        "PERSON" => PiiType::Person,
        "ADDRESS" | "ORGANIZATION" => return None,
        other => panic!("unknown fixture type {other}"),
    })
}

struct Gold {
    kind: PiiType,
    start: usize,
    end: usize,
    /// False for checksum-failing cards / IBANs (scored as don't care).
    valid: bool,
}

struct Doc {
    id: String,
    text: String,
    gold: Vec<Gold>,
    hard_negative: bool,
    /// The held-out set's `region` (the `pii_region` a project holding
    /// such texts sets); `None` for the tuning set.
    region: Option<String>,
}

fn gold_spans(spans: &[Value]) -> Vec<Gold> {
    spans
        .iter()
        .filter_map(|s| {
            let kind = map_type(s["type"].as_str()?)?;
            let valid = s
                .get("luhn_valid")
                .or_else(|| s.get("checksum_valid"))
                .and_then(Value::as_bool)
                .unwrap_or(true);
            Some(Gold {
                kind,
                start: s["char_start"].as_u64()? as usize,
                end: s["char_end"].as_u64()? as usize,
                valid,
            })
        })
        .collect()
}

fn docs() -> Vec<Doc> {
    let chats = read("text/support_chats.jsonl");
    let spans = read("text/pii_spans.jsonl");
    let mut out = Vec::new();
    for (c, s) in chats.lines().zip(spans.lines()) {
        let c: Value = serde_json::from_str(c).expect("chat line");
        let s: Value = serde_json::from_str(s).expect("span line");
        assert_eq!(c["id"], s["id"]);
        let notes = s["notes"].as_array().cloned().unwrap_or_default();
        out.push(Doc {
            id: c["id"].as_str().unwrap_or_default().to_string(),
            text: c["text"].as_str().unwrap_or_default().to_string(),
            gold: gold_spans(s["spans"].as_array().expect("spans")),
            hard_negative: notes.iter().any(|n| n == "hard_negative"),
            region: None,
        });
    }
    assert_eq!(out.len(), 200);
    let contract: Value =
        serde_json::from_str(&read("text/contract_pii_spans.json")).expect("contract spans");
    out.push(Doc {
        id: "contract.txt".into(),
        text: read("text/contract.txt"),
        gold: gold_spans(contract["spans"].as_array().expect("spans")),
        hard_negative: false,
        region: None,
    });
    out
}

/// The five structured types issue 16 sets goals for.
const STRUCTURED: [PiiType; 5] = [
    PiiType::Email,
    PiiType::Phone,
    PiiType::CreditCard,
    PiiType::Iban,
    PiiType::IpAddress,
];

/// `pii/heldout.jsonl`, after checking that every span's char and byte
/// offsets slice out the span's `text` (a broken fixture must not score).
fn heldout_docs() -> Vec<Doc> {
    let mut out = Vec::new();
    for line in read("pii/heldout.jsonl").lines() {
        let v: Value = serde_json::from_str(line).expect("held-out line");
        let id = v["id"].as_str().expect("id").to_string();
        let text = v["text"].as_str().expect("text").to_string();
        let spans = v["spans"].as_array().expect("spans");
        for s in spans {
            let want = s["text"].as_str().expect("span text");
            let (cs, ce) = (
                s["char_start"].as_u64().expect("char_start") as usize,
                s["char_end"].as_u64().expect("char_end") as usize,
            );
            let (bs, be) = (
                s["byte_start"].as_u64().expect("byte_start") as usize,
                s["byte_end"].as_u64().expect("byte_end") as usize,
            );
            let by_chars: String = text.chars().skip(cs).take(ce - cs).collect();
            assert_eq!(by_chars, want, "{id}: char offsets");
            assert_eq!(text.get(bs..be), Some(want), "{id}: byte offsets");
        }
        let notes = v["notes"].as_array().cloned().unwrap_or_default();
        out.push(Doc {
            gold: gold_spans(spans),
            hard_negative: notes.iter().any(|n| n == "hard_negative"),
            region: v["region"].as_str().map(str::to_string),
            id,
            text,
        });
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    overlap_hits: usize,
    gold: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.tp as f64 / self.gold as f64
        }
    }
}

struct Evaluation {
    per_type: BTreeMap<PiiType, Counts>,
    overall: Counts,
    dont_care_proposed: usize,
    problems: Vec<String>,
}

fn evaluate() -> Evaluation {
    let det = detector();
    score(&docs(), |doc| det.scan(&doc.text))
}

/// The held-out set, structured types only: every record is scanned by a
/// detector for its region, as a project holding such texts would set
/// `pii_region`.
fn evaluate_heldout() -> Evaluation {
    let docs = heldout_docs();
    score(&docs, |doc| {
        heldout_detector(doc.region.as_deref())
            .scan(&doc.text)
            .into_iter()
            .filter(|s| STRUCTURED.contains(&s.kind))
            .collect()
    })
}

fn heldout_detector(region: Option<&str>) -> Detector {
    let region = region.map(|r| PhoneRegion::parse(r).unwrap_or_else(|| panic!("region {r}")));
    Detector::default().with_region(region.unwrap_or_default())
}

fn score(docs: &[Doc], scan: impl Fn(&Doc) -> Vec<PiiSpan>) -> Evaluation {
    let mut per_type: BTreeMap<PiiType, Counts> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut dont_care_proposed = 0;
    for doc in docs {
        let preds = scan(doc);
        check_offsets(&doc.text, &preds);
        for g in doc.gold.iter().filter(|g| g.valid) {
            let c = per_type.entry(g.kind).or_default();
            c.gold += 1;
            if preds
                .iter()
                .any(|p| p.kind == g.kind && p.start < g.end && g.start < p.end)
            {
                c.overlap_hits += 1;
            }
        }
        for p in &preds {
            let hit = doc
                .gold
                .iter()
                .find(|g| g.kind == p.kind && g.start == p.start && g.end == p.end);
            match hit {
                Some(g) if g.valid => per_type.entry(p.kind).or_default().tp += 1,
                Some(_) => {
                    dont_care_proposed += 1;
                    if p.confidence == Confidence::High {
                        problems.push(format!(
                            "{}: checksum-failing {:?} proposed as High",
                            doc.id, p.text
                        ));
                    }
                }
                None => {
                    per_type.entry(p.kind).or_default().fp += 1;
                    problems.push(format!(
                        "{}: false positive {:?} {:?} [{}..{}]",
                        doc.id, p.kind, p.text, p.start, p.end
                    ));
                }
            }
        }
        for g in doc.gold.iter().filter(|g| g.valid) {
            if !preds
                .iter()
                .any(|p| p.kind == g.kind && p.start == g.start && p.end == g.end)
            {
                per_type.entry(g.kind).or_default().fn_ += 1;
                let text: String = doc
                    .text
                    .chars()
                    .skip(g.start)
                    .take(g.end - g.start)
                    .collect();
                problems.push(format!("{}: missed {:?} {text:?}", doc.id, g.kind));
            }
        }
        if doc.hard_negative && !preds.is_empty() {
            problems.push(format!("{}: hard negative flagged: {preds:?}", doc.id));
        }
    }
    let mut overall = Counts::default();
    for c in per_type.values() {
        overall.tp += c.tp;
        overall.fp += c.fp;
        overall.fn_ += c.fn_;
        overall.gold += c.gold;
        overall.overlap_hits += c.overlap_hits;
    }
    Evaluation {
        per_type,
        overall,
        dont_care_proposed,
        problems,
    }
}

fn table(ev: &Evaluation) -> String {
    let mut s =
        String::from("type           gold   tp   fp   fn  precision  recall  overlap-recall\n");
    let row = |name: &str, c: &Counts| {
        format!(
            "{name:<13} {:>5} {:>4} {:>4} {:>4}  {:>9.4}  {:>6.4}  {:>14.4}\n",
            c.gold,
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall(),
            if c.gold == 0 {
                1.0
            } else {
                c.overlap_hits as f64 / c.gold as f64
            }
        )
    };
    for (k, c) in &ev.per_type {
        s += &row(k.tag(), c);
    }
    s += &row("OVERALL", &ev.overall);
    s += &format!(
        "checksum-failing ground-truth spans proposed (Low, not scored): {}\n",
        ev.dont_care_proposed
    );
    for p in &ev.problems {
        s += &format!("  {p}\n");
    }
    s
}

#[test]
fn fixture_evaluation_meets_issue_goals() {
    let ev = evaluate();
    let report = table(&ev);
    if std::env::var_os("PII_EVAL_PRINT").is_some() {
        eprintln!("{report}");
    }
    for kind in [
        PiiType::Email,
        PiiType::Phone,
        PiiType::CreditCard,
        PiiType::Iban,
        PiiType::IpAddress,
    ] {
        let c = ev.per_type.get(&kind).copied().unwrap_or_default();
        assert!(c.gold > 0, "no ground truth for {kind:?}\n{report}");
        assert!(
            c.recall() >= 0.98,
            "recall of {kind:?} is {:.4} < 0.98\n{report}",
            c.recall()
        );
    }
    assert!(
        ev.overall.precision() >= 0.95,
        "overall precision {:.4} < 0.95\n{report}",
        ev.overall.precision()
    );
    // The issue's explicit negatives: hard negatives (order numbers, part
    // numbers, versions, ...) and checksum-failing numbers as certain PII.
    let bad: Vec<&String> = ev
        .problems
        .iter()
        .filter(|p| p.contains("hard negative") || p.contains("proposed as High"))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}\n{report}");
}

/// Structured types only, summed (the issue's goals are on these).
fn structured_overall(ev: &Evaluation) -> Counts {
    let mut all = Counts::default();
    for kind in STRUCTURED {
        let c = ev.per_type.get(&kind).copied().unwrap_or_default();
        all.tp += c.tp;
        all.fp += c.fp;
        all.fn_ += c.fn_;
        all.gold += c.gold;
        all.overlap_hits += c.overlap_hits;
    }
    all
}

/// Issue 16's goals on the held-out set: structured recall and precision
/// of at least 0.95 overall; no structured type below 0.85 in either (IP
/// addresses are at 0.894 precision / 0.944 recall, see README).
#[test]
fn heldout_evaluation_meets_issue_goals() {
    let ev = evaluate_heldout();
    let report = table(&ev);
    if std::env::var_os("PII_EVAL_PRINT").is_some() {
        eprintln!("held-out set\n{report}");
    }
    for kind in STRUCTURED {
        let c = ev.per_type.get(&kind).copied().unwrap_or_default();
        assert!(
            c.gold > 0,
            "no held-out ground truth for {kind:?}\n{report}"
        );
        assert!(
            c.recall() >= 0.85 && c.precision() >= 0.85,
            "held-out {kind:?}: recall {:.4}, precision {:.4}\n{report}",
            c.recall(),
            c.precision()
        );
    }
    let all = structured_overall(&ev);
    assert!(
        all.recall() >= 0.95,
        "held-out structured recall {:.4} < 0.95\n{report}",
        all.recall()
    );
    assert!(
        all.precision() >= 0.95,
        "held-out structured precision {:.4} < 0.95\n{report}",
        all.precision()
    );
}

/// README's evaluation table (between the `pii-eval` markers) states what
/// these tests measure: a changed rule that moves a figure fails here until
/// the README says so.
#[test]
fn readme_table_matches_both_evaluations() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let table = readme
        .split("<!-- pii-eval:start -->")
        .nth(1)
        .and_then(|t| t.split("<!-- pii-eval:end -->").next())
        .expect("README has the pii-eval table markers");
    let tuning = evaluate();
    let heldout = evaluate_heldout();
    let cells = |c: Option<Counts>| match c {
        Some(c) => [
            c.gold.to_string(),
            format!("{:.3}", c.precision()),
            format!("{:.3}", c.recall()),
        ],
        None => ["—".to_string(), "—".to_string(), "—".to_string()],
    };
    let mut expected: Vec<Vec<String>> = Vec::new();
    let name = |k: PiiType| match k {
        PiiType::Email => "email",
        PiiType::Phone => "phone",
        PiiType::CreditCard => "credit card",
        PiiType::Iban => "IBAN",
        PiiType::IpAddress => "IP address",
        PiiType::DateOfBirth => "date of birth",
        PiiType::NationalId => "national id",
        PiiType::Person => "person (admin list)",
        PiiType::Address | PiiType::Other => "",
    };
    for kind in PiiType::ALL {
        let structured = STRUCTURED.contains(&kind);
        let mut row = vec![name(kind).to_string()];
        row.extend(cells(tuning.per_type.get(&kind).copied()));
        row.extend(cells(
            structured.then(|| heldout.per_type.get(&kind).copied().unwrap_or_default()),
        ));
        expected.push(row);
    }
    let mut row = vec!["structured overall".to_string()];
    row.extend(cells(Some(structured_overall(&tuning))));
    row.extend(cells(Some(structured_overall(&heldout))));
    expected.push(row);
    let found: Vec<Vec<String>> = table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| type"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('*').to_string())
                .collect()
        })
        .collect();
    assert_eq!(found, expected, "README's PII table is out of date");
}

/// Every span's char and byte offsets slice out exactly its text.
fn check_offsets(text: &str, spans: &[PiiSpan]) {
    let mut last_end = 0;
    for s in spans {
        assert!(
            s.start < s.end && s.start >= last_end,
            "sorted, non-overlapping: {spans:?}"
        );
        last_end = s.end;
        assert_eq!(text.get(s.byte_start..s.byte_end), Some(s.text.as_str()));
        let by_chars: String = text.chars().skip(s.start).take(s.end - s.start).collect();
        assert_eq!(by_chars, s.text);
    }
}

fn find(spans: &[PiiSpan], kind: PiiType) -> Vec<&str> {
    spans
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.text.as_str())
        .collect()
}

#[test]
fn unicode_offsets_are_exact() {
    let det = Detector::new(["Amélie Exemple", "山田太郎"]);
    // ZWJ family, flag, skin tone, NFD accent, CJK, Arabic, RLM, CRLF.
    let text = "👨\u{200d}👩\u{200d}👧 🇩🇪 👍🏽 Ame\u{301}lie Exemple \
                \u{200f}رقم هاتفي ٠٥٠١٢٣٤٥٦٧\u{200f} 山田太郎です、\r\n\
                card 4111 1111 1111 1111 📧 zoë.durand@example.com";
    let spans = det.scan(text);
    check_offsets(text, &spans);
    assert_eq!(
        find(&spans, PiiType::Person),
        ["Ame\u{301}lie Exemple", "山田太郎"]
    );
    assert_eq!(find(&spans, PiiType::Phone), ["٠٥٠١٢٣٤٥٦٧"]);
    assert_eq!(find(&spans, PiiType::CreditCard), ["4111 1111 1111 1111"]);
    assert_eq!(find(&spans, PiiType::Email), ["zoë.durand@example.com"]);
    let card = spans
        .iter()
        .find(|s| s.kind == PiiType::CreditCard)
        .expect("card");
    // Hand-computed: the prefix before the card has these many chars/bytes.
    let prefix = &text[..card.byte_start];
    assert_eq!(prefix.chars().count(), card.start);
    assert!(card.byte_start > card.start, "multi-byte prefix");
}

#[test]
fn fixture_offsets_byte_and_char_match_ground_truth() {
    // Every exact hit also agrees with the fixture's byte offsets.
    let det = detector();
    let chats = read("text/support_chats.jsonl");
    let spans = read("text/pii_spans.jsonl");
    let mut compared = 0;
    for (c, s) in chats.lines().zip(spans.lines()) {
        let c: Value = serde_json::from_str(c).expect("chat");
        let s: Value = serde_json::from_str(s).expect("spans");
        let text = c["text"].as_str().expect("text");
        let preds = det.scan(text);
        for g in s["spans"].as_array().expect("spans") {
            let (cs, bs) = (g["char_start"].as_u64(), g["byte_start"].as_u64());
            if let Some(p) = preds.iter().find(|p| Some(p.start as u64) == cs)
                && Some(p.end as u64) == g["char_end"].as_u64()
            {
                assert_eq!(Some(p.byte_start as u64), bs);
                assert_eq!(Some(p.byte_end as u64), g["byte_end"].as_u64());
                compared += 1;
            }
        }
    }
    assert!(compared > 200, "only {compared} spans compared");
}

#[test]
fn masking_preserves_length_and_offsets() {
    let det = detector();
    for doc in docs() {
        let spans = det.scan(&doc.text);
        for style in [MaskStyle::Block, MaskStyle::Char('*'), MaskStyle::Tag] {
            let masked = mask(&doc.text, &spans, style);
            let orig: Vec<char> = doc.text.chars().collect();
            let new: Vec<char> = masked.chars().collect();
            assert_eq!(orig.len(), new.len(), "{} {style:?}", doc.id);
            // Outside spans nothing changed; inside, only line breaks survive.
            let mut inside = vec![false; orig.len()];
            for s in &spans {
                inside[s.start..s.end].iter_mut().for_each(|b| *b = true);
            }
            for (k, (&a, &b)) in orig.iter().zip(&new).enumerate() {
                if !inside[k] || a == '\n' || a == '\r' {
                    assert_eq!(a, b, "{} char {k}", doc.id);
                } else if a.is_alphanumeric() && style != MaskStyle::Tag {
                    assert_ne!(a, b, "{} char {k} leaked", doc.id);
                }
            }
            // Every ground-truth label still addresses the same chars.
            for g in &doc.gold {
                assert!(g.end <= new.len());
            }
        }
    }
    let text = "mail a@example.com now";
    let spans = Detector::default().scan(text);
    assert_eq!(mask(text, &spans, MaskStyle::Tag), "mail [EMAIL]██████ now");
    assert_eq!(
        mask(text, &spans, MaskStyle::Block),
        "mail █████████████ now"
    );
    let short = PiiSpan {
        end: 8,
        ..spans[0].clone()
    };
    assert_eq!(
        mask(text, &[short], MaskStyle::Tag),
        "mail [EMxample.com now"
    );
    // Out-of-range and empty spans are ignored, never a panic.
    let bogus = PiiSpan {
        start: 20,
        end: 99,
        ..spans[0].clone()
    };
    assert_eq!(mask(text, &[bogus], MaskStyle::Block), text);
}

#[test]
fn cards_luhn_grouping_and_context() {
    let det = Detector::default();
    let one = |t: &str| det.scan(t);
    for ok in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        "5555 5555 5555 4444",
        "6011 1111 1111 1117",
        "3530 1113 3330 0000",
    ] {
        let s = one(&format!("paid with {ok}."));
        assert_eq!(find(&s, PiiType::CreditCard), [ok]);
        assert_eq!(s[0].confidence, Confidence::High);
    }
    // Luhn-failing: nothing without card context, Low with it.
    assert!(one("ref 4111 1111 1111 1112 please").is_empty());
    let s = one("card 4111 1111 1111 1112 please");
    assert_eq!(find(&s, PiiType::CreditCard), ["4111 1111 1111 1112"]);
    assert_eq!(s[0].confidence, Confidence::Low);
    assert_eq!(s[0].detail.as_deref(), Some("luhn_failed"));
    // Mixed separators, 20 digits, glued to letters: not cards.
    assert!(one("4111 1111-1111 1111").is_empty());
    assert!(one("41111111111111111113").is_empty());
    assert!(one("1Z999AA10123456784 X4111111111111111").is_empty());
    // Order numbers and ISBNs.
    assert!(one("Order ORD-2024-88431 and ISBN 978-3-16-148410-0").is_empty());
    assert!(one("Ticket #4111-1111 was closed").is_empty());
    let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
    assert!(luhn_valid(&d("6011111111111117")));
    assert!(!luhn_valid(&d("6011111111111118")));
}

#[test]
fn iban_mod97_and_lengths() {
    let det = Detector::default();
    for ok in [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "BE68 5390 0754 7034",
        "CH9300762011623852957",
        "SA03 8000 0000 6080 1016 7519",
    ] {
        assert!(iban_valid(ok), "{ok}");
        let s = det.scan(&format!("IBAN: {ok}, thanks"));
        assert_eq!(find(&s, PiiType::Iban), [ok]);
        assert_eq!(s[0].confidence, Confidence::High);
    }
    let s = det.scan("IBAN GB82 WEST 1234 5698 7654 31.");
    assert_eq!(s[0].confidence, Confidence::Low);
    assert_eq!(s[0].detail.as_deref(), Some("mod97_failed"));
    // One char too many or too few: not an IBAN at all.
    assert!(det.scan("DE89 3704 0044 0532 0130 001").is_empty());
    assert!(det.scan("XDE89370400440532013000").is_empty());
    assert!(!iban_valid("DE00370400440532013000"));
}

#[test]
fn ip_addresses() {
    let det = Detector::default();
    let ips = |t: &str| {
        det.scan(t)
            .into_iter()
            .filter(|s| s.kind == PiiType::IpAddress)
            .map(|s| (s.text, s.detail))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ips("from 198.51.100.42, 2001:db8::1 and 2001:db8:85a3::8a2e:370:7334."),
        [
            ("198.51.100.42".to_string(), Some("ipv4".to_string())),
            ("2001:db8::1".to_string(), Some("ipv6".to_string())),
            (
                "2001:db8:85a3::8a2e:370:7334".to_string(),
                Some("ipv6".to_string())
            ),
        ]
    );
    for not_ip in [
        "999.1.1.1",
        "10.4",
        "256.0.0.1",
        "01.2.3.4",
        "1.2.3.4.5",
        "Version 4.1.1.1",
        "build 2024.03.15",
        "at 10:30",
        "00:1a:2b:3c:4d:5e",
        "std::vec",
        "2001:db8:::1",
    ] {
        assert!(ips(not_ip).is_empty(), "{not_ip}");
    }
    assert_eq!(ips("255.255.255.255").len(), 1);
}

#[test]
fn phones_international_and_national() {
    let det = Detector::default();
    for ok in [
        "+91 98765 43210",
        "+1 415-555-0199",
        "+44 20 7946 0958",
        "+49 (0)151 23456789",
        "+1 (202) 555-0143",
        "+966 50 123 4567",
        "(202) 555-0143",
        "212.555.0187",
        "020 7946 0123",
        "07700 900456",
        "0151-2345 6789",
        "06 12 34 56 78",
        "090-1234-5678",
        "０３－１２３４－５６７８",
    ] {
        let s = det.scan(&format!("reach me at {ok} (mobile)."));
        assert_eq!(find(&s, PiiType::Phone), [ok], "{ok}");
    }
    for not_phone in [
        "SKU 123-45-678, not 123-45-6780",
        "Error code 0x80070005",
        "invoice INV-2024-000123",
        "Meeting room 555 at 10:30",
        "delivered on 2024-03-15",
        "EUR 0.08 per image",
        "ref 0123456789",
    ] {
        assert!(det.scan(not_phone).is_empty(), "{not_phone}");
    }
    assert_eq!(
        find(&det.scan("(020 7946 0123)"), PiiType::Phone),
        ["020 7946 0123"]
    );
    // An ungrouped 0-number needs a phone word.
    assert_eq!(
        find(&det.scan("phone 0123456789"), PiiType::Phone),
        ["0123456789"]
    );
}

#[test]
fn dates_of_birth_need_context() {
    let det = Detector::default();
    for (text, dob) in [
        ("DOB 04/12/1985)", "04/12/1985"),
        ("born April 12, 1985.", "April 12, 1985"),
        ("Je suis née le 12 avril 1985 ;", "12 avril 1985"),
        ("Mein Geburtsdatum ist der 12.04.1985,", "12.04.1985"),
        ("bin am 3. März 1990 geboren.", "3. März 1990"),
        ("D.O.B. 1990-03-03", "1990-03-03"),
        ("生年月日は平成2年3月3日です", "平成2年3月3日"),
        ("1985年4月12日生まれ", "1985年4月12日"),
        ("تاريخ ميلادي ١٢/٠٤/١٩٨٥.", "١٢/٠٤/١٩٨٥"),
    ] {
        assert_eq!(find(&det.scan(text), PiiType::DateOfBirth), [dob], "{text}");
    }
    for text in [
        "My parcel was delivered on 2024-03-15 but the invoice says 15/03/2023.",
        "Date: 15 March 2024",
        "Date of birth? No. Shipped 12/04/1985",
        "born 31/31/1985",
        "donné le 12/04/1985",
    ] {
        assert!(
            find(&det.scan(text), PiiType::DateOfBirth).is_empty(),
            "{text}"
        );
    }
}

#[test]
fn national_ids() {
    let det = Detector::default();
    let ids = |t: &str| {
        det.scan(t)
            .into_iter()
            .filter(|s| s.kind == PiiType::NationalId)
            .map(|s| (s.text, s.detail.unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids("SSN: 123-45-6789."),
        [("123-45-6789".into(), "us_ssn".into())]
    );
    assert_eq!(
        ids("SSN for verification 123 45 6789"),
        [("123 45 6789".into(), "us_ssn".into())]
    );
    // No SSN keyword, or an invalid area/group/serial: not an SSN.
    assert!(ids("part 123-45-6780").is_empty());
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
    ] {
        assert!(ids(&format!("SSN {bad}")).is_empty(), "{bad}");
    }
    assert_eq!(
        ids("NINO AB123456C"),
        [("AB123456C".into(), "uk_nino".into())]
    );
    assert_eq!(ids("NI: QQ 12 34 56 A"), Vec::<(String, String)>::new()); // QQ invalid
    assert_eq!(
        ids("NI: AB 12 34 56 C"),
        [("AB 12 34 56 C".into(), "uk_nino".into())]
    );
    assert!(ids("GB123456A BG123456A").is_empty());
    assert_eq!(
        ids("NIR 2 55 08 14 168 025 38"),
        [("2 55 08 14 168 025 38".into(), "fr_nir".into())]
    );
    assert!(ids("NIR 2 55 08 14 168 025 39").is_empty());
}

#[test]
fn person_names_whole_word_case_sensitive() {
    let det = Detector::new(["Jane Doe", "Sam Specimen", "山田", "山田太郎", " ", ""]);
    assert_eq!(
        det.names(),
        ["Jane Doe", "Sam Specimen", "山田", "山田太郎"]
    );
    let p = |t: &str| det.scan(t).into_iter().map(|s| s.text).collect::<Vec<_>>();
    assert_eq!(p("for Jane Doe."), ["Jane Doe"]);
    assert_eq!(p("Name: Dr. Sam Specimen"), ["Dr. Sam Specimen"]);
    assert_eq!(
        p("jane doe / Jane Doey / MaryJane Doe"),
        Vec::<String>::new()
    );
    assert_eq!(p("Jane\u{a0}Doe"), ["Jane\u{a0}Doe"]);
    assert_eq!(p("山田です。山田太郎、"), ["山田", "山田太郎"]);
}

#[test]
fn scan_records_jsonl_csv_txt() {
    let det = detector();
    // JSONL: the hostile fixture's bad line 6 is reported, the rest scanned.
    let bytes = std::fs::read(fixture("bad/malformed.jsonl")).expect("malformed.jsonl");
    let r = det
        .scan_records(&bytes, InputKind::Jsonl, "text")
        .expect("jsonl");
    assert_eq!(r.records.len(), 9);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].line, 6);
    assert_eq!(r.records[0].id.as_deref(), Some("m-001"));
    let mixed = b"{\"id\": 7, \"text\": \"mail a@example.com\"}\r\n\n[1]\n{\"id\": \"x\"}\n\xff\xfe\n{\"text\": 5}\n";
    let r = det
        .scan_records(mixed, InputKind::Jsonl, "text")
        .expect("jsonl");
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.records[0].id.as_deref(), Some("7"));
    assert_eq!(r.records[0].spans[0].kind, PiiType::Email);
    let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    assert_eq!(r.errors[1].id.as_deref(), Some("x"));

    // The support chats: one record per line, same spans as scan().
    let chats = std::fs::read(fixture("text/support_chats.jsonl")).expect("chats");
    let r = det
        .scan_records(&chats, InputKind::Jsonl, "text")
        .expect("chats");
    assert_eq!(r.records.len(), 200);
    assert!(r.errors.is_empty());
    assert_eq!(r.records[1].id.as_deref(), Some("chat-0002"));
    assert_eq!(r.records[1].line, 2);

    // CSV: multi-line quoted fields keep their start line; reviews 1058 and
    // 1064 hold an e-mail and a phone number, nothing else is flagged.
    let csv = std::fs::read(fixture("pii/reviews.csv")).expect("reviews");
    let r = det.scan_records(&csv, InputKind::Csv, "text").expect("csv");
    assert_eq!(r.records.len(), 100);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let flagged: Vec<(&str, PiiType)> = r
        .records
        .iter()
        .flat_map(|rec| {
            rec.spans
                .iter()
                .map(move |s| (rec.id.as_deref().unwrap_or(""), s.kind))
        })
        .collect();
    assert_eq!(
        flagged,
        [("1058", PiiType::Email), ("1064", PiiType::Phone)]
    );
    let after_multiline = r
        .records
        .iter()
        .find(|rec| rec.id.as_deref() == Some("1011"))
        .expect("1011");
    assert!(after_multiline.line > 12);

    // A short row is reported with its line; a missing column is fatal.
    let csv = std::fs::read(fixture("bad/missing_column.csv")).expect("missing_column");
    let r = det
        .scan_records(&csv, InputKind::Csv, "rating")
        .expect("csv");
    assert_eq!(r.records.len(), 4);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].line, 5);
    assert_eq!(r.errors[0].id.as_deref(), Some("104"));
    assert!(det.scan_records(&csv, InputKind::Csv, "body").is_err());

    // TXT: the whole file is one record; invalid UTF-8 is an error.
    let txt = std::fs::read(fixture("text/contract.txt")).expect("contract");
    let r = det.scan_records(&txt, InputKind::Txt, "").expect("txt");
    assert_eq!(r.records.len(), 1);
    assert!(r.records[0].spans.len() >= 15);
    let bad = std::fs::read(fixture("bad/invalid_utf8.txt")).expect("invalid_utf8");
    assert!(det.scan_records(&bad, InputKind::Txt, "").is_err());
    assert!(det.scan_records(b"", InputKind::Csv, "text").is_err());
}

#[test]
fn bounded_work_on_hostile_text() {
    // Long runs of candidate characters must not blow up (each scanner
    // caps candidate length) and must not be flagged.
    let det = detector();
    let inputs = [
        "1".repeat(100_000),
        "1 ".repeat(50_000),
        "@".repeat(100_000),
        "a".repeat(70_000) + "@example.com",
        ":".repeat(100_000),
        "a:".repeat(50_000),
        "1.".repeat(50_000),
        "DE89 ".repeat(20_000),
        "Jane ".repeat(20_000),
        "born ".repeat(20_000) + "12/04/1985",
    ];
    let started = std::time::Instant::now();
    for t in &inputs {
        let spans = det.scan(t);
        check_offsets(t, &spans);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn random_unicode_never_panics_and_offsets_hold() {
    // Deterministic xorshift over an alphabet of the characters the scanners
    // care about, mixed with multi-byte ones, so candidates start and stop
    // at every kind of boundary.
    let alphabet: Vec<char> = "0123456789 +-().:/@_%年月日平成AZBEGDNLbornDOBcard\
                               é\u{301}\u{200f}\u{200d}👍🏽山田٠١٢３－\n\r,;#"
        .chars()
        .collect();
    let det = Detector::new(["Jane Doe", "山田", "Amélie"]);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2_000 {
        let len = (next() % 80) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let spans = det.scan(&text);
        check_offsets(&text, &spans);
        let masked = mask(&text, &spans, MaskStyle::Tag);
        assert_eq!(masked.chars().count(), text.chars().count());
    }
}

#[test]
fn held_out_call_transcripts() {
    // The audio fixtures' written transcripts were not used to write the
    // rules: a small held-out check. Structured types must all be found
    // exactly, nothing else proposed (order ids like ORD-2024-88431 are
    // spoken next to cards and phone numbers there).
    let det = Detector::default();
    let transcripts = read("pii/call_transcripts.jsonl");
    let segments = read("pii/call_segments.jsonl");
    let mut gold_total = 0;
    for (t, s) in transcripts.lines().zip(segments.lines()) {
        let t: Value = serde_json::from_str(t).expect("transcript");
        let s: Value = serde_json::from_str(s).expect("segments");
        assert_eq!(t["file"], s["file"]);
        let text = t["text"].as_str().expect("text");
        let mut gold: Vec<(PiiType, usize, usize)> = Vec::new();
        for seg in s["segments"].as_array().expect("segments") {
            for p in seg["pii"].as_array().expect("pii") {
                let kind = match p["type"].as_str() {
                    Some("PHONE") => PiiType::Phone,
                    Some("EMAIL") => PiiType::Email,
                    Some("CREDIT_CARD") => PiiType::CreditCard,
                    _ => continue, // PERSON (no list here), ADDRESS, ORDER_ID
                };
                let start = p["char_start"].as_u64().expect("start") as usize;
                let end = p["char_end"].as_u64().expect("end") as usize;
                gold.push((kind, start, end));
            }
        }
        gold_total += gold.len();
        let spans = det.scan(text);
        check_offsets(text, &spans);
        let mut found: Vec<(PiiType, usize, usize)> =
            spans.iter().map(|s| (s.kind, s.start, s.end)).collect();
        found.sort();
        gold.sort();
        assert_eq!(found, gold, "{}", t["file"]);
    }
    assert_eq!(gold_total, 26);
}

fn region(code: &str) -> Detector {
    Detector::default().with_region(PhoneRegion::parse(code).expect("known region"))
}

#[test]
fn region_setting_is_checked_against_the_library() {
    for ok in ["US", "GB", "DE", "TR", "PL", "JP", "BR", "IN"] {
        assert!(valid_region(ok), "{ok}");
        assert_eq!(
            PhoneRegion::parse(ok).map(|r| r.code().to_string()),
            Some(ok.into())
        );
    }
    // Two upper-case letters are not enough: the library must know them.
    for bad in ["", "U", "us", "USA", "XX", "ZZ", "EU", "1A"] {
        assert!(!valid_region(bad), "{bad}");
    }
    assert_eq!(Detector::default().region(), PhoneRegion::default());
    assert_eq!(region("PL").region().code(), "PL");
    // with_region keeps the names.
    let det = Detector::new(["Jan Kowalski"]).with_region(PhoneRegion::parse("PL").expect("PL"));
    assert_eq!(det.names(), ["Jan Kowalski"]);
}

#[test]
fn national_numbers_follow_the_default_region() {
    // Numbers without country code or trunk prefix exist only in a region.
    for (code, text, number) in [
        ("ES", "móvil 699 887 766 gracias", "699 887 766"),
        ("PL", "tel. komórkowy 501 222 333.", "501 222 333"),
        ("IT", "cellulare 348 765 4321, grazie", "348 765 4321"),
        ("IN", "mobile 81234 56789 only", "81234 56789"),
        ("US", "call 1 (415) 555-0132 today", "1 (415) 555-0132"),
        ("US", "toll free 1-888-555-0177.", "1-888-555-0177"),
    ] {
        let spans = region(code).scan(text);
        check_offsets(text, &spans);
        assert_eq!(find(&spans, PiiType::Phone), [number], "{code} {text}");
    }
    assert!(find(&region("US").scan("móvil 699 887 766"), PiiType::Phone).is_empty());
    // Trunk-0 numbers of other regions are still found with any default.
    for text in [
        "ring 0161 496 0011 please",
        "Tel. 0711 1234567",
        "numara 0533 765 43 21",
        "bel 010 765 4321",
        "+44 (0)161 496 0011",
        "0049 30 7654321",
    ] {
        let spans = region("US").scan(text);
        assert_eq!(find(&spans, PiiType::Phone).len(), 1, "{text}: {spans:?}");
    }
    // Ids, dates, amounts and decimals are not phone numbers in any region.
    for code in ["US", "GB", "DE", "ES", "PL"] {
        for text in [
            "paid 1.299,00 EUR on 15.03.2024 at 14:30",
            "ref 0123456789 and 4006381333931",
            "version 12.0.2 build 20240315",
            "ISBN 978-3-16-148410-0",
        ] {
            let spans = region(code).scan(text);
            assert!(
                find(&spans, PiiType::Phone).is_empty(),
                "{code} {text}: {spans:?}"
            );
        }
    }
}

#[test]
fn folded_and_broken_numbers_report_original_offsets() {
    let det = region("GB");
    for (text, kind, want) in [
        (
            "mob ０７７００ ９００４５６ ok",
            PiiType::Phone,
            "０７７００ ９００４５６",
        ),
        (
            "tel 020\u{200b}7946\u{200b}0456.",
            PiiType::Phone,
            "020\u{200b}7946\u{200b}0456",
        ),
        (
            "call 0161 496\n0022 after six",
            PiiType::Phone,
            "0161 496\n0022",
        ),
        (
            "call 0161 496\r\n0022 after six",
            PiiType::Phone,
            "0161 496\r\n0022",
        ),
        (
            "fax (+44) 161 496 0033",
            PiiType::Phone,
            "(+44) 161 496 0033",
        ),
        (
            "mail ｓａｍ＠ｅｘａｍｐｌｅ．ｏｒｇ thx",
            PiiType::Email,
            "ｓａｍ＠ｅｘａｍｐｌｅ．ｏｒｇ",
        ),
        (
            "mail sam\u{ad}.lee@example.org",
            PiiType::Email,
            "sam\u{ad}.lee@example.org",
        ),
        (
            "card 5555\u{200b}5555\u{200b}5555\u{200b}4444 ok",
            PiiType::CreditCard,
            "5555\u{200b}5555\u{200b}5555\u{200b}4444",
        ),
        (
            "card 4242 4242\n4242 4242 ok",
            PiiType::CreditCard,
            "4242 4242\n4242 4242",
        ),
        (
            "card ４２４２ ４２４２ ４２４２ ４２４２",
            PiiType::CreditCard,
            "４２４２ ４２４２ ４２４２ ４２４２",
        ),
        (
            "from ２０３．０．１１３．９ today",
            PiiType::IpAddress,
            "２０３．０．１１３．９",
        ),
    ] {
        let spans = det.scan(text);
        check_offsets(text, &spans);
        assert_eq!(find(&spans, kind), [want], "{text:?}: {spans:?}");
        let s = spans.iter().find(|s| s.kind == kind).expect("span");
        assert_eq!(&text[s.byte_start..s.byte_end], want);
    }
    // Two numbers on two lines stay two numbers.
    let text = "0161 496 0011\n0161 496 0022";
    assert_eq!(
        find(&det.scan(text), PiiType::Phone),
        ["0161 496 0011", "0161 496 0022"]
    );
    // A card's first line alone, then an unrelated number: not one card.
    let text = "card 4111 1111 1111 1111\n2024 was the year";
    assert_eq!(
        find(&det.scan(text), PiiType::CreditCard),
        ["4111 1111 1111 1111"]
    );
    // Invisible chars around a span are not part of it.
    let text = "\u{feff}\u{200b}a@example.com\u{200b}";
    let spans = det.scan(text);
    check_offsets(text, &spans);
    assert_eq!(find(&spans, PiiType::Email), ["a@example.com"]);
}

#[test]
fn internationalised_and_obfuscated_emails() {
    let det = Detector::default();
    for (text, want) in [
        ("écrire à zoé@société.fr merci", "zoé@société.fr"),
        ("adres łukasz@poczta.pl", "łukasz@poczta.pl"),
        ("почта: иван@пример.рф", "иван@пример.рф"),
        ("メール：すずき@例え.テスト", "すずき@例え.テスト"),
        ("e-mail müller@bücher.de.", "müller@bücher.de"),
        (
            "write to sam [at] example [dot] org now",
            "sam [at] example [dot] org",
        ),
        (
            "write to sam(at)example(dot)co(dot)uk",
            "sam(at)example(dot)co(dot)uk",
        ),
        ("write to sam {at} example.org", "sam {at} example.org"),
        (
            "write to sam at example [dot] org",
            "sam at example [dot] org",
        ),
        (
            "write to Sam [AT] Example [DOT] Org",
            "Sam [AT] Example [DOT] Org",
        ),
    ] {
        let spans = det.scan(text);
        check_offsets(text, &spans);
        assert_eq!(find(&spans, PiiType::Email), [want], "{text}");
    }
    for text in [
        "we met at example dot com",
        "look at the (at) sign",
        "price at 5 [dot] 00",
        "sam [at] localhost",
        "user@host",
    ] {
        assert!(find(&det.scan(text), PiiType::Email).is_empty(), "{text}");
    }
}

#[test]
fn bounded_work_on_phone_shaped_text() {
    // Thousands of distinct trunk-0 numbers that no region accepts: each is
    // asked about in every region with a trunk 0, so this is the slow path.
    let mut text = String::new();
    for k in 0..3_000u32 {
        text += &format!("0{:03} {:03} {:02} ", 100 + k % 900, k % 997, k % 89);
    }
    let started = std::time::Instant::now();
    let spans = Detector::default().scan(&text);
    check_offsets(&text, &spans);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
