//! National identity numbers: US SSN after its keyword, UK NINO, French
//! NIR with its key.

use super::*;

// --- national ids -----------------------------------------------------------

pub(super) const SSN_WORDS: &[&str] = &[
    "ssn",
    "ssn#",
    "ss#",
    "social security",
    "soc. sec.",
    "soc sec",
];

/// Reads `len` ASCII digits at `k`.
pub(super) fn ascii_digits(cs: &[char], k: usize, len: usize) -> Option<u32> {
    let slice = cs.get(k..k + len)?;
    slice
        .iter()
        .try_fold(0u32, |a, c| Some(a * 10 + c.to_digit(10)?))
}

pub(super) fn scan_ssn(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    for i in 0..n {
        if !cs[i].is_ascii_digit() || !left_ok(cs, i) {
            continue;
        }
        // ddd-dd-dddd, ddd dd dddd or ddddddddd
        let (area, group, serial, end) = match cs.get(i + 3) {
            Some(&sep @ ('-' | ' ')) if cs.get(i + 6) == Some(&sep) => {
                match (
                    ascii_digits(cs, i, 3),
                    ascii_digits(cs, i + 4, 2),
                    ascii_digits(cs, i + 7, 4),
                ) {
                    (Some(a), Some(g), Some(s)) => (a, g, s, i + 11),
                    _ => continue,
                }
            }
            _ => match (
                ascii_digits(cs, i, 3),
                ascii_digits(cs, i + 3, 2),
                ascii_digits(cs, i + 5, 4),
            ) {
                (Some(a), Some(g), Some(s)) => (a, g, s, i + 9),
                _ => continue,
            },
        };
        let valid = area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
        if valid && right_ok(cs, end) && keyword_before(cs, i, 40, SSN_WORDS) {
            out.push(Cand::high(PiiType::NationalId, i, end, Some("us_ssn")));
        }
    }
}

pub(super) fn scan_nino(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    for i in 0..n.saturating_sub(8) {
        let (a, b) = (cs[i], cs[i + 1]);
        if !a.is_ascii_uppercase() || !b.is_ascii_uppercase() || (i > 0 && is_glue(cs[i - 1])) {
            continue;
        }
        // HMRC: first letter not D F I Q U V, second not D F I O Q U V, and
        // the prefixes BG GB KN NK NT TN ZZ are never allocated.
        if "DFIQUV".contains(a)
            || "DFIOQUV".contains(b)
            || ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&format!("{a}{b}").as_str())
        {
            continue;
        }
        let spaced = cs.get(i + 2) == Some(&' ');
        let step = usize::from(spaced);
        let mut k = i + 2 + step;
        let mut ok = true;
        for _ in 0..3 {
            if ascii_digits(cs, k, 2).is_none() {
                ok = false;
                break;
            }
            k += 2;
            if spaced {
                if cs.get(k) != Some(&' ') {
                    ok = false;
                    break;
                }
                k += 1;
            }
        }
        if !ok || !cs.get(k).is_some_and(|c| ('A'..='D').contains(c)) {
            continue;
        }
        let end = k + 1;
        if right_ok(cs, end) {
            out.push(Cand::high(PiiType::NationalId, i, end, Some("uk_nino")));
        }
    }
}

pub(super) fn scan_nir(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    let mut i = 0;
    while i < n {
        if !matches!(cs[i], '1' | '2') || !left_ok(cs, i) {
            i += 1;
            continue;
        }
        // Collect up to 15 significant chars, single spaces allowed between.
        let mut buf: Vec<char> = Vec::with_capacity(15);
        let mut j = i;
        while j < n && buf.len() < 15 {
            let c = cs[j];
            let corsica = buf.len() == 6 && buf.get(5) == Some(&'2') && matches!(c, 'A' | 'B');
            if c.is_ascii_digit() || corsica {
                buf.push(c);
                j += 1;
            } else if c == ' '
                && j + 1 < n
                && (cs[j + 1].is_ascii_digit() || cs[j + 1] == 'A' || cs[j + 1] == 'B')
                && !buf.is_empty()
            {
                j += 1;
            } else {
                break;
            }
        }
        if buf.len() == 15 && right_ok(cs, j) && nir_valid(&buf) {
            out.push(Cand::high(PiiType::NationalId, i, j, Some("fr_nir")));
            i = j;
        } else {
            i += 1;
        }
    }
}

pub(super) fn nir_valid(buf: &[char]) -> bool {
    if buf.len() != 15 {
        return false;
    }
    let month = buf[3..5]
        .iter()
        .try_fold(0u32, |a, c| Some(a * 10 + c.to_digit(10)?));
    let month_ok = month
        .is_some_and(|m| (1..=12).contains(&m) || (20..=42).contains(&m) || (50..=99).contains(&m));
    // Corsica: 2A counts as 19, 2B as 18 in the key computation.
    let mut number: u64 = 0;
    for (k, &c) in buf[..13].iter().enumerate() {
        let d = match c {
            'A' if k == 6 => {
                number = number / 10 * 100 + 19;
                continue;
            }
            'B' if k == 6 => {
                number = number / 10 * 100 + 18;
                continue;
            }
            c => match c.to_digit(10) {
                Some(d) => u64::from(d),
                None => return false,
            },
        };
        number = number * 10 + d;
    }
    let key = buf[13..]
        .iter()
        .try_fold(0u64, |a, c| Some(a * 10 + u64::from(c.to_digit(10)?)));
    month_ok && key == Some(97 - number % 97)
}
