//! YOLO import (`yolo`): a dataset folder as Ultralytics and Darknet lay it
//! out, read as pre-labels.
//!
//! * Class names: `data.yaml` (else the only `*.yaml`/`*.yml` at the top of
//!   the folder) — `names` as a list (`[a, b]` or `- a` lines) or a map
//!   (`0: a` lines or `{0: a}`), checked against `nc` when given — else
//!   Darknet's `classes.txt` / `obj.names`, one name per line. Only that
//!   subset of YAML is read (see [`parse_data_yaml`]); anything else in
//!   the file is ignored. Pose datasets (`kpt_shape`) are refused.
//! * Label files: every `*.txt` below a `labels` folder (any depth, e.g.
//!   `labels/train/a.txt`); without a `labels` folder, every `*.txt` but
//!   the class and list files. A label file belongs to the item whose file
//!   name without extension is the label file's (`a.txt` → `images/a.jpg`);
//!   when several items share that stem, the one whose path ends with the
//!   label file's folder below `labels/` wins (`labels/train/a.txt` →
//!   `images/train/a.jpg`), else the file is reported as ambiguous.
//! * Lines: `class cx cy w h` (normalised box centre and size; a sixth
//!   number is a confidence score, as `save_conf` writes) → box;
//!   `class x1 y1 x2 y2 x3 y3 …` (at least three points) → polygon. Values
//!   are fractions of the image width and height (the item's, so the item
//!   must have a known size) and must lie in [0, 1].
//!
//! Each non-empty line is one record, numbered over all label files in
//! path order; messages name the file and line.

use std::collections::BTreeMap;

use super::super::{
    FormatError, Importer, ItemIndex, ItemInfo, LabelInput, ParsedLabels, PreLabel, RecordError,
};
use crate::model::{BBox, Extent, Geometry, ItemKind};

/// This module's importers (registered in [`crate::formats::importers`]).
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(YoloImporter)]
}

pub struct YoloImporter;

/// Most classes a `data.yaml` may name.
const MAX_CLASSES: usize = 100_000;

/// Files at the top of a Darknet folder that list classes or images.
const LIST_FILES: &[&str] = &[
    "classes.txt",
    "obj.names",
    "images.txt",
    "train.txt",
    "val.txt",
    "test.txt",
];

/// A YAML scalar without its quotes (the subset of `data.yaml` read:
/// plain, `'single'` with `''`, `"double"` with `\"`, `\\`, `\n`, `\t`,
/// `\uXXXX`).
fn yaml_scalar(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if let Some(inner) = s.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or_else(|| format!("unclosed quote in {s}"))?;
        return Ok(inner.replace("''", "'"));
    }
    if let Some(inner) = s.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| format!("unclosed quote in {s}"))?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape \\u{hex} in {s}"))?;
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => return Err(format!("a lone backslash in {s}")),
            }
        }
        return Ok(out);
    }
    Ok(s.to_string())
}

/// A line without its `#` comment (outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_space => return &line[..i],
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// Splits a flow collection's inside on commas outside quotes.
fn split_flow(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ',') => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// A `key: value` map entry of `names` (`0: person`).
fn map_entry(entry: &str) -> Result<(usize, String), String> {
    let (k, v) = entry
        .split_once(':')
        .ok_or_else(|| format!("'{}' is not 'index: name'", entry.trim()))?;
    let k = k.trim();
    let index = k
        .parse::<usize>()
        .map_err(|_| format!("'{k}' is not a class index"))?;
    Ok((index, yaml_scalar(v)?))
}

/// `names` (and `nc`) of a `data.yaml`: the class names by index. Errors
/// name the file's line.
pub fn parse_data_yaml(text: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = text.lines().map(strip_comment).collect();
    let mut names: Option<Vec<String>> = None;
    let mut nc: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let at = i + 1;
        i += 1;
        if line.starts_with([' ', '\t']) || line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "kpt_shape" => {
                return Err(format!(
                    "line {at}: a pose dataset (kpt_shape); YOLO keypoints are not imported"
                ));
            }
            "nc" => {
                nc = Some(
                    value
                        .parse()
                        .map_err(|_| format!("line {at}: nc '{value}' is not a count"))?,
                );
            }
            "names" => {
                let mut by_index: BTreeMap<usize, String> = BTreeMap::new();
                let mut list = Vec::new();
                if let Some(inner) = value.strip_prefix('[') {
                    let inner = inner
                        .strip_suffix(']')
                        .ok_or_else(|| format!("line {at}: names [ … is not closed on its line"))?;
                    for s in split_flow(inner) {
                        list.push(yaml_scalar(s).map_err(|e| format!("line {at}: {e}"))?);
                    }
                } else if let Some(inner) = value.strip_prefix('{') {
                    let inner = inner.strip_suffix('}').ok_or_else(|| {
                        format!("line {at}: names {{ … is not closed on its line")
                    })?;
                    for s in split_flow(inner) {
                        let (k, v) = map_entry(s).map_err(|e| format!("line {at}: {e}"))?;
                        by_index.insert(k, v);
                    }
                } else if value.is_empty() {
                    // Block form: the indented lines that follow.
                    while i < lines.len()
                        && (lines[i].starts_with([' ', '\t', '-']) || lines[i].trim().is_empty())
                    {
                        let item = lines[i].trim();
                        let at = i + 1;
                        i += 1;
                        if item.is_empty() {
                            continue;
                        }
                        if let Some(v) = item.strip_prefix('-') {
                            list.push(yaml_scalar(v).map_err(|e| format!("line {at}: {e}"))?);
                        } else {
                            let (k, v) = map_entry(item).map_err(|e| format!("line {at}: {e}"))?;
                            by_index.insert(k, v);
                        }
                    }
                } else {
                    return Err(format!(
                        "line {at}: names must be a list or a map of index: name"
                    ));
                }
                if !by_index.is_empty() && !list.is_empty() {
                    return Err(format!("line {at}: names mixes list and map entries"));
                }
                if !by_index.is_empty() {
                    // A map must number the classes 0, 1, 2, … without gaps.
                    for (want, (got, _)) in by_index.iter().enumerate() {
                        if want != *got {
                            return Err(format!(
                                "line {at}: names has no class {want} (the indices must be 0, 1, 2, …)"
                            ));
                        }
                    }
                    list = by_index.into_values().collect();
                }
                if list.len() > MAX_CLASSES {
                    return Err(format!("line {at}: more than {MAX_CLASSES} names"));
                }
                if let Some(empty) = list.iter().position(|n| n.trim().is_empty()) {
                    return Err(format!("line {at}: class {empty} has an empty name"));
                }
                names = Some(list);
            }
            _ => {}
        }
    }
    let names = names.ok_or("no names: list")?;
    if let Some(nc) = nc
        && nc != names.len()
    {
        return Err(format!(
            "nc is {nc} but names lists {} classes",
            names.len()
        ));
    }
    Ok(names)
}

/// The class names of the folder and the file they came from.
fn class_names(files: &[(&str, &[u8])]) -> Result<(Vec<String>, String), FormatError> {
    let top = |n: &&str| !n.contains('/');
    let yaml: Vec<&(&str, &[u8])> = files
        .iter()
        .filter(|(n, _)| top(n) && (n.ends_with(".yaml") || n.ends_with(".yml")))
        .collect();
    let chosen = yaml
        .iter()
        .find(|(n, _)| *n == "data.yaml")
        .or(if yaml.len() == 1 { yaml.first() } else { None });
    let text = |name: &str, bytes: &[u8]| {
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            FormatError::Invalid(format!(
                "{name}: not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })
    };
    if let Some((name, bytes)) = chosen {
        let names = parse_data_yaml(&text(name, bytes)?)
            .map_err(|e| FormatError::Invalid(format!("{name}: {e}")))?;
        return Ok((names, name.to_string()));
    }
    if yaml.len() > 1 {
        return Err(FormatError::Invalid(format!(
            "{} YAML files and none called data.yaml: name the dataset's one data.yaml",
            yaml.len()
        )));
    }
    if let Some((name, bytes)) = files
        .iter()
        .find(|(n, _)| *n == "classes.txt" || *n == "obj.names")
    {
        let names: Vec<String> = text(name, bytes)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        return Ok((names, name.to_string()));
    }
    Err(FormatError::Invalid(
        "no data.yaml (or classes.txt) in the folder: YOLO class numbers need names".into(),
    ))
}

/// Whether a file of the folder is a label file (module doc).
fn is_label_file(name: &str, has_labels_dir: bool) -> bool {
    if !name.to_ascii_lowercase().ends_with(".txt") {
        return false;
    }
    if has_labels_dir {
        name.split('/').any(|p| p == "labels")
    } else {
        !LIST_FILES.contains(&name)
    }
}

use crate::formats::index::stem;

/// The item a label file is for (module doc), or why none.
fn item_for<'a>(label_file: &str, items: &'a ItemIndex<'a>) -> Result<&'a ItemInfo, String> {
    let want = stem(label_file);
    let same: Vec<&ItemInfo> = items
        .with_stem(want)
        .filter(|i| i.kind == ItemKind::Image)
        .collect();
    match same.as_slice() {
        [one] => return Ok(one),
        [] => return Err(format!("no item is called '{want}.*'")),
        _ => {}
    }
    // `labels/train/a.txt`: the folder below `labels/` tells them apart.
    let sub = label_file
        .split_once("labels/")
        .map(|(_, rest)| rest)
        .unwrap_or(label_file);
    let sub = match sub.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{want}."),
        None => String::new(),
    };
    let narrowed: Vec<&ItemInfo> = if sub.is_empty() {
        Vec::new()
    } else {
        same.iter()
            .copied()
            .filter(|i| i.name.contains(&sub))
            .collect()
    };
    match narrowed.as_slice() {
        [one] => Ok(one),
        _ => Err(format!(
            "{} items are called '{want}.*'; put the label file in the same sub-folder as the image",
            same.len()
        )),
    }
}

/// The geometry (and score) of one label line's numbers (after the class).
fn line_geometry(v: &[f64], width: f64, height: f64) -> Result<(Geometry, Option<f64>), String> {
    if let Some(bad) = v.iter().find(|x| !(-1e-9..=1.0 + 1e-9).contains(*x)) {
        return Err(format!(
            "{bad} is not a fraction of the image size (0 to 1)"
        ));
    }
    match v.len() {
        4 | 5 => {
            let (w, h) = (v[2] * width, v[3] * height);
            let b = BBox {
                x: v[0] * width - w / 2.0,
                y: v[1] * height - h / 2.0,
                w,
                h,
            };
            Ok((Geometry::BBox(b), v.get(4).copied()))
        }
        n if n >= 6 && n % 2 == 0 => Ok((
            Geometry::Polygon {
                points: v.chunks(2).map(|p| [p[0] * width, p[1] * height]).collect(),
            },
            None,
        )),
        n => Err(format!(
            "{n} numbers after the class: a box has 4 (cx cy w h), a polygon 6 or more (x y pairs)"
        )),
    }
}

impl Importer for YoloImporter {
    fn name(&self) -> &'static str {
        "yolo"
    }

    fn description(&self) -> &'static str {
        "YOLO dataset folder (detection or segmentation): data.yaml names, labels/**/*.txt"
    }

    fn read(&self, input: &LabelInput, items: &ItemIndex<'_>) -> Result<ParsedLabels, FormatError> {
        if let LabelInput::File { name, .. } = input {
            return Err(FormatError::Invalid(format!(
                "YOLO labels are a folder (data.yaml and labels/*.txt); give the dataset folder, not {name}"
            )));
        }
        let files = input.files();
        let (names, names_file) = class_names(&files)?;
        let mut out = ParsedLabels::default();
        for n in &names {
            out.class_mut(n);
        }
        let has_labels_dir = files
            .iter()
            .any(|(n, _)| n.split('/').any(|p| p == "labels") && n.ends_with(".txt"));
        let mut record = 0;
        for (file, bytes) in files
            .iter()
            .filter(|(n, _)| *n != names_file && is_label_file(n, has_labels_dir))
        {
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    record += 1;
                    out.errors.push(RecordError {
                        record,
                        message: format!(
                            "{file}: not UTF-8 text (byte {}); its labels were not imported",
                            e.valid_up_to()
                        ),
                    });
                    continue;
                }
            };
            let lines: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .collect();
            let first = record + 1;
            record += lines.len();
            if lines.is_empty() {
                continue;
            }
            let item = match item_for(file, items) {
                Ok(i) => i,
                Err(why) => {
                    out.errors.push(RecordError {
                        record: first,
                        message: format!(
                            "{file} ({} label{}) was not imported: {why}",
                            lines.len(),
                            if lines.len() == 1 { "" } else { "s" }
                        ),
                    });
                    continue;
                }
            };
            let size = match (item.width, item.height) {
                (Some(w), Some(h)) if w > 0 && h > 0 => Some((f64::from(w), f64::from(h))),
                _ => None,
            };
            for (k, (n, line)) in lines.into_iter().enumerate() {
                let record = first + k;
                let fail = |m: String| RecordError {
                    record,
                    message: format!("{file} line {}: {m}", n + 1),
                };
                let mut tokens = line.split_whitespace();
                let class = tokens.next().unwrap_or("");
                let Ok(index) = class.parse::<usize>() else {
                    out.errors
                        .push(fail(format!("'{class}' is not a class number")));
                    continue;
                };
                let Some(class) = names.get(index) else {
                    out.errors.push(fail(format!(
                        "class {index} is not in {names_file} ({} names)",
                        names.len()
                    )));
                    continue;
                };
                let values: Result<Vec<f64>, String> = tokens
                    .map(|t| {
                        t.parse::<f64>()
                            .ok()
                            .filter(|f| f.is_finite())
                            .ok_or_else(|| format!("'{t}' is not a number"))
                    })
                    .collect();
                let Some((width, height)) = size else {
                    out.errors.push(fail(format!(
                        "the size of item '{}' is unknown (YOLO values are fractions of it)",
                        item.name
                    )));
                    continue;
                };
                let parsed = values.and_then(|v| line_geometry(&v, width, height));
                let (geometry, score) = match parsed {
                    Ok(g) => g,
                    Err(m) => {
                        out.errors.push(fail(m));
                        continue;
                    }
                };
                let extent = Extent {
                    width,
                    height,
                    ..Extent::default()
                };
                if let Err(m) = geometry.validate(&extent) {
                    out.errors.push(fail(m));
                    continue;
                }
                out.labels.push(PreLabel {
                    item_id: item.id,
                    class: class.clone(),
                    geometry,
                    attributes: BTreeMap::new(),
                    score,
                    record,
                });
            }
        }
        out.note_label_classes();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_yaml_names_as_lists_and_maps() {
        let want = vec!["person".to_string(), "traffic light".into(), "it's".into()];
        for doc in [
            "path: .\nnames: [person, 'traffic light', \"it's\"]  # three\nnc: 3\n",
            "names:\n  - person\n  - traffic light\n  - 'it''s'\n",
            "names:\n  0: person\n  1: \"traffic light\"\n  2: it's\n",
            "names: {0: person, 1: traffic light, 2: \"it\\u0027s\"}\n",
        ] {
            assert_eq!(parse_data_yaml(doc).unwrap(), want, "{doc}");
        }
        assert_eq!(
            parse_data_yaml("nc: 2\nnames: [a]\n").unwrap_err(),
            "nc is 2 but names lists 1 classes"
        );
        assert!(
            parse_data_yaml("names:\n  0: a\n  2: b\n")
                .unwrap_err()
                .contains("no class 1")
        );
        assert!(
            parse_data_yaml("names: [a, b\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(parse_data_yaml("kpt_shape: [17, 3]\nnames: [a]\n").is_err());
        assert!(parse_data_yaml("train: x\n").is_err());
    }

    fn info(id: i64, name: &str) -> ItemInfo {
        ItemInfo::test_image(id, name, 200, 100)
    }

    #[test]
    fn boxes_and_polygons_from_a_folder() {
        let input = LabelInput::Folder {
            files: vec![
                ("data.yaml".into(), b"names: [car, road]\n".to_vec()),
                (
                    "labels/train/a.txt".into(),
                    b"0 0.5 0.5 0.5 0.2\n\n1 0 0 1 0 1 1\n7 0.5 0.5 0.1 0.1\n0 0.5 0.5 2 0.1\n"
                        .to_vec(),
                ),
                (
                    "labels/train/nothing.txt".into(),
                    b"0 0.5 0.5 0.1 0.1\n".to_vec(),
                ),
            ],
        };
        let items = [info(1, "images/train/a.jpg"), info(2, "images/val/a.jpg")];
        let p = YoloImporter.read(&input, &ItemIndex::new(&items)).unwrap();
        assert_eq!(p.labels.len(), 2, "{:?}", p.errors);
        assert_eq!(p.labels[0].item_id, 1);
        assert_eq!(
            p.labels[0].geometry,
            Geometry::BBox(BBox {
                x: 50.0,
                y: 40.0,
                w: 100.0,
                h: 20.0
            })
        );
        assert_eq!(p.labels[0].score, None);
        assert_eq!(p.labels[1].geometry.tool(), crate::model::Tool::Polygon);
        assert_eq!(p.labels[1].class, "road");
        let errors: Vec<(usize, &str)> = p
            .errors
            .iter()
            .map(|e| (e.record, e.message.as_str()))
            .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert_eq!(errors[0].0, 3);
        assert!(
            errors[0]
                .1
                .starts_with("labels/train/a.txt line 4: class 7")
        );
        assert!(errors[1].1.contains("2 is not a fraction"), "{errors:#?}");
        assert!(errors[2].1.contains("nothing.txt (1 label)"), "{errors:#?}");
        let names: Vec<&str> = p.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["car", "road"]);
        // One file is not a YOLO dataset.
        let file = LabelInput::File {
            name: "a.txt".into(),
            bytes: vec![],
        };
        assert!(YoloImporter.read(&file, &ItemIndex::new(&items)).is_err());
    }
}
