//! Offsets into text, in the three units people and tools use: Unicode
//! scalar values (chars: Python, Rust `chars()`, our storage), UTF-8 bytes
//! (Rust `str` indices, our storage too) and UTF-16 code units (JavaScript,
//! Windows; given on export). Conversions are exact and never panic: an
//! offset past the end, or inside a character, is an error that says so.

/// Why an offset could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetError {
    #[error("offset {offset} is past the end of the text ({len} {unit})")]
    PastEnd {
        offset: usize,
        len: usize,
        unit: &'static str,
    },
    #[error("byte offset {offset} falls inside a character")]
    InsideChar { offset: usize },
    #[error("UTF-16 offset {offset} falls between the two halves of a surrogate pair")]
    InsideSurrogatePair { offset: usize },
}

/// Char offset → byte offset.
pub fn char_to_byte(text: &str, chars: usize) -> Result<usize, OffsetError> {
    if chars == 0 {
        return Ok(0);
    }
    match text.char_indices().nth(chars) {
        Some((byte, _)) => Ok(byte),
        None => {
            let len = text.chars().count();
            if chars == len {
                Ok(text.len())
            } else {
                Err(OffsetError::PastEnd {
                    offset: chars,
                    len,
                    unit: "chars",
                })
            }
        }
    }
}

/// Byte offset → char offset.
pub fn byte_to_char(text: &str, byte: usize) -> Result<usize, OffsetError> {
    if byte > text.len() {
        return Err(OffsetError::PastEnd {
            offset: byte,
            len: text.len(),
            unit: "bytes",
        });
    }
    if !text.is_char_boundary(byte) {
        return Err(OffsetError::InsideChar { offset: byte });
    }
    Ok(text.get(..byte).map(|s| s.chars().count()).unwrap_or(0))
}

/// Char offset → UTF-16 offset.
pub fn char_to_utf16(text: &str, chars: usize) -> Result<usize, OffsetError> {
    let byte = char_to_byte(text, chars)?;
    Ok(text
        .get(..byte)
        .map(|s| s.encode_utf16().count())
        .unwrap_or(0))
}

/// UTF-16 offset → char offset.
pub fn utf16_to_char(text: &str, units: usize) -> Result<usize, OffsetError> {
    let mut seen = 0usize;
    for (i, c) in text.chars().enumerate() {
        if seen == units {
            return Ok(i);
        }
        seen += c.len_utf16();
        if seen > units {
            return Err(OffsetError::InsideSurrogatePair { offset: units });
        }
    }
    if seen == units {
        Ok(text.chars().count())
    } else {
        Err(OffsetError::PastEnd {
            offset: units,
            len: seen,
            unit: "UTF-16 units",
        })
    }
}

/// The text between two char offsets.
pub fn slice_chars(text: &str, start: usize, end: usize) -> Result<&str, OffsetError> {
    let (a, b) = (char_to_byte(text, start)?, char_to_byte(text, end)?);
    Ok(text.get(a.min(b)..b.max(a)).unwrap_or(""))
}

/// Widens a char range to whole words (letters, digits, `_`), as a
/// double-click or word-snapping selection does. Spaces and punctuation
/// at the edges are not included.
pub fn snap_to_words(text: &str, start: usize, end: usize) -> (usize, usize) {
    let chars: Vec<char> = text.chars().collect();
    let is_word = |i: usize| {
        chars
            .get(i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    };
    let (mut s, mut e) = (start.min(chars.len()), end.min(chars.len()));
    // Trim whitespace the selection started or ended on.
    while s < e && chars.get(s).is_some_and(|c| c.is_whitespace()) {
        s += 1;
    }
    while e > s && chars.get(e - 1).is_some_and(|c| c.is_whitespace()) {
        e -= 1;
    }
    while s > 0 && is_word(s - 1) && is_word(s) {
        s -= 1;
    }
    while e < chars.len() && e > 0 && is_word(e - 1) && is_word(e) {
        e += 1;
    }
    (s, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_handle_multibyte_and_surrogates() {
        // é is 2 bytes/1 unit, 🏠 is 4 bytes/2 units, 日 is 3 bytes/1 unit.
        let t = "aé🏠日b";
        assert_eq!(char_to_byte(t, 0), Ok(0));
        assert_eq!(char_to_byte(t, 2), Ok(3));
        assert_eq!(char_to_byte(t, 3), Ok(7));
        assert_eq!(char_to_byte(t, 5), Ok(11));
        assert_eq!(
            char_to_byte(t, 6),
            Err(OffsetError::PastEnd {
                offset: 6,
                len: 5,
                unit: "chars"
            })
        );
        assert_eq!(byte_to_char(t, 7), Ok(3));
        assert_eq!(
            byte_to_char(t, 4),
            Err(OffsetError::InsideChar { offset: 4 })
        );
        assert_eq!(char_to_utf16(t, 3), Ok(4));
        assert_eq!(utf16_to_char(t, 4), Ok(3));
        assert_eq!(
            utf16_to_char(t, 3),
            Err(OffsetError::InsideSurrogatePair { offset: 3 })
        );
        assert_eq!(slice_chars(t, 2, 4), Ok("🏠日"));
    }

    #[test]
    fn word_snapping() {
        let t = "call Jane Doe, now";
        assert_eq!(snap_to_words(t, 6, 11), (5, 13)); // "ane D" → "Jane Doe"
        assert_eq!(snap_to_words(t, 4, 9), (5, 9)); // leading space trimmed
        assert_eq!(slice_chars(t, 5, 13), Ok("Jane Doe"));
    }

    /// Random strings mixing ASCII, accents, combining marks, CJK, Arabic,
    /// emoji with ZWJ: every char offset round-trips through bytes and UTF-16.
    #[test]
    fn round_trips_on_random_unicode() {
        let alphabet: Vec<char> = "aZ 9é\u{301}日本ب\u{200f}🏠👩\u{200d}💻😀\u{1F1FA}\u{1F1F8}\n\t"
            .chars()
            .collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let n = text.chars().count();
            for c in 0..=n {
                let b = char_to_byte(&text, c).unwrap();
                assert_eq!(byte_to_char(&text, b), Ok(c), "{text:?} at {c}");
                let u = char_to_utf16(&text, c).unwrap();
                assert_eq!(utf16_to_char(&text, u), Ok(c), "{text:?} at {c}");
            }
            assert!(char_to_byte(&text, n + 1).is_err());
        }
    }
}
