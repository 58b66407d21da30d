//! Fallback fonts for scripts egui's built-in fonts lack (Arabic, CJK and
//! more), read from the system's font directory at start-up. Annotators of
//! Japanese or Arabic texts must see glyphs, not boxes. Missing files are
//! skipped: the app still works with the built-in Latin fonts.

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

pub fn install_fallback_fonts(ctx: &egui::Context) -> usize {
    let mut fonts = egui::FontDefinitions::default();
    let mut added = 0;
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
        let name = format!("fallback-{added}");
        fonts
            .font_data
            .insert(name.clone(), Arc::new(egui::FontData::from_owned(bytes)));
        for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            fonts.families.entry(family).or_default().push(name.clone());
        }
        added += 1;
    }
    if added > 0 {
        ctx.set_fonts(fonts);
    }
    added
}
