//! `sealtag erase --subject KEY`: erase every item and label linked to a
//! data subject (crypto-shredding), on their request.

use anyhow::Result;

use super::args::ProjectArg;
use super::retention::print_shred;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;

pub fn run(
    cli: &Cli,
    home: &Home,
    project: &ProjectArg,
    subject: &str,
    json: bool,
) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let r = s.erase_subject(subject)?;
    if json {
        print_json(&r)?;
    } else {
        print_shred("erasure", &r);
    }
    Ok(Exit::Ok)
}
