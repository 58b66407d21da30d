//! `sealtag::quality::metrics` against reference values.
//!
//! `tests/fixtures/quality/vectors.json` was written by `make_vectors.py`
//! beside it, from scikit-learn (`cohen_kappa_score`), statsmodels
//! (`fleiss_kappa`), the `krippendorff` package, shapely (GEOS), mir_eval
//! (`segment.detection`), seqeval and jiwer, plus published worked examples
//! (Wikipedia's Cohen and Fleiss examples, Krippendorff 2011) and hand-derived
//! cases. Each vector names its source and package version in `source`,
//! and every failure message repeats it. Python is not needed here: the JSON
//! is checked in.

use sealtag::quality::metrics::{
    self, MetricError, PrF1, Shape, SpanMatch, cer, cohen_kappa, fleiss_kappa, iou_bbox,
    iou_polygon, krippendorff_alpha_interval, krippendorff_alpha_nominal, match_detections,
    segment_boundary_f1, span_f1, wer,
};
use serde_json::Value;

/// The agreement bound with the references.
const TOL: f64 = 1e-9;

fn vectors(section: &str) -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/quality/vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read vectors.json");
    let all: Value = serde_json::from_str(&text).expect("parse vectors.json");
    let list = all[section]
        .as_array()
        .unwrap_or_else(|| panic!("no section {section}"))
        .clone();
    assert!(!list.is_empty(), "section {section} is empty");
    list
}

fn source(v: &Value) -> &str {
    v["source"].as_str().expect("every vector has a source")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> usize {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}")) as usize
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn point_list(v: &Value) -> Vec<[f64; 2]> {
    v.as_array()
        .expect("points")
        .iter()
        .map(|p| [f(&p[0]), f(&p[1])])
        .collect()
}

fn bbox(v: &Value) -> [f64; 4] {
    [f(&v[0]), f(&v[1]), f(&v[2]), f(&v[3])]
}

fn shape(v: &Value) -> Shape {
    if let Some(b) = v.get("bbox") {
        Shape::BBox(bbox(b))
    } else {
        Shape::Polygon(point_list(&v["polygon"]))
    }
}

fn variant(e: &MetricError) -> &'static str {
    match e {
        MetricError::Empty(_) => "Empty",
        MetricError::LengthMismatch { .. } => "LengthMismatch",
        MetricError::UnequalRaters { .. } => "UnequalRaters",
        MetricError::TooFewRaters(_) => "TooFewRaters",
        MetricError::NoPairableUnits => "NoPairableUnits",
        MetricError::NotFinite { .. } => "NotFinite",
        MetricError::Undefined(_) => "Undefined",
    }
}

/// Collects every mismatch of a section so one run shows them all.
#[derive(Default)]
struct Check {
    failures: Vec<String>,
    checked: usize,
}

impl Check {
    fn close(&mut self, v: &Value, what: &str, ours: f64, reference: f64) {
        self.checked += 1;
        // Written so that a NaN on either side fails.
        let within = (ours - reference).abs() <= TOL;
        if !within {
            self.failures.push(format!(
                "{what}: ours {ours:.17} vs reference {reference:.17} (diff {:e}) from {}",
                (ours - reference).abs(),
                source(v)
            ));
        }
    }

    /// A scalar metric result against `expected` or `expected_error`.
    fn result(&mut self, v: &Value, ours: Result<f64, MetricError>) {
        match (ours, v.get("expected_error").and_then(Value::as_str)) {
            (Ok(x), None) => self.close(v, "value", x, f(&v["expected"])),
            (Err(e), Some(want)) => {
                self.checked += 1;
                if variant(&e) != want {
                    self.failures
                        .push(format!("error {e:?}, wanted {want}, from {}", source(v)));
                }
            }
            (got, want) => {
                self.checked += 1;
                self.failures
                    .push(format!("got {got:?}, wanted {want:?}, from {}", source(v)));
            }
        }
    }

    fn counts(&mut self, v: &Value, ours: (usize, usize, usize, f64, f64, f64)) {
        self.checked += 1;
        let want = (u(&v["tp"]), u(&v["fp"]), u(&v["fn"]));
        if (ours.0, ours.1, ours.2) != want {
            self.failures.push(format!(
                "tp/fp/fn {:?} vs {want:?} from {}",
                (ours.0, ours.1, ours.2),
                source(v)
            ));
        }
        self.close(v, "precision", ours.3, f(&v["precision"]));
        self.close(v, "recall", ours.4, f(&v["recall"]));
        self.close(v, "f1", ours.5, f(&v["f1"]));
    }

    fn finish(self, section: &str, at_least: usize) {
        assert!(
            self.failures.is_empty(),
            "{section}: {} failure(s):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.checked >= at_least,
            "{section}: only {} checks ran",
            self.checked
        );
    }
}

fn prf(p: &PrF1) -> (usize, usize, usize, f64, f64, f64) {
    (p.tp, p.fp, p.fn_, p.precision, p.recall, p.f1)
}

#[test]
fn cohen_kappa_matches_sklearn_and_wikipedia() {
    let mut c = Check::default();
    for v in vectors("cohen_kappa") {
        let (a, b) = (strings(&v["a"]), strings(&v["b"]));
        c.result(&v, cohen_kappa(&a, &b));
    }
    c.finish("cohen_kappa", 21);
}

#[test]
fn fleiss_kappa_matches_statsmodels_and_wikipedia() {
    let mut c = Check::default();
    for v in vectors("fleiss_kappa") {
        let counts: Vec<Vec<u32>> = v["counts"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                r.as_array()
                    .expect("row")
                    .iter()
                    .map(|x| u(x) as u32)
                    .collect()
            })
            .collect();
        c.result(&v, fleiss_kappa(&counts));
    }
    c.finish("fleiss_kappa", 21);
}

#[test]
fn krippendorff_nominal_matches_package_and_2011_paper() {
    let mut c = Check::default();
    for v in vectors("krippendorff_nominal") {
        let data: Vec<Vec<Option<String>>> = v["data"]
            .as_array()
            .expect("coders")
            .iter()
            .map(|r| {
                r.as_array()
                    .expect("units")
                    .iter()
                    .map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .collect();
        c.result(&v, krippendorff_alpha_nominal(&data));
    }
    c.finish("krippendorff_nominal", 22);
}

#[test]
fn krippendorff_interval_matches_package_and_2011_paper() {
    let mut c = Check::default();
    for v in vectors("krippendorff_interval") {
        let data: Vec<Vec<Option<f64>>> = v["data"]
            .as_array()
            .expect("coders")
            .iter()
            .map(|r| {
                r.as_array()
                    .expect("units")
                    .iter()
                    .map(Value::as_f64)
                    .collect()
            })
            .collect();
        c.result(&v, krippendorff_alpha_interval(&data));
    }
    c.finish("krippendorff_interval", 21);
}

#[test]
fn bbox_iou_matches_hand_values_and_shapely() {
    let mut c = Check::default();
    for v in vectors("iou_bbox") {
        let (a, b) = (bbox(&v["a"]), bbox(&v["b"]));
        c.close(&v, "iou", iou_bbox(a, b), f(&v["expected"]));
        // IoU is symmetric, and a box is the same region as its rectangle.
        c.close(&v, "iou swapped", iou_bbox(b, a), f(&v["expected"]));
        let as_poly = Shape::BBox(a).iou(&Shape::Polygon(rect(b)));
        c.close(&v, "box vs polygon", as_poly, f(&v["expected"]));
    }
    c.finish("iou_bbox", 20);
}

/// The four corners of an `[x, y, w, h]` box.
fn rect([x, y, w, h]: [f64; 4]) -> Vec<[f64; 2]> {
    vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
}

#[test]
fn polygon_iou_matches_hand_values_and_shapely() {
    let mut c = Check::default();
    for v in vectors("iou_polygon") {
        let (a, b) = (point_list(&v["a"]), point_list(&v["b"]));
        c.close(&v, "iou", iou_polygon(&a, &b), f(&v["expected"]));
        c.close(&v, "iou swapped", iou_polygon(&b, &a), f(&v["expected"]));
    }
    c.finish("iou_polygon", 30);
}

#[test]
fn detection_matching_matches_hand_derived_cases() {
    let mut c = Check::default();
    for v in vectors("match_detections") {
        let side = |k: &str| -> Vec<(String, Shape)> {
            v[k].as_array()
                .expect("detections")
                .iter()
                .map(|d| (d[0].as_str().expect("class").to_owned(), shape(&d[1])))
                .collect()
        };
        let d = match_detections(&side("pred"), &side("gold"), f(&v["threshold"]));
        c.counts(&v, (d.tp, d.fp, d.fn_, d.precision, d.recall, d.f1));
        c.checked += 1;
        if d.matched_ious.len() != d.tp {
            c.failures.push(format!(
                "{} matched IoUs for {} TPs, from {}",
                d.matched_ious.len(),
                d.tp,
                source(&v)
            ));
        }
    }
    c.finish("match_detections", 10);
}

#[test]
fn span_f1_matches_seqeval_and_hand_derived_cases() {
    let mut c = Check::default();
    for v in vectors("span_f1") {
        let side = |k: &str| -> Vec<(usize, usize, String)> {
            v[k].as_array()
                .expect("spans")
                .iter()
                .map(|s| (u(&s[0]), u(&s[1]), s[2].as_str().expect("label").to_owned()))
                .collect()
        };
        let mode = match v["mode"].as_str() {
            Some("exact") => SpanMatch::Exact,
            Some("overlap") => SpanMatch::Overlap,
            other => panic!("mode {other:?} in {}", source(&v)),
        };
        c.counts(&v, prf(&span_f1(&side("pred"), &side("gold"), mode)));
    }
    c.finish("span_f1", 15);
}

#[test]
fn segment_boundary_f1_matches_mir_eval() {
    let mut c = Check::default();
    for v in vectors("segment_boundary") {
        let side = |k: &str| -> Vec<(f64, f64)> {
            v[k].as_array()
                .expect("segments")
                .iter()
                .map(|s| (f(&s[0]), f(&s[1])))
                .collect()
        };
        let r = segment_boundary_f1(&side("reference"), &side("estimate"), f(&v["tolerance"]));
        c.counts(&v, prf(&r));
    }
    c.finish("segment_boundary", 20);
}

#[test]
fn wer_matches_jiwer() {
    let mut c = Check::default();
    for v in vectors("wer") {
        let (r, h) = (
            v["reference"].as_str().expect("ref"),
            v["hypothesis"].as_str().expect("hyp"),
        );
        c.result(&v, wer(r, h));
    }
    c.finish("wer", 25);
}

#[test]
fn cer_matches_jiwer() {
    let mut c = Check::default();
    for v in vectors("cer") {
        let (r, h) = (
            v["reference"].as_str().expect("ref"),
            v["hypothesis"].as_str().expect("hyp"),
        );
        c.result(&v, cer(r, h));
    }
    c.finish("cer", 25);
}

#[test]
fn micro_average_by_adding_counts() {
    // Pooling two items: counts add, scores are recomputed from the sums.
    let a = metrics::span_f1(&[(0, 2, "X")], &[(0, 2, "X")], SpanMatch::Exact);
    let b = metrics::span_f1(&[(0, 2, "X")], &[(5, 6, "X")], SpanMatch::Exact);
    let pooled = PrF1::from_counts(a.tp + b.tp, a.fp + b.fp, a.fn_ + b.fn_);
    assert_eq!(
        (pooled.precision, pooled.recall, pooled.f1),
        (0.5, 0.5, 0.5)
    );
}
