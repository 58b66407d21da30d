//! The labelling workspace: queue on the left, the item in the middle,
//! classes, tags, labels and attributes on the right, tools on top, status
//! bar at the bottom. Panels only read state and push [`WsAction`]s; `apply`
//! hands them to the controller once per frame, and "Saved" is shown only
//! after the controller committed the change.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use egui::{Color32, Key, RichText};

use super::audio_view::{AudioAction, AudioViewState, audio_ui};
use super::canvas::{self, CanvasAction, CanvasInput, CanvasState};
use super::commands::{Bar, Command, Menu, Scope};
use super::governance_view::{
    AccessView, BannerAction, ConsentPanel, EraseConfirm, IncidentAction, IncidentsView,
    ReportDialog, ReportRequest, RetentionDialog,
};
use super::keymap::{Keymap, KeymapEditor};
use super::loader::{LoadedContent, Loader};
use super::packages::{DialogKind, DialogRequest, ExportDialog, PackageDialog};
use super::privacy_view::{Original, PrivacyAction, PrivacyView};
use super::quality_view::QualityView;
use super::schema_editor::{SaveProblem, SchemaEditor, SchemaEditorAction};
use super::shield::Shield;
use super::text_view::{TextAction, TextViewState, text_ui};
use crate::controller::{CoreError, Session};
use crate::model::{
    Annotation, AnnotationDraft, AssignmentState, AttributeKind, Geometry, ItemKind, ItemStatus,
    ItemSummary, LabelChange, LabelClass, Role, Schema, Tool, format_time, now_ms,
};
use crate::permissions::{self, Action};

use dialogs::{Dialogs, class_names_for_privacy};
use expiry::Expiry;
use playback::Playback;
use queue::Queue;
use review::ReviewState;

mod dialogs;
mod dispatch;
mod expiry;
mod governance;
mod labels;
mod panels;
mod playback;
mod queue;
mod review;

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

/// How many items ahead are decoded in the background.
const PREFETCH_AHEAD: usize = 2;
/// Decoded items kept (current, previous, prefetched): bounds memory.
const CACHE_ITEMS: usize = 4;
/// The user setting holding remapped shortcuts.
pub const SHORTCUTS_SETTING: &str = "shortcuts";
/// The project setting (and user setting of the same name) that covers the
/// item when the window loses focus.
pub const PRIVACY_SCREEN_SETTING: &str = "privacy_screen";

/// Something the user asked for this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum WsAction {
    SelectItem(usize),
    SelectClass(i64),
    SelectTool(Tool),
    /// Selects one label (or toggles it with `additive`), or clears.
    SelectAnnotation {
        id: Option<i64>,
        additive: bool,
    },
    Canvas(CanvasAction),
    Delete(i64),
    ToggleTag(i64),
    SetHidden(i64, bool),
    SetLocked(i64, bool),
    SetAttribute {
        id: i64,
        name: String,
        value: serde_json::Value,
    },
    ConfirmSkip,
    ConfirmReject,
    AddComment,
    ApplyConsensus,
    Run(Command),
    PlayAudio,
    StopAudio,
    Audio(AudioAction),
    SetTranscript {
        id: i64,
        text: String,
    },
}

/// What the workspace asks of the app shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellRequest {
    Lock,
    /// Erase this laptop bundle (confirmed by the user) and go back to the
    /// project picker.
    EraseBundle,
}

/// The save indicator: only the controller's `Ok` turns it to `Saved`.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveState {
    Idle,
    Saved { at_ms: i64 },
    Failed(String),
}

/// What the centre panel shows.
enum ItemView {
    Empty,
    Loading,
    Image {
        preview: egui::TextureHandle,
        /// The preview's pixels as decoded, to re-apply view adjustments.
        preview_pixels: egui::ColorImage,
        /// The adjustments the uploaded textures carry.
        applied: Adjust,
        /// Full-resolution tiles, uploaded on first zoom past the preview.
        full_pixels: Option<Arc<Vec<super::loader::Tile>>>,
        /// Uploaded tiles: where each goes (original pixels) and its texture.
        full: Option<Vec<(egui::Rect, egui::TextureHandle)>>,
        width: u32,
        height: u32,
    },
    /// Decoded audio and text stay as the loader delivered them.
    Decoded(LoadedContent),
}

pub struct Workspace {
    session: Session,
    /// The items, the filters, the current item and what is being decoded.
    queue: Queue,
    schema: Schema,
    active_class: Option<i64>,
    tool: Tool,
    annotations: Vec<Annotation>,
    selected: BTreeSet<i64>,
    view: ItemView,
    canvas: CanvasState,
    text_view: TextViewState,
    audio_view: AudioViewState,
    pub save_state: SaveState,
    message: Option<String>,
    keymap: Keymap,
    /// Review of the current item: correcting mode, who has work on it,
    /// and its comment thread.
    review: ReviewState,
    /// An annotator's acceptance rate, for the status bar.
    acceptance: Option<String>,
    opacity: f32,
    adjust: Adjust,
    /// A view slider is being dragged: re-upload textures when it is let go.
    adjusting: bool,
    watermark: Option<String>,
    /// The current item's consent and purposes (side panel).
    consent: Option<ConsentPanel>,
    /// The privacy screen (panic hotkey, focus loss).
    shield: Shield,
    /// `privacy_screen` as the project sets it, and as this user does.
    privacy_screen_project: bool,
    privacy_screen_user: bool,
    /// Every window of the workspace, open or not.
    dialogs: Dialogs,
    /// Playback of the current recording.
    playback: Playback,
    /// A laptop bundle's work-package expiry.
    expiry: Expiry,
}

/// View-only brightness and contrast (the stored image never changes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adjust {
    /// Added to every channel, -0.5..0.5 of full scale.
    pub brightness: f32,
    /// Scales the distance from mid-grey, 0.5..2.
    pub contrast: f32,
}

impl Default for Adjust {
    fn default() -> Self {
        Self {
            brightness: 0.0,
            contrast: 1.0,
        }
    }
}

impl Adjust {
    /// The image with the adjustment applied through a 256-entry table.
    pub fn apply(&self, img: &egui::ColorImage) -> egui::ColorImage {
        if *self == Adjust::default() {
            return img.clone();
        }
        let lut: Vec<u8> = (0..=255u8)
            .map(|v| {
                let x = (f32::from(v) - 127.5) * self.contrast + 127.5 + self.brightness * 255.0;
                x.round().clamp(0.0, 255.0) as u8
            })
            .collect();
        let map = |v: u8| lut.get(usize::from(v)).copied().unwrap_or(v);
        let pixels = img
            .pixels
            .iter()
            .map(|c| Color32::from_rgba_unmultiplied(map(c.r()), map(c.g()), map(c.b()), c.a()))
            .collect();
        egui::ColorImage::new(img.size, pixels)
    }
}

impl Workspace {
    /// Opens the workspace at `start_item` (an item id) or the first item.
    pub fn new(
        ctx: &egui::Context,
        mut session: Session,
        start_item: Option<i64>,
    ) -> Result<Self, String> {
        // Auditors read the trail and the governance reports, not items:
        // asking for a queue would only be refused (and audited as such).
        let items = if permissions::allowed(session.role(), Action::ListItems) {
            session.items().map_err(|e| e.to_string())?
        } else {
            Vec::new()
        };
        let expires_at = session.expires_at();
        let expired = session.expired();
        let privacy_screen_project = session
            .project_setting(PRIVACY_SCREEN_SETTING)
            .is_ok_and(|v| v == "on");
        let privacy_screen_user = session
            .user_setting(PRIVACY_SCREEN_SETTING)
            .is_ok_and(|v| v.as_deref() == Some("on"));
        let schema = session.schema().map_err(|e| e.to_string())?;
        let loader = Loader::spawn(ctx.clone())
            .map_err(|e| format!("cannot start the decoder thread: {e}"))?;
        let (keymap, warnings) = match session.user_setting(SHORTCUTS_SETTING) {
            Ok(Some(json)) => Keymap::from_json(&json),
            _ => (Keymap::default(), vec![]),
        };
        let watermark = session.watermark_on().then(|| {
            let user = session.user();
            let date = format_time(now_ms());
            format!(
                "{} · {} · {}",
                user.name,
                user.fingerprint,
                date.get(..10).unwrap_or(&date)
            )
        });
        let mut ws = Self {
            session,
            queue: Queue::new(items, loader),
            active_class: schema.classes.first().map(|c| c.id),
            schema,
            tool: Tool::BBox,
            annotations: Vec::new(),
            selected: BTreeSet::new(),
            view: ItemView::Empty,
            canvas: CanvasState::default(),
            text_view: TextViewState::default(),
            audio_view: AudioViewState::default(),
            save_state: SaveState::Idle,
            message: (!warnings.is_empty())
                .then(|| format!("Some saved shortcuts were ignored: {}", warnings.join("; "))),
            keymap,
            review: ReviewState::default(),
            acceptance: None,
            opacity: 0.2,
            adjust: Adjust::default(),
            adjusting: false,
            watermark,
            consent: None,
            shield: Shield::default(),
            dialogs: Dialogs::default(),
            playback: Playback::default(),
            expiry: Expiry {
                expires_at,
                expired,
                checked_at: std::time::Instant::now(),
            },
            privacy_screen_project,
            privacy_screen_user,
        };
        if ws.session.role() == Role::Annotator
            && let Ok(a) = ws.session.acceptance(None)
            && let Some(rate) = a.rate()
        {
            ws.acceptance = Some(format!(
                "accepted {:.0} % ({} of {})",
                100.0 * rate,
                a.approved + a.corrected,
                a.approved + a.corrected + a.rejected
            ));
        }
        let start = start_item
            .and_then(|id| ws.queue.items.iter().position(|i| i.id == id))
            .or((!ws.queue.items.is_empty()).then_some(0));
        if let Some(index) = start {
            ws.open_item(index);
        }
        Ok(ws)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }
    pub fn into_session(self) -> Session {
        self.session
    }
    pub fn current_item(&self) -> Option<&ItemSummary> {
        self.queue.current.and_then(|i| self.queue.items.get(i))
    }
    pub fn annotations(&self) -> &[Annotation] {
        &self.annotations
    }
    pub fn selected(&self) -> &BTreeSet<i64> {
        &self.selected
    }
    pub fn tool(&self) -> Tool {
        self.tool
    }
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The one place a failed controller call becomes what the person
    /// reads: the status line, worded by [`explain`]. Every error the
    /// workspace acts on passes here, so none is dropped or shown twice.
    fn fail(&mut self, e: CoreError) {
        self.message = Some(explain(&e));
    }

    /// A controller result: the value, or `None` after [`Self::fail`].
    fn report<T>(&mut self, result: Result<T, CoreError>) -> Option<T> {
        result.map_err(|e| self.fail(e)).ok()
    }

    /// Something worth saying on the status line (not an error).
    fn tell(&mut self, text: impl Into<String>) {
        self.message = Some(text.into());
    }
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }
    /// The audio view's state (layout) for tests.
    pub fn audio_view(&self) -> &AudioViewState {
        &self.audio_view
    }

    /// Whether the current audio item's waveform is ready.
    pub fn has_waveform(&self) -> bool {
        matches!(
            self.view,
            ItemView::Decoded(LoadedContent::Audio { peaks: Some(_), .. })
        )
    }

    /// The text view's state (selection, layout) for tests.
    pub fn text_view(&self) -> &TextViewState {
        &self.text_view
    }

    /// Where the image was drawn last frame, if an image is shown.
    pub fn canvas_view(&self) -> Option<canvas::View> {
        self.canvas.last_view
    }
    pub fn classes(&self) -> &[LabelClass] {
        &self.schema.classes
    }
    pub fn visible_items(&self) -> Vec<&ItemSummary> {
        self.queue
            .visible
            .iter()
            .filter_map(|i| self.queue.items.get(*i))
            .collect()
    }
    pub fn is_loading(&self) -> bool {
        matches!(self.view, ItemView::Loading)
    }
    pub fn has_image(&self) -> bool {
        matches!(self.view, ItemView::Image { .. })
    }
    /// The view adjustments currently shown (tests).
    pub fn view_adjust(&self) -> Option<Adjust> {
        match &self.view {
            ItemView::Image { applied, .. } => Some(*applied),
            _ => None,
        }
    }
    pub fn set_view_adjust(&mut self, adjust: Adjust) {
        self.adjust = adjust;
    }

    /// Whether the full-resolution texture is in use (zoomed in on a large image).
    pub fn shows_full_resolution(&self) -> bool {
        matches!(self.view, ItemView::Image { full: Some(_), .. })
    }

    /// The frame's background work, in one place and before anything is
    /// drawn (also while the privacy screen is up): decoded items arrive,
    /// the work package's expiry is looked at, and the export and package
    /// workers report.
    fn logic(&mut self, ctx: &egui::Context) {
        self.poll_loader(ctx);
        self.check_expiry(ctx);
        if let Some(dialog) = self.dialogs.export_dialog.as_mut() {
            dialog.poll(ctx);
        }
        if let Some(dialog) = self.dialogs.package_dialog.as_mut()
            && let Some(sealed) = dialog.poll(ctx)
        {
            let made = self
                .session
                .finish_package(&sealed.plan, &sealed.out, &sealed.outcome);
            dialog.show_made(made);
        }
    }

    /// Draws the workspace and applies what the user did.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<ShellRequest> {
        let ctx = ui.ctx().clone();
        self.logic(&ctx);
        // The privacy screen looks at the input before anything else: its
        // hotkey works in dialogs and text fields, and while it is up
        // nothing of the item (or any window about it) is drawn.
        let panic_key = self.keymap.shortcut(Command::PanicHide);
        if self
            .shield
            .update(&ctx, self.privacy_screen_on(), panic_key)
        {
            self.audio_pause();
            super::shield::Shield::cover_ui(ui);
            return None;
        }
        let mut actions = Vec::new();

        let modal_open = self.dialogs.any_open();
        // In a document, Shift+arrows extend the text selection instead of
        // changing item (the arrows' fixed alternative).
        let is_text = self
            .current_item()
            .is_some_and(|i| i.kind == ItemKind::Text);
        let selecting_text = is_text
            && ctx.input(|i| {
                i.modifiers.shift
                    && (i.key_pressed(Key::ArrowLeft) || i.key_pressed(Key::ArrowRight))
            });
        if !ctx.egui_wants_keyboard_input() && !modal_open && !selecting_text {
            actions.extend(self.keymap.pressed(&ctx).into_iter().map(WsAction::Run));
            for (i, key) in NUMBER_KEYS.iter().enumerate() {
                if ctx.input(|inp| inp.key_pressed(*key) && inp.modifiers.is_none())
                    && let Some(class) = self
                        .schema
                        .classes
                        .iter()
                        .find(|c| c.hotkey == Some(i as u8 + 1))
                {
                    actions.push(WsAction::SelectClass(class.id));
                }
            }
        }

        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui, &mut actions));
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui, &mut actions));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        egui::Panel::left("queue")
            .default_size(300.0)
            .show(ui, |ui| self.queue_ui(ui, &mut actions));
        egui::Panel::right("labels")
            .default_size(280.0)
            .show(ui, |ui| self.labels_ui(ui, &mut actions));
        egui::CentralPanel::default().show(ui, |ui| {
            if self.expiry.expired {
                self.expired_ui(ui, &mut actions);
            } else {
                self.item_ui(ui, &mut actions);
            }
        });
        if self.dialogs.show_help {
            self.help_ui(&ctx);
        }
        self.skip_ui(&ctx, &mut actions);
        self.reject_ui(&ctx, &mut actions);
        self.project_settings_ui(&ctx);
        self.package_dialog_ui(&ctx);
        self.export_ui(&ctx);
        self.quality_ui(&ctx);
        self.privacy_ui(&ctx, &mut actions);
        self.report_ui(&ctx);
        self.incidents_ui(&ctx);
        self.access_ui(&ctx);
        self.retention_ui(&ctx);
        let erase = self.dialogs.erase_confirm.ui(&ctx, &self.session.root());
        if let Some(keymap) = self.dialogs.keymap_editor.ui(&ctx) {
            self.save_keymap(keymap);
        }
        if let Some(action) = self.dialogs.schema_editor.ui(&ctx) {
            self.apply_schema_action(action);
        }
        if erase {
            self.dialogs.erase_confirm.open = false;
            return Some(ShellRequest::EraseBundle);
        }
        self.apply(actions)
    }

    /// A bundle made from a work package, whose user may send results.
    pub fn is_laptop_bundle(&self) -> bool {
        self.permits(Command::SendResults)
    }

    /// The comments shown for the current item.
    pub fn comments(&self) -> &[crate::controller::Comment] {
        &self.review.comments
    }
}

/// How a controller error reads on the status line: a refusal says it is
/// one, a locked-down state says what to do; the rest is the error's own
/// message, which already names what failed and why.
fn explain(e: &CoreError) -> String {
    match e {
        CoreError::Denied(d) => format!("{d}; ask a project admin if your work needs it"),
        CoreError::Cancelled => "Cancelled: nothing was changed".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_adjustments_map_grey_levels() {
        let img = egui::ColorImage::new(
            [3, 1],
            vec![
                Color32::from_gray(0),
                Color32::from_gray(128),
                Color32::from_gray(255),
            ],
        );
        let grey = |a: Adjust| {
            a.apply(&img)
                .pixels
                .iter()
                .map(|c| c.r())
                .collect::<Vec<u8>>()
        };
        assert_eq!(grey(Adjust::default()), [0, 128, 255]);
        assert_eq!(
            grey(Adjust {
                brightness: 0.2,
                contrast: 1.0
            }),
            [51, 179, 255]
        );
        // Contrast 2 doubles the distance from mid-grey; 0.5 halves it.
        assert_eq!(
            grey(Adjust {
                brightness: 0.0,
                contrast: 2.0
            }),
            [0, 129, 255]
        );
        assert_eq!(
            grey(Adjust {
                brightness: 0.0,
                contrast: 0.5
            }),
            [64, 128, 191]
        );
        // Alpha is untouched.
        let a = Adjust {
            brightness: 0.3,
            contrast: 1.5,
        }
        .apply(&img);
        assert!(a.pixels.iter().all(|c| c.a() == 255));
    }
}
