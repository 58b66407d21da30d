//! SQL for privacy decisions: masks, per-item privacy versions and
//! windows, region templates, and what each work package carried.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, from_json, to_json};
use crate::model::now_ms;
use crate::privacy::derive::{Mask, MaskSpec, MaskTemplate};
use crate::privacy::window::Window;

pub fn insert_mask(
    conn: &Db,
    item_id: i64,
    spec: &MaskSpec,
    status: &str,
    source: &str,
    user: i64,
) -> Result<i64> {
    let now = now_ms();
    let decided = (status != "proposed").then_some(user);
    conn.execute(
        "INSERT INTO masks(item_id, spec, status, source, created_by, at, decided_by, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            item_id,
            to_json(spec),
            status,
            source,
            user,
            now,
            decided,
            decided.map(|_| now)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Sets a mask's status; returns its item when the status changed.
pub fn decide_mask(conn: &Db, id: i64, status: &str, user: i64) -> Result<Option<i64>> {
    let item: Option<(i64, String)> = conn
        .query_row(
            "SELECT item_id, status FROM masks WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match item {
        Some((item_id, old)) if old != status => {
            conn.execute(
                "UPDATE masks SET status = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
                params![id, status, user, now_ms()],
            )?;
            Ok(Some(item_id))
        }
        _ => Ok(None),
    }
}

const MASK_SQL: &str =
    "SELECT m.id, m.item_id, m.spec, m.status, m.source, c.fingerprint, m.at, d.fingerprint
     FROM masks m JOIN users c ON c.id = m.created_by LEFT JOIN users d ON d.id = m.decided_by";

fn mask_rows(conn: &Db, filter: &str, p: &[&dyn rusqlite::ToSql]) -> Result<Vec<Mask>> {
    let mut stmt = conn.prepare(&format!("{MASK_SQL} {filter} ORDER BY m.item_id, m.id"))?;
    let raw = stmt
        .query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(
            |(id, item_id, spec, status, source, created_by, at_ms, decided_by)| {
                Ok(Mask {
                    id,
                    item_id,
                    spec: from_json(&spec, "mask")?,
                    status,
                    source,
                    created_by,
                    at_ms,
                    decided_by,
                })
            },
        )
        .collect()
}

pub fn item_masks(conn: &Db, item_id: i64) -> Result<Vec<Mask>> {
    mask_rows(conn, "WHERE m.item_id = ?1", &[&item_id])
}

pub fn all_masks(conn: &Db) -> Result<Vec<Mask>> {
    mask_rows(conn, "", &[])
}

pub fn mask_by_id(conn: &Db, id: i64) -> Result<Option<Mask>> {
    Ok(mask_rows(conn, "WHERE m.id = ?1", &[&id])?
        .into_iter()
        .next())
}

/// An item's privacy version (0 when nothing was ever decided) and window.
pub fn item_privacy(conn: &Db, item_id: i64) -> Result<(i64, Option<Window>)> {
    let row: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT version, window FROM item_privacy WHERE item_id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok((0, None)),
        Some((v, None)) => Ok((v, None)),
        Some((v, Some(w))) => Ok((v, Some(from_json(&w, "window")?))),
    }
}

/// Bumps an item's privacy version (every decision does); returns it.
pub fn bump_privacy(conn: &Db, item_id: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO item_privacy(item_id, version, at) VALUES (?1, 1, ?2)
         ON CONFLICT(item_id) DO UPDATE SET version = version + 1, at = ?2",
        params![item_id, now_ms()],
    )?;
    Ok(item_privacy(conn, item_id)?.0)
}

pub fn set_window(conn: &Db, item_id: i64, window: Option<&Window>) -> Result<i64> {
    let version = bump_privacy(conn, item_id)?;
    conn.execute(
        "UPDATE item_privacy SET window = ?2 WHERE item_id = ?1",
        params![item_id, window.map(to_json)],
    )?;
    Ok(version)
}

pub fn put_template(conn: &Db, t: &MaskTemplate, user: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO mask_templates(name, width, height, regions, created_by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(name) DO UPDATE SET width = ?2, height = ?3, regions = ?4, created_by = ?5, at = ?6",
        params![t.name, t.width, t.height, to_json(&t.regions), user, now_ms()],
    )?;
    Ok(())
}

pub fn templates(conn: &Db) -> Result<Vec<MaskTemplate>> {
    let mut stmt =
        conn.prepare("SELECT name, width, height, regions FROM mask_templates ORDER BY name")?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(|(name, width, height, regions)| {
            Ok(MaskTemplate {
                name,
                width,
                height,
                regions: from_json(&regions, "template regions")?,
            })
        })
        .collect()
}

/// Records the privacy version and window a work package carried for an item.
pub fn set_package_item_privacy(
    conn: &Db,
    package_id: &str,
    item_id: i64,
    version: i64,
    window: Option<&Window>,
) -> Result<()> {
    conn.execute(
        "UPDATE package_items SET privacy_version = ?3, window = ?4 WHERE package_id = ?1 AND item_id = ?2",
        params![package_id, item_id, version, window.map(to_json)],
    )?;
    Ok(())
}

/// The window of the latest work package that carried `item_id` to
/// `user_id` (labels coming back are in its coordinates): `None` when
/// none did, `Some(None)` when it went whole.
pub fn sent_window(conn: &Db, item_id: i64, user_id: i64) -> Result<Option<Option<Window>>> {
    let w: Option<Option<String>> = conn
        .query_row(
            "SELECT pi.window FROM package_items pi JOIN packages p ON p.id = pi.package_id
             WHERE pi.item_id = ?1 AND pi.user_id = ?2 AND p.kind = 'work' AND p.direction = 'out'
             ORDER BY p.at DESC, p.sequence DESC LIMIT 1",
            params![item_id, user_id],
            |r| r.get(0),
        )
        .optional()?;
    match w {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(text)) => Ok(Some(Some(from_json(&text, "window")?))),
    }
}

/// Work packages that carried an item: (package id, recipient
/// fingerprint, privacy version, at).
pub fn item_package_versions(conn: &Db, item_id: i64) -> Result<Vec<(String, String, i64, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, u.fingerprint, pi.privacy_version, p.at FROM package_items pi
         JOIN packages p ON p.id = pi.package_id JOIN users u ON u.id = pi.user_id
         WHERE pi.item_id = ?1 AND p.kind = 'work' AND p.direction = 'out' ORDER BY p.at, p.id",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets an item's privacy version as a package stated it (laptops).
pub fn put_privacy_version(conn: &Db, item_id: i64, version: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO item_privacy(item_id, version, at) VALUES (?1, ?2, ?3)
         ON CONFLICT(item_id) DO UPDATE SET version = ?2, at = ?3",
        params![item_id, version, now_ms()],
    )?;
    Ok(())
}

/// Points an item at new media (a laptop receiving a newer derivative);
/// the old blob row goes, its file is removed by the caller after commit.
pub fn replace_item_media(
    conn: &Db,
    item_id: i64,
    blob_id: &str,
    format: &str,
    sha256: &str,
) -> Result<()> {
    let old: Option<String> = conn
        .query_row("SELECT blob_id FROM items WHERE id = ?1", [item_id], |r| {
            r.get(0)
        })
        .optional()?;
    conn.execute(
        "UPDATE items SET blob_id = ?2, format = ?3, sha256 = ?4, peaks_blob_id = NULL WHERE id = ?1",
        params![item_id, blob_id, format, sha256],
    )?;
    if let Some(old) = old {
        conn.execute("DELETE FROM blobs WHERE id = ?1", [old])?;
    }
    Ok(())
}

/// The current geometry of a label, if it exists.
pub fn annotation_geometry(conn: &Db, id: i64) -> Result<Option<crate::model::Geometry>> {
    let g: Option<String> = conn
        .query_row(
            "SELECT geometry FROM annotations WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    g.map(|g| from_json(&g, "geometry")).transpose()
}
