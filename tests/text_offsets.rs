//! Offset conversions against the ground truth of the text fixtures: every
//! PII span's char, byte and UTF-16 offsets (emoji, ZWJ sequences, NFD
//! accents, CJK, RTL marks, CRLF) must agree exactly.

use sealtag::text_offsets::{
    byte_to_char, char_to_byte, char_to_utf16, slice_chars, utf16_to_char,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/text");

fn lines(name: &str) -> Vec<Value> {
    std::fs::read_to_string(format!("{DIR}/{name}"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn support_chat_spans_match_in_all_three_units() {
    let chats = lines("support_chats.jsonl");
    let truth = lines("pii_spans.jsonl");
    assert_eq!(chats.len(), truth.len());
    let mut checked = 0;
    for (chat, t) in chats.iter().zip(&truth) {
        assert_eq!(chat["id"], t["id"]);
        let text = chat["text"].as_str().unwrap();
        assert_eq!(text.chars().count() as u64, t["char_len"].as_u64().unwrap());
        assert_eq!(
            char_to_utf16(text, text.chars().count()).unwrap() as u64,
            t["utf16_len"].as_u64().unwrap()
        );
        for span in t["spans"].as_array().unwrap() {
            let n = |k: &str| span[k].as_u64().unwrap() as usize;
            let (cs, ce) = (n("char_start"), n("char_end"));
            assert_eq!(
                slice_chars(text, cs, ce).unwrap(),
                span["text"].as_str().unwrap(),
                "{}",
                t["id"]
            );
            assert_eq!(
                char_to_byte(text, cs).unwrap(),
                n("byte_start"),
                "{} {span}",
                t["id"]
            );
            assert_eq!(char_to_byte(text, ce).unwrap(), n("byte_end"));
            assert_eq!(char_to_utf16(text, cs).unwrap(), n("utf16_start"));
            assert_eq!(char_to_utf16(text, ce).unwrap(), n("utf16_end"));
            assert_eq!(byte_to_char(text, n("byte_start")).unwrap(), cs);
            assert_eq!(utf16_to_char(text, n("utf16_end")).unwrap(), ce);
            checked += 1;
        }
    }
    assert_eq!(checked, 294, "every span of the fixture was checked");
}

#[test]
fn contract_spans_match() {
    let text = std::fs::read_to_string(format!("{DIR}/contract.txt")).unwrap();
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/contract_pii_spans.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        text.chars().count() as u64,
        truth["char_len"].as_u64().unwrap()
    );
    let spans = truth["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 23);
    for span in spans {
        let n = |k: &str| span[k].as_u64().unwrap() as usize;
        assert_eq!(
            slice_chars(&text, n("char_start"), n("char_end")).unwrap(),
            span["text"].as_str().unwrap()
        );
        assert_eq!(
            char_to_byte(&text, n("char_start")).unwrap(),
            n("byte_start")
        );
        assert_eq!(char_to_byte(&text, n("char_end")).unwrap(), n("byte_end"));
    }
}
