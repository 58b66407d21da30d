//! Peak memory of a hostile import batch stays bounded: the pixel bomb is
//! refused from its header, files are handled one at a time, and a large
//! valid photo decodes within limits. Measured as the child process's peak
//! RSS (getrusage RUSAGE_CHILDREN), so it is the real binary's figure. This
//! file holds a single test so no other child process skews the figure.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sealtag");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const LIMIT_BYTES: i64 = 1 << 30;

fn peak_rss_of_children_bytes() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we pass; no aliasing.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    usage.ru_maxrss * 1024 // Linux reports kilobytes
}

#[test]
fn hostile_batch_plus_a_24_megapixel_photo_stays_under_1_gib() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    // A 6000×4000 JPEG, the size of a phone photo: decoding needs ~72 MB.
    let big = image::RgbImage::from_fn(6000, 4000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    big.save(batch.join("large_6000x4000.jpg")).unwrap();
    for entry in std::fs::read_dir(format!("{FIXTURES}/bad")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), batch.join(entry.file_name())).unwrap();
        }
    }
    let home = dir.path().join("home");
    let project = dir.path().join("p.sealtag");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--home")
            .arg(&home)
            .args(args)
            .env("SEALTAG_PASSPHRASE", "memory-test")
            // Identities as cheap as before scrypt 2^18 (debug builds only).
            .env("SEALTAG_TEST_SCRYPT_LOG_N", "16")
            .output()
            .unwrap()
    };
    assert!(run(&["identity", "new", "--name", "m"]).status.success());
    assert!(
        run(&[
            "project",
            "create",
            project.to_str().unwrap(),
            "--name",
            "m"
        ])
        .status
        .success()
    );
    let out = run(&[
        "import",
        "--project",
        project.to_str().unwrap(),
        "--json",
        batch.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "partial batch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let large = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("large_6000x4000.jpg"))
        .unwrap();
    assert_eq!(large["outcome"], "imported", "{large}");
    let peak = peak_rss_of_children_bytes();
    assert!(
        peak > 50 << 20,
        "the measurement saw the decode ({peak} bytes)"
    );
    assert!(peak < LIMIT_BYTES, "peak RSS {} MiB over 1 GiB", peak >> 20);
}
