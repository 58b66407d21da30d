//! PII detection and length-preserving masking for text.
//!
//! [`Detector::scan`] proposes spans; a person accepts or rejects them. The
//! scanners are hand-written; phone candidates are validated with
//! libphonenumber's metadata (`phone`). They read the text folded (`fold`:
//! NFKC width folding per char, zero-width chars U+200B–U+200D, U+2060,
//! U+FEFF and soft hyphens removed), run in time linear in the text times a
//! small constant (every candidate has a length cap), never panic on any
//! input, and report both char offsets (Unicode scalar values, Python `str` /
//! Rust `chars()`) and UTF-8 byte offsets into the original text,
//! end-exclusive; a span covers any invisible char or line break inside it.
//!
//! # What is detected
//!
//! | type | rule |
//! |---|---|
//! | [`PiiType::Email`] | `local@domain.tld` (RFC 6531): local part of ASCII letters/digits and `._%+-`, letters and digits of any script and combining marks, at most 64 chars; domain labels of letters/digits of any script and `-`, at least two labels, TLD of 2+ letters (all ASCII or none); a run of letters stops where the script changes between Latin and another script (`メールはtanaka@example.jpまで`). Obfuscated: `name [at] domain [dot] tld`, `(at)`/`(dot)`, `{}`, `<>`, any case, optionally spaced, `name [at] domain.tld`; a plain ` at ` only with a bracketed `dot`, a plain ` dot ` only after a bracketed `at` (`detail` `obfuscated`) |
//! | [`PiiType::Phone`] | a permissive scan for digit runs (`+`, `(+CC)`, groups joined by a space, `-`, `.`, `/` after the area code, parentheses, at most one line break), then libphonenumber's metadata (`phonenumber` crate, see `phone`): `+CC …` and `00CC …` valid or of a possible length for the country code; numbers without a country code valid in the detector's region ([`Detector::with_region`], the `pii_region` setting), else, with a trunk `0`, valid in a region that uses one, else NANP-shaped and valid in the US. Without `+`: every group 2+ digits (a leading NANP `1` and `0(532)` excepted), not a date, not a two-group decimal; an ungrouped run only within 30 chars after a phone keyword (`phone`, `tel`, `هاتف`, `電話`, …). A number wrapped onto a second line is read whole when both lines make one valid number. ASCII, full-width and Arabic-Indic digits |
//! | [`PiiType::CreditCard`] | 13–19 digits, ungrouped or grouped by one kind of separator (space or `-`) with a 4-digit first group (one line break between groups is accepted for a `High` card only); Luhn-valid and a known issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir) → `High`. A card-shaped number that fails either check is proposed only after a card keyword (`card`, `carte`, `Kreditkarte`, `بطاقة`, `カード`, …) and only as [`Confidence::Low`] |
//! | [`PiiType::Iban`] | country code + 2 check digits + BBAN with the exact length of that country (table below), optionally grouped by single spaces; mod-97 valid → `High`, failing → `Low` (a structurally perfect IBAN is still somebody's account, mistyped) |
//! | [`PiiType::IpAddress`] | IPv4 dotted quad, octets ≤ 255 without leading zeros (std's parser), not directly after a version word (`Version 4.1.1.1`); IPv6 candidates of hex digits, `:` and `.` parsed by `std::net::Ipv6Addr`, with at least two non-empty groups |
//! | [`PiiType::DateOfBirth`] | a date **only in context**: a keyword in the 40 chars before it (`born`, `birth`, `DOB`, `D.O.B.`, `née`/`né`, `naissance`, `geboren`, `geb.`, `Geburtsdatum`, `Geburtstag`, `ميلاد`, `生年月日`, `誕生日`) or in the 15 chars after it (`geboren`, `生まれ`, `生`; full lists in `DOB_BEFORE` / `DOB_AFTER`), with no sentence break (`\n`, `?`, `!`, `。`, `. `) in between. Date formats: `12/04/1985`, `12.04.1985`, `12-04-1985`, `1985-04-12` (any digit script), `April 12, 1985`, `12 Apr 1985`, `3. März 1990`, `12 avril 1985` (English, French and German month names and abbreviations), `1985年4月12日`, `平成2年3月3日` (Japanese eras) |
//! | [`PiiType::NationalId`] | US SSN `ddd-dd-dddd` / `ddd dd dddd` / 9 digits, only after an SSN keyword (`SSN`, `social security`, …; 9-digit 3-2-4 part numbers are common), excluding area 000, 666, 900–999, group 00, serial 0000 (`detail` `us_ssn`); UK National Insurance number `AB123456C` / `AB 12 34 56 C` with the HMRC prefix-letter exclusions (`uk_nino`); French NIR (sécurité sociale), 15 chars incl. Corsica `2A`/`2B`, key = 97 − (number mod 97) (`fr_nir`) |
//! | [`PiiType::Person`] | whole-word, case-sensitive matches of the admin's name list (multi-word names; any whitespace in the text matches a space in the name; an NFD-decomposed variant of each name is matched too; a directly preceding title such as `Dr.`, `Mrs`, `Herr`, `Mme` is included in the span). Names in scripts written without spaces (CJK) match without word boundaries |
//!
//! # What is not detected
//!
//! Postal addresses, organisations, free-form names not on the admin list,
//! licence plates, passport numbers, tax ids other than those above, dates of
//! birth without a keyword, numbers spelled out in words, obfuscated e-mail
//! in words other than `at`/`dot` (`[arroba]`), phone extensions
//! (`089 123456-0`, `ext. 12`), national numbers of a region other than the
//! default one written without a trunk `0` (`612 345 678` is Spanish only
//! with `pii_region` `ES`), an e-mail address glued to CJK prose in the
//! same script, lowercase IBANs, and checksum-failing cards outside a card
//! context. Scanning is per text: context never crosses records.
//!
//! # Overlaps
//!
//! Candidates are resolved greedily: `High` before `Low`, then longer before
//! shorter, then the more specific type (IBAN, card, national id, e-mail,
//! IP, date of birth, phone, person). The result is sorted and
//! non-overlapping.
//!
//! IBAN lengths: AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21
//! CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23
//! GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32
//! LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24
//! PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SD18 SE24 SI19 SK24 SM27 ST25 SV28
//! TL23 TN24 TR26 UA29 VA22 VG24 XK20.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

mod cards;
mod dates;
mod email;
mod fold;
mod ids;
mod phone;

use cards::*;
pub use cards::{iban_length, iban_valid, luhn_valid};
use dates::*;
use ids::*;

pub use phone::PhoneRegion;

/// The kind of personal data a span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiType {
    Email,
    Phone,
    CreditCard,
    Iban,
    /// IPv4 or IPv6; [`PiiSpan::detail`] says which.
    IpAddress,
    DateOfBirth,
    /// A national identification number; [`PiiSpan::detail`] names the scheme.
    NationalId,
    Person,
    /// Added by hand only (the detector does not find postal addresses).
    Address,
    /// Added by hand only: anything else an admin wants masked.
    Other,
}

impl PiiType {
    /// Every type the detector emits, in declaration order ([`PiiType::Address`]
    /// and [`PiiType::Other`] are only ever added by a person).
    pub const ALL: [PiiType; 8] = [
        PiiType::Email,
        PiiType::Phone,
        PiiType::CreditCard,
        PiiType::Iban,
        PiiType::IpAddress,
        PiiType::DateOfBirth,
        PiiType::NationalId,
        PiiType::Person,
    ];

    /// Upper-case tag, as used in the fixtures and in [`MaskStyle::Tag`].
    pub fn tag(self) -> &'static str {
        match self {
            PiiType::Email => "EMAIL",
            PiiType::Phone => "PHONE",
            PiiType::CreditCard => "CREDIT_CARD",
            PiiType::Iban => "IBAN",
            PiiType::IpAddress => "IP_ADDRESS",
            PiiType::DateOfBirth => "DATE_OF_BIRTH",
            PiiType::NationalId => "NATIONAL_ID",
            PiiType::Person => "PERSON",
            PiiType::Address => "ADDRESS",
            PiiType::Other => "PII",
        }
    }

    /// Tie-break between equally long overlapping candidates: lower wins.
    /// Checksummed and strongly delimited types are more trustworthy than
    /// the looser phone and name rules.
    fn specificity(self) -> u8 {
        match self {
            PiiType::Iban => 0,
            PiiType::CreditCard => 1,
            PiiType::NationalId => 2,
            PiiType::Email => 3,
            PiiType::IpAddress => 4,
            PiiType::DateOfBirth => 5,
            PiiType::Phone => 6,
            PiiType::Person => 7,
            PiiType::Address => 8,
            PiiType::Other => 9,
        }
    }
}

/// How sure the detector is. `Low` spans are suggestions the admin must
/// accept by hand (checksum-failing cards and IBANs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Low,
}

/// One proposed span. `start`/`end` count chars, `byte_start`/`byte_end`
/// UTF-8 bytes; both end-exclusive and both exact for any Unicode text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiSpan {
    pub kind: PiiType,
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub text: String,
    pub confidence: Confidence,
    /// Sub-kind or reason: `ipv4`, `ipv6`, `us_ssn`, `uk_nino`, `fr_nir`,
    /// `obfuscated` (e-mail), `luhn_failed`, `unknown_issuer`, `mod97_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Longest name (in chars) taken from the admin list; longer entries are
/// ignored (they are not names, and they would make matching slower).
pub const MAX_NAME_CHARS: usize = 128;

/// The detector. Holds the admin-provided person names and the default
/// region for national phone formats; everything else is rule-based.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    region: PhoneRegion,
    names: Vec<String>,
    /// Name patterns (given form plus NFD variant) as chars.
    patterns: Vec<Vec<char>>,
    /// First char → indices into `patterns`, longest pattern first.
    by_first: HashMap<char, Vec<usize>>,
}

impl Detector {
    /// A detector for the given person names. Names are trimmed; empty ones
    /// and ones longer than [`MAX_NAME_CHARS`] are dropped.
    pub fn new<I, S>(names: I) -> Detector
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|s| s.into().trim().to_string())
            .filter(|s| !s.is_empty() && s.chars().count() <= MAX_NAME_CHARS)
            .collect();
        names.sort();
        names.dedup();
        let mut patterns: Vec<Vec<char>> = Vec::new();
        for name in &names {
            let given: Vec<char> = name.chars().collect();
            let nfd = decompose_latin(&given);
            if nfd != given {
                patterns.push(nfd);
            }
            patterns.push(given);
        }
        let mut by_first: HashMap<char, Vec<usize>> = HashMap::new();
        for (idx, p) in patterns.iter().enumerate() {
            if let Some(&c) = p.first() {
                by_first.entry(c).or_default().push(idx);
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(patterns[i].len()));
        }
        Detector {
            region: PhoneRegion::default(),
            names,
            patterns,
            by_first,
        }
    }

    /// The same detector reading national phone numbers (no country code)
    /// as numbers of `region` first (the `pii_region` setting).
    #[must_use]
    pub fn with_region(self, region: PhoneRegion) -> Detector {
        Detector { region, ..self }
    }

    /// The default region for national phone formats.
    pub fn region(&self) -> PhoneRegion {
        self.region
    }

    /// A detector from a name list file's text: one name per line, blank
    /// lines and lines starting with `#` ignored.
    pub fn from_name_list(list: &str) -> Detector {
        Detector::new(
            list.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        )
    }

    /// The admin's names as accepted (trimmed, sorted, deduplicated).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Proposes PII spans in `text`: sorted by start, non-overlapping.
    ///
    /// The scanners read the folded text (see `fold`: full-width forms
    /// folded, zero-width chars and soft hyphens removed); every span is
    /// mapped back and reported in the original's offsets.
    pub fn scan(&self, text: &str) -> Vec<PiiSpan> {
        let t = Text::new(text);
        let cs = &t.folded.cs;
        let hidden = |s: usize, e: usize| t.has_hidden(s, e);
        let mut cands = Vec::new();
        email::scan_emails(cs, &mut cands);
        email::scan_obfuscated_emails(cs, &mut cands);
        scan_ipv6(cs, &mut cands);
        scan_ipv4(cs, &mut cands);
        scan_ibans(cs, &mut cands);
        scan_cards(cs, &mut cands);
        scan_ssn(cs, &mut cands);
        scan_nino(cs, &mut cands);
        scan_nir(cs, &mut cands);
        phone::scan_phones(cs, self.region, &hidden, &mut cands);
        scan_dates_of_birth(cs, &mut cands);
        self.scan_names(cs, &mut cands);
        resolve(cands, cs.len())
            .into_iter()
            .map(|c| t.span(c))
            .collect()
    }

    fn scan_names(&self, cs: &[char], out: &mut Vec<Cand>) {
        if self.patterns.is_empty() {
            return;
        }
        for i in 0..cs.len() {
            let Some(list) = self.by_first.get(&cs[i]) else {
                continue;
            };
            // Longest first: only the longest name starting here is proposed.
            for &pi in list {
                let p = &self.patterns[pi];
                let end = i + p.len();
                if end > cs.len() {
                    continue;
                }
                let same = p
                    .iter()
                    .zip(&cs[i..end])
                    .all(|(&pc, &tc)| pc == tc || (pc == ' ' && tc.is_whitespace()));
                if !same || !name_boundaries_ok(cs, i, end, p) {
                    continue;
                }
                let start = title_start(cs, i);
                out.push(Cand::high(PiiType::Person, start, end, None));
                break;
            }
        }
    }

    /// Scans every record of a TXT, JSONL or CSV input. See [`InputKind`] for
    /// what a record is. A bad record becomes a [`RecordError`] with its line
    /// number and scanning goes on; only an input that cannot be read at all
    /// (TXT that is not UTF-8, a CSV header without `field`) is an `Err`.
    ///
    /// `field` names the text: the JSON key of each JSONL object, or the CSV
    /// column. It is ignored for TXT. The record id is taken from an `id`
    /// key/column when there is one (JSON strings and numbers).
    pub fn scan_records(
        &self,
        input: &[u8],
        kind: InputKind,
        field: &str,
    ) -> Result<RecordsReport, ScanInputError> {
        match kind {
            InputKind::Txt => {
                let text = std::str::from_utf8(input).map_err(|e| ScanInputError::NotUtf8 {
                    byte: e.valid_up_to(),
                })?;
                Ok(RecordsReport {
                    records: vec![RecordScan {
                        line: 1,
                        id: None,
                        spans: self.scan(text),
                    }],
                    errors: Vec::new(),
                })
            }
            InputKind::Jsonl => Ok(self.scan_jsonl(input, field)),
            InputKind::Csv => self.scan_csv(input, field),
        }
    }

    fn scan_jsonl(&self, input: &[u8], field: &str) -> RecordsReport {
        let mut report = RecordsReport::default();
        for (idx, raw) in input.split(|&b| b == b'\n').enumerate() {
            let line = idx + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let err = |id: Option<String>, message: String| RecordError { line, id, message };
            let value: serde_json::Value = match serde_json::from_slice(raw) {
                Ok(v) => v,
                Err(e) => {
                    report
                        .errors
                        .push(err(None, format!("not valid JSON: {e}")));
                    continue;
                }
            };
            let Some(obj) = value.as_object() else {
                report
                    .errors
                    .push(err(None, "not a JSON object".to_string()));
                continue;
            };
            let id = match obj.get("id") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match obj.get(field) {
                Some(serde_json::Value::String(text)) => report.records.push(RecordScan {
                    line,
                    id,
                    spans: self.scan(text),
                }),
                Some(_) => report
                    .errors
                    .push(err(id, format!("field {field:?} is not a string"))),
                None => report
                    .errors
                    .push(err(id, format!("field {field:?} is missing"))),
            }
        }
        report
    }

    fn scan_csv(&self, input: &[u8], field: &str) -> Result<RecordsReport, ScanInputError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let headers = reader
            .byte_headers()
            .map_err(|e| ScanInputError::CsvHeader(e.to_string()))?
            .clone();
        let header_name = |i: usize, h: &[u8]| -> String {
            let s = String::from_utf8_lossy(h);
            // A BOM sticks to the first header name; it is not part of it.
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_string()
            } else {
                s.into_owned()
            }
        };
        let names: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| header_name(i, h))
            .collect();
        let Some(text_col) = names.iter().position(|n| n == field) else {
            return Err(ScanInputError::MissingColumn {
                column: field.to_string(),
                header: names,
            });
        };
        let id_col = names.iter().position(|n| n == "id");
        let mut report = RecordsReport::default();
        let mut record = csv::ByteRecord::new();
        // With an in-memory reader every error is a parse error of one
        // record and the reader moves on; the cap only guards against a
        // reader that stops making progress.
        let mut errors_left = input.len() + 1;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line() as usize);
                    let id = id_col
                        .and_then(|c| record.get(c))
                        .map(|b| String::from_utf8_lossy(b).into_owned());
                    let Some(bytes) = record.get(text_col) else {
                        report.errors.push(RecordError {
                            line,
                            id,
                            message: format!(
                                "record has {} fields, column {field:?} is field {}",
                                record.len(),
                                text_col + 1
                            ),
                        });
                        continue;
                    };
                    match std::str::from_utf8(bytes) {
                        Ok(text) => report.records.push(RecordScan {
                            line,
                            id,
                            spans: self.scan(text),
                        }),
                        Err(e) => report.errors.push(RecordError {
                            line,
                            id,
                            message: format!(
                                "column {field:?} is not UTF-8 (invalid byte at {})",
                                e.valid_up_to()
                            ),
                        }),
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    report.errors.push(RecordError {
                        line,
                        id: None,
                        message: e.to_string(),
                    });
                    errors_left = errors_left.saturating_sub(1);
                    if errors_left == 0 {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }
}

/// What a record is for [`Detector::scan_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// The whole input is one UTF-8 text (offsets are into the whole file);
    /// reported as line 1 with no id.
    Txt,
    /// One JSON object per line; blank lines are skipped; `\r\n` accepted.
    Jsonl,
    /// RFC 4180 CSV with a header row; quoted fields may span lines, and a
    /// record's line is the line it starts on (the header is line 1).
    Csv,
}

/// The spans of one record. Offsets are into the record's text field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordScan {
    /// 1-based line where the record starts.
    pub line: usize,
    pub id: Option<String>,
    pub spans: Vec<PiiSpan>,
}

/// A record that could not be scanned; the others still were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RecordError {
    /// 1-based line (0 if the CSV reader could not say).
    pub line: usize,
    pub id: Option<String>,
    pub message: String,
}

/// Everything [`Detector::scan_records`] found, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsReport {
    pub records: Vec<RecordScan>,
    pub errors: Vec<RecordError>,
}

/// Inputs that cannot be scanned at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanInputError {
    #[error("text is not UTF-8 (first invalid byte at {byte})")]
    NotUtf8 { byte: usize },
    #[error("CSV header cannot be read: {0}")]
    CsvHeader(String),
    #[error("CSV header has no column {column:?} (columns: {header:?})")]
    MissingColumn { column: String, header: Vec<String> },
}

/// How [`mask`] replaces the chars of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// `█` (U+2588) for every char.
    Block,
    /// The given char for every char (e.g. `'X'` or `'*'`).
    Char(char),
    /// The type tag in brackets, then `█` up to the span's length:
    /// `[EMAIL]█████████`. A span shorter than the bracketed tag gets the
    /// tag's first chars (`[EMA`), so the length never changes.
    Tag,
}

/// Masks `spans` in `text`, keeping the length in chars: char offsets of
/// every label, before or after masking, stay valid (byte offsets do not when
/// a replacement char has another UTF-8 width than the original). Line
/// breaks (`\n`, `\r`) inside a span are kept so line numbers stay valid too.
/// Spans use their char offsets; spans past the end or empty are ignored,
/// and where spans overlap the earlier-starting one is drawn.
pub fn mask(text: &str, spans: &[PiiSpan], style: MaskStyle) -> String {
    let cs: Vec<char> = text.chars().collect();
    let mut repl: Vec<Option<char>> = vec![None; cs.len()];
    let mut order: Vec<&PiiSpan> = spans.iter().collect();
    order.sort_by_key(|s| (s.start, s.end));
    for s in order {
        if s.start >= s.end || s.end > cs.len() {
            continue;
        }
        let tag: Vec<char> = match style {
            MaskStyle::Tag => format!("[{}]", s.kind.tag()).chars().collect(),
            _ => Vec::new(),
        };
        for (offset, slot) in repl[s.start..s.end].iter_mut().enumerate() {
            if slot.is_some() {
                continue; // an earlier-starting span already drew here
            }
            *slot = Some(match style {
                MaskStyle::Block => '█',
                MaskStyle::Char(c) => c,
                MaskStyle::Tag => tag.get(offset).copied().unwrap_or('█'),
            });
        }
    }
    cs.iter()
        .zip(repl)
        .map(|(&c, r)| match r {
            Some(_) if c == '\n' || c == '\r' => c,
            Some(m) => m,
            None => c,
        })
        .collect()
}

/// Whether `code` is a region the detector accepts for national phone
/// formats (the `pii_region` setting): an upper-case ISO 3166-1 alpha-2
/// code whose numbering plan libphonenumber knows.
pub fn valid_region(code: &str) -> bool {
    PhoneRegion::parse(code).is_some()
}

// ---------------------------------------------------------------------------
// Internals

/// The text as folded chars (what the scanners read), with the byte offset
/// of every original char (and of the end), so spans found in the folded
/// text get exact char and byte offsets into the original.
struct Text<'a> {
    text: &'a str,
    folded: fold::Folded,
    bo: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(text: &'a str) -> Text<'a> {
        let mut cs = Vec::with_capacity(text.len());
        let mut bo = Vec::with_capacity(text.len() + 1);
        for (b, c) in text.char_indices() {
            cs.push(c);
            bo.push(b);
        }
        bo.push(text.len());
        Text {
            text,
            folded: fold::Folded::new(&cs),
            bo,
        }
    }

    /// Were invisible chars removed between folded chars `s..e`?
    fn has_hidden(&self, s: usize, e: usize) -> bool {
        self.folded
            .source
            .get(s..e)
            .is_some_and(|src| src.windows(2).any(|w| w[1] > w[0] + 1))
    }

    fn span(&self, c: Cand) -> PiiSpan {
        let (start, end) = self.folded.original_range(c.s, c.e);
        let byte_start = self.bo[start];
        let byte_end = self.bo[end];
        PiiSpan {
            kind: c.kind,
            start,
            end,
            byte_start,
            byte_end,
            text: self
                .text
                .get(byte_start..byte_end)
                .unwrap_or_default()
                .to_string(),
            confidence: c.conf,
            detail: c.detail.map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    kind: PiiType,
    s: usize,
    e: usize,
    conf: Confidence,
    detail: Option<&'static str>,
}

impl Cand {
    fn high(kind: PiiType, s: usize, e: usize, detail: Option<&'static str>) -> Cand {
        Cand {
            kind,
            s,
            e,
            conf: Confidence::High,
            detail,
        }
    }
    fn low(kind: PiiType, s: usize, e: usize, detail: &'static str) -> Cand {
        Cand {
            kind,
            s,
            e,
            conf: Confidence::Low,
            detail: Some(detail),
        }
    }
}

fn resolve(mut cands: Vec<Cand>, n: usize) -> Vec<Cand> {
    cands.retain(|c| c.s < c.e && c.e <= n);
    cands.sort_by_key(|c| {
        (
            c.conf == Confidence::Low,
            std::cmp::Reverse(c.e - c.s),
            c.kind.specificity(),
            c.s,
        )
    });
    let mut taken = vec![false; n];
    let mut out = Vec::new();
    for c in cands {
        if taken[c.s..c.e].iter().any(|&t| t) {
            continue;
        }
        taken[c.s..c.e].iter_mut().for_each(|t| *t = true);
        out.push(c);
    }
    out.sort_by_key(|c| c.s);
    out
}

/// Value of a decimal digit in ASCII, full-width or (Extended) Arabic-Indic
/// script: customers type all of these.
fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    u8::try_from(c as u32 - base as u32).ok()
}

fn is_digit(c: char) -> bool {
    digit_value(c).is_some()
}

/// Chars that make a number part of a bigger token (`ORD2024`, `x80070005`).
/// Letters of other scripts are not glue: Japanese and Arabic write numbers
/// directly next to words (`番号3530 1113…`).
fn is_glue(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || is_digit(c)
        || ('\u{FF21}'..='\u{FF3A}').contains(&c)
        || ('\u{FF41}'..='\u{FF5A}').contains(&c)
}

/// Punctuation that joins tokens when glue is on both sides
/// (`ORD-2024-88431`, `4.1.1.1`, `2016/679`, `10:30`).
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '.' | '/' | ':' | '－' | '_')
}

/// May a number-like token start at `i`?
fn left_ok(cs: &[char], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = cs[i - 1];
    if is_glue(p) {
        return false;
    }
    !(is_joiner(p) && i >= 2 && is_glue(cs[i - 2]))
}

/// May a number-like token end before `j`?
fn right_ok(cs: &[char], j: usize) -> bool {
    if j >= cs.len() {
        return true;
    }
    let c = cs[j];
    if is_glue(c) {
        return false;
    }
    !(is_joiner(c) && j + 1 < cs.len() && is_glue(cs[j + 1]))
}

fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (('\u{00C0}'..='\u{024F}').contains(&c) && c != '×' && c != '÷')
        || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Does `kw` (lower case) occur at `k`, case-insensitively, as a whole word
/// where its ends are Latin letters? Keywords in other scripts match as
/// substrings, because Arabic attaches articles (`الميلاد`) and CJK has no
/// spaces.
fn keyword_at(cs: &[char], k: usize, kw: &[char]) -> bool {
    let end = k + kw.len();
    if end > cs.len() || !kw.iter().zip(&cs[k..end]).all(|(&a, &b)| lower(b) == a) {
        return false;
    }
    let is_word = |c: char| c.is_alphabetic() || is_combining(c);
    if kw.first().is_some_and(|&c| is_latin_letter(c)) && k > 0 && is_word(cs[k - 1]) {
        return false;
    }
    if kw.last().is_some_and(|&c| is_latin_letter(c)) && end < cs.len() && is_word(cs[end]) {
        return false;
    }
    true
}

/// A sentence break between keyword and value means they are unrelated.
fn has_break(cs: &[char], from: usize, to: usize) -> bool {
    (from..to.min(cs.len())).any(|k| match cs[k] {
        '\n' | '\r' | '?' | '!' | '。' | '？' | '！' => true,
        '.' => cs.get(k + 1).is_some_and(|c| c.is_whitespace()),
        _ => false,
    })
}

/// Is one of `kws` within `window` chars before `start`, with no sentence
/// break between it and `start`?
fn keyword_before(cs: &[char], start: usize, window: usize, kws: &[&str]) -> bool {
    let from = start.saturating_sub(window);
    kws.iter().any(|kw| {
        let kw: Vec<char> = kw.chars().collect();
        (from..start).any(|k| {
            k + kw.len() <= start && keyword_at(cs, k, &kw) && !has_break(cs, k + kw.len(), start)
        })
    })
}

/// Is one of `kws` within `window` chars after `end`, with no break between?
fn keyword_after(cs: &[char], end: usize, window: usize, kws: &[&str]) -> bool {
    let to = (end + window).min(cs.len());
    kws.iter().any(|kw| {
        let kw: Vec<char> = kw.chars().collect();
        (end..to).any(|k| keyword_at(cs, k, &kw) && !has_break(cs, end, k))
    })
}

// --- IP addresses ---------------------------------------------------------

/// Words after which a dotted quad is a version, not an address.
const VERSION_WORDS: &[&str] = &[
    "version", "ver", "v", "build", "release", "rel", "firmware", "fw", "update", "versión",
    "versão", "patch",
];

fn after_version_word(cs: &[char], i: usize) -> bool {
    let mut k = i;
    while k > 0 && cs[k - 1].is_whitespace() && i - k < 3 {
        k -= 1;
    }
    let end = k;
    while k > 0 && end - k < 12 && (cs[k - 1].is_alphabetic() || cs[k - 1] == '.') {
        k -= 1;
    }
    let word: String = cs[k..end]
        .iter()
        .map(|&c| lower(c))
        .collect::<String>()
        .trim_matches('.')
        .to_string();
    VERSION_WORDS.contains(&word.as_str())
}

fn scan_ipv4(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    for i in 0..n {
        if !cs[i].is_ascii_digit() || !left_ok(cs, i) {
            continue;
        }
        let mut j = i;
        while j < n && j - i < 16 && (cs[j].is_ascii_digit() || cs[j] == '.') {
            j += 1;
        }
        while j > i && cs[j - 1] == '.' {
            j -= 1;
        }
        if !right_ok(cs, j) {
            continue;
        }
        let cand: String = cs[i..j].iter().collect();
        if cand.split('.').count() == 4
            && cand.parse::<Ipv4Addr>().is_ok()
            && !after_version_word(cs, i)
        {
            out.push(Cand::high(PiiType::IpAddress, i, j, Some("ipv4")));
        }
    }
}

fn scan_ipv6(cs: &[char], out: &mut Vec<Cand>) {
    const MAX: usize = 45; // longest textual IPv6 (with embedded IPv4)
    let n = cs.len();
    let is_v6 = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
    let mut i = 0;
    while i < n {
        let starts = (cs[i].is_ascii_hexdigit() || cs[i] == ':')
            && (i == 0
                || !(cs[i - 1].is_ascii_alphanumeric() || matches!(cs[i - 1], ':' | '.' | '_')));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && is_v6(cs[j]) {
            j += 1;
        }
        let run_end = j;
        if j - i <= MAX + 2 {
            while j > i && cs[j - 1] == '.' {
                j -= 1;
            }
            if j >= i + 2 && cs[j - 1] == ':' && cs[j - 2] != ':' {
                j -= 1;
            }
            let right = j >= n || !(cs[j].is_ascii_alphanumeric() || cs[j] == '_');
            let cand: String = cs[i..j].iter().collect();
            let groups = cand.split(':').filter(|g| !g.is_empty()).count();
            if right
                && cand.len() <= MAX
                && cand.matches(':').count() >= 2
                && groups >= 2
                && cand.parse::<Ipv6Addr>().is_ok()
            {
                out.push(Cand::high(PiiType::IpAddress, i, j, Some("ipv6")));
            }
        }
        i = run_end.max(i + 1);
    }
}

// --- phone numbers (see `phone`) -----------------------------------------------

fn is_phone_space(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}')
}

// --- person names -------------------------------------------------------------

/// Scripts written without spaces between words: no word boundaries there.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0x20000..=0x2FFFF | 0x0E00..=0x0E7F)
}

fn name_boundaries_ok(cs: &[char], s: usize, e: usize, p: &[char]) -> bool {
    let word = |c: char| c.is_alphanumeric() || is_combining(c) || c == '_';
    let left = match p.first() {
        Some(&c) if !is_unspaced_script(c) => s == 0 || !word(cs[s - 1]),
        _ => true,
    };
    let right = match p.last() {
        Some(&c) if !is_unspaced_script(c) => e >= cs.len() || !word(cs[e]),
        _ => e >= cs.len() || !is_combining(cs[e]),
    };
    left && right
}

/// Titles included in a person span when they directly precede the name.
const TITLES: &[&str] = &[
    "Dr.", "Dr", "Mr.", "Mr", "Mrs.", "Mrs", "Ms.", "Ms", "Prof.", "Prof", "Herr", "Frau", "Mme",
    "Mlle", "M.",
];

fn title_start(cs: &[char], s: usize) -> usize {
    if s < 2 || !cs[s - 1].is_whitespace() || cs[s - 1] == '\n' {
        return s;
    }
    let sp = s - 1;
    for t in TITLES {
        let t: Vec<char> = t.chars().collect();
        if sp < t.len() {
            continue;
        }
        let ts = sp - t.len();
        if cs[ts..sp] == t[..] && (ts == 0 || !(cs[ts - 1].is_alphanumeric() || cs[ts - 1] == '.'))
        {
            return ts;
        }
    }
    s
}

/// Canonical decomposition of the precomposed Latin letters names commonly
/// carry, so `Amélie` on the admin list finds NFD text (`Ame\u{301}lie`).
/// Not full Unicode normalisation (no crate for that here).
fn decompose_latin(name: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(name.len() + 4);
    for &c in name {
        match latin_decomposition(c) {
            Some((base, mark)) => {
                out.push(base);
                out.push(mark);
            }
            None => out.push(c),
        }
    }
    out
}

fn latin_decomposition(c: char) -> Option<(char, char)> {
    const GRAVE: char = '\u{300}';
    const ACUTE: char = '\u{301}';
    const CIRC: char = '\u{302}';
    const TILDE: char = '\u{303}';
    const DIAER: char = '\u{308}';
    const RING: char = '\u{30A}';
    const CARON: char = '\u{30C}';
    const CEDIL: char = '\u{327}';
    const DACUTE: char = '\u{30B}';
    let (base, mark) = match c {
        'À' => ('A', GRAVE),
        'Á' => ('A', ACUTE),
        'Â' => ('A', CIRC),
        'Ã' => ('A', TILDE),
        'Ä' => ('A', DIAER),
        'Å' => ('A', RING),
        'Ç' => ('C', CEDIL),
        'È' => ('E', GRAVE),
        'É' => ('E', ACUTE),
        'Ê' => ('E', CIRC),
        'Ë' => ('E', DIAER),
        'Ì' => ('I', GRAVE),
        'Í' => ('I', ACUTE),
        'Î' => ('I', CIRC),
        'Ï' => ('I', DIAER),
        'Ñ' => ('N', TILDE),
        'Ò' => ('O', GRAVE),
        'Ó' => ('O', ACUTE),
        'Ô' => ('O', CIRC),
        'Õ' => ('O', TILDE),
        'Ö' => ('O', DIAER),
        'Ù' => ('U', GRAVE),
        'Ú' => ('U', ACUTE),
        'Û' => ('U', CIRC),
        'Ü' => ('U', DIAER),
        'Ý' => ('Y', ACUTE),
        'à' => ('a', GRAVE),
        'á' => ('a', ACUTE),
        'â' => ('a', CIRC),
        'ã' => ('a', TILDE),
        'ä' => ('a', DIAER),
        'å' => ('a', RING),
        'ç' => ('c', CEDIL),
        'è' => ('e', GRAVE),
        'é' => ('e', ACUTE),
        'ê' => ('e', CIRC),
        'ë' => ('e', DIAER),
        'ì' => ('i', GRAVE),
        'í' => ('i', ACUTE),
        'î' => ('i', CIRC),
        'ï' => ('i', DIAER),
        'ñ' => ('n', TILDE),
        'ò' => ('o', GRAVE),
        'ó' => ('o', ACUTE),
        'ô' => ('o', CIRC),
        'õ' => ('o', TILDE),
        'ö' => ('o', DIAER),
        'ù' => ('u', GRAVE),
        'ú' => ('u', ACUTE),
        'û' => ('u', CIRC),
        'ü' => ('u', DIAER),
        'ý' => ('y', ACUTE),
        'ÿ' => ('y', DIAER),
        'Č' => ('C', CARON),
        'č' => ('c', CARON),
        'Š' => ('S', CARON),
        'š' => ('s', CARON),
        'Ž' => ('Z', CARON),
        'ž' => ('z', CARON),
        'Ř' => ('R', CARON),
        'ř' => ('r', CARON),
        'Ő' => ('O', DACUTE),
        'ő' => ('o', DACUTE),
        'Ű' => ('U', DACUTE),
        'ű' => ('u', DACUTE),
        _ => return None,
    };
    Some((base, mark))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(PiiType, String)> {
        Detector::default()
            .scan(text)
            .into_iter()
            .map(|s| (s.kind, s.text))
            .collect()
    }

    #[test]
    fn luhn_edge_cases() {
        assert!(luhn_valid(&[0]));
        assert!(!luhn_valid(&[]));
        assert!(!luhn_valid(&[10]));
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_valid(&d("4111111111111111")));
        assert!(!luhn_valid(&d("4111111111111112")));
        assert!(luhn_valid(&d("378282246310005")));
        assert!(luhn_valid(&d("79927398713")));
    }

    #[test]
    fn iban_checks() {
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("GB82WEST12345698765431"));
        assert!(!iban_valid("DE89 3704 0044 0532 0130 0")); // wrong length
        assert!(!iban_valid("XX89370400440532013000")); // unknown country
        assert!(!iban_valid("de89370400440532013000")); // lower case
        assert!(!iban_valid(""));
        assert_eq!(iban_length("NO"), Some(15));
    }

    #[test]
    fn ip_rules() {
        assert_eq!(
            kinds("from 192.0.2.255 now"),
            [(PiiType::IpAddress, "192.0.2.255".into())]
        );
        assert!(kinds("999.1.1.1 and 10.4 and 1.2.3.4.5").is_empty());
        assert!(kinds("Version 4.1.1.1 crashes").is_empty());
        assert!(kinds("at 10:30, 12:30:45").is_empty());
        assert_eq!(
            kinds("ip ::ffff:192.0.2.1."),
            [(PiiType::IpAddress, "::ffff:192.0.2.1".into())]
        );
        assert_eq!(kinds("(fe80::1)"), [(PiiType::IpAddress, "fe80::1".into())]);
    }

    #[test]
    fn nir_key() {
        let cs: Vec<char> = "255081416802538".chars().collect();
        assert!(nir_valid(&cs));
        let cs: Vec<char> = "255081416802539".chars().collect();
        assert!(!nir_valid(&cs));
    }

    #[test]
    fn no_panic_on_odd_input() {
        let d = Detector::new(["A", "Ž"]);
        for t in [
            "",
            "@",
            "+",
            "(",
            "+(",
            "1-",
            "IBAN DE8",
            "2001:",
            "::",
            "\u{301}",
            "年月日",
            "平成元年",
            "A@b.c",
        ] {
            let _ = d.scan(t);
        }
    }
}
