//! Opening a results package at the site: every check first (decryption,
//! format, project, signer, revocation, replay, member hashes, items sent
//! to the signer, the audit segment), then one transaction merges labels,
//! states, comments, incidents and the laptop's audit rows. A refused
//! package leaves only a `package.rejected` audit row.

use crate::events::AuditAction;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::wire::{
    AUDIT_DOC, AnnotationDoc, AuditDoc, ItemResult, MAX_DOC_BYTES, RESULTS_DOC, ResultsDoc,
    parse_doc,
};
use super::{
    MergeReport, char_to_byte, check_replay, kind_name, manifest_hash, package_err, refused,
};
use crate::audit;
use crate::bundle::BundlePaths;
use crate::controller::{Allowed, CoreError, Event, Result, Session};
use crate::crypto::PublicIdentity;
use crate::model::{AssignmentState, Role, User, now_ms};
use crate::package::{self, Manifest, PackageKind, ProgressFn};
use crate::permissions::Action;
use crate::privacy::derive::PrivacyPlan;
use crate::privacy::window::Window;
use crate::store::{self, PackageRow};

/// What merging one package's items needs besides the transaction.
struct MergeContext<'a> {
    package_id: &'a str,
    /// The signer's user id at the site.
    annotator: i64,
    /// The laptop bundle's project id (the origin of its labels).
    laptop: &'a str,
    /// Per item: the window it was sent in.
    windows: BTreeMap<i64, Window>,
    /// Per item: the masking it was sent with.
    plans: BTreeMap<i64, PrivacyPlan>,
    paths: BundlePaths,
    project_id: String,
    /// Results of a revoked signer, accepted by an admin: every item is
    /// kept as a conflict with this reason.
    revoked: Option<String>,
}

impl Session {
    /// Writes the audit row of a refused package and returns the refusal.
    fn reject_package(&mut self, allowed: Allowed, file: &Path, err: CoreError) -> CoreError {
        let check = match &err {
            CoreError::PackageRefused { check, .. } => Some(check.clone()),
            _ => None,
        };
        let details = json!({
            "file": file.file_name().map(|n| n.to_string_lossy().into_owned()),
            "check": check,
            "reason": err.to_string(),
        });
        if let Err(e) = self.commit(allowed, |_| {
            Ok((
                (),
                Event::new(AuditAction::PackageRejected, "package", details),
            ))
        }) {
            return e;
        }
        err
    }

    /// Verifies a results package and merges it (admin at the site). Any
    /// failed check writes only a `package.rejected` audit row.
    pub fn open_results_package(
        &mut self,
        file: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<MergeReport> {
        let allowed = self.allow(Action::MakePackage, Some("open a results package".into()))?;
        match self.verify_results(file, progress, false) {
            Ok(verified) => self.merge_results(allowed, verified),
            Err(CoreError::Cancelled) => Err(CoreError::Cancelled),
            Err(e) => Err(self.reject_package(allowed, file, e)),
        }
    }

    /// [`Session::open_results_package`] for a package signed by a
    /// member since removed (revoked), which is otherwise refused whatever
    /// time it claims: an admin's explicit decision (CLI `package open
    /// --accept-revoked`), audited as `package.accept_revoked`. Nothing is
    /// merged directly: every item's results are kept as a conflict for
    /// review. Every other check still applies.
    pub fn open_results_package_accept_revoked(
        &mut self,
        file: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<MergeReport> {
        self.allow(
            Action::ManageUsers,
            Some("accept results from a revoked key".into()),
        )?;
        let allowed = self.allow(Action::MakePackage, Some("open a results package".into()))?;
        match self.verify_results(file, progress, true) {
            Ok(verified) => self.merge_results(allowed, verified),
            Err(CoreError::Cancelled) => Err(CoreError::Cancelled),
            Err(e) => Err(self.reject_package(allowed, file, e)),
        }
    }

    fn verify_results(
        &self,
        file: &Path,
        progress: ProgressFn<'_>,
        accept_revoked: bool,
    ) -> Result<VerifiedResults> {
        let mut opened = super::open_file(file, &self.identity)?;
        let m = opened.manifest.clone();
        if m.kind != PackageKind::Results {
            return Err(refused(
                "format",
                format!(
                    "this is a {} package, not a results package",
                    kind_name(m.kind)
                ),
            ));
        }
        if m.project_id != self.project_id() {
            return Err(refused(
                "project",
                format!(
                    "the package belongs to project {}, not this one ({})",
                    m.project_id,
                    self.project_id()
                ),
            ));
        }
        let conn = self.project.store.conn();
        let (signer, revoked_at) = check_signer(conn, &m, accept_revoked)?;
        check_replay(conn, &m, "applied", Some(&signer.name))?;
        // Results hold JSON only: read whole (bounded), hashes checked.
        let total = opened.total_bytes();
        let mut docs = BTreeMap::new();
        while let Some(member) = opened.next_member_bytes(MAX_DOC_BYTES) {
            let (entry, bytes) = member.map_err(package_err)?;
            docs.insert(entry.name, bytes);
        }
        opened.verify_end().map_err(package_err)?;
        if !progress(package::Progress {
            phase: "reading",
            done: total,
            total,
        }) {
            return Err(CoreError::Cancelled);
        }
        let (Some(results), Some(audit_doc)) = (docs.get(RESULTS_DOC), docs.get(AUDIT_DOC)) else {
            return Err(refused(
                "format",
                "a results package holds results.json and audit.json",
            ));
        };
        let results: ResultsDoc = parse_doc(RESULTS_DOC, results)?;
        let audit_doc: AuditDoc = parse_doc(AUDIT_DOC, audit_doc)?;
        check_site_rollback(conn, &audit_doc, &signer)?;
        check_items_sent(conn, &results, &signer)?;
        if audit_doc.chain != results.laptop_project_id {
            return Err(refused(
                "audit segment",
                "the audit segment belongs to another bundle than the results",
            ));
        }
        let signer_key = PublicIdentity::parse(&signer.public_key)?;
        check_segment(conn, &audit_doc, &signer, &signer_key)?;
        Ok(VerifiedResults {
            manifest: m,
            signer,
            results,
            audit: audit_doc,
            before_revocation: revoked_at.is_some(),
            revoked_at,
        })
    }

    fn merge_results(&mut self, allowed: Allowed, v: VerifiedResults) -> Result<MergeReport> {
        let mut report = MergeReport {
            package_id: v.manifest.package_id.clone(),
            sender: v.manifest.sender.clone(),
            sequence: v.manifest.sequence,
            audit_rows_added: v.audit.rows.len(),
            signed_before_revocation: v.before_revocation,
            ..MergeReport::default()
        };
        let annotator = v.signer.id;
        let hash = manifest_hash(&v.manifest);
        let mut ctx = MergeContext {
            package_id: &v.manifest.package_id,
            annotator,
            laptop: &v.results.laptop_project_id,
            windows: BTreeMap::new(),
            plans: BTreeMap::new(),
            paths: self.project.paths.clone(),
            project_id: self.project_id().to_string(),
            revoked: v.before_revocation.then(|| {
                format!(
                    "signed by {}, whose key is revoked: accepted by an admin with --accept-revoked; review before use",
                    v.manifest.sender
                )
            }),
        };
        // Labels come back in the coordinates of the window each item was
        // sent in, and transcripts with the masking they were sent with.
        let defaults = self.plan_defaults()?;
        for item in &v.results.items {
            let conn = self.project.store.conn();
            if let Some(Some(w)) = store::sent_window(conn, item.item_id, annotator)? {
                ctx.windows.insert(item.item_id, w);
            }
            ctx.plans.insert(
                item.item_id,
                self.privacy_plan_with(item.item_id, &defaults)?,
            );
        }
        let report = self.commit(allowed, |tx| {
            for item in &v.results.items {
                merge_item(tx, &ctx, item, &mut report)?;
            }
            merge_comments(tx, &ctx, &v.results, &mut report)?;
            let mut rows = merge_incidents(tx, &ctx, &v, &mut report)?;
            let gold =
                crate::controller::quality::score_gold_items(tx, annotator, &report.items_merged)?;
            report.gold_scores = gold;
            for row in &v.audit.rows {
                store::insert_peer_audit(tx, &v.audit.chain, row)?;
            }
            for head in &v.audit.heads {
                store::insert_peer_head(tx, &v.audit.chain, head)?;
            }
            store::insert_package(
                tx,
                &PackageRow {
                    id: v.manifest.package_id.clone(),
                    kind: "results".into(),
                    direction: "in".into(),
                    sender: v.manifest.sender.clone(),
                    recipients: v.manifest.recipients.clone(),
                    sequence: v.manifest.sequence as i64,
                    manifest_sha256: hash.clone(),
                    at_ms: now_ms(),
                    summary: json!({
                        "items": report.items_merged,
                        "conflicts": report.conflicts,
                    })
                    .to_string(),
                },
            )?;
            if v.before_revocation {
                rows.push(Event::new(
                    AuditAction::PackageAcceptRevoked,
                    format!("package:{}", v.manifest.package_id),
                    json!({
                        "sender": v.manifest.sender,
                        "claimed_created_ms": v.manifest.created_ms,
                        "revoked_at_ms": v.revoked_at,
                        "conflicts": report.conflicts.len(),
                    }),
                ));
            }
            rows.push(Event::new(
                AuditAction::PackageMerge,
                format!("package:{}", v.manifest.package_id),
                json!({
                    "sender": v.manifest.sender,
                    "sequence": v.manifest.sequence,
                    "items": report.items_merged,
                    "labels_created": report.labels_created,
                    "revisions_added": report.revisions_added,
                    "conflicts": report.conflicts,
                    "comments": report.comments_added,
                    "incidents": report.incidents_added,
                    "signed_before_revocation": report.signed_before_revocation,
                    "gold_scores": report.gold_scores,
                    "audit_chain": v.audit.chain,
                    "audit_rows": report.audit_rows_added,
                    "manifest_sha256": hash,
                }),
            ));
            Ok((report, rows))
        })?;
        Ok(report)
    }
}

/// The signer check: enrolled with the key that signed, an annotator or
/// reviewer, and not removed. A removed member's key is revoked whatever
/// time the package claims (`created_ms` is the sender's word); with
/// `accept_revoked` (an admin's audited decision) it is accepted and
/// marked (the second value: when the key was revoked).
fn check_signer(
    conn: &store::Db,
    m: &Manifest,
    accept_revoked: bool,
) -> Result<(User, Option<i64>)> {
    let signer = store::user_by_fingerprint(conn, &m.sender)?;
    let signer = match signer {
        Some(u) if u.public_key == m.sender_key => u,
        _ => {
            return Err(refused(
                "signer",
                format!("{} is not enrolled in this project", m.sender),
            ));
        }
    };
    if !matches!(signer.role, Role::Annotator | Role::Reviewer) {
        return Err(refused(
            "signer",
            format!(
                "{} is a project {}; results come from annotators and reviewers",
                signer.name, signer.role
            ),
        ));
    }
    let mut revoked_at = None;
    if !signer.active {
        match store::revoked_at(conn, &signer.fingerprint)? {
            Some(at) if accept_revoked => revoked_at = Some(at),
            Some(at) => {
                return Err(refused(
                    "revocation",
                    format!(
                        "{} ({})'s key was revoked at {}; a package signed by a revoked key is refused whatever time it claims (this one says {}). An admin may accept its results, kept as conflicts for review, with --accept-revoked",
                        signer.name,
                        signer.fingerprint,
                        crate::model::format_time(at),
                        crate::model::format_time(m.created_ms)
                    ),
                ));
            }
            None => {
                return Err(refused(
                    "signer",
                    format!(
                        "{} ({}) was removed from this project",
                        signer.name, signer.fingerprint
                    ),
                ));
            }
        }
    }
    Ok((signer, revoked_at))
}

/// The item check: results and incidents only about items that were sent
/// to the signer in a work package.
fn check_items_sent(conn: &store::Db, results: &ResultsDoc, signer: &User) -> Result<()> {
    let sent: BTreeSet<i64> = store::items_sent_to(conn, signer.id)?.into_iter().collect();
    for incident in &results.incidents {
        if !sent.contains(&incident.item_id) {
            return Err(refused(
                "item",
                format!(
                    "incident {} is about item {}, which was never sent to {}",
                    incident.id, incident.item_id, signer.name
                ),
            ));
        }
    }
    for item in &results.items {
        if !sent.contains(&item.item_id) {
            return Err(refused(
                "item",
                format!(
                    "item {} was never sent to {} in a work package",
                    item.item_id, signer.name
                ),
            ));
        }
    }
    Ok(())
}

/// Merges one item's results: its new label revisions (mapped back from
/// the window, transcripts unmasked, span bytes from the site's text) and
/// its state — or keeps it as a conflict for the admin.
fn merge_item(
    tx: &store::Tx<'_>,
    ctx: &MergeContext<'_>,
    item: &ItemResult,
    report: &mut MergeReport,
) -> store::Result<()> {
    let (annotator, laptop) = (ctx.annotator, ctx.laptop);
    // Nothing new: the laptop only echoes the state the site
    // sent it (e.g. an approval).
    let site_state = store::assignment_state(tx, item.item_id, annotator)?;
    if site_state.as_ref().map(|(s, _)| s.as_str()) == Some(item.state.as_str())
        && !has_new_revisions(tx, item, laptop)?
    {
        return Ok(());
    }
    let conflict = match &ctx.revoked {
        Some(reason) => Some(reason.clone()),
        None => item_conflict(tx, item, annotator, laptop)?,
    };
    if let Some(reason) = conflict {
        store::insert_conflict(
            tx,
            ctx.package_id,
            item.item_id,
            &reason,
            &serde_json::to_string(item).unwrap_or_default(),
        )?;
        report.conflicts.push((item.item_id, reason));
        return Ok(());
    }
    let mut text: Option<String> = None;
    for a in &item.annotations {
        let origin = format!("{laptop}:{}", a.local_id);
        let (mut target, current) = merge_target(tx, a, laptop)?;
        for r in a.revisions.iter().filter(|r| r.revision > current) {
            // Byte offsets of spans come from the site's own text
            // (the laptop's may have been masked).
            let mut draft = r.draft.clone();
            if let Some(w) = ctx.windows.get(&item.item_id) {
                draft.geometry = w.from_window(&draft.geometry);
            }
            if let (Some(id), Some(plan), Some(transcript)) = (
                target,
                ctx.plans.get(&item.item_id),
                draft.geometry.transcript_mut(),
            ) && let Some(original) = store::annotation_geometry(tx, id)?
                && let Some(original) = original.transcript()
            {
                *transcript =
                    unmask_transcript(original, &plan.mask_transcript(original), transcript);
            }
            if let Some((start, end)) = draft.geometry.char_range() {
                // Decrypted once per item, however many spans.
                if text.is_none() {
                    text = Some(site_text(tx, &ctx.paths, &ctx.project_id, item.item_id)?);
                }
                let t = text.as_deref().unwrap_or_default();
                draft.geometry.set_byte_range(
                    char_to_byte(t, start as usize)? as u64,
                    char_to_byte(t, end as usize)? as u64,
                );
            }
            let rev = store::Revision {
                item_id: item.item_id,
                draft: &draft,
                deleted: r.deleted,
                op: &r.op,
                actor: annotator,
            };
            let (id, _) = store::write_annotation_at(tx, target, &rev, r.at_ms)?;
            if target.is_none() {
                store::set_annotation_origin(tx, id, &origin)?;
                report.labels_created += 1;
            }
            target = Some(id);
            report.revisions_added += 1;
        }
    }
    // The site's own purpose (a gold item travels as "annotate").
    let purpose = store::item_assignments(tx, item.item_id)?
        .into_iter()
        .filter(|(u, p, _, _)| *u == annotator && p != "review")
        .map(|(_, p, _, _)| p)
        .next()
        .unwrap_or_else(|| item.purpose.clone());
    store::put_assignment(
        tx,
        item.item_id,
        annotator,
        &purpose,
        item.state,
        item.reason.as_deref(),
    )?;
    report.items_merged.push(item.item_id);
    Ok(())
}

/// The laptop's new comments, each once, except on conflicted items.
fn merge_comments(
    tx: &store::Tx<'_>,
    ctx: &MergeContext<'_>,
    results: &ResultsDoc,
    report: &mut MergeReport,
) -> store::Result<()> {
    let laptop = ctx.laptop;
    let conflicted: BTreeSet<i64> = report.conflicts.iter().map(|(i, _)| *i).collect();
    for c in &results.comments {
        let origin = format!("{laptop}:c{}", c.id);
        if conflicted.contains(&c.item_id) || store::comment_origin_known(tx, &origin)? {
            continue;
        }
        let annotation_id = match c.annotation_id {
            Some(local) => store::annotation_by_origin(tx, &format!("{laptop}:{local}"))?
                .map(|(id, _)| id)
                .or_else(|| {
                    // A comment on a label that began at the site.
                    results
                        .items
                        .iter()
                        .flat_map(|i| &i.annotations)
                        .find(|a| a.local_id == local)
                        .and_then(|a| a.site_id)
                }),
            None => None,
        };
        store::insert_comment(
            tx,
            &store::NewComment {
                item_id: c.item_id,
                annotation_id,
                author: ctx.annotator,
                to_user: None,
                body: &c.body,
                at_ms: c.at_ms,
                origin: Some(&origin),
            },
        )?;
        report.comments_added += 1;
    }
    Ok(())
}

/// The incidents the annotator reported, each once, into the site's
/// queue; returns their audit rows, one each.
fn merge_incidents(
    tx: &store::Tx<'_>,
    ctx: &MergeContext<'_>,
    v: &VerifiedResults,
    report: &mut MergeReport,
) -> store::Result<Vec<Event>> {
    let mut rows = Vec::new();
    for i in &v.results.incidents {
        let origin = format!("{}:i{}", ctx.laptop, i.id);
        if store::incident_origin_known(tx, &origin)?
            || !crate::controller::INCIDENT_KINDS.contains(&i.kind.as_str())
        {
            continue;
        }
        let id = store::insert_incident(
            tx,
            &store::NewIncident {
                item_id: i.item_id,
                reporter: ctx.annotator,
                kind: &i.kind,
                reason: &i.reason,
                at_ms: i.at_ms,
                origin: Some(&origin),
            },
        )?;
        rows.push(Event::new(
            AuditAction::IncidentReport,
            format!("item:{}", i.item_id),
            json!({"incident": id, "kind": i.kind, "reporter": v.manifest.sender, "package": v.manifest.package_id}),
        ));
        report.incidents_added += 1;
    }
    Ok(rows)
}

/// A results package that passed every check, ready to merge.
struct VerifiedResults {
    manifest: Manifest,
    signer: crate::model::User,
    results: ResultsDoc,
    audit: AuditDoc,
    /// Signed by a member since removed, accepted by an admin anyway.
    before_revocation: bool,
    revoked_at: Option<i64>,
}

/// An item's text at the site, decrypted in memory.
fn site_text(
    conn: &store::Db,
    paths: &BundlePaths,
    project_id: &str,
    item_id: i64,
) -> store::Result<String> {
    let (blob, key) = store::item_blob(conn, item_id)?
        .ok_or_else(|| store::StoreError::Invalid(format!("item {item_id} has no blob")))?;
    let bytes = paths
        .read_blob(project_id, &blob, &key)
        .map_err(|e| store::StoreError::Invalid(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A transcript that came back from a laptop, where it was masked: the
/// characters the annotator left masked get the site's original back,
/// their edits stay. When the length changed, the positions no longer
/// line up and the laptop's text is kept as it is.
fn unmask_transcript(original: &str, sent: &str, back: &str) -> String {
    if back == sent {
        return original.to_string();
    }
    let (o, s, b): (Vec<char>, Vec<char>, Vec<char>) = (
        original.chars().collect(),
        sent.chars().collect(),
        back.chars().collect(),
    );
    if o.len() != s.len() || s.len() != b.len() {
        return back.to_string();
    }
    (0..b.len())
        .map(|i| {
            if b[i] == s[i] && s[i] != o[i] {
                o[i]
            } else {
                b[i]
            }
        })
        .collect()
}

/// The site label a laptop label merges into — the pre-label it began as,
/// or the one an earlier merge created from it — and its current revision
/// (0 when there is none yet).
fn merge_target(
    conn: &store::Db,
    a: &AnnotationDoc,
    laptop: &str,
) -> store::Result<(Option<i64>, i64)> {
    let target = match a.site_id {
        Some(id) => Some(id),
        None => store::annotation_by_origin(conn, &format!("{laptop}:{}", a.local_id))?
            .map(|(id, _)| id),
    };
    let current = match target {
        Some(id) => store::annotation_state(conn, id)?.map_or(0, |s| s.revision),
        None => 0,
    };
    Ok((target, current))
}

/// Whether any label revision in `item` is newer than the site's copy.
fn has_new_revisions(conn: &store::Db, item: &ItemResult, laptop: &str) -> store::Result<bool> {
    for a in &item.annotations {
        let (_, current) = merge_target(conn, a, laptop)?;
        if a.revisions.iter().any(|r| r.revision > current) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Why an item's results cannot be merged, if they cannot.
fn item_conflict(
    conn: &store::Db,
    item: &ItemResult,
    annotator: i64,
    laptop: &str,
) -> store::Result<Option<String>> {
    let Some((state, _)) = store::assignment_state(conn, item.item_id, annotator)? else {
        return Ok(Some(
            "reassigned: the item is no longer assigned to this annotator".into(),
        ));
    };
    if state == AssignmentState::Approved {
        return Ok(Some("already approved at the site".into()));
    }
    for a in &item.annotations {
        let (Some(id), _) = merge_target(conn, a, laptop)? else {
            continue;
        };
        match store::annotation_state(conn, id)? {
            Some(s) if s.item_id != item.item_id => {
                return Ok(Some(format!("label {id} belongs to another item")));
            }
            None => return Ok(Some(format!("label {id} no longer exists at the site"))),
            Some(_) => {}
        }
        if store::revisions_by_others_after(conn, id, a.base_revision, annotator)? > 0 {
            return Ok(Some(format!(
                "label {id} was changed at the site since the work package was made"
            )));
        }
    }
    Ok(None)
}

/// The head of this site's own trail the laptop saw in its work packages
/// must still be in the trail with the hash it had: a site bundle restored
/// from an older copy, or whose trail was cut back or rewritten since, is
/// caught the first time it meets a laptop it sent work to.
fn check_site_rollback(
    conn: &store::Db,
    doc: &AuditDoc,
    signer: &crate::model::User,
) -> Result<()> {
    let Some(seen) = &doc.site_head_seen else {
        return Ok(());
    };
    let fail = |why: String| {
        Err(refused(
            "rollback",
            format!(
                "{why}: this site's bundle was restored from an older copy, or its audit trail was cut back or rewritten; run `sealtag audit verify` with your checkpoints and find out what happened before merging"
            ),
        ))
    };
    match store::audit_hash_at(conn, seen.seq)? {
        None => fail(format!(
            "{} has seen this site's audit trail reach row {} (signed by {}), but it now ends before that",
            signer.name, seen.seq, seen.signer
        )),
        Some(hash) if hash != seen.hash => fail(format!(
            "row {} of this site's audit trail differs from the one {} saw (signed by {})",
            seen.seq, signer.name, seen.signer
        )),
        Some(_) => Ok(()),
    }
}

/// Checks an audit segment: it continues the chain held for that bundle
/// (or starts it), every row hashes and links, and a head signed by the
/// annotator covers its last row.
fn check_segment(
    conn: &store::Db,
    doc: &AuditDoc,
    signer: &crate::model::User,
    key: &PublicIdentity,
) -> Result<()> {
    let fail = |why: String| refused("audit segment", why);
    let (mut seq, mut prev) = match store::peer_audit_tip(conn, &doc.chain)? {
        Some(tip) => tip,
        None => (0, audit::genesis_hash(&doc.chain)),
    };
    // The laptop's trail now ends at or before what this site already
    // holds of it, or holds another row where the site's copy ends: it was
    // restored from an older copy, cut back or rewritten.
    let forked = doc.rows.iter().any(|r| r.seq == seq && r.hash != prev)
        || doc
            .rows
            .first()
            .is_some_and(|r| r.seq == seq + 1 && r.prev_hash != prev);
    if let Some(last) = doc.rows.last()
        && seq > 0
        && (last.seq <= seq || forked)
    {
        return Err(refused(
            "rollback",
            format!(
                "the laptop's audit trail now ends at row {} and does not continue the {seq} rows of it this site already holds (from {}): the laptop bundle was restored from an older copy or its trail was cut back or rewritten; do not merge it, and ask {} what happened",
                last.seq, signer.name, signer.name
            ),
        ));
    }
    if let Some(first) = doc.rows.first()
        && first.seq != seq + 1
    {
        return Err(fail(format!(
            "it starts at row {} but this site holds rows up to {seq} of that chain; an earlier results package is missing (apply it, or ask for one made with --full)",
            first.seq
        )));
    }
    for row in &doc.rows {
        if row.seq != seq + 1 || row.prev_hash != prev {
            return Err(fail(format!(
                "row {} does not link to the row before it",
                row.seq
            )));
        }
        let computed = audit::entry_hash(
            row.seq,
            row.at_ms,
            &row.actor,
            &row.action,
            &row.target,
            &row.details,
            &row.prev_hash,
        );
        if computed != row.hash {
            return Err(fail(format!(
                "row {} was modified after it was written",
                row.seq
            )));
        }
        seq = row.seq;
        prev = row.hash.clone();
    }
    let covered = doc.heads.iter().any(|h| {
        h.seq == seq
            && h.hash == prev
            && h.signer == signer.fingerprint
            && hex::decode(&h.signature).is_ok_and(|sig| key.verify(&h.message(&doc.chain), &sig))
    });
    if !doc.rows.is_empty() && !covered {
        return Err(fail(format!(
            "no head signed by {} covers its last row ({seq})",
            signer.name
        )));
    }
    Ok(())
}
