//! Importing files into the project, as fast as the cores and the disk allow
//! and without ever leaving half an item behind.
//!
//! Workers, one per core, take the listed files in turn: read, validate
//! (decode under limits), hash, and encrypt each item into its own blob
//! without waiting for the disk. This thread takes their results in file
//! order and commits them in batches: one `syncfs` makes the batch's blobs
//! durable, then one transaction writes its item rows and audit rows. A
//! crash leaves each item complete or absent (an unfinished batch leaves only
//! unreferenced ciphertext), and a file is reported imported only once its
//! transaction has committed.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::proof::{Allowed, Event};
use super::{CoreError, Result, Session};
use crate::bundle::{BundlePaths, NewBlob};
use crate::events::AuditAction;
use crate::import::{self, FileOutcome, Found, ImportOptions, Listed};
use crate::model::ItemKind;
use crate::permissions::Action;
use crate::store;

/// How far the workers may run ahead of the oldest file not yet taken in
/// order, so memory stays bounded however slow one file is.
const WINDOW: usize = 64;
/// A batch commits once it holds this many items…
const BATCH_ITEMS: usize = 512;
/// …or once this long has passed since its first file.
const BATCH_TIME: Duration = Duration::from_millis(250);

/// What happened to one input file of an import.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FileReport {
    pub path: PathBuf,
    /// `imported`, `partial`, `duplicate` (the content is already an
    /// item; nothing was added) or `rejected`.
    pub outcome: &'static str,
    pub item_ids: Vec<i64>,
    pub errors: Vec<String>,
    /// `"UTF-16LE"` / `"UTF-16BE"` when a text file was converted to UTF-8
    /// (offsets into its items, and byte offsets in its record errors,
    /// count the UTF-8 text); `null` otherwise.
    pub converted_from: Option<&'static str>,
    /// Images: bytes found after the end of the image (a motion photo's
    /// video, an MPO's second image) and not stored; `null` when none.
    pub trailer_dropped: Option<u64>,
    /// The item that already held this file's content: with
    /// `skip_duplicates` the outcome is `duplicate` and nothing was added;
    /// without, the file was imported again and this says so.
    pub duplicate_of: Vec<i64>,
}

/// A media or `.txt` file imported as one item (not a record of a
/// JSONL/CSV file, which carries its own fields).
fn is_whole_file(item: &import::AcceptedItem) -> bool {
    item.metadata.as_object().is_none_or(|m| m.is_empty())
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    /// The import was cancelled: the files listed were finished (each
    /// committed whole), the `not_started` others were not touched; running
    /// the same import again skips what is already in.
    pub cancelled: bool,
    pub not_started: usize,
}

impl ImportReport {
    pub fn imported_items(&self) -> usize {
        self.files.iter().map(|f| f.item_ids.len()).sum()
    }
    /// True when every file imported completely.
    pub fn complete(&self) -> bool {
        !self.cancelled
            && self
                .files
                .iter()
                .all(|f| matches!(f.outcome, "imported" | "duplicate"))
    }
}

/// How far an import has come, given with each file as it is committed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImportProgress {
    /// Files committed (or refused) so far, this one included.
    pub done: usize,
    /// Files found in the inputs.
    pub total: usize,
    pub elapsed: Duration,
}

impl ImportProgress {
    /// The time left at the rate so far; `None` before there is a rate.
    pub fn remaining(&self) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let per_file = self.elapsed.as_secs_f64() / self.done as f64;
        Some(Duration::from_secs_f64(
            per_file * self.total.saturating_sub(self.done) as f64,
        ))
    }
}

/// One item in its blob (not yet durable), ready for its row.
struct Sealed {
    /// The validated item; its bytes are gone once encrypted.
    item: import::AcceptedItem,
    blob: NewBlob,
    /// Keyed identity for the audit row (see `crypto::content_id`).
    content_id: String,
}

/// What a worker made of one file.
enum Prepared {
    /// Refused as a whole; nothing was written.
    Rejected { path: PathBuf, reason: String },
    /// The file's bytes hash like content the project may already hold, so
    /// it was not decoded: this thread confirms with the database.
    Known { index: usize, sha256: [u8; 32] },
    /// Already an item (confirmed by the database); nothing was written.
    Duplicate { path: PathBuf, of: i64 },
    /// Its items, each in its own blob.
    Sealed {
        path: PathBuf,
        items: Vec<Sealed>,
        errors: Vec<String>,
        converted_from: Option<&'static str>,
    },
}

/// What one file adds to a batch's transaction.
enum Staged {
    Rejected {
        path: PathBuf,
        reason: String,
    },
    Duplicate {
        path: PathBuf,
        of: i64,
        trailer_dropped: Option<u64>,
    },
    Items {
        path: PathBuf,
        items: Vec<Sealed>,
        errors: Vec<String>,
        converted_from: Option<&'static str>,
        duplicate_of: Vec<i64>,
    },
}

/// Files waiting for one `syncfs` and one transaction.
struct Batch {
    files: Vec<Staged>,
    items: usize,
    since: Instant,
    /// Content of the whole files in this batch: a second copy in the same
    /// batch waits for the first to commit, so it can name its item.
    contents: HashSet<[u8; 32]>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            files: Vec::new(),
            items: 0,
            since: Instant::now(),
            contents: HashSet::new(),
        }
    }

    fn full(&self) -> bool {
        self.items >= BATCH_ITEMS || (!self.files.is_empty() && self.since.elapsed() >= BATCH_TIME)
    }
}

/// The parts of the session the workers need, none of them the database.
struct Sealer<'a> {
    paths: BundlePaths,
    project_id: String,
    options: &'a ImportOptions,
    /// Content hash prefixes already in the project (empty when duplicates
    /// are imported again, so nothing is skipped).
    known: HashSet<u64>,
}

impl Sealer<'_> {
    /// Reads, validates and encrypts one listed file.
    fn prepare(&self, index: usize, found: &Found) -> Result<Prepared> {
        let bytes = match import::read_found(found, self.options) {
            Ok(bytes) => bytes,
            Err(error) => {
                return Ok(Prepared::Rejected {
                    path: found.path.clone(),
                    reason: error.to_string(),
                });
            }
        };
        if !self.known.is_empty() {
            let sha256: [u8; 32] = Sha256::digest(&bytes).into();
            if self.known.contains(&prefix(&sha256)) {
                return Ok(Prepared::Known { index, sha256 });
            }
        }
        let outcome = FileOutcome::from_result(
            found.path.clone(),
            import::inspect_file(&found.name, bytes, self.options),
        );
        self.seal(outcome)
    }

    /// Encrypts the accepted items of a validated file into blobs.
    fn seal(&self, outcome: FileOutcome) -> Result<Prepared> {
        let (path, items, errors, converted_from) = match outcome {
            FileOutcome::Imported {
                path,
                items,
                converted_from,
            } => (path, items, vec![], converted_from),
            FileOutcome::Partial {
                path,
                items,
                errors,
                converted_from,
            } => (path, items, errors, converted_from),
            FileOutcome::Rejected { path, error } => {
                return Ok(Prepared::Rejected {
                    path,
                    reason: error.to_string(),
                });
            }
        };
        let mut sealed = Vec::with_capacity(items.len());
        for mut item in items {
            let blob = self
                .paths
                .write_blob_unsynced(&self.project_id, &mut item.bytes.as_slice())?;
            let content_id = crate::crypto::content_id(&blob.key, &item.bytes);
            // The plaintext is not needed any more: free it now, not at commit.
            item.bytes = Vec::new();
            sealed.push(Sealed {
                item,
                blob,
                content_id,
            });
        }
        let errors = errors
            .iter()
            .map(|e| match &e.record_id {
                Some(id) => format!("line {} (id {id}): {}", e.line, e.message),
                None => format!("line {}: {}", e.line, e.message),
            })
            .collect();
        Ok(Prepared::Sealed {
            path,
            items: sealed,
            errors,
            converted_from,
        })
    }
}

fn prefix(sha256: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&sha256[..8]);
    u64::from_be_bytes(first)
}

/// How many workers: one per core plus one, which keeps the cores busy
/// while a worker waits on a read or a write; at most eight (more only
/// adds memory), and never more than there are files.
fn worker_count(files: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() + 1)
        .unwrap_or(1)
        .clamp(1, 8)
        .min(files.max(1))
}

impl Session {
    /// Imports files and folders; one bad file never stops the batch.
    /// `progress` hears of each file once it is committed, in the order the
    /// inputs list them. Setting `cancel` stops the import between files:
    /// what was started is finished and committed, the rest is untouched.
    pub fn import(
        &mut self,
        inputs: &[PathBuf],
        options: &ImportOptions,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&FileReport, &ImportProgress),
    ) -> Result<ImportReport> {
        let allowed = self.allow(Action::Import, None)?;
        let listed = import::list_inputs(inputs);
        let known = if options.skip_duplicates {
            store::content_prefixes(self.project.store.conn())?
        } else {
            HashSet::new()
        };
        let sealer = self.sealer(options, known);
        let mut run = Run {
            allowed,
            options,
            report: ImportReport::default(),
            total: listed.len(),
            started: Instant::now(),
            progress,
        };
        let next = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<(usize, Result<Prepared>)>(WINDOW);
            for _ in 0..worker_count(listed.len()) {
                let tx = tx.clone();
                let (sealer, listed, next, taken, stop) = (&sealer, &listed, &next, &taken, &stop);
                scope.spawn(move || {
                    work(sealer, listed, (next, taken), (cancel, stop), &tx);
                });
            }
            drop(tx);
            let result = self.take_in_order(&rx, &listed, &sealer, &taken, &mut run);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        });
        outcome?;
        run.report.not_started = listed.len().saturating_sub(run.report.files.len());
        run.report.cancelled = run.report.not_started > 0;
        Ok(run.report)
    }

    fn sealer<'a>(&self, options: &'a ImportOptions, known: HashSet<u64>) -> Sealer<'a> {
        Sealer {
            paths: self.project.paths.clone(),
            project_id: self.project_id().to_string(),
            options,
            known,
        }
    }

    /// Takes the workers' results in file order and commits them in batches.
    fn take_in_order(
        &mut self,
        rx: &mpsc::Receiver<(usize, Result<Prepared>)>,
        listed: &[Listed],
        sealer: &Sealer<'_>,
        taken: &AtomicUsize,
        run: &mut Run<'_, '_>,
    ) -> Result<()> {
        let mut waiting: BTreeMap<usize, Result<Prepared>> = BTreeMap::new();
        let mut batch = Batch::new();
        let mut expected = 0;
        for (index, prepared) in rx {
            waiting.insert(index, prepared);
            while let Some(prepared) = waiting.remove(&expected) {
                expected += 1;
                taken.store(expected, Ordering::SeqCst);
                let prepared = match prepared? {
                    Prepared::Known { index, sha256 } => {
                        self.confirm_known(listed, index, &sha256, sealer)?
                    }
                    other => other,
                };
                self.stage(prepared, &mut batch, run)?;
                if batch.full() {
                    self.flush(std::mem::replace(&mut batch, Batch::new()), run)?;
                }
            }
        }
        self.flush(batch, run)
    }

    /// A file whose raw bytes matched a known content prefix: a duplicate
    /// if the database agrees, else (a prefix collision) validated here.
    fn confirm_known(
        &mut self,
        listed: &[Listed],
        index: usize,
        sha256: &[u8; 32],
        sealer: &Sealer<'_>,
    ) -> Result<Prepared> {
        let Some(Listed::File(found)) = listed.get(index) else {
            return Err(CoreError::Invalid(format!(
                "import: file {index} of the listing is missing"
            )));
        };
        if let Some(of) = store::item_with_content(self.project.store.conn(), &hex::encode(sha256))?
        {
            return Ok(Prepared::Duplicate {
                path: found.path.clone(),
                of,
            });
        }
        sealer.seal(import::inspect_found(found, sealer.options))
    }
}

impl Session {
    /// Imports one in-memory file (the demo's embedded assets, tests).
    pub fn import_bytes(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        options: &ImportOptions,
    ) -> Result<FileReport> {
        let allowed = self.allow(Action::Import, None)?;
        let outcome = FileOutcome::from_result(
            PathBuf::from(name),
            import::inspect_file(name, bytes, options),
        );
        let sealer = self.sealer(options, HashSet::new());
        let prepared = sealer.seal(outcome)?;
        let mut quiet = |_: &FileReport, _: &ImportProgress| {};
        let mut run = Run {
            allowed,
            options,
            report: ImportReport::default(),
            total: 1,
            started: Instant::now(),
            progress: &mut quiet,
        };
        let mut batch = Batch::new();
        self.stage(prepared, &mut batch, &mut run)?;
        self.flush(batch, &mut run)?;
        run.report
            .files
            .pop()
            .ok_or_else(|| CoreError::Invalid(format!("import of {name} reported nothing")))
    }

    /// Adds one prepared file to the batch. A whole file whose content is
    /// already an item is skipped (its blobs removed) or, when duplicates
    /// are kept, imported with a note naming the item.
    fn stage(
        &mut self,
        prepared: Prepared,
        batch: &mut Batch,
        run: &mut Run<'_, '_>,
    ) -> Result<()> {
        let staged = match prepared {
            Prepared::Known { index, .. } => {
                return Err(CoreError::Invalid(format!(
                    "import: file {index} reached the commit unconfirmed"
                )));
            }
            Prepared::Rejected { path, reason } => Staged::Rejected { path, reason },
            Prepared::Duplicate { path, of } => Staged::Duplicate {
                path,
                of,
                trailer_dropped: None,
            },
            Prepared::Sealed {
                path,
                items,
                errors,
                converted_from,
            } => {
                let mut duplicate_of = Vec::new();
                if let [only] = items.as_slice()
                    && is_whole_file(&only.item)
                {
                    let sha256 = only.item.sha256;
                    if batch.contents.contains(&sha256) {
                        self.flush(std::mem::replace(batch, Batch::new()), run)?;
                    }
                    let conn = self.project.store.conn();
                    if let Some(of) = store::item_with_content(conn, &hex::encode(sha256))? {
                        if run.options.skip_duplicates {
                            self.project.paths.remove_blob(&only.blob.blob_id);
                            batch.files.push(Staged::Duplicate {
                                path,
                                of,
                                trailer_dropped: only.item.trailer_dropped,
                            });
                            return Ok(());
                        }
                        duplicate_of.push(of);
                    }
                    batch.contents.insert(sha256);
                }
                batch.items += items.len();
                Staged::Items {
                    path,
                    items,
                    errors,
                    converted_from,
                    duplicate_of,
                }
            }
        };
        batch.files.push(staged);
        Ok(())
    }

    /// Makes the batch's blobs durable, then commits its rows in one
    /// transaction, then reports its files.
    fn flush(&mut self, batch: Batch, run: &mut Run<'_, '_>) -> Result<()> {
        if batch.files.is_empty() {
            return Ok(());
        }
        if batch.items > 0 {
            self.project.paths.sync_blobs()?;
        }
        let options = run.options;
        let ids: Vec<Vec<i64>> = self.commit(run.allowed, |tx| {
            let mut rows = Vec::new();
            let mut ids = Vec::with_capacity(batch.files.len());
            for staged in &batch.files {
                ids.push(match staged {
                    Staged::Rejected { reason, .. } => {
                        let details = json!({ "reason": reason });
                        rows.push(Event::new(AuditAction::ImportRejected, "file", details));
                        Vec::new()
                    }
                    Staged::Duplicate { of, .. } => {
                        let details = json!({ "duplicate_of": [of] });
                        rows.push(Event::new(AuditAction::ImportDuplicate, "file", details));
                        Vec::new()
                    }
                    Staged::Items { items, errors, .. } => {
                        insert_items(tx, items, errors, options, &mut rows)?
                    }
                });
            }
            Ok((ids, rows))
        })?;
        for (staged, item_ids) in batch.files.into_iter().zip(ids) {
            let file = report_of(staged, item_ids);
            let at = ImportProgress {
                done: run.report.files.len() + 1,
                total: run.total,
                elapsed: run.started.elapsed(),
            };
            (run.progress)(&file, &at);
            run.report.files.push(file);
        }
        Ok(())
    }
}

/// The report of one committed file.
fn report_of(staged: Staged, item_ids: Vec<i64>) -> FileReport {
    let mut file = FileReport {
        path: PathBuf::new(),
        outcome: "rejected",
        item_ids,
        errors: Vec::new(),
        converted_from: None,
        trailer_dropped: None,
        duplicate_of: Vec::new(),
    };
    match staged {
        Staged::Rejected { path, reason } => {
            file.path = path;
            file.errors.push(reason);
        }
        Staged::Duplicate {
            path,
            of,
            trailer_dropped,
        } => {
            file.path = path;
            file.outcome = "duplicate";
            file.duplicate_of.push(of);
            file.trailer_dropped = trailer_dropped;
        }
        Staged::Items {
            path,
            items,
            errors,
            converted_from,
            duplicate_of,
        } => {
            file.path = path;
            file.outcome = if errors.is_empty() {
                "imported"
            } else {
                "partial"
            };
            file.errors = errors;
            file.converted_from = converted_from;
            file.duplicate_of = duplicate_of;
            file.trailer_dropped = items
                .iter()
                .filter_map(|s| s.item.trailer_dropped)
                .reduce(u64::saturating_add);
        }
    }
    file
}

/// The rows of one file's items: a blob row, an item row (and its consent
/// and purposes, when the record named any) and an `item.import` audit row
/// per item, and an `import.partial` row naming the records left out.
fn insert_items(
    tx: &store::Tx<'_>,
    items: &[Sealed],
    errors: &[String],
    options: &ImportOptions,
    rows: &mut Vec<Event>,
) -> store::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(items.len());
    for Sealed {
        item,
        blob,
        content_id,
    } in items
    {
        store::insert_blob(tx, &blob.blob_id, &blob.key, blob.size)?;
        let sha = hex::encode(item.sha256);
        let metadata = item.metadata.to_string();
        let new = new_item(item, &sha, &blob.blob_id, &metadata);
        let id = store::insert_item(tx, &new)?;
        let governance = governance_from_record(&item.metadata, options);
        if governance.subject_key.is_some()
            || governance.consent != "unknown"
            || !governance.purposes.is_empty()
        {
            store::set_item_governance(tx, id, &governance)?;
        }
        rows.push(Event::new(
            AuditAction::ItemImport,
            format!("item:{id}"),
            // No content hash: a keyed value that dies with the item's blob
            // key (crypto::content_id).
            json!({"kind": new.kind, "content_id": content_id, "bytes": blob.size, "consent": governance.consent, "purposes": governance.purposes, "subject_key_set": governance.subject_key.is_some()}),
        ));
        ids.push(id);
    }
    if !errors.is_empty() {
        rows.push(Event::new(
            AuditAction::ImportPartial,
            "file",
            json!({"imported": ids.len(), "errors": errors}),
        ));
    }
    Ok(ids)
}

/// One worker: takes the next file, prepares it, sends it back; stops when
/// the files run out, on cancel (between files), or when this thread has
/// given up (an error).
fn work(
    sealer: &Sealer<'_>,
    listed: &[Listed],
    (next, taken): (&AtomicUsize, &AtomicUsize),
    (cancel, stop): (&AtomicBool, &AtomicBool),
    tx: &mpsc::SyncSender<(usize, Result<Prepared>)>,
) {
    loop {
        if cancel.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
            return;
        }
        let index = next.fetch_add(1, Ordering::SeqCst);
        let Some(entry) = listed.get(index) else {
            return;
        };
        // A taken file is always finished, cancel or not, so the files
        // committed are a prefix of the listing and no blob is left behind.
        while index >= taken.load(Ordering::SeqCst) + WINDOW {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let prepared = match entry {
            Listed::File(found) => sealer.prepare(index, found),
            Listed::Refused(outcome) => Ok(Prepared::Rejected {
                path: outcome.path().to_path_buf(),
                reason: match outcome {
                    FileOutcome::Rejected { error, .. } => error.to_string(),
                    _ => String::new(),
                },
            }),
        };
        if tx.send((index, prepared)).is_err() {
            return;
        }
    }
}

/// The state of one import run on this thread.
struct Run<'a, 'p> {
    allowed: Allowed,
    options: &'a ImportOptions,
    report: ImportReport,
    total: usize,
    started: Instant,
    progress: &'p mut dyn FnMut(&FileReport, &ImportProgress),
}

/// The item row of an accepted file or record: its kind, format and the
/// dimensions the validator found.
fn new_item<'a>(
    item: &'a import::AcceptedItem,
    sha256: &'a str,
    blob_id: &'a str,
    metadata: &'a str,
) -> store::NewItem<'a> {
    let (format, width, height, duration_secs, char_len) = match &item.info {
        import::MediaInfo::Image {
            format,
            width,
            height,
        } => (*format, Some(*width), Some(*height), None, None),
        import::MediaInfo::Audio {
            format,
            duration_secs,
            ..
        } => (*format, None, None, Some(*duration_secs), None),
        import::MediaInfo::Text { char_len } => ("text", None, None, None, Some(*char_len)),
    };
    let kind = match item.kind {
        import::MediaKind::Image => ItemKind::Image,
        import::MediaKind::Audio => ItemKind::Audio,
        import::MediaKind::Text => ItemKind::Text,
    };
    store::NewItem {
        kind,
        name: &item.name,
        format,
        sha256,
        blob_id,
        width,
        height,
        duration_secs,
        char_len,
        metadata,
    }
}

/// Data subject, consent and purposes read from a record's fields (the
/// import's `--subject-field`, `--consent-field`, `--purposes-field`);
/// `a.b` reaches into a nested object. Unknown consent words stay
/// `unknown`: only an explicit yes grants.
fn governance_from_record(
    metadata: &serde_json::Value,
    options: &ImportOptions,
) -> store::Governance {
    let field = |name: &Option<String>| -> Option<serde_json::Value> {
        let name = name.as_deref()?;
        let mut v = metadata;
        for part in name.split('.') {
            v = v.get(part)?;
        }
        Some(v.clone())
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let subject_key = field(&options.subject_field)
        .as_ref()
        .and_then(text)
        .filter(|s| !s.is_empty());
    let consent = match field(&options.consent_field)
        .as_ref()
        .and_then(text)
        .map(|s| s.to_lowercase())
        .as_deref()
    {
        Some("granted" | "yes" | "true" | "y" | "1") => "granted",
        Some("withdrawn" | "no" | "false" | "n" | "0" | "revoked") => "withdrawn",
        _ => "unknown",
    }
    .to_string();
    let purposes = match field(&options.purposes_field) {
        Some(serde_json::Value::Array(list)) => list.iter().filter_map(text).collect(),
        Some(v) => text(&v)
            .map(|s| store::split_purposes(&s.replace(';', ",")))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    store::Governance {
        subject_key,
        consent,
        purposes,
    }
}
