//! The headless front end: parses arguments (see [`args`]), unlocks the
//! identity, and calls the same controller as the GUI. Output is either
//! human text or stable JSON (`--json`); exit codes are documented in README.
//!
//! [`run`] only dispatches: each subcommand family has its own module, named
//! after it (as ripgrep does); this file keeps what they share (unlocking,
//! opening a project, JSON output, progress, exit codes).

pub mod args;
pub mod generate;

mod access;
mod audit;
mod bench;
mod comments;
mod consent;
mod erase;
mod export;
mod gold;
mod identity;
mod import;
mod incidents;
mod items;
mod label;
mod mask;
mod package;
mod pii;
mod project;
mod quality;
mod retention;
mod review;
mod schema;
mod selftest;
mod settings;
mod user;
pub mod values;
mod verify;

use age::secrecy::SecretString;
use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::controller::Session;
use crate::crypto::UnlockedIdentity;
use crate::home::Home;
pub use args::Cli;
use args::Command;

/// Process exit codes (README: "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Usage = 2,
    /// Some inputs were rejected; the rest was done.
    Partial = 3,
}

/// The passphrase as `--passphrase-file` or the environment give it, or
/// from a prompt (see [`crate::passphrase::read`]).
fn read_passphrase(cli: &Cli, prompt: &str, confirm: bool) -> Result<SecretString> {
    crate::passphrase::read(cli.passphrase_file.as_deref(), prompt, confirm)
}

fn unlock(cli: &Cli, home: &Home) -> Result<UnlockedIdentity> {
    if !home.has_identity() {
        bail!(
            "no identity in {}; create one with `sealtag identity new --name NAME`",
            home.dir.display()
        );
    }
    let pass = read_passphrase(cli, "Passphrase: ", false)?;
    Ok(home.unlock(&pass)?)
}

pub(crate) fn open(cli: &Cli, home: &Home, path: &Path) -> Result<Session> {
    let identity = unlock(cli, home)?;
    let session = Session::open(path, identity, Some(home))?;
    home.remember_project(path);
    Ok(session)
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}
/// Runs one headless command. GUI commands are handled by `main`.
pub fn run(cli: &Cli, command: &Command) -> Result<Exit> {
    // Packaging helpers need no identity directory.
    if let Command::Generate(what) = command {
        return generate::run(what);
    }
    let home = &Home::locate(cli.home.clone())?;
    match command {
        Command::Open { .. } => bail!("`sealtag open` needs the GUI; this build has none"),
        Command::Demo { .. } => project::demo(home),
        Command::Identity(cmd) => identity::run(cli, home, cmd),
        Command::Project(cmd) => project::run(cli, home, cmd),
        Command::User(cmd) => user::run(cli, home, cmd),
        Command::Import(args) => import::run(cli, home, args),
        Command::Export(args) => export::run(cli, home, args),
        Command::Items { project, json } => items::list(cli, home, project, *json),
        Command::Assign(args) => items::assign(cli, home, args),
        Command::Submit { project, item } => items::submit(cli, home, project, *item),
        Command::Skip {
            project,
            item,
            reason,
        } => items::skip(cli, home, project, *item, reason),
        Command::Package(cmd) => package::run(cli, home, cmd),
        Command::Review(cmd) => review::run(cli, home, cmd),
        Command::Comment(cmd) => comments::run(cli, home, cmd),
        Command::Gold(cmd) => gold::run(cli, home, cmd),
        Command::Quality(cmd) => quality::run(cli, home, cmd),
        Command::Pii(cmd) => pii::run(cli, home, cmd),
        Command::Retention(cmd) => retention::run(cli, home, cmd),
        Command::Erase {
            project,
            subject,
            json,
        } => erase::run(cli, home, project, subject, *json),
        Command::Consent(cmd) => consent::run(cli, home, cmd),
        Command::Incident(cmd) => incidents::run(cli, home, cmd),
        Command::Mask(cmd) => mask::run(cli, home, cmd),
        Command::Label(cmd) => label::run(cli, home, cmd),
        Command::Audit(cmd) => audit::run(cli, home, cmd),
        Command::Access(cmd) => access::run(cli, home, cmd),
        Command::Schema(cmd) => schema::run(cli, home, cmd),
        Command::Settings {
            project,
            key,
            value,
        } => settings::run(cli, home, project, key, value),
        Command::Bench(args) => bench::run(home, args),
        Command::Verify { file, json } => verify::run(cli, home, file, *json),
        Command::Selftest(cmd) => selftest::run(cmd),
        Command::Generate(what) => generate::run(what),
    }
}

/// Progress on a terminal's stderr (a no-op when piped: scripts read the
/// final line).
fn progress_printer() -> impl FnMut(crate::package::Progress) -> bool {
    let tty = std::io::stderr().is_terminal();
    move |p| {
        if tty {
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            if p.total > 0 {
                eprint!(
                    "\r{} {:.0} of {:.0} MiB ({:.0} %)   ",
                    p.phase,
                    mib(p.done),
                    mib(p.total),
                    100.0 * p.done as f64 / p.total as f64
                );
            } else {
                eprint!("\r{} {:.0} MiB   ", p.phase, mib(p.done));
            }
        }
        true
    }
}
