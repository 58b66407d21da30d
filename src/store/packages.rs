//! SQL for packages between sites: the packages ledger (replay and
//! sequence checks), items sent per package, labels merged with their
//! origin, annotators' audit segments kept as their own chains, and
//! conflicts held for the admin.

use rusqlite::{OptionalExtension, params};

use super::trail::{ENTRY_COLS, HEAD_COLS, entry_from, head_from};
use super::{Db, Result, STATE_COLS, draft_from_row, to_draft, to_json};
use crate::audit::SignedHead;
use crate::model::{AnnotationDraft, AssignmentState, AuditEntry, LabelClass, now_ms};

/// One row of the packages ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageRow {
    pub id: String,
    pub kind: String,
    /// `out` (made here) or `in` (applied here).
    pub direction: String,
    pub sender: String,
    pub recipients: Vec<String>,
    pub sequence: i64,
    pub manifest_sha256: String,
    pub at_ms: i64,
    pub summary: String,
}

pub fn insert_package(conn: &Db, row: &PackageRow) -> Result<()> {
    conn.execute(
        "INSERT INTO packages(id, kind, direction, sender, recipients, sequence, manifest_sha256, at, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            row.id,
            row.kind,
            row.direction,
            row.sender,
            to_json(&row.recipients),
            row.sequence,
            row.manifest_sha256,
            row.at_ms,
            row.summary
        ],
    )?;
    Ok(())
}

pub fn list_packages(conn: &Db) -> Result<Vec<PackageRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, direction, sender, recipients, sequence, manifest_sha256, at, summary FROM packages ORDER BY at, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, direction, sender, recipients, sequence, manifest_sha256, at_ms, summary) =
            row?;
        out.push(PackageRow {
            id,
            kind,
            direction,
            sender,
            recipients: super::from_json(&recipients, "package recipients")?,
            sequence,
            manifest_sha256,
            at_ms,
            summary,
        });
    }
    Ok(out)
}

/// Whether a package id is already in the ledger (either direction).
pub fn package_known(conn: &Db, package_id: &str) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM packages WHERE id = ?1", [package_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// The highest sequence seen from `sender` for `kind` in `direction`.
pub fn max_sequence(conn: &Db, sender: &str, kind: &str, direction: &str) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT max(sequence) FROM packages WHERE sender = ?1 AND kind = ?2 AND direction = ?3",
        params![sender, kind, direction],
        |r| r.get(0),
    )?)
}

pub fn insert_package_item(conn: &Db, package_id: &str, item_id: i64, user_id: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO package_items(package_id, item_id, user_id) VALUES (?1, ?2, ?3)",
        params![package_id, item_id, user_id],
    )?;
    Ok(())
}

/// Items that went to `user_id` in any work package made here.
pub fn items_sent_to(conn: &Db, user_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT item_id FROM package_items WHERE user_id = ?1 ORDER BY item_id",
    )?;
    let rows = stmt.query_map([user_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One assignment row: (item id, purpose, state, skip reason).
pub type AssignmentRow = (i64, String, AssignmentState, Option<String>);

/// A user's assignments: (item id, purpose, state, reason).
pub fn assignments_of(conn: &Db, user_id: i64) -> Result<Vec<AssignmentRow>> {
    assignments_by(conn, "user_id", "item_id", user_id)
}

/// Assignments where `column = id`, as (`other` column, purpose, state,
/// reason): one query for "a user's items" and "an item's users".
pub(super) fn assignments_by(
    conn: &Db,
    column: &str,
    other: &str,
    id: i64,
) -> Result<Vec<AssignmentRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {other}, purpose, state, reason FROM assignments WHERE {column} = ?1 ORDER BY {other}, purpose"
    ))?;
    let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Writes an assignment with a given state (a local bundle mirrors the
/// site's), replacing one that exists.
pub fn put_assignment(
    conn: &Db,
    item_id: i64,
    user_id: i64,
    purpose: &str,
    state: AssignmentState,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO assignments(item_id, user_id, purpose, state, reason, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(item_id, user_id, purpose) DO UPDATE SET state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at",
        params![item_id, user_id, purpose, state, reason, now_ms()],
    )?;
    conn.execute(
        "UPDATE items SET status = ?2 WHERE id = ?1",
        params![item_id, state.item_status()],
    )?;
    Ok(())
}

/// Inserts or rewrites a class keeping the id it has at the site.
pub fn put_class_with_id(conn: &Db, class: &LabelClass, position: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO classes(id, name, colour, hotkey, position, tools, attributes, skeleton, retired)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, colour = excluded.colour, hotkey = excluded.hotkey,
           position = excluded.position, tools = excluded.tools, attributes = excluded.attributes,
           skeleton = excluded.skeleton, retired = 0",
        params![
            class.id,
            class.name,
            class.colour,
            class.hotkey,
            position,
            to_json(&class.tools),
            to_json(&class.attributes),
            class.skeleton.as_ref().map(to_json)
        ],
    )?;
    Ok(())
}

pub fn item_exists(conn: &Db, item_id: i64) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM items WHERE id = ?1", [item_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// One annotation with its origin and full state (live or deleted).
#[derive(Clone, Debug, PartialEq)]
pub struct AnnotationRecord {
    pub id: i64,
    pub item_id: i64,
    pub origin: Option<String>,
    pub revision: i64,
    pub draft: AnnotationDraft,
    pub deleted: bool,
}

/// Every annotation of an item, deleted ones included, in id order.
pub fn annotation_records(conn: &Db, item_id: i64) -> Result<Vec<AnnotationRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, item_id, origin, revision, {STATE_COLS} FROM annotations WHERE item_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([item_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            draft_from_row(r, 4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, item_id, origin, revision, t) = row?;
        let (draft, deleted) = to_draft(t)?;
        out.push(AnnotationRecord {
            id,
            item_id,
            origin,
            revision,
            draft,
            deleted,
        });
    }
    Ok(out)
}

/// One stored revision of an annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct RevisionRecord {
    pub row_id: i64,
    pub revision: i64,
    pub op: String,
    pub draft: AnnotationDraft,
    pub deleted: bool,
    pub actor: i64,
    pub at_ms: i64,
}

pub fn revision_records(conn: &Db, annotation_id: i64) -> Result<Vec<RevisionRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, revision, op, actor, at, {STATE_COLS} FROM annotation_revisions WHERE annotation_id = ?1 ORDER BY revision"
    ))?;
    let rows = stmt.query_map([annotation_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            draft_from_row(r, 5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (row_id, revision, op, actor, at_ms, t) = row?;
        let (draft, deleted) = to_draft(t)?;
        out.push(RevisionRecord {
            row_id,
            revision,
            op,
            draft,
            deleted,
            actor,
            at_ms,
        });
    }
    Ok(out)
}

/// Revisions after `revision` of an annotation made by someone other than
/// `actor`: edits at the site that a merge must not overwrite.
pub fn revisions_by_others_after(
    conn: &Db,
    annotation_id: i64,
    revision: i64,
    actor: i64,
) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM annotation_revisions WHERE annotation_id = ?1 AND revision > ?2 AND actor != ?3",
        params![annotation_id, revision, actor],
        |r| r.get(0),
    )?)
}

/// Inserts an annotation as it stands at the site (a pre-label in a local
/// bundle): same revision number, its origin recorded, one revision row.
pub fn insert_annotation_copy(
    conn: &Db,
    origin: &str,
    item_id: i64,
    draft: &AnnotationDraft,
    revision: i64,
    created_by: i64,
) -> Result<i64> {
    let now = now_ms();
    let g = to_json(&draft.geometry);
    let attrs = to_json(&draft.attributes);
    conn.execute(
        "INSERT INTO annotations(item_id, class_id, geometry, attributes, hidden, locked, z, deleted, revision, created_by, updated_at, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11)",
        params![item_id, draft.class_id, g, attrs, draft.hidden, draft.locked, draft.z, revision, created_by, now, origin],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO annotation_revisions(annotation_id, revision, op, class_id, geometry, attributes, hidden, locked, z, deleted, actor, at)
         VALUES (?1, ?2, 'create', ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)",
        params![id, revision, draft.class_id, g, attrs, draft.hidden, draft.locked, draft.z, created_by, now],
    )?;
    Ok(id)
}

pub fn annotation_by_origin(conn: &Db, origin: &str) -> Result<Option<(i64, i64)>> {
    Ok(conn
        .query_row(
            "SELECT id, item_id FROM annotations WHERE origin = ?1",
            [origin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn set_annotation_origin(conn: &Db, annotation_id: i64, origin: &str) -> Result<()> {
    conn.execute(
        "UPDATE annotations SET origin = ?2 WHERE id = ?1",
        params![annotation_id, origin],
    )?;
    Ok(())
}

/// The newest revision row id (0 when none): a watermark for "changed since".
pub fn max_revision_row(conn: &Db) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(id), 0) FROM annotation_revisions",
        [],
        |r| r.get(0),
    )?)
}

/// Items with a label revision after row `rev_row` or an assignment change
/// after `since_ms`.
pub fn items_changed_since(conn: &Db, rev_row: i64, since_ms: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT a.item_id FROM annotation_revisions r JOIN annotations a ON a.id = r.annotation_id WHERE r.id > ?1
         UNION SELECT item_id FROM assignments WHERE updated_at > ?2 ORDER BY 1",
    )?;
    let rows = stmt.query_map(params![rev_row, since_ms], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- peer audit chains

pub fn peer_audit_tip(conn: &Db, chain: &str) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM peer_audit WHERE chain = ?1 ORDER BY seq DESC LIMIT 1",
            [chain],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn insert_peer_audit(conn: &Db, chain: &str, row: &AuditEntry) -> Result<()> {
    conn.execute(
        "INSERT INTO peer_audit(chain, seq, at, actor, action, target, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            chain,
            row.seq,
            row.at_ms,
            row.actor,
            row.action,
            row.target,
            row.details,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(())
}

pub fn insert_peer_head(conn: &Db, chain: &str, head: &SignedHead) -> Result<()> {
    conn.execute(
        "INSERT INTO peer_audit_heads(chain, seq, hash, signer, signature, at, prev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![chain, head.seq, head.hash, head.signer, head.signature, head.at_ms, head.prev],
    )?;
    Ok(())
}

/// Per laptop chain, the latest head signed by `signer` this site holds.
pub fn latest_peer_heads_by(conn: &Db, signer: &str) -> Result<Vec<(String, SignedHead)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT chain, {HEAD_COLS} FROM peer_audit_heads h
         WHERE signer = ?1 AND seq = (SELECT max(seq) FROM peer_audit_heads WHERE chain = h.chain)
         GROUP BY chain ORDER BY chain"
    ))?;
    let rows = stmt.query_map([signer], |r| Ok((r.get(0)?, head_from(r, 1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Keeps `head` as the latest head seen of `chain` (another bundle's own
/// trail, shown in its packages) unless a later one is already kept.
pub fn note_seen_head(conn: &Db, chain: &str, head: &SignedHead) -> Result<()> {
    conn.execute(
        "INSERT INTO seen_heads(chain, seq, hash, signer, signature, prev, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, signer = excluded.signer,
             signature = excluded.signature, prev = excluded.prev, at = excluded.at
         WHERE excluded.seq > seen_heads.seq",
        params![chain, head.seq, head.hash, head.signer, head.signature, head.prev, head.at_ms],
    )?;
    Ok(())
}

/// The latest head of `chain` seen in its packages.
pub fn seen_head(conn: &Db, chain: &str) -> Result<Option<SignedHead>> {
    Ok(conn
        .query_row(
            &format!("SELECT {HEAD_COLS} FROM seen_heads WHERE chain = ?1"),
            [chain],
            |r| head_from(r, 0),
        )
        .optional()?)
}

/// The chains held for peers: (chain id, rows).
pub fn peer_chains(conn: &Db) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare("SELECT chain, count(*) FROM peer_audit GROUP BY chain ORDER BY chain")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn peer_audit_rows(conn: &Db, chain: &str) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLS} FROM peer_audit WHERE chain = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([chain], |r| entry_from(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn peer_heads(conn: &Db, chain: &str) -> Result<Vec<SignedHead>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {HEAD_COLS} FROM peer_audit_heads WHERE chain = ?1 ORDER BY rowid"
    ))?;
    let rows = stmt.query_map([chain], |r| head_from(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_conflict(
    conn: &Db,
    package_id: &str,
    item_id: i64,
    reason: &str,
    payload: &str,
) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO package_conflicts(package_id, item_id, reason, payload) VALUES (?1, ?2, ?3, ?4)",
        params![package_id, item_id, reason, payload],
    )?;
    Ok(())
}

pub fn conflict_count(conn: &Db) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM package_conflicts", [], |r| r.get(0))?)
}

/// A digest of every table's rows except those named in `skip`: proves a
/// refused package changed nothing but the audit trail.
pub fn content_digest(conn: &Db, skip: &[&str]) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut tables: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    tables.retain(|t| !skip.contains(&t.as_str()));
    let mut h = Sha256::new();
    for table in tables {
        h.update(table.as_bytes());
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\x1e");
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// Completes the ledger row of a package that was written: its manifest
/// hash, its summary and when it was finished.
pub fn set_package_written(
    conn: &Db,
    package_id: &str,
    manifest_sha256: &str,
    summary: &str,
    at_ms: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE packages SET manifest_sha256 = ?2, summary = ?3, at = ?4 WHERE id = ?1",
        params![package_id, manifest_sha256, summary, at_ms],
    )?;
    Ok(())
}

/// Sets the summary of a ledger row (a package that failed or was cancelled).
pub fn set_package_summary(conn: &Db, package_id: &str, summary: &str) -> Result<()> {
    conn.execute(
        "UPDATE packages SET summary = ?2 WHERE id = ?1",
        params![package_id, summary],
    )?;
    Ok(())
}

/// Renumbers a label's revision `from` to `to` (the label and that
/// revision row): a laptop keeps the site's numbering so later merges
/// line up.
pub fn renumber_annotation_revision(
    conn: &Db,
    annotation_id: i64,
    from: i64,
    to: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE annotations SET revision = ?2 WHERE id = ?1",
        params![annotation_id, to],
    )?;
    conn.execute(
        "UPDATE annotation_revisions SET revision = ?3 WHERE annotation_id = ?1 AND revision = ?2",
        params![annotation_id, from, to],
    )?;
    Ok(())
}

/// Releases the open incidents this laptop reported on an item the site
/// has sent again: it was dealt with there, and returns to the queue.
pub fn release_resent_incidents(conn: &Db, item_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE incidents SET status = 'released', note = 'sent again by the site'
         WHERE item_id = ?1 AND status = 'open' AND origin IS NULL",
        [item_id],
    )?;
    Ok(())
}
