//! Governance reports for a security team, read from data the project
//! already keeps (no new tables): the periodic **access review** — who is
//! enrolled, with which role and key, since when, how recently they acted
//! and which packages went to and came from them ([`access`]) — and
//! **anomaly flags** over the audit trail, each pointing at the rows behind
//! it ([`anomalies`]).
//!
//! Both are pure functions of rows handed in; the controller
//! (`src/controller/governance.rs`) reads the rows, checks the permission
//! and audits the report. Nothing here touches the database or the clock,
//! so every rule is unit-tested on synthetic trails.

pub mod access;
pub mod anomalies;

pub use access::{AccessEntry, AccessReview, Activity, PackageTally};
pub use anomalies::{Flag, FlagKind, Thresholds, WorkingHours};

/// A governance setting that cannot be used as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GovernanceError {
    #[error(
        "working hours '{0}' are not HH-HH or HH:MM-HH:MM with a different start and end (e.g. 08-18, or 22-06 for a night shift); empty turns the check off"
    )]
    WorkingHours(String),
    #[error("UTC offset '{0}' is not ±HH:MM between -14:00 and +14:00 (e.g. +02:00 or -05:30)")]
    UtcOffset(String),
    #[error("{key} must be a whole number from 0 (off) to {max}, not '{value}'")]
    Threshold {
        key: &'static str,
        value: String,
        max: u64,
    },
}
