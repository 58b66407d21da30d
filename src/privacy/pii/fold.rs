//! The text the scanners read: NFKC width-folded, without zero-width chars,
//! with a map back to the original so every span is reported in the
//! original's char and byte offsets.
//!
//! People paste from forms and PDFs: `０７７００ ９００１２３`,
//! `ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`, `07700\u{200b}900123`. Folding once here
//! lets each scanner stay ASCII-minded. Folding is per char (compatibility
//! decomposition, then composition, of that char alone), so a folded char
//! always comes from exactly one original char and the map is exact;
//! combining sequences are left as written (the name scanner matches both
//! forms already).

use unicode_normalization::UnicodeNormalization;

/// Zero-width and invisible formatting chars that may sit inside a number or
/// an address without being part of it: zero-width space, non-joiner and
/// joiner, word joiner, BOM / zero-width no-break space, soft hyphen.
pub(super) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// The folded chars and, for each, the index of the original char it came
/// from (non-decreasing; an original char folding to several chars, such as
/// `ﬁ`, appears several times; invisible chars do not appear at all).
pub(super) struct Folded {
    pub(super) cs: Vec<char>,
    pub(super) source: Vec<usize>,
}

impl Folded {
    pub(super) fn new(original: &[char]) -> Folded {
        let mut cs = Vec::with_capacity(original.len());
        let mut source = Vec::with_capacity(original.len());
        for (k, &c) in original.iter().enumerate() {
            if is_invisible(c) {
                continue;
            }
            if c.is_ascii() {
                cs.push(c);
                source.push(k);
                continue;
            }
            for f in std::iter::once(c).nfkc() {
                cs.push(f);
                source.push(k);
            }
        }
        Folded { cs, source }
    }

    /// The original char range of the folded range `s..e` (`s < e`): from
    /// the first folded char's source to just after the last one's, so
    /// invisible chars inside are covered and those outside are not.
    pub(super) fn original_range(&self, s: usize, e: usize) -> (usize, usize) {
        (self.source[s], self.source[e - 1] + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> (String, Vec<usize>) {
        let cs: Vec<char> = s.chars().collect();
        let f = Folded::new(&cs);
        (f.cs.iter().collect(), f.source)
    }

    #[test]
    fn width_folding_and_invisible_chars() {
        assert_eq!(fold("０７７００").0, "07700");
        assert_eq!(
            fold("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ").0,
            "jane@example.com"
        );
        assert_eq!(fold("（２０６）５５５－０１９９").0, "(206)555-0199");
        let (s, src) = fold("07\u{200b}7\u{ad}00");
        assert_eq!(s, "07700");
        assert_eq!(src, [0, 1, 3, 5, 6]);
        // One original char, two folded ones: both map to it.
        let (s, src) = fold("aﬁb");
        assert_eq!(s, "afib");
        assert_eq!(src, [0, 1, 1, 2]);
        // Combining sequences stay as written; Arabic-Indic digits too.
        assert_eq!(fold("e\u{301}").0, "e\u{301}");
        assert_eq!(fold("٠٥٠").0, "٠٥٠");
    }

    #[test]
    fn ranges_cover_inner_invisible_chars_only() {
        let cs: Vec<char> = "\u{200b}07\u{200b}70\u{200b}".chars().collect();
        let f = Folded::new(&cs);
        assert_eq!(f.cs.len(), 4);
        assert_eq!(f.original_range(0, 4), (1, 6));
        assert_eq!(f.original_range(1, 3), (2, 5));
    }
}
