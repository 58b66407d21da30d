//! Review: the review queue, approve / reject with a comment / correct,
//! comment threads per item and per label (each visible only to the right
//! people), acceptance rates, and gold standards. Every decision moves an
//! assignment through [`crate::model::transition_allowed`] and is audited
//! in the same transaction.

use super::Event;
use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;

use super::views::Comment;
use super::{CoreError, Result, Session};
use crate::model::{AnnotationDraft, AssignmentState, ItemSummary, Role, User, now_ms};
use crate::permissions::Action;
use crate::store::{self, NewComment};

/// A reviewer's verdict on one annotator's work on an item.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Approve,
    /// Back to the annotator, with a comment addressed to them.
    Reject {
        comment: String,
    },
    /// Approved after the reviewer's own edits (revisions by the reviewer).
    Correct,
}

impl Decision {
    /// The audit row this decision writes.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Decision::Approve => AuditAction::ReviewApprove,
            Decision::Reject { .. } => AuditAction::ReviewReject,
            Decision::Correct => AuditAction::ReviewCorrect,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject { .. } => "reject",
            Decision::Correct => "correct",
        }
    }
}

/// One entry of the review queue: whose work, on which item.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReviewEntry {
    pub item: ItemSummary,
    pub annotator: String,
    pub annotator_name: String,
    pub state: AssignmentState,
}

/// How often a person's work was accepted.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Acceptance {
    pub approved: i64,
    pub corrected: i64,
    pub rejected: i64,
}

impl Acceptance {
    /// Accepted (approved or corrected) over all decisions; `None` before any.
    pub fn rate(&self) -> Option<f64> {
        let total = self.approved + self.corrected + self.rejected;
        (total > 0).then(|| (self.approved + self.corrected) as f64 / total as f64)
    }
}

/// Work purposes whose result a reviewer decides on.
const WORK_PURPOSES: [&str; 2] = ["annotate", "gold"];

impl Session {
    fn refuse_on_laptop(&self, what: &str) -> Result<()> {
        if self.origin_project().is_some() {
            return Err(CoreError::Invalid(format!(
                "{what} happens on the site project, not in a laptop bundle"
            )));
        }
        Ok(())
    }

    /// Submitted work waiting for this user's decision: on items assigned
    /// to them for review (reviewers), or every item (admins).
    pub fn review_queue(&mut self) -> Result<Vec<ReviewEntry>> {
        self.require(Action::Review, None)?;
        let conn = self.project.store.conn();
        let users = store::list_users(conn)?;
        let mut out = Vec::new();
        for (item_id, user_id, purpose, state) in store::all_assignments(conn)? {
            if !WORK_PURPOSES.contains(&purpose.as_str()) || state != AssignmentState::Submitted {
                continue;
            }
            if self.user.role != Role::Admin
                && !store::item_assignments(conn, item_id)?
                    .iter()
                    .any(|(u, p, _, _)| *u == self.user.id && p == "review")
            {
                continue;
            }
            let (Some(item), Some(annotator)) = (
                store::item_summary_by_id(conn, item_id)?,
                users.iter().find(|u| u.id == user_id),
            ) else {
                continue;
            };
            out.push(ReviewEntry {
                item,
                annotator: annotator.fingerprint.clone(),
                annotator_name: annotator.name.clone(),
                state,
            });
        }
        Ok(out)
    }

    /// The annotator whose submitted work on `item_id` is being decided:
    /// `who` if given, else the only one with work on the item.
    fn work_owner(
        &self,
        item_id: i64,
        who: Option<&str>,
    ) -> Result<(User, String, AssignmentState)> {
        let conn = self.project.store.conn();
        let work: Vec<_> = store::item_assignments(conn, item_id)?
            .into_iter()
            .filter(|(_, p, _, _)| WORK_PURPOSES.contains(&p.as_str()))
            .collect();
        let users = store::list_users(conn)?;
        let candidates: Vec<_> = work
            .iter()
            .filter_map(|(u, p, s, _)| {
                let user = users.iter().find(|x| x.id == *u)?;
                match who {
                    Some(w) if user.fingerprint != w && user.name != w => None,
                    _ => Some((user.clone(), p.clone(), *s)),
                }
            })
            .collect();
        match candidates.len() {
            1 => candidates
                .into_iter()
                .next()
                .ok_or_else(|| CoreError::NotFound("annotator".into())),
            0 => Err(CoreError::NotFound(format!(
                "work on item {item_id}{}",
                who.map(|w| format!(" by {w}")).unwrap_or_default()
            ))),
            n => Err(CoreError::Invalid(format!(
                "{n} people worked on item {item_id}; say whose work you decide on (--annotator)"
            ))),
        }
    }

    /// Approves, rejects (with a comment for the annotator) or approves
    /// with corrections one annotator's submitted work on an item.
    pub fn review(
        &mut self,
        item_id: i64,
        annotator: Option<&str>,
        decision: Decision,
    ) -> Result<()> {
        let (allowed, _) = self.allow_item(Action::Review, item_id)?;
        self.refuse_on_laptop("reviewing")?;
        let (owner, purpose, state) = self.work_owner(item_id, annotator)?;
        let to = match decision {
            Decision::Reject { .. } => AssignmentState::Rejected,
            Decision::Approve | Decision::Correct => AssignmentState::Approved,
        };
        if !state.may_become(to) {
            return Err(CoreError::Invalid(format!(
                "item {item_id} is {state} for {}; only submitted work is reviewed",
                owner.name
            )));
        }
        let comment = match &decision {
            Decision::Reject { comment } if comment.trim().is_empty() => {
                return Err(CoreError::Invalid(
                    "say what to fix: a rejection needs a comment".into(),
                ));
            }
            Decision::Reject { comment } => Some(comment.trim().to_string()),
            _ => None,
        };
        let me = self.user.id;
        let verdict = decision.as_str();
        self.commit(allowed, |tx| {
            let comment_id = match &comment {
                Some(body) => Some(store::insert_comment(
                    tx,
                    &NewComment {
                        item_id,
                        annotation_id: None,
                        author: me,
                        to_user: Some(owner.id),
                        body,
                        at_ms: now_ms(),
                        origin: None,
                    },
                )?),
                None => None,
            };
            store::insert_review(tx, item_id, owner.id, me, verdict, comment_id)?;
            store::set_state_of(tx, item_id, owner.id, &purpose, to, None)?;
            // The reviewer's own review assignment is done too.
            store::set_review_assignment_state(tx, item_id, me, to)?;
            Ok((
                (),
                Event::new(
                    decision.audit_action(),
                    format!("item:{item_id}"),
                    json!({"annotator": owner.fingerprint, "comment": comment.is_some()}),
                ),
            ))
        })?;
        Ok(())
    }

    /// Who has work on an item and where it stands (reviewers and admins):
    /// (fingerprint, name, purpose, state).
    pub fn item_work(
        &mut self,
        item_id: i64,
    ) -> Result<Vec<(String, String, String, AssignmentState)>> {
        self.require_item(Action::Review, item_id)?;
        let conn = self.project.store.conn();
        let users = store::list_users(conn)?;
        Ok(store::item_assignments(conn, item_id)?
            .into_iter()
            .filter(|(_, p, _, _)| WORK_PURPOSES.contains(&p.as_str()))
            .filter_map(|(u, p, s, _)| {
                let user = users.iter().find(|x| x.id == u)?;
                Some((user.fingerprint.clone(), user.name.clone(), p, s))
            })
            .collect())
    }

    /// Adds a comment on an item or one of its labels. Annotators write to
    /// the site (admins and reviewers); admins and reviewers write to the
    /// item's annotators.
    pub fn comment(&mut self, item_id: i64, annotation_id: Option<i64>, body: &str) -> Result<i64> {
        let (allowed, _) = self.allow_item(Action::ViewItem, item_id)?;
        let body = body.trim();
        if body.is_empty() {
            return Err(CoreError::Invalid("a comment needs some text".into()));
        }
        let conn = self.project.store.conn();
        if let Some(a) = annotation_id {
            match store::annotation_state(conn, a)? {
                Some(s) if s.item_id == item_id => {}
                _ => {
                    return Err(CoreError::NotFound(format!("label {a} on item {item_id}")));
                }
            }
        }
        let me = self.user.id;
        let to_user = if self.user.role == Role::Annotator {
            None
        } else {
            // Addressed to the one annotator with work on the item, if one.
            let work: Vec<i64> = store::item_assignments(conn, item_id)?
                .into_iter()
                .filter(|(_, p, _, _)| WORK_PURPOSES.contains(&p.as_str()))
                .map(|(u, _, _, _)| u)
                .collect();
            (work.len() == 1).then(|| work[0])
        };
        self.commit(allowed, |tx| {
            let id = store::insert_comment(
                tx,
                &NewComment {
                    item_id,
                    annotation_id,
                    author: me,
                    to_user,
                    body,
                    at_ms: now_ms(),
                    origin: None,
                },
            )?;
            Ok((
                id,
                Event::new(
                    AuditAction::CommentAdd,
                    format!("item:{item_id}"),
                    json!({"comment": id, "label": annotation_id}),
                ),
            ))
        })
    }

    /// The comments on an item this user may read: annotators see what
    /// they wrote and what was written to them; admins and reviewers see
    /// all; auditors none (content).
    pub fn comments(&mut self, item_id: i64) -> Result<Vec<Comment>> {
        self.require_item(Action::ViewItem, item_id)?;
        let all = store::item_comments(self.project.store.conn(), item_id)?;
        let me = &self.user.fingerprint;
        Ok(match self.user.role {
            Role::Annotator => all
                .into_iter()
                .filter(|c| &c.author == me || c.to.as_ref() == Some(me))
                .map(Comment::from)
                .collect(),
            _ => all.into_iter().map(Comment::from).collect(),
        })
    }

    /// Acceptance of a person's work (default: your own). On a laptop
    /// bundle the figures are the site's, as of the last work package.
    pub fn acceptance(&mut self, who: Option<&str>) -> Result<Acceptance> {
        if let Some(stored) = self.project.store.meta("acceptance")? {
            return serde_json::from_str(&stored)
                .map_err(|e| CoreError::Invalid(format!("stored acceptance is invalid: {e}")));
        }
        let user = match who {
            Some(w) => {
                self.require(Action::Review, Some(format!("acceptance of {w}")))?;
                self.find_user(w)?
            }
            None => self.user.clone(),
        };
        Ok(acceptance_of(self.project.store.conn(), user.id)?)
    }

    /// Marks an item as gold with its current labels as the standard
    /// (admin), or unmarks it. Gold items travel in work packages like any
    /// other, without their labels.
    pub fn set_gold(&mut self, item_id: i64, gold: bool) -> Result<usize> {
        let allowed = self.allow(Action::Assign, Some(format!("gold item {item_id}")))?;
        self.refuse_on_laptop("choosing gold items")?;
        let conn = self.project.store.conn();
        if store::item_summary_by_id(conn, item_id)?.is_none() {
            return Err(CoreError::NotFound(format!("item {item_id}")));
        }
        let labels: Vec<AnnotationDraft> = store::list_annotations(conn, item_id)?
            .into_iter()
            .map(|a| AnnotationDraft {
                class_id: a.class_id,
                geometry: a.geometry,
                attributes: a.attributes,
                hidden: false,
                locked: false,
                z: 0,
            })
            .collect();
        if gold && labels.is_empty() {
            return Err(CoreError::Invalid(format!(
                "item {item_id} has no labels: label it first, then mark it gold"
            )));
        }
        let n = labels.len();
        self.commit(allowed, |tx| {
            store::set_gold(tx, item_id, gold.then_some(labels.as_slice()))?;
            Ok((
                (),
                Event::new(
                    if gold {
                        AuditAction::GoldSet
                    } else {
                        AuditAction::GoldUnset
                    },
                    format!("item:{item_id}"),
                    json!({"labels": n}),
                ),
            ))
        })?;
        Ok(n)
    }
}

/// Review counts of one annotator.
pub(super) fn acceptance_of(conn: &store::Db, user_id: i64) -> store::Result<Acceptance> {
    Ok(store::review_counts(conn)?
        .into_iter()
        .find(|(u, _, _, _)| *u == user_id)
        .map(|(_, approved, rejected, corrected)| Acceptance {
            approved,
            corrected,
            rejected,
        })
        .unwrap_or_default())
}
