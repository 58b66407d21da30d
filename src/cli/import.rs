//! `sealtag import`: media files and folders into items (one line per file
//! as it is done), or with `--prelabels` a label file or dataset folder
//! into predictions (`--create-classes` adopting its classes first).
//! Some files rejected is exit 3 (partial), the rest imported.

use anyhow::{Context, Result, anyhow};

use super::args::ImportArgs;
use super::{Cli, Exit, open, print_json};
use crate::controller::{FileReport, ImportProgress, Session};
use crate::formats;
use crate::home::Home;
use crate::import::ImportOptions;
use std::io::IsTerminal;

/// Media first, then the pre-labels that refer to them: `import DIR
/// --prelabels FILE` is one command for a dataset folder with its labels.
/// With `--json` the report is printed as one document: the media report,
/// the pre-label report, or `{"media": …, "prelabels": …}` for both.
pub fn run(cli: &Cli, home: &Home, args: &ImportArgs) -> Result<Exit> {
    let mut s = open(cli, home, &args.project.path)?;
    let mut exit = Exit::Ok;
    let mut reports = serde_json::Map::new();
    if !args.paths.is_empty() {
        let (e, report) = media(&mut s, args)?;
        exit = e;
        reports.insert("media".into(), report);
    }
    if let Some(file) = &args.prelabels {
        let (e, report) = prelabels(&mut s, args, file)?;
        if exit == Exit::Ok {
            exit = e;
        }
        reports.insert("prelabels".into(), report);
    }
    if args.json {
        match (reports.len(), reports.values().next()) {
            (1, Some(only)) => print_json(only)?,
            _ => print_json(&reports)?,
        }
    }
    Ok(exit)
}

fn prelabels(
    s: &mut Session,
    args: &ImportArgs,
    path: &std::path::Path,
) -> Result<(Exit, serde_json::Value)> {
    let ImportArgs {
        format,
        source,
        create_classes,
        ls_config,
        json,
        ..
    } = args;
    let names: Vec<&str> = formats::importers()
        .iter()
        .map(|i| i.name())
        .collect::<Vec<_>>();
    let format = format
        .clone()
        .ok_or_else(|| anyhow!("say the pre-label format with --format {}", names.join("|")))?;
    // A folder is a dataset (YOLO, VOC); its label files are read with
    // limits, links never followed.
    let input =
        formats::input::read_input(path).with_context(|| format!("reading {}", path.display()))?;
    let declared = match ls_config {
        Some(config) => {
            let bytes = formats::input::read_file(config, 16 * 1024 * 1024)
                .with_context(|| format!("reading {}", config.display()))?;
            formats::labelstudio::config_classes(&bytes)
                .with_context(|| format!("in {}", config.display()))?
        }
        None => Vec::new(),
    };
    let done = s.import_prelabels_declaring(&input, &format, source, *create_classes, &declared)?;
    let report = &done.report;
    if *json {
    } else {
        if let Some(v) = done.adopted.schema_version {
            println!(
                "schema version {v}: {} class(es) added{}{}",
                done.adopted.added.len(),
                if done.adopted.added.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", done.adopted.added.join(", "))
                },
                if done.adopted.extended.is_empty() {
                    String::new()
                } else {
                    format!("; {}", done.adopted.extended.join("; "))
                }
            );
        }
        for c in &done.adopted.conflicts {
            println!("conflict  {c}");
        }
        println!(
            "{} pre-label(s) on {} item(s) from {} ({source}); {} already imported from it, skipped",
            report.created,
            report.items.len(),
            path.display(),
            report.already_imported
        );
        for w in &report.warnings {
            println!("warning   {}: {w}", path.display());
        }
        for n in &done.notes {
            println!(
                "note      {}: record {}: {}",
                path.display(),
                n.record,
                n.message
            );
        }
        for e in &report.errors {
            println!(
                "rejected  {}: record {}: {}",
                path.display(),
                e.record,
                e.message
            );
        }
    }
    let exit = if report.errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    };
    Ok((exit, serde_json::to_value(&done)?))
}

fn media(s: &mut Session, args: &ImportArgs) -> Result<(Exit, serde_json::Value)> {
    let ImportArgs {
        text_field,
        subject_field,
        consent_field,
        purposes_field,
        keep_duplicates,
        json,
        paths,
        ..
    } = args;
    let options = ImportOptions {
        text_field: text_field.clone(),
        subject_field: subject_field.clone(),
        consent_field: consent_field.clone(),
        purposes_field: purposes_field.clone(),
        skip_duplicates: !*keep_duplicates,
        ..ImportOptions::default()
    };
    let quiet = *json;
    let mut meter = Meter::new(!quiet && std::io::stderr().is_terminal());
    let never = std::sync::atomic::AtomicBool::new(false);
    let report = s.import(paths, &options, &never, &mut |file, at| {
        if !quiet {
            meter.clear();
            print_file(file);
        }
        meter.show(at);
    })?;
    meter.clear();
    if *json {
    } else {
        println!(
            "{} item(s) imported from {} file(s) in {:.1} s",
            report.imported_items(),
            report.files.len(),
            meter.started.elapsed().as_secs_f64()
        );
    }
    let exit = if report.complete() {
        Exit::Ok
    } else {
        Exit::Partial
    };
    Ok((exit, serde_json::to_value(&report)?))
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per file, as it is committed.
fn print_file(file: &FileReport) {
    let path = file.path.display();
    // Offsets into the items count the UTF-8 text: say so.
    let mut notes = file
        .converted_from
        .map(|from| format!(" (converted from {from} to UTF-8)"))
        .unwrap_or_default();
    // The stored image is shorter than the file: say by how much.
    if let Some(n) = file.trailer_dropped {
        notes.push_str(&format!(
            " ({n} byte(s) after the end of the image dropped, e.g. a motion photo's video)"
        ));
    }
    if !file.duplicate_of.is_empty() && file.outcome != "duplicate" {
        notes.push_str(&format!(
            " (same content as item {})",
            join_ids(&file.duplicate_of)
        ));
    }
    match file.outcome {
        "imported" => println!("imported  {path}: {} item(s){notes}", file.item_ids.len()),
        "partial" => {
            println!(
                "partial   {path}: {} item(s), {} record(s) rejected{notes}",
                file.item_ids.len(),
                file.errors.len()
            );
            for e in &file.errors {
                println!("          {path}: {e}");
            }
        }
        "duplicate" => println!(
            "duplicate {path}: already in the project as item {}; skipped (--keep-duplicates imports it again)",
            join_ids(&file.duplicate_of)
        ),
        _ => println!("rejected  {path}: {}", file.errors.join("; ")),
    }
}

/// A progress line on stderr (files done of all, time, time left), redrawn
/// at most five times a second, and only when stderr is a terminal: piped
/// or `--json` output stays clean.
pub(super) struct Meter {
    on: bool,
    shown: bool,
    last: std::time::Instant,
    pub(super) started: std::time::Instant,
}

impl Meter {
    pub(super) fn new(on: bool) -> Meter {
        let now = std::time::Instant::now();
        Meter {
            on,
            shown: false,
            last: now,
            started: now,
        }
    }

    pub(super) fn show(&mut self, at: &ImportProgress) {
        if !self.on || (self.last.elapsed().as_millis() < 200 && at.done < at.total) {
            return;
        }
        self.last = std::time::Instant::now();
        let left = at
            .remaining()
            .map(|d| format!(", about {:.0} s left", d.as_secs_f64()))
            .unwrap_or_default();
        eprint!(
            "\r\x1b[K{}/{} files, {:.1} s{left}",
            at.done,
            at.total,
            at.elapsed.as_secs_f64()
        );
        self.shown = true;
    }

    /// Removes the progress line before other output (and at the end).
    pub(super) fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
            self.shown = false;
        }
    }
}
