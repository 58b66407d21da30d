//! `sealtag access review`: the periodic access review of a project
//! (admins, auditors): everyone ever enrolled, their role, who added them,
//! their last activity and the packages exchanged with them.

use anyhow::Result;
use std::collections::BTreeMap;

use super::args::AccessCommand;
use super::{Cli, Exit, open, print_json};
use crate::governance::AccessReview;
use crate::home::Home;
use crate::model::format_time;

pub fn run(cli: &Cli, home: &Home, cmd: &AccessCommand) -> Result<Exit> {
    match cmd {
        AccessCommand::Review { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let review = s.access_review()?;
            if *json {
                print_json(&review)?;
            } else {
                print_review(&review);
            }
            Ok(Exit::Ok)
        }
    }
}

fn tally(n: usize, last: Option<i64>) -> String {
    match last {
        Some(ms) => format!("{n} (last {})", format_time(ms)),
        None => n.to_string(),
    }
}

fn print_review(review: &AccessReview) {
    let names: BTreeMap<&str, &str> = review
        .people
        .iter()
        .map(|p| (p.fingerprint.as_str(), p.name.as_str()))
        .collect();
    println!(
        "access review of '{}' ({}) at {}",
        review.project_name,
        review.project_id,
        format_time(review.generated_ms)
    );
    for p in &review.people {
        let status = match p.removed_ms {
            Some(ms) => format!("removed {}", format_time(ms)),
            None if p.active => "active".to_string(),
            None => "removed".to_string(),
        };
        println!(
            "{}  {:<9}  {}  ({status})",
            p.fingerprint,
            p.role.as_str(),
            p.name
        );
        let by = p
            .added_by
            .as_deref()
            .map(|f| format!(" by {}", names.get(f).copied().unwrap_or(f)))
            .unwrap_or_default();
        let last = match &p.last_activity {
            Some(a) => format!(
                "{} {}{}",
                format_time(a.at_ms),
                a.action,
                a.chain
                    .as_deref()
                    .map(|c| format!(" (laptop chain {c})"))
                    .unwrap_or_default()
            ),
            None => "none".to_string(),
        };
        println!(
            "    added {}{by}; last activity {last}",
            format_time(p.added_ms)
        );
        println!(
            "    packages sent to them {}, received from them {}",
            tally(p.packages_sent.count, p.packages_sent.last_ms),
            tally(p.packages_received.count, p.packages_received.last_ms)
        );
    }
    println!("{} people, {} active", review.people.len(), review.active());
}
