//! Decrypts and decodes items on a worker thread so the UI never blocks on
//! disk or decoding. Results come back over a channel; plaintext stays in
//! memory only.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

use crate::controller::ItemBlobRef;
use crate::model::ItemKind;

/// Largest texture side we upload; bigger images are downscaled for display
/// only (label coordinates stay in original pixels).
pub const MAX_TEXTURE_SIDE: u32 = 4096;

pub enum LoadedContent {
    Image {
        /// Display pixels (possibly downscaled).
        image: egui::ColorImage,
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
}

impl Loader {
    pub fn spawn(ctx: egui::Context) -> std::io::Result<Self> {
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
                    ctx.request_repaint();
                }
            })?;
        Ok(Self {
            requests: req_tx,
            results: res_rx,
        })
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

fn decode_image(bytes: &[u8]) -> LoadedContent {
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
    let display = if width.max(height) > MAX_TEXTURE_SIDE {
        decoded.thumbnail(MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE)
    } else {
        decoded
    };
    let rgba = display.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    LoadedContent::Image {
        image: egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()),
        width,
        height,
    }
}
