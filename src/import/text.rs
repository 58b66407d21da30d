//! Text validation: PII offsets are computed on exact text, so encodings are decoded strictly
//! (no silent U+FFFD) and every JSONL/CSV record that cannot be imported is reported by line,
//! never dropped quietly, while the good records of the same file still come through.

use serde_json::{Map, Value};

use super::{
    AcceptedItem, ImportError, ImportOptions, Inspected, MediaInfo, MediaKind, RecordError,
    make_item,
};

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

fn offset(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The UTF-16 flavour a byte-order mark announces, if any: such a file is
/// converted to UTF-8 and the import report says so.
pub(super) fn utf16_bom(bytes: &[u8]) -> Option<&'static str> {
    match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some("UTF-16LE"),
        Some([0xFE, 0xFF]) => Some("UTF-16BE"),
        _ => None,
    }
}

/// Decodes a whole `.txt` file: UTF-8 (BOM stripped) or UTF-16 with a BOM, strictly.
pub(super) fn decode_txt(bytes: Vec<u8>) -> Result<String, ImportError> {
    let text = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => decode_utf16(&bytes, u16::from_le_bytes)?,
        Some([0xFE, 0xFF]) => decode_utf16(&bytes, u16::from_be_bytes)?,
        _ => {
            let bom = if bytes.starts_with(UTF8_BOM) {
                UTF8_BOM.len()
            } else {
                0
            };
            let body = bytes.get(bom..).unwrap_or_default();
            if let Err(e) = std::str::from_utf8(body) {
                return Err(ImportError::InvalidUtf8 {
                    offset: offset(bom.saturating_add(e.valid_up_to())),
                });
            }
            let mut bytes = bytes;
            bytes.drain(..bom);
            String::from_utf8(bytes).map_err(|e| ImportError::InvalidUtf8 {
                offset: offset(bom.saturating_add(e.utf8_error().valid_up_to())),
            })?
        }
    };
    // UTF-8 allows NUL, but in a .txt it means binary data or BOM-less UTF-16.
    if let Some(pos) = text.bytes().position(|b| b == 0) {
        return Err(ImportError::NulInText {
            offset: offset(pos),
        });
    }
    if text.is_empty() {
        return Err(ImportError::EmptyText);
    }
    Ok(text)
}

/// A `.jsonl` / `.csv` file saved as UTF-16 with a byte-order mark (Excel's "Unicode text",
/// Windows Notepad) is decoded to UTF-8 first, exactly as a `.txt` is; without this every line
/// would be refused as "invalid UTF-8 at byte offset 0", which names neither the cause nor the
/// fix. Any other file is returned unchanged. Line numbers stay those of the file; byte offsets
/// and JSON columns in record errors then count UTF-8 bytes of the decoded text.
pub(super) fn records_as_utf8(bytes: Vec<u8>) -> Result<Vec<u8>, ImportError> {
    let text = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => decode_utf16(&bytes, u16::from_le_bytes)?,
        Some([0xFE, 0xFF]) => decode_utf16(&bytes, u16::from_be_bytes)?,
        _ => return Ok(bytes),
    };
    Ok(text.into_bytes())
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ImportError> {
    let body = bytes.get(2..).unwrap_or_default();
    if body.len() % 2 != 0 {
        return Err(ImportError::InvalidUtf16 {
            offset: offset(bytes.len().saturating_sub(1)),
            reason: "odd number of bytes, the last code unit is cut off",
        });
    }
    let units = body.chunks_exact(2).map(|pair| {
        unit([
            pair.first().copied().unwrap_or(0),
            pair.get(1).copied().unwrap_or(0),
        ])
    });
    let mut text = String::with_capacity(body.len());
    let mut pos: usize = 2;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                text.push(c);
                pos = pos.saturating_add(c.len_utf16().saturating_mul(2));
            }
            Err(_) => {
                return Err(ImportError::InvalidUtf16 {
                    offset: offset(pos),
                    reason: "unpaired surrogate",
                });
            }
        }
    }
    Ok(text)
}

/// An id usable as a name suffix: strings (non-empty) and numbers only.
fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// On a line that is not valid JSON, the id can often still be read when it is the first key,
/// which makes the error report far easier to act on.
fn salvage_id(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest
        .strip_prefix("\"id\"")?
        .trim_start()
        .strip_prefix(':')?;
    let value = serde_json::Deserializer::from_str(rest)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    id_string(&value)
}

/// serde_json's message ends with " at line 1 column N"; each JSONL line is parsed alone, so
/// only the column means anything.
fn json_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let base = full
        .rfind(" at line ")
        .and_then(|i| full.get(..i))
        .unwrap_or(&full);
    format!("invalid JSON at column {}: {base}", err.column())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text_item(name: String, text: String, metadata: Map<String, Value>) -> AcceptedItem {
    let char_len = offset(text.chars().count());
    make_item(
        name,
        MediaKind::Text,
        text.into_bytes(),
        MediaInfo::Text { char_len },
        Value::Object(metadata),
    )
}

/// One record per non-empty line; bad lines become [`RecordError`]s.
pub(super) fn parse_jsonl(
    file_name: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<Inspected, ImportError> {
    let field = options.text_field();
    let limit = options.limits.max_records_per_file;
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let bom = bytes.len().saturating_sub(body.len());
    let mut out = Inspected::default();
    let mut records: usize = 0;
    let mut line_start = bom;

    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line_no = offset(index).saturating_add(1);
        let start = line_start;
        line_start = line_start.saturating_add(raw.len()).saturating_add(1);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records = records.saturating_add(1);
        if records > limit {
            return Err(ImportError::TooManyRecords { limit });
        }
        let fail = |record_id: Option<String>, message: String| RecordError {
            line: line_no,
            record_id,
            message,
        };
        let line = match std::str::from_utf8(raw) {
            Ok(line) => line,
            Err(e) => {
                let at = start.saturating_add(e.valid_up_to());
                out.errors.push(fail(
                    None,
                    format!("invalid UTF-8 at byte offset {at} of the file"),
                ));
                continue;
            }
        };
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.errors.push(fail(salvage_id(line), json_message(&e)));
                continue;
            }
        };
        let Value::Object(mut object) = value else {
            out.errors.push(fail(
                None,
                format!("expected a JSON object, found {}", json_type(&value)),
            ));
            continue;
        };
        let id = object.get("id").and_then(id_string);
        let text = match object.remove(field) {
            Some(Value::String(text)) => text,
            Some(other) => {
                out.errors.push(fail(
                    id,
                    format!(
                        "field \"{field}\" is {}, expected a string",
                        json_type(&other)
                    ),
                ));
                continue;
            }
            None => {
                let keys: Vec<&str> = object.keys().map(String::as_str).collect();
                out.errors.push(fail(
                    id,
                    format!(
                        "no \"{field}\" field (fields: {}); choose the text field in the import options",
                        keys.join(", ")
                    ),
                ));
                continue;
            }
        };
        let name = match &id {
            Some(id) => format!("{file_name}#{id}"),
            None => format!("{file_name}:line {line_no}"),
        };
        if id.is_some()
            && let Some(source_id) = object.remove("id")
        {
            object.insert("source_id".to_owned(), source_id);
        }
        out.items.push(text_item(name, text, object));
    }
    Ok(out)
}

/// One record per data row of a CSV file with a header row; rows with the wrong number of
/// fields become [`RecordError`]s.
pub(super) fn parse_csv(
    file_name: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<Inspected, ImportError> {
    let field = options.text_field();
    let limit = options.limits.max_records_per_file;
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::CsvHeader(e.to_string()))?
        .clone();
    let columns: Vec<String> = headers.iter().map(str::to_owned).collect();
    let text_index = columns
        .iter()
        .position(|c| c.trim() == field)
        .ok_or_else(|| ImportError::MissingTextColumn {
            field: field.to_owned(),
            found: columns.clone(),
        })?;
    let id_index = columns
        .iter()
        .position(|c| c.trim().eq_ignore_ascii_case("id"));

    let mut out = Inspected::default();
    let mut rows: usize = 0;
    for result in reader.records() {
        rows = rows.saturating_add(1);
        if rows > limit {
            return Err(ImportError::TooManyRecords { limit });
        }
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => format!(
                        "invalid UTF-8 in field {} at byte {} of the field",
                        err.field().saturating_add(1),
                        err.valid_up_to()
                    ),
                    _ => e.to_string(),
                };
                out.errors.push(RecordError {
                    line,
                    record_id: None,
                    message,
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let id = id_index
            .and_then(|i| record.get(i))
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if record.len() != columns.len() {
            out.errors.push(RecordError {
                line,
                record_id: id,
                message: format!("{} fields, header has {}", record.len(), columns.len()),
            });
            continue;
        }
        let Some(text) = record.get(text_index) else {
            continue;
        };
        let mut metadata = Map::new();
        for (i, (column, value)) in columns.iter().zip(record.iter()).enumerate() {
            if i != text_index && Some(i) != id_index {
                metadata.insert(column.clone(), Value::String(value.to_owned()));
            }
        }
        let name = match &id {
            Some(id) => {
                metadata.insert("source_id".to_owned(), Value::String(id.clone()));
                format!("{file_name}#{id}")
            }
            None => format!("{file_name}:row {rows}"),
        };
        out.items.push(text_item(name, text.to_owned(), metadata));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{FileOutcome, inspect_file};
    use super::*;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn inspect(name: &str, bytes: Vec<u8>) -> Result<Inspected, ImportError> {
        inspect_file(name, bytes, &ImportOptions::default())
    }

    fn text_of(item: &AcceptedItem) -> &str {
        std::str::from_utf8(&item.bytes).expect("utf-8")
    }

    #[test]
    fn invalid_utf8_reports_offset_116() {
        let err = inspect("invalid_utf8.txt", fixture("bad/invalid_utf8.txt")).expect_err("bad");
        assert!(
            matches!(err, ImportError::InvalidUtf8 { offset: 116 }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("invalid UTF-8 at byte offset 116")
        );
    }

    #[test]
    fn contract_is_one_text_item() {
        let bytes = fixture("import/contract.txt");
        let got = inspect("contract.txt", bytes.clone()).expect("ok");
        assert_eq!(got.items.len(), 1);
        let item = &got.items[0];
        assert_eq!(item.kind, MediaKind::Text);
        assert_eq!(item.bytes, bytes);
        // fixtures/README.md: 5,782 bytes / 5,774 chars.
        assert_eq!(item.info, MediaInfo::Text { char_len: 5_774 });
    }

    #[test]
    fn utf8_bom_is_stripped_and_offsets_count_it() {
        let got = inspect("bom.txt", b"\xEF\xBB\xBFh\xC3\xA9".to_vec()).expect("ok");
        assert_eq!(text_of(&got.items[0]), "hé");
        assert_eq!(got.items[0].info, MediaInfo::Text { char_len: 2 });
        let err = inspect("bom.txt", b"\xEF\xBB\xBFab\xFF".to_vec()).expect_err("bad");
        assert!(
            matches!(err, ImportError::InvalidUtf8 { offset: 5 }),
            "{err:?}"
        );
        let err = inspect("only_bom.txt", UTF8_BOM.to_vec()).expect_err("empty");
        assert!(matches!(err, ImportError::EmptyText), "{err:?}");
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let text = "Zoë 📄";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        for bytes in [le, be] {
            let got = inspect("u16.txt", bytes).expect("ok");
            assert_eq!(text_of(&got.items[0]), text);
            assert_eq!(got.items[0].info, MediaInfo::Text { char_len: 5 });
        }
        // A lone high surrogate (D800) right after "a".
        let err =
            inspect("u16.txt", vec![0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0]).expect_err("bad");
        assert!(
            matches!(err, ImportError::InvalidUtf16 { offset: 4, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn nul_in_txt_is_rejected() {
        let err = inspect("u16_no_bom.txt", b"h\0i\0".to_vec()).expect_err("nul");
        assert!(
            matches!(err, ImportError::NulInText { offset: 1 }),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_jsonl_gives_nine_items_and_line_six() {
        let got = inspect("malformed.jsonl", fixture("bad/malformed.jsonl")).expect("partial");
        assert_eq!(got.items.len(), 9);
        assert_eq!(got.errors.len(), 1);
        let err = &got.errors[0];
        assert_eq!(err.line, 6);
        assert_eq!(err.record_id.as_deref(), Some("m-006"));
        assert!(
            err.message.starts_with("invalid JSON at column"),
            "{}",
            err.message
        );
        assert!(!got.items.iter().any(|i| i.name == "malformed.jsonl#m-006"));
        let first = &got.items[0];
        assert_eq!(first.name, "malformed.jsonl#m-001");
        assert_eq!(text_of(first), "Valid record number 1.");
        assert_eq!(
            first.metadata,
            serde_json::json!({"source_id": "m-001", "meta": {"lang": "en"}})
        );
        assert_eq!(got.items[8].name, "malformed.jsonl#m-010");
    }

    #[test]
    fn support_chats_head_imports_every_line() {
        let got = inspect(
            "support_chats.jsonl",
            fixture("import/support_chats_head.jsonl"),
        )
        .expect("ok");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.items.len(), 10);
        assert_eq!(got.items[0].name, "support_chats.jsonl#chat-0001");
        assert_eq!(got.items[0].metadata["meta"]["channel"], "phone_note");
        assert!(text_of(&got.items[0]).starts_with("Moved house 🏠"));
    }

    #[test]
    fn jsonl_record_problems_are_reported_per_line() {
        let file = concat!(
            "{\"id\": 7, \"text\": \"numeric id\"}\r\n",
            "\n",
            "[1, 2]\n",
            "{\"id\": \"x\", \"body\": \"wrong field\"}\n",
            "{\"text\": 5}\n",
            "{\"text\": \"no id\", \"lang\": \"de\"}\n",
        );
        let got = inspect("mixed.ndjson", file.as_bytes().to_vec()).expect("partial");
        let names: Vec<&str> = got.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["mixed.ndjson#7", "mixed.ndjson:line 6"]);
        assert_eq!(got.items[0].metadata, serde_json::json!({"source_id": 7}));
        assert_eq!(got.items[1].metadata, serde_json::json!({"lang": "de"}));
        let lines: Vec<u64> = got.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert_eq!(
            got.errors[0].message,
            "expected a JSON object, found an array"
        );
        assert_eq!(got.errors[1].record_id.as_deref(), Some("x"));
        assert!(
            got.errors[1]
                .message
                .starts_with("no \"text\" field (fields: body, id)")
        );
        assert_eq!(
            got.errors[2].message,
            "field \"text\" is a number, expected a string"
        );

        let options = ImportOptions {
            text_field: Some("body".to_owned()),
            ..ImportOptions::default()
        };
        let got = inspect_file("mixed.jsonl", file.as_bytes().to_vec(), &options).expect("ok");
        assert_eq!(got.items.len(), 1);
        assert_eq!(got.items[0].name, "mixed.jsonl#x");
    }

    #[test]
    fn jsonl_with_no_valid_record_is_rejected() {
        let err = inspect("bad.jsonl", b"not json\n{\"nope\": 1}\n".to_vec()).expect_err("none");
        match &err {
            ImportError::NoValidRecords { count: 2, first } => assert_eq!(first.line, 1),
            other => panic!("{other:?}"),
        }
        let err = inspect("blank.jsonl", b"\n  \n".to_vec()).expect_err("none");
        assert!(matches!(err, ImportError::NoRecords), "{err:?}");
    }

    #[test]
    fn record_limit_is_enforced() {
        let mut options = ImportOptions::default();
        options.limits.max_records_per_file = 2;
        let jsonl = b"{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n".to_vec();
        let err = inspect_file("three.jsonl", jsonl, &options).expect_err("limit");
        assert!(
            matches!(err, ImportError::TooManyRecords { limit: 2 }),
            "{err:?}"
        );
        let csv = b"text\na\nb\nc\n".to_vec();
        let err = inspect_file("three.csv", csv, &options).expect_err("limit");
        assert!(
            matches!(err, ImportError::TooManyRecords { limit: 2 }),
            "{err:?}"
        );
    }

    #[test]
    fn missing_column_csv_gives_four_items_and_line_five() {
        let got =
            inspect("missing_column.csv", fixture("bad/missing_column.csv")).expect("partial");
        assert_eq!(got.items.len(), 4);
        assert_eq!(got.errors.len(), 1);
        assert_eq!(
            got.errors[0].to_string(),
            "line 5 (id 104): 2 fields, header has 3"
        );
        let names: Vec<&str> = got.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "missing_column.csv#101",
                "missing_column.csv#102",
                "missing_column.csv#103",
                "missing_column.csv#105"
            ]
        );
        assert_eq!(text_of(&got.items[1]), "Bad, broke after a day");
    }

    #[test]
    fn reviews_csv_gives_100_items() {
        let got = inspect("reviews.csv", fixture("import/reviews.csv")).expect("ok");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.items.len(), 100);
        let first = &got.items[0];
        assert_eq!(first.name, "reviews.csv#1001");
        assert_eq!(
            first.metadata,
            serde_json::json!({"rating": "4", "source_id": "1001"})
        );
        assert_eq!(
            text_of(first),
            "Redact-O-Matic: Works exactly as described. Support answered within an hour."
        );
        assert_eq!(got.items[99].name, "reviews.csv#1100");
        // 1100 has an empty text, which is still a record; 1082 has a CRLF inside quotes.
        assert_eq!(text_of(&got.items[99]), "");
        let r1082 = got
            .items
            .iter()
            .find(|i| i.name == "reviews.csv#1082")
            .expect("1082");
        assert!(text_of(r1082).contains("\r\n"));
        let r1004 = got
            .items
            .iter()
            .find(|i| i.name == "reviews.csv#1004")
            .expect("1004");
        assert_eq!(
            text_of(r1004),
            "Honestly \"perfect\" – the best \"offline\" tool, period."
        );
    }

    #[test]
    fn csv_with_bom_and_crlf_parses() {
        let file =
            b"\xEF\xBB\xBFtext,id,lang\r\nBonjour,a1,fr\r\n\"two\r\nlines\",a2,en\r\nno id,,en\r\n";
        let got = inspect("crlf.csv", file.to_vec()).expect("ok");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let names: Vec<&str> = got.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["crlf.csv#a1", "crlf.csv#a2", "crlf.csv:row 3"]);
        assert_eq!(text_of(&got.items[0]), "Bonjour");
        assert_eq!(text_of(&got.items[1]), "two\r\nlines");
        assert_eq!(
            got.items[0].metadata,
            serde_json::json!({"lang": "fr", "source_id": "a1"})
        );
    }

    #[test]
    fn csv_without_text_column_names_the_columns() {
        let err = inspect("cols.csv", b"id,body\n1,hello\n".to_vec()).expect_err("no column");
        assert_eq!(
            err.to_string(),
            "no 'text' column in the CSV header (columns found: id, body); choose the text column in the import options"
        );
    }

    #[test]
    fn csv_invalid_utf8_row_is_a_record_error() {
        let got = inspect(
            "u.csv",
            b"id,text\n1,ok\n2,bad \xFF here\n3,fine\n".to_vec(),
        )
        .expect("partial");
        assert_eq!(got.items.len(), 2);
        assert_eq!(got.errors.len(), 1);
        assert_eq!(got.errors[0].line, 3);
        assert!(got.errors[0].message.contains("invalid UTF-8 in field 2"));
    }

    #[test]
    fn partial_outcome_is_built_from_record_errors() {
        let result = inspect("malformed.jsonl", fixture("bad/malformed.jsonl"));
        let outcome = FileOutcome::from_result(PathBuf::from("malformed.jsonl"), result);
        assert!(matches!(outcome, FileOutcome::Partial { ref errors, .. } if errors.len() == 1));
    }
}
