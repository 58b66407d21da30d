//! `sealtag bench`: measures the operations users wait on, on this machine,
//! with synthetic data in a scratch directory that is removed afterwards.
//! Speed goals live here as printed figures, never as timed unit tests.

use age::secrecy::SecretString;
use serde::Serialize;
use std::time::Instant;

use crate::controller::Session;
use crate::crypto::identity::DEFAULT_SCRYPT_LOG_N;
use crate::crypto::{SecretBytes, decrypt_blob, encrypt_blob};
use crate::home::Home;
use crate::import::ImportOptions;
use crate::model::{AnnotationDraft, BBox, Geometry, LabelChange};

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub identity_unlock_ms: f64,
    pub project_open_ms: f64,
    pub label_commit_us: f64,
    pub labels_written: u32,
    pub blob_encrypt_mb_s: f64,
    pub blob_decrypt_mb_s: f64,
    pub audit_verify_ms: f64,
    pub audit_rows: i64,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Runs every measurement in `scratch` (created, then removed).
pub fn run(scratch: &std::path::Path, labels: u32, blob_mib: u32) -> anyhow::Result<BenchReport> {
    std::fs::create_dir_all(scratch)?;
    let result = run_in(scratch, labels, blob_mib);
    let _ = std::fs::remove_dir_all(scratch);
    result
}

fn run_in(scratch: &std::path::Path, labels: u32, blob_mib: u32) -> anyhow::Result<BenchReport> {
    let home = Home::new(scratch.join("home"));
    let pass = SecretString::from("bench passphrase".to_string());
    home.create_identity("bench", &pass, DEFAULT_SCRYPT_LOG_N)?;
    let t = Instant::now();
    let identity = home.unlock(&pass)?;
    let identity_unlock_ms = ms(t);

    let root = scratch.join("bench.sealtag");
    let mut session = Session::create_project(&root, "bench", identity)?;
    let image = crate::demo::ASSETS
        .iter()
        .find(|(name, _)| name.ends_with(".jpg"))
        .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
        .ok_or_else(|| anyhow::anyhow!("no demo image embedded"))?;
    let report = session.import_bytes(&image.0, image.1, &ImportOptions::default())?;
    let item_id = *report
        .item_ids
        .first()
        .ok_or_else(|| anyhow::anyhow!("bench image rejected"))?;
    let class_id = session.classes()?.first().map(|c| c.id).unwrap_or(1);
    let t = Instant::now();
    for i in 0..labels {
        let x = f64::from(i % 400);
        let geometry = Geometry::BBox(BBox {
            x,
            y: 10.0,
            w: 20.0,
            h: 20.0,
        });
        session.apply_label(LabelChange::Create {
            item_id,
            draft: AnnotationDraft::new(class_id, geometry),
        })?;
    }
    let label_commit_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(labels.max(1));
    session.close()?;

    let identity = home.unlock(&pass)?;
    let t = Instant::now();
    let mut session = Session::open(&root, identity, None)?;
    let project_open_ms = ms(t);

    let t = Instant::now();
    let verify = session.verify_audit()?;
    let audit_verify_ms = ms(t);
    session.close()?;

    let data: Vec<u8> = (0..blob_mib.max(1) << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let key = SecretBytes::<32>::random();
    let mut sealed = Vec::with_capacity(data.len() + data.len() / 1000);
    let t = Instant::now();
    encrypt_blob(&key, "bench", "blob", &mut data.as_slice(), &mut sealed)?;
    let enc_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let plain = decrypt_blob(&key, "bench", "blob", &mut sealed.as_slice(), u64::MAX)?;
    let dec_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(plain.len() == data.len(), "blob round trip lost data");
    let mb = data.len() as f64 / 1e6;

    Ok(BenchReport {
        identity_unlock_ms,
        project_open_ms,
        label_commit_us,
        labels_written: labels,
        blob_encrypt_mb_s: mb / enc_s,
        blob_decrypt_mb_s: mb / dec_s,
        audit_verify_ms,
        audit_rows: verify.rows,
    })
}
