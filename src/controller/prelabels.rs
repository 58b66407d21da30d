//! Pre-labels: labels another tool or a model made, checked against the
//! schema and their items and written as predictions from a named source.
//!
//! Built for size (250,000 boxes in one file): the classes, the schema and
//! the items are read once; the labels already on an item only for items
//! that have any; the labels are written 64 rows per statement; and a file
//! that can be read as a stream (Label Studio) is read on a second thread
//! while this one checks and writes what has been read, all in one
//! transaction with one audit row, so a failure leaves nothing behind.

use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::mpsc;

use super::labels::DraftRules;
use super::{CoreError, Event, Result, Session};
use crate::events::AuditAction;
use crate::formats::{self, ItemIndex, LabelInput, ParsedLabels, PreLabel, RecordError};
use crate::model::{Annotation, AnnotationDraft, Geometry, ItemSummary, now_ms};
use crate::permissions::Action;
use crate::store;

/// What a pre-label import did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PrelabelReport {
    pub created: usize,
    pub items: Vec<i64>,
    /// Labels left out because the same source already put the same class
    /// and geometry on the item (a file imported twice adds nothing).
    pub already_imported: usize,
    pub errors: Vec<RecordError>,
    /// What was imported but may need attention: attributes a class does
    /// not define, kept on the labels as they came (counted per class).
    pub warnings: Vec<String>,
}

/// Labels checked and waiting to be written, at most this many.
const PENDING: usize = 4096;

/// Labels the reading thread hands over at a time.
const CHUNK: usize = 4096;

/// One import's checks and writes, fed label by label inside its
/// transaction.
struct Intake<'r> {
    rules: &'r DraftRules,
    source: &'r str,
    actor: i64,
    now: i64,
    items: HashMap<i64, ItemSummary>,
    /// Items that had labels before: only theirs are read.
    labelled: HashSet<i64>,
    stored: HashMap<i64, Vec<Annotation>>,
    /// Every (item, class, geometry) this source has put on the project:
    /// a second import of the same file, or a repeated record, must not
    /// add a second copy.
    seen: HashSet<(i64, i64, String)>,
    /// Attributes a class does not define, kept: (class, attribute) → labels.
    undefined: BTreeMap<(String, String), usize>,
    pending: Vec<(i64, AnnotationDraft, Option<f64>)>,
    touched: BTreeSet<i64>,
    report: PrelabelReport,
}

impl Intake<'_> {
    /// Checks one label and queues it for writing (or reports it).
    fn take(&mut self, conn: &store::Db, label: PreLabel) -> Result<()> {
        let Some(class) = self.rules.class_named(&label.class) else {
            self.report.errors.push(RecordError {
                record: label.record,
                message: format!("no class named '{}' in the schema", label.class),
            });
            return Ok(());
        };
        let Some(item) = self.items.get(&label.item_id) else {
            return Ok(());
        };
        for name in label.attributes.keys() {
            if !class.attributes.iter().any(|d| &d.name == name) {
                *self
                    .undefined
                    .entry((class.name.clone(), name.clone()))
                    .or_default() += 1;
            }
        }
        if self.labelled.contains(&item.id) && !self.stored.contains_key(&item.id) {
            let others = store::list_annotations(conn, item.id)?;
            for a in others
                .iter()
                .filter(|a| a.source.as_deref() == Some(self.source))
            {
                self.seen
                    .insert((item.id, a.class_id, geometry_key(&a.geometry)));
            }
            self.stored.insert(item.id, others);
        }
        let others = self.stored.get(&item.id).map_or(&[][..], Vec::as_slice);
        let mut draft = AnnotationDraft::new(class.id, label.geometry);
        draft.attributes = label.attributes;
        match self.rules.check(conn, item, draft, others) {
            Ok(d) => {
                if self
                    .seen
                    .insert((item.id, d.class_id, geometry_key(&d.geometry)))
                {
                    self.pending.push((item.id, d, label.score));
                    if self.pending.len() >= PENDING {
                        self.write(conn)?;
                    }
                } else {
                    self.report.already_imported += 1;
                }
            }
            Err(e) => self.report.errors.push(RecordError {
                record: label.record,
                message: e.to_string(),
            }),
        }
        Ok(())
    }

    /// Writes the queued labels.
    fn write(&mut self, conn: &store::Db) -> Result<()> {
        let rows: Vec<store::NewPrediction<'_>> = self
            .pending
            .iter()
            .map(|(item_id, draft, score)| store::NewPrediction {
                item_id: *item_id,
                draft,
                score: *score,
            })
            .collect();
        store::insert_predictions(conn, &rows, self.source, self.actor, self.now)?;
        self.report.created += rows.len();
        self.touched.extend(self.pending.iter().map(|p| p.0));
        self.pending.clear();
        Ok(())
    }

    fn finish(mut self, conn: &store::Db) -> Result<PrelabelReport> {
        self.write(conn)?;
        let mut report = self.report;
        report.errors.sort_by_key(|e| e.record);
        report.items = self.touched.into_iter().collect();
        report.warnings = self
            .undefined
            .into_iter()
            .map(|((class, name), n)| {
                format!("class '{class}' does not define attribute '{name}': kept as it came on {n} label(s); add it to the class to edit it")
            })
            .collect();
        Ok(report)
    }
}

/// A geometry as a comparable key (its JSON: `Geometry` holds floats, so
/// it is not `Hash`; the same geometry always serialises the same).
fn geometry_key(g: &Geometry) -> String {
    serde_json::to_string(g).unwrap_or_default()
}

/// The importer called `format`, or an error naming the ones there are.
pub(super) fn importer_named(format: &str) -> Result<Box<dyn formats::Importer>> {
    formats::importer(format).ok_or_else(|| {
        CoreError::Invalid(format!(
            "unknown pre-label format '{format}' (one of: {})",
            formats::importers()
                .iter()
                .map(|i| i.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

impl Session {
    /// Imports pre-labels from a file in `format` (admin): each becomes a
    /// prediction from `source` (shown as such until accepted or edited).
    /// Records that do not parse, match an item or validate are reported by
    /// number; the rest is applied in one transaction with its audit row.
    pub fn import_prelabels(
        &mut self,
        bytes: &[u8],
        format: &str,
        source: &str,
    ) -> Result<PrelabelReport> {
        let input = LabelInput::File {
            name: format!("pre-labels.{format}"),
            bytes: bytes.to_vec(),
        };
        Ok(self
            .import_prelabels_from(&input, format, source, false)?
            .report)
    }

    /// Reads `input` on a second thread while this one checks and writes
    /// what has been read; returns the report and the reader's notes.
    pub(super) fn stream_prelabels(
        &mut self,
        input: &LabelInput,
        format: &str,
        source: &str,
    ) -> Result<(PrelabelReport, Vec<RecordError>)> {
        self.require(Action::Import, Some(format!("pre-labels ({format})")))?;
        let importer = importer_named(format)?;
        let infos = self.item_infos()?;
        let index = ItemIndex::new(&infos);
        let mut notes = Vec::new();
        let report = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<Vec<PreLabel>>(4);
            let (importer, index) = (&importer, &index);
            let reader = scope.spawn(move || {
                let mut chunk = Vec::with_capacity(CHUNK);
                let parsed = importer.read_each(input, index, &mut |label| {
                    chunk.push(label);
                    // A closed channel means the import failed: stop
                    // holding labels nobody will take.
                    if chunk.len() >= CHUNK && tx.send(std::mem::take(&mut chunk)).is_err() {
                        chunk.clear();
                    }
                });
                if !chunk.is_empty() {
                    let _ = tx.send(chunk);
                }
                parsed
            });
            self.intake(format, source, |take| {
                for chunk in &rx {
                    for label in chunk {
                        take(label)?;
                    }
                }
                let parsed = reader
                    .join()
                    .map_err(|_| CoreError::Invalid(format!("{format}: the reader stopped")))?
                    .map_err(|e| CoreError::Invalid(format!("{format}: {e}")))?;
                notes = parsed.notes;
                Ok(parsed.errors)
            })
        })?;
        Ok((report, notes))
    }

    /// Checks parsed pre-labels against the schema and their items and
    /// writes the good ones as predictions from `source` (admin), in one
    /// transaction with one audit row; records that do not match a class or
    /// validate are reported by number.
    pub(crate) fn apply_prelabels(
        &mut self,
        parsed: ParsedLabels,
        format: &str,
        source: &str,
    ) -> Result<PrelabelReport> {
        let ParsedLabels { labels, errors, .. } = parsed;
        self.intake(format, source, |take| {
            for label in labels {
                take(label)?;
            }
            Ok(errors)
        })
    }

    /// One transaction: `feed` hands every label to `take` (and returns
    /// the records it could not read); each is checked and written; one
    /// `prelabels.import` audit row says what came of it.
    fn intake(
        &mut self,
        format: &str,
        source: &str,
        feed: impl FnOnce(&mut dyn FnMut(PreLabel) -> Result<()>) -> Result<Vec<RecordError>>,
    ) -> Result<PrelabelReport> {
        let allowed = self.allow(Action::Import, Some(format!("pre-labels ({format})")))?;
        let rules = self.draft_rules()?;
        let conn = self.project.store.conn();
        let items: HashMap<i64, ItemSummary> = store::list_items(conn, None)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let labelled = store::items_with_labels(conn)?;
        let (actor, now) = (self.user.id, now_ms());
        let target = format!("project:{}", self.project_id());
        // The transaction's closure can only fail with a store error; a
        // reader's error is kept aside, the transaction rolled back, and the
        // reader's error returned.
        let mut failure = None;
        let committed = self.commit(allowed, |tx| {
            let mut intake = Intake {
                rules: &rules,
                source,
                actor,
                now,
                items,
                labelled,
                stored: HashMap::new(),
                seen: HashSet::new(),
                undefined: BTreeMap::new(),
                pending: Vec::new(),
                touched: BTreeSet::new(),
                report: PrelabelReport::default(),
            };
            let fed = feed(&mut |label| intake.take(tx, label)).and_then(|unread| {
                intake.report.errors.extend(unread);
                intake.finish(tx)
            });
            let report = match fed {
                Ok(report) => report,
                Err(e) => {
                    let why = store::StoreError::Invalid(e.to_string());
                    failure = Some(e);
                    return Err(why);
                }
            };
            let event = Event::new(
                AuditAction::PrelabelsImport,
                target,
                json!({"format": format, "source": source, "labels": report.created, "items": report.items.len(), "already_imported": report.already_imported, "errors": report.errors.len(), "warnings": report.warnings.len()}),
            );
            Ok((report, event))
        });
        match (committed, failure) {
            (Err(_), Some(e)) => Err(e),
            (committed, _) => committed,
        }
    }
}
