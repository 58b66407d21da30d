//! The fuzz targets' shared code: the harness (also compiled into the stable mutation test,
//! `tests/hostile_mutations.rs`) and the committed test-only keys.

pub mod harness;

use std::path::Path;
use std::sync::OnceLock;

pub use harness::{Checked, Keys, Outcome};

/// The test-only identities of `fuzz/keys/`, opened once per process (scrypt is slow).
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys");
        match Keys::load(&dir) {
            Ok(keys) => keys,
            Err(e) => panic!("fuzz keys: {e}"),
        }
    })
}

/// Runs `target` on `data`; a broken contract panics so that libFuzzer keeps the input.
pub fn check(target: &str, data: &[u8]) {
    if let Err(violation) = harness::run(target, keys(), data) {
        panic!("{target}: {violation}");
    }
}
