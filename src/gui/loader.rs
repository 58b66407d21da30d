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
/// Largest texture side we ever upload (GPU limits); larger originals are
/// shown downscaled to this even at full zoom. Label coordinates always stay
/// in original pixels.
pub const MAX_TEXTURE_SIDE: u32 = 8192;

pub enum LoadedContent {
    Image {
        /// Downscaled to at most [`PREVIEW_SIDE`] (or the image itself if smaller).
        preview: egui::ColorImage,
        /// Full resolution (capped at [`MAX_TEXTURE_SIDE`]), when larger than the
        /// preview; uploaded only once the user zooms in past the preview.
        full: Option<std::sync::Arc<egui::ColorImage>>,
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
    let full = if width.max(height) > MAX_TEXTURE_SIDE {
        to_colour(&decoded.thumbnail(MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE))
    } else {
        to_colour(&decoded)
    };
    LoadedContent::Image {
        preview,
        full: Some(std::sync::Arc::new(full)),
        width,
        height,
    }
}
