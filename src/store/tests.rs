//! Unit tests of `store::mod` (kept beside it so the module itself stays readable).

use super::*;

fn columns(conn: &Db) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT m.name, group_concat(c.name) FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' GROUP BY m.name ORDER BY m.name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// A database left by a version-1 Sealtag upgrades in place, keeps its
/// labels, and ends with the same tables and columns as a fresh one.
#[test]
fn a_version_1_database_upgrades_to_the_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretBytes::<32>::random();
    let pid = "0123456789abcdef0123456789abcdef";
    let old = dir.path().join("old.db");
    {
        sqlcipher_ready().unwrap();
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\";",
            hex::encode(key.expose())
        ))
        .unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA user_version = 1;
             INSERT INTO meta VALUES ('project_id', '{pid}');
             INSERT INTO users(fingerprint, name, public_key, role, added_at) VALUES ('f', 'A', 'k', 'admin', 0);
             INSERT INTO blobs VALUES ('b', x'00', 1, 0);
             INSERT INTO items(kind, name, format, sha256, blob_id, width, height, created_at) VALUES ('image', 'x.png', 'png', 'h', 'b', 10, 10, 0);
             INSERT INTO classes(name, colour, hotkey, position) VALUES ('person', '#ff0000', 1, 1);
             INSERT INTO annotations(item_id, class_id, geometry, revision, created_by, updated_at)
               VALUES (1, 1, '{{\"type\":\"bbox\",\"x\":1.0,\"y\":1.0,\"w\":2.0,\"h\":2.0}}', 1, 1, 0);"
        ))
        .unwrap();
    }
    let upgraded = Store::open(&old, &key, pid, false).unwrap();
    let labels = list_annotations(upgraded.conn(), 1).unwrap();
    assert_eq!(labels.len(), 1);
    assert!(labels[0].attributes.is_empty() && !labels[0].hidden && labels[0].z == 0);
    // Classes of an old project keep the image tools they had; admins add
    // audio and text tools through a schema change.
    use crate::model::Tool;
    assert_eq!(
        list_classes(upgraded.conn()).unwrap()[0].tools,
        [
            Tool::BBox,
            Tool::Polygon,
            Tool::Polyline,
            Tool::Point,
            Tool::Tag
        ]
    );
    let fresh = Store::open(&dir.path().join("fresh.db"), &key, pid, true).unwrap();
    assert_eq!(columns(upgraded.conn()), columns(fresh.conn()));
    let version: i64 = upgraded
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}
