//! Privacy checks over a project: PII detection on its text items (with
//! the admin's list of person names, the `pii_names` setting), for review
//! before masking. Scanning decrypts in memory only; the scan is audited
//! by count, never by content.

use serde::Serialize;
use serde_json::json;

use super::{Result, Session};
use crate::model::ItemKind;
use crate::permissions::Action;
use crate::privacy::pii::{Detector, PiiSpan};
use crate::store;

/// The PII proposals for one text item.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ItemPii {
    pub item_id: i64,
    pub name: String,
    pub spans: Vec<PiiSpan>,
}

impl Session {
    /// A detector with this project's person names (the `pii_names`
    /// setting: one per line).
    pub fn pii_detector(&self) -> Result<Detector> {
        Ok(Detector::from_name_list(
            &self.project_setting("pii_names")?,
        ))
    }

    /// Runs the PII detector over every text item (admin).
    pub fn pii_scan(&mut self, detector: &Detector) -> Result<Vec<ItemPii>> {
        self.require(Action::Import, Some("PII scan".into()))?;
        let conn = self.project.store.conn();
        let mut out = Vec::new();
        for item in store::list_items(conn, None)? {
            if item.kind != ItemKind::Text {
                continue;
            }
            let Some((blob, key)) = store::item_blob(conn, item.id)? else {
                continue;
            };
            let bytes = self
                .project
                .paths
                .read_blob(self.project.project_id(), &blob, &key)?;
            let text = String::from_utf8_lossy(&bytes);
            out.push(ItemPii {
                item_id: item.id,
                name: item.name,
                spans: detector.scan(&text),
            });
        }
        let found: usize = out.iter().map(|i| i.spans.len()).sum();
        let details = json!({"items": out.len(), "spans": found}).to_string();
        self.write(|tx, pid, actor| {
            store::append_audit(
                tx,
                pid,
                actor,
                "pii.scan",
                &format!("project:{pid}"),
                &details,
            )
        })?;
        Ok(out)
    }
}
