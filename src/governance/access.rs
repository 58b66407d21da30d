//! The access review: one line per person ever enrolled (active and
//! removed) with role, key fingerprint, when and by whom access was granted,
//! the last thing they did, and the packages that went to them and came
//! back from them — what a security team needs to confirm or revoke each
//! member periodically. Assembled here from rows the controller reads.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::model::{AuditEntry, Role, User};
use crate::store::PackageRow;

/// How many packages, and the latest one's ledger time.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PackageTally {
    pub count: usize,
    pub last_ms: Option<i64>,
}

impl PackageTally {
    fn add(&mut self, at_ms: i64) {
        self.count += 1;
        self.last_ms = Some(self.last_ms.map_or(at_ms, |m| m.max(at_ms)));
    }
}

/// A person's latest audit row.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Activity {
    pub at_ms: i64,
    pub action: String,
    pub seq: i64,
    /// `None`: this project's trail; else the peer chain (a laptop bundle's
    /// audit segment, merged from a results package) holding the row.
    pub chain: Option<String>,
}

/// One person in the review.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AccessEntry {
    pub fingerprint: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// When the current enrolment was granted: the latest `user.add` row
    /// for them, or the member table's date when the trail has none (a
    /// laptop bundle copies its members from the work package).
    pub added_ms: i64,
    /// Who granted it (fingerprint), when the trail says.
    pub added_by: Option<String>,
    pub removed_ms: Option<i64>,
    /// The latest row they wrote, in this trail or a peer chain.
    pub last_activity: Option<Activity>,
    /// Packages made here with them among the recipients (work packages at
    /// a site); failed or cancelled ones are not counted.
    pub packages_sent: PackageTally,
    /// Packages applied here that they sent (results packages at a site).
    pub packages_received: PackageTally,
}

/// The whole report, as `access review --json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AccessReview {
    pub project_id: String,
    pub project_name: String,
    pub generated_ms: i64,
    /// Who ran the review (fingerprint).
    pub reviewer: String,
    pub people: Vec<AccessEntry>,
}

impl AccessReview {
    pub fn active(&self) -> usize {
        self.people.iter().filter(|p| p.active).count()
    }
}

/// A member row with its enrolment dates.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub user: User,
    pub added_ms: i64,
    pub removed_ms: Option<i64>,
}

/// One audit trail: the project's own (`chain: None`) or a peer chain.
#[derive(Clone, Copy, Debug)]
pub struct Trail<'a> {
    pub chain: Option<&'a str>,
    pub rows: &'a [AuditEntry],
}

/// Whether an outgoing ledger row stands for a package that was written
/// (a reserved row stays `writing`, then becomes `failed` or `cancelled`
/// when the package was not made).
fn written(row: &PackageRow) -> bool {
    serde_json::from_str::<serde_json::Value>(&row.summary)
        .ok()
        .and_then(|v| v["state"].as_str().map(|s| s == "written"))
        .unwrap_or(true)
}

/// Builds one entry per member, in member order.
pub fn review_people(
    members: &[Member],
    packages: &[PackageRow],
    trails: &[Trail<'_>],
) -> Vec<AccessEntry> {
    // One pass per trail: each actor's latest row (storage order, so a
    // clock set back does not hide a later row).
    let mut last: BTreeMap<&str, Activity> = BTreeMap::new();
    // The latest grant of each person, from the project's own trail.
    let mut granted: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
    for trail in trails {
        let mut latest: BTreeMap<&str, &AuditEntry> = BTreeMap::new();
        for row in trail.rows {
            latest.insert(row.actor.as_str(), row);
            if trail.chain.is_none()
                && crate::events::AuditAction::parse(&row.action)
                    == Some(crate::events::AuditAction::UserAdd)
                && let Some(subject) = row.target.strip_prefix("user:")
            {
                granted.insert(subject, (row.at_ms, row.actor.as_str()));
            }
        }
        for (actor, row) in latest {
            let newer = last.get(actor).is_none_or(|a| row.at_ms > a.at_ms);
            if newer {
                last.insert(
                    actor,
                    Activity {
                        at_ms: row.at_ms,
                        action: row.action.clone(),
                        seq: row.seq,
                        chain: trail.chain.map(str::to_string),
                    },
                );
            }
        }
    }
    members
        .iter()
        .map(|m| {
            let fpr = m.user.fingerprint.as_str();
            let mut sent = PackageTally::default();
            let mut received = PackageTally::default();
            for p in packages {
                if p.direction == "out" && written(p) && p.recipients.iter().any(|r| r == fpr) {
                    sent.add(p.at_ms);
                } else if p.direction == "in" && p.sender == fpr {
                    received.add(p.at_ms);
                }
            }
            let grant = granted.get(fpr);
            AccessEntry {
                fingerprint: m.user.fingerprint.clone(),
                name: m.user.name.clone(),
                role: m.user.role,
                active: m.user.active,
                added_ms: grant.map_or(m.added_ms, |g| g.0),
                added_by: grant.map(|g| g.1.to_string()),
                removed_ms: if m.user.active { None } else { m.removed_ms },
                last_activity: last.get(fpr).cloned(),
                packages_sent: sent,
                packages_received: received,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(seq: i64, at_ms: i64, actor: &str, action: &str, target: &str) -> AuditEntry {
        AuditEntry {
            seq,
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            details: "{}".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn member(id: i64, fpr: &str, role: Role, active: bool) -> Member {
        Member {
            user: User {
                id,
                fingerprint: fpr.into(),
                name: fpr.to_uppercase(),
                public_key: String::new(),
                role,
                active,
            },
            added_ms: 5,
            removed_ms: (!active).then_some(90),
        }
    }

    fn package(direction: &str, sender: &str, to: &str, at_ms: i64, state: &str) -> PackageRow {
        PackageRow {
            id: format!("{direction}-{at_ms}"),
            kind: if direction == "out" {
                "work"
            } else {
                "results"
            }
            .into(),
            direction: direction.into(),
            sender: sender.into(),
            recipients: vec![to.into()],
            sequence: 1,
            manifest_sha256: String::new(),
            at_ms,
            summary: if state.is_empty() {
                json!({"items": 1}).to_string()
            } else {
                json!({"state": state}).to_string()
            },
        }
    }

    #[test]
    fn tallies_grants_and_last_activity_across_chains() {
        let members = [
            member(1, "ada", Role::Admin, true),
            member(2, "ann", Role::Annotator, true),
            member(3, "rex", Role::Reviewer, false),
        ];
        let packages = [
            package("out", "ada", "ann", 100, "written"),
            package("out", "ada", "ann", 300, "written"),
            package("out", "ada", "ann", 400, "failed"),
            package("out", "ada", "ann", 500, "cancelled"),
            package("in", "ann", "ada", 350, ""),
            package("out", "ada", "rex", 200, "written"),
        ];
        let own = [
            row(1, 10, "ada", "user.add", "user:ada"),
            row(2, 20, "ada", "user.add", "user:ann"),
            row(3, 30, "ada", "user.add", "user:rex"),
            row(4, 40, "rex", "item.view", "item:1"),
            row(5, 80, "ada", "user.remove", "user:rex"),
            // A clock set back: still Ada's latest row.
            row(6, 70, "ada", "session.open", "project:p"),
        ];
        let laptop = [
            row(1, 50, "ann", "item.view", "item:1"),
            row(2, 60, "ann", "label.create", "item:1/annotation:1"),
        ];
        let people = review_people(
            &members,
            &packages,
            &[
                Trail {
                    chain: None,
                    rows: &own,
                },
                Trail {
                    chain: Some("laptop-1"),
                    rows: &laptop,
                },
            ],
        );
        let ada = &people[0];
        assert_eq!((ada.added_ms, ada.added_by.as_deref()), (10, Some("ada")));
        assert_eq!(ada.last_activity.as_ref().map(|a| a.seq), Some(6));
        assert_eq!(ada.packages_sent, PackageTally::default());
        assert_eq!(ada.packages_received, PackageTally::default());

        let ann = &people[1];
        assert_eq!(
            (ann.role, ann.active, ann.removed_ms),
            (Role::Annotator, true, None)
        );
        assert_eq!(
            ann.packages_sent,
            PackageTally {
                count: 2,
                last_ms: Some(300)
            },
            "failed and cancelled packages were never sent"
        );
        assert_eq!(
            ann.packages_received,
            PackageTally {
                count: 1,
                last_ms: Some(350)
            }
        );
        assert_eq!(
            ann.last_activity,
            Some(Activity {
                at_ms: 60,
                action: "label.create".into(),
                seq: 2,
                chain: Some("laptop-1".into()),
            })
        );

        let rex = &people[2];
        assert_eq!((rex.active, rex.removed_ms), (false, Some(90)));
        assert_eq!((rex.added_ms, rex.added_by.as_deref()), (30, Some("ada")));
        assert_eq!(rex.packages_sent.count, 1);
        assert_eq!(
            rex.last_activity.as_ref().map(|a| a.action.as_str()),
            Some("item.view")
        );
    }
}
