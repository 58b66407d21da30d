//! The assignment workflow on an item (submit, skip) and settings: the
//! project's (admin) and each user's own (e.g. remapped shortcuts).

use super::{Event, Ungoverned};
use crate::events::AuditAction;
use serde_json::json;

use super::labels::missing_required;
use super::{CoreError, Result, Session};
use crate::model::AssignmentState;
use crate::permissions::Action;
use crate::store;

/// Who sees the on-screen watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatermarkPolicy {
    Off,
    Annotators,
    Everyone,
}

impl WatermarkPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            WatermarkPolicy::Off => "off",
            WatermarkPolicy::Annotators => "annotators",
            WatermarkPolicy::Everyone => "everyone",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(WatermarkPolicy::Off),
            "annotators" => Some(WatermarkPolicy::Annotators),
            "everyone" => Some(WatermarkPolicy::Everyone),
            _ => None,
        }
    }
}

/// Project settings an admin may change, with their defaults.
pub const PROJECT_SETTINGS: &[(&str, &str)] = &[
    ("idle_lock_minutes", "10"),
    ("watermark", "annotators"),
    ("guidelines", ""),
    ("quality_gate", "0"),
    ("pii_names", ""),
    ("package_names", "original"),
    // Record fields (JSONL/CSV columns kept as item metadata) that travel in
    // work packages: none unless allow-listed here, comma-separated.
    ("package_fields", ""),
    // The country whose national phone formats the PII detector reads
    // (ISO 3166-1 alpha-2, e.g. GB); numbers with a country code are found
    // whatever it is.
    ("pii_region", "US"),
    ("mask_pii", "off"),
    ("mask_classes", ""),
    ("mask_style", "block"),
    ("mask_region_style", "fill"),
    ("mask_audio_style", "mute"),
    ("retention_days", "0"),
    // Blank the item whenever the window loses focus (annotators working
    // where others can see the screen); each user may also turn it on for
    // themselves with the user setting of the same name.
    ("privacy_screen", "off"),
    // Anomaly thresholds (`crate::governance::anomalies`); 0 turns a check off.
    ("anomaly_views_per_hour", "300"),
    ("anomaly_failed_unlocks", "3"),
    ("working_hours", ""),
    ("working_hours_utc_offset", "+00:00"),
    ("anomaly_unlabeled_days", "7"),
    ("anomaly_export_items", "1000"),
];

/// The `package_fields` setting: distinct field names, comma-separated,
/// each 1–64 characters of letters, digits, `_`, `-` or `.`.
pub fn parse_field_list(value: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let ok = name.chars().count() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return None;
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    Some(out)
}

/// Guidelines travel in every work package; keep them a document, not a dump.
const MAX_GUIDELINES_CHARS: usize = 64 * 1024;

/// How work was shared out by [`Session::assign_spread`].
#[derive(Clone, Debug, Default, serde::Serialize, PartialEq)]
pub struct SpreadReport {
    /// New assignments made (existing ones are kept).
    pub new: usize,
    /// Items given to more than one person.
    pub overlapped: Vec<i64>,
    /// Per person (fingerprint): how many items they now have from this call.
    pub per_person: Vec<(String, usize)>,
}

impl Session {
    /// Shares items out among several people round-robin (admin); a
    /// fraction of them, spread evenly through the list, goes to `overlap`
    /// different people each, for agreement figures.
    pub fn assign_spread(
        &mut self,
        item_ids: &[i64],
        people: &[String],
        purpose: &str,
        overlap: usize,
        fraction: f64,
    ) -> Result<SpreadReport> {
        if people.is_empty() {
            return Err(CoreError::Invalid("say who gets the items (--to)".into()));
        }
        if overlap == 0 || overlap > people.len() {
            return Err(CoreError::Invalid(format!(
                "--overlap must be between 1 and the number of people ({})",
                people.len()
            )));
        }
        if !(0.0..=1.0).contains(&fraction) {
            return Err(CoreError::Invalid(
                "--overlap-fraction is a fraction between 0 and 1".into(),
            ));
        }
        let users = people
            .iter()
            .map(|p| self.find_user(p))
            .collect::<Result<Vec<_>>>()?;
        let mut plan: Vec<Vec<i64>> = vec![Vec::new(); users.len()];
        let mut report = SpreadReport::default();
        let mut next = 0usize;
        for (i, item) in item_ids.iter().enumerate() {
            // Even spread: item i overlaps when the running share crosses
            // an integer (fraction 0.25 → every fourth item).
            let overlaps =
                overlap > 1 && ((i + 1) as f64 * fraction).floor() > (i as f64 * fraction).floor();
            let count = if overlaps { overlap } else { 1 };
            for k in 0..count {
                plan[(next + k) % users.len()].push(*item);
            }
            if overlaps {
                report.overlapped.push(*item);
            }
            next = (next + count) % users.len();
        }
        for (user, items) in users.iter().zip(&plan) {
            if !items.is_empty() {
                report.new += self.assign(items, &user.fingerprint, purpose)?;
            }
            report
                .per_person
                .push((user.fingerprint.clone(), items.len()));
        }
        Ok(report)
    }

    /// Marks an assigned item as submitted. Refused, naming each gap, while a
    /// label lacks a required attribute.
    pub fn submit(&mut self, item_id: i64) -> Result<()> {
        let (allowed, _) = self.allow_item(Action::Submit, item_id)?;
        let conn = self.project.store.conn();
        let (state, _) = store::assignment_state(conn, item_id, self.user.id)?
            .ok_or_else(|| CoreError::Invalid(format!("item {item_id} is not assigned to you")))?;
        if !state.may_become(AssignmentState::Submitted) {
            return Err(CoreError::Invalid(format!(
                "item {item_id} is {state}; it cannot be submitted now"
            )));
        }
        let classes = store::list_classes(conn)?;
        let mut gaps = Vec::new();
        for a in store::list_annotations(conn, item_id)? {
            let Some(class) = classes.iter().find(|c| c.id == a.class_id) else {
                continue;
            };
            let missing = missing_required(class, &a.attributes);
            if !missing.is_empty() {
                gaps.push(format!(
                    "label #{} ({}) needs {}",
                    a.id,
                    class.name,
                    missing.join(", ")
                ));
            }
        }
        if !gaps.is_empty() {
            return Err(CoreError::Incomplete(format!(
                "cannot submit yet: {}",
                gaps.join("; ")
            )));
        }
        let me = self.user.id;
        self.commit(allowed, |tx| {
            store::set_assignment_state(tx, item_id, me, AssignmentState::Submitted, None)?;
            Ok((
                (),
                Event::new(
                    AuditAction::ItemSubmit,
                    format!("item:{item_id}"),
                    json!({}),
                ),
            ))
        })?;
        Ok(())
    }

    /// Skips an assigned item with a reason the admin will see.
    pub fn skip(&mut self, item_id: i64, reason: &str) -> Result<()> {
        let (allowed, _) = self.allow_item(Action::Submit, item_id)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::Invalid("say why you skip this item".into()));
        }
        if let Some((state, _)) =
            store::assignment_state(self.project.store.conn(), item_id, self.user.id)?
            && !state.may_become(AssignmentState::Skipped)
        {
            return Err(CoreError::Invalid(format!(
                "item {item_id} is {state}; it cannot be skipped now"
            )));
        }
        let me = self.user.id;
        self.commit(allowed, |tx| {
            store::set_assignment_state(tx, item_id, me, AssignmentState::Skipped, Some(reason))?;
            Ok((
                (),
                Event::new(
                    AuditAction::ItemSkip,
                    format!("item:{item_id}"),
                    json!({"reason": reason}),
                ),
            ))
        })?;
        Ok(())
    }

    /// A project setting, or its default.
    pub fn project_setting(&self, key: &str) -> Result<String> {
        let default = PROJECT_SETTINGS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| CoreError::Invalid(format!("unknown setting '{key}'")))?;
        Ok(store::setting(self.project.store.conn(), key)?.unwrap_or(default))
    }

    /// Changes a project setting (admin), validated and audited.
    pub fn set_project_setting(&mut self, key: &str, value: &str) -> Result<()> {
        let allowed = self.allow(Action::ManageSettings, Some(format!("setting {key}")))?;
        let valid = match key {
            "idle_lock_minutes" => value.parse::<u32>().is_ok_and(|m| (1..=240).contains(&m)),
            "watermark" => WatermarkPolicy::parse(value).is_some(),
            "guidelines" => value.chars().count() <= MAX_GUIDELINES_CHARS,
            "quality_gate" => value.parse::<f64>().is_ok_and(|g| (0.0..=1.0).contains(&g)),
            "pii_names" => value.chars().count() <= MAX_GUIDELINES_CHARS,
            "package_names" => matches!(value, "original" | "opaque"),
            "package_fields" => parse_field_list(value).is_some(),
            "pii_region" => crate::privacy::pii::valid_region(value),
            "mask_pii" => matches!(value, "off" | "auto"),
            "mask_classes" => value.chars().count() <= 1024,
            "mask_style" => crate::privacy::derive::parse_mask_style(value).is_some(),
            "mask_region_style" => matches!(value, "fill" | "blur" | "pixelate"),
            "mask_audio_style" => matches!(value, "mute" | "tone"),
            "retention_days" => value.parse::<u32>().is_ok_and(|d| d <= 36_500),
            "privacy_screen" => matches!(value, "off" | "on"),
            // The governance rules parse their own settings; their error
            // names the expected form more exactly than the list below.
            key if crate::governance::anomalies::SETTING_KEYS.contains(&key) => {
                crate::governance::anomalies::validate_setting(key, value)
                    .map_err(|e| CoreError::Invalid(e.to_string()))?;
                true
            }
            _ => return Err(CoreError::Invalid(format!("unknown setting '{key}'"))),
        };
        if !valid {
            return Err(CoreError::Invalid(format!(
                "'{value}' is not a valid value for {key} (idle_lock_minutes: 1–240; watermark: off, annotators, everyone; guidelines: text up to 64 KiB characters; quality_gate: minimum mean gold score 0–1, 0 = off; pii_names: person names, one per line; package_names: original or opaque; package_fields: record fields that travel in work packages, comma-separated names (empty: none); pii_region: two-letter country code for national phone formats, e.g. GB; mask_pii: off or auto; mask_classes: class names whose labels are filled in annotators' images, comma-separated; mask_style: block, tag or char:X; mask_region_style: fill, blur or pixelate; mask_audio_style: mute or tone; anomaly_views_per_hour: item views in any hour above which a person is flagged, 0 = off; anomaly_failed_unlocks: failed unlocks within 15 minutes that are flagged, 0 = off; working_hours: HH-HH or HH:MM-HH:MM (e.g. 08-18), exports and packages outside are flagged, empty = off; working_hours_utc_offset: ±HH:MM added to UTC for working_hours, e.g. +02:00; anomaly_unlabeled_days: days a viewed item may go without a label change by the viewer, 0 = off; anomaly_export_items: exports and packages of more items are flagged, 0 = off; retention_days: days items are kept, 0 = no limit; privacy_screen: on or off, on hides the item when the window loses focus)"
            )));
        }
        // A security setting is an admin-signed entry of the membership log.
        let entry = if crate::membership::SECURITY_SETTINGS.contains(&key) {
            self.next_entry(
                crate::membership::KIND_SETTING,
                key,
                value,
                crate::model::now_ms(),
            )?
        } else {
            None
        };
        let seq = entry.as_ref().map(|e| e.seq);
        self.commit(allowed, |tx| {
            store::set_setting(tx, key, value)?;
            if let Some(e) = &entry {
                store::append_membership(tx, e)?;
            }
            let details = match seq {
                Some(seq) => json!({"value": value, "membership_seq": seq}),
                None => json!({"value": value}),
            };
            Ok((
                (),
                Event::new(
                    AuditAction::SettingsChange,
                    format!("setting:{key}"),
                    details,
                ),
            ))
        })?;
        Ok(())
    }

    pub fn idle_lock_minutes(&self) -> u32 {
        self.project_setting("idle_lock_minutes")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10)
    }

    /// Whether this user's screen carries the watermark.
    pub fn watermark_on(&self) -> bool {
        let policy = self
            .project_setting("watermark")
            .ok()
            .and_then(|v| WatermarkPolicy::parse(&v))
            .unwrap_or(WatermarkPolicy::Annotators);
        match policy {
            WatermarkPolicy::Off => false,
            WatermarkPolicy::Everyone => true,
            WatermarkPolicy::Annotators => self.user.role == crate::model::Role::Annotator,
        }
    }

    /// One of this user's own settings.
    pub fn user_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(store::user_setting(
            self.project.store.conn(),
            self.user.id,
            key,
        )?)
    }

    /// Stores one of this user's own settings (no permission needed beyond
    /// membership); audited by key, not value.
    pub fn set_user_setting(&mut self, key: &str, value: &str) -> Result<()> {
        let me = self.user.id;
        self.record_with(Ungoverned::OwnSetting, |tx| {
            store::set_user_setting(tx, me, key, value)?;
            Ok((
                (),
                Event::new(
                    AuditAction::SettingsUser,
                    format!("user-setting:{key}"),
                    json!({}),
                ),
            ))
        })
    }
}
