//! The signed membership log at work: every membership change and every
//! security setting change appends an admin-signed entry in the same
//! transaction as the change and its audit row; at open the log is
//! replayed and the `users`, `settings` and `revocations` rows are
//! compared with it (see [`crate::membership`]).

use serde_json::json;

use super::{CoreError, Event, Result, Session, Ungoverned};
use crate::crypto::PublicIdentity;
use crate::events::AuditAction;
use crate::membership::{self, Entry, Membership, SECURITY_SETTINGS};
use crate::model::{Role, now_ms};
use crate::store;

/// What [`Session::check_membership`] found at open.
pub(super) enum Found {
    /// No log: a laptop bundle, or a bundle made before the log existed
    /// and not yet opened by an admin. The rows are trusted as they are.
    NoLog,
    /// The log's state, and the rows that disagree with it.
    Log(Membership, Vec<String>),
}

/// The default of a project setting.
fn default_setting(key: &str) -> String {
    super::PROJECT_SETTINGS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The effective value of a security setting per the log.
fn signed_setting(state: &Membership, key: &str) -> String {
    state
        .settings
        .get(key)
        .cloned()
        .unwrap_or_else(|| default_setting(key))
}

/// Replays the log and lists the rows that disagree with it.
pub(super) fn check_membership(conn: &store::Db, project_id: &str) -> Result<Found> {
    let log = store::membership_log(conn)?;
    let tampered = |what: String| CoreError::MembershipTampered { what };
    if log.is_empty() {
        if store::audit_has_action(conn, AuditAction::MembershipFounded)?
            || store::audit_has_action(conn, AuditAction::MembershipAdopted)?
        {
            return Err(tampered(
                "the membership log was deleted (the audit trail records its founding)".into(),
            ));
        }
        return Ok(Found::NoLog);
    }
    let state = membership::replay(project_id, &log).map_err(|e| tampered(e.to_string()))?;
    let tip = state.tip.as_ref().map_or(0, |(seq, _)| *seq);
    let audited = store::audited_membership_seq(conn)?;
    if audited > tip {
        return Err(tampered(format!(
            "the membership log ends at entry {tip} but the audit trail records entry {audited}: it was cut back"
        )));
    }
    let mut diffs = Vec::new();
    let rows = store::list_users(conn)?;
    for (fpr, m) in &state.members {
        match rows.iter().find(|u| &u.fingerprint == fpr) {
            None => diffs.push(format!("member {fpr} ({}) has no row", m.name)),
            Some(u) if u.role != m.role || u.active != m.active || u.public_key != m.public_key => {
                diffs.push(format!(
                    "member {fpr}: the row says {} ({}), the signed log {} ({})",
                    u.role,
                    if u.active { "active" } else { "removed" },
                    m.role,
                    if m.active { "active" } else { "removed" },
                ))
            }
            Some(_) => {}
        }
    }
    for u in rows.iter().filter(|u| u.active) {
        if !state.members.contains_key(&u.fingerprint) {
            diffs.push(format!(
                "{} ({}) is an active {} row but was never added by an admin",
                u.fingerprint, u.name, u.role
            ));
        }
    }
    for key in SECURITY_SETTINGS {
        let row = store::setting(conn, key)?.unwrap_or_else(|| default_setting(key));
        let signed = signed_setting(&state, key);
        if row != signed {
            diffs.push(format!(
                "setting {key}: the row says '{row}', the signed log '{signed}'"
            ));
        }
    }
    for fpr in state.revoked.keys() {
        if store::revoked_at(conn, fpr)?.is_none() {
            diffs.push(format!("the revocation of {fpr} was deleted"));
        }
    }
    Ok(Found::Log(state, diffs))
}

/// Puts the rows back to the log's state.
fn restore(tx: &store::Tx<'_>, state: &Membership) -> store::Result<()> {
    for (fpr, m) in &state.members {
        store::restore_user(tx, fpr, &m.name, &m.public_key, m.role, m.active)?;
    }
    for u in store::list_users(tx)? {
        if u.active && !state.members.contains_key(&u.fingerprint) {
            store::disable_user(tx, &u.fingerprint)?;
        }
    }
    for key in SECURITY_SETTINGS {
        store::set_setting(tx, key, &signed_setting(state, key))?;
    }
    for (fpr, at) in &state.revoked {
        store::put_revocation(tx, fpr, *at)?;
    }
    Ok(())
}

impl Session {
    /// The founding admin's key, from the membership log's first entry
    /// (`None` for a bundle without a log: a laptop's, or one made before
    /// the log and not yet opened by an admin).
    pub fn founding_key(&self) -> Result<Option<PublicIdentity>> {
        let log = store::membership_log(self.project.store.conn())?;
        if log.is_empty() {
            return Ok(None);
        }
        let state = membership::replay(self.project_id(), &log).map_err(|e| {
            CoreError::MembershipTampered {
                what: e.to_string(),
            }
        })?;
        Ok(state.founding_key())
    }

    /// The entry that follows the log's last, signed by this session's
    /// user; `None` when the bundle keeps no log (a laptop's).
    pub(super) fn next_entry(
        &self,
        kind: &str,
        subject: &str,
        value: &str,
        at_ms: i64,
    ) -> Result<Option<Entry>> {
        let log = store::membership_log(self.project.store.conn())?;
        let Some(last) = log.last() else {
            return Ok(None);
        };
        let pid = self.project_id();
        let hash = membership::entry_hash(pid, last);
        Ok(Some(membership::sign_entry(
            pid,
            Some((last.seq, &hash)),
            &self.identity,
            kind,
            subject,
            value,
            at_ms,
        )))
    }

    /// At open, after the log was checked: an admin puts tampered rows
    /// back and records it; anyone else is refused until an admin has.
    /// Returns the user's role per the log.
    pub(super) fn settle_membership(&mut self, found: Found) -> Result<()> {
        let (state, diffs) = match found {
            Found::NoLog => return self.adopt_membership(),
            Found::Log(state, diffs) => (state, diffs),
        };
        let fpr = self.user.fingerprint.clone();
        match state.members.get(&fpr) {
            Some(m) if m.active => self.user.role = m.role,
            _ => return Err(CoreError::NotMember { fingerprint: fpr }),
        }
        if diffs.is_empty() {
            return Ok(());
        }
        if self.user.role != Role::Admin {
            return Err(CoreError::MembershipTampered {
                what: diffs.join("; "),
            });
        }
        let target = format!("project:{}", self.project_id());
        self.record_with(Ungoverned::SessionEvent, |tx| {
            restore(tx, &state)?;
            Ok((
                (),
                Event::new(
                    AuditAction::MembershipTampered,
                    target,
                    json!({"refused": diffs, "restored": true}),
                ),
            ))
        })?;
        self.user = store::user_by_fingerprint(self.project.store.conn(), &fpr)?
            .ok_or_else(|| CoreError::NotFound(format!("user {fpr}")))?;
        Ok(())
    }

    /// A site bundle made before the log existed, opened by an admin:
    /// the log is built from the current rows and signed by this admin.
    /// Trust in the state before this point rests on the rows as found.
    fn adopt_membership(&mut self) -> Result<()> {
        let conn = self.project.store.conn();
        if self.user.role != Role::Admin || store::meta(conn, "origin_project_id")?.is_some() {
            return Ok(());
        }
        let pid = self.project_id().to_string();
        let me = self.identity.public().to_key_string();
        let now = now_ms();
        let mut plan: Vec<(&str, String, String, i64)> = vec![(
            membership::KIND_ADD,
            me.clone(),
            membership::add_value(Role::Admin, &self.user.name),
            now,
        )];
        let revoked = store::revoked_members(conn)?;
        for u in store::list_users(conn)? {
            if u.fingerprint == self.user.fingerprint {
                continue;
            }
            let removed_at = revoked
                .iter()
                .find(|(f, _)| *f == u.fingerprint)
                .map(|r| r.1);
            if !u.active && removed_at.is_none() {
                continue;
            }
            plan.push((
                membership::KIND_ADD,
                u.public_key.clone(),
                membership::add_value(u.role, &u.name),
                now,
            ));
            if !u.active {
                plan.push((
                    membership::KIND_REMOVE,
                    u.public_key.clone(),
                    String::new(),
                    removed_at.unwrap_or(now),
                ));
            }
        }
        for key in SECURITY_SETTINGS {
            if let Some(value) = store::setting(conn, key)? {
                plan.push((membership::KIND_SETTING, key.to_string(), value, now));
            }
        }
        let mut entries: Vec<Entry> = Vec::new();
        for (kind, subject, value, at) in plan {
            let tip = entries
                .last()
                .map(|e| (e.seq, membership::entry_hash(&pid, e)));
            entries.push(membership::sign_entry(
                &pid,
                tip.as_ref().map(|(s, h)| (*s, h.as_str())),
                &self.identity,
                kind,
                &subject,
                &value,
                at,
            ));
        }
        let n = entries.len() as i64;
        let target = format!("project:{pid}");
        self.record_with(Ungoverned::SessionEvent, |tx| {
            for e in &entries {
                store::append_membership(tx, e)?;
            }
            Ok((
                (),
                Event::new(
                    AuditAction::MembershipAdopted,
                    target,
                    json!({"entries": n, "membership_seq": n, "founder": me}),
                ),
            ))
        })
    }
}
