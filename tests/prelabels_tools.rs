//! Label files as other tools write them (issue 19), each a hand-written
//! file in `tests/fixtures/prelabels/` built from that tool's documentation
//! — CVAT COCO 1.0, CVAT for images 1.1, Label Studio JSON (with its
//! labelling config), a YOLO dataset folder, a Pascal VOC folder —
//! imported with `--create-classes` into a fresh project: the classes
//! adopted (names, keypoints, attributes, tools) as one audited schema
//! version, the labels, and the same boxes exported back out.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sealtag::controller::{ExportOptions, Session};
use sealtag::crypto::UnlockedIdentity;
use sealtag::formats::input::{read_file, read_input};
use sealtag::formats::{ItemIndex, LabelInput, labelstudio};
use sealtag::import::ImportOptions;
use sealtag::model::{AttributeKind, BBox, Geometry, LabelClass, Tool};
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

/// Pixel values compared with room for the percent and normalised
/// conversions (1e-6 px is far below what a person can draw).
const TOLERANCE: f64 = 1e-6;

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= TOLERANCE)
}

struct Fx {
    dir: tempfile::TempDir,
    s: Session,
    /// Item ids by name.
    items: BTreeMap<&'static str, i64>,
}

/// A fresh project with the two fixture images under the names the label
/// files use (`astronaut.jpg` 512×512, `coffee.jpg` 600×400), and with
/// `media` also a text and an audio item (for Label Studio).
fn project(media: bool) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let admin = UnlockedIdentity::generate("Ada");
    let mut s = Session::create_project(&dir.path().join("p.sealtag"), "Tools", admin).unwrap();
    let opts = ImportOptions::default();
    let mut items = BTreeMap::new();
    let mut files: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "astronaut.jpg",
            std::fs::read(fixture("import/astronaut.jpg")).unwrap(),
        ),
        (
            "coffee.jpg",
            std::fs::read(fixture("import/coffee_exif_gps.jpg")).unwrap(),
        ),
    ];
    if media {
        files.push(("note.txt", b"Call Ada Lovelace at noon.".to_vec()));
        files.push((
            "call.flac",
            std::fs::read(fixture("import/call_02_16k.flac")).unwrap(),
        ));
    }
    for (name, bytes) in files {
        let r = s.import_bytes(name, bytes, &opts).unwrap();
        assert_eq!(r.outcome, "imported", "{name}: {:?}", r.errors);
        items.insert(name, r.item_ids[0]);
    }
    Fx { dir, s, items }
}

fn class<'a>(classes: &'a [LabelClass], name: &str) -> &'a LabelClass {
    classes
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no class '{name}'"))
}

/// The boxes on an item, as `[x, y, w, h]`, sorted.
fn boxes(s: &mut Session, item: i64) -> Vec<[f64; 4]> {
    let mut out: Vec<[f64; 4]> = s
        .annotations(item)
        .unwrap()
        .into_iter()
        .filter_map(|a| match a.geometry {
            Geometry::BBox(b) => Some([b.x, b.y, b.w, b.h]),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

/// Exports every item in `format` into a new folder and returns it.
fn export(f: &mut Fx, format: &str) -> PathBuf {
    let out = f.dir.path().join(format!("out-{format}"));
    let options = ExportOptions {
        format: format.into(),
        all_statuses: true,
        ..ExportOptions::default()
    };
    f.s.export(&options, &out, &mut |_| true).unwrap();
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every `bbox` of a COCO file, by file name, sorted.
fn coco_boxes(coco: &Value) -> BTreeMap<String, Vec<Vec<f64>>> {
    let names: BTreeMap<String, String> = coco["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let name = i
                .get("original_name")
                .unwrap_or(&i["file_name"])
                .as_str()
                .unwrap();
            (
                i["id"].to_string(),
                name.rsplit('/').next().unwrap().to_string(),
            )
        })
        .collect();
    let mut out: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for a in coco["annotations"].as_array().unwrap() {
        let b: Vec<f64> = a["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        out.entry(names[&a["image_id"].to_string()].clone())
            .or_default()
            .push(b);
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    out
}

fn same_boxes(got: &BTreeMap<String, Vec<Vec<f64>>>, want: &BTreeMap<String, Vec<Vec<f64>>>) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, w) in want {
        let g = &got[k];
        assert!(
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| close(a, b)),
            "{k}: exported {g:?}, file has {w:?}"
        );
    }
}

fn file_input(rel: &str) -> LabelInput {
    read_input(&fixture(rel)).unwrap()
}

/// The schema.change audit rows' details.
fn schema_changes(s: &mut Session) -> Vec<Value> {
    s.audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "schema.change")
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect()
}

/// A CVAT COCO 1.0 export (`attributes` on every annotation, an
/// `iscrowd: 1` RLE mask) into a fresh project: the three categories are
/// adopted with `occluded` as a yes/no attribute, every annotation comes
/// in (the mask as its box, with a note), and a COCO export gives the
/// file's boxes back.
#[test]
fn cvat_coco_imports_with_create_classes_and_exports_the_same_boxes() {
    let mut f = project(false);
    let input = file_input("prelabels/cvat_coco.json");
    // Today's failure: without the classes, every record is refused.
    let without =
        f.s.import_prelabels_from(&input, "coco", "cvat", false)
            .unwrap();
    assert_eq!(without.report.created, 0);
    assert_eq!(without.report.errors.len(), 4);
    assert!(
        without.report.errors[0].message.contains("no class named"),
        "{:?}",
        without.report.errors
    );

    let done =
        f.s.import_prelabels_from(&input, "coco", "cvat", true)
            .unwrap();
    assert_eq!(done.adopted.added, vec!["coin", "helmet", "crowd"]);
    assert!(done.adopted.schema_version.is_some());
    assert_eq!(done.report.created, 4, "{:?}", done.report.errors);
    assert!(done.report.errors.is_empty(), "{:?}", done.report.errors);
    assert_eq!(done.notes.len(), 1);
    assert_eq!(done.notes[0].record, 4);
    assert!(
        done.notes[0]
            .message
            .contains("RLE mask imported as its bounding box")
    );

    let classes = f.s.classes().unwrap();
    let coin = class(&classes, "coin");
    assert_eq!(coin.tools, vec![Tool::Polygon, Tool::BBox]);
    assert_eq!(coin.attributes.len(), 1);
    assert_eq!(coin.attributes[0].name, "occluded");
    assert_eq!(coin.attributes[0].kind, AttributeKind::Bool);
    // Distinct colours; the default schema's nine hotkeys are all taken.
    let colours: std::collections::BTreeSet<&str> =
        classes.iter().map(|c| c.colour.as_str()).collect();
    assert_eq!(colours.len(), classes.len());
    assert_eq!(coin.hotkey, None);
    // `rotation: 0.0` is CVAT's shape rotation, not an attribute.
    let a = f.s.annotations(f.items["astronaut.jpg"]).unwrap();
    let polygon = a
        .iter()
        .find(|a| a.geometry.tool() == Tool::Polygon)
        .unwrap();
    assert_eq!(
        polygon.attributes,
        BTreeMap::from([("occluded".to_string(), json!(true))])
    );
    // One audited schema version naming what was adopted.
    let changes = schema_changes(&mut f.s);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        changes[0]["adopted"]["added"],
        json!(["coin", "helmet", "crowd"])
    );

    // Again: nothing new to adopt, nothing imported twice.
    let again =
        f.s.import_prelabels_from(&input, "coco", "cvat", true)
            .unwrap();
    assert_eq!(again.adopted.schema_version, None);
    assert_eq!(
        (again.report.created, again.report.already_imported),
        (0, 4)
    );

    let out = export(&mut f, "coco");
    let exported = coco_boxes(&read_json(&out.join("annotations.json")));
    let original = coco_boxes(&read_json(&fixture("prelabels/cvat_coco.json")));
    same_boxes(&exported, &original);
}

/// Without `--create-classes`, a CVAT COCO file whose classes exist (but
/// do not define `occluded`) imports every box with the attribute kept,
/// and the report warns once per class and attribute.
#[test]
fn cvat_coco_into_existing_classes_keeps_occluded_on_every_box() {
    let mut f = project(false);
    let schema = f.s.schema().unwrap();
    let mut classes = schema.classes.clone();
    for (n, name) in ["coin", "helmet", "crowd"].into_iter().enumerate() {
        classes.push(LabelClass {
            id: 0,
            name: name.into(),
            colour: format!("#00000{n}"),
            hotkey: None,
            tools: vec![Tool::BBox, Tool::Polygon],
            attributes: vec![],
            skeleton: None,
        });
    }
    f.s.update_schema(classes, schema.multi_label_tags, false)
        .unwrap();
    let done =
        f.s.import_prelabels_from(
            &file_input("prelabels/cvat_coco.json"),
            "coco",
            "cvat",
            false,
        )
        .unwrap();
    // Before, `occluded` was refused ("class 'coin' has no attribute
    // 'occluded'") and nothing imported.
    assert_eq!(done.report.created, 4, "{:?}", done.report.errors);
    assert!(
        done.report
            .warnings
            .iter()
            .any(|w| w.contains("'coin'") && w.contains("'occluded'")),
        "{:?}",
        done.report.warnings
    );
    for item in f.items.values() {
        for a in f.s.annotations(*item).unwrap() {
            assert!(a.attributes.contains_key("occluded"), "{a:?}");
        }
    }
}

/// CVAT for images 1.1 XML: the task's labels with their attributes
/// (select → choice, checkbox → yes/no, text) and types, boxes, a polygon,
/// a polyline and points; the boxes come back out of a COCO export.
#[test]
fn cvat_xml_imports_with_create_classes() {
    let mut f = project(false);
    let done =
        f.s.import_prelabels_from(
            &file_input("prelabels/cvat_images.xml"),
            "cvat",
            "cvat",
            true,
        )
        .unwrap();
    assert_eq!(done.adopted.added, vec!["car", "road", "lane", "marker"]);
    assert!(done.report.errors.is_empty(), "{:?}", done.report.errors);
    // 2 boxes, a polygon, a polyline, 2 points.
    assert_eq!(done.report.created, 6);
    let classes = f.s.classes().unwrap();
    let car = class(&classes, "car");
    assert_eq!(car.colour, "#66ff66");
    assert_eq!(car.tools, vec![Tool::BBox]);
    let kinds: Vec<(&str, &AttributeKind)> = car
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), &a.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "model",
                &AttributeKind::Enum {
                    options: vec!["sedan".into(), "suv".into(), "van".into()]
                }
            ),
            ("parked", &AttributeKind::Bool),
            ("occluded", &AttributeKind::Bool),
        ]
    );
    assert_eq!(class(&classes, "lane").tools, vec![Tool::Polyline]);
    assert_eq!(
        class(&classes, "marker").attributes[0].kind,
        AttributeKind::Text
    );
    let a = f.s.annotations(f.items["coffee.jpg"]).unwrap();
    assert_eq!(
        a[0].attributes,
        BTreeMap::from([
            ("model".to_string(), json!("van")),
            ("occluded".to_string(), json!(true)),
            ("parked".to_string(), json!(false)),
        ])
    );
    assert_eq!(
        boxes(&mut f.s, f.items["astronaut.jpg"]),
        vec![[100.5, 200.0, 79.5, 60.0]]
    );
    let out = export(&mut f, "coco");
    let exported = coco_boxes(&read_json(&out.join("annotations.json")));
    // The polygon is exported with its bounds as bbox.
    assert!(close(
        &exported["coffee.jpg"][0],
        &[300.0, 100.0, 120.0, 80.0]
    ));
    assert!(
        exported["astronaut.jpg"]
            .iter()
            .any(|b| close(b, &[100.5, 200.0, 79.5, 60.0]))
    );
}

/// Label Studio JSON with its labelling config: rectangles (one with a
/// per-region text), a polygon, a keypoint, a choice, a text span and an
/// audio segment with its transcript; the config's classes come first, in
/// its order, with their colours; a Label Studio export gives the same
/// rectangles back in percent.
#[test]
fn label_studio_imports_with_its_config_and_exports_the_same_rectangles() {
    let mut f = project(true);
    let config = read_file(&fixture("prelabels/ls_config.xml"), 1 << 20).unwrap();
    let declared = labelstudio::config_classes(&config).unwrap();
    let done =
        f.s.import_prelabels_declaring(
            &file_input("prelabels/label_studio.json"),
            "labelstudio",
            "ls",
            true,
            &declared,
        )
        .unwrap();
    assert!(done.report.errors.is_empty(), "{:?}", done.report.errors);
    assert_eq!(done.report.created, 7);
    // `person` is a default class: extended, not added.
    assert_eq!(
        done.adopted.added,
        vec![
            "helmet", "mug", "flag", "eye", "space", "earth", "agent", "caller"
        ]
    );
    let classes = f.s.classes().unwrap();
    let helmet = class(&classes, "helmet");
    assert_eq!(helmet.colour, "#ff8800");
    assert_eq!(helmet.attributes[0].name, "name_tag");
    assert_eq!(class(&classes, "agent").tools, vec![Tool::Segment]);
    assert_eq!(class(&classes, "space").tools, vec![Tool::Tag]);
    let a = f.s.annotations(f.items["astronaut.jpg"]).unwrap();
    let rect = a.iter().find(|a| a.geometry.tool() == Tool::BBox).unwrap();
    assert_eq!(rect.attributes["name_tag"], json!("Eileen"));
    assert!(matches!(
        rect.geometry,
        Geometry::BBox(BBox { x, y, w, h }) if close(&[x, y, w, h], &[150.0, 20.0, 120.0, 100.0])
    ));
    let audio = f.s.annotations(f.items["call.flac"]).unwrap();
    assert!(matches!(
        &audio[0].geometry,
        Geometry::Segment { transcript, .. } if transcript == "hello there"
    ));
    let text = f.s.annotations(f.items["note.txt"]).unwrap();
    assert!(matches!(
        text[0].geometry,
        Geometry::Span {
            start: 5,
            end: 17,
            ..
        }
    ));

    // Rectangles back out in percent of the same size.
    let out = export(&mut f, "labelstudio");
    let tasks = read_json(&out.join("labelstudio.json"));
    let rects: Vec<Vec<f64>> = tasks
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            let mut r: Vec<Value> = Vec::new();
            for key in ["annotations", "predictions"] {
                for group in t[key].as_array().into_iter().flatten() {
                    r.extend(group["result"].as_array().unwrap().iter().cloned());
                }
            }
            r
        })
        .filter(|r| r["type"] == "rectanglelabels")
        .map(|r| {
            ["x", "y", "width", "height"]
                .iter()
                .map(|k| r["value"][k].as_f64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rects.len(), 2);
    assert!(
        rects
            .iter()
            .any(|r| close(r, &[29.296875, 3.90625, 23.4375, 19.53125]))
    );
    assert!(rects.iter().any(|r| close(r, &[50.0, 25.0, 10.0, 20.0])));
}

/// A YOLO dataset folder (`data.yaml` with `names` as a map, detection and
/// segmentation lines): classes in `names` order, boxes and a polygon in
/// pixels, and a YOLO export gives the same normalised numbers back.
#[test]
fn yolo_folder_imports_with_create_classes_and_exports_the_same_boxes() {
    let mut f = project(false);
    let done =
        f.s.import_prelabels_from(&file_input("prelabels/yolo"), "yolo", "yolo", true)
            .unwrap();
    assert_eq!(done.adopted.added, vec!["helmet", "mug"]);
    assert!(done.report.errors.is_empty(), "{:?}", done.report.errors);
    assert_eq!(done.report.created, 3);
    let classes = f.s.classes().unwrap();
    assert_eq!(class(&classes, "mug").tools, vec![Tool::Polygon]);
    let got = boxes(&mut f.s, f.items["astronaut.jpg"]);
    assert_eq!(got.len(), 1);
    assert!(close(&got[0], &[150.0, 20.0, 120.0, 100.0]), "{got:?}");

    let out = export(&mut f, "yolo-seg");
    let read_lines = |p: PathBuf| -> Vec<Vec<f64>> {
        let mut v: Vec<Vec<f64>> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').skip(1).map(|n| n.parse().unwrap()).collect())
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    };
    // The polygon comes back as written.
    let coffee = read_lines(out.join("labels/coffee.txt"));
    let want = read_lines(fixture("prelabels/yolo/labels/train/coffee.txt"));
    assert!(
        coffee.iter().any(|l| close(l, &want[1])),
        "{coffee:?} vs {want:?}"
    );
    let out = export(&mut f, "yolo");
    for stem in ["astronaut", "coffee"] {
        let got = read_lines(out.join(format!("labels/{stem}.txt")));
        let want = read_lines(fixture(&format!("prelabels/yolo/labels/train/{stem}.txt")));
        // Boxes exactly; the polygon as its bounding box.
        for w in want.iter().filter(|w| w.len() == 4) {
            assert!(got.iter().any(|g| close(g, w)), "{stem}: {got:?} vs {w:?}");
        }
    }
    let yaml = std::fs::read_to_string(out.join("data.yaml")).unwrap();
    assert!(
        yaml.contains("\"helmet\"") && yaml.contains("\"mug\""),
        "{yaml}"
    );
}

/// A Pascal VOC folder: object names adopted (an existing class extended
/// with VOC's `truncated`/`difficult` instead of added), boxes by the
/// devkit's 1-based convention, and a VOC export writes the same
/// `bndbox` numbers.
#[test]
fn voc_folder_imports_with_create_classes_and_exports_the_same_boxes() {
    let mut f = project(false);
    let done =
        f.s.import_prelabels_from(&file_input("prelabels/voc"), "voc", "voc", true)
            .unwrap();
    assert_eq!(done.adopted.added, vec!["helmet", "mug"]);
    assert!(
        done.adopted
            .extended
            .contains(&"person: attribute 'truncated'".to_string()),
        "{:?}",
        done.adopted.extended
    );
    assert!(done.report.errors.is_empty(), "{:?}", done.report.errors);
    assert_eq!(done.report.created, 3);
    assert_eq!(
        boxes(&mut f.s, f.items["astronaut.jpg"]),
        vec![[0.0, 0.0, 512.0, 512.0], [150.0, 20.0, 120.0, 100.0]]
    );
    let mug = f.s.annotations(f.items["coffee.jpg"]).unwrap();
    assert_eq!(mug[0].attributes["difficult"], json!(true));
    assert_eq!(mug[0].attributes["pose"], json!("Left"));

    let out = export(&mut f, "voc");
    let bndboxes = |p: PathBuf| -> Vec<String> {
        let xml = std::fs::read_to_string(p).unwrap();
        let mut v: Vec<String> = xml
            .split("<bndbox>")
            .skip(1)
            .map(|b| {
                b.split("</bndbox>")
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect::<String>()
            })
            .collect();
        v.sort();
        v
    };
    for stem in ["astronaut", "coffee"] {
        assert_eq!(
            bndboxes(out.join(format!("Annotations/{stem}.xml"))),
            bndboxes(fixture(&format!("prelabels/voc/Annotations/{stem}.xml"))),
            "{stem}"
        );
    }
}

/// The command line: a dataset folder as `--prelabels`, `--create-classes`
/// and the classes adopted in `--json`.
#[test]
fn the_cli_imports_a_yolo_folder_with_create_classes() {
    let env = common::Env::new();
    env.setup();
    let media = env.root().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::copy(fixture("import/astronaut.jpg"), media.join("astronaut.jpg")).unwrap();
    std::fs::copy(
        fixture("import/coffee_exif_gps.jpg"),
        media.join("coffee.jpg"),
    )
    .unwrap();
    env.import_expect(0, &[media]);
    let yolo = fixture("prelabels/yolo");
    let project = env.project.to_str().unwrap().to_string();
    let out = env.run_ok([
        "import",
        "--project",
        &project,
        "--prelabels",
        yolo.to_str().unwrap(),
        "--format",
        "yolo",
        "--create-classes",
        "--json",
    ]);
    let report = common::parse_json(&out);
    assert_eq!(report["created"], 3, "{report}");
    assert_eq!(report["adopted"]["added"], json!(["helmet", "mug"]));
    // `--help` lists every importer with what it reads.
    let help = common::output_text(&env.run_ok(["import", "--help"]));
    for name in ["jsonl", "coco", "labelstudio", "cvat", "yolo", "voc"] {
        assert!(help.contains(name), "{name} missing from:\n{help}");
    }
    assert!(help.contains("CVAT for images 1.1 XML"), "{help}");
    // A Label Studio config through the command line: its classes are
    // adopted in its order even when the file uses none of them.
    let ls = env.root().join("empty.json");
    std::fs::write(&ls, "[]").unwrap();
    let config = fixture("prelabels/ls_config.xml");
    let out = env.run_ok([
        "import",
        "--project",
        &project,
        "--prelabels",
        ls.to_str().unwrap(),
        "--format",
        "labelstudio",
        "--create-classes",
        "--ls-config",
        config.to_str().unwrap(),
    ]);
    let text = common::output_text(&out);
    assert!(
        text.contains("class(es) added (flag, eye, space, earth, agent, caller)"),
        "{text}"
    );
    // A bad line makes it partial (exit 3), the rest imports.
    let bad = env.root().join("bad");
    std::fs::create_dir_all(bad.join("labels")).unwrap();
    std::fs::write(bad.join("data.yaml"), "names: [helmet]\n").unwrap();
    std::fs::write(
        bad.join("labels/astronaut.txt"),
        "0 0.5 0.5 0.1 0.1\n5 0.5 0.5 0.1 0.1\n",
    )
    .unwrap();
    let out = env.run_expect(
        3,
        [
            "import",
            "--project",
            &project,
            "--prelabels",
            bad.to_str().unwrap(),
            "--format",
            "yolo",
            "--source",
            "other",
        ],
    );
    let text = common::output_text(&out);
    assert!(
        text.contains("labels/astronaut.txt line 2: class 5 is not in data.yaml"),
        "{text}"
    );
}

/// Deterministic damage to each new parser's fixture — every truncation
/// and a sweep of byte changes — never panics, and what does come out
/// names its records.
#[test]
fn damaged_tool_files_are_refused_or_reported_never_a_panic() {
    let items: Vec<sealtag::formats::ItemInfo> =
        [("astronaut.jpg", 1, 512, 512), ("coffee.jpg", 2, 600, 400)]
            .into_iter()
            .map(|(name, id, w, h)| sealtag::formats::ItemInfo {
                id,
                kind: sealtag::model::ItemKind::Image,
                name: name.into(),
                sha256: format!("{id:064}"),
                width: Some(w),
                height: Some(h),
                duration_secs: None,
                char_len: None,
            })
            .collect();
    let mutate = |good: &[u8], each: &mut dyn FnMut(&[u8])| {
        for n in 0..good.len() {
            each(&good[..n]);
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..400 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut m = good.to_vec();
            let at = (state >> 33) as usize % m.len();
            m[at] = [b'<', b'>', b'"', b'&', b'-', b'9', b'.', b';', b',', 0xFF]
                [(state >> 20) as usize % 10];
            each(&m);
        }
    };
    let check = |parsed: Result<sealtag::formats::ParsedLabels, sealtag::formats::FormatError>| {
        match parsed {
            Ok(p) => {
                for e in &p.errors {
                    assert!(!e.message.is_empty());
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    };
    for (format, rel) in [
        ("cvat", "prelabels/cvat_images.xml"),
        ("voc", "prelabels/voc/Annotations/astronaut.xml"),
        ("coco", "prelabels/cvat_coco.json"),
    ] {
        let importer = sealtag::formats::importer(format).unwrap();
        let good = std::fs::read(fixture(rel)).unwrap();
        mutate(&good, &mut |bytes| check(importer.parse(bytes, &items)));
    }
    let yolo = sealtag::formats::importer("yolo").unwrap();
    let yaml = std::fs::read(fixture("prelabels/yolo/data.yaml")).unwrap();
    let labels = std::fs::read(fixture("prelabels/yolo/labels/train/coffee.txt")).unwrap();
    let folder = |yaml: &[u8], labels: &[u8]| LabelInput::Folder {
        files: vec![
            ("data.yaml".into(), yaml.to_vec()),
            ("labels/train/coffee.txt".into(), labels.to_vec()),
        ],
    };
    mutate(&yaml, &mut |b| {
        check(yolo.read(&folder(b, &labels), &ItemIndex::new(&items)))
    });
    mutate(&labels, &mut |b| {
        check(yolo.read(&folder(&yaml, b), &ItemIndex::new(&items)))
    });
    let config = std::fs::read(fixture("prelabels/ls_config.xml")).unwrap();
    mutate(&config, &mut |b| {
        let _ = labelstudio::config_classes(b);
    });
}

/// A COCO keypoints file (CVAT's "COCO Keypoints 1.0" shape): a new
/// keypoint category is adopted with its keypoint names and the skeleton
/// made 0-based; a category named like a schema class whose skeleton
/// differs is reported as a conflict and the schema class left as it is.
#[test]
fn coco_keypoint_categories_bring_their_skeleton() {
    let mut f = project(false);
    let person_before = class(&f.s.classes().unwrap(), "person").clone();
    let done =
        f.s.import_prelabels_from(
            &file_input("prelabels/coco_keypoints.json"),
            "coco",
            "cvat",
            true,
        )
        .unwrap();
    assert_eq!(done.adopted.added, vec!["hand"]);
    assert_eq!(done.adopted.conflicts.len(), 1, "{:?}", done.adopted);
    assert!(
        done.adopted.conflicts[0]
            .starts_with("person: the file's skeleton (nose, left eye, right eye)")
    );
    assert_eq!(done.report.created, 1, "{:?}", done.report.errors);
    let classes = f.s.classes().unwrap();
    let hand = class(&classes, "hand");
    assert_eq!(hand.tools, vec![Tool::Keypoints]);
    let skeleton = hand.skeleton.as_ref().unwrap();
    assert_eq!(skeleton.keypoints, vec!["wrist", "thumb tip", "index tip"]);
    assert_eq!(skeleton.edges, vec![[0, 1], [0, 2]]);
    assert_eq!(hand.attributes[0].name, "occluded");
    let person = class(&classes, "person");
    assert_eq!(person.skeleton, person_before.skeleton);
    let a = f.s.annotations(f.items["astronaut.jpg"]).unwrap();
    assert!(
        matches!(&a[0].geometry, Geometry::Keypoints { points } if points.len() == 3 && !points[2].visible)
    );
}

/// Adopting classes edits the schema: an annotator may neither import
/// pre-labels nor adopt classes, and nothing changes.
#[test]
fn only_an_admin_adopts_classes() {
    let f = project(false);
    let Fx { dir, mut s, .. } = f;
    let ann = UnlockedIdentity::generate("Ann");
    s.add_user(
        &ann.public().to_key_string(),
        sealtag::model::Role::Annotator,
        "Ann",
    )
    .unwrap();
    let version = s.schema().unwrap().version;
    drop(s);
    let mut a = Session::open(&dir.path().join("p.sealtag"), ann, None).unwrap();
    let input = file_input("prelabels/cvat_coco.json");
    assert!(matches!(
        a.import_prelabels_from(&input, "coco", "cvat", true),
        Err(sealtag::controller::CoreError::Denied(_))
    ));
    let found = sealtag::formats::importer("coco")
        .unwrap()
        .read(&input, &ItemIndex::new(&[]))
        .unwrap()
        .classes;
    assert!(matches!(
        a.adopt_classes(&found),
        Err(sealtag::controller::CoreError::Denied(_))
    ));
    assert_eq!(a.schema().unwrap().version, version);
}
