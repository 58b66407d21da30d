//! Numbered schema migrations. Step N brings `user_version` from N-1 to N in
//! one transaction; a database newer than the last step is refused.

/// Each entry is one migration; never edit a released step, append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        public_key TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin','reviewer','annotator','auditor')),
        active INTEGER NOT NULL DEFAULT 1,
        added_at INTEGER NOT NULL,
        removed_at INTEGER
    );
    CREATE TABLE blobs (
        id TEXT PRIMARY KEY,
        key BLOB NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('image','audio','text')),
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        blob_id TEXT NOT NULL REFERENCES blobs(id),
        width INTEGER,
        height INTEGER,
        duration_secs REAL,
        char_len INTEGER,
        metadata TEXT NOT NULL DEFAULT '{}',
        subject_key TEXT,
        status TEXT NOT NULL DEFAULT 'new',
        created_at INTEGER NOT NULL
    );
    CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        colour TEXT NOT NULL,
        hotkey INTEGER,
        position INTEGER NOT NULL
    );
    CREATE TABLE assignments (
        item_id INTEGER NOT NULL REFERENCES items(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        purpose TEXT NOT NULL CHECK (purpose IN ('annotate','review','gold')),
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (item_id, user_id, purpose)
    );
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        class_id INTEGER NOT NULL REFERENCES classes(id),
        geometry TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL,
        created_by INTEGER NOT NULL REFERENCES users(id),
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX annotations_item ON annotations(item_id);
    CREATE TABLE annotation_revisions (
        id INTEGER PRIMARY KEY,
        annotation_id INTEGER NOT NULL REFERENCES annotations(id),
        revision INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create','update','delete','undo','redo')),
        class_id INTEGER NOT NULL,
        geometry TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        actor INTEGER NOT NULL REFERENCES users(id),
        at INTEGER NOT NULL,
        -- 0 live, 1 undone, 2 undone then redone
        undo_state INTEGER NOT NULL DEFAULT 0,
        -- the undo revision that undid this one: redo follows undo order
        undone_by INTEGER,
        UNIQUE (annotation_id, revision)
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    -- Append-only in the app; the hash chain catches anyone who drops these.
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TABLE audit_heads (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
    // 2: image labelling: geometry kinds, attributes, z-order, hide/lock,
    // versioned schema with tools/attributes/skeletons, per-user settings,
    // skip reasons.
    r#"
    ALTER TABLE classes ADD COLUMN tools TEXT NOT NULL DEFAULT '["bbox","polygon","polyline","point","tag"]';
    ALTER TABLE classes ADD COLUMN attributes TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE classes ADD COLUMN skeleton TEXT;
    -- A class removed from the schema stays as a row: old revisions refer to it.
    ALTER TABLE classes ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotations ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE annotations ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotations ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotations ADD COLUMN z INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotation_revisions ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE annotation_revisions ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotation_revisions ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotation_revisions ADD COLUMN z INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE assignments ADD COLUMN reason TEXT;
    CREATE TABLE schema_versions (
        version INTEGER PRIMARY KEY,
        schema TEXT NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE TABLE user_settings (
        user_id INTEGER NOT NULL REFERENCES users(id),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE INDEX revisions_actor ON annotation_revisions(actor, id);
    "#,
    // 3: cached waveform overviews of audio items (an encrypted blob each).
    r#"
    ALTER TABLE items ADD COLUMN peaks_blob_id TEXT REFERENCES blobs(id);
    "#,
    // 4: packages between sites: what was sent and applied (replay and
    // sequence checks), which items went to whom, where merged labels came
    // from, annotators' audit segments as their own chains, and conflicts
    // kept for the admin instead of being overwritten.
    r#"
    CREATE TABLE packages (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('work','results','export')),
        direction TEXT NOT NULL CHECK (direction IN ('out','in')),
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        at INTEGER NOT NULL,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE package_items (
        package_id TEXT NOT NULL REFERENCES packages(id),
        item_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        PRIMARY KEY (package_id, item_id)
    );
    ALTER TABLE annotations ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX annotations_origin ON annotations(origin) WHERE origin IS NOT NULL;
    CREATE TABLE peer_audit (
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (chain, seq)
    );
    CREATE TRIGGER peer_audit_no_update BEFORE UPDATE ON peer_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER peer_audit_no_delete BEFORE DELETE ON peer_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TABLE peer_audit_heads (
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE TABLE package_conflicts (
        package_id TEXT NOT NULL,
        item_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (package_id, item_id)
    );
    "#,
    // 5: review and quality: comments (per item or per label, addressed to
    // one person or to the site), review decisions, gold standards and the
    // scores annotators earn on them.
    r#"
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        annotation_id INTEGER REFERENCES annotations(id),
        author INTEGER NOT NULL REFERENCES users(id),
        -- NULL: for the site (admins and reviewers); else one person
        to_user INTEGER REFERENCES users(id),
        body TEXT NOT NULL,
        at INTEGER NOT NULL,
        origin TEXT
    );
    CREATE INDEX comments_item ON comments(item_id);
    CREATE UNIQUE INDEX comments_origin ON comments(origin) WHERE origin IS NOT NULL;
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        annotator INTEGER NOT NULL REFERENCES users(id),
        reviewer INTEGER NOT NULL REFERENCES users(id),
        decision TEXT NOT NULL CHECK (decision IN ('approve','reject','correct')),
        comment_id INTEGER REFERENCES comments(id),
        at INTEGER NOT NULL
    );
    CREATE INDEX reviews_annotator ON reviews(annotator);
    ALTER TABLE items ADD COLUMN gold INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE gold_labels (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        class_id INTEGER NOT NULL,
        geometry TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE gold_scores (
        item_id INTEGER NOT NULL REFERENCES items(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        score REAL NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (item_id, user_id)
    );
    "#,
    // 6: predictions: labels imported from a model or another tool keep
    // their source and score until someone accepts or edits them.
    r#"
    ALTER TABLE annotations ADD COLUMN source TEXT;
    ALTER TABLE annotations ADD COLUMN score REAL;
    "#,
    // 7: privacy decisions: masks (text spans, image regions, audio
    // ranges) proposed by the detector or drawn by an admin, each accepted
    // or rejected; per item a version bumped by every decision and an
    // optional window (crop / excerpt / time range); region templates; and
    // which version and window each work package carried.
    r#"
    CREATE TABLE masks (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        spec TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('proposed','accepted','rejected')),
        source TEXT NOT NULL,
        created_by INTEGER NOT NULL REFERENCES users(id),
        at INTEGER NOT NULL,
        decided_by INTEGER REFERENCES users(id),
        decided_at INTEGER
    );
    CREATE INDEX masks_item ON masks(item_id);
    CREATE TABLE item_privacy (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        version INTEGER NOT NULL,
        window TEXT,
        at INTEGER NOT NULL
    );
    CREATE TABLE mask_templates (
        name TEXT PRIMARY KEY,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        regions TEXT NOT NULL,
        created_by INTEGER NOT NULL REFERENCES users(id),
        at INTEGER NOT NULL
    );
    ALTER TABLE package_items ADD COLUMN privacy_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE package_items ADD COLUMN window TEXT;
    "#,
    // 8: governance: consent and allowed purposes per item; incidents
    // annotators report (unmasked PII, wrong data, disturbing content); on
    // laptops, the site's revocation list.
    r#"
    ALTER TABLE items ADD COLUMN consent TEXT NOT NULL DEFAULT 'unknown'
        CHECK (consent IN ('unknown','granted','withdrawn'));
    ALTER TABLE items ADD COLUMN purposes TEXT NOT NULL DEFAULT '';
    CREATE INDEX items_subject ON items(subject_key) WHERE subject_key IS NOT NULL;
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL,
        reporter INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('pii','wrong_data','disturbing','other')),
        reason TEXT NOT NULL,
        at INTEGER NOT NULL,
        origin TEXT,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open','remasked','removed','released')),
        resolved_by INTEGER REFERENCES users(id),
        resolved_at INTEGER,
        note TEXT
    );
    CREATE UNIQUE INDEX incidents_origin ON incidents(origin) WHERE origin IS NOT NULL;
    CREATE TABLE revocations (
        fingerprint TEXT PRIMARY KEY,
        revoked_at INTEGER NOT NULL
    );
    "#,
    // 9: finding a file already imported (import skips duplicates).
    r#"
    CREATE INDEX items_sha256 ON items(sha256);
    "#,
    // 10: item statuses are a closed vocabulary (`model::ItemStatus`). A
    // laptop bundle used to copy the assignment state `assigned` into its
    // items' status, which no status filter matched; it means `new`.
    r#"
    UPDATE items SET status = 'new' WHERE status = 'assigned';
    "#,
    // 11: the signed membership log (crate::membership): members, roles,
    // removals and security settings, each entry signed by an admin.
    r#"
    CREATE TABLE membership_log (
        seq INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        value TEXT NOT NULL,
        at INTEGER NOT NULL,
        prev TEXT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    "#,
    // 12: chained signed heads (each names the head before it; NULL for
    // heads signed before), the audit tables' heads append-only like their
    // rows, and the latest head of another bundle's chain seen in its
    // packages (carried back so a bundle rolled back to an older copy is
    // caught by the next peer it meets).
    r#"
    ALTER TABLE audit_heads ADD COLUMN prev TEXT;
    ALTER TABLE peer_audit_heads ADD COLUMN prev TEXT;
    CREATE TRIGGER audit_heads_no_update BEFORE UPDATE ON audit_heads
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TRIGGER peer_audit_heads_no_update BEFORE UPDATE ON peer_audit_heads
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TRIGGER peer_audit_heads_no_delete BEFORE DELETE ON peer_audit_heads
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TABLE seen_heads (
        chain TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        prev TEXT,
        at INTEGER NOT NULL
    );
    "#,
];
