//! `sealtag retention purge`: crypto-shred the items past the project's
//! retention period (or, with `--dry-run`, list them). Also how every
//! crypto-shredding command reports what went.

use anyhow::Result;

use super::args::RetentionCommand;
use super::{Cli, Exit, open, print_json};
use crate::controller::ShredReport;
use crate::home::Home;

/// One line saying what crypto-shredding removed (`retention purge`,
/// `erase`, `incident resolve --as remove`, `project erase`).
pub(super) fn print_shred(what: &str, r: &ShredReport) {
    println!(
        "{what}: {} item(s) crypto-shredded ({} label(s), {} revision(s), {} comment(s), {} blob(s)){}",
        r.items.len(),
        r.labels,
        r.revisions,
        r.comments,
        r.blobs,
        if r.items.is_empty() {
            String::new()
        } else {
            format!(": items {:?}", r.items)
        }
    );
}

pub fn run(cli: &Cli, home: &Home, cmd: &RetentionCommand) -> Result<Exit> {
    let RetentionCommand::Purge {
        project,
        dry_run,
        json,
    } = cmd;
    let mut s = open(cli, home, &project.path)?;
    if *dry_run {
        let ids = s.expired_items()?;
        if *json {
            print_json(&serde_json::json!({"would_purge": ids}))?;
        } else {
            println!(
                "{} item(s) are past the retention period: {ids:?}",
                ids.len()
            );
        }
        return Ok(Exit::Ok);
    }
    let r = s.retention_purge()?;
    if *json {
        print_json(&r)?;
    } else {
        print_shred("retention purge", &r);
    }
    Ok(Exit::Ok)
}
