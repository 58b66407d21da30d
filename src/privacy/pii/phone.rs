//! Phone numbers: a permissive scanner proposes digit runs shaped like a
//! phone number, and libphonenumber's metadata (the `phonenumber` crate)
//! decides whether the digits are a valid number, with the project's
//! default region for numbers written without a country code.
//!
//! Hand-written national patterns only ever covered the countries someone
//! had looked at; the library knows the numbering plan of every region.
//! What stays here is what the library cannot know: where a number starts
//! and ends in running text, and which digit runs in prose are too
//! unlikely to be phone numbers to ask about (dates, decimals, ungrouped
//! ids without a phone word nearby).

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::country;
use phonenumber::metadata::DATABASE;

use super::{
    Cand, PiiType, digit_value, is_digit, is_phone_space, keyword_before, left_ok, numeric_date,
    right_ok,
};

/// A region whose national formats (numbers without a country code) the
/// detector reads: the `pii_region` project setting. Only regions in
/// libphonenumber's metadata exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(country::Id);

impl PhoneRegion {
    /// The region for an ISO 3166-1 alpha-2 code in upper case (`GB`), if
    /// libphonenumber knows its numbering plan.
    pub fn parse(code: &str) -> Option<PhoneRegion> {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        DATABASE.by_id(code)?;
        code.parse::<country::Id>().ok().map(PhoneRegion)
    }

    /// The two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    /// `US`, the `pii_region` setting's default.
    fn default() -> PhoneRegion {
        PhoneRegion(country::Id::US)
    }
}

/// Words after which an ungrouped digit run is read as a phone number.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "tel.",
    "tél",
    "tél.",
    "telephone",
    "téléphone",
    "telefon",
    "mobile",
    "mobil",
    "cell",
    "call",
    "fax",
    "whatsapp",
    "handy",
    "portable",
    "numéro",
    "هاتف",
    "هاتفي",
    "جوال",
    "電話",
    "携帯",
];

/// Joiners inside a number: hyphens (ASCII, U+2010, non-breaking U+2011,
/// full-width folds to ASCII), dot, slash.
fn is_phone_punct(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}' | '.' | '/')
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// One digit run shaped like a phone number.
struct PhoneRun {
    /// Just after the last digit.
    end: usize,
    digits: Vec<u8>,
    /// Digit count of each group, and whether it stood in parentheses.
    groups: Vec<(usize, bool)>,
    /// The separators between groups, as written.
    seps: Vec<String>,
    plus: bool,
    /// The run went on past a line break (`020 7946\n0958`).
    crossed_break: bool,
    /// The run stopped at a line break followed by more digits.
    stopped_at_break: bool,
}

/// E.164 allows 15 digits; an international `00` prefix adds two.
const MAX_DIGITS: usize = 17;

/// Reads a phone-shaped run at `i`: `(`? `+`? then digit groups joined by
/// separators of at most one space, one of `- . /`, one space, and one `(`
/// or `)`. A line break counts as a space only when `cross_breaks`. `None`
/// if the run is malformed (unbalanced parentheses) or too long.
fn read_phone(cs: &[char], i: usize, cross_breaks: bool) -> Option<PhoneRun> {
    let n = cs.len();
    let mut j = i;
    let mut open = false;
    let mut parens = 0;
    if cs.get(j) == Some(&'(') && cs.get(j + 1) == Some(&'+') {
        open = true;
        parens += 1;
        j += 1;
    }
    let plus = cs.get(j) == Some(&'+');
    if plus {
        j += 1;
    }
    if !open && cs.get(j) == Some(&'(') {
        open = true;
        parens += 1;
        j += 1;
    }
    let mut run = PhoneRun {
        end: j,
        digits: Vec::new(),
        groups: Vec::new(),
        seps: Vec::new(),
        plus,
        crossed_break: false,
        stopped_at_break: false,
    };
    let mut group_in_parens = open;
    loop {
        let g = j;
        while j < n {
            let Some(d) = digit_value(cs[j]) else { break };
            run.digits.push(d);
            j += 1;
            if run.digits.len() > MAX_DIGITS {
                return None;
            }
        }
        if j == g {
            return None;
        }
        run.groups.push((j - g, group_in_parens));
        group_in_parens = false;
        let mut sep = String::new();
        let mut k = j;
        if open {
            if cs.get(k) != Some(&')') {
                return None;
            }
            open = false;
            sep.push(')');
            k += 1;
        }
        let mut line_break = false;
        let mut spaces = 0;
        let mut punct = false;
        while k < n && k - j < 5 {
            let c = cs[k];
            if is_phone_space(c) && spaces < 2 {
                spaces += 1;
            } else if is_line_break(c) && !line_break {
                line_break = true;
                if c == '\r' && cs.get(k + 1) == Some(&'\n') {
                    sep.push(c);
                    k += 1;
                }
            } else if is_phone_punct(c) && !punct && !line_break {
                punct = true;
            } else if c == '(' && parens < 2 {
                open = true;
                parens += 1;
                group_in_parens = true;
                sep.push(c);
                k += 1;
                break;
            } else {
                break;
            }
            sep.push(c);
            k += 1;
        }
        // A dot joins digits only directly: `212.555.0187`, never `0123. 2`.
        let dot_ok = !sep.contains('.') || sep == ".";
        let next_digit = k < n && is_digit(cs[k]);
        if next_digit && !sep.is_empty() && dot_ok && (!line_break || cross_breaks) {
            run.crossed_break |= line_break;
            run.seps.push(sep);
            j = k;
            continue;
        }
        // The separator is not one (`5678 (mobile)`): the run ends at the
        // last digit, and a bracket opened in it belongs to the prose.
        run.stopped_at_break = line_break && next_digit && !cross_breaks;
        run.end = j;
        return Some(run);
    }
}

impl PhoneRun {
    /// The digits to validate: a `(0)` trunk mark after a country code
    /// (`+44 (0)20 …`) is dropped, as dialling from abroad drops it.
    fn dial_digits(&self) -> String {
        let mut out = String::with_capacity(self.digits.len() + 1);
        if self.plus {
            out.push('+');
        }
        let mut k = 0;
        for (idx, &(len, in_parens)) in self.groups.iter().enumerate() {
            let trunk_mark = self.plus && idx == 1 && in_parens && len == 1 && self.digits[k] == 0;
            if !trunk_mark {
                out.extend(self.digits[k..k + len].iter().map(|d| char::from(b'0' + d)));
            }
            k += len;
        }
        out
    }

    /// Is the run shaped like something people write as a phone number?
    /// `hidden_separators`: invisible chars (removed by folding) split it.
    fn shape_ok(&self, cs: &[char], i: usize, hidden_separators: bool) -> bool {
        if self.plus {
            return true;
        }
        let grouped = self.groups.len() > 1 || hidden_separators;
        if !grouped && !keyword_before(cs, i, 30, PHONE_WORDS) {
            return false;
        }
        // A date is not a phone number, whatever its digits.
        if numeric_date(cs, i).is_some_and(|e| e >= self.end) {
            return false;
        }
        // Decimals and amounts: `0.08`, `1.299`.
        if self.groups.len() == 2 && self.seps.iter().all(|s| s == ".") {
            return false;
        }
        // A slash separates the area code only (`040 / 123 456 78`).
        if self.seps.iter().skip(1).any(|s| s.contains('/')) {
            return false;
        }
        // Every group has two digits or more, except a leading NANP `1`
        // (`1 (206) 555-0123`) or a trunk `0` before a bracketed area code
        // (`0(532) 987 65 43`).
        self.groups.iter().enumerate().all(|(idx, &(len, _))| {
            len >= 2
                || (idx == 0 && self.digits[0] == 1 && self.groups.len() == 4)
                || (idx == 0 && self.digits[0] == 0 && self.groups.get(1).is_some_and(|&(_, p)| p))
        })
    }
}

/// Regions whose trunk prefix is `0`: where a national number written
/// with a leading `0` may come from when the default region rejects it.
fn trunk_zero_regions() -> &'static [country::Id] {
    static REGIONS: OnceLock<Vec<country::Id>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let mut ids: Vec<country::Id> = DATABASE
            .iter()
            .filter(|m| m.national_prefix() == Some("0"))
            .filter_map(|m| m.id().parse::<country::Id>().ok())
            .collect();
        ids.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
        ids
    })
}

fn valid_in(region: Option<country::Id>, number: &str) -> bool {
    phonenumber::parse(region, number).is_ok_and(|p| phonenumber::is_valid(&p))
}

/// An international number (`+` and country code) that is possible for its
/// country code (the national number fits the country's general pattern and
/// has the length of a fixed-line or mobile number there), though its range
/// may not be allocated: reserved ranges (`+44 7700 900123`) and new ones
/// are still written as phone numbers, and the `+` leaves little doubt.
fn possible_international(number: &str) -> bool {
    let Ok(p) = phonenumber::parse(None, number) else {
        return false;
    };
    let national = p.national().to_string();
    let Ok(len) = u16::try_from(national.len()) else {
        return false;
    };
    DATABASE.by_code(&p.code().value()).is_some_and(|regions| {
        regions.iter().any(|m| {
            let d = m.descriptors();
            let length_ok = [d.fixed_line(), d.mobile()]
                .into_iter()
                .flatten()
                .any(|t| t.possible_length().contains(&len));
            length_ok && d.general().is_match(&national)
        })
    })
}

/// Whether `number` (digits, `+` first when written) is a valid phone
/// number: international numbers by their country code (a possible number
/// is enough); national ones in the default region, else, after `00`, as
/// international, else, with a trunk `0`, in any region that uses one,
/// else, when shaped like a NANP number, in the US.
fn number_valid(number: &str, nanp_shape: bool, region: PhoneRegion) -> bool {
    if number.starts_with('+') {
        return valid_in(None, number) || possible_international(number);
    }
    if valid_in(Some(region.0), number) {
        return true;
    }
    if let Some(rest) = number.strip_prefix("00") {
        return valid_in(None, &format!("+{rest}"));
    }
    if number.starts_with('0') {
        return trunk_zero_regions()
            .iter()
            .any(|&r| r != region.0 && valid_in(Some(r), number));
    }
    nanp_shape && region.0 != country::Id::US && valid_in(Some(country::Id::US), number)
}

/// Validity of the digit strings already asked about in one scan (the same
/// number often appears several times in a text).
#[derive(Default)]
struct Verdicts(HashMap<(String, bool), bool>);

impl Verdicts {
    fn valid(&mut self, run: &PhoneRun, region: PhoneRegion) -> bool {
        let number = run.dial_digits();
        let lens: Vec<usize> = run.groups.iter().map(|g| g.0).collect();
        let nanp_shape = matches!(lens.as_slice(), [3, 3, 4] | [1, 3, 3, 4]);
        *self
            .0
            .entry((number, nanp_shape))
            .or_insert_with_key(|(n, nanp)| number_valid(n, *nanp, region))
    }
}

/// Proposes phone numbers in the folded text `cs`. `hidden(s, e)`: whether
/// invisible chars were removed inside `s..e`.
pub(super) fn scan_phones(
    cs: &[char],
    region: PhoneRegion,
    hidden: &dyn Fn(usize, usize) -> bool,
    out: &mut Vec<Cand>,
) {
    let n = cs.len();
    let mut verdicts = Verdicts::default();
    let mut i = 0;
    while i < n {
        let c = cs[i];
        let starts = (c == '+' && cs.get(i + 1).is_some_and(|&d| is_digit(d)))
            || (c == '(' && cs.get(i + 1).is_some_and(|&d| is_digit(d) || d == '+'))
            || is_digit(c);
        // A digit right after `+` belongs to the `+` run (rejected if we are here).
        if !starts || !left_ok(cs, i) || (i > 0 && cs[i - 1] == '+') {
            i += 1;
            continue;
        }
        match read_phone(cs, i, false) {
            Some(run) => {
                let accept = |r: &PhoneRun, verdicts: &mut Verdicts| {
                    right_ok(cs, r.end)
                        && r.shape_ok(cs, i, hidden(i, r.end))
                        && verdicts.valid(r, region)
                };
                // A number wrapped onto the next line (`020 7946\n0958`):
                // when the digits on both lines make one valid number, that
                // reading wins over the first line's part alone, as the
                // longer candidate does everywhere else. Two numbers on two
                // lines make too many digits to be one.
                let wrapped = run
                    .stopped_at_break
                    .then(|| read_phone(cs, i, true))
                    .flatten()
                    .filter(|long| long.crossed_break && accept(long, &mut verdicts));
                let end = match wrapped {
                    Some(long) => Some(long.end),
                    None => accept(&run, &mut verdicts).then_some(run.end),
                };
                if let Some(end) = end {
                    out.push(Cand::high(PiiType::Phone, i, end, None));
                }
                let end = end.unwrap_or(run.end);
                // Never start again inside this run: `3704 0044 0532` must
                // not yield `0044 0532`.
                i = end.max(i + 1);
            }
            // `(020 7946 0123)`: the bracket is prose, retry at the digit.
            None if c == '(' => i += 1,
            None => {
                // Skip past the digits so the tail of a too-long number is
                // not read as a phone number of its own.
                let mut j = i + 1;
                while j < n
                    && (is_digit(cs[j])
                        || is_phone_space(cs[j])
                        || is_phone_punct(cs[j])
                        || matches!(cs[j], '(' | ')'))
                {
                    j += 1;
                }
                i = j;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_come_from_the_library() {
        assert_eq!(
            PhoneRegion::parse("GB").map(|r| r.code().to_string()),
            Some("GB".into())
        );
        assert_eq!(PhoneRegion::default().code(), "US");
        for bad in ["", "gb", "G", "GBR", "XX", "ZZ", "U1"] {
            assert!(PhoneRegion::parse(bad).is_none(), "{bad}");
        }
        assert!(trunk_zero_regions().contains(&country::Id::GB));
        assert!(!trunk_zero_regions().contains(&country::Id::ES));
    }

    #[test]
    fn trunk_mark_is_dropped_after_a_country_code() {
        let cs: Vec<char> = "+44 (0)20 7946 0958".chars().collect();
        let run = read_phone(&cs, 0, false).expect("run");
        assert_eq!(run.dial_digits(), "+442079460958");
        assert_eq!(run.end, cs.len());
    }

    #[test]
    fn line_breaks_join_only_when_asked() {
        let cs: Vec<char> = "020 7946\n0958".chars().collect();
        let short = read_phone(&cs, 0, false).expect("run");
        assert_eq!(short.end, 8);
        assert!(short.stopped_at_break);
        let long = read_phone(&cs, 0, true).expect("run");
        assert_eq!(long.end, cs.len());
        assert!(long.crossed_break);
    }
}
