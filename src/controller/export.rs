//! Exports and pre-label imports through the format modules
//! ([`crate::formats`]). An export reads items and labels from the project
//! one at a time ([`ProjectItems`]), writes the chosen format's files and,
//! with `--media`, the media (image metadata stripped), and delivers them as
//! a **signed export folder** (every file's SHA-256 in a manifest signed by
//! the exporting admin), a **sealed export package** for named recipients,
//! or — only when asked, and audited as such — a plain unsigned folder.

use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{CoreError, Event, Result, Session};
use crate::bundle::BundlePaths;
use crate::crypto::{PublicIdentity, SecretBytes, UnlockedIdentity};
use crate::formats::{self, ExportItem, ExportLabel, FileSink, FormatError, ItemInfo, ItemSource};
use crate::model::{ItemKind, ItemStatus, ItemSummary, LabelChange, Schema, now_ms};
use crate::package::{self, Manifest, MemberEntry, NewPackage, PackageKind, ProgressFn};
use crate::permissions::Action;
use crate::privacy::derive::PrivacyPlan;
use crate::store;

/// What to export and how to deliver it.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    pub format: String,
    /// Only approved items (the default), or every item.
    pub all_statuses: bool,
    /// Also write each item's media under `media/`.
    pub media: bool,
    /// Seal the export to these people (fingerprints of members or key
    /// strings) instead of writing a signed folder.
    pub to: Vec<String>,
    /// A plain folder without a signed manifest (audited as such).
    pub unsigned: bool,
    /// Mark exported images with the (first) recipient's fingerprint
    /// ([`crate::watermark`]); needs `media` and `to`.
    pub watermark: bool,
    /// Export for this purpose only: items whose consent is withdrawn or
    /// whose allowed purposes do not include it are left out.
    pub purpose: Option<String>,
}

/// What an export did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExportReport {
    pub format: String,
    pub out: PathBuf,
    /// `signed-folder`, `sealed-package` or `unsigned-folder`.
    pub delivery: &'static str,
    pub items: usize,
    pub labels: usize,
    pub files: usize,
    pub bytes: u64,
    /// Labels the format cannot express, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Items left out: held by the quality gate.
    pub held: Vec<i64>,
    /// Items left out: their consent does not cover the export's purpose.
    pub not_consented: usize,
    pub manifest_sha256: Option<String>,
}

/// One item's place in an export: which blob holds its media.
struct Entry {
    summary: ItemSummary,
    blob: (String, SecretBytes<32>),
    media_path: String,
}

/// The project's items and labels, read one item at a time on each pass.
pub struct ProjectItems<'a> {
    conn: &'a store::Db,
    paths: &'a BundlePaths,
    project_id: &'a str,
    entries: Vec<Entry>,
    classes: BTreeMap<i64, String>,
}

impl ItemSource for ProjectItems<'_> {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&ExportItem) -> std::result::Result<(), FormatError>,
    ) -> std::result::Result<(), FormatError> {
        let err = |e: store::StoreError| FormatError::Invalid(e.to_string());
        for e in &self.entries {
            let s = &e.summary;
            let text = if s.kind == ItemKind::Text {
                let bytes = self
                    .paths
                    .read_blob(self.project_id, &e.blob.0, &e.blob.1)
                    .map_err(|e| FormatError::Invalid(e.to_string()))?;
                Some(String::from_utf8_lossy(&bytes).into_owned())
            } else {
                None
            };
            let labels = store::list_annotations(self.conn, s.id)
                .map_err(err)?
                .into_iter()
                .map(|a| ExportLabel {
                    id: a.id,
                    class_id: a.class_id,
                    class: self
                        .classes
                        .get(&a.class_id)
                        .cloned()
                        .unwrap_or_else(|| format!("class {}", a.class_id)),
                    geometry: a.geometry,
                    attributes: a.attributes,
                    created_by: a.created_by,
                    source: a.source,
                    score: a.score,
                })
                .collect();
            f(&ExportItem {
                id: s.id,
                kind: s.kind,
                name: s.name.clone(),
                format: s.format.clone(),
                sha256: s.sha256.clone(),
                width: s.width,
                height: s.height,
                duration_secs: s.duration_secs,
                char_len: s.char_len,
                status: s.status.to_string(),
                media_path: e.media_path.clone(),
                text,
                labels,
            })?;
        }
        Ok(())
    }
}

/// Files of one export pass: the first pass hashes (entries for the
/// manifest), the second writes (a folder, or members of a sealed package).
enum Target<'w> {
    Hash(Vec<MemberEntry>, Option<Sha256>),
    Folder {
        root: PathBuf,
        file: Option<io::BufWriter<std::fs::File>>,
        entries: Vec<MemberEntry>,
        hasher: Option<Sha256>,
    },
    Sealed(Box<package::SealedWriter<&'w std::fs::File>>),
}

struct Sink<'w, 'p> {
    target: Target<'w>,
    seen: BTreeSet<String>,
    bytes: u64,
    last_report: u64,
    progress: ProgressFn<'p>,
    cancelled: bool,
}

impl<'w, 'p> Sink<'w, 'p> {
    fn new(target: Target<'w>, progress: ProgressFn<'p>) -> Self {
        Self {
            target,
            seen: BTreeSet::new(),
            bytes: 0,
            last_report: 0,
            progress,
            cancelled: false,
        }
    }

    /// Closes the current file: its entry (size and hash) is recorded.
    fn close(&mut self) -> std::result::Result<(), FormatError> {
        match &mut self.target {
            Target::Hash(entries, hasher) => {
                if let (Some(h), Some(last)) = (hasher.take(), entries.last_mut()) {
                    last.sha256 = hex::encode(h.finalize());
                }
            }
            Target::Folder {
                file,
                entries,
                hasher,
                ..
            } => {
                if let Some(mut f) = file.take() {
                    f.flush()?;
                    f.get_ref().sync_all()?;
                }
                if let (Some(h), Some(last)) = (hasher.take(), entries.last_mut()) {
                    last.sha256 = hex::encode(h.finalize());
                }
            }
            Target::Sealed(_) => {}
        }
        Ok(())
    }
}

impl FileSink for Sink<'_, '_> {
    fn file(&mut self, path: &str) -> std::result::Result<&mut dyn Write, FormatError> {
        formats::check_path(path)?;
        if !self.seen.insert(path.to_string()) {
            return Err(FormatError::Invalid(format!("{path} written twice")));
        }
        self.close()?;
        let entry = MemberEntry {
            name: path.to_string(),
            size: 0,
            sha256: String::new(),
        };
        match &mut self.target {
            Target::Hash(entries, hasher) => {
                entries.push(entry);
                *hasher = Some(Sha256::new());
            }
            Target::Folder {
                root,
                file,
                entries,
                hasher,
            } => {
                let full = root.join(path);
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                *file = Some(io::BufWriter::with_capacity(
                    256 * 1024,
                    std::fs::File::create(&full)?,
                ));
                entries.push(entry);
                *hasher = Some(Sha256::new());
            }
            Target::Sealed(w) => w
                .start_member(path)
                .map_err(|e| FormatError::Invalid(e.to_string()))?,
        }
        Ok(self)
    }
}

impl Write for Sink<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.target {
            Target::Hash(entries, hasher) => {
                if let (Some(h), Some(last)) = (hasher.as_mut(), entries.last_mut()) {
                    h.update(buf);
                    last.size += buf.len() as u64;
                }
                buf.len()
            }
            Target::Folder {
                file,
                entries,
                hasher,
                ..
            } => {
                let f = file
                    .as_mut()
                    .ok_or_else(|| io::Error::other("no file is open"))?;
                let n = f.write(buf)?;
                if let (Some(h), Some(last)) = (hasher.as_mut(), entries.last_mut()) {
                    h.update(&buf[..n]);
                    last.size += n as u64;
                }
                n
            }
            Target::Sealed(w) => w.write(buf)?,
        };
        self.bytes += n as u64;
        if self.bytes - self.last_report >= 4 << 20 {
            self.last_report = self.bytes;
            let p = package::Progress {
                phase: "exporting",
                done: self.bytes,
                total: 0,
            };
            if !(self.progress)(p) {
                self.cancelled = true;
                return Err(io::Error::other("cancelled"));
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A temporary sibling of `out`, renamed into place when complete.
fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    out.with_file_name(format!(
        ".{name}.{}.partial",
        hex::encode(crate::crypto::random_bytes::<6>())
    ))
}

/// The exporter called `name`, or an error listing the ones there are.
fn exporter_named(name: &str) -> Result<Box<dyn formats::Exporter>> {
    formats::exporter(name).ok_or_else(|| {
        CoreError::Invalid(format!(
            "unknown format '{name}' (one of: {})",
            formats::exporters()
                .iter()
                .map(|e| e.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Refuses an export that would overwrite `out` or asks for both a sealed
/// and an unsigned delivery.
fn check_destination(options: &ExportOptions, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(CoreError::Invalid(format!(
            "{} exists; choose a new place (an export never overwrites)",
            out.display()
        )));
    }
    if options.unsigned && !options.to.is_empty() {
        return Err(CoreError::Invalid(
            "--unsigned and --to contradict each other: a sealed export is always signed".into(),
        ));
    }
    Ok(())
}

/// The watermark marking the (first) recipient's copy, when asked for:
/// it needs a recipient and media.
fn watermark_bits(
    options: &ExportOptions,
    recipients: &[PublicIdentity],
) -> Result<Option<Vec<bool>>> {
    if !options.watermark {
        return Ok(None);
    }
    let Some(first) = recipients.first() else {
        return Err(CoreError::Invalid(
            "--watermark marks the recipient's copy: name the recipient with --to".into(),
        ));
    };
    if !options.media {
        return Err(CoreError::Invalid(
            "--watermark marks exported media: add --media".into(),
        ));
    }
    Ok(crate::watermark::bits_of(&first.fingerprint()))
}

/// Where an item's media goes in the export (`media/000042_name`), or its
/// name when media are not exported. Media whose metadata can only go by
/// re-encoding change format (and so extension): a WebP with EXIF becomes
/// PNG, an Ogg with Vorbis comments WAV.
fn media_path(s: &ItemSummary, media: bool) -> String {
    if !media {
        return s.name.clone();
    }
    let name = formats::safe_file_name(&s.name);
    let out_format = PrivacyPlan::default().derived_format(s.kind, &s.format);
    let name = if s.kind != ItemKind::Text && out_format != s.format {
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(stem, _)| stem);
        format!("{stem}.{out_format}")
    } else {
        name
    };
    format!("media/{:06}_{name}", s.id)
}

/// The items an export carries, and the ones it leaves out.
struct Selection {
    entries: Vec<Entry>,
    /// Held by the quality gate.
    held: Vec<i64>,
    /// Their consent does not cover the export's purpose.
    not_consented: usize,
}

/// What one export writes, on each pass through a sink: the format's
/// files, then (with `media`) each item's media.
struct ExportPass<'a> {
    exporter: &'a dyn formats::Exporter,
    schema: &'a Schema,
    source: &'a ProjectItems<'a>,
    media: bool,
    mark: Option<&'a [bool]>,
}

impl ExportPass<'_> {
    fn run(
        &self,
        sink: &mut Sink<'_, '_>,
    ) -> std::result::Result<formats::ExportStats, FormatError> {
        let stats = self.exporter.export(self.schema, self.source, sink)?;
        if self.media {
            for e in &self.source.entries {
                let w = sink.file(&e.media_path)?;
                write_media(self.source, e, w, self.mark)?;
            }
        }
        sink.close()?;
        Ok(stats)
    }
}

/// A failed pass: cancelled (by the user, through the sink) or invalid.
fn pass_failed(e: FormatError, sink_cancelled: bool) -> CoreError {
    if sink_cancelled || matches!(e, FormatError::Cancelled) {
        CoreError::Cancelled
    } else {
        CoreError::Invalid(format!("export failed: {e}"))
    }
}

/// How an export left: its delivery, what the format wrote, and the
/// files, bytes and manifest hash of what was delivered.
struct Delivered {
    delivery: &'static str,
    stats: formats::ExportStats,
    files: usize,
    bytes: u64,
    manifest_hash: Option<String>,
}

/// A sealed export package for `recipients`: pass 1 hashes every file
/// (the manifest lists them first), pass 2 seals them in order into a
/// temporary file renamed to `out` when complete.
fn deliver_sealed(
    pass: &ExportPass<'_>,
    out: &Path,
    project_id: &str,
    identity: &UnlockedIdentity,
    recipients: &[PublicIdentity],
    progress: ProgressFn<'_>,
) -> Result<Delivered> {
    let mut hash = Sink::new(Target::Hash(Vec::new(), None), &mut *progress);
    let stats = pass
        .run(&mut hash)
        .map_err(|e| pass_failed(e, hash.cancelled))?;
    let Target::Hash(members, _) = hash.target else {
        return Err(CoreError::Invalid("export pass mixed up".into()));
    };
    let tmp = partial_path(out);
    let result = (|| -> Result<Manifest> {
        let file = std::fs::File::create(&tmp).map_err(CoreError::io(&tmp))?;
        let new = NewPackage {
            kind: PackageKind::Export,
            project_id,
            sequence: 1,
            package_id: None,
        };
        let writer = package::SealedWriter::new(&file, identity, recipients, &new, members)
            .map_err(super::packages::package_err)?;
        let mut seal = Sink::new(Target::Sealed(Box::new(writer)), &mut *progress);
        pass.run(&mut seal)
            .map_err(|e| pass_failed(e, seal.cancelled))?;
        let Target::Sealed(writer) = seal.target else {
            return Err(CoreError::Invalid("export pass mixed up".into()));
        };
        let manifest = writer.finish().map_err(super::packages::package_err)?;
        file.sync_all().map_err(CoreError::io(&tmp))?;
        std::fs::rename(&tmp, out).map_err(CoreError::io(out))?;
        Ok(manifest)
    })();
    let manifest = result.inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    let hash = crate::crypto::sha256_hex(&serde_json::to_vec(&manifest).unwrap_or_default());
    Ok(Delivered {
        delivery: "sealed-package",
        stats,
        files: manifest.members.len(),
        bytes,
        manifest_hash: Some(hash),
    })
}

/// A folder: written under a temporary name, then (unless `unsigned`)
/// given a manifest of every file's hash signed by the exporting admin,
/// and renamed to `out` when complete.
fn deliver_folder(
    pass: &ExportPass<'_>,
    out: &Path,
    project_id: &str,
    identity: &UnlockedIdentity,
    unsigned: bool,
    progress: ProgressFn<'_>,
) -> Result<Delivered> {
    let tmp = partial_path(out);
    let result = (|| -> Result<(formats::ExportStats, Vec<MemberEntry>, Option<String>)> {
        std::fs::create_dir_all(&tmp).map_err(CoreError::io(&tmp))?;
        let mut sink = Sink::new(
            Target::Folder {
                root: tmp.clone(),
                file: None,
                entries: Vec::new(),
                hasher: None,
            },
            &mut *progress,
        );
        let stats = pass
            .run(&mut sink)
            .map_err(|e| pass_failed(e, sink.cancelled))?;
        let Target::Folder { entries, .. } = sink.target else {
            return Err(CoreError::Invalid("export pass mixed up".into()));
        };
        let hash = if unsigned {
            None
        } else {
            Some(sign_folder(&tmp, project_id, identity, &entries)?)
        };
        std::fs::rename(&tmp, out).map_err(CoreError::io(out))?;
        Ok((stats, entries, hash))
    })();
    let (stats, entries, hash) = result.inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&tmp);
    })?;
    Ok(Delivered {
        delivery: if unsigned {
            "unsigned-folder"
        } else {
            "signed-folder"
        },
        stats,
        files: entries.len(),
        bytes: entries.iter().map(|e| e.size).sum(),
        manifest_hash: hash,
    })
}

/// Writes the manifest of an export folder (every file's size and hash)
/// and its signature by `identity` into `dir`; returns the manifest's hash.
fn sign_folder(
    dir: &Path,
    project_id: &str,
    identity: &UnlockedIdentity,
    entries: &[MemberEntry],
) -> Result<String> {
    let public = identity.public();
    let manifest = Manifest {
        format_version: package::FORMAT_VERSION,
        package_id: hex::encode(crate::crypto::random_bytes::<16>()),
        kind: PackageKind::Export,
        project_id: project_id.to_string(),
        sender: public.fingerprint(),
        sender_key: public.to_key_string(),
        recipients: Vec::new(),
        created_ms: now_ms(),
        sequence: 1,
        members: entries.to_vec(),
    };
    let (json, signature) =
        package::sign_manifest(&manifest, identity).map_err(super::packages::package_err)?;
    crate::bundle::write_atomic(&dir.join(package::EXPORT_MANIFEST), &json)?;
    crate::bundle::write_atomic(
        &dir.join(package::EXPORT_SIGNATURE),
        format!("{}\n", hex::encode(signature)).as_bytes(),
    )?;
    Ok(crate::crypto::sha256_hex(&json))
}

/// The audit row of an export: what left, how, to whom and what was
/// left out; never item content.
fn export_event(
    report: &ExportReport,
    options: &ExportOptions,
    recipients: &[PublicIdentity],
    watermarked: bool,
    target: String,
) -> Event {
    let details = json!({
        "format": report.format,
        "delivery": report.delivery,
        "items": report.items,
        "labels": report.labels,
        "files": report.files,
        "media": options.media,
        "statuses": if options.all_statuses { "all" } else { "approved" },
        "recipients": recipients.iter().map(|r| r.fingerprint()).collect::<Vec<_>>(),
        "watermark": watermarked,
        "held": report.held,
        "purpose": options.purpose,
        "not_consented": report.not_consented,
        "manifest_sha256": report.manifest_sha256,
    });
    let action = if options.unsigned {
        AuditAction::ExportUnsigned
    } else {
        AuditAction::Export
    };
    Event::new(action, target, details)
}

impl Session {
    /// Exports the project's labels (and media) in `options.format` to `out`.
    pub fn export(
        &mut self,
        options: &ExportOptions,
        out: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<ExportReport> {
        let allowed = self.allow(Action::Export, Some(format!("export {}", options.format)))?;
        let exporter = exporter_named(&options.format)?;
        check_destination(options, out)?;
        let recipients = self.export_recipients(&options.to)?;
        let mark = watermark_bits(options, &recipients)?;
        let Selection {
            entries,
            held,
            not_consented,
        } = self.select_items(options, exporter.kinds())?;
        let schema = self.schema()?;
        let source = ProjectItems {
            conn: self.project.store.conn(),
            paths: &self.project.paths,
            project_id: self.project.project_id(),
            classes: schema
                .classes
                .iter()
                .map(|c| (c.id, c.name.clone()))
                .collect(),
            entries,
        };
        let pass = ExportPass {
            exporter: exporter.as_ref(),
            schema: &schema,
            source: &source,
            media: options.media,
            mark: mark.as_deref(),
        };
        let project_id = self.project.project_id();
        let delivered = if recipients.is_empty() {
            deliver_folder(
                &pass,
                out,
                project_id,
                &self.identity,
                options.unsigned,
                progress,
            )?
        } else {
            deliver_sealed(
                &pass,
                out,
                project_id,
                &self.identity,
                &recipients,
                progress,
            )?
        };
        let report = ExportReport {
            format: options.format.clone(),
            out: out.to_path_buf(),
            delivery: delivered.delivery,
            items: delivered.stats.items,
            labels: delivered.stats.labels,
            files: delivered.files,
            bytes: delivered.bytes,
            skipped: delivered.stats.skipped,
            held,
            not_consented,
            manifest_sha256: delivered.manifest_hash,
        };
        let target = format!("project:{}", self.project_id());
        let event = export_event(&report, options, &recipients, mark.is_some(), target);
        self.commit(allowed, |_| Ok(((), event)))?;
        Ok(report)
    }

    /// The recipients of a sealed export: members by fingerprint or name,
    /// or public keys of people outside the project.
    fn export_recipients(&self, to: &[String]) -> Result<Vec<PublicIdentity>> {
        to.iter()
            .map(|who| match self.find_user(who) {
                Ok(u) => PublicIdentity::parse(&u.public_key).map_err(CoreError::from),
                Err(_) => PublicIdentity::parse(who).map_err(|_| {
                    CoreError::Invalid(format!(
                        "'{who}' is neither a member nor a public key (sealtag1:…)"
                    ))
                }),
            })
            .collect()
    }

    /// The items of the exporter's kinds (approved ones, unless
    /// `all_statuses`), less those the quality gate holds and those whose
    /// consent does not cover the export's purpose.
    fn select_items(&self, options: &ExportOptions, kinds: &[ItemKind]) -> Result<Selection> {
        let conn = self.project.store.conn();
        let held_items: BTreeSet<i64> = super::quality::held_items(conn)?.into_iter().collect();
        let mut selection = Selection {
            entries: Vec::new(),
            held: Vec::new(),
            not_consented: 0,
        };
        for s in store::list_items(conn, None)? {
            if !kinds.contains(&s.kind)
                || (!options.all_statuses && s.status != ItemStatus::Approved)
            {
                continue;
            }
            if held_items.contains(&s.id) {
                selection.held.push(s.id);
                continue;
            }
            if let Some(purpose) = &options.purpose {
                let g = store::item_governance(conn, s.id)?.unwrap_or_default();
                if !super::governance::covers(&g, purpose) {
                    selection.not_consented += 1;
                    continue;
                }
            }
            let blob = store::item_blob(conn, s.id)?
                .ok_or_else(|| CoreError::NotFound(format!("blob of item {}", s.id)))?;
            let media_path = media_path(&s, options.media);
            selection.entries.push(Entry {
                summary: s,
                blob,
                media_path,
            });
        }
        Ok(selection)
    }

    /// What the importers know about the project's items.
    pub(super) fn item_infos(&self) -> Result<Vec<ItemInfo>> {
        Ok(store::list_items(self.project.store.conn(), None)?
            .into_iter()
            .map(|s| ItemInfo {
                id: s.id,
                kind: s.kind,
                name: s.name,
                sha256: s.sha256,
                width: s.width,
                height: s.height,
                duration_secs: s.duration_secs,
                char_len: s.char_len,
            })
            .collect())
    }

    /// Accepts predictions as they are (they become ordinary labels).
    pub fn accept_predictions(&mut self, annotation_ids: &[i64]) -> Result<usize> {
        let mut n = 0;
        for id in annotation_ids {
            let Some(state) = store::annotation_state(self.project.store.conn(), *id)? else {
                continue;
            };
            // An update with the same content: a revision by the acceptor
            // that clears the prediction mark.
            self.apply_label(LabelChange::Update {
                annotation_id: *id,
                draft: state.draft,
            })?;
            n += 1;
        }
        Ok(n)
    }
}

/// Streams an item's media into `w` rebuilt from an allow-list of what
/// decoding needs ([`crate::privacy::metadata`], the audio strippers), so
/// that no metadata identifying people, places or devices leaves.
fn write_media(
    source: &ProjectItems<'_>,
    e: &Entry,
    w: &mut dyn Write,
    mark: Option<&[bool]>,
) -> std::result::Result<(), FormatError> {
    let fmt = e.summary.format.as_str();
    if let (Some(bits), ItemKind::Image) = (mark, e.summary.kind) {
        let bytes = source
            .paths
            .read_blob(source.project_id, &e.blob.0, &e.blob.1)
            .map_err(|e| FormatError::Invalid(e.to_string()))?;
        // Re-encoded, then through the same allow-list.
        let marked = crate::watermark::mark_encoded(&bytes, fmt, bits).ok_or_else(|| {
            FormatError::Invalid(format!(
                "item {} ({}) could not be decoded to watermark it",
                e.summary.id, e.summary.name
            ))
        })?;
        w.write_all(&marked)?;
        return Ok(());
    }
    if e.summary.kind != ItemKind::Text {
        // Images and recordings leave without their metadata (EXIF, XMP,
        // IPTC, ID3, Vorbis comments, RIFF INFO): the same derivation a work
        // package uses, with nothing masked.
        let bytes = source
            .paths
            .read_blob(source.project_id, &e.blob.0, &e.blob.1)
            .map_err(|e| FormatError::Invalid(e.to_string()))?;
        let clean = crate::privacy::derive::derive(
            e.summary.kind,
            fmt,
            &bytes,
            &PrivacyPlan::default(),
            super::privacy::derive_limits(),
        )
        .map_err(|err| {
            FormatError::Invalid(format!(
                "item {} ({}): metadata could not be stripped: {err}",
                e.summary.id, e.summary.name
            ))
        })?;
        w.write_all(&clean.bytes)?;
        return Ok(());
    }
    source
        .paths
        .read_blob_to(
            source.project_id,
            &e.blob.0,
            &e.blob.1,
            &mut io::BufWriter::new(w),
        )
        .map_err(|e| FormatError::Invalid(e.to_string()))?;
    Ok(())
}

pub use crate::privacy::metadata::{strip_jpeg, strip_png};
