//! SQL for review and quality: comments, review decisions, gold standards
//! and gold scores, and the per-item view of assignments they need.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, from_json, to_json};
use crate::model::{AnnotationDraft, AssignmentState, now_ms};

/// A comment as stored, with its author's and addressee's fingerprints.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CommentRow {
    pub id: i64,
    pub item_id: i64,
    pub annotation_id: Option<i64>,
    pub author: String,
    pub author_name: String,
    /// `None`: for the site (admins and reviewers).
    pub to: Option<String>,
    pub body: String,
    pub at_ms: i64,
    #[serde(skip)]
    pub origin: Option<String>,
}

pub struct NewComment<'a> {
    pub item_id: i64,
    pub annotation_id: Option<i64>,
    pub author: i64,
    pub to_user: Option<i64>,
    pub body: &'a str,
    pub at_ms: i64,
    pub origin: Option<&'a str>,
}

pub fn insert_comment(conn: &Db, c: &NewComment<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO comments(item_id, annotation_id, author, to_user, body, at, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![c.item_id, c.annotation_id, c.author, c.to_user, c.body, c.at_ms, c.origin],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn comment_origin_known(conn: &Db, origin: &str) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM comments WHERE origin = ?1", [origin], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// Comments on an item in time order.
pub fn item_comments(conn: &Db, item_id: i64) -> Result<Vec<CommentRow>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.item_id, c.annotation_id, a.fingerprint, a.name, t.fingerprint, c.body, c.at, c.origin
         FROM comments c JOIN users a ON a.id = c.author LEFT JOIN users t ON t.id = c.to_user
         WHERE c.item_id = ?1 ORDER BY c.at, c.id",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok(CommentRow {
            id: r.get(0)?,
            item_id: r.get(1)?,
            annotation_id: r.get(2)?,
            author: r.get(3)?,
            author_name: r.get(4)?,
            to: r.get(5)?,
            body: r.get(6)?,
            at_ms: r.get(7)?,
            origin: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Comments written here (not received) by `author` after comment `after_id`.
pub fn comments_by_since(conn: &Db, author: i64, after_id: i64) -> Result<Vec<CommentRow>> {
    let mut out = Vec::new();
    let items: Vec<i64> = {
        let mut stmt = conn.prepare(
            "SELECT DISTINCT item_id FROM comments WHERE author = ?1 AND id > ?2 AND origin IS NULL ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![author, after_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let author_fpr: Option<String> = conn
        .query_row(
            "SELECT fingerprint FROM users WHERE id = ?1",
            [author],
            |r| r.get(0),
        )
        .optional()?;
    for item in items {
        out.extend(item_comments(conn, item)?.into_iter().filter(|c| {
            c.id > after_id && c.origin.is_none() && Some(&c.author) == author_fpr.as_ref()
        }));
    }
    Ok(out)
}

pub fn max_comment_id(conn: &Db) -> Result<i64> {
    Ok(
        conn.query_row("SELECT coalesce(max(id), 0) FROM comments", [], |r| {
            r.get(0)
        })?,
    )
}

pub fn insert_review(
    conn: &Db,
    item_id: i64,
    annotator: i64,
    reviewer: i64,
    decision: &str,
    comment_id: Option<i64>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO reviews(item_id, annotator, reviewer, decision, comment_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![item_id, annotator, reviewer, decision, comment_id, now_ms()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Review decisions per annotator: (user id, approved, rejected, corrected).
pub fn review_counts(conn: &Db) -> Result<Vec<(i64, i64, i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT annotator, sum(decision = 'approve'), sum(decision = 'reject'), sum(decision = 'correct')
         FROM reviews GROUP BY annotator ORDER BY annotator",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Rejection comments (the reasons), newest first.
pub fn rejection_reasons(conn: &Db) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(
        "SELECT r.item_id, c.body FROM reviews r JOIN comments c ON c.id = r.comment_id
         WHERE r.decision = 'reject' ORDER BY r.at DESC, r.id DESC",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every assignment of an item: (user id, purpose, state, reason).
pub fn item_assignments(conn: &Db, item_id: i64) -> Result<Vec<super::AssignmentRow>> {
    super::packages::assignments_by(conn, "item_id", "user_id", item_id)
}

/// Sets one assignment's state (by purpose) and the item's status.
pub fn set_state_of(
    conn: &Db,
    item_id: i64,
    user_id: i64,
    purpose: &str,
    state: AssignmentState,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE assignments SET state = ?4, reason = ?5, updated_at = ?6 WHERE item_id = ?1 AND user_id = ?2 AND purpose = ?3",
        params![item_id, user_id, purpose, state, reason, now_ms()],
    )?;
    super::set_item_status(conn, item_id, state.item_status())
}

/// Every assignment in the project: (item, user, purpose, state).
pub fn all_assignments(conn: &Db) -> Result<Vec<(i64, i64, String, AssignmentState)>> {
    let mut stmt = conn.prepare(
        "SELECT item_id, user_id, purpose, state FROM assignments ORDER BY item_id, user_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- gold

pub fn is_gold(conn: &Db, item_id: i64) -> Result<bool> {
    Ok(conn
        .query_row("SELECT gold FROM items WHERE id = ?1", [item_id], |r| {
            r.get::<_, bool>(0)
        })
        .optional()?
        .unwrap_or(false))
}

/// Marks an item gold with these labels as its standard (or unmarks it).
pub fn set_gold(conn: &Db, item_id: i64, labels: Option<&[AnnotationDraft]>) -> Result<()> {
    conn.execute("DELETE FROM gold_labels WHERE item_id = ?1", [item_id])?;
    conn.execute(
        "UPDATE items SET gold = ?2 WHERE id = ?1",
        params![item_id, labels.is_some()],
    )?;
    for d in labels.unwrap_or_default() {
        conn.execute(
            "INSERT INTO gold_labels(item_id, class_id, geometry, attributes) VALUES (?1, ?2, ?3, ?4)",
            params![item_id, d.class_id, to_json(&d.geometry), to_json(&d.attributes)],
        )?;
    }
    Ok(())
}

pub fn gold_labels(conn: &Db, item_id: i64) -> Result<Vec<AnnotationDraft>> {
    let mut stmt = conn.prepare(
        "SELECT class_id, geometry, attributes FROM gold_labels WHERE item_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (class_id, geometry, attributes) = row?;
        out.push(AnnotationDraft {
            class_id,
            geometry: from_json(&geometry, "gold geometry")?,
            attributes: from_json(&attributes, "gold attributes")?,
            hidden: false,
            locked: false,
            z: 0,
        });
    }
    Ok(out)
}

pub fn gold_items(conn: &Db) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM items WHERE gold = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn put_gold_score(conn: &Db, item_id: i64, user_id: i64, score: f64) -> Result<()> {
    conn.execute(
        "INSERT INTO gold_scores(item_id, user_id, score, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(item_id, user_id) DO UPDATE SET score = excluded.score, at = excluded.at",
        params![item_id, user_id, score, now_ms()],
    )?;
    Ok(())
}

/// Gold scores: (item, user, score).
pub fn gold_scores(conn: &Db) -> Result<Vec<(i64, i64, f64)>> {
    let mut stmt =
        conn.prepare("SELECT item_id, user_id, score FROM gold_scores ORDER BY user_id, item_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Label revisions per annotator and day: (user id, day as unix ms at
/// 00:00 UTC, revisions) — throughput over time.
pub fn revisions_per_day(conn: &Db) -> Result<Vec<(i64, i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT actor, (at / 86400000) * 86400000 AS day, count(*) FROM annotation_revisions GROUP BY actor, day ORDER BY day, actor",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The user who made an annotation's latest revision.
pub fn last_editor(conn: &Db, annotation_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT actor FROM annotation_revisions WHERE annotation_id = ?1 ORDER BY revision DESC LIMIT 1",
            [annotation_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Sets the state of a reviewer's own review assignment on an item (done
/// when they decide on the work under review).
pub fn set_review_assignment_state(
    conn: &Db,
    item_id: i64,
    reviewer: i64,
    state: AssignmentState,
) -> Result<()> {
    conn.execute(
        "UPDATE assignments SET state = ?3, updated_at = ?4 WHERE item_id = ?1 AND user_id = ?2 AND purpose = 'review'",
        params![item_id, reviewer, state, now_ms()],
    )?;
    Ok(())
}
