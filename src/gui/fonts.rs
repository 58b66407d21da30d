//! Fallback fonts for what egui's built-in fonts lack: scripts (Arabic, CJK
//! and more) read from the system's font directory at start-up, and emoji
//! and symbols from a font embedded in the binary. Annotators of Japanese
//! or Arabic texts, or of chats full of 🏠 and 🎉, must see glyphs, not
//! boxes. Missing system files are skipped: the app still works with the
//! built-in Latin fonts. Fonts change drawing only, never text offsets.

use std::sync::Arc;

/// Tried in order; each one found is appended as a fallback.
const FALLBACK_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
];
/// Larger files are not fonts we want to load into memory at start-up.
const MAX_FONT_BYTES: u64 = 64 * 1024 * 1024;
/// Monochrome emoji and symbols (a Symbola subset; see assets/fonts/README.md),
/// the last fallback: it draws only what no other font has.
const SYMBOLS_FONT: &[u8] = include_bytes!("../../assets/fonts/Symbola-emoji.ttf");

/// The fonts egui starts with, plus every fallback found; returns how many
/// fallbacks were added (the embedded symbols font always is).
pub fn install_fallback_fonts(ctx: &egui::Context) -> usize {
    let mut fonts = egui::FontDefinitions::default();
    let mut added = 0;
    let mut add = |fonts: &mut egui::FontDefinitions, data: egui::FontData| {
        let name = format!("fallback-{added}");
        fonts.font_data.insert(name.clone(), Arc::new(data));
        for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            fonts.families.entry(family).or_default().push(name.clone());
        }
        added += 1;
    };
    for path in FALLBACK_FONTS {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        if meta.len() > MAX_FONT_BYTES {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        add(&mut fonts, egui::FontData::from_owned(bytes));
    }
    add(&mut fonts, egui::FontData::from_static(SYMBOLS_FONT));
    ctx.set_fonts(fonts);
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_draws_the_demo_chats_emoji() {
        let ctx = egui::Context::default();
        assert!(install_fallback_fonts(&ctx) >= 1);
        // Fonts are loaded on the first frame.
        let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
        output.textures_delta.clear();
        let font = egui::FontId::proportional(14.0);
        for c in ['🏠', '🏡', '🎉', '➡'] {
            assert!(
                ctx.fonts_mut(|f| f.has_glyph(&font, c)),
                "no glyph for {c} (U+{:04X})",
                u32::from(c)
            );
        }
    }
}
