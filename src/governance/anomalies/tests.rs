//! Unit tests of `governance::anomalies` (kept beside it so the module itself stays readable).

use super::*;
use serde_json::json;

/// 2024-01-01T00:00:00Z: times below read as hours of that day in UTC.
const T0: i64 = 1_704_067_200_000;
const ADA: &str = "ada0-0000-0000-0000-0000";
const ANN: &str = "ann0-0000-0000-0000-0000";
const BOB: &str = "bob0-0000-0000-0000-0000";

/// A synthetic trail: seqs count from 1 in push order.
#[derive(Default)]
struct Trail {
    rows: Vec<AuditEntry>,
}

impl Trail {
    fn push(
        &mut self,
        at_ms: i64,
        actor: &str,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> i64 {
        let seq = self.rows.len() as i64 + 1;
        self.rows.push(AuditEntry {
            seq,
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            details: details.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        });
        seq
    }
    fn view(&mut self, at_ms: i64, actor: &str, item: i64) -> i64 {
        self.push(
            at_ms,
            actor,
            "item.view",
            &format!("item:{item}"),
            json!({}),
        )
    }
    fn detect(&self, t: &Thresholds) -> Vec<Flag> {
        let names = BTreeMap::from([
            (ADA.to_string(), "Ada".to_string()),
            (ANN.to_string(), "Ann".to_string()),
        ]);
        detect(&self.rows, t, &names)
    }
}

fn only(flags: &[Flag], kind: FlagKind) -> Vec<Flag> {
    flags.iter().filter(|f| f.kind == kind).cloned().collect()
}

/// Thresholds with every rule off but the one under test.
fn off() -> Thresholds {
    Thresholds {
        views_per_hour: 0,
        failed_unlocks: 0,
        working_hours: None,
        unlabeled_days: 0,
        export_items: 0,
    }
}

fn hours(h: &str, offset: &str) -> Thresholds {
    Thresholds {
        working_hours: WorkingHours::parse(h, offset).unwrap(),
        ..off()
    }
}

fn h(hours: f64) -> i64 {
    T0 + (hours * HOUR_MS as f64) as i64
}

/// `n` views by Ann every 12 s (so 301 views span exactly one hour),
/// with Bob viewing and Ann labelling in between and one more view by
/// Ann hours later; returns the trail and the seqs of the burst.
fn view_burst(n: usize) -> (Trail, Vec<i64>) {
    let mut trail = Trail::default();
    let mut burst = Vec::new();
    for i in 0..n as i64 {
        burst.push(trail.view(T0 + i * 12_000, ANN, i % 7));
        if i % 50 == 0 {
            trail.view(T0 + i * 12_000, BOB, 1);
            trail.push(
                T0 + i * 12_000,
                ANN,
                "label.create",
                "item:1/annotation:1",
                json!({}),
            );
        }
    }
    trail.view(T0 + 3 * HOUR_MS, ANN, 1);
    (trail, burst)
}

#[test]
fn view_rate_flags_more_than_the_limit_in_an_hour() {
    let t = Thresholds {
        views_per_hour: 300,
        ..off()
    };
    let (trail, _) = view_burst(300);
    assert!(
        trail.detect(&t).is_empty(),
        "300 views in an hour is allowed"
    );
    let (trail, _) = view_burst(299);
    assert!(trail.detect(&t).is_empty());

    let (trail, burst) = view_burst(301);
    let flags = trail.detect(&t);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!(f.kind, FlagKind::ViewRate);
    assert_eq!(f.user.as_deref(), Some(ANN));
    assert_eq!(f.rows, burst, "exactly Ann's 301 views in the hour");
    assert_eq!((f.first_ms, f.last_ms), (T0, T0 + HOUR_MS));
    assert!(
        f.summary.starts_with("Ann made 301 item views"),
        "{}",
        f.summary
    );
    assert_eq!(f.chain, None);

    // The same views spread over more than an hour are not a burst.
    let mut slow = Trail::default();
    for i in 0..301 {
        slow.view(T0 + i * 12_100, ANN, 1);
    }
    assert!(slow.detect(&t).is_empty());
    // 0 turns the rule off.
    assert!(view_burst(400).0.detect(&off()).is_empty());
}

#[test]
fn failed_unlocks_within_fifteen_minutes_count_by_when_they_happened() {
    let t = Thresholds {
        failed_unlocks: 3,
        ..off()
    };
    let failed = |trail: &mut Trail, written: i64, at: i64| {
        trail.push(
            written,
            ANN,
            "unlock.failed",
            "identity",
            json!({"at_ms": at, "reason": "wrong passphrase"}),
        )
    };
    // Two failures: no flag.
    let mut two = Trail::default();
    two.push(T0, ANN, "session.open", "project:p", json!({}));
    failed(&mut two, h(1.0), h(0.5));
    failed(&mut two, h(1.0), h(0.55));
    assert!(two.detect(&t).is_empty());

    // Three within 15 minutes (written together at the next open): flag.
    let mut three = Trail::default();
    three.push(T0, ADA, "unlock.failed", "identity", json!({"at_ms": T0}));
    let a = failed(&mut three, h(2.0), h(1.0));
    three.push(h(2.0), ANN, "session.open", "project:p", json!({}));
    let b = failed(&mut three, h(3.0), h(1.0) + 7 * MINUTE_MS);
    let c = failed(&mut three, h(3.0), h(1.0) + 15 * MINUTE_MS);
    let flags = three.detect(&t);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert_eq!(flags[0].kind, FlagKind::FailedUnlocks);
    assert_eq!(flags[0].user.as_deref(), Some(ANN));
    assert_eq!(flags[0].rows, vec![a, b, c]);
    assert_eq!(
        (flags[0].first_ms, flags[0].last_ms),
        (h(1.0), h(1.0) + 15 * MINUTE_MS)
    );

    // Three written in one moment but 10 minutes apart each: no flag,
    // the row time is when they were recorded, not when they happened.
    let mut spread = Trail::default();
    for m in [0, 10, 20] {
        failed(&mut spread, h(5.0), h(1.0) + m * MINUTE_MS);
    }
    assert!(spread.detect(&t).is_empty());
}

#[test]
fn exports_and_packages_outside_working_hours() {
    let mut trail = Trail::default();
    let at3 = trail.push(h(3.0), ADA, "export", "project:p", json!({"items": 2}));
    trail.push(h(9.0), ADA, "export", "project:p", json!({"items": 2}));
    trail.push(h(17.98), ADA, "export.unsigned", "project:p", json!({}));
    let at18 = trail.push(h(18.0), ADA, "export.unsigned", "project:p", json!({}));
    let at19 = trail.push(h(19.0), ADA, "package.create", "package:x", json!({}));
    // Not an export: never flagged for the hour.
    trail.push(h(2.0), ADA, "item.import", "item:1", json!({}));
    trail.push(h(2.0), ADA, "package.results", "package:y", json!({}));

    // (The trail is not in time order: keep to this rule's flags.)
    let flags = only(&trail.detect(&hours("08-18", "")), FlagKind::OffHours);
    let rows: Vec<Vec<i64>> = flags.iter().map(|f| f.rows.clone()).collect();
    assert_eq!(rows, vec![vec![at3], vec![at18], vec![at19]]);
    assert_eq!(flags[0].user.as_deref(), Some(ADA));
    assert_eq!(flags[0].first_ms, h(3.0));
    assert!(
        flags[0].summary.contains("03:00 UTC+00:00"),
        "{}",
        flags[0].summary
    );

    // With an offset, 03:00 UTC is 05:00 local (out), 17:00 UTC is
    // 19:00 local (out), 09:00 UTC is 11:00 (in).
    let flags = only(&trail.detect(&hours("08-18", "+02:00")), FlagKind::OffHours);
    let rows: Vec<i64> = flags.iter().flat_map(|f| f.rows.clone()).collect();
    assert_eq!(rows, vec![at3, 3, at18, at19]);
    // A night shift window across midnight.
    let flags = only(&trail.detect(&hours("22-06", "")), FlagKind::OffHours);
    let rows: Vec<i64> = flags.iter().flat_map(|f| f.rows.clone()).collect();
    assert_eq!(rows, vec![2, 3, at18, at19], "03:00 is inside 22–06");
    // Empty hours: off.
    assert!(only(&trail.detect(&hours("", "+02:00")), FlagKind::OffHours).is_empty());
}

#[test]
fn items_viewed_but_never_labelled() {
    let t = Thresholds {
        unlabeled_days: 7,
        ..off()
    };
    let day = DAY_MS;
    let mut trail = Trail::default();
    // Item 1: viewed, labelled the next day.
    trail.view(T0, ANN, 1);
    trail.push(
        T0 + day,
        ANN,
        "label.create",
        "item:1/annotation:4",
        json!({}),
    );
    // Item 2: viewed twice, never labelled by Ann (Bob's label and
    // Ann's label on another item do not count).
    let v2 = trail.view(T0, ANN, 2);
    let v2b = trail.view(T0 + day, ANN, 2);
    trail.push(
        T0 + day,
        BOB,
        "label.create",
        "item:2/annotation:5",
        json!({}),
    );
    // Item 4: labelled, but a minute after the 7 days.
    let v4 = trail.view(T0, ANN, 4);
    trail.push(
        T0 + 7 * day + MINUTE_MS,
        ANN,
        "label.update",
        "item:4/annotation:6",
        json!({}),
    );
    // Item 5: labelled exactly 7 days later (within).
    trail.view(T0, ANN, 5);
    trail.push(
        T0 + 7 * day,
        ANN,
        "label.delete",
        "item:5/annotation:7",
        json!({}),
    );
    // Item 6: viewed again after labelling it (checking own work).
    trail.push(T0, ANN, "label.create", "item:6/annotation:8", json!({}));
    trail.view(T0 + 2 * day, ANN, 6);
    // Bob skipped item 2 and reviewed item 3: deliberate decisions.
    trail.view(T0, BOB, 2);
    trail.push(
        T0 + day,
        BOB,
        "item.skip",
        "item:2",
        json!({"reason": "blurry"}),
    );
    trail.view(T0, BOB, 3);
    trail.push(T0 + day, BOB, "review.approve", "item:3", json!({}));
    // Item 7: viewed too recently to judge.
    trail.view(T0 + 7 * day + 2 * HOUR_MS, ANN, 7);
    trail.push(T0 + 8 * day, ADA, "session.open", "project:p", json!({}));

    // (Not in time order: keep to this rule's flags.)
    let flags = only(&trail.detect(&t), FlagKind::ViewedNotLabeled);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!(f.user.as_deref(), Some(ANN));
    assert_eq!(f.rows, vec![v2, v2b, v4]);
    assert_eq!((f.first_ms, f.last_ms), (T0, T0 + day));
    assert!(
        f.summary.contains("viewed 2 item(s) (3 view(s))"),
        "{}",
        f.summary
    );
    assert!(f.summary.ends_with("items 2, 4"), "{}", f.summary);

    // A trail that ends within the 7 days judges nothing yet.
    let mut fresh = Trail::default();
    fresh.view(T0, ANN, 2);
    fresh.push(T0 + 6 * day, ADA, "session.open", "project:p", json!({}));
    assert!(fresh.detect(&t).is_empty());
}

#[test]
fn large_exports_and_packages() {
    let t = Thresholds {
        export_items: 1000,
        ..off()
    };
    let ids = |n: i64| json!({"kind": "work", "items": (1..=n).collect::<Vec<_>>()});
    let mut trail = Trail::default();
    trail.push(T0, ADA, "export", "project:p", json!({"items": 1000}));
    let big = trail.push(
        T0,
        ADA,
        "export.unsigned",
        "project:p",
        json!({"items": 1001}),
    );
    trail.push(T0, ADA, "package.create", "package:a", ids(1000));
    let pkg = trail.push(T0, ADA, "package.create", "package:b", ids(1001));
    // Other rows with an items count are not exports.
    trail.push(
        T0,
        ADA,
        "prelabels.import",
        "project:p",
        json!({"items": 5000}),
    );
    let flags = trail.detect(&t);
    assert_eq!(flags.len(), 2, "{flags:#?}");
    assert!(flags.iter().all(|f| f.kind == FlagKind::LargeExport));
    assert_eq!(flags[0].rows, vec![big]);
    assert_eq!(
        flags[0].summary,
        "Ada made an export of 1001 items (more than 1000)"
    );
    assert_eq!(flags[1].rows, vec![pkg]);
    assert_eq!(
        flags[1].summary,
        "Ada made a package of 1001 items (more than 1000)"
    );
    assert!(trail.detect(&off()).is_empty());
}

#[test]
fn role_changes_but_not_the_creator_joining_their_project() {
    let mut trail = Trail::default();
    trail.push(T0, ADA, "project.create", "project:p", json!({"name": "P"}));
    trail.push(
        T0,
        ADA,
        "user.add",
        &format!("user:{ADA}"),
        json!({"role": "admin"}),
    );
    let add = trail.push(
        T0 + 1,
        ADA,
        "user.add",
        &format!("user:{ANN}"),
        json!({"role": "annotator", "name": "Ann"}),
    );
    trail.push(T0 + 2, ADA, "project.rekey", "project:p", json!({}));
    let remove = trail.push(
        T0 + 3,
        ADA,
        "user.remove",
        &format!("user:{ANN}"),
        json!({"role": "annotator"}),
    );
    let again = trail.push(
        T0 + 4,
        ADA,
        "user.add",
        &format!("user:{ANN}"),
        json!({"role": "admin", "name": "Ann"}),
    );
    let flags = trail.detect(&off());
    assert!(flags.iter().all(|f| f.kind == FlagKind::RoleChange));
    let got: Vec<(Vec<i64>, Option<&str>, &str)> = flags
        .iter()
        .map(|f| (f.rows.clone(), f.user.as_deref(), f.summary.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (vec![add], Some(ANN), "Ada enrolled Ann as annotator"),
            (vec![remove], Some(ANN), "Ada removed Ann (annotator)"),
            (
                vec![again],
                Some(ANN),
                "Ada re-enrolled Ann as admin (was annotator)"
            ),
        ]
    );
    assert_eq!(flags[0].first_ms, T0 + 1);
}

#[test]
fn clock_going_back_more_than_a_second() {
    let mut trail = Trail::default();
    trail.push(T0 + 10_000, ADA, "session.open", "project:p", json!({}));
    let a = trail.push(T0 + 20_000, ADA, "item.view", "item:1", json!({}));
    let b = trail.push(T0 + 15_000, ANN, "item.view", "item:1", json!({}));
    // Half a second back, and exactly one second back: tolerated.
    trail.push(T0 + 30_000, ADA, "item.view", "item:1", json!({}));
    trail.push(T0 + 29_500, ADA, "item.view", "item:1", json!({}));
    trail.push(T0 + 28_500, ADA, "item.view", "item:1", json!({}));
    let flags = trail.detect(&off());
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!(f.kind, FlagKind::ClockBackwards);
    assert_eq!(f.rows, vec![a, b]);
    assert_eq!(f.user.as_deref(), Some(ANN));
    assert_eq!((f.first_ms, f.last_ms), (T0 + 15_000, T0 + 20_000));
    assert_eq!(
        f.summary,
        "the clock went back 5.0 s between rows 2 and 3 (written by Ann)"
    );
}

#[test]
fn flags_serialise_with_the_documented_fields() {
    let mut trail = Trail::default();
    trail.push(
        T0,
        ADA,
        "user.add",
        &format!("user:{BOB}"),
        json!({"role": "auditor"}),
    );
    let flags = trail.detect(&Thresholds::default());
    let value = serde_json::to_value(&flags).unwrap();
    assert_eq!(
        value,
        json!([{
            "kind": "role_change",
            "user": BOB,
            "summary": format!("Ada enrolled {BOB} as auditor"),
            "rows": [1],
            "first_ms": T0,
            "last_ms": T0,
            "chain": null,
        }])
    );
    for kind in FlagKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
    }
}

#[test]
fn working_hours_and_offsets_parse() {
    let wh = |s: &str, o: &str| WorkingHours::parse(s, o);
    let w = wh("08-18", "").unwrap().unwrap();
    assert_eq!(
        (w.start_minute, w.end_minute, w.utc_offset_minutes),
        (480, 1080, 0)
    );
    let w = wh(" 8:30-17:45 ", "-05:30").unwrap().unwrap();
    assert_eq!(
        (w.start_minute, w.end_minute, w.utc_offset_minutes),
        (510, 1065, -330)
    );
    assert_eq!(w.to_string(), "08:30–17:45 UTC-05:30");
    assert_eq!(wh("22-06", "+02").unwrap().unwrap().utc_offset_minutes, 120);
    assert_eq!(
        wh("00-24", "").unwrap_err(),
        GovernanceError::WorkingHours("00-24".into())
    );
    assert!(wh("09-24", "").unwrap().is_some());
    assert_eq!(wh("", "").unwrap(), None);
    for bad in [
        "08", "08-08", "25-03", "8:3-18", "08:60-18", "a-b", "08-18-20", "-1-5",
    ] {
        assert!(
            matches!(wh(bad, ""), Err(GovernanceError::WorkingHours(_))),
            "{bad}"
        );
    }
    for bad in ["+15:00", "abc", "+2:5", "++02:00"] {
        assert!(
            matches!(wh("08-18", bad), Err(GovernanceError::UtcOffset(_))),
            "{bad}"
        );
    }
}

#[test]
fn settings_validate_and_defaults_match_project_settings() {
    let default = |key: &str| {
        crate::controller::PROJECT_SETTINGS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| panic!("{key} is not a project setting"))
    };
    assert_eq!(
        Thresholds::from_settings(default).unwrap(),
        Thresholds::default()
    );
    assert!(validate_setting("anomaly_views_per_hour", "0").is_ok());
    assert!(validate_setting("anomaly_export_items", "25").is_ok());
    assert!(validate_setting("working_hours", "07:30-19").is_ok());
    assert!(validate_setting("working_hours_utc_offset", "+01:00").is_ok());
    for (key, value) in [
        ("anomaly_views_per_hour", "-1"),
        ("anomaly_failed_unlocks", "three"),
        ("anomaly_unlabeled_days", "99999"),
        ("anomaly_export_items", "1.5"),
        ("working_hours", "9 to 5"),
        ("working_hours_utc_offset", "CET"),
    ] {
        assert!(validate_setting(key, value).is_err(), "{key}={value}");
    }
    let e = validate_setting("anomaly_views_per_hour", "lots").unwrap_err();
    assert_eq!(
        e.to_string(),
        "anomaly_views_per_hour must be a whole number from 0 (off) to 1000000, not 'lots'"
    );
}
