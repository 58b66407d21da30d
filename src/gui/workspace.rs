//! The labelling workspace: queue on the left, the item in the middle,
//! classes and labels on the right, status bar at the bottom. Panels only
//! read state and push [`WsAction`]s; `apply` hands them to the controller
//! once per frame, and "Saved" is shown only after the controller returned.

use egui::{Color32, Key, RichText};

use super::canvas::{self, CanvasAction, CanvasInput, CanvasState};
use super::commands::Command;
use super::loader::{LoadedContent, Loader};
use crate::controller::Session;
use crate::model::{
    Annotation, Geometry, ItemKind, ItemSummary, LabelChange, LabelClass, format_time, now_ms,
};

const NUMBER_KEYS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// Something the user asked for this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum WsAction {
    SelectItem(usize),
    SelectClass(i64),
    SelectAnnotation(Option<i64>),
    Canvas(CanvasAction),
    Delete(i64),
    Run(Command),
    PlayAudio,
    StopAudio,
}

/// What the workspace asks of the app shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellRequest {
    Lock,
}

/// The save indicator: only the controller's `Ok` turns it to `Saved`.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveState {
    Idle,
    Saved { at_ms: i64 },
    Failed(String),
}

/// What the centre panel shows. Decoded audio and text stay as the loader
/// delivered them; images become a texture.
enum ItemView {
    Empty,
    Loading,
    Image {
        texture: egui::TextureHandle,
        width: u32,
        height: u32,
    },
    Decoded(LoadedContent),
}

pub struct Workspace {
    session: Session,
    items: Vec<ItemSummary>,
    current: Option<usize>,
    classes: Vec<LabelClass>,
    active_class: Option<i64>,
    annotations: Vec<Annotation>,
    selected: Option<i64>,
    view: ItemView,
    loader: Loader,
    canvas: CanvasState,
    pub save_state: SaveState,
    message: Option<String>,
    show_help: bool,
    audio: AudioOut,
}

impl Workspace {
    pub fn new(ctx: &egui::Context, mut session: Session) -> Result<Self, String> {
        let items = session.items().map_err(|e| e.to_string())?;
        let classes = session.classes().map_err(|e| e.to_string())?;
        let loader = Loader::spawn(ctx.clone())
            .map_err(|e| format!("cannot start the decoder thread: {e}"))?;
        let mut ws = Self {
            session,
            items,
            current: None,
            active_class: classes.first().map(|c| c.id),
            classes,
            annotations: Vec::new(),
            selected: None,
            view: ItemView::Empty,
            loader,
            canvas: CanvasState::default(),
            save_state: SaveState::Idle,
            message: None,
            show_help: false,
            audio: AudioOut::default(),
        };
        if !ws.items.is_empty() {
            ws.open_item(0);
        }
        Ok(ws)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }
    pub fn into_session(self) -> Session {
        self.session
    }
    pub fn current_item(&self) -> Option<&ItemSummary> {
        self.current.and_then(|i| self.items.get(i))
    }
    pub fn annotations(&self) -> &[Annotation] {
        &self.annotations
    }
    /// Where the image was drawn last frame, if an image is shown.
    pub fn canvas_view(&self) -> Option<canvas::View> {
        self.canvas.last_view
    }
    pub fn classes(&self) -> &[LabelClass] {
        &self.classes
    }
    pub fn is_loading(&self) -> bool {
        matches!(self.view, ItemView::Loading)
    }
    pub fn has_image(&self) -> bool {
        matches!(self.view, ItemView::Image { .. })
    }

    fn open_item(&mut self, index: usize) {
        let Some(item) = self.items.get(index) else {
            return;
        };
        let item_id = item.id;
        self.current = Some(index);
        self.selected = None;
        self.canvas = CanvasState::default();
        self.audio.stop();
        match self.session.open_item(item_id) {
            Ok(blob) => {
                self.loader.request(blob);
                self.view = ItemView::Loading;
            }
            Err(e) => self.view = ItemView::Decoded(LoadedContent::Failed(e.to_string())),
        }
        self.reload_annotations();
    }

    fn reload_annotations(&mut self) {
        let Some(item) = self.current_item() else {
            return;
        };
        let item_id = item.id;
        match self.session.annotations(item_id) {
            Ok(list) => {
                let count = list.len() as u64;
                self.annotations = list;
                if let Some(item) = self.current.and_then(|i| self.items.get_mut(i)) {
                    item.label_count = count;
                    if count > 0 && item.status == "new" {
                        item.status = "in_progress".into();
                    }
                }
            }
            Err(e) => self.message = Some(e.to_string()),
        }
        if self
            .selected
            .is_some_and(|s| !self.annotations.iter().any(|a| a.id == s))
        {
            self.selected = None;
        }
    }

    /// Receives decoded items from the worker thread.
    fn poll_loader(&mut self, ctx: &egui::Context) {
        while let Ok(loaded) = self.loader.results.try_recv() {
            if self.current_item().map(|i| i.id) != Some(loaded.item_id) {
                continue; // the user moved on; drop stale results
            }
            self.view = match loaded.content {
                LoadedContent::Image {
                    image,
                    width,
                    height,
                } => ItemView::Image {
                    texture: ctx.load_texture(
                        format!("item-{}", loaded.item_id),
                        image,
                        egui::TextureOptions::LINEAR,
                    ),
                    width,
                    height,
                },
                other => ItemView::Decoded(other),
            };
        }
    }

    /// Draws the workspace and applies what the user did.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<ShellRequest> {
        let ctx = ui.ctx().clone();
        self.poll_loader(&ctx);
        let mut actions = Vec::new();

        if !ctx.egui_wants_keyboard_input() {
            actions.extend(Command::pressed(&ctx).into_iter().map(WsAction::Run));
            for (i, key) in NUMBER_KEYS.iter().enumerate() {
                if ctx.input(|inp| inp.key_pressed(*key) && inp.modifiers.is_none())
                    && let Some(class) = self.classes.iter().find(|c| c.hotkey == Some(i as u8 + 1))
                {
                    actions.push(WsAction::SelectClass(class.id));
                }
            }
        }

        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui, &mut actions));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        egui::Panel::left("queue")
            .default_size(300.0)
            .show(ui, |ui| self.queue_ui(ui, &mut actions));
        egui::Panel::right("labels")
            .default_size(240.0)
            .show(ui, |ui| self.labels_ui(ui, &mut actions));
        egui::CentralPanel::default().show(ui, |ui| self.item_ui(ui, &mut actions));
        if self.show_help {
            self.help_ui(&ctx);
        }
        self.apply(actions)
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let ctx = ui.ctx().clone();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .button(Command::Lock.label())
                    .on_hover_text(Command::Lock.tooltip(&ctx))
                    .clicked()
                {
                    actions.push(WsAction::Run(Command::Lock));
                }
            });
            ui.menu_button("Edit", |ui| {
                for cmd in [
                    Command::Undo,
                    Command::Redo,
                    Command::DeleteSelected,
                    Command::Deselect,
                ] {
                    if ui
                        .add(egui::Button::new(cmd.label()).shortcut_text(cmd.shortcut_text(&ctx)))
                        .clicked()
                    {
                        actions.push(WsAction::Run(cmd));
                    }
                }
            });
            ui.menu_button("Go", |ui| {
                for cmd in [Command::PreviousItem, Command::NextItem] {
                    if ui
                        .add(egui::Button::new(cmd.label()).shortcut_text(cmd.shortcut_text(&ctx)))
                        .clicked()
                    {
                        actions.push(WsAction::Run(cmd));
                    }
                }
            });
            ui.menu_button("Help", |ui| {
                if ui
                    .add(
                        egui::Button::new(Command::ToggleHelp.label())
                            .shortcut_text(Command::ToggleHelp.shortcut_text(&ctx)),
                    )
                    .clicked()
                {
                    actions.push(WsAction::Run(Command::ToggleHelp));
                }
            });
            ui.separator();
            for cmd in [
                Command::PreviousItem,
                Command::NextItem,
                Command::Undo,
                Command::Redo,
            ] {
                let symbol = match cmd {
                    Command::PreviousItem => "< Prev",
                    Command::NextItem => "Next >",
                    Command::Undo => "Undo",
                    _ => "Redo",
                };
                if ui.button(symbol).on_hover_text(cmd.tooltip(&ctx)).clicked() {
                    actions.push(WsAction::Run(cmd));
                }
            }
        });
    }

    fn status_ui(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let user = self.session.user();
            ui.label(format!(
                "{} · {} ({})",
                self.session.project_name(),
                user.name,
                user.role
            ));
            ui.separator();
            if let Some(i) = self.current {
                ui.label(format!("item {} of {}", i + 1, self.items.len()));
                ui.separator();
            }
            match &self.save_state {
                SaveState::Idle => {
                    ui.label("No changes yet");
                }
                SaveState::Saved { at_ms } => {
                    let time = format_time(*at_ms);
                    ui.label(
                        RichText::new(format!("Saved {}", time.get(11..19).unwrap_or(&time)))
                            .color(Color32::from_rgb(90, 200, 120)),
                    );
                }
                SaveState::Failed(e) => {
                    ui.label(
                        RichText::new(format!("Not saved: {e}"))
                            .color(Color32::from_rgb(240, 90, 90)),
                    );
                }
            }
            if let Some(msg) = &self.message {
                ui.separator();
                ui.label(msg);
            }
        });
    }

    fn queue_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.heading("Queue");
        ui.label(format!("{} item(s) assigned", self.items.len()));
        ui.separator();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        // show_rows lays out only the visible rows: 100k items stay smooth.
        // Rows must keep one height for that, so long names are truncated
        // (the full name is in the tooltip).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            row_height,
            self.items.len(),
            |ui, range| {
                for index in range {
                    let Some(item) = self.items.get(index) else {
                        continue;
                    };
                    let kind = match item.kind {
                        ItemKind::Image => "IMG",
                        ItemKind::Audio => "AUD",
                        ItemKind::Text => "TXT",
                    };
                    let text = format!("{kind}  {}  ({})", item.name, item.label_count);
                    if ui
                        .selectable_label(self.current == Some(index), text)
                        .on_hover_text(format!("{} ({})", item.name, item.status))
                        .clicked()
                    {
                        actions.push(WsAction::SelectItem(index));
                    }
                }
            },
        );
    }

    fn labels_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.heading("Classes");
        for class in &self.classes {
            let [r, g, b] = class.rgb();
            let key = class.hotkey.map(|k| format!("{k}  ")).unwrap_or_default();
            let colour = Color32::from_rgb(r, g, b);
            let resp = ui
                .horizontal(|ui| {
                    let (swatch, _) =
                        ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                    ui.painter().rect_filled(swatch, 2.0, colour);
                    ui.selectable_label(
                        self.active_class == Some(class.id),
                        format!("{key}{}", class.name),
                    )
                })
                .inner;
            let resp = match class.hotkey {
                Some(k) => resp.on_hover_text(format!("Select class {} (key {k})", class.name)),
                None => resp,
            };
            if resp.clicked() {
                actions.push(WsAction::SelectClass(class.id));
            }
        }
        ui.separator();
        ui.heading("Labels");
        if self.annotations.is_empty() {
            let hint = match self.current_item().map(|i| i.kind) {
                Some(ItemKind::Image) => "None yet: drag on the image to draw a box",
                Some(_) => "Audio and text labelling tools come in a later version",
                None => "",
            };
            ui.label(hint);
        }
        egui::ScrollArea::vertical()
            .id_salt("label-list")
            .show(ui, |ui| {
                for a in &self.annotations {
                    let class = self
                        .classes
                        .iter()
                        .find(|c| c.id == a.class_id)
                        .map(|c| c.name.as_str())
                        .unwrap_or("?");
                    let Geometry::BBox(b) = &a.geometry;
                    ui.horizontal(|ui| {
                        let text = format!(
                            "#{} {class}  {:.0},{:.0} {:.0}×{:.0}",
                            a.id, b.x, b.y, b.w, b.h
                        );
                        if ui
                            .selectable_label(self.selected == Some(a.id), text)
                            .clicked()
                        {
                            actions.push(WsAction::SelectAnnotation(Some(a.id)));
                        }
                        if ui
                            .small_button("x")
                            .on_hover_text("Delete this label (Delete)")
                            .clicked()
                        {
                            actions.push(WsAction::Delete(a.id));
                        }
                    });
                }
            });
    }

    fn item_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        match &self.view {
            ItemView::Empty => {
                ui.centered_and_justified(|ui| ui.label("No items are assigned to you yet"));
            }
            // Images never stay in Decoded: poll_loader turns them into a texture.
            ItemView::Loading | ItemView::Decoded(LoadedContent::Image { .. }) => {
                ui.centered_and_justified(|ui| ui.spinner());
            }
            ItemView::Decoded(LoadedContent::Failed(e)) => {
                ui.colored_label(
                    Color32::from_rgb(240, 90, 90),
                    format!("This item cannot be shown: {e}"),
                );
            }
            ItemView::Image {
                texture,
                width,
                height,
            } => {
                let input = CanvasInput {
                    texture,
                    width: *width,
                    height: *height,
                    annotations: &self.annotations,
                    classes: &self.classes,
                    selected: self.selected,
                    active_class: self.active_class,
                };
                let out = canvas::canvas_ui(ui, &mut self.canvas, &input);
                actions.extend(out.into_iter().map(WsAction::Canvas));
            }
            ItemView::Decoded(LoadedContent::Audio {
                format,
                duration_secs,
                ..
            }) => {
                ui.heading(
                    self.current_item()
                        .map(|i| i.name.clone())
                        .unwrap_or_default(),
                );
                ui.label(format!(
                    "{format} audio, {duration_secs:.1} s (read-only in this version)"
                ));
                ui.horizontal(|ui| {
                    if ui.button("Play").clicked() {
                        actions.push(WsAction::PlayAudio);
                    }
                    if ui.button("Stop").clicked() {
                        actions.push(WsAction::StopAudio);
                    }
                });
            }
            ItemView::Decoded(LoadedContent::Text { text, metadata }) => {
                ui.heading(
                    self.current_item()
                        .map(|i| i.name.clone())
                        .unwrap_or_default(),
                );
                if let Some(obj) = metadata.as_object().filter(|o| !o.is_empty()) {
                    egui::CollapsingHeader::new("Metadata").show(ui, |ui| {
                        for (k, v) in obj {
                            ui.label(format!("{k}: {v}"));
                        }
                    });
                }
                ui.separator();
                egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .show(ui, |ui| {
                        ui.add(egui::Label::new(RichText::new(text.as_str()).size(15.0)).wrap());
                    });
            }
        }
    }

    fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for cmd in Command::ALL {
                        ui.label(cmd.label());
                        ui.monospace(cmd.shortcut_text(ctx));
                        ui.end_row();
                    }
                    ui.label("Select class");
                    ui.monospace("1 – 9");
                    ui.end_row();
                    ui.label("Draw a box");
                    ui.monospace("drag on empty image");
                    ui.end_row();
                    ui.label("Move / resize");
                    ui.monospace("drag box / corner");
                    ui.end_row();
                });
            });
        self.show_help = open;
    }

    /// Applies this frame's actions through the controller.
    fn apply(&mut self, actions: Vec<WsAction>) -> Option<ShellRequest> {
        for action in actions {
            match action {
                WsAction::SelectItem(i) => self.open_item(i),
                WsAction::SelectClass(id) => {
                    self.active_class = Some(id);
                    // With a box selected, the class key re-labels it.
                    if let Some(sel) = self.selected
                        && let Some(a) = self.annotations.iter().find(|a| a.id == sel)
                        && a.class_id != id
                    {
                        let change = LabelChange::Update {
                            annotation_id: sel,
                            class_id: id,
                            geometry: a.geometry.clone(),
                        };
                        self.save(change);
                    }
                }
                WsAction::SelectAnnotation(id) => self.selected = id,
                WsAction::Canvas(CanvasAction::Select(id)) => self.selected = id,
                WsAction::Canvas(CanvasAction::Create(bbox)) => {
                    let (Some(item), Some(class_id)) = (self.current_item(), self.active_class)
                    else {
                        continue;
                    };
                    let change = LabelChange::Create {
                        item_id: item.id,
                        class_id,
                        geometry: Geometry::BBox(bbox),
                    };
                    if let Some(id) = self.save(change) {
                        self.selected = Some(id);
                    }
                }
                WsAction::Canvas(CanvasAction::Update { id, bbox }) => {
                    let Some(a) = self.annotations.iter().find(|a| a.id == id) else {
                        continue;
                    };
                    let change = LabelChange::Update {
                        annotation_id: id,
                        class_id: a.class_id,
                        geometry: Geometry::BBox(bbox),
                    };
                    self.save(change);
                }
                WsAction::Delete(id) => {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
                WsAction::PlayAudio => {
                    if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view
                        && let Err(e) = self.audio.play(bytes.clone())
                    {
                        self.message = Some(e);
                    }
                }
                WsAction::StopAudio => self.audio.stop(),
                WsAction::Run(cmd) => {
                    if let Some(req) = self.run(cmd) {
                        return Some(req);
                    }
                }
            }
        }
        None
    }

    fn run(&mut self, cmd: Command) -> Option<ShellRequest> {
        match cmd {
            Command::NextItem => {
                let next = self.current.map(|i| i + 1).unwrap_or(0);
                if next < self.items.len() {
                    self.open_item(next);
                }
            }
            Command::PreviousItem => {
                if let Some(i) = self.current.filter(|i| *i > 0) {
                    self.open_item(i - 1);
                }
            }
            Command::Undo | Command::Redo => {
                if let Some(item) = self.current_item() {
                    let item_id = item.id;
                    let change = if cmd == Command::Undo {
                        LabelChange::Undo { item_id }
                    } else {
                        LabelChange::Redo { item_id }
                    };
                    self.save(change);
                }
            }
            Command::DeleteSelected => {
                if let Some(id) = self.selected {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
            }
            Command::Deselect => self.selected = None,
            Command::ToggleHelp => self.show_help = !self.show_help,
            Command::Lock => return Some(ShellRequest::Lock),
        }
        None
    }

    /// Sends one change to the controller; the status bar says "Saved" only
    /// once the transaction has committed.
    fn save(&mut self, change: LabelChange) -> Option<i64> {
        let result = self.session.apply_label(change);
        let out = match result {
            Ok(applied) => {
                self.save_state = SaveState::Saved { at_ms: now_ms() };
                Some(applied.annotation_id)
            }
            Err(e) => {
                self.save_state = SaveState::Failed(e.to_string());
                None
            }
        };
        self.reload_annotations();
        out
    }
}

/// Optional audio output: machines without a sound card keep working.
#[derive(Default)]
struct AudioOut {
    sink: Option<rodio::MixerDeviceSink>,
    player: Option<rodio::Player>,
    unavailable: bool,
}

impl AudioOut {
    fn play(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        if self.unavailable {
            return Err("No sound output device: playback unavailable".into());
        }
        if self.sink.is_none() {
            match rodio::DeviceSinkBuilder::open_default_sink() {
                Ok(sink) => self.sink = Some(sink),
                Err(_) => {
                    self.unavailable = true;
                    return Err(
                        "No sound output device: playback unavailable; everything else works"
                            .into(),
                    );
                }
            }
        }
        self.stop();
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let decoder = rodio::Decoder::new(std::io::Cursor::new(bytes))
            .map_err(|e| format!("cannot play: {e}"))?;
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(decoder);
        player.play();
        self.player = Some(player);
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(p) = self.player.take() {
            p.stop();
        }
    }
}
