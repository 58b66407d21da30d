//! GUI figures for `sealtag bench`: canvas frame time with thousands of
//! polygons, and item-switch time (cold and prefetched) next to a bare
//! `image` decode of the same 24-megapixel JPEG, measured in the same run.
//! Frame time covers layout, hit testing and tessellation on the CPU (what
//! the UI thread does); GPU upload and raster are the driver's and are not
//! measured here.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::canvas::{CanvasInput, CanvasState, canvas_ui};
use super::loader::{LoadedContent, decode_preview, tiles_of};
use crate::crypto::{SecretBytes, decrypt_blob, encrypt_blob};
use crate::model::{Annotation, Geometry, LabelClass, Tool, default_tools};

#[derive(Debug, Serialize)]
pub struct GuiBenchReport {
    pub polygons: usize,
    pub vertices_per_polygon: usize,
    pub canvas_frame_ms_median: f64,
    pub canvas_frame_ms_p95: f64,
    /// Frames while zooming (the view changes every frame).
    pub canvas_zoom_frame_ms_median: f64,
    pub image_pixels: u64,
    pub bare_decode_ms: f64,
    /// Decrypt + decode + preview + texture registration (what a switch to
    /// an item that was not prefetched waits for).
    pub switch_cold_ms: f64,
    /// Texture registration of an already decoded preview.
    pub switch_prefetched_ms: f64,
    /// Full-resolution tiles, made on the worker after the preview.
    pub tiles_ms: f64,
}

fn median_and_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.95))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Runs the canvas with `polygons` shapes of `vertices` points for `frames`
/// frames; with `zooming`, every frame zooms a little (the view changes, so
/// nothing cached about the shapes' screen positions can be reused).
fn canvas_frames(polygons: usize, vertices: usize, frames: usize, zooming: bool) -> (f64, f64) {
    let ctx = egui::Context::default();
    let texture = ctx.load_texture(
        "bench",
        egui::ColorImage::new([64, 64], vec![egui::Color32::GRAY; 64 * 64]),
        egui::TextureOptions::LINEAR,
    );
    let (w, h) = (6000u32, 4000u32);
    let classes = vec![LabelClass {
        id: 1,
        name: "bench".into(),
        colour: "#e6194b".into(),
        hotkey: Some(1),
        tools: default_tools(),
        attributes: vec![],
        skeleton: None,
    }];
    let annotations: Vec<Annotation> = (0..polygons)
        .map(|i| {
            let (cx, cy) = (
                (i % 100) as f64 * 59.0 + 30.0,
                (i / 100) as f64 * 79.0 + 40.0,
            );
            let points = (0..vertices)
                .map(|k| {
                    let a = k as f64 / vertices as f64 * std::f64::consts::TAU;
                    [cx + 25.0 * a.cos(), cy + 30.0 * a.sin()]
                })
                .collect();
            Annotation {
                id: i as i64,
                item_id: 1,
                class_id: 1,
                geometry: Geometry::Polygon { points },
                attributes: BTreeMap::new(),
                hidden: false,
                locked: false,
                z: 0,
                revision: 1,
                created_by: String::new(),
            }
        })
        .collect();
    let selected = BTreeSet::from([0i64]);
    let mut state = CanvasState::default();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames + 3 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            // A moving pointer: hover and hit-testing work every frame.
            events: if zooming {
                vec![
                    egui::Event::PointerMoved(egui::pos2(640.0, 400.0)),
                    egui::Event::Zoom(1.002),
                ]
            } else {
                vec![egui::Event::PointerMoved(egui::pos2(
                    200.0 + frame as f32,
                    300.0,
                ))]
            },
            ..Default::default()
        };
        let t = Instant::now();
        let output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                let canvas_input = CanvasInput {
                    texture: &texture,
                    tiles: None,
                    width: w,
                    height: h,
                    annotations: &annotations,
                    classes: &classes,
                    selected: &selected,
                    active_class: classes.first(),
                    tool: Tool::Polygon,
                    opacity: 0.2,
                    tint: egui::Color32::WHITE,
                    watermark: Some("bench · 0000-0000 · 2026-01-01"),
                };
                let _ = canvas_ui(ui, &mut state, &canvas_input);
            });
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        // The first frames warm up fonts and caches.
        if frame >= 3 {
            times.push(ms(t));
        }
    }
    median_and_p95(times)
}

/// A 6000×4000 JPEG with detail (a plain gradient would decode unrealistically fast).
fn sample_jpeg() -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(6000, 4000, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
        image::Rgb([
            (x / 24) as u8 ^ (v as u8 & 0x1f),
            (y / 16) as u8,
            ((x + y) / 40) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img)?;
    Ok(out)
}

pub fn run() -> anyhow::Result<GuiBenchReport> {
    let (polygons, vertices) = (5000, 20);
    let (canvas_frame_ms_median, canvas_frame_ms_p95) =
        canvas_frames(polygons, vertices, 40, false);
    let (canvas_zoom_frame_ms_median, _) = canvas_frames(polygons, vertices, 20, true);

    let jpeg = sample_jpeg()?;
    let mut bare = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(image::load_from_memory(&jpeg)?);
        bare.push(ms(t));
    }
    let key = SecretBytes::<32>::random();
    let mut sealed = Vec::new();
    encrypt_blob(&key, "bench", "jpeg", &mut jpeg.as_slice(), &mut sealed)?;
    let ctx = egui::Context::default();
    let mut cold = Vec::new();
    let mut prefetched = Vec::new();
    let mut tiles = Vec::new();
    for round in 0..3 {
        let t = Instant::now();
        let plain = decrypt_blob(&key, "bench", "jpeg", &mut sealed.as_slice(), u64::MAX)?;
        let (decoded, content) =
            decode_preview(&plain).map_err(|_| anyhow::anyhow!("bench image did not decode"))?;
        let LoadedContent::Image { preview, .. } = content else {
            anyhow::bail!("bench image did not decode to an image");
        };
        let handle = ctx.load_texture(
            format!("cold-{round}"),
            preview.clone(),
            egui::TextureOptions::LINEAR,
        );
        cold.push(ms(t));
        let _ = std::hint::black_box(handle);
        // Prefetched: the worker already decoded; the UI thread only registers the texture.
        let t = Instant::now();
        let handle = ctx.load_texture(
            format!("warm-{round}"),
            preview,
            egui::TextureOptions::LINEAR,
        );
        prefetched.push(ms(t));
        let _ = std::hint::black_box(handle);
        let t = Instant::now();
        std::hint::black_box(tiles_of(decoded));
        tiles.push(ms(t));
    }
    Ok(GuiBenchReport {
        polygons,
        vertices_per_polygon: vertices,
        canvas_frame_ms_median,
        canvas_frame_ms_p95,
        canvas_zoom_frame_ms_median,
        image_pixels: 6000 * 4000,
        bare_decode_ms: median_and_p95(bare).0,
        switch_cold_ms: median_and_p95(cold).0,
        switch_prefetched_ms: median_and_p95(prefetched).0,
        tiles_ms: median_and_p95(tiles).0,
    })
}
