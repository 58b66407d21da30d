//! SQLCipher's first use in a process, from several threads at once.
//!
//! SQLite marks itself initialised before it runs SQLCipher's own set-up
//! (`sqlcipher_extra_init`), so a second thread that opens a database in that
//! window finds SQLCipher "not initialized" and its `PRAGMA key` fails. CI
//! hit this once in a test binary whose first two tests each created a
//! project. The race only exists at a process's first database, so the test
//! runs many fresh processes (this binary, re-entered with an environment
//! variable) and has each open several new stores from threads released
//! together.

use sealtag::crypto::SecretBytes;
use sealtag::store::Store;
use std::process::Command;
use std::sync::{Arc, Barrier};

const CHILD: &str = "SEALTAG_FIRST_USE_CHILD";
const THREADS: usize = 6;
const PROCESSES: usize = 300;

/// In a child process: open `THREADS` fresh stores at once and report how
/// many failed in the exit code.
fn race_in_this_process() -> i32 {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let path = dir.path().join(format!("{i}.db"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let key = SecretBytes::<32>::random();
                start.wait();
                match Store::open(&path, &key, "0123456789abcdef0123456789abcdef", true) {
                    Ok(_) => 0,
                    Err(e) => {
                        eprintln!("thread {i}: {e}");
                        1
                    }
                }
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap_or(1)).sum()
}

#[test]
fn fresh_processes_open_stores_from_many_threads_at_once() {
    if std::env::var_os(CHILD).is_some() {
        std::process::exit(race_in_this_process());
    }
    let me = std::env::current_exe().unwrap();
    let mut failed = Vec::new();
    for run in 0..PROCESSES {
        let out = Command::new(&me)
            .args([
                "--exact",
                "fresh_processes_open_stores_from_many_threads_at_once",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        if !out.status.success() {
            failed.push(format!(
                "run {run}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {PROCESSES} processes failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
