//! The quality screen: the same figures as `sealtag quality report`, as
//! charts (egui_plot; the numbers show on hover) and as tables — progress
//! per status, throughput per person and day, review outcomes, agreement
//! per class and per pair, gold scores against the quality gate, and the
//! latest rejection reasons.

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::controller::QualityReport;

/// Open state of the quality window.
#[derive(Default)]
pub struct QualityView {
    pub report: Option<QualityReport>,
    pub error: Option<String>,
}

const PALETTE: [Color32; 6] = [
    Color32::from_rgb(90, 160, 230),
    Color32::from_rgb(240, 170, 60),
    Color32::from_rgb(120, 200, 120),
    Color32::from_rgb(220, 100, 100),
    Color32::from_rgb(180, 130, 220),
    Color32::from_rgb(160, 160, 160),
];

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1} %", 100.0 * v))
}

fn num(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

impl QualityView {
    /// Draws the window; `open` is cleared when the user closes it, and
    /// `refresh` is set when they ask for fresh figures.
    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool, refresh: &mut bool) {
        egui::Window::new("Quality")
            .open(open)
            .default_size([940.0, 640.0])
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                if ui.button("Refresh").clicked() {
                    *refresh = true;
                }
                if let Some(e) = &self.error {
                    ui.colored_label(Color32::from_rgb(240, 110, 110), e);
                }
                let Some(r) = &self.report else {
                    return;
                };
                egui::ScrollArea::vertical().show(ui, |ui| report_ui(ui, r));
            });
    }
}

/// Axis labels for a bar chart whose bars stand at 0, 1, 2…: the name of
/// the bar at each whole number, nothing in between.
fn category_axis(
    names: Vec<String>,
) -> impl Fn(egui_plot::GridMark, &std::ops::RangeInclusive<f64>) -> String {
    move |mark, _| {
        let i = mark.value.round();
        if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// The whole report, top to bottom.
fn report_ui(ui: &mut egui::Ui, r: &QualityReport) {
    ui.columns(2, |cols| {
        progress_chart(&mut cols[0], r);
        throughput_chart(&mut cols[1], r);
    });

    ui.separator();
    people_table(ui, r);

    ui.separator();
    agreement_ui(ui, r);
    if !r.pairs.is_empty() {
        pairs_table(ui, r);
    }

    if !r.rejection_reasons.is_empty() {
        ui.separator();
        ui.heading("Latest rejection reasons");
        for (item, why) in r.rejection_reasons.iter().take(10) {
            ui.label(format!("item {item}: {why}"));
        }
    }
    if let Some(g) = r.quality_gate {
        ui.small(format!(
            "Quality gate: mean gold score below {:.0} % flags a person",
            100.0 * g
        ));
    }
}

/// Items per workflow status.
fn progress_chart(ui: &mut egui::Ui, r: &QualityReport) {
    ui.heading(format!("Progress ({} items)", r.items));
    let bars: Vec<Bar> = r
        .progress
        .iter()
        .enumerate()
        .map(|(i, (status, n))| {
            Bar::new(i as f64, *n as f64)
                .name(status)
                .fill(PALETTE[i % PALETTE.len()])
        })
        .collect();
    let names: Vec<String> = r.progress.iter().map(|(s, _)| s.clone()).collect();
    Plot::new("progress")
        .height(170.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_formatter(category_axis(names))
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("items", bars).width(0.7));
        });
}

/// Label revisions per person and day.
fn throughput_chart(ui: &mut egui::Ui, r: &QualityReport) {
    ui.heading("Throughput (label revisions per day)");
    let people: Vec<String> = {
        let mut p: Vec<String> = r.throughput.iter().map(|(_, f, _)| f.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    let name_of = |fpr: &str| {
        r.names
            .get(fpr)
            .cloned()
            .unwrap_or_else(|| fpr.chars().take(9).collect())
    };
    // Days as 0, 1, 2… from the first day with work; one bar per
    // person and day, side by side.
    if r.throughput.is_empty() {
        // No days to draw: an empty axis would start at 1970.
        ui.label("No label revisions yet");
        return;
    }
    let first_day = r.throughput.iter().map(|(d, _, _)| *d).min().unwrap_or(0);
    const DAY_MS: i64 = 86_400_000;
    let width = 0.8 / people.len().max(1) as f64;
    Plot::new("throughput")
        .height(170.0)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                crate::model::format_time(first_day + i as i64 * DAY_MS)
                    .chars()
                    .take(10)
                    .collect()
            } else {
                String::new()
            }
        })
        .show(ui, |plot| {
            for (i, who) in people.iter().enumerate() {
                let offset = (i as f64 - (people.len() as f64 - 1.0) / 2.0) * width;
                let bars: Vec<Bar> = r
                    .throughput
                    .iter()
                    .filter(|(_, f, _)| f == who)
                    .map(|(day, _, n)| {
                        Bar::new(((day - first_day) / DAY_MS) as f64 + offset, *n as f64)
                            .width(width * 0.9)
                    })
                    .collect();
                plot.bar_chart(BarChart::new(name_of(who), bars).color(PALETTE[i % PALETTE.len()]));
            }
        });
}

/// One row per person: workload, review outcomes, gold and agreement.
fn people_table(ui: &mut egui::Ui, r: &QualityReport) {
    ui.heading("People");
    egui::Grid::new("quality-people")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for h in [
                "name",
                "assigned",
                "submitted",
                "accepted",
                "approved / corrected / rejected",
                "gold mean (items)",
                "κ vs consensus",
                "gate",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for p in &r.people {
                ui.label(&p.name);
                ui.label(p.assigned.to_string());
                ui.label(p.submitted.to_string());
                ui.label(pct(p.acceptance));
                ui.label(format!("{} / {} / {}", p.approved, p.corrected, p.rejected));
                ui.label(format!("{} ({})", pct(p.gold_mean), p.gold_items));
                ui.label(num(p.kappa_vs_consensus));
                if p.below_gate {
                    ui.colored_label(Color32::from_rgb(240, 110, 110), "below");
                } else {
                    ui.label(if r.quality_gate.is_some() {
                        "ok"
                    } else {
                        "–"
                    });
                }
                ui.end_row();
            }
        });
}

/// Overall agreement and α per class (as a chart).
fn agreement_ui(ui: &mut egui::Ui, r: &QualityReport) {
    ui.heading(format!(
        "Agreement on {} item(s) labelled by several people",
        r.overlap_items
    ));
    ui.label(format!(
        "Overall (class presence per item): Krippendorff's α {}, Fleiss' κ {}",
        num(r.agreement_overall.krippendorff_alpha),
        num(r.agreement_overall.fleiss_kappa)
    ));
    let classes: Vec<_> = r
        .agreement_per_class
        .iter()
        .filter(|c| c.krippendorff_alpha.is_some())
        .collect();
    if !classes.is_empty() {
        let names: Vec<String> = classes.iter().map(|c| c.class.clone()).collect();
        let bars: Vec<Bar> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Bar::new(i as f64, c.krippendorff_alpha.unwrap_or(0.0))
                    .name(&c.class)
                    .fill(PALETTE[0])
            })
            .collect();
        Plot::new("agreement")
            .height(160.0)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .x_axis_formatter(category_axis(names))
            .show(ui, |plot| {
                plot.bar_chart(BarChart::new("α per class", bars).width(0.6));
            });
    }
}

/// Agreement between each pair of people, per kind of label.
fn pairs_table(ui: &mut egui::Ui, r: &QualityReport) {
    egui::Grid::new("quality-pairs")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for h in [
                "pair",
                "items",
                "Cohen's κ",
                "shapes F1 (IoU≥0.5)",
                "mean IoU",
                "spans F1 exact / overlap",
                "boundaries F1",
                "WER / CER",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for p in &r.pairs {
                ui.label(format!("{} × {}", p.a, p.b));
                ui.label(p.items.to_string());
                ui.label(num(p.kappa));
                ui.label(num(p.shape_f1));
                ui.label(num(p.shape_mean_iou));
                ui.label(format!(
                    "{} / {}",
                    num(p.span_f1_exact),
                    num(p.span_f1_overlap)
                ));
                ui.label(num(p.segment_boundary_f1));
                ui.label(format!("{} / {}", num(p.wer), num(p.cer)));
                ui.end_row();
            }
        });
}
