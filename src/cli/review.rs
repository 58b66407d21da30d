//! `sealtag review …`: the review queue, approve / reject with a comment /
//! correct one annotator's work, the consensus of several people's labels,
//! and a person's acceptance rate.

use anyhow::Result;

use super::args::{ReviewCommand, ReviewTarget};
use super::{Cli, Exit, open, print_json};
use crate::controller::{Decision, Session};
use crate::home::Home;

fn decide(cli: &Cli, home: &Home, t: &ReviewTarget, decision: Decision) -> Result<Exit> {
    let mut s: Session = open(cli, home, &t.project.path)?;
    let verdict = decision.as_str();
    s.review(t.item, t.annotator.as_deref(), decision)?;
    println!("item {}: {verdict}", t.item);
    Ok(Exit::Ok)
}

pub fn run(cli: &Cli, home: &Home, cmd: &ReviewCommand) -> Result<Exit> {
    match cmd {
        ReviewCommand::Queue { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let queue = s.review_queue()?;
            if *json {
                print_json(&queue)?;
            } else if queue.is_empty() {
                println!("nothing waits for your review");
            } else {
                for e in queue {
                    println!(
                        "item {:>5}  {:<6} {:<40} by {} ({})",
                        e.item.id,
                        e.item.kind.as_str(),
                        e.item.name,
                        e.annotator_name,
                        e.annotator
                    );
                }
            }
            Ok(Exit::Ok)
        }
        ReviewCommand::Approve(t) => decide(cli, home, t, Decision::Approve),
        ReviewCommand::Correct(t) => decide(cli, home, t, Decision::Correct),
        ReviewCommand::Reject { target, comment } => decide(
            cli,
            home,
            target,
            Decision::Reject {
                comment: comment.clone(),
            },
        ),
        ReviewCommand::Consensus {
            project,
            item,
            apply,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let drafts = s.consensus(*item)?;
            if *apply {
                for draft in &drafts {
                    s.apply_label(crate::model::LabelChange::Create {
                        item_id: *item,
                        draft: draft.clone(),
                    })?;
                }
            }
            if *json {
                print_json(&drafts)?;
            } else {
                println!(
                    "{} consensus label(s) on item {item}{}",
                    drafts.len(),
                    if *apply { ", added as yours" } else { "" }
                );
                for d in &drafts {
                    println!(
                        "  class {}: {}",
                        d.class_id,
                        serde_json::to_string(&d.geometry)?
                    );
                }
            }
            Ok(Exit::Ok)
        }
        ReviewCommand::Acceptance { project, who, json } => {
            let mut s = open(cli, home, &project.path)?;
            let a = s.acceptance(who.as_deref())?;
            if *json {
                print_json(&serde_json::json!({
                    "approved": a.approved, "corrected": a.corrected,
                    "rejected": a.rejected, "rate": a.rate(),
                }))?;
            } else {
                match a.rate() {
                    Some(r) => println!(
                        "{:.1} % accepted ({} approved, {} corrected, {} rejected)",
                        100.0 * r,
                        a.approved,
                        a.corrected,
                        a.rejected
                    ),
                    None => println!("no review decisions yet"),
                }
            }
            Ok(Exit::Ok)
        }
    }
}
