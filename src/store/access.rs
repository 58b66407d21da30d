//! SQL for the governance reports: the enrolment dates the access review
//! shows next to each member (the `User` type leaves them out because
//! nothing else needs them).

use super::{Db, Result};

/// Every member's (user id, added at, removed at), in id order.
pub fn user_dates(conn: &Db) -> Result<Vec<(i64, i64, Option<i64>)>> {
    let mut stmt = conn.prepare("SELECT id, added_at, removed_at FROM users ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
