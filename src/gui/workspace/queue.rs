//! The queue and its prefetch: filtering, opening an item (from the decoded
//! cache or the decoder thread), moving to the next or previous one, and
//! receiving what the decoder delivers.

use super::*;

/// The queue: every item this user may see, the filtered view of it, the
/// current item, and the decoder's work (requested, decoded and waiting).
pub(super) struct Queue {
    pub(super) items: Vec<ItemSummary>,
    /// Indices into `items` that pass the filters, in queue order.
    pub(super) visible: Vec<usize>,
    pub(super) status_filter: Option<ItemStatus>,
    pub(super) search: String,
    /// Index into `items` of the item shown.
    pub(super) current: Option<usize>,
    pub(super) loader: Loader,
    /// Decoded items by id, waiting to be shown (prefetch).
    pub(super) cache: HashMap<i64, LoadedContent>,
    /// Items handed to the decoder and not yet delivered.
    pub(super) requested: HashSet<i64>,
}

impl Queue {
    /// All of `items`, unfiltered, none open yet.
    pub(super) fn new(items: Vec<ItemSummary>, loader: Loader) -> Self {
        Self {
            visible: (0..items.len()).collect(),
            items,
            status_filter: None,
            search: String::new(),
            current: None,
            loader,
            cache: HashMap::new(),
            requested: HashSet::new(),
        }
    }
}

impl Workspace {
    /// Skips the current item with the typed reason and opens the next one.
    pub(super) fn confirm_skip(&mut self) {
        let reason = self.dialogs.skip_reason.take().unwrap_or_default();
        if let Some(item_id) = self.current_item().map(|i| i.id) {
            match self.session.skip(item_id, &reason) {
                Ok(()) => {
                    self.set_current_status(ItemStatus::Skipped);
                    self.go_next();
                }
                Err(e) => {
                    self.fail(e);
                    self.dialogs.skip_reason = Some(reason);
                }
            }
        }
    }

    /// Submits the current item for review and opens the next one.
    pub(super) fn submit_and_next(&mut self) {
        if let Some(item_id) = self.current_item().map(|i| i.id) {
            match self.session.submit(item_id) {
                Ok(()) => {
                    self.set_current_status(ItemStatus::Submitted);
                    self.save_state = SaveState::Saved { at_ms: now_ms() };
                    self.tell(format!("Item {item_id} submitted"));
                    self.go_next();
                }
                Err(e) => self.fail(e),
            }
        }
    }

    /// Recomputes the filtered queue.
    pub(super) fn refilter(&mut self) {
        let needle = self.queue.search.to_lowercase();
        self.queue.visible = self
            .queue
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| self.queue.status_filter.is_none_or(|s| i.status == s))
            .filter(|(_, i)| needle.is_empty() || i.name.to_lowercase().contains(&needle))
            .map(|(n, _)| n)
            .collect();
    }

    pub(super) fn open_item(&mut self, index: usize) {
        // After expiry nothing is decrypted: not even an attempt, which
        // the controller would refuse and audit.
        if self.expiry.expired {
            return;
        }
        let Some(item) = self.queue.items.get(index) else {
            return;
        };
        let item_id = item.id;
        self.queue.current = Some(index);
        self.selected.clear();
        self.canvas.reset_gestures();
        self.canvas.zoom_fit();
        self.text_view.clear();
        self.audio_view.reset();
        self.playback.playhead = 0.0;
        self.playback.playing_since = None;
        self.playback.audio.stop();
        if let Some(content) = self.queue.cache.remove(&item_id) {
            let result = self.session.record_view(item_id);
            self.report(result);
            let ctx = self.queue.loader.ctx();
            self.show(&ctx, item_id, content);
        } else {
            match self.session.open_item(item_id) {
                Ok(blob) => {
                    if self.queue.requested.insert(item_id) {
                        self.queue.loader.request(blob);
                    }
                    self.view = ItemView::Loading;
                }
                Err(e) => self.view = ItemView::Decoded(LoadedContent::Failed(e.to_string())),
            }
        }
        self.reload_annotations();
        self.reload_comments();
        self.reload_work();
        self.consent = Some(ConsentPanel::load(&mut self.session, item_id));
        if self.review.correcting != Some(item_id) {
            self.review.correcting = None;
        }
        self.prefetch_around(index);
    }

    /// Decodes the next items in the background (authorised, not yet
    /// recorded as viewed: that happens when they are shown).
    pub(super) fn prefetch_around(&mut self, index: usize) {
        let pos = self
            .queue
            .visible
            .iter()
            .position(|i| *i == index)
            .unwrap_or(0);
        let ahead: Vec<i64> = self
            .queue
            .visible
            .iter()
            .skip(pos + 1)
            .take(PREFETCH_AHEAD)
            .filter_map(|i| self.queue.items.get(*i).map(|it| it.id))
            .collect();
        for id in ahead {
            if self.queue.cache.contains_key(&id) || self.queue.requested.contains(&id) {
                continue;
            }
            if let Ok(blob) = self.session.prefetch_item(id) {
                self.queue.requested.insert(id);
                self.queue.loader.request(blob);
            }
        }
        // Bound memory: keep only items near the current one.
        if self.queue.cache.len() > CACHE_ITEMS {
            let keep: HashSet<i64> = self
                .queue
                .visible
                .iter()
                .skip(pos.saturating_sub(1))
                .take(PREFETCH_AHEAD + 2)
                .filter_map(|i| self.queue.items.get(*i).map(|it| it.id))
                .collect();
            self.queue.cache.retain(|id, _| keep.contains(id));
        }
    }

    pub(super) fn show(&mut self, ctx: &egui::Context, item_id: i64, content: LoadedContent) {
        self.view = match content {
            LoadedContent::Image {
                preview,
                full,
                width,
                height,
            } => ItemView::Image {
                preview: ctx.load_texture(
                    format!("item-{item_id}-preview"),
                    self.adjust.apply(&preview),
                    egui::TextureOptions::LINEAR,
                ),
                preview_pixels: preview,
                applied: self.adjust,
                full_pixels: full,
                full: None,
                width,
                height,
            },
            other => {
                // A waveform computed now is kept (encrypted) for next time.
                if let LoadedContent::Audio {
                    peaks: Some(peaks),
                    peaks_new: true,
                    ..
                } = &other
                    && let Err(e) = self.session.store_peaks(item_id, peaks)
                {
                    self.tell(format!("Waveform not cached: {e}"));
                }
                ItemView::Decoded(other)
            }
        };
    }

    pub(super) fn reload_annotations(&mut self) {
        let Some(item_id) = self.current_item().map(|i| i.id) else {
            return;
        };
        match self.session.annotations(item_id) {
            Ok(list) => {
                let count = list.len() as u64;
                self.annotations = list;
                if let Some(item) = self.queue.current.and_then(|i| self.queue.items.get_mut(i)) {
                    item.label_count = count;
                    if count > 0 && item.status == ItemStatus::New {
                        item.status = ItemStatus::InProgress;
                    }
                }
            }
            Err(e) => self.fail(e),
        }
        let live: HashSet<i64> = self.annotations.iter().map(|a| a.id).collect();
        self.selected.retain(|id| live.contains(id));
    }

    /// Receives decoded items from the worker thread.
    pub(super) fn poll_loader(&mut self, ctx: &egui::Context) {
        while let Ok(loaded) = self.queue.loader.results.try_recv() {
            let is_current = self.current_item().map(|i| i.id) == Some(loaded.item_id);
            if let LoadedContent::Tiles(tiles) = loaded.content {
                // Full resolution follows its preview: attach it wherever that went.
                if is_current && let ItemView::Image { full_pixels, .. } = &mut self.view {
                    *full_pixels = Some(tiles);
                } else if let Some(LoadedContent::Image { full, .. }) =
                    self.queue.cache.get_mut(&loaded.item_id)
                {
                    *full = Some(tiles);
                }
                continue;
            }
            self.queue.requested.remove(&loaded.item_id);
            if is_current && matches!(self.view, ItemView::Loading) {
                self.show(ctx, loaded.item_id, loaded.content);
            } else {
                self.queue.cache.insert(loaded.item_id, loaded.content);
            }
        }
    }

    pub(super) fn set_current_status(&mut self, status: ItemStatus) {
        if let Some(item) = self.queue.current.and_then(|i| self.queue.items.get_mut(i)) {
            item.status = status;
        }
    }

    pub(super) fn go_next(&mut self) {
        let pos = self
            .queue
            .current
            .and_then(|c| self.queue.visible.iter().position(|i| *i == c));
        let next = match pos {
            Some(p) => self.queue.visible.get(p + 1).copied(),
            None => self.queue.visible.first().copied(),
        };
        if let Some(next) = next {
            self.open_item(next);
        }
    }

    pub(super) fn go_previous(&mut self) {
        let pos = self
            .queue
            .current
            .and_then(|c| self.queue.visible.iter().position(|i| *i == c));
        if let Some(prev) = pos
            .filter(|p| *p > 0)
            .and_then(|p| self.queue.visible.get(p - 1).copied())
        {
            self.open_item(prev);
        }
    }

    /// Merged labels and states: refresh the queue and the current item.
    pub(super) fn reload_after_merge(&mut self) {
        if let Ok(items) = self.session.items() {
            self.queue.items = items;
            self.refilter();
        }
        self.reload_annotations();
    }

    pub(super) fn queue_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        ui.heading("Queue");
        let mut changed = false;
        ui.horizontal(|ui| {
            let label = ui.label("Status");
            egui::ComboBox::from_id_salt("status-filter")
                .selected_text(self.queue.status_filter.map_or("all", ItemStatus::as_str))
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(&mut self.queue.status_filter, None, "all")
                        .changed();
                    for &s in ItemStatus::ALL {
                        changed |= ui
                            .selectable_value(&mut self.queue.status_filter, Some(s), s.as_str())
                            .changed();
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let label = ui.label("Search");
        changed |= ui
            .add(egui::TextEdit::singleline(&mut self.queue.search).hint_text("name contains…"))
            .labelled_by(label.id)
            .changed();
        if changed {
            self.refilter();
        }
        ui.label(format!(
            "{} of {} item(s)",
            self.queue.visible.len(),
            self.queue.items.len()
        ));
        ui.separator();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        // show_rows lays out only the visible rows: 100k items stay smooth.
        // Rows must keep one height for that, so long names are truncated
        // (the full name is in the tooltip).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            row_height,
            self.queue.visible.len(),
            |ui, range| {
                for row in range {
                    let Some(index) = self.queue.visible.get(row).copied() else {
                        continue;
                    };
                    let Some(item) = self.queue.items.get(index) else {
                        continue;
                    };
                    let kind = match item.kind {
                        ItemKind::Image => "IMG",
                        ItemKind::Audio => "AUD",
                        ItemKind::Text => "TXT",
                    };
                    let text = format!("{kind}  {}  ({})", item.name, item.label_count);
                    if ui
                        .selectable_label(self.queue.current == Some(index), text)
                        .on_hover_text(format!("{} ({})", item.name, item.status))
                        .clicked()
                    {
                        actions.push(WsAction::SelectItem(index));
                    }
                }
            },
        );
    }
}
