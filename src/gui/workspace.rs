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
    Annotation, AnnotationDraft, AttributeKind, Geometry, ItemKind, ItemSummary, LabelChange,
    LabelClass, Role, Schema, Tool, format_time, now_ms,
};
use crate::permissions::{self, Action};

mod governance;

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
/// Queue status filters, in workflow order.
pub const STATUSES: [&str; 6] = crate::model::ITEM_STATUSES;
/// The user setting holding remapped shortcuts.
pub const SHORTCUTS_SETTING: &str = "shortcuts";
/// The project setting (and user setting of the same name) that covers the
/// item when the window loses focus.
pub const PRIVACY_SCREEN_SETTING: &str = "privacy_screen";

/// The Project settings window's fields while it is open.
struct ProjectSettingsForm {
    idle_minutes: u32,
    watermark: String,
    privacy_screen: bool,
    /// `retention_days`: 0 keeps every item.
    retention_days: u32,
    /// What travels in work packages: `package_names` (original or opaque)
    /// and `package_fields` (allow-listed record fields, comma-separated).
    opaque_names: bool,
    package_fields: String,
    /// `pii_region`: whose national phone formats the detector reads.
    pii_region: String,
}
/// How often an open laptop bundle looks at its work package's expiry.
const EXPIRY_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

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
    items: Vec<ItemSummary>,
    /// Indices into `items` that pass the filters, in queue order.
    visible: Vec<usize>,
    status_filter: Option<&'static str>,
    search: String,
    current: Option<usize>,
    schema: Schema,
    active_class: Option<i64>,
    tool: Tool,
    annotations: Vec<Annotation>,
    selected: BTreeSet<i64>,
    view: ItemView,
    loader: Loader,
    /// Decoded items by id, waiting to be shown (prefetch).
    cache: HashMap<i64, LoadedContent>,
    requested: HashSet<i64>,
    canvas: CanvasState,
    text_view: TextViewState,
    audio_view: AudioViewState,
    /// Playback position in seconds, and when playback started from it.
    playhead: f64,
    playing_since: Option<std::time::Instant>,
    /// Playback stops (or loops) at this time: a selected segment's end.
    play_until: Option<(f64, f64)>,
    loop_selection: bool,
    pub save_state: SaveState,
    message: Option<String>,
    show_help: bool,
    audio: AudioOut,
    keymap: Keymap,
    keymap_editor: KeymapEditor,
    schema_editor: SchemaEditor,
    /// The admin's project settings window: (idle lock minutes, watermark,
    /// privacy screen), when open.
    project_settings: Option<ProjectSettingsForm>,
    /// The reason being typed in the skip dialog, when it is open.
    skip_reason: Option<String>,
    /// The open package dialog (make work, open results, send results).
    package_dialog: Option<PackageDialog>,
    /// The comment being typed in the reject dialog, when it is open.
    reject_comment: Option<String>,
    /// The item a reviewer is correcting (reviewers see work read-only
    /// until they choose to correct it).
    correcting: Option<i64>,
    /// Comments on the current item this user may read, and the draft.
    comments: Vec<crate::store::CommentRow>,
    comment_draft: String,
    /// The quality window, when open.
    quality: Option<QualityView>,
    /// The admin's privacy window for the current item, when open.
    privacy: Option<PrivacyView>,
    /// Reviewers: who has work on the current item (fingerprint, name,
    /// purpose, state), and whose work the next decision is about.
    item_work: Vec<(String, String, String, String)>,
    review_target: Option<String>,
    /// The export dialog, when open.
    export_dialog: Option<ExportDialog>,
    /// An annotator's acceptance rate, for the status bar.
    acceptance: Option<String>,
    opacity: f32,
    adjust: Adjust,
    /// A view slider is being dragged: re-upload textures when it is let go.
    adjusting: bool,
    watermark: Option<String>,
    /// "Report this item…", when open.
    report: Option<ReportDialog>,
    /// The admin's incident queue, when open.
    incidents: Option<IncidentsView>,
    /// Access review and anomalies (admins, auditors), when open.
    access: Option<AccessView>,
    /// "Purge expired items…", when open.
    retention: Option<RetentionDialog>,
    /// The current item's consent and purposes (side panel).
    consent: Option<ConsentPanel>,
    /// The privacy screen (panic hotkey, focus loss).
    shield: Shield,
    /// `privacy_screen` as the project sets it, and as this user does.
    privacy_screen_project: bool,
    privacy_screen_user: bool,
    /// A laptop bundle's work-package expiry, and whether it has passed
    /// (then no item is opened or decoded any more).
    expires_at: Option<i64>,
    expired: bool,
    expiry_checked: std::time::Instant,
    erase_confirm: EraseConfirm,
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
            visible: (0..items.len()).collect(),
            items,
            status_filter: None,
            search: String::new(),
            current: None,
            active_class: schema.classes.first().map(|c| c.id),
            schema,
            tool: Tool::BBox,
            annotations: Vec::new(),
            selected: BTreeSet::new(),
            view: ItemView::Empty,
            loader,
            cache: HashMap::new(),
            requested: HashSet::new(),
            canvas: CanvasState::default(),
            text_view: TextViewState::default(),
            audio_view: AudioViewState::default(),
            playhead: 0.0,
            playing_since: None,
            play_until: None,
            loop_selection: false,
            save_state: SaveState::Idle,
            message: (!warnings.is_empty())
                .then(|| format!("Some saved shortcuts were ignored: {}", warnings.join("; "))),
            show_help: false,
            audio: AudioOut::default(),
            keymap,
            keymap_editor: KeymapEditor::default(),
            schema_editor: SchemaEditor::default(),
            skip_reason: None,
            package_dialog: None,
            reject_comment: None,
            correcting: None,
            comments: Vec::new(),
            comment_draft: String::new(),
            quality: None,
            privacy: None,
            item_work: Vec::new(),
            review_target: None,
            export_dialog: None,
            acceptance: None,
            project_settings: None,
            opacity: 0.2,
            adjust: Adjust::default(),
            adjusting: false,
            watermark,
            report: None,
            incidents: None,
            access: None,
            retention: None,
            consent: None,
            shield: Shield::default(),
            privacy_screen_project,
            privacy_screen_user,
            expires_at,
            expired,
            expiry_checked: std::time::Instant::now(),
            erase_confirm: EraseConfirm::default(),
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
            .and_then(|id| ws.items.iter().position(|i| i.id == id))
            .or((!ws.items.is_empty()).then_some(0));
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
        self.current.and_then(|i| self.items.get(i))
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
        self.visible
            .iter()
            .filter_map(|i| self.items.get(*i))
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

    /// Recomputes the filtered queue.
    fn refilter(&mut self) {
        let needle = self.search.to_lowercase();
        self.visible = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| self.status_filter.is_none_or(|s| i.status == s))
            .filter(|(_, i)| needle.is_empty() || i.name.to_lowercase().contains(&needle))
            .map(|(n, _)| n)
            .collect();
    }

    fn open_item(&mut self, index: usize) {
        // After expiry nothing is decrypted: not even an attempt, which
        // the controller would refuse and audit.
        if self.expired {
            return;
        }
        let Some(item) = self.items.get(index) else {
            return;
        };
        let item_id = item.id;
        self.current = Some(index);
        self.selected.clear();
        self.canvas.reset_gestures();
        self.canvas.zoom_fit();
        self.text_view.clear();
        self.audio_view.reset();
        self.playhead = 0.0;
        self.playing_since = None;
        self.audio.stop();
        if let Some(content) = self.cache.remove(&item_id) {
            if let Err(e) = self.session.record_view(item_id) {
                self.message = Some(e.to_string());
            }
            let ctx = self.loader.ctx();
            self.show(&ctx, item_id, content);
        } else {
            match self.session.open_item(item_id) {
                Ok(blob) => {
                    if self.requested.insert(item_id) {
                        self.loader.request(blob);
                    }
                    self.view = ItemView::Loading;
                }
                Err(e) => self.view = ItemView::Decoded(LoadedContent::Failed(e.to_string())),
            }
        }
        self.reload_annotations();
        self.reload_comments();
        self.reload_work();
        self.consent = Some(ConsentPanel::load(&mut self.session, item_id));
        if self.correcting != Some(item_id) {
            self.correcting = None;
        }
        self.prefetch_around(index);
    }

    /// Decodes the next items in the background (authorised, not yet
    /// recorded as viewed: that happens when they are shown).
    fn prefetch_around(&mut self, index: usize) {
        let pos = self.visible.iter().position(|i| *i == index).unwrap_or(0);
        let ahead: Vec<i64> = self
            .visible
            .iter()
            .skip(pos + 1)
            .take(PREFETCH_AHEAD)
            .filter_map(|i| self.items.get(*i).map(|it| it.id))
            .collect();
        for id in ahead {
            if self.cache.contains_key(&id) || self.requested.contains(&id) {
                continue;
            }
            if let Ok(blob) = self.session.prefetch_item(id) {
                self.requested.insert(id);
                self.loader.request(blob);
            }
        }
        // Bound memory: keep only items near the current one.
        if self.cache.len() > CACHE_ITEMS {
            let keep: HashSet<i64> = self
                .visible
                .iter()
                .skip(pos.saturating_sub(1))
                .take(PREFETCH_AHEAD + 2)
                .filter_map(|i| self.items.get(*i).map(|it| it.id))
                .collect();
            self.cache.retain(|id, _| keep.contains(id));
        }
    }

    fn show(&mut self, ctx: &egui::Context, item_id: i64, content: LoadedContent) {
        self.view = match content {
            LoadedContent::Image {
                preview,
                full,
                width,
                height,
            } => ItemView::Image {
                preview: ctx.load_texture(
                    format!("item-{item_id}-preview"),
                    self.adjust.apply(&preview),
                    egui::TextureOptions::LINEAR,
                ),
                preview_pixels: preview,
                applied: self.adjust,
                full_pixels: full,
                full: None,
                width,
                height,
            },
            other => {
                // A waveform computed now is kept (encrypted) for next time.
                if let LoadedContent::Audio {
                    peaks: Some(peaks),
                    peaks_new: true,
                    ..
                } = &other
                    && let Err(e) = self.session.store_peaks(item_id, peaks)
                {
                    self.message = Some(format!("Waveform not cached: {e}"));
                }
                ItemView::Decoded(other)
            }
        };
    }

    fn reload_annotations(&mut self) {
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
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
        let live: HashSet<i64> = self.annotations.iter().map(|a| a.id).collect();
        self.selected.retain(|id| live.contains(id));
    }

    /// Receives decoded items from the worker thread.
    fn poll_loader(&mut self, ctx: &egui::Context) {
        while let Ok(loaded) = self.loader.results.try_recv() {
            let is_current = self.current_item().map(|i| i.id) == Some(loaded.item_id);
            if let LoadedContent::Tiles(tiles) = loaded.content {
                // Full resolution follows its preview: attach it wherever that went.
                if is_current && let ItemView::Image { full_pixels, .. } = &mut self.view {
                    *full_pixels = Some(tiles);
                } else if let Some(LoadedContent::Image { full, .. }) =
                    self.cache.get_mut(&loaded.item_id)
                {
                    *full = Some(tiles);
                }
                continue;
            }
            self.requested.remove(&loaded.item_id);
            if is_current && matches!(self.view, ItemView::Loading) {
                self.show(ctx, loaded.item_id, loaded.content);
            } else {
                self.cache.insert(loaded.item_id, loaded.content);
            }
        }
    }

    /// Draws the workspace and applies what the user did.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<ShellRequest> {
        let ctx = ui.ctx().clone();
        self.poll_loader(&ctx);
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
        self.check_expiry(&ctx);
        let mut actions = Vec::new();

        let modal_open = self.keymap_editor.open
            || self.schema_editor.open
            || self.skip_reason.is_some()
            || self.project_settings.is_some()
            || self.package_dialog.is_some()
            || self.export_dialog.is_some()
            || self.reject_comment.is_some()
            || self.report.is_some()
            || self.retention.is_some()
            || self.erase_confirm.open
            // The privacy window has its own keys (Enter closes a polygon,
            // Escape drops it) and its own item buttons.
            || self.privacy.is_some();
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
            if self.expired {
                self.expired_ui(ui, &mut actions);
            } else {
                self.item_ui(ui, &mut actions);
            }
        });
        if self.show_help {
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
        let erase = self.erase_confirm.ui(&ctx, &self.session.root());
        if let Some(keymap) = self.keymap_editor.ui(&ctx) {
            self.save_keymap(keymap);
        }
        if let Some(action) = self.schema_editor.ui(&ctx) {
            self.apply_schema_action(action);
        }
        if erase {
            self.erase_confirm.open = false;
            return Some(ShellRequest::EraseBundle);
        }
        self.apply(actions)
    }

    fn menu_button(&self, ui: &mut egui::Ui, cmd: Command, actions: &mut Vec<WsAction>) {
        let mut button = egui::Button::new(cmd.label());
        let keys = self.keymap.text(cmd);
        if !keys.is_empty() {
            button = button.shortcut_text(keys);
        }
        let mut response = ui.add(button);
        let tooltip = cmd.spec().tooltip;
        if !tooltip.is_empty() {
            response = response.on_hover_text(tooltip);
        }
        if response.clicked() {
            actions.push(WsAction::Run(cmd));
            ui.close();
        }
    }

    /// The menus, each listing the commands whose row names it (those this
    /// user may run on this item), then the buttons of [`Bar::Menu`].
    fn menu_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        egui::MenuBar::new().ui(ui, |ui| {
            for menu in Menu::ALL {
                ui.menu_button(menu.title(), |ui| {
                    let mut last_group = None;
                    for cmd in Command::ALL {
                        let Some((in_menu, group)) = cmd.spec().menu else {
                            continue;
                        };
                        if in_menu != menu || !self.is_shown(cmd) {
                            continue;
                        }
                        if last_group.is_some_and(|last| last != group) {
                            ui.separator();
                        }
                        last_group = Some(group);
                        self.menu_button(ui, cmd, actions);
                    }
                    if menu == Menu::View {
                        self.privacy_screen_menu_ui(ui);
                    }
                });
            }
            ui.separator();
            for cmd in Command::ALL {
                if let Some((Bar::Menu, text)) = cmd.spec().button
                    && self.is_shown(cmd)
                    && ui
                        .button(text)
                        .on_hover_text(self.keymap.tooltip(cmd))
                        .clicked()
                {
                    actions.push(WsAction::Run(cmd));
                }
            }
        });
    }

    /// The tools of the current item's kind, then (on images) the view
    /// sliders and zoom buttons.
    fn toolbar_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let kind = self.current_item().map(|i| i.kind);
        let on_bar = |cmd: Command, bar: Bar| match cmd.spec().button {
            Some((on, text)) if on == bar && kind.is_some_and(|k| cmd.applies_to(k)) => Some(text),
            _ => None,
        };
        ui.horizontal(|ui| {
            for cmd in Command::ALL {
                let Some(text) = on_bar(cmd, Bar::Tools).filter(|_| self.is_shown(cmd)) else {
                    continue;
                };
                let tooltip = self.keymap.tooltip(cmd);
                match cmd.spec().tool {
                    Some(tool) => {
                        if ui
                            .selectable_label(self.tool == tool, text)
                            .on_hover_text(tooltip)
                            .clicked()
                        {
                            actions.push(WsAction::SelectTool(tool));
                        }
                    }
                    None => {
                        if ui.button(text).on_hover_text(tooltip).clicked() {
                            actions.push(WsAction::Run(cmd));
                        }
                    }
                }
            }
            self.adjusting = false;
            if kind != Some(ItemKind::Image) {
                return;
            }
            ui.separator();
            ui.label("Opacity");
            ui.add(egui::Slider::new(&mut self.opacity, 0.0..=1.0).show_value(false));
            let b = ui.label("Brightness");
            let rb = ui
                .add(egui::Slider::new(&mut self.adjust.brightness, -0.5..=0.5).show_value(false))
                .labelled_by(b.id)
                .on_hover_text("View only: the image itself is not changed");
            let c = ui.label("Contrast");
            let rc = ui
                .add(egui::Slider::new(&mut self.adjust.contrast, 0.5..=2.0).show_value(false))
                .labelled_by(c.id)
                .on_hover_text("View only: the image itself is not changed");
            self.adjusting = rb.dragged() || rc.dragged();
            if self.adjust != Adjust::default() && ui.small_button("Reset view").clicked() {
                self.adjust = Adjust::default();
            }
            ui.separator();
            for cmd in Command::ALL {
                if let Some(text) = on_bar(cmd, Bar::View)
                    && ui
                        .button(text)
                        .on_hover_text(self.keymap.tooltip(cmd))
                        .clicked()
                {
                    actions.push(WsAction::Run(cmd));
                }
            }
            if let Some(scale) = self.canvas.scale().filter(|_| self.has_image()) {
                ui.label(format!("{:.0} %", scale * 100.0));
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
            if let Some(at) = self.expires_at {
                let when = super::governance_view::short_time(at);
                let text = if self.expired {
                    format!("Work package expired {when} UTC")
                } else {
                    format!("Work package expires {when} UTC")
                };
                ui.label(RichText::new(text).color(Color32::from_rgb(240, 175, 40)));
                ui.separator();
            }
            if let Some(i) = self.current {
                ui.label(format!("item {} of {}", i + 1, self.items.len()));
                ui.separator();
            }
            ui.label(format!("tool: {}", self.tool.label()));
            if let Some(a) = &self.acceptance {
                ui.separator();
                ui.label(a)
                    .on_hover_text("Your work accepted by reviewers (approved or corrected)");
            }
            if let Some((x, y)) = self.canvas.cursor.filter(|_| self.has_image()) {
                ui.separator();
                ui.monospace(format!("{x:.0}, {y:.0} px"));
            }
            ui.separator();
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
                ui.label(RichText::new(msg).color(Color32::from_rgb(240, 200, 90)));
            }
        });
    }

    fn queue_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.heading("Queue");
        let mut changed = false;
        ui.horizontal(|ui| {
            let label = ui.label("Status");
            egui::ComboBox::from_id_salt("status-filter")
                .selected_text(self.status_filter.unwrap_or("all"))
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(&mut self.status_filter, None, "all")
                        .changed();
                    for s in STATUSES {
                        changed |= ui
                            .selectable_value(&mut self.status_filter, Some(s), s)
                            .changed();
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let label = ui.label("Search");
        changed |= ui
            .add(egui::TextEdit::singleline(&mut self.search).hint_text("name contains…"))
            .labelled_by(label.id)
            .changed();
        if changed {
            self.refilter();
        }
        ui.label(format!(
            "{} of {} item(s)",
            self.visible.len(),
            self.items.len()
        ));
        ui.separator();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        // show_rows lays out only the visible rows: 100k items stay smooth.
        // Rows must keep one height for that, so long names are truncated
        // (the full name is in the tooltip).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            row_height,
            self.visible.len(),
            |ui, range| {
                for row in range {
                    let Some(index) = self.visible.get(row).copied() else {
                        continue;
                    };
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

    fn labels_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        egui::ScrollArea::vertical()
            .id_salt("right-panel")
            .show(ui, |ui| {
                ui.heading("Classes");
                for class in &self.schema.classes {
                    let [r, g, b] = class.rgb();
                    let key = class.hotkey.map(|k| format!("{k}  ")).unwrap_or_default();
                    let colour = Color32::from_rgb(r, g, b);
                    let resp = ui
                        .horizontal(|ui| {
                            let (swatch, _) = ui
                                .allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                            ui.painter().rect_filled(swatch, 2.0, colour);
                            ui.selectable_label(
                                self.active_class == Some(class.id),
                                format!("{key}{}", class.name),
                            )
                        })
                        .inner;
                    let tools: Vec<&str> = class.tools.iter().map(|t| t.label()).collect();
                    let resp = resp.on_hover_text(format!(
                        "{}{} — tools: {}",
                        class.name,
                        class
                            .hotkey
                            .map(|k| format!(" (key {k})"))
                            .unwrap_or_default(),
                        tools.join(", ")
                    ));
                    if resp.clicked() {
                        actions.push(WsAction::SelectClass(class.id));
                    }
                }
                // Tags classify any item: image, recording or document.
                let has_item = self.current_item().is_some();
                let taggable: Vec<&LabelClass> = self
                    .schema
                    .classes
                    .iter()
                    .filter(|c| c.allows(Tool::Tag))
                    .collect();
                if has_item && !taggable.is_empty() {
                    ui.separator();
                    ui.heading("Tags");
                    ui.label(if self.schema.multi_label_tags {
                        "Several allowed"
                    } else {
                        "One per item"
                    });
                    ui.horizontal_wrapped(|ui| {
                        for class in taggable {
                            let mut on = self
                                .annotations
                                .iter()
                                .any(|a| a.class_id == class.id && a.geometry == Geometry::Tag);
                            if ui.checkbox(&mut on, &class.name).changed() {
                                actions.push(WsAction::ToggleTag(class.id));
                            }
                        }
                    });
                }
                ui.separator();
                ui.heading("Labels");
                let shapes: Vec<&Annotation> = self
                    .annotations
                    .iter()
                    .filter(|a| a.geometry != Geometry::Tag)
                    .collect();
                if shapes.is_empty() {
                    ui.label(match self.current_item().map(|i| i.kind) {
                        Some(ItemKind::Image) => "None yet: pick a tool and draw on the image",
                        Some(ItemKind::Text) => {
                            "None yet: select text, then press a class key (1–9) or Enter"
                        }
                        Some(ItemKind::Audio) => "None yet: drag on the waveform to add a segment",
                        None => "",
                    });
                }
                for a in shapes.iter().rev() {
                    let class = self.schema.classes.iter().find(|c| c.id == a.class_id);
                    let name = class.map(|c| c.name.as_str()).unwrap_or("?");
                    ui.horizontal(|ui| {
                        let by = self
                            .creator_name(&a.created_by)
                            .map(|n| format!(" · {n}"))
                            .unwrap_or_default();
                        let predicted = a
                            .source
                            .as_ref()
                            .map(|src| match a.score {
                                Some(p) => format!(" · predicted {p:.2} ({src})"),
                                None => format!(" · predicted ({src})"),
                            })
                            .unwrap_or_default();
                        let text = format!(
                            "#{} {name} · {}{by}{predicted}",
                            a.id,
                            a.geometry.tool().label().to_lowercase()
                        );
                        let resp = ui.selectable_label(self.selected.contains(&a.id), text);
                        if resp.clicked() {
                            let additive = ui.input(|i| i.modifiers.command || i.modifiers.shift);
                            actions.push(WsAction::SelectAnnotation {
                                id: Some(a.id),
                                additive,
                            });
                        }
                        if ui
                            .small_button(if a.hidden { "show" } else { "hide" })
                            .on_hover_text(self.keymap.tooltip(Command::ToggleHidden))
                            .clicked()
                        {
                            actions.push(WsAction::SetHidden(a.id, !a.hidden));
                        }
                        if ui
                            .small_button(if a.locked { "unlock" } else { "lock" })
                            .on_hover_text(self.keymap.tooltip(Command::ToggleLocked))
                            .clicked()
                        {
                            actions.push(WsAction::SetLocked(a.id, !a.locked));
                        }
                        if ui
                            .small_button("x")
                            .on_hover_text(format!("Delete #{}", a.id))
                            .clicked()
                        {
                            actions.push(WsAction::Delete(a.id));
                        }
                    });
                }
                // Transcript of the single selected segment, saved when the field is left.
                if self.selected.len() == 1
                    && let Some(a) = self
                        .annotations
                        .iter()
                        .find(|a| self.selected.contains(&a.id))
                    && let Geometry::Segment {
                        start_secs,
                        end_secs,
                        transcript,
                    } = &a.geometry
                {
                    ui.separator();
                    ui.heading(format!(
                        "Segment #{} · {start_secs:.2}–{end_secs:.2} s",
                        a.id
                    ));
                    let label = ui.label("Transcript");
                    let id = ui.scope_id().with(("transcript", a.id));
                    let mut text = ui
                        .data_mut(|d| d.get_temp::<String>(id))
                        .unwrap_or_else(|| transcript.clone());
                    let resp = ui
                        .add(
                            egui::TextEdit::multiline(&mut text)
                                .desired_rows(3)
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(label.id);
                    if resp.changed() {
                        ui.data_mut(|d| d.insert_temp(id, text.clone()));
                    }
                    if resp.lost_focus() && text != *transcript {
                        ui.data_mut(|d| d.remove::<String>(id));
                        actions.push(WsAction::SetTranscript { id: a.id, text });
                    }
                }
                // Attributes of the single selected label.
                if self.selected.len() == 1
                    && let Some(a) = self
                        .annotations
                        .iter()
                        .find(|a| self.selected.contains(&a.id))
                    && let Some(class) = self.schema.classes.iter().find(|c| c.id == a.class_id)
                    && !class.attributes.is_empty()
                {
                    ui.separator();
                    ui.heading(format!("Attributes of #{}", a.id));
                    for def in &class.attributes {
                        let current = a
                            .attributes
                            .get(&def.name)
                            .cloned()
                            .unwrap_or(serde_json::Value::Null);
                        let label = if def.required {
                            format!("{} *", def.name)
                        } else {
                            def.name.clone()
                        };
                        ui.horizontal(|ui| match &def.kind {
                            AttributeKind::Bool => {
                                let mut on = current.as_bool().unwrap_or(false);
                                if ui.checkbox(&mut on, &label).changed() {
                                    actions.push(WsAction::SetAttribute {
                                        id: a.id,
                                        name: def.name.clone(),
                                        value: on.into(),
                                    });
                                }
                            }
                            AttributeKind::Enum { options } => {
                                let l = ui.label(&label);
                                let chosen = current.as_str().unwrap_or("—").to_string();
                                egui::ComboBox::from_id_salt(("attr", a.id, &def.name))
                                    .selected_text(&chosen)
                                    .show_ui(ui, |ui| {
                                        for o in options {
                                            if ui.selectable_label(chosen == *o, o).clicked() {
                                                actions.push(WsAction::SetAttribute {
                                                    id: a.id,
                                                    name: def.name.clone(),
                                                    value: o.clone().into(),
                                                });
                                            }
                                        }
                                    })
                                    .response
                                    .labelled_by(l.id);
                            }
                            AttributeKind::Text => {
                                let l = ui.label(&label);
                                let id = ui.scope_id().with(("attr-text", a.id, &def.name));
                                let mut text = ui
                                    .data_mut(|d| d.get_temp::<String>(id))
                                    .unwrap_or_else(|| current.as_str().unwrap_or("").to_string());
                                let resp = ui.text_edit_singleline(&mut text).labelled_by(l.id);
                                if resp.changed() {
                                    ui.data_mut(|d| d.insert_temp(id, text.clone()));
                                }
                                // Saved when the field is left: one revision per edit, not per key.
                                if resp.lost_focus() && current.as_str() != Some(text.as_str()) {
                                    ui.data_mut(|d| d.remove::<String>(id));
                                    actions.push(WsAction::SetAttribute {
                                        id: a.id,
                                        name: def.name.clone(),
                                        value: text.into(),
                                    });
                                }
                            }
                        });
                    }
                    if class.attributes.iter().any(|d| d.required) {
                        ui.small("* required before submit");
                    }
                }
                self.consent_ui(ui);
                self.review_ui(ui, actions);
                self.comments_ui(ui, actions);
            });
    }

    /// The item's comment thread and a field to add one (on the selected
    /// label when exactly one is selected).
    fn comments_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.current.is_none() {
            return;
        }
        ui.separator();
        ui.heading("Comments");
        if self.comments.is_empty() {
            ui.small("None on this item");
        }
        for c in &self.comments {
            ui.group(|ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(&c.author_name).strong());
                    ui.small(format_time(c.at_ms));
                    if let Some(a) = c.annotation_id {
                        ui.small(format!("on label #{a}"));
                    }
                });
                ui.label(&c.body);
            });
        }
        let label = ui.label(if self.selected.len() == 1 {
            "Comment on the selected label"
        } else {
            "Comment on this item"
        });
        let resp = ui
            .add(
                egui::TextEdit::multiline(&mut self.comment_draft)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        let send = ui
            .add_enabled(
                !self.comment_draft.trim().is_empty(),
                egui::Button::new("Add comment"),
            )
            .clicked()
            || (resp.has_focus() && ui.input(|i| i.key_pressed(Key::Enter) && i.modifiers.command));
        if send && !self.comment_draft.trim().is_empty() {
            actions.push(WsAction::AddComment);
        }
    }

    fn item_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let panel = ui.max_rect();
        self.item_content_ui(ui, actions);
        // The canvas draws its own watermark; recordings and documents get it here.
        if let Some(text) = &self.watermark
            && !matches!(self.view, ItemView::Image { .. })
        {
            canvas::paint_watermark(&ui.painter_at(panel), panel, text);
        }
    }

    fn item_content_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let wants_full = match (&self.view, self.canvas.scale()) {
            (
                ItemView::Image {
                    preview,
                    full_pixels: Some(_),
                    full: None,
                    width,
                    ..
                },
                Some(scale),
            ) => {
                // Zoomed in beyond what the preview holds: upload full resolution.
                scale * (*width as f32) > preview.size()[0] as f32 * 1.05
            }
            _ => false,
        };
        // New brightness/contrast: re-upload the preview once the slider is
        // let go, and drop full-resolution tiles (re-made when needed).
        if !self.adjusting
            && let ItemView::Image {
                preview,
                preview_pixels,
                applied,
                full,
                ..
            } = &mut self.view
            && *applied != self.adjust
        {
            preview.set(
                self.adjust.apply(preview_pixels),
                egui::TextureOptions::LINEAR,
            );
            *applied = self.adjust;
            *full = None;
        }
        let adjust = self.adjust;
        if wants_full
            && let ItemView::Image {
                full_pixels: Some(pixels),
                full,
                ..
            } = &mut self.view
        {
            let uploaded = pixels
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let name = format!("item-tile-{i}");
                    let tex = ui.ctx().load_texture(
                        name,
                        adjust.apply(&t.image),
                        egui::TextureOptions::LINEAR,
                    );
                    (t.rect, tex)
                })
                .collect();
            *full = Some(uploaded);
        }
        let watermark = self.watermark.clone();
        match &self.view {
            ItemView::Empty => {
                let text = if permissions::allowed(self.session.role(), Action::ListItems) {
                    "No items are assigned to you yet".to_string()
                } else {
                    format!(
                        "No items to show in this role: File → {} ({})",
                        Command::AccessReview.label(),
                        self.keymap.text(Command::AccessReview)
                    )
                };
                ui.centered_and_justified(|ui| ui.label(text));
            }
            // Images never stay in Decoded: show() turns them into textures,
            // and tiles are attached to the image view.
            ItemView::Loading
            | ItemView::Decoded(LoadedContent::Image { .. })
            | ItemView::Decoded(LoadedContent::Tiles(_)) => {
                ui.centered_and_justified(|ui| ui.spinner());
            }
            ItemView::Decoded(LoadedContent::Failed(e)) => {
                ui.colored_label(
                    Color32::from_rgb(240, 90, 90),
                    format!("This item cannot be shown: {e}"),
                );
            }
            ItemView::Image {
                preview,
                full,
                width,
                height,
                ..
            } => {
                let zoomed_in = self
                    .canvas
                    .scale()
                    .is_some_and(|s| s * (*width as f32) > preview.size()[0] as f32 * 1.05);
                let tiles = match full {
                    Some(tiles) if zoomed_in => Some(tiles.as_slice()),
                    _ => None,
                };
                let input = CanvasInput {
                    texture: preview,
                    tiles,
                    width: *width,
                    height: *height,
                    annotations: &self.annotations,
                    classes: &self.schema.classes,
                    selected: &self.selected,
                    active_class: self
                        .active_class
                        .and_then(|id| self.schema.classes.iter().find(|c| c.id == id)),
                    tool: self.tool,
                    opacity: self.opacity,
                    tint: Color32::WHITE,
                    watermark: watermark.as_deref(),
                };
                let out = canvas::canvas_ui(ui, &mut self.canvas, &input);
                actions.extend(out.into_iter().map(WsAction::Canvas));
            }
            ItemView::Decoded(LoadedContent::Audio {
                format,
                duration_secs,
                peaks,
                ..
            }) => {
                if let Some(since) = self.playing_since {
                    let now = self.playhead + since.elapsed().as_secs_f64();
                    match self.play_until {
                        // Playing a segment: loop it or stop at its end.
                        Some((start, end)) if now >= end => {
                            if self.loop_selection {
                                self.playhead = start;
                                actions.push(WsAction::Run(Command::PlaySelection));
                            } else {
                                self.audio.stop();
                                self.playing_since = None;
                                self.playhead = end;
                                self.play_until = None;
                            }
                        }
                        _ if now >= *duration_secs => {
                            self.playing_since = None;
                            self.playhead = 0.0;
                        }
                        _ => {}
                    }
                    ui.ctx().request_repaint();
                }
                let playhead = self.playhead
                    + self
                        .playing_since
                        .map_or(0.0, |s| s.elapsed().as_secs_f64());
                ui.heading(
                    self.current_item()
                        .map(|i| i.name.clone())
                        .unwrap_or_default(),
                );
                ui.horizontal(|ui| {
                    ui.label(format!("{format} audio, {duration_secs:.1} s"));
                    let label = if self.playing_since.is_some() { "Pause" } else { "Play" };
                    if ui.button(label).on_hover_text(self.keymap.tooltip(Command::PlayPause)).clicked() {
                        actions.push(WsAction::Run(Command::PlayPause));
                    }
                    if ui.button("Stop").clicked() {
                        actions.push(WsAction::StopAudio);
                    }
                    if ui.button("Play segment").on_hover_text(self.keymap.tooltip(Command::PlaySelection)).clicked() {
                        actions.push(WsAction::Run(Command::PlaySelection));
                    }
                    ui.checkbox(&mut self.loop_selection, "Loop");
                    ui.monospace(format!("{playhead:.2} s"));
                    ui.small("drag: new segment · drag an edge: adjust · wheel: zoom · Shift+wheel: scroll");
                });
                let out = audio_ui(
                    ui,
                    &mut self.audio_view,
                    peaks.as_ref(),
                    *duration_secs,
                    &self.annotations,
                    &self.schema.classes,
                    &self.selected,
                    playhead,
                );
                actions.extend(out.into_iter().map(WsAction::Audio));
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
                        let out = text_ui(
                            ui,
                            &mut self.text_view,
                            text,
                            &self.annotations,
                            &self.schema.classes,
                            &self.selected,
                        );
                        // Ctrl or Shift + click adds a span to the selection.
                        let additive = ui.input(|i| i.modifiers.command || i.modifiers.shift);
                        for TextAction::Select(id) in out {
                            actions.push(WsAction::SelectAnnotation {
                                id,
                                additive: additive && id.is_some(),
                            });
                        }
                    });
            }
        }
    }

    fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .vscroll(true)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for cmd in Command::ALL {
                        let keys = self.keymap.text(cmd);
                        if keys.is_empty() || !self.permits(cmd) {
                            continue;
                        }
                        ui.label(cmd.label());
                        ui.monospace(keys);
                        ui.end_row();
                    }
                    for (what, how) in [
                        ("Select class", "1 – 9"),
                        ("Draw a box", "drag on the image (Box tool)"),
                        (
                            "Polygon / line",
                            "click vertices; Enter or click the first vertex",
                        ),
                        (
                            "Insert / delete vertex",
                            "double-click an edge / Alt+click a vertex",
                        ),
                        (
                            "Occluded keypoint",
                            "Shift+click while placing; right-click to flip",
                        ),
                        ("Move / resize", "drag a shape / a box corner"),
                        ("Multi-select", "Ctrl or Shift + click"),
                        ("Zoom / pan", "wheel / middle drag or Space+drag"),
                    ] {
                        ui.label(what);
                        ui.monospace(how);
                        ui.end_row();
                    }
                });
                ui.label("Change shortcuts in File → Settings…");
            });
        self.show_help = open;
    }

    fn skip_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(reason) = &mut self.skip_reason else {
            return;
        };
        let mut close = false;
        egui::Window::new("Skip item")
            .collapsible(false)
            .show(ctx, |ui| {
                let label = ui.label("Reason");
                let resp = ui.text_edit_singleline(reason).labelled_by(label.id);
                resp.request_focus();
                ui.horizontal(|ui| {
                    if ui.button("Skip").clicked()
                        || (resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)))
                    {
                        actions.push(WsAction::ConfirmSkip);
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.skip_reason = None;
        }
    }

    /// The reviewer's reject dialog: the comment is required and goes to
    /// the annotator with the item.
    fn reject_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(comment) = &mut self.reject_comment else {
            return;
        };
        let mut close = false;
        egui::Window::new("Reject item")
            .collapsible(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .show(ctx, |ui| {
                let label = ui.label("What should the annotator fix?");
                let resp = ui
                    .add(egui::TextEdit::multiline(comment).desired_rows(3))
                    .labelled_by(label.id);
                resp.request_focus();
                ui.small("Ctrl+Enter sends it back");
                ui.horizontal(|ui| {
                    let send = ui.button("Reject").clicked()
                        || ui.input(|i| i.key_pressed(Key::Enter) && i.modifiers.command);
                    if send {
                        actions.push(WsAction::ConfirmReject);
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.reject_comment = None;
        }
    }

    /// Admin window for idle lock, watermark, privacy screen and retention;
    /// each change is validated and audited by the controller.
    fn project_settings_ui(&mut self, ctx: &egui::Context) {
        let Some(ProjectSettingsForm {
            idle_minutes: minutes,
            watermark,
            privacy_screen,
            retention_days,
            opaque_names,
            package_fields,
            pii_region,
        }) = &mut self.project_settings
        else {
            return;
        };
        let (mut save, mut close) = (false, false);
        egui::Window::new("Project settings")
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("project-settings").show(ui, |ui| {
                    let l = ui.label("Idle lock (minutes)");
                    ui.add(egui::DragValue::new(minutes).range(1..=240))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Watermark");
                    egui::ComboBox::from_id_salt("watermark")
                        .selected_text(watermark.as_str())
                        .show_ui(ui, |ui| {
                            for option in ["off", "annotators", "everyone"] {
                                ui.selectable_value(watermark, option.to_string(), option);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("Privacy screen");
                    ui.checkbox(
                        privacy_screen,
                        "Hide the item whenever the window loses focus",
                    );
                    ui.end_row();
                    let l = ui.label("Keep items for (days)");
                    ui.add(egui::DragValue::new(retention_days).range(0..=36_500))
                        .labelled_by(l.id)
                        .on_hover_text(
                            "0 keeps every item. Older items are erased for good \
                             (crypto-shredded) by File → Purge expired items…",
                        );
                    ui.end_row();
                    ui.label("File names in work packages");
                    ui.checkbox(opaque_names, "Replace with opaque ids (item-000042.jpg)");
                    ui.end_row();
                    let l = ui.label("Record fields in work packages");
                    ui.add(
                        egui::TextEdit::singleline(package_fields)
                            .hint_text("none (e.g. lang, channel)"),
                    )
                    .labelled_by(l.id)
                    .on_hover_text(
                        "Only the fields named here travel to annotators, \
                         comma-separated; with automatic PII masking on, \
                         their values are masked like the text.",
                    );
                    ui.end_row();
                    let l = ui.label("Phone numbers' country");
                    ui.add(egui::TextEdit::singleline(pii_region).desired_width(40.0))
                        .labelled_by(l.id)
                        .on_hover_text(
                            "Two-letter country code (GB, DE, TR…) whose national \
                             formats the PII detector reads, e.g. 020 7946 0958.",
                        );
                    ui.end_row();
                });
                ui.small("Takes effect at each user's next unlock. Keeping items for 0 days keeps every item.");
                ui.horizontal(|ui| {
                    save = ui.button("Save").clicked();
                    close = ui.button("Cancel").clicked();
                });
            });
        if save {
            let (minutes, watermark) = (minutes.to_string(), watermark.clone());
            let screen = if *privacy_screen { "on" } else { "off" };
            let days = retention_days.to_string();
            let names = if *opaque_names { "opaque" } else { "original" };
            let (fields, region) = (package_fields.clone(), pii_region.trim().to_uppercase());
            let result = self
                .session
                .set_project_setting("idle_lock_minutes", &minutes)
                .and_then(|()| self.session.set_project_setting("watermark", &watermark))
                .and_then(|()| {
                    self.session
                        .set_project_setting(PRIVACY_SCREEN_SETTING, screen)
                })
                .and_then(|()| self.session.set_project_setting("retention_days", &days))
                .and_then(|()| self.session.set_project_setting("package_names", names))
                .and_then(|()| self.session.set_project_setting("package_fields", &fields))
                .and_then(|()| self.session.set_project_setting("pii_region", &region));
            self.message = Some(match result {
                Ok(()) => {
                    self.privacy_screen_project = screen == "on";
                    "Project settings saved".into()
                }
                Err(e) => e.to_string(),
            });
            close = true;
        }
        if close {
            self.project_settings = None;
        }
    }

    fn save_keymap(&mut self, keymap: Keymap) {
        match self
            .session
            .set_user_setting(SHORTCUTS_SETTING, &keymap.to_json())
        {
            Ok(()) => {
                self.keymap = keymap;
                self.message = Some("Shortcuts saved".into());
            }
            Err(e) => self.message = Some(format!("Shortcuts not saved: {e}")),
        }
    }

    fn apply_schema_action(&mut self, action: SchemaEditorAction) {
        let SchemaEditorAction::Save {
            classes,
            multi_label_tags,
            confirm,
        } = action
        else {
            return;
        };
        let rules = self.schema_editor.overlap_rules();
        let rules_changed = rules
            != (
                self.schema.overlapping_spans,
                self.schema.overlapping_segments,
            );
        match self
            .session
            .update_schema(classes, multi_label_tags, confirm)
            .and_then(|change| {
                if rules_changed {
                    self.session.set_overlap_rules(rules.0, rules.1)?;
                }
                Ok(change)
            }) {
            Ok(change) => {
                self.schema_editor.report(Ok(change.version));
                if let Ok(schema) = self.session.schema() {
                    self.schema = schema;
                }
                self.message = Some(format!(
                    "Schema saved as version {}{}",
                    change.version,
                    if change.removed_labels > 0 {
                        format!(" ({} label(s) removed)", change.removed_labels)
                    } else {
                        String::new()
                    }
                ));
                self.reload_annotations();
            }
            Err(CoreError::NeedsConfirmation { labels, detail }) => {
                self.schema_editor
                    .report(Err(SaveProblem::NeedsConfirmation { labels, detail }));
            }
            Err(e) => self
                .schema_editor
                .report(Err(SaveProblem::Invalid(e.to_string()))),
        }
    }

    /// Applies this frame's actions through the controller.
    fn apply(&mut self, actions: Vec<WsAction>) -> Option<ShellRequest> {
        for action in actions {
            match action {
                WsAction::SelectItem(i) => self.open_item(i),
                WsAction::SelectTool(tool) => {
                    self.canvas.cancel_shape();
                    self.tool = tool;
                }
                WsAction::SelectClass(id) => {
                    self.active_class = Some(id);
                    // With text selected, the class key labels it as a span.
                    if self.create_span_from_selection(id) {
                        continue;
                    }
                    // With labels selected, the class key re-labels them.
                    let ids: Vec<i64> = self.selected.iter().copied().collect();
                    for sel in ids {
                        self.edit(sel, |d| d.class_id = id);
                    }
                }
                WsAction::SelectAnnotation { id, additive }
                | WsAction::Canvas(CanvasAction::Select { id, additive }) => match (id, additive) {
                    (Some(id), true) => {
                        if !self.selected.remove(&id) {
                            self.selected.insert(id);
                        }
                    }
                    (Some(id), false) => {
                        self.selected = BTreeSet::from([id]);
                    }
                    (None, _) => self.selected.clear(),
                },
                WsAction::Canvas(CanvasAction::Create(geometry)) => {
                    let (Some(item), Some(class_id)) = (self.current_item(), self.active_class)
                    else {
                        continue;
                    };
                    let z = self.annotations.iter().map(|a| a.z).max().unwrap_or(0);
                    let mut draft = AnnotationDraft::new(class_id, geometry);
                    draft.z = z;
                    let change = LabelChange::Create {
                        item_id: item.id,
                        draft,
                    };
                    if let Some(id) = self.save(change) {
                        self.selected = BTreeSet::from([id]);
                    }
                }
                WsAction::Canvas(CanvasAction::Update { id, geometry }) => {
                    self.edit(id, |d| d.geometry = geometry);
                }
                WsAction::Canvas(CanvasAction::Move { ids, dx, dy }) => {
                    let Some(item) = self.current_item() else {
                        continue;
                    };
                    let (w, h) = (
                        item.width.unwrap_or(0) as f64,
                        item.height.unwrap_or(0) as f64,
                    );
                    for id in ids {
                        self.edit(id, |d| {
                            d.geometry = d.geometry.translated(dx, dy).clamped(w, h)
                        });
                    }
                }
                WsAction::Canvas(CanvasAction::ToggleKeypoint { id, index }) => {
                    self.edit(id, |d| {
                        if let Geometry::Keypoints { points } = &mut d.geometry
                            && let Some(k) = points.get_mut(index)
                        {
                            k.visible = !k.visible;
                        }
                    });
                }
                WsAction::Canvas(CanvasAction::Message(m)) => self.message = Some(m),
                WsAction::Delete(id) => {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
                WsAction::ToggleTag(class_id) => self.toggle_tag(class_id),
                WsAction::SetHidden(id, hidden) => self.edit(id, |d| d.hidden = hidden),
                WsAction::SetLocked(id, locked) => self.edit(id, |d| d.locked = locked),
                WsAction::SetAttribute { id, name, value } => {
                    self.edit(id, |d| {
                        d.attributes.insert(name, value);
                    });
                }
                WsAction::ConfirmSkip => {
                    let reason = self.skip_reason.take().unwrap_or_default();
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        match self.session.skip(item_id, &reason) {
                            Ok(()) => {
                                self.set_current_status("skipped");
                                self.go_next();
                            }
                            Err(e) => {
                                self.message = Some(e.to_string());
                                self.skip_reason = Some(reason);
                            }
                        }
                    }
                }
                WsAction::ConfirmReject => {
                    let comment = self.reject_comment.take().unwrap_or_default();
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        let decision = crate::controller::Decision::Reject {
                            comment: comment.clone(),
                        };
                        let target = self.review_target.take();
                        match self.session.review(item_id, target.as_deref(), decision) {
                            Ok(()) => {
                                self.set_current_status("rejected");
                                self.reload_work();
                                self.message = Some(format!(
                                    "Item {item_id} rejected: it goes back with your comment"
                                ));
                                self.go_next();
                            }
                            Err(e) => {
                                self.message = Some(e.to_string());
                                self.reject_comment = Some(comment);
                            }
                        }
                    }
                }
                WsAction::ApplyConsensus => {
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        match self.session.consensus(item_id) {
                            Ok(drafts) => {
                                self.correcting = Some(item_id);
                                let n = drafts.len();
                                for draft in drafts {
                                    self.save(LabelChange::Create { item_id, draft });
                                }
                                self.message = Some(format!(
                                    "{n} consensus label(s) added as yours; correct them, then C approves"
                                ));
                            }
                            Err(e) => self.message = Some(e.to_string()),
                        }
                    }
                }
                WsAction::AddComment => {
                    let body = std::mem::take(&mut self.comment_draft);
                    if let Some(item_id) = self.current_item().map(|i| i.id) {
                        let on = (self.selected.len() == 1)
                            .then(|| self.selected.iter().next().copied())
                            .flatten();
                        match self.session.comment(item_id, on, &body) {
                            Ok(_) => {
                                self.save_state = SaveState::Saved { at_ms: now_ms() };
                                self.reload_comments();
                            }
                            Err(e) => {
                                self.message = Some(e.to_string());
                                self.comment_draft = body;
                            }
                        }
                    }
                }
                WsAction::PlayAudio => {
                    if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view
                        && let Err(e) = self.audio.play(bytes.clone())
                    {
                        self.message = Some(e);
                    }
                }
                WsAction::StopAudio => {
                    self.audio.stop();
                    self.playing_since = None;
                    self.playhead = 0.0;
                }
                WsAction::Audio(AudioAction::Create {
                    start_secs,
                    end_secs,
                }) => {
                    let (Some(item_id), Some(class_id)) =
                        (self.current_item().map(|i| i.id), self.active_class)
                    else {
                        continue;
                    };
                    let geometry = Geometry::Segment {
                        start_secs,
                        end_secs,
                        transcript: String::new(),
                    };
                    if let Some(id) = self.save(LabelChange::Create {
                        item_id,
                        draft: AnnotationDraft::new(class_id, geometry),
                    }) {
                        self.selected = BTreeSet::from([id]);
                    }
                }
                WsAction::Audio(AudioAction::Resize {
                    id,
                    start_secs,
                    end_secs,
                }) => {
                    self.edit(id, |d| {
                        if let Geometry::Segment {
                            start_secs: s,
                            end_secs: e,
                            ..
                        } = &mut d.geometry
                        {
                            (*s, *e) = (start_secs, end_secs);
                        }
                    });
                }
                WsAction::Audio(AudioAction::Select { id, additive }) => {
                    // Same rules as selecting in the labels list; the seek that
                    // follows in this batch still runs.
                    let _ = self.apply(vec![WsAction::SelectAnnotation { id, additive }]);
                }
                WsAction::Audio(AudioAction::Seek(t)) => {
                    self.playhead = t;
                    if self.playing_since.is_some() {
                        self.start_playback();
                    }
                }
                WsAction::SetTranscript { id, text } => {
                    self.edit(id, |d| {
                        if let Geometry::Segment { transcript, .. } = &mut d.geometry {
                            *transcript = text;
                        }
                    });
                }
                WsAction::Run(cmd) => {
                    if let Some(req) = self.run(cmd) {
                        return Some(req);
                    }
                }
            }
        }
        None
    }

    fn set_current_status(&mut self, status: &str) {
        if let Some(item) = self.current.and_then(|i| self.items.get_mut(i)) {
            item.status = status.to_string();
        }
    }

    fn go_next(&mut self) {
        let pos = self
            .current
            .and_then(|c| self.visible.iter().position(|i| *i == c));
        let next = match pos {
            Some(p) => self.visible.get(p + 1).copied(),
            None => self.visible.first().copied(),
        };
        if let Some(next) = next {
            self.open_item(next);
        }
    }

    fn go_previous(&mut self) {
        let pos = self
            .current
            .and_then(|c| self.visible.iter().position(|i| *i == c));
        if let Some(prev) = pos
            .filter(|p| *p > 0)
            .and_then(|p| self.visible.get(p - 1).copied())
        {
            self.open_item(prev);
        }
    }

    /// Runs a command as if its shortcut was pressed (screenshots, scripts).
    pub fn run_command(&mut self, cmd: Command) -> Option<ShellRequest> {
        self.run(cmd)
    }

    /// Carries out `cmd` once [`Self::gate`] lets it through.
    fn run(&mut self, cmd: Command) -> Option<ShellRequest> {
        match self.gate(cmd) {
            Gate::Open => {}
            Gate::Expired => {
                self.message = Some(
                    "This work package has expired: send your results to the site, then erase the bundle"
                        .into(),
                );
                return None;
            }
            Gate::Refused(why) => {
                self.message = Some(why.into());
                return None;
            }
            Gate::OtherKind => return None,
        }
        match cmd {
            Command::NextItem => self.go_next(),
            Command::PreviousItem => self.go_previous(),
            Command::SubmitAndNext => {
                if let Some(item_id) = self.current_item().map(|i| i.id) {
                    match self.session.submit(item_id) {
                        Ok(()) => {
                            self.set_current_status("submitted");
                            self.save_state = SaveState::Saved { at_ms: now_ms() };
                            self.message = Some(format!("Item {item_id} submitted"));
                            self.go_next();
                        }
                        Err(e) => self.message = Some(e.to_string()),
                    }
                }
            }
            Command::SkipItem => {
                if self.current_item().is_some() {
                    self.skip_reason = Some(String::new());
                }
            }
            Command::Approve | Command::Correct | Command::Reject => {
                let item_id = self.current_item().map(|i| i.id)?;
                match cmd {
                    Command::Reject => {
                        if self.review_target.is_none() {
                            self.review_target = self.only_submitted();
                        }
                        self.reject_comment = Some(String::new());
                    }
                    Command::Correct if self.correcting != Some(item_id) => {
                        self.correcting = Some(item_id);
                        self.message = Some(
                            "Correcting: edit the labels (your edits are yours in the history), then press C again to approve".into(),
                        );
                    }
                    _ => {
                        let decision = if cmd == Command::Correct {
                            crate::controller::Decision::Correct
                        } else {
                            crate::controller::Decision::Approve
                        };
                        let target = self.review_target.take().or_else(|| self.only_submitted());
                        match self.session.review(item_id, target.as_deref(), decision) {
                            Ok(()) => {
                                self.correcting = None;
                                self.set_current_status("approved");
                                self.reload_work();
                                self.save_state = SaveState::Saved { at_ms: now_ms() };
                                self.message = Some(format!("Item {item_id} approved"));
                                self.go_next();
                            }
                            Err(e) => self.message = Some(e.to_string()),
                        }
                    }
                }
            }
            Command::Undo | Command::Redo => {
                // Across items: the latest change may be on another item.
                let change = if cmd == Command::Undo {
                    LabelChange::Undo { item_id: None }
                } else {
                    LabelChange::Redo { item_id: None }
                };
                match self.session.apply_label(change) {
                    Ok(applied) => {
                        self.save_state = SaveState::Saved { at_ms: now_ms() };
                        if self.current_item().map(|i| i.id) != Some(applied.item_id)
                            && let Some(index) =
                                self.items.iter().position(|i| i.id == applied.item_id)
                        {
                            self.open_item(index);
                        }
                        self.reload_annotations();
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
            Command::DeleteSelected => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.save(LabelChange::Delete { annotation_id: id });
                }
            }
            Command::DuplicateSelected => self.duplicate_selected(),
            Command::SelectAll => {
                self.selected = self
                    .annotations
                    .iter()
                    .filter(|a| !a.hidden && a.geometry != Geometry::Tag)
                    .map(|a| a.id)
                    .collect();
            }
            Command::Deselect => {
                if !self.canvas.cancel_shape() {
                    self.selected.clear();
                }
            }
            Command::FinishShape if self.text_view.range().is_some() => {
                if let Some(class_id) = self.active_class {
                    self.create_span_from_selection(class_id);
                }
            }
            Command::FinishShape => {
                if let Some(action) = self.canvas.finish_shape() {
                    return self.apply(vec![WsAction::Canvas(action)]);
                }
            }
            Command::ToolSelect
            | Command::ToolBox
            | Command::ToolPolygon
            | Command::ToolPolyline
            | Command::ToolPoint
            | Command::ToolKeypoints => {
                if let Some(tool) = cmd.spec().tool {
                    self.tool = tool;
                }
            }
            Command::ToggleHidden => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.hidden = !d.hidden);
                }
            }
            Command::ToggleLocked => {
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.locked = !d.locked);
                }
            }
            Command::BringForward | Command::SendBackward => {
                let (lo, hi) = (
                    self.annotations.iter().map(|a| a.z).min().unwrap_or(0),
                    self.annotations.iter().map(|a| a.z).max().unwrap_or(0),
                );
                let z = if cmd == Command::BringForward {
                    hi + 1
                } else {
                    lo - 1
                };
                let ids: Vec<i64> = self.selected.iter().copied().collect();
                for id in ids {
                    self.edit(id, |d| d.z = z);
                }
            }
            Command::CopyPrevious => self.copy_previous(),
            Command::PlayPause => {
                if self.playing_since.is_some() {
                    self.playhead += self
                        .playing_since
                        .take()
                        .map_or(0.0, |s| s.elapsed().as_secs_f64());
                    self.audio.stop();
                } else {
                    // Plain play runs to the end, not to a segment's end.
                    self.play_until = None;
                    self.start_playback();
                }
            }
            Command::PlaySelection => {
                let segment = self.annotations.iter().find_map(|a| match a.geometry {
                    Geometry::Segment {
                        start_secs,
                        end_secs,
                        ..
                    } if self.selected.contains(&a.id) => Some((start_secs, end_secs)),
                    _ => None,
                });
                match segment {
                    Some((start, end)) => {
                        self.playhead = start;
                        self.play_until = Some((start, end));
                        self.start_playback();
                    }
                    None => self.message = Some("Select a segment to play it".into()),
                }
            }
            Command::SplitSegment => self.split_segment(),
            Command::MergeSegments => self.merge_segments(),
            Command::NextSegment | Command::PreviousSegment => {
                let playhead = self.playhead;
                let mut segs: Vec<(i64, f64)> = self
                    .annotations
                    .iter()
                    .filter_map(|a| match a.geometry {
                        Geometry::Segment { start_secs, .. } => Some((a.id, start_secs)),
                        _ => None,
                    })
                    .collect();
                segs.sort_by(|a, b| a.1.total_cmp(&b.1));
                let target = if cmd == Command::NextSegment {
                    segs.into_iter().find(|(_, s)| *s > playhead + 1e-6)
                } else {
                    segs.into_iter().rev().find(|(_, s)| *s < playhead - 1e-6)
                };
                if let Some((id, start)) = target {
                    self.selected = BTreeSet::from([id]);
                    self.playhead = start;
                }
            }
            Command::RelateSelected => self.relate_selected(),
            Command::ZoomFit => self.canvas.zoom_fit(),
            Command::ZoomActual => self.canvas.zoom_actual(),
            Command::ToggleHelp => self.show_help = !self.show_help,
            Command::Settings => self.keymap_editor.open_with(&self.keymap),
            Command::ProjectSettings => {
                let watermark = self
                    .session
                    .project_setting("watermark")
                    .unwrap_or_else(|_| "annotators".into());
                let retention_days = self
                    .session
                    .project_setting("retention_days")
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0);
                let setting = |key: &str| self.session.project_setting(key).unwrap_or_default();
                self.project_settings = Some(ProjectSettingsForm {
                    idle_minutes: self.session.idle_lock_minutes(),
                    watermark,
                    privacy_screen: self.privacy_screen_project,
                    retention_days,
                    opaque_names: setting("package_names") == "opaque",
                    package_fields: setting("package_fields"),
                    pii_region: setting("pii_region"),
                });
            }
            Command::SchemaEditor => self.schema_editor.open_with(&self.schema),
            Command::MakeWorkPackage | Command::OpenResultsPackage => {
                let kind = if cmd == Command::MakeWorkPackage {
                    DialogKind::MakeWork
                } else {
                    DialogKind::OpenResults
                };
                let mut dialog = PackageDialog::new(kind);
                if kind == DialogKind::MakeWork {
                    dialog.people = self
                        .session
                        .list_users()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|u| u.active && matches!(u.role, Role::Annotator | Role::Reviewer))
                        .map(|u| (format!("{} ({})", u.name, u.role), u.fingerprint))
                        .collect();
                }
                self.package_dialog = Some(dialog);
            }
            Command::ExportDataset => self.export_dialog = Some(ExportDialog::default()),
            Command::AcceptPredictions => {
                let ids: Vec<i64> = self
                    .annotations
                    .iter()
                    .filter(|a| a.source.is_some())
                    .filter(|a| self.selected.is_empty() || self.selected.contains(&a.id))
                    .map(|a| a.id)
                    .collect();
                match self.session.accept_predictions(&ids) {
                    Ok(n) => {
                        self.save_state = SaveState::Saved { at_ms: now_ms() };
                        self.message = Some(format!("{n} prediction(s) accepted"));
                    }
                    Err(e) => self.save_state = SaveState::Failed(e.to_string()),
                }
                self.reload_annotations();
            }
            Command::QualityScreen => {
                let mut view = QualityView::default();
                match self.session.quality_report() {
                    Ok(r) => view.report = Some(r),
                    Err(e) => view.error = Some(e.to_string()),
                }
                self.quality = Some(view);
            }
            Command::PrivacyScreen => {
                if self.privacy.is_some() {
                    self.privacy = None;
                } else {
                    match self.current_item().cloned() {
                        Some(item) => {
                            let classes =
                                class_names_for_privacy(&self.schema.classes, &self.annotations);
                            self.privacy =
                                Some(PrivacyView::open(&mut self.session, item, classes));
                        }
                        None => self.message = Some("Pick an item in the queue first".into()),
                    }
                }
            }
            Command::SendResults => {
                self.package_dialog = Some(PackageDialog::new(DialogKind::MakeResults));
            }
            Command::EraseBundle => self.erase_confirm.open = true,
            Command::Lock => return Some(ShellRequest::Lock),
            Command::FlagItem => self.open_report(),
            Command::Incidents => self.open_incidents(),
            Command::AccessReview => self.open_access_review(),
            Command::RetentionPurge => self.open_retention(),
            Command::PanicHide => self.shield.hide(),
        }
        None
    }

    /// The export dialog: the export runs on its own session and thread.
    fn export_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.export_dialog.as_mut() else {
            return;
        };
        dialog.poll(ctx);
        let mut open = true;
        if dialog.ui(ctx, &mut open) {
            dialog.start(self.session.root(), self.session.identity().clone());
        }
        if !open && !dialog.is_running() {
            self.export_dialog = None;
        }
    }

    /// The export dialog, if open (tests read its outcome).
    pub fn export_dialog(&self) -> Option<&ExportDialog> {
        self.export_dialog.as_ref()
    }

    /// The quality window (figures recomputed on Refresh).
    fn quality_ui(&mut self, ctx: &egui::Context) {
        let Some(view) = self.quality.as_mut() else {
            return;
        };
        let (mut open, mut refresh) = (true, false);
        view.ui(ctx, &mut open, &mut refresh);
        if refresh {
            match self.session.quality_report() {
                Ok(r) => {
                    view.report = Some(r);
                    view.error = None;
                }
                Err(e) => view.error = Some(e.to_string()),
            }
        }
        if !open {
            self.quality = None;
        }
    }

    /// The admin's privacy window: follows the queue's current item, shows
    /// the original the workspace already decoded, and hands the admin's
    /// decisions to the controller.
    fn privacy_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<WsAction>) {
        let Some(view) = self.privacy.as_mut() else {
            return;
        };
        let current = self.current.and_then(|i| self.items.get(i));
        if let Some(item) = current
            && item.id != view.item_id()
        {
            let classes = class_names_for_privacy(&self.schema.classes, &self.annotations);
            let preview = view.is_previewing();
            *view = PrivacyView::open(&mut self.session, item.clone(), classes);
            if preview {
                view.apply(&mut self.session, ctx, vec![PrivacyAction::Preview(true)]);
            }
        }
        let original = match &self.view {
            ItemView::Empty | ItemView::Loading => Original::Loading,
            ItemView::Image {
                preview,
                width,
                height,
                ..
            } => Original::Image {
                texture: preview,
                width: *width,
                height: *height,
            },
            ItemView::Decoded(LoadedContent::Text { text, .. }) => Original::Text(text),
            ItemView::Decoded(LoadedContent::Audio {
                duration_secs,
                peaks,
                ..
            }) => Original::Audio {
                duration_secs: *duration_secs,
                peaks: peaks.as_ref(),
            },
            ItemView::Decoded(LoadedContent::Failed(e)) => Original::Failed(e),
            ItemView::Decoded(_) => Original::Loading,
        };
        let mut open = true;
        let requested = view.ui(ctx, original, &mut open);
        let (go, decisions): (Vec<PrivacyAction>, Vec<PrivacyAction>) = requested
            .into_iter()
            .partition(|a| matches!(a, PrivacyAction::Go(_)));
        view.apply(&mut self.session, ctx, decisions);
        for a in go {
            if let PrivacyAction::Go(cmd) = a {
                actions.push(WsAction::Run(cmd));
            }
        }
        if !open {
            self.privacy = None;
        }
    }

    /// The privacy window, when open (tests read its state).
    pub fn privacy_view(&self) -> Option<&PrivacyView> {
        self.privacy.as_ref()
    }

    /// The quality window's figures, when open (tests read them).
    pub fn quality_report(&self) -> Option<&crate::controller::QualityReport> {
        self.quality.as_ref().and_then(|q| q.report.as_ref())
    }

    /// A bundle made from a work package, whose user may send results.
    pub fn is_laptop_bundle(&self) -> bool {
        self.permits(Command::SendResults)
    }

    /// The open package dialog, if any (tests read its outcome).
    pub fn package_dialog(&self) -> Option<&PackageDialog> {
        self.package_dialog.as_ref()
    }

    /// Shows the package dialog and carries out what it asks through the
    /// controller: plan here, seal on a worker, record here.
    fn package_dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.package_dialog.as_mut() else {
            return;
        };
        if let Some(sealed) = dialog.poll(ctx) {
            let made = self
                .session
                .finish_package(&sealed.plan, &sealed.out, &sealed.outcome);
            dialog.show_made(made);
        }
        let mut open = true;
        let request = dialog.ui(ctx, &mut open);
        if !open {
            self.package_dialog = None;
            return;
        }
        if request != Some(DialogRequest::Start) {
            return;
        }
        let Some(dialog) = self.package_dialog.as_mut() else {
            return;
        };
        let file = std::path::PathBuf::from(dialog.file.trim());
        match dialog.kind {
            DialogKind::MakeWork | DialogKind::MakeResults => {
                let plan = if dialog.kind == DialogKind::MakeWork {
                    match dialog.expires_ms() {
                        Ok(expires) => self.session.plan_work_package_expiring(&dialog.to, expires),
                        Err(e) => Err(CoreError::Invalid(e)),
                    }
                } else {
                    self.session.plan_results_package(dialog.full)
                };
                match plan {
                    Ok(plan) => dialog.start_make(plan, self.session.identity().clone()),
                    Err(e) => dialog.show_made(Err(e)),
                }
            }
            DialogKind::OpenResults => {
                let report = self.session.open_results_package(&file, &mut |_| true);
                let merged = report.is_ok();
                dialog.show_merge(report);
                if merged {
                    self.reload_after_merge();
                }
            }
            DialogKind::OpenWork | DialogKind::Inspect => {}
        }
    }

    /// Merged labels and states: refresh the queue and the current item.
    fn reload_after_merge(&mut self) {
        if let Ok(items) = self.session.items() {
            self.items = items;
            self.refilter();
        }
        self.reload_annotations();
    }

    /// Splits the segment under the playhead into two at the playhead; the
    /// transcript stays with the first part. Two changes, each undoable.
    fn split_segment(&mut self) {
        let t = self.playhead;
        let Some(a) = self.annotations.iter().find(|a| {
            matches!(a.geometry, Geometry::Segment { start_secs, end_secs, .. } if start_secs < t && t < end_secs)
        }) else {
            self.message = Some("Put the playhead inside a segment to split it".into());
            return;
        };
        let (id, mut second) = (a.id, AnnotationDraft::from(a));
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        if let Geometry::Segment {
            start_secs,
            transcript,
            ..
        } = &mut second.geometry
        {
            *start_secs = t;
            transcript.clear();
        }
        self.edit(id, |d| {
            if let Geometry::Segment { end_secs, .. } = &mut d.geometry {
                *end_secs = t;
            }
        });
        if let Some(new_id) = self.save(LabelChange::Create {
            item_id,
            draft: second,
        }) {
            self.selected = BTreeSet::from([id, new_id]);
        }
    }

    /// Merges the selected segments into the first: it spans them all and
    /// its transcript joins theirs; the others are deleted.
    fn merge_segments(&mut self) {
        let mut segs: Vec<(i64, f64, f64, String)> = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id))
            .filter_map(|a| match &a.geometry {
                Geometry::Segment {
                    start_secs,
                    end_secs,
                    transcript,
                } => Some((a.id, *start_secs, *end_secs, transcript.clone())),
                _ => None,
            })
            .collect();
        if segs.len() < 2 {
            self.message = Some("Select two or more segments (Ctrl+click) to merge".into());
            return;
        }
        segs.sort_by(|a, b| a.1.total_cmp(&b.1));
        let first = segs[0].0;
        let start = segs[0].1;
        let end = segs.iter().map(|s| s.2).fold(f64::MIN, f64::max);
        let text = segs
            .iter()
            .map(|s| s.3.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        self.edit(first, |d| {
            d.geometry = Geometry::Segment {
                start_secs: start,
                end_secs: end,
                transcript: text,
            }
        });
        for (id, ..) in segs.iter().skip(1) {
            self.save(LabelChange::Delete { annotation_id: *id });
        }
        self.selected = BTreeSet::from([first]);
    }

    /// Links two selected spans with a relation of the first class that
    /// allows relations, in selection order (lower id first).
    fn relate_selected(&mut self) {
        let spans: Vec<i64> = self
            .annotations
            .iter()
            .filter(|a| {
                self.selected.contains(&a.id) && matches!(a.geometry, Geometry::Span { .. })
            })
            .map(|a| a.id)
            .collect();
        let [from, to] = spans.as_slice() else {
            self.message = Some("Select exactly two spans (Ctrl+click) to relate them".into());
            return;
        };
        // The relation's type is the active class if it is a relation class
        // (click it in the class list), else the first relation class.
        let active = self.active_class.filter(|id| {
            self.schema
                .classes
                .iter()
                .any(|c| c.id == *id && c.allows(Tool::Relation))
        });
        let first = self
            .schema
            .classes
            .iter()
            .find(|c| c.allows(Tool::Relation))
            .map(|c| c.id);
        let Some(class_id) = active.or(first) else {
            self.message =
                Some("No class allows relations; an admin can add one in the schema editor".into());
            return;
        };
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        let geometry = Geometry::Relation {
            from: *from,
            to: *to,
        };
        self.save(LabelChange::Create {
            item_id,
            draft: AnnotationDraft::new(class_id, geometry),
        });
    }

    /// Plays the current recording from the playhead. Without a sound card
    /// the status bar says so (once) and nothing else changes.
    fn start_playback(&mut self) {
        if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view {
            match self.audio.play_from(bytes.clone(), self.playhead) {
                Ok(()) => self.playing_since = Some(std::time::Instant::now()),
                Err(e) => {
                    self.playing_since = None;
                    self.message = Some(e);
                }
            }
        }
    }

    /// Labels the selected text as a span of `class_id`; false when no text
    /// is selected.
    fn create_span_from_selection(&mut self, class_id: i64) -> bool {
        let Some((start, end)) = self.text_view.range() else {
            return false;
        };
        let Some(item_id) = self
            .current_item()
            .filter(|i| i.kind == ItemKind::Text)
            .map(|i| i.id)
        else {
            return false;
        };
        let geometry = Geometry::Span {
            start: start as u64,
            end: end as u64,
            byte_start: 0,
            byte_end: 0,
        };
        if let Some(id) = self.save(LabelChange::Create {
            item_id,
            draft: AnnotationDraft::new(class_id, geometry),
        }) {
            self.selected = BTreeSet::from([id]);
            self.text_view.clear();
        }
        true
    }

    /// Adds or removes a whole-image tag; with one tag allowed per image,
    /// ticking another class moves the existing tag to it.
    fn toggle_tag(&mut self, class_id: i64) {
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        let tags: Vec<&Annotation> = self
            .annotations
            .iter()
            .filter(|a| a.geometry == Geometry::Tag)
            .collect();
        if let Some(existing) = tags.iter().find(|a| a.class_id == class_id) {
            let id = existing.id;
            self.save(LabelChange::Delete { annotation_id: id });
        } else if let (false, Some(other)) = (self.schema.multi_label_tags, tags.first()) {
            let id = other.id;
            self.edit(id, |d| d.class_id = class_id);
        } else {
            self.save(LabelChange::Create {
                item_id,
                draft: AnnotationDraft::new(class_id, Geometry::Tag),
            });
        }
    }

    fn duplicate_selected(&mut self) {
        let Some(item) = self.current_item() else {
            return;
        };
        let (item_id, w, h) = (
            item.id,
            item.width.unwrap_or(0) as f64,
            item.height.unwrap_or(0) as f64,
        );
        let drafts: Vec<AnnotationDraft> = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id) && a.geometry != Geometry::Tag)
            .map(|a| {
                let mut d = AnnotationDraft::from(a);
                d.geometry = d.geometry.translated(10.0, 10.0).clamped(w, h);
                d.locked = false;
                d
            })
            .collect();
        let mut new_ids = BTreeSet::new();
        for draft in drafts {
            if let Some(id) = self.save(LabelChange::Create { item_id, draft }) {
                new_ids.insert(id);
            }
        }
        if !new_ids.is_empty() {
            self.selected = new_ids;
        }
    }

    fn copy_previous(&mut self) {
        let Some(index) = self.current else { return };
        let pos = self.visible.iter().position(|i| *i == index);
        let Some(prev) = pos
            .filter(|p| *p > 0)
            .and_then(|p| self.visible.get(p - 1))
            .and_then(|i| self.items.get(*i))
        else {
            self.message = Some("There is no previous item to copy from".into());
            return;
        };
        let (from, to) = (prev.id, self.items[index].id);
        match self.session.copy_labels(from, to) {
            Ok(ids) => {
                self.save_state = SaveState::Saved { at_ms: now_ms() };
                self.message = Some(format!(
                    "Copied {} label(s) from the previous item",
                    ids.len()
                ));
                self.reload_annotations();
            }
            Err(e) => self.save_state = SaveState::Failed(e.to_string()),
        }
    }

    /// Changes one annotation through a full draft update.
    fn edit(&mut self, id: i64, change: impl FnOnce(&mut AnnotationDraft)) {
        let Some(a) = self.annotations.iter().find(|a| a.id == id) else {
            return;
        };
        let mut draft = AnnotationDraft::from(a);
        change(&mut draft);
        if draft != AnnotationDraft::from(a) {
            self.save(LabelChange::Update {
                annotation_id: id,
                draft,
            });
        }
    }

    /// Sends one change to the controller; the status bar says "Saved" only
    /// once the transaction has committed.
    /// The one person whose work on the current item waits for review.
    fn only_submitted(&self) -> Option<String> {
        let waiting: Vec<&String> = self
            .item_work
            .iter()
            .filter(|(_, _, _, s)| s == "submitted")
            .map(|(f, _, _, _)| f)
            .collect();
        (waiting.len() == 1).then(|| waiting[0].clone())
    }

    /// Reviewers: each person's work on the item, with its state and the
    /// decisions that apply to it.
    fn review_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        if self.item_work.is_empty() {
            return;
        }
        ui.separator();
        ui.heading("Review");
        for (fpr, name, _, state) in &self.item_work {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(name).strong());
                ui.label(state);
                if state == "submitted" {
                    if ui
                        .small_button("Approve")
                        .on_hover_text(self.keymap.tooltip(Command::Approve))
                        .clicked()
                    {
                        self.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Approve));
                    }
                    if ui
                        .small_button("Reject…")
                        .on_hover_text(self.keymap.tooltip(Command::Reject))
                        .clicked()
                    {
                        self.review_target = Some(fpr.clone());
                        actions.push(WsAction::Run(Command::Reject));
                    }
                }
            });
        }
        if self.item_work.len() >= 2
            && ui
                .button("Start from consensus")
                .on_hover_text("Adds the labels most people agree on (IoU ≥ 0.5, majority) as your own, to correct from")
                .clicked()
        {
            actions.push(WsAction::ApplyConsensus);
        }
        if self.is_correcting() {
            ui.colored_label(
                Color32::from_rgb(240, 200, 90),
                "Correcting: your edits are recorded as yours; C approves",
            );
        } else {
            ui.small("Read-only while reviewing: C to correct");
        }
    }

    /// The name of whoever created a label, when the reviewer knows it.
    fn creator_name(&self, fingerprint: &str) -> Option<&str> {
        self.item_work
            .iter()
            .find(|(f, _, _, _)| f == fingerprint)
            .map(|(_, n, _, _)| n.as_str())
    }

    /// Whether this user decides on submitted work.
    pub fn can_review(&self) -> bool {
        self.permits(Command::Approve)
    }

    /// Whether this user's role and this kind of project allow `cmd` (the
    /// controller checks the permission again; this decides what is shown).
    pub fn permits(&self, cmd: Command) -> bool {
        let spec = cmd.spec();
        let role_allows = spec
            .permission
            .is_none_or(|action| permissions::allowed(self.session.role(), action));
        let scope_allows = match spec.scope {
            Scope::Anywhere => true,
            Scope::SiteProject => self.session.origin_project().is_none(),
            Scope::LaptopBundle => self.session.origin_project().is_some(),
        };
        role_allows && scope_allows
    }

    /// Whether `cmd` is offered in menus and bars: permitted, and for the
    /// current item's kind.
    fn is_shown(&self, cmd: Command) -> bool {
        self.permits(cmd)
            && self
                .current_item()
                .is_none_or(|item| cmd.applies_to(item.kind))
    }

    /// Whether `cmd` may run now: the one place where commands are gated
    /// (keys, menus, bars, `--run` and the windows' buttons all pass here).
    fn gate(&self, cmd: Command) -> Gate {
        if self.expired && !cmd.spec().after_expiry {
            Gate::Expired
        } else if !self.permits(cmd) {
            Gate::Refused(cmd.spec().refusal)
        } else if self
            .current_item()
            .is_some_and(|item| !cmd.applies_to(item.kind))
        {
            Gate::OtherKind
        } else {
            Gate::Open
        }
    }

    /// Whether a reviewer is in correcting mode on the current item.
    pub fn is_correcting(&self) -> bool {
        self.correcting.is_some() && self.correcting == self.current_item().map(|i| i.id)
    }

    /// The comments shown for the current item.
    pub fn comments(&self) -> &[crate::store::CommentRow] {
        &self.comments
    }

    /// Reviewers: the current item's workers and their states.
    fn reload_work(&mut self) {
        self.item_work = match self.current_item().map(|i| i.id) {
            Some(id) if self.can_review() => self.session.item_work(id).unwrap_or_default(),
            _ => Vec::new(),
        };
        self.review_target = None;
    }

    fn reload_comments(&mut self) {
        self.comments = match self.current_item().map(|i| i.id) {
            Some(id) => self.session.comments(id).unwrap_or_default(),
            None => Vec::new(),
        };
    }

    fn save(&mut self, change: LabelChange) -> Option<i64> {
        // Reviewers see the work read-only until they choose to correct it.
        if self.session.role() == Role::Reviewer && !self.is_correcting() {
            self.message = Some("Read-only while reviewing: press C to correct this item".into());
            self.reload_annotations();
            return None;
        }
        let out = match self.session.apply_label(change) {
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

/// What [`Workspace::gate`] says of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Open,
    /// The laptop's work package has expired and the command would open,
    /// show or change an item.
    Expired,
    /// The role or the kind of project refuses it; the reason is shown.
    Refused(&'static str),
    /// It does not apply to the current item's kind: ignored.
    OtherKind,
}

/// Class names for the privacy screen's "masks from labels": classes with
/// labels on the current item first (the pre-labels to turn into masks),
/// then the rest in schema order.
fn class_names_for_privacy(classes: &[LabelClass], annotations: &[Annotation]) -> Vec<String> {
    let (mut used, rest): (Vec<&LabelClass>, Vec<&LabelClass>) = classes
        .iter()
        .partition(|c| annotations.iter().any(|a| a.class_id == c.id));
    used.extend(rest);
    used.into_iter().map(|c| c.name.clone()).collect()
}

/// Optional audio output: machines without a sound card keep working.
#[derive(Default)]
struct AudioOut {
    sink: Option<rodio::MixerDeviceSink>,
    player: Option<rodio::Player>,
    unavailable: bool,
}

impl AudioOut {
    /// Plays from `from_secs` (seeking inside the decoded stream).
    fn play_from(
        &mut self,
        bytes: crate::peaks::SharedAudio,
        from_secs: f64,
    ) -> Result<(), String> {
        self.play(bytes)?;
        if let Some(player) = &self.player
            && from_secs > 0.0
        {
            let _ = player.try_seek(std::time::Duration::from_secs_f64(from_secs));
        }
        Ok(())
    }

    fn play(&mut self, bytes: crate::peaks::SharedAudio) -> Result<(), String> {
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
