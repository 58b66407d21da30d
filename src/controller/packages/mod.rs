//! Work and results packages between the site and a laptop (DESIGN §6).
//!
//! At the site, [`Session::plan_work_package`] gathers what one person was
//! assigned (media streamed from their blobs, schema, guidelines,
//! pre-labels, the site's keys for the way back); on the laptop,
//! [`open_work_package`] verifies it and makes a local bundle holding only
//! those items; [`Session::plan_results_package`] returns labels with their
//! revisions, item states and the laptop's audit segment; at the site,
//! [`Session::open_results_package`] verifies and merges them.
//!
//! Making a package is split in three so a GUI can run the long middle on a
//! worker thread: *plan* (reads the DB, reserves a ledger row), *write*
//! (streams and seals, no DB), *finish* (ledger and audit row).
//!
//! Opening verifies everything before it writes anything but an audit
//! event: a refused package leaves the bundle's content unchanged.
//!
//! The folder follows the packages' life: [`wire`] holds the documents
//! that travel, [`work_out`] and [`results_out`] make packages,
//! [`work_in`] and [`results_in`] check and apply them, [`inspect`] shows
//! one without applying it. What they share (the ledger row, the write and
//! finish steps, the refusal wording, the replay check) is here.

use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Allowed, CoreError, Event, Result, Session};
use crate::bundle::BundlePaths;
use crate::crypto::{PublicIdentity, SecretBytes, UnlockedIdentity};
use crate::model::{ItemKind, now_ms};
use crate::package::{
    self, BytesMember, FnMember, Manifest, MemberSource, NewPackage, PackageError, PackageKind,
    ProgressFn,
};
use crate::permissions::Action;
use crate::privacy::derive::{PrivacyPlan, derive};
use crate::privacy::window::Window;
use crate::store::{self, PackageRow};

mod inspect;
mod results_in;
mod results_out;
mod wire;
mod work_in;
mod work_out;

pub use inspect::{InspectedItem, Inspection, ResultsView, WorkView, inspect_package};
pub use work_in::{FirstSigner, default_local_bundle, open_work_package};
pub use work_out::MAX_EXPIRY_DAYS;

/// Annotation origin prefix for labels that came from the site.
const SITE_ORIGIN: &str = "site:";

/// The names of the checks a results package passes, in order (the CLI
/// and the docs list them; each refusal names one).
pub fn results_check_names() -> [&'static str; 11] {
    [
        "decryption",
        "format",
        "signature",
        "recipient",
        "project",
        "signer",
        "revocation",
        "replay",
        "member hash",
        "rollback",
        "item",
    ]
}

/// A media member: decrypted from its blob while the package streams.
struct MediaRef {
    member: String,
    blob_id: String,
    key: SecretBytes<32>,
    /// How the bytes change on the way out.
    transform: Transform,
}

/// What happens to an item's bytes on the way into a work package.
enum Transform {
    /// Streamed from the blob unchanged (texts without masks or window).
    AsIs,
    /// Decrypted whole and turned into its masked, minimised derivative
    /// without metadata ([`crate::privacy::derive`]).
    Derive {
        kind: ItemKind,
        format: String,
        plan: Box<PrivacyPlan>,
    },
}

/// A package planned from the database, ready to be written on any thread.
pub struct PlannedPackage {
    pub kind: PackageKind,
    pub package_id: String,
    pub sequence: u64,
    pub project_id: String,
    pub recipients: Vec<PublicIdentity>,
    pub item_ids: Vec<i64>,
    /// For the recipient line of reports.
    pub recipient_names: Vec<String>,
    docs: Vec<(String, Vec<u8>)>,
    media: Vec<MediaRef>,
    paths: BundlePaths,
    blob_project_id: String,
    /// Meta values to store once the package is written (results watermarks).
    on_success: Vec<(String, String)>,
    /// Per item: the privacy version and window it carries (work packages).
    privacy: Vec<(i64, i64, Option<Window>)>,
    /// The permission check that planning passed: it covers recording the
    /// outcome in [`Session::finish_package`].
    allowed: Allowed,
}

impl PlannedPackage {
    /// Streams the package to `out` (temp file + rename), signed by
    /// `sender`. Touches no database; safe on a worker thread.
    pub fn write(
        &self,
        out: &Path,
        sender: &UnlockedIdentity,
        progress: ProgressFn<'_>,
    ) -> std::result::Result<Manifest, PackageError> {
        let doc_members: Vec<BytesMember<'_>> = self
            .docs
            .iter()
            .map(|(name, bytes)| BytesMember {
                name: name.clone(),
                bytes,
            })
            .collect();
        let media_members: Vec<_> = self
            .media
            .iter()
            .map(|m| FnMember {
                name: m.member.clone(),
                write: move |mut w: &mut dyn Write| {
                    let other = |e: crate::bundle::BundleError| io::Error::other(e.to_string());
                    let whole = || {
                        self.paths
                            .read_blob(&self.blob_project_id, &m.blob_id, &m.key)
                            .map_err(other)
                    };
                    let out = match &m.transform {
                        Transform::AsIs => {
                            return self
                                .paths
                                .read_blob_to(&self.blob_project_id, &m.blob_id, &m.key, &mut w)
                                .map_err(other);
                        }
                        Transform::Derive { kind, format, plan } => {
                            derive(
                                *kind,
                                format,
                                &whole()?,
                                plan,
                                super::privacy::derive_limits(),
                            )
                            .map_err(|e| io::Error::other(format!("{}: {e}", m.member)))?
                            .bytes
                        }
                    };
                    w.write_all(&out)?;
                    Ok(out.len() as u64)
                },
            })
            .collect();
        let mut members: Vec<&dyn MemberSource> = Vec::new();
        members.extend(doc_members.iter().map(|m| m as &dyn MemberSource));
        members.extend(media_members.iter().map(|m| m as &dyn MemberSource));
        let new = NewPackage {
            kind: self.kind,
            project_id: &self.project_id,
            sequence: self.sequence,
            package_id: Some(self.package_id.clone()),
        };
        package::write_package_file(out, sender, &self.recipients, &new, &members, progress)
    }

    /// Bytes of media this package carries (for progress and reports).
    pub fn media_count(&self) -> usize {
        self.media.len()
    }
}

/// What a made package was, for the CLI and the GUI.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MadePackage {
    pub package_id: String,
    pub kind: PackageKind,
    pub sequence: u64,
    pub items: usize,
    pub recipients: Vec<String>,
    pub bytes: u64,
}

/// What merging a results package did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct MergeReport {
    pub package_id: String,
    pub sender: String,
    pub sequence: u64,
    pub items_merged: Vec<i64>,
    pub labels_created: usize,
    pub revisions_added: usize,
    /// Items not merged, with why; their content is kept for the admin.
    pub conflicts: Vec<(i64, String)>,
    pub audit_rows_added: usize,
    pub comments_added: usize,
    /// Gold items among those merged, with the sender's score on each.
    pub gold_scores: Vec<(i64, f64)>,
    /// Signed by a member since removed (a revoked key) and accepted by an
    /// admin's explicit decision (`--accept-revoked`): every item is kept
    /// as a conflict for the admin to decide. (The name is kept for the
    /// report's format; the package's claimed time is not trusted.)
    pub signed_before_revocation: bool,
    /// Incidents the annotator reported, now in the site's queue.
    pub incidents_added: usize,
}

/// What opening a work package did on the laptop.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorkOpened {
    pub bundle: PathBuf,
    pub created: bool,
    pub package_id: String,
    pub sender: String,
    pub sender_name: String,
    pub items_added: Vec<i64>,
    pub prelabels: usize,
}

/// A refused package: the check that failed, in plain words.
fn refused(check: &str, why: impl std::fmt::Display) -> CoreError {
    CoreError::PackageRefused {
        check: check.to_string(),
        why: why.to_string(),
    }
}

pub(super) fn package_err(e: PackageError) -> CoreError {
    match e {
        PackageError::Cancelled => CoreError::Cancelled,
        PackageError::Io(source) => CoreError::Io { path: None, source },
        other => refused_by(other),
    }
}

/// A package-format failure as a refusal: its own check name, or
/// `package` for the few failures that name none (sealing, identity).
fn refused_by(e: PackageError) -> CoreError {
    refused(e.check().unwrap_or("package"), e.why())
}

fn manifest_hash(manifest: &Manifest) -> String {
    crate::crypto::sha256_hex(&serde_json::to_vec(manifest).unwrap_or_default())
}

/// The kind of package `file` is, if `identity` can open it: how a front
/// end routes a file (a work package opens on the laptop, results merge
/// into a site project). `None` when it does not open; opening it for real
/// then refuses it with the check that failed.
pub fn package_kind(file: &Path, identity: &UnlockedIdentity) -> Option<PackageKind> {
    open_file(file, identity).ok().map(|p| p.manifest.kind)
}

/// A package file opened for `identity`: decrypted, format and signature
/// checked, members ready to stream (every opener reads through here).
pub(super) fn open_file(
    file: &Path,
    identity: &UnlockedIdentity,
) -> Result<package::OpenedPackage<impl io::Read + use<>>> {
    let input = std::fs::File::open(file).map_err(CoreError::io(file))?;
    package::open_package(io::BufReader::with_capacity(256 * 1024, input), identity)
        .map_err(package_err)
}

/// The replay check, one for both directions: a package is applied once,
/// and a sender's packages of one kind only in rising sequence (an older
/// one is a replay even under a new id). `done` says what happened to the
/// earlier one ("applied", "opened"); `from` names its sender when known.
fn check_replay(conn: &store::Db, m: &Manifest, done: &str, from: Option<&str>) -> Result<()> {
    if store::package_known(conn, &m.package_id)? {
        return Err(refused(
            "replay",
            format!("package {} was already {done} here", m.package_id),
        ));
    }
    if let Some(max) = store::max_sequence(conn, &m.sender, kind_name(m.kind), "in")?
        && m.sequence as i64 <= max
    {
        let from = from.map(|name| format!(" from {name}")).unwrap_or_default();
        return Err(refused(
            "replay",
            format!(
                "sequence {} is not newer than {max}, already {done}{from}",
                m.sequence
            ),
        ));
    }
    Ok(())
}

fn kind_name(kind: PackageKind) -> &'static str {
    match kind {
        PackageKind::Work => "work",
        PackageKind::Results => "results",
        PackageKind::Export => "export",
    }
}

/// Char to byte offset, as a store error (a span past the text's end).
fn char_to_byte(text: &str, chars: usize) -> store::Result<usize> {
    crate::text_offsets::char_to_byte(text, chars)
        .map_err(|e| store::StoreError::Invalid(format!("span offset: {e}")))
}

impl Session {
    /// Reserves a row in the package ledger before the file exists, so a
    /// crash after writing can never hand out the same sequence twice. No
    /// audit row yet: [`Session::finish_package`] writes the package's.
    fn reserve_package(
        &mut self,
        allowed: Allowed,
        kind: PackageKind,
        recipients: &[PublicIdentity],
    ) -> Result<(String, u64)> {
        let kind_str = kind_name(kind);
        let me = self.user.fingerprint.clone();
        let package_id = hex::encode(crate::crypto::random_bytes::<16>());
        let recipients: Vec<String> = recipients.iter().map(|r| r.fingerprint()).collect();
        let sequence = self.commit(allowed, |tx| {
            let seq = store::max_sequence(tx, &me, kind_str, "out")?.unwrap_or(0) + 1;
            store::insert_package(
                tx,
                &PackageRow {
                    id: package_id.clone(),
                    kind: kind_str.into(),
                    direction: "out".into(),
                    sender: me.clone(),
                    recipients,
                    sequence: seq,
                    manifest_sha256: String::new(),
                    at_ms: now_ms(),
                    summary: json!({"state": "writing"}).to_string(),
                },
            )?;
            Ok((seq, None::<Event>))
        })?;
        Ok((package_id, sequence as u64))
    }

    /// Records the outcome of writing a planned package: the ledger row,
    /// the items sent, and the audit row (created, or failed and why).
    pub fn finish_package(
        &mut self,
        plan: &PlannedPackage,
        out: &Path,
        outcome: &std::result::Result<Manifest, PackageError>,
    ) -> Result<MadePackage> {
        let kind = kind_name(plan.kind);
        match outcome {
            Ok(manifest) => {
                let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
                let recipient_user_ids: Vec<i64> = manifest
                    .recipients
                    .iter()
                    .filter_map(|f| {
                        store::user_by_fingerprint(self.project.store.conn(), f)
                            .ok()
                            .flatten()
                    })
                    .map(|u| u.id)
                    .collect();
                let hash = manifest_hash(manifest);
                let details = json!({
                    "kind": kind,
                    "sequence": plan.sequence,
                    "recipients": manifest.recipients,
                    "items": plan.item_ids,
                    "bytes": bytes,
                    "manifest_sha256": hash,
                });
                let summary =
                    json!({"state": "written", "items": plan.item_ids.len(), "bytes": bytes});
                let on_success = plan.on_success.clone();
                self.commit(plan.allowed, |tx| {
                    store::set_package_written(
                        tx,
                        &plan.package_id,
                        &hash,
                        &summary.to_string(),
                        now_ms(),
                    )?;
                    if plan.kind == PackageKind::Work {
                        for user_id in &recipient_user_ids {
                            for item in &plan.item_ids {
                                store::insert_package_item(tx, &plan.package_id, *item, *user_id)?;
                            }
                        }
                        for (item, version, window) in &plan.privacy {
                            store::set_package_item_privacy(
                                tx,
                                &plan.package_id,
                                *item,
                                *version,
                                window.as_ref(),
                            )?;
                        }
                    }
                    for (k, v) in &on_success {
                        store::set_meta(tx, k, v)?;
                    }
                    let event = Event::new(
                        AuditAction::PackageCreate,
                        format!("package:{}", plan.package_id),
                        details,
                    );
                    Ok(((), event))
                })?;
                Ok(MadePackage {
                    package_id: plan.package_id.clone(),
                    kind: plan.kind,
                    sequence: plan.sequence,
                    items: plan.item_ids.len(),
                    recipients: plan.recipient_names.clone(),
                    bytes,
                })
            }
            Err(e) => {
                let cancelled = matches!(e, PackageError::Cancelled);
                let details =
                    json!({"kind": kind, "sequence": plan.sequence, "error": e.to_string()});
                let state = if cancelled { "cancelled" } else { "failed" };
                self.commit(plan.allowed, |tx| {
                    store::set_package_summary(
                        tx,
                        &plan.package_id,
                        &json!({"state": state}).to_string(),
                    )?;
                    let event = Event::new(
                        if cancelled {
                            AuditAction::PackageCancelled
                        } else {
                            AuditAction::PackageFailed
                        },
                        format!("package:{}", plan.package_id),
                        details,
                    );
                    Ok(((), event))
                })?;
                Err(match e {
                    PackageError::Cancelled => CoreError::Cancelled,
                    other => refused(other.check().unwrap_or("package"), other.why()),
                })
            }
        }
    }

    /// Whether this bundle was made from a work package (a laptop bundle).
    pub fn origin_project(&self) -> Option<String> {
        self.project.store.meta("origin_project_id").ok().flatten()
    }

    /// The package ledger (admin and auditor).
    pub fn packages(&mut self) -> Result<Vec<PackageRow>> {
        self.require(Action::ReadAudit, None)?;
        Ok(store::list_packages(self.project.store.conn())?)
    }

    /// A digest of the bundle's content apart from the audit trail: a
    /// refused package must leave it unchanged.
    pub fn content_digest(&self) -> Result<String> {
        Ok(store::content_digest(
            self.project.store.conn(),
            &["audit", "audit_heads"],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger() -> store::Db {
        store::Db::in_memory().unwrap()
    }

    fn manifest(kind: PackageKind, package_id: &str, sequence: u64) -> Manifest {
        Manifest {
            format_version: 1,
            package_id: package_id.into(),
            kind,
            project_id: "p".into(),
            sender: "fpr-ann".into(),
            sender_key: "key-ann".into(),
            recipients: vec![],
            created_ms: 0,
            sequence,
            members: vec![],
        }
    }

    fn receive(conn: &store::Db, m: &Manifest) {
        store::insert_package(
            conn,
            &PackageRow {
                id: m.package_id.clone(),
                kind: kind_name(m.kind).into(),
                direction: "in".into(),
                sender: m.sender.clone(),
                recipients: vec![],
                sequence: m.sequence as i64,
                manifest_sha256: String::new(),
                at_ms: 0,
                summary: "{}".into(),
            },
        )
        .unwrap();
    }

    /// Both directions share one check: the same id twice, or a sequence
    /// not newer than the last of that kind from that sender, is refused.
    #[test]
    fn fail_replayed_id_or_old_sequence() {
        let conn = ledger();
        let first = manifest(PackageKind::Results, "a", 2);
        check_replay(&conn, &first, "applied", Some("Ann")).unwrap();
        receive(&conn, &first);
        let again = check_replay(&conn, &first, "applied", Some("Ann")).unwrap_err();
        assert_eq!(
            again.to_string(),
            refused("replay", "package a was already applied here").to_string()
        );
        let older = manifest(PackageKind::Results, "b", 2);
        let err = check_replay(&conn, &older, "applied", Some("Ann")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("sequence 2 is not newer than 2, already applied from Ann"),
            "{err}"
        );
        // Sequences count per kind: a work package with sequence 1 is new.
        let work = manifest(PackageKind::Work, "c", 1);
        check_replay(&conn, &work, "opened", None).unwrap();
        receive(&conn, &work);
        let err =
            check_replay(&conn, &manifest(PackageKind::Work, "d", 1), "opened", None).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("sequence 1 is not newer than 1, already opened"),
            "{err}"
        );
        check_replay(
            &conn,
            &manifest(PackageKind::Results, "e", 3),
            "applied",
            None,
        )
        .unwrap();
    }
}
