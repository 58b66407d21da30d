//! `sealtag quality report`: progress, throughput, review outcomes,
//! agreement and gold scores, as text or JSON.

use anyhow::Result;

use super::args::QualityCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &QualityCommand) -> Result<Exit> {
    match cmd {
        QualityCommand::Report { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let report = s.quality_report()?;
            if *json {
                print_json(&report)?;
            } else {
                print!("{}", report.to_text());
            }
            Ok(Exit::Ok)
        }
    }
}
