//! `sealtag project …` and `sealtag demo --setup-only`: create a project
//! bundle, read what it is and who you are in it, check its integrity, and
//! erase a laptop bundle.

use anyhow::{Result, bail};
use serde_json::json;

use super::args::{ProjectArg, ProjectCommand};
use super::retention::print_shred;
use super::{Cli, Exit, open, print_json, unlock};
use crate::controller::Session;
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, cmd: &ProjectCommand) -> Result<Exit> {
    match cmd {
        ProjectCommand::Create { path, name } => {
            let identity = unlock(cli, home)?;
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
        ProjectCommand::Info { project, json } => {
            let mut s = open(cli, home, &project.path)?;
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
        ProjectCommand::Check { project } => {
            let s = open(cli, home, &project.path)?;
            s.integrity_check()?;
            println!("ok: integrity_check and cipher_integrity_check passed");
            Ok(Exit::Ok)
        }
        ProjectCommand::Erase { project, yes } => erase_bundle(cli, home, project, *yes),
    }
}

/// `sealtag demo --setup-only`: make the demo bundle and its two homes and
/// say where they are (the GUI is not started).
pub fn demo(home: &Home) -> Result<Exit> {
    let paths = crate::demo::ensure_demo(home)?;
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

fn erase_bundle(cli: &Cli, home: &Home, project: &ProjectArg, yes: bool) -> Result<Exit> {
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
