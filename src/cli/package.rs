//! `sealtag package …`: seal work packages for annotators and results
//! packages for the site, open (verify and apply) either kind, inspect one
//! without applying it, and list a project's packages.

use anyhow::{Result, anyhow, bail};
use serde_json::json;
use std::io::IsTerminal;
use std::path::Path;

use super::args::PackageCommand;
use super::{Cli, Exit, open, print_json, progress_printer, unlock};
use crate::controller::Session;
use crate::home::Home;
use crate::model::format_time;

pub fn run(cli: &Cli, home: &Home, cmd: &PackageCommand) -> Result<Exit> {
    let mut progress = progress_printer();
    match cmd {
        PackageCommand::Work {
            project,
            to,
            out,
            expires,
            expires_days,
            json,
        } => {
            let expires = expiry(expires.as_deref(), *expires_days)?;
            let mut s = open(cli, home, &project.path)?;
            let made = s.make_work_package_expiring(to, out, expires, &mut progress);
            end_progress_line();
            let made = made?;
            if *json {
                print_json(&made)?;
            } else {
                println!(
                    "work package {} (sequence {}): {} item(s), {} bytes, sealed to {}",
                    out.display(),
                    made.sequence,
                    made.items,
                    made.bytes,
                    made.recipients.join(", ")
                );
                println!(
                    "the annotator opens it with: sealtag package open {} --signer \"{}\"",
                    out.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                    s.user().fingerprint
                );
            }
            Ok(Exit::Ok)
        }
        PackageCommand::Results {
            project,
            out,
            full,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let made = s.make_results_package(out, *full, &mut progress);
            end_progress_line();
            let made = made?;
            if *json {
                print_json(&made)?;
            } else {
                println!(
                    "results package {} (sequence {}): {} item(s), sealed to {}",
                    out.display(),
                    made.sequence,
                    made.items,
                    made.recipients.join(", ")
                );
            }
            Ok(Exit::Ok)
        }
        PackageCommand::Open {
            file,
            project,
            signer,
            accept_revoked,
            trust_first_use,
            json,
        } => open_package(
            cli,
            home,
            file,
            project.as_deref(),
            crate::controller::FirstSigner::from_flags(signer.as_deref(), *trust_first_use),
            *accept_revoked,
            *json,
        ),
        PackageCommand::Inspect { file, json } => {
            let identity = unlock(cli, home)?;
            let seen = crate::controller::inspect_package(file, &identity, home)?;
            if *json {
                print_json(&seen)?;
            } else {
                print_inspection(&seen);
            }
            Ok(Exit::Ok)
        }
        PackageCommand::List { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let rows = s.packages()?;
            if *json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        json!({
                            "id": r.id, "kind": r.kind, "direction": r.direction,
                            "sender": r.sender, "recipients": r.recipients,
                            "sequence": r.sequence, "at_ms": r.at_ms,
                            "summary": serde_json::from_str::<serde_json::Value>(&r.summary).unwrap_or_default(),
                        })
                    })
                    .collect();
                print_json(&rows)?;
            } else {
                for r in rows {
                    println!(
                        "{}  {:<7} {:<3} seq {:<4} {}  {}",
                        format_time(r.at_ms),
                        r.kind,
                        r.direction,
                        r.sequence,
                        r.id,
                        r.summary
                    );
                }
            }
            Ok(Exit::Ok)
        }
    }
}

/// Ends the progress line on a terminal, before the outcome is printed.
fn end_progress_line() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

/// `package open`: a results package is merged into the site project; a
/// work package makes or extends the laptop bundle.
fn open_package(
    cli: &Cli,
    home: &Home,
    file: &Path,
    project: Option<&Path>,
    signer: crate::controller::FirstSigner<'_>,
    accept_revoked: bool,
    json: bool,
) -> Result<Exit> {
    let mut progress = progress_printer();
    let identity = unlock(cli, home)?;
    let kind = crate::controller::package_kind(file, &identity);
    // A package that does not even open is refused where it was
    // meant to go: in the site project if one was named (so the
    // refusal is audited there), else on the laptop side. The site
    // session is opened once and used for the merge.
    let is_results = kind == Some(crate::package::PackageKind::Results);
    let site = match project {
        Some(p)
            if is_results
                || (kind.is_none() && crate::bundle::BundlePaths::new(p).header().exists()) =>
        {
            let s = Session::open(p, identity.clone(), Some(home))?;
            (is_results || s.origin_project().is_none()).then_some(s)
        }
        _ => None,
    };
    if is_results || site.is_some() {
        let Some(mut s) = site else {
            bail!(
                "this is a results package: say which site project to merge it into with --project PATH"
            );
        };
        let report = if accept_revoked {
            s.open_results_package_accept_revoked(file, &mut progress)
        } else {
            s.open_results_package(file, &mut progress)
        };
        end_progress_line();
        let report = report?;
        if json {
            print_json(&report)?;
        } else {
            println!(
                "merged results {} from {} (sequence {}): {} item(s), {} new label(s), {} revision(s), {} audit row(s)",
                report.package_id,
                report.sender,
                report.sequence,
                report.items_merged.len(),
                report.labels_created,
                report.revisions_added,
                report.audit_rows_added
            );
            for (item, why) in &report.conflicts {
                println!("conflict: item {item} not merged: {why}");
            }
        }
        return Ok(if report.conflicts.is_empty() {
            Exit::Ok
        } else {
            Exit::Partial
        });
    }
    if accept_revoked {
        bail!(
            "--accept-revoked is for results packages opened at the site (--project SITE); this is a work package"
        );
    }
    let opened =
        crate::controller::open_work_package(file, &identity, home, project, signer, &mut progress);
    end_progress_line();
    let opened = opened?;
    if json {
        print_json(&opened)?;
    } else {
        println!(
            "{} {} with {} new item(s) from {} ({})",
            if opened.created {
                "created"
            } else {
                "extended"
            },
            opened.bundle.display(),
            opened.items_added.len(),
            opened.sender_name,
            opened.sender
        );
        if signer == crate::controller::FirstSigner::TrustFirstUse && opened.created {
            println!(
                "check with the site that {} is their admin's fingerprint",
                opened.sender
            );
        }
    }
    Ok(Exit::Ok)
}

/// `package inspect` for people: the manifest, then what the documents say.
fn print_inspection(seen: &crate::controller::Inspection) {
    let m = &seen.manifest;
    println!(
        "{:?} package {} of project {} (format {})",
        m.kind, m.package_id, m.project_id, m.format_version
    );
    println!(
        "signed by {}{} on {}, sequence {}; signature checked",
        m.sender,
        seen.signer_name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        format_time(m.created_ms),
        m.sequence
    );
    println!("sealed to: {}", m.recipients.join(", "));
    println!("{} member(s), every SHA-256 checked:", m.members.len());
    for e in &m.members {
        println!("  {:<28} {:>12} B  sha256 {}", e.name, e.size, e.sha256);
    }
    if let Some(w) = &seen.work {
        println!(
            "work for {} ({}, {}) in \"{}\"; results go to {}",
            w.recipient.name,
            w.recipient.fingerprint,
            w.recipient.role,
            w.project_name,
            w.site
                .iter()
                .map(|p| format!("{} ({})", p.name, p.fingerprint))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(at) = w.expires_at_ms {
            println!("expires {}", format_time(at));
        }
        println!(
            "{} class(es): {}; guidelines {} chars; {} pre-label(s); {} comment(s)",
            w.classes.len(),
            w.classes.join(", "),
            w.guidelines_chars,
            w.prelabels,
            w.comments
        );
        println!("{} item(s):", w.items.len());
        for i in &w.items {
            let it = &i.item;
            let extent = match (it.width, it.height, it.duration_secs, it.char_len) {
                (Some(w), Some(h), _, _) => format!(" {w}×{h} px"),
                (_, _, Some(s), _) => format!(" {s:.2} s"),
                (_, _, _, Some(c)) => format!(" {c} chars"),
                _ => String::new(),
            };
            println!(
                "  item {} {} \"{}\" {}{}; {} ({}), privacy version {}",
                it.id,
                it.kind.as_str(),
                it.name,
                it.format,
                extent,
                it.purpose,
                it.state,
                it.privacy_version
            );
            if i.fields.is_empty() {
                println!("    fields: none");
            } else {
                let fields: Vec<String> =
                    i.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("    fields: {}", fields.join(", "));
            }
            println!(
                "    media: {} {} B sha256 {}",
                it.media,
                i.media_bytes.unwrap_or(0),
                i.media_sha256.as_deref().unwrap_or("(missing)")
            );
            println!("    privacy: {}", it.privacy.describe().join("; "));
            if i.prelabels > 0 {
                println!("    pre-labels: {}", i.prelabels);
            }
        }
        let settings: Vec<String> = w.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("settings: {}", settings.join(", "));
    }
    if let Some(r) = &seen.results {
        println!(
            "results from laptop bundle {} ({}): {} item(s), {} comment(s), {} incident(s), {} audit row(s)",
            r.laptop_project_id,
            if r.full {
                "full"
            } else {
                "changes since the last"
            },
            r.items.len(),
            r.comments,
            r.incidents,
            r.audit_rows
        );
        for (id, state, labels) in &r.items {
            println!("  item {id}: {state}, {labels} label(s)");
        }
    }
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
