//! The tamper-evident audit trail: each row's hash covers the previous row's
//! hash, so editing, deleting or reordering rows breaks the chain; signed
//! heads (kept in their own table, outside the rows) make truncation of the
//! tail detectable too. Storage lives in [`crate::store`]; this module holds
//! the hashing and the verification rules.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::model::AuditEntry;

/// The hash the first row points back to: bound to the project so a chain
/// cannot be transplanted into another project.
pub fn genesis_hash(project_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("sealtag audit genesis v1\0{project_id}").as_bytes(),
    ))
}

/// SHA-256 over a length-prefixed encoding of every field but `hash`:
/// unambiguous, so no two different rows encode the same.
pub fn entry_hash(
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"sealtag audit row v1");
    for field in [
        seq.to_string().as_str(),
        &at_ms.to_string(),
        actor,
        action,
        target,
        details,
        prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The message a user signs to vouch for the chain up to `seq`.
pub fn head_message(project_id: &str, seq: i64, hash: &str) -> Vec<u8> {
    format!("sealtag audit head v1\0{project_id}\0{seq}\0{hash}").into_bytes()
}

/// A signed statement "the chain had `seq` rows ending in `hash`".
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    pub signer: String,
    pub signature: String,
    pub at_ms: i64,
}

/// What `audit verify` found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VerifyReport {
    pub rows: i64,
    pub head_hash: String,
    pub signed_heads: usize,
    /// The first problem, if any; `None` means the chain is intact.
    pub problem: Option<ChainProblem>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChainProblem {
    /// Sequence number of the first row that is wrong (or expected but missing).
    pub seq: i64,
    pub what: String,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks a whole chain (rows in storage order) against its signed heads.
/// `verify_signature(signer_fingerprint, message, signature_hex)` answers
/// whether the signer is an enrolled key and the signature is valid.
pub fn verify_chain(
    project_id: &str,
    rows: &[AuditEntry],
    heads: &[SignedHead],
    verify_signature: &dyn Fn(&str, &[u8], &str) -> bool,
) -> VerifyReport {
    let mut check = ChainCheck::new(project_id, heads);
    for row in rows {
        check.push(row);
    }
    check.finish(heads, verify_signature)
}

/// One audit row's fields, borrowed.
pub struct RowRef<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// The chain check one row at a time, so a trail of millions of rows is
/// verified while it streams out of the database, never held whole.
pub struct ChainCheck {
    project_id: String,
    prev: String,
    last_seq: i64,
    problem: Option<ChainProblem>,
    /// Hashes of the rows the signed heads point at, as they go past.
    at_heads: HashMap<i64, String>,
}

impl ChainCheck {
    pub fn new(project_id: &str, heads: &[SignedHead]) -> Self {
        ChainCheck {
            project_id: project_id.to_string(),
            prev: genesis_hash(project_id),
            last_seq: 0,
            problem: None,
            at_heads: heads.iter().map(|h| (h.seq, String::new())).collect(),
        }
    }

    /// Checks the next row; `false` once a problem was found. Rows after
    /// a problem only count (the report names the last row there is).
    pub fn push(&mut self, row: &AuditEntry) -> bool {
        self.push_row(&RowRef {
            seq: row.seq,
            at_ms: row.at_ms,
            actor: &row.actor,
            action: &row.action,
            target: &row.target,
            details: &row.details,
            prev_hash: &row.prev_hash,
            hash: &row.hash,
        })
    }

    /// [`Self::push`] on borrowed fields (straight from a database row,
    /// with no copies).
    pub fn push_row(&mut self, row: &RowRef<'_>) -> bool {
        let expected_seq = self.last_seq + 1;
        self.last_seq = row.seq;
        if self.problem.is_some() {
            return false;
        }
        if row.seq != expected_seq {
            self.problem = Some(ChainProblem {
                seq: expected_seq,
                what: format!(
                    "row {expected_seq} is missing or out of order (found row {} in its place)",
                    row.seq
                ),
            });
            return false;
        }
        if row.prev_hash != self.prev {
            self.problem = Some(ChainProblem {
                seq: row.seq,
                what: format!(
                    "row {} does not link to the row before it (a row was removed, inserted or reordered)",
                    row.seq
                ),
            });
            return false;
        }
        let computed = entry_hash(
            row.seq,
            row.at_ms,
            row.actor,
            row.action,
            row.target,
            row.details,
            row.prev_hash,
        );
        if computed != row.hash {
            self.problem = Some(ChainProblem {
                seq: row.seq,
                what: format!("row {} was modified after it was written", row.seq),
            });
            return false;
        }
        if let Some(h) = self.at_heads.get_mut(&row.seq) {
            row.hash.clone_into(h);
        }
        row.hash.clone_into(&mut self.prev);
        true
    }

    /// Checks the signed heads against the rows seen and reports.
    pub fn finish(
        self,
        heads: &[SignedHead],
        verify_signature: &dyn Fn(&str, &[u8], &str) -> bool,
    ) -> VerifyReport {
        let ChainCheck {
            project_id,
            prev,
            last_seq,
            mut problem,
            at_heads,
        } = self;
        if problem.is_none() {
            for head in heads {
                let msg = head_message(&project_id, head.seq, &head.hash);
                if !verify_signature(&head.signer, &msg, &head.signature) {
                    problem = Some(ChainProblem {
                        seq: head.seq,
                        what: format!(
                            "the signed head at row {} has an invalid signature or an unknown signer {}",
                            head.seq, head.signer
                        ),
                    });
                    break;
                }
                if head.seq > last_seq {
                    problem = Some(ChainProblem {
                        seq: last_seq + 1,
                        what: format!(
                            "the trail was truncated: {} signed that it had {} rows, only {last_seq} remain",
                            head.signer, head.seq
                        ),
                    });
                    break;
                }
                if at_heads.get(&head.seq) != Some(&head.hash) {
                    problem = Some(ChainProblem {
                        seq: head.seq,
                        what: format!(
                            "row {} differs from what {} signed (the trail was rewritten)",
                            head.seq, head.signer
                        ),
                    });
                    break;
                }
            }
        }
        VerifyReport {
            rows: last_seq,
            head_hash: prev,
            signed_heads: heads.len(),
            problem,
        }
    }
}
