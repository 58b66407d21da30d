//! `sealtag bench --import`: how fast files come in. Media import is timed
//! beside a bare decode of the very same files in the same run (the limit a
//! validating import works against), pre-labels as boxes per second, each
//! with its peak memory. The data are generated here, in the scratch folder.

use anyhow::{Context, Result, ensure};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::controller::Session;
use crate::crypto::UnlockedIdentity;
use crate::import::ImportOptions;

#[derive(Debug, Serialize)]
pub struct ImportFigures {
    pub images: usize,
    pub image_width: u32,
    pub image_height: u32,
    pub image_mib: f64,
    pub cores: usize,
    /// One core decoding the same files with the same decoder, nothing else.
    pub bare_decode_ms_per_image: f64,
    pub import_secs: f64,
    pub import_ms_per_image: f64,
    /// Import rate over (cores × bare decode rate): the goal is ≥ 0.70.
    pub import_vs_cores_bare_decode: f64,
    pub import_peak_growth_mib: f64,
    /// The same folder imported again: every file is found to be in already.
    pub reimport_secs: f64,
    pub prelabel_tasks: usize,
    pub prelabel_boxes: usize,
    pub prelabel_items_import_secs: f64,
    pub prelabel_secs: f64,
    pub prelabel_boxes_per_sec: f64,
    pub prelabel_peak_growth_mib: f64,
}

/// Boxes per pre-label task, as in the Label Studio comparison (10,000
/// tasks with 50,000 boxes).
const BOXES_PER_TASK: usize = 5;

pub fn import_figures(scratch: &Path, images: usize, tasks: usize) -> Result<ImportFigures> {
    std::fs::create_dir_all(scratch)?;
    let (width, height) = (1280, 720);
    let media = scratch.join("media");
    let image_bytes = write_images(&media, images, width, height)?;
    let bare = bare_decode_ms(&media)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let identity = UnlockedIdentity::generate("bench import");
    let mut session = Session::create_project(&scratch.join("import.sealtag"), "bench", identity)?;
    let options = ImportOptions {
        skip_duplicates: true,
        ..ImportOptions::default()
    };
    let mut reset = true;
    let t = Instant::now();
    let (report, import_peak_growth_mib) = super::with_peak_growth(&mut reset, || {
        Ok(session.import(
            std::slice::from_ref(&media),
            &options,
            &AtomicBool::new(false),
            &mut |_, _| {},
        )?)
    })?;
    let import_secs = t.elapsed().as_secs_f64();
    ensure!(
        report.imported_items() == images,
        "the bench's images were not all imported: {:?}",
        report.files.iter().find(|f| f.outcome != "imported")
    );
    let t = Instant::now();
    let again = session.import(
        std::slice::from_ref(&media),
        &options,
        &AtomicBool::new(false),
        &mut |_, _| {},
    )?;
    let reimport_secs = t.elapsed().as_secs_f64();
    ensure!(
        again.files.iter().all(|f| f.outcome == "duplicate"),
        "a second import of the same folder added items"
    );
    session.close()?;
    std::fs::remove_dir_all(&media).ok();

    let import_ms_per_image = import_secs * 1000.0 / images.max(1) as f64;
    let pre = prelabel_figures(&scratch.join("prelabels"), tasks, &mut reset)?;
    Ok(ImportFigures {
        images,
        image_width: width,
        image_height: height,
        image_mib: image_bytes as f64 / (1024.0 * 1024.0),
        cores,
        bare_decode_ms_per_image: bare,
        import_secs,
        import_ms_per_image,
        import_vs_cores_bare_decode: bare / (import_ms_per_image * cores as f64),
        import_peak_growth_mib,
        reimport_secs,
        prelabel_tasks: tasks,
        prelabel_boxes: pre.boxes,
        prelabel_items_import_secs: pre.items_secs,
        prelabel_secs: pre.secs,
        prelabel_boxes_per_sec: pre.boxes as f64 / pre.secs.max(1e-9),
        prelabel_peak_growth_mib: pre.peak_growth_mib,
    })
}

/// A photo-like frame: smooth gradients with fine texture, so the JPEG is
/// about the size and entropy of a real 720p photo, not a flat colour.
fn frame(width: u32, height: u32, seed: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        // Texture that changes per 4x4 block, not per pixel: per-pixel noise
        // makes a JPEG several times larger than a photo of the same size.
        let (bx, by) = (x / 4, y / 4);
        let noise = (bx.wrapping_mul(73_856_093) ^ by.wrapping_mul(19_349_663) ^ seed) % 23;
        let r = ((x * 255 / width) + noise) as u8;
        let g = ((y * 255 / height) + noise * 2) as u8;
        let b = (((x + y + seed * 7) % 256) as u8) ^ (noise as u8);
        image::Rgb([r, g, b])
    })
}

/// JPEG `base` made distinct per file by a comment segment after SOI (the
/// import keeps the bytes, so each file is its own content).
fn numbered(base: &[u8], n: usize) -> Vec<u8> {
    let note = format!("sealtag bench image {n}");
    let len = (note.len() + 2) as u16;
    let mut out = Vec::with_capacity(base.len() + note.len() + 4);
    out.extend_from_slice(&base[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(note.as_bytes());
    out.extend_from_slice(&base[2..]);
    out
}

/// Writes `n` distinct JPEGs (16 different frames, each numbered); returns
/// the bytes written.
fn write_images(dir: &Path, n: usize, width: u32, height: u32) -> Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut bases = Vec::new();
    for seed in 0..16u32.min(n.max(1) as u32) {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode_image(&frame(width, height, seed))
            .context("encoding a bench image")?;
        bases.push(jpeg);
    }
    let mut total = 0;
    for i in 0..n {
        let bytes = numbered(&bases[i % bases.len()], i);
        total += bytes.len() as u64;
        std::fs::write(dir.join(format!("img_{i:06}.jpg")), bytes)?;
    }
    Ok(total)
}

/// Milliseconds per file for one thread reading and decoding every JPEG of
/// `dir` with the decoder the import uses, and nothing else.
fn bare_decode_ms(dir: &Path) -> Result<f64> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let t = Instant::now();
    for f in &files {
        let bytes = std::fs::read(f)?;
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)?;
        std::hint::black_box(img.width());
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / files.len().max(1) as f64)
}

struct PrelabelFigures {
    boxes: usize,
    items_secs: f64,
    secs: f64,
    peak_growth_mib: f64,
}

/// `tasks` small images imported, then a Label Studio export of `tasks`
/// tasks with [`BOXES_PER_TASK`] boxes each imported as pre-labels.
fn prelabel_figures(dir: &Path, tasks: usize, reset: &mut bool) -> Result<PrelabelFigures> {
    let media = dir.join("media");
    std::fs::create_dir_all(&media)?;
    let mut tiny = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut tiny, 80)
        .encode_image(&frame(64, 48, 1))
        .context("encoding a bench image")?;
    for i in 0..tasks {
        std::fs::write(media.join(format!("task_{i:06}.jpg")), numbered(&tiny, i))?;
    }
    let identity = UnlockedIdentity::generate("bench pre-labels");
    let mut session = Session::create_project(&dir.join("pre.sealtag"), "bench", identity)?;
    let t = Instant::now();
    let report = session.import(
        std::slice::from_ref(&media),
        &ImportOptions::default(),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )?;
    let items_secs = t.elapsed().as_secs_f64();
    ensure!(report.imported_items() == tasks, "pre-label bench items");
    std::fs::remove_dir_all(&media).ok();

    let file = label_studio_tasks(tasks);
    let t = Instant::now();
    let (pre, peak_growth_mib) = super::with_peak_growth(reset, || {
        Ok(session.import_prelabels(&file, "labelstudio", "bench-model")?)
    })?;
    let secs = t.elapsed().as_secs_f64();
    ensure!(
        pre.errors.is_empty(),
        "pre-label bench: {:?}",
        pre.errors.first()
    );
    session.close()?;
    Ok(PrelabelFigures {
        boxes: pre.created,
        items_secs,
        secs,
        peak_growth_mib,
    })
}

/// A Label Studio JSON export: one task per image, each with one
/// prediction of [`BOXES_PER_TASK`] `rectanglelabels` results (percent
/// coordinates, as Label Studio writes them).
fn label_studio_tasks(tasks: usize) -> Vec<u8> {
    let classes = ["person", "face", "vehicle"];
    let mut out = Vec::with_capacity(tasks * BOXES_PER_TASK * 260);
    out.push(b'[');
    for i in 0..tasks {
        if i > 0 {
            out.push(b',');
        }
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{{\"id\":{},\"data\":{{\"image\":\"/data/upload/1/task_{i:06}.jpg\"}},\"predictions\":[{{\"model_version\":\"bench\",\"score\":0.9,\"result\":[",
            i + 1
        );
        for b in 0..BOXES_PER_TASK {
            if b > 0 {
                out.push(b',');
            }
            let x = 5.0 + (b * 17 % 60) as f64;
            let y = 4.0 + (b * 13 % 50) as f64;
            let _ = write!(
                out,
                "{{\"id\":\"r{i}_{b}\",\"type\":\"rectanglelabels\",\"from_name\":\"label\",\"to_name\":\"image\",\"original_width\":64,\"original_height\":48,\"image_rotation\":0,\"value\":{{\"x\":{x},\"y\":{y},\"width\":20.5,\"height\":30.25,\"rotation\":0,\"rectanglelabels\":[\"{}\"]}}}}",
                classes[b % classes.len()]
            );
        }
        out.extend_from_slice(b"]}]}");
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_images_are_distinct_valid_jpegs() {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
            .encode_image(&frame(16, 8, 3))
            .expect("encode");
        let (a, b) = (numbered(&jpeg, 1), numbered(&jpeg, 2));
        assert_ne!(a, b);
        for bytes in [a, b] {
            let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
                .expect("still a JPEG");
            assert_eq!((img.width(), img.height()), (16, 8));
        }
    }

    #[test]
    fn the_label_studio_tasks_parse_as_json_with_every_box() {
        let file = label_studio_tasks(3);
        let v: serde_json::Value = serde_json::from_slice(&file).expect("JSON");
        let tasks = v.as_array().expect("list");
        assert_eq!(tasks.len(), 3);
        let boxes: usize = tasks
            .iter()
            .map(|t| t["predictions"][0]["result"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(boxes, 3 * BOXES_PER_TASK);
    }
}
