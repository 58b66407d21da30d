//! Ids that arrive from outside (a header, a package manifest, a database
//! row someone could have edited) are checked here as fixed-length lowercase
//! hex before any path is built from them or any part of them is cut off.
//! A byte-index cut such as `id.get(..8).unwrap_or(id)` lets the whole
//! string through when the cut lands inside a multi-byte character; after
//! [`check`] every id is ASCII, so cuts are exact and `../`, `/` and `\`
//! cannot appear.

/// Which id, for the error message and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// A project id: 16 random bytes as hex.
    Project,
    /// A package id: 16 random bytes as hex.
    Package,
    /// A blob (encrypted media file) id: 16 random bytes as hex.
    Blob,
}

impl IdKind {
    pub fn name(self) -> &'static str {
        match self {
            IdKind::Project => "project id",
            IdKind::Package => "package id",
            IdKind::Blob => "blob id",
        }
    }
    /// Length in hex characters.
    pub fn hex_len(self) -> usize {
        match self {
            IdKind::Project | IdKind::Package | IdKind::Blob => 32,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {} {shown} is not a Sealtag id ({} lowercase hex characters); the file naming it was damaged or crafted, so it was refused before any file path was built from it — ask the sender for a fresh copy",
    kind.name(),
    kind.hex_len()
)]
pub struct IdError {
    pub kind: IdKind,
    /// The offending value, escaped and shortened for display.
    pub shown: String,
}

/// Checks that `value` is exactly `kind.hex_len()` lowercase hex characters.
pub fn check(kind: IdKind, value: &str) -> Result<(), IdError> {
    let ok = value.len() == kind.hex_len()
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        let mut shown: String = value.chars().take(40).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }
        Err(IdError {
            kind,
            shown: format!("{shown:?}"),
        })
    }
}

/// The first eight characters of an id (for names shown to people and
/// short file names), or `invalid` unless they are lowercase hex: never the
/// whole string, never a path separator.
pub fn short(value: &str) -> &str {
    match value.as_bytes().get(..8) {
        Some(head)
            if head
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) =>
        {
            &value[..8]
        }
        _ => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fixed_length_lowercase_hex_passes() {
        let good = "0123456789abcdef0123456789abcdef";
        assert!(check(IdKind::Blob, good).is_ok());
        for bad in [
            "",
            "../../../../../../../../etc/passwd",
            "/etc/passwd",
            "0123456789abcdef0123456789abcde/",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            // 32 bytes, but a multi-byte character straddles byte 8.
            "0123456€9abcdef0123456789abcde",
            "..\\..\\0123456789abcdef0123456789",
        ] {
            let err = check(IdKind::Project, bad).unwrap_err();
            assert!(err.to_string().contains("not a Sealtag id"), "{err}");
        }
        assert_eq!(short(good), "01234567");
        assert_eq!(short("../../../../tmp/x"), "invalid");
        assert_eq!(short("0123456€9abcdef"), "invalid");
        assert_eq!(short("0123"), "invalid");
    }
}
