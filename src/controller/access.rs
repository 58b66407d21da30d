//! Governance reports on a session (admins and auditors, like reading the
//! audit trail): the access review and the anomaly flags. The rules live
//! in [`crate::governance`]; this file reads the rows they need — members,
//! the package ledger, the project's trail and the peer chains merged from
//! laptops — and writes each report's own audit row after it was made, so a
//! report never counts itself.

use crate::events::AuditAction;
use serde_json::json;
use std::collections::BTreeMap;

use super::{CoreError, Event, Result, Session};
use crate::governance::access::{self, AccessReview, Member, Trail};
use crate::governance::anomalies::{self, Flag, Thresholds};
use crate::model::{AuditEntry, now_ms};
use crate::permissions::Action;
use crate::store;

/// The project's own trail and each peer chain (id, rows).
type Trails = (Vec<AuditEntry>, Vec<(String, Vec<AuditEntry>)>);

impl Session {
    /// The anomaly thresholds from the project settings (no permission
    /// needed: settings are readable by every member, like the idle lock).
    pub fn anomaly_thresholds(&self) -> Result<Thresholds> {
        let mut values = BTreeMap::new();
        for key in anomalies::SETTING_KEYS {
            values.insert(key, self.project_setting(key)?);
        }
        Thresholds::from_settings(|key| values.get(key).cloned().unwrap_or_default())
            .map_err(|e| CoreError::Invalid(format!("project setting: {e}")))
    }

    fn trails(&self) -> Result<Trails> {
        let conn = self.project.store.conn();
        let own = store::audit_rows(conn)?;
        let mut peers = Vec::new();
        for (chain, _) in store::peer_chains(conn)? {
            let rows = store::peer_audit_rows(conn, &chain)?;
            peers.push((chain, rows));
        }
        Ok((own, peers))
    }

    /// Everyone ever enrolled, with role, key fingerprint, enrolment,
    /// last activity and packages each way (admin, auditor). Audited as
    /// `access.review`.
    pub fn access_review(&mut self) -> Result<AccessReview> {
        let allowed = self.allow(Action::ReadAudit, Some("access review".into()))?;
        let conn = self.project.store.conn();
        let dates: BTreeMap<i64, (i64, Option<i64>)> = store::user_dates(conn)?
            .into_iter()
            .map(|(id, added, removed)| (id, (added, removed)))
            .collect();
        let members: Vec<Member> = store::list_users(conn)?
            .into_iter()
            .map(|user| {
                let (added_ms, removed_ms) = dates.get(&user.id).copied().unwrap_or((0, None));
                Member {
                    user,
                    added_ms,
                    removed_ms,
                }
            })
            .collect();
        let packages = store::list_packages(conn)?;
        let (own, peers) = self.trails()?;
        let mut trails = vec![Trail {
            chain: None,
            rows: &own,
        }];
        trails.extend(peers.iter().map(|(chain, rows)| Trail {
            chain: Some(chain),
            rows,
        }));
        let review = AccessReview {
            project_id: self.project_id().to_string(),
            project_name: self.project_name(),
            generated_ms: now_ms(),
            reviewer: self.user.fingerprint.clone(),
            people: access::review_people(&members, &packages, &trails),
        };
        let details = json!({
            "people": review.people.len(),
            "active": review.active(),
            "peer_chains": peers.len(),
        });
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::AccessReview, target, details)))
        })?;
        Ok(review)
    }

    /// Anomaly flags over the project's trail and every peer chain, with
    /// the thresholds from the project settings (admin, auditor). Audited
    /// as `audit.anomalies` with the count per kind.
    pub fn audit_anomalies(&mut self) -> Result<Vec<Flag>> {
        let allowed = self.allow(Action::ReadAudit, Some("audit anomalies".into()))?;
        let thresholds = self.anomaly_thresholds()?;
        let names: BTreeMap<String, String> = store::list_users(self.project.store.conn())?
            .into_iter()
            .map(|u| (u.fingerprint, u.name))
            .collect();
        let (own, peers) = self.trails()?;
        let mut flags = anomalies::detect(&own, &thresholds, &names);
        for (chain, rows) in &peers {
            flags.extend(
                anomalies::detect(rows, &thresholds, &names)
                    .into_iter()
                    .map(|f| Flag {
                        chain: Some(chain.clone()),
                        ..f
                    }),
            );
        }
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &flags {
            *by_kind.entry(f.kind.as_str()).or_default() += 1;
        }
        let details = json!({
            "flags": flags.len(),
            "by_kind": by_kind,
            "rows_scanned": own.len() + peers.iter().map(|p| p.1.len()).sum::<usize>(),
            "peer_chains": peers.len(),
        });
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::AuditAnomalies, target, details)))
        })?;
        Ok(flags)
    }
}
