//! The admin's privacy screen ("Privacy & masking…"): decides, for the item
//! selected in the queue, what an annotator receives instead of the
//! original. Texts: PII proposals from the detector accepted, rejected or
//! added from a selection, in bulk per type, with the project's mask style.
//! Images: regions drawn as rectangles or polygons, made from labels of a
//! class, or applied from a saved template, each with a style (fill, blur,
//! pixelate). Recordings: time ranges muted or replaced by a tone. Every
//! kind: a window (crop, excerpt, time range) so only that part travels,
//! and a preview made by the same code as the work package.
//!
//! The screen keeps no plaintext of its own: the original is borrowed each
//! frame from what the workspace already decoded ([`Original`]), and the
//! preview lives in memory only. Every decision goes through the
//! controller, which checks the admin role and audits it. Panels push
//! [`PrivacyAction`]s; [`PrivacyView::apply`] runs them and reloads the
//! item's decisions, so what is shown is always what is stored.

use std::collections::HashMap;
use std::sync::Arc;

use egui::text::{CCursor, LayoutJob, TextFormat};
use egui::{Align2, Color32, FontId, Key, Pos2, Rect, RichText, Sense, Stroke, StrokeKind, Vec2};

use super::canvas::View;
use super::commands::Command;
use crate::controller::{CoreError, ItemPrivacy, Mask, MaskTemplate, Session};
use crate::model::{ItemKind, ItemSummary, format_time};
use crate::peaks::Peaks;
use crate::privacy::audio_mask::{AudioRange, AudioStyle};
use crate::privacy::derive::MaskSpec;
use crate::privacy::image_mask::{Region, RegionStyle, Shape};
use crate::privacy::pii::PiiType;
use crate::privacy::window::Window;

const ERROR: Color32 = Color32::from_rgb(240, 110, 110);
const OK: Color32 = Color32::from_rgb(90, 200, 120);
const AMBER: Color32 = Color32::from_rgb(240, 175, 40);
const RED: Color32 = Color32::from_rgb(225, 60, 60);
const GREY: Color32 = Color32::from_rgb(150, 150, 150);
const DRAW: Color32 = Color32::from_rgb(90, 160, 255);
const SELECTION_BG: Color32 = Color32::from_rgba_premultiplied(40, 62, 112, 110);

/// Every type an admin can give a span: the detector's and the two only
/// people add (postal addresses, anything else).
const ADD_TYPES: [PiiType; 10] = [
    PiiType::Person,
    PiiType::Email,
    PiiType::Phone,
    PiiType::Address,
    PiiType::DateOfBirth,
    PiiType::NationalId,
    PiiType::Iban,
    PiiType::CreditCard,
    PiiType::IpAddress,
    PiiType::Other,
];

const REGION_STYLES: [RegionStyle; 3] =
    [RegionStyle::Fill, RegionStyle::Blur, RegionStyle::Pixelate];
const AUDIO_STYLES: [AudioStyle; 2] = [AudioStyle::Mute, AudioStyle::Tone];

mod audio_ranges;
mod image_regions;
mod text_spans;

use image_regions::{apply_template, chip, dim_outside};

/// The original of the current item as the workspace decoded it, borrowed
/// for one frame.
pub enum Original<'a> {
    Loading,
    Failed(&'a str),
    Image {
        texture: &'a egui::TextureHandle,
        /// Original size: the frame of every region coordinate.
        width: u32,
        height: u32,
    },
    Text(&'a str),
    Audio {
        duration_secs: f64,
        peaks: Option<&'a Peaks>,
    },
}

/// Something the admin asked for on the privacy screen.
#[derive(Clone, Debug, PartialEq)]
pub enum PrivacyAction {
    /// Runs the detector over this item (text, or transcripts of a recording).
    Propose,
    Decide {
        ids: Vec<i64>,
        accept: bool,
    },
    /// Every pending proposal of a type on this item.
    DecideType {
        pii_type: PiiType,
        accept: bool,
    },
    Add(MaskSpec),
    Setting {
        key: &'static str,
        value: String,
    },
    /// Labels of a class become regions (this image, or every image).
    FromLabels {
        class: String,
        every_image: bool,
    },
    SaveTemplate(String),
    ApplyTemplate(String),
    SetWindow(Option<Window>),
    Preview(bool),
    /// Another item of the queue (the workspace moves; the screen follows).
    Go(Command),
}

/// What a pointer drag or click on the image draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrawMode {
    #[default]
    Rectangle,
    Polygon,
    /// A rectangle kept for "Use drawn rectangle as crop", not masked.
    Crop,
}

/// A preview as the worker thread makes it: the image not yet on the GPU
/// (textures are uploaded on the UI thread).
type Made = Preview<egui::ColorImage>;

/// Decrypts, derives and decodes one preview: the slow part (seconds for
/// a large photo or a long recording), run off the UI thread.
fn make_preview(job: &crate::controller::PreviewJob) -> Result<Made, String> {
    let d = job.run().map_err(|e| e.to_string())?;
    match job.kind {
        ItemKind::Text => Ok(Made::Text(String::from_utf8_lossy(&d.bytes).into_owned())),
        ItemKind::Image => match super::loader::decode_preview(&d.bytes) {
            Ok((_, super::loader::LoadedContent::Image { preview, .. })) => Ok(Made::Image {
                image: preview,
                width: d.width.unwrap_or(0),
                height: d.height.unwrap_or(0),
                format: d.format,
            }),
            Err(super::loader::LoadedContent::Failed(e)) => Err(e),
            _ => Err("the derivative is not an image".into()),
        },
        ItemKind::Audio => Ok(Made::Audio {
            format: d.format,
            duration_secs: d.duration_secs,
            bytes: d.bytes.len(),
        }),
    }
}

/// The derivative as the annotator would receive it, ready to show (`I`
/// is the image: a texture on the UI thread).
enum Preview<I = egui::TextureHandle> {
    Text(String),
    Image {
        image: I,
        width: u32,
        height: u32,
        format: String,
    },
    Audio {
        format: String,
        duration_secs: Option<f64>,
        bytes: usize,
    },
}

/// State of the privacy window for one item.
pub struct PrivacyView {
    item: ItemSummary,
    privacy: Option<ItemPrivacy>,
    templates: Vec<MaskTemplate>,
    classes: Vec<String>,
    /// Who the item is assigned to for annotation (the preview's caption).
    annotators: Vec<String>,
    error: Option<String>,
    status: Option<String>,
    // Project settings as stored (re-read after every change).
    mask_style: String,
    mask_char: String,
    region_style: RegionStyle,
    audio_style: AudioStyle,
    auto_pii: bool,
    pii_names: String,
    /// The names are being edited: a reload must not throw the edit away.
    names_dirty: bool,
    // Text.
    selection: Option<(usize, usize)>,
    add_type: PiiType,
    text_layout: Option<(Pos2, Arc<egui::Galley>)>,
    /// The original's words under each text mask, for the list (made once
    /// per reload: one pass over the text).
    snippets: Option<HashMap<i64, String>>,
    // Image.
    mode: DrawMode,
    drag: Option<([f64; 2], [f64; 2])>,
    polygon: Vec<[f64; 2]>,
    /// The last rectangle dragged (x, y, w, h in whole pixels).
    last_rect: Option<[f64; 4]>,
    image_view: Option<View>,
    label_class: String,
    every_image: bool,
    template_name: String,
    template_choice: String,
    // Audio.
    range: (f64, f64),
    window_secs: (f64, f64),
    timeline: Option<(Rect, f64)>,
    // Preview.
    preview_on: bool,
    preview: Option<Result<Preview, String>>,
    /// The preview being made on a worker thread. A newer request replaces
    /// it; the older worker's result then has nobody to go to.
    pending: Option<std::sync::mpsc::Receiver<Result<Made, String>>>,
}

fn region_style_name(s: RegionStyle) -> &'static str {
    match s {
        RegionStyle::Fill => "fill",
        RegionStyle::Blur => "blur",
        RegionStyle::Pixelate => "pixelate",
    }
}

fn audio_style_name(s: AudioStyle) -> &'static str {
    match s {
        AudioStyle::Mute => "mute",
        AudioStyle::Tone => "tone",
    }
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Image => "image",
        ItemKind::Text => "text",
        ItemKind::Audio => "recording",
    }
}

/// Short words for a window, as the header and status line say it.
pub fn describe_window(w: &Window) -> String {
    match *w {
        Window::Image { x, y, w, h } => format!("crop {w}×{h} at ({x}, {y})"),
        Window::Text { start, end } => format!("excerpt chars {start}..{end}"),
        Window::Audio {
            start_secs,
            end_secs,
        } => format!("time range {start_secs:.2}–{end_secs:.2} s"),
    }
}

fn status_colour(status: &str) -> Color32 {
    match status {
        "accepted" => RED,
        "proposed" => AMBER,
        _ => GREY,
    }
}

/// A rectangle from two corners, in whole pixels.
fn rect_of(a: [f64; 2], b: [f64; 2]) -> [f64; 4] {
    let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
    let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
    [x0, y0, x1 - x0, y1 - y0]
}

impl PrivacyView {
    /// Opens the screen on `item` and loads its decisions. `classes` are
    /// the schema's class names (for "masks from labels").
    pub fn open(session: &mut Session, item: ItemSummary, classes: Vec<String>) -> Self {
        let duration = item.duration_secs.unwrap_or(0.0);
        let mut view = Self {
            annotators: session
                .item_work(item.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, _, purpose, _)| purpose == "annotate")
                .map(|(_, name, _, _)| name)
                .collect(),
            item,
            privacy: None,
            templates: Vec::new(),
            label_class: classes.first().cloned().unwrap_or_default(),
            classes,
            error: None,
            status: None,
            mask_style: "block".into(),
            mask_char: "X".into(),
            region_style: RegionStyle::default(),
            audio_style: AudioStyle::default(),
            auto_pii: false,
            pii_names: String::new(),
            names_dirty: false,
            selection: None,
            add_type: PiiType::Person,
            text_layout: None,
            snippets: None,
            mode: DrawMode::default(),
            drag: None,
            polygon: Vec::new(),
            last_rect: None,
            image_view: None,
            every_image: false,
            template_name: String::new(),
            template_choice: String::new(),
            range: (0.0, duration.min(1.0)),
            window_secs: (0.0, duration),
            timeline: None,
            preview_on: false,
            preview: None,
            pending: None,
        };
        view.reload(session);
        if let Some(Window::Audio {
            start_secs,
            end_secs,
        }) = view.privacy.as_ref().and_then(|p| p.window)
        {
            view.window_secs = (start_secs, end_secs);
        }
        view
    }

    pub fn item_id(&self) -> i64 {
        self.item.id
    }

    /// The item's decisions as last read from the controller (tests).
    pub fn privacy(&self) -> Option<&ItemPrivacy> {
        self.privacy.as_ref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The selected chars of the text (kept after the text loses focus).
    pub fn selection(&self) -> Option<(usize, usize)> {
        self.selection
    }

    pub fn is_previewing(&self) -> bool {
        self.preview_on
    }

    /// Whether a preview is being made on the worker thread.
    pub fn preview_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The previewed text, when the preview is a text.
    pub fn preview_text(&self) -> Option<&str> {
        match &self.preview {
            Some(Ok(Preview::Text(t))) => Some(t),
            _ => None,
        }
    }

    /// Size of the previewed image, when the preview is an image.
    pub fn preview_image_size(&self) -> Option<(u32, u32)> {
        match &self.preview {
            Some(Ok(Preview::Image { width, height, .. })) => Some((*width, *height)),
            _ => None,
        }
    }

    /// Why the preview could not be made, if it could not.
    pub fn preview_error(&self) -> Option<&str> {
        match &self.preview {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Points of the polygon being drawn.
    pub fn polygon_points(&self) -> &[[f64; 2]] {
        &self.polygon
    }

    /// Screen position of a char boundary in the text, last frame (tests).
    pub fn text_screen_pos(&self, chars: usize) -> Option<Pos2> {
        let (origin, galley) = self.text_layout.as_ref()?;
        let r = galley.pos_from_cursor(CCursor::new(chars));
        Some(*origin + r.center().to_vec2())
    }

    /// Screen position of an image pixel, last frame (tests).
    pub fn image_to_screen(&self, x: f64, y: f64) -> Option<Pos2> {
        self.image_view.map(|v| v.to_screen(x, y))
    }

    /// Screen x of a time on the recording's timeline, last frame (tests).
    pub fn timeline_pos(&self, secs: f64) -> Option<Pos2> {
        let (rect, duration) = self.timeline?;
        let x = rect.left() + (secs / duration.max(1e-9)) as f32 * rect.width();
        Some(egui::pos2(x, rect.center().y))
    }

    /// The start and end typed (or dragged) for a new audio range.
    pub fn audio_range(&self) -> (f64, f64) {
        self.range
    }

    /// Reads the item's decisions, the templates and the settings again.
    fn reload(&mut self, session: &mut Session) {
        match session.item_privacy(self.item.id) {
            Ok(p) => self.privacy = Some(p),
            Err(e) => {
                self.privacy = None;
                self.error = Some(e.to_string());
            }
        }
        self.snippets = None;
        self.templates = session.mask_templates().unwrap_or_default();
        if !self
            .templates
            .iter()
            .any(|t| t.name == self.template_choice)
        {
            self.template_choice = self
                .templates
                .first()
                .map(|t| t.name.clone())
                .unwrap_or_default();
        }
        let style = session
            .project_setting("mask_style")
            .unwrap_or_else(|_| "block".into());
        match style.strip_prefix("char:") {
            Some(c) => {
                self.mask_style = "char".into();
                self.mask_char = c.to_string();
            }
            None => self.mask_style = style,
        }
        self.region_style = session.default_region_style().unwrap_or_default();
        self.audio_style = session.default_audio_style().unwrap_or_default();
        self.auto_pii = session
            .project_setting("mask_pii")
            .is_ok_and(|v| v == "auto");
        if !self.names_dirty {
            self.pii_names = session.project_setting("pii_names").unwrap_or_default();
        }
    }

    /// Makes the derivative again (only when asked: each preview is
    /// audited). The permission check and the audit row are written here;
    /// decrypting and deriving run on a worker thread, so a large image or
    /// a long recording never stalls a frame.
    fn refresh_preview(&mut self, session: &mut Session, ctx: &egui::Context) {
        self.preview = None;
        self.pending = None;
        let job = match session.preview_job(self.item.id) {
            Ok(job) => job,
            Err(e) => {
                self.preview = Some(Err(e.to_string()));
                return;
            }
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let repaint = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("privacy-preview".into())
            .spawn(move || {
                // A closed channel means a newer preview was asked for.
                let _ = tx.send(make_preview(&job));
                repaint.request_repaint();
            });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(e) => self.preview = Some(Err(format!("could not start the preview worker: {e}"))),
        }
    }

    /// Takes a finished preview from the worker (called every frame).
    fn poll_preview(&mut self, ctx: &egui::Context) {
        let Some(rx) = &self.pending else {
            return;
        };
        let made = match rx.try_recv() {
            Ok(made) => made,
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Err("the preview worker stopped without a result".into())
            }
        };
        self.pending = None;
        let name = format!("privacy-preview-{}", self.item.id);
        self.preview = Some(made.map(|m| match m {
            Made::Image {
                image,
                width,
                height,
                format,
            } => Preview::Image {
                image: ctx.load_texture(name, image, egui::TextureOptions::LINEAR),
                width,
                height,
                format,
            },
            Made::Text(t) => Preview::Text(t),
            Made::Audio {
                format,
                duration_secs,
                bytes,
            } => Preview::Audio {
                format,
                duration_secs,
                bytes,
            },
        }));
    }

    /// Runs the actions through the controller (each checked and audited
    /// there), then reloads the item's decisions and, when shown, the
    /// preview. `Go` is the workspace's and is ignored here.
    pub fn apply(
        &mut self,
        session: &mut Session,
        ctx: &egui::Context,
        actions: Vec<PrivacyAction>,
    ) {
        if actions.is_empty() {
            return;
        }
        let item_id = self.item.id;
        for action in actions {
            let saves_names = matches!(
                action,
                PrivacyAction::Setting {
                    key: "pii_names",
                    ..
                }
            );
            let result: Result<String, CoreError> = match action {
                PrivacyAction::Go(_) => continue,
                PrivacyAction::Preview(on) => {
                    self.preview_on = on;
                    self.preview = None;
                    self.pending = None;
                    continue;
                }
                PrivacyAction::Propose => session.mask_propose(Some(&[item_id])).map(|r| {
                    format!(
                        "Detector: {} new proposal(s), {} already on record",
                        r.text_spans + r.audio_ranges,
                        r.already_known
                    )
                }),
                PrivacyAction::Decide { ids, accept } => {
                    session.mask_decide(&ids, accept).map(|n| {
                        format!(
                            "{n} mask(s) {}",
                            if accept { "accepted" } else { "rejected" }
                        )
                    })
                }
                PrivacyAction::DecideType { pii_type, accept } => session
                    .mask_decide_type(pii_type, accept, Some(item_id))
                    .map(|n| {
                        format!(
                            "{n} {} proposal(s) {}",
                            pii_type.tag(),
                            if accept { "accepted" } else { "rejected" }
                        )
                    }),
                PrivacyAction::Add(spec) => {
                    let what = spec.describe();
                    session
                        .mask_add(item_id, spec)
                        .map(|id| format!("Mask {id} added: {what}"))
                }
                PrivacyAction::Setting { key, value } => session
                    .set_project_setting(key, &value)
                    .map(|()| match key {
                        "pii_names" => "Names saved: run the detector again to use them".into(),
                        _ => format!("Project setting {key} saved"),
                    }),
                PrivacyAction::FromLabels { class, every_image } => {
                    let only = [item_id];
                    session
                        .mask_from_labels(
                            std::slice::from_ref(&class),
                            self.region_style,
                            (!every_image).then_some(&only[..]),
                        )
                        .map(|n| format!("{n} region(s) made from labels of class {class}"))
                }
                PrivacyAction::SaveTemplate(name) => {
                    session.template_save(&name, item_id).map(|t| {
                        format!(
                            "Template '{}' saved with {} region(s)",
                            t.name,
                            t.regions.len()
                        )
                    })
                }
                PrivacyAction::ApplyTemplate(name) => apply_template(session, &name),
                PrivacyAction::SetWindow(w) => session.set_window(item_id, w).map(|w| match w {
                    Some(w) => format!("Only the {} travels", describe_window(&w)),
                    None => "Window cleared: the whole item travels".into(),
                }),
            };
            match result {
                Ok(message) => {
                    if saves_names {
                        self.names_dirty = false;
                    }
                    self.status = Some(message);
                    self.error = None;
                }
                Err(e) => {
                    self.status = None;
                    self.error = Some(e.to_string());
                }
            }
        }
        self.reload(session);
        if self.preview_on {
            self.refresh_preview(session, ctx);
        }
    }

    /// Draws the window; `open` is cleared when the admin closes it.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        original: Original<'_>,
        open: &mut bool,
    ) -> Vec<PrivacyAction> {
        self.poll_preview(ctx);
        let mut actions = Vec::new();
        let screen = ctx.content_rect();
        let size = egui::vec2(
            (screen.width() - 60.0).clamp(560.0, 1220.0),
            (screen.height() - 80.0).clamp(380.0, 760.0),
        );
        egui::Window::new("Privacy & masking")
            .id(egui::Id::unique("privacy-window"))
            .open(open)
            .collapsible(false)
            .default_size(size)
            .default_pos(screen.center() - size / 2.0)
            .show(ctx, |ui| {
                self.header_ui(ui, &mut actions);
                ui.separator();
                egui::Panel::right("privacy-controls")
                    .resizable(true)
                    .default_size(420.0)
                    .min_size(300.0)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical()
                            .id_salt("privacy-controls-scroll")
                            .show(ui, |ui| self.controls_ui(ui, &original, &mut actions));
                    });
                egui::CentralPanel::default().show(ui, |ui| {
                    if self.preview_on {
                        self.preview_ui(ui);
                    } else {
                        self.original_ui(ui, &original, &mut actions);
                    }
                });
            });
        actions
    }

    fn header_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.horizontal(|ui| {
            if ui
                .button("< Prev")
                .on_hover_text("Previous item in the queue")
                .clicked()
            {
                actions.push(PrivacyAction::Go(Command::PreviousItem));
            }
            if ui
                .button("Next >")
                .on_hover_text("Next item in the queue")
                .clicked()
            {
                actions.push(PrivacyAction::Go(Command::NextItem));
            }
            ui.heading(&self.item.name);
            ui.label(format!("({})", kind_name(self.item.kind)));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let mut on = self.preview_on;
                if ui
                    .toggle_value(&mut on, "Preview as annotator")
                    .on_hover_text(
                        "Shows the masked, minimised copy a work package would carry now",
                    )
                    .clicked()
                {
                    actions.push(PrivacyAction::Preview(on));
                }
            });
        });
        if let Some(p) = &self.privacy {
            let count = |s: &str| p.masks.iter().filter(|m| m.status == s).count();
            ui.label(format!(
                "Privacy version {} · window: {} · masks: {} accepted, {} proposed, {} rejected",
                p.version,
                p.window
                    .as_ref()
                    .map_or("none (the whole item travels)".into(), describe_window),
                count("accepted"),
                count("proposed"),
                count("rejected"),
            ));
            if p.packages.is_empty() {
                ui.small("Not carried by any work package yet");
            }
            for (package, recipient, version, at) in p.packages.iter().rev().take(4) {
                let line = format!(
                    "Carried by {package} to {recipient} at version {version} ({})",
                    format_time(*at)
                );
                if *version < p.version {
                    ui.colored_label(
                        AMBER,
                        format!("{line}: older than these decisions, a new package carries them"),
                    );
                } else {
                    ui.small(line);
                }
            }
        }
        if let Some(e) = &self.error {
            ui.colored_label(ERROR, e);
        } else if let Some(s) = &self.status {
            ui.colored_label(OK, s);
        }
    }

    fn masks(&self) -> &[Mask] {
        self.privacy.as_ref().map_or(&[], |p| p.masks.as_slice())
    }

    fn window(&self) -> Option<Window> {
        self.privacy.as_ref().and_then(|p| p.window)
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        original: &Original<'_>,
        actions: &mut Vec<PrivacyAction>,
    ) {
        match self.item.kind {
            ItemKind::Text => {
                let text = match original {
                    Original::Text(t) => Some(*t),
                    _ => None,
                };
                self.text_controls(ui, text, actions);
            }
            ItemKind::Image => self.image_controls(ui, actions),
            ItemKind::Audio => self.audio_controls(ui, actions),
        }
    }

    // ----- Shared -----

    /// The image regions or audio ranges with their status and a decision
    /// button each.
    fn mask_list_ui(&self, ui: &mut egui::Ui, title: &str, actions: &mut Vec<PrivacyAction>) {
        let rows = self.masks();
        ui.label(RichText::new(format!("{title} ({})", rows.len())).strong());
        if rows.is_empty() {
            ui.small("None yet");
        }
        for m in rows {
            mask_row_ui(ui, m, "", actions);
        }
    }

    fn original_ui(
        &mut self,
        ui: &mut egui::Ui,
        original: &Original<'_>,
        actions: &mut Vec<PrivacyAction>,
    ) {
        match *original {
            Original::Loading => {
                ui.centered_and_justified(|ui| ui.spinner());
            }
            Original::Failed(e) => {
                ui.colored_label(ERROR, format!("This item cannot be shown: {e}"));
            }
            Original::Text(text) => {
                ui.small("Amber: proposed · red: masked · grey, struck through: kept readable");
                self.text_ui(ui, text);
            }
            Original::Image {
                texture,
                width,
                height,
            } => self.image_ui(ui, texture, width, height, actions),
            Original::Audio {
                duration_secs,
                peaks,
            } => self.audio_ui(ui, duration_secs, peaks),
        }
    }

    fn preview_ui(&mut self, ui: &mut egui::Ui) {
        let who = if self.annotators.is_empty() {
            "an annotator".to_string()
        } else {
            self.annotators.join(", ")
        };
        ui.label(RichText::new(format!("This is exactly what {who} receives")).strong());
        match &self.preview {
            None => {
                ui.spinner();
            }
            Some(Err(e)) => {
                ui.colored_label(ERROR, format!("The preview could not be made: {e}"));
            }
            Some(Ok(Preview::Text(t))) => {
                egui::ScrollArea::vertical()
                    .id_salt("privacy-preview-scroll")
                    .auto_shrink(false)
                    .show(ui, |ui| {
                        ui.add(egui::Label::new(RichText::new(t).size(15.0)).wrap());
                    });
            }
            Some(Ok(Preview::Image {
                image: texture,
                width,
                height,
                format,
            })) => {
                ui.small(format!("{format}, {width}×{height} px, without metadata"));
                let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
                let view = View::fit(rect, *width, *height);
                ui.painter_at(rect).image(
                    texture.id(),
                    view.image_rect,
                    Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            Some(Ok(Preview::Audio {
                format,
                duration_secs,
                bytes,
            })) => {
                ui.label(format!(
                    "{format} audio, {} s, {bytes} bytes, without metadata",
                    duration_secs.map_or("?".into(), |d| format!("{d:.2}"))
                ));
            }
        }
    }
}

/// One mask: status, what it covers, the original's words (texts) and
/// where it came from; Accept for pending or rejected ones, Reject for
/// pending or accepted ones.
fn mask_row_ui(ui: &mut egui::Ui, m: &Mask, words: &str, actions: &mut Vec<PrivacyAction>) {
    ui.horizontal_top(|ui| {
        // A fixed-width column for the buttons, so the descriptions line
        // up whichever decisions a row offers.
        let column = egui::vec2(128.0, ui.spacing().interact_size.y);
        ui.allocate_ui_with_layout(
            column,
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_min_size(column);
                if m.status != "accepted"
                    && ui
                        .small_button("Accept")
                        .on_hover_text(format!("Mask #{} in the annotator's copy", m.id))
                        .clicked()
                {
                    actions.push(PrivacyAction::Decide {
                        ids: vec![m.id],
                        accept: true,
                    });
                }
                if m.status != "rejected"
                    && ui
                        .small_button("Reject")
                        .on_hover_text(format!(
                            "Do not mask #{} (it stays on record as rejected)",
                            m.id
                        ))
                        .clicked()
                {
                    actions.push(PrivacyAction::Decide {
                        ids: vec![m.id],
                        accept: false,
                    });
                }
            },
        );
        let mut job = LayoutJob::default();
        let style = ui.style().clone();
        RichText::new(format!("{} ", m.status))
            .color(status_colour(&m.status))
            .append_to(
                &mut job,
                &style,
                egui::FontSelection::Default,
                egui::Align::Center,
            );
        let what = RichText::new(format!("#{} {} {words}", m.id, m.spec.describe()));
        let what = if m.status == "rejected" {
            what.strikethrough()
        } else {
            what
        };
        what.append_to(
            &mut job,
            &style,
            egui::FontSelection::Default,
            egui::Align::Center,
        );
        ui.add(egui::Label::new(job).wrap())
            .on_hover_text(format!("from {}", m.source));
    });
}

#[cfg(test)]
mod tests {
    use super::text_spans::snippets;
    use super::*;

    #[test]
    fn rectangles_are_normalised_from_any_two_corners() {
        assert_eq!(rect_of([30.0, 40.0], [10.0, 5.0]), [10.0, 5.0, 20.0, 35.0]);
        assert_eq!(rect_of([1.0, 2.0], [1.0, 2.0]), [1.0, 2.0, 0.0, 0.0]);
    }

    #[test]
    fn a_template_region_counts_as_carried_within_half_a_pixel() {
        let r = Region {
            shape: Shape::Rect {
                x: 10.0,
                y: 10.0,
                w: 20.0,
                h: 20.0,
            },
            style: RegionStyle::Blur,
        };
        let scaled = r.scaled(2.0, 0.5);
        assert_eq!(
            scaled.shape,
            Shape::Rect {
                x: 20.0,
                y: 5.0,
                w: 40.0,
                h: 10.0
            }
        );
        assert!(scaled.close_to(&r.scaled(2.0000001, 0.5)));
        assert!(!r.close_to(&scaled));
    }

    #[test]
    fn snippets_follow_char_offsets_not_bytes() {
        let masks = vec![Mask {
            id: 7,
            item_id: 1,
            spec: MaskSpec::Text {
                start: 2,
                end: 5,
                pii_type: PiiType::Other,
            },
            status: "proposed".into(),
            source: "admin".into(),
            created_by: String::new(),
            at_ms: 0,
            decided_by: None,
        }];
        assert_eq!(
            snippets("é😀abcd", &masks).get(&7).map(String::as_str),
            Some("abc")
        );
    }
}
