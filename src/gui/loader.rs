//! Decrypts and decodes items on a worker thread so the UI never blocks on
//! disk or decoding. Results come back over a channel; plaintext stays in
//! memory only.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

use crate::controller::ItemBlobRef;
use crate::model::ItemKind;

/// Side of the preview shown while zoomed out: small enough to upload in a
/// few milliseconds when switching items.
pub const PREVIEW_SIDE: u32 = 2048;
/// Full resolution is uploaded as tiles of at most this side, which every
/// GPU (and egui's test renderer) accepts.
pub const TILE_SIDE: u32 = 2048;
/// Originals larger than this are shown downscaled to it even at full zoom
/// (bounds memory: 16384² RGBA is 1 GiB). Label coordinates always stay in
/// original pixels.
pub const MAX_FULL_SIDE: u32 = 12_000;

/// One tile of the full-resolution image; `rect` is in original pixels.
pub struct Tile {
    pub rect: egui::Rect,
    pub image: egui::ColorImage,
}

pub enum LoadedContent {
    Image {
        /// Downscaled to at most [`PREVIEW_SIDE`] (or the image itself if smaller).
        preview: egui::ColorImage,
        /// Full resolution (capped at [`MAX_FULL_SIDE`]) in tiles, when larger
        /// than the preview. Arrives after the preview (see `Tiles`) and is
        /// uploaded only once the user zooms in past the preview.
        full: Option<std::sync::Arc<Vec<Tile>>>,
        /// Original size, the frame of every label coordinate.
        width: u32,
        height: u32,
    },
    /// Full-resolution tiles of an image whose preview was sent before:
    /// the preview goes out first so switching items never waits for them.
    Tiles(std::sync::Arc<Vec<Tile>>),
    Audio {
        /// The encoded recording, shared (not copied) with waveform and player.
        bytes: crate::peaks::SharedAudio,
        format: String,
        duration_secs: f64,
        /// The waveform overview (from the bundle's cache, or computed).
        peaks: Option<crate::peaks::Peaks>,
        /// True when computed now: the workspace stores it for next time.
        peaks_new: bool,
    },
    Text {
        text: String,
        metadata: serde_json::Value,
    },
    Failed(String),
}

pub struct Loaded {
    pub item_id: i64,
    pub content: LoadedContent,
}

/// A background decoder; drop it to stop the thread.
pub struct Loader {
    requests: Sender<ItemBlobRef>,
    pub results: Receiver<Loaded>,
    ctx: egui::Context,
}

impl Loader {
    pub fn spawn(ctx: egui::Context) -> std::io::Result<Self> {
        let repaint = ctx.clone();
        let (req_tx, req_rx) = channel::<ItemBlobRef>();
        let (res_tx, res_rx) = channel::<Loaded>();
        thread::Builder::new()
            .name("item-decoder".into())
            .spawn(move || {
                for request in req_rx {
                    let item_id = request.summary.id;
                    let mut send = |content| {
                        let ok = res_tx.send(Loaded { item_id, content }).is_ok();
                        repaint.request_repaint();
                        ok
                    };
                    if !decode(&request, &mut send) {
                        break;
                    }
                }
            })?;
        Ok(Self {
            requests: req_tx,
            results: res_rx,
            ctx,
        })
    }

    /// The GUI context (for uploading textures of prefetched items).
    pub fn ctx(&self) -> egui::Context {
        self.ctx.clone()
    }

    pub fn request(&self, item: ItemBlobRef) {
        let _ = self.requests.send(item);
    }
}

/// Decrypts and decodes one item, handing results to `send` (images: the
/// preview, then the tiles). Returns false when the receiver is gone.
fn decode(item: &ItemBlobRef, send: &mut dyn FnMut(LoadedContent) -> bool) -> bool {
    let mut content = match item.decrypt() {
        Ok(c) => c,
        Err(e) => return send(LoadedContent::Failed(e.to_string())),
    };
    match content.summary.kind {
        ItemKind::Image => match decode_preview(&content.bytes) {
            Ok((decoded, preview)) => {
                let large = decoded.width().max(decoded.height()) > PREVIEW_SIDE;
                send(preview)
                    && (!large
                        || send(LoadedContent::Tiles(std::sync::Arc::new(tiles_of(decoded)))))
            }
            Err(failed) => send(failed),
        },
        ItemKind::Audio => {
            // Moved out of the decrypted buffer (no copy), then shared by
            // reference and wiped when waveform and player are done with it.
            let bytes = crate::peaks::SharedAudio::new(std::mem::take(&mut *content.bytes));
            let (peaks, peaks_new) = match item.cached_peaks() {
                Some(p) => (Some(p), false),
                None => (
                    crate::peaks::compute_peaks_shared(
                        bytes.clone(),
                        &content.summary.format,
                        crate::peaks::FRAMES_PER_BLOCK,
                    )
                    .ok(),
                    true,
                ),
            };
            send(LoadedContent::Audio {
                bytes,
                format: content.summary.format.clone(),
                duration_secs: content.summary.duration_secs.unwrap_or(0.0),
                peaks,
                peaks_new,
            })
        }
        ItemKind::Text => send(match std::str::from_utf8(&content.bytes) {
            Ok(text) => LoadedContent::Text {
                text: text.to_string(),
                metadata: content.metadata.clone(),
            },
            Err(e) => LoadedContent::Failed(format!("stored text is not UTF-8: {e}")),
        }),
    }
}

/// Decodes image bytes and makes the preview: what an item switch waits
/// for. Returns the decoded image too, for [`tiles_of`].
pub fn decode_preview(bytes: &[u8]) -> Result<(image::DynamicImage, LoadedContent), LoadedContent> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| LoadedContent::Failed(format!("cannot read image: {e}")))?;
    // Imported images were already checked against these limits; keep them
    // anyway so a damaged bundle cannot make the viewer allocate unboundedly.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| LoadedContent::Failed(format!("cannot decode image: {e}")))?;
    let (width, height) = (decoded.width(), decoded.height());
    let preview = if width.max(height) <= PREVIEW_SIDE {
        colour_image(&decoded.to_rgba8())
    } else {
        box_downsample(&decoded, width.max(height).div_ceil(PREVIEW_SIDE))
    };
    let content = LoadedContent::Image {
        preview,
        full: None,
        width,
        height,
    };
    Ok((decoded, content))
}

fn colour_image(rgba: &image::RgbaImage) -> egui::ColorImage {
    let size = [rgba.width() as usize, rgba.height() as usize];
    egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw())
}

/// Averages `k`×`k` blocks: one pass over the pixels, several times faster
/// than a general resize, and exact enough for a zoomed-out preview.
fn box_downsample(img: &image::DynamicImage, k: u32) -> egui::ColorImage {
    // JPEGs decode to RGB8 already: borrow instead of copying 72 MB.
    let converted;
    let rgb = match img.as_rgb8() {
        Some(rgb) => rgb,
        None => {
            converted = img.to_rgb8();
            &converted
        }
    };
    let (w, h) = rgb.dimensions();
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let raw = rgb.as_raw();
    let mut pixels = Vec::with_capacity((ow * oh) as usize);
    for oy in 0..oh {
        let (y0, y1) = (oy * k, ((oy + 1) * k).min(h));
        for ox in 0..ow {
            let (x0, x1) = (ox * k, ((ox + 1) * k).min(w));
            let mut sum = [0u32; 3];
            for y in y0..y1 {
                let row = (y * w) as usize * 3;
                for x in x0..x1 {
                    let i = row + x as usize * 3;
                    if let Some(px) = raw.get(i..i + 3) {
                        sum[0] += u32::from(px[0]);
                        sum[1] += u32::from(px[1]);
                        sum[2] += u32::from(px[2]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)).max(1);
            pixels.push(egui::Color32::from_rgb(
                (sum[0] / n) as u8,
                (sum[1] / n) as u8,
                (sum[2] / n) as u8,
            ));
        }
    }
    egui::ColorImage::new([ow as usize, oh as usize], pixels)
}

/// Cuts the decoded image (capped at [`MAX_FULL_SIDE`]) into [`TILE_SIDE`]
/// tiles placed in the original's pixel frame.
pub fn tiles_of(decoded: image::DynamicImage) -> Vec<Tile> {
    let (width, height) = (decoded.width(), decoded.height());
    let full = if width.max(height) > MAX_FULL_SIDE {
        decoded.thumbnail(MAX_FULL_SIDE, MAX_FULL_SIDE)
    } else {
        decoded
    };
    tile(&full, width, height)
}
/// Cuts an image into [`TILE_SIDE`] tiles, each placed in the original's
/// pixel frame (`full` may be a downscaled copy of a `width` × `height` original).
fn tile(full: &image::DynamicImage, width: u32, height: u32) -> Vec<Tile> {
    let rgba = full.to_rgba8();
    let (fw, fh) = rgba.dimensions();
    let (sx, sy) = (
        width as f32 / fw.max(1) as f32,
        height as f32 / fh.max(1) as f32,
    );
    let mut tiles = Vec::new();
    for ty in (0..fh).step_by(TILE_SIDE as usize) {
        for tx in (0..fw).step_by(TILE_SIDE as usize) {
            let (tw, th) = (TILE_SIDE.min(fw - tx), TILE_SIDE.min(fh - ty));
            let part = image::imageops::crop_imm(&rgba, tx, ty, tw, th).to_image();
            let rect = egui::Rect::from_min_size(
                egui::pos2(tx as f32 * sx, ty as f32 * sy),
                egui::vec2(tw as f32 * sx, th as f32 * sy),
            );
            let image =
                egui::ColorImage::from_rgba_unmultiplied([tw as usize, th as usize], part.as_raw());
            tiles.push(Tile { rect, image });
        }
    }
    tiles
}
