//! Domain types shared by the store, the controller, the CLI and the GUI.
//! They know nothing about SQL, files or egui.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

mod geometry;
pub use geometry::{BBox, Extent, Geometry, Keypoint, Medium, Offset, Outline, Tool};

/// What a person may do in a project; see [`crate::permissions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Reviewer,
    Annotator,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Reviewer, Role::Annotator, Role::Auditor];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Annotator => "annotator",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role '{s}' (expected admin, reviewer, annotator or auditor)")
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Image,
    Audio,
    Text,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Image => "image",
            ItemKind::Audio => "audio",
            ItemKind::Text => "text",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "image" => Some(ItemKind::Image),
            "audio" => Some(ItemKind::Audio),
            "text" => Some(ItemKind::Text),
            _ => None,
        }
    }
}

/// A user enrolled in a project.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub fingerprint: String,
    pub name: String,
    pub public_key: String,
    pub role: Role,
    pub active: bool,
}

/// What the queue and `sealtag items` show about an item (no content).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ItemSummary {
    pub id: i64,
    pub kind: ItemKind,
    pub name: String,
    pub format: String,
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
    pub status: ItemStatus,
    pub label_count: u64,
}

/// The value type of a class attribute.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttributeKind {
    Bool,
    Enum { options: Vec<String> },
    Text,
}

/// One attribute a class's labels carry (e.g. `occluded: bool`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AttributeDef {
    pub name: String,
    pub kind: AttributeKind,
    /// Submit is refused while a label of the class lacks it.
    #[serde(default)]
    pub required: bool,
}

impl AttributeDef {
    /// Checks a value against the definition; `None` means valid.
    pub fn problem(&self, value: &serde_json::Value) -> Option<String> {
        let ok = match &self.kind {
            AttributeKind::Bool => value.is_boolean(),
            AttributeKind::Text => value.is_string(),
            AttributeKind::Enum { options } => value
                .as_str()
                .is_some_and(|v| options.iter().any(|o| o == v)),
        };
        (!ok).then(|| match &self.kind {
            AttributeKind::Bool => format!("attribute '{}' must be true or false", self.name),
            AttributeKind::Text => format!("attribute '{}' must be text", self.name),
            AttributeKind::Enum { options } => {
                format!(
                    "attribute '{}' must be one of {}",
                    self.name,
                    options.join(", ")
                )
            }
        })
    }
    /// Whether a value counts as given (empty text does not).
    pub fn is_given(value: Option<&serde_json::Value>) -> bool {
        match value {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }
}

/// Named keypoints of a class and the edges drawn between them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Skeleton {
    pub keypoints: Vec<String>,
    #[serde(default)]
    pub edges: Vec<[usize; 2]>,
}

/// A label class from the project schema.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabelClass {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`
    pub colour: String,
    /// 1–9, the number key that selects the class.
    pub hotkey: Option<u8>,
    /// Tools this class may be drawn with.
    #[serde(default = "default_tools")]
    pub tools: Vec<Tool>,
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
    /// Required for the keypoints tool.
    #[serde(default)]
    pub skeleton: Option<Skeleton>,
}

/// Tools a new class allows: every kind but keypoints (which need a
/// skeleton) and relations (which are their own classes).
pub fn default_tools() -> Vec<Tool> {
    vec![
        Tool::BBox,
        Tool::Polygon,
        Tool::Polyline,
        Tool::Point,
        Tool::Tag,
        Tool::Segment,
        Tool::Span,
    ]
}

/// The versioned label schema of a project.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub classes: Vec<LabelClass>,
    /// Whether an item may carry several tags (else at most one).
    pub multi_label_tags: bool,
    /// Whether text spans may overlap or nest.
    #[serde(default)]
    pub overlapping_spans: bool,
    /// Whether audio segments may overlap (several speakers at once).
    #[serde(default = "yes")]
    pub overlapping_segments: bool,
}

fn yes() -> bool {
    true
}

impl LabelClass {
    pub fn allows(&self, tool: Tool) -> bool {
        self.tools.contains(&tool)
    }

    pub fn rgb(&self) -> [u8; 3] {
        let hex = self.colour.trim_start_matches('#');
        let byte = |i: usize| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(128)
        };
        [byte(0), byte(2), byte(4)]
    }
}

/// One live annotation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Annotation {
    pub id: i64,
    pub item_id: i64,
    pub class_id: i64,
    pub geometry: Geometry,
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub hidden: bool,
    pub locked: bool,
    /// Drawing order: higher is on top.
    pub z: i64,
    pub revision: i64,
    pub created_by: String,
    /// A prediction's source (model or file) until someone accepts or
    /// edits it; `None` for labels people made.
    pub source: Option<String>,
    pub score: Option<f64>,
}

/// Everything a user sets on an annotation; what create and update carry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AnnotationDraft {
    pub class_id: i64,
    pub geometry: Geometry,
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub z: i64,
}

impl AnnotationDraft {
    /// A plain visible draft with no attributes.
    pub fn new(class_id: i64, geometry: Geometry) -> Self {
        Self {
            class_id,
            geometry,
            attributes: BTreeMap::new(),
            hidden: false,
            locked: false,
            z: 0,
        }
    }
}

impl From<&Annotation> for AnnotationDraft {
    fn from(a: &Annotation) -> Self {
        Self {
            class_id: a.class_id,
            geometry: a.geometry.clone(),
            attributes: a.attributes.clone(),
            hidden: a.hidden,
            locked: a.locked,
            z: a.z,
        }
    }
}

/// A label change requested by a user (GUI or CLI).
#[derive(Clone, Debug, PartialEq)]
pub enum LabelChange {
    Create {
        item_id: i64,
        draft: AnnotationDraft,
    },
    Update {
        annotation_id: i64,
        draft: AnnotationDraft,
    },
    Delete {
        annotation_id: i64,
    },
    /// Reverts the user's most recent change: on one item, or anywhere
    /// (`None`: undo works across items).
    Undo {
        item_id: Option<i64>,
    },
    /// Re-applies the user's most recently undone change.
    Redo {
        item_id: Option<i64>,
    },
}

/// One row of the audit trail.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A closed vocabulary stored and sent as snake_case text: the enum, its
/// text both ways, and every value in order.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in workflow order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value `text` names, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// Where an item stands in the workflow (the queue filter, the quality
    /// report): the latest state of its assignments.
    ItemStatus {
        New = "new",
        InProgress = "in_progress",
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Skipped = "skipped",
    }
}

vocabulary! {
    /// Where one person's assignment on an item stands (DESIGN §5).
    AssignmentState {
        Assigned = "assigned",
        InProgress = "in_progress",
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Skipped = "skipped",
    }
}

impl AssignmentState {
    /// The item status an assignment in this state gives its item.
    pub fn item_status(self) -> ItemStatus {
        match self {
            AssignmentState::Assigned => ItemStatus::New,
            AssignmentState::InProgress => ItemStatus::InProgress,
            AssignmentState::Submitted => ItemStatus::Submitted,
            AssignmentState::Approved => ItemStatus::Approved,
            AssignmentState::Rejected => ItemStatus::Rejected,
            AssignmentState::Skipped => ItemStatus::Skipped,
        }
    }

    /// Whether the assignment may move to `to`. The state machine:
    /// `assigned → in_progress → submitted → approved | rejected →
    /// in_progress → …`, and `skipped` from any state before review. Every
    /// state change goes through this check.
    pub fn may_become(self, to: AssignmentState) -> bool {
        use AssignmentState::*;
        matches!(
            (self, to),
            (Assigned, InProgress | Submitted | Skipped)
                | (InProgress, Submitted | Skipped)
                | (Submitted, Approved | Rejected)
                | (Rejected, InProgress | Submitted | Skipped)
        )
    }

    /// Whether an annotator may still change their labels.
    pub fn editable_by_annotator(self) -> bool {
        matches!(
            self,
            AssignmentState::Assigned | AssignmentState::InProgress | AssignmentState::Rejected
        )
    }
}

/// Current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC rendering of Unix milliseconds, for people and JSON.
pub fn format_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_from_corners_and_clamp() {
        let b = BBox::from_corners((50.0, 40.0), (10.0, 20.0));
        assert_eq!(
            b,
            BBox {
                x: 10.0,
                y: 20.0,
                w: 40.0,
                h: 20.0
            }
        );
        let c = BBox {
            x: -5.0,
            y: 90.0,
            w: 20.0,
            h: 20.0,
        }
        .clamped(100.0, 100.0);
        assert_eq!(
            c,
            BBox {
                x: 0.0,
                y: 90.0,
                w: 15.0,
                h: 10.0
            }
        );
        assert!(
            !BBox {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 1.0
            }
            .is_valid()
        );
        assert!(
            !BBox {
                x: f64::NAN,
                y: 0.0,
                w: 1.0,
                h: 1.0
            }
            .is_valid()
        );
    }

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn geometry_json_is_stable() {
        let g = Geometry::BBox(BBox {
            x: 1.0,
            y: 2.0,
            w: 3.0,
            h: 4.0,
        });
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"type":"bbox","x":1.0,"y":2.0,"w":3.0,"h":4.0}"#
        );
    }
}
