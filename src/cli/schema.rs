//! `sealtag schema …`: print the label schema, set the overlap rules of
//! spans and segments, replace the schema from its JSON form.

use anyhow::{Context, Result};

use super::args::SchemaCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;
use crate::model::Schema;

pub fn run(cli: &Cli, home: &Home, cmd: &SchemaCommand) -> Result<Exit> {
    match cmd {
        SchemaCommand::Show { project, json } => {
            let s = open(cli, home, &project.path)?;
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
        SchemaCommand::Rules {
            project,
            overlapping_spans,
            overlapping_segments,
        } => {
            let mut s = open(cli, home, &project.path)?;
            s.set_overlap_rules(*overlapping_spans, *overlapping_segments)?;
            println!(
                "overlapping spans: {overlapping_spans}; overlapping segments: {overlapping_segments}"
            );
            Ok(Exit::Ok)
        }
        SchemaCommand::Set {
            project,
            file,
            confirm,
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let schema: Schema = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a schema in the `schema show --json` format",
                    file.display()
                )
            })?;
            let mut s = open(cli, home, &project.path)?;
            let change = s.update_schema(schema.classes, schema.multi_label_tags, *confirm)?;
            println!(
                "schema is now version {} ({} label(s) removed)",
                change.version, change.removed_labels
            );
            Ok(Exit::Ok)
        }
    }
}
