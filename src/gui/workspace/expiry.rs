//! A laptop bundle's work-package expiry: looked at now and then; once it
//! has passed, everything decoded is dropped, no item is opened again, and
//! the item view becomes a banner that sends results or erases the bundle.

use super::*;
use crate::gui::governance_view::expired_banner_ui;

/// How often an open laptop bundle looks at its work package's expiry.
const EXPIRY_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// When the work package expires, and whether it has.
pub(super) struct Expiry {
    pub(super) expires_at: Option<i64>,
    /// Once true, no item is opened or decoded any more.
    pub(super) expired: bool,
    /// When the controller was last asked.
    pub(super) checked_at: std::time::Instant,
}

impl Workspace {
    /// Whether this laptop bundle's work package has expired (then no item
    /// is opened, decoded or shown).
    pub fn is_expired(&self) -> bool {
        self.expiry.expired
    }

    /// Looks at the work package's expiry now and then; once it has passed,
    /// everything decoded is dropped and no item is opened again.
    pub(super) fn check_expiry(&mut self, ctx: &egui::Context) {
        if self.expiry.expired {
            // The decoder may still deliver an item requested before.
            self.queue.cache.clear();
            return;
        }
        if self.expiry.expires_at.is_none() {
            return;
        }
        ctx.request_repaint_after(EXPIRY_CHECK);
        if self.expiry.checked_at.elapsed() < EXPIRY_CHECK {
            return;
        }
        self.expiry.checked_at = std::time::Instant::now();
        if self.session.expired() {
            self.close_items_after_expiry();
        }
    }

    pub(super) fn close_items_after_expiry(&mut self) {
        self.expiry.expired = true;
        self.audio_pause();
        self.playback.audio.stop();
        self.queue.current = None;
        self.view = ItemView::Empty;
        self.queue.cache.clear();
        self.queue.requested.clear();
        self.annotations.clear();
        self.selected.clear();
        self.review.comments.clear();
        self.review.item_work.clear();
        self.consent = None;
        self.dialogs.report = None;
        self.dialogs.skip_reason = None;
        self.dialogs.reject_comment = None;
        self.dialogs.privacy = None;
        self.tell("This work package has expired: labelling is closed");
    }

    /// The banner shown instead of the item after expiry.
    pub(super) fn expired_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<WsAction>) {
        let at = self.expiry.expires_at.unwrap_or_default();
        match expired_banner_ui(ui, at) {
            Some(BannerAction::SendResults) => actions.push(WsAction::Run(Command::SendResults)),
            Some(BannerAction::Erase) => actions.push(WsAction::Run(Command::EraseBundle)),
            None => {}
        }
    }
}
