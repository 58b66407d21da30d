//! `sealtag consent …`: an item's data subject, consent and allowed
//! purposes (admin sets them; the export's `--purpose` reads them).

use anyhow::{Result, bail};

use super::args::ConsentCommand;
use super::{Cli, Exit, open, print_json};
use crate::controller::GovernanceChange;
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &ConsentCommand) -> Result<Exit> {
    match cmd {
        ConsentCommand::Set {
            project,
            items,
            subject,
            clear_subject,
            consent,
            purposes,
        } => {
            let change = GovernanceChange {
                subject_key: if *clear_subject {
                    Some(None)
                } else {
                    subject.clone().map(Some)
                },
                consent: consent.as_ref().map(|c| c.as_str().to_string()),
                purposes: purposes.as_deref().map(crate::controller::parse_purposes),
            };
            if change.subject_key.is_none() && change.consent.is_none() && change.purposes.is_none()
            {
                bail!("say what to set: --subject, --clear-subject, --consent or --purposes");
            }
            let mut s = open(cli, home, &project.path)?;
            s.set_governance(items, &change)?;
            println!("{} item(s) updated", items.len());
        }
        ConsentCommand::Show {
            project,
            item,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let g = s.item_governance(*item)?;
            if *json {
                print_json(&serde_json::json!({
                    "item": item,
                    "subject_key_set": g.subject_key.is_some(),
                    "consent": g.consent,
                    "purposes": g.purposes,
                }))?;
            } else {
                println!(
                    "item {item}: consent {}, purposes [{}], data subject {}",
                    g.consent,
                    g.purposes.join(", "),
                    if g.subject_key.is_some() {
                        "set"
                    } else {
                        "not set"
                    }
                );
            }
        }
    }
    Ok(Exit::Ok)
}
