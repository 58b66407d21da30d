//! Peak memory of a masked, windowed audio derivative: a 5-second window of
//! a 20-minute recording costs the window, not the recording.
//!
//! Each figure is the peak RSS of a child process, this test binary re-run
//! in one mode, which reports its own high-water mark (VmHWM) when its work
//! is done, so neither the other modes nor the parent count. The modes
//! differ only in what they do after building the same input, so the
//! differences between their peaks are what `derive_audio` (or the old
//! whole-buffer path) holds. One test in this file, so that a child runs
//! nothing else.

#![cfg(target_os = "linux")] // VmHWM is read from /proc

use std::process::{Command, Stdio};

use sealtag::privacy::audio_mask::{
    AudioRange, AudioStyle, Pcm, apply_ranges, cut_window, decode_pcm, derive_audio, encode_wav,
};

const TEST: &str = "a_five_second_window_of_a_long_recording_costs_the_window_not_the_recording";
/// Set in a child: which work to do ("input", "streamed" or "whole").
const MODE: &str = "SEALTAG_AUDIO_MEMORY_MODE";
/// How a child reports its peak RSS on stdout.
const PEAK: &str = "peak_rss_bytes=";
const RATE: u32 = 8000;
/// 20 minutes of 8 kHz mono 16-bit: 19.2 MB of samples.
const FRAMES: usize = 20 * 60 * 8000;
const WINDOW: (f64, f64) = (600.0, 605.0);
const MAX_SECS: f64 = 4.0 * 3600.0;
/// Room for what differs between children besides the audio (allocator
/// arenas, the decoder's buffers).
const SLACK: i64 = 4 << 20;

/// The recording as a WAV file, written straight into one buffer (no
/// intermediate `Pcm`), so building it peaks at its own size.
fn long_wav() -> Vec<u8> {
    let data_len = (FRAMES * 2) as u32;
    let mut wav = encode_wav(&Pcm {
        sample_rate: RATE,
        channels: 1,
        samples: Vec::new(),
    });
    wav[4..8].copy_from_slice(&(data_len + 36).to_le_bytes());
    wav[40..44].copy_from_slice(&data_len.to_le_bytes());
    // A sawtooth whose period divides FRAMES, written a period at a time
    // (sample by sample is slow in a debug build).
    let period: Vec<u8> = (0..20_000)
        .flat_map(|i| (((i * 37) % 20_000) as i16 - 10_000).to_le_bytes())
        .collect();
    wav.reserve_exact(FRAMES * 2);
    for _ in 0..FRAMES / 20_000 {
        wav.extend_from_slice(&period);
    }
    wav
}

fn masks() -> [AudioRange; 2] {
    [
        AudioRange {
            start_secs: 601.25,
            end_secs: 602.5,
            style: AudioStyle::Mute,
        },
        AudioRange {
            start_secs: 1.0,
            end_secs: 1190.0,
            style: AudioStyle::Tone,
        },
    ]
}

/// What a child does; the output is checked so the work cannot be skipped.
fn child(mode: &str) {
    let wav = long_wav();
    let window_bytes = 44 + 5 * 8000 * 2;
    match mode {
        "input" => assert_eq!(std::hint::black_box(&wav).len(), 44 + FRAMES * 2),
        "streamed" => {
            let (out, _, secs) = derive_audio(&wav, "wav", &masks(), Some(WINDOW), MAX_SECS)
                .unwrap_or_else(|e| panic!("derive_audio: {e}"));
            assert_eq!((out.len(), secs), (window_bytes, 5.0));
        }
        "whole" => {
            let mut pcm = decode_pcm(&wav, "wav", MAX_SECS).unwrap_or_else(|e| panic!("{e}"));
            apply_ranges(&mut pcm, &masks());
            cut_window(&mut pcm, WINDOW.0, WINDOW.1);
            assert_eq!(encode_wav(&pcm).len(), window_bytes);
        }
        other => panic!("unknown {MODE} {other:?}"),
    }
}

/// The peak resident set size of this process so far (VmHWM, what
/// getrusage reports as ru_maxrss), in bytes.
fn own_peak_rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status"));
    kib * 1024
}

/// Runs this test again in `mode` and returns that child's peak RSS, which
/// the child reports itself when its work is done.
fn peak_rss_of(mode: &str) -> i64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--test-threads=1", "--nocapture"])
        .env(MODE, mode)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "the {mode} child failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // libtest may have started the line ("test … ... ").
        .find_map(|l| l.split_once(PEAK)?.1.trim().parse().ok())
        .unwrap_or_else(|| panic!("the {mode} child reported no peak"))
}

#[test]
fn a_five_second_window_of_a_long_recording_costs_the_window_not_the_recording() {
    if let Ok(mode) = std::env::var(MODE) {
        child(&mode);
        println!("{PEAK}{}", own_peak_rss());
        return;
    }
    let input_len = (44 + FRAMES * 2) as i64;
    let input = peak_rss_of("input");
    let streamed = peak_rss_of("streamed");
    let whole = peak_rss_of("whole");
    let mib = |b: i64| b as f64 / f64::from(1 << 20);
    eprintln!(
        "peak RSS: input alone {:.1} MiB, streamed derive {:.1} MiB (+{:.1}), \
         whole-buffer path {:.1} MiB (+{:.1}); input {:.1} MiB",
        mib(input),
        mib(streamed),
        mib(streamed - input),
        mib(whole),
        mib(whole - input),
        mib(input_len)
    );
    // The whole-buffer path holds the decoder's copy of the input and the
    // decoded recording: if that did not show, the measurement would prove
    // nothing.
    assert!(
        whole - input > 2 * input_len - SLACK,
        "the measurement did not see the decoded recording"
    );
    // Streaming holds the decoder's copy of the input (symphonia reads an
    // owned buffer), the 80 KB output and one packet: not the recording.
    assert!(
        streamed - input < input_len + SLACK,
        "streamed derive peaked {:.1} MiB over its input",
        mib(streamed - input)
    );
}
