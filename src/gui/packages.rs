//! The package dialogs: open a work package (project picker), make a work
//! package and open a results package (admin), send results to the site
//! (laptop bundle). The dialogs only collect inputs and show outcomes; the
//! controller plans, checks and records. Sealing and opening large packages
//! run on a worker thread with a progress bar and Cancel; results are JSON
//! only and are verified and merged at once.

use egui::{Color32, RichText};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use crate::controller::{
    CoreError, Inspection, MadePackage, MergeReport, PlannedPackage, WorkOpened,
};
use crate::crypto::UnlockedIdentity;
use crate::home::Home;
use crate::package::{Manifest, PackageError, Progress};

/// Which dialog this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    /// Laptop: verify a work package and make (or extend) the local bundle.
    OpenWork,
    /// Admin: seal one person's assigned items.
    MakeWork,
    /// Laptop: seal labels, states and the audit segment for the site.
    MakeResults,
    /// Admin: verify and merge a results package.
    OpenResults,
    /// Anyone it is sealed to: show what a package holds, apply nothing.
    Inspect,
}

impl DialogKind {
    pub fn title(self) -> &'static str {
        match self {
            DialogKind::OpenWork => "Open work package",
            DialogKind::MakeWork => "Make work package",
            DialogKind::MakeResults => "Send results to the site",
            DialogKind::OpenResults => "Open results package",
            DialogKind::Inspect => "Inspect package",
        }
    }
    fn action(self) -> &'static str {
        match self {
            DialogKind::OpenWork => "Verify and open",
            DialogKind::MakeWork => "Make package",
            DialogKind::MakeResults => "Make results package",
            DialogKind::OpenResults => "Verify and merge",
            DialogKind::Inspect => "Inspect",
        }
    }
    /// Whether the file field names a package to read (else one to write).
    fn reads(self) -> bool {
        matches!(
            self,
            DialogKind::OpenWork | DialogKind::OpenResults | DialogKind::Inspect
        )
    }
}

/// What the dialog asks its owner to do this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum DialogRequest {
    /// The user pressed the action button with these inputs.
    Start,
    /// Open the bundle a work package made.
    OpenBundle(PathBuf),
}

/// Progress shared with the worker thread.
struct Shared {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
    started: std::time::Instant,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            started: std::time::Instant::now(),
        }
    }
}

/// What a progress bar says: bytes done (of the total, when known), the
/// time so far, and the time left at the rate so far.
fn progress_text(done: u64, total: u64, elapsed: std::time::Duration) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let secs = elapsed.as_secs_f64();
    if total == 0 || done == 0 {
        return format!("{:.1} MiB, {secs:.0} s", mib(done));
    }
    let left = secs * (total.saturating_sub(done)) as f64 / done as f64;
    format!(
        "{:.1} of {:.1} MiB, {secs:.0} s, about {left:.0} s left",
        mib(done),
        mib(total)
    )
}

impl Shared {
    /// The bar's fraction and text.
    fn bar(&self) -> egui::ProgressBar {
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        let fraction = if total > 0 {
            done as f32 / total as f32
        } else {
            0.0
        };
        egui::ProgressBar::new(fraction)
            .text(progress_text(done, total, self.started.elapsed()))
            .animate(true)
    }

    fn callback(self: &Arc<Self>) -> impl FnMut(Progress) -> bool + Send + 'static {
        let shared = self.clone();
        move |p| {
            shared.done.store(p.done, Ordering::Relaxed);
            shared.total.store(p.total, Ordering::Relaxed);
            !shared.cancel.load(Ordering::Relaxed)
        }
    }
}

type MakeResult = (PlannedPackage, Result<Manifest, PackageError>);

enum Job {
    Make {
        handle: JoinHandle<MakeResult>,
        out: PathBuf,
    },
    OpenWork(JoinHandle<Result<WorkOpened, CoreError>>),
    Inspect(JoinHandle<Result<Inspection, CoreError>>),
}

/// A finished sealing job, for the owner to record through the controller.
pub struct Sealed {
    pub plan: PlannedPackage,
    pub out: PathBuf,
    pub outcome: Result<Manifest, PackageError>,
}

pub struct PackageDialog {
    pub kind: DialogKind,
    /// The package to read, or where to write it.
    pub file: String,
    /// MakeWork: the chosen person (fingerprint); choices as (label, fingerprint).
    pub to: String,
    pub people: Vec<(String, String)>,
    /// OpenWork: the admin's fingerprint as read out to the annotator.
    pub signer: String,
    /// OpenWork without a fingerprint: the person ticked that they compared
    /// the signer's fingerprint (shown in the refusal) with the site's.
    pub trust_first_use: bool,
    /// MakeResults: everything, not only what changed.
    pub full: bool,
    /// MakeWork: days until the package expires on the laptop (empty or 0:
    /// never).
    pub expires_days: String,
    job: Option<(Job, Arc<Shared>)>,
    /// The last outcome: Ok(summary) or Err(what failed).
    pub outcome: Option<Result<String, String>>,
    opened: Option<PathBuf>,
    /// Inspect: what the package holds, once checked.
    pub inspection: Option<Inspection>,
}

impl PackageDialog {
    pub fn new(kind: DialogKind) -> Self {
        Self {
            kind,
            file: String::new(),
            to: String::new(),
            people: Vec::new(),
            signer: String::new(),
            trust_first_use: false,
            full: false,
            expires_days: String::new(),
            job: None,
            outcome: None,
            opened: None,
            inspection: None,
        }
    }

    /// The expiry asked for, as Unix ms from now; `None` for none.
    pub fn expires_ms(&self) -> Result<Option<i64>, String> {
        let text = self.expires_days.trim();
        if text.is_empty() {
            return Ok(None);
        }
        // The limit is the controller's (it refuses more than
        // MAX_EXPIRY_DAYS ahead, for the CLI too); here only the number.
        match text.parse::<u32>() {
            Ok(0) => Ok(None),
            Ok(days) => Ok(Some(crate::model::now_ms() + i64::from(days) * 86_400_000)),
            _ => Err(format!(
                "'{text}' is not a number of days (1–{}; empty or 0: no expiry)",
                crate::controller::MAX_EXPIRY_DAYS
            )),
        }
    }

    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Seals `plan` on a worker thread with its own copy of the identity.
    pub fn start_make(&mut self, plan: PlannedPackage, identity: UnlockedIdentity) {
        let shared = Arc::new(Shared::default());
        let mut progress = shared.callback();
        let out = PathBuf::from(self.file.trim());
        let target = out.clone();
        let handle = std::thread::spawn(move || {
            let outcome = plan.write(&target, &identity, &mut progress);
            (plan, outcome)
        });
        self.outcome = None;
        self.job = Some((Job::Make { handle, out }, shared));
    }

    /// Opens a work package on a worker thread (no project is open yet).
    pub fn start_open_work(&mut self, identity: UnlockedIdentity, home: Home) {
        let shared = Arc::new(Shared::default());
        let mut progress = shared.callback();
        let file = PathBuf::from(self.file.trim());
        let signer = Some(self.signer.trim().to_string()).filter(|s| !s.is_empty());
        let trust_first_use = self.trust_first_use;
        let handle = std::thread::spawn(move || {
            crate::controller::open_work_package(
                &file,
                &identity,
                &home,
                None,
                crate::controller::FirstSigner::from_flags(signer.as_deref(), trust_first_use),
                &mut progress,
            )
        });
        self.outcome = None;
        self.opened = None;
        self.job = Some((Job::OpenWork(handle), shared));
    }

    /// Checks and describes a package on a worker thread (the whole file is
    /// read to verify every member's hash).
    pub fn start_inspect(&mut self, identity: UnlockedIdentity, home: Home) {
        let shared = Arc::new(Shared::default());
        let file = PathBuf::from(self.file.trim());
        let handle =
            std::thread::spawn(move || crate::controller::inspect_package(&file, &identity, &home));
        self.outcome = None;
        self.inspection = None;
        self.job = Some((Job::Inspect(handle), shared));
    }

    /// Collects a finished sealing job; an opening job is finished here.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<Sealed> {
        let finished = self.job.as_ref().is_some_and(|(job, _)| match job {
            Job::Make { handle, .. } => handle.is_finished(),
            Job::OpenWork(handle) => handle.is_finished(),
            Job::Inspect(handle) => handle.is_finished(),
        });
        if !finished {
            if self.job.is_some() {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
            }
            return None;
        }
        let (job, _) = self.job.take()?;
        match job {
            Job::Make { handle, out } => match handle.join() {
                Ok((plan, outcome)) => Some(Sealed { plan, out, outcome }),
                Err(_) => {
                    self.outcome = Some(Err("the sealing thread stopped unexpectedly".into()));
                    None
                }
            },
            Job::OpenWork(handle) => {
                self.outcome = Some(match handle.join() {
                    Ok(Ok(opened)) => {
                        self.opened = Some(opened.bundle.clone());
                        Ok(describe_opened(&opened))
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the opening thread stopped unexpectedly".into()),
                });
                None
            }
            Job::Inspect(handle) => {
                self.outcome = Some(match handle.join() {
                    Ok(Ok(seen)) => {
                        let text = super::inspect_view::headline(&seen);
                        self.inspection = Some(seen);
                        Ok(text)
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the inspecting thread stopped unexpectedly".into()),
                });
                None
            }
        }
    }

    pub fn show_made(&mut self, made: Result<MadePackage, CoreError>) {
        self.outcome = Some(
            made.map(|m| describe_made(&m, &self.file))
                .map_err(|e| e.to_string()),
        );
    }

    pub fn show_merge(&mut self, report: Result<MergeReport, CoreError>) {
        self.outcome = Some(
            report
                .map(|r| describe_merge(&r))
                .map_err(|e| e.to_string()),
        );
    }

    /// Draws the dialog. `open` is cleared when the user closes it.
    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool) -> Option<DialogRequest> {
        let mut request = None;
        let mut close = false;
        egui::Window::new(self.kind.title())
            .collapsible(false)
            // An inspection lists every item and member: let it grow.
            .resizable(self.kind == DialogKind::Inspect)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .default_width(if self.kind == DialogKind::Inspect {
                760.0
            } else {
                520.0
            })
            .default_height(if self.kind == DialogKind::Inspect {
                600.0
            } else {
                0.0
            })
            .show(ctx, |ui| {
                let running = self.job.is_some();
                ui.add_enabled_ui(!running, |ui| self.inputs_ui(ui));
                ui.add_space(6.0);
                if let Some((_, shared)) = &self.job {
                    ui.add(shared.bar());
                    if ui.button("Cancel").clicked() {
                        shared.cancel.store(true, Ordering::Relaxed);
                    }
                } else {
                    ui.horizontal(|ui| {
                        let ready = !self.file.trim().is_empty()
                            && (self.kind != DialogKind::MakeWork || !self.to.is_empty());
                        if ui
                            .add_enabled(ready, egui::Button::new(self.kind.action()))
                            .clicked()
                        {
                            request = Some(DialogRequest::Start);
                        }
                        if let Some(path) = &self.opened
                            && ui.button("Open the project").clicked()
                        {
                            request = Some(DialogRequest::OpenBundle(path.clone()));
                        }
                        close = ui.button("Close").clicked();
                    });
                }
                match &self.outcome {
                    Some(Ok(text)) => {
                        ui.colored_label(Color32::from_rgb(120, 200, 120), text);
                    }
                    Some(Err(text)) => {
                        ui.colored_label(Color32::from_rgb(240, 110, 110), text);
                    }
                    None => {}
                }
                if let Some(seen) = &self.inspection {
                    super::inspect_view::show(ui, seen);
                }
            });
        if close {
            *open = false;
        }
        request
    }

    fn inputs_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(match self.kind {
            DialogKind::OpenWork => "A work package from your site: it is checked (sealed to you, signed by the site's admin, untouched) before anything is written.",
            DialogKind::MakeWork => "Seals the items assigned to one person, with the schema, guidelines and pre-labels, so that only they can open it.",
            DialogKind::MakeResults => "Seals your labels, item states and this laptop's audit trail for the site's admins. Carry the file to the site.",
            DialogKind::OpenResults => "Checks a results package (signature, sender enrolled, not replayed, items assigned) and merges it; conflicts are kept, not overwritten.",
            DialogKind::Inspect => "Shows what a package sealed to you holds — who signed it, who it is sealed to, every item with every field it carries, each member with its size and SHA-256, the masks applied — without opening it into a project.",
        });
        egui::Grid::new("package-inputs")
            .num_columns(2)
            .show(ui, |ui| {
                if self.kind == DialogKind::MakeWork {
                    let l = ui.label("For");
                    let selected = self
                        .people
                        .iter()
                        .find(|(_, f)| *f == self.to)
                        .map(|(label, _)| label.clone())
                        .unwrap_or_else(|| "choose…".into());
                    egui::ComboBox::from_id_salt("package-to")
                        .selected_text(selected)
                        .show_ui(ui, |ui| {
                            for (label, fpr) in &self.people {
                                ui.selectable_value(&mut self.to, fpr.clone(), label);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    ui.end_row();
                }
                let l = ui.label(if self.kind.reads() {
                    "Package file"
                } else {
                    "Save as"
                });
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.file)
                            .desired_width(320.0)
                            .hint_text("…/file.sealpkg"),
                    )
                    .labelled_by(l.id);
                    if ui.button("Browse…").clicked()
                        && let Some(path) = self.browse()
                    {
                        self.file = path.display().to_string();
                    }
                });
                ui.end_row();
                if self.kind == DialogKind::MakeWork {
                    let l = ui.label("Expires after (days)");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.expires_days)
                            .desired_width(80.0)
                            .hint_text("never"),
                    )
                    .labelled_by(l.id)
                    .on_hover_text("After this many days the laptop closes labelling, allows one last results package and offers to erase itself. Empty or 0: no expiry.");
                    ui.end_row();
                }
                if self.kind == DialogKind::OpenWork {
                    let l = ui.label("Admin's fingerprint");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.signer)
                            .desired_width(320.0)
                            .hint_text("as read out to you (recommended)"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    if self.signer.trim().is_empty() {
                        // First contact without a fingerprint: a refusal
                        // shows the signer's; this says it was compared.
                        ui.label("");
                        ui.checkbox(
                            &mut self.trust_first_use,
                            "I compared the signer's fingerprint with the site's",
                        )
                        .on_hover_text("Without the admin's fingerprint, the first package of a project is refused and its signer's fingerprint is shown. Compare it with the one the site reads out to you, then tick this and open again.");
                        ui.end_row();
                    }
                }
                if self.kind == DialogKind::MakeResults {
                    ui.label("");
                    ui.checkbox(
                        &mut self.full,
                        "Everything (not only what changed since the last one)",
                    );
                    ui.end_row();
                }
            });
    }

    fn browse(&self) -> Option<PathBuf> {
        let dialog = rfd::FileDialog::new()
            .set_title(self.kind.title())
            .add_filter("Sealtag package", &["sealpkg"]);
        if self.kind.reads() {
            dialog.pick_file()
        } else {
            dialog.set_file_name("package.sealpkg").save_file()
        }
    }
}

fn describe_opened(o: &WorkOpened) -> String {
    format!(
        "{} {} with {} new item(s) and {} pre-label(s), from {} ({}).",
        if o.created { "Created" } else { "Extended" },
        o.bundle.display(),
        o.items_added.len(),
        o.prelabels,
        o.sender_name,
        o.sender
    )
}

fn describe_made(m: &MadePackage, file: &str) -> String {
    format!(
        "Sealed {} ({} item(s), {:.1} MiB, sequence {}) to {}.",
        file.trim(),
        m.items,
        m.bytes as f64 / (1024.0 * 1024.0),
        m.sequence,
        m.recipients.join(", ")
    )
}

fn describe_merge(r: &MergeReport) -> String {
    let mut text = format!(
        "Merged {} item(s) from {}: {} new label(s), {} revision(s), {} audit row(s).",
        r.items_merged.len(),
        r.sender,
        r.labels_created,
        r.revisions_added,
        r.audit_rows_added
    );
    for (item, why) in &r.conflicts {
        text.push_str(&format!("\nNot merged: item {item}: {why}"));
    }
    text
}

/// A heading for the picker's package button.
pub fn picker_hint(ui: &mut egui::Ui) {
    ui.label(RichText::new("Received a work package?").strong());
}

type ExportJob = JoinHandle<Result<crate::controller::ExportReport, CoreError>>;

/// The export dialog (admin): format, approved or all, media, recipients;
/// the export runs on a worker thread with its own session (so the audit
/// row names it), with a progress bar and Cancel.
pub struct ExportDialog {
    pub format: String,
    pub all_statuses: bool,
    pub media: bool,
    /// Recipients, comma-separated (names, fingerprints or keys); empty:
    /// a signed folder.
    pub to: String,
    pub out: String,
    /// Mark exported images with the recipient's fingerprint.
    pub watermark: bool,
    job: Option<(ExportJob, Arc<Shared>)>,
    pub outcome: Option<Result<String, String>>,
}

impl Default for ExportDialog {
    fn default() -> Self {
        Self {
            format: "coco".into(),
            all_statuses: false,
            media: false,
            to: String::new(),
            out: String::new(),
            watermark: false,
            job: None,
            outcome: None,
        }
    }
}

impl ExportDialog {
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Starts the export with a session of its own on `root`.
    pub fn start(&mut self, root: PathBuf, identity: UnlockedIdentity) {
        let shared = Arc::new(Shared::default());
        let mut progress = shared.callback();
        let options = crate::controller::ExportOptions {
            format: self.format.clone(),
            all_statuses: self.all_statuses,
            media: self.media,
            to: self
                .to
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            unsigned: false,
            watermark: self.watermark,
            purpose: None,
        };
        let out = PathBuf::from(self.out.trim());
        let handle = std::thread::spawn(move || {
            let mut session = crate::controller::Session::open(&root, identity, None)?;
            session.export(&options, &out, &mut progress)
        });
        self.outcome = None;
        self.job = Some((handle, shared));
    }

    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some((handle, _)) = &self.job else {
            return;
        };
        if !handle.is_finished() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
            return;
        }
        let Some((handle, _)) = self.job.take() else {
            return;
        };
        self.outcome = Some(match handle.join() {
            Ok(Ok(r)) => {
                let mut text = format!(
                    "Exported {} item(s), {} label(s) to {} ({}, {} file(s)).",
                    r.items,
                    r.labels,
                    r.out.display(),
                    r.delivery,
                    r.files
                );
                for (why, n) in &r.skipped {
                    text.push_str(&format!("\nLeft out {n} label(s): {why}"));
                }
                Ok(text)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the export thread stopped unexpectedly".into()),
        });
    }

    /// Draws the dialog; returns true when the user starts the export.
    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool) -> bool {
        let mut start = false;
        let mut close = false;
        egui::Window::new("Export dataset")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .show(ctx, |ui| {
                let running = self.job.is_some();
                ui.add_enabled_ui(!running, |ui| {
                    egui::Grid::new("export-inputs")
                        .num_columns(2)
                        .show(ui, |ui| {
                            let l = ui.label("Format");
                            egui::ComboBox::from_id_salt("export-format")
                                .selected_text(self.format.clone())
                                .show_ui(ui, |ui| {
                                    for e in crate::formats::exporters() {
                                        ui.selectable_value(
                                            &mut self.format,
                                            e.name().to_string(),
                                            e.name(),
                                        )
                                        .on_hover_text(e.description());
                                    }
                                })
                                .response
                                .labelled_by(l.id);
                            ui.end_row();
                            ui.label("");
                            ui.checkbox(&mut self.all_statuses, "All items (not only approved)");
                            ui.end_row();
                            ui.label("");
                            ui.checkbox(&mut self.media, "Include media (metadata stripped)");
                            ui.end_row();
                            let l = ui.label("Seal to");
                            ui.add(
                                egui::TextEdit::singleline(&mut self.to)
                                    .desired_width(320.0)
                                    .hint_text("empty: a signed folder"),
                            )
                            .labelled_by(l.id);
                            ui.end_row();
                            let l = ui.label("Save as");
                            ui.horizontal(|ui| {
                                ui.add(
                                    egui::TextEdit::singleline(&mut self.out)
                                        .desired_width(320.0)
                                        .hint_text("a new folder, or file.sealpkg when sealed"),
                                )
                                .labelled_by(l.id);
                                if ui.button("Browse…").clicked()
                                    && let Some(p) =
                                        rfd::FileDialog::new().set_title("Export to").save_file()
                                {
                                    self.out = p.display().to_string();
                                }
                            });
                            ui.end_row();
                        });
                });
                if let Some((_, shared)) = &self.job {
                    ui.add(shared.bar());
                    if ui.button("Cancel").clicked() {
                        shared.cancel.store(true, Ordering::Relaxed);
                    }
                } else {
                    ui.horizontal(|ui| {
                        if ui
                            .add_enabled(!self.out.trim().is_empty(), egui::Button::new("Export"))
                            .clicked()
                        {
                            start = true;
                        }
                        close = ui.button("Close").clicked();
                    });
                }
                match &self.outcome {
                    Some(Ok(t)) => {
                        ui.colored_label(Color32::from_rgb(120, 200, 120), t);
                    }
                    Some(Err(t)) => {
                        ui.colored_label(Color32::from_rgb(240, 110, 110), t);
                    }
                    None => {}
                }
            });
        if close {
            *open = false;
        }
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_text_gives_the_time_left_only_when_the_total_is_known() {
        let ten = std::time::Duration::from_secs(10);
        let mib = 1024 * 1024;
        assert_eq!(
            progress_text(mib, 4 * mib, ten),
            "1.0 of 4.0 MiB, 10 s, about 30 s left"
        );
        assert_eq!(progress_text(3 * mib, 0, ten), "3.0 MiB, 10 s");
        assert_eq!(progress_text(0, 4 * mib, ten), "0.0 MiB, 10 s");
    }
}
