#![no_main]
//! `cargo +nightly fuzz run package_reader`: see fuzz/README.md and `harness::run` for what is checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sealtag_fuzz::check("package_reader", data));
