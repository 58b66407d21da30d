//! Review, comment, gold, quality and PII commands: thin wrappers over the
//! controller, printing text or the stable JSON.

use anyhow::Result;

use super::args::{
    CommentCommand, GoldCommand, PiiCommand, QualityCommand, ReviewCommand, ReviewTarget,
};
use super::{Cli, Exit, open, print_json};
use crate::controller::{Decision, Session};
use crate::home::Home;
use crate::model::format_time;

fn decide(cli: &Cli, home: &Home, t: &ReviewTarget, decision: Decision) -> Result<Exit> {
    let mut s: Session = open(cli, home, &t.project.path)?;
    let verdict = decision.as_str();
    s.review(t.item, t.annotator.as_deref(), decision)?;
    println!("item {}: {verdict}", t.item);
    Ok(Exit::Ok)
}

pub fn review_command(cli: &Cli, home: &Home, cmd: &ReviewCommand) -> Result<Exit> {
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

pub fn comment_command(cli: &Cli, home: &Home, cmd: &CommentCommand) -> Result<Exit> {
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

pub fn gold_command(cli: &Cli, home: &Home, cmd: &GoldCommand) -> Result<Exit> {
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

pub fn quality_command(cli: &Cli, home: &Home, cmd: &QualityCommand) -> Result<Exit> {
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

pub fn pii_command(cli: &Cli, home: &Home, cmd: &PiiCommand) -> Result<Exit> {
    use crate::privacy::pii::{Detector, InputKind};
    use anyhow::Context;
    let PiiCommand::Scan {
        file,
        project,
        field,
        names,
        json,
    } = cmd;
    let listed = names
        .as_ref()
        .map(|p| {
            std::fs::read_to_string(p)
                .with_context(|| format!("reading names from {}", p.display()))
        })
        .transpose()?;
    if let Some(project) = project {
        let mut s = open(cli, home, project)?;
        let detector = match &listed {
            // --names replaces the project's list, not its pii_region.
            Some(list) => Detector::from_name_list(list).with_region(s.pii_detector()?.region()),
            None => s.pii_detector()?,
        };
        let items = s.pii_scan(&detector)?;
        if *json {
            print_json(&items)?;
        } else {
            for i in &items {
                for sp in &i.spans {
                    println!(
                        "item {} ({}): {:?} chars {}..{} bytes {}..{}: {}",
                        i.item_id,
                        i.name,
                        sp.kind,
                        sp.start,
                        sp.end,
                        sp.byte_start,
                        sp.byte_end,
                        sp.text
                    );
                }
            }
        }
        return Ok(Exit::Ok);
    }
    let Some(file) = file else {
        anyhow::bail!("say which file to scan, or --project PATH");
    };
    let detector = Detector::from_name_list(listed.as_deref().unwrap_or(""));
    let kind = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(e) if e == "jsonl" => InputKind::Jsonl,
        Some(e) if e == "csv" => InputKind::Csv,
        _ => InputKind::Txt,
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let report = detector
        .scan_records(&bytes, kind, field)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if *json {
        print_json(&report)?;
    } else {
        for r in &report.records {
            for sp in &r.spans {
                println!(
                    "line {}{}: {:?} chars {}..{} bytes {}..{}: {}",
                    r.line,
                    r.id.as_deref()
                        .map(|i| format!(" (id {i})"))
                        .unwrap_or_default(),
                    sp.kind,
                    sp.start,
                    sp.end,
                    sp.byte_start,
                    sp.byte_end,
                    sp.text
                );
            }
        }
        for e in &report.errors {
            println!("skipped: {e}");
        }
    }
    Ok(if report.errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    })
}
