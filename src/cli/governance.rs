//! `access review` and `audit anomalies`: thin wrappers over the
//! controller's governance reports, printing readable text or the stable
//! JSON. Flags are findings, not failures: both exit 0 when they ran.

use anyhow::{Result, bail};
use serde_json::json;
use std::collections::BTreeMap;

use super::args::{AccessCommand, AuditCommand, Command};
use super::{Cli, Exit, open, print_json};
use crate::governance::{AccessReview, Flag, Thresholds};
use crate::home::Home;
use crate::model::format_time;

/// Rows listed per flag in text output; `--json` lists them all.
const ROWS_SHOWN: usize = 8;

pub fn governance_command(cli: &Cli, home: &Home, command: &Command) -> Result<Exit> {
    match command {
        Command::Access(AccessCommand::Review { project, json }) => {
            let mut s = open(cli, home, &project.path)?;
            let review = s.access_review()?;
            if *json {
                print_json(&review)?;
            } else {
                print_review(&review);
            }
            Ok(Exit::Ok)
        }
        Command::Audit(AuditCommand::Anomalies { project, json }) => {
            let mut s = open(cli, home, &project.path)?;
            let flags = s.audit_anomalies()?;
            let thresholds = s.anomaly_thresholds()?;
            if *json {
                print_json(&json!({
                    "count": flags.len(),
                    "thresholds": thresholds,
                    "flags": flags,
                }))?;
            } else {
                print_flags(&flags, &thresholds);
            }
            Ok(Exit::Ok)
        }
        _ => bail!("not a governance command"),
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

fn print_flags(flags: &[Flag], t: &Thresholds) {
    let off = |n: u64| {
        if n == 0 {
            "off".to_string()
        } else {
            n.to_string()
        }
    };
    println!(
        "thresholds: views per hour {}, failed unlocks in 15 min {}, working hours {}, unlabelled days {}, export items {}",
        off(u64::from(t.views_per_hour)),
        off(u64::from(t.failed_unlocks)),
        t.working_hours
            .map(|h| h.to_string())
            .unwrap_or_else(|| "off".into()),
        off(u64::from(t.unlabeled_days)),
        off(t.export_items),
    );
    for f in flags {
        let mut rows: Vec<String> = f.rows.iter().take(ROWS_SHOWN).map(i64::to_string).collect();
        if f.rows.len() > ROWS_SHOWN {
            rows.push(format!("… ({} rows)", f.rows.len()));
        }
        let chain = f
            .chain
            .as_deref()
            .map(|c| format!(" in laptop chain {c}"))
            .unwrap_or_default();
        println!(
            "{:<18} {}  {}",
            f.kind.as_str(),
            format_time(f.first_ms),
            f.summary
        );
        println!("{:<18} rows {}{chain}", "", rows.join(", "));
    }
    println!("{} flag(s)", flags.len());
}
