//! Image dataset formats (COCO, Pascal VOC, YOLO, Label Studio): exports
//! checked against the formats' specs with values worked out by hand, round
//! trips through the importers, Unicode and escaping, malformed input, and a
//! 100 000-annotation COCO export that must stream.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Write};

use sealtag::formats::{
    self, ExportItem, ExportLabel, FileSink, FormatError, ItemInfo, ItemSource, MemorySink,
    ParsedLabels,
};
use sealtag::model::{BBox, Geometry, ItemKind, Keypoint, LabelClass, Schema, Skeleton, Tool};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// A per-thread allocation counter, to show the COCO export streams.
// Per thread because the test harness runs other tests in parallel.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

// ---------------------------------------------------------------------------
// Fixtures.

const CAR: i64 = 11;
const SIGN: i64 = 12;
const PERSON: i64 = 13;
const CAFE: i64 = 14;
const NIHON: i64 = 15;
const INDOOR: i64 = 16;
const SPEAKER: i64 = 17;
const PER: i64 = 18;
const WORKS_FOR: i64 = 19;
const SIGN_NAME: &str = "sign <stop> & \"go\"";

fn class(id: i64, name: &str) -> LabelClass {
    LabelClass {
        id,
        name: name.into(),
        colour: "#336699".into(),
        hotkey: None,
        tools: Tool::ALL.to_vec(),
        attributes: vec![],
        skeleton: None,
    }
}

fn schema() -> Schema {
    let mut person = class(PERSON, "person");
    person.skeleton = Some(Skeleton {
        keypoints: vec!["nose".into(), "left_eye".into(), "right_eye".into()],
        edges: vec![[0, 1], [0, 2]],
    });
    Schema {
        version: 2,
        classes: vec![
            class(CAR, "car"),
            class(SIGN, SIGN_NAME),
            person,
            class(CAFE, "café"),
            class(NIHON, "日本"),
            class(INDOOR, "indoor"),
            class(SPEAKER, "speaker"),
            class(PER, "PER"),
            class(WORKS_FOR, "works_for"),
        ],
        multi_label_tags: true,
        overlapping_spans: false,
        overlapping_segments: true,
    }
}

fn class_name(id: i64) -> String {
    schema()
        .classes
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.name)
        .unwrap()
}

fn label(id: i64, class_id: i64, geometry: Geometry) -> ExportLabel {
    ExportLabel {
        id,
        class_id,
        class: class_name(class_id),
        geometry,
        attributes: BTreeMap::new(),
        created_by: "f00d".into(),
        source: None,
        score: None,
    }
}

fn bbox(x: f64, y: f64, w: f64, h: f64) -> Geometry {
    Geometry::BBox(BBox { x, y, w, h })
}

fn poly(points: &[[f64; 2]]) -> Geometry {
    Geometry::Polygon {
        points: points.to_vec(),
    }
}

fn image(id: i64, media_path: &str, w: u32, h: u32, labels: Vec<ExportLabel>) -> ExportItem {
    ExportItem {
        id,
        kind: ItemKind::Image,
        name: media_path.rsplit('/').next().unwrap().to_string(),
        format: "jpeg".into(),
        sha256: format!("{id:064x}"),
        width: Some(w),
        height: Some(h),
        duration_secs: None,
        char_len: None,
        status: "approved".into(),
        media_path: media_path.into(),
        text: None,
        labels,
    }
}

fn info(item: &ExportItem) -> ItemInfo {
    ItemInfo {
        id: item.id,
        kind: item.kind,
        name: item.name.clone(),
        sha256: item.sha256.clone(),
        width: item.width,
        height: item.height,
        duration_secs: item.duration_secs,
        char_len: item.char_len,
    }
}

fn export(name: &str, items: &dyn ItemSource) -> (MemorySink, formats::ExportStats) {
    let exporter = formats::exporter(name).unwrap();
    let mut sink = MemorySink::default();
    let stats = exporter.export(&schema(), items, &mut sink).unwrap();
    (sink, stats)
}

fn text_of(sink: &MemorySink, path: &str) -> String {
    String::from_utf8(
        sink.get(path)
            .unwrap_or_else(|| panic!("{path} not written"))
            .to_vec(),
    )
    .unwrap()
}

fn json_of(sink: &MemorySink, path: &str) -> Value {
    serde_json::from_slice(sink.get(path).unwrap()).unwrap()
}

fn parse(importer: &str, input: &[u8], items: &[ItemInfo]) -> ParsedLabels {
    formats::importer(importer)
        .unwrap()
        .parse(input, items)
        .unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Geometries equal within `tol` pixels (seconds, characters).
fn same_geometry(a: &Geometry, b: &Geometry, tol: f64) -> bool {
    match (a, b) {
        (Geometry::BBox(p), Geometry::BBox(q)) => {
            close(p.x, q.x, tol)
                && close(p.y, q.y, tol)
                && close(p.w, q.w, tol)
                && close(p.h, q.h, tol)
        }
        (Geometry::Polygon { points: p }, Geometry::Polygon { points: q }) => {
            p.len() == q.len()
                && p.iter()
                    .zip(q)
                    .all(|(a, b)| close(a[0], b[0], tol) && close(a[1], b[1], tol))
        }
        (Geometry::Point { x, y }, Geometry::Point { x: x2, y: y2 }) => {
            close(*x, *x2, tol) && close(*y, *y2, tol)
        }
        (
            Geometry::Segment {
                start_secs: s1,
                end_secs: e1,
                transcript: t1,
            },
            Geometry::Segment {
                start_secs: s2,
                end_secs: e2,
                transcript: t2,
            },
        ) => close(*s1, *s2, tol) && close(*e1, *e2, tol) && t1 == t2,
        _ => a == b,
    }
}

/// A small deterministic generator (Knuth's MMIX LCG), no dependencies.
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }
}

/// Random boxes and polygons inside a `w` × `h` image.
fn random_shapes(rng: &mut Lcg, n: usize, w: f64, h: f64) -> Vec<Geometry> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let x = rng.range(0.0, w - 1.0);
                let y = rng.range(0.0, h - 1.0);
                bbox(
                    x,
                    y,
                    rng.range(0.01, w - x).max(0.01),
                    rng.range(0.01, h - y).max(0.01),
                )
            } else {
                let k = 3 + (rng.next_f64() * 6.0) as usize;
                let pts: Vec<[f64; 2]> = (0..k)
                    .map(|_| [rng.range(0.0, w), rng.range(0.0, h)])
                    .collect();
                poly(&pts)
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// COCO.

fn coco_items() -> Vec<ExportItem> {
    let mut boxed = label(101, CAR, bbox(10.25, 20.5, 30.0, 40.75));
    boxed.attributes.insert("occluded".into(), json!(true));
    let mut predicted = label(105, CAFE, bbox(1.0, 2.0, 3.0, 4.0));
    predicted.source = Some("detector-v1".into());
    predicted.score = Some(0.875);
    vec![
        image(
            1,
            "images/000001_street.jpg",
            640,
            480,
            vec![
                boxed,
                // A right triangle with legs 40 and 30: area 600.
                label(
                    102,
                    SIGN,
                    poly(&[[100.0, 100.0], [140.0, 100.0], [140.0, 130.0]]),
                ),
                label(
                    103,
                    PERSON,
                    Geometry::Keypoints {
                        points: vec![
                            Keypoint {
                                x: 200.0,
                                y: 50.0,
                                visible: true,
                            },
                            Keypoint {
                                x: 190.0,
                                y: 40.0,
                                visible: false,
                            },
                            Keypoint {
                                x: 210.0,
                                y: 42.0,
                                visible: true,
                            },
                        ],
                    },
                ),
                label(104, INDOOR, Geometry::Tag),
                predicted,
                label(106, CAR, Geometry::Point { x: 1.0, y: 1.0 }),
                label(
                    107,
                    CAR,
                    Geometry::Polyline {
                        points: vec![[0.0, 0.0], [5.0, 5.0]],
                    },
                ),
            ],
        ),
        image(
            2,
            "images/000002_日本 \"q\" & co.png",
            100,
            50,
            vec![label(108, NIHON, bbox(0.0, 0.0, 100.0, 50.0))],
        ),
    ]
}

#[test]
fn coco_export_matches_the_spec() {
    let items = coco_items();
    let (sink, stats) = export("coco", &items);
    assert_eq!(stats.items, 2);
    // box, polygon, keypoints, tag, prediction, second box.
    assert_eq!(stats.labels, 6);
    assert_eq!(
        stats.skipped.get("points cannot be expressed in COCO"),
        Some(&1)
    );
    assert_eq!(
        stats.skipped.get("polylines cannot be expressed in COCO"),
        Some(&1)
    );
    let v = json_of(&sink, "annotations.json");

    // Categories: id = class id, supercategory "", skeleton 1-based.
    let cats = v["categories"].as_array().unwrap();
    assert_eq!(cats.len(), schema().classes.len());
    assert_eq!(
        cats[0],
        json!({"id": CAR, "name": "car", "supercategory": ""})
    );
    let person = cats.iter().find(|c| c["id"] == json!(PERSON)).unwrap();
    assert_eq!(
        person["keypoints"],
        json!(["nose", "left_eye", "right_eye"])
    );
    assert_eq!(person["skeleton"], json!([[1, 2], [1, 3]]));
    assert_eq!(cats[1]["name"], json!(SIGN_NAME));

    // Images: id = item id, file_name = media path, size, tags.
    assert_eq!(
        v["images"][0],
        json!({"id": 1, "file_name": "images/000001_street.jpg", "width": 640, "height": 480,
               "original_name": "000001_street.jpg", "tags": ["indoor"]})
    );
    assert_eq!(
        v["images"][1]["file_name"],
        json!("images/000002_日本 \"q\" & co.png")
    );

    let anns = v["annotations"].as_array().unwrap();
    assert_eq!(anns.len(), 5);
    // Running ids from 1, image_id = item id, category_id = class id.
    let ids: Vec<i64> = anns.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let b = &anns[0];
    assert_eq!(b["image_id"], json!(1));
    assert_eq!(b["category_id"], json!(CAR));
    assert_eq!(b["bbox"], json!([10.25, 20.5, 30.0, 40.75]));
    assert_eq!(b["area"], json!(30.0 * 40.75));
    assert_eq!(b["iscrowd"], json!(0));
    assert_eq!(b["segmentation"], json!([]));
    assert_eq!(b["attributes"], json!({"occluded": true}));
    assert!(b.get("score").is_none());

    let p = &anns[1];
    assert_eq!(
        p["segmentation"],
        json!([[100.0, 100.0, 140.0, 100.0, 140.0, 130.0]])
    );
    assert_eq!(p["bbox"], json!([100.0, 100.0, 40.0, 30.0]));
    assert_eq!(p["area"], json!(600.0));

    let k = &anns[2];
    assert_eq!(
        k["keypoints"],
        json!([200.0, 50.0, 2, 190.0, 40.0, 1, 210.0, 42.0, 2])
    );
    assert_eq!(k["num_keypoints"], json!(3));
    assert_eq!(k["bbox"], json!([190.0, 40.0, 20.0, 10.0]));
    assert_eq!(k["area"], json!(200.0));

    let pred = &anns[3];
    assert_eq!(pred["score"], json!(0.875));
    assert_eq!(pred["source"], json!("detector-v1"));
    assert_eq!(anns[4]["image_id"], json!(2));
}

#[test]
fn coco_round_trip_is_exact() {
    let mut items = coco_items();
    // Media renamed for the export: found again by the original name.
    items[0].name = "photos/2024/street.jpg".into();
    let (sink, _) = export("coco", &items);
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let parsed = parse("coco", sink.get("annotations.json").unwrap(), &infos);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    // Every exportable label comes back, exactly (points/polylines do not).
    for item in &items {
        for l in &item.labels {
            if matches!(
                l.geometry,
                Geometry::Point { .. } | Geometry::Polyline { .. }
            ) {
                continue;
            }
            let back = parsed
                .labels
                .iter()
                .find(|p| p.item_id == item.id && p.geometry == l.geometry)
                .unwrap_or_else(|| panic!("{:?} did not come back", l.geometry));
            assert_eq!(back.class, l.class);
            assert_eq!(back.attributes, l.attributes);
            assert_eq!(back.score, l.score);
        }
    }
    assert_eq!(parsed.labels.len(), 6);
    // Records are 1-based annotation indices.
    let mut records: Vec<usize> = parsed.labels.iter().map(|l| l.record).collect();
    records.sort();
    assert_eq!(records, vec![1, 1, 2, 3, 4, 5]);
}

#[test]
fn coco_round_trip_of_random_shapes_is_exact() {
    let mut rng = Lcg(0x5eed_c0c0);
    let items: Vec<ExportItem> = (1..=20)
        .map(|id| {
            let (w, h) = (
                rng.range(50.0, 5000.0).round() as u32,
                rng.range(50.0, 5000.0).round() as u32,
            );
            let labels = random_shapes(&mut rng, 20, f64::from(w), f64::from(h))
                .into_iter()
                .enumerate()
                .map(|(n, g)| label(id * 100 + n as i64, CAR, g))
                .collect();
            image(id, &format!("images/{id:06}.jpg"), w, h, labels)
        })
        .collect();
    let (sink, stats) = export("coco", &items);
    assert_eq!(stats.labels, 400);
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let parsed = parse("coco", sink.get("annotations.json").unwrap(), &infos);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let back: Vec<(i64, &Geometry)> = parsed
        .labels
        .iter()
        .map(|l| (l.item_id, &l.geometry))
        .collect();
    let sent: Vec<(i64, &Geometry)> = items
        .iter()
        .flat_map(|i| i.labels.iter().map(move |l| (i.id, &l.geometry)))
        .collect();
    assert_eq!(back.len(), sent.len());
    for (n, (b, s)) in back.iter().zip(&sent).enumerate() {
        assert_eq!(b, s, "label {n}");
    }
}

#[test]
fn coco_import_reports_bad_records_by_number() {
    let items = [
        info(&image(1, "a.jpg", 100, 100, vec![])),
        info(&image(2, "sub/b.jpg", 100, 100, vec![])),
    ];
    let file = json!({
        "images": [
            {"id": 1, "file_name": "x/a.jpg", "width": 100, "height": 100},
            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 100},
            {"id": 3, "file_name": "missing.jpg", "width": 100, "height": 100}
        ],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 2, "image_id": 3, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 3, "image_id": 3, "category_id": 1, "bbox": [1, 2, 3, 4]},
            "not an object",
            {"id": 5, "image_id": 1, "category_id": 99, "bbox": [1, 2, 3, 4]},
            {"id": 6, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]},
            {"id": 7, "image_id": 1, "category_id": 1, "bbox": [90, 2, 20, 4]},
            {"id": 8, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4],
             "segmentation": {"size": [100, 100], "counts": "xyz"}},
            {"id": 9, "image_id": 42, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 10, "image_id": 2, "category_id": 1, "bbox": [5, 5, -1, 4]},
            {"id": 11, "image_id": 2, "category_id": 1, "segmentation": [[1, 1, 2, 2]]},
            {"id": 12, "image_id": 2, "category_id": 1, "keypoints": [1, 2]},
            {"id": 13, "image_id": 2, "category_id": 1, "segmentation": [[1, 1, 50, 1, 50, 50]],
             "bbox": [1, 1, 49, 49], "score": 0.25, "attributes": {"make": "Škoda"}}
        ]
    });
    let p = parse("coco", file.to_string().as_bytes(), &items);
    let got: Vec<(usize, i64)> = p.labels.iter().map(|l| (l.record, l.item_id)).collect();
    // Record 8's RLE mask comes in as its box, with a note saying so.
    assert_eq!(got, vec![(1, 1), (8, 1), (13, 2)]);
    assert_eq!(p.labels[2].score, Some(0.25));
    assert_eq!(p.labels[2].attributes["make"], json!("Škoda"));
    assert_eq!(p.notes.len(), 1);
    assert_eq!(p.notes[0].record, 8);
    assert!(
        p.notes[0]
            .message
            .contains("RLE mask imported as its bounding box"),
        "{:?}",
        p.notes
    );
    let errs: Vec<(usize, &str)> = p
        .errors
        .iter()
        .map(|e| (e.record, e.message.as_str()))
        .collect();
    let records: Vec<usize> = errs.iter().map(|e| e.0).collect();
    assert_eq!(records, vec![2, 4, 5, 6, 7, 9, 10, 11, 12], "{errs:#?}");
    let msg = |r: usize| errs.iter().find(|e| e.0 == r).unwrap().1;
    // The unmatched image is reported once, naming the file and the count.
    assert!(
        msg(2).contains("missing.jpg") && msg(2).contains("2 annotations"),
        "{}",
        msg(2)
    );
    assert!(msg(5).contains("99"), "{}", msg(5));
    assert!(msg(6).contains("bbox"), "{}", msg(6));
    assert!(msg(7).contains("outside the 100×100 image"), "{}", msg(7));
    assert!(msg(9).contains("42"), "{}", msg(9));
    assert!(msg(10).contains("negative"), "{}", msg(10));
    assert!(msg(12).contains("multiple of 3"), "{}", msg(12));
}

#[test]
fn malformed_coco_is_refused_without_panicking() {
    let items = coco_items();
    let (sink, _) = export("coco", &items);
    let good = sink.get("annotations.json").unwrap();
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let importer = formats::importer("coco").unwrap();

    // Truncated: the error names serde_json's line and column.
    let cut = &good[..good.len() / 2];
    match importer.parse(cut, &infos) {
        Err(FormatError::Invalid(m)) => assert!(m.contains("line") && m.contains("column"), "{m}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    for bad in [
        &b"[]"[..],
        b"{\"images\": 3, \"annotations\": []}",
        b"\"x\"",
        b"",
    ] {
        assert!(matches!(
            importer.parse(bad, &infos),
            Err(FormatError::Invalid(_))
        ));
    }
    // Every prefix, and every byte changed to a digit or a quote: an error
    // or a result, never a panic.
    for n in (0..good.len()).step_by(7) {
        let _ = importer.parse(&good[..n], &infos);
        for b in [b'9', b'"', b'-', b'{'] {
            let mut m = good.to_vec();
            m[n] = b;
            let _ = importer.parse(&m, &infos);
        }
    }
}

/// 100 000 annotations made on demand, one item (100 boxes) at a time.
struct Synthetic {
    items: i64,
    per_item: i64,
}

impl ItemSource for Synthetic {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        for id in 1..=self.items {
            let labels = (0..self.per_item)
                .map(|n| {
                    let v = n as f64;
                    label(id * 1000 + n, CAR, bbox(v, v / 2.0, 10.5, 20.25))
                })
                .collect();
            f(&image(
                id,
                &format!("images/{id:06}.jpg"),
                1000,
                1000,
                labels,
            ))?;
        }
        Ok(())
    }
}

/// A sink that only counts: the exporter's output is not kept anywhere.
#[derive(Default)]
struct CountingSink {
    files: usize,
    bytes: u64,
    brackets: i64,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        for b in buf {
            match b {
                b'[' => self.brackets += 1,
                b']' => self.brackets -= 1,
                _ => {}
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FileSink for CountingSink {
    fn file(&mut self, path: &str) -> Result<&mut dyn Write, FormatError> {
        formats::check_path(path)?;
        self.files += 1;
        Ok(self)
    }
}

#[test]
fn coco_export_of_100k_annotations_streams() {
    let source = Synthetic {
        items: 1000,
        per_item: 100,
    };
    let exporter = formats::exporter("coco").unwrap();
    let mut sink = CountingSink::default();
    let schema = schema();
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let stats = exporter.export(&schema, &source, &mut sink).unwrap();
    let peak = PEAK.with(Cell::get) - before;
    assert_eq!(stats.labels, 100_000);
    assert_eq!(sink.files, 1);
    assert_eq!(sink.brackets, 0);
    // The JSON is over 10 MB; while writing it, the exporter held well under
    // 1 MB (one item, its labels, one annotation object and a write buffer).
    assert!(sink.bytes > 10_000_000, "{} bytes", sink.bytes);
    assert!(peak < 1_000_000, "peak allocation {peak} bytes");

    // The same export, kept, parses and has every annotation.
    let mut mem = MemorySink::default();
    exporter.export(&schema, &source, &mut mem).unwrap();
    #[derive(serde::Deserialize)]
    struct Counts {
        images: Vec<serde::de::IgnoredAny>,
        annotations: Vec<serde::de::IgnoredAny>,
    }
    let c: Counts = serde_json::from_slice(mem.get("annotations.json").unwrap()).unwrap();
    assert_eq!((c.images.len(), c.annotations.len()), (1000, 100_000));
}

// ---------------------------------------------------------------------------
// Pascal VOC.

fn voc_item() -> ExportItem {
    let mut car = label(1, CAR, bbox(10.0, 20.0, 30.0, 40.0));
    car.attributes.insert("pose".into(), json!("Left"));
    car.attributes.insert("difficult".into(), json!(true));
    let mut edge = label(4, CAR, bbox(600.0, 400.0, 100.0, 100.0));
    edge.attributes.insert("truncated".into(), json!(true));
    image(
        1,
        "images/000001_café.jpg",
        640,
        480,
        vec![
            car,
            label(2, CAR, Geometry::Point { x: 5.0, y: 5.0 }),
            label(
                3,
                SIGN,
                poly(&[[100.4, 50.6], [200.0, 50.6], [150.0, 120.2]]),
            ),
            edge,
        ],
    )
}

/// The golden file without its explanatory XML comments.
fn strip_comments(mut s: &str) -> String {
    let mut out = String::new();
    while let Some(start) = s.find("<!--") {
        out.push_str(&s[..start]);
        let end = s[start..].find("-->").unwrap() + start + 3;
        s = &s[end..];
    }
    out.push_str(s);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn voc_export_matches_golden_file() {
    let (sink, stats) = export("voc", &[voc_item()]);
    let golden = strip_comments(include_str!("fixtures/formats/image/voc_000001_café.xml"));
    assert_eq!(text_of(&sink, "Annotations/000001_café.xml"), golden);
    assert_eq!(
        text_of(&sink, "ImageSets/Main/default.txt"),
        "000001_café\n"
    );
    assert_eq!(stats.items, 1);
    assert_eq!(stats.labels, 3);
    assert_eq!(
        stats.skipped.get("points cannot be expressed in VOC"),
        Some(&1)
    );
    assert_eq!(
        stats.skipped.get("polygon written as its bounding box"),
        Some(&1)
    );
}

#[test]
fn voc_escapes_names_and_keeps_unicode() {
    let item = image(
        7,
        "images/R&D <1> 'x'.jpg",
        10,
        10,
        vec![
            label(1, NIHON, bbox(0.0, 0.0, 10.0, 10.0)),
            label(2, SIGN, bbox(1.0, 1.0, 2.0, 2.0)),
        ],
    );
    let (sink, _) = export("voc", &[item]);
    // The stem keeps the name (`<` `>` are not safe in file names).
    let xml = text_of(&sink, "Annotations/R&D _1_ 'x'.xml");
    assert!(
        xml.contains("<filename>R&amp;D &lt;1&gt; &apos;x&apos;.jpg</filename>"),
        "{xml}"
    );
    assert!(xml.contains("<name>日本</name>"), "{xml}");
    assert!(
        xml.contains("<name>sign &lt;stop&gt; &amp; &quot;go&quot;</name>"),
        "{xml}"
    );
    // No raw markup characters inside any element's text.
    for line in xml.lines() {
        let inner = line
            .trim()
            .trim_start_matches(|c| c != '>')
            .trim_end_matches(|c| c != '<');
        let inner = inner.trim_start_matches('>').trim_end_matches('<');
        assert!(!inner.contains(['<', '>', '"', '\'']), "{line}");
    }
}

// ---------------------------------------------------------------------------
// YOLO.

fn yolo_item() -> ExportItem {
    image(
        3,
        "images/000003_日本.png",
        200,
        100,
        vec![
            label(1, CAFE, bbox(10.0, 20.0, 50.0, 30.0)),
            label(2, NIHON, poly(&[[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]])),
            label(3, CAR, Geometry::Tag),
        ],
    )
}

const DATA_YAML: &str = "# Written by Sealtag (NAME).
path: .
train: images
val: images
nc: 9
names:
  - \"car\"
  - \"sign <stop> & \\\"go\\\"\"
  - \"person\"
  - \"café\"
  - \"日本\"
  - \"indoor\"
  - \"speaker\"
  - \"PER\"
  - \"works_for\"
";

#[test]
fn yolo_detection_lines_are_normalised_centres() {
    let empty = image(4, "images/000004_empty.png", 10, 10, vec![]);
    let (sink, stats) = export("yolo", &vec![yolo_item(), empty]);
    // café is class 3 (its position in the schema). Box 10,20 50×30 in a
    // 200×100 image: centre (35, 35) → 35/200 = 0.175, 35/100 = 0.35;
    // size 50/200 = 0.25, 30/100 = 0.3.
    // 日本 is class 4; the polygon's bounds 0,0 100×50: centre (50, 25) →
    // 0.25, 0.25; size 0.5, 0.5.
    assert_eq!(
        text_of(&sink, "labels/000003_日本.txt"),
        "3 0.175 0.35 0.25 0.3\n4 0.25 0.25 0.5 0.5\n"
    );
    // Background images get an empty label file.
    assert_eq!(text_of(&sink, "labels/000004_empty.txt"), "");
    assert_eq!(
        text_of(&sink, "data.yaml"),
        DATA_YAML.replace("NAME", "yolo")
    );
    assert_eq!(
        text_of(&sink, "images.txt"),
        "images/000003_日本.png\nimages/000004_empty.png\n"
    );
    assert_eq!(stats.labels, 2);
    assert_eq!(
        stats.skipped.get("tags cannot be expressed in YOLO"),
        Some(&1)
    );
    assert_eq!(
        stats.skipped.get("polygon written as its bounding box"),
        Some(&1)
    );
}

#[test]
fn yolo_seg_lines_are_normalised_polygons() {
    let (sink, stats) = export("yolo-seg", &[yolo_item()]);
    // Box corners (10,20) (60,20) (60,50) (10,50) → x/200, y/100.
    assert_eq!(
        text_of(&sink, "labels/000003_日本.txt"),
        "3 0.05 0.2 0.3 0.2 0.3 0.5 0.05 0.5\n4 0 0 0.5 0 0.5 0.5\n"
    );
    assert_eq!(
        text_of(&sink, "data.yaml"),
        DATA_YAML.replace("NAME", "yolo-seg")
    );
    assert_eq!(stats.labels, 2);
}

#[test]
fn yolo_round_trip_of_random_shapes_is_within_a_micropixel() {
    let mut rng = Lcg(42);
    let (w, h) = (4032u32, 3024u32);
    let shapes = random_shapes(&mut rng, 300, f64::from(w), f64::from(h));
    let labels: Vec<ExportLabel> = shapes
        .iter()
        .enumerate()
        .map(|(n, g)| label(n as i64, CAR, g.clone()))
        .collect();
    let items = vec![image(1, "images/big.jpg", w, h, labels)];
    let (det, _) = export("yolo", &items);
    let (seg, _) = export("yolo-seg", &items);
    let nums = |line: &str| -> Vec<f64> {
        line.split(' ')
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (fw, fh) = (f64::from(w), f64::from(h));
    let det = text_of(&det, "labels/big.txt");
    let seg = text_of(&seg, "labels/big.txt");
    for ((g, d), s) in shapes.iter().zip(det.lines()).zip(seg.lines()) {
        assert!(d.starts_with("0 ") && s.starts_with("0 "));
        let b = g.bounds().unwrap();
        let v = nums(d);
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)), "{d}");
        let back = BBox {
            x: v[0] * fw - v[2] * fw / 2.0,
            y: v[1] * fh - v[3] * fh / 2.0,
            w: v[2] * fw,
            h: v[3] * fh,
        };
        assert!(
            same_geometry(&Geometry::BBox(back), &Geometry::BBox(b), 1e-6),
            "{back:?} vs {b:?}"
        );
        if let Geometry::Polygon { points } = g {
            let v = nums(s);
            let back: Vec<[f64; 2]> = v.chunks(2).map(|p| [p[0] * fw, p[1] * fh]).collect();
            assert!(same_geometry(&poly(&back), &poly(points), 1e-6));
        }
    }
}

// ---------------------------------------------------------------------------
// Label Studio.

fn ls_items() -> Vec<ExportItem> {
    let mut pred = label(6, CAR, bbox(100.0, 50.0, 20.0, 10.0));
    pred.source = Some("yolo-v8".into());
    pred.score = Some(0.5);
    let mut pred2 = label(7, CAR, bbox(0.0, 0.0, 10.0, 10.0));
    pred2.source = Some("yolo-v8".into());
    pred2.score = Some(0.75);
    let img = image(
        1,
        "images/000001_café.jpg",
        200,
        100,
        vec![
            label(1, CAR, bbox(10.0, 20.0, 50.0, 30.0)),
            label(2, SIGN, poly(&[[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]])),
            label(
                3,
                PERSON,
                Geometry::Keypoints {
                    points: vec![
                        Keypoint {
                            x: 20.0,
                            y: 10.0,
                            visible: true,
                        },
                        Keypoint {
                            x: 30.0,
                            y: 10.0,
                            visible: false,
                        },
                    ],
                },
            ),
            label(4, INDOOR, Geometry::Tag),
            label(5, CAFE, Geometry::Point { x: 50.0, y: 25.0 }),
            pred,
            pred2,
        ],
    );
    let audio = ExportItem {
        kind: ItemKind::Audio,
        width: None,
        height: None,
        duration_secs: Some(12.0),
        media_path: "audio/000002_call.flac".into(),
        name: "call.flac".into(),
        labels: vec![
            label(
                21,
                SPEAKER,
                Geometry::Segment {
                    start_secs: 1.25,
                    end_secs: 3.5,
                    transcript: "bonjour, ça va ?".into(),
                },
            ),
            label(22, INDOOR, Geometry::Tag),
        ],
        ..image(2, "x", 1, 1, vec![])
    };
    let text = "Zoë 🙂 works for ACME & Co.";
    let text_item = ExportItem {
        kind: ItemKind::Text,
        width: None,
        height: None,
        char_len: Some(text.chars().count() as u64),
        media_path: "texts/000003.txt".into(),
        name: "notes.jsonl#3".into(),
        text: Some(text.into()),
        labels: vec![
            // "Zoë" (0..3) and "ACME & Co." (16..26, after the emoji).
            label(
                31,
                PER,
                Geometry::Span {
                    start: 0,
                    end: 3,
                    byte_start: 0,
                    byte_end: 4,
                },
            ),
            label(
                32,
                PER,
                Geometry::Span {
                    start: 16,
                    end: 26,
                    byte_start: 19,
                    byte_end: 29,
                },
            ),
            label(33, WORKS_FOR, Geometry::Relation { from: 31, to: 32 }),
        ],
        ..image(3, "x", 1, 1, vec![])
    };
    vec![img, audio, text_item]
}

fn result_by_id<'a>(results: &'a Value, id: &str, kind: &str) -> &'a Value {
    results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(id) && r["type"] == json!(kind))
        .unwrap_or_else(|| panic!("no {kind} result {id} in {results:#}"))
}

#[test]
fn labelstudio_export_uses_percent_and_ls_result_types() {
    let items = ls_items();
    let (sink, stats) = export("labelstudio", &items);
    let v = json_of(&sink, "labelstudio.json");
    let tasks = v.as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(stats.items, 3);
    assert_eq!(
        stats
            .skipped
            .get("occluded keypoint (Label Studio points have no visibility)"),
        Some(&1)
    );

    let t = &tasks[0];
    assert_eq!(t["id"], json!(1));
    assert_eq!(t["data"], json!({"image": "images/000001_café.jpg"}));
    assert_eq!(t["meta"], json!({"name": "000001_café.jpg"}));
    let res = &t["annotations"][0]["result"];
    // Box 10,20 50×30 in 200×100: x 10/200 = 5 %, y 20/100 = 20 %,
    // width 50/200 = 25 %, height 30/100 = 30 %.
    let r = result_by_id(res, "1", "rectanglelabels");
    assert_eq!(r["from_name"], json!("label"));
    assert_eq!(r["to_name"], json!("image"));
    assert_eq!(
        (r["original_width"].as_f64(), r["original_height"].as_f64()),
        (Some(200.0), Some(100.0))
    );
    assert_eq!(r["image_rotation"], json!(0));
    let val = &r["value"];
    for (k, want) in [("x", 5.0), ("y", 20.0), ("width", 25.0), ("height", 30.0)] {
        assert!(close(val[k].as_f64().unwrap(), want, 1e-12), "{k}: {val}");
    }
    assert_eq!(val["rotation"], json!(0));
    assert_eq!(val["rectanglelabels"], json!(["car"]));
    // Polygon (0,0) (100,0) (100,50) → (0,0) (50,0) (50,50) percent.
    let r = result_by_id(res, "2", "polygonlabels");
    assert_eq!(
        r["value"]["points"],
        json!([[0.0, 0.0], [50.0, 0.0], [50.0, 50.0]])
    );
    assert_eq!(r["value"]["polygonlabels"], json!([SIGN_NAME]));
    // Visible keypoint (20,10) → 10 %, 10 %; the occluded one is left out.
    let r = result_by_id(res, "3_0", "keypointlabels");
    assert!(close(r["value"]["x"].as_f64().unwrap(), 10.0, 1e-12));
    assert!(close(r["value"]["y"].as_f64().unwrap(), 10.0, 1e-12));
    assert!(r["value"]["width"].as_f64().unwrap() > 0.0);
    assert!(
        res.as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != json!("3_1"))
    );
    // Point (50,25) → 25 %, 25 %.
    let r = result_by_id(res, "5", "keypointlabels");
    assert_eq!(r["value"]["keypointlabels"], json!(["café"]));
    assert!(close(r["value"]["x"].as_f64().unwrap(), 25.0, 1e-12));
    let r = result_by_id(res, "4", "choices");
    assert_eq!(r["value"]["choices"], json!(["indoor"]));
    // Predictions grouped by source, mean score, each result scored.
    let preds = t["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 1);
    assert_eq!(preds[0]["model_version"], json!("yolo-v8"));
    assert_eq!(preds[0]["score"], json!(0.625));
    assert_eq!(
        result_by_id(&preds[0]["result"], "6", "rectanglelabels")["score"],
        json!(0.5)
    );
    assert_eq!(preds[0]["result"].as_array().unwrap().len(), 2);

    let t = &tasks[1];
    assert_eq!(t["data"], json!({"audio": "audio/000002_call.flac"}));
    let res = &t["annotations"][0]["result"];
    let seg = result_by_id(res, "21", "labels");
    assert_eq!(seg["to_name"], json!("audio"));
    assert_eq!(seg["value"]["start"], json!(1.25));
    assert_eq!(seg["value"]["end"], json!(3.5));
    assert_eq!(seg["value"]["labels"], json!(["speaker"]));
    let tr = result_by_id(res, "21", "textarea");
    assert_eq!(tr["value"]["text"], json!(["bonjour, ça va ?"]));
    assert_eq!(
        result_by_id(res, "22", "choices")["to_name"],
        json!("audio")
    );
    assert!(t.get("predictions").is_none());

    let t = &tasks[2];
    // Text tasks carry the text itself.
    assert_eq!(t["data"], json!({"text": "Zoë 🙂 works for ACME & Co."}));
    let res = &t["annotations"][0]["result"];
    let span = result_by_id(res, "32", "labels");
    // Code-point offsets: the emoji counts as one.
    assert_eq!(
        span["value"],
        json!({"start": 16, "end": 26, "text": "ACME & Co.", "labels": ["PER"]})
    );
    assert_eq!(
        result_by_id(res, "31", "labels")["value"]["text"],
        json!("Zoë")
    );
    let rel = res
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == json!("relation"))
        .unwrap();
    assert_eq!(
        rel,
        &json!({"type": "relation", "from_id": "31", "to_id": "32", "direction": "right",
                "labels": ["works_for"]})
    );
}

#[test]
fn labelstudio_round_trip_is_within_a_nanopixel() {
    let items = ls_items();
    let (sink, _) = export("labelstudio", &items);
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let parsed = parse("labelstudio", sink.get("labelstudio.json").unwrap(), &infos);
    // Only the relation is refused (it links regions of the file).
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!(parsed.errors[0].record, 3);
    assert!(parsed.errors[0].message.contains("relation"));

    let expect: Vec<(i64, &str, Geometry, Option<f64>)> = vec![
        (1, "car", bbox(10.0, 20.0, 50.0, 30.0), None),
        (
            1,
            SIGN_NAME,
            poly(&[[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]),
            None,
        ),
        // A visible keypoint comes back as a point.
        (1, "person", Geometry::Point { x: 20.0, y: 10.0 }, None),
        (1, "café", Geometry::Point { x: 50.0, y: 25.0 }, None),
        (1, "indoor", Geometry::Tag, None),
        (1, "car", bbox(100.0, 50.0, 20.0, 10.0), Some(0.5)),
        (1, "car", bbox(0.0, 0.0, 10.0, 10.0), Some(0.75)),
        (
            2,
            "speaker",
            Geometry::Segment {
                start_secs: 1.25,
                end_secs: 3.5,
                transcript: "bonjour, ça va ?".into(),
            },
            None,
        ),
        (2, "indoor", Geometry::Tag, None),
        (
            3,
            "PER",
            Geometry::Span {
                start: 0,
                end: 3,
                byte_start: 0,
                byte_end: 0,
            },
            None,
        ),
        (
            3,
            "PER",
            Geometry::Span {
                start: 16,
                end: 26,
                byte_start: 0,
                byte_end: 0,
            },
            None,
        ),
    ];
    assert_eq!(parsed.labels.len(), expect.len(), "{:#?}", parsed.labels);
    for (item_id, class, g, score) in &expect {
        assert!(
            parsed.labels.iter().any(|l| l.item_id == *item_id
                && l.class == *class
                && l.score == *score
                && same_geometry(&l.geometry, g, 1e-9)),
            "{class} {g:?} did not come back: {:#?}",
            parsed.labels
        );
    }
}

#[test]
fn labelstudio_round_trip_of_random_shapes() {
    let mut rng = Lcg(7);
    let items: Vec<ExportItem> = (1..=10)
        .map(|id| {
            let (w, h) = (
                rng.range(10.0, 8000.0).round() as u32,
                rng.range(10.0, 8000.0).round() as u32,
            );
            let labels = random_shapes(&mut rng, 30, f64::from(w), f64::from(h))
                .into_iter()
                .enumerate()
                .map(|(n, g)| label(n as i64, CAFE, g))
                .collect();
            image(id, &format!("images/{id}.jpg"), w, h, labels)
        })
        .collect();
    let (sink, _) = export("labelstudio", &items);
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let parsed = parse("labelstudio", sink.get("labelstudio.json").unwrap(), &infos);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let sent: Vec<(i64, &Geometry)> = items
        .iter()
        .flat_map(|i| i.labels.iter().map(move |l| (i.id, &l.geometry)))
        .collect();
    assert_eq!(parsed.labels.len(), sent.len());
    for (l, (id, g)) in parsed.labels.iter().zip(sent) {
        assert_eq!(l.item_id, id);
        assert!(
            same_geometry(&l.geometry, g, 1e-9),
            "{:?} vs {g:?}",
            l.geometry
        );
    }
}

#[test]
fn labelstudio_import_matches_ls_paths_and_reports_bad_tasks() {
    let items = [
        info(&image(1, "photos/café.jpg", 200, 100, vec![])),
        info(&image(2, "set 1/dog.png", 200, 100, vec![])),
    ];
    let rect = |x: f64| {
        json!({"id": "r", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
               "value": {"x": x, "y": 10, "width": 10, "height": 10, "rectanglelabels": ["car"]}})
    };
    let file = json!([
        // Upload prefix (project 4, 8 hex digits), percent-encoded; no
        // original size: the item's is used.
        {"id": 10, "data": {"image": "/data/upload/4/0a1b2c3d-caf%C3%A9.jpg"},
         "annotations": [{"result": [rect(50.0)]}]},
        // Local storage.
        {"id": 11, "data": {"image": "/data/local-files/?d=data%2Fset%201%2Fdog.png"},
         "predictions": [{"model_version": "m", "score": 0.5, "result": [rect(10.0)]}]},
        {"id": 12, "data": {"image": "/data/upload/4/0a1b2c3d-emu.jpg"},
         "annotations": [{"result": [rect(1.0), rect(2.0)]}]},
        42,
        {"id": 14, "data": {"image": "café.jpg"}, "annotations": [{"result": [
            {"id": "a", "type": "rectanglelabels", "original_width": 200, "original_height": 100,
             "value": {"x": 1, "y": 1, "width": 5, "height": 5, "rotation": 30, "rectanglelabels": ["car"]}},
            {"id": "b", "type": "brushlabels", "value": {"rle": [1, 2], "brushlabels": ["car"]}},
            {"id": "c", "type": "rectanglelabels", "original_width": 200, "original_height": 100,
             "value": {"x": 95, "y": 1, "width": 10, "height": 5, "rectanglelabels": ["car"]}},
            {"id": "d", "type": "rectanglelabels", "value": {"x": "1", "rectanglelabels": ["car"]}},
            "junk"
        ]}, {"was_cancelled": true, "result": [rect(3.0)]}]}
    ]);
    let p = parse("labelstudio", file.to_string().as_bytes(), &items);
    assert_eq!(p.labels.len(), 2, "{:#?}", p);
    assert_eq!((p.labels[0].item_id, p.labels[0].record), (1, 1));
    assert_eq!(p.labels[0].geometry, bbox(100.0, 10.0, 20.0, 10.0));
    assert_eq!(p.labels[0].score, None);
    assert_eq!((p.labels[1].item_id, p.labels[1].record), (2, 2));
    // The prediction's score applies to its results.
    assert_eq!(p.labels[1].score, Some(0.5));
    let errs: Vec<(usize, &str)> = p
        .errors
        .iter()
        .map(|e| (e.record, e.message.as_str()))
        .collect();
    assert_eq!(errs.len(), 7, "{errs:#?}");
    assert_eq!(errs[0].0, 3);
    assert!(
        errs[0].1.contains("task 12 (2 results)") && errs[0].1.contains("emu.jpg"),
        "{}",
        errs[0].1
    );
    assert_eq!(errs[1].0, 4);
    assert!(
        errs[2].1.contains("result 1") && errs[2].1.contains("rotated"),
        "{}",
        errs[2].1
    );
    assert!(
        errs[3].1.contains("result 2") && errs[3].1.contains("brushlabels"),
        "{}",
        errs[3].1
    );
    assert!(
        errs[4].1.contains("result 3") && errs[4].1.contains("outside"),
        "{}",
        errs[4].1
    );
    assert!(
        errs[5].1.contains("result 4") && errs[5].1.contains("value.x"),
        "{}",
        errs[5].1
    );
    assert!(errs[6].1.contains("result 5"), "{}", errs[6].1);
    assert!(errs[2..].iter().all(|e| e.0 == 5));
}

#[test]
fn malformed_labelstudio_is_refused_without_panicking() {
    let items = ls_items();
    let (sink, _) = export("labelstudio", &items);
    let good = sink.get("labelstudio.json").unwrap();
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    let importer = formats::importer("labelstudio").unwrap();
    match importer.parse(&good[..good.len() - 10], &infos) {
        Err(FormatError::Invalid(m)) => assert!(m.contains("line") && m.contains("column"), "{m}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(matches!(
        importer.parse(b"{\"a\": 1}", &infos),
        Err(FormatError::Invalid(_))
    ));
    for n in (0..good.len()).step_by(5) {
        let _ = importer.parse(&good[..n], &infos);
        for b in [b'9', b'"', b'-', b'['] {
            let mut m = good.to_vec();
            m[n] = b;
            let _ = importer.parse(&m, &infos);
        }
    }
}

#[test]
fn unicode_and_quoted_names_survive_json() {
    let items = vec![image(
        1,
        "images/日本/café \"1\" & <2>.jpg",
        100,
        100,
        vec![
            label(1, SIGN, bbox(1.0, 1.0, 2.0, 2.0)),
            label(2, CAFE, bbox(1.0, 1.0, 2.0, 2.0)),
            label(3, NIHON, bbox(1.0, 1.0, 2.0, 2.0)),
        ],
    )];
    let infos: Vec<ItemInfo> = items.iter().map(info).collect();
    for (format, file) in [
        ("coco", "annotations.json"),
        ("labelstudio", "labelstudio.json"),
    ] {
        let (sink, _) = export(format, &items);
        let parsed = parse(format, sink.get(file).unwrap(), &infos);
        assert!(parsed.errors.is_empty(), "{format}: {:?}", parsed.errors);
        let classes: Vec<&str> = parsed.labels.iter().map(|l| l.class.as_str()).collect();
        assert_eq!(classes, vec![SIGN_NAME, "café", "日本"], "{format}");
        assert!(parsed.labels.iter().all(|l| l.item_id == 1));
    }
}
