//! Agreement and accuracy metrics for quality control: chance-corrected
//! agreement (Cohen's κ, Fleiss' κ, Krippendorff's α), shape overlap (box and
//! polygon IoU, matched detection precision/recall/F1), span F1, segment
//! boundary F1, and WER/CER for transcripts.
//!
//! Everything here is a pure function over plain values: no database, no I/O,
//! no grouping. The caller decides what "per class", "per annotator pair" or
//! "annotator vs. consensus" means and calls these on the selected slices.
//!
//! Each function follows one published reference, named in its doc comment,
//! and `tests/metrics.rs` checks it against vectors computed by that reference
//! (`tests/fixtures/quality/vectors.json`, written by `make_vectors.py` beside
//! it) to 1e-9. Where a reference returns NaN or raises, we return a
//! [`MetricError`] that says why, so a report can print the reason instead of
//! a NaN.

use std::collections::HashMap;
use std::hash::Hash;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    /// Nothing to compare: no items, subjects, units or categories.
    #[error("no {0} to compare")]
    Empty(&'static str),
    /// Two inputs that must be parallel have different lengths.
    #[error("{what}: {left} vs {right}")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// Fleiss' κ assumes every subject was rated by the same number of raters.
    #[error(
        "subject {subject} has {found} ratings but subject 0 has {expected}; Fleiss' kappa needs the same number of raters for every subject"
    )]
    UnequalRaters {
        subject: usize,
        expected: u64,
        found: u64,
    },
    /// Agreement among fewer than two raters is meaningless.
    #[error("{0} rating(s) per subject: agreement needs at least two")]
    TooFewRaters(u64),
    /// Krippendorff's α only uses units coded by at least two coders.
    #[error("no unit has values from at least two coders, so there are no pairs to compare")]
    NoPairableUnits,
    /// A numeric value was NaN or infinite.
    #[error("value at coder {coder}, unit {unit} is not a finite number")]
    NotFinite { coder: usize, unit: usize },
    /// The chance-corrected coefficient is 0/0. This happens when chance
    /// agreement is already perfect (expected disagreement is 0), i.e. every
    /// rating uses one and the same value: observed agreement is then 1 too,
    /// and "how much better than chance" has no answer. The references return
    /// NaN (scikit-learn, statsmodels) or raise (krippendorff) here.
    #[error("undefined: {0}")]
    Undefined(&'static str),
}

/// Why a chance-corrected coefficient is 0/0, shared by the three of them.
const SINGLE_VALUE: &str = "all ratings use a single value, so expected agreement is 1 \
     (expected disagreement 0) and the coefficient is 0/0";

// ---------------------------------------------------------------------------
// Cohen's kappa
// ---------------------------------------------------------------------------

/// Cohen's κ between two raters who labelled the same items, unweighted.
///
/// κ = (p_o − p_e) / (1 − p_e) with p_o the observed agreement and p_e the
/// agreement expected from each rater's label frequencies (Cohen 1960,
/// "A coefficient of agreement for nominal scales"); the same as
/// scikit-learn's `cohen_kappa_score(a, b)`. The categories are the union of
/// the labels both raters used.
///
/// Computed in exact integer arithmetic as (N·Σ n_kk − Σ r_k c_k) /
/// (N² − Σ r_k c_k) and divided once at the end, so it is as close to the
/// true value as an `f64` allows.
///
/// Errors: [`MetricError::Empty`] for no items, [`MetricError::LengthMismatch`]
/// when `a` and `b` differ in length, [`MetricError::Undefined`] when both
/// raters used one single label for everything (scikit-learn returns NaN).
pub fn cohen_kappa<T: Eq + Hash>(a: &[T], b: &[T]) -> Result<f64, MetricError> {
    if a.len() != b.len() {
        return Err(MetricError::LengthMismatch {
            what: "the two raters labelled different numbers of items",
            left: a.len(),
            right: b.len(),
        });
    }
    if a.is_empty() {
        return Err(MetricError::Empty("items"));
    }
    let mut index: HashMap<&T, usize> = HashMap::new();
    let mut rows: Vec<u64> = Vec::new(); // r_k: how often rater a said k
    let mut cols: Vec<u64> = Vec::new(); // c_k: how often rater b said k
    let mut agree: u64 = 0;
    for (x, y) in a.iter().zip(b) {
        let i = intern(&mut index, x, &mut rows, &mut cols);
        let j = intern(&mut index, y, &mut rows, &mut cols);
        rows[i] += 1;
        cols[j] += 1;
        if i == j {
            agree += 1;
        }
    }
    if index.len() < 2 {
        return Err(MetricError::Undefined(SINGLE_VALUE));
    }
    let n = a.len() as u128;
    let chance: u128 = rows
        .iter()
        .zip(&cols)
        .map(|(&r, &c)| u128::from(r) * u128::from(c))
        .sum();
    // With two or more labels in use, Σ r_k c_k < N², so the denominator is > 0.
    // The numerator is signed: agreement can be below chance.
    let num = (n * u128::from(agree)) as i128 - chance as i128;
    let den = n * n - chance;
    Ok(num as f64 / den as f64)
}

/// Index of `value` among the categories seen so far, adding it if new.
fn intern<'a, T: Eq + Hash>(
    index: &mut HashMap<&'a T, usize>,
    value: &'a T,
    rows: &mut Vec<u64>,
    cols: &mut Vec<u64>,
) -> usize {
    let next = index.len();
    let i = *index.entry(value).or_insert(next);
    if i == next {
        rows.push(0);
        cols.push(0);
    }
    i
}

// ---------------------------------------------------------------------------
// Fleiss' kappa
// ---------------------------------------------------------------------------

/// Fleiss' κ for many raters: `counts[i][j]` is how many raters put subject
/// `i` in category `j`; every subject must have the same number of ratings
/// n ≥ 2.
///
/// κ = (P̄ − P̄_e) / (1 − P̄_e), P̄ = mean over subjects of
/// (Σ_j n_ij² − n) / (n(n − 1)), P̄_e = Σ_j p_j² with p_j the share of all
/// ratings in category j (Fleiss 1971, "Measuring nominal scale agreement
/// among many raters"; statsmodels `fleiss_kappa(table, method="fleiss")`;
/// the Wikipedia "Fleiss' kappa" worked example gives 0.210).
///
/// With A = Σ_ij n_ij², T = N·n and B = Σ_j (Σ_i n_ij)² this is
/// (A·T − N·n·T − B(n − 1)) / ((n − 1)(T² − B)), computed in integers and
/// divided once.
///
/// Errors: [`MetricError::Empty`] for no subjects or no categories,
/// [`MetricError::LengthMismatch`] for rows of different lengths,
/// [`MetricError::UnequalRaters`], [`MetricError::TooFewRaters`], and
/// [`MetricError::Undefined`] when every rating is in one category
/// (statsmodels returns NaN).
pub fn fleiss_kappa(counts: &[Vec<u32>]) -> Result<f64, MetricError> {
    let Some(first) = counts.first() else {
        return Err(MetricError::Empty("subjects"));
    };
    let k = first.len();
    if k == 0 {
        return Err(MetricError::Empty("categories"));
    }
    let n: u64 = first.iter().map(|&c| u64::from(c)).sum();
    let mut column = vec![0u128; k];
    let mut squares: u128 = 0; // A = Σ_ij n_ij²
    for (i, row) in counts.iter().enumerate() {
        if row.len() != k {
            return Err(MetricError::LengthMismatch {
                what: "subjects have different numbers of categories",
                left: k,
                right: row.len(),
            });
        }
        let raters: u64 = row.iter().map(|&c| u64::from(c)).sum();
        if raters != n {
            return Err(MetricError::UnequalRaters {
                subject: i,
                expected: n,
                found: raters,
            });
        }
        for (col, &c) in column.iter_mut().zip(row) {
            let c = u128::from(c);
            *col += c;
            squares += c * c;
        }
    }
    if n < 2 {
        return Err(MetricError::TooFewRaters(n));
    }
    let n = u128::from(n);
    let total = counts.len() as u128 * n; // T
    let b: u128 = column.iter().map(|&c| c * c).sum();
    if b == total * total {
        return Err(MetricError::Undefined(SINGLE_VALUE));
    }
    // Signed: observed agreement can be below chance.
    let num = (squares * total) as i128 - (total * total + b * (n - 1)) as i128;
    let den = (n - 1) * (total * total - b);
    Ok(num as f64 / den as f64)
}

// ---------------------------------------------------------------------------
// Krippendorff's alpha
// ---------------------------------------------------------------------------

/// Krippendorff's α for nominal data. `data[coder][unit]` is the value that
/// coder gave the unit, `None` when missing (the layout of the `krippendorff`
/// package's `reliability_data`).
///
/// α = 1 − D_o / D_e with D_o from the coincidence matrix o_ck (each unit with
/// m_u ≥ 2 values adds every ordered pair of values from different coders with
/// weight 1/(m_u − 1)) and D_e from the marginals n_c, e_ck = (n_c n_k −
/// [c = k] n_c)/(n − 1); nominal distance δ_ck = [c ≠ k]. Units with fewer
/// than two values drop out (Krippendorff 2011, "Computing Krippendorff's
/// Alpha-Reliability", nominal data with missing values, whose 4-coder ×
/// 12-unit example gives 0.743; `krippendorff.alpha(...,
/// level_of_measurement="nominal")`).
///
/// Errors: [`MetricError::Empty`], [`MetricError::LengthMismatch`] when
/// coders have different numbers of units, [`MetricError::NoPairableUnits`],
/// and [`MetricError::Undefined`] when all values are equal (the reference
/// raises "There has to be more than one value in the domain") or all
/// *pairable* values are equal (the reference returns NaN).
pub fn krippendorff_alpha_nominal<T: Eq + Hash>(
    data: &[Vec<Option<T>>],
) -> Result<f64, MetricError> {
    let units = check_reliability_shape(data)?;
    let mut index: HashMap<&T, usize> = HashMap::new();
    let mut coded: Vec<Vec<usize>> = vec![Vec::new(); units];
    for row in data {
        for (unit, value) in row.iter().enumerate() {
            if let Some(v) = value {
                let next = index.len();
                let i = *index.entry(v).or_insert(next);
                coded[unit].push(i);
            }
        }
    }
    alpha_from_units(&coded, index.len(), |c, k| if c == k { 0.0 } else { 1.0 })
}

/// Krippendorff's α for interval data (numeric attributes), same layout and
/// rules as [`krippendorff_alpha_nominal`] but with the interval distance
/// δ_ck = (c − k)² (Krippendorff 2011, interval metric;
/// `krippendorff.alpha(..., level_of_measurement="interval")`; the paper's
/// 4-coder × 12-unit example gives 0.849). Values that compare equal (including
/// 0.0 and −0.0) are one value, as in NumPy's `unique`.
///
/// Errors: as for the nominal version, plus [`MetricError::NotFinite`] for
/// NaN or infinite values (NaN means "missing" to the reference; here that is
/// `None`, and a NaN is refused rather than guessed at).
pub fn krippendorff_alpha_interval(data: &[Vec<Option<f64>>]) -> Result<f64, MetricError> {
    let units = check_reliability_shape(data)?;
    let mut domain: Vec<f64> = Vec::new();
    for (coder, row) in data.iter().enumerate() {
        for (unit, value) in row.iter().enumerate() {
            if let Some(v) = *value {
                if !v.is_finite() {
                    return Err(MetricError::NotFinite { coder, unit });
                }
                domain.push(v);
            }
        }
    }
    domain.sort_by(f64::total_cmp);
    domain.dedup_by(|a, b| a == b);
    let mut coded: Vec<Vec<usize>> = vec![Vec::new(); units];
    for row in data {
        for (unit, value) in row.iter().enumerate() {
            if let Some(v) = *value {
                // Present by construction; the fallback keeps this panic-free.
                let i = domain
                    .partition_point(|&d| d < v)
                    .min(domain.len().saturating_sub(1));
                coded[unit].push(i);
            }
        }
    }
    alpha_from_units(&coded, domain.len(), |c, k| {
        let d = domain[c] - domain[k];
        d * d
    })
}

/// Number of units, after checking the coders × units table is non-empty and
/// rectangular.
fn check_reliability_shape<T>(data: &[Vec<Option<T>>]) -> Result<usize, MetricError> {
    let Some(first) = data.first() else {
        return Err(MetricError::Empty("coders"));
    };
    let units = first.len();
    if units == 0 {
        return Err(MetricError::Empty("units"));
    }
    for row in data {
        if row.len() != units {
            return Err(MetricError::LengthMismatch {
                what: "coders have different numbers of units",
                left: units,
                right: row.len(),
            });
        }
    }
    Ok(units)
}

/// α from each unit's value indices (into a domain of `values` values) and a
/// distance between value indices. Follows the `krippendorff` package's
/// order of operations (coincidences, marginals, expected coincidences) so
/// rounding matches it closely.
fn alpha_from_units(
    coded: &[Vec<usize>],
    values: usize,
    delta: impl Fn(usize, usize) -> f64,
) -> Result<f64, MetricError> {
    if !coded.iter().any(|u| u.len() >= 2) {
        return Err(MetricError::NoPairableUnits);
    }
    if values < 2 {
        return Err(MetricError::Undefined(SINGLE_VALUE));
    }
    let mut o = vec![0.0f64; values * values];
    let mut per_value = vec![0.0f64; values];
    for unit in coded.iter().filter(|u| u.len() >= 2) {
        per_value.iter_mut().for_each(|c| *c = 0.0);
        for &v in unit {
            per_value[v] += 1.0;
        }
        let weight = (unit.len() - 1) as f64;
        for c in 0..values {
            if per_value[c] == 0.0 {
                continue;
            }
            for k in 0..values {
                // Pairs from different coders only: a value is not paired with itself.
                let pairs = per_value[c] * (per_value[k] - if c == k { 1.0 } else { 0.0 });
                o[c * values + k] += pairs / weight;
            }
        }
    }
    let n_v: Vec<f64> = (0..values)
        .map(|c| (0..values).map(|k| o[c * values + k]).sum())
        .collect();
    let n: f64 = n_v.iter().sum();
    let mut observed = 0.0;
    let mut expected = 0.0;
    for c in 0..values {
        for k in 0..values {
            let d = delta(c, k);
            observed += o[c * values + k] * d;
            let e = n_v[c] * n_v[k] - if c == k { n_v[c] } else { 0.0 };
            expected += e / (n - 1.0) * d;
        }
    }
    if expected == 0.0 {
        return Err(MetricError::Undefined(SINGLE_VALUE));
    }
    Ok(1.0 - observed / expected)
}

// ---------------------------------------------------------------------------
// Shapes and IoU
// ---------------------------------------------------------------------------

/// A region annotation: an axis-aligned box `[x, y, w, h]` (top-left corner,
/// width, height, as in COCO) or a simple polygon given by its vertices in
/// either orientation (closing vertex optional).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    BBox([f64; 4]),
    Polygon(Vec<[f64; 2]>),
}

impl Shape {
    /// IoU of two shapes of any kind: box vs box uses [`iou_bbox`], anything
    /// involving a polygon uses [`iou_polygon`] with the box as a rectangle.
    pub fn iou(&self, other: &Shape) -> f64 {
        match (self, other) {
            (Shape::BBox(a), Shape::BBox(b)) => iou_bbox(*a, *b),
            _ => iou_polygon(&self.vertices(), &other.vertices()),
        }
    }

    fn vertices(&self) -> Vec<[f64; 2]> {
        match self {
            Shape::BBox([x, y, w, h]) => {
                let (w, h) = (w.max(0.0), h.max(0.0));
                vec![[*x, *y], [x + w, *y], [x + w, y + h], [*x, y + h]]
            }
            Shape::Polygon(p) => p.clone(),
        }
    }
}

/// Intersection over union of two boxes `[x, y, w, h]`:
/// |A ∩ B| / (|A| + |B| − |A ∩ B|) (the Jaccard index of the two regions, as
/// in COCO's `maskUtils.iou` for boxes, without its crowd rule). Negative
/// widths or heights count as 0. When the union has no area (two degenerate
/// boxes) the result is 0.0: there is no region to agree on. NaN coordinates
/// give NaN.
pub fn iou_bbox(a: [f64; 4], b: [f64; 4]) -> f64 {
    let [ax, ay, aw, ah] = a;
    let [bx, by, bw, bh] = b;
    let (aw, ah, bw, bh) = (aw.max(0.0), ah.max(0.0), bw.max(0.0), bh.max(0.0));
    let iw = ((ax + aw).min(bx + bw) - ax.max(bx)).max(0.0);
    let ih = ((ay + ah).min(by + bh) - ay.max(by)).max(0.0);
    let inter = iw * ih;
    let union = aw * ah + bw * bh - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Intersection over union of two simple polygons (convex or concave,
/// without holes; vertices in either orientation; a repeated closing vertex is
/// ignored). Fewer than three vertices is an empty region; when the union has
/// no area the result is 0.0. A NaN or infinite coordinate gives NaN (as
/// [`iou_bbox`] does), which never passes a threshold. A self-intersecting
/// polygon gives an unspecified (finite) value.
///
/// The intersection area comes from Green's theorem: the boundary of A ∩ B
/// is the part of ∂A inside B plus the part of ∂B inside A (plus shared edges
/// running the same way, counted once), so |A ∩ B| = ½ Σ (x dy − y dx) over
/// those pieces. Each edge is split where the other polygon's edges cross it
/// and every piece is classified by its midpoint. This needs no polygon
/// clipping and stays in plain `f64`.
///
/// Why not a crate: `geo` 0.31's `BooleanOps` (via `i_overlay` 4) snaps
/// coordinates to a 32-bit integer grid; on 200 random concave polygon pairs
/// its IoU differed from shapely/GEOS by up to 1.9e-9 (5 pairs over the 1e-9
/// the tests demand), while this agrees to ~1e-15 and adds no dependency.
pub fn iou_polygon(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    if a.iter().chain(b).flatten().any(|c| !c.is_finite()) {
        return f64::NAN;
    }
    // Work relative to a common origin near the shapes: cross products of
    // large absolute coordinates (pixels in a big image) would cancel badly.
    let origin = a
        .iter()
        .chain(b)
        .fold([f64::INFINITY, f64::INFINITY], |m, p| {
            [m[0].min(p[0]), m[1].min(p[1])]
        });
    if !origin[0].is_finite() || !origin[1].is_finite() {
        return 0.0; // both empty
    }
    let pa = ccw_ring(a, origin);
    let pb = ccw_ring(b, origin);
    let (area_a, area_b) = (ring_area(&pa), ring_area(&pb));
    let inter = if pa.len() < 3 || pb.len() < 3 {
        0.0
    } else {
        // B's edges skip shared same-direction pieces: A's pass counted them.
        (boundary_inside(&pa, &pb, true) + boundary_inside(&pb, &pa, false)) / 2.0
    };
    // Rounding can push the intersection a hair outside [0, min area].
    let inter = inter.max(0.0).min(area_a.min(area_b));
    let union = area_a + area_b - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

type Pt = [f64; 2];

fn sub(p: Pt, q: Pt) -> Pt {
    [p[0] - q[0], p[1] - q[1]]
}

fn cross(p: Pt, q: Pt) -> f64 {
    p[0] * q[1] - p[1] * q[0]
}

/// The ring shifted to `origin`, closing vertex and consecutive duplicates
/// removed, oriented counter-clockwise (positive area). Degenerate input
/// (fewer than three distinct vertices) comes back short and counts as empty.
fn ccw_ring(points: &[Pt], origin: Pt) -> Vec<Pt> {
    let mut ring: Vec<Pt> = Vec::with_capacity(points.len());
    for p in points {
        let q = sub(*p, origin);
        if ring.last() != Some(&q) {
            ring.push(q);
        }
    }
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        ring.clear();
        return ring;
    }
    if signed_area(&ring) < 0.0 {
        ring.reverse();
    }
    ring
}

/// Shoelace formula.
fn signed_area(ring: &[Pt]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| cross(ring[i], ring[(i + 1) % n]))
        .sum::<f64>()
        / 2.0
}

fn ring_area(ring: &[Pt]) -> f64 {
    signed_area(ring).abs()
}

/// Σ cross(p, q) over the pieces p→q of `ring`'s boundary that lie inside
/// `other` (twice the signed area contribution). Pieces running along an edge
/// of `other` count only when `take_shared` and the edges point the same way
/// (then both interiors are on the same side, so the piece bounds A ∩ B).
fn boundary_inside(ring: &[Pt], other: &[Pt], take_shared: bool) -> f64 {
    let n = ring.len();
    let m = other.len();
    let mut total = 0.0;
    let mut cuts: Vec<f64> = Vec::new();
    // Parameter ranges of this edge covered by a collinear edge of `other`,
    // with whether that edge runs the same way.
    let mut shared: Vec<(f64, f64, bool)> = Vec::new();
    for i in 0..n {
        let (p, q) = (ring[i], ring[(i + 1) % n]);
        let d = sub(q, p);
        let len2 = d[0] * d[0] + d[1] * d[1];
        cuts.clear();
        shared.clear();
        cuts.extend([0.0, 1.0]);
        for j in 0..m {
            let (c, e) = (other[j], other[(j + 1) % m]);
            let sc = cross(d, sub(c, p));
            let se = cross(d, sub(e, p));
            if sc == 0.0 && se == 0.0 {
                // Collinear: project the other edge's ends onto this one.
                let tc = dot(sub(c, p), d) / len2;
                let te = dot(sub(e, p), d) / len2;
                cuts.extend([tc, te].into_iter().filter(|t| *t > 0.0 && *t < 1.0));
                let same = dot(d, sub(e, c)) > 0.0;
                shared.push((tc.min(te), tc.max(te), same));
            } else if sc != se {
                // Where the other edge's line crosses this edge's line. Extra
                // cuts are harmless (pieces are classified separately), so no
                // test that the crossing lies on the other segment is needed.
                let t = cross(sub(c, p), sub(e, c)) / cross(d, sub(e, c));
                if t > 0.0 && t < 1.0 {
                    cuts.push(t);
                }
            }
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let mut inside_len = 0.0;
        for w in cuts.windows(2) {
            let (t0, t1) = (w[0], w[1]);
            if t1 <= t0 {
                continue;
            }
            let mid = (t0 + t1) / 2.0;
            let on_shared = shared.iter().find(|(lo, hi, _)| *lo <= mid && mid <= *hi);
            let counts = match on_shared {
                Some(&(_, _, same)) => take_shared && same,
                None => point_in_ring([p[0] + d[0] * mid, p[1] + d[1] * mid], other),
            };
            if counts {
                inside_len += t1 - t0;
            }
        }
        // cross(p + t0 d, p + t1 d) = (t1 − t0) · cross(p, q).
        total += inside_len * cross(p, q);
    }
    total
}

fn dot(p: Pt, q: Pt) -> f64 {
    p[0] * q[0] + p[1] * q[1]
}

/// Even-odd ray casting (W. R. Franklin's PNPOLY). Points on the boundary are
/// never asked about: shared pieces are handled before this.
fn point_in_ring(pt: Pt, ring: &[Pt]) -> bool {
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > pt[1]) != (b[1] > pt[1]) {
            let x = a[0] + (pt[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if pt[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

// ---------------------------------------------------------------------------
// Precision / recall / F1 from matchings
// ---------------------------------------------------------------------------

/// Matched counts and the scores derived from them.
///
/// precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = their harmonic
/// mean 2tp / (2tp + fp + fn). A 0/0 ratio is 0.0 (scikit-learn's
/// `zero_division=0`), except that when both sides are empty (tp = fp = fn =
/// 0) all three are 1.0: two annotators who both marked nothing agree
/// perfectly. To pool items or classes (micro average), add the counts and
/// call [`PrF1::from_counts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrF1 {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl PrF1 {
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> PrF1 {
        if tp + fp + fn_ == 0 {
            return PrF1 {
                tp,
                fp,
                fn_,
                precision: 1.0,
                recall: 1.0,
                f1: 1.0,
            };
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        PrF1 {
            tp,
            fp,
            fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            f1: ratio(2 * tp, 2 * tp + fp + fn_),
        }
    }

    fn from_matching(matched: usize, predicted: usize, gold: usize) -> PrF1 {
        PrF1::from_counts(matched, predicted - matched, gold - matched)
    }
}

/// Matches predicted shapes to gold shapes one-to-one within the same class
/// and scores the matching. A pair is a candidate when the labels are equal
/// and IoU ≥ `iou_threshold` and IoU > 0 (disjoint shapes never match, even
/// at threshold 0). Candidates are taken greedily by descending IoU, ties by
/// lower prediction index then lower gold index, each shape used once. This
/// is COCO's greedy rule with IoU standing in for the detector score that
/// annotations do not have (Lin et al. 2014; `pycocotools` `evaluateImg`).
///
/// Matched pairs are true positives, unmatched predictions false positives
/// and unmatched gold shapes false negatives; the scores follow the
/// conventions of [`PrF1`].
pub fn match_detections<L: PartialEq>(
    pred: &[(L, Shape)],
    gold: &[(L, Shape)],
    iou_threshold: f64,
) -> Detection {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, (pl, ps)) in pred.iter().enumerate() {
        for (j, (gl, gs)) in gold.iter().enumerate() {
            if pl != gl {
                continue;
            }
            let iou = ps.iou(gs);
            if iou >= iou_threshold && iou > 0.0 {
                candidates.push((iou, i, j));
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut pred_used = vec![false; pred.len()];
    let mut gold_used = vec![false; gold.len()];
    let mut matched_ious = Vec::new();
    for (iou, i, j) in candidates {
        if !pred_used[i] && !gold_used[j] {
            pred_used[i] = true;
            gold_used[j] = true;
            matched_ious.push(iou);
        }
    }
    let s = PrF1::from_matching(matched_ious.len(), pred.len(), gold.len());
    Detection {
        tp: s.tp,
        fp: s.fp,
        fn_: s.fn_,
        precision: s.precision,
        recall: s.recall,
        f1: s.f1,
        matched_ious,
    }
}

/// The result of [`match_detections`]: the [`PrF1`] figures plus the IoU of
/// every matched pair (in matching order, highest first), so a caller can
/// report mean IoU of matches or pool the pairs across items.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub matched_ious: Vec<f64>,
}

// ---------------------------------------------------------------------------
// Spans and segments
// ---------------------------------------------------------------------------

/// When a predicted span counts as finding a gold span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanMatch {
    /// Same start, end and label (CoNLL-style exact match).
    Exact,
    /// Same label and at least one shared character.
    Overlap,
}

/// Span-level precision/recall/F1. Spans are `(start, end, label)` with
/// half-open char offsets `[start, end)`. Matching is one-to-one and maximal:
/// the true positives are the size of a maximum bipartite matching between
/// predicted and gold spans under `mode`, so the score does not depend on the
/// order of the spans (Exact follows the CoNLL-2003 `conlleval` entity
/// scoring; Overlap is its "partial/overlap" relaxation). Empty spans never
/// overlap anything.
pub fn span_f1<L: PartialEq>(
    pred: &[(usize, usize, L)],
    gold: &[(usize, usize, L)],
    mode: SpanMatch,
) -> PrF1 {
    let adj: Vec<Vec<usize>> = pred
        .iter()
        .map(|(ps, pe, pl)| {
            gold.iter()
                .enumerate()
                .filter(|(_, (gs, ge, gl))| {
                    pl == gl
                        && match mode {
                            SpanMatch::Exact => ps == gs && pe == ge,
                            SpanMatch::Overlap => ps.max(gs) < pe.min(ge),
                        }
                })
                .map(|(j, _)| j)
                .collect()
        })
        .collect();
    let matched = max_matching(&adj, gold.len());
    PrF1::from_matching(matched, pred.len(), gold.len())
}

/// Boundary agreement between two segmentations of the same audio/video,
/// each a list of `(start, end)` segments in seconds. The boundaries are the
/// distinct start and end times (adjacent segments share one); an estimated
/// boundary e hits a reference boundary r when e − tol ≤ r ≤ e + tol, and
/// hits are matched one-to-one, maximally. Precision is over `estimate`,
/// recall over `reference`.
///
/// This is `mir_eval.segment.detection(reference, estimate, window=tol)`
/// (Turnbull et al. 2007; Raffel et al. 2014, mir_eval), except that
/// mir_eval rounds times to 5 decimals first and scores 0 when either side
/// has no boundaries, where [`PrF1`] gives 1.0 when both are empty. NaN
/// times are boundaries that never match.
pub fn segment_boundary_f1(
    reference: &[(f64, f64)],
    estimate: &[(f64, f64)],
    tolerance_secs: f64,
) -> PrF1 {
    let (refs, ref_nan) = boundaries(reference);
    let (ests, est_nan) = boundaries(estimate);
    // `refs` is sorted, so each estimate's hits are one contiguous run.
    let adj: Vec<Vec<usize>> = ests
        .iter()
        .map(|&e| {
            let lo = refs.partition_point(|&r| r < e - tolerance_secs);
            let hi = refs.partition_point(|&r| r <= e + tolerance_secs);
            (lo..hi.max(lo)).collect()
        })
        .collect();
    let matched = max_matching(&adj, refs.len());
    PrF1::from_matching(matched, ests.len() + est_nan, refs.len() + ref_nan)
}

/// Sorted distinct boundary times of a segmentation, and how many NaN times
/// it has. NaNs are kept out of the list because they have no place in the
/// order the binary search above relies on.
fn boundaries(segments: &[(f64, f64)]) -> (Vec<f64>, usize) {
    let (mut b, nan): (Vec<f64>, Vec<f64>) = segments
        .iter()
        .flat_map(|&(s, e)| [s, e])
        .partition(|t| !t.is_nan());
    b.sort_by(f64::total_cmp);
    b.dedup_by(|x, y| x == y);
    (b, nan.len())
}

/// Size of a maximum matching in a bipartite graph (left vertex i is adjacent
/// to the right vertices `adj[i]`), by Kuhn's augmenting paths. The depth
/// first search keeps its own stack so long chains cannot overflow the
/// thread's stack.
fn max_matching(adj: &[Vec<usize>], n_right: usize) -> usize {
    let mut owner: Vec<Option<usize>> = vec![None; n_right];
    let mut visited = vec![false; n_right];
    let mut count = 0;
    for root in 0..adj.len() {
        if adj[root].is_empty() {
            continue;
        }
        visited.iter_mut().for_each(|v| *v = false);
        // Frames are (left vertex, next edge to try); via[i] is the right
        // vertex, currently owned by frame i + 1, that leads from frame i to it.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        let mut via: Vec<usize> = Vec::new();
        let mut free = None;
        while let Some(top) = stack.last_mut() {
            let u = top.0;
            let Some(&r) = adj[u].get(top.1) else {
                stack.pop();
                via.pop();
                continue;
            };
            top.1 += 1;
            if r >= n_right || visited[r] {
                continue;
            }
            visited[r] = true;
            match owner[r] {
                None => {
                    free = Some(r);
                    break;
                }
                Some(next) => {
                    via.push(r);
                    stack.push((next, 0));
                }
            }
        }
        if let Some(mut r) = free {
            // Flip the path: each frame takes the right vertex after it.
            while let Some((u, _)) = stack.pop() {
                owner[r] = Some(u);
                if let Some(prev) = via.pop() {
                    r = prev;
                }
            }
            count += 1;
        }
    }
    count
}

// ---------------------------------------------------------------------------
// WER / CER
// ---------------------------------------------------------------------------

/// Word error rate, as `jiwer.wer(reference, hypothesis)` in jiwer 4.0.0:
/// (S + D + I) / N, the word-level Levenshtein distance over the number of
/// reference words (Morris et al. 2004 for the definition; jiwer for the
/// text handling below).
///
/// Words are found jiwer's default way (`wer_default`): every run of two or
/// more whitespace characters becomes one space, the ends are stripped, and
/// the text is split on the space character ' ' only. So a lone tab or
/// newline between two words does *not* separate them in jiwer, and not
/// here either. "Whitespace" is Python's `str.isspace`, which is Rust's
/// `char::is_whitespace` plus U+001C..U+001F.
///
/// Errors: [`MetricError::Empty`] when the reference has no words after that
/// clean-up: the rate has no denominator. (jiwer 3 raised here too; jiwer 4
/// instead returns the number of inserted words, which is a count, not a
/// rate, and would skew an average of rates.)
pub fn wer(reference: &str, hypothesis: &str) -> Result<f64, MetricError> {
    let r = jiwer_words(reference);
    let h = jiwer_words(hypothesis);
    error_rate(&r, &h, "reference words")
}

/// Character error rate, as `jiwer.cer(reference, hypothesis)` in jiwer
/// 4.0.0: the Levenshtein distance between the character sequences over the
/// number of reference characters. jiwer's `cer_default` only strips
/// leading and trailing whitespace: inner spaces count as characters and runs
/// of spaces are kept. Characters are Unicode scalar values (Python `str`
/// items), not graphemes. An empty (or all-whitespace) reference is
/// [`MetricError::Empty`], as for [`wer`].
pub fn cer(reference: &str, hypothesis: &str) -> Result<f64, MetricError> {
    let r: Vec<char> = reference.trim_matches(py_isspace).chars().collect();
    let h: Vec<char> = hypothesis.trim_matches(py_isspace).chars().collect();
    error_rate(&r, &h, "reference characters")
}

/// jiwer 4's `wer_default`: RemoveMultipleSpaces (`re.sub(r"\s\s+", " ")`),
/// Strip, then `split(" ")` dropping empty words.
fn jiwer_words(text: &str) -> Vec<String> {
    let mut collapsed = String::with_capacity(text.len());
    let mut run = String::new();
    for ch in text.chars() {
        if py_isspace(ch) {
            run.push(ch);
            continue;
        }
        flush_space_run(&mut collapsed, &mut run);
        collapsed.push(ch);
    }
    flush_space_run(&mut collapsed, &mut run);
    collapsed
        .trim_matches(py_isspace)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A single whitespace char stays as it is; two or more become one space.
fn flush_space_run(out: &mut String, run: &mut String) {
    if run.chars().nth(1).is_some() {
        out.push(' ');
    } else {
        out.push_str(run);
    }
    run.clear();
}

/// Python's `str.isspace` (and `re`'s `\s` on `str`).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Levenshtein distance / reference length.
fn error_rate<T: PartialEq>(
    reference: &[T],
    hypothesis: &[T],
    what: &'static str,
) -> Result<f64, MetricError> {
    if reference.is_empty() {
        return Err(MetricError::Empty(what));
    }
    Ok(levenshtein(reference, hypothesis) as f64 / reference.len() as f64)
}

/// Unit-cost edit distance (Levenshtein 1966), one row of the table at a
/// time.
fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = diag + usize::from(x != y);
            diag = row[j + 1];
            row[j + 1] = sub.min(row[j] + 1).min(diag + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
