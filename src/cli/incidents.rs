//! `sealtag incident …`: report an item (it leaves your queue at once),
//! list reports, and the admin's decision on one (remask, remove, release).

use anyhow::{Result, anyhow};

use super::args::IncidentCommand;
use super::retention::print_shred;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;
use crate::model::format_time;

pub fn run(cli: &Cli, home: &Home, cmd: &IncidentCommand) -> Result<Exit> {
    match cmd {
        IncidentCommand::Flag {
            project,
            item,
            kind,
            reason,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let id = s.flag_item(*item, kind.as_str(), reason)?;
            println!("incident {id}: item {item} reported ({kind}); it has left your queue");
        }
        IncidentCommand::List {
            project,
            open: only_open,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let mut list = s.incidents()?;
            if *only_open {
                list.retain(|i| i.status == "open");
            }
            if *json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("no incidents");
            } else {
                for i in list {
                    println!(
                        "incident {:>4}  item {:>5}  {:<10} {:<9} {} by {} ({}): {}",
                        i.id,
                        i.item_id,
                        i.kind,
                        i.status,
                        format_time(i.at_ms),
                        i.reporter_name,
                        i.reporter,
                        i.reason
                    );
                }
            }
        }
        IncidentCommand::Resolve {
            project,
            id,
            resolution,
            note,
        } => {
            let r = resolution
                .known()
                .copied()
                .ok_or_else(|| anyhow!("--as is remask, remove or release, not '{resolution}'"))?;
            let mut s = open(cli, home, &project.path)?;
            match s.resolve_incident(*id, r, note.as_deref())? {
                Some(shred) => print_shred(&format!("incident {id} resolved: removed"), &shred),
                None => println!("incident {id} resolved: {resolution}"),
            }
        }
    }
    Ok(Exit::Ok)
}
