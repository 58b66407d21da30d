//! What the front ends see of stored rows. The GUI and the CLI read these
//! view types, never `store` rows, so the storage layer can change its rows
//! (columns kept for sync, like a row's origin) without touching a front end.
//! Each converts from its row with `From`; field names and JSON are the ones
//! the CLI has always printed. Masks and mask templates are privacy-domain
//! types that the store reads and writes as they are, so they need no copy.

use serde::Serialize;

pub use crate::privacy::derive::{Mask, MaskTemplate};
use crate::store;

/// A comment on an item or one of its labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comment {
    pub id: i64,
    pub item_id: i64,
    /// The label it is about, if any.
    pub annotation_id: Option<i64>,
    /// The author's fingerprint.
    pub author: String,
    pub author_name: String,
    /// The addressee's fingerprint; `None`: for the site (admins and reviewers).
    pub to: Option<String>,
    pub body: String,
    pub at_ms: i64,
}

impl From<store::CommentRow> for Comment {
    fn from(row: store::CommentRow) -> Self {
        // `origin` (which laptop bundle a merged comment came from) is sync
        // bookkeeping, not something a front end shows.
        let store::CommentRow {
            id,
            item_id,
            annotation_id,
            author,
            author_name,
            to,
            body,
            at_ms,
            origin: _,
        } = row;
        Self {
            id,
            item_id,
            annotation_id,
            author,
            author_name,
            to,
            body,
            at_ms,
        }
    }
}

/// An item's data subject, consent and allowed purposes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ItemGovernance {
    /// The data subject's key, if one was set.
    pub subject_key: Option<String>,
    /// `unknown`, `granted` or `withdrawn`.
    pub consent: String,
    pub purposes: Vec<String>,
}

impl From<store::Governance> for ItemGovernance {
    fn from(row: store::Governance) -> Self {
        let store::Governance {
            subject_key,
            consent,
            purposes,
        } = row;
        Self {
            subject_key,
            consent,
            purposes,
        }
    }
}

/// An incident an annotator reported about an item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub item_id: i64,
    /// The reporter's fingerprint.
    pub reporter: String,
    pub reporter_name: String,
    /// One of [`super::INCIDENT_KINDS`].
    pub kind: String,
    pub reason: String,
    pub at_ms: i64,
    /// `open`, or what the admin decided (`remasked`, `removed`, `released`).
    pub status: String,
    /// The admin's note on the decision.
    pub note: Option<String>,
}

impl From<store::IncidentRow> for Incident {
    fn from(row: store::IncidentRow) -> Self {
        let store::IncidentRow {
            id,
            item_id,
            reporter,
            reporter_name,
            kind,
            reason,
            at_ms,
            status,
            note,
            origin: _,
        } = row;
        Self {
            id,
            item_id,
            reporter,
            reporter_name,
            kind,
            reason,
            at_ms,
            status,
            note,
        }
    }
}

/// Allowed purposes as typed (`training, qa`): comma-separated, trimmed,
/// empty entries dropped. The same reading the store applies to its column.
pub fn parse_purposes(text: &str) -> Vec<String> {
    store::split_purposes(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_trimmed_and_empty_entries_dropped() {
        assert_eq!(parse_purposes(" training, ,qa ,"), ["training", "qa"]);
        assert!(parse_purposes("").is_empty());
    }

    #[test]
    fn a_comment_view_prints_the_same_json_as_its_row() {
        let row = store::CommentRow {
            id: 1,
            item_id: 2,
            annotation_id: Some(3),
            author: "ab".into(),
            author_name: "A".into(),
            to: None,
            body: "fix".into(),
            at_ms: 5,
            origin: Some("laptop".into()),
        };
        let before = serde_json::to_value(&row).unwrap();
        assert_eq!(serde_json::to_value(Comment::from(row)).unwrap(), before);
    }
}
