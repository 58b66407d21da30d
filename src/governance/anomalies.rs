//! Anomaly flags over one audit trail: patterns a security team should look
//! at, each with the exact row seqs behind it so they can be checked in
//! `audit log`. Flags are findings, not verdicts; every rule and threshold is
//! described in `docs/governance.md`.
//!
//! [`detect`] is pure: rows in, flags out. The controller runs it over the
//! project's own trail and over each peer chain (laptop audit segments
//! merged from results packages) and fills in [`Flag::chain`].

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::GovernanceError;
use crate::events::AuditAction;
use crate::model::AuditEntry;

const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Failed unlocks count together when they fall within this span.
pub const FAILED_UNLOCK_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// Clocks jitter and rows written in one transaction share a time; a step
/// back of up to this much is not worth a flag.
pub const CLOCK_TOLERANCE_MS: i64 = 1_000;
/// Item ids named in a summary; the rows list them all.
const ITEMS_IN_SUMMARY: usize = 10;

/// The project settings that hold the thresholds, in the order of
/// [`crate::controller::PROJECT_SETTINGS`].
pub const SETTING_KEYS: [&str; 6] = [
    "anomaly_views_per_hour",
    "anomaly_failed_unlocks",
    "working_hours",
    "working_hours_utc_offset",
    "anomaly_unlabeled_days",
    "anomaly_export_items",
];

/// Upper bounds of the numeric settings: generous, only there to refuse typos.
const MAX_VIEWS_PER_HOUR: u64 = 1_000_000;
const MAX_FAILED_UNLOCKS: u64 = 1_000;
const MAX_UNLABELED_DAYS: u64 = 3_650;
const MAX_EXPORT_ITEMS: u64 = 1_000_000_000;

/// What a flag is about. The snake_case names are part of the JSON contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// More item views by one person in an hour than the threshold.
    ViewRate,
    /// Repeated failed unlocks within 15 minutes.
    FailedUnlocks,
    /// An export or package made outside the working hours.
    OffHours,
    /// Items a person viewed without changing a label on them.
    ViewedNotLabeled,
    /// An export or package of more items than the threshold.
    LargeExport,
    /// Someone enrolled, re-enrolled with another role, or removed.
    RoleChange,
    /// A row written earlier than the row before it.
    ClockBackwards,
}

impl FlagKind {
    pub const ALL: [FlagKind; 7] = [
        FlagKind::ViewRate,
        FlagKind::FailedUnlocks,
        FlagKind::OffHours,
        FlagKind::ViewedNotLabeled,
        FlagKind::LargeExport,
        FlagKind::RoleChange,
        FlagKind::ClockBackwards,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::ViewRate => "view_rate",
            FlagKind::FailedUnlocks => "failed_unlocks",
            FlagKind::OffHours => "off_hours",
            FlagKind::ViewedNotLabeled => "viewed_not_labeled",
            FlagKind::LargeExport => "large_export",
            FlagKind::RoleChange => "role_change",
            FlagKind::ClockBackwards => "clock_backwards",
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding. `summary` is plain words about who and how much — never
/// item content.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Flag {
    pub kind: FlagKind,
    /// The person the flag is about (fingerprint), if it is about one.
    pub user: Option<String>,
    pub summary: String,
    /// The audit rows behind the flag, ascending.
    pub rows: Vec<i64>,
    pub first_ms: i64,
    pub last_ms: i64,
    /// `None`: the project's own trail. Otherwise the peer chain (a laptop
    /// bundle's project id) the rows belong to; seqs count per chain.
    pub chain: Option<String>,
}

/// A daily working window in local time, as minutes after midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WorkingHours {
    /// First minute inside the window.
    pub start_minute: u16,
    /// First minute after the window (1440 = midnight). Smaller than the
    /// start for a window across midnight.
    pub end_minute: u16,
    /// Local time = UTC + this. A fixed offset: the machine's time zone is
    /// not trusted offline, and daylight saving is not applied.
    pub utc_offset_minutes: i16,
}

impl WorkingHours {
    /// Parses the `working_hours` and `working_hours_utc_offset` settings;
    /// `Ok(None)` when the hours are empty (the check is off).
    pub fn parse(hours: &str, offset: &str) -> Result<Option<Self>, GovernanceError> {
        let utc_offset_minutes = parse_utc_offset(offset)?;
        let hours = hours.trim();
        if hours.is_empty() {
            return Ok(None);
        }
        let bad = || GovernanceError::WorkingHours(hours.to_string());
        let (start, end) = hours.split_once('-').ok_or_else(bad)?;
        let start = parse_clock(start).ok_or_else(bad)?;
        let end = parse_clock(end).ok_or_else(bad)?;
        // 24:00 only makes sense as an end; equal ends would be all day or
        // never, which is better said by leaving the setting empty.
        if start >= 1440 || start == end || (end == 1440 && start == 0) {
            return Err(bad());
        }
        Ok(Some(Self {
            start_minute: start,
            end_minute: end,
            utc_offset_minutes,
        }))
    }

    /// Minutes after local midnight of a Unix-ms instant.
    fn local_minute(&self, at_ms: i64) -> u16 {
        let minute = at_ms.div_euclid(MINUTE_MS) + i64::from(self.utc_offset_minutes);
        minute.rem_euclid(1440) as u16
    }

    pub fn contains(&self, at_ms: i64) -> bool {
        let m = self.local_minute(at_ms);
        if self.start_minute < self.end_minute {
            (self.start_minute..self.end_minute).contains(&m)
        } else {
            m >= self.start_minute || m < self.end_minute
        }
    }

    fn offset_text(&self) -> String {
        let sign = if self.utc_offset_minutes < 0 {
            '-'
        } else {
            '+'
        };
        let abs = self.utc_offset_minutes.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{} {}",
            clock(self.start_minute),
            clock(self.end_minute),
            self.offset_text()
        )
    }
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// `HH` or `HH:MM`, 00:00–24:00, as minutes after midnight.
fn parse_clock(s: &str) -> Option<u16> {
    let s = s.trim();
    let (h, m) = match s.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        Some(_) => return None,
        None => (s, "00"),
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    let total = h * 60 + m;
    (h <= 24 && m < 60 && total <= 1440).then_some(total)
}

/// `±HH:MM`, `±HH` or empty (UTC), within ±14:00 (the widest real offsets).
fn parse_utc_offset(s: &str) -> Result<i16, GovernanceError> {
    let s = s.trim();
    if s.is_empty() || s == "Z" {
        return Ok(0);
    }
    let bad = || GovernanceError::UtcOffset(s.to_string());
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => (1, s),
    };
    let minutes = parse_clock(rest).ok_or_else(bad)?;
    if minutes > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * minutes as i16)
}

/// The rules' thresholds, from the project settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Flag a person with more item views than this in any hour (0: off).
    pub views_per_hour: u32,
    /// Flag this many failed unlocks within 15 minutes (0: off).
    pub failed_unlocks: u32,
    /// Exports and packages outside these hours are flagged (`None`: off).
    pub working_hours: Option<WorkingHours>,
    /// A view needs a label change by the viewer within this many days
    /// (0: off).
    pub unlabeled_days: u32,
    /// Flag exports and packages of more items than this (0: off).
    pub export_items: u64,
}

impl Default for Thresholds {
    /// The same values as the defaults in `PROJECT_SETTINGS` (a test keeps
    /// them equal).
    fn default() -> Self {
        Self {
            views_per_hour: 300,
            failed_unlocks: 3,
            working_hours: None,
            unlabeled_days: 7,
            export_items: 1000,
        }
    }
}

fn parse_count(key: &'static str, value: &str, max: u64) -> Result<u64, GovernanceError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| GovernanceError::Threshold {
            key,
            value: value.to_string(),
            max,
        })
}

/// Checks one governance setting's value (keys outside [`SETTING_KEYS`]
/// are not governance settings and pass).
pub fn validate_setting(key: &str, value: &str) -> Result<(), GovernanceError> {
    match key {
        "anomaly_views_per_hour" => {
            parse_count(SETTING_KEYS[0], value, MAX_VIEWS_PER_HOUR).map(drop)
        }
        "anomaly_failed_unlocks" => {
            parse_count(SETTING_KEYS[1], value, MAX_FAILED_UNLOCKS).map(drop)
        }
        "working_hours" => WorkingHours::parse(value, "").map(drop),
        "working_hours_utc_offset" => parse_utc_offset(value).map(drop),
        "anomaly_unlabeled_days" => {
            parse_count(SETTING_KEYS[4], value, MAX_UNLABELED_DAYS).map(drop)
        }
        "anomaly_export_items" => parse_count(SETTING_KEYS[5], value, MAX_EXPORT_ITEMS).map(drop),
        _ => Ok(()),
    }
}

impl Thresholds {
    /// Reads every threshold through `setting` (a project setting or its
    /// default).
    pub fn from_settings(setting: impl Fn(&str) -> String) -> Result<Self, GovernanceError> {
        let count =
            |i: usize, max: u64| parse_count(SETTING_KEYS[i], &setting(SETTING_KEYS[i]), max);
        Ok(Self {
            views_per_hour: count(0, MAX_VIEWS_PER_HOUR)? as u32,
            failed_unlocks: count(1, MAX_FAILED_UNLOCKS)? as u32,
            working_hours: WorkingHours::parse(
                &setting(SETTING_KEYS[2]),
                &setting(SETTING_KEYS[3]),
            )?,
            unlabeled_days: count(4, MAX_UNLABELED_DAYS)? as u32,
            export_items: count(5, MAX_EXPORT_ITEMS)?,
        })
    }
}

/// Runs every rule over one trail (rows in storage order). `names` maps
/// fingerprints to display names for the summaries; unknown people are
/// shown by fingerprint. Flags come back ordered by their first row.
pub fn detect(
    rows: &[AuditEntry],
    thresholds: &Thresholds,
    names: &BTreeMap<String, String>,
) -> Vec<Flag> {
    let who = |fpr: &str| names.get(fpr).cloned().unwrap_or_else(|| fpr.to_string());
    let mut flags = Vec::new();
    view_rate(rows, thresholds, &who, &mut flags);
    failed_unlocks(rows, thresholds, &who, &mut flags);
    off_hours(rows, thresholds, &who, &mut flags);
    viewed_not_labeled(rows, thresholds, &who, &mut flags);
    large_exports(rows, thresholds, &who, &mut flags);
    role_changes(rows, &who, &mut flags);
    clock_backwards(rows, &who, &mut flags);
    for f in &mut flags {
        f.rows.sort_unstable();
        f.rows.dedup();
    }
    flags.sort_by_key(|f| (f.rows.first().copied().unwrap_or(0), f.kind));
    flags
}

fn details(row: &AuditEntry) -> serde_json::Value {
    serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null)
}

/// The row's action, if this build knows it (a laptop running a newer
/// version may write names we do not; they match no rule).
fn action(row: &AuditEntry) -> Option<AuditAction> {
    AuditAction::parse(&row.action)
}

fn is(row: &AuditEntry, wanted: AuditAction) -> bool {
    action(row) == Some(wanted)
}

fn is_export(row: &AuditEntry) -> bool {
    action(row).is_some_and(AuditAction::is_export)
}

/// The item an audit target names: `item:12` or `item:12/annotation:5`.
fn target_item(target: &str) -> Option<i64> {
    let rest = target.strip_prefix("item:")?;
    rest.split('/').next()?.parse().ok()
}

fn one_row(kind: FlagKind, row: &AuditEntry, user: Option<String>, summary: String) -> Flag {
    Flag {
        kind,
        user,
        summary,
        rows: vec![row.seq],
        first_ms: row.at_ms,
        last_ms: row.at_ms,
        chain: None,
    }
}

/// A span of time in the largest unit that keeps it readable.
fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < MINUTE_MS {
        format!("{} s", ms / 1000)
    } else if ms < 2 * HOUR_MS {
        format!("{} min", ms / MINUTE_MS)
    } else if ms < 2 * DAY_MS {
        format!("{:.1} h", ms as f64 / HOUR_MS as f64)
    } else {
        format!("{} days", ms / DAY_MS)
    }
}

/// Episodes in which at least `min_count` events (sorted times) lie within
/// `window_ms` of each other (last minus first ≤ window). Overlapping
/// qualifying windows merge into one episode, so one burst is one flag and
/// its rows are every event of every qualifying window. Returns index
/// ranges, inclusive.
fn bursts(times: &[i64], window_ms: i64, min_count: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    if min_count == 0 {
        return out;
    }
    let mut first = 0;
    for (last, t) in times.iter().enumerate() {
        while t - times[first] > window_ms {
            first += 1;
        }
        if last + 1 - first >= min_count {
            match out.last_mut() {
                Some(episode) if first <= episode.1 => episode.1 = last,
                _ => out.push((first, last)),
            }
        }
    }
    out
}

/// Per person, the (time, seq) of their rows matching `wanted`, sorted by
/// time (then seq, so equal times keep storage order).
fn per_actor(
    rows: &[AuditEntry],
    wanted: AuditAction,
    time: impl Fn(&AuditEntry) -> i64,
) -> BTreeMap<&str, Vec<(i64, i64)>> {
    let mut by: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for r in rows.iter().filter(|r| is(r, wanted)) {
        by.entry(r.actor.as_str())
            .or_default()
            .push((time(r), r.seq));
    }
    for events in by.values_mut() {
        events.sort_unstable();
    }
    by
}

fn view_rate(
    rows: &[AuditEntry],
    t: &Thresholds,
    who: &dyn Fn(&str) -> String,
    flags: &mut Vec<Flag>,
) {
    if t.views_per_hour == 0 {
        return;
    }
    for (actor, events) in per_actor(rows, AuditAction::ItemView, |r| r.at_ms) {
        let times: Vec<i64> = events.iter().map(|e| e.0).collect();
        for (s, e) in bursts(&times, HOUR_MS, t.views_per_hour as usize + 1) {
            let episode = &events[s..=e];
            let (first, last) = (episode[0].0, episode[episode.len() - 1].0);
            flags.push(Flag {
                kind: FlagKind::ViewRate,
                user: Some(actor.to_string()),
                summary: format!(
                    "{} made {} item views in {} (more than {} within an hour)",
                    who(actor),
                    episode.len(),
                    duration(last - first),
                    t.views_per_hour
                ),
                rows: episode.iter().map(|e| e.1).collect(),
                first_ms: first,
                last_ms: last,
                chain: None,
            });
        }
    }
}

fn failed_unlocks(
    rows: &[AuditEntry],
    t: &Thresholds,
    who: &dyn Fn(&str) -> String,
    flags: &mut Vec<Flag>,
) {
    if t.failed_unlocks == 0 {
        return;
    }
    // Failures are noted in the identity's home (the project cannot be
    // written without the keys) and written as rows at the next successful
    // open, all at that moment; `details.at_ms` holds when each happened.
    let when = |r: &AuditEntry| details(r)["at_ms"].as_i64().unwrap_or(r.at_ms);
    for (actor, events) in per_actor(rows, AuditAction::UnlockFailed, when) {
        let times: Vec<i64> = events.iter().map(|e| e.0).collect();
        for (s, e) in bursts(&times, FAILED_UNLOCK_WINDOW_MS, t.failed_unlocks as usize) {
            let episode = &events[s..=e];
            let (first, last) = (episode[0].0, episode[episode.len() - 1].0);
            flags.push(Flag {
                kind: FlagKind::FailedUnlocks,
                user: Some(actor.to_string()),
                summary: format!(
                    "{} failed unlocks within {} with {}'s identity ({} or more within 15 minutes are flagged)",
                    episode.len(),
                    duration(last - first),
                    who(actor),
                    t.failed_unlocks
                ),
                rows: episode.iter().map(|e| e.1).collect(),
                first_ms: first,
                last_ms: last,
                chain: None,
            });
        }
    }
}

fn off_hours(
    rows: &[AuditEntry],
    t: &Thresholds,
    who: &dyn Fn(&str) -> String,
    flags: &mut Vec<Flag>,
) {
    let Some(hours) = t.working_hours else {
        return;
    };
    for r in rows {
        let what = if is_export(r) {
            "an export"
        } else if is(r, AuditAction::PackageCreate) {
            "a package"
        } else {
            continue;
        };
        if hours.contains(r.at_ms) {
            continue;
        }
        let summary = format!(
            "{} made {what} at {} {}, outside working hours {hours}",
            who(&r.actor),
            clock(hours.local_minute(r.at_ms)),
            hours.offset_text(),
        );
        flags.push(one_row(
            FlagKind::OffHours,
            r,
            Some(r.actor.clone()),
            summary,
        ));
    }
}

/// Actions that show a person worked on an item: any label change, and the
/// deliberate decisions that need none (submit, skip with a reason, a
/// review decision).
fn works_on_item(row: &AuditEntry) -> bool {
    action(row).is_some_and(AuditAction::is_label_work)
}

fn viewed_not_labeled(
    rows: &[AuditEntry],
    t: &Thresholds,
    who: &dyn Fn(&str) -> String,
    flags: &mut Vec<Flag>,
) {
    if t.unlabeled_days == 0 {
        return;
    }
    let window = i64::from(t.unlabeled_days) * DAY_MS;
    // "Now" is the trail's latest row: a laptop chain ends at its last
    // results package, and a view is only judged once its window is over.
    let Some(as_of) = rows.iter().map(|r| r.at_ms).max() else {
        return;
    };
    let mut work: BTreeMap<(&str, i64), Vec<i64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| works_on_item(r)) {
        if let Some(item) = target_item(&r.target) {
            work.entry((r.actor.as_str(), item))
                .or_default()
                .push(r.at_ms);
        }
    }
    // Per person: the views not followed (or preceded) by work on the item.
    let mut idle: BTreeMap<&str, Vec<(&AuditEntry, i64)>> = BTreeMap::new();
    for r in rows.iter().filter(|r| is(r, AuditAction::ItemView)) {
        let Some(item) = target_item(&r.target) else {
            continue;
        };
        if as_of - r.at_ms < window {
            continue;
        }
        let worked = work
            .get(&(r.actor.as_str(), item))
            .is_some_and(|times| times.iter().any(|w| (w - r.at_ms).abs() <= window));
        if !worked {
            idle.entry(r.actor.as_str()).or_default().push((r, item));
        }
    }
    for (actor, views) in idle {
        let items: BTreeSet<i64> = views.iter().map(|v| v.1).collect();
        let mut listed: Vec<String> = items
            .iter()
            .take(ITEMS_IN_SUMMARY)
            .map(i64::to_string)
            .collect();
        if items.len() > ITEMS_IN_SUMMARY {
            listed.push("…".into());
        }
        flags.push(Flag {
            kind: FlagKind::ViewedNotLabeled,
            user: Some(actor.to_string()),
            summary: format!(
                "{} viewed {} item(s) ({} view(s)) without changing a label on them within {} days: items {}",
                who(actor),
                items.len(),
                views.len(),
                t.unlabeled_days,
                listed.join(", ")
            ),
            rows: views.iter().map(|v| v.0.seq).collect(),
            first_ms: views.iter().map(|v| v.0.at_ms).min().unwrap_or(0),
            last_ms: views.iter().map(|v| v.0.at_ms).max().unwrap_or(0),
            chain: None,
        });
    }
}

fn large_exports(
    rows: &[AuditEntry],
    t: &Thresholds,
    who: &dyn Fn(&str) -> String,
    flags: &mut Vec<Flag>,
) {
    if t.export_items == 0 {
        return;
    }
    for r in rows {
        // An export's details count its items; a package's list them.
        let (what, items) = if is_export(r) {
            ("an export", details(r)["items"].as_u64())
        } else if is(r, AuditAction::PackageCreate) {
            (
                "a package",
                details(r)["items"].as_array().map(|a| a.len() as u64),
            )
        } else {
            continue;
        };
        let Some(items) = items.filter(|n| *n > t.export_items) else {
            continue;
        };
        let summary = format!(
            "{} made {what} of {items} items (more than {})",
            who(&r.actor),
            t.export_items
        );
        flags.push(one_row(
            FlagKind::LargeExport,
            r,
            Some(r.actor.clone()),
            summary,
        ));
    }
}

fn role_changes(rows: &[AuditEntry], who: &dyn Fn(&str) -> String, flags: &mut Vec<Flag>) {
    // The role each person last had in this trail, to say what changed.
    let mut roles: BTreeMap<&str, String> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| action(r).is_some_and(AuditAction::is_membership))
    {
        let Some(subject) = r.target.strip_prefix("user:") else {
            continue;
        };
        let role = details(r)["role"].as_str().map(str::to_string);
        let before = roles.get(subject).cloned();
        let summary = match action(r) {
            // The creator enrolling themselves with the project is not a
            // change anyone made; it is the start of the trail.
            Some(AuditAction::UserAdd) if subject == r.actor => {
                if let Some(role) = role {
                    roles.insert(subject, role);
                }
                continue;
            }
            Some(AuditAction::UserAdd) => {
                let role = role.clone().unwrap_or_else(|| "an unknown role".into());
                match before {
                    Some(old) if old != role => format!(
                        "{} re-enrolled {} as {role} (was {old})",
                        who(&r.actor),
                        who(subject)
                    ),
                    Some(_) => format!("{} re-enrolled {} as {role}", who(&r.actor), who(subject)),
                    None => format!("{} enrolled {} as {role}", who(&r.actor), who(subject)),
                }
            }
            Some(AuditAction::UserRemove) => {
                let role = role.clone().or(before).unwrap_or_else(|| "member".into());
                format!("{} removed {} ({role})", who(&r.actor), who(subject))
            }
            _ => format!("{} changed {} ({})", who(&r.actor), who(subject), r.action),
        };
        if let Some(role) = role {
            roles.insert(subject, role);
        }
        flags.push(one_row(
            FlagKind::RoleChange,
            r,
            Some(subject.to_string()),
            summary,
        ));
    }
}

fn clock_backwards(rows: &[AuditEntry], who: &dyn Fn(&str) -> String, flags: &mut Vec<Flag>) {
    for pair in rows.windows(2) {
        let (before, row) = (&pair[0], &pair[1]);
        let back = before.at_ms - row.at_ms;
        if back <= CLOCK_TOLERANCE_MS {
            continue;
        }
        flags.push(Flag {
            kind: FlagKind::ClockBackwards,
            user: Some(row.actor.clone()),
            summary: format!(
                "the clock went back {:.1} s between rows {} and {} (written by {})",
                back as f64 / 1000.0,
                before.seq,
                row.seq,
                who(&row.actor)
            ),
            rows: vec![before.seq, row.seq],
            first_ms: row.at_ms,
            last_ms: before.at_ms,
            chain: None,
        });
    }
}

#[cfg(test)]
mod tests;
