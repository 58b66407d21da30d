//! The privacy screen: for annotators working where others can see the
//! screen. While it is up the workspace paints one solid panel and nothing
//! of the item (no image, text, waveform, queue names, labels or windows).
//!
//! It goes up on the panic hotkey (always, whatever the settings say) and,
//! when the `privacy_screen` setting is on, whenever the window loses
//! focus. Only a deliberate click or key press takes it down again: a
//! window that merely regains focus stays covered, so alt-tabbing back in
//! front of a visitor does not reveal the item.

use egui::{Color32, Event, KeyboardShortcut, RichText};

/// What the cover says.
pub const COVER_TEXT: &str = "Hidden — click or press any key to show";

/// Whether the item is covered, and what the last frame knew about focus.
#[derive(Debug)]
pub struct Shield {
    hidden: bool,
    /// The window had focus last frame (to see it being lost).
    was_focused: bool,
}

impl Default for Shield {
    fn default() -> Self {
        Self {
            hidden: false,
            was_focused: true,
        }
    }
}

impl Shield {
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// Covers the screen now (the panic command from a menu or a script).
    pub fn hide(&mut self) {
        self.hidden = true;
    }

    /// Looks at this frame's input before anything else reads it. Returns
    /// whether the frame must show the cover only.
    ///
    /// `on_focus_loss`: the `privacy_screen` setting. `panic`: the hotkey,
    /// consumed here so it works even while a text field or dialog has the
    /// keyboard.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        on_focus_loss: bool,
        panic: Option<KeyboardShortcut>,
    ) -> bool {
        let focused = ctx.input(|i| i.focused);
        let lost_focus = ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, Event::WindowFocused(false)))
        }) || (self.was_focused && !focused);
        self.was_focused = focused;
        if self.hidden {
            // A press takes the cover down, but this frame still shows the
            // cover and swallows the press: the key or click that revealed
            // the screen must not also act on the item (e.g. D moving on).
            let reveal = ctx.input_mut(|i| {
                let pressed = i.events.iter().any(|e| {
                    matches!(
                        e,
                        Event::Key { pressed: true, .. }
                            | Event::PointerButton { pressed: true, .. }
                    )
                });
                if pressed {
                    i.events.retain(|e| {
                        !matches!(
                            e,
                            Event::Key { .. }
                                | Event::Text(_)
                                | Event::PointerButton { .. }
                                | Event::Copy
                                | Event::Cut
                                | Event::Paste(_)
                        )
                    });
                }
                pressed
            });
            if reveal {
                self.hidden = false;
                ctx.request_repaint();
            }
            return true;
        }
        if panic.is_some_and(|panic| ctx.input_mut(|i| i.consume_shortcut(&panic)))
            || (on_focus_loss && lost_focus)
        {
            self.hidden = true;
            return true;
        }
        false
    }

    /// The cover: one solid panel over the whole window.
    pub fn cover_ui(ui: &mut egui::Ui) {
        egui::CentralPanel::default()
            .frame(egui::Frame::new().fill(Color32::from_rgb(24, 26, 30)))
            .show(ui, |ui| {
                ui.centered_and_justified(|ui| {
                    ui.label(
                        RichText::new(COVER_TEXT)
                            .size(22.0)
                            .color(Color32::from_gray(170)),
                    );
                });
            });
    }
}
