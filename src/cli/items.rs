//! The work on items outside labelling itself: `items` (what you may see),
//! `assign` (to one person or spread among several), `submit` and `skip`.

use anyhow::{Result, anyhow, bail};

use super::args::{AssignArgs, ProjectArg};
use super::{Cli, Exit, open, print_json};
use crate::home::Home;

/// `sealtag items`.
pub fn list(cli: &Cli, home: &Home, project: &ProjectArg, json: bool) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let items = s.items()?;
    if json {
        print_json(&items)?;
    } else {
        for i in items {
            println!(
                "{:>5}  {:<5}  {:<11}  {:>3} label(s)  {}",
                i.id,
                i.kind.as_str(),
                i.status,
                i.label_count,
                i.name
            );
        }
    }
    Ok(Exit::Ok)
}

/// `sealtag assign`.
pub fn assign(cli: &Cli, home: &Home, args: &AssignArgs) -> Result<Exit> {
    let AssignArgs {
        project,
        to,
        overlap,
        overlap_fraction,
        ids,
        filter,
        count,
        purpose,
    } = args;
    let mut s = open(cli, home, &project.path)?;
    let filters = filter
        .iter()
        .map(|f| {
            f.split_once('=')
                .filter(|(k, _)| matches!(*k, "status" | "kind"))
                .ok_or_else(|| anyhow!("--filter takes status=VALUE or kind=VALUE, not '{f}'"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut chosen: Vec<i64> = s
        .items()?
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| {
            filters.iter().all(|(k, v)| match *k {
                "status" => i.status.as_str() == *v,
                _ => i.kind.as_str() == *v,
            })
        })
        .map(|i| i.id)
        .collect();
    if let Some(n) = count {
        chosen.truncate(*n);
    }
    if chosen.is_empty() {
        bail!("no item matches; nothing was assigned");
    }
    if to.len() == 1 {
        let n = s.assign(&chosen, &to[0], purpose.as_str())?;
        println!(
            "assigned {n} new item(s) to {} for {purpose} (of {} chosen)",
            to[0],
            chosen.len()
        );
    } else {
        let r = s.assign_spread(&chosen, to, purpose.as_str(), *overlap, *overlap_fraction)?;
        println!(
            "assigned {} new item(s) for {purpose} among {} people; {} item(s) overlap",
            r.new,
            to.len(),
            r.overlapped.len()
        );
        for (who, n) in &r.per_person {
            println!("  {who}: {n} item(s)");
        }
    }
    Ok(Exit::Ok)
}

/// `sealtag submit`.
pub fn submit(cli: &Cli, home: &Home, project: &ProjectArg, item: i64) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    s.submit(item)?;
    println!("submitted item {item}");
    Ok(Exit::Ok)
}

/// `sealtag skip`.
pub fn skip(cli: &Cli, home: &Home, project: &ProjectArg, item: i64, reason: &str) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    s.skip(item, reason)?;
    println!("skipped item {item}");
    Ok(Exit::Ok)
}
