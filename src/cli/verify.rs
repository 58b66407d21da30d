//! `sealtag verify`: check a sealed package addressed to you, or a signed
//! export folder (which anyone can check: no identity needed).

use anyhow::{Context, Result};

use super::{Cli, Exit, print_json, unlock};
use crate::home::Home;
use crate::model::format_time;

pub fn run(cli: &Cli, home: &Home, file: &std::path::Path, json: bool) -> Result<Exit> {
    if file.is_dir() {
        export_dir(file, json)
    } else {
        package(cli, home, file, json)
    }
}

/// A signed export folder: the signature, every file's hash, nothing added
/// or missing.
fn export_dir(file: &std::path::Path, json: bool) -> Result<Exit> {
    // A signed export folder: no identity needed, anyone can check.
    let m = crate::package::verify_export_dir(file)?;
    if json {
        print_json(&m)?;
    } else {
        println!(
            "ok: signed export {} of project {}",
            m.package_id, m.project_id
        );
        println!("signed by {} at {}", m.sender, format_time(m.created_ms));
        println!(
            "{} file(s), every SHA-256 checked, nothing added or missing",
            m.members.len()
        );
    }
    Ok(Exit::Ok)
}

/// A sealed package: decryption, format, signature, recipient, every
/// member's hash.
fn package(cli: &Cli, home: &Home, file: &std::path::Path, json: bool) -> Result<Exit> {
    let identity = unlock(cli, home)?;
    let input = std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    let mut package = crate::package::open_package(input, &identity)?;
    package.verify_rest()?;
    let m = &package.manifest;
    if json {
        print_json(m)?;
    } else {
        println!(
            "ok: {:?} package {} for project {}",
            m.kind, m.package_id, m.project_id
        );
        println!(
            "signed by {} (sequence {}), sealed to {} recipient(s)",
            m.sender,
            m.sequence,
            m.recipients.len()
        );
        println!("{} member(s), every SHA-256 checked", m.members.len());
    }
    Ok(Exit::Ok)
}
