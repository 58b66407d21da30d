//! SQL for the signed membership log (`crate::membership`) and for
//! restoring the rows it governs when they were changed outside the app.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result};
use crate::membership::Entry;
use crate::model::{Role, now_ms};

/// Every entry of the log, in storage order.
pub fn membership_log(conn: &Db) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, kind, subject, value, at, prev, signer, signature FROM membership_log ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Entry {
            seq: r.get(0)?,
            kind: r.get(1)?,
            subject: r.get(2)?,
            value: r.get(3)?,
            at_ms: r.get(4)?,
            prev: r.get(5)?,
            signer: r.get(6)?,
            signature: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn append_membership(conn: &Db, e: &Entry) -> Result<()> {
    conn.execute(
        "INSERT INTO membership_log(seq, kind, subject, value, at, prev, signer, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![e.seq, e.kind, e.subject, e.value, e.at_ms, e.prev, e.signer, e.signature],
    )?;
    Ok(())
}

/// Puts a member's row back to what the log says: inserted if missing,
/// role and active flag set.
pub fn restore_user(
    conn: &Db,
    fingerprint: &str,
    name: &str,
    public_key: &str,
    role: Role,
    active: bool,
) -> Result<()> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM users WHERE fingerprint = ?1",
            [fingerprint],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => {
            conn.execute(
                "UPDATE users SET public_key = ?2, role = ?3, active = ?4,
                 removed_at = CASE WHEN ?4 THEN NULL ELSE coalesce(removed_at, ?5) END WHERE id = ?1",
                params![id, public_key, role.as_str(), active, now_ms()],
            )?;
        }
        None => {
            conn.execute(
                "INSERT INTO users(fingerprint, name, public_key, role, active, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![fingerprint, name, public_key, role.as_str(), active, now_ms()],
            )?;
        }
    }
    Ok(())
}

/// Deactivates a row the log does not know as an active member.
pub fn disable_user(conn: &Db, fingerprint: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET active = 0, removed_at = coalesce(removed_at, ?2) WHERE fingerprint = ?1",
        params![fingerprint, now_ms()],
    )?;
    Ok(())
}

/// Whether the audit trail holds a row of `action`.
pub fn audit_has_action(conn: &Db, action: crate::events::AuditAction) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM audit WHERE action = ?1 LIMIT 1",
            [action.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The highest membership-log position the audit trail names (each row
/// that wrote an entry records it as `membership_seq`): a log shorter
/// than that was cut back.
pub fn audited_membership_seq(conn: &Db) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(CAST(json_extract(details, '$.membership_seq') AS INTEGER)), 0) FROM audit
         WHERE action IN ('user.add', 'user.remove', 'settings.change', 'membership.founded', 'membership.adopted')
           AND json_valid(details) AND json_extract(details, '$.membership_seq') IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}
