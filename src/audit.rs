//! The tamper-evident audit trail: each row's hash covers the previous row's
//! hash, so editing, deleting or reordering rows breaks the chain; signed
//! heads (kept in their own table, outside the rows) make truncation of the
//! tail detectable too. Storage lives in [`crate::store`]; this module holds
//! the hashing and the verification rules.
//!
//! Heads are chained (v2): each head's signed message names the head before
//! it, so removing or replacing a head breaks the chain of heads. A head
//! only proves what a key signed, not that nobody rebuilt the trail and its
//! heads from scratch: that is caught by copies of a head held elsewhere,
//! an exported [`Anchor`] kept offline, or a peer's record of this chain
//! (the `rollback` check on packages). Heads written before chaining (v1,
//! no `prev`) still verify, but only as the start of the list: once a v2
//! head has been signed, a v1 head after it is refused.

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

/// The message a user signed to vouch for the chain up to `seq` before
/// heads were chained (v1); still accepted at the start of the head list.
pub fn head_message(project_id: &str, seq: i64, hash: &str) -> Vec<u8> {
    format!("sealtag audit head v1\0{project_id}\0{seq}\0{hash}").into_bytes()
}

/// The message a user signs to vouch for the chain up to `seq`, linked to
/// the head before it (`prev`, from [`head_link`] or [`heads_genesis`]).
pub fn head_message_v2(project_id: &str, seq: i64, hash: &str, prev: &str) -> Vec<u8> {
    format!("sealtag audit head v2\0{project_id}\0{seq}\0{hash}\0{prev}").into_bytes()
}

/// What the first chained head of a project links back to.
pub fn heads_genesis(project_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("sealtag audit heads genesis v1\0{project_id}").as_bytes(),
    ))
}

/// What the next head links to: a digest of the whole previous head,
/// signature included, so it cannot be swapped for another signing.
pub fn head_link(head: &SignedHead) -> String {
    let mut h = Sha256::new();
    h.update(b"sealtag audit head link v1");
    for field in [
        head.seq.to_string().as_str(),
        &head.hash,
        &head.signer,
        &head.signature,
        head.prev.as_deref().unwrap_or(""),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A signed statement "the chain had `seq` rows ending in `hash`" (and,
/// from v2 on, "after the head `prev`").
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    pub signer: String,
    pub signature: String,
    pub at_ms: i64,
    /// [`head_link`] of the head before (or [`heads_genesis`]); `None` for
    /// a v1 head signed before heads were chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl SignedHead {
    /// The message this head's signature covers.
    pub fn message(&self, project_id: &str) -> Vec<u8> {
        match &self.prev {
            Some(prev) => head_message_v2(project_id, self.seq, &self.hash, prev),
            None => head_message(project_id, self.seq, &self.hash),
        }
    }
}

/// An exported signed head, kept offline (`sealtag audit head --out`):
/// `audit verify --anchor` fails unless the trail still extends it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Anchor {
    pub format: String,
    pub project_id: String,
    pub head: SignedHead,
    /// The signer's public key, so the anchor checks on its own.
    pub public_key: String,
}

/// The `format` an [`Anchor`] file carries.
pub const ANCHOR_FORMAT: &str = "sealtag-audit-anchor-v1";

/// Rows after the last signed head: written, but vouched for by nobody
/// yet (a session still open, or one that ended without closing).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UnsignedTail {
    pub rows: i64,
    pub first_seq: i64,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
}

/// What `audit verify` found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VerifyReport {
    pub rows: i64,
    pub head_hash: String,
    pub signed_heads: usize,
    /// Heads signed before heads were chained (v1).
    pub legacy_heads: usize,
    /// Anchors the trail was checked against.
    pub anchors: usize,
    /// Rows after the last signed head; `None` when every row is signed.
    pub unsigned_tail: Option<UnsignedTail>,
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
    let mut check = ChainCheck::new(project_id, heads, &[]);
    for row in rows {
        check.push(row);
    }
    check.finish(heads, &[], verify_signature)
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
    /// Hashes of the rows the signed heads and anchors point at, as they
    /// go past.
    at_heads: HashMap<i64, String>,
    /// The row the last signed head covers.
    signed_to: i64,
    tail: Option<UnsignedTail>,
}

impl ChainCheck {
    pub fn new(project_id: &str, heads: &[SignedHead], anchors: &[Anchor]) -> Self {
        ChainCheck {
            project_id: project_id.to_string(),
            prev: genesis_hash(project_id),
            last_seq: 0,
            problem: None,
            at_heads: heads
                .iter()
                .map(|h| h.seq)
                .chain(anchors.iter().map(|a| a.head.seq))
                .map(|seq| (seq, String::new()))
                .collect(),
            signed_to: heads.last().map_or(0, |h| h.seq),
            tail: None,
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
        if row.seq > self.signed_to {
            let tail = self.tail.get_or_insert(UnsignedTail {
                rows: 0,
                first_seq: row.seq,
                first_at_ms: row.at_ms,
                last_at_ms: row.at_ms,
            });
            tail.rows += 1;
            tail.last_at_ms = row.at_ms;
        }
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

    /// Checks the signed heads (each signed, each linked to the one
    /// before, each matching its row) and the anchors (the trail still
    /// holds the row each one vouched for) against the rows seen, and
    /// reports. Anchors' own signatures are checked by the caller.
    pub fn finish(
        self,
        heads: &[SignedHead],
        anchors: &[Anchor],
        verify_signature: &dyn Fn(&str, &[u8], &str) -> bool,
    ) -> VerifyReport {
        let ChainCheck {
            project_id,
            prev,
            last_seq,
            mut problem,
            at_heads,
            tail,
            ..
        } = self;
        let mut before: Option<&SignedHead> = None;
        for head in heads {
            if problem.is_some() {
                break;
            }
            problem = check_head(
                &project_id,
                head,
                before,
                last_seq,
                &at_heads,
                verify_signature,
            );
            before = Some(head);
        }
        for anchor in anchors {
            if problem.is_some() {
                break;
            }
            let a = &anchor.head;
            problem = if anchor.project_id != project_id {
                Some(ChainProblem {
                    seq: a.seq,
                    what: format!(
                        "the anchor belongs to project {}, not {project_id}",
                        anchor.project_id
                    ),
                })
            } else if a.seq > last_seq {
                Some(ChainProblem {
                    seq: last_seq + 1,
                    what: format!(
                        "the trail does not extend the anchor: {} signed {} rows, only {last_seq} remain (truncated or restored from an older copy)",
                        a.signer, a.seq
                    ),
                })
            } else if at_heads.get(&a.seq) != Some(&a.hash) {
                Some(ChainProblem {
                    seq: a.seq,
                    what: format!(
                        "the trail does not extend the anchor: row {} differs from what {} signed (the trail was rewritten)",
                        a.seq, a.signer
                    ),
                })
            } else {
                None
            };
        }
        VerifyReport {
            rows: last_seq,
            head_hash: prev,
            signed_heads: heads.len(),
            legacy_heads: heads.iter().filter(|h| h.prev.is_none()).count(),
            anchors: anchors.len(),
            unsigned_tail: tail,
            problem,
        }
    }
}

/// One head in order: signed by an enrolled key, linked to `before`,
/// covering a row that is still there with the hash it signed.
fn check_head(
    project_id: &str,
    head: &SignedHead,
    before: Option<&SignedHead>,
    last_seq: i64,
    at_heads: &HashMap<i64, String>,
    verify_signature: &dyn Fn(&str, &[u8], &str) -> bool,
) -> Option<ChainProblem> {
    let problem = |seq: i64, what: String| Some(ChainProblem { seq, what });
    if !verify_signature(&head.signer, &head.message(project_id), &head.signature) {
        return problem(
            head.seq,
            format!(
                "the signed head at row {} has an invalid signature or an unknown signer {}",
                head.seq, head.signer
            ),
        );
    }
    match (&head.prev, before) {
        (Some(link), _) => {
            let expected = before.map_or_else(|| heads_genesis(project_id), head_link);
            if *link != expected {
                return problem(
                    head.seq,
                    format!(
                        "the signed head at row {} does not follow the head before it (a signed head was removed or replaced)",
                        head.seq
                    ),
                );
            }
        }
        (None, Some(b)) if b.prev.is_some() => {
            return problem(
                head.seq,
                format!(
                    "the signed head at row {} is an unchained (v1) head after chained ones (a head was inserted)",
                    head.seq
                ),
            );
        }
        (None, _) => {}
    }
    if let Some(b) = before
        && head.seq < b.seq
    {
        return problem(
            head.seq,
            format!(
                "the signed head at row {} goes back behind the head before it (row {})",
                head.seq, b.seq
            ),
        );
    }
    if head.seq > last_seq {
        return problem(
            last_seq + 1,
            format!(
                "the trail was truncated: {} signed that it had {} rows, only {last_seq} remain",
                head.signer, head.seq
            ),
        );
    }
    if at_heads.get(&head.seq) != Some(&head.hash) {
        return problem(
            head.seq,
            format!(
                "row {} differs from what {} signed (the trail was rewritten)",
                head.seq, head.signer
            ),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: i64, prev: Option<String>) -> SignedHead {
        SignedHead {
            seq,
            hash: format!("h{seq}"),
            signer: "s".into(),
            signature: format!("sig{seq}"),
            at_ms: seq,
            prev,
        }
    }

    fn check(heads: &[SignedHead]) -> Option<ChainProblem> {
        let mut at = HashMap::new();
        for h in heads {
            at.insert(h.seq, h.hash.clone());
        }
        let mut before = None;
        for h in heads {
            if let Some(p) = check_head("p", h, before, 100, &at, &|_, _, _| true) {
                return Some(p);
            }
            before = Some(h);
        }
        None
    }

    #[test]
    fn v1_heads_verify_only_as_the_start_of_the_list() {
        let v1 = head(2, None);
        let v2 = head(5, Some(head_link(&v1)));
        let v2b = head(7, Some(head_link(&v2)));
        assert_eq!(check(&[v1.clone(), v2.clone(), v2b.clone()]), None);
        // A v1 head slipped in after chained ones.
        let late = check(&[v1.clone(), v2.clone(), head(6, None)]).unwrap();
        assert!(late.what.contains("unchained"), "{}", late.what);
        // A chained head whose predecessor was removed.
        let gap = check(&[v1, v2b]).unwrap();
        assert!(gap.what.contains("does not follow"), "{}", gap.what);
        // The first chained head of a new project links to the genesis.
        assert_eq!(check(&[head(1, Some(heads_genesis("p")))]), None);
        assert!(check(&[head(1, Some(heads_genesis("other")))]).is_some());
    }

    #[test]
    fn the_link_covers_the_signature() {
        let a = head(3, Some("x".into()));
        let mut b = a.clone();
        b.signature = "other".into();
        assert_ne!(head_link(&a), head_link(&b));
    }
}
