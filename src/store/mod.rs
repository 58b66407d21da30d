//! The only module that speaks SQL. It opens the SQLCipher database with a
//! raw key, applies migrations, and offers typed reads and writes that the
//! controller composes into transactions (change + audit row together).
//!
//! The rest of the program holds the database only as this module's own
//! handles, [`Db`] (reads and writes through the functions here) and
//! [`Tx`] (a write transaction, usable wherever a `&Db` is), so no SQL and
//! no `rusqlite` type reaches it (`tests/layering.rs` keeps it so).

mod access;
mod governance;
mod membership;
mod migrations;
mod packages;
mod privacy;
mod review;
mod trail;
mod vocab;

use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::crypto::SecretBytes;
use crate::model::{
    Annotation, AnnotationDraft, AssignmentState, Geometry, ItemKind, ItemStatus, ItemSummary,
    LabelClass, Role, Skeleton, Tool, User, now_ms,
};

pub use access::*;
pub use governance::*;
pub use membership::*;
pub use migrations::MIGRATIONS;
pub use packages::*;
pub use privacy::*;
pub use review::*;
pub use trail::*;

/// Schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the project database {path} cannot be decrypted or is not a database: it is corrupt, was tampered with, or belongs to another key. The file was left untouched; restore it from a backup"
    )]
    CannotDecrypt { path: PathBuf },
    #[error(
        "the project database has schema version {found}, newer than this Sealtag supports ({SCHEMA_VERSION}); upgrade Sealtag to open it"
    )]
    TooNew { found: i64 },
    #[error("the project database failed its integrity check: {0}. It was left untouched")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored data is invalid: {0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Finishes SQLCipher's process-wide set-up before any database is keyed.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's own set-up
/// (`sqlcipher_extra_init`: private heap, crypto provider, random seed), so
/// a second thread that opens a database in that window passes the
/// initialisation check, and its `PRAGMA key` then fails with "sqlcipher not
/// initialized" (reported as "An error occurred with PRAGMA key or rekey").
/// Opening one throw-away in-memory connection under a `Once` runs the whole
/// set-up on one thread while the others wait; `tests/first_use.rs` races
/// fresh processes to keep it fixed.
fn sqlcipher_ready() -> rusqlite::Result<()> {
    static READY: std::sync::OnceLock<std::result::Result<(), String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            Connection::open_in_memory()
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(format!("SQLCipher could not initialise: {message}")),
            )
        })
}

/// An open, keyed, migrated project database.
pub struct Store {
    db: Db,
    project_id: String,
}

/// The project database as the rest of the program holds it: every store
/// function takes a `&Db` (a [`Tx`] derefs to one). It runs no statement
/// itself outside this module, so SQL stays here.
pub struct Db {
    conn: Connection,
}

/// The statements the store's functions run, for this module only.
impl Db {
    // Statements are cached: an import or a merge runs the same few
    // statements hundreds of thousands of times, and preparing one costs
    // more than running it.
    fn execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.execute_batch(sql)
    }

    fn prepare(&self, sql: &str) -> rusqlite::Result<rusqlite::Statement<'_>> {
        self.conn.prepare(sql)
    }

    fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.conn.prepare_cached(sql)?.query_row(params, f)
    }

    fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    /// An unkeyed in-memory database with every migration applied, for unit
    /// tests of code that composes store calls.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Result<Db> {
        let conn = Connection::open_in_memory()?;
        for step in MIGRATIONS {
            conn.execute_batch(step)?;
        }
        Ok(Db { conn })
    }
}

/// A write transaction on the project database, begun IMMEDIATE by
/// [`Store::transaction`]: store functions take it wherever they take a
/// `&Db`. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx<'c> {
    tx: rusqlite::Transaction<'c>,
    db: &'c Db,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::NotADatabase || f.code == rusqlite::ErrorCode::DatabaseCorrupt
    )
}

impl Store {
    /// Opens (or with `create`, creates) the database at `path`. `project_id`
    /// must match the id stored inside, which ties the DB to its header.
    pub fn open(
        path: &Path,
        key: &SecretBytes<32>,
        project_id: &str,
        create: bool,
    ) -> Result<Self> {
        if !create && !path.exists() {
            return Err(StoreError::CannotDecrypt {
                path: path.to_path_buf(),
            });
        }
        let flags = if create {
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
        } else {
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        sqlcipher_ready()?;
        let conn = Connection::open_with_flags(path, flags)?;
        // SQLCipher otherwise prints "hmac check failed" on a wrong key.
        let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
        let pragma = Zeroizing::new(format!(
            "PRAGMA key = \"x'{}'\";",
            hex::encode(key.expose())
        ));
        conn.execute_batch(&pragma)?;
        let decrypt_err = |e: rusqlite::Error| {
            if is_not_a_database(&e) {
                StoreError::CannotDecrypt {
                    path: path.to_path_buf(),
                }
            } else {
                StoreError::Sql(e)
            }
        };
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(decrypt_err)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(decrypt_err)?;
        // FULL: a commit the UI reports as saved survives power loss too.
        // A 64 MiB page cache (SQLite's default is 2 MiB): a bulk import's
        // transaction otherwise spills pages to the WAL mid-way, and each
        // spill encrypts them twice; 250,000 pre-labels went from 2.0 s of
        // inserts to 1.5 s. The cache fills only as pages are read.
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA busy_timeout = 5000;
             PRAGMA cache_size = -65536;",
        )
        .map_err(decrypt_err)?;
        // The store runs a few dozen distinct statements; keep them all.
        conn.set_prepared_statement_cache_capacity(128);
        let mut store = Store {
            db: Db { conn },
            project_id: project_id.to_string(),
        };
        // Check every page's HMAC before the first write, so a damaged or
        // tampered database is refused untouched rather than written to.
        if !create {
            store.cipher_check().map_err(|e| match e {
                StoreError::Sql(e) if is_not_a_database(&e) => StoreError::CannotDecrypt {
                    path: path.to_path_buf(),
                },
                other => other,
            })?;
        }
        store.migrate()?;
        if create {
            store.set_meta("project_id", project_id)?;
        } else {
            let stored = store.meta("project_id")?;
            if stored.as_deref() != Some(project_id) {
                return Err(StoreError::Invalid(format!(
                    "the database belongs to project {}, but the header says {project_id}; the bundle was assembled from different projects",
                    stored.unwrap_or_default()
                )));
            }
        }
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let found: i64 = self.db.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found });
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.db.conn.transaction()?;
            tx.execute_batch(step)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Starts a write transaction (IMMEDIATE: take the write lock up front so
    /// two processes never interleave half-done changes). `&mut self`: one
    /// at a time, checked by the compiler.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        let db = &self.db;
        let tx = rusqlite::Transaction::new_unchecked(
            &db.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        Ok(Tx { tx, db })
    }

    /// The database, for the store's functions.
    pub fn conn(&self) -> &Db {
        &self.db
    }

    /// The SQLite connection itself, for tests that read or tamper with the
    /// database as someone holding its key could. The program never uses
    /// it (`tests/layering.rs` fails if it is named outside `src/store/`).
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.db.conn
    }

    /// Changes the database key in place (SQLCipher re-encrypts every page).
    pub fn rekey(&self, key: &SecretBytes<32>) -> Result<()> {
        let pragma = Zeroizing::new(format!(
            "PRAGMA rekey = \"x'{}'\";",
            hex::encode(key.expose())
        ));
        self.db.execute_batch(&pragma)?;
        Ok(())
    }

    /// `PRAGMA integrity_check` and SQLCipher's page-HMAC check.
    pub fn integrity_check(&self) -> Result<()> {
        let result: String = self
            .db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result != "ok" {
            return Err(StoreError::Corrupt(result));
        }
        self.cipher_check()
    }

    /// SQLCipher's check of every page's HMAC (tampering and bit rot).
    fn cipher_check(&self) -> Result<()> {
        let mut stmt = self.db.prepare("PRAGMA cipher_integrity_check")?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<_, _>>()?;
        if let Some(first) = problems.first() {
            return Err(StoreError::Corrupt(first.clone()));
        }
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        meta(&self.db, key)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta(&self.db, key, value)
    }

    /// Rebuilds the database file without its free pages (`VACUUM`), so
    /// pages that held deleted rows are not kept as free space.
    pub fn vacuum(&self) -> Result<()> {
        self.db.execute_batch("VACUUM;")?;
        Ok(())
    }

    /// Moves every page from the WAL into the database and truncates the
    /// log to zero bytes: after an erasure, no old page (holding a deleted
    /// blob key) is left in `project.db-wal`.
    pub fn checkpoint_truncate(&self) -> Result<()> {
        let (busy, _, _): (i64, i64, i64) =
            self.db
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if busy != 0 {
            return Err(StoreError::Invalid(
                "the WAL could not be checkpointed (another connection is reading); close other windows on this project and retry".into(),
            ));
        }
        Ok(())
    }
}

pub fn meta(conn: &Db, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Db, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- users

fn user_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, String, String, String, String, bool)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_user(t: (i64, String, String, String, String, bool)) -> Result<User> {
    let role: Role = t.4.parse().map_err(StoreError::Invalid)?;
    Ok(User {
        id: t.0,
        fingerprint: t.1,
        name: t.2,
        public_key: t.3,
        role,
        active: t.5,
    })
}

const USER_COLS: &str = "id, fingerprint, name, public_key, role, active";

pub fn insert_user(
    conn: &Db,
    fingerprint: &str,
    name: &str,
    public_key: &str,
    role: Role,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO users(fingerprint, name, public_key, role, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![fingerprint, name, public_key, role.as_str(), now_ms()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Re-activates a previously removed user with a new role and name.
pub fn reactivate_user(conn: &Db, id: i64, name: &str, role: Role) -> Result<()> {
    conn.execute(
        "UPDATE users SET active = 1, removed_at = NULL, name = ?2, role = ?3 WHERE id = ?1",
        params![id, name, role.as_str()],
    )?;
    Ok(())
}

pub fn deactivate_user(conn: &Db, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE users SET active = 0, removed_at = ?2 WHERE id = ?1",
        params![id, now_ms()],
    )?;
    conn.execute("DELETE FROM assignments WHERE user_id = ?1", [id])?;
    Ok(())
}

pub fn list_users(conn: &Db) -> Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY id"))?;
    let rows = stmt.query_map([], user_from_row)?;
    rows.map(|r| to_user(r?)).collect()
}

pub fn user_by_fingerprint(conn: &Db, fingerprint: &str) -> Result<Option<User>> {
    let row = conn
        .query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE fingerprint = ?1"),
            [fingerprint],
            user_from_row,
        )
        .optional()?;
    row.map(to_user).transpose()
}

// ---------------------------------------------------------------- blobs and items

pub fn insert_blob(conn: &Db, blob_id: &str, key: &SecretBytes<32>, size: u64) -> Result<()> {
    conn.execute(
        "INSERT INTO blobs(id, key, size, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![blob_id, &key.expose()[..], size as i64, now_ms()],
    )?;
    Ok(())
}

/// All blob ids the database references (for finding orphaned blob files).
pub fn blob_ids(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM blobs")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Fields of a new item.
pub struct NewItem<'a> {
    pub kind: ItemKind,
    pub name: &'a str,
    pub format: &'a str,
    pub sha256: &'a str,
    pub blob_id: &'a str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<f64>,
    pub char_len: Option<u64>,
    pub metadata: &'a str,
}

pub fn insert_item(conn: &Db, item: &NewItem<'_>) -> Result<i64> {
    insert_item_as(conn, None, item)
}

/// Inserts an item under a given id (a laptop keeps the site's ids) or the
/// next free one.
pub fn insert_item_as(conn: &Db, id: Option<i64>, item: &NewItem<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO items(id, kind, name, format, sha256, blob_id, width, height, duration_secs, char_len, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            item.kind.as_str(),
            item.name,
            item.format,
            item.sha256,
            item.blob_id,
            item.width,
            item.height,
            item.duration_secs,
            item.char_len.map(|c| c as i64),
            item.metadata,
            now_ms()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The item whose original content has this SHA-256 (hex), if any.
pub fn item_with_content(conn: &Db, sha256: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM items WHERE sha256 = ?1 ORDER BY id LIMIT 1",
            [sha256],
            |r| r.get(0),
        )
        .optional()?)
}

/// The first eight bytes of every item's content hash: what a re-run import
/// checks a file against before decoding it (a hit is confirmed with
/// [`item_with_content`]; 8 bytes per item keeps a million items in 16 MB).
pub fn content_prefixes(conn: &Db) -> Result<std::collections::HashSet<u64>> {
    let mut stmt = conn.prepare("SELECT substr(sha256, 1, 16) FROM items")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = std::collections::HashSet::new();
    for row in rows {
        if let Ok(prefix) = u64::from_str_radix(&row?, 16) {
            out.insert(prefix);
        }
    }
    Ok(out)
}

const ITEM_SUMMARY_SQL: &str = "SELECT i.id, i.kind, i.name, i.format, i.sha256, i.width, i.height, i.duration_secs, i.char_len, i.status,
        (SELECT count(*) FROM annotations a WHERE a.item_id = i.id AND a.deleted = 0)
     FROM items i";

fn item_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemSummary> {
    let kind: String = r.get(1)?;
    Ok(ItemSummary {
        id: r.get(0)?,
        kind: ItemKind::parse(&kind).unwrap_or(ItemKind::Text),
        name: r.get(2)?,
        format: r.get(3)?,
        sha256: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        duration_secs: r.get(7)?,
        char_len: r.get::<_, Option<i64>>(8)?.map(|c| c as u64),
        status: r.get(9)?,
        label_count: r.get::<_, i64>(10)? as u64,
    })
}

/// Items in id order; `only_assigned_to` limits to one user's assignments.
pub fn list_items(conn: &Db, only_assigned_to: Option<i64>) -> Result<Vec<ItemSummary>> {
    let rows = match only_assigned_to {
        None => {
            let mut stmt = conn.prepare(&format!("{ITEM_SUMMARY_SQL} ORDER BY i.id"))?;
            stmt.query_map([], item_summary)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
        Some(user) => {
            let mut stmt = conn.prepare(&format!(
                "{ITEM_SUMMARY_SQL} WHERE i.id IN (SELECT item_id FROM assignments WHERE user_id = ?1) ORDER BY i.id"
            ))?;
            stmt.query_map([user], item_summary)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    Ok(rows)
}

/// How many items are in each status: a count in SQL, where listing every
/// item's summary would read (and count the labels of) the whole project.
pub fn item_status_counts(conn: &Db) -> Result<std::collections::BTreeMap<String, usize>> {
    let mut stmt = conn.prepare("SELECT status, count(*) FROM items GROUP BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut counts = std::collections::BTreeMap::new();
    for row in rows {
        let (status, n) = row?;
        counts.insert(status, usize::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}

pub fn item_summary_by_id(conn: &Db, item_id: i64) -> Result<Option<ItemSummary>> {
    Ok(conn
        .query_row(
            &format!("{ITEM_SUMMARY_SQL} WHERE i.id = ?1"),
            [item_id],
            item_summary,
        )
        .optional()?)
}

/// The blob an item column (`blob_id` or `peaks_blob_id`) points at, with its key.
fn item_blob_in(
    conn: &Db,
    item_id: i64,
    column: &str,
) -> Result<Option<(String, SecretBytes<32>)>> {
    let row: Option<(String, Vec<u8>)> = conn
        .query_row(
            &format!(
                "SELECT b.id, b.key FROM items i JOIN blobs b ON b.id = i.{column} WHERE i.id = ?1"
            ),
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(id, key)| {
        let key = Zeroizing::new(key);
        SecretBytes::from_slice(&key)
            .map(|k| (id.clone(), k))
            .ok_or_else(|| StoreError::Invalid(format!("blob {id} has a malformed key")))
    })
    .transpose()
}

/// The blob holding an item's original, with its key.
pub fn item_blob(conn: &Db, item_id: i64) -> Result<Option<(String, SecretBytes<32>)>> {
    item_blob_in(conn, item_id, "blob_id")
}

/// The cached waveform blob of an audio item, with its key.
pub fn item_peaks_blob(conn: &Db, item_id: i64) -> Result<Option<(String, SecretBytes<32>)>> {
    item_blob_in(conn, item_id, "peaks_blob_id")
}

pub fn set_item_peaks_blob(conn: &Db, item_id: i64, blob_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE items SET peaks_blob_id = ?2 WHERE id = ?1",
        params![item_id, blob_id],
    )?;
    Ok(())
}

pub fn item_metadata(conn: &Db, item_id: i64) -> Result<String> {
    Ok(
        conn.query_row("SELECT metadata FROM items WHERE id = ?1", [item_id], |r| {
            r.get(0)
        })?,
    )
}

pub fn set_item_status(conn: &Db, item_id: i64, status: ItemStatus) -> Result<()> {
    conn.execute(
        "UPDATE items SET status = ?2 WHERE id = ?1",
        params![item_id, status],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- assignments

pub fn assign(conn: &Db, item_id: i64, user_id: i64, purpose: &str) -> Result<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO assignments(item_id, user_id, purpose, state, updated_at) VALUES (?1, ?2, ?3, 'assigned', ?4)",
        params![item_id, user_id, purpose, now_ms()],
    )?;
    Ok(n > 0)
}

pub fn is_assigned(conn: &Db, item_id: i64, user_id: i64) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM assignments WHERE item_id = ?1 AND user_id = ?2",
            params![item_id, user_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The state of one assignment and its reason (for skips).
pub fn assignment_state(
    conn: &Db,
    item_id: i64,
    user_id: i64,
) -> Result<Option<(AssignmentState, Option<String>)>> {
    Ok(conn
        .query_row(
            "SELECT state, reason FROM assignments WHERE item_id = ?1 AND user_id = ?2 ORDER BY purpose LIMIT 1",
            params![item_id, user_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Sets the state of a user's assignments on an item, and the item status.
pub fn set_assignment_state(
    conn: &Db,
    item_id: i64,
    user_id: i64,
    state: AssignmentState,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE assignments SET state = ?3, reason = ?4, updated_at = ?5 WHERE item_id = ?1 AND user_id = ?2",
        params![item_id, user_id, state, reason, now_ms()],
    )?;
    set_item_status(conn, item_id, state.item_status())
}

/// Moves `assigned` to `in_progress` on first edit (DESIGN §5).
pub fn mark_in_progress(conn: &Db, item_id: i64, user_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE assignments SET state = 'in_progress', updated_at = ?3 WHERE item_id = ?1 AND user_id = ?2 AND state IN ('assigned', 'rejected')",
        params![item_id, user_id, now_ms()],
    )?;
    conn.execute(
        "UPDATE items SET status = 'in_progress' WHERE id = ?1 AND status IN ('new', 'assigned', 'rejected')",
        [item_id],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- schema

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Invalid(format!("bad {what}: {e}")))
}

/// Inserts a class (its `id` is ignored) and returns the new id.
pub fn insert_class(conn: &Db, class: &LabelClass) -> Result<i64> {
    let position: i64 = conn.query_row(
        "SELECT coalesce(max(position), 0) + 1 FROM classes",
        [],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO classes(name, colour, hotkey, position, tools, attributes, skeleton) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            class.name,
            class.colour,
            class.hotkey,
            position,
            to_json(&class.tools),
            to_json(&class.attributes),
            class.skeleton.as_ref().map(to_json)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Rewrites a class in place, at list position `position`.
pub fn update_class(conn: &Db, class: &LabelClass, position: i64) -> Result<()> {
    conn.execute(
        "UPDATE classes SET name = ?2, colour = ?3, hotkey = ?4, position = ?5, tools = ?6, attributes = ?7, skeleton = ?8, retired = 0 WHERE id = ?1",
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

/// Removes a class from the schema; its row stays for old revisions.
pub fn retire_class(conn: &Db, class_id: i64) -> Result<()> {
    // A retired class frees its name and hotkey for a new class.
    conn.execute(
        "UPDATE classes SET retired = 1, hotkey = NULL, name = name || ' (retired ' || id || ')' WHERE id = ?1",
        [class_id],
    )?;
    Ok(())
}

pub fn list_classes(conn: &Db) -> Result<Vec<LabelClass>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, colour, hotkey, tools, attributes, skeleton FROM classes WHERE retired = 0 ORDER BY position, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<u8>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, colour, hotkey, tools, attributes, skeleton) = row?;
        out.push(LabelClass {
            id,
            name,
            colour,
            hotkey,
            tools: from_json::<Vec<Tool>>(&tools, "class tools")?,
            attributes: from_json(&attributes, "class attributes")?,
            skeleton: skeleton
                .map(|s| from_json::<Skeleton>(&s, "class skeleton"))
                .transpose()?,
        });
    }
    Ok(out)
}

/// Live labels per (class, tool): what a schema change could orphan.
pub fn label_counts_by_class_and_tool(conn: &Db) -> Result<Vec<(i64, String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT class_id, json_extract(geometry, '$.type'), count(*) FROM annotations WHERE deleted = 0 GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Live annotation ids of a class (optionally only those drawn with `tool`).
pub fn live_annotation_ids(conn: &Db, class_id: i64, tool: Option<Tool>) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM annotations WHERE deleted = 0 AND class_id = ?1 AND (?2 IS NULL OR json_extract(geometry, '$.type') = ?2) ORDER BY id",
    )?;
    let rows = stmt.query_map(params![class_id, tool.map(Tool::as_str)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_schema_version(
    conn: &Db,
    version: i64,
    schema_json: &str,
    actor: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO schema_versions(version, schema, at, actor) VALUES (?1, ?2, ?3, ?4)",
        params![version, schema_json, now_ms(), actor],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- settings

/// A project-wide setting (admin-controlled).
pub fn setting(conn: &Db, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn set_setting(conn: &Db, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// A personal setting of one user (e.g. remapped shortcuts).
pub fn user_setting(conn: &Db, user_id: i64, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM user_settings WHERE user_id = ?1 AND key = ?2",
            params![user_id, key],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_user_setting(conn: &Db, user_id: i64, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO user_settings(user_id, key, value) VALUES (?1, ?2, ?3) ON CONFLICT(user_id, key) DO UPDATE SET value = excluded.value",
        params![user_id, key, value],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- annotations

/// The stored state of one annotation (live or deleted).
#[derive(Clone, Debug, PartialEq)]
pub struct AnnotationState {
    pub id: i64,
    pub item_id: i64,
    pub draft: AnnotationDraft,
    pub deleted: bool,
    pub revision: i64,
}

fn parse_geometry(text: &str) -> Result<Geometry> {
    from_json(text, "geometry")
}

const STATE_COLS: &str = "class_id, geometry, attributes, hidden, locked, z, deleted";

/// Reads `STATE_COLS` starting at column `at`.
fn draft_from_row(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> rusqlite::Result<(i64, String, String, bool, bool, i64, bool)> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
    ))
}

fn to_draft(t: (i64, String, String, bool, bool, i64, bool)) -> Result<(AnnotationDraft, bool)> {
    let (class_id, geometry, attributes, hidden, locked, z, deleted) = t;
    Ok((
        AnnotationDraft {
            class_id,
            geometry: parse_geometry(&geometry)?,
            attributes: from_json(&attributes, "attributes")?,
            hidden,
            locked,
            z,
        },
        deleted,
    ))
}

pub fn annotation_state(conn: &Db, annotation_id: i64) -> Result<Option<AnnotationState>> {
    let row = conn
        .query_row(
            &format!("SELECT id, item_id, revision, {STATE_COLS} FROM annotations WHERE id = ?1"),
            [annotation_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    draft_from_row(r, 3)?,
                ))
            },
        )
        .optional()?;
    row.map(|(id, item_id, revision, t)| {
        let (draft, deleted) = to_draft(t)?;
        Ok(AnnotationState {
            id,
            item_id,
            draft,
            deleted,
            revision,
        })
    })
    .transpose()
}

/// Live annotations of an item in drawing order (z, then creation).
pub fn list_annotations(conn: &Db, item_id: i64) -> Result<Vec<Annotation>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT a.id, a.item_id, a.revision, u.fingerprint, a.source, a.score, {}
         FROM annotations a JOIN users u ON u.id = a.created_by
         WHERE a.item_id = ?1 AND a.deleted = 0 ORDER BY a.z, a.id",
        STATE_COLS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let rows = stmt.query_map([item_id], |r| {
        Ok((
            (
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ),
            (r.get::<_, Option<String>>(4)?, r.get::<_, Option<f64>>(5)?),
            draft_from_row(r, 6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, item_id, revision, created_by), (source, score), t) = row?;
        let (d, _) = to_draft(t)?;
        out.push(Annotation {
            id,
            item_id,
            class_id: d.class_id,
            geometry: d.geometry,
            attributes: d.attributes,
            hidden: d.hidden,
            locked: d.locked,
            z: d.z,
            revision,
            created_by,
            source,
            score,
        });
    }
    Ok(out)
}

/// One new state of an annotation, as written by [`write_annotation`].
pub struct Revision<'a> {
    pub item_id: i64,
    pub draft: &'a AnnotationDraft,
    pub deleted: bool,
    /// create, update, delete, undo or redo
    pub op: &'a str,
    pub actor: i64,
}

/// Writes a new state of an annotation (`None`: a new one) and its revision
/// row in one go. Returns the annotation id and the revision row id.
pub fn write_annotation(
    conn: &Db,
    annotation_id: Option<i64>,
    rev: &Revision<'_>,
) -> Result<(i64, i64)> {
    write_annotation_at(conn, annotation_id, rev, now_ms())
}

/// [`write_annotation`] at a given time: merged revisions keep the time
/// the annotator made them.
pub fn write_annotation_at(
    conn: &Db,
    annotation_id: Option<i64>,
    rev: &Revision<'_>,
    now: i64,
) -> Result<(i64, i64)> {
    let d = rev.draft;
    let g = to_json(&d.geometry);
    let attrs = to_json(&d.attributes);
    let (id, revision) = match annotation_id {
        None => {
            conn.execute(
                "INSERT INTO annotations(item_id, class_id, geometry, attributes, hidden, locked, z, deleted, revision, created_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)",
                params![rev.item_id, d.class_id, g, attrs, d.hidden, d.locked, d.z, rev.deleted, rev.actor, now],
            )?;
            (conn.last_insert_rowid(), 1)
        }
        Some(id) => {
            conn.execute(
                "UPDATE annotations SET class_id = ?2, geometry = ?3, attributes = ?4, hidden = ?5, locked = ?6, z = ?7, deleted = ?8,
                 revision = revision + 1, updated_at = ?9, source = NULL, score = NULL WHERE id = ?1",
                params![id, d.class_id, g, attrs, d.hidden, d.locked, d.z, rev.deleted, now],
            )?;
            let revision: i64 = conn.query_row(
                "SELECT revision FROM annotations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            (id, revision)
        }
    };
    conn.execute(
        "INSERT INTO annotation_revisions(annotation_id, revision, op, class_id, geometry, attributes, hidden, locked, z, deleted, actor, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![id, revision, rev.op, d.class_id, g, attrs, d.hidden, d.locked, d.z, rev.deleted, rev.actor, now],
    )?;
    Ok((id, conn.last_insert_rowid()))
}

/// One pre-label for [`insert_predictions`].
pub struct NewPrediction<'a> {
    pub item_id: i64,
    pub draft: &'a AnnotationDraft,
    pub score: Option<f64>,
}

/// Rows per statement in [`insert_predictions`]: each statement is prepared
/// once (cached) and runs its program once for all its rows.
const PREDICTIONS_PER_STATEMENT: usize = 64;

/// Many new predictions from `source` (pre-labels), each an annotation
/// marked as a prediction and its first revision:
/// the annotation rows, then their first revisions, `PREDICTIONS_PER_STATEMENT`
/// rows per statement (a quarter of a million boxes otherwise cost half a
/// million statement runs). The rows of one statement get consecutive ids
/// (`INTEGER PRIMARY KEY`: each is the largest so far plus one), which the
/// revisions then name.
pub fn insert_predictions(
    conn: &Db,
    rows: &[NewPrediction<'_>],
    source: &str,
    actor: i64,
    now: i64,
) -> Result<()> {
    use rusqlite::types::ToSql;
    for chunk in rows.chunks(PREDICTIONS_PER_STATEMENT) {
        let texts: Vec<(String, String)> = chunk
            .iter()
            .map(|r| (to_json(&r.draft.geometry), to_json(&r.draft.attributes)))
            .collect();
        let mut sql = String::from(
            "INSERT INTO annotations(item_id, class_id, geometry, attributes, hidden, locked, z, deleted, revision, created_by, updated_at, source, score) VALUES ",
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 10);
        for (n, (r, (g, attrs))) in chunk.iter().zip(&texts).enumerate() {
            sql.push_str(if n == 0 { "" } else { "," });
            sql.push_str("(?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, ?, ?)");
            let d = r.draft;
            values.extend([
                &r.item_id as &dyn ToSql,
                &d.class_id,
                g,
                attrs,
                &d.hidden,
                &d.locked,
                &d.z,
                &actor,
                &now,
                &source,
                &r.score,
            ]);
        }
        conn.execute(&sql, values.as_slice())?;
        let last = conn.last_insert_rowid();
        let first = last - (chunk.len() as i64 - 1);
        let ids: Vec<i64> = (first..=last).collect();
        let mut sql = String::from(
            "INSERT INTO annotation_revisions(annotation_id, revision, op, class_id, geometry, attributes, hidden, locked, z, deleted, actor, at) VALUES ",
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 9);
        for (n, ((r, (g, attrs)), id)) in chunk.iter().zip(&texts).zip(&ids).enumerate() {
            sql.push_str(if n == 0 { "" } else { "," });
            sql.push_str("(?, 1, 'create', ?, ?, ?, ?, ?, ?, 0, ?, ?)");
            let d = r.draft;
            values.extend([
                id as &dyn ToSql,
                &d.class_id,
                g,
                attrs,
                &d.hidden,
                &d.locked,
                &d.z,
                &actor,
                &now,
            ]);
        }
        conn.execute(&sql, values.as_slice())?;
    }
    Ok(())
}

/// Items that carry at least one live label: a bulk import reads the labels
/// of these only (a fresh project has none to check against).
pub fn items_with_labels(conn: &Db) -> Result<std::collections::HashSet<i64>> {
    let mut stmt = conn.prepare("SELECT DISTINCT item_id FROM annotations WHERE deleted = 0")?;
    let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks a new annotation as a prediction from `source` with `score`.
pub fn set_prediction(
    conn: &Db,
    annotation_id: i64,
    source: &str,
    score: Option<f64>,
) -> Result<()> {
    conn.execute(
        "UPDATE annotations SET source = ?2, score = ?3 WHERE id = ?1",
        params![annotation_id, source, score],
    )?;
    Ok(())
}

/// A revision that undo or redo may act on.
#[derive(Clone, Debug)]
pub struct RevisionRef {
    pub revision_row: i64,
    pub annotation_id: i64,
    pub item_id: i64,
    pub revision: i64,
}

fn revision_ref(r: &rusqlite::Row<'_>) -> rusqlite::Result<RevisionRef> {
    Ok(RevisionRef {
        revision_row: r.get(0)?,
        annotation_id: r.get(1)?,
        revision: r.get(2)?,
        item_id: r.get(3)?,
    })
}

/// The newest change by `actor` (on `item_id`, or anywhere) that can be undone.
pub fn last_undoable(conn: &Db, item_id: Option<i64>, actor: i64) -> Result<Option<RevisionRef>> {
    Ok(conn
        .query_row(
            "SELECT r.id, r.annotation_id, r.revision, a.item_id FROM annotation_revisions r
             JOIN annotations a ON a.id = r.annotation_id
             WHERE (?1 IS NULL OR a.item_id = ?1) AND r.actor = ?2 AND r.op != 'undo' AND r.undo_state = 0
             ORDER BY r.id DESC LIMIT 1",
            params![item_id, actor],
            revision_ref,
        )
        .optional()?)
}

/// The most recently undone change by `actor` (on `item_id`, or anywhere),
/// if no fresh edit came after that undo (a new edit clears the redo stack,
/// as in every editor).
pub fn last_redoable(conn: &Db, item_id: Option<i64>, actor: i64) -> Result<Option<RevisionRef>> {
    let candidate = conn
        .query_row(
            "SELECT r.id, r.annotation_id, r.revision, a.item_id FROM annotation_revisions r
             JOIN annotations a ON a.id = r.annotation_id
             WHERE (?1 IS NULL OR a.item_id = ?1) AND r.actor = ?2 AND r.undo_state = 1
             ORDER BY r.undone_by DESC LIMIT 1",
            params![item_id, actor],
            revision_ref,
        )
        .optional()?;
    let Some(candidate) = candidate else {
        return Ok(None);
    };
    let newer_edit: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM annotation_revisions r JOIN annotations a ON a.id = r.annotation_id
          WHERE (?1 IS NULL OR a.item_id = ?1) AND r.actor = ?2 AND r.op IN ('create','update','delete')
            AND r.id > (SELECT undone_by FROM annotation_revisions WHERE id = ?3))",
        params![item_id, actor, candidate.revision_row],
        |r| r.get(0),
    )?;
    Ok(if newer_edit { None } else { Some(candidate) })
}

/// The state an annotation had at `revision` (`None` before it existed).
pub fn revision_state(
    conn: &Db,
    annotation_id: i64,
    revision: i64,
) -> Result<Option<(AnnotationDraft, bool)>> {
    let row = conn
        .query_row(
            &format!("SELECT {STATE_COLS} FROM annotation_revisions WHERE annotation_id = ?1 AND revision = ?2"),
            params![annotation_id, revision],
            |r| draft_from_row(r, 0),
        )
        .optional()?;
    row.map(to_draft).transpose()
}

/// Marks a revision undone (1, by the undo revision `by`) or redone (2).
pub fn set_undo_state(conn: &Db, revision_row: i64, state: i64, by: i64) -> Result<()> {
    conn.execute(
        "UPDATE annotation_revisions SET undo_state = ?2, undone_by = CASE WHEN ?2 = 1 THEN ?3 ELSE undone_by END WHERE id = ?1",
        params![revision_row, state, by],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
