//! `sealtag settings KEY VALUE`: change a project setting (admin); `@FILE`
//! reads a long value such as the guidelines from a file.

use anyhow::{Context, Result};

use super::args::ProjectArg;
use super::{Cli, Exit, open};
use crate::home::Home;

pub fn run(cli: &Cli, home: &Home, project: &ProjectArg, key: &str, value: &str) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let value = match value.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the value of {key} from {file}"))?,
        None => value.to_string(),
    };
    s.set_project_setting(key, &value)?;
    if value.contains('\n') || value.len() > 80 {
        println!("{key} set ({} characters)", value.chars().count());
    } else {
        println!("{key} = {value}");
    }
    Ok(Exit::Ok)
}
