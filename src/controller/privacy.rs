//! Privacy decisions over a project, all admin-only and audited by count
//! and position, never by content: PII scans of text items (with the
//! admin's list of person names, the `pii_names` setting); masking
//! decisions (text spans, image regions, audio ranges — proposed by the
//! detector, drawn by hand, turned from labels or applied from a
//! template), each accepted or rejected; minimisation windows; and the
//! preview of exactly what an annotator will receive. Every decision bumps
//! the item's privacy version, which each work package records.

use super::Event;
use crate::events::AuditAction;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::views::{Mask, MaskTemplate};
use super::{Allowed, CoreError, Result, Session};
use crate::import::ImportLimits;
use crate::model::{Geometry, ItemKind, ItemSummary, Outline};
use crate::permissions::Action;
use crate::privacy::audio_mask::{AudioRange, AudioStyle};
use crate::privacy::derive::{
    DeriveLimits, Derived, MaskSpec, PrivacyPlan, derive, parse_mask_style,
};
use crate::privacy::image_mask::{Region, RegionStyle, Shape};
use crate::privacy::pii::{Confidence, Detector, PhoneRegion, PiiSpan, PiiType};
use crate::privacy::window::{self, Window};
use crate::store;

/// The PII proposals for one text item, or for one transcript of an
/// audio item (offsets then index the transcript).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ItemPii {
    pub item_id: i64,
    pub name: String,
    /// The segment label whose transcript was scanned (audio items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation_id: Option<i64>,
    pub spans: Vec<PiiSpan>,
}

impl Session {
    /// A detector with this project's person names (the `pii_names`
    /// setting: one per line) and its default region for national phone
    /// formats (the `pii_region` setting).
    pub fn pii_detector(&self) -> Result<Detector> {
        let code = self.project_setting("pii_region")?;
        let region = PhoneRegion::parse(&code).ok_or_else(|| {
            CoreError::Invalid(format!(
                "pii_region '{code}' is not a region with known phone formats; set a two-letter country code, e.g. sealtag settings --project P pii_region GB"
            ))
        })?;
        Ok(Detector::from_name_list(&self.project_setting("pii_names")?).with_region(region))
    }

    /// Runs the PII detector over every text item and every transcript of
    /// an audio item (admin).
    pub fn pii_scan(&mut self, detector: &Detector) -> Result<Vec<ItemPii>> {
        let allowed = self.allow(Action::Import, Some("PII scan".into()))?;
        let conn = self.project.store.conn();
        let mut out = Vec::new();
        for item in store::list_items(conn, None)? {
            if item.kind == ItemKind::Audio {
                for a in store::list_annotations(conn, item.id)? {
                    if let Some(transcript) = a.geometry.transcript() {
                        out.push(ItemPii {
                            item_id: item.id,
                            name: item.name.clone(),
                            annotation_id: Some(a.id),
                            spans: detector.scan(transcript),
                        });
                    }
                }
                continue;
            }
            if item.kind != ItemKind::Text {
                continue;
            }
            let Some((blob, key)) = store::item_blob(conn, item.id)? else {
                continue;
            };
            let bytes = self
                .project
                .paths
                .read_blob(self.project.project_id(), &blob, &key)?;
            let text = String::from_utf8_lossy(&bytes);
            out.push(ItemPii {
                item_id: item.id,
                name: item.name,
                annotation_id: None,
                spans: detector.scan(&text),
            });
        }
        let found: usize = out.iter().map(|i| i.spans.len()).sum();
        let details = json!({"items": out.len(), "spans": found});
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |_| {
            Ok(((), Event::new(AuditAction::PiiScan, target, details)))
        })?;
        Ok(out)
    }
}

/// Everything decided about one item's privacy, for the admin's screen.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ItemPrivacy {
    pub item_id: i64,
    pub version: i64,
    pub window: Option<Window>,
    pub masks: Vec<Mask>,
    /// Work packages that carried it: (package, recipient, version, at).
    pub packages: Vec<(String, String, i64, i64)>,
}

/// What applying a mask template did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TemplateApplied {
    /// Regions added, over all images.
    pub regions: usize,
    /// Images that received the template's regions.
    pub images: Vec<i64>,
    /// Images left alone: they carried every region already.
    pub already_carried: Vec<i64>,
}

/// What a proposal run found.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ProposeReport {
    pub items: usize,
    pub text_spans: usize,
    pub audio_ranges: usize,
    /// Proposals already on record (accepted, rejected or pending).
    pub already_known: usize,
}

/// Limits when decoding for a derivative: the import limits.
pub(super) fn derive_limits() -> DeriveLimits {
    let l = ImportLimits::default();
    DeriveLimits {
        max_pixels: l.max_image_pixels,
        max_audio_secs: l.max_audio_secs,
    }
}

fn parse_style<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

impl Session {
    /// The project's default style for image regions (`mask_region_style`).
    pub fn default_region_style(&self) -> Result<RegionStyle> {
        Ok(parse_style(&self.project_setting("mask_region_style")?).unwrap_or_default())
    }

    /// The project's default style for audio ranges (`mask_audio_style`).
    pub fn default_audio_style(&self) -> Result<AudioStyle> {
        Ok(parse_style(&self.project_setting("mask_audio_style")?).unwrap_or_default())
    }

    /// What an item's derivative is made from: accepted masks, rejected
    /// text proposals (kept readable), the window, the project's mask
    /// style and automatic detection (`mask_pii = auto`). No permission
    /// check: the packager and the preview call it after theirs.
    pub(crate) fn privacy_plan(&self, item_id: i64) -> Result<PrivacyPlan> {
        self.privacy_plan_with(item_id, &self.plan_defaults()?)
    }

    /// The project-wide part of every plan (mask style, automatic
    /// detection with the project's names and `pii_region`), read once for
    /// a whole package rather than per item.
    pub(crate) fn plan_defaults(&self) -> Result<PrivacyPlan> {
        Ok(PrivacyPlan {
            style: parse_mask_style(&self.project_setting("mask_style")?),
            auto: if self.project_setting("mask_pii")? == "auto" {
                Some(Arc::new(self.pii_detector()?))
            } else {
                None
            },
            ..PrivacyPlan::default()
        })
    }

    /// One item's plan on top of `defaults` (from [`Self::plan_defaults`]).
    pub(crate) fn privacy_plan_with(
        &self,
        item_id: i64,
        defaults: &PrivacyPlan,
    ) -> Result<PrivacyPlan> {
        let conn = self.project.store.conn();
        let (version, window) = store::item_privacy(conn, item_id)?;
        let mut plan = PrivacyPlan {
            version,
            window,
            style: defaults.style,
            auto: defaults.auto.clone(),
            ..PrivacyPlan::default()
        };
        for m in store::item_masks(conn, item_id)? {
            match (m.status.as_str(), m.spec) {
                (
                    "accepted",
                    MaskSpec::Text {
                        start,
                        end,
                        pii_type,
                    },
                ) => plan.text_spans.push((start, end, pii_type)),
                ("rejected", MaskSpec::Text { start, end, .. }) => {
                    plan.text_kept.push((start, end));
                }
                ("accepted", MaskSpec::Region { region }) => plan.regions.push(region),
                ("accepted", MaskSpec::Audio { range }) => plan.audio.push(range),
                _ => {}
            }
        }
        Ok(plan)
    }

    /// One item's decisions, window, version and the packages that
    /// carried it (admin).
    pub fn item_privacy(&mut self, item_id: i64) -> Result<ItemPrivacy> {
        self.require_item(Action::ManagePrivacy, item_id)?;
        let conn = self.project.store.conn();
        let (version, window) = store::item_privacy(conn, item_id)?;
        Ok(ItemPrivacy {
            item_id,
            version,
            window,
            masks: store::item_masks(conn, item_id)?,
            packages: store::item_package_versions(conn, item_id)?,
        })
    }

    /// Every masking decision of the project, or of one item (admin).
    pub fn mask_list(&mut self, item_id: Option<i64>) -> Result<Vec<Mask>> {
        let rows = match item_id {
            Some(id) => {
                self.require_item(Action::ManagePrivacy, id)?;
                store::item_masks(self.project.store.conn(), id)?
            }
            None => {
                self.require(Action::ManagePrivacy, None)?;
                store::all_masks(self.project.store.conn())?
            }
        };
        Ok(rows)
    }

    /// Runs the detector over text items and the transcripts of audio
    /// items (all, or `only`) and records what it finds as proposals for
    /// the admin to accept or reject. Text proposals are spans; a
    /// transcript with personal data proposes muting its segment's time
    /// range (segment timings are the finest the labels hold). A proposal
    /// already on record, whatever its status, is not proposed again.
    pub fn mask_propose(&mut self, only: Option<&[i64]>) -> Result<ProposeReport> {
        let allowed = self.allow(Action::ManagePrivacy, Some("mask propose".into()))?;
        let detector = self.pii_detector()?;
        let audio_style = self.default_audio_style()?;
        let conn = self.project.store.conn();
        let mut found: Vec<(i64, MaskSpec, String)> = Vec::new();
        let mut report = ProposeReport::default();
        // One item (the Privacy screen's Propose) is read by id, not found
        // by listing a project that may hold 100,000.
        let items = match only {
            Some(ids) => {
                let mut items = Vec::with_capacity(ids.len());
                for id in ids.iter().collect::<BTreeSet<_>>() {
                    items.extend(store::item_summary_by_id(conn, *id)?);
                }
                items
            }
            None => store::list_items(conn, None)?,
        };
        for item in items {
            let known: Vec<MaskSpec> = store::item_masks(conn, item.id)?
                .into_iter()
                .map(|m| m.spec)
                .collect();
            let mut push = |spec: MaskSpec, source: String, report: &mut ProposeReport| {
                if known.contains(&spec)
                    || found.iter().any(|(i, s, _)| *i == item.id && *s == spec)
                {
                    report.already_known += 1;
                } else {
                    found.push((item.id, spec, source));
                }
            };
            match item.kind {
                ItemKind::Text => {
                    let Some((blob, key)) = store::item_blob(conn, item.id)? else {
                        continue;
                    };
                    let bytes =
                        self.project
                            .paths
                            .read_blob(self.project.project_id(), &blob, &key)?;
                    report.items += 1;
                    for s in detector.scan(&String::from_utf8_lossy(&bytes)) {
                        let source = match s.confidence {
                            Confidence::High => "detector",
                            Confidence::Low => "detector:low",
                        };
                        push(
                            MaskSpec::Text {
                                start: s.start as u64,
                                end: s.end as u64,
                                pii_type: s.kind,
                            },
                            source.into(),
                            &mut report,
                        );
                    }
                }
                ItemKind::Audio => {
                    report.items += 1;
                    for a in store::list_annotations(conn, item.id)? {
                        let (Some((start_secs, end_secs)), Some(transcript)) =
                            (a.geometry.time_range(), a.geometry.transcript())
                        else {
                            continue;
                        };
                        let spans = detector.scan(transcript);
                        if spans.iter().any(|s| s.confidence == Confidence::High) {
                            push(
                                MaskSpec::Audio {
                                    range: AudioRange {
                                        start_secs,
                                        end_secs,
                                        style: audio_style,
                                    },
                                },
                                format!("transcript:{}", a.id),
                                &mut report,
                            );
                        }
                    }
                }
                ItemKind::Image => {}
            }
        }
        for (_, spec, _) in &found {
            match spec {
                MaskSpec::Audio { .. } => report.audio_ranges += 1,
                _ => report.text_spans += 1,
            }
        }
        let details = serde_json::to_string(&report).unwrap_or_default();
        let target = format!("project:{}", self.project_id());
        let actor = self.user.fingerprint.clone();
        self.commit(allowed, |tx| {
            let user = store::user_by_fingerprint(tx, &actor)?
                .map(|u| u.id)
                .unwrap_or(0);
            for (item_id, spec, source) in &found {
                store::insert_mask(tx, *item_id, spec, "proposed", source, user)?;
            }
            // Proposals change nothing an annotator gets until accepted:
            // no version bump.
            Ok((
                (),
                Event::with_text(AuditAction::MaskPropose, target, details),
            ))
        })?;
        Ok(report)
    }

    /// Adds an accepted mask drawn or selected by the admin.
    pub fn mask_add(&mut self, item_id: i64, spec: MaskSpec) -> Result<i64> {
        self.mask_add_from(item_id, spec, "admin")
    }

    fn mask_add_from(&mut self, item_id: i64, spec: MaskSpec, source: &str) -> Result<i64> {
        let (allowed, item) = self.allow_item(Action::ManagePrivacy, item_id)?;
        validate_spec(&spec, &item)?;
        let user = self.user.id;
        let what = spec.describe();
        self.commit(allowed, |tx| {
            let id = store::insert_mask(tx, item_id, &spec, "accepted", source, user)?;
            let version = store::bump_privacy(tx, item_id)?;
            Ok((
                id,
                Event::new(
                    AuditAction::MaskAdd,
                    format!("item:{item_id}"),
                    json!({"mask": id, "mask_spec": what, "source": source, "version": version}),
                ),
            ))
        })
    }

    /// Accepts or rejects masks by id; returns how many changed. Each
    /// changed item's version goes up; one audit row names them all.
    pub fn mask_decide(&mut self, ids: &[i64], accept: bool) -> Result<usize> {
        let allowed = self.allow(Action::ManagePrivacy, Some(format!("masks {ids:?}")))?;
        let conn = self.project.store.conn();
        for id in ids {
            if store::mask_by_id(conn, *id)?.is_none() {
                return Err(CoreError::NotFound(format!("mask {id}")));
            }
        }
        self.decide(allowed, ids.to_vec(), accept)
    }

    /// Accepts or rejects every pending proposal of one type (of one item,
    /// or of the project): bulk review.
    pub fn mask_decide_type(
        &mut self,
        pii_type: PiiType,
        accept: bool,
        item_id: Option<i64>,
    ) -> Result<usize> {
        let allowed = self.allow(
            Action::ManagePrivacy,
            Some(format!("{} proposals", pii_type.tag())),
        )?;
        let ids: Vec<i64> = store::all_masks(self.project.store.conn())?
            .into_iter()
            .filter(|m| m.status == "proposed" && item_id.is_none_or(|i| i == m.item_id))
            .filter(|m| matches!(m.spec, MaskSpec::Text { pii_type: t, .. } if t == pii_type))
            .map(|m| m.id)
            .collect();
        self.decide(allowed, ids, accept)
    }

    fn decide(&mut self, allowed: Allowed, ids: Vec<i64>, accept: bool) -> Result<usize> {
        let status = if accept { "accepted" } else { "rejected" };
        let user = self.user.id;
        let target = format!("project:{}", self.project_id());
        self.commit(allowed, |tx| {
            let mut changed = Vec::new();
            let mut versions = BTreeMap::new();
            for id in &ids {
                if let Some(item) = store::decide_mask(tx, *id, status, user)? {
                    changed.push(*id);
                    if let std::collections::btree_map::Entry::Vacant(e) = versions.entry(item) {
                        e.insert(store::bump_privacy(tx, item)?);
                    }
                }
            }
            // Nothing changed, nothing to record.
            let event = (!changed.is_empty()).then(|| {
                Event::new(
                    if accept {
                        AuditAction::MaskAccept
                    } else {
                        AuditAction::MaskReject
                    },
                    target,
                    json!({"masks": changed, "versions": versions}),
                )
            });
            Ok((changed.len(), event))
        })
    }

    /// Turns labels of the given classes (e.g. a detector's `face` and
    /// `license_plate` pre-labels) into accepted mask regions in one
    /// action; a label already turned into a region is skipped.
    pub fn mask_from_labels(
        &mut self,
        classes: &[String],
        style: RegionStyle,
        only: Option<&[i64]>,
    ) -> Result<usize> {
        let allowed = self.allow(
            Action::ManagePrivacy,
            Some(format!("masks from {}", classes.join(","))),
        )?;
        let conn = self.project.store.conn();
        let wanted: BTreeSet<i64> = store::list_classes(conn)?
            .into_iter()
            .filter(|c| classes.iter().any(|n| n == &c.name))
            .map(|c| c.id)
            .collect();
        if wanted.is_empty() {
            return Err(CoreError::Invalid(format!(
                "no class named {}; see `sealtag schema show`",
                classes.join(" or ")
            )));
        }
        let mut regions = Vec::new();
        for item in store::list_items(conn, None)? {
            if item.kind != ItemKind::Image || only.is_some_and(|ids| !ids.contains(&item.id)) {
                continue;
            }
            let done: BTreeSet<String> = store::item_masks(conn, item.id)?
                .into_iter()
                .map(|m| m.source)
                .collect();
            for a in store::list_annotations(conn, item.id)? {
                let source = format!("label:{}", a.id);
                if !wanted.contains(&a.class_id) || done.contains(&source) {
                    continue;
                }
                let shape = match a.geometry.outline() {
                    Outline::Rect(b) => Shape::Rect {
                        x: b.x,
                        y: b.y,
                        w: b.w,
                        h: b.h,
                    },
                    Outline::Closed(points) if points.len() >= 3 => Shape::Polygon {
                        points: points.into_owned(),
                    },
                    // Nothing that encloses no area (a degenerate polygon
                    // included) becomes a region.
                    Outline::Closed(_) | Outline::Open(_) | Outline::Dots(_) | Outline::Nothing => {
                        continue;
                    }
                };
                regions.push((item.id, Region { shape, style }, source));
            }
        }
        let target = format!("project:{}", self.project_id());
        let actor = self.user.fingerprint.clone();
        self.commit(allowed, |tx| {
            let user = store::user_by_fingerprint(tx, &actor)?
                .map(|u| u.id)
                .unwrap_or(0);
            let mut items = BTreeMap::new();
            for (item_id, region, source) in &regions {
                let spec = MaskSpec::Region {
                    region: region.clone(),
                };
                store::insert_mask(tx, *item_id, &spec, "accepted", source, user)?;
                items.insert(*item_id, 0);
            }
            for (item, version) in items.iter_mut() {
                *version = store::bump_privacy(tx, *item)?;
            }
            let event = Event::new(
                AuditAction::MaskFromLabels,
                target,
                json!({"classes": classes, "regions": regions.len(), "versions": items}),
            );
            Ok(((), event))
        })?;
        Ok(regions.len())
    }

    /// Saves the accepted regions of `item_id` as a named template (e.g.
    /// an ID-card layout), remembered with the item's size.
    pub fn template_save(&mut self, name: &str, item_id: i64) -> Result<MaskTemplate> {
        let (allowed, item) = self.allow_item(Action::ManagePrivacy, item_id)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(CoreError::Invalid(
                "a template name is 1–64 characters".into(),
            ));
        }
        let (Some(width), Some(height)) = (item.width, item.height) else {
            return Err(CoreError::Invalid(format!(
                "item {item_id} is not an image; templates hold image regions"
            )));
        };
        let regions: Vec<Region> = store::item_masks(self.project.store.conn(), item_id)?
            .into_iter()
            .filter(|m| m.status == "accepted")
            .filter_map(|m| match m.spec {
                MaskSpec::Region { region } => Some(region),
                _ => None,
            })
            .collect();
        if regions.is_empty() {
            return Err(CoreError::Invalid(format!(
                "item {item_id} has no accepted regions to save"
            )));
        }
        let t = MaskTemplate {
            name: name.to_string(),
            width,
            height,
            regions,
        };
        let user = self.user.id;
        self.commit(allowed, |tx| {
            store::put_template(tx, &t, user)?;
            Ok((
                (),
                Event::new(AuditAction::MaskTemplateSave, format!("template:{}", t.name), json!({"from_item": item_id, "regions": t.regions.len(), "size": [width, height]})
                    ),
            ))
        })?;
        Ok(t)
    }

    pub fn mask_templates(&mut self) -> Result<Vec<MaskTemplate>> {
        self.require(Action::ManagePrivacy, None)?;
        Ok(store::templates(self.project.store.conn())?)
    }

    /// Applies a template's regions to images, scaled to each one's size;
    /// returns how many regions were added.
    ///
    /// An image that already carries every region of the template (not
    /// rejected, within half a pixel once scaled) is left alone, so applying
    /// twice, or onto the image the template was saved from, adds nothing.
    pub fn template_apply(&mut self, name: &str, item_ids: &[i64]) -> Result<TemplateApplied> {
        let allowed = self.allow(Action::ManagePrivacy, Some(format!("template {name}")))?;
        let conn = self.project.store.conn();
        let t = store::templates(conn)?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| CoreError::NotFound(format!("template '{name}'")))?;
        let mut adds = Vec::new();
        let mut report = TemplateApplied::default();
        for id in item_ids {
            let item = store::item_summary_by_id(conn, *id)?
                .ok_or_else(|| CoreError::NotFound(format!("item {id}")))?;
            let (Some(w), Some(h)) = (item.width, item.height) else {
                return Err(CoreError::Invalid(format!("item {id} is not an image")));
            };
            let (sx, sy) = (
                f64::from(w) / f64::from(t.width.max(1)),
                f64::from(h) / f64::from(t.height.max(1)),
            );
            let scaled: Vec<Region> = t.regions.iter().map(|r| r.scaled(sx, sy)).collect();
            let carried: Vec<Region> = store::item_masks(conn, *id)?
                .into_iter()
                .filter(|m| m.status != "rejected")
                .filter_map(|m| match m.spec {
                    MaskSpec::Region { region } => Some(region),
                    MaskSpec::Text { .. } | MaskSpec::Audio { .. } => None,
                })
                .collect();
            if scaled.iter().all(|r| carried.iter().any(|c| c.close_to(r))) {
                report.already_carried.push(*id);
                continue;
            }
            report.images.push(*id);
            adds.extend(scaled.into_iter().map(|r| (*id, r)));
        }
        report.regions = adds.len();
        if adds.is_empty() {
            return Ok(report);
        }
        let source = format!("template:{name}");
        let actor = self.user.fingerprint.clone();
        self.commit(allowed, |tx| {
            let user = store::user_by_fingerprint(tx, &actor)?
                .map(|u| u.id)
                .unwrap_or(0);
            let mut versions = BTreeMap::new();
            for (item_id, region) in &adds {
                let spec = MaskSpec::Region {
                    region: region.clone(),
                };
                store::insert_mask(tx, *item_id, &spec, "accepted", &source, user)?;
                versions.insert(*item_id, 0);
            }
            for (item, version) in versions.iter_mut() {
                *version = store::bump_privacy(tx, *item)?;
            }
            let event = Event::new(
                AuditAction::MaskTemplateApply,
                format!("template:{name}"),
                json!({"regions": adds.len(), "versions": versions}),
            );
            Ok(((), event))
        })?;
        Ok(report)
    }

    /// Sets (or with `None` clears) the window an item travels as. Audio
    /// windows are snapped to whole samples so times map back exactly.
    pub fn set_window(&mut self, item_id: i64, window: Option<Window>) -> Result<Option<Window>> {
        let (allowed, item) = self.allow_item(Action::ManagePrivacy, item_id)?;
        let window = match window {
            Some(w) => {
                w.validate(item.width, item.height, item.char_len, item.duration_secs)
                    .map_err(|e| CoreError::Invalid(format!("item {item_id}: {e}")))?;
                Some(match w {
                    Window::Audio { .. } => w.snap_audio(self.sample_rate(item_id, &item)?),
                    other => other,
                })
            }
            None => None,
        };
        self.commit(allowed, |tx| {
            let version = store::set_window(tx, item_id, window.as_ref())?;
            Ok((
                (),
                Event::new(
                    AuditAction::MaskWindow,
                    format!("item:{item_id}"),
                    json!({"window": window, "version": version}),
                ),
            ))
        })?;
        Ok(window)
    }

    fn sample_rate(&self, item_id: i64, item: &ItemSummary) -> Result<u32> {
        let bytes = self.item_original(item_id)?;
        crate::privacy::audio_mask::sample_rate(
            &bytes,
            &item.format,
            derive_limits().max_audio_secs,
        )
        .map_err(|e| CoreError::Invalid(format!("item {item_id} could not be decoded: {e}")))
    }

    fn item_original(&self, item_id: i64) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let conn = self.project.store.conn();
        let (blob, key) = store::item_blob(conn, item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
        Ok(self
            .project
            .paths
            .read_blob(self.project.project_id(), &blob, &key)?)
    }

    /// A window around the labels of the given classes on an item (the
    /// pre-labels say where the relevant part is), widened by `margin`
    /// (pixels, chars or seconds) and clamped to the item.
    pub fn window_from_labels(
        &mut self,
        item_id: i64,
        classes: &[String],
        margin: f64,
    ) -> Result<Option<Window>> {
        let item = self.require_item(Action::ManagePrivacy, item_id)?;
        let conn = self.project.store.conn();
        let wanted: BTreeSet<i64> = store::list_classes(conn)?
            .into_iter()
            .filter(|c| classes.iter().any(|n| n == &c.name))
            .map(|c| c.id)
            .collect();
        let labels: Vec<Geometry> = store::list_annotations(conn, item_id)?
            .into_iter()
            .filter(|a| wanted.contains(&a.class_id))
            .map(|a| a.geometry)
            .collect();
        let margin = margin.max(0.0);
        let window = match item.kind {
            ItemKind::Image => {
                let mut b: Option<[f64; 4]> = None;
                for g in &labels {
                    if let Some(n) = window::bounds(g) {
                        b = Some(match b {
                            None => n,
                            Some(o) => [
                                o[0].min(n[0]),
                                o[1].min(n[1]),
                                o[2].max(n[2]),
                                o[3].max(n[3]),
                            ],
                        });
                    }
                }
                let (Some([x0, y0, x1, y1]), Some(w), Some(h)) = (b, item.width, item.height)
                else {
                    return Err(CoreError::Invalid(format!(
                        "item {item_id} has no image labels of class {}",
                        classes.join(" or ")
                    )));
                };
                let clamp = |v: f64, hi: u32| v.clamp(0.0, f64::from(hi));
                let (x0, y0) = (
                    clamp((x0 - margin).floor(), w),
                    clamp((y0 - margin).floor(), h),
                );
                let (x1, y1) = (
                    clamp((x1 + margin).ceil(), w),
                    clamp((y1 + margin).ceil(), h),
                );
                Window::Image {
                    x: x0 as u32,
                    y: y0 as u32,
                    w: ((x1 - x0) as u32).max(1),
                    h: ((y1 - y0) as u32).max(1),
                }
            }
            ItemKind::Text => {
                let spans: Vec<(u64, u64)> =
                    labels.iter().filter_map(Geometry::char_range).collect();
                let (Some(s), Some(e), Some(len)) = (
                    spans.iter().map(|s| s.0).min(),
                    spans.iter().map(|s| s.1).max(),
                    item.char_len,
                ) else {
                    return Err(CoreError::Invalid(format!(
                        "item {item_id} has no spans of class {}",
                        classes.join(" or ")
                    )));
                };
                let m = margin as u64;
                Window::Text {
                    start: s.saturating_sub(m),
                    end: (e + m).min(len),
                }
            }
            ItemKind::Audio => {
                let segs: Vec<(f64, f64)> =
                    labels.iter().filter_map(Geometry::time_range).collect();
                let (Some(d), false) = (item.duration_secs, segs.is_empty()) else {
                    return Err(CoreError::Invalid(format!(
                        "item {item_id} has no segments of class {}",
                        classes.join(" or ")
                    )));
                };
                let s = segs.iter().map(|s| s.0).fold(f64::MAX, f64::min);
                let e = segs.iter().map(|s| s.1).fold(f64::MIN, f64::max);
                Window::Audio {
                    start_secs: (s - margin).max(0.0),
                    end_secs: (e + margin).min(d),
                }
            }
        };
        self.set_window(item_id, Some(window))
    }

    /// The derivative an annotator would receive for this item now,
    /// made by the same code as the work package (admin). Audited.
    pub fn preview_item(&mut self, item_id: i64) -> Result<Derived> {
        self.preview_job(item_id)?.run()
    }

    /// Checks the permission, writes the `mask.preview` audit row and
    /// returns what making the preview needs, detached from the session:
    /// decrypting and deriving a large image or a long recording takes
    /// seconds, which the GUI spends on a worker thread, not in a frame.
    pub fn preview_job(&mut self, item_id: i64) -> Result<PreviewJob> {
        let (allowed, item) = self.allow_item(Action::ManagePrivacy, item_id)?;
        let plan = self.privacy_plan(item_id)?;
        let (blob_id, key) = store::item_blob(self.project.store.conn(), item_id)?
            .ok_or_else(|| CoreError::NotFound(format!("blob of item {item_id}")))?;
        // Recorded when asked, before the bytes exist: who looked at which
        // privacy version is what an auditor needs, and a preview that
        // fails to derive was still a request to see the item.
        let details = json!({"version": plan.version});
        self.commit(allowed, |_| {
            Ok((
                (),
                Event::new(AuditAction::MaskPreview, format!("item:{item_id}"), details),
            ))
        })?;
        Ok(PreviewJob {
            item_id,
            version: plan.version,
            kind: item.kind,
            format: item.format,
            plan,
            paths: self.project.paths.clone(),
            project_id: self.project.project_id().to_string(),
            blob_id,
            key,
        })
    }
}

/// One preview to make, detached from the session (see
/// [`Session::preview_job`]); `Send`, so it can run on a worker thread.
pub struct PreviewJob {
    pub item_id: i64,
    /// The privacy version the preview shows.
    pub version: i64,
    pub kind: ItemKind,
    format: String,
    plan: PrivacyPlan,
    paths: crate::bundle::BundlePaths,
    project_id: String,
    blob_id: String,
    key: crate::crypto::SecretBytes<32>,
}

impl PreviewJob {
    /// Decrypts the original (in memory) and derives what the annotator
    /// would receive, with the work package's own code and limits.
    pub fn run(&self) -> Result<Derived> {
        let bytes = self
            .paths
            .read_blob(&self.project_id, &self.blob_id, &self.key)?;
        derive(self.kind, &self.format, &bytes, &self.plan, derive_limits())
            .map_err(|e| CoreError::Invalid(format!("item {}: {e}", self.item_id)))
    }
}

/// A mask must fit its item: the right kind, inside its bounds.
fn validate_spec(spec: &MaskSpec, item: &ItemSummary) -> Result<()> {
    if !spec.fits(item.kind) {
        return Err(CoreError::Invalid(format!(
            "a {} mask does not apply to item {} ({:?})",
            spec.describe(),
            item.id,
            item.kind
        )));
    }
    let bad = |why: String| Err(CoreError::Invalid(format!("item {}: {why}", item.id)));
    match spec {
        MaskSpec::Text { start, end, .. } => {
            let len = item.char_len.unwrap_or(0);
            if start >= end || *end > len {
                return bad(format!(
                    "chars {start}..{end} are empty or past the text's {len} chars"
                ));
            }
        }
        MaskSpec::Region { region } => {
            let finite = match &region.shape {
                Shape::Rect { x, y, w, h } => {
                    [x, y, w, h].iter().all(|v| v.is_finite()) && *w > 0.0 && *h > 0.0
                }
                Shape::Polygon { points } => {
                    points.len() >= 3 && points.iter().flatten().all(|v| v.is_finite())
                }
            };
            if !finite {
                return bad(
                    "a region needs a positive size (rectangle) or at least 3 points (polygon)"
                        .into(),
                );
            }
        }
        MaskSpec::Audio { range } => {
            let d = item.duration_secs.unwrap_or(0.0);
            if !(range.start_secs >= 0.0
                && range.start_secs < range.end_secs
                && range.end_secs <= d + 1e-6)
            {
                return bad(format!(
                    "{:.3}–{:.3} s is empty or outside the {d:.3} s recording",
                    range.start_secs, range.end_secs
                ));
            }
        }
    }
    Ok(())
}
