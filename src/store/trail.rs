//! The audit trail's rows and signed heads as stored: appending a row
//! (hash-chained to the one before), reading the trail back whole or one
//! row at a time, the tip, and the heads. The hashing and verification
//! rules live in [`crate::audit`].

use rusqlite::{OptionalExtension, params};

use super::{Db, Result};
use crate::audit::{self, SignedHead};
use crate::model::{AuditEntry, now_ms};

/// The columns [`entry_from`] reads, in its order.
pub(super) const ENTRY_COLS: &str = "seq, at, actor, action, target, details, prev_hash, hash";
/// The columns [`head_from`] reads, in its order.
pub(super) const HEAD_COLS: &str = "seq, hash, signer, signature, at, prev";

/// An audit row from `ENTRY_COLS` starting at column `at`.
pub(super) fn entry_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(at)?,
        at_ms: r.get(at + 1)?,
        actor: r.get(at + 2)?,
        action: r.get(at + 3)?,
        target: r.get(at + 4)?,
        details: r.get(at + 5)?,
        prev_hash: r.get(at + 6)?,
        hash: r.get(at + 7)?,
    })
}

/// A signed head from `HEAD_COLS` starting at column `at`.
pub(super) fn head_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<SignedHead> {
    Ok(SignedHead {
        seq: r.get(at)?,
        hash: r.get(at + 1)?,
        signer: r.get(at + 2)?,
        signature: r.get(at + 3)?,
        at_ms: r.get(at + 4)?,
        prev: r.get(at + 5)?,
    })
}

/// Appends one audit row, chained to the previous one. Call inside the same
/// transaction as the change it records.
pub fn append_audit(
    conn: &Db,
    project_id: &str,
    actor: &str,
    action: crate::events::AuditAction,
    target: &str,
    details: &str,
) -> Result<i64> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::genesis_hash(project_id)),
    };
    let at = now_ms();
    let action = action.as_str();
    let hash = audit::entry_hash(seq, at, actor, action, target, details, &prev);
    conn.execute(
        "INSERT INTO audit(seq, at, actor, action, target, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![seq, at, actor, action, target, details, prev, hash],
    )?;
    Ok(seq)
}

/// All audit rows in storage order (not sorted by seq, so reordering shows).
pub fn audit_rows(conn: &Db) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLS} FROM audit ORDER BY rowid"))?;
    let rows = stmt.query_map([], |r| entry_from(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Feeds every audit row, in storage order, to `f` as borrowed fields,
/// without collecting or copying them (a million-row trail stays out of
/// memory).
pub fn each_audit_row(conn: &Db, mut f: impl FnMut(&audit::RowRef<'_>)) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit ORDER BY rowid",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<&str> {
            r.get_ref(i)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        f(&audit::RowRef {
            seq: r.get(0)?,
            at_ms: r.get(1)?,
            actor: text(2)?,
            action: text(3)?,
            target: text(4)?,
            details: text(5)?,
            prev_hash: text(6)?,
            hash: text(7)?,
        });
    }
    Ok(())
}

/// The hash of row `seq`, if the trail has it.
pub fn audit_hash_at(conn: &Db, seq: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
        .optional()?)
}

pub fn audit_tip(conn: &Db) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn insert_head(conn: &Db, head: &SignedHead) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_heads(seq, hash, signer, signature, at, prev) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![head.seq, head.hash, head.signer, head.signature, head.at_ms, head.prev],
    )?;
    Ok(())
}

pub fn signed_heads(conn: &Db) -> Result<Vec<SignedHead>> {
    let mut stmt = conn.prepare(&format!("SELECT {HEAD_COLS} FROM audit_heads ORDER BY id"))?;
    let rows = stmt.query_map([], |r| head_from(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
