//! Governance screens of the workspace, each the GUI face of a CLI command
//! that already exists (`docs/governance.md`):
//!
//! - [`ReportDialog`]: anyone who can see an item reports it (`incident flag`);
//! - [`IncidentsView`]: the admin's incident queue (`incident list/resolve`);
//! - [`AccessView`]: access review and anomaly flags for admins and
//!   auditors (`access review`, `audit anomalies`);
//! - [`RetentionDialog`]: purge items past `retention_days` (`retention purge`);
//! - [`ConsentPanel`]: an item's consent and purposes in the side panel
//!   (`consent set`);
//! - [`expired_banner_ui`] and [`EraseConfirm`]: a laptop bundle whose work
//!   package has expired (`project erase`).
//!
//! As elsewhere in the GUI, these only collect input and show outcomes: the
//! controller checks permission, applies and audits every decision.

use egui::{Color32, RichText};

use crate::controller::{
    CoreError, GovernanceChange, Incident, ItemGovernance, Resolution, Session, ShredReport,
    parse_purposes,
};
use crate::governance::access::AccessReview;
use crate::governance::anomalies::Flag;
use crate::model::format_time;

const ERROR: Color32 = Color32::from_rgb(240, 110, 110);
const OK: Color32 = Color32::from_rgb(120, 200, 120);
const WARN: Color32 = Color32::from_rgb(240, 175, 40);

/// The incident kinds with the words a person reading the dialog uses; the
/// ids are [`crate::controller::INCIDENT_KINDS`] (a unit test keeps them in step).
pub const INCIDENT_LABELS: [(&str, &str); 4] = [
    ("pii", "Unmasked personal data"),
    ("wrong_data", "Wrong data"),
    ("disturbing", "Disturbing content"),
    ("other", "Other"),
];

/// The plain label of an incident kind (the id itself if unknown, e.g. from
/// a newer version's package).
pub fn incident_label(kind: &str) -> &str {
    INCIDENT_LABELS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// "2026-05-01 14:03" (UTC, as every time in the app).
pub fn short_time(ms: i64) -> String {
    let t = format_time(ms).replacen('T', " ", 1);
    t.get(..16).unwrap_or(&t).to_string()
}

/// "3 labels, 1 revision, …" of an erasure.
pub fn describe_shred(r: &ShredReport) -> String {
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    format!(
        "{}, {}, {}, {}",
        n(r.labels, "label", "labels"),
        n(r.revisions, "revision", "revisions"),
        n(r.comments, "comment", "comments"),
        n(r.blobs, "file", "files"),
    )
}

fn outcome_ui(ui: &mut egui::Ui, outcome: &Option<Result<String, String>>) {
    match outcome {
        Some(Ok(text)) => {
            ui.colored_label(OK, text);
        }
        Some(Err(text)) => {
            ui.colored_label(ERROR, text);
        }
        None => {}
    }
}

// ------------------------------------------------------------ report

/// "Report this item…": kind and reason for one item.
pub struct ReportDialog {
    pub item_id: i64,
    item_name: String,
    pub kind: Option<&'static str>,
    pub reason: String,
    pub error: Option<String>,
}

/// What the report dialog asks for this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportRequest {
    Send,
    Cancel,
}

impl ReportDialog {
    pub fn new(item_id: i64, item_name: &str) -> Self {
        Self {
            item_id,
            item_name: item_name.to_string(),
            kind: None,
            reason: String::new(),
            error: None,
        }
    }

    /// The kind and trimmed reason, or what is missing. The controller
    /// checks again; this only saves a round trip for the obvious.
    pub fn inputs(&self) -> Result<(&'static str, String), String> {
        let kind = self
            .kind
            .ok_or_else(|| "Choose what is wrong with the item".to_string())?;
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err("Say in a few words what is wrong (required)".into());
        }
        Ok((kind, reason.to_string()))
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> Option<ReportRequest> {
        let mut request = None;
        egui::Window::new("Report this item")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .default_width(440.0)
            .show(ctx, |ui| {
                ui.label(format!(
                    "“{}” leaves your queue at once; the site's admins decide what happens to it.",
                    self.item_name
                ));
                ui.add_space(4.0);
                ui.label(RichText::new("What is wrong?").strong());
                for (kind, label) in INCIDENT_LABELS {
                    if ui.radio(self.kind == Some(kind), label).clicked() {
                        self.kind = Some(kind);
                    }
                }
                ui.add_space(4.0);
                let l = ui.label("Reason (required)");
                ui.add(
                    egui::TextEdit::multiline(&mut self.reason)
                        .desired_rows(3)
                        .desired_width(f32::INFINITY)
                        .hint_text("e.g. a name is readable in the second paragraph"),
                )
                .labelled_by(l.id);
                ui.horizontal(|ui| {
                    if ui.button("Report").clicked() {
                        request = Some(ReportRequest::Send);
                    }
                    if ui.button("Cancel").clicked() {
                        request = Some(ReportRequest::Cancel);
                    }
                });
                if let Some(e) = &self.error {
                    ui.colored_label(ERROR, e);
                }
            });
        request
    }
}

// ------------------------------------------------------------ incidents

/// What the admin decided in the incident window.
#[derive(Clone, Debug, PartialEq)]
pub enum IncidentAction {
    Resolve {
        id: i64,
        resolution: Resolution,
        note: Option<String>,
    },
    Refresh,
}

/// What a resolution changed, for the workspace to follow up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolved {
    /// Re-mask: the item to open on the privacy screen.
    pub remask: Option<i64>,
    /// The queue changed (an item was erased or released).
    pub queue_changed: bool,
}

/// The admin's incident queue.
#[derive(Default)]
pub struct IncidentsView {
    rows: Vec<Incident>,
    /// Item names from the admin's queue, to say which item it is.
    names: std::collections::HashMap<i64, String>,
    selected: Option<i64>,
    note: String,
    /// The removal of the selected incident's item waits for confirmation.
    confirm_remove: bool,
    pub error: Option<String>,
    pub outcome: Option<Result<String, String>>,
}

impl IncidentsView {
    pub fn open(session: &mut Session, names: std::collections::HashMap<i64, String>) -> Self {
        let mut view = Self {
            names,
            ..Self::default()
        };
        view.reload(session);
        view
    }

    /// Re-reads the incidents: open ones first (oldest first, a queue),
    /// then resolved ones, newest first.
    pub fn reload(&mut self, session: &mut Session) {
        match session.incidents() {
            Ok(mut rows) => {
                rows.sort_by_key(|r| {
                    let open = r.status == "open";
                    (!open, if open { r.id } else { -r.id })
                });
                self.rows = rows;
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        if self
            .selected
            .is_some_and(|id| !self.rows.iter().any(|r| r.id == id))
        {
            self.selected = None;
        }
        // The next open incident is ready to decide on: a queue, worked
        // from the top.
        if self.selected.is_none() {
            self.selected = self.rows.iter().find(|r| r.status == "open").map(|r| r.id);
        }
    }

    pub fn selected(&self) -> Option<i64> {
        self.selected
    }

    pub fn rows(&self) -> &[Incident] {
        &self.rows
    }

    /// Carries out a decision through the controller and says what it did.
    pub fn apply(&mut self, session: &mut Session, action: IncidentAction) -> Resolved {
        let mut done = Resolved::default();
        if let IncidentAction::Resolve {
            id,
            resolution,
            note,
        } = action
        {
            let item = self
                .rows
                .iter()
                .find(|r| r.id == id)
                .map(|r| (r.item_id, r.reporter_name.clone()));
            let (item_id, reporter) = item.unwrap_or((0, String::new()));
            self.outcome = Some(
                match session.resolve_incident(id, resolution, note.as_deref()) {
                    Ok(shred) => {
                        self.note.clear();
                        self.confirm_remove = false;
                        // On to the next open one (reload picks it).
                        self.selected = None;
                        match resolution {
                            Resolution::Remove => {
                                done.queue_changed = true;
                                let what = shred.as_ref().map(describe_shred).unwrap_or_default();
                                Ok(format!("Incident #{id}: item {item_id} erased: {what}"))
                            }
                            Resolution::Release => {
                                done.queue_changed = true;
                                Ok(format!(
                                    "Incident #{id} released: item {item_id} is back in {reporter}'s queue"
                                ))
                            }
                            Resolution::Remask => {
                                done.remask = Some(item_id);
                                Ok(format!(
                                    "Incident #{id}: item {item_id} stays out of queues until it is masked and sent again"
                                ))
                            }
                        }
                    }
                    Err(e) => Err(e.to_string()),
                },
            );
        }
        self.reload(session);
        done
    }

    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool) -> Option<IncidentAction> {
        let mut action = None;
        egui::Window::new("Incidents")
            .open(open)
            .default_size([860.0, 520.0])
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let open_count = self.rows.iter().filter(|r| r.status == "open").count();
                    ui.label(format!(
                        "{open_count} open, {} resolved",
                        self.rows.len() - open_count
                    ));
                    if ui.button("Refresh").clicked() {
                        action = Some(IncidentAction::Refresh);
                    }
                });
                if let Some(e) = &self.error {
                    ui.colored_label(ERROR, e);
                }
                outcome_ui(ui, &self.outcome);
                ui.separator();
                if self.rows.is_empty() {
                    ui.label("No incidents reported.");
                    return;
                }
                egui::ScrollArea::vertical()
                    .max_height(260.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| self.table_ui(ui));
                ui.separator();
                if let Some(a) = self.details_ui(ui) {
                    action = Some(a);
                }
            });
        action
    }

    fn table_ui(&mut self, ui: &mut egui::Ui) {
        egui::Grid::new("incidents-table")
            .striped(true)
            .num_columns(7)
            .show(ui, |ui| {
                for h in ["id", "item", "kind", "reporter", "when", "status", "reason"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in &self.rows {
                    let picked = self.selected == Some(r.id);
                    if ui.selectable_label(picked, format!("#{}", r.id)).clicked() {
                        self.selected = Some(r.id);
                        self.confirm_remove = false;
                    }
                    match self.names.get(&r.item_id) {
                        Some(name) => {
                            let short: String = name.chars().take(24).collect();
                            ui.label(format!("{} {short}", r.item_id))
                                .on_hover_text(name);
                        }
                        None => {
                            ui.label(r.item_id.to_string());
                        }
                    }
                    ui.label(incident_label(&r.kind));
                    ui.label(&r.reporter_name);
                    ui.label(short_time(r.at_ms));
                    if r.status == "open" {
                        ui.colored_label(WARN, "open");
                    } else {
                        ui.label(&r.status);
                    }
                    let short: String = r.reason.chars().take(60).collect();
                    let shown = if short.len() < r.reason.len() {
                        format!("{short}…")
                    } else {
                        short
                    };
                    ui.label(shown).on_hover_text(&r.reason);
                    ui.end_row();
                }
            });
    }

    fn details_ui(&mut self, ui: &mut egui::Ui) -> Option<IncidentAction> {
        let Some(r) = self
            .selected
            .and_then(|id| self.rows.iter().find(|r| r.id == id))
        else {
            ui.label("Click an incident's id to decide on it.");
            return None;
        };
        let (id, item_id) = (r.id, r.item_id);
        ui.label(
            RichText::new(format!(
                "Incident #{id} · item {item_id} · {} · reported by {} on {}",
                incident_label(&r.kind),
                r.reporter_name,
                short_time(r.at_ms)
            ))
            .strong(),
        );
        ui.label(&r.reason);
        if r.status != "open" {
            ui.label(format!(
                "Resolved: {}{}",
                r.status,
                r.note
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default()
            ));
            return None;
        }
        let l = ui.label("Note (optional)");
        ui.add(
            egui::TextEdit::singleline(&mut self.note)
                .desired_width(420.0)
                .hint_text("what was done, for the record"),
        )
        .labelled_by(l.id);
        let note = Some(self.note.trim().to_string()).filter(|n| !n.is_empty());
        let resolve = |resolution| {
            Some(IncidentAction::Resolve {
                id,
                resolution,
                note: note.clone(),
            })
        };
        let mut action = None;
        if self.confirm_remove {
            ui.colored_label(
                ERROR,
                format!(
                    "Item {item_id} and its labels, revisions, comments, reviews and masks are erased for good. This cannot be undone."
                ),
            );
            ui.horizontal(|ui| {
                if ui.button("Erase item for good").clicked() {
                    action = resolve(Resolution::Remove);
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_remove = false;
                }
            });
            return action;
        }
        ui.horizontal(|ui| {
            if ui
                .button("Re-mask")
                .on_hover_text("Keep the item out of queues, then mask it further on the privacy screen and send it again")
                .clicked()
            {
                action = resolve(Resolution::Remask);
            }
            if ui
                .button("Remove item…")
                .on_hover_text("Erase the item and its labels (asks first)")
                .clicked()
            {
                self.confirm_remove = true;
            }
            if ui
                .button("Release")
                .on_hover_text("Nothing wrong: the item goes back to the reporter's queue")
                .clicked()
            {
                action = resolve(Resolution::Release);
            }
        });
        action
    }
}

// ------------------------------------------------------------ access review

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessTab {
    #[default]
    People,
    Anomalies,
}

/// Access review and anomaly flags (admins and auditors).
#[derive(Default)]
pub struct AccessView {
    pub tab: AccessTab,
    pub review: Option<AccessReview>,
    pub flags: Option<Vec<Flag>>,
    pub error: Option<String>,
}

impl AccessView {
    pub fn open(session: &mut Session) -> Self {
        let mut view = Self::default();
        view.refresh(session);
        view
    }

    /// Runs both reports again (each is an audit event of its own).
    pub fn refresh(&mut self, session: &mut Session) {
        let mut errors = Vec::new();
        match session.access_review() {
            Ok(r) => self.review = Some(r),
            Err(e) => errors.push(e.to_string()),
        }
        match session.audit_anomalies() {
            Ok(f) => self.flags = Some(f),
            Err(e) => errors.push(e.to_string()),
        }
        self.error = (!errors.is_empty()).then(|| errors.join("; "));
    }

    fn name_of(&self, fingerprint: &str) -> String {
        self.review
            .as_ref()
            .and_then(|r| r.people.iter().find(|p| p.fingerprint == fingerprint))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| fingerprint.chars().take(16).collect())
    }

    /// Draws the window; `refresh` is set when the user asks for new figures.
    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool, refresh: &mut bool) {
        egui::Window::new("Access review & anomalies")
            .open(open)
            .default_size([1200.0, 560.0])
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let people = self.review.as_ref().map_or(0, |r| r.people.len());
                    let flags = self.flags.as_ref().map_or(0, Vec::len);
                    ui.selectable_value(
                        &mut self.tab,
                        AccessTab::People,
                        format!("People ({people})"),
                    );
                    ui.selectable_value(
                        &mut self.tab,
                        AccessTab::Anomalies,
                        format!("Anomalies ({flags})"),
                    );
                    ui.separator();
                    if ui.button("Refresh").clicked() {
                        *refresh = true;
                    }
                    if let Some(r) = &self.review {
                        ui.small(format!("generated {}", short_time(r.generated_ms)));
                    }
                });
                if let Some(e) = &self.error {
                    ui.colored_label(ERROR, e);
                }
                ui.separator();
                egui::ScrollArea::both()
                    .auto_shrink([false, true])
                    .show(ui, |ui| match self.tab {
                        AccessTab::People => self.people_ui(ui),
                        AccessTab::Anomalies => self.flags_ui(ui),
                    });
            });
    }

    fn people_ui(&self, ui: &mut egui::Ui) {
        let Some(review) = &self.review else {
            return;
        };
        ui.label(format!(
            "Everyone ever enrolled in {}: {} active of {}. Confirm or revoke each one.",
            review.project_name,
            review.active(),
            review.people.len()
        ));
        egui::Grid::new("access-people")
            .striped(true)
            .num_columns(8)
            .show(ui, |ui| {
                for h in [
                    "name",
                    "role",
                    "fingerprint",
                    "active",
                    "added",
                    "last activity",
                    "packages sent",
                    "packages received",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for p in &review.people {
                    ui.label(&p.name);
                    ui.label(p.role.as_str());
                    ui.monospace(&p.fingerprint);
                    match p.removed_ms {
                        Some(at) if !p.active => {
                            ui.colored_label(WARN, format!("removed {}", short_time(at)));
                        }
                        _ => {
                            ui.label(if p.active { "yes" } else { "no" });
                        }
                    }
                    let added = ui.label(short_time(p.added_ms));
                    if let Some(by) = p.added_by.as_deref() {
                        added.on_hover_text(format!("added by {}", self.name_of(by)));
                    }
                    match &p.last_activity {
                        Some(a) => {
                            let chain = if a.chain.is_some() { " (laptop)" } else { "" };
                            ui.label(format!("{} {}{chain}", short_time(a.at_ms), a.action))
                                .on_hover_text(format!(
                                    "audit row {}{}",
                                    a.seq,
                                    a.chain
                                        .as_deref()
                                        .map(|c| format!(" of laptop chain {c}"))
                                        .unwrap_or_default()
                                ));
                        }
                        None => {
                            ui.label("–");
                        }
                    }
                    for t in [&p.packages_sent, &p.packages_received] {
                        ui.label(match t.last_ms {
                            Some(last) => format!("{} (last {})", t.count, short_time(last)),
                            None => t.count.to_string(),
                        });
                    }
                    ui.end_row();
                }
            });
    }

    fn flags_ui(&self, ui: &mut egui::Ui) {
        let Some(flags) = &self.flags else {
            return;
        };
        if flags.is_empty() {
            ui.label("No anomalies found.");
            return;
        }
        ui.label("Findings to look at, not failures. Look the rows up in the audit log.");
        egui::Grid::new("access-flags")
            .striped(true)
            .num_columns(5)
            .show(ui, |ui| {
                for h in ["kind", "user", "summary", "when", "audit rows"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for f in flags {
                    ui.label(f.kind.as_str());
                    ui.label(f.user.as_deref().map_or("–".into(), |u| self.name_of(u)));
                    ui.label(&f.summary);
                    ui.label(if f.first_ms == f.last_ms {
                        short_time(f.first_ms)
                    } else {
                        format!("{} – {}", short_time(f.first_ms), short_time(f.last_ms))
                    });
                    ui.label(flag_rows(f));
                    ui.end_row();
                }
            });
    }
}

/// "rows 12, 13, 17" (long lists shortened), with the laptop chain they
/// belong to when not this project's trail.
pub fn flag_rows(f: &Flag) -> String {
    const SHOWN: usize = 8;
    let mut seqs: Vec<String> = f.rows.iter().take(SHOWN).map(i64::to_string).collect();
    if f.rows.len() > SHOWN {
        seqs.push(format!("… ({} in all)", f.rows.len()));
    }
    let word = if f.rows.len() == 1 { "row" } else { "rows" };
    let chain = f
        .chain
        .as_deref()
        .map(|c| format!(" of laptop chain {}", c.chars().take(8).collect::<String>()))
        .unwrap_or_default();
    format!("{word} {}{chain}", seqs.join(", "))
}

// ------------------------------------------------------------ retention

/// "Purge expired items…": how many items are past `retention_days`.
pub struct RetentionDialog {
    days: String,
    expired: Result<Vec<i64>, String>,
    pub outcome: Option<Result<String, String>>,
}

impl RetentionDialog {
    pub fn open(session: &mut Session) -> Self {
        let days = session
            .project_setting("retention_days")
            .unwrap_or_else(|_| "0".into());
        let expired = session.expired_items().map_err(|e| e.to_string());
        Self {
            days,
            expired,
            outcome: None,
        }
    }

    /// Purges through the controller; the report is returned so the
    /// workspace can refresh its queue.
    pub fn purge(&mut self, session: &mut Session) -> Option<ShredReport> {
        let result = session.retention_purge();
        self.expired = session.expired_items().map_err(|e| e.to_string());
        match result {
            Ok(r) => {
                self.outcome = Some(Ok(format!(
                    "Purged {} item(s): {} erased",
                    r.items.len(),
                    describe_shred(&r)
                )));
                Some(r)
            }
            Err(e) => {
                self.outcome = Some(Err(e.to_string()));
                None
            }
        }
    }

    /// Draws the dialog; true when the admin confirms the purge.
    pub fn ui(&mut self, ctx: &egui::Context, open: &mut bool) -> bool {
        let mut purge = false;
        let mut close = false;
        egui::Window::new("Purge expired items")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .default_width(480.0)
            .show(ctx, |ui| {
                let off = self.days.trim() == "0" || self.days.trim().is_empty();
                if off {
                    ui.label("Retention is off: the project keeps every item (retention_days 0). Set the period in File → Project settings… (Keep items for), or with: sealtag settings --project P retention_days N");
                } else {
                    ui.label(format!(
                        "Items are kept for {} day(s) after import (project setting retention_days; 0 means keep everything).",
                        self.days
                    ));
                }
                let count = match &self.expired {
                    Ok(ids) => {
                        if !off {
                            ui.label(
                                RichText::new(format!(
                                    "{} item(s) are past it{}",
                                    ids.len(),
                                    if ids.is_empty() {
                                        String::new()
                                    } else {
                                        format!(
                                            ": {}",
                                            ids.iter()
                                                .take(20)
                                                .map(i64::to_string)
                                                .collect::<Vec<_>>()
                                                .join(", ")
                                        )
                                    }
                                ))
                                .strong(),
                            );
                        }
                        ids.len()
                    }
                    Err(e) => {
                        ui.colored_label(ERROR, e);
                        0
                    }
                };
                if count > 0 {
                    ui.colored_label(
                        WARN,
                        "They are erased for good with their labels, comments and reviews (crypto-shredded).",
                    );
                }
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(count > 0, egui::Button::new("Purge"))
                        .clicked()
                    {
                        purge = true;
                    }
                    close = ui.button("Cancel").clicked();
                });
                outcome_ui(ui, &self.outcome);
            });
        if close {
            *open = false;
        }
        purge
    }
}

// ------------------------------------------------------------ consent

const CONSENTS: [&str; 3] = ["unknown", "granted", "withdrawn"];

/// An item's consent and purposes in the side panel; admins may edit them.
pub struct ConsentPanel {
    item_id: i64,
    loaded: Result<ItemGovernance, String>,
    pub consent: String,
    pub purposes: String,
    pub status: Option<Result<String, String>>,
}

impl ConsentPanel {
    pub fn load(session: &mut Session, item_id: i64) -> Self {
        let loaded = session.item_governance(item_id).map_err(|e| e.to_string());
        let (consent, purposes) = match &loaded {
            Ok(g) => (g.consent.clone(), g.purposes.join(", ")),
            Err(_) => ("unknown".into(), String::new()),
        };
        Self {
            item_id,
            loaded,
            consent,
            purposes,
            status: None,
        }
    }

    pub fn item_id(&self) -> i64 {
        self.item_id
    }

    /// Saves what the admin entered; the panel then shows what is stored.
    pub fn save(&mut self, session: &mut Session) {
        let purposes: Vec<String> = parse_purposes(&self.purposes);
        let change = GovernanceChange {
            subject_key: None,
            consent: Some(self.consent.clone()),
            purposes: Some(purposes),
        };
        let result = session.set_governance(&[self.item_id], &change);
        let mut fresh = Self::load(session, self.item_id);
        fresh.status = Some(match result {
            Ok(()) => Ok("Consent saved".into()),
            Err(e) => {
                // Keep what was typed so it can be corrected.
                fresh.consent = std::mem::take(&mut self.consent);
                fresh.purposes = std::mem::take(&mut self.purposes);
                Err(e.to_string())
            }
        });
        *self = fresh;
    }

    /// Draws the group; true when the admin clicks Save.
    pub fn ui(&mut self, ui: &mut egui::Ui, editable: bool) -> bool {
        let mut save = false;
        ui.heading("Consent");
        let g = match &self.loaded {
            Ok(g) => g,
            Err(e) => {
                ui.colored_label(ERROR, e);
                return false;
            }
        };
        // The key may itself be personal data: only whether there is one.
        ui.small(if g.subject_key.is_some() {
            "Data subject key: set (erasable on request)"
        } else {
            "Data subject key: not set"
        });
        if !editable {
            ui.label(format!("Consent: {}", g.consent));
            ui.label(format!(
                "Purposes: {}",
                if g.purposes.is_empty() {
                    "none listed".to_string()
                } else {
                    g.purposes.join(", ")
                }
            ));
            return false;
        }
        egui::Grid::new("consent-grid")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("Consent status");
                egui::ComboBox::from_id_salt(("consent", self.item_id))
                    .selected_text(self.consent.clone())
                    .show_ui(ui, |ui| {
                        for c in CONSENTS {
                            ui.selectable_value(&mut self.consent, c.to_string(), c);
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Purposes");
                ui.add(
                    egui::TextEdit::singleline(&mut self.purposes)
                        .desired_width(150.0)
                        .hint_text("e.g. training, eval"),
                )
                .labelled_by(l.id);
                ui.end_row();
            });
        let changed = self.consent != g.consent || parse_purposes(&self.purposes) != g.purposes;
        if ui
            .add_enabled(changed, egui::Button::new("Save consent"))
            .clicked()
        {
            save = true;
        }
        outcome_ui(ui, &self.status);
        save
    }
}

// ------------------------------------------------------------ expiry

/// What the expired-bundle banner asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BannerAction {
    SendResults,
    Erase,
}

/// Shown instead of the item once the laptop's work package has expired.
pub fn expired_banner_ui(ui: &mut egui::Ui, expired_at: i64) -> Option<BannerAction> {
    let mut action = None;
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.25);
        ui.set_max_width(560.0);
        ui.label(
            RichText::new(format!(
                "This work package expired on {} UTC.",
                short_time(expired_at)
            ))
            .size(22.0)
            .color(WARN),
        );
        ui.add_space(6.0);
        ui.label(
            "Labelling is closed. Send your results to the site (once), then erase this bundle.",
        );
        ui.add_space(12.0);
        ui.horizontal(|ui| {
            if ui.button("Send results to the site…").clicked() {
                action = Some(BannerAction::SendResults);
            }
            if ui.button("Erase this bundle…").clicked() {
                action = Some(BannerAction::Erase);
            }
        });
    });
    action
}

/// The confirmation before a laptop bundle is erased.
#[derive(Default)]
pub struct EraseConfirm {
    pub open: bool,
}

impl EraseConfirm {
    /// Draws the question; true when the user confirms.
    pub fn ui(&mut self, ctx: &egui::Context, bundle: &std::path::Path) -> bool {
        if !self.open {
            return false;
        }
        let mut erase = false;
        egui::Window::new("Erase this bundle")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 120.0])
            .default_width(460.0)
            .show(ctx, |ui| {
                ui.label(format!(
                    "Every item, label and key in {} is deleted from this computer, and the folder goes. This cannot be undone.",
                    bundle.display()
                ));
                ui.colored_label(
                    WARN,
                    "Results you have not sent to the site are lost with it.",
                );
                ui.horizontal(|ui| {
                    erase = ui.button("Erase for good").clicked();
                    if ui.button("Cancel").clicked() {
                        self.open = false;
                    }
                });
            });
        erase
    }
}

/// The message after erasing a bundle, for the project picker.
pub fn erased_message(bundle: &std::path::Path, r: &Result<ShredReport, CoreError>) -> String {
    match r {
        Ok(r) => format!(
            "Erased {}: {} item(s), {}.",
            bundle.display(),
            r.items.len(),
            describe_shred(r)
        ),
        Err(e) => format!("Could not erase {}: {e}", bundle.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_incident_kind_has_a_plain_label() {
        let ids: Vec<&str> = INCIDENT_LABELS.iter().map(|(k, _)| *k).collect();
        assert_eq!(ids, crate::controller::INCIDENT_KINDS);
        assert_eq!(incident_label("pii"), "Unmasked personal data");
        assert_eq!(incident_label("future_kind"), "future_kind");
    }

    #[test]
    fn flag_rows_name_the_seqs_and_the_chain() {
        let mut f = Flag {
            kind: crate::governance::anomalies::FlagKind::RoleChange,
            user: None,
            summary: String::new(),
            rows: vec![12, 13, 17],
            first_ms: 0,
            last_ms: 0,
            chain: None,
        };
        assert_eq!(flag_rows(&f), "rows 12, 13, 17");
        f.rows = vec![4];
        f.chain = Some("abcdef0123456789".into());
        assert_eq!(flag_rows(&f), "row 4 of laptop chain abcdef01");
        f.rows = (1..=10).collect();
        assert!(flag_rows(&f).contains("… (10 in all)"), "{}", flag_rows(&f));
    }

    #[test]
    fn short_time_is_minutes_in_utc() {
        assert_eq!(short_time(0), "1970-01-01 00:00");
        assert_eq!(short_time(86_400_000 + 61_000), "1970-01-02 00:01");
    }
}
