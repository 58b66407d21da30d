//! `sealtag user …`: enrol a person by public key with a role, list the
//! members, remove one (which re-keys the bundle).

use anyhow::{Result, anyhow};

use super::args::UserCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;
use crate::model::Role;

pub fn run(cli: &Cli, home: &Home, cmd: &UserCommand) -> Result<Exit> {
    match cmd {
        UserCommand::Add {
            project,
            key,
            role,
            name,
        } => {
            let role: Role = match role.known() {
                Some(role) => *role,
                // Refused as before the list was typed: exit 1, the model's message.
                None => role.as_str().parse().map_err(|e: String| anyhow!(e))?,
            };
            let mut s = open(cli, home, &project.path)?;
            let user = s.add_user(key, role, name)?;
            println!(
                "added {} ({}) as {}",
                user.name, user.fingerprint, user.role
            );
            Ok(Exit::Ok)
        }
        UserCommand::List { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let users = s.list_users()?;
            if *json {
                print_json(&users)?;
            } else {
                for u in users {
                    println!(
                        "{}  {:<9}  {}{}",
                        u.fingerprint,
                        u.role,
                        u.name,
                        if u.active { "" } else { "  (removed)" }
                    );
                }
            }
            Ok(Exit::Ok)
        }
        UserCommand::Remove { project, who } => {
            let mut s = open(cli, home, &project.path)?;
            let user = s.remove_user(who)?;
            println!(
                "removed {} ({}); the bundle was re-keyed",
                user.name, user.fingerprint
            );
            Ok(Exit::Ok)
        }
    }
}
