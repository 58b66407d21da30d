//! `sealtag package inspect`: what a package holds, shown to its recipient
//! without applying anything. Security teams use it to check what leaves a
//! site; the tests use it to prove that a work package carries no hash of
//! an original and no record field the admin did not allow-list.
//!
//! The container checks run as for opening (decryption, format, signature,
//! every member's SHA-256); a package that fails one is refused with the
//! named check and the refusal is noted for the next project this identity
//! opens, like any other failed security check. Members are streamed: media
//! are hashed and counted, never decoded or written anywhere.

use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use super::wire::{
    AUDIT_DOC, AuditDoc, Person, RESULTS_DOC, ResultsDoc, WORK_DOC, WorkDoc, WorkItem,
};
use crate::controller::{CoreError, Result};
use crate::crypto::UnlockedIdentity;
use crate::events::AuditAction;
use crate::home::Home;
use crate::model::AssignmentState;
use crate::package::{self, Manifest, MemberEntry, PackageKind};

/// A JSON document larger than this is listed, not parsed.
const MAX_INSPECT_DOC_BYTES: u64 = 256 << 20;

/// Everything a package holds, as its recipient can read it.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    /// The signed manifest (kind, id, project, signer, recipients, created,
    /// sequence, every member with size and SHA-256).
    pub manifest: Manifest,
    /// The signer's name as the package states it (a work package names
    /// the site's admins), if it does.
    pub signer_name: Option<String>,
    pub work: Option<WorkView>,
    pub results: Option<ResultsView>,
    /// Every JSON member as parsed, key for key: nothing a package holds is
    /// hidden by the summaries above.
    pub documents: BTreeMap<String, serde_json::Value>,
}

/// A work package's content.
#[derive(Clone, Debug, Serialize)]
pub struct WorkView {
    pub project_name: String,
    pub recipient: Person,
    pub site: Vec<Person>,
    pub classes: Vec<String>,
    pub guidelines_chars: usize,
    pub settings: BTreeMap<String, String>,
    pub expires_at_ms: Option<i64>,
    pub items: Vec<InspectedItem>,
    pub prelabels: usize,
    pub comments: usize,
}

/// One item of a work package, with every field it carries and its media
/// member's size and hash.
#[derive(Clone, Debug, Serialize)]
pub struct InspectedItem {
    #[serde(flatten)]
    pub item: WorkItem,
    /// The record fields the item carries (parsed `metadata`).
    pub fields: BTreeMap<String, serde_json::Value>,
    pub media_bytes: Option<u64>,
    pub media_sha256: Option<String>,
    pub prelabels: usize,
}

/// A results package's content.
#[derive(Clone, Debug, Serialize)]
pub struct ResultsView {
    pub laptop_project_id: String,
    pub full: bool,
    /// Item id, state, number of labels.
    pub items: Vec<(i64, AssignmentState, usize)>,
    pub comments: usize,
    pub incidents: usize,
    pub audit_rows: usize,
}

/// Opens `file` with `identity`, checks it as opening would, and describes
/// it. Nothing is written but a refusal note (see the module header).
pub fn inspect_package(
    file: &Path,
    identity: &UnlockedIdentity,
    home: &Home,
) -> Result<Inspection> {
    let result = inspect_inner(file, identity);
    if let Err(e) = &result {
        home.note_security_event(
            AuditAction::PackageRejected,
            &format!(
                "{} (inspect): {e}",
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        );
    }
    result
}

fn inspect_inner(file: &Path, identity: &UnlockedIdentity) -> Result<Inspection> {
    let mut opened = super::open_file(file, identity)?;
    let manifest = opened.manifest.clone();
    let mut documents = BTreeMap::new();
    while let Some(member) = next_member(&mut opened) {
        let (entry, bytes) = member?;
        if let Some(bytes) = bytes {
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| CoreError::PackageRefused {
                    check: "format".into(),
                    why: format!("member {} is not JSON: {e}", entry.name),
                })?;
            documents.insert(entry.name, value);
        }
    }
    opened.verify_end().map_err(super::package_err)?;
    let members: BTreeMap<&str, &MemberEntry> = manifest
        .members
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    let work = match (manifest.kind, documents.get(WORK_DOC)) {
        (PackageKind::Work, Some(doc)) => {
            let doc: WorkDoc = typed(WORK_DOC, doc)?;
            Some(work_view(doc, &members))
        }
        _ => None,
    };
    let results = match (manifest.kind, documents.get(RESULTS_DOC)) {
        (PackageKind::Results, Some(doc)) => {
            let doc: ResultsDoc = typed(RESULTS_DOC, doc)?;
            let audit_rows = match documents.get(AUDIT_DOC) {
                Some(a) => typed::<AuditDoc>(AUDIT_DOC, a)?.rows.len(),
                None => 0,
            };
            Some(ResultsView {
                laptop_project_id: doc.laptop_project_id,
                full: doc.full,
                items: doc
                    .items
                    .iter()
                    .map(|i| (i.item_id, i.state, i.annotations.len()))
                    .collect(),
                comments: doc.comments.len(),
                incidents: doc.incidents.len(),
                audit_rows,
            })
        }
        _ => None,
    };
    let signer_name = work.as_ref().and_then(|w| {
        w.site
            .iter()
            .find(|p| p.fingerprint == manifest.sender)
            .map(|p| p.name.clone())
    });
    Ok(Inspection {
        manifest,
        signer_name,
        work,
        results,
        documents,
    })
}

/// The next member, read to its end and hash-checked: the bytes of a JSON
/// document (kept to be parsed), `None` for media (hashed, then dropped).
#[allow(clippy::type_complexity)]
fn next_member<R: io::Read>(
    opened: &mut package::OpenedPackage<R>,
) -> Option<Result<(MemberEntry, Option<Vec<u8>>)>> {
    let entry = opened.manifest.members.get(opened.position())?.clone();
    let is_doc = entry.name.ends_with(".json") && entry.size <= MAX_INSPECT_DOC_BYTES;
    Some(if is_doc {
        opened
            .next_member_bytes(MAX_INSPECT_DOC_BYTES)?
            .map(|(e, b)| (e, Some(b)))
            .map_err(super::package_err)
    } else {
        opened
            .next_member_to(&mut io::sink())?
            .map(|e| (e, None))
            .map_err(super::package_err)
    })
}

fn typed<T: serde::de::DeserializeOwned>(name: &str, value: &serde_json::Value) -> Result<T> {
    // Read from the parsed value in place: a work.json can be large.
    T::deserialize(value).map_err(|e| CoreError::PackageRefused {
        check: "format".into(),
        why: format!("{name} is malformed: {e}"),
    })
}

fn work_view(doc: WorkDoc, members: &BTreeMap<&str, &MemberEntry>) -> WorkView {
    let mut per_item: BTreeMap<i64, usize> = BTreeMap::new();
    for p in &doc.prelabels {
        *per_item.entry(p.item_id).or_default() += 1;
    }
    let items = doc
        .items
        .into_iter()
        .map(|item| {
            let fields = match serde_json::from_str::<serde_json::Value>(&item.metadata) {
                Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
                _ => BTreeMap::new(),
            };
            let media = members.get(item.media.as_str());
            InspectedItem {
                fields,
                media_bytes: media.map(|m| m.size),
                media_sha256: media.map(|m| m.sha256.clone()),
                prelabels: per_item.get(&item.id).copied().unwrap_or(0),
                item,
            }
        })
        .collect();
    WorkView {
        project_name: doc.project_name,
        recipient: doc.recipient,
        site: doc.site,
        classes: doc.schema.classes.iter().map(|c| c.name.clone()).collect(),
        guidelines_chars: doc.guidelines.chars().count(),
        settings: doc.settings,
        expires_at_ms: doc.expires_at_ms,
        items,
        prelabels: doc.prelabels.len(),
        comments: doc.comments.len(),
    }
}
