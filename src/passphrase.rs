//! Where a passphrase comes from when a person is not typing it into the
//! GUI: a file, the environment, or a no-echo terminal prompt; and the one
//! rule a new passphrase must meet. Both front ends use it (the CLI to
//! unlock, the GUI for scripted starts, both to check a new passphrase), so
//! it lives beside them rather than in either.

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::Path;

/// The environment variable scripts may set instead of a file.
pub const ENV_VAR: &str = "SEALTAG_PASSPHRASE";

/// The new passphrase for `sealtag identity passphrase`, for scripts.
pub const NEW_ENV_VAR: &str = "SEALTAG_NEW_PASSPHRASE";

/// Fewest characters a new passphrase may have, in the GUI and the CLI.
pub const MIN_CHARS: usize = 8;

/// What makes a passphrase strong, shown wherever one is chosen.
pub const STRENGTH_HINT: &str = "Several unrelated words are stronger than a short password with symbols, and easier to remember.";

/// Why a new passphrase was refused.
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    #[error(
        "the new passphrase has {chars} characters; at least {MIN_CHARS} are needed, because on a lost or stolen laptop it is all that protects your keys. Choose a longer one: {STRENGTH_HINT}"
    )]
    TooShort { chars: usize },
}

/// The rule for a passphrase chosen for a new identity or a passphrase
/// change: at least [`MIN_CHARS`] characters (Unicode scalar values, not
/// bytes). Unlocking never checks it, so an old, shorter passphrase still
/// opens its identity until it is changed.
pub fn check_new(passphrase: &SecretString) -> Result<(), PassphraseError> {
    let chars = passphrase.expose_secret().chars().count();
    if chars < MIN_CHARS {
        return Err(PassphraseError::TooShort { chars });
    }
    Ok(())
}

/// Whether a passphrase is given without a prompt (`--passphrase-file` or
/// [`ENV_VAR`]): the GUI then unlocks with it instead of asking.
pub fn is_preset(file: Option<&Path>) -> bool {
    file.is_some() || std::env::var_os(ENV_VAR).is_some()
}

/// Reads the passphrase, in order: the first line of `file`
/// (`--passphrase-file`), [`ENV_VAR`], a no-echo prompt on a terminal
/// (asked twice when `confirm`, after the rule for a new one).
pub fn read(file: Option<&Path>, prompt: &str, confirm: bool) -> Result<SecretString> {
    read_from(file, ENV_VAR, "--passphrase-file", prompt, confirm)
}

/// Reads the new passphrase of a passphrase change: the first line of
/// `file` (`--new-passphrase-file`), [`NEW_ENV_VAR`], or a no-echo prompt
/// on a terminal, asked twice.
pub fn read_new(file: Option<&Path>) -> Result<SecretString> {
    read_from(
        file,
        NEW_ENV_VAR,
        "--new-passphrase-file",
        "New passphrase: ",
        true,
    )
}

fn read_from(
    file: Option<&Path>,
    env_var: &str,
    file_flag: &str,
    prompt: &str,
    confirm: bool,
) -> Result<SecretString> {
    if let Some(file) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading passphrase file {}", file.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(SecretString::from(line.to_string()));
    }
    if let Ok(p) = std::env::var(env_var) {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: no terminal to prompt on; set {env_var} or pass {file_flag} FILE");
    }
    if confirm {
        eprintln!("At least {MIN_CHARS} characters. {STRENGTH_HINT}");
    }
    let first = zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?);
    if confirm {
        let second = zeroize::Zeroizing::new(rpassword::prompt_password("Repeat passphrase: ")?);
        if *first != *second {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(SecretString::from(first.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn a_new_passphrase_needs_eight_characters_not_bytes() {
        assert!(check_new(&pass("eight ch")).is_ok());
        for short in ["", "seven c", "éééé"] {
            let err = check_new(&pass(short)).unwrap_err().to_string();
            assert!(
                err.contains(&format!("has {} characters", short.chars().count())),
                "{err}"
            );
            assert!(err.contains(STRENGTH_HINT), "{err}");
        }
        // Seven characters of two bytes each are still seven.
        assert!(check_new(&pass("ééééééé")).is_err());
        assert!(check_new(&pass("éééééééé")).is_ok());
    }
}
