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

    // ----- Text -----

    fn text_controls(
        &mut self,
        ui: &mut egui::Ui,
        text: Option<&str>,
        actions: &mut Vec<PrivacyAction>,
    ) {
        ui.heading("Personal data in the text");
        if ui
            .button("Propose (run detector)")
            .on_hover_text(
                "Finds e-mails, phones, IBANs, cards, dates of birth, ids and the listed \
                 names; each becomes a proposal to accept or reject",
            )
            .clicked()
        {
            actions.push(PrivacyAction::Propose);
        }
        self.text_settings_ui(ui, actions);
        ui.separator();

        match self.selection {
            Some((s, e)) => {
                let words: String = text
                    .map(|t| t.chars().skip(s).take((e - s).min(60)).collect())
                    .unwrap_or_default();
                ui.label(format!("Selected chars {s}..{e}: “{words}”"));
            }
            None => {
                ui.small("Select text on the left to mask it or to send only that excerpt");
            }
        }
        ui.horizontal(|ui| {
            let add = ui
                .add_enabled(
                    self.selection.is_some(),
                    egui::Button::new("Add selection as"),
                )
                .on_hover_text("Masks the selected chars (accepted at once)");
            egui::ComboBox::from_id_salt("privacy-add-type")
                .selected_text(self.add_type.tag())
                .show_ui(ui, |ui| {
                    for t in ADD_TYPES {
                        ui.selectable_value(&mut self.add_type, t, t.tag());
                    }
                });
            if add.clicked()
                && let Some((start, end)) = self.selection.take()
            {
                actions.push(PrivacyAction::Add(MaskSpec::Text {
                    start: start as u64,
                    end: end as u64,
                    pii_type: self.add_type,
                }));
            }
        });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    self.selection.is_some(),
                    egui::Button::new("Use selection as excerpt"),
                )
                .on_hover_text("Only the selected chars travel; labels map back exactly")
                .clicked()
                && let Some((start, end)) = self.selection
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Text {
                    start: start as u64,
                    end: end as u64,
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
        ui.separator();

        // Bulk review: every pending proposal of a type on this item.
        let mut pending: Vec<(PiiType, usize)> = Vec::new();
        for m in self.masks().iter().filter(|m| m.status == "proposed") {
            if let MaskSpec::Text { pii_type, .. } = m.spec {
                match pending.iter_mut().find(|(t, _)| *t == pii_type) {
                    Some((_, n)) => *n += 1,
                    None => pending.push((pii_type, 1)),
                }
            }
        }
        pending.sort();
        if !pending.is_empty() {
            ui.label(RichText::new("Pending proposals by type").strong());
        }
        for (t, n) in pending {
            ui.horizontal(|ui| {
                if ui.button(format!("Accept all {} ({n})", t.tag())).clicked() {
                    actions.push(PrivacyAction::DecideType {
                        pii_type: t,
                        accept: true,
                    });
                }
                if ui.button(format!("Reject all {} ({n})", t.tag())).clicked() {
                    actions.push(PrivacyAction::DecideType {
                        pii_type: t,
                        accept: false,
                    });
                }
            });
        }

        if self.snippets.is_none()
            && let Some(t) = text
        {
            self.snippets = Some(snippets(t, self.masks()));
        }
        let mut rows: Vec<&Mask> = self.masks().iter().collect();
        rows.sort_by_key(|m| match m.spec {
            MaskSpec::Text { start, .. } => start,
            _ => u64::MAX,
        });
        ui.label(RichText::new(format!("Masks ({})", rows.len())).strong());
        if rows.is_empty() {
            ui.small("None yet: run the detector or add a selection");
        }
        let snippets = self.snippets.as_ref();
        let mut decisions = Vec::new();
        for m in rows {
            let words = snippets
                .and_then(|s| s.get(&m.id))
                .map(|w| format!("“{w}”"))
                .unwrap_or_default();
            mask_row_ui(ui, m, &words, &mut decisions);
        }
        actions.extend(decisions);
    }

    fn text_settings_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.horizontal(|ui| {
            let l = ui.label("Mask style");
            let before = self.mask_style.clone();
            egui::ComboBox::from_id_salt("privacy-mask-style")
                .selected_text(match self.mask_style.as_str() {
                    "tag" => "tag: [EMAIL]███",
                    "char" => "one character",
                    _ => "block: ████",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.mask_style, "block".into(), "block: ████");
                    ui.selectable_value(&mut self.mask_style, "tag".into(), "tag: [EMAIL]███");
                    ui.selectable_value(&mut self.mask_style, "char".into(), "one character");
                })
                .response
                .labelled_by(l.id);
            let mut changed = self.mask_style != before;
            if self.mask_style == "char" {
                let c = ui
                    .add(egui::TextEdit::singleline(&mut self.mask_char).desired_width(24.0))
                    .on_hover_text("The character every masked char becomes");
                changed |= c.lost_focus();
            }
            if changed {
                let value = if self.mask_style == "char" {
                    format!("char:{}", self.mask_char.trim())
                } else {
                    self.mask_style.clone()
                };
                actions.push(PrivacyAction::Setting {
                    key: "mask_style",
                    value,
                });
            }
        });
        let mut auto = self.auto_pii;
        if ui
            .checkbox(&mut auto, "Also mask what the detector finds at packaging")
            .on_hover_text(
                "mask_pii = auto: every high-confidence detection that was not rejected \
                 is masked too, in texts and transcripts",
            )
            .changed()
        {
            actions.push(PrivacyAction::Setting {
                key: "mask_pii",
                value: if auto { "auto" } else { "off" }.into(),
            });
        }
        egui::CollapsingHeader::new("Person names the detector looks for")
            .id_salt("privacy-names")
            .show(ui, |ui| {
                let l = ui.label("One name per line (whole words, case-sensitive)");
                let edit = ui
                    .add(
                        egui::TextEdit::multiline(&mut self.pii_names)
                            .desired_rows(3)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id);
                if edit.changed() {
                    self.names_dirty = true;
                }
                if ui.button("Save names").clicked() {
                    actions.push(PrivacyAction::Setting {
                        key: "pii_names",
                        value: self.pii_names.clone(),
                    });
                }
            });
    }

    fn text_ui(&mut self, ui: &mut egui::Ui, text: &str) {
        let id = egui::Id::unique(("privacy-text", self.item.id));
        let focused = ui.memory(|m| m.has_focus(id));
        let marks: Vec<(usize, usize, &str)> = self
            .masks()
            .iter()
            .filter_map(|m| match m.spec {
                MaskSpec::Text { start, end, .. } => {
                    Some((start as usize, end as usize, m.status.as_str()))
                }
                _ => None,
            })
            .collect();
        let excerpt = match self.window() {
            Some(Window::Text { start, end }) => Some((start as usize, end as usize)),
            _ => None,
        };
        // A focused TextEdit paints its own selection; once the admin
        // clicks a button it loses focus (and egui drops the selection),
        // so the remembered one is painted instead.
        let selection = if focused { None } else { self.selection };
        let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, wrap: f32| {
            let job = text_job(ui, buf.as_str(), &marks, excerpt, selection, wrap);
            ui.fonts_mut(|f| f.layout_job(job))
        };
        let mut shown: &str = text;
        let out = egui::ScrollArea::vertical()
            .id_salt("privacy-text-scroll")
            .auto_shrink(false)
            .show(ui, |ui| {
                egui::TextEdit::multiline(&mut shown)
                    .id(id)
                    .desired_width(f32::INFINITY)
                    .layouter(&mut layouter)
                    .show(ui)
            })
            .inner;
        if let Some(range) = out.cursor_range {
            let r = range.as_sorted_char_range();
            let (s, e) = (r.start.0, r.end.0);
            self.selection = (s < e).then_some((s, e));
        }
        self.text_layout = Some((out.galley_pos, out.galley));
    }

    // ----- Image -----

    fn image_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        ui.heading("Regions of the image");
        ui.horizontal(|ui| {
            ui.label("Draw");
            for (mode, name) in [
                (DrawMode::Rectangle, "Mask rectangle"),
                (DrawMode::Polygon, "Mask polygon"),
                (DrawMode::Crop, "Crop rectangle"),
            ] {
                if ui.selectable_label(self.mode == mode, name).clicked() {
                    self.mode = mode;
                    self.drag = None;
                    self.polygon.clear();
                }
            }
        });
        ui.small(match self.mode {
            DrawMode::Rectangle => "Drag on the image: the rectangle is masked at once",
            DrawMode::Polygon => {
                "Click the corners; Enter or a double-click closes the polygon, Escape drops it"
            }
            DrawMode::Crop => "Drag the part that may travel, then “Use drawn rectangle as crop”",
        });
        ui.horizontal(|ui| {
            let l = ui.label("Style of new regions");
            let mut style = self.region_style;
            egui::ComboBox::from_id_salt("privacy-region-style")
                .selected_text(region_style_name(style))
                .show_ui(ui, |ui| {
                    for s in REGION_STYLES {
                        ui.selectable_value(&mut style, s, region_style_name(s));
                    }
                })
                .response
                .labelled_by(l.id);
            if style != self.region_style {
                actions.push(PrivacyAction::Setting {
                    key: "mask_region_style",
                    value: region_style_name(style).into(),
                });
            }
        });
        if !self.polygon.is_empty() {
            ui.horizontal(|ui| {
                ui.label(format!("Polygon: {} point(s)", self.polygon.len()));
                if ui
                    .add_enabled(self.polygon.len() >= 3, egui::Button::new("Close polygon"))
                    .clicked()
                {
                    self.close_polygon(actions);
                }
                if ui.button("Drop polygon").clicked() {
                    self.polygon.clear();
                }
            });
        }
        ui.separator();

        ui.horizontal(|ui| {
            let go = ui
                .add_enabled(
                    !self.label_class.is_empty(),
                    egui::Button::new("Masks from labels of class"),
                )
                .on_hover_text(
                    "Boxes and polygons of this class (e.g. detector pre-labels of faces or \
                     plates) become regions; a label already turned into one is skipped",
                );
            egui::ComboBox::from_id_salt("privacy-label-class")
                .selected_text(&self.label_class)
                .show_ui(ui, |ui| {
                    for c in &self.classes {
                        ui.selectable_value(&mut self.label_class, c.clone(), c);
                    }
                });
            if go.clicked() {
                actions.push(PrivacyAction::FromLabels {
                    class: self.label_class.clone(),
                    every_image: self.every_image,
                });
            }
        });
        ui.checkbox(&mut self.every_image, "on every image, not only this one");
        ui.separator();

        ui.label(RichText::new("Templates (e.g. an ID-card layout)").strong());
        ui.horizontal(|ui| {
            let l = ui.label("Template name");
            ui.add(egui::TextEdit::singleline(&mut self.template_name).desired_width(160.0))
                .labelled_by(l.id);
        });
        if ui
            .add_enabled(
                !self.template_name.trim().is_empty(),
                egui::Button::new("Save regions as template"),
            )
            .on_hover_text("Saves this image's accepted regions under the name, with its size")
            .clicked()
        {
            actions.push(PrivacyAction::SaveTemplate(
                self.template_name.trim().to_string(),
            ));
        }
        ui.horizontal(|ui| {
            let apply = ui
                .add_enabled(
                    !self.template_choice.is_empty(),
                    egui::Button::new("Apply template to all images"),
                )
                .on_hover_text(
                    "Adds the template's regions, scaled to each image, to every image \
                     that does not carry them yet",
                );
            egui::ComboBox::from_id_salt("privacy-template")
                .selected_text(if self.templates.is_empty() {
                    "none saved"
                } else {
                    self.template_choice.as_str()
                })
                .show_ui(ui, |ui| {
                    for t in &self.templates {
                        let text = format!(
                            "{} ({} regions, {}×{})",
                            t.name,
                            t.regions.len(),
                            t.width,
                            t.height
                        );
                        ui.selectable_value(&mut self.template_choice, t.name.clone(), text);
                    }
                });
            if apply.clicked() {
                actions.push(PrivacyAction::ApplyTemplate(self.template_choice.clone()));
            }
        });
        ui.separator();

        ui.label(RichText::new("Window").strong());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    self.last_rect.is_some(),
                    egui::Button::new("Use drawn rectangle as crop"),
                )
                .on_hover_text("Only this part of the image travels; labels map back exactly")
                .clicked()
                && let Some([x, y, w, h]) = self.last_rect
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Image {
                    x: x as u32,
                    y: y as u32,
                    w: (w as u32).max(1),
                    h: (h as u32).max(1),
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
        ui.separator();
        self.mask_list_ui(ui, "Regions", actions);
    }

    fn close_polygon(&mut self, actions: &mut Vec<PrivacyAction>) {
        if self.polygon.len() >= 3 {
            actions.push(PrivacyAction::Add(MaskSpec::Region {
                region: Region {
                    shape: Shape::Polygon {
                        points: std::mem::take(&mut self.polygon),
                    },
                    style: self.region_style,
                },
            }));
        }
    }

    fn image_ui(
        &mut self,
        ui: &mut egui::Ui,
        texture: &egui::TextureHandle,
        width: u32,
        height: u32,
        actions: &mut Vec<PrivacyAction>,
    ) {
        let (rect, resp) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let view = View::fit(rect, width, height);
        self.image_view = Some(view);
        let (w, h) = (f64::from(width), f64::from(height));
        // Whole pixels, inside the image: what the controller stores.
        let to_px = |p: Pos2| {
            let (x, y) = view.to_image(p);
            [x.round().clamp(0.0, w), y.round().clamp(0.0, h)]
        };
        match self.mode {
            DrawMode::Rectangle | DrawMode::Crop => {
                if resp.drag_started()
                    && let Some(p) = ui.input(|i| i.pointer.press_origin())
                {
                    self.drag = Some((to_px(p), to_px(p)));
                }
                if resp.dragged()
                    && let (Some((a, _)), Some(p)) = (self.drag, resp.interact_pointer_pos())
                {
                    self.drag = Some((a, to_px(p)));
                }
                if resp.drag_stopped()
                    && let Some((a, b)) = self.drag.take()
                {
                    let r = rect_of(a, b);
                    if r[2] >= 1.0 && r[3] >= 1.0 {
                        self.last_rect = Some(r);
                        if self.mode == DrawMode::Rectangle {
                            actions.push(PrivacyAction::Add(MaskSpec::Region {
                                region: Region {
                                    shape: Shape::Rect {
                                        x: r[0],
                                        y: r[1],
                                        w: r[2],
                                        h: r[3],
                                    },
                                    style: self.region_style,
                                },
                            }));
                        }
                    }
                }
            }
            DrawMode::Polygon => {
                // The second click of a double-click closes instead of
                // adding a point on top of the first.
                if resp.double_clicked() {
                    self.close_polygon(actions);
                } else if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    self.polygon.push(to_px(p));
                }
            }
        }
        if !ui.ctx().egui_wants_keyboard_input() {
            if ui.input(|i| i.key_pressed(Key::Enter)) {
                self.close_polygon(actions);
            }
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                self.polygon.clear();
                self.drag = None;
            }
        }

        let painter = ui.painter_at(rect);
        painter.image(
            texture.id(),
            view.image_rect,
            Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        if let Some(Window::Image { x, y, w, h }) = self.window() {
            let crop = Rect::from_two_pos(
                view.to_screen(f64::from(x), f64::from(y)),
                view.to_screen(f64::from(x + w), f64::from(y + h)),
            );
            dim_outside(&painter, view.image_rect, crop);
            painter.rect_stroke(
                crop,
                0.0,
                Stroke::new(2.0, Color32::WHITE),
                StrokeKind::Middle,
            );
            chip(
                &painter,
                crop.left_top(),
                "crop: only this travels",
                Color32::WHITE,
            );
        }
        for m in self.masks() {
            let MaskSpec::Region { region } = &m.spec else {
                continue;
            };
            if m.status == "rejected" {
                continue;
            }
            let colour = status_colour(&m.status);
            let stroke = Stroke::new(2.0, colour);
            let corner = match &region.shape {
                Shape::Rect { x, y, w, h } => {
                    let r =
                        Rect::from_two_pos(view.to_screen(*x, *y), view.to_screen(x + w, y + h));
                    painter.rect(
                        r,
                        0.0,
                        colour.gamma_multiply(0.25),
                        stroke,
                        StrokeKind::Middle,
                    );
                    r.left_top()
                }
                Shape::Polygon { points } => {
                    let pts: Vec<Pos2> =
                        points.iter().map(|p| view.to_screen(p[0], p[1])).collect();
                    painter.add(egui::Shape::closed_line(pts.clone(), stroke));
                    pts.iter()
                        .copied()
                        .reduce(|a, b| a.min(b))
                        .unwrap_or(rect.left_top())
                }
            };
            let label = format!("#{} {}", m.id, region_style_name(region.style));
            chip(&painter, corner, &label, colour);
        }
        if let Some((a, b)) = self.drag {
            let r = Rect::from_two_pos(view.to_screen(a[0], a[1]), view.to_screen(b[0], b[1]));
            painter.rect_stroke(r, 0.0, Stroke::new(2.0, DRAW), StrokeKind::Middle);
        } else if self.mode == DrawMode::Crop
            && let Some([x, y, w, h]) = self.last_rect
        {
            let r = Rect::from_two_pos(view.to_screen(x, y), view.to_screen(x + w, y + h));
            let corners = [
                r.left_top(),
                r.right_top(),
                r.right_bottom(),
                r.left_bottom(),
                r.left_top(),
            ];
            painter.extend(egui::Shape::dashed_line(
                &corners,
                Stroke::new(2.0, DRAW),
                6.0,
                4.0,
            ));
        }
        if !self.polygon.is_empty() {
            let mut pts: Vec<Pos2> = self
                .polygon
                .iter()
                .map(|p| view.to_screen(p[0], p[1]))
                .collect();
            for p in &pts {
                painter.circle_filled(*p, 3.5, DRAW);
            }
            if let Some(hover) = resp.hover_pos() {
                pts.push(hover);
            }
            painter.add(egui::Shape::line(pts, Stroke::new(2.0, DRAW)));
        }
    }

    // ----- Audio -----

    fn audio_controls(&mut self, ui: &mut egui::Ui, actions: &mut Vec<PrivacyAction>) {
        let duration = self.item.duration_secs.unwrap_or(0.0);
        ui.heading("Time ranges of the recording");
        if ui
            .button("Propose from transcripts")
            .on_hover_text(
                "A segment whose transcript holds personal data proposes muting its time range",
            )
            .clicked()
        {
            actions.push(PrivacyAction::Propose);
        }
        ui.small("Drag on the timeline, or type the times:");
        egui::Grid::new("privacy-audio-range").show(ui, |ui| {
            let l = ui.label("Start");
            ui.add(
                egui::DragValue::new(&mut self.range.0)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            let l = ui.label("End");
            ui.add(
                egui::DragValue::new(&mut self.range.1)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Style");
            let mut style = self.audio_style;
            egui::ComboBox::from_id_salt("privacy-audio-style")
                .selected_text(audio_style_name(style))
                .show_ui(ui, |ui| {
                    for s in AUDIO_STYLES {
                        ui.selectable_value(&mut style, s, audio_style_name(s));
                    }
                })
                .response
                .labelled_by(l.id);
            if style != self.audio_style {
                actions.push(PrivacyAction::Setting {
                    key: "mask_audio_style",
                    value: audio_style_name(style).into(),
                });
            }
            if ui.button("Add range").clicked() {
                actions.push(PrivacyAction::Add(MaskSpec::Audio {
                    range: AudioRange {
                        start_secs: self.range.0.min(self.range.1),
                        end_secs: self.range.0.max(self.range.1),
                        style: self.audio_style,
                    },
                }));
            }
            ui.end_row();
        });
        ui.separator();
        ui.label(RichText::new("Window").strong());
        egui::Grid::new("privacy-audio-window").show(ui, |ui| {
            let l = ui.label("From");
            ui.add(
                egui::DragValue::new(&mut self.window_secs.0)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            let l = ui.label("To");
            ui.add(
                egui::DragValue::new(&mut self.window_secs.1)
                    .range(0.0..=duration)
                    .speed(0.05)
                    .suffix(" s"),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui
                .button("Set time window")
                .on_hover_text("Only this part of the recording travels (snapped to whole samples)")
                .clicked()
            {
                actions.push(PrivacyAction::SetWindow(Some(Window::Audio {
                    start_secs: self.window_secs.0,
                    end_secs: self.window_secs.1,
                })));
            }
            if self.window().is_some() && ui.button("Clear window").clicked() {
                actions.push(PrivacyAction::SetWindow(None));
            }
        });
        ui.separator();
        self.mask_list_ui(ui, "Ranges", actions);
    }

    fn audio_ui(&mut self, ui: &mut egui::Ui, duration: f64, peaks: Option<&Peaks>) {
        ui.label(format!("Recording of {duration:.1} s"));
        let size = egui::vec2(ui.available_width(), 180.0_f32.min(ui.available_height()));
        let (rect, resp) = ui.allocate_exact_size(size, Sense::click_and_drag());
        self.timeline = Some((rect, duration));
        let d = duration.max(1e-9);
        let x_of = |t: f64| rect.left() + (t / d) as f32 * rect.width();
        let t_of =
            |x: f32| (f64::from((x - rect.left()) / rect.width().max(1.0)) * d).clamp(0.0, d);
        if resp.drag_started()
            && let Some(p) = ui.input(|i| i.pointer.press_origin())
        {
            let t = t_of(p.x);
            self.range = (t, t);
        }
        if resp.dragged()
            && let Some(p) = resp.interact_pointer_pos()
        {
            self.range.1 = t_of(p.x);
        }
        if resp.drag_stopped() && self.range.0 > self.range.1 {
            self.range = (self.range.1, self.range.0);
        }

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        if let Some(p) = peaks {
            let mid = rect.center().y;
            let half = rect.height() / 2.0 - 4.0;
            let columns = rect.width().max(1.0) as usize;
            for c in 0..columns {
                let t0 = d * c as f64 / columns as f64;
                let t1 = d * (c + 1) as f64 / columns as f64;
                if let Some((lo, hi)) = p.range(t0, t1) {
                    let x = rect.left() + c as f32 + 0.5;
                    let y = |v: i16| mid - f32::from(v) / f32::from(i16::MAX) * half;
                    painter.line_segment(
                        [egui::pos2(x, y(hi)), egui::pos2(x, y(lo))],
                        Stroke::new(1.0, GREY),
                    );
                }
            }
        }
        if let Some(Window::Audio {
            start_secs,
            end_secs,
        }) = self.window()
        {
            let crop = Rect::from_x_y_ranges(x_of(start_secs)..=x_of(end_secs), rect.y_range());
            dim_outside(&painter, rect, crop);
            painter.rect_stroke(
                crop,
                0.0,
                Stroke::new(2.0, Color32::WHITE),
                StrokeKind::Inside,
            );
        }
        for m in self.masks() {
            let MaskSpec::Audio { range } = &m.spec else {
                continue;
            };
            if m.status == "rejected" {
                continue;
            }
            let colour = status_colour(&m.status);
            let r = Rect::from_x_y_ranges(
                x_of(range.start_secs)..=x_of(range.end_secs),
                rect.y_range(),
            );
            painter.rect(
                r,
                0.0,
                colour.gamma_multiply(0.3),
                Stroke::new(1.5, colour),
                StrokeKind::Inside,
            );
            chip(
                &painter,
                r.left_top(),
                &format!("#{} {}", m.id, audio_style_name(range.style)),
                colour,
            );
        }
        let (a, b) = (
            self.range.0.min(self.range.1),
            self.range.0.max(self.range.1),
        );
        if b > a {
            let r = Rect::from_x_y_ranges(x_of(a)..=x_of(b), rect.y_range());
            painter.rect_stroke(r, 0.0, Stroke::new(2.0, DRAW), StrokeKind::Inside);
        }
        // A tick every whole number of seconds that leaves room for labels.
        let step = [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]
            .into_iter()
            .find(|s| d / s <= 12.0)
            .unwrap_or(600.0);
        let mut t = 0.0;
        while t <= d {
            painter.text(
                egui::pos2(x_of(t) + 2.0, rect.bottom() - 2.0),
                Align2::LEFT_BOTTOM,
                format!("{t:.0} s"),
                FontId::proportional(11.0),
                GREY,
            );
            t += step;
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

/// The original's words under each text mask, in one pass over the text.
fn snippets(text: &str, masks: &[Mask]) -> HashMap<i64, String> {
    const MAX: usize = 48;
    let spans: Vec<(i64, usize, usize)> = masks
        .iter()
        .filter_map(|m| match m.spec {
            MaskSpec::Text { start, end, .. } => Some((m.id, start as usize, end as usize)),
            _ => None,
        })
        .collect();
    let mut out: HashMap<i64, String> = HashMap::new();
    for (i, c) in text.chars().enumerate() {
        for (id, s, e) in &spans {
            if (*s..*e).contains(&i) && i - s < MAX {
                out.entry(*id).or_default().push(c);
            }
        }
    }
    out
}

/// The text laid out with each char's decision: amber background when
/// proposed, red when accepted (masked), grey and struck through when
/// rejected; chars outside an excerpt are dimmed; `selection` is painted
/// as a selection.
fn text_job(
    ui: &egui::Ui,
    text: &str,
    marks: &[(usize, usize, &str)],
    excerpt: Option<(usize, usize)>,
    selection: Option<(usize, usize)>,
    wrap: f32,
) -> LayoutJob {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        None,
        Rejected,
        Proposed,
        Accepted,
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut mark = vec![Mark::None; n];
    for &(s, e, status) in marks {
        let m = match status {
            "accepted" => Mark::Accepted,
            "proposed" => Mark::Proposed,
            _ => Mark::Rejected,
        };
        for slot in mark.iter_mut().take(e.min(n)).skip(s) {
            // Masked wins over pending, pending over kept.
            let rank = |m: Mark| m as u8;
            if rank(m) > rank(*slot) {
                *slot = m;
            }
        }
    }
    let visuals = ui.visuals();
    let font = FontId::proportional(15.0);
    let format_at = |i: usize| {
        let outside = excerpt.is_some_and(|(s, e)| i < s || i >= e);
        let colour = if outside {
            visuals.weak_text_color()
        } else {
            visuals.text_color()
        };
        let mut f = TextFormat::simple(font.clone(), colour);
        match mark[i] {
            Mark::Accepted => f.background = RED.gamma_multiply(0.45),
            Mark::Proposed => f.background = AMBER.gamma_multiply(0.4),
            Mark::Rejected => {
                f.color = GREY;
                f.strikethrough = Stroke::new(1.0, GREY);
            }
            Mark::None => {}
        }
        if selection.is_some_and(|(s, e)| i >= s && i < e) {
            f.background = SELECTION_BG;
        }
        f
    };
    let mut job = LayoutJob {
        wrap: egui::text::TextWrapping {
            max_width: wrap,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut start = 0;
    let mut current = (n > 0).then(|| format_at(0));
    for i in 1..=n {
        let next = (i < n).then(|| format_at(i));
        if next != current {
            if let Some(f) = current.take() {
                let piece: String = chars[start..i].iter().collect();
                job.append(&piece, 0.0, f);
            }
            start = i;
            current = next;
        }
    }
    job
}

/// Darkens what lies outside `keep` inside `area` (what does not travel).
fn dim_outside(painter: &egui::Painter, area: Rect, keep: Rect) {
    let shade = Color32::from_black_alpha(140);
    let keep = keep.intersect(area);
    for r in [
        Rect::from_min_max(area.min, egui::pos2(area.max.x, keep.min.y)),
        Rect::from_min_max(egui::pos2(area.min.x, keep.max.y), area.max),
        Rect::from_min_max(
            egui::pos2(area.min.x, keep.min.y),
            egui::pos2(keep.min.x, keep.max.y),
        ),
        Rect::from_min_max(
            egui::pos2(keep.max.x, keep.min.y),
            egui::pos2(area.max.x, keep.max.y),
        ),
    ] {
        if r.is_positive() {
            painter.rect_filled(r, 0.0, shade);
        }
    }
}

/// A small label on a dark chip at `at` (top-left corner of a shape).
fn chip(painter: &egui::Painter, at: Pos2, text: &str, colour: Color32) {
    let galley = painter.layout_no_wrap(text.to_string(), FontId::proportional(12.0), colour);
    let rect = Rect::from_min_size(at, galley.size() + Vec2::new(6.0, 2.0));
    painter.rect_filled(rect, 2.0, Color32::from_black_alpha(170));
    painter.galley(at + Vec2::new(3.0, 1.0), galley, colour);
}

/// Applies a template to every image that does not yet carry all of its
/// regions (scaled to the image), so applying twice, or onto the image it
/// was saved from, adds nothing.
fn apply_template(session: &mut Session, name: &str) -> Result<String, CoreError> {
    let template = session
        .mask_templates()?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| CoreError::NotFound(format!("template '{name}'")))?;
    let masks = session.mask_list(None)?;
    let mut targets = Vec::new();
    let mut skipped = 0;
    for item in session.items()? {
        let (Some(w), Some(h)) = (item.width, item.height) else {
            continue;
        };
        let (sx, sy) = (
            f64::from(w) / f64::from(template.width.max(1)),
            f64::from(h) / f64::from(template.height.max(1)),
        );
        let carried: Vec<&Region> = masks
            .iter()
            .filter(|m| m.item_id == item.id && m.status != "rejected")
            .filter_map(|m| match &m.spec {
                MaskSpec::Region { region } => Some(region),
                _ => None,
            })
            .collect();
        let all_there = template.regions.iter().all(|r| {
            let scaled = r.scaled(sx, sy);
            carried.iter().any(|c| regions_close(c, &scaled))
        });
        if all_there {
            skipped += 1;
        } else {
            targets.push(item.id);
        }
    }
    let added = if targets.is_empty() {
        0
    } else {
        session.template_apply(name, &targets)?
    };
    Ok(format!(
        "Template '{name}': {added} region(s) added to {} image(s); {skipped} already carried it",
        targets.len()
    ))
}

/// Same shape within half a pixel (scaling is not exact in floating point).
fn regions_close(a: &Region, b: &Region) -> bool {
    let near = |p: f64, q: f64| (p - q).abs() <= 0.5;
    match (&a.shape, &b.shape) {
        (
            Shape::Rect { x, y, w, h },
            Shape::Rect {
                x: x2,
                y: y2,
                w: w2,
                h: h2,
            },
        ) => near(*x, *x2) && near(*y, *y2) && near(*w, *w2) && near(*h, *h2),
        (Shape::Polygon { points: p }, Shape::Polygon { points: q }) => {
            p.len() == q.len()
                && p.iter()
                    .zip(q)
                    .all(|(a, b)| near(a[0], b[0]) && near(a[1], b[1]))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
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
        assert!(regions_close(&scaled, &r.scaled(2.0000001, 0.5)));
        assert!(!regions_close(&r, &scaled));
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
