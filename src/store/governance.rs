//! SQL for governance: consent and purposes, data subjects, retention,
//! crypto-shredding of items, incidents and the revocation list.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result};
use crate::model::now_ms;

/// Items whose data subject is `subject`.
pub fn items_of_subject(conn: &Db, subject: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM items WHERE subject_key = ?1 ORDER BY id")?;
    let rows = stmt.query_map([subject], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Items imported before `cutoff_ms`.
pub fn items_created_before(conn: &Db, cutoff_ms: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM items WHERE created_at < ?1 ORDER BY id")?;
    let rows = stmt.query_map([cutoff_ms], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An item's data subject, consent and allowed purposes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Governance {
    pub subject_key: Option<String>,
    pub consent: String,
    pub purposes: Vec<String>,
}

pub fn item_governance(conn: &Db, item_id: i64) -> Result<Option<Governance>> {
    Ok(conn
        .query_row(
            "SELECT subject_key, consent, purposes FROM items WHERE id = ?1",
            [item_id],
            |r| {
                let purposes: String = r.get(2)?;
                Ok(Governance {
                    subject_key: r.get(0)?,
                    consent: r.get(1)?,
                    purposes: split_purposes(&purposes),
                })
            },
        )
        .optional()?)
}

pub fn split_purposes(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

pub fn set_item_governance(conn: &Db, item_id: i64, g: &Governance) -> Result<()> {
    conn.execute(
        "UPDATE items SET subject_key = ?2, consent = ?3, purposes = ?4 WHERE id = ?1",
        params![item_id, g.subject_key, g.consent, g.purposes.join(",")],
    )?;
    Ok(())
}

/// What shredding removed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Shredded {
    pub items: Vec<i64>,
    pub labels: usize,
    pub revisions: usize,
    pub comments: usize,
    /// Blob ids whose keys were deleted; their files go after commit.
    #[serde(skip)]
    pub blobs: Vec<String>,
}

/// Deletes items and everything hanging off them, including the rows that
/// hold their blob keys (crypto-shredding: the ciphertext that remains on
/// disk, in backups or copies, cannot be read with any key that remains).
/// Package ledger rows keep the bare item ids. `secure_delete` is on, so
/// freed pages are zeroed; the caller checkpoints the WAL after commit.
pub fn shred_items(conn: &Db, ids: &[i64]) -> Result<Shredded> {
    let mut out = Shredded::default();
    for id in ids {
        let blobs: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT blob_id, peaks_blob_id FROM items WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((blob, peaks)) = blobs else {
            continue;
        };
        out.revisions += conn.execute(
            "DELETE FROM annotation_revisions WHERE annotation_id IN (SELECT id FROM annotations WHERE item_id = ?1)",
            [id],
        )?;
        out.comments += conn.execute("DELETE FROM comments WHERE item_id = ?1", [id])?;
        out.labels += conn.execute("DELETE FROM annotations WHERE item_id = ?1", [id])?;
        for table in [
            "reviews",
            "gold_labels",
            "gold_scores",
            "assignments",
            "masks",
            "item_privacy",
            "package_conflicts",
            "incidents",
        ] {
            conn.execute(&format!("DELETE FROM {table} WHERE item_id = ?1"), [id])?;
        }
        conn.execute("DELETE FROM items WHERE id = ?1", [id])?;
        for b in std::iter::once(blob).chain(peaks) {
            conn.execute("DELETE FROM blobs WHERE id = ?1", [&b])?;
            out.blobs.push(b);
        }
        out.items.push(*id);
    }
    Ok(out)
}

/// An incident as stored, with the reporter's fingerprint.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IncidentRow {
    pub id: i64,
    pub item_id: i64,
    pub reporter: String,
    pub reporter_name: String,
    pub kind: String,
    pub reason: String,
    pub at_ms: i64,
    pub status: String,
    pub note: Option<String>,
    #[serde(skip)]
    pub origin: Option<String>,
}

pub struct NewIncident<'a> {
    pub item_id: i64,
    pub reporter: i64,
    pub kind: &'a str,
    pub reason: &'a str,
    pub at_ms: i64,
    pub origin: Option<&'a str>,
}

pub fn insert_incident(conn: &Db, i: &NewIncident<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO incidents(item_id, reporter, kind, reason, at, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![i.item_id, i.reporter, i.kind, i.reason, i.at_ms, i.origin],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn incident_origin_known(conn: &Db, origin: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM incidents WHERE origin = ?1",
            [origin],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

const INCIDENT_SQL: &str = "SELECT i.id, i.item_id, u.fingerprint, u.name, i.kind, i.reason, i.at, i.status, i.note, i.origin
     FROM incidents i JOIN users u ON u.id = i.reporter";

fn incident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        id: r.get(0)?,
        item_id: r.get(1)?,
        reporter: r.get(2)?,
        reporter_name: r.get(3)?,
        kind: r.get(4)?,
        reason: r.get(5)?,
        at_ms: r.get(6)?,
        status: r.get(7)?,
        note: r.get(8)?,
        origin: r.get(9)?,
    })
}

pub fn incidents(conn: &Db) -> Result<Vec<IncidentRow>> {
    let mut stmt = conn.prepare(&format!("{INCIDENT_SQL} ORDER BY i.at, i.id"))?;
    let rows = stmt.query_map([], incident_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn incident(conn: &Db, id: i64) -> Result<Option<IncidentRow>> {
    Ok(conn
        .query_row(
            &format!("{INCIDENT_SQL} WHERE i.id = ?1"),
            [id],
            incident_row,
        )
        .optional()?)
}

/// Items with an open incident reported by `user_id`: hidden from their queue.
pub fn flagged_by(conn: &Db, user_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT item_id FROM incidents WHERE reporter = ?1 AND status = 'open'",
    )?;
    let rows = stmt.query_map([user_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Incidents written on this bundle after row `after` (results packages).
pub fn incidents_after(conn: &Db, after: i64) -> Result<Vec<IncidentRow>> {
    let mut stmt = conn.prepare(&format!(
        "{INCIDENT_SQL} WHERE i.id > ?1 AND i.origin IS NULL ORDER BY i.id"
    ))?;
    let rows = stmt.query_map([after], incident_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn resolve_incident(
    conn: &Db,
    id: i64,
    status: &str,
    user: i64,
    note: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE incidents SET status = ?2, resolved_by = ?3, resolved_at = ?4, note = ?5 WHERE id = ?1",
        params![id, status, user, now_ms(), note],
    )?;
    Ok(())
}

/// The revocation list: (fingerprint, revoked at) of every member removed
/// at this site, or listed as removed by the site a laptop works for.
pub fn revoked_members(conn: &Db) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare("SELECT fingerprint, revoked_at FROM revocations ORDER BY fingerprint")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn put_revocation(conn: &Db, fingerprint: &str, at_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO revocations(fingerprint, revoked_at) VALUES (?1, ?2)
         ON CONFLICT(fingerprint) DO UPDATE SET revoked_at = min(revoked_at, ?2)",
        params![fingerprint, at_ms],
    )?;
    Ok(())
}

/// When `fingerprint` was revoked, if it was.
pub fn revoked_at(conn: &Db, fingerprint: &str) -> Result<Option<i64>> {
    Ok(revoked_members(conn)?
        .into_iter()
        .find(|(f, _)| f == fingerprint)
        .map(|(_, at)| at))
}
