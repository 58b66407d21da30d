//! `sealtag comment …`: comment on an item or one of its labels, and read
//! the comments on an item you may read.

use anyhow::Result;

use super::args::CommentCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;
use crate::model::format_time;

pub fn run(cli: &Cli, home: &Home, cmd: &CommentCommand) -> Result<Exit> {
    match cmd {
        CommentCommand::Add {
            project,
            item,
            label,
            text,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let id = s.comment(*item, *label, text)?;
            println!("comment {id} added to item {item}");
            Ok(Exit::Ok)
        }
        CommentCommand::List {
            project,
            item,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let comments = s.comments(*item)?;
            if *json {
                print_json(&comments)?;
            } else {
                for c in comments {
                    println!(
                        "{}  {}{}: {}",
                        format_time(c.at_ms),
                        c.author_name,
                        c.annotation_id
                            .map(|a| format!(" on label {a}"))
                            .unwrap_or_default(),
                        c.body
                    );
                }
            }
            Ok(Exit::Ok)
        }
    }
}
