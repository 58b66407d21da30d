//! Cryptographic building blocks: identities, project master keys and the
//! encrypted blob format. Everything here wraps reviewed primitives (age,
//! XChaCha20-Poly1305 STREAM, Ed25519, HKDF-SHA256); nothing is home-made.

pub mod blob;
pub mod identity;
pub mod keys;

pub use blob::{
    BlobError, decrypt_blob, decrypt_blob_bytes, decrypt_blob_in_place, decrypt_blob_to,
    encrypt_blob,
};
pub use identity::{IdentityError, PublicIdentity, UnlockedIdentity};
pub use keys::{MasterKey, SecretBytes};

use sha2::{Digest, Sha256};

/// SHA-256 of `data` as lowercase hex; the one digest format used in the DB,
/// the audit chain and manifests.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Fills a fresh buffer from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}
