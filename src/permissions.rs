//! The one table of who may do what. Every CLI command and GUI action goes
//! through [`check`] in the controller; nothing else decides permissions.

use crate::model::Role;
use serde::Serialize;
use std::fmt;

/// Everything a user can ask the controller to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ManageUsers,
    ListUsers,
    Import,
    EditSchema,
    Assign,
    ListItems,
    ViewItem,
    EditLabels,
    ReadAudit,
    VerifyAudit,
    Submit,
    Review,
    Export,
    MakePackage,
    MakeResults,
    ManageSettings,
    /// Masking and minimisation decisions, and previews of derivatives.
    ManagePrivacy,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::ManageUsers,
        Action::ListUsers,
        Action::Import,
        Action::EditSchema,
        Action::Assign,
        Action::ListItems,
        Action::ViewItem,
        Action::EditLabels,
        Action::ReadAudit,
        Action::VerifyAudit,
        Action::Submit,
        Action::Review,
        Action::Export,
        Action::MakePackage,
        Action::MakeResults,
        Action::ManageSettings,
        Action::ManagePrivacy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ManageUsers => "manage_users",
            Action::ListUsers => "list_users",
            Action::Import => "import",
            Action::EditSchema => "edit_schema",
            Action::Assign => "assign",
            Action::ListItems => "list_items",
            Action::ViewItem => "view_item",
            Action::EditLabels => "edit_labels",
            Action::ReadAudit => "read_audit",
            Action::VerifyAudit => "verify_audit",
            Action::Submit => "submit",
            Action::Review => "review",
            Action::Export => "export",
            Action::MakePackage => "make_package",
            Action::MakeResults => "make_results",
            Action::ManageSettings => "manage_settings",
            Action::ManagePrivacy => "manage_privacy",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role × action table (DESIGN §1). Reviewers and annotators are further
/// limited to the items assigned to them; see [`scoped_to_assignments`].
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ManageUsers | Import | EditSchema | Assign | Export | MakePackage | ManageSettings
        | ManagePrivacy => role == Admin,
        ListUsers | ReadAudit => matches!(role, Admin | Auditor),
        // Anyone may check that the trail is intact (an annotator on a
        // laptop checks their own); reading it stays with admins and auditors.
        VerifyAudit => true,
        ListItems | ViewItem | EditLabels => matches!(role, Admin | Reviewer | Annotator),
        Submit => role == Annotator,
        Review => matches!(role, Admin | Reviewer),
        // Results go back from a laptop: whoever labelled or reviewed there.
        MakeResults => matches!(role, Annotator | Reviewer),
    }
}

/// Roles that see only the items assigned to them.
pub fn scoped_to_assignments(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Annotator)
}

/// A refused action, naming role and action as the issue requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: a project {role} may not {action}{}", target.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
pub struct Denied {
    pub role: Role,
    pub action: Action,
    pub target: Option<String>,
}

pub fn check(role: Role, action: Action) -> Result<(), Denied> {
    if allowed(role, action) {
        Ok(())
    } else {
        Err(Denied {
            role,
            action,
            target: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected matrix written out by hand, row by row, so a change to
    /// `allowed` that is not also made here fails.
    #[test]
    fn matrix_matches_the_design_table() {
        let expected: &[(Action, [bool; 4])] = &[
            //                         admin  reviewer annot. auditor
            (Action::ManageUsers, [true, false, false, false]),
            (Action::ListUsers, [true, false, false, true]),
            (Action::Import, [true, false, false, false]),
            (Action::EditSchema, [true, false, false, false]),
            (Action::Assign, [true, false, false, false]),
            (Action::ListItems, [true, true, true, false]),
            (Action::ViewItem, [true, true, true, false]),
            (Action::EditLabels, [true, true, true, false]),
            (Action::ReadAudit, [true, false, false, true]),
            (Action::VerifyAudit, [true, true, true, true]),
            (Action::Submit, [false, false, true, false]),
            (Action::Review, [true, true, false, false]),
            (Action::Export, [true, false, false, false]),
            (Action::MakePackage, [true, false, false, false]),
            (Action::MakeResults, [false, true, true, false]),
            (Action::ManageSettings, [true, false, false, false]),
            (Action::ManagePrivacy, [true, false, false, false]),
        ];
        assert_eq!(expected.len(), Action::ALL.len());
        for (action, row) in expected {
            for (role, want) in Role::ALL.iter().zip(row) {
                assert_eq!(allowed(*role, *action), *want, "{role} × {action}");
            }
        }
        let denied = check(Role::Auditor, Action::ViewItem).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "permission denied: a project auditor may not view_item"
        );
    }
}
