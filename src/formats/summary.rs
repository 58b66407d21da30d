//! A CSV summary of the dataset, one row per item (RFC 4180 quoting):
//! `item_id,name,kind,status,media_path,labels,classes`, where `classes`
//! lists each class with its count (`person:2;face:1`), for spreadsheets
//! and quick checks.

use std::collections::BTreeMap;

use super::common::{ALL_KINDS, for_each_covered};
use super::{ExportStats, Exporter, FileSink, FormatError, ItemSource};
use crate::model::{ItemKind, Schema};

pub struct Summary;

impl Exporter for Summary {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn description(&self) -> &'static str {
        "CSV summary: one row per item with its label counts per class (all kinds)"
    }
    fn kinds(&self) -> &'static [ItemKind] {
        ALL_KINDS
    }
    fn export(
        &self,
        _schema: &Schema,
        items: &dyn ItemSource,
        out: &mut dyn FileSink,
    ) -> Result<ExportStats, FormatError> {
        let w = out.file("summary.csv")?;
        let mut csv = csv::Writer::from_writer(w);
        let err = |e: csv::Error| FormatError::Invalid(e.to_string());
        csv.write_record([
            "item_id",
            "name",
            "kind",
            "status",
            "media_path",
            "labels",
            "classes",
        ])
        .map_err(err)?;
        let mut stats = ExportStats::default();
        for_each_covered(self, items, &mut stats, |item, stats| {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for l in &item.labels {
                *counts.entry(l.class.as_str()).or_default() += 1;
            }
            let classes = counts
                .iter()
                .map(|(c, n)| format!("{c}:{n}"))
                .collect::<Vec<_>>()
                .join(";");
            csv.write_record([
                item.id.to_string().as_str(),
                &item.name,
                item.kind.as_str(),
                &item.status,
                &item.media_path,
                &item.labels.len().to_string(),
                &classes,
            ])
            .map_err(err)?;
            stats.items += 1;
            stats.labels += item.labels.len();
            Ok(())
        })?;
        csv.flush()?;
        Ok(stats)
    }
}

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    vec![Box::new(Summary)]
}
