//! The egui desktop front end (feature `gui`). This file is the shell: the
//! unlock screen, identity creation, the project picker and the hand-over to
//! the [`workspace::Workspace`]. It never runs SQL; everything goes through
//! the controller ([`crate::controller::Session`]).

pub mod audio_view;
pub mod bench;
pub mod canvas;
pub mod commands;
pub mod fonts;
pub mod governance_view;
pub mod inspect_view;
pub mod keymap;
pub mod loader;
pub mod packages;
pub mod privacy_view;
pub mod quality_view;
pub mod schema_editor;
pub mod shield;
pub mod text_view;
pub mod workspace;

use age::secrecy::{ExposeSecret, SecretString};
use egui::{Color32, RichText};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use zeroize::Zeroize;

use crate::controller::Session;
use crate::crypto::UnlockedIdentity;
use crate::crypto::identity::DEFAULT_SCRYPT_LOG_N;
use crate::home::Home;
use workspace::{ShellRequest, Workspace};

enum Screen {
    Unlock,
    CreateIdentity,
    Picker(Box<UnlockedIdentity>),
    Workspace(Box<Workspace>),
}

/// Test hooks for the smoke test: close after a delay, optionally saving a
/// screenshot first.
#[derive(Default)]
pub struct AutoExit {
    pub after_secs: Option<f64>,
    /// Commands to run once the workspace is open (e.g. open the help).
    pub run_on_open: Vec<commands::Command>,
    pub screenshot: Option<PathBuf>,
    requested: bool,
    done: Arc<AtomicBool>,
}

pub struct SealtagApp {
    home: Home,
    /// In demo mode: the project to open right after unlocking.
    project: Option<PathBuf>,
    demo: bool,
    screen: Screen,
    passphrase: String,
    passphrase_repeat: String,
    /// The picker's passphrase change: the current passphrase (the new one
    /// and its repeat are `passphrase` and `passphrase_repeat`).
    passphrase_current: String,
    new_name: String,
    message: Option<String>,
    started: Instant,
    /// Last keyboard or pointer input, for the idle lock.
    last_input: Instant,
    /// The item to reopen after an idle lock.
    resume_item: Option<i64>,
    /// The picker's "Open work package" dialog, when open.
    package_dialog: Option<packages::PackageDialog>,
    pub auto_exit: AutoExit,
}

impl Drop for SealtagApp {
    fn drop(&mut self) {
        self.passphrase.zeroize();
        self.passphrase_repeat.zeroize();
        self.passphrase_current.zeroize();
    }
}

impl SealtagApp {
    /// `project`: open this bundle right after unlocking (the demo).
    pub fn new(home: Home, project: Option<PathBuf>, demo: bool) -> Self {
        let screen = if home.has_identity() {
            Screen::Unlock
        } else {
            Screen::CreateIdentity
        };
        Self {
            home,
            project,
            demo,
            screen,
            passphrase: String::new(),
            passphrase_repeat: String::new(),
            passphrase_current: String::new(),
            new_name: String::new(),
            message: None,
            started: Instant::now(),
            last_input: Instant::now(),
            resume_item: None,
            package_dialog: None,
            auto_exit: AutoExit::default(),
        }
    }

    /// The open workspace, if the user got that far (tests read it).
    pub fn workspace(&self) -> Option<&Workspace> {
        match &self.screen {
            Screen::Workspace(ws) => Some(ws),
            _ => None,
        }
    }

    pub fn workspace_mut(&mut self) -> Option<&mut Workspace> {
        match &mut self.screen {
            Screen::Workspace(ws) => Some(ws),
            _ => None,
        }
    }

    /// The picker's package dialog, if open (tests read its outcome).
    pub fn package_dialog(&self) -> Option<&packages::PackageDialog> {
        self.package_dialog.as_ref()
    }

    pub fn is_locked(&self) -> bool {
        matches!(self.screen, Screen::Unlock)
    }

    /// Unlocks with `passphrase` (typed, or from the environment).
    pub fn unlock(&mut self, ctx: &egui::Context, passphrase: &SecretString) {
        match self.home.unlock(passphrase) {
            Ok(identity) => {
                self.message = None;
                match self.project.clone() {
                    Some(path) => self.open_project(ctx, path, identity),
                    None => self.screen = Screen::Picker(Box::new(identity)),
                }
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    fn open_project(&mut self, ctx: &egui::Context, path: PathBuf, identity: UnlockedIdentity) {
        match Session::open(&path, identity, Some(&self.home)) {
            Ok(session) => match Workspace::new(ctx, session, self.resume_item.take()) {
                Ok(mut ws) => {
                    for cmd in std::mem::take(&mut self.auto_exit.run_on_open) {
                        let _ = ws.run_command(cmd);
                    }
                    self.home.remember_project(&path);
                    self.project = Some(path);
                    self.screen = Screen::Workspace(Box::new(ws));
                }
                Err(e) => {
                    self.message = Some(e);
                    self.screen = Screen::Unlock;
                }
            },
            Err(e) => {
                self.message = Some(format!("Could not open {}: {e}", path.display()));
                self.screen = Screen::Unlock;
            }
        }
    }

    /// Drops the session and every key: back to the unlock screen. The
    /// passphrase reopens the project at the same item.
    fn lock(&mut self) {
        let previous = std::mem::replace(&mut self.screen, Screen::Unlock);
        if let Screen::Workspace(ws) = previous {
            self.resume_item = ws.current_item().map(|i| i.id);
            // Every change was committed when it was made; only the
            // session-end audit row can fail here, and the person is told.
            if let Err(e) = ws.into_session().close() {
                self.message = Some(format!(
                    "Locked. Your work is saved, but the end of the session was not recorded: {e}"
                ));
                return;
            }
        }
        self.message = Some("Locked. Your work is saved.".into());
    }

    /// Erases the open laptop bundle (the user confirmed it) and goes back
    /// to the project picker with the same identity. The session is used
    /// up either way; if erasing fails, the unlock screen says why.
    fn erase_bundle(&mut self) {
        let previous = std::mem::replace(&mut self.screen, Screen::Unlock);
        let Screen::Workspace(ws) = previous else {
            self.screen = previous;
            return;
        };
        let session = ws.into_session();
        let identity = session.identity().clone();
        let root = session.root();
        let result = session.erase_laptop_bundle();
        self.message = Some(governance_view::erased_message(&root, &result));
        self.resume_item = None;
        if result.is_ok() {
            self.project = None;
            self.screen = Screen::Picker(Box::new(identity));
        }
    }

    /// The message shown on the unlock screen or the project picker.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn is_picking_project(&self) -> bool {
        matches!(self.screen, Screen::Picker(_))
    }

    /// Whether the unlocked identity (its secret keys) is in memory: on the
    /// project picker or in an open project.
    pub fn holds_identity(&self) -> bool {
        matches!(self.screen, Screen::Picker(_) | Screen::Workspace(_))
    }

    /// Whether a passphrase field holds typed text.
    pub fn has_typed_passphrase(&self) -> bool {
        !self.passphrase.is_empty()
            || !self.passphrase_repeat.is_empty()
            || !self.passphrase_current.is_empty()
    }

    /// The idle lock, on every screen. In a project it locks after the
    /// project's idle time (and records it); elsewhere after the projects'
    /// default idle time: the picker forgets the unlocked identity and goes
    /// back to the unlock screen, and the unlock and create-identity screens
    /// clear passphrases typed and left there. While the picker's package
    /// job runs, its worker holds its own copy of the keys, so the lock
    /// waits for it to finish.
    fn idle_tick(&mut self, ctx: &egui::Context) {
        let active =
            ctx.input(|i| !i.events.is_empty() || i.pointer.is_moving() || i.pointer.any_down());
        if active {
            self.last_input = Instant::now();
        }
        let minutes = match &self.screen {
            Screen::Workspace(ws) => ws.session().idle_lock_minutes(),
            _ => default_idle_lock_minutes(),
        };
        let limit = std::time::Duration::from_secs(u64::from(minutes) * 60);
        let idle = self.last_input.elapsed();
        if idle < limit {
            // Wake up in time to lock even if nothing else repaints.
            ctx.request_repaint_after(limit - idle + std::time::Duration::from_millis(200));
            return;
        }
        self.passphrase.zeroize();
        self.passphrase_repeat.zeroize();
        self.passphrase_current.zeroize();
        match &mut self.screen {
            Screen::Workspace(ws) => {
                // Lock whatever happens; a row that could not be written is said.
                let recorded = ws.session_mut().record_idle_lock(minutes);
                self.lock();
                self.message = Some(match recorded {
                    Ok(()) => format!(
                        "Locked after {minutes} minute(s) without input. Your work is saved."
                    ),
                    Err(e) => format!(
                        "Locked after {minutes} minute(s) without input. Your work is saved, but the lock could not be recorded in the audit trail: {e}"
                    ),
                });
            }
            Screen::Picker(_) => {
                if self.package_dialog.as_ref().is_some_and(|d| d.is_running()) {
                    ctx.request_repaint_after(std::time::Duration::from_secs(1));
                    return;
                }
                self.package_dialog = None;
                // Dropping the picker's identity wipes both secret keys.
                self.screen = Screen::Unlock;
                self.message = Some(format!(
                    "Locked after {minutes} minute(s) without input. Your passphrase unlocks again."
                ));
            }
            // Nothing else is held there.
            Screen::Unlock | Screen::CreateIdentity => {}
        }
    }

    /// Pretends the last input was `secs` seconds ago (tests of the idle lock).
    pub fn set_idle_for_test(&mut self, secs: u64) {
        self.last_input = Instant::now() - std::time::Duration::from_secs(secs);
    }

    /// Lays out the whole window for one frame.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.auto_exit_tick(&ctx);
        self.idle_tick(&ctx);
        match &mut self.screen {
            Screen::Workspace(ws) => match ws.ui(ui) {
                Some(ShellRequest::Lock) => self.lock(),
                Some(ShellRequest::EraseBundle) => self.erase_bundle(),
                None => {}
            },
            Screen::Unlock => {
                egui::CentralPanel::default().show(ui, |ui| self.unlock_ui(ui));
            }
            Screen::CreateIdentity => {
                egui::CentralPanel::default().show(ui, |ui| self.create_identity_ui(ui));
            }
            Screen::Picker(_) => {
                let mut open_dialog = false;
                egui::Panel::top("picker-menu").show(ui, |ui| {
                    egui::MenuBar::new().ui(ui, |ui| {
                        ui.menu_button("File", |ui| {
                            open_dialog = ui.button("Open…").clicked();
                            if ui.button("Open work package…").clicked() {
                                self.package_dialog = Some(packages::PackageDialog::new(
                                    packages::DialogKind::OpenWork,
                                ));
                                ui.close();
                            }
                            if ui.button("Inspect package…").clicked() {
                                self.package_dialog = Some(packages::PackageDialog::new(
                                    packages::DialogKind::Inspect,
                                ));
                                ui.close();
                            }
                        });
                    });
                });
                egui::CentralPanel::default().show(ui, |ui| self.picker_ui(ui, open_dialog));
                self.picker_package_ui(&ctx);
            }
        }
    }

    fn centered(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.2);
            ui.set_max_width(420.0);
            add(ui);
        });
    }

    fn unlock_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let mut submit = false;
        Self::centered(ui, |ui| {
            ui.heading(RichText::new("Sealtag").size(32.0));
            ui.label("Offline labelling of sensitive data");
            ui.add_space(16.0);
            if let Ok((name, key)) = self.home.public_identity() {
                ui.label(format!("Identity: {name}  ·  {}", key.fingerprint()));
            }
            if let Some(p) = &self.project {
                ui.label(format!("Project: {}", p.display()));
            }
            ui.add_space(8.0);
            let label = ui.label("Passphrase");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.passphrase)
                        .password(true)
                        .hint_text("Passphrase")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                submit = true;
            }
            if !field.has_focus() && self.passphrase.is_empty() {
                field.request_focus();
            }
            if ui.button("Unlock").clicked() {
                submit = true;
            }
            if self.demo {
                ui.add_space(12.0);
                ui.label(
                    RichText::new(format!(
                        "Demo project: the passphrase is \"{}\"",
                        crate::demo::DEMO_PASSPHRASE
                    ))
                    .color(Color32::from_rgb(240, 200, 90)),
                );
            }
            if let Some(msg) = &self.message {
                ui.add_space(8.0);
                ui.colored_label(Color32::from_rgb(240, 110, 110), msg);
            }
        });
        if submit {
            let pass = SecretString::from(std::mem::take(&mut self.passphrase));
            self.unlock(&ctx, &pass);
        }
    }

    fn create_identity_ui(&mut self, ui: &mut egui::Ui) {
        let mut submit = false;
        Self::centered(ui, |ui| {
            ui.heading("Create your identity");
            ui.label("Your identity holds the keys that open your projects. Share only the public key; keep the passphrase to yourself.");
            ui.add_space(8.0);
            ui.add(egui::TextEdit::singleline(&mut self.new_name).hint_text("Your name"));
            ui.add(
                egui::TextEdit::singleline(&mut self.passphrase)
                    .password(true)
                    .hint_text("Passphrase"),
            );
            ui.add(
                egui::TextEdit::singleline(&mut self.passphrase_repeat)
                    .password(true)
                    .hint_text("Repeat passphrase"),
            );
            ui.small(format!(
                "At least {} characters. {}",
                crate::passphrase::MIN_CHARS,
                crate::passphrase::STRENGTH_HINT
            ));
            if ui.button("Create identity").clicked() {
                submit = true;
            }
            if let Some(msg) = &self.message {
                ui.colored_label(Color32::from_rgb(240, 110, 110), msg);
            }
        });
        if submit {
            let pass = SecretString::from(self.passphrase.clone());
            if self.new_name.trim().is_empty() {
                self.message = Some("Enter your name".into());
            } else if let Err(e) = crate::passphrase::check_new(&pass) {
                self.message = Some(e.to_string());
            } else if self.passphrase != self.passphrase_repeat {
                self.message = Some("The two passphrases differ".into());
            } else {
                self.passphrase.zeroize();
                self.passphrase_repeat.zeroize();
                match self
                    .home
                    .create_identity(self.new_name.trim(), &pass, DEFAULT_SCRYPT_LOG_N)
                {
                    Ok(identity) => {
                        self.message = None;
                        self.screen = Screen::Picker(Box::new(identity));
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
        }
    }

    fn picker_ui(&mut self, ui: &mut egui::Ui, open_dialog: bool) {
        let ctx = ui.ctx().clone();
        let mut chosen: Option<PathBuf> = None;
        if open_dialog {
            chosen = Self::pick_folder();
        }
        Self::centered(ui, |ui| {
            ui.heading("Open a project");
            if let Screen::Picker(identity) = &self.screen {
                ui.label("Give your public key to a project admin to be added:");
                let mut key = identity.public().to_key_string();
                ui.add(
                    egui::TextEdit::multiline(&mut key)
                        .desired_rows(2)
                        .interactive(true),
                );
            }
            ui.add_space(8.0);
            // An erased bundle is gone from the disk: not offered again.
            let recent: Vec<PathBuf> = self
                .home
                .recent_projects()
                .into_iter()
                .filter(|p| p.exists())
                .collect();
            ui.label(RichText::new("Recent projects").strong());
            if recent.is_empty() {
                ui.label("None yet");
            }
            for path in recent {
                if ui.button(path.display().to_string()).clicked() {
                    chosen = Some(path);
                }
            }
            ui.add_space(8.0);
            if ui
                .button("Open…")
                .on_hover_text("Choose a project bundle folder")
                .clicked()
            {
                chosen = Self::pick_folder();
            }
            ui.add_space(12.0);
            packages::picker_hint(ui);
            if ui
                .button("Open work package…")
                .on_hover_text("Verify a .sealpkg from your site and make a project of its items")
                .clicked()
            {
                self.package_dialog =
                    Some(packages::PackageDialog::new(packages::DialogKind::OpenWork));
            }
            if ui
                .button("Inspect package…")
                .on_hover_text("See what a .sealpkg sealed to you holds, without opening it")
                .clicked()
            {
                self.package_dialog =
                    Some(packages::PackageDialog::new(packages::DialogKind::Inspect));
            }
            ui.add_space(12.0);
            self.change_passphrase_ui(ui);
            if let Some(msg) = &self.message {
                ui.colored_label(Color32::from_rgb(240, 110, 110), msg);
            }
        });
        if let Some(path) = chosen
            && let Screen::Picker(identity) = std::mem::replace(&mut self.screen, Screen::Unlock)
        {
            self.open_project(&ctx, path, *identity);
        }
    }

    /// The picker's passphrase change, which also re-seals an identity file
    /// written at an older, lower scrypt cost (the same passphrase may be
    /// given again as the new one).
    fn change_passphrase_ui(&mut self, ui: &mut egui::Ui) {
        let sealed_at = self.home.identity_scrypt_log_n();
        let outdated = sealed_at.filter(|n| *n < DEFAULT_SCRYPT_LOG_N);
        if let Some(n) = outdated {
            ui.label(
                RichText::new(format!(
                    "Your identity file is sealed with scrypt 2^{n}, below today's 2^{DEFAULT_SCRYPT_LOG_N}: change your passphrase to re-seal it (the same one may be given again)."
                ))
                .color(Color32::from_rgb(240, 200, 90)),
            );
        }
        let mut submit = false;
        egui::CollapsingHeader::new("Change passphrase")
            .default_open(outdated.is_some())
            .show(ui, |ui| {
                for (label, text) in [
                    ("Current passphrase", &mut self.passphrase_current),
                    ("New passphrase", &mut self.passphrase),
                    ("Repeat new passphrase", &mut self.passphrase_repeat),
                ] {
                    let label = ui.label(label);
                    ui.add(egui::TextEdit::singleline(text).password(true))
                        .labelled_by(label.id);
                }
                ui.small(format!(
                    "At least {} characters. {}",
                    crate::passphrase::MIN_CHARS,
                    crate::passphrase::STRENGTH_HINT
                ));
                submit = ui.button("Save new passphrase").clicked();
            });
        if !submit {
            return;
        }
        // Every attempt empties the fields: they are retyped, not kept.
        let current = SecretString::from(std::mem::take(&mut self.passphrase_current));
        let new = SecretString::from(std::mem::take(&mut self.passphrase));
        let repeat = SecretString::from(std::mem::take(&mut self.passphrase_repeat));
        if let Err(e) = crate::passphrase::check_new(&new) {
            self.message = Some(e.to_string());
            return;
        }
        if new.expose_secret() != repeat.expose_secret() {
            self.message = Some("The two new passphrases differ; nothing was changed".into());
            return;
        }
        self.message = Some(
            match self
                .home
                .change_passphrase(&current, &new, DEFAULT_SCRYPT_LOG_N)
            {
                Ok(_) => format!(
                    "Passphrase changed; your identity file is sealed with scrypt 2^{DEFAULT_SCRYPT_LOG_N}."
                ),
                Err(e) => format!("The passphrase was not changed: {e}"),
            },
        );
    }

    /// The picker's work-package dialog: opened on a worker thread with a
    /// copy of the identity; on success the new bundle can be opened.
    fn picker_package_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.package_dialog.as_mut() else {
            return;
        };
        dialog.poll(ctx);
        let mut open = true;
        let request = dialog.ui(ctx, &mut open);
        if !open {
            self.package_dialog = None;
            return;
        }
        match request {
            Some(packages::DialogRequest::Start) => {
                if let Screen::Picker(identity) = &self.screen {
                    if dialog.kind == packages::DialogKind::Inspect {
                        dialog.start_inspect((**identity).clone(), self.home.clone());
                    } else {
                        dialog.start_open_work((**identity).clone(), self.home.clone());
                    }
                }
            }
            Some(packages::DialogRequest::OpenBundle(path)) => {
                self.package_dialog = None;
                if let Screen::Picker(identity) =
                    std::mem::replace(&mut self.screen, Screen::Unlock)
                {
                    self.open_project(ctx, path, *identity);
                }
            }
            None => {}
        }
    }

    /// The native folder dialog (xdg portal, or zenity as a fallback).
    fn pick_folder() -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open a Sealtag project")
            .pick_folder()
    }

    fn auto_exit_tick(&mut self, ctx: &egui::Context) {
        let Some(after) = self.auto_exit.after_secs else {
            return;
        };
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
        if self.started.elapsed().as_secs_f64() < after {
            return;
        }
        match (&self.auto_exit.screenshot, self.auto_exit.requested) {
            (Some(path), false) => {
                self.auto_exit.requested = true;
                let path = path.clone();
                let done = self.auto_exit.done.clone();
                ctx.request_screenshot(move |image| {
                    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                    if let Some(img) = image::RgbaImage::from_raw(
                        image.size[0] as u32,
                        image.size[1] as u32,
                        bytes,
                    ) {
                        let _ = img.save(&path);
                    }
                    done.store(true, Ordering::SeqCst);
                });
            }
            (Some(_), true) if !self.auto_exit.done.load(Ordering::SeqCst) => {}
            _ => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }
}

/// The idle time of the screens outside a project (unlock, identity
/// creation, project picker): the projects' default `idle_lock_minutes`.
fn default_idle_lock_minutes() -> u32 {
    crate::controller::PROJECT_SETTINGS
        .iter()
        .find(|(key, _)| *key == "idle_lock_minutes")
        .and_then(|(_, minutes)| minutes.parse().ok())
        .unwrap_or(10)
}

impl eframe::App for SealtagApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Screen::Workspace(ws) = std::mem::replace(&mut self.screen, Screen::Unlock) {
            // The window is gone: stderr is the only place left to say
            // that the session-end audit row could not be written.
            if let Err(e) = ws.into_session().close() {
                eprintln!("sealtag: the end of the session was not recorded: {e}");
            }
        }
    }
}

/// How the window is started: what `main` read from the command line, so
/// the GUI needs nothing from the CLI.
pub struct Launch {
    /// `--home`: the identity directory (default: the platform data dir).
    pub home: Option<PathBuf>,
    /// Open the embedded demo project (created first if needed).
    pub demo: bool,
    /// Open this project bundle, skipping the picker.
    pub project: Option<PathBuf>,
    /// A passphrase given to a script (`--passphrase-file`,
    /// `SEALTAG_PASSPHRASE`): unlock with it instead of asking. The GUI
    /// never prompts on the terminal.
    pub passphrase: Option<SecretString>,
    /// Test hook: close the window after this many seconds.
    pub exit_after_secs: Option<f64>,
    /// Test hook: save a PNG screenshot just before closing.
    pub screenshot: Option<PathBuf>,
    /// Workspace command ids to run once a project opens (`--run`).
    pub run_on_open: Vec<String>,
}

/// Opens the window. In demo mode, the demo bundle is created first.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let Launch {
        home,
        demo,
        project,
        passphrase: preset,
        exit_after_secs,
        screenshot,
        run_on_open,
    } = launch;
    let home = Home::locate(home)?;
    let (home, project) = if let Some(path) = project {
        (home, Some(path))
    } else if demo {
        eprintln!("sealtag: preparing the demo project…");
        let paths = crate::demo::ensure_demo(&home)?;
        (paths.annotator_home, Some(paths.project))
    } else {
        (home, None)
    };
    let mut app = SealtagApp::new(home, project, demo);
    app.auto_exit.after_secs = exit_after_secs;
    app.auto_exit.screenshot = screenshot;
    for id in &run_on_open {
        let cmd = commands::Command::from_id(id)
            .ok_or_else(|| anyhow::anyhow!("--run: unknown command '{id}' (e.g. toggle_help, schema_editor, settings, tool_polygon)"))?;
        app.auto_exit.run_on_open.push(cmd);
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Sealtag")
            // Matches the installed .desktop file (StartupWMClass), so the
            // dock groups the window under the launcher's icon.
            .with_app_id("sealtag")
            .with_icon(window_icon())
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Sealtag",
        options,
        Box::new(move |cc| {
            fonts::install_fallback_fonts(&cc.egui_ctx);
            if let Some(pass) = preset {
                app.unlock(&cc.egui_ctx, &pass);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}

/// The window icon: the same PNG the .deb installs for the launcher,
/// embedded so a bare binary shows it too.
fn window_icon() -> egui::IconData {
    const PNG: &[u8] = include_bytes!("../../assets/icon/sealtag.png");
    // Our own asset, checked by a test; a failure would only cost the icon.
    match image::load_from_memory_with_format(PNG, image::ImageFormat::Png) {
        Ok(img) => {
            let rgba = img.into_rgba8();
            egui::IconData {
                width: rgba.width(),
                height: rgba.height(),
                rgba: rgba.into_raw(),
            }
        }
        Err(_) => egui::IconData::default(),
    }
}

#[cfg(test)]
mod icon_tests {
    #[test]
    fn the_window_icon_is_the_256_px_launcher_icon() {
        let icon = super::window_icon();
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        // Not blank: some pixels are opaque.
        assert!(icon.rgba.chunks(4).any(|p| p[3] == 255));
    }
}
