//! The schema editor window: admins edit classes, colours, hotkeys, tools,
//! attributes and skeletons on a working copy. It never touches the session;
//! it hands a [`SchemaEditorAction`] to the workspace, which asks the controller.

use egui::{Color32, RichText};
use std::collections::HashSet;

use crate::model::{
    AttributeDef, AttributeKind, LabelClass, Schema, Skeleton, Tool, default_tools,
};

/// What the editor asks the workspace to do.
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaEditorAction {
    /// Apply this class list (`confirm` once the admin accepted losing labels).
    Save {
        classes: Vec<LabelClass>,
        multi_label_tags: bool,
        confirm: bool,
    },
    /// The editor was closed without saving.
    Close,
}

/// Why the controller refused a save, as the workspace reports it back.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveProblem {
    /// The change removes labels; the admin must confirm.
    NeedsConfirmation { labels: usize, detail: String },
    /// The schema is invalid (or anything else went wrong).
    Invalid(String),
}

/// Colours given to new classes, in turn.
const PALETTE: [&str; 12] = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff",
];

const ERROR_RED: Color32 = Color32::from_rgb(240, 110, 110);

/// The kind of an attribute as the kind ComboBox shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KindChoice {
    Bool,
    Choice,
    Text,
}

impl KindChoice {
    const ALL: [KindChoice; 3] = [KindChoice::Bool, KindChoice::Choice, KindChoice::Text];

    fn label(self) -> &'static str {
        match self {
            KindChoice::Bool => "Yes/no",
            KindChoice::Choice => "Choice",
            KindChoice::Text => "Text",
        }
    }
}

/// One attribute being edited; the options stay text until Save.
#[derive(Clone, Debug)]
struct AttrRow {
    name: String,
    kind: KindChoice,
    options: String,
    required: bool,
}

impl AttrRow {
    fn from_def(def: &AttributeDef) -> Self {
        let (kind, options) = match &def.kind {
            AttributeKind::Bool => (KindChoice::Bool, String::new()),
            AttributeKind::Text => (KindChoice::Text, String::new()),
            AttributeKind::Enum { options } => (KindChoice::Choice, options.join(", ")),
        };
        Self {
            name: def.name.clone(),
            kind,
            options,
            required: def.required,
        }
    }

    fn to_def(&self) -> AttributeDef {
        let kind = match self.kind {
            KindChoice::Bool => AttributeKind::Bool,
            KindChoice::Text => AttributeKind::Text,
            KindChoice::Choice => AttributeKind::Enum {
                options: split_list(&self.options),
            },
        };
        AttributeDef {
            name: self.name.trim().to_string(),
            kind,
            required: self.required,
        }
    }
}

/// One class being edited, with text buffers for what is typed as lists.
#[derive(Clone, Debug)]
struct ClassRow {
    /// Stable widget identity across reordering (the class id is 0 for new classes).
    uid: u64,
    /// Name, colour, hotkey, tools and id; attributes and skeleton live below.
    class: LabelClass,
    attrs: Vec<AttrRow>,
    keypoints: String,
    edges: String,
    /// Added in this session: shown expanded.
    is_new: bool,
}

impl ClassRow {
    fn new(uid: u64, class: &LabelClass, is_new: bool) -> Self {
        let (keypoints, edges) = match &class.skeleton {
            Some(s) => (s.keypoints.join(", "), format_edges(&s.edges)),
            None => (String::new(), String::new()),
        };
        Self {
            uid,
            attrs: class.attributes.iter().map(AttrRow::from_def).collect(),
            class: LabelClass {
                attributes: vec![],
                skeleton: None,
                ..class.clone()
            },
            keypoints,
            edges,
            is_new,
        }
    }

    fn display_name(&self) -> String {
        let name = self.class.name.trim();
        if name.is_empty() {
            "(unnamed class)".to_string()
        } else {
            name.to_string()
        }
    }

    /// The class as the controller gets it, or what the admin must fix.
    fn build(&self) -> Result<LabelClass, String> {
        let name = self.class.name.trim().to_string();
        let uses_keypoints = self.class.tools.contains(&Tool::Keypoints);
        let keypoints = split_list(&self.keypoints);
        let skeleton = match parse_edges(&self.edges) {
            Ok(edges) if uses_keypoints => {
                if keypoints.is_empty() {
                    return Err(format!(
                        "Class '{name}' uses keypoints: list at least one keypoint name"
                    ));
                }
                if let Some(e) = edges
                    .iter()
                    .find(|e| e[0] >= keypoints.len() || e[1] >= keypoints.len())
                {
                    return Err(format!(
                        "Class '{name}': edge {}-{} refers to a keypoint that does not exist (numbers start at 0)",
                        e[0], e[1]
                    ));
                }
                Some(Skeleton { keypoints, edges })
            }
            Err(e) if uses_keypoints => return Err(format!("Class '{name}': {e}")),
            // Not shown while keypoints are off; kept as typed so a round trip changes nothing.
            Ok(edges) if !keypoints.is_empty() => Some(Skeleton { keypoints, edges }),
            _ => None,
        };
        Ok(LabelClass {
            name,
            attributes: self.attrs.iter().map(AttrRow::to_def).collect(),
            skeleton,
            ..self.class.clone()
        })
    }
}

/// Pending "this removes labels" question.
#[derive(Clone, Debug)]
struct Confirmation {
    labels: usize,
    detail: String,
}

/// The schema editor window and its working copy.
#[derive(Default)]
pub struct SchemaEditor {
    pub open: bool,
    version: i64,
    multi_label_tags: bool,
    overlapping_spans: bool,
    overlapping_segments: bool,
    rows: Vec<ClassRow>,
    next_uid: u64,
    /// The last Save handed out, re-sent with `confirm` when the admin accepts.
    last_sent: Option<(Vec<LabelClass>, bool)>,
    confirmation: Option<Confirmation>,
    error: Option<String>,
    status: Option<String>,
    /// Scroll this row into view on the next frame.
    scroll_to: Option<u64>,
}

/// What a button press in one class section asks for.
enum RowOp {
    Up(usize),
    Down(usize),
    Remove(usize),
}

impl SchemaEditor {
    /// The overlap rules as set in the editor: (text spans, audio segments).
    /// Saved by the workspace together with the classes.
    pub fn overlap_rules(&self) -> (bool, bool) {
        (self.overlapping_spans, self.overlapping_segments)
    }

    /// Opens the editor on a fresh working copy of `schema`.
    pub fn open_with(&mut self, schema: &Schema) {
        *self = Self {
            open: true,
            version: schema.version,
            multi_label_tags: schema.multi_label_tags,
            overlapping_spans: schema.overlapping_spans,
            overlapping_segments: schema.overlapping_segments,
            ..Self::default()
        };
        for class in &schema.classes {
            let uid = self.fresh_uid();
            self.rows.push(ClassRow::new(uid, class, false));
        }
    }

    fn fresh_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    /// The workspace reports the controller's answer to a Save: `Ok(version)`
    /// closes the editor; a needed confirmation opens the confirmation modal;
    /// any other problem is shown in red and the editor stays open.
    pub fn report(&mut self, result: Result<i64, SaveProblem>) {
        match result {
            Ok(version) => {
                self.version = version;
                self.confirmation = None;
                self.error = None;
                self.last_sent = None;
                self.status = Some(format!("Saved as version {version}"));
                self.open = false;
            }
            Err(SaveProblem::NeedsConfirmation { labels, detail }) => {
                self.error = None;
                self.confirmation = Some(Confirmation { labels, detail });
            }
            Err(SaveProblem::Invalid(message)) => {
                self.confirmation = None;
                self.error = Some(message);
            }
        }
    }

    /// The classes the editor would save, or the first problem found.
    /// The controller checks again; this only spares a round trip.
    fn build_classes(&self) -> Result<Vec<LabelClass>, String> {
        let classes = self
            .rows
            .iter()
            .map(ClassRow::build)
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        let mut hotkeys = HashSet::new();
        for c in &classes {
            if c.name.is_empty() {
                return Err("Every class needs a name".into());
            }
            if !names.insert(c.name.to_lowercase()) {
                return Err(format!("Two classes are named '{}'", c.name));
            }
            if let Some(k) = c.hotkey
                && !hotkeys.insert(k)
            {
                return Err(format!("Hotkey {k} is used by two classes"));
            }
            if c.tools.is_empty() {
                return Err(format!("Class '{}' allows no tool", c.name));
            }
            let mut attrs = HashSet::new();
            for a in &c.attributes {
                if a.name.is_empty() || !attrs.insert(a.name.as_str()) {
                    return Err(format!(
                        "Class '{}': attribute names must be unique and non-empty",
                        c.name
                    ));
                }
                if let AttributeKind::Enum { options } = &a.kind
                    && options.is_empty()
                {
                    return Err(format!(
                        "Class '{}': choice attribute '{}' has no options",
                        c.name, a.name
                    ));
                }
            }
        }
        Ok(classes)
    }

    fn add_class(&mut self) {
        let used: HashSet<u8> = self.rows.iter().filter_map(|r| r.class.hotkey).collect();
        let hotkey = (1..=9).find(|k| !used.contains(k));
        let colours: HashSet<String> = self
            .rows
            .iter()
            .map(|r| r.class.colour.to_lowercase())
            .collect();
        let colour = PALETTE
            .iter()
            .find(|c| !colours.contains(**c))
            .unwrap_or(&PALETTE[self.rows.len() % PALETTE.len()]);
        let class = LabelClass {
            id: 0,
            name: String::new(),
            colour: (*colour).to_string(),
            hotkey,
            tools: default_tools(),
            attributes: vec![],
            skeleton: None,
        };
        let uid = self.fresh_uid();
        self.rows.push(ClassRow::new(uid, &class, true));
        self.scroll_to = Some(uid);
    }

    fn try_save(&mut self) -> Option<SchemaEditorAction> {
        match self.build_classes() {
            Ok(classes) => {
                self.error = None;
                self.status = None;
                self.last_sent = Some((classes.clone(), self.multi_label_tags));
                Some(SchemaEditorAction::Save {
                    classes,
                    multi_label_tags: self.multi_label_tags,
                    confirm: false,
                })
            }
            Err(message) => {
                self.error = Some(message);
                None
            }
        }
    }

    /// Shows the window (and the confirmation modal) for one frame.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<SchemaEditorAction> {
        if !self.open {
            return None;
        }
        let mut action = None;
        let mut window_open = true;
        egui::Window::new("Schema editor")
            .id(egui::Id::unique("sealtag-schema-editor"))
            .open(&mut window_open)
            .resizable(true)
            .collapsible(false)
            .default_size([640.0, 560.0])
            .show(ctx, |ui| action = self.window_contents(ui));
        if !window_open && action.is_none() {
            action = Some(SchemaEditorAction::Close);
        }
        if let Some(a) = self.confirmation_modal(ctx) {
            action = Some(a);
        }
        if action == Some(SchemaEditorAction::Close) {
            self.open = false;
            self.confirmation = None;
        }
        action
    }

    fn confirmation_modal(&mut self, ctx: &egui::Context) -> Option<SchemaEditorAction> {
        let confirmation = self.confirmation.as_ref()?;
        let text = format!(
            "This change removes {} label(s): {} — Apply anyway?",
            confirmation.labels, confirmation.detail
        );
        let mut apply = false;
        let mut back = false;
        let response =
            egui::Modal::new(egui::Id::unique("sealtag-schema-confirm")).show(ctx, |ui| {
                ui.set_max_width(420.0);
                ui.heading("Remove labels?");
                ui.label(text);
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    apply = ui
                        .button(RichText::new("Apply anyway").color(ERROR_RED))
                        .clicked();
                    back = ui.button("Go back").clicked();
                });
            });
        if apply {
            self.confirmation = None;
            let (classes, multi_label_tags) = match self.last_sent.clone() {
                Some(sent) => sent,
                None => match self.build_classes() {
                    Ok(classes) => (classes, self.multi_label_tags),
                    Err(message) => {
                        self.error = Some(message);
                        return None;
                    }
                },
            };
            return Some(SchemaEditorAction::Save {
                classes,
                multi_label_tags,
                confirm: true,
            });
        }
        if back || response.should_close() {
            self.confirmation = None;
        }
        None
    }

    fn window_contents(&mut self, ui: &mut egui::Ui) -> Option<SchemaEditorAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Version {}", self.version)).strong());
            ui.separator();
            ui.checkbox(&mut self.multi_label_tags, "Several tags per image")
                .on_hover_text("When off, an item carries at most one tag");
            ui.checkbox(&mut self.overlapping_spans, "Overlapping text spans")
                .on_hover_text("Allow nested or overlapping spans in documents");
            ui.checkbox(&mut self.overlapping_segments, "Overlapping audio segments")
                .on_hover_text("Allow segments that overlap in time (several speakers)");
        });
        ui.separator();

        let footer = 34.0
            + if self.error.is_some() || self.status.is_some() {
                24.0
            } else {
                0.0
            };
        let mut op = None;
        egui::ScrollArea::vertical()
            .id_salt("schema-editor-classes")
            .auto_shrink([false, false])
            .max_height((ui.available_height() - footer).max(120.0))
            .show(ui, |ui| {
                let count = self.rows.len();
                for (index, row) in self.rows.iter_mut().enumerate() {
                    let scroll = self.scroll_to == Some(row.uid);
                    if let Some(o) = class_section(ui, row, index, count, scroll) {
                        op = Some(o);
                    }
                }
                if self.rows.is_empty() {
                    ui.label("No classes yet.");
                }
            });
        self.scroll_to = None;
        match op {
            Some(RowOp::Up(i)) if i > 0 => self.rows.swap(i, i - 1),
            Some(RowOp::Down(i)) if i + 1 < self.rows.len() => self.rows.swap(i, i + 1),
            Some(RowOp::Remove(i)) if i < self.rows.len() => {
                self.rows.remove(i);
            }
            _ => {}
        }

        ui.separator();
        if let Some(message) = &self.error {
            ui.colored_label(ERROR_RED, message);
        } else if let Some(status) = &self.status {
            ui.label(status);
        }
        ui.horizontal(|ui| {
            if ui.button("Add class").clicked() {
                self.add_class();
            }
            ui.separator();
            if ui.button("Save").clicked() {
                action = self.try_save();
            }
            if ui.button("Cancel").clicked() {
                action = Some(SchemaEditorAction::Close);
            }
        });
        action
    }
}

/// One class as a collapsing section; returns a move/remove request.
fn class_section(
    ui: &mut egui::Ui,
    row: &mut ClassRow,
    index: usize,
    count: usize,
    scroll: bool,
) -> Option<RowOp> {
    let mut op = None;
    let [r, g, b] = row.class.rgb();
    let title = match row.class.hotkey {
        Some(k) => format!("{}  [{k}]", row.display_name()),
        None => row.display_name(),
    };
    let header =
        egui::CollapsingHeader::new(RichText::new(title).color(Color32::from_rgb(r, g, b)))
            .id_salt(("schema-class", row.uid))
            .default_open(row.is_new)
            .show(ui, |ui| {
                ui.push_id(row.uid, |ui| {
                    op = class_body(ui, row, index, count);
                });
            });
    if scroll {
        header
            .header_response
            .scroll_to_me(Some(egui::Align::Center));
    }
    op
}

/// The body of one class's section: its fields, skeleton (keypoint classes),
/// attributes, and buttons to move or remove it.
fn class_body(ui: &mut egui::Ui, row: &mut ClassRow, index: usize, count: usize) -> Option<RowOp> {
    class_fields(ui, row);
    if row.class.tools.contains(&Tool::Keypoints) {
        skeleton_fields(ui, row);
    }
    attribute_rows(ui, row);
    row_buttons(ui, index, count)
}

/// Name, colour, hotkey and the tools that draw the class.
fn class_fields(ui: &mut egui::Ui, row: &mut ClassRow) {
    egui::Grid::new("class-grid")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Name");
            let name = ui
                .add(egui::TextEdit::singleline(&mut row.class.name).desired_width(240.0))
                .labelled_by(label.id);
            if row.is_new
                && row.class.name.is_empty()
                && !name.has_focus()
                && ui.memory(|m| m.focused().is_none())
            {
                name.request_focus();
            }
            ui.end_row();

            let label = ui.label("Colour");
            let mut rgb = row.class.rgb();
            if ui
                .color_edit_button_srgb(&mut rgb)
                .labelled_by(label.id)
                .changed()
            {
                row.class.colour = to_hex(rgb);
            }
            ui.end_row();

            let label = ui.label("Hotkey");
            let selected = row
                .class
                .hotkey
                .map_or_else(|| "None".to_string(), |k| k.to_string());
            egui::ComboBox::from_id_salt("hotkey")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut row.class.hotkey, None, "None");
                    for k in 1..=9u8 {
                        ui.selectable_value(&mut row.class.hotkey, Some(k), k.to_string());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();

            ui.label("Tools");
            ui.horizontal_wrapped(|ui| {
                for tool in Tool::ALL {
                    let mut on = row.class.tools.contains(&tool);
                    if ui.checkbox(&mut on, tool.label()).changed() {
                        if on {
                            row.class.tools.push(tool);
                            // Keep the canonical order so unrelated edits do not reorder tools.
                            row.class
                                .tools
                                .sort_by_key(|t| Tool::ALL.iter().position(|a| a == t));
                        } else {
                            row.class.tools.retain(|t| *t != tool);
                        }
                    }
                }
            });
            ui.end_row();
        });
}

/// Keypoint names and the edges between them.
fn skeleton_fields(ui: &mut egui::Ui, row: &mut ClassRow) {
    ui.add_space(4.0);
    ui.label(RichText::new("Skeleton").strong());
    egui::Grid::new("skeleton-grid")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Keypoint names");
            ui.add(
                egui::TextEdit::singleline(&mut row.keypoints)
                    .hint_text("head, left shoulder, right shoulder")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label("Edges");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut row.edges)
                        .hint_text("0-1, 1-2")
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
                if let Err(e) = parse_edges(&row.edges) {
                    ui.colored_label(ERROR_RED, e);
                }
            });
            ui.end_row();
        });
}

/// One line per attribute (name, kind, options, required) and a button to add one.
fn attribute_rows(ui: &mut egui::Ui, row: &mut ClassRow) {
    ui.add_space(4.0);
    ui.label(RichText::new("Attributes").strong());
    let mut remove_attr = None;
    for (i, attr) in row.attrs.iter_mut().enumerate() {
        ui.push_id(("attribute", i), |ui| {
            ui.horizontal_wrapped(|ui| {
                let label = ui.label("Attribute");
                ui.add(
                    egui::TextEdit::singleline(&mut attr.name)
                        .hint_text("name")
                        .desired_width(120.0),
                )
                .labelled_by(label.id);
                let kind_label = ui.label("Kind");
                egui::ComboBox::from_id_salt("kind")
                    .selected_text(attr.kind.label())
                    .show_ui(ui, |ui| {
                        for kind in KindChoice::ALL {
                            ui.selectable_value(&mut attr.kind, kind, kind.label());
                        }
                    })
                    .response
                    .labelled_by(kind_label.id);
                if attr.kind == KindChoice::Choice {
                    let label = ui.label("Options");
                    ui.add(
                        egui::TextEdit::singleline(&mut attr.options)
                            .hint_text("car, truck, bus")
                            .desired_width(180.0),
                    )
                    .labelled_by(label.id);
                }
                ui.checkbox(&mut attr.required, "required");
                if ui.button("Remove attribute").clicked() {
                    remove_attr = Some(i);
                }
            });
        });
    }
    if let Some(i) = remove_attr {
        row.attrs.remove(i);
    }
    if ui.button("Add attribute").clicked() {
        row.attrs.push(AttrRow {
            name: String::new(),
            kind: KindChoice::Bool,
            options: String::new(),
            required: false,
        });
    }
}

/// Move up / Move down / Remove class; returns what was asked.
fn row_buttons(ui: &mut egui::Ui, index: usize, count: usize) -> Option<RowOp> {
    let mut op = None;
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(index > 0, egui::Button::new("Move up"))
            .clicked()
        {
            op = Some(RowOp::Up(index));
        }
        if ui
            .add_enabled(index + 1 < count, egui::Button::new("Move down"))
            .clicked()
        {
            op = Some(RowOp::Down(index));
        }
        if ui
            .button(RichText::new("Remove class").color(ERROR_RED))
            .on_hover_text("Labels of this class are removed on Save (you will be asked first)")
            .clicked()
        {
            op = Some(RowOp::Remove(index));
        }
    });
    op
}

/// Splits a comma-separated list, dropping blanks.
fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Parses skeleton edges written like `0-1, 1-2` (blank means none).
pub fn parse_edges(text: &str) -> Result<Vec<[usize; 2]>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|edge| {
            let parsed = edge
                .split_once('-')
                .and_then(|(a, b)| Some([a.trim().parse().ok()?, b.trim().parse().ok()?]));
            parsed.ok_or_else(|| format!("edge '{edge}' must look like 0-1 (two keypoint numbers)"))
        })
        .collect()
}

/// Writes edges back in the form [`parse_edges`] reads.
pub fn format_edges(edges: &[[usize; 2]]) -> String {
    edges
        .iter()
        .map(|[a, b]| format!("{a}-{b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::default_schema;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    struct State {
        editor: SchemaEditor,
        last: Option<SchemaEditorAction>,
    }

    fn harness(schema: &Schema) -> Harness<'static, State> {
        let mut editor = SchemaEditor::default();
        editor.open_with(schema);
        let mut h = Harness::builder().with_size([900.0, 800.0]).build_ui_state(
            |ui, st: &mut State| {
                if let Some(a) = st.editor.ui(ui.ctx()) {
                    st.last = Some(a);
                }
            },
            State { editor, last: None },
        );
        h.run();
        h
    }

    fn click(h: &mut Harness<'static, State>, label: &str) {
        h.get_by_label(label).click();
        h.run();
    }

    fn saved(h: &mut Harness<'static, State>) -> (Vec<LabelClass>, bool, bool) {
        match h.state_mut().last.take() {
            Some(SchemaEditorAction::Save {
                classes,
                multi_label_tags,
                confirm,
            }) => (classes, multi_label_tags, confirm),
            other => panic!("expected Save, got {other:?}"),
        }
    }

    #[test]
    fn schema_editor_save_unchanged_returns_same_classes() {
        let schema = default_schema();
        let mut h = harness(&schema);
        h.get_by_label_contains("Version 1");
        click(&mut h, "Save");
        let (classes, multi, confirm) = saved(&mut h);
        assert_eq!(classes, schema.classes);
        assert_eq!(multi, schema.multi_label_tags);
        assert!(!confirm);
        assert!(
            h.state().editor.open,
            "the editor waits for the controller's answer"
        );
    }

    #[test]
    fn schema_editor_add_class_and_save() {
        let schema = default_schema();
        let mut h = harness(&schema);
        click(&mut h, "Add class");
        h.get_by_label("Name").focus();
        h.run();
        h.get_by_label("Name").type_text("helmet");
        h.run();
        click(&mut h, "Save");
        let (classes, _, confirm) = saved(&mut h);
        assert!(!confirm);
        assert_eq!(classes.len(), schema.classes.len() + 1);
        let new = classes.last().unwrap();
        assert_eq!(new.name, "helmet");
        assert_eq!(new.id, 0);
        assert_eq!(new.tools, default_tools());
        // All nine hotkeys are taken in the default schema.
        assert_eq!(new.hotkey, None);
        assert!(new.colour.starts_with('#') && new.colour.len() == 7);
        assert_eq!(&classes[..schema.classes.len()], &schema.classes[..]);
    }

    #[test]
    fn schema_editor_duplicate_names_block_save() {
        let schema = default_schema();
        let mut h = harness(&schema);
        click(&mut h, "Add class");
        h.get_by_label("Name").focus();
        h.run();
        h.get_by_label("Name").type_text("Face");
        h.run();
        click(&mut h, "Save");
        assert_eq!(h.state().last, None);
        assert!(h.query_by_label_contains("Two classes are named").is_some());
        assert!(h.state().editor.open);
    }

    #[test]
    fn schema_editor_client_checks() {
        let mut schema = default_schema();
        let mut editor = SchemaEditor::default();
        editor.open_with(&schema);
        assert_eq!(editor.build_classes(), Ok(schema.classes.clone()));

        schema.classes[1].hotkey = Some(1);
        editor.open_with(&schema);
        assert!(editor.build_classes().unwrap_err().contains("Hotkey 1"));

        let mut schema = default_schema();
        schema.classes[0].skeleton = None;
        editor.open_with(&schema);
        assert!(editor.build_classes().unwrap_err().contains("keypoint"));

        let mut schema = default_schema();
        schema.classes[2].attributes[0].kind = AttributeKind::Enum { options: vec![] };
        editor.open_with(&schema);
        assert!(editor.build_classes().unwrap_err().contains("no options"));

        let mut schema = default_schema();
        schema.classes[3].name = "  ".into();
        editor.open_with(&schema);
        assert!(editor.build_classes().unwrap_err().contains("needs a name"));
    }

    #[test]
    fn schema_editor_confirmation_modal() {
        let schema = default_schema();
        let mut h = harness(&schema);
        click(&mut h, "Save");
        let (sent, _, _) = saved(&mut h);

        let problem = || SaveProblem::NeedsConfirmation {
            labels: 3,
            detail: "3 in removed class 'logo'".into(),
        };
        h.state_mut().editor.report(Err(problem()));
        h.run();
        assert!(
            h.query_by_label_contains("This change removes 3 label(s)")
                .is_some()
        );
        click(&mut h, "Go back");
        assert_eq!(h.state().last, None);
        assert!(h.query_by_label_contains("This change removes").is_none());
        assert!(h.state().editor.open);

        h.state_mut().editor.report(Err(problem()));
        h.run();
        click(&mut h, "Apply anyway");
        let (classes, _, confirm) = saved(&mut h);
        assert!(confirm);
        assert_eq!(classes, sent);
        assert!(h.query_by_label_contains("This change removes").is_none());

        h.state_mut().editor.report(Ok(2));
        h.run();
        assert!(!h.state().editor.open);
        assert!(h.query_by_label("Save").is_none());
    }

    #[test]
    fn schema_editor_skeleton_and_attributes() {
        let schema = default_schema();
        let mut h = harness(&schema);
        // Expanding sections also runs the accessibility check on every widget in them.
        click(&mut h, "person  [1]");
        click(&mut h, "vehicle  [3]");
        assert_eq!(
            h.get_by_label("Options").value().as_deref(),
            Some("car, truck, bus, motorbike, bicycle")
        );

        h.get_by_label("Edges").set_text_value_accesskit("0-1, 1-x");
        h.run();
        assert!(
            h.query_by_label_contains("edge '1-x' must look like")
                .is_some()
        );
        click(&mut h, "Save");
        assert_eq!(h.state().last, None);
        assert!(
            h.query_by_label_contains("Class 'person': edge '1-x'")
                .is_some()
        );

        h.get_by_label("Edges").set_text_value_accesskit("0-1, 1-2");
        h.run();
        h.get_by_label("Keypoint names")
            .set_text_value_accesskit("head, neck, tail");
        h.run();
        h.get_by_label("Options")
            .set_text_value_accesskit("car, van");
        h.run();
        click(&mut h, "Save");
        let (classes, _, _) = saved(&mut h);
        let skeleton = classes[0].skeleton.clone().unwrap();
        assert_eq!(skeleton.keypoints, ["head", "neck", "tail"]);
        assert_eq!(skeleton.edges, vec![[0, 1], [1, 2]]);
        assert_eq!(
            classes[2].attributes[0].kind,
            AttributeKind::Enum {
                options: vec!["car".into(), "van".into()]
            }
        );

        // Moving a class down and removing another reorder/shrink the list.
        h.get_all_by_label("Move down").next().unwrap().click();
        h.run();
        click(&mut h, "Save");
        let (classes, _, _) = saved(&mut h);
        assert_eq!(classes[0].name, "face");
        assert_eq!(classes[1].name, "person");
        h.get_all_by_label("Remove class").next().unwrap().click();
        h.run();
        click(&mut h, "Save");
        let (classes, _, _) = saved(&mut h);
        assert_eq!(classes.len(), schema.classes.len() - 1);
        assert_eq!(classes[0].name, "face");
    }

    #[test]
    fn schema_editor_cancel_closes() {
        let mut h = harness(&default_schema());
        click(&mut h, "Cancel");
        assert_eq!(h.state().last, Some(SchemaEditorAction::Close));
        assert!(!h.state().editor.open);
    }

    #[test]
    fn schema_editor_parse_edges() {
        assert_eq!(parse_edges("0-1, 1-2"), Ok(vec![[0, 1], [1, 2]]));
        assert_eq!(parse_edges(" 3 - 4 ,"), Ok(vec![[3, 4]]));
        assert_eq!(parse_edges(""), Ok(vec![]));
        assert!(parse_edges("0-x").unwrap_err().contains("0-x"));
        assert!(parse_edges("0-1, 2").is_err());
        assert_eq!(format_edges(&[[0, 1], [1, 2]]), "0-1, 1-2");
    }

    #[test]
    fn schema_editor_colour_hex() {
        assert_eq!(to_hex([0xe6, 0x19, 0x4b]), "#e6194b");
    }
}
