//! Opening a work package on the laptop: every check first (decryption,
//! format, recipient, signer trust, revocation, replay, every member's
//! hash), then the local bundle is created or extended with only the
//! package's items, in one transaction.
//!
//! A new bundle is built beside its final place and renamed at the end, so
//! a refused or cancelled package leaves nothing behind.

use crate::events::AuditAction;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use super::wire::{MAX_DOC_BYTES, Person, WORK_DOC, WorkDoc, WorkItem, parse_doc};
use super::{
    SITE_ORIGIN, WorkOpened, check_replay, kind_name, manifest_hash, package_err, refused,
};
use crate::bundle::{BundlePaths, NewBlob};
use crate::controller::{CoreError, Result};
use crate::crypto::UnlockedIdentity;
use crate::home::Home;
use crate::model::{User, now_ms};
use crate::package::{self, Manifest, OpenedPackage, PackageKind, ProgressFn};
use crate::project::Project;
use crate::store::{self, PackageRow};

/// Media received so far: the item each blob belongs to.
type Written = Vec<(i64, NewBlob)>;

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
    // Never the whole id: a cut inside a multi-byte character used to let
    // a crafted `project_id` (with `/../`) through as a path.
    let short = crate::ids::short(origin_project_id);
    home.projects_dir().join(format!(
        "{}-{short}.sealtag",
        if slug.is_empty() { "work" } else { &slug }
    ))
}

/// How the signer of a project's first work package is trusted. Later
/// packages are checked against the site admins the bundle already knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstSigner<'a> {
    /// The admin's fingerprint as read out to the annotator: a package
    /// signed by anyone else is refused.
    Expect(&'a str),
    /// The annotator compared the signer's fingerprint shown to them with
    /// the site's and accepts it (`--trust-first-use`, the GUI's checkbox).
    TrustFirstUse,
    /// Neither: a first package is refused, naming the fingerprint to
    /// compare and how to confirm it.
    Unconfirmed,
}

impl<'a> FirstSigner<'a> {
    /// `--signer` if given, else `--trust-first-use`, else neither.
    pub fn from_flags(signer: Option<&'a str>, trust_first_use: bool) -> Self {
        match signer {
            Some(fpr) => FirstSigner::Expect(fpr),
            None if trust_first_use => FirstSigner::TrustFirstUse,
            None => FirstSigner::Unconfirmed,
        }
    }
}

/// Verifies a work package on the laptop and creates (or extends) the
/// local bundle holding only its items. Nothing is written unless every
/// check passes; a refusal is recorded as a security event in the bundle
/// (or, before one exists, in the next project this identity opens).
///
/// `dest` chooses the bundle; by default it is under `home`'s projects.
/// `signer` says how the first package of a project is trusted: only if
/// signed by the fingerprint the site admin read out, or after the person
/// compared the fingerprint shown; otherwise it is refused, naming it.
pub fn open_work_package(
    file: &Path,
    identity: &UnlockedIdentity,
    home: &Home,
    dest: Option<&Path>,
    signer: FirstSigner<'_>,
    progress: ProgressFn<'_>,
) -> Result<WorkOpened> {
    let result = open_work_inner(file, identity, home, dest, signer, progress);
    if let Err(e) = &result
        && !matches!(e, CoreError::Cancelled)
    {
        home.note_security_event(
            AuditAction::PackageRejected,
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
    signer: FirstSigner<'_>,
    progress: ProgressFn<'_>,
) -> Result<WorkOpened> {
    let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let mut opened = super::open_file(file, identity)?;
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
    let project = if existing {
        let project = existing_bundle(&root, identity, &m)?;
        check_site_rollback(project.store.conn(), &m, &doc)?;
        check_own_rollback(&project, &doc)?;
        Some(project)
    } else {
        trust_first_package(&m, &doc, signer)?;
        None
    };
    let pinned = match &project {
        Some(p) => store::meta(p.store.conn(), MEMBERSHIP_PIN)?
            .and_then(|text| serde_json::from_str::<Pin>(&text).ok()),
        None => None,
    };
    check_site_membership(&m, pinned.as_ref(), &doc.membership)?;
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
    let mut written: Written = Vec::new();
    let outcome = bundle_to_fill(project, &build_root, identity).and_then(|project| {
        let done = doc_bytes.len() as u64;
        receive_media(
            &mut opened,
            project,
            &doc,
            (done, total),
            progress,
            &mut written,
        )
    });
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
        std::fs::rename(&build_root, &root).map_err(CoreError::io(&root))?;
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

/// A site restored from an older copy (or with its trail cut back) shows
/// a head behind one this laptop already saw from it: refused (check
/// `rollback`). A head further on cannot be checked here (the laptop holds
/// none of the rows between); the site checks the head the laptop carries
/// back.
fn check_site_rollback(conn: &store::Db, m: &Manifest, doc: &WorkDoc) -> Result<()> {
    let Some(seen) = store::seen_head(conn, &m.project_id)? else {
        return Ok(());
    };
    let fail = |why: String| {
        Err(refused(
            "rollback",
            format!(
                "{why}; the site's bundle was restored from an older copy or its audit trail was cut back or rewritten: tell the site's admins and do not use this package"
            ),
        ))
    };
    match &doc.site_head {
        None => fail(format!(
            "this package carries no signed head of the site's audit trail, but an earlier one reached row {}",
            seen.seq
        )),
        Some(h) if h.seq < seen.seq => fail(format!(
            "the site's audit trail in this package ends at row {}, but this laptop already saw row {} signed by {}",
            h.seq, seen.seq, seen.signer
        )),
        Some(h) if h.seq == seen.seq && h.hash != seen.hash => fail(format!(
            "row {} of the site's audit trail differs from the one this laptop saw",
            h.seq
        )),
        Some(_) => Ok(()),
    }
}

/// The site holds this laptop bundle's trail up to the head it sent back;
/// if the trail here no longer holds that row with that hash, this bundle
/// was restored from an older copy, or its trail was cut back or
/// rewritten (check `rollback`).
fn check_own_rollback(project: &Project, doc: &WorkDoc) -> Result<()> {
    let pid = project.project_id();
    let Some(seen) = doc.laptop_heads.iter().find(|h| h.chain == pid) else {
        return Ok(());
    };
    let seen = &seen.head;
    let why = match store::audit_hash_at(project.store.conn(), seen.seq)? {
        None => format!(
            "the site holds this bundle's audit trail up to row {} (signed by {}), but here it ends before that",
            seen.seq, seen.signer
        ),
        Some(hash) if hash != seen.hash => format!(
            "row {} of this bundle's audit trail differs from the one the site holds",
            seen.seq
        ),
        Some(_) => return Ok(()),
    };
    Err(refused(
        "rollback",
        format!(
            "{why}: this laptop bundle was restored from an older copy, or its trail was cut back or rewritten; tell the site's admins"
        ),
    ))
}

/// Opens the bundle an earlier package of the same project made, and runs
/// the checks that need it: same project, signer not revoked and one of
/// the site admins it was told about, no replay.
fn existing_bundle(root: &Path, identity: &UnlockedIdentity, m: &Manifest) -> Result<Project> {
    let project = Project::open(root, identity).map_err(CoreError::from)?;
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
    // Revoked is revoked, whatever time the package claims: its
    // created_ms is the sender's word.
    if let Some(at) = store::revoked_at(conn, &m.sender)? {
        return Err(refused(
            "revocation",
            format!(
                "{}'s key was revoked by the site at {}; a package it signed is refused whatever time it claims (this one says {})",
                m.sender,
                crate::model::format_time(at),
                crate::model::format_time(m.created_ms)
            ),
        ));
    }
    let site: Vec<Person> =
        serde_json::from_str(&store::meta(conn, "site_recipients")?.unwrap_or_else(|| "[]".into()))
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
    check_replay(conn, m, "opened", None)?;
    Ok(project)
}

/// Where a laptop bundle keeps the site's membership log position it
/// trusts (meta key).
const MEMBERSHIP_PIN: &str = "membership_pin";

/// The site's membership log as far as this laptop has seen it: its
/// founder, and its last entry's position and hash.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
struct Pin {
    founder: String,
    seq: i64,
    hash: String,
}

/// The site's signed membership a work package carries: replayed from the
/// origin project's log, it must extend the log this laptop pinned (same
/// founder, the pinned entry unchanged), and the package's signer must be
/// an admin it says is current. Returns the state (`None`: a package from
/// a site build without the log, accepted only while none is pinned).
fn check_site_membership(
    m: &Manifest,
    pinned: Option<&Pin>,
    log: &[crate::membership::Entry],
) -> Result<Option<crate::membership::Membership>> {
    use crate::membership;
    if log.is_empty() {
        return match pinned {
            Some(_) => Err(refused(
                "membership",
                "the package carries no signed membership, but this bundle holds the site's; ask the site admin to send work from a current Sealtag",
            )),
            None => Ok(None),
        };
    }
    let state =
        membership::replay(&m.project_id, log).map_err(|e| refused("membership", e.to_string()))?;
    if let Some(pin) = pinned {
        let extends = pin.founder == state.founder
            && usize::try_from(pin.seq - 1)
                .ok()
                .and_then(|i| log.get(i))
                .is_some_and(|e| membership::entry_hash(&m.project_id, e) == pin.hash);
        if !extends {
            return Err(refused(
                "membership",
                format!(
                    "the site's membership in the package does not extend the one this bundle holds (up to entry {}): it was rewritten or comes from an older copy of the site",
                    pin.seq
                ),
            ));
        }
    }
    let current = state.members.get(&m.sender).is_some_and(|s| {
        s.active && s.role == crate::model::Role::Admin && s.public_key == m.sender_key
    });
    if !current {
        return Err(refused(
            "signer",
            format!(
                "{} is not an admin the site's signed membership says is current",
                m.sender
            ),
        ));
    }
    Ok(Some(state))
}

/// Trust on first use: the first package of a project is trusted if its
/// signer is the fingerprint read out of band (when one was given) and
/// one of the site admins the package itself names.
fn trust_first_package(m: &Manifest, doc: &WorkDoc, signer: FirstSigner<'_>) -> Result<()> {
    let Some(admin) = doc
        .site
        .iter()
        .find(|p| p.fingerprint == m.sender && p.public_key == m.sender_key)
    else {
        return Err(refused(
            "signer",
            format!(
                "{} is not among the site admins the package names",
                m.sender
            ),
        ));
    };
    match signer {
        FirstSigner::Expect(want) if want.replace(' ', "") != m.sender.replace(' ', "") => {
            Err(refused(
                "signer",
                format!("it was signed by {}, not by {want}", m.sender),
            ))
        }
        FirstSigner::Expect(_) | FirstSigner::TrustFirstUse => Ok(()),
        FirstSigner::Unconfirmed => Err(refused(
            "signer",
            format!(
                "this is the first package of its project here, and nobody confirmed who signed it: it names {} as signer, with fingerprint {}. Compare that fingerprint with the one your site admin reads out to you (by phone or in person, not from the same message), then open it again with --signer \"{}\", or with --trust-first-use once you have compared it; nothing was written",
                admin.name, m.sender, m.sender
            ),
        )),
    }
}

/// The bundle the media go into: the existing one, or a new one at
/// `build_root`.
fn bundle_to_fill(
    existing: Option<Project>,
    build_root: &Path,
    identity: &UnlockedIdentity,
) -> Result<Project> {
    match existing {
        Some(p) => Ok(p),
        None => {
            if let Some(parent) = build_root.parent() {
                std::fs::create_dir_all(parent).map_err(CoreError::io(parent))?;
            }
            Ok(Project::create(build_root, identity)?)
        }
    }
}

/// Streams every media member into a blob of `project` (each hash checked
/// as it ends), then checks the package's end and that every listed item
/// came. `bytes` is (read so far, total) for progress. Blobs written are
/// pushed to `written` as they land, so a failure can remove them.
fn receive_media<R: io::Read>(
    opened: &mut OpenedPackage<R>,
    project: Project,
    doc: &WorkDoc,
    bytes: (u64, u64),
    progress: ProgressFn<'_>,
    written: &mut Written,
) -> Result<Project> {
    let pid = project.project_id().to_string();
    let by_member: BTreeMap<&str, &WorkItem> =
        doc.items.iter().map(|i| (i.media.as_str(), i)).collect();
    let (mut done, total) = bytes;
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
    tx: &store::Tx<'_>,
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
                store::renumber_annotation_revision(
                    tx,
                    state.id,
                    state.revision + 1,
                    pre.revision,
                )?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The SHA-256 the signed manifest gives a member (empty if absent).
fn media_hash(m: &Manifest, member: &str) -> String {
    m.members
        .iter()
        .find(|e| e.name == member)
        .map(|e| e.sha256.clone())
        .unwrap_or_default()
}

/// What installing a work package's items did.
#[derive(Default)]
struct Installed {
    added: Vec<i64>,
    /// Items sent again whose state the site changed.
    updated: Vec<i64>,
    /// Items whose media were replaced by a newer masking, with the old blob.
    remasked: Vec<(i64, Option<String>)>,
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
    written: Written,
) -> Result<Vec<i64>> {
    let pid = project.project_id().to_string();
    let my_fpr = identity.public().fingerprint();
    let hash = manifest_hash(m);
    let tx = project.store.transaction()?;
    let mine = install_site(&tx, &pid, &my_fpr, doc, m, created)?;
    let Installed {
        added,
        updated,
        remasked,
    } = install_items(&tx, &pid, doc, m, mine.id, &written)?;
    install_comments(&tx, doc, mine.id)?;
    if let Some(head) = &doc.site_head {
        store::note_seen_head(&tx, &m.project_id, head)?;
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
        AuditAction::PackageOpen,
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

/// The site's side of the bundle: its origin (when created), the admins
/// results go to, revocations, the expiry, the people, the schema and the
/// settings. Returns the laptop owner's user.
fn install_site(
    tx: &store::Tx<'_>,
    pid: &str,
    my_fpr: &str,
    doc: &WorkDoc,
    m: &Manifest,
    created: bool,
) -> Result<User> {
    if created {
        store::set_meta(tx, "name", &doc.project_name)?;
        store::set_meta(tx, "created_at", &now_ms().to_string())?;
        store::set_meta(tx, "origin_project_id", &m.project_id)?;
        store::append_audit(
            tx,
            pid,
            my_fpr,
            AuditAction::ProjectCreate,
            &format!("project:{pid}"),
            &json!({"name": doc.project_name, "from_package": m.package_id, "origin_project": m.project_id}).to_string(),
        )?;
    }
    // With the site's signed membership (checked before anything was
    // written), results go only to the admins it says are current, its
    // removals are revocations here, and its position is pinned.
    let signed = check_site_membership(m, None, &doc.membership)?;
    let site: Vec<&Person> = doc
        .site
        .iter()
        .filter(|p| signed.as_ref().is_none_or(|s| s.is_admin(&p.fingerprint)))
        .collect();
    store::set_meta(
        tx,
        "site_recipients",
        &serde_json::to_string(&site).unwrap_or_default(),
    )?;
    for (fingerprint, at) in &doc.revoked {
        store::put_revocation(tx, fingerprint, *at)?;
    }
    if let Some(state) = &signed {
        for (fingerprint, at) in &state.revoked {
            store::put_revocation(tx, fingerprint, *at)?;
        }
        if let Some((seq, hash)) = &state.tip {
            let pin = Pin {
                founder: state.founder.clone(),
                seq: *seq,
                hash: hash.clone(),
            };
            store::set_meta(
                tx,
                MEMBERSHIP_PIN,
                &serde_json::to_string(&pin).unwrap_or_default(),
            )?;
        }
    }
    // The newest package decides the expiry (none: no expiry).
    store::set_meta(
        tx,
        "expires_at_ms",
        &doc.expires_at_ms
            .map(|at| at.to_string())
            .unwrap_or_default(),
    )?;
    if doc.expires_at_ms.is_some() {
        store::set_meta(tx, "expired_results_sent", "")?;
    }
    let mut people: Vec<&Person> = vec![&doc.recipient];
    people.extend(doc.site.iter());
    people.extend(doc.authors.iter());
    for p in people {
        if store::user_by_fingerprint(tx, &p.fingerprint)?.is_some() {
            continue;
        }
        let id = store::insert_user(tx, &p.fingerprint, &p.name, &p.public_key, p.role)?;
        // Only the laptop's owner holds a key slot and may sign in here.
        if p.fingerprint != my_fpr {
            store::deactivate_user(tx, id)?;
        }
    }
    let mine = store::user_by_fingerprint(tx, my_fpr)?
        .ok_or_else(|| CoreError::NotFound("the laptop's own user".into()))?;
    for (position, class) in doc.schema.classes.iter().enumerate() {
        store::put_class_with_id(tx, class, position as i64 + 1)?;
    }
    for (key, value) in [
        ("multi_label_tags", doc.schema.multi_label_tags),
        ("overlapping_spans", doc.schema.overlapping_spans),
        ("overlapping_segments", doc.schema.overlapping_segments),
    ] {
        store::set_setting(tx, key, if value { "true" } else { "false" })?;
    }
    store::set_meta(tx, "schema_version", &doc.schema.version.to_string())?;
    for (key, value) in &doc.settings {
        store::set_setting(tx, key, value)?;
    }
    Ok(mine)
}

/// The package's items: new ones with their blob, assignment and labels;
/// ones sent again take the site's state, newer labels and (if the site
/// masked more since) newer media.
fn install_items(
    tx: &store::Tx<'_>,
    pid: &str,
    doc: &WorkDoc,
    m: &Manifest,
    me: i64,
    written: &Written,
) -> Result<Installed> {
    let mut out = Installed::default();
    // An item the site sends again after this laptop reported it has been
    // dealt with there: it returns to the queue.
    for item in &doc.items {
        store::release_resent_incidents(tx, item.id)?;
    }
    for (item_id, blob) in written {
        let Some(item) = doc.items.iter().find(|i| i.id == *item_id) else {
            continue;
        };
        if store::item_exists(tx, item.id)? {
            // Sent again (e.g. rejected with a comment): take the site's
            // state and its newer label revisions; keep the media we have
            // unless the site changed its masking (never keep a copy the
            // site has since masked more).
            if store::item_privacy(tx, item.id)?.0 != item.privacy_version {
                let old = store::item_blob(tx, item.id)?.map(|(b, _)| b);
                store::insert_blob(tx, &blob.blob_id, &blob.key, blob.size)?;
                store::replace_item_media(
                    tx,
                    item.id,
                    &blob.blob_id,
                    &item.format,
                    &media_hash(m, &item.media),
                )?;
                store::put_privacy_version(tx, item.id, item.privacy_version)?;
                out.remasked.push((item.id, old));
            }
            let local = store::assignment_state(tx, item.id, me)?;
            if local.as_ref().map(|(s, _)| *s) != Some(item.state) {
                store::put_assignment(tx, item.id, me, &item.purpose, item.state, None)?;
                out.updated.push(item.id);
            }
            sync_prelabels(tx, pid, doc, item.id, me)?;
            continue;
        }
        store::insert_blob(tx, &blob.blob_id, &blob.key, blob.size)?;
        store::insert_item_as(
            tx,
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
        store::put_assignment(tx, item.id, me, &item.purpose, item.state, None)?;
        store::put_privacy_version(tx, item.id, item.privacy_version)?;
        sync_prelabels(tx, pid, doc, item.id, me)?;
        out.added.push(item.id);
    }
    Ok(out)
}

/// Comments the site sent on items this bundle holds, each once.
fn install_comments(tx: &store::Tx<'_>, doc: &WorkDoc, me: i64) -> Result<()> {
    for c in &doc.comments {
        let origin = format!("{SITE_ORIGIN}c{}", c.id);
        if store::comment_origin_known(tx, &origin)? || !store::item_exists(tx, c.item_id)? {
            continue;
        }
        let author = store::user_by_fingerprint(tx, &c.author)?
            .map(|u| u.id)
            .unwrap_or(me);
        let annotation_id = match c.annotation_id {
            Some(site) => {
                store::annotation_by_origin(tx, &format!("{SITE_ORIGIN}{site}"))?.map(|(id, _)| id)
            }
            None => None,
        };
        store::insert_comment(
            tx,
            &store::NewComment {
                item_id: c.item_id,
                annotation_id,
                author,
                to_user: (author != me).then_some(me),
                body: &c.body,
                at_ms: c.at_ms,
                origin: Some(&origin),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod membership_tests {
    use super::*;
    use crate::membership::{self, Entry, KIND_ADD, KIND_REMOVE};
    use crate::model::Role;

    const SITE: &str = "site-project";

    fn next(
        log: &mut Vec<Entry>,
        by: &UnlockedIdentity,
        kind: &str,
        who: &UnlockedIdentity,
        role: Role,
    ) {
        let tip = log.last().map(|e| (e.seq, membership::entry_hash(SITE, e)));
        let value = if kind == KIND_ADD {
            membership::add_value(role, &who.name)
        } else {
            String::new()
        };
        log.push(membership::sign_entry(
            SITE,
            tip.as_ref().map(|(s, h)| (*s, h.as_str())),
            by,
            kind,
            &who.public().to_key_string(),
            &value,
            1,
        ));
    }

    fn signed_by(who: &UnlockedIdentity) -> Manifest {
        Manifest {
            format_version: 1,
            package_id: "pkg".into(),
            kind: PackageKind::Work,
            project_id: SITE.into(),
            sender: who.public().fingerprint(),
            sender_key: who.public().to_key_string(),
            recipients: vec![],
            // Claims a time long before any revocation: not trusted.
            created_ms: 0,
            sequence: 1,
            members: vec![],
        }
    }

    fn pin(log: &[Entry]) -> Pin {
        let state = membership::replay(SITE, log).unwrap();
        let (seq, hash) = state.tip.unwrap();
        Pin {
            founder: state.founder,
            seq,
            hash,
        }
    }

    fn refusal(r: Result<Option<membership::Membership>>) -> String {
        match r {
            Err(CoreError::PackageRefused { check, why }) => format!("{check} check failed: {why}"),
            other => panic!(
                "not refused: {:?}",
                other.map(|s| s.map(|s| s.members.len()))
            ),
        }
    }

    /// Bob was an admin and was removed; the laptop holds the membership
    /// that says so. Nothing Bob signs changes its site admins: not with
    /// the site's log, not with a log forked from an older copy of the
    /// site, not with no log at all, whatever time the package claims.
    #[test]
    fn only_an_admin_the_pinned_membership_calls_current_may_sign_work() {
        let ada = UnlockedIdentity::generate("Ada");
        let bob = UnlockedIdentity::generate("Bob");
        let mallory = UnlockedIdentity::generate("Mallory");
        let mut log = Vec::new();
        next(&mut log, &ada, KIND_ADD, &ada, Role::Admin);
        next(&mut log, &ada, KIND_ADD, &bob, Role::Admin);
        let before_removal = log.clone();
        next(&mut log, &ada, KIND_REMOVE, &bob, Role::Admin);
        let pinned = pin(&log);

        assert!(
            check_site_membership(&signed_by(&ada), Some(&pinned), &log)
                .unwrap()
                .is_some()
        );
        let t = refusal(check_site_membership(&signed_by(&bob), Some(&pinned), &log));
        assert!(t.starts_with("signer check failed"), "{t}");
        let mut fork = before_removal.clone();
        next(&mut fork, &bob, KIND_ADD, &mallory, Role::Admin);
        let t = refusal(check_site_membership(
            &signed_by(&bob),
            Some(&pinned),
            &fork,
        ));
        assert!(t.starts_with("membership check failed"), "{t}");
        let t = refusal(check_site_membership(&signed_by(&bob), Some(&pinned), &[]));
        assert!(t.starts_with("membership check failed"), "{t}");
        // An annotator's forged entry making themself admin does not verify.
        let mut forged = log.clone();
        next(&mut forged, &mallory, KIND_ADD, &mallory, Role::Admin);
        let t = refusal(check_site_membership(
            &signed_by(&mallory),
            Some(&pinned),
            &forged,
        ));
        assert!(t.starts_with("membership check failed"), "{t}");
    }
}
