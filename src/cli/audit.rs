//! `sealtag audit …`: print the audit trail, verify its hash chain and
//! signed heads, and flag unusual patterns in it. Flags are findings, not
//! failures: `anomalies` exits 0 when it ran.

use anyhow::{Context, Result};
use serde_json::json;
use std::path::Path;

use super::args::AuditCommand;
use super::{Cli, Exit, open, print_json};
use crate::audit::{ANCHOR_FORMAT, Anchor};
use crate::governance::{Flag, Thresholds};
use crate::home::Home;
use crate::model::format_time;

/// Rows listed per flag in text output; `--json` lists them all.
const ROWS_SHOWN: usize = 8;

pub fn run(cli: &Cli, home: &Home, cmd: &AuditCommand) -> Result<Exit> {
    match cmd {
        AuditCommand::Log { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let rows = s.audit_log()?;
            if *json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|r| json!({"seq": r.seq, "at": format_time(r.at_ms), "at_ms": r.at_ms, "actor": r.actor, "action": r.action, "target": r.target, "details": serde_json::from_str::<serde_json::Value>(&r.details).unwrap_or(json!(r.details)), "hash": r.hash, "prev_hash": r.prev_hash}))
                    .collect();
                print_json(&rows)?;
            } else {
                for r in rows {
                    println!(
                        "{:>6}  {}  {}  {:<18} {:<28} {}",
                        r.seq,
                        format_time(r.at_ms),
                        r.actor,
                        r.action,
                        r.target,
                        r.details
                    );
                }
            }
            Ok(Exit::Ok)
        }
        AuditCommand::Verify {
            project,
            anchors,
            json,
        } => {
            let anchors = anchors
                .iter()
                .map(|path| read_anchor(path))
                .collect::<Result<Vec<_>>>()?;
            let mut s = open(cli, home, &project.path)?;
            let report = s.verify_audit_anchored(&anchors)?;
            if *json {
                print_json(&report)?;
            } else {
                if let Some(p) = &report.problem {
                    println!("BROKEN at row {}: {}", p.seq, p.what);
                } else {
                    println!(
                        "ok: {} rows, {} signed head(s), {} anchor(s), head {}",
                        report.rows, report.signed_heads, report.anchors, report.head_hash
                    );
                }
                if let Some(t) = &report.unsigned_tail {
                    println!(
                        "unsigned tail: {} row(s) from row {}, {} to {} (not yet covered by a signed head)",
                        t.rows,
                        t.first_seq,
                        format_time(t.first_at_ms),
                        format_time(t.last_at_ms)
                    );
                }
            }
            Ok(if report.ok() { Exit::Ok } else { Exit::Error })
        }
        AuditCommand::Head { project, out, json } => {
            let mut s = open(cli, home, &project.path)?;
            let anchor = s.audit_anchor()?;
            let text = serde_json::to_string_pretty(&anchor)?;
            std::fs::write(out, text + "\n").with_context(|| {
                format!(
                    "could not write the checkpoint to {}; check the folder exists and is writable",
                    out.display()
                )
            })?;
            if *json {
                print_json(&json!({"out": out, "anchor": anchor}))?;
            } else {
                println!(
                    "checkpoint: row {} ({}) signed by {}, written to {}; keep it offline and pass it to `audit verify --anchor`",
                    anchor.head.seq,
                    anchor.head.hash,
                    anchor.head.signer,
                    out.display()
                );
            }
            Ok(Exit::Ok)
        }
        AuditCommand::Anomalies { project, json } => {
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
    }
}

/// Reads a checkpoint written by `audit head --out`.
fn read_anchor(path: &Path) -> Result<Anchor> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "could not read the checkpoint {}; check the path",
            path.display()
        )
    })?;
    let anchor: Anchor = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a checkpoint written by `sealtag audit head --out`",
            path.display()
        )
    })?;
    if anchor.format != ANCHOR_FORMAT {
        anyhow::bail!(
            "{} has format {:?}, not {ANCHOR_FORMAT:?}; this build cannot check it",
            path.display(),
            anchor.format
        );
    }
    Ok(anchor)
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
