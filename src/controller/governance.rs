//! Governance: data kept only as long as needed and erased on request
//! (retention, data-subject erasure, both by crypto-shredding), consent and
//! allowed purposes per item, incidents annotators report, work-package
//! expiry on laptops, and a clock that is not trusted to go backwards.
//!
//! Audit rows written here name counts and ids, never content: an erased
//! item must not live on in the trail that records its erasure.

use super::{Allowed, Event, Ungoverned};
use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;

use super::views::{Incident, ItemGovernance};
use super::{CoreError, Result, Session};
use crate::model::{Role, now_ms};
use crate::permissions::Action;
use crate::store::{self, Governance, Shredded};

/// Incident kinds an annotator can report.
pub const INCIDENT_KINDS: [&str; 4] = ["pii", "wrong_data", "disturbing", "other"];

/// What the admin decides about an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The item needs more masking: it stays out of queues until the admin
    /// has masked it (its privacy version then changes) and sends it again.
    Remask,
    /// The item is erased (crypto-shredded) from the project.
    Remove,
    /// Nothing wrong after all: the item returns to the reporter's queue.
    Release,
}

impl Resolution {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "remask" => Some(Self::Remask),
            "remove" => Some(Self::Remove),
            "release" => Some(Self::Release),
            _ => None,
        }
    }
    fn status(self) -> &'static str {
        match self {
            Self::Remask => "remasked",
            Self::Remove => "removed",
            Self::Release => "released",
        }
    }
}

/// What an erasure or purge removed (ids and counts only).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ShredReport {
    pub items: Vec<i64>,
    pub labels: usize,
    pub revisions: usize,
    pub comments: usize,
    pub blobs: usize,
}

impl From<&Shredded> for ShredReport {
    fn from(s: &Shredded) -> Self {
        ShredReport {
            items: s.items.clone(),
            labels: s.labels,
            revisions: s.revisions,
            comments: s.comments,
            blobs: s.blobs.len(),
        }
    }
}

/// Changes to an item's governance fields; `None` leaves a field as is.
#[derive(Clone, Debug, Default)]
pub struct GovernanceChange {
    /// `Some(None)` clears the subject key.
    pub subject_key: Option<Option<String>>,
    pub consent: Option<String>,
    pub purposes: Option<Vec<String>>,
}

const CONSENTS: [&str; 3] = ["unknown", "granted", "withdrawn"];

/// Whether an item may be used for `purpose`: consent not withdrawn and
/// the purpose among those allowed.
pub fn covers(g: &Governance, purpose: &str) -> bool {
    g.consent != "withdrawn" && g.purposes.iter().any(|p| p == purpose)
}

impl Session {
    /// The time the app trusts: never earlier than a time it has already
    /// seen, so turning the clock back does not revive an expired package.
    pub fn trusted_now(&self) -> i64 {
        let seen = self
            .project
            .store
            .meta("clock_last_seen_ms")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        now_ms().max(seen)
    }

    /// Called at every open: remembers the latest time seen and audits a
    /// clock that went backwards (by more than a minute, to let small NTP
    /// steps pass).
    pub(super) fn check_clock(&mut self) -> Result<()> {
        let now = now_ms();
        let seen = self
            .project
            .store
            .meta("clock_last_seen_ms")?
            .and_then(|v| v.parse::<i64>().ok());
        let target = format!("project:{}", self.project_id());
        self.record_with(Ungoverned::SessionEvent, |tx| {
            store::set_meta(
                tx,
                "clock_last_seen_ms",
                &now.max(seen.unwrap_or(0)).to_string(),
            )?;
            let backwards = seen.filter(|seen| now + 60_000 < *seen).map(|seen| {
                Event::new(
                    AuditAction::ClockBackwards,
                    target,
                    json!({"last_seen_ms": seen, "now_ms": now, "behind_ms": seen - now}),
                )
            });
            Ok(((), backwards))
        })
    }

    /// When the work package this laptop bundle came from expires, if it does.
    pub fn expires_at(&self) -> Option<i64> {
        self.project
            .store
            .meta("expires_at_ms")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<i64>().ok())
    }

    /// Whether this laptop bundle's work package has expired.
    pub fn expired(&self) -> bool {
        self.expires_at().is_some_and(|at| self.trusted_now() > at)
    }

    /// Refuses labelling after expiry (and a second results package after
    /// it); the refusal is audited like any other.
    pub(super) fn check_expiry(&mut self, action: Action) -> Result<()> {
        let Some(at) = self.expires_at() else {
            return Ok(());
        };
        if self.trusted_now() <= at {
            return Ok(());
        }
        let blocked = match action {
            Action::ViewItem | Action::EditLabels | Action::Submit => true,
            Action::MakeResults => self
                .project
                .store
                .meta("expired_results_sent")?
                .is_some_and(|v| v == "1"),
            _ => false,
        };
        if !blocked {
            return Ok(());
        }
        let when = crate::model::format_time(at);
        let target = format!("project:{}", self.project_id());
        self.record(
            Ungoverned::Refusal,
            Event::new(
                AuditAction::ExpiryRefused,
                target,
                json!({"action": action.as_str(), "expired_at_ms": at}),
            ),
        )?;
        Err(CoreError::Expired { at: when })
    }

    /// Sets data subject, consent and allowed purposes of items (admin).
    pub fn set_governance(&mut self, item_ids: &[i64], change: &GovernanceChange) -> Result<()> {
        let allowed = self.allow(Action::Import, Some("consent and purposes".into()))?;
        if let Some(c) = &change.consent
            && !CONSENTS.contains(&c.as_str())
        {
            return Err(CoreError::Invalid(format!(
                "consent '{c}' is not one of {}",
                CONSENTS.join(", ")
            )));
        }
        let conn = self.project.store.conn();
        let mut rows = Vec::new();
        for id in item_ids {
            let mut g = store::item_governance(conn, *id)?
                .ok_or_else(|| CoreError::NotFound(format!("item {id}")))?;
            if let Some(s) = &change.subject_key {
                g.subject_key = s.clone().filter(|s| !s.trim().is_empty());
            }
            if let Some(c) = &change.consent {
                g.consent = c.clone();
            }
            if let Some(p) = &change.purposes {
                g.purposes = p.clone();
            }
            rows.push((*id, g));
        }
        self.commit(allowed, |tx| {
            let mut events = Vec::new();
            for (id, g) in &rows {
                store::set_item_governance(tx, *id, g)?;
                // The subject key may itself be personal data: only whether
                // one is set is recorded.
                events.push(Event::new(
                    AuditAction::ItemGovernance,
                    format!("item:{id}"),
                    json!({"consent": g.consent, "purposes": g.purposes, "subject_key_set": g.subject_key.is_some()}),
                ));
            }
            Ok(((), events))
        })
    }

    pub fn item_governance(&mut self, item_id: i64) -> Result<ItemGovernance> {
        self.require_item(Action::ViewItem, item_id)?;
        store::item_governance(self.project.store.conn(), item_id)?
            .map(ItemGovernance::from)
            .ok_or_else(|| CoreError::NotFound(format!("item {item_id}")))
    }

    /// Items past the project's retention period (`retention_days`; 0 keeps
    /// everything).
    pub fn expired_items(&mut self) -> Result<Vec<i64>> {
        self.require(Action::ManageSettings, Some("retention".into()))?;
        self.items_past_retention()
    }

    /// [`Session::expired_items`] without the permission check its callers made.
    fn items_past_retention(&self) -> Result<Vec<i64>> {
        let days: i64 = self.project_setting("retention_days")?.parse().unwrap_or(0);
        if days <= 0 {
            return Ok(vec![]);
        }
        let cutoff = self.trusted_now() - days * 86_400_000;
        Ok(store::items_created_before(
            self.project.store.conn(),
            cutoff,
        )?)
    }

    /// Removes every item past the retention period by crypto-shredding.
    pub fn retention_purge(&mut self) -> Result<ShredReport> {
        let allowed = self.allow(Action::ManageSettings, Some("retention".into()))?;
        let ids = self.items_past_retention()?;
        let days = self.project_setting("retention_days")?;
        self.shred(
            allowed,
            &ids,
            AuditAction::RetentionPurge,
            json!({"retention_days": days}),
        )
    }

    /// Removes every item (and label, comment, review, mask…) linked to a
    /// data subject by crypto-shredding. Erasing an unknown subject is not
    /// an error (a request may come twice); the report says 0 items.
    pub fn erase_subject(&mut self, subject: &str) -> Result<ShredReport> {
        let allowed = self.allow(Action::ManageUsers, Some("erase a data subject".into()))?;
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(CoreError::Invalid("name the data subject's key".into()));
        }
        let ids = store::items_of_subject(self.project.store.conn(), subject)?;
        self.shred(allowed, &ids, AuditAction::SubjectErase, json!({}))
    }

    /// Deletes items, their labels and their blob keys in one transaction
    /// with its audit row, then removes the ciphertext files and truncates
    /// the WAL so no page that held a key survives in the log. When
    /// anything was erased from a site bundle, the master key is then
    /// rotated (see [`Session::rotate_after_erasure`]).
    fn shred(
        &mut self,
        allowed: Allowed,
        ids: &[i64],
        action: AuditAction,
        mut details: serde_json::Value,
    ) -> Result<ShredReport> {
        let target = format!("project:{}", self.project_id());
        let shredded = self.commit(allowed, |tx| {
            let s = store::shred_items(tx, ids)?;
            let report = ShredReport::from(&s);
            if let Some(map) = details.as_object_mut() {
                map.insert("items".into(), json!(report.items));
                map.insert("labels".into(), json!(report.labels));
                map.insert("revisions".into(), json!(report.revisions));
                map.insert("comments".into(), json!(report.comments));
                map.insert("blobs".into(), json!(report.blobs));
            }
            Ok((s, Event::new(action, target, details)))
        })?;
        for blob in &shredded.blobs {
            self.project.paths.remove_blob(blob);
        }
        self.project.store.checkpoint_truncate()?;
        let erased_something = !shredded.blobs.is_empty();
        if erased_something && action != AuditAction::BundleErase {
            self.rotate_after_erasure(allowed)?;
        }
        Ok(ShredReport::from(&shredded))
    }

    /// After an erasure: `VACUUM` (free pages that held the rows go), a new
    /// master key sealed to the same members (new header slots, signed by
    /// the founding admin) and `PRAGMA rekey`, then the WAL truncated. A
    /// header or database copied before the erasure still opens that copy,
    /// but its master key opens nothing live. Only the founding admin's key
    /// signs a new header: another admin's erasure is done and audited, and
    /// the audit row says the key was not rotated and who can rotate it.
    fn rotate_after_erasure(&mut self, allowed: Allowed) -> Result<()> {
        self.project.store.vacuum()?;
        let target = format!("project:{}", self.project_id());
        let recipients = self.member_keys()?;
        let details = match self.project.header.check_writer(&self.identity) {
            Ok(()) => {
                self.project.rekey(&recipients, &self.identity)?;
                json!({"key_slots": recipients.len(), "after": "erasure"})
            }
            Err(crate::bundle::HeaderError::NotFounder { founder }) => json!({
                "key_slots": recipients.len(),
                "after": "erasure",
                "rotated": false,
                "why": format!("only the founding admin ({founder}) can rotate the master key; ask them to run a retention purge or erasure, which rotates it"),
            }),
            Err(e) => return Err(e.into()),
        };
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::ProjectRekey, target, details)))
        })?;
        self.project.store.checkpoint_truncate()?;
        Ok(())
    }

    /// Reports an item (anyone who can see it): it leaves the reporter's
    /// queue at once and reaches the site's incident queue (directly, or in
    /// the next results package from a laptop).
    pub fn flag_item(&mut self, item_id: i64, kind: &str, reason: &str) -> Result<i64> {
        let (allowed, _) = self.allow_item(Action::ViewItem, item_id)?;
        if !INCIDENT_KINDS.contains(&kind) {
            return Err(CoreError::Invalid(format!(
                "incident kind '{kind}' is not one of {}",
                INCIDENT_KINDS.join(", ")
            )));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(CoreError::Invalid(
                "say what is wrong (1–2000 characters)".into(),
            ));
        }
        let user = self.user.id;
        self.commit(allowed, |tx| {
            let id = store::insert_incident(
                tx,
                &store::NewIncident {
                    item_id,
                    reporter: user,
                    kind,
                    reason,
                    at_ms: now_ms(),
                    origin: None,
                },
            )?;
            Ok((
                id,
                Event::new(
                    AuditAction::IncidentReport,
                    format!("item:{item_id}"),
                    json!({"incident": id, "kind": kind}),
                ),
            ))
        })
    }

    /// Incidents, newest last (admins; others see their own).
    pub fn incidents(&mut self) -> Result<Vec<Incident>> {
        self.require(Action::ListItems, None)?;
        let all = store::incidents(self.project.store.conn())?;
        Ok(if self.user.role == Role::Admin {
            all.into_iter().map(Incident::from).collect()
        } else {
            let me = self.user.fingerprint.clone();
            all.into_iter()
                .filter(|i| i.reporter == me)
                .map(Incident::from)
                .collect()
        })
    }

    /// Items hidden from this user's queue by their own open incidents.
    pub fn flagged_items(&self) -> Result<Vec<i64>> {
        Ok(store::flagged_by(self.project.store.conn(), self.user.id)?)
    }

    /// Decides an incident (admin): re-mask, remove (erase the item) or
    /// release.
    pub fn resolve_incident(
        &mut self,
        id: i64,
        resolution: Resolution,
        note: Option<&str>,
    ) -> Result<Option<ShredReport>> {
        let allowed = self.allow(Action::ManagePrivacy, Some(format!("incident {id}")))?;
        let incident = store::incident(self.project.store.conn(), id)?
            .ok_or_else(|| CoreError::NotFound(format!("incident {id}")))?;
        if incident.status != "open" {
            return Err(CoreError::Invalid(format!(
                "incident {id} was already resolved ({})",
                incident.status
            )));
        }
        let user = self.user.id;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        self.commit(allowed, |tx| {
            store::resolve_incident(tx, id, resolution.status(), user, note)?;
            Ok((
                (),
                Event::new(
                    AuditAction::IncidentResolve,
                    format!("item:{}", incident.item_id),
                    json!({"incident": id, "resolution": resolution}),
                ),
            ))
        })?;
        if resolution == Resolution::Remove {
            return Ok(Some(self.shred(
                allowed,
                &[incident.item_id],
                AuditAction::IncidentRemove,
                json!({"incident": id}),
            )?));
        }
        Ok(None)
    }
}

impl Session {
    /// Erases this laptop bundle (its owner, after expiry or when the work
    /// is done): every blob is deleted, the key slots are overwritten and
    /// removed — without them the database key cannot be recovered — and
    /// the folder goes. Site bundles cannot be erased this way.
    pub fn erase_laptop_bundle(mut self) -> Result<ShredReport> {
        if self.origin_project().is_none() {
            return Err(CoreError::Invalid(
                "only a laptop bundle (made from a work package) can be erased; a site project is retired by its admins".into(),
            ));
        }
        let ids: Vec<i64> = store::list_items(self.project.store.conn(), None)?
            .into_iter()
            .map(|i| i.id)
            .collect();
        let allowed = Allowed::ungoverned(Ungoverned::OwnBundle);
        let report = self.shred(allowed, &ids, AuditAction::BundleErase, json!({}))?;
        let paths = self.project.paths.clone();
        // No closing audit row or head: the trail is about to go with the
        // bundle it describes.
        self.closed = true;
        drop(self);
        for header in [paths.header(), paths.pending_header()] {
            crate::bundle::overwrite_in_place(&header).map_err(CoreError::io(&header))?;
        }
        std::fs::remove_dir_all(&paths.root).map_err(CoreError::io(&paths.root))?;
        Ok(report)
    }
}
