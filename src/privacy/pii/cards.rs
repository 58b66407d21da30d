//! Payment cards and IBANs: the checksums (Luhn, mod-97 with per-country
//! lengths) and the scanners that find them in text.

use super::*;

/// Luhn checksum over digit values (0–9), most significant first.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || digits.iter().any(|&d| d > 9) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN validity: known country, that country's length, check digits
/// 02–98, only `A–Z0–9`, and mod-97 = 1. Spaces are ignored; letters must be
/// upper case.
pub fn iban_valid(iban: &str) -> bool {
    let chars: Vec<char> = iban.chars().filter(|c| *c != ' ').collect();
    iban_structure_ok(&chars) && iban_mod97_ok(&chars)
}

/// Length of an IBAN for a country code (`IBAN_LENGTHS` below).
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(cc, _)| *cc == country)
        .map(|&(_, l)| l)
}

const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

fn iban_structure_ok(chars: &[char]) -> bool {
    if chars.len() < 4
        || !chars
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let country: String = chars[..2].iter().collect();
    if iban_length(&country) != Some(chars.len()) {
        return false;
    }
    match (chars[2].to_digit(10), chars[3].to_digit(10)) {
        (Some(a), Some(b)) => (2..=98).contains(&(a * 10 + b)),
        _ => false,
    }
}

fn iban_mod97_ok(chars: &[char]) -> bool {
    if chars.len() < 4 {
        return false;
    }
    let mut r: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        if let Some(d) = c.to_digit(10) {
            r = (r * 10 + d) % 97;
        } else if c.is_ascii_uppercase() {
            let v = c as u32 - 'A' as u32 + 10;
            r = (r * 100 + v) % 97;
        } else {
            return false;
        }
    }
    r == 1
}

// --- IBAN -----------------------------------------------------------------

pub(super) fn scan_ibans(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    if n < 4 {
        return;
    }
    let alnum = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    for i in 0..n - 3 {
        if !(cs[i].is_ascii_uppercase()
            && cs[i + 1].is_ascii_uppercase()
            && cs[i + 2].is_ascii_digit()
            && cs[i + 3].is_ascii_digit())
            || (i > 0 && is_glue(cs[i - 1]))
        {
            continue;
        }
        let country: String = cs[i..i + 2].iter().collect();
        let Some(len) = iban_length(&country) else {
            continue;
        };
        let mut buf: Vec<char> = Vec::with_capacity(len);
        let mut j = i;
        while j < n && buf.len() < len {
            if alnum(cs[j]) {
                buf.push(cs[j]);
                j += 1;
            } else if cs[j] == ' ' && j + 1 < n && alnum(cs[j + 1]) {
                j += 1; // a single space between groups
            } else {
                break;
            }
        }
        if buf.len() != len || (j < n && is_glue(cs[j])) || !iban_structure_ok(&buf) {
            continue;
        }
        if iban_mod97_ok(&buf) {
            out.push(Cand::high(PiiType::Iban, i, j, None));
        } else {
            out.push(Cand::low(PiiType::Iban, i, j, "mod97_failed"));
        }
    }
}

// --- payment cards ----------------------------------------------------------

pub(super) const CARD_WORDS: &[&str] = &[
    "card",
    "cards",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "carte",
    "cb",
    "karte",
    "kreditkarte",
    "kartennummer",
    "tarjeta",
    "البطاقة",
    "بطاقة",
    "カード",
    "クレジット",
];

/// Issuer prefix and length plausibility (ISO/IEC 7812 ranges of the major
/// networks). Filters Luhn-valid order and tracking numbers by chance.
pub(super) fn issuer_ok(d: &[u8]) -> bool {
    if d.len() < 13 {
        return false;
    }
    let num = |k: usize| d[..k].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let len = d.len();
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => {
            ((51..=55).contains(&num(2)) && len == 16)
                || (num(2) == 50 || (56..=59).contains(&num(2)))
        }
        2 => {
            ((2221..=2720).contains(&num(4)) && len == 16)
                || ((2200..=2204).contains(&num(4)) && len >= 16)
        }
        3 => {
            ((num(2) == 34 || num(2) == 37) && len == 15)
                || ((3528..=3589).contains(&num(4)) && len >= 16)
                || (((300..=305).contains(&num(3)) || matches!(num(2), 36 | 38 | 39)) && len >= 14)
        }
        6 => len >= 16,
        _ => false,
    }
}

/// A card-shaped digit run: groups joined by one kind of separator (space
/// or `-`), and with `wrap` at most one soft line break between groups (a
/// chat widget wrapped the number).
pub(super) struct CardRun {
    digits: Vec<u8>,
    groups: Vec<usize>,
    end: usize,
    /// End of the whole digit run: a card never starts inside a longer number.
    run_end: usize,
    wrapped: bool,
}

pub(super) fn read_card(cs: &[char], i: usize, wrap: bool) -> CardRun {
    let n = cs.len();
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    let mut groups: Vec<usize> = Vec::new();
    let mut sep: Option<char> = None;
    let mut wrapped = false;
    let mut j = i;
    loop {
        let g = j;
        while j < n && digits.len() <= 19 {
            let Some(d) = digit_value(cs[j]) else { break };
            digits.push(d);
            j += 1;
        }
        groups.push(j - g);
        if digits.len() > 19 {
            break;
        }
        if j + 1 < n
            && matches!(cs[j], ' ' | '-')
            && is_digit(cs[j + 1])
            && sep.is_none_or(|s| s == cs[j])
        {
            sep = Some(cs[j]);
            j += 1;
            continue;
        }
        let lb = line_break_len(cs, j);
        if wrap && lb > 0 && !wrapped && cs.get(j + lb).is_some_and(|&c| is_digit(c)) {
            wrapped = true;
            j += lb;
            continue;
        }
        break;
    }
    let mut run_end = j;
    while run_end < n && (is_digit(cs[run_end]) || matches!(cs[run_end], ' ' | '-')) {
        if !is_digit(cs[run_end]) && !cs.get(run_end + 1).is_some_and(|&c| is_digit(c)) {
            break;
        }
        run_end += 1;
    }
    CardRun {
        digits,
        groups,
        end: j,
        run_end,
        wrapped,
    }
}

/// The card candidate a run makes, if any: Luhn-valid with a known issuer
/// → `High`; otherwise `Low` after a card word, and never across a line
/// break.
pub(super) fn card_cand(cs: &[char], i: usize, r: &CardRun) -> Option<Cand> {
    let g = &r.groups;
    let grouping_ok =
        g.len() == 1 || (g[0] == 4 && g.len() <= 5 && g.iter().all(|g| (3..=6).contains(g)));
    if !(13..=19).contains(&r.digits.len()) || r.run_end != r.end || !right_ok(cs, r.end) {
        return None;
    }
    if !grouping_ok {
        return None;
    }
    let luhn = luhn_valid(&r.digits);
    if luhn && issuer_ok(&r.digits) {
        Some(Cand::high(PiiType::CreditCard, i, r.end, None))
    } else if !r.wrapped && keyword_before(cs, i, 30, CARD_WORDS) {
        let why = if luhn {
            "unknown_issuer"
        } else {
            "luhn_failed"
        };
        Some(Cand::low(PiiType::CreditCard, i, r.end, why))
    } else {
        None
    }
}

pub(super) fn scan_cards(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    let mut i = 0;
    while i < n {
        if !is_digit(cs[i]) || !left_ok(cs, i) {
            i += 1;
            continue;
        }
        let plain = read_card(cs, i, false);
        let mut next = plain.run_end;
        let mut cand = card_cand(cs, i, &plain);
        let high = |c: &Option<Cand>| c.is_some_and(|c| c.conf == Confidence::High);
        if !high(&cand) && line_break_len(cs, plain.end) > 0 {
            let wrapped = read_card(cs, i, true);
            let long = card_cand(cs, i, &wrapped);
            if wrapped.wrapped && high(&long) {
                cand = long;
                next = wrapped.run_end;
            }
        }
        out.extend(cand);
        i = next.max(i + 1);
    }
}

/// Length of a line break (`\n`, `\r\n`, `\r`) at `k`, 0 if none.
pub(super) fn line_break_len(cs: &[char], k: usize) -> usize {
    match (cs.get(k), cs.get(k + 1)) {
        (Some('\r'), Some('\n')) => 2,
        (Some('\n' | '\r'), _) => 1,
        _ => 0,
    }
}
