//! `sealtag label …`: add a label from the command line (exactly one shape
//! option), list an item's labels, undo your latest change. Each saved
//! label's id is printed only after its commit: a line on stdout is durable.

use anyhow::{Result, anyhow, bail};
use std::io::Write;

use super::args::LabelCommand;
use super::{Cli, Exit, open, print_json};
use crate::home::Home;
use crate::model::{AnnotationDraft, AttributeKind, BBox, Geometry, LabelChange};

pub fn run(cli: &Cli, home: &Home, cmd: &LabelCommand) -> Result<Exit> {
    match cmd {
        LabelCommand::Add {
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
        } => {
            let mut s = open(cli, home, &project.path)?;
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
        LabelCommand::List {
            project,
            item,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
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
                    let shape = a.geometry.describe();
                    println!("{:>5}  {class:<14} {shape}  rev {}", a.id, a.revision);
                }
            }
            Ok(Exit::Ok)
        }
        LabelCommand::Undo { project, item } => {
            let mut s = open(cli, home, &project.path)?;
            let applied = s.apply_label(LabelChange::Undo { item_id: *item })?;
            println!(
                "undid a change to annotation {} on item {}",
                applied.annotation_id, applied.item_id
            );
            Ok(Exit::Ok)
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
