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
        /// than the preview; uploaded only once the user zooms in past it.
        full: Option<std::sync::Arc<Vec<Tile>>>,
        /// Original size, the frame of every label coordinate.
        width: u32,
        height: u32,
    },
    Audio {
        bytes: Vec<u8>,
        format: String,
        duration_secs: f64,
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
                    let content = decode(&request);
                    if res_tx.send(Loaded { item_id, content }).is_err() {
                        break;
                    }
                    repaint.request_repaint();
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

fn decode(item: &ItemBlobRef) -> LoadedContent {
    let content = match item.decrypt() {
        Ok(c) => c,
        Err(e) => return LoadedContent::Failed(e.to_string()),
    };
    match content.summary.kind {
        ItemKind::Image => decode_image(&content.bytes),
        ItemKind::Audio => LoadedContent::Audio {
            bytes: content.bytes.to_vec(),
            format: content.summary.format.clone(),
            duration_secs: content.summary.duration_secs.unwrap_or(0.0),
        },
        ItemKind::Text => match std::str::from_utf8(&content.bytes) {
            Ok(text) => LoadedContent::Text {
                text: text.to_string(),
                metadata: content.metadata.clone(),
            },
            Err(e) => LoadedContent::Failed(format!("stored text is not UTF-8: {e}")),
        },
    }
}

/// Decodes image bytes into display textures' pixels (also used by the bench).
pub fn decode_image(bytes: &[u8]) -> LoadedContent {
    let mut reader =
        match image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format() {
            Ok(r) => r,
            Err(e) => return LoadedContent::Failed(format!("cannot read image: {e}")),
        };
    // Imported images were already checked against these limits; keep them
    // anyway so a damaged bundle cannot make the viewer allocate unboundedly.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let decoded = match reader.decode() {
        Ok(d) => d,
        Err(e) => return LoadedContent::Failed(format!("cannot decode image: {e}")),
    };
    let (width, height) = (decoded.width(), decoded.height());
    let to_colour = |img: &image::DynamicImage| {
        let rgba = img.to_rgba8();
        let size = [rgba.width() as usize, rgba.height() as usize];
        egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw())
    };
    if width.max(height) <= PREVIEW_SIDE {
        return LoadedContent::Image {
            preview: to_colour(&decoded),
            full: None,
            width,
            height,
        };
    }
    let preview = to_colour(&decoded.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE));
    let full = if width.max(height) > MAX_FULL_SIDE {
        decoded.thumbnail(MAX_FULL_SIDE, MAX_FULL_SIDE)
    } else {
        decoded
    };
    let tiles = tile(&full, width, height);
    LoadedContent::Image {
        preview,
        full: Some(std::sync::Arc::new(tiles)),
        width,
        height,
    }
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
