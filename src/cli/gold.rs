//! `sealtag gold …`: make items gold (their current labels become the
//! standard annotators are scored on) or ordinary again.

use anyhow::Result;

use super::args::GoldCommand;
use super::{Cli, Exit, open};
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &GoldCommand) -> Result<Exit> {
    let (project, ids, gold) = match cmd {
        GoldCommand::Set { project, ids } => (project, ids, true),
        GoldCommand::Unset { project, ids } => (project, ids, false),
    };
    let mut s = open(cli, home, &project.path)?;
    for id in ids {
        let n = s.set_gold(*id, gold)?;
        if gold {
            println!("item {id} is gold ({n} label(s) as the standard)");
        } else {
            println!("item {id} is no longer gold");
        }
    }
    Ok(Exit::Ok)
}
