//! Quality figures for the quality screen and `sealtag quality report`:
//! progress per status and per person, throughput per day, review outcomes
//! and rejection reasons, agreement between people who labelled the same
//! items (per class and overall, per pair and against the consensus), gold
//! scores and the quality gate. The metrics themselves are
//! [`crate::quality::metrics`]; this module decides what is compared.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::{Result, Session};
use crate::model::{AnnotationDraft, AssignmentState, Geometry, LabelClass, Outline, Role, User};
use crate::permissions::Action;
use crate::quality::metrics::{self, Shape, SpanMatch};
use crate::store;

/// IoU at which two shapes count as the same object.
pub const IOU_THRESHOLD: f64 = 0.5;
/// Seconds within which two segment boundaries count as the same.
pub const BOUNDARY_TOLERANCE_SECS: f64 = 0.5;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PersonFigures {
    pub fingerprint: String,
    pub name: String,
    pub assigned: usize,
    pub submitted: usize,
    pub approved: i64,
    pub corrected: i64,
    pub rejected: i64,
    pub acceptance: Option<f64>,
    pub gold_items: usize,
    pub gold_mean: Option<f64>,
    /// Below the project's quality gate on gold.
    pub below_gate: bool,
    /// Presence agreement (Cohen's kappa) with the consensus of the others.
    pub kappa_vs_consensus: Option<f64>,
}

/// Agreement of two people on the items both labelled.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PairFigures {
    pub a: String,
    pub b: String,
    pub items: usize,
    /// Cohen's kappa on class presence per (item, class).
    pub kappa: Option<f64>,
    /// Boxes and polygons matched at IoU ≥ 0.5 (same class).
    pub shape_f1: Option<f64>,
    pub shape_mean_iou: Option<f64>,
    pub span_f1_exact: Option<f64>,
    pub span_f1_overlap: Option<f64>,
    pub segment_boundary_f1: Option<f64>,
    /// Word / character error rate between transcripts of matched segments
    /// (`a` as reference).
    pub wer: Option<f64>,
    pub cer: Option<f64>,
}

/// Presence agreement for one class (or overall).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ClassAgreement {
    pub class: String,
    pub units: usize,
    pub krippendorff_alpha: Option<f64>,
    pub fleiss_kappa: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct QualityReport {
    pub items: usize,
    /// Items per status, in workflow order.
    pub progress: Vec<(String, usize)>,
    pub people: Vec<PersonFigures>,
    /// Label revisions per day and person: (day as unix ms, fingerprint, count).
    pub throughput: Vec<(i64, String, i64)>,
    /// Names of everyone the report mentions, by fingerprint.
    pub names: BTreeMap<String, String>,
    /// Items labelled by two or more people.
    pub overlap_items: usize,
    pub agreement_overall: ClassAgreement,
    pub agreement_per_class: Vec<ClassAgreement>,
    pub pairs: Vec<PairFigures>,
    pub rejection_reasons: Vec<(i64, String)>,
    /// The gate on mean gold score (0–1), if the admin set one.
    pub quality_gate: Option<f64>,
    /// Items whose only work comes from people below the gate: held out of
    /// exports until someone else's work or a review replaces it.
    pub held_items: Vec<i64>,
}

impl QualityReport {
    /// The report as plain text (the CLI's default output).
    pub fn to_text(&self) -> String {
        let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1} %", 100.0 * v));
        let num = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        let mut t = format!("items: {}\n", self.items);
        for (status, n) in &self.progress {
            t.push_str(&format!("  {status:<12} {n}\n"));
        }
        t.push_str("people:\n");
        for p in &self.people {
            t.push_str(&format!(
                "  {:<20} assigned {:>4}  submitted {:>4}  accepted {:>7}  gold {:>7} ({} item(s)){}\n",
                p.name,
                p.assigned,
                p.submitted,
                pct(p.acceptance),
                pct(p.gold_mean),
                p.gold_items,
                if p.below_gate { "  BELOW GATE" } else { "" }
            ));
        }
        t.push_str(&format!(
            "agreement on {} item(s) labelled by several people: alpha {} (Krippendorff, presence), Fleiss {}\n",
            self.overlap_items,
            num(self.agreement_overall.krippendorff_alpha),
            num(self.agreement_overall.fleiss_kappa)
        ));
        for c in &self.agreement_per_class {
            t.push_str(&format!(
                "  {:<16} alpha {}  ({} units)\n",
                c.class,
                num(c.krippendorff_alpha),
                c.units
            ));
        }
        for p in &self.pairs {
            t.push_str(&format!(
                "  {} × {}: {} item(s), kappa {}, shapes F1 {}, spans F1 {} / {} (exact / overlap), boundaries F1 {}, WER {}\n",
                p.a,
                p.b,
                p.items,
                num(p.kappa),
                num(p.shape_f1),
                num(p.span_f1_exact),
                num(p.span_f1_overlap),
                num(p.segment_boundary_f1),
                num(p.wer)
            ));
        }
        if !self.held_items.is_empty() {
            t.push_str(&format!(
                "held out of exports (below the gate): items {:?}\n",
                self.held_items
            ));
        }
        if !self.rejection_reasons.is_empty() {
            t.push_str("rejection reasons:\n");
            for (item, why) in self.rejection_reasons.iter().take(20) {
                t.push_str(&format!("  item {item}: {why}\n"));
            }
        }
        t
    }
}

/// One person's labels on one item.
type Labels = Vec<AnnotationDraft>;

/// The area a label encloses, as agreement compares it: boxes as boxes,
/// closed outlines as polygons; lines and points enclose none.
fn shape_of(g: &Geometry) -> Option<Shape> {
    match g.outline() {
        Outline::Rect(b) => Some(Shape::BBox([b.x, b.y, b.w, b.h])),
        Outline::Closed(points) => Some(Shape::Polygon(points.into_owned())),
        Outline::Open(_) | Outline::Dots(_) | Outline::Nothing => None,
    }
}

fn shapes(labels: &Labels, class_name: &dyn Fn(i64) -> String) -> Vec<(String, Shape)> {
    labels
        .iter()
        .filter_map(|d| Some((class_name(d.class_id), shape_of(&d.geometry)?)))
        .collect()
}

fn spans(labels: &Labels, class_name: &dyn Fn(i64) -> String) -> Vec<(usize, usize, String)> {
    labels
        .iter()
        .filter_map(|d| {
            let (start, end) = d.geometry.char_range()?;
            Some((start as usize, end as usize, class_name(d.class_id)))
        })
        .collect()
}

fn segments(labels: &Labels) -> Vec<(f64, f64, String)> {
    labels
        .iter()
        .filter_map(|d| {
            let (start, end) = d.geometry.time_range()?;
            Some((start, end, d.geometry.transcript()?.to_string()))
        })
        .collect()
}

/// Micro-averaged F1 from summed counts; `None` when nothing was compared.
fn f1_of(tp: usize, fp: usize, fn_: usize) -> Option<f64> {
    (tp + fp + fn_ > 0).then(|| 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64)
}

/// How well `labels` reproduce `gold`: micro F1 over shapes (IoU ≥ 0.5,
/// same class), spans (exact), segments (boundaries within 0.5 s) and tags
/// (same class). 1.0 when both are empty.
pub fn gold_score(labels: &Labels, gold: &Labels) -> f64 {
    let name = |c: i64| c.to_string();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let d = metrics::match_detections(&shapes(labels, &name), &shapes(gold, &name), IOU_THRESHOLD);
    (tp, fp, fn_) = (tp + d.tp, fp + d.fp, fn_ + d.fn_);
    let s = metrics::span_f1(&spans(labels, &name), &spans(gold, &name), SpanMatch::Exact);
    (tp, fp, fn_) = (tp + s.tp, fp + s.fp, fn_ + s.fn_);
    let seg = |l: &Labels| -> Vec<(f64, f64)> {
        segments(l).into_iter().map(|(a, b, _)| (a, b)).collect()
    };
    let b = metrics::segment_boundary_f1(&seg(labels), &seg(gold), BOUNDARY_TOLERANCE_SECS);
    (tp, fp, fn_) = (tp + b.tp, fp + b.fp, fn_ + b.fn_);
    let tags = |l: &Labels| -> BTreeSet<i64> {
        l.iter()
            .filter(|d| matches!(d.geometry, Geometry::Tag))
            .map(|d| d.class_id)
            .collect()
    };
    let (mine, want) = (tags(labels), tags(gold));
    tp += mine.intersection(&want).count();
    fp += mine.difference(&want).count();
    fn_ += want.difference(&mine).count();
    f1_of(tp, fp, fn_).unwrap_or(1.0)
}

/// Scores `annotator`'s labels on the gold items among `items` against the
/// gold standard, stores each score and returns them (on merge).
pub(super) fn score_gold_items(
    tx: &store::Tx<'_>,
    annotator: i64,
    items: &[i64],
) -> store::Result<Vec<(i64, f64)>> {
    let Some(fpr) = store::list_users(tx)?
        .into_iter()
        .find(|u| u.id == annotator)
        .map(|u| u.fingerprint)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in items {
        if !store::is_gold(tx, *item)? {
            continue;
        }
        let gold = store::gold_labels(tx, *item)?;
        let labels = labels_by(tx, *item)?.remove(&fpr).unwrap_or_default();
        let score = gold_score(&labels, &gold);
        store::put_gold_score(tx, *item, annotator, score)?;
        out.push((*item, score));
    }
    Ok(out)
}

/// Items whose only work comes from people whose mean gold score is below
/// the quality gate: exports leave them out. Cheap (no agreement figures),
/// so an export asks this instead of building the whole report.
pub(super) fn held_items(conn: &store::Db) -> store::Result<Vec<i64>> {
    let Some(gate) = store::setting(conn, "quality_gate")?
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|g| *g > 0.0)
    else {
        return Ok(Vec::new());
    };
    let mut sums: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for (_, user, score) in store::gold_scores(conn)? {
        let e = sums.entry(user).or_default();
        *e = (e.0 + score, e.1 + 1);
    }
    let below: BTreeSet<i64> = sums
        .into_iter()
        .filter(|(_, (sum, n))| sum / (*n as f64) < gate)
        .map(|(u, _)| u)
        .collect();
    if below.is_empty() {
        return Ok(Vec::new());
    }
    let mut workers: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (item, user, purpose, _) in store::all_assignments(conn)? {
        if purpose != "review" {
            workers.entry(item).or_default().push(user);
        }
    }
    Ok(workers
        .into_iter()
        .filter(|(_, w)| w.iter().all(|u| below.contains(u)))
        .map(|(i, _)| i)
        .collect())
}

/// Live labels of an item grouped by who created them.
fn labels_by(conn: &store::Db, item: i64) -> store::Result<BTreeMap<String, Labels>> {
    let mut by: BTreeMap<String, Labels> = BTreeMap::new();
    for a in store::list_annotations(conn, item)? {
        by.entry(a.created_by.clone())
            .or_default()
            .push(AnnotationDraft {
                class_id: a.class_id,
                geometry: a.geometry,
                attributes: a.attributes,
                hidden: false,
                locked: false,
                z: 0,
            });
    }
    Ok(by)
}

/// The consensus of several people's labels on one item, as a starting
/// point for the reviewer: shapes of the same class that overlap (IoU ≥ 0.5)
/// across people form a group; a group backed by a majority of the people
/// becomes one label (boxes: the mean box; polygons: the member closest to
/// the others). Tags and spans are kept when a majority gave exactly them;
/// segments when a majority overlap, with mean boundaries.
pub fn consensus(by_person: &BTreeMap<String, Labels>) -> Labels {
    let people = by_person.len();
    let majority = people / 2 + 1;
    let mut out = Labels::new();
    // Shapes: greedy groups in a stable order.
    let mut groups: Vec<(i64, Vec<(String, Shape)>)> = Vec::new();
    for (who, labels) in by_person {
        for d in labels {
            let Some(shape) = shape_of(&d.geometry) else {
                continue;
            };
            let slot = groups.iter_mut().find(|(class, members)| {
                *class == d.class_id
                    && !members.iter().any(|(w, _)| w == who)
                    && members[0].1.iou(&shape) >= IOU_THRESHOLD
            });
            match slot {
                Some((_, members)) => members.push((who.clone(), shape)),
                None => groups.push((d.class_id, vec![(who.clone(), shape)])),
            }
        }
    }
    for (class_id, members) in groups.into_iter().filter(|(_, m)| m.len() >= majority) {
        let boxes: Vec<[f64; 4]> = members
            .iter()
            .filter_map(|(_, s)| match s {
                Shape::BBox(b) => Some(*b),
                Shape::Polygon(_) => None,
            })
            .collect();
        let geometry = if boxes.len() == members.len() {
            let n = boxes.len() as f64;
            let mean = |k: usize| boxes.iter().map(|b| b[k]).sum::<f64>() / n;
            Geometry::BBox(crate::model::BBox {
                x: mean(0),
                y: mean(1),
                w: mean(2),
                h: mean(3),
            })
        } else {
            // The medoid: the member with the highest summed IoU to the rest.
            let best = members
                .iter()
                .max_by(|a, b| {
                    let score = |m: &(String, Shape)| -> f64 {
                        members.iter().map(|o| o.1.iou(&m.1)).sum()
                    };
                    score(a).total_cmp(&score(b))
                })
                .map(|(_, s)| s.clone());
            match best {
                Some(Shape::Polygon(points)) => Geometry::Polygon { points },
                Some(Shape::BBox([x, y, w, h])) => {
                    Geometry::BBox(crate::model::BBox { x, y, w, h })
                }
                None => continue,
            }
        };
        out.push(AnnotationDraft::new(class_id, geometry));
    }
    // Tags and spans: exact agreement of a majority.
    let mut votes: BTreeMap<String, (usize, AnnotationDraft)> = BTreeMap::new();
    for labels in by_person.values() {
        let mut seen = BTreeSet::new();
        for d in labels {
            let key = match d.geometry.char_range() {
                Some((start, end)) => format!("span:{}:{start}:{end}", d.class_id),
                None if d.geometry == Geometry::Tag => format!("tag:{}", d.class_id),
                None => continue,
            };
            if seen.insert(key.clone()) {
                votes
                    .entry(key)
                    .or_insert_with(|| (0, AnnotationDraft::new(d.class_id, d.geometry.clone())))
                    .0 += 1;
            }
        }
    }
    out.extend(
        votes
            .into_values()
            .filter(|(n, _)| *n >= majority)
            .map(|(_, d)| d),
    );
    // Segments: overlapping ones of the same class, mean boundaries.
    // (class, members as (person, start, end))
    type SegmentGroup = (i64, Vec<(String, f64, f64)>);
    let mut segs: Vec<SegmentGroup> = Vec::new();
    for (who, labels) in by_person {
        for d in labels {
            let Some((start_secs, end_secs)) = d.geometry.time_range() else {
                continue;
            };
            let slot = segs.iter_mut().find(|(class, m)| {
                *class == d.class_id
                    && !m.iter().any(|(w, _, _)| w == who)
                    && m[0].1.max(start_secs) < m[0].2.min(end_secs)
            });
            match slot {
                Some((_, m)) => m.push((who.clone(), start_secs, end_secs)),
                None => segs.push((d.class_id, vec![(who.clone(), start_secs, end_secs)])),
            }
        }
    }
    for (class_id, m) in segs.into_iter().filter(|(_, m)| m.len() >= majority) {
        let n = m.len() as f64;
        out.push(AnnotationDraft::new(
            class_id,
            Geometry::Segment {
                start_secs: m.iter().map(|x| x.1).sum::<f64>() / n,
                end_secs: m.iter().map(|x| x.2).sum::<f64>() / n,
                transcript: String::new(),
            },
        ));
    }
    out
}

/// The items labelled by two or more people, who labelled them, and
/// their labels: what agreement is measured on.
struct Overlap<'a> {
    classes: &'a [LabelClass],
    /// Each such item with the fingerprints of the people who worked on it.
    items: Vec<(i64, Vec<String>)>,
    /// Everyone who worked on one of them, in order.
    coders: Vec<String>,
    labels: BTreeMap<i64, BTreeMap<String, Labels>>,
    empty: Labels,
}

impl<'a> Overlap<'a> {
    fn of(
        conn: &store::Db,
        users: &[User],
        classes: &'a [LabelClass],
        assignments: &[(i64, i64, String, AssignmentState)],
    ) -> store::Result<Overlap<'a>> {
        // Who worked on what: (item → fingerprints with annotate/gold work).
        let mut workers: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (item, user, purpose, _) in assignments {
            if purpose != "review"
                && let Some(u) = users.iter().find(|u| u.id == *user)
            {
                workers
                    .entry(*item)
                    .or_default()
                    .push(u.fingerprint.clone());
            }
        }
        let items: Vec<(i64, Vec<String>)> = workers
            .iter()
            .filter(|(_, w)| w.len() >= 2)
            .map(|(i, w)| (*i, w.clone()))
            .collect();
        let mut labels: BTreeMap<i64, BTreeMap<String, Labels>> = BTreeMap::new();
        for (item, _) in &items {
            labels.insert(*item, labels_by(conn, *item)?);
        }
        let coders: Vec<String> = {
            let mut set = BTreeSet::new();
            for (_, w) in &items {
                set.extend(w.iter().cloned());
            }
            set.into_iter().collect()
        };
        Ok(Overlap {
            classes,
            items,
            coders,
            labels,
            empty: Labels::new(),
        })
    }

    fn class_name(&self, id: i64) -> String {
        self.classes
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("class {id}"))
    }

    fn get(&self, item: i64, who: &str) -> &Labels {
        self.labels
            .get(&item)
            .and_then(|m| m.get(who))
            .unwrap_or(&self.empty)
    }

    fn present(&self, item: i64, who: &str, class: i64) -> bool {
        self.get(item, who).iter().any(|d| d.class_id == class)
    }

    /// Presence agreement over every class (`None`) or one: units are
    /// (item, class), values present or absent.
    fn presence(&self, only: Option<i64>) -> ClassAgreement {
        let coders = &self.coders;
        let mut data: Vec<Vec<Option<String>>> = vec![Vec::new(); coders.len()];
        let mut fleiss_rows: Vec<Vec<u32>> = Vec::new();
        let k_mode = self.items.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
        for (item, w) in &self.items {
            for class in self
                .classes
                .iter()
                .filter(|c| only.is_none_or(|o| o == c.id))
            {
                let mut yes = 0u32;
                for (ci, coder) in coders.iter().enumerate() {
                    let v = w.contains(coder).then(|| {
                        let p = self.present(*item, coder, class.id);
                        yes += u32::from(p);
                        if p { "yes" } else { "no" }.to_string()
                    });
                    data[ci].push(v);
                }
                if w.len() == k_mode {
                    fleiss_rows.push(vec![yes, w.len() as u32 - yes]);
                }
            }
        }
        ClassAgreement {
            class: only.map_or_else(|| "overall".to_string(), |id| self.class_name(id)),
            units: data.first().map_or(0, Vec::len),
            krippendorff_alpha: metrics::krippendorff_alpha_nominal(&data).ok(),
            fleiss_kappa: metrics::fleiss_kappa(&fleiss_rows).ok(),
        }
    }

    /// Agreement of `a` and `b` on the items both labelled; `None` when
    /// they share none.
    fn pair(&self, a: &str, b: &str, name_of: &dyn Fn(&str) -> String) -> Option<PairFigures> {
        let shared: Vec<i64> = self
            .items
            .iter()
            .filter(|(_, w)| w.iter().any(|f| f == a) && w.iter().any(|f| f == b))
            .map(|(i, _)| *i)
            .collect();
        if shared.is_empty() {
            return None;
        }
        let class_name = |id: i64| self.class_name(id);
        let mut tally = PairTally::default();
        for item in &shared {
            for c in self.classes {
                tally.pa.push(if self.present(*item, a, c.id) {
                    "yes"
                } else {
                    "no"
                });
                tally.pb.push(if self.present(*item, b, c.id) {
                    "yes"
                } else {
                    "no"
                });
            }
            tally.add(self.get(*item, a), self.get(*item, b), &class_name);
        }
        Some(tally.figures(name_of(a), name_of(b), shared.len()))
    }

    /// Presence agreement (Cohen's kappa) of `fpr` with the majority of
    /// the others on the items they share.
    fn kappa_vs_consensus(&self, fpr: &str) -> Option<f64> {
        let mut me_v = Vec::new();
        let mut cons_v = Vec::new();
        for (item, w) in self
            .items
            .iter()
            .filter(|(_, w)| w.iter().any(|f| f == fpr))
        {
            let others: Vec<&String> = w.iter().filter(|f| **f != fpr).collect();
            for c in self.classes {
                let votes = others
                    .iter()
                    .filter(|o| self.present(*item, o, c.id))
                    .count();
                cons_v.push(if 2 * votes >= others.len().max(1) && votes > 0 {
                    "yes"
                } else {
                    "no"
                });
                me_v.push(if self.present(*item, fpr, c.id) {
                    "yes"
                } else {
                    "no"
                });
            }
        }
        if me_v.is_empty() {
            None
        } else {
            metrics::cohen_kappa(&me_v, &cons_v).ok()
        }
    }
}

/// One pair's comparisons, summed over the items both labelled.
#[derive(Default)]
struct PairTally {
    /// Class presence per (item, class), for Cohen's kappa.
    pa: Vec<&'static str>,
    pb: Vec<&'static str>,
    /// (tp, fp, fn) of shapes, exact spans, overlapping spans, boundaries.
    shape: (usize, usize, usize),
    exact: (usize, usize, usize),
    overlap: (usize, usize, usize),
    bounds: (usize, usize, usize),
    ious: Vec<f64>,
    wers: Vec<f64>,
    cers: Vec<f64>,
}

impl PairTally {
    /// Adds one item's labels by the two people.
    fn add(&mut self, la: &Labels, lb: &Labels, class_name: &dyn Fn(i64) -> String) {
        let d = metrics::match_detections(
            &shapes(la, class_name),
            &shapes(lb, class_name),
            IOU_THRESHOLD,
        );
        self.shape = (
            self.shape.0 + d.tp,
            self.shape.1 + d.fp,
            self.shape.2 + d.fn_,
        );
        self.ious.extend(d.matched_ious.iter().copied());
        let e = metrics::span_f1(
            &spans(la, class_name),
            &spans(lb, class_name),
            SpanMatch::Exact,
        );
        self.exact = (
            self.exact.0 + e.tp,
            self.exact.1 + e.fp,
            self.exact.2 + e.fn_,
        );
        let o = metrics::span_f1(
            &spans(la, class_name),
            &spans(lb, class_name),
            SpanMatch::Overlap,
        );
        self.overlap = (
            self.overlap.0 + o.tp,
            self.overlap.1 + o.fp,
            self.overlap.2 + o.fn_,
        );
        let (sa, sb) = (segments(la), segments(lb));
        let plain = |s: &[(f64, f64, String)]| -> Vec<(f64, f64)> {
            s.iter().map(|(x, y, _)| (*x, *y)).collect()
        };
        let bf = metrics::segment_boundary_f1(&plain(&sa), &plain(&sb), BOUNDARY_TOLERANCE_SECS);
        self.bounds = (
            self.bounds.0 + bf.tp,
            self.bounds.1 + bf.fp,
            self.bounds.2 + bf.fn_,
        );
        // Transcripts of the segments that overlap most.
        for (s0, e0, t0) in &sa {
            let best = sb
                .iter()
                .map(|(s1, e1, t1)| ((e0.min(*e1) - s0.max(*s1)).max(0.0), t1))
                .filter(|(ov, _)| *ov > 0.0)
                .max_by(|x, y| x.0.total_cmp(&y.0));
            if let Some((_, t1)) = best
                && !t0.trim().is_empty()
            {
                if let Ok(w) = metrics::wer(t0, t1) {
                    self.wers.push(w);
                }
                if let Ok(c) = metrics::cer(t0, t1) {
                    self.cers.push(c);
                }
            }
        }
    }

    fn figures(self, a: String, b: String, items: usize) -> PairFigures {
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        PairFigures {
            a,
            b,
            items,
            kappa: metrics::cohen_kappa(&self.pa, &self.pb).ok(),
            shape_f1: f1_of(self.shape.0, self.shape.1, self.shape.2),
            shape_mean_iou: mean(&self.ious),
            span_f1_exact: f1_of(self.exact.0, self.exact.1, self.exact.2),
            span_f1_overlap: f1_of(self.overlap.0, self.overlap.1, self.overlap.2),
            segment_boundary_f1: f1_of(self.bounds.0, self.bounds.1, self.bounds.2),
            wer: mean(&self.wers),
            cer: mean(&self.cers),
        }
    }
}

/// What the people figures are made of: assignments, review outcomes and
/// gold scores, and the quality gate.
struct Work<'a> {
    assignments: &'a [(i64, i64, String, AssignmentState)],
    /// (annotator, approved, rejected, corrected).
    reviews: Vec<(i64, i64, i64, i64)>,
    /// (item, user, score).
    scores: &'a [(i64, i64, f64)],
    gate: Option<f64>,
}

impl Work<'_> {
    /// One person's figures: assigned and submitted work, review outcomes,
    /// gold scores against the gate, and agreement with the others.
    fn person(&self, u: &User, overlap: &Overlap<'_>) -> PersonFigures {
        let mine: Vec<_> = self
            .assignments
            .iter()
            .filter(|(_, uid, p, _)| *uid == u.id && p != "review")
            .collect();
        let (approved, rejected, corrected) = self
            .reviews
            .iter()
            .find(|(uid, ..)| *uid == u.id)
            .map(|(_, a, r, c)| (*a, *r, *c))
            .unwrap_or_default();
        let golds: Vec<f64> = self
            .scores
            .iter()
            .filter(|(_, uid, _)| *uid == u.id)
            .map(|(_, _, s)| *s)
            .collect();
        let gold_mean = (!golds.is_empty()).then(|| golds.iter().sum::<f64>() / golds.len() as f64);
        let total = approved + rejected + corrected;
        PersonFigures {
            fingerprint: u.fingerprint.clone(),
            name: u.name.clone(),
            assigned: mine.len(),
            submitted: mine
                .iter()
                .filter(|(_, _, _, s)| {
                    matches!(
                        s,
                        AssignmentState::Submitted
                            | AssignmentState::Approved
                            | AssignmentState::Rejected
                    )
                })
                .count(),
            approved,
            corrected,
            rejected,
            acceptance: (total > 0).then(|| (approved + corrected) as f64 / total as f64),
            gold_items: golds.len(),
            gold_mean,
            below_gate: matches!((self.gate, gold_mean), (Some(g), Some(m)) if m < g),
            // Against the consensus of the others: majority presence.
            kappa_vs_consensus: overlap.kappa_vs_consensus(&u.fingerprint),
        }
    }
}

impl Session {
    /// The consensus of the people who labelled an item (reviewers and
    /// admins), from their live labels.
    pub fn consensus(&mut self, item_id: i64) -> Result<Labels> {
        let workers: BTreeSet<String> = self
            .item_work(item_id)?
            .into_iter()
            .map(|(f, _, _, _)| f)
            .collect();
        let by = labels_by(self.project.store.conn(), item_id)?
            .into_iter()
            .filter(|(who, _)| workers.contains(who))
            .collect();
        Ok(consensus(&by))
    }

    /// Every quality figure of the project (admin, reviewer, auditor; no
    /// item content beyond what the figures summarise).
    pub fn quality_report(&mut self) -> Result<QualityReport> {
        if self.user.role == Role::Annotator {
            self.require(Action::ReadAudit, Some("quality report".into()))?;
        }
        let conn = self.project.store.conn();
        let users = store::list_users(conn)?;
        let classes = store::list_classes(conn)?;
        let counts = store::item_status_counts(conn)?;
        let mut report = QualityReport {
            items: counts.values().sum(),
            ..QualityReport::default()
        };
        for status in crate::model::ItemStatus::ALL.iter().map(|s| s.as_str()) {
            let n = counts.get(status).copied().unwrap_or(0);
            report.progress.push((status.to_string(), n));
        }
        let assignments = store::all_assignments(conn)?;
        let gate = store::setting(conn, "quality_gate")?
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|g| *g > 0.0);
        report.quality_gate = gate;
        let scores = store::gold_scores(conn)?;
        let name_of = |fpr: &str| -> String {
            users
                .iter()
                .find(|u| u.fingerprint == fpr)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| fpr.to_string())
        };
        let overlap = Overlap::of(conn, &users, &classes, &assignments)?;
        report.overlap_items = overlap.items.len();
        if !overlap.items.is_empty() {
            report.agreement_overall = overlap.presence(None);
            for c in &classes {
                report
                    .agreement_per_class
                    .push(overlap.presence(Some(c.id)));
            }
        }
        for (i, a) in overlap.coders.iter().enumerate() {
            for b in &overlap.coders[i + 1..] {
                if let Some(pair) = overlap.pair(a, b, &name_of) {
                    report.pairs.push(pair);
                }
            }
        }
        let work = Work {
            assignments: &assignments,
            reviews: store::review_counts(conn)?,
            scores: &scores,
            gate,
        };
        let workers_of: BTreeSet<i64> = assignments
            .iter()
            .filter(|(_, _, p, _)| p != "review")
            .map(|(_, u, _, _)| *u)
            .collect();
        for u in users.iter().filter(|u| workers_of.contains(&u.id)) {
            report.people.push(work.person(u, &overlap));
        }
        for (user, day, n) in store::revisions_per_day(conn)? {
            let fpr = users
                .iter()
                .find(|u| u.id == user)
                .map(|u: &User| u.fingerprint.clone())
                .unwrap_or_default();
            report.throughput.push((day, fpr, n));
        }
        report.rejection_reasons = store::rejection_reasons(conn)?;
        report.names = users
            .iter()
            .map(|u| (u.fingerprint.clone(), u.name.clone()))
            .collect();
        report.held_items = held_items(conn)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BBox;

    fn b(x: f64) -> AnnotationDraft {
        AnnotationDraft::new(
            1,
            Geometry::BBox(BBox {
                x,
                y: 0.0,
                w: 10.0,
                h: 10.0,
            }),
        )
    }

    #[test]
    fn consensus_keeps_what_a_majority_drew_and_averages_it() {
        let mut by = BTreeMap::new();
        by.insert("a".to_string(), vec![b(0.0), b(100.0)]);
        by.insert("b".to_string(), vec![b(2.0)]);
        by.insert(
            "c".to_string(),
            vec![b(1.0), AnnotationDraft::new(2, Geometry::Tag)],
        );
        let got = consensus(&by);
        // The box near 0 has three votes (mean x 1); the one at 100 and
        // the tag have one of three: dropped.
        assert_eq!(got, vec![b(1.0)]);
    }

    #[test]
    fn gold_score_is_micro_f1_over_kinds() {
        assert_eq!(gold_score(&vec![b(0.0)], &vec![b(1.0)]), 1.0);
        assert_eq!(gold_score(&vec![b(50.0)], &vec![b(0.0)]), 0.0);
        // One of two found, nothing extra: F1 = 2·1 / (2·1 + 0 + 1).
        let got = gold_score(&vec![b(0.0)], &vec![b(0.0), b(40.0)]);
        assert!((got - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(gold_score(&Vec::new(), &Vec::new()), 1.0);
    }
}
