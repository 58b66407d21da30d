//! The door every write of a session goes through: the permission check,
//! then one transaction in which the change runs and the audit rows it
//! describes are written, committed together.
//!
//! [`Allowed`] is the proof that the check passed, and only this module's
//! constructors make one: [`Session::allow`] and [`Session::allow_item`]
//! when the permission table says yes, and [`Allowed::ungoverned`] (used
//! by [`Session::record`] / [`Session::record_with`]) for the few writes
//! no permission governs, each naming why ([`Ungoverned`]).
//! [`Session::commit`] takes the proof, so a change cannot skip its check,
//! and writes the rows the change returns, so it cannot forget them.
//! Refusals are audited here too.

use serde_json::json;

use super::{CoreError, Result, Session};
use crate::events::AuditAction;
use crate::model::ItemSummary;
use crate::permissions::{self, Action, Denied};
use crate::store::{self, StoreError};

/// Proof that a write may happen: the permission table allowed the action
/// (or, for an [`Ungoverned`] write, none governs it). Only this module
/// can make one (its field is private here). `Copy`: one check covers every write of the action it
/// allowed (a package's ledger reservation, its audit row and the ledger
/// update once the file is written, say).
#[derive(Clone, Copy)]
pub(crate) struct Allowed(());

impl Allowed {
    /// The proof for a write no permission governs, naming why.
    pub(super) fn ungoverned(_why: Ungoverned) -> Allowed {
        Allowed(())
    }
}

/// Why a write needs no permission check; the reason is named at the call.
#[derive(Clone, Copy, Debug)]
pub(super) enum Ungoverned {
    /// Something that happened to the session itself: opening it (with the
    /// failed unlocks noted since), the clock check at open, the idle lock,
    /// signing the chain head, closing it.
    SessionEvent,
    /// The row of a refusal (permission denied, a package expired): a
    /// refused request leaves its trace although it was not allowed.
    Refusal,
    /// A member's own preference (shortcuts, say): membership, checked
    /// when the session opened, is all it needs.
    OwnSetting,
    /// Erasing a laptop bundle: whoever holds it may destroy their copy
    /// (after expiry it is all that is left to do); a site project cannot
    /// be erased this way.
    OwnBundle,
}

/// One audit row a change writes: what, on what, and details that name
/// ids and positions, never content.
pub(crate) struct Event {
    action: AuditAction,
    target: String,
    details: String,
}

impl Event {
    pub fn new(
        action: AuditAction,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Event {
        Event::with_text(action, target, details.to_string())
    }

    /// An event whose details are already serialized (a report struct
    /// keeps its field order, which a `serde_json::Value` would sort).
    pub fn with_text(action: AuditAction, target: impl Into<String>, details: String) -> Event {
        Event {
            action,
            target: target.into(),
            details,
        }
    }

    fn append(&self, tx: &store::Tx<'_>, pid: &str, actor: &str) -> store::Result<i64> {
        store::append_audit(tx, pid, actor, self.action, &self.target, &self.details)
    }
}

/// The audit rows a change writes, in order: one [`Event`] (most changes),
/// `Option<Event>` (a change that records nothing when it changed
/// nothing), or `Vec<Event>` (a row per item, say).
pub(crate) trait AuditRows {
    fn into_events(self) -> Vec<Event>;
}

impl AuditRows for Event {
    fn into_events(self) -> Vec<Event> {
        vec![self]
    }
}

impl AuditRows for Option<Event> {
    fn into_events(self) -> Vec<Event> {
        self.into_iter().collect()
    }
}

impl AuditRows for Vec<Event> {
    fn into_events(self) -> Vec<Event> {
        self
    }
}

/// What a change run by [`Session::commit`] gives back: its result and
/// the audit rows that describe it.
type Change<T, R> = std::result::Result<(T, R), StoreError>;

impl Session {
    /// The door for a user's change: the permission check (a refusal is
    /// audited and returned), then [`Session::commit`].
    pub(super) fn act<T, R: AuditRows>(
        &mut self,
        permission: Action,
        target: Option<String>,
        change: impl FnOnce(&store::Tx<'_>) -> Change<T, R>,
    ) -> Result<T> {
        let allowed = self.allow(permission, target)?;
        self.commit(allowed, change)
    }

    /// The permission check of [`Session::act`] on its own, for a change
    /// that validates its input between the check and the write (so a
    /// refused user is told "permission denied", not what was wrong with
    /// their input): the returned proof is what [`Session::commit`] needs.
    pub(super) fn allow(&mut self, permission: Action, target: Option<String>) -> Result<Allowed> {
        self.require(permission, target)?;
        Ok(Allowed(()))
    }

    /// [`Session::allow`] for one item, with the assignment scope of
    /// annotators and reviewers (see [`Session::require_item`]).
    pub(super) fn allow_item(
        &mut self,
        action: Action,
        item_id: i64,
    ) -> Result<(Allowed, ItemSummary)> {
        let item = self.require_item(action, item_id)?;
        Ok((Allowed(()), item))
    }

    /// The transaction of [`Session::act`]: `change` and the audit rows it
    /// returns, committed together, given the proof that the check passed.
    pub(super) fn commit<T, R: AuditRows>(
        &mut self,
        _allowed: Allowed,
        change: impl FnOnce(&store::Tx<'_>) -> Change<T, R>,
    ) -> Result<T> {
        Ok(self.write(change)?.0)
    }

    /// [`Session::commit`] of a change with one audit row, also returning
    /// that row's sequence number (for the status bar).
    pub(super) fn commit_seq<T>(
        &mut self,
        _allowed: Allowed,
        change: impl FnOnce(&store::Tx<'_>) -> Change<T, Event>,
    ) -> Result<(T, i64)> {
        let (out, seq) = self.write(change)?;
        let seq = seq.ok_or_else(|| CoreError::Invalid("the change wrote no audit row".into()))?;
        Ok((out, seq))
    }

    /// Writes one row for something no permission governs; `why` says
    /// which kind of thing it is.
    pub(super) fn record(&mut self, why: Ungoverned, event: Event) -> Result<()> {
        self.record_with(why, |_| Ok(((), event)))
    }

    /// [`Session::commit`] for a write no permission governs (see
    /// [`Ungoverned`]): the session's own bookkeeping with its rows.
    pub(super) fn record_with<T, R: AuditRows>(
        &mut self,
        why: Ungoverned,
        change: impl FnOnce(&store::Tx<'_>) -> Change<T, R>,
    ) -> Result<T> {
        self.commit(Allowed::ungoverned(why), change)
    }

    /// Runs `change`, appends the audit rows it returns, and commits both;
    /// returns the change's result and the last row's sequence number.
    fn write<T, R: AuditRows>(
        &mut self,
        change: impl FnOnce(&store::Tx<'_>) -> Change<T, R>,
    ) -> Result<(T, Option<i64>)> {
        let pid = self.project.project_id().to_string();
        let actor = self.user.fingerprint.clone();
        let tx = self.project.store.transaction()?;
        let (out, rows) = change(&tx)?;
        let mut last = None;
        for event in rows.into_events() {
            last = Some(event.append(&tx, &pid, &actor)?);
        }
        tx.commit()?;
        Ok((out, last))
    }

    /// Checks the permission table; a refusal is audited, then returned.
    pub(super) fn require(&mut self, action: Action, target: Option<String>) -> Result<()> {
        match permissions::check(self.user.role, action) {
            Ok(()) => self.check_expiry(action),
            Err(mut denied) => {
                denied.target = target;
                self.audit_denied(&denied)?;
                Err(denied.into())
            }
        }
    }

    fn audit_denied(&mut self, denied: &Denied) -> Result<()> {
        let details =
            json!({"role": denied.role, "action": denied.action, "target": denied.target});
        self.record(
            Ungoverned::Refusal,
            Event::new(AuditAction::PermissionDenied, "", details),
        )
    }

    /// Permission for an action on one item, including the assignment scope
    /// of annotators and reviewers.
    pub(super) fn require_item(&mut self, action: Action, item_id: i64) -> Result<ItemSummary> {
        self.require(action, Some(format!("item {item_id}")))?;
        let summary = store::item_summary_by_id(self.project.store.conn(), item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("item {item_id}")))?;
        if permissions::scoped_to_assignments(self.user.role)
            && !store::is_assigned(self.project.store.conn(), item_id, self.user.id)?
        {
            let denied = Denied {
                role: self.user.role,
                action,
                target: Some(format!("item {item_id} is not assigned to you")),
            };
            self.audit_denied(&denied)?;
            return Err(denied.into());
        }
        Ok(summary)
    }
}
