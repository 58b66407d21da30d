//! `sealtag identity …`: create the person's identity (an age key sealed
//! with their passphrase) and show its public half, which is what an admin
//! enrols.

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
            let identity = home.create_identity(name, &pass, DEFAULT_SCRYPT_LOG_N)?;
            let public = identity.public();
            println!("created identity '{name}' in {}", home.dir.display());
            println!("public key:  {}", public.to_key_string());
            println!("fingerprint: {}", public.fingerprint());
            Ok(Exit::Ok)
        }
        IdentityCommand::Show { json } => {
            let (name, public) = home.public_identity()?;
            if *json {
                print_json(
                    &json!({"name": name, "public_key": public.to_key_string(), "fingerprint": public.fingerprint()}),
                )?;
            } else {
                println!("name:        {name}");
                println!("public key:  {}", public.to_key_string());
                println!("fingerprint: {}", public.fingerprint());
            }
            Ok(Exit::Ok)
        }
    }
}
