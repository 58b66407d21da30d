//! The wire documents of work and results packages: what travels, field
//! for field, between a site and a laptop. The reader and the writer of
//! every document are here side by side (serde both ways), so a round-trip
//! test and a golden sample catch a renamed or retyped field before a
//! laptop and a site disagree on the format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::refused;
use crate::audit::SignedHead;
use crate::controller::{Acceptance, CoreError, Result};
use crate::model::{AnnotationDraft, AssignmentState, AuditEntry, ItemKind, Role, Schema};
use crate::privacy::window::Window;

/// The JSON document of a work package.
pub const WORK_DOC: &str = "work.json";
/// The JSON documents of a results package.
pub const RESULTS_DOC: &str = "results.json";
pub const AUDIT_DOC: &str = "audit.json";
/// A package's JSON documents are read into memory; media never are.
pub(super) const MAX_DOC_BYTES: u64 = 256 << 20;

/// A person a work package mentions (the recipient, the site's admins,
/// authors of pre-labels).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Person {
    pub fingerprint: String,
    pub name: String,
    pub public_key: String,
    pub role: Role,
}

/// One item of a work package: what the laptop may know about it, and
/// the member that carries its (masked, minimised) media.
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
    pub state: AssignmentState,
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
    pub acceptance: Acceptance,
    /// The site's revocation list: members removed, and when. The laptop
    /// refuses later packages signed by them and seals results only to the
    /// admins still listed.
    #[serde(default)]
    pub revoked: Vec<(String, i64)>,
    /// The site's signed membership log (`crate::membership`): the laptop
    /// replays it, checks it extends the one it pinned, and lets only an
    /// admin it says is current sign the package and set the admins
    /// results are sealed to.
    #[serde(default)]
    pub membership: Vec<crate::membership::Entry>,
    /// After this time the laptop refuses labelling (app-enforced; see
    /// docs/governance.md).
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    /// The site's latest signed audit head when the package was made. The
    /// laptop keeps the latest it has seen, refuses a later package whose
    /// head is behind it (check `rollback`), and carries it back in its
    /// results, where the site refuses it if its own trail no longer
    /// reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_head: Option<SignedHead>,
    /// The latest head the site holds of each laptop trail the recipient
    /// sent back: a laptop bundle whose own trail no longer reaches it was
    /// restored from an older copy or cut back (check `rollback`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub laptop_heads: Vec<ChainHead>,
}

/// A head of one bundle's trail, named by the bundle (chain) id.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChainHead {
    pub chain: String,
    pub head: SignedHead,
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
    pub state: AssignmentState,
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
    /// The latest head of the site's own trail this laptop has seen (in
    /// work packages): the site refuses the package (check `rollback`) if
    /// its trail does not hold that row with that hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_head_seen: Option<SignedHead>,
}

/// Parses a package document; a malformed one fails the format check.
pub(super) fn parse_doc<T: serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| refused("format", format!("{name} is not valid: {e}")))
}

/// A document as it is written into a package.
pub(super) fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| CoreError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Geometry;

    fn person(name: &str, role: Role) -> Person {
        Person {
            fingerprint: format!("fpr-{name}"),
            name: name.into(),
            public_key: format!("key-{name}"),
            role,
        }
    }

    fn work_item() -> WorkItem {
        WorkItem {
            id: 42,
            kind: ItemKind::Text,
            name: "item-000042.txt".into(),
            format: "txt".into(),
            width: None,
            height: None,
            duration_secs: None,
            char_len: Some(120),
            metadata: r#"{"channel":"chat"}"#.into(),
            purpose: "annotate".into(),
            state: AssignmentState::Assigned,
            media: "media/42".into(),
            privacy_version: 3,
            privacy: SentPrivacy {
                window: Some(Window::Text {
                    start: 10,
                    end: 130,
                }),
                masks: vec!["phone at 12..24".into()],
                auto_pii: true,
                metadata_stripped: false,
                unchanged: false,
            },
        }
    }

    fn draft() -> AnnotationDraft {
        AnnotationDraft {
            class_id: 1,
            geometry: Geometry::Span {
                start: 3,
                end: 9,
                byte_start: 3,
                byte_end: 9,
            },
            attributes: BTreeMap::new(),
            hidden: false,
            locked: false,
            z: 0,
        }
    }

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        name: &str,
        value: &T,
    ) {
        let bytes = json_bytes(value).unwrap();
        let back: T = parse_doc(name, &bytes).unwrap();
        assert_eq!(&back, value, "{name} changed on the way through JSON");
    }

    #[test]
    fn work_doc_round_trips() {
        let doc = WorkDoc {
            project_name: "Site".into(),
            recipient: person("ann", Role::Annotator),
            site: vec![person("ada", Role::Admin)],
            authors: vec![person("rey", Role::Reviewer)],
            schema: crate::controller::default_schema(),
            guidelines: "Label every name.".into(),
            settings: BTreeMap::from([("mask_pii".to_string(), "auto".to_string())]),
            items: vec![work_item()],
            prelabels: vec![PreLabel {
                site_id: 7,
                item_id: 42,
                revision: 2,
                author: "fpr-rey".into(),
                editor: Some("fpr-ada".into()),
                origin: None,
                source: Some("model-1".into()),
                score: Some(0.5),
                draft: draft(),
            }],
            comments: vec![CommentDoc {
                id: 1,
                item_id: 42,
                annotation_id: Some(7),
                author: "fpr-ada".into(),
                body: "Check the second name.".into(),
                at_ms: 1_700_000_000_000,
            }],
            acceptance: Acceptance {
                approved: 3,
                corrected: 1,
                rejected: 2,
            },
            revoked: vec![("fpr-old".into(), 1_600_000_000_000)],
            membership: vec![],
            expires_at_ms: Some(1_800_000_000_000),
            site_head: None,
            laptop_heads: Vec::new(),
        };
        round_trip(WORK_DOC, &doc);
    }

    #[test]
    fn results_and_audit_docs_round_trip() {
        let results = ResultsDoc {
            laptop_project_id: "laptop-1".into(),
            full: false,
            items: vec![ItemResult {
                item_id: 42,
                purpose: "annotate".into(),
                state: AssignmentState::Submitted,
                reason: Some("unreadable".into()),
                annotations: vec![AnnotationDoc {
                    local_id: 5,
                    site_id: Some(7),
                    base_revision: 2,
                    revisions: vec![RevisionDoc {
                        revision: 3,
                        op: "update".into(),
                        draft: draft(),
                        deleted: false,
                        at_ms: 1_700_000_000_001,
                    }],
                }],
            }],
            comments: vec![],
            incidents: vec![IncidentDoc {
                id: 1,
                item_id: 42,
                kind: "pii".into(),
                reason: "a full card number".into(),
                at_ms: 1_700_000_000_002,
            }],
        };
        round_trip(RESULTS_DOC, &results);
        let audit = AuditDoc {
            chain: "laptop-1".into(),
            rows: vec![AuditEntry {
                seq: 1,
                at_ms: 1_700_000_000_003,
                actor: "fpr-ann".into(),
                action: "label.create".into(),
                target: "item:42".into(),
                details: "{}".into(),
                prev_hash: "00".into(),
                hash: "11".into(),
            }],
            heads: vec![SignedHead {
                seq: 1,
                hash: "11".into(),
                signer: "fpr-ann".into(),
                signature: "22".into(),
                at_ms: 1_700_000_000_004,
                prev: None,
            }],
            site_head_seen: None,
        };
        round_trip(AUDIT_DOC, &audit);
    }

    /// The format as laptops already in the field read it: a renamed or
    /// retyped field fails here before it fails on someone's laptop.
    #[test]
    fn work_item_matches_golden_json() {
        let golden = r#"{"id":42,"kind":"text","name":"item-000042.txt","format":"txt","width":null,"height":null,"duration_secs":null,"char_len":120,"metadata":"{\"channel\":\"chat\"}","purpose":"annotate","state":"assigned","media":"media/42","privacy_version":3,"privacy":{"window":{"kind":"text","start":10,"end":130},"masks":["phone at 12..24"],"auto_pii":true,"metadata_stripped":false,"unchanged":false}}"#;
        assert_eq!(serde_json::to_string(&work_item()).unwrap(), golden);
        let parsed: WorkItem = parse_doc("golden", golden.as_bytes()).unwrap();
        assert_eq!(parsed, work_item());
    }

    /// Packages made before `privacy_version` and `privacy` existed still open.
    #[test]
    fn work_item_without_later_fields_parses() {
        let old = r#"{"id":1,"kind":"image","name":"a.jpg","format":"jpeg","width":4,"height":3,"duration_secs":null,"char_len":null,"metadata":"{}","purpose":"annotate","state":"assigned","media":"media/1"}"#;
        let item: WorkItem = parse_doc("old", old.as_bytes()).unwrap();
        assert_eq!(item.privacy_version, 0);
        assert_eq!(item.privacy, SentPrivacy::default());
    }

    #[test]
    fn fail_malformed_doc_names_the_format_check() {
        let err = parse_doc::<WorkItem>(WORK_DOC, br#"{"id":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("format check failed"), "{err}");
    }
}
