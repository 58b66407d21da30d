//! Remappable keyboard shortcuts. [`Command`] holds the defaults; a [`Keymap`]
//! holds the user's overrides (stored per user as platform-independent JSON),
//! answers "which commands were pressed this frame", and [`KeymapEditor`] is
//! the settings window in which users change them.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use egui::{Color32, Event, Key, KeyboardShortcut, Modifiers, RichText};

use super::commands::Command;

/// The user's shortcuts: defaults overridden by their remaps (stored per user as JSON).
///
/// Only the overrides are held, so two keymaps that map every command to the
/// same shortcut compare equal however they were built.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keymap {
    overrides: BTreeMap<Command, KeyboardShortcut>,
}

impl Keymap {
    /// The shortcut that triggers `cmd` (its remap, else its default, if it has one).
    pub fn shortcut(&self, cmd: Command) -> Option<KeyboardShortcut> {
        self.overrides
            .get(&cmd)
            .copied()
            .or_else(|| cmd.default_shortcut())
    }

    /// Remaps `cmd`. Ctrl and ⌘ are stored as egui's platform-neutral
    /// [`Modifiers::COMMAND`].
    pub fn set(&mut self, cmd: Command, shortcut: KeyboardShortcut) {
        let shortcut = normalize(shortcut);
        if Some(shortcut) == cmd.default_shortcut().map(normalize) {
            self.overrides.remove(&cmd);
        } else {
            self.overrides.insert(cmd, shortcut);
        }
    }

    /// Back to the default shortcut.
    pub fn reset(&mut self, cmd: Command) {
        self.overrides.remove(&cmd);
    }

    /// Whether `cmd` has been remapped.
    pub fn is_remapped(&self, cmd: Command) -> bool {
        self.overrides.contains_key(&cmd)
    }

    /// Commands sharing a shortcut with another command (pairs), so the UI can warn.
    ///
    /// A pair is reported when the shortcut of one equals the shortcut or a
    /// fixed alternative of the other; each pair once, in [`Command::ALL`] order.
    pub fn conflicts(&self) -> Vec<(Command, Command)> {
        let mut pairs = Vec::new();
        for (i, &a) in Command::ALL.iter().enumerate() {
            for &b in &Command::ALL[i + 1..] {
                if self.shared_shortcut(a, b).is_some() {
                    pairs.push((a, b));
                }
            }
        }
        pairs
    }

    /// The shortcut `a` and `b` both answer to, if any.
    pub fn shared_shortcut(&self, a: Command, b: Command) -> Option<KeyboardShortcut> {
        if a == b {
            return None;
        }
        let keys_b = self.all_shortcuts(b);
        self.all_shortcuts(a)
            .into_iter()
            .find(|s| keys_b.contains(s))
    }

    /// The shortcut and then the fixed alternatives of `cmd`, normalised.
    fn all_shortcuts(&self, cmd: Command) -> Vec<KeyboardShortcut> {
        self.shortcut(cmd)
            .into_iter()
            .chain(cmd.alternatives().iter().copied())
            .map(normalize)
            .collect()
    }

    /// JSON object {command_id: "Ctrl+Shift+Z", ...} holding ONLY the entries that differ from defaults.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .overrides
            .iter()
            .map(|(cmd, s)| (cmd.id().to_owned(), format_shortcut(s).into()))
            .collect();
        serde_json::to_string_pretty(&serde_json::Value::Object(map))
            .unwrap_or_else(|_| "{}".to_owned())
    }

    /// Parses what to_json wrote; unknown command ids or unparsable shortcuts are skipped and reported in the Vec<String> of warnings (never an error that loses the rest).
    pub fn from_json(text: &str) -> (Keymap, Vec<String>) {
        let mut keymap = Keymap::default();
        let mut warnings = Vec::new();
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                warnings.push(format!(
                    "keyboard shortcuts are not valid JSON ({e}); using the defaults"
                ));
                return (keymap, warnings);
            }
        };
        let serde_json::Value::Object(map) = value else {
            warnings.push("keyboard shortcuts are not a JSON object; using the defaults".into());
            return (keymap, warnings);
        };
        for (id, value) in map {
            let Some(cmd) = Command::from_id(&id) else {
                warnings.push(format!("unknown command \"{id}\" in keyboard shortcuts"));
                continue;
            };
            let Some(text) = value.as_str() else {
                warnings.push(format!("the shortcut for \"{id}\" is not a string"));
                continue;
            };
            match parse_shortcut(text) {
                Some(s) => keymap.set(cmd, s),
                None => warnings.push(format!("unrecognised shortcut \"{text}\" for \"{id}\"")),
            }
        }
        (keymap, warnings)
    }

    /// Commands whose shortcut (or a fixed alternative) was pressed this frame, consuming those key events.
    /// Shortcuts with more modifiers are checked first so Ctrl+Shift+Z is not also taken as Ctrl+Z.
    ///
    /// Matching follows egui's [`Modifiers::matches_logically`]: extra Shift/Alt
    /// held with a shortcut that does not name them still match. Whether to
    /// call this while a text field has focus is the caller's decision.
    pub fn pressed(&self, ctx: &egui::Context) -> Vec<Command> {
        let mut entries: Vec<(Command, KeyboardShortcut)> = Command::ALL
            .iter()
            .flat_map(|&cmd| self.all_shortcuts(cmd).into_iter().map(move |s| (cmd, s)))
            .collect();
        // Stable sort: among equals, the command's own shortcut and ALL order win.
        entries.sort_by_key(|(_, s)| Reverse(modifier_count(s.modifiers)));
        let mut fired = Vec::new();
        ctx.input_mut(|input| {
            for (cmd, shortcut) in &entries {
                if input.consume_shortcut(shortcut) && !fired.contains(cmd) {
                    fired.push(*cmd);
                }
            }
        });
        fired
    }

    /// "Ctrl+Shift+Z" style text for menus/tooltips ("" without a shortcut).
    pub fn text(&self, cmd: Command) -> String {
        self.shortcut(cmd)
            .map(|s| format_shortcut(&s))
            .unwrap_or_default()
    }

    /// "Undo (Ctrl+Z)", and on a second line the command's tooltip, if any.
    pub fn tooltip(&self, cmd: Command) -> String {
        let mut text = match self.shortcut(cmd) {
            Some(s) => format!("{} ({})", cmd.label(), format_shortcut(&s)),
            None => cmd.label().to_owned(),
        };
        let more = cmd.spec().tooltip;
        if !more.is_empty() {
            text.push('\n');
            text.push_str(more);
        }
        text
    }
}

/// Ctrl, ⌘ and egui's "command" all become [`Modifiers::COMMAND`], so that
/// stored shortcuts are platform-independent and compare equal.
fn normalize(s: KeyboardShortcut) -> KeyboardShortcut {
    let m = s.modifiers;
    let modifiers = Modifiers {
        alt: m.alt,
        ctrl: false,
        shift: m.shift,
        mac_cmd: false,
        command: m.ctrl || m.command || m.mac_cmd,
    };
    KeyboardShortcut::new(modifiers, s.logical_key)
}

fn modifier_count(m: Modifiers) -> usize {
    usize::from(m.ctrl || m.command || m.mac_cmd) + usize::from(m.shift) + usize::from(m.alt)
}

/// "Ctrl+Shift+Z", "F1", "Right" (the key is egui's [`Key::name`]); the
/// COMMAND modifier (and Ctrl, ⌘) is written as "Ctrl". Order: Ctrl, Alt, Shift.
pub fn format_shortcut(s: &KeyboardShortcut) -> String {
    let s = normalize(*s);
    let mut out = String::new();
    if s.modifiers.command {
        out.push_str("Ctrl+");
    }
    if s.modifiers.alt {
        out.push_str("Alt+");
    }
    if s.modifiers.shift {
        out.push_str("Shift+");
    }
    out.push_str(s.logical_key.name());
    out
}

/// Parses [`format_shortcut`]'s output and hand-written variants: modifiers
/// Ctrl/Control/Cmd/Command, Shift, Alt/Option in any case; the key by
/// [`Key::from_name`] (any case). `None` for an empty or unknown key or
/// modifier.
pub fn parse_shortcut(text: &str) -> Option<KeyboardShortcut> {
    let text = text.trim();
    let (mods, key) = match text.strip_suffix("++") {
        Some(mods) => (mods, "+"),
        None => text.rsplit_once('+').unwrap_or(("", text)),
    };
    let key = parse_key(key.trim())?;
    let mut modifiers = Modifiers::NONE;
    if !mods.trim().is_empty() {
        for token in mods.split('+') {
            let m = match token.trim().to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "cmd" | "command" | "⌘" => Modifiers::COMMAND,
                "shift" | "⇧" => Modifiers::SHIFT,
                "alt" | "option" | "opt" | "⌥" => Modifiers::ALT,
                _ => return None,
            };
            modifiers |= m;
        }
    }
    Some(KeyboardShortcut::new(modifiers, key))
}

fn parse_key(name: &str) -> Option<Key> {
    if name.is_empty() {
        return None;
    }
    Key::from_name(name).or_else(|| {
        Key::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    })
}

/// Keys that only modify others; pressing one alone never makes a shortcut.
fn is_bare_modifier(key: Key) -> bool {
    matches!(
        key,
        Key::ShiftLeft
            | Key::ShiftRight
            | Key::ControlLeft
            | Key::ControlRight
            | Key::AltLeft
            | Key::AltRight
            | Key::SuperLeft
            | Key::SuperRight
            | Key::CapsLock
            | Key::NumLock
            | Key::Fn
    )
}

/// State of the "Keyboard shortcuts" settings window.
#[derive(Default)]
pub struct KeymapEditor {
    pub open: bool,
    /// The keymap being edited; only handed back on Save.
    working: Keymap,
    /// The command waiting for its new key.
    capturing: Option<Command>,
}

impl KeymapEditor {
    /// Opens the window on a copy of `current`.
    pub fn open_with(&mut self, current: &Keymap) {
        self.working = current.clone();
        self.capturing = None;
        self.open = true;
    }

    /// Whether the window is waiting for a key press (the caller should not
    /// treat key presses as commands meanwhile; the editor consumes the one it takes).
    pub fn is_capturing(&self) -> bool {
        self.open && self.capturing.is_some()
    }

    /// Takes the next key press (with its modifiers) as `cmd`'s shortcut;
    /// Escape cancels; bare modifier keys are ignored.
    fn capture(&mut self, ctx: &egui::Context, cmd: Command) {
        let pressed = ctx.input_mut(|input| {
            let index = input.events.iter().position(
                |e| matches!(e, Event::Key { key, pressed: true, .. } if !is_bare_modifier(*key)),
            )?;
            match input.events.remove(index) {
                Event::Key { key, modifiers, .. } => Some((key, modifiers)),
                _ => None,
            }
        });
        match pressed {
            Some((Key::Escape, _)) => self.capturing = None,
            Some((key, modifiers)) => {
                self.working.set(cmd, KeyboardShortcut::new(modifiers, key));
                self.capturing = None;
            }
            None => {}
        }
    }

    /// Draws the window "Keyboard shortcuts settings" when open: per command
    /// its label, its shortcut, a "Change {label}" and a "Reset" button;
    /// conflicts in red; "Save" and "Cancel". Returns Some(new keymap) when
    /// the user clicks Save (which also closes it).
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Keymap> {
        if !self.open {
            self.capturing = None;
            return None;
        }
        if let Some(cmd) = self.capturing {
            self.capture(ctx, cmd);
        }
        let warn = Color32::from_rgb(240, 110, 110);
        let conflicts = self.working.conflicts();
        let mut window_open = true;
        let mut save = false;
        let mut cancel = false;
        egui::Window::new("Keyboard shortcuts settings")
            .open(&mut window_open)
            .collapsible(false)
            .default_width(560.0)
            .show(ctx, |ui| {
                ui.label(
                    "Click \"Change\", then press the new key with its modifiers (Escape cancels).",
                );
                ui.add_space(4.0);
                egui::ScrollArea::vertical()
                    .max_height(420.0)
                    .show(ui, |ui| {
                        egui::Grid::new("keymap-editor-grid")
                            .num_columns(4)
                            .striped(true)
                            .show(ui, |ui| {
                                for cmd in Command::ALL {
                                    self.row(ui, cmd, &conflicts, warn);
                                    ui.end_row();
                                }
                            });
                    });
                if !conflicts.is_empty() {
                    ui.add_space(4.0);
                    for &(a, b) in &conflicts {
                        let key = self
                            .working
                            .shared_shortcut(a, b)
                            .map(|s| format_shortcut(&s))
                            .unwrap_or_default();
                        ui.colored_label(
                            warn,
                            format!("“{}” and “{}” both use {key}", a.label(), b.label()),
                        );
                    }
                }
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    save = ui.button("Save").clicked();
                    cancel = ui.button("Cancel").clicked();
                    if ui
                        .add_enabled(
                            self.working != Keymap::default(),
                            egui::Button::new("Reset all"),
                        )
                        .clicked()
                    {
                        self.working = Keymap::default();
                        self.capturing = None;
                    }
                });
            });
        if save || cancel || !window_open {
            self.open = false;
            self.capturing = None;
        }
        save.then(|| self.working.clone())
    }

    fn row(
        &mut self,
        ui: &mut egui::Ui,
        cmd: Command,
        conflicts: &[(Command, Command)],
        warn: Color32,
    ) {
        ui.label(cmd.label());
        if self.capturing == Some(cmd) {
            ui.label(RichText::new("Press a key…").italics());
        } else {
            let mut text = RichText::new(self.working.text(cmd)).monospace();
            if conflicts.iter().any(|&(a, b)| a == cmd || b == cmd) {
                text = text.color(warn);
            }
            let alternatives: Vec<String> =
                cmd.alternatives().iter().map(format_shortcut).collect();
            let response = ui.label(text);
            if !alternatives.is_empty() {
                response.on_hover_text(format!("Also: {}", alternatives.join(", ")));
            }
        }
        if ui.button(format!("Change {}", cmd.label())).clicked() {
            self.capturing = Some(cmd);
        }
        if ui
            .add_enabled(self.working.is_remapped(cmd), egui::Button::new("Reset"))
            .on_hover_text(match cmd.default_shortcut() {
                Some(s) => format!("Back to {}", format_shortcut(&s)),
                None => "Back to no shortcut".to_owned(),
            })
            .clicked()
        {
            self.working.reset(cmd);
            if self.capturing == Some(cmd) {
                self.capturing = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::RawInput;

    fn shortcut(text: &str) -> KeyboardShortcut {
        parse_shortcut(text).unwrap()
    }

    #[test]
    fn format_parse_round_trip_for_every_default() {
        for cmd in Command::ALL {
            let Some(s) = cmd.default_shortcut() else {
                continue;
            };
            let text = format_shortcut(&s);
            assert_eq!(parse_shortcut(&text), Some(normalize(s)), "{cmd:?}: {text}");
        }
        assert_eq!(
            format_shortcut(&Command::Redo.default_shortcut().unwrap()),
            "Ctrl+Shift+Z"
        );
        assert_eq!(
            format_shortcut(&Command::ToggleHelp.default_shortcut().unwrap()),
            "F1"
        );
        assert_eq!(
            format_shortcut(&Command::NextItem.alternatives()[0]),
            "Right"
        );
    }

    #[test]
    fn format_parse_round_trip_for_every_key() {
        for &key in Key::ALL {
            let s = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::ALT, key);
            assert_eq!(parse_shortcut(&format_shortcut(&s)), Some(s), "{key:?}");
        }
    }

    #[test]
    fn parse_accepts_variants_and_rejects_garbage() {
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        assert_eq!(parse_shortcut("ctrl+shift+z"), Some(redo));
        assert_eq!(parse_shortcut(" Cmd + SHIFT + Z "), Some(redo));
        assert_eq!(parse_shortcut("command+shift+z"), Some(redo));
        assert_eq!(
            parse_shortcut("alt+f5"),
            Some(KeyboardShortcut::new(Modifiers::ALT, Key::F5))
        );
        assert_eq!(
            parse_shortcut("ArrowRight"),
            Some(KeyboardShortcut::new(Modifiers::NONE, Key::ArrowRight))
        );
        assert_eq!(
            parse_shortcut("Ctrl++"),
            Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::Plus))
        );
        for bad in ["", "Ctrl+", "Ctrl+Nonsense", "Hyper+Z", "Ctrl++Z", "+"] {
            assert_eq!(parse_shortcut(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn set_normalises_and_setting_the_default_removes_the_override() {
        let mut km = Keymap::default();
        km.set(
            Command::Undo,
            KeyboardShortcut::new(Modifiers::CTRL | Modifiers::COMMAND, Key::Z),
        );
        assert_eq!(km, Keymap::default());
        km.set(Command::Undo, shortcut("U"));
        assert_eq!(km.shortcut(Command::Undo), Some(shortcut("U")));
        assert_eq!(km.tooltip(Command::Undo), "Undo (U)");
        km.reset(Command::Undo);
        assert_eq!(km, Keymap::default());
        assert_eq!(km.tooltip(Command::Undo), "Undo (Ctrl+Z)");
        // A row's tooltip goes on a second line; no shortcut, no brackets.
        assert_eq!(
            km.tooltip(Command::EraseBundle),
            format!(
                "Erase this bundle…\n{}",
                Command::EraseBundle.spec().tooltip
            )
        );
        assert_eq!(km.text(Command::Redo), "Ctrl+Shift+Z");
    }

    #[test]
    fn to_json_writes_only_changed_entries() {
        let mut km = Keymap::default();
        assert_eq!(km.to_json(), "{}");
        km.set(Command::Undo, shortcut("Ctrl+U"));
        km.set(
            Command::NextItem,
            Command::NextItem.default_shortcut().unwrap(),
        );
        let value: serde_json::Value = serde_json::from_str(&km.to_json()).unwrap();
        assert_eq!(value, serde_json::json!({ "undo": "Ctrl+U" }));
    }

    #[test]
    fn from_json_round_trip() {
        let mut km = Keymap::default();
        km.set(Command::Undo, shortcut("Ctrl+U"));
        km.set(Command::NextItem, shortcut("Alt+Shift+Right"));
        km.set(Command::ToggleHelp, shortcut("F2"));
        let (back, warnings) = Keymap::from_json(&km.to_json());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(back, km);
    }

    #[test]
    fn from_json_skips_bad_entries_and_keeps_the_rest() {
        let text = r#"{"undo": "Ctrl+U", "no_such_command": "X", "redo": "Ctrl+Nonsense", "next_item": "N"}"#;
        let (km, warnings) = Keymap::from_json(text);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(km.shortcut(Command::Undo), Some(shortcut("Ctrl+U")));
        assert_eq!(km.shortcut(Command::NextItem), Some(shortcut("N")));
        assert_eq!(km.shortcut(Command::Redo), Command::Redo.default_shortcut());

        let (km, warnings) = Keymap::from_json("not json");
        assert_eq!(km, Keymap::default());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn conflicts_find_a_remap_onto_another_default() {
        let mut km = Keymap::default();
        assert_eq!(km.conflicts(), vec![]);
        km.set(
            Command::ZoomFit,
            Command::ToolBox.default_shortcut().unwrap(),
        );
        assert_eq!(km.conflicts(), vec![(Command::ToolBox, Command::ZoomFit)]);
        // A fixed alternative counts too: Right is also "next item".
        km.reset(Command::ZoomFit);
        km.set(Command::ToolPoint, shortcut("Right"));
        assert_eq!(
            km.conflicts(),
            vec![(Command::NextItem, Command::ToolPoint)]
        );
        assert_eq!(
            km.shared_shortcut(Command::NextItem, Command::ToolPoint),
            Some(shortcut("Right"))
        );
    }

    fn press(keymap: &Keymap, key: Key, modifiers: Modifiers) -> Vec<Command> {
        let ctx = egui::Context::default();
        let input = RawInput {
            events: vec![
                Event::ModifiersChanged(modifiers),
                Event::Key {
                    key,
                    physical_key: None,
                    pressed: true,
                    repeat: false,
                    modifiers,
                },
            ],
            ..Default::default()
        };
        let mut got = Vec::new();
        ctx.run_pass(input, |ctx| got = keymap.pressed(ctx))
            .drop_without_applying_deltas();
        got
    }

    #[test]
    fn pressed_prefers_the_shortcut_with_more_modifiers() {
        let km = Keymap::default();
        let ctrl = Modifiers::COMMAND | Modifiers::CTRL;
        assert_eq!(
            press(&km, Key::Z, ctrl | Modifiers::SHIFT),
            vec![Command::Redo]
        );
        assert_eq!(press(&km, Key::Z, ctrl), vec![Command::Undo]);
        assert_eq!(press(&km, Key::Y, ctrl), vec![Command::Redo]);
        assert_eq!(
            press(&km, Key::L, Modifiers::SHIFT),
            vec![Command::ToggleLocked]
        );
        assert_eq!(
            press(&km, Key::L, Modifiers::NONE),
            vec![Command::ToolPolyline]
        );
        assert_eq!(
            press(&km, Key::ArrowRight, Modifiers::NONE),
            vec![Command::NextItem]
        );
        assert_eq!(press(&km, Key::Q, Modifiers::NONE), vec![]);
    }

    #[test]
    fn pressed_follows_a_remap() {
        let mut km = Keymap::default();
        km.set(Command::Undo, shortcut("U"));
        assert_eq!(press(&km, Key::U, Modifiers::NONE), vec![Command::Undo]);
        assert_eq!(press(&km, Key::Z, Modifiers::COMMAND), vec![]);
    }

    #[test]
    fn editor_captures_a_key_and_saves() {
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        let mut editor = KeymapEditor::default();
        editor.open_with(&Keymap::default());
        let mut h = Harness::builder()
            .with_size(egui::vec2(900.0, 800.0))
            .build_ui_state(
                |ui, (editor, saved): &mut (KeymapEditor, Option<Keymap>)| {
                    if let Some(km) = editor.ui(ui.ctx()) {
                        *saved = Some(km);
                    }
                },
                (editor, None),
            );
        h.run();
        h.get_by_label("Change Next item").click();
        h.run();
        assert!(h.state().0.is_capturing());
        h.key_press(Key::N);
        h.run();
        assert!(!h.state().0.is_capturing());
        // Escape cancels a capture without changing anything.
        h.get_by_label("Change Undo").click();
        h.run();
        h.key_press(Key::Escape);
        h.run();
        assert!(!h.state().0.is_capturing());
        h.get_by_label("Save").click();
        h.run();
        let (editor, saved) = h.into_state();
        assert!(!editor.open);
        let saved = saved.expect("Save returns the keymap");
        assert_eq!(saved.shortcut(Command::NextItem), Some(shortcut("N")));
        assert_eq!(
            saved.shortcut(Command::Undo),
            Command::Undo.default_shortcut()
        );
    }

    #[test]
    fn editor_cancel_discards_changes() {
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        let mut editor = KeymapEditor::default();
        editor.open_with(&Keymap::default());
        let mut h = Harness::builder()
            .with_size(egui::vec2(900.0, 800.0))
            .build_ui_state(
                |ui, (editor, saved): &mut (KeymapEditor, Option<Keymap>)| {
                    if let Some(km) = editor.ui(ui.ctx()) {
                        *saved = Some(km);
                    }
                },
                (editor, None),
            );
        h.run();
        h.get_by_label("Change Next item").click();
        h.run();
        h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::N);
        h.run();
        assert_eq!(
            h.state().0.working.shortcut(Command::NextItem),
            Some(shortcut("Ctrl+Shift+N"))
        );
        // Taking another command's key shows a warning.
        h.get_by_label("Change Previous item").click();
        h.run();
        h.key_press(Key::B);
        h.run();
        h.get_by_label_contains("both use B");
        h.get_by_label("Cancel").click();
        h.run();
        let (editor, saved) = h.into_state();
        assert!(!editor.open);
        assert_eq!(saved, None);
    }
}
