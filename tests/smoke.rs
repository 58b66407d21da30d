//! The real binary, in a real (virtual) X display: it must start, unlock
//! the demo, render the workspace and exit cleanly. The screenshot is kept in
//! `target/smoke-screenshot.png` for a person to look at.

#![cfg(feature = "gui")]

use std::process::Command;

#[test]
fn gui_starts_unlocks_the_demo_and_renders_the_workspace() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::path::Path::new(root).join("target/smoke-screenshot.png");
    let status = Command::new(format!("{root}/packaging/smoke-test.sh"))
        .arg(env!("CARGO_BIN_EXE_sealtag"))
        .arg(&out)
        .status()
        .expect("packaging/smoke-test.sh runs (needs bash and xvfb-run: packaging/ensure-deps.sh)");
    assert!(status.success(), "smoke test failed: {status}");
    let shot = image::open(&out).expect("screenshot is a PNG").to_rgb8();
    assert!(
        shot.width() >= 800 && shot.height() >= 500,
        "{}x{}",
        shot.width(),
        shot.height()
    );
    // A rendered workspace (panels, text, the demo photo) has many colours;
    // a blank, black or crashed window has a handful.
    let mut colours: Vec<[u8; 3]> = shot.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 2000,
        "only {} distinct colours: nothing was rendered",
        colours.len()
    );
    // The centre shows the photo (not a uniform panel background).
    let (cx, cy) = (shot.width() / 2, shot.height() / 2);
    let mut centre: Vec<[u8; 3]> = (cy - 100..cy + 100)
        .flat_map(|y| (cx - 100..cx + 100).map(move |x| (x, y)))
        .map(|(x, y)| shot.get_pixel(x, y).0)
        .collect();
    centre.sort_unstable();
    centre.dedup();
    assert!(
        centre.len() > 500,
        "the centre has only {} colours: no image shown",
        centre.len()
    );
}
