//! Domain types shared by the store, the controller, the CLI and the GUI.
//! They know nothing about SQL, files or egui.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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
    pub status: String,
    pub label_count: u64,
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
}

impl LabelClass {
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

/// An axis-aligned box in original-image pixel coordinates.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BBox {
    /// Builds a box from two corners in any order.
    pub fn from_corners(a: (f64, f64), b: (f64, f64)) -> Self {
        BBox {
            x: a.0.min(b.0),
            y: a.1.min(b.1),
            w: (a.0 - b.0).abs(),
            h: (a.1 - b.1).abs(),
        }
    }
    /// Clamps the box into an image of `width` × `height` pixels.
    pub fn clamped(self, width: f64, height: f64) -> Self {
        let x0 = self.x.clamp(0.0, width);
        let y0 = self.y.clamp(0.0, height);
        let x1 = (self.x + self.w).clamp(0.0, width);
        let y1 = (self.y + self.h).clamp(0.0, height);
        BBox::from_corners((x0, y0), (x1, y1))
    }
    pub fn contains(&self, px: f64, py: f64) -> bool {
        px >= self.x && px <= self.x + self.w && py >= self.y && py <= self.y + self.h
    }
    pub fn is_valid(&self) -> bool {
        [self.x, self.y, self.w, self.h]
            .iter()
            .all(|v| v.is_finite())
            && self.w > 0.0
            && self.h > 0.0
    }
}

/// Geometry of one annotation, in the item's original coordinates.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Geometry {
    #[serde(rename = "bbox")]
    BBox(BBox),
}

/// One live annotation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Annotation {
    pub id: i64,
    pub item_id: i64,
    pub class_id: i64,
    pub geometry: Geometry,
    pub revision: i64,
    pub created_by: String,
}

/// A label change requested by a user (GUI or CLI).
#[derive(Clone, Debug, PartialEq)]
pub enum LabelChange {
    Create {
        item_id: i64,
        class_id: i64,
        geometry: Geometry,
    },
    Update {
        annotation_id: i64,
        class_id: i64,
        geometry: Geometry,
    },
    Delete {
        annotation_id: i64,
    },
    /// Reverts the user's most recent change on the item.
    Undo {
        item_id: i64,
    },
    /// Re-applies the user's most recently undone change on the item.
    Redo {
        item_id: i64,
    },
}

/// One row of the audit trail.
#[derive(Clone, Debug, Serialize, PartialEq)]
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
