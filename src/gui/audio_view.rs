//! The recording view for audio items: a time ruler, the waveform overview
//! (min/max per pixel column from the cached peaks), segments in their class
//! colour, and the playhead. Drag on empty space creates a segment, drag a
//! segment's edge to adjust it, click to select or seek; the wheel zooms to
//! the cursor and Shift+wheel (or middle drag) scrolls in time.

use egui::{Color32, CornerRadius, PointerButton, Rect, Sense, Stroke, StrokeKind, Vec2, pos2};

use super::canvas::colour_of;
use crate::model::{Annotation, LabelClass};
use crate::peaks::Peaks;

/// How close (screen points) the pointer must be to grab a segment edge.
const EDGE_GRAB: f32 = 6.0;
/// Shortest segment a drag creates (shorter is taken as a click).
const MIN_SEGMENT_SECS: f64 = 0.05;
const RULER_HEIGHT: f32 = 22.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Edge {
    Start,
    End,
}

#[derive(Clone, Debug, PartialEq)]
enum Drag {
    Creating {
        start: f64,
        current: f64,
    },
    Edge {
        id: i64,
        edge: Edge,
        other: f64,
        current: f64,
    },
}

/// State across frames: the visible time window and the gesture in progress.
#[derive(Default)]
pub struct AudioViewState {
    /// First visible second and seconds visible (`None`: the whole recording).
    window: Option<(f64, f64)>,
    drag: Option<Drag>,
    /// Waveform rect and the time window drawn in it, last frame (tests).
    pub last_layout: Option<(Rect, f64, f64)>,
}

impl AudioViewState {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Screen x of a time in the last frame (tests).
    pub fn screen_x(&self, secs: f64) -> Option<f32> {
        let (rect, start, len) = self.last_layout?;
        Some(rect.left() + ((secs - start) / len) as f32 * rect.width())
    }

    /// Screen y in the middle of the waveform (tests).
    pub fn mid_y(&self) -> Option<f32> {
        self.last_layout.map(|(r, ..)| r.center().y)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AudioAction {
    Create {
        start_secs: f64,
        end_secs: f64,
    },
    Resize {
        id: i64,
        start_secs: f64,
        end_secs: f64,
    },
    /// Select a segment (or toggle it with `additive`), or clear.
    Select {
        id: Option<i64>,
        additive: bool,
    },
    Seek(f64),
}

/// A readable step for ruler ticks at this zoom.
fn tick_step(secs_per_px: f64) -> f64 {
    let target = secs_per_px * 90.0;
    [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|s| *s >= target)
    .unwrap_or(7200.0)
}

fn format_time(secs: f64) -> String {
    let m = (secs / 60.0).floor();
    let s = secs - m * 60.0;
    if m >= 60.0 {
        format!("{}:{:02}:{:04.1}", (m / 60.0).floor(), (m % 60.0) as u32, s)
    } else {
        format!("{}:{:04.1}", m as u32, s)
    }
}

/// Where the recording is drawn this frame (after zoom and scroll) and the
/// segments shown in it; input and painting are its methods.
struct Frame<'a> {
    /// Ruler and waveform.
    outer: Rect,
    /// The waveform below the ruler.
    wave: Rect,
    /// First visible second and seconds visible.
    start: f64,
    len: f64,
    duration: f64,
    /// Segments not hidden, with their start and end.
    segments: Vec<(&'a Annotation, f64, f64)>,
}

/// Draws the recording and its segments and turns pointer input into
/// [`AudioAction`]s.
#[allow(clippy::too_many_arguments)]
pub fn audio_ui(
    ui: &mut egui::Ui,
    state: &mut AudioViewState,
    peaks: Option<&Peaks>,
    duration_secs: f64,
    annotations: &[Annotation],
    classes: &[LabelClass],
    selected: &std::collections::BTreeSet<i64>,
    playhead_secs: f64,
) -> Vec<AudioAction> {
    let mut actions = Vec::new();
    let duration = duration_secs.max(0.001);
    let height = (ui.available_height() - 10.0).clamp(120.0, 320.0);
    let (outer, response) = ui.allocate_exact_size(
        Vec2::new(ui.available_width(), height),
        Sense::click_and_drag(),
    );
    let wave = Rect::from_min_max(pos2(outer.left(), outer.top() + RULER_HEIGHT), outer.max);
    let (start, len) = zoom_and_scroll(ui, state, &response, wave, duration);
    state.window = Some((start, len));
    state.last_layout = Some((wave, start, len));
    let segments = annotations
        .iter()
        .filter(|a| !a.hidden)
        .filter_map(|a| {
            let (start, end) = a.geometry.time_range()?;
            Some((a, start, end))
        })
        .collect();
    let frame = Frame {
        outer,
        wave,
        start,
        len,
        duration,
        segments,
    };
    frame.pointer_input(ui, state, &response, &mut actions);

    let painter = ui.painter_at(outer);
    let visuals = ui.visuals();
    painter.rect_filled(wave, CornerRadius::ZERO, Color32::from_gray(22));
    frame.paint_ruler(&painter, visuals);
    frame.paint_segments(&painter, classes, selected);
    frame.paint_waveform(&painter, peaks, visuals);
    frame.paint_drag_and_playhead(&painter, state, playhead_secs);
    actions
}

/// The visible time window after this frame's input: the wheel zooms around
/// the cursor; Shift+wheel and middle drag scroll.
fn zoom_and_scroll(
    ui: &egui::Ui,
    state: &AudioViewState,
    response: &egui::Response,
    wave: Rect,
    duration: f64,
) -> (f64, f64) {
    let (mut start, mut len) = state.window.unwrap_or((0.0, duration));
    if let Some(hover) = response.hover_pos() {
        let (scroll, zoom, shift) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers.shift));
        let at = start + f64::from((hover.x - wave.left()) / wave.width()) * len;
        let factor = if zoom != 1.0 {
            1.0 / f64::from(zoom)
        } else if !shift && scroll.y != 0.0 {
            (1.0 - f64::from(scroll.y) * 0.002).clamp(0.5, 2.0)
        } else {
            1.0
        };
        if factor != 1.0 {
            let new_len = (len * factor).clamp(0.5, duration);
            start = at - (at - start) * new_len / len;
            len = new_len;
        }
        if shift && scroll.y != 0.0 {
            start -= f64::from(scroll.y) / f64::from(wave.width()) * len;
        }
    }
    if response.dragged_by(PointerButton::Middle) {
        start -= f64::from(response.drag_delta().x / wave.width()) * len;
    }
    start = start.clamp(0.0, (duration - len).max(0.0));
    (start, len)
}

impl Frame<'_> {
    /// Screen x of a time.
    fn to_x(&self, t: f64) -> f32 {
        self.wave.left() + ((t - self.start) / self.len) as f32 * self.wave.width()
    }

    /// The time at screen x, inside the recording.
    fn to_t(&self, x: f32) -> f64 {
        (self.start + f64::from((x - self.wave.left()) / self.wave.width()) * self.len)
            .clamp(0.0, self.duration)
    }

    /// The edge of an unlocked segment at screen x: the segment, which edge,
    /// and where its other edge is.
    fn edge_at(&self, x: f32) -> Option<(i64, Edge, f64)> {
        self.segments
            .iter()
            .filter(|(a, ..)| !a.locked)
            .find_map(|(a, s, e)| {
                if (self.to_x(*s) - x).abs() <= EDGE_GRAB {
                    Some((a.id, Edge::Start, *e))
                } else if (self.to_x(*e) - x).abs() <= EDGE_GRAB {
                    Some((a.id, Edge::End, *s))
                } else {
                    None
                }
            })
    }

    /// A drag from a segment's edge moves that edge; from anywhere else it
    /// draws a new segment. A click selects the shortest segment under it
    /// and seeks there.
    fn pointer_input(
        &self,
        ui: &egui::Ui,
        state: &mut AudioViewState,
        response: &egui::Response,
        actions: &mut Vec<AudioAction>,
    ) {
        if response.drag_started_by(PointerButton::Primary)
            && let Some(origin) = ui.input(|i| i.pointer.press_origin())
        {
            state.drag = Some(match self.edge_at(origin.x) {
                Some((id, edge, other)) => Drag::Edge {
                    id,
                    edge,
                    other,
                    current: self.to_t(origin.x),
                },
                None => {
                    let t = self.to_t(origin.x);
                    Drag::Creating {
                        start: t,
                        current: t,
                    }
                }
            });
        }
        if response.dragged_by(PointerButton::Primary)
            && let Some(p) = ui.input(|i| i.pointer.interact_pos())
        {
            match &mut state.drag {
                Some(Drag::Creating { current, .. } | Drag::Edge { current, .. }) => {
                    *current = self.to_t(p.x)
                }
                None => {}
            }
        }
        if response.drag_stopped() {
            let round = |t: f64| (t * 1000.0).round() / 1000.0;
            match state.drag.take() {
                Some(Drag::Creating { start, current })
                    if (current - start).abs() >= MIN_SEGMENT_SECS =>
                {
                    actions.push(AudioAction::Create {
                        start_secs: round(start.min(current)),
                        end_secs: round(start.max(current)),
                    });
                }
                Some(Drag::Edge {
                    id, other, current, ..
                }) if (current - other).abs() >= MIN_SEGMENT_SECS => {
                    actions.push(AudioAction::Resize {
                        id,
                        start_secs: round(other.min(current)),
                        end_secs: round(other.max(current)),
                    });
                }
                _ => {}
            }
        } else if response.clicked()
            && let Some(p) = response.interact_pointer_pos()
        {
            let t = self.to_t(p.x);
            let hit = self
                .segments
                .iter()
                .filter(|(_, s, e)| *s <= t && t <= *e)
                .min_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)));
            let additive = ui.input(|i| i.modifiers.command || i.modifiers.shift);
            actions.push(AudioAction::Select {
                id: hit.map(|(a, ..)| a.id),
                additive,
            });
            actions.push(AudioAction::Seek(t));
        }
    }

    /// Time ticks and labels above the waveform.
    fn paint_ruler(&self, painter: &egui::Painter, visuals: &egui::Visuals) {
        let (outer, start, len) = (self.outer, self.start, self.len);
        let step = tick_step(len / f64::from(self.wave.width().max(1.0)));
        let mut tick = (start / step).floor() * step;
        while tick <= start + len {
            let x = self.to_x(tick);
            painter.line_segment(
                [
                    pos2(x, outer.top() + 12.0),
                    pos2(x, outer.top() + RULER_HEIGHT),
                ],
                Stroke::new(1.0, visuals.weak_text_color()),
            );
            painter.text(
                pos2(x + 3.0, outer.top()),
                egui::Align2::LEFT_TOP,
                format_time(tick),
                egui::FontId::monospace(11.0),
                visuals.weak_text_color(),
            );
            tick += step;
        }
    }

    /// Segments under the waveform, in their class colour with its name.
    fn paint_segments(
        &self,
        painter: &egui::Painter,
        classes: &[LabelClass],
        selected: &std::collections::BTreeSet<i64>,
    ) {
        let wave = self.wave;
        for (a, s, e) in &self.segments {
            let colour = colour_of(classes, a.class_id);
            let r = Rect::from_min_max(
                pos2(self.to_x(*s), wave.top()),
                pos2(self.to_x(*e), wave.bottom()),
            );
            let chosen = selected.contains(&a.id);
            painter.rect_filled(
                r,
                CornerRadius::ZERO,
                colour.gamma_multiply(if chosen { 0.35 } else { 0.18 }),
            );
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(if chosen { 2.0 } else { 1.0 }, colour),
                StrokeKind::Inside,
            );
            if let Some(class) = classes.iter().find(|c| c.id == a.class_id) {
                painter.text(
                    r.left_top() + Vec2::new(3.0, 2.0),
                    egui::Align2::LEFT_TOP,
                    &class.name,
                    egui::FontId::proportional(12.0),
                    colour,
                );
            }
        }
    }

    /// Waveform: one vertical line per pixel column, min to max (a note
    /// while the peaks are still being computed).
    fn paint_waveform(
        &self,
        painter: &egui::Painter,
        peaks: Option<&Peaks>,
        visuals: &egui::Visuals,
    ) {
        let (wave, start, len) = (self.wave, self.start, self.len);
        if let Some(peaks) = peaks {
            let mid = wave.center().y;
            let half = wave.height() * 0.45;
            let colour = Color32::from_rgb(110, 180, 240);
            let columns = wave.width().max(1.0) as usize;
            let per_px = len / columns as f64;
            let mut lines = Vec::with_capacity(columns);
            for c in 0..columns {
                let t0 = start + c as f64 * per_px;
                if let Some((lo, hi)) = peaks.range(t0, t0 + per_px) {
                    let x = wave.left() + c as f32 + 0.5;
                    let (y0, y1) = (
                        mid - f32::from(hi) / 32767.0 * half,
                        mid - f32::from(lo) / 32767.0 * half,
                    );
                    lines.push(egui::Shape::line_segment(
                        [pos2(x, y0), pos2(x, y1.max(y0 + 1.0))],
                        Stroke::new(1.0, colour),
                    ));
                }
            }
            painter.extend(lines);
        } else {
            painter.text(
                wave.center(),
                egui::Align2::CENTER_CENTER,
                "Preparing waveform…",
                egui::FontId::proportional(14.0),
                visuals.weak_text_color(),
            );
        }
    }

    /// The segment being drawn or resized, and the playhead.
    fn paint_drag_and_playhead(
        &self,
        painter: &egui::Painter,
        state: &AudioViewState,
        playhead_secs: f64,
    ) {
        let wave = self.wave;
        if let Some(
            Drag::Creating {
                start: a,
                current: b,
            }
            | Drag::Edge {
                other: a,
                current: b,
                ..
            },
        ) = &state.drag
        {
            let r = Rect::from_min_max(
                pos2(self.to_x(a.min(*b)), wave.top()),
                pos2(self.to_x(a.max(*b)), wave.bottom()),
            );
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(2.0, Color32::WHITE),
                StrokeKind::Inside,
            );
        }
        let x = self.to_x(playhead_secs);
        if (wave.left()..=wave.right()).contains(&x) {
            painter.line_segment(
                [pos2(x, wave.top()), pos2(x, wave.bottom())],
                Stroke::new(2.0, Color32::from_rgb(255, 220, 80)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_readable_and_times_formatted() {
        assert_eq!(tick_step(0.001), 0.1);
        assert_eq!(tick_step(0.05), 5.0);
        assert_eq!(format_time(75.25), "1:15.2");
        assert_eq!(format_time(3725.0), "1:02:05.0");
    }
}
