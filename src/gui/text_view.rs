//! The document view for text items: the text laid out with wrapping, NER
//! spans highlighted in their class colour, and a selection made with the
//! mouse (snapped to whole words) or the keyboard (Shift+arrows, Ctrl for
//! words). Offsets are char offsets, as stored; egui's galley cursors count
//! chars too, so pointer positions map exactly to stored offsets.

use egui::text::{CCursor, LayoutJob, TextFormat};
use egui::{Color32, FontId, Key, Sense, Vec2};

use super::canvas::colour_of;
use crate::model::{Annotation, LabelClass};
use crate::text_offsets::snap_to_words;

/// State kept across frames: the current selection (char range).
#[derive(Default)]
pub struct TextViewState {
    /// (anchor, caret) in chars; equal when nothing is selected.
    pub selection: Option<(usize, usize)>,
    drag_anchor: Option<usize>,
    /// Layout origin and wrap width of the last frame (tests map offsets to screen).
    pub last_galley: Option<(egui::Pos2, std::sync::Arc<egui::Galley>)>,
}

impl TextViewState {
    /// The selected range, ordered, if it is not empty.
    pub fn range(&self) -> Option<(usize, usize)> {
        let (a, b) = self.selection?;
        (a != b).then_some((a.min(b), a.max(b)))
    }

    pub fn clear(&mut self) {
        self.selection = None;
        self.drag_anchor = None;
    }

    /// Screen position of a char offset in the last frame (tests).
    pub fn screen_pos(&self, chars: usize) -> Option<egui::Pos2> {
        let (origin, galley) = self.last_galley.as_ref()?;
        let r = galley.pos_from_cursor(CCursor::new(chars));
        Some(*origin + r.center().to_vec2())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TextAction {
    /// A label (span) was clicked.
    Select(Option<i64>),
}

/// A span label on the document: the label and its char range.
type SpanAt<'a> = (&'a Annotation, usize, usize);

/// Draws the document and handles selection. `selected` spans get a
/// stronger highlight.
pub fn text_ui(
    ui: &mut egui::Ui,
    state: &mut TextViewState,
    text: &str,
    annotations: &[Annotation],
    classes: &[LabelClass],
    selected: &std::collections::BTreeSet<i64>,
) -> Vec<TextAction> {
    let mut actions = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let spans: Vec<SpanAt<'_>> = annotations
        .iter()
        .filter(|a| !a.hidden)
        .filter_map(|a| {
            let (start, end) = a.geometry.char_range()?;
            Some((a, start as usize, end as usize))
        })
        .collect();
    let text_colour = ui.visuals().text_color();
    let job = layout_job(ui, state, &chars, &spans, classes, selected, text_colour);
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let (rect, response) =
        ui.allocate_exact_size(galley.size() + Vec2::new(0.0, 8.0), Sense::click_and_drag());
    let origin = rect.min;
    let char_at = |pos: egui::Pos2| galley.cursor_from_pos(pos - origin).index.0.min(n);
    pointer_input(ui, state, &response, char_at, text, &spans, &mut actions);
    keyboard_selection(ui, state, &chars);

    ui.painter().galley(origin, galley.clone(), text_colour);
    paint_relations(ui, origin, &galley, &spans, annotations, classes, selected);
    state.last_galley = Some((origin, galley));
    actions
}

/// The text as one layout section per run of equal formatting: spans in
/// their class colour (the innermost, latest one wins; selected ones
/// stronger and underlined), the selection on top.
fn layout_job(
    ui: &egui::Ui,
    state: &TextViewState,
    chars: &[char],
    spans: &[SpanAt<'_>],
    classes: &[LabelClass],
    selected: &std::collections::BTreeSet<i64>,
    text_colour: Color32,
) -> LayoutJob {
    let n = chars.len();
    // Per-char background: the innermost (latest) span wins, selection on top.
    let mut background = vec![Color32::TRANSPARENT; n];
    let mut underline = vec![false; n];
    for (a, s, e) in spans {
        let alpha = if selected.contains(&a.id) { 0.55 } else { 0.3 };
        let colour = colour_of(classes, a.class_id).gamma_multiply(alpha);
        for i in *s..(*e).min(n) {
            background[i] = colour;
            underline[i] = selected.contains(&a.id);
        }
    }
    if let Some((s, e)) = state.range() {
        for bg in background.iter_mut().take(e.min(n)).skip(s) {
            *bg = Color32::from_rgba_unmultiplied(90, 140, 255, 110);
        }
    }
    // One layout section per run of equal formatting.
    let font = FontId::proportional(16.0);
    let mut job = LayoutJob {
        wrap: egui::text::TextWrapping {
            max_width: ui.available_width().max(100.0),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut run_start = 0;
    for i in 1..=n {
        if i == n || background[i] != background[run_start] || underline[i] != underline[run_start]
        {
            let piece: String = chars[run_start..i].iter().collect();
            let mut format = TextFormat::simple(font.clone(), text_colour);
            format.background = background[run_start];
            if underline[run_start] {
                format.underline = egui::Stroke::new(1.5, text_colour);
            }
            job.append(&piece, 0.0, format);
            run_start = i;
        }
    }
    job
}

/// Mouse: a drag selects (snapped to whole words when let go); a click
/// selects the innermost span under it and drops the selection.
fn pointer_input(
    ui: &egui::Ui,
    state: &mut TextViewState,
    response: &egui::Response,
    char_at: impl Fn(egui::Pos2) -> usize,
    text: &str,
    spans: &[SpanAt<'_>],
    actions: &mut Vec<TextAction>,
) {
    if response.drag_started()
        && let Some(p) = ui.input(|i| i.pointer.press_origin())
    {
        let c = char_at(p);
        state.drag_anchor = Some(c);
        state.selection = Some((c, c));
    }
    if response.dragged()
        && let (Some(anchor), Some(p)) = (state.drag_anchor, ui.input(|i| i.pointer.interact_pos()))
    {
        state.selection = Some((anchor, char_at(p)));
    }
    if response.drag_stopped() {
        // Mouse selections snap to whole words, as annotators expect.
        if let Some((s, e)) = state.range() {
            state.selection = Some(snap_to_words(text, s, e));
        }
        state.drag_anchor = None;
    } else if response.clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        let c = char_at(p);
        // Innermost span under the click: the shortest one containing it.
        let hit = spans
            .iter()
            .filter(|(_, s, e)| *s <= c && c < *e)
            .min_by_key(|(_, s, e)| e - s)
            .map(|(a, ..)| a.id);
        actions.push(TextAction::Select(hit));
        state.selection = None;
    }
}

/// Keyboard: Shift+arrows move the caret end of the selection (Ctrl: by word).
fn keyboard_selection(ui: &egui::Ui, state: &mut TextViewState, chars: &[char]) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let n = chars.len();
    let (left, right, word) = ui.input(|i| {
        let shift = i.modifiers.shift;
        (
            shift && i.key_pressed(Key::ArrowLeft),
            shift && i.key_pressed(Key::ArrowRight),
            i.modifiers.command,
        )
    });
    if left || right {
        let (anchor, caret) = state.selection.unwrap_or((0, 0));
        let mut c = caret;
        let is_word = |i: usize| chars.get(i).is_some_and(|ch| ch.is_alphanumeric());
        if right {
            c = (c + 1).min(n);
            while word && c < n && is_word(c - 1) && is_word(c) {
                c += 1;
            }
        } else {
            c = c.saturating_sub(1);
            while word && c > 0 && is_word(c - 1) && is_word(c) {
                c -= 1;
            }
        }
        state.selection = Some((anchor, c));
    }
}

/// Relations: an arrow from the start of one span to the start of the other.
fn paint_relations(
    ui: &egui::Ui,
    origin: egui::Pos2,
    galley: &egui::Galley,
    spans: &[SpanAt<'_>],
    annotations: &[Annotation],
    classes: &[LabelClass],
    selected: &std::collections::BTreeSet<i64>,
) {
    let span_start = |id: i64| {
        spans.iter().find(|(a, ..)| a.id == id).map(|(_, s, _)| {
            let r = galley.pos_from_cursor(CCursor::new(*s));
            origin + Vec2::new(r.left() + 2.0, r.top())
        })
    };
    for a in annotations.iter().filter(|a| !a.hidden) {
        if let Some((from, to)) = a.geometry.linked()
            && let (Some(p), Some(q)) = (span_start(from), span_start(to))
        {
            let colour = colour_of(classes, a.class_id);
            let width = if selected.contains(&a.id) { 2.5 } else { 1.5 };
            // Arc above the line so it does not cover the text.
            let lift = Vec2::new(0.0, -14.0 - (p.x - q.x).abs() * 0.05);
            let mid = p + (q - p) * 0.5 + lift;
            let curve = egui::epaint::QuadraticBezierShape::from_points_stroke(
                [p, mid, q],
                false,
                Color32::TRANSPARENT,
                egui::Stroke::new(width, colour),
            );
            ui.painter().add(curve);
            let dir = (q - mid).normalized();
            let side = Vec2::new(-dir.y, dir.x) * 4.0;
            ui.painter().add(egui::Shape::convex_polygon(
                vec![q, q - dir * 8.0 + side, q - dir * 8.0 - side],
                colour,
                egui::Stroke::NONE,
            ));
        }
    }
}
