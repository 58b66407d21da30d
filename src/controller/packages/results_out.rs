//! Making a results package on the laptop: the labels changed since the
//! last one (every label with `full`) as revisions on top of what the site
//! sent, item states and skip reasons, comments and incidents, and the
//! audit rows since the last package under a freshly signed head. It is
//! sealed to the site admins the work package named.

use crate::controller::Event;
use crate::events::AuditAction;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;

use super::wire::{
    AUDIT_DOC, AnnotationDoc, AuditDoc, CommentDoc, IncidentDoc, ItemResult, Person, RESULTS_DOC,
    ResultsDoc, RevisionDoc, json_bytes,
};
use super::{MadePackage, PlannedPackage, SITE_ORIGIN};
use crate::audit::SignedHead;
use crate::controller::{CoreError, Result, Session};
use crate::crypto::PublicIdentity;
use crate::model::{AuditEntry, now_ms};
use crate::package::{PackageKind, ProgressFn};
use crate::permissions::Action;
use crate::store;

impl Session {
    /// Plans the results package of a laptop bundle: labels changed since
    /// the last one (everything with `full`), item states and skip
    /// reasons, and the audit rows since the last one with a signed head.
    pub fn plan_results_package(&mut self, full: bool) -> Result<PlannedPackage> {
        let allowed = self.allow(Action::MakeResults, None)?;
        let origin = self.origin_project().ok_or_else(|| {
            CoreError::Invalid(
                "this project was not made from a work package; results go back from a laptop bundle"
                    .into(),
            )
        })?;
        let conn = self.project.store.conn();
        let (site, recipients) = site_recipients(conn)?;
        let watermark = |key: &str| -> Result<i64> {
            Ok(if full {
                0
            } else {
                store::meta(conn, key)?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            })
        };
        let last_rev = watermark("results_last_rev_row")?;
        let last_at = watermark("results_last_at")?;
        let last_audit = watermark("results_last_audit_seq")?;
        let last_comment = watermark("results_last_comment")?;
        let comments: Vec<CommentDoc> = store::comments_by_since(conn, self.user.id, last_comment)?
            .into_iter()
            .map(|c| CommentDoc {
                id: c.id,
                item_id: c.item_id,
                annotation_id: c.annotation_id,
                author: c.author,
                body: c.body,
                at_ms: c.at_ms,
            })
            .collect();
        let comment_row = store::max_comment_id(conn)?;
        let last_incident = watermark("results_last_incident")?;
        let incidents: Vec<IncidentDoc> = store::incidents_after(conn, last_incident)?
            .into_iter()
            .map(|i| IncidentDoc {
                id: i.id,
                item_id: i.item_id,
                kind: i.kind,
                reason: i.reason,
                at_ms: i.at_ms,
            })
            .collect();
        let incident_row = incidents.last().map_or(last_incident, |i| i.id);
        let mut changed: BTreeSet<i64> = store::items_changed_since(conn, last_rev, last_at)?
            .into_iter()
            .collect();
        changed.extend(comments.iter().map(|c| c.item_id));
        let items = item_results(conn, self.user.id, &changed)?;
        let rev_row = store::max_revision_row(conn)?;
        let (package_id, sequence) =
            self.reserve_package(allowed, PackageKind::Results, &recipients)?;
        // The segment ends with this package's own creation event, under a
        // head signed now: the site can tell if rows were cut off.
        let item_ids: Vec<i64> = items.iter().map(|i| i.item_id).collect();
        let at = now_ms();
        self.commit(allowed, |_| {
            Ok((
                (),
                Event::new(
                    AuditAction::PackageResults,
                    format!("package:{package_id}"),
                    json!({"sequence": sequence, "items": item_ids, "full": full}),
                ),
            ))
        })?;
        self.sign_audit_head()?;
        let conn = self.project.store.conn();
        let rows: Vec<AuditEntry> = store::audit_rows(conn)?
            .into_iter()
            .filter(|r| r.seq > last_audit)
            .collect();
        let last_seq = rows.last().map(|r| r.seq).unwrap_or(last_audit);
        let heads: Vec<SignedHead> = store::signed_heads(conn)?
            .into_iter()
            .filter(|h| h.seq > last_audit && h.signer == self.user.fingerprint)
            .collect();
        let results = ResultsDoc {
            laptop_project_id: self.project_id().to_string(),
            full,
            items,
            comments,
            incidents,
        };
        let audit_doc = AuditDoc {
            chain: self.project_id().to_string(),
            rows,
            heads,
            site_head_seen: store::seen_head(conn, &origin)?,
        };
        Ok(PlannedPackage {
            kind: PackageKind::Results,
            package_id,
            sequence,
            project_id: origin,
            recipient_names: site
                .iter()
                .map(|p| format!("{} ({})", p.name, p.fingerprint))
                .collect(),
            recipients,
            item_ids,
            docs: vec![
                (RESULTS_DOC.into(), json_bytes(&results)?),
                (AUDIT_DOC.into(), json_bytes(&audit_doc)?),
            ],
            media: vec![],
            paths: self.project.paths.clone(),
            blob_project_id: self.project_id().to_string(),
            on_success: vec![
                ("results_last_rev_row".into(), rev_row.to_string()),
                ("results_last_at".into(), at.to_string()),
                ("results_last_audit_seq".into(), last_seq.to_string()),
                ("results_last_comment".into(), comment_row.to_string()),
                ("results_last_incident".into(), incident_row.to_string()),
            ]
            .into_iter()
            .chain(
                // After expiry one results package may still leave.
                self.expired()
                    .then(|| ("expired_results_sent".to_string(), "1".to_string())),
            )
            .collect(),
            privacy: vec![],
            allowed,
        })
    }

    /// Plans, writes and records a results package in one call.
    pub fn make_results_package(
        &mut self,
        out: &Path,
        full: bool,
        progress: ProgressFn<'_>,
    ) -> Result<MadePackage> {
        let plan = self.plan_results_package(full)?;
        let outcome = plan.write(out, &self.identity, progress);
        self.finish_package(&plan, out, &outcome)
    }
}

/// The site admins the work package named, and their keys: results are
/// sealed to them.
fn site_recipients(conn: &store::Db) -> Result<(Vec<Person>, Vec<PublicIdentity>)> {
    let site: Vec<Person> =
        serde_json::from_str(&store::meta(conn, "site_recipients")?.unwrap_or_else(|| "[]".into()))
            .map_err(|e| CoreError::Invalid(format!("stored site keys are invalid: {e}")))?;
    let recipients = site
        .iter()
        .map(|p| PublicIdentity::parse(&p.public_key).map_err(CoreError::from))
        .collect::<Result<Vec<_>>>()?;
    if recipients.is_empty() {
        return Err(CoreError::Invalid(
            "the work package named no site admin to send results to".into(),
        ));
    }
    Ok((site, recipients))
}

/// The state and the laptop's own label revisions of each of `me`'s
/// assigned items in `changed`.
fn item_results(conn: &store::Db, me: i64, changed: &BTreeSet<i64>) -> Result<Vec<ItemResult>> {
    let mut items = Vec::new();
    for (item_id, purpose, state, reason) in store::assignments_of(conn, me)? {
        if !changed.contains(&item_id) {
            continue;
        }
        items.push(ItemResult {
            item_id,
            purpose,
            state,
            reason,
            annotations: annotation_docs(conn, me, item_id)?,
        });
    }
    Ok(items)
}

/// An item's labels with revisions made here, each with only those
/// revisions on top of the newest one that came from the site.
fn annotation_docs(conn: &store::Db, me: i64, item_id: i64) -> Result<Vec<AnnotationDoc>> {
    let mut annotations = Vec::new();
    for record in store::annotation_records(conn, item_id)? {
        let site_id = record
            .origin
            .as_deref()
            .and_then(|o| o.strip_prefix(SITE_ORIGIN))
            .and_then(|n| n.parse::<i64>().ok());
        let revisions = store::revision_records(conn, record.id)?;
        // The newest revision that came from the site (a pre-label,
        // a reviewer's correction): the laptop's own work follows it.
        let base_revision = revisions
            .iter()
            .filter(|r| r.actor != me)
            .map(|r| r.revision)
            .max()
            .unwrap_or(0);
        let revisions: Vec<RevisionDoc> = revisions
            .into_iter()
            .filter(|r| r.revision > base_revision && r.actor == me)
            .map(|r| RevisionDoc {
                revision: r.revision,
                op: r.op,
                draft: r.draft,
                deleted: r.deleted,
                at_ms: r.at_ms,
            })
            .collect();
        if revisions.is_empty() {
            continue;
        }
        annotations.push(AnnotationDoc {
            local_id: record.id,
            site_id,
            base_revision,
            revisions,
        });
    }
    Ok(annotations)
}
