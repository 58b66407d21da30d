//! `sealtag bench`: measure unlock, open, label commit, blob crypto, audit
//! verify (and with the `gui` feature the canvas and item switch) on this
//! machine, then print each figure and the goals it is held to.

use anyhow::{Context, Result};
use std::path::Path;

use super::args::BenchArgs;
use super::{Exit, print_json};
use crate::bench::{BenchReport, PackageFigures, ScaleFigures};
use crate::home::Home;

/// One printed line: what was measured, and the figure.
type Row = (String, String);

pub fn run(home: &Home, args: &BenchArgs) -> Result<Exit> {
    let BenchArgs {
        labels,
        blob_mib,
        package_mib,
        export_annotations,
        items,
        audit_rows,
        quick,
        core_only,
        audio_file,
        import,
        import_images,
        prelabel_tasks,
        json,
    } = args;
    let scratch = home.dir.join(format!(
        "bench-{}",
        hex::encode(crate::crypto::random_bytes::<6>())
    ));
    if *import {
        return import_run(&scratch, *import_images, *prelabel_tasks, *json);
    }
    let (export_annotations, scale) = if *quick {
        (
            (*export_annotations).min(10_000),
            ((*items).min(1000), (*audit_rows).min(10_000)),
        )
    } else {
        (*export_annotations, (*items, *audit_rows))
    };
    let r = crate::bench::run(
        &scratch,
        *labels,
        *blob_mib,
        *package_mib,
        export_annotations,
        scale,
    )?;
    let mut figures = serde_json::to_value(&r)?;
    let mut rows = core_rows(&r);
    if let Some(e) = &r.export {
        rows.push((
            format!("COCO export, {} annotations", e.export_annotations),
            format!(
                "{:.2} s ({:.0} MiB, peak RSS growth {:.1} MiB)",
                e.export_coco_secs, e.export_coco_mib, e.export_peak_growth_mib
            ),
        ));
    }
    if let Some(p) = &r.package {
        rows.extend(package_rows(p));
    }
    #[cfg(feature = "gui")]
    if !*core_only {
        gui_figures(&mut figures, &mut rows)?;
    }
    #[cfg(not(feature = "gui"))]
    let _ = core_only;
    if let Some(file) = audio_file {
        audio_file_figure(file, &mut figures, &mut rows)?;
    }
    if let Some(sc) = &r.scale {
        rows.extend(scale_rows(sc));
    }
    rows.insert(
        3,
        (
            "label commit p50 / p99".to_string(),
            format!(
                "{:.2} / {:.2} ms (fdatasync alone: {:.2} / {:.2} ms)",
                r.label_commit_p50_ms, r.label_commit_p99_ms, r.fsync_p50_ms, r.fsync_p99_ms
            ),
        ),
    );
    rows.insert(
        6,
        (
            "raw AEAD, same bytes (reference)".to_string(),
            format!(
                "{:.0} MB/s (blob decrypt = {:.0} % of it)",
                r.raw_cipher_mb_s,
                100.0 * r.blob_decrypt_vs_raw
            ),
        ),
    );
    print_figures(figures, rows, *json)
}

/// The rows, then each goal judged on the figures (or all as JSON).
fn print_figures(mut figures: serde_json::Value, rows: Vec<Row>, json: bool) -> Result<Exit> {
    let goals = crate::bench::goals(&figures);
    if let Some(all) = figures.as_object_mut() {
        all.insert("goals".into(), serde_json::to_value(&goals)?);
    }
    if json {
        print_json(&figures)?;
    } else {
        for (what, figure) in rows {
            println!("{what:<44} {figure}");
        }
        println!();
        println!("{:<28} {:>12} {:>10}  met", "goal", "value", "target");
        for g in &goals {
            println!(
                "{:<28} {:>12.3} {:>10}  {}",
                g.figure,
                g.value,
                g.goal,
                if g.met { "yes" } else { "NO" }
            );
        }
    }
    Ok(Exit::Ok)
}

/// `bench --import`: media import beside a bare decode of the same files,
/// and pre-labels, with Label Studio 1.23.2's figures on this machine.
fn import_run(scratch: &Path, images: usize, tasks: usize, json: bool) -> Result<Exit> {
    let f = crate::bench::import_figures(&scratch.join("import"), images, tasks);
    let _ = std::fs::remove_dir_all(scratch);
    let f = f?;
    let per_sec = |ms: f64| 1000.0 / ms.max(1e-9);
    let rows = vec![
        (
            format!(
                "bare decode, 1 core ({} JPEGs {}x{}, {:.0} MiB)",
                f.images, f.image_width, f.image_height, f.image_mib
            ),
            format!(
                "{:.2} ms/image ({:.0}/s; x{} cores = {:.0}/s)",
                f.bare_decode_ms_per_image,
                per_sec(f.bare_decode_ms_per_image),
                f.cores,
                per_sec(f.bare_decode_ms_per_image) * f.cores as f64
            ),
        ),
        (
            "media import (validate, encrypt, commit)".to_string(),
            format!(
                "{:.2} s, {:.2} ms/image ({:.0}/s) = {:.0} % of cores x bare decode; peak RSS growth {:.0} MiB",
                f.import_secs,
                f.import_ms_per_image,
                per_sec(f.import_ms_per_image),
                100.0 * f.import_vs_cores_bare_decode,
                f.import_peak_growth_mib
            ),
        ),
        (
            "same folder again (all duplicates)".to_string(),
            format!("{:.2} s", f.reimport_secs),
        ),
        (
            format!(
                "items for the pre-labels ({} small JPEGs)",
                f.prelabel_tasks
            ),
            format!("{:.2} s", f.prelabel_items_import_secs),
        ),
        (
            format!(
                "pre-labels, Label Studio JSON ({} tasks, {} boxes)",
                f.prelabel_tasks, f.prelabel_boxes
            ),
            format!(
                "{:.2} s ({:.0} boxes/s); peak RSS growth {:.0} MiB",
                f.prelabel_secs, f.prelabel_boxes_per_sec, f.prelabel_peak_growth_mib
            ),
        ),
        (
            "  Label Studio 1.23.2, same machine".to_string(),
            "10,000 tasks / 50,000 boxes in 10.1 s; 50,000 tasks in 61 s".to_string(),
        ),
    ];
    print_figures(serde_json::to_value(&f)?, rows, json)
}

/// Unlock, open, label commit, blob crypto and audit verify.
fn core_rows(r: &BenchReport) -> Vec<Row> {
    vec![
        (
            // crate::bench seals its identity at the default cost.
            format!(
                "identity unlock (scrypt 2^{})",
                crate::crypto::identity::DEFAULT_SCRYPT_LOG_N
            ),
            format!("{:.1} ms", r.identity_unlock_ms),
        ),
        (
            "project open (slot, DB key, HMAC check)".to_string(),
            format!("{:.1} ms", r.project_open_ms),
        ),
        (
            "label commit (own transaction)".to_string(),
            format!("{:.1} µs ({} labels)", r.label_commit_us, r.labels_written),
        ),
        (
            "blob encrypt (XChaCha20-Poly1305 STREAM)".to_string(),
            format!("{:.0} MB/s", r.blob_encrypt_mb_s),
        ),
        (
            "blob decrypt".to_string(),
            format!("{:.0} MB/s", r.blob_decrypt_mb_s),
        ),
        (
            "audit verify".to_string(),
            format!("{:.1} ms ({} rows)", r.audit_verify_ms, r.audit_rows),
        ),
    ]
}

/// Sealing and opening a work package.
fn package_rows(p: &PackageFigures) -> Vec<Row> {
    vec![
        (
            format!(
                "work package make, {:.0} MiB in {} items",
                p.package_media_mib, p.package_items
            ),
            format!(
                "{:.0} MiB/s ({:.0} MiB file)",
                p.package_make_mib_s, p.package_file_mib
            ),
        ),
        (
            "work package open (new laptop bundle)".to_string(),
            format!("{:.0} MiB/s", p.package_open_mib_s),
        ),
        (
            "blob encrypt / decrypt, same media".to_string(),
            format!(
                "{:.0} / {:.0} MiB/s",
                p.package_blob_encrypt_mib_s, p.package_blob_decrypt_mib_s
            ),
        ),
        (
            format!(
                "peak RSS growth, make / open{}",
                if p.package_peak_was_reset {
                    ""
                } else {
                    " (no reset)"
                }
            ),
            format!(
                "{:.1} / {:.1} MiB",
                p.package_make_peak_growth_mib, p.package_open_peak_growth_mib
            ),
        ),
    ]
}

/// The big synthetic project: open to a usable queue, quality report,
/// memory, audit verify.
fn scale_rows(sc: &ScaleFigures) -> Vec<Row> {
    vec![
        (
            format!("open {} items to a usable queue", sc.scale_items),
            format!(
                "{:.0} ms after the KDF: open {:.0} + queue {:.0} ({} items; CPU {:.0} ms)",
                sc.open_to_queue_ms,
                sc.open_session_ms,
                sc.load_queue_ms,
                sc.queue_items,
                sc.open_to_queue_cpu_ms
            ),
        ),
        (
            format!("quality report, {} items", sc.scale_items),
            format!("{:.0} ms", sc.quality_report_ms),
        ),
        (
            "resident memory, that project open".to_string(),
            format!("{:.0} MiB", sc.rss_open_mib),
        ),
        (
            format!("audit verify, {} rows", sc.audit_rows_verified),
            format!(
                "{:.0} ms, CPU {:.0} ms (peak RSS growth {:.0} MiB)",
                sc.audit_verify_big_ms, sc.audit_verify_big_cpu_ms, sc.audit_verify_peak_growth_mib
            ),
        ),
    ]
}

/// The GUI's figures (canvas frame, item switch, waveform, document frame),
/// added to the JSON and to the printed rows.
#[cfg(feature = "gui")]
fn gui_figures(figures: &mut serde_json::Value, rows: &mut Vec<Row>) -> Result<()> {
    let g = crate::gui::bench::run()?;
    if let (Some(all), serde_json::Value::Object(gui)) =
        (figures.as_object_mut(), serde_json::to_value(&g)?)
    {
        all.extend(gui);
    }
    rows.extend([
        (
            format!(
                "canvas frame, {} polygons × {} vertices",
                g.polygons, g.vertices_per_polygon
            ),
            format!(
                "{:.2} ms median, {:.2} ms p95",
                g.canvas_frame_ms_median, g.canvas_frame_ms_p95
            ),
        ),
        (
            "canvas frame while zooming".to_string(),
            format!("{:.2} ms median", g.canvas_zoom_frame_ms_median),
        ),
        (
            "bare image decode, 24 MP JPEG".to_string(),
            format!("{:.1} ms", g.bare_decode_ms),
        ),
        (
            "item switch, cold (decrypt+decode+preview)".to_string(),
            format!(
                "{:.1} ms ({:.2}× bare decode)",
                g.switch_cold_ms,
                g.switch_cold_ms / g.bare_decode_ms.max(1e-9)
            ),
        ),
        (
            "item switch, prefetched".to_string(),
            format!("{:.2} ms", g.switch_prefetched_ms),
        ),
        (
            format!("waveform of {:.0} min audio, first time", g.audio_minutes),
            format!("{:.0} ms", g.peaks_first_ms),
        ),
        (
            "waveform reopened from the bundle cache".to_string(),
            format!("{:.1} ms", g.peaks_reopen_ms),
        ),
        (
            format!(
                "document frame, {} chars, {} spans",
                g.text_chars, g.text_spans
            ),
            format!("{:.2} ms median", g.text_frame_ms_median),
        ),
        (
            "peak memory of the bench process".to_string(),
            format!("{:.0} MiB", g.peak_rss_mib),
        ),
        (
            "full-resolution tiles (worker, after preview)".to_string(),
            format!("{:.1} ms", g.tiles_ms),
        ),
    ]);
    Ok(())
}

/// The waveform overview of a given audio file (e.g. a long call).
fn audio_file_figure(
    file: &Path,
    figures: &mut serde_json::Value,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("wav")
        .to_lowercase();
    let t = std::time::Instant::now();
    let peaks = crate::peaks::compute_peaks(bytes, &ext, crate::peaks::FRAMES_PER_BLOCK)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if let Some(all) = figures.as_object_mut() {
        all.insert("audio_file_peaks_ms".into(), serde_json::json!(ms));
    }
    rows.push((
        format!(
            "waveform of {} ({:.0} s)",
            file.display(),
            peaks.duration_secs()
        ),
        format!("{ms:.0} ms"),
    ));
    Ok(())
}
