//! Where a passphrase comes from when a person is not typing it into the
//! GUI: a file, the environment, or a no-echo terminal prompt. Both front
//! ends use it (the CLI to unlock, the GUI for scripted starts), so it lives
//! beside them rather than in either.

use age::secrecy::SecretString;
use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::Path;

/// The environment variable scripts may set instead of a file.
pub const ENV_VAR: &str = "SEALTAG_PASSPHRASE";

/// Whether a passphrase is given without a prompt (`--passphrase-file` or
/// [`ENV_VAR`]): the GUI then unlocks with it instead of asking.
pub fn is_preset(file: Option<&Path>) -> bool {
    file.is_some() || std::env::var_os(ENV_VAR).is_some()
}

/// Reads the passphrase, in order: the first line of `file`
/// (`--passphrase-file`), [`ENV_VAR`], a no-echo prompt on a terminal
/// (asked twice when `confirm`).
pub fn read(file: Option<&Path>, prompt: &str, confirm: bool) -> Result<SecretString> {
    if let Some(file) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading passphrase file {}", file.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(SecretString::from(line.to_string()));
    }
    if let Ok(p) = std::env::var(ENV_VAR) {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no passphrase: no terminal to prompt on; set SEALTAG_PASSPHRASE or pass --passphrase-file FILE"
        );
    }
    let first = zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?);
    if confirm {
        let second = zeroize::Zeroizing::new(rpassword::prompt_password("Repeat passphrase: ")?);
        if *first != *second {
            bail!("the two passphrases differ; nothing was created");
        }
    }
    Ok(SecretString::from(first.to_string()))
}
