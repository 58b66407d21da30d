//! `sealtag identity …`: create the person's identity (an age key sealed
//! with their passphrase), show its public half, which is what an admin
//! enrols, and change the passphrase.

use anyhow::{Result, bail};
use serde_json::json;

use super::args::IdentityCommand;
use super::{Cli, Exit, print_json, read_passphrase};
use crate::crypto::identity::DEFAULT_SCRYPT_LOG_N;
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &IdentityCommand) -> Result<Exit> {
    match cmd {
        IdentityCommand::New { name } => {
            if home.has_identity() {
                bail!(
                    "an identity already exists in {}; refusing to overwrite it",
                    home.dir.display()
                );
            }
            let pass = read_passphrase(cli, "New passphrase: ", true)?;
            let identity = home.create_identity(name, &pass, scrypt_log_n())?;
            let public = identity.public();
            println!("created identity '{name}' in {}", home.dir.display());
            println!("public key:  {}", public.to_key_string());
            println!("fingerprint: {}", public.fingerprint());
            Ok(Exit::Ok)
        }
        IdentityCommand::Show { json } => {
            let (name, public) = home.public_identity()?;
            let log_n = home.identity_scrypt_log_n();
            if *json {
                print_json(&json!({
                    "name": name,
                    "public_key": public.to_key_string(),
                    "fingerprint": public.fingerprint(),
                    "scrypt_log_n": log_n,
                }))?;
            } else {
                println!("name:        {name}");
                println!("public key:  {}", public.to_key_string());
                println!("fingerprint: {}", public.fingerprint());
                if let Some(n) = log_n.filter(|n| *n < DEFAULT_SCRYPT_LOG_N) {
                    println!(
                        "note:        your identity file is sealed with scrypt 2^{n}, below today's 2^{DEFAULT_SCRYPT_LOG_N}; `sealtag identity passphrase` re-seals it (the same passphrase may be given again)"
                    );
                }
            }
            Ok(Exit::Ok)
        }
        IdentityCommand::Passphrase {
            new_passphrase_file,
        } => {
            if !home.has_identity() {
                bail!(
                    "no identity in {}; create one with `sealtag identity new --name NAME`",
                    home.dir.display()
                );
            }
            let current = read_passphrase(cli, "Current passphrase: ", false)?;
            let new = crate::passphrase::read_new(new_passphrase_file.as_deref())?;
            let log_n = scrypt_log_n();
            home.change_passphrase(&current, &new, log_n)?;
            println!(
                "changed the passphrase of the identity in {} (sealed with scrypt 2^{log_n})",
                home.dir.display()
            );
            Ok(Exit::Ok)
        }
    }
}

/// Set in the test suite to seal identities more cheaply: hundreds of test
/// processes each spending 256 MiB and ~0.6 s on scrypt would slow the
/// suite and hide what the memory tests measure. Only debug builds (what
/// `cargo test` runs) read it; a release build always uses
/// [`DEFAULT_SCRYPT_LOG_N`].
#[cfg(debug_assertions)]
pub const TEST_SCRYPT_ENV: &str = "SEALTAG_TEST_SCRYPT_LOG_N";

/// The scrypt cost of identity files this command writes.
fn scrypt_log_n() -> u8 {
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var(TEST_SCRYPT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    DEFAULT_SCRYPT_LOG_N
}
