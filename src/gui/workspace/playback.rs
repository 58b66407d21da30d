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

impl Playback {
    /// Follows playback along the clock: at a played segment's end it
    /// stops, or returns true when the segment should play again (Loop);
    /// at the recording's end it goes back to the start.
    pub(super) fn tick(&mut self, duration_secs: f64) -> bool {
        let Some(since) = self.playing_since else {
            return false;
        };
        let now = self.playhead + since.elapsed().as_secs_f64();
        match self.play_until {
            // Playing a segment: loop it or stop at its end.
            Some((start, end)) if now >= end => {
                if self.loop_selection {
                    self.playhead = start;
                    return true;
                }
                self.audio.stop();
                self.playing_since = None;
                self.playhead = end;
                self.play_until = None;
            }
            _ if now >= duration_secs => {
                self.playing_since = None;
                self.playhead = 0.0;
            }
            _ => {}
        }
        false
    }
}

impl Workspace {
    /// Selects the next (or previous) segment and moves the playhead to its start.
    pub(super) fn jump_to_segment(&mut self, cmd: Command) {
        let playhead = self.playback.playhead;
        let mut segs: Vec<(i64, f64)> = self
            .annotations
            .iter()
            .filter_map(|a| Some((a.id, a.geometry.time_range()?.0)))
            .collect();
        segs.sort_by(|a, b| a.1.total_cmp(&b.1));
        let target = if cmd == Command::NextSegment {
            segs.into_iter().find(|(_, s)| *s > playhead + 1e-6)
        } else {
            segs.into_iter().rev().find(|(_, s)| *s < playhead - 1e-6)
        };
        if let Some((id, start)) = target {
            self.selected = BTreeSet::from([id]);
            self.playback.playhead = start;
        }
    }

    /// Plays the selected segment (looping it when Loop is on).
    pub(super) fn play_selection(&mut self) {
        let segment = self
            .annotations
            .iter()
            .filter(|a| self.selected.contains(&a.id))
            .find_map(|a| a.geometry.time_range());
        match segment {
            Some((start, end)) => {
                self.playback.playhead = start;
                self.playback.play_until = Some((start, end));
                self.start_playback();
            }
            None => self.tell("Select a segment to play it"),
        }
    }

    /// Pauses where it is, or plays from the playhead to the end.
    pub(super) fn play_pause(&mut self) {
        if self.playback.playing_since.is_some() {
            self.playback.playhead += self
                .playback
                .playing_since
                .take()
                .map_or(0.0, |s| s.elapsed().as_secs_f64());
            self.playback.audio.stop();
        } else {
            // Plain play runs to the end, not to a segment's end.
            self.playback.play_until = None;
            self.start_playback();
        }
    }

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
                    self.tell(e);
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
