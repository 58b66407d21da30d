//! Dates of birth near a keyword, in several languages and date forms.

use super::*;

// --- dates of birth -----------------------------------------------------------

pub(super) const DOB_BEFORE: &[&str] = &[
    "born",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "d.o.b.",
    "d.o.b",
    "née",
    "né",
    "nee",
    "naissance",
    "geboren",
    "geb.",
    "geburtsdatum",
    "geburtstag",
    "ميلاد",
    "ميلادي",
    "生年月日",
    "誕生日",
];

pub(super) const DOB_AFTER: &[&str] = &["geboren", "生まれ", "生"];

pub(super) const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
    ("janvier", 1),
    ("janv", 1),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("fév", 2),
    ("mars", 3),
    ("avril", 4),
    ("avr", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("juil", 7),
    ("août", 8),
    ("aout", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("januar", 1),
    ("jänner", 1),
    ("februar", 2),
    ("märz", 3),
    ("maerz", 3),
    ("mär", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("okt", 10),
    ("dezember", 12),
    ("dez", 12),
];

pub(super) fn month_number(word: &[char]) -> Option<u32> {
    let w: String = word.iter().map(|&c| lower(c)).collect();
    MONTHS.iter().find(|(m, _)| *m == w).map(|&(_, n)| n)
}

/// Reads 1..=max digits (any script) at `k`: (value, count).
pub(super) fn read_number(cs: &[char], k: usize, max: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut len = 0;
    while let Some(d) = cs.get(k + len).and_then(|&c| digit_value(c)) {
        if len == max {
            return None;
        }
        v = v * 10 + u32::from(d);
        len += 1;
    }
    (len > 0).then_some((v, len))
}

pub(super) fn day_month_ok(day: u32, month: u32) -> bool {
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

pub(super) fn year_ok(y: u32) -> bool {
    (1900..=2100).contains(&y)
}

/// Numeric dates at `i`: `dd/mm/yyyy` (or `mm/dd/yyyy`; either order valid
/// is enough, the value is not needed) and `yyyy-mm-dd`, with `/`, `.` or
/// `-`, the same separator twice. Returns the end.
pub(super) fn numeric_date(cs: &[char], i: usize) -> Option<usize> {
    let (a, la) = read_number(cs, i, 4)?;
    let sep = *cs.get(i + la)?;
    if !matches!(sep, '/' | '.' | '-') {
        return None;
    }
    let (b, lb) = read_number(cs, i + la + 1, 2)?;
    let k = i + la + 1 + lb;
    if cs.get(k) != Some(&sep) {
        return None;
    }
    let (c, lc) = read_number(cs, k + 1, 4)?;
    let end = k + 1 + lc;
    let ok = if la <= 2 && lc == 4 {
        year_ok(c) && (day_month_ok(a, b) || day_month_ok(b, a))
    } else if la == 4 && lc <= 2 {
        year_ok(a) && day_month_ok(c, b)
    } else {
        false
    };
    (ok && right_ok(cs, end)).then_some(end)
}

/// `1985年4月12日` and `平成2年3月3日` (also `元年`). Returns the end.
pub(super) fn japanese_date(cs: &[char], i: usize) -> Option<usize> {
    const ERAS: [&str; 5] = ["明治", "大正", "昭和", "平成", "令和"];
    let mut k = i;
    let era = ERAS.iter().any(|e| {
        let e: Vec<char> = e.chars().collect();
        cs.get(i..i + 2) == Some(&e[..])
    });
    if era {
        k += 2;
        if cs.get(k) == Some(&'元') {
            k += 1;
        } else {
            let (_, l) = read_number(cs, k, 2)?;
            k += l;
        }
    } else {
        if i > 0 && is_digit(cs[i - 1]) {
            return None;
        }
        let (y, l) = read_number(cs, k, 4)?;
        if l != 4 || !year_ok(y) {
            return None;
        }
        k += l;
    }
    if cs.get(k) != Some(&'年') {
        return None;
    }
    let (m, lm) = read_number(cs, k + 1, 2)?;
    k += 1 + lm;
    if cs.get(k) != Some(&'月') {
        return None;
    }
    let (d, ld) = read_number(cs, k + 1, 2)?;
    k += 1 + ld;
    (cs.get(k) == Some(&'日') && day_month_ok(d, m)).then_some(k + 1)
}

pub(super) fn read_word(cs: &[char], k: usize) -> usize {
    let mut e = k;
    while e < cs.len() && e - k < 12 && (cs[e].is_alphabetic() || is_combining(cs[e])) {
        e += 1;
    }
    e
}

pub(super) fn is_space(c: Option<&char>) -> bool {
    c.is_some_and(|&c| is_phone_space(c))
}

/// `April 12, 1985`, `Apr. 12 1985`. Returns the end.
pub(super) fn month_first_date(cs: &[char], i: usize) -> Option<usize> {
    if i > 0 && cs[i - 1].is_alphabetic() {
        return None;
    }
    let we = read_word(cs, i);
    let month = month_number(&cs[i..we])?;
    let mut k = we;
    if cs.get(k) == Some(&'.') {
        k += 1;
    }
    if !is_space(cs.get(k)) {
        return None;
    }
    let (day, ld) = read_number(cs, k + 1, 2)?;
    k += 1 + ld;
    if cs.get(k) == Some(&',') {
        k += 1;
    }
    if !is_space(cs.get(k)) {
        return None;
    }
    let (year, ly) = read_number(cs, k + 1, 4)?;
    let end = k + 1 + ly;
    (ly == 4 && year_ok(year) && day_month_ok(day, month) && right_ok(cs, end)).then_some(end)
}

/// `12 Apr 1985`, `3. März 1990`, `1er janvier 1990`. Returns the end.
pub(super) fn day_first_date(cs: &[char], i: usize) -> Option<usize> {
    let (day, ld) = read_number(cs, i, 2)?;
    let mut k = i + ld;
    if cs.get(k) == Some(&'.') {
        k += 1;
    } else if cs.get(k..k + 2) == Some(&['e', 'r'][..]) {
        k += 2;
    }
    if !is_space(cs.get(k)) {
        return None;
    }
    k += 1;
    let we = read_word(cs, k);
    let month = month_number(&cs[k..we])?;
    k = we;
    if cs.get(k) == Some(&'.') {
        k += 1;
    }
    if !is_space(cs.get(k)) {
        return None;
    }
    let (year, ly) = read_number(cs, k + 1, 4)?;
    let end = k + 1 + ly;
    (ly == 4 && year_ok(year) && day_month_ok(day, month) && right_ok(cs, end)).then_some(end)
}

pub(super) fn scan_dates_of_birth(cs: &[char], out: &mut Vec<Cand>) {
    for i in 0..cs.len() {
        let c = cs[i];
        let end = if is_digit(c) && left_ok(cs, i) {
            numeric_date(cs, i)
                .or_else(|| japanese_date(cs, i))
                .or_else(|| day_first_date(cs, i))
        } else if c.is_alphabetic()
            && !c.is_ascii_uppercase()
            && !c.is_ascii_lowercase()
            && !is_latin_letter(c)
        {
            japanese_date(cs, i)
        } else if c.is_alphabetic() {
            month_first_date(cs, i)
        } else {
            None
        };
        let Some(end) = end else { continue };
        if keyword_before(cs, i, 40, DOB_BEFORE) || keyword_after(cs, end, 15, DOB_AFTER) {
            out.push(Cand::high(PiiType::DateOfBirth, i, end, None));
        }
    }
}
