//! `sealtag generate` (hidden): what packaging/build-deb.sh puts next to the
//! binary, made by the binary itself so it always matches it — man pages and
//! shell completions from the clap grammar, the CycloneDX SBOM and the
//! licence texts from `cargo metadata` (see [`crate::packaging`]).

use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::Path;

use super::args::GenerateCommand;
use super::{Cli, Exit};
use crate::packaging::{Metadata, licenses, sbom};

pub fn run(what: &GenerateCommand) -> Result<Exit> {
    match what {
        GenerateCommand::Man { out } => {
            create_dir(out)?;
            clap_mangen::generate_to(Cli::command(), out)
                .with_context(|| format!("writing man pages into {}", out.display()))?;
            eprintln!("man pages written to {}", out.display());
        }
        GenerateCommand::Completions { shells, out } => {
            create_dir(out)?;
            let shells = if shells.is_empty() {
                use clap_complete::Shell;
                vec![Shell::Bash, Shell::Zsh, Shell::Fish]
            } else {
                shells.clone()
            };
            for shell in shells {
                let path =
                    clap_complete::generate_to(shell, &mut public(&Cli::command()), "sealtag", out)
                        .with_context(|| format!("writing {shell} completions"))?;
                eprintln!("{shell} completions: {}", path.display());
            }
        }
        GenerateCommand::Sbom {
            metadata,
            lock,
            binary,
            out,
        } => {
            let meta = Metadata::read(metadata)?;
            let lock = match lock {
                Some(p) => p.clone(),
                None => meta.root().manifest_dir.join("Cargo.lock"),
            };
            let lock_text = std::fs::read_to_string(&lock)
                .with_context(|| format!("reading {}", lock.display()))?;
            let binary_sha256 = match binary {
                Some(p) => Some(sha256_file(p)?),
                None => None,
            };
            let epoch = std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok());
            let bom = sbom::cyclonedx(
                &meta,
                &sbom::parse_lock_checksums(&lock_text),
                &sbom::Options {
                    binary_sha256,
                    timestamp_unix: epoch,
                },
            )?;
            let mut text = serde_json::to_string_pretty(&bom)?;
            text.push('\n');
            match out {
                Some(p) => {
                    std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
        }
        GenerateCommand::Licenses { metadata, out } => {
            let meta = Metadata::read(metadata)?;
            create_dir(out)?;
            let report = licenses::collect(&meta, out)?;
            eprintln!(
                "licences of {} packages in {}: {} files copied, {} packages without a licence file (a note each)",
                report.packages,
                out.display(),
                report.files,
                report.without_file.len()
            );
        }
    }
    Ok(Exit::Ok)
}

/// The grammar without hidden subcommands and options (test hooks,
/// `selftest`, `generate`): clap_complete would offer them otherwise.
fn public(cmd: &clap::Command) -> clap::Command {
    let mut out = clap::Command::new(cmd.get_name().to_owned());
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    if let Some(version) = cmd.get_version() {
        out = out.version(version.to_owned());
    }
    let kept: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| !a.is_hide_set()).collect();
    for arg in &kept {
        out = out.arg((*arg).clone());
    }
    // Derive makes one group per argument struct; keep them without the
    // hidden members.
    for group in cmd.get_groups() {
        let members = group
            .get_args()
            .filter(|id| kept.iter().any(|a| a.get_id() == *id))
            .cloned();
        let mut copy = group.clone();
        out = out.group(
            clap::ArgGroup::new(group.get_id().clone())
                .args(members)
                .multiple(copy.is_multiple())
                .required(group.is_required_set()),
        );
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out = out.subcommand(public(sub));
    }
    out
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
