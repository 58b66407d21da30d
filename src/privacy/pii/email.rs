//! E-mail addresses: RFC 6531 internationalised addresses (`josé@correo.es`,
//! `用户@例子.广告`) and addresses written to dodge scrapers
//! (`jane [at] example [dot] com`, `help(at)example(dot)com`).
//!
//! Without spaces around it, an address in Japanese or Arabic prose has no
//! visible edge, so a run of letters stops where the script changes: Latin
//! letters (ASCII or with diacritics) on one side, letters of other scripts
//! on the other; digits, marks and `._%+-` go with either.

use unicode_normalization::char::is_combining_mark;

use super::{Cand, PiiType, is_latin_letter, lower};

const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Other,
}

/// The script class of a letter; `None` for digits, marks and punctuation.
fn script(c: char) -> Option<Script> {
    if c.is_ascii_digit() || is_combining_mark(c) || !c.is_alphanumeric() {
        None
    } else if c.is_ascii_alphabetic() || is_latin_letter(c) {
        Some(Script::Latin)
    } else {
        Some(Script::Other)
    }
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | '%' | '+' | '-')
        || (!c.is_ascii() && (c.is_alphanumeric() || is_combining_mark(c)))
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '-'
        || (!c.is_ascii() && (c.is_alphanumeric() || is_combining_mark(c)))
}

/// Start of the local part ending just before `end`: as far back as local
/// chars of one script go, at most 64; `None` if the run is longer (not an
/// address) or the part is malformed.
fn local_start(cs: &[char], end: usize) -> Option<usize> {
    let mut s = end;
    let mut seen: Option<Script> = None;
    while s > 0 && is_local_char(cs[s - 1]) {
        let class = script(cs[s - 1]);
        if class.is_some() && seen.is_some() && class != seen {
            break;
        }
        seen = seen.or(class);
        s -= 1;
        if end - s > MAX_LOCAL {
            return None;
        }
    }
    while s < end && cs[s] == '.' {
        s += 1;
    }
    let local = &cs[s..end];
    let malformed =
        local.is_empty() || local.last() == Some(&'.') || local.windows(2).any(|w| w == ['.', '.']);
    (!malformed).then_some(s)
}

/// One domain label at `k`: label chars of one script, at most 63. Returns
/// its end.
fn label_end(cs: &[char], k: usize) -> usize {
    let mut e = k;
    let mut seen: Option<Script> = None;
    while e < cs.len() && e - k < MAX_LABEL && is_label_char(cs[e]) {
        let class = script(cs[e]);
        if class.is_some() && seen.is_some() && class != seen {
            break;
        }
        seen = seen.or(class);
        e += 1;
    }
    e
}

/// A top-level domain: two letters or more, ASCII ones only or none.
fn tld_ok(label: &[char]) -> bool {
    label.len() >= 2
        && label
            .iter()
            .all(|&c| c.is_alphabetic() || is_combining_mark(c))
        && (label.iter().all(char::is_ascii) || !label.iter().any(char::is_ascii))
}

fn label_ok(label: &[char]) -> bool {
    !label.is_empty() && label.first() != Some(&'-') && label.last() != Some(&'-')
}

/// `local@domain.tld`: local part of ASCII `._%+-`, letters and digits of
/// any script and combining marks; domain labels of letters and digits of
/// any script and `-`; at least two labels.
pub(super) fn scan_emails(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    for at in 0..n {
        if cs[at] != '@' {
            continue;
        }
        let Some(s) = local_start(cs, at) else {
            continue;
        };
        let mut labels: Vec<(usize, usize)> = Vec::new();
        let mut k = at + 1;
        loop {
            let e = label_end(cs, k);
            if e == k || e - at > MAX_DOMAIN {
                break;
            }
            labels.push((k, e));
            if cs.get(e) == Some(&'.') && cs.get(e + 1).is_some_and(|&c| is_label_char(c)) {
                k = e + 1;
            } else {
                break;
            }
        }
        if let Some(e) = domain_end(cs, &labels) {
            out.push(Cand::high(PiiType::Email, s, e, None));
        }
    }
}

/// The end of a domain made of `labels`, after dropping trailing labels
/// that cannot end one (`example.com.` is already cut; `a.b.c1` is not a
/// domain).
fn domain_end(cs: &[char], labels: &[(usize, usize)]) -> Option<usize> {
    let &(ts, te) = labels.last()?;
    let ok = labels.len() >= 2
        && labels.iter().all(|&(s, e)| label_ok(&cs[s..e]))
        && tld_ok(&cs[ts..te]);
    ok.then_some(te)
}

/// Matches `word` (lower case ASCII) in brackets at `k`: `[at]`, `(at)`,
/// `{at}`, `<at>`, any case. Returns the end.
fn bracketed(cs: &[char], k: usize, word: &str) -> Option<usize> {
    let close = match cs.get(k)? {
        '[' => ']',
        '(' => ')',
        '{' => '}',
        '<' => '>',
        _ => return None,
    };
    let mut j = k + 1;
    for w in word.chars() {
        if lower(*cs.get(j)?) != w {
            return None;
        }
        j += 1;
    }
    (cs.get(j) == Some(&close)).then_some(j + 1)
}

/// A separator written as a word at `k`: an optional space, the bracketed
/// word, an optional space; or, when `plain`, ` word ` between spaces.
/// Returns the end and whether it was bracketed.
fn word_separator(cs: &[char], k: usize, word: &str, plain: bool) -> Option<(usize, bool)> {
    let sp = usize::from(cs.get(k) == Some(&' '));
    if let Some(e) = bracketed(cs, k + sp, word) {
        let e = if cs.get(e) == Some(&' ') { e + 1 } else { e };
        return Some((e, true));
    }
    if !plain || sp == 0 {
        return None;
    }
    let mut j = k + 1;
    for w in word.chars() {
        if cs.get(j).map(|&c| lower(c)) != Some(w) {
            return None;
        }
        j += 1;
    }
    (cs.get(j) == Some(&' ')).then_some((j + 1, false))
}

/// `name [at] domain [dot] tld`, `name (at) domain (dot) co (dot) uk`,
/// `name [at] domain.tld`, `name at domain [dot] tld`: the `at` and `dot`
/// words in brackets (`[]`, `()`, `{}`, `<>`), optionally spaced. A plain
/// ` at ` counts only when a bracketed `dot` follows, and a plain ` dot `
/// only after a bracketed `at`, so prose (`meet at home`) stays prose.
pub(super) fn scan_obfuscated_emails(cs: &[char], out: &mut Vec<Cand>) {
    let n = cs.len();
    let mut k = 0;
    while k < n {
        // A local part ends at k when the next char is a space or bracket.
        if !(is_local_char(cs[k]) && cs.get(k + 1).is_some_and(|&c| !is_local_char(c))) {
            k += 1;
            continue;
        }
        let local_end = k + 1;
        k += 1;
        let Some((mut d, at_bracketed)) = word_separator(cs, local_end, "at", true) else {
            continue;
        };
        let Some(s) = local_start(cs, local_end) else {
            continue;
        };
        if s > 0 && (cs[s - 1] == '@' || is_local_char(cs[s - 1])) {
            continue;
        }
        let mut labels: Vec<(usize, usize)> = Vec::new();
        let mut any_bracketed_dot = false;
        loop {
            let e = label_end(cs, d);
            if e == d || e - local_end > MAX_DOMAIN {
                break;
            }
            labels.push((d, e));
            if cs.get(e) == Some(&'.') && cs.get(e + 1).is_some_and(|&c| is_label_char(c)) {
                d = e + 1;
                continue;
            }
            match word_separator(cs, e, "dot", at_bracketed) {
                Some((next, b)) if cs.get(next).is_some_and(|&c| is_label_char(c)) => {
                    any_bracketed_dot |= b;
                    d = next;
                }
                _ => break,
            }
        }
        if !at_bracketed && !any_bracketed_dot {
            continue;
        }
        if let Some(e) = domain_end(cs, &labels) {
            out.push(Cand::high(PiiType::Email, s, e, Some("obfuscated")));
            k = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(text: &str) -> Vec<String> {
        let cs: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        scan_emails(&cs, &mut out);
        scan_obfuscated_emails(&cs, &mut out);
        out.iter().map(|c| cs[c.s..c.e].iter().collect()).collect()
    }

    #[test]
    fn internationalised_addresses() {
        assert_eq!(emails("mail josé@correo.es now"), ["josé@correo.es"]);
        assert_eq!(emails("連絡先:用户@例子.广告 / x"), ["用户@例子.广告"]);
        assert_eq!(emails("a: ayşe@örnek.com.tr."), ["ayşe@örnek.com.tr"]);
        // The script changes where the address ends in Japanese prose.
        assert_eq!(
            emails("メールはtanaka@example.jpまで"),
            ["tanaka@example.jp"]
        );
        assert!(emails("a@b").is_empty());
        assert!(emails("x@example.c0m").is_empty());
    }

    #[test]
    fn obfuscated_addresses() {
        assert_eq!(
            emails("mail jane [at] example [dot] com."),
            ["jane [at] example [dot] com"]
        );
        assert_eq!(
            emails("help(at)example(dot)co(dot)uk"),
            ["help(at)example(dot)co(dot)uk"]
        );
        assert_eq!(emails("legal [AT] example.com"), ["legal [AT] example.com"]);
        assert_eq!(
            emails("info at example [dot] org"),
            ["info at example [dot] org"]
        );
        assert!(emails("meet me at example.com").is_empty());
        assert!(emails("see you at home dot com").is_empty());
        assert!(emails("jane [at] example").is_empty());
    }
}
