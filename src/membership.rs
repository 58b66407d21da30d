//! The signed membership log: who is a member, with which role, who was
//! removed (and so revoked) and when, and the security-relevant project
//! settings. Each entry is signed by an admin, chained to the one before,
//! and the first is the founding admin adding themself. Replaying the log
//! gives the effective state; the `users`, `settings` and `revocations`
//! rows are only a copy of it, and a row that disagrees was changed
//! outside the app (by an insider holding a key slot, say).
//!
//! This module is pure: the store reads and writes the rows, the
//! controller decides what to do with a disagreement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{PublicIdentity, UnlockedIdentity, sha256_hex};
use crate::model::Role;

/// Project settings that change what leaves the site or who sees what:
/// each change is a signed entry, and the row is checked against the log
/// at every open. The others (guidelines, anomaly thresholds, PII names)
/// are plain rows.
pub const SECURITY_SETTINGS: &[&str] = &[
    "idle_lock_minutes",
    "watermark",
    "quality_gate",
    "package_names",
    "package_fields",
    "pii_region",
    "mask_pii",
    "mask_classes",
    "mask_style",
    "mask_region_style",
    "mask_audio_style",
    "retention_days",
    "privacy_screen",
];

/// What an entry does.
pub const KIND_ADD: &str = "add";
pub const KIND_REMOVE: &str = "remove";
pub const KIND_SETTING: &str = "setting";

/// One entry of the log. `subject` is a member's public key string (add,
/// remove) or a setting key; `value` the role and name (add, as JSON) or
/// the setting's value; `signer` the signing admin's public key string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub kind: String,
    pub subject: String,
    pub value: String,
    pub at_ms: i64,
    /// The hash of the previous entry ("" for the first).
    pub prev: String,
    pub signer: String,
    /// Hex Ed25519 signature over [`message`].
    pub signature: String,
}

#[derive(Serialize)]
struct Signed<'a> {
    domain: &'static str,
    project_id: &'a str,
    seq: i64,
    kind: &'a str,
    subject: &'a str,
    value: &'a str,
    at_ms: i64,
    prev: &'a str,
    signer: &'a str,
}

/// The bytes an entry's signature covers: every field but the signature,
/// and the project id, so an entry cannot be moved to another project.
pub fn message(project_id: &str, e: &Entry) -> Vec<u8> {
    serde_json::to_vec(&Signed {
        domain: "sealtag-membership-v1",
        project_id,
        seq: e.seq,
        kind: &e.kind,
        subject: &e.subject,
        value: &e.value,
        at_ms: e.at_ms,
        prev: &e.prev,
        signer: &e.signer,
    })
    .unwrap_or_default()
}

/// The hash the next entry's `prev` names.
pub fn entry_hash(project_id: &str, e: &Entry) -> String {
    let mut bytes = message(project_id, e);
    bytes.extend_from_slice(e.signature.as_bytes());
    sha256_hex(&bytes)
}

/// The value of an add entry.
#[derive(Serialize, Deserialize)]
struct AddValue {
    role: Role,
    name: String,
}

/// Makes and signs the entry that follows `tip` (`None`: the first).
pub fn sign_entry(
    project_id: &str,
    tip: Option<(i64, &str)>,
    signer: &UnlockedIdentity,
    kind: &str,
    subject: &str,
    value: &str,
    at_ms: i64,
) -> Entry {
    let (seq, prev) = match tip {
        Some((seq, hash)) => (seq + 1, hash.to_string()),
        None => (1, String::new()),
    };
    let mut e = Entry {
        seq,
        kind: kind.into(),
        subject: subject.into(),
        value: value.into(),
        at_ms,
        prev,
        signer: signer.public().to_key_string(),
        signature: String::new(),
    };
    e.signature = hex::encode(signer.sign(&message(project_id, &e)));
    e
}

/// The value of an add entry for `role` and `name`.
pub fn add_value(role: Role, name: &str) -> String {
    serde_json::to_string(&AddValue {
        role,
        name: name.to_string(),
    })
    .unwrap_or_default()
}

/// A member as the log says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub public_key: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// The state the log adds up to.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    /// By fingerprint.
    pub members: BTreeMap<String, Member>,
    /// Fingerprint → when removed (the last removal).
    pub revoked: BTreeMap<String, i64>,
    /// Security settings set by an entry (absent: the default).
    pub settings: BTreeMap<String, String>,
    /// The founding admin's public key string (entry 1's signer).
    pub founder: String,
    /// (seq, hash) of the last entry.
    pub tip: Option<(i64, String)>,
}

impl Membership {
    /// The founding admin's key, from the log's first entry.
    pub fn founding_key(&self) -> Option<PublicIdentity> {
        PublicIdentity::parse(&self.founder).ok()
    }

    pub fn is_admin(&self, fingerprint: &str) -> bool {
        self.members
            .get(fingerprint)
            .is_some_and(|m| m.active && m.role == Role::Admin)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogError {
    #[error(
        "membership log entry {seq} is invalid: {why}. The log was changed outside Sealtag; restore the bundle from a backup"
    )]
    Invalid { seq: i64, why: String },
}

/// Replays the log, checking each entry's chain link and signature and
/// that its signer was an admin when it was made.
pub fn replay(project_id: &str, entries: &[Entry]) -> Result<Membership, LogError> {
    let mut state = Membership::default();
    let mut prev = String::new();
    for (i, e) in entries.iter().enumerate() {
        let bad = |why: &str| LogError::Invalid {
            seq: e.seq,
            why: why.to_string(),
        };
        if e.seq != i as i64 + 1 {
            return Err(bad("entries are missing or out of order"));
        }
        if e.prev != prev {
            return Err(bad("it does not follow the entry before it"));
        }
        let signer = PublicIdentity::parse(&e.signer).map_err(|_| bad("unreadable signer key"))?;
        let sig = hex::decode(&e.signature).map_err(|_| bad("unreadable signature"))?;
        if !signer.verify(&message(project_id, e), &sig) {
            return Err(bad("its signature does not verify"));
        }
        let signer_fpr = signer.fingerprint();
        if i == 0 {
            if e.kind != KIND_ADD || e.subject != e.signer {
                return Err(bad(
                    "the first entry must be the founding admin adding themself",
                ));
            }
            state.founder = e.signer.clone();
        } else if !state.is_admin(&signer_fpr) {
            return Err(bad("its signer was not an admin when it was made"));
        }
        match e.kind.as_str() {
            KIND_ADD => {
                let key =
                    PublicIdentity::parse(&e.subject).map_err(|_| bad("unreadable member key"))?;
                let v: AddValue =
                    serde_json::from_str(&e.value).map_err(|_| bad("unreadable role"))?;
                if i == 0 && v.role != Role::Admin {
                    return Err(bad("the founding member must be an admin"));
                }
                let fpr = key.fingerprint();
                state.revoked.remove(&fpr);
                state.members.insert(
                    fpr,
                    Member {
                        public_key: e.subject.clone(),
                        name: v.name,
                        role: v.role,
                        active: true,
                    },
                );
            }
            KIND_REMOVE => {
                let key =
                    PublicIdentity::parse(&e.subject).map_err(|_| bad("unreadable member key"))?;
                let fpr = key.fingerprint();
                let Some(m) = state.members.get_mut(&fpr) else {
                    return Err(bad("it removes someone who is not a member"));
                };
                m.active = false;
                state.revoked.insert(fpr, e.at_ms);
                if !state
                    .members
                    .values()
                    .any(|m| m.active && m.role == Role::Admin)
                {
                    return Err(bad("it removes the last admin"));
                }
            }
            KIND_SETTING => {
                if !SECURITY_SETTINGS.contains(&e.subject.as_str()) {
                    return Err(bad("it names a setting the log does not hold"));
                }
                state.settings.insert(e.subject.clone(), e.value.clone());
            }
            _ => return Err(bad("unknown kind")),
        }
        prev = entry_hash(project_id, e);
        state.tip = Some((e.seq, prev.clone()));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(
        pid: &str,
        admin: &UnlockedIdentity,
        rest: &[(&UnlockedIdentity, &str, String, String)],
    ) -> Vec<Entry> {
        let key = admin.public().to_key_string();
        let mut out = vec![sign_entry(
            pid,
            None,
            admin,
            KIND_ADD,
            &key,
            &add_value(Role::Admin, "a"),
            1,
        )];
        for (signer, kind, subject, value) in rest {
            let last = out.last().unwrap();
            let hash = entry_hash(pid, last);
            out.push(sign_entry(
                pid,
                Some((last.seq, &hash)),
                signer,
                kind,
                subject,
                value,
                2,
            ));
        }
        out
    }

    #[test]
    fn replay_computes_roles_and_refuses_forgery() {
        let admin = UnlockedIdentity::generate("a");
        let rev = UnlockedIdentity::generate("r");
        let rk = rev.public().to_key_string();
        let log = chain(
            "p",
            &admin,
            &[(&admin, KIND_ADD, rk.clone(), add_value(Role::Reviewer, "r"))],
        );
        let state = replay("p", &log).unwrap();
        assert_eq!(
            state.members[&rev.public().fingerprint()].role,
            Role::Reviewer
        );
        assert_eq!(
            state.founding_key().unwrap().to_key_string(),
            admin.public().to_key_string()
        );
        // A reviewer cannot sign themself up to admin.
        let mut forged = log.clone();
        let last = forged.last().unwrap().clone();
        let hash = entry_hash("p", &last);
        forged.push(sign_entry(
            "p",
            Some((2, &hash)),
            &rev,
            KIND_ADD,
            &rk,
            &add_value(Role::Admin, "r"),
            3,
        ));
        assert!(replay("p", &forged).is_err());
        // An edited entry no longer verifies; nor does the log in another project.
        let mut edited = log.clone();
        edited[1].value = add_value(Role::Admin, "r");
        assert!(replay("p", &edited).is_err());
        assert!(replay("q", &log).is_err());
    }
}
