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
    /// Waveform overview of a synthetic recording: first time (decode) and
    /// reopening (decrypt + parse the cached peaks).
    pub audio_minutes: f64,
    pub peaks_first_ms: f64,
    pub peaks_reopen_ms: f64,
    /// Peak resident memory of this process so far (Linux VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// Document view frame with this many characters and spans.
    pub text_chars: usize,
    pub text_spans: usize,
    pub text_frame_ms_median: f64,
}

/// A mono 8-bit 8 kHz WAV of `minutes` (speech-like bursts over noise):
/// the cheapest honest stand-in for a long call recording.
fn long_wav(minutes: f64) -> Vec<u8> {
    let n = (8000.0 * 60.0 * minutes) as u32;
    let mut out = Vec::with_capacity(n as usize + 44);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + n).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&n.to_le_bytes());
    let mut x = 0x1234_5678u32;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let burst = (i / 8000) % 3 != 0;
        let amp = if burst { 60 } else { 4 };
        out.push((128 + (x % (2 * amp + 1)) as i32 - amp as i32) as u8);
    }
    out
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Frames of the document view over `chars` characters with `spans` spans.
fn text_frames(chars: usize, spans: usize, frames: usize) -> f64 {
    let ctx = egui::Context::default();
    let words = [
        "customer", "Jane", "called", "about", "order", "4711", "and", "the", "address", "changed",
    ];
    let mut text = String::with_capacity(chars + 16);
    let mut k = 0;
    while text.chars().count() < chars {
        text.push_str(words[k % words.len()]);
        text.push(if k % 17 == 16 { '\n' } else { ' ' });
        k += 1;
    }
    let step = (chars / spans.max(1)).max(2) as u64;
    let annotations: Vec<Annotation> = (0..spans as u64)
        .map(|i| Annotation {
            id: i as i64,
            item_id: 1,
            class_id: 1,
            geometry: Geometry::Span {
                start: i * step,
                end: i * step + step / 2,
                byte_start: 0,
                byte_end: 0,
            },
            attributes: BTreeMap::new(),
            hidden: false,
            locked: false,
            z: 0,
            revision: 1,
            created_by: String::new(),
            source: None,
            score: None,
        })
        .collect();
    let classes = vec![LabelClass {
        id: 1,
        name: "bench".into(),
        colour: "#e6194b".into(),
        hotkey: Some(1),
        tools: default_tools(),
        attributes: vec![],
        skeleton: None,
    }];
    let selected = BTreeSet::new();
    let mut state = super::text_view::TextViewState::default();
    let mut times = Vec::new();
    for frame in 0..frames + 3 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            events: vec![egui::Event::PointerMoved(egui::pos2(
                300.0 + frame as f32,
                300.0,
            ))],
            ..Default::default()
        };
        let t = Instant::now();
        let output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let _ = super::text_view::text_ui(
                        ui,
                        &mut state,
                        &text,
                        &annotations,
                        &classes,
                        &selected,
                    );
                });
            });
        });
        std::hint::black_box(ctx.tessellate(output.shapes, output.pixels_per_point));
        if frame >= 3 {
            times.push(ms(t));
        }
    }
    median_and_p95(times).0
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
                source: None,
                score: None,
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
    // Waveform of a long recording: computed once, then read from the cache.
    let audio_minutes = 180.0;
    let wav = long_wav(audio_minutes);
    let t = Instant::now();
    let peaks = crate::peaks::compute_peaks(wav, "wav", crate::peaks::FRAMES_PER_BLOCK)?;
    let peaks_first_ms = ms(t);
    let key = SecretBytes::<32>::random();
    let mut sealed = Vec::new();
    encrypt_blob(
        &key,
        "bench",
        "peaks",
        &mut peaks.to_bytes().as_slice(),
        &mut sealed,
    )?;
    drop(peaks);
    let t = Instant::now();
    let plain = decrypt_blob(&key, "bench", "peaks", &mut sealed.as_slice(), u64::MAX)?;
    let reopened = crate::peaks::Peaks::from_bytes(&plain)?;
    let peaks_reopen_ms = ms(t);
    anyhow::ensure!(
        (reopened.duration_secs() - audio_minutes * 60.0).abs() < 1.0,
        "bench waveform has the wrong length"
    );
    let peak_rss = peak_rss_mib();
    let (text_chars, text_spans) = (100_000, 2000);
    let text_frame_ms_median = text_frames(text_chars, text_spans, 20);

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
        audio_minutes,
        peaks_first_ms,
        peaks_reopen_ms,
        peak_rss_mib: peak_rss,
        text_chars,
        text_spans,
        text_frame_ms_median,
    })
}
