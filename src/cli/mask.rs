//! `sealtag mask …`: masking and minimisation decisions, thin wrappers over
//! the controller, printing text or the stable JSON. Nothing here writes
//! item content to disk; `preview` describes the derivative and prints a
//! text's masked form to stdout only.

use anyhow::{Context, Result, anyhow, bail};

use super::args::{MaskCommand, MaskDecision, ProjectArg, TemplateCommand};
use super::{Cli, Exit, open, print_json};
use crate::controller::Session;
use crate::home::Home;
use crate::model::ItemKind;
use crate::privacy::audio_mask::{AudioRange, AudioStyle};
use crate::privacy::derive::MaskSpec;
use crate::privacy::image_mask::{Region, RegionStyle, Shape};
use crate::privacy::pii::PiiType;
use crate::privacy::window::Window;

/// `A..B` as two numbers.
fn range<T: std::str::FromStr>(text: &str, what: &str) -> Result<(T, T)> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| anyhow!("{what} '{text}' is not START..END"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<T>()
            .map_err(|_| anyhow!("{what} '{text}': '{v}' is not a number"))
    };
    Ok((parse(a)?, parse(b)?))
}

fn numbers(text: &str, n: usize, what: &str) -> Result<Vec<f64>> {
    let v: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| anyhow!("{what} '{text}' must be {n} comma-separated numbers"))?;
    if v.len() != n || v.iter().any(|x| !x.is_finite()) {
        bail!("{what} '{text}' must be {n} comma-separated numbers");
    }
    Ok(v)
}

fn polygon(text: &str) -> Result<Vec<[f64; 2]>> {
    text.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| numbers(p, 2, "polygon point").map(|v| [v[0], v[1]]))
        .collect()
}

fn named<T: serde::de::DeserializeOwned>(value: &str, what: &str, choices: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| anyhow!("'{value}' is not a {what} ({choices})"))
}

pub fn pii_type(value: &str) -> Result<PiiType> {
    named(
        value,
        "PII type",
        "email, phone, credit_card, iban, ip_address, date_of_birth, national_id, person, address, other",
    )
}

fn region_style(s: &Session, value: Option<&str>) -> Result<RegionStyle> {
    match value {
        Some(v) => named(v, "region style", "fill, blur, pixelate"),
        None => Ok(s.default_region_style()?),
    }
}

fn audio_style(s: &Session, value: Option<&str>) -> Result<AudioStyle> {
    match value {
        Some(v) => named(v, "audio style", "mute, tone"),
        None => Ok(s.default_audio_style()?),
    }
}

fn decide(cli: &Cli, home: &Home, d: &MaskDecision, accept: bool) -> Result<Exit> {
    let mut s = open(cli, home, &d.project.path)?;
    let n = match &d.pii_type {
        Some(t) => s.mask_decide_type(pii_type(t)?, accept, d.item)?,
        None if d.ids.is_empty() => bail!("name mask ids, or --type for every pending one"),
        None => s.mask_decide(&d.ids, accept)?,
    };
    println!(
        "{n} mask(s) {}",
        if accept { "accepted" } else { "rejected" }
    );
    Ok(Exit::Ok)
}

pub fn run(cli: &Cli, home: &Home, cmd: &MaskCommand) -> Result<Exit> {
    match cmd {
        MaskCommand::Propose {
            project,
            items,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let only = (!items.is_empty()).then_some(items.as_slice());
            let r = s.mask_propose(only)?;
            if *json {
                print_json(&r)?;
            } else {
                println!(
                    "{} item(s) scanned: {} text span(s) and {} audio range(s) proposed ({} already on record)",
                    r.items, r.text_spans, r.audio_ranges, r.already_known
                );
                println!(
                    "review them: sealtag mask list --status proposed, then mask accept/reject"
                );
            }
            Ok(Exit::Ok)
        }
        MaskCommand::List {
            project,
            item,
            status,
            json,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let mut rows = s.mask_list(*item)?;
            if let Some(st) = status {
                rows.retain(|m| m.status == st.as_str());
            }
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no masking decisions");
            } else {
                for m in rows {
                    println!(
                        "mask {:>5}  item {:>5}  {:<9} {:<40} from {}",
                        m.id,
                        m.item_id,
                        m.status,
                        m.spec.describe(),
                        m.source
                    );
                }
            }
            Ok(Exit::Ok)
        }
        MaskCommand::Accept(d) => decide(cli, home, d, true),
        MaskCommand::Reject(d) => decide(cli, home, d, false),
        MaskCommand::Add {
            project,
            item,
            chars,
            rect,
            polygon: poly,
            secs,
            pii_type: kind,
            style,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let spec = mask_spec(
                &s,
                &MaskShape {
                    chars: chars.as_deref(),
                    rect: rect.as_deref(),
                    polygon: poly.as_deref(),
                    secs: secs.as_deref(),
                    pii_type: kind,
                    style: style.as_deref(),
                },
            )?;
            let what = spec.describe();
            let id = s.mask_add(*item, spec)?;
            println!("mask {id} on item {item}: {what}");
            Ok(Exit::Ok)
        }
        MaskCommand::FromLabels {
            project,
            classes,
            style,
            items,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let style = region_style(&s, style.as_deref())?;
            let only = (!items.is_empty()).then_some(items.as_slice());
            let n = s.mask_from_labels(classes, style, only)?;
            println!(
                "{n} label(s) of {} turned into mask regions",
                classes.join(", ")
            );
            Ok(Exit::Ok)
        }
        MaskCommand::Template(t) => template(cli, home, t),
        MaskCommand::Window {
            project,
            item,
            rect,
            chars,
            secs,
            from_labels,
            margin,
            clear,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let set = if *clear {
                s.set_window(*item, None)?
            } else if !from_labels.is_empty() {
                s.window_from_labels(*item, from_labels, *margin)?
            } else {
                let w = window_of(rect.as_deref(), chars.as_deref(), secs.as_deref())?;
                s.set_window(*item, Some(w))?
            };
            match set {
                Some(w) => println!(
                    "item {item} travels as {}",
                    serde_json::to_string(&w).unwrap_or_default()
                ),
                None => println!("item {item} travels whole"),
            }
            Ok(Exit::Ok)
        }
        MaskCommand::Show {
            project,
            item,
            json,
        } => show(cli, home, project, *item, *json),
        MaskCommand::Preview {
            project,
            item,
            json,
        } => preview(cli, home, project, *item, *json),
    }
}

/// The shape options of `mask add`, of which exactly one is given.
struct MaskShape<'a> {
    chars: Option<&'a str>,
    rect: Option<&'a str>,
    polygon: Option<&'a str>,
    secs: Option<&'a str>,
    pii_type: &'a str,
    style: Option<&'a str>,
}

/// The mask `mask add` describes; region and audio styles default to the
/// project's.
fn mask_spec(s: &Session, a: &MaskShape<'_>) -> Result<MaskSpec> {
    Ok(if let Some(c) = a.chars {
        let (start, end) = range::<u64>(c, "--chars")?;
        MaskSpec::Text {
            start,
            end,
            pii_type: pii_type(a.pii_type)?,
        }
    } else if let Some(r) = a.rect {
        let v = numbers(r, 4, "--rect")?;
        MaskSpec::Region {
            region: Region {
                shape: Shape::Rect {
                    x: v[0],
                    y: v[1],
                    w: v[2],
                    h: v[3],
                },
                style: region_style(s, a.style)?,
            },
        }
    } else if let Some(p) = a.polygon {
        MaskSpec::Region {
            region: Region {
                shape: Shape::Polygon {
                    points: polygon(p)?,
                },
                style: region_style(s, a.style)?,
            },
        }
    } else if let Some(t) = a.secs {
        let (start_secs, end_secs) = range::<f64>(t, "--secs")?;
        MaskSpec::Audio {
            range: AudioRange {
                start_secs,
                end_secs,
                style: audio_style(s, a.style)?,
            },
        }
    } else {
        bail!("say what to mask: --chars, --rect, --polygon or --secs");
    })
}

/// The window `mask window --rect/--chars/--secs` describes.
fn window_of(rect: Option<&str>, chars: Option<&str>, secs: Option<&str>) -> Result<Window> {
    let w = if let Some(r) = rect {
        let v = numbers(r, 4, "--rect")?;
        if v.iter().any(|x| *x < 0.0 || x.fract() != 0.0) {
            bail!("--rect '{r}': a crop is whole pixels, not negative");
        }
        Window::Image {
            x: v[0] as u32,
            y: v[1] as u32,
            w: v[2] as u32,
            h: v[3] as u32,
        }
    } else if let Some(c) = chars {
        let (start, end) = range::<u64>(c, "--chars")?;
        Window::Text { start, end }
    } else if let Some(t) = secs {
        let (start_secs, end_secs) = range::<f64>(t, "--secs")?;
        Window::Audio {
            start_secs,
            end_secs,
        }
    } else {
        bail!("say which window: --rect, --chars, --secs, --from-labels or --clear");
    };
    Ok(w)
}

/// `mask show`: the item's privacy version, window, masks and packages.
fn show(cli: &Cli, home: &Home, project: &ProjectArg, item: i64, json: bool) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let p = s.item_privacy(item)?;
    if json {
        print_json(&p)?;
        return Ok(Exit::Ok);
    }
    println!("item {}: privacy version {}", p.item_id, p.version);
    match &p.window {
        Some(w) => println!("  window: {}", serde_json::to_string(w).unwrap_or_default()),
        None => println!("  window: whole item"),
    }
    for m in &p.masks {
        println!(
            "  mask {:>5} {:<9} {} (from {})",
            m.id,
            m.status,
            m.spec.describe(),
            m.source
        );
    }
    for (package, to, version, _) in &p.packages {
        println!("  sent in {package} to {to} at version {version}");
    }
    Ok(Exit::Ok)
}

/// `mask preview`: the derivative an annotator would receive, described
/// (a text's masked form printed); nothing is written.
fn preview(cli: &Cli, home: &Home, project: &ProjectArg, item: i64, json: bool) -> Result<Exit> {
    let mut s = open(cli, home, &project.path)?;
    let kind = s
        .items()?
        .into_iter()
        .find(|i| i.id == item)
        .map(|i| i.kind)
        .with_context(|| format!("item {item} not found"))?;
    let d = s.preview_item(item)?;
    let text = (kind == ItemKind::Text).then(|| String::from_utf8_lossy(&d.bytes).into_owned());
    if json {
        print_json(&serde_json::json!({
            "item": item,
            "format": d.format,
            "bytes": d.bytes.len(),
            "sha256": crate::crypto::sha256_hex(&d.bytes),
            "width": d.width,
            "height": d.height,
            "duration_secs": d.duration_secs,
            "char_len": d.char_len,
            "text": text,
        }))?;
    } else {
        println!(
            "item {item} as an annotator receives it: {} bytes of {}{}",
            d.bytes.len(),
            d.format,
            match (d.width, d.height, d.duration_secs, d.char_len) {
                (Some(w), Some(h), _, _) => format!(", {w}×{h}"),
                (_, _, Some(secs), _) => format!(", {secs:.3} s"),
                (_, _, _, Some(c)) => format!(", {c} chars"),
                _ => String::new(),
            }
        );
        if let Some(t) = text {
            println!("{t}");
        }
    }
    Ok(Exit::Ok)
}

fn template(cli: &Cli, home: &Home, cmd: &TemplateCommand) -> Result<Exit> {
    match cmd {
        TemplateCommand::Save {
            project,
            name,
            from_item,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let t = s.template_save(name, *from_item)?;
            println!(
                "template '{}': {} region(s) on {}×{}",
                t.name,
                t.regions.len(),
                t.width,
                t.height
            );
        }
        TemplateCommand::Apply {
            project,
            name,
            items,
            all_images,
        } => {
            let mut s = open(cli, home, &project.path)?;
            let ids: Vec<i64> = if *all_images {
                s.items()?
                    .into_iter()
                    .filter(|i| i.kind == ItemKind::Image)
                    .map(|i| i.id)
                    .collect()
            } else {
                items.clone()
            };
            let done = s.template_apply(name, &ids)?;
            println!(
                "template '{name}': {} region(s) added to {} image(s); {} already carried it",
                done.regions,
                done.images.len(),
                done.already_carried.len()
            );
        }
        TemplateCommand::List { project, json } => {
            let mut s = open(cli, home, &project.path)?;
            let ts = s.mask_templates()?;
            if *json {
                print_json(&ts)?;
            } else {
                for t in ts {
                    println!(
                        "{}: {} region(s) on {}×{}",
                        t.name,
                        t.regions.len(),
                        t.width,
                        t.height
                    );
                }
            }
        }
    }
    Ok(Exit::Ok)
}
