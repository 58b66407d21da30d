//! A stable-toolchain stand-in for the fuzz targets: every harness of `fuzz/src/harness.rs`
//! (the very code the cargo-fuzz targets call) gets a few thousand inputs mutated from valid
//! seeds by a deterministic PRNG — bit flips, byte insertion and deletion, truncation, splices
//! of two seeds, length fields overwritten with 0 / 0xFF.. / huge values, duplicated chunks;
//! for JSON inputs also value-level mutations (wrong types, extreme numbers, removed keys).
//!
//! Checked per input: no panic (caught per input, so the failing target, input number, seed
//! and input hash are reported), every error message non-empty and naming its check, what is
//! accepted consistent with the importer's promises (see the harness), no single allocation
//! over 256 MiB (a counting global allocator: a zeroed allocation of a claimed length never
//! shows in RSS). Checked for the run: peak RSS (VmHWM) grows by less than 256 MiB. The only
//! other test here (the mutator's own) is tiny, so the peak is this test's.
//!
//! A failing input is kept in `target/tmp/hostile_mutations/`. Replay one input:
//! `SEALTAG_MUTATION_SEED=0x… SEALTAG_MUTATION_TARGET=pii_scan SEALTAG_MUTATION_INPUT=1234
//! cargo test --test hostile_mutations`; or a file (a kept input, a libFuzzer artifact):
//! `SEALTAG_MUTATION_TARGET=audio_derive SEALTAG_MUTATION_FILE=fuzz/artifacts/audio_derive/…`.
//! `SEALTAG_MUTATION_INPUTS=20000` runs more per target; `SEALTAG_WRITE_FUZZ_CORPUS=1` writes
//! the seeds to `fuzz/corpus/<target>/seed-*`.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{Keys, Outcome, TARGETS};

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, noting the largest single request since the last reset. Peak RSS
/// misses a bomb that allocates zeroed memory and never touches it (`vec![0; claimed_len]`
/// is lazily mapped on Linux, but fails or is committed in full elsewhere), so each input is
/// also checked for the largest allocation it asked for.
struct LargestRequest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to `System`; only a size is recorded on the way.
unsafe impl GlobalAlloc for LargestRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestRequest = LargestRequest;

/// Where and why the last panic happened, recorded by [`record_panics`].
static LAST_PANIC: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);

/// Installs a hook that records each panic's file and message (and still prints it), so that a
/// panic the importer contained can be told apart from the others.
fn record_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info
            .location()
            .map(|l| l.file().to_owned())
            .unwrap_or_default();
        let message = info.payload_as_str().unwrap_or_default().to_owned();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some((file, message));
        }
        default(info);
    }));
}

/// An overflow check failing inside a dependency (symphonia's FLAC LPC predictor does on
/// corrupt frames): it exists only in builds with overflow checks — this test, `cargo fuzz
/// --dev` — while release builds wrap and decode noise. Not ours to fix; contained by the
/// importer and the masking decoder; reported, not failed.
fn third_party_overflow(panic: &(String, String)) -> bool {
    panic.0.contains("/registry/src/") && panic.1.contains("with overflow")
}

/// No single allocation for one input may ask for this much (the fuzz limits allow 64 MiB of
/// image decoding and a 64 MiB package manifest).
const LARGEST_ALLOCATION_LIMIT: usize = 256 << 20;

/// The seed of the published run; any other can be given through the environment.
const DEFAULT_SEED: u64 = 0x5EA1_7A6F_u64 << 32 | 0x0BAD_F00D;
/// Inputs per target (each one 1-4 mutations of a seed, or a splice of two).
const DEFAULT_INPUTS: usize = 4_000;
/// Peak RSS may grow by less than this over the whole run.
const RSS_GROWTH_LIMIT: u64 = 256 << 20;
/// No single input may take this long (a hang, or work that grows with a length field).
const SLOW_INPUT: Duration = Duration::from_secs(10);

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// FNV-1a, to name an input in a report without printing it.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The per-input seed: the run's seed, the target and the input number, mixed.
fn input_seed(seed: u64, target: &str, index: usize) -> u64 {
    let mut rng = Rng::new(
        seed ^ fnv(target.as_bytes()) ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    rng.next();
    rng.next()
}

/// Values that break length and count fields: zero, one, sign bits, all ones.
const INTERESTING: [u64; 8] = [
    0,
    1,
    0x7F,
    0xFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
    u64::MAX,
];

/// One mutation of `data`, in place.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    // The selector byte (first) is mutated like the rest: crossing formats is part of the game.
    let len = data.len();
    match rng.below(9) {
        // Flip 1-8 random bits.
        0 if len > 0 => {
            for _ in 0..=rng.below(8) {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
        }
        // Overwrite a byte with a random value.
        1 if len > 0 => {
            let at = rng.below(len);
            data[at] = rng.next() as u8;
        }
        // Insert 1-32 random bytes (or a run of one byte).
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(32);
            let run = rng.next().is_multiple_of(2);
            let fill = rng.next() as u8;
            let bytes: Vec<u8> = (0..n)
                .map(|_| if run { fill } else { rng.next() as u8 })
                .collect();
            data.splice(at..at, bytes);
        }
        // Delete a range of up to 64 bytes.
        3 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below(64.min(len - at));
            data.drain(at..at + n);
        }
        // Truncate.
        4 => {
            let keep = rng.below(len + 1);
            data.truncate(keep);
        }
        // Splice: this input's head, another seed's tail.
        5 => {
            let other = &seeds[rng.below(seeds.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // Overwrite a 1/2/4/8-byte field, either byte order, with an interesting value.
        6 | 7 if len > 0 => {
            let width = [1usize, 2, 4, 8][rng.below(4)];
            let value = INTERESTING[rng.below(INTERESTING.len())];
            let bytes = if rng.next().is_multiple_of(2) {
                value.to_le_bytes()
            } else {
                value.to_be_bytes()
            };
            let at = rng.below(len);
            for (i, b) in bytes.iter().take(width).enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        // Duplicate a chunk of up to 256 bytes right after itself.
        _ if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below(256.min(len - at));
            let chunk = data[at..at + n].to_vec();
            data.splice(at + n..at + n, chunk);
        }
        _ => data.push(rng.next() as u8),
    }
}

/// How a target's seeds are JSON, if they are: byte mutations almost never leave JSON valid,
/// so half of these targets' inputs are mutated as JSON values instead, which parse and reach
/// the importers' own checks (ids, sizes, coordinates, offsets).
#[derive(Clone, Copy, PartialEq)]
enum Json {
    Document,
    Lines,
}

fn json_kind(target: &str) -> Option<Json> {
    match target {
        "prelabels_coco" | "prelabels_labelstudio" | "bundle_header" => Some(Json::Document),
        "prelabels_jsonl" => Some(Json::Lines),
        _ => None,
    }
}

fn count_nodes(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Array(a) => a.iter().map(count_nodes).sum(),
        serde_json::Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// A JSON value that breaks assumptions: wrong types, extreme numbers, hostile strings.
fn hostile_value(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.below(16) {
        0 => json!(null),
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(u64::MAX),
        5 => json!(i64::MIN),
        6 => json!(1e308),
        7 => json!(-1e-308),
        8 => json!(0.5),
        9 => json!(""),
        10 => json!("../../etc/passwd"),
        11 => json!("x".repeat(10_000)),
        12 => json!("\u{202e}\u{0}Zoë 📄"),
        13 => json!([]),
        14 => json!({}),
        _ => json!([[[[[[[[1]]]]]]]]),
    }
}

/// Applies one mutation to the `target`-th node (pre-order) of `v`; returns the nodes left.
fn mutate_node(rng: &mut Rng, v: &mut serde_json::Value, target: &mut usize) -> bool {
    if *target == 0 {
        *v = match (rng.below(4), &*v) {
            // Numbers nudged rather than replaced: near the valid range is where bounds break.
            (0, serde_json::Value::Number(n)) => {
                let f = n.as_f64().unwrap_or(0.0);
                let nudged =
                    [f + 1.0, f - 1.0, -f, f * 1e6, f / 1e6, f.trunc() + 0.5][rng.below(6)];
                serde_json::Number::from_f64(nudged).map_or(serde_json::Value::Null, Into::into)
            }
            (1, _) => serde_json::Value::Array(vec![v.clone(), v.clone()]),
            _ => hostile_value(rng),
        };
        return true;
    }
    *target -= 1;
    match v {
        serde_json::Value::Array(a) => {
            let len = a.len();
            for i in 0..len {
                if *target == 0 && rng.below(4) == 0 {
                    // Remove or duplicate the element instead of changing it.
                    if rng.below(2) == 0 {
                        a.remove(i);
                    } else {
                        let copy = a[i].clone();
                        a.insert(i, copy);
                    }
                    return true;
                }
                if mutate_node(rng, &mut a[i], target) {
                    return true;
                }
            }
            false
        }
        serde_json::Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for key in keys {
                if *target == 0 && rng.below(4) == 0 {
                    o.remove(&key);
                    return true;
                }
                if let Some(child) = o.get_mut(&key)
                    && mutate_node(rng, child, target)
                {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// 1-3 value mutations of a JSON document; `None` if it does not parse (already mutated).
fn mutate_json(rng: &mut Rng, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    for _ in 0..=rng.below(3) {
        let mut target = rng.below(count_nodes(&value));
        mutate_node(rng, &mut value, &mut target);
    }
    serde_json::to_vec(&value).ok()
}

/// Input `index` of a target: a seed with 1-4 mutations. Inputs 0..seeds.len() are the seeds
/// themselves, so the run also proves that each seed is accepted.
fn make_input(seed: u64, target: &str, index: usize, seeds: &[Vec<u8>]) -> Vec<u8> {
    if index < seeds.len() {
        return seeds[index].clone();
    }
    let mut rng = Rng::new(input_seed(seed, target, index));
    let mut data = seeds[rng.below(seeds.len())].clone();
    if let Some(kind) = json_kind(target)
        && rng.below(2) == 0
    {
        let mutated = match kind {
            Json::Document => mutate_json(&mut rng, &data),
            Json::Lines => {
                // One line of the file mutated as JSON, the others kept.
                let mut lines: Vec<Vec<u8>> =
                    data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let at = rng.below(lines.len());
                mutate_json(&mut rng, &lines[at]).map(|line| {
                    lines[at] = line;
                    lines.join(&b'\n')
                })
            }
        };
        if let Some(mutated) = mutated {
            return mutated;
        }
    }
    for _ in 0..=rng.below(4) {
        mutate_once(&mut rng, &mut data, seeds);
    }
    data
}

/// Peak resident set size of this process (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Keeps a failing input for replay (and for `fuzz/corpus/`).
fn keep(target: &str, index: usize, data: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile_mutations");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{index}-{:016x}", fnv(data)));
    let _ = std::fs::write(&path, data);
    path
}

#[derive(Default)]
struct Tally {
    accepted: usize,
    refused: usize,
    contained: usize,
    /// See [`third_party_overflow`].
    overflow: usize,
    bytes: usize,
}

#[test]
fn mutated_inputs_never_panic_always_explain_and_stay_bounded() {
    let seed = env_u64("SEALTAG_MUTATION_SEED").unwrap_or(DEFAULT_SEED);
    let inputs = env_u64("SEALTAG_MUTATION_INPUTS").map_or(DEFAULT_INPUTS, |n| n as usize);
    let only_target = std::env::var("SEALTAG_MUTATION_TARGET").ok();
    let only_input = env_u64("SEALTAG_MUTATION_INPUT").map(|n| n as usize);
    let replay_file = std::env::var_os("SEALTAG_MUTATION_FILE")
        .map(|path| std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")));
    let replaying = only_input.is_some() || replay_file.is_some();
    eprintln!("hostile mutations: seed {seed:#018x}, {inputs} inputs per target");

    // Everything that is set up once (scrypt to open the keys: 64 MiB) happens before the
    // baseline, so the bound below is about the inputs alone.
    let keys = Keys::load(&repo().join("fuzz/keys")).expect("fuzz keys");
    let fixtures = repo().join("tests/fixtures");
    let mut all_seeds = Vec::new();
    for target in TARGETS {
        let seeds = harness::seeds(target, &keys, &fixtures).expect("seeds");
        assert!(!seeds.is_empty(), "{target} has no seed");
        if std::env::var_os("SEALTAG_WRITE_FUZZ_CORPUS").is_some() {
            let dir = repo().join("fuzz/corpus").join(target);
            std::fs::create_dir_all(&dir).expect("corpus dir");
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i:02}")), s).expect("write seed");
            }
        }
        all_seeds.push((target, seeds));
    }
    // Warm up each entry point once (decoder tables, lazy statics) before the baseline.
    for (target, seeds) in &all_seeds {
        let _ = harness::run(target, &keys, &seeds[0]);
    }
    let rss_before = peak_rss();
    record_panics();

    let mut failures: Vec<String> = Vec::new();
    let started = Instant::now();
    for (target, seeds) in &all_seeds {
        if only_target.as_deref().is_some_and(|t| t != *target) {
            continue;
        }
        let target_started = Instant::now();
        let mut tally = Tally::default();
        let mut slowest = (Duration::ZERO, 0usize);
        let count = if replay_file.is_some() {
            1
        } else {
            inputs.max(seeds.len())
        };
        for index in 0..count {
            if only_input.is_some_and(|n| n != index) {
                continue;
            }
            let data = match &replay_file {
                Some(bytes) => bytes.clone(),
                None => make_input(seed, target, index, seeds),
            };
            tally.bytes += data.len();
            let t0 = Instant::now();
            LARGEST.store(0, Ordering::Relaxed);
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = None;
            }
            let result = catch_unwind(AssertUnwindSafe(|| harness::run(target, &keys, &data)));
            let largest = LARGEST.load(Ordering::Relaxed);
            let took = t0.elapsed();
            if took > slowest.0 {
                slowest = (took, index);
            }
            let describe = |what: &str| {
                format!(
                    "{target} input #{index} (seed {seed:#018x}, {} bytes, fnv {:016x}, kept at {}): {what}",
                    data.len(),
                    fnv(&data),
                    keep(target, index, &data).display()
                )
            };
            let last_panic = LAST_PANIC.lock().ok().and_then(|mut last| last.take());
            let known = last_panic.as_ref().is_some_and(third_party_overflow);
            match result {
                Ok(Ok(Outcome::Contained)) | Err(_) if known => {
                    tally.overflow += 1;
                    let (file, message) = last_panic.unwrap_or_default();
                    eprintln!(
                        "{}",
                        describe(&format!("{message} in {file} (see third_party_overflow)"))
                    );
                }
                Ok(Ok(Outcome::Accepted)) => tally.accepted += 1,
                Ok(Ok(Outcome::Refused)) => tally.refused += 1,
                // Contained by the importer, so no crash; still a decoder panic, whose message
                // ("the decoder crashed") says neither what nor where: each one found so far
                // got a check of its own before the decoder (see import/audio.rs).
                Ok(Ok(Outcome::Contained)) => {
                    tally.contained += 1;
                    failures.push(describe("a decoder panicked (contained by the importer)"));
                }
                Ok(Err(violation)) => failures.push(describe(&violation)),
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    failures.push(describe(&format!("panicked: {message}")));
                }
            }
            if index < seeds.len() && !replaying && result_is_refusal(target, &keys, &data) {
                failures.push(format!(
                    "{target}: seed {index} is not accepted; the seeds must be valid"
                ));
            }
            if largest > LARGEST_ALLOCATION_LIMIT {
                failures.push(describe(&format!(
                    "asked for {} MiB in one allocation",
                    largest >> 20
                )));
            }
            if took > SLOW_INPUT {
                failures.push(describe(&format!("took {took:?}")));
            }
        }
        eprintln!(
            "{target:>22}: {:>5} inputs ({:>6} KiB) in {:>6.2?}: {} accepted, {} refused, {} contained, {} third-party overflows; slowest #{} {:.2?}",
            tally.accepted + tally.refused + tally.contained + tally.overflow,
            tally.bytes / 1024,
            target_started.elapsed(),
            tally.accepted,
            tally.refused,
            tally.contained,
            tally.overflow,
            slowest.1,
            slowest.0,
        );
        if !replaying {
            // A run where nothing gets through the first check would test nothing deep.
            assert!(
                tally.accepted > 0,
                "{target}: no mutated input was accepted at all"
            );
        }
    }
    let growth = peak_rss().saturating_sub(rss_before);
    eprintln!(
        "hostile mutations: {:.1?} in all, peak RSS grew by {} MiB",
        started.elapsed(),
        growth >> 20
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        growth < RSS_GROWTH_LIMIT,
        "peak RSS grew by {} MiB (limit {} MiB)",
        growth >> 20,
        RSS_GROWTH_LIMIT >> 20
    );
}

/// A seed must be accepted by its own target (package seeds: opened and every member read).
fn result_is_refusal(target: &str, keys: &Keys, data: &[u8]) -> bool {
    !matches!(harness::run(target, keys, data), Ok(Outcome::Accepted))
}

#[test]
fn the_mutator_is_deterministic_and_changes_its_input() {
    // Replay depends on this: the same seed, target and index give the same bytes.
    let seeds = vec![b"{\"text\": \"hello\"}".to_vec(), vec![0u8; 40]];
    let a: Vec<Vec<u8>> = (0..200).map(|i| make_input(7, "t", i, &seeds)).collect();
    let b: Vec<Vec<u8>> = (0..200).map(|i| make_input(7, "t", i, &seeds)).collect();
    assert_eq!(a, b);
    assert_eq!(a[0], seeds[0], "input 0 is the first seed itself");
    let changed = a[2..].iter().filter(|x| !seeds.contains(x)).count();
    assert!(
        changed > 180,
        "only {changed} of 198 inputs differ from the seeds"
    );
    let c: Vec<Vec<u8>> = (0..200).map(|i| make_input(8, "t", i, &seeds)).collect();
    assert_ne!(a, c, "another seed gives other inputs");
}
