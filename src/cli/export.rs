//! `sealtag export`: labels (and media) in a dataset format, as a signed
//! folder, a sealed package (`--to`) or a plain folder (`--unsigned`),
//! with progress on a terminal and what was left out, and why.

use anyhow::{Result, bail};
use std::io::IsTerminal;

use super::args::ExportArgs;
use super::values::ExportStatus;
use super::{Cli, Exit, open, print_json, progress_printer};
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, args: &ExportArgs) -> Result<Exit> {
    let ExportArgs {
        project,
        format,
        out,
        status,
        media,
        to,
        unsigned,
        watermark,
        purpose,
        json,
    } = args;
    let all_statuses = match status.known() {
        Some(ExportStatus::Approved) => false,
        Some(ExportStatus::All) => true,
        None => bail!("--status is approved or all, not '{status}'"),
    };
    let mut s = open(cli, home, &project.path)?;
    let options = crate::controller::ExportOptions {
        format: format.clone(),
        all_statuses,
        media: *media,
        to: to.clone(),
        unsigned: *unsigned,
        watermark: *watermark,
        purpose: purpose.clone(),
    };
    let mut progress = progress_printer();
    let report = s.export(&options, out, &mut progress);
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let report = report?;
    if *json {
        print_json(&report)?;
    } else {
        println!(
            "exported {} item(s), {} label(s) as {} to {} ({}, {} file(s), {} bytes)",
            report.items,
            report.labels,
            report.format,
            report.out.display(),
            report.delivery,
            report.files,
            report.bytes
        );
        for (why, n) in &report.skipped {
            println!("left out: {n} label(s): {why}");
        }
        if !report.held.is_empty() {
            println!("held by the quality gate: items {:?}", report.held);
        }
        if let Some(purpose) = &options.purpose {
            println!(
                "left out: {} item(s) whose consent does not cover '{purpose}'",
                report.not_consented
            );
        }
    }
    Ok(Exit::Ok)
}
