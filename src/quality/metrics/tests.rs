//! Unit tests of `quality::metrics` (kept beside it so the module itself stays readable).

use super::*;

const EPS: f64 = 1e-12;

#[test]
fn cohen_perfect_and_degenerate() {
    assert_eq!(cohen_kappa(&["a", "b", "a"], &["a", "b", "a"]), Ok(1.0));
    assert!(matches!(
        cohen_kappa(&["a", "a"], &["a", "a"]),
        Err(MetricError::Undefined(_))
    ));
    // Each rater constant but different: p_o = p_e = 0, κ = 0 (sklearn: 0.0).
    assert_eq!(cohen_kappa(&["a", "a"], &["b", "b"]), Ok(0.0));
    assert_eq!(
        cohen_kappa::<&str>(&[], &[]),
        Err(MetricError::Empty("items"))
    );
    assert!(matches!(
        cohen_kappa(&["a"], &["a", "b"]),
        Err(MetricError::LengthMismatch {
            left: 1,
            right: 2,
            ..
        })
    ));
}

#[test]
fn cohen_works_on_owned_strings() {
    let a: Vec<String> = ["x", "y", "y", "x"].map(String::from).to_vec();
    let b: Vec<String> = ["x", "y", "x", "x"].map(String::from).to_vec();
    // p_o = 3/4, p_e = (2·3 + 2·1)/16 = 1/2, κ = 0.5.
    assert!((cohen_kappa(&a, &b).unwrap() - 0.5).abs() < EPS);
}

#[test]
fn fleiss_edge_cases() {
    assert_eq!(fleiss_kappa(&[vec![3, 0], vec![0, 3]]), Ok(1.0));
    assert!(matches!(
        fleiss_kappa(&[vec![3, 0], vec![3, 0]]),
        Err(MetricError::Undefined(_))
    ));
    assert_eq!(fleiss_kappa(&[]), Err(MetricError::Empty("subjects")));
    assert_eq!(
        fleiss_kappa(&[vec![], vec![]]),
        Err(MetricError::Empty("categories"))
    );
    assert_eq!(
        fleiss_kappa(&[vec![2, 1], vec![1, 1]]),
        Err(MetricError::UnequalRaters {
            subject: 1,
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        fleiss_kappa(&[vec![1, 0], vec![0, 1]]),
        Err(MetricError::TooFewRaters(1))
    );
    assert!(matches!(
        fleiss_kappa(&[vec![1, 1], vec![2]]),
        Err(MetricError::LengthMismatch { .. })
    ));
}

#[test]
fn krippendorff_edge_cases() {
    let s = |v: &str| Some(v.to_string());
    let perfect = vec![vec![s("a"), s("b"), None], vec![s("a"), s("b"), s("c")]];
    assert!((krippendorff_alpha_nominal(&perfect).unwrap() - 1.0).abs() < EPS);
    let same = vec![vec![s("a"), s("a")], vec![s("a"), s("a")]];
    assert!(matches!(
        krippendorff_alpha_nominal(&same),
        Err(MetricError::Undefined(_))
    ));
    // Two values in the domain but only one among pairable units: the
    // reference returns NaN (0/0), we say why.
    let unpaired = vec![vec![s("a"), s("a"), s("b")], vec![s("a"), s("a"), None]];
    assert!(matches!(
        krippendorff_alpha_nominal(&unpaired),
        Err(MetricError::Undefined(_))
    ));
    let lonely = vec![vec![s("a"), None], vec![None, s("b")]];
    assert_eq!(
        krippendorff_alpha_nominal(&lonely),
        Err(MetricError::NoPairableUnits)
    );
    assert_eq!(
        krippendorff_alpha_nominal::<String>(&[]),
        Err(MetricError::Empty("coders"))
    );
    assert!(matches!(
        krippendorff_alpha_interval(&[vec![Some(1.0)], vec![Some(1.0), Some(2.0)]]),
        Err(MetricError::LengthMismatch { .. })
    ));
    assert_eq!(
        krippendorff_alpha_interval(&[vec![Some(1.0), Some(f64::NAN)], vec![Some(1.0), None]]),
        Err(MetricError::NotFinite { coder: 0, unit: 1 })
    );
    // 0.0 and −0.0 are one value, so this is a perfect agreement.
    let zeros = vec![vec![Some(0.0), Some(1.0)], vec![Some(-0.0), Some(1.0)]];
    assert!((krippendorff_alpha_interval(&zeros).unwrap() - 1.0).abs() < EPS);
}

#[test]
fn bbox_iou_by_hand() {
    assert_eq!(iou_bbox([0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]), 1.0);
    // Overlap 1×1 = 1, union 4 + 4 − 1 = 7.
    assert!((iou_bbox([0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]) - 1.0 / 7.0).abs() < EPS);
    // Touching edges share no area.
    assert_eq!(iou_bbox([0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0]), 0.0);
    assert_eq!(iou_bbox([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]), 0.0);
}

#[test]
fn polygon_iou_degenerate_and_shared_edges() {
    let sq = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    assert!((iou_polygon(&sq, &sq) - 1.0).abs() < EPS);
    // Reversed orientation and a closing vertex change nothing.
    let rev = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]];
    assert!((iou_polygon(&sq, &rev) - 1.0).abs() < EPS);
    // Neighbours sharing an edge: no area in common.
    let right = [[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]];
    assert!(iou_polygon(&sq, &right).abs() < EPS);
    // Left half, sharing three edges' worth of boundary with the square.
    let half = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]];
    assert!((iou_polygon(&sq, &half) - 0.5).abs() < EPS);
    assert_eq!(iou_polygon(&sq, &[[0.0, 0.0], [1.0, 1.0]]), 0.0);
    assert_eq!(iou_polygon(&[], &[]), 0.0);
    assert!(iou_polygon(&sq, &[[0.0, 0.0], [f64::NAN, 1.0], [1.0, 1.0]]).is_nan());
    assert!(iou_polygon(&sq, &[[0.0, 0.0], [f64::INFINITY, 1.0], [1.0, 1.0]]).is_nan());
    let nan_box = Shape::BBox([f64::NAN, 0.0, 1.0, 1.0]);
    let r = match_detections(
        &[("a", nan_box)],
        &[("a", Shape::Polygon(sq.to_vec()))],
        0.5,
    );
    assert_eq!((r.tp, r.fp, r.fn_), (0, 1, 1));
    // A box and the same region as a polygon.
    let b = Shape::BBox([0.0, 0.0, 1.0, 1.0]);
    assert!((b.iou(&Shape::Polygon(sq.to_vec())) - 1.0).abs() < EPS);
}

#[test]
fn polygon_iou_far_from_origin() {
    // Same geometry as the 1/7 box case, shifted by 1e6: the common origin
    // keeps it exact.
    let o = 1.0e6;
    let a = [[o, o], [o + 2.0, o], [o + 2.0, o + 2.0], [o, o + 2.0]];
    let b = [
        [o + 1.0, o + 1.0],
        [o + 3.0, o + 1.0],
        [o + 3.0, o + 3.0],
        [o + 1.0, o + 3.0],
    ];
    assert!((iou_polygon(&a, &b) - 1.0 / 7.0).abs() < EPS);
}

#[test]
fn prf1_conventions() {
    let both_empty = PrF1::from_counts(0, 0, 0);
    assert_eq!(
        (both_empty.precision, both_empty.recall, both_empty.f1),
        (1.0, 1.0, 1.0)
    );
    let nothing_predicted = PrF1::from_counts(0, 0, 3);
    assert_eq!(
        (
            nothing_predicted.precision,
            nothing_predicted.recall,
            nothing_predicted.f1
        ),
        (0.0, 0.0, 0.0)
    );
}

#[test]
fn detections_match_one_to_one_within_class() {
    let sq = |x: f64| Shape::BBox([x, 0.0, 1.0, 1.0]);
    let pred = vec![("car", sq(0.0)), ("car", sq(0.1)), ("dog", sq(5.0))];
    let gold = vec![("car", sq(0.0)), ("cat", sq(5.0))];
    let r = match_detections(&pred, &gold, 0.5);
    assert_eq!((r.tp, r.fp, r.fn_), (1, 2, 1));
    assert_eq!(r.matched_ious, vec![1.0]);
    let none: Vec<(&str, Shape)> = Vec::new();
    assert_eq!(match_detections(&none, &none, 0.5).f1, 1.0);
}

#[test]
fn spans_overlap_uses_maximum_matching() {
    // Greedy in input order would pair p0 with g0 and leave g1 alone; the
    // maximum matching pairs p0–g1 and p1–g0.
    let pred = [(0, 10, "X"), (0, 3, "X")];
    let gold = [(0, 2, "X"), (8, 12, "X")];
    let r = span_f1(&pred, &gold, SpanMatch::Overlap);
    assert_eq!(r.tp, 2);
    assert_eq!(span_f1(&pred, &gold, SpanMatch::Exact).tp, 0);
    // Duplicated spans match once each.
    let dup = [(1, 2, "X"), (1, 2, "X")];
    assert_eq!(span_f1(&dup, &[(1, 2, "X")], SpanMatch::Exact).tp, 1);
    // Empty spans never overlap.
    assert_eq!(
        span_f1(&[(3, 3, "X")], &[(2, 4, "X")], SpanMatch::Overlap).tp,
        0
    );
}

#[test]
fn segment_boundaries_shared_and_tolerance() {
    // Boundaries {0, 1, 2} vs {0.05, 1.2, 2}.
    let r = segment_boundary_f1(&[(0.0, 1.0), (1.0, 2.0)], &[(0.05, 1.2), (1.2, 2.0)], 0.1);
    assert_eq!((r.tp, r.fp, r.fn_), (2, 1, 1));
    assert_eq!(segment_boundary_f1(&[], &[], 0.5).f1, 1.0);
    let r = segment_boundary_f1(&[(0.0, 1.0)], &[(0.0, f64::NAN)], 0.5);
    assert_eq!((r.tp, r.fp, r.fn_), (1, 1, 1));
}

#[test]
fn matching_explores_deep_chains() {
    // Left i is adjacent to rights i − 1 and i, in that order: every new
    // root first walks down the whole chain of earlier matches (depth i)
    // before it finds its own free right vertex.
    let n = 2_000;
    let adj: Vec<Vec<usize>> = (0..n)
        .map(|i| if i == 0 { vec![0] } else { vec![i - 1, i] })
        .collect();
    assert_eq!(max_matching(&adj, n), n);
    // Here one right vertex is shared by three left ones.
    assert_eq!(max_matching(&[vec![0], vec![0], vec![0, 1]], 2), 2);
}

#[test]
fn wer_cer_text_handling() {
    assert_eq!(wer("hello world", "hello world"), Ok(0.0));
    assert_eq!(wer("  hello   world ", "hello world"), Ok(0.0));
    // jiwer keeps a lone tab inside a word.
    assert_eq!(jiwer_words("a\tb c"), vec!["a\tb", "c"]);
    assert_eq!(jiwer_words("a\t\tb"), vec!["a", "b"]);
    assert_eq!(wer("", "a b"), Err(MetricError::Empty("reference words")));
    assert_eq!(wer(" \t ", ""), Err(MetricError::Empty("reference words")));
    assert_eq!(wer("a b", ""), Ok(1.0));
    assert_eq!(cer("", ""), Err(MetricError::Empty("reference characters")));
    assert_eq!(cer("abc", "abd"), Ok(1.0 / 3.0));
    assert_eq!(cer(" a  b ", "a b"), Ok(1.0 / 4.0));
    assert!(py_isspace('\u{1f}') && !py_isspace('x'));
}

#[test]
fn levenshtein_basics() {
    assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
    assert_eq!(levenshtein::<u8>(b"", b"abc"), 3);
    assert_eq!(levenshtein::<u8>(b"abc", b""), 3);
}
