//! Every workspace command declared once, as one row of [`commands!`]: its
//! id, label, tooltip, default shortcut, the permission it needs, the item
//! kinds it applies to, and where it shows (menu, bar). Menus, bars, the
//! help overlay, the keymap's defaults and the dispatcher's gate all read
//! that row; users may remap shortcuts ([`super::keymap`]).

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::model::{ItemKind, Tool};
use crate::permissions::Action;

/// One command's row of the table.
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    /// Stable identifier: stored remaps and `--run` use it. Never change one.
    pub id: &'static str,
    /// Menu and help text; "…" when it opens a window that asks more.
    pub label: &'static str,
    /// What the label does not say, shown under it on hover ("" for none).
    pub tooltip: &'static str,
    /// The shortcut a new user starts with (none for commands that should
    /// never be a keystroke away).
    pub shortcut: Option<KeyboardShortcut>,
    /// Fixed extra keys that do the same (not remappable).
    pub alternatives: &'static [KeyboardShortcut],
    /// What the controller will check; the GUI hides what it would refuse.
    pub permission: Option<Action>,
    /// Which kind of project it makes sense in.
    pub scope: Scope,
    /// Told to a user the permission or scope refuses ("" for none).
    pub refusal: &'static str,
    /// The item kinds it applies to (ignored while no item is open).
    pub kinds: &'static [ItemKind],
    /// Still runs once a laptop's work package has expired: it neither
    /// opens, shows nor changes an item.
    pub after_expiry: bool,
    /// The menu it is listed in, and its group there (separators between).
    pub menu: Option<(Menu, u8)>,
    /// A button on one of the bars, with its short text.
    pub button: Option<(Bar, &'static str)>,
    /// The drawing tool it selects.
    pub tool: Option<Tool>,
}

/// Where a command makes sense besides the user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Anywhere,
    /// The site's own project: review decisions are taken there.
    SiteProject,
    /// A laptop bundle made from a work package: it sends results back.
    LaptopBundle,
}

/// The workspace's menus, left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Menu {
    File,
    Edit,
    Item,
    View,
    Help,
}

impl Menu {
    pub const ALL: [Menu; 5] = [Menu::File, Menu::Edit, Menu::Item, Menu::View, Menu::Help];

    pub fn title(self) -> &'static str {
        match self {
            Menu::File => "File",
            Menu::Edit => "Edit",
            Menu::Item => "Item",
            Menu::View => "View",
            Menu::Help => "Help",
        }
    }
}

/// The rows of buttons besides the menus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// Right of the menus: moving through the queue, undo.
    Menu,
    /// The toolbar's tools, shown for the current item's kind.
    Tools,
    /// The toolbar's view buttons, after the view sliders.
    View,
}

const ANY_KIND: &[ItemKind] = &[ItemKind::Image, ItemKind::Audio, ItemKind::Text];
const IMAGE: &[ItemKind] = &[ItemKind::Image];
const AUDIO: &[ItemKind] = &[ItemKind::Audio];
const TEXT: &[ItemKind] = &[ItemKind::Text];
const IMAGE_OR_TEXT: &[ItemKind] = &[ItemKind::Image, ItemKind::Text];

const fn with(modifiers: Modifiers, key: Key) -> Option<KeyboardShortcut> {
    Some(KeyboardShortcut::new(modifiers, key))
}
const fn plain(key: Key) -> Option<KeyboardShortcut> {
    with(Modifiers::NONE, key)
}
const fn ctrl(key: Key) -> Option<KeyboardShortcut> {
    with(Modifiers::COMMAND, key)
}
const fn shift(key: Key) -> Option<KeyboardShortcut> {
    with(Modifiers::SHIFT, key)
}
const fn ctrl_shift(key: Key) -> Option<KeyboardShortcut> {
    with(
        Modifiers {
            shift: true,
            ..Modifiers::COMMAND
        },
        key,
    )
}

impl CommandSpec {
    /// What a row does not say: no shortcut, no permission, any item kind,
    /// in no menu and on no bar.
    const BASE: CommandSpec = CommandSpec {
        id: "",
        label: "",
        tooltip: "",
        shortcut: None,
        alternatives: &[],
        permission: None,
        scope: Scope::Anywhere,
        refusal: "",
        kinds: ANY_KIND,
        after_expiry: false,
        menu: None,
        button: None,
        tool: None,
    };
}

/// Declares the [`Command`] enum, [`Command::ALL`] in table order (the
/// order of menus, bars, help and the keymap editor) and
/// [`Command::spec`], from one list of rows.
macro_rules! commands {
    ($( $(#[doc = $doc:literal])* $variant:ident { $($field:ident: $value:expr),* $(,)? } )*) => {
        /// A workspace command; see its row in `commands.rs`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Command {
            /// Every command, in table order.
            pub const ALL: [Command; [$(stringify!($variant)),*].len()] =
                [$(Command::$variant),*];

            /// This command's row.
            pub fn spec(self) -> &'static CommandSpec {
                match self {
                    $( Command::$variant => {
                        const SPEC: CommandSpec = CommandSpec { $($field: $value,)* ..CommandSpec::BASE };
                        &SPEC
                    } )*
                }
            }
        }
    };
}

commands! {
    PreviousItem {
        id: "previous_item", label: "Previous item", shortcut: plain(Key::A),
        alternatives: &[KeyboardShortcut::new(Modifiers::NONE, Key::ArrowLeft)],
        menu: Some((Menu::Item, 0)), button: Some((Bar::Menu, "< Prev")),
    }
    NextItem {
        id: "next_item", label: "Next item", shortcut: plain(Key::D),
        alternatives: &[KeyboardShortcut::new(Modifiers::NONE, Key::ArrowRight)],
        menu: Some((Menu::Item, 0)), button: Some((Bar::Menu, "Next >")),
    }
    Undo {
        id: "undo", label: "Undo", shortcut: ctrl(Key::Z),
        menu: Some((Menu::Edit, 0)), button: Some((Bar::Menu, "Undo")),
    }
    Redo {
        id: "redo", label: "Redo", shortcut: ctrl_shift(Key::Z),
        alternatives: &[KeyboardShortcut::new(Modifiers::COMMAND, Key::Y)],
        menu: Some((Menu::Edit, 0)), button: Some((Bar::Menu, "Redo")),
    }
    SubmitAndNext {
        id: "submit_and_next", label: "Submit and next", shortcut: ctrl(Key::Enter),
        tooltip: "Hands this item to review and opens the next one",
        menu: Some((Menu::Item, 0)), button: Some((Bar::Menu, "Submit + next")),
    }
    SkipItem {
        id: "skip_item", label: "Skip item…", shortcut: ctrl(Key::K),
        menu: Some((Menu::Item, 0)), button: Some((Bar::Menu, "Skip…")),
    }
    FlagItem {
        id: "flag_item", label: "Report this item…", shortcut: ctrl_shift(Key::R),
        tooltip: "Takes it out of your queue until the site decides",
        permission: Some(Action::ViewItem),
        refusal: "Items are reported by the people who see them",
        menu: Some((Menu::Item, 1)),
    }
    Approve {
        id: "approve", label: "Approve and next", shortcut: plain(Key::Y),
        permission: Some(Action::Review), scope: Scope::SiteProject,
        refusal: "Only reviewers and admins decide on submitted work",
        menu: Some((Menu::Item, 2)),
    }
    Reject {
        id: "reject", label: "Reject with a comment…", shortcut: plain(Key::N),
        permission: Some(Action::Review), scope: Scope::SiteProject,
        refusal: "Only reviewers and admins decide on submitted work",
        menu: Some((Menu::Item, 2)),
    }
    Correct {
        id: "correct", label: "Correct (edit, then approve)", shortcut: plain(Key::C),
        permission: Some(Action::Review), scope: Scope::SiteProject,
        refusal: "Only reviewers and admins decide on submitted work",
        menu: Some((Menu::Item, 2)),
    }
    SelectAll {
        id: "select_all", label: "Select all", shortcut: ctrl(Key::A),
        menu: Some((Menu::Edit, 0)),
    }
    Deselect {
        id: "deselect", label: "Deselect / cancel shape", shortcut: plain(Key::Escape),
        menu: Some((Menu::Edit, 0)),
    }
    DeleteSelected {
        id: "delete_selected", label: "Delete selected", shortcut: plain(Key::Delete),
        alternatives: &[KeyboardShortcut::new(Modifiers::NONE, Key::Backspace)],
        menu: Some((Menu::Edit, 0)),
    }
    DuplicateSelected {
        id: "duplicate_selected", label: "Duplicate selected", shortcut: ctrl(Key::D),
        menu: Some((Menu::Edit, 0)),
    }
    ToggleHidden {
        id: "toggle_hidden", label: "Hide / show selected", shortcut: plain(Key::H),
        menu: Some((Menu::Edit, 0)),
    }
    ToggleLocked {
        id: "toggle_locked", label: "Lock / unlock selected", shortcut: shift(Key::L),
        tooltip: "Locked labels cannot be moved or reshaped by accident",
        menu: Some((Menu::Edit, 0)),
    }
    AcceptPredictions {
        id: "accept_predictions", label: "Accept predictions (selected, or all on the item)",
        shortcut: shift(Key::A),
        menu: Some((Menu::Edit, 0)),
    }
    BringForward {
        id: "bring_forward", label: "Bring forward", shortcut: plain(Key::CloseBracket),
        menu: Some((Menu::Edit, 0)),
    }
    SendBackward {
        id: "send_backward", label: "Send backward", shortcut: plain(Key::OpenBracket),
        menu: Some((Menu::Edit, 0)),
    }
    CopyPrevious {
        id: "copy_previous", label: "Copy labels from previous item", shortcut: ctrl_shift(Key::V),
        menu: Some((Menu::Edit, 0)),
    }
    FinishShape {
        id: "finish_shape", label: "Finish polygon or line", shortcut: plain(Key::Enter),
        tooltip: "In a document: labels the selected text with the active class",
        kinds: IMAGE_OR_TEXT,
    }
    ToolBox {
        id: "tool_box", label: "Box tool", shortcut: plain(Key::B),
        kinds: IMAGE, tool: Some(Tool::BBox),
        button: Some((Bar::Tools, "Box")),
    }
    ToolPolygon {
        id: "tool_polygon", label: "Polygon tool", shortcut: plain(Key::P),
        kinds: IMAGE, tool: Some(Tool::Polygon),
        button: Some((Bar::Tools, "Polygon")),
    }
    ToolPolyline {
        id: "tool_polyline", label: "Polyline tool", shortcut: plain(Key::L),
        kinds: IMAGE, tool: Some(Tool::Polyline),
        button: Some((Bar::Tools, "Polyline")),
    }
    ToolPoint {
        id: "tool_point", label: "Point tool", shortcut: plain(Key::O),
        kinds: IMAGE, tool: Some(Tool::Point),
        button: Some((Bar::Tools, "Point")),
    }
    ToolKeypoints {
        id: "tool_keypoints", label: "Keypoints tool", shortcut: plain(Key::K),
        kinds: IMAGE, tool: Some(Tool::Keypoints),
        button: Some((Bar::Tools, "Keypoints")),
    }
    ToolSelect {
        id: "tool_select", label: "Select tool", shortcut: plain(Key::V),
        kinds: IMAGE, tool: Some(Tool::Tag),
        button: Some((Bar::Tools, "Select")),
    }
    ZoomFit {
        id: "zoom_fit", label: "Zoom to fit", shortcut: plain(Key::F),
        kinds: IMAGE, menu: Some((Menu::View, 0)), button: Some((Bar::View, "Fit")),
    }
    ZoomActual {
        id: "zoom_actual", label: "Zoom 1:1", shortcut: ctrl(Key::Num0),
        kinds: IMAGE, menu: Some((Menu::View, 0)), button: Some((Bar::View, "1:1")),
    }
    PlayPause {
        id: "play_pause", label: "Play / pause audio", shortcut: plain(Key::Space),
        kinds: AUDIO,
    }
    PlaySelection {
        id: "play_selection", label: "Play selected segment", shortcut: shift(Key::Space),
        kinds: AUDIO,
    }
    SplitSegment {
        id: "split_segment", label: "Split segment at playhead", shortcut: plain(Key::S),
        tooltip: "The transcript stays with the first part",
        kinds: AUDIO, button: Some((Bar::Tools, "Split")),
    }
    MergeSegments {
        id: "merge_segments", label: "Merge selected segments", shortcut: plain(Key::M),
        kinds: AUDIO, button: Some((Bar::Tools, "Merge")),
    }
    NextSegment {
        id: "next_segment", label: "Next segment", shortcut: plain(Key::Period),
        kinds: AUDIO,
    }
    PreviousSegment {
        id: "previous_segment", label: "Previous segment", shortcut: plain(Key::Comma),
        kinds: AUDIO,
    }
    RelateSelected {
        id: "relate_selected", label: "Relate two selected spans", shortcut: plain(Key::R),
        tooltip: "Ctrl+click two spans; the relation takes the active relation class",
        kinds: TEXT, button: Some((Bar::Tools, "Relate")),
    }
    Settings {
        id: "settings", label: "Settings…", shortcut: ctrl(Key::Comma),
        after_expiry: true, menu: Some((Menu::File, 0)),
    }
    SchemaEditor {
        id: "schema_editor", label: "Schema editor…", shortcut: ctrl_shift(Key::S),
        permission: Some(Action::EditSchema), refusal: "Only admins edit the schema",
        menu: Some((Menu::File, 0)),
    }
    ProjectSettings {
        id: "project_settings", label: "Project settings…", shortcut: ctrl_shift(Key::Comma),
        permission: Some(Action::ManageSettings), refusal: "Only admins change project settings",
        menu: Some((Menu::File, 0)),
    }
    PrivacyScreen {
        id: "privacy", label: "Privacy & masking…", shortcut: ctrl_shift(Key::P),
        permission: Some(Action::ManagePrivacy),
        refusal: "Only admins decide what annotators receive",
        menu: Some((Menu::File, 1)),
    }
    Incidents {
        id: "incidents", label: "Incidents…", shortcut: ctrl_shift(Key::I),
        permission: Some(Action::ManagePrivacy), refusal: "Only admins decide on reported items",
        menu: Some((Menu::File, 1)),
    }
    AccessReview {
        // Auditors too: this is their way into the workspace.
        id: "access_review", label: "Access review & anomalies…", shortcut: ctrl_shift(Key::G),
        permission: Some(Action::ReadAudit),
        refusal: "The access review is for admins and auditors",
        menu: Some((Menu::File, 1)),
    }
    RetentionPurge {
        id: "retention_purge", label: "Purge expired items…", shortcut: ctrl_shift(Key::T),
        permission: Some(Action::ManageSettings), refusal: "Only admins purge items",
        menu: Some((Menu::File, 1)),
    }
    MakeWorkPackage {
        id: "make_work_package", label: "Make work package…", shortcut: ctrl_shift(Key::W),
        permission: Some(Action::MakePackage),
        refusal: "Only admins make and open site packages",
        menu: Some((Menu::File, 1)),
    }
    OpenResultsPackage {
        id: "open_results_package", label: "Open results package…", shortcut: ctrl_shift(Key::O),
        permission: Some(Action::MakePackage),
        refusal: "Only admins make and open site packages",
        menu: Some((Menu::File, 1)),
    }
    SendResults {
        id: "send_results", label: "Send results to the site…", shortcut: ctrl_shift(Key::E),
        permission: Some(Action::MakeResults), scope: Scope::LaptopBundle,
        refusal: "Results go back from a bundle made from a work package",
        after_expiry: true, menu: Some((Menu::File, 1)),
    }
    EraseBundle {
        // No shortcut: erasing is never a keystroke away (it asks first too).
        id: "erase_bundle", label: "Erase this bundle…",
        tooltip: "Deletes this laptop's copy of the work package for good",
        permission: Some(Action::MakeResults), scope: Scope::LaptopBundle,
        refusal: "Only a bundle made from a work package is erased here",
        after_expiry: true, menu: Some((Menu::File, 1)),
    }
    ExportDataset {
        id: "export", label: "Export dataset…", shortcut: ctrl_shift(Key::X),
        permission: Some(Action::Export), refusal: "Only admins export datasets",
        menu: Some((Menu::File, 1)),
    }
    Lock {
        id: "lock", label: "Lock screen", shortcut: ctrl(Key::L),
        after_expiry: true, menu: Some((Menu::File, 2)),
    }
    QualityScreen {
        id: "quality", label: "Quality…", shortcut: ctrl_shift(Key::Q),
        permission: Some(Action::Review), scope: Scope::SiteProject,
        refusal: "Quality figures are for reviewers and admins",
        menu: Some((Menu::View, 1)),
    }
    PanicHide {
        // One key, no modifiers: it has to work in a hurry.
        id: "panic_hide", label: "Hide the screen now", shortcut: plain(Key::F12),
        tooltip: "Covers the window until you click it",
        after_expiry: true, menu: Some((Menu::View, 2)),
    }
    ToggleHelp {
        id: "toggle_help", label: "Keyboard shortcuts", shortcut: plain(Key::F1),
        alternatives: &[
            KeyboardShortcut::new(Modifiers::NONE, Key::Questionmark),
            KeyboardShortcut::new(Modifiers::SHIFT, Key::Questionmark),
        ],
        after_expiry: true, menu: Some((Menu::Help, 0)),
    }
}

impl Command {
    /// Stable identifier used when storing remapped shortcuts and by `--run`.
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    pub fn from_id(id: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// The shortcut a new user starts with, if any.
    pub fn default_shortcut(self) -> Option<KeyboardShortcut> {
        self.spec().shortcut
    }

    /// Fixed extra keys that do the same (arrows for next/previous,
    /// Backspace for delete, Ctrl+Y for redo, `?` for help). Not remappable.
    pub fn alternatives(self) -> &'static [KeyboardShortcut] {
        self.spec().alternatives
    }

    /// Whether it applies to an item of `kind`.
    pub fn applies_to(self, kind: ItemKind) -> bool {
        self.spec().kinds.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for cmd in Command::ALL {
            assert_eq!(Command::from_id(cmd.id()), Some(cmd), "{cmd:?}");
            assert!(!cmd.label().is_empty(), "{cmd:?}");
        }
    }

    #[test]
    fn gated_commands_say_why_they_are_refused() {
        for cmd in Command::ALL {
            let spec = cmd.spec();
            let gated = spec.permission.is_some() || spec.scope != Scope::Anywhere;
            assert_eq!(gated, !spec.refusal.is_empty(), "{cmd:?}");
        }
    }

    #[test]
    fn every_command_applies_to_some_kind() {
        for cmd in Command::ALL {
            assert!(!cmd.spec().kinds.is_empty(), "{cmd:?}");
        }
    }
}
