//! The *Inspect package* view: what a package sealed to this identity
//! holds, drawn from the controller's [`Inspection`] — signer, recipients,
//! each item with every field it carries and the masks applied, each member
//! with its size and SHA-256. Nothing is applied; the dialog in
//! [`super::packages`] runs the check on a worker thread.

use egui::RichText;

use crate::controller::{InspectedItem, Inspection};
use crate::model::format_time;

/// One line for the dialog's outcome.
pub fn headline(seen: &Inspection) -> String {
    let m = &seen.manifest;
    format!(
        "Signature and all {} member hashes checked: a {:?} package signed by {}{} on {}",
        m.members.len(),
        m.kind,
        seen.signer_name
            .as_ref()
            .map(|n| format!("{n} "))
            .unwrap_or_default(),
        short(&m.sender),
        format_time(m.created_ms)
    )
}

fn short(fingerprint: &str) -> &str {
    fingerprint.get(..24).unwrap_or(fingerprint)
}

/// Draws the inspection below the dialog's inputs.
pub fn show(ui: &mut egui::Ui, seen: &Inspection) {
    let m = &seen.manifest;
    // The window sits 120 px from the top; the scroll area takes what is
    // left of the screen below the inputs.
    let room = (ui.ctx().content_rect().height() - ui.cursor().top() - 40.0).max(200.0);
    egui::ScrollArea::vertical()
        .max_height(room)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("inspect-manifest")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    let mut row = |k: &str, v: String| {
                        ui.label(RichText::new(k).strong());
                        ui.label(v);
                        ui.end_row();
                    };
                    row(
                        "Package",
                        format!("{} (sequence {})", m.package_id, m.sequence),
                    );
                    row("Project", m.project_id.clone());
                    row("Signed by", m.sender.clone());
                    row("Sealed to", m.recipients.join("\n"));
                    if let Some(w) = &seen.work {
                        row(
                            "For",
                            format!("{} ({})", w.recipient.name, w.recipient.role),
                        );
                        row(
                            "Classes",
                            format!("{}: {}", w.classes.len(), w.classes.join(", ")),
                        );
                        if let Some(at) = w.expires_at_ms {
                            row("Expires", format_time(at));
                        }
                    }
                    if let Some(r) = &seen.results {
                        row(
                            "Results",
                            format!(
                                "{} item(s), {} comment(s), {} incident(s), {} audit row(s)",
                                r.items.len(),
                                r.comments,
                                r.incidents,
                                r.audit_rows
                            ),
                        );
                    }
                });
            if let Some(w) = &seen.work {
                ui.add_space(6.0);
                ui.label(RichText::new(format!("Items ({})", w.items.len())).strong());
                egui::Grid::new("inspect-items")
                    .num_columns(5)
                    .striped(true)
                    .show(ui, |ui| {
                        for h in ["Item", "Name", "Fields", "Privacy", "Media"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for i in &w.items {
                            item_row(ui, i);
                        }
                    });
            }
            ui.add_space(6.0);
            ui.label(RichText::new(format!("Members ({})", m.members.len())).strong());
            egui::Grid::new("inspect-members")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for e in &m.members {
                        ui.label(&e.name);
                        ui.label(format!("{} B", e.size));
                        ui.monospace(&e.sha256);
                        ui.end_row();
                    }
                });
        });
}

fn item_row(ui: &mut egui::Ui, i: &InspectedItem) {
    let it = &i.item;
    ui.label(format!("{} {}", it.id, it.kind.as_str()));
    ui.label(&it.name);
    ui.label(if i.fields.is_empty() {
        "none".to_string()
    } else {
        i.fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    ui.label(it.privacy.describe().join("\n"));
    ui.label(format!(
        "{} B {}",
        i.media_bytes.unwrap_or(0),
        i.media_sha256
            .as_deref()
            .map(|h| h.get(..12).unwrap_or(h))
            .unwrap_or("missing")
    ));
    ui.end_row();
}
