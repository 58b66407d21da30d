//! Sealing and opening a work package streams its media: the peak memory of
//! `sealtag package work` and `sealtag package open` does not grow with the
//! size of the media. Both commands run twice through the real binary, on a
//! project holding one tiny text (the baseline) and on one holding five
//! 30 MB texts (150 MB); each child's own peak RSS comes from `wait4`.
//! Were the package assembled in memory, or its members held until the end,
//! the big run would peak 150 MB higher, so the 100 MiB bound below can fail.
//! (The size is a compromise with the unoptimised test build, where blob
//! encryption runs at ~8 MB/s; `sealtag bench --package-mib 2048` measures
//! the same on release builds at 1–2 GiB.)
//!
//! It is its own test binary because it writes over a gigabyte of scratch
//! data and runs for tens of seconds: kept apart, it does not compete for
//! memory, disk and the two CPUs with the rest of the suite's tests.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealtag");
const MIB: u64 = 1 << 20;
/// Five make 150 MB, more than the growth limit below.
const BIG_TEXT_BYTES: u64 = 30_000_000;
const BIG_TEXTS: u64 = 5;
/// Allowed rise of peak RSS from the tiny project to the 150 MB one.
const GROWTH_LIMIT: i64 = 100 * MIB as i64;

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn home(&self, who: &str) -> PathBuf {
        self.dir.path().join(format!("home-{who}"))
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn command(&self, who: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--home")
            .arg(self.home(who))
            .args(args)
            .env("SEALTAG_PASSPHRASE", format!("pass-of-{who}"))
            .env("TMPDIR", self.dir.path())
            // Identities as cheap as before scrypt 2^18 (debug builds
            // only): 256 MiB of scrypt would dwarf what this test measures.
            .env("SEALTAG_TEST_SCRYPT_LOG_N", "16");
        cmd
    }
    fn ok(&self, who: &str, args: &[&str]) -> String {
        let out = self.command(who, args).output().unwrap();
        assert!(
            out.status.success(),
            "sealtag {args:?} as {who} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    fn json(&self, who: &str, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(who, args)).unwrap()
    }
    /// Runs one command as `who`, asserts it succeeded and returns the
    /// child's own peak RSS in bytes. `wait4` on the child's pid reports
    /// that process alone, unlike RUSAGE_CHILDREN, which keeps the maximum
    /// over every child this test has waited for.
    fn peak_rss(&self, who: &str, args: &[&str]) -> i64 {
        let log = self.path("stderr.log");
        let child = self
            .command(who, args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // A file, not a pipe: nobody reads while we block in wait4.
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        let mut status: libc::c_int = 0;
        // SAFETY: wait4 writes only into the two locals we pass, which live
        // across the call; `pid` is our own unreaped child, and `child` is
        // never waited on again (dropping a Child does not wait).
        #[allow(unsafe_code)]
        let (reaped, usage) = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let reaped = libc::wait4(pid, &mut status, 0, &mut usage);
            (reaped, usage)
        };
        drop(child);
        assert_eq!(reaped, pid, "wait4 failed");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "sealtag {args:?} as {who} failed (status {status:#x}): {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        usage.ru_maxrss * 1024 // Linux reports KiB
    }
}

/// Writes `bytes` of ASCII text lines; `tag` makes each file distinct so
/// the import keeps them as separate items.
fn write_text(path: &Path, tag: &str, bytes: u64) {
    // One 1 MiB block of lines written over and over: the test profile
    // compiles this file unoptimised, so formatting 150 MB line by line
    // would cost more than the commands being measured.
    let mut block = Vec::with_capacity(MIB as usize + 128);
    let mut line = 0u32;
    while block.len() < MIB as usize {
        writeln!(
            block,
            "{tag} line {line:06}: the quick brown fox jumps over the lazy dog"
        )
        .unwrap();
        line += 1;
    }
    block.truncate(MIB as usize);
    *block.last_mut().unwrap() = b'\n';
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{tag}").unwrap();
    let mut left = bytes - (tag.len() as u64 + 1);
    while left > 0 {
        let n = left.min(MIB) as usize;
        out.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    out.flush().unwrap();
}

struct Figures {
    make_peak: i64,
    open_peak: i64,
    package_bytes: u64,
    laptop_items: usize,
}

/// A project named `name` holding `texts`, all assigned to `ann`; seals
/// the work package, opens it on the laptop side and measures both steps.
fn package_round(site: &Site, name: &str, texts: &[PathBuf], signer: &str) -> Figures {
    let project = site.path(&format!("{name}.sealtag"));
    let p = project.to_str().unwrap();
    site.ok("admin", &["project", "create", p, "--name", name]);
    let mut import = vec!["import", "--project", p];
    import.extend(texts.iter().map(|t| t.to_str().unwrap()));
    site.ok("admin", &import);
    let key = site.json("ann", &["identity", "show", "--json"])["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    site.ok(
        "admin",
        &[
            "user",
            "add",
            "--project",
            p,
            "--key",
            &key,
            "--role",
            "annotator",
            "--name",
            "ann",
        ],
    );
    site.ok("admin", &["assign", "--project", p, "--to", "ann"]);

    let package = site.path(&format!("{name}.sealpkg"));
    let pkg = package.to_str().unwrap();
    let make_peak = site.peak_rss(
        "admin",
        &[
            "package",
            "work",
            "--project",
            p,
            "--to",
            "ann",
            "--out",
            pkg,
        ],
    );
    let laptop = site.path(&format!("{name}-laptop.sealtag"));
    let l = laptop.to_str().unwrap();
    let open_peak = site.peak_rss(
        "ann",
        &["package", "open", pkg, "--signer", signer, "--project", l],
    );
    let items = site.json("ann", &["items", "--project", l, "--json"]);
    Figures {
        make_peak,
        open_peak,
        package_bytes: std::fs::metadata(&package).unwrap().len(),
        laptop_items: items.as_array().unwrap().len(),
    }
}

#[test]
fn work_package_make_and_open_stream_150_mb_in_bounded_memory() {
    let started = std::time::Instant::now();
    let site = Site {
        dir: tempfile::tempdir().unwrap(),
    };
    site.ok("admin", &["identity", "new", "--name", "admin"]);
    site.ok("ann", &["identity", "new", "--name", "ann"]);
    let signer = site.json("admin", &["identity", "show", "--json"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    let small_text = site.path("small.txt");
    write_text(&small_text, "small", 4096);
    let small = package_round(&site, "small", &[small_text], &signer);
    assert_eq!(small.laptop_items, 1);

    let big_texts: Vec<PathBuf> = (0..BIG_TEXTS)
        .map(|i| {
            let path = site.path(&format!("big-{i}.txt"));
            write_text(&path, &format!("big text {i}"), BIG_TEXT_BYTES);
            path
        })
        .collect();
    let big = package_round(&site, "big", &big_texts, &signer);
    let media = BIG_TEXTS * BIG_TEXT_BYTES;
    assert_eq!(big.laptop_items, BIG_TEXTS as usize);
    assert!(
        big.package_bytes >= media,
        "the package ({} bytes) carries all {media} bytes of media",
        big.package_bytes
    );

    let mib = |b: i64| b as f64 / MIB as f64;
    eprintln!(
        "peak RSS, small vs big project: package work {:.1} vs {:.1} MiB, \
         package open {:.1} vs {:.1} MiB; {:.1} s",
        mib(small.make_peak),
        mib(big.make_peak),
        mib(small.open_peak),
        mib(big.open_peak),
        started.elapsed().as_secs_f64()
    );
    for (what, small, big) in [
        ("package work", small.make_peak, big.make_peak),
        ("package open", small.open_peak, big.open_peak),
    ] {
        assert!(small > 0 && big > 0, "{what}: wait4 reported no peak");
        assert!(
            big - small < GROWTH_LIMIT,
            "{what}: peak RSS grew by {:.1} MiB for 150 MB of media ({:.1} → {:.1} MiB)",
            mib(big - small),
            mib(small),
            mib(big)
        );
    }
}
