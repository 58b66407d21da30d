//! The one controller both front ends call. Every user action enters here:
//! the permission table is checked, the change is applied, and its audit row
//! is written in the same transaction. Refusals are audited too.
//!
//! Split by subject: this file holds sessions, users, items and audit;
//! [`proof`] the door every write goes through (the permission check, its
//! proof [`proof::Allowed`], and the transaction that writes the change
//! with its audit rows); [`labels`] the label changes and undo/redo;
//! [`schema`] the label schema; [`workflow`] submit, skip and settings;
//! [`access`] the access review and anomaly flags.

mod access;
pub mod adopt;
mod error;
mod export;
mod governance;
mod ingest;
mod labels;
mod members;
mod packages;
mod prelabels;
mod privacy;
mod proof;
mod quality;
mod review;
mod schema;
mod views;
mod workflow;

pub use export::{ExportOptions, ExportReport, strip_jpeg, strip_png};
pub use governance::{GovernanceChange, INCIDENT_KINDS, Resolution, ShredReport, covers};
pub use ingest::{FileReport, ImportProgress, ImportReport};
pub use packages::{
    FirstSigner, InspectedItem, Inspection, MAX_EXPIRY_DAYS, MadePackage, MergeReport,
    PlannedPackage, ResultsView, WorkOpened, WorkView, default_local_bundle, inspect_package,
    open_work_package, package_kind, results_check_names,
};
pub use prelabels::PrelabelReport;
pub use privacy::{ItemPii, ItemPrivacy, PreviewJob, ProposeReport, TemplateApplied};
pub use quality::{ClassAgreement, PairFigures, PersonFigures, QualityReport, gold_score};
pub use review::{Acceptance, Decision, ReviewEntry};
pub use schema::{SchemaChange, default_schema};
pub use views::{Comment, Incident, ItemGovernance, Mask, MaskTemplate, parse_purposes};
pub use workflow::{PROJECT_SETTINGS, SpreadReport, WatermarkPolicy};

use crate::events::AuditAction;
use serde_json::json;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::audit::{self, SignedHead, VerifyReport};
use crate::bundle::HeaderError;
use crate::crypto::{PublicIdentity, UnlockedIdentity};
use crate::home::Home;
use crate::model::{AuditEntry, ItemSummary, Role, Schema, User, now_ms};
use crate::permissions::{self, Action};
use crate::project::{Project, ProjectError};
use crate::store;
use proof::{Allowed, Event, Ungoverned};

pub use error::{CoreError, Result};

/// The decrypted content of one item, held only in memory.
pub struct ItemContent {
    pub summary: ItemSummary,
    pub bytes: Zeroizing<Vec<u8>>,
    pub metadata: serde_json::Value,
}

/// Where an encrypted item lives, so a worker thread can decrypt it without
/// touching the database (the UI thread owns the connection).
pub struct ItemBlobRef {
    pub paths: crate::bundle::BundlePaths,
    pub project_id: String,
    pub blob_id: String,
    pub key: crate::crypto::SecretBytes<32>,
    pub summary: ItemSummary,
    pub metadata: serde_json::Value,
    /// The cached waveform overview of an audio item, if made before.
    pub peaks: Option<(String, crate::crypto::SecretBytes<32>)>,
}

impl ItemBlobRef {
    /// The cached waveform, decrypted; `None` if not cached or unreadable
    /// (then it is simply computed again).
    pub fn cached_peaks(&self) -> Option<crate::peaks::Peaks> {
        let (blob_id, key) = self.peaks.as_ref()?;
        let bytes = self.paths.read_blob(&self.project_id, blob_id, key).ok()?;
        crate::peaks::Peaks::from_bytes(&bytes).ok()
    }

    pub fn decrypt(&self) -> Result<ItemContent> {
        let bytes = self
            .paths
            .read_blob(&self.project_id, &self.blob_id, &self.key)?;
        Ok(ItemContent {
            summary: self.summary.clone(),
            bytes,
            metadata: self.metadata.clone(),
        })
    }
}

/// The result of a label change, for the status bar and the UI's selection.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub annotation_id: i64,
    /// The item changed (undo and redo may act on another item).
    pub item_id: i64,
    pub audit_seq: i64,
}

/// An unlocked project and the person working in it.
pub struct Session {
    project: Project,
    identity: UnlockedIdentity,
    user: User,
    closed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Session({}, {})",
            self.project.project_id(),
            self.user.fingerprint
        )
    }
}

impl Session {
    /// Creates a project at `root`; `identity` becomes its first admin.
    pub fn create_project(root: &Path, name: &str, identity: UnlockedIdentity) -> Result<Self> {
        let mut project = Project::create(root, &identity)?;
        let public = identity.public();
        let fingerprint = public.fingerprint();
        let pid = project.project_id().to_string();
        let tx = project.store.transaction()?;
        store::set_meta(&tx, "name", name)?;
        store::set_meta(&tx, "created_at", &now_ms().to_string())?;
        let user_id = store::insert_user(
            &tx,
            &fingerprint,
            &identity.name,
            &public.to_key_string(),
            Role::Admin,
        )?;
        // Entry 1 of the signed membership log: the founding admin adds
        // themself; every later change is signed by an admin.
        let founding = crate::membership::sign_entry(
            &pid,
            None,
            &identity,
            crate::membership::KIND_ADD,
            &public.to_key_string(),
            &crate::membership::add_value(Role::Admin, &identity.name),
            now_ms(),
        );
        store::append_membership(&tx, &founding)?;
        let schema = schema::default_schema();
        for class in &schema.classes {
            store::insert_class(&tx, class)?;
        }
        let stored = Schema {
            classes: store::list_classes(&tx)?,
            ..schema
        };
        store::set_setting(
            &tx,
            "multi_label_tags",
            if stored.multi_label_tags {
                "true"
            } else {
                "false"
            },
        )?;
        store::insert_schema_version(
            &tx,
            1,
            &serde_json::to_string(&stored).unwrap_or_default(),
            &fingerprint,
        )?;
        store::set_meta(&tx, "schema_version", "1")?;
        store::append_audit(
            &tx,
            &pid,
            &fingerprint,
            AuditAction::ProjectCreate,
            &format!("project:{pid}"),
            &json!({"name": name}).to_string(),
        )?;
        store::append_audit(
            &tx,
            &pid,
            &fingerprint,
            AuditAction::UserAdd,
            &format!("user:{fingerprint}"),
            &json!({"role": "admin", "name": identity.name, "membership_seq": 1}).to_string(),
        )?;
        store::append_audit(
            &tx,
            &pid,
            &fingerprint,
            AuditAction::MembershipFounded,
            &format!("project:{pid}"),
            &json!({"founder": public.to_key_string(), "membership_seq": 1}).to_string(),
        )?;
        tx.commit()?;
        let user = store::user_by_fingerprint(project.store.conn(), &fingerprint)?
            .ok_or_else(|| CoreError::NotFound(format!("user {fingerprint}")))?;
        debug_assert_eq!(user.id, user_id);
        Ok(Self {
            project,
            identity,
            user,
            closed: false,
        })
    }

    /// Opens a project with an unlocked identity. Failed unlocks noted in
    /// `home` since the last success are written to the audit trail now.
    pub fn open(root: &Path, identity: UnlockedIdentity, home: Option<&Home>) -> Result<Self> {
        let fingerprint = identity.public().fingerprint();
        let project = match Project::open(root, &identity) {
            Ok(p) => p,
            Err(e) => {
                match (home, &e) {
                    (Some(home), ProjectError::Header(HeaderError::NotEnrolled { .. })) => {
                        home.note_failed_unlock("identity holds no key slot in the project");
                    }
                    (Some(home), ProjectError::Header(HeaderError::BadSignature)) => {
                        home.note_security_event(AuditAction::BundleRefused, &e.to_string());
                    }
                    _ => {}
                }
                return Err(e.into());
            }
        };
        // First contact pins the founding admin's key; later a header
        // signed by another key is not the bundle opened before.
        if let Some(home) = home
            && let Err(e) = home.check_pin(&project.header)
        {
            home.note_security_event(AuditAction::BundleRefused, &e.to_string());
            return Err(e.into());
        }
        let user = match store::user_by_fingerprint(project.store.conn(), &fingerprint)? {
            Some(u) if u.active => u,
            _ => return Err(CoreError::NotMember { fingerprint }),
        };
        let found = members::check_membership(project.store.conn(), project.project_id());
        let mut session = Self {
            project,
            identity,
            user,
            closed: false,
        };
        let settled = found.and_then(|found| session.settle_membership(found));
        if let Err(e) = settled {
            if let CoreError::MembershipTampered { what } = &e {
                // Refused, and the refusal is on the trail.
                let target = format!("project:{}", session.project_id());
                let row = Event::new(
                    AuditAction::MembershipTampered,
                    target,
                    json!({"refused": [what], "restored": false}),
                );
                session.record(Ungoverned::Refusal, row)?;
            }
            session.closed = true;
            return Err(e);
        }
        let pending = home.map(Home::pending_failed_unlocks).unwrap_or_default();
        let mut rows: Vec<Event> = pending
            .iter()
            .map(|(at, reason)| {
                // `@name reason`: another refused check noted by name
                // (Home::note_security_event); a name this build does not
                // know is kept in the reason rather than lost.
                let (action, reason) = match reason.strip_prefix('@') {
                    Some(rest) => {
                        let (name, why) = rest.split_once(' ').unwrap_or((rest, ""));
                        match AuditAction::parse(name) {
                            Some(a) => (a, why.to_string()),
                            None => (AuditAction::UnlockFailed, rest.to_string()),
                        }
                    }
                    None => (AuditAction::UnlockFailed, reason.clone()),
                };
                Event::new(action, "identity", json!({"at_ms": at, "reason": reason}))
            })
            .collect();
        // Rows after the last signed head were left by a session that
        // ended without closing (a crash, kill -9, power loss): sign them
        // now, before anything is added, so they are vouched for.
        session.sign_audit_head()?;
        let pid = session.project_id().to_string();
        rows.push(Event::new(
            AuditAction::SessionOpen,
            format!("project:{pid}"),
            json!({}),
        ));
        session.record_with(Ungoverned::SessionEvent, |_| Ok(((), rows)))?;
        if let Some(home) = home {
            home.clear_failed_unlocks();
        }
        session.check_clock()?;
        Ok(session)
    }

    pub fn user(&self) -> &User {
        &self.user
    }
    pub fn role(&self) -> Role {
        self.user.role
    }
    pub fn identity(&self) -> &UnlockedIdentity {
        &self.identity
    }
    pub fn project_id(&self) -> &str {
        self.project.project_id()
    }
    pub fn root(&self) -> PathBuf {
        self.project.root()
    }
    pub fn project_name(&self) -> String {
        self.project
            .store
            .meta("name")
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    // ------------------------------------------------------------ users

    pub fn list_users(&mut self) -> Result<Vec<User>> {
        self.require(Action::ListUsers, None)?;
        Ok(store::list_users(self.project.store.conn())?)
    }

    /// Enrols a person: a user row, an audit row and a key slot.
    pub fn add_user(&mut self, public_key: &str, role: Role, name: &str) -> Result<User> {
        let allowed = self.allow(Action::ManageUsers, Some(format!("add {name}")))?;
        let public = PublicIdentity::parse(public_key)?;
        let fingerprint = public.fingerprint();
        let existing = store::user_by_fingerprint(self.project.store.conn(), &fingerprint)?;
        if existing.as_ref().is_some_and(|u| u.active) {
            return Err(CoreError::Invalid(format!(
                "{fingerprint} is already a member of this project"
            )));
        }
        // Only the founding admin signs the header: refused before the row.
        self.project
            .header
            .check_writer(&self.identity)
            .map_err(ProjectError::from)?;
        let key_string = public.to_key_string();
        let entry = self.next_entry(
            crate::membership::KIND_ADD,
            &key_string,
            &crate::membership::add_value(role, name),
            now_ms(),
        )?;
        let seq = entry.as_ref().map(|e| e.seq);
        self.commit(allowed, |tx| {
            match &existing {
                Some(u) => store::reactivate_user(tx, u.id, name, role)?,
                None => {
                    store::insert_user(tx, &fingerprint, name, &key_string, role)?;
                }
            }
            if let Some(e) = &entry {
                store::append_membership(tx, e)?;
            }
            Ok((
                (),
                Event::new(
                    AuditAction::UserAdd,
                    format!("user:{fingerprint}"),
                    json!({"role": role, "name": name, "membership_seq": seq}),
                ),
            ))
        })?;
        let recipients = self.member_keys()?;
        self.project.add_slot(&recipients, &self.identity)?;
        store::user_by_fingerprint(self.project.store.conn(), &fingerprint)?
            .ok_or_else(|| CoreError::NotFound(format!("user {fingerprint}")))
    }

    fn member_keys(&self) -> Result<Vec<PublicIdentity>> {
        store::list_users(self.project.store.conn())?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| PublicIdentity::parse(&u.public_key).map_err(CoreError::from))
            .collect()
    }

    /// Finds a member by fingerprint or exact name. Controller-internal:
    /// each caller has checked the permission its action needs (the member
    /// list itself is `ListUsers`, see [`Session::list_users`]).
    pub(super) fn find_user(&self, who: &str) -> Result<User> {
        let users = store::list_users(self.project.store.conn())?;
        let matches: Vec<_> = users
            .into_iter()
            .filter(|u| u.active && (u.fingerprint == who || u.name == who))
            .collect();
        match matches.len() {
            1 => Ok(matches
                .into_iter()
                .next()
                .ok_or_else(|| CoreError::NotFound(who.into()))?),
            0 => Err(CoreError::NotFound(format!("active user '{who}'"))),
            n => Err(CoreError::Invalid(format!(
                "{n} users are named '{who}'; use the fingerprint instead"
            ))),
        }
    }

    /// Removes a person and re-keys the bundle so their old key slot opens
    /// nothing current.
    pub fn remove_user(&mut self, who: &str) -> Result<User> {
        let allowed = self.allow(Action::ManageUsers, Some(format!("remove {who}")))?;
        let user = self.find_user(who)?;
        if user.id == self.user.id {
            return Err(CoreError::Invalid(
                "you cannot remove yourself; ask another admin".into(),
            ));
        }
        let admins = store::list_users(self.project.store.conn())?
            .iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .count();
        if user.role == Role::Admin && admins <= 1 {
            return Err(CoreError::Invalid(
                "a project needs at least one admin".into(),
            ));
        }
        self.project
            .header
            .check_writer(&self.identity)
            .map_err(ProjectError::from)?;
        let fpr = user.fingerprint.clone();
        let at = now_ms();
        let entry = self.next_entry(crate::membership::KIND_REMOVE, &user.public_key, "", at)?;
        let seq = entry.as_ref().map(|e| e.seq);
        self.commit(allowed, |tx| {
            store::deactivate_user(tx, user.id)?;
            // On the revocation list from now on: later work packages carry
            // it, and any package signed by this key is refused, whatever
            // time it claims.
            store::put_revocation(tx, &fpr, at)?;
            if let Some(e) = &entry {
                store::append_membership(tx, e)?;
            }
            Ok((
                (),
                Event::new(
                    AuditAction::UserRemove,
                    format!("user:{fpr}"),
                    json!({"role": user.role, "membership_seq": seq}),
                ),
            ))
        })?;
        let recipients = self.member_keys()?;
        self.project.rekey(&recipients, &self.identity)?;
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok((
                (),
                Event::new(
                    AuditAction::ProjectRekey,
                    target,
                    json!({"key_slots": recipients.len()}),
                ),
            ))
        })?;
        Ok(user)
    }

    /// The items this user may see: all for admins, assigned ones for
    /// annotators and reviewers.
    pub fn items(&mut self) -> Result<Vec<ItemSummary>> {
        self.require(Action::ListItems, None)?;
        let scope = permissions::scoped_to_assignments(self.user.role).then_some(self.user.id);
        let mut items = store::list_items(self.project.store.conn(), scope)?;
        // An item someone reported leaves their queue at once.
        let flagged = self.flagged_items()?;
        if !flagged.is_empty() {
            items.retain(|i| !flagged.contains(&i.id));
        }
        Ok(items)
    }

    /// Authorises viewing an item and returns where its ciphertext is,
    /// without recording a view: for decoding ahead (prefetch). Call
    /// [`Session::record_view`] when the item is actually shown.
    pub fn prefetch_item(&mut self, item_id: i64) -> Result<ItemBlobRef> {
        let summary = self.require_item(Action::ViewItem, item_id)?;
        let conn = self.project.store.conn();
        let (blob_id, key) = store::item_blob(conn, item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
        let metadata = serde_json::from_str(&store::item_metadata(conn, item_id)?)
            .unwrap_or(serde_json::Value::Null);
        let peaks = store::item_peaks_blob(conn, item_id)?;
        Ok(ItemBlobRef {
            paths: self.project.paths.clone(),
            project_id: self.project.project_id().to_string(),
            blob_id,
            key,
            summary,
            metadata,
            peaks,
        })
    }

    /// Stores a computed waveform overview (encrypted, like any blob) so the
    /// recording reopens without decoding it again.
    pub fn store_peaks(&mut self, item_id: i64, peaks: &crate::peaks::Peaks) -> Result<()> {
        let (allowed, _) = self.allow_item(Action::ViewItem, item_id)?;
        let pid = self.project.project_id().to_string();
        let blob = self
            .project
            .paths
            .write_blob(&pid, &mut peaks.to_bytes().as_slice())?;
        // The row says a derived cache was written, like any other change
        // to the bundle.
        self.commit(allowed, |tx| {
            store::insert_blob(tx, &blob.blob_id, &blob.key, blob.size)?;
            store::set_item_peaks_blob(tx, item_id, &blob.blob_id)?;
            Ok((
                (),
                Event::new(
                    AuditAction::PeaksCache,
                    format!("item:{item_id}"),
                    json!({"bytes": blob.size}),
                ),
            ))
        })
    }

    /// Records that the user now sees an item (audit "item.view").
    pub fn record_view(&mut self, item_id: i64) -> Result<()> {
        let (allowed, _) = self.allow_item(Action::ViewItem, item_id)?;
        self.commit(allowed, |_| {
            Ok((
                (),
                Event::new(AuditAction::ItemView, format!("item:{item_id}"), json!({})),
            ))
        })?;
        Ok(())
    }

    /// Records that the screen locked itself after idle time.
    pub fn record_idle_lock(&mut self, minutes: u32) -> Result<()> {
        let target = format!("project:{}", self.project_id());
        self.record(
            Ungoverned::SessionEvent,
            Event::new(
                AuditAction::SessionIdleLock,
                target,
                json!({"idle_minutes": minutes}),
            ),
        )
    }

    /// Authorises viewing an item, records the view, and returns where its
    /// ciphertext is; decryption happens wherever the caller wants.
    pub fn open_item(&mut self, item_id: i64) -> Result<ItemBlobRef> {
        let blob = self.prefetch_item(item_id)?;
        self.record_view(item_id)?;
        Ok(blob)
    }

    /// Authorises, audits and decrypts an item in one call.
    pub fn load_item(&mut self, item_id: i64) -> Result<ItemContent> {
        self.open_item(item_id)?.decrypt()
    }

    /// Assigns items to a member for a purpose (admin).
    pub fn assign(&mut self, item_ids: &[i64], who: &str, purpose: &str) -> Result<usize> {
        let allowed = self.allow(Action::Assign, Some(format!("assign to {who}")))?;
        if !matches!(purpose, "annotate" | "review" | "gold") {
            return Err(CoreError::Invalid(format!(
                "unknown purpose '{purpose}' (annotate, review or gold)"
            )));
        }
        let user = self.find_user(who)?;
        for id in item_ids {
            if store::item_summary_by_id(self.project.store.conn(), *id)?.is_none() {
                return Err(CoreError::NotFound(format!("item {id}")));
            }
        }
        self.commit(allowed, |tx| {
            let mut n = 0;
            for id in item_ids {
                if store::assign(tx, *id, user.id, purpose)? {
                    n += 1;
                }
            }
            Ok((
                n,
                Event::new(
                    AuditAction::Assign,
                    format!("user:{}", user.fingerprint),
                    json!({"items": item_ids, "purpose": purpose, "new": n}),
                ),
            ))
        })
    }

    // ------------------------------------------------------------ audit

    pub fn audit_log(&mut self) -> Result<Vec<AuditEntry>> {
        self.require(Action::ReadAudit, None)?;
        Ok(store::audit_rows(self.project.store.conn())?)
    }

    /// Verifies the chain and the signed heads; the check itself is audited
    /// after it ran, so it never vouches for its own row.
    pub fn verify_audit(&mut self) -> Result<VerifyReport> {
        self.verify_audit_anchored(&[])
    }

    /// [`Self::verify_audit`], and the trail must still extend every
    /// anchor (a head exported earlier and kept offline): a trail cut back
    /// or rebuilt since fails even when its own heads agree with it.
    pub fn verify_audit_anchored(&mut self, anchors: &[audit::Anchor]) -> Result<VerifyReport> {
        let allowed = self.allow(Action::VerifyAudit, None)?;
        let report = self.verify_audit_unaudited(anchors)?;
        let details = json!({
            "ok": report.ok(),
            "rows": report.rows,
            "anchors": report.anchors,
            "unsigned_tail": report.unsigned_tail,
            "problem": report.problem,
        });
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::AuditVerify, target, details)))
        })?;
        Ok(report)
    }

    fn verify_audit_unaudited(&self, anchors: &[audit::Anchor]) -> Result<VerifyReport> {
        let conn = self.project.store.conn();
        let heads = store::signed_heads(conn)?;
        // Fingerprints are recomputed from the keys: a users row claiming
        // someone else's fingerprint next to the insider's key vouches for
        // nothing.
        let keys: Vec<(String, PublicIdentity)> = store::list_users(conn)?
            .into_iter()
            .filter_map(|u| PublicIdentity::parse(&u.public_key).ok())
            .map(|k| (k.fingerprint(), k))
            .collect();
        let verify = |signer: &str, msg: &[u8], sig_hex: &str| {
            let Ok(sig) = hex::decode(sig_hex) else {
                return false;
            };
            keys.iter()
                .any(|(fpr, key)| fpr == signer && key.verify(msg, &sig))
        };
        // An anchor checks on its own key first: a file edited offline (or
        // made up) is not a checkpoint.
        let (anchors, bad): (Vec<audit::Anchor>, Vec<audit::Anchor>) =
            anchors.iter().cloned().partition(anchor_is_signed);
        let mut check = audit::ChainCheck::new(self.project.project_id(), &heads, &anchors);
        store::each_audit_row(conn, |row| {
            check.push_row(row);
        })?;
        let mut report = check.finish(&heads, &anchors, &verify);
        report.anchors += bad.len();
        if report.problem.is_none()
            && let Some(bad) = bad.first()
        {
            report.problem = Some(audit::ChainProblem {
                seq: bad.head.seq,
                what: format!(
                    "the anchor at row {} is not validly signed by the key it carries (the file was altered); use an unaltered copy",
                    bad.head.seq
                ),
            });
        }
        Ok(report)
    }

    /// Signs the current chain head with this user's key, linked to the
    /// head before it, and stores it, so cutting rows off the end (or
    /// removing a head) is detectable.
    pub fn sign_audit_head(&mut self) -> Result<Option<SignedHead>> {
        let conn = self.project.store.conn();
        let Some((seq, hash)) = store::audit_tip(conn)? else {
            return Ok(None);
        };
        let last = store::signed_heads(conn)?.pop();
        if last.as_ref().is_some_and(|h| h.seq == seq) {
            return Ok(None);
        }
        let pid = self.project.project_id();
        let prev = last
            .as_ref()
            .map_or_else(|| audit::heads_genesis(pid), audit::head_link);
        let signature = self
            .identity
            .sign(&audit::head_message_v2(pid, seq, &hash, &prev));
        let head = SignedHead {
            seq,
            hash,
            signer: self.user.fingerprint.clone(),
            signature: hex::encode(signature),
            at_ms: now_ms(),
            prev: Some(prev),
        };
        self.record_with(Ungoverned::SessionEvent, |tx| {
            store::insert_head(tx, &head)?;
            Ok(((), None::<Event>))
        })?;
        Ok(Some(head))
    }

    /// The latest signed head, or `None` before any was signed.
    pub fn latest_audit_head(&self) -> Result<Option<SignedHead>> {
        Ok(store::signed_heads(self.project.store.conn())?.pop())
    }

    /// Records an export of a checkpoint, signs a head covering that row
    /// and returns it as an [`audit::Anchor`] to keep offline.
    pub fn audit_anchor(&mut self) -> Result<audit::Anchor> {
        let allowed = self.allow(Action::VerifyAudit, None)?;
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::AuditAnchor, target, json!({}))))
        })?;
        self.sign_audit_head()?;
        let head = self
            .latest_audit_head()?
            .ok_or_else(|| CoreError::NotFound("a signed audit head".into()))?;
        Ok(audit::Anchor {
            format: audit::ANCHOR_FORMAT.to_string(),
            project_id: self.project_id().to_string(),
            head,
            public_key: self.identity.public().to_key_string(),
        })
    }

    /// Runs `PRAGMA integrity_check` and SQLCipher's HMAC check.
    pub fn integrity_check(&self) -> Result<()> {
        Ok(self.project.store.integrity_check()?)
    }

    /// Records the end of the session and signs the chain head.
    pub fn close(mut self) -> Result<()> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let target = format!("project:{}", self.project_id());
        self.record(
            Ungoverned::SessionEvent,
            Event::new(AuditAction::SessionClose, target, json!({})),
        )?;
        self.sign_audit_head()?;
        Ok(())
    }
}

/// Whether an anchor's head is signed by the key it carries.
fn anchor_is_signed(anchor: &audit::Anchor) -> bool {
    PublicIdentity::parse(&anchor.public_key).is_ok_and(|key| {
        key.fingerprint() == anchor.head.signer
            && hex::decode(&anchor.head.signature)
                .is_ok_and(|sig| key.verify(&anchor.head.message(&anchor.project_id), &sig))
    })
}

impl Drop for Session {
    fn drop(&mut self) {
        // Best effort: a session dropped without close() still leaves a signed
        // head. Errors here have nowhere to go; the chain stays verifiable.
        let _ = self.close_inner();
    }
}
