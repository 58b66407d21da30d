//! Making a work package at the site: everything assigned to one annotator
//! or reviewer — each item's media as its masked, minimised derivative,
//! the labels they may see, the comments addressed to them, schema,
//! guidelines, settings and the site's keys for the way back.
//!
//! Planning reads the database only; the long write runs later on any
//! thread ([`PlannedPackage::write`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::wire::{
    ChainHead, CommentDoc, Person, PreLabel, SentPrivacy, WORK_DOC, WorkDoc, WorkItem, json_bytes,
};
use super::{MadePackage, MediaRef, PlannedPackage, Transform, char_to_byte};
use crate::controller::{CoreError, PROJECT_SETTINGS, Result, Session};
use crate::crypto::PublicIdentity;
use crate::model::{AnnotationDraft, AssignmentState, ItemKind, Role, User, now_ms};
use crate::package::{PackageKind, ProgressFn};
use crate::permissions::Action;
use crate::privacy::derive::{MaskSpec, PrivacyPlan, derive};
use crate::privacy::image_mask::{Region, RegionStyle, Shape};
use crate::privacy::window::Window;
use crate::store::{self, CommentRow};

/// The furthest ahead a work package may expire (about ten years): every
/// front end gets the same limit from here.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// A work package's expiry (Unix ms) must lie ahead of `now_ms`, and no
/// more than [`MAX_EXPIRY_DAYS`] ahead.
fn check_expiry(at: i64, now_ms: i64) -> Result<()> {
    if at <= now_ms {
        return Err(CoreError::Invalid(format!(
            "the expiry {} is already past",
            crate::model::format_time(at)
        )));
    }
    if at > now_ms.saturating_add(MAX_EXPIRY_DAYS * 86_400_000) {
        return Err(CoreError::Invalid(format!(
            "the expiry {} is more than {MAX_EXPIRY_DAYS} days ahead; choose a date within {MAX_EXPIRY_DAYS} days, or no expiry",
            crate::model::format_time(at)
        )));
    }
    Ok(())
}

/// What planning a work package settles once for all its items.
struct WorkPlanner {
    /// The recipient.
    user: User,
    users: Vec<User>,
    /// The other annotators: an annotator never sees their work.
    annotators: BTreeSet<String>,
    /// `package_names = opaque`: file names replaced by item ids.
    opaque_names: bool,
    /// Record fields the admin allow-listed (`package_fields`).
    allowed_fields: Vec<String>,
    /// Classes whose labels become filled regions (`mask_classes`).
    mask_classes: BTreeSet<i64>,
    defaults: PrivacyPlan,
}

/// What the items of a work package add up to, gathered item by item.
#[derive(Default)]
struct WorkParts {
    items: Vec<WorkItem>,
    media: Vec<MediaRef>,
    prelabels: Vec<PreLabel>,
    comments: Vec<CommentDoc>,
    /// Fingerprints of the people whose labels or comments travel.
    authors: BTreeSet<String>,
    /// Per item: the privacy version and window it carries.
    privacy: Vec<(i64, i64, Option<Window>)>,
    /// Labels not sent because they fall outside an item's window; a
    /// relation to one of them cannot be sent either.
    outside: BTreeSet<i64>,
}

fn person(u: &User) -> Person {
    Person {
        fingerprint: u.fingerprint.clone(),
        name: u.name.clone(),
        public_key: u.public_key.clone(),
        role: u.role,
    }
}

impl Session {
    /// Plans the work package for one annotator or reviewer (admin): every
    /// item assigned to them, with media, pre-labels, schema, guidelines and
    /// the site's keys for the results.
    pub fn plan_work_package(&mut self, to: &str) -> Result<PlannedPackage> {
        self.plan_work_package_expiring(to, None)
    }

    /// [`Self::plan_work_package`] with an expiry time: after it, the
    /// laptop refuses labelling and offers to erase itself.
    pub fn plan_work_package_expiring(
        &mut self,
        to: &str,
        expires: Option<i64>,
    ) -> Result<PlannedPackage> {
        let allowed = self.allow(Action::MakePackage, Some(format!("work package for {to}")))?;
        if let Some(at) = expires {
            check_expiry(at, now_ms())?;
        }
        let user = self.find_user(to)?;
        if !matches!(user.role, Role::Annotator | Role::Reviewer) {
            return Err(CoreError::Invalid(format!(
                "{} is a project {}; work packages are for annotators and reviewers",
                user.name, user.role
            )));
        }
        let conn = self.project.store.conn();
        let assignments = store::assignments_of(conn, user.id)?;
        if assignments.is_empty() {
            return Err(CoreError::Invalid(format!(
                "nothing is assigned to {}; assign items first (sealtag assign)",
                user.name
            )));
        }
        let planner = self.work_planner(user)?;
        let conn = self.project.store.conn();
        // Items with an open incident stay home until an admin resolves it.
        let flagged: BTreeSet<i64> = store::incidents(conn)?
            .into_iter()
            .filter(|i| i.status == "open")
            .map(|i| i.item_id)
            .collect();
        let mut parts = WorkParts::default();
        let mut seen = BTreeSet::new();
        for (item_id, purpose, state, _) in &assignments {
            if !seen.insert(*item_id) || flagged.contains(item_id) {
                continue;
            }
            self.plan_work_item(&planner, &mut parts, *item_id, purpose, *state)?;
        }
        let WorkParts {
            items,
            media,
            mut prelabels,
            comments,
            authors,
            privacy,
            outside,
        } = parts;
        prelabels.retain(|p| {
            !p.draft
                .geometry
                .linked()
                .is_some_and(|(from, to)| outside.contains(&from) || outside.contains(&to))
        });
        let mut settings = BTreeMap::new();
        for (key, _) in PROJECT_SETTINGS {
            // The names to mask are themselves personal data.
            if *key != "pii_names" {
                settings.insert(key.to_string(), self.project_setting(key)?);
            }
        }
        // The site's trail as of now, signed, travels with the work: the
        // laptop holds the site to it (check `rollback`).
        self.sign_audit_head()?;
        let site_head = self.latest_audit_head()?;
        let conn = self.project.store.conn();
        let WorkPlanner { user, users, .. } = planner;
        let doc = WorkDoc {
            project_name: self.project_name(),
            recipient: person(&user),
            site: users
                .iter()
                .filter(|u| u.active && u.role == Role::Admin)
                .map(person)
                .collect(),
            authors: users
                .iter()
                .filter(|u| authors.contains(&u.fingerprint))
                .map(person)
                .collect(),
            schema: self.schema()?,
            guidelines: self.project_setting("guidelines")?,
            settings,
            items,
            prelabels,
            comments,
            acceptance: crate::controller::review::acceptance_of(conn, user.id)?,
            revoked: store::revoked_members(conn)?,
            membership: store::membership_log(conn)?,
            expires_at_ms: expires,
            site_head,
            laptop_heads: store::latest_peer_heads_by(conn, &user.fingerprint)?
                .into_iter()
                .map(|(chain, head)| ChainHead { chain, head })
                .collect(),
        };
        let recipient = PublicIdentity::parse(&user.public_key)?;
        let (package_id, sequence) =
            self.reserve_package(allowed, PackageKind::Work, std::slice::from_ref(&recipient))?;
        let item_ids: Vec<i64> = doc.items.iter().map(|i| i.id).collect();
        Ok(PlannedPackage {
            kind: PackageKind::Work,
            package_id,
            sequence,
            project_id: self.project_id().to_string(),
            recipients: vec![recipient],
            recipient_names: vec![format!("{} ({})", user.name, user.fingerprint)],
            item_ids,
            docs: vec![(WORK_DOC.into(), json_bytes(&doc)?)],
            media,
            paths: self.project.paths.clone(),
            blob_project_id: self.project_id().to_string(),
            on_success: vec![],
            privacy,
            allowed,
        })
    }

    /// Reads the settings and people a work package for `user` depends on.
    fn work_planner(&self, user: User) -> Result<WorkPlanner> {
        let conn = self.project.store.conn();
        let users = store::list_users(conn)?;
        let annotators: BTreeSet<String> = users
            .iter()
            .filter(|u| u.role == Role::Annotator && u.id != user.id)
            .map(|u| u.fingerprint.clone())
            .collect();
        let opaque_names = self.project_setting("package_names")? == "opaque";
        // Record fields travel only when allow-listed (by construction: a
        // field the admin never named cannot leave).
        let allowed_fields =
            crate::controller::workflow::parse_field_list(&self.project_setting("package_fields")?)
                .unwrap_or_default();
        let mask_names = self.project_setting("mask_classes")?;
        let mask_classes: BTreeSet<i64> = store::list_classes(conn)?
            .into_iter()
            .filter(|c| {
                mask_names
                    .split(',')
                    .map(str::trim)
                    .any(|n| !n.is_empty() && n == c.name)
            })
            .map(|c| c.id)
            .collect();
        Ok(WorkPlanner {
            user,
            users,
            annotators,
            opaque_names,
            allowed_fields,
            mask_classes,
            defaults: self.plan_defaults()?,
        })
    }

    /// Adds one assigned item to `parts`: its entry, how its media are
    /// made, the comments its recipient may read and (unless it is gold)
    /// its labels.
    fn plan_work_item(
        &self,
        p: &WorkPlanner,
        parts: &mut WorkParts,
        item_id: i64,
        purpose: &str,
        state: AssignmentState,
    ) -> Result<()> {
        let conn = self.project.store.conn();
        // Gold items look like any other: same purpose, no labels.
        let gold = store::is_gold(conn, item_id)?;
        let purpose = if purpose == "gold" {
            "annotate"
        } else {
            purpose
        };
        let summary = store::item_summary_by_id(conn, item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("item {item_id}")))?;
        let (blob_id, key) = store::item_blob(conn, item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
        let member = format!("media/{item_id}");
        let (summary_kind, summary_format) = (summary.kind, summary.format.clone());
        let mut plan = self.privacy_plan_with(item_id, &p.defaults)?;
        // Labels in a box can only be read once: an item keeps its
        // window for as long as it is out with this person.
        if let Some(sent) = store::sent_window(conn, item_id, p.user.id)?
            && sent != plan.window
        {
            return Err(CoreError::Invalid(format!(
                "item {item_id} went to {} with another window; its labels there are in that window's coordinates. Restore the window, or reassign the item to someone else",
                p.user.name
            )));
        }
        // Decided before mask-class regions join the plan (as always).
        let changes = plan.changes(summary_kind, &summary_format);
        let (extent, chars, secs) = plan
            .window
            .map(|w| w.extent())
            .unwrap_or((None, None, None));
        let out_format = if changes {
            plan.derived_format(summary_kind, &summary_format)
        } else {
            summary_format.clone()
        };
        let metadata = travelling_fields(
            &store::item_metadata(conn, item_id)?,
            &p.allowed_fields,
            &plan,
        );
        let has_fields = metadata != "{}";
        let mut item = WorkItem {
            id: item_id,
            kind: summary.kind,
            // File names can reveal who or where (`jane_doe_passport.jpg`):
            // the `package_names` setting replaces them with opaque ids.
            name: if p.opaque_names {
                opaque_name(item_id, &summary.name)
            } else {
                summary.name
            },
            format: out_format,
            width: extent.map(|e| e.0).or(summary.width),
            height: extent.map(|e| e.1).or(summary.height),
            duration_secs: secs.or(summary.duration_secs),
            char_len: chars.or(summary.char_len),
            metadata,
            purpose: purpose.to_string(),
            state,
            media: member.clone(),
            privacy_version: plan.version,
            privacy: SentPrivacy::default(),
        };
        for c in store::item_comments(conn, item_id)? {
            if readable_by(&c, &p.user) {
                parts.comments.push(CommentDoc {
                    id: c.id,
                    item_id: c.item_id,
                    annotation_id: c.annotation_id,
                    author: c.author.clone(),
                    body: c.body,
                    at_ms: c.at_ms,
                });
                parts.authors.insert(c.author);
            }
        }
        // Labels of a mask class (`mask_classes`) are filled too.
        if summary_kind == ItemKind::Image {
            plan.regions
                .extend(mask_class_regions(conn, item_id, &p.mask_classes)?);
        }
        // Byte offsets of spans sent in an excerpt index the excerpt.
        let excerpt = match (summary_kind, plan.window) {
            (ItemKind::Text, Some(_)) => {
                let bytes =
                    self.project
                        .paths
                        .read_blob(self.project.project_id(), &blob_id, &key)?;
                let d = derive(
                    summary_kind,
                    &summary_format,
                    &bytes,
                    &plan,
                    crate::controller::privacy::derive_limits(),
                )
                .map_err(|e| CoreError::Invalid(format!("item {item_id}: {e}")))?;
                Some(String::from_utf8_lossy(&d.bytes).into_owned())
            }
            _ => None,
        };
        parts.privacy.push((item_id, plan.version, plan.window));
        item.privacy = SentPrivacy::of(&plan, summary_kind, changes, has_fields);
        parts.items.push(item);
        let window = plan.window;
        let sent_plan = plan.clone();
        let transform = if changes {
            Transform::Derive {
                kind: summary_kind,
                format: summary_format.clone(),
                plan: Box::new(plan),
            }
        } else {
            Transform::AsIs
        };
        parts.media.push(MediaRef {
            member,
            blob_id,
            key,
            transform,
        });
        if gold {
            return Ok(());
        }
        self.plan_prelabels(p, parts, item_id, window, &sent_plan, excerpt.as_deref())
    }

    /// Adds an item's labels the recipient may see, in the coordinates of
    /// the window it is sent in and with transcripts masked like the text.
    fn plan_prelabels(
        &self,
        p: &WorkPlanner,
        parts: &mut WorkParts,
        item_id: i64,
        window: Option<Window>,
        sent_plan: &PrivacyPlan,
        excerpt: Option<&str>,
    ) -> Result<()> {
        let conn = self.project.store.conn();
        let origins: BTreeMap<i64, String> = store::annotation_records(conn, item_id)?
            .into_iter()
            .filter_map(|r| r.origin.map(|o| (r.id, o)))
            .collect();
        for a in store::list_annotations(conn, item_id)? {
            // An annotator never sees another annotator's work.
            if p.user.role == Role::Annotator && p.annotators.contains(&a.created_by) {
                continue;
            }
            let editor = store::last_editor(conn, a.id)?
                .and_then(|id| p.users.iter().find(|u| u.id == id))
                .map(|u| u.fingerprint.clone());
            if let Some(e) = &editor {
                parts.authors.insert(e.clone());
            }
            parts.authors.insert(a.created_by.clone());
            let origin = origins.get(&a.id).cloned();
            let mut geometry = match window {
                Some(w) => match w.to_window(&a.geometry) {
                    Some(g) => g,
                    None => {
                        parts.outside.insert(a.id);
                        continue;
                    }
                },
                None => a.geometry,
            };
            // Transcripts follow the same detection and masking.
            if let Some(transcript) = geometry.transcript_mut() {
                *transcript = sent_plan.mask_transcript(transcript);
            }
            // Span byte offsets index the excerpt the package carries.
            if let (Some((start, end)), Some(t)) = (geometry.char_range(), excerpt) {
                geometry.set_byte_range(
                    char_to_byte(t, start as usize)? as u64,
                    char_to_byte(t, end as usize)? as u64,
                );
            }
            parts.prelabels.push(PreLabel {
                site_id: a.id,
                item_id: a.item_id,
                revision: a.revision,
                author: a.created_by,
                editor,
                origin,
                source: a.source.clone(),
                score: a.score,
                draft: AnnotationDraft {
                    class_id: a.class_id,
                    geometry,
                    attributes: a.attributes,
                    hidden: a.hidden,
                    locked: a.locked,
                    z: a.z,
                },
            });
        }
        Ok(())
    }

    /// Plans, writes and records a work package in one call (CLI, tests).
    pub fn make_work_package(
        &mut self,
        to: &str,
        out: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<MadePackage> {
        self.make_work_package_expiring(to, out, None, progress)
    }

    /// [`Self::make_work_package`] with an expiry time (Unix ms).
    pub fn make_work_package_expiring(
        &mut self,
        to: &str,
        out: &Path,
        expires: Option<i64>,
        progress: ProgressFn<'_>,
    ) -> Result<MadePackage> {
        let plan = self.plan_work_package_expiring(to, expires)?;
        let outcome = plan.write(out, &self.identity, progress);
        self.finish_package(&plan, out, &outcome)
    }
}

/// Whether the recipient may read a comment: annotators read what they
/// wrote and what was written to them. A laptop's own comments came from
/// it and are not sent back.
fn readable_by(c: &CommentRow, user: &User) -> bool {
    let readable = user.role != Role::Annotator
        || c.author == user.fingerprint
        || c.to.as_deref() == Some(user.fingerprint.as_str());
    readable && c.origin.is_none()
}

/// The filled regions that hide an image's labels of a mask class.
fn mask_class_regions(
    conn: &store::Db,
    item_id: i64,
    mask_classes: &BTreeSet<i64>,
) -> Result<Vec<Region>> {
    Ok(store::list_annotations(conn, item_id)?
        .iter()
        .filter(|a| mask_classes.contains(&a.class_id))
        .filter_map(|a| crate::privacy::window::bounds(&a.geometry))
        .map(|[x0, y0, x1, y1]| Region {
            shape: Shape::Rect {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
            },
            style: RegionStyle::Fill,
        })
        .collect())
}

impl SentPrivacy {
    /// What was done, one phrase each, for `package inspect` (CLI and GUI).
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .window
            .iter()
            .map(|w| format!("window {}", w.describe()))
            .collect();
        out.extend(self.masks.iter().cloned());
        if self.auto_pii {
            out.push("automatic PII masking".into());
        }
        if self.metadata_stripped {
            out.push("metadata stripped".into());
        }
        if self.unchanged {
            out.push("sent as stored".into());
        }
        out
    }

    pub(super) fn of(
        plan: &PrivacyPlan,
        kind: ItemKind,
        changes: bool,
        has_fields: bool,
    ) -> SentPrivacy {
        let mut masks: Vec<String> = plan
            .text_spans
            .iter()
            .map(|&(start, end, pii_type)| {
                MaskSpec::Text {
                    start,
                    end,
                    pii_type,
                }
                .describe()
            })
            .collect();
        masks.extend(
            plan.regions
                .iter()
                .map(|r| MaskSpec::Region { region: r.clone() }.describe()),
        );
        masks.extend(
            plan.audio
                .iter()
                .map(|r| MaskSpec::Audio { range: *r }.describe()),
        );
        SentPrivacy {
            window: plan.window,
            masks,
            // Detection reads texts, transcripts and field values, not pixels.
            auto_pii: plan.auto.is_some() && (kind != ItemKind::Image || has_fields),
            metadata_stripped: changes && kind != ItemKind::Text,
            unchanged: !changes,
        }
    }
}

/// An item's record fields as they travel: only the allow-listed ones,
/// each string (numbers too: a phone number is often stored as one)
/// masked by the plan's automatic detection.
fn travelling_fields(metadata: &str, allowed: &[String], plan: &PrivacyPlan) -> String {
    let Ok(serde_json::Value::Object(all)) = serde_json::from_str::<serde_json::Value>(metadata)
    else {
        return "{}".into();
    };
    fn masked(value: &serde_json::Value, plan: &PrivacyPlan) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(plan.mask_transcript(s)),
            Value::Number(n) => {
                let text = n.to_string();
                let out = plan.mask_transcript(&text);
                if out == text {
                    value.clone()
                } else {
                    Value::String(out)
                }
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| masked(v, plan)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), masked(v, plan)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let kept: serde_json::Map<String, serde_json::Value> = allowed
        .iter()
        .filter_map(|name| all.get(name).map(|v| (name.clone(), masked(v, plan))))
        .collect();
    serde_json::Value::Object(kept).to_string()
}

/// An item's name in a package when names are opaque: its id and the
/// extension only (`item-000042.jpg`; a record of a JSONL file keeps no
/// trace of the file or record id).
fn opaque_name(item_id: i64, name: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    format!("item-{item_id:06}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn expiry_up_to_the_limit_is_accepted() {
        let now = 1_700_000_000_000;
        check_expiry(now + 1, now).unwrap();
        check_expiry(now + MAX_EXPIRY_DAYS * DAY_MS, now).unwrap();
    }

    #[test]
    fn fail_expiry_past_or_beyond_the_limit() {
        let now = 1_700_000_000_000;
        let past = check_expiry(now, now).unwrap_err().to_string();
        assert!(past.contains("already past"), "{past}");
        let far = check_expiry(now + MAX_EXPIRY_DAYS * DAY_MS + 1, now)
            .unwrap_err()
            .to_string();
        assert!(far.contains("more than 3650 days ahead"), "{far}");
    }
}
