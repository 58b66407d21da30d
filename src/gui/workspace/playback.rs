//! Audio playback: the output device (optional: machines without a sound
//! card keep working) and starting playback at the playhead.

use super::*;

/// Playback of the current recording.
#[derive(Default)]
pub(super) struct Playback {
    /// Position in seconds, and when playback started from it.
    pub(super) playhead: f64,
    pub(super) playing_since: Option<std::time::Instant>,
    /// Playback stops (or loops) at this time: a selected segment's end.
    pub(super) play_until: Option<(f64, f64)>,
    pub(super) loop_selection: bool,
    pub(super) audio: AudioOut,
}

impl Workspace {
    /// Plays the current recording from the playhead. Without a sound card
    /// the status bar says so (once) and nothing else changes.
    pub(super) fn start_playback(&mut self) {
        if let ItemView::Decoded(LoadedContent::Audio { bytes, .. }) = &self.view {
            match self
                .playback
                .audio
                .play_from(bytes.clone(), self.playback.playhead)
            {
                Ok(()) => self.playback.playing_since = Some(std::time::Instant::now()),
                Err(e) => {
                    self.playback.playing_since = None;
                    self.message = Some(e);
                }
            }
        }
    }
}

/// Optional audio output: machines without a sound card keep working.
#[derive(Default)]
pub(super) struct AudioOut {
    sink: Option<rodio::MixerDeviceSink>,
    player: Option<rodio::Player>,
    unavailable: bool,
}

impl AudioOut {
    /// Plays from `from_secs` (seeking inside the decoded stream).
    pub(super) fn play_from(
        &mut self,
        bytes: crate::peaks::SharedAudio,
        from_secs: f64,
    ) -> Result<(), String> {
        self.play(bytes)?;
        if let Some(player) = &self.player
            && from_secs > 0.0
        {
            let _ = player.try_seek(std::time::Duration::from_secs_f64(from_secs));
        }
        Ok(())
    }

    pub(super) fn play(&mut self, bytes: crate::peaks::SharedAudio) -> Result<(), String> {
        if self.unavailable {
            return Err("No sound output device: playback unavailable".into());
        }
        if self.sink.is_none() {
            match rodio::DeviceSinkBuilder::open_default_sink() {
                Ok(sink) => self.sink = Some(sink),
                Err(_) => {
                    self.unavailable = true;
                    return Err(
                        "No sound output device: playback unavailable; everything else works"
                            .into(),
                    );
                }
            }
        }
        self.stop();
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let decoder = rodio::Decoder::new(std::io::Cursor::new(bytes))
            .map_err(|e| format!("cannot play: {e}"))?;
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(decoder);
        player.play();
        self.player = Some(player);
        Ok(())
    }

    pub(super) fn stop(&mut self) {
        if let Some(p) = self.player.take() {
            p.stop();
        }
    }
}
