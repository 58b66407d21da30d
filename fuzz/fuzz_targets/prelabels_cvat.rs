#![no_main]
//! `cargo +nightly fuzz run prelabels_cvat`: see fuzz/README.md and `harness::run` for what is checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sealtag_fuzz::check("prelabels_cvat", data));
