//! The headless front end: parses arguments (see [`args`]), unlocks the
//! identity, and calls the same controller as the GUI. Output is either
//! human text or stable JSON (`--json`); exit codes are documented in README.

pub mod args;
pub mod generate;
mod governance;
mod mask;
mod retention;
mod review;

use age::secrecy::SecretString;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::controller::Session;
use crate::crypto::UnlockedIdentity;
use crate::crypto::identity::DEFAULT_SCRYPT_LOG_N;
use crate::home::Home;
use crate::import::ImportOptions;
use crate::model::{
    AnnotationDraft, AttributeKind, BBox, Geometry, LabelChange, Role, Schema, format_time,
};
pub use args::Cli;
use args::{
    AuditCommand, Command, IdentityCommand, LabelCommand, PackageCommand, ProjectCommand,
    SchemaCommand, SelftestCommand, UserCommand,
};

/// Process exit codes (README: "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Usage = 2,
    /// Some inputs were rejected; the rest was done.
    Partial = 3,
}

/// Where the passphrase comes from, in order: `--passphrase-file`,
/// `SEALTAG_PASSPHRASE`, a no-echo prompt on a terminal.
pub fn read_passphrase(cli: &Cli, prompt: &str, confirm: bool) -> Result<SecretString> {
    if let Some(file) = &cli.passphrase_file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading passphrase file {}", file.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(SecretString::from(line.to_string()));
    }
    if let Ok(p) = std::env::var("SEALTAG_PASSPHRASE") {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no passphrase: no terminal to prompt on; set SEALTAG_PASSPHRASE or pass --passphrase-file FILE"
        );
    }
    let first = zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?);
    if confirm {
        let second = zeroize::Zeroizing::new(rpassword::prompt_password("Repeat passphrase: ")?);
        if *first != *second {
            bail!("the two passphrases differ; nothing was created");
        }
    }
    Ok(SecretString::from(first.to_string()))
}

fn unlock(cli: &Cli, home: &Home) -> Result<UnlockedIdentity> {
    if !home.has_identity() {
        bail!(
            "no identity in {}; create one with `sealtag identity new --name NAME`",
            home.dir.display()
        );
    }
    let pass = read_passphrase(cli, "Passphrase: ", false)?;
    Ok(home.unlock(&pass)?)
}

pub(crate) fn open(cli: &Cli, home: &Home, path: &Path) -> Result<Session> {
    let identity = unlock(cli, home)?;
    let session = Session::open(path, identity, Some(home))?;
    home.remember_project(path);
    Ok(session)
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Runs one headless command. GUI commands are handled by `main`.
pub fn run(cli: &Cli, command: &Command) -> Result<Exit> {
    // Packaging helpers need no identity directory.
    if let Command::Generate(what) = command {
        return generate::run(what);
    }
    let home = Home::locate(cli.home.clone())?;
    match command {
        Command::Open { .. } => bail!("`sealtag open` needs the GUI; this build has none"),
        Command::Demo { .. } => {
            let paths = crate::demo::ensure_demo(&home)?;
            println!("demo project: {}", paths.project.display());
            println!(
                "annotator home: {} (passphrase: {})",
                paths.annotator_home.dir.display(),
                crate::demo::DEMO_PASSPHRASE
            );
            println!(
                "admin home: {} (passphrase: {})",
                paths.admin_home.dir.display(),
                crate::demo::DEMO_ADMIN_PASSPHRASE
            );
            Ok(Exit::Ok)
        }
        Command::Identity(IdentityCommand::New { name }) => {
            if home.has_identity() {
                bail!(
                    "an identity already exists in {}; refusing to overwrite it",
                    home.dir.display()
                );
            }
            let pass = read_passphrase(cli, "New passphrase: ", true)?;
            let identity = home.create_identity(name, &pass, DEFAULT_SCRYPT_LOG_N)?;
            let public = identity.public();
            println!("created identity '{name}' in {}", home.dir.display());
            println!("public key:  {}", public.to_key_string());
            println!("fingerprint: {}", public.fingerprint());
            Ok(Exit::Ok)
        }
        Command::Identity(IdentityCommand::Show { json }) => {
            let (name, public) = home.public_identity()?;
            if *json {
                print_json(
                    &json!({"name": name, "public_key": public.to_key_string(), "fingerprint": public.fingerprint()}),
                )?;
            } else {
                println!("name:        {name}");
                println!("public key:  {}", public.to_key_string());
                println!("fingerprint: {}", public.fingerprint());
            }
            Ok(Exit::Ok)
        }
        Command::Project(ProjectCommand::Create { path, name }) => {
            let identity = unlock(cli, &home)?;
            let session = Session::create_project(path, name, identity)?;
            home.remember_project(path);
            println!(
                "created project '{name}' ({}) at {}",
                session.project_id(),
                path.display()
            );
            session.close()?;
            Ok(Exit::Ok)
        }
        Command::Project(ProjectCommand::Info { project, json }) => {
            let mut s = open(cli, &home, &project.path)?;
            let items = s.items().map(|i| i.len()).ok();
            let info = json!({
                "name": s.project_name(),
                "project_id": s.project_id(),
                "you": {"name": s.user().name, "fingerprint": s.user().fingerprint, "role": s.role()},
                "items_visible": items,
            });
            if *json {
                print_json(&info)?;
            } else {
                println!("project:  {} ({})", s.project_name(), s.project_id());
                println!(
                    "you:      {} {} ({})",
                    s.user().name,
                    s.user().fingerprint,
                    s.role()
                );
                if let Some(n) = items {
                    println!("items:    {n}");
                }
            }
            Ok(Exit::Ok)
        }
        Command::Project(ProjectCommand::Check { project }) => {
            let s = open(cli, &home, &project.path)?;
            s.integrity_check()?;
            println!("ok: integrity_check and cipher_integrity_check passed");
            Ok(Exit::Ok)
        }
        Command::User(UserCommand::Add {
            project,
            key,
            role,
            name,
        }) => {
            let role: Role = role.parse().map_err(|e: String| anyhow!(e))?;
            let mut s = open(cli, &home, &project.path)?;
            let user = s.add_user(key, role, name)?;
            println!(
                "added {} ({}) as {}",
                user.name, user.fingerprint, user.role
            );
            Ok(Exit::Ok)
        }
        Command::User(UserCommand::List { project, json }) => {
            let mut s = open(cli, &home, &project.path)?;
            let users = s.list_users()?;
            if *json {
                print_json(&users)?;
            } else {
                for u in users {
                    println!(
                        "{}  {:<9}  {}{}",
                        u.fingerprint,
                        u.role,
                        u.name,
                        if u.active { "" } else { "  (removed)" }
                    );
                }
            }
            Ok(Exit::Ok)
        }
        Command::User(UserCommand::Remove { project, who }) => {
            let mut s = open(cli, &home, &project.path)?;
            let user = s.remove_user(who)?;
            println!(
                "removed {} ({}); the bundle was re-keyed",
                user.name, user.fingerprint
            );
            Ok(Exit::Ok)
        }
        Command::Import {
            project,
            prelabels: Some(file),
            format,
            source,
            json,
            ..
        } => {
            let mut s = open(cli, &home, &project.path)?;
            let format = format.clone().ok_or_else(|| {
                anyhow!("say the pre-label format with --format coco|labelstudio|jsonl")
            })?;
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let report = s.import_prelabels(&bytes, &format, source)?;
            if *json {
                print_json(&report)?;
            } else {
                println!(
                    "{} pre-label(s) on {} item(s) from {} ({source})",
                    report.created,
                    report.items.len(),
                    file.display()
                );
                for e in &report.errors {
                    println!(
                        "rejected  {}: record {}: {}",
                        file.display(),
                        e.record,
                        e.message
                    );
                }
            }
            Ok(if report.errors.is_empty() {
                Exit::Ok
            } else {
                Exit::Partial
            })
        }
        Command::Export {
            project,
            format,
            out,
            status,
            media,
            to,
            unsigned,
            watermark,
            purpose,
            json,
        } => {
            if !matches!(status.as_str(), "approved" | "all") {
                bail!("--status is approved or all, not '{status}'");
            }
            let mut s = open(cli, &home, &project.path)?;
            let options = crate::controller::ExportOptions {
                format: format.clone(),
                all_statuses: status == "all",
                media: *media,
                to: to.clone(),
                unsigned: *unsigned,
                watermark: *watermark,
                purpose: purpose.clone(),
            };
            let mut progress = progress_printer();
            let report = s.export(&options, out, &mut progress);
            if std::io::stderr().is_terminal() {
                eprintln!();
            }
            let report = report?;
            if *json {
                print_json(&report)?;
            } else {
                println!(
                    "exported {} item(s), {} label(s) as {} to {} ({}, {} file(s), {} bytes)",
                    report.items,
                    report.labels,
                    report.format,
                    report.out.display(),
                    report.delivery,
                    report.files,
                    report.bytes
                );
                for (why, n) in &report.skipped {
                    println!("left out: {n} label(s): {why}");
                }
                if !report.held.is_empty() {
                    println!("held by the quality gate: items {:?}", report.held);
                }
                if let Some(purpose) = &options.purpose {
                    println!(
                        "left out: {} item(s) whose consent does not cover '{purpose}'",
                        report.not_consented
                    );
                }
            }
            Ok(Exit::Ok)
        }
        Command::Import {
            project,
            text_field,
            subject_field,
            consent_field,
            purposes_field,
            keep_duplicates,
            json,
            paths,
            ..
        } => {
            let mut s = open(cli, &home, &project.path)?;
            let options = ImportOptions {
                text_field: text_field.clone(),
                subject_field: subject_field.clone(),
                consent_field: consent_field.clone(),
                purposes_field: purposes_field.clone(),
                skip_duplicates: !*keep_duplicates,
                ..ImportOptions::default()
            };
            let quiet = *json;
            let report = s.import(paths, &options, &mut |file| {
                if quiet {
                    return;
                }
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
                    "imported" => println!(
                        "imported  {path}: {} item(s){notes}",
                        file.item_ids.len()
                    ),
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
            })?;
            if *json {
                print_json(&report)?;
            } else {
                println!(
                    "{} item(s) imported from {} file(s)",
                    report.imported_items(),
                    report.files.len()
                );
            }
            Ok(if report.complete() {
                Exit::Ok
            } else {
                Exit::Partial
            })
        }
        Command::Items { project, json } => {
            let mut s = open(cli, &home, &project.path)?;
            let items = s.items()?;
            if *json {
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
        Command::Assign {
            project,
            to,
            overlap,
            overlap_fraction,
            ids,
            filter,
            count,
            purpose,
        } => {
            let mut s = open(cli, &home, &project.path)?;
            let filters = filter
                .iter()
                .map(|f| {
                    f.split_once('=')
                        .filter(|(k, _)| matches!(*k, "status" | "kind"))
                        .ok_or_else(|| {
                            anyhow!("--filter takes status=VALUE or kind=VALUE, not '{f}'")
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            let mut chosen: Vec<i64> = s
                .items()?
                .iter()
                .filter(|i| ids.is_empty() || ids.contains(&i.id))
                .filter(|i| {
                    filters.iter().all(|(k, v)| match *k {
                        "status" => i.status == *v,
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
                let n = s.assign(&chosen, &to[0], purpose)?;
                println!(
                    "assigned {n} new item(s) to {} for {purpose} (of {} chosen)",
                    to[0],
                    chosen.len()
                );
            } else {
                let r = s.assign_spread(&chosen, to, purpose, *overlap, *overlap_fraction)?;
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
        Command::Package(cmd) => package_command(cli, &home, cmd),
        Command::Review(cmd) => review::review_command(cli, &home, cmd),
        Command::Comment(cmd) => review::comment_command(cli, &home, cmd),
        Command::Gold(cmd) => review::gold_command(cli, &home, cmd),
        Command::Quality(cmd) => review::quality_command(cli, &home, cmd),
        Command::Pii(cmd) => review::pii_command(cli, &home, cmd),
        Command::Mask(cmd) => mask::mask_command(cli, &home, cmd),
        Command::Retention(cmd) => retention::retention_command(cli, &home, cmd),
        Command::Erase {
            project,
            subject,
            json,
        } => retention::erase_command(cli, &home, project, subject, *json),
        Command::Consent(cmd) => retention::consent_command(cli, &home, cmd),
        Command::Incident(cmd) => retention::incident_command(cli, &home, cmd),
        Command::Project(ProjectCommand::Erase { project, yes }) => {
            retention::erase_bundle(cli, &home, project, *yes)
        }
        Command::Access(_) | Command::Audit(AuditCommand::Anomalies { .. }) => {
            governance::governance_command(cli, &home, command)
        }
        Command::Label(LabelCommand::Add {
            project,
            item,
            class,
            bbox,
            polygon,
            polyline,
            point,
            tag,
            segment,
            transcript,
            span,
            relation,
            attributes,
            repeat,
        }) => {
            let mut s = open(cli, &home, &project.path)?;
            let class = s
                .classes()?
                .into_iter()
                .find(|c| c.name == *class)
                .ok_or_else(|| anyhow!("no class named '{class}' in this project"))?;
            let geometry = geometry_from_args(&ShapeArgs {
                bbox,
                polygon,
                polyline,
                point,
                tag: *tag,
                segment,
                transcript: transcript.as_deref(),
                span,
                relation,
            })?;
            let mut draft = AnnotationDraft::new(class.id, geometry);
            for pair in attributes {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--attr takes NAME=VALUE, got '{pair}'"))?;
                let def = class
                    .attributes
                    .iter()
                    .find(|d| d.name == name)
                    .ok_or_else(|| anyhow!("class '{}' has no attribute '{name}'", class.name))?;
                let value = match def.kind {
                    AttributeKind::Bool => serde_json::Value::Bool(
                        value
                            .parse()
                            .map_err(|_| anyhow!("attribute '{name}' takes true or false"))?,
                    ),
                    _ => serde_json::Value::String(value.to_string()),
                };
                draft.attributes.insert(name.to_string(), value);
            }
            let mut out = std::io::stdout().lock();
            for _ in 0..*repeat {
                let applied = s.apply_label(LabelChange::Create {
                    item_id: *item,
                    draft: draft.clone(),
                })?;
                // Printed only after the commit: a line on stdout means durable.
                writeln!(out, "saved annotation {}", applied.annotation_id)?;
                out.flush()?;
            }
            Ok(Exit::Ok)
        }
        Command::Label(LabelCommand::Undo { project, item }) => {
            let mut s = open(cli, &home, &project.path)?;
            let applied = s.apply_label(LabelChange::Undo { item_id: *item })?;
            println!(
                "undid a change to annotation {} on item {}",
                applied.annotation_id, applied.item_id
            );
            Ok(Exit::Ok)
        }
        Command::Schema(SchemaCommand::Show { project, json }) => {
            let s = open(cli, &home, &project.path)?;
            let schema = s.schema()?;
            if *json {
                print_json(&schema)?;
            } else {
                println!(
                    "schema version {} ({} tags per image)",
                    schema.version,
                    if schema.multi_label_tags {
                        "several"
                    } else {
                        "one"
                    }
                );
                for c in &schema.classes {
                    let tools: Vec<&str> = c.tools.iter().map(|t| t.as_str()).collect();
                    let attrs: Vec<String> = c
                        .attributes
                        .iter()
                        .map(|a| format!("{}{}", a.name, if a.required { "*" } else { "" }))
                        .collect();
                    println!(
                        "{:>4}  {:<16} {}  key {}  tools {}  attributes {}",
                        c.id,
                        c.name,
                        c.colour,
                        c.hotkey
                            .map(|k| k.to_string())
                            .unwrap_or_else(|| "-".into()),
                        tools.join(","),
                        if attrs.is_empty() {
                            "-".into()
                        } else {
                            attrs.join(",")
                        }
                    );
                }
            }
            Ok(Exit::Ok)
        }
        Command::Schema(SchemaCommand::Rules {
            project,
            overlapping_spans,
            overlapping_segments,
        }) => {
            let mut s = open(cli, &home, &project.path)?;
            s.set_overlap_rules(*overlapping_spans, *overlapping_segments)?;
            println!(
                "overlapping spans: {overlapping_spans}; overlapping segments: {overlapping_segments}"
            );
            Ok(Exit::Ok)
        }
        Command::Schema(SchemaCommand::Set {
            project,
            file,
            confirm,
        }) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let schema: Schema = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a schema in the `schema show --json` format",
                    file.display()
                )
            })?;
            let mut s = open(cli, &home, &project.path)?;
            let change = s.update_schema(schema.classes, schema.multi_label_tags, *confirm)?;
            println!(
                "schema is now version {} ({} label(s) removed)",
                change.version, change.removed_labels
            );
            Ok(Exit::Ok)
        }
        Command::Submit { project, item } => {
            let mut s = open(cli, &home, &project.path)?;
            s.submit(*item)?;
            println!("submitted item {item}");
            Ok(Exit::Ok)
        }
        Command::Skip {
            project,
            item,
            reason,
        } => {
            let mut s = open(cli, &home, &project.path)?;
            s.skip(*item, reason)?;
            println!("skipped item {item}");
            Ok(Exit::Ok)
        }
        Command::Settings {
            project,
            key,
            value,
        } => {
            let mut s = open(cli, &home, &project.path)?;
            let value = match value.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file)
                    .with_context(|| format!("reading the value of {key} from {file}"))?,
                None => value.clone(),
            };
            s.set_project_setting(key, &value)?;
            if value.contains('\n') || value.len() > 80 {
                println!("{key} set ({} characters)", value.chars().count());
            } else {
                println!("{key} = {value}");
            }
            Ok(Exit::Ok)
        }
        Command::Label(LabelCommand::List {
            project,
            item,
            json,
        }) => {
            let mut s = open(cli, &home, &project.path)?;
            let labels = s.annotations(*item)?;
            if *json {
                print_json(&labels)?;
            } else {
                let classes = s.classes()?;
                for a in labels {
                    let class = classes
                        .iter()
                        .find(|c| c.id == a.class_id)
                        .map(|c| c.name.as_str())
                        .unwrap_or("?");
                    let shape = match &a.geometry {
                        Geometry::BBox(b) => {
                            format!("bbox {:.1},{:.1} {:.1}x{:.1}", b.x, b.y, b.w, b.h)
                        }
                        Geometry::Tag => "tag".to_string(),
                        Geometry::Segment {
                            start_secs,
                            end_secs,
                            transcript,
                        } => {
                            format!("segment {start_secs:.3}–{end_secs:.3} s \"{transcript}\"")
                        }
                        Geometry::Span { start, end, .. } => format!("span chars {start}–{end}"),
                        Geometry::Relation { from, to } => format!("relation #{from} → #{to}"),
                        g => format!("{} ({} points)", g.tool().as_str(), g.points().len()),
                    };
                    println!("{:>5}  {class:<14} {shape}  rev {}", a.id, a.revision);
                }
            }
            Ok(Exit::Ok)
        }
        Command::Audit(AuditCommand::Log { project, json }) => {
            let mut s = open(cli, &home, &project.path)?;
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
        Command::Audit(AuditCommand::Verify { project, json }) => {
            let mut s = open(cli, &home, &project.path)?;
            let report = s.verify_audit()?;
            if *json {
                print_json(&report)?;
            } else if let Some(p) = &report.problem {
                println!("BROKEN at row {}: {}", p.seq, p.what);
            } else {
                println!(
                    "ok: {} rows, {} signed head(s), head {}",
                    report.rows, report.signed_heads, report.head_hash
                );
            }
            Ok(if report.ok() { Exit::Ok } else { Exit::Error })
        }
        Command::Bench {
            labels,
            blob_mib,
            package_mib,
            export_annotations,
            items,
            audit_rows,
            quick,
            core_only,
            audio_file,
            json,
        } => {
            let scratch = home.dir.join(format!(
                "bench-{}",
                hex::encode(crate::crypto::random_bytes::<6>())
            ));
            let (export_annotations, scale) = if *quick {
                (
                    (*export_annotations).min(10_000),
                    ((*items).min(1000), (*audit_rows).min(10_000)),
                )
            } else {
                (*export_annotations, (*items, *audit_rows))
            };
            let r = crate::bench::run(
                &scratch,
                *labels,
                *blob_mib,
                *package_mib,
                export_annotations,
                scale,
            )?;
            #[cfg_attr(not(feature = "gui"), allow(unused_mut))]
            let mut figures = serde_json::to_value(&r)?;
            #[cfg_attr(not(feature = "gui"), allow(unused_mut))]
            let mut rows = vec![
                (
                    "identity unlock (scrypt 2^16)".to_string(),
                    format!("{:.1} ms", r.identity_unlock_ms),
                ),
                (
                    "project open (slot, DB key, HMAC check)".to_string(),
                    format!("{:.1} ms", r.project_open_ms),
                ),
                (
                    "label commit (own transaction)".to_string(),
                    format!("{:.1} µs ({} labels)", r.label_commit_us, r.labels_written),
                ),
                (
                    "blob encrypt (XChaCha20-Poly1305 STREAM)".to_string(),
                    format!("{:.0} MB/s", r.blob_encrypt_mb_s),
                ),
                (
                    "blob decrypt".to_string(),
                    format!("{:.0} MB/s", r.blob_decrypt_mb_s),
                ),
                (
                    "audit verify".to_string(),
                    format!("{:.1} ms ({} rows)", r.audit_verify_ms, r.audit_rows),
                ),
            ];
            if let Some(e) = &r.export {
                rows.push((
                    format!("COCO export, {} annotations", e.export_annotations),
                    format!(
                        "{:.2} s ({:.0} MiB, peak RSS growth {:.1} MiB)",
                        e.export_coco_secs, e.export_coco_mib, e.export_peak_growth_mib
                    ),
                ));
            }
            if let Some(p) = &r.package {
                rows.extend([
                    (
                        format!(
                            "work package make, {:.0} MiB in {} items",
                            p.package_media_mib, p.package_items
                        ),
                        format!(
                            "{:.0} MiB/s ({:.0} MiB file)",
                            p.package_make_mib_s, p.package_file_mib
                        ),
                    ),
                    (
                        "work package open (new laptop bundle)".to_string(),
                        format!("{:.0} MiB/s", p.package_open_mib_s),
                    ),
                    (
                        "blob encrypt / decrypt, same media".to_string(),
                        format!(
                            "{:.0} / {:.0} MiB/s",
                            p.package_blob_encrypt_mib_s, p.package_blob_decrypt_mib_s
                        ),
                    ),
                    (
                        format!(
                            "peak RSS growth, make / open{}",
                            if p.package_peak_was_reset {
                                ""
                            } else {
                                " (no reset)"
                            }
                        ),
                        format!(
                            "{:.1} / {:.1} MiB",
                            p.package_make_peak_growth_mib, p.package_open_peak_growth_mib
                        ),
                    ),
                ]);
            }
            #[cfg(feature = "gui")]
            if !*core_only {
                let g = crate::gui::bench::run()?;
                if let (Some(all), serde_json::Value::Object(gui)) =
                    (figures.as_object_mut(), serde_json::to_value(&g)?)
                {
                    all.extend(gui);
                }
                rows.extend([
                    (
                        format!(
                            "canvas frame, {} polygons × {} vertices",
                            g.polygons, g.vertices_per_polygon
                        ),
                        format!(
                            "{:.2} ms median, {:.2} ms p95",
                            g.canvas_frame_ms_median, g.canvas_frame_ms_p95
                        ),
                    ),
                    (
                        "canvas frame while zooming".to_string(),
                        format!("{:.2} ms median", g.canvas_zoom_frame_ms_median),
                    ),
                    (
                        "bare image decode, 24 MP JPEG".to_string(),
                        format!("{:.1} ms", g.bare_decode_ms),
                    ),
                    (
                        "item switch, cold (decrypt+decode+preview)".to_string(),
                        format!(
                            "{:.1} ms ({:.2}× bare decode)",
                            g.switch_cold_ms,
                            g.switch_cold_ms / g.bare_decode_ms.max(1e-9)
                        ),
                    ),
                    (
                        "item switch, prefetched".to_string(),
                        format!("{:.2} ms", g.switch_prefetched_ms),
                    ),
                    (
                        format!("waveform of {:.0} min audio, first time", g.audio_minutes),
                        format!("{:.0} ms", g.peaks_first_ms),
                    ),
                    (
                        "waveform reopened from the bundle cache".to_string(),
                        format!("{:.1} ms", g.peaks_reopen_ms),
                    ),
                    (
                        format!(
                            "document frame, {} chars, {} spans",
                            g.text_chars, g.text_spans
                        ),
                        format!("{:.2} ms median", g.text_frame_ms_median),
                    ),
                    (
                        "peak memory of the bench process".to_string(),
                        format!("{:.0} MiB", g.peak_rss_mib),
                    ),
                    (
                        "full-resolution tiles (worker, after preview)".to_string(),
                        format!("{:.1} ms", g.tiles_ms),
                    ),
                ]);
            }
            #[cfg(not(feature = "gui"))]
            let _ = core_only;
            if let Some(file) = audio_file {
                let bytes =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                let ext = file
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("wav")
                    .to_lowercase();
                let t = std::time::Instant::now();
                let peaks =
                    crate::peaks::compute_peaks(bytes, &ext, crate::peaks::FRAMES_PER_BLOCK)?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if let Some(all) = figures.as_object_mut() {
                    all.insert("audio_file_peaks_ms".into(), serde_json::json!(ms));
                }
                rows.push((
                    format!(
                        "waveform of {} ({:.0} s)",
                        file.display(),
                        peaks.duration_secs()
                    ),
                    format!("{ms:.0} ms"),
                ));
            }
            if let Some(sc) = &r.scale {
                rows.extend([
                    (
                        format!("open {} items to a usable queue", sc.scale_items),
                        format!(
                            "{:.0} ms after the KDF: open {:.0} + queue {:.0} ({} items; CPU {:.0} ms)",
                            sc.open_to_queue_ms,
                            sc.open_session_ms,
                            sc.load_queue_ms,
                            sc.queue_items,
                            sc.open_to_queue_cpu_ms
                        ),
                    ),
                    (
                        format!("quality report, {} items", sc.scale_items),
                        format!("{:.0} ms", sc.quality_report_ms),
                    ),
                    (
                        "resident memory, that project open".to_string(),
                        format!("{:.0} MiB", sc.rss_open_mib),
                    ),
                    (
                        format!("audit verify, {} rows", sc.audit_rows_verified),
                        format!(
                            "{:.0} ms, CPU {:.0} ms (peak RSS growth {:.0} MiB)",
                            sc.audit_verify_big_ms,
                            sc.audit_verify_big_cpu_ms,
                            sc.audit_verify_peak_growth_mib
                        ),
                    ),
                ]);
            }
            rows.insert(
                3,
                (
                    "label commit p50 / p99".to_string(),
                    format!(
                        "{:.2} / {:.2} ms (fdatasync alone: {:.2} / {:.2} ms)",
                        r.label_commit_p50_ms,
                        r.label_commit_p99_ms,
                        r.fsync_p50_ms,
                        r.fsync_p99_ms
                    ),
                ),
            );
            rows.insert(
                6,
                (
                    "raw AEAD, same bytes (reference)".to_string(),
                    format!(
                        "{:.0} MB/s (blob decrypt = {:.0} % of it)",
                        r.raw_cipher_mb_s,
                        100.0 * r.blob_decrypt_vs_raw
                    ),
                ),
            );
            let goals = crate::bench::goals(&figures);
            if let Some(all) = figures.as_object_mut() {
                all.insert("goals".into(), serde_json::to_value(&goals)?);
            }
            if *json {
                print_json(&figures)?;
            } else {
                for (what, figure) in rows {
                    println!("{what:<44} {figure}");
                }
                println!();
                println!("{:<28} {:>12} {:>10}  met", "goal", "value", "target");
                for g in &goals {
                    println!(
                        "{:<28} {:>12.3} {:>10}  {}",
                        g.figure,
                        g.value,
                        g.goal,
                        if g.met { "yes" } else { "NO" }
                    );
                }
            }
            Ok(Exit::Ok)
        }
        Command::Verify { file, json } if file.is_dir() => {
            // A signed export folder: no identity needed, anyone can check.
            let m = crate::package::verify_export_dir(file)?;
            if *json {
                print_json(&m)?;
            } else {
                println!(
                    "ok: signed export {} of project {}",
                    m.package_id, m.project_id
                );
                println!("signed by {} at {}", m.sender, format_time(m.created_ms));
                println!(
                    "{} file(s), every SHA-256 checked, nothing added or missing",
                    m.members.len()
                );
            }
            Ok(Exit::Ok)
        }
        Command::Verify { file, json } => {
            let identity = unlock(cli, &home)?;
            let input = std::io::BufReader::new(
                std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
            );
            let mut package = crate::package::open_package(input, &identity)?;
            package.verify_rest()?;
            let m = &package.manifest;
            if *json {
                print_json(m)?;
            } else {
                println!(
                    "ok: {:?} package {} for project {}",
                    m.kind, m.package_id, m.project_id
                );
                println!(
                    "signed by {} (sequence {}), sealed to {} recipient(s)",
                    m.sender,
                    m.sequence,
                    m.recipients.len()
                );
                println!("{} member(s), every SHA-256 checked", m.members.len());
            }
            Ok(Exit::Ok)
        }
        Command::Selftest(SelftestCommand::Network) => {
            let (tcp, unix) = crate::platform::network_probe();
            print_json(&json!({
                "tcp_connect": tcp.as_ref().map(|_| "connected".to_string()).unwrap_or_else(|e| format!("refused: {e}")),
                "tcp_blocked_by_filter": tcp.as_ref().err().is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied),
                "unix_socketpair": unix.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| format!("failed: {e}")),
            }))?;
            Ok(Exit::Ok)
        }
        Command::Generate(what) => generate::run(what),
    }
}

/// Progress on a terminal's stderr (a no-op when piped: scripts read the
/// final line).
fn progress_printer() -> impl FnMut(crate::package::Progress) -> bool {
    let tty = std::io::stderr().is_terminal();
    move |p| {
        if tty {
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            if p.total > 0 {
                eprint!(
                    "\r{} {:.0} of {:.0} MiB ({:.0} %)   ",
                    p.phase,
                    mib(p.done),
                    mib(p.total),
                    100.0 * p.done as f64 / p.total as f64
                );
            } else {
                eprint!("\r{} {:.0} MiB   ", p.phase, mib(p.done));
            }
        }
        true
    }
}

fn package_command(cli: &Cli, home: &Home, cmd: &PackageCommand) -> Result<Exit> {
    let mut progress = progress_printer();
    let done = || {
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    };
    match cmd {
        PackageCommand::Work {
            project,
            to,
            out,
            expires,
            expires_days,
            json,
        } => {
            let expires = retention::expiry(expires.as_deref(), *expires_days)?;
            let mut s = open(cli, home, &project.path)?;
            let made = s.make_work_package_expiring(to, out, expires, &mut progress);
            done();
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
            done();
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
            json,
        } => {
            let identity = unlock(cli, home)?;
            let kind = crate::controller::package_kind(file, &identity);
            // A package that does not even open is refused where it was
            // meant to go: in the site project if one was named (so the
            // refusal is audited there), else on the laptop side. The site
            // session is opened once and used for the merge.
            let is_results = kind == Some(crate::package::PackageKind::Results);
            let site = match project.as_deref() {
                Some(p)
                    if is_results
                        || (kind.is_none()
                            && crate::bundle::BundlePaths::new(p).header().exists()) =>
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
                let report = s.open_results_package(file, &mut progress);
                done();
                let report = report?;
                if *json {
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
            let opened = crate::controller::open_work_package(
                file,
                &identity,
                home,
                project.as_deref(),
                signer.as_deref(),
                &mut progress,
            );
            done();
            let opened = opened?;
            if *json {
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
                if signer.is_none() && opened.created {
                    println!(
                        "check with the site that {} is their admin's fingerprint",
                        opened.sender
                    );
                }
            }
            Ok(Exit::Ok)
        }
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

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
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
            let p = &it.privacy;
            let mut applied = Vec::new();
            if let Some(win) = &p.window {
                applied.push(format!("window {}", win.describe()));
            }
            applied.extend(p.masks.iter().cloned());
            if p.auto_pii {
                applied.push("automatic PII masking".into());
            }
            if p.metadata_stripped {
                applied.push("metadata stripped".into());
            }
            if p.unchanged {
                applied.push("sent as stored".into());
            }
            println!("    privacy: {}", applied.join("; "));
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

/// The shape options of `label add`.
struct ShapeArgs<'a> {
    bbox: &'a [f64],
    polygon: &'a [f64],
    polyline: &'a [f64],
    point: &'a [f64],
    tag: bool,
    segment: &'a [f64],
    transcript: Option<&'a str>,
    span: &'a [u64],
    relation: &'a [i64],
}

/// Builds the geometry from exactly one of the shape options of `label add`.
fn geometry_from_args(a: &ShapeArgs<'_>) -> Result<Geometry> {
    let pairs = |v: &[f64], what: &str| -> Result<Vec<[f64; 2]>> {
        if !v.len().is_multiple_of(2) {
            bail!(
                "--{what} takes x,y pairs; got an odd count of numbers ({})",
                v.len()
            );
        }
        Ok(v.chunks(2).map(|c| [c[0], c[1]]).collect())
    };
    let given = [
        !a.bbox.is_empty(),
        !a.polygon.is_empty(),
        !a.polyline.is_empty(),
        !a.point.is_empty(),
        a.tag,
        !a.segment.is_empty(),
        !a.span.is_empty(),
        !a.relation.is_empty(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        bail!(
            "give exactly one of --bbox, --polygon, --polyline, --point, --tag, --segment, --span, --relation"
        );
    }
    Ok(match (a.bbox, a.point, a.segment, a.span, a.relation) {
        ([x, y, w, h], ..) => Geometry::BBox(BBox {
            x: *x,
            y: *y,
            w: *w,
            h: *h,
        }),
        ([_, ..], ..) => bail!("--bbox takes four numbers: x,y,w,h"),
        (_, [x, y], ..) => Geometry::Point { x: *x, y: *y },
        (_, [_, ..], ..) => bail!("--point takes two numbers: x,y"),
        (_, _, [start, end], ..) => Geometry::Segment {
            start_secs: *start,
            end_secs: *end,
            transcript: a.transcript.unwrap_or_default().to_string(),
        },
        (_, _, [_, ..], ..) => bail!("--segment takes two numbers: start,end in seconds"),
        (_, _, _, [start, end], _) => Geometry::Span {
            start: *start,
            end: *end,
            byte_start: 0,
            byte_end: 0,
        },
        (_, _, _, [_, ..], _) => bail!("--span takes two numbers: start,end in characters"),
        (_, _, _, _, [from, to]) => Geometry::Relation {
            from: *from,
            to: *to,
        },
        (_, _, _, _, [_, ..]) => bail!("--relation takes two label ids: from,to"),
        _ if !a.polygon.is_empty() => Geometry::Polygon {
            points: pairs(a.polygon, "polygon")?,
        },
        _ if !a.polyline.is_empty() => Geometry::Polyline {
            points: pairs(a.polyline, "polyline")?,
        },
        _ => Geometry::Tag,
    })
}
