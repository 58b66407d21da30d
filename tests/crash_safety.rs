//! Crash safety: `label add --repeat N` is killed with SIGKILL at random
//! moments. Every label whose `saved annotation <id>` line was printed was
//! committed, so after each kill it must still be there, the database must
//! pass its integrity checks and the audit chain must verify.
//!
//! The kill delay is random (seeded; the seed is printed, and
//! `SEALTAG_CRASH_SEED=<seed>` replays a run). Odd rounds count the delay from
//! the spawn, so some kills land during unlock/open; even rounds count it from
//! the first acknowledged label, so those rounds always kill mid-commit-stream
//! even on a slow, loaded machine.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::{Env, assert_success, fixture, output_text};

const ROUNDS: usize = 8;
const BBOX: [f64; 4] = [10.0, 10.0, 20.0, 20.0];
const CLASS: &str = "person";

/// What one reader thread saw on the child's stdout.
struct Seen {
    /// Ids of complete `saved annotation <id>` lines, in order.
    acked: Vec<i64>,
    /// Bytes after the last newline (a line cut by the kill), if any.
    partial: Vec<u8>,
}

/// Reads complete lines, sends each acknowledged id as soon as it is seen.
fn read_acks(stdout: impl Read, tx: mpsc::Sender<i64>) -> Seen {
    let mut reader = BufReader::new(stdout);
    let mut seen = Seen {
        acked: Vec::new(),
        partial: Vec::new(),
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) if line.last() == Some(&b'\n') => {
                let text = String::from_utf8_lossy(&line);
                let id = text
                    .trim_end()
                    .strip_prefix("saved annotation ")
                    .and_then(|id| id.parse::<i64>().ok())
                    .unwrap_or_else(|| panic!("unexpected stdout line {text:?}"));
                seen.acked.push(id);
                let _ = tx.send(id);
            }
            Ok(_) => {
                seen.partial = line.clone();
                break;
            }
            Err(e) => panic!("reading label add stdout: {e}"),
        }
    }
    seen
}

#[test]
fn sigkill_during_labelling_loses_no_acknowledged_label() {
    let started = Instant::now();
    let seed: u64 = match std::env::var("SEALTAG_CRASH_SEED") {
        Ok(s) => s.parse().expect("SEALTAG_CRASH_SEED must be a u64"),
        Err(_) => rand::random(),
    };
    eprintln!("crash_safety seed {seed} (replay with SEALTAG_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);

    let env = Env::new();
    env.setup();
    env.import_expect(0, &[fixture("import/astronaut.jpg")]);
    let item = env.first_item_of_kind("image");

    let mut args = env.label_add_args(item, CLASS, BBOX);
    args.extend(["--repeat".to_string(), "100000".to_string()]);

    let mut all_acked: Vec<i64> = Vec::new();
    let mut per_round = Vec::new();
    let mut class_id = None;
    for round in 1..=ROUNDS {
        let from_first_ack = round % 2 == 0;
        let delay = Duration::from_millis(rng.gen_range(100..=900));

        let mut child = env
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning label add");
        let spawned = Instant::now();
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let reader = thread::spawn(move || read_acks(stdout, tx));
        let err_reader = thread::spawn(move || {
            let mut buf = String::new();
            let _ = stderr.read_to_string(&mut buf);
            buf
        });

        if from_first_ack {
            // The delay starts at the first commit; a dead child closes the
            // channel and fails below.
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
        thread::sleep(delay);
        child.kill().expect("sending SIGKILL");
        let status = child.wait().expect("waiting for label add");
        let lived = spawned.elapsed();
        let seen = reader.join().expect("stdout reader panicked");
        let stderr = err_reader.join().expect("stderr reader panicked");
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "round {round}: label add ended by itself ({status}) instead of being killed\nstderr: {stderr}"
        );
        if from_first_ack {
            assert!(
                !seen.acked.is_empty(),
                "round {round}: no label acknowledged within 30 s\nstderr: {stderr}"
            );
        }
        eprintln!(
            "round {round}: killed after {:?} ({} from {}), {} label(s) acknowledged{}",
            lived,
            delay.as_millis(),
            if from_first_ack { "first ack" } else { "spawn" },
            seen.acked.len(),
            if seen.partial.is_empty() {
                String::new()
            } else {
                format!(
                    ", partial line {:?}",
                    String::from_utf8_lossy(&seen.partial)
                )
            }
        );

        // Ids are fresh: never one acknowledged twice.
        let before: HashSet<i64> = all_acked.iter().copied().collect();
        let mut this_round = HashSet::new();
        for id in &seen.acked {
            assert!(
                !before.contains(id) && this_round.insert(*id),
                "round {round}: annotation id {id} acknowledged twice"
            );
        }
        all_acked.extend(&seen.acked);
        per_round.push(seen.acked.len());

        // The bundle survived the kill.
        let check = env.project_check();
        assert_success(&format!("round {round}: project check"), &check);
        let verify = env.audit_verify();
        assert_success(&format!("round {round}: audit verify"), &verify);

        let labels = env.labels(item);
        let listed: HashSet<i64> = labels
            .iter()
            .map(|l| l["id"].as_i64().expect("label id"))
            .collect();
        let lost: Vec<i64> = all_acked
            .iter()
            .copied()
            .filter(|id| !listed.contains(id))
            .collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): {} acknowledged label(s) lost after SIGKILL: {lost:?}",
            lost.len()
        );
        // A line is printed right after each commit, so each killed process
        // can leave at most one committed but unacknowledged label.
        assert!(
            labels.len() <= all_acked.len() + round,
            "round {round}: {} labels stored but only {} acknowledged in {round} round(s)",
            labels.len(),
            all_acked.len()
        );
        for l in &labels {
            assert_eq!(l["item_id"], item, "label on the wrong item: {l}");
            let geometry = &l["geometry"];
            assert_eq!(geometry["type"], "bbox", "{l}");
            for (key, want) in ["x", "y", "w", "h"].iter().zip(BBOX) {
                assert_eq!(geometry[key].as_f64(), Some(want), "{key} of {l}");
            }
            let cid = l["class_id"].as_i64().expect("class_id");
            assert_eq!(*class_id.get_or_insert(cid), cid, "class of {l}");
        }
    }

    let total: usize = per_round.iter().sum();
    eprintln!(
        "acknowledged per round: {per_round:?}, total {total}, in {:?}",
        started.elapsed()
    );
    assert!(
        total > 0,
        "no label was ever acknowledged: nothing was tested"
    );
    assert!(
        per_round.iter().any(|&n| n > 1),
        "no round acknowledged more than one label: {per_round:?}"
    );

    // After all the crashes the project is still writable and consistent.
    let more = env.label_add(item, CLASS, BBOX, 2);
    let listed: HashSet<i64> = env
        .labels(item)
        .iter()
        .map(|l| l["id"].as_i64().expect("label id"))
        .collect();
    for id in all_acked.iter().chain(&more) {
        assert!(listed.contains(id), "label {id} missing at the end");
    }
    let verify = env.audit_verify();
    assert_success("final audit verify", &verify);
    assert!(
        String::from_utf8_lossy(&verify.stdout).starts_with("ok:"),
        "final audit verify\n{}",
        output_text(&verify)
    );
    assert_success("final project check", &env.project_check());
}
