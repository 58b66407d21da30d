//! `sealtag pii scan`: personal data found in a TXT, JSONL or CSV file (no
//! project needed) or in a project's text items, with type and char and
//! byte offsets. Records that could not be read make the exit 3 (partial).

use anyhow::Result;

use super::args::PiiCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &PiiCommand) -> Result<Exit> {
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
