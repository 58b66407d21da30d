//! Every workspace command in one enum: the single source of its menu label,
//! its shortcut and the text of its tooltip and of the help overlay.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    NextItem,
    PreviousItem,
    Undo,
    Redo,
    DeleteSelected,
    Deselect,
    ToggleHelp,
    Lock,
}

impl Command {
    pub const ALL: [Command; 8] = [
        Command::NextItem,
        Command::PreviousItem,
        Command::Undo,
        Command::Redo,
        Command::DeleteSelected,
        Command::Deselect,
        Command::ToggleHelp,
        Command::Lock,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Command::NextItem => "Next item",
            Command::PreviousItem => "Previous item",
            Command::Undo => "Undo",
            Command::Redo => "Redo",
            Command::DeleteSelected => "Delete selected label",
            Command::Deselect => "Deselect",
            Command::ToggleHelp => "Keyboard shortcuts",
            Command::Lock => "Lock",
        }
    }

    /// Primary shortcuts (shown in menus and tooltips).
    pub fn shortcut(self) -> KeyboardShortcut {
        match self {
            Command::NextItem => KeyboardShortcut::new(Modifiers::NONE, Key::D),
            Command::PreviousItem => KeyboardShortcut::new(Modifiers::NONE, Key::A),
            Command::Undo => KeyboardShortcut::new(Modifiers::COMMAND, Key::Z),
            Command::Redo => KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z),
            Command::DeleteSelected => KeyboardShortcut::new(Modifiers::NONE, Key::Delete),
            Command::Deselect => KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
            Command::ToggleHelp => KeyboardShortcut::new(Modifiers::NONE, Key::F1),
            Command::Lock => KeyboardShortcut::new(Modifiers::COMMAND, Key::L),
        }
    }

    /// Alternative keys that do the same (arrows for next/previous,
    /// Backspace for delete, Ctrl+Y for redo).
    fn alternatives(self) -> &'static [KeyboardShortcut] {
        const RIGHT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::ArrowRight);
        const LEFT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::ArrowLeft);
        const BACKSPACE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Backspace);
        const CTRL_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
        match self {
            Command::NextItem => &[RIGHT],
            Command::PreviousItem => &[LEFT],
            Command::DeleteSelected => &[BACKSPACE],
            Command::Redo => &[CTRL_Y],
            _ => &[],
        }
    }

    pub fn shortcut_text(self, ctx: &egui::Context) -> String {
        ctx.format_shortcut(&self.shortcut())
    }

    /// `label (shortcut)`, for tooltips.
    pub fn tooltip(self, ctx: &egui::Context) -> String {
        format!("{} ({})", self.label(), self.shortcut_text(ctx))
    }

    /// Commands whose shortcut was pressed this frame. Redo is checked
    /// before Undo because Ctrl+Shift+Z also matches Ctrl+Z loosely.
    pub fn pressed(ctx: &egui::Context) -> Vec<Command> {
        let order = [
            Command::Redo,
            Command::Undo,
            Command::NextItem,
            Command::PreviousItem,
            Command::DeleteSelected,
            Command::Deselect,
            Command::ToggleHelp,
            Command::Lock,
        ];
        let mut out = Vec::new();
        ctx.input_mut(|input| {
            for cmd in order {
                let mut hit = input.consume_shortcut(&cmd.shortcut());
                for alt in cmd.alternatives() {
                    hit |= input.consume_shortcut(alt);
                }
                if hit {
                    out.push(cmd);
                }
            }
        });
        out
    }
}
