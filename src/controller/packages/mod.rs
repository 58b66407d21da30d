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

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{CoreError, Result, Session};
use crate::audit::{self, SignedHead};
use crate::bundle::BundlePaths;
use crate::crypto::{PublicIdentity, SecretBytes, UnlockedIdentity};
use crate::home::Home;
use crate::model::{AnnotationDraft, AuditEntry, Geometry, ItemKind, Role, Schema, now_ms};
use crate::package::{
    self, BytesMember, FnMember, Manifest, MemberSource, NewPackage, PackageError, PackageKind,
    ProgressFn,
};
use crate::permissions::Action;
use crate::privacy::derive::{MaskSpec, PrivacyPlan, derive};
use crate::privacy::image_mask::{Region, RegionStyle, Shape};
use crate::privacy::window::Window;
use crate::project::Project;
use crate::store::{self, PackageRow};

mod inspect;

pub use inspect::{InspectedItem, Inspection, ResultsView, WorkView, inspect_package};

/// The JSON document of a work package.
pub const WORK_DOC: &str = "work.json";
/// The JSON documents of a results package.
pub const RESULTS_DOC: &str = "results.json";
pub const AUDIT_DOC: &str = "audit.json";
/// A package's JSON documents are read into memory; media never are.
const MAX_DOC_BYTES: u64 = 256 << 20;
/// Annotation origin prefix for labels that came from the site.
const SITE_ORIGIN: &str = "site:";

/// The names of the checks a results package passes, in order (the CLI
/// and the docs list them; each refusal names one).
pub fn results_check_names() -> [&'static str; 10] {
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
        "item",
    ]
}

/// A person a work package mentions (the recipient, the site's admins,
/// authors of pre-labels).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Person {
    pub fingerprint: String,
    pub name: String,
    pub public_key: String,
    pub role: Role,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkItem {
    pub id: i64,
    pub kind: ItemKind,
    pub name: String,
    pub format: String,
    // No hash of the original travels (a short text's hash confirms a
    // guessed phone number); the media member's own SHA-256 is in the
    // signed manifest.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
    /// The record fields the site allow-listed (`package_fields`), masked
    /// like the text when `mask_pii` is `auto`; `{}` otherwise.
    pub metadata: String,
    pub purpose: String,
    pub state: String,
    /// Name of the member holding the media bytes.
    pub media: String,
    /// The site's privacy version of the item this derivative was made
    /// from: a laptop replaces its copy when a later package carries a
    /// newer one (e.g. more masks).
    #[serde(default)]
    pub privacy_version: i64,
    /// What was done to the original before it was sent, for the
    /// recipient's inspection (`sealtag package inspect`).
    #[serde(default)]
    pub privacy: SentPrivacy,
}

/// What the site applied to an item's copy: the window it was cut to, the
/// masks painted, whether automatic PII detection ran. Descriptions name
/// types and positions, never the masked content.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SentPrivacy {
    pub window: Option<Window>,
    pub masks: Vec<String>,
    /// `mask_pii = auto`: high-confidence detections in the text, the
    /// transcripts and the allow-listed fields were masked too.
    pub auto_pii: bool,
    /// Metadata removed by allow-list (images and recordings).
    pub metadata_stripped: bool,
    /// The item was sent exactly as stored (a text with nothing to mask).
    pub unchanged: bool,
}

impl SentPrivacy {
    fn of(plan: &PrivacyPlan, kind: ItemKind, changes: bool, has_fields: bool) -> SentPrivacy {
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PreLabel {
    pub site_id: i64,
    pub item_id: i64,
    pub revision: i64,
    pub author: String,
    /// Who made the latest revision (a reviewer's correction, say).
    #[serde(default)]
    pub editor: Option<String>,
    /// Where the label came from, if from a laptop (`<bundle id>:<id>`):
    /// that laptop recognises its own label.
    #[serde(default)]
    pub origin: Option<String>,
    /// A prediction's source and score (shown as a prediction on the laptop).
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub score: Option<f64>,
    pub draft: AnnotationDraft,
}

/// A comment travelling to a laptop (site → annotator) or back.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CommentDoc {
    /// Site id (work packages) or laptop id (results).
    pub id: i64,
    pub item_id: i64,
    /// Work packages: the site's label id; results: the laptop's.
    pub annotation_id: Option<i64>,
    pub author: String,
    pub body: String,
    pub at_ms: i64,
}

/// `work.json`: everything but the media.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkDoc {
    pub project_name: String,
    pub recipient: Person,
    /// Who receives the results (the site's active admins).
    pub site: Vec<Person>,
    /// Authors of pre-labels, so the laptop can show who drew them.
    pub authors: Vec<Person>,
    pub schema: Schema,
    pub guidelines: String,
    pub settings: BTreeMap<String, String>,
    pub items: Vec<WorkItem>,
    pub prelabels: Vec<PreLabel>,
    /// Comments the recipient may read on these items (e.g. why an item
    /// was rejected).
    #[serde(default)]
    pub comments: Vec<CommentDoc>,
    /// The recipient's review figures at the site.
    #[serde(default)]
    pub acceptance: super::Acceptance,
    /// The site's revocation list: members removed, and when. The laptop
    /// refuses later packages signed by them and seals results only to the
    /// admins still listed.
    #[serde(default)]
    pub revoked: Vec<(String, i64)>,
    /// After this time the laptop refuses labelling (app-enforced; see
    /// docs/governance.md).
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
}

/// One revision as it travels in a results package.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RevisionDoc {
    pub revision: i64,
    pub op: String,
    pub draft: AnnotationDraft,
    pub deleted: bool,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AnnotationDoc {
    /// The id on the laptop (with the laptop's bundle id, its merge key).
    pub local_id: i64,
    /// The site's id when this started as a pre-label.
    pub site_id: Option<i64>,
    /// The revision the laptop started from (0 for a new label).
    pub base_revision: i64,
    pub revisions: Vec<RevisionDoc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ItemResult {
    pub item_id: i64,
    pub purpose: String,
    pub state: String,
    pub reason: Option<String>,
    pub annotations: Vec<AnnotationDoc>,
}

/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResultsDoc {
    /// The laptop bundle's project id: names the audit chain and the
    /// origin of new labels.
    pub laptop_project_id: String,
    pub full: bool,
    pub items: Vec<ItemResult>,
    /// Comments written on the laptop since the last results package.
    #[serde(default)]
    pub comments: Vec<CommentDoc>,
    /// Items the annotator reported since the last results package.
    #[serde(default)]
    pub incidents: Vec<IncidentDoc>,
}

/// An incident travelling from a laptop to the site.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IncidentDoc {
    /// The laptop's incident id (with the bundle id, its merge key).
    pub id: i64,
    pub item_id: i64,
    pub kind: String,
    pub reason: String,
    pub at_ms: i64,
}

/// `audit.json`: the laptop's audit rows since the last results package,
/// and the signed heads covering them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditDoc {
    pub chain: String,
    pub rows: Vec<AuditEntry>,
    pub heads: Vec<SignedHead>,
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
    /// Made by a member since removed, before their removal: accepted,
    /// and their items kept as conflicts for the admin to decide.
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
    CoreError::Package(format!("{check} check failed: {why}"))
}

pub(super) fn package_err(e: PackageError) -> CoreError {
    match e {
        PackageError::Cancelled => CoreError::Cancelled,
        PackageError::Io(e) => CoreError::Io(e.to_string()),
        other => CoreError::Package(other.to_string()),
    }
}

fn manifest_hash(manifest: &Manifest) -> String {
    crate::crypto::sha256_hex(&serde_json::to_vec(manifest).unwrap_or_default())
}

fn parse_doc<T: serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| refused("format", format!("{name} is not valid: {e}")))
}

impl Session {
    /// Reserves a row in the package ledger before the file exists, so a
    /// crash after writing can never hand out the same sequence twice.
    fn reserve_package(
        &mut self,
        kind: PackageKind,
        recipients: &[PublicIdentity],
    ) -> Result<(String, u64)> {
        let kind_str = kind_name(kind);
        let me = self.user.fingerprint.clone();
        let package_id = hex::encode(crate::crypto::random_bytes::<16>());
        let recipients: Vec<String> = recipients.iter().map(|r| r.fingerprint()).collect();
        let sequence = self.write(|tx, _, _| {
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
            Ok(seq)
        })?;
        Ok((package_id, sequence as u64))
    }

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
        self.require(Action::MakePackage, Some(format!("work package for {to}")))?;
        if let Some(at) = expires
            && at <= now_ms()
        {
            return Err(CoreError::Invalid(format!(
                "the expiry {} is already past",
                crate::model::format_time(at)
            )));
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
        let users = store::list_users(conn)?;
        let person = |u: &crate::model::User| Person {
            fingerprint: u.fingerprint.clone(),
            name: u.name.clone(),
            public_key: u.public_key.clone(),
            role: u.role,
        };
        let site: Vec<Person> = users
            .iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .map(person)
            .collect();
        let mut items = Vec::new();
        let mut media = Vec::new();
        let mut prelabels = Vec::new();
        let mut authors = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let annotators: BTreeSet<String> = users
            .iter()
            .filter(|u| u.role == Role::Annotator && u.id != user.id)
            .map(|u| u.fingerprint.clone())
            .collect();
        let mut comments = Vec::new();
        let opaque_names = self.project_setting("package_names")? == "opaque";
        // Record fields travel only when allow-listed (by construction: a
        // field the admin never named cannot leave).
        let allowed_fields =
            super::workflow::parse_field_list(&self.project_setting("package_fields")?)
                .unwrap_or_default();
        let mut privacy = Vec::new();
        // Labels not sent because they fall outside an item's window; a
        // relation to one of them cannot be sent either.
        let mut outside: BTreeSet<i64> = BTreeSet::new();
        // Classes whose labels become filled regions in the annotator's copy.
        let mask_names = self.project_setting("mask_classes")?;
        let mask_classes: BTreeSet<i64> = store::list_classes(self.project.store.conn())?
            .into_iter()
            .filter(|c| {
                mask_names
                    .split(',')
                    .map(str::trim)
                    .any(|n| !n.is_empty() && n == c.name)
            })
            .map(|c| c.id)
            .collect();
        // Items with an open incident stay home until an admin resolves it.
        let flagged: BTreeSet<i64> = store::incidents(conn)?
            .into_iter()
            .filter(|i| i.status == "open")
            .map(|i| i.item_id)
            .collect();
        let defaults = self.plan_defaults()?;
        for (item_id, purpose, state, _) in &assignments {
            if !seen.insert(*item_id) || flagged.contains(item_id) {
                continue;
            }
            // Gold items look like any other: same purpose, no labels.
            let gold = store::is_gold(conn, *item_id)?;
            let purpose = if purpose == "gold" {
                "annotate"
            } else {
                purpose
            };
            let summary = store::item_summary_by_id(conn, *item_id)?
                .ok_or_else(|| CoreError::NotFound(format!("item {item_id}")))?;
            let (blob_id, key) = store::item_blob(conn, *item_id)?
                .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
            let member = format!("media/{item_id}");
            let (summary_kind, summary_format) = (summary.kind, summary.format.clone());
            let mut plan = self.privacy_plan_with(*item_id, &defaults)?;
            // Labels in a box can only be read once: an item keeps its
            // window for as long as it is out with this person.
            if let Some(sent) = store::sent_window(conn, *item_id, user.id)?
                && sent != plan.window
            {
                return Err(CoreError::Invalid(format!(
                    "item {item_id} went to {} with another window; its labels there are in that window's coordinates. Restore the window, or reassign the item to someone else",
                    user.name
                )));
            }
            let conn = self.project.store.conn();
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
            items.push(WorkItem {
                id: *item_id,
                kind: summary.kind,
                // File names can reveal who or where (`jane_doe_passport.jpg`):
                // the `package_names` setting replaces them with opaque ids.
                name: if opaque_names {
                    opaque_name(*item_id, &summary.name)
                } else {
                    summary.name
                },
                format: out_format,
                width: extent.map(|e| e.0).or(summary.width),
                height: extent.map(|e| e.1).or(summary.height),
                duration_secs: secs.or(summary.duration_secs),
                char_len: chars.or(summary.char_len),
                metadata: travelling_fields(
                    &store::item_metadata(conn, *item_id)?,
                    &allowed_fields,
                    &plan,
                ),
                purpose: purpose.to_string(),
                state: state.clone(),
                media: member.clone(),
                privacy_version: plan.version,
                privacy: SentPrivacy::default(),
            });
            for c in store::item_comments(conn, *item_id)? {
                let readable = user.role != Role::Annotator
                    || c.author == user.fingerprint
                    || c.to.as_deref() == Some(user.fingerprint.as_str());
                // A laptop's own comments came from it: do not send them back.
                if readable && c.origin.is_none() {
                    comments.push(CommentDoc {
                        id: c.id,
                        item_id: c.item_id,
                        annotation_id: c.annotation_id,
                        author: c.author.clone(),
                        body: c.body,
                        at_ms: c.at_ms,
                    });
                    authors.insert(c.author);
                }
            }
            // Labels of a mask class (`mask_classes`) are filled too.
            if summary_kind == ItemKind::Image {
                for a in store::list_annotations(conn, *item_id)?
                    .iter()
                    .filter(|a| mask_classes.contains(&a.class_id))
                {
                    if let Some([x0, y0, x1, y1]) = crate::privacy::window::bounds(&a.geometry) {
                        plan.regions.push(Region {
                            shape: Shape::Rect {
                                x: x0,
                                y: y0,
                                w: x1 - x0,
                                h: y1 - y0,
                            },
                            style: RegionStyle::Fill,
                        });
                    }
                }
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
                        super::privacy::derive_limits(),
                    )
                    .map_err(|e| CoreError::Invalid(format!("item {item_id}: {e}")))?;
                    Some(String::from_utf8_lossy(&d.bytes).into_owned())
                }
                _ => None,
            };
            let conn = self.project.store.conn();
            privacy.push((*item_id, plan.version, plan.window));
            if let Some(sent) = items.last_mut() {
                let has_fields = sent.metadata != "{}";
                sent.privacy = SentPrivacy::of(&plan, summary_kind, changes, has_fields);
            }
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
            media.push(MediaRef {
                member,
                blob_id,
                key,
                transform,
            });
            if gold {
                continue;
            }
            let origins: BTreeMap<i64, String> = store::annotation_records(conn, *item_id)?
                .into_iter()
                .filter_map(|r| r.origin.map(|o| (r.id, o)))
                .collect();
            for a in store::list_annotations(conn, *item_id)? {
                // An annotator never sees another annotator's work.
                if user.role == Role::Annotator && annotators.contains(&a.created_by) {
                    continue;
                }
                let editor = store::last_editor(conn, a.id)?
                    .and_then(|id| users.iter().find(|u| u.id == id))
                    .map(|u| u.fingerprint.clone());
                if let Some(e) = &editor {
                    authors.insert(e.clone());
                }
                authors.insert(a.created_by.clone());
                let origin = origins.get(&a.id).cloned();
                let mut geometry = match window {
                    Some(w) => match w.to_window(&a.geometry) {
                        Some(g) => g,
                        None => {
                            outside.insert(a.id);
                            continue;
                        }
                    },
                    None => a.geometry,
                };
                match &mut geometry {
                    // Transcripts follow the same detection and masking.
                    Geometry::Segment { transcript, .. } => {
                        *transcript = sent_plan.mask_transcript(transcript);
                    }
                    Geometry::Span {
                        start,
                        end,
                        byte_start,
                        byte_end,
                    } => {
                        if let Some(t) = &excerpt {
                            *byte_start = char_to_byte(t, *start as usize)? as u64;
                            *byte_end = char_to_byte(t, *end as usize)? as u64;
                        }
                    }
                    _ => {}
                }
                prelabels.push(PreLabel {
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
        }
        prelabels.retain(|p| {
            !matches!(p.draft.geometry, Geometry::Relation { from, to }
                if outside.contains(&from) || outside.contains(&to))
        });
        let mut settings = BTreeMap::new();
        for (key, _) in super::PROJECT_SETTINGS {
            // The names to mask are themselves personal data.
            if *key != "pii_names" {
                settings.insert(key.to_string(), self.project_setting(key)?);
            }
        }
        let doc = WorkDoc {
            project_name: self.project_name(),
            recipient: person(&user),
            site,
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
            acceptance: super::review::acceptance_of(conn, user.id)?,
            revoked: store::revoked_members(conn)?,
            expires_at_ms: expires,
        };
        let recipient = PublicIdentity::parse(&user.public_key)?;
        let (package_id, sequence) =
            self.reserve_package(PackageKind::Work, std::slice::from_ref(&recipient))?;
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
        })
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
                })
                .to_string();
                let summary =
                    json!({"state": "written", "items": plan.item_ids.len(), "bytes": bytes});
                let on_success = plan.on_success.clone();
                self.write(|tx, pid, actor| {
                    tx.execute(
                        "UPDATE packages SET manifest_sha256 = ?2, summary = ?3, at = ?4 WHERE id = ?1",
                        rusqlite::params![plan.package_id, hash, summary.to_string(), now_ms()],
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
                    store::append_audit(
                        tx,
                        pid,
                        actor,
                        "package.create",
                        &format!("package:{}", plan.package_id),
                        &details,
                    )
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
                    json!({"kind": kind, "sequence": plan.sequence, "error": e.to_string()})
                        .to_string();
                let state = if cancelled { "cancelled" } else { "failed" };
                self.write(|tx, pid, actor| {
                    tx.execute(
                        "UPDATE packages SET summary = ?2 WHERE id = ?1",
                        rusqlite::params![plan.package_id, json!({"state": state}).to_string()],
                    )?;
                    store::append_audit(
                        tx,
                        pid,
                        actor,
                        if cancelled {
                            "package.cancelled"
                        } else {
                            "package.failed"
                        },
                        &format!("package:{}", plan.package_id),
                        &details,
                    )
                })?;
                Err(match e {
                    PackageError::Cancelled => CoreError::Cancelled,
                    other => CoreError::Package(other.to_string()),
                })
            }
        }
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

    /// Whether this bundle was made from a work package (a laptop bundle).
    pub fn origin_project(&self) -> Option<String> {
        self.project.store.meta("origin_project_id").ok().flatten()
    }

    /// Plans the results package of a laptop bundle: labels changed since
    /// the last one (everything with `full`), item states and skip
    /// reasons, and the audit rows since the last one with a signed head.
    pub fn plan_results_package(&mut self, full: bool) -> Result<PlannedPackage> {
        self.require(Action::MakeResults, None)?;
        let origin = self.origin_project().ok_or_else(|| {
            CoreError::Invalid(
                "this project was not made from a work package; results go back from a laptop bundle"
                    .into(),
            )
        })?;
        let conn = self.project.store.conn();
        let site: Vec<Person> = serde_json::from_str(
            &store::meta(conn, "site_recipients")?.unwrap_or_else(|| "[]".into()),
        )
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
        let mut items = Vec::new();
        for (item_id, purpose, state, reason) in store::assignments_of(conn, self.user.id)? {
            if !changed.contains(&item_id) {
                continue;
            }
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
                let me = self.user.id;
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
            items.push(ItemResult {
                item_id,
                purpose,
                state,
                reason,
                annotations,
            });
        }
        let rev_row = store::max_revision_row(conn)?;
        let (package_id, sequence) = self.reserve_package(PackageKind::Results, &recipients)?;
        // The segment ends with this package's own creation event, under a
        // head signed now: the site can tell if rows were cut off.
        let item_ids: Vec<i64> = items.iter().map(|i| i.item_id).collect();
        let at = now_ms();
        self.write(|tx, pid, actor| {
            store::append_audit(
                tx,
                pid,
                actor,
                "package.results",
                &format!("package:{package_id}"),
                &json!({"sequence": sequence, "items": item_ids, "full": full}).to_string(),
            )
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

    /// Writes the audit row of a refused package and returns the refusal.
    fn reject_package(&mut self, file: &Path, err: CoreError) -> CoreError {
        let details = json!({
            "file": file.file_name().map(|n| n.to_string_lossy().into_owned()),
            "reason": err.to_string(),
        })
        .to_string();
        if let Err(e) = self.write(|tx, pid, actor| {
            store::append_audit(tx, pid, actor, "package.rejected", "package", &details)
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
        self.require(Action::MakePackage, Some("open a results package".into()))?;
        match self.verify_results(file, progress) {
            Ok(verified) => self.merge_results(verified),
            Err(CoreError::Cancelled) => Err(CoreError::Cancelled),
            Err(e) => Err(self.reject_package(file, e)),
        }
    }

    fn verify_results(&self, file: &Path, progress: ProgressFn<'_>) -> Result<VerifiedResults> {
        let input = File::open(file)
            .map_err(|e| CoreError::Io(format!("cannot read {}: {e}", file.display())))?;
        let mut opened = package::open_package(io::BufReader::new(input), &self.identity)
            .map_err(package_err)?;
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
        // A removed member's key is revoked from the moment of removal: what
        // they made before is accepted (and marked), nothing made after.
        let mut before_revocation = false;
        if !signer.active {
            match store::revoked_at(conn, &signer.fingerprint)? {
                Some(at) if m.created_ms <= at => before_revocation = true,
                Some(at) => {
                    return Err(refused(
                        "revocation",
                        format!(
                            "{} ({})'s key was revoked at {}; this package was made at {}",
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
        if store::package_known(conn, &m.package_id)? {
            return Err(refused(
                "replay",
                format!("package {} was already applied here", m.package_id),
            ));
        }
        if let Some(max) = store::max_sequence(conn, &m.sender, "results", "in")?
            && m.sequence as i64 <= max
        {
            return Err(refused(
                "replay",
                format!(
                    "sequence {} is not newer than {max}, already applied from {}",
                    m.sequence, signer.name
                ),
            ));
        }
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
            before_revocation,
        })
    }

    fn merge_results(&mut self, v: VerifiedResults) -> Result<MergeReport> {
        let mut report = MergeReport {
            package_id: v.manifest.package_id.clone(),
            sender: v.manifest.sender.clone(),
            sequence: v.manifest.sequence,
            audit_rows_added: v.audit.rows.len(),
            signed_before_revocation: v.before_revocation,
            ..MergeReport::default()
        };
        let annotator = v.signer.id;
        let laptop = v.results.laptop_project_id.clone();
        let hash = manifest_hash(&v.manifest);
        let paths = self.project.paths.clone();
        let pid_owned = self.project_id().to_string();
        // Labels come back in the coordinates of the window each item was
        // sent in, and transcripts with the masking they were sent with.
        let mut windows: BTreeMap<i64, Window> = BTreeMap::new();
        let mut plans: BTreeMap<i64, PrivacyPlan> = BTreeMap::new();
        let defaults = self.plan_defaults()?;
        for item in &v.results.items {
            let conn = self.project.store.conn();
            if let Some(Some(w)) = store::sent_window(conn, item.item_id, annotator)? {
                windows.insert(item.item_id, w);
            }
            plans.insert(
                item.item_id,
                self.privacy_plan_with(item.item_id, &defaults)?,
            );
        }
        let report = self.write(|tx, pid, actor| {
            for item in &v.results.items {
                // Nothing new: the laptop only echoes the state the site
                // sent it (e.g. an approval).
                let site_state = store::assignment_state(tx, item.item_id, annotator)?;
                if site_state.as_ref().map(|(s, _)| s.as_str()) == Some(item.state.as_str())
                    && !has_new_revisions(tx, item, &laptop)?
                {
                    continue;
                }
                let conflict = item_conflict(tx, item, annotator, &laptop)?;
                if let Some(reason) = conflict {
                    store::insert_conflict(
                        tx,
                        &v.manifest.package_id,
                        item.item_id,
                        &reason,
                        &serde_json::to_string(item).unwrap_or_default(),
                    )?;
                    report.conflicts.push((item.item_id, reason));
                    continue;
                }
                let mut text: Option<String> = None;
                for a in &item.annotations {
                    let origin = format!("{laptop}:{}", a.local_id);
                    let (mut target, current) = merge_target(tx, a, &laptop)?;
                    for r in a.revisions.iter().filter(|r| r.revision > current) {
                        // Byte offsets of spans come from the site's own text
                        // (the laptop's may have been masked).
                        let mut draft = r.draft.clone();
                        if let Some(w) = windows.get(&item.item_id) {
                            draft.geometry = w.from_window(&draft.geometry);
                        }
                        if let (Some(id), Some(plan), Geometry::Segment { transcript, .. }) =
                            (target, plans.get(&item.item_id), &mut draft.geometry)
                            && let Some(Geometry::Segment {
                                transcript: original,
                                ..
                            }) = store::annotation_geometry(tx, id)?
                        {
                            *transcript = unmask_transcript(
                                &original,
                                &plan.mask_transcript(&original),
                                transcript,
                            );
                        }
                        if let Geometry::Span {
                            start,
                            end,
                            byte_start,
                            byte_end,
                        } = &mut draft.geometry
                        {
                            // Decrypted once per item, however many spans.
                            if text.is_none() {
                                text = Some(site_text(tx, &paths, &pid_owned, item.item_id)?);
                            }
                            let t = text.as_deref().unwrap_or_default();
                            *byte_start = char_to_byte(t, *start as usize)? as u64;
                            *byte_end = char_to_byte(t, *end as usize)? as u64;
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
                    &item.state,
                    item.reason.as_deref(),
                )?;
                report.items_merged.push(item.item_id);
            }
            let conflicted: BTreeSet<i64> = report.conflicts.iter().map(|(i, _)| *i).collect();
            for c in &v.results.comments {
                let origin = format!("{laptop}:c{}", c.id);
                if conflicted.contains(&c.item_id) || store::comment_origin_known(tx, &origin)? {
                    continue;
                }
                let annotation_id = match c.annotation_id {
                    Some(local) => store::annotation_by_origin(tx, &format!("{laptop}:{local}"))?
                        .map(|(id, _)| id)
                        .or_else(|| {
                            // A comment on a label that began at the site.
                            v.results
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
                        author: annotator,
                        to_user: None,
                        body: &c.body,
                        at_ms: c.at_ms,
                        origin: Some(&origin),
                    },
                )?;
                report.comments_added += 1;
            }
            for i in &v.results.incidents {
                let origin = format!("{laptop}:i{}", i.id);
                if store::incident_origin_known(tx, &origin)?
                    || !super::governance::INCIDENT_KINDS.contains(&i.kind.as_str())
                {
                    continue;
                }
                let id = store::insert_incident(
                    tx,
                    &store::NewIncident {
                        item_id: i.item_id,
                        reporter: annotator,
                        kind: &i.kind,
                        reason: &i.reason,
                        at_ms: i.at_ms,
                        origin: Some(&origin),
                    },
                )?;
                store::append_audit(
                    tx,
                    pid,
                    actor,
                    "incident.report",
                    &format!("item:{}", i.item_id),
                    &json!({"incident": id, "kind": i.kind, "reporter": v.manifest.sender, "package": v.manifest.package_id})
                        .to_string(),
                )?;
                report.incidents_added += 1;
            }
            let gold = super::quality::score_gold_items(tx, annotator, &report.items_merged)?;
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
            store::append_audit(
                tx,
                pid,
                actor,
                "package.merge",
                &format!("package:{}", v.manifest.package_id),
                &json!({
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
                })
                .to_string(),
            )?;
            Ok(report)
        })?;
        Ok(report)
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

fn kind_name(kind: PackageKind) -> &'static str {
    match kind {
        PackageKind::Work => "work",
        PackageKind::Results => "results",
        PackageKind::Export => "export",
    }
}

struct VerifiedResults {
    manifest: Manifest,
    signer: crate::model::User,
    results: ResultsDoc,
    audit: AuditDoc,
    /// Signed by a member since removed, before the removal.
    before_revocation: bool,
}

/// An item's text at the site, decrypted in memory.
fn site_text(
    conn: &rusqlite::Connection,
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

/// Char to byte offset, as a store error (a span past the text's end).
fn char_to_byte(text: &str, chars: usize) -> store::Result<usize> {
    crate::text_offsets::char_to_byte(text, chars)
        .map_err(|e| store::StoreError::Invalid(format!("span offset: {e}")))
}

/// The site label a laptop label merges into — the pre-label it began as,
/// or the one an earlier merge created from it — and its current revision
/// (0 when there is none yet).
fn merge_target(
    conn: &rusqlite::Connection,
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
fn has_new_revisions(
    conn: &rusqlite::Connection,
    item: &ItemResult,
    laptop: &str,
) -> store::Result<bool> {
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
    conn: &rusqlite::Connection,
    item: &ItemResult,
    annotator: i64,
    laptop: &str,
) -> store::Result<Option<String>> {
    let Some((state, _)) = store::assignment_state(conn, item.item_id, annotator)? else {
        return Ok(Some(
            "reassigned: the item is no longer assigned to this annotator".into(),
        ));
    };
    if state == "approved" {
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

/// Checks an audit segment: it continues the chain held for that bundle
/// (or starts it), every row hashes and links, and a head signed by the
/// annotator covers its last row.
fn check_segment(
    conn: &rusqlite::Connection,
    doc: &AuditDoc,
    signer: &crate::model::User,
    key: &PublicIdentity,
) -> Result<()> {
    let fail = |why: String| refused("audit segment", why);
    let (mut seq, mut prev) = match store::peer_audit_tip(conn, &doc.chain)? {
        Some(tip) => tip,
        None => (0, audit::genesis_hash(&doc.chain)),
    };
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
            && hex::decode(&h.signature)
                .is_ok_and(|sig| key.verify(&audit::head_message(&doc.chain, h.seq, &h.hash), &sig))
    });
    if !doc.rows.is_empty() && !covered {
        return Err(fail(format!(
            "no head signed by {} covers its last row ({seq})",
            signer.name
        )));
    }
    Ok(())
}

/// An item's name in a package when names are opaque: its id and the
/// extension only (`item-000042.jpg`; a record of a JSONL file keeps no
/// trace of the file or record id).
/// The SHA-256 the signed manifest gives a member (empty if absent).
fn media_hash(m: &Manifest, member: &str) -> String {
    m.members
        .iter()
        .find(|e| e.name == member)
        .map(|e| e.sha256.clone())
        .unwrap_or_default()
}

fn opaque_name(item_id: i64, name: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    format!("item-{item_id:06}{ext}")
}

/// Where a work package's local bundle goes by default.
pub fn default_local_bundle(home: &Home, origin_project_id: &str, name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(32)
        .collect();
    let short = origin_project_id.get(..8).unwrap_or(origin_project_id);
    home.projects_dir().join(format!(
        "{}-{short}.sealtag",
        if slug.is_empty() { "work" } else { &slug }
    ))
}

/// Verifies a work package on the laptop and creates (or extends) the
/// local bundle holding only its items. Nothing is written unless every
/// check passes; a refusal is recorded as a security event in the bundle
/// (or, before one exists, in the next project this identity opens).
///
/// `dest` chooses the bundle; by default it is under `home`'s projects.
/// `expect_signer`, when given, is the fingerprint the site admin read out
/// to the annotator: the first package of a project is trusted only if it
/// matches (trust on first use otherwise, with the signer shown).
pub fn open_work_package(
    file: &Path,
    identity: &UnlockedIdentity,
    home: &Home,
    dest: Option<&Path>,
    expect_signer: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<WorkOpened> {
    let result = open_work_inner(file, identity, home, dest, expect_signer, progress);
    if let Err(e) = &result
        && !matches!(e, CoreError::Cancelled)
    {
        home.note_security_event(
            "package.rejected",
            &format!(
                "{}: {e}",
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        );
    }
    result
}

fn open_work_inner(
    file: &Path,
    identity: &UnlockedIdentity,
    home: &Home,
    dest: Option<&Path>,
    expect_signer: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<WorkOpened> {
    let input = File::open(file)
        .map_err(|e| CoreError::Io(format!("cannot read {}: {e}", file.display())))?;
    let total = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut opened =
        package::open_package(io::BufReader::with_capacity(256 * 1024, input), identity)
            .map_err(package_err)?;
    let m = opened.manifest.clone();
    if m.kind != PackageKind::Work {
        return Err(refused(
            "format",
            format!(
                "this is a {} package; open results at the site with --project",
                kind_name(m.kind)
            ),
        ));
    }
    let me = identity.public().fingerprint();
    // The first member is the work document; its hash is checked before use.
    let (entry, doc_bytes) = opened
        .next_member_bytes(MAX_DOC_BYTES)
        .ok_or_else(|| refused("format", "the package holds no work.json"))?
        .map_err(package_err)?;
    if entry.name != WORK_DOC {
        return Err(refused("format", "the first member is not work.json"));
    }
    let doc: WorkDoc = parse_doc(WORK_DOC, &doc_bytes)?;
    if doc.recipient.fingerprint != me {
        return Err(refused(
            "recipient",
            format!("the work inside is for {}, not for you", doc.recipient.name),
        ));
    }
    let root = dest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_local_bundle(home, &m.project_id, &doc.project_name));
    let existing = BundlePaths::new(&root).header().exists();
    // Signer trust: a bundle already made from this project trusts only the
    // site admins it was told about; a first package trusts the fingerprint
    // read out of band when given, else its signer (shown to the user).
    let mut project = if existing {
        let project = Project::open(&root, identity).map_err(CoreError::from)?;
        let conn = project.store.conn();
        let origin = store::meta(conn, "origin_project_id")?;
        if origin.as_deref() != Some(m.project_id.as_str()) {
            return Err(refused(
                "project",
                format!(
                    "{} holds another project's work; choose another place",
                    root.display()
                ),
            ));
        }
        if let Some(at) = store::revoked_at(conn, &m.sender)?
            && m.created_ms > at
        {
            return Err(refused(
                "revocation",
                format!(
                    "{}'s key was revoked by the site at {}; this package was made at {}",
                    m.sender,
                    crate::model::format_time(at),
                    crate::model::format_time(m.created_ms)
                ),
            ));
        }
        let site: Vec<Person> = serde_json::from_str(
            &store::meta(conn, "site_recipients")?.unwrap_or_else(|| "[]".into()),
        )
        .unwrap_or_default();
        if !site
            .iter()
            .any(|p| p.fingerprint == m.sender && p.public_key == m.sender_key)
        {
            return Err(refused(
                "signer",
                format!(
                    "{} is not an admin of the site this bundle came from",
                    m.sender
                ),
            ));
        }
        if store::package_known(conn, &m.package_id)? {
            return Err(refused(
                "replay",
                format!("package {} was already opened here", m.package_id),
            ));
        }
        if let Some(max) = store::max_sequence(conn, &m.sender, "work", "in")?
            && m.sequence as i64 <= max
        {
            return Err(refused(
                "replay",
                format!(
                    "sequence {} is not newer than {max}, already opened",
                    m.sequence
                ),
            ));
        }
        Some(project)
    } else {
        if let Some(want) = expect_signer
            && want.replace(' ', "") != m.sender.replace(' ', "")
        {
            return Err(refused(
                "signer",
                format!("it was signed by {}, not by {want}", m.sender),
            ));
        }
        if !doc
            .site
            .iter()
            .any(|p| p.fingerprint == m.sender && p.public_key == m.sender_key)
        {
            return Err(refused(
                "signer",
                format!(
                    "{} is not among the site admins the package names",
                    m.sender
                ),
            ));
        }
        None
    };
    // Where new blobs go until everything checks: the existing bundle, or a
    // bundle being built beside its final place (renamed at the end).
    let build_root = if project.is_some() {
        root.clone()
    } else {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle".into());
        root.with_file_name(format!(
            ".{name}.{}.partial",
            hex::encode(crate::crypto::random_bytes::<6>())
        ))
    };
    let mut written: Vec<(i64, crate::bundle::NewBlob)> = Vec::new();
    let outcome = (|| -> Result<Project> {
        let project = match project.take() {
            Some(p) => p,
            None => {
                if let Some(parent) = build_root.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| CoreError::Io(format!("{}: {e}", parent.display())))?;
                }
                Project::create(&build_root, identity)?
            }
        };
        let pid = project.project_id().to_string();
        let by_member: BTreeMap<&str, &WorkItem> =
            doc.items.iter().map(|i| (i.media.as_str(), i)).collect();
        let mut done = doc_bytes.len() as u64;
        let mut last = 0u64;
        while let Some(mut reader) = opened.next_member_reader() {
            let name = reader.name().to_string();
            let Some(item) = by_member.get(name.as_str()) else {
                return Err(refused(
                    "item",
                    format!("member '{name}' is not one of the items the package lists"),
                ));
            };
            let blob = project.paths.write_blob(
                &pid,
                &mut ProgressRead {
                    inner: &mut reader,
                    done: &mut done,
                    last: &mut last,
                    total,
                    progress: &mut *progress,
                    cancelled: false,
                },
            );
            let verdict = reader.finish();
            let blob = match (blob, verdict) {
                (Ok(b), Ok(_)) => b,
                (Ok(b), Err(e)) => {
                    project.paths.remove_blob(&b.blob_id);
                    return Err(package_err(e));
                }
                (Err(_), Err(e)) => return Err(package_err(e)),
                (Err(e), Ok(_)) => {
                    return Err(if e.to_string().contains("cancelled") {
                        CoreError::Cancelled
                    } else {
                        CoreError::from(e)
                    });
                }
            };
            written.push((item.id, blob));
        }
        opened.verify_end().map_err(package_err)?;
        let listed: BTreeSet<i64> = doc.items.iter().map(|i| i.id).collect();
        let delivered: BTreeSet<i64> = written.iter().map(|(id, _)| *id).collect();
        if listed != delivered {
            return Err(refused(
                "item",
                "the package lists items whose media it does not carry",
            ));
        }
        Ok(project)
    })();
    let mut project = match outcome {
        Ok(p) => p,
        Err(e) => {
            if build_root != root {
                let _ = std::fs::remove_dir_all(&build_root);
            } else {
                // An extended bundle keeps no blob that no row references.
                let paths = BundlePaths::new(&root);
                for (_, blob) in &written {
                    paths.remove_blob(&blob.blob_id);
                }
            }
            return Err(e);
        }
    };
    let created = build_root != root;
    let items_added = install_work(&mut project, identity, &doc, &m, created, written)?;
    drop(project);
    if created {
        std::fs::rename(&build_root, &root)
            .map_err(|e| CoreError::Io(format!("{}: {e}", root.display())))?;
    }
    home.remember_project(&root);
    let sender_name = doc
        .site
        .iter()
        .find(|p| p.fingerprint == m.sender)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    Ok(WorkOpened {
        bundle: root,
        created,
        package_id: m.package_id,
        sender: m.sender,
        sender_name,
        items_added,
        prelabels: doc.prelabels.len(),
    })
}

/// Counts bytes through a member reader for progress, and cancels.
struct ProgressRead<'a, 'p, R> {
    inner: &'a mut R,
    done: &'a mut u64,
    last: &'a mut u64,
    total: u64,
    progress: ProgressFn<'p>,
    cancelled: bool,
}

impl<R: io::Read> io::Read for ProgressRead<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.done += n as u64;
        if *self.done - *self.last >= 4 << 20 {
            *self.last = *self.done;
            let p = package::Progress {
                phase: "reading",
                done: *self.done,
                total: self.total,
            };
            if !(self.progress)(p) {
                self.cancelled = true;
                return Err(io::Error::other("cancelled"));
            }
        }
        Ok(n)
    }
}

/// Brings the site's labels on one item into the laptop bundle: new ones
/// are copied with their site revision; ones the laptop has (a site label,
/// or the laptop's own label merged at the site) take the site's state when
/// the site has a newer revision (a reviewer's correction).
fn sync_prelabels(
    tx: &rusqlite::Transaction<'_>,
    laptop_pid: &str,
    doc: &WorkDoc,
    item_id: i64,
    me: i64,
) -> Result<()> {
    let own_prefix = format!("{laptop_pid}:");
    for pre in doc.prelabels.iter().filter(|p| p.item_id == item_id) {
        let local = match pre
            .origin
            .as_deref()
            .and_then(|o| o.strip_prefix(&own_prefix))
        {
            Some(local_id) => local_id.parse::<i64>().ok(),
            None => store::annotation_by_origin(tx, &format!("{SITE_ORIGIN}{}", pre.site_id))?
                .map(|(id, _)| id),
        };
        let who = |fpr: &str| -> Result<i64> {
            Ok(store::user_by_fingerprint(tx, fpr)?
                .map(|u| u.id)
                .unwrap_or(me))
        };
        match local
            .map(|id| store::annotation_state(tx, id))
            .transpose()?
            .flatten()
        {
            None => {
                let id = store::insert_annotation_copy(
                    tx,
                    &format!("{SITE_ORIGIN}{}", pre.site_id),
                    item_id,
                    &pre.draft,
                    pre.revision,
                    who(&pre.author)?,
                )?;
                if let Some(source) = &pre.source {
                    store::set_prediction(tx, id, source, pre.score)?;
                }
            }
            Some(state) if pre.revision > state.revision => {
                let editor = who(pre.editor.as_deref().unwrap_or(&pre.author))?;
                let rev = store::Revision {
                    item_id,
                    draft: &pre.draft,
                    deleted: false,
                    op: "update",
                    actor: editor,
                };
                store::write_annotation_at(tx, Some(state.id), &rev, now_ms())?;
                // Keep the site's numbering so later merges line up.
                tx.execute(
                    "UPDATE annotations SET revision = ?2 WHERE id = ?1",
                    rusqlite::params![state.id, pre.revision],
                )?;
                tx.execute(
                    "UPDATE annotation_revisions SET revision = ?3 WHERE annotation_id = ?1 AND revision = ?2",
                    rusqlite::params![state.id, state.revision + 1, pre.revision],
                )?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Writes a verified work package's rows into the local bundle in one
/// transaction: people, schema, settings, items, assignments, pre-labels,
/// the ledger row and the audit row.
fn install_work(
    project: &mut Project,
    identity: &UnlockedIdentity,
    doc: &WorkDoc,
    m: &Manifest,
    created: bool,
    written: Vec<(i64, crate::bundle::NewBlob)>,
) -> Result<Vec<i64>> {
    let pid = project.project_id().to_string();
    let me = identity.public();
    let my_fpr = me.fingerprint();
    let hash = manifest_hash(m);
    let tx = project.store.transaction()?;
    if created {
        store::set_meta(&tx, "name", &doc.project_name)?;
        store::set_meta(&tx, "created_at", &now_ms().to_string())?;
        store::set_meta(&tx, "origin_project_id", &m.project_id)?;
        store::append_audit(
            &tx,
            &pid,
            &my_fpr,
            "project.create",
            &format!("project:{pid}"),
            &json!({"name": doc.project_name, "from_package": m.package_id, "origin_project": m.project_id}).to_string(),
        )?;
    }
    store::set_meta(
        &tx,
        "site_recipients",
        &serde_json::to_string(&doc.site).unwrap_or_default(),
    )?;
    for (fingerprint, at) in &doc.revoked {
        store::put_revocation(&tx, fingerprint, *at)?;
    }
    // The newest package decides the expiry (none: no expiry).
    store::set_meta(
        &tx,
        "expires_at_ms",
        &doc.expires_at_ms
            .map(|at| at.to_string())
            .unwrap_or_default(),
    )?;
    if doc.expires_at_ms.is_some() {
        store::set_meta(&tx, "expired_results_sent", "")?;
    }
    let mut people: Vec<&Person> = vec![&doc.recipient];
    people.extend(doc.site.iter());
    people.extend(doc.authors.iter());
    for p in people {
        if store::user_by_fingerprint(&tx, &p.fingerprint)?.is_some() {
            continue;
        }
        let id = store::insert_user(&tx, &p.fingerprint, &p.name, &p.public_key, p.role)?;
        // Only the laptop's owner holds a key slot and may sign in here.
        if p.fingerprint != my_fpr {
            store::deactivate_user(&tx, id)?;
        }
    }
    let mine = store::user_by_fingerprint(&tx, &my_fpr)?
        .ok_or_else(|| CoreError::NotFound("the laptop's own user".into()))?;
    for (position, class) in doc.schema.classes.iter().enumerate() {
        store::put_class_with_id(&tx, class, position as i64 + 1)?;
    }
    for (key, value) in [
        ("multi_label_tags", doc.schema.multi_label_tags),
        ("overlapping_spans", doc.schema.overlapping_spans),
        ("overlapping_segments", doc.schema.overlapping_segments),
    ] {
        store::set_setting(&tx, key, if value { "true" } else { "false" })?;
    }
    store::set_meta(&tx, "schema_version", &doc.schema.version.to_string())?;
    for (key, value) in &doc.settings {
        store::set_setting(&tx, key, value)?;
    }
    let mut added = Vec::new();
    let mut updated = Vec::new();
    // Items whose media were replaced by a newer masking, with the old blob.
    let mut remasked: Vec<(i64, Option<String>)> = Vec::new();
    // An item the site sends again after this laptop reported it has been
    // dealt with there: it returns to the queue.
    for item in &doc.items {
        tx.execute(
            "UPDATE incidents SET status = 'released', note = 'sent again by the site'
             WHERE item_id = ?1 AND status = 'open' AND origin IS NULL",
            [item.id],
        )?;
    }
    for (item_id, blob) in &written {
        let Some(item) = doc.items.iter().find(|i| i.id == *item_id) else {
            continue;
        };
        if store::item_exists(&tx, item.id)? {
            // Sent again (e.g. rejected with a comment): take the site's
            // state and its newer label revisions; keep the media we have
            // unless the site changed its masking (never keep a copy the
            // site has since masked more).
            if store::item_privacy(&tx, item.id)?.0 != item.privacy_version {
                let old = store::item_blob(&tx, item.id)?.map(|(b, _)| b);
                store::insert_blob(&tx, &blob.blob_id, &blob.key, blob.size)?;
                store::replace_item_media(
                    &tx,
                    item.id,
                    &blob.blob_id,
                    &item.format,
                    &media_hash(m, &item.media),
                )?;
                store::put_privacy_version(&tx, item.id, item.privacy_version)?;
                remasked.push((item.id, old));
            }
            let local = store::assignment_state(&tx, item.id, mine.id)?;
            if local.as_ref().map(|(s, _)| s.as_str()) != Some(item.state.as_str()) {
                store::put_assignment(&tx, item.id, mine.id, &item.purpose, &item.state, None)?;
                updated.push(item.id);
            }
            sync_prelabels(&tx, &pid, doc, item.id, mine.id)?;
            continue;
        }
        store::insert_blob(&tx, &blob.blob_id, &blob.key, blob.size)?;
        store::insert_item_as(
            &tx,
            Some(item.id),
            &store::NewItem {
                kind: item.kind,
                name: &item.name,
                format: &item.format,
                // The copy's own hash (from the signed manifest): the
                // original's never reaches a laptop.
                sha256: &media_hash(m, &item.media),
                blob_id: &blob.blob_id,
                width: item.width,
                height: item.height,
                duration_secs: item.duration_secs,
                char_len: item.char_len,
                metadata: &item.metadata,
            },
        )?;
        store::put_assignment(&tx, item.id, mine.id, &item.purpose, &item.state, None)?;
        store::put_privacy_version(&tx, item.id, item.privacy_version)?;
        sync_prelabels(&tx, &pid, doc, item.id, mine.id)?;
        added.push(item.id);
    }
    for c in &doc.comments {
        let origin = format!("{SITE_ORIGIN}c{}", c.id);
        if store::comment_origin_known(&tx, &origin)? || !store::item_exists(&tx, c.item_id)? {
            continue;
        }
        let author = store::user_by_fingerprint(&tx, &c.author)?
            .map(|u| u.id)
            .unwrap_or(mine.id);
        let annotation_id = match c.annotation_id {
            Some(site) => {
                store::annotation_by_origin(&tx, &format!("{SITE_ORIGIN}{site}"))?.map(|(id, _)| id)
            }
            None => None,
        };
        store::insert_comment(
            &tx,
            &store::NewComment {
                item_id: c.item_id,
                annotation_id,
                author,
                to_user: (author != mine.id).then_some(mine.id),
                body: &c.body,
                at_ms: c.at_ms,
                origin: Some(&origin),
            },
        )?;
    }
    store::set_meta(
        &tx,
        "acceptance",
        &serde_json::to_string(&doc.acceptance).unwrap_or_default(),
    )?;
    store::insert_package(
        &tx,
        &PackageRow {
            id: m.package_id.clone(),
            kind: "work".into(),
            direction: "in".into(),
            sender: m.sender.clone(),
            recipients: m.recipients.clone(),
            sequence: m.sequence as i64,
            manifest_sha256: hash.clone(),
            at_ms: now_ms(),
            summary: json!({"items": added}).to_string(),
        },
    )?;
    store::append_audit(
        &tx,
        &pid,
        &my_fpr,
        "package.open",
        &format!("package:{}", m.package_id),
        &json!({
            "kind": "work",
            "sender": m.sender,
            "sequence": m.sequence,
            "items": added,
            "updated": updated,
            "remasked": remasked.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            "manifest_sha256": hash,
        })
        .to_string(),
    )?;
    tx.commit()?;
    // Blobs of items that were already present are not referenced: remove.
    for (item_id, blob) in &written {
        if !added.contains(item_id) && !remasked.iter().any(|(i, _)| i == item_id) {
            project.paths.remove_blob(&blob.blob_id);
        }
    }
    // Nor are the media a newer masking replaced.
    for (_, old) in &remasked {
        if let Some(old) = old {
            project.paths.remove_blob(old);
        }
    }
    Ok(added)
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| CoreError::Invalid(e.to_string()))
}
