//! Every workspace command in one enum: the single source of its label, its
//! default shortcut, and the text of menus, tooltips and the help overlay.
//! Users may remap shortcuts ([`super::keymap`]); nothing else names keys.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    NextItem,
    PreviousItem,
    SubmitAndNext,
    SkipItem,
    Undo,
    Redo,
    DeleteSelected,
    DuplicateSelected,
    SelectAll,
    Deselect,
    FinishShape,
    ToolSelect,
    ToolBox,
    ToolPolygon,
    ToolPolyline,
    ToolPoint,
    ToolKeypoints,
    ToggleHidden,
    ToggleLocked,
    BringForward,
    SendBackward,
    CopyPrevious,
    ZoomFit,
    ZoomActual,
    PlayPause,
    PlaySelection,
    SplitSegment,
    MergeSegments,
    NextSegment,
    PreviousSegment,
    RelateSelected,
    ToggleHelp,
    Settings,
    ProjectSettings,
    SchemaEditor,
    MakeWorkPackage,
    OpenResultsPackage,
    SendResults,
    Lock,
}

impl Command {
    pub const ALL: [Command; 39] = [
        Command::NextItem,
        Command::PreviousItem,
        Command::SubmitAndNext,
        Command::SkipItem,
        Command::Undo,
        Command::Redo,
        Command::DeleteSelected,
        Command::DuplicateSelected,
        Command::SelectAll,
        Command::Deselect,
        Command::FinishShape,
        Command::ToolSelect,
        Command::ToolBox,
        Command::ToolPolygon,
        Command::ToolPolyline,
        Command::ToolPoint,
        Command::ToolKeypoints,
        Command::ToggleHidden,
        Command::ToggleLocked,
        Command::BringForward,
        Command::SendBackward,
        Command::CopyPrevious,
        Command::ZoomFit,
        Command::ZoomActual,
        Command::PlayPause,
        Command::PlaySelection,
        Command::SplitSegment,
        Command::MergeSegments,
        Command::NextSegment,
        Command::PreviousSegment,
        Command::RelateSelected,
        Command::ToggleHelp,
        Command::Settings,
        Command::ProjectSettings,
        Command::SchemaEditor,
        Command::MakeWorkPackage,
        Command::OpenResultsPackage,
        Command::SendResults,
        Command::Lock,
    ];

    /// Stable identifier used when storing remapped shortcuts.
    pub fn id(self) -> &'static str {
        match self {
            Command::NextItem => "next_item",
            Command::PreviousItem => "previous_item",
            Command::SubmitAndNext => "submit_and_next",
            Command::SkipItem => "skip_item",
            Command::Undo => "undo",
            Command::Redo => "redo",
            Command::DeleteSelected => "delete_selected",
            Command::DuplicateSelected => "duplicate_selected",
            Command::SelectAll => "select_all",
            Command::Deselect => "deselect",
            Command::FinishShape => "finish_shape",
            Command::ToolSelect => "tool_select",
            Command::ToolBox => "tool_box",
            Command::ToolPolygon => "tool_polygon",
            Command::ToolPolyline => "tool_polyline",
            Command::ToolPoint => "tool_point",
            Command::ToolKeypoints => "tool_keypoints",
            Command::ToggleHidden => "toggle_hidden",
            Command::ToggleLocked => "toggle_locked",
            Command::BringForward => "bring_forward",
            Command::SendBackward => "send_backward",
            Command::CopyPrevious => "copy_previous",
            Command::ZoomFit => "zoom_fit",
            Command::ZoomActual => "zoom_actual",
            Command::PlayPause => "play_pause",
            Command::PlaySelection => "play_selection",
            Command::SplitSegment => "split_segment",
            Command::MergeSegments => "merge_segments",
            Command::NextSegment => "next_segment",
            Command::PreviousSegment => "previous_segment",
            Command::RelateSelected => "relate_selected",
            Command::ToggleHelp => "toggle_help",
            Command::Settings => "settings",
            Command::ProjectSettings => "project_settings",
            Command::SchemaEditor => "schema_editor",
            Command::MakeWorkPackage => "make_work_package",
            Command::OpenResultsPackage => "open_results_package",
            Command::SendResults => "send_results",
            Command::Lock => "lock",
        }
    }

    pub fn from_id(id: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            Command::NextItem => "Next item",
            Command::PreviousItem => "Previous item",
            Command::SubmitAndNext => "Submit and next",
            Command::SkipItem => "Skip item…",
            Command::Undo => "Undo",
            Command::Redo => "Redo",
            Command::DeleteSelected => "Delete selected",
            Command::DuplicateSelected => "Duplicate selected",
            Command::SelectAll => "Select all",
            Command::Deselect => "Deselect / cancel shape",
            Command::FinishShape => "Finish polygon or line",
            Command::ToolSelect => "Select tool",
            Command::ToolBox => "Box tool",
            Command::ToolPolygon => "Polygon tool",
            Command::ToolPolyline => "Polyline tool",
            Command::ToolPoint => "Point tool",
            Command::ToolKeypoints => "Keypoints tool",
            Command::ToggleHidden => "Hide / show selected",
            Command::ToggleLocked => "Lock / unlock selected",
            Command::BringForward => "Bring forward",
            Command::SendBackward => "Send backward",
            Command::CopyPrevious => "Copy labels from previous item",
            Command::ZoomFit => "Zoom to fit",
            Command::ZoomActual => "Zoom 1:1",
            Command::PlayPause => "Play / pause audio",
            Command::PlaySelection => "Play selected segment",
            Command::SplitSegment => "Split segment at playhead",
            Command::MergeSegments => "Merge selected segments",
            Command::NextSegment => "Next segment",
            Command::PreviousSegment => "Previous segment",
            Command::RelateSelected => "Relate two selected spans",
            Command::ToggleHelp => "Keyboard shortcuts",
            Command::Settings => "Settings…",
            Command::ProjectSettings => "Project settings…",
            Command::SchemaEditor => "Schema editor…",
            Command::MakeWorkPackage => "Make work package…",
            Command::OpenResultsPackage => "Open results package…",
            Command::SendResults => "Send results to the site…",
            Command::Lock => "Lock screen",
        }
    }

    /// The shortcut a new user starts with.
    pub fn default_shortcut(self) -> KeyboardShortcut {
        let none = |k| KeyboardShortcut::new(Modifiers::NONE, k);
        let cmd = |k| KeyboardShortcut::new(Modifiers::COMMAND, k);
        let cmd_shift = |k| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, k);
        let shift = |k| KeyboardShortcut::new(Modifiers::SHIFT, k);
        match self {
            Command::NextItem => none(Key::D),
            Command::PreviousItem => none(Key::A),
            Command::SubmitAndNext => cmd(Key::Enter),
            Command::SkipItem => cmd(Key::K),
            Command::Undo => cmd(Key::Z),
            Command::Redo => cmd_shift(Key::Z),
            Command::DeleteSelected => none(Key::Delete),
            Command::DuplicateSelected => cmd(Key::D),
            Command::SelectAll => cmd(Key::A),
            Command::Deselect => none(Key::Escape),
            Command::FinishShape => none(Key::Enter),
            Command::ToolSelect => none(Key::V),
            Command::ToolBox => none(Key::B),
            Command::ToolPolygon => none(Key::P),
            Command::ToolPolyline => none(Key::L),
            Command::ToolPoint => none(Key::O),
            Command::ToolKeypoints => none(Key::K),
            Command::ToggleHidden => none(Key::H),
            Command::ToggleLocked => shift(Key::L),
            Command::BringForward => none(Key::CloseBracket),
            Command::SendBackward => none(Key::OpenBracket),
            Command::CopyPrevious => cmd_shift(Key::V),
            Command::ZoomFit => none(Key::F),
            Command::ZoomActual => cmd(Key::Num0),
            Command::PlayPause => none(Key::Space),
            Command::PlaySelection => shift(Key::Space),
            Command::SplitSegment => none(Key::S),
            Command::MergeSegments => none(Key::M),
            Command::NextSegment => none(Key::Period),
            Command::PreviousSegment => none(Key::Comma),
            Command::RelateSelected => none(Key::R),
            Command::ToggleHelp => none(Key::F1),
            Command::Settings => cmd(Key::Comma),
            Command::ProjectSettings => cmd_shift(Key::Comma),
            Command::SchemaEditor => cmd_shift(Key::S),
            Command::MakeWorkPackage => cmd_shift(Key::W),
            Command::OpenResultsPackage => cmd_shift(Key::O),
            Command::SendResults => cmd_shift(Key::E),
            Command::Lock => cmd(Key::L),
        }
    }

    /// Fixed extra keys that do the same (arrows for next/previous,
    /// Backspace for delete, Ctrl+Y for redo, `?` for help). Not remappable.
    pub fn alternatives(self) -> &'static [KeyboardShortcut] {
        const RIGHT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::ArrowRight);
        const LEFT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::ArrowLeft);
        const BACKSPACE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Backspace);
        const CTRL_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
        const QUESTION: KeyboardShortcut =
            KeyboardShortcut::new(Modifiers::NONE, Key::Questionmark);
        const SHIFT_QUESTION: KeyboardShortcut =
            KeyboardShortcut::new(Modifiers::SHIFT, Key::Questionmark);
        match self {
            Command::NextItem => &[RIGHT],
            Command::PreviousItem => &[LEFT],
            Command::DeleteSelected => &[BACKSPACE],
            Command::Redo => &[CTRL_Y],
            Command::ToggleHelp => &[QUESTION, SHIFT_QUESTION],
            _ => &[],
        }
    }
}
