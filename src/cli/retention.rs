//! Governance commands: retention purge, data-subject erasure, consent and
//! purposes, incidents, and erasing a laptop bundle. Thin wrappers over the
//! controller, printing text or the stable JSON.

use anyhow::{Result, anyhow, bail};

use super::args::{ConsentCommand, IncidentCommand, ProjectArg, RetentionCommand};
use super::{Cli, Exit, open, print_json};
use crate::controller::{GovernanceChange, Resolution, ShredReport};
use crate::home::Home;
use crate::model::format_time;

fn print_shred(what: &str, r: &ShredReport) {
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

pub fn retention_command(cli: &Cli, home: &Home, cmd: &RetentionCommand) -> Result<Exit> {
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

pub fn erase_command(
    cli: &Cli,
    home: &Home,
    project: &ProjectArg,
    subject: &str,
    json: bool,
) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let r = s.erase_subject(subject)?;
    if json {
        print_json(&r)?;
    } else {
        print_shred("erasure", &r);
    }
    Ok(Exit::Ok)
}

pub fn consent_command(cli: &Cli, home: &Home, cmd: &ConsentCommand) -> Result<Exit> {
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
                consent: consent.clone(),
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

pub fn incident_command(cli: &Cli, home: &Home, cmd: &IncidentCommand) -> Result<Exit> {
    match cmd {
        IncidentCommand::Flag {
            project,
            item,
            kind,
            reason,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let id = s.flag_item(*item, kind, reason)?;
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
            let r = Resolution::parse(resolution)
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

pub fn erase_bundle(cli: &Cli, home: &Home, project: &ProjectArg, yes: bool) -> Result<Exit> {
    if !yes {
        bail!(
            "erasing {} cannot be undone; add --yes to confirm",
            project.path.display()
        );
    }
    let s = open(cli, home, &project.path)?;
    let r = s.erase_laptop_bundle()?;
    print_shred(&format!("{} erased", project.path.display()), &r);
    Ok(Exit::Ok)
}

/// `--expires YYYY-MM-DD` (end of that day, UTC) or `--expires-days N`
/// as Unix milliseconds.
pub fn expiry(expires: Option<&str>, days: Option<u32>) -> Result<Option<i64>> {
    if let Some(d) = days {
        return Ok(Some(crate::model::now_ms() + i64::from(d) * 86_400_000));
    }
    let Some(text) = expires else {
        return Ok(None);
    };
    let bad = || anyhow!("--expires '{text}' is not a date YYYY-MM-DD");
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d) = (
        y.parse::<i32>().map_err(|_| bad())?,
        m.parse::<u8>().map_err(|_| bad())?,
        d.parse::<u8>().map_err(|_| bad())?,
    );
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    // The whole day counts: expiry at the end of it, UTC.
    let end = date
        .next_day()
        .ok_or_else(|| anyhow!("--expires '{text}' is out of range"))?
        .midnight()
        .assume_utc();
    Ok(Some((end.unix_timestamp_nanos() / 1_000_000) as i64))
}
