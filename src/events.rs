//! Every action the audit trail records, named once.
//!
//! The controller writes rows with an [`AuditAction`], never a string
//! literal, and the anomaly rules (`governance::anomalies`) match on the
//! same enum: renaming an action is a compile error in both places instead
//! of a detector that silently stops firing. The names themselves are part
//! of the trail's format (they are hashed into every row and read back from
//! laptops' segments), so [`AuditAction::as_str`] never changes for an
//! existing variant; a row whose name this build does not know parses to
//! `None` and is kept, verified and shown as it is.

use std::fmt;

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// One kind of audit row.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AuditAction {
            $( $(#[$doc])* $variant, )*
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The name stored in the trail.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }

            /// The action a stored name stands for, if this build knows it.
            pub fn parse(name: &str) -> Option<AuditAction> {
                match name {
                    $($name => Some(AuditAction::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    // Project, people and sessions.
    ProjectCreate = "project.create",
    ProjectRekey = "project.rekey",
    UserAdd = "user.add",
    UserRemove = "user.remove",
    SessionOpen = "session.open",
    SessionClose = "session.close",
    /// The idle lock dropped the session's keys.
    SessionIdleLock = "session.idle_lock",
    /// A wrong passphrase, noted before any project was open.
    UnlockFailed = "unlock.failed",
    /// A bundle header refused before it was opened: its founding-admin
    /// signature failed, or it is not signed by the key this home pinned.
    BundleRefused = "bundle.refused",
    PermissionDenied = "permission.denied",
    SettingsChange = "settings.change",
    /// The signed membership log started: at project creation, or built
    /// from the rows of a bundle made before the log existed.
    MembershipFounded = "membership.founded",
    MembershipAdopted = "membership.adopted",
    /// A member, role, revocation or security setting row disagreed with
    /// the signed membership log; the log's state was put back.
    MembershipTampered = "membership.tampered",
    SettingsUser = "settings.user",
    SchemaChange = "schema.change",
    SchemaOverlapRules = "schema.overlap_rules",
    // Items and labelling.
    ItemImport = "item.import",
    ImportPartial = "import.partial",
    ImportRejected = "import.rejected",
    /// A file skipped because its content is already an item.
    ImportDuplicate = "import.duplicate",
    PrelabelsImport = "prelabels.import",
    ItemView = "item.view",
    ItemSubmit = "item.submit",
    ItemSkip = "item.skip",
    Assign = "assign",
    LabelCreate = "label.create",
    LabelUpdate = "label.update",
    LabelDelete = "label.delete",
    LabelCopy = "label.copy",
    LabelSplit = "label.split",
    LabelMerge = "label.merge",
    LabelUndo = "label.undo",
    LabelRedo = "label.redo",
    // Review and quality.
    ReviewApprove = "review.approve",
    ReviewReject = "review.reject",
    ReviewCorrect = "review.correct",
    CommentAdd = "comment.add",
    GoldSet = "gold.set",
    GoldUnset = "gold.unset",
    // Privacy.
    PiiScan = "pii.scan",
    MaskPropose = "mask.propose",
    MaskAdd = "mask.add",
    MaskAccept = "mask.accept",
    MaskReject = "mask.reject",
    MaskFromLabels = "mask.from_labels",
    MaskTemplateSave = "mask.template_save",
    MaskTemplateApply = "mask.template_apply",
    MaskWindow = "mask.window",
    MaskPreview = "mask.preview",
    /// A recording's waveform overview cached (encrypted) in the bundle.
    PeaksCache = "peaks.cache",
    // Packages and exports.
    PackageCreate = "package.create",
    PackageFailed = "package.failed",
    PackageCancelled = "package.cancelled",
    PackageOpen = "package.open",
    PackageResults = "package.results",
    PackageMerge = "package.merge",
    PackageRejected = "package.rejected",
    /// An admin accepted results signed by a revoked key (kept as conflicts).
    PackageAcceptRevoked = "package.accept_revoked",
    Export = "export",
    ExportUnsigned = "export.unsigned",
    // Governance.
    ItemGovernance = "item.governance",
    RetentionPurge = "retention.purge",
    SubjectErase = "subject.erase",
    BundleErase = "bundle.erase",
    IncidentReport = "incident.report",
    IncidentResolve = "incident.resolve",
    IncidentRemove = "incident.remove",
    ExpiryRefused = "expiry.refused",
    ClockBackwards = "clock.backwards",
    // Reading the trail.
    AuditVerify = "audit.verify",
    AuditAnchor = "audit.anchor",
    AuditAnomalies = "audit.anomalies",
    AccessReview = "access.review",
}

impl AuditAction {
    /// A change to labels or review state: what "worked on an item" means
    /// to the viewed-not-labelled rule.
    pub fn is_label_work(self) -> bool {
        matches!(
            self,
            AuditAction::LabelCreate
                | AuditAction::LabelUpdate
                | AuditAction::LabelDelete
                | AuditAction::LabelCopy
                | AuditAction::LabelSplit
                | AuditAction::LabelMerge
                | AuditAction::LabelUndo
                | AuditAction::LabelRedo
                | AuditAction::ReviewApprove
                | AuditAction::ReviewReject
                | AuditAction::ReviewCorrect
                | AuditAction::ItemSubmit
                | AuditAction::ItemSkip
        )
    }

    /// Data leaving the site as an export (signed, sealed or plain).
    pub fn is_export(self) -> bool {
        matches!(self, AuditAction::Export | AuditAction::ExportUnsigned)
    }

    /// Membership changes (the role-change rule).
    pub fn is_membership(self) -> bool {
        matches!(self, AuditAction::UserAdd | AuditAction::UserRemove)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_names_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
            assert!(seen.insert(a.as_str()), "{a} twice");
        }
        assert_eq!(AuditAction::parse("label.paint"), None);
    }

    /// The stored names are part of the trail's format: existing bundles
    /// and laptops' segments carry them. A rename must fail here.
    #[test]
    fn stored_names_do_not_change() {
        let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for name in [
            "item.view",
            "item.import",
            "label.create",
            "unlock.failed",
            "package.create",
            "export",
            "export.unsigned",
            "user.add",
            "user.remove",
            "review.approve",
            "session.open",
        ] {
            assert!(names.contains(&name), "{name} is gone");
        }
    }
}
